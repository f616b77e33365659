/* The payout executor's thread. The executor (src/exec) talks to the chain
 * with blocking RPC calls, so it runs beside the event loop, never on it:
 * it reads the applied state under the state's read lock, and its
 * proposals travel to the loop through a queue (the loop alone touches the
 * Raft core). It acts only while the loop says this node is a leader whose
 * state holds an entry of its own term (acting_term), and only for that
 * term: a proposal of an older term is dropped by the loop. */
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

static int lease_latest(void *ctx, uint64_t *slot, tcn_chain_hash *bh, tcn_error *err)
{
    lease_ctx *c = ctx;
    return c->inner.latest(c->inner.ctx, slot, bh, err);
}

static int lease_accounts(void *ctx, const tcn_chain_pubkey *pks, size_t n, tcn_exec_account *out, uint64_t *slot,
                          tcn_error *err)
{
    lease_ctx *c = ctx;
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
    for (;;) {
        pthread_mutex_lock(&n->exec_mu);
        if (!n->exec_stop) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_nsec += (long)NODE_EXEC_INTERVAL_MS * 1000000L;
            if (ts.tv_nsec >= 1000000000L) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000L;
            }
            (void)pthread_cond_timedwait(&n->exec_cv, &n->exec_mu, &ts);
        }
        bool stop = n->exec_stop;
        pthread_mutex_unlock(&n->exec_mu);
        if (stop)
            break;
        uint64_t term = atomic_load(&n->acting_term);
        if (term == 0)
            continue;
        exec_prop_ctx pc = {.n = n, .term = term};
        lease.term = term;
        pthread_rwlock_rdlock(&n->st_lock);
        int rc = TCN_OK;
        if (tcn_state_has_genesis(n->st))
            rc = tcn_exec_step(n->exec, n->st, term, node_wall_ms(), &chain, exec_propose, &pc);
        pthread_rwlock_unlock(&n->st_lock);
        atomic_fetch_add(&n->exec_steps, 1);
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
    pthread_cond_signal(&n->exec_cv);
    pthread_mutex_unlock(&n->exec_mu);
}

void node_exec_stop(tcn_node *n)
{
    if (n->exec_started) {
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
    if (n->exec)
        tcn_exec_free(n->exec);
    n->exec = NULL;
    if (n->port)
        tcn_chain_port_free(n->port);
    n->port = NULL;
}
