/* Unit tests for the DCAP verifier: the five real quotes of shared/testdata
 * give exactly their documented verdicts; time windows; every bit flip and
 * truncation of the signed parts is rejected; garbage; collateral
 * tampering; wrong roots; and the pure TCB rules on synthetic levels. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "attest/dcap.h"
#include "attest/dcap_collateral.h"
#include "attest/dcap_quote.h"
#include "attest/x509.h"
#include "testlib.h"
#include "util/encoding.h"
#include "util/secmem.h"
#include "util/timefmt.h"

#define DAY_MS (86400LL * 1000)

/* ---- the samples ------------------------------------------------------------ */

enum { PHALA_SGX, MOBILECOIN, PHALA_TDX, GOOGLE_TDX, TD15, N_SAMPLES };

static const char *const sample_dirs[N_SAMPLES] = {
    "attestation/sgx_dcap/sgx_v3_phala_dcap_qvl",
    "attestation/sgx_dcap/sgx_v3_mobilecoin",
    "attestation/sgx_dcap/tdx_v4_phala_dcap_qvl",
    "attestation/sgx_dcap/tdx_v4_google_go_tdx_guest",
    "attestation/sgx_dcap/tdx_v5_td15_phala_dcap_qvl_no_tcb_match",
};

typedef struct sample {
    uint8_t *quote;
    size_t len;
    tcn_dcap_collateral col;
    json_t *expected;
    int64_t at_ms; /* recommended_verification_time */
} sample;

static sample S[N_SAMPLES];

static char *path_in(int i, const char *file)
{
    static char buf[512];
    snprintf(buf, sizeof(buf), "%s/%s", sample_dirs[i], file);
    return buf;
}

static int64_t t_ms(const char *s)
{
    int64_t ms = 0;
    tcn_error err;
    assert_int_equal(tcn_time_parse_rfc3339(s, &ms, &err), TCN_OK);
    return ms;
}

static int load_samples(void **state)
{
    (void)state;
    for (int i = 0; i < N_SAMPLES; i++) {
        S[i].quote = tcn_test_read(path_in(i, "quote.bin"), &S[i].len);
        size_t jl;
        uint8_t *j = tcn_test_read(path_in(i, "expected.json"), &jl);
        json_error_t jerr;
        S[i].expected = json_loadb((const char *)j, jl, 0, &jerr);
        free(j);
        assert_non_null(S[i].expected);
        S[i].at_ms = t_ms(json_string_value(json_object_get(S[i].expected, "recommended_verification_time")));
        char dir[512];
        snprintf(dir, sizeof(dir), "%s", tcn_test_path(sample_dirs[i]));
        tcn_error err;
        int rc = tcn_dcap_collateral_load_dir(dir, &S[i].col, &err);
        if (rc != TCN_OK)
            fprintf(stderr, "collateral %s: %s\n", dir, err.msg);
        assert_int_equal(rc, TCN_OK);
    }
    return 0;
}

static int free_samples(void **state)
{
    (void)state;
    for (int i = 0; i < N_SAMPLES; i++) {
        free(S[i].quote);
        tcn_dcap_collateral_free(&S[i].col);
        json_decref(S[i].expected);
    }
    tcn_dcap_cache_clear();
    return 0;
}

/* expected.json lookups: "a.b.c" */
static json_t *ex(int i, const char *dotted)
{
    char key[256];
    snprintf(key, sizeof(key), "%s", dotted);
    json_t *j = S[i].expected;
    for (char *save = NULL, *k = strtok_r(key, ".", &save); k != NULL; k = strtok_r(NULL, ".", &save))
        j = json_object_get(j, k);
    if (j == NULL)
        fprintf(stderr, "expected.json of %s has no %s\n", sample_dirs[i], dotted);
    assert_non_null(j);
    return j;
}

static const char *ex_str(int i, const char *dotted) { return json_string_value(ex(i, dotted)); }
static long long ex_int(int i, const char *dotted) { return (long long)json_integer_value(ex(i, dotted)); }

static void assert_hex(const uint8_t *p, size_t n, const char *hex)
{
    char *got = tcn_hex_dup(p, n);
    assert_non_null(got);
    if (strcasecmp(got, hex) != 0)
        fprintf(stderr, "hex mismatch:\n  got  %s\n  want %s\n", got, hex);
    assert_int_equal(strcasecmp(got, hex), 0);
    free(got);
}

static int verify_at(const uint8_t *q, size_t len, const tcn_dcap_collateral *col, int64_t at, tcn_claims *cl,
                     tcn_error *err)
{
    tcn_err_clear(err);
    memset(cl, 0, sizeof(*cl));
    return tcn_dcap_verify(q, len, col, at, cl, err);
}

/* Evaluates rc once: it is often the call under test. */
#define EXPECT_RC(rc, want, err)                                                                          \
    do {                                                                                                  \
        int expect_rc_ = (rc);                                                                            \
        if (expect_rc_ != (want))                                                                         \
            fprintf(stderr, "got %s (%s), want %s\n", tcn_err_name(expect_rc_), (err).msg,                \
                    tcn_err_name(want));                                                                  \
        assert_int_equal(expect_rc_, (want));                                                             \
    } while (0)

#define EXPECT_MSG(err, needle)                                                                           \
    do {                                                                                                  \
        if (strstr((err).msg, (needle)) == NULL)                                                          \
            fprintf(stderr, "message '%s' lacks '%s'\n", (err).msg, (needle));                            \
        assert_non_null(strstr((err).msg, (needle)));                                                     \
    } while (0)

static void assert_advisories(const tcn_claims *cl, json_t *want)
{
    assert_int_equal(cl->advisory_count, json_array_size(want));
    for (size_t k = 0; k < json_array_size(want); k++) {
        bool found = false;
        for (size_t m = 0; m < cl->advisory_count; m++)
            found = found || strcmp(cl->advisory_ids[m], json_string_value(json_array_get(want, k))) == 0;
        assert_true(found);
    }
}

/* Claims against expected.json's report body and the source's verdict. */
static void assert_claims(int i, const tcn_claims *cl, const char *status, json_t *advisories)
{
    assert_string_equal(tcn_tcb_status_name(cl->tcb_status), status);
    assert_advisories(cl, advisories);
    assert_true(cl->report_data_present);
    assert_hex(cl->report_data, 64, ex_str(i, "report_body.report_data"));
    assert_int_equal(cl->timestamp_ms, 0);
    uint8_t attr[16];
    tcn_error err;
    if (ex_int(i, "quote.tee_type") == 0) {
        assert_int_equal(cl->tee, TCN_TEE_SGX);
        assert_int_equal(cl->measurement_len, 32);
        assert_hex(cl->measurement, 32, ex_str(i, "report_body.mr_enclave"));
        assert_int_equal(cl->signer_len, 32);
        assert_hex(cl->signer, 32, ex_str(i, "report_body.mr_signer"));
        assert_int_equal(cl->product_id, ex_int(i, "report_body.isv_prod_id"));
        assert_int_equal(cl->svn, ex_int(i, "report_body.isv_svn"));
        assert_int_equal(tcn_hex_decode_exact(ex_str(i, "report_body.attributes"), attr, 16, &err), TCN_OK);
        assert_int_equal(cl->debug, (attr[0] & 0x02) != 0);
    } else {
        assert_int_equal(cl->tee, TCN_TEE_TDX);
        assert_int_equal(cl->measurement_len, 48);
        assert_hex(cl->measurement, 48, ex_str(i, "report_body.mr_td"));
        assert_int_equal(cl->signer_len, 0);
        assert_int_equal(cl->product_id, 0);
        assert_int_equal(cl->svn, 0);
        static const char *const rt[4] = {"report_body.rtmr0", "report_body.rtmr1", "report_body.rtmr2",
                                          "report_body.rtmr3"};
        for (int r = 0; r < 4; r++)
            assert_hex(cl->rtmr[r], 48, ex_str(i, rt[r]));
        assert_int_equal(tcn_hex_decode_exact(ex_str(i, "report_body.td_attributes"), attr, 8, &err), TCN_OK);
        assert_int_equal(cl->debug, (attr[0] & 0x01) != 0);
    }
    assert_false(cl->debug); /* none of the samples is a debug enclave */
}

/* ---- verdicts at the recommended times -------------------------------------------- */

static void test_phala_sgx(void **state)
{
    (void)state;
    tcn_claims cl;
    tcn_error err;
    int rc = verify_at(S[PHALA_SGX].quote, S[PHALA_SGX].len, &S[PHALA_SGX].col, S[PHALA_SGX].at_ms, &cl, &err);
    EXPECT_RC(rc, TCN_OK, err);
    assert_string_equal(ex_str(PHALA_SGX, "expected_by_source_repository.status"),
                        "ConfigurationAndSWHardeningNeeded");
    assert_claims(PHALA_SGX, &cl, ex_str(PHALA_SGX, "expected_by_source_repository.status"),
                  ex(PHALA_SGX, "expected_by_source_repository.advisory_ids"));
    assert_string_equal(cl.advisory_ids[0], "INTEL-SA-00289");
    assert_string_equal(cl.advisory_ids[1], "INTEL-SA-00615");
    /* Twice more, through the warm caches and after clearing them. */
    rc = verify_at(S[PHALA_SGX].quote, S[PHALA_SGX].len, &S[PHALA_SGX].col, S[PHALA_SGX].at_ms, &cl, &err);
    EXPECT_RC(rc, TCN_OK, err);
    tcn_dcap_cache_clear();
    rc = verify_at(S[PHALA_SGX].quote, S[PHALA_SGX].len, &S[PHALA_SGX].col, S[PHALA_SGX].at_ms, &cl, &err);
    EXPECT_RC(rc, TCN_OK, err);
    assert_int_equal(cl.tcb_status, TCN_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED);
}

