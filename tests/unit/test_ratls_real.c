/* Unit tests: real TEE evidence (shared/testdata) carried in the RA-TLS
 * extension. It parses back byte for byte and verifies as authentic, and the
 * refusal is the binding: its report data was made for someone else's key. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "attest/dcap.h"
#include "attest/nitro_doc.h"
#include "testlib.h"
#include "tls/ratls.h"
#include "util/encoding.h"
#include "util/hash.h"
#include "util/secmem.h"
#include "util/timefmt.h"

#define SGX_SAMPLE "attestation/sgx_dcap/sgx_v3_phala_dcap_qvl"
#define NITRO_SAMPLE "attestation/nitro/evervault_prod_2022-10-13"

static int64_t at(const char *rfc3339)
{
    int64_t ms;
    tcn_error e;
    assert_int_equal(tcn_time_parse_rfc3339(rfc3339, &ms, &e), TCN_OK);
    return ms;
}

/* A certificate for a fresh key carrying `evidence` under `tag`, with claims
 * binding that key, valid 40 days either side of `when`. */
static X509 *cert_with(const uint8_t *evidence, size_t len, uint64_t tag, int64_t when, tcn_buf *ext_out)
{
    tcn_error e;
    EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    assert_non_null(k);
    unsigned char *spki = NULL;
    int n = i2d_PUBKEY(k, &spki);
    assert_true(n > 0);
    tcn_ratls_claims c;
    memset(&c, 0, sizeof(c));
    c.hash_alg = TCN_RATLS_HASH_SHA256;
    c.hash_len = 32;
    tcn_sha256(spki, (size_t)n, c.hash);
    OPENSSL_free(spki);
    tcn_buf claims = {0};
    assert_int_equal(tcn_ratls_claims_encode(&c, &claims, &e), TCN_OK);
    assert_int_equal(tcn_ratls_ext_encode(tag, evidence, len, claims.p, claims.len, ext_out, &e), TCN_OK);
    X509 *x = NULL;
    assert_int_equal(tcn_ratls_cert_sign(k, ext_out->p, ext_out->len, when - 40 * 86400000LL, when + 40 * 86400000LL, &x, &e),
                     TCN_OK);
    tcn_buf_free(&claims);
    EVP_PKEY_free(k);
    return x;
}

static void test_sgx_quote_in_extension(void **state)
{
    (void)state;
    tcn_error e;
    size_t qlen;
    uint8_t *quote = tcn_test_read(SGX_SAMPLE "/quote.bin", &qlen);
    tcn_dcap_collateral col;
    assert_int_equal(tcn_dcap_collateral_load_dir(tcn_test_path(SGX_SAMPLE), &col, &e), TCN_OK);
    int64_t when = at("2025-07-01T00:00:00Z"); /* inside every collateral window (PROVENANCE) */
    tcn_buf ext = {0};
    X509 *x = cert_with(quote, qlen, TCN_RATLS_TAG_INTEL_QUOTE, when, &ext);

    /* It travels intact. */
    tcn_ratls_ext parsed;
    assert_int_equal(tcn_ratls_ext_parse(ext.p, ext.len, &parsed, &e), TCN_OK);
    assert_int_equal(parsed.tag, TCN_RATLS_TAG_INTEL_QUOTE);
    assert_int_equal(parsed.evidence_len, qlen);
    assert_memory_equal(parsed.evidence, quote, qlen);

    /* Verified as an SGX peer allowed by measurement: authentic, but the
     * report data ("Hello, world!") is not SHA-512 of our claims. */
    tcn_ratls_policy pol;
    tcn_ratls_policy_default(&pol);
    uint8_t mrenclave[32];
    assert_int_equal(tcn_hex_decode_exact("33d8736db756ed4997e04ba358d27833188f1932ff7b1d156904d3f560452fbb", mrenclave,
                                          32, &e),
                     TCN_OK);
    assert_int_equal(tcn_policy_add_measurement(&pol.attest, mrenclave, 32, &e), TCN_OK);
    pol.collateral = &col;
    pol.now_ms = when;
    tcn_ratls_peer *p = calloc(1, sizeof(*p));
    assert_int_equal(tcn_ratls_verify_cert(x, &pol, p, &e), TCN_ERR_BINDING);
    assert_int_equal(p->reason, TCN_RATLS_REPORT_DATA);
    assert_non_null(strstr(e.msg, "report data does not match SHA-512 of the claims"));
    assert_int_equal(p->claims.tee, TCN_TEE_SGX);
    assert_memory_equal(p->claims.measurement, mrenclave, 32);
    assert_int_equal(p->claims.tcb_status, TCN_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED);
    assert_memory_equal(p->claims.report_data, "Hello, world!", 13);

    /* Without collateral, a quote cannot be judged. */
    pol.collateral = NULL;
    assert_int_equal(tcn_ratls_verify_cert(x, &pol, p, &e), TCN_ERR_COLLATERAL);
    assert_int_equal(p->reason, TCN_RATLS_EVIDENCE);
    /* After the collateral expired: refused as evidence, before any binding. */
    pol.collateral = &col;
    pol.now_ms = at("2025-08-01T00:00:00Z");
    assert_int_not_equal(tcn_ratls_verify_cert(x, &pol, p, &e), TCN_OK);
    assert_int_equal(p->reason, TCN_RATLS_EVIDENCE);
    print_message("expired collateral: %s\n", e.msg);
    /* One flipped bit of the quote's body: not authentic any more. */
    X509_free(x);
    ext.len = 0;
    quote[200] ^= 1;
    x = cert_with(quote, qlen, TCN_RATLS_TAG_INTEL_QUOTE, when, &ext);
    pol.now_ms = when;
    assert_int_not_equal(tcn_ratls_verify_cert(x, &pol, p, &e), TCN_OK);
    assert_int_equal(p->reason, TCN_RATLS_EVIDENCE);
    assert_int_equal(e.code, TCN_ERR_BAD_SIGNATURE);
    quote[200] ^= 1;
    /* Under the sim tag: the tag names another format. */
    X509_free(x);
    ext.len = 0;
    x = cert_with(quote, qlen, TCN_RATLS_TAG_SIM, when, &ext);
    assert_int_equal(tcn_ratls_verify_cert(x, &pol, p, &e), TCN_ERR_MALFORMED);
    assert_int_equal(p->reason, TCN_RATLS_TAG_MISMATCH);

    X509_free(x);
    free(p);
    tcn_buf_free(&ext);
    tcn_dcap_collateral_free(&col);
    free(quote);
}

