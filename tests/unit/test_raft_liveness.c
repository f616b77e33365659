/* Unit tests: liveness regressions from the Raft review — snapshot transfer under load, promotion under load, stale TimeoutNow, replace's second step.
 *
 * Each scenario failed before its fix (review of the Raft core): a lagging
 * follower whose snapshot transfer restarted at every new snapshot, a
 * learner never "caught up" by an entry count while writes kept coming, a
 * delayed TimeoutNow that deposed a healthy leader, a TimeoutNow ignored by
 * a target that had just become a pre-candidate, and a replacement whose
 * removal step waited for a commit that never came. */
#include "raft_harness.h"

/* --- Snapshot transfer while the leader keeps taking snapshots ------------ */

typedef struct {
    int follower[H_NODES_MAX]; /* 1: watched */
    uint32_t chunks, restarts;
} snap_watch;

static bool watch_chunks(harness *h, int from, int to, tcn_raft_msg *m, void *arg)
{
    (void)h;
    (void)from;
    snap_watch *w = arg;
    if (m->type == TCN_RAFT_MSG_SNAPSHOT && w->follower[to]) {
        w->chunks++;
        if (m->snapshot.offset == 0)
            w->restarts++;
    }
    return true;
}

static void propose_load(harness *h, int l, int t, int per_tick)
{
    char buf[32];
    for (int k = 0; k < per_tick; k++) {
        snprintf(buf, sizeof(buf), "load-%d-%d", t, k);
        if (tcn_raft_role_of(h->nodes[l].r) == TCN_RAFT_LEADER) {
            int rc = tcn_raft_propose(h->nodes[l].r, buf, strlen(buf), NULL);
            assert_true(rc == TCN_OK || rc == TCN_ERR_BUSY);
        }
    }
}

/* The reviewer's scenario: a follower needs a 31-chunk snapshot while the
 * leader takes a new one every 40 entries, one proposal per 10 ms. The
 * transfer used to start over at every new snapshot: nothing was ever
 * installed in 10 s. */
static void snapshot_under_load(int per_tick)
{
    harness h;
    h_init(&h, 2);
    h.opts.snapshot_entries_max = 40;
    h.opts.snapshot_trailing = 5;
    h.opts.snapshot_chunk_bytes = 1000;
    h.snapshot_pad = 30000; /* 31 chunks */
    h.delay_max_ms = 15;    /* one chunk round trip is about one or two ticks */
    h.faults_are_violations = true;
    h_start(&h, 3);
    int l = h_wait_leader(&h, 5000);
    int f = (l + 1) % 3;
    (void)h_replicate(&h, l, 5, 1000);
    h_isolate(&h, f);
    h.nodes[f].up = false;
    char buf[32];
    for (int k = 0; k < 200; k++) {
        snprintf(buf, sizeof(buf), "away-%d", k);
        (void)h_propose(&h, l, buf);
        if (k % 20 == 0)
            h_run(&h, 20);
    }
    h_run(&h, 500);
    snap_watch w = {.follower = {0}};
    w.follower[f] = 1;
    h.filter = watch_chunks;
    h.filter_arg = &w;
    h.nodes[f].up = true;
    h_heal(&h);
    for (int t = 0; t < 1000; t++) { /* 10 s */
        propose_load(&h, l, t, per_tick);
        h_run(&h, H_TICK_MS);
    }
    print_message("load %d/tick: restored %zu, applied %llu (leader %llu), chunks %u, starts %u, leader snapshots %zu\n",
                  per_tick, h.nodes[f].snapshots_restored, (unsigned long long)h.nodes[f].applied,
                  (unsigned long long)h.nodes[l].applied, w.chunks, w.restarts, h.nodes[l].snapshots_taken);
    assert_int_equal(tcn_raft_role_of(h.nodes[l].r), TCN_RAFT_LEADER);
    assert_true(h.nodes[f].snapshots_restored > 0);
    /* Not stuck at the state from before it went away: it follows the leader
     * within a few snapshots (the log keeps only 5 entries below each). */
    assert_true(h.nodes[f].applied + 200 >= h.nodes[l].applied);
    h_check_logs(&h);
    h_free(&h);
}

static void test_snapshot_transfer_idle(void **state)
{
    (void)state;
    snapshot_under_load(0);
}

static void test_snapshot_transfer_under_load(void **state)
{
    (void)state;
    snapshot_under_load(1);
}

