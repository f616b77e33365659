/* The payouts workload (tcn-sim --workload payouts): the coordinator state machine on every node, the
 * executor on every node that believes it leads, one chain model, clients, and the payout checkers. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain/message.h"
#include "chain/rent.h"
#include "chain/system.h"
#include "chain/transaction.h"
#include "sim/sim.h"
#include "util/assert.h"
#include "util/secmem.h"

/*
 * The pieces:
 * - every node applies the log's NORMAL entries to its own tcn_state; the
 *   result code of every command folds into the node's digest, so two nodes
 *   that decide one command differently fail state-machine safety at once;
 * - the reference state applies each index the first time any node applies
 *   it: it is the committed state as of the furthest node;
 * - the chain model advances a slot every SIM_PAY_SLOT_US; transactions
 *   reach it through an inbox with latency, and some are lost on the way
 *   (sendTransaction promises nothing);
 * - machines lose their way to the chain at times (calls fail);
 * - clients (an operator, users) work only from the reference state: they
 *   register users, create swaps, fund an escrow once its refund is
 *   committed, schedule payouts, and sometimes send their refund;
 * - every node that believes it leads, once it has applied an entry of its
 *   own term, runs the executor (src/exec) — deposed leaders that do not yet
 *   know it included;
 * - account and status answers come from an RPC node 0-3 slots behind;
 * - third parties: a griefer deposits 1, R-1, R or a few R lamports into
 *   escrows (some just before a payout, refund or sweep lands), and the
 *   holder of an imported escrow key moves lamports out behind the
 *   network's back.
 *
 * Checkers (issue 4): at every release of payout bytes, the intent is
 * committed and no other payout was released for that (nonce account,
 * value); at every landing, no payout has landed before; after every step,
 * lamports are conserved and every swap holding lamports on the chain has
 * a committed open intent or a committed refund valid against the chain's
 * current nonce value that would land now and keeps the reserve (see
 * pay_check_step for the exact terms), and no refund ever lands and fails;
 * in the liveness phase, every due payout lands exactly once, no intent
 * stays open, and every swap that is done is swept.
 */

#define SIM_PAY_EPOCH_MS 1767225600000ull /* 2026-01-01T00:00:00Z: ts_ms is wall-clock-like */
#define SIM_PAY_SLOT_US 400000u
#define SIM_PAY_LATENCY_US_MAX 600000u
#define SIM_PAY_SEND_LOSS_PPM 30000u
#define SIM_PAY_COORDINATOR_FUNDS 1000000000000ull /* 1,000 SOL for nonce accounts and their fees */
#define SIM_PAY_DEADLINE_MS (3600u * 1000u)
#define SIM_PAY_TARGETED_CRASH_PCT 5u
#define SIM_PAY_STATUS_LAG_SLOTS 3u /* how far behind the status node may be */
#define SIM_PAY_PAYOUT_MIN 900000u /* above the rent-exempt minimum of an empty account (890,880) */
#define SIM_PAY_GRIEFER_FUNDS 1000000000000ull /* the third party's purse */
#define SIM_PAY_GRIEF_PCT 15u       /* of the transactions sent for an escrow, one in this many gets a deposit first */
#define SIM_PAY_IMPORTED_PCT 30u    /* swaps created with an imported escrow key */
#define SIM_PAY_LAGGED_READS 1      /* account answers from a node 0-3 slots behind */

static sim_pay *P(sim *s) { return &s->pay; }

static uint64_t wall_ms_global(const sim *s) { return SIM_PAY_EPOCH_MS + s->now_us / 1000; }
/* A machine's wall clock was set (NTP) when it first appeared, and drifts
 * from there at its own rate. (Counting from 0 at that moment put a machine
 * that joined late tens of seconds behind, and a leader on it held every due
 * payout back that long: --seed 286 --steps 5000 --nodes 5 --workload payouts.) */
static uint64_t wall_ms_node(const sim *s, uint32_t slot)
{
    return SIM_PAY_EPOCH_MS + (s->m[slot].wall_base_us + s->m[slot].clock_us) / 1000;
}

static void rand_bytes(sim *s, uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i += 8) {
        uint64_t r = sim_rng_next(&s->rng_wl);
        for (size_t k = 0; k < 8 && i + k < n; k++)
            p[i + k] = (uint8_t)(r >> (8 * k));
    }
}

static void hex8(const uint8_t *p, char *out) /* the first 8 bytes, for messages */
{
    static const char d[] = "0123456789abcdef";
    for (int i = 0; i < 8; i++) {
        out[2 * i] = d[p[i] >> 4];
        out[2 * i + 1] = d[p[i] & 15];
    }
    out[16] = 0;
}

/* --- Set-up --------------------------------------------------------------------- */

void pay_init(sim *s)
{
    sim_pay *p = P(s);
    memset(p, 0, sizeof(*p));
    if (tcn_crypto_init() != TCN_OK) { /* secure memory for the states' keys */
        fprintf(stderr, "tcn-sim: payouts: libsodium failed to initialize\n");
        exit(2);
    }
    uint8_t seed[16];
    memcpy(seed, "tcn-sim:", 8);
    for (int i = 0; i < 8; i++)
        seed[8 + i] = (uint8_t)(s->opt.seed >> (8 * i));
    tcn_error err;
    if (tcn_chain_model_new(seed, sizeof(seed), NULL, &p->chain, &err) != TCN_OK ||
        tcn_state_new(&p->ref) != TCN_OK) {
        fprintf(stderr, "tcn-sim: payouts: %s\n", err.msg);
        exit(2);
    }
    p->inbox = calloc(SIM_PAY_INBOX_MAX, sizeof(*p->inbox));
    TCN_ASSERT(p->inbox != NULL);
    rand_bytes(s, p->operator_key.b, 32);
    rand_bytes(s, p->lp.b, 32);
    for (uint32_t u = 0; u < SIM_PAY_USERS; u++) {
        rand_bytes(s, p->users[u].b, 32);
        rand_bytes(s, p->refund_to[u].b, 32);
    }
    p->next_slot_us = SIM_PAY_SLOT_US;
    p->next_client_us = 200000;
    p->next_chain_fault_us = 1000000 + sim_rng_below(&s->rng_wl, 3000000);
    switch (s->opt.bug) {
    case SIM_BUG_RELEASE_BEFORE_COMMIT:
        p->exec_bugs = TCN_EXEC_BUG_RELEASE_BEFORE_COMMIT;
        break;
    case SIM_BUG_REFUND_BEFORE_LANDING:
        p->exec_bugs = TCN_EXEC_BUG_REFUND_BEFORE_LANDING;
        break;
    case SIM_BUG_SKIP_RESUME:
        p->exec_bugs = TCN_EXEC_BUG_SKIP_RESUME;
        break;
    case SIM_BUG_TRUST_LAGGING_STATUS:
        p->exec_bugs = TCN_EXEC_BUG_TRUST_LAGGING_STATUS;
        break;
    default:
        break;
    }
    /* A state-machine rule: every node of the process applies the same one. */
    tcn_state_bugs_set(s->opt.bug == SIM_BUG_REFUND_EMPTIES_ESCROW ? TCN_STATE_BUG_REFUND_EMPTIES_ESCROW : 0);
    uint8_t gseed[32];
    rand_bytes(s, gseed, sizeof(gseed));
    TCN_ASSERT(tcn_chain_keypair_from_seed(gseed, &p->griefer, &err) == TCN_OK);
    tcn_wipe(gseed, sizeof(gseed));
    p->griefer_funds = SIM_PAY_GRIEFER_FUNDS;
    TCN_ASSERT(tcn_chain_model_airdrop(p->chain, tcn_chain_keypair_pubkey(p->griefer), p->griefer_funds, &err) ==
               TCN_OK);
    rand_bytes(s, p->holder_sink.b, 32);
    p->next_grief_us = 2000000 + sim_rng_below(&s->rng_wl, 2000000);
    p->next_drain_us = 3000000 + sim_rng_below(&s->rng_wl, 3000000);
    p->hist = calloc(SIM_PAY_HIST, sizeof(*p->hist));
    TCN_ASSERT(p->hist != NULL);
    for (uint32_t i = 0; i < SIM_PAY_HIST; i++)
        p->hist[i].slot = UINT64_MAX;
}

void pay_free(sim *s)
{
    sim_pay *p = P(s);
    tcn_chain_model_free(p->chain);
    tcn_state_free(p->ref);
    tcn_chain_keypair_free(p->griefer);
    free(p->hist);
    tcn_wipe(p->imports, sizeof(p->imports));
    free(p->inbox);
    free(p->intents);
    free(p->released);
    free(p->landed);
    memset(p, 0, sizeof(*p));
}

void pay_node_boot(sim *s, uint32_t slot)
{
    sim_node *nd = &s->m[slot];
    pay_node_down(s, slot);
    tcn_exec_options o;
    tcn_exec_options_default(&o);
    o.bugs = P(s)->exec_bugs;
    TCN_ASSERT(tcn_state_new(&nd->st) == TCN_OK);
    TCN_ASSERT(tcn_exec_new(&o, &nd->ex) == TCN_OK);
    P(s)->acct_floor[slot] = 0; /* a new executor: no reads to stay ahead of */
}

