/* tcn_dcap_verify: the DCAP quote verification steps in order, each failing with its own error. */
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "attest/dcap.h"
#include "attest/dcap_collateral.h"
#include "attest/dcap_quote.h"
#include "attest/roots.h"
#include "attest/x509.h"
#include "util/hash.h"
#include "util/timefmt.h"

/* CN of PCK leaf certificates (PCK Certificate and CRL Profile Specification;
 * QVL QuoteVerifier 4.1.2.4.4 checks for this phrase). */
#define PCK_LEAF_CN "Intel SGX PCK Certificate"
#define PCK_CHAIN_CERTS_MIN 2 /* leaf, PCK CA; the root may be omitted (it is pinned) */
#define PCK_CHAIN_CERTS_MAX 3
#define SGX_EXT_OID "1.2.840.113741.1.13.1"

/* Everything one verification holds; released by ctx_free. */
typedef struct verify_ctx {
    const uint8_t *quote;
    const tcn_dcap_collateral *col;
    int64_t at_ms;
    tcn_dcap_quote q;
    bool have_crls;
    X509_CRL *pck_crl;
    X509_CRL *root_crl;
    STACK_OF(X509_CRL) *root_crls; /* root CA CRL: for chains issued by the root */
    STACK_OF(X509_CRL) *all_crls;  /* PCK CRL + root CA CRL: for the PCK chain */
    uint8_t root_crls_id[32];      /* SHA-256 identities of the CRL bytes (caches) */
    uint8_t all_crls_id[32];
    STACK_OF(X509) *tcb_chain;
    STACK_OF(X509) *qe_chain; /* NULL when it is the same PEM as tcb_chain */
    STACK_OF(X509) *pck_chain;
    STACK_OF(X509) *crl_chain;
    X509 *pck_leaf;
    X509 *pck_ca;
    EVP_PKEY *att_key;
    tcn_dcap_tcb_info ti;
    tcn_dcap_qe_identity qi;
    tcn_dcap_pck_ext ext;
} verify_ctx;

static void ctx_free(verify_ctx *c)
{
    sk_X509_CRL_free(c->root_crls); /* shallow: the CRLs are freed below */
    sk_X509_CRL_free(c->all_crls);
    X509_CRL_free(c->pck_crl);
    X509_CRL_free(c->root_crl);
    sk_X509_pop_free(c->tcb_chain, X509_free);
    sk_X509_pop_free(c->qe_chain, X509_free);
    sk_X509_pop_free(c->pck_chain, X509_free);
    sk_X509_pop_free(c->crl_chain, X509_free);
    EVP_PKEY_free(c->att_key);
    tcn_dcap_tcb_info_free(&c->ti);
    tcn_dcap_qe_identity_free(&c->qi);
}

static bool present(tcn_slice s) { return s.p != NULL && s.len > 0; }

static void asn1_time_text(const ASN1_TIME *t, char *out, size_t cap)
{
    struct tm tm;
    if (t == NULL || !ASN1_TIME_to_tm(t, &tm)) {
        snprintf(out, cap, "?");
        return;
    }
    snprintf(out, cap, "%04d-%02d-%02dT%02d:%02d:%02dZ", (tm.tm_year + 1900) % 10000, (tm.tm_mon + 1) % 100,
             tm.tm_mday % 100, tm.tm_hour % 100, tm.tm_min % 100, tm.tm_sec % 100);
}

