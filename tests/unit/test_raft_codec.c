/* Unit tests: the Raft message codec — round trips, every truncation, every bit flip, refusals naming the field.
 *
 * With TCN_RAFT_CORPUS_DIR set, the samples are also written there, one file
 * each: that is how tests/fuzz/corpus/raft_codec/ was made. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "raft/codec.h"
#include "raft/raft.h"
#include "util/buf.h"

#define SAMPLES_MAX 32

static uint8_t g_payload[3][300];
static tcn_raft_entry g_entries[4];
static uint8_t g_chunk[700];

static void fill_hash(uint8_t *h, uint8_t seed)
{
    for (int i = 0; i < TCN_SHA256_LEN; i++)
        h[i] = (uint8_t)(seed + 7 * i);
}

static tcn_raft_msg base(uint8_t type, uint64_t term)
{
    tcn_raft_msg m;
    memset(&m, 0, sizeof(m));
    m.type = type;
    m.from = 0x1122334455667788ull;
    m.to = 3;
    m.term = term;
    return m;
}

static size_t samples(tcn_raft_msg *s)
{
    size_t n = 0;
    for (int i = 0; i < 3; i++)
        for (size_t k = 0; k < sizeof(g_payload[i]); k++)
            g_payload[i][k] = (uint8_t)(k * (i + 3));
    for (size_t k = 0; k < sizeof(g_chunk); k++)
        g_chunk[k] = (uint8_t)(k ^ 0x5a);

    tcn_raft_msg m = base(TCN_RAFT_MSG_VOTE, 5);
    m.vote.last_index = 1000;
    m.vote.last_term = 4;
    m.vote.pre_vote = true;
    s[n++] = m;
    m.vote.pre_vote = false;
    m.vote.transfer = true;
    m.term = UINT64_MAX; /* the 10-byte varint */
    m.vote.last_index = UINT64_MAX;
    s[n++] = m;

    m = base(TCN_RAFT_MSG_VOTE_RESULT, 0);
    m.vote_result.granted = true;
    s[n++] = m;
    m.vote_result.pre_vote = true;
    m.term = 127;
    s[n++] = m;

    m = base(TCN_RAFT_MSG_APPEND, 9);
    m.append.prev_index = 41;
    m.append.prev_term = 8;
    fill_hash(m.append.prev_hash, 1);
    m.append.commit = 40;
    s[n++] = m; /* a probe: no entries, no last_hash */
    g_entries[0] = (tcn_raft_entry){.index = 42, .term = 8, .data = g_payload[0], .len = 100, .type = TCN_RAFT_ENTRY_NORMAL};
    g_entries[1] = (tcn_raft_entry){.index = 43, .term = 9, .data = NULL, .len = 0, .type = TCN_RAFT_ENTRY_NOOP};
    g_entries[2] = (tcn_raft_entry){.index = 44, .term = 9, .data = g_payload[1], .len = 19, .type = TCN_RAFT_ENTRY_CONFIG};
    g_entries[3] = (tcn_raft_entry){.index = 45, .term = 9, .data = g_payload[2], .len = 300, .type = TCN_RAFT_ENTRY_NORMAL};
    m.append.entries = g_entries;
    m.append.n_entries = 4;
    fill_hash(m.append.last_hash, 2);
    s[n++] = m;
    static tcn_raft_entry first;
    first = (tcn_raft_entry){.index = 1, .term = 1, .data = g_payload[0], .len = 5, .type = TCN_RAFT_ENTRY_CONFIG};
    m = base(TCN_RAFT_MSG_APPEND, 1); /* from genesis: prev 0/0, zero prev_hash */
    m.append.entries = &first;
    m.append.n_entries = 1;
    fill_hash(m.append.last_hash, 3);
    s[n++] = m;

    m = base(TCN_RAFT_MSG_APPEND_RESULT, 9);
    m.append_result.status = TCN_RAFT_APPEND_OK;
    m.append_result.index = 45;
    s[n++] = m;
    m.append_result.status = TCN_RAFT_APPEND_REJECT;
    m.append_result.index = 300;
    m.append_result.hint_index = 200;
    m.append_result.hint_term = 7;
    s[n++] = m;
    m.append_result.status = TCN_RAFT_APPEND_CORRUPT;
    m.append_result.hint_index = 0;
    m.append_result.hint_term = 0;
    s[n++] = m;

    m = base(TCN_RAFT_MSG_HEARTBEAT, 9);
    m.heartbeat.commit = 1u << 20;
    m.heartbeat.read_seq = 3;
    s[n++] = m;
    m = base(TCN_RAFT_MSG_HEARTBEAT_RESULT, 9);
    m.heartbeat_result.read_seq = 3;
    s[n++] = m;

    m = base(TCN_RAFT_MSG_SNAPSHOT, 9);
    m.snapshot.index = 5000;
    m.snapshot.term = 8;
    fill_hash(m.snapshot.hash, 4);
    m.snapshot.config.n = 4;
    m.snapshot.config.members[0] = (tcn_raft_member){.id = 1, .role = TCN_RAFT_VOTER};
    m.snapshot.config.members[1] = (tcn_raft_member){.id = 7, .role = TCN_RAFT_VOTER};
    m.snapshot.config.members[2] = (tcn_raft_member){.id = 0xfffffffffffull, .role = TCN_RAFT_LEARNER};
    m.snapshot.config.members[3] = (tcn_raft_member){.id = UINT64_MAX, .role = TCN_RAFT_VOTER};
    m.snapshot.size = 2000;
    m.snapshot.offset = 1300;
    m.snapshot.data = g_chunk;
    m.snapshot.len = 700; /* the last chunk */
    s[n++] = m;
    m.snapshot.offset = 0;
    m.snapshot.len = 600;
    s[n++] = m;
    m.snapshot.size = 0; /* an empty snapshot: one empty chunk */
    m.snapshot.len = 0;
    m.snapshot.data = NULL;
    s[n++] = m;

    m = base(TCN_RAFT_MSG_SNAPSHOT_RESULT, 9);
    m.snapshot_result.index = 5000;
    m.snapshot_result.offset = 1300;
    s[n++] = m;
    m.snapshot_result.status = TCN_RAFT_SNAPSHOT_CORRUPT;
    m.snapshot_result.offset = 0;
    s[n++] = m;

    m = base(TCN_RAFT_MSG_TIMEOUT_NOW, 10);
    m.timeout_now.last_index = 1000;
    m.timeout_now.last_term = 10;
    s[n++] = m;

    /* Appended last, so that the corpus files above keep their names. */
    m = base(TCN_RAFT_MSG_VOTE, 11);
    m.vote.last_index = 1001;
    m.vote.last_term = 10;
    m.vote.pre_vote = true;
    m.vote.transfer = true; /* a transfer's pre-vote */
    s[n++] = m;
    assert_true(n <= SAMPLES_MAX);
    return n;
}

