/* Benchmark: committed writes through the network's client API, and the
 * time from a leader's kill -9 to the first committed write — the same load
 * generator for tcn (signed POST /v1/swaps/{id}/payouts over RA-TLS) and for
 * etcd (POST /v3/kv/put on its JSON gateway over TLS), so the two are
 * measured the same way. Driven by bench/writes.sh and bench/failover.sh.
 *
 *   bench_writes tcn DEVNET_DIR CLIENTS SECONDS [--new-conn]
 *   bench_writes etcd URL[,URL...] CLIENTS SECONDS CACERT
 *   bench_writes tcn-failover DEVNET_DIR
 *   bench_writes etcd-failover URL=PID[,URL=PID...] CACERT
 *
 * Throughput: CLIENTS threads, each with its own libcurl easy handle reused
 * for every request (one TLS connection kept alive; the RA-TLS check runs
 * once per connection in the handshake), each sending one write at a time
 * to the leader for SECONDS after every thread has made its connection and
 * one warm-up write. A write's latency runs from before its signature is
 * made to the end of the answer. Prints one JSON line: writes/s, p50, p99,
 * max, errors. --new-conn uses the project's client library
 * (tcn_client_request), which makes a new connection — a full RA-TLS
 * handshake — per request.
 *
 * tcn writes: PAYOUT_SCHEDULE of 1,000 lamports due 6 days ahead (the
 * executor has nothing to do for them) to swaps made before the clock
 * starts; a swap takes at most TCN_STATE_SWAP_PAYOUTS_MAX (64) payouts, so
 * each thread owns enough swaps for SWAP_WRITES_CAP writes a second.
 *
 * Failover: finds the leader, kills it with SIGKILL, and from that instant
 * (CLOCK_MONOTONIC) starts a new write every POLL_MS, alternating between
 * the survivors (a libcurl multi handle: idle connections are reused, a
 * write that hangs does not delay the next); the first 2xx answer ends it.
 * tcn-failover also schedules payouts due every PAYOUT_EVERY_MS across the
 * kill on a funded swap and watches their destinations on the ledger. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>
#include <openssl/ssl.h>
#include <sodium.h>

#include "attest/sim.h"
#include "cli/client.h"
#include "node/reqsig.h"
#include "tls/ratls.h"
#include "chain/base58.h"
#include "util/encoding.h"
#include "util/timefmt.h"

#define POLL_MS 5
#define SWAP_WRITES_CAP 3000 /* writes/s a run can sustain before threads run out of swaps (BENCH_EXPECT_WPS) */
#define PAYOUT_EVERY_MS 50
#define PAYOUTS_ACROSS 24
#define FAILOVER_GIVE_UP_MS 30000

__attribute__((format(printf, 1, 2), noreturn)) static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "bench_writes: ");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

static uint64_t mono_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000u + (uint64_t)t.tv_nsec / 1000u;
}

static void sleep_us(uint64_t us)
{
    struct timespec t = {(time_t)(us / 1000000u), (long)(us % 1000000u) * 1000L};
    while (nanosleep(&t, &t) != 0 && errno == EINTR) {
    }
}

/* ---- answers ------------------------------------------------------------------------ */

typedef struct sink {
    char *p;
    size_t len, cap;
} sink;

static size_t sink_cb(char *p, size_t size, size_t n, void *arg)
{
    sink *s = arg;
    size_t len = size * n;
    if (s->len + len + 1 > s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 4096;
        while (cap < s->len + len + 1)
            cap *= 2;
        char *q = realloc(s->p, cap);
        if (q == NULL)
            return 0;
        s->p = q;
        s->cap = cap;
    }
    memcpy(s->p + s->len, p, len);
    s->len += len;
    s->p[s->len] = '\0';
    return len;
}

/* ---- tcn: the RA-TLS check in curl's handshake (pins from the devnet dir) ----------- */

static tcn_client_pins g_pins;
static uint8_t g_seed[TCN_CLIENT_SEED_LEN];
static tcn_ratls_policy g_pol;
static const char *g_cacert; /* etcd */

static int ratls_verify(X509_STORE_CTX *xs, void *arg)
{
    (void)arg;
    STACK_OF(X509) *chain = X509_STORE_CTX_get0_untrusted(xs);
    tcn_ratls_peer *rp = calloc(1, sizeof(*rp));
    tcn_error err;
    tcn_err_clear(&err);
    int ok = rp != NULL && chain != NULL && sk_X509_num(chain) == 1 &&
             tcn_ratls_verify_cert(X509_STORE_CTX_get0_cert(xs), &g_pol, rp, &err) == TCN_OK;
    free(rp);
    if (!ok) {
        fprintf(stderr, "bench_writes: node refused: %s\n", err.msg);
        X509_STORE_CTX_set_error(xs, X509_V_ERR_CERT_REJECTED);
        return 0;
    }
    X509_STORE_CTX_set_error(xs, X509_V_OK);
    return 1;
}