/* Three lagging followers return 500 ms apart, each starting a 61-chunk
 * transfer of a different snapshot: with the latest that makes more than
 * the leader keeps (1 + TCN_RAFT_SNAPSHOTS_RETAINED_MAX), so it drops the
 * least advanced transfer's snapshot (three times with this seed) and that
 * transfer starts over with the newest. Every follower still installs
 * snapshot after snapshot and stays within a few of the leader. */
static void test_snapshot_transfers_to_many_followers(void **state)
{
    (void)state;
    harness h;
    h_init(&h, 11);
    h.opts.snapshot_entries_max = 40;
    h.opts.snapshot_trailing = 5;
    h.opts.snapshot_chunk_bytes = 1000;
    h.snapshot_pad = 60000; /* 61 chunks */
    h.delay_max_ms = 15;
    h.faults_are_violations = true;
    h_start(&h, 7);
    int l = h_wait_leader(&h, 5000);
    (void)h_replicate(&h, l, 5, 1000);
    int away[3], n_away = 0;
    for (int i = 0; i < 7 && n_away < 3; i++)
        if (i != l)
            away[n_away++] = i;
    for (int k = 0; k < n_away; k++) {
        h_isolate(&h, away[k]);
        h.nodes[away[k]].up = false;
    }
    char buf[32];
    for (int k = 0; k < 200; k++) {
        snprintf(buf, sizeof(buf), "away-%d", k);
        (void)h_propose(&h, l, buf);
        if (k % 20 == 0)
            h_run(&h, 20);
    }
    h_run(&h, 500);
    h_heal(&h);
    snap_watch w = {.follower = {0}};
    h.filter = watch_chunks;
    h.filter_arg = &w;
    for (int t = 0; t < 1500; t++) { /* 15 s */
        for (int k = 0; k < n_away; k++)
            if (t == 50 * k) {
                h.nodes[away[k]].up = true;
                w.follower[away[k]] = 1;
            }
        propose_load(&h, l, t, 1);
        h_run(&h, H_TICK_MS);
    }
    assert_int_equal(tcn_raft_role_of(h.nodes[l].r), TCN_RAFT_LEADER);
    for (int k = 0; k < n_away; k++) {
        h_node *nd = &h.nodes[away[k]];
        print_message("follower %llu: restored %zu, applied %llu (leader %llu)\n", (unsigned long long)nd->id,
                      nd->snapshots_restored, (unsigned long long)nd->applied, (unsigned long long)h.nodes[l].applied);
        assert_true(nd->snapshots_restored >= 3);
        assert_true(nd->applied + 400 >= h.nodes[l].applied);
    }
    h_check_logs(&h);
    h_free(&h);
}

/* --- Promotion while clients keep writing ------------------------------- */

/* A dead voter is replaced by a fresh learner under load_per_tick proposals
 * per 10 ms. Returns the tick at which tcn_raft_replace succeeded, -1 if it
 * never did within 5 s. */
static int replace_under_load(int per_tick)
{
    harness h;
    h_init(&h, 5);
    h.delay_max_ms = 15;
    h_start(&h, 3);
    int l = h_wait_leader(&h, 5000);
    (void)h_replicate(&h, l, 10, 1000);
    int dead = (l + 1) % 3;
    h.nodes[dead].up = false;
    uint64_t dead_id = h.nodes[dead].id;
    (void)h_add(&h, 4242);
    assert_int_equal(tcn_raft_add_learner(h.nodes[l].r, 4242), TCN_OK);
    h_run(&h, 500);
    char buf[48];
    int busy = 0, ok_at = -1;
    for (int t = 0; t < 500 && ok_at < 0; t++) { /* 5 s; 200 per tick is 20,000 entries/s */
        for (int k = 0; k < per_tick; k++) {
            snprintf(buf, sizeof(buf), "load-%d-%d", t, k);
            int rc = tcn_raft_propose(h.nodes[l].r, buf, strlen(buf), NULL);
            assert_int_equal(rc, TCN_OK);
        }
        int rc = tcn_raft_replace(h.nodes[l].r, dead_id, 4242);
        if (rc == TCN_OK)
            ok_at = t;
        else
            busy++;
        h_run(&h, H_TICK_MS);
    }
    tcn_raft_progress_info pi;
    assert_true(tcn_raft_progress_of(h.nodes[l].r, 4242, &pi));
    print_message("load %d/tick: replace ok at tick %d, busy %d, learner lag now %llu\n", per_tick, ok_at, busy,
                  (unsigned long long)(tcn_raft_last_index(h.nodes[l].r) - pi.match));
    if (ok_at >= 0) {
        /* Both steps land and the cluster keeps committing with the new voter. */
        for (int t = 0; t < 300 && tcn_raft_config_find(tcn_raft_config_of(h.nodes[l].r), dead_id) != NULL; t++) {
            propose_load(&h, l, t, per_tick);
            h_run(&h, H_TICK_MS);
        }
        const tcn_raft_config *c = tcn_raft_config_of(h.nodes[l].r);
        assert_null(tcn_raft_config_find(c, dead_id));
        assert_true(tcn_raft_config_is_voter(c, 4242));
        uint64_t idx = h_propose(&h, l, "after replace");
        h_run(&h, 500);
        assert_true(tcn_raft_commit_index(h.nodes[l].r) >= idx);
        h_check_logs(&h);
    }
    h_free(&h);
    return ok_at;
}

