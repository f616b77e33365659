/* tcn devnet up | down | add | restart — a local network on loopback with
 * the simulated TEE: a `tcn ledger` and N tcnd processes, all described in
 * one directory (devnet.h). `tcn devnet demo` is in devnet_demo.c. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "attest/sim.h"
#include "chain/base58.h"
#include "cli/cli.h"
#include "cli/client.h"
#include "cli/devnet.h"
#include "util/encoding.h"
#include "util/file.h"

static const char usage_text[] =
    "usage: tcn devnet up [--nodes N] [--dir DIR] [--tcnd PATH] [--heartbeat-ms N]\n"
    "                     [--election-timeout-ms N] [--replace-after-ms N] [--json]\n"
    "       tcn devnet down [--dir DIR] [--json]\n"
    "       tcn devnet add [--dir DIR] [--binary PATH] [--platform-key FILE] [--standby] [--timeout-ms N]\n"
    "                      [--json]\n"
    "       tcn devnet restart NAME [--dir DIR] [--timeout-ms N] [--json]\n"
    "       tcn devnet demo [--dir DIR] [--nodes N]\n"
    "  up     start a ledger and N (1..5, default 3) tcnd nodes on 127.0.0.1 with the simulated\n"
    "         TEE, wait until they elected a leader and created the network; DIR (default\n"
    "         ./tcn-devnet) receives the pins (pins.json), an operator key (client.key), the\n"
    "         sim platform key and every process's log\n"
    "  down   stop exactly the processes `up` and `add` started in DIR\n"
    "  add    start one more node (from another tcnd binary with --binary) that asks to join;\n"
    "         \"joined\" says whether it became a member within --timeout-ms (default 30000);\n"
    "         --platform-key: its sim platform key (another TEE \"vendor\"; default the devnet's);\n"
    "         --standby: a voter that hands leadership to the others (tcnd --standby)\n"
    "  restart start the node NAME again (it must not be running: after a crash or kill -9) on\n"
    "         the same addresses, with a fresh identity, asking to join; \"joined\" as for add\n"
    "  demo   up, swaps, payouts, the leader killed mid-burst, every payout and refund\n"
    "         checked, down — narrated\n"
    "exit: 0 success, 1 failed, 2 usage error\n";

static int usage_error(const char *what, const char *detail)
{
    fprintf(stderr, "tcn devnet: %s%s\n%s", what, detail, usage_text);
    return TCN_EXIT_USAGE;
}

static int fail(int json, const tcn_error *err)
{
    if (json)
        tcn_cli_json_print(json_pack("{s:s,s:s}", "error", err->msg, "error_code", tcn_err_name(err->code)));
    fprintf(stderr, "tcn devnet: %s\n", err->msg);
    return TCN_EXIT_FAIL;
}

static bool parse_uint(const char *s, unsigned min, unsigned max, unsigned *out)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (*s < '0' || *s > '9' || *end != '\0' || errno != 0 || v < min || v > max)
        return false;
    *out = (unsigned)v;
    return true;
}

/* ---- the directory ---------------------------------------------------------------- */

/* dir/name; a path too long for cap is cut to "" (and then fails to open). */
static void path_in(char *out, size_t cap, const char *dir, const char *name)
{
    int k = snprintf(out, cap, "%s/%s", dir, name);
    if (k < 0 || (size_t)k >= cap)
        out[0] = '\0';
}

/* The program beside this one (tcnd next to tcn), or NULL. */
static bool sibling(const char *name, char *out, size_t cap)
{
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (n <= 0)
        return false;
    self[n] = '\0';
    char *slash = strrchr(self, '/');
    if (slash == NULL)
        return false;
    *slash = '\0';
    int k = snprintf(out, cap, "%s/%s", self, name);
    return k > 0 && (size_t)k < cap && access(out, X_OK) == 0;
}

static bool self_exe(char *out, size_t cap)
{
    ssize_t n = readlink("/proc/self/exe", out, cap - 1);
    if (n <= 0)
        return false;
    out[n] = '\0';
    return true;
}

