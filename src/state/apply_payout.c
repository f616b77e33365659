/* Apply of PAYOUT_SCHEDULE, PAYOUT_INTENT and PAYOUT_OUTCOME, and tcn_state_check_payout (DESIGN §7, steps 1–4).
 *
 * Exactly once: an intent is bound to (the swap's nonce account, its current
 * nonce value); a swap holds at most one open intent, and its nonce value
 * changes only through an observation (refused while an intent is open) or
 * the intent's outcome, which must report a value other than the intent's.
 * So at most one intent per (nonce account, value) is ever committed, and
 * since every payout transaction advances that nonce, at most one of them
 * can land. A payout gets a new intent only after DROPPED, which requires
 * the nonce to have moved on without its bytes: those can then never land.
 *
 * Never stranded: the outcome and the refund bound to the new nonce value
 * are one command, so no state exists where the nonce moved and the network
 * holds no refund for what is left (tcn_state_refund_check). */
#include <stdlib.h>
#include <string.h>

#include "chain/rent.h"
#include "state/internal.h"
#include "util/assert.h"

static const char *payout_status_name(uint8_t s)
{
    switch (s) {
    case TCN_PAYOUT_SCHEDULED:
        return "SCHEDULED";
    case TCN_PAYOUT_INTENT:
        return "INTENT";
    case TCN_PAYOUT_PAID:
        return "PAID";
    case TCN_PAYOUT_FAILED:
        return "FAILED";
    default:
        return "unknown";
    }
}

#define ULL(x) ((unsigned long long)(x))

/* --- PAYOUT_SCHEDULE ------------------------------------------------------------- */

/* PAYOUT_SCHEDULE (the swap's user or an operator): `amount` lamports to
 * `destination`, due at due_ms.
 * - The swap is NEW or OPEN; amount > 0; due_ms not after the deadline.
 * - The destination is set, is not the swap's escrow or nonce account, and
 *   the escrow key's policy allows it; with windows, due_ms's minute of the
 *   day falls in one.
 * - At most TCN_STATE_SWAP_PAYOUTS_MAX payouts per swap, and the payouts not
 *   FAILED, each with its fee, add up to no more than the swap's amount. */
