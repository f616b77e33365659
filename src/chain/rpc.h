/* The Solana JSON-RPC subset of DESIGN §8, client side: request builders and
 * strict answer parsers (jansson), and the HTTP transport (libcurl,
 * rpc_http.c) that posts the request bytes and hands the answer bytes back. */
#ifndef TCN_CHAIN_RPC_H
#define TCN_CHAIN_RPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chain/tx_error.h"
#include "chain/types.h"
#include "util/buf.h"
#include "util/err.h"

/* Largest answer the parsers read (an account holds at most 10 MiB, base64
 * makes it 4/3 larger). */
#define TCN_CHAIN_RPC_ANSWER_BYTES_MAX (16u << 20)
/* getSignatureStatuses takes at most 256 signatures (Solana RPC docs). */
#define TCN_CHAIN_RPC_SIGNATURES_MAX 256u
/* getMultipleAccounts takes at most 100 public keys (Solana RPC docs,
 * "getMultipleAccounts"; Agave MAX_MULTIPLE_ACCOUNTS). */
#define TCN_CHAIN_RPC_ACCOUNTS_MAX 100u
#define TCN_CHAIN_RPC_MESSAGE_MAX 256u

/* JSON-RPC error codes used by Solana's RPC (Agave rpc_custom_error.rs) and JSON-RPC 2.0. */
#define TCN_CHAIN_RPC_PARSE_ERROR (-32700)
#define TCN_CHAIN_RPC_INVALID_REQUEST (-32600)
#define TCN_CHAIN_RPC_METHOD_NOT_FOUND (-32601)
#define TCN_CHAIN_RPC_INVALID_PARAMS (-32602)
#define TCN_CHAIN_RPC_PREFLIGHT_FAILURE (-32002)
#define TCN_CHAIN_RPC_SIGNATURE_VERIFICATION_FAILURE (-32003)
/* "Minimum context slot has not been reached" (Agave rpc_custom_error.rs
 * MinContextSlotNotReached; error.data = {"contextSlot": the node's slot}):
 * the node is behind the request's minContextSlot. */
#define TCN_CHAIN_RPC_MIN_CONTEXT_SLOT_NOT_REACHED (-32016)

/* Commitment levels (Solana docs "RPC" > "Configuring State Commitment").
 * The zero value is finalized, the coordinator's level. */
typedef enum {
    TCN_CHAIN_COMMITMENT_FINALIZED = 0,
    TCN_CHAIN_COMMITMENT_CONFIRMED,
    TCN_CHAIN_COMMITMENT_PROCESSED,
} tcn_chain_commitment;

/* "finalized", "confirmed", "processed"; NULL for a value outside the enum. */
const char *tcn_chain_commitment_name(tcn_chain_commitment c);
/* The level named s (exactly those three names); false otherwise. */
bool tcn_chain_commitment_from_name(const char *s, tcn_chain_commitment *out);

/* How a read is to be evaluated: the commitment, and the lowest slot the
 * answer may come from (minContextSlot; 0 = not sent). A zero struct is
 * finalized without a minimum. */
typedef struct tcn_chain_rpc_read {
    tcn_chain_commitment commitment;
    uint64_t min_context_slot;
} tcn_chain_rpc_read;

/* --- Requests: each appends one JSON-RPC 2.0 request object to out ------- */

int tcn_chain_rpc_request_get_account_info(tcn_buf *out, uint64_t id, const tcn_chain_pubkey *pk) TCN_MUST_CHECK;
int tcn_chain_rpc_request_get_balance(tcn_buf *out, uint64_t id, const tcn_chain_pubkey *pk) TCN_MUST_CHECK;
/* The wire bytes go base64-encoded. skip_preflight: see docs/CHAIN.md — with
 * preflight a transaction that would fail is refused and never lands. */
int tcn_chain_rpc_request_send_transaction(tcn_buf *out, uint64_t id, const uint8_t *wire, size_t len,
                                           bool skip_preflight) TCN_MUST_CHECK;
int tcn_chain_rpc_request_get_signature_statuses(tcn_buf *out, uint64_t id, const tcn_chain_signature *sigs,
                                                 size_t n) TCN_MUST_CHECK;
