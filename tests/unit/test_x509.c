/* Unit tests: chain validation to a pinned root, CRLs, error mapping, the
 * signature cache, raw ECDSA, and the pinned roots themselves. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "attest/roots.h"
#include "attest/x509.h"
#include "testlib.h"
#include "util/secmem.h"

#define T0 1700000000LL /* 2023-11-14: "now" in these tests */
#define DAY 86400LL

static EVP_PKEY *new_key(void)
{
    EVP_PKEY *k = EVP_EC_gen("P-256");
    assert_non_null(k);
    return k;
}

static void add_ext(X509 *c, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, issuer, c, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    assert_non_null(ext);
    assert_int_equal(X509_add_ext(c, ext, -1), 1);
    X509_EXTENSION_free(ext);
}

/* issuer NULL: self-signed. Validity [T0+nb_days, T0+na_days]. */
static X509 *new_cert(const char *cn, EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key, int ca, long serial,
                      long nb_days, long na_days)
{
    X509 *c = X509_new();
    assert_non_null(c);
    X509_set_version(c, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(c), serial);
    X509_NAME *name = X509_NAME_new();
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
    X509_set_subject_name(c, name);
    X509_set_issuer_name(c, issuer ? X509_get_subject_name(issuer) : name);
    X509_NAME_free(name);
    ASN1_TIME_set(X509_getm_notBefore(c), (time_t)(T0 + nb_days * DAY));
    ASN1_TIME_set(X509_getm_notAfter(c), (time_t)(T0 + na_days * DAY));
    X509_set_pubkey(c, key);
    add_ext(c, issuer ? issuer : c, NID_basic_constraints, ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
    add_ext(c, issuer ? issuer : c, NID_key_usage, ca ? "critical,keyCertSign,cRLSign" : "critical,digitalSignature");
    add_ext(c, issuer ? issuer : c, NID_subject_key_identifier, "hash");
    add_ext(c, issuer ? issuer : c, NID_authority_key_identifier, "keyid:always");
    assert_true(X509_sign(c, issuer_key, EVP_sha256()) > 0);
    return c;
}

static X509_CRL *new_crl(X509 *issuer, EVP_PKEY *key, long revoked_serial, long this_days, long next_days)
{
    X509_CRL *crl = X509_CRL_new();
    X509_CRL_set_version(crl, 1);
    X509_CRL_set_issuer_name(crl, X509_get_subject_name(issuer));
    ASN1_TIME *t = ASN1_TIME_new();
    ASN1_TIME_set(t, (time_t)(T0 + this_days * DAY));
    X509_CRL_set1_lastUpdate(crl, t);
    ASN1_TIME_set(t, (time_t)(T0 + next_days * DAY));
    X509_CRL_set1_nextUpdate(crl, t);
    if (revoked_serial > 0) {
        X509_REVOKED *r = X509_REVOKED_new();
        ASN1_INTEGER *s = ASN1_INTEGER_new();
        ASN1_INTEGER_set(s, revoked_serial);
        X509_REVOKED_set_serialNumber(r, s);
        ASN1_TIME_set(t, (time_t)(T0 - DAY));
        X509_REVOKED_set_revocationDate(r, t);
        X509_CRL_add0_revoked(crl, r);
        ASN1_INTEGER_free(s);
    }
    ASN1_TIME_free(t);
    X509_CRL_sort(crl);
    assert_true(X509_CRL_sign(crl, key, EVP_sha256()) > 0);
    return crl;
}

struct pki {
    EVP_PKEY *root_key, *ca_key, *leaf_key;
    X509 *root, *ca, *leaf;
    STACK_OF(X509) *untrusted;
};

static void pki_make(struct pki *p, long leaf_nb, long leaf_na)
{
    p->root_key = new_key();
    p->ca_key = new_key();
    p->leaf_key = new_key();
    p->root = new_cert("Test Root", p->root_key, NULL, p->root_key, 1, 1, -1000, 1000);
    p->ca = new_cert("Test CA", p->ca_key, p->root, p->root_key, 1, 2, -500, 500);
    p->leaf = new_cert("Test Leaf", p->leaf_key, p->ca, p->ca_key, 0, 3, leaf_nb, leaf_na);
    p->untrusted = sk_X509_new_null();
    sk_X509_push(p->untrusted, p->ca);
}

static void pki_free(struct pki *p)
{
    sk_X509_free(p->untrusted);
    X509_free(p->leaf);
    X509_free(p->ca);
    X509_free(p->root);
    EVP_PKEY_free(p->leaf_key);
    EVP_PKEY_free(p->ca_key);
    EVP_PKEY_free(p->root_key);
}

static void test_chain_ok_and_times(void **state)
{
    (void)state;
    struct pki p;
    pki_make(&p, -10, 10);
    tcn_error e;
    assert_int_equal(tcn_x509_verify_chain(p.leaf, p.untrusted, p.root, NULL, T0 * 1000, "test chain", &e), TCN_OK);
    assert_int_equal(tcn_x509_verify_chain(p.leaf, p.untrusted, p.root, NULL, (T0 + 11 * DAY) * 1000, "test chain", &e),
                     TCN_ERR_EXPIRED);
    assert_non_null(strstr(e.msg, "test chain: certificate 'CN=Test Leaf' expired"));
    assert_int_equal(tcn_x509_verify_chain(p.leaf, p.untrusted, p.root, NULL, (T0 - 11 * DAY) * 1000, "test chain", &e),
                     TCN_ERR_NOT_YET_VALID);
    assert_non_null(strstr(e.msg, "not yet valid"));
    /* A time OpenSSL cannot compare (year 10000 and beyond) is an error, not "inside the window". */
    assert_int_not_equal(tcn_x509_verify_chain(p.leaf, p.untrusted, p.root, NULL, 253402300800000LL + DAY * 1000, "c", &e),
                         TCN_OK);
    assert_int_not_equal(tcn_x509_verify_chain(p.leaf, p.untrusted, p.root, NULL, INT64_MAX / 2, "c", &e), TCN_OK);
    /* The repeat hits the signature cache, and times are still checked. */
    tcn_x509_cache_clear();
    assert_int_equal(tcn_x509_verify_chain(p.leaf, p.untrusted, p.root, NULL, T0 * 1000, "c", &e), TCN_OK);
    uint64_t hits, misses;
    tcn_x509_cache_stats(&hits, &misses);
    assert_true(misses >= 2);
    assert_int_equal(tcn_x509_verify_chain(p.leaf, p.untrusted, p.root, NULL, T0 * 1000, "c", &e), TCN_OK);
    uint64_t hits2, misses2;
    tcn_x509_cache_stats(&hits2, &misses2);
    assert_true(hits2 > hits);
    assert_true(misses2 == misses);
    assert_int_equal(tcn_x509_verify_chain(p.leaf, p.untrusted, p.root, NULL, (T0 + 11 * DAY) * 1000, "c", &e),
                     TCN_ERR_EXPIRED);
    pki_free(&p);
}

static void test_wrong_root_and_bad_signature(void **state)
{
    (void)state;
    struct pki p, q;
    pki_make(&p, -10, 10);
    pki_make(&q, -10, 10);
    tcn_error e;
    /* Pinned root is another PKI's root. */
    assert_int_equal(tcn_x509_verify_chain(p.leaf, p.untrusted, q.root, NULL, T0 * 1000, "c", &e),
                     TCN_ERR_UNTRUSTED_ROOT);
    /* The chain offers its own root, which is not the pinned one. */
    sk_X509_push(p.untrusted, p.root);
    assert_int_equal(tcn_x509_verify_chain(p.leaf, p.untrusted, q.root, NULL, T0 * 1000, "c", &e),
                     TCN_ERR_UNTRUSTED_ROOT);
    assert_non_null(strstr(e.msg, "'CN=Test Root' is not the pinned root"));
    /* ...but offering the pinned root itself is fine. */
    assert_int_equal(tcn_x509_verify_chain(p.leaf, p.untrusted, p.root, NULL, T0 * 1000, "c", &e), TCN_OK);
    (void)sk_X509_pop(p.untrusted);
    /* A leaf signed by a CA key other than the one its issuer certifies. */
    X509 *forged = new_cert("Test Leaf", p.leaf_key, p.ca, q.ca_key, 0, 3, -10, 10);
    tcn_x509_cache_clear();
    int rc = tcn_x509_verify_chain(forged, p.untrusted, p.root, NULL, T0 * 1000, "c", &e);
    assert_true(rc == TCN_ERR_BAD_SIGNATURE || rc == TCN_ERR_CERT_CHAIN);
    X509_free(forged);
    pki_free(&p);
    pki_free(&q);
}

static void test_crls(void **state)
{
    (void)state;
    struct pki p;
    pki_make(&p, -10, 10);
    tcn_error e;
    STACK_OF(X509_CRL) *crls = sk_X509_CRL_new_null();
    X509_CRL *root_crl = new_crl(p.root, p.root_key, 0, -5, 25);
    X509_CRL *ca_crl = new_crl(p.ca, p.ca_key, 0, -5, 25);
    sk_X509_CRL_push(crls, root_crl);
    sk_X509_CRL_push(crls, ca_crl);
    assert_int_equal(tcn_x509_verify_chain(p.leaf, p.untrusted, p.root, crls, T0 * 1000, "pck", &e), TCN_OK);
    /* Missing CA CRL. */
    (void)sk_X509_CRL_pop(crls);
    assert_int_equal(tcn_x509_verify_chain(p.leaf, p.untrusted, p.root, crls, T0 * 1000, "pck", &e), TCN_ERR_COLLATERAL);
    /* Leaf revoked. */
    X509_CRL *revoking = new_crl(p.ca, p.ca_key, 3, -5, 25);
    sk_X509_CRL_push(crls, revoking);
    assert_int_equal(tcn_x509_verify_chain(p.leaf, p.untrusted, p.root, crls, T0 * 1000, "pck", &e), TCN_ERR_REVOKED);
    assert_non_null(strstr(e.msg, "'CN=Test Leaf' is revoked"));
    (void)sk_X509_CRL_pop(crls);
    /* Expired CA CRL: refused, and the message names the CRL and its dates. */
    X509_CRL *old = new_crl(p.ca, p.ca_key, 0, -30, -1);
    sk_X509_CRL_push(crls, old);
    assert_int_equal(tcn_x509_verify_chain(p.leaf, p.untrusted, p.root, crls, T0 * 1000, "pck", &e), TCN_ERR_EXPIRED);
    assert_non_null(strstr(e.msg, "CRL issued by 'CN=Test CA' has expired"));
    assert_non_null(strstr(e.msg, "nextUpdate 2023-11-13T22:13:20Z"));
    (void)sk_X509_CRL_pop(crls);
    /* CRL signed by the wrong key. */
    X509_CRL *forged = new_crl(p.ca, p.root_key, 0, -5, 25);
    sk_X509_CRL_push(crls, forged);
    int rc = tcn_x509_verify_chain(p.leaf, p.untrusted, p.root, crls, T0 * 1000, "pck", &e);
    assert_true(rc == TCN_ERR_BAD_SIGNATURE || rc == TCN_ERR_COLLATERAL);
    sk_X509_CRL_free(crls);
    X509_CRL_free(root_crl);
    X509_CRL_free(ca_crl);
    X509_CRL_free(revoking);
    X509_CRL_free(old);
    X509_CRL_free(forged);
    pki_free(&p);
}

static void test_parsers(void **state)
{
    (void)state;
    struct pki p;
    pki_make(&p, -10, 10);
    BIO *b = BIO_new(BIO_s_mem());
    PEM_write_bio_X509(b, p.leaf);
    PEM_write_bio_X509(b, p.ca);
    char *pem;
    long n = BIO_get_mem_data(b, &pem);
    char buf[8192];
    assert_true(n > 0 && (size_t)n + 2 < sizeof(buf));
    memcpy(buf, pem, (size_t)n);
    buf[n] = '\0'; /* SGX quotes end the chain with a NUL */
    tcn_error e;
    STACK_OF(X509) *sk = NULL;
    assert_int_equal(tcn_x509_parse_pem_chain((uint8_t *)buf, (size_t)n + 1, &sk, &e), TCN_OK);
    assert_int_equal(sk_X509_num(sk), 2);
    assert_true(tcn_x509_equal(sk_X509_value(sk, 0), p.leaf));
    sk_X509_pop_free(sk, X509_free);
    /* Nothing but whitespace may stand outside the blocks. */
    memcpy(buf + n, "junk", 5);
    assert_int_equal(tcn_x509_parse_pem_chain((uint8_t *)buf, (size_t)n + 4, &sk, &e), TCN_ERR_MALFORMED);
    assert_non_null(strstr(e.msg, "unexpected bytes"));
    char lead[8192];
    snprintf(lead, sizeof(lead), "text\n%.*s", (int)n, pem);
    assert_int_equal(tcn_x509_parse_pem_chain((uint8_t *)lead, strlen(lead), &sk, &e), TCN_ERR_MALFORMED);
    /* A block cut off before its END line. */
    memcpy(buf, pem, (size_t)n);
    assert_int_equal(tcn_x509_parse_pem_chain((uint8_t *)buf, (size_t)n / 4, &sk, &e), TCN_ERR_MALFORMED);
    assert_non_null(strstr(e.msg, "no END line"));
    /* Base64 damage that breaks the DER. */
    memcpy(buf, pem, (size_t)n);
    memcpy(buf + 40, "!!!!", 4);
    assert_int_equal(tcn_x509_parse_pem_chain((uint8_t *)buf, (size_t)n, &sk, &e), TCN_ERR_MALFORMED);
    assert_int_equal(tcn_x509_parse_pem_chain((const uint8_t *)"\n\n", 2, &sk, &e), TCN_ERR_MALFORMED);
    assert_non_null(strstr(e.msg, "no certificate"));
    BIO_free(b);

    unsigned char *der = NULL;
    int dl = i2d_X509(p.leaf, &der);
    X509 *c = NULL;
    assert_int_equal(tcn_x509_parse_der(der, (size_t)dl, &c, &e), TCN_OK);
    X509_free(c);
    assert_int_equal(tcn_x509_parse_der(der, (size_t)dl - 1, &c, &e), TCN_ERR_MALFORMED);
    uint8_t longer[4096];
    memcpy(longer, der, (size_t)dl);
    longer[dl] = 0;
    assert_int_equal(tcn_x509_parse_der(longer, (size_t)dl + 1, &c, &e), TCN_ERR_MALFORMED);
    assert_non_null(strstr(e.msg, "trailing"));
    OPENSSL_free(der);
    pki_free(&p);
}

static void test_ecdsa_raw(void **state)
{
    (void)state;
    EVP_PKEY *k = new_key();
    const uint8_t msg[] = "quote body";
    EVP_MD_CTX *m = EVP_MD_CTX_new();
    uint8_t der[128];
    size_t dl = sizeof(der);
    assert_int_equal(EVP_DigestSignInit(m, NULL, EVP_sha256(), NULL, k), 1);
    assert_int_equal(EVP_DigestSign(m, der, &dl, msg, sizeof(msg)), 1);
    EVP_MD_CTX_free(m);
    const unsigned char *pp = der;
    ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &pp, (long)dl);
    uint8_t rs[64] = {0};
    const BIGNUM *r, *s;
    ECDSA_SIG_get0(sig, &r, &s);
    BN_bn2binpad(r, rs, 32);
    BN_bn2binpad(s, rs + 32, 32);
    ECDSA_SIG_free(sig);
    tcn_error e;
    assert_int_equal(tcn_ecdsa_verify_raw(k, EVP_sha256(), msg, sizeof(msg), rs, 64, &e), TCN_OK);
    for (int i = 0; i < 64; i++) {
        rs[i] ^= 0x80;
        assert_int_equal(tcn_ecdsa_verify_raw(k, EVP_sha256(), msg, sizeof(msg), rs, 64, &e), TCN_ERR_BAD_SIGNATURE);
        rs[i] ^= 0x80;
    }
    assert_int_equal(tcn_ecdsa_verify_raw(k, EVP_sha256(), msg, sizeof(msg), rs, 63, &e), TCN_ERR_MALFORMED);
    /* The x||y form: the same key rebuilt verifies; a point off the curve is refused. */
    uint8_t pub[65];
    size_t pl = 0;
    assert_int_equal(EVP_PKEY_get_octet_string_param(k, "encoded-pub-key", pub, sizeof(pub), &pl), 1);
    assert_int_equal(pl, 65);
    EVP_PKEY *k2 = NULL;
    assert_int_equal(tcn_ec_p256_from_xy(pub + 1, &k2, &e), TCN_OK);
    assert_int_equal(tcn_ecdsa_verify_raw(k2, EVP_sha256(), msg, sizeof(msg), rs, 64, &e), TCN_OK);
    EVP_PKEY_free(k2);
    pub[64] ^= 1;
    assert_int_equal(tcn_ec_p256_from_xy(pub + 1, &k2, &e), TCN_ERR_MALFORMED);
    EVP_PKEY_free(k);
}

