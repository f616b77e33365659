/* Unit tests: RA-TLS identities and certificates, every refusal of the
 * verifier, real TLS 1.3 handshakes over in-memory BIO pairs (in process),
 * re-attestation over the channel, and that the private key leaks nowhere. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "attest/provider.h"
#include "attest/sim.h"
#include "testlib.h"
#include "tls/ratls.h"
#include "util/encoding.h"
#include "util/file.h"
#include "util/hash.h"
#include "util/log.h"
#include "util/secmem.h"
#include "util/timefmt.h"

static char g_dir[] = "/tmp/tcn-test-ratls-XXXXXX";
static tcn_sim_platform g_plat_a, g_plat_b;
static tcn_provider *g_prov;       /* this test binary, platform key A */
static tcn_provider *g_prov_exe;   /* another executable, platform key A */
static tcn_provider *g_prov_plat;  /* this test binary, platform key B */
static uint8_t g_self[TCN_SIM_MEASUREMENT_LEN];
static FILE *g_log;

static const uint8_t G1[TCN_RATLS_GROUP_ID_LEN] = {0x47, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
static const uint8_t G2[TCN_RATLS_GROUP_ID_LEN] = {0x47, 2, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};

static const char *in_dir(const char *name)
{
    static char p[4][512];
    static int k;
    k = (k + 1) % 4;
    snprintf(p[k], sizeof(p[k]), "%s/%s", g_dir, name);
    return p[k];
}

/* ---- helpers ------------------------------------------------------------------ */

static tcn_ratls_identity *ident(tcn_provider *p, const uint8_t *group)
{
    tcn_ratls_identity *id = NULL;
    tcn_error e;
    int rc = tcn_ratls_identity_new(p, group, &id, &e);
    if (rc != TCN_OK)
        print_message("identity: %s\n", e.msg);
    assert_int_equal(rc, TCN_OK);
    return id;
}

/* The peers' policy of the tests: sim with platform key A, 'self' = this binary. */
static void peer_policy(tcn_ratls_policy *p)
{
    tcn_error e;
    tcn_ratls_policy_default(p);
    assert_int_equal(tcn_policy_add_sim_key(&p->attest, g_plat_a.pk, &e), TCN_OK);
    assert_int_equal(tcn_ratls_policy_set_self(p, g_self, sizeof(g_self), &e), TCN_OK);
}

static tcn_ratls_peer *peer_new(void)
{
    tcn_ratls_peer *p = calloc(1, sizeof(*p));
    assert_non_null(p);
    return p;
}

/* Verifies and requires exactly this refusal (reason, code, words in the message). */
static void expect_refusal(X509 *cert, const tcn_ratls_policy *pol, tcn_ratls_reason reason, int code,
                           const char *needle)
{
    tcn_ratls_peer *peer = peer_new();
    tcn_error e;
    tcn_err_clear(&e);
    int rc = tcn_ratls_verify_cert(cert, pol, peer, &e);
    if (rc != code || peer->reason != reason || strstr(e.msg, needle) == NULL)
        print_message("expected %s/%s '%s', got %s/%s: %s\n", tcn_ratls_reason_name(reason), tcn_err_name(code),
                      needle, tcn_ratls_reason_name(peer->reason), tcn_err_name(rc), e.msg);
    assert_int_equal(rc, code);
    assert_int_equal(peer->reason, reason);
    assert_non_null(strstr(e.msg, needle));
    assert_non_null(strstr(e.msg, "ratls: "));
    free(peer);
}

static void expect_ok(X509 *cert, const tcn_ratls_policy *pol, tcn_ratls_peer *peer)
{
    tcn_error e;
    tcn_err_clear(&e);
    int rc = tcn_ratls_verify_cert(cert, pol, peer, &e);
    if (rc != TCN_OK)
        print_message("refused: %s\n", e.msg);
    assert_int_equal(rc, TCN_OK);
    assert_int_equal(peer->reason, TCN_RATLS_OK);
}

static EVP_PKEY *p256(void)
{
    EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    assert_non_null(k);
    return k;
}

static void spki_of(EVP_PKEY *k, uint8_t *out, size_t *len)
{
    unsigned char *der = NULL;
    int n = i2d_PUBKEY(k, &der);
    assert_true(n > 0 && n <= TCN_RATLS_SPKI_MAX);
    memcpy(out, der, (size_t)n);
    *len = (size_t)n;
    OPENSSL_free(der);
}

/* The evidence extension's value inside a certificate (borrowed). */
static const uint8_t *ext_of(X509 *cert, size_t *len)
{
    ASN1_OBJECT *oid = OBJ_txt2obj(TCN_RATLS_OID, 1);
    int i = X509_get_ext_by_OBJ(cert, oid, -1);
    ASN1_OBJECT_free(oid);
    assert_true(i >= 0);
    const ASN1_OCTET_STRING *v = X509_EXTENSION_get_data(X509_get_ext(cert, i));
    *len = (size_t)ASN1_STRING_length(v);
    return ASN1_STRING_get0_data(v);
}

/* What a third-party RA-TLS implementation with our sim provider would put
 * in its certificate for key k: claims {group?, pubkey-hash(k)} and
 * evidence over SHA-512 of them. claims_override replaces the claims carried
 * (not the ones the evidence binds) when non-NULL. */
static void third_party_ext(EVP_PKEY *k, tcn_provider *prov, const uint8_t *group, uint64_t tag,
                            const tcn_ratls_claims *claims_override, tcn_buf *ext)
{
    uint8_t spki[TCN_RATLS_SPKI_MAX];
    size_t n;
    spki_of(k, spki, &n);
    tcn_ratls_claims c;
    memset(&c, 0, sizeof(c));
    c.hash_alg = TCN_RATLS_HASH_SHA256;
    c.hash_len = 32;
    tcn_sha256(spki, n, c.hash);
    if (group != NULL) {
        c.group_present = true;
        memcpy(c.group_id, group, TCN_RATLS_GROUP_ID_LEN);
    }
    tcn_error e;
    tcn_buf claims = {0}, carried = {0}, ev = {0};
    assert_int_equal(tcn_ratls_claims_encode(&c, &claims, &e), TCN_OK);
    uint8_t rd[64];
    tcn_sha512(claims.p, claims.len, rd);
    assert_int_equal(tcn_provider_evidence(prov, rd, &ev, &e), TCN_OK);
    const tcn_buf *use = &claims;
    if (claims_override != NULL) {
        assert_int_equal(tcn_ratls_claims_encode(claims_override, &carried, &e), TCN_OK);
        use = &carried;
    }
    assert_int_equal(tcn_ratls_ext_encode(tag, ev.p, ev.len, use->p, use->len, ext, &e), TCN_OK);
    tcn_buf_free(&claims);
    tcn_buf_free(&carried);
    tcn_buf_free(&ev);
}

/* A certificate built by hand with OpenSSL, for shapes our own code never makes. */
typedef struct forge {
    EVP_PKEY *subject;     /* the key in the certificate */
    EVP_PKEY *signer;      /* NULL: subject (self-signed) */
    const uint8_t *ext;    /* extension value */
    size_t ext_len;
    int ext_count;         /* how many copies of the evidence extension */
    int critical;          /* mark it critical */
    int unknown_critical;  /* add an unknown critical extension */
    int v1;                /* X.509 v1 */
    int other_issuer;      /* issuer name differs from subject */
} forge;

static X509 *forge_cert(const forge *f)
{
    X509 *x = X509_new();
    assert_non_null(x);
    assert_true(ASN1_INTEGER_set(X509_get_serialNumber(x), 7));
    X509_NAME *subj = X509_NAME_new(), *iss = X509_NAME_new();
    assert_true(X509_NAME_add_entry_by_txt(subj, "CN", MBSTRING_ASC, (const unsigned char *)"forged", -1, -1, 0));
    assert_true(X509_NAME_add_entry_by_txt(iss, "CN", MBSTRING_ASC,
                                           (const unsigned char *)(f->other_issuer ? "someone" : "forged"), -1, -1, 0));
    assert_true(X509_set_subject_name(x, subj) && X509_set_issuer_name(x, iss));
    X509_NAME_free(subj);
    X509_NAME_free(iss);
    assert_true(X509_set_version(x, f->v1 ? X509_VERSION_1 : X509_VERSION_3));
    int64_t now = tcn_time_now_ms();
    assert_non_null(ASN1_TIME_set(X509_getm_notBefore(x), (time_t)(now / 1000 - 3600)));
    assert_non_null(ASN1_TIME_set(X509_getm_notAfter(x), (time_t)(now / 1000 + 3600)));
    assert_true(X509_set_pubkey(x, f->subject));
    ASN1_OBJECT *oid = OBJ_txt2obj(TCN_RATLS_OID, 1);
    for (int i = 0; i < f->ext_count; i++) {
        ASN1_OCTET_STRING *v = ASN1_OCTET_STRING_new();
        assert_true(ASN1_OCTET_STRING_set(v, f->ext, (int)f->ext_len));
        X509_EXTENSION *e = X509_EXTENSION_create_by_OBJ(NULL, oid, f->critical, v);
        assert_non_null(e);
        assert_true(X509_add_ext(x, e, -1));
        X509_EXTENSION_free(e);
        ASN1_OCTET_STRING_free(v);
    }
    ASN1_OBJECT_free(oid);
    if (f->unknown_critical) {
        ASN1_OBJECT *u = OBJ_txt2obj("1.3.6.1.4.1.55555.1", 1);
        ASN1_OCTET_STRING *v = ASN1_OCTET_STRING_new();
        assert_true(ASN1_OCTET_STRING_set(v, (const unsigned char *)"\x05\x00", 2));
        X509_EXTENSION *e = X509_EXTENSION_create_by_OBJ(NULL, u, 1, v);
        assert_true(X509_add_ext(x, e, -1));
        X509_EXTENSION_free(e);
        ASN1_OCTET_STRING_free(v);
        ASN1_OBJECT_free(u);
    }
    assert_true(X509_sign(x, f->signer != NULL ? f->signer : f->subject, EVP_sha256()) > 0);
    return x;
}

/* ---- in-memory TLS connections -------------------------------------------------- */

enum { PENDING = 0, DONE = 1, FAILED = 2 };

typedef struct conn {
    SSL *c, *s;
    int c_st, s_st;
    tcn_error c_err, s_err;
} conn;

static void step(SSL *ssl, int *st, tcn_error *e)
{
    if (*st != PENDING)
        return;
    ERR_clear_error();
    int r = SSL_do_handshake(ssl);
    if (r == 1) {
        *st = DONE;
        return;
    }
    int k = SSL_get_error(ssl, r);
    if (k == SSL_ERROR_WANT_READ || k == SSL_ERROR_WANT_WRITE)
        return;
    *st = FAILED;
    (void)tcn_ratls_ssl_error(ssl, r, e);
}

/* resume: a session of an earlier connection the client offers to resume. */
static void connect_resume(SSL_CTX *cctx, SSL_CTX *sctx, SSL_SESSION *resume, conn *k)
{
    memset(k, 0, sizeof(*k));
    k->c = SSL_new(cctx);
    k->s = SSL_new(sctx);
    assert_true(k->c != NULL && k->s != NULL);
    if (resume != NULL)
        assert_int_equal(SSL_set_session(k->c, resume), 1);
    BIO *bc = NULL, *bs = NULL;
    assert_true(BIO_new_bio_pair(&bc, 0, &bs, 0));
    SSL_set_bio(k->c, bc, bc);
    SSL_set_bio(k->s, bs, bs);
    SSL_set_connect_state(k->c);
    SSL_set_accept_state(k->s);
    for (int i = 0; i < 50 && (k->c_st == PENDING || k->s_st == PENDING); i++) {
        step(k->c, &k->c_st, &k->c_err);
        step(k->s, &k->s_st, &k->s_err);
    }
    /* TLS 1.3: the client is done before the server has judged the client's
     * certificate; its next read shows the server's answer. */
    if (k->c_st == DONE && k->s_st == FAILED) {
        char b[8];
        ERR_clear_error();
        int r = SSL_read(k->c, b, sizeof(b));
        if (r <= 0) {
            k->c_st = FAILED;
            (void)tcn_ratls_ssl_error(k->c, r, &k->c_err);
        }
    }
}

static void connect_pair(SSL_CTX *cctx, SSL_CTX *sctx, conn *k) { connect_resume(cctx, sctx, NULL, k); }

static void conn_free(conn *k)
{
    SSL_free(k->c);
    SSL_free(k->s);
}

/* Application data flows both ways. */
static void ping(conn *k)
{
    char b[16];
    assert_int_equal(SSL_write(k->c, "ping", 4), 4);
    assert_int_equal(SSL_read(k->s, b, sizeof(b)), 4);
    assert_memory_equal(b, "ping", 4);
    assert_int_equal(SSL_write(k->s, "pong", 4), 4);
    assert_int_equal(SSL_read(k->c, b, sizeof(b)), 4);
    assert_memory_equal(b, "pong", 4);
}

static SSL_CTX *ctx_new(tcn_ratls_role role, const tcn_ratls_identity *id, const tcn_ratls_policy *pol)
{
    SSL_CTX *ctx = NULL;
    tcn_error e;
    int rc = tcn_ratls_ctx_new(role, id, pol, &ctx, &e);
    if (rc != TCN_OK)
        print_message("ctx: %s\n", e.msg);
    assert_int_equal(rc, TCN_OK);
    return ctx;
}

/* A plain OpenSSL client (not ours): its own cert/key or none, max version. */
static SSL_CTX *foreign_client(X509 *cert, EVP_PKEY *key, int max_version)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    assert_non_null(ctx);
    assert_true(SSL_CTX_set_max_proto_version(ctx, max_version));
    if (cert != NULL) {
        assert_int_equal(SSL_CTX_use_certificate(ctx, cert), 1);
        assert_int_equal(SSL_CTX_use_PrivateKey(ctx, key), 1);
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    return ctx;
}

/* The log written since the last call. */
static char *log_take(void)
{
    fflush(g_log);
    long n = ftell(g_log);
    assert_true(n >= 0);
    char *s = calloc(1, (size_t)n + 1);
    rewind(g_log);
    assert_int_equal(fread(s, 1, (size_t)n, g_log), (size_t)n);
    assert_int_equal(ftruncate(fileno(g_log), 0), 0);
    rewind(g_log);
    return s;
}

/* ---- identity and certificate ------------------------------------------------------ */

static void test_identity_certificate(void **state)
{
    (void)state;
    tcn_error e;
    tcn_ratls_identity *a = ident(g_prov, NULL), *b = ident(g_prov, NULL);
    X509 *ca = tcn_ratls_identity_cert(a);

    /* X.509 v3, self-issued, self-signed, P-256, short validity, random serial. */
    assert_int_equal(X509_get_version(ca), X509_VERSION_3);
    assert_int_equal(X509_NAME_cmp(X509_get_issuer_name(ca), X509_get_subject_name(ca)), 0);
    assert_int_equal(X509_verify(ca, X509_get0_pubkey(ca)), 1);
    assert_int_equal(EVP_PKEY_get_id(X509_get0_pubkey(ca)), EVP_PKEY_EC);
    int days = 0, secs = 0;
    assert_true(ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(ca), X509_get0_notAfter(ca)));
    assert_true((int64_t)days * 86400 + secs <= (TCN_RATLS_CERT_LIFETIME_MS + TCN_RATLS_CERT_BACKDATE_MS) / 1000);
    assert_int_not_equal(ASN1_INTEGER_cmp(X509_get0_serialNumber(ca), X509_get0_serialNumber(tcn_ratls_identity_cert(b))),
                         0);
    /* Exactly one evidence extension, non-critical. */
    ASN1_OBJECT *oid = OBJ_txt2obj(TCN_RATLS_OID, 1);
    int i = X509_get_ext_by_OBJ(ca, oid, -1);
    assert_true(i >= 0);
    assert_int_equal(X509_get_ext_by_OBJ(ca, oid, i), -1);
    assert_int_equal(X509_EXTENSION_get_critical(X509_get_ext(ca, i)), 0);
    ASN1_OBJECT_free(oid);

    /* The key hash is SHA-256 of the DER SPKI, and the extension binds it. */
    uint8_t spki[TCN_RATLS_SPKI_MAX], h[32];
    size_t n;
    spki_of(X509_get0_pubkey(ca), spki, &n);
    tcn_sha256(spki, n, h);
    assert_memory_equal(tcn_ratls_identity_key_hash(a), h, 32);
    assert_memory_not_equal(tcn_ratls_identity_key_hash(a), tcn_ratls_identity_key_hash(b), 32);
    size_t xl;
    const uint8_t *xv = ext_of(ca, &xl);
    tcn_ratls_ext x;
    assert_int_equal(tcn_ratls_ext_parse(xv, xl, &x, &e), TCN_OK);
    assert_int_equal(x.tag, TCN_RATLS_TAG_SIM);
    assert_int_equal(x.claims.hash_alg, TCN_RATLS_HASH_SHA256);
    assert_memory_equal(x.claims.hash, h, 32);
    assert_false(x.claims.group_present);
    assert_false(x.claims.nonce_present);
    tcn_sim_report r;
    uint8_t pk[32];
    assert_int_equal(tcn_sim_evidence_parse(x.evidence, x.evidence_len, &r, pk, &e), TCN_OK);
    uint8_t rd[64];
    tcn_sha512(x.claims_raw, x.claims_len, rd);
    assert_memory_equal(r.report_data, rd, 64);

    /* Our own measurement, read from our own evidence, is SHA-384 of this binary. */
    tcn_policy_measurement m;
    assert_int_equal(tcn_ratls_identity_measurement(a, &m, &e), TCN_OK);
    assert_int_equal(m.len, 48);
    assert_memory_equal(m.v, g_self, 48);

    /* DER out = the certificate. */
    tcn_buf der = {0};
    assert_int_equal(tcn_ratls_identity_cert_der(a, &der, &e), TCN_OK);
    tcn_ratls_policy pol;
    peer_policy(&pol);
    tcn_ratls_peer *p = peer_new();
    assert_int_equal(tcn_ratls_verify_der(der.p, der.len, &pol, p, &e), TCN_OK);
    assert_memory_equal(p->key_hash, h, 32);
    assert_int_equal(p->claims.tee, TCN_TEE_SIM);
    assert_false(p->group_present);
    /* Trailing bytes after the DER are refused. */
    assert_int_equal(tcn_buf_u8(&der, 0), TCN_OK);
    assert_int_equal(tcn_ratls_verify_der(der.p, der.len, &pol, p, &e), TCN_ERR_MALFORMED);
    assert_int_equal(p->reason, TCN_RATLS_CERT);
    tcn_buf_free(&der);
    free(p);
    tcn_ratls_identity_free(a);
    tcn_ratls_identity_free(b);
}

