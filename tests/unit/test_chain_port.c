/* Unit tests for the chain port (src/node/chain_port.c): the real executor (tcn_exec_step) driven
 * through the port over HTTP against the chain model served on 127.0.0.1 (tcn_chain_rpc_server, its
 * slot clock running) — nonce account, refund, a payout landing exactly once, outcome + new refund, the
 * refund landing; then the contract's edges: TCN_ERR_BUSY for a node behind min_slot or behind what the
 * port has read, batches of more than 100 keys at one slot, a dead server (TCN_ERR_IO, quickly, the
 * URL's secrets not shown), garbage answers (MALFORMED), a timeout, a refused send, a status not yet
 * final. The proposals of the executor are applied to a tcn_state by the test: a one-node log. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cmocka.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>

#include "chain/keypair.h"
#include "chain/model.h"
#include "chain/nonce.h"
#include "chain/rent.h"
#include "chain/rpc.h"
#include "chain/rpc_server.h"
#include "chain/system.h"
#include "chain/transaction.h"
#include "exec/exec.h"
#include "node/chain_port.h"
#include "state/cmd.h"
#include "state/state.h"
#include "testlib.h"
#include "util/buf.h"
#include "util/secmem.h"

#define T0 1767225600000ull /* 2026-01-01 */
#define AMOUNT 5000000ull
#define PAYOUT 1200000ull
#define SLOT_MS 20u           /* the served ledger's clock */
#define STEPS_MAX 600         /* executor steps before a test gives up (about 6 s) */
#define CLIENT_TIMEOUT_MS 5000L

static uint64_t now_ms_mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void sleep_ms(unsigned ms) { usleep(ms * 1000u); }

/* ---- the world: a one-node log, the served ledger, the port ---------------------- */

typedef struct world {
    tcn_state *st;
    uint64_t index;
    tcn_buf queue[64]; /* proposed, not yet committed */
    size_t n_queue;
    uint64_t now;
    tcn_chain_model *m; /* the server's while it runs */
    tcn_chain_rpc_server *srv;
    uint16_t port_no;
    char url[64];
    tcn_chain_port *port;
    tcn_exec_chain chain;
    tcn_buf req, ans; /* the test's own RPC client */
    uint64_t id;
    tcn_chain_pubkey op, user, lp, refund_to;
} world;

static void key(tcn_chain_pubkey *k, uint8_t tag)
{
    memset(k->b, 0, sizeof(k->b));
    k->b[0] = tag;
    k->b[31] = 0x5a;
}

static int w_propose(void *ctx, const uint8_t *cmd, size_t len)
{
    world *w = ctx;
    assert_true(w->n_queue < 64);
    tcn_buf *b = &w->queue[w->n_queue++];
    b->len = 0;
    assert_int_equal(tcn_buf_append(b, cmd, len), TCN_OK);
    return TCN_OK;
}

static void apply_tcn(world *w, tcn_cmd *c)
{
    tcn_buf b = {0};
    tcn_state_result res;
    c->ts_ms = w->now;
    assert_int_equal(tcn_cmd_encode(c, &b, NULL), TCN_OK);
    assert_int_equal(tcn_state_apply(w->st, ++w->index, b.p, b.len, &res), TCN_OK);
    if (res.code != TCN_OK)
        fail_msg("apply: %s (%s)", tcn_err_name(res.code), res.reason);
    tcn_buf_free_wipe(&b);
    tcn_cmd_wipe(c);
}

/* Commits (applies) every proposal, in order. */
static size_t commit(world *w)
{
    size_t n = w->n_queue;
    for (size_t i = 0; i < n; i++) {
        tcn_state_result res;
        assert_int_equal(tcn_state_apply(w->st, ++w->index, w->queue[i].p, w->queue[i].len, &res), TCN_OK);
        if (res.code != TCN_OK)
            fail_msg("a proposal of the executor was refused: %s: %s", tcn_err_name(res.code), res.reason);
    }
    w->n_queue = 0;
    return n;
}

static void server_start(world *w, uint16_t port, uint32_t slot_ms)
{
    tcn_error err;
    if (tcn_chain_rpc_server_start_clocked(w->m, "127.0.0.1", port, slot_ms, &w->srv, &w->port_no, &err) != TCN_OK)
        fail_msg("%s", err.msg);
    snprintf(w->url, sizeof(w->url), "http://127.0.0.1:%u/", (unsigned)w->port_no);
}

static void world_init(world *w, uint32_t slot_ms)
{
    memset(w, 0, sizeof(*w));
    tcn_error err;
    assert_int_equal(tcn_state_new(&w->st), TCN_OK);
    assert_int_equal(tcn_chain_model_new("chain port", 10, NULL, &w->m, &err), TCN_OK);
    server_start(w, 0, slot_ms);
    assert_int_equal(tcn_chain_port_new(w->url, NULL, &w->port, &err), TCN_OK);
    tcn_chain_port_table(w->port, &w->chain);
    w->now = T0;
    w->id = 1000;
    key(&w->op, 1);
    key(&w->user, 2);
    key(&w->lp, 3);
    key(&w->refund_to, 4);
}

