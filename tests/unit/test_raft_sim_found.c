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

/* B and C exchange no entries: whichever of them leads, its first entry
 * reaches only the learner. */
static bool no_appends_between(harness *h, int from, int to, tcn_raft_msg *m, void *arg)
{
    const int *bc = arg;
    (void)h;
    bool between = (from == bc[0] && to == bc[1]) || (from == bc[1] && to == bc[0]);
    return !(between && m->type == TCN_RAFT_MSG_APPEND);
}

/* tcn-sim --seed 214 --steps 20000 --nodes 5 (before the fix): a wedge.
 *
 * Voters {A,B,C} and learner L. A leads and appends L's promotion, but is
 * cut off before anyone receives it. B or C (call it X) is elected in a
 * higher term; X's first entry reaches only L; X dies. Now L alone holds
 * the newest entry. A's configuration {A,B,C,L} needs 3 votes: A, C' (the
 * survivor of B and C) and L. The survivor needs A's vote in {A,B,C}, and A
 * refuses it (A's log is longer). L used to refuse A (L's log is newer) and
 * never campaigns (a learner in its own log): nothing could be elected,
 * ever. Now a node that no configuration has ever made a voter grants votes
 * without comparing logs (its copies never counted toward a commit, which
 * tcn_raft_match_counts guarantees), and A is elected. */
static void test_never_voter_learner_does_not_block_elections(void **state)
{
    (void)state;
    harness h;
    h_init(&h, 214);
    h.faults_are_violations = true;
    h_start(&h, 3);
    int a = h_wait_leader(&h, 10000);
    int lrn = h_add(&h, 77);
    assert_int_equal(tcn_raft_add_learner(h.nodes[a].r, 77), TCN_OK);
    (void)h_replicate(&h, a, 5, 2000);
    h_run(&h, 200);
    assert_int_equal(tcn_raft_last_index(h.nodes[lrn].r), tcn_raft_last_index(h.nodes[a].r));
    assert_false(tcn_raft_ever_voter(h.nodes[lrn].r));
    assert_true(tcn_raft_ever_voter(h.nodes[a].r));

    h_isolate(&h, a);
    assert_int_equal(tcn_raft_promote(h.nodes[a].r, 77), TCN_OK);
    uint64_t promotion = tcn_raft_last_index(h.nodes[a].r);
    uint64_t term_a = tcn_raft_term(h.nodes[a].r);

    int bc[2] = {(a + 1) % 3, (a + 2) % 3};
    h.filter = no_appends_between;
    h.filter_arg = bc;
    int x = -1;
    for (uint64_t t = 0; t < 20000 && x < 0; t += H_TICK_MS) {
        h_run(&h, H_TICK_MS);
        int l = h_leader(&h);
        if (l == bc[0] || l == bc[1])
            x = l;
    }
    assert_true(x >= 0);
    h_run(&h, 100); /* X's first entry reaches L */
    assert_true(tcn_raft_term(h.nodes[x].r) > term_a);
    uint64_t lt = 0;
    tcn_raft_entry e;
    assert_true(tcn_raft_entry_at(h.nodes[lrn].r, tcn_raft_last_index(h.nodes[lrn].r), &e));
    lt = e.term;
    assert_int_equal(lt, tcn_raft_term(h.nodes[x].r));
    assert_false(tcn_raft_ever_voter(h.nodes[lrn].r));
    int survivor = x == bc[0] ? bc[1] : bc[0];
    h_isolate(&h, x); /* X dies */
    h.filter = NULL;
    connect(&h, a, survivor);
    connect(&h, a, lrn);
    connect(&h, survivor, lrn);

    int nl = -1;
    for (uint64_t t = 0; t < 20000 && nl < 0; t += H_TICK_MS) {
        h_run(&h, H_TICK_MS);
        int l = h_leader(&h);
        if (l >= 0 && l != x)
            nl = l;
    }
    assert_int_equal(nl, a);
    h_run(&h, 500);
    assert_true(tcn_raft_commit_index(h.nodes[a].r) > promotion);
    assert_true(tcn_raft_config_is_voter(tcn_raft_config_of(h.nodes[lrn].r), 77));
    assert_true(tcn_raft_ever_voter(h.nodes[lrn].r));
    uint64_t idx = h_propose(&h, a, "after");
    h_run(&h, 1000);
    assert_true(h.nodes[survivor].applied >= idx);
    assert_true(h.nodes[lrn].applied >= idx);
    h_check_logs(&h);
    h_free(&h);
}

/* The leader's side of the rule: a voter's copies count only from the index
 * where the configuration in effect names it a voter. Voters {A,B}, B cut
 * off; A appends y and z (uncommitted: no majority of {A,B}) and then L's
 * promotion. While L holds y and z but not the promotion, A must not commit
 * them with L's copies (2 of {A,B,L} would otherwise be enough): L has never
 * been a voter, so it may vote for a log without them. */
static bool hold_back_promotion(harness *h, int from, int to, tcn_raft_msg *m, void *arg)
{
    const uint64_t *promotion = arg;
    (void)h;
    (void)from;
    (void)to;
    if (m->type == TCN_RAFT_MSG_APPEND && m->append.n_entries > 0 &&
        m->append.prev_index + m->append.n_entries >= *promotion)
        return false;
    return true;
}

static void test_copies_below_promotion_do_not_count(void **state)
{
    (void)state;
    harness h;
    h_init(&h, 215);
    h_start(&h, 2);
    int a = h_wait_leader(&h, 10000);
    int b = 1 - a;
    int lrn = h_add(&h, 77);
    assert_int_equal(tcn_raft_add_learner(h.nodes[a].r, 77), TCN_OK);
    (void)h_replicate(&h, a, 3, 2000);
    h_run(&h, 200);
    h_isolate(&h, b);
    connect(&h, a, lrn);
    /* Two entries only A and L hold: {A,B} cannot commit them without B. */
    (void)h_propose(&h, a, "y");
    (void)h_propose(&h, a, "z");
    h_run(&h, 100);
    assert_int_equal(tcn_raft_promote(h.nodes[a].r, 77), TCN_OK);
    uint64_t promotion = tcn_raft_last_index(h.nodes[a].r);
    uint64_t commit = tcn_raft_commit_index(h.nodes[a].r);
    assert_true(commit < promotion);
    h.filter = hold_back_promotion;
    h.filter_arg = &promotion;
    h_run(&h, 300);
    /* L holds everything below the promotion; none of it may commit by L. */
    assert_int_equal(tcn_raft_last_index(h.nodes[lrn].r), promotion - 1);
    assert_false(tcn_raft_ever_voter(h.nodes[lrn].r));
    assert_int_equal(tcn_raft_commit_index(h.nodes[a].r), commit);
    /* Once L holds the promotion, it counts. */
    h.filter = NULL;
    h_run(&h, 300);
    assert_true(tcn_raft_ever_voter(h.nodes[lrn].r));
    assert_true(tcn_raft_commit_index(h.nodes[a].r) >= promotion);
    h_free(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_removed_leader_with_uncommitted_removal_campaigns),
        cmocka_unit_test(test_never_voter_learner_does_not_block_elections),
        cmocka_unit_test(test_copies_below_promotion_do_not_count),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
