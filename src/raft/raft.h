/* Public API of the pure Raft core (Ongaro's thesis): inputs in, a ready struct out. */
#ifndef TCN_RAFT_RAFT_H
#define TCN_RAFT_RAFT_H

/*
 * The core is a state machine. It makes no system call, reads no clock, draws
 * no OS randomness, keeps no global state and does no I/O: the caller feeds
 *   tcn_raft_step      a message from a peer,
 *   tcn_raft_tick      the time (milliseconds of a monotonic clock),
 *   tcn_raft_propose   a command for the log (leader only),
 *   membership operations, leadership transfer, ReadIndex requests,
 *   tcn_raft_snapshot_done   a snapshot of the application's state machine,
 * and drains what the core wants done through tcn_raft_get_ready / tcn_raft_advance
 * (the "Ready" idea of etcd's raft). A deterministic simulator can therefore
 * drive several cores in one process; the daemon drives one with a real clock.
 *
 * The log lives in memory only. A node that restarts has lost its term and
 * vote, so it never returns as the same voter: node ids are chosen per boot by
 * the caller, a new node starts empty with no configuration and joins as a
 * learner through a leader (DESIGN §6). tcn_raft_bootstrap creates the genesis
 * configuration on the bootstrapping node(s) only.
 *
 * Hash chain. Every entry carries
 *   hash = SHA-256(prev_hash[32] ‖ term:u64be ‖ index:u64be ‖ type:u8 ‖
 *                  payload_len:u32be ‖ payload)
 * where prev_hash is the hash of the entry at index-1, 32 zero bytes for
 * index 1. A snapshot carries the hash of its last included entry. A follower
 * checks an AppendEntries' prev_hash against its own entry at prev_index and
 * recomputes every received entry's hash; a mismatch where terms agree is
 * corruption: the message is rejected, tcn_raft_step returns TCN_ERR_CORRUPT
 * and the ready reports a fault. It never silently accepts.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "raft/limits.h"
#include "util/err.h"
#include "util/hash.h"

typedef struct tcn_raft tcn_raft;

/* --- Roles, members, configurations ------------------------------------- */

typedef enum {
    TCN_RAFT_FOLLOWER = 0,
    TCN_RAFT_PRE_CANDIDATE, /* asking for pre-votes (Raft thesis §9.6) */
    TCN_RAFT_CANDIDATE,
    TCN_RAFT_LEADER,
} tcn_raft_role;

typedef enum {
    TCN_RAFT_VOTER = 1,
    TCN_RAFT_LEARNER = 2, /* receives the log; never counts for a quorum */
} tcn_raft_member_role;

typedef struct tcn_raft_member {
    uint64_t id;
    uint8_t role; /* tcn_raft_member_role */
} tcn_raft_member;

/* A configuration: members sorted by strictly ascending id, ids non-zero.
 * A plain value: it holds no pointers. */
typedef struct tcn_raft_config {
    uint32_t n;
    tcn_raft_member members[TCN_RAFT_MEMBERS_MAX];
} tcn_raft_config;

/* --- Log entries --------------------------------------------------------- */

typedef enum {
    TCN_RAFT_ENTRY_NORMAL = 1, /* an application command */
    TCN_RAFT_ENTRY_NOOP = 2,   /* appended by every new leader (Raft thesis §6.4) */
    TCN_RAFT_ENTRY_CONFIG = 3, /* payload: an encoded tcn_raft_config (codec.h) */
} tcn_raft_entry_type;

/* A view of one entry. Ownership: the core (or the decoder) owns what data
 * and hash point to; see the lifetime rule where the entry is handed out. */
typedef struct tcn_raft_entry {
    uint64_t index;
    uint64_t term;
    const uint8_t *data;
    uint32_t len;
    uint8_t type;        /* tcn_raft_entry_type */
    const uint8_t *hash; /* TCN_SHA256_LEN bytes; NULL in decoded messages
                            (the wire carries the chain's last hash only) */
} tcn_raft_entry;

