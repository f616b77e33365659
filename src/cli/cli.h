/* The CLI's command table and shared helpers. Exit codes: 0 success, 1 refused
 * or failed, 2 usage error. */
#ifndef TCN_CLI_CLI_H
#define TCN_CLI_CLI_H

#define TCN_EXIT_OK 0
#define TCN_EXIT_FAIL 1
#define TCN_EXIT_USAGE 2

struct tcn_cli_cmd {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *help;
};

int tcn_cmd_verify_evidence(int argc, char **argv);
int tcn_cmd_measure(int argc, char **argv);
int tcn_cmd_sim_platform(int argc, char **argv);
int tcn_cmd_ledger(int argc, char **argv);
int tcn_cmd_version(int argc, char **argv);
int tcn_cmd_devnet(int argc, char **argv);
int tcn_cmd_cluster(int argc, char **argv);


#include <jansson.h>

/* Prints one compact JSON object on a line and releases it. */
void tcn_cli_json_print(json_t *o);

#endif