int tcn_state_apply_payout_schedule(tcn_state *st, const tcn_cmd *c, uint64_t *id, tcn_error *err)
{
    const __typeof__(c->u.payout_schedule) *ps = &c->u.payout_schedule;
    TCN_GUARD(tcn_state_need_role(st, c, ~TCN_STATE_ROLE_BIT(TCN_ROLE_NONE), err));
    tcn_state_swap_rec *sw = tcn_state_swap_get(st, ps->swap_id);
    TCN_ENSURE(sw != NULL, err, TCN_ERR_USAGE, "swap_id: %llu: no such swap", ULL(ps->swap_id));
    TCN_ENSURE(tcn_chain_pubkey_eq(&c->actor, &sw->user) ||
                   tcn_state_client_role(st, &c->actor) == TCN_ROLE_OPERATOR,
               err, TCN_ERR_USAGE, "actor: neither the user of swap %llu nor an operator", ULL(ps->swap_id));
    TCN_ENSURE(sw->status == TCN_SWAP_NEW || sw->status == TCN_SWAP_OPEN, err, TCN_ERR_USAGE, "swap %llu: CLOSED",
               ULL(ps->swap_id));
    TCN_ENSURE(ps->amount > 0, err, TCN_ERR_USAGE, "amount: zero");
    TCN_ENSURE(ps->due_ms <= sw->deadline_ms, err, TCN_ERR_USAGE, "due_ms: %llu after the swap's deadline %llu",
               ULL(ps->due_ms), ULL(sw->deadline_ms));
    const tcn_state_key_rec *escrow = tcn_state_key_get(st, sw->escrow_key_id);
    TCN_ENSURE(!tcn_state_pubkey_is_zero(&ps->destination), err, TCN_ERR_USAGE, "destination: the zero key");
    TCN_ENSURE(!tcn_chain_pubkey_eq(&ps->destination, &escrow->pubkey) &&
                   !tcn_chain_pubkey_eq(&ps->destination, &sw->nonce),
               err, TCN_ERR_USAGE, "destination: the swap's own escrow or nonce account");
    const tcn_key_policy *pol = tcn_state_key_policy(escrow);
    TCN_ENSURE(tcn_state_policy_allows_destination(pol, &ps->destination), err, TCN_ERR_POLICY,
               "destination: not among the %u destinations key %llu's policy allows", pol->n_destinations,
               ULL(sw->escrow_key_id));
    TCN_ENSURE(tcn_state_policy_in_window(pol, ps->due_ms), err, TCN_ERR_POLICY,
               "due_ms: minute %llu of the day is outside key %llu's schedule windows",
               ULL((ps->due_ms / TCN_STATE_MS_PER_MINUTE) % TCN_STATE_MINUTES_PER_DAY), ULL(sw->escrow_key_id));
    TCN_ENSURE(sw->n_payouts < TCN_STATE_SWAP_PAYOUTS_MAX, err, TCN_ERR_USAGE,
               "swap %llu: already %u payouts, the maximum", ULL(ps->swap_id), TCN_STATE_SWAP_PAYOUTS_MAX);
    /* Overflow-safe: the sum stops as soon as it passes the budget, the
     * amount less the reserve every payout leaves in the escrow. */
    const uint64_t budget = sw->amount - tcn_state_escrow_reserve(); /* amount >= 2R + fee (SWAP_CREATE) */
    uint64_t total = 0;
    bool over = false;
    for (unsigned i = 0; i <= sw->n_payouts && !over; i++) {
        uint64_t a = ps->amount;
        if (i < sw->n_payouts) {
            const tcn_state_payout_rec *p = tcn_state_payout_get(st, sw->payouts[i]);
            if (p->status == TCN_PAYOUT_FAILED)
                continue;
            a = p->amount;
        }
        over = a > budget || TCN_STATE_TX_FEE > budget - a || total > budget - a - TCN_STATE_TX_FEE;
        total += over ? 0 : a + TCN_STATE_TX_FEE;
    }
    TCN_ENSURE(!over, err, TCN_ERR_USAGE,
               "amount: %llu with its fee would take the swap's payouts above its %llu lamports less the %llu "
               "reserve",
               ULL(ps->amount), ULL(sw->amount), ULL(tcn_state_escrow_reserve()));

    if (tcn_state_reserve_payout(st) != TCN_OK)
        return TCN_ERR_NOMEM;
    if (sw->n_payouts == sw->cap_payouts) {
        unsigned cap = sw->cap_payouts ? sw->cap_payouts * 2u : 4u;
        if (cap > TCN_STATE_SWAP_PAYOUTS_MAX)
            cap = TCN_STATE_SWAP_PAYOUTS_MAX;
        uint64_t *v = realloc(sw->payouts, cap * sizeof(*v));
        if (v == NULL)
            return TCN_ERR_NOMEM;
        sw->payouts = v;
        sw->cap_payouts = (uint8_t)cap;
    }
    tcn_state_payout_rec *p = &st->payouts[st->n_payouts++];
    memset(p, 0, sizeof(*p));
    p->swap_id = ps->swap_id;
    p->status = TCN_PAYOUT_SCHEDULED;
    p->destination = ps->destination;
    p->amount = ps->amount;
    p->due_ms = ps->due_ms;
    *id = st->n_payouts;
    sw->payouts[sw->n_payouts++] = *id;
    return TCN_OK;
}

/* --- The checks before an intent ---------------------------------------------------- */

/* Codes: USAGE for what can never become right (no such payout, a swap or
 * payout in a final state), BUSY for what time may fix (not funded, an
 * intent open, not due), POLICY for what the swap's terms or the key's
 * policy forbid. */
