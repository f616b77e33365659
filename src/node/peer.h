/* The peer mesh: mutually attested TLS 1.3 connections between tcnd nodes on
 * a libevent loop, carrying Raft messages in frames (docs/NODE.md §3). */
#ifndef TCN_NODE_PEER_H
#define TCN_NODE_PEER_H

/*
 * Connection model. Every node sends RAFT frames only on its OUTBOUND
 * connection to a peer; the peer's RAFT frames reach us on our INBOUND
 * connection from it. A pair of nodes therefore has two TCP connections, one
 * per direction, and no simultaneous-open race to break: each side owns
 * exactly the connection it dialed. HELLO, REATTEST_*, PING/PONG and BYE flow
 * both ways on either. When a verified peer says HELLO on an inbound
 * connection and we have no outbound connection (or dial) to it, the mesh
 * dials the peer listen address its HELLO advertises, so a node that dials
 * us becomes reachable without configuration.
 *
 * Identity. A node's id for one boot is derived from its TLS key:
 * tcn_peer_node_id_from_key_hash(SHA-256 of its SPKI). The key is made in
 * the TEE at boot and proven in every handshake, so an id cannot be claimed
 * by anyone else; a HELLO naming another id is refused.
 *
 * Threading: single-threaded. Every function is called on the loop's thread;
 * callbacks run inside libevent callbacks. Callbacks may call
 * tcn_peer_mesh_send_raft, _dial, _forget and _stats, but not _free.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>

#include "node/config.h"
#include "node/limits.h"
#include "tls/ratls.h"
#include "util/err.h"

typedef struct tcn_peer_mesh tcn_peer_mesh;

typedef enum {
    TCN_PEER_INBOUND = 1,  /* the peer dialed us: its RAFT frames arrive here */
    TCN_PEER_OUTBOUND = 2, /* we dialed the peer: our RAFT frames leave here */
} tcn_peer_direction;

const char *tcn_peer_direction_name(tcn_peer_direction d); /* "in", "out" */

/* The first 8 bytes of the key hash, big-endian; 0 means "no id": the mesh
 * refuses such a peer (and a key of ours hashing to it). */
uint64_t tcn_peer_node_id_from_key_hash(const uint8_t h[TCN_RATLS_KEY_HASH_LEN]);

/* A live, verified peer connection, as on_peer_up reports it. Borrowed: valid
 * only during the callback. */
typedef struct tcn_peer_info {
    uint64_t node_id;
    tcn_peer_direction direction;
    const char *name;      /* from its HELLO */
    const char *api_addr;  /* from its HELLO: where clients are redirected */
    const char *peer_addr; /* from its HELLO: where peers dial it */
    const char *remote;    /* the socket's remote address, "ip:port" */
    const uint8_t *group_id; /* from its HELLO; all zero: not a member yet */
    const tcn_ratls_peer *attested; /* the TLS-verified claims (measurement, key hash, ...) */
} tcn_peer_info;

typedef struct tcn_peer_callbacks {
    void *ctx;
    /* A connection passed TLS verification and the HELLO checks. Each call
     * is paired with exactly one on_peer_down for the same connection. */
    void (*on_peer_up)(void *ctx, const tcn_peer_info *info);
    /* One RAFT frame from node from_node_id (inbound connections only).
     * bytes are valid only during the call. */
    void (*on_raft)(void *ctx, uint64_t from_node_id, const uint8_t *bytes, size_t len);
    /* A connection announced by on_peer_up is gone; why is one line. */
    void (*on_peer_down)(void *ctx, uint64_t node_id, tcn_peer_direction direction, const char *why);
    /* A peer was refused by an attestation check (check = tcn_ratls_reason_name)
     * or a HELLO / protocol check ("node-id", "version", "group", "duplicate",
     * "removed", "self", "protocol"). remote is "ip:port". */
    void (*on_refused)(void *ctx, const char *remote, const char *check, const char *why);
} tcn_peer_callbacks;

/* Zero means "the default" (limits.h TCN_PEER_DEFAULT_*) for every number. */
typedef struct tcn_peer_options {
    uint64_t node_id;      /* ours: tcn_peer_node_id_from_key_hash(identity key hash); 0 = derive it */
    const char *name;      /* ours, [A-Za-z0-9._-]{1,63} */
    const char *api_addr;  /* ours, canonical IP:PORT text */
    const char *peer_addr; /* advertised in HELLO; NULL = the address tcn_peer_mesh_listen bound */
    uint32_t handshake_timeout_ms; /* TCP connect + TLS handshake */
    uint32_t hello_timeout_ms;     /* handshake done -> the peer's HELLO */
    uint32_t ping_interval_ms;     /* a PING on every up connection this often */
    uint32_t dead_after_ms;        /* nothing received for this long: the peer is dead */
    uint32_t reattest_interval_ms; /* a REATTEST_CHALLENGE on every up connection this often */
    uint32_t reattest_answer_ms;   /* the answer must arrive within this */
    uint32_t evidence_max_age_ms;  /* drop a peer whose last good attestation is older (0: off);
                                      the policy's max age (tcn_ratls_peer_is_stale) applies too */
    uint32_t backoff_min_ms;       /* redial delays: min, doubling to max, with jitter */
    uint32_t backoff_max_ms;
    uint32_t tick_ms;              /* how often timers are checked */
    size_t out_high_water_bytes;   /* send_raft says TCN_ERR_BUSY above this */
    size_t in_high_water_bytes;    /* stop reading the socket above this */
    /* The clock (ms since the epoch: evidence times are wall-clock times);
     * NULL: CLOCK_REALTIME. */
    int64_t (*now_ms)(void *ctx);
    void *clock_ctx;
    /* Random bytes for challenges, PING nonces and jitter; NULL: libsodium. */
    void (*random)(void *ctx, void *out, size_t len);
    void *random_ctx;
} tcn_peer_options;

