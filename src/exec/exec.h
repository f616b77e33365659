/* The payout executor: what the leader does with the committed state — creates nonce accounts,
 * issues refunds, signs payouts, releases them only once their intent is committed, and finishes
 * every open intent a previous leader left (DESIGN §7). */
#ifndef TCN_EXEC_EXEC_H
#define TCN_EXEC_EXEC_H

/*
 * Pure, like raft/ and state/: the chain and the log come in through the
 * tables below, time as an argument. The daemon drives it with an RPC
 * client; the simulator with its chain model — the same code.
 *
 * The rules it follows, and why they give exactly-once payouts and refunds
 * that are never stranded:
 * - It releases payout bytes (sends them to the chain) only when the state
 *   it is given — committed state — holds them as an open intent. A payout
 *   it signs is first proposed as PAYOUT_INTENT; only a later step, seeing
 *   the intent applied, sends it.
 * - An open intent is finished by asking the chain: landed (ok or failed)
 *   → PAYOUT_OUTCOME with the new nonce value and the new refund in the
 *   same command; not landed and the nonce still at the intent's value →
 *   resend the same bytes; not landed and the nonce moved on → DROPPED
 *   (the bytes can never land), with a new refund.
 * - A new term forgets everything volatile: every open intent is resumed
 *   from the chain's answers, whoever created it.
 * - Any change on the chain it did not cause (the escrow funded, the user's
 *   refund landed, a deposit) becomes SWAP_OBSERVED with a refund for the
 *   new value.
 * - Past a swap's deadline it sends the committed refund itself; once a
 *   swap is done (tcn_state_sweep_due) it sweeps the escrow to refund_to,
 *   the coordinator paying (tcn_state_sign_sweep), until the escrow is
 *   seen empty and SWAP_OBSERVED closes the swap.
 * Apply checks every one of these commands again on every node (state.h).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chain/model.h"
#include "chain/nonce.h"
#include "chain/types.h"
#include "state/state.h"
#include "util/err.h"

/* An intent whose bytes the chain will not take — the escrow cannot pay the
 * fee, or paying it would leave the fee payer rent-paying: drained by the
 * holder of an imported key, or short after a failed payout burnt a fee —
 * would stay open for ever, and the swap with it. After cancel_after_ms of
 * that, the executor sends a nonce cancel (tcn_state_sign_nonce_cancel):
 * bound to the intent's nonce value, it excludes the payout, and once it
 * lands the intent ends DROPPED like any other, with a refund for what the
 * escrow holds. */

/* Bug switches for the simulator (tcn-sim --bug NAME): compiled in only
 * when TCN_EXEC_BUGS is defined (the simulator's copy), never in tcnd. */
enum {
    TCN_EXEC_BUG_RELEASE_BEFORE_COMMIT = 1u << 0, /* send payout bytes when proposing the intent */
    TCN_EXEC_BUG_REFUND_BEFORE_LANDING = 1u << 1, /* commit outcome + refund as soon as the bytes are sent */
    TCN_EXEC_BUG_SKIP_RESUME = 1u << 2,           /* leave alone open intents of an earlier leader */
    TCN_EXEC_BUG_TRUST_LAGGING_STATUS = 1u << 3,  /* decide DROPPED from a status of any age */
};
bool tcn_exec_bugs_compiled(void);

typedef struct tcn_exec_account {
    bool exists;
    uint64_t lamports;
    bool nonce_ok;               /* an initialized nonce account (strict layout) */
    tcn_chain_nonce_state nonce; /* when nonce_ok */
} tcn_exec_account;

