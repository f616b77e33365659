/* Apply of SWAP_CREATE and SWAP_OBSERVED, and the refund and observation rules PAYOUT_OUTCOME shares. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain/rent.h"
#include "state/internal.h"
#include "util/assert.h"
#include "util/secmem.h"

static const char *status_name(uint8_t s)
{
    switch (s) {
    case TCN_SWAP_NEW:
        return "NEW";
    case TCN_SWAP_OPEN:
        return "OPEN";
    case TCN_SWAP_CLOSED:
        return "CLOSED";
    default:
        return "unknown";
    }
}

/* --- SWAP_CREATE ---------------------------------------------------------------- */

/* SWAP_CREATE (a USER or an operator): a swap of `amount` lamports the actor
 * will escrow, paid out to scheduled destinations until deadline_ms, and
 * refunded to refund_to otherwise.
 * - escrow_key_id 0: the leader generated escrow_seed; it becomes a new key
 *   (next key id) owned by the actor, with the command's policy.
 *   Otherwise: an imported Ed25519 key the actor owns, not the escrow of a
 *   swap that is still NEW or OPEN; escrow_seed must then be zero and the
 *   command's policy is ignored (the key keeps its own).
 * - nonce_seed: the key of the swap's own nonce account (a swap never shares
 *   its nonce account: at most one intent per (nonce account, value)).
 * - amount at least TCN_STATE_REFUND_MIN_BALANCE (2 R + fee, R the
 *   rent-exempt minimum of an empty account): the funded escrow then has a
 *   refund (it keeps R and moves at least R, which lands into any
 *   refund_to) and room for a payout; deadline after ts_ms,
 *   lp and refund_to set, refund_to not the escrow or nonce account.
 * - No account may play two parts: the escrow and nonce public keys must be
 *   new to the state (and differ).
 * The swap starts NEW (no nonce account on the chain yet, so no refund). */