static void test_promote_under_load(void **state)
{
    (void)state;
    assert_true(replace_under_load(0) >= 0);
    assert_true(replace_under_load(100) >= 0);
    assert_true(replace_under_load(200) >= 0);
}

/* --- Stale TimeoutNow ----------------------------------------------------- */

typedef struct {
    bool hold;          /* drop TimeoutNow, keeping a copy */
    bool held;
    tcn_raft_msg msg;   /* a TimeoutNow points to nothing: a plain copy */
    bool starve;        /* drop appends that carry entries to `target` */
    int target;
} tn_hold;

static bool hold_timeout_now(harness *h, int from, int to, tcn_raft_msg *m, void *arg)
{
    (void)h;
    (void)from;
    tn_hold *t = arg;
    if (m->type == TCN_RAFT_MSG_TIMEOUT_NOW && t->hold) {
        t->held = true;
        t->msg = *m;
        return false;
    }
    if (m->type == TCN_RAFT_MSG_APPEND && t->starve && to == t->target && m->append.n_entries > 0)
        return false;
    return true;
}

/* The reviewer's scenario: a TimeoutNow delayed past the transfer's
 * deadline reaches a target that has fallen behind since. */
static void test_stale_timeout_now(void **state)
{
    (void)state;
    harness h;
    h_init(&h, 9);
    h_start(&h, 3);
    int l = h_wait_leader(&h, 5000);
    (void)h_replicate(&h, l, 5, 1000);
    int x = (l + 1) % 3;
    tn_hold t = {.hold = true};
    h.filter = hold_timeout_now;
    h.filter_arg = &t;
    assert_int_equal(tcn_raft_transfer_leadership(h.nodes[l].r, h.nodes[x].id), TCN_OK);
    h_settle(&h);
    assert_true(t.held);
    h_run(&h, 1100); /* the transfer gives up */
    assert_int_equal(tcn_raft_propose(h.nodes[l].r, "after", 5, NULL), TCN_OK);
    h.cut[l][x] = h.cut[x][l] = true; /* x misses the new entry */
    h_run(&h, 100);
    h_heal(&h);
    uint64_t term0 = tcn_raft_term(h.nodes[l].r);
    assert_int_equal(tcn_raft_step(h.nodes[x].r, &t.msg), TCN_OK);
    h_settle(&h);
    h_run(&h, 500);
    assert_int_equal(tcn_raft_role_of(h.nodes[l].r), TCN_RAFT_LEADER);
    assert_int_equal(tcn_raft_term(h.nodes[l].r), term0);
    h_free(&h);
}

/* The hard case: the target's log still ends exactly where the leader's did
 * when it sent the TimeoutNow (it missed every entry since), so the target
 * cannot tell the message is stale. Its pre-vote, which the others refuse,
 * keeps the leader in office. */