static void test_nitro_document_in_extension(void **state)
{
    (void)state;
    tcn_error e;
    size_t dlen;
    uint8_t *doc = tcn_test_read(NITRO_SAMPLE "/attestation_doc.cbor", &dlen);
    tcn_nitro_doc d;
    assert_int_equal(tcn_nitro_doc_parse(doc, dlen, &d, &e), TCN_OK);
    int64_t when = d.timestamp_ms + 1000; /* the document's chain is valid for ~3 hours after it */
    uint8_t pcr0[48];
    memcpy(pcr0, d.pcrs[0], 48);
    tcn_nitro_doc_free(&d);

    tcn_buf ext = {0};
    X509 *x = cert_with(doc, dlen, TCN_RATLS_TAG_NITRO, when, &ext);
    tcn_ratls_ext parsed;
    assert_int_equal(tcn_ratls_ext_parse(ext.p, ext.len, &parsed, &e), TCN_OK);
    assert_memory_equal(parsed.evidence, doc, dlen);

    tcn_ratls_policy pol;
    tcn_ratls_policy_default(&pol);
    assert_int_equal(tcn_policy_add_measurement(&pol.attest, pcr0, 48, &e), TCN_OK);
    pol.now_ms = when;
    tcn_ratls_peer *p = calloc(1, sizeof(*p));
    /* This document's user_data is null: there is nothing to bind. */
    assert_int_equal(tcn_ratls_verify_cert(x, &pol, p, &e), TCN_ERR_BINDING);
    assert_int_equal(p->reason, TCN_RATLS_REPORT_DATA);
    assert_non_null(strstr(e.msg, "the nitro evidence carries no 64-byte report data"));
    assert_int_equal(p->claims.tee, TCN_TEE_NITRO);
    assert_memory_equal(p->claims.measurement, pcr0, 48);
    X509_free(x);
    free(p);
    tcn_buf_free(&ext);
    free(doc);
}

int main(void)
{
    if (tcn_crypto_init() != TCN_OK)
        return 1;
    if (!tcn_test_have_testdata(SGX_SAMPLE) || !tcn_test_have_testdata(NITRO_SAMPLE))
        return TCN_TEST_SKIP;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sgx_quote_in_extension),
        cmocka_unit_test(test_nitro_document_in_extension),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