int tcn_state_apply_swap_create(tcn_state *st, const tcn_cmd *c, uint64_t *id, tcn_error *err)
{
    static const uint8_t zero_seed[TCN_CHAIN_SEED_LEN];
    char b58[48];
    const __typeof__(c->u.swap_create) *sc = &c->u.swap_create;
    const unsigned roles = TCN_STATE_ROLE_BIT(TCN_ROLE_USER) | TCN_STATE_ROLE_BIT(TCN_ROLE_OPERATOR);
    TCN_GUARD(tcn_state_need_role(st, c, roles, err));
    TCN_ENSURE(!tcn_state_pubkey_is_zero(&sc->lp), err, TCN_ERR_USAGE, "lp: the zero key");
    TCN_ENSURE(!tcn_state_pubkey_is_zero(&sc->refund_to), err, TCN_ERR_USAGE, "refund_to: the zero key");
    uint64_t min = TCN_STATE_REFUND_MIN_BALANCE;
    TCN_ENSURE(sc->amount >= min, err, TCN_ERR_USAGE,
               "amount: %llu below %llu (the reserve + a fee + a refund of at least the reserve)",
               (unsigned long long)sc->amount, (unsigned long long)min);
    TCN_ENSURE(sc->deadline_ms > c->ts_ms, err, TCN_ERR_USAGE, "deadline_ms: %llu not after ts_ms %llu",
               (unsigned long long)sc->deadline_ms, (unsigned long long)c->ts_ms);

    bool new_key = sc->escrow_key_id == 0;
    tcn_state_key_rec *existing = NULL;
    if (new_key) {
        TCN_GUARD(tcn_state_policy_validate(&sc->policy, err));
    } else {
        TCN_ENSURE(memcmp(sc->escrow_seed, zero_seed, sizeof(zero_seed)) == 0, err, TCN_ERR_USAGE,
                   "escrow_seed: must be zero when escrow_key_id names a key");
        existing = tcn_state_key_get(st, sc->escrow_key_id);
        TCN_ENSURE(existing != NULL, err, TCN_ERR_USAGE, "escrow_key_id: %llu: no such key",
                   (unsigned long long)sc->escrow_key_id);
        TCN_ENSURE(existing->kind == TCN_KEY_ED25519_SEED, err, TCN_ERR_USAGE,
                   "escrow_key_id: key %llu is a share, not an Ed25519 key", (unsigned long long)sc->escrow_key_id);
        TCN_ENSURE(tcn_chain_pubkey_eq(&existing->owner, &c->actor), err, TCN_ERR_USAGE,
                   "escrow_key_id: key %llu is not the actor's", (unsigned long long)sc->escrow_key_id);
        TCN_ENSURE(existing->swap_id == 0, err, TCN_ERR_BUSY, "escrow_key_id: key %llu is the escrow of open swap %llu",
                   (unsigned long long)sc->escrow_key_id, (unsigned long long)existing->swap_id);
        /* One swap per escrow key, ever: transactions it signed for an
         * earlier swap may still be valid (a refund bound to that swap's
         * current nonce value, when its escrow was emptied behind the
         * network's back) and would drain the new escrow. A linear scan:
         * rare, and no state to keep in step. */
        for (size_t i = 0; i < st->n_swaps; i++)
            TCN_ENSURE(st->swaps[i].escrow_key_id != sc->escrow_key_id, err, TCN_ERR_USAGE,
                       "escrow_key_id: key %llu was the escrow of swap %zu; an escrow key serves one swap",
                       (unsigned long long)sc->escrow_key_id, i + 1);
    }

    /* Memory first (nothing mutates yet), then derive into scratch slots. */
    tcn_key_policy *policy = NULL;
    if (tcn_state_reserve_swap(st) != TCN_OK || tcn_state_table_reserve(&st->accounts, 2) != TCN_OK ||
        (new_key && tcn_state_reserve_key(st) != TCN_OK) ||
        (new_key && tcn_state_policy_dup(&sc->policy, &policy) != TCN_OK))
        return TCN_ERR_NOMEM;
    uint8_t *escrow_slot = new_key ? tcn_state_secrets_at(&st->key_secrets, st->n_keys) : NULL;
    uint8_t *nonce_slot = tcn_state_secrets_at(&st->nonce_secrets, st->n_swaps);
    tcn_chain_pubkey escrow, nonce;
    if (new_key)
        tcn_state_ed25519_derive(sc->escrow_seed, escrow_slot, &escrow);
    else
        escrow = existing->pubkey;
    tcn_state_ed25519_derive(sc->nonce_seed, nonce_slot, &nonce);

    int rc = TCN_OK;
    if (new_key && tcn_state_table_get(&st->accounts, &escrow) != 0)
        rc = tcn_err_set(err, TCN_ERR_USAGE, "escrow_seed: its public key %s is already held by the state",
                         tcn_state_b58(&escrow, b58));
    else if (tcn_state_table_get(&st->accounts, &nonce) != 0 || tcn_chain_pubkey_eq(&nonce, &escrow))
        rc = tcn_err_set(err, TCN_ERR_USAGE, "nonce_seed: its public key %s is already held by the state",
                         tcn_state_b58(&nonce, b58));
    else if (tcn_chain_pubkey_eq(&sc->refund_to, &escrow) || tcn_chain_pubkey_eq(&sc->refund_to, &nonce))
        rc = tcn_err_set(err, TCN_ERR_USAGE, "refund_to: the swap's own escrow or nonce account");
    if (rc != TCN_OK) {
        if (escrow_slot != NULL)
            tcn_wipe(escrow_slot, TCN_STATE_SECRET_BYTES);
        tcn_wipe(nonce_slot, TCN_STATE_SECRET_BYTES);
        free(policy);
        return rc;
    }

    /* Commit. */
    uint64_t swap_id = st->n_swaps + 1, key_id = sc->escrow_key_id;
    if (new_key) {
        tcn_state_key_rec *k = &st->keys[st->n_keys++];
        memset(k, 0, sizeof(*k));
        k->kind = TCN_KEY_ED25519_SEED;
        k->secret_len = TCN_STATE_SECRET_BYTES;
        k->owner = c->actor;
        k->pubkey = escrow;
        k->policy = policy;
        key_id = st->n_keys;
        tcn_state_table_put(&st->accounts, &escrow, TCN_STATE_TAG_KEY | key_id);
        existing = k;
    }
    existing->swap_id = swap_id;
    tcn_state_swap_rec *sw = &st->swaps[st->n_swaps++];
    memset(sw, 0, sizeof(*sw));
    sw->status = TCN_SWAP_NEW;
    sw->user = c->actor;
    sw->lp = sc->lp;
    sw->refund_to = sc->refund_to;
    sw->nonce = nonce;
    sw->escrow_key_id = key_id;
    sw->amount = sc->amount;
    sw->deadline_ms = sc->deadline_ms;
    sw->created_ms = c->ts_ms;
    tcn_state_table_put(&st->accounts, &nonce, TCN_STATE_TAG_NONCE | swap_id);
    *id = swap_id;
    return TCN_OK;
}

