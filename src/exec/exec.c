/* The payout executor: one pass over the committed swaps per step, turning chain answers into commands. */
#include "exec/exec.h"

#include <stdlib.h>
#include <string.h>

#include "chain/rent.h"
#include "chain/transaction.h"
#include "state/cmd.h"
#include "util/assert.h"
#include "util/buf.h"
#include "util/secmem.h"

#ifdef TCN_EXEC_BUGS
#define EXEC_BUG(x, flag) (((x)->o.bugs & (flag)) != 0)
bool tcn_exec_bugs_compiled(void) { return true; }
#else
#define EXEC_BUG(x, flag) ((void)(x), 0)
bool tcn_exec_bugs_compiled(void) { return false; }
#endif

/* What the leader remembers about one swap during its term; never replicated. */
typedef struct swap_mem {
    uint64_t pending_until_ms; /* a proposal for this swap is in flight ... */
    uint64_t pending_view;     /* ... made when the swap looked like this (view_mark) */
    uint64_t next_send_ms;     /* when to (re)send the intent or the nonce creation */
    uint64_t sent_payout;      /* the intent whose bytes this leadership has sent */
    uint64_t mine;             /* the payout whose intent this leadership proposed */
    uint64_t stuck_payout;     /* the intent the chain would not take ... */
    uint64_t stuck_since_ms;   /* ... since then (as this leadership saw it) */
    uint32_t sweeps;           /* sweeps signed for distinct nonce values (bounded: sweep_attempts_max) */
    tcn_chain_hash sweep_value; /* the nonce value of the last one */
} swap_mem;

struct tcn_exec {
    tcn_exec_options o;
    uint64_t term;
    swap_mem *mem; /* index = swap id */
    size_t cap;
    tcn_buf cmd;
    tcn_buf tx;
    tcn_exec_stats stats;
    /* Pacing runs on the executor's own clock, advanced by how much the
     * caller's clock moved (never back): now_ms is raised to the state's
     * time for what it stamps, and a leader whose clock is behind the state's
     * (a machine that booted late, a host clock set back) would otherwise see
     * no time pass at all and never resend (tcn-sim --seed 7 --steps 5000
     * --workload payouts: a sweep lost on its way was never sent again). */
    uint64_t pace_ms, last_caller_ms;
};

void tcn_exec_options_default(tcn_exec_options *o)
{
    memset(o, 0, sizeof(*o));
    o->resend_ms = 1000;
    o->proposal_timeout_ms = 2000;
    o->cancel_after_ms = 10000;
    o->sweep_attempts_max = 8;
}

int tcn_exec_new(const tcn_exec_options *o, tcn_exec **out)
{
    tcn_exec *x = calloc(1, sizeof(*x));
    if (x == NULL)
        return TCN_ERR_NOMEM;
    if (o != NULL)
        x->o = *o;
    else
        tcn_exec_options_default(&x->o);
    *out = x;
    return TCN_OK;
}

void tcn_exec_free(tcn_exec *x)
{
    if (x == NULL)
        return;
    free(x->mem);
    tcn_buf_free_wipe(&x->cmd);
    tcn_buf_free_wipe(&x->tx);
    free(x);
}

const tcn_exec_stats *tcn_exec_stats_of(const tcn_exec *x) { return &x->stats; }

static int grow(tcn_exec *x, uint64_t n_swaps)
{
    if (n_swaps + 1 <= x->cap)
        return TCN_OK;
    size_t c = x->cap ? x->cap : 64;
    while (c < n_swaps + 1)
        c *= 2;
    swap_mem *m = realloc(x->mem, c * sizeof(*m));
    if (m == NULL)
        return TCN_ERR_NOMEM;
    memset(m + x->cap, 0, (c - x->cap) * sizeof(*m));
    x->mem = m;
    x->cap = c;
    return TCN_OK;
}

/* --- Proposals --------------------------------------------------------------- */