static void test_reissue_with_group(void **state)
{
    (void)state;
    tcn_error e;
    tcn_ratls_identity *a = ident(g_prov, NULL);
    uint8_t key_before[32], g[16];
    memcpy(key_before, tcn_ratls_identity_key_hash(a), 32);
    X509 *old = tcn_ratls_identity_cert(a);
    assert_int_equal(X509_up_ref(old), 1);
    assert_false(tcn_ratls_identity_group(a, g));

    tcn_ratls_policy pol;
    peer_policy(&pol);
    tcn_ratls_policy_pin_group(&pol, G1);
    expect_refusal(old, &pol, TCN_RATLS_GROUP_MISSING, TCN_ERR_POLICY, "tcn-group: claim absent");
    /* Peers let a node without a group in (it asks to join)... */
    pol.group_absent_ok = true;
    tcn_ratls_peer *joiner = peer_new();
    expect_ok(old, &pol, joiner);
    assert_false(joiner->group_present);
    free(joiner);
    pol.group_absent_ok = false;

    /* The node learns its group: same key, new evidence and certificate. */
    assert_int_equal(tcn_ratls_identity_reissue(a, G1, &e), TCN_OK);
    X509 *now_cert = tcn_ratls_identity_cert(a);
    assert_ptr_not_equal(now_cert, old);
    assert_memory_equal(tcn_ratls_identity_key_hash(a), key_before, 32);
    assert_true(tcn_ratls_identity_group(a, g));
    assert_memory_equal(g, G1, 16);
    assert_int_equal(EVP_PKEY_eq(X509_get0_pubkey(old), X509_get0_pubkey(now_cert)), 1);
    assert_int_not_equal(ASN1_INTEGER_cmp(X509_get0_serialNumber(old), X509_get0_serialNumber(now_cert)), 0);
    tcn_ratls_peer *p = peer_new();
    expect_ok(now_cert, &pol, p);
    assert_true(p->group_present);
    assert_memory_equal(p->group_id, G1, 16);
    assert_memory_equal(p->key_hash, key_before, 32);

    /* Re-issue on a timer keeps the group; another group is a usage error. */
    assert_int_equal(tcn_ratls_identity_reissue(a, NULL, &e), TCN_OK);
    expect_ok(tcn_ratls_identity_cert(a), &pol, p);
    assert_int_equal(tcn_ratls_identity_reissue(a, G2, &e), TCN_ERR_USAGE);
    assert_non_null(strstr(e.msg, "already a member of group 4701"));
    expect_ok(tcn_ratls_identity_cert(a), &pol, p);
    /* The pinned group differs. */
    tcn_ratls_policy_pin_group(&pol, G2);
    expect_refusal(tcn_ratls_identity_cert(a), &pol, TCN_RATLS_GROUP_MISMATCH, TCN_ERR_POLICY,
                   "tcn-group: group 47010203");
    free(p);
    X509_free(old);
    tcn_ratls_identity_free(a);
}

