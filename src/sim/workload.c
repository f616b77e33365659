/* KV clients: put and cas through the log, get through ReadIndex; their history, checked for linearizability and durability at the end. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/sim.h"
#include "util/assert.h"

/*
 * A client has at most one operation outstanding. It talks to the node it
 * believes leads (a refusal names the leader it should try), with a
 * deadline. An operation's call and return are numbered by one event
 * counter, which gives the real-time order the linearizability check needs.
 *  - put/cas: proposed at the node; answered when that node applies the
 *    index it was given: with the result if its command is there, as failed
 *    (certainly without effect) if another entry is; a client that gives up
 *    first records the outcome as unknown.
 *  - get: ReadIndex at the node; answered from its map once it has applied
 *    the read index; a refusal or no answer means no effect.
 * Values written are unique (the operation number), so a read tells which
 * write it saw. Each key takes at most SIM_KEY_OPS_MAX operations and is
 * then replaced by a fresh one, which keeps each register's history small.
 */

static void retire_key_slot(sim_workload *w, uint32_t ks)
{
    w->keys[ks] = w->next_key++;
    w->key_ops[ks] = 0;
    for (uint32_t i = 0; i < SIM_CLIENTS_MAX; i++)
        w->c[i].last_seen[ks] = 0;
}

void wl_init(sim *s)
{
    sim_workload *w = &s->wl;
    memset(w, 0, sizeof(*w));
    w->n_clients = (uint32_t)sim_rng_range(&s->rng_wl, 2, 6);
    w->pad_max = (uint32_t)sim_rng_range(&s->rng_wl, 0, 300);
    w->timeout_us = (2 * sim_election_max_global_ms(s) + 500) * 1000;
    w->think_max_us = (uint32_t)sim_rng_range(&s->rng_wl, 5000, 80000);
    w->next_key = 1;
    for (uint32_t k = 0; k < SIM_KEYS_ACTIVE; k++)
        retire_key_slot(w, k);
    for (uint32_t i = 0; i < w->n_clients; i++) {
        w->c[i].target = (uint32_t)sim_rng_below(&s->rng_wl, s->n_nodes);
        w->c[i].next_us = sim_rng_below(&s->rng_wl, w->think_max_us);
    }
}

void wl_free(sim *s)
{
    free(s->wl.ops);
    s->wl.ops = NULL;
}

static const char *kind_name(uint8_t k) { return k == SIM_OP_PUT ? "put" : k == SIM_OP_GET ? "get" : "cas"; }

static void client_done(sim *s, sim_op *op, uint32_t op_no)
{
    sim_client *c = &s->wl.c[op->client];
    if (c->busy && c->op == op_no) {
        c->busy = false;
        c->next_us = s->now_us + sim_rng_below(&s->rng_wl, (uint64_t)s->wl.think_max_us + 1);
    }
}

static void complete(sim *s, uint32_t op_no, uint64_t result, const tcn_raft_entry *e)
{
    sim_workload *w = &s->wl;
    sim_op *op = &w->ops[op_no];
    if (op->status != SIM_ST_PENDING)
        return; /* the client gave up already: the outcome stays unknown */
    op->status = SIM_ST_OK;
    op->result = result;
    op->ret_ev = ++w->ev;
    op->ret_us = s->now_us;
    if (e != NULL) {
        op->index = e->index;
        memcpy(op->hash, e->hash, TCN_SHA256_LEN);
        w->acked_writes++;
        if (s->liveness && w->live_index == 0 && op->call_ev > w->heal_ev)
            w->live_index = e->index;
    } else {
        w->acked_reads++;
    }
    /* What the client saw, for its next compare-and-set. */
    for (uint32_t ks = 0; ks < SIM_KEYS_ACTIVE; ks++) {
        if (w->keys[ks] != op->key)
            continue;
        sim_client *c = &w->c[op->client];
        if (op->kind == SIM_OP_GET)
            c->last_seen[ks] = result;
        else if (op->kind == SIM_OP_PUT)
            c->last_seen[ks] = op->a;
        else if (result)
            c->last_seen[ks] = op->b;
    }
    sim_trace(s, "client %u: op %u %s key %u -> %llu (index %llu)", op->client, op_no, kind_name(op->kind), op->key,
              (unsigned long long)result, (unsigned long long)op->index);
    client_done(s, op, op_no);
}

static void fail(sim *s, uint32_t op_no)
{
    sim_op *op = &s->wl.ops[op_no];
    if (op->status != SIM_ST_PENDING)
        return;
    op->status = SIM_ST_FAILED;
    s->wl.failed++;
    client_done(s, op, op_no);
}

