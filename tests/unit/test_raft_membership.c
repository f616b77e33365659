/* Unit tests: Raft membership — learners, promotion when caught up, removal, managed replace, one change at a time. */
#include "raft/config.h"
#include "raft_harness.h"

static int g_votes_from;
static uint32_t g_votes;
static bool count_votes(harness *h, int from, int to, tcn_raft_msg *m, void *arg)
{
    (void)h;
    (void)to;
    (void)arg;
    if (m->type == TCN_RAFT_MSG_VOTE && from == g_votes_from)
        g_votes++;
    return true;
}

static void wait_applied_everywhere(harness *h, uint64_t max_ms)
{
    int l = h_leader(h);
    assert_true(l >= 0);
    for (uint64_t t = 0; t < max_ms; t += H_TICK_MS) {
        bool all = true;
        for (int i = 0; i < h->n; i++)
            if (h->nodes[i].up && h->nodes[i].applied < tcn_raft_last_index(h->nodes[l].r))
                all = false;
        if (all)
            return;
        h_run(h, H_TICK_MS);
    }
    fail_msg("not applied everywhere");
}

/* A new node starts empty, without a configuration, and joins as a learner:
 * it receives the whole log but never campaigns. */
static void test_learner_joins_and_never_campaigns(void **state)
{
    (void)state;
    harness h;
    h_init(&h, 1);
    h_start(&h, 3);
    int l = h_wait_leader(&h, 5000);
    (void)h_replicate(&h, l, 20, 1000);
    int n = h_add(&h, 1001);
    assert_int_equal(tcn_raft_config_of(h.nodes[n].r)->n, 0);
    assert_int_equal(tcn_raft_add_learner(h.nodes[l].r, 1001), TCN_OK);
    wait_applied_everywhere(&h, 2000);
    assert_int_equal(h.nodes[n].n_normal, 20);
    assert_memory_equal(h.nodes[n].sm, h.nodes[l].sm, TCN_SHA256_LEN);
    const tcn_raft_member *mb = tcn_raft_config_find(&h.nodes[n].config, 1001);
    assert_non_null(mb);
    assert_int_equal(mb->role, TCN_RAFT_LEARNER);
    /* cut off from everyone for many election timeouts: no campaign */
    g_votes_from = n;
    g_votes = 0;
    h.filter = count_votes;
    uint64_t term = tcn_raft_term(h.nodes[n].r);
    h_isolate(&h, n);
    h_run(&h, 10000);
    assert_int_equal(g_votes, 0);
    assert_int_equal(tcn_raft_role_of(h.nodes[n].r), TCN_RAFT_FOLLOWER);
    assert_int_equal(tcn_raft_term(h.nodes[n].r), term);
    h_check_logs(&h);
    h_free(&h);
}

/* {A,B} voters plus learner L: with B gone, A and L are not a majority —
 * nothing commits and check-quorum deposes A. */
static void test_learner_does_not_count(void **state)
{
    (void)state;
    harness h;
    h_init(&h, 2);
    h_start(&h, 2);
    int l = h_wait_leader(&h, 5000);
    int b = 1 - l;
    int n = h_add(&h, 77);
    assert_int_equal(tcn_raft_add_learner(h.nodes[l].r, 77), TCN_OK);
    wait_applied_everywhere(&h, 2000);
    h_isolate(&h, b);
    uint64_t commit = tcn_raft_commit_index(h.nodes[l].r);
    uint64_t x = h_propose(&h, l, "x");
    h_run(&h, 300);
    assert_int_equal(tcn_raft_last_index(h.nodes[n].r), x); /* L has it ... */
    assert_int_equal(tcn_raft_commit_index(h.nodes[l].r), commit); /* ... and it does not count */
    h_run(&h, h.opts.election_timeout_ms_min);
    assert_int_not_equal(tcn_raft_role_of(h.nodes[l].r), TCN_RAFT_LEADER);
    h_free(&h);
}