/* Raw r||s from an OpenSSL DER signature. */
static void der_to_rs(const uint8_t *der, size_t dl, uint8_t *rs, int half)
{
    const unsigned char *pp = der;
    ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &pp, (long)dl);
    assert_non_null(sig);
    const BIGNUM *r, *s;
    ECDSA_SIG_get0(sig, &r, &s);
    BN_bn2binpad(r, rs, half);
    BN_bn2binpad(s, rs + half, half);
    ECDSA_SIG_free(sig);
}

/* P-384/SHA-384 goes through Nettle: it must agree with OpenSSL on valid
 * signatures, on every corrupted one, and on out-of-range r and s. */
static void test_ecdsa_p384_agrees_with_openssl(void **state)
{
    (void)state;
    tcn_error e;
    for (int k = 0; k < 20; k++) {
        EVP_PKEY *key = EVP_EC_gen("P-384");
        assert_non_null(key);
        uint8_t msg[64];
        tcn_random_bytes(msg, sizeof(msg));
        EVP_MD_CTX *m = EVP_MD_CTX_new();
        uint8_t der[160];
        size_t dl = sizeof(der);
        assert_int_equal(EVP_DigestSignInit(m, NULL, EVP_sha384(), NULL, key), 1);
        assert_int_equal(EVP_DigestSign(m, der, &dl, msg, sizeof(msg)), 1);
        EVP_MD_CTX_free(m);
        uint8_t rs[96];
        der_to_rs(der, dl, rs, 48);
        assert_int_equal(tcn_ecdsa_verify_raw(key, EVP_sha384(), msg, sizeof(msg), rs, 96, &e), TCN_OK);
        /* Corruptions of signature and message. */
        for (int i = 0; i < 96; i += 7) {
            rs[i] ^= (uint8_t)(1u << (i % 8));
            assert_int_equal(tcn_ecdsa_verify_raw(key, EVP_sha384(), msg, sizeof(msg), rs, 96, &e),
                             TCN_ERR_BAD_SIGNATURE);
            rs[i] ^= (uint8_t)(1u << (i % 8));
        }
        msg[k % 64] ^= 1;
        assert_int_equal(tcn_ecdsa_verify_raw(key, EVP_sha384(), msg, sizeof(msg), rs, 96, &e), TCN_ERR_BAD_SIGNATURE);
        msg[k % 64] ^= 1;
        /* r = 0, s = 0, and r = s = 0xff..ff (>= q) are refused. */
        uint8_t bad[96];
        memcpy(bad, rs, 96);
        memset(bad, 0, 48);
        assert_int_equal(tcn_ecdsa_verify_raw(key, EVP_sha384(), msg, sizeof(msg), bad, 96, &e), TCN_ERR_BAD_SIGNATURE);
        memcpy(bad, rs, 96);
        memset(bad + 48, 0, 48);
        assert_int_equal(tcn_ecdsa_verify_raw(key, EVP_sha384(), msg, sizeof(msg), bad, 96, &e), TCN_ERR_BAD_SIGNATURE);
        memset(bad, 0xff, 96);
        assert_int_equal(tcn_ecdsa_verify_raw(key, EVP_sha384(), msg, sizeof(msg), bad, 96, &e), TCN_ERR_BAD_SIGNATURE);
        /* The same signature with SHA-256 takes OpenSSL's path and fails there too. */
        assert_int_equal(tcn_ecdsa_verify_raw(key, EVP_sha256(), msg, sizeof(msg), rs, 96, &e), TCN_ERR_BAD_SIGNATURE);
        EVP_PKEY_free(key);
    }
}

