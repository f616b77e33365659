/* The transactions the coordinator signs (DESIGN §7): nonce account creation, payouts and refunds.
 *
 * Built with the chain layer's web3.js-compatible compiler and System
 * builders, signed here with the secret keys of the store (RFC 8032 is
 * deterministic, so every node that recomputes a transaction gets the same
 * bytes: apply compares them byte for byte). */
#include <string.h>

#include "chain/message.h"
#include "chain/rent.h"
#include "chain/system.h"
#include "chain/transaction.h"
#include "state/internal.h"
#include "util/assert.h"

typedef struct signer {
    const tcn_chain_pubkey *pk;
    const uint8_t *sk;
} signer;

/* Compiles, signs with exactly the required signers, appends the wire bytes. */
static int build(const tcn_chain_pubkey *payer, const tcn_chain_hash *blockhash, const tcn_chain_ix *ixs,
                 size_t n_ixs, const signer *signers, size_t n_signers, tcn_buf *out, tcn_error *err)
{
    tcn_chain_tx tx;
    TCN_GUARD(tcn_chain_message_compile(payer, blockhash, ixs, n_ixs, &tx.msg, err));
    tx.n_signatures = tx.msg.header.num_required_signatures;
    /* The state never lets one account play two parts (internal.h, account
     * table), so the signers are exactly the ones given. */
    TCN_ENSURE(tx.n_signatures == n_signers, err, TCN_ERR_INTERNAL, "state: transaction: %u signers, want %zu",
               tx.n_signatures, n_signers);
    tcn_buf m = {0};
    int rc = tcn_chain_message_encode(&tx.msg, &m, err);
    for (unsigned i = 0; rc == TCN_OK && i < tx.n_signatures; i++) {
        const signer *s = NULL;
        for (size_t k = 0; k < n_signers; k++)
            if (tcn_chain_pubkey_eq(signers[k].pk, &tx.msg.keys[i]))
                s = &signers[k];
        if (s == NULL)
            rc = tcn_err_set(err, TCN_ERR_INTERNAL, "state: transaction: signatures[%u]: no key for the signer", i);
        else
            tcn_state_ed25519_sign(s->sk, m.p, m.len, &tx.signatures[i]);
    }
    tcn_buf_free(&m);
    if (rc == TCN_OK)
        rc = tcn_chain_tx_encode(&tx, out, err);
    return rc;
}

static int need_genesis(const tcn_state *st, tcn_error *err)
{
    TCN_ENSURE(st->genesis, err, TCN_ERR_USAGE, "state: no genesis yet (no coordinator key)");
    return TCN_OK;
}

int tcn_state_sign_nonce_create(const tcn_state *st, uint64_t swap_id, const tcn_chain_hash *recent_blockhash,
                                tcn_buf *out, tcn_error *err)
{
    TCN_GUARD(need_genesis(st, err));
    const tcn_state_swap_rec *sw = tcn_state_swap_get(st, swap_id);
    TCN_ENSURE(sw != NULL, err, TCN_ERR_USAGE, "state: swap %llu: no such swap", (unsigned long long)swap_id);
    tcn_chain_ix ix[2];
    tcn_chain_system_create_account(&ix[0], &st->coordinator, &sw->nonce,
                                    tcn_chain_rent_minimum_balance(TCN_CHAIN_NONCE_ACCOUNT_BYTES),
                                    TCN_CHAIN_NONCE_ACCOUNT_BYTES, &tcn_chain_system_program_id);
    tcn_chain_system_initialize_nonce(&ix[1], &sw->nonce, &st->coordinator);
    const signer signers[2] = {
        {&st->coordinator, st->root + TCN_STATE_ROOT_COORDINATOR},
        {&sw->nonce, tcn_state_nonce_secret(st, swap_id)},
    };
    return build(&st->coordinator, recent_blockhash, ix, 2, signers, 2, out, err);
}

/* AdvanceNonceAccount(nonce, coordinator) + Transfer(escrow -> to, lamports),
 * the escrow paying the fee, bound to the nonce value. */
static int nonce_transfer(const tcn_state *st, uint64_t swap_id, const tcn_chain_hash *nonce_value,
                          const tcn_chain_pubkey *to, uint64_t lamports, tcn_buf *out, tcn_error *err)
{
    const tcn_state_swap_rec *sw = tcn_state_swap_get(st, swap_id);
    const tcn_state_key_rec *escrow = tcn_state_key_get(st, sw->escrow_key_id);
    TCN_ASSERT(escrow != NULL && escrow->kind == TCN_KEY_ED25519_SEED);
    tcn_chain_ix ix[2];
    tcn_chain_system_advance_nonce(&ix[0], &sw->nonce, &st->coordinator);
    tcn_chain_system_transfer(&ix[1], &escrow->pubkey, to, lamports);
    const signer signers[2] = {
        {&escrow->pubkey, tcn_state_key_secret(st, sw->escrow_key_id)},
        {&st->coordinator, st->root + TCN_STATE_ROOT_COORDINATOR},
    };
    return build(&escrow->pubkey, nonce_value, ix, 2, signers, 2, out, err);
}

