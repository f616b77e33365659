/* The client API server: evhttp over OpenSSL bufferevents, routing, signed
 * writes turned into commands, pending answers, redirects, metrics. */
#include "node/api.h"

#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <openssl/err.h>

#include "chain/base58.h"
#include "node/api_internal.h"
#include "node/reqsig.h"
#include "util/assert.h"
#include "util/encoding.h"
#include "util/log.h"
#include "util/secmem.h"
#include "util/timefmt.h"

typedef enum {
    P_CLIENT_SET = 1,
    P_KEY_IMPORT,
    P_KEY_POLICY, /* the POLICY_SET that follows a KEY_IMPORT with a policy */
    P_POLICY_SET,
    P_SWAP_CREATE,
    P_PAYOUT,
} pending_kind;

/* A request waiting for a proposal's outcome or for state. Owned by the API
 * while in its list; a proposal's done callback owns it once orphaned. */
typedef struct pending {
    tcn_api *api; /* NULL once orphaned by tcn_api_free */
    struct evhttp_request *req; /* NULL once answered */
    struct pending *prev, *next;
    pending_kind kind;
    uint64_t t0_ms;
    bool proposing;   /* a done callback is outstanding */
    bool waiting;     /* a swap create waiting for OPEN */
    struct event *timer;
    uint64_t id;      /* the object created */
    tcn_chain_pubkey actor;
    tcn_chain_pubkey client; /* CLIENT_SET: who */
    tcn_role role;
    bool has_policy;
    tcn_key_policy policy;
} pending;

enum { CLASS_2XX, CLASS_3XX, CLASS_4XX, CLASS_5XX, CLASS_COUNT };

struct tcn_api {
    struct event_base *base;
    struct evhttp *http;
    SSL_CTX *ssl_ctx;
    tcn_api_backend be;
    tcn_api_options opt;
    uint16_t port;
    struct conn_tracker *conns;
    tcn_reqsig_cache *replay;
    pending *head;
    size_t n_pending;
    uint64_t by_class[CLASS_COUNT];
    uint64_t sig_refused[TCN_REQSIG_CHECK_COUNT_];
    uint64_t replay_full;
};

/* ---- connections ------------------------------------------------------------------- */

/* Counting live connections. Each counted SSL holds the tracker in ex_data,
 * and OpenSSL calls free_conn when the bufferevent frees its SSL. That can
 * happen after tcn_api_free (libevent finalizes bufferevents later, from the
 * loop), so the tracker outlives the API until its last SSL is gone. */
struct conn_tracker {
    size_t live;  /* counted SSLs not yet freed */
    bool api_gone;
};

static int g_conn_idx = -1;

static void free_conn(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp)
{
    (void)parent, (void)ad, (void)idx, (void)argl, (void)argp;
    struct conn_tracker *t = ptr;
    if (t == NULL)
        return;
    TCN_ASSERT(t->live > 0);
    t->live--;
    if (t->api_gone && t->live == 0)
        free(t);
}

static struct bufferevent *bevcb(struct event_base *base, void *arg)
{
    tcn_api *api = arg;
    SSL *ssl = SSL_new(api->ssl_ctx);
    if (ssl == NULL) {
        ERR_clear_error();
        return NULL;
    }
    if (api->conns->live >= api->opt.connections_max) {
        /* Over the limit: a context that allows no protocol version fails
         * the handshake at the ClientHello, so the connection closes at once. */
        SSL_set_min_proto_version(ssl, TLS1_3_VERSION);
        SSL_set_max_proto_version(ssl, TLS1_2_VERSION);
    } else if (SSL_set_ex_data(ssl, g_conn_idx, api->conns) == 1) {
        api->conns->live++;
    }
    struct bufferevent *bev =
        bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
    if (bev == NULL)
        SSL_free(ssl);
    return bev;
}

/* ---- answers ---------------------------------------------------------------------- */

static void count_class(tcn_api *api, int status)
{
    int c = status >= 500 ? CLASS_5XX : status >= 400 ? CLASS_4XX : status >= 300 ? CLASS_3XX : CLASS_2XX;
    api->by_class[c]++;
}

static const char *method_name(enum evhttp_cmd_type m)
{
    switch (m) {
    case EVHTTP_REQ_GET:
        return "GET";
    case EVHTTP_REQ_POST:
        return "POST";
    case EVHTTP_REQ_PUT:
        return "PUT";
    case EVHTTP_REQ_DELETE:
        return "DELETE";
    case EVHTTP_REQ_HEAD:
        return "HEAD";
    case EVHTTP_REQ_OPTIONS:
        return "OPTIONS";
    case EVHTTP_REQ_PATCH:
        return "PATCH";
    default:
        return "OTHER";
    }
}

/* The log line: method, path (no query: it is the client's), status, ms. Never a body. */
static void log_request(tcn_api *api, struct evhttp_request *req, int status, uint64_t t0_ms)
{
    const struct evhttp_uri *u = evhttp_request_get_evhttp_uri(req);
    const char *path = u != NULL ? evhttp_uri_get_path(u) : NULL;
    char st[8], ms[24];
    snprintf(st, sizeof(st), "%d", status);
    uint64_t now = api->be.now_ms(api->be.ctx);
    snprintf(ms, sizeof(ms), "%" PRIu64, now >= t0_ms ? now - t0_ms : 0);
    tcn_log(status >= 500 ? TCN_LOG_WARN : TCN_LOG_INFO, "api request", "method",
            method_name(evhttp_request_get_command(req)), "path", path != NULL ? path : "?", "status", st, "ms", ms,
            NULL);
}

static void send_body(tcn_api *api, struct evhttp_request *req, int status, const char *ctype, const void *p,
                      size_t n, uint64_t t0_ms)
{
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    evhttp_add_header(h, "Content-Type", ctype);
    evhttp_add_header(h, "Cache-Control", "no-store");
    struct evbuffer *b = evbuffer_new();
    if (b != NULL && n > 0)
        (void)evbuffer_add(b, p, n);
    count_class(api, status);
    log_request(api, req, status, t0_ms);
    evhttp_send_reply(req, status, NULL, b);
    if (b != NULL)
        evbuffer_free(b);
}

/* Answers with o (stolen; NULL = out of memory). */
static void reply_json(tcn_api *api, struct evhttp_request *req, int status, json_t *o, uint64_t t0_ms)
{
    char *s = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    if (s == NULL) {
        static const char oom[] = "{\"error\":{\"code\":\"internal\",\"message\":\"out of memory\"}}";
        send_body(api, req, 500, "application/json", oom, sizeof(oom) - 1, t0_ms);
        return;
    }
    send_body(api, req, status, "application/json", s, strlen(s), t0_ms);
    free(s);
}

