/* Leadership transfer (Raft thesis §3.10): catch the target up, then TimeoutNow. */
#include "raft/internal.h"
#include "util/assert.h"

int tcn_raft_transfer_leadership(tcn_raft *r, uint64_t target)
{
    TCN_ASSERT(!r->in_ready);
    if (r->role != TCN_RAFT_LEADER)
        return TCN_ERR_NOT_LEADER;
    if (target == r->id)
        return TCN_OK;
    if (!tcn_raft_is_voter(r, target))
        return TCN_ERR_USAGE;
    if (r->transfer_target != 0)
        return r->transfer_target == target ? TCN_OK : TCN_ERR_BUSY;
    tcn_raft_progress *pr = tcn_raft_progress_find(r, target);
    TCN_ASSERT(pr != NULL);
    /* The transfer gives up after one election timeout, and the leader
     * serves again: the target may be unreachable. */
    r->transfer_target = target;
    r->transfer_deadline = r->now + r->o.election_timeout_ms_min;
    r->timeout_now_sent = false;
    r->dirty = true;
    tcn_raft_transfer_on_match(r, pr);
    return TCN_OK;
}

/* Called whenever pr's match moves: once the target holds our whole log
 * (and proposals are refused, so the log stays put), tell it to campaign. */
void tcn_raft_transfer_on_match(tcn_raft *r, tcn_raft_progress *pr)
{
    if (r->transfer_target != pr->id || r->timeout_now_sent)
        return;
    if (pr->match != tcn_raft_log_last(&r->log))
        return; /* flush keeps replicating to it */
    tcn_raft_msg *m = tcn_raft_send(r, TCN_RAFT_MSG_TIMEOUT_NOW, pr->id);
    m->timeout_now.last_index = tcn_raft_log_last(&r->log);
    m->timeout_now.last_term = tcn_raft_log_last_term(&r->log);
    r->timeout_now_sent = true;
}

void tcn_raft_transfer_tick(tcn_raft *r)
{
    if (r->transfer_target == 0 || r->now < r->transfer_deadline)
        return;
    bool sent = r->timeout_now_sent;
    tcn_raft_transfer_abort(r);
    if (sent) {
        /* The TimeoutNow may still be on its way. A new entry makes it stale
         * at a target that receives the entry first (its log no longer ends
         * where the message says; tikv/raft-rs#234); a target that does not
         * is left to its pre-vote, which the others refuse. Out of memory
         * here only loses the first of these two guards. */
        int rc = tcn_raft_leader_append(r, TCN_RAFT_ENTRY_NOOP, NULL, 0);
        (void)rc;
    }
}

void tcn_raft_transfer_abort(tcn_raft *r)
{
    r->transfer_target = 0;
    r->timeout_now_sent = false;
}

void tcn_raft_recv_timeout_now(tcn_raft *r, const tcn_raft_msg *m)
{
    /* handle_term made m->term ours: m->from led this term. We may know no
     * leader (0) because our election timer fired since it was sent and we
     * are a (pre-)candidate of this term; the transfer still stands. */
    if (r->role == TCN_RAFT_LEADER || (r->leader != 0 && m->from != r->leader) || !tcn_raft_is_voter(r, r->id))
        return;
    /* Sent before the leader went on (a transfer that timed out): stale. */
    if (tcn_raft_log_last(&r->log) != m->timeout_now.last_index ||
        tcn_raft_log_last_term(&r->log) != m->timeout_now.last_term)
        return;
    tcn_raft_campaign_transfer(r, m->from);
}
