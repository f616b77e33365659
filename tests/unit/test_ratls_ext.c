/* Unit tests: the RA-TLS evidence extension codec (src/tls/ext.c): golden
 * bytes written out by hand from the draft's layout, strictness on every
 * shape, canonical round trips, and every single-byte change. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testlib.h"
#include "tls/ratls.h"
#include "util/secmem.h"

static uint8_t H[64];

static void fixture(tcn_ratls_claims *c, uint64_t alg, bool group, bool nonce)
{
    memset(c, 0, sizeof(*c));
    c->hash_alg = alg;
    c->hash_len = alg == TCN_RATLS_HASH_SHA256 ? 32 : alg == TCN_RATLS_HASH_SHA384 ? 48 : 64;
    memcpy(c->hash, H, c->hash_len);
    if (group) {
        c->group_present = true;
        memset(c->group_id, 0xaa, 16);
    }
    if (nonce) {
        c->nonce_present = true;
        c->nonce_len = 32;
        memset(c->nonce, 0x11, 32);
    }
}

/* Appends bytes to a test buffer. */
typedef struct bytes {
    uint8_t p[1024];
    size_t n;
} bytes;

static void put(bytes *b, const void *p, size_t n)
{
    assert_true(b->n + n <= sizeof(b->p));
    memcpy(b->p + b->n, p, n);
    b->n += n;
}

static void put1(bytes *b, uint8_t v) { put(b, &v, 1); }

static void put_str(bytes *b, const char *s) { put(b, s, strlen(s)); }

/* a1 6b "pubkey-hash" 58 24 [82 01 58 20 H[0..32)]: the only claim Gramine 1.8 writes. */
static void pubkey_hash_claim(bytes *b)
{
    put1(b, 0x6b);
    put_str(b, "pubkey-hash");
    put1(b, 0x58);
    put1(b, 0x24);
    put1(b, 0x82);
    put1(b, 0x01);
    put1(b, 0x58);
    put1(b, 0x20);
    put(b, H, 32);
}

static void test_golden_claims(void **state)
{
    (void)state;
    tcn_error e;
    tcn_ratls_claims c, back;
    fixture(&c, TCN_RATLS_HASH_SHA256, true, true);
    tcn_buf out = {0};
    assert_int_equal(tcn_ratls_claims_encode(&c, &out, &e), TCN_OK);
    /* RFC 8949 §4.2.1: keys sorted by their encodings ("nonce" 0x65 <
     * "tcn-group" 0x69 < "pubkey-hash" 0x6b); shortest heads. */
    bytes want = {.n = 0};
    put1(&want, 0xa3);
    put1(&want, 0x65);
    put_str(&want, "nonce");
    put1(&want, 0x58);
    put1(&want, 0x20);
    for (int i = 0; i < 32; i++)
        put1(&want, 0x11);
    put1(&want, 0x69);
    put_str(&want, "tcn-group");
    put1(&want, 0x50);
    for (int i = 0; i < 16; i++)
        put1(&want, 0xaa);
    pubkey_hash_claim(&want);
    assert_int_equal(out.len, want.n);
    assert_memory_equal(out.p, want.p, want.n);
    assert_int_equal(tcn_ratls_claims_parse(want.p, want.n, &back, &e), TCN_OK);
    assert_memory_equal(&back, &c, sizeof(c));
    tcn_buf_free(&out);

    /* The claims exactly as Gramine 1.8 writes them parse too. */
    bytes g = {.n = 0};
    put1(&g, 0xa1);
    pubkey_hash_claim(&g);
    fixture(&c, TCN_RATLS_HASH_SHA256, false, false);
    assert_int_equal(tcn_ratls_claims_parse(g.p, g.n, &back, &e), TCN_OK);
    assert_memory_equal(&back, &c, sizeof(c));
    assert_int_equal(tcn_ratls_claims_encode(&c, &out, &e), TCN_OK);
    assert_int_equal(out.len, g.n);
    assert_memory_equal(out.p, g.p, g.n);
    tcn_buf_free(&out);
}

