/* Unit tests: the simulator's linearizability checker accepts linearizable register histories and rejects the others. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "sim/sim.h"

/* Times are event numbers: each call and each return its own. */
static lin_op put(uint64_t v, uint64_t call, uint64_t ret)
{
    return (lin_op){.kind = SIM_OP_PUT, .a = v, .call = call, .ret = ret};
}
static lin_op get(uint64_t v, uint64_t call, uint64_t ret)
{
    return (lin_op){.kind = SIM_OP_GET, .result = v, .call = call, .ret = ret};
}
static lin_op cas(uint64_t from, uint64_t to, bool ok, uint64_t call, uint64_t ret)
{
    return (lin_op){.kind = SIM_OP_CAS, .a = from, .b = to, .result = ok, .call = call, .ret = ret};
}
static lin_op lost(lin_op o)
{
    o.unknown = true;
    o.ret = 0;
    return o;
}

static int check(const lin_op *ops, size_t n) { return lin_check_register(ops, n, 1000000, NULL); }

static void test_sequential(void **state)
{
    (void)state;
    const lin_op ok[] = {get(0, 1, 2), put(5, 3, 4), get(5, 5, 6), cas(5, 7, true, 7, 8), cas(5, 9, false, 9, 10),
                         get(7, 11, 12)};
    assert_int_equal(check(ok, 6), LIN_OK);
    const lin_op stale[] = {put(5, 1, 2), put(6, 3, 4), get(5, 5, 6)};
    assert_int_equal(check(stale, 3), LIN_VIOLATION);
    const lin_op bad_cas[] = {put(5, 1, 2), cas(4, 9, true, 3, 4)};
    assert_int_equal(check(bad_cas, 2), LIN_VIOLATION);
    assert_int_equal(check(NULL, 0), LIN_OK);
}

static void test_concurrent(void **state)
{
    (void)state;
    /* A read overlapping a write may see either value. */
    const lin_op a[] = {put(1, 1, 2), put(2, 3, 6), get(1, 4, 5)};
    assert_int_equal(check(a, 3), LIN_OK);
    const lin_op b[] = {put(1, 1, 2), put(2, 3, 6), get(2, 4, 5), get(1, 7, 8)};
    assert_int_equal(check(b, 4), LIN_VIOLATION); /* the write took effect, then vanished */
    /* Two readers see two concurrent writes in opposite orders. */
    const lin_op c[] = {put(1, 1, 10), put(2, 2, 11), get(1, 3, 4), get(2, 5, 6), get(1, 7, 8)};
    assert_int_equal(check(c, 5), LIN_VIOLATION);
    const lin_op d[] = {put(1, 1, 10), put(2, 2, 11), get(1, 3, 4), get(2, 5, 6), get(2, 7, 8)};
    assert_int_equal(check(d, 5), LIN_OK);
}

static void test_unknown_outcomes(void **state)
{
    (void)state;
    /* A write whose client gave up may have happened ... */
    const lin_op a[] = {lost(put(7, 1, 0)), get(7, 3, 4)};
    assert_int_equal(check(a, 2), LIN_OK);
    /* ... or not ... */
    const lin_op b[] = {lost(put(7, 1, 0)), get(0, 3, 4)};
    assert_int_equal(check(b, 2), LIN_OK);
    /* ... but only after its call, and not undone afterwards. */
    const lin_op c[] = {get(7, 1, 2), lost(put(7, 3, 0))};
    assert_int_equal(check(c, 2), LIN_VIOLATION);
    const lin_op d[] = {lost(put(7, 1, 0)), get(7, 3, 4), get(0, 5, 6)};
    assert_int_equal(check(d, 3), LIN_VIOLATION);
    /* A compare-and-set of unknown outcome applies only where it matches. */
    const lin_op e[] = {put(1, 1, 2), lost(cas(1, 9, false, 3, 0)), get(9, 5, 6), get(9, 7, 8)};
    assert_int_equal(check(e, 4), LIN_OK);
    const lin_op f[] = {put(2, 1, 2), lost(cas(1, 9, false, 3, 0)), get(9, 5, 6)};
    assert_int_equal(check(f, 3), LIN_VIOLATION);
}

/* A lost acknowledged write: the classic failure Raft must prevent. */
static void test_lost_write(void **state)
{
    (void)state;
    const lin_op ops[] = {put(1, 1, 2), put(2, 3, 4), get(2, 5, 6), get(1, 7, 8), put(3, 9, 10), get(3, 11, 12)};
    assert_int_equal(check(ops, 6), LIN_VIOLATION);
}

/* Many overlapping operations: the memo keeps the search small, and the
 * budget bounds it. */
static void test_wide_and_budget(void **state)
{
    (void)state;
    lin_op ops[LIN_OPS_MAX];
    size_t n = 0;
    for (uint64_t i = 0; i < 10; i++)
        ops[n++] = put(i + 1, 2 * i + 1, 1000 + i);
    for (uint64_t i = 0; i < 5; i++)
        ops[n++] = lost(put(100 + i, 100 + i, 0));
    ops[n++] = get(7, 2000, 2001);
    uint64_t steps = 0;
    assert_int_equal(lin_check_register(ops, n, 10000000, &steps), LIN_OK);
    assert_true(steps > 0);
    ops[n - 1] = get(999, 2000, 2001); /* never written */
    assert_int_not_equal(lin_check_register(ops, n, 10000000, &steps), LIN_OK);
    assert_int_equal(lin_check_register(ops, n, 10, &steps), LIN_UNKNOWN);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sequential),        cmocka_unit_test(test_concurrent),
        cmocka_unit_test(test_unknown_outcomes),  cmocka_unit_test(test_lost_write),
        cmocka_unit_test(test_wide_and_budget),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