static void test_mobilecoin(void **state)
{
    (void)state;
    tcn_claims cl;
    tcn_error err;
    sample *s = &S[MOBILECOIN];
    assert_int_equal(s->at_ms, t_ms("2023-07-20T00:00:00Z"));
    int rc = verify_at(s->quote, s->len, &s->col, s->at_ms, &cl, &err);
    EXPECT_RC(rc, TCN_ERR_EXPIRED, err);
    EXPECT_MSG(err, "PCK CRL expired");
    EXPECT_MSG(err, "2023-05-21T22:00:36Z");
    /* Without the CRL pair everything else is right. */
    tcn_dcap_collateral c = s->col;
    c.pck_crl = (tcn_slice){NULL, 0};
    c.root_ca_crl = (tcn_slice){NULL, 0};
    rc = verify_at(s->quote, s->len, &c, s->at_ms, &cl, &err);
    EXPECT_RC(rc, TCN_OK, err);
    assert_claims(MOBILECOIN, &cl, "SWHardeningNeeded", ex(MOBILECOIN, "expected_by_source_repository.advisory_ids"));
    assert_string_equal(ex_str(MOBILECOIN, "expected_by_source_repository.status"), "SWHardeningNeeded");
    /* Exactly one of the pair is an error. */
    c.pck_crl = s->col.pck_crl;
    rc = verify_at(s->quote, s->len, &c, s->at_ms, &cl, &err);
    EXPECT_RC(rc, TCN_ERR_COLLATERAL, err);
    EXPECT_MSG(err, "go together");
    c.pck_crl = (tcn_slice){NULL, 0};
    c.root_ca_crl = s->col.root_ca_crl;
    rc = verify_at(s->quote, s->len, &c, s->at_ms, &cl, &err);
    EXPECT_RC(rc, TCN_ERR_COLLATERAL, err);
}

static void test_phala_tdx(void **state)
{
    (void)state;
    tcn_claims cl;
    tcn_error err;
    sample *s = &S[PHALA_TDX];
    int rc = verify_at(s->quote, s->len, &s->col, s->at_ms, &cl, &err);
    EXPECT_RC(rc, TCN_OK, err);
    assert_claims(PHALA_TDX, &cl, "UpToDate", ex(PHALA_TDX, "expected_by_source_repository.advisory_ids"));
    assert_int_equal(cl.advisory_count, 0);
}

static void test_google_tdx(void **state)
{
    (void)state;
    tcn_claims cl;
    tcn_error err;
    sample *s = &S[GOOGLE_TDX];
    assert_int_equal(s->at_ms, t_ms("2023-07-01T01:00:00Z"));
    int rc = verify_at(s->quote, s->len, &s->col, s->at_ms, &cl, &err);
    EXPECT_RC(rc, TCN_ERR_NO_TCB_MATCH, err);
    EXPECT_MSG(err, "PCK SGX component 1 is 3, every level requires >= 5");
    EXPECT_MSG(err, "TEE_TCB_SVN[2] is 4, every level requires >= 5");
}

static void test_td15(void **state)
{
    (void)state;
    tcn_claims cl;
    tcn_error err;
    sample *s = &S[TD15];
    assert_int_equal(s->at_ms, t_ms("2026-03-01T00:00:00Z"));
    int rc = verify_at(s->quote, s->len, &s->col, s->at_ms, &cl, &err);
    EXPECT_RC(rc, TCN_ERR_NO_TCB_MATCH, err);
    EXPECT_MSG(err, "PCK SGX component 8 is 3, every level requires >= 5");
}

/* ---- the parser against expected.json ------------------------------------------------ */

static void parse_sample(int i, tcn_dcap_quote *q)
{
    tcn_error err;
    int rc = tcn_dcap_quote_parse(S[i].quote, S[i].len, q, &err);
    EXPECT_RC(rc, TCN_OK, err);
}

static void pck_ext_of(int i, tcn_dcap_pck_ext *out)
{
    tcn_dcap_quote q;
    parse_sample(i, &q);
    STACK_OF(X509) *chain = NULL;
    tcn_error err;
    assert_int_equal(tcn_x509_parse_pem_chain(q.cert_data.p, q.cert_data.len, &chain, &err), TCN_OK);
    X509 *leaf = sk_X509_value(chain, 0);
    ASN1_OBJECT *oid = OBJ_txt2obj("1.2.840.113741.1.13.1", 1);
    int idx = X509_get_ext_by_OBJ(leaf, oid, -1);
    ASN1_OBJECT_free(oid);
    assert_true(idx >= 0);
    ASN1_OCTET_STRING *v = X509_EXTENSION_get_data(X509_get_ext(leaf, idx));
    int rc = tcn_dcap_pck_ext_parse(ASN1_STRING_get0_data(v), (size_t)ASN1_STRING_length(v), out, &err);
    EXPECT_RC(rc, TCN_OK, err);
    sk_X509_pop_free(chain, X509_free);
}

static void test_parse_layout(void **state)
{
    (void)state;
    for (int i = 0; i < N_SAMPLES; i++) {
        tcn_dcap_quote q;
        parse_sample(i, &q);
        assert_int_equal(q.version, ex_int(i, "quote.version"));
        assert_int_equal(q.att_key_type, ex_int(i, "quote.attestation_key_type"));
        assert_int_equal(q.tee_type, ex_int(i, "quote.tee_type"));
        assert_int_equal(q.signed_len, ex_int(i, "quote.signed_region_length"));
        assert_int_equal(q.sig_data_len, ex_int(i, "quote.signature_data_length"));
        assert_int_equal(q.trailing_len, ex_int(i, "quote.trailing_bytes_after_signature_data"));
        assert_int_equal(q.qe_auth_data.len, ex_int(i, "quote.qe_auth_data_length"));
        assert_int_equal(q.cert_type, ex_int(i, "quote.certification_data_type"));
        json_t *outer = ex(i, "quote.outer_certification_data_type");
        assert_int_equal(q.outer_cert_type, json_is_null(outer) ? 0 : json_integer_value(outer));
        assert_int_equal(q.qe_svn, ex_int(i, "quote.qe_svn"));
        assert_int_equal(q.pce_svn, ex_int(i, "quote.pce_svn"));
        assert_hex(q.qe_vendor_id, 16, ex_str(i, "quote.qe_vendor_id"));
        assert_hex(q.user_data, 20, ex_str(i, "quote.header_user_data"));
        const char *kind = ex_str(i, "quote.body_kind");
        assert_int_equal(q.body_kind, strcmp(kind, "sgx") == 0    ? TCN_DCAP_BODY_SGX
                                      : strcmp(kind, "td10") == 0 ? TCN_DCAP_BODY_TD10
                                                                  : TCN_DCAP_BODY_TD15);
        assert_hex(q.qe_report.mrenclave, 32, ex_str(i, "qe_report.mr_enclave"));
        assert_hex(q.qe_report.mrsigner, 32, ex_str(i, "qe_report.mr_signer"));
        assert_hex(q.qe_report.attributes, 16, ex_str(i, "qe_report.attributes"));
        assert_hex(q.qe_report.report_data, 64, ex_str(i, "qe_report.report_data"));
        assert_int_equal(q.qe_report.isvprodid, ex_int(i, "qe_report.isv_prod_id"));
        assert_int_equal(q.qe_report.isvsvn, ex_int(i, "qe_report.isv_svn"));
        if (q.body_kind == TCN_DCAP_BODY_SGX) {
            assert_hex(q.sgx.mrenclave, 32, ex_str(i, "report_body.mr_enclave"));
            assert_hex(q.sgx.cpusvn, 16, ex_str(i, "report_body.cpu_svn"));
            assert_hex(q.sgx.attributes, 16, ex_str(i, "report_body.attributes"));
        } else {
            assert_hex(q.td.tee_tcb_svn, 16, ex_str(i, "report_body.tee_tcb_svn"));
            assert_hex(q.td.mr_seam, 48, ex_str(i, "report_body.mr_seam"));
            assert_hex(q.td.mr_signer_seam, 48, ex_str(i, "report_body.mr_signer_seam"));
            assert_hex(q.td.seam_attributes, 8, ex_str(i, "report_body.seam_attributes"));
            assert_hex(q.td.td_attributes, 8, ex_str(i, "report_body.td_attributes"));
            assert_hex(q.td.xfam, 8, ex_str(i, "report_body.xfam"));
            assert_hex(q.td.mr_config_id, 48, ex_str(i, "report_body.mr_config_id"));
            assert_hex(q.td.mr_owner, 48, ex_str(i, "report_body.mr_owner"));
            assert_hex(q.td.mr_owner_config, 48, ex_str(i, "report_body.mr_owner_config"));
            if (q.body_kind == TCN_DCAP_BODY_TD15) {
                assert_hex(q.td.tee_tcb_svn2, 16, ex_str(i, "report_body.tee_tcb_svn2"));
                assert_hex(q.td.mr_servicetd, 48, ex_str(i, "report_body.mr_service_td"));
            }
        }
        /* The PCK certificate's SGX extension. */
        tcn_dcap_pck_ext x;
        pck_ext_of(i, &x);
        assert_hex(x.fmspc, 6, ex_str(i, "pck_certificate.fmspc"));
        assert_hex(x.pceid, 2, ex_str(i, "pck_certificate.pceid"));
        assert_hex(x.ppid, 16, ex_str(i, "pck_certificate.ppid"));
        assert_hex(x.cpusvn, 16, ex_str(i, "pck_certificate.cpusvn"));
        assert_int_equal(x.pcesvn, ex_int(i, "pck_certificate.pcesvn"));
        assert_int_equal(x.sgx_type, ex_int(i, "pck_certificate.sgx_type"));
        json_t *comps = ex(i, "pck_certificate.cpusvn_components");
        assert_int_equal(json_array_size(comps), 16);
        for (size_t k = 0; k < 16; k++)
            assert_int_equal(x.tcb_comp[k], json_integer_value(json_array_get(comps, k)));
    }
}

