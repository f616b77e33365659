/* Unit tests: peer frames (src/node/frame.c): layouts, round trips, the
 * stream decoder under every split and truncation, mutations, memory bounds. */
#include <stdlib.h>
#include <string.h>

#include "node/frame.h"
#include "raft/codec.h"
#include "testlib.h"
#include "util/assert.h"
#include "util/buf.h"

/* ---- samples ---------------------------------------------------------------- */

static uint8_t g_raft_bytes[256];
static size_t g_raft_len;
static uint8_t g_evidence[300];

/* One frame of every type, with both HELLO address families and an empty BYE text. */
static size_t samples(tcn_frame *s)
{
    size_t n = 0;
    memset(s, 0, 10 * sizeof(*s));

    s[n].type = TCN_FRAME_HELLO;
    s[n].u.hello.protocol_version = TCN_NODE_PROTOCOL_VERSION;
    s[n].u.hello.node_id = 0x0102030405060708ull;
    strcpy(s[n].u.hello.name, "node-a.1_x");
    strcpy(s[n].u.hello.api_addr, "10.0.0.7:7500");
    strcpy(s[n].u.hello.peer_addr, "10.0.0.7:7400");
    n++;

    s[n].type = TCN_FRAME_HELLO;
    s[n].u.hello.protocol_version = 0xffff;
    s[n].u.hello.node_id = UINT64_MAX;
    for (int i = 0; i < 16; i++)
        s[n].u.hello.group_id[i] = (uint8_t)(0xa0 + i);
    memset(s[n].u.hello.name, 'N', TCN_FRAME_HELLO_NAME_BYTES_MAX);
    strcpy(s[n].u.hello.api_addr, "[2001:db8::1]:65535");
    strcpy(s[n].u.hello.peer_addr, "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535");
    n++;

    /* A real Raft codec message: the RAFT payload is exactly its bytes. */
    tcn_raft_msg m;
    memset(&m, 0, sizeof(m));
    m.type = TCN_RAFT_MSG_VOTE;
    m.from = 1;
    m.to = 2;
    m.term = 7;
    m.vote.last_index = 300;
    m.vote.last_term = 6;
    m.vote.pre_vote = true;
    tcn_buf b = {0};
    tcn_error err;
    assert_int_equal(tcn_raft_msg_encode(&m, &b, &err), TCN_OK);
    assert_true(b.len <= sizeof(g_raft_bytes));
    memcpy(g_raft_bytes, b.p, b.len);
    g_raft_len = b.len;
    tcn_buf_free(&b);
    s[n].type = TCN_FRAME_RAFT;
    s[n].u.raft.p = g_raft_bytes;
    s[n].u.raft.len = g_raft_len;
    n++;

    s[n].type = TCN_FRAME_REATTEST_CHALLENGE;
    for (int i = 0; i < 32; i++)
        s[n].u.challenge[i] = (uint8_t)(i * 7 + 1);
    n++;

    for (size_t i = 0; i < sizeof(g_evidence); i++)
        g_evidence[i] = (uint8_t)(i * 31 + 5);
    s[n].type = TCN_FRAME_REATTEST_EVIDENCE;
    s[n].u.evidence.p = g_evidence;
    s[n].u.evidence.len = sizeof(g_evidence);
    n++;

    s[n].type = TCN_FRAME_PING;
    s[n].u.ping.nonce = 0x1111222233334444ull;
    s[n].u.ping.clock_ms = 1764000000000ull;
    n++;

    s[n].type = TCN_FRAME_PONG;
    s[n].u.ping.nonce = 0x1111222233334444ull;
    s[n].u.ping.clock_ms = 1764000000123ull;
    n++;

    s[n].type = TCN_FRAME_BYE;
    s[n].u.bye.reason = TCN_FRAME_BYE_SHUTDOWN;
    strcpy(s[n].u.bye.text, "leaving: SIGTERM ~ ok!");
    n++;

    s[n].type = TCN_FRAME_BYE;
    s[n].u.bye.reason = TCN_FRAME_BYE_REASON_MAX;
    n++;
    return n;
}

static bool bytes_equal(const tcn_frame_bytes *a, const tcn_frame_bytes *b)
{
    return a->len == b->len && (a->len == 0 || memcmp(a->p, b->p, a->len) == 0);
}

static bool frame_equal(const tcn_frame *a, const tcn_frame *b)
{
    if (a->type != b->type)
        return false;
    switch (a->type) {
    case TCN_FRAME_HELLO:
        return a->u.hello.protocol_version == b->u.hello.protocol_version &&
               a->u.hello.node_id == b->u.hello.node_id &&
               memcmp(a->u.hello.group_id, b->u.hello.group_id, 16) == 0 &&
               strcmp(a->u.hello.name, b->u.hello.name) == 0 && strcmp(a->u.hello.api_addr, b->u.hello.api_addr) == 0 &&
               strcmp(a->u.hello.peer_addr, b->u.hello.peer_addr) == 0;
    case TCN_FRAME_RAFT:
        return bytes_equal(&a->u.raft, &b->u.raft);
    case TCN_FRAME_REATTEST_EVIDENCE:
        return bytes_equal(&a->u.evidence, &b->u.evidence);
    case TCN_FRAME_REATTEST_CHALLENGE:
        return memcmp(a->u.challenge, b->u.challenge, 32) == 0;
    case TCN_FRAME_PING:
    case TCN_FRAME_PONG:
        return a->u.ping.nonce == b->u.ping.nonce && a->u.ping.clock_ms == b->u.ping.clock_ms;
    case TCN_FRAME_BYE:
        return a->u.bye.reason == b->u.bye.reason && strcmp(a->u.bye.text, b->u.bye.text) == 0;
    }
    return false;
}

