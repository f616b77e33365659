/* SHA-256 and SHA-512 for code that must not depend on OpenSSL's interfaces (raft, state). */
#ifndef TCN_UTIL_HASH_H
#define TCN_UTIL_HASH_H

#include <stddef.h>
#include <stdint.h>

#define TCN_SHA256_LEN 32
#define TCN_SHA512_LEN 64

void tcn_sha256(const void *p, size_t n, uint8_t out[TCN_SHA256_LEN]);
void tcn_sha512(const void *p, size_t n, uint8_t out[TCN_SHA512_LEN]);

/* Incremental SHA-256. */
typedef struct tcn_sha256_ctx {
    uint8_t opaque[128] __attribute__((aligned(16)));
} tcn_sha256_ctx;
void tcn_sha256_init(tcn_sha256_ctx *c);
void tcn_sha256_update(tcn_sha256_ctx *c, const void *p, size_t n);
void tcn_sha256_final(tcn_sha256_ctx *c, uint8_t out[TCN_SHA256_LEN]);

#endif
