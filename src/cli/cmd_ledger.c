/* tcn ledger: the chain model served over Solana's JSON-RPC subset (a local
 * development chain, DESIGN §8), and its clients `airdrop` and `balance`. */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "chain/base58.h"
#include "chain/model.h"
#include "chain/rpc.h"
#include "chain/rpc_server.h"
#include "cli/cli.h"
#include "util/buf.h"

/* solana-test-validator's RPC port, on loopback */
#define LEDGER_LISTEN_DEFAULT "127.0.0.1:8899"
#define LEDGER_SEED_DEFAULT "genesis" /* slot 0's blockhash is LiteSVM's first one (docs/CHAIN.md) */
#define LEDGER_SLOT_MS_DEFAULT 400u   /* Solana's target slot time (solana-clock DEFAULT_MS_PER_SLOT) */
#define LEDGER_SLOT_MS_MAX 3600000u   /* one slot an hour: anything slower is a typo */
#define LEDGER_HOST_CHARS_MAX 64u /* an IPv6 literal is at most 45 characters */
/* One request, one answer: a local ledger answers at once; a remote RPC
 * that takes longer than this is reported as a timeout. */
#define LEDGER_RPC_TIMEOUT_MS 10000L
#define LEDGER_RPC_ID 1u
/* The JSON-RPC request builder sends lamports as a JSON integer, which
 * jansson holds signed (chain/rpc.c refuses more). */
#define LEDGER_AIRDROP_LAMPORTS_MAX ((uint64_t)INT64_MAX)

static const char usage_text[] =
    "usage: tcn ledger [--listen ADDR] [--public] [--seed TEXT] [--slot-ms N] [--json]\n"
    "       tcn ledger airdrop --rpc URL --to PUBKEY --amount LAMPORTS [--json]\n"
    "       tcn ledger balance --rpc URL PUBKEY [--json]\n"
    "  (no subcommand)  serve the chain model (docs/CHAIN.md) over the Solana JSON-RPC subset\n"
    "                   until SIGTERM or SIGINT; prints its URL as soon as it listens\n"
    "    --listen ADDR  HOST:PORT, IPv6 as [HOST]:PORT (default 127.0.0.1:8899; port 0 picks a\n"
    "                   free port); a loopback address unless --public is given\n"
    "    --public       allow any address (a development ledger: whoever reaches it can mint)\n"
    "    --seed TEXT    fixes the blockhash sequence (default \"genesis\")\n"
    "    --slot-ms N    a new slot every N milliseconds, 1..3600000 (default 400)\n"
    "  airdrop          requestAirdrop: mint LAMPORTS (decimal, 1..2^63-1) into PUBKEY;\n"
    "                   prints the airdrop's signature\n"
    "  balance          getBalance: PUBKEY's lamports and the slot of the answer\n"
    "    --rpc URL      the JSON-RPC endpoint, http:// or https://\n"
    "  PUBKEY           base58, 32 bytes\n"
    "  --json           print one JSON object\n"
    "exit: 0 success, 1 refused or failed (what failed is named), 2 usage error\n";

static int usage_error(const char *cmd, const char *what, const char *detail)
{
    fprintf(stderr, "tcn %s: %s%s\n%s", cmd, what, detail, usage_text);
    return TCN_EXIT_USAGE;
}

/* A failed operation: one line on stderr, and with --json one object. */
static int fail(const char *cmd, int json, const tcn_error *err)
{
    if (json)
        tcn_cli_json_print(json_pack("{s:s,s:s}", "error", err->msg, "error_code", tcn_err_name(err->code)));
    fprintf(stderr, "tcn %s: %s\n", cmd, err->msg);
    return TCN_EXIT_FAIL;
}

/* Decimal u64: digits only (no sign, no space, no base prefix), at least
 * one, no overflow. */