/* ---- time --------------------------------------------------------------------------- */

static void test_time_windows(void **state)
{
    (void)state;
    for (int i = 0; i < N_SAMPLES; i++) {
        sample *s = &S[i];
        tcn_claims cl;
        tcn_error err;
        json_t *win = ex(i, "collateral.tcb_info_issue_next");
        int64_t issue = t_ms(json_string_value(json_array_get(win, 0)));
        int64_t next = t_ms(json_string_value(json_array_get(win, 1)));
        int rc = verify_at(s->quote, s->len, &s->col, next + DAY_MS, &cl, &err);
        EXPECT_RC(rc, TCN_ERR_EXPIRED, err);
        EXPECT_MSG(err, "TCB info expired (nextUpdate");
        rc = verify_at(s->quote, s->len, &s->col, issue - DAY_MS, &cl, &err);
        EXPECT_RC(rc, TCN_ERR_NOT_YET_VALID, err);
        EXPECT_MSG(err, "TCB info not yet valid (issueDate");
        /* nextUpdate itself is outside the window. */
        rc = verify_at(s->quote, s->len, &s->col, next, &cl, &err);
        assert_int_not_equal(rc, TCN_OK);
    }
    tcn_claims cl;
    tcn_error err;
    sample *s = &S[PHALA_SGX];
    int rc = verify_at(s->quote, s->len, &s->col, t_ms("2025-08-01T00:00:00Z"), &cl, &err);
    EXPECT_RC(rc, TCN_ERR_EXPIRED, err);
    assert_string_equal(err.msg, "dcap: TCB info expired (nextUpdate 2025-07-19T10:56:11Z, verification time "
                                 "2025-08-01T00:00:00Z)");
    /* QE identity runs out 55 minutes before the TCB info does. */
    rc = verify_at(s->quote, s->len, &s->col, t_ms("2025-07-19T10:30:00Z"), &cl, &err);
    EXPECT_RC(rc, TCN_ERR_EXPIRED, err);
    EXPECT_MSG(err, "QE identity expired (nextUpdate 2025-07-19T10:01:18Z");
    /* The source repository's own time, one second before the first nextUpdate. */
    rc = verify_at(s->quote, s->len, &s->col, t_ms("2025-07-19T10:01:17Z"), &cl, &err);
    EXPECT_RC(rc, TCN_OK, err);
    /* TDX: the PCK CRL runs out first (10:00:35Z; TCB info 10:16:03Z, QE identity 10:32:27Z). */
    s = &S[PHALA_TDX];
    rc = verify_at(s->quote, s->len, &s->col, t_ms("2025-07-19T10:10:00Z"), &cl, &err);
    EXPECT_RC(rc, TCN_ERR_EXPIRED, err);
    EXPECT_MSG(err, "PCK CRL expired");
}

/* ---- corruption: bit flips, truncations, garbage --------------------------------------- */

static void expect_rejected(const uint8_t *q, size_t len, const tcn_dcap_collateral *col, int64_t at,
                            const char *what, size_t where)
{
    tcn_claims cl;
    tcn_error err;
    int rc = verify_at(q, len, col, at, &cl, &err);
    tcn_err_category cat = tcn_err_category_of(rc);
    if (rc == TCN_OK || (cat != TCN_CAT_PROTO && cat != TCN_CAT_AUTH))
        fprintf(stderr, "%s at %zu: %s (%s)\n", what, where, tcn_err_name(rc), err.msg);
    assert_int_not_equal(rc, TCN_OK);
    assert_true(cat == TCN_CAT_PROTO || cat == TCN_CAT_AUTH);
}

static size_t flip_region(int i, size_t off, size_t n, const char *what)
{
    sample *s = &S[i];
    uint8_t *q = malloc(s->len);
    assert_non_null(q);
    memcpy(q, s->quote, s->len);
    size_t count = 0;
    for (size_t b = off; b < off + n; b++) {
        for (int bit = 0; bit < 8; bit++) {
            q[b] ^= (uint8_t)(1u << bit);
            expect_rejected(q, s->len, &s->col, s->at_ms, what, b);
            q[b] ^= (uint8_t)(1u << bit);
            count++;
        }
    }
    free(q);
    return count;
}

static void flip_all(int i)
{
    tcn_dcap_quote q;
    parse_sample(i, &q);
    size_t n = 0;
    n += flip_region(i, 0, q.signed_len, "header+body");
    n += flip_region(i, q.sig_data_off, TCN_DCAP_ECDSA_SIG_LEN, "quote signature");
    n += flip_region(i, q.sig_data_off + TCN_DCAP_ECDSA_SIG_LEN, TCN_DCAP_ATT_KEY_LEN, "attestation key");
    n += flip_region(i, q.qe_report_off, TCN_DCAP_SGX_REPORT_LEN, "QE report");
    n += flip_region(i, q.qe_report_off + TCN_DCAP_SGX_REPORT_LEN, TCN_DCAP_ECDSA_SIG_LEN, "QE report signature");
    n += flip_region(i, (size_t)(q.qe_auth_data.p - S[i].quote), q.qe_auth_data.len, "QE auth data");
    printf("  %s: %zu single-bit flips rejected\n", sample_dirs[i], n);
    assert_true(n > 8 * 1000);
}

static void test_bit_flips_sgx(void **state)
{
    (void)state;
    flip_all(PHALA_SGX);
}

static void test_bit_flips_tdx(void **state)
{
    (void)state;
    flip_all(PHALA_TDX);
}