/* thisUpdate <= at < nextUpdate, with the dates in the message. */
static int crl_window(X509_CRL *crl, int64_t at_ms, const char *what, tcn_error *err)
{
    const ASN1_TIME *this_up = X509_CRL_get0_lastUpdate(crl);
    const ASN1_TIME *next_up = X509_CRL_get0_nextUpdate(crl);
    TCN_ENSURE(this_up != NULL && next_up != NULL, err, TCN_ERR_COLLATERAL, "%s has no thisUpdate/nextUpdate", what);
    time_t at = (time_t)(at_ms / 1000);
    char at_s[40], t[40];
    tcn_time_format_rfc3339(at_ms, at_s, sizeof(at_s));
    int cmp_this = X509_cmp_time(this_up, &at);
    int cmp_next = X509_cmp_time(next_up, &at);
    TCN_ENSURE(cmp_this != 0 && cmp_next != 0, err, TCN_ERR_MALFORMED, "%s: unreadable thisUpdate/nextUpdate", what);
    if (cmp_this > 0) {
        asn1_time_text(this_up, t, sizeof(t));
        return tcn_err_set(err, TCN_ERR_NOT_YET_VALID, "%s not yet valid (thisUpdate %s, verification time %s)", what,
                           t, at_s);
    }
    if (cmp_next < 0) {
        asn1_time_text(next_up, t, sizeof(t));
        return tcn_err_set(err, TCN_ERR_EXPIRED, "%s expired (nextUpdate %s, verification time %s)", what, t, at_s);
    }
    return TCN_OK;
}

static void name_text(const X509_NAME *n, char *out, size_t cap)
{
    out[0] = '\0';
    BIO *bio = BIO_new(BIO_s_mem());
    if (bio == NULL)
        return;
    X509_NAME_print_ex(bio, n, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
    int k = BIO_read(bio, out, (int)cap - 1);
    out[k > 0 ? k : 0] = '\0';
    BIO_free(bio);
}

/* Step: collateral present, CRLs given as a pair, CRLs parsed; the root CA
 * CRL must come from the pinned root and be current (it is used by every
 * chain below). */
static int step_collateral(verify_ctx *c, tcn_error *err)
{
    const tcn_dcap_collateral *col = c->col;
    static const struct {
        size_t off;
        const char *name;
    } required[] = {
        {offsetof(tcn_dcap_collateral, tcb_info), "tcb_info.json"},
        {offsetof(tcn_dcap_collateral, tcb_info_issuer_chain), "tcb_info_issuer_chain.pem"},
        {offsetof(tcn_dcap_collateral, qe_identity), "qe_identity.json"},
        {offsetof(tcn_dcap_collateral, qe_identity_issuer_chain), "qe_identity_issuer_chain.pem"},
    };
    for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
        const tcn_slice *s = (const tcn_slice *)((const char *)col + required[i].off);
        TCN_ENSURE(present(*s), err, TCN_ERR_COLLATERAL, "collateral missing: %s", required[i].name);
    }
    bool pck = present(col->pck_crl), root = present(col->root_ca_crl);
    TCN_ENSURE(pck == root, err, TCN_ERR_COLLATERAL,
               "collateral: pck_crl.der and root_ca_crl.der go together, but only %s is given",
               pck ? "pck_crl.der" : "root_ca_crl.der");
    c->have_crls = pck;
    if (!c->have_crls)
        return TCN_OK;
    if (tcn_x509_parse_crl(col->pck_crl.p, col->pck_crl.len, &c->pck_crl, err) != TCN_OK)
        return tcn_err_wrap(err, "PCK CRL");
    if (tcn_x509_parse_crl(col->root_ca_crl.p, col->root_ca_crl.len, &c->root_crl, err) != TCN_OK)
        return tcn_err_wrap(err, "root CA CRL");
    tcn_dcap_hash_slices(&col->root_ca_crl, 1, c->root_crls_id);
    tcn_slice both[2] = {col->pck_crl, col->root_ca_crl};
    tcn_dcap_hash_slices(both, 2, c->all_crls_id);
    c->root_crls = sk_X509_CRL_new_null();
    c->all_crls = sk_X509_CRL_new_null();
    TCN_ENSURE(c->root_crls != NULL && c->all_crls != NULL && sk_X509_CRL_push(c->root_crls, c->root_crl) &&
                   sk_X509_CRL_push(c->all_crls, c->pck_crl) && sk_X509_CRL_push(c->all_crls, c->root_crl),
               err, TCN_ERR_NOMEM, NULL);
    if (X509_NAME_cmp(X509_CRL_get_issuer(c->root_crl), X509_get_subject_name(tcn_root_intel_sgx())) != 0) {
        char iss[256];
        name_text(X509_CRL_get_issuer(c->root_crl), iss, sizeof(iss));
        return tcn_err_set(err, TCN_ERR_COLLATERAL, "root CA CRL is issued by '%s', not the Intel SGX Root CA", iss);
    }
    return crl_window(c->root_crl, c->at_ms, "root CA CRL", err);
}

