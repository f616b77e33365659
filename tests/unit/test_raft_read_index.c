/* Unit tests: ReadIndex (Raft thesis §6.4) — needs a commit in the leader's term and a heartbeat quorum. */
#include "raft_harness.h"

static void test_read_refused_off_leader(void **state)
{
    (void)state;
    harness h;
    h_init(&h, 1);
    h_start(&h, 3);
    int l = h_wait_leader(&h, 5000);
    assert_int_equal(tcn_raft_read_index(h.nodes[(l + 1) % 3].r, 1), TCN_ERR_NOT_LEADER);
    h_free(&h);
}

static void test_read_single_voter(void **state)
{
    (void)state;
    harness h;
    h_init(&h, 2);
    h_start(&h, 1);
    int l = h_wait_leader(&h, 3000);
    h_settle(&h);
    uint64_t idx = h_propose(&h, l, "v");
    h_settle(&h);
    assert_int_equal(tcn_raft_read_index(h.nodes[l].r, 77), TCN_OK);
    h_settle(&h);
    assert_int_equal(h.nodes[l].n_reads, 1);
    assert_int_equal(h.nodes[l].reads[0].ctx, 77);
    assert_int_equal(h.nodes[l].reads[0].status, TCN_OK);
    assert_int_equal(h.nodes[l].reads[0].index, idx);
    h_free(&h);
}

/* Direct on one core: a fresh leader answers nothing before its no-op is
 * committed, then nothing before a majority answered the heartbeat round. */
static void test_read_waits_for_term_commit_and_quorum(void **state)
{
    (void)state;
    tcn_raft_options o;
    tcn_raft_options_default(&o, 1, 1);
    tcn_raft *r;
    tcn_error err;
    assert_int_equal(tcn_raft_create(&r, &o, 0, &err), TCN_OK);
    const uint64_t ids[] = {1, 2, 3};
    assert_int_equal(tcn_raft_bootstrap(r, ids, 3), TCN_OK);
    tcn_raft_msg out[16];
    (void)h_drain(r, out, 16);
    tcn_raft_tick(r, 5000);
    (void)h_drain(r, out, 16);
    tcn_raft_msg m = h_msg(TCN_RAFT_MSG_VOTE_RESULT, 2, 1, 2);
    m.vote_result.pre_vote = true;
    m.vote_result.granted = true;
    assert_int_equal(tcn_raft_step(r, &m), TCN_OK);
    (void)h_drain(r, out, 16);
    m.vote_result.pre_vote = false;
    assert_int_equal(tcn_raft_step(r, &m), TCN_OK);
    assert_int_equal(tcn_raft_role_of(r), TCN_RAFT_LEADER);
    uint64_t noop = tcn_raft_last_index(r);
    assert_int_equal(noop, 2);

    assert_int_equal(tcn_raft_read_index(r, 7), TCN_OK);
    tcn_raft_ready rd;
    tcn_raft_get_ready(r, &rd);
    assert_int_equal(rd.n_reads, 0);
    size_t hb = 0;
    for (size_t i = 0; i < rd.n_msgs; i++)
        hb += rd.msgs[i].type == TCN_RAFT_MSG_HEARTBEAT;
    assert_int_equal(hb, 0); /* no round before the commit index is known */
    tcn_raft_advance(r);

    /* a heartbeat answer alone confirms nothing yet */
    tcn_raft_msg a = h_msg(TCN_RAFT_MSG_HEARTBEAT_RESULT, 2, 1, 2);
    a.heartbeat_result.read_seq = 1;
    assert_int_equal(tcn_raft_step(r, &a), TCN_OK);
    tcn_raft_get_ready(r, &rd);
    assert_int_equal(rd.n_reads, 0);
    tcn_raft_advance(r);

    /* node 2 takes the no-op: committed in the leader's term; the round starts */
    tcn_raft_msg ok = h_msg(TCN_RAFT_MSG_APPEND_RESULT, 2, 1, 2);
    ok.append_result.status = TCN_RAFT_APPEND_OK;
    ok.append_result.index = noop;
    assert_int_equal(tcn_raft_step(r, &ok), TCN_OK);
    assert_int_equal(tcn_raft_commit_index(r), noop);
    tcn_raft_get_ready(r, &rd);
    assert_int_equal(rd.n_reads, 0);
    uint64_t seq = 0;
    hb = 0;
    for (size_t i = 0; i < rd.n_msgs; i++)
        if (rd.msgs[i].type == TCN_RAFT_MSG_HEARTBEAT) {
            hb++;
            seq = rd.msgs[i].heartbeat.read_seq;
        }
    assert_int_equal(hb, 2);
    assert_true(seq >= 1);
    tcn_raft_advance(r);

    /* an answer to an older round does not confirm */
    a.heartbeat_result.read_seq = seq - 1;
    a.from = 3;
    assert_int_equal(tcn_raft_step(r, &a), TCN_OK);
    tcn_raft_get_ready(r, &rd);
    assert_int_equal(rd.n_reads, 0);
    tcn_raft_advance(r);

    a.heartbeat_result.read_seq = seq;
    assert_int_equal(tcn_raft_step(r, &a), TCN_OK);
    tcn_raft_get_ready(r, &rd);
    assert_int_equal(rd.n_reads, 1);
    assert_int_equal(rd.reads[0].ctx, 7);
    assert_int_equal(rd.reads[0].index, noop);
    assert_int_equal(rd.reads[0].status, TCN_OK);
    tcn_raft_advance(r);
    tcn_raft_destroy(r);
}