static void world_free(world *w)
{
    tcn_error err;
    tcn_chain_rpc_server_stop(w->srv);
    /* the model is ours again: nothing created or lost over the whole run */
    assert_int_equal(tcn_chain_model_check_conservation(w->m, &err), TCN_OK);
    tcn_chain_model_free(w->m);
    tcn_chain_port_free(w->port);
    for (size_t i = 0; i < 64; i++)
        tcn_buf_free(&w->queue[i]);
    tcn_buf_free(&w->req);
    tcn_buf_free(&w->ans);
    tcn_state_free(w->st);
}

/* ---- the test's own client (not the port) ---------------------------------------- */

static const char *rpc(world *w)
{
    tcn_error err;
    if (tcn_chain_rpc_call(w->url, &w->req, &w->ans, CLIENT_TIMEOUT_MS, &err) != TCN_OK)
        fail_msg("%s", err.msg);
    w->req.len = 0;
    return (const char *)w->ans.p;
}

static void rpc_airdrop(world *w, const tcn_chain_pubkey *pk, uint64_t lamports)
{
    tcn_chain_signature sig;
    tcn_chain_rpc_error re;
    tcn_error err;
    uint64_t id = ++w->id;
    assert_int_equal(tcn_chain_rpc_request_request_airdrop(&w->req, id, pk, lamports), TCN_OK);
    const char *a = rpc(w);
    assert_int_equal(tcn_chain_rpc_parse_request_airdrop(a, w->ans.len, id, &sig, &re, &err), TCN_OK);
    assert_false(re.present);
}

static uint64_t rpc_balance(world *w, const tcn_chain_pubkey *pk)
{
    uint64_t slot, lamports, id = ++w->id;
    tcn_chain_rpc_error re;
    tcn_error err;
    assert_int_equal(tcn_chain_rpc_request_get_balance(&w->req, id, pk), TCN_OK);
    const char *a = rpc(w);
    assert_int_equal(tcn_chain_rpc_parse_get_balance(a, w->ans.len, id, &slot, &lamports, &re, &err), TCN_OK);
    assert_false(re.present);
    return lamports;
}

/* sendTransaction with preflight: true when it was taken. */
static bool rpc_send(world *w, const uint8_t *tx, size_t len, tcn_chain_rpc_error *re)
{
    tcn_chain_signature sig;
    tcn_error err;
    uint64_t id = ++w->id;
    assert_int_equal(tcn_chain_rpc_request_send_transaction(&w->req, id, tx, len, false), TCN_OK);
    const char *a = rpc(w);
    assert_int_equal(tcn_chain_rpc_parse_send_transaction(a, w->ans.len, id, &sig, re, &err), TCN_OK);
    return !re->present;
}

static tcn_chain_rpc_status rpc_status(world *w, const tcn_chain_signature *sig)
{
    uint64_t slot, id = ++w->id;
    tcn_chain_rpc_status st;
    tcn_chain_rpc_error re;
    tcn_error err;
    assert_int_equal(tcn_chain_rpc_request_get_signature_statuses(&w->req, id, sig, 1), TCN_OK);
    const char *a = rpc(w);
    assert_int_equal(tcn_chain_rpc_parse_get_signature_statuses(a, w->ans.len, id, &slot, &st, 1, &re, &err), TCN_OK);
    assert_false(re.present);
    return st;
}

/* ---- the executor over the port --------------------------------------------------- */

static tcn_swap_view swap(world *w, uint64_t id)
{
    tcn_swap_view v;
    assert_true(tcn_state_swap(w->st, id, &v));
    return v;
}

static void genesis(world *w)
{
    tcn_cmd c;
    memset(&c, 0, sizeof(c));
    c.type = TCN_CMD_GENESIS;
    memset(c.u.genesis.group_id, 7, sizeof(c.u.genesis.group_id));
    memset(c.u.genesis.coordinator_seed, 0x11, 32);
    c.u.genesis.operator_key = w->op;
    apply_tcn(w, &c);
    memset(&c, 0, sizeof(c));
    c.type = TCN_CMD_CLIENT_SET;
    c.actor = w->op;
    c.u.client_set.client = w->user;
    c.u.client_set.role = TCN_ROLE_USER;
    apply_tcn(w, &c);
    rpc_airdrop(w, tcn_state_coordinator_key(w->st), 1000000000ull);
}

static void create_swap(world *w)
{
    tcn_cmd c;
    memset(&c, 0, sizeof(c));
    c.type = TCN_CMD_SWAP_CREATE;
    c.actor = w->user;
    memset(c.u.swap_create.escrow_seed, 0x30, 32);
    memset(c.u.swap_create.nonce_seed, 0x31, 32);
    c.u.swap_create.lp = w->lp;
    c.u.swap_create.refund_to = w->refund_to;
    c.u.swap_create.amount = AMOUNT;
    c.u.swap_create.deadline_ms = T0 + 3600000;
    c.u.swap_create.policy.n_destinations = 1;
    c.u.swap_create.policy.destinations[0] = w->lp;
    apply_tcn(w, &c);
}

static void schedule(world *w, uint64_t swap_id, uint64_t amount, uint64_t due)
{
    tcn_cmd c;
    memset(&c, 0, sizeof(c));
    c.type = TCN_CMD_PAYOUT_SCHEDULE;
    c.actor = w->user;
    c.u.payout_schedule.swap_id = swap_id;
    c.u.payout_schedule.destination = w->lp;
    c.u.payout_schedule.amount = amount;
    c.u.payout_schedule.due_ms = due;
    apply_tcn(w, &c);
}