static void test_truncations(void **state)
{
    (void)state;
    for (int i = 0; i < N_SAMPLES; i++) {
        tcn_dcap_quote q;
        parse_sample(i, &q);
        size_t end = q.sig_data_off + q.sig_data_len; /* the trailing bytes are not part of the quote */
        assert_int_equal(end + q.trailing_len, S[i].len);
        for (size_t n = 0; n < end; n++)
            expect_rejected(S[i].quote, n, &S[i].col, S[i].at_ms, "truncated to", n);
    }
    /* The TDX samples verify the same with and without their trailing bytes. */
    sample *s = &S[PHALA_TDX];
    tcn_dcap_quote q;
    parse_sample(PHALA_TDX, &q);
    assert_int_equal(q.trailing_len, 70);
    tcn_claims cl;
    tcn_error err;
    int rc = verify_at(s->quote, s->len - q.trailing_len, &s->col, s->at_ms, &cl, &err);
    EXPECT_RC(rc, TCN_OK, err);
    parse_sample(GOOGLE_TDX, &q);
    assert_int_equal(q.trailing_len, 39);
    assert_memory_equal(S[GOOGLE_TDX].quote + S[GOOGLE_TDX].len - 39, "\nextra bytes(only for testing purpose)\n", 39);
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t rng(void)
{
    /* xorshift64*: deterministic, seeded above */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545f4914f6cdd1dULL;
}

static void test_garbage(void **state)
{
    (void)state;
    uint8_t *buf = malloc(8192);
    assert_non_null(buf);
    for (int k = 0; k < 1000; k++) {
        size_t len = (size_t)(rng() % 8192);
        for (size_t b = 0; b < len; b++)
            buf[b] = (uint8_t)rng();
        /* Half of them start like a real quote so the parser goes deeper. */
        int base = k % 4 == 1 ? PHALA_SGX : k % 4 == 3 ? PHALA_TDX : -1;
        if (base >= 0) {
            /* Shorter than the declared quote (the TDX one has trailing bytes). */
            size_t keep = (size_t)(rng() % 4500);
            if (keep > len)
                keep = len;
            memcpy(buf, S[base].quote, keep);
        }
        expect_rejected(buf, len, &S[k % 2 ? PHALA_TDX : PHALA_SGX].col, S[PHALA_SGX].at_ms, "garbage", (size_t)k);
    }
    free(buf);
}

/* ---- parser edge cases -------------------------------------------------------------------- */

static void put_u16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void put_u32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static int parse_modified(int i, size_t off, const void *bytes, size_t n, tcn_error *err)
{
    uint8_t *q = malloc(S[i].len);
    assert_non_null(q);
    memcpy(q, S[i].quote, S[i].len);
    memcpy(q + off, bytes, n);
    tcn_dcap_quote pq;
    int rc = tcn_dcap_quote_parse(q, S[i].len, &pq, err);
    free(q);
    return rc;
}

static void test_parser_edges(void **state)
{
    (void)state;
    tcn_error err;
    uint8_t b[4];
    put_u16(b, 6);
    EXPECT_RC(parse_modified(PHALA_SGX, 0, b, 2, &err), TCN_ERR_UNSUPPORTED, err);
    EXPECT_MSG(err, "version 6");
    put_u16(b, 3);
    EXPECT_RC(parse_modified(PHALA_SGX, 2, b, 2, &err), TCN_ERR_UNSUPPORTED, err);
    EXPECT_MSG(err, "attestation key type 3");
    put_u32(b, 0x81);
    EXPECT_RC(parse_modified(PHALA_SGX, 4, b, 4, &err), TCN_ERR_UNSUPPORTED, err);
    put_u32(b, 0x82);
    EXPECT_RC(parse_modified(PHALA_TDX, 4, b, 4, &err), TCN_ERR_UNSUPPORTED, err);
    put_u16(b, 4);
    EXPECT_RC(parse_modified(TD15, 48, b, 2, &err), TCN_ERR_UNSUPPORTED, err);
    EXPECT_MSG(err, "body type 4");
    put_u16(b, 2);
    EXPECT_RC(parse_modified(TD15, 48, b, 2, &err), TCN_ERR_MALFORMED, err);
    EXPECT_MSG(err, "declares size 648, must be 584");
    put_u16(b, 1);
    EXPECT_RC(parse_modified(TD15, 48, b, 2, &err), TCN_ERR_MALFORMED, err);
    tcn_dcap_quote q;
    parse_sample(PHALA_TDX, &q);
    put_u16(b, 5);
    EXPECT_RC(parse_modified(PHALA_TDX, q.sig_data_off + 128, b, 2, &err), TCN_ERR_UNSUPPORTED, err);
    EXPECT_MSG(err, "outer certification data type is 5");
    /* A signature data length one byte longer than its content, with the byte there. */
    put_u32(b, (uint32_t)q.sig_data_len + 1);
    EXPECT_RC(parse_modified(PHALA_TDX, q.signed_len, b, 4, &err), TCN_ERR_MALFORMED, err);
    EXPECT_MSG(err, "unparsed bytes inside the declared signature data");
    /* ... and far beyond the input. */
    put_u32(b, 0xffffffffu);
    EXPECT_RC(parse_modified(PHALA_SGX, 432, b, 4, &err), TCN_ERR_TRUNCATED, err);
    /* An inner certification data size that overruns the outer container. */
    parse_sample(PHALA_TDX, &q);
    put_u32(b, (uint32_t)q.cert_data.len + 1);
    EXPECT_RC(parse_modified(PHALA_TDX, (size_t)(q.cert_data.p - S[PHALA_TDX].quote) - 4, b, 4, &err),
              TCN_ERR_TRUNCATED, err);
    /* Over the size limit. */
    uint8_t *big = calloc(1, TCN_DCAP_QUOTE_MAX + 1);
    assert_non_null(big);
    tcn_dcap_quote pq;
    EXPECT_RC(tcn_dcap_quote_parse(big, TCN_DCAP_QUOTE_MAX + 1, &pq, &err), TCN_ERR_TOO_LARGE, err);
    free(big);
    EXPECT_RC(tcn_dcap_quote_parse(NULL, 0, &pq, &err), TCN_ERR_TRUNCATED, err);
    /* Vendor ID: parses, but verify refuses it. */
    uint8_t *v = malloc(S[PHALA_SGX].len);
    assert_non_null(v);
    memcpy(v, S[PHALA_SGX].quote, S[PHALA_SGX].len);
    v[12] ^= 1;
    tcn_claims cl;
    EXPECT_RC(verify_at(v, S[PHALA_SGX].len, &S[PHALA_SGX].col, S[PHALA_SGX].at_ms, &cl, &err), TCN_ERR_UNSUPPORTED,
              err);
    EXPECT_MSG(err, "QE vendor ID");
    free(v);
}

static void test_pck_ext_parser(void **state)
{
    (void)state;
    tcn_dcap_quote q;
    parse_sample(PHALA_SGX, &q);
    STACK_OF(X509) *chain = NULL;
    tcn_error err;
    assert_int_equal(tcn_x509_parse_pem_chain(q.cert_data.p, q.cert_data.len, &chain, &err), TCN_OK);
    ASN1_OBJECT *oid = OBJ_txt2obj("1.2.840.113741.1.13.1", 1);
    int idx = X509_get_ext_by_OBJ(sk_X509_value(chain, 0), oid, -1);
    ASN1_OBJECT_free(oid);
    ASN1_OCTET_STRING *v = X509_EXTENSION_get_data(X509_get_ext(sk_X509_value(chain, 0), idx));
    size_t n = (size_t)ASN1_STRING_length(v);
    uint8_t *der = malloc(n + 8);
    assert_non_null(der);
    memcpy(der, ASN1_STRING_get0_data(v), n);
    sk_X509_pop_free(chain, X509_free);
    tcn_dcap_pck_ext x;
    assert_int_equal(tcn_dcap_pck_ext_parse(der, n, &x, &err), TCN_OK);
    for (size_t k = 0; k < n; k++)
        assert_int_not_equal(tcn_dcap_pck_ext_parse(der, k, &x, &err), TCN_OK);
    der[n] = 0;
    EXPECT_RC(tcn_dcap_pck_ext_parse(der, n + 1, &x, &err), TCN_ERR_MALFORMED, err);
    /* Every single-bit flip either still parses or is rejected cleanly. */
    for (size_t k = 0; k < n; k++) {
        for (int bit = 0; bit < 8; bit++) {
            der[k] ^= (uint8_t)(1u << bit);
            int rc = tcn_dcap_pck_ext_parse(der, n, &x, &err);
            assert_true(rc == TCN_OK || tcn_err_category_of(rc) == TCN_CAT_PROTO);
            der[k] ^= (uint8_t)(1u << bit);
        }
    }
    /* The FMSPC entry (OID ...13.1.4) with a 7-byte value is rejected. */
    static const uint8_t fmspc_oid[] = {0x06, 0x0a, 0x2a, 0x86, 0x48, 0x86, 0xf8, 0x4d, 0x01, 0x0d, 0x01, 0x04};
    uint8_t *p = NULL;
    for (size_t k = 0; k + sizeof(fmspc_oid) < n && p == NULL; k++)
        if (memcmp(der + k, fmspc_oid, sizeof(fmspc_oid)) == 0)
            p = der + k + sizeof(fmspc_oid);
    assert_non_null(p);
    assert_int_equal(p[0], 0x04);
    assert_int_equal(p[1], 6);
    p[1] = 5;
    EXPECT_RC(tcn_dcap_pck_ext_parse(der, n, &x, &err), TCN_ERR_MALFORMED, err);
    free(der);
}

/* ---- debug flag --------------------------------------------------------------------------- */

static void test_debug_flag(void **state)
{
    (void)state;
    tcn_error err;
    tcn_claims cl;
    tcn_dcap_quote q;
    for (int i = PHALA_SGX; i <= PHALA_TDX; i += PHALA_TDX - PHALA_SGX) {
        uint8_t *m = malloc(S[i].len);
        assert_non_null(m);
        memcpy(m, S[i].quote, S[i].len);
        parse_sample(i, &q);
        assert_false(tcn_dcap_quote_is_debug(&q));
        /* SGX ATTRIBUTES.FLAGS at body offset 48, bit 1; TD ATTRIBUTES at 120, bit 0. */
        size_t off = TCN_DCAP_HEADER_LEN + (i == PHALA_SGX ? 48 : 120);
        m[off] |= i == PHALA_SGX ? 0x02 : 0x01;
        assert_int_equal(tcn_dcap_quote_parse(m, S[i].len, &q, &err), TCN_OK);
        assert_true(tcn_dcap_quote_is_debug(&q));
        memset(&cl, 0, sizeof(cl));
        tcn_dcap_quote_to_claims(&q, &cl);
        assert_true(cl.debug);
        /* The body is signed, so the full verification refuses the edit. */
        int rc = verify_at(m, S[i].len, &S[i].col, S[i].at_ms, &cl, &err);
        EXPECT_RC(rc, TCN_ERR_BAD_SIGNATURE, err);
        EXPECT_MSG(err, "quote signature does not verify with the attestation key");
        free(m);
    }
}

/* ---- collateral ---------------------------------------------------------------------------- */

/* Copies slice s with one byte changed at the first occurrence of needle + at. */
static uint8_t *edit_copy(tcn_slice s, const char *needle, size_t at, uint8_t to)
{
    uint8_t *p = malloc(s.len + 1);
    assert_non_null(p);
    memcpy(p, s.p, s.len);
    p[s.len] = 0;
    char *hit = strstr((char *)p, needle);
    assert_non_null(hit);
    hit[at] = (char)to;
    return p;
}

static void test_collateral_tamper(void **state)
{
    (void)state;
    sample *s = &S[PHALA_SGX];
    tcn_claims cl;
    tcn_error err;
    tcn_dcap_collateral c = s->col;
    /* fmspc "00A067110000" -> "01A067110000": still valid JSON, no longer signed. */
    uint8_t *t = edit_copy(s->col.tcb_info, "\"fmspc\":\"00A0", 10, '1');
    c.tcb_info.p = t;
    int rc = verify_at(s->quote, s->len, &c, s->at_ms, &cl, &err);
    EXPECT_RC(rc, TCN_ERR_BAD_SIGNATURE, err);
    EXPECT_MSG(err, "TCB info signature does not verify");
    free(t);
    c = s->col;
    t = edit_copy(s->col.qe_identity, "\"isvprodid\":1", 12, '2');
    c.qe_identity.p = t;
    rc = verify_at(s->quote, s->len, &c, s->at_ms, &cl, &err);
    EXPECT_RC(rc, TCN_ERR_BAD_SIGNATURE, err);
    EXPECT_MSG(err, "QE identity signature does not verify");
    free(t);
    /* A flipped digit of the signature itself. */
    c = s->col;
    t = edit_copy(s->col.tcb_info, "\"signature\":\"", 20, 'f');
    if (memcmp(t, s->col.tcb_info.p, s->col.tcb_info.len) == 0)
        t[strstr((char *)t, "\"signature\":\"") - (char *)t + 20] = 'e';
    c.tcb_info.p = t;
    rc = verify_at(s->quote, s->len, &c, s->at_ms, &cl, &err);
    EXPECT_RC(rc, TCN_ERR_BAD_SIGNATURE, err);
    free(t);
    /* Missing pieces. */
    c = s->col;
    c.tcb_info = (tcn_slice){NULL, 0};
    rc = verify_at(s->quote, s->len, &c, s->at_ms, &cl, &err);
    EXPECT_RC(rc, TCN_ERR_COLLATERAL, err);
    assert_string_equal(err.msg, "dcap: collateral missing: tcb_info.json");
    c = s->col;
    c.qe_identity_issuer_chain = (tcn_slice){NULL, 0};
    rc = verify_at(s->quote, s->len, &c, s->at_ms, &cl, &err);
    EXPECT_RC(rc, TCN_ERR_COLLATERAL, err);
    EXPECT_MSG(err, "qe_identity_issuer_chain.pem");
    tcn_dcap_collateral none;
    rc = tcn_dcap_collateral_load_dir("/nonexistent-tcn-dir", &none, &err);
    EXPECT_RC(rc, TCN_ERR_COLLATERAL, err);
    EXPECT_MSG(err, "collateral missing: tcb_info.json");
    /* CRLs swapped: the PCK CRL is not from the PCK's issuer. */
    c = s->col;
    c.pck_crl = s->col.root_ca_crl;
    rc = verify_at(s->quote, s->len, &c, s->at_ms, &cl, &err);
    EXPECT_RC(rc, TCN_ERR_COLLATERAL, err);
    /* Another platform's (genuinely signed) PCK CRL. */
    c = s->col;
    c.pck_crl = S[PHALA_TDX].col.pck_crl;
    c.pck_crl_issuer_chain = S[PHALA_TDX].col.pck_crl_issuer_chain;
    rc = verify_at(s->quote, s->len, &c, s->at_ms, &cl, &err);
    EXPECT_RC(rc, TCN_ERR_COLLATERAL, err);
    EXPECT_MSG(err, "PCK CRL is issued by");
    /* A PCK CRL issuer chain that is not the CRL's issuer. */
    c = s->col;
    c.pck_crl_issuer_chain = s->col.tcb_info_issuer_chain;
    rc = verify_at(s->quote, s->len, &c, s->at_ms, &cl, &err);
    EXPECT_RC(rc, TCN_ERR_COLLATERAL, err);
    EXPECT_MSG(err, "PCK CRL issuer chain");
}

static void test_collateral_mismatch(void **state)
{
    (void)state;
    tcn_claims cl;
    tcn_error err;
    sample *s = &S[PHALA_SGX];
    /* The TDX platform's TCB info is genuine and current, but for another FMSPC. */
    tcn_dcap_collateral c = s->col;
    c.tcb_info = S[PHALA_TDX].col.tcb_info;
    c.tcb_info_issuer_chain = S[PHALA_TDX].col.tcb_info_issuer_chain;
    int rc = verify_at(s->quote, s->len, &c, s->at_ms, &cl, &err);
    EXPECT_RC(rc, TCN_ERR_COLLATERAL, err);
    assert_string_equal(err.msg, "dcap: PCK certificate FMSPC 00a067110000 does not match TCB info fmspc b0c06f000000");
    /* The TD_QE identity for an SGX quote. */
    c = s->col;
    c.qe_identity = S[PHALA_TDX].col.qe_identity;
    c.qe_identity_issuer_chain = S[PHALA_TDX].col.qe_identity_issuer_chain;
    rc = verify_at(s->quote, s->len, &c, s->at_ms, &cl, &err);
    EXPECT_RC(rc, TCN_ERR_COLLATERAL, err);
    EXPECT_MSG(err, "QE identity id is not 'QE'");

    /* Unit level: FMSPC, PCE-ID and TEE checks one by one. */
    tcn_slice body;
    uint8_t sig[64];
    assert_int_equal(tcn_dcap_signed_json_split(s->col.tcb_info.p, s->col.tcb_info.len, "tcbInfo", &body, sig, &err),
                     TCN_OK);
    tcn_dcap_tcb_info ti;
    assert_int_equal(tcn_dcap_tcb_info_parse(body.p, body.len, &ti, &err), TCN_OK);
    tcn_dcap_pck_ext x;
    pck_ext_of(PHALA_SGX, &x);
    EXPECT_RC(tcn_dcap_tcb_info_match(&ti, &x, false, &err), TCN_OK, err);
    EXPECT_RC(tcn_dcap_tcb_info_match(&ti, &x, true, &err), TCN_ERR_COLLATERAL, err);
    EXPECT_MSG(err, "TCB info is for SGX but the quote is TDX");
    x.fmspc[5] ^= 1;
    EXPECT_RC(tcn_dcap_tcb_info_match(&ti, &x, false, &err), TCN_ERR_COLLATERAL, err);
    EXPECT_MSG(err, "FMSPC");
    x.fmspc[5] ^= 1;
    x.pceid[0] ^= 1;
    EXPECT_RC(tcn_dcap_tcb_info_match(&ti, &x, false, &err), TCN_ERR_COLLATERAL, err);
    EXPECT_MSG(err, "PCE-ID");
    tcn_dcap_tcb_info_free(&ti);

    /* QE identity fields one by one. */
    assert_int_equal(tcn_dcap_signed_json_split(s->col.qe_identity.p, s->col.qe_identity.len, "enclaveIdentity",
                                                &body, sig, &err),
                     TCN_OK);
    tcn_dcap_qe_identity qi;
    assert_int_equal(tcn_dcap_qe_identity_parse(body.p, body.len, &qi, &err), TCN_OK);
    tcn_dcap_quote q;
    parse_sample(PHALA_SGX, &q);
    const tcn_dcap_isv_level *lv;
    EXPECT_RC(tcn_dcap_qe_identity_match(&qi, &q.qe_report, false, &lv, &err), TCN_OK, err);
    assert_int_equal(lv->status, TCN_TCB_UP_TO_DATE);
    tcn_dcap_sgx_report r = q.qe_report;
    r.mrsigner[0] ^= 1;
    EXPECT_RC(tcn_dcap_qe_identity_match(&qi, &r, false, &lv, &err), TCN_ERR_COLLATERAL, err);
    EXPECT_MSG(err, "MRSIGNER");
    r = q.qe_report;
    r.isvprodid++;
    EXPECT_RC(tcn_dcap_qe_identity_match(&qi, &r, false, &lv, &err), TCN_ERR_COLLATERAL, err);
    EXPECT_MSG(err, "ISVPRODID");
    r = q.qe_report;
    r.attributes[0] |= 0x02; /* DEBUG is inside attributesMask */
    EXPECT_RC(tcn_dcap_qe_identity_match(&qi, &r, false, &lv, &err), TCN_ERR_COLLATERAL, err);
    EXPECT_MSG(err, "ATTRIBUTES");
    r = q.qe_report;
    r.attributes[0] |= 0x04; /* bit 2 is outside the mask (FB) */
    EXPECT_RC(tcn_dcap_qe_identity_match(&qi, &r, false, &lv, &err), TCN_OK, err);
    r = q.qe_report;
    r.miscselect[3] = 0x80;
    EXPECT_RC(tcn_dcap_qe_identity_match(&qi, &r, false, &lv, &err), TCN_ERR_COLLATERAL, err);
    EXPECT_MSG(err, "MISCSELECT");
    r = q.qe_report;
    r.isvsvn = 7; /* levels: 8 UpToDate, 6 OutOfDate, ... */
    EXPECT_RC(tcn_dcap_qe_identity_match(&qi, &r, false, &lv, &err), TCN_OK, err);
    assert_int_equal(lv->status, TCN_TCB_OUT_OF_DATE);
    assert_int_equal(lv->advisory_count, 1);
    assert_string_equal(lv->advisory_ids[0], "INTEL-SA-00615");
    r.isvsvn = 0;
    EXPECT_RC(tcn_dcap_qe_identity_match(&qi, &r, false, &lv, &err), TCN_ERR_NO_TCB_MATCH, err);
    tcn_dcap_qe_identity_free(&qi);
}

static void test_signed_json_split(void **state)
{
    (void)state;
    tcn_slice body;
    uint8_t sig[64];
    tcn_error err;
    char sighex[129];
    memset(sighex, 'a', 128);
    sighex[128] = 0;
    char doc[512];
    snprintf(doc, sizeof(doc), "{\"tcbInfo\":{\"a\":\"}{\\\"\",\"b\":[1,{}]},\"signature\":\"%s\"}", sighex);
    EXPECT_RC(tcn_dcap_signed_json_split((uint8_t *)doc, strlen(doc), "tcbInfo", &body, sig, &err), TCN_OK, err);
    assert_int_equal(body.len, strlen("{\"a\":\"}{\\\"\",\"b\":[1,{}]}"));
    assert_memory_equal(body.p, "{\"a\":\"}{\\\"\",\"b\":[1,{}]}", body.len);
    assert_int_equal(sig[0], 0xaa);
    snprintf(doc, sizeof(doc), " {\n \"tcbInfo\" : {\"x\":1} ,\n\"signature\": \"%s\" }\n", sighex);
    EXPECT_RC(tcn_dcap_signed_json_split((uint8_t *)doc, strlen(doc), "tcbInfo", &body, sig, &err), TCN_OK, err);
    assert_memory_equal(body.p, "{\"x\":1}", body.len);
    /* '@' stands for the 128 hex digits. */
    static const char *const bad[] = {
        "{\"signature\":\"@\",\"tcbInfo\":{}}",         /* key not first */
        "{\"tcbInfo\":{},\"signature\":\"@\",\"x\":1}", /* extra key */
        "{\"tcbInfo\":{},\"signature\":\"@\"}x",        /* trailing text */
        "{\"tcbInfo\":{\"a\":1,\"signature\":\"@\"}",   /* unbalanced */
        "{\"tcbInfo\":[],\"signature\":\"@\"}",         /* not an object */
        "{\"tcbInfo\":{},\"signature\":\"@0\"}",        /* 129 digits */
        "{\"tcbInfo\":{},\"signature\":\"@\\u0030\"}", /* escapes are not hex */
        "{\"tcbInfoX\":{},\"signature\":\"@\"}",        /* other key */
        "{\"enclaveIdentity\":{},\"signature\":\"@\"}", /* other key */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        const char *at = strchr(bad[i], '@');
        assert_non_null(at);
        snprintf(doc, sizeof(doc), "%.*s%s%s", (int)(at - bad[i]), bad[i], sighex, at + 1);
        int rc = tcn_dcap_signed_json_split((uint8_t *)doc, strlen(doc), "tcbInfo", &body, sig, &err);
        if (rc == TCN_OK)
            fprintf(stderr, "accepted: %s\n", doc);
        assert_int_equal(rc, TCN_ERR_MALFORMED);
    }
    for (size_t n = 0; n < S[PHALA_SGX].col.tcb_info.len; n += 7)
        assert_int_not_equal(
            tcn_dcap_signed_json_split(S[PHALA_SGX].col.tcb_info.p, n, "tcbInfo", &body, sig, &err), TCN_OK);
}

/* ---- wrong roots ----------------------------------------------------------------------------- */

static X509 *make_cert(const char *cn, EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key, bool ca)
{
    X509 *c = X509_new();
    assert_non_null(c);
    assert_int_equal(X509_set_version(c, 2), 1);
    ASN1_INTEGER_set(X509_get_serialNumber(c), (long)(rng() & 0x7fffffff));
    X509_NAME *name = X509_NAME_new();
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)"Intel Corporation", -1, -1, 0);
    X509_set_subject_name(c, name);
    X509_set_issuer_name(c, issuer != NULL ? X509_get_subject_name(issuer) : name);
    X509_NAME_free(name);
    ASN1_TIME_set(X509_getm_notBefore(c), (time_t)1500000000);
    ASN1_TIME_set(X509_getm_notAfter(c), (time_t)2500000000LL);
    X509_set_pubkey(c, key);
    X509V3_CTX v3;
    X509V3_set_ctx(&v3, issuer != NULL ? issuer : c, c, NULL, NULL, 0);
    X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &v3, NID_basic_constraints, ca ? "critical,CA:TRUE" : "CA:FALSE");
    assert_non_null(e);
    X509_add_ext(c, e, -1);
    X509_EXTENSION_free(e);
    assert_true(X509_sign(c, issuer_key, EVP_sha256()) > 0);
    return c;
}