void pay_node_down(sim *s, uint32_t slot)
{
    sim_node *nd = &s->m[slot];
    tcn_state_free(nd->st);
    tcn_exec_free(nd->ex);
    nd->st = NULL;
    nd->ex = NULL;
}

/* --- Registries the checkers keep ----------------------------------------------- */

static const sim_pay_intent *intent_by_sig(const sim_pay *p, const tcn_chain_signature *sig)
{
    for (size_t i = 0; i < p->n_intents; i++)
        if (tcn_chain_signature_eq(&p->intents[i].sig, sig))
            return &p->intents[i];
    return NULL;
}

static void note_intent(sim *s, const tcn_cmd *c)
{
    sim_pay *p = P(s);
    tcn_chain_tx *tx = malloc(sizeof(*tx));
    TCN_ASSERT(tx != NULL);
    tcn_error err;
    if (tcn_chain_tx_decode(c->u.payout_intent.tx, c->u.payout_intent.tx_len, tx, &err) != TCN_OK) {
        sim_violation(s, "payout intent", "committed intent for payout %llu holds bytes that do not decode: %s",
                      (unsigned long long)c->u.payout_intent.payout_id, err.msg);
        free(tx);
        return;
    }
    if (p->n_intents == p->cap_intents) {
        size_t cap = p->cap_intents ? p->cap_intents * 2 : 64;
        sim_pay_intent *n = realloc(p->intents, cap * sizeof(*n));
        TCN_ASSERT(n != NULL);
        p->intents = n;
        p->cap_intents = cap;
    }
    sim_pay_intent *in = &p->intents[p->n_intents++];
    in->sig = *tcn_chain_tx_id(tx);
    in->payout_id = c->u.payout_intent.payout_id;
    in->value = c->u.payout_intent.nonce_value;
    const uint8_t *acc = tcn_chain_message_ix_accounts(&tx->msg, 0);
    in->nonce = tx->msg.keys[acc[0]];
    free(tx);
}

static uint32_t *landed_slot(sim_pay *p, uint64_t payout_id)
{
    if (payout_id >= p->cap_landed) {
        size_t cap = p->cap_landed ? p->cap_landed : 64;
        while (cap <= payout_id)
            cap *= 2;
        uint32_t *n = realloc(p->landed, cap * sizeof(*n));
        TCN_ASSERT(n != NULL);
        memset(n + p->cap_landed, 0, (cap - p->cap_landed) * sizeof(*n));
        p->landed = n;
        p->cap_landed = cap;
    }
    return &p->landed[payout_id];
}

/* --- Applying ----------------------------------------------------------------------- */

static void fold(uint8_t digest[TCN_SHA256_LEN], const tcn_state_result *res)
{
    uint8_t b[16];
    for (int i = 0; i < 8; i++) {
        b[i] = (uint8_t)((uint64_t)(uint32_t)res->code >> (8 * i));
        b[8 + i] = (uint8_t)(res->id >> (8 * i));
    }
    tcn_sha256_ctx h;
    tcn_sha256_init(&h);
    tcn_sha256_update(&h, digest, TCN_SHA256_LEN);
    tcn_sha256_update(&h, b, sizeof(b));
    tcn_sha256_final(&h, digest);
}

static void ref_apply(sim *s, const tcn_raft_entry *e, const tcn_state_result *node_res)
{
    sim_pay *p = P(s);
    tcn_state_result res;
    if (tcn_state_apply(p->ref, e->index, e->data, e->len, &res) != TCN_OK) {
        sim_violation(s, "state", "the reference state ran out of memory at index %llu", (unsigned long long)e->index);
        return;
    }
    p->applied_cmds++;
    if (res.code != node_res->code || res.id != node_res->id) {
        sim_violation(s, "state machine safety", "index %llu: the reference state decided %s (id %llu), a node %s (id %llu)",
                      (unsigned long long)e->index, tcn_err_name(res.code), (unsigned long long)res.id,
                      tcn_err_name(node_res->code), (unsigned long long)node_res->id);
        return;
    }
    tcn_cmd c;
    if (tcn_cmd_decode(e->data, e->len, &c, NULL) != TCN_OK)
        return;
    if (res.code != TCN_OK) {
        p->refused++;
        sim_trace(s, "state: index %llu %s refused: %s: %s", (unsigned long long)e->index, tcn_cmd_type_name(c.type),
                  tcn_err_name(res.code), res.reason);
    } else if (c.type == TCN_CMD_PAYOUT_INTENT) {
        note_intent(s, &c);
    } else if (c.type == TCN_CMD_SWAP_OBSERVED) {
        sim_trace(s, "state: swap %llu observed at slot %llu: escrow %llu, refund %u bytes",
                  (unsigned long long)c.u.swap_observed.swap_id, (unsigned long long)c.u.swap_observed.slot,
                  (unsigned long long)c.u.swap_observed.escrow_lamports, c.u.swap_observed.refund_len);
    }
    if (p->live_sent && p->live_index == 0 && e->len == p->live_len && memcmp(e->data, p->live_cmd, e->len) == 0)
        p->live_index = e->index;
    tcn_cmd_wipe(&c);
}

void pay_apply_entry(sim *s, uint32_t slot, const tcn_raft_entry *e)
{
    sim_node *nd = &s->m[slot];
    tcn_state_result res;
    if (tcn_state_apply(nd->st, e->index, e->data, e->len, &res) != TCN_OK) {
        sim_violation(s, "state", "node %llu ran out of memory applying index %llu", (unsigned long long)nd->id,
                      (unsigned long long)e->index);
        return;
    }
    fold(nd->digest, &res);
    /* The reference state takes each index once, from the first node that
     * applies it (every node applies in order, and a snapshot holds only
     * what its maker applied, so no index is skipped). */
    if (e->index > tcn_state_applied_index(P(s)->ref) && e->index > chk_applied_max(s))
        ref_apply(s, e, &res);
}

/* Snapshot of the application: the state's own canonical snapshot. */
int pay_snapshot_take(sim *s, uint32_t slot, tcn_buf *out)
{
    tcn_error err;
    int rc = tcn_state_snapshot(s->m[slot].st, out, &err);
    if (rc != TCN_OK)
        sim_violation(s, "state", "node %llu cannot snapshot its state: %s", (unsigned long long)s->m[slot].id,
                      err.msg);
    return rc;
}

bool pay_snapshot_restore(sim *s, uint32_t slot, const uint8_t *b, size_t len)
{
    sim_node *nd = &s->m[slot];
    tcn_state *st;
    tcn_error err;
    if (tcn_state_restore(b, len, &st, &err) != TCN_OK) {
        sim_violation(s, "state", "node %llu cannot restore a state snapshot: %s", (unsigned long long)nd->id,
                      err.msg);
        return false;
    }
    tcn_state_free(nd->st);
    nd->st = st;
    return true;
}

/* --- The chain as the executor sees it --------------------------------------------- */

typedef struct port_ctx {
    sim *s;
    uint32_t slot;
} port_ctx;

static int port_latest(void *ctx, uint64_t *slot, tcn_chain_hash *bh, tcn_error *err)
{
    port_ctx *c = ctx;
    if (c->s->pay.chain_down[c->slot])
        return tcn_err_set(err, TCN_ERR_IO, "simulated: the chain is unreachable");
    uint64_t last_valid;
    tcn_chain_model_latest_blockhash(c->s->pay.chain, bh, &last_valid);
    *slot = tcn_chain_model_slot(c->s->pay.chain);
    return TCN_OK;
}

static void read_one(const tcn_chain_model *chain, const tcn_chain_pubkey *pk, tcn_exec_account *out)
{
    memset(out, 0, sizeof(*out));
    tcn_chain_account_view v;
    if (!tcn_chain_model_get_account(chain, pk, &v))
        return;
    out->exists = true;
    out->lamports = v.lamports;
    out->nonce_ok = tcn_chain_pubkey_eq(&v.owner, &tcn_chain_system_program_id) &&
                    tcn_chain_nonce_parse(v.data, v.data_len, true, &out->nonce, NULL) == TCN_OK;
}

/* Account answers come from a node 0-3 slots behind (drawn per call), as
 * status answers do: the accounts as they were at the end of that slot,
 * and that slot as the context slot. The executor's reads never go back
 * (exec.h: the same node for a step, or minContextSlot): a node behind the
 * last slot this machine was answered for refuses, as minContextSlot makes
 * a real one do; so does a node asked about an account it holds no history
 * of yet (new to the watch list). */
static size_t watch_index(sim_pay *p, const tcn_chain_pubkey *pk)
{
    for (size_t i = 0; i < p->n_watch; i++)
        if (tcn_chain_pubkey_eq(&p->watch[i], pk))
            return i;
    if (p->n_watch < SIM_PAY_WATCH_MAX)
        p->watch[p->n_watch++] = *pk;
    return SIM_PAY_WATCH_MAX; /* not in any history yet */
}

