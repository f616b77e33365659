/* Unit tests: regression scenarios for Raft core bugs the simulator (tcn-sim) found, one test per bug. */
#include "raft/config.h"
#include "raft_harness.h"

static void connect(harness *h, int a, int b)
{
    h->cut[a][b] = false;
    h->cut[b][a] = false;
}

/* tcn-sim --seed 754 --steps 5000 (before the fix): a liveness failure.
 *
 * Voters {L,A,B,C}; L leads and appends a configuration that removes itself,
 * but is cut off before anyone receives it; C is cut off too. A and B cannot
 * elect (2 of 4). Then L, A and B are joined again: they hold a majority of
 * both the old configuration (3 of 4) and the new one (2 of 3). L's log is
 * the longer, so L refuses its vote to A and B, and they need it. L used to
 * never campaign because its latest configuration no longer lists it as a
 * voter: the three waited forever. Now L campaigns under the new
 * configuration (without counting itself, Raft thesis §4.2.2), commits it,
 * steps down, and A or B takes over. */
static void test_removed_leader_with_uncommitted_removal_campaigns(void **state)
{
    (void)state;
    harness h;
    h_init(&h, 754);
    h.faults_are_violations = true;
    h_start(&h, 4);
    int l = h_wait_leader(&h, 10000);
    (void)h_replicate(&h, l, 5, 2000);
    int c = (l + 3) % 4, a = (l + 1) % 4, b = (l + 2) % 4;
    uint64_t lid = h.nodes[l].id;
    h_isolate(&h, l);
    h_isolate(&h, c);
    assert_int_equal(tcn_raft_remove(h.nodes[l].r, lid), TCN_OK);
    uint64_t removal = tcn_raft_last_index(h.nodes[l].r);
    h_run(&h, 5000);
    assert_int_not_equal(tcn_raft_role_of(h.nodes[l].r), TCN_RAFT_LEADER); /* check-quorum */
    assert_int_not_equal(tcn_raft_role_of(h.nodes[a].r), TCN_RAFT_LEADER);
    assert_int_not_equal(tcn_raft_role_of(h.nodes[b].r), TCN_RAFT_LEADER);
    assert_true(tcn_raft_last_index(h.nodes[a].r) < removal);
    assert_false(tcn_raft_config_is_voter(tcn_raft_config_of(h.nodes[l].r), lid));

    connect(&h, l, a);
    connect(&h, l, b);
    connect(&h, a, b);
    int nl = -1;
    for (uint64_t t = 0; t < 20000 && nl < 0; t += H_TICK_MS) {
        h_run(&h, H_TICK_MS);
        int x = h_leader(&h);
        if (x == a || x == b)
            nl = x;
    }
    assert_true(nl == a || nl == b);
    /* The removal committed: the new configuration is {A,B,C}. */
    assert_null(tcn_raft_config_find(tcn_raft_config_of(h.nodes[nl].r), lid));
    assert_true(tcn_raft_commit_index(h.nodes[nl].r) >= removal);
    uint64_t idx = h_propose(&h, nl, "after");
    h_run(&h, 2000);
    assert_true(h.nodes[a].applied >= idx);
    assert_true(h.nodes[b].applied >= idx);
    h_check_logs(&h);
    h_free(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_removed_leader_with_uncommitted_removal_campaigns),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
