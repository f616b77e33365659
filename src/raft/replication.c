/* Log replication: AppendEntries out (pipelined, batched) and in (hash-chain checked), heartbeats, commit. */
#include <string.h>

#include "raft/internal.h"
#include "util/assert.h"

tcn_raft_progress *tcn_raft_progress_find(tcn_raft *r, uint64_t id)
{
    for (uint32_t i = 0; i < r->n_prs; i++)
        if (r->prs[i].id == id)
            return &r->prs[i];
    return NULL;
}

int tcn_raft_leader_append(tcn_raft *r, uint8_t type, const uint8_t *data, uint32_t len)
{
    TCN_ASSERT(r->role == TCN_RAFT_LEADER);
    TCN_GUARD(tcn_raft_log_reserve(&r->log, 1, len));
    tcn_raft_config c;
    if (type == TCN_RAFT_ENTRY_CONFIG) {
        TCN_ASSERT(tcn_raft_config_parse(data, len, &c, NULL) == TCN_OK);
        TCN_GUARD(tcn_raft_confs_reserve(&r->confs, 1));
    }
    tcn_raft_log_append(&r->log, r->term, type, data, len);
    if (type == TCN_RAFT_ENTRY_CONFIG) {
        /* Raft thesis §4.1: in effect as soon as it is in the log. */
        tcn_raft_confs_push(&r->confs, tcn_raft_log_last(&r->log), &c);
        tcn_raft_note_config(r, &c);
        tcn_raft_config_changed(r);
    }
    r->dirty = true;
    return TCN_OK;
}

/* --- Leader: sending ----------------------------------------------------- */

void tcn_raft_send_append(tcn_raft *r, tcn_raft_progress *pr)
{
    const tcn_raft_log *l = &r->log;
    uint64_t last = tcn_raft_log_last(l);
    for (;;) {
        if (pr->state == TCN_RAFT_PROGRESS_SNAPSHOT) {
            tcn_raft_send_snapshot(r, pr);
            return;
        }
        if (pr->state == TCN_RAFT_PROGRESS_PROBE && pr->probe_sent)
            return;
        if (pr->state == TCN_RAFT_PROGRESS_REPLICATE &&
            (pr->next > last || tcn_raft_pr_inflight_full(pr, r->o.inflight_max)))
            return;
        TCN_ASSERT(pr->next >= 1 && pr->next <= last + 1);
        uint64_t prev = pr->next - 1;
        uint64_t prev_term;
        if (!tcn_raft_log_term(l, prev, &prev_term)) {
            /* The entries this follower needs are compacted: only the
             * snapshot can bring it up (Raft thesis §5.1). */
            TCN_ASSERT(r->snap.have && r->snap.index >= l->base_index);
            tcn_raft_pr_become_snapshot(pr, r->snap.index, r->snap.data.len);
            continue;
        }
        /* Batch: up to append_entries_max entries and append_bytes_max
         * payload bytes, but always at least one entry. */
        uint32_t n = 0;
        uint64_t bytes = 0;
        while (n < r->o.append_entries_max && pr->next + n <= last) {
            uint32_t len = tcn_raft_log_slot(l, pr->next + n)->len;
            if (n > 0 && bytes + len > r->o.append_bytes_max)
                break;
            bytes += len;
            n++;
        }
        tcn_raft_msg *m = tcn_raft_send(r, TCN_RAFT_MSG_APPEND, pr->id);
        tcn_raft_append *a = &m->append;
        a->prev_index = prev;
        a->prev_term = prev_term;
        memcpy(a->prev_hash, tcn_raft_log_hash(l, prev), TCN_SHA256_LEN);
        a->commit = r->commit;
        a->entries = NULL; /* resolved into views when the ready is built */
        a->n_entries = n;
        if (n > 0)
            memcpy(a->last_hash, tcn_raft_log_hash(l, prev + n), TCN_SHA256_LEN);
        if (pr->state == TCN_RAFT_PROGRESS_PROBE) {
            pr->probe_sent = true;
            pr->sent_ms = r->now;
            return;
        }
        /* REPLICATE: optimistic, pipelined (Raft thesis §10.2.2). */
        if (pr->in_count == 0)
            pr->sent_ms = r->now;
        pr->next = prev + n + 1;
        tcn_raft_pr_inflight_add(pr, prev + n);
    }
}

