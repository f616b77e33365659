/* Our RA-TLS identity: the TLS key generated inside the TEE at boot, evidence
 * binding it, and the self-signed certificate that carries both. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509v3.h>

#include "attest/dcap_quote.h"
#include "attest/nitro_doc.h"
#include "attest/sim.h"
#include "tls/ratls_internal.h"
#include "util/assert.h"
#include "util/encoding.h"
#include "util/hash.h"
#include "util/secmem.h"
#include "util/timefmt.h"

#define SERIAL_LEN 16

/* ---- the certificate ------------------------------------------------------------ */

static int add_ext(X509 *x, X509V3_CTX *v3, int nid, const char *value)
{
    X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, v3, nid, value);
    int ok = e != NULL && X509_add_ext(x, e, -1) == 1;
    X509_EXTENSION_free(e);
    return ok;
}

static int set_time(ASN1_TIME *t, int64_t ms)
{
    return ASN1_TIME_set(t, (time_t)(ms / 1000)) != NULL;
}

static int build(X509 *x, EVP_PKEY *key, const uint8_t *ext, size_t ext_len, int64_t nb_ms, int64_t na_ms)
{
    /* RFC 5280 §4.1.2.2: positive, at most 20 octets; 127 random bits. */
    uint8_t serial[SERIAL_LEN];
    tcn_random_bytes(serial, sizeof(serial));
    serial[0] = (uint8_t)((serial[0] & 0x7f) | 0x40);
    BIGNUM *bn = BN_bin2bn(serial, sizeof(serial), NULL);
    int ok = bn != NULL && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != NULL;
    BN_free(bn);

    /* Subject = issuer: "O=tcn, CN=tcn <first 8 bytes of the key hash>". The
     * name carries no meaning (identity is the key hash and the evidence);
     * it only helps a human reading a certificate dump. */
    unsigned char *spki = NULL;
    int spki_len = i2d_PUBKEY(key, &spki);
    char cn[48] = "tcn";
    if (spki_len > 0) {
        uint8_t h[TCN_SHA256_LEN];
        tcn_sha256(spki, (size_t)spki_len, h);
        char hex[17];
        tcn_hex_encode(h, 8, hex);
        snprintf(cn, sizeof(cn), "tcn %s", hex);
    }
    OPENSSL_free(spki);
    X509_NAME *name = X509_NAME_new();
    ok = ok && name != NULL && spki_len > 0 &&
         X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)"tcn", -1, -1, 0) &&
         X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0) &&
         X509_set_subject_name(x, name) && X509_set_issuer_name(x, name);
    X509_NAME_free(name);

    ok = ok && X509_set_version(x, X509_VERSION_3) && X509_set_pubkey(x, key) &&
         set_time(X509_getm_notBefore(x), nb_ms) && set_time(X509_getm_notAfter(x), na_ms);

    X509V3_CTX v3;
    X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
    ok = ok && add_ext(x, &v3, NID_basic_constraints, "critical,CA:FALSE") &&
         add_ext(x, &v3, NID_key_usage, "critical,digitalSignature") &&
         add_ext(x, &v3, NID_ext_key_usage, "serverAuth,clientAuth") &&
         add_ext(x, &v3, NID_subject_key_identifier, "hash");

    /* The evidence: non-critical, as Gramine writes it (a critical extension
     * unknown to a verifier fails its chain check before any RA-TLS code runs). */
    ASN1_OBJECT *oid = ok ? OBJ_txt2obj(TCN_RATLS_OID, 1) : NULL;
    ASN1_OCTET_STRING *val = ok ? ASN1_OCTET_STRING_new() : NULL;
    X509_EXTENSION *e = NULL;
    ok = ok && oid != NULL && val != NULL && ASN1_OCTET_STRING_set(val, ext, (int)ext_len) &&
         (e = X509_EXTENSION_create_by_OBJ(NULL, oid, 0, val)) != NULL && X509_add_ext(x, e, -1) == 1;
    X509_EXTENSION_free(e);
    ASN1_OCTET_STRING_free(val);
    ASN1_OBJECT_free(oid);

    /* Ed25519 signs the message itself (no digest); everything else SHA-256. */
    const EVP_MD *md = EVP_PKEY_get_id(key) == EVP_PKEY_ED25519 ? NULL : EVP_sha256();
    return ok && X509_sign(x, key, md) > 0;
}

int tcn_ratls_cert_sign(EVP_PKEY *key, const uint8_t *ext, size_t ext_len, int64_t not_before_ms, int64_t not_after_ms,
                        X509 **out, tcn_error *err)
{
    TCN_ENSURE(ext_len >= 1 && ext_len <= TCN_RATLS_EXT_MAX, err, TCN_ERR_TOO_LARGE,
               "ratls: certificate: extension of %zu bytes (1..%d)", ext_len, TCN_RATLS_EXT_MAX);
    TCN_ENSURE(not_before_ms < not_after_ms, err, TCN_ERR_USAGE, "ratls: certificate: empty validity window");
    X509 *x = X509_new();
    int ok = x != NULL && build(x, key, ext, ext_len, not_before_ms, not_after_ms);
    ERR_clear_error();
    if (!ok) {
        X509_free(x);
        return tcn_err_set(err, TCN_ERR_CRYPTO, "ratls: certificate: OpenSSL could not build or sign it");
    }
    *out = x;
    return TCN_OK;
}

