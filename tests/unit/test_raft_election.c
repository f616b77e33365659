/* Unit tests: Raft leader election — one leader per term, pre-vote, check-quorum, vote rules, determinism. */
#include "raft_harness.h"

static void test_single_node_elects_itself(void **state)
{
    (void)state;
    harness h;
    h_init(&h, 1);
    h_start(&h, 1);
    int l = h_wait_leader(&h, 3000);
    assert_int_equal(l, 0);
    h_settle(&h);
    tcn_raft *r = h.nodes[0].r;
    assert_int_equal(tcn_raft_term(r), 2);
    /* genesis config at 1, the leader's no-op at 2, both committed and applied */
    assert_int_equal(tcn_raft_last_index(r), 2);
    assert_int_equal(tcn_raft_commit_index(r), 2);
    assert_int_equal(h.nodes[0].applied, 2);
    tcn_raft_entry e;
    assert_true(tcn_raft_entry_at(r, 2, &e));
    assert_int_equal(e.type, TCN_RAFT_ENTRY_NOOP);
    assert_int_equal(e.term, 2);
    h_free(&h);
}

/* Election safety over many seeds: the harness fails the test the moment two
 * nodes lead the same term; here we also see the cluster agree on a leader. */
static void test_one_leader_per_term(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 25; seed++) {
        harness h;
        h_init(&h, seed);
        h_start(&h, seed % 2 ? 3 : 5);
        int l = h_wait_leader(&h, 5000);
        h_run(&h, 2000);
        int leaders = 0;
        for (int i = 0; i < h.n; i++)
            leaders += tcn_raft_role_of(h.nodes[i].r) == TCN_RAFT_LEADER;
        assert_int_equal(leaders, 1);
        l = h_leader(&h);
        for (int i = 0; i < h.n; i++) {
            assert_int_equal(tcn_raft_leader(h.nodes[i].r), h.nodes[l].id);
            assert_int_equal(tcn_raft_term(h.nodes[i].r), tcn_raft_term(h.nodes[l].r));
            /* the new leader's no-op reached everyone */
            assert_int_equal(h.nodes[i].applied, tcn_raft_last_index(h.nodes[l].r));
        }
        h_check_logs(&h);
        h_free(&h);
    }
}

static void test_reelection_after_leader_isolated(void **state)
{
    (void)state;
    harness h;
    h_init(&h, 7);
    h_start(&h, 3);
    int l = h_wait_leader(&h, 5000);
    uint64_t t0 = tcn_raft_term(h.nodes[l].r);
    h_isolate(&h, l);
    int l2 = -1;
    for (int k = 0; k < 500 && l2 < 0; k++) {
        h_run(&h, H_TICK_MS);
        for (int i = 0; i < h.n; i++)
            if (i != l && tcn_raft_role_of(h.nodes[i].r) == TCN_RAFT_LEADER)
                l2 = i;
    }
    assert_true(l2 >= 0);
    assert_true(tcn_raft_term(h.nodes[l2].r) > t0);
    h_heal(&h);
    h_run(&h, 1000);
    /* The old leader stepped down (check-quorum) and now follows. */
    assert_int_equal(tcn_raft_role_of(h.nodes[l].r), TCN_RAFT_FOLLOWER);
    assert_int_equal(tcn_raft_leader(h.nodes[l].r), h.nodes[l2].id);
    h_check_logs(&h);
    h_free(&h);
}

/* Raft thesis §9.6: a partitioned follower keeps timing out, but its
 * pre-votes fail, so its term stays put and, healed, it does not depose a
 * healthy leader. Without pre-vote the same partition disrupts the cluster. */
static void run_partitioned_follower(uint32_t flags, uint64_t *follower_term_growth, bool *leader_kept)
{
    harness h;
    h_init(&h, 11);
    h.opts.flags = flags;
    h_start(&h, 3);
    int l = h_wait_leader(&h, 5000);
    h_run(&h, 500);
    int f = (l + 1) % 3;
    uint64_t term0 = tcn_raft_term(h.nodes[l].r);
    uint64_t fterm0 = tcn_raft_term(h.nodes[f].r);
    h_isolate(&h, f);
    h_run(&h, 10000); /* several election timeouts */
    *follower_term_growth = tcn_raft_term(h.nodes[f].r) - fterm0;
    h_heal(&h);
    h_run(&h, 3000);
    *leader_kept = tcn_raft_role_of(h.nodes[l].r) == TCN_RAFT_LEADER && tcn_raft_term(h.nodes[l].r) == term0;
    h_check_logs(&h);
    h_free(&h);
}