/* The end of the current slot, for the lagging node (called before the chain advances). */
static void hist_record(sim_pay *p)
{
    uint64_t slot = tcn_chain_model_slot(p->chain);
    sim_pay_hist *h = &p->hist[slot % SIM_PAY_HIST];
    h->slot = slot;
    h->n = p->n_watch;
    for (size_t i = 0; i < p->n_watch; i++)
        read_one(p->chain, &p->watch[i], &h->acc[i]);
}

static int port_accounts(void *ctx, const tcn_chain_pubkey *pks, size_t n, tcn_exec_account *out, uint64_t *slot,
                         tcn_error *err)
{
    port_ctx *c = ctx;
    sim_pay *p = &c->s->pay;
    if (p->chain_down[c->slot])
        return tcn_err_set(err, TCN_ERR_IO, "simulated: the chain is unreachable");
    uint64_t now = tcn_chain_model_slot(p->chain);
    uint64_t lag = SIM_PAY_LAGGED_READS ? sim_rng_below(&c->s->rng_wl, SIM_PAY_HIST) : 0;
    uint64_t at = now > lag ? now - lag : 0;
    const sim_pay_hist *h = at < now ? &p->hist[at % SIM_PAY_HIST] : NULL;
    if (h != NULL && h->slot != at)
        return tcn_err_set(err, TCN_ERR_BUSY, "simulated: the account node has no slot %llu", (unsigned long long)at);
    if (at < p->acct_floor[c->slot])
        return tcn_err_set(err, TCN_ERR_BUSY, "simulated: account node at slot %llu, behind %llu",
                           (unsigned long long)at, (unsigned long long)p->acct_floor[c->slot]);
    for (size_t i = 0; i < n; i++) {
        size_t w = watch_index(p, &pks[i]);
        if (h == NULL) {
            read_one(p->chain, &pks[i], &out[i]);
            continue;
        }
        if (w >= h->n)
            return tcn_err_set(err, TCN_ERR_BUSY, "simulated: the account node has no history of that account");
        out[i] = h->acc[w];
    }
    if (h != NULL)
        p->lagged_reads++;
    p->acct_floor[c->slot] = at;
    *slot = at;
    return TCN_OK;
}

static int port_status(void *ctx, const tcn_chain_signature *sig, uint64_t min_slot, tcn_chain_sig_status *out,
                       tcn_error *err)
{
    port_ctx *c = ctx;
    if (c->s->pay.chain_down[c->slot])
        return tcn_err_set(err, TCN_ERR_IO, "simulated: the chain is unreachable");
    uint64_t now = tcn_chain_model_slot(c->s->pay.chain);
    uint64_t lag = sim_rng_below(&c->s->rng_wl, SIM_PAY_STATUS_LAG_SLOTS + 1);
    uint64_t at = now > lag ? now - lag : 0;
    if (at < min_slot)
        return tcn_err_set(err, TCN_ERR_BUSY, "simulated: status node at slot %llu, behind %llu", (unsigned long long)at,
                           (unsigned long long)min_slot);
    tcn_chain_model_signature_status(c->s->pay.chain, sig, out);
    if (out->state != TCN_CHAIN_SIG_UNKNOWN && out->slot > at)
        memset(out, 0, sizeof(*out)); /* landed after what this node has seen */
    return TCN_OK;
}

static sim_pay_tx *inbox_add(sim *s, int from, const uint8_t *tx, size_t len, uint64_t at_us)
{
    sim_pay *p = P(s);
    if (p->n_inbox == SIM_PAY_INBOX_MAX || len > TCN_CHAIN_PACKET_BYTES_MAX) {
        p->dropped_sends++;
        return NULL;
    }
    sim_pay_tx *t = &p->inbox[p->n_inbox++];
    memset(t, 0, offsetof(sim_pay_tx, bytes));
    t->at_us = at_us;
    t->seq = ++p->inbox_seq;
    t->from = from;
    t->len = (uint16_t)len;
    memcpy(t->bytes, tx, len);
    return t;
}

/* Signs Transfer(kp -> to, lamports), kp paying, with the latest blockhash. */
static bool sign_transfer(sim *s, const tcn_chain_keypair *kp, const tcn_chain_pubkey *to, uint64_t lamports,
                          tcn_buf *out)
{
    static tcn_chain_tx tx;
    tcn_chain_ix ix;
    tcn_chain_hash bh;
    tcn_error err;
    tcn_chain_model_latest_blockhash(P(s)->chain, &bh, NULL);
    tcn_chain_system_transfer(&ix, tcn_chain_keypair_pubkey(kp), to, lamports);
    if (tcn_chain_message_compile(tcn_chain_keypair_pubkey(kp), &bh, &ix, 1, &tx.msg, &err) != TCN_OK)
        return false;
    tcn_chain_tx_init(&tx, &tx.msg);
    const tcn_chain_keypair *signers[1] = {kp};
    return tcn_chain_tx_sign(&tx, signers, 1, &err) == TCN_OK && tcn_chain_tx_encode(&tx, out, &err) == TCN_OK;
}

/* The griefer's amounts: 1 lamport, R - 1, R, or a few R. */
static uint64_t grief_amount(sim *s)
{
    const uint64_t r = TCN_STATE_ESCROW_RESERVE;
    switch (sim_rng_below(&s->rng_wl, 4)) {
    case 0:
        return 1;
    case 1:
        return r - 1;
    case 2:
        return r;
    default:
        return sim_rng_range(&s->rng_wl, r, 3 * r);
    }
}

/* A third party's deposit into a swap's escrow, reaching the chain at at_us. */
static void deposit(sim *s, uint64_t swap_id, const tcn_chain_pubkey *escrow, uint64_t at_us)
{
    sim_pay *p = P(s);
    if (swap_id > SIM_PAY_SWAPS_MAX || p->swaps[swap_id].dep_sent >= SIM_PAY_DEPOSITS_MAX)
        return;
    uint64_t lamports = grief_amount(s);
    tcn_buf b = {0};
    if (sign_transfer(s, p->griefer, escrow, lamports, &b)) {
        sim_pay_tx *t = inbox_add(s, -2, b.p, b.len, at_us);
        if (t != NULL) {
            t->kind = SIM_PAY_TX_DEPOSIT;
            t->swap_id = (uint32_t)swap_id;
            t->lamports = lamports;
            p->swaps[swap_id].dep_sent++;
            p->deposits_sent++;
            sim_trace(s, "griefer: deposits %llu lamports into the escrow of swap %llu", (unsigned long long)lamports,
                      (unsigned long long)swap_id);
        }
    }
    tcn_buf_free(&b);
}

/* The swap whose nonce account the transaction advances, or 0. */
static uint64_t swap_of_nonce(const sim_pay *p, const tcn_chain_pubkey *nonce, tcn_swap_view *out)
{
    uint64_t n = tcn_state_swap_count(p->ref);
    for (uint64_t id = 1; id <= n; id++)
        if (tcn_state_swap(p->ref, id, out) && tcn_chain_pubkey_eq(&out->nonce, nonce))
            return id;
    return 0;
}

static void inbox_push(sim *s, int from, const uint8_t *tx, size_t len)
{
    sim_pay *p = P(s);
    if (sim_rng_below(&s->rng_wl, 1000000) < SIM_PAY_SEND_LOSS_PPM) {
        p->dropped_sends++; /* sendTransaction answered, and the transaction never got anywhere */
        return;
    }
    uint64_t at_us = s->now_us + sim_rng_below(&s->rng_wl, SIM_PAY_LATENCY_US_MAX);
    /* A transaction bound to a swap's nonce (a payout, a refund, a sweep):
     * sometimes the griefer's deposit into that escrow lands just before it. */
    static tcn_chain_tx d;
    uint8_t kind = SIM_PAY_TX_OTHER;
    uint64_t swap_id = 0;
    if (len <= TCN_CHAIN_PACKET_BYTES_MAX && tcn_chain_tx_decode(tx, len, &d, NULL) == TCN_OK &&
        d.msg.n_instructions == 2) {
        tcn_chain_system_ix ix0;
        const tcn_chain_message *m = &d.msg;
        if (tcn_chain_system_decode(tcn_chain_message_ix_data(m, 0), m->ix[0].data_len, false, &ix0, NULL) == TCN_OK &&
            ix0.kind == TCN_CHAIN_SYS_ADVANCE_NONCE_ACCOUNT) {
            tcn_swap_view v;
            uint64_t id = swap_of_nonce(p, &m->keys[tcn_chain_message_ix_accounts(m, 0)[0]], &v);
            swap_id = id;
            if (tcn_state_has_genesis(p->ref) && tcn_chain_pubkey_eq(&m->keys[0], tcn_state_coordinator_key(p->ref)))
                kind = SIM_PAY_TX_SWEEP;
            else if (id != 0 && m->ix[1].n_accounts >= 2 &&
                     tcn_chain_pubkey_eq(&m->keys[tcn_chain_message_ix_accounts(m, 1)[1]], &v.refund_to))
                kind = SIM_PAY_TX_REFUND;
            if (id != 0 && !s->liveness && sim_rng_below(&s->rng_wl, SIM_PAY_GRIEF_PCT) == 0)
                deposit(s, id, &v.escrow, at_us);
        }
    }
    sim_pay_tx *t = inbox_add(s, from, tx, len, at_us);
    if (t != NULL) {
        t->kind = kind;
        t->swap_id = swap_id <= SIM_PAY_SWAPS_MAX ? (uint32_t)swap_id : 0;
        if (kind == SIM_PAY_TX_SWEEP || kind == SIM_PAY_TX_REFUND)
            t->bound = d.msg.recent_blockhash;
    }
}