/* ---- refusals, one by one ---------------------------------------------------------- */

static void test_measurement_self_and_allow_list(void **state)
{
    (void)state;
    tcn_error e;
    tcn_ratls_identity *o = ident(g_prov_exe, NULL);
    tcn_policy_measurement m;
    assert_int_equal(tcn_ratls_identity_measurement(o, &m, &e), TCN_OK);
    assert_memory_not_equal(m.v, g_self, 48);
    char hex[97];
    tcn_hex_encode(m.v, m.len, hex);
    char needle[160];
    snprintf(needle, sizeof(needle), "measurement %s not self and not in the allow-list", hex);

    tcn_ratls_policy pol;
    peer_policy(&pol);
    expect_refusal(tcn_ratls_identity_cert(o), &pol, TCN_RATLS_MEASUREMENT, TCN_ERR_POLICY, needle);
    /* 'self' unknown yet: everything is refused, saying so. */
    tcn_ratls_policy unknown;
    tcn_ratls_policy_default(&unknown);
    assert_int_equal(tcn_policy_add_sim_key(&unknown.attest, g_plat_a.pk, &e), TCN_OK);
    tcn_ratls_identity *a = ident(g_prov, NULL);
    expect_refusal(tcn_ratls_identity_cert(a), &unknown, TCN_RATLS_MEASUREMENT, TCN_ERR_POLICY,
                   "self is unknown to this verifier");
    /* A rolling upgrade: the other binary on the allow-list is accepted. */
    assert_int_equal(tcn_policy_add_measurement(&pol.attest, m.v, m.len, &e), TCN_OK);
    tcn_ratls_peer *p = peer_new();
    expect_ok(tcn_ratls_identity_cert(o), &pol, p);
    assert_memory_equal(p->claims.measurement, m.v, 48);
    /* Allow-list only (a user's pinned measurement), self off. */
    pol.attest.measurement_self = false;
    expect_ok(tcn_ratls_identity_cert(o), &pol, p);
    expect_refusal(tcn_ratls_identity_cert(a), &pol, TCN_RATLS_MEASUREMENT, TCN_ERR_POLICY, "not in the allow-list (1 entries)");
    free(p);
    tcn_ratls_identity_free(a);
    tcn_ratls_identity_free(o);
}

