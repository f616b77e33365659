/* The payout executor's thread. The executor (src/exec) talks to the chain
 * with blocking RPC calls, so it runs beside the event loop, never on it,
 * and on its own copy of the state: the loop hands it every committed entry
 * (and every snapshot), which it applies before each step — apply is
 * deterministic, so the copy is the committed state, a little behind. Its
 * proposals travel to the loop through a queue (the loop alone touches the
 * Raft core). It acts only while the loop says this node is a leader in
 * some term, and only once its copy holds the first entry of that term the
 * loop saw committed; a proposal of an older term is dropped by the loop.
 * Nothing is shared but the queues, under exec_mu, and a few atomics. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>
#include <sodium.h>

#include "node/node_internal.h"
#include "util/log.h"

/* The executor runs at least this often while acting (ms), and at once when
 * the loop applies something. */
#define NODE_EXEC_INTERVAL_MS 50u
/* Queued proposals above this are dropped (the executor proposes again). */
#define NODE_EXEC_PROPS_MAX 4096u
/* Committed work queued for the executor's copy above this (the thread is
 * stuck in a slow step): the queue is dropped and replaced by one snapshot
 * of the loop's state, so memory stays bounded. */
#define NODE_EXEC_QUEUE_MAX 65536u

static void work_free(node_work *w)
{
    if (w->data != NULL) {
        sodium_memzero(w->data, w->len);
        free(w->data);
    }
    w->data = NULL;
}

static void queue_clear(tcn_node *n)
{
    for (size_t i = 0; i < n->xq_n; i++)
        work_free(&n->xq[i]);
    n->xq_n = 0;
}

static bool queue_push(tcn_node *n, bool snapshot, uint8_t type, uint64_t index, const uint8_t *data, size_t len)
{
    if (n->xq_n == n->xq_cap) {
        size_t cap = n->xq_cap ? 2 * n->xq_cap : 256;
        node_work *q = realloc(n->xq, cap * sizeof(*q));
        if (q == NULL)
            return false;
        n->xq = q;
        n->xq_cap = cap;
    }
    uint8_t *copy = NULL;
    if (len > 0) {
        copy = malloc(len);
        if (copy == NULL)
            return false;
        memcpy(copy, data, len);
    }
    n->xq[n->xq_n++] = (node_work){.snapshot = snapshot, .type = type, .index = index, .data = copy, .len = len};
    return true;
}

/* On the loop, under exec_mu: drops the queue and puts one snapshot of the
 * loop's state in its place. */
static void queue_resync(tcn_node *n)
{
    queue_clear(n);
    tcn_buf b;
    memset(&b, 0, sizeof(b));
    tcn_error err;
    n->xq_resync = true;
    if (tcn_state_snapshot(n->st, &b, &err) == TCN_OK && queue_push(n, true, 0, n->applied_raft, b.p, b.len))
        n->xq_resync = false;
    tcn_buf_free_wipe(&b);
}

/* On the loop: one committed entry (data NULL for NOOP/CONFIG) or snapshot. */
void node_exec_feed(tcn_node *n, bool snapshot, uint8_t type, uint64_t index, const uint8_t *data, size_t len)
{
    if (!n->exec_started)
        return;
    pthread_mutex_lock(&n->exec_mu);
    bool want = atomic_exchange(&n->xresync_wanted, false);
    if (want || n->xq_resync || n->xq_n >= NODE_EXEC_QUEUE_MAX ||
        !queue_push(n, snapshot, type, index, type == TCN_RAFT_ENTRY_NORMAL || snapshot ? data : NULL,
                    type == TCN_RAFT_ENTRY_NORMAL || snapshot ? len : 0))
        queue_resync(n); /* the state already holds this entry: the snapshot covers it */
    pthread_mutex_unlock(&n->exec_mu);
}

