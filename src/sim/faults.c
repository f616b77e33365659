/* The seeded fault schedule: random partitions, crashes, pauses, drift, link trouble, membership and leadership churn, targeted scenarios, and the healing of a majority. */
#include <stdio.h>
#include <string.h>

#include "raft/config.h"
#include "sim/sim.h"
#include "util/assert.h"

/*
 * Random processes, each with its own next time drawn from the fault
 * stream: partitions (one node isolated, two sides, one-way cuts, a bridge
 * node, the leader cut off), crashes (a machine loses its memory and boots
 * a new node later), pauses (the process stops, its clock does not),
 * clock-rate changes, link delay and loss changes, membership churn,
 * leadership transfers.
 *
 * Scenarios are fault sequences aimed at the situations random faults
 * rarely reach. The seed decides when one starts and which; while it runs,
 * random partitions, crashes and pauses wait. They react to what the
 * cluster does (a leader elected, a commit) the moment it happens, as an
 * adversarial network would:
 *  - leader flip (Raft thesis Figure 3.7): cut the leader off with a
 *    minority and send writes to it (they reach the minority only); when
 *    the majority elects a leader, cut that one off at once (its entry at
 *    the same index reaches nobody) and join the old side to the rest; when
 *    the next leader's commit index moves, cut it off at once and bring
 *    back the one cut off before. A core that commits an older term's entry
 *    by counting replicas loses it here.
 *  - quorum crash: cut the leader from a lagging minority, let writes
 *    commit with the rest, crash a follower that holds them, cut the leader
 *    off. A node must never come back as the voter it was: the lagging
 *    nodes and a returning empty voter would elect a leader without them.
 *  - mass pause: every machine stalls at once and resumes at once, so every
 *    election timer fires in the same instant (split votes, double votes).
 * Crashes never take a quorum of any configuration in use (a memory-only
 * cluster that loses a quorum is gone for good; that is the design, not a
 * bug to find).
 */

static uint64_t ms(uint64_t x) { return x * 1000; }

static uint64_t draw(sim *s, uint64_t lo, uint64_t hi) { return sim_rng_range(&s->rng_faults, lo, hi); }

/* Client writes at a node, for the scenarios that need entries in flight. */
static void inject(sim *s, uint32_t slot, uint32_t n)
{
    if (s->opt.workload == SIM_WL_PAYOUTS)
        pay_inject(s, slot, n);
    else
        wl_inject_writes(s, slot, n);
}

static uint64_t gap_us(sim *s, uint32_t max_ms) { return ms(draw(s, max_ms / 4 + 1, max_ms)); }

const char *faults_scenario_name(sim_scenario k)
{
    switch (k) {
    case SIM_SCN_LEADER_FLIP:
        return "leader-flip";
    case SIM_SCN_QUORUM_CRASH:
        return "quorum-crash";
    case SIM_SCN_MASS_PAUSE:
        return "mass-pause";
    default:
        return "none";
    }
}

void faults_init(sim *s)
{
    sim_faults *f = &s->faults;
    memset(f, 0, sizeof(*f));
    f->partition_gap_ms_max = (uint32_t)draw(s, 1000, 6000);
    f->crash_gap_ms_max = (uint32_t)draw(s, 3000, 15000);
    f->pause_gap_ms_max = (uint32_t)draw(s, 2000, 10000);
    static const uint32_t scenario_ppm[] = {250000, 500000, 1000000};
    f->scenario_ppm = scenario_ppm[draw(s, 0, 2)];
    uint64_t now = s->now_us;
    f->next_partition_us = now + gap_us(s, f->partition_gap_ms_max);
    f->next_crash_us = now + gap_us(s, f->crash_gap_ms_max);
    f->next_pause_us = now + gap_us(s, f->pause_gap_ms_max);
    f->next_drift_us = now + ms(draw(s, 1000, 8000));
    f->next_loss_us = now + ms(draw(s, 1000, 6000));
    f->next_member_us = now + ms(draw(s, 2000, 10000));
    f->next_transfer_us = now + ms(draw(s, 2000, 8000));
    f->next_scenario_us = now + ms(draw(s, 1000, 4000));
    for (uint32_t i = 0; i < SIM_MACHINES_MAX; i++)
        s->m[i].rate_ppm = sim_has(s, SIM_F_DRIFT) ? draw(s, 850000, 1200000) : 1000000;
}