/* Step: TCB info and QE identity, each signed by a TCB Signing certificate
 * that chains to the pinned root, each inside its validity window. */
static int step_tcb_info_and_qe_identity(verify_ctx *c, tcn_error *err)
{
    const tcn_dcap_collateral *col = c->col;
    TCN_GUARD(tcn_dcap_tcb_signer_verify(col->tcb_info_issuer_chain, c->root_crls, c->root_crls_id, c->at_ms,
                                         "TCB info issuer chain", &c->tcb_chain, err));
    TCN_GUARD(tcn_dcap_tcb_info_load(col->tcb_info, sk_X509_value(c->tcb_chain, 0), c->at_ms, &c->ti, err));
    STACK_OF(X509) *qe_chain = c->tcb_chain;
    /* PCS serves the same chain for both; verify it once then. */
    if (col->qe_identity_issuer_chain.len != col->tcb_info_issuer_chain.len ||
        memcmp(col->qe_identity_issuer_chain.p, col->tcb_info_issuer_chain.p, col->tcb_info_issuer_chain.len) != 0) {
        TCN_GUARD(tcn_dcap_tcb_signer_verify(col->qe_identity_issuer_chain, c->root_crls, c->root_crls_id, c->at_ms,
                                             "QE identity issuer chain", &c->qe_chain, err));
        qe_chain = c->qe_chain;
    }
    return tcn_dcap_qe_identity_load(col->qe_identity, sk_X509_value(qe_chain, 0), c->at_ms, &c->qi, err);
}

/* Step: the PCK chain from the quote, to the pinned root, with the PCK CRL
 * (which must be current, issued by the PCK leaf's issuer, and consistent
 * with pck_crl_issuer_chain when that is given) and the root CA CRL. */
