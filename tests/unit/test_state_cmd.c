/* Unit tests: the command codec — round trips of every type, every truncation, a trailing byte, every
 * single-byte mutation (refused, or canonical), each field's refusal naming it, the encoder refusing what the
 * decoder refuses, and wiping.
 *
 * With TCN_STATE_CORPUS_DIR set, the samples are also written there, one
 * file each: that is how tests/fuzz/corpus/state_cmd/ was made. */
#include "test_state_harness.h"

#define SAMPLES_MAX 24

static void fill(void *p, size_t n, uint8_t seed)
{
    uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        b[i] = (uint8_t)(seed + 13 * i);
}

static tcn_key_policy full_policy(void)
{
    tcn_key_policy p;
    memset(&p, 0, sizeof(p));
    p.n_destinations = TCN_POLICY_DESTINATIONS_MAX;
    for (unsigned i = 0; i < p.n_destinations; i++)
        fill(p.destinations[i].b, 32, (uint8_t)(0x30 + i));
    p.max_per_payout = 0x0102030405060708ull;
    p.max_per_day = UINT64_MAX;
    p.n_windows = TCN_POLICY_WINDOWS_MAX;
    for (unsigned i = 0; i < p.n_windows; i++) {
        p.windows[i].start_min = (uint16_t)(100 * i + 1);
        p.windows[i].end_min = (uint16_t)(1439 - i);
    }
    return p;
}

