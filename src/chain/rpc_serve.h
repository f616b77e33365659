/* The chain model behind Solana's JSON-RPC: one request in, one answer out
 * (the core of `tcn ledger`, and the server the RPC client is tested against). */
#ifndef TCN_CHAIN_RPC_SERVE_H
#define TCN_CHAIN_RPC_SERVE_H

#include <stddef.h>

#include "chain/model.h"
#include "util/buf.h"
#include "util/err.h"

/* Answers one JSON-RPC 2.0 request object (no batches) against the model,
 * appending the answer to out. Bad input is answered, not failed: -32700
 * parse error, -32600 invalid request, -32601 unknown method, -32602 invalid
 * params (naming the parameter). Methods: getAccountInfo, getMultipleAccounts
 * (up to 100 keys, all read in the same slot), getBalance, sendTransaction,
 * getSignatureStatuses, requestAirdrop, getLatestBlockhash, getSlot
 * (DESIGN §8). Configuration objects are strict: a key the method does not
 * take is refused (-32602 naming it); commitment must be processed,
 * confirmed or finalized (the model has one level: all read the same);
 * minContextSlot above the model's slot is -32016 "Minimum context slot has
 * not been reached" with data.contextSlot, on every method that takes it
 * (getSignatureStatuses too, where Solana's docs do not list it).
 * sendTransaction runs a preflight simulation unless skipPreflight is true,
 * as Agave's RPC does: a transaction that would fail is refused (-32002 with
 * data.err; -32003 for a bad signature) and does not land; with
 * skipPreflight it is submitted and its signature returned whatever happens —
 * its fate is in getSignatureStatuses. Returns TCN_OK, or TCN_ERR_NOMEM. */
int tcn_chain_rpc_serve(tcn_chain_model *m, const char *request, size_t len, tcn_buf *out) TCN_MUST_CHECK;

#endif
