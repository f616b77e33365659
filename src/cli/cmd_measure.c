/* tcn measure FILE: the sim measurement (SHA-384) of an executable. */
#include <stdio.h>
#include <string.h>

#include "attest/sim.h"
#include "cli/cli.h"
#include "util/encoding.h"

int tcn_cmd_measure(int argc, char **argv)
{
    int json = 0;
    const char *file = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0) {
            json = 1;
        } else if (strcmp(argv[i], "--help") == 0) {
            printf("usage: tcn measure FILE [--json]\n  prints SHA-384 of FILE, the sim TEE measurement of an executable\n");
            return TCN_EXIT_OK;
        } else if (argv[i][0] == '-' || file != NULL) {
            fprintf(stderr, "tcn measure: unexpected argument '%s'\nusage: tcn measure FILE [--json]\n", argv[i]);
            return TCN_EXIT_USAGE;
        } else {
            file = argv[i];
        }
    }
    if (file == NULL) {
        fprintf(stderr, "usage: tcn measure FILE [--json]\n");
        return TCN_EXIT_USAGE;
    }
    uint8_t m[TCN_SIM_MEASUREMENT_LEN];
    tcn_error err;
    tcn_err_clear(&err);
    if (tcn_sim_measure_file(file, m, &err) != TCN_OK) {
        if (json)
            tcn_cli_json_print(json_pack("{s:s,s:s}", "error", err.msg, "error_code", tcn_err_name(err.code)));
        fprintf(stderr, "tcn measure: %s\n", err.msg);
        return TCN_EXIT_FAIL;
    }
    char hex[2 * TCN_SIM_MEASUREMENT_LEN + 1];
    tcn_hex_encode(m, sizeof(m), hex);
    if (json)
        tcn_cli_json_print(json_pack("{s:s,s:s}", "file", file, "measurement", hex));
    else
        printf("%s\n", hex);
    return TCN_EXIT_OK;
}