static void test_golden_ext(void **state)
{
    (void)state;
    tcn_error e;
    const uint8_t claims[] = {0xa0 /* not parsed by the encoder */};
    tcn_buf out = {0};
    /* 60000 = 0xea60: tag head d9 ea 60; array(2) 82; bstr(8) 48 ...; bstr(1) 41 a0. */
    assert_int_equal(tcn_ratls_ext_encode(TCN_RATLS_TAG_INTEL_QUOTE, (const uint8_t *)"EVIDENCE", 8, claims, 1, &out, &e),
                     TCN_OK);
    const uint8_t want_intel[] = {0xd9, 0xea, 0x60, 0x82, 0x48, 'E', 'V', 'I', 'D', 'E', 'N', 'C', 'E', 0x41, 0xa0};
    assert_int_equal(out.len, sizeof(want_intel));
    assert_memory_equal(out.p, want_intel, sizeof(want_intel));
    out.len = 0;
    assert_int_equal(tcn_ratls_ext_encode(TCN_RATLS_TAG_SIM, (const uint8_t *)"E", 1, claims, 1, &out, &e), TCN_OK);
    const uint8_t want_sim[] = {0xda, 0x74, 0x63, 0x6e, 0x73, 0x82, 0x41, 'E', 0x41, 0xa0};
    assert_int_equal(out.len, sizeof(want_sim));
    assert_memory_equal(out.p, want_sim, sizeof(want_sim));
    out.len = 0;
    uint8_t big[300];
    memset(big, 7, sizeof(big));
    assert_int_equal(tcn_ratls_ext_encode(TCN_RATLS_TAG_NITRO, big, sizeof(big), claims, 1, &out, &e), TCN_OK);
    const uint8_t want_head[] = {0xda, 0x74, 0x63, 0x6e, 0x6e, 0x82, 0x59, 0x01, 0x2c};
    assert_memory_equal(out.p, want_head, sizeof(want_head));
    assert_int_equal(out.len, sizeof(want_head) + 300 + 2);
    /* The encoder refuses what the parser would. */
    out.len = 0;
    assert_int_equal(tcn_ratls_ext_encode(60001, big, 1, claims, 1, &out, &e), TCN_ERR_USAGE);
    assert_int_equal(tcn_ratls_ext_encode(TCN_RATLS_TAG_SIM, big, 0, claims, 1, &out, &e), TCN_ERR_TOO_LARGE);
    assert_int_equal(tcn_ratls_ext_encode(TCN_RATLS_TAG_SIM, big, 1, big, TCN_RATLS_CLAIMS_MAX + 1, &out, &e),
                     TCN_ERR_TOO_LARGE);
    tcn_ratls_claims c;
    fixture(&c, TCN_RATLS_HASH_SHA256, false, false);
    c.hash_len = 31;
    assert_int_equal(tcn_ratls_claims_encode(&c, &out, &e), TCN_ERR_USAGE);
    fixture(&c, 3, false, false);
    assert_int_equal(tcn_ratls_claims_encode(&c, &out, &e), TCN_ERR_USAGE);
    tcn_buf_free(&out);
}