int tcn_state_check_payout(const tcn_state *st, uint64_t payout_id, uint64_t ts_ms, tcn_error *err)
{
    TCN_ASSERT(st != NULL);
    /* Time is the later of the proposer's clock and the state's: a leader
     * whose clock lags (or was set back by its host) can neither pay after a
     * deadline the state has already passed nor hold a due payout back. */
    if (ts_ms < tcn_state_now_ms(st))
        ts_ms = tcn_state_now_ms(st);
    const tcn_state_payout_rec *p = tcn_state_payout_get(st, payout_id);
    TCN_ENSURE(p != NULL, err, TCN_ERR_USAGE, "payout_id: %llu: no such payout", ULL(payout_id));
    const tcn_state_swap_rec *sw = tcn_state_swap_get(st, p->swap_id);
    uint64_t sid = p->swap_id;
    TCN_ENSURE(sw->status != TCN_SWAP_CLOSED, err, TCN_ERR_USAGE, "swap %llu: CLOSED", ULL(sid));
    TCN_ENSURE(sw->status == TCN_SWAP_OPEN, err, TCN_ERR_BUSY, "swap %llu: NEW (its nonce account is not ready)",
               ULL(sid));
    TCN_ENSURE(sw->funded, err, TCN_ERR_BUSY, "swap %llu: the escrow is not funded yet", ULL(sid));
    TCN_ENSURE(sw->intent_payout_id == 0, err, TCN_ERR_BUSY, "swap %llu: the intent of payout %llu is open", ULL(sid),
               ULL(sw->intent_payout_id));
    TCN_ENSURE(p->status == TCN_PAYOUT_SCHEDULED, err, TCN_ERR_USAGE, "payout %llu: %s, not SCHEDULED", ULL(payout_id),
               payout_status_name(p->status));
    TCN_ENSURE(ts_ms >= p->due_ms, err, TCN_ERR_BUSY, "payout %llu: due at %llu, ts_ms is %llu", ULL(payout_id),
               ULL(p->due_ms), ULL(ts_ms));
    TCN_ENSURE(ts_ms <= sw->deadline_ms, err, TCN_ERR_POLICY, "swap %llu: deadline %llu passed (ts_ms %llu)", ULL(sid),
               ULL(sw->deadline_ms), ULL(ts_ms));
    /* The escrow pays the amount and the fee and keeps the reserve R (the
     * rent-exempt minimum of an empty account): bal >= amount + fee + R.
     * Then whatever happens to the payout, the escrow stays rent exempt:
     * landed OK it holds bal - amount - fee >= R, FAILED it holds
     * bal - fee > R, and a deposit only adds to either. So no deposit can
     * make the payout fail (an escrow emptied exactly would be left rent
     * paying by a 1-lamport deposit: InsufficientFundsForRent), the refund
     * after it always lands (it too leaves R), and what is left above R is
     * either refundable (tcn_state_refund_lamports) or at most what the
     * sweep returns. (The earlier rule, rest 0 or >= R + fee, came from
     * tcn-sim --seed 89 --steps 20000 --workload payouts, a stranded
     * refund; it still let a deposit or a burnt fee strand one.) */
    const uint64_t reserve = tcn_state_escrow_reserve();
    uint64_t bal = sw->escrow_lamports, need = p->amount;
    bool can = need <= UINT64_MAX - TCN_STATE_TX_FEE - reserve && bal >= need + TCN_STATE_TX_FEE + reserve;
    TCN_ENSURE(can, err, TCN_ERR_POLICY,
               "swap %llu: the escrow's %llu lamports cannot pay %llu + the %u fee and keep the %llu reserve",
               ULL(sid), ULL(bal), ULL(need), TCN_STATE_TX_FEE, ULL(reserve));
    const tcn_state_key_rec *k = tcn_state_key_get(st, sw->escrow_key_id);
    const tcn_key_policy *pol = tcn_state_key_policy(k);
    TCN_ENSURE(tcn_state_policy_allows_destination(pol, &p->destination), err, TCN_ERR_POLICY,
               "payout %llu: destination not allowed by key %llu's policy", ULL(payout_id), ULL(sw->escrow_key_id));
    TCN_ENSURE(pol->max_per_payout == 0 || p->amount <= pol->max_per_payout, err, TCN_ERR_POLICY,
               "payout %llu: %llu above key %llu's max_per_payout %llu", ULL(payout_id), ULL(p->amount),
               ULL(sw->escrow_key_id), ULL(pol->max_per_payout));
    uint64_t spent = tcn_state_key_spent(k, ts_ms);
    TCN_ENSURE(pol->max_per_day == 0 || (spent <= pol->max_per_day && p->amount <= pol->max_per_day - spent), err,
               TCN_ERR_POLICY, "payout %llu: %llu with %llu spent today exceeds key %llu's max_per_day %llu",
               ULL(payout_id), ULL(p->amount), ULL(spent), ULL(sw->escrow_key_id), ULL(pol->max_per_day));
    TCN_ENSURE(tcn_state_policy_in_window(pol, ts_ms), err, TCN_ERR_POLICY,
               "payout %llu: minute %llu of the day is outside key %llu's schedule windows", ULL(payout_id),
               ULL((ts_ms / TCN_STATE_MS_PER_MINUTE) % TCN_STATE_MINUTES_PER_DAY), ULL(sw->escrow_key_id));
    return TCN_OK;
}