static int usable_slot(sim *s, uint32_t prefer)
{
    if (prefer < s->n_machines && node_usable(s, prefer))
        return (int)prefer;
    for (uint32_t tries = 0; tries < 2 * SIM_MACHINES_MAX; tries++) {
        uint32_t k = (uint32_t)sim_rng_below(&s->rng_wl, s->n_machines);
        if (node_usable(s, k))
            return (int)k;
    }
    return -1;
}

/* Client ci calls an operation at node slot; false when the node refused it. */
static bool invoke_at(sim *s, uint32_t ci, uint32_t slot, int force_kind)
{
    sim_workload *w = &s->wl;
    sim_client *c = &w->c[ci];
    uint64_t dice = sim_rng_below(&s->rng_wl, 100);
    uint8_t kind = force_kind ? (uint8_t)force_kind : dice < 40 ? SIM_OP_GET : dice < 80 ? SIM_OP_PUT : SIM_OP_CAS;
    uint32_t ks = (uint32_t)sim_rng_below(&s->rng_wl, SIM_KEYS_ACTIVE);
    uint32_t op_no = w->n_ops;
    sim_node *nd = &s->m[slot];
    sim_cmd cmd = {.kind = kind, .client = ci, .op = op_no, .key = w->keys[ks]};
    if (kind == SIM_OP_PUT) {
        cmd.a = (uint64_t)op_no + 1;
    } else if (kind == SIM_OP_CAS) {
        cmd.a = c->last_seen[ks];
        cmd.b = (uint64_t)op_no + 1;
    }
    int rc;
    uint64_t index = 0;
    if (kind == SIM_OP_GET) {
        rc = tcn_raft_read_index(nd->r, op_no);
    } else {
        uint8_t buf[SIM_CMD_BYTES_MAX];
        uint32_t pad = (uint32_t)sim_rng_range(&s->rng_wl, 0, w->pad_max);
        size_t len = kv_cmd_encode(&cmd, pad, buf, sizeof(buf));
        rc = tcn_raft_propose(nd->r, buf, len, &index);
    }
    if (rc != TCN_OK) {
        /* Not the leader (or busy): try the leader it names, a little later. */
        int ls = node_slot_of_id(s, tcn_raft_leader(nd->r));
        c->target = ls >= 0 ? (uint32_t)ls : (uint32_t)sim_rng_below(&s->rng_wl, s->n_machines);
        c->next_us = s->now_us + sim_rng_range(&s->rng_wl, 1000, 20000);
        return false;
    }
    if (w->n_ops == w->cap_ops) {
        uint32_t cap = w->cap_ops ? w->cap_ops * 2 : 1024;
        sim_op *o = realloc(w->ops, cap * sizeof(*o));
        TCN_ASSERT(o != NULL);
        w->ops = o;
        w->cap_ops = cap;
    }
    sim_op *op = &w->ops[w->n_ops++];
    memset(op, 0, sizeof(*op));
    op->kind = kind;
    op->status = SIM_ST_PENDING;
    op->client = (uint16_t)ci;
    op->key = cmd.key;
    op->a = cmd.a;
    op->b = cmd.b;
    op->call_ev = ++w->ev;
    op->call_us = s->now_us;
    op->index = index;
    op->slot = slot;
    if (++w->key_ops[ks] >= SIM_KEY_OPS_MAX)
        retire_key_slot(w, ks);
    if (kind == SIM_OP_GET) {
        if (nd->n_pr == SIM_PENDING_MAX) /* forget the oldest: its client gave up long ago */
            memmove(&nd->pr[0], &nd->pr[1], (SIM_PENDING_MAX - 1) * sizeof(nd->pr[0])), nd->n_pr--;
        nd->pr[nd->n_pr++] = (sim_pending_read){.op = op_no, .floor = chk_applied_max(s)};
    } else {
        if (nd->n_pw == SIM_PENDING_MAX)
            memmove(&nd->pw[0], &nd->pw[1], (SIM_PENDING_MAX - 1) * sizeof(nd->pw[0])), nd->n_pw--;
        nd->pw[nd->n_pw++] = (sim_pending_write){.index = index, .op = op_no};
    }
    c->busy = true;
    c->op = op_no;
    c->target = slot;
    c->deadline_us = s->now_us + w->timeout_us;
    sim_trace(s, "client %u: op %u %s key %u (%llu, %llu) at node %llu%s", ci, op_no, kind_name(kind), cmd.key,
              (unsigned long long)cmd.a, (unsigned long long)cmd.b, (unsigned long long)nd->id,
              kind == SIM_OP_GET ? "" : " proposed");
    node_drain(s, slot);
    return true;
}

static void invoke(sim *s, uint32_t ci)
{
    int slot = usable_slot(s, s->wl.c[ci].target);
    if (slot < 0)
        s->wl.c[ci].next_us = s->now_us + s->wl.think_max_us;
    else
        (void)invoke_at(s, ci, (uint32_t)slot, 0);
}

