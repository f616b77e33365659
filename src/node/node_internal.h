/* The node's parts, shared by node.c (loop, Raft driver, apply),
 * node_members.c (bootstrap, joins, replacement), node_exec.c (the
 * executor's thread) and node_api.c (the API's backend). */
#ifndef TCN_NODE_NODE_INTERNAL_H
#define TCN_NODE_NODE_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <event2/event.h>

#include "exec/exec.h"
#include "node/api.h"
#include "node/chain_port.h"
#include "node/config.h"
#include "node/node.h"
#include "node/peer.h"
#include "raft/codec.h"
#include "raft/raft.h"
#include "state/state.h"
#include "tls/ratls.h"
#include "util/buf.h"

/* Committed work not yet applied to the state: entries (copied out of the
 * ready) and snapshots to restore, in log order. The state is applied under
 * its write lock, which the executor's thread may hold for reading for a
 * while (it talks to the chain): the loop never waits for it, it queues. */
typedef struct node_work {
    bool snapshot;   /* a snapshot to restore (data), else an entry */
    uint8_t type;    /* tcn_raft_entry_type */
    uint64_t index;
    uint64_t term;
    uint8_t *data;   /* owned; wiped on free (commands carry seeds) */
    size_t len;
} node_work;

/* A proposal someone waits on (the API): answered once its index applies,
 * or when another entry took that index, or at its deadline. */
typedef struct node_waiter {
    uint64_t index, term;
    uint64_t deadline_ms;
    tcn_api_done_fn done;
    void *arg;
} node_waiter;

/* What the node knows of another node (one per node id seen). */
typedef struct node_peer {
    uint64_t id;
    char name[TCN_NODE_NAME_CHARS_MAX + 1];
    char api[TCN_NODE_ADDR_CHARS_MAX + 1];
    char peer_addr[TCN_NODE_ADDR_CHARS_MAX + 1];
    bool group_present;
    uint8_t group_id[TCN_RATLS_GROUP_ID_LEN];
    unsigned up;          /* live connections, either direction */
    bool left;            /* it said BYE SHUTDOWN: leaving for good (SIGTERM) */
    uint64_t last_seen_ms; /* monotonic: when it was last connected */
} node_peer;

#define NODE_PEERS_MAX 32u

/* Executor proposals travel to the loop through this queue. */
typedef struct node_prop {
    uint8_t *data;
    size_t len;
} node_prop;

struct tcn_node {
    tcn_node_config cfg;
    struct event_base *base;
    tcn_provider *prov; /* borrowed */
    tcn_ratls_identity *id;
    tcn_ratls_policy pol;
    uint64_t self_id;
    char self_api[TCN_NODE_ADDR_CHARS_MAX + 1];
    char self_peer[TCN_NODE_ADDR_CHARS_MAX + 1];

    tcn_peer_mesh *mesh;
    tcn_api *api;
    SSL_CTX *api_ctx;

    tcn_raft *raft;
    tcn_raft_decoder dec;
    tcn_buf sendbuf;
    uint8_t role;
    uint64_t term, leader;
    uint64_t leader_changes; /* metrics: failovers seen */
    uint64_t last_leader;    /* the last leader known (0: none yet) */
    bool group_set;          /* the mesh pins the group id */

    /* The replicated state. Written only on the loop thread, under the
     * write lock; the executor's thread reads it under the read lock. */
    tcn_state *st;
    pthread_rwlock_t st_lock;
    node_work *work;
    size_t work_n, work_cap;
    bool snapshot_wanted;
    uint64_t applied_raft; /* last index handed to us by the core */

    node_waiter *waiters;
    size_t waiters_n, waiters_cap;

    node_peer peers[NODE_PEERS_MAX];
    size_t n_peers;
    bool bootstrapped;
    uint32_t voters_target; /* the most voters any configuration we saw had */
    uint64_t lead_since_ms; /* monotonic: when this node became leader */
    uint64_t genesis_term;  /* term in which we proposed GENESIS (once per term) */
    uint64_t standby_next_ms; /* a standby leader's next hand-over attempt */

    /* The executor's thread. */
    pthread_t exec_thread;
    bool exec_started;
    pthread_mutex_t exec_mu;
    pthread_cond_t exec_cv;
    bool exec_stop;          /* under exec_mu */
    node_prop *props;        /* under exec_mu */
    size_t props_n, props_cap;
    _Atomic uint64_t acting_term; /* leader with an entry of its term committed; 0 otherwise */
    tcn_exec *exec;
    tcn_chain_port *port;
    _Atomic uint64_t exec_steps, exec_errors;
    _Atomic uint64_t loop_alive_ms; /* monotonic: the loop's last tick (the executor's lease) */
    _Atomic uint64_t sends_refused; /* sends the lease refused */

    struct event *ev_tick, *ev_props, *ev_apply_retry, *ev_sigterm, *ev_sigint, *ev_stop_deadline, *ev_linger;
    uint64_t linger_until_ms;
    bool stopping;
    int fatal;               /* a code that stopped the loop */
    char fatal_msg[TCN_ERR_MSG_MAX];

    /* Counters for /metrics. */
    uint64_t attest_refusals;
    uint64_t applied_cmds, refused_cmds;
    uint64_t payouts_landed;
};

uint64_t node_mono_ms(void);
uint64_t node_wall_ms(void);

/* node.c */
void node_drain(tcn_node *n);
int node_propose(tcn_node *n, const uint8_t *cmd, size_t len, uint64_t *index);
void node_fail(tcn_node *n, int code, const char *msg);

/* node_members.c */
void node_peer_up(tcn_node *n, const tcn_peer_info *info);
void node_peer_down(tcn_node *n, uint64_t id, const char *why);
node_peer *node_peer_find(tcn_node *n, uint64_t id);
void node_members_tick(tcn_node *n);
void node_members_on_config(tcn_node *n, const tcn_raft_config *c);
bool node_standby_handing_over(tcn_node *n);

/* node_exec.c */
int node_exec_start(tcn_node *n, tcn_error *err) TCN_MUST_CHECK;
void node_exec_stop(tcn_node *n);
void node_exec_kick(tcn_node *n);
void node_exec_take_props(tcn_node *n);

/* node_api.c */
void node_api_backend(tcn_node *n, tcn_api_backend *b);

#endif