/* ---- the identity ------------------------------------------------------------- */

int tcn_ratls_identity_attest(const tcn_ratls_identity *id, const uint8_t *nonce, size_t nonce_len,
                              const bool *group_present, const uint8_t *group_id, tcn_buf *ext_out, tcn_buf *ev_out,
                              tcn_error *err)
{
    tcn_ratls_claims c;
    memset(&c, 0, sizeof(c));
    c.hash_alg = TCN_RATLS_HASH_SHA256;
    c.hash_len = TCN_SHA256_LEN;
    memcpy(c.hash, id->key_hash, TCN_SHA256_LEN);
    c.group_present = *group_present;
    if (c.group_present)
        memcpy(c.group_id, group_id, TCN_RATLS_GROUP_ID_LEN);
    if (nonce != NULL) {
        c.nonce_present = true;
        c.nonce_len = nonce_len;
        memcpy(c.nonce, nonce, nonce_len);
    }
    tcn_buf claims = {0}, ev = {0};
    uint8_t rd[TCN_REPORT_DATA_LEN];
    int rc = tcn_ratls_claims_encode(&c, &claims, err);
    if (rc == TCN_OK) {
        /* DESIGN §4: report data = SHA-512 of the encoded claims (the draft
         * and Gramine use SHA-256 in the first 32 bytes; see ratls.h). */
        tcn_sha512(claims.p, claims.len, rd);
        rc = tcn_provider_evidence(id->provider, rd, &ev, err);
        if (rc != TCN_OK)
            tcn_err_wrap(err, "ratls: evidence from the %s provider", tcn_tee_name(id->provider->tee));
    }
    if (rc == TCN_OK)
        rc = tcn_ratls_ext_encode(tcn_ratls_tag_for(id->provider->tee), ev.p, ev.len, claims.p, claims.len, ext_out,
                                  err);
    if (rc == TCN_OK && ev_out != NULL && (rc = tcn_buf_append(ev_out, ev.p, ev.len)) != TCN_OK)
        tcn_err_set(err, rc, "ratls: out of memory");
    tcn_buf_free(&claims);
    tcn_buf_free(&ev);
    return rc;
}

/* New evidence and certificate for the same key; commits only on success. */
static int issue(tcn_ratls_identity *id, bool group_present, const uint8_t *group_id, tcn_error *err)
{
    tcn_buf ext = {0}, ev = {0};
    X509 *cert = NULL;
    int64_t now = tcn_time_now_ms();
    int rc = tcn_ratls_identity_attest(id, NULL, 0, &group_present, group_id, &ext, &ev, err);
    if (rc == TCN_OK)
        rc = tcn_ratls_cert_sign(id->key, ext.p, ext.len, now - TCN_RATLS_CERT_BACKDATE_MS,
                                 now + TCN_RATLS_CERT_LIFETIME_MS, &cert, err);
    tcn_buf_free(&ext);
    if (rc != TCN_OK) {
        tcn_buf_free(&ev);
        return rc;
    }
    X509_free(id->cert);
    id->cert = cert;
    tcn_buf_free(&id->evidence);
    id->evidence = ev;
    id->group_present = group_present;
    if (group_present)
        memcpy(id->group_id, group_id, TCN_RATLS_GROUP_ID_LEN);
    return TCN_OK;
}

int tcn_ratls_identity_new(tcn_provider *prov, const uint8_t *group_id, tcn_ratls_identity **out, tcn_error *err)
{
    TCN_ENSURE(prov != NULL && tcn_ratls_tag_for(prov->tee) != 0, err, TCN_ERR_USAGE,
               "ratls: identity: no evidence provider for this TEE");
    tcn_ratls_identity *id = calloc(1, sizeof(*id));
    TCN_ENSURE(id != NULL, err, TCN_ERR_NOMEM, "ratls: identity: out of memory");
    id->provider = prov;
    /* P-256 (ECDSA): the signature scheme every TLS 1.3 stack must implement
     * (RFC 8446 §9.1: ecdsa_secp256r1_sha256), so users' clients, curl and
     * Gramine's mbedTLS-based verifier all accept our certificates. Ed25519
     * works between OpenSSL 3 peers but is optional in TLS 1.3 and missing
     * from mbedTLS's TLS stack. The private scalar lives only in this process
     * (inside the TEE); OpenSSL allocates it from its secure heap when the
     * program set one up (CRYPTO_secure_malloc_init) and clears it on free
     * (BN_clear_free) either way. */
    id->key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    unsigned char *spki = NULL;
    int n = id->key != NULL ? i2d_PUBKEY(id->key, &spki) : -1;
    ERR_clear_error();
    int rc = TCN_OK;
    if (n <= 0 || n > TCN_RATLS_SPKI_MAX) {
        rc = tcn_err_set(err, TCN_ERR_CRYPTO, "ratls: identity: key generation failed");
    } else {
        memcpy(id->spki, spki, (size_t)n);
        id->spki_len = (size_t)n;
        tcn_sha256(id->spki, id->spki_len, id->key_hash);
        rc = issue(id, group_id != NULL, group_id, err);
    }
    OPENSSL_free(spki);
    if (rc != TCN_OK) {
        tcn_ratls_identity_free(id);
        return rc;
    }
    *out = id;
    return TCN_OK;
}