int devnet_load(const char *dir, json_t **out, tcn_error *err);
int devnet_load(const char *dir, json_t **out, tcn_error *err)
{
    char path[PATH_MAX];
    path_in(path, sizeof(path), dir, "devnet.json");
    json_error_t je;
    json_t *o = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    if (o == NULL)
        return tcn_err_set(err, TCN_ERR_NOT_FOUND, "no devnet in %s (%s)", dir, je.text);
    if (!json_is_object(o) || !json_is_array(json_object_get(o, "nodes")) ||
        !json_is_object(json_object_get(o, "ledger"))) {
        json_decref(o);
        return tcn_err_set(err, TCN_ERR_MALFORMED, "%s: not a devnet description", path);
    }
    *out = o;
    return TCN_OK;
}

/* The devnet in dir: its absolute path in adir (PATH_MAX) and devnet.json. */
static int open_devnet(const char *dir, char *adir, json_t **net, tcn_error *err)
{
    if (realpath(dir, adir) == NULL)
        return tcn_err_set(err, TCN_ERR_NOT_FOUND, "no devnet in %s (%s)", dir, strerror(errno));
    return devnet_load(adir, net, err);
}

static int devnet_save(const char *dir, json_t *o, tcn_error *err)
{
    char path[PATH_MAX], tmp[PATH_MAX];
    path_in(path, sizeof(path), dir, "devnet.json");
    path_in(tmp, sizeof(tmp), dir, "devnet.json.tmp");
    if (json_dump_file(o, tmp, JSON_INDENT(2)) != 0)
        return tcn_err_set(err, TCN_ERR_IO, "cannot write %s", tmp);
    if (rename(tmp, path) != 0)
        return tcn_err_set(err, TCN_ERR_IO, "cannot write %s: %s", path, strerror(errno));
    return TCN_OK;
}

/* The needle that identifies a process of ours in /proc/PID/cmdline: its
 * unique listen address, followed by the space the NUL became. */
static void needle_for(const char *flag, const char *addr, char *out, size_t cap)
{
    snprintf(out, cap, "%s %s ", flag, addr);
}

/* ---- starting processes --------------------------------------------------------- */

typedef struct node_spec {
    char name[32];
    char peer[32];
    char api[32];
    char binary[PATH_MAX];
    char platform_key[PATH_MAX]; /* "" = the devnet's platform.key */
    bool standby;                /* tcnd --standby */
    pid_t pid;
} node_spec;

static int start_node(const char *dir, const json_t *net, node_spec *ns, const char *join, unsigned bootstrap,
                      tcn_error *err)
{
    char key[PATH_MAX], log[PATH_MAX], hb[16], et[16], ra[16];
    if (ns->platform_key[0] != '\0')
        snprintf(key, sizeof(key), "%s", ns->platform_key);
    else
        path_in(key, sizeof(key), dir, "platform.key");
    char logname[64];
    snprintf(logname, sizeof(logname), "%s.log", ns->name);
    path_in(log, sizeof(log), dir, logname);
    snprintf(hb, sizeof(hb), "%lld", (long long)json_integer_value(json_object_get(net, "heartbeat_ms")));
    snprintf(et, sizeof(et), "%lld", (long long)json_integer_value(json_object_get(net, "election_timeout_ms")));
    snprintf(ra, sizeof(ra), "%lld", (long long)json_integer_value(json_object_get(net, "replace_after_ms")));
    char be[8];
    snprintf(be, sizeof(be), "%u", bootstrap);
    const char *rpc = json_string_value(json_object_get(json_object_get(net, "ledger"), "url"));
    const char *op = json_string_value(json_object_get(net, "operator"));
    char *argv[40];
    int k = 0;
    argv[k++] = ns->binary;
    argv[k++] = "--tee";
    argv[k++] = "sim";
    argv[k++] = "--sim-platform-key";
    argv[k++] = key;
    argv[k++] = "--name";
    argv[k++] = ns->name;
    argv[k++] = "--listen-peer";
    argv[k++] = ns->peer;
    argv[k++] = "--listen-api";
    argv[k++] = ns->api;
    if (join[0] != '\0') {
        argv[k++] = "--join";
        argv[k++] = (char *)join;
    }
    argv[k++] = "--bootstrap-expect";
    argv[k++] = be;
    argv[k++] = "--chain-rpc";
    argv[k++] = (char *)rpc;
    argv[k++] = "--operator-key";
    argv[k++] = (char *)op;
    argv[k++] = "--heartbeat-ms";
    argv[k++] = hb;
    argv[k++] = "--election-timeout-ms";
    argv[k++] = et;
    argv[k++] = "--replace-after-ms";
    argv[k++] = ra;
    if (ns->standby)
        argv[k++] = "--standby";
    argv[k] = NULL;
    return devnet_spawn(argv, log, &ns->pid, err);
}