void wl_inject_writes(sim *s, uint32_t slot, uint32_t n)
{
    /* The scenarios' client: never stepped, so it never gives up; what it
     * has outstanding at the end counts as unknown. */
    for (uint32_t k = 0; k < n && node_usable(s, slot); k++)
        if (!invoke_at(s, SIM_CLIENTS_MAX - 1, slot, SIM_OP_PUT))
            return;
}

void wl_step(sim *s)
{
    sim_workload *w = &s->wl;
    for (uint32_t i = 0; i < w->n_clients && !s->violated; i++) {
        sim_client *c = &w->c[i];
        if (c->busy) {
            if (s->now_us < c->deadline_us)
                continue;
            sim_op *op = &w->ops[c->op];
            if (op->status == SIM_ST_PENDING) {
                if (op->kind == SIM_OP_GET) {
                    op->status = SIM_ST_FAILED; /* a read nobody answered had no effect */
                    w->failed++;
                } else {
                    op->status = SIM_ST_UNKNOWN;
                    w->unknown++;
                }
                sim_trace(s, "client %u: op %u times out", i, c->op);
            }
            c->busy = false;
            c->next_us = s->now_us + sim_rng_below(&s->rng_wl, (uint64_t)w->think_max_us + 1);
            c->target = (uint32_t)sim_rng_below(&s->rng_wl, s->n_machines);
            continue;
        }
        if (s->now_us >= c->next_us && w->n_ops < SIM_OPS_MAX)
            invoke(s, i);
    }
}

void wl_on_applied(sim *s, uint32_t slot, const tcn_raft_entry *e, const sim_cmd *c, uint64_t result)
{
    sim_node *nd = &s->m[slot];
    for (uint32_t k = 0; k < nd->n_pw; k++) {
        if (nd->pw[k].index != e->index)
            continue;
        uint32_t op_no = nd->pw[k].op;
        nd->pw[k] = nd->pw[--nd->n_pw];
        if (c->op == op_no)
            complete(s, op_no, result, e);
        else
            fail(s, op_no); /* another entry holds that index: ours can never commit */
        return;
    }
}

void wl_on_read(sim *s, uint32_t slot, const tcn_raft_read_result *rr)
{
    sim_node *nd = &s->m[slot];
    for (uint32_t k = 0; k < nd->n_pr; k++) {
        sim_pending_read *p = &nd->pr[k];
        if (p->op != rr->ctx)
            continue;
        if (rr->status != TCN_OK) {
            uint32_t op_no = p->op;
            *p = nd->pr[--nd->n_pr];
            fail(s, op_no);
            return;
        }
        if (rr->index < p->floor)
            sim_violation(s, "read index",
                          "node %llu answered ReadIndex for op %u with index %llu, below index %llu applied somewhere "
                          "before the read was asked",
                          (unsigned long long)nd->id, p->op, (unsigned long long)rr->index,
                          (unsigned long long)p->floor);
        p->index = rr->index;
        p->confirmed = true;
        return;
    }
}

void wl_after_apply(sim *s, uint32_t slot)
{
    sim_node *nd = &s->m[slot];
    for (uint32_t k = 0; k < nd->n_pr;) {
        sim_pending_read *p = &nd->pr[k];
        if (!p->confirmed || p->index > nd->applied) {
            k++;
            continue;
        }
        uint32_t op_no = p->op;
        *p = nd->pr[--nd->n_pr];
        complete(s, op_no, kv_get(&nd->kv, s->wl.ops[op_no].key), NULL);
    }
}

void wl_on_restore(sim *s, uint32_t slot, uint64_t index)
{
    (void)s;
    sim_node *nd = &s->m[slot];
    /* Those entries arrived inside the snapshot: which command is at the
     * index is not known here, so the clients will record unknown. */
    for (uint32_t k = 0; k < nd->n_pw;) {
        if (nd->pw[k].index <= index)
            nd->pw[k] = nd->pw[--nd->n_pw];
        else
            k++;
    }
}

void wl_on_down(sim *s, uint32_t slot)
{
    s->m[slot].n_pw = 0;
    s->m[slot].n_pr = 0;
}

uint64_t wl_liveness_index(const sim *s) { return s->wl.live_index; }

/* --- The final checks --------------------------------------------------------- */

typedef struct op_ref {
    uint32_t key;
    uint32_t op;
    uint64_t call_ev;
} op_ref;

static int cmp_key_call(const void *x, const void *y)
{
    const op_ref *a = x, *b = y;
    if (a->key != b->key)
        return a->key < b->key ? -1 : 1;
    return a->call_ev < b->call_ev ? -1 : a->call_ev > b->call_ev;
}