/* --- The refund rule and the observation rule ----------------------------------- */

static size_t first_difference(const uint8_t *a, const uint8_t *b, size_t n)
{
    size_t i = 0;
    while (i < n && a[i] == b[i])
        i++;
    return i;
}

int tcn_state_refund_check(const tcn_state *st, uint64_t swap_id, bool nonce_initialized,
                           const tcn_chain_hash *nonce_value, uint64_t escrow_lamports, const uint8_t *refund,
                           size_t refund_len, tcn_state_new_refund *out, tcn_error *err)
{
    const tcn_state_swap_rec *sw = tcn_state_swap_get(st, swap_id);
    TCN_ASSERT(sw != NULL);
    memset(out, 0, sizeof(*out));
    uint64_t balance = tcn_state_swap_refund_balance(sw, escrow_lamports);
    if (!nonce_initialized) {
        TCN_ENSURE(refund_len == 0, err, TCN_ERR_BINDING,
                   "refund: %zu bytes, want none (no nonce account to bind one to)", refund_len);
        return TCN_OK;
    }
    if (tcn_state_refund_lamports(balance) == 0) {
        TCN_ENSURE(refund_len == 0, err, TCN_ERR_BINDING,
                   "refund: %zu bytes, want none (a balance of %llu has no refund: below the reserve + fee + the "
                   "reserve)",
                   refund_len, (unsigned long long)balance);
        return TCN_OK;
    }
    /* The same nonce value and balance as the swap's current refund give the
     * same bytes (RFC 8032 signing is deterministic): compare, do not re-sign. */
    const uint8_t *want;
    size_t want_len;
    tcn_buf fresh = {0};
    bool keep = sw->nonce_initialized && sw->refund_len > 0 && tcn_chain_hash_eq(nonce_value, &sw->nonce_value) &&
                balance == tcn_state_swap_refund_balance(sw, sw->escrow_lamports);
    if (keep) {
        want = sw->refund;
        want_len = sw->refund_len;
    } else {
        tcn_error e;
        int rc = tcn_state_sign_refund(st, swap_id, nonce_value, balance, &fresh, &e);
        if (rc == TCN_ERR_NOMEM) {
            tcn_buf_free(&fresh);
            return TCN_ERR_NOMEM;
        }
        TCN_ASSERT(rc == TCN_OK); /* genesis, swap and balance were checked */
        want = fresh.p;
        want_len = fresh.len;
    }
    int rc = TCN_OK;
    if (refund_len != want_len)
        rc = tcn_err_set(err, TCN_ERR_BINDING, "refund: %zu bytes, want the %zu of the refund of %llu lamports",
                         refund_len, want_len, (unsigned long long)balance);
    else if (memcmp(refund, want, want_len) != 0)
        rc = tcn_err_set(err, TCN_ERR_BINDING,
                         "refund: differs at byte %zu from the refund of %llu lamports bound to the nonce value",
                         first_difference(refund, want, want_len), (unsigned long long)balance);
    if (rc == TCN_OK && !keep) {
        out->p = fresh.p; /* ownership moves to out */
        out->len = (uint16_t)fresh.len;
        fresh.p = NULL;
    }
    out->keep = keep;
    tcn_buf_free(&fresh);
    return rc;
}

