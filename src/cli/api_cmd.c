/* The API commands' shared options (--node, --dir, pins, --key, --json), client and output. */
#include "cli/api_cmd.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "util/encoding.h"
#include "util/secmem.h"
#include "util/timefmt.h"

#define PATH_CHARS_MAX 1024u

int api_cmd_usage_error(const api_cmd *c, const char *what)
{
    fprintf(stderr, "tcn %s: %s\n%s", c->name, what, c->usage);
    return TCN_EXIT_USAGE;
}

static const char *const common_flags[] = {"--node", "--dir", "--expect-measurement", "--expect-group",
                                           "--sim-platform-pubkey", "--key"};

int api_cmd_parse(api_cmd *c, int argc, char **argv, size_t pos_min, size_t pos_max)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(c->usage, stdout);
            return TCN_EXIT_OK;
        }
        if (strcmp(a, "--json") == 0) {
            c->json = true;
            continue;
        }
        if (strncmp(a, "--", 2) != 0) {
            if (c->n_pos >= pos_max || c->n_pos >= API_CMD_POS_MAX)
                return api_cmd_usage_error(c, "too many arguments");
            c->pos[c->n_pos++] = a;
            continue;
        }
        const char **slot = NULL;
        const char **commons[] = {&c->node, &c->dir, &c->measurement, &c->group, &c->sim_key, &c->key_file};
        for (size_t k = 0; k < sizeof(common_flags) / sizeof(common_flags[0]); k++)
            if (strcmp(a, common_flags[k]) == 0)
                slot = commons[k];
        for (size_t k = 0; k < c->n_flags && slot == NULL; k++)
            if (strcmp(a, c->flag_names[k]) == 0)
                slot = &c->flag_values[k];
        if (slot == NULL) {
            char m[128];
            snprintf(m, sizeof(m), "unknown option '%.64s'", a);
            return api_cmd_usage_error(c, m);
        }
        if (i + 1 >= argc) {
            char m[128];
            snprintf(m, sizeof(m), "%.64s needs a value", a);
            return api_cmd_usage_error(c, m);
        }
        if (*slot != NULL) {
            char m[128];
            snprintf(m, sizeof(m), "%.64s given twice", a);
            return api_cmd_usage_error(c, m);
        }
        *slot = argv[++i];
    }
    if (c->n_pos < pos_min)
        return api_cmd_usage_error(c, "missing argument");
    return -1;
}

const char *api_cmd_flag(const api_cmd *c, const char *name)
{
    for (size_t k = 0; k < c->n_flags; k++)
        if (strcmp(c->flag_names[k], name) == 0)
            return c->flag_values[k];
    return NULL;
}

int api_cmd_fail(const api_cmd *c, const char *code, const char *msg)
{
    if (c->json)
        tcn_cli_json_print(json_pack("{s:s,s:s}", "error", msg, "error_code", code));
    fprintf(stderr, "tcn %s: %s\n", c->name, msg);
    return TCN_EXIT_FAIL;
}

static int fail_err(const api_cmd *c, const tcn_error *e)
{
    return api_cmd_fail(c, tcn_err_name(e->code), e->msg);
}

static int hex_flag(const api_cmd *c, const char *flag, const char *hex, uint8_t *out, size_t min, size_t max,
                    size_t *len)
{
    size_t n = 0;
    tcn_error e;
    if (tcn_hex_decode(hex, out, max, &n, &e) != TCN_OK || n < min) {
        char m[160];
        snprintf(m, sizeof(m), "%s must be hex of %zu%s bytes", flag, min, min != max ? " or more" : "");
        return api_cmd_usage_error(c, m);
    }
    if (len != NULL)
        *len = n;
    return -1;
}