static CURLcode ratls_ctx_cb(CURL *curl, void *ssl_ctx, void *arg)
{
    (void)curl;
    (void)arg;
    SSL_CTX *ctx = ssl_ctx;
    SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
    SSL_CTX_set_cert_verify_callback(ctx, ratls_verify, NULL);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    return CURLE_OK;
}

static void tcn_setup(const char *dir)
{
    char path[4096];
    tcn_error err;
    tcn_err_clear(&err);
    snprintf(path, sizeof(path), "%s/pins.json", dir);
    if (tcn_client_load_pins(path, &g_pins, &err) != TCN_OK)
        die("%s", err.msg);
    snprintf(path, sizeof(path), "%s/client.key", dir);
    if (tcn_client_load_key(path, g_seed, &err) != TCN_OK)
        die("%s", err.msg);
    if (!g_pins.has_measurement || !g_pins.has_group || !g_pins.has_sim_key)
        die("%s: pins.json lacks the measurement, group or sim key", dir);
    tcn_ratls_policy_default(&g_pol);
    g_pol.attest.measurement_self = false;
    if (tcn_policy_add_measurement(&g_pol.attest, g_pins.measurement, g_pins.measurement_len, &err) != TCN_OK ||
        tcn_policy_add_sim_key(&g_pol.attest, g_pins.sim_key, &err) != TCN_OK)
        die("%s", err.msg);
    tcn_ratls_policy_pin_group(&g_pol, g_pins.group_id);
}

/* A curl handle set up for one node (tcn: RA-TLS; etcd: the CA file). */
static CURL *handle_new(bool tcn, long timeout_ms)
{
    CURL *c = curl_easy_init();
    if (c == NULL)
        die("curl_easy_init");
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(c, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(c, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
    if (tcn) {
        curl_easy_setopt(c, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_3);
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
        curl_easy_setopt(c, CURLOPT_SSL_SESSIONID_CACHE, 0L);
        /* No CA bundle: the RA-TLS check replaces chain building, and loading
         * the system bundle costs ~10-30 ms per new connection. */
        curl_easy_setopt(c, CURLOPT_CAINFO, NULL);
        curl_easy_setopt(c, CURLOPT_CAPATH, NULL);
        curl_easy_setopt(c, CURLOPT_SSL_CTX_FUNCTION, ratls_ctx_cb);
    } else {
        curl_easy_setopt(c, CURLOPT_CAINFO, g_cacert);
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
    }
    return c;
}

/* One request on handle c; the answer in s (reset first); returns the status (0: no answer). */
static long perform(CURL *c, const char *url, const char *body, struct curl_slist *hdrs, sink *s)
{
    s->len = 0;
    if (s->p)
        s->p[0] = '\0';
    curl_easy_setopt(c, CURLOPT_URL, url);
    if (body != NULL) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    } else {
        curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink_cb);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, s);
    if (curl_easy_perform(c) != CURLE_OK)
        return 0;
    long st = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &st);
    return st;
}

/* The signed headers for method+path+body, appended to a fresh list. */
static struct curl_slist *signed_headers(const char *method, const char *path, const char *body)
{
    tcn_reqsig_headers rh;
    tcn_error err;
    tcn_err_clear(&err);
    if (tcn_reqsig_sign(g_seed, method, path, (uint64_t)tcn_time_now_ms(), g_pins.group_id, (const uint8_t *)body,
                        body ? strlen(body) : 0, &rh, &err) != TCN_OK)
        die("sign: %s", err.msg);
    char line[160];
    struct curl_slist *h = curl_slist_append(NULL, "Expect:");
    h = curl_slist_append(h, "Content-Type: application/json");
    snprintf(line, sizeof(line), "%s: %s", TCN_REQSIG_HEADER_KEY, rh.key);
    h = curl_slist_append(h, line);
    snprintf(line, sizeof(line), "%s: %s", TCN_REQSIG_HEADER_TS, rh.ts);
    h = curl_slist_append(h, line);
    snprintf(line, sizeof(line), "%s: %s", TCN_REQSIG_HEADER_SIG, rh.sig);
    h = curl_slist_append(h, line);
    return h;
}

static json_t *devnet_json(const char *dir)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/devnet.json", dir);
    json_error_t je;
    json_t *o = json_load_file(path, 0, &je);
    if (o == NULL)
        die("cannot read devnet.json: %s", je.text);
    return o;
}

/* The leader's API address ("127.0.0.1:port"), asked of the first node that answers. */
static void tcn_leader(json_t *net, char *out, size_t cap)
{
    CURL *c = handle_new(true, 2000);
    sink s = {0};
    for (int tries = 0; tries < 200; tries++) {
        size_t i;
        json_t *nd;
        json_array_foreach(json_object_get(net, "nodes"), i, nd)
        {
            char url[256];
            snprintf(url, sizeof(url), "https://%s/v1/status", json_string_value(json_object_get(nd, "api")));
            if (perform(c, url, NULL, NULL, &s) != 200)
                continue;
            json_t *st = json_loads(s.p, 0, NULL);
            const char *la = json_string_value(json_object_get(st, "leader_api"));
            if (la != NULL) {
                snprintf(out, cap, "%s", la);
                json_decref(st);
                curl_easy_cleanup(c);
                free(s.p);
                return;
            }
            json_decref(st);
        }
        sleep_us(50000);
    }
    die("no leader found");
}

