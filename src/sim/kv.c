/* The simulated application: a KV map of independent registers applied from the log, its commands, its snapshots. */
#include <stdlib.h>
#include <string.h>

#include "raft/config.h"
#include "sim/sim.h"
#include "util/assert.h"

/* --- The map ---------------------------------------------------------------- */

static uint64_t pair_mix(uint32_t key, uint64_t val)
{
    uint64_t x = ((uint64_t)key << 32) ^ val ^ 0x51ed2701a2b3c4d5ull;
    return sim_splitmix64(&x);
}

void kv_clear(sim_kv *kv)
{
    kv->n = 0;
    kv->sum = 0;
}

void kv_free(sim_kv *kv)
{
    free(kv->e);
    memset(kv, 0, sizeof(*kv));
}

static uint32_t find(const sim_kv *kv, uint32_t key, bool *found)
{
    uint32_t lo = 0, hi = kv->n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (kv->e[mid].key < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = lo < kv->n && kv->e[lo].key == key;
    return lo;
}

uint64_t kv_get(const sim_kv *kv, uint32_t key)
{
    bool found;
    uint32_t i = find(kv, key, &found);
    return found ? kv->e[i].val : 0;
}

static void kv_set(sim_kv *kv, uint32_t key, uint64_t val)
{
    bool found;
    uint32_t i = find(kv, key, &found);
    if (found) {
        kv->sum -= pair_mix(key, kv->e[i].val);
        kv->e[i].val = val;
        kv->sum += pair_mix(key, val);
        return;
    }
    if (kv->n == kv->cap) {
        uint32_t c = kv->cap ? kv->cap * 2 : 16;
        sim_kv_pair *e = realloc(kv->e, c * sizeof(*e));
        TCN_ASSERT(e != NULL);
        kv->e = e;
        kv->cap = c;
    }
    memmove(&kv->e[i + 1], &kv->e[i], (kv->n - i) * sizeof(*kv->e));
    kv->e[i].key = key;
    kv->e[i].val = val;
    kv->n++;
    kv->sum += pair_mix(key, val);
}

uint64_t kv_apply(sim_kv *kv, const sim_cmd *c)
{
    switch (c->kind) {
    case SIM_OP_PUT:
        kv_set(kv, c->key, c->a);
        return 1;
    case SIM_OP_CAS:
        if (kv_get(kv, c->key) != c->a)
            return 0;
        kv_set(kv, c->key, c->b);
        return 1;
    default:
        return kv_get(kv, c->key);
    }
}

/* --- Commands: 'K' kind client:u32 op:u32 key:u32 a:u64 b:u64 pad:u16 pad-bytes, little endian --- */

#define CMD_HEAD 32u

static void put_le(uint8_t *p, uint64_t v, int n)
{
    for (int i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

size_t kv_cmd_encode(const sim_cmd *c, uint32_t pad, uint8_t *out, size_t cap)
{
    TCN_ASSERT(CMD_HEAD + pad <= cap && pad <= 0xffff);
    out[0] = 'K';
    out[1] = c->kind;
    put_le(out + 2, c->client, 4);
    put_le(out + 6, c->op, 4);
    put_le(out + 10, c->key, 4);
    put_le(out + 14, c->a, 8);
    put_le(out + 22, c->b, 8);
    put_le(out + 30, pad, 2);
    for (uint32_t i = 0; i < pad; i++)
        out[CMD_HEAD + i] = (uint8_t)(c->op * 31u + i);
    return CMD_HEAD + pad;
}

bool kv_cmd_decode(const uint8_t *p, size_t len, sim_cmd *c)
{
    if (len < CMD_HEAD || p[0] != 'K' || (p[1] != SIM_OP_PUT && p[1] != SIM_OP_CAS))
        return false;
    c->kind = p[1];
    c->client = (uint32_t)get_le(p + 2, 4);
    c->op = (uint32_t)get_le(p + 6, 4);
    c->key = (uint32_t)get_le(p + 10, 4);
    c->a = get_le(p + 14, 8);
    c->b = get_le(p + 22, 8);
    return len == CMD_HEAD + get_le(p + 30, 2);
}

/* --- Applying ---------------------------------------------------------------- */

void kv_apply_entry(sim *s, uint32_t slot, const tcn_raft_entry *e)
{
    sim_node *nd = &s->m[slot];
    if (e->index != nd->applied + 1) {
        sim_violation(s, "state machine safety", "node %llu applied index %llu right after %llu",
                      (unsigned long long)nd->id, (unsigned long long)e->index, (unsigned long long)nd->applied);
        return;
    }
    tcn_sha256_ctx h;
    tcn_sha256_init(&h);
    tcn_sha256_update(&h, nd->digest, sizeof(nd->digest));
    tcn_sha256_update(&h, e->hash, TCN_SHA256_LEN);
    tcn_sha256_final(&h, nd->digest);
    sim_cmd c;
    uint64_t result = 0;
    bool is_cmd = false;
    if (e->type == TCN_RAFT_ENTRY_NORMAL && s->opt.workload == SIM_WL_PAYOUTS) {
        pay_apply_entry(s, slot, e);
        if (s->violated)
            return;
    } else if (e->type == TCN_RAFT_ENTRY_NORMAL) {
        if (!kv_cmd_decode(e->data, e->len, &c)) {
            sim_violation(s, "state machine safety", "node %llu applied a malformed command at index %llu",
                          (unsigned long long)nd->id, (unsigned long long)e->index);
            return;
        }
        result = kv_apply(&nd->kv, &c);
        is_cmd = true;
    } else if (e->type == TCN_RAFT_ENTRY_CONFIG) {
        tcn_raft_config conf;
        if (tcn_raft_config_parse(e->data, e->len, &conf, NULL) != TCN_OK) {
            sim_violation(s, "membership safety", "node %llu applied a malformed configuration at index %llu",
                          (unsigned long long)nd->id, (unsigned long long)e->index);
            return;
        }
        chk_on_config_applied(s, slot, e->index, &conf);
        nd->conf = conf;
        nd->have_conf = true;
    }
    nd->applied = e->index;
    chk_on_apply(s, slot, e);
    if (is_cmd)
        wl_on_applied(s, slot, e, &c, result);
}

/* --- Snapshots: "KVS1" applied:u64 digest[32] sum:u64 n:u32 n×(key:u32 val:u64) pad:u32 pad-bytes --- */

#define SNAP_HEAD 56u /* up to and including n */

/* Payouts workload: "PAY1" applied:u64 digest[32], then the state's own snapshot. */
static int pay_take(sim *s, uint32_t slot)
{
    sim_node *nd = &s->m[slot];
    tcn_buf b = {0};
    uint8_t head[44];
    memcpy(head, "PAY1", 4);
    put_le(head + 4, nd->applied, 8);
    memcpy(head + 12, nd->digest, 32);
    int rc = tcn_buf_append(&b, head, sizeof(head));
    if (rc == TCN_OK)
        rc = pay_snapshot_take(s, slot, &b);
    if (rc == TCN_OK)
        rc = tcn_raft_snapshot_done(nd->r, nd->applied, b.p, b.len);
    tcn_buf_free_wipe(&b); /* it holds the network's keys */
    if (rc != TCN_OK) {
        sim_violation(s, "core", "node %llu refused its snapshot at applied index %llu: %s",
                      (unsigned long long)nd->id, (unsigned long long)nd->applied, tcn_err_name(rc));
        return rc;
    }
    nd->snapshots_taken++;
    return TCN_OK;
}

int kv_snapshot_take(sim *s, uint32_t slot)
{
    sim_node *nd = &s->m[slot];
    if (s->opt.workload == SIM_WL_PAYOUTS)
        return pay_take(s, slot);
    size_t len = SNAP_HEAD + (size_t)nd->kv.n * 12 + 4 + s->snap_pad;
    uint8_t *b = malloc(len);
    TCN_ASSERT(b != NULL);
    uint8_t *p = b;
    memcpy(p, "KVS1", 4);
    p += 4;
    put_le(p, nd->applied, 8);
    p += 8;
    memcpy(p, nd->digest, 32);
    p += 32;
    put_le(p, nd->kv.sum, 8);
    p += 8;
    put_le(p, nd->kv.n, 4);
    p += 4;
    for (uint32_t i = 0; i < nd->kv.n; i++) {
        put_le(p, nd->kv.e[i].key, 4);
        put_le(p + 4, nd->kv.e[i].val, 8);
        p += 12;
    }
    put_le(p, s->snap_pad, 4);
    p += 4;
    for (uint32_t i = 0; i < s->snap_pad; i++)
        p[i] = (uint8_t)(nd->applied * 7u + i);
    int rc = tcn_raft_snapshot_done(nd->r, nd->applied, b, len);
    free(b);
    if (rc != TCN_OK) {
        sim_violation(s, "core", "node %llu refused its snapshot at applied index %llu: %s",
                      (unsigned long long)nd->id, (unsigned long long)nd->applied, tcn_err_name(rc));
        return rc;
    }
    nd->snapshots_taken++;
    return TCN_OK;
}

/* What every restore ends with, whatever the application. */
static void restored(sim *s, uint32_t slot, const tcn_raft_snapshot_view *v)
{
    sim_node *nd = &s->m[slot];
    nd->applied = v->index;
    nd->conf = *v->config;
    nd->have_conf = true;
    nd->snap_index = v->index;
    nd->snap_term = v->term;
    memcpy(nd->snap_hash, v->hash, TCN_SHA256_LEN);
    nd->snapshots_restored++;
    chk_on_restore(s, slot, v);
    wl_on_restore(s, slot, v->index);
}

/* The checks every restore starts with: the application's format is sound
 * (well_formed), it is the snapshot at v->index (both formats start with a
 * magic and the applied index), and it moves the node forward. */
static bool restore_ok(sim *s, uint32_t slot, const tcn_raft_snapshot_view *v, bool well_formed)
{
    const sim_node *nd = &s->m[slot];
    if (!well_formed || get_le(v->data + 4, 8) != v->index) {
        sim_violation(s, "state machine safety", "node %llu received a malformed snapshot at index %llu",
                      (unsigned long long)nd->id, (unsigned long long)v->index);
        return false;
    }
    if (v->index <= nd->applied) {
        sim_violation(s, "state machine safety", "node %llu restores a snapshot at %llu, below its applied %llu",
                      (unsigned long long)nd->id, (unsigned long long)v->index, (unsigned long long)nd->applied);
        return false;
    }
    return true;
}

void kv_snapshot_restore(sim *s, uint32_t slot, const tcn_raft_snapshot_view *v)
{
    sim_node *nd = &s->m[slot];
    const uint8_t *p = v->data;
    size_t len = v->len;
    if (s->opt.workload == SIM_WL_PAYOUTS) {
        if (!restore_ok(s, slot, v, len >= 44 && memcmp(p, "PAY1", 4) == 0))
            return;
        if (!pay_snapshot_restore(s, slot, p + 44, len - 44))
            return;
        memcpy(nd->digest, p + 12, 32);
        restored(s, slot, v);
        return;
    }
    bool ok = len >= SNAP_HEAD && memcmp(p, "KVS1", 4) == 0;
    uint32_t n = ok ? (uint32_t)get_le(p + 52, 4) : 0;
    ok = ok && len >= SNAP_HEAD + (size_t)n * 12 + 4;
    uint32_t pad = ok ? (uint32_t)get_le(p + SNAP_HEAD + (size_t)n * 12, 4) : 0;
    ok = ok && len == SNAP_HEAD + (size_t)n * 12 + 4 + pad;
    if (!restore_ok(s, slot, v, ok))
        return;
    kv_clear(&nd->kv);
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *q = p + SNAP_HEAD + (size_t)i * 12;
        kv_set(&nd->kv, (uint32_t)get_le(q, 4), get_le(q + 4, 8));
    }
    memcpy(nd->digest, p + 12, 32);
    if (nd->kv.sum != get_le(p + 44, 8)) {
        sim_violation(s, "state machine safety", "node %llu: snapshot at %llu: the map does not match its checksum",
                      (unsigned long long)nd->id, (unsigned long long)v->index);
        return;
    }
    restored(s, slot, v);
}