int tcn_state_sign_payout(const tcn_state *st, uint64_t payout_id, const tcn_chain_hash *nonce_value, tcn_buf *out,
                          tcn_error *err)
{
    TCN_GUARD(need_genesis(st, err));
    const tcn_state_payout_rec *p = tcn_state_payout_get(st, payout_id);
    TCN_ENSURE(p != NULL, err, TCN_ERR_USAGE, "state: payout %llu: no such payout", (unsigned long long)payout_id);
    return nonce_transfer(st, p->swap_id, nonce_value, &p->destination, p->amount, out, err);
}

#ifdef TCN_STATE_BUGS
static uint32_t state_bugs;
void tcn_state_bugs_set(uint32_t bugs) { state_bugs = bugs; }
#define STATE_BUG(flag) ((state_bugs & (flag)) != 0)
#else
void tcn_state_bugs_set(uint32_t bugs) { (void)bugs; }
#define STATE_BUG(flag) 0
#endif

uint64_t tcn_state_escrow_reserve(void)
{
    TCN_ASSERT(tcn_chain_rent_minimum_balance(0) == TCN_STATE_ESCROW_RESERVE);
    return TCN_STATE_ESCROW_RESERVE;
}

/* The reserve stays behind (so a deposit can never leave the escrow rent
 * paying: it only adds to R), and the refund moves at least R (so it lands
 * into any refund_to, even one that does not exist yet: the runtime refuses
 * to create an account below R, and nobody can make an account rent paying
 * any more). Below that, the sweep returns what is left. */
uint64_t tcn_state_refund_lamports(uint64_t balance)
{
    const uint64_t r = tcn_state_escrow_reserve();
    if (STATE_BUG(TCN_STATE_BUG_REFUND_EMPTIES_ESCROW)) /* broken on purpose: the old rule */
        return balance > TCN_STATE_TX_FEE ? balance - TCN_STATE_TX_FEE : 0;
    if (balance < TCN_STATE_REFUND_MIN_BALANCE)
        return 0;
    return balance - r - TCN_STATE_TX_FEE;
}

int tcn_state_sign_refund(const tcn_state *st, uint64_t swap_id, const tcn_chain_hash *nonce_value,
                          uint64_t escrow_lamports, tcn_buf *out, tcn_error *err)
{
    TCN_GUARD(need_genesis(st, err));
    const tcn_state_swap_rec *sw = tcn_state_swap_get(st, swap_id);
    TCN_ENSURE(sw != NULL, err, TCN_ERR_USAGE, "state: swap %llu: no such swap", (unsigned long long)swap_id);
    uint64_t lamports = tcn_state_refund_lamports(escrow_lamports);
    TCN_ENSURE(lamports > 0, err, TCN_ERR_USAGE,
               "state: swap %llu: refund: a balance of %llu lamports is below %llu (reserve + fee + a refund of at "
               "least the reserve)",
               (unsigned long long)swap_id, (unsigned long long)escrow_lamports,
               (unsigned long long)TCN_STATE_REFUND_MIN_BALANCE);
    return nonce_transfer(st, swap_id, nonce_value, &sw->refund_to, lamports, out, err);
}

/* AdvanceNonceAccount(nonce, coordinator) + Transfer(escrow -> refund_to,
 * lamports), the COORDINATOR paying the fee: the escrow pays nothing, so
 * the transfer of everything it holds leaves it at exactly 0 (allowed), and
 * a deposit that arrives before it lands leaves it above 0: at or above R
 * the sweep still lands (the deposit stays for the next one), below R the
 * transfer fails (rent paying), the coordinator's fee is spent and the
 * nonce advanced — the executor reads again and sweeps again. */