static char *pem_of(X509 *const *certs, size_t n, size_t *len)
{
    BIO *bio = BIO_new(BIO_s_mem());
    assert_non_null(bio);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(PEM_write_bio_X509(bio, certs[i]), 1);
    char *data;
    long l = BIO_get_mem_data(bio, &data);
    char *out = malloc((size_t)l + 1);
    assert_non_null(out);
    memcpy(out, data, (size_t)l);
    out[l] = '\0';
    BIO_free(bio);
    *len = (size_t)l;
    return out;
}

/* The SGX v3 quote with its certification data replaced by pem (NUL added). */
static uint8_t *with_cert_data(const char *pem, size_t pem_len, size_t *out_len)
{
    sample *s = &S[PHALA_SGX];
    tcn_dcap_quote q;
    parse_sample(PHALA_SGX, &q);
    size_t cert_off = (size_t)(q.cert_data.p - s->quote);
    size_t n = cert_off + pem_len + 1;
    uint8_t *out = malloc(n);
    assert_non_null(out);
    memcpy(out, s->quote, cert_off);
    memcpy(out + cert_off, pem, pem_len);
    out[n - 1] = 0;
    put_u32(out + cert_off - 4, (uint32_t)(pem_len + 1));
    put_u32(out + q.signed_len, (uint32_t)(q.sig_data_len - q.cert_data.len + pem_len + 1));
    *out_len = n;
    return out;
}