static void test_prevote_prevents_disruption(void **state)
{
    (void)state;
    uint64_t growth;
    bool kept;
    run_partitioned_follower(0, &growth, &kept);
    assert_int_equal(growth, 0);
    assert_true(kept);
    /* The control: the same scenario without pre-vote. */
    run_partitioned_follower(TCN_RAFT_FLAG_NO_PRE_VOTE, &growth, &kept);
    assert_true(growth >= 3);
    assert_false(kept);
}

/* Check-quorum: an isolated leader steps down within one election timeout. */
static void test_check_quorum_step_down(void **state)
{
    (void)state;
    harness h;
    h_init(&h, 3);
    h_start(&h, 3);
    int l = h_wait_leader(&h, 5000);
    h_run(&h, 1000);
    h_isolate(&h, l);
    uint64_t start = h.now, down = 0;
    while (h.now - start < 5000) {
        h_run(&h, H_TICK_MS);
        if (tcn_raft_role_of(h.nodes[l].r) != TCN_RAFT_LEADER) {
            down = h.now - start;
            break;
        }
    }
    assert_true(down > 0);
    assert_true(down <= h.opts.election_timeout_ms_min + H_TICK_MS);
    assert_int_equal(tcn_raft_leader(h.nodes[l].r), 0);
    h_free(&h);

    /* Without check-quorum the isolated leader believes in itself forever. */
    h_init(&h, 3);
    h.opts.flags = TCN_RAFT_FLAG_NO_CHECK_QUORUM;
    h_start(&h, 3);
    l = h_wait_leader(&h, 5000);
    h_isolate(&h, l);
    h_run(&h, 5000);
    assert_int_equal(tcn_raft_role_of(h.nodes[l].r), TCN_RAFT_LEADER);
    h_free(&h);
}

/* Vote rules on one core, by direct messages (Raft thesis §3.6.1, §4.2.3, §9.6). */
static void test_vote_rules(void **state)
{
    (void)state;
    tcn_raft_options o;
    tcn_raft_options_default(&o, 1, 5);
    tcn_raft *r;
    tcn_error err;
    assert_int_equal(tcn_raft_create(&r, &o, 0, &err), TCN_OK);
    const uint64_t ids[] = {1, 2, 3};
    assert_int_equal(tcn_raft_bootstrap(r, ids, 3), TCN_OK);
    tcn_raft_msg out[8];
    (void)h_drain(r, out, 8);

    /* An up-to-date candidate gets our vote. */
    tcn_raft_msg m = h_msg(TCN_RAFT_MSG_VOTE, 2, 1, 5);
    m.vote.last_index = 1;
    m.vote.last_term = 1;
    assert_int_equal(tcn_raft_step(r, &m), TCN_OK);
    assert_int_equal(h_drain(r, out, 8), 1);
    assert_int_equal(out[0].type, TCN_RAFT_MSG_VOTE_RESULT);
    assert_true(out[0].vote_result.granted);
    assert_int_equal(tcn_raft_voted_for(r), 2);
    assert_int_equal(tcn_raft_term(r), 5);

    /* One vote per term. */
    m = h_msg(TCN_RAFT_MSG_VOTE, 3, 1, 5);
    m.vote.last_index = 9;
    m.vote.last_term = 4;
    assert_int_equal(tcn_raft_step(r, &m), TCN_OK);
    assert_int_equal(h_drain(r, out, 8), 1);
    assert_false(out[0].vote_result.granted);

    /* A stale log loses even in a new term, whose term we adopt. */
    m = h_msg(TCN_RAFT_MSG_VOTE, 3, 1, 6);
    m.vote.last_index = 0;
    m.vote.last_term = 0;
    assert_int_equal(tcn_raft_step(r, &m), TCN_OK);
    assert_int_equal(h_drain(r, out, 8), 1);
    assert_false(out[0].vote_result.granted);
    assert_int_equal(tcn_raft_term(r), 6);

    /* A pre-vote binds nothing: granted, answered in the asked term, our term unchanged. */
    m = h_msg(TCN_RAFT_MSG_VOTE, 2, 1, 7);
    m.vote.last_index = 1;
    m.vote.last_term = 1;
    m.vote.pre_vote = true;
    assert_int_equal(tcn_raft_step(r, &m), TCN_OK);
    assert_int_equal(h_drain(r, out, 8), 1);
    assert_true(out[0].vote_result.granted && out[0].vote_result.pre_vote);
    assert_int_equal(out[0].term, 7);
    assert_int_equal(tcn_raft_term(r), 6);

    /* Leader lease: having just heard from leader 2 in term 8, a vote for
     * term 9 is ignored (no answer, no term change) ... */
    m = h_msg(TCN_RAFT_MSG_HEARTBEAT, 2, 1, 8);
    assert_int_equal(tcn_raft_step(r, &m), TCN_OK);
    (void)h_drain(r, out, 8);
    m = h_msg(TCN_RAFT_MSG_VOTE, 3, 1, 9);
    m.vote.last_index = 1;
    m.vote.last_term = 1;
    assert_int_equal(tcn_raft_step(r, &m), TCN_OK);
    assert_int_equal(h_drain(r, out, 8), 0);
    assert_int_equal(tcn_raft_term(r), 8);
    m.vote.pre_vote = true;
    assert_int_equal(tcn_raft_step(r, &m), TCN_OK);
    assert_int_equal(h_drain(r, out, 8), 0);
    /* ... unless it comes from a leadership transfer. */
    m.vote.pre_vote = false;
    m.vote.transfer = true;
    assert_int_equal(tcn_raft_step(r, &m), TCN_OK);
    assert_int_equal(h_drain(r, out, 8), 1);
    assert_true(out[0].vote_result.granted);
    assert_int_equal(tcn_raft_term(r), 9);

    /* Misaddressed messages are refused. */
    m = h_msg(TCN_RAFT_MSG_HEARTBEAT, 2, 4, 9);
    assert_int_equal(tcn_raft_step(r, &m), TCN_ERR_MALFORMED);
    tcn_raft_destroy(r);
}