typedef struct ctx {
    tcn_exec *x;
    uint64_t mark; /* view_mark of the swap being handled */
    const tcn_state *st;
    uint64_t now_ms;  /* stamped into commands, and the time the state's rules use */
    uint64_t pace_ms; /* the executor's own monotonic time: resends, timeouts */
    const tcn_exec_chain *chain;
    tcn_exec_propose_fn propose;
    void *pctx;
} ctx;

/* What a proposal about a swap changes when it applies: while the view
 * still has this mark, the proposal is in flight (or was lost). */
static uint64_t view_mark(const tcn_swap_view *v)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    const uint64_t f[] = {v->status, v->intent_payout_id, v->escrow_lamports, v->observed_slot, v->n_payouts,
                          v->refund_len};
    for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
        for (int k = 0; k < 8; k++)
            h = (h ^ ((f[i] >> (8 * k)) & 0xff)) * 1099511628211ull;
    for (size_t i = 0; i < TCN_CHAIN_HASH_LEN; i++)
        h = (h ^ v->nonce_value.b[i]) * 1099511628211ull;
    return h;
}

static void propose(ctx *c, swap_mem *m, tcn_cmd *cmd)
{
    tcn_error err;
    c->x->cmd.len = 0;
    int rc = tcn_cmd_encode(cmd, &c->x->cmd, &err);
    tcn_cmd_wipe(cmd);
    if (rc != TCN_OK)
        return; /* only out of memory: try again next step */
    if (c->propose(c->pctx, c->x->cmd.p, c->x->cmd.len) == TCN_OK) {
        c->x->stats.proposed++;
        m->pending_until_ms = c->pace_ms + c->x->o.proposal_timeout_ms;
        m->pending_view = c->mark;
    }
}

static void send_tx(ctx *c, const uint8_t *p, size_t len)
{
    tcn_error err;
    if (c->chain->send(c->chain->ctx, p, len, &err) == TCN_OK)
        c->x->stats.sent++;
    else
        c->x->stats.chain_errors++;
}

/* The refund part shared by SWAP_OBSERVED and PAYOUT_OUTCOME: the refund the
 * state will demand for this (nonce value, escrow balance). */
static int fill_refund(ctx *c, uint64_t swap_id, const tcn_chain_hash *value, uint64_t escrow, uint16_t *len,
                       uint8_t *out)
{
    uint64_t bal = tcn_state_refund_balance(c->st, swap_id, escrow);
    *len = 0;
    if (tcn_state_refund_lamports(bal) == 0)
        return TCN_OK;
    tcn_error err;
    c->x->tx.len = 0;
    TCN_GUARD(tcn_state_sign_refund(c->st, swap_id, value, bal, &c->x->tx, &err));
    TCN_ASSERT(c->x->tx.len <= TCN_CHAIN_PACKET_BYTES_MAX);
    memcpy(out, c->x->tx.p, c->x->tx.len);
    *len = (uint16_t)c->x->tx.len;
    return TCN_OK;
}

static void cmd_init(ctx *c, tcn_cmd *cmd, uint8_t type)
{
    memset(cmd, 0, sizeof(*cmd));
    cmd->type = type;
    cmd->ts_ms = c->now_ms;
}

static void observe(ctx *c, swap_mem *m, const tcn_swap_view *v, const tcn_exec_account *nonce, uint64_t slot,
                    uint64_t escrow)
{
    tcn_cmd cmd;
    cmd_init(c, &cmd, TCN_CMD_SWAP_OBSERVED);
    cmd.u.swap_observed.swap_id = v->id;
    cmd.u.swap_observed.slot = slot;
    cmd.u.swap_observed.nonce_initialized = true;
    cmd.u.swap_observed.nonce_value = nonce->nonce.durable_nonce;
    cmd.u.swap_observed.escrow_lamports = escrow;
    if (fill_refund(c, v->id, &nonce->nonce.durable_nonce, escrow, &cmd.u.swap_observed.refund_len,
                    cmd.u.swap_observed.refund) != TCN_OK) {
        tcn_cmd_wipe(&cmd);
        return;
    }
    propose(c, m, &cmd);
}