/* ---- a handler that keeps deep copies of what it is given ---------------------- */

#define KEEP_MAX 64
typedef struct kept {
    size_t n;
    tcn_frame f[KEEP_MAX];
    uint8_t *owned[KEEP_MAX];
    int fail_at; /* 1-based frame number the handler refuses; 0 none */
} kept;

static int keep(void *ctx, const tcn_frame *f, tcn_error *err)
{
    kept *k = ctx;
    assert_true(k->n < KEEP_MAX);
    if (k->fail_at != 0 && (int)k->n + 1 == k->fail_at)
        return tcn_err_set(err, TCN_ERR_POLICY, "test: refused frame %zu", k->n + 1);
    tcn_frame c = *f;
    k->owned[k->n] = NULL;
    const tcn_frame_bytes *v = f->type == TCN_FRAME_RAFT                ? &f->u.raft
                               : f->type == TCN_FRAME_REATTEST_EVIDENCE ? &f->u.evidence
                                                                        : NULL;
    if (v != NULL) {
        uint8_t *p = malloc(v->len);
        assert_non_null(p);
        memcpy(p, v->p, v->len);
        k->owned[k->n] = p;
        if (f->type == TCN_FRAME_RAFT)
            c.u.raft.p = p;
        else
            c.u.evidence.p = p;
    }
    k->f[k->n++] = c;
    return TCN_OK;
}

static void kept_free(kept *k)
{
    for (size_t i = 0; i < k->n; i++)
        free(k->owned[i]);
    memset(k, 0, sizeof(*k));
}

/* The samples as one stream; ends[i] is where frame i ends. */
static void sample_stream(tcn_frame *s, size_t *n, tcn_buf *out, size_t *ends)
{
    *n = samples(s);
    tcn_error err;
    for (size_t i = 0; i < *n; i++) {
        assert_int_equal(tcn_frame_encode(&s[i], out, &err), TCN_OK);
        ends[i] = out->len;
    }
}

/* ---- layouts and round trips ------------------------------------------------ */

/* The documented bytes of a PING and a HELLO (docs/NODE.md). */
static void test_wire_layout(void **state)
{
    (void)state;
    tcn_frame f;
    memset(&f, 0, sizeof(f));
    f.type = TCN_FRAME_PING;
    f.u.ping.nonce = 0x0102030405060708ull;
    f.u.ping.clock_ms = 0x1112131415161718ull;
    tcn_buf b = {0};
    tcn_error err;
    assert_int_equal(tcn_frame_encode(&f, &b, &err), TCN_OK);
    const uint8_t ping[] = {'T', 1, 5, 0, 0, 0, 0, 16, 1, 2, 3, 4, 5, 6, 7, 8, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18};
    assert_int_equal(b.len, sizeof(ping));
    assert_memory_equal(b.p, ping, sizeof(ping));

    b.len = 0;
    memset(&f, 0, sizeof(f));
    f.type = TCN_FRAME_HELLO;
    f.u.hello.protocol_version = 1;
    f.u.hello.node_id = 9;
    f.u.hello.group_id[15] = 0xee;
    strcpy(f.u.hello.name, "a");
    strcpy(f.u.hello.api_addr, "1.2.3.4:5");
    strcpy(f.u.hello.peer_addr, "5.6.7.8:9");
    assert_int_equal(tcn_frame_encode(&f, &b, &err), TCN_OK);
    const uint8_t hello[] = {'T', 1, 1, 0, 0, 0, 0, 48,                 /* header */
                             0, 1, 0, 0, 0, 0, 0, 0, 0, 9,              /* version, node id */
                             0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xee, /* group id */
                             1, 'a', 9, '1', '.', '2', '.', '3', '.', '4', ':', '5',
                             9, '5', '.', '6', '.', '7', '.', '8', ':', '9'};
    assert_int_equal(b.len, sizeof(hello));
    assert_memory_equal(b.p, hello, sizeof(hello));

    b.len = 0;
    memset(&f, 0, sizeof(f));
    f.type = TCN_FRAME_BYE;
    f.u.bye.reason = TCN_FRAME_BYE_GROUP;
    strcpy(f.u.bye.text, "x");
    assert_int_equal(tcn_frame_encode(&f, &b, &err), TCN_OK);
    const uint8_t bye[] = {'T', 1, 7, 0, 0, 0, 0, 4, 0, 5, 1, 'x'};
    assert_int_equal(b.len, sizeof(bye));
    assert_memory_equal(b.p, bye, sizeof(bye));
    tcn_buf_free(&b);
}

static void test_round_trip_every_type(void **state)
{
    (void)state;
    tcn_frame s[10];
    size_t n = samples(s);
    bool seen[TCN_FRAME_TYPE_MAX + 1] = {false};
    for (size_t i = 0; i < n; i++) {
        tcn_buf b = {0}, again = {0};
        tcn_error err;
        assert_int_equal(tcn_frame_encode(&s[i], &b, &err), TCN_OK);
        tcn_frame d;
        size_t used = 0;
        assert_int_equal(tcn_frame_decode(b.p, b.len, &d, &used, &err), TCN_OK);
        assert_int_equal(used, b.len);
        assert_true(frame_equal(&s[i], &d));
        assert_int_equal(tcn_frame_encode(&d, &again, &err), TCN_OK);
        assert_int_equal(again.len, b.len);
        assert_memory_equal(again.p, b.p, b.len); /* one encoding */
        seen[s[i].type] = true;
        tcn_buf_free(&b);
        tcn_buf_free(&again);
    }
    for (int t = 1; t <= TCN_FRAME_TYPE_MAX; t++)
        assert_true(seen[t]);
}

