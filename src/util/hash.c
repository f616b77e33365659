/* SHA-256 and SHA-512 on libsodium. */
#include "util/hash.h"

#include <sodium.h>

#include "util/assert.h"

_Static_assert(sizeof(crypto_hash_sha256_state) <= sizeof(((tcn_sha256_ctx *)0)->opaque),
               "tcn_sha256_ctx too small for libsodium's state");

void tcn_sha256(const void *p, size_t n, uint8_t out[TCN_SHA256_LEN]) { crypto_hash_sha256(out, p, n); }
void tcn_sha512(const void *p, size_t n, uint8_t out[TCN_SHA512_LEN]) { crypto_hash_sha512(out, p, n); }

void tcn_sha256_init(tcn_sha256_ctx *c) { crypto_hash_sha256_init((crypto_hash_sha256_state *)c->opaque); }

void tcn_sha256_update(tcn_sha256_ctx *c, const void *p, size_t n)
{
    crypto_hash_sha256_update((crypto_hash_sha256_state *)c->opaque, p, n);
}

void tcn_sha256_final(tcn_sha256_ctx *c, uint8_t out[TCN_SHA256_LEN])
{
    crypto_hash_sha256_final((crypto_hash_sha256_state *)c->opaque, out);
}