static void test_other_platform_key(void **state)
{
    (void)state;
    tcn_error e;
    tcn_ratls_identity *b = ident(g_prov_plat, NULL);
    tcn_ratls_policy pol;
    peer_policy(&pol);
    char hex[65];
    tcn_hex_encode(g_plat_b.pk, 32, hex);
    expect_refusal(tcn_ratls_identity_cert(b), &pol, TCN_RATLS_EVIDENCE, TCN_ERR_UNTRUSTED_ROOT, hex);
    /* Sim is never accepted by default. */
    tcn_ratls_policy def;
    tcn_ratls_policy_default(&def);
    assert_int_equal(tcn_ratls_policy_set_self(&def, g_self, 48, &e), TCN_OK);
    tcn_ratls_identity *a = ident(g_prov, NULL);
    expect_refusal(tcn_ratls_identity_cert(a), &def, TCN_RATLS_EVIDENCE, TCN_ERR_UNTRUSTED_ROOT,
                   "not named by the policy");
    /* Naming platform key B accepts it: the key was the only difference. */
    assert_int_equal(tcn_policy_add_sim_key(&pol.attest, g_plat_b.pk, &e), TCN_OK);
    tcn_ratls_peer *p = peer_new();
    expect_ok(tcn_ratls_identity_cert(b), &pol, p);
    assert_memory_equal(p->claims.sim_platform_key, g_plat_b.pk, 32);

    /* A debug "enclave" (sim evidence with the debug flag, made by hand):
     * authentic, bound, refused by the attestation policy. */
    EVP_PKEY *c = p256();
    uint8_t spki[TCN_RATLS_SPKI_MAX];
    size_t n;
    spki_of(c, spki, &n);
    tcn_ratls_claims cl;
    memset(&cl, 0, sizeof(cl));
    cl.hash_alg = TCN_RATLS_HASH_SHA256;
    cl.hash_len = 32;
    tcn_sha256(spki, n, cl.hash);
    tcn_buf claims = {0}, ext = {0};
    assert_int_equal(tcn_ratls_claims_encode(&cl, &claims, &e), TCN_OK);
    tcn_sim_report r;
    memset(&r, 0, sizeof(r));
    memcpy(r.measurement, g_self, 48);
    tcn_sha512(claims.p, claims.len, r.report_data);
    r.debug = true;
    r.issued_at_ms = tcn_time_now_ms();
    uint8_t ev[TCN_SIM_EVIDENCE_LEN];
    tcn_sim_evidence_create(&g_plat_a, &r, ev);
    assert_int_equal(tcn_ratls_ext_encode(TCN_RATLS_TAG_SIM, ev, sizeof(ev), claims.p, claims.len, &ext, &e), TCN_OK);
    forge f = {.subject = c, .ext = ext.p, .ext_len = ext.len, .ext_count = 1};
    X509 *x = forge_cert(&f);
    expect_refusal(x, &pol, TCN_RATLS_EVIDENCE_POLICY, TCN_ERR_DEBUG, "'allow_debug'");
    pol.attest.allow_debug = true;
    expect_ok(x, &pol, p);
    assert_true(p->claims.debug);
    X509_free(x);
    EVP_PKEY_free(c);
    tcn_buf_free(&claims);
    tcn_buf_free(&ext);
    free(p);
    tcn_ratls_identity_free(a);
    tcn_ratls_identity_free(b);
}

static void test_key_not_the_bound_one(void **state)
{
    (void)state;
    tcn_ratls_identity *b = ident(g_prov, G1);
    tcn_ratls_policy pol;
    peer_policy(&pol);
    /* B's extension (evidence and claims, all genuine) in a certificate of another key. */
    EVP_PKEY *c = p256();
    size_t xl;
    const uint8_t *xv = ext_of(tcn_ratls_identity_cert(b), &xl);
    forge f = {.subject = c, .ext = xv, .ext_len = xl, .ext_count = 1};
    X509 *x = forge_cert(&f);
    expect_refusal(x, &pol, TCN_RATLS_PUBKEY_HASH, TCN_ERR_BINDING, "pubkey-hash does not match the certificate key");
    X509_free(x);
    /* B's public key and B's extension, but signed by another key. */
    f.subject = X509_get0_pubkey(tcn_ratls_identity_cert(b));
    f.signer = c;
    x = forge_cert(&f);
    expect_refusal(x, &pol, TCN_RATLS_SELF_SIGNATURE, TCN_ERR_BAD_SIGNATURE, "self-signature");
    X509_free(x);
    EVP_PKEY_free(c);
    tcn_ratls_identity_free(b);
}

static void test_tampered_claims(void **state)
{
    (void)state;
    tcn_ratls_policy pol;
    peer_policy(&pol);
    tcn_ratls_policy_pin_group(&pol, G1);
    EVP_PKEY *c = p256();
    /* Genuine evidence over claims without a group, carrying claims that add one. */
    tcn_ratls_claims lie;
    memset(&lie, 0, sizeof(lie));
    uint8_t spki[TCN_RATLS_SPKI_MAX];
    size_t n;
    spki_of(c, spki, &n);
    lie.hash_alg = TCN_RATLS_HASH_SHA256;
    lie.hash_len = 32;
    tcn_sha256(spki, n, lie.hash);
    lie.group_present = true;
    memcpy(lie.group_id, G1, 16);
    tcn_buf ext = {0};
    third_party_ext(c, g_prov, NULL, TCN_RATLS_TAG_SIM, &lie, &ext);
    forge f = {.subject = c, .ext = ext.p, .ext_len = ext.len, .ext_count = 1};
    X509 *x = forge_cert(&f);
    expect_refusal(x, &pol, TCN_RATLS_REPORT_DATA, TCN_ERR_BINDING,
                   "report data does not match SHA-512 of the claims carried");
    X509_free(x);
    tcn_buf_free(&ext);

    /* The same, honest: a certificate made outside our identity code, with the
     * extension marked critical (as rats-tls does), verifies. */
    third_party_ext(c, g_prov, G1, TCN_RATLS_TAG_SIM, NULL, &ext);
    f.ext = ext.p;
    f.ext_len = ext.len;
    f.critical = 1;
    x = forge_cert(&f);
    tcn_ratls_peer *p = peer_new();
    expect_ok(x, &pol, p);
    X509_free(x);
    /* Certificate shapes we refuse: no extension, two, an unknown critical
     * extension, X.509 v1, not self-issued. */
    f.ext_count = 0;
    x = forge_cert(&f);
    expect_refusal(x, &pol, TCN_RATLS_NO_EXTENSION, TCN_ERR_MALFORMED, "no evidence extension (OID 2.23.133.5.4.9)");
    X509_free(x);
    f.ext_count = 2;
    x = forge_cert(&f);
    expect_refusal(x, &pol, TCN_RATLS_DUP_EXTENSION, TCN_ERR_MALFORMED, "2 evidence extensions");
    X509_free(x);
    f.ext_count = 1;
    f.unknown_critical = 1;
    x = forge_cert(&f);
    expect_refusal(x, &pol, TCN_RATLS_CERT, TCN_ERR_UNSUPPORTED, "critical extension 1.3.6.1.4.1.55555.1");
    X509_free(x);
    f.unknown_critical = 0;
    f.v1 = 1;
    x = forge_cert(&f);
    expect_refusal(x, &pol, TCN_RATLS_CERT, TCN_ERR_MALFORMED, "expected v3");
    X509_free(x);
    f.v1 = 0;
    f.other_issuer = 1;
    x = forge_cert(&f);
    expect_refusal(x, &pol, TCN_RATLS_CERT, TCN_ERR_MALFORMED, "not self-issued");
    X509_free(x);
    tcn_buf_free(&ext);

    /* The tag says Nitro, the evidence is sim. */
    third_party_ext(c, g_prov, G1, TCN_RATLS_TAG_NITRO, NULL, &ext);
    forge g = {.subject = c, .ext = ext.p, .ext_len = ext.len, .ext_count = 1};
    x = forge_cert(&g);
    expect_refusal(x, &pol, TCN_RATLS_TAG_MISMATCH, TCN_ERR_MALFORMED, "does not name the evidence carried (sim)");
    X509_free(x);
    tcn_buf_free(&ext);
    /* Garbage CBOR in the extension. */
    const uint8_t junk[] = {0xd9, 0xea, 0x60, 0x82, 0x41};
    forge h = {.subject = c, .ext = junk, .ext_len = sizeof(junk), .ext_count = 1};
    x = forge_cert(&h);
    expect_refusal(x, &pol, TCN_RATLS_EXT_MALFORMED, TCN_ERR_TRUNCATED, "ratls: extension: evidence");
    X509_free(x);
    /* No certificate at all. */
    expect_refusal(NULL, &pol, TCN_RATLS_NO_CERT, TCN_ERR_CERT_CHAIN, "no certificate");
    free(p);
    EVP_PKEY_free(c);
}

