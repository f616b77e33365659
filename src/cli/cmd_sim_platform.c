#include "cli/cli.h"
int tcn_cmd_sim_platform(int argc, char **argv) { (void)argc; (void)argv; return 2; }