static bool parse_u64(const char *s, uint64_t *out)
{
    uint64_t v = 0;
    if (*s == '\0')
        return false;
    for (; *s != '\0'; s++) {
        if (*s < '0' || *s > '9')
            return false;
        unsigned d = (unsigned)(*s - '0');
        if (v > (UINT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

/* --- tcn ledger: the server ------------------------------------------------ */

typedef struct listen_addr {
    char host[LEDGER_HOST_CHARS_MAX]; /* numeric: what evhttp binds */
    bool ipv6;
    bool loopback;
    uint16_t port;
} listen_addr;

/* HOST:PORT or [HOST]:PORT; HOST a numeric IPv4 or IPv6 address or
 * "localhost" (taken as 127.0.0.1, so the ledger never resolves names).
 * Returns NULL, or what is wrong. */
static const char *parse_listen(const char *s, listen_addr *out)
{
    const char *host = s, *colon;
    size_t host_len;
    memset(out, 0, sizeof(*out));
    if (s[0] == '[') {
        const char *end = strchr(s, ']');
        if (end == NULL)
            return "an IPv6 address needs its closing ']'";
        host = s + 1;
        host_len = (size_t)(end - host);
        if (end[1] != ':')
            return "expected HOST:PORT";
        colon = end + 1;
        out->ipv6 = true;
    } else {
        colon = strrchr(s, ':');
        if (colon == NULL)
            return "expected HOST:PORT";
        host_len = (size_t)(colon - s);
        if (memchr(s, ':', host_len) != NULL)
            return "write an IPv6 address as [HOST]:PORT";
    }
    if (host_len == 0 || host_len >= sizeof(out->host))
        return "HOST is empty or too long";
    memcpy(out->host, host, host_len);
    out->host[host_len] = '\0';
    uint64_t port;
    if (!parse_u64(colon + 1, &port) || port > UINT16_MAX)
        return "PORT must be a decimal number 0..65535";
    out->port = (uint16_t)port;
    if (!out->ipv6 && strcmp(out->host, "localhost") == 0)
        snprintf(out->host, sizeof(out->host), "127.0.0.1");
    if (out->ipv6) {
        struct in6_addr a6;
        if (inet_pton(AF_INET6, out->host, &a6) != 1)
            return "HOST is not a numeric IPv6 address";
        /* ::1, or an IPv4-mapped 127.x.y.z */
        out->loopback = IN6_IS_ADDR_LOOPBACK(&a6) || (IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127);
    } else {
        struct in_addr a4;
        if (inet_pton(AF_INET, out->host, &a4) != 1)
            return "HOST is not a numeric IPv4 address (nor localhost)";
        out->loopback = (ntohl(a4.s_addr) >> 24) == 127; /* 127.0.0.0/8 */
    }
    return NULL;
}

typedef struct serve_opts {
    listen_addr addr;
    const char *seed;
    uint32_t slot_ms;
    int json;
} serve_opts;

static int serve(const serve_opts *o)
{
    tcn_error err;
    tcn_err_clear(&err);
    /* SIGTERM and SIGINT are blocked before the server's thread exists, so it
     * inherits the mask and this thread alone receives them, in sigwait. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    int prc = pthread_sigmask(SIG_BLOCK, &stop, NULL);
    if (prc != 0) {
        tcn_err_set(&err, TCN_ERR_INTERNAL, "pthread_sigmask: %s", strerror(prc));
        return fail("ledger", o->json, &err);
    }
    /* A client that hangs up while evhttp writes its answer must not kill the ledger. */
    struct sigaction ign;
    memset(&ign, 0, sizeof(ign));
    ign.sa_handler = SIG_IGN;
    sigemptyset(&ign.sa_mask);
    (void)sigaction(SIGPIPE, &ign, NULL);

    tcn_chain_model *m = NULL;
    if (tcn_chain_model_new(o->seed, strlen(o->seed), NULL, &m, &err) != TCN_OK)
        return fail("ledger", o->json, &err);
    tcn_chain_rpc_server *srv = NULL;
    uint16_t port = 0;
    if (tcn_chain_rpc_server_start_clocked(m, o->addr.host, o->addr.port, o->slot_ms, &srv, &port, &err) != TCN_OK) {
        tcn_chain_model_free(m);
        return fail("ledger", o->json, &err);
    }
    char url[LEDGER_HOST_CHARS_MAX + 32];
    snprintf(url, sizeof(url), "http://%s%s%s:%u", o->addr.ipv6 ? "[" : "", o->addr.host, o->addr.ipv6 ? "]" : "",
             (unsigned)port);
    if (o->json)
        tcn_cli_json_print(json_pack("{s:s,s:I,s:I}", "rpc", url, "pid", (json_int_t)getpid(), "slot_ms",
                                     (json_int_t)o->slot_ms));
    else
        printf("tcn ledger: serving the chain model at %s (pid %ld, a slot every %u ms); SIGTERM or Ctrl-C stops it\n",
               url, (long)getpid(), (unsigned)o->slot_ms);
    /* Whoever started the ledger waits for this line to learn the URL. */
    if (fflush(stdout) != 0 || ferror(stdout)) {
        int e = errno;
        tcn_chain_rpc_server_stop(srv);
        tcn_chain_model_free(m);
        fprintf(stderr, "tcn ledger: cannot write to stdout: %s\n", strerror(e));
        return TCN_EXIT_FAIL;
    }

    int sig = 0;
    int wrc = sigwait(&stop, &sig);
    tcn_chain_rpc_server_stop(srv);
    /* The server's thread is gone: the model is this thread's again. */
    uint64_t slot = tcn_chain_model_slot(m);
    tcn_chain_model_free(m);
    if (wrc != 0) {
        fprintf(stderr, "tcn ledger: sigwait: %s\n", strerror(wrc));
        return TCN_EXIT_FAIL;
    }
    fprintf(stderr, "tcn ledger: %s: stopped at slot %" PRIu64 "\n", sig == SIGINT ? "SIGINT" : "SIGTERM", slot);
    return TCN_EXIT_OK;
}

static int cmd_serve(int argc, char **argv)
{
    serve_opts o;
    memset(&o, 0, sizeof(o));
    const char *listen_s = LEDGER_LISTEN_DEFAULT, *slot_ms_s = NULL;
    int is_public = 0;
    o.seed = LEDGER_SEED_DEFAULT;
    o.slot_ms = LEDGER_SLOT_MS_DEFAULT;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char **slot = NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(usage_text, stdout);
            return TCN_EXIT_OK;
        } else if (strcmp(a, "--json") == 0) {
            o.json = 1;
        } else if (strcmp(a, "--public") == 0) {
            is_public = 1;
        } else if (strcmp(a, "--listen") == 0) {
            slot = &listen_s;
        } else if (strcmp(a, "--seed") == 0) {
            slot = &o.seed;
        } else if (strcmp(a, "--slot-ms") == 0) {
            slot = &slot_ms_s;
        } else if (a[0] == '-') {
            return usage_error("ledger", "unknown option ", a);
        } else {
            return usage_error("ledger", "unknown subcommand ", a);
        }
        if (slot != NULL) {
            if (i + 1 >= argc)
                return usage_error("ledger", "this option needs a value: ", a);
            *slot = argv[++i];
        }
    }
    const char *why = parse_listen(listen_s, &o.addr);
    if (why != NULL)
        return usage_error("ledger", "--listen: ", why);
    if (!o.addr.loopback && !is_public)
        return usage_error("ledger", "--listen: not a loopback address (this is a development ledger; "
                                     "add --public to listen there anyway): ",
                           listen_s);
    if (o.seed[0] == '\0')
        return usage_error("ledger", "--seed: ", "must not be empty");
    if (slot_ms_s != NULL) {
        uint64_t v;
        if (!parse_u64(slot_ms_s, &v) || v == 0 || v > LEDGER_SLOT_MS_MAX)
            return usage_error("ledger", "--slot-ms must be a decimal number 1..3600000, not ", slot_ms_s);
        o.slot_ms = (uint32_t)v;
    }
    return serve(&o);
}

/* --- tcn ledger airdrop / balance: clients --------------------------------- */

/* A JSON-RPC error answer: the server understood and refused. */
static int refused(const char *cmd, int json, const char *url, const tcn_chain_rpc_error *re)
{
    if (json)
        tcn_cli_json_print(json_pack("{s:s,s:s,s:I}", "error", re->message, "error_code", "rpc_error", "rpc_code",
                                     (json_int_t)re->code));
    fprintf(stderr, "tcn %s: %s refused: %s (JSON-RPC error %" PRId64 ")\n", cmd, url, re->message, re->code);
    return TCN_EXIT_FAIL;
}

/* Posts req to url; the answer's bytes land in ans. */
static int roundtrip(const char *url, const tcn_buf *req, tcn_buf *ans, tcn_error *err)
{
    TCN_GUARD(tcn_chain_rpc_http_global_init(err));
    int rc = tcn_chain_rpc_call(url, req, ans, LEDGER_RPC_TIMEOUT_MS, err);
    tcn_chain_rpc_http_global_cleanup();
    return rc;
}

/* jansson's integers are signed: a u64 above INT64_MAX goes as a decimal string. */
static json_t *json_u64(uint64_t v)
{
    char num[24];
    if (v <= (uint64_t)INT64_MAX)
        return json_integer((json_int_t)v);
    snprintf(num, sizeof(num), "%" PRIu64, v);
    return json_string(num);
}

typedef struct client_opts {
    bool airdrop; /* else balance */
    const char *rpc, *to, *amount, *pos;
    int json;
} client_opts;

/* Options of airdrop and balance (argv[0] is the subcommand). Returns -1
 * when they parse, else the exit code (usage or --help). */
static int parse_client(const char *cmd, int argc, char **argv, client_opts *o)
{
    bool airdrop = o->airdrop;
    memset(o, 0, sizeof(*o));
    o->airdrop = airdrop;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char **slot = NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(usage_text, stdout);
            return TCN_EXIT_OK;
        } else if (strcmp(a, "--json") == 0) {
            o->json = 1;
        } else if (strcmp(a, "--rpc") == 0) {
            slot = &o->rpc;
        } else if (strcmp(a, "--to") == 0 && o->airdrop) {
            slot = &o->to;
        } else if (strcmp(a, "--amount") == 0 && o->airdrop) {
            slot = &o->amount;
        } else if (a[0] == '-' && a[1] != '\0') {
            return usage_error(cmd, "unknown option ", a);
        } else if (o->pos != NULL || o->airdrop) {
            return usage_error(cmd, "unexpected argument ", a);
        } else {
            o->pos = a;
        }
        if (slot != NULL) {
            if (i + 1 >= argc)
                return usage_error(cmd, "this option needs a value: ", a);
            *slot = argv[++i];
        }
    }
    if (o->rpc == NULL)
        return usage_error(cmd, "missing --rpc URL", "");
    return -1;
}

