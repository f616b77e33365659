/* The client library: libcurl with the RA-TLS check in the handshake, signed requests, redirects. */
#include "cli/client.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sodium.h>

#include "chain/base58.h"
#include "node/reqsig.h"
#include "tls/ratls.h"
#include "util/buf.h"
#include "util/encoding.h"
#include "util/file.h"
#include "util/secmem.h"
#include "util/timefmt.h"

struct tcn_client {
    tcn_client_config cfg;
    tcn_ratls_policy pol;
};

/* One connection attempt: what the verify callback found. */
typedef struct hop {
    const tcn_client *c;
    tcn_client_peer *peer;
    int code; /* TCN_OK or the refusal's code */
    tcn_error err;
} hop;

static int g_curl_ready;

int tcn_client_new(const tcn_client_config *cfg, tcn_client **out, tcn_error *err)
{
    TCN_ENSURE(cfg->pins.has_measurement || cfg->allow_unverified, err, TCN_ERR_USAGE,
               "client: no measurement pinned (--expect-measurement, or pins.json in --dir)");
    if (!g_curl_ready) {
        TCN_ENSURE(curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK, err, TCN_ERR_INTERNAL,
                   "client: curl_global_init failed");
        g_curl_ready = 1;
    }
    tcn_client *c = tcn_secure_alloc(sizeof(*c));
    TCN_ENSURE(c != NULL, err, TCN_ERR_NOMEM, "client: out of memory");
    memset(c, 0, sizeof(*c));
    c->cfg = *cfg;
    if (c->cfg.timeout_ms <= 0)
        c->cfg.timeout_ms = TCN_CLIENT_TIMEOUT_MS_DEFAULT;
    tcn_ratls_policy_default(&c->pol);
    c->pol.attest.measurement_self = false; /* a user has no 'self' */
    int rc = TCN_OK;
    if (cfg->pins.has_measurement)
        rc = tcn_policy_add_measurement(&c->pol.attest, cfg->pins.measurement, cfg->pins.measurement_len, err);
    else
        c->pol.attest.measurement_any = true; /* allow_unverified: reported as unverified */
    if (rc == TCN_OK && cfg->pins.has_sim_key)
        rc = tcn_policy_add_sim_key(&c->pol.attest, cfg->pins.sim_key, err);
    if (cfg->pins.has_group)
        tcn_ratls_policy_pin_group(&c->pol, cfg->pins.group_id);
    if (rc != TCN_OK) {
        tcn_secure_free(c);
        return rc;
    }
    *out = c;
    return TCN_OK;
}

void tcn_client_free(tcn_client *c)
{
    tcn_secure_free(c); /* wipes the seed */
}

bool tcn_client_pubkey(const tcn_client *c, char out[TCN_CHAIN_BASE58_PUBKEY_CHARS])
{
    if (!c->cfg.has_key)
        return false;
    uint8_t sk[crypto_sign_SECRETKEYBYTES];
    tcn_chain_pubkey pk;
    crypto_sign_seed_keypair(pk.b, sk, c->cfg.seed);
    tcn_wipe(sk, sizeof(sk));
    tcn_chain_pubkey_to_base58(&pk, out);
    return true;
}

/* ---- the RA-TLS check inside curl's handshake ------------------------------------ */

static int verify_cb(X509_STORE_CTX *xs, void *arg)
{
    hop *h = arg;
    tcn_client_peer *p = h->peer;
    tcn_ratls_peer *rp = calloc(1, sizeof(*rp));
    if (rp == NULL) {
        X509_STORE_CTX_set_error(xs, X509_V_ERR_OUT_OF_MEM);
        return 0;
    }
    STACK_OF(X509) *chain = X509_STORE_CTX_get0_untrusted(xs);
    int n = chain != NULL ? sk_X509_num(chain) : 0;
    tcn_err_clear(&h->err);
    if (n != 1) {
        rp->reason = TCN_RATLS_NO_CERT;
        h->code = tcn_err_set(&h->err, TCN_ERR_CERT_CHAIN, "ratls: certificate-count: the node sent %d certificates", n);
    } else {
        h->code = tcn_ratls_verify_cert(X509_STORE_CTX_get0_cert(xs), &h->c->pol, rp, &h->err);
    }
    p->checked = true;
    p->verified = h->code == TCN_OK && h->c->cfg.pins.has_measurement;
    snprintf(p->reason, sizeof(p->reason), "%s", tcn_ratls_reason_name(rp->reason));
    snprintf(p->error, sizeof(p->error), "%s", h->code == TCN_OK ? "" : h->err.msg);
    p->claims = rp->claims;
    p->group_present = rp->group_present;
    memcpy(p->group_id, rp->group_id, sizeof(p->group_id));
    free(rp);
    if (h->code != TCN_OK && !h->c->cfg.allow_unverified) {
        X509_STORE_CTX_set_error(xs, X509_V_ERR_CERT_REJECTED);
        return 0;
    }
    X509_STORE_CTX_set_error(xs, X509_V_OK);
    return 1;
}

