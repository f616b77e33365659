/* Every limit and default of the Raft core and its codec, named, in one place. */
#ifndef TCN_RAFT_LIMITS_H
#define TCN_RAFT_LIMITS_H

/* Members of one configuration, voters and learners together (DESIGN §6:
 * 2–5 coordinators, plus learners while a replacement catches up). */
#define TCN_RAFT_MEMBERS_MAX 16u

/* --- Hard limits: the codec rejects anything above them. --------------- */

/* Entries in one AppendEntries. */
#define TCN_RAFT_MSG_ENTRIES_MAX 8192u
/* Payload bytes of one log entry (tcn_raft_propose refuses more). */
#define TCN_RAFT_ENTRY_BYTES_MAX (1u << 20)
/* Payload bytes of all entries of one AppendEntries together; at least one
 * entry always fits, so this must hold TCN_RAFT_ENTRY_BYTES_MAX. */
#define TCN_RAFT_APPEND_BYTES_MAX (4u << 20)
/* Bytes of one InstallSnapshot chunk. */
#define TCN_RAFT_SNAPSHOT_CHUNK_BYTES_MAX (1u << 20)
/* Bytes of a whole snapshot of the state machine. */
#define TCN_RAFT_SNAPSHOT_BYTES_MAX (1ull << 30)
/* One encoded message: the largest AppendEntries (payloads plus at most 21
 * bytes of framing per entry) or snapshot chunk, plus headers. */
#define TCN_RAFT_MSG_BYTES_MAX (TCN_RAFT_APPEND_BYTES_MAX + 21u * TCN_RAFT_MSG_ENTRIES_MAX + 1024u)
/* In-flight AppendEntries per follower (the option may ask for fewer). */
#define TCN_RAFT_INFLIGHT_MAX 256u

/* --- Bounds of the core's own bookkeeping. ----------------------------- */

/* ReadIndex requests waiting at the leader (more: TCN_ERR_BUSY). */
#define TCN_RAFT_READS_PENDING_MAX 1024u
/* Committed entries handed to the application in one ready. */
#define TCN_RAFT_APPLY_BATCH_MAX 8192u
/* Fault reports (corruption) kept for one ready; later ones are counted. */
#define TCN_RAFT_FAULTS_MAX 16u
/* Older snapshots a leader keeps, besides its latest, while InstallSnapshot
 * transfers still send them: a transfer finishes the snapshot it started
 * instead of starting over at every new one (which livelocks a follower
 * under write load). So a leader holds at most 1 + this many snapshots;
 * beyond, the one whose most advanced transfer has the most bytes to go is
 * dropped and its transfers start over with the latest (snapshot.c). */
#define TCN_RAFT_SNAPSHOTS_RETAINED_MAX 2u
/* Samples (time, last index) a leader keeps to judge a learner's lag in
 * time (tcn_raft_options.promote_lag_ms_max); they span two such windows. */
#define TCN_RAFT_LAG_SAMPLES 16u

/* --- Defaults for a zero option field (tcn_raft_options). -------------- */

#define TCN_RAFT_DEFAULT_HEARTBEAT_MS 100u
#define TCN_RAFT_DEFAULT_ELECTION_TIMEOUT_MS_MIN 1000u
/* max = 2 × min when max is left zero (Raft thesis §3.4: [T, 2T]). */
#define TCN_RAFT_DEFAULT_APPEND_BYTES_MAX (1u << 20)
#define TCN_RAFT_DEFAULT_APPEND_ENTRIES_MAX 1024u
#define TCN_RAFT_DEFAULT_INFLIGHT_MAX 16u
#define TCN_RAFT_DEFAULT_SNAPSHOT_CHUNK_BYTES (256u << 10)
/* Ask the application for a snapshot when the log holds more entries (or
 * payload bytes) than this above its compacted prefix. */
#define TCN_RAFT_DEFAULT_SNAPSHOT_ENTRIES_MAX 65536u
#define TCN_RAFT_DEFAULT_SNAPSHOT_LOG_BYTES_MAX (64u << 20)
/* Entries kept below a snapshot so slightly lagging followers need no snapshot. */
#define TCN_RAFT_DEFAULT_SNAPSHOT_TRAILING 1024u
/* A learner is caught up (Raft thesis §4.2.1) when it holds everything the
 * leader held promote_lag_ms_max ago (default: election_timeout_ms_min, the
 * thesis's bound on the last round of catching up), or when its match index
 * is within PROMOTE_LAG_MAX entries of the leader's last index. The count
 * alone never holds under sustained writes: a healthy pipelined follower
 * trails by throughput x round trip (2,000 entries at 20,000/s and 100 ms). */
#define TCN_RAFT_DEFAULT_PROMOTE_LAG_MAX 128u
/* Proposals are refused (TCN_ERR_BUSY) while this many payload bytes are
 * appended but not committed: flow control when followers are down. */
#define TCN_RAFT_DEFAULT_UNCOMMITTED_BYTES_MAX (64u << 20)

#endif
