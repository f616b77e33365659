/* tcn devnet demo (what `make demo` runs): a local network comes up, users
 * create swaps and get their refunds, fund the escrows, schedule a burst of
 * payouts; the leader is killed in the middle of the burst; a new leader
 * finishes the work; the demo then checks on the ledger itself that every
 * payout landed exactly once and that every refund is still valid, lands
 * one refund, lets a new node replace the dead one, and stops the network.
 * It drives the public `tcn` commands (and prints them), so what it shows
 * is what a user can type. */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "chain/base58.h"
#include "chain/nonce.h"
#include "chain/rpc.h"
#include "cli/cli.h"
#include "cli/devnet.h"
#include "util/buf.h"
#include "util/encoding.h"

#define DEMO_SWAPS 3
#define DEMO_PAYOUTS_PER_SWAP 3
#define DEMO_SWAP_LAMPORTS 20000000ull   /* 0.02 SOL each */
#define DEMO_PAYOUT_LAMPORTS 3000000ull  /* each LP payout: above the rent-exempt minimum of a new account */
#define DEMO_FIRST_DUE_S 3               /* the burst starts this many seconds after scheduling */
#define DEMO_KILL_AFTER_MS 3400          /* the leader dies in the middle of the burst */
#define DEMO_SETTLE_TIMEOUT_MS 60000u

int tcn_cmd_devnet_demo(int argc, char **argv);

static char g_self[PATH_MAX];
static const char *g_dir;
static int g_failures;

static uint64_t mono_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000u + (uint64_t)t.tv_nsec / 1000000u;
}

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    fflush(stdout);
}