void tcn_raft_send_heartbeats(tcn_raft *r)
{
    for (uint32_t i = 0; i < r->n_prs; i++) {
        tcn_raft_progress *pr = &r->prs[i];
        tcn_raft_msg *m = tcn_raft_send(r, TCN_RAFT_MSG_HEARTBEAT, pr->id);
        /* Only as far as the follower's log is known to match ours. */
        m->heartbeat.commit = pr->match < r->commit ? pr->match : r->commit;
        m->heartbeat.read_seq = r->read_seq_sent;
    }
}

void tcn_raft_flush(tcn_raft *r)
{
    TCN_ASSERT(r->role == TCN_RAFT_LEADER);
    tcn_raft_maybe_commit(r);
    if (r->role != TCN_RAFT_LEADER)
        return;
    for (uint32_t i = 0; i < r->n_prs; i++)
        tcn_raft_send_append(r, &r->prs[i]);
    tcn_raft_reads_flush(r);
}

void tcn_raft_tick_leader(tcn_raft *r)
{
    if (r->now < r->heartbeat_deadline)
        return;
    r->heartbeat_deadline = r->now + r->o.heartbeat_ms;
    tcn_raft_send_heartbeats(r);
    /* Retransmission: what was sent and never answered within two
     * heartbeats is presumed lost. */
    uint64_t rto = 2ull * r->o.heartbeat_ms;
    for (uint32_t i = 0; i < r->n_prs; i++) {
        tcn_raft_progress *pr = &r->prs[i];
        uint64_t since = pr->last_ack_ms > pr->sent_ms ? pr->last_ack_ms : pr->sent_ms;
        if (r->now - since < rto)
            continue;
        if (pr->state == TCN_RAFT_PROGRESS_REPLICATE && pr->in_count > 0)
            tcn_raft_pr_become_probe(pr);
        else if (pr->state == TCN_RAFT_PROGRESS_PROBE)
            pr->probe_sent = false;
        else if (pr->state == TCN_RAFT_PROGRESS_SNAPSHOT)
            pr->snap_inflight = false;
    }
}

/* Raft thesis §3.6.2 and Figure 3.7: the leader commits an index once a
 * majority of voters hold it AND it is of the leader's own term; older
 * entries are committed only indirectly. */
bool tcn_raft_maybe_commit(tcn_raft *r)
{
    uint64_t m[TCN_RAFT_MEMBERS_MAX];
    uint32_t n = 0;
    if (tcn_raft_is_voter(r, r->id))
        m[n++] = tcn_raft_log_last(&r->log);
    for (uint32_t i = 0; i < r->n_prs; i++)
        if (tcn_raft_is_voter(r, r->prs[i].id))
            m[n++] = tcn_raft_match_counts(r, r->prs[i].id, r->prs[i].match) ? r->prs[i].match : 0;
    uint32_t q = tcn_raft_quorum(r);
    if (n < q)
        return false;
    for (uint32_t i = 1; i < n; i++) { /* insertion sort, descending; n <= 16 */
        uint64_t v = m[i];
        uint32_t j = i;
        while (j > 0 && m[j - 1] < v) {
            m[j] = m[j - 1];
            j--;
        }
        m[j] = v;
    }
    uint64_t c = m[q - 1];
    if (c <= r->commit)
        return false;
    if (tcn_raft_term_at(r, c) != r->term && !TCN_RAFT_BUG(r, TCN_RAFT_BUG_FIGURE8))
        return false;
    r->commit = c;
    tcn_raft_reads_on_commit(r);
    tcn_raft_membership_on_commit(r);
    return true;
}

/* --- Follower: receiving -------------------------------------------------- */

