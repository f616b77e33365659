/* Safety checkers: election safety, log matching, leader completeness, state-machine safety, commit monotonicity, membership safety, core faults. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/sim.h"
#include "util/encoding.h"
#include "util/assert.h"

/*
 * What is checked, and when:
 *  - after every ready: no fault reported by a core (a hash-chain mismatch is
 *    corruption, never expected without tampering); at most one leader per
 *    term over the whole run (a boot counts as a different server, so a node
 *    that rejoins with its old id and leads a term twice is caught); terms
 *    never go back;
 *  - when an entry is applied or a snapshot restored: every node applies the
 *    same entry (term and hash) at each index, in index order, and reaches
 *    the same application state there (digest and checksum of the map);
 *    consecutive configurations a node applies differ by at most one voter;
 *  - after every advance: the commit index never goes back; the highest
 *    commit index seen is remembered with the term of the node that saw it;
 *  - when a node becomes leader, and after every step for every leader:
 *    its log holds every entry committed in an earlier term;
 *  - after every step, over every log: the simulator keeps its own copy of
 *    each log's hash chain, recomputes the hash of every new entry from its
 *    predecessor, and keeps one registry of (index, term) -> hash across all
 *    logs: the same index and term with another hash breaks Log Matching
 *    (the hash covers the whole prefix); a leader holds at most one
 *    uncommitted configuration change; applied <= commit <= last index;
 *  - when the membership manager asks for a change (chk_member_change): the
 *    leader accepted it only with the previous change committed and an entry
 *    of its own term committed, and the new configuration differs from the
 *    old by at most one voter.
 */

static void grow(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return;
    size_t c = *cap ? *cap : 256;
    while (c < need)
        c *= 2;
    uint8_t *q = realloc(*p, c * elem);
    TCN_ASSERT(q != NULL);
    memset(q + *cap * elem, 0, (c - *cap) * elem);
    *p = q;
    *cap = c;
}

static void hex8(const uint8_t *h, char out[17]) { tcn_hex_encode(h, 8, out); }

void chk_init(sim *s) { memset(&s->chk, 0, sizeof(s->chk)); }

void chk_free(sim *s)
{
    sim_checker *c = &s->chk;
    free(c->leaders);
    free(c->rec);
    free(c->reg);
    free(c->marks);
    memset(c, 0, sizeof(*c));
}

uint64_t chk_applied_max(const sim *s) { return s->chk.applied_max; }

uint32_t chk_voter_diff(const tcn_raft_config *a, const tcn_raft_config *b)
{
    uint32_t d = 0;
    for (uint32_t i = 0; i < a->n; i++)
        if (a->members[i].role == TCN_RAFT_VOTER && !tcn_raft_config_is_voter(b, a->members[i].id))
            d++;
    for (uint32_t i = 0; i < b->n; i++)
        if (b->members[i].role == TCN_RAFT_VOTER && !tcn_raft_config_is_voter(a, b->members[i].id))
            d++;
    return d;
}

static void config_str(const tcn_raft_config *c, char *out, size_t cap)
{
    size_t k = 0;
    out[0] = 0;
    for (uint32_t i = 0; i < c->n && k + 24 < cap; i++)
        k += (size_t)snprintf(out + k, cap - k, "%s%llu%s", i ? "," : "", (unsigned long long)c->members[i].id,
                              c->members[i].role == TCN_RAFT_LEARNER ? "L" : "");
}

/* --- After every ready ----------------------------------------------------- */

void chk_on_ready(sim *s, uint32_t slot, const tcn_raft_ready *rd)
{
    sim_checker *c = &s->chk;
    sim_node *nd = &s->m[slot];
    for (size_t k = 0; k < rd->n_faults; k++)
        sim_violation(s, "corruption", "node %llu reports %s from peer %llu at index %llu", (unsigned long long)nd->id,
                      tcn_err_name(rd->faults[k].code), (unsigned long long)rd->faults[k].peer,
                      (unsigned long long)rd->faults[k].index);
    if (rd->n_faults_dropped > 0)
        sim_violation(s, "corruption", "node %llu dropped %zu fault reports", (unsigned long long)nd->id,
                      rd->n_faults_dropped);
    if (rd->term < nd->term)
        sim_violation(s, "election safety", "node %llu's term went back from %llu to %llu", (unsigned long long)nd->id,
                      (unsigned long long)nd->term, (unsigned long long)rd->term);
    if (rd->role == TCN_RAFT_LEADER) {
        grow((void **)&c->leaders, &c->leader_cap, rd->term + 1, sizeof(*c->leaders));
        sim_term_leader *l = &c->leaders[rd->term];
        if (l->boot == 0) {
            l->boot = nd->boot;
            l->id = nd->id;
            c->elections++;
        } else if (l->boot != nd->boot) {
            sim_violation(s, "election safety", "two leaders in term %llu: node %llu (boot %llu) and node %llu (boot %llu)",
                          (unsigned long long)rd->term, (unsigned long long)l->id, (unsigned long long)l->boot,
                          (unsigned long long)nd->id, (unsigned long long)nd->boot);
        }
    }
    nd->role = rd->role;
    nd->term = rd->term;
    if (rd->term > c->term_max)
        c->term_max = rd->term;
}

