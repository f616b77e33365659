/* OpenSSL TLS 1.3 contexts for RA-TLS: the verify callback that attests the
 * peer, its verdict kept on the SSL, and handshake errors explained. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include "tls/ratls_internal.h"
#include "util/assert.h"
#include "util/encoding.h"
#include "util/log.h"

/* The verdict of the verify callback, kept on the SSL (ex_data). */
struct verdict {
    int code;
    tcn_error err;
    tcn_ratls_peer peer;
};

static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static int g_ctx_idx = -1; /* SSL_CTX -> tcn_ratls_policy (owned copy) */
static int g_ssl_idx = -1; /* SSL -> struct verdict (owned) */

static void free_owned(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp)
{
    (void)parent, (void)ad, (void)idx, (void)argl, (void)argp;
    free(ptr);
}

/* SSL_dup copies ex_data pointers unless told otherwise: a copy has
 * verified no one (and must not free the original's verdict). */
static int dup_none(CRYPTO_EX_DATA *to, const CRYPTO_EX_DATA *from, void **from_d, int idx, long argl, void *argp)
{
    (void)to, (void)from, (void)idx, (void)argl, (void)argp;
    *from_d = NULL;
    return 1;
}

static void init_indices(void)
{
    g_ctx_idx = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, free_owned);
    g_ssl_idx = SSL_get_ex_new_index(0, NULL, NULL, dup_none, free_owned);
}

static int indices(tcn_error *err)
{
    pthread_once(&g_once, init_indices);
    TCN_ENSURE(g_ctx_idx >= 0 && g_ssl_idx >= 0, err, TCN_ERR_CRYPTO, "tls: cannot register OpenSSL ex_data");
    return TCN_OK;
}

static void log_verdict(const SSL *ssl, const struct verdict *v)
{
    const char *role = SSL_is_server(ssl) ? "server" : "client";
    if (v->code != TCN_OK) {
        tcn_log(TCN_LOG_WARN, "ratls: peer refused", "role", role, "check", tcn_ratls_reason_name(v->peer.reason),
                "error", v->err.msg, NULL);
        return;
    }
    char key[2 * TCN_RATLS_KEY_HASH_LEN + 1], m[2 * TCN_MEASUREMENT_MAX + 1];
    tcn_hex_encode(v->peer.key_hash, TCN_RATLS_KEY_HASH_LEN, key);
    tcn_hex_encode(v->peer.claims.measurement, v->peer.claims.measurement_len, m);
    tcn_log(TCN_LOG_INFO, "ratls: peer verified", "role", role, "peer_key", key, "tee",
            tcn_tee_name(v->peer.claims.tee), "measurement", m, NULL);
}

/* Replaces OpenSSL's chain building (SSL_CTX_set_cert_verify_callback): there
 * is no CA; the peer's one self-signed certificate is judged by its evidence. */
static int verify_cb(X509_STORE_CTX *xs, void *arg)
{
    (void)arg;
    SSL *ssl = X509_STORE_CTX_get_ex_data(xs, SSL_get_ex_data_X509_STORE_CTX_idx());
    TCN_ASSERT(ssl != NULL);
    const tcn_ratls_policy *pol = SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), g_ctx_idx);
    TCN_ASSERT(pol != NULL); /* only contexts made by tcn_ratls_ctx_new verify peers */
    struct verdict *v = calloc(1, sizeof(*v));
    if (v == NULL) {
        X509_STORE_CTX_set_error(xs, X509_V_ERR_OUT_OF_MEM);
        return 0;
    }
    STACK_OF(X509) *chain = X509_STORE_CTX_get0_untrusted(xs);
    int n = chain != NULL ? sk_X509_num(chain) : 0;
    if (n != 1)
        v->code = tcn_ratls_refuse(&v->peer, TCN_RATLS_NO_CERT, &v->err, TCN_ERR_CERT_CHAIN,
                                   "the peer sent %d certificates, expected exactly one self-signed", n);
    else
        v->code = tcn_ratls_verify_cert(X509_STORE_CTX_get0_cert(xs), pol, &v->peer, &v->err);
    log_verdict(ssl, v);
    free(SSL_get_ex_data(ssl, g_ssl_idx));
    SSL_set_ex_data(ssl, g_ssl_idx, v);
    if (v->code != TCN_OK) {
        /* bad_certificate, and nothing else reaches the peer. */
        X509_STORE_CTX_set_error(xs, X509_V_ERR_CERT_REJECTED);
        return 0;
    }
    X509_STORE_CTX_set_error(xs, X509_V_OK);
    return 1;
}

int tcn_ratls_ctx_set_policy(SSL_CTX *ctx, const tcn_ratls_policy *pol, tcn_error *err)
{
    TCN_GUARD(indices(err));
    tcn_ratls_policy *copy = malloc(sizeof(*copy));
    TCN_ENSURE(copy != NULL, err, TCN_ERR_NOMEM, "tls: out of memory");
    *copy = *pol;
    void *old = SSL_CTX_get_ex_data(ctx, g_ctx_idx);
    if (!SSL_CTX_set_ex_data(ctx, g_ctx_idx, copy)) {
        free(copy);
        ERR_clear_error();
        return tcn_err_set(err, TCN_ERR_CRYPTO, "tls: cannot attach the policy to the context");
    }
    free(old);
    return TCN_OK;
}

int tcn_ratls_ctx_set_identity(SSL_CTX *ctx, const tcn_ratls_identity *id, tcn_error *err)
{
    int ok = SSL_CTX_use_certificate(ctx, id->cert) == 1 && SSL_CTX_use_PrivateKey(ctx, id->key) == 1 &&
             SSL_CTX_check_private_key(ctx) == 1;
    ERR_clear_error();
    TCN_ENSURE(ok, err, TCN_ERR_CRYPTO, "tls: the context does not take our certificate and key");
    return TCN_OK;
}