static void outcome(ctx *c, swap_mem *m, const tcn_swap_view *v, uint8_t result, uint64_t slot,
                    const tcn_chain_hash *value, uint64_t escrow)
{
    tcn_cmd cmd;
    cmd_init(c, &cmd, TCN_CMD_PAYOUT_OUTCOME);
    cmd.u.payout_outcome.swap_id = v->id;
    cmd.u.payout_outcome.payout_id = v->intent_payout_id;
    cmd.u.payout_outcome.result = result;
    cmd.u.payout_outcome.slot = slot;
    cmd.u.payout_outcome.nonce_value = *value;
    cmd.u.payout_outcome.escrow_lamports = escrow;
    if (fill_refund(c, v->id, value, escrow, &cmd.u.payout_outcome.refund_len, cmd.u.payout_outcome.refund) !=
        TCN_OK) {
        tcn_cmd_wipe(&cmd);
        return;
    }
    propose(c, m, &cmd);
}

/* --- One swap ---------------------------------------------------------------- */

static bool read_account(ctx *c, const tcn_chain_pubkey *pk, tcn_exec_account *out)
{
    tcn_error err;
    uint64_t slot;
    if (c->chain->accounts(c->chain->ctx, pk, 1, out, &slot, &err) == TCN_OK)
        return true;
    c->x->stats.chain_errors++;
    return false;
}

/* The swap's nonce account and escrow, read together as of one slot (the
 * answer's context slot): never a nonce value from one moment and a balance
 * from another. */
static bool read_swap(ctx *c, const tcn_swap_view *v, tcn_exec_account *nonce, uint64_t *escrow, uint64_t *slot)
{
    tcn_chain_pubkey pks[2] = {v->nonce, v->escrow};
    tcn_exec_account a[2];
    tcn_error err;
    if (c->chain->accounts(c->chain->ctx, pks, 2, a, slot, &err) != TCN_OK) {
        c->x->stats.chain_errors++;
        return false;
    }
    *nonce = a[0];
    *escrow = a[1].exists ? a[1].lamports : 0;
    return true;
}

static bool nonce_is_ours(const tcn_state *st, const tcn_exec_account *a)
{
    return a->exists && a->nonce_ok && tcn_chain_pubkey_eq(&a->nonce.authority, tcn_state_coordinator_key(st));
}

/* NEW: create the nonce account (a plain recent-blockhash transaction: sending
 * it twice is harmless, the second fails on the existing account), and once
 * it is there, commit the observation with the first refund. */
static void swap_new(ctx *c, swap_mem *m, const tcn_swap_view *v)
{
    tcn_exec_account nonce;
    uint64_t escrow, slot;
    if (!read_swap(c, v, &nonce, &escrow, &slot))
        return;
    if (nonce_is_ours(c->st, &nonce)) {
        observe(c, m, v, &nonce, slot, escrow);
        return;
    }
    if (c->pace_ms < m->next_send_ms)
        return;
    uint64_t latest_slot;
    tcn_chain_hash bh;
    tcn_error err;
    if (c->chain->latest(c->chain->ctx, &latest_slot, &bh, &err) != TCN_OK) {
        c->x->stats.chain_errors++;
        return;
    }
    c->x->tx.len = 0;
    if (tcn_state_sign_nonce_create(c->st, v->id, &bh, &c->x->tx, &err) != TCN_OK)
        return;
    send_tx(c, c->x->tx.p, c->x->tx.len);
    m->next_send_ms = c->pace_ms + c->x->o.resend_ms;
}

/* The first signature of wire bytes: the transaction id. */
static bool tx_sig(const uint8_t *p, size_t len, tcn_chain_signature *out)
{
    /* compact-u16 count (1 byte for fewer than 128 signatures), then the signatures */
    if (len < 1 + TCN_CHAIN_SIGNATURE_LEN || p[0] == 0 || p[0] >= 0x80)
        return false;
    memcpy(out->b, p + 1, TCN_CHAIN_SIGNATURE_LEN);
    return true;
}