static void test_wrong_root(void **state)
{
    (void)state;
    sample *s = &S[PHALA_SGX];
    tcn_claims cl;
    tcn_error err;
    EVP_PKEY *root_key = EVP_EC_gen("P-256");
    EVP_PKEY *leaf_key = EVP_EC_gen("P-256");
    assert_non_null(root_key);
    assert_non_null(leaf_key);
    X509 *fake_root = make_cert("Intel SGX Root CA", root_key, NULL, root_key, true);
    X509 *fake_leaf = make_cert("Intel SGX TCB Signing", leaf_key, fake_root, root_key, false);

    /* 1. The real TCB Signing certificate followed by a fake root. */
    STACK_OF(X509) *real = NULL;
    assert_int_equal(tcn_x509_parse_pem_chain(s->col.tcb_info_issuer_chain.p, s->col.tcb_info_issuer_chain.len, &real,
                                              &err),
                     TCN_OK);
    X509 *pair[3] = {sk_X509_value(real, 0), fake_root, NULL};
    size_t pl;
    char *pem = pem_of(pair, 2, &pl);
    tcn_dcap_collateral c = s->col;
    c.tcb_info_issuer_chain = (tcn_slice){(const uint8_t *)pem, pl};
    int rc = verify_at(s->quote, s->len, &c, s->at_ms, &cl, &err);
    EXPECT_RC(rc, TCN_ERR_UNTRUSTED_ROOT, err);
    EXPECT_MSG(err, "TCB info issuer chain");
    free(pem);

    /* 2. A whole fake chain, leaf named like Intel's. */
    pair[0] = fake_leaf;
    pem = pem_of(pair, 2, &pl);
    c.tcb_info_issuer_chain = (tcn_slice){(const uint8_t *)pem, pl};
    rc = verify_at(s->quote, s->len, &c, s->at_ms, &cl, &err);
    EXPECT_RC(rc, TCN_ERR_UNTRUSTED_ROOT, err);
    free(pem);
    /* ... and the fake leaf alone. */
    pem = pem_of(pair, 1, &pl);
    c.tcb_info_issuer_chain = (tcn_slice){(const uint8_t *)pem, pl};
    rc = verify_at(s->quote, s->len, &c, s->at_ms, &cl, &err);
    assert_true(rc == TCN_ERR_UNTRUSTED_ROOT || rc == TCN_ERR_CERT_CHAIN);
    free(pem);

    /* 3. The quote's own PCK chain with its root replaced. */
    tcn_dcap_quote q;
    parse_sample(PHALA_SGX, &q);
    STACK_OF(X509) *pck = NULL;
    assert_int_equal(tcn_x509_parse_pem_chain(q.cert_data.p, q.cert_data.len, &pck, &err), TCN_OK);
    X509 *three[3] = {sk_X509_value(pck, 0), sk_X509_value(pck, 1), fake_root};
    pem = pem_of(three, 3, &pl);
    size_t ql;
    uint8_t *mq = with_cert_data(pem, pl, &ql);
    rc = verify_at(mq, ql, &s->col, s->at_ms, &cl, &err);
    EXPECT_RC(rc, TCN_ERR_UNTRUSTED_ROOT, err);
    EXPECT_MSG(err, "PCK chain");
    free(mq);
    free(pem);
    /* The same rebuild with the real root (re-encoded PEM) verifies: the
     * rebuild itself is sound, so the failure above is the root's. */
    three[2] = sk_X509_value(pck, 2);
    pem = pem_of(three, 3, &pl);
    mq = with_cert_data(pem, pl, &ql);
    rc = verify_at(mq, ql, &s->col, s->at_ms, &cl, &err);
    EXPECT_RC(rc, TCN_OK, err);
    free(mq);
    free(pem);
    /* Leaf and PCK CA only (the root is pinned anyway). */
    pem = pem_of(three, 2, &pl);
    mq = with_cert_data(pem, pl, &ql);
    rc = verify_at(mq, ql, &s->col, s->at_ms, &cl, &err);
    EXPECT_RC(rc, TCN_OK, err);
    free(mq);
    free(pem);
    /* Text after the last certificate is refused (OpenSSL's PEM reader would skip it). */
    pem = pem_of(three, 2, &pl);
    char *junk = malloc(pl + 32);
    assert_non_null(junk);
    memcpy(junk, pem, pl);
    memcpy(junk + pl, "MIIC this is not a certificate", 30);
    mq = with_cert_data(junk, pl + 30, &ql);
    rc = verify_at(mq, ql, &s->col, s->at_ms, &cl, &err);
    EXPECT_RC(rc, TCN_ERR_MALFORMED, err);
    EXPECT_MSG(err, "PEM chain: unexpected bytes");
    free(mq);
    free(junk);
    free(pem);
    /* A leaf not issued by Intel, with the real intermediate and root. */
    three[0] = fake_leaf;
    pem = pem_of(three, 3, &pl);
    mq = with_cert_data(pem, pl, &ql);
    rc = verify_at(mq, ql, &s->col, s->at_ms, &cl, &err);
    assert_int_not_equal(rc, TCN_OK);
    assert_int_equal(tcn_err_category_of(rc), TCN_CAT_AUTH);
    free(mq);
    free(pem);

    sk_X509_pop_free(pck, X509_free);
    sk_X509_pop_free(real, X509_free);
    X509_free(fake_leaf);
    X509_free(fake_root);
    EVP_PKEY_free(leaf_key);
    EVP_PKEY_free(root_key);
}