static void test_promote_only_when_caught_up(void **state)
{
    (void)state;
    harness h;
    h_init(&h, 3);
    h.opts.promote_lag_max = 5;
    h_start(&h, 3);
    int l = h_wait_leader(&h, 5000);
    (void)h_replicate(&h, l, 30, 1000);
    int n = h_add(&h, 500);
    h_isolate(&h, n);
    assert_int_equal(tcn_raft_add_learner(h.nodes[l].r, 500), TCN_OK);
    h_run(&h, 300);
    assert_int_equal(tcn_raft_promote(h.nodes[l].r, 500), TCN_ERR_BUSY);
    assert_int_equal(tcn_raft_promote(h.nodes[l].r, 2000), TCN_ERR_USAGE);      /* not a member */
    assert_int_equal(tcn_raft_promote(h.nodes[l].r, h.nodes[(l + 1) % 3].id), TCN_ERR_USAGE); /* a voter */
    h_heal(&h);
    h_run(&h, 500);
    assert_int_equal(tcn_raft_promote(h.nodes[l].r, 500), TCN_OK);
    h_run(&h, 300);
    const tcn_raft_config *c = tcn_raft_config_of(h.nodes[l].r);
    assert_int_equal(tcn_raft_config_voters(c), 4);
    assert_true(tcn_raft_config_is_voter(&h.nodes[n].config, 500));
    /* 4 voters need 3: with one old voter gone, the new voter makes the majority */
    h_isolate(&h, (l + 1) % 3);
    uint64_t idx = h_propose(&h, l, "after promotion");
    h_run(&h, 300);
    assert_true(tcn_raft_commit_index(h.nodes[l].r) >= idx);
    h_free(&h);
}

static void test_one_change_at_a_time(void **state)
{
    (void)state;
    /* Not before the leader committed an entry of its term. */
    tcn_raft_options o;
    tcn_raft_options_default(&o, 1, 1);
    tcn_raft *r;
    tcn_error err;
    assert_int_equal(tcn_raft_create(&r, &o, 0, &err), TCN_OK);
    const uint64_t ids[] = {1};
    assert_int_equal(tcn_raft_bootstrap(r, ids, 1), TCN_OK);
    tcn_raft_tick(r, 5000);
    assert_int_equal(tcn_raft_role_of(r), TCN_RAFT_LEADER);
    assert_int_equal(tcn_raft_add_learner(r, 5), TCN_ERR_BUSY); /* the no-op is not committed yet */
    tcn_raft_ready rd;
    tcn_raft_get_ready(r, &rd);
    tcn_raft_advance(r);
    assert_int_equal(tcn_raft_add_learner(r, 5), TCN_OK);
    /* One uncommitted change at a time: the sole voter commits the first at
     * the next ready; until then a second change waits. */
    assert_int_equal(tcn_raft_add_learner(r, 6), TCN_ERR_BUSY);
    tcn_raft_get_ready(r, &rd);
    tcn_raft_advance(r);
    assert_int_equal(tcn_raft_add_learner(r, 6), TCN_OK);
    assert_int_equal(tcn_raft_add_learner(r, 7), TCN_ERR_BUSY);
    tcn_raft_get_ready(r, &rd);
    tcn_raft_advance(r);
    assert_int_equal(tcn_raft_add_learner(r, 6), TCN_ERR_USAGE); /* already a member */
    assert_int_equal(tcn_raft_remove(r, 1), TCN_ERR_USAGE);      /* the last voter */
    assert_int_equal(tcn_raft_remove(r, 99), TCN_ERR_USAGE);
    assert_int_equal(tcn_raft_remove(r, 6), TCN_OK);
    tcn_raft_destroy(r);
}

/* A removed follower cannot disrupt: it keeps timing out but the others,
 * hearing from their leader, ignore it (Raft thesis §4.2.3). */
