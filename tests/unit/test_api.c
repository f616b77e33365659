/* Unit tests for the client API: the real server (src/node/api.c) on
 * 127.0.0.1 over RA-TLS with a sim TEE identity, an in-test backend that
 * applies proposals to a real tcn_state (a one-node log), and the real client
 * library (src/cli/client.c): every endpoint, every signature refusal,
 * request validation, redirects to the leader, the client's pins, a swap
 * that waits for its refund and one that times out, and that a delegated
 * secret reaches no answer and no log line. */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <curl/curl.h>
#include <event2/event.h>
#include <event2/thread.h>

#include "test_state_harness.h" /* cmocka, the state, seeds h_seed/h_pub */

#include "chain/base58.h"
#include "cli/client.h"
#include "node/api.h"
#include "node/reqsig.h"
#include "testlib.h"
#include "testlib_ratls.h"
#include "util/encoding.h"
#include "util/file.h"
#include "util/log.h"
#include "util/timefmt.h"

#define SWAP_WAIT_MS 800u
#define EXEC_DELAY_MS 50
#define AMOUNT 2000000ull

/* ---- the in-test node -------------------------------------------------------------- */

typedef struct node {
    const char *name;
    bool leader;
    bool hold;              /* keep proposals (never apply them): tcn_api_free with proposals outstanding */
    size_t connections_max; /* 0: the default */
    tcn_api *api;
    uint16_t port;
} node;

typedef struct job {
    uint8_t *cmd;
    size_t len;
    tcn_api_done_fn done;
    void *arg;
} job;

static h_t g_h;                  /* the state (touched on the loop thread only once serving) */
static tcn_test_ratls g_tls;
static struct event_base *g_base;
static pthread_t g_thread;
static node g_leader = {.name = "n1", .leader = true}, g_follower = {.name = "n2"};
/* n3: a leader with two connections at most, whose proposals are held. */
static node g_small = {.name = "n3", .leader = true, .hold = true, .connections_max = 2};
static job *g_held;             /* n3's one held proposal */
static atomic_bool g_held_ready, g_freed;
static _Atomic uint64_t g_leader_since; /* 0: the replay guard lets everything through */
static atomic_bool g_executor;   /* simulate the executor opening new swaps */
static atomic_int g_proposals;
static FILE *g_log;
static uint8_t g_group[16];
static uint64_t g_slot = 10;

static const tcn_state *be_state(void *ctx)
{
    (void)ctx;
    return g_h.st;
}

static void be_status(void *ctx, tcn_api_status *out)
{
    node *n = ctx;
    memset(out, 0, sizeof(*out));
    snprintf(out->name, sizeof(out->name), "%s", n->name);
    out->node_id = n->leader ? 1 : 2;
    snprintf(out->role, sizeof(out->role), "%s", n->leader ? "leader" : "follower");
    out->term = 3;
    out->has_leader = true;
    out->leader_id = 1;
    snprintf(out->leader_name, sizeof(out->leader_name), "n1");
    snprintf(out->leader_api, sizeof(out->leader_api), "127.0.0.1:%u", (unsigned)g_leader.port);
    out->commit_index = out->applied_index = tcn_state_applied_index(g_h.st);
    out->n_members = 2;
    snprintf(out->members[0].name, sizeof(out->members[0].name), "n1");
    out->members[0].node_id = 1;
    snprintf(out->members[0].role, sizeof(out->members[0].role), "leader");
    out->members[0].healthy = true;
    snprintf(out->members[1].name, sizeof(out->members[1].name), "n2");
    out->members[1].node_id = 2;
    snprintf(out->members[1].role, sizeof(out->members[1].role), "follower");
    out->members[1].healthy = true;
}

static bool be_writable(void *ctx)
{
    return ((node *)ctx)->leader;
}

static bool be_leader_api(void *ctx, char *out, size_t cap)
{
    (void)ctx;
    snprintf(out, cap, "127.0.0.1:%u", (unsigned)g_leader.port);
    return true;
}

static uint64_t be_now(void *ctx)
{
    (void)ctx;
    return (uint64_t)tcn_time_now_ms();
}

static void be_random(void *ctx, uint8_t *out, size_t n)
{
    (void)ctx;
    tcn_random_bytes(out, n);
}

static void applied_everywhere(void)
{
    tcn_api_on_applied(g_leader.api);
    tcn_api_on_applied(g_follower.api);
    if (g_small.api != NULL)
        tcn_api_on_applied(g_small.api);
}

/* The executor's part: the nonce account exists, the first refund committed. */
static void observe_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    uint64_t swap_id = (uint64_t)(uintptr_t)arg;
    tcn_chain_hash v = h_hash(5000 + (uint32_t)swap_id);
    tcn_cmd c = h_observed_cmd(&g_h, (uint64_t)tcn_time_now_ms(), swap_id, ++g_slot, true, &v, 0);
    tcn_state_result r = h_apply(&g_h, &c);
    assert_int_equal(r.code, TCN_OK);
    applied_everywhere();
}

static void apply_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    job *j = arg;
    tcn_state_result res;
    assert_int_equal(tcn_state_apply(g_h.st, ++g_h.index, j->cmd, j->len, &res), TCN_OK);
    bool swap = j->len > 1 && j->cmd[1] == TCN_CMD_SWAP_CREATE;
    tcn_wipe(j->cmd, j->len);
    free(j->cmd);
    j->done(j->arg, TCN_OK, &res);
    applied_everywhere();
    if (swap && res.code == TCN_OK && atomic_load(&g_executor)) {
        struct timeval tv = {0, EXEC_DELAY_MS * 1000};
        event_base_once(g_base, -1, EV_TIMEOUT, observe_cb, (void *)(uintptr_t)res.id, &tv);
    }
    free(j);
}

static int be_propose(void *ctx, const uint8_t *cmd, size_t len, tcn_api_done_fn done, void *arg)
{
    node *n = ctx;
    job *j = calloc(1, sizeof(*j));
    assert_non_null(j);
    j->cmd = malloc(len);
    assert_non_null(j->cmd);
    memcpy(j->cmd, cmd, len);
    j->len = len;
    j->done = done;
    j->arg = arg;
    atomic_fetch_add(&g_proposals, 1);
    if (n->hold) {
        assert_null(g_held);
        g_held = j;
        atomic_store(&g_held_ready, true);
        return TCN_OK;
    }
    struct timeval tv = {0, 0};
    return event_base_once(g_base, -1, EV_TIMEOUT, apply_cb, j, &tv) == 0 ? TCN_OK : TCN_ERR_INTERNAL;
}

