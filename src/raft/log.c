/* The in-memory Raft log and its hash chain (one SHA-256 per entry, no malloc per entry). */
#include "raft/log.h"

#include "util/secmem.h"

#include <stdlib.h>
#include <string.h>

#include "util/assert.h"

void tcn_raft_entry_hash(const uint8_t prev_hash[TCN_SHA256_LEN], uint64_t term, uint64_t index, uint8_t type,
                         const uint8_t *data, uint32_t len, uint8_t out[TCN_SHA256_LEN])
{
    /* prev_hash ‖ term:u64be ‖ index:u64be ‖ type:u8 ‖ len:u32be ‖ payload */
    uint8_t head[TCN_SHA256_LEN + 8 + 8 + 1 + 4];
    memcpy(head, prev_hash, TCN_SHA256_LEN);
    uint8_t *p = head + TCN_SHA256_LEN;
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(term >> (56 - 8 * i));
    p += 8;
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(index >> (56 - 8 * i));
    p += 8;
    *p++ = type;
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(len >> (24 - 8 * i));
    tcn_sha256_ctx c;
    tcn_sha256_init(&c);
    tcn_sha256_update(&c, head, sizeof(head));
    if (len > 0)
        tcn_sha256_update(&c, data, len);
    tcn_sha256_final(&c, out);
}

void tcn_raft_log_init(tcn_raft_log *l) { memset(l, 0, sizeof(*l)); }

/* The arena holds commands, and commands may hold secrets (the state
 * machine's seeds): every byte that leaves it is wiped. */
void tcn_raft_log_free(tcn_raft_log *l)
{
    free(l->slots);
    if (l->arena != NULL)
        tcn_wipe(l->arena, l->arena_cap);
    free(l->arena);
    memset(l, 0, sizeof(*l));
}

bool tcn_raft_log_term(const tcn_raft_log *l, uint64_t index, uint64_t *term)
{
    if (index == l->base_index) {
        *term = l->base_term;
        return true;
    }
    if (index < l->base_index || index > tcn_raft_log_last(l))
        return false;
    *term = tcn_raft_log_slot(l, index)->term;
    return true;
}

const uint8_t *tcn_raft_log_hash(const tcn_raft_log *l, uint64_t index)
{
    if (index == l->base_index)
        return l->base_hash;
    if (index < l->base_index || index > tcn_raft_log_last(l))
        return NULL;
    return tcn_raft_log_slot(l, index)->hash;
}

uint64_t tcn_raft_log_last_term(const tcn_raft_log *l) { return l->n ? l->slots[l->n - 1].term : l->base_term; }

const uint8_t *tcn_raft_log_last_hash(const tcn_raft_log *l) { return l->n ? l->slots[l->n - 1].hash : l->base_hash; }

void tcn_raft_log_view(const tcn_raft_log *l, uint64_t index, tcn_raft_entry *out)
{
    TCN_ASSERT(index > l->base_index && index <= tcn_raft_log_last(l));
    const tcn_raft_slot *s = tcn_raft_log_slot(l, index);
    out->index = index;
    out->term = s->term;
    out->data = l->arena + s->off;
    out->len = s->len;
    out->type = s->type;
    out->hash = s->hash;
}

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return TCN_OK;
    size_t c = *cap ? *cap : 64;
    while (c < need) {
        if (c > SIZE_MAX / 2 / elem)
            return TCN_ERR_TOO_LARGE;
        c *= 2;
    }
    void *q = realloc(*p, c * elem);
    if (q == NULL)
        return TCN_ERR_NOMEM;
    *p = q;
    *cap = c;
    return TCN_OK;
}

