/* The chain model's stores: accounts by key and landed transactions by
 * signature and by message, over one small open-addressing index. */
#include <stdlib.h>
#include <string.h>

#include "chain/model_internal.h"
#include "util/assert.h"

/* --- Index ------------------------------------------------------------------ */

/* FNV-1a: keys are hashes and public keys, already spread. */
static uint64_t hash_key(const uint8_t *key, size_t klen)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < klen; i++) {
        h ^= key[i];
        h *= 1099511628211ull;
    }
    return h;
}

int64_t tcn_chain_index_find(const tcn_chain_index *ix, const uint8_t *key, size_t klen, tcn_chain_key_at_fn key_at,
                             const void *ctx)
{
    if (ix->cap == 0)
        return -1;
    size_t mask = ix->cap - 1;
    for (size_t i = hash_key(key, klen) & mask;; i = (i + 1) & mask) {
        uint32_t s = ix->slots[i];
        if (s == 0)
            return -1;
        if (memcmp(key_at(ctx, s - 1), key, klen) == 0)
            return (int64_t)(s - 1);
    }
}

static void place(uint32_t *slots, size_t cap, uint64_t h, uint32_t entry)
{
    size_t mask = cap - 1;
    size_t i = h & mask;
    while (slots[i] != 0)
        i = (i + 1) & mask;
    slots[i] = entry + 1;
}

int tcn_chain_index_add(tcn_chain_index *ix, const uint8_t *key, size_t klen, uint32_t entry,
                        tcn_chain_key_at_fn key_at, const void *ctx)
{
    TCN_ASSERT(entry < UINT32_MAX - 1);
    if ((ix->used + 1) * 2 > ix->cap) {
        size_t cap = ix->cap ? ix->cap * 2 : 64;
        uint32_t *slots = calloc(cap, sizeof(*slots));
        if (slots == NULL)
            return TCN_ERR_NOMEM;
        for (size_t i = 0; i < ix->cap; i++) {
            uint32_t s = ix->slots[i];
            if (s != 0)
                place(slots, cap, hash_key(key_at(ctx, s - 1), klen), s - 1);
        }
        free(ix->slots);
        ix->slots = slots;
        ix->cap = cap;
    }
    place(ix->slots, ix->cap, hash_key(key, klen), entry);
    ix->used++;
    return TCN_OK;
}

void tcn_chain_index_free(tcn_chain_index *ix)
{
    free(ix->slots);
    memset(ix, 0, sizeof(*ix));
}

/* Grows a vector of elem-sized items to hold one more. */
static int grow(void **v, size_t *cap, size_t n, size_t elem)
{
    if (n < *cap)
        return TCN_OK;
    size_t nc = *cap ? *cap * 2 : 64;
    if (nc > SIZE_MAX / elem)
        return TCN_ERR_NOMEM;
    void *p = realloc(*v, nc * elem);
    if (p == NULL)
        return TCN_ERR_NOMEM;
    *v = p;
    *cap = nc;
    return TCN_OK;
}

/* --- Accounts ------------------------------------------------------------- */

static const uint8_t *account_key_at(const void *ctx, uint32_t entry)
{
    const tcn_chain_account_store *s = ctx;
    return s->v[entry].key.b;
}

tcn_chain_account *tcn_chain_store_find(const tcn_chain_account_store *s, const tcn_chain_pubkey *key)
{
    int64_t e = tcn_chain_index_find(&s->by_key, key->b, sizeof(key->b), account_key_at, s);
    return e < 0 ? NULL : &s->v[e];
}

int tcn_chain_store_get(tcn_chain_account_store *s, const tcn_chain_pubkey *key, tcn_chain_account **out)
{
    tcn_chain_account *a = tcn_chain_store_find(s, key);
    if (a == NULL) {
        TCN_GUARD(grow((void **)&s->v, &s->cap, s->n, sizeof(s->v[0])));
        a = &s->v[s->n];
        memset(a, 0, sizeof(*a));
        a->key = *key;
        a->owner = tcn_chain_system_program_id;
        TCN_GUARD(tcn_chain_index_add(&s->by_key, key->b, sizeof(key->b), (uint32_t)s->n, account_key_at, s));
        s->n++;
    }
    *out = a;
    return TCN_OK;
}

int tcn_chain_account_set_data(tcn_chain_account *a, const uint8_t *data, size_t len)
{
    uint8_t *p = NULL;
    if (len > 0) {
        p = malloc(len);
        if (p == NULL)
            return TCN_ERR_NOMEM;
        memcpy(p, data, len);
    }
    free(a->data);
    a->data = p;
    a->data_len = len;
    return TCN_OK;
}

void tcn_chain_store_free(tcn_chain_account_store *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i].data);
    free(s->v);
    tcn_chain_index_free(&s->by_key);
    memset(s, 0, sizeof(*s));
}

/* --- Landed transactions ------------------------------------------------- */

static const uint8_t *landed_sig_at(const void *ctx, uint32_t entry)
{
    const tcn_chain_status_store *s = ctx;
    return s->v[entry].sig.b;
}

static const uint8_t *landed_msg_at(const void *ctx, uint32_t entry)
{
    const tcn_chain_status_store *s = ctx;
    return s->v[entry].msg_digest;
}

const tcn_chain_landed *tcn_chain_status_by_sig(const tcn_chain_status_store *s, const tcn_chain_signature *sig)
{
    int64_t e = tcn_chain_index_find(&s->by_sig, sig->b, sizeof(sig->b), landed_sig_at, s);
    return e < 0 ? NULL : &s->v[e];
}

const tcn_chain_landed *tcn_chain_status_by_msg(const tcn_chain_status_store *s, const uint8_t digest[32])
{
    int64_t e = tcn_chain_index_find(&s->by_msg, digest, 32, landed_msg_at, s);
    return e < 0 ? NULL : &s->v[e];
}

int tcn_chain_status_add(tcn_chain_status_store *s, const tcn_chain_landed *l)
{
    TCN_ASSERT(tcn_chain_status_by_sig(s, &l->sig) == NULL && tcn_chain_status_by_msg(s, l->msg_digest) == NULL);
    TCN_GUARD(grow((void **)&s->v, &s->cap, s->n, sizeof(s->v[0])));
    s->v[s->n] = *l;
    TCN_GUARD(tcn_chain_index_add(&s->by_sig, l->sig.b, sizeof(l->sig.b), (uint32_t)s->n, landed_sig_at, s));
    TCN_GUARD(tcn_chain_index_add(&s->by_msg, l->msg_digest, 32, (uint32_t)s->n, landed_msg_at, s));
    s->n++;
    return TCN_OK;
}

void tcn_chain_status_free(tcn_chain_status_store *s)
{
    free(s->v);
    tcn_chain_index_free(&s->by_sig);
    tcn_chain_index_free(&s->by_msg);
    memset(s, 0, sizeof(*s));
}
