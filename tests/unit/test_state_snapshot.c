/* Unit tests: snapshots — restore + apply the rest == apply everything (digests equal) at every split point
 * of a scripted log; canonical bytes; every truncation and every single-bit flip refused; every byte altered
 * with the checksum made right again: refused with a precise error, or restored into a state that snapshots
 * back to the very same bytes; the empty state; corrupt counts refused before anything is allocated.
 *
 * With TCN_STATE_CORPUS_DIR set, a few snapshots are written there: that is
 * how tests/fuzz/corpus/state_snapshot/ was made. */
#include "test_state_harness.h"

#define LOG_COMMANDS 260

static h_log g_log;
static uint8_t g_final[32];
static size_t g_accepted;

static int setup(void **state)
{
    (void)state;
    h_t t;
    g_accepted = h_script(&t, &g_log, LOG_COMMANDS, 7);
    h_digest(t.st, g_final);
    h_free(&t);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    h_log_free(&g_log);
    return 0;
}

static void apply_range(tcn_state *st, size_t from, size_t to)
{
    for (size_t i = from; i < to; i++) {
        tcn_state_result r;
        assert_int_equal(tcn_state_apply(st, i + 1, g_log.cmd[i], g_log.len[i], &r), TCN_OK);
    }
}

static void snapshot(const tcn_state *st, tcn_buf *b)
{
    tcn_error err;
    b->len = 0;
    assert_int_equal(tcn_state_snapshot(st, b, &err), TCN_OK);
}

static tcn_state *restore(const tcn_buf *b)
{
    tcn_state *st;
    tcn_error err;
    if (tcn_state_restore(b->p, b->len, &st, &err) != TCN_OK) {
        fprintf(stderr, "restore: %s\n", err.msg);
        fail();
    }
    return st;
}

/* The script covers what it claims. */
static void test_script_coverage(void **state)
{
    (void)state;
    tcn_state *st;
    assert_int_equal(tcn_state_new(&st), TCN_OK);
    size_t by_type[TCN_CMD_TYPE_MAX_ + 1][2];
    memset(by_type, 0, sizeof(by_type));
    size_t malformed = 0;
    for (size_t i = 0; i < g_log.n; i++) {
        tcn_state_result r;
        assert_int_equal(tcn_state_apply(st, i + 1, g_log.cmd[i], g_log.len[i], &r), TCN_OK);
        uint8_t type = g_log.len[i] > 1 ? g_log.cmd[i][1] : 0;
        if (r.code == TCN_ERR_MALFORMED)
            malformed++;
        else if (type >= 1 && type <= TCN_CMD_TYPE_MAX_)
            by_type[type][r.code == TCN_OK]++;
    }
    for (uint8_t type = 1; type <= TCN_CMD_TYPE_MAX_; type++)
        assert_true(by_type[type][1] > 0); /* each type applied */
    assert_true(by_type[TCN_CMD_PAYOUT_INTENT][0] > 0); /* and refused */
    assert_true(by_type[TCN_CMD_SWAP_CREATE][0] > 0);
    assert_true(malformed > 0);
    assert_true(by_type[TCN_CMD_PAYOUT_OUTCOME][1] >= 5);
    uint8_t d[32];
    h_digest(st, d);
    assert_memory_equal(d, g_final, 32); /* replay is deterministic */
    bool closed = false, intent = false;
    for (uint64_t s = 1; s <= tcn_state_swap_count(st); s++) {
        tcn_swap_view v;
        assert_true(tcn_state_swap(st, s, &v));
        closed |= v.status == TCN_SWAP_CLOSED;
        intent |= v.intent_payout_id != 0;
    }
    assert_true(closed);
    fprintf(stderr, "script: %zu commands, %zu accepted, %llu swaps, %llu payouts, intent open at the end: %d\n",
            g_log.n, g_accepted, (unsigned long long)tcn_state_swap_count(st),
            (unsigned long long)tcn_state_payout_count(st), intent);
    tcn_state_free(st);
}

/* At every split point k: snapshot after k commands, restore, apply the
 * other commands: the digest of everything. The restored state's snapshot
 * is byte for byte the one it came from. */