/* One executor step through the port, then its proposals committed. */
static void step(world *w, tcn_exec *x)
{
    assert_int_equal(tcn_exec_step(x, w->st, 1, w->now, &w->chain, w_propose, w), TCN_OK);
    commit(w);
    w->now += 100;
    sleep_ms(2);
}

typedef bool (*cond_fn)(world *w);

static void run_until(world *w, tcn_exec *x, cond_fn done, const char *what)
{
    for (int i = 0; i < STEPS_MAX; i++) {
        if (done(w))
            return;
        step(w, x);
    }
    tcn_chain_port_stats s;
    tcn_chain_port_stats_get(w->port, &s);
    fail_msg("not reached: %s (port: %llu calls, %llu errors, last \"%s\")", what, (unsigned long long)s.calls,
             (unsigned long long)s.errors, s.last_error);
}

static bool swap_open(world *w) { return swap(w, 1).status == TCN_SWAP_OPEN && swap(w, 1).refund_len > 0; }
static bool swap_funded(world *w) { return swap(w, 1).funded; }
static bool payout_paid(world *w)
{
    tcn_payout_view p;
    return tcn_state_payout(w->st, 1, &p) && p.status == TCN_PAYOUT_PAID && swap(w, 1).intent_payout_id == 0;
}
static bool swap_closed(world *w) { return swap(w, 1).status == TCN_SWAP_CLOSED; }

/* The ledger's current nonce value of the swap, read through the port. */
static tcn_chain_hash ledger_nonce(world *w, uint64_t *slot)
{
    tcn_swap_view v = swap(w, 1);
    tcn_exec_account a;
    tcn_error err;
    assert_int_equal(w->chain.accounts(w->chain.ctx, &v.nonce, 1, &a, slot, &err), TCN_OK);
    assert_true(a.exists && a.nonce_ok);
    assert_true(tcn_chain_pubkey_eq(&a.nonce.authority, tcn_state_coordinator_key(w->st)));
    return a.nonce.durable_nonce;
}

/* The whole life over HTTP: nonce account, first refund, funding, a payout that lands exactly once,
 * outcome + new refund, and that refund landing and emptying the escrow. */
static void test_executor_end_to_end(void **state)
{
    (void)state;
    world w;
    world_init(&w, SLOT_MS);
    genesis(&w);
    tcn_exec *x;
    assert_int_equal(tcn_exec_new(NULL, &x), TCN_OK);

    create_swap(&w);
    run_until(&w, x, swap_open, "nonce account created, first refund committed");
    tcn_swap_view v = swap(&w, 1);
    uint64_t slot;
    tcn_chain_hash value = ledger_nonce(&w, &slot);
    assert_true(tcn_chain_hash_eq(&value, &v.nonce_value));

    rpc_airdrop(&w, &v.escrow, AMOUNT); /* the user funds the escrow, holding its refund */
    run_until(&w, x, swap_funded, "funding observed");
    assert_int_equal(swap(&w, 1).escrow_lamports, AMOUNT);

    schedule(&w, 1, PAYOUT, T0);
    run_until(&w, x, payout_paid, "payout landed and its outcome committed");
    tcn_payout_view p;
    assert_true(tcn_state_payout(w.st, 1, &p));
    tcn_chain_rpc_status st = rpc_status(&w, &p.sig);
    assert_true(st.found);
    assert_int_equal(st.err.kind, TCN_CHAIN_TX_OK);
    assert_int_equal(rpc_balance(&w, &w.lp), PAYOUT);
    v = swap(&w, 1);
    assert_int_equal(v.escrow_lamports, AMOUNT - PAYOUT - TCN_STATE_TX_FEE);
    assert_int_equal(rpc_balance(&w, &v.escrow), v.escrow_lamports);
    assert_true(v.refund_len > 0);

    /* The new refund is bound to the ledger's current nonce value. */
    value = ledger_nonce(&w, &slot);
    assert_true(tcn_chain_hash_eq(&value, &v.nonce_value));
    tcn_chain_tx tx;
    tcn_error err;
    assert_int_equal(tcn_chain_tx_decode(v.refund, v.refund_len, &tx, &err), TCN_OK);
    assert_true(tcn_chain_hash_eq(&tx.msg.recent_blockhash, &value));

    /* More steps (time passing, resends due): the payout never lands twice. */
    for (int i = 0; i < 30; i++)
        step(&w, x);
    assert_int_equal(rpc_balance(&w, &w.lp), PAYOUT);

    /* The refund lands (once the slot after the payout's has begun: a nonce
     * advances at most once per slot), leaving the rent-exempt reserve in
     * the escrow (docs/STATE.md "The reserve and the sweep"); the leader
     * then sweeps the reserve to refund_to, paying the fee itself. */
    uint8_t refund[TCN_CHAIN_PACKET_BYTES_MAX];
    size_t refund_len = v.refund_len;
    memcpy(refund, v.refund, refund_len);
    tcn_chain_rpc_error re;
    bool landed = false;
    for (int i = 0; i < 200 && !landed; i++) {
        landed = rpc_send(&w, refund, refund_len, &re);
        if (!landed) {
            assert_true(re.has_tx_err);
            assert_int_equal(re.tx_err.kind, TCN_CHAIN_TXERR_BLOCKHASH_NOT_FOUND);
            sleep_ms(SLOT_MS / 2);
        }
    }
    assert_true(landed);
    const uint64_t reserve = tcn_chain_rent_minimum_balance(0);
    assert_int_equal(rpc_balance(&w, &v.escrow), reserve);
    assert_int_equal(rpc_balance(&w, &w.refund_to), v.escrow_lamports - reserve - TCN_STATE_TX_FEE);
    run_until(&w, x, swap_closed, "the reserve swept and the emptied escrow observed");
    assert_int_equal(rpc_balance(&w, &v.escrow), 0);
    assert_int_equal(rpc_balance(&w, &w.refund_to), v.escrow_lamports - TCN_STATE_TX_FEE);
    assert_int_equal(swap(&w, 1).refund_len, 0);
    assert_int_equal(rpc_balance(&w, &w.lp), PAYOUT); /* once, still */

    const tcn_exec_stats *xs = tcn_exec_stats_of(x);
    assert_true(xs->sent >= 2); /* the nonce creation and the payout */
    tcn_chain_port_stats ps;
    tcn_chain_port_stats_get(w.port, &ps);
    assert_true(ps.calls > 10);
    assert_true(ps.highest_slot > 0);
    assert_true(ps.highest_slot <= 1000000); /* plausible */
    tcn_exec_free(x);
    world_free(&w);
}