void tcn_state_observe(tcn_state *st, uint64_t swap_id, bool nonce_initialized, const tcn_chain_hash *nonce_value,
                       uint64_t escrow_lamports, uint64_t slot, tcn_state_new_refund *refund)
{
    tcn_state_swap_rec *sw = tcn_state_swap_get(st, swap_id);
    TCN_ASSERT(sw != NULL && sw->status != TCN_SWAP_CLOSED);
    sw->escrow_lamports = escrow_lamports;
    if (slot > sw->observed_slot)
        sw->observed_slot = slot; /* never back (DROPPED carries 0) */
    if (nonce_initialized) {
        sw->nonce_initialized = true;
        sw->nonce_value = *nonce_value;
        if (sw->status == TCN_SWAP_NEW)
            sw->status = TCN_SWAP_OPEN;
    }
    if (!refund->keep) {
        free(sw->refund);
        sw->refund = refund->p;
        sw->refund_len = refund->len;
        refund->p = NULL;
    }
    if (escrow_lamports >= sw->amount)
        sw->funded = true;
    /* Funded, then empty: paid out or refunded. Nothing is left to refund,
     * and the escrow key is free for another swap. */
    if (sw->funded && escrow_lamports == 0) {
        TCN_ASSERT(sw->refund == NULL && sw->intent_payout_id == 0);
        sw->status = TCN_SWAP_CLOSED;
        tcn_state_key_rec *k = tcn_state_key_get(st, sw->escrow_key_id);
        if (k->swap_id == swap_id)
            k->swap_id = 0;
    }
}

/* --- SWAP_OBSERVED ---------------------------------------------------------------- */

/* SWAP_OBSERVED (network): what the chain showed at `slot` about the swap's
 * nonce account and escrow, and the refund bound to it.
 * - The swap exists and is not CLOSED; no intent is open (an open intent's
 *   end is PAYOUT_OUTCOME's to record: TCN_ERR_BUSY); the slot does not go
 *   back.
 * - nonce_initialized moves a NEW swap to OPEN and records the nonce value.
 *   An observation without it only records the balance, and is refused for
 *   an OPEN swap (its nonce account cannot vanish: only the coordinator,
 *   its authority, could withdraw it, and it never signs that).
 * - escrow_lamports is recorded; funded once it reaches amount; a funded
 *   escrow seen empty closes the swap.
 * - The refund carried must be exactly the one the state signs for that
 *   nonce value and balance (tcn_state_refund_check), and becomes the
 *   swap's current refund. */
int tcn_state_apply_swap_observed(tcn_state *st, const tcn_cmd *c, uint64_t *id, tcn_error *err)
{
    (void)id;
    static const tcn_chain_hash zero_hash;
    const __typeof__(c->u.swap_observed) *so = &c->u.swap_observed;
    TCN_GUARD(tcn_state_need_network(c, err));
    tcn_state_swap_rec *sw = tcn_state_swap_get(st, so->swap_id);
    TCN_ENSURE(sw != NULL, err, TCN_ERR_USAGE, "swap_id: %llu: no such swap", (unsigned long long)so->swap_id);
    TCN_ENSURE(sw->status != TCN_SWAP_CLOSED, err, TCN_ERR_USAGE, "swap %llu: CLOSED", (unsigned long long)so->swap_id);
    TCN_ENSURE(sw->intent_payout_id == 0, err, TCN_ERR_BUSY,
               "swap %llu: the intent of payout %llu is open (its outcome records the chain)",
               (unsigned long long)so->swap_id, (unsigned long long)sw->intent_payout_id);
    TCN_ENSURE(so->slot >= sw->observed_slot, err, TCN_ERR_USAGE, "slot: %llu before the last observation's %llu",
               (unsigned long long)so->slot, (unsigned long long)sw->observed_slot);
    if (!so->nonce_initialized) {
        TCN_ENSURE(sw->status == TCN_SWAP_NEW, err, TCN_ERR_USAGE,
                   "nonce_initialized: false for swap %llu, %s (its nonce account cannot vanish)",
                   (unsigned long long)so->swap_id, status_name(sw->status));
        TCN_ENSURE(tcn_chain_hash_eq(&so->nonce_value, &zero_hash), err, TCN_ERR_USAGE,
                   "nonce_value: set while nonce_initialized is false");
    }
    tcn_state_new_refund refund;
    TCN_GUARD(tcn_state_refund_check(st, so->swap_id, so->nonce_initialized, &so->nonce_value, so->escrow_lamports,
                                     so->refund, so->refund_len, &refund, err));
    tcn_state_observe(st, so->swap_id, so->nonce_initialized, &so->nonce_value, so->escrow_lamports, so->slot,
                      &refund);
    return TCN_OK;
}
