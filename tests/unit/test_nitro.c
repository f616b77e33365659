/* Unit tests for the Nitro verifier, its parser and the NSM request/response encoding, on real documents. */
#include "testlib.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cbor.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "attest/nitro.h"
#include "attest/nitro_doc.h"
#include "attest/x509.h"
#include "util/assert.h"
#include "util/cursor.h"
#include "util/encoding.h"
#include "util/secmem.h"
#include "util/timefmt.h"

#define NITRO_DIR "attestation/nitro/"
#define PROD_SAMPLE "blocky_prod_2024-09-07"
#define HOUR_MS (3600LL * 1000)

static const char *const samples[] = {
    "blocky_prod_2024-09-07",
    "blocky_debug_2024-09-07",
    "evervault_prod_2022-10-13",
    "evervault_debug_2023-09-18",
};

/* Large enough to be a bad idea on the stack in a loop; the tests are single-threaded. */
static tcn_claims g_claims;

/* ---- helpers ---------------------------------------------------------------- */

static uint8_t *read_doc(const char *sample, size_t *len)
{
    char rel[256];
    snprintf(rel, sizeof(rel), NITRO_DIR "%s/attestation_doc.cbor", sample);
    return tcn_test_read(rel, len);
}

static json_t *read_expected(const char *sample)
{
    char rel[256];
    snprintf(rel, sizeof(rel), NITRO_DIR "%s/expected.json", sample);
    json_error_t jerr;
    json_t *j = json_load_file(tcn_test_path(rel), JSON_REJECT_DUPLICATES, &jerr);
    if (j == NULL) {
        fprintf(stderr, "cannot load %s: line %d: %s\n", rel, jerr.line, jerr.text);
        fail();
    }
    return j;
}

static int64_t rfc3339_ms(const char *s)
{
    int64_t ms = 0;
    tcn_error err;
    tcn_err_clear(&err);
    if (tcn_time_parse_rfc3339(s, &ms, &err) != TCN_OK) {
        fprintf(stderr, "bad time %s: %s\n", s, err.msg);
        fail();
    }
    return ms;
}

/* The CN value of a "CN=x,OU=..." subject, into out. */
static void subject_cn(const char *subject, char *out, size_t cap)
{
    const char *p = strstr(subject, "CN=");
    assert_non_null(p);
    p += 3;
    size_t n = strcspn(p, ",");
    assert_true(n < cap);
    memcpy(out, p, n);
    out[n] = '\0';
}

static void expect_msg(const tcn_error *err, const char *needle)
{
    if (strstr(err->msg, needle) == NULL) {
        fprintf(stderr, "error message \"%s\" does not mention \"%s\"\n", err->msg, needle);
        fail();
    }
}

/* Rejected, with a PROTO or AUTH category (never OK, never INTERNAL/USAGE). */
static int verify_rejected(const uint8_t *p, size_t n, const char *what, size_t at)
{
    tcn_error err;
    tcn_err_clear(&err);
    int rc = tcn_nitro_verify(p, n, -1, &g_claims, &err);
    tcn_err_category cat = tcn_err_category_of(rc);
    if (rc == TCN_OK || (cat != TCN_CAT_PROTO && cat != TCN_CAT_AUTH)) {
        fprintf(stderr, "%s at %zu: got %s (%s): %s\n", what, at, tcn_err_name(rc), tcn_err_category_name(cat),
                err.msg);
        fail();
    }
    return rc;
}

/* Offsets of the COSE_Sign1 parts inside a document (untagged). */
struct layout {
    size_t prot_off, prot_len, payload_off, payload_len, sig_off;
};

static void doc_layout(const uint8_t *doc, size_t len, struct layout *l)
{
    tcn_cursor c;
    tcn_cur_init(&c, doc, len);
    unsigned mt;
    uint64_t arg;
    assert_int_equal(tcn_nitro_cbor_head(&c, &mt, &arg), TCN_OK);
    assert_true(mt == TCN_NITRO_CBOR_ARRAY && arg == 4);
    assert_int_equal(tcn_nitro_cbor_head(&c, &mt, &arg), TCN_OK);
    assert_true(mt == TCN_NITRO_CBOR_BYTES);
    l->prot_off = c.off;
    l->prot_len = (size_t)arg;
    assert_int_equal(tcn_cur_skip(&c, l->prot_len), TCN_OK);
    assert_int_equal(tcn_nitro_cbor_head(&c, &mt, &arg), TCN_OK);
    assert_true(mt == TCN_NITRO_CBOR_MAP && arg == 0);
    assert_int_equal(tcn_nitro_cbor_head(&c, &mt, &arg), TCN_OK);
    assert_true(mt == TCN_NITRO_CBOR_BYTES);
    l->payload_off = c.off;
    l->payload_len = (size_t)arg;
    assert_int_equal(tcn_cur_skip(&c, l->payload_len), TCN_OK);
    assert_int_equal(tcn_nitro_cbor_head(&c, &mt, &arg), TCN_OK);
    assert_true(mt == TCN_NITRO_CBOR_BYTES && arg == TCN_NITRO_SIG_LEN);
    l->sig_off = c.off;
    assert_int_equal(l->sig_off + TCN_NITRO_SIG_LEN, len);
}

/* xorshift64*: a fixed seed makes every run the same. */
static uint64_t g_rng;
static uint64_t rnd(void)
{
    g_rng ^= g_rng >> 12;
    g_rng ^= g_rng << 25;
    g_rng ^= g_rng >> 27;
    return g_rng * 0x2545F4914F6CDD1DULL;
}

/* ---- re-encoding documents with libcbor (tests only) ------------------------ */

static cbor_item_t *load_item(const uint8_t *p, size_t n)
{
    struct cbor_load_result r;
    cbor_item_t *it = cbor_load(p, n, &r);
    assert_non_null(it);
    assert_int_equal(r.error.code, CBOR_ERR_NONE);
    assert_int_equal(r.read, n);
    return it;
}

/* The decoded payload map of a document. */
static cbor_item_t *doc_payload(const uint8_t *doc, size_t len)
{
    struct layout l;
    doc_layout(doc, len, &l);
    return load_item(doc + l.payload_off, l.payload_len);
}

static cbor_item_t *bytes_item(const uint8_t *p, size_t n)
{
    static const uint8_t zero[1];
    return cbor_build_bytestring(n ? p : zero, n);
}

/* Adds (key, value) to map m, which must have room; both are consumed. */
static void map_put(cbor_item_t *m, cbor_item_t *key, cbor_item_t *value)
{
    assert_true(cbor_map_add(m, (struct cbor_pair){.key = cbor_move(key), .value = cbor_move(value)}));
}

/* A copy of `orig` (a map) without `key`, plus (key, value) at the end when
 * value is not NULL. value is consumed. */