int tcn_raft_log_reserve(tcn_raft_log *l, size_t n, size_t bytes)
{
    if (n > SIZE_MAX - l->n || bytes > SIZE_MAX - l->arena_len)
        return TCN_ERR_TOO_LARGE;
    TCN_GUARD(grow((void **)&l->slots, &l->cap, l->n + n, sizeof(tcn_raft_slot)));
    if (l->arena_len + bytes <= l->arena_cap)
        return TCN_OK;
    /* Not realloc: move, then wipe the old block (see tcn_raft_log_free). */
    size_t old_cap = l->arena_cap;
    uint8_t *old = l->arena, *fresh = NULL;
    size_t cap = 0;
    TCN_GUARD(grow((void **)&fresh, &cap, l->arena_len + bytes > old_cap ? l->arena_len + bytes : old_cap, 1));
    if (old != NULL) {
        memcpy(fresh, old, l->arena_len);
        tcn_wipe(old, old_cap);
        free(old);
    }
    l->arena = fresh;
    l->arena_cap = cap;
    return TCN_OK;
}

void tcn_raft_log_append_hashed(tcn_raft_log *l, uint64_t term, uint8_t type, const uint8_t *data, uint32_t len,
                                const uint8_t hash[TCN_SHA256_LEN])
{
    TCN_ASSERT(l->n < l->cap && l->arena_cap - l->arena_len >= len);
    /* Terms never go down along a log (Raft thesis §3.5). */
    TCN_ASSERT(term >= tcn_raft_log_last_term(l));
    tcn_raft_slot *s = &l->slots[l->n++];
    s->term = term;
    s->off = l->arena_len;
    s->len = len;
    s->type = type;
    memcpy(s->hash, hash, TCN_SHA256_LEN);
    if (len > 0)
        memcpy(l->arena + l->arena_len, data, len);
    l->arena_len += len;
}

void tcn_raft_log_append(tcn_raft_log *l, uint64_t term, uint8_t type, const uint8_t *data, uint32_t len)
{
    uint8_t h[TCN_SHA256_LEN];
    tcn_raft_entry_hash(tcn_raft_log_last_hash(l), term, tcn_raft_log_last(l) + 1, type, data, len, h);
    tcn_raft_log_append_hashed(l, term, type, data, len, h);
}

void tcn_raft_log_truncate_after(tcn_raft_log *l, uint64_t index)
{
    TCN_ASSERT(index >= l->base_index && index <= tcn_raft_log_last(l));
    size_t keep = (size_t)(index - l->base_index);
    if (keep < l->n) {
        size_t len = (size_t)l->slots[keep].off;
        tcn_wipe(l->arena + len, l->arena_len - len);
        l->arena_len = len;
    }
    l->n = keep;
}

void tcn_raft_log_compact(tcn_raft_log *l, uint64_t index)
{
    TCN_ASSERT(index >= l->base_index && index <= tcn_raft_log_last(l));
    if (index == l->base_index)
        return;
    const tcn_raft_slot *last_dropped = tcn_raft_log_slot(l, index);
    l->base_term = last_dropped->term;
    memcpy(l->base_hash, last_dropped->hash, TCN_SHA256_LEN);
    size_t drop = (size_t)(index - l->base_index);
    size_t keep = l->n - drop;
    /* O(kept entries) per compaction, which happens once per snapshot. */
    size_t cut = keep ? (size_t)l->slots[drop].off : l->arena_len;
    if (keep > 0)
        memmove(l->slots, l->slots + drop, keep * sizeof(tcn_raft_slot));
    for (size_t i = 0; i < keep; i++)
        l->slots[i].off -= cut;
    if (l->arena_len > cut)
        memmove(l->arena, l->arena + cut, l->arena_len - cut);
    tcn_wipe(l->arena + (l->arena_len - cut), cut); /* what the move left behind */
    l->arena_len -= cut;
    l->n = keep;
    l->base_index = index;
}

void tcn_raft_log_reset(tcn_raft_log *l, uint64_t index, uint64_t term, const uint8_t hash[TCN_SHA256_LEN])
{
    if (l->arena != NULL)
        tcn_wipe(l->arena, l->arena_len);
    l->n = 0;
    l->arena_len = 0;
    l->base_index = index;
    l->base_term = term;
    memcpy(l->base_hash, hash, TCN_SHA256_LEN);
}
