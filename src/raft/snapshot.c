/* Snapshots: taking one (compaction), chunked InstallSnapshot out and in, asking for one. */
#include <string.h>

#include "raft/internal.h"
#include "util/assert.h"

_Static_assert(TCN_RAFT_SNAPSHOTS_RETAINED_MAX >= 1, "a transfer must be able to keep its snapshot");

/* --- Leader: the snapshots transfers are sending ------------------------- */

/* A transfer sends the snapshot it started with to the end, even when the
 * application takes newer ones meanwhile: restarting at every new snapshot
 * never finishes when snapshots come faster than a transfer lasts. */

const tcn_raft_snap *tcn_raft_snapshot_find(const tcn_raft *r, uint64_t index)
{
    if (r->snap.have && r->snap.index == index)
        return &r->snap;
    for (uint32_t i = 0; i < TCN_RAFT_SNAPSHOTS_RETAINED_MAX; i++)
        if (r->snap_kept[i].have && r->snap_kept[i].index == index)
            return &r->snap_kept[i];
    return NULL;
}

/* Bytes the most advanced transfer of snapshot `index` has yet to send;
 * UINT64_MAX when no transfer sends it. */
static uint64_t bytes_to_go(const tcn_raft *r, uint64_t index)
{
    uint64_t best = UINT64_MAX;
    if (r->role != TCN_RAFT_LEADER)
        return best;
    for (uint32_t i = 0; i < r->n_prs; i++) {
        const tcn_raft_progress *pr = &r->prs[i];
        if (pr->state != TCN_RAFT_PROGRESS_SNAPSHOT || pr->snap_index != index)
            continue;
        uint64_t left = pr->snap_size > pr->snap_offset ? pr->snap_size - pr->snap_offset : 0;
        if (left < best)
            best = left;
    }
    return best;
}

static void drop(tcn_raft_snap *s)
{
    tcn_buf_free_wipe(&s->data); /* snapshots hold the application's secrets */
    memset(s, 0, sizeof(*s));
}

void tcn_raft_snapshots_release(tcn_raft *r)
{
    for (uint32_t i = 0; i < TCN_RAFT_SNAPSHOTS_RETAINED_MAX; i++)
        if (r->snap_kept[i].have && bytes_to_go(r, r->snap_kept[i].index) == UINT64_MAX)
            drop(&r->snap_kept[i]);
}

/* The latest snapshot is about to be replaced: keep it if a transfer sends
 * it. With every slot taken, the snapshot (this one or a kept one) whose
 * most advanced transfer has the most bytes to go is dropped; its transfers
 * start over with the latest (send_snapshot). The most advanced transfer
 * is never the one dropped, so transfers keep finishing. */
static void retire_latest(tcn_raft *r)
{
    tcn_raft_snapshots_release(r);
    tcn_raft_snap *old = &r->snap;
    uint64_t worst = old->have ? bytes_to_go(r, old->index) : UINT64_MAX;
    if (worst == UINT64_MAX) {
        tcn_buf_free_wipe(&old->data);
        return;
    }
    tcn_raft_snap *slot = NULL;
    for (uint32_t i = 0; i < TCN_RAFT_SNAPSHOTS_RETAINED_MAX && slot == NULL; i++)
        if (!r->snap_kept[i].have)
            slot = &r->snap_kept[i];
    if (slot == NULL) {
        /* Every kept one is being sent (release above freed the others). */
        for (uint32_t i = 0; i < TCN_RAFT_SNAPSHOTS_RETAINED_MAX; i++) {
            uint64_t left = bytes_to_go(r, r->snap_kept[i].index);
            if (left > worst) {
                worst = left;
                slot = &r->snap_kept[i];
            }
        }
    }
    if (slot == NULL) {
        tcn_buf_free_wipe(&old->data); /* the least advanced itself */
        return;
    }
    drop(slot);
    *slot = *old; /* the buffer moves */
    old->data = (tcn_buf){0};
}

/* --- Leader: one chunk at a time, each acknowledged ----------------------- */

void tcn_raft_send_snapshot(tcn_raft *r, tcn_raft_progress *pr)
{
    TCN_ASSERT(r->snap.have);
    const tcn_raft_snap *sn = tcn_raft_snapshot_find(r, pr->snap_index);
    if (sn == NULL) {
        /* Its snapshot was dropped (retire_latest): start over with the latest. */
        tcn_raft_pr_become_snapshot(pr, r->snap.index, r->snap.data.len);
        sn = &r->snap;
    }
    if (pr->snap_inflight)
        return;
    uint64_t size = sn->data.len;
    TCN_ASSERT(size == pr->snap_size);
    uint64_t off = pr->snap_offset <= size ? pr->snap_offset : 0;
    uint64_t len = size - off;
    if (len > r->o.snapshot_chunk_bytes)
        len = r->o.snapshot_chunk_bytes;
    tcn_raft_msg *m = tcn_raft_send(r, TCN_RAFT_MSG_SNAPSHOT, pr->id);
    tcn_raft_snapshot_chunk *s = &m->snapshot;
    s->index = sn->index;
    s->term = sn->term;
    memcpy(s->hash, sn->hash, TCN_SHA256_LEN);
    s->config = sn->config;
    s->size = size;
    s->offset = off;
    s->data = NULL; /* resolved when the ready is built */
    s->len = (uint32_t)len;
    pr->snap_inflight = true;
    pr->sent_ms = r->now;
}

