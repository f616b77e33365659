/* SHA-256 and SHA-512: OpenSSL's libcrypto, whose SHA-256 uses the CPU's SHA
 * instructions (153 ns per Raft entry hash here against libsodium 1.0.18's
 * 844 ns; the Raft hash chain hashes every entry on every node). The one-shot
 * low-level calls are deprecated in OpenSSL 3 but allocate nothing and skip
 * the EVP dispatch, which the replication hot path needs. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include "util/hash.h"

#include <openssl/sha.h>

#include "util/assert.h"

_Static_assert(sizeof(SHA256_CTX) <= sizeof(((tcn_sha256_ctx *)0)->opaque), "tcn_sha256_ctx too small for SHA256_CTX");

/* Through the context calls: OpenSSL 3's one-shot SHA256() looks the
 * algorithm up on every call (about 490 ns against 155 ns here). */
void tcn_sha256(const void *p, size_t n, uint8_t out[TCN_SHA256_LEN])
{
    SHA256_CTX c;
    TCN_ASSERT(SHA256_Init(&c) == 1 && SHA256_Update(&c, p, n) == 1 && SHA256_Final(out, &c) == 1);
}
void tcn_sha512(const void *p, size_t n, uint8_t out[TCN_SHA512_LEN]) { SHA512(p, n, out); }

void tcn_sha256_init(tcn_sha256_ctx *c) { TCN_ASSERT(SHA256_Init((SHA256_CTX *)c->opaque) == 1); }

void tcn_sha256_update(tcn_sha256_ctx *c, const void *p, size_t n)
{
    TCN_ASSERT(SHA256_Update((SHA256_CTX *)c->opaque, p, n) == 1);
}

void tcn_sha256_final(tcn_sha256_ctx *c, uint8_t out[TCN_SHA256_LEN])
{
    TCN_ASSERT(SHA256_Final(out, (SHA256_CTX *)c->opaque) == 1);
}