static void test_stale_timeout_now_log_unchanged(void **state)
{
    (void)state;
    harness h;
    h_init(&h, 10);
    h_start(&h, 3);
    int l = h_wait_leader(&h, 5000);
    (void)h_replicate(&h, l, 5, 1000);
    int x = (l + 1) % 3;
    tn_hold t = {.hold = true, .target = x};
    h.filter = hold_timeout_now;
    h.filter_arg = &t;
    uint64_t x_last = tcn_raft_last_index(h.nodes[x].r);
    assert_int_equal(tcn_raft_transfer_leadership(h.nodes[l].r, h.nodes[x].id), TCN_OK);
    h_settle(&h);
    assert_true(t.held);
    t.starve = true; /* x hears heartbeats (it keeps following l) but no entries */
    h_run(&h, 1100); /* the transfer gives up */
    assert_int_equal(tcn_raft_propose(h.nodes[l].r, "after", 5, NULL), TCN_OK);
    h_run(&h, 100);
    assert_int_equal(tcn_raft_last_index(h.nodes[x].r), x_last);
    assert_true(tcn_raft_last_index(h.nodes[l].r) > x_last);
    assert_int_equal(tcn_raft_role_of(h.nodes[x].r), TCN_RAFT_FOLLOWER);
    t.starve = false;
    uint64_t term0 = tcn_raft_term(h.nodes[l].r);
    assert_int_equal(tcn_raft_step(h.nodes[x].r, &t.msg), TCN_OK);
    h_settle(&h);
    h_run(&h, 500);
    assert_int_equal(tcn_raft_role_of(h.nodes[l].r), TCN_RAFT_LEADER);
    assert_int_equal(tcn_raft_term(h.nodes[l].r), term0);
    assert_int_equal(tcn_raft_term(h.nodes[x].r), term0);
    h_free(&h);
}

/* A stale TimeoutNow reaching a target that is fully up to date: the leader
 * gave up on that transfer and serves on; nobody asked for an election. */
static void test_stale_timeout_now_target_ahead(void **state)
{
    (void)state;
    harness h;
    h_init(&h, 12);
    h_start(&h, 3);
    int l = h_wait_leader(&h, 5000);
    (void)h_replicate(&h, l, 5, 1000);
    int x = (l + 1) % 3;
    tn_hold t = {.hold = true};
    h.filter = hold_timeout_now;
    h.filter_arg = &t;
    assert_int_equal(tcn_raft_transfer_leadership(h.nodes[l].r, h.nodes[x].id), TCN_OK);
    h_settle(&h);
    assert_true(t.held);
    h_run(&h, 1100); /* the transfer gives up */
    assert_int_equal(tcn_raft_propose(h.nodes[l].r, "after", 5, NULL), TCN_OK);
    h_run(&h, 100);
    assert_int_equal(tcn_raft_last_index(h.nodes[x].r), tcn_raft_last_index(h.nodes[l].r));
    uint64_t term0 = tcn_raft_term(h.nodes[l].r);
    assert_int_equal(tcn_raft_step(h.nodes[x].r, &t.msg), TCN_OK);
    h_settle(&h);
    h_run(&h, 500);
    assert_int_equal(tcn_raft_role_of(h.nodes[l].r), TCN_RAFT_LEADER);
    assert_int_equal(tcn_raft_term(h.nodes[l].r), term0);
    h_free(&h);
}

/* A stale TimeoutNow reaching a target whose log is the leader's: the
 * leader went on only by the no-op it appends when a transfer whose
 * TimeoutNow went out times out, and that no-op is what makes the message
 * stale (without it the target would win an election nobody wants now). */
static void test_stale_timeout_now_idle_leader(void **state)
{
    (void)state;
    harness h;
    h_init(&h, 15);
    h_start(&h, 3);
    int l = h_wait_leader(&h, 5000);
    (void)h_replicate(&h, l, 5, 1000);
    int x = (l + 1) % 3;
    tn_hold t = {.hold = true};
    h.filter = hold_timeout_now;
    h.filter_arg = &t;
    assert_int_equal(tcn_raft_transfer_leadership(h.nodes[l].r, h.nodes[x].id), TCN_OK);
    h_settle(&h);
    assert_true(t.held);
    h_run(&h, 1100); /* the transfer gives up; no client writes */
    assert_int_equal(tcn_raft_last_index(h.nodes[x].r), tcn_raft_last_index(h.nodes[l].r));
    uint64_t term0 = tcn_raft_term(h.nodes[l].r);
    assert_int_equal(tcn_raft_step(h.nodes[x].r, &t.msg), TCN_OK);
    h_settle(&h);
    h_run(&h, 500);
    assert_int_equal(tcn_raft_role_of(h.nodes[l].r), TCN_RAFT_LEADER);
    assert_int_equal(tcn_raft_term(h.nodes[l].r), term0);
    h_free(&h);
}

/* The target's election timer fired just before the TimeoutNow arrived: as
 * a pre-candidate it knows no leader, yet the TimeoutNow comes from the
 * leader of its term, and the transfer completes. */
