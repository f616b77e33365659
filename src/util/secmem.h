/* Memory for secrets: locked, excluded from core dumps, wiped on free, compared
 * in constant time. A free that does not wipe says so in its name. */
#ifndef TCN_UTIL_SECMEM_H
#define TCN_UTIL_SECMEM_H

#include <stdbool.h>
#include <stddef.h>

#include "util/err.h"

/* Must run once before any other tcn function (initialises libsodium). */
int tcn_crypto_init(void) TCN_MUST_CHECK;

/* sodium_malloc: guard pages, mlock, MADV_DONTDUMP. NULL when out of memory. */
void *tcn_secure_alloc(size_t n);
/* Wipes and frees; NULL is accepted. */
void tcn_secure_free(void *p);
void tcn_wipe(void *p, size_t n);
/* Constant-time equality of two n-byte regions. */
bool tcn_ct_equal(const void *a, const void *b, size_t n);
/* Fills with random bytes from the OS (never called from raft/ or state/). */
void tcn_random_bytes(void *p, size_t n);

#endif
