/* Unit tests: the in-memory Raft log (arena, hash chain, truncation, compaction) and configuration history. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "raft/config.h"
#include "raft/log.h"

static void append_n(tcn_raft_log *l, uint64_t term, int n, int tag)
{
    char buf[32];
    for (int i = 0; i < n; i++) {
        int len = snprintf(buf, sizeof(buf), "e%d-%d", tag, i);
        assert_int_equal(tcn_raft_log_reserve(l, 1, (size_t)len), TCN_OK);
        tcn_raft_log_append(l, term, TCN_RAFT_ENTRY_NORMAL, (const uint8_t *)buf, (uint32_t)len);
    }
}

static void check_chain(const tcn_raft_log *l)
{
    for (uint64_t i = tcn_raft_log_first(l); i <= tcn_raft_log_last(l); i++) {
        tcn_raft_entry e;
        tcn_raft_log_view(l, i, &e);
        uint8_t h[TCN_SHA256_LEN];
        tcn_raft_entry_hash(tcn_raft_log_hash(l, i - 1), e.term, i, e.type, e.data, e.len, h);
        assert_memory_equal(h, e.hash, TCN_SHA256_LEN);
    }
}

static void test_append_truncate_compact(void **state)
{
    (void)state;
    tcn_raft_log l;
    tcn_raft_log_init(&l);
    uint64_t t;
    assert_true(tcn_raft_log_term(&l, 0, &t) && t == 0);
    assert_false(tcn_raft_log_term(&l, 1, &t));
    append_n(&l, 1, 100, 0);
    append_n(&l, 2, 100, 1);
    assert_int_equal(tcn_raft_log_last(&l), 200);
    assert_int_equal(tcn_raft_log_last_term(&l), 2);
    check_chain(&l);
    uint8_t h150[TCN_SHA256_LEN];
    memcpy(h150, tcn_raft_log_hash(&l, 150), TCN_SHA256_LEN);

    tcn_raft_log_truncate_after(&l, 150);
    assert_int_equal(tcn_raft_log_last(&l), 150);
    append_n(&l, 3, 10, 2); /* the chain continues from 150 */
    check_chain(&l);
    assert_memory_equal(tcn_raft_log_hash(&l, 150), h150, TCN_SHA256_LEN);

    size_t bytes = tcn_raft_log_bytes(&l);
    tcn_raft_log_compact(&l, 120);
    assert_int_equal(tcn_raft_log_first(&l), 121);
    assert_int_equal(l.base_term, 2);
    assert_true(tcn_raft_log_bytes(&l) < bytes);
    assert_null(tcn_raft_log_hash(&l, 119));
    assert_non_null(tcn_raft_log_hash(&l, 120));
    assert_memory_equal(tcn_raft_log_hash(&l, 150), h150, TCN_SHA256_LEN);
    check_chain(&l); /* payloads moved with their offsets */
    tcn_raft_entry e;
    tcn_raft_log_view(&l, 121, &e);
    assert_int_equal(e.len, strlen("e1-20"));
    assert_memory_equal(e.data, "e1-20", e.len);

    tcn_raft_log_compact(&l, tcn_raft_log_last(&l)); /* everything */
    assert_int_equal(l.n, 0);
    assert_int_equal(tcn_raft_log_bytes(&l), 0);
    append_n(&l, 3, 1, 3);
    check_chain(&l);

    uint8_t zero[TCN_SHA256_LEN] = {0};
    tcn_raft_log_reset(&l, 1000, 9, zero);
    assert_int_equal(tcn_raft_log_first(&l), 1001);
    assert_int_equal(tcn_raft_log_last(&l), 1000);
    assert_int_equal(tcn_raft_log_last_term(&l), 9);
    tcn_raft_log_free(&l);
}

static void test_empty_payloads(void **state)
{
    (void)state;
    tcn_raft_log l;
    tcn_raft_log_init(&l);
    for (int i = 0; i < 5; i++) {
        assert_int_equal(tcn_raft_log_reserve(&l, 1, 0), TCN_OK);
        tcn_raft_log_append(&l, 1, TCN_RAFT_ENTRY_NOOP, NULL, 0);
    }
    check_chain(&l);
    tcn_raft_log_compact(&l, 3);
    tcn_raft_log_truncate_after(&l, 4);
    assert_int_equal(tcn_raft_log_last(&l), 4);
    tcn_raft_log_free(&l);
}