static int cmd_airdrop(int argc, char **argv)
{
    static const char cmd[] = "ledger airdrop";
    client_opts o = {.airdrop = true};
    int rc = parse_client(cmd, argc, argv, &o);
    if (rc >= 0)
        return rc;
    if (o.to == NULL)
        return usage_error(cmd, "missing --to PUBKEY", "");
    if (o.amount == NULL)
        return usage_error(cmd, "missing --amount LAMPORTS", "");
    tcn_error err;
    tcn_err_clear(&err);
    tcn_chain_pubkey to;
    if (tcn_chain_pubkey_from_base58(o.to, &to, &err) != TCN_OK)
        return usage_error(cmd, "--to: ", err.msg);
    uint64_t lamports;
    if (!parse_u64(o.amount, &lamports) || lamports == 0)
        return usage_error(cmd, "--amount must be a decimal u64 of at least 1 lamport, not ", o.amount);
    if (lamports > LEDGER_AIRDROP_LAMPORTS_MAX)
        return usage_error(cmd, "--amount: at most 9223372036854775807 lamports (2^63 - 1, the largest the "
                                "JSON-RPC client sends), not ",
                           o.amount);

    tcn_buf req = {0}, ans = {0};
    tcn_chain_signature sig;
    tcn_chain_rpc_error re;
    memset(&re, 0, sizeof(re));
    rc = tcn_chain_rpc_request_request_airdrop(&req, LEDGER_RPC_ID, &to, lamports);
    if (rc != TCN_OK)
        tcn_err_set(&err, rc, "requestAirdrop: cannot build the request");
    if (rc == TCN_OK)
        rc = roundtrip(o.rpc, &req, &ans, &err);
    if (rc == TCN_OK)
        rc = tcn_chain_rpc_parse_request_airdrop((const char *)ans.p, ans.len, LEDGER_RPC_ID, &sig, &re, &err);
    tcn_buf_free(&req);
    tcn_buf_free(&ans);
    if (rc != TCN_OK)
        return fail(cmd, o.json, &err);
    if (re.present)
        return refused(cmd, o.json, o.rpc, &re);

    char sig_b58[TCN_CHAIN_BASE58_SIGNATURE_CHARS];
    tcn_chain_signature_to_base58(&sig, sig_b58);
    if (o.json) {
        char to_b58[TCN_CHAIN_BASE58_PUBKEY_CHARS];
        tcn_chain_pubkey_to_base58(&to, to_b58);
        tcn_cli_json_print(
            json_pack("{s:s,s:s,s:o}", "signature", sig_b58, "to", to_b58, "amount", json_u64(lamports)));
    } else {
        printf("%s\n", sig_b58);
    }
    return TCN_EXIT_OK;
}

