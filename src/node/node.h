/* tcnd's core: one coordinator node. It owns the event loop, the peer mesh,
 * the Raft core and the replicated state, the payout executor's thread and
 * the client API, and wires them together (docs/NODE.md §3). */
#ifndef TCN_NODE_NODE_H
#define TCN_NODE_NODE_H

#include <stdbool.h>
#include <stdint.h>

#include "attest/provider.h"
#include "node/config.h"
#include "util/err.h"

typedef struct tcn_node tcn_node;

/* Creates the node from a finished, resolved configuration: the RA-TLS
 * identity from prov (borrowed: it must outlive the node), the listening
 * sockets, the Raft core (empty: memory only), the executor thread. Nothing
 * runs until tcn_node_run. */
int tcn_node_new(const tcn_node_config *cfg, tcn_provider *prov, tcn_node **out, tcn_error *err) TCN_MUST_CHECK;

/* Runs the event loop until tcn_node_stop (or SIGTERM/SIGINT when
 * handle_signals): TCN_OK after a clean stop, an error when the node had
 * to stop (memory exhausted while applying: continuing could diverge). */
int tcn_node_run(tcn_node *n, bool handle_signals, tcn_error *err) TCN_MUST_CHECK;

/* Asks the loop to stop (from the loop's thread, or a signal handler's
 * event): a leader first hands leadership over. */
void tcn_node_stop(tcn_node *n);

/* Stops the executor thread, closes every connection, wipes the state and
 * frees. NULL is accepted. */
void tcn_node_free(tcn_node *n);

uint64_t tcn_node_id(const tcn_node *n);

#endif