static size_t samples(tcn_cmd *s)
{
    size_t n = 0;
    tcn_chain_pubkey actor;
    fill(actor.b, 32, 0xa0);

    tcn_cmd c = h_cmd(TCN_CMD_GENESIS, 1, NULL);
    fill(c.u.genesis.group_id, 16, 1);
    fill(c.u.genesis.coordinator_seed, 32, 2);
    fill(c.u.genesis.operator_key.b, 32, 3);
    s[n++] = c;

    c = h_cmd(TCN_CMD_CLIENT_SET, UINT64_MAX, &actor);
    fill(c.u.client_set.client.b, 32, 4);
    c.u.client_set.role = TCN_ROLE_LP;
    s[n++] = c;

    c = h_cmd(TCN_CMD_KEY_IMPORT, 77, &actor);
    c.u.key_import.kind = TCN_KEY_ED25519_SEED;
    c.u.key_import.len = 32;
    fill(c.u.key_import.secret, 32, 5);
    s[n++] = c;
    c.u.key_import.kind = TCN_KEY_FROST_SHARE;
    c.u.key_import.len = TCN_STATE_SHARE_BYTES_MAX;
    fill(c.u.key_import.secret, TCN_STATE_SHARE_BYTES_MAX, 6);
    s[n++] = c;
    memset(c.u.key_import.secret, 0, sizeof(c.u.key_import.secret));
    c.u.key_import.len = 1;
    c.u.key_import.secret[0] = 0x99;
    s[n++] = c;

    c = h_cmd(TCN_CMD_POLICY_SET, 5, &actor);
    c.u.policy_set.key_id = 3;
    s[n++] = c; /* the empty policy */
    c.u.policy_set.policy = full_policy();
    s[n++] = c;

    c = h_cmd(TCN_CMD_SWAP_CREATE, H_T0, &actor);
    c.u.swap_create.escrow_key_id = 0;
    fill(c.u.swap_create.escrow_seed, 32, 7);
    fill(c.u.swap_create.nonce_seed, 32, 8);
    fill(c.u.swap_create.lp.b, 32, 9);
    fill(c.u.swap_create.refund_to.b, 32, 10);
    c.u.swap_create.amount = 5000000000ull;
    c.u.swap_create.deadline_ms = H_T0 + H_DAY_MS;
    c.u.swap_create.policy = full_policy();
    c.u.swap_create.policy.n_destinations = 2;
    memset(&c.u.swap_create.policy.destinations[2], 0, 6 * 32);
    c.u.swap_create.policy.n_windows = 1;
    memset(&c.u.swap_create.policy.windows[1], 0, 3 * sizeof(c.u.swap_create.policy.windows[0]));
    s[n++] = c;

    c = h_cmd(TCN_CMD_SWAP_OBSERVED, 9, NULL);
    c.u.swap_observed.swap_id = 1;
    c.u.swap_observed.slot = 1234;
    c.u.swap_observed.nonce_initialized = true;
    fill(c.u.swap_observed.nonce_value.b, 32, 11);
    c.u.swap_observed.escrow_lamports = 42;
    c.u.swap_observed.refund_len = 300;
    fill(c.u.swap_observed.refund, 300, 12);
    s[n++] = c;
    c = h_cmd(TCN_CMD_SWAP_OBSERVED, 9, NULL);
    c.u.swap_observed.swap_id = 2;
    s[n++] = c; /* not initialized, no refund */

    c = h_cmd(TCN_CMD_PAYOUT_SCHEDULE, 10, &actor);
    c.u.payout_schedule.swap_id = 1;
    fill(c.u.payout_schedule.destination.b, 32, 13);
    c.u.payout_schedule.amount = 1;
    c.u.payout_schedule.due_ms = H_T0;
    s[n++] = c;

    c = h_cmd(TCN_CMD_PAYOUT_INTENT, 11, NULL);
    c.u.payout_intent.swap_id = 1;
    c.u.payout_intent.payout_id = 2;
    fill(c.u.payout_intent.nonce_value.b, 32, 14);
    c.u.payout_intent.tx_len = 385;
    fill(c.u.payout_intent.tx, 385, 15);
    s[n++] = c;
    c.u.payout_intent.tx_len = TCN_CHAIN_PACKET_BYTES_MAX;
    fill(c.u.payout_intent.tx, TCN_CHAIN_PACKET_BYTES_MAX, 16);
    s[n++] = c;

    for (uint8_t r = TCN_PAYOUT_LANDED_OK; r <= TCN_PAYOUT_DROPPED; r++) {
        c = h_cmd(TCN_CMD_PAYOUT_OUTCOME, 12, NULL);
        c.u.payout_outcome.swap_id = 1;
        c.u.payout_outcome.payout_id = 2;
        c.u.payout_outcome.result = r;
        c.u.payout_outcome.slot = r == TCN_PAYOUT_DROPPED ? 0 : 99;
        fill(c.u.payout_outcome.nonce_value.b, 32, 17);
        c.u.payout_outcome.escrow_lamports = 1000000;
        c.u.payout_outcome.refund_len = r == TCN_PAYOUT_LANDED_FAILED ? 0 : 385;
        fill(c.u.payout_outcome.refund, c.u.payout_outcome.refund_len, 18);
        s[n++] = c;
    }

    c = h_cmd(TCN_CMD_MEMBER_SET, 13, NULL);
    c.u.member_set.node_id = 7;
    c.u.member_set.role = TCN_ROLE_OPERATOR;
    fill(c.u.member_set.measurement, 48, 19);
    strcpy(c.u.member_set.address, "10.0.0.7:7400");
    s[n++] = c;
    memset(c.u.member_set.address, 'a', TCN_STATE_ADDRESS_MAX);
    c.u.member_set.address[TCN_STATE_ADDRESS_MAX] = '\0';
    c.u.member_set.role = TCN_ROLE_NONE;
    s[n++] = c;
    assert_true(n <= SAMPLES_MAX);
    return n;
}

static void encode(const tcn_cmd *c, tcn_buf *b)
{
    tcn_error err;
    b->len = 0;
    if (tcn_cmd_encode(c, b, &err) != TCN_OK) {
        fprintf(stderr, "encode: %s\n", err.msg);
        fail();
    }
}