static void test_remove_voter(void **state)
{
    (void)state;
    harness h;
    h_init(&h, 4);
    h_start(&h, 3);
    int l = h_wait_leader(&h, 5000);
    int c = (l + 2) % 3;
    (void)h_replicate(&h, l, 5, 1000);
    assert_int_equal(tcn_raft_remove(h.nodes[l].r, h.nodes[c].id), TCN_OK);
    h_run(&h, 500);
    assert_int_equal(tcn_raft_config_voters(tcn_raft_config_of(h.nodes[l].r)), 2);
    uint64_t term = tcn_raft_term(h.nodes[l].r);
    h_run(&h, 10000);
    assert_int_equal(h_leader(&h), l);
    assert_int_equal(tcn_raft_term(h.nodes[l].r), term);
    /* the two remaining voters commit alone */
    h.nodes[c].up = false;
    uint64_t idx = h_propose(&h, l, "two voters");
    h_run(&h, 300);
    assert_true(tcn_raft_commit_index(h.nodes[l].r) >= idx);
    h_free(&h);
}

/* Voter sets along a log: consecutive configurations differ by one voter at most. */
static void check_single_server_steps(tcn_raft *r, uint32_t *max_voters_seen)
{
    tcn_raft_config prev = {0};
    bool have = false;
    *max_voters_seen = 0;
    for (uint64_t i = tcn_raft_first_index(r); i <= tcn_raft_last_index(r); i++) {
        tcn_raft_entry e;
        assert_true(tcn_raft_entry_at(r, i, &e));
        if (e.type != TCN_RAFT_ENTRY_CONFIG)
            continue;
        tcn_raft_config c;
        assert_int_equal(tcn_raft_config_parse(e.data, e.len, &c, NULL), TCN_OK);
        uint32_t v = tcn_raft_config_voters(&c);
        if (v > *max_voters_seen)
            *max_voters_seen = v;
        if (have) {
            uint32_t diff = 0;
            for (uint32_t k = 0; k < c.n; k++)
                if (c.members[k].role == TCN_RAFT_VOTER && !tcn_raft_config_is_voter(&prev, c.members[k].id))
                    diff++;
            for (uint32_t k = 0; k < prev.n; k++)
                if (prev.members[k].role == TCN_RAFT_VOTER && !tcn_raft_config_is_voter(&c, prev.members[k].id))
                    diff++;
            assert_true(diff <= 1);
        }
        prev = c;
        have = true;
    }
}

/* A dead voter is replaced by a fresh node: learner, caught up, promoted,
 * then the old one removed — two committed steps, never both at once. */
static void test_replace_dead_member(void **state)
{
    (void)state;
    harness h;
    h_init(&h, 5);
    h_start(&h, 3);
    int l = h_wait_leader(&h, 5000);
    (void)h_replicate(&h, l, 10, 1000);
    int dead = (l + 1) % 3;
    h.nodes[dead].up = false;
    uint64_t dead_id = h.nodes[dead].id;
    int n = h_add(&h, 4242);
    assert_int_equal(tcn_raft_replace(h.nodes[l].r, dead_id, 4242), TCN_ERR_USAGE); /* not a member yet */
    assert_int_equal(tcn_raft_add_learner(h.nodes[l].r, 4242), TCN_OK);
    h_run(&h, 500);
    assert_int_equal(tcn_raft_replace(h.nodes[l].r, 4242, dead_id), TCN_ERR_USAGE); /* old must be a voter */
    assert_int_equal(tcn_raft_replace(h.nodes[l].r, dead_id, 4242), TCN_OK);
    h_run(&h, 1000);
    const tcn_raft_config *c = tcn_raft_config_of(h.nodes[l].r);
    assert_int_equal(c->n, 3);
    assert_int_equal(tcn_raft_config_voters(c), 3);
    assert_true(tcn_raft_config_is_voter(c, 4242));
    assert_null(tcn_raft_config_find(c, dead_id));
    assert_true(tcn_raft_config_is_voter(&h.nodes[n].config, 4242));
    uint32_t max_voters;
    check_single_server_steps(h.nodes[l].r, &max_voters);
    assert_int_equal(max_voters, 4); /* {old..., new} existed in between */
    /* fault tolerance is back: lose another original voter and still commit */
    int other = 3 - l - dead;
    h.nodes[other].up = false;
    uint64_t idx = h_propose(&h, l, "after replace");
    h_run(&h, 300);
    assert_true(tcn_raft_commit_index(h.nodes[l].r) >= idx);
    assert_int_equal(h.nodes[n].applied, idx);
    h_free(&h);
}

