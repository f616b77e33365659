/* Unit tests: no secret reaches an output other than a snapshot. Every seed the scripted log hands the state
 * (coordinator, escrow, nonce, imported keys, a share) and every Ed25519 secret scalar derived from them is
 * searched for — any 8 bytes of it, raw or as hex — in every reason string, every view, every signed
 * transaction, every error message and the digest. The snapshot, which must hold them, is the positive
 * control that the search finds what is there. */
#include "test_state_harness.h"

#include "util/encoding.h"

#define WINDOW 8
#define SECRETS_MAX 2048

typedef struct secret {
    uint8_t b[TCN_STATE_SHARE_BYTES_MAX];
    size_t len;
} secret;

static secret g_secrets[SECRETS_MAX];
static size_t g_n_secrets;
static size_t g_scanned_bytes;

static void add_secret(const uint8_t *p, size_t len)
{
    assert_true(g_n_secrets < SECRETS_MAX && len <= sizeof(g_secrets[0].b) && len >= WINDOW);
    memcpy(g_secrets[g_n_secrets].b, p, len);
    g_secrets[g_n_secrets].len = len;
    g_n_secrets++;
}

/* A seed and the secret scalar libsodium derives from it (SHA-512 of the seed, first half). */
static void add_seed(uint32_t n)
{
    uint8_t seed[32], h[64];
    h_seed(n, seed);
    add_secret(seed, 32);
    crypto_hash_sha512(h, seed, 32);
    add_secret(h, 32);
}

static bool contains(const uint8_t *hay, size_t n, const uint8_t *needle, size_t k)
{
    for (size_t i = 0; i + k <= n; i++)
        if (hay[i] == needle[0] && memcmp(hay + i, needle, k) == 0)
            return true;
    return false;
}

/* Every WINDOW-byte window of every secret, sorted, for binary search. */
static uint64_t *g_windows;
static size_t g_n_windows;

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void index_windows(void)
{
    size_t n = 0;
    for (size_t s = 0; s < g_n_secrets; s++)
        n += g_secrets[s].len - WINDOW + 1;
    g_windows = malloc(n * sizeof(*g_windows));
    assert_non_null(g_windows);
    for (size_t s = 0; s < g_n_secrets; s++)
        for (size_t w = 0; w + WINDOW <= g_secrets[s].len; w++)
            memcpy(&g_windows[g_n_windows++], g_secrets[s].b + w, WINDOW);
    qsort(g_windows, g_n_windows, sizeof(*g_windows), cmp_u64);
}

static bool is_window(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, WINDOW);
    return bsearch(&v, g_windows, g_n_windows, sizeof(v), cmp_u64) != NULL;
}