static CURLcode ssl_ctx_cb(CURL *curl, void *ssl_ctx, void *arg)
{
    (void)curl;
    SSL_CTX *ctx = ssl_ctx;
    if (SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) != 1) {
        ERR_clear_error();
        return CURLE_SSL_CIPHER;
    }
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
    SSL_CTX_set_cert_verify_callback(ctx, verify_cb, arg);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    return CURLE_OK;
}

/* ---- one exchange ----------------------------------------------------------------- */

typedef struct sink {
    tcn_buf b;
    bool too_large;
    char location[TCN_CLIENT_URL_MAX];
} sink;

static size_t write_cb(char *p, size_t size, size_t n, void *arg)
{
    sink *s = arg;
    size_t len = size * n;
    if (s->b.len + len > TCN_CLIENT_ANSWER_MAX) {
        s->too_large = true;
        return 0;
    }
    return tcn_buf_append(&s->b, p, len) == TCN_OK ? len : 0;
}

static size_t header_cb(char *p, size_t size, size_t n, void *arg)
{
    sink *s = arg;
    size_t len = size * n;
    static const char name[] = "location:";
    if (len > sizeof(name) - 1 && strncasecmp(p, name, sizeof(name) - 1) == 0) {
        size_t i = sizeof(name) - 1;
        while (i < len && (p[i] == ' ' || p[i] == '\t'))
            i++;
        size_t j = len;
        while (j > i && (p[j - 1] == '\r' || p[j - 1] == '\n' || p[j - 1] == ' '))
            j--;
        if (j - i < sizeof(s->location)) {
            memcpy(s->location, p + i, j - i);
            s->location[j - i] = '\0';
        }
    }
    return len;
}

/* The path part of an https URL (from the first '/' after the authority). */
static const char *url_path(const char *url)
{
    const char *a = strstr(url, "://");
    const char *p = a != NULL ? strchr(a + 3, '/') : NULL;
    return p != NULL ? p : "/";
}

static int exchange(tcn_client *c, const char *url, const char *method, const char *payload, size_t payload_len,
                    bool sign, tcn_client_response *out, sink *s, tcn_error *err)
{
    CURL *curl = curl_easy_init();
    TCN_ENSURE(curl != NULL, err, TCN_ERR_NOMEM, "client: curl_easy_init failed");
    struct curl_slist *hdrs = NULL;
    hop h = {.c = c, .peer = &out->peer, .code = TCN_OK};
    memset(&out->peer, 0, sizeof(out->peer));
    int rc = TCN_OK;
    if (sign) {
        tcn_reqsig_headers rh;
        rc = tcn_reqsig_sign(c->cfg.seed, method, url_path(url), (uint64_t)tcn_time_now_ms(), c->cfg.pins.group_id,
                             (const uint8_t *)payload, payload_len, &rh, err);
        if (rc != TCN_OK)
            goto out;
        char line[160];
        snprintf(line, sizeof(line), "%s: %s", TCN_REQSIG_HEADER_KEY, rh.key);
        hdrs = curl_slist_append(hdrs, line);
        snprintf(line, sizeof(line), "%s: %s", TCN_REQSIG_HEADER_TS, rh.ts);
        hdrs = curl_slist_append(hdrs, line);
        snprintf(line, sizeof(line), "%s: %s", TCN_REQSIG_HEADER_SIG, rh.sig);
        hdrs = curl_slist_append(hdrs, line);
    }
    hdrs = curl_slist_append(hdrs, "Expect:");
    if (payload != NULL)
        hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "https");
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
    if (payload != NULL) {
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, payload);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long)payload_len);
    }
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, c->cfg.timeout_ms);
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L); /* we follow, re-attesting and re-signing */
    /* The node's identity is its attestation, not a name: no CA, no host name. */
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 0L);
    curl_easy_setopt(curl, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_3);
    curl_easy_setopt(curl, CURLOPT_SSL_SESSIONID_CACHE, 0L);
    curl_easy_setopt(curl, CURLOPT_SSL_CTX_FUNCTION, ssl_ctx_cb);
    curl_easy_setopt(curl, CURLOPT_SSL_CTX_DATA, &h);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, write_cb);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, s);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, header_cb);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, s);
    CURLcode cc = curl_easy_perform(curl);
    if (cc != CURLE_OK) {
        if (h.code != TCN_OK && out->peer.checked && !c->cfg.allow_unverified) {
            *err = h.err;
            rc = h.code;
        } else if (s->too_large) {
            rc = tcn_err_set(err, TCN_ERR_TOO_LARGE, "client: the answer from %s is over %u bytes", url,
                             TCN_CLIENT_ANSWER_MAX);
        } else {
            rc = tcn_err_set(err, TCN_ERR_IO, "client: %s: %s", url, curl_easy_strerror(cc));
        }
        goto out;
    }
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &out->status);
out:
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(curl);
    return rc;
}