static void test_evidence_age_and_validity(void **state)
{
    (void)state;
    tcn_ratls_identity *a = ident(g_prov, NULL);
    X509 *x = tcn_ratls_identity_cert(a);
    tcn_ratls_policy pol;
    peer_policy(&pol);
    pol.attest.max_age_ms = 60 * 1000;
    int64_t now = tcn_time_now_ms();
    tcn_ratls_peer *p = peer_new();
    pol.now_ms = now + 30 * 1000;
    expect_ok(x, &pol, p);
    assert_true(p->attested_at_ms > now - 60 * 1000 && p->attested_at_ms <= now + 1000);
    assert_false(tcn_ratls_peer_is_stale(p, &pol, now + 30 * 1000));
    assert_true(tcn_ratls_peer_is_stale(p, &pol, now + 120 * 1000));
    pol.now_ms = now + 120 * 1000;
    expect_refusal(x, &pol, TCN_RATLS_EVIDENCE_AGE, TCN_ERR_POLICY, "the policy allows 60000 ms");
    pol.now_ms = now - 30 * 60 * 1000; /* the evidence is from our future */
    expect_refusal(x, &pol, TCN_RATLS_EVIDENCE_AGE, TCN_ERR_POLICY, "in the future");
    /* Without an age limit, only the certificate's own window remains. */
    pol.attest.max_age_ms = 0;
    assert_false(tcn_ratls_peer_is_stale(p, &pol, now + 1000LL * 86400 * 365));
    pol.now_ms = now + TCN_RATLS_CERT_LIFETIME_MS + 60 * 1000;
    expect_refusal(x, &pol, TCN_RATLS_CERT_VALIDITY, TCN_ERR_EXPIRED, "certificate validity: expired at 20");
    pol.now_ms = now - TCN_RATLS_CERT_BACKDATE_MS - 60 * 1000;
    expect_refusal(x, &pol, TCN_RATLS_CERT_VALIDITY, TCN_ERR_NOT_YET_VALID, "not valid before 20");
    free(p);
    tcn_ratls_identity_free(a);
}

/* Every single-byte corruption of a certificate is refused (or, if it ever
 * were accepted, gives the very same verdict): never a crash. */
static void test_corrupt_certificate_bytes(void **state)
{
    (void)state;
    tcn_error e;
    tcn_ratls_identity *a = ident(g_prov, G1);
    tcn_buf der = {0};
    assert_int_equal(tcn_ratls_identity_cert_der(a, &der, &e), TCN_OK);
    tcn_ratls_policy pol;
    peer_policy(&pol);
    tcn_ratls_peer *good = peer_new(), *p = peer_new();
    assert_int_equal(tcn_ratls_verify_der(der.p, der.len, &pol, good, &e), TCN_OK);
    size_t refused = 0, same = 0;
    int reasons[TCN_RATLS_REASON_COUNT_] = {0};
    const uint8_t flips[] = {0x01, 0x80, 0xff};
    for (size_t i = 0; i < der.len; i++)
        for (size_t f = 0; f < sizeof(flips); f++) {
            der.p[i] ^= flips[f];
            int rc = tcn_ratls_verify_der(der.p, der.len, &pol, p, &e);
            der.p[i] ^= flips[f];
            if (rc != TCN_OK) {
                assert_int_not_equal(p->reason, TCN_RATLS_OK);
                reasons[p->reason]++;
                refused++;
            } else {
                assert_memory_equal(p->key_hash, good->key_hash, 32);
                assert_memory_equal(p->claims.measurement, good->claims.measurement, 48);
                assert_memory_equal(p->group_id, good->group_id, 16);
                same++;
            }
        }
    print_message("certificate of %zu bytes: %zu corruptions refused, %zu accepted unchanged (%d self-signature, %d "
                  "certificate)\n",
                  der.len, refused, same, reasons[TCN_RATLS_SELF_SIGNATURE], reasons[TCN_RATLS_CERT]);
    assert_true(refused > 0);
    tcn_buf_free(&der);
    free(good);
    free(p);
    tcn_ratls_identity_free(a);
}

/* ---- handshakes ---------------------------------------------------------------------- */

static void test_mutual_handshake(void **state)
{
    (void)state;
    tcn_error e;
    tcn_ratls_identity *a = ident(g_prov, G1), *b = ident(g_prov, G1);
    tcn_ratls_policy pol;
    peer_policy(&pol);
    tcn_ratls_policy_pin_group(&pol, G1);
    SSL_CTX *sctx = ctx_new(TCN_RATLS_SERVER, a, &pol), *cctx = ctx_new(TCN_RATLS_CLIENT, b, &pol);
    free(log_take());
    conn k;
    connect_pair(cctx, sctx, &k);
    if (k.c_st != DONE || k.s_st != DONE)
        print_message("client: %s\nserver: %s\n", k.c_err.msg, k.s_err.msg);
    assert_int_equal(k.c_st, DONE);
    assert_int_equal(k.s_st, DONE);
    assert_int_equal(SSL_version(k.c), TLS1_3_VERSION);
    assert_int_equal(SSL_session_reused(k.c), 0);
    ping(&k);
    /* Each side sees the other's verified claims and key. */
    const tcn_ratls_peer *ps = NULL, *pc = NULL;
    assert_int_equal(tcn_ratls_ssl_peer(k.s, &ps, &e), TCN_OK);
    assert_int_equal(tcn_ratls_ssl_peer(k.c, &pc, &e), TCN_OK);
    assert_memory_equal(ps->key_hash, tcn_ratls_identity_key_hash(b), 32);
    assert_memory_equal(pc->key_hash, tcn_ratls_identity_key_hash(a), 32);
    assert_int_equal(ps->claims.tee, TCN_TEE_SIM);
    assert_memory_equal(ps->claims.measurement, g_self, 48);
    assert_memory_equal(pc->claims.measurement, g_self, 48);
    assert_true(ps->group_present && pc->group_present);
    assert_memory_equal(pc->group_id, G1, 16);
    char *log = log_take();
    assert_non_null(strstr(log, "ratls: peer verified"));
    char key[65];
    tcn_hex_encode(tcn_ratls_identity_key_hash(b), 32, key);
    assert_non_null(strstr(log, key));
    free(log);
    /* The client offers to resume that session: there is nothing to resume
     * (no tickets, no cache), so the second connection attests again. */
    ERR_clear_error();
    char rb[8];
    assert_true(SSL_read(k.c, rb, sizeof(rb)) <= 0); /* takes in anything the server sent after the handshake */
    SSL_SESSION *sess = SSL_get1_session(k.c);
    assert_non_null(sess);
    assert_int_equal(SSL_SESSION_has_ticket(sess), 0); /* the server sent none */
    conn_free(&k);
    connect_resume(cctx, sctx, sess, &k);
    assert_int_equal(k.c_st, DONE);
    assert_int_equal(k.s_st, DONE);
    assert_int_equal(SSL_session_reused(k.c), 0);
    assert_int_equal(tcn_ratls_ssl_peer(k.s, &ps, &e), TCN_OK);
    assert_int_equal(tcn_ratls_ssl_peer(k.c, &pc, &e), TCN_OK);
    SSL_SESSION_free(sess);
    conn_free(&k);

    /* After a re-issue the context serves the new certificate. */
    assert_int_equal(tcn_ratls_identity_reissue(a, NULL, &e), TCN_OK);
    assert_int_equal(tcn_ratls_ctx_set_identity(sctx, a, &e), TCN_OK);
    connect_pair(cctx, sctx, &k);
    assert_int_equal(k.c_st, DONE);
    assert_int_equal(k.s_st, DONE);
    X509 *seen = SSL_get1_peer_certificate(k.c);
    assert_int_equal(X509_cmp(seen, tcn_ratls_identity_cert(a)), 0);
    X509_free(seen);
    conn_free(&k);

    /* A policy update (another group pinned) applies to the next handshake. */
    tcn_ratls_policy other = pol;
    tcn_ratls_policy_pin_group(&other, G2);
    assert_int_equal(tcn_ratls_ctx_set_policy(sctx, &other, &e), TCN_OK);
    connect_pair(cctx, sctx, &k);
    assert_int_equal(k.s_st, FAILED);
    assert_int_equal(k.s_err.code, TCN_ERR_POLICY);
    assert_non_null(strstr(k.s_err.msg, "tcn-group: group 47010203"));
    assert_int_equal(k.c_st, FAILED);
    conn_free(&k);
    SSL_CTX_free(sctx);
    SSL_CTX_free(cctx);
    tcn_ratls_identity_free(a);
    tcn_ratls_identity_free(b);
    free(log_take());
}