int tcn_chain_rpc_request_request_airdrop(tcn_buf *out, uint64_t id, const tcn_chain_pubkey *pk, uint64_t lamports)
    TCN_MUST_CHECK;
int tcn_chain_rpc_request_get_latest_blockhash(tcn_buf *out, uint64_t id) TCN_MUST_CHECK;
int tcn_chain_rpc_request_get_slot(tcn_buf *out, uint64_t id) TCN_MUST_CHECK;

/* The requests of the chain port (src/node/chain_port.h): the same methods
 * with the read's commitment and minContextSlot (read NULL = a zero read).
 * getMultipleAccounts: 1..TCN_CHAIN_RPC_ACCOUNTS_MAX keys, encoding base64
 * (TCN_ERR_USAGE otherwise). */
int tcn_chain_rpc_request_get_multiple_accounts(tcn_buf *out, uint64_t id, const tcn_chain_pubkey *pks, size_t n,
                                                const tcn_chain_rpc_read *read) TCN_MUST_CHECK;
int tcn_chain_rpc_request_get_slot_cfg(tcn_buf *out, uint64_t id, const tcn_chain_rpc_read *read) TCN_MUST_CHECK;
int tcn_chain_rpc_request_get_latest_blockhash_cfg(tcn_buf *out, uint64_t id, const tcn_chain_rpc_read *read)
    TCN_MUST_CHECK;
/* getSignatureStatuses with {"searchTransactionHistory": search_history}
 * and, when min_context_slot > 0, "minContextSlot". Solana's docs list only
 * searchTransactionHistory for this method (an Agave node ignores the other
 * key), so a client must also compare the answer's context slot itself;
 * the model's server honours it. No commitment: Solana takes none here —
 * each entry carries its confirmationStatus. */
int tcn_chain_rpc_request_get_signature_statuses_cfg(tcn_buf *out, uint64_t id, const tcn_chain_signature *sigs,
                                                     size_t n, bool search_history, uint64_t min_context_slot)
    TCN_MUST_CHECK;
/* sendTransaction with preflightCommitment = the read's commitment and its
 * minContextSlot when set. */
int tcn_chain_rpc_request_send_transaction_cfg(tcn_buf *out, uint64_t id, const uint8_t *wire, size_t len,
                                               bool skip_preflight, const tcn_chain_rpc_read *read) TCN_MUST_CHECK;

/* --- Answers -------------------------------------------------------------- */

/* An answer that is a JSON-RPC error: the server understood and refused. */
typedef struct tcn_chain_rpc_error {
    bool present;
    int64_t code;
    char message[TCN_CHAIN_RPC_MESSAGE_MAX];
    bool has_tx_err; /* error.data.err: why a preflight failed */
    tcn_chain_tx_error tx_err;
    bool has_context_slot; /* error.data.contextSlot: the node's slot (-32016) */
    uint64_t context_slot;
} tcn_chain_rpc_error;

typedef struct tcn_chain_rpc_account {
    bool exists; /* value was not null */
    uint64_t lamports;
    tcn_chain_pubkey owner;
    bool executable;
    uint64_t rent_epoch;
    uint8_t *data; /* malloc'd (NULL when empty); free with tcn_chain_rpc_account_free */
    size_t data_len;
} tcn_chain_rpc_account;

typedef struct tcn_chain_rpc_status {
    bool found; /* the entry was not null */
    uint64_t slot;
    bool has_confirmations; /* null once rooted */
    uint64_t confirmations;
    tcn_chain_tx_error err; /* kind TCN_CHAIN_TX_OK when it succeeded */
    char confirmation_status[16]; /* "processed", "confirmed", "finalized", or "" for null */
} tcn_chain_rpc_status;

/* Every parser: the answer's bytes, the id the request carried. TCN_OK when
 * the answer is well formed — then either *rpc_err is present or the result
 * is filled in; otherwise TCN_ERR_MALFORMED (or TOO_LARGE) with the field
 * named. Integers above 2^63 (Solana sends rentEpoch = u64::MAX) are read
 * exactly. Fields we do not use are ignored; those we use are checked. */
int tcn_chain_rpc_parse_get_account_info(const char *json, size_t len, uint64_t id, uint64_t *slot,
                                         tcn_chain_rpc_account *out, tcn_chain_rpc_error *rpc_err, tcn_error *err)
    TCN_MUST_CHECK;