/* On the loop, after each drain. */
void node_exec_set_acting(tcn_node *n, uint64_t term, uint64_t applied_index)
{
    if (!n->exec_started)
        return;
    pthread_mutex_lock(&n->exec_mu);
    if (term == 0)
        n->exec_term = 0;
    else if (term != n->exec_term) {
        n->exec_term = term;
        n->exec_min_index = applied_index;
    }
    if (n->xq_resync) /* a resync that ran out of memory: try again */
        queue_resync(n);
    pthread_mutex_unlock(&n->exec_mu);
}

/* On the executor's thread: applies the queue to its copy. False when the
 * copy cannot follow (then it asks the loop for a snapshot). */
static bool copy_apply(tcn_node *n, node_work *q, size_t nq)
{
    bool ok = true;
    for (size_t i = 0; i < nq && ok; i++) {
        node_work *w = &q[i];
        if (w->snapshot) {
            tcn_state *fresh = NULL;
            tcn_error err;
            ok = tcn_state_restore(w->data, w->len, &fresh, &err) == TCN_OK;
            if (ok) {
                tcn_state_free(n->xst);
                n->xst = fresh;
                n->x_applied_raft = w->index;
            }
        } else if (w->type == TCN_RAFT_ENTRY_NORMAL) {
            tcn_state_result res;
            /* An index the copy already holds (a snapshot covered it) is skipped. */
            if (w->index > n->x_applied_raft)
                ok = tcn_state_apply(n->xst, w->index, w->data, w->len, &res) == TCN_OK;
            if (ok && w->index > n->x_applied_raft)
                n->x_applied_raft = w->index;
        } else if (w->index > n->x_applied_raft) {
            n->x_applied_raft = w->index;
        }
    }
    for (size_t i = 0; i < nq; i++)
        work_free(&q[i]);
    if (!ok) {
        tcn_log(TCN_LOG_WARN, "executor: its copy of the state could not follow; asking for a snapshot", NULL);
        atomic_store(&n->xresync_wanted, true);
    }
    return ok;
}

typedef struct exec_prop_ctx {
    tcn_node *n;
    uint64_t term;
} exec_prop_ctx;

/* Called by tcn_exec_step on the executor's thread. */
static int exec_propose(void *ctx, const uint8_t *cmd, size_t len)
{
    exec_prop_ctx *c = ctx;
    tcn_node *n = c->n;
    uint8_t *copy = malloc(len + 8);
    if (copy == NULL)
        return TCN_ERR_NOMEM;
    /* The term travels in front of the command. */
    for (int i = 0; i < 8; i++)
        copy[i] = (uint8_t)(c->term >> (56 - 8 * i));
    memcpy(copy + 8, cmd, len);
    pthread_mutex_lock(&n->exec_mu);
    int rc = TCN_OK;
    if (n->props_n == n->props_cap) {
        size_t cap = n->props_cap ? 2 * n->props_cap : 64;
        node_prop *p = cap <= NODE_EXEC_PROPS_MAX ? realloc(n->props, cap * sizeof(*p)) : NULL;
        if (p == NULL)
            rc = TCN_ERR_BUSY;
        else {
            n->props = p;
            n->props_cap = cap;
        }
    }
    if (rc == TCN_OK)
        n->props[n->props_n++] = (node_prop){.data = copy, .len = len + 8};
    pthread_mutex_unlock(&n->exec_mu);
    if (rc != TCN_OK) {
        sodium_memzero(copy, len + 8);
        free(copy);
        return rc;
    }
    event_active(n->ev_props, EV_READ, 0);
    return TCN_OK;
}

/* On the loop: hands the executor's proposals to the core. */
void node_exec_take_props(tcn_node *n)
{
    pthread_mutex_lock(&n->exec_mu);
    node_prop *props = n->props;
    size_t np = n->props_n;
    n->props = NULL;
    n->props_n = n->props_cap = 0;
    pthread_mutex_unlock(&n->exec_mu);
    for (size_t i = 0; i < np; i++) {
        uint64_t term = 0;
        for (int k = 0; k < 8; k++)
            term = term << 8 | props[i].data[k];
        if (term == n->term && n->role == TCN_RAFT_LEADER && !n->stopping)
            (void)node_propose(n, props[i].data + 8, props[i].len - 8, NULL);
        sodium_memzero(props[i].data, props[i].len);
        free(props[i].data);
    }
    free(props);
}

