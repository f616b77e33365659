/* The peer mesh: listening, dialing with backoff, the RA-TLS handshake on
 * libevent OpenSSL bufferevents, HELLO checks, frames, keepalive,
 * re-attestation, backpressure and shutdown (docs/NODE.md §3). */
#include "node/peer.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/listener.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sodium.h>

#include "node/frame.h"
#include "util/assert.h"
#include "util/buf.h"
#include "util/encoding.h"
#include "util/log.h"

/* ---- state ------------------------------------------------------------------ */

typedef enum {
    C_TLS = 1,   /* TCP connect and TLS handshake under way */
    C_HELLO = 2, /* the peer is verified; our HELLO sent, waiting for its HELLO */
    C_UP = 3,    /* HELLO accepted, announced with on_peer_up */
    C_CLOSING = 4, /* a BYE is leaving; freed when the peer closes too, or after the linger */
} conn_state;

struct dial;

struct conn {
    struct conn *prev, *next;
    tcn_peer_mesh *m;
    struct bufferevent *bev; /* owns the SSL and the socket */
    SSL *ssl;
    tcn_peer_direction dir;
    struct dial *dial; /* outbound: the dial that made it (NULL once detached) */
    conn_state state;
    bool announced;    /* on_peer_up was called: on_peer_down is owed */
    bool dead;         /* closed: freed when the mesh leaves its outermost call */
    char remote[TCN_NODE_ADDR_CHARS_MAX + 1];
    uint64_t node_id;  /* from the verified key hash (0 before the handshake) */
    tcn_ratls_peer peer; /* the verified record; re-attestation renews it */
    tcn_frame_hello hello;
    tcn_frame_decoder dec;
    int64_t started_ms, verified_ms, last_rx_ms, next_ping_ms, next_reattest_ms, answer_deadline_ms,
        linger_deadline_ms;
    bool fin_sent; /* closing: our BYE is out and our side of TCP shut */
    bool challenge_out;
    uint8_t challenge[TCN_FRAME_CHALLENGE_BYTES];
    uint64_t ping_nonce;
};

struct dial {
    bool used;
    bool auto_added;     /* dialed back from a HELLO (not asked for by the caller) */
    uint32_t failures;   /* attempts in a row that did not reach UP */
    tcn_node_addr addr;
    char text[TCN_NODE_ADDR_CHARS_MAX + 1];
    uint64_t node_id;    /* who answered there last (0: not known yet) */
    struct conn *conn;   /* the outbound connection now, or NULL */
    uint32_t backoff_ms; /* base of the next delay */
    int64_t next_ms;     /* the next attempt, when conn is NULL */
};

struct tcn_peer_mesh {
    struct event_base *base;
    tcn_peer_options opt; /* defaults filled; string fields point into the arrays below */
    char name[TCN_FRAME_HELLO_NAME_BYTES_MAX + 1];
    char api_addr[TCN_FRAME_HELLO_ADDR_BYTES_MAX + 1];
    char peer_addr[TCN_FRAME_HELLO_ADDR_BYTES_MAX + 1]; /* empty until known */
    uint64_t node_id;
    tcn_ratls_identity *id;
    tcn_ratls_policy pol;
    SSL_CTX *srv, *cli;
    tcn_peer_callbacks cb;
    struct evconnlistener *lis;
    tcn_node_addr bound;
    bool bound_set;
    struct event *tick;
    struct conn *conns;
    size_t nconns;
    struct dial dials[TCN_PEER_DIALS_MAX];
    uint64_t forgotten[TCN_PEER_FORGOTTEN_MAX];
    size_t nforgotten;
    bool group_set;
    uint8_t group[TCN_FRAME_GROUP_ID_BYTES];
    bool closing;
    /* Nesting of our entry points (libevent callbacks, public calls). A
     * closed connection is only marked dead and freed when the outermost
     * one returns, so no caller up the stack (a user callback that forgets
     * a node, a loop over connections) is left holding a freed pointer. */
    int depth;
    tcn_peer_stats st;
    tcn_buf scratch;
};

/* ---- small helpers ------------------------------------------------------------ */

const char *tcn_peer_direction_name(tcn_peer_direction d) { return d == TCN_PEER_INBOUND ? "in" : "out"; }

uint64_t tcn_peer_node_id_from_key_hash(const uint8_t h[TCN_RATLS_KEY_HASH_LEN])
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | h[i];
    return v;
}

uint64_t tcn_peer_mesh_node_id(const tcn_peer_mesh *m) { return m->node_id; }

static int64_t wall_ms(void *ctx)
{
    (void)ctx;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sodium_random(void *ctx, void *out, size_t len)
{
    (void)ctx;
    randombytes_buf(out, len);
}

static int64_t now_ms(const tcn_peer_mesh *m) { return m->opt.now_ms(m->opt.clock_ctx); }

static uint32_t rand_u32(tcn_peer_mesh *m)
{
    uint32_t r;
    m->opt.random(m->opt.random_ctx, &r, sizeof(r));
    return r;
}

static void id_hex(uint64_t id, char out[17]) { snprintf(out, 17, "%016llx", (unsigned long long)id); }

/* A delay drawn from [d/2, d] ("equal jitter"): peers that lost each other
 * at the same instant do not redial in lockstep. */
static uint32_t jitter(tcn_peer_mesh *m, uint32_t d)
{
    uint32_t half = d / 2;
    return half + rand_u32(m) % (d - half + 1);
}

static bool forgotten(const tcn_peer_mesh *m, uint64_t id)
{
    for (size_t i = 0; i < m->nforgotten; i++)
        if (m->forgotten[i] == id)
            return true;
    return false;
}

static void sockaddr_text(const struct sockaddr *sa, char *out, size_t cap)
{
    char ip[INET6_ADDRSTRLEN] = "?";
    unsigned port = 0;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;
        inet_ntop(AF_INET, &s4->sin_addr, ip, sizeof(ip));
        port = ntohs(s4->sin_port);
        snprintf(out, cap, "%s:%u", ip, port);
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
        inet_ntop(AF_INET6, &s6->sin6_addr, ip, sizeof(ip));
        port = ntohs(s6->sin6_port);
        snprintf(out, cap, "[%s]:%u", ip, port);
    } else {
        snprintf(out, cap, "?");
    }
}

/* An IP literal address as a sockaddr. */
static int addr_sockaddr(const tcn_node_addr *a, struct sockaddr_storage *ss, socklen_t *len, tcn_error *err)
{
    memset(ss, 0, sizeof(*ss));
    if (a->kind == TCN_NODE_HOST_IPV4) {
        struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
        s4->sin_family = AF_INET;
        s4->sin_port = htons(a->port);
        TCN_ENSURE(inet_pton(AF_INET, a->host, &s4->sin_addr) == 1, err, TCN_ERR_USAGE, "peer: bad IPv4 '%s'",
                   a->host);
        *len = sizeof(*s4);
        return TCN_OK;
    }
    if (a->kind == TCN_NODE_HOST_IPV6) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons(a->port);
        TCN_ENSURE(inet_pton(AF_INET6, a->host, &s6->sin6_addr) == 1, err, TCN_ERR_USAGE, "peer: bad IPv6 '%s'",
                   a->host);
        *len = sizeof(*s6);
        return TCN_OK;
    }
    /* A host name (a join address): the system resolver, blocking. Peers are
     * authenticated by attestation, not by address (docs/NODE.md). */
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    char port[8];
    snprintf(port, sizeof(port), "%u", a->port);
    int rc = getaddrinfo(a->host, port, &hints, &res);
    TCN_ENSURE(rc == 0 && res != NULL, err, TCN_ERR_IO, "peer: cannot resolve '%s': %s", a->host,
               rc != 0 ? gai_strerror(rc) : "no address");
    memcpy(ss, res->ai_addr, res->ai_addrlen);
    *len = res->ai_addrlen;
    freeaddrinfo(res);
    return TCN_OK;
}

