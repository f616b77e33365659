/* Leader election: randomized timeouts, pre-vote, votes, role changes, check-quorum. */
#include "raft/internal.h"
#include "util/assert.h"

/* Raft thesis §3.4: a timeout drawn from [min, max) so that split votes are rare. */
void tcn_raft_reset_election_timer(tcn_raft *r)
{
    uint64_t span = (uint64_t)r->o.election_timeout_ms_max - r->o.election_timeout_ms_min;
    r->election_deadline = r->now + r->o.election_timeout_ms_min + tcn_raft_random(r) % span;
}

bool tcn_raft_heard_from_leader(const tcn_raft *r)
{
    if (r->role == TCN_RAFT_LEADER)
        return true;
    return r->leader != 0 && r->now - r->leader_contact_ms < r->o.election_timeout_ms_min;
}

void tcn_raft_become_follower(tcn_raft *r, uint64_t term, uint64_t leader)
{
    TCN_ASSERT(term >= r->term);
    if (term > r->term) {
        r->term = term;
        r->vote = 0;
    }
    if (r->role == TCN_RAFT_LEADER) {
        tcn_raft_reads_fail_all(r);
        tcn_raft_transfer_abort(r);
        r->replace_old = r->replace_new = 0;
        tcn_raft_drop_leader_msgs(r);
        r->n_prs = 0;
    }
    r->role = TCN_RAFT_FOLLOWER;
    r->leader = leader;
    r->n_votes = 0;
    r->transfer_prevote = false;
    if (leader != 0)
        r->leader_contact_ms = r->now;
    tcn_raft_reset_election_timer(r);
}

static void become_leader(tcn_raft *r)
{
    TCN_ASSERT(r->role == TCN_RAFT_CANDIDATE);
    r->role = TCN_RAFT_LEADER;
    r->leader = r->id;
    r->n_votes = 0;
    r->n_prs = 0;
    tcn_raft_sync_progress(r);
    r->heartbeat_deadline = r->now + r->o.heartbeat_ms;
    r->read_seq = r->read_seq_sent = 0;
    r->read_round_needed = false;
    TCN_ASSERT(r->reads_count == 0);
    r->transfer_target = 0;
    r->replace_old = r->replace_new = 0;
    /* Raft thesis §6.4 and §3.6.2: an entry of the new term, so that the
     * leader can commit (Figure 3.7 forbids committing older entries by
     * counting) and learn the commit index for ReadIndex. */
    int rc = tcn_raft_leader_append(r, TCN_RAFT_ENTRY_NOOP, NULL, 0);
    TCN_ASSERT(rc == TCN_OK); /* out of memory while taking office */
}

static void record_vote(tcn_raft *r, uint64_t id, bool granted)
{
    for (uint32_t i = 0; i < r->n_votes; i++)
        if (r->votes[i].id == id)
            return; /* a duplicate answer counts once */
    TCN_ASSERT(r->n_votes < TCN_RAFT_MEMBERS_MAX);
    r->votes[r->n_votes].id = id;
    r->votes[r->n_votes].v = granted ? 1 : 2;
    r->n_votes++;
}

enum { TALLY_PENDING, TALLY_WON, TALLY_LOST };

static int tally(const tcn_raft *r)
{
    uint32_t granted = 0, refused = 0;
    for (uint32_t i = 0; i < r->n_votes; i++) {
        if (!tcn_raft_is_voter(r, r->votes[i].id))
            continue; /* the configuration may have changed under the election */
        if (r->votes[i].v == 1)
            granted++;
        else
            refused++;
    }
    uint32_t q = tcn_raft_quorum(r);
    if (granted >= q)
        return TALLY_WON;
    if (refused > tcn_raft_config_voters(tcn_raft_conf(r)) - q)
        return TALLY_LOST;
    return TALLY_PENDING;
}

/* A voter campaigns. So does a server that an uncommitted configuration
 * removes (or demotes) while it was a voter in the one before: until that
 * change commits it may lead without counting itself (Raft thesis §4.2.2),
 * and its log may be the only one that can win; were it to sit still, a
 * healed majority of both configurations could wait forever for its vote
 * (found by tcn-sim; LogCabin keeps such a server campaigning the same way). */