/* A signed POST to base+path; returns the status, the answer in s. */
static long tcn_post(CURL *c, const char *base, const char *path, const char *body, sink *s)
{
    char url[512];
    snprintf(url, sizeof(url), "https://%s%s", base, path);
    struct curl_slist *h = signed_headers("POST", path, body);
    long st = perform(c, url, body, h, s);
    curl_slist_free_all(h);
    return st;
}

static void random_pubkey(char out[TCN_CHAIN_BASE58_PUBKEY_CHARS])
{
    tcn_chain_pubkey pk;
    randombytes_buf(pk.b, sizeof(pk.b));
    tcn_chain_pubkey_to_base58(&pk, out);
}

/* Creates a swap of `amount` lamports; returns its id and escrow (out, may be NULL). */
static long tcn_swap_create(CURL *c, const char *leader, uint64_t amount, char *escrow, size_t cap)
{
    char pk[TCN_CHAIN_BASE58_PUBKEY_CHARS], body[512];
    random_pubkey(pk);
    snprintf(body, sizeof(body), "{\"amount\":%llu,\"lp\":\"%s\",\"refund_to\":\"%s\"}", (unsigned long long)amount,
             pk, pk);
    sink s = {0};
    long st = tcn_post(c, leader, "/v1/swaps", body, &s);
    json_t *o = json_loads(s.p ? s.p : "", 0, NULL);
    long id = (st == 201 || st == 202) ? (long)json_integer_value(json_object_get(o, "swap_id")) : -1;
    if (id > 0 && escrow != NULL)
        snprintf(escrow, cap, "%s", json_string_value(json_object_get(o, "escrow")));
    if (id <= 0)
        fprintf(stderr, "bench_writes: swap create: %ld %s\n", st, s.p ? s.p : "");
    json_decref(o);
    free(s.p);
    return id;
}

static int etcd_leader(char **urls, int n);

/* ---- throughput ------------------------------------------------------------------------ */

typedef struct worker {
    pthread_t th;
    int idx;
    bool tcn, new_conn;
    const char *target; /* tcn: leader api; etcd: https URL */
    const char *dir;
    long *swaps;
    size_t n_swaps, swap_at, in_swap;
    uint32_t *lat_us;
    size_t n_lat, cap_lat;
    uint64_t errors;
    char first_error[256];
} worker;

static volatile int g_phase; /* 0 warm-up, 1 measuring, 2 stop */
static pthread_barrier_t g_ready;
static char g_due[40];
static tcn_client *g_lib; /* --new-conn */

static void record(worker *w, uint64_t us)
{
    if (w->n_lat == w->cap_lat) {
        w->cap_lat = w->cap_lat ? w->cap_lat * 2 : 65536;
        w->lat_us = realloc(w->lat_us, w->cap_lat * sizeof(*w->lat_us));
        if (w->lat_us == NULL)
            die("out of memory");
    }
    w->lat_us[w->n_lat++] = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
}

static void note_error(worker *w, long st, const char *text)
{
    w->errors++;
    if (w->first_error[0] == '\0')
        snprintf(w->first_error, sizeof(w->first_error), "%ld %.200s", st, text ? text : "");
}

/* One write; true when it committed. */
static bool write_once(worker *w, CURL *c, uint64_t seq, sink *s)
{
    if (w->tcn) {
        if (w->in_swap == 63) {
            w->in_swap = 0;
            w->swap_at++;
        }
        if (w->swap_at >= w->n_swaps) {
            note_error(w, 0, "out of swaps");
            return false;
        }
        char path[96], body[256], to[TCN_CHAIN_BASE58_PUBKEY_CHARS];
        random_pubkey(to);
        snprintf(path, sizeof(path), "/v1/swaps/%ld/payouts", w->swaps[w->swap_at]);
        snprintf(body, sizeof(body), "{\"to\":\"%s\",\"amount\":1000,\"at\":\"%s\"}", to, g_due);
        w->in_swap++;
        long st;
        if (w->new_conn) {
            json_t *b = json_loads(body, 0, NULL);
            tcn_client_response r;
            memset(&r, 0, sizeof(r));
            tcn_error err;
            tcn_err_clear(&err);
            char base[300];
            snprintf(base, sizeof(base), "https://%s", w->target);
            int rc = tcn_client_request(g_lib, base, "POST", path, b, true, &r, &err);
            st = rc == TCN_OK ? r.status : 0;
            if (st != 201)
                note_error(w, st, rc == TCN_OK ? r.text : err.msg);
            tcn_client_response_free(&r);
            json_decref(b);
            return st == 201;
        }
        st = tcn_post(c, w->target, path, body, s);
        if (st != 201) {
            note_error(w, st, s->p);
            return false;
        }
        return true;
    }
    /* etcd: a 100-byte value under a key unique to this thread and write. */
    char key[64], kb[128], val[101], vb[160], body[400], url[300];
    int kl = snprintf(key, sizeof(key), "bench/%03d/%012llu", w->idx, (unsigned long long)seq);
    memset(val, 'v', 100);
    tcn_b64_encode((const uint8_t *)key, (size_t)kl, kb, sizeof(kb));
    tcn_b64_encode((const uint8_t *)val, 100, vb, sizeof(vb));
    snprintf(body, sizeof(body), "{\"key\":\"%s\",\"value\":\"%s\"}", kb, vb);
    snprintf(url, sizeof(url), "%s/v3/kv/put", w->target);
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    long st = perform(c, url, body, h, s);
    curl_slist_free_all(h);
    if (st != 200 || s->p == NULL || strstr(s->p, "\"header\"") == NULL) {
        note_error(w, st, s->p);
        return false;
    }
    return true;
}

