/* The client API of tcnd (DESIGN §9, docs/API.md): HTTP/1.1 + JSON over
 * RA-TLS (server-auth) on a caller-given event_base. Reads are served from
 * the node's applied state; writes are signed by the client (reqsig.h),
 * become state machine commands (state/cmd.h) with the signer as actor, and
 * are answered once applied. Writes reaching a node that is not the leader
 * are redirected (307) to the leader's API.
 *
 * Threading: everything here, and every backend call, runs on the loop
 * thread of the event_base given to tcn_api_new.
 *
 * The caller makes the SSL_CTX (tcn_ratls_ctx_new(TCN_RATLS_SERVER,
 * identity, NULL, ...)). */
#ifndef TCN_NODE_API_H
#define TCN_NODE_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

#include "attest/claims.h"
#include "node/api_limits.h"
#include "state/state.h"
#include "util/buf.h"
#include "util/err.h"

struct event_base;

/* What GET /v1/status reports; the backend fills it (strings NUL-terminated,
 * empty when unknown). */
typedef struct tcn_api_member {
    char name[TCN_API_NAME_CHARS_MAX + 1];
    uint64_t node_id;
    char role[TCN_API_ROLE_CHARS_MAX + 1]; /* "leader", "follower", "learner", "standby", ... */
    bool healthy;
    char api[TCN_API_ADDR_CHARS_MAX + 1]; /* host:port of its client API */
} tcn_api_member;

typedef struct tcn_api_status {
    char name[TCN_API_NAME_CHARS_MAX + 1];
    uint64_t node_id;
    char role[TCN_API_ROLE_CHARS_MAX + 1];
    uint64_t term;
    bool has_leader;
    uint64_t leader_id;
    char leader_name[TCN_API_NAME_CHARS_MAX + 1];
    char leader_api[TCN_API_ADDR_CHARS_MAX + 1];
    uint64_t commit_index, applied_index;
    size_t n_members;
    tcn_api_member members[TCN_API_MEMBERS_MAX];
} tcn_api_status;

/* Called exactly once per accepted proposal, later (never from inside
 * propose), on the loop thread: code TCN_OK with the apply result, or an
 * error (TCN_ERR_NOT_LEADER: leadership lost; TCN_ERR_BUSY: timed out).
 * res is NULL unless code is TCN_OK. */
typedef void (*tcn_api_done_fn)(void *arg, int code, const tcn_state_result *res);

/* The node behind the API. All callbacks run on the loop thread. */
typedef struct tcn_api_backend {
    void *ctx;
    /* The node's applied state (never NULL). */
    const tcn_state *(*state)(void *ctx);
    void (*status)(void *ctx, tcn_api_status *out);
    /* The leader, able to take writes now. */
    bool (*writable)(void *ctx);
    /* The leader's API host:port when known (false: no leader known). */
    bool (*leader_api)(void *ctx, char *out, size_t cap);
    /* Wall clock, unix ms (stamped into commands; checks request timestamps). */
    uint64_t (*now_ms)(void *ctx);
    /* Random bytes from inside the TEE: escrow and nonce seeds of SWAP_CREATE. */
    void (*random)(void *ctx, uint8_t *out, size_t n);
    /* Proposes an encoded command (the API wipes its copy after the call:
     * a backend that keeps the bytes copies them, and wipes its copy).
     * TCN_OK: done will be called; anything else: it will not (the API
     * answers 503). */
    int (*propose)(void *ctx, const uint8_t *cmd, size_t len, tcn_api_done_fn done, void *arg);
    /* Our RA-TLS certificate (DER, appended), the claims our own evidence
     * states, and the group id in the certificate (has_group false before
     * the node is a member). TCN_OK or an error (answered 503). */
    int (*attestation)(void *ctx, tcn_buf *cert_der, tcn_claims *claims, uint8_t group_id[TCN_STATE_GROUP_ID_LEN],
                       bool *has_group);
    /* Operator membership actions on the leader (POST /v1/cluster/...):
     * replace a dead voter old_id by the caught-up learner new_id (new_id 0:
     * remove old_id), or hand leadership to to_id. TCN_OK when the core
     * started it; otherwise the refusal with its reason in err (BUSY:
     * another change is in progress or the learner is not caught up;
     * NOT_FOUND: no such member). May be NULL (404). */
    int (*cluster_replace)(void *ctx, uint64_t old_id, uint64_t new_id, tcn_error *err);
    int (*cluster_transfer)(void *ctx, uint64_t to_id, tcn_error *err);
    /* Prometheus text, appended (may be NULL: the API's own counters only). */
    void (*metrics)(void *ctx, tcn_buf *out);
    /* Optional (NULL: off). The node's clock when this node last became
     * leader. With it, the API refuses (503 "replay_guard") writes signed
     * before leader_since + TCN_API_REQUEST_SKEW_MS + TCN_API_CLOCK_SPREAD_MS:
     * they could be replays of writes the previous leader accepted, which
     * this node's replay cache never saw. Closes the per-node cache's gap at
     * the cost of refusing writes for about 35 s after each failover
     * (docs/API.md "Replay cache"). */
    uint64_t (*leader_since_ms)(void *ctx);
} tcn_api_backend;

typedef struct tcn_api_options {
    const char *host;      /* numeric address to bind, e.g. "127.0.0.1" */
    uint16_t port;         /* 0: an ephemeral port (tcn_api_port tells which) */
    uint32_t swap_wait_ms; /* 0: TCN_API_SWAP_WAIT_MS */
    size_t connections_max; /* 0: TCN_API_CONNECTIONS_MAX */
    size_t replay_max;      /* 0: TCN_API_REPLAY_ENTRIES_MAX */
} tcn_api_options;

typedef struct tcn_api tcn_api;

/* Binds and starts serving. ssl_ctx is the server-auth RA-TLS context; the
 * API takes a reference (SSL_CTX_up_ref), so later tcn_ratls_ctx_set_identity
 * calls on it (certificate re-issue) apply to new connections. be is copied. */
int tcn_api_new(struct event_base *base, SSL_CTX *ssl_ctx, const tcn_api_backend *be, const tcn_api_options *opt,
                tcn_api **out, tcn_error *err) TCN_MUST_CHECK;
uint16_t tcn_api_port(const tcn_api *api);
/* The node calls this after each batch of applied entries: requests waiting
 * for state (a swap to be OPEN with its refund) are answered. */
void tcn_api_on_applied(tcn_api *api);
/* Answers every pending request (503), closes every connection and frees;
 * call it on the loop thread. The connections close at once, so a 503 may
 * not reach its client (who sees the connection close). Proposals still
 * outstanding are orphaned: their done callbacks remain valid and free what
 * is left. Connections libevent finalizes later are tracked apart from the
 * API. NULL is accepted. */
void tcn_api_free(tcn_api *api);

#endif