static void test_timeout_now_reaches_pre_candidate(void **state)
{
    (void)state;
    harness h;
    h_init(&h, 13);
    h_start(&h, 3);
    int l = h_wait_leader(&h, 5000);
    (void)h_replicate(&h, l, 5, 1000);
    int x = (l + 1) % 3;
    h.cut[l][x] = true; /* x hears nothing from l; l still hears x */
    for (int k = 0; k < 300 && tcn_raft_role_of(h.nodes[x].r) != TCN_RAFT_PRE_CANDIDATE; k++)
        h_run(&h, H_TICK_MS);
    assert_int_equal(tcn_raft_role_of(h.nodes[x].r), TCN_RAFT_PRE_CANDIDATE);
    assert_int_equal(tcn_raft_role_of(h.nodes[l].r), TCN_RAFT_LEADER);
    tn_hold t = {.hold = true};
    h.filter = hold_timeout_now;
    h.filter_arg = &t;
    assert_int_equal(tcn_raft_transfer_leadership(h.nodes[l].r, h.nodes[x].id), TCN_OK);
    h_settle(&h);
    assert_true(t.held);
    assert_int_equal(tcn_raft_role_of(h.nodes[x].r), TCN_RAFT_PRE_CANDIDATE);
    h_heal(&h);
    t.hold = false;
    assert_int_equal(tcn_raft_step(h.nodes[x].r, &t.msg), TCN_OK);
    h_settle(&h);
    h_run(&h, 300); /* well before the transfer's deadline */
    assert_int_equal(tcn_raft_role_of(h.nodes[x].r), TCN_RAFT_LEADER);
    assert_int_not_equal(tcn_raft_role_of(h.nodes[l].r), TCN_RAFT_LEADER);
    (void)h_replicate(&h, x, 3, 1000);
    h_check_logs(&h);
    h_free(&h);
}

/* --- Replace: the removal waits out a leadership transfer ---------------- */

/* Step 1 (promotion) commits while a transfer is in progress, so step 2
 * (removal) is refused with BUSY; the cluster is idle afterwards, so no
 * later commit would retry it: the tick does. */
static void test_replace_removal_retried_on_tick(void **state)
{
    (void)state;
    harness h;
    h_init(&h, 14);
    h_start(&h, 3);
    int l = h_wait_leader(&h, 5000);
    (void)h_replicate(&h, l, 10, 1000);
    int dead = (l + 1) % 3;
    h.nodes[dead].up = false;
    uint64_t dead_id = h.nodes[dead].id;
    (void)h_add(&h, 4242);
    assert_int_equal(tcn_raft_add_learner(h.nodes[l].r, 4242), TCN_OK);
    h_run(&h, 500);
    assert_int_equal(tcn_raft_replace(h.nodes[l].r, dead_id, 4242), TCN_OK);
    /* A transfer to the dead voter: it never completes, and blocks changes. */
    assert_int_equal(tcn_raft_transfer_leadership(h.nodes[l].r, dead_id), TCN_OK);
    h_run(&h, 300);
    const tcn_raft_config *c = tcn_raft_config_of(h.nodes[l].r);
    assert_true(tcn_raft_config_is_voter(c, 4242));
    assert_true(tcn_raft_commit_index(h.nodes[l].r) >= tcn_raft_config_index(h.nodes[l].r));
    assert_non_null(tcn_raft_config_find(c, dead_id)); /* step 2 was refused */
    h_run(&h, h.opts.election_timeout_ms_min + 500); /* the transfer gives up; nothing else happens */
    assert_int_equal(tcn_raft_role_of(h.nodes[l].r), TCN_RAFT_LEADER);
    c = tcn_raft_config_of(h.nodes[l].r);
    assert_null(tcn_raft_config_find(c, dead_id));
    assert_true(tcn_raft_commit_index(h.nodes[l].r) >= tcn_raft_config_index(h.nodes[l].r));
    assert_int_equal(tcn_raft_config_voters(c), 3);
    h_free(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_snapshot_transfer_idle),
        cmocka_unit_test(test_snapshot_transfer_under_load),
        cmocka_unit_test(test_snapshot_transfers_to_many_followers),
        cmocka_unit_test(test_promote_under_load),
        cmocka_unit_test(test_stale_timeout_now),
        cmocka_unit_test(test_stale_timeout_now_log_unchanged),
        cmocka_unit_test(test_stale_timeout_now_target_ahead),
        cmocka_unit_test(test_stale_timeout_now_idle_leader),
        cmocka_unit_test(test_timeout_now_reaches_pre_candidate),
        cmocka_unit_test(test_replace_removal_retried_on_tick),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