/* --- PAYOUT_INTENT ------------------------------------------------------------------ */

/* PAYOUT_INTENT (network): the signed payout, committed before its bytes
 * leave the TEE (DESIGN §7 step 1).
 * - tcn_state_check_payout(payout, ts_ms) passes;
 * - nonce_value is the swap's current nonce value, and tx is exactly
 *   tcn_state_sign_payout(payout, nonce_value) (TCN_ERR_BINDING otherwise).
 * Effects: the payout is INTENT with one more attempt and the transaction's
 * id; the swap holds the open intent; the escrow key's day total grows by
 * the amount (intents count, whatever their outcome: never under-counts). */
int tcn_state_apply_payout_intent(tcn_state *st, const tcn_cmd *c, uint64_t *id, tcn_error *err)
{
    (void)id;
    const __typeof__(c->u.payout_intent) *pi = &c->u.payout_intent;
    TCN_GUARD(tcn_state_need_network(c, err));
    tcn_state_payout_rec *p = tcn_state_payout_get(st, pi->payout_id);
    TCN_ENSURE(p != NULL, err, TCN_ERR_USAGE, "payout_id: %llu: no such payout", ULL(pi->payout_id));
    TCN_ENSURE(p->swap_id == pi->swap_id, err, TCN_ERR_USAGE, "swap_id: payout %llu belongs to swap %llu, not %llu",
               ULL(pi->payout_id), ULL(p->swap_id), ULL(pi->swap_id));
    TCN_GUARD(tcn_state_check_payout(st, pi->payout_id, c->ts_ms, err));
    tcn_state_swap_rec *sw = tcn_state_swap_get(st, p->swap_id);
    TCN_ENSURE(tcn_chain_hash_eq(&pi->nonce_value, &sw->nonce_value), err, TCN_ERR_BINDING,
               "nonce_value: not swap %llu's current nonce value", ULL(p->swap_id));
    tcn_buf want = {0};
    tcn_error e;
    int rc = tcn_state_sign_payout(st, pi->payout_id, &pi->nonce_value, &want, &e);
    if (rc == TCN_ERR_NOMEM) {
        tcn_buf_free(&want);
        return TCN_ERR_NOMEM;
    }
    TCN_ASSERT(rc == TCN_OK);
    if (want.len != pi->tx_len)
        rc = tcn_err_set(err, TCN_ERR_BINDING, "tx: %u bytes, want the %zu of the payout the state signs", pi->tx_len,
                         want.len);
    else if (memcmp(want.p, pi->tx, want.len) != 0) {
        size_t i = 0;
        while (want.p[i] == pi->tx[i])
            i++;
        rc = tcn_err_set(err, TCN_ERR_BINDING, "tx: differs at byte %zu from the payout the state signs", i);
    }
    if (rc != TCN_OK) {
        tcn_buf_free(&want);
        return rc;
    }
    /* Wire format: compact-u16 signature count (1 byte for 2), then the fee
     * payer's signature, the transaction id. */
    TCN_ASSERT(want.len > 1 + TCN_CHAIN_SIGNATURE_LEN && want.p[0] == 2);
    memcpy(p->sig.b, want.p + 1, TCN_CHAIN_SIGNATURE_LEN);
    p->status = TCN_PAYOUT_INTENT;
    p->attempts++;
    sw->intent_payout_id = pi->payout_id;
    sw->intent_nonce_value = pi->nonce_value;
    sw->intent_tx = want.p; /* ownership moves to the swap */
    sw->intent_tx_len = (uint16_t)want.len;
    uint64_t t = c->ts_ms > tcn_state_now_ms(st) ? c->ts_ms : tcn_state_now_ms(st); /* as check_payout */
    tcn_state_key_spend(tcn_state_key_get(st, sw->escrow_key_id), t, p->amount);
    return TCN_OK;
}