void tcn_raft_recv_snapshot_result(tcn_raft *r, const tcn_raft_msg *m)
{
    if (r->role != TCN_RAFT_LEADER)
        return;
    tcn_raft_progress *pr = tcn_raft_progress_find(r, m->from);
    if (pr == NULL)
        return;
    pr->last_active_ms = r->now;
    const tcn_raft_snapshot_result *s = &m->snapshot_result;
    if (pr->state != TCN_RAFT_PROGRESS_SNAPSHOT || s->index != pr->snap_index)
        return; /* stale */
    pr->last_ack_ms = r->now;
    if (s->status == TCN_RAFT_SNAPSHOT_CORRUPT) {
        if (!pr->corrupt_reported) {
            tcn_raft_report_fault(r, TCN_ERR_CORRUPT, pr->id, s->index);
            pr->corrupt_reported = true;
        }
        tcn_raft_pr_become_probe(pr);
        pr->probe_sent = true;
        pr->sent_ms = r->now;
        return;
    }
    if (s->offset >= pr->snap_size) {
        /* Installed, even if we hold a newer snapshot by now: the follower's
         * log matches ours up to this one. Probing continues from the log if
         * it still holds snap_index + 1, else with the latest snapshot
         * (send_append). */
        if (pr->match < pr->snap_index)
            pr->match = pr->snap_index;
        tcn_raft_pr_become_probe(pr);
        tcn_raft_transfer_on_match(r, pr);
        tcn_raft_maybe_commit(r);
        return;
    }
    /* One answer moves the transfer on by one chunk. An answer that does not
     * advance it is a duplicate or a late copy: acting on it would send a
     * second chunk while one is in flight, and every copy of that chunk's
     * answer another, until the messages multiply without bound (tcn-sim
     * --seed 67 --steps 20000 --workload payouts found the storm; docs/
     * SIMULATION.md). A lost answer is covered by the retransmission timer
     * (tcn_raft_tick_leader); a follower that lost the transfer says
     * RESTART. */
    if (s->status == TCN_RAFT_SNAPSHOT_RESTART) {
        pr->snap_offset = 0;
        pr->snap_inflight = false;
        return;
    }
    if (s->offset <= pr->snap_offset)
        return;
    pr->snap_offset = s->offset;
    pr->snap_inflight = false;
}

/* --- Follower ------------------------------------------------------------- */

static void reply(tcn_raft *r, const tcn_raft_msg *m, uint8_t status, uint64_t offset)
{
    tcn_raft_msg *o = tcn_raft_send(r, TCN_RAFT_MSG_SNAPSHOT_RESULT, m->from);
    o->snapshot_result.status = status;
    o->snapshot_result.index = m->snapshot.index;
    o->snapshot_result.offset = offset;
}

static bool chunk_well_formed(const tcn_raft_msg *m)
{
    const tcn_raft_snapshot_chunk *s = &m->snapshot;
    return s->index != 0 && s->term != 0 && s->term <= m->term && s->size <= TCN_RAFT_SNAPSHOT_BYTES_MAX &&
           s->offset <= s->size && s->len <= s->size - s->offset && s->len <= TCN_RAFT_SNAPSHOT_CHUNK_BYTES_MAX &&
           (s->len == 0 || s->data != NULL) && tcn_raft_config_valid(&s->config) &&
           tcn_raft_config_voters(&s->config) > 0;
}

/* The last chunk arrived: replace the log's prefix with the snapshot
 * (Raft thesis §5.1). */
static int install(tcn_raft *r, const tcn_raft_msg *m)
{
    tcn_raft_snap *rx = &r->rx;
    tcn_raft_log *l = &r->log;
    uint64_t t;
    bool keep_suffix = false;
    if (tcn_raft_log_term(l, rx->index, &t) && t == rx->term) {
        if (memcmp(tcn_raft_log_hash(l, rx->index), rx->hash, TCN_SHA256_LEN) != 0) {
            tcn_raft_report_fault(r, TCN_ERR_CORRUPT, m->from, rx->index);
            rx->have = false;
            reply(r, m, TCN_RAFT_SNAPSHOT_CORRUPT, 0);
            return TCN_ERR_CORRUPT;
        }
        /* We hold the snapshot's last entry: keep what follows it. */
        keep_suffix = true;
    }
    if (keep_suffix) {
        tcn_raft_log_compact(l, rx->index);
        tcn_raft_confs_compact(&r->confs, rx->index);
        r->confs.base.index = rx->index;
        r->confs.base.conf = rx->config;
    } else {
        tcn_raft_log_reset(l, rx->index, rx->term, rx->hash);
        tcn_raft_confs_reset(&r->confs, rx->index, &rx->config);
    }
    TCN_ASSERT(rx->index > r->commit);
    r->commit = rx->index;
    /* The received snapshot becomes ours (a later leader may send it on);
     * the old buffer is kept for the next transfer. */
    tcn_buf spare = r->snap.data;
    r->snap = *rx;
    r->snap.have = true;
    rx->data = spare;
    rx->data.len = 0;
    rx->have = false;
    r->restore_pending = true;
    tcn_raft_note_config(r, &r->snap.config);
    tcn_raft_config_changed(r);
    reply(r, m, TCN_RAFT_SNAPSHOT_OK, r->snap.size);
    return TCN_OK;
}