static void encode(const tcn_raft_msg *m, tcn_buf *b)
{
    b->len = 0;
    tcn_error err;
    int rc = tcn_raft_msg_encode(m, b, &err);
    if (rc != TCN_OK)
        fail_msg("encode %s: %s", tcn_raft_msg_type_name(m->type), err.msg);
}

static void test_round_trip(void **state)
{
    (void)state;
    tcn_raft_msg s[SAMPLES_MAX];
    size_t n = samples(s);
    tcn_buf b = {0}, b2 = {0};
    tcn_raft_decoder d = {0};
    const char *dir = getenv("TCN_RAFT_CORPUS_DIR");
    for (size_t i = 0; i < n; i++) {
        encode(&s[i], &b);
        tcn_raft_msg out;
        tcn_error err;
        int rc = tcn_raft_msg_decode(&d, b.p, b.len, &out, &err);
        if (rc != TCN_OK)
            fail_msg("sample %zu (%s): %s", i, tcn_raft_msg_type_name(s[i].type), err.msg);
        assert_true(tcn_raft_msg_equal(&s[i], &out));
        encode(&out, &b2);
        assert_int_equal(b2.len, b.len);
        assert_memory_equal(b2.p, b.p, b.len);
        /* zero copy: payloads point into the input */
        if (out.type == TCN_RAFT_MSG_APPEND)
            for (uint32_t k = 0; k < out.append.n_entries; k++)
                if (out.append.entries[k].len > 0)
                    assert_true(out.append.entries[k].data > b.p && out.append.entries[k].data < b.p + b.len);
        if (out.type == TCN_RAFT_MSG_SNAPSHOT && out.snapshot.len > 0)
            assert_true(out.snapshot.data > b.p && out.snapshot.data < b.p + b.len);
        if (dir != NULL) {
            char path[512];
            snprintf(path, sizeof(path), "%s/%02zu-%s.bin", dir, i, tcn_raft_msg_type_name(s[i].type));
            FILE *f = fopen(path, "wb");
            assert_non_null(f);
            assert_int_equal(fwrite(b.p, 1, b.len, f), b.len);
            fclose(f);
        }
    }
    /* a heartbeat is small */
    encode(&s[10], &b);
    assert_true(b.len <= 24);
    tcn_buf_free(&b);
    tcn_buf_free(&b2);
    tcn_raft_decoder_free(&d);
}

