/* The secret store: slabs of 64-byte key slots in secure memory, and the Ed25519 calls that use them. */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "state/internal.h"
#include "util/assert.h"
#include "util/secmem.h"

_Static_assert(crypto_sign_SECRETKEYBYTES == TCN_STATE_SECRET_BYTES, "a slot holds a libsodium Ed25519 secret key");
_Static_assert(crypto_sign_SEEDBYTES == TCN_CHAIN_SEED_LEN, "Ed25519 seed size");
_Static_assert(TCN_STATE_SHARE_BYTES_MAX <= TCN_STATE_SECRET_BYTES, "a slot holds a share");

int tcn_state_secrets_reserve(tcn_state_secrets *s, size_t n)
{
    size_t need = (n + TCN_STATE_SLAB_SLOTS - 1) / TCN_STATE_SLAB_SLOTS;
    if (need <= s->n_slabs)
        return TCN_OK;
    if (need > s->cap_slabs) {
        size_t cap = s->cap_slabs ? s->cap_slabs * 2 : 8;
        while (cap < need)
            cap *= 2;
        uint8_t **v = realloc(s->slabs, cap * sizeof(*v)); /* pointers only: no secret moves */
        if (v == NULL)
            return TCN_ERR_NOMEM;
        s->slabs = v;
        s->cap_slabs = cap;
    }
    while (s->n_slabs < need) {
        uint8_t *slab = tcn_secure_alloc((size_t)TCN_STATE_SLAB_SLOTS * TCN_STATE_SECRET_BYTES);
        if (slab == NULL)
            return TCN_ERR_NOMEM;
        /* sodium_malloc fills new memory with a garbage pattern: start from zeros. */
        memset(slab, 0, (size_t)TCN_STATE_SLAB_SLOTS * TCN_STATE_SECRET_BYTES);
        s->slabs[s->n_slabs++] = slab;
    }
    return TCN_OK;
}

uint8_t *tcn_state_secrets_at(const tcn_state_secrets *s, size_t i)
{
    TCN_ASSERT(i / TCN_STATE_SLAB_SLOTS < s->n_slabs);
    return s->slabs[i / TCN_STATE_SLAB_SLOTS] + (i % TCN_STATE_SLAB_SLOTS) * TCN_STATE_SECRET_BYTES;
}

void tcn_state_secrets_free(tcn_state_secrets *s)
{
    for (size_t i = 0; i < s->n_slabs; i++)
        tcn_secure_free(s->slabs[i]); /* wipes */
    free(s->slabs);
    memset(s, 0, sizeof(*s));
}

void tcn_state_ed25519_sign(const uint8_t *sk, const uint8_t *msg, size_t len, tcn_chain_signature *out)
{
    /* Cannot fail for a key libsodium derived (RFC 8032 signing is total). */
    TCN_ASSERT(crypto_sign_ed25519_detached(out->b, NULL, msg, len, sk) == 0);
}

void tcn_state_ed25519_derive(const uint8_t seed[TCN_CHAIN_SEED_LEN], uint8_t *sk, tcn_chain_pubkey *pk)
{
    /* RFC 8032 §5.1.5: every 32-byte string is a private key; libsodium never refuses one. */
    TCN_ASSERT(crypto_sign_seed_keypair(pk->b, sk, seed) == 0);
}

void tcn_state_derive_hash_key(tcn_state *st)
{
    /* BLAKE2b keyed with the coordinator's secret key, over a fixed label:
     * secret and identical on every node. */
    static const char label[] = "tcn state table hash key v1";
    TCN_ASSERT(crypto_generichash(st->root + TCN_STATE_ROOT_HASH_KEY, crypto_shorthash_KEYBYTES,
                                  (const uint8_t *)label, sizeof(label) - 1, st->root + TCN_STATE_ROOT_COORDINATOR,
                                  TCN_STATE_SECRET_BYTES) == 0);
    st->clients.hash_key = st->root + TCN_STATE_ROOT_HASH_KEY;
    st->accounts.hash_key = st->root + TCN_STATE_ROOT_HASH_KEY;
}
