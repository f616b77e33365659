/* tcn client add, tcn keys import|list|policy, tcn keygen: clients, delegated keys, client key files. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/api_cmd.h"
#include "cli/cli.h"
#include "util/encoding.h"
#include "util/file.h"
#include "util/secmem.h"

#define SECRET_BYTES_MAX 64u               /* TCN_STATE_SHARE_BYTES_MAX */
#define POLICY_FILE_MAX (64u * 1024u)

static const char client_usage[] =
    "usage: tcn client add --node URL --pubkey PUBKEY --role user|lp|operator|none [--json]\n"
    "  an operator sets a client key's role (none removes it)\n" API_CMD_COMMON_HELP;

int tcn_cmd_client(int argc, char **argv)
{
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        fputs(client_usage, stdout);
        return TCN_EXIT_OK;
    }
    if (argc < 2 || strcmp(argv[1], "add") != 0) {
        fprintf(stderr, "tcn client: expected 'add'\n%s", client_usage);
        return TCN_EXIT_USAGE;
    }
    api_cmd c = {.name = "client add", .usage = client_usage, .n_flags = 2, .flag_names = {"--pubkey", "--role"}};
    int rc = api_cmd_parse(&c, argc - 1, argv + 1, 0, 0);
    if (rc >= 0)
        return rc;
    const char *pk = api_cmd_flag(&c, "--pubkey"), *role = api_cmd_flag(&c, "--role");
    if (pk == NULL || role == NULL)
        return api_cmd_usage_error(&c, "--pubkey and --role are required");
    if (strcmp(role, "user") != 0 && strcmp(role, "lp") != 0 && strcmp(role, "operator") != 0 &&
        strcmp(role, "none") != 0)
        return api_cmd_usage_error(&c, "--role must be user, lp, operator or none");
    tcn_client *cl;
    if ((rc = api_cmd_client(&c, true, false, &cl)) >= 0)
        return rc;
    tcn_client_response r;
    rc = api_cmd_call(&c, cl, "POST", "/v1/clients", json_pack("{s:s,s:s}", "pubkey", pk, "role", role), true, 200,
                      200, &r);
    tcn_client_free(cl);
    if (rc >= 0)
        return rc;
    if (c.json)
        tcn_cli_json_print(json_incref(r.body));
    else
        printf("client %s: role %s\n", pk, role);
    tcn_client_response_free(&r);
    return TCN_EXIT_OK;
}

static const char keys_usage[] =
    "usage: tcn keys import --node URL --kind ed25519_seed|frost_share --secret-file FILE [--policy-file FILE] [--json]\n"
    "       tcn keys list --node URL [--json]\n"
    "       tcn keys policy --node URL KEY --policy-file FILE [--json]\n"
    "  import  delegates a key (FILE: hex, a 32-byte seed or a 1..64-byte share; mode 0600); the\n"
    "          secret goes to the network over RA-TLS and is never shown again\n"
    "  list    the network's delegated keys (public parts and policies)\n"
    "  policy  sets a key's policy (KEY: key id or public key); FILE: JSON\n"
    "          {\"destinations\":[PUBKEY..],\"max_per_payout\":N,\"max_per_day\":N,\n"
    "           \"windows\":[{\"start_min\":M,\"end_min\":M}..]}\n" API_CMD_COMMON_HELP;

/* A secret file: hex, an optional newline, not readable by others. */
static int read_secret(const char *path, uint8_t *out, size_t *len, tcn_error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    TCN_ENSURE(fd >= 0, err, TCN_ERR_IO, "%s: %s", path, strerror(errno));
    struct stat st;
    char buf[2 * SECRET_BYTES_MAX + 3];
    int rc = TCN_OK;
    ssize_t n = -1;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
        rc = tcn_err_set(err, TCN_ERR_IO, "%s is not a regular file", path);
    else if ((st.st_mode & 077) != 0)
        rc = tcn_err_set(err, TCN_ERR_POLICY, "%s is readable by others; chmod 600 it", path);
    else if ((n = read(fd, buf, sizeof(buf) - 1)) < 0)
        rc = tcn_err_set(err, TCN_ERR_IO, "%s: %s", path, strerror(errno));
    close(fd);
    if (rc == TCN_OK) {
        size_t l = (size_t)n;
        if (l > 0 && buf[l - 1] == '\n')
            l--;
        buf[l] = '\0';
        if (tcn_hex_decode(buf, out, SECRET_BYTES_MAX, len, err) != TCN_OK || *len == 0)
            rc = tcn_err_set(err, TCN_ERR_MALFORMED, "%s must hold hex of 1..%u bytes", path, SECRET_BYTES_MAX);
    }
    tcn_wipe(buf, sizeof(buf));
    return rc;
}