static int be_attestation(void *ctx, tcn_buf *cert_der, tcn_claims *claims, uint8_t group_id[16], bool *has_group)
{
    (void)ctx;
    uint8_t *der;
    size_t len;
    if (tcn_test_ratls_cert_der(&g_tls, &der, &len) != 0)
        return TCN_ERR_INTERNAL;
    int rc = tcn_buf_append(cert_der, der, len);
    free(der);
    memset(claims, 0, sizeof(*claims));
    claims->tee = TCN_TEE_SIM;
    memcpy(claims->measurement, g_tls.measurement, 48);
    claims->measurement_len = 48;
    memcpy(group_id, g_group, 16);
    *has_group = true;
    return rc;
}

static uint64_t be_leader_since(void *ctx)
{
    (void)ctx;
    return atomic_load(&g_leader_since);
}

static void be_metrics(void *ctx, tcn_buf *out)
{
    (void)ctx;
    static const char m[] = "# TYPE tcn_test_metric gauge\ntcn_test_metric 1\n";
    assert_int_equal(tcn_buf_append(out, m, sizeof(m) - 1), TCN_OK);
}

static void *loop(void *arg)
{
    (void)arg;
    event_base_loop(g_base, EVLOOP_NO_EXIT_ON_EMPTY);
    return NULL;
}

static void start_node(node *n)
{
    tcn_api_backend be = {.ctx = n,
                          .state = be_state,
                          .status = be_status,
                          .writable = be_writable,
                          .leader_api = be_leader_api,
                          .now_ms = be_now,
                          .random = be_random,
                          .propose = be_propose,
                          .attestation = be_attestation,
                          .metrics = be_metrics,
                          .leader_since_ms = be_leader_since};
    tcn_api_options opt = {
        .host = "127.0.0.1", .port = 0, .swap_wait_ms = SWAP_WAIT_MS, .connections_max = n->connections_max};
    tcn_error e;
    int rc = tcn_api_new(g_base, g_tls.server_ctx, &be, &opt, &n->api, &e);
    if (rc != TCN_OK)
        fprintf(stderr, "tcn_api_new: %s\n", e.msg);
    assert_int_equal(rc, TCN_OK);
    n->port = tcn_api_port(n->api);
    assert_true(n->port != 0);
}

static int setup(void **state)
{
    (void)state;
    g_log = tmpfile();
    assert_non_null(g_log);
    tcn_log_set_stream(g_log);
    assert_int_equal(evthread_use_pthreads(), 0);
    h_init(&g_h);
    memcpy(g_group, tcn_state_group_id(g_h.st), 16);
    assert_int_equal(tcn_test_ratls_new(g_group, &g_tls), 0);
    g_base = event_base_new();
    assert_non_null(g_base);
    start_node(&g_leader);
    start_node(&g_follower);
    start_node(&g_small);
    atomic_store(&g_executor, true);
    assert_int_equal(pthread_create(&g_thread, NULL, loop, NULL), 0);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    event_base_loopbreak(g_base);
    pthread_join(g_thread, NULL);
    tcn_api_free(g_leader.api);
    tcn_api_free(g_follower.api);
    tcn_api_free(g_small.api);
    event_base_free(g_base);
    tcn_test_ratls_free(&g_tls);
    h_free(&g_h);
    tcn_log_set_stream(NULL);
    fclose(g_log);
    return 0;
}

/* ---- client helpers ---------------------------------------------------------------- */

static char g_url_leader[64], g_url_follower[64];

static char g_url_small[64];

static const char *url(const node *n)
{
    char *u = n == &g_leader ? g_url_leader : n == &g_follower ? g_url_follower : g_url_small;
    snprintf(u, 64, "https://127.0.0.1:%u", (unsigned)n->port);
    return u;
}

static void pins(tcn_client_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->pins.has_measurement = true;
    cfg->pins.measurement_len = 48;
    memcpy(cfg->pins.measurement, g_tls.measurement, 48);
    cfg->pins.has_group = true;
    memcpy(cfg->pins.group_id, g_group, 16);
    cfg->pins.has_sim_key = true;
    memcpy(cfg->pins.sim_key, g_tls.platform_pk, 32);
}

/* A client with the right pins, signing as seed number `who` (0: no key). */
static tcn_client *client_as(uint32_t who)
{
    tcn_client_config cfg;
    pins(&cfg);
    if (who != 0) {
        cfg.has_key = true;
        h_seed(who, cfg.seed);
    }
    tcn_client *c;
    tcn_error e;
    assert_int_equal(tcn_client_new(&cfg, &c, &e), TCN_OK);
    tcn_wipe(&cfg, sizeof(cfg));
    return c;
}

/* One request; returns the status (the answer stays in *r). */
static long call(tcn_client *c, const node *n, const char *method, const char *path, json_t *body, bool sign,
                 tcn_client_response *r)
{
    tcn_error e;
    int rc = tcn_client_request(c, url(n), method, path, body, sign, r, &e);
    if (rc != TCN_OK)
        fprintf(stderr, "request %s %s: %s\n", method, path, e.msg);
    assert_int_equal(rc, TCN_OK);
    json_decref(body);
    if (r->body == NULL && r->status != 200)
        fprintf(stderr, "answer %ld: %s\n", r->status, r->text);
    return r->status;
}

static void expect_error(const tcn_client_response *r, long status, const char *code, const char *field)
{
    if (r->status != status || strcmp(tcn_client_error_code(r), code) != 0)
        fprintf(stderr, "want %ld %s, got %ld: %s\n", status, code, r->status, r->text);
    assert_int_equal(r->status, status);
    assert_string_equal(tcn_client_error_code(r), code);
    if (field != NULL) {
        const char *f = json_string_value(json_object_get(json_object_get(r->body, "error"), "field"));
        if (f == NULL || strcmp(f, field) != 0)
            fprintf(stderr, "want field %s: %s\n", field, r->text);
        assert_non_null(f);
        assert_string_equal(f, field);
    }
}

/* ---- raw requests (no client library): headers exactly as a test wants them --------- */

typedef struct raw_answer {
    long status;
    char body[8192];
    size_t len;
    char location[256];
} raw_answer;

static size_t raw_write(char *p, size_t size, size_t n, void *arg)
{
    raw_answer *a = arg;
    size_t len = size * n, room = sizeof(a->body) - 1 - a->len;
    size_t take = len < room ? len : room;
    memcpy(a->body + a->len, p, take);
    a->len += take;
    a->body[a->len] = '\0';
    return len;
}