/* min_slot above the node's slot: TCN_ERR_BUSY (the server's -32016), named; and a node behind what
 * the port has already read (a load balancer switching to a lagging node): BUSY, never an older answer. */
static void test_busy(void **state)
{
    (void)state;
    world w;
    world_init(&w, 0); /* no clock: the test moves the slots */
    tcn_error err;
    tcn_chain_sig_status st;
    tcn_chain_signature sig;
    memset(&sig, 0x42, sizeof(sig));
    assert_int_equal(w.chain.status(w.chain.ctx, &sig, 1000000, &st, &err), TCN_ERR_BUSY);
    assert_non_null(strstr(err.msg, "chain: getSignatureStatuses: node behind: at slot 0, minContextSlot 1000000"));
    /* at the node's slot it answers: unknown */
    assert_int_equal(w.chain.status(w.chain.ctx, &sig, 0, &st, &err), TCN_OK);
    assert_int_equal(st.state, TCN_CHAIN_SIG_UNKNOWN);

    /* the port reads slot 10 ... */
    tcn_chain_rpc_server_stop(w.srv);
    for (int i = 0; i < 10; i++)
        tcn_chain_model_advance_slot(w.m);
    server_start(&w, w.port_no, 0);
    tcn_chain_pubkey pk;
    key(&pk, 9);
    tcn_exec_account a;
    uint64_t slot;
    assert_int_equal(w.chain.accounts(w.chain.ctx, &pk, 1, &a, &slot, &err), TCN_OK);
    assert_int_equal(slot, 10);
    assert_false(a.exists);
    /* ... then the same URL answers from a node at slot 3 */
    tcn_chain_rpc_server_stop(w.srv);
    tcn_chain_model *lagging;
    assert_int_equal(tcn_chain_model_new("lagging", 7, NULL, &lagging, &err), TCN_OK);
    for (int i = 0; i < 3; i++)
        tcn_chain_model_advance_slot(lagging);
    tcn_chain_model *m = w.m;
    w.m = lagging;
    server_start(&w, w.port_no, 0);
    assert_int_equal(w.chain.accounts(w.chain.ctx, &pk, 1, &a, &slot, &err), TCN_ERR_BUSY);
    assert_non_null(strstr(err.msg, "chain: getMultipleAccounts: node behind: at slot 3, minContextSlot 10"));
    uint64_t ls;
    tcn_chain_hash bh;
    assert_int_equal(w.chain.latest(w.chain.ctx, &ls, &bh, &err), TCN_ERR_BUSY);
    assert_non_null(strstr(err.msg, "chain: getSlot: node behind"));
    tcn_chain_port_stats ps;
    tcn_chain_port_stats_get(w.port, &ps);
    assert_int_equal(ps.busy, 3);
    assert_int_equal(ps.errors, 3);
    assert_int_equal(ps.highest_slot, 10);
    assert_non_null(strstr(ps.last_error, "getSlot: node behind"));
    tcn_chain_rpc_server_stop(w.srv);
    tcn_chain_model_free(lagging);
    w.m = m;
    server_start(&w, w.port_no, 0);
    world_free(&w);
}

