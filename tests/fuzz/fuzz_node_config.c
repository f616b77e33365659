/* libFuzzer target: tcnd's JSON configuration (the pure part: no file is
 * read). A refusal must name the config; an accepted configuration, once
 * finished, must print as JSON that reads back to the same printout. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "node/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static tcn_node_config a, b;
    tcn_error err;
    tcn_err_clear(&err);
    tcn_node_config_default(&a);
    int rc = tcn_node_config_apply_text(&a, (const char *)data, size, &err);
    if (rc == TCN_OK)
        rc = tcn_node_config_finish(&a, &err);
    if (rc != TCN_OK) {
        if (rc != TCN_ERR_CONFIG || strncmp(err.msg, "config", 6) != 0)
            abort(); /* every refusal is a configuration error that says so */
        return 0;
    }
    json_t *ja = tcn_node_config_to_json(&a);
    if (ja == NULL)
        abort();
    char *text = json_dumps(ja, 0);
    if (text == NULL)
        abort();
    tcn_node_config_default(&b);
    if (tcn_node_config_apply_text(&b, text, strlen(text), &err) != TCN_OK ||
        tcn_node_config_finish(&b, &err) != TCN_OK)
        abort(); /* the printout is a valid configuration */
    json_t *jb = tcn_node_config_to_json(&b);
    if (jb == NULL || !json_equal(ja, jb))
        abort(); /* and the same one */
    free(text);
    json_decref(ja);
    json_decref(jb);
    return 0;
}