static void test_every_split_point(void **state)
{
    (void)state;
    tcn_state *a;
    assert_int_equal(tcn_state_new(&a), TCN_OK);
    tcn_buf s1 = {0}, s2 = {0};
    const char *dir = getenv("TCN_STATE_CORPUS_DIR");
    for (size_t k = 0; k <= g_log.n; k++) {
        snapshot(a, &s1);
        tcn_state *b = restore(&s1);
        assert_int_equal(tcn_state_applied_index(b), k);
        assert_int_equal(tcn_state_now_ms(b), tcn_state_now_ms(a));
        snapshot(b, &s2);
        assert_int_equal(s1.len, s2.len);
        assert_memory_equal(s1.p, s2.p, s1.len);
        uint8_t da[32], db[32];
        h_digest(a, da);
        h_digest(b, db);
        assert_memory_equal(da, db, 32);
        assert_memory_equal(da, s1.p + s1.len - 32, 32); /* the digest is the checksum */
        apply_range(b, k, g_log.n);
        h_digest(b, db);
        if (memcmp(db, g_final, 32) != 0) {
            fprintf(stderr, "split at %zu: the digests differ\n", k);
            fail();
        }
        tcn_state_free(b);
        if (dir != NULL && (k == 0 || k == 20 || k == 60 || k == g_log.n)) {
            char path[512];
            snprintf(path, sizeof(path), "%s/split-%03zu.bin", dir, k);
            FILE *f = fopen(path, "wb");
            assert_non_null(f);
            assert_int_equal(fwrite(s1.p, 1, s1.len, f), s1.len);
            fclose(f);
        }
        if (k < g_log.n)
            apply_range(a, k, k + 1);
    }
    tcn_state_free(a);
    tcn_buf_free_wipe(&s1);
    tcn_buf_free_wipe(&s2);
}

/* A small but complete state: every kind of record, an open intent. */
static void small_snapshot(tcn_buf *out)
{
    tcn_state *st;
    assert_int_equal(tcn_state_new(&st), TCN_OK);
    size_t n = 0;
    bool intent = false;
    /* Apply until some swap holds an open intent and a payout has been paid. */
    while (n < g_log.n) {
        apply_range(st, n, n + 1);
        n++;
        intent = false;
        bool paid = false;
        for (uint64_t s = 1; s <= tcn_state_swap_count(st); s++) {
            tcn_swap_view v;
            assert_true(tcn_state_swap(st, s, &v));
            intent |= v.intent_payout_id != 0;
        }
        for (uint64_t p = 1; p <= tcn_state_payout_count(st); p++) {
            tcn_payout_view v;
            assert_true(tcn_state_payout(st, p, &v));
            paid |= v.status == TCN_PAYOUT_PAID || v.status == TCN_PAYOUT_FAILED;
        }
        if (intent && paid && tcn_state_member_count(st) > 0)
            break;
    }
    assert_true(intent);
    snapshot(st, out);
    tcn_state_free(st);
}

static void test_truncations_and_bit_flips(void **state)
{
    (void)state;
    tcn_buf s = {0};
    small_snapshot(&s);
    for (size_t k = 0; k < s.len; k++) {
        tcn_state *st = (tcn_state *)1;
        tcn_error err;
        tcn_err_clear(&err);
        int rc = tcn_state_restore(k ? s.p : NULL, k, &st, &err);
        assert_true(rc == TCN_ERR_TRUNCATED || rc == TCN_ERR_CORRUPT);
        assert_null(st);
        assert_non_null(strstr(err.msg, "snapshot: "));
    }
    size_t n = 0;
    for (size_t k = 0; k < s.len; k++) {
        for (int bit = 0; bit < 8; bit++) {
            s.p[k] ^= (uint8_t)(1u << bit);
            tcn_state *st;
            tcn_error err;
            tcn_err_clear(&err);
            int rc = tcn_state_restore(s.p, s.len, &st, &err);
            s.p[k] ^= (uint8_t)(1u << bit);
            if (rc == TCN_OK) {
                fprintf(stderr, "bit %d of byte %zu flipped: restored\n", bit, k);
                fail();
            }
            int want = k < 4 ? TCN_ERR_MALFORMED : k < 8 ? TCN_ERR_UNSUPPORTED : TCN_ERR_CORRUPT;
            assert_int_equal(rc, want);
            assert_non_null(strstr(err.msg, k < 4 ? "magic" : k < 8 ? "version" : "checksum"));
            n++;
        }
    }
    assert_int_equal(n, 8 * s.len);
    tcn_buf_free_wipe(&s);
}