static int step_pck_chain(verify_ctx *c, tcn_error *err)
{
    TCN_ENSURE(c->q.cert_type == TCN_DCAP_CERT_PCK_CHAIN, err, TCN_ERR_UNSUPPORTED,
               "certification data type %u is not supported (5, PCK certificate chain)", c->q.cert_type);
    if (tcn_dcap_pem_chain_cached(c->q.cert_data, &c->pck_chain, err) != TCN_OK)
        return tcn_err_wrap(err, "PCK chain in the quote");
    int n = sk_X509_num(c->pck_chain);
    TCN_ENSURE(n >= PCK_CHAIN_CERTS_MIN && n <= PCK_CHAIN_CERTS_MAX, err, TCN_ERR_MALFORMED,
               "PCK chain in the quote has %d certificates, expected leaf, PCK CA and root", n);
    c->pck_leaf = sk_X509_value(c->pck_chain, 0);
    for (int i = 1; i < n && c->pck_ca == NULL; i++)
        if (X509_NAME_cmp(X509_get_subject_name(sk_X509_value(c->pck_chain, i)), X509_get_issuer_name(c->pck_leaf)) ==
            0)
            c->pck_ca = sk_X509_value(c->pck_chain, i);

    if (c->have_crls) {
        TCN_GUARD(crl_window(c->pck_crl, c->at_ms, "PCK CRL", err));
        /* QVL QuoteVerifier 4.1.2.4.6: the CRL must be the one of the PCK's issuer. */
        if (X509_NAME_cmp(X509_CRL_get_issuer(c->pck_crl), X509_get_issuer_name(c->pck_leaf)) != 0) {
            char a[256], b[256];
            name_text(X509_CRL_get_issuer(c->pck_crl), a, sizeof(a));
            name_text(X509_get_issuer_name(c->pck_leaf), b, sizeof(b));
            return tcn_err_set(err, TCN_ERR_COLLATERAL, "PCK CRL is issued by '%s' but the PCK certificate by '%s'", a,
                               b);
        }
        if (present(c->col->pck_crl_issuer_chain)) {
            if (tcn_dcap_pem_chain_cached(c->col->pck_crl_issuer_chain, &c->crl_chain, err) != TCN_OK)
                return tcn_err_wrap(err, "PCK CRL issuer chain");
            X509 *issuer = sk_X509_value(c->crl_chain, 0);
            if (X509_NAME_cmp(X509_get_subject_name(issuer), X509_CRL_get_issuer(c->pck_crl)) != 0) {
                char a[256];
                tcn_x509_subject(issuer, a, sizeof(a));
                return tcn_err_set(err, TCN_ERR_COLLATERAL, "PCK CRL issuer chain starts with '%s', not the CRL issuer",
                                   a);
            }
            /* Usually the very PCK CA certificate of the quote, whose key the
             * PCK chain check below uses for the CRL signature anyway. */
            if (c->pck_ca == NULL || !tcn_x509_equal(issuer, c->pck_ca)) {
                uint8_t id[32];
                tcn_dcap_hash_slices(&c->col->pck_crl_issuer_chain, 1, id);
                TCN_GUARD(tcn_dcap_verify_chain_cached(issuer, c->crl_chain, id, c->root_crls, c->root_crls_id,
                                                       c->at_ms, "PCK CRL issuer chain", err));
                EVP_PKEY *k = X509_get0_pubkey(issuer);
                TCN_ENSURE(k != NULL && X509_CRL_verify(c->pck_crl, k) == 1, err, TCN_ERR_BAD_SIGNATURE,
                           "PCK CRL signature does not verify with the PCK CRL issuer chain");
            }
        }
    }
    uint8_t chain_id[32];
    tcn_dcap_hash_slices(&c->q.cert_data, 1, chain_id);
    TCN_GUARD(tcn_dcap_verify_chain_cached(c->pck_leaf, c->pck_chain, chain_id, c->have_crls ? c->all_crls : NULL,
                                           c->all_crls_id, c->at_ms, "PCK chain", err));
    char cn[128] = "";
    int k = X509_NAME_get_text_by_NID(X509_get_subject_name(c->pck_leaf), NID_commonName, cn, sizeof(cn));
    TCN_ENSURE(k > 0 && strcmp(cn, PCK_LEAF_CN) == 0, err, TCN_ERR_CERT_CHAIN,
               "PCK chain: leaf certificate CN '%s' is not '%s'", cn, PCK_LEAF_CN);
    return TCN_OK;
}

/* Steps: QE report signed by the PCK key, QE report data binds the
 * attestation key, quote signed by the attestation key. */
