/* tcn devnet demo: being written (the rest of `tcn devnet` works). */
#include <stdio.h>

#include "cli/cli.h"

int tcn_cmd_devnet_demo(int argc, char **argv);
int tcn_cmd_devnet_demo(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "tcn devnet demo: not written yet in this build\n");
    return TCN_EXIT_FAIL;
}