static void test_config_values(void **state)
{
    (void)state;
    tcn_raft_config c = {0};
    assert_int_equal(tcn_raft_config_set(&c, 30, TCN_RAFT_VOTER), TCN_OK);
    assert_int_equal(tcn_raft_config_set(&c, 10, TCN_RAFT_LEARNER), TCN_OK);
    assert_int_equal(tcn_raft_config_set(&c, 20, TCN_RAFT_VOTER), TCN_OK);
    assert_int_equal(c.members[0].id, 10);
    assert_int_equal(c.members[2].id, 30);
    assert_int_equal(tcn_raft_config_voters(&c), 2);
    assert_int_equal(tcn_raft_config_set(&c, 10, TCN_RAFT_VOTER), TCN_OK); /* promotion */
    assert_int_equal(tcn_raft_config_voters(&c), 3);
    tcn_raft_config_remove(&c, 20);
    assert_int_equal(c.n, 2);
    assert_true(tcn_raft_config_valid(&c));
    uint8_t buf[TCN_RAFT_CONFIG_BYTES_MAX + 1];
    size_t len = tcn_raft_config_write(&c, buf);
    assert_int_equal(len, 1 + 2 * 9);
    tcn_raft_config d;
    tcn_error err;
    assert_int_equal(tcn_raft_config_parse(buf, len, &d, &err), TCN_OK);
    assert_true(tcn_raft_config_equal(&c, &d));
    buf[len] = 0;
    assert_int_equal(tcn_raft_config_parse(buf, len + 1, &d, &err), TCN_ERR_MALFORMED);
    tcn_raft_config learners = {.n = 1, .members = {{.id = 5, .role = TCN_RAFT_LEARNER}}};
    len = tcn_raft_config_write(&learners, buf);
    assert_int_equal(tcn_raft_config_parse(buf, len, &d, &err), TCN_ERR_MALFORMED);
    tcn_raft_config full = {0};
    for (uint64_t id = 1; id <= TCN_RAFT_MEMBERS_MAX; id++)
        assert_int_equal(tcn_raft_config_set(&full, id, TCN_RAFT_VOTER), TCN_OK);
    assert_int_equal(tcn_raft_config_set(&full, 999, TCN_RAFT_VOTER), TCN_ERR_TOO_LARGE);
}

static void test_config_history(void **state)
{
    (void)state;
    tcn_raft_confs cs = {0};
    tcn_raft_config a = {.n = 1, .members = {{.id = 1, .role = TCN_RAFT_VOTER}}};
    tcn_raft_config b = a, c = a;
    assert_int_equal(tcn_raft_config_set(&b, 2, TCN_RAFT_LEARNER), TCN_OK);
    assert_int_equal(tcn_raft_config_set(&c, 2, TCN_RAFT_VOTER), TCN_OK);
    assert_int_equal(tcn_raft_confs_current(&cs)->conf.n, 0); /* a new node has none */
    assert_int_equal(tcn_raft_confs_reserve(&cs, 3), TCN_OK);
    tcn_raft_confs_push(&cs, 1, &a);
    tcn_raft_confs_push(&cs, 10, &b);
    tcn_raft_confs_push(&cs, 20, &c);
    assert_true(tcn_raft_config_equal(&tcn_raft_confs_at(&cs, 5)->conf, &a));
    assert_true(tcn_raft_config_equal(&tcn_raft_confs_at(&cs, 10)->conf, &b));
    assert_true(tcn_raft_config_equal(&tcn_raft_confs_at(&cs, 19)->conf, &b));
    assert_true(tcn_raft_config_equal(&tcn_raft_confs_current(&cs)->conf, &c));
    /* truncation reverts to the configuration before */
    assert_true(tcn_raft_confs_truncate_after(&cs, 19));
    assert_int_equal(tcn_raft_confs_current(&cs)->index, 10);
    assert_false(tcn_raft_confs_truncate_after(&cs, 15));
    /* compaction folds into the base */
    tcn_raft_confs_compact(&cs, 12);
    assert_int_equal(cs.n, 0);
    assert_int_equal(cs.base.index, 10);
    assert_true(tcn_raft_config_equal(&tcn_raft_confs_at(&cs, 12)->conf, &b));
    tcn_raft_confs_reset(&cs, 50, &c);
    assert_int_equal(tcn_raft_confs_current(&cs)->index, 50);
    tcn_raft_confs_free(&cs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_append_truncate_compact),
        cmocka_unit_test(test_empty_payloads),
        cmocka_unit_test(test_config_values),
        cmocka_unit_test(test_config_history),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