static size_t raw_header(char *p, size_t size, size_t n, void *arg)
{
    raw_answer *a = arg;
    size_t len = size * n;
    if (len > 10 && strncasecmp(p, "Location: ", 10) == 0) {
        size_t k = len - 10;
        while (k > 0 && (p[10 + k - 1] == '\r' || p[10 + k - 1] == '\n'))
            k--;
        if (k < sizeof(a->location)) {
            memcpy(a->location, p + 10, k);
            a->location[k] = '\0';
        }
    }
    return len;
}

/* TLS without the RA-TLS check (the client library's check is tested elsewhere). */
static CURLcode raw_try(const node *n, const char *method, const char *path, const char *body, size_t body_len,
                        const tcn_reqsig_headers *sig, raw_answer *a);

static void raw(const node *n, const char *method, const char *path, const char *body, size_t body_len,
                const tcn_reqsig_headers *sig, raw_answer *a)
{
    CURLcode cc = raw_try(n, method, path, body, body_len, sig, a);
    if (cc != CURLE_OK)
        fprintf(stderr, "raw %s: %s\n", path, curl_easy_strerror(cc));
    assert_int_equal(cc, CURLE_OK);
}

static CURLcode raw_try(const node *n, const char *method, const char *path, const char *body, size_t body_len,
                        const tcn_reqsig_headers *sig, raw_answer *a)
{
    memset(a, 0, sizeof(*a));
    char u[256], h1[128], h2[128], h3[160];
    snprintf(u, sizeof(u), "%s%s", url(n), path);
    CURL *c = curl_easy_init();
    assert_non_null(c);
    struct curl_slist *hs = curl_slist_append(NULL, "Expect:");
    if (sig != NULL) {
        if (sig->key[0] != '\0') {
            snprintf(h1, sizeof(h1), "X-Tcn-Key: %s", sig->key);
            hs = curl_slist_append(hs, h1);
        }
        if (sig->ts[0] != '\0') {
            snprintf(h2, sizeof(h2), "X-Tcn-Timestamp: %s", sig->ts);
            hs = curl_slist_append(hs, h2);
        }
        if (sig->sig[0] != '\0') {
            snprintf(h3, sizeof(h3), "X-Tcn-Signature: %s", sig->sig);
            hs = curl_slist_append(hs, h3);
        }
    }
    curl_easy_setopt(c, CURLOPT_URL, u);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    if (body != NULL) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)body_len);
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hs);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, raw_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, a);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, raw_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, a);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 10000L);
    CURLcode cc = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &a->status);
    curl_slist_free_all(hs);
    curl_easy_cleanup(c);
    return cc;
}

static void sign_as(uint32_t who, const char *method, const char *path, const char *body, uint64_t ts_ms,
                    tcn_reqsig_headers *out)
{
    uint8_t seed[32];
    h_seed(who, seed);
    tcn_error e;
    assert_int_equal(tcn_reqsig_sign(seed, method, path, ts_ms, g_group, (const uint8_t *)body,
                                     body != NULL ? strlen(body) : 0, out, &e),
                     TCN_OK);
    tcn_wipe(seed, sizeof(seed));
}

static json_t *client_body(uint32_t who, const char *role)
{
    tcn_chain_pubkey pk = h_pub(who);
    char s[TCN_CHAIN_BASE58_PUBKEY_CHARS];
    tcn_chain_pubkey_to_base58(&pk, s);
    return json_pack("{s:s,s:s}", "pubkey", s, "role", role);
}

static const char *b58(uint32_t who)
{
    static char s[4][TCN_CHAIN_BASE58_PUBKEY_CHARS];
    static int k;
    k = (k + 1) % 4;
    tcn_chain_pubkey pk = h_pub(who);
    tcn_chain_pubkey_to_base58(&pk, s[k]);
    return s[k];
}

static const char *time_in(int64_t ms)
{
    static char s[2][40];
    static int k;
    k = (k + 1) % 2;
    tcn_time_format_rfc3339(tcn_time_now_ms() + ms, s[k], sizeof(s[k]));
    return s[k];
}

/* ---- tests --------------------------------------------------------------------------- */

static void test_status_attestation_metrics(void **state)
{
    (void)state;
    tcn_client *c = client_as(0);
    tcn_client_response r;
    assert_int_equal(call(c, &g_follower, "GET", "/v1/status", NULL, false, &r), 200);
    assert_string_equal(json_string_value(json_object_get(r.body, "name")), "n2");
    assert_string_equal(json_string_value(json_object_get(r.body, "role")), "follower");
    assert_string_equal(json_string_value(json_object_get(r.body, "leader")), "n1");
    assert_int_equal(json_array_size(json_object_get(r.body, "members")), 2);
    assert_true(r.peer.verified);
    assert_memory_equal(r.peer.claims.measurement, g_tls.measurement, 48);
    tcn_client_response_free(&r);

    assert_int_equal(call(c, &g_leader, "GET", "/v1/attestation", NULL, false, &r), 200);
    char m[97], g[33];
    tcn_hex_encode(g_tls.measurement, 48, m);
    tcn_hex_encode(g_group, 16, g);
    assert_string_equal(json_string_value(json_object_get(r.body, "measurement")), m);
    assert_string_equal(json_string_value(json_object_get(r.body, "group_id")), g);
    assert_string_equal(json_string_value(json_object_get(r.body, "tee")), "sim");
    assert_non_null(json_string_value(json_object_get(r.body, "certificate")));
    assert_true(json_is_object(json_object_get(r.body, "claims")));
    tcn_client_response_free(&r);

    assert_int_equal(call(c, &g_leader, "GET", "/metrics", NULL, false, &r), 200);
    assert_non_null(strstr(r.text, "tcn_test_metric 1"));
    assert_non_null(strstr(r.text, "tcn_api_requests_total{class=\"2xx\"}"));
    assert_non_null(strstr(r.text, "tcn_api_signature_refusals_total{check=\"replay\"}"));
    tcn_client_response_free(&r);

    /* Unknown path, wrong method. */
    assert_int_equal(call(c, &g_leader, "GET", "/v1/nothing", NULL, false, &r), 404);
    expect_error(&r, 404, "not_found", NULL);
    tcn_client_response_free(&r);
    assert_int_equal(call(c, &g_leader, "DELETE", "/v1/status", NULL, false, &r), 405);
    expect_error(&r, 405, "method_not_allowed", NULL);
    tcn_client_response_free(&r);
    assert_int_equal(call(c, &g_leader, "GET", "/v1/swaps/999", NULL, false, &r), 404);
    tcn_client_response_free(&r);
    assert_int_equal(call(c, &g_leader, "GET", "/v1/swaps/01", NULL, false, &r), 404);
    tcn_client_response_free(&r);
    tcn_client_free(c);
}

