/* Verifying a peer's RA-TLS certificate (or an extension value bound to a known
 * key): every check in a fixed order, each refusal with its own reason. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/asn1.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509v3.h>

#include "tls/ratls_internal.h"
#include "util/assert.h"
#include "util/encoding.h"
#include "util/hash.h"
#include "util/secmem.h"
#include "util/timefmt.h"

/* A certificate is the extension plus a few hundred bytes of X.509. */
#define CERT_DER_MAX (TCN_RATLS_EXT_MAX + 4096)

static const char *const reason_names[TCN_RATLS_REASON_COUNT_] = {
    [TCN_RATLS_OK] = "ok",
    [TCN_RATLS_NO_CERT] = "certificate-count",
    [TCN_RATLS_CERT] = "certificate",
    [TCN_RATLS_CERT_VALIDITY] = "certificate-validity",
    [TCN_RATLS_SELF_SIGNATURE] = "self-signature",
    [TCN_RATLS_NO_EXTENSION] = "extension-missing",
    [TCN_RATLS_DUP_EXTENSION] = "extension-duplicate",
    [TCN_RATLS_EXT_MALFORMED] = "extension-cbor",
    [TCN_RATLS_PUBKEY_HASH] = "pubkey-hash",
    [TCN_RATLS_PEER_KEY] = "peer-key",
    [TCN_RATLS_TAG_MISMATCH] = "evidence-tag",
    [TCN_RATLS_EVIDENCE] = "evidence",
    [TCN_RATLS_EVIDENCE_POLICY] = "attestation-policy",
    [TCN_RATLS_REPORT_DATA] = "report-data",
    [TCN_RATLS_NONCE] = "nonce",
    [TCN_RATLS_MEASUREMENT] = "measurement",
    [TCN_RATLS_GROUP_MISSING] = "group-missing",
    [TCN_RATLS_GROUP_MISMATCH] = "group-mismatch",
    [TCN_RATLS_EVIDENCE_AGE] = "evidence-age",
};

const char *tcn_ratls_reason_name(tcn_ratls_reason r)
{
    return (unsigned)r < TCN_RATLS_REASON_COUNT_ ? reason_names[r] : "?";
}

/* ---- policy ------------------------------------------------------------------ */

void tcn_ratls_policy_default(tcn_ratls_policy *p)
{
    memset(p, 0, sizeof(*p));
    tcn_policy_default(&p->attest);
    p->attest.measurement_any = false;
    p->attest.measurement_self = true; /* DESIGN §4: 'self' is the default for peers */
}

int tcn_ratls_policy_set_self(tcn_ratls_policy *p, const uint8_t *m, size_t len, tcn_error *err)
{
    TCN_ENSURE(len >= 1 && len <= TCN_MEASUREMENT_MAX, err, TCN_ERR_USAGE, "ratls: self measurement of %zu bytes",
               len);
    p->attest.measurement_self = true;
    p->attest.self.len = len;
    memcpy(p->attest.self.v, m, len);
    return TCN_OK;
}

void tcn_ratls_policy_pin_group(tcn_ratls_policy *p, const uint8_t group_id[TCN_RATLS_GROUP_ID_LEN])
{
    p->group_pinned = true;
    memcpy(p->group_id, group_id, TCN_RATLS_GROUP_ID_LEN);
}

bool tcn_ratls_peer_is_stale(const tcn_ratls_peer *p, const tcn_ratls_policy *pol, int64_t now_ms)
{
    return pol->attest.max_age_ms > 0 && now_ms - p->attested_at_ms > pol->attest.max_age_ms;
}

/* ---- refusals ------------------------------------------------------------------ */

int tcn_ratls_refuse(tcn_ratls_peer *out, tcn_ratls_reason reason, tcn_error *err, int code, const char *fmt, ...)
{
    TCN_ASSERT(reason != TCN_RATLS_OK && code != TCN_OK);
    char msg[TCN_ERR_MSG_MAX - 16];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    out->reason = reason;
    return tcn_err_set(err, code, "ratls: %s", msg);
}

