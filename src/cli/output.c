/* Output helpers shared by the CLI commands. */
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"

void tcn_cli_json_print(json_t *o)
{
    char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
    printf("%s\n", s ? s : "{\"error\":\"out of memory\"}");
    free(s);
    json_decref(o);
}