/* The RAFT payload is the codec's message, untouched. */
static void test_raft_payload_is_codec_bytes(void **state)
{
    (void)state;
    tcn_frame s[10];
    samples(s);
    tcn_buf b = {0};
    tcn_error err;
    assert_int_equal(tcn_frame_encode(&s[2], &b, &err), TCN_OK);
    assert_int_equal(b.len, TCN_FRAME_HEADER_BYTES + g_raft_len);
    assert_memory_equal(b.p + TCN_FRAME_HEADER_BYTES, g_raft_bytes, g_raft_len);
    tcn_frame d;
    size_t used;
    assert_int_equal(tcn_frame_decode(b.p, b.len, &d, &used, &err), TCN_OK);
    tcn_raft_decoder rd = {0};
    tcn_raft_msg m;
    assert_int_equal(tcn_raft_msg_decode(&rd, d.u.raft.p, d.u.raft.len, &m, &err), TCN_OK);
    assert_int_equal(m.type, TCN_RAFT_MSG_VOTE);
    assert_int_equal(m.vote.last_index, 300);
    assert_true(m.vote.pre_vote);
    tcn_raft_decoder_free(&rd);
    tcn_buf_free(&b);
}

static void encode_refused(const tcn_frame *f, const char *needle)
{
    tcn_buf b = {0};
    assert_int_equal(tcn_buf_append(&b, "xyz", 3), TCN_OK);
    tcn_error err;
    tcn_err_clear(&err);
    assert_int_equal(tcn_frame_encode(f, &b, &err), TCN_ERR_USAGE);
    assert_int_equal(b.len, 3); /* nothing written */
    if (strstr(err.msg, needle) == NULL)
        fail_msg("encode refusal '%s' does not say '%s'", err.msg, needle);
    tcn_buf_free(&b);
}

static void test_encode_refuses_what_decode_refuses(void **state)
{
    (void)state;
    tcn_frame s[10], f;
    samples(s);
    f = s[0], f.type = 0, encode_refused(&f, "type 0");
    f = s[0], f.type = (tcn_frame_type)8, encode_refused(&f, "type 8");
    f = s[0], f.u.hello.node_id = 0, encode_refused(&f, "node_id 0");
    f = s[0], f.u.hello.protocol_version = 0, encode_refused(&f, "protocol_version 0");
    f = s[0], f.u.hello.name[0] = '\0', encode_refused(&f, "name");
    f = s[0], strcpy(f.u.hello.name, "a b"), encode_refused(&f, "name");
    f = s[0], memset(f.u.hello.name, 'x', sizeof(f.u.hello.name)), encode_refused(&f, "name"); /* no NUL */
    f = s[0], strcpy(f.u.hello.api_addr, "node.example:7500"), encode_refused(&f, "host names are not allowed");
    f = s[0], strcpy(f.u.hello.api_addr, "[2001:0db8::1]:7500"), encode_refused(&f, "canonical");
    f = s[0], strcpy(f.u.hello.api_addr, "10.0.0.7:0"), encode_refused(&f, "port");
    f = s[0], f.u.hello.api_addr[0] = '\0', encode_refused(&f, "api_addr");
    f = s[0], f.u.hello.peer_addr[0] = '\0', encode_refused(&f, "peer_addr");
    f = s[0], strcpy(f.u.hello.peer_addr, "node.example:7400"), encode_refused(&f, "host names are not allowed");
    f = s[0], strcpy(f.u.hello.peer_addr, "[2001:0db8::1]:7400"), encode_refused(&f, "peer_addr: not in canonical");
    f = s[0], memset(f.u.hello.peer_addr, '1', sizeof(f.u.hello.peer_addr)), encode_refused(&f, "peer_addr"); /* no NUL */
    f = s[2], f.u.raft.len = 0, encode_refused(&f, "RAFT payload of 0 bytes");
    f = s[2], f.u.raft.len = (size_t)TCN_FRAME_PAYLOAD_MAX + 1, encode_refused(&f, "exceeds the maximum");
    f = s[2], f.u.raft.p = NULL, encode_refused(&f, "no bytes");
    f = s[4], f.u.evidence.len = TCN_FRAME_EVIDENCE_BYTES_MAX + 1, encode_refused(&f, "exceeds the maximum");
    f = s[7], f.u.bye.reason = 0, encode_refused(&f, "reason 0");
    f = s[7], f.u.bye.reason = TCN_FRAME_BYE_REASON_MAX + 1, encode_refused(&f, "reason 8");
    f = s[7], strcpy(f.u.bye.text, "line\nbreak"), encode_refused(&f, "printable");
}

/* ---- the stream decoder --------------------------------------------------------- */

static void expect_stream(const kept *k, const tcn_frame *s, size_t n)
{
    assert_int_equal(k->n, n);
    for (size_t i = 0; i < n; i++)
        assert_true(frame_equal(&k->f[i], &s[i]));
}

/* Feeds bytes in pieces cut at the given offsets. */
static void feed_cuts(const tcn_buf *b, const size_t *cuts, size_t ncuts, kept *k, tcn_frame_decoder *d)
{
    tcn_error err;
    size_t at = 0;
    for (size_t i = 0; i <= ncuts; i++) {
        size_t end = i < ncuts ? cuts[i] : b->len;
        assert_int_equal(tcn_frame_decoder_feed(d, b->p + at, end - at, keep, k, &err), TCN_OK);
        at = end;
    }
    assert_int_equal(tcn_frame_decoder_pending(d), 0);
}