/* {"error":{"code","message","field"?,...extra}} */
static void reply_error(tcn_api *api, struct evhttp_request *req, int status, const char *code, const char *field,
                        const char *msg, uint64_t t0_ms)
{
    json_t *e = json_pack("{s:s,s:s}", "code", code, "message", msg);
    if (e != NULL && field != NULL)
        json_object_set_new(e, "field", json_string(field));
    reply_json(api, req, status, e != NULL ? json_pack("{s:o}", "error", e) : NULL, t0_ms);
}

static void reply_bad(tcn_api *api, struct evhttp_request *req, const api_bad *bad, uint64_t t0_ms)
{
    json_t *e = json_pack("{s:s,s:o,s:s}", "code", "bad_request", "field",
                          bad->field != NULL ? json_string(bad->field) : json_null(), "message", bad->msg);
    reply_json(api, req, 400, e != NULL ? json_pack("{s:o}", "error", e) : NULL, t0_ms);
}

/* An apply refusal (state.h tcn_state_result) as an answer. */
static void reply_refusal(tcn_api *api, struct evhttp_request *req, int code, const char *reason, uint64_t t0_ms)
{
    int status = 500;
    const char *name = "internal";
    switch (code) {
    case TCN_ERR_POLICY:
        status = 403, name = "policy";
        break;
    case TCN_ERR_USAGE:
        status = 422, name = "refused";
        break;
    case TCN_ERR_BUSY:
        status = 409, name = "busy";
        break;
    case TCN_ERR_BINDING:
        status = 500, name = "binding";
        break;
    default:
        break;
    }
    reply_error(api, req, status, name, NULL, reason, t0_ms);
}

/* ---- pending requests -------------------------------------------------------------- */

static pending *pending_new(tcn_api *api, struct evhttp_request *req, pending_kind kind, uint64_t t0_ms)
{
    if (api->n_pending >= TCN_API_PENDING_MAX)
        return NULL;
    pending *p = calloc(1, sizeof(*p));
    if (p == NULL)
        return NULL;
    p->api = api;
    p->req = req;
    p->kind = kind;
    p->t0_ms = t0_ms;
    p->next = api->head;
    if (api->head != NULL)
        api->head->prev = p;
    api->head = p;
    api->n_pending++;
    return p;
}

static void pending_unlink(pending *p)
{
    tcn_api *api = p->api;
    if (api == NULL)
        return;
    if (p->prev != NULL)
        p->prev->next = p->next;
    else
        api->head = p->next;
    if (p->next != NULL)
        p->next->prev = p->prev;
    p->prev = p->next = NULL;
    api->n_pending--;
}

static void pending_free(pending *p)
{
    if (p->timer != NULL)
        event_free(p->timer);
    tcn_wipe(p, sizeof(*p));
    free(p);
}

/* Done with p's request: unlinks and frees unless a done callback is still to come. */
static void pending_finish(pending *p)
{
    p->req = NULL;
    if (p->timer != NULL) {
        event_free(p->timer);
        p->timer = NULL;
    }
    p->waiting = false;
    if (p->proposing)
        return;
    pending_unlink(p);
    pending_free(p);
}

static void proposal_done(void *arg, int code, const tcn_state_result *res);

/* Encodes c (wiped here), proposes it for p. On failure answers and finishes p. */
static void propose(pending *p, tcn_cmd *c)
{
    tcn_api *api = p->api;
    tcn_buf b = {0};
    tcn_error err;
    int rc = tcn_cmd_encode(c, &b, &err);
    tcn_cmd_wipe(c);
    if (rc != TCN_OK) {
        tcn_buf_free_wipe(&b);
        reply_error(api, p->req, rc == TCN_ERR_NOMEM ? 503 : 400, rc == TCN_ERR_NOMEM ? "unavailable" : "bad_request",
                    NULL, err.msg, p->t0_ms);
        pending_finish(p);
        return;
    }
    p->proposing = true;
    rc = api->be.propose(api->be.ctx, b.p, b.len, proposal_done, p);
    tcn_buf_free_wipe(&b);
    if (rc != TCN_OK) {
        p->proposing = false;
        reply_error(api, p->req, 503, rc == TCN_ERR_NOT_LEADER ? "not_leader" : "unavailable", NULL,
                    "the node could not propose the command; retry", p->t0_ms);
        pending_finish(p);
    }
}

static void cmd_init(tcn_api *api, tcn_cmd *c, uint8_t type, const tcn_chain_pubkey *actor)
{
    memset(c, 0, sizeof(*c));
    c->type = type;
    c->ts_ms = api->be.now_ms(api->be.ctx);
    c->actor = *actor;
}

static bool swap_ready(const tcn_state *st, uint64_t id, tcn_swap_view *v)
{
    return tcn_state_swap(st, id, v) && v->status != TCN_SWAP_NEW && v->refund_len > 0;
}

/* 201 with the refund, or 202 without it (the client polls). */
static void answer_swap(pending *p, int status)
{
    tcn_api *api = p->api;
    tcn_swap_view v;
    json_t *o = NULL;
    if (tcn_state_swap(api->be.state(api->be.ctx), p->id, &v)) {
        json_t *s = api_swap_json(api->be.state(api->be.ctx), &v);
        if (s != NULL) {
            o = json_pack("{s:O,s:O,s:O,s:O,s:O,s:O}", "swap_id", json_object_get(s, "swap_id"), "state",
                          json_object_get(s, "state"), "escrow", json_object_get(s, "escrow"), "nonce_account",
                          json_object_get(s, "nonce_account"), "refund_tx",
                          status == 201 ? json_object_get(s, "refund_tx") : json_null(), "refund_nonce",
                          status == 201 ? json_object_get(s, "refund_nonce") : json_null());
            json_decref(s);
        }
    }
    reply_json(api, p->req, status, o, p->t0_ms);
    pending_finish(p);
}

static void swap_timeout(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    pending *p = arg;
    answer_swap(p, 202);
}

