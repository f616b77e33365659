/* What the leader knows about each follower: match/next, flow-control state, in-flight appends. */
#ifndef TCN_RAFT_PROGRESS_H
#define TCN_RAFT_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>

#include "raft/raft.h"

/* States (the names etcd's raft uses for the same idea):
 *  PROBE      the leader does not know where the follower's log matches; one
 *             AppendEntries at a time, walking next back on each rejection;
 *  REPLICATE  the logs match up to `match`; AppendEntries are pipelined
 *             optimistically up to inflight_max (Raft thesis §10.2.2);
 *  SNAPSHOT   the follower needs entries the leader compacted; chunks of the
 *             leader's snapshot go one at a time, each acknowledged. */
typedef struct tcn_raft_progress {
    uint64_t id;
    uint64_t match;
    uint64_t next;
    uint8_t state; /* tcn_raft_progress_state */
    bool probe_sent;       /* PROBE: waiting for the answer to one probe */
    bool corrupt_reported; /* a corruption report from this peer is in a ready already */
    uint64_t sent_ms;      /* when the probe or snapshot chunk went out */
    uint64_t last_active_ms; /* last message from the peer in this term (check-quorum) */
    uint64_t last_ack_ms;    /* last answer to an append or chunk (retransmission) */
    uint64_t read_ack;       /* highest ReadIndex round the peer confirmed */
    /* in-flight appends: last index of each, oldest first, in a ring */
    uint64_t inflight[TCN_RAFT_INFLIGHT_MAX];
    uint32_t in_start;
    uint32_t in_count;
    /* snapshot transfer */
    uint64_t snap_index;  /* snapshot being sent (kept until sent: snapshot.c) */
    uint64_t snap_size;   /* its bytes: an acknowledgement of all of them means installed */
    uint64_t snap_offset; /* bytes the follower acknowledged */
    bool snap_inflight;   /* one chunk out, not yet answered */
} tcn_raft_progress;

void tcn_raft_pr_init(tcn_raft_progress *pr, uint64_t id, uint64_t next, uint64_t now_ms);
void tcn_raft_pr_become_probe(tcn_raft_progress *pr);
void tcn_raft_pr_become_replicate(tcn_raft_progress *pr);
void tcn_raft_pr_become_snapshot(tcn_raft_progress *pr, uint64_t snap_index, uint64_t snap_size);

bool tcn_raft_pr_inflight_full(const tcn_raft_progress *pr, uint32_t max);
void tcn_raft_pr_inflight_add(tcn_raft_progress *pr, uint64_t last_index);
/* Frees every in-flight append whose last index is <= index. */
void tcn_raft_pr_inflight_free_to(tcn_raft_progress *pr, uint64_t index);

/* An OK answer: true when match moved (or a probe was answered). */
bool tcn_raft_pr_update(tcn_raft_progress *pr, uint64_t index);
/* A rejection of prev_index `rejected`; probe_next is where the hints say to
 * probe. False when the rejection is stale (Raft thesis §3.5 with the
 * fast-backtracking optimisation). */
bool tcn_raft_pr_decrease(tcn_raft_progress *pr, uint64_t rejected, uint64_t probe_next);

#endif