/* Computes an entry's chain hash with the layout documented above. */
void tcn_raft_entry_hash(const uint8_t prev_hash[TCN_SHA256_LEN], uint64_t term, uint64_t index, uint8_t type,
                         const uint8_t *data, uint32_t len, uint8_t out[TCN_SHA256_LEN]);

/* --- Messages ------------------------------------------------------------ */

typedef enum {
    TCN_RAFT_MSG_VOTE = 1,             /* RequestVote, or a pre-vote (§9.6) */
    TCN_RAFT_MSG_VOTE_RESULT = 2,
    TCN_RAFT_MSG_APPEND = 3,           /* AppendEntries carrying entries (or a probe) */
    TCN_RAFT_MSG_APPEND_RESULT = 4,
    TCN_RAFT_MSG_HEARTBEAT = 5,        /* leader liveness, commit, ReadIndex round */
    TCN_RAFT_MSG_HEARTBEAT_RESULT = 6,
    TCN_RAFT_MSG_SNAPSHOT = 7,         /* one InstallSnapshot chunk (§5.1) */
    TCN_RAFT_MSG_SNAPSHOT_RESULT = 8,
    TCN_RAFT_MSG_TIMEOUT_NOW = 9,      /* leadership transfer (§3.10) */
} tcn_raft_msg_type;
#define TCN_RAFT_MSG_TYPE_MAX 9

typedef enum {
    TCN_RAFT_APPEND_OK = 0,      /* index: the follower's log matches up to here */
    TCN_RAFT_APPEND_REJECT = 1,  /* index: the rejected prev_index; hint_*: where to probe */
    TCN_RAFT_APPEND_CORRUPT = 2, /* index: where the hash chain disagreed */
} tcn_raft_append_status;

typedef enum {
    TCN_RAFT_SNAPSHOT_OK = 0,      /* offset: bytes held; offset == size: installed */
    TCN_RAFT_SNAPSHOT_CORRUPT = 1, /* the snapshot's hash disagrees with the log */
    TCN_RAFT_SNAPSHOT_RESTART = 2, /* the follower holds none of this transfer: start again from offset 0 */
} tcn_raft_snapshot_status;

typedef struct tcn_raft_vote {
    uint64_t last_index; /* candidate's last log index and term (§3.6.1) */
    uint64_t last_term;
    bool pre_vote;       /* term is the candidate's term + 1; nobody changes term */
    bool transfer;       /* from a leadership transfer: ignore the leader lease
                            (with pre_vote: the pre-vote that a transfer's
                            target runs first, see tcn_raft_timeout_now) */
} tcn_raft_vote;

typedef struct tcn_raft_vote_result {
    bool pre_vote;
    bool granted;
} tcn_raft_vote_result;

typedef struct tcn_raft_append {
    uint64_t prev_index;
    uint64_t prev_term;
    uint8_t prev_hash[TCN_SHA256_LEN];
    uint64_t commit;
    const tcn_raft_entry *entries; /* entries[i].index == prev_index + 1 + i */
    uint32_t n_entries;
    uint8_t last_hash[TCN_SHA256_LEN]; /* hash of the last entry; meaningful when n_entries > 0 */
} tcn_raft_append;

typedef struct tcn_raft_append_result {
    uint8_t status; /* tcn_raft_append_status */
    uint64_t index;
    uint64_t hint_index; /* REJECT: the follower's largest index whose term <= the probe's prev_term */
    uint64_t hint_term;
} tcn_raft_append_result;

typedef struct tcn_raft_heartbeat {
    uint64_t commit;   /* min(leader commit, follower's match): safe to apply */
    uint64_t read_seq; /* ReadIndex round being confirmed (§6.4), 0 if none */
} tcn_raft_heartbeat;