static void check(bool ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void check(bool ok, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("  %s ", ok ? "[ok]  " : "[FAIL]");
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    fflush(stdout);
    if (!ok)
        g_failures++;
}

/* Runs `tcn ARGS... --json`, returns its JSON answer (NULL on failure, with
 * its stderr shown). echo: print the command as a user would type it. */
static json_t *tcn(bool echo, const char *first, ...)
{
    char *argv[32];
    int k = 0;
    argv[k++] = g_self;
    va_list ap;
    va_start(ap, first);
    for (const char *a = first; a != NULL && k < 29; a = va_arg(ap, const char *))
        argv[k++] = (char *)a;
    va_end(ap);
    argv[k++] = "--json";
    argv[k] = NULL;
    if (echo) {
        printf("  $ tcn");
        for (int i = 1; i < k - 1; i++)
            printf(" %s", strchr(argv[i], ' ') ? "'...'" : argv[i]);
        printf("\n");
        fflush(stdout);
    }
    int out[2];
    if (pipe(out) != 0)
        return NULL;
    pid_t pid = fork();
    if (pid < 0) {
        close(out[0]);
        close(out[1]);
        return NULL;
    }
    if (pid == 0) {
        dup2(out[1], 1);
        close(out[0]);
        close(out[1]);
        execv(g_self, argv);
        _exit(127);
    }
    close(out[1]);
    tcn_buf b;
    memset(&b, 0, sizeof(b));
    char chunk[4096];
    ssize_t r;
    while ((r = read(out[0], chunk, sizeof(chunk))) > 0 || (r < 0 && errno == EINTR))
        if (r > 0 && tcn_buf_append(&b, chunk, (size_t)r) != TCN_OK)
            break;
    close(out[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    json_t *o = b.len ? json_loadb((const char *)b.p, b.len, 0, NULL) : NULL;
    tcn_buf_free(&b);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static const char *str(const json_t *o, const char *k) { return json_string_value(json_object_get(o, k)); }

static void url_of(const json_t *node, char *out, size_t cap) { snprintf(out, cap, "https://%s", str(node, "api")); }

/* ---- the ledger, read directly (what anyone can check) ---------------------------- */

static int rpc(const char *ledger, tcn_buf *req, tcn_buf *ans, tcn_error *err)
{
    ans->len = 0;
    return tcn_chain_rpc_call(ledger, req, ans, 5000, err);
}

static bool ledger_balance(const char *ledger, const char *b58, uint64_t *lamports)
{
    tcn_chain_pubkey pk;
    tcn_error err;
    if (tcn_chain_pubkey_from_base58(b58, &pk, &err) != TCN_OK)
        return false;
    tcn_buf req, ans;
    memset(&req, 0, sizeof(req));
    memset(&ans, 0, sizeof(ans));
    uint64_t slot;
    tcn_chain_rpc_error re;
    bool ok = tcn_chain_rpc_request_get_balance(&req, 1, &pk) == TCN_OK && rpc(ledger, &req, &ans, &err) == TCN_OK &&
              tcn_chain_rpc_parse_get_balance((const char *)ans.p, ans.len, 1, &slot, lamports, &re, &err) == TCN_OK &&
              !re.present;
    tcn_buf_free(&req);
    tcn_buf_free(&ans);
    return ok;
}

/* The value a nonce account holds now, in base58. */
static bool ledger_nonce(const char *ledger, const char *b58, char out[TCN_CHAIN_BASE58_PUBKEY_CHARS])
{
    tcn_chain_pubkey pk;
    tcn_error err;
    if (tcn_chain_pubkey_from_base58(b58, &pk, &err) != TCN_OK)
        return false;
    tcn_buf req, ans;
    memset(&req, 0, sizeof(req));
    memset(&ans, 0, sizeof(ans));
    uint64_t slot;
    tcn_chain_rpc_error re;
    tcn_chain_rpc_account acct;
    memset(&acct, 0, sizeof(acct));
    tcn_chain_nonce_state ns;
    bool ok = tcn_chain_rpc_request_get_account_info(&req, 1, &pk) == TCN_OK &&
              rpc(ledger, &req, &ans, &err) == TCN_OK &&
              tcn_chain_rpc_parse_get_account_info((const char *)ans.p, ans.len, 1, &slot, &acct, &re, &err) ==
                  TCN_OK &&
              !re.present && acct.exists && tcn_chain_nonce_parse(acct.data, acct.data_len, true, &ns, &err) == TCN_OK;
    if (ok)
        tcn_chain_hash_to_base58(&ns.durable_nonce, out);
    tcn_chain_rpc_account_free(&acct);
    tcn_buf_free(&req);
    tcn_buf_free(&ans);
    return ok;
}

/* Sends a base64 transaction; true when the ledger took it. */
static bool ledger_send_b64(const char *ledger, const char *b64)
{
    uint8_t tx[2048];
    size_t n = 0;
    tcn_error err;
    if (tcn_b64_decode(b64, strlen(b64), tx, sizeof(tx), &n, &err) != TCN_OK)
        return false;
    tcn_buf req, ans;
    memset(&req, 0, sizeof(req));
    memset(&ans, 0, sizeof(ans));
    tcn_chain_signature sig;
    tcn_chain_rpc_error re;
    bool ok = tcn_chain_rpc_request_send_transaction(&req, 1, tx, n, false) == TCN_OK &&
              rpc(ledger, &req, &ans, &err) == TCN_OK &&
              tcn_chain_rpc_parse_send_transaction((const char *)ans.p, ans.len, 1, &sig, &re, &err) == TCN_OK &&
              !re.present;
    tcn_buf_free(&req);
    tcn_buf_free(&ans);
    return ok;
}

/* ---- the story ---------------------------------------------------------------------- */

typedef struct demo_swap {
    char id[24];
    char escrow[TCN_CHAIN_BASE58_PUBKEY_CHARS];
    char nonce[TCN_CHAIN_BASE58_PUBKEY_CHARS];
    char refund_to[TCN_CHAIN_BASE58_PUBKEY_CHARS];
} demo_swap;

static json_t *leader_status(const json_t *net, const char *avoid, char *leader_url, size_t cap)
{
    size_t i;
    json_t *nd;
    json_array_foreach(json_object_get(net, "nodes"), i, nd)
    {
        if (avoid != NULL && strcmp(str(nd, "name"), avoid) == 0)
            continue;
        char url[128];
        url_of(nd, url, sizeof(url));
        json_t *st = tcn(false, "status", "--dir", g_dir, "--node", url, NULL);
        if (st != NULL && str(st, "leader") != NULL && (avoid == NULL || strcmp(str(st, "leader"), avoid) != 0)) {
            snprintf(leader_url, cap, "https://%s", str(st, "leader_api"));
            return st;
        }
        json_decref(st);
    }
    return NULL;
}

static json_t *load_net(void)
{
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/devnet.json", g_dir);
    return json_load_file(path, 0, NULL);
}

int tcn_cmd_devnet_demo(int argc, char **argv)
{
    g_dir = DEVNET_DIR_DEFAULT "-demo";
    const char *nodes = "3";
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc)
            g_dir = argv[++i];
        else if (strcmp(argv[i], "--nodes") == 0 && i + 1 < argc)
            nodes = argv[++i];
        else {
            fprintf(stderr, "tcn devnet demo: unknown option %s\nusage: tcn devnet demo [--dir DIR] [--nodes N]\n",
                    argv[i]);
            return TCN_EXIT_USAGE;
        }
    }
    ssize_t n = readlink("/proc/self/exe", g_self, sizeof(g_self) - 1);
    if (n <= 0)
        return TCN_EXIT_FAIL;
    g_self[n] = '\0';
    tcn_error err;
    if (tcn_chain_rpc_http_global_init(&err) != TCN_OK)
        return TCN_EXIT_FAIL;

    say("== 1. A network of %s coordinators on this machine (simulated TEE) ==", nodes);
    say("Each node creates its TLS key inside its (simulated) enclave, proves with TEE evidence that it");
    say("runs the approved tcnd binary, and accepts only peers that prove the same. They elect a leader,");
    say("which creates the network's coordinator key inside the enclave.");
    json_t *up = tcn(true, "devnet", "up", "--dir", g_dir, "--nodes", nodes, NULL);
    if (up == NULL) {
        say("the network did not come up: see the logs in %s", g_dir);
        return TCN_EXIT_FAIL;
    }
    json_t *net = load_net();
    const char *ledger = json_string_value(json_object_get(json_object_get(net, "ledger"), "url"));
    say("  measurement (SHA-384 of tcnd): %s", str(up, "measurement"));
    say("  group id: %s   coordinator key: %s", str(up, "group_id"), str(up, "coordinator"));
    char lurl[160];
    json_t *st = leader_status(net, NULL, lurl, sizeof(lurl));
    char old_leader[64] = "";
    if (st != NULL) {
        snprintf(old_leader, sizeof(old_leader), "%s", str(st, "leader"));
        say("  leader: %s", old_leader);
    }
    json_decref(st);
    char n1[128];
    url_of(json_array_get(json_object_get(net, "nodes"), 0), n1, sizeof(n1));

    say("\n== 2. A user checks what they talk to ==");
    json_t *v = tcn(true, "verify", "--dir", g_dir, "--node", n1, NULL);
    check(v != NULL && json_is_true(json_object_get(v, "verified")),
          "node-1's certificate carries evidence of the pinned measurement and group");
    json_decref(v);

    say("\n== 3. Swaps: each user gets a pre-signed refund before sending any money ==");
    demo_swap sw[DEMO_SWAPS];
    char lp[DEMO_SWAPS][TCN_CHAIN_BASE58_PUBKEY_CHARS];
    for (int i = 0; i < DEMO_SWAPS; i++) {
        char keyf[PATH_MAX], amount[24];
        snprintf(keyf, sizeof(keyf), "%s/lp-%d.key", g_dir, i + 1);
        unlink(keyf);
        json_t *k = tcn(false, "keygen", "--out", keyf, NULL);
        snprintf(lp[i], sizeof(lp[i]), "%s", k ? str(k, "pubkey") : "");
        json_decref(k);
        snprintf(keyf, sizeof(keyf), "%s/user-%d.key", g_dir, i + 1);
        unlink(keyf);
        k = tcn(false, "keygen", "--out", keyf, NULL);
        snprintf(sw[i].refund_to, sizeof(sw[i].refund_to), "%s", k ? str(k, "pubkey") : "");
        json_decref(k);
        snprintf(amount, sizeof(amount), "%llu", (unsigned long long)DEMO_SWAP_LAMPORTS);
        json_t *s = tcn(i == 0, "swap", "create", "--dir", g_dir, "--node", n1, "--amount", amount, "--lp", lp[i],
                        "--refund-to", sw[i].refund_to, NULL);
        bool ok = s != NULL && json_is_string(json_object_get(s, "refund_tx"));
        check(ok, "swap %lld: escrow %s, refund signed and held by the user",
              s ? (long long)json_integer_value(json_object_get(s, "swap_id")) : -1LL, s ? str(s, "escrow") : "?");
        if (!ok) {
            json_decref(s);
            goto end;
        }
        json_t *sid = json_object_get(s, "swap_id");
        snprintf(sw[i].id, sizeof(sw[i].id), "%lld", (long long)json_integer_value(sid));
        snprintf(sw[i].escrow, sizeof(sw[i].escrow), "%s", str(s, "escrow"));
        snprintf(sw[i].nonce, sizeof(sw[i].nonce), "%s", str(s, "nonce_account"));
        json_decref(s);
    }

    say("\n== 4. The users fund their escrows (on this development ledger: an airdrop) ==");
    for (int i = 0; i < DEMO_SWAPS; i++) {
        char amount[24];
        snprintf(amount, sizeof(amount), "%llu", (unsigned long long)DEMO_SWAP_LAMPORTS);
        json_t *a = tcn(i == 0, "ledger", "airdrop", "--rpc", ledger, "--to", sw[i].escrow, "--amount", amount, NULL);
        check(a != NULL, "escrow of swap %s holds %s lamports", sw[i].id, amount);
        json_decref(a);
    }

    say("\n== 5. A burst of payouts to the LPs, due in %d to %d seconds ==", DEMO_FIRST_DUE_S,
        DEMO_FIRST_DUE_S + DEMO_PAYOUTS_PER_SWAP - 1);
    uint64_t t_sched = mono_ms();
    for (int i = 0; i < DEMO_SWAPS; i++)
        for (int p = 0; p < DEMO_PAYOUTS_PER_SWAP; p++) {
            char at[16], amount[24];
            snprintf(at, sizeof(at), "+%d", DEMO_FIRST_DUE_S + p);
            snprintf(amount, sizeof(amount), "%llu", (unsigned long long)DEMO_PAYOUT_LAMPORTS);
            json_t *r = tcn(i == 0 && p == 0, "payout", "schedule", "--dir", g_dir, "--node", n1, "--swap", sw[i].id,
                            "--to", lp[i], "--amount", amount, "--at", at, NULL);
            if (r == NULL)
                check(false, "payout %d of swap %s was not scheduled", p + 1, sw[i].id);
            json_decref(r);
        }
    say("  %d payouts scheduled", DEMO_SWAPS * DEMO_PAYOUTS_PER_SWAP);

    say("\n== 6. The leader dies in the middle of the burst ==");
    uint64_t since = mono_ms() - t_sched;
    if (since < DEMO_KILL_AFTER_MS) {
        struct timespec ts = {(DEMO_KILL_AFTER_MS - since) / 1000, (long)((DEMO_KILL_AFTER_MS - since) % 1000) * 1000000L};
        nanosleep(&ts, NULL);
    }
    st = leader_status(net, NULL, lurl, sizeof(lurl));
    snprintf(old_leader, sizeof(old_leader), "%s", st ? str(st, "leader") : "");
    json_decref(st);
    pid_t victim = 0;
    size_t i;
    json_t *nd;
    json_array_foreach(json_object_get(net, "nodes"), i, nd) if (strcmp(str(nd, "name"), old_leader) == 0) victim =
        (pid_t)json_integer_value(json_object_get(nd, "pid"));
    if (victim <= 1) {
        check(false, "no leader to kill");
        goto end;
    }
    say("  kill -9 %d   (%s, the leader, with payouts landing right now)", (int)victim, old_leader);
    kill(victim, SIGKILL);
    uint64_t t_kill = mono_ms();
    json_t *nst = NULL;
    while (nst == NULL && mono_ms() - t_kill < 20000) {
        nst = leader_status(net, old_leader, lurl, sizeof(lurl));
        if (nst == NULL) {
            struct timespec ts = {0, 20 * 1000000L};
            nanosleep(&ts, NULL);
        }
    }
    check(nst != NULL, "%s is the new leader, %llu ms after the kill (election timeout 500-1000 ms)",
          nst ? str(nst, "leader") : "nobody", (unsigned long long)(mono_ms() - t_kill));
    json_decref(nst);
    if (nst == NULL)
        goto end;

    say("\n== 7. The new leader finishes every open payout: asks the chain, resends the same bytes, or records ==");
    char nurl[160];
    snprintf(nurl, sizeof(nurl), "%s", lurl);
    bool settled = false;
    uint64_t t0 = mono_ms();
    json_t *shows[DEMO_SWAPS] = {0};
    while (!settled && mono_ms() - t0 < DEMO_SETTLE_TIMEOUT_MS) {
        settled = true;
        for (int s = 0; s < DEMO_SWAPS; s++) {
            json_decref(shows[s]);
            shows[s] = tcn(false, "swap", "show", "--dir", g_dir, "--node", nurl, sw[s].id, NULL);
            size_t k;
            json_t *p;
            if (shows[s] == NULL) {
                settled = false;
                continue;
            }
            json_array_foreach(json_object_get(shows[s], "payouts"), k, p) if (strcmp(str(p, "status"), "paid") != 0)
                settled = false;
        }
        if (!settled) {
            struct timespec ts = {0, 200 * 1000000L};
            nanosleep(&ts, NULL);
        }
    }
    check(settled, "every payout is PAID in the replicated state (%llu s after the kill)",
          (unsigned long long)((mono_ms() - t_kill) / 1000));

    say("\n== 8. Checked on the ledger itself ==");
    for (int s = 0; s < DEMO_SWAPS; s++) {
        uint64_t got = 0;
        bool ok = ledger_balance(ledger, lp[s], &got);
        check(ok && got == DEMO_PAYOUTS_PER_SWAP * DEMO_PAYOUT_LAMPORTS,
              "LP of swap %s received %llu lamports: %d payouts, each exactly once", sw[s].id,
              (unsigned long long)got, DEMO_PAYOUTS_PER_SWAP);
        char nonce_now[TCN_CHAIN_BASE58_PUBKEY_CHARS] = "";
        const char *rn = shows[s] ? str(shows[s], "refund_nonce") : NULL;
        ok = ledger_nonce(ledger, sw[s].nonce, nonce_now) && rn != NULL && strcmp(rn, nonce_now) == 0;
        check(ok, "refund of swap %s is bound to its nonce account's current value %s: it can land", sw[s].id,
              nonce_now);
    }
    if (shows[0] != NULL && str(shows[0], "refund_tx") != NULL) {
        say("  the user of swap %s takes the refund (sends the pre-signed bytes to the ledger):", sw[0].id);
        uint64_t before = 0, after = 0;
        (void)ledger_balance(ledger, sw[0].refund_to, &before);
        bool sent = ledger_send_b64(ledger, str(shows[0], "refund_tx"));
        for (int w = 0; w < 50 && sent && after <= before; w++) {
            struct timespec ts = {0, 100 * 1000000L};
            nanosleep(&ts, NULL);
            (void)ledger_balance(ledger, sw[0].refund_to, &after);
        }
        check(sent && after > before, "refund landed: %llu lamports back to the user", (unsigned long long)(after - before));
    }
    for (int s = 0; s < DEMO_SWAPS; s++)
        json_decref(shows[s]);

    say("\n== 9. A new node joins and takes the dead node's place ==");
    json_t *add = tcn(true, "devnet", "add", "--dir", g_dir, NULL);
    check(add != NULL && json_is_true(json_object_get(add, "joined")), "%s attested and joined as a learner",
          add ? str(add, "name") : "the new node");
    char newname[64];
    snprintf(newname, sizeof(newname), "%s", add ? str(add, "name") : "");
    json_decref(add);
    bool replaced = false;
    json_decref(net);
    net = load_net();
    for (uint64_t t1 = mono_ms(); !replaced && mono_ms() - t1 < 20000;) {
        json_t *s2 = leader_status(net, old_leader, lurl, sizeof(lurl));
        size_t k;
        json_t *m;
        bool dead_gone = s2 != NULL, new_voter = false;
        json_array_foreach(json_object_get(s2, "members"), k, m)
        {
            if (strcmp(str(m, "name"), old_leader) == 0)
                dead_gone = false;
            if (strcmp(str(m, "name"), newname) == 0 && strcmp(str(m, "role"), "learner") != 0)
                new_voter = true;
        }
        replaced = dead_gone && new_voter;
        json_decref(s2);
        if (!replaced) {
            struct timespec ts = {0, 250 * 1000000L};
            nanosleep(&ts, NULL);
        }
    }
    check(replaced, "%s replaced %s as a voter (after the replace-after delay)", newname, old_leader);

end:
    say("\n== 10. Stopping the network ==");
    json_t *down = tcn(true, "devnet", "down", "--dir", g_dir, NULL);
    json_decref(down);
    json_decref(net);
    json_decref(up);
    tcn_chain_rpc_http_global_cleanup();
    if (g_failures == 0)
        say("\ndemo passed: every payout landed exactly once across a leader crash, every refund stayed valid");
    else
        say("\ndemo FAILED: %d check(s) failed (logs in %s)", g_failures, g_dir);
    return g_failures == 0 ? TCN_EXIT_OK : TCN_EXIT_FAIL;
}