static void test_stream_every_split(void **state)
{
    (void)state;
    tcn_frame s[10];
    size_t n, ends[10];
    tcn_buf b = {0};
    sample_stream(s, &n, &b, ends);

    /* One byte at a time. */
    {
        tcn_frame_decoder d = {0};
        kept k = {0};
        tcn_error err;
        for (size_t i = 0; i < b.len; i++) {
            assert_int_equal(tcn_frame_decoder_feed(&d, b.p + i, 1, keep, &k, &err), TCN_OK);
            /* A frame is delivered exactly when its last byte arrives. */
            size_t done = 0;
            while (done < n && ends[done] <= i + 1)
                done++;
            assert_int_equal(k.n, done);
        }
        expect_stream(&k, s, n);
        assert_int_equal(d.frames, n);
        kept_free(&k);
        tcn_frame_decoder_free(&d);
    }
    /* Every two-piece split (the empty pieces at both ends included). */
    for (size_t cut = 0; cut <= b.len; cut++) {
        tcn_frame_decoder d = {0};
        kept k = {0};
        feed_cuts(&b, &cut, 1, &k, &d);
        expect_stream(&k, s, n);
        kept_free(&k);
        tcn_frame_decoder_free(&d);
    }
    /* Many three- to six-piece splits from a fixed pseudo-random sequence. */
    uint32_t x = 12345;
    for (int round = 0; round < 2000; round++) {
        size_t cuts[5], nc = 2 + (size_t)round % 4;
        for (size_t i = 0; i < nc; i++) {
            x = x * 1103515245u + 12345u;
            cuts[i] = (x >> 8) % (b.len + 1);
        }
        for (size_t i = 1; i < nc; i++) /* sort */
            for (size_t j = i; j > 0 && cuts[j - 1] > cuts[j]; j--) {
                size_t t = cuts[j];
                cuts[j] = cuts[j - 1];
                cuts[j - 1] = t;
            }
        tcn_frame_decoder d = {0};
        kept k = {0};
        feed_cuts(&b, cuts, nc, &k, &d);
        expect_stream(&k, s, n);
        kept_free(&k);
        tcn_frame_decoder_free(&d);
    }
    tcn_buf_free(&b);
}

/* Every prefix of a multi-frame stream: the complete frames come out, the
 * rest waits (stream) or is TRUNCATED (one-shot), never an error. */
static void test_every_truncation(void **state)
{
    (void)state;
    tcn_frame s[10];
    size_t n, ends[10];
    tcn_buf b = {0};
    sample_stream(s, &n, &b, ends);
    for (size_t len = 0; len < b.len; len++) {
        size_t complete = 0, boundary = 0;
        while (complete < n && ends[complete] <= len)
            boundary = ends[complete++];

        tcn_frame_decoder d = {0};
        kept k = {0};
        tcn_error err;
        assert_int_equal(tcn_frame_decoder_feed(&d, b.p, len, keep, &k, &err), TCN_OK);
        assert_int_equal(k.n, complete);
        assert_int_equal(tcn_frame_decoder_pending(&d), len - boundary);
        kept_free(&k);
        tcn_frame_decoder_free(&d);

        size_t at = 0, got = 0;
        for (;;) {
            tcn_frame f;
            size_t used = 0;
            int rc = tcn_frame_decode(b.p + at, len - at, &f, &used, &err);
            if (rc != TCN_OK) {
                assert_int_equal(rc, TCN_ERR_TRUNCATED);
                break;
            }
            assert_true(frame_equal(&f, &s[got]));
            got++;
            at += used;
        }
        assert_int_equal(got, complete);
        assert_int_equal(at, boundary);
    }
    tcn_buf_free(&b);
}

/* Decodes bytes as a whole stream; accepted means every byte made frames.
 * Whatever is accepted must re-encode to exactly those bytes. */
static int decode_all(const uint8_t *p, size_t len, tcn_error *err)
{
    tcn_frame_decoder d = {0};
    kept k = {0};
    int rc = tcn_frame_decoder_feed(&d, p, len, keep, &k, err);
    if (rc == TCN_OK && tcn_frame_decoder_pending(&d) != 0)
        rc = TCN_ERR_TRUNCATED;
    if (rc == TCN_OK) {
        tcn_buf again = {0};
        for (size_t i = 0; i < k.n; i++)
            assert_int_equal(tcn_frame_encode(&k.f[i], &again, err), TCN_OK);
        assert_int_equal(again.len, len);
        assert_memory_equal(again.p, p, len);
        tcn_buf_free(&again);
    } else if (rc != TCN_ERR_TRUNCATED) {
        assert_true(err->msg[0] != '\0');
        assert_true(tcn_err_category_of(rc) == TCN_CAT_PROTO);
    }
    kept_free(&k);
    tcn_frame_decoder_free(&d);
    return rc;
}

/* Every single-byte change of every header: magic, version and flags are
 * always refused; a type or length change is refused, or (a type whose
 * layout the payload happens to fit, an opaque payload cut shorter) decodes
 * to exactly what the changed bytes say. */
