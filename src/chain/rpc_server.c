/* The chain model's JSON-RPC over HTTP: evhttp on an event loop in its own
 * thread, stopped through a pipe whose read end breaks the loop. */
#include "chain/rpc_server.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include <jansson.h>

#include "chain/rpc.h"
#include "chain/rpc_serve.h"
#include "util/buf.h"

struct tcn_chain_rpc_server {
    tcn_chain_model *m;
    struct event_base *base;
    struct evhttp *http;
    struct event *stop_ev;
    struct event *slot_ev; /* NULL when slots do not advance by themselves */
    int stop_pipe[2];
    pthread_t thread;
};

static void reply(struct evhttp_request *req, int status, const char *reason, const char *body, size_t len)
{
    struct evbuffer *out = evhttp_request_get_output_buffer(req);
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    evhttp_add_header(h, "Content-Type", "application/json");
    if (evbuffer_add(out, body, len) != 0) {
        evhttp_send_error(req, HTTP_INTERNAL, NULL);
        return;
    }
    evhttp_send_reply(req, status, reason, NULL);
}

/* A JSON-RPC error answer with id null, for a request not handed to the model. */
static void reply_error(struct evhttp_request *req, int status, const char *reason, int code, const char *message)
{
    char body[256];
    int n = snprintf(body, sizeof(body), "{\"jsonrpc\":\"2.0\",\"error\":{\"code\":%d,\"message\":\"%s\"},\"id\":null}",
                     code, message);
    if (n < 0 || (size_t)n >= sizeof(body)) {
        evhttp_send_error(req, HTTP_INTERNAL, NULL);
        return;
    }
    reply(req, status, reason, body, (size_t)n);
}

static void on_request(struct evhttp_request *req, void *arg)
{
    tcn_chain_rpc_server *s = arg;
    if (evhttp_request_get_command(req) != EVHTTP_REQ_POST) {
        evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", "POST");
        reply_error(req, 405, "Method Not Allowed", TCN_CHAIN_RPC_INVALID_REQUEST, "Method not allowed: use POST");
        return;
    }
    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
    const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
    if (path == NULL || strcmp(path, "/") != 0) {
        reply_error(req, HTTP_NOTFOUND, "Not Found", TCN_CHAIN_RPC_INVALID_REQUEST, "Not found: POST to /");
        return;
    }
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    size_t len = evbuffer_get_length(in);
    if (len > TCN_CHAIN_RPC_SERVER_BODY_BYTES_MAX) {
        reply_error(req, 413, "Payload Too Large", TCN_CHAIN_RPC_INVALID_REQUEST, "Request body too large");
        return;
    }
    const char *body = (const char *)evbuffer_pullup(in, -1);
    if (body == NULL)
        body = "";
    /* Not JSON at all: 400, with the model's own parse-error answer. */
    json_error_t jerr;
    json_t *probe = json_loadb(body, len, 0, &jerr);
    int status = probe ? HTTP_OK : HTTP_BADREQUEST;
    json_decref(probe);

    tcn_buf ans = {0};
    if (tcn_chain_rpc_serve(s->m, body, len, &ans) != TCN_OK) {
        tcn_buf_free(&ans);
        reply_error(req, HTTP_INTERNAL, "Internal Server Error", -32603, "Internal error: out of memory");
        return;
    }
    reply(req, status, status == HTTP_OK ? "OK" : "Bad Request", (const char *)ans.p, ans.len);
    tcn_buf_free(&ans);
}

static void on_stop(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    event_base_loopbreak(arg);
}

/* The ledger's clock: on the server's thread, like every use of the model. */
static void on_slot(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    tcn_chain_rpc_server *s = arg;
    tcn_chain_model_advance_slot(s->m);
}

static void *run(void *arg)
{
    tcn_chain_rpc_server *s = arg;
    event_base_dispatch(s->base);
    return NULL;
}

static void destroy(tcn_chain_rpc_server *s)
{
    if (s->stop_ev)
        event_free(s->stop_ev);
    if (s->slot_ev)
        event_free(s->slot_ev);
    if (s->http)
        evhttp_free(s->http);
    if (s->base)
        event_base_free(s->base);
    for (int i = 0; i < 2; i++)
        if (s->stop_pipe[i] >= 0)
            close(s->stop_pipe[i]);
    free(s);
}

int tcn_chain_rpc_server_start(tcn_chain_model *m, const char *address, uint16_t port, tcn_chain_rpc_server **out,
                               uint16_t *bound_port, tcn_error *err)
{
    return tcn_chain_rpc_server_start_clocked(m, address, port, 0, out, bound_port, err);
}