/* --- Helpers ------------------------------------------------------------------ */

static bool in(uint32_t mask, uint32_t slot) { return (mask >> slot) & 1u; }

static uint32_t up_mask(const sim *s)
{
    uint32_t m = 0;
    for (uint32_t i = 0; i < s->n_machines; i++)
        if (s->m[i].up)
            m |= 1u << i;
    return m;
}

static int random_slot(sim *s, uint32_t mask)
{
    uint32_t n = (uint32_t)__builtin_popcount(mask);
    if (n == 0)
        return -1;
    uint32_t k = (uint32_t)sim_rng_below(&s->rng_faults, n);
    for (uint32_t i = 0; i < SIM_MACHINES_MAX; i++)
        if (in(mask, i) && k-- == 0)
            return (int)i;
    return -1;
}

/* Slots running the voters of c. */
static uint32_t voter_slots(const sim *s, const tcn_raft_config *c)
{
    uint32_t m = 0;
    for (uint32_t i = 0; i < c->n; i++) {
        if (c->members[i].role != TCN_RAFT_VOTER)
            continue;
        int k = node_slot_of_id(s, c->members[i].id);
        if (k >= 0)
            m |= 1u << k;
    }
    return m;
}

bool faults_crash_allowed(const sim *s, uint32_t slot)
{
    if (!s->m[slot].up)
        return false;
    for (uint32_t i = 0; i < s->n_machines; i++) {
        if (!s->m[i].up)
            continue;
        const tcn_raft_config *c = tcn_raft_config_of(s->m[i].r);
        uint32_t voters = tcn_raft_config_voters(c);
        if (voters == 0)
            continue;
        uint32_t live = (uint32_t)__builtin_popcount(voter_slots(s, c) & ~(1u << slot));
        if (live < voters / 2 + 1)
            return false;
    }
    return true;
}

static void crash(sim *s, uint32_t slot, uint64_t restart_at_us)
{
    s->faults.crashes++;
    node_crash(s, slot, restart_at_us);
}

bool faults_crash_now(sim *s, uint32_t slot)
{
    if (s->faults.stopped || !sim_has(s, SIM_F_CRASH) || !faults_crash_allowed(s, slot))
        return false;
    crash(s, slot, s->now_us + ms(draw(s, 100, 5000)));
    return true;
}

static void restart(sim *s, uint32_t slot)
{
    sim_node *nd = &s->m[slot];
    /* A memory-only node comes back as a new member with a new id; the
     * rejoin_same_id bug brings it back as the voter it was, empty. */
    uint64_t id = s->opt.bug == SIM_BUG_REJOIN_SAME_ID && !nd->retired ? nd->id : s->next_id++;
    node_boot(s, slot, id, NULL, 0);
}

/* --- Random processes ----------------------------------------------------------- */