static void test_clients_and_refusal(void **state)
{
    (void)state;
    tcn_client *op = client_as(H_OP), *user = client_as(H_USER);
    tcn_client_response r;
    assert_int_equal(call(op, &g_leader, "POST", "/v1/clients", client_body(200, "user"), true, &r), 200);
    assert_string_equal(json_string_value(json_object_get(r.body, "role")), "user");
    assert_string_equal(json_string_value(json_object_get(r.body, "pubkey")), b58(200));
    tcn_client_response_free(&r);
    /* A user may not set roles: the state's refusal (USAGE) as 422 with its reason. */
    assert_int_equal(call(user, &g_leader, "POST", "/v1/clients", client_body(201, "operator"), true, &r), 422);
    expect_error(&r, 422, "refused", NULL);
    fprintf(stderr, "refusal: %s\n", tcn_client_error_message(&r));
    tcn_client_response_free(&r);
    /* A key without a role never reaches the state (nor the replay cache). */
    tcn_client *stranger = client_as(300);
    assert_int_equal(call(stranger, &g_leader, "POST", "/v1/clients", client_body(301, "user"), true, &r), 403);
    expect_error(&r, 403, "unknown_client", NULL);
    tcn_client_response_free(&r);
    /* An unsigned write is refused by the client library itself? No: sign=false sends none. */
    assert_int_equal(call(op, &g_leader, "POST", "/v1/clients", client_body(202, "user"), false, &r), 401);
    expect_error(&r, 401, "missing", NULL);
    tcn_client_response_free(&r);
    tcn_client_free(stranger);
    tcn_client_free(op);
    tcn_client_free(user);
}

static void test_signature_checks(void **state)
{
    (void)state;
    const char *path = "/v1/clients";
    char body[200];
    snprintf(body, sizeof(body), "{\"pubkey\":\"%s\",\"role\":\"lp\"}", b58(210));
    raw_answer a;
    tcn_reqsig_headers h;
    uint64_t now = (uint64_t)tcn_time_now_ms();

    /* missing */
    raw(&g_leader, "POST", path, body, strlen(body), NULL, &a);
    assert_int_equal(a.status, 401);
    assert_non_null(strstr(a.body, "\"code\":\"missing\""));
    sign_as(H_OP, "POST", path, body, now, &h);
    tcn_reqsig_headers part = h;
    part.sig[0] = '\0';
    raw(&g_leader, "POST", path, body, strlen(body), &part, &a);
    assert_int_equal(a.status, 401);
    assert_non_null(strstr(a.body, "X-Tcn-Signature"));
    /* malformed */
    part = h;
    snprintf(part.key, sizeof(part.key), "0OIl");
    raw(&g_leader, "POST", path, body, strlen(body), &part, &a);
    assert_int_equal(a.status, 401);
    assert_non_null(strstr(a.body, "\"code\":\"malformed\""));
    part = h;
    part.ts[0] = '0';
    memcpy(part.ts + 1, h.ts, strlen(h.ts) + 1); /* 13 digits + a leading zero */
    raw(&g_leader, "POST", path, body, strlen(body), &part, &a);
    assert_non_null(strstr(a.body, "\"code\":\"malformed\""));
    /* bad: another body than the one signed */
    char other[200];
    snprintf(other, sizeof(other), "{\"pubkey\":\"%s\",\"role\":\"operator\"}", b58(210));
    raw(&g_leader, "POST", path, other, strlen(other), &h, &a);
    assert_int_equal(a.status, 401);
    assert_non_null(strstr(a.body, "\"code\":\"signature\""));
    /* another group id: another network */
    {
        uint8_t seed[32], g2[16];
        h_seed(H_OP, seed);
        memset(g2, 0x48, sizeof(g2));
        tcn_reqsig_headers h2;
        tcn_error e;
        assert_int_equal(tcn_reqsig_sign(seed, "POST", path, now, g2, (const uint8_t *)body, strlen(body), &h2, &e),
                         TCN_OK);
        raw(&g_leader, "POST", path, body, strlen(body), &h2, &a);
        assert_non_null(strstr(a.body, "\"code\":\"signature\""));
    }
    /* expired, and too far ahead */
    tcn_reqsig_headers old;
    sign_as(H_OP, "POST", path, body, now - TCN_API_REQUEST_SKEW_MS - 5000, &old);
    raw(&g_leader, "POST", path, body, strlen(body), &old, &a);
    assert_int_equal(a.status, 401);
    assert_non_null(strstr(a.body, "\"code\":\"timestamp\""));
    sign_as(H_OP, "POST", path, body, now + TCN_API_REQUEST_SKEW_MS + 5000, &old);
    raw(&g_leader, "POST", path, body, strlen(body), &old, &a);
    assert_non_null(strstr(a.body, "\"code\":\"timestamp\""));
    /* accepted once, then a replay */
    raw(&g_leader, "POST", path, body, strlen(body), &h, &a);
    if (a.status != 200)
        fprintf(stderr, "%s\n", a.body);
    assert_int_equal(a.status, 200);
    raw(&g_leader, "POST", path, body, strlen(body), &h, &a);
    assert_int_equal(a.status, 401);
    assert_non_null(strstr(a.body, "\"code\":\"replay\""));

    /* Followers redirect writes before any check, with the target as sent. */
    raw(&g_follower, "POST", "/v1/clients?x=1", body, strlen(body), NULL, &a);
    assert_int_equal(a.status, 307);
    char want[128];
    snprintf(want, sizeof(want), "https://127.0.0.1:%u/v1/clients?x=1", (unsigned)g_leader.port);
    assert_string_equal(a.location, want);
    /* Reads are served locally. */
    raw(&g_follower, "GET", "/v1/keys", NULL, 0, NULL, &a);
    assert_int_equal(a.status, 200);
}