static json_t *node_json(const node_spec *ns)
{
    json_t *o = json_pack("{s:s,s:s,s:s,s:I,s:s}", "name", ns->name, "peer", ns->peer, "api", ns->api, "pid",
                          (json_int_t)ns->pid, "binary", ns->binary);
    if (o != NULL && ns->platform_key[0] != '\0')
        json_object_set_new(o, "platform_key", json_string(ns->platform_key));
    if (o != NULL && ns->standby)
        json_object_set_new(o, "standby", json_true());
    return o;
}

static int new_addr(char *out, size_t cap, tcn_error *err)
{
    uint16_t port;
    TCN_GUARD(devnet_free_port(&port, err));
    snprintf(out, cap, "127.0.0.1:%u", port);
    return TCN_OK;
}

/* Waits until a node reports a leader and the network exists, then writes
 * pins.json (devnet_client.c). */
int devnet_wait_ready(const char *dir, json_t *net, unsigned timeout_ms, tcn_error *err);

static int stop_all(const char *dir, json_t *net, json_t *stopped);

static int cmd_up(int argc, char **argv)
{
    const char *dir = DEVNET_DIR_DEFAULT, *tcnd = NULL;
    unsigned nodes = DEVNET_NODES_DEFAULT, hb = 50, et = 500, ra = 5000;
    int json = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--json") == 0)
            json = 1;
        else if (strcmp(a, "--nodes") == 0 && v) {
            if (!parse_uint(v, 1, DEVNET_NODES_MAX, &nodes))
                return usage_error("--nodes: expected 1..5, not ", v);
            i++;
        } else if (strcmp(a, "--dir") == 0 && v) {
            dir = v;
            i++;
        } else if (strcmp(a, "--tcnd") == 0 && v) {
            tcnd = v;
            i++;
        } else if (strcmp(a, "--heartbeat-ms") == 0 && v) {
            if (!parse_uint(v, 5, 60000, &hb))
                return usage_error("--heartbeat-ms: expected 5..60000, not ", v);
            i++;
        } else if (strcmp(a, "--election-timeout-ms") == 0 && v) {
            if (!parse_uint(v, 25, 600000, &et))
                return usage_error("--election-timeout-ms: expected 25..600000, not ", v);
            i++;
        } else if (strcmp(a, "--replace-after-ms") == 0 && v) {
            if (!parse_uint(v, 0, 86400000, &ra))
                return usage_error("--replace-after-ms: expected 0..86400000, not ", v);
            i++;
        } else
            return usage_error("unknown option or missing value: ", a);
    }
    tcn_error err;
    tcn_err_clear(&err);
    if (et < 5 * hb)
        return usage_error("--election-timeout-ms must be at least 5 heartbeats", "");
    if (ra != 0 && ra < et)
        return usage_error("--replace-after-ms must be 0 or at least the election timeout", "");
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        tcn_err_set(&err, TCN_ERR_IO, "cannot create %s: %s", dir, strerror(errno));
        return fail(json, &err);
    }
    char adir[PATH_MAX];
    if (realpath(dir, adir) == NULL) {
        tcn_err_set(&err, TCN_ERR_IO, "%s: %s", dir, strerror(errno));
        return fail(json, &err);
    }
    json_t *old = NULL;
    if (devnet_load(adir, &old, &err) == TCN_OK) {
        json_decref(old);
        tcn_err_set(&err, TCN_ERR_USAGE, "a devnet is already up in %s (tcn devnet down --dir %s)", adir, dir);
        return fail(json, &err);
    }
    char tcnd_path[PATH_MAX], tcn_path[PATH_MAX];
    if (tcnd != NULL) {
        if (realpath(tcnd, tcnd_path) == NULL) {
            tcn_err_set(&err, TCN_ERR_IO, "--tcnd %s: %s", tcnd, strerror(errno));
            return fail(json, &err);
        }
    } else if (!sibling("tcnd", tcnd_path, sizeof(tcnd_path))) {
        tcn_err_set(&err, TCN_ERR_NOT_FOUND, "no tcnd beside tcn: give --tcnd PATH");
        return fail(json, &err);
    }
    if (!self_exe(tcn_path, sizeof(tcn_path))) {
        tcn_err_set(&err, TCN_ERR_IO, "cannot find this program's path");
        return fail(json, &err);
    }
    /* The keys: the sim platform (plays the TEE vendor) and the operator. */
    char path[PATH_MAX];
    tcn_sim_platform plat;
    path_in(path, sizeof(path), adir, "platform.key");
    if (tcn_sim_platform_generate(&plat, &err) != TCN_OK || tcn_sim_platform_save(&plat, path, &err) != TCN_OK)
        return fail(json, &err);
    char plat_hex[2 * TCN_SIM_PUBKEY_LEN + 1];
    tcn_hex_encode(plat.pk, TCN_SIM_PUBKEY_LEN, plat_hex);
    tcn_sim_platform_free(&plat);
    uint8_t seed[32], pk[32], sk[64];
    randombytes_buf(seed, sizeof(seed));
    crypto_sign_seed_keypair(pk, sk, seed);
    char seed_hex[65];
    tcn_hex_encode(seed, sizeof(seed), seed_hex);
    seed_hex[64] = '\n';
    path_in(path, sizeof(path), adir, "client.key");
    int rc = tcn_file_write(path, seed_hex, 65, 0600, &err);
    sodium_memzero(seed, sizeof(seed));
    sodium_memzero(sk, sizeof(sk));
    sodium_memzero(seed_hex, sizeof(seed_hex));
    if (rc != TCN_OK)
        return fail(json, &err);
    tcn_chain_pubkey opk;
    memcpy(opk.b, pk, 32);
    char op_b58[TCN_CHAIN_BASE58_PUBKEY_CHARS];
    tcn_chain_pubkey_to_base58(&opk, op_b58);
    uint8_t m[TCN_SIM_MEASUREMENT_LEN];
    if (tcn_sim_measure_file(tcnd_path, m, &err) != TCN_OK)
        return fail(json, &err);
    char m_hex[2 * TCN_SIM_MEASUREMENT_LEN + 1];
    tcn_hex_encode(m, sizeof(m), m_hex);

    /* The ledger. */
    char ledger_addr[32], ledger_url[64], slot_ms[16], log[PATH_MAX];
    if (new_addr(ledger_addr, sizeof(ledger_addr), &err) != TCN_OK)
        return fail(json, &err);
    snprintf(ledger_url, sizeof(ledger_url), "http://%s", ledger_addr);
    snprintf(slot_ms, sizeof(slot_ms), "%u", DEVNET_SLOT_MS);
    path_in(log, sizeof(log), adir, "ledger.log");
    char *largv[] = {tcn_path, "ledger", "--listen", ledger_addr, "--slot-ms", slot_ms, NULL};
    pid_t lpid;
    if (devnet_spawn(largv, log, &lpid, &err) != TCN_OK)
        return fail(json, &err);
    json_t *net = json_pack("{s:s,s:s,s:s,s:s,s:I,s:I,s:I,s:{s:s,s:s,s:I},s:[]}", "dir", adir, "measurement", m_hex,
                            "sim_platform_pubkey", plat_hex, "operator", op_b58, "heartbeat_ms", (json_int_t)hb,
                            "election_timeout_ms", (json_int_t)et, "replace_after_ms", (json_int_t)ra, "ledger",
                            "url", ledger_url, "listen", ledger_addr, "pid", (json_int_t)lpid, "nodes");
    if (net == NULL) {
        tcn_err_set(&err, TCN_ERR_NOMEM, "out of memory");
        return fail(json, &err);
    }
    if (devnet_save(adir, net, &err) != TCN_OK)
        goto failed;
    uint16_t lport = (uint16_t)atoi(strchr(ledger_addr, ':') + 1);
    for (unsigned w = 0; !devnet_port_open(lport); w += 20) {
        if (w > 10000) {
            tcn_err_set(&err, TCN_ERR_IO, "the ledger did not listen within 10 s (see %s)", log);
            goto failed;
        }
        devnet_sleep_ms(20);
    }
    /* The nodes: every one knows every other's peer address. */
    node_spec ns[DEVNET_NODES_MAX];
    memset(ns, 0, sizeof(ns));
    for (unsigned i = 0; i < nodes; i++) {
        snprintf(ns[i].name, sizeof(ns[i].name), "node-%u", i + 1);
        snprintf(ns[i].binary, sizeof(ns[i].binary), "%s", tcnd_path);
        if (new_addr(ns[i].peer, sizeof(ns[i].peer), &err) != TCN_OK ||
            new_addr(ns[i].api, sizeof(ns[i].api), &err) != TCN_OK)
            goto failed;
    }
    for (unsigned i = 0; i < nodes; i++) {
        char join[DEVNET_NODES_MAX * 32] = "";
        for (unsigned j = 0; j < nodes; j++) {
            if (j == i)
                continue;
            if (join[0] != '\0')
                strcat(join, ",");
            strcat(join, ns[j].peer);
        }
        if (start_node(adir, net, &ns[i], join, nodes, &err) != TCN_OK)
            goto failed;
        json_array_append_new(json_object_get(net, "nodes"), node_json(&ns[i]));
        if (devnet_save(adir, net, &err) != TCN_OK)
            goto failed;
    }
    if (devnet_wait_ready(adir, net, DEVNET_READY_TIMEOUT_MS, &err) != TCN_OK)
        goto failed;
    if (devnet_save(adir, net, &err) != TCN_OK)
        goto failed;
    json_t *outn = json_array();
    for (unsigned i = 0; i < nodes; i++)
        json_array_append_new(outn, json_pack("{s:s,s:s,s:I}", "name", ns[i].name, "api", ns[i].api, "pid",
                                              (json_int_t)ns[i].pid));
    json_t *o = json_pack("{s:s,s:s,s:s,s:O,s:O,s:o}", "dir", adir, "ledger", ledger_url, "measurement", m_hex,
                          "group_id", json_object_get(net, "group_id"), "coordinator",
                          json_object_get(net, "coordinator"), "nodes", outn);
    if (json)
        tcn_cli_json_print(o);
    else {
        printf("devnet up in %s: ledger %s, %u nodes\n", adir, ledger_url, nodes);
        for (unsigned i = 0; i < nodes; i++)
            printf("  %s  api https://%s  pid %d\n", ns[i].name, ns[i].api, (int)ns[i].pid);
        printf("measurement %s\ngroup id    %s\n", m_hex, json_string_value(json_object_get(net, "group_id")));
        json_decref(o);
    }
    json_decref(net);
    return TCN_EXIT_OK;