static void on_props(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    node_exec_take_props(arg);
}

/* The executor's sends go through this lease: bytes leave only while the
 * loop has lately confirmed that this node acts as leader in the step's
 * term. A node paused (SIGSTOP, a stalled VM) past its election timeout
 * resumes with a stale lease, so its executor, which may wake in the
 * middle of a step, sends nothing until the loop has looked again (and by
 * then stepped down). Everything it could send is committed bytes —
 * harmless twice — but a deposed leader should be silent. */
typedef struct lease_ctx {
    tcn_node *n;
    tcn_exec_chain inner;
    uint64_t term;
} lease_ctx;

static bool lease_ok(const lease_ctx *c)
{
    tcn_node *n = c->n;
    uint64_t alive = atomic_load(&n->loop_alive_ms);
    return atomic_load(&n->acting_term) == c->term && node_mono_ms() <= alive + n->cfg.heartbeat_ms;
}

/* Every call fails at once while the node stops or no longer acts in the
 * step's term, so a step with many swaps ends quickly. */
static int lease_gone(const lease_ctx *c, tcn_error *err)
{
    if (atomic_load(&c->n->acting_term) != c->term)
        return tcn_err_set(err, TCN_ERR_NOT_LEADER, "node: no longer acting in term %llu",
                           (unsigned long long)c->term);
    return TCN_OK;
}

static int lease_latest(void *ctx, uint64_t *slot, tcn_chain_hash *bh, tcn_error *err)
{
    lease_ctx *c = ctx;
    TCN_GUARD(lease_gone(c, err));
    return c->inner.latest(c->inner.ctx, slot, bh, err);
}

static int lease_accounts(void *ctx, const tcn_chain_pubkey *pks, size_t n, tcn_exec_account *out, uint64_t *slot,
                          tcn_error *err)
{
    lease_ctx *c = ctx;
    TCN_GUARD(lease_gone(c, err));
    return c->inner.accounts(c->inner.ctx, pks, n, out, slot, err);
}

static int lease_send(void *ctx, const uint8_t *tx, size_t len, tcn_error *err)
{
    lease_ctx *c = ctx;
    if (!lease_ok(c)) {
        atomic_fetch_add(&c->n->sends_refused, 1);
        return tcn_err_set(err, TCN_ERR_NOT_LEADER, "node: not sent: leadership not confirmed lately");
    }
    return c->inner.send(c->inner.ctx, tx, len, err);
}

static int lease_status(void *ctx, const tcn_chain_signature *sig, uint64_t min_slot, tcn_chain_sig_status *out,
                        tcn_error *err)
{
    lease_ctx *c = ctx;
    TCN_GUARD(lease_gone(c, err));
    return c->inner.status(c->inner.ctx, sig, min_slot, out, err);
}

