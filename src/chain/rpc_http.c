/* The JSON-RPC client's HTTP transport: one blocking POST with libcurl,
 * answer size bounded while it arrives, no redirects, http(s) only. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "chain/rpc.h"

typedef struct sink {
    tcn_buf *b;
    size_t max;
    bool too_large;
    bool nomem;
} sink;

static size_t on_write(char *p, size_t size, size_t n, void *userdata)
{
    sink *s = userdata;
    size_t len = size * n; /* curl: size is always 1 */
    if (len > s->max - s->b->len) {
        s->too_large = true;
        return 0; /* curl stops: CURLE_WRITE_ERROR */
    }
    if (tcn_buf_append(s->b, p, len) != TCN_OK) {
        s->nomem = true;
        return 0;
    }
    return len;
}

int tcn_chain_rpc_http_global_init(tcn_error *err)
{
    CURLcode rc = curl_global_init(CURL_GLOBAL_DEFAULT);
    TCN_ENSURE(rc == CURLE_OK, err, TCN_ERR_INTERNAL, "curl_global_init: %s", curl_easy_strerror(rc));
    return TCN_OK;
}

void tcn_chain_rpc_http_global_cleanup(void)
{
    curl_global_cleanup();
}

/* What a failed transfer means, in the words of the failure. */
static int transfer_error(CURLcode rc, const char *detail, const char *url, tcn_error *err)
{
    const char *what;
    int code = TCN_ERR_IO;
    switch (rc) {
    case CURLE_COULDNT_CONNECT:
        what = "connect";
        break;
    case CURLE_OPERATION_TIMEDOUT:
        what = "timeout";
        break;
    case CURLE_COULDNT_RESOLVE_HOST:
        what = "resolve";
        break;
    case CURLE_FILESIZE_EXCEEDED:
        what = "answer too large";
        code = TCN_ERR_TOO_LARGE;
        break;
    case CURLE_OUT_OF_MEMORY:
        what = "out of memory";
        code = TCN_ERR_NOMEM;
        break;
    default:
        what = "transfer";
        break;
    }
    return tcn_err_set(err, code, "rpc %s: %s: %s", url, what, detail[0] ? detail : curl_easy_strerror(rc));
}

int tcn_chain_rpc_call_max(const char *url, const tcn_buf *request_json, tcn_buf *answer, long timeout_ms,
                           size_t answer_bytes_max, tcn_error *err)
{
    TCN_ENSURE(url != NULL && (strncasecmp(url, "http://", 7) == 0 || strncasecmp(url, "https://", 8) == 0), err,
               TCN_ERR_USAGE, "rpc: URL must start with http:// or https://");
    TCN_ENSURE(timeout_ms > 0, err, TCN_ERR_USAGE, "rpc %s: timeout must be positive", url);
    TCN_ENSURE(answer_bytes_max > 0 && answer_bytes_max <= TCN_CHAIN_RPC_HTTP_ANSWER_BYTES_MAX, err, TCN_ERR_USAGE,
               "rpc %s: answer limit %zu outside 1..%u", url, answer_bytes_max,
               (unsigned)TCN_CHAIN_RPC_HTTP_ANSWER_BYTES_MAX);

    answer->len = 0;
    CURL *c = curl_easy_init();
    TCN_ENSURE(c != NULL, err, TCN_ERR_NOMEM, "rpc %s: curl_easy_init failed", url);
    struct curl_slist *headers = curl_slist_append(NULL, "Content-Type: application/json");
    struct curl_slist *h2 = headers ? curl_slist_append(headers, "Accept: application/json") : NULL;
    if (h2 == NULL) {
        curl_slist_free_all(headers);
        curl_easy_cleanup(c);
        return tcn_err_set(err, TCN_ERR_NOMEM, "rpc %s: headers", url);
    }
    headers = h2;

    sink s = {.b = answer, .max = answer_bytes_max};
    char detail[CURL_ERROR_SIZE];
    detail[0] = '\0';
    long connect_ms = timeout_ms < TCN_CHAIN_RPC_HTTP_CONNECT_TIMEOUT_MS_MAX ? timeout_ms
                                                                             : TCN_CHAIN_RPC_HTTP_CONNECT_TIMEOUT_MS_MAX;
    const char *body = request_json->len ? (const char *)request_json->p : "";
    CURLcode rc = CURLE_OK;
#define SETOPT(opt, val)                                    \
    do {                                                    \
        if (rc == CURLE_OK)                                 \
            rc = curl_easy_setopt(c, (opt), (val));         \
    } while (0)
    SETOPT(CURLOPT_URL, url);
    SETOPT(CURLOPT_PROTOCOLS_STR, "http,https");
    SETOPT(CURLOPT_FOLLOWLOCATION, 0L);
    SETOPT(CURLOPT_NOSIGNAL, 1L); /* no SIGALRM: safe in threads */
    SETOPT(CURLOPT_POST, 1L);
    SETOPT(CURLOPT_POSTFIELDS, body);
    SETOPT(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)request_json->len);
    SETOPT(CURLOPT_HTTPHEADER, headers);
    SETOPT(CURLOPT_TIMEOUT_MS, timeout_ms);
    SETOPT(CURLOPT_CONNECTTIMEOUT_MS, connect_ms);
    SETOPT(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)answer_bytes_max); /* refused early when announced */
    SETOPT(CURLOPT_WRITEFUNCTION, on_write);
    SETOPT(CURLOPT_WRITEDATA, &s);
    SETOPT(CURLOPT_ERRORBUFFER, detail);
#undef SETOPT
    int ret = TCN_OK;
    if (rc != CURLE_OK) {
        ret = tcn_err_set(err, TCN_ERR_INTERNAL, "rpc %s: curl_easy_setopt: %s", url, curl_easy_strerror(rc));
        goto out;
    }
    rc = curl_easy_perform(c);
    if (s.too_large) {
        ret = tcn_err_set(err, TCN_ERR_TOO_LARGE, "rpc %s: answer too large: more than %zu bytes", url,
                          answer_bytes_max);
        goto out;
    }
    if (s.nomem) {
        ret = tcn_err_set(err, TCN_ERR_NOMEM, "rpc %s: answer: out of memory", url);
        goto out;
    }
    if (rc != CURLE_OK) {
        ret = transfer_error(rc, detail, url, err);
        goto out;
    }
    /* room for the NUL beyond len */
    if (tcn_buf_reserve(answer, 1) != TCN_OK) {
        ret = tcn_err_set(err, TCN_ERR_NOMEM, "rpc %s: answer: out of memory", url);
        goto out;
    }
    answer->p[answer->len] = '\0';
    long status = 0;
    if (curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status) != CURLE_OK || status != 200)
        ret = tcn_err_set(err, TCN_ERR_IO, "rpc %s: HTTP status %ld", url, status);
out:
    curl_slist_free_all(headers);
    curl_easy_cleanup(c);
    return ret;
}

int tcn_chain_rpc_call(const char *url, const tcn_buf *request_json, tcn_buf *answer, long timeout_ms, tcn_error *err)
{
    return tcn_chain_rpc_call_max(url, request_json, answer, timeout_ms, TCN_CHAIN_RPC_HTTP_ANSWER_BYTES_MAX, err);
}