static cbor_item_t *map_with(const cbor_item_t *orig, const char *key, cbor_item_t *value)
{
    size_t n = cbor_map_size(orig);
    cbor_item_t *m = cbor_new_definite_map(n + 1);
    struct cbor_pair *kv = cbor_map_handle(orig);
    for (size_t i = 0; i < n; i++) {
        if (cbor_isa_string(kv[i].key) && cbor_string_length(kv[i].key) == strlen(key) &&
            memcmp(cbor_string_handle(kv[i].key), key, strlen(key)) == 0)
            continue;
        assert_true(cbor_map_add(m, (struct cbor_pair){.key = kv[i].key, .value = kv[i].value}));
    }
    if (value != NULL)
        map_put(m, cbor_build_string(key), value);
    return m;
}

static uint8_t *serialize(const cbor_item_t *it, size_t *len)
{
    unsigned char *buf = NULL;
    size_t cap = 0;
    *len = cbor_serialize_alloc(it, &buf, &cap);
    assert_true(*len > 0);
    return buf;
}

/* [protected, {}, payload, signature of the original document]. prot NULL:
 * the original protected header. Returns a malloc'd document. */
static uint8_t *cose_rebuild(const uint8_t *doc, size_t len, const uint8_t *prot, size_t prot_len,
                             const cbor_item_t *payload, size_t *out_len)
{
    struct layout l;
    doc_layout(doc, len, &l);
    size_t plen;
    uint8_t *p = serialize(payload, &plen);
    cbor_item_t *a = cbor_new_definite_array(4);
    cbor_item_t *ph = prot ? bytes_item(prot, prot_len) : bytes_item(doc + l.prot_off, l.prot_len);
    assert_true(cbor_array_push(a, cbor_move(ph)));
    assert_true(cbor_array_push(a, cbor_move(cbor_new_definite_map(0))));
    assert_true(cbor_array_push(a, cbor_move(bytes_item(p, plen))));
    assert_true(cbor_array_push(a, cbor_move(bytes_item(doc + l.sig_off, TCN_NITRO_SIG_LEN))));
    uint8_t *out = serialize(a, out_len);
    cbor_decref(&a);
    free(p);
    return out;
}

/* The prod document with payload field `key` replaced by `value` (NULL: removed). */
static uint8_t *prod_with(const char *key, cbor_item_t *value, size_t *out_len)
{
    size_t len;
    uint8_t *doc = read_doc(PROD_SAMPLE, &len);
    cbor_item_t *pl = doc_payload(doc, len);
    cbor_item_t *m = map_with(pl, key, value);
    uint8_t *out = cose_rebuild(doc, len, NULL, 0, m, out_len);
    cbor_decref(&m);
    cbor_decref(&pl);
    free(doc);
    return out;
}

static int parse_code(const uint8_t *p, size_t n, tcn_error *err)
{
    tcn_nitro_doc d;
    tcn_err_clear(err);
    int rc = tcn_nitro_doc_parse(p, n, &d, err);
    tcn_nitro_doc_free(&d);
    return rc;
}

/* Replaces field key with value and expects the parser to fail with code and
 * a message containing needle. */
static void expect_field_rejected(const char *key, cbor_item_t *value, int code, const char *needle)
{
    size_t n;
    uint8_t *doc = prod_with(key, value, &n);
    tcn_error err;
    /* The parser refuses it (or, for checks that need the certificate, leaves
     * it to the verifier); the verifier refuses it for the same reason. */
    int rc = parse_code(doc, n, &err);
    if (rc != TCN_OK) {
        if (rc != code)
            fprintf(stderr, "field %s: parse got %s: %s\n", key, tcn_err_name(rc), err.msg);
        assert_int_equal(rc, code);
        expect_msg(&err, needle);
    }
    tcn_err_clear(&err);
    rc = tcn_nitro_verify(doc, n, -1, &g_claims, &err);
    if (rc != code)
        fprintf(stderr, "field %s: verify got %s: %s\n", key, tcn_err_name(rc), err.msg);
    assert_int_equal(rc, code);
    expect_msg(&err, needle);
    free(doc);
}

/* ---- the four real documents ------------------------------------------------ */

static void check_field(const char *sample, const char *name, const json_t *want, const tcn_bytes_field *got)
{
    if (json_is_null(want)) {
        if (got->present)
            fprintf(stderr, "%s: %s should be null\n", sample, name);
        assert_false(got->present);
        assert_int_equal(got->len, 0);
        return;
    }
    assert_true(got->present);
    assert_int_equal(got->len, json_integer_value(json_object_get(want, "length")));
    const char *hex = json_string_value(json_object_get(want, "hex"));
    const char *all = json_string_value(json_object_get(want, "all_bytes"));
    if (hex != NULL) {
        uint8_t buf[TCN_NITRO_FIELD_MAX];
        size_t n = 0;
        tcn_error err;
        assert_int_equal(tcn_hex_decode(hex, buf, sizeof(buf), &n, &err), TCN_OK);
        assert_int_equal(n, got->len);
        assert_memory_equal(buf, got->data, n);
    } else {
        assert_non_null(all);
        uint8_t b;
        tcn_error err;
        assert_int_equal(tcn_hex_decode_exact(all, &b, 1, &err), TCN_OK);
        for (size_t i = 0; i < got->len; i++)
            assert_int_equal(got->data[i], b);
    }
}

static void test_samples_verify(void **state)
{
    (void)state;
    for (size_t s = 0; s < TCN_ARRAY_LEN(samples); s++) {
        const char *name = samples[s];
        size_t len;
        uint8_t *doc = read_doc(name, &len);
        json_t *exp = read_expected(name);
        tcn_error err;
        tcn_err_clear(&err);
        memset(&g_claims, 0xa5, sizeof(g_claims));
        int rc = tcn_nitro_verify(doc, len, -1, &g_claims, &err);
        if (rc != TCN_OK)
            fprintf(stderr, "%s: %s: %s\n", name, tcn_err_name(rc), err.msg);
        assert_int_equal(rc, TCN_OK);
        const tcn_claims *c = &g_claims;
        assert_int_equal(c->tee, TCN_TEE_NITRO);
        assert_int_equal(c->tcb_status, TCN_TCB_NONE);
        assert_string_equal(c->module_id, json_string_value(json_object_get(exp, "module_id")));
        assert_int_equal(c->timestamp_ms, json_integer_value(json_object_get(exp, "timestamp_ms")));

        /* Every PCR of expected.json, and no other. */
        json_t *pcrs = json_object_get(exp, "pcrs");
        const char *key;
        json_t *val;
        uint32_t mask = 0;
        json_object_foreach(pcrs, key, val)
        {
            unsigned idx = (unsigned)strtoul(key, NULL, 10);
            assert_true(idx < TCN_NITRO_PCR_COUNT);
            mask |= 1u << idx;
            uint8_t want[48];
            assert_int_equal(tcn_hex_decode_exact(json_string_value(val), want, 48, &err), TCN_OK);
            assert_memory_equal(c->pcrs[idx], want, 48);
            if (idx == 0) {
                assert_int_equal(c->measurement_len, 48);
                assert_memory_equal(c->measurement, want, 48);
            }
            if (idx == 8) {
                assert_int_equal(c->signer_len, 48);
                assert_memory_equal(c->signer, want, 48);
            }
        }
        assert_int_equal(c->pcr_present, mask);
        assert_int_equal(c->pcr_len, 48);
        assert_int_equal(c->debug, json_is_true(json_object_get(exp, "debug_mode_pcr0_zero")));

        check_field(name, "user_data", json_object_get(exp, "user_data"), &c->user_data);
        check_field(name, "nonce", json_object_get(exp, "nonce"), &c->nonce);
        check_field(name, "public_key", json_object_get(exp, "public_key"), &c->public_key);
        assert_int_equal(c->report_data_present, c->user_data.present && c->user_data.len == 64);

        /* The parser's view of the envelope. */
        tcn_nitro_doc d;
        assert_int_equal(tcn_nitro_doc_parse(doc, len, &d, &err), TCN_OK);
        const json_t *dj = json_object_get(exp, "document");
        assert_int_equal(d.tagged, json_is_true(json_object_get(dj, "cose_sign1_cbor_tag18")));
        assert_int_equal(json_integer_value(json_object_get(dj, "size")), len);
        assert_int_equal(d.cabundle_count, json_array_size(json_object_get(exp, "certificate_chain_root_to_leaf")) - 1);
        assert_int_equal(d.protected_len, 4);
        assert_memory_equal(d.protected_hdr, "\xa1\x01\x38\x22", 4);
        tcn_nitro_doc_free(&d);
        tcn_nitro_doc_free(&d); /* idempotent */

        printf("  %s: ok, debug=%d, module %s\n", name, c->debug, c->module_id);
        json_decref(exp);
        free(doc);
    }
}