static void start_partition(sim *s)
{
    sim_faults *f = &s->faults;
    uint32_t all = 0;
    for (uint32_t i = 0; i < s->n_machines; i++)
        if (s->m[i].present)
            all |= 1u << i;
    net_heal_all(s);
    uint64_t kind = draw(s, 0, 4);
    int x = random_slot(s, all);
    if (x < 0)
        return;
    if (kind == 4) {
        int l = node_leader(s);
        if (l >= 0)
            x = l;
    }
    if (kind == 0 || kind == 4) {
        net_isolate(s, (uint32_t)x, true);
        sim_trace(s, "partition: machine %d isolated", x);
    } else if (kind == 2) {
        uint64_t k = draw(s, 1, 3);
        for (uint64_t j = 0; j < k; j++) {
            int a = random_slot(s, all), b = random_slot(s, all);
            if (a >= 0 && b >= 0 && a != b) {
                net_cut(s, (uint32_t)a, (uint32_t)b, true);
                sim_trace(s, "partition: link %d -> %d cut (one way)", a, b);
            }
        }
    } else {
        uint32_t side = 0;
        for (uint32_t i = 0; i < SIM_MACHINES_MAX; i++)
            if (in(all, i) && sim_rng_below(&s->rng_faults, 2))
                side |= 1u << i;
        if (side == 0 || side == all)
            side ^= 1u << x;
        int bridge = kind == 3 ? random_slot(s, side) : -1;
        for (uint32_t a = 0; a < SIM_MACHINES_MAX; a++)
            for (uint32_t b = 0; b < SIM_MACHINES_MAX; b++)
                if (in(all, a) && in(all, b) && in(side, a) && !in(side, b) && (int)a != bridge)
                    net_cut_both(s, a, b, true);
        sim_trace(s, "partition: sides 0x%x | 0x%x%s", side, all & ~side, bridge >= 0 ? " with a bridge" : "");
    }
    f->partitions++;
    f->heal_partition_us = s->now_us + ms(draw(s, 200, 6000));
}

static void member_fault(sim *s)
{
    sim_members *mb = &s->members;
    uint64_t dice = draw(s, 0, 99);
    if (dice < 60) {
        mb->voters_target = (uint32_t)draw(s, mb->voters_min, mb->voters_max);
        sim_trace(s, "membership: target %u voters", mb->voters_target);
        return;
    }
    /* Provision a spare machine: it boots empty and asks to join. */
    uint32_t limit = s->n_nodes + 2 < SIM_MACHINES_MAX ? s->n_nodes + 2 : SIM_MACHINES_MAX;
    for (uint32_t i = 0; i < limit; i++) {
        sim_node *nd = &s->m[i];
        if (!nd->up && (!nd->present || (nd->retired && nd->restart_at_us == 0))) {
            node_boot(s, i, s->next_id++, NULL, 0);
            return;
        }
    }
}

static void transfer(sim *s)
{
    int l = node_leader(s);
    if (l < 0)
        return;
    const tcn_raft_config *c = tcn_raft_config_of(s->m[l].r);
    if (c->n == 0)
        return;
    uint64_t target = c->members[sim_rng_below(&s->rng_faults, c->n)].id;
    int rc = tcn_raft_transfer_leadership(s->m[l].r, target);
    sim_trace(s, "leader %llu: transfer leadership to %llu: %s", (unsigned long long)s->m[l].id,
              (unsigned long long)target, tcn_err_name(rc));
    s->faults.transfers++;
    node_drain(s, (uint32_t)l);
}

static void redraw_links(sim *s)
{
    uint64_t k = draw(s, 1, 6);
    for (uint64_t j = 0; j < k; j++)
        net_randomize_link(s, (uint32_t)draw(s, 0, SIM_MACHINES_MAX - 1), (uint32_t)draw(s, 0, SIM_MACHINES_MAX - 1));
}

/* --- Scenarios ---------------------------------------------------------------------- */

/* A settled cluster: a leader that has committed an entry of its term and
 * its configuration, whose voters all run, unpaused, and hold that
 * configuration. */
static int healthy_leader(const sim *s)
{
    int l = node_leader(s);
    if (l < 0)
        return -1;
    const tcn_raft *r = s->m[l].r;
    const tcn_raft_config *c = tcn_raft_config_of(r);
    uint64_t ci = tcn_raft_config_index(r);
    if (ci > tcn_raft_commit_index(r))
        return -1;
    for (uint32_t i = 0; i < c->n; i++) {
        if (c->members[i].role != TCN_RAFT_VOTER)
            continue;
        int k = node_slot_of_id(s, c->members[i].id);
        tcn_raft_progress_info pi;
        if (k < 0 || !node_usable(s, (uint32_t)k) ||
            (k != l && (!tcn_raft_progress_of(r, c->members[i].id, &pi) || pi.match < ci)))
            return -1;
    }
    tcn_raft_entry e;
    if (!tcn_raft_entry_at(r, tcn_raft_commit_index(r), &e) || e.term != tcn_raft_term(r))
        return -1;
    return l;
}