/* ---- pure TCB rules on synthetic levels ------------------------------------------------------ */

static tcn_dcap_tcb_level level(uint8_t sgx, uint16_t pcesvn, int tdx, tcn_tcb_status st)
{
    tcn_dcap_tcb_level l;
    memset(&l, 0, sizeof(l));
    memset(l.sgx_svn, sgx, sizeof(l.sgx_svn));
    l.pcesvn = pcesvn;
    if (tdx >= 0) {
        l.has_tdx = true;
        memset(l.tdx_svn, 0, sizeof(l.tdx_svn));
        l.tdx_svn[0] = (uint8_t)tdx;
        l.tdx_svn[2] = (uint8_t)tdx;
    }
    l.status = st;
    l.tcb_date = "2024-01-01T00:00:00Z";
    return l;
}

static void test_tcb_level_matching(void **state)
{
    (void)state;
    tcn_error err;
    const tcn_dcap_tcb_level *m;
    static const char *const adv[] = {"INTEL-SA-00001"};
    tcn_dcap_tcb_level lv[3] = {level(5, 10, -1, TCN_TCB_UP_TO_DATE), level(3, 10, -1, TCN_TCB_SW_HARDENING_NEEDED),
                                level(1, 5, -1, TCN_TCB_REVOKED)};
    lv[1].advisory_ids = adv;
    lv[1].advisory_count = 1;
    uint8_t pck[16];
    memset(pck, 6, 16);
    EXPECT_RC(tcn_dcap_match_tcb_level(lv, 3, pck, 10, NULL, &m, &err), TCN_OK, err);
    assert_ptr_equal(m, &lv[0]);
    memset(pck, 4, 16);
    EXPECT_RC(tcn_dcap_match_tcb_level(lv, 3, pck, 10, NULL, &m, &err), TCN_OK, err);
    assert_ptr_equal(m, &lv[1]);
    /* One component below level 0 is enough to fall to the next level. */
    memset(pck, 9, 16);
    pck[15] = 4;
    EXPECT_RC(tcn_dcap_match_tcb_level(lv, 3, pck, 10, NULL, &m, &err), TCN_OK, err);
    assert_ptr_equal(m, &lv[1]);
    /* PCESVN too. */
    memset(pck, 9, 16);
    EXPECT_RC(tcn_dcap_match_tcb_level(lv, 3, pck, 9, NULL, &m, &err), TCN_OK, err);
    assert_ptr_equal(m, &lv[2]);
    assert_int_equal(m->status, TCN_TCB_REVOKED);
    EXPECT_RC(tcn_dcap_match_tcb_level(lv, 3, pck, 4, NULL, &m, &err), TCN_ERR_NO_TCB_MATCH, err);
    EXPECT_MSG(err, "PCK PCESVN is 4, every level requires >= 5");
    memset(pck, 0, 16);
    pck[0] = 7;
    EXPECT_RC(tcn_dcap_match_tcb_level(lv, 3, pck, 10, NULL, &m, &err), TCN_ERR_NO_TCB_MATCH, err);
    EXPECT_MSG(err, "PCK SGX component 2 is 0, every level requires >= 1");
    assert_null(strstr(err.msg, "component 1 is"));
    /* No single component below every level: the lowest level is described. */
    tcn_dcap_tcb_level two[2] = {level(5, 10, -1, TCN_TCB_UP_TO_DATE), level(1, 10, -1, TCN_TCB_OUT_OF_DATE)};
    two[0].sgx_svn[3] = 0;
    two[1].sgx_svn[3] = 9;
    memset(pck, 5, 16);
    pck[3] = 0;
    pck[4] = 0;
    two[0].sgx_svn[4] = 5;
    two[1].sgx_svn[4] = 0;
    EXPECT_RC(tcn_dcap_match_tcb_level(two, 2, pck, 10, NULL, &m, &err), TCN_ERR_NO_TCB_MATCH, err);
    EXPECT_MSG(err, "the lowest level");
    EXPECT_MSG(err, "SGX component 4 >= 9 (PCK has 0)");

    /* TDX: bytes 0..1 of TEE_TCB_SVN are skipped when byte 1 (module version) is set. */
    tcn_dcap_tcb_level t[2] = {level(2, 10, 5, TCN_TCB_UP_TO_DATE), level(2, 10, 3, TCN_TCB_OUT_OF_DATE)};
    memset(pck, 2, 16);
    uint8_t tee[16] = {4, 1, 5};
    EXPECT_RC(tcn_dcap_match_tcb_level(t, 2, pck, 10, tee, &m, &err), TCN_OK, err);
    assert_ptr_equal(m, &t[0]); /* byte 0 (4 < 5) not compared */
    tee[1] = 0;
    EXPECT_RC(tcn_dcap_match_tcb_level(t, 2, pck, 10, tee, &m, &err), TCN_OK, err);
    assert_ptr_equal(m, &t[1]); /* byte 0 compared now */
    tee[0] = 2;
    EXPECT_RC(tcn_dcap_match_tcb_level(t, 2, pck, 10, tee, &m, &err), TCN_ERR_NO_TCB_MATCH, err);
    EXPECT_MSG(err, "TEE_TCB_SVN[0] is 2, every level requires >= 3");
    /* A level without TDX components never matches a TDX quote. */
    tcn_dcap_tcb_level sgx_only = level(0, 0, -1, TCN_TCB_UP_TO_DATE);
    EXPECT_RC(tcn_dcap_match_tcb_level(&sgx_only, 1, pck, 10, tee, &m, &err), TCN_ERR_NO_TCB_MATCH, err);
}