int tcn_chain_rpc_server_start_clocked(tcn_chain_model *m, const char *address, uint16_t port, uint32_t slot_ms,
                                       tcn_chain_rpc_server **out, uint16_t *bound_port, tcn_error *err)
{
    *out = NULL;
    tcn_chain_rpc_server *s = calloc(1, sizeof(*s));
    TCN_ENSURE(s != NULL, err, TCN_ERR_NOMEM, "rpc server: out of memory");
    s->m = m;
    s->stop_pipe[0] = s->stop_pipe[1] = -1;
    int ret;
    if (pipe(s->stop_pipe) != 0) {
        ret = tcn_err_set(err, TCN_ERR_IO, "rpc server: pipe: %s", strerror(errno));
        goto fail;
    }
    for (int i = 0; i < 2; i++)
        (void)fcntl(s->stop_pipe[i], F_SETFD, FD_CLOEXEC);
    s->base = event_base_new();
    s->http = s->base ? evhttp_new(s->base) : NULL;
    s->stop_ev = s->base ? event_new(s->base, s->stop_pipe[0], EV_READ, on_stop, s->base) : NULL;
    if (s->http == NULL || s->stop_ev == NULL || event_add(s->stop_ev, NULL) != 0) {
        ret = tcn_err_set(err, TCN_ERR_NOMEM, "rpc server: libevent setup failed");
        goto fail;
    }
    if (slot_ms > 0) {
        struct timeval every = {.tv_sec = (time_t)(slot_ms / 1000), .tv_usec = (suseconds_t)(slot_ms % 1000) * 1000};
        s->slot_ev = event_new(s->base, -1, EV_PERSIST, on_slot, s);
        if (s->slot_ev == NULL || event_add(s->slot_ev, &every) != 0) {
            ret = tcn_err_set(err, TCN_ERR_NOMEM, "rpc server: slot timer setup failed");
            goto fail;
        }
    }
    /* Twice the limit, so a body a little too large is read and answered
     * with a JSON-RPC 413 by on_request; beyond, evhttp answers 413 itself. */
    evhttp_set_max_body_size(s->http, 2 * (ev_ssize_t)TCN_CHAIN_RPC_SERVER_BODY_BYTES_MAX);
    evhttp_set_max_headers_size(s->http, 16 << 10);
    evhttp_set_timeout(s->http, TCN_CHAIN_RPC_SERVER_TIMEOUT_S);
    /* Every method reaches on_request, which answers 405 in JSON. */
    evhttp_set_allowed_methods(s->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD | EVHTTP_REQ_PUT |
                                            EVHTTP_REQ_DELETE | EVHTTP_REQ_OPTIONS | EVHTTP_REQ_PATCH);
    evhttp_set_gencb(s->http, on_request, s);
    errno = 0;
    struct evhttp_bound_socket *bs = evhttp_bind_socket_with_handle(s->http, address, port);
    if (bs == NULL) {
        /* libevent keeps the errno of the call that failed (bind's EADDRINUSE, ...) */
        ret = tcn_err_set(err, TCN_ERR_IO, "rpc server: bind %s:%u failed: %s", address, (unsigned)port,
                          errno != 0 ? strerror(errno) : "address not usable");
        goto fail;
    }
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    if (getsockname(evhttp_bound_socket_get_fd(bs), (struct sockaddr *)&ss, &sl) != 0) {
        ret = tcn_err_set(err, TCN_ERR_IO, "rpc server: getsockname: %s", strerror(errno));
        goto fail;
    }
    if (ss.ss_family == AF_INET)
        *bound_port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
    else if (ss.ss_family == AF_INET6)
        *bound_port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    else {
        ret = tcn_err_set(err, TCN_ERR_IO, "rpc server: bound to an unknown address family");
        goto fail;
    }
    int prc = pthread_create(&s->thread, NULL, run, s);
    if (prc != 0) {
        ret = tcn_err_set(err, TCN_ERR_IO, "rpc server: pthread_create: %s", strerror(prc));
        goto fail;
    }
    *out = s;
    return TCN_OK;
fail:
    destroy(s);
    return ret;
}

void tcn_chain_rpc_server_stop(tcn_chain_rpc_server *s)
{
    if (s == NULL)
        return;
    char b = 1;
    ssize_t w;
    do
        w = write(s->stop_pipe[1], &b, 1);
    while (w < 0 && errno == EINTR);
    if (w != 1)
        abort(); /* the thread could never be stopped */
    pthread_join(s->thread, NULL);
    destroy(s);
}