failed:
    (void)stop_all(adir, net, NULL);
    char p2[PATH_MAX];
    path_in(p2, sizeof(p2), adir, "devnet.json");
    unlink(p2);
    json_decref(net);
    return fail(json, &err);
}

/* Stops every process of the devnet; appends the names stopped. */
static int stop_all(const char *dir, json_t *net, json_t *stopped)
{
    (void)dir;
    size_t i;
    json_t *nd;
    char needle[96];
    json_array_foreach(json_object_get(net, "nodes"), i, nd)
    {
        const char *peer = json_string_value(json_object_get(nd, "peer"));
        pid_t pid = (pid_t)json_integer_value(json_object_get(nd, "pid"));
        if (peer == NULL)
            continue;
        needle_for("--listen-peer", peer, needle, sizeof(needle));
        if (devnet_stop_pid(pid, needle, DEVNET_STOP_GRACE_MS, false) && stopped)
            json_array_append_new(stopped, json_string(json_string_value(json_object_get(nd, "name"))));
    }
    json_t *l = json_object_get(net, "ledger");
    const char *la = json_string_value(json_object_get(l, "listen"));
    if (la != NULL) {
        needle_for("--listen", la, needle, sizeof(needle));
        if (devnet_stop_pid((pid_t)json_integer_value(json_object_get(l, "pid")), needle, DEVNET_STOP_GRACE_MS, false) &&
            stopped)
            json_array_append_new(stopped, json_string("ledger"));
    }
    return TCN_OK;
}