/* ---- the extension, bound to a key ------------------------------------------- */

static void spki_hash(uint64_t alg, const uint8_t *spki, size_t n, uint8_t out[TCN_RATLS_HASH_MAX])
{
    if (alg == TCN_RATLS_HASH_SHA256) {
        tcn_sha256(spki, n, out);
    } else if (alg == TCN_RATLS_HASH_SHA512) {
        tcn_sha512(spki, n, out);
    } else {
        TCN_ASSERT(alg == TCN_RATLS_HASH_SHA384); /* the parser lets no other through */
        unsigned int len = 0;
        TCN_ASSERT(EVP_Digest(spki, n, out, &len, EVP_sha384(), NULL) == 1 && len == 48);
    }
}

static bool measurement_match(const tcn_policy_measurement *m, const tcn_claims *c)
{
    return m->len == c->measurement_len && tcn_ct_equal(m->v, c->measurement, m->len);
}

static int check_measurement(const tcn_policy *p, const tcn_claims *c, tcn_ratls_peer *out, tcn_error *err)
{
    if (p->measurement_any)
        return TCN_OK;
    bool ok = p->measurement_self && p->self.len > 0 && measurement_match(&p->self, c);
    for (size_t i = 0; !ok && i < p->measurement_count; i++)
        ok = measurement_match(&p->measurements[i], c);
    if (ok)
        return TCN_OK;
    char hex[2 * TCN_MEASUREMENT_MAX + 1];
    tcn_hex_encode(c->measurement, c->measurement_len, hex);
    if (!p->measurement_self)
        return tcn_ratls_refuse(out, TCN_RATLS_MEASUREMENT, err, TCN_ERR_POLICY,
                                "measurement %s not in the allow-list (%zu entries)", hex, p->measurement_count);
    if (p->self.len == 0)
        return tcn_ratls_refuse(out, TCN_RATLS_MEASUREMENT, err, TCN_ERR_POLICY,
                                "measurement %s not in the allow-list (%zu entries), and self is unknown to this "
                                "verifier",
                                hex, p->measurement_count);
    return tcn_ratls_refuse(out, TCN_RATLS_MEASUREMENT, err, TCN_ERR_POLICY,
                            "measurement %s not self and not in the allow-list (%zu entries)", hex,
                            p->measurement_count);
}