/* Now and then, outside the liveness phase: the griefer deposits into a
 * random escrow, and the holder of an imported escrow key moves lamports
 * out of it (all of them, or all but the rent-exempt minimum) with a plain
 * transaction, not bound to the swap's nonce. */
static void third_parties(sim *s)
{
    sim_pay *p = P(s);
    if (s->liveness || !tcn_state_has_genesis(p->ref))
        return;
    uint64_t n = tcn_state_swap_count(p->ref);
    if (n > SIM_PAY_SWAPS_MAX)
        n = SIM_PAY_SWAPS_MAX;
    if (n > 0 && s->now_us >= p->next_grief_us) {
        p->next_grief_us = s->now_us + sim_rng_range(&s->rng_wl, 300000, 2000000);
        uint64_t id = 1 + sim_rng_below(&s->rng_wl, n);
        tcn_swap_view v;
        if (tcn_state_swap(p->ref, id, &v) && v.status != TCN_SWAP_CLOSED)
            deposit(s, id, &v.escrow, s->now_us + sim_rng_below(&s->rng_wl, SIM_PAY_LATENCY_US_MAX));
    }
    if (n > 0 && s->now_us >= p->next_drain_us) {
        p->next_drain_us = s->now_us + sim_rng_range(&s->rng_wl, 2000000, 8000000);
        uint64_t cand[SIM_PAY_SWAPS_MAX], nc = 0; /* open swaps with an imported escrow key */
        tcn_swap_view v;
        for (uint64_t id = 1; id <= n; id++)
            if (p->swaps[id].import_known && p->swaps[id].import_idx >= 0 && tcn_state_swap(p->ref, id, &v) &&
                v.status != TCN_SWAP_CLOSED)
                cand[nc++] = id;
        if (nc == 0)
            return;
        uint64_t id = cand[sim_rng_below(&s->rng_wl, nc)];
        sim_pay_swap *w = &p->swaps[id];
        TCN_ASSERT(tcn_state_swap(p->ref, id, &v));
        uint64_t bal = tcn_chain_model_balance(p->chain, &v.escrow);
        const uint64_t fee = TCN_CHAIN_LAMPORTS_PER_SIGNATURE, r = TCN_STATE_ESCROW_RESERVE;
        if (bal < fee + 1)
            return;
        uint64_t x = bal - fee; /* all of it */
        if (sim_rng_below(&s->rng_wl, 2) == 0 && bal > fee + 2 * r)
            x = sim_rng_range(&s->rng_wl, 1, bal - fee - r); /* leaving at least R */
        tcn_chain_keypair *kp;
        tcn_error err;
        TCN_ASSERT(tcn_chain_keypair_from_seed(p->imports[w->import_idx].seed, &kp, &err) == TCN_OK);
        tcn_buf b = {0};
        if (sign_transfer(s, kp, &p->holder_sink, x, &b)) {
            sim_pay_tx *t = inbox_add(s, -3, b.p, b.len, s->now_us + sim_rng_below(&s->rng_wl, SIM_PAY_LATENCY_US_MAX));
            if (t != NULL) {
                t->kind = SIM_PAY_TX_DRAIN;
                t->swap_id = (uint32_t)id;
                sim_trace(s, "holder: moves %llu of %llu lamports out of the escrow of swap %llu",
                          (unsigned long long)x, (unsigned long long)bal, (unsigned long long)id);
            }
        }
        tcn_buf_free(&b);
        tcn_chain_keypair_free(kp);
    }
}

/* The release checks: payout bytes leave a node only for a committed intent,
 * and only one payout per (nonce account, nonce value). */
static void check_release(sim *s, uint32_t slot, const uint8_t *b, size_t len)
{
    sim_pay *p = P(s);
    static tcn_chain_tx tx; /* 8 KiB; the simulator is single-threaded */
    tcn_error err;
    if (tcn_chain_tx_decode(b, len, &tx, &err) != TCN_OK) {
        sim_violation(s, "executor", "node %llu sent bytes that do not decode: %s", (unsigned long long)s->m[slot].id,
                      err.msg);
        return;
    }
    tcn_chain_system_ix ix;
    const tcn_chain_message *m = &tx.msg;
    if (m->n_instructions == 0 ||
        tcn_chain_system_decode(tcn_chain_message_ix_data(m, 0), m->ix[0].data_len, false, &ix, NULL) != TCN_OK)
        return;
    if (ix.kind == TCN_CHAIN_SYS_CREATE_ACCOUNT)
        return; /* a nonce account's creation: a plain transaction, sending it twice is harmless */
    if (ix.kind != TCN_CHAIN_SYS_ADVANCE_NONCE_ACCOUNT)
        return;
    if (m->n_instructions == 1)
        return; /* a nonce cancel: moves the nonce, pays nobody (tcn_state_sign_nonce_cancel) */
    {
        /* A refund (sent past the deadline) or a sweep: it pays the swap's
         * own refund_to, needs no intent. Anything else bound to the nonce
         * is a payout. */
        tcn_swap_view v;
        tcn_chain_system_ix t1;
        if (swap_of_nonce(p, &m->keys[tcn_chain_message_ix_accounts(m, 0)[0]], &v) != 0 && m->ix[1].n_accounts >= 2 &&
            tcn_chain_system_decode(tcn_chain_message_ix_data(m, 1), m->ix[1].data_len, false, &t1, NULL) == TCN_OK &&
            t1.kind == TCN_CHAIN_SYS_TRANSFER &&
            tcn_chain_pubkey_eq(&m->keys[tcn_chain_message_ix_accounts(m, 1)[1]], &v.refund_to))
            return;
    }
    const tcn_chain_signature *sig = tcn_chain_tx_id(&tx);
    char h[17];
    hex8(sig->b, h);
    if (intent_by_sig(p, sig) == NULL) {
        sim_violation(s, "payout exactly-once",
                      "node %llu released payout bytes (signature %s...) before their intent was committed",
                      (unsigned long long)s->m[slot].id, h);
        return;
    }
    const tcn_chain_pubkey *nonce = &m->keys[tcn_chain_message_ix_accounts(m, 0)[0]];
    for (size_t i = 0; i < p->n_released; i++) {
        sim_pay_release *r = &p->released[i];
        if (tcn_chain_pubkey_eq(&r->nonce, nonce) && tcn_chain_hash_eq(&r->value, &m->recent_blockhash)) {
            if (!tcn_chain_signature_eq(&r->sig, sig))
                sim_violation(s, "payout exactly-once",
                              "two different payouts released for one (nonce account, nonce value): %s...",
                              h);
            return;
        }
    }
    if (p->n_released == p->cap_released) {
        size_t cap = p->cap_released ? p->cap_released * 2 : 64;
        sim_pay_release *n = realloc(p->released, cap * sizeof(*n));
        TCN_ASSERT(n != NULL);
        p->released = n;
        p->cap_released = cap;
    }
    sim_pay_release *r = &p->released[p->n_released++];
    r->nonce = *nonce;
    r->value = m->recent_blockhash;
    r->sig = *sig;
}

static int port_send(void *ctx, const uint8_t *tx, size_t len, tcn_error *err)
{
    port_ctx *c = ctx;
    if (c->s->pay.chain_down[c->slot])
        return tcn_err_set(err, TCN_ERR_IO, "simulated: the chain is unreachable");
    check_release(c->s, c->slot, tx, len);
    c->s->pay.sends++;
    inbox_push(c->s, (int)c->slot, tx, len);
    return TCN_OK;
}

static int port_propose(void *ctx, const uint8_t *cmd, size_t len)
{
    port_ctx *c = ctx;
    uint64_t index;
    return tcn_raft_propose(c->s->m[c->slot].r, cmd, len, &index);
}

/* --- The chain's own time ---------------------------------------------------------- */

