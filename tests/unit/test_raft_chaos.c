/* Unit tests: randomized faults over many seeds — the harness checks safety after every step, then liveness.
 *
 * Not the simulator (tcn-sim, a later task): a bounded sweep that keeps the
 * core honest. Faults: partitions, loss, delay and reordering, duplication,
 * pauses, crashes with replacement by a fresh node (learner, caught up,
 * promoted, old one removed), leadership transfers, snapshots forced by tiny
 * log limits, ReadIndex. Checks (raft_harness.h): one leader per term, the
 * same entry applied at each index everywhere, commit never goes back, logs
 * match; here also: every ReadIndex answer covers every entry applied
 * anywhere before the read was asked. Liveness: healed, the cluster elects a
 * leader and commits within a bound. TCN_RAFT_CHAOS_SEEDS=n runs more seeds,
 * TCN_RAFT_CHAOS_SEED=s just seed s, TCN_RAFT_CHAOS_VERBOSE=1 prints figures;
 * TCN_RAFT_CHAOS_BUGS=mask switches bugs on (a core built with TCN_RAFT_BUGS). */
#include "raft/config.h"
#include "raft_harness.h"

#define READS_MAX 4096

typedef struct {
    uint64_t floor[READS_MAX]; /* highest index applied anywhere when read ctx was asked */
    uint64_t next_ctx;
} reads_log;

static uint64_t max_applied(const harness *h)
{
    uint64_t m = 0;
    for (int i = 0; i < h->n; i++)
        if (h->nodes[i].applied > m)
            m = h->nodes[i].applied;
    return m;
}

static uint64_t rnd(harness *h, uint64_t n) { return h_rand(h) % n; }

typedef struct {
    uint64_t old_id, new_id; /* a replacement in progress, 0: none */
} replacement;

static void drive_replacement(harness *h, replacement *rp)
{
    if (rp->old_id == 0)
        return;
    int l = h_leader(h);
    if (l < 0)
        return;
    tcn_raft *r = h->nodes[l].r;
    const tcn_raft_config *c = tcn_raft_config_of(r);
    if (tcn_raft_config_find(c, rp->old_id) == NULL) {
        if (tcn_raft_config_find(c, rp->new_id) != NULL && tcn_raft_commit_index(r) >= tcn_raft_config_index(r))
            rp->old_id = rp->new_id = 0; /* done and committed */
        return;
    }
    if (tcn_raft_config_find(c, rp->new_id) == NULL) {
        int rc = tcn_raft_add_learner(r, rp->new_id);
        assert_true(rc == TCN_OK || rc == TCN_ERR_BUSY);
        return;
    }
    int rc = tcn_raft_replace(r, rp->old_id, rp->new_id);
    assert_true(rc == TCN_OK || rc == TCN_ERR_BUSY || rc == TCN_ERR_USAGE);
}

static void check_reads(harness *h, const reads_log *rl)
{
    for (int i = 0; i < h->n; i++)
        for (size_t k = 0; k < h->nodes[i].n_reads; k++) {
            const tcn_raft_read_result *rr = &h->nodes[i].reads[k];
            assert_true(rr->ctx < rl->next_ctx);
            if (rr->status == TCN_OK && rr->index < rl->floor[rr->ctx])
                h_violation(h, "ReadIndex %llu answered index %llu below %llu already applied",
                            (unsigned long long)rr->ctx, (unsigned long long)rr->index,
                            (unsigned long long)rl->floor[rr->ctx]);
        }
}