static void scenario_end(sim *s, bool completed)
{
    sim_faults *f = &s->faults;
    if (f->scn == SIM_SCN_NONE)
        return;
    sim_trace(s, "scenario %s %s in phase %d", faults_scenario_name(f->scn), completed ? "ends" : "gives up",
              f->phase);
    if (completed)
        f->completed[f->scn]++;
    net_heal_all(s);
    f->scn = SIM_SCN_NONE;
    f->heal_partition_us = 0;
}

static uint64_t election_us(const sim *s) { return ms(sim_election_max_global_ms(s)); }

static bool scenario_start(sim *s, sim_scenario k)
{
    sim_faults *f = &s->faults;
    int l = healthy_leader(s);
    if (l < 0)
        return false;
    const tcn_raft_config *c = tcn_raft_config_of(s->m[l].r);
    uint32_t voters = voter_slots(s, c);
    uint32_t followers = voters & ~(1u << l);
    uint32_t minority = ((uint32_t)__builtin_popcount(voters) - 1) / 2;
    net_heal_all(s);
    f->heal_partition_us = 0;
    f->scn = k;
    f->phase = 1;
    f->a = l;
    f->b = f->c = -1;
    f->term = tcn_raft_term(s->m[l].r);
    f->started[k]++;
    uint64_t now = s->now_us;
    switch (k) {
    case SIM_SCN_LEADER_FLIP: {
        /* The leader and (minority - 1) followers form the minority side. */
        uint32_t side = 1u << l;
        for (uint32_t j = 1; j < minority; j++) {
            int x = random_slot(s, followers & ~side);
            if (x >= 0)
                side |= 1u << x;
        }
        f->group = side;
        for (uint32_t a = 0; a < s->n_machines; a++)
            for (uint32_t b = 0; b < s->n_machines; b++)
                if (in(side, a) && !in(side, b))
                    net_cut_both(s, a, b, true);
        inject(s, (uint32_t)l, (uint32_t)draw(s, 1, 4));
        f->phase_deadline_us = now + 8 * election_us(s);
        break;
    }
    case SIM_SCN_QUORUM_CRASH: {
        uint32_t lag = 0;
        for (uint32_t j = 0; j < minority; j++) {
            int x = random_slot(s, followers & ~lag);
            if (x >= 0)
                lag |= 1u << x;
        }
        f->group = lag;
        for (uint32_t b = 0; b < s->n_machines; b++)
            if (in(lag, b))
                net_cut_both(s, (uint32_t)l, b, true);
        inject(s, (uint32_t)l, (uint32_t)draw(s, 2, 6));
        f->phase_deadline_us = now + ms(draw(s, 300, 1500));
        break;
    }
    case SIM_SCN_MASS_PAUSE: {
        uint64_t until = now + election_us(s) * draw(s, 15, 30) / 10;
        for (uint32_t i = 0; i < s->n_machines; i++)
            if (s->m[i].up)
                node_pause(s, i, until, true);
        f->phase_deadline_us = until + ms(draw(s, 2000, 5000));
        break;
    }
    default:
        break;
    }
    sim_trace(s, "scenario %s starts: leader %llu (machine %d), term %llu, group 0x%x", faults_scenario_name(k),
              (unsigned long long)s->m[l].id, l, (unsigned long long)f->term, f->group);
    return true;
}