static void test_status_convergence(void **state)
{
    (void)state;
    static const struct {
        tcn_tcb_status platform, other, want;
    } rows[] = {
        {TCN_TCB_UP_TO_DATE, TCN_TCB_UP_TO_DATE, TCN_TCB_UP_TO_DATE},
        {TCN_TCB_SW_HARDENING_NEEDED, TCN_TCB_UP_TO_DATE, TCN_TCB_SW_HARDENING_NEEDED},
        {TCN_TCB_REVOKED, TCN_TCB_UP_TO_DATE, TCN_TCB_REVOKED},
        {TCN_TCB_UP_TO_DATE, TCN_TCB_OUT_OF_DATE, TCN_TCB_OUT_OF_DATE},
        {TCN_TCB_SW_HARDENING_NEEDED, TCN_TCB_OUT_OF_DATE, TCN_TCB_OUT_OF_DATE},
        {TCN_TCB_CONFIGURATION_NEEDED, TCN_TCB_OUT_OF_DATE, TCN_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED},
        {TCN_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED, TCN_TCB_OUT_OF_DATE,
         TCN_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED},
        {TCN_TCB_OUT_OF_DATE, TCN_TCB_OUT_OF_DATE, TCN_TCB_OUT_OF_DATE},
        {TCN_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED, TCN_TCB_OUT_OF_DATE, TCN_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED},
        {TCN_TCB_REVOKED, TCN_TCB_OUT_OF_DATE, TCN_TCB_REVOKED},
        {TCN_TCB_UP_TO_DATE, TCN_TCB_REVOKED, TCN_TCB_REVOKED},
        {TCN_TCB_CONFIGURATION_NEEDED, TCN_TCB_REVOKED, TCN_TCB_REVOKED},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
        assert_int_equal(tcn_dcap_converge_status(rows[i].platform, rows[i].other), rows[i].want);

    /* Identity levels: first isvsvn <= the QE's. */
    tcn_dcap_isv_level q[2] = {{8, TCN_TCB_UP_TO_DATE, "d", NULL, 0}, {6, TCN_TCB_OUT_OF_DATE, "d", NULL, 0}};
    const tcn_dcap_isv_level *m;
    tcn_error err;
    EXPECT_RC(tcn_dcap_match_isv_level(q, 2, 9, "QE identity", &m, &err), TCN_OK, err);
    assert_ptr_equal(m, &q[0]);
    EXPECT_RC(tcn_dcap_match_isv_level(q, 2, 6, "QE identity", &m, &err), TCN_OK, err);
    assert_ptr_equal(m, &q[1]);
    EXPECT_RC(tcn_dcap_match_isv_level(q, 2, 5, "QE identity", &m, &err), TCN_ERR_NO_TCB_MATCH, err);
    assert_string_equal(err.msg, "no QE identity TCB level for ISVSVN 5 (every level requires >= 6)");
    /* An OutOfDate QE with a ConfigurationNeeded platform. */
    EXPECT_RC(tcn_dcap_match_isv_level(q, 2, 7, "QE identity", &m, &err), TCN_OK, err);
    assert_int_equal(tcn_dcap_converge_status(TCN_TCB_CONFIGURATION_NEEDED, m->status),
                     TCN_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED);
}

static void test_tdx_module(void **state)
{
    (void)state;
    tcn_error err;
    tcn_slice body;
    uint8_t sig[64];
    const tcn_dcap_collateral *col = &S[PHALA_TDX].col;
    assert_int_equal(tcn_dcap_signed_json_split(col->tcb_info.p, col->tcb_info.len, "tcbInfo", &body, sig, &err),
                     TCN_OK);
    tcn_dcap_tcb_info ti;
    EXPECT_RC(tcn_dcap_tcb_info_parse(body.p, body.len, &ti, &err), TCN_OK, err);
    assert_true(ti.tdx);
    assert_int_equal(ti.module_count, 2);
    tcn_dcap_quote q;
    parse_sample(PHALA_TDX, &q);
    tcn_tcb_status st;
    const tcn_dcap_isv_level *lv;
    /* The sample: TEE_TCB_SVN 06 01 -> TDX_01, ISVSVN 6 >= 4: UpToDate. */
    EXPECT_RC(tcn_dcap_tdx_module_check(&ti, q.td.tee_tcb_svn, q.td.mr_signer_seam, q.td.seam_attributes, &st, &lv,
                                        &err),
              TCN_OK, err);
    assert_int_equal(st, TCN_TCB_UP_TO_DATE);
    assert_non_null(lv);
    assert_int_equal(lv->isvsvn, 4);
    uint8_t tee[16];
    memcpy(tee, q.td.tee_tcb_svn, 16);
    tee[0] = 3; /* TDX_01 level isvsvn 2: OutOfDate */
    EXPECT_RC(tcn_dcap_tdx_module_check(&ti, tee, q.td.mr_signer_seam, q.td.seam_attributes, &st, &lv, &err), TCN_OK,
              err);
    assert_int_equal(st, TCN_TCB_OUT_OF_DATE);
    assert_int_equal(tcn_dcap_converge_status(TCN_TCB_UP_TO_DATE, st), TCN_TCB_OUT_OF_DATE);
    tee[0] = 1;
    EXPECT_RC(tcn_dcap_tdx_module_check(&ti, tee, q.td.mr_signer_seam, q.td.seam_attributes, &st, &lv, &err),
              TCN_ERR_NO_TCB_MATCH, err);
    EXPECT_MSG(err, "TDX module identity TDX_01");
    tee[0] = 6;
    tee[1] = 2;
    EXPECT_RC(tcn_dcap_tdx_module_check(&ti, tee, q.td.mr_signer_seam, q.td.seam_attributes, &st, &lv, &err),
              TCN_ERR_COLLATERAL, err);
    EXPECT_MSG(err, "no TDX module identity TDX_02");
    tee[1] = 3;
    EXPECT_RC(tcn_dcap_tdx_module_check(&ti, tee, q.td.mr_signer_seam, q.td.seam_attributes, &st, &lv, &err), TCN_OK,
              err);
    tee[1] = 0; /* version 0: "tdxModule", no module level */
    EXPECT_RC(tcn_dcap_tdx_module_check(&ti, tee, q.td.mr_signer_seam, q.td.seam_attributes, &st, &lv, &err), TCN_OK,
              err);
    assert_null(lv);
    assert_int_equal(st, TCN_TCB_UP_TO_DATE);
    uint8_t mrs[48];
    memcpy(mrs, q.td.mr_signer_seam, 48);
    mrs[47] ^= 1;
    EXPECT_RC(tcn_dcap_tdx_module_check(&ti, q.td.tee_tcb_svn, mrs, q.td.seam_attributes, &st, &lv, &err),
              TCN_ERR_COLLATERAL, err);
    EXPECT_MSG(err, "MRSIGNERSEAM");
    uint8_t sa[8] = {0, 0, 0, 0, 0, 0, 0, 1};
    EXPECT_RC(tcn_dcap_tdx_module_check(&ti, q.td.tee_tcb_svn, q.td.mr_signer_seam, sa, &st, &lv, &err),
              TCN_ERR_COLLATERAL, err);
    EXPECT_MSG(err, "SEAMATTRIBUTES");
    /* The sample's TCB levels: the quote matches the first, UpToDate. */
    tcn_dcap_pck_ext x;
    pck_ext_of(PHALA_TDX, &x);
    const tcn_dcap_tcb_level *m;
    EXPECT_RC(tcn_dcap_match_tcb_level(ti.levels, ti.level_count, x.tcb_comp, x.pcesvn, q.td.tee_tcb_svn, &m, &err),
              TCN_OK, err);
    assert_ptr_equal(m, &ti.levels[0]);
    assert_int_equal(m->status, TCN_TCB_UP_TO_DATE);
    tcn_dcap_tcb_info_free(&ti);
}

static void test_tcb_info_parser(void **state)
{
    (void)state;
    tcn_error err;
    tcn_dcap_tcb_info ti;
    /* A minimal v2 TCB info (the old per-component form). */
    char v2[2048];
    int n = snprintf(v2, sizeof(v2),
                     "{\"version\":2,\"issueDate\":\"2020-01-01T00:00:00Z\",\"nextUpdate\":\"2020-02-01T00:00:00Z\","
                     "\"fmspc\":\"00906ED50000\",\"pceId\":\"0000\",\"tcbType\":0,\"tcbEvaluationDataNumber\":5,"
                     "\"tcbLevels\":[{\"tcb\":{");
    for (int i = 1; i <= 16; i++)
        n += snprintf(v2 + n, sizeof(v2) - (size_t)n, "\"sgxtcbcomp%02dsvn\":%d,", i, i);
    snprintf(v2 + n, sizeof(v2) - (size_t)n,
             "\"pcesvn\":7},\"tcbDate\":\"2019-01-01T00:00:00Z\",\"tcbStatus\":\"OutOfDate\","
             "\"advisoryIDs\":[\"INTEL-SA-00001\"]}]}");
    EXPECT_RC(tcn_dcap_tcb_info_parse((uint8_t *)v2, strlen(v2), &ti, &err), TCN_OK, err);
    assert_int_equal(ti.version, 2);
    assert_false(ti.tdx);
    assert_int_equal(ti.level_count, 1);
    assert_int_equal(ti.levels[0].sgx_svn[15], 16);
    assert_int_equal(ti.levels[0].pcesvn, 7);
    assert_int_equal(ti.levels[0].status, TCN_TCB_OUT_OF_DATE);
    assert_string_equal(ti.levels[0].advisory_ids[0], "INTEL-SA-00001");
    tcn_dcap_tcb_info_free(&ti);
    static const char *const bad[] = {
        "{\"version\":4}",
        "[]",
        "{\"version\":3,\"id\":\"SEV\"}",
        "{\"version\":2,\"version\":2}",
        "{\"version\":2,\"issueDate\":\"yesterday\"}",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_not_equal(tcn_dcap_tcb_info_parse((const uint8_t *)bad[i], strlen(bad[i]), &ti, &err), TCN_OK);
    /* Every real TCB info and QE identity parses; a bad status does not. */
    for (int i = 0; i < N_SAMPLES; i++) {
        tcn_slice body;
        uint8_t sig[64];
        assert_int_equal(
            tcn_dcap_signed_json_split(S[i].col.tcb_info.p, S[i].col.tcb_info.len, "tcbInfo", &body, sig, &err),
            TCN_OK);
        EXPECT_RC(tcn_dcap_tcb_info_parse(body.p, body.len, &ti, &err), TCN_OK, err);
        assert_int_equal(ti.version, ex_int(i, "collateral.tcb_info_version"));
        assert_int_equal(ti.tdx, strcmp(ex_str(i, "collateral.tcb_info_id"), "TDX") == 0);
        tcn_dcap_tcb_info_free(&ti);
        char *copy = malloc(body.len + 1);
        assert_non_null(copy);
        memcpy(copy, body.p, body.len);
        copy[body.len] = 0;
        char *st = strstr(copy, "\"tcbStatus\":\"");
        assert_non_null(st);
        memcpy(st + 13, "Bogus", 5);
        assert_int_equal(tcn_dcap_tcb_info_parse((uint8_t *)copy, body.len, &ti, &err), TCN_ERR_MALFORMED);
        free(copy);
        tcn_dcap_qe_identity qi;
        assert_int_equal(tcn_dcap_signed_json_split(S[i].col.qe_identity.p, S[i].col.qe_identity.len,
                                                    "enclaveIdentity", &body, sig, &err),
                         TCN_OK);
        EXPECT_RC(tcn_dcap_qe_identity_parse(body.p, body.len, &qi, &err), TCN_OK, err);
        assert_int_equal(qi.id, strcmp(ex_str(i, "collateral.qe_identity_id"), "TD_QE") == 0 ? TCN_DCAP_QE_ID_TD_QE
                                                                                               : TCN_DCAP_QE_ID_QE);
        tcn_dcap_qe_identity_free(&qi);
    }
}

int main(void)
{
    if (!tcn_test_have_testdata("attestation/sgx_dcap"))
        return TCN_TEST_SKIP;
    if (tcn_crypto_init() != TCN_OK)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_phala_sgx),
        cmocka_unit_test(test_mobilecoin),
        cmocka_unit_test(test_phala_tdx),
        cmocka_unit_test(test_google_tdx),
        cmocka_unit_test(test_td15),
        cmocka_unit_test(test_parse_layout),
        cmocka_unit_test(test_time_windows),
        cmocka_unit_test(test_parser_edges),
        cmocka_unit_test(test_pck_ext_parser),
        cmocka_unit_test(test_debug_flag),
        cmocka_unit_test(test_collateral_tamper),
        cmocka_unit_test(test_collateral_mismatch),
        cmocka_unit_test(test_signed_json_split),
        cmocka_unit_test(test_wrong_root),
        cmocka_unit_test(test_tcb_level_matching),
        cmocka_unit_test(test_status_convergence),
        cmocka_unit_test(test_tdx_module),
        cmocka_unit_test(test_tcb_info_parser),
        cmocka_unit_test(test_truncations),
        cmocka_unit_test(test_garbage),
        cmocka_unit_test(test_bit_flips_sgx),
        cmocka_unit_test(test_bit_flips_tdx),
    };
    return cmocka_run_group_tests(tests, load_samples, free_samples);
}