static void test_every_truncation_fails(void **state)
{
    (void)state;
    tcn_raft_msg s[SAMPLES_MAX];
    size_t n = samples(s);
    tcn_buf b = {0};
    tcn_raft_decoder d = {0};
    for (size_t i = 0; i < n; i++) {
        encode(&s[i], &b);
        for (size_t cut = 0; cut < b.len; cut++) {
            tcn_raft_msg out;
            tcn_error err;
            int rc = tcn_raft_msg_decode(&d, b.p, cut, &out, &err);
            if (rc == TCN_OK)
                fail_msg("sample %zu decoded from %zu of %zu bytes", i, cut, b.len);
        }
    }
    tcn_buf_free(&b);
    tcn_raft_decoder_free(&d);
}

/* Each flipped bit is refused, or yields a message whose (canonical)
 * encoding is exactly the flipped bytes. */
static void test_every_bit_flip(void **state)
{
    (void)state;
    tcn_raft_msg s[SAMPLES_MAX];
    size_t n = samples(s);
    tcn_buf b = {0}, b2 = {0};
    tcn_raft_decoder d = {0};
    size_t refused = 0, accepted = 0;
    for (size_t i = 0; i < n; i++) {
        encode(&s[i], &b);
        for (size_t bit = 0; bit < b.len * 8; bit++) {
            b.p[bit / 8] ^= (uint8_t)(1u << (bit % 8));
            tcn_raft_msg out;
            tcn_error err;
            if (tcn_raft_msg_decode(&d, b.p, b.len, &out, &err) == TCN_OK) {
                accepted++;
                encode(&out, &b2);
                assert_int_equal(b2.len, b.len);
                assert_memory_equal(b2.p, b.p, b.len);
            } else {
                refused++;
                assert_true(strlen(err.msg) > 0);
            }
            b.p[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        }
    }
    assert_true(refused > 0 && accepted > 0);
    tcn_buf_free(&b);
    tcn_buf_free(&b2);
    tcn_raft_decoder_free(&d);
}

/* Decodes hand-made bytes and expects code and a field name in the message. */
static void expect_refused(const uint8_t *p, size_t len, int code, const char *field)
{
    tcn_raft_decoder d = {0};
    tcn_raft_msg out;
    tcn_error err;
    tcn_err_clear(&err);
    int rc = tcn_raft_msg_decode(&d, p, len, &out, &err);
    tcn_raft_decoder_free(&d);
    if (rc != code || strstr(err.msg, field) == NULL)
        fail_msg("expected %s naming '%s', got %s: %s", tcn_err_name(code), field, tcn_err_name(rc), err.msg);
}

/* version, type, from (8), to (8) */
#define HDR(type) 1, type, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 3

static void test_refusals_name_the_field(void **state)
{
    (void)state;
    const uint8_t ok_vote[] = {HDR(1), 5, 10, 4, 0};
    tcn_raft_decoder d = {0};
    tcn_raft_msg out;
    tcn_error err;
    assert_int_equal(tcn_raft_msg_decode(&d, ok_vote, sizeof(ok_vote), &out, &err), TCN_OK);
    tcn_raft_decoder_free(&d);

    const uint8_t trailing[] = {HDR(1), 5, 10, 4, 0, 0};
    expect_refused(trailing, sizeof(trailing), TCN_ERR_MALFORMED, "trailing");
    const uint8_t version[] = {2, 1, 0};
    expect_refused(version, sizeof(version), TCN_ERR_UNSUPPORTED, "version");
    const uint8_t type0[] = {1, 0};
    expect_refused(type0, sizeof(type0), TCN_ERR_UNSUPPORTED, "type");
    const uint8_t type10[] = {1, 10};
    expect_refused(type10, sizeof(type10), TCN_ERR_UNSUPPORTED, "type");
    const uint8_t overlong[] = {HDR(1), 0x85, 0x00, 10, 4, 0};
    expect_refused(overlong, sizeof(overlong), TCN_ERR_MALFORMED, "term");
    const uint8_t eleven[] = {HDR(1), 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x02, 10, 4, 0};
    expect_refused(eleven, sizeof(eleven), TCN_ERR_MALFORMED, "term");
    const uint8_t flags[] = {HDR(1), 5, 10, 4, 0x04};
    expect_refused(flags, sizeof(flags), TCN_ERR_MALFORMED, "flags");
    const uint8_t both[] = {HDR(1), 5, 10, 4, 0x03}; /* a transfer's pre-vote */
    assert_int_equal(tcn_raft_msg_decode(&d, both, sizeof(both), &out, &err), TCN_OK);
    assert_true(out.vote.pre_vote && out.vote.transfer);
    tcn_raft_decoder_free(&d);
    const uint8_t from0[] = {1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 5, 10, 4, 0};
    expect_refused(from0, sizeof(from0), TCN_ERR_MALFORMED, "from");
    const uint8_t vote_short[] = {HDR(1), 5, 10};
    expect_refused(vote_short, sizeof(vote_short), TCN_ERR_TRUNCATED, "last_term");

    /* APPEND: term 5, prev_index 7, prev_term 4, prev_hash, commit 6, n, ... */
#define APPEND_HEAD(n) HDR(3), 5, 7, 4, Z32, 6, n
#define Z32 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0
    const uint8_t many[] = {APPEND_HEAD(0x81), 0x80, 0x01}; /* 16385 entries */
    expect_refused(many, sizeof(many), TCN_ERR_TOO_LARGE, "entries.n");
    const uint8_t few_bytes[] = {APPEND_HEAD(100), 5, 1, 0};
    expect_refused(few_bytes, sizeof(few_bytes), TCN_ERR_TRUNCATED, "entries.n");
    const uint8_t big_entry[] = {APPEND_HEAD(1), 5, 1, 0x81, 0x80, 0x40, 0, 0, 0};
    expect_refused(big_entry, sizeof(big_entry), TCN_ERR_TOO_LARGE, "entries[0].len");
    const uint8_t future_term[] = {APPEND_HEAD(1), 6, 1, 1, 'x', Z32};
    expect_refused(future_term, sizeof(future_term), TCN_ERR_MALFORMED, "entries[0].term");
    const uint8_t old_term[] = {APPEND_HEAD(1), 3, 1, 1, 'x', Z32};
    expect_refused(old_term, sizeof(old_term), TCN_ERR_MALFORMED, "entries[0].term");
    const uint8_t bad_type[] = {APPEND_HEAD(1), 5, 4, 1, 'x', Z32};
    expect_refused(bad_type, sizeof(bad_type), TCN_ERR_MALFORMED, "entries[0].type");
    const uint8_t cut_payload[] = {APPEND_HEAD(1), 5, 1, 9, 'x', 'y', 'z'};
    expect_refused(cut_payload, sizeof(cut_payload), TCN_ERR_TRUNCATED, "entries[0].payload");
    const uint8_t genesis_term[] = {HDR(3), 5, 0, 4, Z32, 6, 0};
    expect_refused(genesis_term, sizeof(genesis_term), TCN_ERR_MALFORMED, "prev_term");

    /* APPEND_RESULT reject with a hint above the index */
    const uint8_t hint[] = {HDR(4), 5, 1, 10, 11, 2};
    expect_refused(hint, sizeof(hint), TCN_ERR_MALFORMED, "hint_index");
    const uint8_t ok_hint[] = {HDR(4), 5, 0, 10, 1, 0};
    expect_refused(ok_hint, sizeof(ok_hint), TCN_ERR_MALFORMED, "hint_index");
    const uint8_t status[] = {HDR(4), 5, 3, 10, 0, 0};
    expect_refused(status, sizeof(status), TCN_ERR_MALFORMED, "status");

    /* SNAPSHOT: term 5, index 9, term 5, hash, config, size, offset, len, data */
    const uint8_t unsorted[] = {HDR(7), 5, 9, 5, Z32, 2, 0, 0, 0, 0, 0, 0, 0, 5, 1, 0, 0, 0, 0, 0, 0, 0, 4, 1,
                                1, 0, 1, 'a'};
    expect_refused(unsorted, sizeof(unsorted), TCN_ERR_MALFORMED, "config.members[1].id");
    const uint8_t role[] = {HDR(7), 5, 9, 5, Z32, 1, 0, 0, 0, 0, 0, 0, 0, 5, 3, 1, 0, 1, 'a'};
    expect_refused(role, sizeof(role), TCN_ERR_MALFORMED, "config.members[0].role");
    const uint8_t no_voter[] = {HDR(7), 5, 9, 5, Z32, 1, 0, 0, 0, 0, 0, 0, 0, 5, 2, 1, 0, 1, 'a'};
    expect_refused(no_voter, sizeof(no_voter), TCN_ERR_MALFORMED, "config");
    const uint8_t beyond[] = {HDR(7), 5, 9, 5, Z32, 1, 0, 0, 0, 0, 0, 0, 0, 5, 1, 4, 3, 2, 'a', 'b'};
    expect_refused(beyond, sizeof(beyond), TCN_ERR_MALFORMED, "offset");
    const uint8_t chunk[] = {HDR(7), 5, 9, 5, Z32, 1, 0, 0, 0, 0, 0, 0, 0, 5, 1, 0x80, 0x80, 0x80, 0x01, 0,
                             0x81, 0x80, 0x40};
    expect_refused(chunk, sizeof(chunk), TCN_ERR_TOO_LARGE, "len");
    const uint8_t empty_mid[] = {HDR(7), 5, 9, 5, Z32, 1, 0, 0, 0, 0, 0, 0, 0, 5, 1, 4, 0, 0};
    expect_refused(empty_mid, sizeof(empty_mid), TCN_ERR_MALFORMED, "len");
    const uint8_t snap_term[] = {HDR(7), 5, 9, 6, Z32, 1, 0, 0, 0, 0, 0, 0, 0, 5, 1, 1, 0, 1, 'a'};
    expect_refused(snap_term, sizeof(snap_term), TCN_ERR_MALFORMED, "term");

    /* TIMEOUT_NOW: term 5, last_index, last_term */
    const uint8_t tn_ok[] = {HDR(9), 5, 40, 5};
    assert_int_equal(tcn_raft_msg_decode(&d, tn_ok, sizeof(tn_ok), &out, &err), TCN_OK);
    assert_int_equal(out.timeout_now.last_index, 40);
    assert_int_equal(out.timeout_now.last_term, 5);
    tcn_raft_decoder_free(&d);
    const uint8_t tn_empty[] = {HDR(9), 5};
    expect_refused(tn_empty, sizeof(tn_empty), TCN_ERR_TRUNCATED, "last_index");
    const uint8_t tn_short[] = {HDR(9), 5, 40};
    expect_refused(tn_short, sizeof(tn_short), TCN_ERR_TRUNCATED, "last_term");
    const uint8_t tn_future[] = {HDR(9), 5, 40, 6};
    expect_refused(tn_future, sizeof(tn_future), TCN_ERR_MALFORMED, "last_term");
    const uint8_t tn_zero_term[] = {HDR(9), 5, 40, 0};
    expect_refused(tn_zero_term, sizeof(tn_zero_term), TCN_ERR_MALFORMED, "last_term");
    const uint8_t tn_zero_index[] = {HDR(9), 5, 0, 5};
    expect_refused(tn_zero_index, sizeof(tn_zero_index), TCN_ERR_MALFORMED, "last_index");
    const uint8_t tn_trailing[] = {HDR(9), 5, 40, 5, 0};
    expect_refused(tn_trailing, sizeof(tn_trailing), TCN_ERR_MALFORMED, "trailing");

    /* too big as a whole, before any parsing */
    size_t huge = (size_t)TCN_RAFT_MSG_BYTES_MAX + 1;
    uint8_t *h = calloc(1, huge);
    assert_non_null(h);
    expect_refused(h, huge, TCN_ERR_TOO_LARGE, "bytes");
    free(h);
}

static void test_encode_refuses_invalid(void **state)
{
    (void)state;
    tcn_buf b = {0};
    tcn_error err;
    tcn_raft_msg m = base(TCN_RAFT_MSG_APPEND, 5);
    m.append.n_entries = TCN_RAFT_MSG_ENTRIES_MAX + 1;
    m.append.entries = g_entries;
    assert_int_equal(tcn_raft_msg_encode(&m, &b, &err), TCN_ERR_USAGE);
    assert_non_null(strstr(err.msg, "entries.n"));
    m = base(TCN_RAFT_MSG_VOTE, 5);
    m.from = 0;
    assert_int_equal(tcn_raft_msg_encode(&m, &b, &err), TCN_ERR_USAGE);
    m = base(TCN_RAFT_MSG_SNAPSHOT, 5);
    m.snapshot.index = 1;
    m.snapshot.term = 1;
    m.snapshot.config.n = 1;
    m.snapshot.config.members[0] = (tcn_raft_member){.id = 1, .role = TCN_RAFT_VOTER};
    m.snapshot.size = 10;
    m.snapshot.offset = 5;
    m.snapshot.len = 6;
    m.snapshot.data = g_chunk;
    assert_int_equal(tcn_raft_msg_encode(&m, &b, &err), TCN_ERR_USAGE);
    assert_non_null(strstr(err.msg, "offset"));
    m = base(TCN_RAFT_MSG_TIMEOUT_NOW, 5); /* a leader's log is never empty */
    assert_int_equal(tcn_raft_msg_encode(&m, &b, &err), TCN_ERR_USAGE);
    assert_non_null(strstr(err.msg, "last_index"));
    m = base(12, 5);
    assert_int_equal(tcn_raft_msg_encode(&m, &b, &err), TCN_ERR_USAGE);
    assert_int_equal(b.len, 0);
    tcn_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_every_truncation_fails),
        cmocka_unit_test(test_every_bit_flip),
        cmocka_unit_test(test_refusals_name_the_field),
        cmocka_unit_test(test_encode_refuses_invalid),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
