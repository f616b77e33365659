/* The devnet asks its own nodes, through the attested client (client.h),
 * whether they are ready: a leader and the network created (a group id). */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "chain/base58.h"
#include "chain/rpc.h"
#include "cli/client.h"
#include "cli/devnet.h"
#include "util/encoding.h"
#include "util/file.h"
#include "util/secmem.h"

int devnet_airdrop(const json_t *net, const char *to_b58, uint64_t lamports, tcn_error *err);
int devnet_client_for(const json_t *net, bool with_group, bool with_key, tcn_client **out, tcn_error *err);
int devnet_wait_ready(const char *dir, json_t *net, unsigned timeout_ms, tcn_error *err);

static int hex_field(const json_t *o, const char *key, uint8_t *out, size_t want, tcn_error *err)
{
    const char *h = json_string_value(json_object_get(o, key));
    size_t n = 0;
    if (h == NULL || strlen(h) != 2 * want || tcn_hex_decode(h, out, want, &n, err) != TCN_OK || n != want)
        return tcn_err_set(err, TCN_ERR_MALFORMED, "devnet.json: %s: expected %zu bytes of hex", key, want);
    return TCN_OK;
}

/* A client pinned to this devnet: its measurement and sim platform key,
 * its group id once known, and the operator's key from client.key. */
int devnet_client_for(const json_t *net, bool with_group, bool with_key, tcn_client **out, tcn_error *err)
{
    tcn_client_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.pins.has_measurement = true;
    cfg.pins.measurement_len = 48;
    TCN_GUARD(hex_field(net, "measurement", cfg.pins.measurement, 48, err));
    cfg.pins.has_sim_key = true;
    TCN_GUARD(hex_field(net, "sim_platform_pubkey", cfg.pins.sim_key, 32, err));
    if (with_group) {
        cfg.pins.has_group = true;
        TCN_GUARD(hex_field(net, "group_id", cfg.pins.group_id, TCN_CLIENT_GROUP_ID_LEN, err));
    }
    cfg.timeout_ms = 5000;
    if (with_key) {
        char path[PATH_MAX];
        const char *dir = json_string_value(json_object_get(net, "dir"));
        snprintf(path, sizeof(path), "%s/client.key", dir ? dir : ".");
        cfg.has_key = true;
        int rc = tcn_client_load_key(path, cfg.seed, err);
        if (rc != TCN_OK)
            return rc;
    }
    int rc = tcn_client_new(&cfg, out, err);
    tcn_wipe(cfg.seed, sizeof(cfg.seed));
    return rc;
}

int devnet_airdrop(const json_t *net, const char *to_b58, uint64_t lamports, tcn_error *err)
{
    const char *url = json_string_value(json_object_get(json_object_get(net, "ledger"), "url"));
    tcn_chain_pubkey pk;
    TCN_GUARD(tcn_chain_pubkey_from_base58(to_b58, &pk, err));
    tcn_buf req, ans;
    memset(&req, 0, sizeof(req));
    memset(&ans, 0, sizeof(ans));
    int rc = tcn_chain_rpc_request_request_airdrop(&req, 1, &pk, lamports);
    if (rc == TCN_OK)
        rc = tcn_chain_rpc_call(url, &req, &ans, 5000, err);
    if (rc == TCN_OK) {
        tcn_chain_signature sig;
        tcn_chain_rpc_error re;
        rc = tcn_chain_rpc_parse_request_airdrop((const char *)ans.p, ans.len, 1, &sig, &re, err);
        if (rc == TCN_OK && re.present)
            rc = tcn_err_set(err, TCN_ERR_IO, "ledger refused the airdrop: %s", re.message);
    } else if (err->code == TCN_OK) {
        tcn_err_set(err, rc, "cannot build the airdrop request");
    }
    tcn_buf_free(&req);
    tcn_buf_free(&ans);
    return rc;
}

static void base_url(const json_t *node, char *out, size_t cap)
{
    snprintf(out, cap, "https://%s", json_string_value(json_object_get(node, "api")));
}

int devnet_wait_ready(const char *dir, json_t *net, unsigned timeout_ms, tcn_error *err)
{
    tcn_client *cl;
    TCN_GUARD(devnet_client_for(net, false, false, &cl, err));
    json_t *nodes = json_object_get(net, "nodes");
    char last[TCN_ERR_MSG_MAX] = "no answer yet";
    int rc = TCN_ERR_IO;
    for (unsigned waited = 0; waited <= timeout_ms && rc != TCN_OK; waited += 100) {
        size_t i;
        json_t *nd;
        json_array_foreach(nodes, i, nd)
        {
            char url[128];
            base_url(nd, url, sizeof(url));
            tcn_client_response r;
            tcn_error e;
            if (tcn_client_request(cl, url, "GET", "/v1/attestation", NULL, false, &r, &e) != TCN_OK) {
                snprintf(last, sizeof(last), "%s", e.msg);
                tcn_client_response_free(&r);
                continue;
            }
            const char *g = json_string_value(json_object_get(r.body, "group_id"));
            tcn_client_response st;
            memset(&st, 0, sizeof(st));
            const char *coord = NULL;
            if (r.status == 200 && g != NULL && strlen(g) == 2 * TCN_CLIENT_GROUP_ID_LEN &&
                tcn_client_request(cl, url, "GET", "/v1/status", NULL, false, &st, &e) == TCN_OK && st.status == 200)
                coord = json_string_value(json_object_get(st.body, "coordinator"));
            if (coord != NULL) {
                json_object_set_new(net, "group_id", json_string(g));
                json_object_set_new(net, "coordinator", json_string(coord));
                rc = TCN_OK;
            } else {
                snprintf(last, sizeof(last), "%s: no network yet", url);
            }
            tcn_client_response_free(&r);
            tcn_client_response_free(&st);
            if (rc == TCN_OK)
                break;
        }
        if (rc != TCN_OK)
            devnet_sleep_ms(100);
    }
    tcn_client_free(cl);
    if (rc != TCN_OK)
        return tcn_err_set(err, TCN_ERR_IO, "the network was not up within %u ms (last: %s; logs in %s)",
                           timeout_ms, last, dir);
    /* The coordinator pays for the swaps' nonce accounts (and sweeps):
     * on this development ledger it is simply given lamports. */
    TCN_GUARD(devnet_airdrop(net, json_string_value(json_object_get(net, "coordinator")), DEVNET_COORDINATOR_LAMPORTS,
                             err));
    /* The pins a client of this network uses. */
    json_t *pins = json_pack("{s:O,s:O,s:O}", "measurement", json_object_get(net, "measurement"), "group_id",
                             json_object_get(net, "group_id"), "sim_platform_pubkey",
                             json_object_get(net, "sim_platform_pubkey"));
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/pins.json", dir);
    int w = pins ? json_dump_file(pins, path, JSON_INDENT(2)) : -1;
    json_decref(pins);
    if (w != 0)
        return tcn_err_set(err, TCN_ERR_IO, "cannot write %s", path);
    return TCN_OK;
}