/* Timers of the scenario in progress. */
static void scenario_step(sim *s)
{
    sim_faults *f = &s->faults;
    if (f->scn == SIM_SCN_NONE || s->now_us < f->phase_deadline_us)
        return;
    if (f->scn == SIM_SCN_QUORUM_CRASH && f->phase == 1) {
        /* Crash a follower that holds the recent writes, cut the leader off. */
        uint32_t cands = 0;
        for (uint32_t i = 0; i < s->n_machines && s->m[f->a].up; i++)
            if ((int)i != f->a && !in(f->group, i) && s->m[i].up && faults_crash_allowed(s, i) &&
                tcn_raft_config_is_voter(tcn_raft_config_of(s->m[f->a].r), s->m[i].id))
                cands |= 1u << i;
        int b = random_slot(s, cands);
        if (b < 0 || !s->m[f->a].up) {
            scenario_end(s, false);
            return;
        }
        f->b = b;
        crash(s, (uint32_t)b, s->now_us + ms(draw(s, 20, 300)));
        net_isolate(s, (uint32_t)f->a, true);
        f->phase = 2;
        f->phase_deadline_us = s->now_us + ms(draw(s, 3000, 8000));
        sim_trace(s, "scenario quorum-crash: machine %d crashed, leader machine %d cut off", b, f->a);
        return;
    }
    scenario_end(s, f->phase >= (f->scn == SIM_SCN_LEADER_FLIP ? 4 : 2) || f->scn == SIM_SCN_MASS_PAUSE);
}

void faults_on_event(sim *s, uint32_t slot, int ev)
{
    sim_faults *f = &s->faults;
    if (f->scn != SIM_SCN_LEADER_FLIP || s->liveness)
        return;
    sim_node *nd = &s->m[slot];
    uint64_t term = tcn_raft_term(nd->r);
    if (f->phase == 1 && ev == SIM_EV_LEADER && !in(f->group, slot) && term > f->term) {
        /* The majority's new leader: cut it off before its first append
         * lands, and join the old minority to the rest. */
        f->b = (int)slot;
        f->term = term;
        for (uint32_t a = 0; a < s->n_machines; a++)
            for (uint32_t b = 0; b < s->n_machines; b++)
                if (in(f->group, a) && !in(f->group, b))
                    net_cut_both(s, a, b, false);
        net_isolate(s, slot, true);
        f->phase = 2;
        f->phase_deadline_us = s->now_us + 10 * election_us(s);
        sim_trace(s, "scenario leader-flip: new leader %llu (term %llu) cut off at birth", (unsigned long long)nd->id,
                  (unsigned long long)term);
    } else if ((f->phase == 2 || f->phase == 3) && ev == SIM_EV_LEADER && (int)slot != f->b && term > f->term) {
        f->c = (int)slot;
        f->term = term;
        f->commit = nd->last_commit;
        f->phase = 3;
    } else if (f->phase == 3 && ev == SIM_EV_COMMIT && (int)slot == f->c && nd->last_commit > f->commit) {
        /* Its first commit: cut it off at once, bring back the one cut off at birth. */
        net_isolate(s, (uint32_t)f->b, false);
        net_isolate(s, slot, true);
        f->phase = 4;
        f->phase_deadline_us = s->now_us + ms(draw(s, 2000, 5000));
        sim_trace(s, "scenario leader-flip: leader %llu committed %llu and is cut off; machine %d rejoins",
                  (unsigned long long)nd->id, (unsigned long long)nd->last_commit, f->b);
    }
}

/* --- The step ------------------------------------------------------------------------ */

