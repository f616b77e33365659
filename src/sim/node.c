/* A simulated machine: a Raft core with its own drifting clock, pauses, crashes and boots, and the drain of the core's ready. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/sim.h"
#include "util/assert.h"

int node_slot_of_id(const sim *s, uint64_t id)
{
    for (uint32_t i = 0; i < s->n_machines; i++)
        if (s->m[i].up && s->m[i].id == id)
            return (int)i;
    return -1;
}

bool node_usable(const sim *s, uint32_t slot) { return s->m[slot].up && !s->m[slot].paused; }

int node_leader(const sim *s)
{
    int best = -1;
    uint64_t best_term = 0;
    for (uint32_t i = 0; i < s->n_machines; i++) {
        if (!node_usable(s, i) || tcn_raft_role_of(s->m[i].r) != TCN_RAFT_LEADER)
            continue;
        uint64_t t = tcn_raft_term(s->m[i].r);
        if (best < 0 || t > best_term) {
            best = (int)i;
            best_term = t;
        }
    }
    return best;
}

/* The machine's clock runs whether or not a process runs on it, at its own
 * rate (clock drift); a pause stops the process, not the clock. */
void node_advance_clock(sim *s, uint32_t slot)
{
    sim_node *nd = &s->m[slot];
    if (s->now_us <= nd->clock_global_us)
        return;
    uint64_t dt = s->now_us - nd->clock_global_us;
    uint64_t total = dt * nd->rate_ppm + nd->clock_frac;
    nd->clock_us += total / 1000000u;
    nd->clock_frac = total % 1000000u;
    nd->clock_global_us = s->now_us;
}

static void reset_boot_state(sim_node *nd)
{
    kv_clear(&nd->kv);
    nd->applied = 0;
    memset(nd->digest, 0, sizeof(nd->digest));
    memset(&nd->conf, 0, sizeof(nd->conf));
    nd->have_conf = false;
    nd->n_pw = 0;
    nd->n_pr = 0;
    nd->role = TCN_RAFT_FOLLOWER;
    nd->term = 0;
    nd->last_commit = 0;
    nd->snap_index = 0;
    nd->snap_term = 0;
    memset(nd->snap_hash, 0, sizeof(nd->snap_hash));
    nd->mirror.n = 0;
    nd->mirror.base = 0;
    nd->n_conf_idx = 0;
    nd->joined = false;
    nd->retired = false;
    nd->paused = false;
}

void node_boot(sim *s, uint32_t slot, uint64_t id, const uint64_t *voters, size_t n_voters)
{
    sim_node *nd = &s->m[slot];
    TCN_ASSERT(!nd->up && slot < SIM_MACHINES_MAX);
    if (!nd->present) {
        nd->present = true;
        nd->clock_global_us = s->now_us;
        nd->wall_base_us = s->now_us;
        if (slot >= s->n_machines)
            s->n_machines = slot + 1;
    }
    node_advance_clock(s, slot);
    reset_boot_state(nd);
    nd->boot = ++s->boots;
    nd->id = id;
    nd->booted_us = s->now_us;
    nd->up = true;
    nd->restart_at_us = 0;
    if (s->opt.workload == SIM_WL_PAYOUTS)
        pay_node_boot(s, slot);
    tcn_raft_options o = s->ropts;
    o.id = id;
    /* Each node's election-timeout PRNG gets its own seed, derived from the
     * run's seed and the node id. */
    uint64_t x = s->raft_seed ^ (id * 0x9e3779b97f4a7c15ull);
    o.seed = sim_splitmix64(&x);
    tcn_error err;
    int rc = tcn_raft_create(&nd->r, &o, nd->clock_us / 1000, &err);
    if (rc != TCN_OK) {
        fprintf(stderr, "tcn-sim: tcn_raft_create: %s\n", err.msg);
        exit(2);
    }
    if (n_voters > 0)
        TCN_ASSERT(tcn_raft_bootstrap(nd->r, voters, n_voters) == TCN_OK);
    sim_trace(s, "machine %u boots node %llu%s", slot, (unsigned long long)id,
              n_voters > 0 ? " (genesis voter)" : " (empty, no configuration)");
    s->event_us = s->now_us;
    node_drain(s, slot);
}