static json_t *read_policy(const api_cmd *c, const char *path)
{
    uint8_t *text = NULL;
    size_t len = 0;
    tcn_error e;
    if (tcn_file_read(path, POLICY_FILE_MAX, &text, &len, &e) != TCN_OK) {
        api_cmd_fail(c, tcn_err_name(e.code), e.msg);
        return NULL;
    }
    json_error_t je;
    json_t *o = json_loadb((const char *)text, len, JSON_REJECT_DUPLICATES, &je);
    free(text);
    if (!json_is_object(o)) {
        json_decref(o);
        api_cmd_fail(c, "TCN_ERR_MALFORMED", "the policy file is not a JSON object");
        return NULL;
    }
    return o;
}

static void print_key(const json_t *k)
{
    const json_t *pk = json_object_get(k, "pubkey");
    printf("key %lld: %s %s, owner %s", json_integer_value(json_object_get(k, "key_id")),
           json_string_value(json_object_get(k, "kind")), json_is_string(pk) ? json_string_value(pk) : "(share)",
           json_string_value(json_object_get(k, "owner")));
    if (json_is_integer(json_object_get(k, "swap_id")))
        printf(", escrow of swap %lld", json_integer_value(json_object_get(k, "swap_id")));
    printf("\n");
}

static int keys_import(int argc, char **argv)
{
    api_cmd c = {.name = "keys import", .usage = keys_usage, .n_flags = 3,
                 .flag_names = {"--kind", "--secret-file", "--policy-file"}};
    int rc = api_cmd_parse(&c, argc, argv, 0, 0);
    if (rc >= 0)
        return rc;
    const char *kind = api_cmd_flag(&c, "--kind"), *file = api_cmd_flag(&c, "--secret-file"),
               *pol = api_cmd_flag(&c, "--policy-file");
    if (kind == NULL || file == NULL)
        return api_cmd_usage_error(&c, "--kind and --secret-file are required");
    if (strcmp(kind, "ed25519_seed") != 0 && strcmp(kind, "frost_share") != 0)
        return api_cmd_usage_error(&c, "--kind must be ed25519_seed or frost_share");
    json_t *policy = NULL;
    if (pol != NULL && (policy = read_policy(&c, pol)) == NULL)
        return TCN_EXIT_FAIL;
    tcn_client *cl;
    if ((rc = api_cmd_client(&c, true, false, &cl)) >= 0) {
        json_decref(policy);
        return rc;
    }
    uint8_t secret[SECRET_BYTES_MAX];
    char b64[2 * SECRET_BYTES_MAX];
    size_t n = 0;
    tcn_error e;
    if (read_secret(file, secret, &n, &e) != TCN_OK) {
        tcn_client_free(cl);
        json_decref(policy);
        return api_cmd_fail(&c, tcn_err_name(e.code), e.msg);
    }
    tcn_b64_encode(secret, n, b64, sizeof(b64));
    tcn_wipe(secret, sizeof(secret));
    json_t *body = json_pack("{s:s,s:s}", "kind", kind, "secret", b64);
    tcn_wipe(b64, sizeof(b64));
    if (body != NULL && policy != NULL)
        json_object_set_new(body, "policy", policy);
    else
        json_decref(policy);
    /* jansson holds a copy of the secret in body: wipe it before it is freed. */
    json_t *keep = json_incref(body);
    tcn_client_response r;
    rc = api_cmd_call(&c, cl, "POST", "/v1/keys", body, true, 201, 201, &r);
    json_t *s = json_object_get(keep, "secret");
    if (json_is_string(s))
        tcn_wipe((char *)json_string_value(s), json_string_length(s));
    json_decref(keep);
    tcn_client_free(cl);
    if (rc >= 0)
        return rc;
    if (c.json)
        tcn_cli_json_print(json_incref(r.body));
    else
        print_key(r.body);
    tcn_client_response_free(&r);
    return TCN_EXIT_OK;
}