void faults_step(sim *s)
{
    sim_faults *f = &s->faults;
    uint64_t now = s->now_us;
    s->event_us = now;
    for (uint32_t i = 0; i < s->n_machines; i++)
        if (s->m[i].up && s->m[i].paused && now >= s->m[i].pause_until_us)
            node_resume(s, i);
    if (f->stopped)
        return;
    for (uint32_t i = 0; i < s->n_machines; i++)
        if (s->m[i].present && !s->m[i].up && s->m[i].restart_at_us != 0 && now >= s->m[i].restart_at_us)
            restart(s, i);
    if (f->pending != SIM_SCN_NONE) {
        /* Calm the cluster down until a healthy leader is there. */
        net_heal_all(s);
        f->heal_partition_us = 0;
        for (uint32_t i = 0; i < s->n_machines; i++)
            node_resume(s, i);
        if (scenario_start(s, f->pending) || now >= f->pending_deadline_us)
            f->pending = SIM_SCN_NONE;
    }
    scenario_step(s);
    bool free_hand = f->scn == SIM_SCN_NONE && f->pending == SIM_SCN_NONE;
    if (sim_has(s, SIM_F_PARTITION) && free_hand) {
        if (f->heal_partition_us != 0 && now >= f->heal_partition_us) {
            net_heal_all(s);
            f->heal_partition_us = 0;
            sim_trace(s, "partition healed");
        }
        if (now >= f->next_partition_us) {
            start_partition(s);
            f->next_partition_us = now + gap_us(s, f->partition_gap_ms_max);
        }
    }
    if (sim_has(s, SIM_F_CRASH) && free_hand && now >= f->next_crash_us) {
        f->next_crash_us = now + gap_us(s, f->crash_gap_ms_max);
        int x = sim_rng_ppm(&s->rng_faults, 300000) ? node_leader(s) : random_slot(s, up_mask(s));
        if (x >= 0 && faults_crash_allowed(s, (uint32_t)x))
            crash(s, (uint32_t)x, now + ms(draw(s, 100, 5000)));
    }
    if (sim_has(s, SIM_F_PAUSE) && free_hand && now >= f->next_pause_us) {
        f->next_pause_us = now + gap_us(s, f->pause_gap_ms_max);
        int x = random_slot(s, up_mask(s));
        if (x >= 0 && !s->m[x].paused) {
            node_pause(s, (uint32_t)x, now + ms(draw(s, 50, 4000)), sim_rng_below(&s->rng_faults, 2));
            f->pauses++;
        }
    }
    if (sim_has(s, SIM_F_DRIFT) && now >= f->next_drift_us) {
        f->next_drift_us = now + ms(draw(s, 1000, 8000));
        uint32_t x = (uint32_t)draw(s, 0, SIM_MACHINES_MAX - 1);
        s->m[x].rate_ppm = draw(s, 850000, 1200000);
        f->drifts++;
    }
    if ((sim_has(s, SIM_F_LOSS) || sim_has(s, SIM_F_DELAY)) && now >= f->next_loss_us) {
        f->next_loss_us = now + ms(draw(s, 1000, 6000));
        redraw_links(s);
    }
    if (sim_has(s, SIM_F_MEMBERSHIP) && now >= f->next_member_us) {
        f->next_member_us = now + ms(draw(s, 2000, 10000));
        member_fault(s);
    }
    if (sim_has(s, SIM_F_TRANSFER) && now >= f->next_transfer_us) {
        f->next_transfer_us = now + ms(draw(s, 2000, 8000));
        transfer(s);
    }
    if (free_hand && now >= f->next_scenario_us) {
        f->next_scenario_us = now + ms(draw(s, 2000, 6000));
        sim_scenario avail[SIM_SCN_COUNT_];
        uint32_t n = 0;
        if (sim_has(s, SIM_F_PARTITION))
            avail[n++] = SIM_SCN_LEADER_FLIP;
        if (sim_has(s, SIM_F_PARTITION) && sim_has(s, SIM_F_CRASH))
            avail[n++] = SIM_SCN_QUORUM_CRASH;
        if (sim_has(s, SIM_F_PAUSE))
            avail[n++] = SIM_SCN_MASS_PAUSE;
        if (n > 0 && sim_rng_ppm(&s->rng_faults, f->scenario_ppm)) {
            f->pending = avail[sim_rng_below(&s->rng_faults, n)];
            f->pending_deadline_us = now + 10 * election_us(s);
        }
    }
}

/* --- Liveness: heal a majority ------------------------------------------------------- */

typedef struct log_pos {
    uint64_t term, index;
} log_pos;

static log_pos last_pos(const sim *s, uint32_t slot)
{
    const sim_node *nd = &s->m[slot];
    log_pos p = {0, tcn_raft_last_index(nd->r)};
    tcn_raft_entry e;
    if (tcn_raft_entry_at(nd->r, p.index, &e))
        p.term = e.term;
    else if (p.index != 0 && p.index == nd->snap_index)
        p.term = nd->snap_term;
    return p;
}

static bool pos_ge(log_pos a, log_pos b) { return a.term > b.term || (a.term == b.term && a.index >= b.index); }

