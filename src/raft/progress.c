/* Per-follower progress: state transitions and the ring of in-flight appends. */
#include "raft/progress.h"

#include <string.h>

#include "util/assert.h"

void tcn_raft_pr_init(tcn_raft_progress *pr, uint64_t id, uint64_t next, uint64_t now_ms)
{
    memset(pr, 0, sizeof(*pr));
    pr->id = id;
    pr->next = next;
    pr->state = TCN_RAFT_PROGRESS_PROBE;
    /* A new leader gives every peer one election timeout before check-quorum counts it missing. */
    pr->last_active_ms = now_ms;
    pr->last_ack_ms = now_ms;
}

static void reset_inflight(tcn_raft_progress *pr)
{
    pr->in_start = 0;
    pr->in_count = 0;
}

void tcn_raft_pr_become_probe(tcn_raft_progress *pr)
{
    pr->state = TCN_RAFT_PROGRESS_PROBE;
    pr->next = pr->match + 1;
    pr->probe_sent = false;
    pr->snap_inflight = false;
    reset_inflight(pr);
}

void tcn_raft_pr_become_replicate(tcn_raft_progress *pr)
{
    pr->state = TCN_RAFT_PROGRESS_REPLICATE;
    pr->next = pr->match + 1;
    pr->probe_sent = false;
    reset_inflight(pr);
}

void tcn_raft_pr_become_snapshot(tcn_raft_progress *pr, uint64_t snap_index, uint64_t snap_size)
{
    pr->state = TCN_RAFT_PROGRESS_SNAPSHOT;
    pr->snap_index = snap_index;
    pr->snap_size = snap_size;
    pr->snap_offset = 0;
    pr->snap_inflight = false;
    pr->probe_sent = false;
    reset_inflight(pr);
}

bool tcn_raft_pr_inflight_full(const tcn_raft_progress *pr, uint32_t max) { return pr->in_count >= max; }

void tcn_raft_pr_inflight_add(tcn_raft_progress *pr, uint64_t last_index)
{
    TCN_ASSERT(pr->in_count < TCN_RAFT_INFLIGHT_MAX);
    /* Appends go out in log order, so the ring stays sorted. */
    TCN_ASSERT(pr->in_count == 0 ||
               pr->inflight[(pr->in_start + pr->in_count - 1) % TCN_RAFT_INFLIGHT_MAX] < last_index);
    pr->inflight[(pr->in_start + pr->in_count) % TCN_RAFT_INFLIGHT_MAX] = last_index;
    pr->in_count++;
}

void tcn_raft_pr_inflight_free_to(tcn_raft_progress *pr, uint64_t index)
{
    while (pr->in_count > 0 && pr->inflight[pr->in_start] <= index) {
        pr->in_start = (pr->in_start + 1) % TCN_RAFT_INFLIGHT_MAX;
        pr->in_count--;
    }
}

bool tcn_raft_pr_update(tcn_raft_progress *pr, uint64_t index)
{
    bool moved = false;
    if (index > pr->match) {
        pr->match = index;
        moved = true;
    }
    if (pr->next < index + 1)
        pr->next = index + 1;
    tcn_raft_pr_inflight_free_to(pr, index);
    if (pr->state == TCN_RAFT_PROGRESS_PROBE && index >= pr->match) {
        /* The probe found where the logs match: pipeline from here. */
        tcn_raft_pr_become_replicate(pr);
        moved = true;
    }
    return moved;
}

bool tcn_raft_pr_decrease(tcn_raft_progress *pr, uint64_t rejected, uint64_t probe_next)
{
    if (pr->state == TCN_RAFT_PROGRESS_REPLICATE) {
        /* A rejection at or below match answers an append sent before the
         * logs were known to match: stale. */
        if (rejected <= pr->match)
            return false;
        tcn_raft_pr_become_probe(pr);
    } else if (pr->state == TCN_RAFT_PROGRESS_PROBE) {
        /* Only the answer to the outstanding probe counts. */
        if (rejected != pr->next - 1)
            return false;
    } else {
        return false;
    }
    uint64_t next = rejected < probe_next ? rejected : probe_next;
    if (next < pr->match + 1)
        next = pr->match + 1;
    pr->next = next;
    pr->probe_sent = false;
    return true;
}