typedef struct tcn_raft_heartbeat_result {
    uint64_t read_seq; /* echoed */
} tcn_raft_heartbeat_result;

typedef struct tcn_raft_snapshot_chunk {
    uint64_t index; /* last entry the snapshot includes */
    uint64_t term;
    uint8_t hash[TCN_SHA256_LEN];
    tcn_raft_config config; /* configuration as of index */
    uint64_t size;          /* bytes of the whole snapshot */
    uint64_t offset;        /* of this chunk; the last chunk ends at size */
    const uint8_t *data;
    uint32_t len;
} tcn_raft_snapshot_chunk;

typedef struct tcn_raft_snapshot_result {
    uint8_t status; /* tcn_raft_snapshot_status */
    uint64_t index; /* of the snapshot being acknowledged */
    uint64_t offset;
} tcn_raft_snapshot_result;

/* The leader's log when it sent the TimeoutNow. A TimeoutNow can arrive
 * after the transfer was given up and the leader went on: the target
 * ignores it unless its own log ends exactly there, and even then it runs a
 * pre-vote (flagged transfer) first, so that a target that fell behind
 * loses without raising anyone's term. */
typedef struct tcn_raft_timeout_now {
    uint64_t last_index;
    uint64_t last_term;
} tcn_raft_timeout_now;

/* One message. Ownership: in tcn_raft_step the caller lends the message and
 * what it points to for the duration of the call; the core copies what it
 * keeps. In a ready, the core owns the messages and what they point to until
 * tcn_raft_advance. */
typedef struct tcn_raft_msg {
    uint8_t type; /* tcn_raft_msg_type */
    uint64_t from;
    uint64_t to;
    uint64_t term;
    union {
        tcn_raft_vote vote;
        tcn_raft_vote_result vote_result;
        tcn_raft_append append;
        tcn_raft_append_result append_result;
        tcn_raft_heartbeat heartbeat;
        tcn_raft_heartbeat_result heartbeat_result;
        tcn_raft_snapshot_chunk snapshot;
        tcn_raft_snapshot_result snapshot_result;
        tcn_raft_timeout_now timeout_now;
    };
} tcn_raft_msg;

/* --- Options ------------------------------------------------------------- */

/* Option flags: both mechanisms are on unless switched off (tests compare). */
#define TCN_RAFT_FLAG_NO_PRE_VOTE 0x1u
#define TCN_RAFT_FLAG_NO_CHECK_QUORUM 0x2u

/* Deliberately broken variants for the simulator. Only a core compiled with
 * TCN_RAFT_BUGS contains them; any other core refuses a non-zero `bugs` with
 * TCN_ERR_CONFIG, so the daemon can never run one. */
#define TCN_RAFT_BUG_FIGURE8 0x1u           /* commit old-term entries by counting replicas */
#define TCN_RAFT_BUG_VOTE_TWICE 0x2u        /* grant two votes in one term */
#define TCN_RAFT_BUG_SKIP_LOG_MATCHING 0x4u /* append without the prev_index/term/hash check */
#define TCN_RAFT_BUGS_ALL 0x7u

/* Zero in a numeric field means the default from limits.h. A plain value:
 * tcn_raft_create copies it. */