static void test_reqsig_unit(void **state)
{
    (void)state;
    /* The canonical string, byte for byte. */
    tcn_buf b = {0};
    tcn_error e;
    uint8_t g[16];
    memset(g, 0xab, sizeof(g));
    assert_int_equal(tcn_reqsig_canonical("POST", "/v1/swaps?a=b", "1700000000000", g, (const uint8_t *)"{}", 2, &b, &e),
                     TCN_OK);
    const char want[] = "tcn-request-v1\nPOST\n/v1/swaps?a=b\n1700000000000\nabababababababababababababababab\n"
                        "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a";
    assert_int_equal(b.len, sizeof(want) - 1);
    assert_memory_equal(b.p, want, b.len);
    tcn_buf_free(&b);
    /* The replay cache: bounded, entries expire with the window, full refuses. */
    tcn_reqsig_cache *c;
    assert_int_equal(tcn_reqsig_cache_new(4, 1000, &c, &e), TCN_OK);
    tcn_chain_signature s[6];
    for (int i = 0; i < 6; i++)
        memset(s[i].b, i + 1, sizeof(s[i].b));
    for (int i = 0; i < 4; i++)
        assert_int_equal(tcn_reqsig_cache_insert(c, &s[i], 10000, 10000), TCN_OK);
    assert_int_equal(tcn_reqsig_cache_insert(c, &s[0], 10000, 10500), TCN_ERR_BAD_SIGNATURE);
    assert_int_equal(tcn_reqsig_cache_insert(c, &s[4], 10000, 10500), TCN_ERR_BUSY);
    /* After the window the old ones are gone and room is back. */
    assert_int_equal(tcn_reqsig_cache_insert(c, &s[4], 11500, 11500), TCN_OK);
    assert_int_equal(tcn_reqsig_cache_insert(c, &s[5], 11500, 11500), TCN_OK);
    assert_int_equal(tcn_reqsig_cache_insert(c, &s[4], 11500, 11600), TCN_ERR_BAD_SIGNATURE);
    tcn_reqsig_cache_free(c);
}