static int inbox_cmp(const void *a, const void *b)
{
    const sim_pay_tx *x = a, *y = b;
    if (x->at_us != y->at_us)
        return x->at_us < y->at_us ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void chain_step(sim *s)
{
    sim_pay *p = P(s);
    while (s->now_us >= p->next_slot_us) {
        hist_record(p); /* what a node that lags will answer for this slot */
        tcn_chain_model_advance_slot(p->chain);
        p->next_slot_us += SIM_PAY_SLOT_US;
    }
    if (p->n_inbox == 0)
        return;
    qsort(p->inbox, p->n_inbox, sizeof(*p->inbox), inbox_cmp);
    size_t k = 0;
    while (k < p->n_inbox && p->inbox[k].at_us <= s->now_us && !s->violated) {
        sim_pay_tx *t = &p->inbox[k++];
        tcn_chain_submit_result r;
        TCN_ASSERT(tcn_chain_model_submit(p->chain, t->bytes, t->len, &r) == TCN_OK);
        if (!r.landed) {
            p->rejected++;
            if (t->kind == SIM_PAY_TX_SWEEP)
                sim_trace(s, "chain: a sweep is refused: %s", r.log);
            continue;
        }
        if (r.err.kind == TCN_CHAIN_TX_OK)
            p->landed_ok++;
        else
            p->landed_err++;
        if (t->kind == SIM_PAY_TX_DEPOSIT) {
            p->griefer_fees += r.fee;
            if (r.err.kind == TCN_CHAIN_TX_OK) {
                sim_pay_swap *w = &p->swaps[t->swap_id];
                TCN_ASSERT(w->n_dep < SIM_PAY_DEPOSITS_MAX);
                w->dep_slot[w->n_dep] = r.slot;
                w->dep_lamports[w->n_dep++] = t->lamports;
                p->deposits_landed++;
                p->deposits_lamports += t->lamports;
            }
            continue;
        }
        if (t->kind == SIM_PAY_TX_DRAIN) {
            /* Failed or not, it landed: the escrow paid its fee. */
            p->swaps[t->swap_id].drained = true;
            p->drains_landed++;
            continue;
        }
        if ((t->kind == SIM_PAY_TX_SWEEP || t->kind == SIM_PAY_TX_REFUND) && t->swap_id != 0) {
            /* It moved the swap's nonce; a refund that fails has burnt it:
             * the hole the reserve closes (unless a holder took the lamports). */
            sim_pay_swap *w = &p->swaps[t->swap_id];
            if (t->kind == SIM_PAY_TX_REFUND && r.err.kind != TCN_CHAIN_TX_OK && !w->drained) {
                sim_violation(s, "refund never stranded",
                              "the refund of swap %u landed and failed (its nonce is burnt): %s: %.120s", t->swap_id,
                              tcn_chain_txerr_name(r.err.kind), r.log);
                continue;
            }
            w->paid = true;
            w->paid_value = t->bound;
        }
        if (t->kind == SIM_PAY_TX_SWEEP) {
            if (r.err.kind == TCN_CHAIN_TX_OK)
                p->sweeps_ok++;
            else
                p->sweeps_failed++;
            sim_trace(s, "chain: a sweep landed in slot %llu (%s)", (unsigned long long)r.slot,
                      r.err.kind == TCN_CHAIN_TX_OK ? "ok" : r.log);
        }
        const sim_pay_intent *in = intent_by_sig(p, &r.signature);
        if (in == NULL)
            continue;
        uint32_t *n = landed_slot(p, in->payout_id);
        if (++*n > 1)
            sim_violation(s, "payout exactly-once", "payout %llu landed on the chain a second time (slot %llu)",
                          (unsigned long long)in->payout_id, (unsigned long long)r.slot);
        sim_trace(s, "chain: payout %llu landed in slot %llu (%s)", (unsigned long long)in->payout_id,
                  (unsigned long long)r.slot, r.err.kind == TCN_CHAIN_TX_OK ? "ok" : r.log);
    }
    memmove(p->inbox, p->inbox + k, (p->n_inbox - k) * sizeof(*p->inbox));
    p->n_inbox -= k;
}

/* Machines lose the chain for a while now and then (only with the partition fault). */
static void chain_faults(sim *s)
{
    sim_pay *p = P(s);
    if (s->liveness) {
        memset(p->chain_down, 0, sizeof(p->chain_down));
        return;
    }
    if (!sim_has(s, SIM_F_PARTITION) || s->now_us < p->next_chain_fault_us || s->n_machines == 0)
        return;
    uint32_t m = (uint32_t)sim_rng_below(&s->rng_wl, s->n_machines);
    p->chain_down[m] = !p->chain_down[m];
    sim_trace(s, "machine %u %s the chain", m, p->chain_down[m] ? "loses" : "reaches");
    p->next_chain_fault_us = s->now_us + sim_rng_range(&s->rng_wl, 200000, 3000000);
}

/* --- Clients --------------------------------------------------------------------- */

static bool client_propose(sim *s, tcn_cmd *c)
{
    int l = node_leader(s);
    if (l < 0) {
        tcn_cmd_wipe(c);
        return false;
    }
    c->ts_ms = wall_ms_node(s, (uint32_t)l); /* the leader stamps the time */
    tcn_buf b = {0};
    tcn_error err;
    int rc = tcn_cmd_encode(c, &b, &err);
    tcn_cmd_wipe(c);
    TCN_ASSERT(rc == TCN_OK);
    uint64_t index;
    rc = tcn_raft_propose(s->m[l].r, b.p, b.len, &index);
    tcn_buf_free_wipe(&b);
    if (rc == TCN_OK)
        node_drain(s, (uint32_t)l);
    return rc == TCN_OK;
}

static void client_set(sim *s, const tcn_chain_pubkey *who, uint8_t role)
{
    tcn_cmd c;
    memset(&c, 0, sizeof(c));
    c.type = TCN_CMD_CLIENT_SET;
    c.actor = P(s)->operator_key;
    c.u.client_set.client = *who;
    c.u.client_set.role = role;
    (void)client_propose(s, &c);
}

void pay_inject(sim *s, uint32_t slot, uint32_t n)
{
    (void)slot;
    if (!tcn_state_has_genesis(P(s)->ref))
        return;
    for (uint32_t i = 0; i < n; i++) {
        tcn_chain_pubkey k;
        rand_bytes(s, k.b, 32);
        client_set(s, &k, TCN_ROLE_LP);
    }
}

static void propose_genesis(sim *s)
{
    tcn_cmd c;
    memset(&c, 0, sizeof(c));
    c.type = TCN_CMD_GENESIS;
    rand_bytes(s, c.u.genesis.group_id, sizeof(c.u.genesis.group_id));
    rand_bytes(s, c.u.genesis.coordinator_seed, sizeof(c.u.genesis.coordinator_seed)); /* the leader's entropy */
    c.u.genesis.operator_key = P(s)->operator_key;
    (void)client_propose(s, &c);
}

/* The id of the committed key with this public key, or 0. */
static uint64_t key_id_of(const tcn_state *st, const tcn_chain_pubkey *pk)
{
    tcn_key_view k;
    for (uint64_t id = 1; tcn_state_key(st, id, &k); id++)
        if (tcn_chain_pubkey_eq(&k.pubkey, pk))
            return id;
    return 0;
}

/* A user's imported key, committed and not yet any swap's escrow: its id,
 * and its index in p->imports; or 0 after proposing a new KEY_IMPORT. */
static uint64_t imported_key(sim *s, uint32_t u, int *idx)
{
    sim_pay *p = P(s);
    for (uint32_t i = 0; i < p->n_imports; i++) {
        sim_pay_import *im = &p->imports[i];
        uint64_t id;
        if (im->user == u && !im->used && (id = key_id_of(p->ref, &im->pubkey)) != 0) {
            *idx = (int)i;
            return id;
        }
    }
    if (p->n_imports == SIM_PAY_IMPORTS_MAX)
        return 0;
    sim_pay_import *im = &p->imports[p->n_imports];
    rand_bytes(s, im->seed, 32);
    tcn_chain_keypair *kp;
    tcn_error err;
    TCN_ASSERT(tcn_chain_keypair_from_seed(im->seed, &kp, &err) == TCN_OK);
    im->pubkey = *tcn_chain_keypair_pubkey(kp);
    tcn_chain_keypair_free(kp);
    im->user = u;
    p->n_imports++;
    tcn_cmd c;
    memset(&c, 0, sizeof(c));
    c.type = TCN_CMD_KEY_IMPORT;
    c.actor = p->users[u];
    c.u.key_import.kind = TCN_KEY_ED25519_SEED;
    c.u.key_import.len = 32;
    memcpy(c.u.key_import.secret, im->seed, 32);
    (void)client_propose(s, &c); /* lost: another import next time */
    return 0;
}

static void create_swap(sim *s)
{
    sim_pay *p = P(s);
    uint32_t u = (uint32_t)sim_rng_below(&s->rng_wl, SIM_PAY_USERS);
    tcn_cmd c;
    memset(&c, 0, sizeof(c));
    c.type = TCN_CMD_SWAP_CREATE;
    c.actor = p->users[u];
    if (sim_rng_below(&s->rng_wl, 100) < SIM_PAY_IMPORTED_PCT) {
        /* An escrow whose key the user imported: its holder (the simulator)
         * can also move the escrow's lamports behind the network's back. */
        int idx;
        c.u.swap_create.escrow_key_id = imported_key(s, u, &idx);
        if (c.u.swap_create.escrow_key_id == 0)
            return;
        p->imports[idx].used = true; /* one swap per escrow key, ever (SWAP_CREATE) */
    } else {
        rand_bytes(s, c.u.swap_create.escrow_seed, 32);
    }
    rand_bytes(s, c.u.swap_create.nonce_seed, 32);
    c.u.swap_create.lp = p->lp;
    c.u.swap_create.refund_to = p->refund_to[u];
    c.u.swap_create.amount = 5000000 + sim_rng_below(&s->rng_wl, 3000000);
    c.u.swap_create.deadline_ms = wall_ms_global(s) + SIM_PAY_DEADLINE_MS;
    if (sim_rng_below(&s->rng_wl, 5) == 0) /* one in five runs out within the run: the leader refunds, then sweeps */
        c.u.swap_create.deadline_ms = wall_ms_global(s) + sim_rng_range(&s->rng_wl, 15000, 40000);
    c.u.swap_create.policy.n_destinations = 1;
    c.u.swap_create.policy.destinations[0] = p->lp;
    c.u.swap_create.policy.max_per_payout = c.u.swap_create.amount;
    (void)client_propose(s, &c);
}

/* The client's plan once its escrow is funded: 1-3 payouts that always
 * leave the escrow its reserve (the rent-exempt minimum), each big enough
 * to make a new destination rent exempt. */
static void plan_payouts(sim *s, sim_pay_swap *w, uint64_t amount)
{
    uint32_t k = (uint32_t)sim_rng_range(&s->rng_wl, 1, 3);
    uint64_t spendable = amount - tcn_chain_rent_minimum_balance(0) - 4 * TCN_STATE_TX_FEE;
    w->planned = k;
    uint64_t sum = 0;
    for (uint32_t i = 0; i < k; i++) {
        w->plan_amount[i] = SIM_PAY_PAYOUT_MIN + sim_rng_below(&s->rng_wl, spendable / k - SIM_PAY_PAYOUT_MIN);
        sum += w->plan_amount[i];
    }
    /* One plan in three pays out everything but the reserve: the swap is
     * done when the last payout lands, and the leader sweeps R (and any
     * deposit) back to refund_to. */
    if (sim_rng_below(&s->rng_wl, 3) == 0)
        w->plan_amount[k - 1] = amount - TCN_STATE_ESCROW_RESERVE - k * TCN_STATE_TX_FEE - (sum - w->plan_amount[k - 1]);
}

static void clients(sim *s)
{
    sim_pay *p = P(s);
    const tcn_state *ref = p->ref;
    if (!tcn_state_has_genesis(ref)) {
        if (s->now_us >= p->next_client_us) {
            propose_genesis(s);
            p->next_client_us = s->now_us + 300000;
        }
        return;
    }
    if (!p->coordinator_funded) {
        /* The operator funds the coordinator's account: it pays for the
         * nonce accounts (rent-exempt minimum) and their fees. */
        tcn_error err;
        TCN_ASSERT(tcn_chain_model_airdrop(p->chain, tcn_state_coordinator_key(ref), SIM_PAY_COORDINATOR_FUNDS, &err) ==
                   TCN_OK);
        p->coordinator_funded = true;
    }
    if (s->now_us < p->next_client_us)
        return;
    p->next_client_us = s->now_us + sim_rng_range(&s->rng_wl, 50000, 250000);
    for (uint32_t u = 0; u < SIM_PAY_USERS; u++)
        if (tcn_state_client_role(ref, &p->users[u]) != TCN_ROLE_USER) {
            client_set(s, &p->users[u], TCN_ROLE_USER);
            return;
        }
    if (tcn_state_client_role(ref, &p->lp) != TCN_ROLE_LP) {
        client_set(s, &p->lp, TCN_ROLE_LP);
        return;
    }
    uint64_t n = tcn_state_swap_count(ref);
    if (!s->liveness && n < SIM_PAY_SWAPS_MAX && sim_rng_below(&s->rng_wl, 10) == 0)
        create_swap(s);
    for (uint64_t id = 1; id <= n && id <= SIM_PAY_SWAPS_MAX; id++) {
        sim_pay_swap *w = &p->swaps[id];
        tcn_swap_view v;
        if (!tcn_state_swap(ref, id, &v))
            continue;
        if (!w->import_known) {
            w->import_idx = -1;
            for (uint32_t i = 0; i < p->n_imports; i++)
                if (tcn_chain_pubkey_eq(&p->imports[i].pubkey, &v.escrow))
                    w->import_idx = (int)i;
            w->import_known = true;
        }
        /* Fund the escrow only once the refund is committed: the user holds
         * its way back before it sends anything. */
        /* ... and only while that refund is for at least its amount, and the
         * escrow is not funded already (by someone else's deposits): money
         * the network has not seen is not in the refund it holds. */
        if (!w->funded && !s->liveness && v.status == TCN_SWAP_OPEN && v.refund_len > 0 && !v.funded &&
            tcn_state_refund_balance(ref, id, v.escrow_lamports) >= v.amount && wall_ms_global(s) + 5000 < v.deadline_ms) {
            tcn_error err;
            if (tcn_chain_model_airdrop(p->chain, &v.escrow, v.amount, &err) != TCN_OK) {
                sim_violation(s, "workload", "funding the escrow of swap %llu failed: %s", (unsigned long long)id,
                              err.msg);
                return;
            }
            w->funded = true;
            plan_payouts(s, w, v.amount);
            if (sim_rng_below(&s->rng_wl, 5) == 0) /* this user will take its refund */
                w->refund_at_us = s->now_us + sim_rng_range(&s->rng_wl, 0, 6000000);
            sim_trace(s, "client: funds swap %llu with %llu lamports", (unsigned long long)id,
                      (unsigned long long)v.amount);
            continue;
        }
        if (!w->funded)
            continue;
        if (w->refund_at_us != 0 && !w->user_refund && s->now_us >= w->refund_at_us && v.refund_len > 0) {
            inbox_push(s, -1, v.refund, v.refund_len);
            w->user_refund = true;
            p->user_refunds++;
            sim_trace(s, "client: sends the refund of swap %llu", (unsigned long long)id);
            continue;
        }
        if (!s->liveness && !w->user_refund && v.n_payouts < w->planned && s->now_us >= w->next_try_us &&
            v.status == TCN_SWAP_OPEN) {
            tcn_cmd c;
            memset(&c, 0, sizeof(c));
            c.type = TCN_CMD_PAYOUT_SCHEDULE;
            c.actor = v.user;
            c.u.payout_schedule.swap_id = id;
            c.u.payout_schedule.destination = v.lp;
            c.u.payout_schedule.amount = w->plan_amount[v.n_payouts];
            c.u.payout_schedule.due_ms = wall_ms_global(s) + sim_rng_below(&s->rng_wl, 3000);
            if (client_propose(s, &c))
                w->next_try_us = s->now_us + 2000000;
        }
    }
}

/* --- The executor on every node that believes it leads ------------------------------ */

static bool exec_ready(const sim *s, uint32_t slot)
{
    const sim_node *nd = &s->m[slot];
    if (!node_usable(s, slot) || tcn_raft_role_of(nd->r) != TCN_RAFT_LEADER)
        return false;
    /* Only with an entry of its own term applied: before that it may not
     * know every committed intent. (Asking the log for the entry at the
     * commit index is not enough: once a snapshot covers it, it is gone, and
     * a leader with nothing to propose waited for ever: tcn-sim --seed 107
     * --steps 5000 --workload payouts.) */
    return nd->applied == tcn_raft_commit_index(nd->r) && tcn_raft_commit_in_term(nd->r);
}

static void executors(sim *s)
{
    static const tcn_exec_chain port = {
        .latest = port_latest, .accounts = port_accounts, .send = port_send, .status = port_status};
    for (uint32_t i = 0; i < s->n_machines && !s->violated; i++) {
        if (!exec_ready(s, i))
            continue;
        port_ctx pc = {.s = s, .slot = i};
        tcn_exec_chain ch = port;
        ch.ctx = &pc;
        node_advance_clock(s, i);
        s->event_us = s->now_us;
        tcn_exec_stats before = *tcn_exec_stats_of(s->m[i].ex);
        int rc = tcn_exec_step(s->m[i].ex, s->m[i].st, tcn_raft_term(s->m[i].r), wall_ms_node(s, i), &ch,
                               port_propose, &pc);
        TCN_ASSERT(rc == TCN_OK);
        P(s)->exec_steps++;
        node_drain(s, i);
        /* Crashes at the protocol's delicate instants: right after the
         * leader signed and proposed (an intent, or an outcome with its new
         * refund) and before it commits; right after it sent payout bytes
         * and before they land or their outcome is recorded. */
        if (!s->m[i].up)
            continue; /* the drain may have ended it (a retired node) */
        const tcn_exec_stats *after = tcn_exec_stats_of(s->m[i].ex);
        bool sent = after->sent != before.sent, proposed = after->proposed != before.proposed;
        if ((sent || proposed) && sim_rng_below(&s->rng_wl, 100) < SIM_PAY_TARGETED_CRASH_PCT &&
            faults_crash_now(s, i)) { /* frees the node's executor */
            P(s)->targeted_crashes++;
            sim_trace(s, "machine %u crashes right after its executor %s", i,
                      sent ? "sent a transaction" : "proposed a command");
        }
    }
}

void pay_step(sim *s)
{
    sim_pay *p = P(s);
    chain_faults(s);
    chain_step(s);
    if (s->violated)
        return;
    clients(s);
    if (s->violated)
        return;
    third_parties(s);
    if (s->liveness && !p->live_sent && tcn_state_has_genesis(p->ref)) {
        /* The liveness write: a new LP registered after the heal. */
        tcn_cmd c;
        memset(&c, 0, sizeof(c));
        c.type = TCN_CMD_CLIENT_SET;
        c.ts_ms = wall_ms_global(s);
        c.actor = p->operator_key;
        rand_bytes(s, c.u.client_set.client.b, 32);
        c.u.client_set.role = TCN_ROLE_LP;
        tcn_buf b = {0};
        TCN_ASSERT(tcn_cmd_encode(&c, &b, NULL) == TCN_OK && b.len <= sizeof(p->live_cmd));
        memcpy(p->live_cmd, b.p, b.len);
        p->live_len = b.len;
        tcn_buf_free(&b);
        p->live_sent = true;
    }
    if (s->liveness && p->live_index == 0 && p->live_sent && s->step % 20 == 0) {
        int l = node_leader(s);
        uint64_t index;
        if (l >= 0 && tcn_raft_propose(s->m[l].r, p->live_cmd, p->live_len, &index) == TCN_OK)
            node_drain(s, (uint32_t)l);
    }
    executors(s);
}

uint64_t pay_liveness_index(const sim *s) { return s->pay.live_index; }

/* --- Checkers ------------------------------------------------------------------------ */

/* Deposits that landed at or after the committed state's last observation
 * of the swap: the network may not have seen them yet (an observation at
 * slot S may miss what lands later in S). */
static uint64_t unobserved_deposits(const sim_pay_swap *w, uint64_t observed_slot)
{
    uint64_t sum = 0;
    for (uint32_t i = 0; i < w->n_dep; i++)
        if (w->dep_slot[i] >= observed_slot)
            sum += w->dep_lamports[i];
    return sum;
}

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 1099511628211ull;
    return h;
}

