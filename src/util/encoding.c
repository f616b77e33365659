/* Hex and base64 with strict decoding; libsodium's constant-time codecs underneath. */
#include "util/encoding.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "util/assert.h"

void tcn_hex_encode(const uint8_t *in, size_t n, char *out)
{
    sodium_bin2hex(out, 2 * n + 1, in, n);
}

char *tcn_hex_dup(const uint8_t *in, size_t n)
{
    char *s = malloc(2 * n + 1);
    if (s != NULL)
        tcn_hex_encode(in, n, s);
    return s;
}

int tcn_hex_decode(const char *hex, uint8_t *out, size_t cap, size_t *out_len, tcn_error *err)
{
    TCN_ASSERT(hex != NULL);
    size_t n = strlen(hex);
    TCN_ENSURE(n % 2 == 0, err, TCN_ERR_MALFORMED, "hex: odd number of digits (%zu)", n);
    TCN_ENSURE(n / 2 <= cap, err, TCN_ERR_TOO_LARGE, "hex: %zu bytes do not fit in %zu", n / 2, cap);
    for (size_t i = 0; i < n; i++) {
        char ch = hex[i];
        int ok = (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F');
        TCN_ENSURE(ok, err, TCN_ERR_MALFORMED, "hex: invalid character at offset %zu", i);
    }
    size_t got = 0;
    if (sodium_hex2bin(out, cap, hex, n, NULL, &got, NULL) != 0 || got != n / 2)
        return tcn_err_set(err, TCN_ERR_MALFORMED, "hex: cannot decode");
    if (out_len != NULL)
        *out_len = got;
    return TCN_OK;
}

int tcn_hex_decode_exact(const char *hex, uint8_t *out, size_t want, tcn_error *err)
{
    size_t n = strlen(hex);
    TCN_ENSURE(n == 2 * want, err, TCN_ERR_MALFORMED, "hex: expected %zu digits (%zu bytes), got %zu",
               2 * want, want, n);
    return tcn_hex_decode(hex, out, want, NULL, err);
}

size_t tcn_b64_encoded_len(size_t n) { return sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_ORIGINAL); }

void tcn_b64_encode(const uint8_t *in, size_t n, char *out, size_t out_cap)
{
    TCN_ASSERT(out_cap >= tcn_b64_encoded_len(n));
    sodium_bin2base64(out, out_cap, in, n, sodium_base64_VARIANT_ORIGINAL);
}

int tcn_b64_decode(const char *b64, size_t b64_len, uint8_t *out, size_t cap, size_t *out_len,
                   tcn_error *err)
{
    const char *end = NULL;
    size_t got = 0;
    if (sodium_base642bin(out, cap, b64, b64_len, NULL, &got, &end, sodium_base64_VARIANT_ORIGINAL) != 0) {
        /* libsodium fails both on bad characters and on short output space. */
        size_t need = b64_len / 4 * 3;
        if (need > cap + 2)
            return tcn_err_set(err, TCN_ERR_TOO_LARGE, "base64: decoded data does not fit in %zu bytes", cap);
        return tcn_err_set(err, TCN_ERR_MALFORMED, "base64: invalid encoding");
    }
    TCN_ENSURE(end == b64 + b64_len, err, TCN_ERR_MALFORMED, "base64: invalid character at offset %zu",
               (size_t)(end - b64));
    if (out_len != NULL)
        *out_len = got;
    return TCN_OK;
}