int tcn_state_sign_sweep(const tcn_state *st, uint64_t swap_id, const tcn_chain_hash *nonce_value, uint64_t lamports,
                         tcn_buf *out, tcn_error *err)
{
    TCN_GUARD(need_genesis(st, err));
    const tcn_state_swap_rec *sw = tcn_state_swap_get(st, swap_id);
    TCN_ENSURE(sw != NULL, err, TCN_ERR_USAGE, "state: swap %llu: no such swap", (unsigned long long)swap_id);
    TCN_ENSURE(lamports > 0, err, TCN_ERR_USAGE, "state: swap %llu: sweep: nothing to sweep",
               (unsigned long long)swap_id);
    const tcn_state_key_rec *escrow = tcn_state_key_get(st, sw->escrow_key_id);
    TCN_ASSERT(escrow != NULL && escrow->kind == TCN_KEY_ED25519_SEED);
    tcn_chain_ix ix[2];
    tcn_chain_system_advance_nonce(&ix[0], &sw->nonce, &st->coordinator);
    tcn_chain_system_transfer(&ix[1], &escrow->pubkey, &sw->refund_to, lamports);
    const signer signers[2] = {
        {&st->coordinator, st->root + TCN_STATE_ROOT_COORDINATOR},
        {&escrow->pubkey, tcn_state_key_secret(st, sw->escrow_key_id)},
    };
    return build(&st->coordinator, nonce_value, ix, 2, signers, 2, out, err);
}

/* AdvanceNonceAccount(nonce, coordinator) alone, the coordinator paying,
 * bound to the nonce value: it lands only while the nonce still holds that
 * value, so it and a payout bound to the same value exclude each other.
 * Landing it retires an intent whose bytes can never land. */
int tcn_state_sign_nonce_cancel(const tcn_state *st, uint64_t swap_id, const tcn_chain_hash *nonce_value,
                                tcn_buf *out, tcn_error *err)
{
    TCN_GUARD(need_genesis(st, err));
    const tcn_state_swap_rec *sw = tcn_state_swap_get(st, swap_id);
    TCN_ENSURE(sw != NULL, err, TCN_ERR_USAGE, "state: swap %llu: no such swap", (unsigned long long)swap_id);
    tcn_chain_ix ix;
    tcn_chain_system_advance_nonce(&ix, &sw->nonce, &st->coordinator);
    const signer signers[1] = {{&st->coordinator, st->root + TCN_STATE_ROOT_COORDINATOR}};
    return build(&st->coordinator, nonce_value, &ix, 1, signers, 1, out, err);
}

/* Once the escrow has been funded, a refund is for exactly what it holds
 * (0 once empty). Before that, the user holds a refund of the full amount
 * (so the refund exists before the money moves) — unless what the escrow
 * holds already has a refund of its own (someone else's deposits of at
 * least TCN_STATE_REFUND_MIN_BALANCE, or the user's funding minus a refund
 * that landed before the network saw the funding): then a refund for that,
 * which lands now. A smaller deposit made before funding does not take the
 * user's refund of the amount away (the user waits for it to fund), and
 * once funded the refund for the amount still lands: it keeps the reserve
 * and the deposit on top of it. */
uint64_t tcn_state_swap_refund_balance(const tcn_state_swap_rec *sw, uint64_t escrow_lamports)
{
    if (sw->funded || tcn_state_refund_lamports(escrow_lamports) > 0)
        return escrow_lamports;
    return sw->amount;
}

uint64_t tcn_state_refund_balance(const tcn_state *st, uint64_t swap_id, uint64_t escrow_lamports)
{
    const tcn_state_swap_rec *sw = tcn_state_swap_get(st, swap_id);
    return sw != NULL ? tcn_state_swap_refund_balance(sw, escrow_lamports) : 0;
}

bool tcn_state_sweep_due(const tcn_state *st, uint64_t swap_id, uint64_t ts_ms)
{
    const tcn_state_swap_rec *sw = tcn_state_swap_get(st, swap_id);
    /* A refund that lands now (one for the amount, before a funding that
     * has not come, would not) is the user's to send, or the leader's past
     * the deadline: no sweep while there is one. */
    if (sw == NULL || sw->status != TCN_SWAP_OPEN || sw->intent_payout_id != 0 || sw->escrow_lamports == 0 ||
        (sw->refund_len > 0 && tcn_state_swap_refund_balance(sw, sw->escrow_lamports) <= sw->escrow_lamports))
        return false;
    if (ts_ms < tcn_state_now_ms(st))
        ts_ms = tcn_state_now_ms(st); /* as tcn_state_check_payout */
    if (ts_ms > sw->deadline_ms)
        return true; /* funded or not: nothing more can happen to it */
    if (!sw->funded)
        return false;
    if (sw->escrow_lamports <= TCN_STATE_ESCROW_RESERVE + TCN_STATE_TX_FEE)
        return true; /* no payout fits */
    for (unsigned i = 0; i < sw->n_payouts; i++) {
        const tcn_state_payout_rec *p = tcn_state_payout_get(st, sw->payouts[i]);
        if (p->status == TCN_PAYOUT_SCHEDULED &&
            p->amount <= sw->escrow_lamports - TCN_STATE_ESCROW_RESERVE - TCN_STATE_TX_FEE)
            return false; /* it fits: it may still be paid (not due yet, or outside its window) */
    }
    return true;
}