/* The pinned roots are byte-identical to the published files in testdata. */
static void test_pinned_roots_match_testdata(void **state)
{
    (void)state;
    const char *files[] = {"attestation/roots/intel_sgx_root_ca.pem", "attestation/roots/aws_nitro_enclaves_root_g1.pem"};
    X509 *pinned[] = {tcn_root_intel_sgx(), tcn_root_aws_nitro()};
    for (int i = 0; i < 2; i++) {
        size_t n;
        uint8_t *pem = tcn_test_read(files[i], &n);
        STACK_OF(X509) *sk = NULL;
        tcn_error e;
        assert_int_equal(tcn_x509_parse_pem_chain(pem, n, &sk, &e), TCN_OK);
        assert_true(tcn_x509_equal(sk_X509_value(sk, 0), pinned[i]));
        sk_X509_pop_free(sk, X509_free);
        free(pem);
    }
}

int main(void)
{
    if (tcn_crypto_init() != TCN_OK)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chain_ok_and_times), cmocka_unit_test(test_wrong_root_and_bad_signature),
        cmocka_unit_test(test_crls),               cmocka_unit_test(test_parsers),
        cmocka_unit_test(test_ecdsa_raw),          cmocka_unit_test(test_ecdsa_p384_agrees_with_openssl),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    if (!tcn_test_have_testdata("attestation/roots"))
        return rc ? rc : TCN_TEST_SKIP;
    const struct CMUnitTest data_tests[] = {cmocka_unit_test(test_pinned_roots_match_testdata)};
    return rc | cmocka_run_group_tests(data_tests, NULL, NULL);
}