/* OPEN with an open intent: resume it (DESIGN §7 step 4). */
static void swap_intent(ctx *c, swap_mem *m, const tcn_swap_view *v)
{
    if (EXEC_BUG(c->x, TCN_EXEC_BUG_SKIP_RESUME) && m->mine != v->intent_payout_id)
        return;
    tcn_chain_signature sig;
    TCN_ASSERT(tx_sig(v->intent_tx, v->intent_tx_len, &sig));
    tcn_error err;
    tcn_chain_sig_status s;
    if (c->chain->status(c->chain->ctx, &sig, 0, &s, &err) != TCN_OK) {
        c->x->stats.chain_errors++;
        return;
    }
    tcn_exec_account nonce;
    uint64_t escrow, slot;
    if (s.state == TCN_CHAIN_SIG_LANDED_OK || s.state == TCN_CHAIN_SIG_LANDED_ERR) {
        /* The accounts as of the landing or later: an answer from before it
         * would carry the old nonce value into the new refund. */
        if (!read_swap(c, v, &nonce, &escrow, &slot) || slot < s.slot || !nonce_is_ours(c->st, &nonce))
            return;
        outcome(c, m, v, s.state == TCN_CHAIN_SIG_LANDED_OK ? TCN_PAYOUT_LANDED_OK : TCN_PAYOUT_LANDED_FAILED, s.slot,
                &nonce.nonce.durable_nonce, escrow);
        return;
    }
    if (!read_swap(c, v, &nonce, &escrow, &slot) || !nonce_is_ours(c->st, &nonce))
        return;
    if (!tcn_chain_hash_eq(&nonce.nonce.durable_nonce, &v->intent_nonce_value)) {
        /* The nonce moved without our bytes — so far as an answer no older
         * than the one that showed the move can tell: the bytes may have
         * landed in the slots between, and a lagging node would not know
         * yet. Only then can they never land. */
        uint64_t min_slot = EXEC_BUG(c->x, TCN_EXEC_BUG_TRUST_LAGGING_STATUS) ? 0 : slot; /* broken on purpose */
        if (c->chain->status(c->chain->ctx, &sig, min_slot, &s, &err) != TCN_OK) {
            c->x->stats.chain_errors++;
            return;
        }
        if (s.state != TCN_CHAIN_SIG_UNKNOWN)
            return; /* landed after all: the next step records it */
        outcome(c, m, v, TCN_PAYOUT_DROPPED, 0, &nonce.nonce.durable_nonce, escrow);
        return;
    }
    /* Committed, not landed, the nonce still at its value. Will the chain
     * take the bytes? Not while the escrow cannot pay the fee and stay
     * empty or rent exempt (the runtime's fee-payer check, before anything
     * executes). */
    uint64_t rent = tcn_chain_rent_minimum_balance(0);
    bool refused = escrow < TCN_STATE_TX_FEE || (escrow > TCN_STATE_TX_FEE && escrow - TCN_STATE_TX_FEE < rent);
    if (!refused) {
        m->stuck_payout = 0;
    } else if (m->stuck_payout != v->intent_payout_id) {
        m->stuck_payout = v->intent_payout_id;
        m->stuck_since_ms = c->pace_ms;
    } else if (c->pace_ms - m->stuck_since_ms >= c->x->o.cancel_after_ms && c->pace_ms >= m->next_send_ms) {
        c->x->tx.len = 0;
        if (tcn_state_sign_nonce_cancel(c->st, v->id, &v->intent_nonce_value, &c->x->tx, &err) != TCN_OK)
            return;
        send_tx(c, c->x->tx.p, c->x->tx.len);
        c->x->stats.cancels++;
        m->next_send_ms = c->pace_ms + c->x->o.resend_ms;
        return;
    }
    /* (Re)send the very same bytes. */
    if (m->sent_payout == v->intent_payout_id && c->pace_ms < m->next_send_ms)
        return;
    send_tx(c, v->intent_tx, v->intent_tx_len);
    bool first = m->sent_payout != v->intent_payout_id;
    m->sent_payout = v->intent_payout_id;
    m->next_send_ms = c->pace_ms + c->x->o.resend_ms;
    if (first && EXEC_BUG(c->x, TCN_EXEC_BUG_REFUND_BEFORE_LANDING)) {
        /* Broken on purpose: takes the landing for granted and guesses the
         * nonce's next value from the latest blockhash. */
        tcn_chain_hash bh, next;
        tcn_payout_view p;
        if (c->chain->latest(c->chain->ctx, &slot, &bh, &err) != TCN_OK ||
            !tcn_state_payout(c->st, v->intent_payout_id, &p) || v->escrow_lamports < p.amount + TCN_STATE_TX_FEE)
            return;
        tcn_chain_durable_nonce_from_blockhash(&bh, &next);
        outcome(c, m, v, TCN_PAYOUT_LANDED_OK, slot, &next, v->escrow_lamports - p.amount - TCN_STATE_TX_FEE);
    }
}

