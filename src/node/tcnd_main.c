/* tcnd — the coordinator daemon: merges its configuration, creates its TEE
 * provider and runs the node (src/node/node.h) until SIGTERM; also
 * --check-config, --measurement and --version. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include "attest/provider.h"
#include "attest/sim.h"
#include "chain/rpc.h"
#include "node/config.h"
#include "node/node.h"
#include "util/encoding.h"
#include "util/log.h"
#include "util/secmem.h"

/* Exit codes: 0 success, 1 failed, 2 usage or configuration error. */
#define TCND_EXIT_OK 0
#define TCND_EXIT_FAIL 1
#define TCND_EXIT_USAGE 2

static const char usage_text[] =
    "usage: tcnd [--config FILE] [FLAG...]        run the node until SIGTERM\n"
    "       tcnd --check-config [--config FILE] [FLAG...]\n"
    "       tcnd --version | --measurement | --help\n"
    "  --check-config          merge the config file and the flags, check them, print the\n"
    "                          result as JSON and exit (0), or print what is wrong (exit 2)\n"
    "  --config FILE           JSON config file; flags override its fields (docs/NODE.md)\n"
    "  --name NAME             --listen-peer IP:PORT      --listen-api IP:PORT\n"
    "  --join HOST:PORT,...    --bootstrap-expect 0..5    --standby\n"
    "  --heartbeat-ms N        --election-timeout-ms N    --replace-after-ms N\n"
    "  --chain-rpc URL         --tee sim|gramine|nitro    --sim-platform-key FILE\n"
    "  --policy FILE           --log-level LEVEL          --data-dir DIR\n"
    "  --operator-key PUBKEY   (base58: the first operator, made so at genesis)\n"
    "  --advertise-peer IP:PORT --advertise-api IP:PORT (what others reach; default the listen addresses)\n"
    "  --reattest-interval-ms N                           --evidence-max-age-ms N\n"
    "exit: 0 success, 1 failed, 2 usage or configuration error\n";

/* The merged, checked configuration, or what is wrong on stderr (false). */
static bool load_config(int argc, char **argv, tcn_node_config *cfg)
{
    tcn_error err;
    tcn_err_clear(&err);
    if (tcn_node_config_from_args(argc, argv, cfg, &err) == TCN_OK)
        return true;
    fprintf(stderr, "tcnd: %s\n", err.msg);
    if (err.code == TCN_ERR_USAGE)
        fputs(usage_text, stderr);
    return false;
}

static int check_config(int argc, char **argv)
{
    tcn_node_config cfg;
    if (!load_config(argc, argv, &cfg))
        return TCND_EXIT_USAGE;
    json_t *o = tcn_node_config_to_json(&cfg);
    char *text = o ? json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
    json_decref(o);
    if (text == NULL) {
        fprintf(stderr, "tcnd: out of memory\n");
        return TCND_EXIT_FAIL;
    }
    printf("%s\n", text);
    free(text);
    return TCND_EXIT_OK;
}

static int run_node(int argc, char **argv)
{
    tcn_node_config cfg;
    if (!load_config(argc, argv, &cfg))
        return TCND_EXIT_USAGE;
    tcn_error err;
    tcn_err_clear(&err);
    tcn_log_set_level(cfg.log_level);
    /* No core dumps and no ptrace by the host's user: the process holds the
     * coordinator key and delegated shares (secrets are also in sodium's
     * guarded, undumpable pages; this covers everything else). */
    if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
        tcn_log(TCN_LOG_WARN, "cannot turn core dumps off (prctl PR_SET_DUMPABLE)", NULL);
    struct rlimit no_core = {0, 0};
    (void)setrlimit(RLIMIT_CORE, &no_core);
    tcn_provider *prov = NULL;
    int rc;
    switch (cfg.tee) {
    case TCN_NODE_TEE_SIM:
        rc = tcn_provider_sim_new(cfg.sim_platform_key, NULL, &prov, &err);
        break;
    case TCN_NODE_TEE_GRAMINE:
        rc = tcn_provider_gramine_new("/dev/attestation", &prov, &err);
        break;
    case TCN_NODE_TEE_NITRO:
        rc = tcn_provider_nitro_new("/dev/nsm", &prov, &err);
        break;
    default:
        rc = tcn_err_set(&err, TCN_ERR_CONFIG, "config: tee: not set");
        break;
    }
    if (rc != TCN_OK) {
        fprintf(stderr, "tcnd: %s\n", err.msg);
        return TCND_EXIT_FAIL;
    }
    if (tcn_chain_rpc_http_global_init(&err) != TCN_OK) {
        fprintf(stderr, "tcnd: %s\n", err.msg);
        tcn_provider_free(prov);
        return TCND_EXIT_FAIL;
    }
    tcn_node *node = NULL;
    rc = tcn_node_new(&cfg, prov, &node, &err);
    if (rc == TCN_OK)
        rc = tcn_node_run(node, true, &err);
    tcn_node_free(node);
    tcn_provider_free(prov);
    tcn_chain_rpc_http_global_cleanup();
    if (rc != TCN_OK) {
        fprintf(stderr, "tcnd: %s\n", err.msg);
        tcn_log(TCN_LOG_ERROR, "tcnd stopped", "error", err.msg, NULL);
        return TCND_EXIT_FAIL;
    }
    tcn_log(TCN_LOG_INFO, "tcnd stopped", NULL);
    return TCND_EXIT_OK;
}

static int measurement(void)
{
    uint8_t m[TCN_SIM_MEASUREMENT_LEN];
    tcn_error err;
    tcn_err_clear(&err);
    if (tcn_sim_measure_self(m, &err) != TCN_OK) {
        fprintf(stderr, "tcnd: %s\n", err.msg);
        return TCND_EXIT_FAIL;
    }
    char hex[2 * TCN_SIM_MEASUREMENT_LEN + 1];
    tcn_hex_encode(m, sizeof(m), hex);
    printf("%s\n", hex);
    return TCND_EXIT_OK;
}

int main(int argc, char **argv)
{
    if (tcn_crypto_init() != TCN_OK) {
        fprintf(stderr, "tcnd: cannot initialise libsodium\n");
        return TCND_EXIT_FAIL;
    }
    if (argc > 1 && strcmp(argv[1], "--measurement") == 0)
        return measurement();
    if (argc > 1 && strcmp(argv[1], "--help") == 0) {
        fputs(usage_text, stdout);
        return TCND_EXIT_OK;
    }
    if (argc > 1 && strcmp(argv[1], "--version") == 0) {
        printf("tcnd %s\n", TCN_VERSION);
        return TCND_EXIT_OK;
    }
    /* --check-config may stand anywhere; the other arguments are config flags. */
    char **flags = argv + 1;
    int nflags = 0;
    bool check = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--check-config") == 0 && !check)
            check = true;
        else
            flags[nflags++] = argv[i]; /* compacts argv in place: nflags < i */
    }
    return check ? check_config(nflags, flags) : run_node(nflags, flags);
}