static void print_history(const sim *s, const uint32_t *idx, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const sim_op *o = &s->wl.ops[idx[i]];
        char what[96];
        if (o->kind == SIM_OP_PUT)
            snprintf(what, sizeof(what), "put(%llu)", (unsigned long long)o->a);
        else if (o->kind == SIM_OP_GET)
            snprintf(what, sizeof(what), "get() -> %llu", (unsigned long long)o->result);
        else
            snprintf(what, sizeof(what), "cas(%llu -> %llu) -> %s", (unsigned long long)o->a,
                     (unsigned long long)o->b, o->status == SIM_ST_OK ? (o->result ? "ok" : "no") : "?");
        if (o->status == SIM_ST_OK)
            printf("  op %u client %u key %u: %-34s call %8.3f s  return %8.3f s  index %llu\n", idx[i], o->client,
                   o->key, what, (double)o->call_us / 1e6, (double)o->ret_us / 1e6, (unsigned long long)o->index);
        else
            printf("  op %u client %u key %u: %-34s call %8.3f s  return unknown (index %llu)\n", idx[i], o->client,
                   o->key, what, (double)o->call_us / 1e6, (unsigned long long)o->index);
    }
}

void wl_final_check(sim *s)
{
    sim_workload *w = &s->wl;
    op_ref *refs = malloc(((size_t)w->n_ops + 1) * sizeof(op_ref));
    uint32_t *idx = malloc(((size_t)w->n_ops + 1) * sizeof(uint32_t));
    TCN_ASSERT(refs != NULL && idx != NULL);
    size_t n = 0;
    for (uint32_t i = 0; i < w->n_ops; i++) {
        sim_op *o = &w->ops[i];
        if (o->status == SIM_ST_PENDING) {
            o->status = o->kind == SIM_OP_GET ? SIM_ST_FAILED : SIM_ST_UNKNOWN;
            if (o->status == SIM_ST_UNKNOWN)
                w->unknown++;
        }
        if (o->status == SIM_ST_OK || o->status == SIM_ST_UNKNOWN)
            refs[n++] = (op_ref){.key = o->key, .op = i, .call_ev = o->call_ev};
    }
    qsort(refs, n, sizeof(op_ref), cmp_key_call);
    for (size_t i = 0; i < n; i++)
        idx[i] = refs[i].op;
    free(refs);
    for (size_t i = 0; i < n && !s->violated;) {
        size_t j = i;
        while (j < n && w->ops[idx[j]].key == w->ops[idx[i]].key)
            j++;
        TCN_ASSERT(j - i <= LIN_OPS_MAX);
        lin_op ops[LIN_OPS_MAX];
        for (size_t k = i; k < j; k++) {
            const sim_op *o = &w->ops[idx[k]];
            ops[k - i] = (lin_op){.kind = o->kind, .unknown = o->status == SIM_ST_UNKNOWN, .a = o->a, .b = o->b,
                                  .result = o->result, .call = o->call_ev, .ret = o->ret_ev};
        }
        uint64_t steps;
        int rc = lin_check_register(ops, j - i, SIM_LIN_BUDGET, &steps);
        s->chk.lin_keys++;
        s->chk.lin_ops += j - i;
        if (rc == LIN_UNKNOWN) {
            s->chk.lin_unknown++;
        } else if (rc == LIN_VIOLATION) {
            printf("history of key %u:\n", w->ops[idx[i]].key);
            print_history(s, idx + i, j - i);
            sim_violation(s, "linearizability", "key %u: its %zu operations (above) have no linearization",
                          w->ops[idx[i]].key, j - i);
        }
        i = j;
    }
    free(idx);
    /* Durability: every acknowledged write is in the log everyone applied,
     * and in the final leader's log. */
    int l = node_leader(s);
    for (uint32_t i = 0; i < w->n_ops && !s->violated; i++) {
        const sim_op *o = &w->ops[i];
        if (o->status != SIM_ST_OK || o->kind == SIM_OP_GET)
            continue;
        const sim_rec *r = o->index < s->chk.rec_cap ? &s->chk.rec[o->index] : NULL;
        if (r == NULL || !r->set || memcmp(r->hash, o->hash, TCN_SHA256_LEN) != 0) {
            sim_violation(s, "durability", "acknowledged write op %u at index %llu is not what was applied there",
                          i, (unsigned long long)o->index);
            break;
        }
        tcn_raft_entry e;
        if (l >= 0 && tcn_raft_entry_at(s->m[l].r, o->index, &e) && memcmp(e.hash, o->hash, TCN_SHA256_LEN) != 0)
            sim_violation(s, "durability", "acknowledged write op %u at index %llu is missing from leader %llu's log",
                          i, (unsigned long long)o->index, (unsigned long long)s->m[l].id);
    }
}