static void test_round_trips(void **state)
{
    (void)state;
    tcn_error e;
    const uint64_t algs[] = {TCN_RATLS_HASH_SHA256, TCN_RATLS_HASH_SHA384, TCN_RATLS_HASH_SHA512};
    const uint64_t tags[] = {TCN_RATLS_TAG_INTEL_QUOTE, TCN_RATLS_TAG_NITRO, TCN_RATLS_TAG_SIM};
    uint8_t ev[1000];
    for (size_t i = 0; i < sizeof(ev); i++)
        ev[i] = (uint8_t)(i * 31);
    for (size_t a = 0; a < 3; a++)
        for (int g = 0; g < 2; g++)
            for (int n = 0; n < 2; n++) {
                tcn_ratls_claims c;
                fixture(&c, algs[a], g, n);
                tcn_buf cl = {0}, x = {0}, again = {0};
                assert_int_equal(tcn_ratls_claims_encode(&c, &cl, &e), TCN_OK);
                size_t evn = 1 + (a * 4 + (size_t)g * 2 + (size_t)n) * 83;
                assert_int_equal(tcn_ratls_ext_encode(tags[a], ev, evn, cl.p, cl.len, &x, &e), TCN_OK);
                tcn_ratls_ext p;
                assert_int_equal(tcn_ratls_ext_parse(x.p, x.len, &p, &e), TCN_OK);
                assert_int_equal(p.tag, tags[a]);
                assert_int_equal(p.evidence_len, evn);
                assert_memory_equal(p.evidence, ev, evn);
                assert_int_equal(p.claims_len, cl.len);
                assert_memory_equal(p.claims_raw, cl.p, cl.len);
                assert_memory_equal(&p.claims, &c, sizeof(c));
                assert_int_equal(tcn_ratls_ext_encode(p.tag, p.evidence, p.evidence_len, p.claims_raw, p.claims_len,
                                                      &again, &e),
                                 TCN_OK);
                assert_int_equal(again.len, x.len);
                assert_memory_equal(again.p, x.p, x.len);
                /* Every truncation is refused. */
                for (size_t k = 0; k < x.len; k++)
                    assert_int_not_equal(tcn_ratls_ext_parse(x.p, k, &p, &e), TCN_OK);
                tcn_buf_free(&cl);
                tcn_buf_free(&x);
                tcn_buf_free(&again);
            }
    assert_true(tcn_ratls_tag_accepts(TCN_RATLS_TAG_INTEL_QUOTE, TCN_TEE_SGX));
    assert_true(tcn_ratls_tag_accepts(TCN_RATLS_TAG_INTEL_QUOTE, TCN_TEE_TDX));
    assert_true(tcn_ratls_tag_accepts(TCN_RATLS_TAG_NITRO, TCN_TEE_NITRO));
    assert_true(tcn_ratls_tag_accepts(TCN_RATLS_TAG_SIM, TCN_TEE_SIM));
    assert_false(tcn_ratls_tag_accepts(TCN_RATLS_TAG_SIM, TCN_TEE_SGX));
    assert_false(tcn_ratls_tag_accepts(0, TCN_TEE_NONE));
}

struct bad {
    const char *name;
    int code;
    const char *needle;
};

static void expect_bad_claims(const bytes *b, int code, const char *needle)
{
    tcn_error e;
    tcn_ratls_claims c;
    memset(&c, 0x5a, sizeof(c));
    int rc = tcn_ratls_claims_parse(b->p, b->n, &c, &e);
    if (rc != code || strstr(e.msg, needle) == NULL)
        print_message("expected %s '%s', got %s: %s\n", tcn_err_name(code), needle, tcn_err_name(rc), e.msg);
    assert_int_equal(rc, code);
    assert_non_null(strstr(e.msg, needle));
    /* A refused parse leaves nothing behind. */
    tcn_ratls_claims zero;
    memset(&zero, 0, sizeof(zero));
    assert_memory_equal(&c, &zero, sizeof(c));
}