static void test_header_mutations(void **state)
{
    (void)state;
    tcn_frame s[10];
    size_t n = samples(s);
    size_t accepted_type = 0;
    for (size_t i = 0; i < n; i++) {
        tcn_buf b = {0};
        tcn_error err;
        assert_int_equal(tcn_frame_encode(&s[i], &b, &err), TCN_OK);
        for (size_t pos = 0; pos < TCN_FRAME_HEADER_BYTES; pos++) {
            uint8_t orig = b.p[pos];
            for (int v = 0; v < 256; v++) {
                if (v == orig)
                    continue;
                b.p[pos] = (uint8_t)v;
                tcn_err_clear(&err);
                int rc = decode_all(b.p, b.len, &err);
                if (pos == 0 || pos == 1 || pos == 3)
                    assert_true(rc != TCN_OK && rc != TCN_ERR_TRUNCATED);
                if (rc == TCN_OK && pos == 2)
                    accepted_type++;
                /* 16 MiB and more is above every type's bound: refused on the header. */
                if (pos >= 4 && b.p[4] != 0)
                    assert_int_equal(rc, TCN_ERR_TOO_LARGE);
                /* Fixed layouts accept no other length. */
                if (pos >= 4 && (s[i].type == TCN_FRAME_PING || s[i].type == TCN_FRAME_PONG ||
                                 s[i].type == TCN_FRAME_REATTEST_CHALLENGE))
                    assert_int_not_equal(rc, TCN_OK);
            }
            b.p[pos] = orig;
        }
        tcn_buf_free(&b);
    }
    /* Sanity: some changes do decode (PING <-> PONG, anything -> RAFT). */
    assert_true(accepted_type > 0);
}

/* Every single-byte change of every payload is refused with a reason or
 * decodes consistently (re-encodes to the changed bytes). */
static void test_payload_mutations(void **state)
{
    (void)state;
    tcn_frame s[10];
    size_t n = samples(s);
    size_t refused = 0;
    for (size_t i = 0; i < n; i++) {
        tcn_buf b = {0};
        tcn_error err;
        assert_int_equal(tcn_frame_encode(&s[i], &b, &err), TCN_OK);
        for (size_t pos = TCN_FRAME_HEADER_BYTES; pos < b.len; pos++) {
            uint8_t orig = b.p[pos];
            for (int v = 0; v < 256; v++) {
                if (v == orig)
                    continue;
                b.p[pos] = (uint8_t)v;
                tcn_err_clear(&err);
                int rc = decode_all(b.p, b.len, &err);
                assert_true(rc != TCN_ERR_TRUNCATED); /* the header still frames it */
                refused += rc != TCN_OK;
            }
            b.p[pos] = orig;
        }
        tcn_buf_free(&b);
    }
    assert_true(refused > 0);
}

/* Each header field is refused at the byte that completes it, with its name. */
static void test_header_refused_at_first_bad_byte(void **state)
{
    (void)state;
    struct {
        uint8_t h[8];
        size_t bad_at; /* 0-based index of the byte that is refused */
        int code;
        const char *msg;
    } cases[] = {
        {{'A', 1, 5, 0, 0, 0, 0, 16}, 0, TCN_ERR_MALFORMED, "magic 0x41"},
        {{'T', 2, 5, 0, 0, 0, 0, 16}, 1, TCN_ERR_UNSUPPORTED, "version 2"},
        {{'T', 0, 5, 0, 0, 0, 0, 16}, 1, TCN_ERR_UNSUPPORTED, "version 0"},
        {{'T', 1, 0, 0, 0, 0, 0, 16}, 2, TCN_ERR_MALFORMED, "type 0 is not defined"},
        {{'T', 1, 8, 0, 0, 0, 0, 16}, 2, TCN_ERR_MALFORMED, "type 8 is not defined"},
        {{'T', 1, 5, 0x80, 0, 0, 0, 16}, 3, TCN_ERR_MALFORMED, "flags 0x80"},
        {{'T', 1, 5, 0x01, 0, 0, 0, 16}, 3, TCN_ERR_MALFORMED, "flags 0x01"},
        {{'T', 1, 5, 0, 0, 0, 0, 17}, 7, TCN_ERR_TOO_LARGE, "PING payload of 17 bytes exceeds the maximum 16"},
        {{'T', 1, 6, 0, 0, 0, 0, 15}, 7, TCN_ERR_MALFORMED, "PONG payload of 15 bytes, expected exactly 16"},
        {{'T', 1, 3, 0, 0, 0, 0, 31}, 7, TCN_ERR_MALFORMED, "expected exactly 32"},
        {{'T', 1, 2, 0, 0, 0, 0, 0}, 7, TCN_ERR_MALFORMED, "RAFT payload of 0 bytes is below the minimum 1"},
        {{'T', 1, 1, 0, 0, 0, 0, 219}, 7, TCN_ERR_TOO_LARGE, "HELLO payload of 219 bytes exceeds the maximum 218"},
        {{'T', 1, 1, 0, 0, 0, 0, 31}, 7, TCN_ERR_MALFORMED, "HELLO payload of 31 bytes is below the minimum 32"},
        {{'T', 1, 7, 0, 0, 0, 0, 2}, 7, TCN_ERR_MALFORMED, "BYE payload of 2 bytes is below the minimum 3"},
        {{'T', 1, 7, 0, 0, 0, 0, 131}, 7, TCN_ERR_TOO_LARGE, "BYE payload of 131 bytes"},
        {{'T', 1, 4, 0, 0, 1, 4, 1}, 7, TCN_ERR_TOO_LARGE, "REATTEST_EVIDENCE payload of 66561 bytes"},
        {{'T', 1, 2, 0, 0xff, 0xff, 0xff, 0xff}, 7, TCN_ERR_TOO_LARGE, "RAFT payload of 4294967295 bytes"},
    };
    for (size_t c = 0; c < TCN_ARRAY_LEN(cases); c++) {
        tcn_frame_decoder d = {0};
        kept k = {0};
        tcn_error err;
        for (size_t i = 0; i < 8; i++) {
            tcn_err_clear(&err);
            int rc = tcn_frame_decoder_feed(&d, &cases[c].h[i], 1, keep, &k, &err);
            if (i < cases[c].bad_at) {
                assert_int_equal(rc, TCN_OK);
                continue;
            }
            assert_int_equal(rc, cases[c].code);
            if (strstr(err.msg, cases[c].msg) == NULL)
                fail_msg("case %zu: '%s' does not say '%s'", c, err.msg, cases[c].msg);
            break;
        }
        assert_int_equal(k.n, 0);
        assert_int_equal(tcn_frame_decoder_capacity(&d), 0); /* nothing set aside */
        /* One-shot: the same verdict from the header alone, not "truncated". */
        tcn_frame f;
        size_t used;
        assert_int_equal(tcn_frame_decode(cases[c].h, 8, &f, &used, &err), cases[c].code);
        tcn_frame_decoder_free(&d);
    }
}

