/* What the RPC client and the model's RPC server share: JSON reading with
 * exact u64s, and TransactionError <-> JSON. Not a public API. */
#ifndef TCN_CHAIN_RPC_INTERNAL_H
#define TCN_CHAIN_RPC_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "chain/tx_error.h"
#include "util/err.h"

/* Parses JSON text (duplicate keys refused). Integers above INT64_MAX, which
 * jansson cannot hold, are first turned into marked strings that
 * tcn_chain_rpc_json_u64 reads back exactly. The caller json_decref()s. */
json_t *tcn_chain_rpc_json_load(const char *text, size_t len, tcn_error *err);
/* A non-negative integer (or a marked big one) that fits in u64. */
int tcn_chain_rpc_json_u64(const json_t *j, uint64_t *out, const char *what, tcn_error *err) TCN_MUST_CHECK;

/* Solana's serde JSON of TransactionError: "BlockhashNotFound",
 * {"InstructionError":[1,{"Custom":1}]}, {"InsufficientFundsForRent":{"account_index":2}}. */
json_t *tcn_chain_rpc_txerr_to_json(const tcn_chain_tx_error *e);
int tcn_chain_rpc_txerr_from_json(const json_t *j, tcn_chain_tx_error *out, const char *what, tcn_error *err)
    TCN_MUST_CHECK;

#endif