/* More than 100 keys: batches answered for one slot (the model's server without a clock), in order. */
static void test_batches(void **state)
{
    (void)state;
    world w;
    world_init(&w, 0);
    enum { N = 250 };
    tcn_chain_pubkey pks[N];
    tcn_exec_account out[N];
    for (int i = 0; i < N; i++) {
        memset(pks[i].b, 0, sizeof(pks[i].b));
        pks[i].b[0] = 0x70;
        pks[i].b[1] = (uint8_t)i;
        pks[i].b[2] = (uint8_t)(i >> 8);
    }
    rpc_airdrop(&w, &pks[0], 1000000);
    rpc_airdrop(&w, &pks[150], 2000000);
    rpc_airdrop(&w, &pks[N - 1], 3000000);
    tcn_error err;
    uint64_t slot;
    tcn_chain_port_stats before, after;
    tcn_chain_port_stats_get(w.port, &before);
    assert_int_equal(w.chain.accounts(w.chain.ctx, pks, N, out, &slot, &err), TCN_OK);
    tcn_chain_port_stats_get(w.port, &after);
    assert_int_equal(after.calls - before.calls, 3);
    assert_int_equal(slot, 0);
    for (int i = 0; i < N; i++) {
        bool funded = i == 0 || i == 150 || i == N - 1;
        assert_int_equal(out[i].exists, funded);
        assert_false(out[i].nonce_ok);
    }
    assert_int_equal(out[150].lamports, 2000000);
    assert_int_equal(out[N - 1].lamports, 3000000);
    assert_int_equal(w.chain.accounts(w.chain.ctx, pks, 0, out, &slot, &err), TCN_ERR_USAGE);
    assert_int_equal(w.chain.accounts(w.chain.ctx, pks, TCN_CHAIN_PORT_ACCOUNTS_MAX + 1, out, &slot, &err),
                     TCN_ERR_USAGE);
    world_free(&w);
}

/* A nonce account read through the port: nonce_ok only for an initialized, System-owned, 80-byte state. */
static void test_nonce_accounts(void **state)
{
    (void)state;
    world w;
    world_init(&w, 0);
    tcn_chain_rpc_server_stop(w.srv);
    tcn_chain_nonce_state ns;
    memset(&ns, 0, sizeof(ns));
    ns.version = TCN_CHAIN_NONCE_VERSION_CURRENT;
    ns.state = TCN_CHAIN_NONCE_INITIALIZED;
    key(&ns.authority, 0x21);
    memset(ns.durable_nonce.b, 0x33, sizeof(ns.durable_nonce.b));
    ns.lamports_per_signature = 5000;
    uint8_t data[TCN_CHAIN_NONCE_ACCOUNT_BYTES + 1];
    assert_int_equal(tcn_chain_nonce_serialize(&ns, data, sizeof(data)), TCN_CHAIN_NONCE_ACCOUNT_BYTES);
    tcn_chain_pubkey pks[4], other_owner;
    for (int i = 0; i < 4; i++)
        key(&pks[i], (uint8_t)(0x40 + i));
    key(&other_owner, 0x55);
    tcn_error err;
    assert_int_equal(tcn_chain_model_set_account(w.m, &pks[0], 1447680, NULL, data, TCN_CHAIN_NONCE_ACCOUNT_BYTES,
                                                 &err),
                     TCN_OK);
    assert_int_equal(tcn_chain_model_set_account(w.m, &pks[1], 1447680, &other_owner, data,
                                                 TCN_CHAIN_NONCE_ACCOUNT_BYTES, &err),
                     TCN_OK);
    data[TCN_CHAIN_NONCE_ACCOUNT_BYTES] = 0;
    assert_int_equal(tcn_chain_model_set_account(w.m, &pks[2], 1447680, NULL, data, TCN_CHAIN_NONCE_ACCOUNT_BYTES + 1,
                                                 &err),
                     TCN_OK);
    server_start(&w, w.port_no, 0);
    tcn_exec_account out[4];
    uint64_t slot;
    assert_int_equal(w.chain.accounts(w.chain.ctx, pks, 4, out, &slot, &err), TCN_OK);
    assert_true(out[0].exists && out[0].nonce_ok);
    assert_true(tcn_chain_hash_eq(&out[0].nonce.durable_nonce, &ns.durable_nonce));
    assert_true(tcn_chain_pubkey_eq(&out[0].nonce.authority, &ns.authority));
    assert_int_equal(out[0].lamports, 1447680);
    assert_true(out[1].exists && !out[1].nonce_ok); /* not the System program's */
    assert_true(out[2].exists && !out[2].nonce_ok); /* 81 bytes: not the strict layout */
    assert_false(out[3].exists || out[3].nonce_ok);
    world_free(&w);
}

/* A dead server: TCN_ERR_IO within a fraction of the timeout, naming the method and "connect", and the
 * URL's path and query (where providers put API keys) are not shown. */
