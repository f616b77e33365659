/* Test harness for the Raft unit tests: a small cluster of cores on a simulated clock and network, in one process.
 *
 * Header only (static inline), so that every test_raft_*.c — including the
 * one built against the bug-enabled core — compiles its own copy. Messages
 * travel encoded through the codec, so every test also exercises it. Checks
 * run as the cluster moves: at most one leader per term, every node applies
 * the same entry at each index, commit indexes never go back; tests that
 * expect a violation set h->tolerate_violations and read h->violations. */
#ifndef TCN_TESTS_RAFT_HARNESS_H
#define TCN_TESTS_RAFT_HARNESS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "raft/codec.h"
#include "raft/raft.h"
#include "util/buf.h"
#include "util/hash.h"

#define H_NODES_MAX 8
#define H_TICK_MS 10
#define H_READS_MAX 4096
#define H_SETTLE_ROUNDS_MAX 100000

typedef struct h_pkt {
    int from, to;
    uint64_t at; /* deliverable from this time on */
    uint8_t *bytes;
    size_t len;
} h_pkt;

/* What every applied index must agree on, across nodes. */
typedef struct h_commit_rec {
    bool set;
    uint64_t term;
    uint8_t hash[TCN_SHA256_LEN];
    uint8_t sm[TCN_SHA256_LEN]; /* state machine after applying it */
} h_commit_rec;

typedef struct h_node {
    tcn_raft *r;
    uint64_t id;
    bool up;
    /* The application: a running hash over applied entries. */
    uint64_t applied;
    uint8_t sm[TCN_SHA256_LEN];
    uint64_t n_normal; /* NORMAL entries applied */
    uint64_t last_commit;
    tcn_raft_read_result reads[H_READS_MAX];
    size_t n_reads;
    size_t faults;
    tcn_raft_fault last_fault;
    size_t snapshots_taken;
    size_t snapshots_restored;
    bool snapshot_wanted;
    tcn_raft_config config;
    uint64_t config_index;
    size_t config_changes;
} h_node;

struct harness;
/* Sees a copy of each message before it is encoded: return false to drop
 * it; it may also rewrite scalar fields (e.g. cut entries off an append). */
typedef bool (*h_filter_fn)(struct harness *h, int from, int to, tcn_raft_msg *m, void *arg);
/* May change the encoded bytes of a message before delivery. */
typedef void (*h_tamper_fn)(struct harness *h, int from, int to, uint8_t *bytes, size_t len, void *arg);

typedef struct harness {
    int n;
    h_node nodes[H_NODES_MAX];
    uint64_t now;
    tcn_raft_options opts; /* template for new nodes (id and seed are set per node) */
    uint64_t seed;
    bool cut[H_NODES_MAX][H_NODES_MAX];
    uint32_t loss_permille;
    uint32_t dup_permille;  /* messages delivered twice */
    uint32_t delay_max_ms;  /* each message waits 0..delay_max_ms: delays and reordering */
    uint64_t rng;
    h_pkt *q;
    size_t q_len, q_cap;
    tcn_raft_decoder dec;
    tcn_buf enc;
    h_filter_fn filter;
    void *filter_arg;
    h_tamper_fn tamper;
    void *tamper_arg;
    bool auto_snapshot;
    size_t snapshot_pad; /* bytes of padding in application snapshots (to force several chunks) */
    /* checks */
    uint64_t *leader_of_term; /* term -> leader id */
    size_t leader_cap;
    h_commit_rec *committed; /* index -> what was applied there */
    size_t committed_cap;
    bool tolerate_violations;
    bool faults_are_violations; /* no tampering in this test: a corruption report is a bug */
    int violations;
    char violation[512];
    /* statistics */
    uint64_t sent[TCN_RAFT_MSG_TYPE_MAX + 1];
    uint64_t dropped;
    uint64_t step_errors;
    int last_step_rc;
} harness;