/* --- PAYOUT_OUTCOME ------------------------------------------------------------------ */

/* PAYOUT_OUTCOME (network): how the swap's open intent ended, with the
 * chain's nonce value and escrow balance afterwards and the refund bound to
 * them (DESIGN §7 step 3: outcome and new refund commit together).
 * - payout_id is the swap's open intent.
 * - The nonce value differs from the intent's: LANDED_* advanced it; for
 *   DROPPED it is what proves the bytes can never land (same value: the
 *   intent may still land, TCN_ERR_BUSY).
 * - LANDED_OK -> PAID, LANDED_FAILED -> FAILED (fee paid, nothing moved),
 *   both at the slot > 0 they landed in (the swap's observed slot becomes
 *   the later of the two: a landing slot is not refused for being older
 *   than an observation, since an outcome that can never commit would
 *   leave the intent open for ever); DROPPED -> SCHEDULED again, slot 0.
 * - The refund rule and the funded / CLOSED rules of SWAP_OBSERVED. */
int tcn_state_apply_payout_outcome(tcn_state *st, const tcn_cmd *c, uint64_t *id, tcn_error *err)
{
    (void)id;
    const __typeof__(c->u.payout_outcome) *po = &c->u.payout_outcome;
    TCN_GUARD(tcn_state_need_network(c, err));
    tcn_state_swap_rec *sw = tcn_state_swap_get(st, po->swap_id);
    TCN_ENSURE(sw != NULL, err, TCN_ERR_USAGE, "swap_id: %llu: no such swap", ULL(po->swap_id));
    TCN_ENSURE(sw->intent_payout_id != 0, err, TCN_ERR_USAGE, "swap %llu: no open intent", ULL(po->swap_id));
    TCN_ENSURE(po->payout_id == sw->intent_payout_id, err, TCN_ERR_USAGE,
               "payout_id: %llu is not swap %llu's open intent (payout %llu)", ULL(po->payout_id), ULL(po->swap_id),
               ULL(sw->intent_payout_id));
    bool landed = po->result != TCN_PAYOUT_DROPPED;
    bool moved = !tcn_chain_hash_eq(&po->nonce_value, &sw->intent_nonce_value);
    if (landed) {
        TCN_ENSURE(moved, err, TCN_ERR_USAGE, "nonce_value: still the intent's value, yet it landed");
        TCN_ENSURE(po->slot > 0, err, TCN_ERR_USAGE, "slot: zero for a landed transaction");
    } else {
        TCN_ENSURE(moved, err, TCN_ERR_BUSY, "nonce_value: still the intent's value: its bytes may yet land");
        TCN_ENSURE(po->slot == 0, err, TCN_ERR_USAGE, "slot: %llu for DROPPED, want 0", ULL(po->slot));
    }
    tcn_state_new_refund refund;
    TCN_GUARD(tcn_state_refund_check(st, po->swap_id, true, &po->nonce_value, po->escrow_lamports, po->refund,
                                     po->refund_len, &refund, err));
    tcn_state_payout_rec *p = tcn_state_payout_get(st, po->payout_id);
    TCN_ASSERT(p != NULL && p->status == TCN_PAYOUT_INTENT);
    switch (po->result) {
    case TCN_PAYOUT_LANDED_OK:
        p->status = TCN_PAYOUT_PAID;
        p->landed_slot = po->slot;
        break;
    case TCN_PAYOUT_LANDED_FAILED:
        p->status = TCN_PAYOUT_FAILED;
        p->landed_slot = po->slot;
        break;
    default:
        p->status = TCN_PAYOUT_SCHEDULED;
        break;
    }
    free(sw->intent_tx);
    sw->intent_tx = NULL;
    sw->intent_tx_len = 0;
    sw->intent_payout_id = 0;
    memset(&sw->intent_nonce_value, 0, sizeof(sw->intent_nonce_value));
    tcn_state_observe(st, po->swap_id, true, &po->nonce_value, po->escrow_lamports, po->slot, &refund);
    return TCN_OK;
}
