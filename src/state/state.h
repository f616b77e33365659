/* The coordinator state machine (DESIGN §7): deterministic apply of commands,
 * read views without secrets, the transactions the coordinator signs, and
 * versioned, checksummed snapshots.
 *
 * Pure: no system calls, no clock, no randomness (DESIGN §3). Time comes in
 * each command's ts_ms; keys the leader generates come inside the command.
 * Every node applies the same commands in the same order and ends in
 * byte-identical state (tcn_state_digest).
 *
 * Secrets (the coordinator key, escrow and nonce keys, imported keys and
 * shares) live in secure memory, are wiped on free, and no function here
 * returns or prints them: the views carry public keys only, and the signing
 * functions return signed transactions. Snapshots DO contain them: a
 * snapshot travels only between attested enclaves over TLS, and whoever
 * holds one wipes it (tcn_buf_free_wipe). */
#ifndef TCN_STATE_STATE_H
#define TCN_STATE_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chain/types.h"
#include "state/cmd.h"
#include "util/buf.h"
#include "util/err.h"

typedef struct tcn_state tcn_state;

int tcn_state_new(tcn_state **out) TCN_MUST_CHECK;
/* Wipes every secret and frees; NULL is accepted. */
void tcn_state_free(tcn_state *st);

/* --- Apply ----------------------------------------------------------------- */

/* What apply decided. code TCN_OK: applied; otherwise the command was
 * refused deterministically (every node refuses it the same way) and
 * changed nothing: TCN_ERR_POLICY (a policy forbids it), TCN_ERR_USAGE (it
 * names something that does not exist, or a role that may not do it),
 * TCN_ERR_BUSY (a conflicting operation is open, e.g. an intent on the
 * swap), TCN_ERR_MALFORMED (the command does not decode), TCN_ERR_BINDING
 * (signed bytes differ from what the state expects). reason says which
 * check and why, and never holds a secret. id: the new object's id (key,
 * swap, payout) when the command creates one. */
typedef struct tcn_state_result {
    int code;
    uint64_t id;
    char reason[TCN_STATE_REASON_MAX];
} tcn_state_result;

/* Applies the command committed at log index `index` (strictly increasing).
 * Returns TCN_OK when apply decided (see res), TCN_ERR_NOMEM when memory ran
 * out: the state is then unchanged and the node must stop (another node
 * would not have failed: continuing would diverge). A refused command moves
 * the applied index and nothing else (now_ms included). docs/STATE.md lists
 * every command's checks and the code each refusal carries. */
int tcn_state_apply(tcn_state *st, uint64_t index, const uint8_t *cmd, size_t len, tcn_state_result *res)
    TCN_MUST_CHECK;
/* The last index applied (0 at first, or the snapshot's). */
uint64_t tcn_state_applied_index(const tcn_state *st);
/* The largest ts_ms applied so far: the state's notion of "now". */
uint64_t tcn_state_now_ms(const tcn_state *st);

/* --- Views (no secrets; valid until the next apply or free) --------------- */

bool tcn_state_has_genesis(const tcn_state *st);
/* Zero key before genesis. */
const tcn_chain_pubkey *tcn_state_coordinator_key(const tcn_state *st);
const uint8_t *tcn_state_group_id(const tcn_state *st); /* TCN_STATE_GROUP_ID_LEN bytes */
tcn_role tcn_state_client_role(const tcn_state *st, const tcn_chain_pubkey *client);

typedef struct tcn_key_view {
    uint64_t id;
    uint8_t kind;            /* tcn_key_kind */
    tcn_chain_pubkey owner;  /* the client that imported it (or created the swap) */
    tcn_chain_pubkey pubkey; /* Ed25519 keys; zero for a share */
    tcn_key_policy policy;
    uint64_t day;            /* UTC day number of day_spent */
    uint64_t day_spent;      /* lamports in payout intents that day */
    uint64_t swap_id;        /* the open swap using it as escrow, or 0 */
} tcn_key_view;
bool tcn_state_key(const tcn_state *st, uint64_t key_id, tcn_key_view *out);