static void *worker_main(void *arg)
{
    worker *w = arg;
    CURL *c = handle_new(w->tcn, 30000);
    sink s = {0};
    uint64_t seq = 0;
    for (size_t k = 0; w->tcn && k < w->n_swaps; k++)
        if ((w->swaps[k] = tcn_swap_create(c, w->target, 1000000000000ull, NULL, 0)) <= 0)
            die("cannot create a swap");
    /* Warm-up: the connection and one write, before the clock starts. */
    (void)write_once(w, c, seq++, &s);
    w->errors = 0;
    w->first_error[0] = '\0';
    pthread_barrier_wait(&g_ready);
    while (g_phase == 0)
        sleep_us(100);
    while (g_phase == 1) {
        uint64_t t0 = mono_us();
        bool ok = write_once(w, c, seq++, &s);
        uint64_t t1 = mono_us();
        if (g_phase != 1)
            break; /* answered after the end: not counted */
        if (ok)
            record(w, t1 - t0);
        else if (w->tcn && w->swap_at >= w->n_swaps)
            break;
    }
    curl_easy_cleanup(c);
    free(s.p);
    return NULL;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static double pct_ms(const uint32_t *v, size_t n, double p)
{
    if (n == 0)
        return 0;
    size_t i = (size_t)(p * (double)(n - 1) + 0.5);
    return v[i] / 1000.0;
}

static int run_load(bool tcn, const char *where, int clients, double seconds, bool new_conn, const char *cacert)
{
    char leader[256] = "";
    json_t *net = NULL;
    worker *ws = calloc((size_t)clients, sizeof(*ws));
    if (tcn) {
        tcn_setup(where);
        net = devnet_json(where);
        tcn_leader(net, leader, sizeof(leader));
        tcn_time_format_rfc3339(tcn_time_now_ms() + 6LL * 86400000LL, g_due, sizeof(g_due));
        if (new_conn) {
            tcn_client_config cfg;
            memset(&cfg, 0, sizeof(cfg));
            cfg.pins = g_pins;
            cfg.has_key = true;
            memcpy(cfg.seed, g_seed, sizeof(g_seed));
            tcn_error err;
            tcn_err_clear(&err);
            if (tcn_client_new(&cfg, &g_lib, &err) != TCN_OK)
                die("%s", err.msg);
        }
        /* The swaps: each thread makes its own before the clock starts. */
        double expect = getenv("BENCH_EXPECT_WPS") ? atof(getenv("BENCH_EXPECT_WPS")) : SWAP_WRITES_CAP;
        size_t per = (size_t)((expect * seconds) / (63.0 * clients)) + 2;
        if (getenv("BENCH_SWAPS_PER_CLIENT")) /* a fixed number: a client stops when they are full */
            per = (size_t)atol(getenv("BENCH_SWAPS_PER_CLIENT"));
        for (int i = 0; i < clients; i++) {
            ws[i].swaps = calloc(per, sizeof(long));
            ws[i].n_swaps = per;
        }
        fprintf(stderr, "bench_writes: making %zu swaps (%zu per client)\n", per * (size_t)clients, per);
    } else {
        g_cacert = cacert;
    }
    /* etcd: every client to the leader, as for tcn. */
    char etcd_url[4096] = "";
    if (!tcn) {
        char *copy = strdup(where), *urls[8];
        int n = 0;
        for (char *tok = strtok(copy, ","); tok && n < 8; tok = strtok(NULL, ","))
            urls[n++] = tok;
        snprintf(etcd_url, sizeof(etcd_url), "%s", urls[etcd_leader(urls, n)]);
        free(copy);
    }
    pthread_barrier_init(&g_ready, NULL, (unsigned)clients + 1);
    g_phase = 0;
    for (int i = 0; i < clients; i++) {
        ws[i].idx = i;
        ws[i].tcn = tcn;
        ws[i].new_conn = new_conn;
        ws[i].target = tcn ? leader : etcd_url;
        pthread_create(&ws[i].th, NULL, worker_main, &ws[i]);
    }
    uint64_t tp = mono_us();
    pthread_barrier_wait(&g_ready);
    if (tcn)
        fprintf(stderr, "bench_writes: swaps made and connections warm in %.1f s\n", (double)(mono_us() - tp) / 1e6);
    if (getenv("BENCH_KILL_BEFORE")) { /* diagnosis only: e.g. the ledger, so executor steps fail at once */
        pid_t victim = (pid_t)atoi(getenv("BENCH_KILL_BEFORE"));
        if (victim <= 1)
            die("BENCH_KILL_BEFORE: not a pid: %s", getenv("BENCH_KILL_BEFORE"));
        kill(victim, SIGKILL);
        sleep_us(300000);
    }
    uint64_t t0 = mono_us();
    g_phase = 1;
    sleep_us((uint64_t)(seconds * 1e6));
    g_phase = 2;
    uint64_t t1 = mono_us();
    size_t n = 0;
    uint64_t errors = 0;
    const char *first_error = "";
    for (int i = 0; i < clients; i++) {
        pthread_join(ws[i].th, NULL);
        n += ws[i].n_lat;
        errors += ws[i].errors;
        if (first_error[0] == '\0' && ws[i].first_error[0] != '\0')
            first_error = ws[i].first_error;
    }
    uint32_t *all = malloc((n ? n : 1) * sizeof(uint32_t));
    size_t k = 0;
    for (int i = 0; i < clients; i++) {
        memcpy(all + k, ws[i].lat_us, ws[i].n_lat * sizeof(uint32_t));
        k += ws[i].n_lat;
    }
    qsort(all, n, sizeof(uint32_t), cmp_u32);
    double el = (double)(t1 - t0) / 1e6;
    json_t *o = json_pack("{s:s,s:i,s:f,s:I,s:f,s:f,s:f,s:f,s:I,s:s,s:b}", "system", tcn ? "tcn" : "etcd", "clients",
                          clients, "seconds", el, "writes", (json_int_t)n, "writes_per_s", (double)n / el, "p50_ms",
                          pct_ms(all, n, 0.50), "p99_ms", pct_ms(all, n, 0.99), "max_ms",
                          n ? all[n - 1] / 1000.0 : 0.0, "errors", (json_int_t)errors, "first_error", first_error,
                          "new_conn", new_conn);
    char *txt = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(6));
    printf("%s\n", txt);
    free(txt);
    json_decref(o);
    json_decref(net);
    return 0;
}