/* A committed refund is valid when it is bound to the nonce account's
 * current value, pays refund_to what the refund rule says for the balance
 * the state knows (tcn_state_refund_lamports: all but the reserve and the
 * fee), and would land on the chain model right now (simulated, nothing
 * stored). *defer: it cannot be told in this slot (the nonce advanced in it
 * already: NonceBlockhashNotExpired); the next slot will tell. */
static bool refund_valid(sim *s, const tcn_swap_view *v, sim_pay_swap *w, char *why, size_t cap, bool *defer)
{
    static tcn_chain_tx tx;
    sim_pay *p = P(s);
    *defer = false;
    if (v->refund_len == 0) {
        snprintf(why, cap, "no refund");
        return false;
    }
    tcn_error err;
    if (tcn_chain_tx_decode(v->refund, v->refund_len, &tx, &err) != TCN_OK) {
        snprintf(why, cap, "the refund does not decode: %.160s", err.msg);
        return false;
    }
    tcn_chain_nonce_state ns;
    if (tcn_chain_model_nonce(p->chain, &v->nonce, &ns, &err) != TCN_OK) {
        snprintf(why, cap, "nonce account: %.160s", err.msg);
        return false;
    }
    if (!tcn_chain_hash_eq(&ns.durable_nonce, &tx.msg.recent_blockhash)) {
        char a[17], b[17];
        hex8(tx.msg.recent_blockhash.b, a);
        hex8(ns.durable_nonce.b, b);
        snprintf(why, cap, "the refund is bound to nonce value %s... but the chain holds %s...", a, b);
        return false;
    }
    tcn_chain_system_ix ix;
    const tcn_chain_message *m = &tx.msg;
    if (m->n_instructions != 2 ||
        tcn_chain_system_decode(tcn_chain_message_ix_data(m, 1), m->ix[1].data_len, false, &ix, NULL) != TCN_OK ||
        ix.kind != TCN_CHAIN_SYS_TRANSFER || m->ix[1].n_accounts < 2 ||
        !tcn_chain_pubkey_eq(&m->keys[tcn_chain_message_ix_accounts(m, 1)[1]], &v->refund_to)) {
        snprintf(why, cap, "the refund is not AdvanceNonce + Transfer to refund_to");
        return false;
    }
    uint64_t want = tcn_state_refund_lamports(tcn_state_refund_balance(p->ref, v->id, v->escrow_lamports));
    if (ix.lamports != want) {
        snprintf(why, cap, "the refund moves %llu lamports, the rule says %llu for the %llu the state knows",
                 (unsigned long long)ix.lamports, (unsigned long long)want, (unsigned long long)v->escrow_lamports);
        return false;
    }
    /* A nonce advanced (or initialized) in this slot cannot advance again in
     * it (Agave: not advanceable, the transaction is refused): the next slot tells. */
    tcn_chain_hash bh, next;
    tcn_chain_model_latest_blockhash(p->chain, &bh, NULL);
    tcn_chain_durable_nonce_from_blockhash(&bh, &next);
    if (tcn_chain_hash_eq(&next, &ns.durable_nonce)) {
        *defer = true;
        return false;
    }
    /* Would it land now? Simulated only when something it depends on changed. */
    uint64_t bal = tcn_chain_model_balance(p->chain, &v->escrow), to = tcn_chain_model_balance(p->chain, &v->refund_to);
    uint64_t key = fnv(1469598103934665603ull, v->refund, v->refund_len);
    key = fnv(key, &bal, sizeof(bal));
    key = fnv(key, &to, sizeof(to));
    if (w != NULL && w->checked == key)
        return true;
    tcn_chain_submit_result r;
    TCN_ASSERT(tcn_chain_model_simulate(p->chain, v->refund, v->refund_len, &r) == TCN_OK);
    if (r.landed && r.err.kind == TCN_CHAIN_TX_OK) {
        if (w != NULL)
            w->checked = key;
        return true;
    }
    if (r.err.kind == TCN_CHAIN_TXERR_INSTRUCTION_ERROR && r.err.ix == TCN_CHAIN_IXERR_CUSTOM &&
        r.err.custom == TCN_CHAIN_SYSERR_NONCE_BLOCKHASH_NOT_EXPIRED) {
        *defer = true;
        return false;
    }
    snprintf(why, cap, "the refund would not land now (escrow %llu lamports): %s: %.120s", (unsigned long long)bal,
             tcn_chain_txerr_name(r.err.kind), r.log);
    return false;
}