/* A learner's or a stranger's vote never counts toward a majority. */
static void test_only_voters_count(void **state)
{
    (void)state;
    tcn_raft_options o;
    tcn_raft_options_default(&o, 1, 5);
    tcn_raft *r;
    tcn_error err;
    assert_int_equal(tcn_raft_create(&r, &o, 0, &err), TCN_OK);
    const uint64_t ids[] = {1, 2, 3};
    assert_int_equal(tcn_raft_bootstrap(r, ids, 3), TCN_OK);
    tcn_raft_msg out[8];
    (void)h_drain(r, out, 8);
    tcn_raft_tick(r, 5000); /* election timeout: pre-vote */
    assert_int_equal(tcn_raft_role_of(r), TCN_RAFT_PRE_CANDIDATE);
    assert_int_equal(h_drain(r, out, 8), 2);
    tcn_raft_msg m = h_msg(TCN_RAFT_MSG_VOTE_RESULT, 9, 1, 2); /* not a member */
    m.vote_result.pre_vote = true;
    m.vote_result.granted = true;
    assert_int_equal(tcn_raft_step(r, &m), TCN_OK);
    assert_int_equal(tcn_raft_role_of(r), TCN_RAFT_PRE_CANDIDATE);
    m.from = 3;
    assert_int_equal(tcn_raft_step(r, &m), TCN_OK);
    assert_int_equal(tcn_raft_role_of(r), TCN_RAFT_CANDIDATE);
    assert_int_equal(tcn_raft_term(r), 2);
    tcn_raft_destroy(r);
}

/* One seed drives everything: the same seed replays the same history. */
static void test_deterministic(void **state)
{
    (void)state;
    uint64_t leader[2], term[2], sent[2];
    for (int run = 0; run < 2; run++) {
        harness h;
        h_init(&h, 42);
        h.loss_permille = 100;
        h_start(&h, 5);
        int l = h_wait_leader(&h, 10000);
        h_run(&h, 3000);
        l = h_leader(&h);
        leader[run] = l >= 0 ? h.nodes[l].id : 0;
        term[run] = l >= 0 ? tcn_raft_term(h.nodes[l].r) : 0;
        sent[run] = 0;
        for (int t = 0; t <= TCN_RAFT_MSG_TYPE_MAX; t++)
            sent[run] += h.sent[t];
        h_free(&h);
    }
    assert_int_equal(leader[0], leader[1]);
    assert_int_equal(term[0], term[1]);
    assert_int_equal(sent[0], sent[1]);
}

