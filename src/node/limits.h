/* Every limit and default of tcnd's peer frames and configuration, named, in one place. */
#ifndef TCN_NODE_LIMITS_H
#define TCN_NODE_LIMITS_H

#include "attest/evidence.h"
#include "raft/limits.h"

/* --- Peer frames (frame.h, docs/NODE.md) --------------------------------- */

/* magic:u8 version:u8 type:u8 flags:u8 length:u32be */
#define TCN_FRAME_HEADER_BYTES 8u
#define TCN_FRAME_MAGIC 0x54u /* 'T' */
#define TCN_FRAME_VERSION 1u
/* Version 1 defines no flag: the byte is reserved and must be zero. */
#define TCN_FRAME_FLAGS_KNOWN 0x00u

/* The largest payload of any frame. A RAFT frame's payload is exactly one
 * message of the Raft codec, and that codec accepts messages up to
 * TCN_RAFT_MSG_BYTES_MAX (a full AppendEntries batch: 4 MiB of entries plus
 * their framing, about 4.2 MiB). A smaller frame limit would make messages
 * that a peer's Raft core may legally produce impossible to send; a larger
 * one would only let a peer make us hold more. An InstallSnapshot chunk
 * (at most TCN_RAFT_SNAPSHOT_CHUNK_BYTES_MAX = 1 MiB plus a few hundred
 * bytes of header) fits with room to spare. A connection's decoder holds at
 * most one such frame, and only once its bytes have actually arrived. */
#define TCN_FRAME_PAYLOAD_MAX TCN_RAFT_MSG_BYTES_MAX
#define TCN_FRAME_BYTES_MAX (TCN_FRAME_HEADER_BYTES + TCN_FRAME_PAYLOAD_MAX)

/* HELLO: a node's human name and its API address as text (docs/NODE.md). */
#define TCN_FRAME_HELLO_NAME_BYTES_MAX 63u
#define TCN_FRAME_HELLO_ADDR_BYTES_MAX 63u /* "[" 45-char IPv6 "]:65535" is 53 */
#define TCN_FRAME_GROUP_ID_BYTES 16u       /* DESIGN §4 "Group id" */
/* protocol_version:u16 node_id:u64 group_id:16 name_len:u8 name api_len:u8 api
 * peer_len:u8 peer (the sender's peer listen address, same rules as api) */
#define TCN_FRAME_HELLO_BYTES_MAX                                                                                    \
    (2u + 8u + TCN_FRAME_GROUP_ID_BYTES + 1u + TCN_FRAME_HELLO_NAME_BYTES_MAX + 1u + TCN_FRAME_HELLO_ADDR_BYTES_MAX + \
     1u + TCN_FRAME_HELLO_ADDR_BYTES_MAX)
/* The peer protocol this build speaks (the meaning of the frames and of the
 * Raft codec inside them); HELLO carries it so a node can refuse a peer it
 * cannot talk to with BYE VERSION instead of misreading it. */
#define TCN_NODE_PROTOCOL_VERSION 1u

/* REATTEST_CHALLENGE: the verifier's nonce (tls/ratls.h TCN_RATLS_CHALLENGE_LEN). */
#define TCN_FRAME_CHALLENGE_BYTES 32u
/* REATTEST_EVIDENCE: the prover's extension-format blob (evidence of at most
 * TCN_EVIDENCE_MAX bytes and its claims; tls/ratls.h TCN_RATLS_EXT_MAX is
 * evidence + 288), with headroom for the claims envelope. */
#define TCN_FRAME_EVIDENCE_BYTES_MAX (TCN_EVIDENCE_MAX + 1024u)
/* PING / PONG: nonce:u64 clock_ms:u64 */
#define TCN_FRAME_PING_BYTES 16u
/* BYE: reason:u16 text_len:u8 text */
#define TCN_FRAME_BYE_TEXT_BYTES_MAX 127u
#define TCN_FRAME_BYE_BYTES_MIN 3u
#define TCN_FRAME_BYE_BYTES_MAX (TCN_FRAME_BYE_BYTES_MIN + TCN_FRAME_BYE_TEXT_BYTES_MAX)

/* The stream decoder starts a payload buffer this small and at most doubles
 * it as bytes arrive, so it never holds much more than what a peer sent; a
 * buffer that grew beyond KEEP is released once its frame is delivered (an
 * idle connection does not pin a snapshot chunk's worth of memory). */
#define TCN_FRAME_DECODER_BUF_MIN 256u
#define TCN_FRAME_DECODER_BUF_KEEP (64u * 1024u)

/* --- Configuration (config.h, docs/NODE.md) ------------------------------ */

#define TCN_NODE_CONFIG_FILE_MAX (256u * 1024u)
#define TCN_NODE_NAME_CHARS_MAX TCN_FRAME_HELLO_NAME_BYTES_MAX
/* A host name in text form (RFC 1035 §2.3.4: 255 octets on the wire, 253 as
 * dotted text); one label at most 63. */
#define TCN_NODE_HOST_CHARS_MAX 253u
#define TCN_NODE_LABEL_CHARS_MAX 63u
/* host:port as text: host, brackets, colon, five digits. */
#define TCN_NODE_ADDR_CHARS_MAX (TCN_NODE_HOST_CHARS_MAX + 8u)
#define TCN_NODE_URL_CHARS_MAX 1024u
#define TCN_NODE_PATH_CHARS_MAX 1023u
/* Peers to dial at boot: a network has at most TCN_RAFT_MEMBERS_MAX members. */
#define TCN_NODE_JOIN_MAX TCN_RAFT_MEMBERS_MAX
/* DESIGN §2: 2–5 coordinators (1 for a single-node development network). */
#define TCN_NODE_BOOTSTRAP_EXPECT_MAX 5u