/* A message from the leader of our term: follow it, and restart the election timer. */
void tcn_raft_follower_contact(tcn_raft *r, const tcn_raft_msg *m)
{
    TCN_ASSERT(m->term == r->term && r->role != TCN_RAFT_LEADER);
    if (r->role != TCN_RAFT_FOLLOWER)
        tcn_raft_become_follower(r, r->term, m->from);
    r->leader = m->from;
    r->leader_contact_ms = r->now;
    tcn_raft_reset_election_timer(r);
}

static void reply_append(tcn_raft *r, const tcn_raft_msg *m, uint8_t status, uint64_t index)
{
    tcn_raft_msg *o = tcn_raft_send(r, TCN_RAFT_MSG_APPEND_RESULT, m->from);
    o->append_result.status = status;
    o->append_result.index = index;
}

/* The prev entry does not match: hint the largest index we hold, at or
 * below prev_index, whose term is <= prev_term, so the leader can skip a
 * whole term per round trip instead of one entry. */
static void reject(tcn_raft *r, const tcn_raft_msg *m)
{
    const tcn_raft_log *l = &r->log;
    uint64_t h = m->append.prev_index;
    if (h > tcn_raft_log_last(l))
        h = tcn_raft_log_last(l);
    while (h > l->base_index && tcn_raft_log_slot(l, h)->term > m->append.prev_term)
        h--;
    tcn_raft_msg *o = tcn_raft_send(r, TCN_RAFT_MSG_APPEND_RESULT, m->from);
    o->append_result.status = TCN_RAFT_APPEND_REJECT;
    o->append_result.index = m->append.prev_index;
    o->append_result.hint_index = h;
    o->append_result.hint_term = tcn_raft_term_at(r, h);
}

static int corrupt(tcn_raft *r, const tcn_raft_msg *m, uint64_t index)
{
    tcn_raft_report_fault(r, TCN_ERR_CORRUPT, m->from, index);
    reply_append(r, m, TCN_RAFT_APPEND_CORRUPT, index);
    return TCN_ERR_CORRUPT;
}

static bool entries_well_formed(const tcn_raft_msg *m)
{
    const tcn_raft_append *a = &m->append;
    if (a->n_entries > TCN_RAFT_MSG_ENTRIES_MAX || a->prev_index > UINT64_MAX - a->n_entries)
        return false;
    if (a->n_entries > 0 && a->entries == NULL)
        return false;
    uint64_t prev_term = a->prev_term;
    for (uint32_t i = 0; i < a->n_entries; i++) {
        const tcn_raft_entry *e = &a->entries[i];
        if (e->index != a->prev_index + 1 + i || e->term < prev_term || e->term > m->term ||
            e->len > TCN_RAFT_ENTRY_BYTES_MAX || (e->len > 0 && e->data == NULL) ||
            e->type < TCN_RAFT_ENTRY_NORMAL || e->type > TCN_RAFT_ENTRY_CONFIG)
            return false;
        prev_term = e->term;
    }
    return true;
}