/* The refund guarantee, in committed state: every swap whose escrow holds
 * more than a refund needs (tcn_state_refund_lamports > 0 of what is
 * there, less deposits the network cannot have seen yet) has an open
 * intent, or a refund valid against the nonce's current value that would
 * land now and pays refund_to all but the reserve and the fee. Not owed:
 * swaps whose user has not funded yet (the user holds a refund for when it
 * does), and escrows of imported keys whose holder moved lamports out (the
 * holder may; liveness still requires those swaps to settle). */
void pay_check_step(sim *s)
{
    sim_pay *p = P(s);
    tcn_error err;
    if (tcn_chain_model_check_conservation(p->chain, &err) != TCN_OK) {
        sim_violation(s, "lamports conserved", "%s", err.msg);
        return;
    }
    /* The third party's lamports: what it holds, what it deposited, its fees. */
    uint64_t g = tcn_chain_model_balance(p->chain, tcn_chain_keypair_pubkey(p->griefer));
    if (g + p->deposits_lamports + p->griefer_fees != p->griefer_funds) {
        sim_violation(s, "lamports conserved",
                      "the griefer holds %llu, deposited %llu and paid %llu in fees, of %llu it was given",
                      (unsigned long long)g, (unsigned long long)p->deposits_lamports,
                      (unsigned long long)p->griefer_fees, (unsigned long long)p->griefer_funds);
        return;
    }
    uint64_t n = tcn_state_swap_count(p->ref);
    for (uint64_t id = 1; id <= n; id++) {
        tcn_swap_view v;
        if (!tcn_state_swap(p->ref, id, &v) || v.intent_payout_id != 0 || v.status != TCN_SWAP_OPEN)
            continue;
        sim_pay_swap *w = id <= SIM_PAY_SWAPS_MAX ? &p->swaps[id] : NULL;
        if (w != NULL && w->drained)
            continue;
        if (!v.funded && (w == NULL || !w->funded))
            continue;
        if (w != NULL && w->paid && tcn_chain_hash_eq(&w->paid_value, &v.nonce_value))
            continue; /* its refund (or sweep) landed and paid refund_to: the rest is the next observation's */
        uint64_t bal = tcn_chain_model_balance(p->chain, &v.escrow);
        uint64_t unseen = w != NULL ? unobserved_deposits(w, v.observed_slot) : 0;
        uint64_t known = bal > unseen ? bal - unseen : 0;
        if (tcn_state_refund_lamports(known) == 0)
            continue;
        char why[256];
        bool defer;
        if (!refund_valid(s, &v, w, why, sizeof(why), &defer) && !defer) {
            sim_violation(s, "refund never stranded",
                          "swap %llu holds %llu lamports on the chain (%llu of them deposits the network may not "
                          "have seen) with no open intent and no refund that lands: %s",
                          (unsigned long long)id, (unsigned long long)bal, (unsigned long long)unseen, why);
            return;
        }
    }
}