/* The swap is done (tcn_state_sweep_due) and the chain shows what the state
 * does: return everything to refund_to, the coordinator paying. The same
 * bytes are resent while the nonce holds its value; once it moves (the
 * sweep landed, or failed on a deposit that would have left the escrow rent
 * paying) the next step observes, and sweeps again if anything is left —
 * at most sweep_attempts_max nonce values per leadership, since each
 * failure costs the coordinator a fee. Two leaders may each sign one: both
 * are bound to the swap's nonce value and pay only refund_to, so at most
 * one lands, and either is what the swap is owed. */
static void sweep(ctx *c, swap_mem *m, const tcn_swap_view *v)
{
    bool again = m->sweeps > 0 && tcn_chain_hash_eq(&m->sweep_value, &v->nonce_value);
    if (!again && m->sweeps >= c->x->o.sweep_attempts_max) {
        c->x->stats.sweeps_abandoned++;
        return;
    }
    if (again && c->pace_ms < m->next_send_ms)
        return;
    tcn_error err;
    c->x->tx.len = 0;
    if (tcn_state_sign_sweep(c->st, v->id, &v->nonce_value, v->escrow_lamports, &c->x->tx, &err) != TCN_OK)
        return;
    send_tx(c, c->x->tx.p, c->x->tx.len);
    if (!again) {
        m->sweeps++;
        m->sweep_value = v->nonce_value;
        c->x->stats.sweeps++;
    }
    m->next_send_ms = c->pace_ms + c->x->o.resend_ms;
}

/* OPEN without an intent: record what changed on the chain; past the
 * deadline send the refund; sweep a swap that is done; or start the next
 * due payout. */