typedef struct tcn_peer_stats {
    uint32_t conns_up_in;
    uint32_t conns_up_out;
    uint32_t conns_pending;       /* TCP/TLS/HELLO not finished yet */
    uint32_t dials;               /* addresses we keep an outbound connection to */
    uint64_t frames_in, frames_out;
    uint64_t bytes_in, bytes_out; /* frame bytes, headers included */
    uint64_t refusals;            /* on_refused calls */
    uint64_t drops_backpressure;  /* send_raft calls answered TCN_ERR_BUSY */
    uint64_t dial_attempts;
    uint64_t reattest_ok;         /* re-attestation answers verified */
    uint64_t reattest_failed;     /* wrong, late or stale: the peer was dropped */
    size_t out_buffered_bytes;    /* bytes queued for sending now, all connections */
} tcn_peer_stats;

/* Creates the mesh on base (borrowed, must outlive the mesh). identity and
 * policy: ours and the peers' (the identity is borrowed and is re-issued by
 * tcn_peer_mesh_set_group; the policy is copied). */
int tcn_peer_mesh_new(struct event_base *base, const tcn_peer_options *opt, tcn_ratls_identity *identity,
                      const tcn_ratls_policy *policy, const tcn_peer_callbacks *cb, tcn_peer_mesh **out,
                      tcn_error *err) TCN_MUST_CHECK;

/* Listens for peers on addr (an IP literal; port 0 picks one). */
int tcn_peer_mesh_listen(tcn_peer_mesh *m, const tcn_node_addr *addr, tcn_error *err) TCN_MUST_CHECK;
/* The bound listen address (after tcn_peer_mesh_listen). */
int tcn_peer_mesh_listen_addr(const tcn_peer_mesh *m, tcn_node_addr *out, tcn_error *err) TCN_MUST_CHECK;

/* Keeps an outbound connection to addr, redialing with exponential backoff
 * and jitter forever (until tcn_peer_mesh_forget of the node found there).
 * Dialing an address already dialed is a no-op. Host names are resolved with
 * the system resolver at each attempt (blocking: join lists at boot). */
int tcn_peer_mesh_dial(tcn_peer_mesh *m, const tcn_node_addr *addr, tcn_error *err) TCN_MUST_CHECK;

/* Frames and queues one Raft message on the outbound connection to node_id.
 * TCN_ERR_NOT_FOUND: no outbound connection up to it; TCN_ERR_BUSY: its
 * output buffer is above the high watermark (the message is dropped, Raft
 * retries); TCN_ERR_USAGE: len outside 1..TCN_FRAME_PAYLOAD_MAX. The caller
 * keeps bytes. */
int tcn_peer_mesh_send_raft(tcn_peer_mesh *m, uint64_t node_id, const uint8_t *bytes, size_t len) TCN_MUST_CHECK;

/* The group id is known: pins it for new handshakes and re-issues our
 * certificate with it. Existing connections stay. */
int tcn_peer_mesh_set_group(tcn_peer_mesh *m, const uint8_t group_id[TCN_RATLS_GROUP_ID_LEN], tcn_error *err)
    TCN_MUST_CHECK;

/* A removed member: BYE REMOVED on its connections, close them, stop
 * redialing it, refuse it if it comes back (until this mesh is freed). */
void tcn_peer_mesh_forget(tcn_peer_mesh *m, uint64_t node_id);

/* Leaving: BYE SHUTDOWN to every peer and close every connection once its
 * BYE is written (or after TCN_PEER_LINGER_MS); stops listening and
 * dialing. Run the loop until tcn_peer_mesh_idle() for the BYEs to leave. */
void tcn_peer_mesh_close_all(tcn_peer_mesh *m);
bool tcn_peer_mesh_idle(const tcn_peer_mesh *m);
/* Frees everything at once (connections not yet closed are cut). */
void tcn_peer_mesh_free(tcn_peer_mesh *m);

void tcn_peer_mesh_stats(const tcn_peer_mesh *m, tcn_peer_stats *out);
uint64_t tcn_peer_mesh_node_id(const tcn_peer_mesh *m);

#endif