static bool may_campaign(const tcn_raft *r)
{
    if (tcn_raft_is_voter(r, r->id))
        return true;
    const tcn_raft_conf_rec *cur = tcn_raft_confs_current(&r->confs);
    if (cur->index <= r->commit)
        return false;
    return tcn_raft_config_is_voter(&tcn_raft_confs_at(&r->confs, cur->index - 1)->conf, r->id);
}

/* Asks every other voter for its (pre-)vote in `term`. */
static void request_votes(tcn_raft *r, uint64_t term, bool pre_vote, bool transfer)
{
    const tcn_raft_config *c = tcn_raft_conf(r);
    uint64_t last = tcn_raft_log_last(&r->log);
    uint64_t last_term = tcn_raft_log_last_term(&r->log);
    for (uint32_t i = 0; i < c->n; i++) {
        const tcn_raft_member *mb = &c->members[i];
        if (mb->role != TCN_RAFT_VOTER || mb->id == r->id)
            continue;
        tcn_raft_msg *o = tcn_raft_send(r, TCN_RAFT_MSG_VOTE, mb->id);
        o->term = term;
        o->vote.last_index = last;
        o->vote.last_term = last_term;
        o->vote.pre_vote = pre_vote;
        o->vote.transfer = transfer;
    }
}

void tcn_raft_campaign(tcn_raft *r, bool pre_vote, bool transfer)
{
    TCN_ASSERT(r->role != TCN_RAFT_LEADER);
    TCN_ASSERT(may_campaign(r));
    uint64_t term;
    if (pre_vote) {
        /* Raft thesis §9.6: ask whether we could win before disturbing anyone's term. */
        r->role = TCN_RAFT_PRE_CANDIDATE;
        term = r->term + 1;
    } else {
        r->role = TCN_RAFT_CANDIDATE;
        r->term++;
        r->vote = r->id;
        term = r->term;
    }
    r->leader = 0;
    r->n_votes = 0;
    r->transfer_prevote = false;
    tcn_raft_reset_election_timer(r);
    record_vote(r, r->id, true);
    int t = tally(r);
    if (t == TALLY_WON) { /* the only voter */
        if (pre_vote)
            tcn_raft_campaign(r, false, transfer);
        else
            become_leader(r);
        return;
    }
    request_votes(r, term, pre_vote, transfer);
}

/* The leader of our term sent TimeoutNow (Raft thesis §3.10). The thesis
 * campaigns at once; but the TimeoutNow may be stale (the leader gave up the
 * transfer and went on) while our log still ends where the message says,
 * and a campaign would raise our term and so depose the leader for an
 * election we cannot win. So first a pre-vote (§9.6) flagged transfer, which
 * the voters answer despite their leader lease: up-to-date logs grant it,
 * and only then do we campaign. We stay the leader's follower meanwhile:
 * its heartbeats would cancel a pre-candidacy (RedisLabs/raft#88), and a
 * lost pre-vote leaves everything as it was. */
void tcn_raft_campaign_transfer(tcn_raft *r, uint64_t leader)
{
    TCN_ASSERT(r->role != TCN_RAFT_LEADER);
    if (r->role != TCN_RAFT_FOLLOWER)
        tcn_raft_become_follower(r, r->term, leader);
    r->leader = leader;
    r->leader_contact_ms = r->now;
    if (r->o.flags & TCN_RAFT_FLAG_NO_PRE_VOTE) {
        tcn_raft_campaign(r, false, true);
        return;
    }
    r->n_votes = 0;
    record_vote(r, r->id, true);
    if (tally(r) == TALLY_WON) {
        tcn_raft_campaign(r, false, true);
        return;
    }
    r->transfer_prevote = true;
    r->transfer_prevote_deadline = r->now + r->o.election_timeout_ms_min;
    request_votes(r, r->term + 1, true, true);
}