static void test_round_trip(void **state)
{
    (void)state;
    tcn_cmd s[SAMPLES_MAX];
    size_t n = samples(s);
    const char *dir = getenv("TCN_STATE_CORPUS_DIR");
    tcn_buf b = {0}, b2 = {0};
    for (size_t i = 0; i < n; i++) {
        encode(&s[i], &b);
        tcn_cmd d;
        tcn_error err;
        assert_int_equal(tcn_cmd_decode(b.p, b.len, &d, &err), TCN_OK);
        assert_memory_equal(&d, &s[i], sizeof(d)); /* every field, and nothing beyond the lengths */
        encode(&d, &b2);
        assert_int_equal(b.len, b2.len);
        assert_memory_equal(b.p, b2.p, b.len);
        assert_int_equal(b.p[0], TCN_CMD_VERSION);
        assert_int_equal(b.p[1], s[i].type);
        if (dir != NULL) {
            char path[512];
            snprintf(path, sizeof(path), "%s/%02zu-%s.bin", dir, i, tcn_cmd_type_name(s[i].type));
            FILE *f = fopen(path, "wb");
            assert_non_null(f);
            assert_int_equal(fwrite(b.p, 1, b.len, f), b.len);
            fclose(f);
        }
        tcn_cmd_wipe(&d);
    }
    /* The encoder appends. */
    encode(&s[0], &b);
    size_t one = b.len;
    tcn_error err;
    assert_int_equal(tcn_cmd_encode(&s[1], &b, &err), TCN_OK);
    assert_true(b.len > one);
    tcn_cmd d;
    assert_int_equal(tcn_cmd_decode(b.p + one, b.len - one, &d, &err), TCN_OK);
    assert_int_equal(d.type, TCN_CMD_CLIENT_SET);
    tcn_buf_free_wipe(&b);
    tcn_buf_free_wipe(&b2);
}

/* Every proper prefix is refused (and the empty input); the message names a field. */
static void test_truncation(void **state)
{
    (void)state;
    tcn_cmd s[SAMPLES_MAX];
    size_t n = samples(s);
    tcn_buf b = {0};
    for (size_t i = 0; i < n; i++) {
        encode(&s[i], &b);
        for (size_t k = 0; k < b.len; k++) {
            tcn_cmd d;
            tcn_error err;
            tcn_err_clear(&err);
            int rc = tcn_cmd_decode(k ? b.p : NULL, k, &d, &err);
            if (rc != TCN_ERR_TRUNCATED) {
                fprintf(stderr, "sample %zu cut at %zu: %s (%s)\n", i, k, tcn_err_name(rc), err.msg);
                fail();
            }
            assert_non_null(strstr(err.msg, "input ends early"));
            assert_non_null(strstr(err.msg, "cmd"));
        }
    }
    tcn_buf_free_wipe(&b);
}

static void test_trailing_byte(void **state)
{
    (void)state;
    tcn_cmd s[SAMPLES_MAX];
    size_t n = samples(s);
    tcn_buf b = {0};
    for (size_t i = 0; i < n; i++) {
        encode(&s[i], &b);
        assert_int_equal(tcn_buf_u8(&b, 0), TCN_OK);
        tcn_cmd d;
        tcn_error err;
        assert_int_equal(tcn_cmd_decode(b.p, b.len, &d, &err), TCN_ERR_MALFORMED);
        assert_non_null(strstr(err.msg, "1 trailing bytes"));
        assert_non_null(strstr(err.msg, tcn_cmd_type_name(s[i].type)));
    }
    tcn_buf_free_wipe(&b);
}

/* Every byte of every sample set to every other value: refused with a
 * message, or decoded into a command that encodes back to those very bytes. */
