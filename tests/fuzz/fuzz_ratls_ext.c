/* libFuzzer target: the RA-TLS evidence extension parser (src/tls/ext.c).
 * Beyond not crashing, whatever it accepts must be the one canonical
 * encoding of what it parsed: re-encoding gives the input back. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tls/ratls.h"
#include "util/secmem.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    if (!ready) {
        if (tcn_crypto_init() != TCN_OK)
            return 0;
        ready = 1;
    }
    tcn_error err;
    tcn_ratls_ext x;
    if (tcn_ratls_ext_parse(data, size, &x, &err) == TCN_OK) {
        tcn_buf claims = {0}, again = {0};
        if (tcn_ratls_claims_encode(&x.claims, &claims, &err) != TCN_OK || claims.len != x.claims_len ||
            memcmp(claims.p, x.claims_raw, claims.len) != 0)
            abort();
        if (tcn_ratls_ext_encode(x.tag, x.evidence, x.evidence_len, claims.p, claims.len, &again, &err) != TCN_OK ||
            again.len != size || memcmp(again.p, data, size) != 0)
            abort();
        tcn_buf_free(&claims);
        tcn_buf_free(&again);
    }
    /* The claims parser alone, on the same bytes. */
    tcn_ratls_claims c;
    if (tcn_ratls_claims_parse(data, size, &c, &err) == TCN_OK) {
        tcn_buf again = {0};
        if (tcn_ratls_claims_encode(&c, &again, &err) != TCN_OK || again.len != size ||
            memcmp(again.p, data, size) != 0)
            abort();
        tcn_buf_free(&again);
    }
    return 0;
}