/* --- Applying --------------------------------------------------------------- */

void chk_on_apply(sim *s, uint32_t slot, const tcn_raft_entry *e)
{
    sim_checker *c = &s->chk;
    const sim_node *nd = &s->m[slot];
    grow((void **)&c->rec, &c->rec_cap, e->index + 1, sizeof(sim_rec));
    sim_rec *r = &c->rec[e->index];
    if (!r->set) {
        r->set = true;
        r->by = nd->id;
        r->term = e->term;
        memcpy(r->hash, e->hash, TCN_SHA256_LEN);
        memcpy(r->digest, nd->digest, TCN_SHA256_LEN);
        r->kvsum = nd->kv.sum;
        if (e->index > c->applied_max)
            c->applied_max = e->index;
        return;
    }
    if (r->term != e->term || memcmp(r->hash, e->hash, TCN_SHA256_LEN) != 0) {
        char a[17], b[17];
        hex8(r->hash, a);
        hex8(e->hash, b);
        sim_violation(s, "state machine safety",
                      "index %llu: node %llu applied term %llu (hash %s), node %llu applied term %llu (hash %s)",
                      (unsigned long long)e->index, (unsigned long long)r->by, (unsigned long long)r->term, a,
                      (unsigned long long)nd->id, (unsigned long long)e->term, b);
    } else if (memcmp(r->digest, nd->digest, TCN_SHA256_LEN) != 0 || r->kvsum != nd->kv.sum) {
        sim_violation(s, "state machine safety", "index %llu: node %llu's application state differs from node %llu's",
                      (unsigned long long)e->index, (unsigned long long)nd->id, (unsigned long long)r->by);
    }
}

void chk_on_restore(sim *s, uint32_t slot, const tcn_raft_snapshot_view *v)
{
    sim_checker *c = &s->chk;
    const sim_node *nd = &s->m[slot];
    grow((void **)&c->rec, &c->rec_cap, v->index + 1, sizeof(sim_rec));
    sim_rec *r = &c->rec[v->index];
    if (!r->set) {
        r->set = true;
        r->by = nd->id;
        r->term = v->term;
        memcpy(r->hash, v->hash, TCN_SHA256_LEN);
        memcpy(r->digest, nd->digest, TCN_SHA256_LEN);
        r->kvsum = nd->kv.sum;
        if (v->index > c->applied_max)
            c->applied_max = v->index;
        return;
    }
    if (r->term != v->term || memcmp(r->hash, v->hash, TCN_SHA256_LEN) != 0 ||
        memcmp(r->digest, nd->digest, TCN_SHA256_LEN) != 0 || r->kvsum != nd->kv.sum)
        sim_violation(s, "state machine safety",
                      "node %llu restored a snapshot at index %llu (term %llu) that differs from what node %llu "
                      "applied there (term %llu)",
                      (unsigned long long)nd->id, (unsigned long long)v->index, (unsigned long long)v->term,
                      (unsigned long long)r->by, (unsigned long long)r->term);
}

void chk_on_config_applied(sim *s, uint32_t slot, uint64_t index, const tcn_raft_config *next)
{
    const sim_node *nd = &s->m[slot];
    if (!nd->have_conf)
        return;
    uint32_t d = chk_voter_diff(&nd->conf, next);
    if (d > 1) {
        char a[256], b[256];
        config_str(&nd->conf, a, sizeof(a));
        config_str(next, b, sizeof(b));
        sim_violation(s, "membership safety",
                      "node %llu applied a configuration at index %llu that changes %u voters at once ({%s} -> {%s})",
                      (unsigned long long)nd->id, (unsigned long long)index, d, a, b);
    }
}

/* --- Commit ------------------------------------------------------------------ */

