/* Nitro attestation verification: the certificate chain to the pinned AWS Nitro
 * root G1, the COSE_Sign1 ES384 signature, and the claims the document yields
 * (aws-nitro-enclaves-nsm-api docs/attestation_process.md §3; RFC 9052 §4.4). */
#include "attest/nitro.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "attest/nitro_doc.h"
#include "attest/roots.h"
#include "attest/x509.h"
#include "util/assert.h"
#include "util/buf.h"

#define CHAIN_WHAT "nitro chain"

/* The DER of the pinned root, encoded once; compared byte for byte with
 * cabundle[0]. Process lifetime, like the root itself. */
static pthread_once_t g_root_once = PTHREAD_ONCE_INIT;
static unsigned char *g_root_der;
static size_t g_root_der_len;

static void root_der_init(void)
{
    unsigned char *der = NULL;
    int n = i2d_X509(tcn_root_aws_nitro(), &der);
    TCN_ASSERT(n > 0 && der != NULL);
    g_root_der = der;
    g_root_der_len = (size_t)n;
}

/* ---- parsed certificates, by DER ------------------------------------------
 * In OpenSSL 3.0 d2i_X509 decodes the subject key through the provider
 * decoders, ~150 us per certificate here: parsing the five certificates of a
 * document costs as much as its P-384 signature check. The intermediates of a
 * document repeat across documents for hours to days, and a re-verified
 * document repeats its leaf, so each certificate is parsed once and shared.
 * A hit needs the full DER to be byte-equal (no hash shortcut); entries are
 * read-only once stored (as certificates in an X509_STORE are) and evicted
 * round-robin. Process lifetime, like the x509 signature cache. */

#define CERT_CACHE_SLOTS 32

struct cert_slot {
    uint8_t *der;
    size_t len;
    X509 *x;
};

static pthread_mutex_t g_cert_mu = PTHREAD_MUTEX_INITIALIZER;
static struct cert_slot g_certs[CERT_CACHE_SLOTS];
static unsigned g_cert_next;

static X509 *cert_lookup(const uint8_t *der, size_t len)
{
    X509 *x = NULL;
    pthread_mutex_lock(&g_cert_mu);
    for (unsigned i = 0; i < CERT_CACHE_SLOTS && x == NULL; i++)
        if (g_certs[i].x != NULL && g_certs[i].len == len && memcmp(g_certs[i].der, der, len) == 0 &&
            X509_up_ref(g_certs[i].x))
            x = g_certs[i].x;
    pthread_mutex_unlock(&g_cert_mu);
    return x;
}

static void cert_store(const uint8_t *der, size_t len, X509 *x)
{
    uint8_t *copy = malloc(len);
    if (copy == NULL || !X509_up_ref(x)) {
        free(copy);
        return; /* not cached; the caller keeps its own reference */
    }
    memcpy(copy, der, len);
    pthread_mutex_lock(&g_cert_mu);
    struct cert_slot *s = &g_certs[g_cert_next++ % CERT_CACHE_SLOTS];
    X509 *old_x = s->x;
    uint8_t *old_der = s->der;
    s->der = copy;
    s->len = len;
    s->x = x;
    pthread_mutex_unlock(&g_cert_mu);
    X509_free(old_x);
    free(old_der);
}

void tcn_nitro_cache_clear(void)
{
    pthread_mutex_lock(&g_cert_mu);
    for (unsigned i = 0; i < CERT_CACHE_SLOTS; i++) {
        X509_free(g_certs[i].x);
        free(g_certs[i].der);
        g_certs[i].x = NULL;
        g_certs[i].der = NULL;
        g_certs[i].len = 0;
    }
    pthread_mutex_unlock(&g_cert_mu);
}

/* Like tcn_x509_parse_der, through the cache. The caller frees *out. */
static int cert_parse(const uint8_t *der, size_t len, X509 **out, tcn_error *err)
{
    X509 *x = cert_lookup(der, len);
    if (x == NULL) {
        TCN_GUARD(tcn_x509_parse_der(der, len, &x, err));
        cert_store(der, len, x);
    }
    *out = x;
    return TCN_OK;
}

/* The leaf signs the document: ES384 needs an EC key on P-384 (RFC 9053
 * §2.1), and the certificate must allow signatures (key usage
 * digitalSignature, attestation_process.md §3.2.3.3; an absent extension
 * allows every use, RFC 5280 §4.2.1.3). */