void tcn_raft_recv_vote(tcn_raft *r, const tcn_raft_msg *m)
{
    const tcn_raft_vote *v = &m->vote;
    /* Raft thesis §3.6.1: at most one vote per term, first come first served,
     * and only for a log at least as up to date as ours. */
    bool can_vote = r->vote == m->from || (r->vote == 0 && r->leader == 0);
    if (v->pre_vote && m->term > r->term)
        can_vote = true; /* a pre-vote binds nothing */
    if (!v->pre_vote && TCN_RAFT_BUG(r, TCN_RAFT_BUG_VOTE_TWICE))
        can_vote = true;
    uint64_t last = tcn_raft_log_last(&r->log);
    uint64_t last_term = tcn_raft_log_last_term(&r->log);
    bool up_to_date = v->last_term > last_term || (v->last_term == last_term && v->last_index >= last);
    /* A node no configuration has ever made a voter holds no copy that
     * counted toward a commit (tcn_raft_match_counts), so the recency check
     * protects nothing here; skipping it keeps a learner that alone holds a
     * dead leader's newest, uncommitted entries from blocking every election
     * once an uncommitted promotion elsewhere makes it a voter
     * (docs/SIMULATION.md, "A learner that blocked every election"). */
    if (!r->ever_voter)
        up_to_date = true;
    bool grant = can_vote && up_to_date;
    tcn_raft_msg *o = tcn_raft_send(r, TCN_RAFT_MSG_VOTE_RESULT, m->from);
    o->vote_result.pre_vote = v->pre_vote;
    o->vote_result.granted = grant;
    if (v->pre_vote) {
        if (grant)
            o->term = m->term; /* the pre-candidate counts answers for the term it asked about */
        return;
    }
    if (grant) {
        r->vote = m->from;
        tcn_raft_reset_election_timer(r);
    }
}

void tcn_raft_recv_vote_result(tcn_raft *r, const tcn_raft_msg *m)
{
    const tcn_raft_vote_result *v = &m->vote_result;
    /* A follower running a transfer's pre-vote (campaign_transfer) counts too. */
    bool transfer = v->pre_vote && r->role == TCN_RAFT_FOLLOWER && r->transfer_prevote &&
                    r->now < r->transfer_prevote_deadline && tcn_raft_is_voter(r, r->id);
    if (v->pre_vote) {
        if (r->role != TCN_RAFT_PRE_CANDIDATE && !transfer)
            return;
        if (v->granted && m->term != r->term + 1)
            return;
    } else if (r->role != TCN_RAFT_CANDIDATE || m->term != r->term) {
        return;
    }
    if (!tcn_raft_is_voter(r, m->from))
        return; /* learners never count */
    record_vote(r, m->from, v->granted);
    switch (tally(r)) {
    case TALLY_WON:
        if (v->pre_vote)
            tcn_raft_campaign(r, false, transfer);
        else
            become_leader(r);
        break;
    case TALLY_LOST:
        if (transfer)
            r->transfer_prevote = false; /* still the leader's follower */
        else
            tcn_raft_become_follower(r, r->term, 0);
        break;
    default:
        break;
    }
}

void tcn_raft_leader_unreachable(tcn_raft *r, uint64_t leader)
{
    TCN_ASSERT(!r->in_ready);
    if (leader == 0 || r->role != TCN_RAFT_FOLLOWER || r->leader != leader)
        return;
    r->leader = 0;
    r->dirty = true; /* the ready reports the leader as unknown */
    /* Every follower hears the same hint at once: spread their campaigns
     * over half the minimum election timeout, so that one wins before the
     * next starts (a split vote would cost a whole election timeout). */
    uint64_t spread = r->o.election_timeout_ms_min / 2 > 0 ? r->o.election_timeout_ms_min / 2 : 1;
    uint64_t at = r->now + tcn_raft_random(r) % spread;
    if (at < r->election_deadline)
        r->election_deadline = at;
}

void tcn_raft_tick_election(tcn_raft *r)
{
    if (r->now < r->election_deadline)
        return;
    if (!may_campaign(r)) {
        /* Learners and nodes outside the configuration never campaign. */
        tcn_raft_reset_election_timer(r);
        return;
    }
    tcn_raft_campaign(r, !(r->o.flags & TCN_RAFT_FLAG_NO_PRE_VOTE), false);
}

/* Check-quorum (Raft thesis §6.2): a leader that has not heard from a
 * majority within the minimum election timeout steps down, so an isolated
 * leader stops acting as one (and stops serving ReadIndex). */
void tcn_raft_check_quorum(tcn_raft *r)
{
    if (r->o.flags & TCN_RAFT_FLAG_NO_CHECK_QUORUM)
        return;
    uint32_t active = tcn_raft_is_voter(r, r->id) ? 1 : 0;
    for (uint32_t i = 0; i < r->n_prs; i++) {
        const tcn_raft_progress *pr = &r->prs[i];
        if (r->now - pr->last_active_ms < r->o.election_timeout_ms_min && tcn_raft_is_voter(r, pr->id))
            active++;
    }
    if (active < tcn_raft_quorum(r))
        tcn_raft_become_follower(r, r->term, 0);
}
