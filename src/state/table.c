/* Public-key hash table of the state (clients, and every chain account the state holds a key for). */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "state/internal.h"
#include "util/assert.h"

_Static_assert(crypto_shorthash_KEYBYTES == 16, "SipHash-2-4 key size");

static size_t home(const tcn_state_table *t, const tcn_chain_pubkey *key)
{
    uint8_t h[crypto_shorthash_BYTES];
    TCN_ASSERT(t->hash_key != NULL); /* tables fill only after genesis */
    crypto_shorthash(h, key->b, TCN_CHAIN_PUBKEY_LEN, t->hash_key);
    uint64_t v;
    memcpy(&v, h, sizeof(v));
    return (size_t)v & (t->cap - 1);
}

/* The slot holding key, or the empty slot where it would go. */
static size_t find(const tcn_state_table *t, const tcn_chain_pubkey *key)
{
    size_t i = home(t, key);
    while (t->slots[i].value != 0 && !tcn_chain_pubkey_eq(&t->slots[i].key, key))
        i = (i + 1) & (t->cap - 1);
    return i;
}

uint64_t tcn_state_table_get(const tcn_state_table *t, const tcn_chain_pubkey *key)
{
    if (t->n == 0)
        return 0;
    return t->slots[find(t, key)].value;
}

int tcn_state_table_reserve(tcn_state_table *t, size_t extra)
{
    /* At most half full: short probe chains. */
    if (t->n + extra <= t->cap / 2)
        return TCN_OK;
    size_t cap = t->cap ? t->cap : 16;
    while (t->n + extra > cap / 2) {
        if (cap > SIZE_MAX / 4 / sizeof(tcn_state_table_slot))
            return TCN_ERR_NOMEM;
        cap *= 2;
    }
    tcn_state_table_slot *slots = calloc(cap, sizeof(*slots));
    if (slots == NULL)
        return TCN_ERR_NOMEM;
    tcn_state_table old = *t;
    t->slots = slots;
    t->cap = cap;
    for (size_t i = 0; i < old.cap; i++)
        if (old.slots[i].value != 0)
            t->slots[find(t, &old.slots[i].key)] = old.slots[i];
    free(old.slots);
    return TCN_OK;
}

void tcn_state_table_put(tcn_state_table *t, const tcn_chain_pubkey *key, uint64_t value)
{
    TCN_ASSERT(value != 0);
    TCN_ASSERT(t->cap > 0);
    size_t i = find(t, key);
    if (t->slots[i].value == 0) {
        TCN_ASSERT(t->n + 1 <= t->cap / 2); /* reserved */
        t->slots[i].key = *key;
        t->n++;
    }
    t->slots[i].value = value;
}

void tcn_state_table_del(tcn_state_table *t, const tcn_chain_pubkey *key)
{
    if (t->n == 0)
        return;
    size_t i = find(t, key);
    if (t->slots[i].value == 0)
        return;
    /* Backward-shift deletion (Knuth 6.4 Algorithm R): move up every later
     * entry of the run whose home is not between the hole and it. */
    size_t mask = t->cap - 1, j = i;
    for (;;) {
        j = (j + 1) & mask;
        if (t->slots[j].value == 0)
            break;
        size_t k = home(t, &t->slots[j].key);
        bool stays = i <= j ? (i < k && k <= j) : (i < k || k <= j);
        if (stays)
            continue;
        t->slots[i] = t->slots[j];
        i = j;
    }
    memset(&t->slots[i], 0, sizeof(t->slots[i]));
    t->n--;
}

void tcn_state_table_free(tcn_state_table *t)
{
    free(t->slots);
    t->slots = NULL;
    t->cap = t->n = 0;
}