static void test_bad_requests(void **state)
{
    (void)state;
    tcn_client *user = client_as(H_USER);
    tcn_client_response r;
    struct {
        const char *body;
        const char *field;
    } cases[] = {
        {"{\"amount\":\"5\",\"lp\":\"%s\",\"refund_to\":\"%s\"}", "amount"},
        {"{\"amount\":-5,\"lp\":\"%s\",\"refund_to\":\"%s\"}", "amount"},
        {"{\"amount\":5.5,\"lp\":\"%s\",\"refund_to\":\"%s\"}", "amount"},
        {"{\"amount\":2000000,\"lp\":\"%s0\",\"refund_to\":\"%s\"}", "lp"},
        {"{\"amount\":2000000,\"lp\":\"%s\",\"refund_to\":7}", "refund_to"},
        {"{\"amount\":2000000,\"lp\":\"%s\",\"refund_to\":\"%s\",\"deadline\":\"tomorrow\"}", "deadline"},
        {"{\"lp\":\"%s\",\"refund_to\":\"%s\"}", "amount"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char text[512];
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
        snprintf(text, sizeof(text), cases[i].body, b58(H_LP), b58(H_REFUND));
#pragma GCC diagnostic pop
        json_error_t je;
        json_t *body = json_loads(text, 0, &je);
        assert_non_null(body);
        assert_int_equal(call(user, &g_leader, "POST", "/v1/swaps", body, true, &r), 400);
        expect_error(&r, 400, "bad_request", cases[i].field);
        tcn_client_response_free(&r);
    }
    /* Raw bodies (not JSON the client library would make), signed. */
    const char *raws[] = {"{", "[1]", "{\"amount\":99999999999999999999}", "{\"amount\":1,\"amount\":2}",
                          "{\"amount\":2000000,\"colour\":\"red\"}"};
    const char *words[] = {"not valid JSON", "JSON object", "out of range", "not valid JSON", "\"field\":\"colour\""};
    for (size_t i = 0; i < sizeof(raws) / sizeof(raws[0]); i++) {
        tcn_reqsig_headers h;
        sign_as(H_USER, "POST", "/v1/swaps", raws[i], (uint64_t)tcn_time_now_ms(), &h);
        raw_answer a;
        raw(&g_leader, "POST", "/v1/swaps", raws[i], strlen(raws[i]), &h, &a);
        if (a.status != 400 || strstr(a.body, words[i]) == NULL)
            fprintf(stderr, "%s -> %ld %s\n", raws[i], a.status, a.body);
        assert_int_equal(a.status, 400);
        assert_non_null(strstr(a.body, words[i]));
        assert_non_null(strstr(a.body, "bad_request"));
    }
    /* Over the body limit: 413 from evhttp before anything else. */
    size_t big = TCN_API_BODY_MAX + 1024;
    char *huge = malloc(big);
    assert_non_null(huge);
    memset(huge, ' ', big);
    huge[0] = '{';
    huge[big - 1] = '}';
    raw_answer a;
    /* evhttp answers 413 and closes while the client may still be sending:
     * the client sees the 413, or the connection cut under its upload;
     * either way nothing was accepted. */
    uint64_t swaps_before = tcn_state_swap_count(g_h.st);
    CURLcode cc = raw_try(&g_leader, "POST", "/v1/swaps", huge, big, NULL, &a);
    if (cc == CURLE_OK)
        assert_int_equal(a.status, 413);
    else
        assert_true(cc == CURLE_SEND_ERROR || cc == CURLE_RECV_ERROR);
    assert_int_equal(tcn_state_swap_count(g_h.st), swaps_before);
    free(huge);
    /* A bad role. */
    tcn_client *op = client_as(H_OP);
    assert_int_equal(call(op, &g_leader, "POST", "/v1/clients", client_body(220, "king"), true, &r), 400);
    expect_error(&r, 400, "bad_request", "role");
    tcn_client_response_free(&r);
    tcn_client_free(op);
    tcn_client_free(user);
}

static void test_swap_waits_for_open(void **state)
{
    (void)state;
    atomic_store(&g_executor, true);
    tcn_client *user = client_as(H_USER);
    tcn_client_response r;
    json_t *body = json_pack("{s:I,s:s,s:s,s:s}", "amount", (json_int_t)AMOUNT, "lp", b58(H_LP), "refund_to",
                             b58(H_REFUND), "deadline", time_in(86400000));
    /* Sent to the follower: redirected to the leader, re-attested, re-signed. */
    assert_int_equal(call(user, &g_follower, "POST", "/v1/swaps", body, true, &r), 201);
    assert_int_equal(r.hops, 1);
    assert_true(r.peer.verified);
    json_int_t id = json_integer_value(json_object_get(r.body, "swap_id"));
    assert_true(id > 0);
    assert_non_null(json_string_value(json_object_get(r.body, "refund_tx")));
    assert_non_null(json_string_value(json_object_get(r.body, "refund_nonce")));
    assert_non_null(json_string_value(json_object_get(r.body, "escrow")));
    assert_non_null(json_string_value(json_object_get(r.body, "nonce_account")));
    tcn_client_response_free(&r);

    char path[64];
    snprintf(path, sizeof(path), "/v1/swaps/%lld", (long long)id);
    assert_int_equal(call(user, &g_follower, "GET", path, NULL, false, &r), 200);
    assert_string_equal(json_string_value(json_object_get(r.body, "state")), "open");
    assert_int_equal(json_integer_value(json_object_get(r.body, "amount")), AMOUNT);
    assert_string_equal(json_string_value(json_object_get(r.body, "lp")), b58(H_LP));
    assert_non_null(json_string_value(json_object_get(r.body, "refund_tx")));
    tcn_client_response_free(&r);

    /* A payout. */
    snprintf(path, sizeof(path), "/v1/swaps/%lld/payouts", (long long)id);
    body = json_pack("{s:s,s:I,s:s}", "to", b58(H_DEST), "amount", (json_int_t)500000, "at", time_in(3600000));
    assert_int_equal(call(user, &g_leader, "POST", path, body, true, &r), 201);
    json_int_t pid = json_integer_value(json_object_get(r.body, "payout_id"));
    assert_true(pid > 0);
    tcn_client_response_free(&r);
    /* Refused by the state: due after the deadline (USAGE). */
    body = json_pack("{s:s,s:I,s:s}", "to", b58(H_DEST), "amount", (json_int_t)500000, "at", time_in(3 * 86400000LL));
    assert_int_equal(call(user, &g_leader, "POST", path, body, true, &r), 422);
    tcn_client_response_free(&r);
    snprintf(path, sizeof(path), "/v1/swaps/%lld", (long long)id);
    assert_int_equal(call(user, &g_leader, "GET", path, NULL, false, &r), 200);
    json_t *p0 = json_array_get(json_object_get(r.body, "payouts"), 0);
    assert_int_equal(json_integer_value(json_object_get(p0, "payout_id")), pid);
    assert_string_equal(json_string_value(json_object_get(p0, "status")), "scheduled");
    assert_true(json_is_null(json_object_get(p0, "signature")));
    tcn_client_response_free(&r);
    tcn_client_free(user);
}

static void test_swap_times_out(void **state)
{
    (void)state;
    atomic_store(&g_executor, false);
    tcn_client *user = client_as(H_USER);
    tcn_client_response r;
    json_t *body = json_pack("{s:I,s:s,s:s}", "amount", (json_int_t)AMOUNT, "lp", b58(H_LP), "refund_to",
                             b58(H_REFUND));
    int64_t t0 = tcn_time_now_ms();
    assert_int_equal(call(user, &g_leader, "POST", "/v1/swaps", body, true, &r), 202);
    assert_true(tcn_time_now_ms() - t0 >= SWAP_WAIT_MS - 50);
    assert_true(json_is_null(json_object_get(r.body, "refund_tx")));
    assert_string_equal(json_string_value(json_object_get(r.body, "state")), "new");
    assert_true(json_integer_value(json_object_get(r.body, "swap_id")) > 0);
    tcn_client_response_free(&r);
    atomic_store(&g_executor, true);
    tcn_client_free(user);
}

static void test_keys_secret_never_leaks(void **state)
{
    (void)state;
    tcn_client *user = client_as(H_USER), *op = client_as(H_OP);
    uint8_t seed[32];
    h_seed(4242, seed);
    char b64[64], hex[65];
    tcn_b64_encode(seed, 32, b64, sizeof(b64));
    tcn_hex_encode(seed, 32, hex);
    tcn_client_response r;
    json_t *body = json_pack("{s:s,s:s,s:{s:I}}", "kind", "ed25519_seed", "secret", b64, "policy", "max_per_payout",
                             (json_int_t)1000000);
    assert_int_equal(call(user, &g_leader, "POST", "/v1/keys", body, true, &r), 201);
    assert_string_equal(json_string_value(json_object_get(r.body, "pubkey")), b58(4242));
    json_int_t kid = json_integer_value(json_object_get(r.body, "key_id"));
    assert_true(kid > 0);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(r.body, "policy"), "max_per_payout")), 1000000);
    assert_null(strstr(r.text, b64));
    assert_null(strstr(r.text, hex));
    tcn_client_response_free(&r);
    /* The same key again: refused by the state, the secret still unechoed. */
    body = json_pack("{s:s,s:s}", "kind", "ed25519_seed", "secret", b64);
    assert_int_equal(call(user, &g_leader, "POST", "/v1/keys", body, true, &r), 422);
    assert_null(strstr(r.text, b64));
    tcn_client_response_free(&r);
    /* A bad secret: the message does not quote it. */
    body = json_pack("{s:s,s:s}", "kind", "ed25519_seed", "secret", "c2VjcmV0LXNob3J0");
    assert_int_equal(call(user, &g_leader, "POST", "/v1/keys", body, true, &r), 400);
    expect_error(&r, 400, "bad_request", "secret");
    assert_null(strstr(r.text, "c2VjcmV0LXNob3J0"));
    tcn_client_response_free(&r);
    /* A share. */
    body = json_pack("{s:s,s:s}", "kind", "frost_share", "secret", "AQIDBAUGBwg=");
    assert_int_equal(call(user, &g_leader, "POST", "/v1/keys", body, true, &r), 201);
    assert_true(json_is_null(json_object_get(r.body, "pubkey")));
    tcn_client_response_free(&r);

    /* The list, and a policy change by key id and by public key. */
    assert_int_equal(call(user, &g_leader, "GET", "/v1/keys", NULL, false, &r), 200);
    assert_true(json_array_size(json_object_get(r.body, "keys")) >= 2);
    assert_null(strstr(r.text, b64));
    assert_null(strstr(r.text, hex));
    tcn_client_response_free(&r);
    char path[128];
    snprintf(path, sizeof(path), "/v1/keys/%lld/policy", (long long)kid);
    body = json_pack("{s:I}", "max_per_payout", (json_int_t)500000);
    assert_int_equal(call(user, &g_leader, "PUT", path, body, true, &r), 200);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(r.body, "policy"), "max_per_payout")), 500000);
    tcn_client_response_free(&r);
    /* The owner may only tighten (POLICY → 403); an operator may set any. */
    snprintf(path, sizeof(path), "/v1/keys/%s/policy", b58(4242));
    body = json_pack("{s:I}", "max_per_payout", (json_int_t)900000);
    assert_int_equal(call(user, &g_leader, "PUT", path, body, true, &r), 403);
    expect_error(&r, 403, "policy", NULL);
    tcn_client_response_free(&r);
    body = json_pack("{s:I}", "max_per_payout", (json_int_t)900000);
    assert_int_equal(call(op, &g_leader, "PUT", path, body, true, &r), 200);
    tcn_client_response_free(&r);
    body = json_pack("{s:I}", "max_per_payout", (json_int_t)900000);
    assert_int_equal(call(op, &g_leader, "PUT", "/v1/keys/999/policy", body, true, &r), 404);
    tcn_client_response_free(&r);

    /* A swap using the delegated key as its escrow. */
    body = json_pack("{s:I,s:s,s:s,s:s}", "amount", (json_int_t)AMOUNT, "lp", b58(H_LP), "refund_to", b58(H_REFUND),
                     "escrow_key", b58(4242));
    assert_int_equal(call(user, &g_leader, "POST", "/v1/swaps", body, true, &r), 201);
    assert_string_equal(json_string_value(json_object_get(r.body, "escrow")), b58(4242));
    tcn_client_response_free(&r);

    /* Nothing in the log. */
    fflush(g_log);
    long end = ftell(g_log);
    assert_true(end > 0);
    char *text = calloc(1, (size_t)end + 1);
    assert_non_null(text);
    rewind(g_log);
    assert_int_equal(fread(text, 1, (size_t)end, g_log), (size_t)end);
    fseek(g_log, 0, SEEK_END);
    assert_null(strstr(text, b64));
    assert_null(strstr(text, hex));
    assert_non_null(strstr(text, "path=/v1/keys"));
    assert_non_null(strstr(text, "status=201"));
    free(text);
    tcn_wipe(seed, sizeof(seed));
    tcn_client_free(user);
    tcn_client_free(op);
}