int tcn_client_request(tcn_client *c, const char *base_url, const char *method, const char *path, const json_t *body,
                       bool sign, tcn_client_response *out, tcn_error *err)
{
    memset(out, 0, sizeof(*out));
    TCN_ENSURE(!sign || c->cfg.has_key, err, TCN_ERR_USAGE, "client: a signed request needs a key (--key or --dir)");
    TCN_ENSURE(!sign || c->cfg.pins.has_group, err, TCN_ERR_USAGE,
               "client: a signed request needs the network's group id (--expect-group or pins.json)");
    TCN_ENSURE(strncmp(base_url, "https://", 8) == 0, err, TCN_ERR_USAGE, "client: the node URL must be https://HOST:PORT");
    size_t bl = strlen(base_url);
    while (bl > 8 && base_url[bl - 1] == '/')
        bl--;
    TCN_ENSURE(bl + strlen(path) < sizeof(out->url), err, TCN_ERR_USAGE, "client: URL too long");
    memcpy(out->url, base_url, bl);
    memcpy(out->url + bl, path, strlen(path) + 1);
    char *payload = body != NULL ? json_dumps(body, JSON_COMPACT) : NULL;
    TCN_ENSURE(body == NULL || payload != NULL, err, TCN_ERR_NOMEM, "client: out of memory");
    size_t payload_len = payload != NULL ? strlen(payload) : 0;
    int rc = TCN_OK;
    for (;;) {
        sink s;
        memset(&s, 0, sizeof(s));
        rc = exchange(c, out->url, method, payload, payload_len, sign, out, &s, err);
        if (rc != TCN_OK) {
            tcn_buf_free(&s.b);
            break;
        }
        if (out->status == 307 && s.location[0] != '\0') {
            tcn_buf_free(&s.b);
            if (out->hops >= TCN_API_REDIRECTS_MAX) {
                rc = tcn_err_set(err, TCN_ERR_IO, "client: more than %u redirects (last to %s)", TCN_API_REDIRECTS_MAX,
                                 s.location);
                break;
            }
            if (strncmp(s.location, "https://", 8) != 0) {
                rc = tcn_err_set(err, TCN_ERR_MALFORMED, "client: redirected to a URL that is not https");
                break;
            }
            out->hops++;
            snprintf(out->url, sizeof(out->url), "%s", s.location);
            continue;
        }
        if (tcn_buf_u8(&s.b, 0) != TCN_OK) {
            tcn_buf_free(&s.b);
            rc = tcn_err_set(err, TCN_ERR_NOMEM, "client: out of memory");
            break;
        }
        out->text = (char *)s.b.p;
        out->text_len = s.b.len - 1;
        out->body = json_loadb(out->text, out->text_len, 0, NULL);
        break;
    }
    if (payload != NULL) {
        tcn_wipe(payload, payload_len); /* a key import carries a secret */
        free(payload);
    }
    return rc;
}

void tcn_client_response_free(tcn_client_response *r)
{
    json_decref(r->body);
    free(r->text);
    r->body = NULL;
    r->text = NULL;
}

const char *tcn_client_error_message(const tcn_client_response *r)
{
    const char *m = json_string_value(json_object_get(json_object_get(r->body, "error"), "message"));
    return m != NULL ? m : "the node answered without an error message";
}

const char *tcn_client_error_code(const tcn_client_response *r)
{
    const char *m = json_string_value(json_object_get(json_object_get(r->body, "error"), "code"));
    return m != NULL ? m : "";
}

/* ---- files ---------------------------------------------------------------------- */

static int hex_field(const json_t *o, const char *name, uint8_t *out, size_t min, size_t max, size_t *len, bool *has,
                     tcn_error *err)
{
    const json_t *v = json_object_get(o, name);
    *has = false;
    if (v == NULL || json_is_null(v))
        return TCN_OK;
    TCN_ENSURE(json_is_string(v), err, TCN_ERR_CONFIG, "pins: %s must be a hex string", name);
    size_t n = 0;
    int rc = tcn_hex_decode(json_string_value(v), out, max, &n, err);
    if (rc != TCN_OK)
        return tcn_err_wrap(err, "pins: %s", name);
    TCN_ENSURE(n >= min, err, TCN_ERR_CONFIG, "pins: %s: %zu bytes, expected at least %zu", name, n, min);
    if (len != NULL)
        *len = n;
    *has = true;
    return TCN_OK;
}