static void test_strict_claims(void **state)
{
    (void)state;
    bytes b;
#define RESET() (b.n = 0)
    /* Non-shortest map head (b8 01 = map of 1 with a one-byte count). */
    RESET();
    put1(&b, 0xb8);
    put1(&b, 0x01);
    pubkey_hash_claim(&b);
    expect_bad_claims(&b, TCN_ERR_MALFORMED, "not in the shortest form");
    /* Indefinite map. */
    RESET();
    put1(&b, 0xbf);
    pubkey_hash_claim(&b);
    put1(&b, 0xff);
    expect_bad_claims(&b, TCN_ERR_MALFORMED, "indefinite length");
    /* Empty map; four entries. */
    RESET();
    put1(&b, 0xa0);
    expect_bad_claims(&b, TCN_ERR_MALFORMED, "map of 0 entries");
    RESET();
    put1(&b, 0xa4);
    expect_bad_claims(&b, TCN_ERR_MALFORMED, "map of 4 entries");
    /* Not a map. */
    RESET();
    put1(&b, 0x81);
    pubkey_hash_claim(&b);
    expect_bad_claims(&b, TCN_ERR_MALFORMED, "expected a CBOR map at offset 0, found a array");
    /* Unknown claim. */
    RESET();
    put1(&b, 0xa2);
    put1(&b, 0x63);
    put_str(&b, "foo");
    put1(&b, 0x40);
    pubkey_hash_claim(&b);
    expect_bad_claims(&b, TCN_ERR_MALFORMED, "unknown claim 'foo'");
    /* A long unknown name; a name cut short. */
    RESET();
    put1(&b, 0xa2);
    put1(&b, 0x74); /* text of 20 bytes */
    put_str(&b, "pubkey-hash-extended");
    put1(&b, 0x40);
    pubkey_hash_claim(&b);
    expect_bad_claims(&b, TCN_ERR_MALFORMED, "unknown claim (a 20-byte name at offset 1)");
    RESET();
    put1(&b, 0xa1);
    put1(&b, 0x6b);
    put_str(&b, "pubkey");
    expect_bad_claims(&b, TCN_ERR_TRUNCATED, "declares 11 bytes, 6 left");
    /* A key as bytes, not text. */
    RESET();
    put1(&b, 0xa1);
    put1(&b, 0x4b);
    put_str(&b, "pubkey-hash");
    expect_bad_claims(&b, TCN_ERR_MALFORMED, "expected a CBOR text string");
    /* Twice; out of order; missing. */
    RESET();
    put1(&b, 0xa2);
    pubkey_hash_claim(&b);
    pubkey_hash_claim(&b);
    expect_bad_claims(&b, TCN_ERR_MALFORMED, "'pubkey-hash' appears twice");
    RESET();
    put1(&b, 0xa2);
    pubkey_hash_claim(&b);
    put1(&b, 0x65);
    put_str(&b, "nonce");
    put1(&b, 0x41);
    put1(&b, 0x00);
    expect_bad_claims(&b, TCN_ERR_MALFORMED, "'nonce' is out of order");
    RESET();
    put1(&b, 0xa1);
    put1(&b, 0x65);
    put_str(&b, "nonce");
    put1(&b, 0x41);
    put1(&b, 0x00);
    expect_bad_claims(&b, TCN_ERR_MALFORMED, "'pubkey-hash' is missing");
    /* Nonce of 0 and 65 bytes. */
    RESET();
    put1(&b, 0xa2);
    put1(&b, 0x65);
    put_str(&b, "nonce");
    put1(&b, 0x40);
    pubkey_hash_claim(&b);
    expect_bad_claims(&b, TCN_ERR_MALFORMED, "claim 'nonce': 0 bytes, at least 1");
    RESET();
    put1(&b, 0xa2);
    put1(&b, 0x65);
    put_str(&b, "nonce");
    put1(&b, 0x58);
    put1(&b, 65);
    for (int i = 0; i < 65; i++)
        put1(&b, 1);
    pubkey_hash_claim(&b);
    expect_bad_claims(&b, TCN_ERR_TOO_LARGE, "claim 'nonce': 65 bytes, at most 64");
    /* Group of 15 bytes. */
    RESET();
    put1(&b, 0xa2);
    put1(&b, 0x69);
    put_str(&b, "tcn-group");
    put1(&b, 0x4f);
    for (int i = 0; i < 15; i++)
        put1(&b, 1);
    pubkey_hash_claim(&b);
    expect_bad_claims(&b, TCN_ERR_MALFORMED, "claim 'tcn-group': 15 bytes, at least 16");

    /* The hash-entry: unknown algorithm; wrong length; wrong shapes. */
    const struct {
        uint8_t entry[40];
        size_t n;
        int code;
        const char *needle;
    } entries[] = {
        {{0x82, 0x02, 0x58, 0x20}, 4 + 32, TCN_ERR_UNSUPPORTED, "hash algorithm 2"},
        {{0x82, 0x01, 0x58, 0x1f}, 4 + 31, TCN_ERR_MALFORMED, "31 bytes, at least 32"},
        {{0x82, 0x01, 0x58, 0x21}, 4 + 33, TCN_ERR_TOO_LARGE, "33 bytes, at most 32"},
        {{0x82, 0x07, 0x58, 0x20}, 4 + 32, TCN_ERR_MALFORMED, "32 bytes, at least 48"},
        {{0x83, 0x01, 0x58, 0x20}, 4 + 32, TCN_ERR_MALFORMED, "hash-entry array of 3 items"},
        {{0x82, 0x01, 0x58, 0x1e}, 4 + 32, TCN_ERR_MALFORMED, "30 bytes, at least 32"},
        {{0xa1, 0x01, 0x58, 0x20}, 4 + 32, TCN_ERR_MALFORMED, "expected a CBOR array"},
        {{0x82, 0x20, 0x58, 0x20}, 4 + 32, TCN_ERR_MALFORMED, "expected a CBOR unsigned integer"},
        {{0x82, 0x18, 0x01, 0x58}, 4 + 32, TCN_ERR_MALFORMED, "shortest form"},
    };
    for (size_t i = 0; i < sizeof(entries) / sizeof(entries[0]); i++) {
        RESET();
        put1(&b, 0xa1);
        put1(&b, 0x6b);
        put_str(&b, "pubkey-hash");
        put1(&b, 0x58);
        put1(&b, (uint8_t)entries[i].n);
        put(&b, entries[i].entry, 4);
        put(&b, H, entries[i].n - 4);
        expect_bad_claims(&b, entries[i].code, entries[i].needle);
    }
    /* A byte after the hash-entry inside its byte string. */
    RESET();
    put1(&b, 0xa1);
    put1(&b, 0x6b);
    put_str(&b, "pubkey-hash");
    put1(&b, 0x58);
    put1(&b, 0x25);
    put1(&b, 0x82);
    put1(&b, 0x01);
    put1(&b, 0x58);
    put1(&b, 0x20);
    put(&b, H, 32);
    put1(&b, 0x00);
    expect_bad_claims(&b, TCN_ERR_MALFORMED, "claim 'pubkey-hash': 1 bytes after the item");
    /* The hash-entry directly, not wrapped in a byte string (the draft wraps it). */
    RESET();
    put1(&b, 0xa1);
    put1(&b, 0x6b);
    put_str(&b, "pubkey-hash");
    put1(&b, 0x82);
    put1(&b, 0x01);
    put1(&b, 0x58);
    put1(&b, 0x20);
    put(&b, H, 32);
    expect_bad_claims(&b, TCN_ERR_MALFORMED, "expected a CBOR byte string");
    /* Anything after the map. */
    RESET();
    put1(&b, 0xa1);
    pubkey_hash_claim(&b);
    put1(&b, 0xf6);
    expect_bad_claims(&b, TCN_ERR_MALFORMED, "claims: 1 bytes after the item");
    /* Truncated anywhere. */
    RESET();
    put1(&b, 0xa1);
    pubkey_hash_claim(&b);
    size_t full = b.n;
    for (size_t k = 0; k < full; k++) {
        tcn_error e;
        tcn_ratls_claims c;
        assert_int_not_equal(tcn_ratls_claims_parse(b.p, k, &c, &e), TCN_OK);
    }
#undef RESET
}

