/* A deterministic Solana-style chain: accounts, System program, fees, rent,
 * durable nonces, recent blockhashes, duplicate detection and signature
 * statuses — the chain the simulator drives and `tcn ledger` serves.
 *
 * Deterministic: no clock, no OS randomness. Blockhashes come from a seed
 * (slot 0: SHA-256(seed); each new slot: SHA-256(previous blockhash), as
 * LiteSVM's create_blockhash/expire_blockhash do — seed "genesis" gives
 * LiteSVM's first blockhash). Time advances only by tcn_chain_model_advance_slot.
 *
 * Rules modelled (docs/CHAIN.md lists them with their sources):
 * - submission order as Agave: decode and sanitize, verify every signature,
 *   check the age (recent blockhash at most 150 slots old) or else the
 *   durable nonce, then the status cache (AlreadyProcessed), then the fee
 *   payer (5,000 lamports per signature; system account; rent state);
 * - execution of the System program's CreateAccount, Transfer,
 *   AdvanceNonceAccount and InitializeNonceAccount with the runtime's
 *   account checks, then the rent-state check of every writable account;
 * - a transaction that fails after the fee payer check still "lands": the
 *   fee is charged, every other change is rolled back, and a durable-nonce
 *   transaction still advances its nonce (Solana docs, "Durable nonces").
 */
#ifndef TCN_CHAIN_MODEL_H
#define TCN_CHAIN_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chain/nonce.h"
#include "chain/tx_error.h"
#include "chain/types.h"
#include "util/err.h"

typedef struct tcn_chain_model tcn_chain_model;

/* Which blockhash the runtime hands to the nonce instructions and the
 * nonce-advance-on-failure rule ("environment blockhash"). */
typedef enum {
    /* Agave: the bank's latest blockhash (Bank::last_blockhash; so a nonce
     * advances at most once per slot: NonceBlockhashNotExpired). Default. */
    TCN_CHAIN_NONCE_FROM_BANK = 0,
    /* LiteSVM 0.8.0: the transaction's own recent blockhash (its
     * process_transaction passes message.recent_blockhash() as the
     * environment blockhash). Only to replay vectors made with LiteSVM. */
    TCN_CHAIN_NONCE_FROM_MESSAGE = 1,
} tcn_chain_nonce_source;

typedef struct tcn_chain_model_opts {
    tcn_chain_nonce_source nonce_source;
} tcn_chain_model_opts;

/* seed: any bytes (at least 1) that fix the blockhash sequence; opts NULL =
 * defaults. The model owns its memory; free with tcn_chain_model_free. */
int tcn_chain_model_new(const void *seed, size_t seed_len, const tcn_chain_model_opts *opts, tcn_chain_model **out,
                        tcn_error *err) TCN_MUST_CHECK;
void tcn_chain_model_free(tcn_chain_model *m);

/* --- Slots and blockhashes ------------------------------------------------ */

uint64_t tcn_chain_model_slot(const tcn_chain_model *m);
/* getLatestBlockhash: the current blockhash and the last slot in which a
 * transaction using it can still land. */
void tcn_chain_model_latest_blockhash(const tcn_chain_model *m, tcn_chain_hash *out, uint64_t *last_valid_slot);
/* Starts the next slot with the next blockhash. */
void tcn_chain_model_advance_slot(tcn_chain_model *m);
/* True when bh is one of the last TCN_CHAIN_MAX_PROCESSING_AGE + 1 blockhashes. */
bool tcn_chain_model_blockhash_valid(const tcn_chain_model *m, const tcn_chain_hash *bh);

/* --- Accounts -------------------------------------------------------------- */

/* A read-only view; data stays valid until the next call that changes the model. */
typedef struct tcn_chain_account_view {
    uint64_t lamports;
    tcn_chain_pubkey owner;
    bool executable;
    const uint8_t *data;
    size_t data_len;
} tcn_chain_account_view;

/* getAccountInfo: false when the account does not exist (0 lamports). */
bool tcn_chain_model_get_account(const tcn_chain_model *m, const tcn_chain_pubkey *pk, tcn_chain_account_view *out);
/* getBalance: 0 for an account that does not exist. */
uint64_t tcn_chain_model_balance(const tcn_chain_model *m, const tcn_chain_pubkey *pk);
/* requestAirdrop: mints lamports into pk (a System account without data, or
 * a new one). Minted lamports count in the conservation check. */