/* ---- connections: lifetime ---------------------------------------------------- */

static void conn_free_now(struct conn *c)
{
    tcn_peer_mesh *m = c->m;
    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        m->conns = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    m->nconns--;
    if (c->dial != NULL && c->dial->conn == c)
        c->dial->conn = NULL;
    if (c->bev != NULL)
        bufferevent_free(c->bev); /* BEV_OPT_CLOSE_ON_FREE: SSL_free and close */
    tcn_frame_decoder_free(&c->dec);
    free(c);
}

/* Marks a connection dead: no event reaches it any more; leave() frees it. */
static void conn_free(struct conn *c)
{
    if (c->dead)
        return;
    c->dead = true;
    if (c->dial != NULL && c->dial->conn == c)
        c->dial->conn = NULL;
    c->dial = NULL;
    bufferevent_disable(c->bev, EV_READ | EV_WRITE);
}

static void enter(tcn_peer_mesh *m) { m->depth++; }

static void leave(tcn_peer_mesh *m)
{
    TCN_ASSERT(m->depth > 0);
    if (--m->depth > 0)
        return;
    for (struct conn *c = m->conns, *next; c != NULL; c = next) {
        next = c->next;
        if (c->dead)
            conn_free_now(c);
    }
}

static void dial_remove(struct dial *d)
{
    if (d->conn != NULL) {
        d->conn->dial = NULL;
        d->conn = NULL;
    }
    memset(d, 0, sizeof(*d));
}

/* The dial behind an outbound connection that ended: redial after a delay.
 * A connection that reached UP restarts the backoff from its minimum. */
static void dial_detach(struct conn *c, bool was_up)
{
    struct dial *d = c->dial;
    if (d == NULL)
        return;
    c->dial = NULL;
    if (d->conn == c)
        d->conn = NULL;
    tcn_peer_mesh *m = c->m;
    if (was_up) {
        d->backoff_ms = m->opt.backoff_min_ms;
        d->failures = 0;
    } else if (++d->failures >= TCN_PEER_AUTO_DIAL_FAILURES_MAX && d->auto_added) {
        /* A dial-back whose node is gone (it restarted elsewhere, or left):
         * the table must not fill with dead addresses. If the node comes
         * back it dials us, and we dial it back again. */
        tcn_log(TCN_LOG_INFO, "peer: no longer dialing back an address that does not answer", "addr", d->text,
                NULL);
        dial_remove(d);
        return;
    }
    uint32_t delay = jitter(m, d->backoff_ms);
    d->next_ms = now_ms(m) + delay;
    d->backoff_ms = d->backoff_ms > m->opt.backoff_max_ms / 2 ? m->opt.backoff_max_ms : d->backoff_ms * 2;
}

static void user_peer_down(struct conn *c, const char *why)
{
    tcn_peer_mesh *m = c->m;
    if (!c->announced)
        return;
    c->announced = false;
    if (c->dir == TCN_PEER_INBOUND)
        m->st.conns_up_in--;
    else
        m->st.conns_up_out--;
    if (m->cb.on_peer_down != NULL)
        m->cb.on_peer_down(m->cb.ctx, c->node_id, c->dir, why);
}

static int write_frame(struct conn *c, const tcn_frame *f);

/* Ends a connection: logs why, tells the user if it was up, and either cuts
 * it (bye == 0) or sends BYE with that reason and cuts it once written. */
static void conn_close(struct conn *c, int bye, const char *why)
{
    if (c->state == C_CLOSING || c->dead)
        return;
    tcn_peer_mesh *m = c->m;
    /* Closing from here on: a user callback below that closes it again
     * (tcn_peer_mesh_forget) finds it closing. */
    bool can_bye = bye != 0 && c->state != C_TLS;
    c->state = C_CLOSING;
    char node[17];
    id_hex(c->node_id, node);
    tcn_log(c->announced ? TCN_LOG_INFO : TCN_LOG_WARN, "peer: connection closed", "remote", c->remote, "node",
            node, "dir", tcn_peer_direction_name(c->dir), "why", why, NULL);
    bool was_up = c->announced;
    dial_detach(c, was_up);
    user_peer_down(c, why);
    if (can_bye && !c->dead) {
        tcn_frame f;
        memset(&f, 0, sizeof(f));
        f.type = TCN_FRAME_BYE;
        f.u.bye.reason = (uint16_t)bye;
        /* The text goes to the peer's log: a short fixed word, never our
         * error message (which may name our policy's details). */
        snprintf(f.u.bye.text, sizeof(f.u.bye.text), "%s", tcn_frame_bye_reason_name(bye));
        /* Reading goes on (and is discarded) until the BYE is out: closing a
         * socket with unread input would reset it and could lose the BYE. */
        if (write_frame(c, &f) == TCN_OK) {
            c->linger_deadline_ms = now_ms(m) + TCN_PEER_LINGER_MS;
            return; /* the write callback shuts our side once the BYE is out */
        }
    }
    conn_free(c);
}

/* A refusal by one of our checks after the handshake: counted, reported,
 * BYE, close. */
static void conn_refuse(struct conn *c, const char *check, int bye, const char *fmt, ...) TCN_PRINTF(4, 5);
static void conn_refuse(struct conn *c, const char *check, int bye, const char *fmt, ...)
{
    tcn_peer_mesh *m = c->m;
    char why[TCN_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof(why), fmt, ap);
    va_end(ap);
    char node[17];
    id_hex(c->node_id, node);
    tcn_log(TCN_LOG_WARN, "peer: refused", "remote", c->remote, "node", node, "dir", tcn_peer_direction_name(c->dir),
            "check", check, "error", why, NULL);
    m->st.refusals++;
    if (c->state != C_CLOSING && !c->dead) {
        /* Closed before the user hears of it, so the refused peer gets
         * nothing more even if the callback sends. */
        conn_close(c, bye, why);
    }
    if (m->cb.on_refused != NULL)
        m->cb.on_refused(m->cb.ctx, c->remote, check, why);
}

/* ---- sending ------------------------------------------------------------------ */

/* The output bound every frame respects: beyond it the peer is not reading. */
static size_t out_hard_limit(const tcn_peer_mesh *m) { return m->opt.out_high_water_bytes + TCN_PEER_OUT_SLACK_BYTES; }

static int queue_bytes(struct conn *c, const void *hdr, size_t hlen, const void *p, size_t n)
{
    struct evbuffer *out = bufferevent_get_output(c->bev);
    if (evbuffer_get_length(out) + hlen + n > out_hard_limit(c->m))
        return TCN_ERR_BUSY;
    /* A frame goes out whole or not at all: half a frame would desynchronise
     * the stream. Built aside, then moved (moving chains does not copy). */
    struct evbuffer *tmp = evbuffer_new();
    int ok = tmp != NULL && evbuffer_add(tmp, hdr, hlen) == 0 && (n == 0 || evbuffer_add(tmp, p, n) == 0) &&
             evbuffer_add_buffer(out, tmp) == 0;
    if (tmp != NULL)
        evbuffer_free(tmp);
    if (!ok)
        return TCN_ERR_NOMEM;
    c->m->st.frames_out++;
    c->m->st.bytes_out += hlen + n;
    return TCN_OK;
}