typedef enum {
    TCN_SWAP_NEW = 1,      /* waiting for its nonce account on the chain */
    TCN_SWAP_OPEN = 2,     /* nonce ready, refund issued; funded or not */
    TCN_SWAP_CLOSED = 3,   /* was funded and the escrow is empty (paid out or refunded) */
} tcn_swap_status;

typedef struct tcn_swap_view {
    uint64_t id;
    uint8_t status; /* tcn_swap_status */
    tcn_chain_pubkey user, lp, refund_to;
    uint64_t escrow_key_id;
    tcn_chain_pubkey escrow; /* the escrow account (its key's public half) */
    tcn_chain_pubkey nonce;  /* the nonce account */
    uint64_t amount, deadline_ms, created_ms;
    bool funded;             /* the escrow has been seen holding at least amount */
    bool nonce_initialized;
    tcn_chain_hash nonce_value;   /* the value the state believes the nonce holds */
    uint64_t escrow_lamports;     /* the escrow balance the state believes (0 until observed) */
    uint64_t observed_slot;
    /* The current pre-signed refund, bound to nonce_value (len 0: none). */
    const uint8_t *refund;
    size_t refund_len;
    /* The open intent, if any (payout id 0: none). */
    uint64_t intent_payout_id;
    tcn_chain_hash intent_nonce_value;
    const uint8_t *intent_tx;
    size_t intent_tx_len;
    size_t n_payouts;
} tcn_swap_view;
/* Swaps are numbered 1..tcn_state_swap_count. */
uint64_t tcn_state_swap_count(const tcn_state *st);
bool tcn_state_swap(const tcn_state *st, uint64_t swap_id, tcn_swap_view *out);

typedef enum {
    TCN_PAYOUT_SCHEDULED = 1,
    TCN_PAYOUT_INTENT = 2, /* committed intent without outcome: any leader finishes it */
    TCN_PAYOUT_PAID = 3,   /* landed and executed */
    TCN_PAYOUT_FAILED = 4, /* landed and failed in execution (fee paid, nonce advanced) */
} tcn_payout_status;

typedef struct tcn_payout_view {
    uint64_t id;
    uint64_t swap_id;
    uint8_t status; /* tcn_payout_status */
    tcn_chain_pubkey destination;
    uint64_t amount, due_ms;
    uint32_t attempts;        /* intents committed for it (a DROPPED outcome allows another) */
    tcn_chain_signature sig;  /* the transaction id of the last intent (zero before one) */
    uint64_t landed_slot;
} tcn_payout_view;
/* Payouts are numbered 1..tcn_state_payout_count across all swaps. */
uint64_t tcn_state_payout_count(const tcn_state *st);
bool tcn_state_payout(const tcn_state *st, uint64_t payout_id, tcn_payout_view *out);
/* The id of the i-th payout of a swap (0 <= i < n_payouts), or 0. */
uint64_t tcn_state_swap_payout(const tcn_state *st, uint64_t swap_id, size_t i);

typedef struct tcn_member_view {
    uint64_t node_id;
    uint8_t measurement[TCN_STATE_MEASUREMENT_LEN];
    char address[TCN_STATE_ADDRESS_MAX + 1];
} tcn_member_view;
size_t tcn_state_member_count(const tcn_state *st);
bool tcn_state_member_at(const tcn_state *st, size_t i, tcn_member_view *out); /* ascending node id */

/* --- Checks the leader runs before it signs (apply runs the same ones) ---- */

/* Whether the payout may get an intent at ts_ms: the swap open and funded,
 * no open intent, the payout scheduled and due, before the deadline, the
 * escrow able to pay it and its fee and keep the reserve
 * (escrow >= amount + fee + TCN_STATE_ESCROW_RESERVE: landed or failed, the
 * escrow stays rent exempt whatever is deposited, so the next refund lands),
 * and the escrow key's policy (destination, per payout, per day, window).
 * TCN_OK or the refusal code with the reason in err. */
