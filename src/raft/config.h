/* Configurations: value helpers, their byte encoding, and the history kept along the log. */
#ifndef TCN_RAFT_CONFIG_H
#define TCN_RAFT_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "raft/raft.h"
#include "util/buf.h"
#include "util/cursor.h"

/* Encoding (CONFIG entry payloads and the config of a snapshot chunk):
 *   n:u8, then n × (id:u64be, role:u8)
 * ids non-zero and strictly ascending, role 1 (voter) or 2 (learner),
 * n <= TCN_RAFT_MEMBERS_MAX. */
#define TCN_RAFT_CONFIG_BYTES_MAX (1u + 9u * TCN_RAFT_MEMBERS_MAX)

/* Writes c into out[TCN_RAFT_CONFIG_BYTES_MAX]; returns the length. */
size_t tcn_raft_config_write(const tcn_raft_config *c, uint8_t *out);
int tcn_raft_config_put(tcn_buf *b, const tcn_raft_config *c) TCN_MUST_CHECK;
/* Reads and validates; err names the failing field. */
int tcn_raft_config_get(tcn_cursor *cur, tcn_raft_config *out, tcn_error *err) TCN_MUST_CHECK;
/* A whole CONFIG payload: exactly one configuration with at least one voter. */
int tcn_raft_config_parse(const uint8_t *p, size_t len, tcn_raft_config *out, tcn_error *err) TCN_MUST_CHECK;
/* Structural validity of a value (sorted, unique, roles known). */
bool tcn_raft_config_valid(const tcn_raft_config *c);

/* Adds id with role, or changes its role. TCN_ERR_TOO_LARGE when full. */
int tcn_raft_config_set(tcn_raft_config *c, uint64_t id, uint8_t role) TCN_MUST_CHECK;
void tcn_raft_config_remove(tcn_raft_config *c, uint64_t id);
bool tcn_raft_config_equal(const tcn_raft_config *a, const tcn_raft_config *b);

/* The configurations along the log (Raft thesis §4.1: a configuration is in
 * effect as soon as its entry is in the log, committed or not). `base` is in
 * effect at the log's compacted prefix; `hist` holds the CONFIG entries still
 * in the log, in index order. */
typedef struct tcn_raft_conf_rec {
    uint64_t index;
    tcn_raft_config conf;
} tcn_raft_conf_rec;

typedef struct tcn_raft_confs {
    tcn_raft_conf_rec base;
    tcn_raft_conf_rec *hist;
    size_t n;
    size_t cap;
} tcn_raft_confs;

void tcn_raft_confs_free(tcn_raft_confs *cs);
const tcn_raft_conf_rec *tcn_raft_confs_current(const tcn_raft_confs *cs);
/* The configuration in effect at index (index >= base.index). */
const tcn_raft_conf_rec *tcn_raft_confs_at(const tcn_raft_confs *cs, uint64_t index);
/* Room for n more records, so that pushes cannot fail. */
int tcn_raft_confs_reserve(tcn_raft_confs *cs, size_t n) TCN_MUST_CHECK;
void tcn_raft_confs_push(tcn_raft_confs *cs, uint64_t index, const tcn_raft_config *c);
/* Forgets records above index; true when the configuration in effect changed. */
bool tcn_raft_confs_truncate_after(tcn_raft_confs *cs, uint64_t index);
/* Folds records at or below index into base. */
void tcn_raft_confs_compact(tcn_raft_confs *cs, uint64_t index);
void tcn_raft_confs_reset(tcn_raft_confs *cs, uint64_t index, const tcn_raft_config *c);

#endif