static int step_signatures(verify_ctx *c, tcn_error *err)
{
    const tcn_dcap_quote *q = &c->q;
    EVP_PKEY *pck_key = X509_get0_pubkey(c->pck_leaf);
    TCN_ENSURE(pck_key != NULL && EVP_PKEY_is_a(pck_key, "EC"), err, TCN_ERR_CERT_CHAIN,
               "PCK certificate has no EC public key");
    int rc = tcn_dcap_ecdsa_verify_cached(c->pck_leaf, c->quote + q->qe_report_off, TCN_DCAP_SGX_REPORT_LEN,
                                          q->qe_report_sig, err);
    if (rc == TCN_ERR_BAD_SIGNATURE)
        return tcn_err_set(err, rc, "QE report signature does not verify with the PCK key");
    TCN_GUARD(rc);

    /* Quote Library Reference, "QE Report": REPORTDATA = SHA-256(attestation
     * key || QE authentication data) || 32 zero bytes. */
    uint8_t h[TCN_SHA256_LEN];
    tcn_sha256_ctx hc;
    tcn_sha256_init(&hc);
    tcn_sha256_update(&hc, q->att_key, sizeof(q->att_key));
    if (q->qe_auth_data.len > 0)
        tcn_sha256_update(&hc, q->qe_auth_data.p, q->qe_auth_data.len);
    tcn_sha256_final(&hc, h);
    TCN_ENSURE(memcmp(h, q->qe_report.report_data, sizeof(h)) == 0, err, TCN_ERR_BINDING,
               "QE report data[0..32) is not SHA-256(attestation key || QE authentication data)");
    static const uint8_t zero[TCN_REPORT_DATA_LEN - SHA256_DIGEST_LENGTH];
    TCN_ENSURE(memcmp(q->qe_report.report_data + sizeof(h), zero, sizeof(zero)) == 0, err, TCN_ERR_BINDING,
               "QE report data[32..64) is not zero");

    if (tcn_ec_p256_from_xy(q->att_key, &c->att_key, err) != TCN_OK)
        return tcn_err_wrap(err, "attestation key");
    rc = tcn_ecdsa_verify_raw(c->att_key, EVP_sha256(), c->quote, q->signed_len, q->quote_sig, sizeof(q->quote_sig),
                              err);
    if (rc == TCN_ERR_BAD_SIGNATURE)
        return tcn_err_set(err, rc, "quote signature does not verify with the attestation key");
    return rc;
}

/* Step: the SGX extension of the PCK certificate. */
static int step_pck_extension(verify_ctx *c, tcn_error *err)
{
    ASN1_OBJECT *oid = OBJ_txt2obj(SGX_EXT_OID, 1);
    TCN_ENSURE(oid != NULL, err, TCN_ERR_NOMEM, NULL);
    int idx = X509_get_ext_by_OBJ(c->pck_leaf, oid, -1);
    int again = idx >= 0 ? X509_get_ext_by_OBJ(c->pck_leaf, oid, idx) : -1;
    ASN1_OBJECT_free(oid);
    TCN_ENSURE(idx >= 0, err, TCN_ERR_MALFORMED, "PCK certificate has no SGX extension (%s)", SGX_EXT_OID);
    TCN_ENSURE(again < 0, err, TCN_ERR_MALFORMED, "PCK certificate has two SGX extensions");
    ASN1_OCTET_STRING *v = X509_EXTENSION_get_data(X509_get_ext(c->pck_leaf, idx));
    TCN_ENSURE(v != NULL, err, TCN_ERR_MALFORMED, "PCK certificate SGX extension has no value");
    if (tcn_dcap_pck_ext_parse(ASN1_STRING_get0_data(v), (size_t)ASN1_STRING_length(v), &c->ext, err) != TCN_OK)
        return tcn_err_wrap(err, "PCK certificate");
    return TCN_OK;
}

static int add_advisories(tcn_claims *out, const char *const *ids, size_t n, tcn_error *err)
{
    for (size_t i = 0; i < n; i++) {
        bool have = false;
        for (size_t k = 0; k < out->advisory_count && !have; k++)
            have = strcmp(out->advisory_ids[k], ids[i]) == 0;
        TCN_ENSURE(have || out->advisory_count < TCN_ADVISORY_MAX, err, TCN_ERR_UNSUPPORTED,
                   "more than %d advisory IDs apply; claims cannot hold them all", TCN_ADVISORY_MAX);
        tcn_claims_add_advisory(out, ids[i]);
    }
    return TCN_OK;
}

/* Step: collateral against the quote, then the TCB status (QVL
 * QuoteVerifier 4.1.2.4.9 .. 4.1.2.4.17). */
