/* Unit tests: key policies in apply — destinations (at schedule and again at intent), the per-payout limit,
 * the per-day limit across a UTC day boundary (and a clock that steps back over midnight), schedule windows
 * including one that wraps midnight, and tcn_state_check_payout agreeing with apply. */
#include "test_state_harness.h"

#define MIN_MS 60000ull

/* ms of day `day` (0 = H_T0's day) at minute `m`. */
static uint64_t at(uint64_t day, uint64_t m) { return (H_T0 / H_DAY_MS + day) * H_DAY_MS + m * MIN_MS; }

static tcn_key_policy empty_policy(void)
{
    tcn_key_policy p;
    memset(&p, 0, sizeof(p));
    return p;
}

/* A funded OPEN swap whose generated escrow key has policy p. */
static uint64_t swap_with(h_t *t, const tcn_key_policy *p, uint64_t amount)
{
    tcn_cmd c = h_swap_cmd(t, amount, at(20, 0), p);
    c.ts_ms = at(0, 0);
    uint64_t s = h_ok(t, &c);
    h_open(t, s, amount);
    return s;
}

/* As an operator: it may set any policy (the owner may only tighten). */
static void set_policy(h_t *t, uint64_t key_id, const tcn_key_policy *p)
{
    tcn_cmd c = h_cmd(TCN_CMD_POLICY_SET, at(0, 0), &t->op);
    c.u.policy_set.key_id = key_id;
    c.u.policy_set.policy = *p;
    h_ok(t, &c);
}

/* An intent's result, with check_payout asked first: both must agree. */
static void intent_expect(h_t *t, uint64_t pid, uint64_t ts, int code, const char *why)
{
    tcn_error err;
    tcn_err_clear(&err);
    int rc = tcn_state_check_payout(t->st, pid, ts, &err);
    assert_int_equal(rc, code);
    tcn_cmd c = h_intent_cmd(t, pid, ts);
    if (code == TCN_OK) {
        h_ok(t, &c);
        return;
    }
    assert_non_null(strstr(err.msg, why));
    h_refused(t, &c, code, why);
}

/* Lands the open intent of swap s (paying it), at a fresh nonce value. */
static void land(h_t *t, uint64_t s, uint32_t value_no)
{
    tcn_swap_view v = h_swap_view(t, s);
    tcn_payout_view p = h_payout_view(t, v.intent_payout_id);
    tcn_chain_hash nv = h_hash(value_no);
    tcn_cmd c = h_outcome_cmd(t, at(0, 0), s, v.intent_payout_id, TCN_PAYOUT_LANDED_OK, v.observed_slot + 1, &nv,
                              v.escrow_lamports - p.amount - TCN_STATE_TX_FEE);
    h_ok(t, &c);
}

static void test_destinations(void **state)
{
    (void)state;
    h_t t;
    h_init(&t);
    tcn_chain_pubkey a = h_pub(H_DEST), b = h_pub(H_DEST + 1), x = h_pub(H_DEST + 2);
    tcn_key_policy p = empty_policy();
    p.n_destinations = 2;
    p.destinations[0] = a;
    p.destinations[1] = b;
    uint64_t s = swap_with(&t, &p, 50000000);
    tcn_cmd c = h_schedule_cmd(&t, s, &x, 1000, at(0, 0));
    h_refused(&t, &c, TCN_ERR_POLICY, "destination: not among the 2 destinations key 1's policy allows");
    uint64_t pa = h_schedule(&t, s, &a, 1000, at(0, 0));
    uint64_t pb = h_schedule(&t, s, &b, 1000, at(0, 0));
    /* The owner narrows the policy after scheduling: the intent checks it again. */
    tcn_key_policy only_a = empty_policy();
    only_a.n_destinations = 1;
    only_a.destinations[0] = a;
    set_policy(&t, h_swap_view(&t, s).escrow_key_id, &only_a);
    intent_expect(&t, pb, at(0, 1), TCN_ERR_POLICY, "destination not allowed by key 1's policy");
    intent_expect(&t, pa, at(0, 1), TCN_OK, "");
    /* No destinations: any. */
    uint64_t s2 = swap_with(&t, NULL, 50000000);
    uint64_t px = h_schedule(&t, s2, &x, 1000, at(0, 0));
    intent_expect(&t, px, at(0, 1), TCN_OK, "");
    h_free(&t);
}

static void test_per_payout(void **state)
{
    (void)state;
    h_t t;
    h_init(&t);
    tcn_chain_pubkey d = h_pub(H_DEST);
    tcn_key_policy p = empty_policy();
    p.max_per_payout = 2000000;
    uint64_t s = swap_with(&t, &p, 50000000);
    uint64_t big = h_schedule(&t, s, &d, 2000001, at(0, 0)); /* scheduling does not check it: the policy may change */
    uint64_t ok = h_schedule(&t, s, &d, 2000000, at(0, 0));
    intent_expect(&t, big, at(0, 1), TCN_ERR_POLICY, "payout 1: 2000001 above key 1's max_per_payout 2000000");
    intent_expect(&t, ok, at(0, 1), TCN_OK, "");
    land(&t, s, 1);
    tcn_key_policy raised = empty_policy();
    raised.max_per_payout = 3000000;
    set_policy(&t, 1, &raised);
    intent_expect(&t, big, at(0, 2), TCN_OK, "");
    h_free(&t);
}