static void swap_open(ctx *c, swap_mem *m, const tcn_swap_view *v)
{
    tcn_exec_account nonce;
    uint64_t bal, slot;
    if (!read_swap(c, v, &nonce, &bal, &slot) || !nonce_is_ours(c->st, &nonce))
        return;
    if (slot < v->observed_slot)
        return; /* an answer older than what the state knows: ask again later */
    if (!tcn_chain_hash_eq(&nonce.nonce.durable_nonce, &v->nonce_value) || bal != v->escrow_lamports) {
        observe(c, m, v, &nonce, slot, bal); /* apply refuses a slot that went back */
        return;
    }
    if (c->now_ms > v->deadline_ms && v->refund_len > 0 &&
        tcn_state_refund_balance(c->st, v->id, v->escrow_lamports) <= v->escrow_lamports) {
        /* Past the deadline no payout can get an intent: the leader sends
         * the committed refund itself (it pays only refund_to; resent until
         * the nonce moves), and the sweep follows once it lands. Not a
         * refund for an amount the escrow never received: it would fail
         * and burn the nonce; such a swap is swept (tcn_state_sweep_due). */
        if (c->pace_ms >= m->next_send_ms) {
            send_tx(c, v->refund, v->refund_len);
            c->x->stats.refunds_sent++;
            m->next_send_ms = c->pace_ms + c->x->o.resend_ms;
        }
        return;
    }
    if (tcn_state_sweep_due(c->st, v->id, c->now_ms)) {
        sweep(c, m, v);
        return;
    }
    for (size_t i = 0; i < v->n_payouts; i++) {
        uint64_t pid = tcn_state_swap_payout(c->st, v->id, i);
        tcn_payout_view p;
        tcn_error err;
        if (!tcn_state_payout(c->st, pid, &p) || p.status != TCN_PAYOUT_SCHEDULED ||
            tcn_state_check_payout(c->st, pid, c->now_ms, &err) != TCN_OK)
            continue;
        /* A transfer that would leave a new destination below the
         * rent-exempt minimum fails on the chain (InsufficientFundsForRent)
         * and burns the fee and the nonce: wait until it can succeed. */
        tcn_exec_account dest;
        if (!read_account(c, &p.destination, &dest))
            return;
        if ((!dest.exists || dest.lamports == 0) && p.amount < tcn_chain_rent_minimum_balance(0)) {
            c->x->stats.held_rent++;
            continue;
        }
        tcn_cmd cmd;
        cmd_init(c, &cmd, TCN_CMD_PAYOUT_INTENT);
        cmd.u.payout_intent.swap_id = v->id;
        cmd.u.payout_intent.payout_id = pid;
        cmd.u.payout_intent.nonce_value = v->nonce_value;
        c->x->tx.len = 0;
        if (tcn_state_sign_payout(c->st, pid, &v->nonce_value, &c->x->tx, &err) != TCN_OK)
            return;
        TCN_ASSERT(c->x->tx.len <= TCN_CHAIN_PACKET_BYTES_MAX);
        memcpy(cmd.u.payout_intent.tx, c->x->tx.p, c->x->tx.len);
        cmd.u.payout_intent.tx_len = (uint16_t)c->x->tx.len;
        m->mine = pid;
        if (EXEC_BUG(c->x, TCN_EXEC_BUG_RELEASE_BEFORE_COMMIT))
            send_tx(c, c->x->tx.p, c->x->tx.len); /* broken on purpose: before the intent commits */
        propose(c, m, &cmd);
        return; /* one intent per swap at a time */
    }
}

int tcn_exec_step(tcn_exec *x, const tcn_state *st, uint64_t term, uint64_t now_ms, const tcn_exec_chain *chain,
                  tcn_exec_propose_fn prop, void *propose_ctx)
{
    if (!tcn_state_has_genesis(st))
        return TCN_OK;
    if (x->pace_ms == 0)
        x->pace_ms = now_ms;
    else if (now_ms > x->last_caller_ms)
        x->pace_ms += now_ms - x->last_caller_ms;
    x->last_caller_ms = now_ms;
    /* Never stamp a time the state has already passed (apply would use the
     * state's time anyway: tcn_state_check_payout). */
    if (now_ms < tcn_state_now_ms(st))
        now_ms = tcn_state_now_ms(st);
    uint64_t n = tcn_state_swap_count(st);
    TCN_GUARD(grow(x, n));
    if (term != x->term) {
        /* A new leadership: nothing volatile carries over. */
        memset(x->mem, 0, x->cap * sizeof(*x->mem));
        x->term = term;
    }
    ctx c = {.x = x, .st = st, .now_ms = now_ms, .pace_ms = x->pace_ms, .chain = chain, .propose = prop,
             .pctx = propose_ctx};
    for (uint64_t id = 1; id <= n; id++) {
        swap_mem *m = &x->mem[id];
        tcn_swap_view v;
        if (!tcn_state_swap(st, id, &v) || v.status == TCN_SWAP_CLOSED)
            continue;
        c.mark = view_mark(&v);
        if (c.pace_ms < m->pending_until_ms && m->pending_view == c.mark)
            continue; /* our proposal has not applied yet */
        if (v.status == TCN_SWAP_NEW)
            swap_new(&c, m, &v);
        else if (v.intent_payout_id != 0)
            swap_intent(&c, m, &v);
        else
            swap_open(&c, m, &v);
    }
    return TCN_OK;
}