/* An oversize RAFT length is refused on its header; the payload is never read. */
static void test_oversize_refused_before_payload(void **state)
{
    (void)state;
    uint32_t len = TCN_FRAME_PAYLOAD_MAX + 1;
    uint8_t h[8] = {'T', 1, TCN_FRAME_RAFT, 0, (uint8_t)(len >> 24), (uint8_t)(len >> 16), (uint8_t)(len >> 8),
                    (uint8_t)len};
    tcn_frame_decoder d = {0};
    kept k = {0};
    tcn_error err;
    assert_int_equal(tcn_frame_decoder_feed(&d, h, 8, keep, &k, &err), TCN_ERR_TOO_LARGE);
    assert_non_null(strstr(err.msg, "exceeds the maximum"));
    assert_int_equal(tcn_frame_decoder_capacity(&d), 0);
    tcn_frame_decoder_free(&d);

    /* The largest legal length is accepted as a header. */
    len = TCN_FRAME_PAYLOAD_MAX;
    uint8_t ok[8] = {'T', 1, TCN_FRAME_RAFT, 0, (uint8_t)(len >> 24), (uint8_t)(len >> 16), (uint8_t)(len >> 8),
                     (uint8_t)len};
    assert_int_equal(tcn_frame_decoder_feed(&d, ok, 8, keep, &k, &err), TCN_OK);
    assert_int_equal(tcn_frame_decoder_pending(&d), 8);
    assert_int_equal(tcn_frame_decoder_capacity(&d), 0);
    tcn_frame_decoder_free(&d);
}

/* A header announcing the largest frame and a few bytes: the decoder holds
 * only what arrived (within a factor of two), then delivers the frame and
 * gives the big buffer back. */
static void test_memory_bounded(void **state)
{
    (void)state;
    const uint32_t len = TCN_FRAME_PAYLOAD_MAX;
    uint8_t *stream = malloc(8 + (size_t)len);
    assert_non_null(stream);
    const uint8_t h[8] = {'T', 1, TCN_FRAME_RAFT, 0, (uint8_t)(len >> 24), (uint8_t)(len >> 16), (uint8_t)(len >> 8),
                          (uint8_t)len};
    memcpy(stream, h, 8);
    for (size_t i = 0; i < len; i++)
        stream[8 + i] = (uint8_t)(i * 13);

    tcn_frame_decoder d = {0};
    kept k = {0};
    tcn_error err;
    assert_int_equal(tcn_frame_decoder_feed(&d, stream, 8 + 10, keep, &k, &err), TCN_OK);
    assert_int_equal(tcn_frame_decoder_pending(&d), 8 + 10);
    assert_true(tcn_frame_decoder_capacity(&d) <= TCN_FRAME_DECODER_BUF_MIN);

    size_t at = 8 + 10;
    size_t piece = 1000;
    while (at < 8 + (size_t)len - 1) {
        size_t take = piece < 8 + (size_t)len - 1 - at ? piece : 8 + (size_t)len - 1 - at;
        assert_int_equal(tcn_frame_decoder_feed(&d, stream + at, take, keep, &k, &err), TCN_OK);
        at += take;
        size_t held = at - 8;
        assert_int_equal(tcn_frame_decoder_pending(&d), at);
        size_t cap = tcn_frame_decoder_capacity(&d);
        assert_true(cap >= held);
        assert_true(cap <= 2 * held || cap <= TCN_FRAME_DECODER_BUF_MIN);
        assert_true(cap <= len);
        piece = piece * 3 / 2 + 1;
    }
    assert_int_equal(k.n, 0);
    assert_int_equal(tcn_frame_decoder_feed(&d, stream + at, 1, keep, &k, &err), TCN_OK);
    assert_int_equal(k.n, 1);
    assert_int_equal(k.f[0].u.raft.len, len);
    assert_memory_equal(k.f[0].u.raft.p, stream + 8, len);
    assert_int_equal(tcn_frame_decoder_pending(&d), 0);
    assert_int_equal(tcn_frame_decoder_capacity(&d), 0); /* released: above TCN_FRAME_DECODER_BUF_KEEP */

    /* A small frame cut in two keeps its small buffer for the next frame. */
    tcn_frame s[10];
    samples(s);
    tcn_buf b = {0};
    assert_int_equal(tcn_frame_encode(&s[4], &b, &err), TCN_OK);
    assert_int_equal(tcn_frame_decoder_feed(&d, b.p, 20, keep, &k, &err), TCN_OK);
    assert_int_equal(tcn_frame_decoder_feed(&d, b.p + 20, b.len - 20, keep, &k, &err), TCN_OK);
    assert_int_equal(k.n, 2);
    assert_true(tcn_frame_decoder_capacity(&d) > 0 && tcn_frame_decoder_capacity(&d) <= TCN_FRAME_DECODER_BUF_KEEP);
    tcn_buf_free(&b);
    kept_free(&k);
    tcn_frame_decoder_free(&d);
    free(stream);
}

