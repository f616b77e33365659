/* Memory for secrets, constant-time comparison, randomness. */
#include "util/secmem.h"

#include <sodium.h>

int tcn_crypto_init(void)
{
    return sodium_init() < 0 ? TCN_ERR_CRYPTO : TCN_OK;
}

void *tcn_secure_alloc(size_t n) { return sodium_malloc(n); }

void tcn_secure_free(void *p)
{
    if (p != NULL)
        sodium_free(p); /* sodium_free wipes before unmapping */
}

void tcn_wipe(void *p, size_t n) { sodium_memzero(p, n); }

bool tcn_ct_equal(const void *a, const void *b, size_t n) { return sodium_memcmp(a, b, n) == 0; }

void tcn_random_bytes(void *p, size_t n) { randombytes_buf(p, n); }