static int keys_list(int argc, char **argv)
{
    api_cmd c = {.name = "keys list", .usage = keys_usage};
    int rc = api_cmd_parse(&c, argc, argv, 0, 0);
    if (rc >= 0)
        return rc;
    tcn_client *cl;
    if ((rc = api_cmd_client(&c, false, false, &cl)) >= 0)
        return rc;
    tcn_client_response r;
    rc = api_cmd_call(&c, cl, "GET", "/v1/keys", NULL, false, 200, 200, &r);
    tcn_client_free(cl);
    if (rc >= 0)
        return rc;
    if (c.json) {
        tcn_cli_json_print(json_incref(r.body));
    } else {
        size_t i;
        json_t *k;
        json_array_foreach(json_object_get(r.body, "keys"), i, k) print_key(k);
    }
    tcn_client_response_free(&r);
    return TCN_EXIT_OK;
}

static int keys_policy(int argc, char **argv)
{
    api_cmd c = {.name = "keys policy", .usage = keys_usage, .n_flags = 1, .flag_names = {"--policy-file"}};
    int rc = api_cmd_parse(&c, argc, argv, 1, 1);
    if (rc >= 0)
        return rc;
    const char *pol = api_cmd_flag(&c, "--policy-file");
    if (pol == NULL)
        return api_cmd_usage_error(&c, "--policy-file is required");
    for (const char *p = c.pos[0]; *p != '\0'; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z')))
            return api_cmd_usage_error(&c, "KEY must be a key id or a base58 public key");
    json_t *policy = read_policy(&c, pol);
    if (policy == NULL)
        return TCN_EXIT_FAIL;
    tcn_client *cl;
    if ((rc = api_cmd_client(&c, true, false, &cl)) >= 0) {
        json_decref(policy);
        return rc;
    }
    char path[128];
    snprintf(path, sizeof(path), "/v1/keys/%.64s/policy", c.pos[0]);
    tcn_client_response r;
    rc = api_cmd_call(&c, cl, "PUT", path, policy, true, 200, 200, &r);
    tcn_client_free(cl);
    if (rc >= 0)
        return rc;
    if (c.json)
        tcn_cli_json_print(json_incref(r.body));
    else
        print_key(r.body);
    tcn_client_response_free(&r);
    return TCN_EXIT_OK;
}

int tcn_cmd_keys(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "import") == 0)
        return keys_import(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "list") == 0)
        return keys_list(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "policy") == 0)
        return keys_policy(argc - 1, argv + 1);
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        fputs(keys_usage, stdout);
        return TCN_EXIT_OK;
    }
    fprintf(stderr, "tcn keys: expected 'import', 'list' or 'policy'\n%s", keys_usage);
    return TCN_EXIT_USAGE;
}

static const char keygen_usage[] = "usage: tcn keygen --out FILE [--json]\n"
                                   "  writes a new client key (64 hex characters, mode 0600; never replaces a file)\n"
                                   "  and prints its public key (give it to an operator: tcn client add)\n"
                                   "exit: 0 success, 1 failed, 2 usage error\n";

int tcn_cmd_keygen(int argc, char **argv)
{
    api_cmd c = {.name = "keygen", .usage = keygen_usage, .n_flags = 1, .flag_names = {"--out"}};
    int rc = api_cmd_parse(&c, argc, argv, 0, 0);
    if (rc >= 0)
        return rc;
    const char *out = api_cmd_flag(&c, "--out");
    if (out == NULL)
        return api_cmd_usage_error(&c, "--out FILE is required");
    if (c.node != NULL || c.dir != NULL || c.measurement != NULL || c.group != NULL || c.sim_key != NULL ||
        c.key_file != NULL)
        return api_cmd_usage_error(&c, "keygen takes only --out and --json");
    char pk[TCN_CHAIN_BASE58_PUBKEY_CHARS];
    tcn_error e;
    if (tcn_client_keygen(out, pk, &e) != TCN_OK)
        return api_cmd_fail(&c, tcn_err_name(e.code), e.msg);
    if (c.json)
        tcn_cli_json_print(json_pack("{s:s,s:s}", "pubkey", pk, "file", out));
    else
        printf("%s\n", pk);
    return TCN_EXIT_OK;
}
