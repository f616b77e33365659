/* Compact binary encoding of Raft messages; decoding reads untrusted bytes through the util cursor. */
#ifndef TCN_RAFT_CODEC_H
#define TCN_RAFT_CODEC_H

/*
 * Layout (version 1). Integers marked varint are unsigned LEB128: 7 bits per
 * byte, least significant group first, high bit = more follows; at most 10
 * bytes; the shortest form only (no trailing 0x00 group), so every message
 * has exactly one encoding. u8/u64be are fixed width, big-endian. hash is 32
 * raw bytes. flags bytes may only carry the bits listed.
 *
 *   message        version:u8 (=1)  type:u8  from:u64be  to:u64be  term:varint  body
 *
 *   VOTE (1)            last_index:varint last_term:varint
 *                       flags:u8 (0x01 pre_vote, 0x02 transfer; both: the
 *                       pre-vote a transfer's target runs first)
 *   VOTE_RESULT (2)     flags:u8 (0x01 pre_vote, 0x02 granted)
 *   APPEND (3)          prev_index:varint prev_term:varint prev_hash:hash
 *                       commit:varint n:varint
 *                       n × ( term:varint type:u8 len:varint payload:len bytes )
 *                       last_hash:hash            -- present only when n > 0
 *                       (entry i has index prev_index + 1 + i; the follower
 *                       recomputes the chain from prev_hash and must arrive
 *                       at last_hash)
 *   APPEND_RESULT (4)   status:u8 (0 ok, 1 reject, 2 corrupt) index:varint
 *                       hint_index:varint hint_term:varint (both 0 unless reject)
 *   HEARTBEAT (5)       commit:varint read_seq:varint
 *   HEARTBEAT_RESULT(6) read_seq:varint
 *   SNAPSHOT (7)        index:varint term:varint hash:hash config
 *                       size:varint offset:varint len:varint data:len bytes
 *   SNAPSHOT_RESULT (8) status:u8 (0 ok, 1 corrupt) index:varint offset:varint
 *   TIMEOUT_NOW (9)     last_index:varint last_term:varint  (the leader's
 *                       log when it sent it; the body was empty before any
 *                       cluster ran this code, so the version stayed 1)
 *
 *   config              n:u8, n × (id:u64be role:u8)  (raft/config.h)
 *
 * Ranges checked (anything else is refused, naming the field): from, to
 * non-zero; entries per APPEND <= TCN_RAFT_MSG_ENTRIES_MAX; entry payload
 * <= TCN_RAFT_ENTRY_BYTES_MAX, all payloads <= TCN_RAFT_APPEND_BYTES_MAX;
 * entry type known; entry terms non-decreasing, >= prev_term, >= 1 and
 * <= the message term; prev_term <= the message term; prev_index 0 only
 * with prev_term 0 and a zero prev_hash (genesis); prev_index + n does not
 * overflow; a reject's hint_index <= index and hint_term <= term, other
 * statuses carry zero hints; snapshot index, term >= 1, term <= message term,
 * size <= TCN_RAFT_SNAPSHOT_BYTES_MAX, len <= TCN_RAFT_SNAPSHOT_CHUNK_BYTES_MAX,
 * offset + len <= size, an empty chunk only at the end, config valid with a
 * voter; a TimeoutNow's last_index >= 1 and last_term in [1, message term];
 * the whole message <= TCN_RAFT_MSG_BYTES_MAX; no trailing bytes.
 */

#include <stddef.h>
#include <stdint.h>

#include "raft/raft.h"
#include "util/buf.h"

#define TCN_RAFT_CODEC_VERSION 1

/* Holds the entry array of decoded messages, reused across decodes.
 * A zeroed struct is ready to use; tcn_raft_decoder_free releases it. */
typedef struct tcn_raft_decoder {
    tcn_raft_entry *entries;
    size_t cap;
} tcn_raft_decoder;

void tcn_raft_decoder_free(tcn_raft_decoder *d);

/* Decodes one message from p[0, len). Zero copy: entry payloads and the
 * snapshot chunk point into p, the entry array into d. Lifetime: the decoded
 * message is valid while p is unchanged and until the next decode with d or
 * its free. Entry hashes are NULL (the wire carries last_hash only). On
 * failure out is unspecified and err names the field. */
int tcn_raft_msg_decode(tcn_raft_decoder *d, const uint8_t *p, size_t len, tcn_raft_msg *out,
                        tcn_error *err) TCN_MUST_CHECK;

/* Appends the encoding of m to out. Refuses (TCN_ERR_USAGE, naming the
 * field) any message the decoder would refuse. */
int tcn_raft_msg_encode(const tcn_raft_msg *m, tcn_buf *out, tcn_error *err) TCN_MUST_CHECK;

/* Field-by-field equality of two messages of the same encoding (entry
 * payloads and chunks compared by content; entry hash pointers ignored). */
bool tcn_raft_msg_equal(const tcn_raft_msg *a, const tcn_raft_msg *b);

#endif