static void *exec_main(void *arg)
{
    tcn_node *n = arg;
    lease_ctx lease = {.n = n};
    tcn_chain_port_table(n->port, &lease.inner);
    tcn_exec_chain chain = {.ctx = &lease, .latest = lease_latest, .accounts = lease_accounts, .send = lease_send,
                            .status = lease_status};
    uint64_t last_error_log = 0;
    bool broken = false;
    for (;;) {
        pthread_mutex_lock(&n->exec_mu);
        if (!n->exec_stop && !n->exec_kicked) {
            struct timespec ts;
            clock_gettime(CLOCK_MONOTONIC, &ts);
            ts.tv_nsec += (long)NODE_EXEC_INTERVAL_MS * 1000000L;
            if (ts.tv_nsec >= 1000000000L) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000L;
            }
            (void)pthread_cond_timedwait(&n->exec_cv, &n->exec_mu, &ts);
        }
        n->exec_kicked = false;
        bool stop = n->exec_stop;
        node_work *q = n->xq;
        size_t nq = n->xq_n;
        n->xq = NULL;
        n->xq_n = n->xq_cap = 0;
        uint64_t term = n->exec_term, min_index = n->exec_min_index;
        pthread_mutex_unlock(&n->exec_mu);
        if (nq > 0) {
            bool had_snapshot = false;
            for (size_t i = 0; i < nq; i++)
                had_snapshot |= q[i].snapshot;
            if (broken && !had_snapshot) {
                for (size_t i = 0; i < nq; i++)
                    work_free(&q[i]);
            } else {
                broken = !copy_apply(n, q, nq);
            }
        }
        free(q);
        if (stop)
            break;
        if (term == 0 || broken || n->x_applied_raft < min_index || !tcn_state_has_genesis(n->xst))
            continue;
        exec_prop_ctx pc = {.n = n, .term = term};
        lease.term = term;
        int rc = tcn_exec_step(n->exec, n->xst, term, node_wall_ms(), &chain, exec_propose, &pc);
        atomic_fetch_add(&n->exec_steps, 1);
        pthread_mutex_lock(&n->exec_mu);
        n->exec_stats = *tcn_exec_stats_of(n->exec);
        pthread_mutex_unlock(&n->exec_mu);
        if (rc != TCN_OK) {
            atomic_fetch_add(&n->exec_errors, 1);
            uint64_t now = node_mono_ms();
            if (now - last_error_log > 5000) {
                last_error_log = now;
                tcn_log(TCN_LOG_WARN, "executor step failed", "error", tcn_err_name(rc), NULL);
            }
        }
    }
    return NULL;
}

int node_exec_start(tcn_node *n, tcn_error *err)
{
    n->ev_props = event_new(n->base, -1, 0, on_props, n);
    if (n->ev_props == NULL)
        return tcn_err_set(err, TCN_ERR_NOMEM, "node: out of memory");
    event_add(n->ev_props, NULL);
    TCN_GUARD(tcn_state_new(&n->xst));
    tcn_exec_options eo;
    tcn_exec_options_default(&eo);
    TCN_GUARD(tcn_exec_new(&eo, &n->exec));
    tcn_chain_port_options po;
    tcn_chain_port_options_default(&po);
    TCN_GUARD(tcn_chain_port_new(n->cfg.chain_rpc, &po, &n->port, err));
    if (pthread_create(&n->exec_thread, NULL, exec_main, n) != 0)
        return tcn_err_set(err, TCN_ERR_IO, "node: cannot start the executor thread");
    n->exec_started = true;
    return TCN_OK;
}

void node_exec_kick(tcn_node *n)
{
    if (!n->exec_started)
        return;
    pthread_mutex_lock(&n->exec_mu);
    n->exec_kicked = true;
    pthread_cond_signal(&n->exec_cv);
    pthread_mutex_unlock(&n->exec_mu);
}

void node_exec_stop(tcn_node *n)
{
    if (n->exec_started) {
        atomic_store(&n->acting_term, 0); /* the step in progress fails its calls at once */
        pthread_mutex_lock(&n->exec_mu);
        n->exec_stop = true;
        pthread_cond_signal(&n->exec_cv);
        pthread_mutex_unlock(&n->exec_mu);
        pthread_join(n->exec_thread, NULL);
        n->exec_started = false;
    }
    for (size_t i = 0; i < n->props_n; i++) {
        sodium_memzero(n->props[i].data, n->props[i].len);
        free(n->props[i].data);
    }
    free(n->props);
    n->props = NULL;
    n->props_n = n->props_cap = 0;
    if (n->ev_props) {
        event_free(n->ev_props);
        n->ev_props = NULL;
    }
    for (size_t i = 0; i < n->xq_n; i++)
        work_free(&n->xq[i]);
    free(n->xq);
    n->xq = NULL;
    n->xq_n = n->xq_cap = 0;
    tcn_state_free(n->xst);
    n->xst = NULL;
    if (n->exec)
        tcn_exec_free(n->exec);
    n->exec = NULL;
    if (n->port)
        tcn_chain_port_free(n->port);
    n->port = NULL;
}