static int write_frame(struct conn *c, const tcn_frame *f)
{
    tcn_peer_mesh *m = c->m;
    tcn_error e;
    m->scratch.len = 0;
    TCN_ASSERT(tcn_frame_encode(f, &m->scratch, &e) == TCN_OK); /* we build only valid frames */
    int rc = queue_bytes(c, m->scratch.p, m->scratch.len, NULL, 0);
    if (m->scratch.cap > TCN_FRAME_DECODER_BUF_KEEP)
        tcn_buf_free(&m->scratch); /* evidence is the largest; do not keep a big buffer */
    return rc;
}

/* A control frame on a live connection; a peer that does not read is dropped. */
static void send_control(struct conn *c, const tcn_frame *f)
{
    int rc = write_frame(c, f);
    if (rc == TCN_ERR_BUSY)
        conn_close(c, 0, "the peer does not read: output beyond its bound");
    else if (rc != TCN_OK)
        conn_close(c, 0, "out of memory queuing a frame");
}

static void send_hello(struct conn *c)
{
    tcn_peer_mesh *m = c->m;
    tcn_frame f;
    memset(&f, 0, sizeof(f));
    f.type = TCN_FRAME_HELLO;
    f.u.hello.protocol_version = TCN_NODE_PROTOCOL_VERSION;
    f.u.hello.node_id = m->node_id;
    if (m->group_set)
        memcpy(f.u.hello.group_id, m->group, sizeof(m->group));
    snprintf(f.u.hello.name, sizeof(f.u.hello.name), "%s", m->name);
    snprintf(f.u.hello.api_addr, sizeof(f.u.hello.api_addr), "%s", m->api_addr);
    snprintf(f.u.hello.peer_addr, sizeof(f.u.hello.peer_addr), "%s", m->peer_addr);
    send_control(c, &f);
}

int tcn_peer_mesh_send_raft(tcn_peer_mesh *m, uint64_t node_id, const uint8_t *bytes, size_t len)
{
    if (len == 0 || len > TCN_FRAME_PAYLOAD_MAX || bytes == NULL)
        return TCN_ERR_USAGE;
    /* No callback runs from here (BEV_OPT_DEFER_CALLBACKS): nothing to enter. */
    for (struct conn *c = m->conns; c != NULL; c = c->next) {
        if (c->dir != TCN_PEER_OUTBOUND || c->state != C_UP || c->node_id != node_id || c->dead)
            continue;
        struct evbuffer *out = bufferevent_get_output(c->bev);
        if (evbuffer_get_length(out) >= m->opt.out_high_water_bytes) {
            m->st.drops_backpressure++;
            return TCN_ERR_BUSY;
        }
        uint8_t hdr[TCN_FRAME_HEADER_BYTES] = {TCN_FRAME_MAGIC,       TCN_FRAME_VERSION,    TCN_FRAME_RAFT,
                                               0,
                                               (uint8_t)(len >> 24), (uint8_t)(len >> 16), (uint8_t)(len >> 8),
                                               (uint8_t)len};
        int rc = queue_bytes(c, hdr, sizeof(hdr), bytes, len);
        if (rc == TCN_ERR_BUSY)
            m->st.drops_backpressure++;
        return rc;
    }
    return TCN_ERR_NOT_FOUND;
}

/* ---- receiving ----------------------------------------------------------------- */

static void announce_up(struct conn *c)
{
    tcn_peer_mesh *m = c->m;
    c->announced = true;
    if (c->dir == TCN_PEER_INBOUND)
        m->st.conns_up_in++;
    else
        m->st.conns_up_out++;
    char node[17], key[2 * TCN_RATLS_KEY_HASH_LEN + 1];
    id_hex(c->node_id, node);
    tcn_hex_encode(c->peer.key_hash, TCN_RATLS_KEY_HASH_LEN, key);
    tcn_log(TCN_LOG_INFO, "peer: up", "remote", c->remote, "node", node, "name", c->hello.name, "dir",
            tcn_peer_direction_name(c->dir), "peer_addr", c->hello.peer_addr, "peer_key", key, NULL);
    if (m->cb.on_peer_up == NULL)
        return;
    tcn_peer_info info = {
        .node_id = c->node_id,
        .direction = c->dir,
        .name = c->hello.name,
        .api_addr = c->hello.api_addr,
        .peer_addr = c->hello.peer_addr,
        .remote = c->remote,
        .group_id = c->hello.group_id,
        .attested = &c->peer,
    };
    m->cb.on_peer_up(m->cb.ctx, &info);
}

static int dial_add(tcn_peer_mesh *m, const tcn_node_addr *addr, struct dial **out, tcn_error *err);
static void dial_attempt(tcn_peer_mesh *m, struct dial *d);

/* A peer that dialed us and that we do not dial yet: dial it back where its
 * HELLO says it listens (a new node becomes reachable by dialing us). */
static void dial_back(struct conn *c)
{
    tcn_peer_mesh *m = c->m;
    for (size_t i = 0; i < TCN_PEER_DIALS_MAX; i++) {
        struct dial *d = &m->dials[i];
        if (d->used && (d->node_id == c->node_id || strcmp(d->text, c->hello.peer_addr) == 0))
            return;
    }
    tcn_node_addr a;
    const char *why = NULL;
    /* The frame decoder checked it is a canonical IP literal. */
    if (tcn_node_addr_parse(c->hello.peer_addr, strlen(c->hello.peer_addr), false, &a, &why) != TCN_OK)
        return;
    struct dial *d = NULL;
    tcn_error e;
    if (dial_add(m, &a, &d, &e) != TCN_OK) {
        tcn_log(TCN_LOG_WARN, "peer: cannot dial back", "peer_addr", c->hello.peer_addr, "error", e.msg, NULL);
        return;
    }
    tcn_log(TCN_LOG_INFO, "peer: dialing back a peer that dialed us", "peer_addr", c->hello.peer_addr, NULL);
    d->node_id = c->node_id;
    d->auto_added = true;
    dial_attempt(m, d);
}

static bool group_zero(const uint8_t *g)
{
    for (size_t i = 0; i < TCN_FRAME_GROUP_ID_BYTES; i++)
        if (g[i] != 0)
            return false;
    return true;
}