static void note_commit(sim *s, const sim_node *nd, uint64_t index, const uint8_t *hash)
{
    sim_checker *c = &s->chk;
    c->commit_max = index;
    sim_commit_mark *mk = c->n_marks ? &c->marks[c->n_marks - 1] : NULL;
    if (mk == NULL || mk->term_seen != nd->term) {
        grow((void **)&c->marks, &c->cap_marks, c->n_marks + 1, sizeof(*c->marks));
        mk = &c->marks[c->n_marks++];
        mk->term_seen = nd->term;
    }
    mk->index = index;
    mk->by = nd->id;
    memcpy(mk->hash, hash, TCN_SHA256_LEN);
}

void chk_after_advance(sim *s, uint32_t slot)
{
    sim_checker *c = &s->chk;
    sim_node *nd = &s->m[slot];
    uint64_t ci = tcn_raft_commit_index(nd->r);
    if (ci < nd->last_commit)
        sim_violation(s, "commit monotonic", "node %llu's commit index went back from %llu to %llu",
                      (unsigned long long)nd->id, (unsigned long long)nd->last_commit, (unsigned long long)ci);
    nd->last_commit = ci;
    if (ci <= c->commit_max)
        return;
    tcn_raft_entry e;
    if (tcn_raft_entry_at(nd->r, ci, &e))
        note_commit(s, nd, ci, e.hash);
    else if (ci == nd->snap_index)
        note_commit(s, nd, ci, nd->snap_hash);
}

/* --- Leader completeness ------------------------------------------------------ */

static void check_mark(sim *s, uint32_t slot, const sim_commit_mark *mk)
{
    const sim_node *nd = &s->m[slot];
    const tcn_raft *r = nd->r;
    uint64_t first = tcn_raft_first_index(r), last = tcn_raft_last_index(r);
    if (last < mk->index) {
        sim_violation(s, "leader completeness",
                      "leader %llu of term %llu ends its log at %llu, but index %llu was committed (seen by node %llu "
                      "in term %llu)",
                      (unsigned long long)nd->id, (unsigned long long)tcn_raft_term(r), (unsigned long long)last,
                      (unsigned long long)mk->index, (unsigned long long)mk->by, (unsigned long long)mk->term_seen);
        return;
    }
    const uint8_t *h = NULL;
    uint64_t term = 0;
    tcn_raft_entry e;
    if (mk->index >= first && tcn_raft_entry_at(r, mk->index, &e)) {
        h = e.hash;
        term = e.term;
    } else if (mk->index + 1 == first && nd->snap_index == mk->index) {
        h = nd->snap_hash;
    }
    if (h != NULL && memcmp(h, mk->hash, TCN_SHA256_LEN) != 0)
        sim_violation(s, "leader completeness",
                      "leader %llu of term %llu holds another entry (term %llu) at index %llu, which was committed "
                      "(seen by node %llu in term %llu)",
                      (unsigned long long)nd->id, (unsigned long long)tcn_raft_term(r), (unsigned long long)term,
                      (unsigned long long)mk->index, (unsigned long long)mk->by, (unsigned long long)mk->term_seen);
}

static void check_completeness(sim *s, uint32_t slot)
{
    const sim_checker *c = &s->chk;
    uint64_t term = tcn_raft_term(s->m[slot].r);
    for (size_t i = c->n_marks; i-- > 0;)
        if (c->marks[i].term_seen < term) {
            /* The hash chain makes this one check cover every lower index. */
            check_mark(s, slot, &c->marks[i]);
            return;
        }
}

void chk_on_leader(sim *s, uint32_t slot) { check_completeness(s, slot); }

/* --- Log matching: the registry and each log's mirrored hash chain ----------- */

static uint64_t reg_hash(uint64_t index, uint64_t term)
{
    uint64_t x = index * 0x9e3779b97f4a7c15ull ^ term;
    return sim_splitmix64(&x);
}

static void reg_grow(sim_checker *c)
{
    size_t cap = c->reg_cap ? c->reg_cap * 2 : 4096;
    sim_reg_slot *t = calloc(cap, sizeof(*t));
    TCN_ASSERT(t != NULL);
    for (size_t i = 0; i < c->reg_cap; i++) {
        const sim_reg_slot *o = &c->reg[i];
        if (o->index == 0)
            continue;
        size_t j = reg_hash(o->index, o->term) & (cap - 1);
        while (t[j].index != 0)
            j = (j + 1) & (cap - 1);
        t[j] = *o;
    }
    free(c->reg);
    c->reg = t;
    c->reg_cap = cap;
}