/* The chain is checked at the given time: after the leaf expired and before it was issued. */
static void test_verification_time(void **state)
{
    (void)state;
    for (size_t s = 0; s < TCN_ARRAY_LEN(samples); s++) {
        size_t len;
        uint8_t *doc = read_doc(samples[s], &len);
        json_t *exp = read_expected(samples[s]);
        const json_t *chain = json_object_get(exp, "certificate_chain_root_to_leaf");
        const json_t *leaf = json_array_get(chain, json_array_size(chain) - 1);
        char cn[160];
        subject_cn(json_string_value(json_object_get(leaf, "subject")), cn, sizeof(cn));
        int64_t ts = json_integer_value(json_object_get(exp, "timestamp_ms"));
        tcn_error err;

        /* Explicit at_ms equal to the timestamp: valid. */
        tcn_err_clear(&err);
        assert_int_equal(tcn_nitro_verify(doc, len, ts, &g_claims, &err), TCN_OK);

        tcn_err_clear(&err);
        assert_int_equal(tcn_nitro_verify(doc, len, ts + 4 * HOUR_MS, &g_claims, &err), TCN_ERR_EXPIRED);
        expect_msg(&err, cn);
        expect_msg(&err, "expired");

        int64_t nb = rfc3339_ms(json_string_value(json_object_get(leaf, "not_before")));
        tcn_err_clear(&err);
        assert_int_equal(tcn_nitro_verify(doc, len, nb - 1000, &g_claims, &err), TCN_ERR_NOT_YET_VALID);
        expect_msg(&err, cn);
        expect_msg(&err, "not yet valid");
        json_decref(exp);
        free(doc);
    }
}

/* Single-bit flips. All bits of the envelope (array head, protected header
 * head and contents, unprotected map, payload head), of the signature head
 * and of the 96 signature bytes; all bits of the first and last 64 payload
 * bytes (map head, module_id, the tail of nonce); and all bits of every 8th
 * payload byte in between (stride 8 at a fixed phase) -- each of the ~7 KiB
 * payload flips costs a full P-384 verification, so a 1/8 sample keeps the
 * test at seconds while still crossing every field (pcrs, certificate,
 * cabundle, the optional fields). */
static void test_bit_flips(void **state)
{
    (void)state;
    size_t len;
    uint8_t *doc = read_doc(PROD_SAMPLE, &len);
    uint8_t *m = malloc(len);
    assert_non_null(m);
    struct layout l;
    doc_layout(doc, len, &l);
    size_t flips = 0, by_sig = 0;
    for (size_t i = 0; i < len; i++) {
        bool in_payload = i >= l.payload_off && i < l.payload_off + l.payload_len;
        size_t po = i - l.payload_off;
        if (in_payload && po >= 64 && po + 64 < l.payload_len && po % 8 != 3)
            continue;
        for (int bit = 0; bit < 8; bit++) {
            memcpy(m, doc, len);
            m[i] ^= (uint8_t)(1u << bit);
            int rc = verify_rejected(m, len, "bit flip", i * 8 + (size_t)bit);
            if (i >= l.sig_off)
                assert_int_equal(rc, TCN_ERR_BAD_SIGNATURE); /* structure intact: only the signature can fail */
            by_sig += rc == TCN_ERR_BAD_SIGNATURE;
            flips++;
        }
    }
    printf("  %zu single-bit flips rejected (%zu as BAD_SIGNATURE)\n", flips, by_sig);
    free(m);
    free(doc);
}

static void test_truncations(void **state)
{
    (void)state;
    size_t len;
    uint8_t *doc = read_doc(PROD_SAMPLE, &len);
    for (size_t n = 0; n < len; n++) {
        /* A fresh allocation of exactly n bytes, so ASan sees any over-read. */
        uint8_t *t = malloc(n ? n : 1);
        assert_non_null(t);
        memcpy(t, doc, n);
        verify_rejected(t, n, "truncation", n);
        free(t);
    }
    /* One trailing byte is rejected too. */
    uint8_t *x = malloc(len + 1);
    memcpy(x, doc, len);
    x[len] = 0;
    tcn_error err;
    assert_int_equal(parse_code(x, len + 1, &err), TCN_ERR_MALFORMED);
    expect_msg(&err, "trailing");
    free(x);
    free(doc);
}

static void test_random_garbage(void **state)
{
    (void)state;
    const uint64_t seed = 0x6e6974726f2d3031ULL;
    g_rng = seed;
    printf("  seed 0x%016llx\n", (unsigned long long)seed);
    size_t len;
    uint8_t *doc = read_doc(PROD_SAMPLE, &len);
    for (int i = 0; i < 1000; i++) {
        size_t n;
        uint8_t *g;
        switch (i % 3) {
        case 0: /* pure noise */
            n = (size_t)(rnd() % 4096);
            g = malloc(n ? n : 1);
            for (size_t k = 0; k < n; k++)
                g[k] = (uint8_t)rnd();
            break;
        case 1: /* noise behind a plausible COSE_Sign1 start */
            n = 8 + (size_t)(rnd() % 4096);
            g = malloc(n);
            for (size_t k = 0; k < n; k++)
                g[k] = (uint8_t)rnd();
            memcpy(g, doc, 8);
            break;
        default: /* the real document with 1..16 bytes changed */
            n = len;
            g = malloc(n);
            memcpy(g, doc, n);
            for (uint64_t k = 0, c = 1 + rnd() % 16; k < c; k++)
                g[rnd() % n] ^= (uint8_t)(1 + rnd() % 255);
            if (memcmp(g, doc, n) == 0)
                g[0] ^= 1;
            break;
        }
        verify_rejected(g, n, "random input", (size_t)i);
        free(g);
    }
    free(doc);
}