static int step_tcb_status(verify_ctx *c, tcn_claims *out, tcn_error *err)
{
    const tcn_dcap_quote *q = &c->q;
    bool tdx = q->body_kind != TCN_DCAP_BODY_SGX;
    TCN_GUARD(tcn_dcap_tcb_info_match(&c->ti, &c->ext, tdx, err));
    const tcn_dcap_isv_level *qe_level;
    TCN_GUARD(tcn_dcap_qe_identity_match(&c->qi, &q->qe_report, tdx, &qe_level, err));
    const tcn_dcap_tcb_level *level;
    TCN_GUARD(tcn_dcap_match_tcb_level(c->ti.levels, c->ti.level_count, c->ext.tcb_comp, c->ext.pcesvn,
                                       tdx ? q->td.tee_tcb_svn : NULL, &level, err));
    tcn_tcb_status status = level->status;
    TCN_GUARD(add_advisories(out, level->advisory_ids, level->advisory_count, err));
    if (tdx) {
        /* TD 1.5 quotes may earn "TDRelaunchAdvised" in QVL (TEE_TCB_SVN2);
         * claims have no such status, and the status of the TD as it runs
         * now, computed here, is the conservative answer. */
        tcn_tcb_status module_status;
        const tcn_dcap_isv_level *module_level;
        TCN_GUARD(tcn_dcap_tdx_module_check(&c->ti, q->td.tee_tcb_svn, q->td.mr_signer_seam, q->td.seam_attributes,
                                            &module_status, &module_level, err));
        status = tcn_dcap_converge_status(status, module_status);
        if (module_level != NULL)
            TCN_GUARD(add_advisories(out, module_level->advisory_ids, module_level->advisory_count, err));
    }
    status = tcn_dcap_converge_status(status, qe_level->status);
    TCN_GUARD(add_advisories(out, qe_level->advisory_ids, qe_level->advisory_count, err));
    out->tcb_status = status;
    return TCN_OK;
}

static int verify_all(verify_ctx *c, size_t len, tcn_claims *out, tcn_error *err)
{
    TCN_GUARD(tcn_dcap_quote_parse(c->quote, len, &c->q, err));
    TCN_ENSURE(memcmp(c->q.qe_vendor_id, tcn_dcap_intel_qe_vendor_id, TCN_DCAP_QE_VENDOR_ID_LEN) == 0, err,
               TCN_ERR_UNSUPPORTED, "QE vendor ID is not Intel's (939a7233f79c4ca9940a0db3957f0607)");
    TCN_GUARD(step_collateral(c, err));
    TCN_GUARD(step_tcb_info_and_qe_identity(c, err));
    TCN_GUARD(step_pck_chain(c, err));
    TCN_GUARD(step_signatures(c, err));
    TCN_GUARD(step_pck_extension(c, err));
    TCN_GUARD(step_tcb_status(c, out, err));
    tcn_dcap_quote_to_claims(&c->q, out);
    out->timestamp_ms = 0; /* a quote carries no time of its own */
    out->revocation_checked = c->have_crls;
    return TCN_OK;
}

int tcn_dcap_verify(const uint8_t *quote, size_t len, const tcn_dcap_collateral *col, int64_t at_ms,
                    tcn_claims *out, tcn_error *err)
{
    TCN_ENSURE(quote != NULL || len == 0, err, TCN_ERR_USAGE, "dcap: no quote");
    TCN_ENSURE(col != NULL && out != NULL, err, TCN_ERR_USAGE, "dcap: no collateral or no output");
    verify_ctx c;
    memset(&c, 0, sizeof(c));
    c.quote = quote != NULL ? quote : (const uint8_t *)"";
    c.col = col;
    c.at_ms = at_ms;
    tcn_claims claims;
    memset(&claims, 0, sizeof(claims));
    int rc = verify_all(&c, len, &claims, err);
    ctx_free(&c);
    if (rc != TCN_OK)
        return tcn_err_wrap(err, "dcap");
    *out = claims;
    return TCN_OK;
}