int api_cmd_client(const api_cmd *c, bool need_key, bool allow_unverified, tcn_client **out)
{
    *out = NULL;
    if (c->node == NULL)
        return api_cmd_usage_error(c, "--node URL is required");
    if (strncmp(c->node, "https://", 8) != 0)
        return api_cmd_usage_error(c, "--node must be https://HOST:PORT");
    tcn_client_config *cfg = tcn_secure_alloc(sizeof(*cfg));
    if (cfg == NULL)
        return api_cmd_fail(c, "TCN_ERR_NOMEM", "out of memory");
    memset(cfg, 0, sizeof(*cfg));
    int rc = -1;
    tcn_error e;
    char path[PATH_CHARS_MAX];
    if (c->dir != NULL) {
        snprintf(path, sizeof(path), "%s/pins.json", c->dir);
        if (tcn_client_load_pins(path, &cfg->pins, &e) != TCN_OK) {
            rc = fail_err(c, &e);
            goto out;
        }
    }
    if (c->measurement != NULL) {
        rc = hex_flag(c, "--expect-measurement", c->measurement, cfg->pins.measurement, 32, TCN_MEASUREMENT_MAX,
                      &cfg->pins.measurement_len);
        if (rc >= 0)
            goto out;
        cfg->pins.has_measurement = true;
    }
    if (c->group != NULL) {
        rc = hex_flag(c, "--expect-group", c->group, cfg->pins.group_id, 16, 16, NULL);
        if (rc >= 0)
            goto out;
        cfg->pins.has_group = true;
    }
    if (c->sim_key != NULL) {
        rc = hex_flag(c, "--sim-platform-pubkey", c->sim_key, cfg->pins.sim_key, 32, 32, NULL);
        if (rc >= 0)
            goto out;
        cfg->pins.has_sim_key = true;
    }
    if (need_key) {
        const char *kf = c->key_file;
        if (kf == NULL && c->dir != NULL) {
            snprintf(path, sizeof(path), "%s/client.key", c->dir);
            kf = path;
        }
        if (kf == NULL) {
            rc = api_cmd_usage_error(c, "a signed request needs --key FILE or --dir DIR (with client.key)");
            goto out;
        }
        if (tcn_client_load_key(kf, cfg->seed, &e) != TCN_OK) {
            rc = fail_err(c, &e);
            goto out;
        }
        cfg->has_key = true;
        if (!cfg->pins.has_group) {
            rc = api_cmd_usage_error(c, "a signed request needs the network's group id (--expect-group or pins.json)");
            goto out;
        }
    }
    cfg->allow_unverified = allow_unverified;
    if (!cfg->pins.has_measurement && !allow_unverified) {
        rc = api_cmd_usage_error(c, "no measurement pinned: give --expect-measurement HEX or --dir DIR with pins.json");
        goto out;
    }
    if (tcn_client_new(cfg, out, &e) != TCN_OK)
        rc = fail_err(c, &e);
out:
    tcn_secure_free(cfg);
    return rc;
}

int api_cmd_call(const api_cmd *c, tcn_client *cl, const char *method, const char *path, json_t *body, bool sign,
                 long ok1, long ok2, tcn_client_response *r)
{
    tcn_error e;
    int rc = tcn_client_request(cl, c->node, method, path, body, sign, r, &e);
    json_decref(body);
    if (rc != TCN_OK) {
        if (c->json) {
            json_t *o = json_pack("{s:s,s:s}", "error", e.msg, "error_code", tcn_err_name(e.code));
            if (o != NULL && r->peer.checked && !r->peer.verified)
                json_object_set_new(o, "ratls", json_string(r->peer.reason));
            tcn_cli_json_print(o);
        }
        fprintf(stderr, "tcn %s: %s\n", c->name, e.msg);
        return TCN_EXIT_FAIL;
    }
    if (r->status == ok1 || r->status == ok2)
        return -1;
    const char *msg = tcn_client_error_message(r);
    if (c->json) {
        json_t *o = json_pack("{s:s,s:s,s:i}", "error", msg, "error_code", tcn_client_error_code(r), "status",
                              (int)r->status);
        const char *f = json_string_value(json_object_get(json_object_get(r->body, "error"), "field"));
        if (o != NULL && f != NULL)
            json_object_set_new(o, "field", json_string(f));
        tcn_cli_json_print(o);
    }
    fprintf(stderr, "tcn %s: the node refused (HTTP %ld %s): %s\n", c->name, r->status, tcn_client_error_code(r), msg);
    tcn_client_response_free(r);
    return TCN_EXIT_FAIL;
}

bool api_cmd_parse_amount(const char *s, bool zero_ok, uint64_t *out)
{
    uint64_t v = 0;
    if (*s == '\0')
        return false;
    for (; *s != '\0'; s++) {
        if (*s < '0' || *s > '9')
            return false;
        unsigned d = (unsigned)(*s - '0');
        if (v > ((uint64_t)INT64_MAX - d) / 10)
            return false; /* JSON integers are signed 64-bit: at most 2^63-1 */
        v = v * 10 + d;
    }
    if (v == 0 && !zero_ok)
        return false;
    *out = v;
    return true;
}

bool api_cmd_parse_when(const char *s, char *out, size_t cap)
{
    int64_t ms;
    tcn_error e;
    if (s[0] == '+') {
        uint64_t secs;
        if (!api_cmd_parse_amount(s + 1, true, &secs) || secs > 100ull * 365 * 86400)
            return false;
        ms = tcn_time_now_ms() + (int64_t)secs * 1000;
    } else if (tcn_time_parse_rfc3339(s, &ms, &e) != TCN_OK) {
        return false;
    }
    tcn_time_format_rfc3339_ms(ms, out, cap);
    return true;
}