static void test_every_byte_mutation(void **state)
{
    (void)state;
    tcn_cmd s[SAMPLES_MAX];
    size_t n = samples(s);
    tcn_buf b = {0}, again = {0};
    size_t refused = 0, accepted = 0;
    for (size_t i = 0; i < n; i++) {
        encode(&s[i], &b);
        for (size_t k = 0; k < b.len; k++) {
            uint8_t orig = b.p[k];
            for (unsigned v = 0; v < 256; v++) {
                if (v == orig)
                    continue;
                b.p[k] = (uint8_t)v;
                tcn_cmd d;
                tcn_error err;
                tcn_err_clear(&err);
                if (tcn_cmd_decode(b.p, b.len, &d, &err) != TCN_OK) {
                    assert_true(err.msg[0] != '\0');
                    refused++;
                    continue;
                }
                accepted++;
                encode(&d, &again);
                if (again.len != b.len || memcmp(again.p, b.p, b.len) != 0) {
                    fprintf(stderr, "sample %zu byte %zu = %u: decodes but is not canonical\n", i, k, v);
                    fail();
                }
            }
            b.p[k] = orig;
        }
    }
    assert_true(refused > 0 && accepted > 0);
    tcn_buf_free_wipe(&b);
    tcn_buf_free_wipe(&again);
}

/* Decoding a sample whose byte at `off` (from the end when negative) is set to v. */
static void expect_refused(const tcn_cmd *c, long off, const uint8_t *v, size_t vn, int code, const char *field)
{
    tcn_buf b = {0};
    encode(c, &b);
    size_t at = off >= 0 ? (size_t)off : b.len - (size_t)(-off);
    assert_true(at + vn <= b.len);
    memcpy(b.p + at, v, vn);
    tcn_cmd d;
    tcn_error err;
    int rc = tcn_cmd_decode(b.p, b.len, &d, &err);
    if (rc != code || strstr(err.msg, field) == NULL) {
        fprintf(stderr, "want %s naming %s, got %s: %s\n", tcn_err_name(code), field, tcn_err_name(rc), err.msg);
        fail();
    }
    /* A refused decode leaves nothing behind. */
    static const tcn_cmd zero;
    assert_memory_equal(&d, &zero, sizeof(d));
    tcn_buf_free_wipe(&b);
}

#define HDR 42 /* version, type, ts_ms, actor */