static void test_dead_server(void **state)
{
    (void)state;
    tcn_chain_model *m;
    tcn_chain_rpc_server *s;
    uint16_t port;
    tcn_error err;
    assert_int_equal(tcn_chain_model_new("dead", 4, NULL, &m, &err), TCN_OK);
    assert_int_equal(tcn_chain_rpc_server_start(m, "127.0.0.1", 0, &s, &port, &err), TCN_OK);
    tcn_chain_rpc_server_stop(s);
    tcn_chain_model_free(m);
    char url[128];
    snprintf(url, sizeof(url), "http://user:pw@127.0.0.1:%u/v1/SECRETKEY?api-key=SECRET", (unsigned)port);
    tcn_chain_port *p;
    assert_int_equal(tcn_chain_port_new(url, NULL, &p, &err), TCN_OK);
    tcn_exec_chain c;
    tcn_chain_port_table(p, &c);
    uint64_t t = now_ms_mono(), slot;
    tcn_chain_hash bh;
    assert_int_equal(c.latest(c.ctx, &slot, &bh, &err), TCN_ERR_IO);
    assert_true(now_ms_mono() - t < 1000);
    assert_non_null(strstr(err.msg, "chain: getSlot: rpc http://127.0.0.1:"));
    assert_non_null(strstr(err.msg, "connect"));
    assert_null(strstr(err.msg, "SECRET"));
    assert_null(strstr(err.msg, "pw"));
    tcn_chain_port_stats ps;
    tcn_chain_port_stats_get(p, &ps);
    assert_int_equal(ps.errors, 1);
    assert_null(strstr(ps.last_error, "SECRET"));
    /* without an error struct: the same code, and the counters still get the words */
    assert_int_equal(c.latest(c.ctx, &slot, &bh, NULL), TCN_ERR_IO);
    tcn_chain_port_stats_get(p, &ps);
    assert_int_equal(ps.errors, 2);
    assert_non_null(strstr(ps.last_error, "chain: getSlot: rpc http://127.0.0.1:"));
    uint8_t junk[4] = {1, 2, 3, 4};
    assert_int_not_equal(c.send(c.ctx, junk, sizeof(junk), &err), TCN_OK); /* refused before anything is sent */
    assert_non_null(strstr(err.msg, "chain: sendTransaction: not a transaction"));
    tcn_chain_port_free(p);

    /* the options and the URL are checked */
    tcn_chain_port_options o;
    tcn_chain_port_options_default(&o);
    assert_int_equal(o.timeout_ms, 2000);
    assert_int_equal(o.commitment, TCN_CHAIN_COMMITMENT_FINALIZED);
    assert_int_equal(tcn_chain_port_new("ftp://x/", NULL, &p, &err), TCN_ERR_USAGE);
    assert_non_null(strstr(err.msg, "http://"));
    o.timeout_ms = 0;
    assert_int_equal(tcn_chain_port_new("http://127.0.0.1:1/", &o, &p, &err), TCN_ERR_USAGE);
    assert_non_null(strstr(err.msg, "timeout_ms"));
    tcn_chain_port_options_default(&o);
    o.batch_tries = 0;
    assert_int_equal(tcn_chain_port_new("http://127.0.0.1:1/", &o, &p, &err), TCN_ERR_USAGE);
    tcn_chain_port_options_default(&o);
    o.commitment = (tcn_chain_commitment)9;
    assert_int_equal(tcn_chain_port_new("http://127.0.0.1:1/", &o, &p, &err), TCN_ERR_USAGE);
}

/* ---- a scripted server: answers what a test tells it to ----------------------------- */

typedef enum {
    FAKE_GARBAGE,       /* 200 with text that is not JSON */
    FAKE_LOW_SLOT,      /* ignores minContextSlot and answers for slot 1 */
    FAKE_CONFIRMED,     /* a status found, but only "confirmed" */
    FAKE_SEND_REFUSED,  /* sendTransaction: a JSON-RPC error */
    FAKE_SLOT_DRIFT,    /* every answer for a new slot */
    FAKE_SILENT,        /* never answers */
    FAKE_OTHER_SIG,     /* sendTransaction answers another signature */
} fake_mode;

typedef struct fake {
    struct event_base *base;
    struct evhttp *http;
    struct event *stop_ev;
    int pipe[2];
    pthread_t th;
    uint16_t port;
    fake_mode mode;
    atomic_uint calls;
} fake;

static void fake_reply(struct evhttp_request *req, const char *body)
{
    evbuffer_add(evhttp_request_get_output_buffer(req), body, strlen(body));
    evhttp_send_reply(req, 200, "OK", NULL);
}

