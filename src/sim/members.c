/* The membership manager: joins new nodes as learners, replaces dead members, retires removed ones, keeps the voter count at its target. */
#include "sim/sim.h"

/*
 * What an operator's automation does around a memory-only cluster (DESIGN
 * §6): a node that boots has a new id and no state; the leader adds it as a
 * learner; a voter whose id no longer runs anywhere (its machine crashed) is
 * replaced by a caught-up learner (tcn_raft_replace: promote, then remove the
 * dead one once that is committed); a node removed from the configuration is
 * shut down and its machine later boots a fresh node. The membership fault
 * moves the voter target within [n-1, n+1] (never below 3) and provisions
 * spare machines, so changes happen while the other faults do.
 *
 * One step at a time: nothing is asked while the leader's latest
 * configuration is uncommitted. Every request goes through
 * chk_member_change, which checks what the leader accepted.
 */

void members_init(sim *s)
{
    sim_members *m = &s->members;
    m->voters_target = s->n_nodes;
    m->voters_min = s->n_nodes > 3 ? s->n_nodes - 1 : 3;
    m->voters_max = s->n_nodes + 1;
    m->frozen = false;
}

static bool running(const sim *s, uint64_t id) { return node_slot_of_id(s, id) >= 0; }

static void ask(sim *s, uint32_t leader, int op, uint64_t a, uint64_t b)
{
    int rc = chk_member_change(s, leader, op, a, b);
    if (rc == TCN_OK)
        s->members.changes++;
    else
        s->members.refused++;
}

void members_step(sim *s)
{
    sim_members *mb = &s->members;
    if (mb->frozen)
        return;
    s->event_us = s->now_us;
    int l = node_leader(s);
    if (l < 0)
        return;
    tcn_raft *r = s->m[l].r;
    /* Only through a current leader: a node that resumes from a pause still
     * believes it leads an old term until its next tick, and a change it
     * accepts then is needless churn (docs/SIMULATION.md, "A learner that
     * blocked every election"). */
    for (uint32_t i = 0; i < s->n_machines; i++)
        if (s->m[i].up && tcn_raft_term(s->m[i].r) > tcn_raft_term(r))
            return;
    const tcn_raft_config *c = tcn_raft_config_of(r);
    if (tcn_raft_config_index(r) > tcn_raft_commit_index(r))
        return;
    /* Removed from the committed configuration: shut down; the machine
     * boots a fresh node a little later. */
    for (uint32_t i = 0; i < s->n_machines; i++) {
        sim_node *nd = &s->m[i];
        if (nd->up && (int)i != l && nd->joined && tcn_raft_config_find(c, nd->id) == NULL &&
            faults_crash_allowed(s, i)) { /* a stale leader's view must not cost a quorum */
            nd->retired = true;
            node_crash(s, i, s->now_us + sim_rng_range(&s->rng_members, 500000, 3000000));
        }
    }
    /* New nodes join as learners. */
    for (uint32_t i = 0; i < s->n_machines; i++) {
        const sim_node *nd = &s->m[i];
        if (nd->up && !nd->joined && tcn_raft_config_find(c, nd->id) == NULL) {
            ask(s, (uint32_t)l, SIM_MC_ADD_LEARNER, nd->id, 0);
            return;
        }
    }
    /* Dead members: a learner goes, a voter is replaced by a running learner. */
    uint64_t learner = 0;
    for (uint32_t k = 0; k < c->n; k++)
        if (c->members[k].role == TCN_RAFT_LEARNER && running(s, c->members[k].id))
            learner = c->members[k].id;
    for (uint32_t k = 0; k < c->n; k++) {
        const tcn_raft_member *m = &c->members[k];
        if (running(s, m->id))
            continue;
        if (m->role == TCN_RAFT_LEARNER)
            ask(s, (uint32_t)l, SIM_MC_REMOVE, m->id, 0);
        else if (learner != 0)
            ask(s, (uint32_t)l, SIM_MC_REPLACE, m->id, learner);
        return; /* a dead voter without a learner waits for its machine to boot a new node */
    }
    uint32_t voters = tcn_raft_config_voters(c);
    if (voters < mb->voters_target && learner != 0) {
        ask(s, (uint32_t)l, SIM_MC_PROMOTE, learner, 0);
    } else if (voters > mb->voters_target && voters > 3) {
        uint64_t pick = sim_rng_below(&s->rng_members, voters);
        for (uint32_t k = 0; k < c->n; k++)
            if (c->members[k].role == TCN_RAFT_VOTER && pick-- == 0) {
                ask(s, (uint32_t)l, SIM_MC_REMOVE, c->members[k].id, 0);
                return;
            }
    }
}