static void test_options_validated(void **state)
{
    (void)state;
    tcn_raft_options o;
    tcn_raft *r;
    tcn_error err;
    tcn_raft_options_default(&o, 0, 1);
    assert_int_equal(tcn_raft_create(&r, &o, 0, &err), TCN_ERR_CONFIG);
    tcn_raft_options_default(&o, 1, 1);
    o.heartbeat_ms = 2000;
    assert_int_equal(tcn_raft_create(&r, &o, 0, &err), TCN_ERR_CONFIG);
    tcn_raft_options_default(&o, 1, 1);
    o.inflight_max = TCN_RAFT_INFLIGHT_MAX + 1;
    assert_int_equal(tcn_raft_create(&r, &o, 0, &err), TCN_ERR_CONFIG);
    /* Bootstrap only on a fresh node, with ourselves among the voters. */
    tcn_raft_options_default(&o, 1, 1);
    assert_int_equal(tcn_raft_create(&r, &o, 0, &err), TCN_OK);
    const uint64_t others[] = {2, 3};
    assert_int_equal(tcn_raft_bootstrap(r, others, 2), TCN_ERR_USAGE);
    const uint64_t dup[] = {1, 1};
    assert_int_equal(tcn_raft_bootstrap(r, dup, 2), TCN_ERR_USAGE);
    const uint64_t ok[] = {3, 1, 2};
    assert_int_equal(tcn_raft_bootstrap(r, ok, 3), TCN_OK);
    assert_int_equal(tcn_raft_bootstrap(r, ok, 3), TCN_ERR_USAGE);
    const tcn_raft_config *c = tcn_raft_config_of(r);
    assert_int_equal(c->n, 3);
    assert_int_equal(c->members[0].id, 1); /* sorted */
    tcn_raft_destroy(r);
}

/* The transport's hint: the leader's connections all closed (its process
 * died). Both followers hear it, forget the leader and elect a new one
 * within about a heartbeat, not an election timeout later. */
static void test_leader_unreachable_fast_failover(void **state)
{
    (void)state;
    harness h;
    h_init(&h, 21);
    h.opts.heartbeat_ms = 50;
    h.opts.election_timeout_ms_min = 1000;
    h.opts.election_timeout_ms_max = 2000;
    h_start(&h, 3);
    int l = h_wait_leader(&h, 10000);
    h_run(&h, 200);
    uint64_t old = h.nodes[l].id;
    h.nodes[l].up = false; /* kill -9 */
    h_isolate(&h, l);
    for (int i = 0; i < h.n; i++)
        if (i != l) {
            tcn_raft_leader_unreachable(h.nodes[i].r, old);
            assert_int_equal(tcn_raft_leader(h.nodes[i].r), 0);
        }
    uint64_t waited = 0;
    int l2 = -1;
    while (l2 < 0 && waited < 3000) {
        h_run(&h, H_TICK_MS);
        waited += H_TICK_MS;
        l2 = h_leader(&h);
    }
    assert_true(l2 >= 0 && l2 != l);
    /* Within the hint's spread (half the minimum election timeout) plus
     * the rounds, well below the 1000 ms minimum election timeout. */
    assert_true(waited <= 1000 / 2 + 3 * H_TICK_MS);
    h_check_logs(&h);
    h_free(&h);
}

/* A wrong hint (one follower's connection flapped, the leader is fine):
 * that follower's pre-vote is refused by the other, who still hears from
 * the leader; nobody's term moves and the leader keeps leading. A hint
 * about another node than the leader changes nothing. */
static void test_leader_unreachable_wrong_hint(void **state)
{
    (void)state;
    harness h;
    h_init(&h, 22);
    h.opts.heartbeat_ms = 50;
    h.opts.election_timeout_ms_min = 1000;
    h.opts.election_timeout_ms_max = 2000;
    h_start(&h, 3);
    int l = h_wait_leader(&h, 10000);
    h_run(&h, 200);
    uint64_t term0 = tcn_raft_term(h.nodes[l].r);
    int f = (l + 1) % 3, g = (l + 2) % 3;
    tcn_raft_leader_unreachable(h.nodes[g].r, h.nodes[f].id); /* not its leader: nothing */
    assert_int_equal(tcn_raft_leader(h.nodes[g].r), h.nodes[l].id);
    tcn_raft_leader_unreachable(h.nodes[f].r, h.nodes[l].id);
    h_run(&h, 500);
    assert_int_equal(h_leader(&h), l);
    for (int i = 0; i < h.n; i++)
        assert_int_equal(tcn_raft_term(h.nodes[i].r), term0);
    assert_int_equal(tcn_raft_leader(h.nodes[f].r), h.nodes[l].id); /* it follows again */
    h_check_logs(&h);
    h_free(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_single_node_elects_itself),
        cmocka_unit_test(test_one_leader_per_term),
        cmocka_unit_test(test_reelection_after_leader_isolated),
        cmocka_unit_test(test_prevote_prevents_disruption),
        cmocka_unit_test(test_check_quorum_step_down),
        cmocka_unit_test(test_leader_unreachable_fast_failover),
        cmocka_unit_test(test_leader_unreachable_wrong_hint),
        cmocka_unit_test(test_vote_rules),
        cmocka_unit_test(test_only_voters_count),
        cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_options_validated),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