static int check_leaf(X509 *leaf, EVP_PKEY *pk, tcn_error *err)
{
    TCN_ENSURE(pk != NULL, err, TCN_ERR_MALFORMED, "nitro: leaf certificate public key does not decode");
    char group[64] = "";
    size_t glen = 0;
    int ok = EVP_PKEY_is_a(pk, "EC") && EVP_PKEY_get_group_name(pk, group, sizeof(group), &glen) == 1 &&
             strcmp(group, "secp384r1") == 0;
    ERR_clear_error();
    TCN_ENSURE(ok, err, TCN_ERR_UNSUPPORTED, "nitro: leaf certificate key is %s%s%s, ES384 needs EC P-384",
               EVP_PKEY_get0_type_name(pk) ? EVP_PKEY_get0_type_name(pk) : "?", group[0] ? " " : "", group);
    TCN_ENSURE(X509_get_key_usage(leaf) & KU_DIGITAL_SIGNATURE, err, TCN_ERR_CERT_CHAIN,
               "nitro: leaf certificate key usage does not allow digitalSignature");
    return TCN_OK;
}

/* ToBeSigned = the CBOR encoding of
 *   Sig_structure = ["Signature1", body_protected: bstr, external_aad: bstr, payload: bstr]
 * with external_aad empty (RFC 9052 §4.4), heads in the shortest form
 * (RFC 9052 §9 refers to the deterministic encoding of RFC 8949 §4.2). */
static int sig_structure(const tcn_nitro_doc *d, tcn_buf *b)
{
    static const char context[] = "Signature1";
    const size_t clen = sizeof(context) - 1;
    int rc = tcn_buf_reserve(b, 1 + 1 + clen + 9 + d->protected_len + 1 + 9 + d->payload_len);
    if (rc == TCN_OK)
        rc = tcn_nitro_cbor_put_head(b, TCN_NITRO_CBOR_ARRAY, 4);
    if (rc == TCN_OK)
        rc = tcn_nitro_cbor_put_head(b, TCN_NITRO_CBOR_TEXT, clen);
    if (rc == TCN_OK)
        rc = tcn_buf_append(b, context, clen);
    if (rc == TCN_OK)
        rc = tcn_nitro_cbor_put_head(b, TCN_NITRO_CBOR_BYTES, d->protected_len);
    if (rc == TCN_OK)
        rc = tcn_buf_append(b, d->protected_hdr, d->protected_len);
    if (rc == TCN_OK)
        rc = tcn_nitro_cbor_put_head(b, TCN_NITRO_CBOR_BYTES, 0); /* external_aad = h'' */
    if (rc == TCN_OK)
        rc = tcn_nitro_cbor_put_head(b, TCN_NITRO_CBOR_BYTES, d->payload_len);
    if (rc == TCN_OK)
        rc = tcn_buf_append(b, d->payload, d->payload_len);
    return rc;
}

static int verify_cose_signature(const tcn_nitro_doc *d, EVP_PKEY *leaf_key, tcn_error *err)
{
    tcn_buf tbs = {0};
    if (sig_structure(d, &tbs) != TCN_OK) {
        tcn_buf_free(&tbs);
        return tcn_err_set(err, TCN_ERR_NOMEM, "nitro: out of memory building the COSE Sig_structure");
    }
    int rc = tcn_ecdsa_verify_raw(leaf_key, EVP_sha384(), tbs.p, tbs.len, d->signature, TCN_NITRO_SIG_LEN, err);
    tcn_buf_free(&tbs);
    if (rc == TCN_ERR_BAD_SIGNATURE)
        return tcn_err_set(err, TCN_ERR_BAD_SIGNATURE,
                           "nitro: COSE_Sign1 ES384 signature does not verify with the leaf certificate key");
    if (rc != TCN_OK)
        return tcn_err_wrap(err, "nitro: COSE_Sign1 signature");
    return TCN_OK;
}

/* cabundle[0] must be the pinned root itself; cabundle[1..] are the
 * intermediates (root first, attestation_process.md §3.2.3). */
static int verify_chain(const tcn_nitro_doc *d, X509 *leaf, int64_t at_ms, tcn_error *err)
{
    pthread_once(&g_root_once, root_der_init);
    if (d->cabundle_len[0] != g_root_der_len || memcmp(d->cabundle[0], g_root_der, g_root_der_len) != 0) {
        X509 *c = NULL;
        char subj[256] = "unparseable certificate";
        tcn_error ignored;
        if (tcn_x509_parse_der(d->cabundle[0], d->cabundle_len[0], &c, &ignored) == TCN_OK) {
            tcn_x509_subject(c, subj, sizeof(subj));
            X509_free(c);
        }
        return tcn_err_set(err, TCN_ERR_UNTRUSTED_ROOT,
                           "nitro: payload field 'cabundle': entry 0 ('%s') is not the pinned AWS Nitro root G1",
                           subj);
    }
    STACK_OF(X509) *inter = sk_X509_new_null();
    if (inter == NULL)
        return tcn_err_set(err, TCN_ERR_NOMEM, NULL);
    int rc = TCN_OK;
    for (size_t i = 1; i < d->cabundle_count && rc == TCN_OK; i++) {
        X509 *c = NULL;
        rc = cert_parse(d->cabundle[i], d->cabundle_len[i], &c, err);
        if (rc != TCN_OK) {
            tcn_err_wrap(err, "nitro: payload field 'cabundle': entry %zu", i);
        } else if (!sk_X509_push(inter, c)) {
            X509_free(c);
            rc = tcn_err_set(err, TCN_ERR_NOMEM, NULL);
        }
    }
    if (rc == TCN_OK)
        rc = tcn_x509_verify_chain(leaf, inter, tcn_root_aws_nitro(), NULL, at_ms, CHAIN_WHAT, err);
    sk_X509_pop_free(inter, X509_free);
    return rc;
}