static void run_seed(uint64_t seed)
{
    harness h;
    h_init(&h, seed);
    h.opts.snapshot_entries_max = 20 + rnd(&h, 40);
    h.opts.snapshot_trailing = 1 + rnd(&h, 8);
    h.opts.snapshot_chunk_bytes = 64 + (uint32_t)rnd(&h, 300);
    h.opts.append_entries_max = 1 + (uint32_t)rnd(&h, 16);
    h.opts.inflight_max = 1 + (uint32_t)rnd(&h, 8);
    h.snapshot_pad = rnd(&h, 1000);
    h.loss_permille = (uint32_t)rnd(&h, 150);
    h.dup_permille = (uint32_t)rnd(&h, 60);
    h.delay_max_ms = (uint32_t)rnd(&h, 60);
    const char *bugs = getenv("TCN_RAFT_CHAOS_BUGS"); /* only for a core built with TCN_RAFT_BUGS */
    if (bugs != NULL)
        h.opts.bugs = (uint32_t)strtoul(bugs, NULL, 0);
    h.faults_are_violations = true;
    int voters = rnd(&h, 2) ? 3 : 5;
    h_start(&h, voters);
    reads_log *rl = calloc(1, sizeof(*rl));
    assert_non_null(rl);
    replacement rp = {0};
    uint64_t next_id = 100;
    uint64_t paused_until[H_NODES_MAX] = {0};
    bool dead[H_NODES_MAX] = {false};
    char buf[32];
    int proposals = 0;

    /* Fault phase: 20 s of simulated time. */
    for (int step = 0; step < 2000; step++) {
        int l = h_leader(&h);
        uint64_t dice = rnd(&h, 1000);
        if (l >= 0 && dice < 300) {
            snprintf(buf, sizeof(buf), "s%llu-%d", (unsigned long long)seed, proposals);
            uint64_t idx;
            int rc = tcn_raft_propose(h.nodes[l].r, buf, strlen(buf), &idx);
            assert_true(rc == TCN_OK || rc == TCN_ERR_BUSY);
            proposals += rc == TCN_OK;
        } else if (l >= 0 && dice < 400 && rl->next_ctx < READS_MAX) {
            uint64_t ctx = rl->next_ctx;
            if (tcn_raft_read_index(h.nodes[l].r, ctx) == TCN_OK) {
                rl->floor[ctx] = max_applied(&h);
                rl->next_ctx++;
            }
        } else if (dice < 410) {
            /* a new partition: every link cut with some probability */
            h_heal(&h);
            uint32_t p = (uint32_t)rnd(&h, 40);
            for (int a = 0; a < h.n; a++)
                for (int b = 0; b < h.n; b++)
                    if (a != b && rnd(&h, 100) < p)
                        h.cut[a][b] = true;
        } else if (dice < 425) {
            h_heal(&h);
        } else if (dice < 430) {
            int i = (int)rnd(&h, (uint64_t)h.n);
            if (!dead[i] && h.nodes[i].up) {
                h.nodes[i].up = false; /* a pause: memory kept, clock stopped */
                paused_until[i] = h.now + 200 + rnd(&h, 3000);
            }
        } else if (dice < 432 && rp.old_id == 0 && h.n < H_NODES_MAX) {
            /* a crash: the node never returns; a fresh one takes its place */
            int i = (int)rnd(&h, (uint64_t)h.n);
            if (!dead[i] && h.nodes[i].up && l >= 0 &&
                tcn_raft_config_is_voter(tcn_raft_config_of(h.nodes[l].r), h.nodes[i].id)) {
                dead[i] = true;
                h.nodes[i].up = false;
                rp.old_id = h.nodes[i].id;
                rp.new_id = next_id++;
                (void)h_add(&h, rp.new_id);
            }
        } else if (dice < 437 && l >= 0) {
            const tcn_raft_config *c = tcn_raft_config_of(h.nodes[l].r);
            uint64_t target = c->members[rnd(&h, c->n)].id;
            int rc = tcn_raft_transfer_leadership(h.nodes[l].r, target);
            assert_true(rc == TCN_OK || rc == TCN_ERR_BUSY || rc == TCN_ERR_USAGE);
        }
        for (int i = 0; i < h.n; i++)
            if (!dead[i] && !h.nodes[i].up && h.now >= paused_until[i])
                h.nodes[i].up = true;
        drive_replacement(&h, &rp);
        h_run(&h, H_TICK_MS);
    }
    check_reads(&h, rl);

    /* Liveness: everything healed (the dead stay dead), a leader and a new
     * commit everywhere within a bound. */
    h_heal(&h);
    h.loss_permille = 0;
    h.dup_permille = 0;
    h.delay_max_ms = 0;
    for (int i = 0; i < h.n; i++)
        if (!dead[i])
            h.nodes[i].up = true;
    for (int t = 0; t < 3000 && rp.old_id != 0; t++) {
        drive_replacement(&h, &rp);
        h_run(&h, H_TICK_MS);
    }
    assert_int_equal(rp.old_id, 0);
    /* Like a client: propose at the leader, and if that leader is deposed
     * before the entry commits (it may be lost, legitimately), try again. */
    int l = -1;
    uint64_t idx = 0;
    bool all = false;
    for (int attempt = 0; attempt < 5 && !all; attempt++) {
        idx = 0;
        for (int t = 0; t < 500 && idx == 0; t++) {
            l = h_leader(&h);
            if (l >= 0 && tcn_raft_propose(h.nodes[l].r, "liveness", 8, &idx) != TCN_OK)
                idx = 0;
            h_run(&h, H_TICK_MS);
        }
        if (idx == 0)
            continue;
        uint64_t term = tcn_raft_term(h.nodes[l].r);
        for (int t = 0; t < 300 && !all; t++) {
            h_run(&h, H_TICK_MS);
            const tcn_raft_config *c = tcn_raft_config_of(h.nodes[l].r);
            all = tcn_raft_role_of(h.nodes[l].r) == TCN_RAFT_LEADER && tcn_raft_term(h.nodes[l].r) == term;
            for (uint32_t k = 0; k < c->n && all; k++) {
                int i = h_index_of(&h, c->members[k].id);
                if (i >= 0 && !dead[i] && h.nodes[i].applied < idx)
                    all = false;
            }
        }
    }
    if (!all) {
        l = h_leader(&h);
        for (int i = 0; i < h.n; i++) {
            tcn_raft_progress_info pi = {0};
            bool has = l >= 0 && tcn_raft_progress_of(h.nodes[l].r, h.nodes[i].id, &pi);
            print_message("  node %llu up %d dead %d role %d term %llu commit %llu applied %llu first %llu last %llu"
                          " | pr %d match %llu next %llu state %u inflight %u\n",
                          (unsigned long long)h.nodes[i].id, h.nodes[i].up, dead[i], tcn_raft_role_of(h.nodes[i].r),
                          (unsigned long long)tcn_raft_term(h.nodes[i].r),
                          (unsigned long long)tcn_raft_commit_index(h.nodes[i].r),
                          (unsigned long long)h.nodes[i].applied,
                          (unsigned long long)tcn_raft_first_index(h.nodes[i].r),
                          (unsigned long long)tcn_raft_last_index(h.nodes[i].r), has,
                          (unsigned long long)pi.match, (unsigned long long)pi.next, pi.state, pi.inflight);
        }
        fail_msg("seed %llu: no entry committed and applied by every live member after healing",
                 (unsigned long long)seed);
    }
    check_reads(&h, rl);
    h_check_logs(&h);
    if (getenv("TCN_RAFT_CHAOS_VERBOSE") != NULL) {
        size_t snaps = 0, restores = 0, reads = 0, faults = 0;
        for (int i = 0; i < h.n; i++) {
            snaps += h.nodes[i].snapshots_taken;
            restores += h.nodes[i].snapshots_restored;
            reads += h.nodes[i].n_reads;
            faults += h.nodes[i].faults;
        }
        print_message("seed %llu: nodes %d voters %d proposals %d commit %llu term %llu snapshots %zu restores %zu "
                      "reads %zu/%llu faults %zu dropped %llu\n",
                      (unsigned long long)seed, h.n, voters, proposals,
                      (unsigned long long)tcn_raft_commit_index(h.nodes[l].r),
                      (unsigned long long)tcn_raft_term(h.nodes[l].r), snaps, restores, reads,
                      (unsigned long long)rl->next_ctx, faults, (unsigned long long)h.dropped);
    }
    if (getenv("TCN_RAFT_CHAOS_VERBOSE") != NULL)
        for (int i = 0; i < h.n; i++)
            print_message("  node %llu: snaps %zu applied %llu first %llu last %llu (max %llu trailing %llu)\n",
                          (unsigned long long)h.nodes[i].id, h.nodes[i].snapshots_taken,
                          (unsigned long long)h.nodes[i].applied, (unsigned long long)tcn_raft_first_index(h.nodes[i].r),
                          (unsigned long long)tcn_raft_last_index(h.nodes[i].r),
                          (unsigned long long)h.opts.snapshot_entries_max, (unsigned long long)h.opts.snapshot_trailing);
    free(rl);
    h_free(&h);
}

static void test_random_faults(void **state)
{
    (void)state;
    uint64_t seeds = 40;
    const char *env = getenv("TCN_RAFT_CHAOS_SEEDS");
    if (env != NULL)
        seeds = strtoull(env, NULL, 10);
    uint64_t first = 1;
    const char *one = getenv("TCN_RAFT_CHAOS_SEED");
    if (one != NULL) {
        first = strtoull(one, NULL, 10);
        seeds = first;
    }
    for (uint64_t seed = first; seed <= seeds; seed++)
        run_seed(seed);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_faults),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