/* ---- failover ------------------------------------------------------------------------------ */

/* Polls with writes from the kill on: a new write every POLL_MS, alternately
 * to each target; returns the ms from t_kill_us to the first 2xx. */
static double poll_until_commit(bool tcn, char **targets, int n_targets, uint64_t t_kill_us, int *attempts)
{
    CURLM *m = curl_multi_init();
    typedef struct req {
        CURL *c;
        sink s;
        struct curl_slist *h;
        char body[400];
    } req;
    int started = 0;
    uint64_t next = t_kill_us;
    double result = -1;
    int running = 0;
    while (result < 0) {
        uint64_t now = mono_us();
        if (now - t_kill_us > (uint64_t)FAILOVER_GIVE_UP_MS * 1000u)
            break;
        if (now >= next) {
            req *r = calloc(1, sizeof(*r));
            r->c = handle_new(tcn, 5000);
            const char *t = targets[started % n_targets];
            char url[512];
            if (tcn) {
                char to[TCN_CHAIN_BASE58_PUBKEY_CHARS];
                random_pubkey(to);
                snprintf(r->body, sizeof(r->body), "{\"to\":\"%s\",\"amount\":1000,\"at\":\"%s\"}", to, g_due);
                r->h = signed_headers("POST", "/v1/swaps/1/payouts", r->body);
                snprintf(url, sizeof(url), "https://%s/v1/swaps/1/payouts", t);
            } else {
                char kb[64], vb[160];
                char key[32];
                int kl = snprintf(key, sizeof(key), "failover/%06d", started);
                char val[100];
                memset(val, 'v', sizeof(val));
                tcn_b64_encode((const uint8_t *)key, (size_t)kl, kb, sizeof(kb));
                tcn_b64_encode((const uint8_t *)val, sizeof(val), vb, sizeof(vb));
                snprintf(r->body, sizeof(r->body), "{\"key\":\"%s\",\"value\":\"%s\"}", kb, vb);
                r->h = curl_slist_append(NULL, "Content-Type: application/json");
                snprintf(url, sizeof(url), "%s/v3/kv/put", t);
            }
            curl_easy_setopt(r->c, CURLOPT_URL, url);
            curl_easy_setopt(r->c, CURLOPT_POSTFIELDS, r->body);
            curl_easy_setopt(r->c, CURLOPT_HTTPHEADER, r->h);
            curl_easy_setopt(r->c, CURLOPT_WRITEFUNCTION, sink_cb);
            curl_easy_setopt(r->c, CURLOPT_WRITEDATA, &r->s);
            curl_easy_setopt(r->c, CURLOPT_PRIVATE, r);
            curl_easy_setopt(r->c, CURLOPT_CONNECTTIMEOUT_MS, 1000L);
            curl_multi_add_handle(m, r->c);
            started++;
            next += POLL_MS * 1000u;
        }
        curl_multi_perform(m, &running);
        CURLMsg *msg;
        int q;
        while ((msg = curl_multi_info_read(m, &q)) != NULL) {
            if (msg->msg != CURLMSG_DONE)
                continue;
            req *r;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&r);
            long st = 0;
            if (msg->data.result == CURLE_OK)
                curl_easy_getinfo(r->c, CURLINFO_RESPONSE_CODE, &st);
            bool ok = tcn ? st == 201 : (st == 200 && r->s.p && strstr(r->s.p, "\"header\"") != NULL);
            if (ok && result < 0)
                result = (double)(mono_us() - t_kill_us) / 1000.0;
            if (getenv("BENCH_DEBUG"))
                fprintf(stderr, "  %.1f ms: %ld %.80s\n", (double)(mono_us() - t_kill_us) / 1000.0, st,
                        msg->data.result == CURLE_OK ? (r->s.p ? r->s.p : "") : curl_easy_strerror(msg->data.result));
            curl_multi_remove_handle(m, r->c);
            curl_easy_cleanup(r->c);
            curl_slist_free_all(r->h);
            free(r->s.p);
            free(r);
        }
        uint64_t now2 = mono_us();
        int wait_ms = next > now2 ? (int)((next - now2 + 999) / 1000) : 0;
        if (wait_ms > 0)
            curl_multi_poll(m, NULL, 0, wait_ms, NULL);
    }
    /* Abandon what is still in flight. */
    CURL **hs = NULL;
    (void)hs;
    curl_multi_cleanup(m);
    *attempts = started;
    return result;
}