typedef struct tcn_raft_options {
    uint64_t id;   /* this node, for this boot; non-zero */
    uint64_t seed; /* seeds the election-timeout PRNG (mixed with id) */
    uint32_t flags; /* TCN_RAFT_FLAG_* */
    uint32_t heartbeat_ms;
    uint32_t election_timeout_ms_min; /* randomized in [min, max) */
    uint32_t election_timeout_ms_max;
    uint32_t append_bytes_max;        /* payload bytes per AppendEntries (one entry always goes) */
    uint32_t append_entries_max;      /* entries per AppendEntries */
    uint32_t inflight_max;            /* pipelined AppendEntries per follower */
    uint32_t snapshot_chunk_bytes;    /* fixed InstallSnapshot chunk size */
    uint64_t snapshot_entries_max;    /* ask for a snapshot once this many entries were applied since the last */
    uint64_t snapshot_log_bytes_max;  /* ... or the log grew by this many payload bytes since it */
    uint64_t snapshot_trailing;       /* entries kept below a snapshot (zero selects the default too) */
    uint64_t promote_lag_max;         /* learner caught up: last_index - match <= this, or: */
    uint32_t promote_lag_ms_max;      /* it holds the leader's last index of this long ago
                                         (zero: election_timeout_ms_min) */
    uint64_t uncommitted_bytes_max;   /* proposals refused above this */
    uint32_t bugs;                    /* TCN_RAFT_BUG_*; 0 unless built with TCN_RAFT_BUGS */
} tcn_raft_options;

/* 1 when this copy of the core was compiled with the bug switches. */
int tcn_raft_bugs_compiled(void);

/* --- The ready struct ---------------------------------------------------- */

/* A complete snapshot a follower received: the application replaces its
 * state machine with it before applying the ready's entries. Ownership: the
 * core's, like everything in a ready (valid until tcn_raft_advance). */
typedef struct tcn_raft_snapshot_view {
    uint64_t index;
    uint64_t term;
    const uint8_t *hash; /* TCN_SHA256_LEN bytes */
    const tcn_raft_config *config;
    const uint8_t *data;
    size_t len;
} tcn_raft_snapshot_view;

/* The answer to a ReadIndex request (Raft thesis §6.4), a plain value: when status is
 * TCN_OK the read of ctx is linearizable once the application has applied
 * index; otherwise (TCN_ERR_NOT_LEADER) the request failed and may be retried
 * at the leader. */
typedef struct tcn_raft_read_result {
    uint64_t ctx;
    uint64_t index;
    int status;
} tcn_raft_read_result;

/* A fault the core detected (a plain value): code TCN_ERR_CORRUPT, the peer involved (the
 * leader whose message was refused, or the follower that reported it) and
 * the log index where the hash chain disagreed. */
typedef struct tcn_raft_fault {
    int code;
    uint64_t peer;
    uint64_t index;
} tcn_raft_fault;

/* What the caller must do, in this order: restore `snapshot` if set, apply
 * `entries`, send `msgs`, deliver `reads` (after applying up to their index),
 * take a snapshot if `snapshot_wanted`, note state and configuration changes;
 * then call tcn_raft_advance.
 * Ownership: everything a ready points to belongs to the core and stays valid
 * and unchanged until tcn_raft_advance; between tcn_raft_get_ready and
 * tcn_raft_advance the caller must not call any other tcn_raft_* input
 * (asserted). */
typedef struct tcn_raft_ready {
    const tcn_raft_msg *msgs;
    size_t n_msgs;

    const tcn_raft_snapshot_view *snapshot; /* NULL: nothing to restore */

    const tcn_raft_entry *entries; /* committed, in log order, to apply */
    size_t n_entries;

    bool snapshot_wanted; /* the log is above its limit: call tcn_raft_snapshot_done */
    uint64_t snapshot_wanted_index; /* at (or after) this applied index */

    bool state_changed; /* role, term or leader differ from the last ready */
    uint8_t role;       /* tcn_raft_role */
    uint64_t term;
    uint64_t leader;    /* 0: unknown */

    const tcn_raft_read_result *reads;
    size_t n_reads;

    bool config_changed; /* the configuration in effect changed (appended or
                            truncated entries, or a snapshot) */
    const tcn_raft_config *config;
    uint64_t config_index; /* log index of the configuration in effect */

    const tcn_raft_fault *faults;
    size_t n_faults;
    size_t n_faults_dropped;
} tcn_raft_ready;

/* --- Lifecycle ----------------------------------------------------------- */