int tcn_ratls_verify_ext(const uint8_t *ext, size_t ext_len, const uint8_t *spki, size_t spki_len,
                         const tcn_ratls_policy *pol, int64_t now, const uint8_t *nonce, size_t nonce_len,
                         tcn_ratls_reason key_reason, tcn_ratls_peer *out, tcn_error *err)
{
    TCN_ASSERT(spki_len <= TCN_RATLS_SPKI_MAX);
    if (out->spki != spki) {
        memcpy(out->spki, spki, spki_len);
        out->spki_len = spki_len;
        tcn_sha256(spki, spki_len, out->key_hash);
    }

    tcn_ratls_ext x;
    if (tcn_ratls_ext_parse(ext, ext_len, &x, err) != TCN_OK) {
        out->reason = TCN_RATLS_EXT_MALFORMED;
        return tcn_err_wrap(err, "ratls");
    }

    /* Cheap binding checks before the evidence's signatures. */
    uint8_t h[TCN_RATLS_HASH_MAX];
    spki_hash(x.claims.hash_alg, spki, spki_len, h);
    if (!tcn_ct_equal(h, x.claims.hash, x.claims.hash_len))
        return tcn_ratls_refuse(out, key_reason, err, TCN_ERR_BINDING, "%s",
                                key_reason == TCN_RATLS_PEER_KEY
                                    ? "pubkey-hash of the fresh evidence is not the key of this channel's peer"
                                    : "pubkey-hash does not match the certificate key");
    tcn_tee_type t = tcn_evidence_detect(x.evidence, x.evidence_len);
    if (!tcn_ratls_tag_accepts(x.tag, t))
        return tcn_ratls_refuse(out, TCN_RATLS_TAG_MISMATCH, err, TCN_ERR_MALFORMED,
                                "evidence tag %llu does not name the evidence carried (%s)",
                                (unsigned long long)x.tag, t == TCN_TEE_NONE ? "unknown format" : tcn_tee_name(t));

    /* Authenticity and the plain policy fields; measurement and age come
     * after the binding, each with its own reason. */
    tcn_policy relaxed = pol->attest;
    relaxed.measurement_any = true;
    relaxed.max_age_ms = 0;
    tcn_verify_opts o = {.type = t, .collateral = pol->collateral, .at_ms = now, .policy = &relaxed};
    if (tcn_evidence_verify(x.evidence, x.evidence_len, &o, &out->claims, err) != TCN_OK) {
        out->reason = tcn_err_category_of(err->code) == TCN_CAT_POLICY ? TCN_RATLS_EVIDENCE_POLICY : TCN_RATLS_EVIDENCE;
        return tcn_err_wrap(err, "ratls: evidence");
    }

    uint8_t want[TCN_SHA512_LEN];
    tcn_sha512(x.claims_raw, x.claims_len, want);
    if (!out->claims.report_data_present)
        return tcn_ratls_refuse(out, TCN_RATLS_REPORT_DATA, err, TCN_ERR_BINDING,
                                "report data: the %s evidence carries no 64-byte report data", tcn_tee_name(t));
    if (!tcn_ct_equal(want, out->claims.report_data, TCN_REPORT_DATA_LEN))
        return tcn_ratls_refuse(out, TCN_RATLS_REPORT_DATA, err, TCN_ERR_BINDING,
                                "report data does not match SHA-512 of the claims carried in the extension");
    /* From here on the claims are the TEE's word. */
    out->group_present = x.claims.group_present;
    memcpy(out->group_id, x.claims.group_id, TCN_RATLS_GROUP_ID_LEN);
    out->attested_at_ms = out->claims.timestamp_ms > 0 ? out->claims.timestamp_ms : now;

    if (nonce != NULL &&
        !(x.claims.nonce_present && x.claims.nonce_len == nonce_len && tcn_ct_equal(x.claims.nonce, nonce, nonce_len)))
        return tcn_ratls_refuse(out, TCN_RATLS_NONCE, err, TCN_ERR_BINDING, "nonce: %s",
                                x.claims.nonce_present ? "the fresh evidence answers another challenge"
                                                       : "the fresh evidence carries no nonce claim");

    TCN_GUARD(check_measurement(&pol->attest, &out->claims, out, err));

    if (pol->group_pinned) {
        char want_hex[2 * TCN_RATLS_GROUP_ID_LEN + 1], got_hex[2 * TCN_RATLS_GROUP_ID_LEN + 1];
        tcn_hex_encode(pol->group_id, TCN_RATLS_GROUP_ID_LEN, want_hex);
        if (!x.claims.group_present && !pol->group_absent_ok)
            return tcn_ratls_refuse(out, TCN_RATLS_GROUP_MISSING, err, TCN_ERR_POLICY,
                                    "tcn-group: claim absent, the policy pins group %s", want_hex);
        tcn_hex_encode(x.claims.group_id, TCN_RATLS_GROUP_ID_LEN, got_hex);
        if (x.claims.group_present && !tcn_ct_equal(x.claims.group_id, pol->group_id, TCN_RATLS_GROUP_ID_LEN))
            return tcn_ratls_refuse(out, TCN_RATLS_GROUP_MISMATCH, err, TCN_ERR_POLICY,
                                    "tcn-group: group %s is not the pinned group %s", got_hex, want_hex);
    }

    int64_t max_age = pol->attest.max_age_ms;
    if (max_age > 0 && out->claims.timestamp_ms > 0) {
        int64_t age = now - out->claims.timestamp_ms;
        if (age > max_age)
            return tcn_ratls_refuse(out, TCN_RATLS_EVIDENCE_AGE, err, TCN_ERR_POLICY,
                                    "evidence age: %lld ms old, the policy allows %lld ms", (long long)age,
                                    (long long)max_age);
        if (age < -TCN_POLICY_FUTURE_SKEW_MS)
            return tcn_ratls_refuse(out, TCN_RATLS_EVIDENCE_AGE, err, TCN_ERR_POLICY,
                                    "evidence age: dated %lld ms in the future", (long long)-age);
    }

    /* Whatever else the attestation policy holds (TDX RTMRs): the full check,
     * which by now can only fail on fields not checked above. */
    if (tcn_policy_check(&pol->attest, &out->claims, now, err) != TCN_OK) {
        out->reason = TCN_RATLS_EVIDENCE_POLICY;
        return tcn_err_wrap(err, "ratls");
    }
    out->reason = TCN_RATLS_OK;
    return TCN_OK;
}