int tcn_ratls_identity_reissue(tcn_ratls_identity *id, const uint8_t *group_id, tcn_error *err)
{
    if (group_id != NULL && id->group_present && !tcn_ct_equal(group_id, id->group_id, TCN_RATLS_GROUP_ID_LEN)) {
        char have[2 * TCN_RATLS_GROUP_ID_LEN + 1];
        tcn_hex_encode(id->group_id, TCN_RATLS_GROUP_ID_LEN, have);
        return tcn_err_set(err, TCN_ERR_USAGE, "ratls: identity: already a member of group %s", have);
    }
    bool present = group_id != NULL || id->group_present;
    return issue(id, present, group_id != NULL ? group_id : id->group_id, err);
}

void tcn_ratls_identity_free(tcn_ratls_identity *id)
{
    if (id == NULL)
        return;
    EVP_PKEY_free(id->key); /* clears the private scalar (BN_clear_free) once no SSL_CTX holds it */
    X509_free(id->cert);
    tcn_buf_free(&id->evidence);
    tcn_wipe(id, sizeof(*id));
    free(id);
}

X509 *tcn_ratls_identity_cert(const tcn_ratls_identity *id) { return id->cert; }

int tcn_ratls_identity_cert_der(const tcn_ratls_identity *id, tcn_buf *out, tcn_error *err)
{
    unsigned char *der = NULL;
    int n = i2d_X509(id->cert, &der);
    ERR_clear_error();
    TCN_ENSURE(n > 0, err, TCN_ERR_CRYPTO, "ratls: identity: certificate does not encode");
    int rc = tcn_buf_append(out, der, (size_t)n);
    OPENSSL_free(der);
    TCN_ENSURE(rc == TCN_OK, err, rc, "ratls: out of memory");
    return TCN_OK;
}

const uint8_t *tcn_ratls_identity_key_hash(const tcn_ratls_identity *id) { return id->key_hash; }

bool tcn_ratls_identity_group(const tcn_ratls_identity *id, uint8_t out[TCN_RATLS_GROUP_ID_LEN])
{
    if (id->group_present)
        memcpy(out, id->group_id, TCN_RATLS_GROUP_ID_LEN);
    return id->group_present;
}

int tcn_ratls_identity_measurement(const tcn_ratls_identity *id, tcn_policy_measurement *out, tcn_error *err)
{
    const uint8_t *ev = id->evidence.p;
    size_t len = id->evidence.len;
    memset(out, 0, sizeof(*out));
    switch (id->provider->tee) {
    case TCN_TEE_SIM: {
        tcn_sim_report r;
        uint8_t pk[TCN_SIM_PUBKEY_LEN];
        if (tcn_sim_evidence_parse(ev, len, &r, pk, err) != TCN_OK)
            return tcn_err_wrap(err, "ratls: own evidence");
        out->len = TCN_SIM_MEASUREMENT_LEN;
        memcpy(out->v, r.measurement, out->len);
        return TCN_OK;
    }
    case TCN_TEE_SGX:
    case TCN_TEE_TDX: {
        tcn_dcap_quote q;
        if (tcn_dcap_quote_parse(ev, len, &q, err) != TCN_OK)
            return tcn_err_wrap(err, "ratls: own evidence");
        tcn_claims *c = calloc(1, sizeof(*c));
        TCN_ENSURE(c != NULL, err, TCN_ERR_NOMEM, "ratls: out of memory");
        tcn_dcap_quote_to_claims(&q, c);
        out->len = c->measurement_len;
        memcpy(out->v, c->measurement, out->len);
        free(c);
        return TCN_OK;
    }
    case TCN_TEE_NITRO: {
        tcn_nitro_doc d;
        if (tcn_nitro_doc_parse(ev, len, &d, err) != TCN_OK)
            return tcn_err_wrap(err, "ratls: own evidence");
        int ok = (d.pcr_present & 1u) != 0;
        if (ok) {
            out->len = TCN_NITRO_PCR_LEN;
            memcpy(out->v, d.pcrs[0], out->len);
        }
        tcn_nitro_doc_free(&d);
        TCN_ENSURE(ok, err, TCN_ERR_MALFORMED, "ratls: own evidence: the Nitro document has no PCR0");
        return TCN_OK;
    }
    default:
        return tcn_err_set(err, TCN_ERR_USAGE, "ratls: own evidence of an unknown TEE");
    }
}