/* The ledger's view of some accounts' balances: getMultipleAccounts over plain HTTP. */
static int ledger_balances(CURL *c, const char *rpc, char (*keys)[TCN_CHAIN_BASE58_PUBKEY_CHARS], int n, long long *out)
{
    json_t *arr = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(arr, json_string(keys[i]));
    json_t *req = json_pack("{s:s,s:i,s:s,s:[o,{s:s,s:s}]}", "jsonrpc", "2.0", "id", 1, "method",
                            "getMultipleAccounts", "params", arr, "encoding", "base64", "commitment", "confirmed");
    char *body = json_dumps(req, JSON_COMPACT);
    json_decref(req);
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    sink s = {0};
    curl_easy_setopt(c, CURLOPT_URL, rpc);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink_cb);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
    CURLcode cc = curl_easy_perform(c);
    curl_slist_free_all(h);
    free(body);
    if (cc != CURLE_OK) {
        free(s.p);
        return -1;
    }
    json_t *o = json_loads(s.p, 0, NULL);
    free(s.p);
    json_t *v = json_object_get(json_object_get(o, "result"), "value");
    if (!json_is_array(v) || (int)json_array_size(v) != n) {
        json_decref(o);
        return -1;
    }
    for (int i = 0; i < n; i++) {
        json_t *a = json_array_get(v, (size_t)i);
        out[i] = json_is_object(a) ? (long long)json_integer_value(json_object_get(a, "lamports")) : 0;
    }
    json_decref(o);
    return 0;
}

static void airdrop(const char *rpc, const char *to, unsigned long long lamports)
{
    CURL *c = curl_easy_init();
    char body[256];
    snprintf(body, sizeof(body), "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"requestAirdrop\",\"params\":[\"%s\",%llu]}",
             to, lamports);
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    sink s = {0};
    curl_easy_setopt(c, CURLOPT_URL, rpc);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink_cb);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
    if (curl_easy_perform(c) != CURLE_OK || s.p == NULL || strstr(s.p, "\"result\"") == NULL)
        die("airdrop failed: %s", s.p);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    free(s.p);
}