static void fix_checksum(tcn_buf *s) { tcn_sha256(s->p, s->len - 32, s->p + s->len - 32); }

/* The parser behind the checksum: every byte altered (four ways) with the
 * checksum recomputed. Each is refused naming a field, or restores into a
 * state whose snapshot is exactly these bytes (the format is canonical). */
static void test_every_byte_behind_the_checksum(void **state)
{
    (void)state;
    tcn_buf s = {0}, again = {0};
    small_snapshot(&s);
    size_t refused = 0, restored = 0;
    const char *fields[] = {"clients[", "keys[", "swaps[", "payouts[", "members[", "n_keys", "dense ids",
                            "escrow_key_id", "swap_id", "status", "bytes after the members", "genesis",
                            "intent_payout_id", "policy"};
    bool seen[sizeof(fields) / sizeof(fields[0])] = {false};
    for (size_t k = 8; k < s.len - 32; k++) {
        const uint8_t orig = s.p[k];
        const uint8_t vals[4] = {(uint8_t)(orig ^ 0x01), (uint8_t)(orig ^ 0x80), 0x00, 0xff};
        for (int i = 0; i < 4; i++) {
            if (vals[i] == orig)
                continue;
            s.p[k] = vals[i];
            fix_checksum(&s);
            tcn_state *st;
            tcn_error err;
            tcn_err_clear(&err);
            int rc = tcn_state_restore(s.p, s.len, &st, &err);
            if (rc != TCN_OK) {
                assert_null(st);
                assert_true(strncmp(err.msg, "snapshot: ", 10) == 0);
                assert_true(rc == TCN_ERR_MALFORMED || rc == TCN_ERR_TRUNCATED || rc == TCN_ERR_TOO_LARGE);
                for (size_t f = 0; f < sizeof(fields) / sizeof(fields[0]); f++)
                    seen[f] |= strstr(err.msg, fields[f]) != NULL;
                refused++;
                if (getenv("TCN_STATE_SHOW_REFUSALS"))
                    fprintf(stderr, "%s\n", err.msg);
            } else {
                snapshot(st, &again);
                if (again.len != s.len || memcmp(again.p, s.p, s.len) != 0) {
                    fprintf(stderr, "byte %zu = 0x%02x: restored, but snapshots to other bytes\n", k, vals[i]);
                    fail();
                }
                tcn_state_free(st);
                restored++;
            }
        }
        s.p[k] = orig;
    }
    for (size_t f = 0; f < sizeof(fields) / sizeof(fields[0]); f++) {
        if (!seen[f]) {
            fprintf(stderr, "no refusal named %s\n", fields[f]);
            fail();
        }
    }
    assert_true(refused > 0 && restored > 0);
    fprintf(stderr, "behind the checksum: %zu refused, %zu restored canonically\n", refused, restored);
    tcn_buf_free_wipe(&s);
    tcn_buf_free_wipe(&again);
}

/* Counts far beyond the input are refused before allocating for them. */
static void test_counts(void **state)
{
    (void)state;
    tcn_state *st;
    assert_int_equal(tcn_state_new(&st), TCN_OK);
    tcn_buf s = {0};
    snapshot(st, &s); /* the empty state: magic, version, index, now, genesis 0, five zero counts */
    assert_int_equal(s.len, 4 + 4 + 8 + 8 + 1 + 5 * 8 + 32);
    tcn_state *r = restore(&s);
    assert_false(tcn_state_has_genesis(r));
    tcn_state_free(r);
    for (int c = 0; c < 5; c++) {
        size_t off = 25 + 8 * (size_t)c;
        memset(s.p + off, 0xff, 8);
        fix_checksum(&s);
        tcn_error err;
        int rc = tcn_state_restore(s.p, s.len, &r, &err);
        assert_true(rc == TCN_ERR_TOO_LARGE || rc == TCN_ERR_TRUNCATED);
        assert_non_null(strstr(err.msg, "snapshot: n_"));
        memset(s.p + off, 0, 8);
        s.p[off + 7] = 1; /* one record, before genesis and without its bytes */
        fix_checksum(&s);
        assert_int_not_equal(tcn_state_restore(s.p, s.len, &r, &err), TCN_OK);
        memset(s.p + off, 0, 8);
    }
    /* now_ms before genesis. */
    s.p[16 + 7] = 1;
    fix_checksum(&s);
    tcn_error err;
    assert_int_equal(tcn_state_restore(s.p, s.len, &r, &err), TCN_ERR_MALFORMED);
    assert_non_null(strstr(err.msg, "now_ms"));
    tcn_buf_free(&s);
    tcn_state_free(st);
}