static inline uint64_t h_rand(harness *h)
{
    uint64_t z = (h->rng += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static inline void h_violation(harness *h, const char *fmt, ...) TCN_PRINTF(2, 3);
static inline void h_violation(harness *h, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(h->violation, sizeof(h->violation), fmt, ap);
    va_end(ap);
    h->violations++;
    if (!h->tolerate_violations)
        fail_msg("VIOLATION: %s", h->violation);
}

/* Default options for tests: the library defaults with a fixed seed. */
static inline void h_init(harness *h, uint64_t seed)
{
    memset(h, 0, sizeof(*h));
    h->seed = seed;
    h->rng = seed;
    tcn_raft_options_default(&h->opts, 0, seed);
    h->auto_snapshot = true;
}

static inline int h_index_of(const harness *h, uint64_t id)
{
    for (int i = 0; i < h->n; i++)
        if (h->nodes[i].id == id)
            return i;
    return -1;
}

/* A new empty node (no configuration): it joins through a leader. */
static inline int h_add(harness *h, uint64_t id)
{
    assert_true(h->n < H_NODES_MAX);
    int i = h->n++;
    h_node *nd = &h->nodes[i];
    memset(nd, 0, sizeof(*nd));
    tcn_raft_options o = h->opts;
    o.id = id;
    o.seed = h->seed;
    tcn_error err;
    int rc = tcn_raft_create(&nd->r, &o, h->now, &err);
    if (rc != TCN_OK)
        fail_msg("tcn_raft_create: %s", err.msg);
    nd->id = id;
    nd->up = true;
    return i;
}

/* n voters with ids 1..n, all bootstrapping the same genesis configuration. */
static inline void h_start(harness *h, int n)
{
    uint64_t ids[H_NODES_MAX];
    for (int i = 0; i < n; i++)
        ids[i] = (uint64_t)i + 1;
    for (int i = 0; i < n; i++) {
        int k = h_add(h, ids[i]);
        assert_int_equal(tcn_raft_bootstrap(h->nodes[k].r, ids, (size_t)n), TCN_OK);
    }
}

static inline void h_free(harness *h)
{
    for (int i = 0; i < h->n; i++)
        tcn_raft_destroy(h->nodes[i].r);
    for (size_t i = 0; i < h->q_len; i++)
        free(h->q[i].bytes);
    free(h->q);
    tcn_raft_decoder_free(&h->dec);
    tcn_buf_free(&h->enc);
    free(h->leader_of_term);
    free(h->committed);
}

static inline void h_grow(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return;
    size_t c = *cap ? *cap : 64;
    while (c < need)
        c *= 2;
    uint8_t *q = realloc(*p, c * elem);
    assert_non_null(q);
    memset(q + *cap * elem, 0, (c - *cap) * elem);
    *p = q;
    *cap = c;
}

static inline void h_check_leader(harness *h, int i, const tcn_raft_ready *rd)
{
    if (rd->role != TCN_RAFT_LEADER)
        return;
    h_grow((void **)&h->leader_of_term, &h->leader_cap, rd->term + 1, sizeof(uint64_t));
    uint64_t *l = &h->leader_of_term[rd->term];
    if (*l == 0)
        *l = h->nodes[i].id;
    else if (*l != h->nodes[i].id)
        h_violation(h, "election safety: two leaders in term %llu: %llu and %llu", (unsigned long long)rd->term,
                    (unsigned long long)*l, (unsigned long long)h->nodes[i].id);
}

static inline void h_apply_one(harness *h, int i, const tcn_raft_entry *e)
{
    h_node *nd = &h->nodes[i];
    if (e->index != nd->applied + 1)
        h_violation(h, "node %llu applied index %llu after %llu", (unsigned long long)nd->id,
                    (unsigned long long)e->index, (unsigned long long)nd->applied);
    tcn_sha256_ctx c;
    tcn_sha256_init(&c);
    tcn_sha256_update(&c, nd->sm, sizeof(nd->sm));
    tcn_sha256_update(&c, e->hash, TCN_SHA256_LEN);
    tcn_sha256_final(&c, nd->sm);
    nd->applied = e->index;
    if (e->type == TCN_RAFT_ENTRY_NORMAL)
        nd->n_normal++;
    h_grow((void **)&h->committed, &h->committed_cap, e->index + 1, sizeof(h_commit_rec));
    h_commit_rec *rec = &h->committed[e->index];
    if (!rec->set) {
        rec->set = true;
        rec->term = e->term;
        memcpy(rec->hash, e->hash, TCN_SHA256_LEN);
        memcpy(rec->sm, nd->sm, TCN_SHA256_LEN);
    } else if (rec->term != e->term || memcmp(rec->hash, e->hash, TCN_SHA256_LEN) != 0) {
        h_violation(h, "state machine safety: node %llu applied term %llu at index %llu, another node term %llu",
                    (unsigned long long)nd->id, (unsigned long long)e->term, (unsigned long long)e->index,
                    (unsigned long long)rec->term);
    }
}

/* Application snapshot: applied:u64 ‖ sm[32] ‖ n_normal:u64 ‖ padding. */
static inline void h_take_snapshot(harness *h, int i)
{
    h_node *nd = &h->nodes[i];
    size_t len = 8 + 32 + 8 + h->snapshot_pad;
    uint8_t *b = malloc(len);
    assert_non_null(b);
    memcpy(b, &nd->applied, 8);
    memcpy(b + 8, nd->sm, 32);
    memcpy(b + 40, &nd->n_normal, 8);
    for (size_t k = 0; k < h->snapshot_pad; k++)
        b[48 + k] = (uint8_t)(k * 31 + nd->applied);
    assert_int_equal(tcn_raft_snapshot_done(nd->r, nd->applied, b, len), TCN_OK);
    free(b);
    nd->snapshots_taken++;
}

static inline void h_restore(harness *h, int i, const tcn_raft_snapshot_view *s)
{
    h_node *nd = &h->nodes[i];
    assert_true(s->len >= 48);
    uint64_t idx;
    memcpy(&idx, s->data, 8);
    assert_true(idx == s->index);
    memcpy(nd->sm, s->data + 8, 32);
    memcpy(&nd->n_normal, s->data + 40, 8);
    nd->applied = s->index;
    nd->snapshots_restored++;
    if (s->index < h->committed_cap && h->committed[s->index].set &&
        memcmp(h->committed[s->index].sm, nd->sm, TCN_SHA256_LEN) != 0)
        h_violation(h, "snapshot at %llu disagrees with the applied history", (unsigned long long)s->index);
}

static inline void h_enqueue(harness *h, int from, const tcn_raft_msg *msg)
{
    tcn_raft_msg copy = *msg, *m = &copy;
    int to = h_index_of(h, m->to);
    h->sent[m->type]++;
    if (to < 0) {
        h->dropped++;
        return;
    }
    if (h->filter != NULL && !h->filter(h, from, to, m, h->filter_arg)) {
        h->dropped++;
        return;
    }
    h->enc.len = 0;
    tcn_error err;
    int rc = tcn_raft_msg_encode(m, &h->enc, &err);
    if (rc != TCN_OK)
        fail_msg("encode %s: %s", tcn_raft_msg_type_name(m->type), err.msg);
    int copies = h->dup_permille > 0 && h_rand(h) % 1000 < h->dup_permille ? 2 : 1;
    for (int c = 0; c < copies; c++) {
        h_grow((void **)&h->q, &h->q_cap, h->q_len + 1, sizeof(h_pkt));
        h_pkt *p = &h->q[h->q_len++];
        p->from = from;
        p->to = to;
        p->at = h->now + (h->delay_max_ms ? h_rand(h) % (h->delay_max_ms + 1) : 0);
        p->len = h->enc.len;
        p->bytes = malloc(p->len);
        assert_non_null(p->bytes);
        memcpy(p->bytes, h->enc.p, p->len);
    }
}

/* Drains one node's ready: restore, apply, send, record; then advance. */
static inline bool h_process(harness *h, int i)
{
    h_node *nd = &h->nodes[i];
    if (!nd->up || !tcn_raft_has_ready(nd->r))
        return false;
    tcn_raft_ready rd;
    tcn_raft_get_ready(nd->r, &rd);
    h_check_leader(h, i, &rd);
    if (rd.snapshot != NULL)
        h_restore(h, i, rd.snapshot);
    for (size_t k = 0; k < rd.n_entries; k++)
        h_apply_one(h, i, &rd.entries[k]);
    for (size_t k = 0; k < rd.n_msgs; k++)
        h_enqueue(h, i, &rd.msgs[k]);
    for (size_t k = 0; k < rd.n_reads && nd->n_reads < H_READS_MAX; k++)
        nd->reads[nd->n_reads++] = rd.reads[k];
    for (size_t k = 0; k < rd.n_faults; k++) {
        nd->faults++;
        nd->last_fault = rd.faults[k];
        if (h->faults_are_violations)
            h_violation(h, "node %llu reports %s from peer %llu at index %llu", (unsigned long long)nd->id,
                        tcn_err_name(rd.faults[k].code), (unsigned long long)rd.faults[k].peer,
                        (unsigned long long)rd.faults[k].index);
    }
    if (rd.config_changed) {
        nd->config = *rd.config;
        nd->config_index = rd.config_index;
        nd->config_changes++;
    }
    bool want = rd.snapshot_wanted;
    bool busy = rd.n_msgs > 0 || rd.n_entries > 0 || rd.snapshot != NULL || rd.n_reads > 0;
    tcn_raft_advance(nd->r);
    uint64_t c = tcn_raft_commit_index(nd->r);
    if (c < nd->last_commit)
        h_violation(h, "node %llu commit index went back from %llu to %llu", (unsigned long long)nd->id,
                    (unsigned long long)nd->last_commit, (unsigned long long)c);
    nd->last_commit = c;
    if (want) {
        nd->snapshot_wanted = true;
        if (h->auto_snapshot)
            h_take_snapshot(h, i);
    }
    return busy;
}

static inline void h_deliver(harness *h, h_pkt *p)
{
    h_node *nd = &h->nodes[p->to];
    bool lost = h->loss_permille > 0 && h_rand(h) % 1000 < h->loss_permille;
    if (!nd->up || h->cut[p->from][p->to] || lost) {
        h->dropped++;
        return;
    }
    if (h->tamper != NULL)
        h->tamper(h, p->from, p->to, p->bytes, p->len, h->tamper_arg);
    tcn_raft_msg m;
    tcn_error err;
    int rc = tcn_raft_msg_decode(&h->dec, p->bytes, p->len, &m, &err);
    if (rc != TCN_OK) {
        h->step_errors++;
        h->last_step_rc = rc;
        return;
    }
    rc = tcn_raft_step(nd->r, &m);
    if (rc != TCN_OK) {
        h->step_errors++;
        h->last_step_rc = rc;
    }
}

/* Runs the cluster without advancing time until nothing moves: every core
 * drained, every message due by now delivered (later ones keep waiting). */
static inline void h_settle(harness *h)
{
    for (int round = 0; round < H_SETTLE_ROUNDS_MAX; round++) {
        bool busy = false;
        for (int i = 0; i < h->n; i++)
            busy |= h_process(h, i);
        size_t due = 0;
        for (size_t k = 0; k < h->q_len; k++)
            due += h->q[k].at <= h->now;
        if (due == 0 && !busy)
            return;
        /* Deliveries only queue outputs inside the cores; h_process moves
         * them here, so the queue does not change while we walk it. */
        size_t keep = 0;
        for (size_t k = 0; k < h->q_len; k++) {
            if (h->q[k].at > h->now) {
                h->q[keep++] = h->q[k];
                continue;
            }
            h_deliver(h, &h->q[k]);
            free(h->q[k].bytes);
        }
        h->q_len = keep;
    }
    fail_msg("cluster did not settle");
}

/* Advances simulated time by ms in H_TICK_MS steps, settling after each. */
static inline void h_run(harness *h, uint64_t ms)
{
    for (uint64_t t = 0; t < ms; t += H_TICK_MS) {
        h->now += H_TICK_MS;
        for (int i = 0; i < h->n; i++)
            if (h->nodes[i].up)
                tcn_raft_tick(h->nodes[i].r, h->now);
        h_settle(h);
    }
}

/* The up node that is leader in the highest term, or -1. */
static inline int h_leader(const harness *h)
{
    int best = -1;
    for (int i = 0; i < h->n; i++) {
        if (!h->nodes[i].up || tcn_raft_role_of(h->nodes[i].r) != TCN_RAFT_LEADER)
            continue;
        if (best < 0 || tcn_raft_term(h->nodes[i].r) > tcn_raft_term(h->nodes[best].r))
            best = i;
    }
    return best;
}

/* Runs until some up node leads (and no other up node leads a higher term
 * view of the cluster), at most max_ms. */
static inline int h_wait_leader(harness *h, uint64_t max_ms)
{
    for (uint64_t t = 0; t <= max_ms; t += H_TICK_MS) {
        int l = h_leader(h);
        if (l >= 0)
            return l;
        h_run(h, H_TICK_MS);
    }
    fail_msg("no leader within %llu ms", (unsigned long long)max_ms);
    return -1;
}

static inline uint64_t h_propose(harness *h, int i, const char *s)
{
    uint64_t idx = 0;
    int rc = tcn_raft_propose(h->nodes[i].r, s, strlen(s), &idx);
    if (rc != TCN_OK)
        fail_msg("propose on node %llu: %s", (unsigned long long)h->nodes[i].id, tcn_err_name(rc));
    return idx;
}

static inline void h_isolate(harness *h, int i)
{
    for (int j = 0; j < H_NODES_MAX; j++)
        h->cut[i][j] = h->cut[j][i] = true;
}

static inline void h_heal(harness *h) { memset(h->cut, 0, sizeof(h->cut)); }

/* Log matching across up nodes: wherever two logs hold the same index with
 * the same term, the hashes (and so, by the chain, the whole prefixes) agree. */
static inline void h_check_logs(harness *h)
{
    for (int a = 0; a < h->n; a++)
        for (int b = a + 1; b < h->n; b++) {
            tcn_raft *x = h->nodes[a].r, *y = h->nodes[b].r;
            uint64_t lo = tcn_raft_first_index(x) > tcn_raft_first_index(y) ? tcn_raft_first_index(x)
                                                                             : tcn_raft_first_index(y);
            uint64_t hi = tcn_raft_last_index(x) < tcn_raft_last_index(y) ? tcn_raft_last_index(x)
                                                                          : tcn_raft_last_index(y);
            for (uint64_t i = lo; i <= hi; i++) {
                tcn_raft_entry e, f;
                assert_true(tcn_raft_entry_at(x, i, &e));
                assert_true(tcn_raft_entry_at(y, i, &f));
                if (e.term == f.term && memcmp(e.hash, f.hash, TCN_SHA256_LEN) != 0)
                    h_violation(h, "log matching: nodes %llu and %llu differ at index %llu of term %llu",
                                (unsigned long long)h->nodes[a].id, (unsigned long long)h->nodes[b].id,
                                (unsigned long long)i, (unsigned long long)e.term);
            }
        }
}

/* Proposes count entries "prefix-k" at the leader and runs until all up
 * nodes applied them (at most max_ms). Returns the leader's last index. */
static inline uint64_t h_replicate(harness *h, int leader, int count, uint64_t max_ms)
{
    char buf[64];
    uint64_t idx = 0;
    for (int k = 0; k < count; k++) {
        snprintf(buf, sizeof(buf), "cmd-%d", k);
        idx = h_propose(h, leader, buf);
    }
    for (uint64_t t = 0; t <= max_ms; t += H_TICK_MS) {
        h_settle(h);
        bool all = true;
        for (int i = 0; i < h->n; i++)
            if (h->nodes[i].up && h->nodes[i].applied < idx)
                all = false;
        if (all)
            return idx;
        h_run(h, H_TICK_MS);
    }
    fail_msg("entries up to %llu not applied everywhere within %llu ms", (unsigned long long)idx,
             (unsigned long long)max_ms);
    return idx;
}

/* Direct message injection for tests that poke one core. */
static inline tcn_raft_msg h_msg(uint8_t type, uint64_t from, uint64_t to, uint64_t term)
{
    tcn_raft_msg m;
    memset(&m, 0, sizeof(m));
    m.type = type;
    m.from = from;
    m.to = to;
    m.term = term;
    return m;
}

/* Drains a lone core's ready into a caller array of messages, copied
 * shallowly: pointer fields (entries, chunks) dangle after this returns, so
 * callers read only the scalar fields. Returns the number of messages. */
static inline size_t h_drain(tcn_raft *r, tcn_raft_msg *out, size_t cap)
{
    tcn_raft_ready rd;
    tcn_raft_get_ready(r, &rd);
    size_t n = rd.n_msgs < cap ? rd.n_msgs : cap;
    for (size_t i = 0; i < n; i++)
        out[i] = rd.msgs[i];
    tcn_raft_advance(r);
    return n;
}

/* --- Figure 8 of the Raft paper (thesis Figure 3.7), step by step --------- */

typedef struct h_f8 {
    uint32_t campaigners; /* bit i: node i may send (pre-)votes */
    int hold_from;        /* node whose appends lose every entry past hold_index, -1: none */
    uint64_t hold_index;
} h_f8;

static inline bool h_f8_filter(harness *h, int from, int to, tcn_raft_msg *m, void *arg)
{
    (void)h;
    (void)to;
    const h_f8 *f = arg;
    if (m->type == TCN_RAFT_MSG_VOTE && !(f->campaigners & (1u << from)))
        return false;
    if (m->type == TCN_RAFT_MSG_APPEND && from == f->hold_from) {
        tcn_raft_append *a = &m->append;
        uint32_t keep = a->prev_index >= f->hold_index ? 0 : (uint32_t)(f->hold_index - a->prev_index);
        if (keep < a->n_entries) {
            a->n_entries = keep;
            if (keep > 0)
                memcpy(a->last_hash, a->entries[keep - 1].hash, TCN_SHA256_LEN);
        }
    }
    return true;
}

static inline int h_wait_leader_is(harness *h, int i, uint64_t max_ms)
{
    for (uint64_t t = 0; t <= max_ms; t += H_TICK_MS) {
        if (tcn_raft_role_of(h->nodes[i].r) == TCN_RAFT_LEADER)
            return i;
        h_run(h, H_TICK_MS);
    }
    fail_msg("node %d did not become leader within %llu ms", i, (unsigned long long)max_ms);
    return -1;
}

/* Five nodes S1..S5 (indexes 0..4), one entry per AppendEntries.
 *  a. S1 leads, commits a little.
 *  b. {S1,S2} are cut off; S1 appends x at index i; only S2 gets it.
 *  c. S5 is elected by S3,S4 in a new term; its no-op at i reaches nobody.
 *  d. S5 is cut off, {S1,S2} rejoin S3,S4; S1 is elected again and
 *     replicates x to S3 (a majority now holds x) while its own no-op is
 *     held back.
 * A correct S1 does not commit i (x is of an older term). With the
 * FIGURE8 bug it does; `followup` then runs
 *  e. S1 is cut off, S5 rejoins and is elected, and its log lacks the
 *     committed x: Leader Completeness is broken.
 * Returns whether S1 committed index i in step d. */
static inline bool h_figure8(uint32_t bugs, bool followup, bool *completeness_broken)
{
    harness h;
    h_init(&h, 8);
    h.opts.append_entries_max = 1;
    h.opts.bugs = bugs;
    h.tolerate_violations = true;
    h_f8 f = {.campaigners = 1u << 0, .hold_from = -1, .hold_index = 0};
    h.filter = h_f8_filter;
    h.filter_arg = &f;
    h_start(&h, 5);
    (void)h_wait_leader_is(&h, 0, 10000);
    uint64_t base = h_replicate(&h, 0, 1, 5000);

    /* b */
    for (int a = 0; a < 2; a++)
        for (int b = 2; b < 5; b++)
            h.cut[a][b] = h.cut[b][a] = true;
    uint64_t i = h_propose(&h, 0, "x");
    assert_int_equal(i, base + 1);
    h_run(&h, 300);
    assert_int_equal(tcn_raft_last_index(h.nodes[1].r), i);
    assert_int_equal(tcn_raft_last_index(h.nodes[2].r), base);

    /* c */
    f.campaigners = 1u << 4;
    f.hold_from = 4;
    f.hold_index = 0;
    (void)h_wait_leader_is(&h, 4, 20000);
    tcn_raft_entry e;
    assert_true(tcn_raft_entry_at(h.nodes[4].r, i, &e));
    assert_int_equal(e.type, TCN_RAFT_ENTRY_NOOP);
    assert_int_equal(tcn_raft_last_index(h.nodes[2].r), base);

    /* d */
    h_heal(&h);
    h_isolate(&h, 4);
    f.campaigners = 1u << 0;
    f.hold_from = 0;
    f.hold_index = i; /* nothing past x leaves S1 */
    (void)h_wait_leader_is(&h, 0, 20000);
    h_run(&h, 1000);
    assert_int_equal(tcn_raft_last_index(h.nodes[2].r), i); /* S3 holds x now */
    bool committed = tcn_raft_commit_index(h.nodes[0].r) >= i;

    *completeness_broken = false;
    if (followup) {
        /* e */
        h_heal(&h);
        h_isolate(&h, 0);
        f.campaigners = 1u << 4;
        f.hold_from = -1;
        (void)h_wait_leader_is(&h, 4, 20000);
        tcn_raft_entry x;
        assert_true(tcn_raft_entry_at(h.nodes[0].r, i, &x));
        assert_true(tcn_raft_entry_at(h.nodes[4].r, i, &e));
        /* S1 committed x at i; the new leader holds another entry there. */
        *completeness_broken = committed && e.term != x.term;
    }
    h_free(&h);
    return committed;
}

#endif