static void proposal_done(void *arg, int code, const tcn_state_result *res)
{
    pending *p = arg;
    p->proposing = false;
    if (p->api == NULL || p->req == NULL) { /* orphaned by tcn_api_free, or answered */
        if (p->api == NULL)
            pending_free(p);
        else
            pending_finish(p);
        return;
    }
    tcn_api *api = p->api;
    if (code != TCN_OK) {
        reply_error(api, p->req, 503, code == TCN_ERR_NOT_LEADER ? "not_leader" : "unavailable", NULL,
                    /* Raft: a deposed leader's entry may still be committed by
                     * the next one, so the outcome is unknown, not "failed". */
                    code == TCN_ERR_NOT_LEADER
                        ? "leadership changed before the command was known to commit: it may still commit; "
                          "look (GET) before retrying"
                        : "the command was not known to commit in time: it may still commit; look (GET) before "
                          "retrying",
                    p->t0_ms);
        pending_finish(p);
        return;
    }
    TCN_ASSERT(res != NULL);
    if (res->code != TCN_OK && p->kind != P_KEY_POLICY) {
        reply_refusal(api, p->req, res->code, res->reason, p->t0_ms);
        pending_finish(p);
        return;
    }
    const tcn_state *st = api->be.state(api->be.ctx);
    switch (p->kind) {
    case P_CLIENT_SET:
        reply_json(api, p->req, 200,
                   json_pack("{s:o,s:s}", "pubkey", api_pubkey_json(&p->client), "role", api_role_name(p->role)),
                   p->t0_ms);
        break;
    case P_KEY_IMPORT:
        p->id = res->id;
        if (p->has_policy) {
            tcn_cmd c;
            cmd_init(api, &c, TCN_CMD_POLICY_SET, &p->actor);
            c.u.policy_set.key_id = p->id;
            c.u.policy_set.policy = p->policy;
            p->kind = P_KEY_POLICY;
            propose(p, &c);
            return;
        }
        /* fall through */
    case P_KEY_POLICY:
    case P_POLICY_SET: {
        tcn_key_view k;
        uint64_t id = p->id;
        json_t *o = NULL;
        if (tcn_state_key(st, id, &k)) {
            o = api_key_json(&k);
            if (o != NULL && p->kind == P_KEY_POLICY && res->code != TCN_OK)
                json_object_set_new(o, "policy_error", json_string(res->reason));
        }
        reply_json(api, p->req, p->kind == P_POLICY_SET ? 200 : 201, o, p->t0_ms);
        break;
    }
    case P_SWAP_CREATE: {
        p->id = res->id;
        tcn_swap_view v;
        if (swap_ready(st, p->id, &v)) {
            answer_swap(p, 201);
            return;
        }
        p->timer = evtimer_new(api->base, swap_timeout, p);
        struct timeval tv = {.tv_sec = api->opt.swap_wait_ms / 1000, .tv_usec = (api->opt.swap_wait_ms % 1000) * 1000};
        if (p->timer == NULL || evtimer_add(p->timer, &tv) != 0) {
            answer_swap(p, 202);
            return;
        }
        p->waiting = true;
        return;
    }
    case P_PAYOUT:
        reply_json(api, p->req, 201, json_pack("{s:o}", "payout_id", api_u64_json(res->id)), p->t0_ms);
        break;
    }
    pending_finish(p);
}

void tcn_api_on_applied(tcn_api *api)
{
    const tcn_state *st = api->be.state(api->be.ctx);
    pending *p = api->head;
    while (p != NULL) {
        pending *next = p->next;
        tcn_swap_view v;
        if (p->waiting && p->req != NULL && swap_ready(st, p->id, &v))
            answer_swap(p, 201);
        p = next;
    }
}

/* ---- request helpers --------------------------------------------------------------- */

typedef struct request {
    tcn_api *api;
    struct evhttp_request *req;
    uint64_t t0_ms;
    const char *target; /* as sent, with the query */
    const char *path;   /* without the query */
    enum evhttp_cmd_type method;
    uint8_t *body;      /* contiguous in the request's evbuffer (wiped when done) */
    size_t body_len;
    tcn_chain_pubkey actor;
} request;

/* Wipes the body in place (it may hold a secret) and drains it. */
static void body_wipe(request *r)
{
    struct evbuffer *in = evhttp_request_get_input_buffer(r->req);
    if (r->body != NULL)
        tcn_wipe(r->body, r->body_len);
    evbuffer_drain(in, evbuffer_get_length(in));
    r->body = NULL;
    r->body_len = 0;
}

/* A write: to the leader, after genesis, signed by a client holding a role,
 * never seen before. Answers and returns false otherwise. */
static bool write_gate(request *r)
{
    tcn_api *api = r->api;
    if (!api->be.writable(api->be.ctx)) {
        char leader[TCN_API_ADDR_CHARS_MAX + 1];
        bool known = api->be.leader_api(api->be.ctx, leader, sizeof(leader)) && leader[0] != '\0';
        for (const char *c = leader; known && *c != '\0'; c++) /* host:port, [v6]:port: nothing else */
            known = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
                    strchr(".-:[]", *c) != NULL;
        if (!known) {
            reply_error(api, r->req, 503, "no_leader", NULL, "this node is not the leader and knows no leader; retry",
                        r->t0_ms);
            return false;
        }
        size_t n = strlen(leader) + strlen(r->target) + 16;
        char *loc = malloc(n);
        if (loc == NULL) {
            reply_error(api, r->req, 503, "unavailable", NULL, "out of memory", r->t0_ms);
            return false;
        }
        snprintf(loc, n, "https://%s%s", leader, r->target);
        evhttp_add_header(evhttp_request_get_output_headers(r->req), "Location", loc);
        json_t *o = json_pack("{s:{s:s,s:s,s:s}}", "error", "code", "not_leader", "message",
                              "writes go to the leader", "leader_api", leader);
        free(loc);
        reply_json(api, r->req, 307, o, r->t0_ms);
        return false;
    }
    const tcn_state *st = api->be.state(api->be.ctx);
    if (!tcn_state_has_genesis(st)) {
        reply_error(api, r->req, 503, "no_genesis", NULL, "the network has no genesis yet", r->t0_ms);
        return false;
    }
    struct evkeyvalq *h = evhttp_request_get_input_headers(r->req);
    tcn_reqsig_verified v;
    tcn_reqsig_check check;
    tcn_error err;
    if (tcn_reqsig_verify(evhttp_find_header(h, TCN_REQSIG_HEADER_KEY), evhttp_find_header(h, TCN_REQSIG_HEADER_TS),
                          evhttp_find_header(h, TCN_REQSIG_HEADER_SIG), method_name(r->method), r->target,
                          tcn_state_group_id(st), r->body, r->body_len, api->be.now_ms(api->be.ctx),
                          TCN_API_REQUEST_SKEW_MS, &v, &check, &err) != TCN_OK) {
        api->sig_refused[check]++;
        reply_error(api, r->req, 401, tcn_reqsig_check_name(check), NULL, err.msg, r->t0_ms);
        return false;
    }
    /* The replay guard: after a failover, a request the previous leader
     * accepted may be replayed here within its window; our cache never saw
     * it, so refuse whatever was signed before that window has passed. */
    if (api->be.leader_since_ms != NULL) {
        uint64_t open_ms = api->be.leader_since_ms(api->be.ctx) + TCN_API_REQUEST_SKEW_MS + TCN_API_CLOCK_SPREAD_MS;
        if (v.ts_ms <= open_ms) {
            char m[160];
            snprintf(m, sizeof(m), "this node became leader recently; writes signed before %" PRIu64
                     " (unix ms) could be replays; retry in %" PRIu64 " ms", open_ms,
                     open_ms - (v.ts_ms < open_ms ? v.ts_ms : open_ms) + 1);
            reply_error(api, r->req, 503, "replay_guard", NULL, m, r->t0_ms);
            return false;
        }
    }
    /* Only keys with a role reach the replay cache, so strangers cannot fill it. */
    if (tcn_state_client_role(st, &v.key) == TCN_ROLE_NONE) {
        reply_error(api, r->req, 403, "unknown_client", NULL, "the signing key holds no role in this network",
                    r->t0_ms);
        return false;
    }
    int rc = tcn_reqsig_cache_insert(api->replay, &v.sig, v.ts_ms, api->be.now_ms(api->be.ctx));
    if (rc == TCN_ERR_BAD_SIGNATURE) {
        api->sig_refused[TCN_REQSIG_REPLAY]++;
        reply_error(api, r->req, 401, "replay", NULL, "reqsig: replay: this signature was already used", r->t0_ms);
        return false;
    }
    if (rc != TCN_OK) {
        api->replay_full++;
        reply_error(api, r->req, 503, "busy", NULL, "too many signed requests in the last window; retry", r->t0_ms);
        return false;
    }
    r->actor = v.key;
    return true;
}