/* Views of a restored state equal the original's. */
static void test_views_survive(void **state)
{
    (void)state;
    tcn_state *a;
    assert_int_equal(tcn_state_new(&a), TCN_OK);
    apply_range(a, 0, g_log.n);
    tcn_buf s = {0};
    snapshot(a, &s);
    tcn_state *b = restore(&s);
    assert_int_equal(tcn_state_swap_count(a), tcn_state_swap_count(b));
    for (uint64_t i = 1; i <= tcn_state_swap_count(a); i++) {
        tcn_swap_view x, y;
        assert_true(tcn_state_swap(a, i, &x));
        assert_true(tcn_state_swap(b, i, &y));
        assert_int_equal(x.refund_len, y.refund_len);
        assert_memory_equal(x.refund, y.refund, x.refund_len);
        assert_int_equal(x.intent_tx_len, y.intent_tx_len);
        assert_memory_equal(x.intent_tx, y.intent_tx, x.intent_tx_len);
        x.refund = y.refund = x.intent_tx = y.intent_tx = NULL;
        assert_memory_equal(&x, &y, sizeof(x));
        for (size_t p = 0; p < x.n_payouts; p++)
            assert_int_equal(tcn_state_swap_payout(a, i, p), tcn_state_swap_payout(b, i, p));
    }
    for (uint64_t i = 1;; i++) {
        tcn_key_view x, y;
        bool ha = tcn_state_key(a, i, &x), hb = tcn_state_key(b, i, &y);
        assert_int_equal(ha, hb);
        if (!ha)
            break;
        assert_memory_equal(&x, &y, sizeof(x));
    }
    for (uint64_t i = 1; i <= tcn_state_payout_count(a); i++) {
        tcn_payout_view x, y;
        assert_true(tcn_state_payout(a, i, &x));
        assert_true(tcn_state_payout(b, i, &y));
        assert_memory_equal(&x, &y, sizeof(x));
    }
    for (uint32_t i = 0; i < 8; i++) {
        tcn_chain_pubkey k = h_pub(3000 + i);
        assert_int_equal(tcn_state_client_role(a, &k), tcn_state_client_role(b, &k));
    }
    assert_int_equal(tcn_state_member_count(a), tcn_state_member_count(b));
    /* Signing works the same from the restored keys. */
    for (uint64_t i = 1; i <= tcn_state_payout_count(a); i++) {
        tcn_buf x = {0}, y = {0};
        tcn_error err;
        tcn_chain_hash v = h_hash(1);
        assert_int_equal(tcn_state_sign_payout(a, i, &v, &x, &err), TCN_OK);
        assert_int_equal(tcn_state_sign_payout(b, i, &v, &y, &err), TCN_OK);
        assert_int_equal(x.len, y.len);
        assert_memory_equal(x.p, y.p, x.len);
        tcn_buf_free(&x);
        tcn_buf_free(&y);
    }
    /* The snapshot appends to what the buffer holds. */
    size_t one = s.len;
    tcn_error err;
    assert_int_equal(tcn_state_snapshot(a, &s, &err), TCN_OK);
    assert_int_equal(s.len, 2 * one);
    assert_memory_equal(s.p, s.p + one, one);
    tcn_buf_free_wipe(&s);
    tcn_state_free(a);
    tcn_state_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_script_coverage),
        cmocka_unit_test(test_every_split_point),
        cmocka_unit_test(test_truncations_and_bit_flips),
        cmocka_unit_test(test_every_byte_behind_the_checksum),
        cmocka_unit_test(test_counts),
        cmocka_unit_test(test_views_survive),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
