/* The chain model served over HTTP (libevent's evhttp) on a background
 * thread: the server of `tcn ledger` and of the transport's tests. */
#ifndef TCN_CHAIN_RPC_SERVER_H
#define TCN_CHAIN_RPC_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include "chain/model.h"
#include "util/err.h"

/* Largest request body answered (a transaction is at most 1232 bytes; base64
 * and the JSON around it stay far below). Bodies up to twice this get a
 * JSON-RPC 413 answer; beyond, libevent itself answers 413 and closes. */
#define TCN_CHAIN_RPC_SERVER_BODY_BYTES_MAX (64u << 10)
/* Idle connections are closed after this many seconds. */
#define TCN_CHAIN_RPC_SERVER_TIMEOUT_S 30

typedef struct tcn_chain_rpc_server tcn_chain_rpc_server;

/* Binds address:port (port 0 = any free port, reported in *bound_port) and
 * starts a thread answering POST / with tcn_chain_rpc_serve: 200 with the
 * JSON-RPC answer; 400 when the body is not JSON, 404 for another path,
 * 405 for another method, 413 for a body above the limit — each with a
 * JSON-RPC error body. While the server runs, the model belongs to its
 * thread: the caller must not touch it until tcn_chain_rpc_server_stop. */
int tcn_chain_rpc_server_start(tcn_chain_model *m, const char *address, uint16_t port, tcn_chain_rpc_server **out,
                               uint16_t *bound_port, tcn_error *err) TCN_MUST_CHECK;
/* The same, and the server's thread also advances the model by one slot
 * every slot_ms milliseconds (0: never) — the clock of `tcn ledger`. The
 * timer runs on the thread that owns the model, so nothing else touches it. */
int tcn_chain_rpc_server_start_clocked(tcn_chain_model *m, const char *address, uint16_t port, uint32_t slot_ms,
                                       tcn_chain_rpc_server **out, uint16_t *bound_port, tcn_error *err)
    TCN_MUST_CHECK;
/* Stops the thread (answers in progress finish first), closes the socket
 * and frees everything. NULL is a no-op. */
void tcn_chain_rpc_server_stop(tcn_chain_rpc_server *s);

#endif