/* The hash registered for (index, term), registering h if none. */
static const sim_reg_slot *reg_put(sim_checker *c, uint64_t index, uint64_t term, const uint8_t *h, uint64_t by)
{
    if ((c->reg_n + 1) * 2 > c->reg_cap)
        reg_grow(c);
    size_t j = reg_hash(index, term) & (c->reg_cap - 1);
    for (size_t probes = 0; probes < c->reg_cap; probes++) {
        sim_reg_slot *e = &c->reg[j];
        if (e->index == 0) {
            e->index = index;
            e->term = term;
            e->by = by;
            memcpy(e->hash, h, TCN_SHA256_LEN);
            c->reg_n++;
            return e;
        }
        if (e->index == index && e->term == term)
            return e;
        j = (j + 1) & (c->reg_cap - 1);
    }
    TCN_ASSERT(0 && "registry full");
    return NULL;
}

static void mirror_push(sim_mirror *mr, const uint8_t *h)
{
    if (mr->n == mr->cap) {
        size_t c = mr->cap ? mr->cap * 2 : 256;
        uint8_t(*p)[TCN_SHA256_LEN] = realloc(mr->h, c * TCN_SHA256_LEN);
        TCN_ASSERT(p != NULL);
        mr->h = p;
        mr->cap = c;
    }
    memcpy(mr->h[mr->n++], h, TCN_SHA256_LEN);
}

static void scan_log(sim *s, uint32_t slot)
{
    sim_node *nd = &s->m[slot];
    sim_mirror *mr = &nd->mirror;
    const tcn_raft *r = nd->r;
    uint64_t first = tcn_raft_first_index(r), last = tcn_raft_last_index(r);
    /* Forget what was compacted away. */
    if (mr->n > 0 && mr->base < first) {
        uint64_t drop = first - mr->base;
        if (drop >= mr->n) {
            mr->n = 0;
        } else {
            memmove(mr->h, mr->h + drop, (size_t)(mr->n - drop) * TCN_SHA256_LEN);
            mr->n -= (size_t)drop;
        }
        mr->base = first;
    }
    if (mr->n == 0 || mr->base > first) {
        mr->n = 0;
        mr->base = first;
        nd->n_conf_idx = 0;
    }
    /* Find where the log still agrees with the mirror: logs change only at
     * their end (truncation, appends), so walk back from the top. */
    uint64_t keep = mr->base - 1;
    if (mr->n > 0 && last >= mr->base) {
        uint64_t top = mr->base + mr->n - 1;
        if (top > last)
            top = last;
        for (uint64_t j = top;; j--) {
            tcn_raft_entry e;
            TCN_ASSERT(tcn_raft_entry_at(r, j, &e));
            if (memcmp(e.hash, mr->h[j - mr->base], TCN_SHA256_LEN) == 0) {
                keep = j;
                break;
            }
            if (j == mr->base)
                break;
        }
    }
    mr->n = (size_t)(keep + 1 - mr->base);
    while (nd->n_conf_idx > 0 && nd->conf_idx[nd->n_conf_idx - 1] > keep)
        nd->n_conf_idx--;
    uint8_t prev[TCN_SHA256_LEN];
    bool have_prev = false;
    if (mr->n > 0) {
        memcpy(prev, mr->h[mr->n - 1], TCN_SHA256_LEN);
        have_prev = true;
    } else if (first > 1 && nd->snap_index == first - 1) {
        memcpy(prev, nd->snap_hash, TCN_SHA256_LEN); /* the log starts right after an installed snapshot */
        have_prev = true;
    } else if (first == 1) {
        memset(prev, 0, sizeof(prev)); /* genesis */
        have_prev = true;
    }
    for (uint64_t i = keep + 1; i <= last; i++) {
        tcn_raft_entry e;
        TCN_ASSERT(tcn_raft_entry_at(r, i, &e));
        if (have_prev) {
            uint8_t h[TCN_SHA256_LEN];
            tcn_raft_entry_hash(prev, e.term, e.index, e.type, e.data, e.len, h);
            if (memcmp(h, e.hash, TCN_SHA256_LEN) != 0) {
                sim_violation(s, "log matching", "node %llu: entry %llu (term %llu) does not chain from entry %llu",
                              (unsigned long long)nd->id, (unsigned long long)i, (unsigned long long)e.term,
                              (unsigned long long)(i - 1));
                return;
            }
        }
        const sim_reg_slot *g = reg_put(&s->chk, i, e.term, e.hash, nd->id);
        if (memcmp(g->hash, e.hash, TCN_SHA256_LEN) != 0) {
            char a[17], b[17];
            hex8(g->hash, a);
            hex8(e.hash, b);
            sim_violation(s, "log matching",
                          "index %llu term %llu: node %llu held hash %s, node %llu holds hash %s (different prefixes "
                          "under the same index and term)",
                          (unsigned long long)i, (unsigned long long)e.term, (unsigned long long)g->by, a,
                          (unsigned long long)nd->id, b);
            return;
        }
        if (e.type == TCN_RAFT_ENTRY_CONFIG) {
            if (nd->n_conf_idx == SIM_CONF_IDX_MAX) {
                memmove(nd->conf_idx, nd->conf_idx + 1, (SIM_CONF_IDX_MAX - 1) * sizeof(uint64_t));
                nd->n_conf_idx--;
            }
            nd->conf_idx[nd->n_conf_idx++] = i;
        }
        mirror_push(mr, e.hash);
        memcpy(prev, e.hash, TCN_SHA256_LEN);
        have_prev = true;
    }
}

