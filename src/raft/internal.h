/* The Raft core's state and the functions its files share (not part of the public API). */
#ifndef TCN_RAFT_INTERNAL_H
#define TCN_RAFT_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "raft/config.h"
#include "raft/log.h"
#include "raft/progress.h"
#include "raft/raft.h"
#include "util/buf.h"

/* Where the bug switches are tested: compiled to constant false unless the
 * core is built with TCN_RAFT_BUGS, so the daemon's core holds no such path. */
#ifdef TCN_RAFT_BUGS
#define TCN_RAFT_BUG(r, flag) (((r)->o.bugs & (flag)) != 0)
#else
#define TCN_RAFT_BUG(r, flag) ((void)(r), 0)
#endif

typedef struct tcn_raft_read_req {
    uint64_t ctx;
    uint64_t index; /* 0: waiting for the leader's first commit in its term */
    uint64_t seq;   /* heartbeat round that confirms it */
} tcn_raft_read_req;

/* A snapshot the node holds (its own, or one it installed) or is receiving. */
typedef struct tcn_raft_snap {
    bool have;
    uint64_t index;
    uint64_t term;
    uint8_t hash[TCN_SHA256_LEN];
    tcn_raft_config config;
    uint64_t size; /* expected size while receiving */
    tcn_buf data;
} tcn_raft_snap;

struct tcn_raft {
    tcn_raft_options o; /* defaults applied */
    uint64_t id;
    uint64_t rng; /* splitmix64 state for election timeouts */

    /* State a real Raft would persist; here it lives and dies with the process. */
    uint64_t term;
    uint64_t vote;
    tcn_raft_log log;
    tcn_raft_confs confs;
    /* Some configuration this node held in its log (or snapshot) made it a
     * voter. Never reset. Until then it grants votes without the log-recency
     * check: see tcn_raft_recv_vote and tcn_raft_maybe_commit. */
    bool ever_voter;

    uint8_t role;
    uint64_t leader;
    uint64_t commit;
    uint64_t applied; /* acknowledged by tcn_raft_advance */
    uint64_t now;

    uint64_t election_deadline;
    uint64_t leader_contact_ms; /* last message from the current leader */
    uint64_t heartbeat_deadline;

    /* Votes of the current (pre-)election: 1 granted, 2 refused. */
    struct {
        uint64_t id;
        uint8_t v;
    } votes[TCN_RAFT_MEMBERS_MAX];
    uint32_t n_votes;
    /* A follower running a leadership transfer's pre-vote (election.c,
     * tcn_raft_campaign_transfer): it counts pre-votes until the deadline. */
    bool transfer_prevote;
    uint64_t transfer_prevote_deadline;

    /* Leader state. */
    tcn_raft_progress prs[TCN_RAFT_MEMBERS_MAX];
    uint32_t n_prs;
    uint64_t transfer_target; /* 0: none */
    uint64_t transfer_deadline;
    bool timeout_now_sent;
    uint64_t replace_old; /* managed replace waiting for its promotion to commit */
    uint64_t replace_new;
    /* (time, last index) samples of this leadership, a ring (membership.c):
     * how far back in time a learner's match index reaches. */
    struct {
        uint64_t ms;
        uint64_t index;
    } lag[TCN_RAFT_LAG_SAMPLES];
    uint32_t lag_start;
    uint32_t lag_count;
    uint64_t lag_term; /* the term the samples belong to */

    /* ReadIndex (leader): a FIFO ring. */
    tcn_raft_read_req reads[TCN_RAFT_READS_PENDING_MAX];
    uint32_t reads_start;
    uint32_t reads_count;
    uint64_t read_seq;      /* last round number assigned */
    uint64_t read_seq_sent; /* last round broadcast */
    bool read_round_needed;

    /* Snapshots. */
    tcn_raft_snap snap; /* latest complete snapshot */
    /* Leader: older snapshots that transfers are still sending (snapshot.c). */
    tcn_raft_snap snap_kept[TCN_RAFT_SNAPSHOTS_RETAINED_MAX];
    tcn_raft_snap rx;   /* InstallSnapshot being received */
    bool restore_pending;
    bool snap_wanted_armed; /* ask once per snapshot_done */
    bool snap_wanted;
    uint64_t snap_wanted_index;

    /* Outputs until the next advance. */
    tcn_raft_msg *out;
    size_t n_out;
    size_t cap_out;
    tcn_raft_entry *out_entries; /* entries of the ready's messages */
    size_t cap_out_entries;
    tcn_raft_entry *apply; /* committed entries of the ready */
    size_t cap_apply;
    uint64_t applying; /* last index handed out in the current ready */
    tcn_raft_read_result reads_out[TCN_RAFT_READS_PENDING_MAX];
    size_t n_reads_out;
    tcn_raft_fault faults[TCN_RAFT_FAULTS_MAX];
    size_t n_faults;
    size_t n_faults_dropped;
    tcn_raft_snapshot_view restore_view;
    uint8_t rep_role;
    uint64_t rep_term;
    uint64_t rep_leader;
    bool config_dirty;
    bool in_ready;
    bool dirty;