int tcn_raft_recv_snapshot(tcn_raft *r, const tcn_raft_msg *m)
{
    if (r->role == TCN_RAFT_LEADER)
        return TCN_OK; /* two leaders in one term: see recv_append */
    if (!chunk_well_formed(m))
        return TCN_ERR_MALFORMED;
    tcn_raft_follower_contact(r, m);
    const tcn_raft_snapshot_chunk *s = &m->snapshot;
    if (s->index <= r->commit) {
        /* Everything in it is committed here already. */
        reply(r, m, TCN_RAFT_SNAPSHOT_OK, s->size);
        return TCN_OK;
    }
    tcn_raft_snap *rx = &r->rx;
    bool same = rx->have && rx->index == s->index && rx->term == s->term && rx->size == s->size &&
                memcmp(rx->hash, s->hash, TCN_SHA256_LEN) == 0 && tcn_raft_config_equal(&rx->config, &s->config);
    if (!same) {
        if (s->offset != 0) {
            reply(r, m, TCN_RAFT_SNAPSHOT_RESTART, 0); /* start over from the beginning */
            return TCN_OK;
        }
        rx->have = true;
        rx->index = s->index;
        rx->term = s->term;
        memcpy(rx->hash, s->hash, TCN_SHA256_LEN);
        rx->config = s->config;
        rx->size = s->size;
        rx->data.len = 0;
    }
    if (s->offset != rx->data.len) {
        reply(r, m, TCN_RAFT_SNAPSHOT_OK, rx->data.len); /* duplicate or out of order */
        return TCN_OK;
    }
    TCN_GUARD(tcn_buf_append(&rx->data, s->data, s->len));
    if (rx->data.len < rx->size) {
        reply(r, m, TCN_RAFT_SNAPSHOT_OK, rx->data.len);
        return TCN_OK;
    }
    return install(r, m);
}

/* --- The application's side ----------------------------------------------- */

int tcn_raft_snapshot_done(tcn_raft *r, uint64_t index, const void *data, size_t len)
{
    TCN_ASSERT(!r->in_ready);
    if (index == 0 || index > r->applied)
        return TCN_ERR_USAGE; /* a snapshot is of applied state */
    if (len > TCN_RAFT_SNAPSHOT_BYTES_MAX)
        return TCN_ERR_TOO_LARGE;
    if ((r->snap.have && index <= r->snap.index) || index < r->log.base_index)
        return TCN_OK; /* older than the one we hold */
    tcn_buf copy = {0};
    TCN_GUARD(tcn_buf_append(&copy, data, len));
    retire_latest(r);
    r->snap.data = copy;
    r->snap.have = true;
    r->snap.index = index;
    r->snap.term = tcn_raft_term_at(r, index);
    memcpy(r->snap.hash, tcn_raft_log_hash(&r->log, index), TCN_SHA256_LEN);
    r->snap.config = tcn_raft_confs_at(&r->confs, index)->conf;
    r->snap.size = len;
    /* Compaction keeps a trailing window so followers that lag a little
     * catch up from the log, not from a snapshot. */
    uint64_t base = index > r->o.snapshot_trailing ? index - r->o.snapshot_trailing : 0;
    if (base > r->log.base_index) {
        tcn_raft_log_compact(&r->log, base);
        tcn_raft_confs_compact(&r->confs, base);
    }
    r->snap_wanted_armed = true;
    r->snap_wanted = false;
    r->dirty = true;
    return TCN_OK;
}

/* Asks once the log grew by more than the limits since the last snapshot
 * (not since the compacted prefix: the trailing entries kept below a
 * snapshot must not trigger the next one). */
void tcn_raft_check_snapshot_wanted(tcn_raft *r)
{
    if (!r->snap_wanted_armed)
        return;
    const tcn_raft_log *l = &r->log;
    uint64_t since = r->snap.have && r->snap.index > l->base_index ? r->snap.index : l->base_index;
    if (r->applied <= since)
        return;
    size_t off = 0;
    if (since > l->base_index) {
        const tcn_raft_slot *s = tcn_raft_log_slot(l, since);
        off = (size_t)(s->off + s->len);
    }
    uint64_t entries = r->applied - since;
    uint64_t bytes = tcn_raft_log_bytes(l) - off;
    if (entries > r->o.snapshot_entries_max || bytes > r->o.snapshot_log_bytes_max) {
        r->snap_wanted = true;
        r->snap_wanted_index = r->applied;
        r->snap_wanted_armed = false;
        r->dirty = true;
    }
}