static int cmd_down(int argc, char **argv)
{
    const char *dir = DEVNET_DIR_DEFAULT;
    int json = 0;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0)
            json = 1;
        else if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc)
            dir = argv[++i];
        else
            return usage_error("unknown option or missing value: ", argv[i]);
    }
    tcn_error err;
    tcn_err_clear(&err);
    char adir[PATH_MAX];
    json_t *net;
    if (open_devnet(dir, adir, &net, &err) != TCN_OK)
        return fail(json, &err);
    json_t *stopped = json_array();
    (void)stop_all(adir, net, stopped);
    char p[PATH_MAX];
    path_in(p, sizeof(p), adir, "devnet.json");
    unlink(p);
    path_in(p, sizeof(p), adir, "pins.json");
    unlink(p);
    if (json)
        tcn_cli_json_print(json_pack("{s:s,s:o}", "dir", adir, "stopped", stopped));
    else {
        printf("devnet in %s stopped (%zu processes)\n", adir, json_array_size(stopped));
        json_decref(stopped);
    }
    json_decref(net);
    return TCN_EXIT_OK;
}

int devnet_client_for(const json_t *net, bool with_group, bool with_key, tcn_client **out, tcn_error *err);

static uint64_t mono_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000u + (uint64_t)t.tv_nsec / 1000000u;
}