static void expect_pin_refusal(tcn_client_config *cfg, const char *reason)
{
    tcn_client *c;
    tcn_error e;
    assert_int_equal(tcn_client_new(cfg, &c, &e), TCN_OK);
    tcn_client_response r;
    int rc = tcn_client_request(c, url(&g_leader), "GET", "/v1/status", NULL, false, &r, &e);
    if (rc == TCN_OK || strcmp(r.peer.reason, reason) != 0)
        fprintf(stderr, "want %s: rc %d reason %s: %s\n", reason, rc, r.peer.reason, e.msg);
    assert_int_not_equal(rc, TCN_OK);
    assert_string_equal(r.peer.reason, reason);
    assert_false(r.peer.verified);
    assert_non_null(strstr(e.msg, "ratls: "));
    assert_null(r.body);
    tcn_client_response_free(&r);
    tcn_client_free(c);
}

static void test_client_pins(void **state)
{
    (void)state;
    tcn_client_config cfg;
    pins(&cfg);
    cfg.pins.measurement[0] ^= 1;
    expect_pin_refusal(&cfg, "measurement");
    pins(&cfg);
    cfg.pins.group_id[0] ^= 1;
    expect_pin_refusal(&cfg, "group-mismatch");
    pins(&cfg);
    memcpy(cfg.pins.sim_key, g_tls.other_platform_pk, 32);
    expect_pin_refusal(&cfg, "evidence");
    /* Nothing pinned: only an allow_unverified client, which reports what it saw. */
    memset(&cfg, 0, sizeof(cfg));
    tcn_client *c;
    tcn_error e;
    assert_int_equal(tcn_client_new(&cfg, &c, &e), TCN_ERR_USAGE);
    cfg.allow_unverified = true;
    assert_int_equal(tcn_client_new(&cfg, &c, &e), TCN_OK);
    tcn_client_response r;
    assert_int_equal(tcn_client_request(c, url(&g_leader), "GET", "/v1/attestation", NULL, false, &r, &e), TCN_OK);
    assert_int_equal(r.status, 200);
    assert_true(r.peer.checked);
    assert_false(r.peer.verified);
    tcn_client_response_free(&r);
    /* A signed request needs a key and the group id. */
    assert_int_equal(tcn_client_request(c, url(&g_leader), "POST", "/v1/clients", NULL, true, &r, &e), TCN_ERR_USAGE);
    tcn_client_free(c);
}

/* The replay guard: a new leader refuses writes signed before its election
 * + the skew window + the clock spread, and takes them afterwards. */
static void test_replay_guard(void **state)
{
    (void)state;
    tcn_client *op = client_as(H_OP);
    tcn_client_response r;
    atomic_store(&g_leader_since, (uint64_t)tcn_time_now_ms());
    assert_int_equal(call(op, &g_leader, "POST", "/v1/clients", client_body(240, "user"), true, &r), 503);
    expect_error(&r, 503, "replay_guard", NULL);
    assert_non_null(strstr(tcn_client_error_message(&r), "retry in"));
    tcn_client_response_free(&r);
    /* Elected long enough ago. */
    atomic_store(&g_leader_since,
                 (uint64_t)tcn_time_now_ms() - TCN_API_REQUEST_SKEW_MS - TCN_API_CLOCK_SPREAD_MS - 1000);
    assert_int_equal(call(op, &g_leader, "POST", "/v1/clients", client_body(240, "user"), true, &r), 200);
    tcn_client_response_free(&r);
    atomic_store(&g_leader_since, 0);
    tcn_client_free(op);
}

/* Connections over the limit fail their handshake; closing one makes room. */
static void test_connection_limit(void **state)
{
    (void)state;
    int fds[2];
    for (int i = 0; i < 2; i++) {
        fds[i] = socket(AF_INET, SOCK_STREAM, 0);
        assert_true(fds[i] >= 0);
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(g_small.port)};
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        assert_int_equal(connect(fds[i], (struct sockaddr *)&a, sizeof(a)), 0);
    }
    usleep(200 * 1000); /* the server accepts both (and counts them) */
    tcn_client *c = client_as(0);
    tcn_client_response r;
    tcn_error e;
    assert_int_not_equal(tcn_client_request(c, url(&g_small), "GET", "/v1/status", NULL, false, &r, &e), TCN_OK);
    tcn_client_response_free(&r);
    close(fds[0]);
    close(fds[1]);
    usleep(200 * 1000);
    assert_int_equal(tcn_client_request(c, url(&g_small), "GET", "/v1/status", NULL, false, &r, &e), TCN_OK);
    assert_int_equal(r.status, 200);
    tcn_client_response_free(&r);
    tcn_client_free(c);
}