static int run_tcn_failover(const char *dir)
{
    tcn_setup(dir);
    json_t *net = devnet_json(dir);
    char leader[256];
    tcn_leader(net, leader, sizeof(leader));
    tcn_time_format_rfc3339(tcn_time_now_ms() + 6LL * 86400000LL, g_due, sizeof(g_due));
    const char *rpc = json_string_value(json_object_get(json_object_get(net, "ledger"), "url"));
    CURL *c = handle_new(true, 30000);
    /* Swap 1: the polling writes' target. Swap 2: funded, its payouts due every PAYOUT_EVERY_MS across the kill. */
    char escrow[TCN_CHAIN_BASE58_PUBKEY_CHARS];
    if (tcn_swap_create(c, leader, 1000000000000ull, NULL, 0) != 1)
        die("swap 1 is not swap 1");
    long sw = tcn_swap_create(c, leader, 200000000ull, escrow, sizeof(escrow));
    if (sw <= 0)
        die("cannot create the payout swap");
    airdrop(rpc, escrow, 200000000ull);
    sleep_us(300000); /* two slots: the funding confirmed, the executor saw it */
    static char dest[PAYOUTS_ACROSS][TCN_CHAIN_BASE58_PUBKEY_CHARS];
    int64_t base_ms = tcn_time_now_ms() + 1500;
    uint64_t base_mono = mono_us() + 1500000u;
    sink s = {0};
    for (int i = 0; i < PAYOUTS_ACROSS; i++) {
        char at[40], body[4096], path[64];
        random_pubkey(dest[i]);
        tcn_time_format_rfc3339_ms(base_ms + (int64_t)i * PAYOUT_EVERY_MS, at, sizeof(at));
        snprintf(body, sizeof(body), "{\"to\":\"%s\",\"amount\":1000000,\"at\":\"%s\"}", dest[i], at);
        snprintf(path, sizeof(path), "/v1/swaps/%ld/payouts", sw);
        long st = tcn_post(c, leader, path, body, &s);
        if (st != 201)
            die("payout schedule: %s", s.p);
    }
    curl_easy_cleanup(c);
    /* The pid of the leader. */
    pid_t pid = 0;
    size_t i;
    json_t *nd;
    int n_surv = 0;
    char *surv[8];
    json_array_foreach(json_object_get(net, "nodes"), i, nd)
    {
        const char *api = json_string_value(json_object_get(nd, "api"));
        if (strcmp(api, leader) == 0)
            pid = (pid_t)json_integer_value(json_object_get(nd, "pid"));
        else if (n_surv < 8)
            surv[n_surv++] = (char *)api;
    }
    if (pid <= 0)
        die("the leader's pid is unknown");
    /* Watch the destinations from now on (a thread), kill at the 20th payout's due time. */
    uint64_t land_us[PAYOUTS_ACROSS] = {0};
    CURL *lc = curl_easy_init();
    curl_easy_setopt(lc, CURLOPT_TIMEOUT_MS, 2000L);
    curl_easy_setopt(lc, CURLOPT_NOSIGNAL, 1L);
    uint64_t kill_at = base_mono + 20u * PAYOUT_EVERY_MS * 1000u; /* at the earliest */
    uint64_t t_kill = 0;
    long long bal[PAYOUTS_ACROSS];
    int landed = 0;
    /* Before the kill: poll the ledger every 10 ms. */
    while (mono_us() < kill_at || landed < 3) {
        if (mono_us() > base_mono + 30000000u)
            die("fewer than 3 payouts landed in 30 s");
        if (ledger_balances(lc, rpc, dest, PAYOUTS_ACROSS, bal) == 0)
            for (int k = 0; k < PAYOUTS_ACROSS; k++)
                if (bal[k] > 0 && land_us[k] == 0) {
                    land_us[k] = mono_us();
                    landed++;
                }
        sleep_us(10000);
    }
    t_kill = mono_us();
    if (kill(pid, SIGKILL) != 0)
        die("kill: %s", strerror(errno));
    int attempts = 0;
    double commit_ms = poll_until_commit(true, surv, n_surv, t_kill, &attempts);
    /* After: until every payout landed or 20 s. */
    int landed_at_kill = landed;
    while (landed < PAYOUTS_ACROSS && landed < landed_at_kill + 2 && mono_us() - t_kill < 20000000u) {
        if (ledger_balances(lc, rpc, dest, PAYOUTS_ACROSS, bal) == 0)
            for (int k = 0; k < PAYOUTS_ACROSS; k++)
                if (bal[k] > 0 && land_us[k] == 0) {
                    land_us[k] = mono_us();
                    landed++;
                }
        sleep_us(10000);
    }
    curl_easy_cleanup(lc);
    /* The gap across the kill: last landing before it to the first after it;
     * and the baseline, the median gap between successive landing instants before the kill. */
    uint64_t last_before = 0, first_after = 0;
    int before = 0;
    for (int k = 0; k < PAYOUTS_ACROSS; k++) {
        if (land_us[k] == 0)
            continue;
        if (land_us[k] < t_kill) {
            before++;
            if (land_us[k] > last_before)
                last_before = land_us[k];
        } else if (first_after == 0 || land_us[k] < first_after)
            first_after = land_us[k];
    }
    uint64_t inst[PAYOUTS_ACROSS];
    int ni = 0;
    for (int k = 0; k < PAYOUTS_ACROSS; k++)
        if (land_us[k] != 0 && land_us[k] < t_kill)
            inst[ni++] = land_us[k];
    for (int a = 1; a < ni; a++) /* sort (tiny) */
        for (int b = a; b > 0 && inst[b - 1] > inst[b]; b--) {
            uint64_t t = inst[b];
            inst[b] = inst[b - 1];
            inst[b - 1] = t;
        }
    double gaps[PAYOUTS_ACROSS];
    int ng = 0;
    for (int a = 1; a < ni; a++)
        if (inst[a] != inst[a - 1])
            gaps[ng++] = (double)(inst[a] - inst[a - 1]) / 1000.0;
    for (int a = 1; a < ng; a++)
        for (int b = a; b > 0 && gaps[b - 1] > gaps[b]; b--) {
            double t = gaps[b];
            gaps[b] = gaps[b - 1];
            gaps[b - 1] = t;
        }
    double normal_gap = ng ? gaps[ng / 2] : -1.0;
    json_t *o = json_pack("{s:s,s:f,s:i,s:f,s:f,s:f,s:i,s:i}", "system", "tcn", "commit_ms", commit_ms, "attempts",
                          attempts, "kill_to_next_landing_ms",
                          first_after ? (double)(first_after - t_kill) / 1000.0 : -1.0, "landing_gap_ms",
                          (first_after && last_before) ? (double)(first_after - last_before) / 1000.0 : -1.0,
                          "normal_landing_gap_ms", normal_gap, "landed_before_kill", before, "landed", landed);
    char *txt = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(6));
    printf("%s\n", txt);
    free(txt);
    json_decref(o);
    json_decref(net);
    free(s.p);
    return 0;
}

