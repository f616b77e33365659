/* X.509 chains, CRLs and ECDSA on OpenSSL, with a cache of verified signatures. */
#include "attest/x509.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <gmp.h>
#include <nettle/ecc-curve.h>
#include <nettle/ecc.h>
#include <nettle/ecdsa.h>

#include "util/assert.h"
#include "util/hash.h"
#include "util/timefmt.h"

#define CERT_DER_MAX (64 * 1024)

#define PEM_BEGIN "-----BEGIN CERTIFICATE-----"
#define PEM_END "-----END CERTIFICATE-----"

static int pem_space(uint8_t ch) { return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n' || ch == '\0'; }

/* Finds needle in p[0..n). */
static const uint8_t *find(const uint8_t *p, size_t n, const char *needle)
{
    size_t k = strlen(needle);
    for (size_t i = 0; n >= k && i <= n - k; i++)
        if (memcmp(p + i, needle, k) == 0)
            return p + i;
    return NULL;
}

int tcn_x509_parse_pem_chain(const uint8_t *pem, size_t len, STACK_OF(X509) **out, tcn_error *err)
{
    TCN_ENSURE(len > 0 && len < 1024 * 1024, err, TCN_ERR_MALFORMED, "PEM chain: bad length %zu", len);
    STACK_OF(X509) *sk = sk_X509_new_null();
    TCN_ENSURE(sk != NULL, err, TCN_ERR_NOMEM, NULL);
    size_t pos = 0;
    int rc = TCN_OK;
    for (;;) {
        while (pos < len && pem_space(pem[pos]))
            pos++;
        if (pos == len)
            break;
        /* Only certificate blocks and whitespace: an SGX quote's chain is not
         * signed, so nothing else is let through (RFC 7468 explanatory text
         * included). */
        size_t begin_len = strlen(PEM_BEGIN);
        if (len - pos < begin_len || memcmp(pem + pos, PEM_BEGIN, begin_len) != 0) {
            rc = tcn_err_set(err, TCN_ERR_MALFORMED, "PEM chain: unexpected bytes at offset %zu after %d certificate(s)",
                             pos, sk_X509_num(sk));
            break;
        }
        const uint8_t *end = find(pem + pos, len - pos, PEM_END);
        if (end == NULL) {
            rc = tcn_err_set(err, TCN_ERR_MALFORMED, "PEM chain: certificate %d has no END line", sk_X509_num(sk));
            break;
        }
        size_t block_end = (size_t)(end - pem) + strlen(PEM_END);
        BIO *bio = BIO_new_mem_buf(pem + pos, (int)(block_end - pos));
        X509 *c = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
        BIO_free(bio);
        ERR_clear_error();
        if (c == NULL) {
            rc = tcn_err_set(err, TCN_ERR_MALFORMED, "PEM chain: certificate %d does not parse", sk_X509_num(sk));
            break;
        }
        if (sk_X509_num(sk) >= 16 || !sk_X509_push(sk, c)) {
            X509_free(c);
            rc = tcn_err_set(err, TCN_ERR_MALFORMED, "PEM chain: more than 16 certificates");
            break;
        }
        pos = block_end;
    }
    if (rc == TCN_OK && sk_X509_num(sk) == 0)
        rc = tcn_err_set(err, TCN_ERR_MALFORMED, "PEM chain: no certificate");
    if (rc != TCN_OK) {
        sk_X509_pop_free(sk, X509_free);
        return rc;
    }
    *out = sk;
    return TCN_OK;
}

int tcn_x509_parse_der(const uint8_t *der, size_t len, X509 **out, tcn_error *err)
{
    TCN_ENSURE(len > 0 && len <= CERT_DER_MAX, err, TCN_ERR_MALFORMED, "certificate: bad DER length %zu", len);
    const unsigned char *p = der;
    X509 *c = d2i_X509(NULL, &p, (long)len);
    ERR_clear_error();
    TCN_ENSURE(c != NULL, err, TCN_ERR_MALFORMED, "certificate: DER does not parse");
    if (p != der + len) {
        X509_free(c);
        return tcn_err_set(err, TCN_ERR_MALFORMED, "certificate: %zu trailing bytes after DER",
                           (size_t)(der + len - p));
    }
    *out = c;
    return TCN_OK;
}

int tcn_x509_parse_crl(const uint8_t *der, size_t len, X509_CRL **out, tcn_error *err)
{
    TCN_ENSURE(len > 0 && len <= 4 * 1024 * 1024, err, TCN_ERR_MALFORMED, "CRL: bad length %zu", len);
    X509_CRL *crl = NULL;
    if (len > 10 && memcmp(der, "-----BEGIN", 10) == 0) {
        BIO *bio = BIO_new_mem_buf(der, (int)len);
        if (bio != NULL)
            crl = PEM_read_bio_X509_CRL(bio, NULL, NULL, NULL);
        /* One block covering the input: only whitespace may follow it. */
        char rest[64];
        int n;
        while (crl != NULL && bio != NULL && (n = BIO_read(bio, rest, sizeof(rest))) > 0)
            for (int i = 0; i < n; i++)
                if (!pem_space((uint8_t)rest[i])) {
                    X509_CRL_free(crl);
                    crl = NULL;
                    break;
                }
        BIO_free(bio);
    } else {
        const unsigned char *p = der;
        crl = d2i_X509_CRL(NULL, &p, (long)len);
        if (crl != NULL && p != der + len) {
            X509_CRL_free(crl);
            ERR_clear_error();
            return tcn_err_set(err, TCN_ERR_MALFORMED, "CRL: trailing bytes after DER");
        }
    }
    ERR_clear_error();
    TCN_ENSURE(crl != NULL, err, TCN_ERR_MALFORMED, "CRL: does not parse");
    *out = crl;
    return TCN_OK;
}

int tcn_x509_equal(X509 *a, X509 *b) { return X509_cmp(a, b) == 0; }

void tcn_x509_subject(X509 *c, char *out, size_t cap)
{
    out[0] = '\0';
    BIO *bio = BIO_new(BIO_s_mem());
    if (bio == NULL)
        return;
    X509_NAME_print_ex(bio, X509_get_subject_name(c), 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
    int n = BIO_read(bio, out, (int)cap - 1);
    out[n > 0 ? n : 0] = '\0';
    BIO_free(bio);
}

/* ---- cache of verified signatures -------------------------------------------
 * Key: SHA-256 over (child certificate DER, issuer public key DER). A hit means
 * exactly this certificate was already found correctly signed by exactly this
 * key; validity times, constraints and revocation are still checked on every
 * call by OpenSSL. */

#define SIGCACHE_WAYS 4
#define SIGCACHE_SETS 128 /* 512 entries, 4-way set-associative */

static pthread_mutex_t g_cache_mu = PTHREAD_MUTEX_INITIALIZER;
static uint8_t g_cache[SIGCACHE_SETS][SIGCACHE_WAYS][32];
static uint8_t g_cache_used[SIGCACHE_SETS][SIGCACHE_WAYS];
static uint8_t g_cache_next[SIGCACHE_SETS]; /* round-robin victim per set */
static uint64_t g_hits, g_misses;

void tcn_x509_cache_clear(void)
{
    pthread_mutex_lock(&g_cache_mu);
    memset(g_cache_used, 0, sizeof(g_cache_used));
    g_hits = g_misses = 0;
    pthread_mutex_unlock(&g_cache_mu);
}

void tcn_x509_cache_stats(uint64_t *hits, uint64_t *misses)
{
    pthread_mutex_lock(&g_cache_mu);
    *hits = g_hits;
    *misses = g_misses;
    pthread_mutex_unlock(&g_cache_mu);
}

static int cache_key(X509 *child, X509 *issuer, uint8_t key[32])
{
    /* The issuer's public key as encoded in its certificate (cheap, unlike
     * re-encoding an EVP_PKEY through OpenSSL 3's encoders). */
    ASN1_BIT_STRING *ibits = X509_get0_pubkey_bitstr(issuer);
    unsigned char *der = NULL;
    int n = i2d_X509(child, &der);
    int ok = 0;
    if (n > 0 && ibits != NULL) {
        tcn_sha256_ctx h;
        tcn_sha256_init(&h);
        tcn_sha256_update(&h, der, (size_t)n);
        tcn_sha256_update(&h, ASN1_STRING_get0_data(ibits), (size_t)ASN1_STRING_length(ibits));
        tcn_sha256_final(&h, key);
        ok = 1;
    }
    OPENSSL_free(der);
    return ok;
}

static unsigned cache_set(const uint8_t key[32]) { return ((unsigned)key[0] | ((unsigned)key[1] << 8)) % SIGCACHE_SETS; }

static int cache_lookup(const uint8_t key[32])
{
    unsigned set = cache_set(key);
    int hit = 0;
    pthread_mutex_lock(&g_cache_mu);
    for (unsigned w = 0; w < SIGCACHE_WAYS && !hit; w++)
        hit = g_cache_used[set][w] && memcmp(g_cache[set][w], key, 32) == 0;
    if (hit)
        g_hits++;
    else
        g_misses++;
    pthread_mutex_unlock(&g_cache_mu);
    return hit;
}

static void cache_insert(const uint8_t key[32])
{
    unsigned set = cache_set(key);
    pthread_mutex_lock(&g_cache_mu);
    unsigned w = g_cache_next[set]++ % SIGCACHE_WAYS;
    for (unsigned i = 0; i < SIGCACHE_WAYS; i++)
        if (!g_cache_used[set][i]) {
            w = i;
            break;
        }
    memcpy(g_cache[set][w], key, 32);
    g_cache_used[set][w] = 1;
    pthread_mutex_unlock(&g_cache_mu);
}

static int fail_at(X509_STORE_CTX *ctx, int depth, X509 *cert, int code)
{
    X509_STORE_CTX_set_error_depth(ctx, depth);
    X509_STORE_CTX_set_current_cert(ctx, cert);
    X509_STORE_CTX_set_error(ctx, code);
    return 0; /* no verify callback is installed, so every error is fatal */
}

/* Replaces OpenSSL's internal signature-and-time pass over the built chain
 * (X509_STORE_CTX_set_verify). Path building, CA/purpose checks and CRLs
 * ran before this in OpenSSL's verify_chain. */
static int verify_sigs_and_times(X509_STORE_CTX *ctx)
{
    STACK_OF(X509) *chain = X509_STORE_CTX_get0_chain(ctx);
    int n = sk_X509_num(chain);
    if (n <= 0)
        return fail_at(ctx, 0, NULL, X509_V_ERR_UNSPECIFIED);
    X509_VERIFY_PARAM *vp = X509_STORE_CTX_get0_param(ctx);
    time_t at = X509_VERIFY_PARAM_get_time(vp);
    for (int i = n - 1; i >= 0; i--) {
        X509 *cert = sk_X509_value(chain, i);
        X509 *issuer = sk_X509_value(chain, i + 1 < n ? i + 1 : i);
        EVP_PKEY *ikey = X509_get0_pubkey(issuer);
        if (ikey == NULL)
            return fail_at(ctx, i, cert, X509_V_ERR_UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY);
        uint8_t key[32];
        int have_key = cache_key(cert, issuer, key);
        if (!have_key || !cache_lookup(key)) {
            if (X509_verify(cert, ikey) <= 0) {
                ERR_clear_error();
                return fail_at(ctx, i, cert, X509_V_ERR_CERT_SIGNATURE_FAILURE);
            }
            if (have_key)
                cache_insert(key);
        }
        /* X509_cmp_time returns 0 when it cannot compare (a malformed time
         * field, or a verification time it cannot represent): that is an
         * error, never "inside the window". */
        int nb = X509_cmp_time(X509_get0_notBefore(cert), &at);
        if (nb == 0)
            return fail_at(ctx, i, cert, X509_V_ERR_ERROR_IN_CERT_NOT_BEFORE_FIELD);
        if (nb > 0)
            return fail_at(ctx, i, cert, X509_V_ERR_CERT_NOT_YET_VALID);
        int na = X509_cmp_time(X509_get0_notAfter(cert), &at);
        if (na == 0)
            return fail_at(ctx, i, cert, X509_V_ERR_ERROR_IN_CERT_NOT_AFTER_FIELD);
        if (na < 0)
            return fail_at(ctx, i, cert, X509_V_ERR_CERT_HAS_EXPIRED);
    }
    return 1;
}

static void asn1_time_str(const ASN1_TIME *t, char *out, size_t cap)
{
    out[0] = '\0';
    struct tm tm;
    if (t != NULL && ASN1_TIME_to_tm(t, &tm))
        snprintf(out, cap, "%04d-%02d-%02dT%02d:%02d:%02dZ", (tm.tm_year + 1900) % 10000, (tm.tm_mon + 1) % 100,
                 tm.tm_mday % 100, tm.tm_hour % 100, tm.tm_min % 100, tm.tm_sec % 100);
}

/* Finds the CRL whose issuer is the issuer of cert (for CRL error messages). */
static X509_CRL *crl_for(STACK_OF(X509_CRL) *crls, X509 *cert)
{
    for (int i = 0; crls != NULL && i < sk_X509_CRL_num(crls); i++) {
        X509_CRL *c = sk_X509_CRL_value(crls, i);
        if (X509_NAME_cmp(X509_CRL_get_issuer(c), X509_get_issuer_name(cert)) == 0)
            return c;
    }
    return NULL;
}

static int map_error(X509_STORE_CTX *ctx, STACK_OF(X509_CRL) *crls, const char *what, tcn_error *err)
{
    int e = X509_STORE_CTX_get_error(ctx);
    int depth = X509_STORE_CTX_get_error_depth(ctx);
    X509 *cur = X509_STORE_CTX_get_current_cert(ctx);
    char subj[256] = "?";
    if (cur != NULL)
        tcn_x509_subject(cur, subj, sizeof(subj));
    char t[32];
    switch (e) {
    case X509_V_ERR_CERT_HAS_EXPIRED:
        asn1_time_str(cur ? X509_get0_notAfter(cur) : NULL, t, sizeof(t));
        return tcn_err_set(err, TCN_ERR_EXPIRED, "%s: certificate '%s' expired (notAfter %s)", what, subj, t);
    case X509_V_ERR_CERT_NOT_YET_VALID:
        asn1_time_str(cur ? X509_get0_notBefore(cur) : NULL, t, sizeof(t));
        return tcn_err_set(err, TCN_ERR_NOT_YET_VALID, "%s: certificate '%s' not yet valid (notBefore %s)", what,
                           subj, t);
    case X509_V_ERR_CRL_HAS_EXPIRED:
    case X509_V_ERR_CRL_NOT_YET_VALID: {
        X509_CRL *crl = cur ? crl_for(crls, cur) : NULL;
        char iss[256] = "?";
        char tu[32] = "?", nu[32] = "?";
        if (crl != NULL) {
            BIO *bio = BIO_new(BIO_s_mem());
            if (bio != NULL) {
                X509_NAME_print_ex(bio, X509_CRL_get_issuer(crl), 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
                int n = BIO_read(bio, iss, sizeof(iss) - 1);
                iss[n > 0 ? n : 0] = '\0';
                BIO_free(bio);
            }
            asn1_time_str(X509_CRL_get0_lastUpdate(crl), tu, sizeof(tu));
            asn1_time_str(X509_CRL_get0_nextUpdate(crl), nu, sizeof(nu));
        }
        return tcn_err_set(err, e == X509_V_ERR_CRL_HAS_EXPIRED ? TCN_ERR_EXPIRED : TCN_ERR_NOT_YET_VALID,
                           "%s: CRL issued by '%s' %s (thisUpdate %s, nextUpdate %s)", what, iss,
                           e == X509_V_ERR_CRL_HAS_EXPIRED ? "has expired" : "is not yet valid", tu, nu);
    }
    case X509_V_ERR_CERT_REVOKED:
        return tcn_err_set(err, TCN_ERR_REVOKED, "%s: certificate '%s' is revoked", what, subj);
    case X509_V_ERR_CERT_SIGNATURE_FAILURE:
    case X509_V_ERR_CRL_SIGNATURE_FAILURE:
        return tcn_err_set(err, TCN_ERR_BAD_SIGNATURE, "%s: %s of '%s' does not verify", what,
                           e == X509_V_ERR_CRL_SIGNATURE_FAILURE ? "CRL signature" : "signature", subj);
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
        return tcn_err_set(err, TCN_ERR_UNTRUSTED_ROOT, "%s: '%s' (depth %d) does not chain to the pinned root",
                           what, subj, depth);
    case X509_V_ERR_UNABLE_TO_GET_CRL:
    case X509_V_ERR_UNABLE_TO_GET_CRL_ISSUER:
        return tcn_err_set(err, TCN_ERR_COLLATERAL, "%s: no usable CRL for '%s'", what, subj);
    default:
        return tcn_err_set(err, TCN_ERR_CERT_CHAIN, "%s: '%s' (depth %d): %s", what, subj, depth,
                           X509_verify_cert_error_string(e));
    }
}

int tcn_x509_verify_chain(X509 *leaf, STACK_OF(X509) *untrusted, X509 *root, STACK_OF(X509_CRL) *crls,
                          int64_t at_ms, const char *what, tcn_error *err)
{
    TCN_ASSERT(leaf != NULL && root != NULL);
    /* A self-signed certificate offered in the chain must be the pinned root:
     * say so plainly rather than as a generic path-building failure. */
    for (int i = 0; untrusted != NULL && i < sk_X509_num(untrusted); i++) {
        X509 *c = sk_X509_value(untrusted, i);
        if (X509_check_issued(c, c) == X509_V_OK && !tcn_x509_equal(c, root)) {
            char subj[256];
            tcn_x509_subject(c, subj, sizeof(subj));
            return tcn_err_set(err, TCN_ERR_UNTRUSTED_ROOT, "%s: root certificate '%s' is not the pinned root", what,
                               subj);
        }
    }
    X509_STORE *store = X509_STORE_new();
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    int rc = TCN_OK;
    if (store == NULL || ctx == NULL || !X509_STORE_add_cert(store, root)) {
        rc = tcn_err_set(err, TCN_ERR_NOMEM, NULL);
        goto out;
    }
    if (!X509_STORE_CTX_init(ctx, store, leaf, untrusted)) {
        rc = tcn_err_set(err, TCN_ERR_CRYPTO, "%s: cannot initialise verification", what);
        goto out;
    }
    X509_VERIFY_PARAM *vp = X509_STORE_CTX_get0_param(ctx);
    X509_VERIFY_PARAM_set_time(vp, (time_t)(at_ms / 1000));
    /* Not X509_V_FLAG_X509_STRICT: it demands an Authority Key Identifier on
     * every non-root certificate, and AWS's Nitro leaf and instance
     * certificates have none (openssl verify -x509_strict refuses them too). */
    unsigned long flags = 0;
    if (crls != NULL) {
        X509_STORE_CTX_set0_crls(ctx, crls);
        flags |= X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL;
    }
    X509_VERIFY_PARAM_set_flags(vp, flags);
    X509_STORE_CTX_set_verify(ctx, verify_sigs_and_times);
    if (X509_verify_cert(ctx) != 1)
        rc = map_error(ctx, crls, what, err);
out:
    ERR_clear_error();
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(store);
    return rc;
}

/* ES384 through Nettle: OpenSSL 3.0 has no optimised P-384 and spends about
 * 0.85 ms per verification on this machine's CPU, Nettle about 0.41 ms
 * (docs/BENCHMARKS.md). A Nitro document costs exactly one such check when
 * its chain is cached. Nettle validates the point (ecc_point_set) and the
 * signature range 0 < r, s < q (ecdsa_verify). Returns -1 when this path does
 * not apply (another curve or digest), else TCN_OK or an error. */
static int p384_verify_nettle(EVP_PKEY *pub, const EVP_MD *md, const uint8_t *msg, size_t msg_len,
                              const uint8_t *rs, size_t rs_len, tcn_error *err)
{
    char group[32];
    if (rs_len != 96 || EVP_MD_get_type(md) != NID_sha384 ||
        EVP_PKEY_get_group_name(pub, group, sizeof(group), NULL) != 1 || strcmp(group, "secp384r1") != 0)
        return -1;
    uint8_t point[97], digest[48];
    size_t plen = 0;
    unsigned int dlen = 0;
    if (EVP_PKEY_get_octet_string_param(pub, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, point, sizeof(point), &plen) != 1 ||
        plen != 97 || point[0] != 0x04 || EVP_Digest(msg, msg_len, digest, &dlen, md, NULL) != 1 || dlen != 48) {
        ERR_clear_error();
        return -1; /* e.g. a compressed point: let OpenSSL decide */
    }
    const struct ecc_curve *curve = nettle_get_secp_384r1();
    mpz_t x, y;
    mpz_init(x);
    mpz_init(y);
    mpz_import(x, 48, 1, 1, 1, 0, point + 1);
    mpz_import(y, 48, 1, 1, 1, 0, point + 49);
    struct ecc_point q;
    ecc_point_init(&q, curve);
    int on_curve = ecc_point_set(&q, x, y);
    int ok = 0;
    if (on_curve) {
        struct dsa_signature sig;
        dsa_signature_init(&sig);
        mpz_import(sig.r, 48, 1, 1, 1, 0, rs);
        mpz_import(sig.s, 48, 1, 1, 1, 0, rs + 48);
        ok = ecdsa_verify(&q, sizeof(digest), digest, &sig);
        dsa_signature_clear(&sig);
    }
    ecc_point_clear(&q);
    mpz_clear(x);
    mpz_clear(y);
    TCN_ENSURE(on_curve, err, TCN_ERR_MALFORMED, "P-384 public key: not a point on the curve");
    TCN_ENSURE(ok, err, TCN_ERR_BAD_SIGNATURE, NULL);
    return TCN_OK;
}

int tcn_ecdsa_verify_raw(EVP_PKEY *pub, const EVP_MD *md, const uint8_t *msg, size_t msg_len,
                         const uint8_t *rs, size_t rs_len, tcn_error *err)
{
    TCN_ENSURE(rs_len > 0 && rs_len % 2 == 0 && rs_len <= 132, err, TCN_ERR_MALFORMED,
               "ECDSA signature: bad length %zu", rs_len);
    int fast = p384_verify_nettle(pub, md, msg, msg_len, rs, rs_len, err);
    if (fast >= 0)
        return fast;
    size_t half = rs_len / 2;
    ECDSA_SIG *sig = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(rs, (int)half, NULL);
    BIGNUM *s = BN_bin2bn(rs + half, (int)half, NULL);
    unsigned char *der = NULL;
    int der_len = -1;
    if (sig != NULL && r != NULL && s != NULL && ECDSA_SIG_set0(sig, r, s)) {
        r = s = NULL; /* owned by sig now */
        der_len = i2d_ECDSA_SIG(sig, &der);
    }
    BN_free(r);
    BN_free(s);
    ECDSA_SIG_free(sig);
    if (der_len <= 0) {
        ERR_clear_error();
        return tcn_err_set(err, TCN_ERR_NOMEM, NULL);
    }
    EVP_MD_CTX *mctx = EVP_MD_CTX_new();
    int ok = mctx != NULL && EVP_DigestVerifyInit(mctx, NULL, md, NULL, pub) == 1 &&
             EVP_DigestVerify(mctx, der, (size_t)der_len, msg, msg_len) == 1;
    EVP_MD_CTX_free(mctx);
    OPENSSL_free(der);
    ERR_clear_error();
    TCN_ENSURE(ok, err, TCN_ERR_BAD_SIGNATURE, NULL);
    return TCN_OK;
}

int tcn_ec_p256_from_xy(const uint8_t xy[64], EVP_PKEY **out, tcn_error *err)
{
    uint8_t point[65];
    point[0] = 0x04;
    memcpy(point + 1, xy, 64);
    OSSL_PARAM params[3];
    char group[] = "prime256v1";
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, group, 0);
    params[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, point, sizeof(point));
    params[2] = OSSL_PARAM_construct_end();
    EVP_PKEY_CTX *pctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    EVP_PKEY *pkey = NULL;
    int ok = pctx != NULL && EVP_PKEY_fromdata_init(pctx) == 1 &&
             EVP_PKEY_fromdata(pctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) == 1;
    EVP_PKEY_CTX_free(pctx);
    ERR_clear_error();
    /* fromdata checks that the point is on the curve. */
    TCN_ENSURE(ok && pkey != NULL, err, TCN_ERR_MALFORMED, "P-256 public key: not a point on the curve");
    *out = pkey;
    return TCN_OK;
}