/* After a refusal the stream is dead: later bytes, even good frames, are refused. */
static void test_failure_is_sticky(void **state)
{
    (void)state;
    tcn_frame s[10];
    samples(s);
    tcn_buf good = {0};
    tcn_error err;
    assert_int_equal(tcn_frame_encode(&s[5], &good, &err), TCN_OK);
    tcn_frame_decoder d = {0};
    kept k = {0};
    const uint8_t bad[] = {'X'};
    assert_int_equal(tcn_frame_decoder_feed(&d, bad, 1, keep, &k, &err), TCN_ERR_MALFORMED);
    assert_int_equal(tcn_frame_decoder_feed(&d, good.p, good.len, keep, &k, &err), TCN_ERR_MALFORMED);
    assert_non_null(strstr(err.msg, "failed earlier"));
    assert_int_equal(k.n, 0);
    tcn_frame_decoder_free(&d);

    /* A handler's refusal stops the feed at that frame and also sticks. */
    tcn_buf three = {0};
    for (int i = 0; i < 3; i++)
        assert_int_equal(tcn_frame_encode(&s[5], &three, &err), TCN_OK);
    k.fail_at = 2;
    assert_int_equal(tcn_frame_decoder_feed(&d, three.p, three.len, keep, &k, &err), TCN_ERR_POLICY);
    assert_non_null(strstr(err.msg, "refused frame 2"));
    assert_int_equal(k.n, 1);
    k.fail_at = 0;
    assert_int_equal(tcn_frame_decoder_feed(&d, good.p, good.len, keep, &k, &err), TCN_ERR_POLICY);
    assert_int_equal(k.n, 1);
    kept_free(&k);
    tcn_frame_decoder_free(&d);
    tcn_buf_free(&good);
    tcn_buf_free(&three);
}