/* The body as a JSON object (duplicate keys refused). */
static json_t *body_json(request *r)
{
    json_error_t je;
    json_t *o = json_loadb((const char *)r->body, r->body_len, JSON_REJECT_DUPLICATES, &je);
    if (o == NULL) {
        api_bad bad = {.field = NULL};
        /* jansson's message may quote the input near the error: keep only its kind. */
        snprintf(bad.msg, sizeof(bad.msg), "the body is not valid JSON (at byte %d)", je.position);
        if (strstr(je.text, "too big") != NULL)
            snprintf(bad.msg, sizeof(bad.msg), "an integer is out of range (at byte %d; amounts are 0..2^63-1)",
                     je.position);
        reply_bad(r->api, r->req, &bad, r->t0_ms);
        return NULL;
    }
    if (!json_is_object(o)) {
        json_decref(o);
        api_bad bad = {.field = NULL, .msg = "the body must be a JSON object"};
        reply_bad(r->api, r->req, &bad, r->t0_ms);
        return NULL;
    }
    return o;
}

static pending *pending_or_503(request *r, pending_kind kind)
{
    pending *p = pending_new(r->api, r->req, kind, r->t0_ms);
    if (p == NULL)
        reply_error(r->api, r->req, 503, "busy", NULL, "too many requests in progress; retry", r->t0_ms);
    else
        p->actor = r->actor;
    return p;
}

/* ---- handlers ---------------------------------------------------------------------- */

static void h_attestation(request *r)
{
    tcn_api *api = r->api;
    tcn_buf der = {0};
    tcn_claims *claims = calloc(1, sizeof(*claims));
    uint8_t group[TCN_STATE_GROUP_ID_LEN];
    bool has_group = false;
    tcn_api_status *s = calloc(1, sizeof(*s));
    if (claims == NULL || s == NULL ||
        api->be.attestation(api->be.ctx, &der, claims, group, &has_group) != TCN_OK) {
        reply_error(api, r->req, 503, "unavailable", NULL, "no attestation available", r->t0_ms);
        goto out;
    }
    api->be.status(api->be.ctx, s);
    size_t n = tcn_b64_encoded_len(der.len);
    char *cert = malloc(n), m[2 * TCN_MEASUREMENT_MAX + 1], g[2 * TCN_STATE_GROUP_ID_LEN + 1];
    if (cert == NULL) {
        reply_error(api, r->req, 503, "unavailable", NULL, "out of memory", r->t0_ms);
        goto out;
    }
    tcn_b64_encode(der.p, der.len, cert, n);
    tcn_hex_encode(claims->measurement, claims->measurement_len, m);
    tcn_hex_encode(group, sizeof(group), g);
    reply_json(api, r->req, 200,
               json_pack("{s:s,s:o,s:s,s:s,s:o,s:s,s:o}", "name", s->name, "node_id", api_u64_json(s->node_id), "tee",
                         tcn_tee_name(claims->tee), "measurement", m, "group_id",
                         has_group ? json_string(g) : json_null(), "certificate", cert, "claims",
                         tcn_claims_to_json(claims)),
               r->t0_ms);
    free(cert);
out:
    tcn_buf_free(&der);
    free(claims);
    free(s);
}

static void h_status(request *r)
{
    tcn_api_status *s = calloc(1, sizeof(*s));
    if (s == NULL) {
        reply_error(r->api, r->req, 503, "unavailable", NULL, "out of memory", r->t0_ms);
        return;
    }
    r->api->be.status(r->api->be.ctx, s);
    json_t *o = api_status_json(s);
    free(s);
    /* The network's public identity once it exists: the coordinator key
     * (it pays for nonce accounts: fund it) and the group id. */
    const tcn_state *st = r->api->be.state(r->api->be.ctx);
    if (o != NULL && tcn_state_has_genesis(st)) {
        char g[2 * TCN_STATE_GROUP_ID_LEN + 1];
        tcn_hex_encode(tcn_state_group_id(st), TCN_STATE_GROUP_ID_LEN, g);
        json_object_set_new(o, "coordinator", api_pubkey_json(tcn_state_coordinator_key(st)));
        json_object_set_new(o, "group_id", json_string(g));
    } else if (o != NULL) {
        json_object_set_new(o, "coordinator", json_null());
        json_object_set_new(o, "group_id", json_null());
    }
    reply_json(r->api, r->req, 200, o, r->t0_ms);
}

