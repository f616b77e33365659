/* The ready struct: outputs queued by the inputs, resolved into views, drained by advance. */
#include <string.h>

#include "raft/internal.h"
#include "util/assert.h"

tcn_raft_msg *tcn_raft_send(tcn_raft *r, uint8_t type, uint64_t to)
{
    tcn_raft_grow((void **)&r->out, &r->cap_out, r->n_out + 1, sizeof(tcn_raft_msg));
    tcn_raft_msg *m = &r->out[r->n_out++];
    memset(m, 0, sizeof(*m));
    m->type = type;
    m->from = r->id;
    m->to = to;
    m->term = r->term;
    r->dirty = true;
    return m;
}

void tcn_raft_report_fault(tcn_raft *r, int code, uint64_t peer, uint64_t index)
{
    if (r->n_faults < TCN_RAFT_FAULTS_MAX) {
        tcn_raft_fault *f = &r->faults[r->n_faults++];
        f->code = code;
        f->peer = peer;
        f->index = index;
    } else {
        r->n_faults_dropped++;
    }
    r->dirty = true;
}

/* A leader stepping down takes back the appends and chunks it queued: they
 * speak for a leadership that is over. */
void tcn_raft_drop_leader_msgs(tcn_raft *r)
{
    size_t k = 0;
    for (size_t i = 0; i < r->n_out; i++) {
        uint8_t t = r->out[i].type;
        if (t == TCN_RAFT_MSG_APPEND || t == TCN_RAFT_MSG_SNAPSHOT)
            continue;
        if (k != i)
            r->out[k] = r->out[i];
        k++;
    }
    r->n_out = k;
}

/* Queued appends and chunks name log ranges and snapshot offsets; here they
 * become views. Between here and advance nothing changes the log or the
 * snapshots (the latest and the kept ones), so the views stay valid. */
static void resolve_messages(tcn_raft *r)
{
    const tcn_raft_log *l = &r->log;
    uint64_t last = tcn_raft_log_last(l);
    size_t total = 0, k = 0;
    for (size_t i = 0; i < r->n_out; i++) {
        tcn_raft_msg *m = &r->out[i];
        if (m->type == TCN_RAFT_MSG_APPEND) {
            const tcn_raft_append *a = &m->append;
            if (r->role != TCN_RAFT_LEADER || m->term != r->term || a->prev_index < l->base_index ||
                a->prev_index + a->n_entries > last) {
                /* Compacted by a snapshot since it was queued: probe again. */
                tcn_raft_progress *pr = tcn_raft_progress_find(r, m->to);
                if (pr != NULL && pr->state != TCN_RAFT_PROGRESS_SNAPSHOT)
                    tcn_raft_pr_become_probe(pr);
                continue;
            }
            total += a->n_entries;
        } else if (m->type == TCN_RAFT_MSG_SNAPSHOT) {
            if (tcn_raft_snapshot_find(r, m->snapshot.index) == NULL) {
                tcn_raft_progress *pr = tcn_raft_progress_find(r, m->to);
                if (pr != NULL)
                    pr->snap_inflight = false;
                continue;
            }
        }
        if (k != i)
            r->out[k] = *m;
        k++;
    }
    r->n_out = k;
    tcn_raft_grow((void **)&r->out_entries, &r->cap_out_entries, total, sizeof(tcn_raft_entry));
    tcn_raft_entry *e = r->out_entries;
    for (size_t i = 0; i < r->n_out; i++) {
        tcn_raft_msg *m = &r->out[i];
        if (m->type == TCN_RAFT_MSG_APPEND) {
            m->append.entries = m->append.n_entries ? e : NULL;
            for (uint32_t j = 0; j < m->append.n_entries; j++)
                tcn_raft_log_view(l, m->append.prev_index + 1 + j, e++);
        } else if (m->type == TCN_RAFT_MSG_SNAPSHOT) {
            const tcn_raft_snap *sn = tcn_raft_snapshot_find(r, m->snapshot.index);
            TCN_ASSERT(sn != NULL && m->snapshot.offset + m->snapshot.len <= sn->data.len);
            m->snapshot.data = m->snapshot.len ? sn->data.p + m->snapshot.offset : NULL;
        }
    }
}

bool tcn_raft_has_ready(const tcn_raft *r)
{
    return r->dirty || r->n_out > 0 || r->commit > r->applied || r->restore_pending || r->n_reads_out > 0 ||
           r->n_faults > 0 || r->snap_wanted || r->config_dirty;
}

void tcn_raft_get_ready(tcn_raft *r, tcn_raft_ready *rd)
{
    TCN_ASSERT(!r->in_ready);
    memset(rd, 0, sizeof(*rd));
    if (r->role == TCN_RAFT_LEADER)
        tcn_raft_flush(r);
    resolve_messages(r);
    rd->msgs = r->out;
    rd->n_msgs = r->n_out;

    uint64_t from = r->applied;
    if (r->restore_pending) {
        tcn_raft_snapshot_view *v = &r->restore_view;
        v->index = r->snap.index;
        v->term = r->snap.term;
        v->hash = r->snap.hash;
        v->config = &r->snap.config;
        v->data = r->snap.data.p;
        v->len = r->snap.data.len;
        rd->snapshot = v;
        if (from < r->snap.index)
            from = r->snap.index;
    }
    uint64_t hi = r->commit;
    if (hi > from + TCN_RAFT_APPLY_BATCH_MAX)
        hi = from + TCN_RAFT_APPLY_BATCH_MAX;
    size_t n = hi > from ? (size_t)(hi - from) : 0;
    if (n > 0) {
        TCN_ASSERT(from >= r->log.base_index); /* compaction never passes the applied index */
        tcn_raft_grow((void **)&r->apply, &r->cap_apply, n, sizeof(tcn_raft_entry));
        for (size_t i = 0; i < n; i++)
            tcn_raft_log_view(&r->log, from + 1 + i, &r->apply[i]);
        rd->entries = r->apply;
        rd->n_entries = n;
    }
    r->applying = from + n;

    rd->snapshot_wanted = r->snap_wanted;
    rd->snapshot_wanted_index = r->snap_wanted_index;

    rd->role = r->role;
    rd->term = r->term;
    rd->leader = r->leader;
    rd->state_changed = r->role != r->rep_role || r->term != r->rep_term || r->leader != r->rep_leader;

    rd->reads = r->n_reads_out ? r->reads_out : NULL;
    rd->n_reads = r->n_reads_out;

    rd->config_changed = r->config_dirty;
    rd->config = tcn_raft_conf(r);
    rd->config_index = tcn_raft_confs_current(&r->confs)->index;

    rd->faults = r->n_faults ? r->faults : NULL;
    rd->n_faults = r->n_faults;
    rd->n_faults_dropped = r->n_faults_dropped;
    r->in_ready = true;
}

void tcn_raft_advance(tcn_raft *r)
{
    TCN_ASSERT(r->in_ready);
    r->in_ready = false;
    if (r->restore_pending) {
        if (r->applied < r->snap.index)
            r->applied = r->snap.index;
        r->restore_pending = false;
    }
    if (r->applying > r->applied)
        r->applied = r->applying;
    r->n_out = 0;
    r->n_reads_out = 0;
    r->n_faults = 0;
    r->n_faults_dropped = 0;
    r->snap_wanted = false;
    r->rep_role = r->role;
    r->rep_term = r->term;
    r->rep_leader = r->leader;
    r->config_dirty = false;
    r->dirty = false;
    tcn_raft_check_snapshot_wanted(r);
}