/* Many reads between two readies share one heartbeat round. */
typedef struct {
    int leader;
    uint32_t heartbeats;
    bool drop_answers;
} hb_watch;

static bool watch_heartbeats(harness *h, int from, int to, tcn_raft_msg *m, void *arg)
{
    (void)h;
    (void)to;
    hb_watch *w = arg;
    if (m->type == TCN_RAFT_MSG_HEARTBEAT && from == w->leader)
        w->heartbeats++;
    if (m->type == TCN_RAFT_MSG_HEARTBEAT_RESULT && w->drop_answers)
        return false;
    return true;
}

static void test_reads_batched_and_need_quorum(void **state)
{
    (void)state;
    harness h;
    h_init(&h, 3);
    h_start(&h, 3);
    int l = h_wait_leader(&h, 5000);
    uint64_t idx = h_replicate(&h, l, 5, 1000);
    hb_watch w = {.leader = l, .drop_answers = true};
    h.filter = watch_heartbeats;
    h.filter_arg = &w;
    for (uint64_t ctx = 100; ctx < 110; ctx++)
        assert_int_equal(tcn_raft_read_index(h.nodes[l].r, ctx), TCN_OK);
    h_settle(&h);
    assert_int_equal(w.heartbeats, 2); /* one round, to the two followers */
    assert_int_equal(h.nodes[l].n_reads, 0); /* no answers, no reads */
    h_run(&h, 300);
    assert_int_equal(h.nodes[l].n_reads, 0);
    w.drop_answers = false;
    h_run(&h, 200); /* the next periodic heartbeats carry the round again */
    assert_int_equal(h.nodes[l].n_reads, 10);
    for (size_t i = 0; i < 10; i++) {
        assert_int_equal(h.nodes[l].reads[i].ctx, 100 + i);
        assert_int_equal(h.nodes[l].reads[i].index, idx);
        assert_int_equal(h.nodes[l].reads[i].status, TCN_OK);
    }
    h_free(&h);
}

/* An isolated leader never answers a read; stepping down fails it. */
static void test_read_fails_on_step_down(void **state)
{
    (void)state;
    harness h;
    h_init(&h, 4);
    h_start(&h, 3);
    int l = h_wait_leader(&h, 5000);
    (void)h_replicate(&h, l, 2, 1000);
    h_isolate(&h, l);
    assert_int_equal(tcn_raft_read_index(h.nodes[l].r, 5), TCN_OK);
    h_run(&h, h.opts.election_timeout_ms_min + 100);
    assert_int_not_equal(tcn_raft_role_of(h.nodes[l].r), TCN_RAFT_LEADER);
    assert_int_equal(h.nodes[l].n_reads, 1);
    assert_int_equal(h.nodes[l].reads[0].ctx, 5);
    assert_int_equal(h.nodes[l].reads[0].status, TCN_ERR_NOT_LEADER);
    h_free(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_read_refused_off_leader),
        cmocka_unit_test(test_read_single_voter),
        cmocka_unit_test(test_read_waits_for_term_commit_and_quorum),
        cmocka_unit_test(test_reads_batched_and_need_quorum),
        cmocka_unit_test(test_read_fails_on_step_down),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