static void h_metrics(request *r)
{
    tcn_api *api = r->api;
    tcn_buf b = {0};
    if (api->be.metrics != NULL)
        api->be.metrics(api->be.ctx, &b);
    static const char *const classes[CLASS_COUNT] = {"2xx", "3xx", "4xx", "5xx"};
    char line[256];
    int n = snprintf(line, sizeof(line), "# TYPE tcn_api_requests_total counter\n");
    int rc = tcn_buf_append(&b, line, (size_t)n);
    for (int i = 0; i < CLASS_COUNT && rc == TCN_OK; i++) {
        /* This request is counted when it is answered, after the text is made. */
        n = snprintf(line, sizeof(line), "tcn_api_requests_total{class=\"%s\"} %" PRIu64 "\n", classes[i],
                     api->by_class[i]);
        rc = tcn_buf_append(&b, line, (size_t)n);
    }
    n = snprintf(line, sizeof(line), "# TYPE tcn_api_signature_refusals_total counter\n");
    if (rc == TCN_OK)
        rc = tcn_buf_append(&b, line, (size_t)n);
    for (int i = 1; i < TCN_REQSIG_CHECK_COUNT_ && rc == TCN_OK; i++) {
        n = snprintf(line, sizeof(line), "tcn_api_signature_refusals_total{check=\"%s\"} %" PRIu64 "\n",
                     tcn_reqsig_check_name((tcn_reqsig_check)i), api->sig_refused[i]);
        rc = tcn_buf_append(&b, line, (size_t)n);
    }
    n = snprintf(line, sizeof(line),
                 "# TYPE tcn_api_replay_cache_full_total counter\ntcn_api_replay_cache_full_total %" PRIu64
                 "\n# TYPE tcn_api_connections gauge\ntcn_api_connections %zu\n# TYPE tcn_api_pending gauge\n"
                 "tcn_api_pending %zu\n",
                 api->replay_full, api->conns->live, api->n_pending);
    if (rc == TCN_OK)
        rc = tcn_buf_append(&b, line, (size_t)n);
    if (rc != TCN_OK)
        reply_error(api, r->req, 503, "unavailable", NULL, "out of memory", r->t0_ms);
    else
        send_body(api, r->req, 200, "text/plain; version=0.0.4", b.p, b.len, r->t0_ms);
    tcn_buf_free(&b);
}

static void h_clients_post(request *r)
{
    static const char *const allowed[] = {"pubkey", "role", NULL};
    json_t *o = body_json(r);
    if (o == NULL)
        return;
    api_bad bad = {0};
    tcn_chain_pubkey pk;
    tcn_role role = TCN_ROLE_NONE;
    const json_t *rv = json_object_get(o, "role");
    if (!api_json_fields(o, allowed, &bad) || !api_json_pubkey(o, "pubkey", true, NULL, &pk, &bad)) {
        reply_bad(r->api, r->req, &bad, r->t0_ms);
    } else if (!json_is_string(rv) || !api_role_parse(json_string_value(rv), &role)) {
        bad.field = "role";
        snprintf(bad.msg, sizeof(bad.msg), "role must be one of \"user\", \"lp\", \"operator\", \"none\"");
        reply_bad(r->api, r->req, &bad, r->t0_ms);
    } else {
        pending *p = pending_or_503(r, P_CLIENT_SET);
        if (p != NULL) {
            p->client = pk;
            p->role = role;
            tcn_cmd c;
            cmd_init(r->api, &c, TCN_CMD_CLIENT_SET, &r->actor);
            c.u.client_set.client = pk;
            c.u.client_set.role = (uint8_t)role;
            propose(p, &c);
        }
    }
    json_decref(o);
}

/* Wipes a JSON string's bytes in jansson's own storage before it is freed. */
static void json_string_wipe(json_t *v)
{
    if (json_is_string(v))
        tcn_wipe((char *)json_string_value(v), json_string_length(v));
}

static void h_keys_post(request *r)
{
    static const char *const allowed[] = {"kind", "secret", "policy", NULL};
    json_t *o = body_json(r);
    if (o == NULL)
        return;
    api_bad bad = {0};
    tcn_cmd *c = tcn_secure_alloc(sizeof(*c));
    json_t *kind = json_object_get(o, "kind"), *secret = json_object_get(o, "secret");
    json_t *pol = json_object_get(o, "policy");
    tcn_key_policy policy;
    bool has_policy = pol != NULL && !json_is_null(pol);
    if (c == NULL) {
        reply_error(r->api, r->req, 503, "unavailable", NULL, "out of memory", r->t0_ms);
        goto out;
    }
    cmd_init(r->api, c, TCN_CMD_KEY_IMPORT, &r->actor);
    if (!api_json_fields(o, allowed, &bad)) {
        reply_bad(r->api, r->req, &bad, r->t0_ms);
        goto out;
    }
    if (!json_is_string(kind) ||
        (strcmp(json_string_value(kind), "ed25519_seed") != 0 && strcmp(json_string_value(kind), "frost_share") != 0)) {
        bad = (api_bad){.field = "kind", .msg = "kind must be \"ed25519_seed\" or \"frost_share\""};
        reply_bad(r->api, r->req, &bad, r->t0_ms);
        goto out;
    }
    bool seed = strcmp(json_string_value(kind), "ed25519_seed") == 0;
    c->u.key_import.kind = seed ? TCN_KEY_ED25519_SEED : TCN_KEY_FROST_SHARE;
    size_t n = 0;
    tcn_error e;
    if (!json_is_string(secret) ||
        tcn_b64_decode(json_string_value(secret), json_string_length(secret), c->u.key_import.secret,
                       sizeof(c->u.key_import.secret), &n, &e) != TCN_OK ||
        (seed ? n != TCN_CHAIN_SEED_LEN : (n == 0 || n > TCN_STATE_SHARE_BYTES_MAX))) {
        /* The message never quotes the value. */
        bad = (api_bad){.field = "secret",
                        .msg = "secret must be base64 of 32 bytes (an Ed25519 seed) or 1..64 bytes (a share)"};
        reply_bad(r->api, r->req, &bad, r->t0_ms);
        goto out;
    }
    c->u.key_import.len = (uint16_t)n;
    if (has_policy && !api_json_policy(pol, "policy", &policy, &bad)) {
        reply_bad(r->api, r->req, &bad, r->t0_ms);
        goto out;
    }
    pending *p = pending_or_503(r, P_KEY_IMPORT);
    if (p != NULL) {
        p->has_policy = has_policy;
        if (has_policy)
            p->policy = policy;
        propose(p, c); /* wipes c */
    }
out:
    if (c != NULL)
        tcn_cmd_wipe(c);
    tcn_secure_free(c);
    json_string_wipe(secret);
    json_decref(o);
}