/* Which of the etcd URLs is the leader's (/v3/maintenance/status), or dies. */
static int etcd_leader(char **urls, int n)
{
    CURL *c = handle_new(false, 2000);
    sink s = {0};
    int leader = -1;
    for (int tries = 0; tries < 100 && leader < 0; tries++) {
        for (int i = 0; i < n && leader < 0; i++) {
            char url[300];
            snprintf(url, sizeof(url), "%s/v3/maintenance/status", urls[i]);
            struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
            long st = perform(c, url, "{}", h, &s);
            curl_slist_free_all(h);
            if (st != 200)
                continue;
            json_t *o = json_loads(s.p, 0, NULL);
            const char *me = json_string_value(json_object_get(json_object_get(o, "header"), "member_id"));
            const char *ld = json_string_value(json_object_get(o, "leader"));
            if (me && ld && strcmp(me, ld) == 0)
                leader = i;
            json_decref(o);
        }
        if (leader < 0)
            sleep_us(50000);
    }
    curl_easy_cleanup(c);
    free(s.p);
    if (leader < 0)
        die("no etcd leader found");
    return leader;
}

/* etcd: URL=PID pairs; the leader is found by /v3/maintenance/status. */
static int run_etcd_failover(const char *pairs, const char *cacert)
{
    g_cacert = cacert;
    char *copy = strdup(pairs);
    char *urls[8];
    pid_t pids[8];
    int n = 0;
    for (char *tok = strtok(copy, ","); tok && n < 8; tok = strtok(NULL, ",")) {
        char *eq = strchr(tok, '=');
        if (eq == NULL)
            die("expected URL=PID, not %s", tok);
        *eq = '\0';
        urls[n] = tok;
        pids[n] = (pid_t)atoi(eq + 1);
        n++;
    }
    int leader = etcd_leader(urls, n);
    char *surv[8];
    int ns = 0;
    for (int i = 0; i < n; i++)
        if (i != leader)
            surv[ns++] = urls[i];
    uint64_t t_kill = mono_us();
    if (kill(pids[leader], SIGKILL) != 0)
        die("kill: %s", strerror(errno));
    int attempts = 0;
    double ms = poll_until_commit(false, surv, ns, t_kill, &attempts);
    printf("{\"system\":\"etcd\",\"commit_ms\":%.3f,\"attempts\":%d,\"killed\":\"%s\"}\n", ms, attempts, urls[leader]);
    free(copy);
    return 0;
}

int main(int argc, char **argv)
{
    if (sodium_init() < 0 || curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        die("init failed");
    signal(SIGPIPE, SIG_IGN);
    if (argc >= 5 && strcmp(argv[1], "tcn") == 0)
        return run_load(true, argv[2], atoi(argv[3]), atof(argv[4]), argc >= 6 && strcmp(argv[5], "--new-conn") == 0,
                        NULL);
    if (argc >= 6 && strcmp(argv[1], "etcd") == 0)
        return run_load(false, argv[2], atoi(argv[3]), atof(argv[4]), false, argv[5]);
    if (argc >= 3 && strcmp(argv[1], "tcn-failover") == 0)
        return run_tcn_failover(argv[2]);
    if (argc >= 4 && strcmp(argv[1], "etcd-failover") == 0)
        return run_etcd_failover(argv[2], argv[3]);
    fprintf(stderr, "usage: bench_writes tcn DEVNET_DIR CLIENTS SECONDS [--new-conn]\n"
                    "       bench_writes etcd URL[,URL...] CLIENTS SECONDS CACERT\n"
                    "       bench_writes tcn-failover DEVNET_DIR\n"
                    "       bench_writes etcd-failover URL=PID[,URL=PID...] CACERT\n");
    return 2;
}