static void expect_bad_ext(const uint8_t *p, size_t n, int code, const char *needle)
{
    tcn_error e;
    tcn_ratls_ext x;
    int rc = tcn_ratls_ext_parse(p, n, &x, &e);
    if (rc != code || strstr(e.msg, needle) == NULL)
        print_message("expected %s '%s', got %s: %s\n", tcn_err_name(code), needle, tcn_err_name(rc), e.msg);
    assert_int_equal(rc, code);
    assert_non_null(strstr(e.msg, needle));
    assert_null(x.evidence);
    assert_null(x.claims_raw);
}

static void test_strict_ext(void **state)
{
    (void)state;
    bytes claims = {.n = 0};
    put1(&claims, 0xa1);
    pubkey_hash_claim(&claims);
    bytes b;
#define EXT(...)                                          \
    do {                                                  \
        b.n = 0;                                          \
        const uint8_t pre_[] = {__VA_ARGS__};             \
        put(&b, pre_, sizeof(pre_));                      \
    } while (0)
#define CLAIMS()                                          \
    do {                                                  \
        put1(&b, 0x58);                                   \
        put1(&b, (uint8_t)claims.n);                      \
        put(&b, claims.p, claims.n);                      \
    } while (0)
    /* Valid to start with. */
    EXT(0xd9, 0xea, 0x60, 0x82, 0x41, 0x07);
    CLAIMS();
    tcn_error e;
    tcn_ratls_ext x;
    assert_int_equal(tcn_ratls_ext_parse(b.p, b.n, &x, &e), TCN_OK);
    /* Another tag (60001, Intel TEE report: not a quote we verify). */
    EXT(0xd9, 0xea, 0x61, 0x82, 0x41, 0x07);
    CLAIMS();
    expect_bad_ext(b.p, b.n, TCN_ERR_UNSUPPORTED, "CBOR tag 60001 is not an evidence format we know");
    /* No tag; a non-shortest tag. */
    EXT(0x82, 0x41, 0x07);
    CLAIMS();
    expect_bad_ext(b.p, b.n, TCN_ERR_MALFORMED, "expected a CBOR tag");
    EXT(0xda, 0x00, 0x00, 0xea, 0x60, 0x82, 0x41, 0x07);
    CLAIMS();
    expect_bad_ext(b.p, b.n, TCN_ERR_MALFORMED, "shortest form");
    /* Arrays of 1 and 3; an indefinite array. */
    EXT(0xd9, 0xea, 0x60, 0x81, 0x41, 0x07);
    expect_bad_ext(b.p, b.n, TCN_ERR_MALFORMED, "array of 1 items");
    EXT(0xd9, 0xea, 0x60, 0x83, 0x41, 0x07);
    CLAIMS();
    put1(&b, 0x40);
    expect_bad_ext(b.p, b.n, TCN_ERR_MALFORMED, "array of 3 items");
    EXT(0xd9, 0xea, 0x60, 0x9f, 0x41, 0x07);
    CLAIMS();
    put1(&b, 0xff);
    expect_bad_ext(b.p, b.n, TCN_ERR_MALFORMED, "indefinite length");
    /* Empty evidence; evidence longer than allowed; than present; as text. */
    EXT(0xd9, 0xea, 0x60, 0x82, 0x40);
    CLAIMS();
    expect_bad_ext(b.p, b.n, TCN_ERR_MALFORMED, "evidence: 0 bytes, at least 1");
    EXT(0xd9, 0xea, 0x60, 0x82, 0x5a, 0x00, 0x01, 0x11, 0x70);
    expect_bad_ext(b.p, b.n, TCN_ERR_TOO_LARGE, "evidence: 70000 bytes, at most 65536");
    EXT(0xd9, 0xea, 0x60, 0x82, 0x58, 0x64, 1, 2, 3);
    expect_bad_ext(b.p, b.n, TCN_ERR_TRUNCATED, "declares 100 bytes, 3 left");
    EXT(0xd9, 0xea, 0x60, 0x82, 0x61, 0x07);
    CLAIMS();
    expect_bad_ext(b.p, b.n, TCN_ERR_MALFORMED, "evidence: expected a CBOR byte string");
    /* Claims as a map inline (not a byte string); claims that do not parse. */
    EXT(0xd9, 0xea, 0x60, 0x82, 0x41, 0x07);
    put(&b, claims.p, claims.n);
    expect_bad_ext(b.p, b.n, TCN_ERR_MALFORMED, "extension: claims: expected a CBOR byte string");
    EXT(0xd9, 0xea, 0x60, 0x82, 0x41, 0x07, 0x41, 0xa0);
    expect_bad_ext(b.p, b.n, TCN_ERR_MALFORMED, "extension: claims: map of 0 entries");
    /* A byte after the item. */
    EXT(0xd9, 0xea, 0x60, 0x82, 0x41, 0x07);
    CLAIMS();
    put1(&b, 0x00);
    expect_bad_ext(b.p, b.n, TCN_ERR_MALFORMED, "extension: 1 bytes after the item");
    /* Empty input; input beyond the limit. */
    expect_bad_ext(b.p, 0, TCN_ERR_TRUNCATED, "CBOR ends inside the item head at offset 0");
    uint8_t *huge = calloc(1, TCN_RATLS_EXT_MAX + 1);
    expect_bad_ext(huge, TCN_RATLS_EXT_MAX + 1, TCN_ERR_TOO_LARGE, "at most");
    free(huge);
#undef EXT
#undef CLAIMS
}