int tcn_client_load_pins(const char *path, tcn_client_pins *out, tcn_error *err)
{
    memset(out, 0, sizeof(*out));
    uint8_t *text = NULL;
    size_t len = 0;
    TCN_GUARD(tcn_file_read(path, TCN_CLIENT_PINS_FILE_MAX, &text, &len, err));
    json_error_t je;
    json_t *o = json_loadb((const char *)text, len, JSON_REJECT_DUPLICATES, &je);
    free(text);
    TCN_ENSURE(json_is_object(o), err, TCN_ERR_CONFIG, "pins: %s is not a JSON object", path);
    int rc = TCN_OK;
    const char *k;
    json_t *v;
    json_object_foreach(o, k, v)
    {
        (void)v;
        if (strcmp(k, "measurement") != 0 && strcmp(k, "group_id") != 0 && strcmp(k, "sim_platform_pubkey") != 0)
            rc = tcn_err_set(err, TCN_ERR_CONFIG, "pins: unknown field \"%.40s\"", k);
    }
    if (rc == TCN_OK)
        rc = hex_field(o, "measurement", out->measurement, 32, sizeof(out->measurement), &out->measurement_len,
                       &out->has_measurement, err);
    size_t n = 0;
    if (rc == TCN_OK)
        rc = hex_field(o, "group_id", out->group_id, TCN_CLIENT_GROUP_ID_LEN, TCN_CLIENT_GROUP_ID_LEN, &n,
                       &out->has_group, err);
    if (rc == TCN_OK)
        rc = hex_field(o, "sim_platform_pubkey", out->sim_key, 32, 32, &n, &out->has_sim_key, err);
    json_decref(o);
    return rc;
}

int tcn_client_load_key(const char *path, uint8_t seed[TCN_CLIENT_SEED_LEN], tcn_error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    TCN_ENSURE(fd >= 0, err, TCN_ERR_IO, "key: %s: %s", path, strerror(errno));
    struct stat st;
    char buf[2 * TCN_CLIENT_SEED_LEN + 3];
    int rc = TCN_OK;
    ssize_t n = 0;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        rc = tcn_err_set(err, TCN_ERR_IO, "key: %s is not a regular file", path);
    } else if ((st.st_mode & 077) != 0) {
        rc = tcn_err_set(err, TCN_ERR_POLICY, "key: %s is readable by others (mode %03o); chmod 600 it", path,
                         (unsigned)(st.st_mode & 0777));
    } else {
        n = read(fd, buf, sizeof(buf) - 1);
        if (n < 0)
            rc = tcn_err_set(err, TCN_ERR_IO, "key: %s: %s", path, strerror(errno));
    }
    close(fd);
    if (rc == TCN_OK) {
        size_t len = (size_t)n < sizeof(buf) - 1 ? (size_t)n : sizeof(buf) - 1;
        if (len > 0 && buf[len - 1] == '\n')
            len--;
        buf[len] = '\0';
        if (len != 2 * TCN_CLIENT_SEED_LEN || tcn_hex_decode_exact(buf, seed, TCN_CLIENT_SEED_LEN, err) != TCN_OK)
            rc = tcn_err_set(err, TCN_ERR_MALFORMED, "key: %s must hold 64 hex characters (a 32-byte seed)", path);
    }
    tcn_wipe(buf, sizeof(buf));
    return rc;
}

int tcn_client_keygen(const char *path, char pubkey[TCN_CHAIN_BASE58_PUBKEY_CHARS], tcn_error *err)
{
    uint8_t seed[TCN_CLIENT_SEED_LEN], sk[crypto_sign_SECRETKEYBYTES];
    tcn_chain_pubkey pk;
    char text[2 * TCN_CLIENT_SEED_LEN + 2];
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    TCN_ENSURE(fd >= 0, err, TCN_ERR_IO, "keygen: %s: %s", path, strerror(errno));
    tcn_random_bytes(seed, sizeof(seed));
    crypto_sign_seed_keypair(pk.b, sk, seed);
    tcn_hex_encode(seed, sizeof(seed), text);
    text[2 * TCN_CLIENT_SEED_LEN] = '\n';
    int rc = TCN_OK;
    if (fchmod(fd, 0600) != 0 || write(fd, text, sizeof(text) - 1) != (ssize_t)(sizeof(text) - 1) || fsync(fd) != 0)
        rc = tcn_err_set(err, TCN_ERR_IO, "keygen: %s: %s", path, strerror(errno));
    close(fd);
    if (rc != TCN_OK)
        unlink(path);
    tcn_wipe(seed, sizeof(seed));
    tcn_wipe(sk, sizeof(sk));
    tcn_wipe(text, sizeof(text));
    tcn_chain_pubkey_to_base58(&pk, pubkey);
    return rc;
}
