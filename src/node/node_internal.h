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

/* Committed work for the executor's own copy of the state, in log order:
 * entries (copied out of the ready) and snapshots to restore. The
 * executor's thread applies them to its copy before each step, so it never
 * shares the loop's state and the loop never waits for it. */
typedef struct node_work {
    bool snapshot;   /* a snapshot to restore (data), else an entry */
    uint8_t type;    /* tcn_raft_entry_type */
    uint64_t index;  /* Raft index (of the snapshot's last entry) */
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
    bool in_join;         /* one of our join addresses (a bootstrap node when we bootstrap) */
    bool corrupt;         /* it reported our log's hash chain disagrees with its own */
    uint64_t last_seen_ms; /* monotonic: when it was last connected */
} node_peer;

#define NODE_PEERS_MAX 32u
/* A learner within this many entries of the leader's log may be promoted. */
#define NODE_PROMOTE_LAG_MAX 64u
/* A standby leader tries this many hand-overs per leadership, then serves. */
#define NODE_STANDBY_TRIES_MAX 3u

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

    /* The replicated state, the loop's alone. */
    tcn_state *st;
    bool snapshot_wanted;
    uint64_t applied_raft; /* the last Raft index applied (entries of any type) */

    node_waiter *waiters;
    size_t waiters_n, waiters_cap;

    node_peer peers[NODE_PEERS_MAX];
    size_t n_peers;
    bool bootstrapped;
    bool bootstrap_waiting; /* logged: another node creates the first configuration */
    bool join_instead;      /* logged: a network exists, we join it */
    uint32_t voters_target; /* the network's size (0: not known yet) */
    uint64_t lead_since_ms; /* monotonic: when this node became leader */
    uint64_t genesis_term;  /* term in which we proposed GENESIS (once per term) */
    uint64_t standby_next_ms; /* a standby leader's next hand-over attempt */
    unsigned standby_failures; /* hand-overs tried in this leadership */
    uint64_t boot_ms;         /* monotonic: when the node started */

    /* The executor's thread (node_exec.c). Under exec_mu: the queue of
     * committed work for its copy of the state, the term it may act in and
     * the index its copy must have reached first, its proposals for the
     * loop, its stop flag, a copy of its counters. */
    pthread_t exec_thread;
    bool exec_started;
    pthread_mutex_t exec_mu;
    pthread_cond_t exec_cv;
    bool exec_stop;
    bool exec_kicked;
    node_work *xq;
    size_t xq_n, xq_cap;
    bool xq_resync;           /* the queue was dropped: a snapshot of the loop's state follows */
    uint64_t exec_term;       /* 0: not acting */
    uint64_t exec_min_index;
    node_prop *props;
    size_t props_n, props_cap;
    tcn_exec_stats exec_stats;
    _Atomic bool xresync_wanted; /* the thread's copy failed: send it a snapshot */
    /* Owned by the executor's thread. */
    tcn_state *xst;
    uint64_t x_applied_raft;
    tcn_exec *exec;
    tcn_chain_port *port;
    /* Shared atomics. */
    _Atomic uint64_t acting_term;   /* for the lease: this node acts as leader in this term (0: not) */
    _Atomic uint64_t loop_alive_ms; /* monotonic: the loop's last drain (the executor's lease) */
    _Atomic uint64_t exec_steps, exec_errors, sends_refused;

    struct event *ev_tick, *ev_props, *ev_sigterm, *ev_sigint, *ev_stop_deadline, *ev_linger;
    uint64_t linger_until_ms;
    struct event *ev_drain; /* node_drain_soon */
    bool drain_scheduled;
    bool stopping;
    int fatal;               /* a code that stopped the loop */
    char fatal_msg[TCN_ERR_MSG_MAX + 128];

    /* Counters for /metrics. */
    uint64_t attest_refusals;
    uint64_t applied_cmds, refused_cmds;
    uint64_t payouts_landed;
};

uint64_t node_mono_ms(void);
uint64_t node_wall_ms(void);

/* node.c */
void node_drain(tcn_node *n);
void node_drain_soon(tcn_node *n);
int node_propose(tcn_node *n, const uint8_t *cmd, size_t len, uint64_t *index);
void node_fail(tcn_node *n, int code, const char *msg);

/* node_members.c */
void node_peer_up(tcn_node *n, const tcn_peer_info *info);
void node_peer_down(tcn_node *n, uint64_t id, const char *why);
node_peer *node_peer_find(tcn_node *n, uint64_t id);
void node_members_tick(tcn_node *n);
void node_members_boot_tick(tcn_node *n);
void node_members_on_config(tcn_node *n, const tcn_raft_config *c);
bool node_standby_handing_over(tcn_node *n);

/* node_exec.c */
int node_exec_start(tcn_node *n, tcn_error *err) TCN_MUST_CHECK;
void node_exec_stop(tcn_node *n);
void node_exec_kick(tcn_node *n);
void node_exec_feed(tcn_node *n, bool snapshot, uint8_t type, uint64_t index, const uint8_t *data, size_t len);
void node_exec_set_acting(tcn_node *n, uint64_t term, uint64_t applied_index);
void node_exec_take_props(tcn_node *n);

/* node_api.c */
void node_api_backend(tcn_node *n, tcn_api_backend *b);

#endif