/* Waits, at most timeout_ms of wall time, until a leader other than the new
 * node counts it among the members: by its node id once the node told it
 * (restart: the name is still the dead member's), else by name (add: names
 * are new). Stops early when the new process is gone. */
static int wait_joined(json_t *net, const node_spec *ns, bool by_id, unsigned timeout_ms, bool *joined,
                       tcn_error *err)
{
    *joined = false;
    tcn_client *cl = NULL, *self = NULL;
    TCN_GUARD(devnet_client_for(net, true, false, &cl, err));
    if (devnet_client_for(net, false, false, &self, err) != TCN_OK) {
        tcn_client_free(cl);
        return err->code;
    }
    char needle[96], own[128], new_id[32] = "";
    needle_for("--listen-peer", ns->peer, needle, sizeof(needle));
    snprintf(own, sizeof(own), "https://%s", ns->api);
    uint64_t deadline = mono_ms() + timeout_ms;
    for (;;) {
        tcn_client_response r;
        tcn_error e;
        if (by_id && new_id[0] == '\0') {
            /* Its own status tells its id (pinned like any client of the devnet: a
             * node with another platform key or binary does not answer us). */
            if (tcn_client_request(self, own, "GET", "/v1/status", NULL, false, &r, &e) == TCN_OK &&
                r.status == 200 && json_is_string(json_object_get(r.body, "node_id")))
                snprintf(new_id, sizeof(new_id), "%s", json_string_value(json_object_get(r.body, "node_id")));
            tcn_client_response_free(&r);
        }
        size_t i;
        json_t *nd;
        json_array_foreach(json_object_get(net, "nodes"), i, nd)
        {
            const char *nm = json_string_value(json_object_get(nd, "name"));
            if (nm == NULL || strcmp(nm, ns->name) == 0 || *joined)
                continue; /* ask the others, not the newcomer */
            char url[128];
            snprintf(url, sizeof(url), "https://%s", json_string_value(json_object_get(nd, "api")));
            if (tcn_client_request(cl, url, "GET", "/v1/status", NULL, false, &r, &e) == TCN_OK && r.status == 200 &&
                json_is_string(json_object_get(r.body, "role")) &&
                strcmp(json_string_value(json_object_get(r.body, "role")), "leader") == 0) {
                size_t k;
                json_t *m;
                json_array_foreach(json_object_get(r.body, "members"), k, m)
                {
                    const char *mn = json_string_value(json_object_get(m, by_id ? "node_id" : "name"));
                    const char *want = by_id ? new_id : ns->name;
                    if (mn != NULL && want[0] != '\0' && strcmp(mn, want) == 0)
                        *joined = true;
                }
            }
            tcn_client_response_free(&r);
        }
        if (*joined || mono_ms() >= deadline || !devnet_pid_is_ours(ns->pid, needle))
            break;
        devnet_sleep_ms(200);
    }
    tcn_client_free(cl);
    tcn_client_free(self);
    return TCN_OK;
}

static int print_joined(int json, const node_spec *ns, bool joined, const char *verb)
{
    if (json)
        tcn_cli_json_print(json_pack("{s:s,s:s,s:I,s:b}", "name", ns->name, "api", ns->api, "pid", (json_int_t)ns->pid,
                                     "joined", joined));
    else
        printf("%s (pid %d, api https://%s) %s\n", ns->name, (int)ns->pid, ns->api,
               joined ? verb : "was not admitted (see its log)");
    return joined ? TCN_EXIT_OK : TCN_EXIT_FAIL;
}