static int hexval(uint8_t c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Whether any WINDOW bytes of any secret appear in p, raw or as hex (either case). */
static bool leaks(const void *p, size_t n, char *which, size_t cap)
{
    const uint8_t *b = p;
    g_scanned_bytes += n;
    for (size_t i = 0; i + WINDOW <= n; i++) {
        if (is_window(b + i)) {
            snprintf(which, cap, "raw secret bytes at offset %zu", i);
            return true;
        }
    }
    for (size_t i = 0; i + 2 * WINDOW <= n; i++) {
        uint8_t dec[WINDOW];
        bool hex = true;
        for (size_t k = 0; hex && k < WINDOW; k++) {
            int hi = hexval(b[i + 2 * k]), lo = hexval(b[i + 2 * k + 1]);
            hex = hi >= 0 && lo >= 0;
            if (hex)
                dec[k] = (uint8_t)(hi << 4 | lo);
        }
        if (hex && is_window(dec)) {
            snprintf(which, cap, "hex of secret bytes at offset %zu", i);
            return true;
        }
    }
    return false;
}

static void no_leak(const void *p, size_t n, const char *what)
{
    char which[64];
    if (leaks(p, n, which, sizeof(which))) {
        fprintf(stderr, "LEAK: %s holds %s\n", what, which);
        fail();
    }
}

static h_t g_t;
static h_log g_log;

static int setup(void **state)
{
    (void)state;
    (void)h_script(&g_t, &g_log, 300, 11);
    add_seed(H_COORD);
    for (uint32_t n = 1000; n < g_t.next_seed; n++)
        add_seed(n);
    add_seed(900);
    add_seed(901);
    uint8_t share[32];
    h_seed(902, share);
    add_secret(share, 20); /* the share is the seed's first 20 bytes */
    index_windows();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    h_free(&g_t);
    h_log_free(&g_log);
    free(g_windows);
    return 0;
}

/* Replays the log, and more refusals that carry secrets, scanning each reason. */
static void test_reasons(void **state)
{
    (void)state;
    tcn_state *st;
    assert_int_equal(tcn_state_new(&st), TCN_OK);
    size_t refused = 0;
    for (size_t i = 0; i < g_log.n; i++) {
        tcn_state_result r;
        assert_int_equal(tcn_state_apply(st, i + 1, g_log.cmd[i], g_log.len[i], &r), TCN_OK);
        no_leak(r.reason, sizeof(r.reason), "a reason");
        no_leak(&r, sizeof(r), "a result");
        refused += r.code != TCN_OK;
    }
    assert_true(refused >= 10);
    /* Refusals whose commands hold seeds: a key imported twice, the
     * coordinator's seed imported, a swap whose nonce seed is a known key's,
     * a genesis again, and each of them cut short or made too long. */
    h_t t = {.st = st, .index = g_log.n};
    t.op = h_pub(H_OP);
    t.user = h_pub(H_USER);
    t.lp = h_pub(H_LP);
    t.refund_to = h_pub(H_REFUND);
    t.next_seed = g_t.next_seed;
    tcn_cmd cmds[5];
    cmds[0] = h_cmd(TCN_CMD_KEY_IMPORT, H_T0, &t.user);
    cmds[0].u.key_import.kind = TCN_KEY_ED25519_SEED;
    cmds[0].u.key_import.len = 32;
    h_seed(900, cmds[0].u.key_import.secret);
    cmds[1] = cmds[0];
    h_seed(H_COORD, cmds[1].u.key_import.secret);
    /* The seeds of swap 1's nonce account and of a generated escrow key. */
    uint32_t nonce_seed = 0, escrow_seed = 0;
    tcn_swap_view sv;
    assert_true(tcn_state_swap(st, 1, &sv));
    for (uint32_t n = 1000; n < g_t.next_seed; n++) {
        tcn_chain_pubkey pk = h_pub(n);
        if (tcn_chain_pubkey_eq(&pk, &sv.nonce))
            nonce_seed = n;
        for (uint64_t k = 1; escrow_seed == 0; k++) {
            tcn_key_view kv;
            if (!tcn_state_key(st, k, &kv))
                break;
            if (tcn_chain_pubkey_eq(&pk, &kv.pubkey))
                escrow_seed = n;
        }
    }
    assert_true(nonce_seed != 0 && escrow_seed != 0);
    cmds[2] = h_swap_cmd(&t, 5000000, H_T0 + H_DAY_MS, NULL);
    h_seed(nonce_seed, cmds[2].u.swap_create.nonce_seed);
    cmds[3] = h_swap_cmd(&t, 5000000, H_T0 + H_DAY_MS, NULL);
    h_seed(escrow_seed, cmds[3].u.swap_create.escrow_seed);
    cmds[4] = h_cmd(TCN_CMD_GENESIS, H_T0, NULL);
    h_seed(1002, cmds[4].u.genesis.coordinator_seed);
    memset(cmds[4].u.genesis.group_id, 1, 16);
    cmds[4].u.genesis.operator_key = t.op;
    for (int i = 0; i < 5; i++) {
        tcn_buf b = {0};
        tcn_error err;
        assert_int_equal(tcn_cmd_encode(&cmds[i], &b, &err), TCN_OK);
        for (size_t cut = 0; cut <= b.len + 1; cut++) {
            uint8_t buf[TCN_CHAIN_PACKET_BYTES_MAX + 128];
            memcpy(buf, b.p, b.len);
            buf[b.len] = 0;
            tcn_state_result r;
            assert_int_equal(tcn_state_apply(st, ++t.index, buf, cut, &r), TCN_OK);
            assert_int_not_equal(r.code, TCN_OK);
            no_leak(r.reason, sizeof(r.reason), "a reason");
            tcn_cmd d;
            memset(&err, 0, sizeof(err)); /* the whole buffer is scanned, not only the string */
            if (tcn_cmd_decode(buf, cut, &d, &err) == TCN_OK)
                tcn_err_clear(&err);
            no_leak(err.msg, sizeof(err.msg), "a decode error");
            tcn_cmd_wipe(&d);
            sodium_memzero(buf, sizeof(buf));
        }
        tcn_buf_free_wipe(&b);
        tcn_cmd_wipe(&cmds[i]);
    }
    tcn_state_free(st);
}

/* Every view of the final state, every transaction it signs, every error it reports. */
static void test_views_and_transactions(void **state)
{
    (void)state;
    const tcn_state *st = g_t.st;
    no_leak(tcn_state_coordinator_key(st), 32, "the coordinator key");
    no_leak(tcn_state_group_id(st), 16, "the group id");
    uint8_t d[32];
    h_digest(st, d);
    no_leak(d, 32, "the digest");
    for (uint64_t k = 1;; k++) {
        tcn_key_view v;
        if (!tcn_state_key(st, k, &v))
            break;
        no_leak(&v, sizeof(v), "a key view");
    }
    tcn_chain_hash nv = h_hash(3);
    tcn_chain_hash bh = h_hash(4);
    for (uint64_t s = 1; s <= tcn_state_swap_count(st); s++) {
        tcn_swap_view v;
        assert_true(tcn_state_swap(st, s, &v));
        no_leak(v.refund, v.refund_len, "a refund");
        no_leak(v.intent_tx, v.intent_tx_len, "an intent");
        v.refund = v.intent_tx = NULL;
        no_leak(&v, sizeof(v), "a swap view");
        tcn_buf b = {0};
        tcn_error err;
        assert_int_equal(tcn_state_sign_nonce_create(st, s, &bh, &b, &err), TCN_OK);
        assert_int_equal(tcn_state_sign_refund(st, s, &nv, 123456789, &b, &err), TCN_OK);
        no_leak(b.p, b.len, "a signed transaction");
        memset(&err, 0, sizeof(err));
        assert_int_not_equal(tcn_state_sign_refund(st, s, &nv, 1, &b, &err), TCN_OK);
        no_leak(err.msg, sizeof(err.msg), "an error");
        tcn_buf_free(&b);
    }
    for (uint64_t p = 1; p <= tcn_state_payout_count(st); p++) {
        tcn_payout_view v;
        assert_true(tcn_state_payout(st, p, &v));
        no_leak(&v, sizeof(v), "a payout view");
        tcn_buf b = {0};
        tcn_error err;
        assert_int_equal(tcn_state_sign_payout(st, p, &nv, &b, &err), TCN_OK);
        no_leak(b.p, b.len, "a signed payout");
        tcn_buf_free(&b);
        memset(&err, 0, sizeof(err));
        if (tcn_state_check_payout(st, p, H_T0, &err) == TCN_OK)
            tcn_err_clear(&err);
        no_leak(err.msg, sizeof(err.msg), "a check_payout error");
    }
    for (size_t i = 0; i < tcn_state_member_count(st); i++) {
        tcn_member_view m;
        assert_true(tcn_state_member_at(st, i, &m));
        no_leak(&m, sizeof(m), "a member view");
    }
    assert_true(g_scanned_bytes > 10000);
}

/* The positive control: the snapshot holds every seed, and the search sees each. */
static void test_snapshot_holds_them(void **state)
{
    (void)state;
    tcn_buf s = {0};
    tcn_error err;
    assert_int_equal(tcn_state_snapshot(g_t.st, &s, &err), TCN_OK);
    uint8_t seed[32];
    h_seed(H_COORD, seed);
    assert_true(contains(s.p, s.len, seed, 32));
    /* Seeds come in pairs (escrow, nonce); each swap holds one nonce seed
     * (refused creations hold none). */
    size_t nonce_seeds = 0;
    for (uint32_t n = 1001; n < g_t.next_seed; n += 2) {
        h_seed(n, seed);
        nonce_seeds += contains(s.p, s.len, seed, 32);
    }
    assert_int_equal(nonce_seeds, tcn_state_swap_count(g_t.st));
    h_seed(900, seed);
    assert_true(contains(s.p, s.len, seed, 32));
    h_seed(902, seed);
    assert_true(contains(s.p, s.len, seed, 20));
    char which[64];
    assert_true(leaks(s.p, s.len, which, sizeof(which)));
    /* ... and in a message, a seed's bytes as hex, in either case. */
    char msg[128] = "reason: seed=";
    h_seed(1003, seed);
    tcn_hex_encode(seed + 5, 9, msg + 13);
    assert_true(leaks(msg, strlen(msg), which, sizeof(which)));
    for (char *c = msg; *c; c++)
        if (*c >= 'a' && *c <= 'f')
            *c = (char)(*c - 'a' + 'A');
    assert_true(leaks(msg, strlen(msg), which, sizeof(which)));
    msg[13 + 2 * 9 - 1] = 'z'; /* 8 bytes still there */
    assert_true(leaks(msg, strlen(msg), which, sizeof(which)));
    msg[13 + 2] = 'z'; /* now no 8 consecutive bytes */
    assert_false(leaks(msg, strlen(msg), which, sizeof(which)));
    sodium_memzero(seed, sizeof(seed));
    tcn_buf_free_wipe(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reasons),
        cmocka_unit_test(test_views_and_transactions),
        cmocka_unit_test(test_snapshot_holds_them),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