static void h_keys_get(request *r)
{
    const tcn_state *st = r->api->be.state(r->api->be.ctx);
    json_t *a = json_array();
    tcn_key_view k;
    for (uint64_t id = 1; a != NULL && tcn_state_key(st, id, &k); id++)
        if (json_array_append_new(a, api_key_json(&k)) != 0) {
            json_decref(a);
            a = NULL;
        }
    reply_json(r->api, r->req, 200, a != NULL ? json_pack("{s:o}", "keys", a) : NULL, r->t0_ms);
}

/* A decimal id 1..2^63-1 in a path segment of length n. */
static bool parse_id(const char *s, size_t n, uint64_t *out)
{
    if (n == 0 || n > 19 || s[0] == '0')
        return false;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    *out = v;
    return true;
}

static void h_key_policy_put(request *r, const char *ref, size_t ref_len)
{
    const tcn_state *st = r->api->be.state(r->api->be.ctx);
    uint64_t id = 0;
    tcn_key_view k;
    if (!parse_id(ref, ref_len, &id)) {
        tcn_chain_pubkey pk;
        tcn_error e;
        if (tcn_chain_base58_decode_exact(ref, ref_len, pk.b, sizeof(pk.b), "key", &e) == TCN_OK)
            id = api_key_by_pubkey(st, &pk);
    }
    if (id == 0 || !tcn_state_key(st, id, &k)) {
        reply_error(r->api, r->req, 404, "not_found", NULL, "no such key (a key id or an Ed25519 public key)", r->t0_ms);
        return;
    }
    json_t *o = body_json(r);
    if (o == NULL)
        return;
    api_bad bad = {0};
    tcn_cmd c;
    cmd_init(r->api, &c, TCN_CMD_POLICY_SET, &r->actor);
    c.u.policy_set.key_id = id;
    if (!api_json_policy(o, "policy", &c.u.policy_set.policy, &bad)) {
        reply_bad(r->api, r->req, &bad, r->t0_ms);
    } else {
        pending *p = pending_or_503(r, P_POLICY_SET);
        if (p != NULL) {
            p->id = id;
            propose(p, &c);
        }
    }
    json_decref(o);
}

static void h_swaps_post(request *r)
{
    static const char *const allowed[] = {"amount", "lp", "refund_to", "deadline", "escrow_key", "policy", NULL};
    tcn_api *api = r->api;
    json_t *o = body_json(r);
    if (o == NULL)
        return;
    api_bad bad = {0};
    tcn_cmd *c = tcn_secure_alloc(sizeof(*c));
    if (c == NULL) {
        reply_error(api, r->req, 503, "unavailable", NULL, "out of memory", r->t0_ms);
        json_decref(o);
        return;
    }
    cmd_init(api, c, TCN_CMD_SWAP_CREATE, &r->actor);
    tcn_chain_pubkey escrow;
    bool has_escrow = false, has_deadline = false;
    const json_t *pol = json_object_get(o, "policy");
    uint64_t deadline = 0;
    if (!api_json_fields(o, allowed, &bad) || !api_json_u64(o, "amount", true, NULL, &c->u.swap_create.amount, &bad) ||
        !api_json_pubkey(o, "lp", true, NULL, &c->u.swap_create.lp, &bad) ||
        !api_json_pubkey(o, "refund_to", true, NULL, &c->u.swap_create.refund_to, &bad) ||
        !api_json_time(o, "deadline", false, &has_deadline, &deadline, &bad) ||
        !api_json_pubkey(o, "escrow_key", false, &has_escrow, &escrow, &bad) ||
        (pol != NULL && !json_is_null(pol) && !api_json_policy(pol, "policy", &c->u.swap_create.policy, &bad))) {
        reply_bad(api, r->req, &bad, r->t0_ms);
        goto out;
    }
    if (c->u.swap_create.amount == 0) {
        bad = (api_bad){.field = "amount", .msg = "amount must be above 0"};
        reply_bad(api, r->req, &bad, r->t0_ms);
        goto out;
    }
    /* Without a deadline: TCN_API_DEFAULT_DEADLINE_MS from now. */
    c->u.swap_create.deadline_ms = has_deadline ? deadline : c->ts_ms + TCN_API_DEFAULT_DEADLINE_MS;
    if (has_escrow) {
        if (pol != NULL && !json_is_null(pol)) {
            bad = (api_bad){.field = "policy", .msg = "policy applies to a generated escrow; set an imported key's policy with PUT /v1/keys/{key}/policy"};
            reply_bad(api, r->req, &bad, r->t0_ms);
            goto out;
        }
        c->u.swap_create.escrow_key_id = api_key_by_pubkey(api->be.state(api->be.ctx), &escrow);
        if (c->u.swap_create.escrow_key_id == 0) {
            bad = (api_bad){.field = "escrow_key", .msg = "escrow_key is not a delegated Ed25519 key of this network"};
            reply_bad(api, r->req, &bad, r->t0_ms);
            goto out;
        }
    } else {
        api->be.random(api->be.ctx, c->u.swap_create.escrow_seed, TCN_CHAIN_SEED_LEN);
    }
    api->be.random(api->be.ctx, c->u.swap_create.nonce_seed, TCN_CHAIN_SEED_LEN);
    pending *p = pending_or_503(r, P_SWAP_CREATE);
    if (p != NULL)
        propose(p, c); /* wipes c */
out:
    tcn_cmd_wipe(c);
    tcn_secure_free(c);
    json_decref(o);
}

static void h_swap_get(request *r, uint64_t id)
{
    const tcn_state *st = r->api->be.state(r->api->be.ctx);
    tcn_swap_view v;
    if (!tcn_state_swap(st, id, &v)) {
        reply_error(r->api, r->req, 404, "not_found", NULL, "no such swap", r->t0_ms);
        return;
    }
    reply_json(r->api, r->req, 200, api_swap_json(st, &v), r->t0_ms);
}