/* The peer addresses of every node of the devnet but `except`. */
static void join_list(json_t *nodes, const char *except, char *join, size_t cap)
{
    join[0] = '\0';
    size_t i;
    json_t *nd;
    json_array_foreach(nodes, i, nd)
    {
        const char *peer = json_string_value(json_object_get(nd, "peer"));
        const char *nm = json_string_value(json_object_get(nd, "name"));
        if (except != NULL && nm != NULL && strcmp(nm, except) == 0)
            continue;
        if (peer != NULL && strlen(join) + strlen(peer) + 2 < cap) {
            if (join[0] != '\0')
                strcat(join, ",");
            strcat(join, peer);
        }
    }
}

static int cmd_add(int argc, char **argv)
{
    const char *dir = DEVNET_DIR_DEFAULT, *binary = NULL, *pkey = NULL;
    unsigned timeout_ms = DEVNET_JOIN_TIMEOUT_MS;
    bool standby = false;
    int json = 0;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0)
            json = 1;
        else if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc)
            dir = argv[++i];
        else if (strcmp(argv[i], "--binary") == 0 && i + 1 < argc)
            binary = argv[++i];
        else if (strcmp(argv[i], "--platform-key") == 0 && i + 1 < argc)
            pkey = argv[++i];
        else if (strcmp(argv[i], "--standby") == 0)
            standby = true;
        else if (strcmp(argv[i], "--timeout-ms") == 0 && i + 1 < argc) {
            if (!parse_uint(argv[i + 1], 0, 600000, &timeout_ms))
                return usage_error("--timeout-ms: expected 0..600000, not ", argv[i + 1]);
            i++;
        } else
            return usage_error("unknown option or missing value: ", argv[i]);
    }
    tcn_error err;
    tcn_err_clear(&err);
    char adir[PATH_MAX];
    json_t *net;
    if (open_devnet(dir, adir, &net, &err) != TCN_OK)
        return fail(json, &err);
    json_t *nodes = json_object_get(net, "nodes");
    node_spec ns;
    memset(&ns, 0, sizeof(ns));
    ns.standby = standby;
    snprintf(ns.name, sizeof(ns.name), "node-%zu", json_array_size(nodes) + 1);
    const char *bin = binary ? binary : json_string_value(json_object_get(json_array_get(nodes, 0), "binary"));
    if (bin == NULL || realpath(bin, ns.binary) == NULL) {
        tcn_err_set(&err, TCN_ERR_NOT_FOUND, "tcnd binary %s: %s", bin ? bin : "(none)", strerror(errno));
        json_decref(net);
        return fail(json, &err);
    }
    if (pkey != NULL && realpath(pkey, ns.platform_key) == NULL) {
        tcn_err_set(&err, TCN_ERR_NOT_FOUND, "--platform-key %s: %s", pkey, strerror(errno));
        json_decref(net);
        return fail(json, &err);
    }
    char join[(DEVNET_NODES_MAX + 16) * 32];
    join_list(nodes, NULL, join, sizeof(join));
    int rc = new_addr(ns.peer, sizeof(ns.peer), &err);
    if (rc == TCN_OK)
        rc = new_addr(ns.api, sizeof(ns.api), &err);
    if (rc == TCN_OK)
        rc = start_node(adir, net, &ns, join, 0, &err);
    if (rc == TCN_OK) {
        json_array_append_new(nodes, node_json(&ns));
        rc = devnet_save(adir, net, &err);
    }
    bool joined = false;
    if (rc == TCN_OK)
        rc = wait_joined(net, &ns, false, timeout_ms, &joined, &err);
    json_decref(net);
    if (rc != TCN_OK)
        return fail(json, &err);
    return print_joined(json, &ns, joined, "joined the network");
}