/* A refused peer is told nothing but an alert, and the log says which check failed. */
static void test_handshake_refusals(void **state)
{
    (void)state;
    tcn_error e;
    tcn_ratls_identity *a = ident(g_prov, NULL), *o = ident(g_prov_exe, NULL);
    tcn_ratls_policy pol;
    peer_policy(&pol);
    SSL_CTX *sctx = ctx_new(TCN_RATLS_SERVER, a, &pol);

    /* Another executable as client. */
    SSL_CTX *cctx = ctx_new(TCN_RATLS_CLIENT, o, &pol);
    free(log_take());
    conn k;
    connect_pair(cctx, sctx, &k);
    assert_int_equal(k.s_st, FAILED);
    assert_int_equal(k.s_err.code, TCN_ERR_POLICY);
    assert_non_null(strstr(k.s_err.msg, "not self and not in the allow-list"));
    const tcn_ratls_peer *pp = NULL;
    assert_int_equal(tcn_ratls_ssl_peer(k.s, &pp, &e), TCN_ERR_POLICY);
    assert_null(pp);
    assert_non_null(strstr(e.msg, "not self"));
    /* The client learns only that it was refused. */
    assert_int_equal(k.c_st, FAILED);
    assert_int_equal(k.c_err.code, TCN_ERR_CERT_CHAIN);
    assert_non_null(strstr(k.c_err.msg, "refused by the peer"));
    assert_non_null(strstr(k.c_err.msg, "bad certificate"));
    assert_null(strstr(k.c_err.msg, "measurement"));
    char *log = log_take();
    assert_non_null(strstr(log, "ratls: peer refused"));
    assert_non_null(strstr(log, "check=measurement"));
    free(log);
    conn_free(&k);
    /* The same client refuses the server the other way round (our server is
     * 'self', the client's policy only allows the other binary). */
    tcn_ratls_policy only_other;
    peer_policy(&only_other);
    only_other.attest.measurement_self = false;
    tcn_policy_measurement m;
    assert_int_equal(tcn_ratls_identity_measurement(o, &m, &e), TCN_OK);
    assert_int_equal(tcn_policy_add_measurement(&only_other.attest, m.v, m.len, &e), TCN_OK);
    SSL_CTX_free(cctx);
    cctx = ctx_new(TCN_RATLS_CLIENT, o, &only_other);
    connect_pair(cctx, sctx, &k);
    assert_int_equal(k.c_st, FAILED);
    assert_int_equal(k.c_err.code, TCN_ERR_POLICY);
    assert_int_equal(k.s_st, FAILED);
    assert_non_null(strstr(k.s_err.msg, "refused by the peer"));
    conn_free(&k);
    SSL_CTX_free(cctx);

    /* A forged certificate (another key with genuine evidence of a). */
    EVP_PKEY *c = p256();
    size_t xl;
    const uint8_t *xv = ext_of(tcn_ratls_identity_cert(a), &xl);
    forge f = {.subject = c, .ext = xv, .ext_len = xl, .ext_count = 1};
    X509 *x = forge_cert(&f);
    cctx = foreign_client(x, c, TLS1_3_VERSION);
    connect_pair(cctx, sctx, &k);
    assert_int_equal(k.s_st, FAILED);
    assert_int_equal(k.s_err.code, TCN_ERR_BINDING);
    assert_non_null(strstr(k.s_err.msg, "pubkey-hash"));
    assert_int_equal(k.c_st, FAILED);
    log = log_take();
    assert_non_null(strstr(log, "check=pubkey-hash"));
    free(log);
    conn_free(&k);
    SSL_CTX_free(cctx);

    /* A chain of two certificates (a genuine one and anything else): RA-TLS
     * peers present exactly one self-signed certificate. */
    tcn_ratls_identity *extra = ident(g_prov, NULL);
    EVP_PKEY *ak = NULL;
    {
        SSL_CTX *tmp = ctx_new(TCN_RATLS_CLIENT, a, &pol);
        ak = SSL_CTX_get0_privatekey(tmp);
        assert_int_equal(EVP_PKEY_up_ref(ak), 1);
        SSL_CTX_free(tmp);
    }
    cctx = foreign_client(tcn_ratls_identity_cert(a), ak, TLS1_3_VERSION);
    X509 *second = tcn_ratls_identity_cert(extra);
    assert_int_equal(X509_up_ref(second), 1);
    assert_int_equal(SSL_CTX_add_extra_chain_cert(cctx, second), 1);
    connect_pair(cctx, sctx, &k);
    assert_int_equal(k.s_st, FAILED);
    assert_int_equal(k.s_err.code, TCN_ERR_CERT_CHAIN);
    assert_non_null(strstr(k.s_err.msg, "the peer sent 2 certificates"));
    conn_free(&k);
    SSL_CTX_free(cctx);
    /* The same client without the extra certificate is accepted: a's own key and certificate. */
    cctx = foreign_client(tcn_ratls_identity_cert(a), ak, TLS1_3_VERSION);
    connect_pair(cctx, sctx, &k);
    assert_int_equal(k.s_st, DONE);
    conn_free(&k);
    SSL_CTX_free(cctx);
    EVP_PKEY_free(ak);
    tcn_ratls_identity_free(extra);

    /* TLS 1.2 is refused, whoever offers it. */
    cctx = foreign_client(NULL, NULL, TLS1_2_VERSION);
    connect_pair(cctx, sctx, &k);
    assert_int_equal(k.s_st, FAILED);
    assert_int_equal(k.s_err.code, TCN_ERR_UNSUPPORTED);
    assert_non_null(strstr(k.s_err.msg, "TLS 1.3 only"));
    assert_int_equal(k.c_st, FAILED);
    assert_int_equal(k.c_err.code, TCN_ERR_UNSUPPORTED);
    conn_free(&k);
    SSL_CTX_free(cctx);

    /* A client with no certificate, when mutual TLS is required. */
    cctx = ctx_new(TCN_RATLS_CLIENT, NULL, &pol);
    connect_pair(cctx, sctx, &k);
    assert_int_equal(k.s_st, FAILED);
    assert_int_equal(k.s_err.code, TCN_ERR_CERT_CHAIN);
    assert_non_null(strstr(k.s_err.msg, "sent no certificate"));
    assert_int_equal(tcn_ratls_ssl_peer(k.s, &pp, &e), TCN_ERR_NOT_FOUND);
    assert_int_equal(k.c_st, FAILED);
    conn_free(&k);

    /* The same user client against a server-auth server: accepted, and it
     * sees the server's claims; the server verified no one. */
    SSL_CTX *open = ctx_new(TCN_RATLS_SERVER, a, NULL);
    connect_pair(cctx, open, &k);
    assert_int_equal(k.c_st, DONE);
    assert_int_equal(k.s_st, DONE);
    ping(&k);
    assert_int_equal(tcn_ratls_ssl_peer(k.c, &pp, &e), TCN_OK);
    assert_memory_equal(pp->key_hash, tcn_ratls_identity_key_hash(a), 32);
    assert_int_equal(tcn_ratls_ssl_peer(k.s, &pp, &e), TCN_ERR_NOT_FOUND);
    conn_free(&k);
    SSL_CTX_free(cctx);

    /* Our client refuses a TLS 1.2-only server. */
    SSL_CTX *old = SSL_CTX_new(TLS_server_method());
    assert_true(SSL_CTX_set_max_proto_version(old, TLS1_2_VERSION));
    assert_int_equal(SSL_CTX_use_certificate(old, x), 1);
    assert_int_equal(SSL_CTX_use_PrivateKey(old, c), 1);
    cctx = ctx_new(TCN_RATLS_CLIENT, NULL, &pol);
    connect_pair(cctx, old, &k);
    assert_int_equal(k.c_st, FAILED);
    assert_int_equal(k.c_err.code, TCN_ERR_UNSUPPORTED);
    conn_free(&k);
    SSL_CTX_free(old);
    SSL_CTX_free(cctx);

    /* Usage errors. */
    SSL_CTX *none = NULL;
    assert_int_equal(tcn_ratls_ctx_new(TCN_RATLS_CLIENT, a, NULL, &none, &e), TCN_ERR_USAGE);
    assert_int_equal(tcn_ratls_ctx_new(TCN_RATLS_SERVER, NULL, &pol, &none, &e), TCN_ERR_USAGE);
    assert_null(none);

    X509_free(x);
    EVP_PKEY_free(c);
    SSL_CTX_free(open);
    SSL_CTX_free(sctx);
    tcn_ratls_identity_free(a);
    tcn_ratls_identity_free(o);
    free(log_take());
}