static void fake_on_request(struct evhttp_request *req, void *arg)
{
    fake *f = arg;
    unsigned n_call = atomic_fetch_add(&f->calls, 1);
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    size_t len = evbuffer_get_length(in);
    json_error_t je;
    json_t *r = json_loadb((const char *)evbuffer_pullup(in, -1), len, 0, &je);
    long long id = r ? json_integer_value(json_object_get(r, "id")) : 0;
    const char *method = r ? json_string_value(json_object_get(r, "method")) : "";
    const json_t *p0 = r ? json_array_get(json_object_get(r, "params"), 0) : NULL;
    size_t n = json_is_array(p0) ? json_array_size(p0) : 1;
    char body[8192];
    char nulls[1024] = "";
    for (size_t i = 0; i < n && i < 200; i++)
        strcat(nulls, i ? ",null" : "null");
    switch (f->mode) {
    case FAKE_GARBAGE:
        snprintf(body, sizeof(body), "hello, this is not JSON");
        break;
    case FAKE_LOW_SLOT:
        if (strcmp(method, "getSlot") == 0)
            snprintf(body, sizeof(body), "{\"jsonrpc\":\"2.0\",\"result\":1,\"id\":%lld}", id);
        else
            snprintf(body, sizeof(body), "{\"jsonrpc\":\"2.0\",\"result\":{\"context\":{\"slot\":1},\"value\":[%s]},"
                     "\"id\":%lld}", nulls, id);
        break;
    case FAKE_CONFIRMED:
        snprintf(body, sizeof(body),
                 "{\"jsonrpc\":\"2.0\",\"result\":{\"context\":{\"slot\":100},\"value\":[{\"slot\":95,"
                 "\"confirmations\":5,\"err\":null,\"status\":{\"Ok\":null},\"confirmationStatus\":\"confirmed\"}]},"
                 "\"id\":%lld}",
                 id);
        break;
    case FAKE_SEND_REFUSED:
        snprintf(body, sizeof(body),
                 "{\"jsonrpc\":\"2.0\",\"error\":{\"code\":-32002,\"message\":\"Transaction simulation failed: "
                 "Blockhash not found\",\"data\":{\"err\":\"BlockhashNotFound\",\"logs\":[]}},\"id\":%lld}",
                 id);
        break;
    case FAKE_SLOT_DRIFT:
        snprintf(body, sizeof(body),
                 "{\"jsonrpc\":\"2.0\",\"result\":{\"context\":{\"slot\":%u},\"value\":[%s]},\"id\":%lld}",
                 100 + n_call, nulls, id);
        break;
    case FAKE_SILENT:
        json_decref(r);
        return; /* evhttp frees the request with the connection */
    case FAKE_OTHER_SIG:
        snprintf(body, sizeof(body),
                 "{\"jsonrpc\":\"2.0\",\"result\":\"%s\",\"id\":%lld}",
                 "5VERv8NMvzbJMEkV8xnrLkEaWRtSz9CosKDYjCJjBRnbJLgp8uirBgmQpjKhoR4tjF3ZpRzrFmBV6UjKdiSZkQUW", id);
        break;
    }
    json_decref(r);
    fake_reply(req, body);
}

static void fake_on_stop(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    event_base_loopbreak(arg);
}

static void *fake_run(void *arg)
{
    fake *f = arg;
    event_base_dispatch(f->base);
    return NULL;
}

static void fake_start(fake *f, fake_mode mode)
{
    memset(f, 0, sizeof(*f));
    f->mode = mode;
    assert_int_equal(pipe(f->pipe), 0);
    f->base = event_base_new();
    assert_non_null(f->base);
    f->http = evhttp_new(f->base);
    assert_non_null(f->http);
    f->stop_ev = event_new(f->base, f->pipe[0], EV_READ, fake_on_stop, f->base);
    assert_int_equal(event_add(f->stop_ev, NULL), 0);
    evhttp_set_gencb(f->http, fake_on_request, f);
    struct evhttp_bound_socket *bs = evhttp_bind_socket_with_handle(f->http, "127.0.0.1", 0);
    assert_non_null(bs);
    struct sockaddr_in sa;
    socklen_t sl = sizeof(sa);
    assert_int_equal(getsockname(evhttp_bound_socket_get_fd(bs), (struct sockaddr *)&sa, &sl), 0);
    f->port = ntohs(sa.sin_port);
    assert_int_equal(pthread_create(&f->th, NULL, fake_run, f), 0);
}

static void fake_stop(fake *f)
{
    char b = 1;
    assert_int_equal(write(f->pipe[1], &b, 1), 1);
    pthread_join(f->th, NULL);
    event_free(f->stop_ev);
    evhttp_free(f->http);
    event_base_free(f->base);
    close(f->pipe[0]);
    close(f->pipe[1]);
}

static tcn_chain_port *fake_port(const fake *f, uint32_t timeout_ms, tcn_exec_chain *c)
{
    char url[64];
    tcn_chain_port_options o;
    tcn_chain_port *p;
    tcn_error err;
    tcn_chain_port_options_default(&o);
    o.timeout_ms = timeout_ms;
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/", (unsigned)f->port);
    assert_int_equal(tcn_chain_port_new(url, &o, &p, &err), TCN_OK);
    tcn_chain_port_table(p, c);
    return p;
}

static void expect(int rc, const tcn_error *err, int code, const char *needle)
{
    if (rc != code || strstr(err->msg, needle) == NULL)
        fail_msg("got %s \"%s\", want %s with \"%s\"", tcn_err_name(rc), err->msg, tcn_err_name(code), needle);
}

/* A signed transaction for send (any valid one will do). */
static size_t some_tx(uint8_t *out)
{
    uint8_t seed[TCN_CHAIN_SEED_LEN];
    tcn_chain_keypair *kp;
    tcn_error err;
    memset(seed, 0x61, sizeof(seed));
    assert_int_equal(tcn_chain_keypair_from_seed(seed, &kp, &err), TCN_OK);
    tcn_chain_ix ix;
    tcn_chain_message msg;
    tcn_chain_tx tx;
    tcn_chain_hash bh;
    tcn_chain_pubkey to;
    memset(bh.b, 0x12, sizeof(bh.b));
    key(&to, 0x13);
    tcn_chain_system_transfer(&ix, tcn_chain_keypair_pubkey(kp), &to, 1000);
    assert_int_equal(tcn_chain_message_compile(tcn_chain_keypair_pubkey(kp), &bh, &ix, 1, &msg, &err), TCN_OK);
    tcn_chain_tx_init(&tx, &msg);
    assert_int_equal(tcn_chain_tx_sign(&tx, (const tcn_chain_keypair *const[]){kp}, 1, &err), TCN_OK);
    tcn_chain_keypair_free(kp);
    tcn_buf b = {0};
    assert_int_equal(tcn_chain_tx_encode(&tx, &b, &err), TCN_OK);
    size_t len = b.len;
    memcpy(out, b.p, len);
    tcn_buf_free(&b);
    return len;
}