static void test_field_refusals(void **state)
{
    (void)state;
    tcn_cmd s[SAMPLES_MAX];
    (void)samples(s);
    uint8_t v;
    uint8_t be[2];

    v = 2;
    expect_refused(&s[0], 0, &v, 1, TCN_ERR_UNSUPPORTED, "version");
    v = 0;
    expect_refused(&s[0], 1, &v, 1, TCN_ERR_UNSUPPORTED, "type");
    v = TCN_CMD_TYPE_MAX_ + 1;
    expect_refused(&s[0], 1, &v, 1, TCN_ERR_UNSUPPORTED, "type");

    /* CLIENT_SET role */
    v = 4;
    expect_refused(&s[1], -1, &v, 1, TCN_ERR_MALFORMED, "CLIENT_SET: role");
    /* KEY_IMPORT kind and lengths */
    v = 3;
    expect_refused(&s[2], HDR, &v, 1, TCN_ERR_MALFORMED, "KEY_IMPORT: kind");
    v = 0;
    expect_refused(&s[2], HDR, &v, 1, TCN_ERR_MALFORMED, "KEY_IMPORT: kind");
    tcn_cmd c = s[3];
    c.u.key_import.len = 33; /* a share of 33 bytes, then called a seed */
    c.u.key_import.kind = TCN_KEY_FROST_SHARE;
    v = TCN_KEY_ED25519_SEED;
    expect_refused(&c, HDR, &v, 1, TCN_ERR_MALFORMED, "KEY_IMPORT: len: 33");
    c.u.key_import.len = 31;
    expect_refused(&c, HDR, &v, 1, TCN_ERR_MALFORMED, "KEY_IMPORT: len: 31");
    be[0] = 0;
    be[1] = 65;
    expect_refused(&s[3], HDR + 1, be, 2, TCN_ERR_TOO_LARGE, "KEY_IMPORT: len: 65 exceeds 64");
    {
        /* len 0 and no secret byte (otherwise that byte would be trailing) */
        tcn_buf b = {0};
        encode(&s[4], &b);
        b.len--;
        b.p[HDR + 1] = 0;
        b.p[HDR + 2] = 0;
        tcn_cmd d;
        tcn_error err;
        assert_int_equal(tcn_cmd_decode(b.p, b.len, &d, &err), TCN_ERR_MALFORMED);
        assert_non_null(strstr(err.msg, "KEY_IMPORT: len: 0"));
        tcn_buf_free(&b);
    }
    /* policy counts */
    v = TCN_POLICY_DESTINATIONS_MAX + 1;
    expect_refused(&s[5], HDR + 8, &v, 1, TCN_ERR_TOO_LARGE, "policy.n_destinations: 9 exceeds 8");
    v = TCN_POLICY_WINDOWS_MAX + 1;
    expect_refused(&s[5], -1, &v, 1, TCN_ERR_TOO_LARGE, "policy.n_windows: 5 exceeds 4");
    expect_refused(&s[6], -(1 + 4 * 4), &v, 1, TCN_ERR_TOO_LARGE, "POLICY_SET: policy.n_windows");
    /* SWAP_OBSERVED: nonce_initialized and refund_len */
    v = 2;
    expect_refused(&s[8], HDR + 16, &v, 1, TCN_ERR_MALFORMED, "SWAP_OBSERVED: nonce_initialized: 2 is not a boolean");
    be[0] = 0x04;
    be[1] = 0xd1; /* 1233 */
    expect_refused(&s[9], -2, be, 2, TCN_ERR_TOO_LARGE, "SWAP_OBSERVED: refund_len: 1233 exceeds 1232");
    /* PAYOUT_INTENT tx_len */
    expect_refused(&s[11], HDR + 48, be, 2, TCN_ERR_TOO_LARGE, "PAYOUT_INTENT: tx_len: 1233 exceeds 1232");
    c = s[11];
    c.u.payout_intent.tx_len = 1;
    {
        /* tx_len 0 and no tx byte */
        tcn_buf b = {0};
        encode(&c, &b);
        b.len--; /* drop the byte too */
        b.p[HDR + 48] = 0;
        b.p[HDR + 49] = 0;
        tcn_cmd d;
        tcn_error err;
        assert_int_equal(tcn_cmd_decode(b.p, b.len, &d, &err), TCN_ERR_MALFORMED);
        assert_non_null(strstr(err.msg, "PAYOUT_INTENT: tx_len: 0"));
        tcn_buf_free(&b);
    }
    /* PAYOUT_OUTCOME result */
    v = 0;
    expect_refused(&s[13], HDR + 16, &v, 1, TCN_ERR_MALFORMED, "PAYOUT_OUTCOME: result: unknown 0");
    v = 4;
    expect_refused(&s[13], HDR + 16, &v, 1, TCN_ERR_MALFORMED, "PAYOUT_OUTCOME: result: unknown 4");
    be[0] = 0xff;
    be[1] = 0xff;
    expect_refused(&s[14], HDR + 16 + 1 + 8 + 32 + 8, be, 2, TCN_ERR_TOO_LARGE, "PAYOUT_OUTCOME: refund_len: 65535");
    /* MEMBER_SET role, address */
    v = 9;
    expect_refused(&s[16], HDR + 8, &v, 1, TCN_ERR_MALFORMED, "MEMBER_SET: role: unknown 9");
    be[0] = 0;
    be[1] = 64;
    expect_refused(&s[17], HDR + 8 + 1 + 48, be, 2, TCN_ERR_TOO_LARGE, "MEMBER_SET: address_len: 64 exceeds 63");
    v = 0;
    expect_refused(&s[16], -3, &v, 1, TCN_ERR_MALFORMED, "MEMBER_SET: address: holds a NUL byte");
}