int tcn_raft_recv_append(tcn_raft *r, const tcn_raft_msg *m)
{
    if (r->role == TCN_RAFT_LEADER)
        return TCN_OK; /* a second leader in our term: only a bug switch does that; the simulator's checker reports it */
    if (!entries_well_formed(m))
        return TCN_ERR_MALFORMED;
    tcn_raft_follower_contact(r, m);

    const tcn_raft_append *a = &m->append;
    tcn_raft_log *l = &r->log;
    uint64_t last = tcn_raft_log_last(l);
    uint32_t n = a->n_entries;
    bool skip = TCN_RAFT_BUG(r, TCN_RAFT_BUG_SKIP_LOG_MATCHING);

    if (a->prev_index > last) {
        reject(r, m);
        return TCN_OK;
    }
    /* Log matching (Raft thesis §3.5), strengthened by the hash chain: a
     * term mismatch is an ordinary divergence, a hash mismatch under an
     * equal term is corruption. */
    const uint8_t *chain = a->prev_hash;
    if (a->prev_index >= l->base_index) {
        uint64_t prev_term = tcn_raft_term_at(r, a->prev_index);
        /* The bug skips the check, but our log must still read as a log
         * (terms never go down): where it would not, it behaves correctly. */
        skip = skip && (n == 0 || prev_term <= a->entries[0].term);
        if (!skip) {
            if (prev_term != a->prev_term) {
                reject(r, m);
                return TCN_OK;
            }
            if (memcmp(tcn_raft_log_hash(l, a->prev_index), a->prev_hash, TCN_SHA256_LEN) != 0)
                return corrupt(r, m, a->prev_index);
        } else {
            chain = tcn_raft_log_hash(l, a->prev_index);
        }
    }

    /* Pass 1, read only: recompute every entry's hash from its predecessor,
     * compare with the entries we hold, find the first one to write. */
    tcn_raft_grow((void **)&r->scratch_hash, &r->cap_scratch, n, TCN_SHA256_LEN);
    uint64_t first_new = 0; /* 0: nothing to write */
    uint32_t n_configs = 0;
    const uint8_t *h = chain;
    for (uint32_t i = 0; i < n; i++) {
        const tcn_raft_entry *e = &a->entries[i];
        uint64_t idx = a->prev_index + 1 + i;
        tcn_raft_entry_hash(h, e->term, idx, e->type, e->data, e->len, r->scratch_hash[i]);
        h = r->scratch_hash[i];
        if (e->type == TCN_RAFT_ENTRY_CONFIG) {
            tcn_raft_config c;
            if (tcn_raft_config_parse(e->data, e->len, &c, NULL) != TCN_OK)
                return corrupt(r, m, idx);
            n_configs++;
        }
        if (first_new != 0 || idx < l->base_index)
            continue;
        if (idx == l->base_index) {
            if (!skip && (e->term != l->base_term || memcmp(h, l->base_hash, TCN_SHA256_LEN) != 0))
                return corrupt(r, m, idx);
            continue;
        }
        if (idx > last) {
            first_new = idx;
            continue;
        }
        const tcn_raft_slot *s = tcn_raft_log_slot(l, idx);
        if (s->term == e->term) {
            if (!skip && memcmp(h, s->hash, TCN_SHA256_LEN) != 0)
                return corrupt(r, m, idx);
            continue;
        }
        /* A conflict: ours from idx on is replaced (Raft thesis §3.5) —
         * never a committed entry, which every leader holds (§3.6.3). */
        if (idx <= r->commit)
            return corrupt(r, m, idx);
        first_new = idx;
    }
    if (n > 0 && !skip && memcmp(h, a->last_hash, TCN_SHA256_LEN) != 0)
        return corrupt(r, m, a->prev_index + n);

    /* Pass 2: write. Reserve first so that a failure leaves the log as it was. */
    if (first_new != 0) {
        uint32_t k0 = (uint32_t)(first_new - a->prev_index - 1);
        size_t bytes = 0;
        for (uint32_t i = k0; i < n; i++)
            bytes += a->entries[i].len;
        TCN_GUARD(tcn_raft_log_reserve(l, n - k0, bytes));
        TCN_GUARD(tcn_raft_confs_reserve(&r->confs, n_configs));
        bool conf_changed = false;
        if (first_new <= last) {
            tcn_raft_log_truncate_after(l, first_new - 1);
            conf_changed = tcn_raft_confs_truncate_after(&r->confs, first_new - 1);
        }
        for (uint32_t i = k0; i < n; i++) {
            const tcn_raft_entry *e = &a->entries[i];
            tcn_raft_log_append_hashed(l, e->term, e->type, e->data, e->len, r->scratch_hash[i]);
            if (e->type == TCN_RAFT_ENTRY_CONFIG) {
                tcn_raft_config c;
                TCN_ASSERT(tcn_raft_config_parse(e->data, e->len, &c, NULL) == TCN_OK);
                tcn_raft_confs_push(&r->confs, e->index, &c);
                tcn_raft_note_config(r, &c);
                conf_changed = true;
            }
        }
        if (conf_changed)
            tcn_raft_config_changed(r);
    }
    uint64_t last_new = a->prev_index + n;
    uint64_t c = a->commit < last_new ? a->commit : last_new;
    if (c > r->commit)
        r->commit = c;
    /* Our log matches the leader's up to last_new, and up to our commit
     * index anyway (Leader Completeness). */
    reply_append(r, m, TCN_RAFT_APPEND_OK, last_new > r->commit ? last_new : r->commit);
    return TCN_OK;
}

