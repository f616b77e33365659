/* libFuzzer target: state snapshots (tcn_state_restore). The input is restored as it is (the checksum refuses
 * almost everything), then with its SHA-256 trailer recomputed, so the fuzzer reaches every field check
 * behind it. A refusal must say why; what restores must snapshot back to the very same bytes. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "state/state.h"
#include "util/buf.h"
#include "util/hash.h"
#include "util/secmem.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void must(int ok)
{
    if (!ok)
        abort();
}

static void check(const uint8_t *p, size_t len)
{
    static tcn_buf again;
    tcn_state *st;
    tcn_error err;
    tcn_err_clear(&err);
    if (tcn_state_restore(p, len, &st, &err) != TCN_OK) {
        must(st == NULL);
        must(strncmp(err.msg, "snapshot: ", 10) == 0);
        return;
    }
    again.len = 0;
    must(tcn_state_snapshot(st, &again, &err) == TCN_OK);
    must(again.len == len && memcmp(again.p, p, len) == 0); /* canonical */
    tcn_state_free(st);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t *copy;
    static size_t cap;
    static int init;
    if (!init) {
        must(tcn_crypto_init() == TCN_OK);
        init = 1;
    }
    check(size ? data : NULL, size);
    if (size < 4 + 4 + TCN_SHA256_LEN)
        return 0;
    if (size > cap) {
        free(copy);
        copy = malloc(size);
        must(copy != NULL);
        cap = size;
    }
    memcpy(copy, data, size);
    tcn_sha256(copy, size - TCN_SHA256_LEN, copy + size - TCN_SHA256_LEN);
    check(copy, size);
    return 0;
}