    /* Scratch for verifying an AppendEntries before touching the log. */
    uint8_t (*scratch_hash)[TCN_SHA256_LEN];
    size_t cap_scratch;
};

/* Grows an array of elem-sized items to hold need; aborts on out of memory.
 * Only for bookkeeping arrays bounded by the options (messages of one ready,
 * scratch); payload-carrying buffers report TCN_ERR_NOMEM instead. */
void tcn_raft_grow(void **p, size_t *cap, size_t need, size_t elem);

/* raft.c */
uint64_t tcn_raft_random(tcn_raft *r); /* deterministic: splitmix64 from options.seed */
const tcn_raft_config *tcn_raft_conf(const tcn_raft *r);
bool tcn_raft_is_voter(const tcn_raft *r, uint64_t id);
uint32_t tcn_raft_quorum(const tcn_raft *r);
uint64_t tcn_raft_term_at(const tcn_raft *r, uint64_t index); /* asserts index is known */

/* ready.c: queueing outputs */
tcn_raft_msg *tcn_raft_send(tcn_raft *r, uint8_t type, uint64_t to);
void tcn_raft_report_fault(tcn_raft *r, int code, uint64_t peer, uint64_t index);
void tcn_raft_drop_leader_msgs(tcn_raft *r);

/* election.c */
void tcn_raft_reset_election_timer(tcn_raft *r);
void tcn_raft_become_follower(tcn_raft *r, uint64_t term, uint64_t leader);
void tcn_raft_campaign(tcn_raft *r, bool pre_vote, bool transfer);
void tcn_raft_campaign_transfer(tcn_raft *r, uint64_t leader);
void tcn_raft_recv_vote(tcn_raft *r, const tcn_raft_msg *m);
void tcn_raft_recv_vote_result(tcn_raft *r, const tcn_raft_msg *m);
bool tcn_raft_heard_from_leader(const tcn_raft *r);
void tcn_raft_tick_election(tcn_raft *r);
void tcn_raft_check_quorum(tcn_raft *r);

/* replication.c */
tcn_raft_progress *tcn_raft_progress_find(tcn_raft *r, uint64_t id);
int tcn_raft_leader_append(tcn_raft *r, uint8_t type, const uint8_t *data, uint32_t len) TCN_MUST_CHECK;
void tcn_raft_send_append(tcn_raft *r, tcn_raft_progress *pr);
void tcn_raft_send_heartbeats(tcn_raft *r);
void tcn_raft_flush(tcn_raft *r);
bool tcn_raft_maybe_commit(tcn_raft *r);
void tcn_raft_tick_leader(tcn_raft *r);
void tcn_raft_follower_contact(tcn_raft *r, const tcn_raft_msg *m);
int tcn_raft_recv_append(tcn_raft *r, const tcn_raft_msg *m) TCN_MUST_CHECK;
void tcn_raft_recv_append_result(tcn_raft *r, const tcn_raft_msg *m);
void tcn_raft_recv_heartbeat(tcn_raft *r, const tcn_raft_msg *m);
void tcn_raft_recv_heartbeat_result(tcn_raft *r, const tcn_raft_msg *m);

/* snapshot.c */
/* The snapshot with this index among those held (the latest or a kept one), or NULL. */
const tcn_raft_snap *tcn_raft_snapshot_find(const tcn_raft *r, uint64_t index);
/* Frees the kept snapshots no transfer sends any more. */
void tcn_raft_snapshots_release(tcn_raft *r);
void tcn_raft_send_snapshot(tcn_raft *r, tcn_raft_progress *pr);
int tcn_raft_recv_snapshot(tcn_raft *r, const tcn_raft_msg *m) TCN_MUST_CHECK;
void tcn_raft_recv_snapshot_result(tcn_raft *r, const tcn_raft_msg *m);
void tcn_raft_check_snapshot_wanted(tcn_raft *r);

/* membership.c */
void tcn_raft_config_changed(tcn_raft *r);
/* Called for every configuration the node takes into its log or snapshot. */
void tcn_raft_note_config(tcn_raft *r, const tcn_raft_config *c);
/* Whether a voter's match index may count toward commitment (membership.c). */
bool tcn_raft_match_counts(const tcn_raft *r, uint64_t id, uint64_t match);
void tcn_raft_sync_progress(tcn_raft *r);
void tcn_raft_membership_on_commit(tcn_raft *r);
void tcn_raft_membership_tick(tcn_raft *r);

/* transfer.c */
void tcn_raft_transfer_on_match(tcn_raft *r, tcn_raft_progress *pr);
void tcn_raft_transfer_tick(tcn_raft *r);
void tcn_raft_transfer_abort(tcn_raft *r);
void tcn_raft_recv_timeout_now(tcn_raft *r, const tcn_raft_msg *m);

/* read_index.c */
void tcn_raft_reads_on_commit(tcn_raft *r);
void tcn_raft_reads_on_ack(tcn_raft *r);
void tcn_raft_reads_fail_all(tcn_raft *r);
void tcn_raft_reads_flush(tcn_raft *r);

#endif