/* A user's client pins (measurement, group id): `tcn verify --expect-measurement --expect-group`. */
static void test_user_client_pins(void **state)
{
    (void)state;
    tcn_error e;
    tcn_ratls_identity *a = ident(g_prov, G1);
    SSL_CTX *sctx = ctx_new(TCN_RATLS_SERVER, a, NULL);
    tcn_ratls_policy user;
    tcn_ratls_policy_default(&user);
    user.attest.measurement_self = false; /* a user has no 'self' */
    assert_int_equal(tcn_policy_add_sim_key(&user.attest, g_plat_a.pk, &e), TCN_OK);
    assert_int_equal(tcn_policy_add_measurement(&user.attest, g_self, 48, &e), TCN_OK);
    tcn_ratls_policy_pin_group(&user, G1);
    SSL_CTX *cctx = ctx_new(TCN_RATLS_CLIENT, NULL, &user);
    conn k;
    connect_pair(cctx, sctx, &k);
    assert_int_equal(k.c_st, DONE);
    conn_free(&k);
    SSL_CTX_free(cctx);
    /* A fresh network from the same binary has another group id: refused. */
    tcn_ratls_policy_pin_group(&user, G2);
    cctx = ctx_new(TCN_RATLS_CLIENT, NULL, &user);
    connect_pair(cctx, sctx, &k);
    assert_int_equal(k.c_st, FAILED);
    assert_int_equal(k.c_err.code, TCN_ERR_POLICY);
    assert_non_null(strstr(k.c_err.msg, "is not the pinned group"));
    const tcn_ratls_peer *pp;
    assert_int_equal(tcn_ratls_ssl_peer(k.c, &pp, &e), TCN_ERR_POLICY);
    assert_int_equal(k.s_st, FAILED);
    conn_free(&k);
    SSL_CTX_free(cctx);
    SSL_CTX_free(sctx);
    tcn_ratls_identity_free(a);
    free(log_take());
}

/* ---- re-attestation ---------------------------------------------------------------------- */

static void test_reattestation(void **state)
{
    (void)state;
    tcn_error e;
    tcn_ratls_identity *a = ident(g_prov, G1), *b = ident(g_prov, G1), *d = ident(g_prov, G1);
    tcn_ratls_policy pol;
    peer_policy(&pol);
    tcn_ratls_policy_pin_group(&pol, G1);
    pol.attest.max_age_ms = 60 * 1000;
    SSL_CTX *sctx = ctx_new(TCN_RATLS_SERVER, a, &pol), *cctx = ctx_new(TCN_RATLS_CLIENT, b, &pol);
    conn k;
    connect_pair(cctx, sctx, &k);
    assert_int_equal(k.s_st, DONE);
    const tcn_ratls_peer *chan;
    assert_int_equal(tcn_ratls_ssl_peer(k.s, &chan, &e), TCN_OK);

    /* The server challenges; the client answers over the channel. */
    uint8_t ch[TCN_RATLS_CHALLENGE_LEN], other[TCN_RATLS_CHALLENGE_LEN];
    tcn_random_bytes(ch, sizeof(ch));
    memcpy(other, ch, sizeof(ch));
    other[0] ^= 1;
    tcn_buf blob = {0};
    assert_int_equal(tcn_ratls_fresh_evidence(b, ch, &blob, &e), TCN_OK);
    tcn_ratls_ext x;
    assert_int_equal(tcn_ratls_ext_parse(blob.p, blob.len, &x, &e), TCN_OK);
    assert_true(x.claims.nonce_present);
    assert_int_equal(x.claims.nonce_len, 32);
    assert_memory_equal(x.claims.nonce, ch, 32);
    assert_true(x.claims.group_present);
    tcn_ratls_peer *np = peer_new();
    int64_t now = tcn_time_now_ms();
    pol.now_ms = now + 30 * 1000;
    assert_int_equal(tcn_ratls_verify_fresh(blob.p, blob.len, &pol, chan, ch, np, &e), TCN_OK);
    assert_memory_equal(np->key_hash, chan->key_hash, 32);
    assert_true(np->attested_at_ms >= chan->attested_at_ms);
    assert_false(tcn_ratls_peer_is_stale(np, &pol, now + 30 * 1000));

    /* Another challenge: a replayed answer. */
    assert_int_equal(tcn_ratls_verify_fresh(blob.p, blob.len, &pol, chan, other, np, &e), TCN_ERR_BINDING);
    assert_int_equal(np->reason, TCN_RATLS_NONCE);
    assert_non_null(strstr(e.msg, "answers another challenge"));
    /* A certificate's extension is no answer: it carries no nonce. */
    size_t xl;
    const uint8_t *xv = ext_of(tcn_ratls_identity_cert(b), &xl);
    assert_int_equal(tcn_ratls_verify_fresh(xv, xl, &pol, chan, ch, np, &e), TCN_ERR_BINDING);
    assert_int_equal(np->reason, TCN_RATLS_NONCE);
    assert_non_null(strstr(e.msg, "carries no nonce claim"));
    /* Genuine fresh evidence, but from another key than the channel's peer. */
    tcn_buf blob_d = {0};
    assert_int_equal(tcn_ratls_fresh_evidence(d, ch, &blob_d, &e), TCN_OK);
    assert_int_equal(tcn_ratls_verify_fresh(blob_d.p, blob_d.len, &pol, chan, ch, np, &e), TCN_ERR_BINDING);
    assert_int_equal(np->reason, TCN_RATLS_PEER_KEY);
    assert_non_null(strstr(e.msg, "not the key of this channel's peer"));
    /* Too old by the time it is checked: the node drops the peer. */
    pol.now_ms = now + 120 * 1000;
    assert_int_equal(tcn_ratls_verify_fresh(blob.p, blob.len, &pol, chan, ch, np, &e), TCN_ERR_POLICY);
    assert_int_equal(np->reason, TCN_RATLS_EVIDENCE_AGE);
    assert_true(tcn_ratls_peer_is_stale(chan, &pol, pol.now_ms));
    pol.now_ms = now + 30 * 1000;

    /* Every single-byte corruption of the answer is refused. */
    tcn_ratls_peer *good = peer_new();
    assert_int_equal(tcn_ratls_verify_fresh(blob.p, blob.len, &pol, chan, ch, good, &e), TCN_OK);
    size_t refused = 0;
    for (size_t i = 0; i < blob.len; i++)
        for (unsigned v = 1; v < 256; v += 17) {
            blob.p[i] ^= (uint8_t)v;
            int rc = tcn_ratls_verify_fresh(blob.p, blob.len, &pol, chan, ch, np, &e);
            blob.p[i] ^= (uint8_t)v;
            if (rc != TCN_OK) {
                refused++;
                assert_int_not_equal(np->reason, TCN_RATLS_OK);
            } else {
                assert_memory_equal(np->key_hash, good->key_hash, 32);
                assert_memory_equal(&np->claims, &good->claims, sizeof(np->claims));
            }
        }
    assert_int_equal(refused, blob.len * 15);
    /* And every truncation. */
    for (size_t n = 0; n < blob.len; n++)
        assert_int_not_equal(tcn_ratls_verify_fresh(blob.p, n, &pol, chan, ch, np, &e), TCN_OK);

    tcn_buf_free(&blob);
    tcn_buf_free(&blob_d);
    free(np);
    free(good);
    conn_free(&k);
    SSL_CTX_free(sctx);
    SSL_CTX_free(cctx);
    tcn_ratls_identity_free(a);
    tcn_ratls_identity_free(b);
    tcn_ratls_identity_free(d);
    free(log_take());
}

/* ---- secrets -------------------------------------------------------------------------------- */

static bool contains(const uint8_t *hay, size_t n, const uint8_t *needle, size_t k)
{
    for (size_t i = 0; i + k <= n; i++)
        if (memcmp(hay + i, needle, k) == 0)
            return true;
    return false;
}