static void on_hello(struct conn *c, const tcn_frame_hello *h)
{
    tcn_peer_mesh *m = c->m;
    if (h->protocol_version != TCN_NODE_PROTOCOL_VERSION) {
        conn_refuse(c, "version", TCN_FRAME_BYE_VERSION, "HELLO: protocol version %u, this node speaks %u",
                    h->protocol_version, TCN_NODE_PROTOCOL_VERSION);
        return;
    }
    if (h->node_id != c->node_id) {
        conn_refuse(c, "node-id", TCN_FRAME_BYE_ATTESTATION,
                    "HELLO: node_id %016llx is not the id of the peer's attested key (%016llx)",
                    (unsigned long long)h->node_id, (unsigned long long)c->node_id);
        return;
    }
    if (!group_zero(h->group_id)) {
        if (m->group_set && memcmp(h->group_id, m->group, TCN_FRAME_GROUP_ID_BYTES) != 0) {
            conn_refuse(c, "group", TCN_FRAME_BYE_GROUP, "HELLO: the peer is a member of another group");
            return;
        }
        if (c->peer.group_present && memcmp(h->group_id, c->peer.group_id, TCN_FRAME_GROUP_ID_BYTES) != 0) {
            conn_refuse(c, "group", TCN_FRAME_BYE_GROUP, "HELLO: group id differs from the attested one");
            return;
        }
    }
    /* DUPLICATE. Inbound: keep the newer connection. The id is bound to a
     * key only that node holds, so a second inbound connection is that node
     * reconnecting, typically because it saw the old one die first; the old
     * one is then half-open and keeping it would shut the peer out until the
     * dead-peer timeout. Outbound: we chose to dial, so two outbound
     * connections to one node mean two addresses reach it (a join name and
     * its advertised address): keep the one we have, refuse the newer and
     * stop dialing the address that produced it. */
    for (struct conn *o = m->conns; o != NULL; o = o->next) {
        if (o == c || o->dir != c->dir || o->node_id != c->node_id || o->state != C_UP || o->dead)
            continue;
        if (c->dir == TCN_PEER_INBOUND) {
            conn_close(o, TCN_FRAME_BYE_DUPLICATE, "replaced by a newer connection from the same node");
            break;
        }
        struct dial *d = c->dial;
        conn_refuse(c, "duplicate", TCN_FRAME_BYE_DUPLICATE, "a second outbound connection to the node (via %s)",
                    d != NULL ? d->text : "?");
        if (d != NULL)
            dial_remove(d);
        return;
    }
    c->hello = *h;
    c->state = C_UP;
    int64_t now = now_ms(m);
    c->next_ping_ms = now + m->opt.ping_interval_ms;
    c->next_reattest_ms = now + m->opt.reattest_interval_ms;
    if (c->dial != NULL) {
        c->dial->node_id = c->node_id;
        c->dial->backoff_ms = m->opt.backoff_min_ms;
    }
    announce_up(c);
    if (c->dir == TCN_PEER_INBOUND && !c->dead && c->state == C_UP && !m->closing)
        dial_back(c);
}

static void on_challenge(struct conn *c, const uint8_t *challenge)
{
    tcn_peer_mesh *m = c->m;
    tcn_buf blob = {0};
    tcn_error e;
    if (tcn_ratls_fresh_evidence(m->id, challenge, &blob, &e) != TCN_OK) {
        tcn_log(TCN_LOG_ERROR, "peer: cannot produce fresh evidence", "remote", c->remote, "error", e.msg, NULL);
        tcn_buf_free(&blob);
        conn_close(c, TCN_FRAME_BYE_ATTESTATION, "cannot produce fresh evidence");
        return;
    }
    tcn_frame f;
    memset(&f, 0, sizeof(f));
    f.type = TCN_FRAME_REATTEST_EVIDENCE;
    f.u.evidence.p = blob.p;
    f.u.evidence.len = blob.len;
    send_control(c, &f);
    tcn_buf_free(&blob);
}

static void on_evidence(struct conn *c, const tcn_frame_bytes *ev)
{
    tcn_peer_mesh *m = c->m;
    if (!c->challenge_out) {
        conn_refuse(c, "protocol", TCN_FRAME_BYE_PROTOCOL, "REATTEST_EVIDENCE without a challenge");
        return;
    }
    c->challenge_out = false;
    tcn_ratls_peer *fresh = malloc(sizeof(*fresh));
    if (fresh == NULL) {
        conn_close(c, 0, "out of memory");
        return;
    }
    tcn_error e;
    tcn_err_clear(&e);
    int rc = tcn_ratls_verify_fresh(ev->p, ev->len, &m->pol, &c->peer, c->challenge, fresh, &e);
    if (rc != TCN_OK) {
        m->st.reattest_failed++;
        conn_refuse(c, tcn_ratls_reason_name(fresh->reason), TCN_FRAME_BYE_ATTESTATION, "re-attestation: %s",
                    e.msg);
    } else {
        c->peer = *fresh;
        m->st.reattest_ok++;
        char node[17];
        id_hex(c->node_id, node);
        tcn_log(TCN_LOG_DEBUG, "peer: re-attested", "remote", c->remote, "node", node, NULL);
    }
    free(fresh);
}

static int on_frame(void *ctx, const tcn_frame *f, tcn_error *err)
{
    struct conn *c = ctx;
    tcn_peer_mesh *m = c->m;
    m->st.frames_in++;
    if (c->state == C_HELLO && f->type != TCN_FRAME_HELLO && f->type != TCN_FRAME_BYE) {
        conn_refuse(c, "protocol", TCN_FRAME_BYE_PROTOCOL, "%s before HELLO", tcn_frame_type_name(f->type));
    } else {
        switch (f->type) {
        case TCN_FRAME_HELLO:
            if (c->state != C_HELLO)
                conn_refuse(c, "protocol", TCN_FRAME_BYE_PROTOCOL, "a second HELLO");
            else
                on_hello(c, &f->u.hello);
            break;
        case TCN_FRAME_RAFT:
            /* Peers send Raft only on the connection they dialed. */
            if (c->dir != TCN_PEER_INBOUND) {
                conn_close(c, TCN_FRAME_BYE_PROTOCOL, "RAFT on a connection we dialed");
            } else if (m->cb.on_raft != NULL) {
                m->cb.on_raft(m->cb.ctx, c->node_id, f->u.raft.p, f->u.raft.len);
            }
            break;
        case TCN_FRAME_REATTEST_CHALLENGE:
            on_challenge(c, f->u.challenge);
            break;
        case TCN_FRAME_REATTEST_EVIDENCE:
            on_evidence(c, &f->u.evidence);
            break;
        case TCN_FRAME_PING: {
            tcn_frame p;
            memset(&p, 0, sizeof(p));
            p.type = TCN_FRAME_PONG;
            p.u.ping.nonce = f->u.ping.nonce;
            p.u.ping.clock_ms = (uint64_t)now_ms(m);
            send_control(c, &p);
            break;
        }
        case TCN_FRAME_PONG:
            /* Liveness is any byte received; the group clock (DESIGN §4
             * "Time") will read the answerer's clock here. */
            break;
        case TCN_FRAME_BYE: {
            char why[TCN_FRAME_BYE_TEXT_BYTES_MAX + 64];
            snprintf(why, sizeof(why), "the peer said BYE %s (%s)", tcn_frame_bye_reason_name(f->u.bye.reason),
                     f->u.bye.text);
            conn_close(c, 0, why);
            break;
        }
        }
    }
    /* A closed connection reads no further frame. */
    if (c->dead || c->state == C_CLOSING)
        return tcn_err_set(err, TCN_ERR_IO, "peer: connection closed");
    return TCN_OK;
}

