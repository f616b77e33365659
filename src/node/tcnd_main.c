/* tcnd — the coordinator daemon. In this release it reports its version and
 * its own sim measurement, and checks a configuration (--check-config); the
 * network comes with the consensus issues. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attest/sim.h"
#include "node/config.h"
#include "util/encoding.h"
#include "util/secmem.h"

/* Exit codes: 0 success, 1 failed, 2 usage or configuration error. */
#define TCND_EXIT_OK 0
#define TCND_EXIT_FAIL 1
#define TCND_EXIT_USAGE 2

static const char usage_text[] =
    "usage: tcnd --version | --measurement | --help\n"
    "       tcnd --check-config [--config FILE] [FLAG...]\n"
    "  --check-config          merge the config file and the flags, check them, print the\n"
    "                          result as JSON and exit (0), or print what is wrong (exit 2)\n"
    "  --config FILE           JSON config file; flags override its fields (docs/NODE.md)\n"
    "  --name NAME             --listen-peer IP:PORT      --listen-api IP:PORT\n"
    "  --join HOST:PORT,...    --bootstrap-expect 0..5    --standby\n"
    "  --heartbeat-ms N        --election-timeout-ms N    --replace-after-ms N\n"
    "  --chain-rpc URL         --tee sim|gramine|nitro    --sim-platform-key FILE\n"
    "  --policy FILE           --log-level LEVEL          --data-dir DIR\n"
    "  --operator-key PUBKEY   (base58: the first operator, made so at genesis)\n"
    "  --reattest-interval-ms N                           --evidence-max-age-ms N\n"
    "exit: 0 success, 1 failed, 2 usage or configuration error\n";

static int check_config(int argc, char **argv)
{
    tcn_node_config cfg;
    tcn_error err;
    tcn_err_clear(&err);
    if (tcn_node_config_from_args(argc, argv, &cfg, &err) != TCN_OK) {
        fprintf(stderr, "tcnd: %s\n", err.msg);
        if (err.code == TCN_ERR_USAGE)
            fputs(usage_text, stderr);
        return TCND_EXIT_USAGE;
    }
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
    if (argc <= 1 || strcmp(argv[1], "--version") == 0) {
        printf("tcnd %s (daemon not yet implemented in this release: no network, no consensus)\n", TCN_VERSION);
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
    if (!check) {
        fprintf(stderr, "tcnd: the daemon is not implemented in this release; --check-config checks a "
                        "configuration\n%s",
                usage_text);
        return TCND_EXIT_USAGE;
    }
    return check_config(nflags, flags);
}