int tcn_chain_model_airdrop(tcn_chain_model *m, const tcn_chain_pubkey *pk, uint64_t lamports, tcn_error *err)
    TCN_MUST_CHECK;
/* requestAirdrop as an RPC server answers it: tcn_chain_model_airdrop plus
 * a landed status under a deterministic signature (SHA-512 of a tag, the
 * slot, a counter, the amount and the key), returned in *sig. */
int tcn_chain_model_request_airdrop(tcn_chain_model *m, const tcn_chain_pubkey *pk, uint64_t lamports,
                                    tcn_chain_signature *sig, tcn_error *err) TCN_MUST_CHECK;
/* Genesis and tests: makes pk hold exactly this account (data copied; NULL
 * owner = System program); the change in lamports counts as minted
 * (or burnt). */
int tcn_chain_model_set_account(tcn_chain_model *m, const tcn_chain_pubkey *pk, uint64_t lamports,
                                const tcn_chain_pubkey *owner, const uint8_t *data, size_t data_len, tcn_error *err)
    TCN_MUST_CHECK;
/* The state of an initialized nonce account (strict: 80 bytes, System-owned). */
int tcn_chain_model_nonce(const tcn_chain_model *m, const tcn_chain_pubkey *pk, tcn_chain_nonce_state *out,
                          tcn_error *err) TCN_MUST_CHECK;

/* --- Transactions --------------------------------------------------------- */

#define TCN_CHAIN_MODEL_LOG_MAX 256u

typedef struct tcn_chain_submit_result {
    tcn_chain_tx_error err;      /* kind TCN_CHAIN_TX_OK when it landed and succeeded */
    bool landed;                 /* recorded in a slot, fee charged (success or execution error); simulate: would be */
    uint64_t fee;                /* charged, when landed */
    uint64_t slot;
    tcn_chain_signature signature; /* the transaction id; zero if it did not decode */
    char log[TCN_CHAIN_MODEL_LOG_MAX]; /* why it failed, in words (decoder message, program message) */
} tcn_chain_submit_result;

/* sendTransaction (wire bytes) and processing in the current slot. Returns
 * TCN_OK whenever the model decided an outcome (see out->err: a rejection
 * is an outcome), or TCN_ERR_NOMEM. */
int tcn_chain_model_submit(tcn_chain_model *m, const uint8_t *wire, size_t len, tcn_chain_submit_result *out)
    TCN_MUST_CHECK;

/* simulateTransaction / sendTransaction's preflight: the same checks and
 * execution, nothing stored; out->landed says whether it would land. */
int tcn_chain_model_simulate(tcn_chain_model *m, const uint8_t *wire, size_t len, tcn_chain_submit_result *out)
    TCN_MUST_CHECK;

typedef enum {
    TCN_CHAIN_SIG_UNKNOWN = 0, /* never landed (rejected before the fee, or never seen) */
    TCN_CHAIN_SIG_LANDED_OK,
    TCN_CHAIN_SIG_LANDED_ERR, /* landed, fee charged, failed in execution */
} tcn_chain_sig_state;

typedef struct tcn_chain_sig_status {
    tcn_chain_sig_state state;
    uint64_t slot;
    tcn_chain_tx_error err;
} tcn_chain_sig_status;

/* getSignatureStatuses (the model keeps every status; Solana keeps recent ones). */
void tcn_chain_model_signature_status(const tcn_chain_model *m, const tcn_chain_signature *sig,
                                      tcn_chain_sig_status *out);

/* --- Conservation --------------------------------------------------------- */

/* minted = lamports created by airdrops and set_account; fees = fees
 * charged (Solana burns half and pays half to the slot leader; the model
 * credits no account and counts them here); balances = sum over accounts. */
typedef struct tcn_chain_supply {
    uint64_t minted;
    uint64_t balances;
    uint64_t fees;
} tcn_chain_supply;

void tcn_chain_model_supply(const tcn_chain_model *m, tcn_chain_supply *out);
/* The invariant balances + fees == minted; TCN_ERR_CORRUPT with the three
 * numbers when it fails. */
int tcn_chain_model_check_conservation(const tcn_chain_model *m, tcn_error *err) TCN_MUST_CHECK;

#endif