static int cmd_restart(int argc, char **argv)
{
    const char *dir = DEVNET_DIR_DEFAULT, *name = NULL;
    unsigned timeout_ms = DEVNET_JOIN_TIMEOUT_MS;
    int json = 0;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0)
            json = 1;
        else if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc)
            dir = argv[++i];
        else if (strcmp(argv[i], "--timeout-ms") == 0 && i + 1 < argc) {
            if (!parse_uint(argv[i + 1], 0, 600000, &timeout_ms))
                return usage_error("--timeout-ms: expected 0..600000, not ", argv[i + 1]);
            i++;
        } else if (argv[i][0] != '-' && name == NULL)
            name = argv[i];
        else
            return usage_error("unknown option or missing value: ", argv[i]);
    }
    if (name == NULL)
        return usage_error("restart: which node? (NAME)", "");
    tcn_error err;
    tcn_err_clear(&err);
    char adir[PATH_MAX];
    json_t *net;
    if (open_devnet(dir, adir, &net, &err) != TCN_OK)
        return fail(json, &err);
    json_t *nodes = json_object_get(net, "nodes"), *entry = NULL;
    size_t i;
    json_t *nd;
    json_array_foreach(nodes, i, nd)
    {
        const char *nm = json_string_value(json_object_get(nd, "name"));
        if (nm != NULL && strcmp(nm, name) == 0)
            entry = nd;
    }
    node_spec ns;
    memset(&ns, 0, sizeof(ns));
    const char *peer = json_string_value(json_object_get(entry, "peer"));
    const char *api = json_string_value(json_object_get(entry, "api"));
    const char *bin = json_string_value(json_object_get(entry, "binary"));
    const char *pkey = json_string_value(json_object_get(entry, "platform_key"));
    if (entry == NULL || peer == NULL || api == NULL || bin == NULL) {
        tcn_err_set(&err, TCN_ERR_NOT_FOUND, "no node named %s in %s", name, adir);
        json_decref(net);
        return fail(json, &err);
    }
    snprintf(ns.name, sizeof(ns.name), "%s", name);
    snprintf(ns.peer, sizeof(ns.peer), "%s", peer);
    snprintf(ns.api, sizeof(ns.api), "%s", api);
    snprintf(ns.binary, sizeof(ns.binary), "%s", bin);
    if (pkey != NULL)
        snprintf(ns.platform_key, sizeof(ns.platform_key), "%s", pkey);
    ns.standby = json_is_true(json_object_get(entry, "standby"));
    char needle[96];
    needle_for("--listen-peer", ns.peer, needle, sizeof(needle));
    pid_t old = (pid_t)json_integer_value(json_object_get(entry, "pid"));
    if (devnet_pid_is_ours(old, needle)) {
        tcn_err_set(&err, TCN_ERR_USAGE, "%s is still running (pid %d): a node restarts only after it died", name,
                    (int)old);
        json_decref(net);
        return fail(json, &err);
    }
    char join[(DEVNET_NODES_MAX + 16) * 32];
    join_list(nodes, name, join, sizeof(join));
    /* Its addresses may still be held for a moment by the dead process's
     * sockets; the node binds with SO_REUSEADDR, so only a live listener
     * (someone else's) makes it fail, and then its log says so. */
    int rc = start_node(adir, net, &ns, join, 0, &err);
    if (rc == TCN_OK) {
        json_object_set_new(entry, "pid", json_integer((json_int_t)ns.pid));
        rc = devnet_save(adir, net, &err);
    }
    bool joined = false;
    if (rc == TCN_OK)
        rc = wait_joined(net, &ns, true, timeout_ms, &joined, &err);
    json_decref(net);
    if (rc != TCN_OK)
        return fail(json, &err);
    return print_joined(json, &ns, joined, "restarted and joined the network");
}

int tcn_cmd_devnet_demo(int argc, char **argv);

int tcn_cmd_devnet(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fputs(usage_text, argc < 2 ? stderr : stdout);
        return argc < 2 ? TCN_EXIT_USAGE : TCN_EXIT_OK;
    }
    if (strcmp(argv[1], "up") == 0)
        return cmd_up(argc - 2, argv + 2);
    if (strcmp(argv[1], "down") == 0)
        return cmd_down(argc - 2, argv + 2);
    if (strcmp(argv[1], "add") == 0)
        return cmd_add(argc - 2, argv + 2);
    if (strcmp(argv[1], "restart") == 0)
        return cmd_restart(argc - 2, argv + 2);
    if (strcmp(argv[1], "demo") == 0)
        return tcn_cmd_devnet_demo(argc - 2, argv + 2);
    return usage_error("unknown subcommand: ", argv[1]);
}
