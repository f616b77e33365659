/* Hex and base64 (strict decoders with clear errors), on top of libsodium. */
#ifndef TCN_UTIL_ENCODING_H
#define TCN_UTIL_ENCODING_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

/* Writes 2*n lowercase hex digits and a NUL; out holds 2*n+1 bytes. */
void tcn_hex_encode(const uint8_t *in, size_t n, char *out);
/* Returns a malloc'd lowercase hex string, or NULL when out of memory. */
char *tcn_hex_dup(const uint8_t *in, size_t n);
/* Decodes exactly strlen(hex)/2 bytes into out (cap bytes); rejects odd
 * lengths, non-hex characters and output that does not fit. */
int tcn_hex_decode(const char *hex, uint8_t *out, size_t cap, size_t *out_len, tcn_error *err)
    TCN_MUST_CHECK;
/* Like tcn_hex_decode but requires exactly want bytes. */
int tcn_hex_decode_exact(const char *hex, uint8_t *out, size_t want, tcn_error *err) TCN_MUST_CHECK;

/* Standard base64 with padding. tcn_b64_encoded_len includes the NUL. */
size_t tcn_b64_encoded_len(size_t n);
void tcn_b64_encode(const uint8_t *in, size_t n, char *out, size_t out_cap);
int tcn_b64_decode(const char *b64, size_t b64_len, uint8_t *out, size_t cap, size_t *out_len,
                   tcn_error *err) TCN_MUST_CHECK;

#endif