void tcn_chain_rpc_account_free(tcn_chain_rpc_account *a);
/* getMultipleAccounts: out holds n entries, one per key asked about, in
 * order (exists false for a null entry); all as of *slot, the answer's
 * context slot. On success free each entry with tcn_chain_rpc_account_free;
 * on failure nothing is left allocated. */
int tcn_chain_rpc_parse_get_multiple_accounts(const char *json, size_t len, uint64_t id, uint64_t *slot,
                                              tcn_chain_rpc_account *out, size_t n, tcn_chain_rpc_error *rpc_err,
                                              tcn_error *err) TCN_MUST_CHECK;
int tcn_chain_rpc_parse_get_balance(const char *json, size_t len, uint64_t id, uint64_t *slot, uint64_t *lamports,
                                    tcn_chain_rpc_error *rpc_err, tcn_error *err) TCN_MUST_CHECK;
int tcn_chain_rpc_parse_send_transaction(const char *json, size_t len, uint64_t id, tcn_chain_signature *sig,
                                         tcn_chain_rpc_error *rpc_err, tcn_error *err) TCN_MUST_CHECK;
/* out holds n entries, one per signature asked about, in order. */
int tcn_chain_rpc_parse_get_signature_statuses(const char *json, size_t len, uint64_t id, uint64_t *slot,
                                               tcn_chain_rpc_status *out, size_t n, tcn_chain_rpc_error *rpc_err,
                                               tcn_error *err) TCN_MUST_CHECK;
int tcn_chain_rpc_parse_request_airdrop(const char *json, size_t len, uint64_t id, tcn_chain_signature *sig,
                                        tcn_chain_rpc_error *rpc_err, tcn_error *err) TCN_MUST_CHECK;
int tcn_chain_rpc_parse_get_latest_blockhash(const char *json, size_t len, uint64_t id, uint64_t *slot,
                                             tcn_chain_hash *blockhash, uint64_t *last_valid_block_height,
                                             tcn_chain_rpc_error *rpc_err, tcn_error *err) TCN_MUST_CHECK;
int tcn_chain_rpc_parse_get_slot(const char *json, size_t len, uint64_t id, uint64_t *slot,
                                 tcn_chain_rpc_error *rpc_err, tcn_error *err) TCN_MUST_CHECK;

/* --- Transport (rpc_http.c, libcurl) -------------------------------------- */

/* Largest HTTP answer body tcn_chain_rpc_call accepts; larger is refused
 * while it arrives (TCN_ERR_TOO_LARGE). */
#define TCN_CHAIN_RPC_HTTP_ANSWER_BYTES_MAX (4u << 20)
/* Connecting may take at most this long (within the call's timeout). */
#define TCN_CHAIN_RPC_HTTP_CONNECT_TIMEOUT_MS_MAX 10000L

/* libcurl's process-wide setup and teardown: call init once, before any
 * thread calls tcn_chain_rpc_call, and cleanup once at exit. */
int tcn_chain_rpc_http_global_init(tcn_error *err) TCN_MUST_CHECK;
void tcn_chain_rpc_http_global_cleanup(void);

/* Blocking POST of request_json (Content-Type: application/json) to url,
 * which must be http:// or https://; redirects are not followed. On TCN_OK
 * the status was 200 and answer holds the body (replacing what it held;
 * NUL-terminated beyond len). Errors name what failed: TCN_ERR_USAGE (URL
 * scheme, timeout_ms <= 0), TCN_ERR_IO ("connect", "timeout", "resolve",
 * "HTTP status 405" — then answer holds the body received), TCN_ERR_TOO_LARGE
 * (body above TCN_CHAIN_RPC_HTTP_ANSWER_BYTES_MAX), TCN_ERR_NOMEM. */
int tcn_chain_rpc_call(const char *url, const tcn_buf *request_json, tcn_buf *answer, long timeout_ms, tcn_error *err)
    TCN_MUST_CHECK;
/* The same with another answer limit (tests; at most the constant above). */
int tcn_chain_rpc_call_max(const char *url, const tcn_buf *request_json, tcn_buf *answer, long timeout_ms,
                           size_t answer_bytes_max, tcn_error *err) TCN_MUST_CHECK;

#endif