int tcn_state_check_payout(const tcn_state *st, uint64_t payout_id, uint64_t ts_ms, tcn_error *err) TCN_MUST_CHECK;

/* --- Transactions the coordinator signs ----------------------------------
 * Deterministic (Ed25519 is, RFC 8032), so apply recomputes them and
 * refuses a command whose bytes differ (TCN_ERR_BINDING). Each appends the
 * wire bytes to out. Fee payer and signers:
 *   nonce creation: the coordinator pays; CreateAccount(coordinator → nonce,
 *     rent-exempt minimum for 80 bytes, 80, System) +
 *     InitializeNonceAccount(nonce, authority = coordinator); signed by the
 *     coordinator and the nonce key; recent blockhash as given.
 *   payout: the escrow pays; AdvanceNonceAccount(nonce, coordinator) +
 *     Transfer(escrow → destination, amount); signed by escrow and
 *     coordinator; recent blockhash = the nonce value.
 *   refund: the same shape, Transfer(escrow → refund_to,
 *     tcn_state_refund_lamports(balance) = balance - R - fee): the escrow
 *     keeps the reserve R, so a deposit made before it lands only adds to R
 *     and can never make it fail; balance is the escrow's known balance, or
 *     the swap amount before the escrow has been funded (so the user holds
 *     a refund before funding).
 *   sweep: the coordinator pays; AdvanceNonceAccount(nonce, coordinator) +
 *     Transfer(escrow → refund_to, everything); not a command (see
 *     tcn_state_sweep_due). */
#define TCN_STATE_TX_FEE (2u * TCN_CHAIN_LAMPORTS_PER_SIGNATURE)
/* R: what every refund and payout leaves in the escrow — the rent-exempt
 * minimum of an empty account (solana-rent, 0 data bytes; the same as
 * tcn_chain_rent_minimum_balance(0), which tcn_state_escrow_reserve
 * returns). The sweep returns it once the swap is done. */
#define TCN_STATE_ESCROW_RESERVE 890880ull
/* The smallest balance with a refund: R stays, the fee, and a refund of at
 * least R (so it lands into any refund_to, even one that does not exist
 * yet). Also the smallest swap amount (SWAP_CREATE). */
#define TCN_STATE_REFUND_MIN_BALANCE (2u * TCN_STATE_ESCROW_RESERVE + TCN_STATE_TX_FEE)
uint64_t tcn_state_escrow_reserve(void);
/* What the refund of an escrow holding `balance` moves to refund_to:
 * balance - R - fee, or 0 (no refund) below TCN_STATE_REFUND_MIN_BALANCE. */
uint64_t tcn_state_refund_lamports(uint64_t balance);
int tcn_state_sign_nonce_create(const tcn_state *st, uint64_t swap_id, const tcn_chain_hash *recent_blockhash,
                                tcn_buf *out, tcn_error *err) TCN_MUST_CHECK;
int tcn_state_sign_payout(const tcn_state *st, uint64_t payout_id, const tcn_chain_hash *nonce_value, tcn_buf *out,
                          tcn_error *err) TCN_MUST_CHECK;
/* escrow_lamports: the balance the refund is for (tcn_state_refund_balance
 * gives the one apply will use for the swap's current state); it moves
 * tcn_state_refund_lamports of it. A balance without a refund:
 * TCN_ERR_USAGE. */
int tcn_state_sign_refund(const tcn_state *st, uint64_t swap_id, const tcn_chain_hash *nonce_value,
                          uint64_t escrow_lamports, tcn_buf *out, tcn_error *err) TCN_MUST_CHECK;
/* nonce cancel: AdvanceNonceAccount(nonce, coordinator) alone, the
 *   coordinator paying, bound to nonce_value. It and any payout or refund
 *   bound to that value exclude each other; the executor lands it to retire
 *   an intent whose bytes the chain will not take (the escrow cannot pay
 *   the fee), so the payout can be reconsidered. Not a command: apply sees
 *   its effect as a nonce that moved without the intent (DROPPED). */