/* The encoder refuses what the decoder would refuse, with TCN_ERR_USAGE. */
static void expect_encode_refused(const tcn_cmd *c, const char *field)
{
    tcn_buf b = {0};
    tcn_error err;
    assert_int_equal(tcn_cmd_encode(c, &b, &err), TCN_ERR_USAGE);
    assert_non_null(strstr(err.msg, field));
    assert_int_equal(b.len, 0);
    tcn_buf_free(&b);
}

static void test_encoder_refusals(void **state)
{
    (void)state;
    tcn_cmd s[SAMPLES_MAX];
    (void)samples(s);
    tcn_cmd c = s[0];
    c.type = 0;
    expect_encode_refused(&c, "type");
    c.type = TCN_CMD_TYPE_MAX_ + 1;
    expect_encode_refused(&c, "type");
    c = s[1];
    c.u.client_set.role = 4;
    expect_encode_refused(&c, "role");
    c = s[2];
    c.u.key_import.kind = 7;
    expect_encode_refused(&c, "kind");
    c = s[2];
    c.u.key_import.len = 33;
    expect_encode_refused(&c, "len");
    c = s[3];
    c.u.key_import.len = 0;
    expect_encode_refused(&c, "len");
    c.u.key_import.len = 65;
    expect_encode_refused(&c, "len");
    c = s[6];
    c.u.policy_set.policy.n_destinations = 9;
    expect_encode_refused(&c, "n_destinations");
    c = s[7];
    c.u.swap_create.policy.n_windows = 5;
    expect_encode_refused(&c, "n_windows");
    c = s[8];
    c.u.swap_observed.refund_len = TCN_CHAIN_PACKET_BYTES_MAX + 1;
    expect_encode_refused(&c, "refund_len");
    c = s[11];
    c.u.payout_intent.tx_len = 0;
    expect_encode_refused(&c, "tx_len");
    c = s[13];
    c.u.payout_outcome.result = 0;
    expect_encode_refused(&c, "result");
    c = s[16];
    memset(c.u.member_set.address, 'x', sizeof(c.u.member_set.address)); /* no NUL: 64 characters */
    expect_encode_refused(&c, "address");
}

static void test_wipe(void **state)
{
    (void)state;
    tcn_cmd s[SAMPLES_MAX];
    (void)samples(s);
    static const tcn_cmd zero;
    tcn_cmd c = s[0];
    tcn_cmd_wipe(&c);
    assert_memory_equal(&c, &zero, sizeof(c));
    tcn_cmd_wipe(NULL);

    /* A genesis cut inside operator_key: the seed was already decoded, and is gone. */
    tcn_buf b = {0};
    encode(&s[0], &b);
    tcn_cmd d;
    memset(&d, 0xaa, sizeof(d));
    tcn_error err;
    assert_int_equal(tcn_cmd_decode(b.p, b.len - 1, &d, &err), TCN_ERR_TRUNCATED);
    assert_non_null(strstr(err.msg, "operator_key"));
    assert_memory_equal(&d, &zero, sizeof(d));
    tcn_buf_free_wipe(&b);
}

static void test_type_names(void **state)
{
    (void)state;
    assert_string_equal(tcn_cmd_type_name(TCN_CMD_GENESIS), "GENESIS");
    assert_string_equal(tcn_cmd_type_name(TCN_CMD_PAYOUT_OUTCOME), "PAYOUT_OUTCOME");
    assert_string_equal(tcn_cmd_type_name(TCN_CMD_MEMBER_SET), "MEMBER_SET");
    assert_string_equal(tcn_cmd_type_name(0), "unknown");
    assert_string_equal(tcn_cmd_type_name(11), "unknown");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),        cmocka_unit_test(test_truncation),
        cmocka_unit_test(test_trailing_byte),     cmocka_unit_test(test_every_byte_mutation),
        cmocka_unit_test(test_field_refusals),    cmocka_unit_test(test_encoder_refusals),
        cmocka_unit_test(test_wipe),              cmocka_unit_test(test_type_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