/* The day total counts intents by their ts_ms's UTC day, and starts again
 * the next day. */
static void test_per_day_across_midnight(void **state)
{
    (void)state;
    h_t t;
    h_init(&t);
    tcn_chain_pubkey d = h_pub(H_DEST);
    tcn_key_policy p = empty_policy();
    p.max_per_day = 3000000;
    uint64_t s = swap_with(&t, &p, 100000000);
    uint64_t pid[6];
    for (int i = 0; i < 6; i++)
        pid[i] = h_schedule(&t, s, &d, 1000000 + (i == 3 ? 1 : 0), at(0, 0));
    /* Day 0, late evening: 1,000,000 twice, then 1,000,001 would pass 3,000,000 only with a third. */
    intent_expect(&t, pid[0], at(0, 1400), TCN_OK, "");
    land(&t, s, 10);
    intent_expect(&t, pid[1], at(0, 1430), TCN_OK, "");
    land(&t, s, 11);
    intent_expect(&t, pid[2], at(0, 1439), TCN_OK, "");
    land(&t, s, 12);
    tcn_key_view k;
    assert_true(tcn_state_key(t.st, 1, &k));
    assert_int_equal(k.day, at(0, 0) / H_DAY_MS);
    assert_int_equal(k.day_spent, 3000000);
    intent_expect(&t, pid[3], at(0, 1439) + 59999, TCN_ERR_POLICY,
                  "payout 4: 1000001 with 3000000 spent today exceeds key 1's max_per_day 3000000");
    /* Midnight: a new day, a new total. */
    intent_expect(&t, pid[3], at(1, 0), TCN_OK, "");
    land(&t, s, 13);
    assert_true(tcn_state_key(t.st, 1, &k));
    assert_int_equal(k.day, at(1, 0) / H_DAY_MS);
    assert_int_equal(k.day_spent, 1000001);
    /* A leader whose clock is still on day 0 counts against day 1 (the
     * later day): never less than the truth. 1000001 + 1000000 + 1000000 > 3000000. */
    intent_expect(&t, pid[4], at(0, 1439), TCN_OK, "");
    land(&t, s, 14);
    assert_true(tcn_state_key(t.st, 1, &k));
    assert_int_equal(k.day, at(1, 0) / H_DAY_MS);
    assert_int_equal(k.day_spent, 2000001);
    intent_expect(&t, pid[5], at(0, 1439), TCN_ERR_POLICY, "2000001 spent today");
    intent_expect(&t, pid[5], at(1, 600), TCN_ERR_POLICY, "2000001 spent today");
    intent_expect(&t, pid[5], at(2, 0), TCN_OK, "");
    /* Day 2: a new total again. */
    assert_true(tcn_state_key(t.st, 1, &k));
    assert_int_equal(k.day_spent, 1000000);
    h_free(&t);
}

/* [start, end) in minutes of the UTC day; one window wraps midnight. */
static void test_windows(void **state)
{
    (void)state;
    h_t t;
    h_init(&t);
    tcn_chain_pubkey d = h_pub(H_DEST);
    tcn_key_policy p = empty_policy();
    p.n_windows = 2;
    p.windows[0].start_min = 600; /* 10:00 - 11:00 */
    p.windows[0].end_min = 660;
    p.windows[1].start_min = 1380; /* 23:00 - 01:00, across midnight */
    p.windows[1].end_min = 60;
    uint64_t s = swap_with(&t, &p, 100000000);
    /* Scheduling: due_ms's minute must fall in a window. */
    static const struct {
        uint64_t minute;
        bool in;
    } due[] = {
        {599, false}, {600, true}, {659, true}, {660, false}, {1379, false},
        {1380, true}, {1439, true}, {0, true},  {59, true},   {60, false},
    };
    for (size_t i = 0; i < sizeof(due) / sizeof(due[0]); i++) {
        tcn_cmd c = h_schedule_cmd(&t, s, &d, 1000, at(1, due[i].minute));
        if (due[i].in)
            h_ok(&t, &c);
        else
            h_refused(&t, &c, TCN_ERR_POLICY, "outside key 1's schedule windows");
    }
    /* Seconds within a minute do not matter; the minute does. */
    tcn_cmd c = h_schedule_cmd(&t, s, &d, 1000, at(1, 659) + 59999);
    h_ok(&t, &c);
    /* Intents: the intent's own ts_ms must fall in a window too. Payout 1
     * is due at 10:00 on day 1. */
    intent_expect(&t, 1, at(1, 599), TCN_ERR_BUSY, "due at");
    intent_expect(&t, 1, at(1, 700), TCN_ERR_POLICY, "minute 700 of the day is outside key 1's schedule windows");
    intent_expect(&t, 1, at(1, 1380), TCN_OK, "");
    land(&t, s, 20);
    intent_expect(&t, 2, at(2, 30), TCN_OK, ""); /* 00:30, inside the wrapping window */
    land(&t, s, 21);
    intent_expect(&t, 3, at(2, 60), TCN_ERR_POLICY, "minute 60 of the day");
    /* Lifting the windows lets it through. */
    tcn_key_policy none = empty_policy();
    set_policy(&t, 1, &none);
    intent_expect(&t, 3, at(2, 60), TCN_OK, "");
    h_free(&t);
}

