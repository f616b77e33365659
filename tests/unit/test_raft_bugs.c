/* Unit tests: the simulator's bug switches — a normal core refuses them; a core built with TCN_RAFT_BUGS
 * (test_raft_bugs_enabled, see the raft section of CMakeLists.txt) shows each one changing behaviour. */
#include "raft_harness.h"

static tcn_raft *make(uint64_t id, uint32_t bugs, int *rc)
{
    tcn_raft_options o;
    tcn_raft_options_default(&o, id, 1);
    o.bugs = bugs;
    tcn_raft *r = NULL;
    tcn_error err;
    *rc = tcn_raft_create(&r, &o, 0, &err);
    return r;
}

#ifndef TCN_RAFT_BUGS

static void test_bugs_refused(void **state)
{
    (void)state;
    assert_int_equal(tcn_raft_bugs_compiled(), 0);
    const uint32_t flags[] = {TCN_RAFT_BUG_FIGURE8, TCN_RAFT_BUG_VOTE_TWICE, TCN_RAFT_BUG_SKIP_LOG_MATCHING};
    for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
        int rc;
        tcn_raft *r = make(1, flags[i], &rc);
        assert_int_equal(rc, TCN_ERR_CONFIG);
        assert_null(r);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bugs_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

#else

static tcn_raft *voter(uint64_t id, uint32_t bugs)
{
    int rc;
    tcn_raft *r = make(id, bugs, &rc);
    assert_int_equal(rc, TCN_OK);
    const uint64_t ids[] = {1, 2, 3};
    assert_int_equal(tcn_raft_bootstrap(r, ids, 3), TCN_OK);
    tcn_raft_msg out[8];
    (void)h_drain(r, out, 8);
    return r;
}

static void test_bugs_compiled(void **state)
{
    (void)state;
    assert_int_equal(tcn_raft_bugs_compiled(), 1);
    int rc;
    tcn_raft *r = make(1, 0x80, &rc);
    assert_int_equal(rc, TCN_ERR_CONFIG); /* unknown switch */
    assert_null(r);
}

/* Figure 8: the buggy leader commits an old-term entry by counting replicas,
 * and a later leader lacks it (Leader Completeness broken). */
static void test_bug_figure8(void **state)
{
    (void)state;
    bool broken;
    assert_false(h_figure8(0, true, &broken));
    assert_false(broken);
    assert_true(h_figure8(TCN_RAFT_BUG_FIGURE8, true, &broken));
    assert_true(broken);
}

/* Two votes in one term. */
static bool second_vote_granted(uint32_t bugs)
{
    tcn_raft *r = voter(1, bugs);
    tcn_raft_msg out[8];
    tcn_raft_msg m = h_msg(TCN_RAFT_MSG_VOTE, 2, 1, 5);
    m.vote.last_index = 1;
    m.vote.last_term = 1;
    assert_int_equal(tcn_raft_step(r, &m), TCN_OK);
    assert_int_equal(h_drain(r, out, 8), 1);
    assert_true(out[0].vote_result.granted);
    m.from = 3;
    assert_int_equal(tcn_raft_step(r, &m), TCN_OK);
    assert_int_equal(h_drain(r, out, 8), 1);
    bool granted = out[0].vote_result.granted;
    tcn_raft_destroy(r);
    return granted;
}

static void test_bug_vote_twice(void **state)
{
    (void)state;
    assert_false(second_vote_granted(0));
    assert_true(second_vote_granted(TCN_RAFT_BUG_VOTE_TWICE));
}

/* An append whose prev entry does not match: rejected, or (bug) taken, which
 * breaks Log Matching. */
static uint64_t last_after_mismatched_append(uint32_t bugs)
{
    tcn_raft *r = voter(2, bugs);
    tcn_raft_msg out[8];
    tcn_raft_entry g;
    assert_true(tcn_raft_entry_at(r, 1, &g));
    uint8_t h[5][TCN_SHA256_LEN];
    memcpy(h[1], g.hash, TCN_SHA256_LEN);
    tcn_raft_entry e[3];
    for (uint64_t i = 2; i <= 4; i++) {
        e[i - 2] = (tcn_raft_entry){.index = i, .term = 2, .data = (const uint8_t *)"v", .len = 1,
                                    .type = TCN_RAFT_ENTRY_NORMAL};
        tcn_raft_entry_hash(h[i - 1], 2, i, TCN_RAFT_ENTRY_NORMAL, e[i - 2].data, 1, h[i]);
    }
    tcn_raft_msg m = h_msg(TCN_RAFT_MSG_APPEND, 1, 2, 2);
    m.append.prev_index = 1;
    m.append.prev_term = 1;
    memcpy(m.append.prev_hash, h[1], TCN_SHA256_LEN);
    m.append.commit = 1;
    m.append.entries = e;
    m.append.n_entries = 3;
    memcpy(m.append.last_hash, h[4], TCN_SHA256_LEN);
    assert_int_equal(tcn_raft_step(r, &m), TCN_OK);
    (void)h_drain(r, out, 8);
    assert_int_equal(tcn_raft_last_index(r), 4);
    /* a leader of term 3 whose entry 4 is of term 3 */
    tcn_raft_entry x = {.index = 5, .term = 3, .data = (const uint8_t *)"w", .len = 1, .type = TCN_RAFT_ENTRY_NORMAL};
    tcn_raft_msg a = h_msg(TCN_RAFT_MSG_APPEND, 1, 2, 3);
    a.append.prev_index = 4;
    a.append.prev_term = 3;
    memset(a.append.prev_hash, 0x33, TCN_SHA256_LEN);
    a.append.entries = &x;
    a.append.n_entries = 1;
    memset(a.append.last_hash, 0x44, TCN_SHA256_LEN);
    assert_int_equal(tcn_raft_step(r, &a), TCN_OK);
    (void)h_drain(r, out, 8);
    uint64_t last = tcn_raft_last_index(r);
    tcn_raft_destroy(r);
    return last;
}

static void test_bug_skip_log_matching(void **state)
{
    (void)state;
    assert_int_equal(last_after_mismatched_append(0), 4);
    assert_int_equal(last_after_mismatched_append(TCN_RAFT_BUG_SKIP_LOG_MATCHING), 5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bugs_compiled),
        cmocka_unit_test(test_bug_figure8),
        cmocka_unit_test(test_bug_vote_twice),
        cmocka_unit_test(test_bug_skip_log_matching),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

#endif
