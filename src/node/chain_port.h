/* The chain port of the daemon's payout executor: the exec module's
 * tcn_exec_chain table (exec.h) implemented over Solana JSON-RPC
 * (chain/rpc.h, blocking libcurl transport). */
#ifndef TCN_NODE_CHAIN_PORT_H
#define TCN_NODE_CHAIN_PORT_H

/*
 * How the port keeps exec.h's contract (docs/CHAIN.md "The chain port"):
 * - every call is made at one commitment (options, finalized by default);
 * - accounts: getMultipleAccounts, all keys as of one slot — the answer's
 *   context slot — with minContextSlot = the highest slot this port has
 *   read at its commitment, so its answers never go back in time (a lagging
 *   node answers -32016: TCN_ERR_BUSY). More than 100 keys are read in
 *   batches of 100 that must all answer for the same slot; when they do
 *   not, the whole read is retried (batch_tries times in all), then
 *   TCN_ERR_BUSY;
 * - status: getSignatureStatuses with searchTransactionHistory and
 *   minContextSlot = min_slot; TCN_ERR_BUSY on -32016 and also when the
 *   answer's context slot is below min_slot (Solana's docs do not list
 *   minContextSlot for this method: a real node ignores it, so the port
 *   checks it itself). A signature found at a level below the port's
 *   commitment is TCN_ERR_BUSY too — neither "unknown" (it may be final
 *   soon: the executor would take it as DROPPED and pay twice) nor "landed"
 *   (its fork may still die);
 * - send: sendTransaction, base64, skipPreflight (docs/CHAIN.md: with a
 *   preflight, a payout that would fail is refused and never advances its
 *   nonce, and the fate must be learned from status anyway). A JSON-RPC
 *   error answer is TCN_ERR_IO naming the code and the message: the
 *   executor counts it and learns the fate from status;
 * - latest: getSlot, then getLatestBlockhash no older than that slot.
 * Errors name the method and what failed ("chain: getMultipleAccounts:
 * rpc http://host:8899: timeout: ..."); the URL's path and query (where
 * providers put API keys) are never shown.
 *
 * The highest slot never goes down: a ledger restarted from slot 0 behind
 * the same URL (tcn ledger keeps nothing) answers TCN_ERR_BUSY until a new
 * port is made — as it should, since the state's accounts are gone too.
 *
 * Threads: the calls block (libcurl), so the port runs on the daemon's
 * executor thread, never on the event loop. One thread at a time may call
 * the table's functions (a second concurrent caller is a programmer error
 * and asserts); tcn_chain_port_stats may be called from any thread.
 * tcn_chain_rpc_http_global_init must have run before the first call.
 */

#include <stdbool.h>
#include <stdint.h>

#include "chain/rpc.h"
#include "exec/exec.h"
#include "util/err.h"

#define TCN_CHAIN_PORT_TIMEOUT_MS_DEFAULT 2000u
#define TCN_CHAIN_PORT_TIMEOUT_MS_MAX 60000u
/* Reads of more than TCN_CHAIN_RPC_ACCOUNTS_MAX keys: attempts to get all
 * batches answered for one slot. */
#define TCN_CHAIN_PORT_BATCH_TRIES_DEFAULT 3u
#define TCN_CHAIN_PORT_BATCH_TRIES_MAX 10u
/* Accounts one accounts() call may read (a bound on memory per call). */
#define TCN_CHAIN_PORT_ACCOUNTS_MAX 1000u
/* Longest RPC URL accepted. */
#define TCN_CHAIN_PORT_URL_MAX 512u
/* Bytes of the last error kept for the metrics. */
#define TCN_CHAIN_PORT_LAST_ERROR_MAX 256u

typedef struct tcn_chain_port_options {
    uint32_t timeout_ms;             /* per RPC call, 1..TCN_CHAIN_PORT_TIMEOUT_MS_MAX */
    tcn_chain_commitment commitment; /* one level for every call */
    uint32_t batch_tries;            /* 1..TCN_CHAIN_PORT_BATCH_TRIES_MAX */
} tcn_chain_port_options;

/* 2000 ms, finalized, 3 tries. */
void tcn_chain_port_options_default(tcn_chain_port_options *o);

typedef struct tcn_chain_port tcn_chain_port;

/* rpc_url: http:// or https://, at most TCN_CHAIN_PORT_URL_MAX bytes
 * (copied). o NULL = defaults. Nothing is sent until the first call.
 * TCN_ERR_USAGE names a bad URL or option. */
int tcn_chain_port_new(const char *rpc_url, const tcn_chain_port_options *o, tcn_chain_port **out, tcn_error *err)
    TCN_MUST_CHECK;
void tcn_chain_port_free(tcn_chain_port *p);

/* The executor's table (latest, accounts, send, status) with ctx = port;
 * valid while the port lives. */
void tcn_chain_port_table(tcn_chain_port *p, tcn_exec_chain *out);

typedef struct tcn_chain_port_stats {
    uint64_t calls;        /* RPC requests made */
    uint64_t errors;       /* table calls that failed (BUSY included) */
    uint64_t busy;         /* of which: the node was behind (TCN_ERR_BUSY) */
    uint64_t highest_slot; /* highest context slot read at the port's commitment */
    char last_error[TCN_CHAIN_PORT_LAST_ERROR_MAX]; /* "" until an error */
} tcn_chain_port_stats;

/* A consistent copy of the counters (any thread). */
void tcn_chain_port_stats_get(tcn_chain_port *p, tcn_chain_port_stats *out);

#endif