/* The key's owner may tighten its policy, never loosen it; an operator may
 * do both. */
static void test_owner_only_tightens(void **state)
{
    (void)state;
    h_t t;
    h_init(&t);
    tcn_chain_pubkey d = h_pub(H_DEST), lp = h_pub(H_LP);
    tcn_key_policy base = empty_policy();
    base.n_destinations = 2;
    base.destinations[0] = d;
    base.destinations[1] = lp;
    base.max_per_payout = 5000;
    base.max_per_day = 20000;
    base.n_windows = 1;
    base.windows[0].start_min = 60;
    base.windows[0].end_min = 600;
    uint64_t s = h_swap(&t, 10000000, &base);
    tcn_swap_view v;
    assert_true(tcn_state_swap(t.st, s, &v));
    uint64_t key = v.escrow_key_id;
    tcn_key_policy p;
    /* tighter: one destination, lower limits, a narrower window */
    p = base;
    p.n_destinations = 1;
    p.max_per_payout = 4000;
    p.max_per_day = 10000;
    p.windows[0].start_min = 120;
    p.windows[0].end_min = 300;
    tcn_cmd c = h_cmd(TCN_CMD_POLICY_SET, at(0, 0), &t.user);
    c.u.policy_set.key_id = key;
    c.u.policy_set.policy = p;
    h_ok(&t, &c);
    /* each loosening, alone, refused for the owner */
    tcn_key_policy tight = p;
    for (int k = 0; k < 7; k++) {
        p = tight;
        switch (k) {
        case 0: p.n_destinations = 2; break;           /* a destination more */
        case 1: p.n_destinations = 0; break;           /* any destination */
        case 2: p.max_per_payout = 4001; break;        /* a higher limit */
        case 3: p.max_per_payout = 0; break;           /* no limit */
        case 4: p.max_per_day = 0; break;
        case 5: p.windows[0].end_min = 301; break;     /* a minute more */
        default: p.n_windows = 0; break;               /* every minute */
        }
        c = h_cmd(TCN_CMD_POLICY_SET, at(0, 0), &t.user);
        c.u.policy_set.key_id = key;
        c.u.policy_set.policy = p;
        h_refused(&t, &c, TCN_ERR_POLICY, "may only tighten");
        /* an operator may */
        set_policy(&t, key, &p);
        set_policy(&t, key, &tight);
    }
    h_free(&t);
}

/* check_payout's refusals and their codes, directly. */
static void test_check_payout_codes(void **state)
{
    (void)state;
    h_t t;
    h_init(&t);
    tcn_error err;
    assert_int_equal(tcn_state_check_payout(t.st, 1, H_T0, &err), TCN_ERR_USAGE);
    assert_non_null(strstr(err.msg, "payout_id: 1: no such payout"));
    tcn_chain_pubkey d = h_pub(H_DEST);
    uint64_t s = h_swap(&t, 10000000, NULL);
    uint64_t pid = h_schedule(&t, s, &d, 1000, H_T0);
    assert_int_equal(tcn_state_check_payout(t.st, pid, H_T0, &err), TCN_ERR_BUSY);
    assert_non_null(strstr(err.msg, "NEW"));
    h_open(&t, s, 10000000);
    assert_int_equal(tcn_state_check_payout(t.st, pid, H_T0, &err), TCN_OK);
    /* A proposer's clock behind the state's counts as the state's time: due. */
    assert_true(tcn_state_now_ms(t.st) >= H_T0);
    assert_int_equal(tcn_state_check_payout(t.st, pid, H_T0 - 60000, &err), TCN_OK);
    uint64_t later = h_schedule(&t, s, &d, 1000, tcn_state_now_ms(t.st) + 5000);
    assert_int_equal(tcn_state_check_payout(t.st, later, tcn_state_now_ms(t.st), &err), TCN_ERR_BUSY);
    assert_non_null(strstr(err.msg, "due at"));
    assert_int_equal(tcn_state_check_payout(t.st, pid, H_T0 + 30 * H_DAY_MS + 1, &err), TCN_ERR_POLICY);
    h_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_destinations),
        cmocka_unit_test(test_per_payout),
        cmocka_unit_test(test_owner_only_tightens),
        cmocka_unit_test(test_per_day_across_midnight),
        cmocka_unit_test(test_windows),
        cmocka_unit_test(test_check_payout_codes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