/* Every value of every byte: refused, or accepted as the one canonical
 * spelling of what it parsed to (so re-encoding gives the input back). */
static void test_every_byte(void **state)
{
    (void)state;
    tcn_error e;
    tcn_ratls_claims c;
    fixture(&c, TCN_RATLS_HASH_SHA256, true, true);
    tcn_buf cl = {0}, x = {0};
    assert_int_equal(tcn_ratls_claims_encode(&c, &cl, &e), TCN_OK);
    uint8_t ev[40];
    memset(ev, 0x33, sizeof(ev));
    assert_int_equal(tcn_ratls_ext_encode(TCN_RATLS_TAG_SIM, ev, sizeof(ev), cl.p, cl.len, &x, &e), TCN_OK);
    size_t accepted = 0, refused = 0, claims_changes_accepted = 0;
    size_t claims_at = x.len - cl.len;
    for (size_t i = 0; i < x.len; i++)
        for (unsigned v = 0; v < 256; v++) {
            uint8_t old = x.p[i];
            if (v == old)
                continue;
            x.p[i] = (uint8_t)v;
            tcn_ratls_ext p;
            int rc = tcn_ratls_ext_parse(x.p, x.len, &p, &e);
            if (rc == TCN_OK) {
                accepted++;
                if (i >= claims_at)
                    claims_changes_accepted++;
                tcn_buf cl2 = {0}, again = {0};
                assert_int_equal(tcn_ratls_claims_encode(&p.claims, &cl2, &e), TCN_OK);
                assert_int_equal(cl2.len, p.claims_len);
                assert_memory_equal(cl2.p, p.claims_raw, cl2.len);
                assert_int_equal(tcn_ratls_ext_encode(p.tag, p.evidence, p.evidence_len, cl2.p, cl2.len, &again, &e),
                                 TCN_OK);
                assert_int_equal(again.len, x.len);
                assert_memory_equal(again.p, x.p, x.len);
                tcn_buf_free(&cl2);
                tcn_buf_free(&again);
            } else {
                refused++;
                assert_true(e.msg[0] != '\0');
            }
            x.p[i] = old;
        }
    /* The evidence bytes are opaque here (and the nonce, group and hash
     * values are free), so some changes parse: each still re-encodes to the
     * same bytes. Changes to the heads and key names never do. */
    print_message("%zu bytes x 255 values: %zu refused, %zu parsed canonically (%zu inside the claims)\n", x.len,
                  refused, accepted, claims_changes_accepted);
    assert_true(refused > 0 && accepted > 0);
    tcn_buf_free(&cl);
    tcn_buf_free(&x);
}

int main(void)
{
    if (tcn_crypto_init() != TCN_OK)
        return 1;
    for (int i = 0; i < 64; i++)
        H[i] = (uint8_t)(0xc0 + i);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_golden_claims), cmocka_unit_test(test_golden_ext),
        cmocka_unit_test(test_round_trips),   cmocka_unit_test(test_strict_claims),
        cmocka_unit_test(test_strict_ext),    cmocka_unit_test(test_every_byte),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
