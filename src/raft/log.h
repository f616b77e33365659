/* The in-memory Raft log: entry metadata in one array, payloads in one byte arena. */
#ifndef TCN_RAFT_LOG_H
#define TCN_RAFT_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "raft/raft.h"

/* One retained entry. The payload lives at arena[off, off + len). */
typedef struct tcn_raft_slot {
    uint64_t term;
    uint64_t off;
    uint32_t len;
    uint8_t type;
    uint8_t hash[TCN_SHA256_LEN];
} tcn_raft_slot;

/* Entries (base_index, base_index + n]; base_* describe the entry just below
 * the first retained one (the compacted prefix's last entry, or the genesis
 * point 0/0/zero-hash). Appending grows two buffers and never allocates per
 * entry. Views handed out point into the buffers: valid until the next
 * append, truncation or compaction. */
typedef struct tcn_raft_log {
    tcn_raft_slot *slots;
    size_t n;
    size_t cap;
    uint8_t *arena;
    size_t arena_len;
    size_t arena_cap;
    uint64_t base_index;
    uint64_t base_term;
    uint8_t base_hash[TCN_SHA256_LEN];
} tcn_raft_log;

void tcn_raft_log_init(tcn_raft_log *l);
void tcn_raft_log_free(tcn_raft_log *l);

static inline uint64_t tcn_raft_log_last(const tcn_raft_log *l) { return l->base_index + l->n; }
static inline uint64_t tcn_raft_log_first(const tcn_raft_log *l) { return l->base_index + 1; }
/* The slot of index, which must be retained (base_index < index <= last). */
static inline const tcn_raft_slot *tcn_raft_log_slot(const tcn_raft_log *l, uint64_t index)
{
    return &l->slots[index - l->base_index - 1];
}

/* Term of index: true when known (base_index <= index <= last). */
bool tcn_raft_log_term(const tcn_raft_log *l, uint64_t index, uint64_t *term);
/* Hash of index (base_index <= index <= last), else NULL. */
const uint8_t *tcn_raft_log_hash(const tcn_raft_log *l, uint64_t index);
uint64_t tcn_raft_log_last_term(const tcn_raft_log *l);
const uint8_t *tcn_raft_log_last_hash(const tcn_raft_log *l);
/* Payload bytes retained. */
static inline size_t tcn_raft_log_bytes(const tcn_raft_log *l) { return l->arena_len; }
/* Fills a view of a retained entry. */
void tcn_raft_log_view(const tcn_raft_log *l, uint64_t index, tcn_raft_entry *out);

/* Makes room for n more entries holding bytes payload bytes, so that the
 * following appends cannot fail. TCN_ERR_NOMEM / TCN_ERR_TOO_LARGE. */
int tcn_raft_log_reserve(tcn_raft_log *l, size_t n, size_t bytes) TCN_MUST_CHECK;
/* Appends at last + 1, computing the chain hash (leader side). Needs a
 * preceding successful reserve. */
void tcn_raft_log_append(tcn_raft_log *l, uint64_t term, uint8_t type, const uint8_t *data, uint32_t len);
/* Appends at last + 1 with a hash the caller already computed from the
 * predecessor's hash (follower side, after verification). */
void tcn_raft_log_append_hashed(tcn_raft_log *l, uint64_t term, uint8_t type, const uint8_t *data, uint32_t len,
                                const uint8_t hash[TCN_SHA256_LEN]);
/* Drops entries after index (base_index <= index <= last). */
void tcn_raft_log_truncate_after(tcn_raft_log *l, uint64_t index);
/* Drops entries up to and including index (base_index <= index <= last);
 * index becomes the new base. */
void tcn_raft_log_compact(tcn_raft_log *l, uint64_t index);
/* Drops every entry; the log continues after (index, term, hash). */
void tcn_raft_log_reset(tcn_raft_log *l, uint64_t index, uint64_t term, const uint8_t hash[TCN_SHA256_LEN]);

#endif
