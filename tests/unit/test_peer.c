/* Unit tests: the peer mesh over real TCP on 127.0.0.1 with the sim TEE, all
 * nodes on one event_base: a full mesh delivering RAFT in order, refusals
 * (measurement, platform key, group, a HELLO naming another node, removed),
 * restart with backoff, bad bytes, backpressure, re-attestation. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <openssl/ssl.h>

#include "attest/provider.h"
#include "attest/sim.h"
#include "node/frame.h"
#include "node/peer.h"
#include "testlib.h"
#include "tls/ratls.h"
#include "util/file.h"
#include "util/log.h"
#include "util/secmem.h"

static char g_dir[] = "/tmp/tcn-test-peer-XXXXXX";
static tcn_sim_platform g_plat_a, g_plat_b;
static tcn_provider *g_prov;      /* this test binary, platform key A: the good nodes */
static tcn_provider *g_prov_exe;  /* another executable, platform key A */
static tcn_provider *g_prov_plat; /* this test binary, platform key B */
static uint8_t g_self[TCN_SIM_MEASUREMENT_LEN];
static uint8_t g_other[TCN_SIM_MEASUREMENT_LEN];
static struct event_base *g_base;
static FILE *g_log;

static const uint8_t G1[TCN_RATLS_GROUP_ID_LEN] = {0x47, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
static const uint8_t G2[TCN_RATLS_GROUP_ID_LEN] = {0x47, 2, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};

static const char *in_dir(const char *name)
{
    static char p[4][512];
    static int k;
    k = (k + 1) % 4;
    snprintf(p[k], sizeof(p[k]), "%s/%s", g_dir, name);
    return p[k];
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Runs the loop for about ms. */
static void run_for(int ms)
{
    struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
    event_base_loopexit(g_base, &tv);
    event_base_dispatch(g_base);
}

/* Runs the loop until pred holds (true) or ms pass (false). */
static bool run_until(bool (*pred)(void *), void *ctx, int ms)
{
    int64_t end = mono_ms() + ms;
    while (!pred(ctx)) {
        if (mono_ms() > end)
            return false;
        run_for(5);
    }
    return true;
}

/* ---- policies ------------------------------------------------------------------ */

/* The good nodes' policy: sim with platform key A, 'self' = this binary. */
static void good_policy(tcn_ratls_policy *p)
{
    tcn_error e;
    tcn_ratls_policy_default(p);
    assert_int_equal(tcn_policy_add_sim_key(&p->attest, g_plat_a.pk, &e), TCN_OK);
    assert_int_equal(tcn_ratls_policy_set_self(p, g_self, sizeof(g_self), &e), TCN_OK);
}

/* A policy that accepts every node of these tests (both platform keys, both
 * measurements): for the odd nodes, so that the refusal we test is the good
 * node's. */
static void lax_policy(tcn_ratls_policy *p, const uint8_t *self)
{
    tcn_error e;
    tcn_ratls_policy_default(p);
    assert_int_equal(tcn_policy_add_sim_key(&p->attest, g_plat_a.pk, &e), TCN_OK);
    assert_int_equal(tcn_policy_add_sim_key(&p->attest, g_plat_b.pk, &e), TCN_OK);
    assert_int_equal(tcn_ratls_policy_set_self(p, self, TCN_SIM_MEASUREMENT_LEN, &e), TCN_OK);
    assert_int_equal(tcn_policy_add_measurement(&p->attest, g_self, sizeof(g_self), &e), TCN_OK);
    assert_int_equal(tcn_policy_add_measurement(&p->attest, g_other, sizeof(g_other), &e), TCN_OK);
}

/* ---- a node: a mesh and what its callbacks saw ----------------------------------- */

#define MAX_EVENTS 64
#define MAX_NODES 4

typedef struct node {
    int index;
    tcn_ratls_identity *id;
    tcn_peer_mesh *mesh;
    uint64_t nid;
    tcn_node_addr addr;
    char addr_text[TCN_NODE_ADDR_CHARS_MAX + 1];
    /* callbacks */
    int ups;
    uint64_t up_ids[MAX_EVENTS];
    tcn_peer_direction up_dirs[MAX_EVENTS];
    int id_mismatch;      /* on_peer_up's node id was not derived from its attested key */
    int downs;
    char down_why[MAX_EVENTS][200];
    int refused;
    char refused_check[MAX_EVENTS][32];
    uint64_t raft_frames;
    uint32_t next_seq[MAX_NODES]; /* per sender index */
    int raft_errors;
} node;

static node *g_nodes[MAX_NODES];
/* Every node and raw peer running, so that a failed test (cmocka jumps out
 * of it) does not leave sockets and callbacks behind for the next one.
 * Tests keep their nodes in static storage for the same reason. */
#define MAX_RUNNING 16
static node *g_running[MAX_RUNNING];
struct raw;
static struct raw *g_raws[MAX_RUNNING];

static void track(void **slots, void *p, bool add)
{
    for (int i = 0; i < MAX_RUNNING; i++) {
        if (add && slots[i] == NULL) {
            slots[i] = p;
            return;
        }
        if (!add && slots[i] == p) {
            slots[i] = NULL;
            return;
        }
    }
    assert_true(!add);
}

static void cb_up(void *ctx, const tcn_peer_info *info)
{
    node *n = ctx;
    if (tcn_peer_node_id_from_key_hash(info->attested->key_hash) != info->node_id)
        n->id_mismatch++;
    if (n->ups < MAX_EVENTS) {
        n->up_ids[n->ups] = info->node_id;
        n->up_dirs[n->ups] = info->direction;
    }
    n->ups++;
}

static void cb_raft(void *ctx, uint64_t from, const uint8_t *p, size_t len)
{
    node *n = ctx;
    n->raft_frames++;
    /* Payload: sender index, seq (u32 be), filler of the sender's index. */
    if (len < 5 || p[0] >= MAX_NODES || g_nodes[p[0]] == NULL || g_nodes[p[0]]->nid != from) {
        n->raft_errors++;
        return;
    }
    uint32_t seq = (uint32_t)p[1] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 8 | p[4];
    if (seq != n->next_seq[p[0]])
        n->raft_errors++;
    for (size_t i = 5; i < len; i++)
        if (p[i] != (uint8_t)(p[0] + i)) {
            n->raft_errors++;
            break;
        }
    n->next_seq[p[0]] = seq + 1;
}

static void cb_down(void *ctx, uint64_t id, tcn_peer_direction dir, const char *why)
{
    (void)id, (void)dir;
    node *n = ctx;
    if (n->downs < MAX_EVENTS)
        snprintf(n->down_why[n->downs], sizeof(n->down_why[0]), "%s", why);
    n->downs++;
}

static void cb_refused(void *ctx, const char *remote, const char *check, const char *why)
{
    (void)remote, (void)why;
    node *n = ctx;
    if (n->refused < MAX_EVENTS)
        snprintf(n->refused_check[n->refused], sizeof(n->refused_check[0]), "%s", check);
    n->refused++;
}

static void test_options(tcn_peer_options *o)
{
    memset(o, 0, sizeof(*o));
    o->api_addr = "127.0.0.1:7500";
    o->tick_ms = 5;
    o->backoff_min_ms = 20;
    o->backoff_max_ms = 160;
    o->ping_interval_ms = 100;
    o->dead_after_ms = 2000;
    o->handshake_timeout_ms = 2000;
    o->hello_timeout_ms = 2000;
}

/* Starts a node: a new identity from prov, a mesh listening on 127.0.0.1:port (0: any). */
static void node_start_opt(node *n, int index, tcn_provider *prov, const tcn_ratls_policy *pol, uint16_t port,
                           const tcn_peer_options *opt_in)
{
    memset(n, 0, sizeof(*n));
    n->index = index;
    tcn_error e;
    tcn_err_clear(&e);
    int rc = tcn_ratls_identity_new(prov, NULL, &n->id, &e);
    if (rc != TCN_OK)
        fail_msg("identity: %s", e.msg);
    n->nid = tcn_peer_node_id_from_key_hash(tcn_ratls_identity_key_hash(n->id));
    tcn_peer_options o;
    if (opt_in != NULL)
        o = *opt_in;
    else
        test_options(&o);
    char name[16];
    snprintf(name, sizeof(name), "node-%d", index);
    o.name = name;
    o.node_id = n->nid;
    tcn_peer_callbacks cb = {.ctx = n, .on_peer_up = cb_up, .on_raft = cb_raft, .on_peer_down = cb_down,
                             .on_refused = cb_refused};
    rc = tcn_peer_mesh_new(g_base, &o, n->id, pol, &cb, &n->mesh, &e);
    if (rc != TCN_OK)
        fail_msg("mesh: %s", e.msg);
    tcn_node_addr a;
    const char *why;
    assert_int_equal(tcn_node_addr_parse("127.0.0.1:1", 11, false, &a, &why), TCN_OK);
    a.port = port;
    rc = tcn_peer_mesh_listen(n->mesh, &a, &e);
    if (rc != TCN_OK)
        fail_msg("listen: %s", e.msg);
    assert_int_equal(tcn_peer_mesh_listen_addr(n->mesh, &n->addr, &e), TCN_OK);
    tcn_node_addr_format(&n->addr, n->addr_text, sizeof(n->addr_text));
    if (index < MAX_NODES)
        g_nodes[index] = n;
    track((void **)g_running, n, true);
}

static void node_start(node *n, int index, tcn_provider *prov, const tcn_ratls_policy *pol)
{
    node_start_opt(n, index, prov, pol, 0, NULL);
}

static void node_dial(node *from, const node *to)
{
    tcn_error e;
    assert_int_equal(tcn_peer_mesh_dial(from->mesh, &to->addr, &e), TCN_OK);
}

static bool idle_pred(void *ctx) { return tcn_peer_mesh_idle(ctx); }

/* Leaves as tcnd does on SIGTERM: BYE to everyone, then free. */
static void node_stop(node *n)
{
    if (n->mesh == NULL)
        return;
    tcn_peer_mesh_close_all(n->mesh);
    assert_true(run_until(idle_pred, n->mesh, 2000));
    tcn_peer_mesh_free(n->mesh);
    tcn_ratls_identity_free(n->id);
    n->mesh = NULL;
    n->id = NULL;
    if (n->index < MAX_NODES && g_nodes[n->index] == n)
        g_nodes[n->index] = NULL;
    track((void **)g_running, n, false);
}

static tcn_peer_stats stats(const node *n)
{
    tcn_peer_stats s;
    tcn_peer_mesh_stats(n->mesh, &s);
    return s;
}

static bool has_check(const node *n, const char *check)
{
    for (int i = 0; i < n->refused && i < MAX_EVENTS; i++)
        if (strcmp(n->refused_check[i], check) == 0)
            return true;
    return false;
}

static bool has_down(const node *n, const char *needle)
{
    for (int i = 0; i < n->downs && i < MAX_EVENTS; i++)
        if (strstr(n->down_why[i], needle) != NULL)
            return true;
    return false;
}

/* Sends one RAFT message of len bytes from a to b (payload checked by cb_raft). */
static int send_msg(node *a, const node *b, uint32_t seq, size_t len)
{
    static uint8_t buf[1u << 20];
    assert_true(len >= 5 && len <= sizeof(buf));
    buf[0] = (uint8_t)a->index;
    buf[1] = (uint8_t)(seq >> 24), buf[2] = (uint8_t)(seq >> 16), buf[3] = (uint8_t)(seq >> 8), buf[4] = (uint8_t)seq;
    for (size_t i = 5; i < len; i++)
        buf[i] = (uint8_t)(a->index + i);
    return tcn_peer_mesh_send_raft(a->mesh, b->nid, buf, len);
}

typedef struct {
    node **n;
    int count;
    uint32_t up_in, up_out;
} mesh_want;

static bool mesh_pred(void *ctx)
{
    mesh_want *w = ctx;
    for (int i = 0; i < w->count; i++) {
        tcn_peer_stats s = stats(w->n[i]);
        if (s.conns_up_in != w->up_in || s.conns_up_out != w->up_out)
            return false;
    }
    return true;
}

static bool wait_mesh(node **n, int count, uint32_t up_in, uint32_t up_out, int ms)
{
    mesh_want w = {n, count, up_in, up_out};
    return run_until(mesh_pred, &w, ms);
}

typedef struct {
    node *n;
    uint64_t frames;
} frames_want;

static bool frames_pred(void *ctx)
{
    frames_want *w = ctx;
    return w->n->raft_frames >= w->frames;
}

typedef struct {
    node *n;
    int downs;
} downs_want;

static bool downs_pred(void *ctx)
{
    downs_want *w = ctx;
    return w->n->downs >= w->downs;
}

typedef struct {
    node *n;
    int refused;
} refused_want;

static bool refused_pred(void *ctx)
{
    refused_want *w = ctx;
    return w->n->refused >= w->refused;
}

typedef struct {
    node *n;
    uint32_t dials;
} dials_want;

static bool dials_pred(void *ctx)
{
    dials_want *w = ctx;
    return stats(w->n).dials == w->dials;
}

/* ---- a raw peer: a TLS client (or server) of our own that sends what a test wants - */

typedef struct raw {
    tcn_ratls_identity *id;
    bool id_borrowed;
    uint64_t nid;
    SSL_CTX *ctx;
    struct bufferevent *bev;
    struct evconnlistener *lis;
    tcn_node_addr addr; /* as a server */
    bool connected, closed, answer, read_stop_after_hello, raft_after_hello;
    tcn_frame_decoder dec;
    int frames, hellos, challenges, byes;
    uint16_t bye_reason;
} raw;

static void raw_send_frame(raw *r, const tcn_frame *f)
{
    tcn_buf b = {0};
    tcn_error e;
    assert_int_equal(tcn_frame_encode(f, &b, &e), TCN_OK);
    assert_int_equal(bufferevent_write(r->bev, b.p, b.len), 0);
    tcn_buf_free(&b);
}

static void raw_hello_v(raw *r, uint64_t node_id, const char *peer_addr, uint16_t version)
{
    tcn_frame f;
    memset(&f, 0, sizeof(f));
    f.type = TCN_FRAME_HELLO;
    f.u.hello.protocol_version = version;
    f.u.hello.node_id = node_id;
    strcpy(f.u.hello.name, "raw");
    strcpy(f.u.hello.api_addr, "127.0.0.1:7500");
    snprintf(f.u.hello.peer_addr, sizeof(f.u.hello.peer_addr), "%s", peer_addr);
    raw_send_frame(r, &f);
}

static void raw_hello(raw *r, uint64_t node_id, const char *peer_addr)
{
    raw_hello_v(r, node_id, peer_addr, TCN_NODE_PROTOCOL_VERSION);
}

static int raw_on_frame(void *ctx, const tcn_frame *f, tcn_error *err)
{
    (void)err;
    raw *r = ctx;
    r->frames++;
    if (f->type == TCN_FRAME_HELLO)
        r->hellos++;
    if (f->type == TCN_FRAME_BYE) {
        r->byes++;
        r->bye_reason = f->u.bye.reason;
    }
    if (f->type == TCN_FRAME_REATTEST_CHALLENGE) {
        r->challenges++;
        if (r->answer) {
            tcn_buf blob = {0};
            tcn_error e;
            assert_int_equal(tcn_ratls_fresh_evidence(r->id, f->u.challenge, &blob, &e), TCN_OK);
            tcn_frame a;
            memset(&a, 0, sizeof(a));
            a.type = TCN_FRAME_REATTEST_EVIDENCE;
            a.u.evidence.p = blob.p;
            a.u.evidence.len = blob.len;
            raw_send_frame(r, &a);
            tcn_buf_free(&blob);
        }
    }
    if (f->type == TCN_FRAME_PING) {
        tcn_frame p;
        memset(&p, 0, sizeof(p));
        p.type = TCN_FRAME_PONG;
        p.u.ping = f->u.ping;
        raw_send_frame(r, &p);
    }
    return TCN_OK;
}

static void raw_read(struct bufferevent *bev, void *ctx)
{
    raw *r = ctx;
    struct evbuffer *in = bufferevent_get_input(bev);
    size_t n = evbuffer_get_length(in);
    uint8_t *p = evbuffer_pullup(in, (ssize_t)n);
    tcn_error e;
    (void)!tcn_frame_decoder_feed(&r->dec, p, n, raw_on_frame, r, &e);
    evbuffer_drain(in, n);
}

static void raw_event(struct bufferevent *bev, short events, void *ctx)
{
    raw *r = ctx;
    if (events & BEV_EVENT_CONNECTED) {
        r->connected = true;
        if (r->raft_after_hello) {
            /* RAFT on the connection the mesh dialed: against the model. */
            raw_hello(r, r->nid, "127.0.0.1:1");
            tcn_frame f;
            memset(&f, 0, sizeof(f));
            f.type = TCN_FRAME_RAFT;
            f.u.raft.p = (const uint8_t *)"xyz";
            f.u.raft.len = 3;
            raw_send_frame(r, &f);
        }
        if (r->read_stop_after_hello) {
            /* The backpressure peer: says HELLO, then never reads again. */
            raw_hello(r, r->nid, "127.0.0.1:1");
            bufferevent_disable(bev, EV_READ);
        }
    } else if (events & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
        r->closed = true;
    }
}

static void raw_init(raw *r, tcn_provider *prov)
{
    memset(r, 0, sizeof(*r));
    track((void **)g_raws, r, true);
    tcn_error e;
    assert_int_equal(tcn_ratls_identity_new(prov, NULL, &r->id, &e), TCN_OK);
    r->nid = tcn_peer_node_id_from_key_hash(tcn_ratls_identity_key_hash(r->id));
}

/* Connects with a new identity from prov, or with id (borrowed) when given. */
static void raw_connect_id(raw *r, tcn_provider *prov, tcn_ratls_identity *id, const node *to)
{
    if (id == NULL) {
        raw_init(r, prov);
    } else {
        memset(r, 0, sizeof(*r));
        track((void **)g_raws, r, true);
        r->id = id;
        r->id_borrowed = true;
        r->nid = tcn_peer_node_id_from_key_hash(tcn_ratls_identity_key_hash(id));
    }
    tcn_ratls_policy pol;
    good_policy(&pol);
    tcn_error e;
    assert_int_equal(tcn_ratls_ctx_new(TCN_RATLS_CLIENT, r->id, &pol, &r->ctx, &e), TCN_OK);
    SSL *ssl = SSL_new(r->ctx);
    assert_non_null(ssl);
    r->bev = bufferevent_openssl_socket_new(g_base, -1, ssl, BUFFEREVENT_SSL_CONNECTING,
                                            BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
    assert_non_null(r->bev);
    bufferevent_openssl_set_allow_dirty_shutdown(r->bev, 1);
    bufferevent_setcb(r->bev, raw_read, NULL, raw_event, r);
    bufferevent_enable(r->bev, EV_READ | EV_WRITE);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons(to->addr.port);
    sa.sin_addr.s_addr = htonl(0x7f000001);
    assert_int_equal(bufferevent_socket_connect(r->bev, (struct sockaddr *)&sa, sizeof(sa)), 0);
}

static void raw_connect(raw *r, tcn_provider *prov, const node *to) { raw_connect_id(r, prov, NULL, to); }

static void raw_accept(struct evconnlistener *lis, evutil_socket_t fd, struct sockaddr *sa, int len, void *ctx)
{
    (void)lis, (void)sa, (void)len;
    raw *r = ctx;
    if (r->bev != NULL) { /* one connection; later ones (redials) are cut */
        evutil_closesocket(fd);
        return;
    }
    SSL *ssl = SSL_new(r->ctx);
    assert_non_null(ssl);
    r->bev = bufferevent_openssl_socket_new(g_base, fd, ssl, BUFFEREVENT_SSL_ACCEPTING,
                                            BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
    assert_non_null(r->bev);
    bufferevent_openssl_set_allow_dirty_shutdown(r->bev, 1);
    bufferevent_setcb(r->bev, raw_read, NULL, raw_event, r);
    bufferevent_enable(r->bev, EV_READ | EV_WRITE);
}

/* A raw TLS server on 127.0.0.1 (any port) that node meshes may dial. */
static void raw_listen(raw *r, tcn_provider *prov)
{
    raw_init(r, prov);
    tcn_ratls_policy pol;
    good_policy(&pol);
    tcn_error e;
    assert_int_equal(tcn_ratls_ctx_new(TCN_RATLS_SERVER, r->id, &pol, &r->ctx, &e), TCN_OK);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(0x7f000001);
    r->lis = evconnlistener_new_bind(g_base, raw_accept, r, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, 4,
                                     (struct sockaddr *)&sa, sizeof(sa));
    assert_non_null(r->lis);
    struct sockaddr_in b;
    socklen_t blen = sizeof(b);
    assert_int_equal(getsockname(evconnlistener_get_fd(r->lis), (struct sockaddr *)&b, &blen), 0);
    const char *why;
    assert_int_equal(tcn_node_addr_parse("127.0.0.1:1", 11, false, &r->addr, &why), TCN_OK);
    r->addr.port = ntohs(b.sin_port);
}

static void raw_free(raw *r)
{
    if (r->bev != NULL)
        bufferevent_free(r->bev);
    if (r->lis != NULL)
        evconnlistener_free(r->lis);
    SSL_CTX_free(r->ctx);
    if (!r->id_borrowed)
        tcn_ratls_identity_free(r->id);
    tcn_frame_decoder_free(&r->dec);
    track((void **)g_raws, r, false);
    memset(r, 0, sizeof(*r));
}

/* After each test: whatever a failed test left running. */
static int cleanup(void **state)
{
    (void)state;
    for (int i = 0; i < MAX_RUNNING; i++) {
        if (g_raws[i] != NULL)
            raw_free(g_raws[i]);
        node *n = g_running[i];
        if (n == NULL)
            continue;
        tcn_peer_mesh_free(n->mesh);
        tcn_ratls_identity_free(n->id);
        n->mesh = NULL;
        n->id = NULL;
        g_running[i] = NULL;
    }
    memset(g_nodes, 0, sizeof(g_nodes));
    run_for(20); /* let the peers' sockets close */
    return 0;
}

static bool raw_connected(void *ctx) { return ((raw *)ctx)->connected; }
static bool raw_closed(void *ctx) { return ((raw *)ctx)->closed; }

/* ---- tests -------------------------------------------------------------------------- */

/* Three nodes dial into a full mesh (two connections per pair, one each way);
 * RAFT frames flow every way, in order, from the right node ids. */
static void test_full_mesh(void **state)
{
    (void)state;
    tcn_ratls_policy pol;
    good_policy(&pol);
    static node a, b, c;
    node_start(&a, 0, g_prov, &pol);
    node_start(&b, 1, g_prov, &pol);
    node_start(&c, 2, g_prov, &pol);
    /* B and C join through A, C also knows B; the rest is dial-back. */
    node_dial(&b, &a);
    node_dial(&c, &a);
    node_dial(&c, &b);
    node *all[] = {&a, &b, &c};
    assert_true(wait_mesh(all, 3, 2, 2, 5000));
    for (int i = 0; i < 3; i++) {
        node *n = all[i];
        assert_int_equal(n->id_mismatch, 0);
        assert_int_equal(n->ups, 4);
        assert_int_equal(n->nid, tcn_peer_mesh_node_id(n->mesh));
        /* Each other node is up once in each direction, under the id of its key. */
        for (int j = 0; j < 3; j++) {
            if (j == i)
                continue;
            int in = 0, out = 0;
            for (int k = 0; k < n->ups; k++)
                if (n->up_ids[k] == all[j]->nid) {
                    if (n->up_dirs[k] == TCN_PEER_INBOUND)
                        in++;
                    else
                        out++;
                }
            assert_int_equal(in, 1);
            assert_int_equal(out, 1);
        }
    }
    /* 40 messages every way, of growing sizes, one of 1 MiB (several TLS
     * records and reads per frame). */
    for (uint32_t seq = 0; seq < 40; seq++)
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 3; j++)
                if (i != j) {
                    size_t len = seq == 20 ? (1u << 20) : 5 + seq * 97;
                    assert_int_equal(send_msg(all[i], all[j], seq, len), TCN_OK);
                }
    for (int i = 0; i < 3; i++) {
        frames_want w = {all[i], 80};
        assert_true(run_until(frames_pred, &w, 5000));
        assert_int_equal(all[i]->raft_frames, 80);
        assert_int_equal(all[i]->raft_errors, 0);
        for (int j = 0; j < 3; j++)
            if (j != i)
                assert_int_equal(all[i]->next_seq[j], 40);
        tcn_peer_stats s = stats(all[i]);
        assert_int_equal(s.refusals, 0);
        assert_true(s.frames_out >= 80 && s.frames_in >= 80);
    }
    /* No connection to an unknown node. */
    assert_int_equal(tcn_peer_mesh_send_raft(a.mesh, 12345, (const uint8_t *)"x", 1), TCN_ERR_NOT_FOUND);
    assert_int_equal(tcn_peer_mesh_send_raft(a.mesh, b.nid, (const uint8_t *)"x", 0), TCN_ERR_USAGE);
    node_stop(&c);
    node_stop(&b);
    node_stop(&a);
}

/* A node of another binary is refused by the check 'measurement', both when
 * it dials and when it is dialed; it never hears a HELLO or a RAFT frame. */
static void test_other_measurement_refused(void **state)
{
    (void)state;
    tcn_ratls_policy pol, xpol;
    good_policy(&pol);
    lax_policy(&xpol, g_other); /* X itself would accept A: the refusal is A's */
    static node a, x;
    node_start(&a, 0, g_prov, &pol);
    node_start(&x, 1, g_prov_exe, &xpol);
    node_dial(&x, &a);
    node_dial(&a, &x);
    run_for(300);
    assert_true(a.refused >= 2);
    for (int i = 0; i < a.refused && i < MAX_EVENTS; i++)
        assert_string_equal(a.refused_check[i], "measurement");
    assert_int_equal(a.ups, 0);
    assert_int_equal(x.ups, 0);
    tcn_peer_stats xs = stats(&x);
    assert_int_equal(xs.frames_in, 0); /* not one HELLO reached X */
    assert_int_equal(x.raft_frames, 0);
    assert_int_equal(tcn_peer_mesh_send_raft(a.mesh, x.nid, (const uint8_t *)"x", 1), TCN_ERR_NOT_FOUND);
    assert_int_equal(stats(&a).refusals, (uint64_t)a.refused);
    node_stop(&x);
    node_stop(&a);
}

/* A node whose evidence is signed by another sim platform key is refused. */
static void test_other_platform_refused(void **state)
{
    (void)state;
    tcn_ratls_policy pol, ypol;
    good_policy(&pol);
    lax_policy(&ypol, g_self);
    static node a, y;
    node_start(&a, 0, g_prov, &pol);
    node_start(&y, 1, g_prov_plat, &ypol);
    node_dial(&y, &a);
    node_dial(&a, &y);
    run_for(300);
    assert_true(a.refused >= 2);
    assert_true(has_check(&a, "evidence"));
    assert_int_equal(a.ups + y.ups, 0);
    assert_int_equal(stats(&y).frames_in, 0);
    node_stop(&y);
    node_stop(&a);
}

/* After set_group, a node of another group is refused in the handshake; one
 * of the same group connects. */
static void test_group_mismatch_refused(void **state)
{
    (void)state;
    tcn_ratls_policy pol;
    good_policy(&pol);
    static node a, b, c;
    node_start(&a, 0, g_prov, &pol);
    node_start(&b, 1, g_prov, &pol);
    node_start(&c, 2, g_prov, &pol);
    tcn_error e;
    assert_int_equal(tcn_peer_mesh_set_group(a.mesh, G1, &e), TCN_OK);
    assert_int_equal(tcn_peer_mesh_set_group(b.mesh, G2, &e), TCN_OK);
    assert_int_equal(tcn_peer_mesh_set_group(c.mesh, G1, &e), TCN_OK);
    assert_int_equal(tcn_peer_mesh_set_group(a.mesh, G2, &e), TCN_ERR_USAGE); /* the group does not change */
    node_dial(&b, &a);
    node_dial(&c, &a);
    node *ac[] = {&a, &c};
    assert_true(wait_mesh(ac, 2, 1, 1, 3000));
    run_for(100);
    assert_true(a.refused + b.refused >= 1);
    assert_true(has_check(&a, "group-mismatch") || has_check(&b, "group-mismatch"));
    assert_int_equal(b.ups, 0);
    for (int i = 0; i < a.ups; i++)
        assert_true(a.up_ids[i] == c.nid);
    node_stop(&c);
    node_stop(&b);
    node_stop(&a);
}

/* A peer stopped and restarted (new identity, same address) is redialed with
 * backoff and reconnected under its new id. */
static void test_restart_reconnects_with_backoff(void **state)
{
    (void)state;
    tcn_ratls_policy pol;
    good_policy(&pol);
    static node a, b;
    node_start(&a, 0, g_prov, &pol);
    node_start(&b, 1, g_prov, &pol);
    uint16_t port = b.addr.port;
    uint64_t old_id = b.nid;
    node_dial(&a, &b);
    node *ab[] = {&a, &b};
    assert_true(wait_mesh(ab, 2, 1, 1, 3000));
    node_stop(&b);
    assert_true(has_down(&a, "BYE SHUTDOWN"));
    uint64_t attempts0 = stats(&a).dial_attempts;
    run_for(400); /* backoff 20 ms doubling to 160 ms, each in [d/2, d] */
    uint64_t tried = stats(&a).dial_attempts - attempts0;
    assert_true(tried >= 3);  /* it keeps trying... */
    assert_true(tried <= 12); /* ...but backs off (without backoff: one per tick, about 80) */
    assert_int_equal(stats(&a).conns_up_out, 0);
    int ups_before = a.ups;
    node_start_opt(&b, 1, g_prov, &pol, port, NULL);
    assert_true(b.nid != old_id);
    assert_true(wait_mesh(ab, 2, 1, 1, 3000));
    assert_true(a.ups >= ups_before + 2);
    bool found = false;
    for (int i = ups_before; i < a.ups; i++)
        if (a.up_ids[i] == b.nid && a.up_dirs[i] == TCN_PEER_OUTBOUND)
            found = true;
    assert_true(found);
    assert_int_equal(send_msg(&a, &b, 0, 100), TCN_OK);
    frames_want w = {&b, 1};
    assert_true(run_until(frames_pred, &w, 2000));
    node_stop(&b);
    node_stop(&a);
}

/* A verified peer whose HELLO names another node's id is refused, and the
 * real owner of that id keeps its connection; so is a HELLO of another
 * protocol version. */
static void test_hello_checks(void **state)
{
    (void)state;
    tcn_ratls_policy pol;
    good_policy(&pol);
    static node a, b;
    node_start(&a, 0, g_prov, &pol);
    node_start(&b, 1, g_prov, &pol);
    node_dial(&b, &a);
    node *ab[] = {&a, &b};
    assert_true(wait_mesh(ab, 2, 1, 1, 3000));
    static raw r;
    raw_connect(&r, g_prov, &a);
    assert_true(run_until(raw_connected, &r, 2000));
    raw_hello(&r, b.nid, b.addr_text);
    assert_true(run_until(raw_closed, &r, 2000));
    assert_true(has_check(&a, "node-id"));
    assert_int_equal(r.byes, 1);
    assert_int_equal(r.bye_reason, TCN_FRAME_BYE_ATTESTATION);
    assert_int_equal(stats(&a).conns_up_in, 1); /* B's connection was not replaced */
    assert_int_equal(send_msg(&b, &a, 0, 64), TCN_OK);
    frames_want w = {&a, 1};
    assert_true(run_until(frames_pred, &w, 2000));
    raw_free(&r);

    static raw r2;
    raw_connect(&r2, g_prov, &a);
    assert_true(run_until(raw_connected, &r2, 2000));
    raw_hello_v(&r2, r2.nid, "127.0.0.1:1", TCN_NODE_PROTOCOL_VERSION + 1);
    assert_true(run_until(raw_closed, &r2, 2000));
    assert_true(has_check(&a, "version"));
    assert_int_equal(r2.bye_reason, TCN_FRAME_BYE_VERSION);
    raw_free(&r2);
    assert_int_equal(stats(&a).conns_up_in, 1);
    node_stop(&b);
    node_stop(&a);
}

/* A second inbound connection from the same node (same key) replaces the
 * first: the first is closed with BYE DUPLICATE. */
static void test_duplicate_inbound_keeps_newer(void **state)
{
    (void)state;
    tcn_ratls_policy pol;
    good_policy(&pol);
    static node a;
    node_start(&a, 0, g_prov, &pol);
    tcn_ratls_identity *id = NULL;
    tcn_error e;
    assert_int_equal(tcn_ratls_identity_new(g_prov, NULL, &id, &e), TCN_OK);
    static raw r1, r2;
    raw_connect_id(&r1, g_prov, id, &a);
    r1.answer = true;
    assert_true(run_until(raw_connected, &r1, 2000));
    raw_hello(&r1, r1.nid, "127.0.0.1:1");
    node *an[] = {&a};
    assert_true(wait_mesh(an, 1, 1, 0, 2000));
    raw_connect_id(&r2, g_prov, id, &a);
    assert_true(run_until(raw_connected, &r2, 2000));
    raw_hello(&r2, r2.nid, "127.0.0.1:1");
    assert_true(run_until(raw_closed, &r1, 2000));
    assert_int_equal(r1.bye_reason, TCN_FRAME_BYE_DUPLICATE);
    assert_true(has_down(&a, "replaced by a newer connection"));
    assert_false(r2.closed);
    assert_int_equal(stats(&a).conns_up_in, 1);
    assert_int_equal(a.ups, 2);
    raw_free(&r1);
    raw_free(&r2);
    tcn_ratls_identity_free(id);
    node_stop(&a);
}

static bool pending_zero(void *ctx) { return stats(ctx).conns_pending == 0; }

/* A TCP connection that never starts TLS, a verified peer that never says
 * HELLO, and one that goes silent are each closed after their timeout. */
static void test_timeouts(void **state)
{
    (void)state;
    tcn_ratls_policy pol;
    good_policy(&pol);
    tcn_peer_options o;
    test_options(&o);
    o.handshake_timeout_ms = 150;
    o.hello_timeout_ms = 150;
    o.ping_interval_ms = 50;
    o.dead_after_ms = 300;
    static node a;
    node_start_opt(&a, 0, g_prov, &pol, 0, &o);

    /* Plain TCP, no TLS. */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons(a.addr.port);
    sa.sin_addr.s_addr = htonl(0x7f000001);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    run_for(50);
    assert_int_equal(stats(&a).conns_pending, 1);
    assert_true(run_until(pending_zero, &a, 2000));
    char byte;
    assert_int_equal(recv(fd, &byte, 1, MSG_DONTWAIT), 0); /* closed by A */
    close(fd);

    /* TLS, but no HELLO. */
    static raw r;
    raw_connect(&r, g_prov, &a);
    assert_true(run_until(raw_connected, &r, 2000));
    assert_true(run_until(raw_closed, &r, 2000));
    assert_int_equal(r.hellos, 1); /* it was verified, so it heard A's HELLO... */
    assert_int_equal(r.bye_reason, TCN_FRAME_BYE_PROTOCOL); /* ...and why it is cut */
    raw_free(&r);

    /* HELLO, then silence. */
    static raw s;
    raw_connect(&s, g_prov, &a);
    assert_true(run_until(raw_connected, &s, 2000));
    raw_hello(&s, s.nid, "127.0.0.1:1");
    node *an[] = {&a};
    assert_true(wait_mesh(an, 1, 1, 0, 2000));
    bufferevent_disable(s.bev, EV_READ); /* answers no PING */
    downs_want dw = {&a, 1};
    assert_true(run_until(downs_pred, &dw, 2000));
    assert_true(has_down(&a, "dead: nothing received"));
    raw_free(&s);
    node_stop(&a);
}

/* A peer whose last good attestation is older than evidence_max_age_ms is
 * dropped; re-attestation keeps it. */
static void test_stale_attestation_dropped(void **state)
{
    (void)state;
    tcn_ratls_policy pol;
    good_policy(&pol);
    tcn_peer_options o;
    test_options(&o);
    o.evidence_max_age_ms = 400;
    static node a, b;
    node_start_opt(&a, 0, g_prov, &pol, 0, &o); /* re-attests only every minute */
    node_start_opt(&b, 1, g_prov, &pol, 0, &o);
    node_dial(&b, &a);
    /* Both notice; whichever ticks first drops the pair (the other hears BYE). */
    downs_want dw = {&a, 1};
    assert_true(run_until(downs_pred, &dw, 3000));
    assert_true(has_down(&a, "last good attestation") || has_down(&b, "last good attestation"));
    node_stop(&b);
    node_stop(&a);

    o.reattest_interval_ms = 100;
    node_start_opt(&a, 0, g_prov, &pol, 0, &o);
    node_start_opt(&b, 1, g_prov, &pol, 0, &o);
    node_dial(&b, &a);
    node *ab[] = {&a, &b};
    assert_true(wait_mesh(ab, 2, 1, 1, 3000));
    run_for(1000);
    assert_int_equal(a.downs + b.downs, 0);
    assert_true(stats(&a).reattest_ok >= 10);
    node_stop(&b);
    node_stop(&a);
}

/* Garbage, an oversized frame header, and RAFT before HELLO each close only
 * their own connection. */
static void test_bad_bytes_close_one_connection(void **state)
{
    (void)state;
    tcn_ratls_policy pol;
    good_policy(&pol);
    static node a, b;
    node_start(&a, 0, g_prov, &pol);
    node_start(&b, 1, g_prov, &pol);
    node_dial(&b, &a);
    node *ab[] = {&a, &b};
    assert_true(wait_mesh(ab, 2, 1, 1, 3000));

    /* Garbage after a good HELLO. */
    static raw r1;
    raw_connect(&r1, g_prov, &a);
    assert_true(run_until(raw_connected, &r1, 2000));
    raw_hello(&r1, r1.nid, "127.0.0.1:1");
    node *an[] = {&a};
    assert_true(wait_mesh(an, 1, 2, 1, 2000));
    assert_int_equal(r1.hellos, 1); /* r1 is verified: it heard A's HELLO */
    int downs = a.downs;
    assert_int_equal(bufferevent_write(r1.bev, "GARBAGE!", 8), 0);
    downs_want dw = {&a, downs + 1};
    assert_true(run_until(downs_pred, &dw, 2000));
    assert_true(has_down(&a, "magic"));
    assert_true(run_until(raw_closed, &r1, 2000));
    raw_free(&r1);

    /* A RAFT header announcing 4 GiB. */
    static raw r2;
    raw_connect(&r2, g_prov, &a);
    assert_true(run_until(raw_connected, &r2, 2000));
    raw_hello(&r2, r2.nid, "127.0.0.1:1");
    assert_true(wait_mesh(an, 1, 2, 1, 2000));
    const uint8_t huge[] = {'T', 1, 2, 0, 0xff, 0xff, 0xff, 0xff};
    assert_int_equal(bufferevent_write(r2.bev, huge, sizeof(huge)), 0);
    dw.downs = a.downs + 1;
    assert_true(run_until(downs_pred, &dw, 2000));
    assert_true(has_down(&a, "exceeds the maximum"));
    raw_free(&r2);

    /* RAFT before HELLO. */
    static raw r3;
    raw_connect(&r3, g_prov, &a);
    assert_true(run_until(raw_connected, &r3, 2000));
    tcn_frame f;
    memset(&f, 0, sizeof(f));
    f.type = TCN_FRAME_RAFT;
    f.u.raft.p = (const uint8_t *)"xyz";
    f.u.raft.len = 3;
    raw_send_frame(&r3, &f);
    refused_want rw = {&a, a.refused + 1};
    assert_true(run_until(refused_pred, &rw, 2000));
    assert_true(has_check(&a, "protocol"));
    assert_true(run_until(raw_closed, &r3, 2000));
    raw_free(&r3);

    /* A peer sending RAFT on the connection A dialed (peers send RAFT only
     * on their own outbound connection). */
    static raw rs;
    raw_listen(&rs, g_prov);
    rs.raft_after_hello = true;
    tcn_error e;
    assert_int_equal(tcn_peer_mesh_dial(a.mesh, &rs.addr, &e), TCN_OK);
    dw.downs = a.downs + 1;
    assert_true(run_until(downs_pred, &dw, 2000));
    assert_true(has_down(&a, "RAFT on a connection we dialed"));
    tcn_peer_mesh_forget(a.mesh, rs.nid);
    raw_free(&rs);

    /* A and B never noticed. */
    assert_int_equal(stats(&a).conns_up_in, 1);
    assert_int_equal(stats(&a).conns_up_out, 1);
    assert_int_equal(send_msg(&b, &a, 0, 64), TCN_OK);
    assert_int_equal(send_msg(&a, &b, 0, 64), TCN_OK);
    frames_want w = {&a, 1};
    assert_true(run_until(frames_pred, &w, 2000));
    frames_want wb = {&b, 1};
    assert_true(run_until(frames_pred, &wb, 2000));
    /* The raw peers advertised an address where no one listens: A gives
     * that dial-back up (B's stays). */
    dials_want dwant = {&a, 1};
    assert_true(run_until(dials_pred, &dwant, 5000));
    node_stop(&b);
    node_stop(&a);
}

/* A peer that stops reading: send_raft answers TCN_ERR_BUSY once the output
 * passes the high watermark, and what the mesh holds stays bounded. */
static void test_backpressure(void **state)
{
    (void)state;
    tcn_ratls_policy pol;
    good_policy(&pol);
    tcn_peer_options o;
    test_options(&o);
    o.out_high_water_bytes = 256u * 1024u;
    o.dead_after_ms = 10000; /* the stalled peer sends nothing; this test is not about liveness */
    static node a;
    node_start_opt(&a, 0, g_prov, &pol, 0, &o);
    static raw r;
    raw_listen(&r, g_prov);
    r.read_stop_after_hello = true;
    tcn_error e;
    assert_int_equal(tcn_peer_mesh_dial(a.mesh, &r.addr, &e), TCN_OK);
    node *an[] = {&a};
    assert_true(wait_mesh(an, 1, 0, 1, 3000));

    const size_t msg = 64u * 1024u;
    size_t accepted = 0, max_buffered = 0;
    int busy_rounds = 0;
    for (int i = 0; i < 4000 && busy_rounds < 5; i++) {
        int rc = send_msg(&a, &(node){.nid = r.nid, .index = 0}, (uint32_t)i, msg);
        if (rc == TCN_OK) {
            accepted += msg;
            busy_rounds = 0;
        } else {
            assert_int_equal(rc, TCN_ERR_BUSY);
            busy_rounds++;
            run_for(20); /* let the loop flush what the peer's socket still takes */
        }
        tcn_peer_stats s = stats(&a);
        if (s.out_buffered_bytes > max_buffered)
            max_buffered = s.out_buffered_bytes;
    }
    assert_int_equal(busy_rounds, 5); /* BUSY stays, even with the loop running */
    tcn_peer_stats s = stats(&a);
    assert_true(s.drops_backpressure >= 5);
    assert_true(max_buffered <= o.out_high_water_bytes + msg + TCN_FRAME_HEADER_BYTES + 1024);
    /* The kernel's socket buffers take some; the mesh never took without bound. */
    assert_true(accepted < 64u * 1024u * 1024u);
    assert_int_equal(s.conns_up_out, 1); /* a slow peer is not dropped for it */
    print_message("backpressure: accepted %zu bytes before BUSY held; max buffered %zu\n", accepted, max_buffered);
    raw_free(&r);
    tcn_peer_mesh_free(a.mesh); /* without close_all: everything is freed at once */
    tcn_ratls_identity_free(a.id);
    a.mesh = NULL;
    g_nodes[0] = NULL;
    track((void **)g_running, &a, false);
}

typedef struct {
    node *n;
    uint64_t ok;
} reattest_want;

static bool reattest_pred(void *ctx)
{
    reattest_want *w = ctx;
    return stats(w->n).reattest_ok >= w->ok;
}

/* Re-attestation round-trips on every connection, both ways; a peer that
 * stops answering challenges is dropped. */
static void test_reattestation(void **state)
{
    (void)state;
    tcn_ratls_policy pol;
    good_policy(&pol);
    tcn_peer_options o;
    test_options(&o);
    o.reattest_interval_ms = 60;
    o.reattest_answer_ms = 300;
    static node a, b;
    node_start_opt(&a, 0, g_prov, &pol, 0, &o);
    node_start_opt(&b, 1, g_prov, &pol, 0, &o);
    node_dial(&b, &a);
    node *ab[] = {&a, &b};
    assert_true(wait_mesh(ab, 2, 1, 1, 3000));
    reattest_want wa = {&a, 6}, wb = {&b, 6};
    assert_true(run_until(reattest_pred, &wa, 3000));
    assert_true(run_until(reattest_pred, &wb, 3000));
    assert_int_equal(stats(&a).reattest_failed, 0);
    assert_int_equal(stats(&b).reattest_failed, 0);
    assert_true(wait_mesh(ab, 2, 1, 1, 10));

    /* A raw peer that says HELLO and then ignores challenges. */
    static raw r;
    raw_connect(&r, g_prov, &a);
    assert_true(run_until(raw_connected, &r, 2000));
    raw_hello(&r, r.nid, "127.0.0.1:1");
    node *an[] = {&a};
    assert_true(wait_mesh(an, 1, 2, 1, 2000));
    downs_want dw = {&a, a.downs + 1};
    assert_true(run_until(downs_pred, &dw, 3000));
    assert_true(has_down(&a, "re-attestation: no answer"));
    assert_true(r.challenges >= 1);
    assert_true(run_until(raw_closed, &r, 2000));
    assert_int_equal(r.bye_reason, TCN_FRAME_BYE_ATTESTATION);
    assert_true(stats(&a).reattest_failed >= 1);
    raw_free(&r);

    /* One that answers stays. */
    static raw r2;
    raw_connect(&r2, g_prov, &a);
    r2.answer = true;
    assert_true(run_until(raw_connected, &r2, 2000));
    raw_hello(&r2, r2.nid, "127.0.0.1:1");
    assert_true(wait_mesh(an, 1, 2, 1, 2000));
    run_for(700);
    assert_true(r2.challenges >= 3);
    assert_false(r2.closed);
    assert_int_equal(stats(&a).conns_up_in, 2);
    raw_free(&r2);
    node_stop(&b);
    node_stop(&a);
}

static int64_t g_fake_ms;

static int64_t fake_clock(void *ctx)
{
    (void)ctx;
    return g_fake_ms;
}

/* The mesh reads time only through its clock: jumping an injected clock past
 * the dead-peer timeout drops the peer at the next tick. */
static void test_injected_clock(void **state)
{
    (void)state;
    tcn_ratls_policy pol;
    good_policy(&pol);
    tcn_peer_options o;
    test_options(&o);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    g_fake_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    o.now_ms = fake_clock;
    o.ping_interval_ms = 60000; /* no PING moves anything while we wait */
    o.dead_after_ms = 120000;
    /* B stays silent too (no PING in the test's time): a byte arriving
     * between the jump and A's next tick would renew A's view of B, and a
     * loaded machine makes that likely. */
    tcn_peer_options ob;
    test_options(&ob);
    ob.ping_interval_ms = 60000;
    ob.dead_after_ms = 120000;
    static node a, b;
    node_start_opt(&a, 0, g_prov, &pol, 0, &o);
    node_start_opt(&b, 1, g_prov, &pol, 0, &ob);
    node_dial(&b, &a);
    node *ab[] = {&a, &b};
    assert_true(wait_mesh(ab, 2, 1, 1, 3000));
    run_for(100);
    assert_int_equal(a.downs, 0);
    g_fake_ms += 120001; /* two minutes pass for A only */
    downs_want dw = {&a, 1};
    assert_true(run_until(downs_pred, &dw, 1000));
    assert_true(has_down(&a, "dead: nothing received"));
    node_stop(&b);
    node_stop(&a);
}

/* A forgotten node is cut (BYE REMOVED), not redialed, and refused when it
 * comes back. */
static void test_forget(void **state)
{
    (void)state;
    tcn_ratls_policy pol;
    good_policy(&pol);
    static node a, b;
    node_start(&a, 0, g_prov, &pol);
    node_start(&b, 1, g_prov, &pol);
    node_dial(&a, &b);
    node *ab[] = {&a, &b};
    assert_true(wait_mesh(ab, 2, 1, 1, 3000));
    tcn_peer_mesh_forget(a.mesh, b.nid);
    assert_int_equal(stats(&a).dials, 0);
    run_for(300);
    assert_true(has_down(&b, "BYE REMOVED"));
    assert_true(has_check(&a, "removed")); /* B keeps dialing back; A refuses it */
    assert_int_equal(stats(&a).conns_up_in + stats(&a).conns_up_out, 0);
    assert_int_equal(tcn_peer_mesh_send_raft(a.mesh, b.nid, (const uint8_t *)"x", 1), TCN_ERR_NOT_FOUND);
    node_stop(&b);
    node_stop(&a);
}

/* ---- set-up ------------------------------------------------------------------------- */

static int setup(void **state)
{
    (void)state;
    tcn_error e;
    if (tcn_crypto_init() != TCN_OK || mkdtemp(g_dir) == NULL)
        return -1;
    if (tcn_sim_platform_generate(&g_plat_a, &e) != TCN_OK || tcn_sim_platform_generate(&g_plat_b, &e) != TCN_OK ||
        tcn_sim_platform_save(&g_plat_a, in_dir("a.key"), &e) != TCN_OK ||
        tcn_sim_platform_save(&g_plat_b, in_dir("b.key"), &e) != TCN_OK)
        return -1;
    /* "Another executable": a file of other bytes (the sim measurement is SHA-384 of the file). */
    const char *other = in_dir("other-exe");
    if (tcn_file_write(other, "another build of tcnd\n", 22, 0700, &e) != TCN_OK)
        return -1;
    if (tcn_provider_sim_new(in_dir("a.key"), NULL, &g_prov, &e) != TCN_OK ||
        tcn_provider_sim_new(in_dir("a.key"), other, &g_prov_exe, &e) != TCN_OK ||
        tcn_provider_sim_new(in_dir("b.key"), NULL, &g_prov_plat, &e) != TCN_OK ||
        tcn_sim_measure_self(g_self, &e) != TCN_OK || tcn_sim_measure_file(other, g_other, &e) != TCN_OK) {
        fprintf(stderr, "setup: %s\n", e.msg);
        return -1;
    }
    g_base = event_base_new();
    if (g_base == NULL)
        return -1;
    /* TCN_TEST_LOG=1 shows the mesh's log lines. */
    if (getenv("TCN_TEST_LOG") == NULL) {
        g_log = tmpfile();
        if (g_log == NULL)
            return -1;
        tcn_log_set_stream(g_log);
    } else {
        tcn_log_set_level(TCN_LOG_DEBUG);
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    event_base_free(g_base);
    tcn_provider_free(g_prov);
    tcn_provider_free(g_prov_exe);
    tcn_provider_free(g_prov_plat);
    tcn_sim_platform_free(&g_plat_a);
    tcn_sim_platform_free(&g_plat_b);
    unlink(in_dir("a.key"));
    unlink(in_dir("b.key"));
    unlink(in_dir("other-exe"));
    rmdir(g_dir);
    tcn_log_set_stream(NULL);
    if (g_log != NULL)
        fclose(g_log);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_full_mesh, cleanup),
        cmocka_unit_test_teardown(test_other_measurement_refused, cleanup),
        cmocka_unit_test_teardown(test_other_platform_refused, cleanup),
        cmocka_unit_test_teardown(test_group_mismatch_refused, cleanup),
        cmocka_unit_test_teardown(test_restart_reconnects_with_backoff, cleanup),
        cmocka_unit_test_teardown(test_hello_checks, cleanup),
        cmocka_unit_test_teardown(test_duplicate_inbound_keeps_newer, cleanup),
        cmocka_unit_test_teardown(test_timeouts, cleanup),
        cmocka_unit_test_teardown(test_stale_attestation_dropped, cleanup),
        cmocka_unit_test_teardown(test_bad_bytes_close_one_connection, cleanup),
        cmocka_unit_test_teardown(test_backpressure, cleanup),
        cmocka_unit_test_teardown(test_reattestation, cleanup),
        cmocka_unit_test_teardown(test_forget, cleanup),
        cmocka_unit_test_teardown(test_injected_clock, cleanup),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