static void h_payouts_post(request *r, uint64_t swap_id)
{
    static const char *const allowed[] = {"to", "amount", "at", NULL};
    tcn_swap_view v;
    if (!tcn_state_swap(r->api->be.state(r->api->be.ctx), swap_id, &v)) {
        reply_error(r->api, r->req, 404, "not_found", NULL, "no such swap", r->t0_ms);
        return;
    }
    json_t *o = body_json(r);
    if (o == NULL)
        return;
    api_bad bad = {0};
    tcn_cmd c;
    cmd_init(r->api, &c, TCN_CMD_PAYOUT_SCHEDULE, &r->actor);
    c.u.payout_schedule.swap_id = swap_id;
    if (!api_json_fields(o, allowed, &bad) ||
        !api_json_pubkey(o, "to", true, NULL, &c.u.payout_schedule.destination, &bad) ||
        !api_json_u64(o, "amount", true, NULL, &c.u.payout_schedule.amount, &bad) ||
        !api_json_time(o, "at", true, NULL, &c.u.payout_schedule.due_ms, &bad)) {
        reply_bad(r->api, r->req, &bad, r->t0_ms);
    } else {
        pending *p = pending_or_503(r, P_PAYOUT);
        if (p != NULL)
            propose(p, &c);
    }
    json_decref(o);
}

/* ---- cluster (operator) ------------------------------------------------------------ */

/* A node id as status prints it: 16 hex digits (1..16 accepted). */
static bool node_id_field(const json_t *o, const char *field, bool required, uint64_t *out, api_bad *bad)
{
    const json_t *v = json_object_get(o, field);
    *out = 0;
    if (v == NULL && !required)
        return true;
    const char *s = json_string_value(v);
    size_t n = s ? strlen(s) : 0;
    bool ok = n >= 1 && n <= 16;
    for (size_t i = 0; ok && i < n; i++) {
        char c = s[i];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        ok = d >= 0;
        *out = *out << 4 | (uint64_t)(d < 0 ? 0 : d);
    }
    if (!ok || *out == 0) {
        bad->field = field;
        snprintf(bad->msg, sizeof(bad->msg), "%s must be a node id: 1 to 16 lowercase hex digits, not zero", field);
        return false;
    }
    return true;
}

static void h_cluster(request *r, bool replace)
{
    static const char *const allowed_replace[] = {"old", "new", NULL};
    static const char *const allowed_transfer[] = {"to", NULL};
    tcn_api *api = r->api;
    if (tcn_state_client_role(api->be.state(api->be.ctx), &r->actor) != TCN_ROLE_OPERATOR) {
        reply_error(api, r->req, 403, "forbidden", NULL, "cluster changes need an operator key", r->t0_ms);
        return;
    }
    if ((replace && api->be.cluster_replace == NULL) || (!replace && api->be.cluster_transfer == NULL)) {
        reply_error(api, r->req, 404, "not_found", NULL, "no cluster control on this node", r->t0_ms);
        return;
    }
    json_t *o = body_json(r);
    if (o == NULL)
        return;
    api_bad bad = {0};
    uint64_t a = 0, b = 0;
    tcn_error err;
    tcn_err_clear(&err);
    if (!api_json_fields(o, replace ? allowed_replace : allowed_transfer, &bad) ||
        !node_id_field(o, replace ? "old" : "to", true, &a, &bad) ||
        (replace && !node_id_field(o, "new", false, &b, &bad))) {
        reply_bad(api, r->req, &bad, r->t0_ms);
    } else {
        int rc = replace ? api->be.cluster_replace(api->be.ctx, a, b, &err) : api->be.cluster_transfer(api->be.ctx, a, &err);
        if (rc == TCN_OK)
            reply_json(api, r->req, 202, json_pack("{s:s}", "result", "started"), r->t0_ms);
        else
            reply_error(api, r->req, rc == TCN_ERR_NOT_FOUND ? 404 : rc == TCN_ERR_BUSY ? 409 : 422,
                        rc == TCN_ERR_NOT_FOUND ? "not_found" : rc == TCN_ERR_BUSY ? "busy" : "refused", NULL, err.msg,
                        r->t0_ms);
    }
    json_decref(o);
}

/* ---- routing --------------------------------------------------------------------- */

static void not_allowed(request *r, const char *allow)
{
    evhttp_add_header(evhttp_request_get_output_headers(r->req), "Allow", allow);
    reply_error(r->api, r->req, 405, "method_not_allowed", NULL, "method not allowed on this path", r->t0_ms);
}

static bool is(const request *r, enum evhttp_cmd_type m)
{
    return r->method == m;
}

static void route(request *r)
{
    const char *p = r->path;
    if (strcmp(p, "/v1/attestation") == 0) {
        is(r, EVHTTP_REQ_GET) ? h_attestation(r) : not_allowed(r, "GET");
    } else if (strcmp(p, "/v1/status") == 0) {
        is(r, EVHTTP_REQ_GET) ? h_status(r) : not_allowed(r, "GET");
    } else if (strcmp(p, "/metrics") == 0) {
        is(r, EVHTTP_REQ_GET) ? h_metrics(r) : not_allowed(r, "GET");
    } else if (strcmp(p, "/v1/cluster/replace") == 0 || strcmp(p, "/v1/cluster/transfer") == 0) {
        if (!is(r, EVHTTP_REQ_POST))
            not_allowed(r, "POST");
        else if (write_gate(r))
            h_cluster(r, strcmp(p, "/v1/cluster/replace") == 0);
    } else if (strcmp(p, "/v1/clients") == 0) {
        if (!is(r, EVHTTP_REQ_POST))
            not_allowed(r, "POST");
        else if (write_gate(r))
            h_clients_post(r);
    } else if (strcmp(p, "/v1/keys") == 0) {
        if (is(r, EVHTTP_REQ_GET))
            h_keys_get(r);
        else if (!is(r, EVHTTP_REQ_POST))
            not_allowed(r, "GET, POST");
        else if (write_gate(r))
            h_keys_post(r);
    } else if (strncmp(p, "/v1/keys/", 9) == 0 && strchr(p + 9, '/') != NULL &&
               strcmp(strchr(p + 9, '/'), "/policy") == 0) {
        if (!is(r, EVHTTP_REQ_PUT))
            not_allowed(r, "PUT");
        else if (write_gate(r))
            h_key_policy_put(r, p + 9, (size_t)(strchr(p + 9, '/') - (p + 9)));
    } else if (strcmp(p, "/v1/swaps") == 0) {
        if (!is(r, EVHTTP_REQ_POST))
            not_allowed(r, "POST");
        else if (write_gate(r))
            h_swaps_post(r);
    } else if (strncmp(p, "/v1/swaps/", 10) == 0) {
        const char *id_s = p + 10, *slash = strchr(id_s, '/');
        size_t n = slash != NULL ? (size_t)(slash - id_s) : strlen(id_s);
        uint64_t id;
        if (!parse_id(id_s, n, &id) || (slash != NULL && strcmp(slash, "/payouts") != 0)) {
            reply_error(r->api, r->req, 404, "not_found", NULL, "no such resource", r->t0_ms);
        } else if (slash == NULL) {
            is(r, EVHTTP_REQ_GET) ? h_swap_get(r, id) : not_allowed(r, "GET");
        } else if (!is(r, EVHTTP_REQ_POST)) {
            not_allowed(r, "POST");
        } else if (write_gate(r)) {
            h_payouts_post(r, id);
        }
    } else {
        reply_error(r->api, r->req, 404, "not_found", NULL, "no such resource", r->t0_ms);
    }
}

