/* Unit tests for the payout executor (src/exec) against the chain model: the whole life of a swap, the
 * release rule (bytes leave only once their intent is committed), resumption by a new leader at every
 * crash point, a refund that beats a payout, and chain failures. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "chain/model.h"
#include "chain/nonce.h"
#include "chain/rent.h"
#include "chain/transaction.h"
#include "exec/exec.h"
#include "state/cmd.h"
#include "state/state.h"
#include "util/buf.h"
#include "util/secmem.h"

#define T0 1767225600000ull /* 2026-01-01 */
#define AMOUNT 5000000ull

/* The world: one state (the committed log applies to it when we say so),
 * a queue of proposed commands not yet committed, and the chain model. */
typedef struct world {
    tcn_state *st;
    uint64_t index;
    tcn_chain_model *chain;
    tcn_buf queue[64]; /* proposed, not yet committed */
    size_t n_queue;
    bool chain_down;
    uint64_t status_lag; /* slots the status answers lag behind */
    size_t sends;
    /* every transaction the executor sent, in order */
    uint8_t sent[64][TCN_CHAIN_PACKET_BYTES_MAX];
    size_t sent_len[64];
    uint64_t now;
    tcn_chain_pubkey op, user, lp, refund_to;
} world;

static int w_latest(void *ctx, uint64_t *slot, tcn_chain_hash *bh, tcn_error *err)
{
    world *w = ctx;
    if (w->chain_down)
        return tcn_err_set(err, TCN_ERR_IO, "down");
    uint64_t lv;
    tcn_chain_model_latest_blockhash(w->chain, bh, &lv);
    *slot = tcn_chain_model_slot(w->chain);
    return TCN_OK;
}

static int w_accounts(void *ctx, const tcn_chain_pubkey *pks, size_t n, tcn_exec_account *out, uint64_t *slot,
                      tcn_error *err)
{
    world *w = ctx;
    if (w->chain_down)
        return tcn_err_set(err, TCN_ERR_IO, "down");
    for (size_t i = 0; i < n; i++) {
        memset(&out[i], 0, sizeof(out[i]));
        tcn_chain_account_view v;
        if (!tcn_chain_model_get_account(w->chain, &pks[i], &v))
            continue;
        out[i].exists = true;
        out[i].lamports = v.lamports;
        out[i].nonce_ok = tcn_chain_nonce_parse(v.data, v.data_len, true, &out[i].nonce, NULL) == TCN_OK;
    }
    *slot = tcn_chain_model_slot(w->chain);
    return TCN_OK;
}

/* Sends reach the chain only when the test delivers them (w_deliver). */
static int w_send(void *ctx, const uint8_t *tx, size_t len, tcn_error *err)
{
    world *w = ctx;
    if (w->chain_down)
        return tcn_err_set(err, TCN_ERR_IO, "down");
    assert_true(w->sends < 64);
    memcpy(w->sent[w->sends], tx, len);
    w->sent_len[w->sends++] = len;
    return TCN_OK;
}

/* status_lag: the status answers come from a node that many slots behind
 * (it refuses, as minContextSlot makes a real node do, to answer for a slot
 * it has not reached). */