static void read_cb(struct bufferevent *bev, void *ctx)
{
    struct conn *c = ctx;
    tcn_peer_mesh *m = c->m;
    struct evbuffer *in = bufferevent_get_input(bev);
    enter(m);
    while (!c->dead && c->state != C_CLOSING && evbuffer_get_length(in) > 0) {
        struct evbuffer_iovec v;
        if (evbuffer_peek(in, -1, NULL, &v, 1) < 1 || v.iov_len == 0)
            break;
        size_t n = v.iov_len;
        c->last_rx_ms = now_ms(m);
        m->st.bytes_in += n;
        tcn_error e;
        tcn_err_clear(&e);
        int rc = tcn_frame_decoder_feed(&c->dec, v.iov_base, n, on_frame, c, &e);
        evbuffer_drain(in, n);
        if (rc != TCN_OK && !c->dead && c->state != C_CLOSING) {
            if (c->state == C_UP)
                conn_close(c, TCN_FRAME_BYE_PROTOCOL, e.msg);
            else
                conn_refuse(c, "protocol", TCN_FRAME_BYE_PROTOCOL, "%s", e.msg);
        }
    }
    if (c->dead || c->state == C_CLOSING)
        evbuffer_drain(in, evbuffer_get_length(in));
    leave(m);
}

static void write_cb(struct bufferevent *bev, void *ctx)
{
    struct conn *c = ctx;
    enter(c->m);
    /* The BYE is written: send FIN and keep reading (and discarding) until
     * the peer closes too. Closing the socket at once would answer whatever
     * the peer sent meanwhile with a reset, and a reset can make the peer's
     * kernel drop our BYE before it is read. */
    if (c->state == C_CLOSING && !c->dead && !c->fin_sent && evbuffer_get_length(bufferevent_get_output(bev)) == 0) {
        c->fin_sent = true;
        if (shutdown(bufferevent_getfd(bev), SHUT_WR) != 0)
            conn_free(c);
    }
    leave(c->m);
}

/* ---- the handshake ------------------------------------------------------------- */

/* What ended a connection, in one line: the peer's TLS alert, another TLS
 * error, the socket's error, or a plain end of stream. libevent keeps the
 * OpenSSL errors of the bufferevent; when the socket failed it pushes the
 * SSL_get_error kind (a code of no library) and errno says why. */
static void describe_error(struct conn *c, short events, bool handshake, char *why, size_t cap)
{
    int sys = EVUTIL_SOCKET_ERROR();
    bool sys_failed = false;
    why[0] = '\0';
    unsigned long oe;
    while ((oe = bufferevent_get_openssl_error(c->bev)) != 0) {
        if (why[0] != '\0')
            continue;
        if (ERR_GET_LIB(oe) == 0 || ERR_GET_LIB(oe) == ERR_LIB_SYS) {
            sys_failed = true;
            continue;
        }
        const char *text = ERR_reason_error_string(oe);
        char buf[256];
        if (text == NULL) {
            ERR_error_string_n(oe, buf, sizeof(buf));
            text = buf;
        }
        snprintf(why, cap, "tls: %s%s", ERR_GET_REASON(oe) >= SSL_AD_REASON_OFFSET ? "refused by the peer: " : "",
                 text);
    }
    ERR_clear_error();
    if (why[0] != '\0')
        return;
    if (!sys_failed && !(events & BEV_EVENT_ERROR))
        sys = 0;
    if (sys != 0)
        snprintf(why, cap, "%s: %s", handshake ? "connection failed" : "I/O error", strerror(sys));
    else if (handshake)
        snprintf(why, cap, "the connection closed during the TLS handshake");
    else
        snprintf(why, cap, "the peer closed the connection%s",
                 tcn_frame_decoder_pending(&c->dec) ? " in the middle of a frame" : "");
}

/* Why a handshake failed, for the log: our refusal, the peer's alert, or I/O. */
static void handshake_failed(struct conn *c, short events)
{
    tcn_ratls_reason r = tcn_ratls_ssl_refusal(c->ssl);
    if (r != TCN_RATLS_OK) {
        const tcn_ratls_peer *p = NULL;
        tcn_error e;
        tcn_err_clear(&e);
        if (tcn_ratls_ssl_peer(c->ssl, &p, &e) == TCN_OK) /* refused: it returns the refusal */
            tcn_err_set(&e, TCN_ERR_INTERNAL, "ratls: refused by %s", tcn_ratls_reason_name(r));
        while (bufferevent_get_openssl_error(c->bev) != 0) {
        }
        conn_refuse(c, tcn_ratls_reason_name(r), 0, "%s", e.msg);
        return;
    }
    char why[512];
    describe_error(c, events, true, why, sizeof(why));
    conn_close(c, 0, why);
}

static void handshake_done(struct conn *c)
{
    tcn_peer_mesh *m = c->m;
    const tcn_ratls_peer *p = NULL;
    tcn_error e;
    tcn_err_clear(&e);
    int rc = tcn_ratls_ssl_peer(c->ssl, &p, &e);
    if (rc != TCN_OK || p == NULL) {
        /* The verify callback always runs for peers (a certificate is
         * required both ways); be strict anyway. */
        conn_refuse(c, "attestation", 0, "no verified peer after the handshake: %s", e.msg);
        return;
    }
    c->peer = *p;
    c->node_id = tcn_peer_node_id_from_key_hash(p->key_hash);
    c->verified_ms = now_ms(m);
    c->last_rx_ms = c->verified_ms;
    /* Verified: from here on a refusal may tell it why with a BYE. */
    c->state = C_HELLO;
    bufferevent_setwatermark(c->bev, EV_READ, 0, m->opt.in_high_water_bytes);
    bufferevent_enable(c->bev, EV_READ | EV_WRITE);
    if (c->node_id == 0) {
        conn_refuse(c, "node-id", TCN_FRAME_BYE_ATTESTATION, "the peer's key hashes to node id 0");
        return;
    }
    if (c->node_id == m->node_id) {
        /* We dialed ourselves (our own address in a join list). */
        tcn_log(TCN_LOG_INFO, "peer: dialed ourselves; not dialing that address again", "remote", c->remote, NULL);
        struct dial *d = c->dial;
        conn_close(c, 0, "this is our own node");
        if (d != NULL)
            dial_remove(d);
        return;
    }
    if (forgotten(m, c->node_id)) {
        conn_refuse(c, "removed", TCN_FRAME_BYE_REMOVED, "the node was removed from the mesh");
        return;
    }
    /* Only now, with the peer verified, does it hear anything from us. */
    send_hello(c);
}

static void conn_event(struct conn *c, short events);

static void event_cb(struct bufferevent *bev, short events, void *ctx)
{
    (void)bev;
    struct conn *c = ctx;
    tcn_peer_mesh *m = c->m;
    enter(m);
    if (!c->dead)
        conn_event(c, events);
    leave(m);
}