void node_crash(sim *s, uint32_t slot, uint64_t restart_at_us)
{
    sim_node *nd = &s->m[slot];
    if (!nd->up)
        return;
    sim_trace(s, "machine %u: node %llu %s (memory lost)", slot, (unsigned long long)nd->id,
              nd->retired ? "is shut down" : "crashes");
    wl_on_down(s, slot);
    pay_node_down(s, slot);
    tcn_raft_destroy(nd->r);
    nd->r = NULL;
    nd->up = false;
    nd->paused = false;
    nd->restart_at_us = restart_at_us;
}

void node_pause(sim *s, uint32_t slot, uint64_t until_us, bool drops)
{
    sim_node *nd = &s->m[slot];
    if (!nd->up)
        return;
    nd->paused = true;
    nd->pause_until_us = until_us;
    nd->pause_drops = drops;
    sim_trace(s, "machine %u: node %llu pauses for %llu ms (messages %s)", slot, (unsigned long long)nd->id,
              (unsigned long long)((until_us - s->now_us) / 1000), drops ? "lost" : "held");
}

void node_resume(sim *s, uint32_t slot)
{
    sim_node *nd = &s->m[slot];
    if (!nd->paused)
        return;
    nd->paused = false;
    sim_trace(s, "machine %u: node %llu resumes", slot, (unsigned long long)nd->id);
}

void node_tick(sim *s, uint32_t slot)
{
    if (!node_usable(s, slot))
        return;
    sim_node *nd = &s->m[slot];
    node_advance_clock(s, slot);
    s->event_us = s->now_us;
    tcn_raft_tick(nd->r, nd->clock_us / 1000);
    node_drain(s, slot);
}

/* Acts on one ready in the order raft.h prescribes: restore, apply, send,
 * reads, snapshot; then the checkers and the scenario hooks. */
void node_drain(sim *s, uint32_t slot)
{
    sim_node *nd = &s->m[slot];
    for (uint32_t round = 0; round < SIM_DRAIN_ROUNDS_MAX; round++) {
        if (!nd->up || s->violated || !tcn_raft_has_ready(nd->r))
            return;
        uint64_t commit_before = nd->last_commit;
        uint8_t role_before = nd->role;
        uint64_t term_before = nd->term;
        tcn_raft_ready rd;
        tcn_raft_get_ready(nd->r, &rd);
        chk_on_ready(s, slot, &rd);
        if (rd.snapshot != NULL)
            kv_snapshot_restore(s, slot, rd.snapshot);
        for (size_t k = 0; k < rd.n_entries; k++)
            kv_apply_entry(s, slot, &rd.entries[k]);
        for (size_t k = 0; k < rd.n_msgs; k++)
            net_send(s, slot, &rd.msgs[k]);
        for (size_t k = 0; k < rd.n_reads; k++)
            wl_on_read(s, slot, &rd.reads[k]);
        bool want = rd.snapshot_wanted;
        bool became_leader = rd.role == TCN_RAFT_LEADER && (role_before != TCN_RAFT_LEADER || rd.term != term_before);
        if (rd.state_changed)
            sim_trace(s, "node %llu: %s, term %llu, leader %llu", (unsigned long long)nd->id,
                      tcn_raft_role_name((tcn_raft_role)rd.role), (unsigned long long)rd.term,
                      (unsigned long long)rd.leader);
        tcn_raft_advance(nd->r);
        chk_after_advance(s, slot);
        wl_after_apply(s, slot);
        if (!nd->joined && tcn_raft_config_find(tcn_raft_config_of(nd->r), nd->id) != NULL)
            nd->joined = true;
        if (want && !s->violated && kv_snapshot_take(s, slot) != TCN_OK)
            return;
        if (became_leader) {
            chk_on_leader(s, slot);
            faults_on_event(s, slot, SIM_EV_LEADER);
        }
        if (nd->up && nd->role == TCN_RAFT_LEADER && nd->last_commit > commit_before)
            faults_on_event(s, slot, SIM_EV_COMMIT);
    }
}

void node_free_all(sim *s)
{
    for (uint32_t i = 0; i < SIM_MACHINES_MAX; i++) {
        sim_node *nd = &s->m[i];
        if (nd->r != NULL)
            tcn_raft_destroy(nd->r);
        nd->r = NULL;
        kv_free(&nd->kv);
        pay_node_down(s, i);
        free(nd->mirror.h);
        nd->mirror.h = NULL;
    }
}