void tcn_raft_recv_heartbeat(tcn_raft *r, const tcn_raft_msg *m)
{
    if (r->role == TCN_RAFT_LEADER)
        return;
    tcn_raft_follower_contact(r, m);
    uint64_t c = m->heartbeat.commit;
    if (c > tcn_raft_log_last(&r->log))
        c = tcn_raft_log_last(&r->log);
    if (c > r->commit)
        r->commit = c;
    tcn_raft_msg *o = tcn_raft_send(r, TCN_RAFT_MSG_HEARTBEAT_RESULT, m->from);
    o->heartbeat_result.read_seq = m->heartbeat.read_seq;
}

/* --- Leader: answers ------------------------------------------------------ */

void tcn_raft_recv_append_result(tcn_raft *r, const tcn_raft_msg *m)
{
    if (r->role != TCN_RAFT_LEADER)
        return;
    tcn_raft_progress *pr = tcn_raft_progress_find(r, m->from);
    if (pr == NULL)
        return;
    pr->last_active_ms = r->now;
    const tcn_raft_append_result *a = &m->append_result;
    const tcn_raft_log *l = &r->log;
    uint64_t last = tcn_raft_log_last(l);
    switch (a->status) {
    case TCN_RAFT_APPEND_OK:
        if (a->index > last)
            return; /* claims entries we never had */
        pr->last_ack_ms = r->now;
        pr->corrupt_reported = false;
        if (tcn_raft_pr_update(pr, a->index)) {
            if (pr->state == TCN_RAFT_PROGRESS_SNAPSHOT && pr->match >= l->base_index)
                tcn_raft_pr_become_probe(pr);
            tcn_raft_transfer_on_match(r, pr);
            tcn_raft_maybe_commit(r);
        }
        return;
    case TCN_RAFT_APPEND_REJECT: {
        pr->last_ack_ms = r->now;
        /* Fast backtracking: the largest index at or below the hint whose
         * term in our log is <= the follower's term there. */
        uint64_t j = a->hint_index < last ? a->hint_index : last;
        while (j > l->base_index && tcn_raft_log_slot(l, j)->term > a->hint_term)
            j--;
        (void)tcn_raft_pr_decrease(pr, a->index, j + 1);
        return;
    }
    case TCN_RAFT_APPEND_CORRUPT:
        if (!pr->corrupt_reported) {
            tcn_raft_report_fault(r, TCN_ERR_CORRUPT, pr->id, a->index);
            pr->corrupt_reported = true;
        }
        /* Keep probing, slowly: one attempt per retransmission timeout. */
        tcn_raft_pr_become_probe(pr);
        pr->probe_sent = true;
        pr->sent_ms = r->now;
        return;
    default:
        return;
    }
}

void tcn_raft_recv_heartbeat_result(tcn_raft *r, const tcn_raft_msg *m)
{
    if (r->role != TCN_RAFT_LEADER)
        return;
    tcn_raft_progress *pr = tcn_raft_progress_find(r, m->from);
    if (pr == NULL)
        return;
    pr->last_active_ms = r->now;
    /* Only rounds we have sent can be confirmed: an answer for a later one
     * is not to be believed (it would confirm reads in advance). */
    if (m->heartbeat_result.read_seq > pr->read_ack && m->heartbeat_result.read_seq <= r->read_seq_sent) {
        pr->read_ack = m->heartbeat_result.read_seq;
        tcn_raft_reads_on_ack(r);
    }
    /* The follower is alive but lags: the probe (or its answer) may be lost. */
    if (pr->state == TCN_RAFT_PROGRESS_PROBE && pr->probe_sent && pr->match < tcn_raft_log_last(&r->log) &&
        !pr->corrupt_reported)
        pr->probe_sent = false;
}