static void gencb(struct evhttp_request *req, void *arg)
{
    tcn_api *api = arg;
    request r = {.api = api, .req = req, .t0_ms = api->be.now_ms(api->be.ctx)};
    r.method = evhttp_request_get_command(req);
    r.target = evhttp_request_get_uri(req);
    const struct evhttp_uri *u = evhttp_request_get_evhttp_uri(req);
    r.path = u != NULL ? evhttp_uri_get_path(u) : NULL;
    if (r.target == NULL || r.path == NULL || r.path[0] != '/') {
        reply_error(api, req, 404, "not_found", NULL, "no such resource", r.t0_ms);
        return;
    }
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    r.body_len = evbuffer_get_length(in);
    if (r.body_len > 0) {
        r.body = evbuffer_pullup(in, -1);
        if (r.body == NULL) {
            reply_error(api, req, 503, "unavailable", NULL, "out of memory", r.t0_ms);
            return;
        }
    }
    route(&r);
    body_wipe(&r);
}

/* ---- life ------------------------------------------------------------------------ */

int tcn_api_new(struct event_base *base, SSL_CTX *ssl_ctx, const tcn_api_backend *be, const tcn_api_options *opt,
                tcn_api **out, tcn_error *err)
{
    TCN_ENSURE(base != NULL && ssl_ctx != NULL && be != NULL && opt != NULL && opt->host != NULL, err, TCN_ERR_USAGE,
               "api: base, TLS context, backend and host are required");
    TCN_ENSURE(be->state != NULL && be->status != NULL && be->writable != NULL && be->leader_api != NULL &&
                   be->now_ms != NULL && be->random != NULL && be->propose != NULL && be->attestation != NULL,
               err, TCN_ERR_USAGE, "api: the backend lacks a callback");
    if (g_conn_idx < 0) {
        g_conn_idx = SSL_get_ex_new_index(0, NULL, NULL, NULL, free_conn);
        TCN_ENSURE(g_conn_idx >= 0, err, TCN_ERR_CRYPTO, "api: no SSL ex_data index");
    }
    tcn_api *api = calloc(1, sizeof(*api));
    TCN_ENSURE(api != NULL, err, TCN_ERR_NOMEM, "api: out of memory");
    api->base = base;
    api->be = *be;
    api->opt = *opt;
    api->opt.host = NULL;
    if (api->opt.swap_wait_ms == 0)
        api->opt.swap_wait_ms = TCN_API_SWAP_WAIT_MS;
    if (api->opt.connections_max == 0)
        api->opt.connections_max = TCN_API_CONNECTIONS_MAX;
    if (api->opt.replay_max == 0)
        api->opt.replay_max = TCN_API_REPLAY_ENTRIES_MAX;
    api->conns = calloc(1, sizeof(*api->conns));
    if (api->conns == NULL) {
        free(api);
        return tcn_err_set(err, TCN_ERR_NOMEM, "api: out of memory");
    }
    int rc = tcn_reqsig_cache_new(api->opt.replay_max, TCN_API_REQUEST_SKEW_MS, &api->replay, err);
    if (rc != TCN_OK) {
        free(api->conns);
        free(api);
        return rc;
    }
    SSL_CTX_up_ref(ssl_ctx);
    api->ssl_ctx = ssl_ctx;
    api->http = evhttp_new(base);
    if (api->http == NULL) {
        tcn_api_free(api);
        return tcn_err_set(err, TCN_ERR_NOMEM, "api: evhttp_new failed");
    }
    evhttp_set_bevcb(api->http, bevcb, api);
    evhttp_set_gencb(api->http, gencb, api);
    evhttp_set_max_body_size(api->http, TCN_API_BODY_MAX);
    evhttp_set_max_headers_size(api->http, TCN_API_HEADERS_MAX);
    evhttp_set_timeout(api->http, TCN_API_IO_TIMEOUT_S);
    evhttp_set_allowed_methods(api->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
                                              EVHTTP_REQ_HEAD | EVHTTP_REQ_OPTIONS | EVHTTP_REQ_PATCH);
    struct evhttp_bound_socket *sock = evhttp_bind_socket_with_handle(api->http, opt->host, opt->port);
    if (sock == NULL) {
        tcn_api_free(api);
        return tcn_err_set(err, TCN_ERR_IO, "api: cannot listen on %s port %u", opt->host, (unsigned)opt->port);
    }
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    /* Answers are small and latency is the point: no Nagle delay. Linux
     * copies the option from the listening socket to every accepted one. */
    int one = 1;
    (void)setsockopt(evhttp_bound_socket_get_fd(sock), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (getsockname(evhttp_bound_socket_get_fd(sock), (struct sockaddr *)&ss, &sl) == 0)
        api->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                                   : ((struct sockaddr_in *)&ss)->sin_port);
    *out = api;
    return TCN_OK;
}

uint16_t tcn_api_port(const tcn_api *api)
{
    return api->port;
}

void tcn_api_free(tcn_api *api)
{
    if (api == NULL)
        return;
    pending *p = api->head;
    while (p != NULL) {
        pending *next = p->next;
        if (p->req != NULL)
            reply_error(api, p->req, 503, "unavailable", NULL, "the node is shutting down", p->t0_ms);
        p->req = NULL;
        if (p->timer != NULL) {
            event_free(p->timer);
            p->timer = NULL;
        }
        p->prev = p->next = NULL;
        if (p->proposing)
            p->api = NULL; /* orphaned: its done callback frees it */
        else
            pending_free(p);
        p = next;
    }
    api->head = NULL;
    api->n_pending = 0;
    if (api->http != NULL)
        evhttp_free(api->http); /* closes the connections; their SSLs may be freed later */
    api->conns->api_gone = true;
    if (api->conns->live == 0)
        free(api->conns);
    SSL_CTX_free(api->ssl_ctx);
    tcn_reqsig_cache_free(api->replay);
    free(api);
}