/* ---- the certificate ------------------------------------------------------------ */

static void asn1_time_text(const ASN1_TIME *t, char *out, size_t cap)
{
    struct tm tm;
    if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1 || strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(out, cap, "(unreadable)");
}

static bool known_critical(int nid)
{
    return nid == NID_basic_constraints || nid == NID_key_usage || nid == NID_ext_key_usage;
}

static int verify_cert(X509 *cert, const tcn_ratls_policy *pol, tcn_ratls_peer *out, tcn_error *err)
{
    if (cert == NULL)
        return tcn_ratls_refuse(out, TCN_RATLS_NO_CERT, err, TCN_ERR_CERT_CHAIN, "the peer sent no certificate");
    int64_t now = pol->now_ms != 0 ? pol->now_ms : tcn_time_now_ms();

    /* Shape: X.509 v3, self-issued, nothing critical we do not understand
     * (we replace OpenSSL's chain verification, so we check what it would). */
    long version = X509_get_version(cert);
    if (version != X509_VERSION_3)
        return tcn_ratls_refuse(out, TCN_RATLS_CERT, err, TCN_ERR_MALFORMED,
                                "certificate: X.509 version field %ld, expected v3", version);
    if (X509_NAME_cmp(X509_get_issuer_name(cert), X509_get_subject_name(cert)) != 0)
        return tcn_ratls_refuse(out, TCN_RATLS_CERT, err, TCN_ERR_MALFORMED,
                                "certificate: not self-issued (issuer differs from subject)");
    unsigned char *der = NULL;
    int n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert), &der);
    if (n <= 0 || n > TCN_RATLS_SPKI_MAX) {
        OPENSSL_free(der);
        ERR_clear_error();
        return tcn_ratls_refuse(out, TCN_RATLS_CERT, err, TCN_ERR_MALFORMED,
                                "certificate: subject public key info of %d bytes (at most %d)", n,
                                TCN_RATLS_SPKI_MAX);
    }
    memcpy(out->spki, der, (size_t)n);
    out->spki_len = (size_t)n;
    OPENSSL_free(der);
    tcn_sha256(out->spki, out->spki_len, out->key_hash);

    ASN1_OBJECT *oid = OBJ_txt2obj(TCN_RATLS_OID, 1);
    TCN_ENSURE(oid != NULL, err, TCN_ERR_NOMEM, "ratls: out of memory");
    int found = -1, count = 0, unknown_critical = 0;
    char unknown[80] = "";
    for (int i = 0; i < X509_get_ext_count(cert); i++) {
        X509_EXTENSION *e = X509_get_ext(cert, i);
        ASN1_OBJECT *obj = X509_EXTENSION_get_object(e);
        if (OBJ_cmp(obj, oid) == 0) {
            count++;
            found = i;
        } else if (X509_EXTENSION_get_critical(e) && !known_critical(OBJ_obj2nid(obj)) && !unknown_critical++) {
            OBJ_obj2txt(unknown, sizeof(unknown), obj, 1);
        }
    }
    ASN1_OBJECT_free(oid);
    if (unknown_critical)
        return tcn_ratls_refuse(out, TCN_RATLS_CERT, err, TCN_ERR_UNSUPPORTED,
                                "certificate: critical extension %s is not understood", unknown);

    time_t at = (time_t)(now / 1000);
    int nb = X509_cmp_time(X509_get0_notBefore(cert), &at);
    int na = X509_cmp_time(X509_get0_notAfter(cert), &at);
    char when[32];
    if (nb == 0 || na == 0)
        return tcn_ratls_refuse(out, TCN_RATLS_CERT_VALIDITY, err, TCN_ERR_MALFORMED,
                                "certificate validity: notBefore/notAfter cannot be compared");
    if (nb > 0) {
        asn1_time_text(X509_get0_notBefore(cert), when, sizeof(when));
        return tcn_ratls_refuse(out, TCN_RATLS_CERT_VALIDITY, err, TCN_ERR_NOT_YET_VALID,
                                "certificate validity: not valid before %s", when);
    }
    if (na < 0) {
        asn1_time_text(X509_get0_notAfter(cert), when, sizeof(when));
        return tcn_ratls_refuse(out, TCN_RATLS_CERT_VALIDITY, err, TCN_ERR_EXPIRED,
                                "certificate validity: expired at %s", when);
    }

    EVP_PKEY *pk = X509_get0_pubkey(cert);
    int sig_ok = pk != NULL && X509_verify(cert, pk) == 1;
    ERR_clear_error();
    if (!sig_ok)
        return tcn_ratls_refuse(out, TCN_RATLS_SELF_SIGNATURE, err, TCN_ERR_BAD_SIGNATURE,
                                "self-signature: the certificate is not signed by its own key");

    if (count == 0)
        return tcn_ratls_refuse(out, TCN_RATLS_NO_EXTENSION, err, TCN_ERR_MALFORMED,
                                "extension: the certificate carries no evidence extension (OID %s)", TCN_RATLS_OID);
    if (count > 1)
        return tcn_ratls_refuse(out, TCN_RATLS_DUP_EXTENSION, err, TCN_ERR_MALFORMED,
                                "extension: the certificate carries %d evidence extensions, expected one", count);
    /* Critical or not: Gramine writes it non-critical, rats-tls critical
     * (TCG DICE says SHOULD be critical); both are read. */
    const ASN1_OCTET_STRING *v = X509_EXTENSION_get_data(X509_get_ext(cert, found));
    return tcn_ratls_verify_ext(ASN1_STRING_get0_data(v), (size_t)ASN1_STRING_length(v), out->spki, out->spki_len,
                                pol, now, NULL, 0, TCN_RATLS_PUBKEY_HASH, out, err);
}

