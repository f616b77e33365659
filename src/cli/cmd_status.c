/* tcn status and tcn verify: a node's view of the network, and its attested claims checked against the pins. */
#include <stdio.h>
#include <string.h>

#include "cli/api_cmd.h"
#include "cli/cli.h"
#include "util/encoding.h"

#define PINS_HELP                                                                                            \
    "  --node URL                   https://HOST:PORT of any node\n"                                      \
    "  --dir DIR                    DIR/pins.json {measurement, group_id, sim_platform_pubkey} (hex)\n"   \
    "                               and DIR/client.key (64 hex characters, mode 0600)\n"                  \
    "  --expect-measurement HEX     the measurement the node must have (overrides pins.json)\n"           \
    "  --expect-group HEX           the network's 16-byte group id\n"                                     \
    "  --sim-platform-pubkey HEX    accept sim TEE evidence signed by this platform key (development)\n" \
    "  --json                       print one JSON object\n"                                              \
    "exit: 0 success, 1 refused or failed, 2 usage error\n"

static const char status_usage[] = "usage: tcn status --node URL [pins] [--json]\n"
                                   "  the node's role, term, leader, commit/applied index and members\n" PINS_HELP;

int tcn_cmd_status(int argc, char **argv)
{
    api_cmd c = {.name = "status", .usage = status_usage};
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
    if (c.json) {
        tcn_cli_json_print(json_incref(r.body));
    } else {
        const json_t *b = r.body;
        printf("%s (%s), term %lld, leader %s at %s\n", json_string_value(json_object_get(b, "name")),
               json_string_value(json_object_get(b, "role")), json_integer_value(json_object_get(b, "term")),
               json_is_string(json_object_get(b, "leader")) ? json_string_value(json_object_get(b, "leader")) : "unknown",
               json_is_string(json_object_get(b, "leader_api")) ? json_string_value(json_object_get(b, "leader_api"))
                                                                 : "-");
        printf("commit %lld, applied %lld\n", json_integer_value(json_object_get(b, "commit_index")),
               json_integer_value(json_object_get(b, "applied_index")));
        size_t i;
        json_t *m;
        json_array_foreach(json_object_get(b, "members"), i, m)
        {
            printf("  %-16s %-10s %s\n", json_string_value(json_object_get(m, "name")),
                   json_string_value(json_object_get(m, "role")),
                   json_is_true(json_object_get(m, "healthy")) ? "healthy" : "unhealthy");
        }
    }
    tcn_client_response_free(&r);
    return TCN_EXIT_OK;
}

static const char verify_usage[] =
    "usage: tcn verify --node URL [pins] [--json]\n"
    "  connects, verifies the node's RA-TLS certificate (its TEE evidence) against the pins and\n"
    "  prints the verified claims; without a pinned measurement it prints what it saw, says it is\n"
    "  unverified and exits 1\n" PINS_HELP;

int tcn_cmd_verify(int argc, char **argv)
{
    api_cmd c = {.name = "verify", .usage = verify_usage};
    int rc = api_cmd_parse(&c, argc, argv, 0, 0);
    if (rc >= 0)
        return rc;
    bool pinned = c.measurement != NULL || c.dir != NULL;
    tcn_client *cl;
    if ((rc = api_cmd_client(&c, false, !pinned, &cl)) >= 0)
        return rc;
    tcn_client_response r;
    tcn_error e;
    if (tcn_client_request(cl, c.node, "GET", "/v1/attestation", NULL, false, &r, &e) != TCN_OK) {
        /* Refused in the handshake: say which check, as "verified": false. */
        tcn_client_free(cl);
        if (c.json)
            tcn_cli_json_print(json_pack("{s:b,s:s,s:s,s:s,s:s}", "verified", 0, "node", r.url, "ratls",
                                         r.peer.checked ? r.peer.reason : "", "error", e.msg, "error_code",
                                         tcn_err_name(e.code)));
        fprintf(stderr, "tcn verify: NOT VERIFIED: %s\n", e.msg);
        tcn_client_response_free(&r);
        return TCN_EXIT_FAIL;
    }
    tcn_client_free(cl);
    if (r.status != 200) {
        int code = api_cmd_fail(&c, tcn_client_error_code(&r), tcn_client_error_message(&r));
        tcn_client_response_free(&r);
        return code;
    }
    /* Verified: the claims the handshake verified. Unverified: what the node says of itself. */
    json_t *claims = r.peer.verified || r.peer.claims.tee != TCN_TEE_NONE ? tcn_claims_to_json(&r.peer.claims)
                                                                         : json_incref(json_object_get(r.body, "claims"));
    char m[2 * TCN_MEASUREMENT_MAX + 1], g[33];
    tcn_hex_encode(r.peer.claims.measurement, r.peer.claims.measurement_len, m);
    tcn_hex_encode(r.peer.group_id, 16, g);
    json_t *o = json_pack("{s:b,s:s,s:O,s:O,s:s,s:s,s:o,s:o}", "verified", (int)r.peer.verified, "node", r.url,
                          "name", json_object_get(r.body, "name"), "node_id", json_object_get(r.body, "node_id"),
                          "tee", tcn_tee_name(r.peer.claims.tee), "measurement", m, "group_id",
                          r.peer.group_present ? json_string(g) : json_null(), "claims",
                          claims != NULL ? claims : json_null());
    if (o != NULL && !r.peer.verified)
        json_object_set_new(o, "reason",
                            json_string(r.peer.error[0] != '\0' ? r.peer.error
                                                                : "no measurement pinned: nothing was verified"));
    if (c.json) {
        tcn_cli_json_print(o);
    } else {
        printf("%s %s (%s) tee %s\n  measurement %s\n  group_id    %s\n", r.peer.verified ? "VERIFIED" : "UNVERIFIED",
               r.url, json_string_value(json_object_get(r.body, "name")), tcn_tee_name(r.peer.claims.tee), m,
               r.peer.group_present ? g : "(none)");
        if (!r.peer.verified)
            printf("  %s\n", json_string_value(json_object_get(o, "reason")));
        json_decref(o);
    }
    bool ok = r.peer.verified;
    tcn_client_response_free(&r);
    if (!ok)
        fprintf(stderr, "tcn verify: UNVERIFIED: pin the measurement (--expect-measurement) to verify\n");
    return ok ? TCN_EXIT_OK : TCN_EXIT_FAIL;
}