/* Whether the core would campaign (election.c): a voter of its latest
 * configuration, or removed by an uncommitted one while a voter in the one
 * before it. */
static bool can_campaign(const sim *s, uint32_t slot)
{
    const sim_node *nd = &s->m[slot];
    const tcn_raft *r = nd->r;
    if (tcn_raft_config_is_voter(tcn_raft_config_of(r), nd->id))
        return true;
    uint64_t ci = tcn_raft_config_index(r);
    if (ci <= tcn_raft_commit_index(r))
        return false;
    for (uint32_t k = nd->n_conf_idx; k-- > 0;) {
        tcn_raft_entry e;
        tcn_raft_config prev;
        if (nd->conf_idx[k] < ci && tcn_raft_entry_at(r, nd->conf_idx[k], &e) &&
            tcn_raft_config_parse(e.data, e.len, &prev, NULL) == TCN_OK)
            return tcn_raft_config_is_voter(&prev, nd->id);
    }
    return nd->have_conf && tcn_raft_config_is_voter(&nd->conf, nd->id);
}

/* Raft's liveness argument for a connected set M: some node of M that
 * campaigns holds a log at least as up to date as every other log in M
 * held by a node that has ever been a voter (so everyone in M grants it:
 * the others grant without comparing logs), and M holds a quorum of that node's
 * configuration. A set that only holds a majority of every configuration
 * is not enough: when the most up-to-date log sits on a learner, or on the
 * only server that knows an uncommitted configuration, a correct Raft can
 * wait forever. */
static bool electable(const sim *s, uint32_t mask)
{
    for (uint32_t c = 0; c < s->n_machines; c++) {
        if (!in(mask, c) || !can_campaign(s, c))
            continue;
        log_pos pc = last_pos(s, c);
        bool best = true;
        for (uint32_t x = 0; x < s->n_machines && best; x++)
            if (in(mask, x) && tcn_raft_ever_voter(s->m[x].r) && !pos_ge(pc, last_pos(s, x)))
                best = false;
        if (!best)
            continue;
        const tcn_raft_config *conf = tcn_raft_config_of(s->m[c].r);
        uint32_t voters = tcn_raft_config_voters(conf);
        if ((uint32_t)__builtin_popcount(voter_slots(s, conf) & mask) >= voters / 2 + 1)
            return true;
    }
    return false;
}

uint32_t faults_heal_majority(sim *s)
{
    sim_faults *f = &s->faults;
    scenario_end(s, f->phase >= (f->scn == SIM_SCN_LEADER_FLIP ? 4 : 2));
    f->pending = SIM_SCN_NONE;
    f->stopped = true;
    s->members.frozen = true;
    /* The smallest electable sets of running nodes; the seed picks one.
     * None at all: the cluster is wedged (the caller reports it). */
    uint32_t up = up_mask(s);
    uint32_t best_n = SIM_MACHINES_MAX + 1, n_found = 0, healed = up;
    f->wedged = !electable(s, up);
    for (uint32_t mask = 1; mask < (1u << s->n_machines); mask++) {
        uint32_t n = (uint32_t)__builtin_popcount(mask);
        if ((mask & ~up) != 0 || n > best_n || !electable(s, mask))
            continue;
        if (n < best_n) {
            best_n = n;
            n_found = 0;
        }
        /* Reservoir choice among the minimal ones. */
        if (sim_rng_below(&s->rng_faults, ++n_found) == 0)
            healed = mask;
    }
    for (uint32_t a = 0; a < SIM_MACHINES_MAX; a++)
        for (uint32_t b = 0; b < SIM_MACHINES_MAX; b++) {
            if (a == b)
                continue;
            if (in(healed, a) && in(healed, b))
                net_link_calm(s, a, b);
            else
                net_cut(s, a, b, true); /* the rest stays cut off */
        }
    s->net.dup_ppm = 0;
    s->net.spike_ppm = 0;
    s->net.reorder_ppm = 0;
    for (uint32_t i = 0; i < s->n_machines; i++)
        if (in(healed, i))
            node_resume(s, i);
    return healed;
}