/* A HELLO or BYE payload built by hand (header added here). */
static int decode_payload(int type, const uint8_t *p, size_t n, tcn_error *err)
{
    tcn_buf b = {0};
    uint8_t h[8] = {'T', 1, (uint8_t)type, 0, (uint8_t)(n >> 24), (uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n};
    assert_int_equal(tcn_buf_append(&b, h, 8), TCN_OK);
    assert_int_equal(tcn_buf_append(&b, p, n), TCN_OK);
    tcn_frame f;
    size_t used;
    tcn_err_clear(err);
    int rc = tcn_frame_decode(b.p, b.len, &f, &used, err);
    tcn_buf_free(&b);
    return rc;
}

static void hello_refused(const char *name, const char *addr, const char *peer, uint64_t id, uint16_t ver,
                          const char *extra, const char *needle)
{
    uint8_t p[300];
    size_t n = 0;
    p[n++] = (uint8_t)(ver >> 8);
    p[n++] = (uint8_t)ver;
    for (int i = 7; i >= 0; i--)
        p[n++] = (uint8_t)(id >> (8 * i));
    memset(p + n, 0, 16);
    n += 16;
    size_t nl = strlen(name), al = strlen(addr);
    p[n++] = (uint8_t)nl;
    memcpy(p + n, name, nl);
    n += nl;
    p[n++] = (uint8_t)al;
    memcpy(p + n, addr, al);
    n += al;
    if (peer != NULL) { /* NULL: the payload ends after the API address */
        size_t pl = strlen(peer);
        p[n++] = (uint8_t)pl;
        memcpy(p + n, peer, pl);
        n += pl;
    }
    memcpy(p + n, extra, strlen(extra));
    n += strlen(extra);
    tcn_error err;
    int rc = decode_payload(TCN_FRAME_HELLO, p, n, &err);
    assert_int_not_equal(rc, TCN_OK);
    if (strstr(err.msg, needle) == NULL)
        fail_msg("HELLO refusal '%s' does not say '%s'", err.msg, needle);
}

static void test_payload_fields_checked(void **state)
{
    (void)state;
    tcn_error err;
    /* The reference HELLO decodes; each variant below changes one thing. */
    const uint8_t okp[] = {0, 1, 0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                           1, 'a', 9, '1', '.', '2', '.', '3', '.', '4', ':', '5',
                           9, '1', '.', '2', '.', '3', '.', '4', ':', '6'};
    assert_int_equal(decode_payload(TCN_FRAME_HELLO, okp, sizeof(okp), &err), TCN_OK);
    hello_refused("a", "1.2.3.4:5", "1.2.3.4:6", 0, 1, "", "node_id 0");
    hello_refused("a", "1.2.3.4:5", "1.2.3.4:6", 9, 0, "", "protocol_version 0");
    hello_refused("", "1.2.3.4:5", "1.2.3.4:6", 9, 1, "", "name: length 0");
    hello_refused("a b", "1.2.3.4:5", "1.2.3.4:6", 9, 1, "", "name: only letters");
    hello_refused("a", "host.example:5", "1.2.3.4:6", 9, 1, "", "host names are not allowed");
    hello_refused("a", "1.2.3.4", "1.2.3.4:6", 9, 1, "", "expected HOST:PORT");
    hello_refused("a", "01.2.3.4:5", "1.2.3.4:6", 9, 1, "", "api_addr");
    hello_refused("a", "1.2.3.4:05", "1.2.3.4:6", 9, 1, "", "port");
    hello_refused("a", "1.2.3.4:65536", "1.2.3.4:6", 9, 1, "", "port");
    hello_refused("a", "[::0:1]:5", "1.2.3.4:6", 9, 1, "", "canonical");
    hello_refused("a", "::1:5", "1.2.3.4:6", 9, 1, "", "brackets");
    hello_refused("a", "1.2.3.4:5", "1.2.3.4:6", 9, 1, "x", "1 trailing bytes");
    /* The peer address: present, and checked like the API address. */
    hello_refused("a", "1.2.3.4:5", NULL, 9, 1, "xxx", "peer_addr");
    hello_refused("a", "1.2.3.4:5", "", 9, 1, "", "peer_addr: length 0");
    hello_refused("a", "1.2.3.4:5", "host.example:6", 9, 1, "", "host names are not allowed");
    hello_refused("a", "1.2.3.4:5", "01.2.3.4:6", 9, 1, "", "peer_addr");
    hello_refused("a", "1.2.3.4:5", "1.2.3.4:0", 9, 1, "", "peer_addr");
    hello_refused("a", "1.2.3.4:5", "[::0:1]:6", 9, 1, "", "peer_addr: not in canonical");
    /* A NUL inside the name, and a name length running past the payload. */
    uint8_t nul[sizeof(okp) + 1];
    memcpy(nul, okp, 26);
    nul[26] = 2, nul[27] = 'a', nul[28] = 0;
    memcpy(nul + 29, okp + 28, sizeof(okp) - 28);
    assert_int_equal(decode_payload(TCN_FRAME_HELLO, nul, sizeof(nul), &err), TCN_ERR_MALFORMED);
    assert_non_null(strstr(err.msg, "NUL"));
    uint8_t longname[sizeof(okp)];
    memcpy(longname, okp, sizeof(okp));
    longname[26] = 60;
    assert_int_equal(decode_payload(TCN_FRAME_HELLO, longname, sizeof(longname), &err), TCN_ERR_MALFORMED);
    assert_non_null(strstr(err.msg, "only"));
    longname[26] = 64;
    assert_int_equal(decode_payload(TCN_FRAME_HELLO, longname, sizeof(longname), &err), TCN_ERR_MALFORMED);
    assert_non_null(strstr(err.msg, "length 64, expected 1..63"));

    const uint8_t bye_ok[] = {0, 1, 2, 'o', 'k'};
    assert_int_equal(decode_payload(TCN_FRAME_BYE, bye_ok, sizeof(bye_ok), &err), TCN_OK);
    const uint8_t bye_r0[] = {0, 0, 0};
    assert_int_equal(decode_payload(TCN_FRAME_BYE, bye_r0, sizeof(bye_r0), &err), TCN_ERR_MALFORMED);
    assert_non_null(strstr(err.msg, "reason 0"));
    const uint8_t bye_r8[] = {0, 8, 0};
    assert_int_equal(decode_payload(TCN_FRAME_BYE, bye_r8, sizeof(bye_r8), &err), TCN_ERR_MALFORMED);
    const uint8_t bye_ctl[] = {0, 1, 2, 'o', 0x7f};
    assert_int_equal(decode_payload(TCN_FRAME_BYE, bye_ctl, sizeof(bye_ctl), &err), TCN_ERR_MALFORMED);
    assert_non_null(strstr(err.msg, "printable"));
    const uint8_t bye_short[] = {0, 1, 3, 'o', 'k'};
    assert_int_equal(decode_payload(TCN_FRAME_BYE, bye_short, sizeof(bye_short), &err), TCN_ERR_MALFORMED);
    assert_non_null(strstr(err.msg, "only 2 bytes are left"));
    const uint8_t bye_trail[] = {0, 1, 1, 'o', 'k'};
    assert_int_equal(decode_payload(TCN_FRAME_BYE, bye_trail, sizeof(bye_trail), &err), TCN_ERR_MALFORMED);
    assert_non_null(strstr(err.msg, "trailing"));
    assert_string_equal(tcn_frame_type_name(TCN_FRAME_REATTEST_EVIDENCE), "REATTEST_EVIDENCE");
    assert_string_equal(tcn_frame_bye_reason_name(TCN_FRAME_BYE_GROUP), "GROUP");
    assert_string_equal(tcn_frame_type_name(0), "?");
}

/* The limits hold what they must. */
static void test_limits(void **state)
{
    (void)state;
    assert_true(TCN_FRAME_PAYLOAD_MAX >= TCN_RAFT_MSG_BYTES_MAX);
    assert_true(TCN_FRAME_PAYLOAD_MAX >= TCN_RAFT_SNAPSHOT_CHUNK_BYTES_MAX);
    assert_int_equal(TCN_FRAME_HELLO_BYTES_MAX, 218);
    /* The longest canonical IPv6 API address fits a HELLO. */
    char addr[80];
    snprintf(addr, sizeof(addr), "[ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255]:65535");
    assert_true(strlen(addr) <= TCN_FRAME_HELLO_ADDR_BYTES_MAX);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wire_layout),
        cmocka_unit_test(test_round_trip_every_type),
        cmocka_unit_test(test_raft_payload_is_codec_bytes),
        cmocka_unit_test(test_encode_refuses_what_decode_refuses),
        cmocka_unit_test(test_stream_every_split),
        cmocka_unit_test(test_every_truncation),
        cmocka_unit_test(test_header_mutations),
        cmocka_unit_test(test_payload_mutations),
        cmocka_unit_test(test_header_refused_at_first_bad_byte),
        cmocka_unit_test(test_oversize_refused_before_payload),
        cmocka_unit_test(test_memory_bounded),
        cmocka_unit_test(test_failure_is_sticky),
        cmocka_unit_test(test_payload_fields_checked),
        cmocka_unit_test(test_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