static int configure(SSL_CTX *ctx, tcn_ratls_role role, const tcn_ratls_identity *id, const tcn_ratls_policy *pol,
                     tcn_error *err)
{
    /* DESIGN §5: TLS 1.3 only. */
    TCN_ENSURE(SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) == 1 &&
                   SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) == 1,
               err, TCN_ERR_CRYPTO, "tls: cannot restrict the context to TLS 1.3");
    /* No resumption: a resumed session skips the certificate, and with it the
     * attestation; every connection must attest afresh. */
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
    TCN_ENSURE(SSL_CTX_set_num_tickets(ctx, 0) == 1, err, TCN_ERR_CRYPTO, "tls: cannot disable session tickets");
    if (id != NULL)
        TCN_GUARD(tcn_ratls_ctx_set_identity(ctx, id, err));
    if (pol == NULL) {
        SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
        return TCN_OK;
    }
    TCN_GUARD(tcn_ratls_ctx_set_policy(ctx, pol, err));
    SSL_CTX_set_cert_verify_callback(ctx, verify_cb, NULL);
    int mode = SSL_VERIFY_PEER;
    if (role == TCN_RATLS_SERVER)
        mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
    SSL_CTX_set_verify(ctx, mode, NULL);
    return TCN_OK;
}

int tcn_ratls_ctx_new(tcn_ratls_role role, const tcn_ratls_identity *id, const tcn_ratls_policy *pol, SSL_CTX **out,
                      tcn_error *err)
{
    TCN_ENSURE(role == TCN_RATLS_SERVER || role == TCN_RATLS_CLIENT, err, TCN_ERR_USAGE, "tls: unknown role");
    TCN_ENSURE(role != TCN_RATLS_SERVER || id != NULL, err, TCN_ERR_USAGE, "tls: a server needs our certificate");
    TCN_ENSURE(role != TCN_RATLS_CLIENT || pol != NULL, err, TCN_ERR_USAGE,
               "tls: a client must verify the server (policy required)");
    TCN_GUARD(indices(err));
    SSL_CTX *ctx = SSL_CTX_new(role == TCN_RATLS_SERVER ? TLS_server_method() : TLS_client_method());
    if (ctx == NULL) {
        ERR_clear_error();
        return tcn_err_set(err, TCN_ERR_CRYPTO, "tls: cannot create an SSL_CTX");
    }
    int rc = configure(ctx, role, id, pol, err);
    if (rc != TCN_OK) {
        SSL_CTX_free(ctx);
        return rc;
    }
    *out = ctx;
    return TCN_OK;
}

int tcn_ratls_ssl_peer(const SSL *ssl, const tcn_ratls_peer **out, tcn_error *err)
{
    *out = NULL;
    TCN_GUARD(indices(err));
    const struct verdict *v = SSL_get_ex_data(ssl, g_ssl_idx);
    TCN_ENSURE(v != NULL, err, TCN_ERR_NOT_FOUND, "tls: no peer certificate was verified on this connection");
    if (v->code != TCN_OK) {
        *err = v->err;
        return v->code;
    }
    *out = &v->peer;
    return TCN_OK;
}

tcn_ratls_reason tcn_ratls_ssl_refusal(const SSL *ssl)
{
    if (indices(NULL) != TCN_OK)
        return TCN_RATLS_OK;
    const struct verdict *v = SSL_get_ex_data(ssl, g_ssl_idx);
    return v != NULL && v->code != TCN_OK ? v->peer.reason : TCN_RATLS_OK;
}

int tcn_ratls_ssl_error(const SSL *ssl, int ret, tcn_error *err)
{
    int kind = SSL_get_error(ssl, ret);
    const struct verdict *v = indices(NULL) == TCN_OK ? SSL_get_ex_data(ssl, g_ssl_idx) : NULL;
    unsigned long e = ERR_peek_last_error();
    int reason = ERR_GET_REASON(e);
    char what[256];
    ERR_error_string_n(e, what, sizeof(what));
    const char *text = ERR_reason_error_string(e);
    ERR_clear_error();
    if (v != NULL && v->code != TCN_OK) {
        *err = v->err;
        return v->code;
    }
    if (e == 0 || kind == SSL_ERROR_SYSCALL || kind == SSL_ERROR_ZERO_RETURN)
        return tcn_err_set(err, TCN_ERR_IO, "tls: handshake: the connection closed or failed (%s)",
                           e != 0 && text != NULL ? text : "no TLS error");
    if (text == NULL)
        text = what;
    if (reason == SSL_R_UNSUPPORTED_PROTOCOL || reason == SSL_R_TLSV1_ALERT_PROTOCOL_VERSION ||
        reason == SSL_R_WRONG_VERSION_NUMBER || reason == SSL_R_NO_PROTOCOLS_AVAILABLE)
        return tcn_err_set(err, TCN_ERR_UNSUPPORTED, "tls: handshake: %s (TLS 1.3 only)", text);
    if (reason == SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE)
        return tcn_err_set(err, TCN_ERR_CERT_CHAIN, "tls: handshake: the peer sent no certificate (RA-TLS needs one)");
    if (reason >= SSL_AD_REASON_OFFSET) /* a TLS alert from the peer */
        return tcn_err_set(err, TCN_ERR_CERT_CHAIN, "tls: handshake: refused by the peer (%s)", text);
    return tcn_err_set(err, TCN_ERR_MALFORMED, "tls: handshake: %s", text);
}