static int cmd_balance(int argc, char **argv)
{
    static const char cmd[] = "ledger balance";
    client_opts o = {.airdrop = false};
    int rc = parse_client(cmd, argc, argv, &o);
    if (rc >= 0)
        return rc;
    if (o.pos == NULL)
        return usage_error(cmd, "missing PUBKEY", "");
    tcn_error err;
    tcn_err_clear(&err);
    tcn_chain_pubkey pk;
    if (tcn_chain_pubkey_from_base58(o.pos, &pk, &err) != TCN_OK)
        return usage_error(cmd, "PUBKEY: ", err.msg);

    tcn_buf req = {0}, ans = {0};
    uint64_t slot = 0, lamports = 0;
    tcn_chain_rpc_error re;
    memset(&re, 0, sizeof(re));
    rc = tcn_chain_rpc_request_get_balance(&req, LEDGER_RPC_ID, &pk);
    if (rc != TCN_OK)
        tcn_err_set(&err, rc, "getBalance: cannot build the request");
    if (rc == TCN_OK)
        rc = roundtrip(o.rpc, &req, &ans, &err);
    if (rc == TCN_OK)
        rc = tcn_chain_rpc_parse_get_balance((const char *)ans.p, ans.len, LEDGER_RPC_ID, &slot, &lamports, &re,
                                             &err);
    tcn_buf_free(&req);
    tcn_buf_free(&ans);
    if (rc != TCN_OK)
        return fail(cmd, o.json, &err);
    if (re.present)
        return refused(cmd, o.json, o.rpc, &re);

    char pk_b58[TCN_CHAIN_BASE58_PUBKEY_CHARS];
    tcn_chain_pubkey_to_base58(&pk, pk_b58);
    if (o.json) {
        tcn_cli_json_print(
            json_pack("{s:s,s:o,s:o}", "pubkey", pk_b58, "lamports", json_u64(lamports), "slot", json_u64(slot)));
    } else {
        printf("%" PRIu64 " lamports (slot %" PRIu64 ")\n", lamports, slot);
    }
    return TCN_EXIT_OK;
}

int tcn_cmd_ledger(int argc, char **argv)
{
    if (argc >= 2) {
        const char *sub = argv[1];
        if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0 || strcmp(sub, "help") == 0) {
            fputs(usage_text, stdout);
            return TCN_EXIT_OK;
        }
        if (strcmp(sub, "airdrop") == 0)
            return cmd_airdrop(argc - 1, argv + 1);
        if (strcmp(sub, "balance") == 0)
            return cmd_balance(argc - 1, argv + 1);
    }
    return cmd_serve(argc, argv);
}