#define TCN_NODE_DEFAULT_LISTEN_PEER "127.0.0.1:7400"
#define TCN_NODE_DEFAULT_LISTEN_API "127.0.0.1:7500"
#define TCN_NODE_DEFAULT_CHAIN_RPC "http://127.0.0.1:8899" /* tcn ledger's default */

#define TCN_NODE_DEFAULT_HEARTBEAT_MS 100u
#define TCN_NODE_HEARTBEAT_MS_MIN 5u
#define TCN_NODE_HEARTBEAT_MS_MAX 60000u
#define TCN_NODE_DEFAULT_ELECTION_TIMEOUT_MS 1000u
/* An election timeout spans at least this many heartbeats, so a few lost
 * heartbeats do not start an election (Raft thesis §9.3: broadcast time
 * << election timeout). */
#define TCN_NODE_ELECTION_TIMEOUT_HEARTBEATS_MIN 5u
#define TCN_NODE_ELECTION_TIMEOUT_MS_MAX 600000u
/* A dead voter is replaced by a caught-up learner after this long
 * (DESIGN §6); 0 = only by `tcn cluster replace`. When set, it is at least
 * one election timeout. */
#define TCN_NODE_DEFAULT_REPLACE_AFTER_MS 10000u
#define TCN_NODE_REPLACE_AFTER_MS_MAX 86400000u
/* Peers re-attest over the live channel this often (DESIGN §4 Binding). */
#define TCN_NODE_DEFAULT_REATTEST_INTERVAL_MS 60000u
#define TCN_NODE_REATTEST_INTERVAL_MS_MIN 1000u
#define TCN_NODE_REATTEST_INTERVAL_MS_MAX 86400000u
/* A peer whose last verified evidence is older than evidence_max_age_ms is
 * dropped. Default: three intervals (two re-attestations may fail before a
 * peer is dropped); at least two (so one slow round never drops a peer). */
#define TCN_NODE_DEFAULT_EVIDENCE_MAX_AGE_INTERVALS 3u
#define TCN_NODE_EVIDENCE_MAX_AGE_INTERVALS_MIN 2u
#define TCN_NODE_EVIDENCE_MAX_AGE_MS_MAX 604800000u /* a week */

/* --- Peer mesh (peer.h, docs/NODE.md §3) ---------------------------------- */

/* Connections at once, verified or not: a network has at most
 * TCN_RAFT_MEMBERS_MAX members, two connections each way, plus room for
 * joiners and reconnects. Anyone can open a TCP connection, so the number
 * of unverified ones must be bounded too. */
#define TCN_PEER_CONNS_MAX 64u
/* Addresses kept dialed (configured joins and advertised peer addresses). */
#define TCN_PEER_DIALS_MAX (4u * TCN_RAFT_MEMBERS_MAX)
/* Node ids refused after tcn_peer_mesh_forget (oldest forgotten first). */
#define TCN_PEER_FORGOTTEN_MAX 32u
#define TCN_PEER_LISTEN_BACKLOG 16
/* A dial-back (an address learned from a HELLO) is given up after this many
 * attempts in a row that fail (about a minute at the default backoff). */
#define TCN_PEER_AUTO_DIAL_FAILURES_MAX 12u

#define TCN_PEER_DEFAULT_HANDSHAKE_TIMEOUT_MS 5000u
#define TCN_PEER_DEFAULT_HELLO_TIMEOUT_MS 5000u
/* A PING every second; nothing heard for 5 s is a dead peer (Raft's own
 * heartbeats usually keep the line busier than this). */
#define TCN_PEER_DEFAULT_PING_INTERVAL_MS 1000u
#define TCN_PEER_DEFAULT_DEAD_AFTER_MS 5000u
#define TCN_PEER_DEFAULT_REATTEST_INTERVAL_MS TCN_NODE_DEFAULT_REATTEST_INTERVAL_MS
/* Fresh evidence (sim: one signature; Nitro/SGX: a device round trip) must
 * come back within this. */
#define TCN_PEER_DEFAULT_REATTEST_ANSWER_MS 10000u
/* Redial: 100 ms doubling to 10 s, each delay drawn from [d/2, d]. */
#define TCN_PEER_DEFAULT_BACKOFF_MIN_MS 100u
#define TCN_PEER_DEFAULT_BACKOFF_MAX_MS 10000u
#define TCN_PEER_DEFAULT_TICK_MS 50u
/* send_raft refuses (TCN_ERR_BUSY) while this much waits to be sent to a
 * peer: two full AppendEntries batches. A connection then holds at most
 * this plus one frame (the one queued just below the mark). */
#define TCN_PEER_DEFAULT_OUT_HIGH_WATER_BYTES (2u * TCN_FRAME_BYTES_MAX)
/* Control frames (PONG, BYE, EVIDENCE) are not refused, but a peer that
 * makes us queue beyond high water + this (it sends PINGs and never reads
 * our PONGs) is dropped. */
#define TCN_PEER_OUT_SLACK_BYTES (TCN_FRAME_BYTES_MAX + 64u * 1024u)
/* Reading pauses while this much decrypted input waits (the decoder then
 * takes it all; it holds at most one frame). */
#define TCN_PEER_DEFAULT_IN_HIGH_WATER_BYTES (256u * 1024u)
/* close_all gives BYEs this long to leave before cutting. */
#define TCN_PEER_LINGER_MS 1000u

/* --- Client API: node/api_limits.h --------------------------------------- */
#include "node/api_limits.h"

#endif