/* Payouts the run must see landed: scheduled on a funded swap whose user
 * did not take its refund, and allowed now (policy, balance). */
static bool payout_expected(sim *s, const tcn_payout_view *pv)
{
    sim_pay *p = P(s);
    if (pv->swap_id > SIM_PAY_SWAPS_MAX || !p->swaps[pv->swap_id].funded || p->swaps[pv->swap_id].user_refund ||
        p->swaps[pv->swap_id].drained)
        return false;
    if (pv->status != TCN_PAYOUT_SCHEDULED)
        return true;
    tcn_error err;
    return pv->due_ms > wall_ms_global(s) || tcn_state_check_payout(p->ref, pv->id, wall_ms_global(s), &err) == TCN_OK;
}

bool pay_settled(sim *s, char *why, size_t cap)
{
    sim_pay *p = P(s);
    if (!tcn_state_has_genesis(p->ref)) {
        snprintf(why, cap, "no genesis committed");
        return false;
    }
    uint64_t n = tcn_state_swap_count(p->ref);
    for (uint64_t id = 1; id <= n; id++) {
        tcn_swap_view v;
        if (!tcn_state_swap(p->ref, id, &v))
            continue;
        if (v.status == TCN_SWAP_NEW) {
            snprintf(why, cap, "swap %llu still has no nonce account", (unsigned long long)id);
            return false;
        }
        if (v.intent_payout_id != 0) {
            snprintf(why, cap, "swap %llu: payout %llu has an open intent", (unsigned long long)id,
                     (unsigned long long)v.intent_payout_id);
            return false;
        }
        if (id <= SIM_PAY_SWAPS_MAX && p->swaps[id].funded && !p->swaps[id].user_refund && !p->swaps[id].drained &&
            !v.funded) {
            snprintf(why, cap, "swap %llu: the escrow's funding is not recorded", (unsigned long long)id);
            return false;
        }
        /* A swap that is done is swept: the escrow seen empty, CLOSED. */
        if (tcn_state_sweep_due(p->ref, id, wall_ms_global(s))) {
            snprintf(why, cap, "swap %llu is done and its escrow (%llu lamports on the chain, %llu known) not swept",
                     (unsigned long long)id, (unsigned long long)tcn_chain_model_balance(p->chain, &v.escrow),
                     (unsigned long long)v.escrow_lamports);
            return false;
        }
        /* The chain and the state agree on an open swap's escrow (a drain or
         * a deposit not observed yet would leave a refund for the wrong sum). */
        if (v.status == TCN_SWAP_OPEN && v.funded &&
            tcn_chain_model_balance(p->chain, &v.escrow) != v.escrow_lamports) {
            snprintf(why, cap, "swap %llu: the escrow holds %llu, the state knows %llu", (unsigned long long)id,
                     (unsigned long long)tcn_chain_model_balance(p->chain, &v.escrow),
                     (unsigned long long)v.escrow_lamports);
            return false;
        }
    }
    uint64_t np = tcn_state_payout_count(p->ref);
    for (uint64_t pid = 1; pid <= np; pid++) {
        tcn_payout_view pv;
        if (!tcn_state_payout(p->ref, pid, &pv) || !payout_expected(s, &pv))
            continue;
        if (pv.status == TCN_PAYOUT_FAILED) {
            sim_violation(s, "payouts", "payout %llu failed on the chain though its swap could pay it",
                          (unsigned long long)pid);
            return false;
        }
        if (pv.status != TCN_PAYOUT_PAID) {
            snprintf(why, cap, "payout %llu (swap %llu) is due and not paid", (unsigned long long)pid,
                     (unsigned long long)pv.swap_id);
            return false;
        }
    }
    return true;
}

void pay_final_check(sim *s)
{
    sim_pay *p = P(s);
    char why[256];
    if (!pay_settled(s, why, sizeof(why))) {
        if (!s->violated)
            sim_violation(s, "payouts", "at the end of the liveness phase: %s", why);
        return;
    }
    uint64_t np = tcn_state_payout_count(p->ref);
    for (uint64_t pid = 1; pid <= np; pid++) {
        tcn_payout_view pv;
        if (!tcn_state_payout(p->ref, pid, &pv) || pv.status != TCN_PAYOUT_PAID)
            continue;
        uint32_t landed = pid < p->cap_landed ? p->landed[pid] : 0;
        tcn_chain_sig_status st;
        tcn_chain_model_signature_status(p->chain, &pv.sig, &st);
        if (landed != 1 || st.state != TCN_CHAIN_SIG_LANDED_OK) {
            sim_violation(s, "payout exactly-once", "payout %llu is recorded paid but landed %u times (status %d)",
                          (unsigned long long)pid, landed, (int)st.state);
            return;
        }
    }
    /* Every refund held for an escrow with lamports would land in the next
     * slot (a nonce advances at most once per slot: NonceBlockhashNotExpired). */
    tcn_chain_model_advance_slot(p->chain);
    uint64_t n = tcn_state_swap_count(p->ref);
    for (uint64_t id = 1; id <= n; id++) {
        tcn_swap_view v;
        if (!tcn_state_swap(p->ref, id, &v))
            continue;
        uint64_t bal = tcn_chain_model_balance(p->chain, &v.escrow);
        if (v.status == TCN_SWAP_CLOSED || tcn_state_refund_lamports(bal) == 0 || (!v.funded && bal < v.amount))
            continue;
        tcn_chain_submit_result r;
        TCN_ASSERT(tcn_chain_model_simulate(p->chain, v.refund, v.refund_len, &r) == TCN_OK);
        if (!r.landed || r.err.kind != TCN_CHAIN_TX_OK) {
            sim_violation(s, "refund never stranded", "swap %llu: its committed refund would not land: %s",
                          (unsigned long long)id, r.log);
            return;
        }
    }
    /* Every node that applied as far as the reference holds byte-identical state. */
    uint8_t want[32], got[32];
    tcn_error err;
    TCN_ASSERT(tcn_state_digest(p->ref, want, &err) == TCN_OK);
    for (uint32_t i = 0; i < s->n_machines; i++) {
        if (!s->m[i].up || s->m[i].st == NULL ||
            tcn_state_applied_index(s->m[i].st) != tcn_state_applied_index(p->ref))
            continue;
        TCN_ASSERT(tcn_state_digest(s->m[i].st, got, &err) == TCN_OK);
        if (memcmp(want, got, sizeof(want)) != 0) {
            sim_violation(s, "state machine safety", "node %llu's state differs from the reference at index %llu",
                          (unsigned long long)s->m[i].id, (unsigned long long)tcn_state_applied_index(p->ref));
            return;
        }
    }
}

void pay_stats(const sim *s)
{
    const sim_pay *p = &s->pay;
    uint64_t paid = 0, np = tcn_state_payout_count(p->ref);
    for (uint64_t pid = 1; pid <= np; pid++) {
        tcn_payout_view pv;
        if (tcn_state_payout(p->ref, pid, &pv) && pv.status == TCN_PAYOUT_PAID)
            paid++;
    }
    printf("payouts: swaps %llu, payouts %llu (paid %llu), intents %zu, commands %llu (refused %llu); chain: slot "
           "%llu, sends %llu (lost %llu), landed ok %llu / failed %llu, rejected %llu; user refunds %llu; crashes right after an executor action %llu\n",
           (unsigned long long)tcn_state_swap_count(p->ref), (unsigned long long)np, (unsigned long long)paid,
           p->n_intents, (unsigned long long)p->applied_cmds, (unsigned long long)p->refused,
           (unsigned long long)tcn_chain_model_slot(p->chain), (unsigned long long)p->sends,
           (unsigned long long)p->dropped_sends, (unsigned long long)p->landed_ok, (unsigned long long)p->landed_err,
           (unsigned long long)p->rejected, (unsigned long long)p->user_refunds,
           (unsigned long long)p->targeted_crashes);
    uint64_t closed = 0, imported = 0;
    for (uint64_t id = 1; id <= tcn_state_swap_count(p->ref); id++) {
        tcn_swap_view v;
        if (tcn_state_swap(p->ref, id, &v) && v.status == TCN_SWAP_CLOSED)
            closed++;
        if (id <= SIM_PAY_SWAPS_MAX && p->swaps[id].import_known && p->swaps[id].import_idx >= 0)
            imported++;
    }
    printf("payouts: third parties: deposits sent %llu, landed %llu (%llu lamports); imported escrows %llu, drains "
           "%llu; sweeps landed ok %llu / failed %llu; swaps closed %llu; lagged account reads %llu\n",
           (unsigned long long)p->deposits_sent, (unsigned long long)p->deposits_landed,
           (unsigned long long)p->deposits_lamports, (unsigned long long)imported, (unsigned long long)p->drains_landed,
           (unsigned long long)p->sweeps_ok, (unsigned long long)p->sweeps_failed, (unsigned long long)closed,
           (unsigned long long)p->lagged_reads);
}