/* Replace refuses to promote a learner that lags; nothing changes. */
static void test_replace_waits_for_catch_up(void **state)
{
    (void)state;
    harness h;
    h_init(&h, 6);
    h.opts.promote_lag_max = 2;
    h_start(&h, 3);
    int l = h_wait_leader(&h, 5000);
    (void)h_replicate(&h, l, 10, 1000);
    int n = h_add(&h, 31);
    h_isolate(&h, n);
    assert_int_equal(tcn_raft_add_learner(h.nodes[l].r, 31), TCN_OK);
    h_run(&h, 300);
    uint64_t old = h.nodes[(l + 1) % 3].id;
    assert_int_equal(tcn_raft_replace(h.nodes[l].r, old, 31), TCN_ERR_BUSY);
    assert_int_equal(tcn_raft_config_voters(tcn_raft_config_of(h.nodes[l].r)), 3);
    h_heal(&h);
    h_run(&h, 500);
    assert_int_equal(tcn_raft_replace(h.nodes[l].r, old, 31), TCN_OK);
    h_run(&h, 1000);
    assert_null(tcn_raft_config_find(tcn_raft_config_of(h.nodes[l].r), old));
    h_free(&h);
}

/* Raft thesis §4.2.2: a leader may remove itself; it steps down once that is committed. */
static void test_leader_removes_itself(void **state)
{
    (void)state;
    harness h;
    h_init(&h, 7);
    h_start(&h, 3);
    int l = h_wait_leader(&h, 5000);
    assert_int_equal(tcn_raft_remove(h.nodes[l].r, h.nodes[l].id), TCN_OK);
    h_run(&h, 300);
    assert_int_equal(tcn_raft_role_of(h.nodes[l].r), TCN_RAFT_FOLLOWER);
    g_votes_from = l;
    g_votes = 0;
    h.filter = count_votes;
    h_run(&h, 5000);
    int l2 = h_leader(&h);
    assert_true(l2 >= 0 && l2 != l);
    assert_int_equal(g_votes, 0); /* no longer a voter: never campaigns */
    assert_int_equal(tcn_raft_config_voters(tcn_raft_config_of(h.nodes[l2].r)), 2);
    uint64_t idx = h_propose(&h, l2, "without the old leader");
    h_run(&h, 300);
    assert_true(tcn_raft_commit_index(h.nodes[l2].r) >= idx);
    h_free(&h);
}

/* Genesis with one node, then the others join as learners and are promoted. */
static void test_grow_from_one_node(void **state)
{
    (void)state;
    harness h;
    h_init(&h, 8);
    h_start(&h, 1);
    int l = h_wait_leader(&h, 3000);
    (void)h_replicate(&h, l, 5, 500);
    for (uint64_t id = 2; id <= 3; id++) {
        (void)h_add(&h, id);
        assert_int_equal(tcn_raft_add_learner(h.nodes[l].r, id), TCN_OK);
        h_run(&h, 300);
        assert_int_equal(tcn_raft_promote(h.nodes[l].r, id), TCN_OK);
        h_run(&h, 300);
    }
    assert_int_equal(tcn_raft_config_voters(tcn_raft_config_of(h.nodes[l].r)), 3);
    for (int i = 0; i < 3; i++)
        assert_int_equal(tcn_raft_config_voters(&h.nodes[i].config), 3);
    /* the first node can now fail */
    h.nodes[l].up = false;
    int l2 = -1;
    for (int k = 0; k < 1000 && (l2 = h_leader(&h)) < 0; k++)
        h_run(&h, H_TICK_MS);
    assert_true(l2 > 0);
    (void)h_replicate(&h, l2, 3, 1000);
    h_free(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_learner_joins_and_never_campaigns),
        cmocka_unit_test(test_learner_does_not_count),
        cmocka_unit_test(test_promote_only_when_caught_up),
        cmocka_unit_test(test_one_change_at_a_time),
        cmocka_unit_test(test_remove_voter),
        cmocka_unit_test(test_replace_dead_member),
        cmocka_unit_test(test_replace_waits_for_catch_up),
        cmocka_unit_test(test_leader_removes_itself),
        cmocka_unit_test(test_grow_from_one_node),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