static void conn_event(struct conn *c, short events)
{
    if (c->state == C_CLOSING) {
        if (events & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
            conn_free(c);
        return;
    }
    if (events & BEV_EVENT_CONNECTED) {
        if (c->state == C_TLS)
            handshake_done(c);
        return;
    }
    if (!(events & (BEV_EVENT_EOF | BEV_EVENT_ERROR)))
        return;
    if (c->state == C_TLS) {
        handshake_failed(c, events);
        return;
    }
    char why[512];
    describe_error(c, events, false, why, sizeof(why));
    conn_close(c, 0, why);
}

static struct conn *conn_new(tcn_peer_mesh *m, tcn_peer_direction dir, evutil_socket_t fd, const char *remote)
{
    if (m->nconns >= TCN_PEER_CONNS_MAX) {
        tcn_log(TCN_LOG_WARN, "peer: too many connections; refusing one", "remote", remote, NULL);
        return NULL;
    }
    struct conn *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return NULL;
    c->ssl = SSL_new(dir == TCN_PEER_INBOUND ? m->srv : m->cli);
    if (c->ssl == NULL) {
        ERR_clear_error();
        free(c);
        return NULL;
    }
    c->bev = bufferevent_openssl_socket_new(
        m->base, fd, c->ssl, dir == TCN_PEER_INBOUND ? BUFFEREVENT_SSL_ACCEPTING : BUFFEREVENT_SSL_CONNECTING,
        BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
    if (c->bev == NULL) {
        SSL_free(c->ssl);
        free(c);
        return NULL;
    }
    /* A peer that vanishes without close_notify is an ordinary EOF. */
    bufferevent_openssl_set_allow_dirty_shutdown(c->bev, 1);
    bufferevent_setcb(c->bev, read_cb, write_cb, event_cb, c);
    c->m = m;
    c->dir = dir;
    c->state = C_TLS;
    c->started_ms = now_ms(m);
    snprintf(c->remote, sizeof(c->remote), "%s", remote);
    c->next = m->conns;
    if (m->conns != NULL)
        m->conns->prev = c;
    m->conns = c;
    m->nconns++;
    return c;
}

/* Raft messages and PINGs are small and their latency is the point (a
 * heartbeat held back by Nagle's algorithm delays every commit and every
 * failover): no coalescing delay on peer sockets. */
static void set_nodelay(evutil_socket_t fd)
{
    int one = 1;
    if (fd >= 0)
        (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

static void accept_cb(struct evconnlistener *lis, evutil_socket_t fd, struct sockaddr *sa, int len, void *ctx)
{
    (void)lis, (void)len;
    tcn_peer_mesh *m = ctx;
    char remote[TCN_NODE_ADDR_CHARS_MAX + 1];
    sockaddr_text(sa, remote, sizeof(remote));
    set_nodelay(fd);
    if (m->closing || conn_new(m, TCN_PEER_INBOUND, fd, remote) == NULL)
        evutil_closesocket(fd);
}

static void dial_attempt(tcn_peer_mesh *m, struct dial *d)
{
    TCN_ASSERT(d->used && d->conn == NULL);
    m->st.dial_attempts++;
    struct sockaddr_storage ss;
    socklen_t len = 0;
    tcn_error e;
    if (addr_sockaddr(&d->addr, &ss, &len, &e) != TCN_OK) {
        tcn_log(TCN_LOG_WARN, "peer: cannot dial", "addr", d->text, "error", e.msg, NULL);
        d->next_ms = now_ms(m) + jitter(m, d->backoff_ms);
        d->backoff_ms = d->backoff_ms > m->opt.backoff_max_ms / 2 ? m->opt.backoff_max_ms : d->backoff_ms * 2;
        return;
    }
    struct conn *c = conn_new(m, TCN_PEER_OUTBOUND, -1, d->text);
    if (c == NULL) {
        d->next_ms = now_ms(m) + jitter(m, d->backoff_ms);
        return;
    }
    c->dial = d;
    d->conn = c;
    if (bufferevent_socket_connect(c->bev, (struct sockaddr *)&ss, (int)len) != 0) {
        conn_close(c, 0, "connect failed");
        return;
    }
    set_nodelay(bufferevent_getfd(c->bev));
}

static int dial_add(tcn_peer_mesh *m, const tcn_node_addr *addr, struct dial **out, tcn_error *err)
{
    char text[TCN_NODE_ADDR_CHARS_MAX + 1];
    tcn_node_addr_format(addr, text, sizeof(text));
    struct dial *free_slot = NULL;
    for (size_t i = 0; i < TCN_PEER_DIALS_MAX; i++) {
        struct dial *d = &m->dials[i];
        if (d->used && strcmp(d->text, text) == 0) {
            *out = d;
            return TCN_OK;
        }
        if (!d->used && free_slot == NULL)
            free_slot = d;
    }
    TCN_ENSURE(free_slot != NULL, err, TCN_ERR_BUSY, "peer: already dialing %u addresses", TCN_PEER_DIALS_MAX);
    memset(free_slot, 0, sizeof(*free_slot));
    free_slot->used = true;
    free_slot->addr = *addr;
    snprintf(free_slot->text, sizeof(free_slot->text), "%s", text);
    free_slot->backoff_ms = m->opt.backoff_min_ms;
    free_slot->next_ms = now_ms(m);
    *out = free_slot;
    return TCN_OK;
}

int tcn_peer_mesh_dial(tcn_peer_mesh *m, const tcn_node_addr *addr, tcn_error *err)
{
    TCN_ENSURE(!m->closing, err, TCN_ERR_USAGE, "peer: the mesh is closing");
    TCN_ENSURE(addr->port != 0, err, TCN_ERR_USAGE, "peer: cannot dial port 0");
    struct dial *d = NULL;
    TCN_GUARD(dial_add(m, addr, &d, err));
    enter(m);
    if (d->conn == NULL && d->next_ms <= now_ms(m))
        dial_attempt(m, d);
    leave(m);
    return TCN_OK;
}

/* ---- timers -------------------------------------------------------------------- */

static void conn_tick(struct conn *c, int64_t now)
{
    tcn_peer_mesh *m = c->m;
    char why[160];
    switch (c->state) {
    case C_CLOSING:
        if (now >= c->linger_deadline_ms)
            conn_free(c);
        return;
    case C_TLS:
        if (now - c->started_ms > m->opt.handshake_timeout_ms) {
            snprintf(why, sizeof(why), "no TLS handshake within %u ms", m->opt.handshake_timeout_ms);
            conn_close(c, 0, why);
        }
        return;
    case C_HELLO:
        if (now - c->verified_ms > m->opt.hello_timeout_ms) {
            snprintf(why, sizeof(why), "no HELLO within %u ms", m->opt.hello_timeout_ms);
            conn_close(c, TCN_FRAME_BYE_PROTOCOL, why);
        }
        return;
    case C_UP:
        break;
    }
    if (now - c->last_rx_ms > m->opt.dead_after_ms) {
        snprintf(why, sizeof(why), "dead: nothing received for %lld ms", (long long)(now - c->last_rx_ms));
        conn_close(c, 0, why);
        return;
    }
    if (c->challenge_out && now > c->answer_deadline_ms) {
        m->st.reattest_failed++;
        snprintf(why, sizeof(why), "re-attestation: no answer to our challenge within %u ms",
                 m->opt.reattest_answer_ms);
        conn_close(c, TCN_FRAME_BYE_ATTESTATION, why);
        return;
    }
    if (tcn_ratls_peer_is_stale(&c->peer, &m->pol, now) ||
        (m->opt.evidence_max_age_ms > 0 && now - c->peer.attested_at_ms > m->opt.evidence_max_age_ms)) {
        m->st.reattest_failed++;
        snprintf(why, sizeof(why), "re-attestation: the peer's last good attestation is %lld ms old",
                 (long long)(now - c->peer.attested_at_ms));
        conn_close(c, TCN_FRAME_BYE_ATTESTATION, why);
        return;
    }
    if (now >= c->next_ping_ms) {
        c->next_ping_ms = now + m->opt.ping_interval_ms;
        tcn_frame f;
        memset(&f, 0, sizeof(f));
        f.type = TCN_FRAME_PING;
        m->opt.random(m->opt.random_ctx, &c->ping_nonce, sizeof(c->ping_nonce));
        f.u.ping.nonce = c->ping_nonce;
        f.u.ping.clock_ms = (uint64_t)now;
        send_control(c, &f);
        if (c->state != C_UP)
            return;
    }
    if (!c->challenge_out && now >= c->next_reattest_ms) {
        c->next_reattest_ms = now + m->opt.reattest_interval_ms;
        tcn_frame f;
        memset(&f, 0, sizeof(f));
        f.type = TCN_FRAME_REATTEST_CHALLENGE;
        m->opt.random(m->opt.random_ctx, c->challenge, sizeof(c->challenge));
        memcpy(f.u.challenge, c->challenge, sizeof(c->challenge));
        c->challenge_out = true;
        c->answer_deadline_ms = now + m->opt.reattest_answer_ms;
        send_control(c, &f);
    }
}

static void tick_cb(evutil_socket_t fd, short what, void *ctx)
{
    (void)fd, (void)what;
    tcn_peer_mesh *m = ctx;
    int64_t now = now_ms(m);
    enter(m);
    for (struct conn *c = m->conns; c != NULL; c = c->next)
        if (!c->dead)
            conn_tick(c, now);
    for (size_t i = 0; i < TCN_PEER_DIALS_MAX && !m->closing; i++) {
        struct dial *d = &m->dials[i];
        if (d->used && d->conn == NULL && now >= d->next_ms)
            dial_attempt(m, d);
    }
    leave(m);
}

/* ---- the mesh ------------------------------------------------------------------- */

#define DEFAULT(field, value)       \
    do {                            \
        if (m->opt.field == 0)      \
            m->opt.field = (value); \
    } while (0)

static int copy_addr_text(const char *what, const char *s, char *out, size_t cap, tcn_error *err)
{
    size_t n = s != NULL ? strlen(s) : 0;
    tcn_node_addr a;
    const char *why = NULL;
    TCN_ENSURE(n >= 1 && n < cap, err, TCN_ERR_USAGE, "peer: %s: 1..%zu characters", what, cap - 1);
    TCN_ENSURE(tcn_node_addr_parse(s, n, false, &a, &why) == TCN_OK, err, TCN_ERR_USAGE, "peer: %s: %s", what, why);
    tcn_node_addr_format(&a, out, cap);
    TCN_ENSURE(strcmp(out, s) == 0, err, TCN_ERR_USAGE, "peer: %s: not in canonical form (%s)", what, out);
    return TCN_OK;
}

static int mesh_init(tcn_peer_mesh *m, const tcn_peer_options *opt, tcn_error *err)
{
    m->opt = *opt;
    size_t nl = opt->name != NULL ? strlen(opt->name) : 0;
    TCN_ENSURE(nl < sizeof(m->name) && tcn_node_name_valid(opt->name, nl), err, TCN_ERR_USAGE,
               "peer: name: 1..%u of [A-Za-z0-9._-]", TCN_FRAME_HELLO_NAME_BYTES_MAX);
    memcpy(m->name, opt->name, nl + 1);
    TCN_GUARD(copy_addr_text("api_addr", opt->api_addr, m->api_addr, sizeof(m->api_addr), err));
    if (opt->peer_addr != NULL)
        TCN_GUARD(copy_addr_text("peer_addr", opt->peer_addr, m->peer_addr, sizeof(m->peer_addr), err));
    m->opt.name = m->name;
    m->opt.api_addr = m->api_addr;
    m->opt.peer_addr = NULL;
    DEFAULT(handshake_timeout_ms, TCN_PEER_DEFAULT_HANDSHAKE_TIMEOUT_MS);
    DEFAULT(hello_timeout_ms, TCN_PEER_DEFAULT_HELLO_TIMEOUT_MS);
    DEFAULT(ping_interval_ms, TCN_PEER_DEFAULT_PING_INTERVAL_MS);
    DEFAULT(dead_after_ms, TCN_PEER_DEFAULT_DEAD_AFTER_MS);
    DEFAULT(reattest_interval_ms, TCN_PEER_DEFAULT_REATTEST_INTERVAL_MS);
    DEFAULT(reattest_answer_ms, TCN_PEER_DEFAULT_REATTEST_ANSWER_MS);
    DEFAULT(backoff_min_ms, TCN_PEER_DEFAULT_BACKOFF_MIN_MS);
    DEFAULT(backoff_max_ms, TCN_PEER_DEFAULT_BACKOFF_MAX_MS);
    DEFAULT(tick_ms, TCN_PEER_DEFAULT_TICK_MS);
    DEFAULT(out_high_water_bytes, TCN_PEER_DEFAULT_OUT_HIGH_WATER_BYTES);
    DEFAULT(in_high_water_bytes, TCN_PEER_DEFAULT_IN_HIGH_WATER_BYTES);
    if (m->opt.now_ms == NULL)
        m->opt.now_ms = wall_ms;
    if (m->opt.random == NULL)
        m->opt.random = sodium_random;
    TCN_ENSURE(m->opt.backoff_min_ms <= m->opt.backoff_max_ms, err, TCN_ERR_USAGE,
               "peer: backoff_min_ms %u above backoff_max_ms %u", m->opt.backoff_min_ms, m->opt.backoff_max_ms);
    TCN_ENSURE(m->opt.dead_after_ms > m->opt.ping_interval_ms, err, TCN_ERR_USAGE,
               "peer: dead_after_ms must exceed ping_interval_ms (a live peer is heard at least that often)");
    return TCN_OK;
}

int tcn_peer_mesh_new(struct event_base *base, const tcn_peer_options *opt, tcn_ratls_identity *identity,
                      const tcn_ratls_policy *policy, const tcn_peer_callbacks *cb, tcn_peer_mesh **out,
                      tcn_error *err)
{
    *out = NULL;
    TCN_ENSURE(base != NULL && opt != NULL && identity != NULL && policy != NULL, err, TCN_ERR_USAGE,
               "peer: base, options, identity and policy are required");
    /* OpenSSL writes to the socket with write(2): a peer that closed its end
     * would kill the process with SIGPIPE. A node must outlive any peer, so
     * the signal is ignored unless the program installed a handler of its own. */
    struct sigaction old;
    if (sigaction(SIGPIPE, NULL, &old) == 0 && old.sa_handler == SIG_DFL) {
        struct sigaction ign;
        memset(&ign, 0, sizeof(ign));
        ign.sa_handler = SIG_IGN;
        sigemptyset(&ign.sa_mask);
        (void)sigaction(SIGPIPE, &ign, NULL);
    }
    tcn_peer_mesh *m = calloc(1, sizeof(*m));
    TCN_ENSURE(m != NULL, err, TCN_ERR_NOMEM, "peer: out of memory");
    m->base = base;
    m->id = identity;
    m->pol = *policy;
    if (cb != NULL)
        m->cb = *cb;
    int rc = mesh_init(m, opt, err);
    uint64_t own = tcn_peer_node_id_from_key_hash(tcn_ratls_identity_key_hash(identity));
    if (rc == TCN_OK && own == 0)
        rc = tcn_err_set(err, TCN_ERR_USAGE, "peer: our key hashes to node id 0; make another identity");
    if (rc == TCN_OK && opt->node_id != 0 && opt->node_id != own)
        rc = tcn_err_set(err, TCN_ERR_USAGE, "peer: node_id %016llx is not the id of our key (%016llx)",
                         (unsigned long long)opt->node_id, (unsigned long long)own);
    m->node_id = own;
    m->group_set = tcn_ratls_identity_group(identity, m->group);
    if (rc == TCN_OK)
        rc = tcn_ratls_ctx_new(TCN_RATLS_SERVER, identity, &m->pol, &m->srv, err);
    if (rc == TCN_OK)
        rc = tcn_ratls_ctx_new(TCN_RATLS_CLIENT, identity, &m->pol, &m->cli, err);
    if (rc == TCN_OK) {
        m->tick = event_new(base, -1, EV_PERSIST, tick_cb, m);
        struct timeval tv = {.tv_sec = m->opt.tick_ms / 1000, .tv_usec = (m->opt.tick_ms % 1000) * 1000};
        if (m->tick == NULL || event_add(m->tick, &tv) != 0)
            rc = tcn_err_set(err, TCN_ERR_NOMEM, "peer: cannot start the timer");
    }
    if (rc != TCN_OK) {
        tcn_peer_mesh_free(m);
        return rc;
    }
    *out = m;
    return TCN_OK;
}

int tcn_peer_mesh_listen(tcn_peer_mesh *m, const tcn_node_addr *addr, tcn_error *err)
{
    TCN_ENSURE(m->lis == NULL && !m->closing, err, TCN_ERR_USAGE, "peer: already listening (or closing)");
    TCN_ENSURE(addr->kind == TCN_NODE_HOST_IPV4 || addr->kind == TCN_NODE_HOST_IPV6, err, TCN_ERR_USAGE,
               "peer: listen on an IP literal");
    struct sockaddr_storage ss;
    socklen_t len;
    TCN_GUARD(addr_sockaddr(addr, &ss, &len, err));
    m->lis = evconnlistener_new_bind(m->base, accept_cb, m,
                                     LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC,
                                     TCN_PEER_LISTEN_BACKLOG, (struct sockaddr *)&ss, (int)len);
    TCN_ENSURE(m->lis != NULL, err, TCN_ERR_IO, "peer: cannot listen on %s:%u: %s", addr->host, addr->port,
               strerror(errno));
    struct sockaddr_storage b;
    socklen_t blen = sizeof(b);
    TCN_ENSURE(getsockname(evconnlistener_get_fd(m->lis), (struct sockaddr *)&b, &blen) == 0, err, TCN_ERR_IO,
               "peer: getsockname: %s", strerror(errno));
    m->bound = *addr;
    m->bound.port = ntohs(b.ss_family == AF_INET ? ((struct sockaddr_in *)&b)->sin_port
                                                 : ((struct sockaddr_in6 *)&b)->sin6_port);
    m->bound_set = true;
    if (m->peer_addr[0] == '\0')
        tcn_node_addr_format(&m->bound, m->peer_addr, sizeof(m->peer_addr));
    tcn_log(TCN_LOG_INFO, "peer: listening", "addr", m->peer_addr, NULL);
    return TCN_OK;
}

int tcn_peer_mesh_listen_addr(const tcn_peer_mesh *m, tcn_node_addr *out, tcn_error *err)
{
    TCN_ENSURE(m->bound_set, err, TCN_ERR_NOT_FOUND, "peer: not listening");
    *out = m->bound;
    return TCN_OK;
}

int tcn_peer_mesh_set_group(tcn_peer_mesh *m, const uint8_t group_id[TCN_RATLS_GROUP_ID_LEN], tcn_error *err)
{
    TCN_ENSURE(!m->group_set || memcmp(m->group, group_id, TCN_RATLS_GROUP_ID_LEN) == 0, err, TCN_ERR_USAGE,
               "peer: the group id is already set to another value");
    TCN_GUARD(tcn_ratls_identity_reissue(m->id, group_id, err));
    tcn_ratls_policy_pin_group(&m->pol, group_id);
    m->pol.group_absent_ok = true; /* nodes asking to join carry no group yet */
    TCN_GUARD(tcn_ratls_ctx_set_identity(m->srv, m->id, err));
    TCN_GUARD(tcn_ratls_ctx_set_identity(m->cli, m->id, err));
    TCN_GUARD(tcn_ratls_ctx_set_policy(m->srv, &m->pol, err));
    TCN_GUARD(tcn_ratls_ctx_set_policy(m->cli, &m->pol, err));
    memcpy(m->group, group_id, TCN_RATLS_GROUP_ID_LEN);
    m->group_set = true;
    return TCN_OK;
}

void tcn_peer_mesh_forget(tcn_peer_mesh *m, uint64_t node_id)
{
    if (node_id == 0)
        return;
    if (!forgotten(m, node_id)) {
        if (m->nforgotten == TCN_PEER_FORGOTTEN_MAX) {
            memmove(m->forgotten, m->forgotten + 1, (TCN_PEER_FORGOTTEN_MAX - 1) * sizeof(m->forgotten[0]));
            m->nforgotten--;
        }
        m->forgotten[m->nforgotten++] = node_id;
    }
    enter(m);
    for (struct conn *c = m->conns; c != NULL; c = c->next)
        if (c->node_id == node_id && !c->dead)
            conn_close(c, TCN_FRAME_BYE_REMOVED, "removed from the mesh");
    for (size_t i = 0; i < TCN_PEER_DIALS_MAX; i++)
        if (m->dials[i].used && m->dials[i].node_id == node_id)
            dial_remove(&m->dials[i]);
    leave(m);
}

void tcn_peer_mesh_close_all(tcn_peer_mesh *m)
{
    m->closing = true;
    if (m->lis != NULL) {
        evconnlistener_free(m->lis);
        m->lis = NULL;
    }
    enter(m);
    for (size_t i = 0; i < TCN_PEER_DIALS_MAX; i++)
        if (m->dials[i].used)
            dial_remove(&m->dials[i]);
    for (struct conn *c = m->conns; c != NULL; c = c->next)
        if (!c->dead)
            conn_close(c, TCN_FRAME_BYE_SHUTDOWN, "shutting down");
    leave(m);
}

bool tcn_peer_mesh_idle(const tcn_peer_mesh *m) { return m->conns == NULL; }

void tcn_peer_mesh_free(tcn_peer_mesh *m)
{
    if (m == NULL)
        return;
    TCN_ASSERT(m->depth == 0); /* not from inside one of our callbacks */
    if (m->lis != NULL)
        evconnlistener_free(m->lis);
    while (m->conns != NULL) {
        struct conn *c = m->conns;
        c->dial = NULL;
        conn_free_now(c);
    }
    if (m->tick != NULL)
        event_free(m->tick);
    if (m->srv != NULL)
        SSL_CTX_free(m->srv);
    if (m->cli != NULL)
        SSL_CTX_free(m->cli);
    tcn_buf_free(&m->scratch);
    free(m);
}

void tcn_peer_mesh_stats(const tcn_peer_mesh *m, tcn_peer_stats *out)
{
    *out = m->st;
    out->conns_pending = 0;
    out->out_buffered_bytes = 0;
    out->dials = 0;
    for (const struct conn *c = m->conns; c != NULL; c = c->next) {
        if (c->dead)
            continue;
        if (c->state == C_TLS || c->state == C_HELLO)
            out->conns_pending++;
        if (c->bev != NULL)
            out->out_buffered_bytes += evbuffer_get_length(bufferevent_get_output(c->bev));
    }
    for (size_t i = 0; i < TCN_PEER_DIALS_MAX; i++)
        if (m->dials[i].used)
            out->dials++;
}