/* A freshly generated self-signed P-384 "aws.nitro-enclaves" root. */
static uint8_t *fake_root_der(size_t *len)
{
    EVP_PKEY *k = EVP_EC_gen("P-384");
    assert_non_null(k);
    X509 *x = X509_new();
    assert_non_null(x);
    assert_true(X509_set_version(x, X509_VERSION_3));
    assert_true(ASN1_INTEGER_set(X509_get_serialNumber(x), 4242));
    assert_non_null(ASN1_TIME_set(X509_getm_notBefore(x), (time_t)1546300800));  /* 2019-01-01 */
    assert_non_null(ASN1_TIME_set(X509_getm_notAfter(x), (time_t)2524608000));   /* 2050-01-01 */
    X509_NAME *name = X509_get_subject_name(x);
    assert_true(X509_NAME_add_entry_by_txt(name, "C", MBSTRING_ASC, (const unsigned char *)"US", -1, -1, 0));
    assert_true(X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)"Amazon", -1, -1, 0));
    assert_true(X509_NAME_add_entry_by_txt(name, "OU", MBSTRING_ASC, (const unsigned char *)"AWS", -1, -1, 0));
    assert_true(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"aws.nitro-enclaves",
                                           -1, -1, 0));
    assert_true(X509_set_issuer_name(x, name));
    assert_true(X509_set_pubkey(x, k));
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, NULL, NID_basic_constraints, "critical,CA:TRUE");
    assert_non_null(ext);
    assert_true(X509_add_ext(x, ext, -1));
    X509_EXTENSION_free(ext);
    assert_true(X509_sign(x, k, EVP_sha384()) > 0);
    unsigned char *der = NULL;
    int n = i2d_X509(x, &der);
    assert_true(n > 0);
    uint8_t *out = malloc((size_t)n);
    memcpy(out, der, (size_t)n);
    *len = (size_t)n;
    OPENSSL_free(der);
    X509_free(x);
    EVP_PKEY_free(k);
    return out;
}

static void test_untrusted_root(void **state)
{
    (void)state;
    size_t len, rlen;
    uint8_t *doc = read_doc(PROD_SAMPLE, &len);
    uint8_t *root = fake_root_der(&rlen);
    cbor_item_t *pl = doc_payload(doc, len);
    /* cabundle with entry 0 replaced by the fake root. */
    cbor_item_t *orig = NULL;
    struct cbor_pair *kv = cbor_map_handle(pl);
    for (size_t i = 0; i < cbor_map_size(pl); i++)
        if (cbor_string_length(kv[i].key) == 8 && memcmp(cbor_string_handle(kv[i].key), "cabundle", 8) == 0)
            orig = kv[i].value;
    assert_non_null(orig);
    cbor_item_t *bundle = cbor_new_definite_array(cbor_array_size(orig));
    assert_true(cbor_array_push(bundle, cbor_move(bytes_item(root, rlen))));
    for (size_t i = 1; i < cbor_array_size(orig); i++)
        assert_true(cbor_array_push(bundle, cbor_array_handle(orig)[i]));
    cbor_item_t *m = map_with(pl, "cabundle", bundle);
    size_t n;
    uint8_t *forged = cose_rebuild(doc, len, NULL, 0, m, &n);
    tcn_error err;
    tcn_err_clear(&err);
    assert_int_equal(tcn_nitro_verify(forged, n, -1, &g_claims, &err), TCN_ERR_UNTRUSTED_ROOT);
    expect_msg(&err, "cabundle");
    expect_msg(&err, "aws.nitro-enclaves");
    printf("  %s\n", err.msg);
    free(forged);
    cbor_decref(&m);

    /* The real root but a fake one slipped in as an intermediate: the chain
     * check refuses it. */
    cbor_item_t *bundle2 = cbor_new_definite_array(cbor_array_size(orig) + 1);
    for (size_t i = 0; i < cbor_array_size(orig); i++)
        assert_true(cbor_array_push(bundle2, cbor_array_handle(orig)[i]));
    assert_true(cbor_array_push(bundle2, cbor_move(bytes_item(root, rlen))));
    m = map_with(pl, "cabundle", bundle2);
    forged = cose_rebuild(doc, len, NULL, 0, m, &n);
    tcn_err_clear(&err);
    assert_int_equal(tcn_nitro_verify(forged, n, -1, &g_claims, &err), TCN_ERR_UNTRUSTED_ROOT);
    free(forged);
    cbor_decref(&m);
    cbor_decref(&pl);
    free(root);
    free(doc);
}

static void test_protected_header(void **state)
{
    (void)state;
    size_t len, n;
    uint8_t *doc = read_doc(PROD_SAMPLE, &len);
    cbor_item_t *pl = doc_payload(doc, len);
    tcn_error err;
    static const struct {
        const char *hex;
        int code;
        const char *needle;
    } cases[] = {
        {"a10126", TCN_ERR_UNSUPPORTED, "'alg' is -7 (ES256)"},      /* {1: -7} */
        {"a10123", TCN_ERR_UNSUPPORTED, "'alg'"},                    /* {1: -4} */
        {"a1013823", TCN_ERR_UNSUPPORTED, "'alg' is -36"},           /* {1: -36} ES512 */
        {"a1016545533338340a", TCN_ERR_MALFORMED, "trailing"},       /* garbage after the map */
        {"a101654553333834", TCN_ERR_UNSUPPORTED, "'alg'"},          /* {1: "ES384"} */
        {"a2013822013822", TCN_ERR_MALFORMED, "'alg' twice"},        /* {1: -35, 1: -35} */
        {"a201382204436b6964", TCN_ERR_MALFORMED, "not 'alg'"},      /* {1: -35, 4: h'6b6964'} */
        {"a0", TCN_ERR_MALFORMED, "no 'alg'"},                       /* {} */
        {"", TCN_ERR_MALFORMED, "empty"},                            /* h'' */
        {"80", TCN_ERR_MALFORMED, "not a map"},                      /* [] */
    };
    for (size_t i = 0; i < TCN_ARRAY_LEN(cases); i++) {
        uint8_t prot[32];
        size_t plen = 0;
        assert_int_equal(tcn_hex_decode(cases[i].hex, prot, sizeof(prot), &plen, &err), TCN_OK);
        uint8_t *d = cose_rebuild(doc, len, prot, plen, pl, &n);
        tcn_err_clear(&err);
        int rc = tcn_nitro_verify(d, n, -1, &g_claims, &err);
        if (rc != cases[i].code)
            fprintf(stderr, "protected %s: %s: %s\n", cases[i].hex, tcn_err_name(rc), err.msg);
        assert_int_equal(rc, cases[i].code);
        expect_msg(&err, cases[i].needle);
        free(d);
    }
    /* The original header re-encoded by libcbor is byte-identical: still valid. */
    uint8_t *same = cose_rebuild(doc, len, NULL, 0, pl, &n);
    assert_int_equal(n, len);
    assert_memory_equal(same, doc, len);
    free(same);
    cbor_decref(&pl);
    free(doc);
}