/* --- After every step ------------------------------------------------------- */

void chk_step(sim *s)
{
    for (uint32_t i = 0; i < s->n_machines && !s->violated; i++) {
        sim_node *nd = &s->m[i];
        if (!nd->up)
            continue;
        const tcn_raft *r = nd->r;
        uint64_t applied = tcn_raft_applied_index(r), commit = tcn_raft_commit_index(r);
        uint64_t last = tcn_raft_last_index(r);
        if (applied > commit || commit > last || applied != nd->applied)
            sim_violation(s, "core", "node %llu: applied %llu (application: %llu), commit %llu, last %llu out of order",
                          (unsigned long long)nd->id, (unsigned long long)applied, (unsigned long long)nd->applied,
                          (unsigned long long)commit, (unsigned long long)last);
        scan_log(s, i);
        if (tcn_raft_role_of(r) != TCN_RAFT_LEADER)
            continue;
        uint32_t uncommitted = 0;
        for (uint32_t k = 0; k < nd->n_conf_idx; k++)
            uncommitted += nd->conf_idx[k] > commit;
        if (uncommitted > 1)
            sim_violation(s, "membership safety",
                          "leader %llu of term %llu holds %u uncommitted configuration changes (commit %llu)",
                          (unsigned long long)nd->id, (unsigned long long)tcn_raft_term(r), uncommitted,
                          (unsigned long long)commit);
        check_completeness(s, i);
    }
}

/* --- Membership changes ------------------------------------------------------- */

int chk_member_change(sim *s, uint32_t slot, int op, uint64_t a, uint64_t b)
{
    sim_node *nd = &s->m[slot];
    tcn_raft *r = nd->r;
    tcn_raft_config before = *tcn_raft_config_of(r);
    uint64_t ci = tcn_raft_config_index(r), commit = tcn_raft_commit_index(r), term = tcn_raft_term(r);
    tcn_raft_entry e;
    bool have_cterm = tcn_raft_entry_at(r, commit, &e);
    uint64_t cterm = have_cterm ? e.term : 0;
    int rc;
    const char *what;
    switch (op) {
    case SIM_MC_ADD_LEARNER:
        rc = tcn_raft_add_learner(r, a);
        what = "add learner";
        break;
    case SIM_MC_PROMOTE:
        rc = tcn_raft_promote(r, a);
        what = "promote";
        break;
    case SIM_MC_REMOVE:
        rc = tcn_raft_remove(r, a);
        what = "remove";
        break;
    default:
        rc = tcn_raft_replace(r, a, b);
        what = "replace";
        break;
    }
    if (rc == TCN_OK && tcn_raft_config_index(r) != ci) {
        const tcn_raft_config *after = tcn_raft_config_of(r);
        char x[256], y[256];
        config_str(&before, x, sizeof(x));
        config_str(after, y, sizeof(y));
        sim_trace(s, "leader %llu: %s %llu%s: {%s} -> {%s}", (unsigned long long)nd->id, what, (unsigned long long)a,
                  op == SIM_MC_REPLACE ? " (old) by the new" : "", x, y);
        if (ci > commit)
            sim_violation(s, "membership safety",
                          "leader %llu accepted a change while the configuration at %llu was uncommitted (commit %llu)",
                          (unsigned long long)nd->id, (unsigned long long)ci, (unsigned long long)commit);
        else if (have_cterm && cterm != term)
            sim_violation(s, "membership safety",
                          "leader %llu accepted a change before committing an entry of its term %llu",
                          (unsigned long long)nd->id, (unsigned long long)term);
        else if (chk_voter_diff(&before, after) > 1)
            sim_violation(s, "membership safety", "leader %llu changed more than one voter at once: {%s} -> {%s}",
                          (unsigned long long)nd->id, x, y);
    }
    node_drain(s, slot);
    return rc;
}