static void copy_field(tcn_bytes_field *dst, const tcn_nitro_opt_bytes *src)
{
    dst->present = src->present;
    dst->len = src->present ? src->len : 0;
    TCN_ASSERT(dst->len <= sizeof(dst->data)); /* the parser enforced TCN_NITRO_FIELD_MAX */
    if (dst->len > 0)
        memcpy(dst->data, src->p, dst->len);
}

static void fill_claims(const tcn_nitro_doc *d, tcn_claims *out)
{
    memset(out, 0, sizeof(*out));
    out->tee = TCN_TEE_NITRO;
    memcpy(out->measurement, d->pcrs[0], TCN_NITRO_PCR_LEN);
    out->measurement_len = TCN_NITRO_PCR_LEN;
    if (d->pcr_present & (1u << 8)) { /* PCR8: hash of the EIF signing certificate */
        memcpy(out->signer, d->pcrs[8], TCN_NITRO_PCR_LEN);
        out->signer_len = TCN_NITRO_PCR_LEN;
    }
    /* Debug-mode enclaves report PCR0..2 as zeros (Nitro Enclaves user guide,
     * "Debug mode"); the policy decides whether to accept them. */
    uint8_t acc = 0;
    for (size_t i = 0; i < TCN_NITRO_PCR_LEN; i++)
        acc |= d->pcrs[0][i];
    out->debug = acc == 0;
    out->pcr_present = d->pcr_present;
    out->pcr_len = TCN_NITRO_PCR_LEN;
    for (unsigned i = 0; i < TCN_NITRO_PCR_COUNT; i++)
        if (d->pcr_present & (1u << i))
            memcpy(out->pcrs[i], d->pcrs[i], TCN_NITRO_PCR_LEN);
    snprintf(out->module_id, sizeof(out->module_id), "%s", d->module_id);
    copy_field(&out->user_data, &d->user_data);
    copy_field(&out->nonce, &d->nonce);
    copy_field(&out->public_key, &d->public_key);
    if (d->user_data.present && d->user_data.len == TCN_REPORT_DATA_LEN) {
        out->report_data_present = true;
        memcpy(out->report_data, d->user_data.p, TCN_REPORT_DATA_LEN);
    }
    out->timestamp_ms = d->timestamp_ms;
    out->tcb_status = TCN_TCB_NONE;
}

int tcn_nitro_verify(const uint8_t *doc, size_t len, int64_t at_ms, tcn_claims *out, tcn_error *err)
{
    TCN_ASSERT(out != NULL);
    tcn_nitro_doc d;
    TCN_GUARD(tcn_nitro_doc_parse(doc, len, &d, err));
    X509 *leaf = NULL;
    EVP_PKEY *key = NULL;
    int rc = TCN_OK;
    if (!(d.pcr_present & 1u)) {
        rc = tcn_err_set(err, TCN_ERR_MALFORMED, "nitro: payload field 'pcrs': PCR 0 (the measurement) is missing");
        goto out;
    }
    if (cert_parse(d.certificate, d.certificate_len, &leaf, err) != TCN_OK) {
        rc = tcn_err_wrap(err, "nitro: payload field 'certificate'");
        goto out;
    }
    key = X509_get0_pubkey(leaf); /* owned by leaf */
    if ((rc = check_leaf(leaf, key, err)) != TCN_OK)
        goto out;
    /* The chain first: the key is trusted before it is used. */
    if ((rc = verify_chain(&d, leaf, at_ms >= 0 ? at_ms : d.timestamp_ms, err)) != TCN_OK)
        goto out;
    if ((rc = verify_cose_signature(&d, key, err)) != TCN_OK)
        goto out;
    fill_claims(&d, out);
out:
    X509_free(leaf);
    tcn_nitro_doc_free(&d);
    return rc;
}