/* tcn_api_free with a proposal outstanding: the request is answered (or its
 * connection closed), and the done that comes afterwards frees the orphan. */
typedef struct bg_call {
    int rc;
    long status;
} bg_call;

static void *bg_post(void *arg)
{
    bg_call *b = arg;
    tcn_client *op = client_as(H_OP);
    tcn_client_response r;
    tcn_error e;
    json_t *body = client_body(230, "user");
    b->rc = tcn_client_request(op, url(&g_small), "POST", "/v1/clients", body, true, &r, &e);
    b->status = r.status;
    json_decref(body);
    tcn_client_response_free(&r);
    tcn_client_free(op);
    return NULL;
}

static void free_small_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what, (void)arg;
    tcn_api_free(g_small.api);
    g_small.api = NULL;
    /* The backend learns of the outcome after the API is gone. */
    job *j = g_held;
    g_held = NULL;
    j->done(j->arg, TCN_ERR_NOT_LEADER, NULL);
    free(j->cmd);
    free(j);
    atomic_store(&g_freed, true);
}

static void test_free_with_pending(void **state)
{
    (void)state;
    pthread_t t;
    bg_call b = {0};
    assert_int_equal(pthread_create(&t, NULL, bg_post, &b), 0);
    for (int i = 0; i < 500 && !atomic_load(&g_held_ready); i++)
        usleep(10 * 1000);
    assert_true(atomic_load(&g_held_ready));
    struct timeval tv = {0, 0};
    assert_int_equal(event_base_once(g_base, -1, EV_TIMEOUT, free_small_cb, NULL, &tv), 0);
    pthread_join(t, NULL);
    /* The client may see its connection close inside tcn_api_free, before
     * the callback that freed it has finished: wait for that too. */
    for (int i = 0; i < 500 && !atomic_load(&g_freed); i++)
        usleep(10 * 1000);
    assert_true(atomic_load(&g_freed));
    /* 503, or the connection closed before the answer left. */
    print_message("after tcn_api_free: rc %d status %ld\n", b.rc, b.status);
    assert_true(b.rc != TCN_OK || b.status == 503);
}

/* ---- --serve DIR: the same two nodes for the CLI contract test (tests/cli/test_api_cli.sh) ----
 * Writes DIR/pins.json, DIR/client.key (a user), DIR/operator.key, DIR/leader_url and
 * DIR/follower_url (written last: the script waits for it), then serves until SIGTERM. */

static void stop_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what, (void)arg;
    event_base_loopbreak(g_base);
}

static int write_text(const char *dir, const char *name, const char *text, unsigned mode)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    tcn_error e;
    if (tcn_file_write(path, text, strlen(text), mode, &e) != TCN_OK) {
        fprintf(stderr, "test_api --serve: %s\n", e.msg);
        return -1;
    }
    return 0;
}

static int write_seed(const char *dir, const char *name, uint32_t who)
{
    uint8_t seed[32];
    char hex[66];
    h_seed(who, seed);
    tcn_hex_encode(seed, 32, hex);
    strcat(hex, "\n");
    int rc = write_text(dir, name, hex, 0600);
    tcn_wipe(seed, sizeof(seed));
    tcn_wipe(hex, sizeof(hex));
    return rc;
}

static int serve(const char *dir)
{
    g_log = stderr;
    if (evthread_use_pthreads() != 0)
        return 1;
    h_init(&g_h);
    memcpy(g_group, tcn_state_group_id(g_h.st), 16);
    if (tcn_test_ratls_new(g_group, &g_tls) != 0 || (g_base = event_base_new()) == NULL)
        return 1;
    start_node(&g_leader);
    start_node(&g_follower);
    atomic_store(&g_executor, true);
    char m[97], g[33], k[65], pins[400];
    tcn_hex_encode(g_tls.measurement, 48, m);
    tcn_hex_encode(g_group, 16, g);
    tcn_hex_encode(g_tls.platform_pk, 32, k);
    snprintf(pins, sizeof(pins), "{\"measurement\":\"%s\",\"group_id\":\"%s\",\"sim_platform_pubkey\":\"%s\"}\n",
             m, g, k);
    char lu[80], fu[80];
    snprintf(lu, sizeof(lu), "%s\n", url(&g_leader));
    snprintf(fu, sizeof(fu), "%s\n", url(&g_follower));
    if (write_text(dir, "pins.json", pins, 0644) != 0 || write_seed(dir, "client.key", H_USER) != 0 ||
        write_seed(dir, "operator.key", H_OP) != 0 || write_text(dir, "leader_url", lu, 0644) != 0 ||
        write_text(dir, "follower_url", fu, 0644) != 0)
        return 1;
    struct event *term = evsignal_new(g_base, SIGTERM, stop_cb, NULL);
    struct event *intr = evsignal_new(g_base, SIGINT, stop_cb, NULL);
    if (term == NULL || intr == NULL || event_add(term, NULL) != 0 || event_add(intr, NULL) != 0)
        return 1;
    event_base_dispatch(g_base);
    event_free(term);
    event_free(intr);
    tcn_api_free(g_leader.api);
    tcn_api_free(g_follower.api);
    event_base_free(g_base);
    tcn_test_ratls_free(&g_tls);
    h_free(&g_h);
    return 0;
}

int main(int argc, char **argv)
{
    assert_int_equal(tcn_crypto_init(), TCN_OK);
    signal(SIGPIPE, SIG_IGN); /* a peer that hangs up mid-write (the daemon does the same) */
    if (argc == 3 && strcmp(argv[1], "--serve") == 0)
        return serve(argv[2]);
    assert_int_equal(curl_global_init(CURL_GLOBAL_DEFAULT), CURLE_OK);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reqsig_unit),
        cmocka_unit_test(test_status_attestation_metrics),
        cmocka_unit_test(test_clients_and_refusal),
        cmocka_unit_test(test_signature_checks),
        cmocka_unit_test(test_bad_requests),
        cmocka_unit_test(test_swap_waits_for_open),
        cmocka_unit_test(test_swap_times_out),
        cmocka_unit_test(test_keys_secret_never_leaks),
        cmocka_unit_test(test_client_pins),
        cmocka_unit_test(test_replay_guard),
        cmocka_unit_test(test_connection_limit),
        cmocka_unit_test(test_free_with_pending),
    };
    int rc = cmocka_run_group_tests(tests, setup, teardown);
    curl_global_cleanup();
    return rc;
}
