/* Unit tests: leadership transfer (Raft thesis §3.10) — catch up, TimeoutNow, no pre-vote, timeout. */
#include "raft_harness.h"

static void test_transfer_to_caught_up_follower(void **state)
{
    (void)state;
    harness h;
    h_init(&h, 1);
    h_start(&h, 3);
    int l = h_wait_leader(&h, 5000);
    (void)h_replicate(&h, l, 10, 1000);
    int t = (l + 1) % 3;
    uint64_t term = tcn_raft_term(h.nodes[l].r);
    assert_int_equal(tcn_raft_transfer_leadership(h.nodes[l].r, h.nodes[t].id), TCN_OK);
    h_settle(&h); /* no time passes: no election timeout is involved */
    assert_int_equal(tcn_raft_role_of(h.nodes[t].r), TCN_RAFT_LEADER);
    assert_int_equal(tcn_raft_term(h.nodes[t].r), term + 1);
    assert_int_equal(tcn_raft_role_of(h.nodes[l].r), TCN_RAFT_FOLLOWER);
    assert_int_equal(tcn_raft_leader(h.nodes[l].r), h.nodes[t].id);
    (void)h_replicate(&h, t, 3, 1000);
    h_check_logs(&h);
    h_free(&h);
}

/* The target lags: the leader catches it up first and refuses proposals meanwhile. */
static void test_transfer_catches_up_target(void **state)
{
    (void)state;
    harness h;
    h_init(&h, 2);
    h_start(&h, 3);
    int l = h_wait_leader(&h, 5000);
    int t = (l + 1) % 3;
    h.cut[l][t] = h.cut[t][l] = true;
    uint64_t last = 0;
    for (int k = 0; k < 50; k++)
        last = h_propose(&h, l, "while the target is away");
    h_run(&h, 300);
    assert_true(tcn_raft_last_index(h.nodes[t].r) < last);
    assert_int_equal(tcn_raft_transfer_leadership(h.nodes[l].r, h.nodes[t].id), TCN_OK);
    uint64_t idx;
    assert_int_equal(tcn_raft_propose(h.nodes[l].r, "no", 2, &idx), TCN_ERR_BUSY);
    assert_int_equal(tcn_raft_transfer_leadership(h.nodes[l].r, h.nodes[3 - l - t].id), TCN_ERR_BUSY);
    h_heal(&h);
    h_run(&h, 500);
    assert_int_equal(tcn_raft_role_of(h.nodes[t].r), TCN_RAFT_LEADER);
    tcn_raft_entry e;
    assert_true(tcn_raft_entry_at(h.nodes[t].r, last, &e)); /* the new leader holds everything */
    h_check_logs(&h);
    h_free(&h);
}

/* An unreachable target: the transfer gives up after an election timeout
 * and the leader serves again. */
static void test_transfer_times_out(void **state)
{
    (void)state;
    harness h;
    h_init(&h, 3);
    h_start(&h, 3);
    int l = h_wait_leader(&h, 5000);
    int t = (l + 1) % 3;
    h.nodes[t].up = false;
    (void)h_propose(&h, l, "t misses this");
    h_settle(&h);
    assert_int_equal(tcn_raft_transfer_leadership(h.nodes[l].r, h.nodes[t].id), TCN_OK);
    uint64_t idx;
    assert_int_equal(tcn_raft_propose(h.nodes[l].r, "x", 1, &idx), TCN_ERR_BUSY);
    h_run(&h, h.opts.election_timeout_ms_min + 2 * H_TICK_MS);
    assert_int_equal(h_leader(&h), l);
    assert_int_equal(tcn_raft_propose(h.nodes[l].r, "x", 1, &idx), TCN_OK);
    h_free(&h);
}

static void test_transfer_errors(void **state)
{
    (void)state;
    harness h;
    h_init(&h, 4);
    h_start(&h, 3);
    int l = h_wait_leader(&h, 5000);
    int f = (l + 1) % 3;
    assert_int_equal(tcn_raft_transfer_leadership(h.nodes[f].r, h.nodes[l].id), TCN_ERR_NOT_LEADER);
    assert_int_equal(tcn_raft_transfer_leadership(h.nodes[l].r, 999), TCN_ERR_USAGE);
    assert_int_equal(tcn_raft_transfer_leadership(h.nodes[l].r, h.nodes[l].id), TCN_OK);
    (void)h_add(&h, 50);
    assert_int_equal(tcn_raft_add_learner(h.nodes[l].r, 50), TCN_OK);
    h_run(&h, 200);
    assert_int_equal(tcn_raft_transfer_leadership(h.nodes[l].r, 50), TCN_ERR_USAGE); /* learners cannot lead */
    h_free(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_transfer_to_caught_up_follower),
        cmocka_unit_test(test_transfer_catches_up_target),
        cmocka_unit_test(test_transfer_times_out),
        cmocka_unit_test(test_transfer_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