static void test_envelope(void **state)
{
    (void)state;
    size_t len;
    uint8_t *doc = read_doc(PROD_SAMPLE, &len);
    tcn_error err;

    /* Tag 18 around the array: the signed bytes are unchanged, so it verifies. */
    uint8_t *t = malloc(len + 1);
    t[0] = 0xd2;
    memcpy(t + 1, doc, len);
    tcn_err_clear(&err);
    assert_int_equal(tcn_nitro_verify(t, len + 1, -1, &g_claims, &err), TCN_OK);
    tcn_nitro_doc d;
    assert_int_equal(tcn_nitro_doc_parse(t, len + 1, &d, &err), TCN_OK);
    assert_true(d.tagged);
    tcn_nitro_doc_free(&d);
    t[0] = 0xd1; /* tag 17 = COSE_Mac0 */
    assert_int_equal(parse_code(t, len + 1, &err), TCN_ERR_MALFORMED);
    expect_msg(&err, "tag 17");
    free(t);

    /* Tag 18 twice. */
    t = malloc(len + 2);
    t[0] = t[1] = 0xd2;
    memcpy(t + 2, doc, len);
    assert_int_equal(parse_code(t, len + 2, &err), TCN_ERR_MALFORMED);
    free(t);

    struct layout l;
    doc_layout(doc, len, &l);
    /* Unprotected header with an entry: {4: h''} replaces {} (one byte longer). */
    t = malloc(len + 3);
    memcpy(t, doc, 6);
    memcpy(t + 6, "\xa1\x04\x40", 3);
    memcpy(t + 9, doc + 7, len - 7);
    assert_int_equal(parse_code(t, len + 2, &err), TCN_ERR_MALFORMED);
    expect_msg(&err, "unprotected");
    free(t);

    /* Signature of 95 bytes: shorten the head and drop the last byte. */
    t = malloc(len);
    memcpy(t, doc, len);
    assert_int_equal(t[l.sig_off - 1], 0x60);
    t[l.sig_off - 1] = 0x5f;
    assert_int_equal(parse_code(t, len - 1, &err), TCN_ERR_MALFORMED);
    expect_msg(&err, "signature has 95 bytes");
    free(t);

    /* Three items instead of four. */
    t = malloc(len);
    memcpy(t, doc, len);
    t[0] = 0x83;
    assert_int_equal(parse_code(t, l.sig_off - 2, &err), TCN_ERR_MALFORMED);
    expect_msg(&err, "array of 4");
    free(t);

    /* Too large, hostile nesting, hostile counts: refused without allocating. */
    size_t big = TCN_NITRO_DOC_MAX + 1;
    t = calloc(1, big);
    assert_int_equal(parse_code(t, big, &err), TCN_ERR_TOO_LARGE);
    memset(t, 0x81, TCN_NITRO_DOC_MAX);
    t[TCN_NITRO_DOC_MAX - 1] = 0x00;
    assert_int_equal(parse_code(t, TCN_NITRO_DOC_MAX, &err), TCN_ERR_MALFORMED);
    expect_msg(&err, "nests deeper");
    free(t);
    static const uint8_t huge_array[] = {0x9b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00};
    assert_int_equal(parse_code(huge_array, sizeof(huge_array), &err), TCN_ERR_TRUNCATED);
    static const uint8_t huge_map[] = {0xbb, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
    assert_int_equal(parse_code(huge_map, sizeof(huge_map), &err), TCN_ERR_TRUNCATED);
    static const uint8_t indefinite[] = {0x9f, 0x44, 0xa1, 0x01, 0x38, 0x22, 0xff};
    assert_int_equal(parse_code(indefinite, sizeof(indefinite), &err), TCN_ERR_MALFORMED);
    expect_msg(&err, "indefinite");
    static const uint8_t bad_simple[] = {0xf8, 0x10};
    assert_int_equal(parse_code(bad_simple, sizeof(bad_simple), &err), TCN_ERR_MALFORMED);
    assert_int_equal(parse_code(NULL, 0, &err), TCN_ERR_TRUNCATED);
    free(doc);
}

static cbor_item_t *pcrs_map(size_t n, unsigned bad_idx, size_t bad_len)
{
    static const uint8_t z[64];
    cbor_item_t *m = cbor_new_definite_map(n + 2); /* room for the entries a test adds */
    for (unsigned i = 0; i < n; i++)
        map_put(m, cbor_build_uint8((uint8_t)i), bytes_item(z, i == bad_idx ? bad_len : 48));
    return m;
}

static cbor_item_t *bytes_of(size_t n, uint8_t v)
{
    uint8_t *b = malloc(n ? n : 1);
    memset(b, v, n ? n : 1);
    cbor_item_t *it = bytes_item(b, n);
    free(b);
    return it;
}

static void test_payload_fields(void **state)
{
    (void)state;
    tcn_error err;
    /* PCRs. */
    expect_field_rejected("pcrs", pcrs_map(16, 3, 32), TCN_ERR_MALFORMED,
                          "nitro: payload field 'pcrs': PCR 3 has 32 bytes, expected 48");
    expect_field_rejected("pcrs", pcrs_map(16, 5, 64), TCN_ERR_MALFORMED, "PCR 5 has 64 bytes");
    expect_field_rejected("pcrs", pcrs_map(0, 99, 0), TCN_ERR_MALFORMED, "'pcrs' has 0 entries");
    cbor_item_t *m = pcrs_map(2, 99, 0);
    map_put(m, cbor_build_uint8(32), bytes_of(48, 0));
    expect_field_rejected("pcrs", m, TCN_ERR_MALFORMED, "index 32 is out of range");
    m = pcrs_map(2, 99, 0);
    map_put(m, cbor_build_uint8(1), bytes_of(48, 0));
    expect_field_rejected("pcrs", m, TCN_ERR_MALFORMED, "PCR 1 appears twice");
    m = pcrs_map(2, 99, 0);
    map_put(m, cbor_build_string("2"), bytes_of(48, 0));
    expect_field_rejected("pcrs", m, TCN_ERR_MALFORMED, "key #2 is not an unsigned integer");
    m = pcrs_map(2, 99, 0);
    map_put(m, cbor_build_uint8(2), cbor_build_string("x"));
    expect_field_rejected("pcrs", m, TCN_ERR_MALFORMED, "PCR 2 is not a byte string");
    expect_field_rejected("pcrs", cbor_new_definite_array(0), TCN_ERR_MALFORMED, "'pcrs' is not a map");
    /* PCR 0 is the measurement: a document without it is refused by the verifier. */
    {
        cbor_item_t *pm = cbor_new_definite_map(1);
        map_put(pm, cbor_build_uint8(4), bytes_of(48, 1));
        size_t n;
        uint8_t *d = prod_with("pcrs", pm, &n);
        assert_int_equal(parse_code(d, n, &err), TCN_OK);
        tcn_err_clear(&err);
        assert_int_equal(tcn_nitro_verify(d, n, -1, &g_claims, &err), TCN_ERR_MALFORMED);
        expect_msg(&err, "PCR 0");
        free(d);
    }

    /* Scalars. */
    expect_field_rejected("digest", cbor_build_string("SHA256"), TCN_ERR_UNSUPPORTED, "'digest' is \"SHA256\"");
    expect_field_rejected("digest", cbor_build_uint8(1), TCN_ERR_MALFORMED, "'digest' is not a text string");
    expect_field_rejected("module_id", cbor_build_string(""), TCN_ERR_MALFORMED, "'module_id' is empty");
    char longid[200];
    memset(longid, 'i', sizeof(longid) - 1);
    longid[sizeof(longid) - 1] = '\0';
    expect_field_rejected("module_id", cbor_build_string(longid), TCN_ERR_TOO_LARGE, "'module_id' has 199 bytes");
    expect_field_rejected("module_id", cbor_build_stringn("a\nb", 3), TCN_ERR_MALFORMED, "non-printable");
    expect_field_rejected("module_id", bytes_of(4, 'a'), TCN_ERR_MALFORMED, "'module_id' is not a text string");
    expect_field_rejected("timestamp", cbor_build_uint8(0), TCN_ERR_MALFORMED, "'timestamp' is 0");
    expect_field_rejected("timestamp", cbor_build_uint64(UINT64_MAX), TCN_ERR_MALFORMED, "'timestamp'");
    expect_field_rejected("timestamp", cbor_build_negint8(5), TCN_ERR_MALFORMED, "'timestamp' is not an unsigned");

    /* Certificates. */
    expect_field_rejected("certificate", NULL, TCN_ERR_MALFORMED, "'certificate' is missing");
    expect_field_rejected("certificate", bytes_of(0, 0), TCN_ERR_MALFORMED, "'certificate' is empty");
    expect_field_rejected("certificate", bytes_of(TCN_NITRO_CERT_MAX + 1, 0x30), TCN_ERR_TOO_LARGE,
                          "'certificate' has 8193 bytes");
    expect_field_rejected("certificate", bytes_of(100, 0x30), TCN_ERR_MALFORMED, "'certificate'");
    expect_field_rejected("cabundle", cbor_new_definite_array(0), TCN_ERR_MALFORMED, "'cabundle' is empty");
    cbor_item_t *a = cbor_new_definite_array(TCN_NITRO_CABUNDLE_MAX + 1);
    for (int i = 0; i <= TCN_NITRO_CABUNDLE_MAX; i++)
        assert_true(cbor_array_push(a, cbor_move(bytes_of(10, 0x30))));
    expect_field_rejected("cabundle", a, TCN_ERR_TOO_LARGE, "'cabundle' has 9 entries, limit 8");
    a = cbor_new_definite_array(2);
    assert_true(cbor_array_push(a, cbor_move(bytes_of(10, 0x30))));
    assert_true(cbor_array_push(a, cbor_move(cbor_build_string("pem"))));
    expect_field_rejected("cabundle", a, TCN_ERR_MALFORMED, "'cabundle': entry 1 is not a byte string");
    expect_field_rejected("cabundle", NULL, TCN_ERR_MALFORMED, "'cabundle' is missing");

    /* Optional fields: 1024 bytes is the limit; null and absence are both "not present". */
    expect_field_rejected("user_data", bytes_of(TCN_NITRO_FIELD_MAX + 1, 1), TCN_ERR_TOO_LARGE,
                          "'user_data' has 1025 bytes, limit 1024");
    expect_field_rejected("nonce", cbor_build_string("n"), TCN_ERR_MALFORMED,
                          "'nonce' is neither a byte string nor null");
    expect_field_rejected("public_key", cbor_new_undef(), TCN_ERR_MALFORMED, "'public_key'");
    const char *opt[] = {"user_data", "nonce", "public_key"};
    for (int i = 0; i < 3; i++) {
        for (int variant = 0; variant < 3; variant++) {
            cbor_item_t *v = variant == 0 ? cbor_new_null() : variant == 1 ? NULL : bytes_of(64, 7);
            size_t n;
            uint8_t *d = prod_with(opt[i], v, &n);
            tcn_nitro_doc pd;
            tcn_err_clear(&err);
            assert_int_equal(tcn_nitro_doc_parse(d, n, &pd, &err), TCN_OK);
            const tcn_nitro_opt_bytes *f = i == 0 ? &pd.user_data : i == 1 ? &pd.nonce : &pd.public_key;
            assert_int_equal(f->present, variant == 2);
            if (variant == 2)
                assert_int_equal(f->len, 64);
            tcn_nitro_doc_free(&pd);
            /* The signature no longer matches: still refused by the verifier. */
            tcn_err_clear(&err);
            assert_int_equal(tcn_nitro_verify(d, n, -1, &g_claims, &err), TCN_ERR_BAD_SIGNATURE);
            free(d);
        }
    }

    /* Keys: unknown text keys are skipped, non-text keys and duplicates refused. */
    {
        size_t n;
        uint8_t *d = prod_with("future_field", cbor_build_string("x"), &n);
        assert_int_equal(parse_code(d, n, &err), TCN_OK);
        free(d);

        size_t len;
        uint8_t *doc = read_doc(PROD_SAMPLE, &len);
        cbor_item_t *pl = doc_payload(doc, len);
        cbor_item_t *pm = map_with(pl, "x-never-a-key", NULL);
        map_put(pm, cbor_build_uint8(7), cbor_new_null());
        d = cose_rebuild(doc, len, NULL, 0, pm, &n);
        assert_int_equal(parse_code(d, n, &err), TCN_ERR_MALFORMED);
        expect_msg(&err, "payload key #9 is not a text string");
        free(d);
        cbor_decref(&pm);

        pm = map_with(pl, "x-never-a-key", NULL);
        map_put(pm, cbor_build_string("nonce"), cbor_new_null());
        d = cose_rebuild(doc, len, NULL, 0, pm, &n);
        assert_int_equal(parse_code(d, n, &err), TCN_ERR_MALFORMED);
        expect_msg(&err, "'nonce' appears twice");
        free(d);
        cbor_decref(&pm);

        /* The payload is not a map. */
        cbor_item_t *arr = cbor_new_definite_array(0);
        d = cose_rebuild(doc, len, NULL, 0, arr, &n);
        assert_int_equal(parse_code(d, n, &err), TCN_ERR_MALFORMED);
        expect_msg(&err, "payload is not a map");
        free(d);
        cbor_decref(&arr);
        cbor_decref(&pl);
        free(doc);
    }
}

/* Repeat verifications take the chain from the signature cache; the COSE
 * signature is checked every time. */
static void test_cache_and_speed(void **state)
{
    (void)state;
    size_t len;
    uint8_t *doc = read_doc(PROD_SAMPLE, &len);
    tcn_error err;
    tcn_x509_cache_clear();
    assert_int_equal(tcn_nitro_verify(doc, len, -1, &g_claims, &err), TCN_OK);
    uint64_t h0, m0, h1, m1;
    tcn_x509_cache_stats(&h0, &m0);
    assert_true(m0 > 0);
    const int rounds = 200;
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (int i = 0; i < rounds; i++)
        assert_int_equal(tcn_nitro_verify(doc, len, -1, &g_claims, &err), TCN_OK);
    clock_gettime(CLOCK_MONOTONIC, &b);
    tcn_x509_cache_stats(&h1, &m1);
    assert_int_equal(m1, m0);               /* no certificate signature re-verified */
    assert_true(h1 - h0 >= (uint64_t)rounds); /* every round hit the cache */
    double us = ((double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec)) / 1e3 / rounds;
    printf("  warm verification: %.0f us per document (%d rounds; target < 1000 us in release builds)\n", us, rounds);

    /* A flipped signature bit still fails on a warm cache. */
    struct layout l;
    doc_layout(doc, len, &l);
    doc[l.sig_off + 10] ^= 0x01;
    assert_int_equal(tcn_nitro_verify(doc, len, -1, &g_claims, &err), TCN_ERR_BAD_SIGNATURE);
    free(doc);
}

/* ---- NSM request and response ----------------------------------------------- */

static const cbor_item_t *map_get(const cbor_item_t *m, const char *key)
{
    const struct cbor_pair *kv = cbor_map_handle(m);
    for (size_t i = 0; i < cbor_map_size(m); i++)
        if (cbor_isa_string(kv[i].key) && cbor_string_length(kv[i].key) == strlen(key) &&
            memcmp(cbor_string_handle(kv[i].key), key, strlen(key)) == 0)
            return kv[i].value;
    return NULL;
}

static void check_req_field(const cbor_item_t *v, const uint8_t *want, size_t n)
{
    assert_non_null(v);
    if (want == NULL) {
        assert_true(cbor_is_null(v));
        return;
    }
    assert_true(cbor_isa_bytestring(v));
    assert_int_equal(cbor_bytestring_length(v), n);
    if (n > 0)
        assert_memory_equal(cbor_bytestring_handle(v), want, n);
}

static void test_nsm_request(void **state)
{
    (void)state;
    tcn_error err;
    uint8_t ud[TCN_NITRO_FIELD_MAX], nonce[TCN_NITRO_FIELD_MAX], pk[TCN_NITRO_FIELD_MAX];
    for (size_t i = 0; i < sizeof(ud); i++) {
        ud[i] = (uint8_t)i;
        nonce[i] = (uint8_t)(i * 7);
        pk[i] = (uint8_t)(255 - i);
    }
    static const struct {
        size_t ud, nonce, pk; /* SIZE_MAX: NULL */
    } shapes[] = {
        {64, SIZE_MAX, SIZE_MAX},
        {SIZE_MAX, SIZE_MAX, SIZE_MAX},
        {0, 32, 91},
        {TCN_NITRO_FIELD_MAX, TCN_NITRO_FIELD_MAX, TCN_NITRO_FIELD_MAX},
    };
    for (size_t s = 0; s < TCN_ARRAY_LEN(shapes); s++) {
        const uint8_t *u = shapes[s].ud == SIZE_MAX ? NULL : ud;
        const uint8_t *no = shapes[s].nonce == SIZE_MAX ? NULL : nonce;
        const uint8_t *p = shapes[s].pk == SIZE_MAX ? NULL : pk;
        size_t ul = u ? shapes[s].ud : 0, nl = no ? shapes[s].nonce : 0, pl = p ? shapes[s].pk : 0;
        tcn_buf b = {0};
        assert_int_equal(tcn_nitro_nsm_encode_attestation_request(u, ul, no, nl, p, pl, &b, &err), TCN_OK);
        assert_true(b.len <= TCN_NITRO_NSM_REQUEST_MAX);
        cbor_item_t *it = load_item(b.p, b.len);
        assert_true(cbor_isa_map(it));
        assert_int_equal(cbor_map_size(it), 1);
        const cbor_item_t *inner = map_get(it, "Attestation");
        assert_non_null(inner);
        assert_true(cbor_isa_map(inner));
        assert_int_equal(cbor_map_size(inner), 3);
        /* serde writes struct fields in declaration order. */
        const struct cbor_pair *kv = cbor_map_handle(inner);
        const char *order[] = {"user_data", "nonce", "public_key"};
        for (int i = 0; i < 3; i++) {
            assert_int_equal(cbor_string_length(kv[i].key), strlen(order[i]));
            assert_memory_equal(cbor_string_handle(kv[i].key), order[i], strlen(order[i]));
        }
        check_req_field(map_get(inner, "user_data"), u, ul);
        check_req_field(map_get(inner, "nonce"), no, nl);
        check_req_field(map_get(inner, "public_key"), p, pl);
        cbor_decref(&it);
        tcn_buf_free(&b);
    }
    /* The all-null request, byte for byte. */
    static const uint8_t all_null[] = "\xa1\x6b" "Attestation" "\xa3\x69" "user_data" "\xf6\x65" "nonce"
                                      "\xf6\x6a" "public_key" "\xf6";
    tcn_buf b = {0};
    assert_int_equal(tcn_nitro_nsm_encode_attestation_request(NULL, 0, NULL, 0, NULL, 0, &b, &err), TCN_OK);
    assert_int_equal(b.len, sizeof(all_null) - 1);
    assert_memory_equal(b.p, all_null, b.len);
    tcn_buf_free(&b);
    /* Caller mistakes. */
    assert_int_equal(tcn_nitro_nsm_encode_attestation_request(ud, TCN_NITRO_FIELD_MAX + 1, NULL, 0, NULL, 0, &b, &err),
                     TCN_ERR_USAGE);
    expect_msg(&err, "'user_data' has 1025 bytes");
    assert_int_equal(tcn_nitro_nsm_encode_attestation_request(NULL, 0, NULL, 3, NULL, 0, &b, &err), TCN_ERR_USAGE);
    expect_msg(&err, "'nonce' is NULL");
    assert_int_equal(b.len, 0);
    tcn_buf_free(&b);
}

/* {"<variant>": value} serialized by libcbor. value is consumed. */
static uint8_t *response_with(const char *variant, cbor_item_t *value, size_t *len)
{
    cbor_item_t *m = cbor_new_definite_map(1);
    map_put(m, cbor_build_string(variant), value);
    uint8_t *out = serialize(m, len);
    cbor_decref(&m);
    return out;
}

static cbor_item_t *attestation_body(const char *field, cbor_item_t *v)
{
    cbor_item_t *m = cbor_new_definite_map(2); /* room for one more */
    map_put(m, cbor_build_string(field), v);
    return m;
}

static void expect_response_rejected(const uint8_t *p, size_t n, int code, const char *needle)
{
    const uint8_t *doc = NULL;
    size_t dlen = 0;
    tcn_error err;
    tcn_err_clear(&err);
    int rc = tcn_nitro_nsm_decode_attestation_response(p, n, &doc, &dlen, &err);
    if (rc != code)
        fprintf(stderr, "response: got %s: %s\n", tcn_err_name(rc), err.msg);
    assert_int_equal(rc, code);
    if (needle != NULL)
        expect_msg(&err, needle);
}

static void test_nsm_response(void **state)
{
    (void)state;
    tcn_error err;
    for (size_t s = 0; s < TCN_ARRAY_LEN(samples); s++) {
        size_t len, rlen;
        uint8_t *doc = read_doc(samples[s], &len);
        uint8_t *resp = response_with("Attestation", attestation_body("document", bytes_item(doc, len)), &rlen);
        assert_true(rlen <= TCN_NITRO_NSM_RESPONSE_MAX);
        const uint8_t *got = NULL;
        size_t glen = 0;
        assert_int_equal(tcn_nitro_nsm_decode_attestation_response(resp, rlen, &got, &glen, &err), TCN_OK);
        assert_true(got >= resp && got + glen == resp + rlen); /* points into the response */
        assert_int_equal(glen, len);
        assert_memory_equal(got, doc, len);
        tcn_err_clear(&err);
        assert_int_equal(tcn_nitro_verify(got, glen, -1, &g_claims, &err), TCN_OK);
        if (s == 0) {
            /* Every truncation, and one trailing byte, are refused. */
            for (size_t n = 0; n < rlen; n++) {
                uint8_t *t = malloc(n ? n : 1);
                memcpy(t, resp, n);
                const uint8_t *dd;
                size_t dl;
                int rc = tcn_nitro_nsm_decode_attestation_response(t, n, &dd, &dl, &err);
                assert_true(rc == TCN_ERR_TRUNCATED || rc == TCN_ERR_MALFORMED);
                free(t);
            }
            uint8_t *x = malloc(rlen + 1);
            memcpy(x, resp, rlen);
            x[rlen] = 0xf6;
            expect_response_rejected(x, rlen + 1, TCN_ERR_MALFORMED, "trailing");
            free(x);
        }
        free(resp);
        free(doc);
    }

    size_t n;
    uint8_t *r = response_with("Error", cbor_build_string("InvalidArgument"), &n);
    expect_response_rejected(r, n, TCN_ERR_IO, "InvalidArgument");
    free(r);
    r = response_with("Error", cbor_build_string("Internal\x01" "Error"), &n);
    expect_response_rejected(r, n, TCN_ERR_IO, "Internal?Error");
    free(r);
    r = response_with("Error", cbor_build_uint8(3), &n);
    expect_response_rejected(r, n, TCN_ERR_MALFORMED, "error code");
    free(r);
    r = response_with("Attestation", cbor_new_definite_map(0), &n);
    expect_response_rejected(r, n, TCN_ERR_MALFORMED, "'Attestation' has 0 fields");
    free(r);
    r = response_with("Attestation", attestation_body("document", cbor_build_string("doc")), &n);
    expect_response_rejected(r, n, TCN_ERR_MALFORMED, "'document' is not a byte string");
    free(r);
    r = response_with("Attestation", attestation_body("document", bytes_of(0, 0)), &n);
    expect_response_rejected(r, n, TCN_ERR_MALFORMED, "'document' is empty");
    free(r);
    r = response_with("Attestation", attestation_body("doc", bytes_of(4, 1)), &n);
    expect_response_rejected(r, n, TCN_ERR_MALFORMED, "expected 'document'");
    free(r);
    {
        cbor_item_t *body = attestation_body("document", bytes_of(4, 1));
        map_put(body, cbor_build_string("x"), cbor_new_null());
        r = response_with("Attestation", body, &n);
        expect_response_rejected(r, n, TCN_ERR_MALFORMED, "2 fields");
        free(r);
    }
    r = response_with("DescribePCR", attestation_body("data", bytes_of(48, 0)), &n);
    expect_response_rejected(r, n, TCN_ERR_MALFORMED, "variant 'DescribePCR'");
    free(r);
    r = response_with("Attestation", cbor_new_definite_array(0), &n);
    expect_response_rejected(r, n, TCN_ERR_MALFORMED, "'Attestation' is not a map");
    free(r);
    static const uint8_t lockpcr[] = "\x67LockPCR";
    expect_response_rejected(lockpcr, sizeof(lockpcr) - 1, TCN_ERR_MALFORMED, "expected a map");
    static const uint8_t two[] = "\xa2\x61" "a" "\xf6\x61" "b" "\xf6";
    expect_response_rejected(two, sizeof(two) - 1, TCN_ERR_MALFORMED, "2 entries");
    static const uint8_t intkey[] = "\xa1\x01\xf6";
    expect_response_rejected(intkey, sizeof(intkey) - 1, TCN_ERR_MALFORMED, "variant name");
    static const uint8_t indefinite[] = "\xbf\x65" "Error" "\x61" "x" "\xff";
    expect_response_rejected(indefinite, sizeof(indefinite) - 1, TCN_ERR_MALFORMED, "indefinite");
    static const uint8_t huge[] = "\xa1\x6b" "Attestation" "\xa1\x68" "document" "\x5a\xff\xff\xff\xff";
    expect_response_rejected(huge, sizeof(huge) - 1, TCN_ERR_TRUNCATED, NULL);
    expect_response_rejected((const uint8_t *)"", 0, TCN_ERR_TRUNCATED, "empty");
    uint8_t *big = calloc(1, TCN_NITRO_NSM_RESPONSE_MAX + 1);
    expect_response_rejected(big, TCN_NITRO_NSM_RESPONSE_MAX + 1, TCN_ERR_TOO_LARGE, NULL);
    free(big);
}

/* The device path: no NSM here, so only the failures can be exercised. */
static void test_nsm_device_errors(void **state)
{
    (void)state;
    uint8_t rd[64] = {0};
    tcn_buf out = {0};
    tcn_error err;
    assert_int_equal(tcn_nitro_nsm_attest("/nonexistent/nsm", rd, &out, &err), TCN_ERR_NOT_FOUND);
    expect_msg(&err, "/nonexistent/nsm");
    /* /dev/null opens but has no such ioctl (ENOTTY). */
    assert_int_equal(tcn_nitro_nsm_attest("/dev/null", rd, &out, &err), TCN_ERR_IO);
    expect_msg(&err, "ioctl");
    assert_int_equal(out.len, 0);
    tcn_buf_free(&out);
}

int main(void)
{
    if (!tcn_test_have_testdata(NITRO_DIR PROD_SAMPLE "/attestation_doc.cbor"))
        return TCN_TEST_SKIP;
    if (tcn_crypto_init() != TCN_OK)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_samples_verify),   cmocka_unit_test(test_verification_time),
        cmocka_unit_test(test_protected_header), cmocka_unit_test(test_envelope),
        cmocka_unit_test(test_payload_fields),   cmocka_unit_test(test_untrusted_root),
        cmocka_unit_test(test_truncations),      cmocka_unit_test(test_random_garbage),
        cmocka_unit_test(test_bit_flips),        cmocka_unit_test(test_cache_and_speed),
        cmocka_unit_test(test_nsm_request),      cmocka_unit_test(test_nsm_response),
        cmocka_unit_test(test_nsm_device_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
