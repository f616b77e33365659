/* Single-server membership changes (Raft thesis §4.1–4.2): learners, promotion, removal, replace. */
#include "raft/internal.h"
#include "util/assert.h"

void tcn_raft_config_changed(tcn_raft *r)
{
    r->config_dirty = true;
    r->dirty = true;
    if (r->role == TCN_RAFT_LEADER)
        tcn_raft_sync_progress(r);
}

void tcn_raft_note_config(tcn_raft *r, const tcn_raft_config *c)
{
    if (tcn_raft_config_is_voter(c, r->id))
        r->ever_voter = true;
}

/* A voter's match counts toward commitment only when the configuration in
 * effect at that index already names it a voter: its log then holds the
 * entry that made it one, so it has set ever_voter and checks log recency
 * before every vote it grants from then on. A learner still catching up
 * below its promotion entry has not, and may grant a vote to a candidate
 * with an older log (tcn_raft_recv_vote); its copies must not have helped
 * commit anything. Indexes below the compacted prefix are at or below the
 * commit index and cannot move it, so they need no answer. */
bool tcn_raft_match_counts(const tcn_raft *r, uint64_t id, uint64_t match)
{
    if (match < r->confs.base.index)
        return false;
    return tcn_raft_config_is_voter(&tcn_raft_confs_at(&r->confs, match)->conf, id);
}

/* The leader tracks exactly the other members of the configuration in effect. */
void tcn_raft_sync_progress(tcn_raft *r)
{
    const tcn_raft_config *c = tcn_raft_conf(r);
    uint32_t k = 0;
    for (uint32_t i = 0; i < r->n_prs; i++) {
        if (tcn_raft_config_find(c, r->prs[i].id) == NULL)
            continue;
        if (k != i)
            r->prs[k] = r->prs[i];
        k++;
    }
    r->n_prs = k;
    uint64_t next = tcn_raft_log_last(&r->log) + 1;
    for (uint32_t i = 0; i < c->n; i++) {
        uint64_t id = c->members[i].id;
        if (id == r->id || tcn_raft_progress_find(r, id) != NULL)
            continue;
        TCN_ASSERT(r->n_prs < TCN_RAFT_MEMBERS_MAX);
        tcn_raft_pr_init(&r->prs[r->n_prs++], id, next, r->now);
    }
    if (r->transfer_target != 0 && !tcn_raft_config_is_voter(c, r->transfer_target))
        tcn_raft_transfer_abort(r);
}

static bool committed_in_term(const tcn_raft *r) { return tcn_raft_term_at(r, r->commit) == r->term; }

static int change_allowed(const tcn_raft *r)
{
    TCN_ASSERT(!r->in_ready);
    if (r->role != TCN_RAFT_LEADER)
        return TCN_ERR_NOT_LEADER;
    if (r->transfer_target != 0)
        return TCN_ERR_BUSY;
    /* One uncommitted change at a time (§4.1), and none before the leader
     * has committed an entry of its own term: otherwise two single-server
     * changes started by leaders of different terms can overlap (Ongaro,
     * raft-dev, "bug in single-server membership changes", 2015). */
    if (tcn_raft_confs_current(&r->confs)->index > r->commit || !committed_in_term(r))
        return TCN_ERR_BUSY;
    return TCN_OK;
}

static int propose_config(tcn_raft *r, const tcn_raft_config *c)
{
    uint8_t payload[TCN_RAFT_CONFIG_BYTES_MAX];
    size_t len = tcn_raft_config_write(c, payload);
    return tcn_raft_leader_append(r, TCN_RAFT_ENTRY_CONFIG, payload, (uint32_t)len);
}

int tcn_raft_add_learner(tcn_raft *r, uint64_t id)
{
    TCN_GUARD(change_allowed(r));
    if (id == 0 || tcn_raft_config_find(tcn_raft_conf(r), id) != NULL)
        return TCN_ERR_USAGE;
    tcn_raft_config c = *tcn_raft_conf(r);
    TCN_GUARD(tcn_raft_config_set(&c, id, TCN_RAFT_LEARNER));
    return propose_config(r, &c);
}

/* --- Is a learner caught up? (Raft thesis §4.2.1) -------------------------
 * A healthy follower trails a leader under write load by throughput x round
 * trip, however fast it is, so a lag counted in entries rejects it forever at
 * high rates. The thesis measures the lag in time (rounds of catching up,
 * the last shorter than an election timeout); here the leader keeps samples
 * of its last index over time, and a learner is caught up once it holds what
 * the leader held promote_lag_ms_max ago. */

static void lag_sample(tcn_raft *r)
{
    TCN_ASSERT(r->role == TCN_RAFT_LEADER);
    if (r->lag_term != r->term) { /* a new leadership: the log only grows within one */
        r->lag_start = r->lag_count = 0;
        r->lag_term = r->term;
    }
    uint64_t every = r->o.promote_lag_ms_max / (TCN_RAFT_LAG_SAMPLES / 2);
    if (r->lag_count > 0 &&
        r->now - r->lag[(r->lag_start + r->lag_count - 1) % TCN_RAFT_LAG_SAMPLES].ms < (every ? every : 1))
        return;
    if (r->lag_count == TCN_RAFT_LAG_SAMPLES) {
        r->lag_start = (r->lag_start + 1) % TCN_RAFT_LAG_SAMPLES;
        r->lag_count--;
    }
    uint32_t k = (r->lag_start + r->lag_count++) % TCN_RAFT_LAG_SAMPLES;
    r->lag[k].ms = r->now;
    r->lag[k].index = tcn_raft_log_last(&r->log);
}