/* Fills o with the defaults for node `id` and PRNG `seed`. */
void tcn_raft_options_default(tcn_raft_options *o, uint64_t id, uint64_t seed);
/* Creates an empty node (no configuration, term 0) at time now_ms. */
int tcn_raft_create(tcn_raft **out, const tcn_raft_options *o, uint64_t now_ms, tcn_error *err) TCN_MUST_CHECK;
void tcn_raft_destroy(tcn_raft *r);
/* Genesis: on a fresh node, appends the configuration {voters} as entry 1 of
 * term 1, committed by fiat. Every bootstrapping node must pass the same ids
 * (order does not matter); the node's own id must be among them. */
int tcn_raft_bootstrap(tcn_raft *r, const uint64_t *voters, size_t n) TCN_MUST_CHECK;

/* --- Inputs -------------------------------------------------------------- */

/* A message from a peer. TCN_ERR_CORRUPT: the message was refused for a hash
 * mismatch (also reported in the ready); TCN_ERR_MALFORMED: not a valid
 * message for this node (wrong recipient, impossible fields); TCN_ERR_NOMEM. */
int tcn_raft_step(tcn_raft *r, const tcn_raft_msg *m) TCN_MUST_CHECK;
/* The time: now_ms never goes back. */
void tcn_raft_tick(tcn_raft *r, uint64_t now_ms);
/* A hint from the transport: every connection to `leader` was lost (its
 * process died: the kernel closed its sockets). A follower whose leader it
 * is forgets it — so its leader lease no longer holds and it grants
 * pre-votes — and campaigns (pre-vote first) within a random
 * [0, election_timeout_ms_min / 2) instead of waiting out the election
 * timeout (the spread keeps the followers, who all hear the same hint,
 * from splitting the vote). Timing is
 * never part of Raft's safety; a wrong hint (a connection that merely
 * flapped) costs one pre-vote round, which the voters still hearing from
 * the leader refuse. Nothing happens on a node that does not follow
 * `leader`. */
void tcn_raft_leader_unreachable(tcn_raft *r, uint64_t leader);
/* Appends a command (copied). TCN_ERR_NOT_LEADER, TCN_ERR_BUSY (leadership
 * transfer in progress or too many uncommitted bytes), TCN_ERR_TOO_LARGE. */
int tcn_raft_propose(tcn_raft *r, const void *data, size_t len, uint64_t *index) TCN_MUST_CHECK;

/* Membership (leader only; Raft thesis §4.1: single-server changes, each in
 * effect when appended, one uncommitted change at a time, none before the
 * leader committed an entry of its term). TCN_ERR_BUSY: retry later. */
int tcn_raft_add_learner(tcn_raft *r, uint64_t id) TCN_MUST_CHECK;
/* TCN_ERR_BUSY while the learner is not caught up: neither within
 * promote_lag_max entries of the leader's last index, nor holding the last
 * index the leader had promote_lag_ms_max ago (Raft thesis §4.2.1), or while
 * it is being sent a snapshot. */
int tcn_raft_promote(tcn_raft *r, uint64_t id) TCN_MUST_CHECK;
int tcn_raft_remove(tcn_raft *r, uint64_t id) TCN_MUST_CHECK;
/* Managed two-step change: promote the caught-up learner new_id, and once
 * that configuration is committed, remove old_id (retried at each commit and
 * tick while refused with BUSY, e.g. during a leadership transfer). Never both in one
 * configuration ({A,B,C}->{A,B,D} in one step allows disjoint majorities).
 * Idempotent: if new_id is already a voter, only the removal remains. */
int tcn_raft_replace(tcn_raft *r, uint64_t old_id, uint64_t new_id) TCN_MUST_CHECK;

/* Leadership transfer (Raft thesis §3.10): catch target up, then TimeoutNow.
 * Proposals are refused until it ends or times out (one election timeout).
 * A transfer that times out after its TimeoutNow went out appends a no-op,
 * which makes that TimeoutNow stale at the target (tcn_raft_timeout_now). */