int tcn_ratls_verify_cert(X509 *cert, const tcn_ratls_policy *pol, tcn_ratls_peer *out, tcn_error *err)
{
    TCN_ASSERT(pol != NULL && out != NULL);
    memset(out, 0, sizeof(*out));
    int rc = verify_cert(cert, pol, out, err);
    TCN_ASSERT((rc == TCN_OK) == (out->reason == TCN_RATLS_OK));
    return rc;
}

int tcn_ratls_verify_der(const uint8_t *der, size_t len, const tcn_ratls_policy *pol, tcn_ratls_peer *out,
                         tcn_error *err)
{
    TCN_ASSERT(pol != NULL && out != NULL);
    memset(out, 0, sizeof(*out));
    if (len == 0 || len > CERT_DER_MAX)
        return tcn_ratls_refuse(out, TCN_RATLS_CERT, err, TCN_ERR_MALFORMED, "certificate: %zu bytes of DER (1..%d)",
                                len, CERT_DER_MAX);
    const unsigned char *p = der;
    X509 *cert = d2i_X509(NULL, &p, (long)len);
    ERR_clear_error();
    if (cert == NULL || p != der + len) {
        X509_free(cert);
        return tcn_ratls_refuse(out, TCN_RATLS_CERT, err, TCN_ERR_MALFORMED,
                                "certificate: the DER does not parse as exactly one certificate");
    }
    int rc = tcn_ratls_verify_cert(cert, pol, out, err);
    X509_free(cert);
    return rc;
}