static void test_misbehaving_servers(void **state)
{
    (void)state;
    fake f;
    tcn_exec_chain c;
    tcn_error err;
    uint64_t slot;
    tcn_chain_hash bh;
    tcn_chain_pubkey pks[150];
    tcn_exec_account out[150];
    tcn_chain_sig_status st;
    tcn_chain_signature sig;
    memset(pks, 0, sizeof(pks));
    memset(&sig, 0x42, sizeof(sig));
    uint8_t tx[TCN_CHAIN_PACKET_BYTES_MAX];
    size_t tx_len = some_tx(tx);

    /* garbage: MALFORMED, naming the method and what is wrong */
    fake_start(&f, FAKE_GARBAGE);
    tcn_chain_port *p = fake_port(&f, 2000, &c);
    expect(c.latest(c.ctx, &slot, &bh, &err), &err, TCN_ERR_MALFORMED, "chain: getSlot: rpc: not JSON");
    expect(c.accounts(c.ctx, pks, 2, out, &slot, &err), &err, TCN_ERR_MALFORMED,
           "chain: getMultipleAccounts: rpc: not JSON");
    expect(c.status(c.ctx, &sig, 0, &st, &err), &err, TCN_ERR_MALFORMED, "chain: getSignatureStatuses: rpc: not JSON");
    expect(c.send(c.ctx, tx, tx_len, &err), &err, TCN_ERR_MALFORMED, "chain: sendTransaction: rpc: not JSON");
    tcn_chain_port_free(p);
    fake_stop(&f);

    /* a node that ignores minContextSlot and answers for an older slot: BUSY all the same */
    fake_start(&f, FAKE_LOW_SLOT);
    p = fake_port(&f, 2000, &c);
    expect(c.status(c.ctx, &sig, 50, &st, &err), &err, TCN_ERR_BUSY,
           "chain: getSignatureStatuses: answered for slot 1, below minContextSlot 50");
    assert_int_equal(c.status(c.ctx, &sig, 1, &st, &err), TCN_OK);
    assert_int_equal(st.state, TCN_CHAIN_SIG_UNKNOWN);
    tcn_chain_port_free(p);
    fake_stop(&f);

    /* found, but not yet at the port's commitment (finalized): BUSY — neither unknown nor landed */
    fake_start(&f, FAKE_CONFIRMED);
    p = fake_port(&f, 2000, &c);
    expect(c.status(c.ctx, &sig, 0, &st, &err), &err, TCN_ERR_BUSY, "landed in slot 95, confirmed, not yet finalized");
    tcn_chain_port_free(p);
    fake_stop(&f);

    /* a refused send: an error with the node's code and words (the fate comes from status) */
    fake_start(&f, FAKE_SEND_REFUSED);
    p = fake_port(&f, 2000, &c);
    expect(c.send(c.ctx, tx, tx_len, &err), &err, TCN_ERR_IO,
           "chain: sendTransaction: refused: -32002 Transaction simulation failed: Blockhash not found");
    tcn_chain_port_free(p);
    fake_stop(&f);

    /* a send answered with another transaction's signature */
    fake_start(&f, FAKE_OTHER_SIG);
    p = fake_port(&f, 2000, &c);
    expect(c.send(c.ctx, tx, tx_len, &err), &err, TCN_ERR_MALFORMED, "not the transaction's signature");
    tcn_chain_port_free(p);
    fake_stop(&f);

    /* batches that never agree on a slot: retried, then BUSY */
    fake_start(&f, FAKE_SLOT_DRIFT);
    p = fake_port(&f, 2000, &c);
    expect(c.accounts(c.ctx, pks, 150, out, &slot, &err), &err, TCN_ERR_BUSY,
           "no slot answered for all of them (3 tries");
    assert_int_equal(atomic_load(&f.calls), 6);
    tcn_chain_port_free(p);
    fake_stop(&f);

    /* silence: a timeout, after about the configured time */
    fake_start(&f, FAKE_SILENT);
    p = fake_port(&f, 200, &c);
    uint64_t t = now_ms_mono();
    expect(c.accounts(c.ctx, pks, 1, out, &slot, &err), &err, TCN_ERR_IO, "chain: getMultipleAccounts: rpc");
    assert_non_null(strstr(err.msg, "timeout"));
    uint64_t took = now_ms_mono() - t;
    assert_true(took >= 150 && took < 2000);
    tcn_chain_port_free(p);
    fake_stop(&f);
}

int main(void)
{
    tcn_error err;
    if (tcn_crypto_init() != TCN_OK)
        return 1;
    if (tcn_chain_rpc_http_global_init(&err) != TCN_OK) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_executor_end_to_end), cmocka_unit_test(test_busy),
        cmocka_unit_test(test_batches),             cmocka_unit_test(test_nonce_accounts),
        cmocka_unit_test(test_dead_server),         cmocka_unit_test(test_misbehaving_servers),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    tcn_chain_rpc_http_global_cleanup();
    return rc;
}