int tcn_raft_transfer_leadership(tcn_raft *r, uint64_t target) TCN_MUST_CHECK;

/* ReadIndex (Raft thesis §6.4): the answer arrives in a ready's reads. */
int tcn_raft_read_index(tcn_raft *r, uint64_t ctx) TCN_MUST_CHECK;

/* The application took a snapshot of its state machine at applied index
 * `index` (data copied). The log is compacted up to index - snapshot_trailing. */
int tcn_raft_snapshot_done(tcn_raft *r, uint64_t index, const void *data, size_t len) TCN_MUST_CHECK;

/* --- Outputs ------------------------------------------------------------- */

/* Conservative: false only when a ready would certainly be empty. */
bool tcn_raft_has_ready(const tcn_raft *r);
/* Fills rd (which the caller owns; the core owns what it points to). Every
 * call must be followed by tcn_raft_advance. */
void tcn_raft_get_ready(tcn_raft *r, tcn_raft_ready *rd);
/* The caller has acted on the last ready: messages handed to the network,
 * entries applied, snapshot restored. */
void tcn_raft_advance(tcn_raft *r);

/* --- Inspection (checkers, tests, status pages) --------------------------
 * Pointers returned here stay valid until the next input. */

uint64_t tcn_raft_id(const tcn_raft *r);
tcn_raft_role tcn_raft_role_of(const tcn_raft *r);
uint64_t tcn_raft_term(const tcn_raft *r);
uint64_t tcn_raft_voted_for(const tcn_raft *r);
uint64_t tcn_raft_leader(const tcn_raft *r);
uint64_t tcn_raft_commit_index(const tcn_raft *r);
uint64_t tcn_raft_applied_index(const tcn_raft *r);
uint64_t tcn_raft_first_index(const tcn_raft *r); /* first entry kept in memory */
uint64_t tcn_raft_last_index(const tcn_raft *r);
/* false when index is compacted or beyond the log; the view is valid until
 * the next input. */
bool tcn_raft_entry_at(const tcn_raft *r, uint64_t index, tcn_raft_entry *out);
const tcn_raft_config *tcn_raft_config_of(const tcn_raft *r);
uint64_t tcn_raft_config_index(const tcn_raft *r);
/* Whether any configuration this node has held made it a voter. Until one
 * has, it grants votes without comparing logs: it holds no copy that
 * counted toward a commit. */
bool tcn_raft_ever_voter(const tcn_raft *r);
/* Whether the entry at the commit index is of the current term (also when
 * it is the last entry of a snapshot). On a leader: it has committed an
 * entry of its own term, so its applied state holds everything any earlier
 * leader committed (Raft thesis §6.4) — the moment its application may act
 * on that state (the payout executor does). */
bool tcn_raft_commit_in_term(const tcn_raft *r);

typedef enum {
    TCN_RAFT_PROGRESS_PROBE = 0,
    TCN_RAFT_PROGRESS_REPLICATE = 1,
    TCN_RAFT_PROGRESS_SNAPSHOT = 2,
} tcn_raft_progress_state;

typedef struct tcn_raft_progress_info {
    uint64_t match;
    uint64_t next;
    uint8_t state; /* tcn_raft_progress_state */
    uint32_t inflight;
} tcn_raft_progress_info;

/* Leader only: false when not leader or peer unknown. */
bool tcn_raft_progress_of(const tcn_raft *r, uint64_t peer, tcn_raft_progress_info *out);

/* Config helpers (pure functions on values). */
const tcn_raft_member *tcn_raft_config_find(const tcn_raft_config *c, uint64_t id);
bool tcn_raft_config_is_voter(const tcn_raft_config *c, uint64_t id);
uint32_t tcn_raft_config_voters(const tcn_raft_config *c);

const char *tcn_raft_role_name(tcn_raft_role role);
const char *tcn_raft_msg_type_name(uint8_t type);

#endif