int tcn_state_sign_nonce_cancel(const tcn_state *st, uint64_t swap_id, const tcn_chain_hash *nonce_value,
                                tcn_buf *out, tcn_error *err) TCN_MUST_CHECK;
/* The balance a refund of this swap is for when the escrow is observed
 * holding escrow_lamports: that balance once the swap is funded (0 once a
 * funded escrow is empty), or while it has a refund of its own
 * (tcn_state_refund_lamports > 0); otherwise, while the escrow has never
 * been funded, the swap amount. SWAP_OBSERVED and PAYOUT_OUTCOME must
 * carry exactly tcn_state_sign_refund(swap, their nonce value, this
 * balance), or no refund when tcn_state_refund_lamports of it is 0. */
uint64_t tcn_state_refund_balance(const tcn_state *st, uint64_t swap_id, uint64_t escrow_lamports);

/* The sweep (docs/STATE.md, "The reserve and the sweep"): once a swap is
 * done, the leader returns everything its escrow holds — the reserve, what
 * no refund was worth, and any deposit — to refund_to, the coordinator
 * paying the fee, so the escrow ends at exactly 0 and the swap CLOSED.
 * Not a command: it pays only the user's own refund_to, like the refund,
 * and is bound to the swap's nonce value like every other transaction of
 * the swap, so it and any payout or refund bound to that value exclude
 * each other.
 * Due at ts_ms when the swap is OPEN, without an open intent, its escrow
 * above 0 and without a refund that lands now (the refund landed, or what
 * the payouts left is below TCN_STATE_REFUND_MIN_BALANCE; or the only
 * refund is for an amount never received), and either past the deadline,
 * or funded with no SCHEDULED payout that could still get an intent
 * (amount + fee + R <= escrow). A swap past its deadline with a refund that
 * lands is refunded first by the leader sending that refund (exec). */
bool tcn_state_sweep_due(const tcn_state *st, uint64_t swap_id, uint64_t ts_ms);
int tcn_state_sign_sweep(const tcn_state *st, uint64_t swap_id, const tcn_chain_hash *nonce_value, uint64_t lamports,
                         tcn_buf *out, tcn_error *err) TCN_MUST_CHECK;

/* Bug switches for the simulator: compiled in only with TCN_STATE_BUGS (the
 * simulator's copy of the state machine); elsewhere tcn_state_bugs_set does
 * nothing. A process-wide setting, set once before any state exists, so
 * apply stays deterministic: every node of the process applies the same rule. */
enum {
    TCN_STATE_BUG_REFUND_EMPTIES_ESCROW = 1u << 0, /* the old refund rule: balance - fee, nothing kept */
};
void tcn_state_bugs_set(uint32_t bugs);

/* --- Snapshots ------------------------------------------------------------
 * Format: magic "TCNS", version:u32, applied index, then every table in id
 * order, then SHA-256 of everything before it. Canonical: equal states give
 * equal bytes, so restoring a snapshot and applying the rest of the log
 * gives the same digest as applying the whole log. */
int tcn_state_snapshot(const tcn_state *st, tcn_buf *out, tcn_error *err) TCN_MUST_CHECK;
/* Checks magic, version, checksum, every length and every cross-reference
 * before building anything; errors name the field. (Magic, version and
 * checksum come first; the fields and references are then checked while a
 * private state is filled, which is wiped and freed on any refusal: *out
 * is NULL unless everything passed.) */
int tcn_state_restore(const uint8_t *p, size_t len, tcn_state **out, tcn_error *err) TCN_MUST_CHECK;
/* SHA-256 of the canonical snapshot: nodes compare it to detect divergence.
 * It is the snapshot's own checksum (SHA-256 of every byte before the
 * trailer), computed without making the snapshot. */
int tcn_state_digest(const tcn_state *st, uint8_t out[32], tcn_error *err) TCN_MUST_CHECK;

#endif