/* The chain, as the executor sees it. Every call may fail (TCN_ERR_IO and
 * friends): the executor then leaves that swap for a later step.
 *
 * The contract an implementation must keep (an RPC client: the same node
 * for a whole step, or minContextSlot on every call), because exactly-once
 * rests on it:
 * - accounts: all n accounts as of ONE slot (getMultipleAccounts), and that
 *   slot (the answer's context slot) in *slot;
 * - status: the signature's fate as known at a slot no older than min_slot
 *   (getSignatureStatuses with minContextSlot = min_slot and transaction
 *   history searched); TCN_ERR_BUSY when the node is behind min_slot. The
 *   executor decides that payout bytes can never land (DROPPED) only from a
 *   status at least as new as the read that showed the nonce moved: a
 *   lagging status answer would otherwise make a landed payout look lost,
 *   and it would be paid again.
 * Commitment: the same level for every call (the daemon uses finalized). */
typedef struct tcn_exec_chain {
    void *ctx;
    /* getSlot + getLatestBlockhash (for transactions that use a recent blockhash) */
    int (*latest)(void *ctx, uint64_t *slot, tcn_chain_hash *blockhash, tcn_error *err);
    /* getMultipleAccounts (exists false for an account that does not exist) */
    int (*accounts)(void *ctx, const tcn_chain_pubkey *pks, size_t n, tcn_exec_account *out, uint64_t *slot,
                    tcn_error *err);
    /* sendTransaction: fire and forget; the fate is learned from status */
    int (*send)(void *ctx, const uint8_t *tx, size_t len, tcn_error *err);
    /* getSignatureStatuses for one signature, as of min_slot or later */
    int (*status)(void *ctx, const tcn_chain_signature *sig, uint64_t min_slot, tcn_chain_sig_status *out,
                  tcn_error *err);
} tcn_exec_chain;

/* Proposes a command to the log (the leader's tcn_raft_propose). A refusal
 * (not leader, busy) is not an error for the executor: it tries again. */
typedef int (*tcn_exec_propose_fn)(void *ctx, const uint8_t *cmd, size_t len);

typedef struct tcn_exec_options {
    uint32_t resend_ms;           /* resend unconfirmed bytes (intents, nonce creations) this often */
    uint32_t proposal_timeout_ms; /* a proposal for a swap not applied by then is made again */
    uint32_t cancel_after_ms;     /* an intent the chain will not take for this long is cancelled */
    uint32_t sweep_attempts_max;  /* sweeps of one swap (distinct nonce values) per leadership */
    uint32_t bugs;                /* TCN_EXEC_BUG_*; ignored unless compiled in */
} tcn_exec_options;

void tcn_exec_options_default(tcn_exec_options *o);

typedef struct tcn_exec tcn_exec;

int tcn_exec_new(const tcn_exec_options *o, tcn_exec **out) TCN_MUST_CHECK;
void tcn_exec_free(tcn_exec *x);

typedef struct tcn_exec_stats {
    uint64_t proposed;  /* commands proposed */
    uint64_t sent;      /* transactions sent */
    uint64_t chain_errors;
    uint64_t held_rent; /* due payouts held: they would leave a new destination below the rent-exempt minimum */
    uint64_t cancels;   /* nonce cancels sent for intents the chain will not take */
    uint64_t sweeps;    /* sweeps signed (one per nonce value; resends not counted) */
    uint64_t sweeps_abandoned; /* steps a due sweep was not sent: sweep_attempts_max reached */
    uint64_t refunds_sent;     /* committed refunds the leader sent past a swap's deadline */
} tcn_exec_stats;

/* One pass over the swaps. Call it only on the leader, with the state it
 * has applied, once that state holds an entry of the leader's own term
 * (before that the leader may not know every committed intent). term: the
 * leader's term; a new value starts a fresh leadership (everything volatile
 * forgotten, every open intent resumed). now_ms: the leader's clock, stamped
 * into the commands it proposes (raised to the state's time when behind it);
 * resends and timeouts run on the executor's own clock, which advances by
 * as much as now_ms does between calls and never goes back. */
int tcn_exec_step(tcn_exec *x, const tcn_state *st, uint64_t term, uint64_t now_ms, const tcn_exec_chain *chain,
                  tcn_exec_propose_fn propose, void *propose_ctx) TCN_MUST_CHECK;
const tcn_exec_stats *tcn_exec_stats_of(const tcn_exec *x);

#endif