static int w_status(void *ctx, const tcn_chain_signature *sig, uint64_t min_slot, tcn_chain_sig_status *out,
                    tcn_error *err)
{
    world *w = ctx;
    if (w->chain_down)
        return tcn_err_set(err, TCN_ERR_IO, "down");
    uint64_t at = tcn_chain_model_slot(w->chain);
    at = at > w->status_lag ? at - w->status_lag : 0;
    if (at < min_slot)
        return tcn_err_set(err, TCN_ERR_BUSY, "behind");
    tcn_chain_model_signature_status(w->chain, sig, out);
    if (out->state != TCN_CHAIN_SIG_UNKNOWN && out->slot > at)
        memset(out, 0, sizeof(*out)); /* landed after what this node has seen */
    return TCN_OK;
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

static const tcn_exec_chain PORT = {.latest = w_latest, .accounts = w_accounts, .send = w_send, .status = w_status};

static tcn_exec_chain port(world *w)
{
    tcn_exec_chain c = PORT;
    c.ctx = w;
    return c;
}

static void apply_cmd(world *w, const uint8_t *p, size_t len, int want)
{
    tcn_state_result res;
    assert_int_equal(tcn_state_apply(w->st, ++w->index, p, len, &res), TCN_OK);
    if (res.code != want)
        fail_msg("apply: %s (%s), wanted %s", tcn_err_name(res.code), res.reason, tcn_err_name(want));
}

static void apply_tcn(world *w, tcn_cmd *c, int want)
{
    tcn_buf b = {0};
    c->ts_ms = w->now;
    assert_int_equal(tcn_cmd_encode(c, &b, NULL), TCN_OK);
    apply_cmd(w, b.p, b.len, want);
    tcn_buf_free_wipe(&b);
    tcn_cmd_wipe(c);
}

/* Commits (applies) every queued proposal, in order; returns how many. */
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

/* Loses every queued proposal (the leader died before they committed). */
static void lose(world *w) { w->n_queue = 0; }

/* Delivers every sent transaction to the chain; returns how many landed. */
static size_t deliver(world *w)
{
    size_t landed = 0;
    for (size_t i = 0; i < w->sends; i++) {
        tcn_chain_submit_result r;
        assert_int_equal(tcn_chain_model_submit(w->chain, w->sent[i], w->sent_len[i], &r), TCN_OK);
        landed += r.landed;
    }
    w->sends = 0;
    return landed;
}

static void step(world *w, tcn_exec *x, uint64_t term)
{
    tcn_exec_chain c = port(w);
    assert_int_equal(tcn_exec_step(x, w->st, term, w->now, &c, w_propose, w), TCN_OK);
}

static void key(tcn_chain_pubkey *k, uint8_t tag)
{
    memset(k->b, 0, sizeof(k->b));
    k->b[0] = tag;
    k->b[31] = 0x5a;
}

static void world_init(world *w)
{
    memset(w, 0, sizeof(*w));
    assert_int_equal(tcn_crypto_init(), TCN_OK);
    assert_int_equal(tcn_state_new(&w->st), TCN_OK);
    assert_int_equal(tcn_chain_model_new("exec", 4, NULL, &w->chain, NULL), TCN_OK);
    w->now = T0;
    key(&w->op, 1);
    key(&w->user, 2);
    key(&w->lp, 3);
    key(&w->refund_to, 4);
    tcn_cmd c;
    memset(&c, 0, sizeof(c));
    c.type = TCN_CMD_GENESIS;
    memset(c.u.genesis.group_id, 7, sizeof(c.u.genesis.group_id));
    memset(c.u.genesis.coordinator_seed, 0x11, 32);
    c.u.genesis.operator_key = w->op;
    apply_tcn(w, &c, TCN_OK);
    memset(&c, 0, sizeof(c));
    c.type = TCN_CMD_CLIENT_SET;
    c.actor = w->op;
    c.u.client_set.client = w->user;
    c.u.client_set.role = TCN_ROLE_USER;
    apply_tcn(w, &c, TCN_OK);
    assert_int_equal(tcn_chain_model_airdrop(w->chain, tcn_state_coordinator_key(w->st), 1000000000ull, NULL),
                     TCN_OK);
}

static void world_free(world *w)
{
    for (size_t i = 0; i < 64; i++)
        tcn_buf_free(&w->queue[i]);
    tcn_state_free(w->st);
    tcn_chain_model_free(w->chain);
}

static void create_swap(world *w, uint8_t seed_tag)
{
    tcn_cmd c;
    memset(&c, 0, sizeof(c));
    c.type = TCN_CMD_SWAP_CREATE;
    c.actor = w->user;
    memset(c.u.swap_create.escrow_seed, seed_tag, 32);
    memset(c.u.swap_create.nonce_seed, seed_tag + 1, 32);
    c.u.swap_create.lp = w->lp;
    c.u.swap_create.refund_to = w->refund_to;
    c.u.swap_create.amount = AMOUNT;
    c.u.swap_create.deadline_ms = T0 + 3600000;
    c.u.swap_create.policy.n_destinations = 1;
    c.u.swap_create.policy.destinations[0] = w->lp;
    apply_tcn(w, &c, TCN_OK);
}

static void schedule(world *w, uint64_t swap, uint64_t amount, uint64_t due)
{
    tcn_cmd c;
    memset(&c, 0, sizeof(c));
    c.type = TCN_CMD_PAYOUT_SCHEDULE;
    c.actor = w->user;
    c.u.payout_schedule.swap_id = swap;
    c.u.payout_schedule.destination = w->lp;
    c.u.payout_schedule.amount = amount;
    c.u.payout_schedule.due_ms = due;
    apply_tcn(w, &c, TCN_OK);
}

static tcn_swap_view swap(world *w, uint64_t id)
{
    tcn_swap_view v;
    assert_true(tcn_state_swap(w->st, id, &v));
    return v;
}

/* Drives a new swap to OPEN and funded; returns the executor used. */
static void open_and_fund(world *w, tcn_exec *x, uint64_t term)
{
    create_swap(w, 0x30);
    step(w, x, term); /* sends the nonce creation */
    assert_int_equal(w->sends, 1);
    assert_int_equal(w->n_queue, 0);
    assert_int_equal(deliver(w), 1);
    tcn_chain_model_advance_slot(w->chain);
    w->now += 10;
    step(w, x, term); /* sees the nonce account: observation + first refund */
    assert_int_equal(commit(w), 1);
    tcn_swap_view v = swap(w, 1);
    assert_int_equal(v.status, TCN_SWAP_OPEN);
    assert_true(v.refund_len > 0);
    assert_false(v.funded);
    /* the user funds the escrow only now, holding its refund */
    assert_int_equal(tcn_chain_model_airdrop(w->chain, &v.escrow, AMOUNT, NULL), TCN_OK);
    w->now += 10;
    step(w, x, term);
    assert_int_equal(commit(w), 1);
    v = swap(w, 1);
    assert_true(v.funded);
    assert_int_equal(v.escrow_lamports, AMOUNT);
}

/* Most tests start the same way: a world with genesis, a leader's
 * executor in term 1, and swap 1 open and funded. */
static tcn_exec *world_start(world *w)
{
    world_init(w);
    tcn_exec *x;
    assert_int_equal(tcn_exec_new(NULL, &x), TCN_OK);
    open_and_fund(w, x, 1);
    return x;
}

static void world_end(world *w, tcn_exec *x)
{
    tcn_exec_free(x);
    world_free(w);
}

/* The refund the state holds lands on the chain as it stands (simulated, nothing stored). */
static bool refund_would_land(world *w, uint64_t id)
{
    /* A nonce advances at most once per slot (NonceBlockhashNotExpired). */
    tcn_chain_model_advance_slot(w->chain);
    tcn_swap_view v = swap(w, id);
    if (v.refund_len == 0)
        return false;
    tcn_chain_submit_result r;
    assert_int_equal(tcn_chain_model_simulate(w->chain, v.refund, v.refund_len, &r), TCN_OK);
    return r.landed && r.err.kind == TCN_CHAIN_TX_OK;
}

static void test_payout_life(void **state)
{
    (void)state;
    world w;
    tcn_exec *x = world_start(&w);
    assert_true(refund_would_land(&w, 1));
    schedule(&w, 1, 1000000, T0 + 100);
    w.now = T0 + 50;
    step(&w, x, 1); /* not due */
    assert_int_equal(w.n_queue, 0);
    w.now = T0 + 100;
    step(&w, x, 1); /* due: signs and proposes the intent, sends nothing */
    assert_int_equal(w.n_queue, 1);
    assert_int_equal(w.sends, 0);
    step(&w, x, 1); /* proposal in flight: nothing new */
    assert_int_equal(w.n_queue, 1);
    assert_int_equal(w.sends, 0);
    commit(&w);
    tcn_swap_view v = swap(&w, 1);
    assert_int_not_equal(v.intent_payout_id, 0);
    step(&w, x, 1); /* committed: now it sends exactly the committed bytes */
    assert_int_equal(w.sends, 1);
    assert_int_equal(w.sent_len[0], v.intent_tx_len);
    assert_memory_equal(w.sent[0], v.intent_tx, v.intent_tx_len);
    assert_int_equal(w.n_queue, 0);
    uint64_t lp_before = tcn_chain_model_balance(w.chain, &w.lp);
    assert_int_equal(deliver(&w), 1);
    assert_int_equal(tcn_chain_model_balance(w.chain, &w.lp), lp_before + 1000000);
    assert_false(refund_would_land(&w, 1)); /* the nonce moved: the old refund is dead ... */
    step(&w, x, 1);
    assert_int_equal(commit(&w), 1); /* ... and the outcome brings the new one */
    v = swap(&w, 1);
    assert_int_equal(v.intent_payout_id, 0);
    assert_int_equal(v.escrow_lamports, AMOUNT - 1000000 - TCN_STATE_TX_FEE);
    tcn_payout_view p;
    assert_true(tcn_state_payout(w.st, 1, &p));
    assert_int_equal(p.status, TCN_PAYOUT_PAID);
    assert_true(refund_would_land(&w, 1));
    /* Nothing more to do. */
    step(&w, x, 1);
    assert_int_equal(w.n_queue + w.sends, 0);
    world_end(&w, x);
}

/* The leader dies at each point of the protocol; a new leader (a fresh
 * executor in a new term, the committed state only) finishes the payout,
 * and it lands exactly once. */
static void crash_at(int point)
{
    world w;
    tcn_exec *x = world_start(&w);
    schedule(&w, 1, 1200000, T0);
    w.now += 10;
    step(&w, x, 1);
    assert_int_equal(w.n_queue, 1);
    if (point == 0) { /* between signing and committing: the intent is lost */
        lose(&w);
    } else {
        commit(&w);
        if (point >= 2) {
            step(&w, x, 1); /* sent */
            assert_int_equal(w.sends, 1);
            if (point == 2)
                w.sends = 0; /* the send never reached the chain */
            else
                assert_int_equal(deliver(&w), 1); /* landed; the leader dies before recording it */
        }
    }
    tcn_exec_free(x);
    /* The new leader. */
    assert_int_equal(tcn_exec_new(NULL, &x), TCN_OK);
    uint64_t lp_before = tcn_chain_model_balance(w.chain, &w.lp);
    for (int round = 0; round < 6; round++) {
        w.now += 3000;
        step(&w, x, 2);
        commit(&w);
        deliver(&w);
        tcn_chain_model_advance_slot(w.chain);
    }
    tcn_payout_view p;
    assert_true(tcn_state_payout(w.st, 1, &p));
    assert_int_equal(p.status, TCN_PAYOUT_PAID);
    tcn_chain_sig_status s;
    tcn_chain_model_signature_status(w.chain, &p.sig, &s);
    assert_int_equal(s.state, TCN_CHAIN_SIG_LANDED_OK);
    uint64_t paid = tcn_chain_model_balance(w.chain, &w.lp) - lp_before;
    assert_int_equal(paid, point == 3 ? 0 : 1200000); /* at point 3 it had landed before the crash */
    assert_int_equal(tcn_chain_model_balance(w.chain, &w.lp), 1200000); /* once, whatever happened */
    assert_true(refund_would_land(&w, 1));
    assert_int_equal(swap(&w, 1).intent_payout_id, 0);
    world_end(&w, x);
}

static void test_crash_before_commit(void **state)
{
    (void)state;
    crash_at(0);
}
static void test_crash_after_commit(void **state)
{
    (void)state;
    crash_at(1);
}
static void test_crash_after_send_lost(void **state)
{
    (void)state;
    crash_at(2);
}
static void test_crash_after_landing(void **state)
{
    (void)state;
    crash_at(3);
}

/* The user sends its refund while a payout intent is committed: the refund
 * lands first, the payout can never land (DROPPED), the swap closes. */
static void test_refund_beats_payout(void **state)
{
    (void)state;
    world w;
    tcn_exec *x = world_start(&w);
    tcn_swap_view v = swap(&w, 1);
    uint8_t refund[TCN_CHAIN_PACKET_BYTES_MAX];
    size_t refund_len = v.refund_len;
    memcpy(refund, v.refund, refund_len);
    schedule(&w, 1, 1200000, T0);
    w.now += 10;
    step(&w, x, 1);
    commit(&w);
    tcn_chain_submit_result r;
    assert_int_equal(tcn_chain_model_submit(w.chain, refund, refund_len, &r), TCN_OK);
    assert_true(r.landed && r.err.kind == TCN_CHAIN_TX_OK);
    assert_int_equal(tcn_chain_model_balance(w.chain, &v.escrow), TCN_STATE_ESCROW_RESERVE);
    tcn_chain_model_advance_slot(w.chain);
    step(&w, x, 1); /* the nonce moved without the payout: DROPPED */
    assert_int_equal(commit(&w), 1);
    tcn_payout_view p;
    assert_true(tcn_state_payout(w.st, 1, &p));
    assert_int_equal(p.status, TCN_PAYOUT_SCHEDULED);
    v = swap(&w, 1);
    assert_int_equal(v.status, TCN_SWAP_OPEN); /* the reserve is left, and no refund */
    assert_int_equal(v.refund_len, 0);
    /* The swap is done: the sweep returns the reserve, the coordinator paying. */
    step(&w, x, 1);
    assert_int_equal(w.n_queue, 0);
    assert_int_equal(deliver(&w), 1);
    assert_int_equal(tcn_exec_stats_of(x)->sweeps, 1);
    assert_int_equal(tcn_chain_model_balance(w.chain, &v.escrow), 0);
    assert_int_equal(tcn_chain_model_balance(w.chain, &w.refund_to), AMOUNT - TCN_STATE_TX_FEE);
    tcn_chain_model_advance_slot(w.chain);
    step(&w, x, 1); /* seen empty: CLOSED */
    assert_int_equal(commit(&w), 1);
    assert_int_equal(swap(&w, 1).status, TCN_SWAP_CLOSED);
    w.now += 5000;
    step(&w, x, 1); /* closed: nothing more, ever */
    assert_int_equal(w.n_queue + w.sends, 0);
    assert_int_equal(deliver(&w), 0);
    world_end(&w, x);
}

/* Lands what was sent, one slot later, and commits what the executor
 * proposes after it: one round of the leader's loop. */
static void round_trip(world *w, tcn_exec *x)
{
    (void)deliver(w);
    tcn_chain_model_advance_slot(w->chain);
    w->now += 1100;
    step(w, x, 1);
    (void)commit(w);
}

/* The user's refund lands; a griefer's 1 lamport arrives before each sweep
 * lands (the sweep would leave the escrow rent paying: it fails, the
 * coordinator pays the fee, the nonce advances). The executor observes and
 * sweeps again; once the deposits stop, the escrow ends at exactly 0 and
 * the swap CLOSED, refund_to holding everything. */
static void test_sweep_races_deposits(void **state)
{
    (void)state;
    world w;
    tcn_exec *x = world_start(&w);
    tcn_swap_view v = swap(&w, 1);
    tcn_chain_submit_result r;
    assert_int_equal(tcn_chain_model_submit(w.chain, v.refund, v.refund_len, &r), TCN_OK);
    assert_true(r.landed && r.err.kind == TCN_CHAIN_TX_OK);
    round_trip(&w, x); /* observed: R, no refund */
    assert_int_equal(swap(&w, 1).escrow_lamports, TCN_STATE_ESCROW_RESERVE);
    uint64_t coord0 = tcn_chain_model_balance(w.chain, tcn_state_coordinator_key(w.st));
    for (int i = 0; i < 3; i++) {
        step(&w, x, 1); /* the sweep */
        assert_int_equal(w.sends, 1);
        assert_int_equal(tcn_chain_model_airdrop(w.chain, &v.escrow, 1, NULL), TCN_OK); /* first */
        round_trip(&w, x); /* the sweep fails; the next step observes R + i + 1 */
        assert_int_equal(tcn_chain_model_balance(w.chain, &v.escrow), TCN_STATE_ESCROW_RESERVE + (uint64_t)i + 1);
        assert_int_equal(swap(&w, 1).escrow_lamports, TCN_STATE_ESCROW_RESERVE + (uint64_t)i + 1);
    }
    assert_int_equal(tcn_chain_model_balance(w.chain, tcn_state_coordinator_key(w.st)),
                     coord0 - 3 * TCN_STATE_TX_FEE);
    step(&w, x, 1);
    round_trip(&w, x); /* lands; observed empty */
    assert_int_equal(tcn_chain_model_balance(w.chain, &v.escrow), 0);
    assert_int_equal(swap(&w, 1).status, TCN_SWAP_CLOSED);
    assert_int_equal(tcn_chain_model_balance(w.chain, &w.refund_to), AMOUNT - TCN_STATE_TX_FEE + 3);
    assert_int_equal(tcn_exec_stats_of(x)->sweeps, 4);
    world_end(&w, x);
}

/* The sweep gives up after sweep_attempts_max nonce values in one
 * leadership (each failure costs the coordinator a fee); a new leadership
 * tries again. */
static void test_sweep_attempts_bounded(void **state)
{
    (void)state;
    world w;
    world_init(&w);
    tcn_exec_options o;
    tcn_exec_options_default(&o);
    o.sweep_attempts_max = 2;
    tcn_exec *x;
    assert_int_equal(tcn_exec_new(&o, &x), TCN_OK);
    open_and_fund(&w, x, 1);
    tcn_swap_view v = swap(&w, 1);
    tcn_chain_submit_result r;
    assert_int_equal(tcn_chain_model_submit(w.chain, v.refund, v.refund_len, &r), TCN_OK);
    round_trip(&w, x);
    for (int i = 0; i < 4; i++) {
        step(&w, x, 1);
        assert_int_equal(tcn_chain_model_airdrop(w.chain, &v.escrow, 1, NULL), TCN_OK);
        round_trip(&w, x);
    }
    assert_int_equal(tcn_exec_stats_of(x)->sweeps, 2);
    assert_true(tcn_exec_stats_of(x)->sweeps_abandoned > 0);
    assert_int_equal(swap(&w, 1).status, TCN_SWAP_OPEN);
    step(&w, x, 2); /* a new term */
    assert_int_equal(w.sends, 1);
    round_trip(&w, x);
    step(&w, x, 2);
    (void)commit(&w);
    assert_int_equal(swap(&w, 1).status, TCN_SWAP_CLOSED);
    world_end(&w, x);
}

/* Past the deadline the leader sends the committed refund itself (a
 * griefer's deposit beforehand does not stop it), then sweeps. */
static void test_deadline_refund_then_sweep(void **state)
{
    (void)state;
    world w;
    tcn_exec *x = world_start(&w);
    tcn_swap_view v = swap(&w, 1);
    assert_int_equal(tcn_chain_model_airdrop(w.chain, &v.escrow, 1, NULL), TCN_OK);
    w.now = v.deadline_ms + 1;
    step(&w, x, 1); /* observes the deposit first (no intent can come any more) */
    assert_int_equal(commit(&w), 1);
    assert_int_equal(swap(&w, 1).escrow_lamports, AMOUNT + 1);
    step(&w, x, 1);
    assert_int_equal(tcn_exec_stats_of(x)->refunds_sent, 1);
    round_trip(&w, x); /* the refund landed: R + 1 observed */
    assert_int_equal(tcn_chain_model_balance(w.chain, &w.refund_to),
                     AMOUNT + 1 - TCN_STATE_ESCROW_RESERVE - TCN_STATE_TX_FEE);
    step(&w, x, 1);
    round_trip(&w, x); /* the sweep */
    assert_int_equal(swap(&w, 1).status, TCN_SWAP_CLOSED);
    assert_int_equal(tcn_chain_model_balance(w.chain, &w.refund_to), AMOUNT + 1 - TCN_STATE_TX_FEE);
    world_end(&w, x);
}

/* The chain unreachable: nothing proposed, nothing sent, no error; it
 * carries on when the chain is back. */
static void test_chain_down(void **state)
{
    (void)state;
    world w;
    tcn_exec *x = world_start(&w);
    schedule(&w, 1, 1200000, T0);
    w.chain_down = true;
    w.now += 10;
    step(&w, x, 1);
    assert_int_equal(w.n_queue + w.sends, 0);
    assert_true(tcn_exec_stats_of(x)->chain_errors > 0);
    w.chain_down = false;
    step(&w, x, 1);
    assert_int_equal(w.n_queue, 1);
    world_end(&w, x);
}

/* A payout too small to make a new destination rent exempt would fail on
 * the chain and burn the fee and the nonce: it is held, not signed. */
static void test_rent_hold(void **state)
{
    (void)state;
    world w;
    tcn_exec *x = world_start(&w);
    schedule(&w, 1, tcn_chain_rent_minimum_balance(0) - 1, T0);
    w.now += 10;
    step(&w, x, 1);
    assert_int_equal(w.n_queue + w.sends, 0);
    assert_int_equal(tcn_exec_stats_of(x)->held_rent, 1);
    /* Once the destination exists, the same payout goes. */
    assert_int_equal(tcn_chain_model_airdrop(w.chain, &w.lp, tcn_chain_rent_minimum_balance(0), NULL), TCN_OK);
    step(&w, x, 1);
    assert_int_equal(w.n_queue, 1);
    world_end(&w, x);
}

/* At the boundary: a payout that leaves exactly 2 R + fee (the smallest
 * balance with a refund) is paid, and the refund that follows lands on the
 * chain model even after a griefer's 1 lamport (the old refund, balance -
 * fee, would leave the escrow rent paying and fail, burning its nonce). */
static void test_payout_leaves_room_for_refund(void **state)
{
    (void)state;
    world w;
    tcn_exec *x = world_start(&w);
    uint64_t rest = TCN_STATE_REFUND_MIN_BALANCE;
    schedule(&w, 1, AMOUNT - TCN_STATE_TX_FEE - rest, T0);
    w.now += 10;
    step(&w, x, 1);
    assert_int_equal(commit(&w), 1);
    step(&w, x, 1);
    assert_int_equal(deliver(&w), 1);
    tcn_chain_model_advance_slot(w.chain);
    step(&w, x, 1);
    assert_int_equal(commit(&w), 1);
    tcn_swap_view v = swap(&w, 1);
    assert_int_equal(v.escrow_lamports, rest);
    assert_int_equal(tcn_chain_model_airdrop(w.chain, &v.escrow, 1, NULL), TCN_OK);
    assert_true(refund_would_land(&w, 1));
    tcn_payout_view p;
    assert_true(tcn_state_payout(w.st, 1, &p));
    assert_int_equal(p.status, TCN_PAYOUT_PAID);
    world_end(&w, x);
}

/* The status answers lag behind the account answers (another RPC node, or
 * one without the history yet): the payout has landed and the nonce moved,
 * but the lagging node knows nothing of the signature. Taking that as
 * "dropped" would re-open the payout and pay it twice; the executor waits
 * for a status as new as the read that showed the move. */
static void test_lagging_status_is_not_dropped(void **state)
{
    (void)state;
    world w;
    tcn_exec *x = world_start(&w);
    schedule(&w, 1, 1200000, T0);
    w.now += 10;
    step(&w, x, 1);
    assert_int_equal(commit(&w), 1);
    step(&w, x, 1);
    assert_int_equal(deliver(&w), 1); /* landed */
    tcn_chain_model_advance_slot(w.chain);
    w.status_lag = 5;
    for (int i = 0; i < 5; i++) {
        w.now += 3000;
        step(&w, x, 1);
        assert_int_equal(w.n_queue, 0); /* no DROPPED, no outcome: it does not know yet */
        deliver(&w);
    }
    w.status_lag = 0;
    step(&w, x, 1);
    assert_int_equal(commit(&w), 1);
    tcn_payout_view p;
    assert_true(tcn_state_payout(w.st, 1, &p));
    assert_int_equal(p.status, TCN_PAYOUT_PAID);
    for (int i = 0; i < 3; i++) {
        w.now += 3000;
        step(&w, x, 1);
        commit(&w);
        deliver(&w);
    }
    assert_int_equal(tcn_chain_model_balance(w.chain, &w.lp), 1200000); /* once */
    world_end(&w, x);
}

/* The escrow is emptied behind the network's back after the intent
 * committed (the holder of an imported escrow key can): the chain will
 * never take the payout's bytes, and the swap would wait for ever. After
 * cancel_after_ms the executor lands a nonce cancel, the intent ends
 * DROPPED, and the swap is seen for what it is. */
static void test_unlandable_intent_is_cancelled(void **state)
{
    (void)state;
    world w;
    tcn_exec *x = world_start(&w);
    schedule(&w, 1, 1200000, T0);
    w.now += 10;
    step(&w, x, 1);
    assert_int_equal(commit(&w), 1);
    tcn_swap_view v = swap(&w, 1);
    assert_int_not_equal(v.intent_payout_id, 0);
    assert_int_equal(tcn_chain_model_set_account(w.chain, &v.escrow, 0, NULL, NULL, 0, NULL), TCN_OK);
    for (int i = 0; i < 3; i++) { /* resent, refused: not yet cancelled */
        w.now += 3000;
        step(&w, x, 1);
        assert_int_equal(w.n_queue, 0);
        assert_int_equal(deliver(&w), 0);
        tcn_chain_model_advance_slot(w.chain);
    }
    assert_int_equal(tcn_exec_stats_of(x)->cancels, 0);
    w.now += 5000; /* 11 s refused: past cancel_after_ms (10 s) */
    step(&w, x, 1);
    assert_int_equal(tcn_exec_stats_of(x)->cancels, 1);
    assert_int_equal(deliver(&w), 1); /* the coordinator pays for it */
    tcn_chain_model_advance_slot(w.chain);
    w.now += 10;
    step(&w, x, 1);
    assert_int_equal(commit(&w), 1); /* DROPPED */
    tcn_payout_view p;
    assert_true(tcn_state_payout(w.st, 1, &p));
    assert_int_equal(p.status, TCN_PAYOUT_SCHEDULED);
    v = swap(&w, 1);
    assert_int_equal(v.intent_payout_id, 0);
    assert_int_equal(v.status, TCN_SWAP_CLOSED); /* funded, and seen empty */
    assert_int_equal(tcn_chain_model_balance(w.chain, &w.lp), 0);
    world_end(&w, x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_payout_life),         cmocka_unit_test(test_crash_before_commit),
        cmocka_unit_test(test_crash_after_commit),  cmocka_unit_test(test_crash_after_send_lost),
        cmocka_unit_test(test_crash_after_landing), cmocka_unit_test(test_refund_beats_payout),
        cmocka_unit_test(test_chain_down),          cmocka_unit_test(test_rent_hold),
        cmocka_unit_test(test_payout_leaves_room_for_refund),
        cmocka_unit_test(test_lagging_status_is_not_dropped),
        cmocka_unit_test(test_unlandable_intent_is_cancelled),
        cmocka_unit_test(test_sweep_races_deposits),
        cmocka_unit_test(test_sweep_attempts_bounded),
        cmocka_unit_test(test_deadline_refund_then_sweep),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