/* The private key appears in no certificate (DER or PEM), no fresh evidence,
 * no error message and no log line. The test reads the key through OpenSSL
 * (the context holds it); our API has no way to export it. */
static void test_private_key_never_leaves(void **state)
{
    (void)state;
    tcn_error e;
    tcn_ratls_identity *a = ident(g_prov, G1), *b = ident(g_prov, NULL);
    tcn_ratls_policy pol;
    peer_policy(&pol);
    SSL_CTX *actx = ctx_new(TCN_RATLS_CLIENT, a, &pol);
    EVP_PKEY *k = SSL_CTX_get0_privatekey(actx);
    assert_non_null(k);
    BIGNUM *bn = NULL;
    assert_int_equal(EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_PRIV_KEY, &bn), 1);
    uint8_t sk[32];
    assert_int_equal(BN_bn2binpad(bn, sk, sizeof(sk)), 32);
    BN_clear_free(bn);
    char sk_hex[65], sk_HEX[65];
    tcn_hex_encode(sk, 32, sk_hex);
    for (int i = 0; i < 64; i++)
        sk_HEX[i] = (char)(sk_hex[i] >= 'a' ? sk_hex[i] - 32 : sk_hex[i]);
    sk_HEX[64] = '\0';

    /* Gather what leaves: certificates, fresh evidence, refusals, logs. */
    tcn_buf out = {0};
    free(log_take());
    for (int round = 0; round < 2; round++) {
        assert_int_equal(tcn_ratls_identity_cert_der(a, &out, &e), TCN_OK);
        BIO *mem = BIO_new(BIO_s_mem());
        assert_int_equal(PEM_write_bio_X509(mem, tcn_ratls_identity_cert(a)), 1);
        char *pem;
        long pn = BIO_get_mem_data(mem, &pem);
        assert_int_equal(tcn_buf_append(&out, pem, (size_t)pn), TCN_OK);
        BIO_free(mem);
        uint8_t ch[32] = {1};
        assert_int_equal(tcn_ratls_fresh_evidence(a, ch, &out, &e), TCN_OK);
        assert_int_equal(tcn_ratls_identity_reissue(a, NULL, &e), TCN_OK);
    }
    tcn_ratls_peer *p = peer_new();
    tcn_ratls_policy bad = pol;
    tcn_ratls_policy_pin_group(&bad, G2);
    int rc = tcn_ratls_verify_cert(tcn_ratls_identity_cert(a), &bad, p, &e);
    assert_int_not_equal(rc, TCN_OK);
    assert_int_equal(tcn_buf_append(&out, e.msg, strlen(e.msg)), TCN_OK);
    bad = pol;
    bad.now_ms = tcn_time_now_ms() + 10 * TCN_RATLS_CERT_LIFETIME_MS;
    assert_int_not_equal(tcn_ratls_verify_cert(tcn_ratls_identity_cert(a), &bad, p, &e), TCN_OK);
    assert_int_equal(tcn_buf_append(&out, e.msg, strlen(e.msg)), TCN_OK);
    /* Handshakes in both roles, one accepted and one refused, with logs at debug. */
    tcn_log_set_level(TCN_LOG_DEBUG);
    SSL_CTX *sctx = ctx_new(TCN_RATLS_SERVER, b, &pol);
    conn c;
    connect_pair(actx, sctx, &c);
    assert_int_equal(c.s_st, DONE);
    assert_int_equal(tcn_buf_append(&out, c.c_err.msg, strlen(c.c_err.msg)), TCN_OK);
    conn_free(&c);
    tcn_ratls_policy_pin_group(&pol, G2);
    assert_int_equal(tcn_ratls_ctx_set_policy(sctx, &pol, &e), TCN_OK);
    connect_pair(actx, sctx, &c);
    assert_int_equal(c.s_st, FAILED);
    assert_int_equal(tcn_buf_append(&out, c.s_err.msg, strlen(c.s_err.msg)), TCN_OK);
    assert_int_equal(tcn_buf_append(&out, c.c_err.msg, strlen(c.c_err.msg)), TCN_OK);
    conn_free(&c);
    tcn_log_set_level(TCN_LOG_INFO);
    char *log = log_take();
    assert_non_null(strstr(log, "ratls: peer refused"));
    assert_int_equal(tcn_buf_append(&out, log, strlen(log)), TCN_OK);
    free(log);

    assert_true(out.len > 2000);
    assert_false(contains(out.p, out.len, sk, 32));
    assert_false(contains(out.p, out.len, sk + 8, 16)); /* not even a part */
    assert_false(contains(out.p, out.len, (const uint8_t *)sk_hex, 64));
    assert_false(contains(out.p, out.len, (const uint8_t *)sk_hex + 16, 32));
    assert_false(contains(out.p, out.len, (const uint8_t *)sk_HEX, 64));
    /* The test would see it: the public key (which is meant to leave) is found. */
    uint8_t spki[TCN_RATLS_SPKI_MAX];
    size_t sn;
    spki_of(k, spki, &sn);
    assert_true(contains(out.p, out.len, spki, sn));

    tcn_wipe(sk, sizeof(sk));
    tcn_buf_free(&out);
    free(p);
    SSL_CTX_free(sctx);
    SSL_CTX_free(actx);
    tcn_ratls_identity_free(a);
    tcn_ratls_identity_free(b);
}

/* ---- set-up ------------------------------------------------------------------------------------ */

static int setup(void **state)
{
    (void)state;
    tcn_error e;
    if (tcn_crypto_init() != TCN_OK || mkdtemp(g_dir) == NULL)
        return -1;
    if (tcn_sim_platform_generate(&g_plat_a, &e) != TCN_OK || tcn_sim_platform_generate(&g_plat_b, &e) != TCN_OK ||
        tcn_sim_platform_save(&g_plat_a, in_dir("a.key"), &e) != TCN_OK ||
        tcn_sim_platform_save(&g_plat_b, in_dir("b.key"), &e) != TCN_OK)
        return -1;
    /* "Another executable": the daemon next to us when it was built, else a
     * file of other bytes (the sim measurement is SHA-384 of the file). */
    char other[600];
    snprintf(other, sizeof(other), "%s/tcnd", TCN_BIN_DIR);
    struct stat st;
    if (stat(other, &st) != 0) {
        fprintf(stderr, "test_ratls: %s not built; measuring a stand-in file as the other executable\n", other);
        snprintf(other, sizeof(other), "%s", in_dir("other-exe"));
        if (tcn_file_write(other, "another build of tcnd\n", 22, 0700, &e) != TCN_OK)
            return -1;
    }
    if (tcn_provider_sim_new(in_dir("a.key"), NULL, &g_prov, &e) != TCN_OK ||
        tcn_provider_sim_new(in_dir("a.key"), other, &g_prov_exe, &e) != TCN_OK ||
        tcn_provider_sim_new(in_dir("b.key"), NULL, &g_prov_plat, &e) != TCN_OK ||
        tcn_sim_measure_self(g_self, &e) != TCN_OK) {
        fprintf(stderr, "setup: %s\n", e.msg);
        return -1;
    }
    g_log = tmpfile();
    if (g_log == NULL)
        return -1;
    tcn_log_set_stream(g_log);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tcn_provider_free(g_prov);
    tcn_provider_free(g_prov_exe);
    tcn_provider_free(g_prov_plat);
    tcn_sim_platform_free(&g_plat_a);
    tcn_sim_platform_free(&g_plat_b);
    unlink(in_dir("a.key"));
    unlink(in_dir("b.key"));
    unlink(in_dir("other-exe"));
    rmdir(g_dir);
    tcn_log_set_stream(NULL);
    fclose(g_log);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_identity_certificate),
        cmocka_unit_test(test_reissue_with_group),
        cmocka_unit_test(test_measurement_self_and_allow_list),
        cmocka_unit_test(test_other_platform_key),
        cmocka_unit_test(test_key_not_the_bound_one),
        cmocka_unit_test(test_tampered_claims),
        cmocka_unit_test(test_evidence_age_and_validity),
        cmocka_unit_test(test_corrupt_certificate_bytes),
        cmocka_unit_test(test_mutual_handshake),
        cmocka_unit_test(test_handshake_refusals),
        cmocka_unit_test(test_user_client_pins),
        cmocka_unit_test(test_reattestation),
        cmocka_unit_test(test_private_key_never_leaves),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
