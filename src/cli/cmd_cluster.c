/* tcn cluster members | replace | transfer: the network's membership as the
 * leader sees it, and the operator's two levers on it (DESIGN §6: a dead
 * member replaced by a caught-up learner without waiting for the automatic
 * delay; leadership handed to a chosen voter). */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "cli/api_cmd.h"
#include "cli/cli.h"

static const char cluster_usage[] =
    "usage: tcn cluster members --node URL [--json]\n"
    "       tcn cluster replace --node URL --old NODE_ID [--new NODE_ID] [--json]\n"
    "       tcn cluster transfer --node URL --to NODE_ID [--json]\n"
    "  members   the members, their roles and health, as the answering node sees them\n"
    "  replace   operator: replace the dead voter OLD by the caught-up learner NEW (without --new:\n"
    "            remove OLD); NODE_ID as `members` prints it (16 hex digits)\n"
    "  transfer  operator: hand leadership to the voter TO\n" API_CMD_COMMON_HELP;

static int members(int argc, char **argv)
{
    api_cmd c = {.name = "cluster members", .usage = cluster_usage};
    int rc = api_cmd_parse(&c, argc, argv, 0, 0);
    if (rc >= 0)
        return rc;
    tcn_client *cl;
    if ((rc = api_cmd_client(&c, false, false, &cl)) >= 0)
        return rc;
    tcn_client_response r;
    rc = api_cmd_call(&c, cl, "GET", "/v1/status", NULL, false, 200, 200, &r);
    tcn_client_free(cl);
    if (rc >= 0)
        return rc;
    json_t *m = json_object_get(r.body, "members");
    if (c.json) {
        tcn_cli_json_print(json_pack("{s:O,s:O,s:O}", "leader", json_object_get(r.body, "leader"), "term",
                                     json_object_get(r.body, "term"), "members", m));
    } else {
        size_t i;
        json_t *e;
        json_array_foreach(m, i, e)
        {
            printf("%-16s %-16s %-9s %-9s %s\n", json_string_value(json_object_get(e, "node_id")),
                   json_string_value(json_object_get(e, "name")), json_string_value(json_object_get(e, "role")),
                   json_is_true(json_object_get(e, "healthy")) ? "healthy" : "down",
                   json_string_value(json_object_get(e, "api")) ? json_string_value(json_object_get(e, "api")) : "");
        }
    }
    tcn_client_response_free(&r);
    return TCN_EXIT_OK;
}

static int change(int argc, char **argv, bool replace)
{
    api_cmd c = {.name = replace ? "cluster replace" : "cluster transfer", .usage = cluster_usage, .n_flags = 3,
                 .flag_names = {"--old", "--new", "--to"}};
    int rc = api_cmd_parse(&c, argc, argv, 0, 0);
    if (rc >= 0)
        return rc;
    const char *old_id = api_cmd_flag(&c, "--old"), *new_id = api_cmd_flag(&c, "--new"), *to = api_cmd_flag(&c, "--to");
    if (replace && (old_id == NULL || to != NULL))
        return api_cmd_usage_error(&c, "replace takes --old NODE_ID and optionally --new NODE_ID");
    if (!replace && (to == NULL || old_id != NULL || new_id != NULL))
        return api_cmd_usage_error(&c, "transfer takes --to NODE_ID");
    tcn_client *cl;
    if ((rc = api_cmd_client(&c, true, false, &cl)) >= 0)
        return rc;
    json_t *body = replace ? (new_id ? json_pack("{s:s,s:s}", "old", old_id, "new", new_id)
                                     : json_pack("{s:s}", "old", old_id))
                           : json_pack("{s:s}", "to", to);
    tcn_client_response r;
    rc = api_cmd_call(&c, cl, "POST", replace ? "/v1/cluster/replace" : "/v1/cluster/transfer", body, true, 202, 202,
                      &r);
    tcn_client_free(cl);
    if (rc >= 0)
        return rc;
    if (c.json)
        tcn_cli_json_print(json_incref(r.body));
    else if (replace)
        printf("replacing %s%s%s: started (watch tcn cluster members)\n", old_id, new_id ? " by " : "",
               new_id ? new_id : "");
    else
        printf("leadership transfer to %s: started\n", to);
    tcn_client_response_free(&r);
    return TCN_EXIT_OK;
}

int tcn_cmd_cluster(int argc, char **argv)
{
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        fputs(cluster_usage, stdout);
        return TCN_EXIT_OK;
    }
    if (argc >= 2 && strcmp(argv[1], "members") == 0)
        return members(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "replace") == 0)
        return change(argc - 1, argv + 1, true);
    if (argc >= 2 && strcmp(argv[1], "transfer") == 0)
        return change(argc - 1, argv + 1, false);
    fprintf(stderr, "tcn cluster: expected members, replace or transfer\n%s", cluster_usage);
    return TCN_EXIT_USAGE;
}