/* The leader's last index promote_lag_ms_max ago (up to one sampling step
 * later); the oldest sample when the leadership is younger than that, which
 * is stricter. */
static uint64_t last_index_ago(tcn_raft *r)
{
    lag_sample(r);
    uint64_t window = r->o.promote_lag_ms_max;
    uint64_t index = r->lag[r->lag_start].index;
    for (uint32_t i = 0; i < r->lag_count; i++) {
        uint32_t k = (r->lag_start + i) % TCN_RAFT_LAG_SAMPLES;
        if (r->lag[k].ms + window > r->now)
            break;
        index = r->lag[k].index;
    }
    return index;
}

static bool caught_up(tcn_raft *r, const tcn_raft_progress *pr)
{
    if (pr->state == TCN_RAFT_PROGRESS_SNAPSHOT)
        return false;
    /* Within a few entries: what a quiet cluster needs. */
    if (pr->match + r->o.promote_lag_max >= tcn_raft_log_last(&r->log))
        return true;
    return pr->match >= last_index_ago(r);
}

int tcn_raft_promote(tcn_raft *r, uint64_t id)
{
    TCN_GUARD(change_allowed(r));
    const tcn_raft_member *mb = tcn_raft_config_find(tcn_raft_conf(r), id);
    if (mb == NULL || mb->role != TCN_RAFT_LEARNER)
        return TCN_ERR_USAGE;
    /* §4.2.1: a new voter that is far behind would stall commits. */
    const tcn_raft_progress *pr = tcn_raft_progress_find(r, id);
    TCN_ASSERT(pr != NULL);
    if (!caught_up(r, pr))
        return TCN_ERR_BUSY;
    tcn_raft_config c = *tcn_raft_conf(r);
    TCN_GUARD(tcn_raft_config_set(&c, id, TCN_RAFT_VOTER));
    return propose_config(r, &c);
}

int tcn_raft_remove(tcn_raft *r, uint64_t id)
{
    TCN_GUARD(change_allowed(r));
    const tcn_raft_config *cur = tcn_raft_conf(r);
    const tcn_raft_member *mb = tcn_raft_config_find(cur, id);
    if (mb == NULL)
        return TCN_ERR_USAGE;
    if (mb->role == TCN_RAFT_VOTER && tcn_raft_config_voters(cur) == 1)
        return TCN_ERR_USAGE; /* the last voter */
    tcn_raft_config c = *cur;
    tcn_raft_config_remove(&c, id);
    /* Removing ourselves is allowed: we lead without counting ourselves
     * until the change commits, then step down (§4.2.2). */
    return propose_config(r, &c);
}

int tcn_raft_replace(tcn_raft *r, uint64_t old_id, uint64_t new_id)
{
    TCN_GUARD(change_allowed(r));
    const tcn_raft_config *cur = tcn_raft_conf(r);
    if (old_id == new_id || !tcn_raft_config_is_voter(cur, old_id) || tcn_raft_config_find(cur, new_id) == NULL)
        return TCN_ERR_USAGE;
    if (tcn_raft_config_is_voter(cur, new_id))
        return tcn_raft_remove(r, old_id);
    /* Step 1 now; step 2 when step 1 is committed (membership_on_commit).
     * Going through {A,B,C,D} keeps every majority overlapping. */
    TCN_GUARD(tcn_raft_promote(r, new_id));
    r->replace_old = old_id;
    r->replace_new = new_id;
    return TCN_OK;
}

/* Step 2 of a managed replace, once step 1 is committed: remove old_id.
 * BUSY (a leadership transfer, say) retries at the next commit or tick: an
 * idle cluster commits nothing more, so the tick is what finishes it. */
static void replace_continue(tcn_raft *r)
{
    uint64_t old_id = r->replace_old, new_id = r->replace_new;
    const tcn_raft_config *cur = tcn_raft_conf(r);
    if (!tcn_raft_config_is_voter(cur, new_id) || tcn_raft_config_find(cur, old_id) == NULL) {
        r->replace_old = r->replace_new = 0; /* overtaken by other changes */
        return;
    }
    int rc = tcn_raft_remove(r, old_id);
    if (rc != TCN_ERR_BUSY)
        r->replace_old = r->replace_new = 0; /* done, or impossible */
}

void tcn_raft_membership_on_commit(tcn_raft *r)
{
    if (r->role != TCN_RAFT_LEADER || tcn_raft_confs_current(&r->confs)->index > r->commit)
        return;
    if (!tcn_raft_is_voter(r, r->id)) {
        /* §4.2.2: the configuration without us is committed. */
        tcn_raft_become_follower(r, r->term, 0);
        return;
    }
    if (r->replace_old != 0)
        replace_continue(r);
}

void tcn_raft_membership_tick(tcn_raft *r)
{
    lag_sample(r);
    if (r->replace_old != 0 && tcn_raft_confs_current(&r->confs)->index <= r->commit)
        replace_continue(r);
}
