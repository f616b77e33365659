/* Unit tests: tcnd's configuration (src/node/config.c): defaults, file and
 * flags, every refusal with its message, addresses, policy, round trips. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "attest/sim.h"
#include "node/config.h"
#include "testlib.h"
#include "util/assert.h"
#include "util/encoding.h"
#include "util/file.h"
#include "util/secmem.h"

static char g_dir[64];

static int setup(void **state)
{
    (void)state;
    snprintf(g_dir, sizeof(g_dir), "/tmp/tcn-test-config-XXXXXX");
    assert_non_null(mkdtemp(g_dir));
    return tcn_crypto_init() == TCN_OK ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", g_dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* Writes text to <dir>/<name> and returns the path (static buffer per call site). */
static const char *write_file(const char *name, const char *text, char *path, size_t cap)
{
    snprintf(path, cap, "%s/%s", g_dir, name);
    tcn_error err;
    assert_int_equal(tcn_file_write(path, text, strlen(text), 0600, &err), TCN_OK);
    return path;
}

static int from_args(tcn_node_config *c, tcn_error *err, ...)
{
    char *argv[64];
    int argc = 0;
    va_list ap;
    va_start(ap, err);
    for (char *a; (a = va_arg(ap, char *)) != NULL;)
        argv[argc++] = a;
    va_end(ap);
    tcn_err_clear(err);
    return tcn_node_config_from_args(argc, argv, c, err);
}

static void expect_addr(const tcn_node_addr *a, const char *text)
{
    char t[TCN_NODE_ADDR_CHARS_MAX + 1];
    tcn_node_addr_format(a, t, sizeof(t));
    assert_string_equal(t, text);
}

/* ---- defaults, file, flags ------------------------------------------------------ */

static void test_defaults(void **state)
{
    (void)state;
    tcn_node_config c;
    tcn_error err;
    assert_int_equal(from_args(&c, &err, "--tee", "gramine", "--bootstrap-expect", "1", NULL), TCN_OK);
    assert_string_equal(c.name, "tcnd-7400");
    expect_addr(&c.listen_peer, "127.0.0.1:7400");
    expect_addr(&c.listen_api, "127.0.0.1:7500");
    assert_int_equal(c.join_count, 0);
    assert_int_equal(c.bootstrap_expect, 1);
    assert_false(c.standby);
    assert_int_equal(c.heartbeat_ms, 100);
    assert_int_equal(c.election_timeout_ms, 1000);
    assert_int_equal(c.replace_after_ms, 10000);
    assert_string_equal(c.chain_rpc, "http://127.0.0.1:8899");
    assert_int_equal(c.tee, TCN_NODE_TEE_GRAMINE);
    assert_string_equal(c.sim_platform_key, "");
    assert_int_equal(c.log_level, TCN_LOG_INFO);
    assert_string_equal(c.data_dir, ""); /* memory only */
    assert_int_equal(c.reattest_interval_ms, 60000);
    assert_int_equal(c.evidence_max_age_ms, 180000);
    /* The default policy: the node's own TEE and its own measurement only. */
    assert_int_equal(c.policy_source, TCN_NODE_POLICY_DEFAULT);
    assert_true(c.policy_loaded);
    assert_int_equal(c.policy.tee_mask, 1u << TCN_TEE_SGX);
    assert_false(c.policy.measurement_any);
    assert_true(c.policy.measurement_self);
    assert_int_equal(c.policy.measurement_count, 0);
    assert_int_equal(c.policy.sim_key_count, 0);

    assert_int_equal(from_args(&c, &err, "--tee", "nitro", "--join", "10.0.0.2:7400", NULL), TCN_OK);
    assert_int_equal(c.bootstrap_expect, 0);
    assert_int_equal(c.policy.tee_mask, 1u << TCN_TEE_NITRO);
}

static void test_file_then_flags(void **state)
{
    (void)state;
    char path[256];
    write_file("a.json",
               "{\"name\":\"alpha\",\"listen_peer\":\"0.0.0.0:9400\",\"listen_api\":\"[::]:9500\","
               "\"advertise_peer\":\"10.0.0.1:9400\",\"advertise_api\":\"[fd00::1]:9500\","
               "\"join\":[\"10.0.0.2:9400\",\"node-c.internal:9400\"],\"bootstrap_expect\":3,"
               "\"standby\":true,\"heartbeat_ms\":50,\"election_timeout_ms\":400,\"replace_after_ms\":0,"
               "\"chain_rpc\":\"https://rpc.example:443/v1?x=1\",\"tee\":\"nitro\",\"log_level\":\"debug\","
               "\"data_dir\":\"/var/lib/tcnd\",\"reattest_interval_ms\":30000}",
               path, sizeof(path));
    tcn_node_config c;
    tcn_error err;
    assert_int_equal(from_args(&c, &err, "--config", path, NULL), TCN_OK);
    assert_string_equal(c.name, "alpha");
    expect_addr(&c.listen_peer, "0.0.0.0:9400");
    expect_addr(&c.advertise_peer, "10.0.0.1:9400");
    expect_addr(&c.advertise_api, "[fd00::1]:9500");
    expect_addr(&c.listen_api, "[::]:9500");
    assert_int_equal(c.join_count, 2);
    expect_addr(&c.join[0], "10.0.0.2:9400");
    expect_addr(&c.join[1], "node-c.internal:9400");
    assert_int_equal(c.join[1].kind, TCN_NODE_HOST_NAME);
    assert_int_equal(c.bootstrap_expect, 3);
    assert_true(c.standby);
    assert_int_equal(c.heartbeat_ms, 50);
    assert_int_equal(c.election_timeout_ms, 400);
    assert_int_equal(c.replace_after_ms, 0);
    assert_string_equal(c.chain_rpc, "https://rpc.example:443/v1?x=1");
    assert_int_equal(c.tee, TCN_NODE_TEE_NITRO);
    assert_int_equal(c.log_level, TCN_LOG_DEBUG);
    assert_string_equal(c.data_dir, "/var/lib/tcnd");
    assert_int_equal(c.reattest_interval_ms, 30000);
    assert_int_equal(c.evidence_max_age_ms, 90000); /* 3 intervals of the file's interval */

    /* Flags override the file, wherever --config stands; the rest stays. */
    assert_int_equal(from_args(&c, &err, "--name", "beta", "--heartbeat-ms", "80", "--config", path, "--join",
                               "[fd00::2]:9400,[fd00::3]:9400", "--log-level", "warn", "--evidence-max-age-ms", "60000", NULL),
                     TCN_OK);
    assert_string_equal(c.name, "beta");
    assert_int_equal(c.heartbeat_ms, 80);
    assert_int_equal(c.join_count, 2);
    expect_addr(&c.join[0], "[fd00::2]:9400");
    expect_addr(&c.join[1], "[fd00::3]:9400");
    assert_int_equal(c.log_level, TCN_LOG_WARN);
    assert_int_equal(c.evidence_max_age_ms, 60000);
    assert_int_equal(c.election_timeout_ms, 400);
    assert_int_equal(c.bootstrap_expect, 3);

    /* A flag can mend what the file alone gets wrong (checks across fields run last). */
    write_file("b.json", "{\"tee\":\"nitro\",\"heartbeat_ms\":300,\"bootstrap_expect\":1}", path, sizeof(path));
    assert_int_equal(from_args(&c, &err, "--config", path, NULL), TCN_ERR_CONFIG);
    assert_string_equal(err.msg, "config: election_timeout_ms: 1000 is below 5 times heartbeat_ms (1500)");
    assert_int_equal(from_args(&c, &err, "--config", path, "--election-timeout-ms", "1500", NULL), TCN_OK);
    /* "--join ''" empties the file's list. */
    write_file("c.json", "{\"tee\":\"nitro\",\"join\":[\"1.1.1.1:1\"],\"bootstrap_expect\":1}", path, sizeof(path));
    assert_int_equal(from_args(&c, &err, "--config", path, "--join", "", NULL), TCN_OK);
    assert_int_equal(c.join_count, 0);
    /* --standby sets true; every other flag with its value. */
    assert_int_equal(from_args(&c, &err, "--tee", "gramine", "--join", "h:1", "--standby", "--listen-peer",
                               "10.1.1.1:1", "--listen-api", "10.1.1.1:2", "--replace-after-ms", "5000",
                               "--chain-rpc", "http://h", "--data-dir", "d", "--reattest-interval-ms", "1000",
                               "--bootstrap-expect", "2", NULL),
                     TCN_OK);
    assert_true(c.standby);
    assert_int_equal(c.replace_after_ms, 5000);
    assert_string_equal(c.chain_rpc, "http://h");
    assert_int_equal(c.evidence_max_age_ms, 3000);
}

/* ---- refusals --------------------------------------------------------------------- */

/* Applies the JSON over a valid base (gramine, single node) and finishes;
 * the refusal must be exactly msg. */
static void refused(const char *json, const char *msg)
{
    tcn_node_config c;
    tcn_node_config_default(&c);
    tcn_error err;
    tcn_err_clear(&err);
    const char *base = "{\"tee\":\"gramine\",\"bootstrap_expect\":1}";
    assert_int_equal(tcn_node_config_apply_text(&c, base, strlen(base), &err), TCN_OK);
    int rc = tcn_node_config_apply_text(&c, json, strlen(json), &err);
    if (rc == TCN_OK)
        rc = tcn_node_config_finish(&c, &err);
    if (rc == TCN_OK)
        fail_msg("accepted: %s", json);
    assert_int_equal(rc, TCN_ERR_CONFIG);
    if (strcmp(err.msg, msg) != 0)
        fail_msg("%s\n  said:   %s\n  wanted: %s", json, err.msg, msg);
}

static void test_json_refusals(void **state)
{
    (void)state;
    refused("[]", "config: the top level must be an object, not an array");
    refused("{", "config: line 1 column 1: string or '}' expected near end of file");
    refused("{\"heartbeat_ms\":100,\"heartbeat_ms\":200}",
            "config: line 1 column 34: duplicate object key near '\"heartbeat_ms\"'");
    refused("{\"colour\":1}", "config: unknown field 'colour'");
    refused("{\"heartbeat_ms\":0}", "config: heartbeat_ms: 0 is below the minimum 5");
    refused("{\"heartbeat_ms\":-1}", "config: heartbeat_ms: -1 is below the minimum 5");
    refused("{\"heartbeat_ms\":60001}", "config: heartbeat_ms: 60001 is above the maximum 60000");
    refused("{\"heartbeat_ms\":\"100\"}", "config: heartbeat_ms: expected an integer, not a string");
    refused("{\"heartbeat_ms\":100.0}", "config: heartbeat_ms: expected an integer, not a fractional number");
    refused("{\"heartbeat_ms\":99999999999999999999}",
            "config: line 1 column 36: too big integer near '99999999999999999999'");
    refused("{\"election_timeout_ms\":24}", "config: election_timeout_ms: 24 is below the minimum 25");
    refused("{\"election_timeout_ms\":600001}", "config: election_timeout_ms: 600001 is above the maximum 600000");
    refused("{\"replace_after_ms\":86400001}", "config: replace_after_ms: 86400001 is above the maximum 86400000");
    refused("{\"reattest_interval_ms\":999}", "config: reattest_interval_ms: 999 is below the minimum 1000");
    refused("{\"reattest_interval_ms\":86400001}",
            "config: reattest_interval_ms: 86400001 is above the maximum 86400000");
    refused("{\"evidence_max_age_ms\":1999}", "config: evidence_max_age_ms: 1999 is below the minimum 2000");
    refused("{\"evidence_max_age_ms\":604800001}",
            "config: evidence_max_age_ms: 604800001 is above the maximum 604800000");
    refused("{\"bootstrap_expect\":6}", "config: bootstrap_expect: 6 is above the maximum 5");
    refused("{\"bootstrap_expect\":true}", "config: bootstrap_expect: expected an integer, not a boolean");
    refused("{\"standby\":1}", "config: standby: expected true or false, not an integer");
    refused("{\"name\":\"a b\"}", "config: name: 'a b': 1..63 of letters, digits, '.', '_' and '-'");
    refused("{\"name\":\"\"}", "config: name: '': 1..63 of letters, digits, '.', '_' and '-'");
    refused("{\"name\":\"nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn\"}",
            "config: name: 64 characters, the maximum is 63");
    refused("{\"name\":null}", "config: name: expected a string, not null");
    refused("{\"listen_peer\":\"localhost:7400\"}",
            "config: listen_peer: 'localhost:7400': expected an IP address (IPv4 dotted decimal or [IPv6]); host "
            "names are not allowed here");
    refused("{\"listen_peer\":\"127.0.0.1\"}", "config: listen_peer: '127.0.0.1': expected HOST:PORT");
    refused("{\"listen_peer\":\"127.0.0.1:0\"}",
            "config: listen_peer: '127.0.0.1:0': the port must be a decimal number 1..65535");
    refused("{\"listen_peer\":\"127.0.0.1:65536\"}",
            "config: listen_peer: '127.0.0.1:65536': the port must be a decimal number 1..65535");
    refused("{\"listen_peer\":\"127.0.0.1:+80\"}",
            "config: listen_peer: '127.0.0.1:+80': the port must be a decimal number 1..65535");
    refused("{\"listen_peer\":\"::1:7400\"}",
            "config: listen_peer: '::1:7400': an IPv6 address goes in brackets: [ADDRESS]:PORT");
    refused("{\"listen_peer\":\"[::1:7400\"}", "config: listen_peer: '[::1:7400': an IPv6 address needs its closing ']'");
    refused("{\"listen_peer\":\"[::1]7400\"}", "config: listen_peer: '[::1]7400': expected ':' and a port after ']'");
    refused("{\"listen_peer\":\"[::1]\"}", "config: listen_peer: '[::1]': expected HOST:PORT");
    refused("{\"listen_peer\":\"[fe80::1%eth0]:1\"}",
            "config: listen_peer: '[fe80::1%eth0]:1': not an IPv6 address inside the brackets");
    refused("{\"listen_peer\":\"[1.2.3.4]:1\"}",
            "config: listen_peer: '[1.2.3.4]:1': not an IPv6 address inside the brackets");
    refused("{\"listen_api\":\"256.0.0.1:1\"}",
            "config: listen_api: '256.0.0.1:1': expected an IP address (IPv4 dotted decimal or [IPv6]); host names "
            "are not allowed here");
    refused("{\"listen_api\":\"\"}", "config: listen_api: '': empty");
    refused("{\"join\":\"a:1\"}", "config: join: expected an array of HOST:PORT strings, not a string");
    refused("{\"join\":[1]}", "config: join[0]: expected a string, not an integer");
    refused("{\"join\":[\"a:1\",\"A:1\"]}", "config: join[1]: a:1 is already join[0]");
    refused("{\"join\":[\"[::1]:1\",\"[0::1]:1\"]}", "config: join[1]: [::1]:1 is already join[0]");
    refused("{\"join\":[\"-a:1\"]}",
            "config: join[0]: '-a:1': neither an IPv4 address nor a host name (letters, digits, '-' and '.')");
    refused("{\"join\":[\"1.2.3:1\"]}",
            "config: join[0]: '1.2.3:1': neither an IPv4 address nor a host name (letters, digits, '-' and '.')");
    refused("{\"join\":[\"a_b:1\"]}",
            "config: join[0]: 'a_b:1': neither an IPv4 address nor a host name (letters, digits, '-' and '.')");
    refused("{\"join\":[\"a..b:1\"]}",
            "config: join[0]: 'a..b:1': neither an IPv4 address nor a host name (letters, digits, '-' and '.')");
    refused("{\"join\":[\"h:1\",\"h:2\",\"h:3\",\"h:4\",\"h:5\",\"h:6\",\"h:7\",\"h:8\",\"h:9\",\"h:10\",\"h:11\","
            "\"h:12\",\"h:13\",\"h:14\",\"h:15\",\"h:16\",\"h:17\"]}",
            "config: join: 17 addresses, the maximum is 16");
    refused("{\"operator_key\":\"0OIl\"}", "config: operator_key: '0OIl' is not a base58 Ed25519 public key: public key: base58: character 0 (0x30) "
            "is not in the alphabet");
    refused("{\"operator_key\":\"1111\"}", "config: operator_key: '1111' is not a base58 Ed25519 public key: public key: base58 decodes to 4 bytes, "
            "want 32");
    refused("{\"chain_rpc\":\"ftp://x\"}", "config: chain_rpc: 'ftp://x': expected an http:// or https:// URL");
    refused("{\"chain_rpc\":\"HTTP://x\"}", "config: chain_rpc: 'HTTP://x': expected an http:// or https:// URL");
    refused("{\"chain_rpc\":\"http://u:p@h:1/\"}",
            "config: chain_rpc: 'http://u:p@h:1/': user information (USER@HOST) is not allowed");
    refused("{\"chain_rpc\":\"http://h/#top\"}", "config: chain_rpc: 'http://h/#top': a fragment (#...) has no meaning here");
    refused("{\"chain_rpc\":\"http://h/a b\"}", "config: chain_rpc: 'http://h/a b': a character that must be percent-encoded");
    refused("{\"chain_rpc\":\"http://h/%zz\"}", "config: chain_rpc: 'http://h/%zz': '%' not followed by two hex digits");
    refused("{\"chain_rpc\":\"http://h/%a\"}", "config: chain_rpc: 'http://h/%a': '%' not followed by two hex digits");
    refused("{\"chain_rpc\":\"http://h:0/\"}", "config: chain_rpc: 'http://h:0/': the port must be a decimal number 1..65535");
    refused("{\"chain_rpc\":\"http://\"}", "config: chain_rpc: 'http://': empty");
    refused("{\"chain_rpc\":\"http://[::1/\"}", "config: chain_rpc: 'http://[::1/': an IPv6 address needs its closing ']'");
    refused("{\"tee\":\"sgx\"}", "config: tee: 'sgx' is not one of sim, gramine, nitro");
    refused("{\"tee\":[\"sim\"]}", "config: tee: expected a string, not an array");
    refused("{\"log_level\":\"verbose\"}", "config: log_level: 'verbose' is not one of debug, info, warn, error, off");
    refused("{\"data_dir\":\"\"}", "config: data_dir: empty");
    refused("{\"data_dir\":\"a\\u0001b\"}", "config: data_dir: contains a control character");
    refused("{\"data_dir\":\"a\\u007fb\"}", "config: data_dir: contains a control character");
    refused("{\"sim_platform_key\":false}", "config: sim_platform_key: expected a string, not a boolean");
    refused("{\"policy\":3}",
            "config: policy: expected an object (the policy) or a string (a file holding {\"attestation\": {...}}), "
            "not an integer");
    refused("{\"policy\":\"\"}", "config: policy: empty");
    refused("{\"policy\":{\"tee\":[\"sgx\"],\"colour\":1}}", "config: policy: unknown field 'colour'");
    refused("{\"policy\":{\"tee\":[\"sim\"]}}",
            "config: policy: field 'tee' accepts sim but 'sim_platform_keys' names no platform key");
    refused("{\"policy\":{\"sim_platform_keys\":[\"010\"]}}",
            "config: policy: field 'sim_platform_keys'[0]: hex: expected 64 digits (32 bytes), got 3");
    refused("{\"policy\":{\"measurements\":[]}}",
            "config: policy: field 'measurements': empty; leave it out to accept any measurement");
}

/* Refusals that involve several fields (tcn_node_config_finish). */
static void finish_refused(const char *json, const char *msg)
{
    tcn_node_config c;
    tcn_node_config_default(&c);
    tcn_error err;
    tcn_err_clear(&err);
    assert_int_equal(tcn_node_config_apply_text(&c, json, strlen(json), &err), TCN_OK);
    assert_int_equal(tcn_node_config_finish(&c, &err), TCN_ERR_CONFIG);
    if (strcmp(err.msg, msg) != 0)
        fail_msg("%s\n  said:   %s\n  wanted: %s", json, err.msg, msg);
}

static void test_cross_field_refusals(void **state)
{
    (void)state;
    finish_refused("{\"bootstrap_expect\":1}", "config: tee: required (sim, gramine or nitro); no TEE type is assumed");
    finish_refused("{\"tee\":\"sim\",\"bootstrap_expect\":1}",
                   "config: sim_platform_key: required with tee sim (a key file from `tcn sim-platform keygen`)");
    finish_refused("{\"tee\":\"gramine\",\"bootstrap_expect\":1,\"sim_platform_key\":\"k.json\"}",
                   "config: sim_platform_key: only used with tee sim, and tee is gramine");
    finish_refused("{\"tee\":\"nitro\",\"bootstrap_expect\":1,\"heartbeat_ms\":300}",
                   "config: election_timeout_ms: 1000 is below 5 times heartbeat_ms (1500)");
    finish_refused("{\"tee\":\"nitro\",\"bootstrap_expect\":1,\"replace_after_ms\":999}",
                   "config: replace_after_ms: 999 is below election_timeout_ms (1000); 0 turns automatic "
                   "replacement off");
    finish_refused("{\"tee\":\"nitro\",\"bootstrap_expect\":1,\"evidence_max_age_ms\":119999}",
                   "config: evidence_max_age_ms: 119999 is below 2 times reattest_interval_ms (120000): peers would "
                   "be dropped between re-attestations");
    finish_refused("{\"tee\":\"nitro\"}",
                   "config: join: empty, and bootstrap_expect 0 means joining an existing network: name a member "
                   "to join, or set bootstrap_expect to start a new network");
    finish_refused("{\"tee\":\"nitro\",\"bootstrap_expect\":3}",
                   "config: join: empty, but bootstrap_expect 3 needs the addresses of the other nodes");
    finish_refused("{\"tee\":\"nitro\",\"bootstrap_expect\":1,\"listen_peer\":\"0.0.0.0:7400\"}",
                   "config: advertise_peer: listen_peer 0.0.0.0:7400 listens on every address: set advertise_peer "
                   "to the address others reach it at");
    finish_refused("{\"tee\":\"nitro\",\"bootstrap_expect\":1,\"listen_api\":\"[::]:7500\"}",
                   "config: advertise_api: listen_api [::]:7500 listens on every address: set advertise_api to the "
                   "address others reach it at");
    finish_refused("{\"tee\":\"nitro\",\"bootstrap_expect\":1,\"advertise_api\":\"0.0.0.0:7500\"}",
                   "config: advertise_api: 0.0.0.0:7500 is not an address anyone can reach");
    finish_refused("{\"tee\":\"nitro\",\"bootstrap_expect\":3,\"join\":[\"1.1.1.1:1\",\"1.1.1.2:1\",\"1.1.1.3:1\"]}",
                   "config: join: bootstrap_expect 3 needs exactly the other 2 bootstrap nodes' peer addresses in join "
                   "(it names 3): the first configuration is those nodes");
    finish_refused("{\"tee\":\"nitro\",\"bootstrap_expect\":1,\"standby\":true}",
                   "config: standby: a standby hands leadership to other voters, and bootstrap_expect 1 has none");
    finish_refused("{\"tee\":\"nitro\",\"bootstrap_expect\":1,\"listen_api\":\"127.0.0.1:7400\"}",
                   "config: listen_api: 127.0.0.1:7400 is also listen_peer");
    finish_refused("{\"tee\":\"nitro\",\"bootstrap_expect\":1,\"policy\":{\"tee\":[\"sgx\",\"tdx\"]}}",
                   "config: policy: field 'tee' does not accept nitro, the TEE of this node (tee nitro), so no peer "
                   "running the same code would be accepted");

    /* The edges that pass. */
    tcn_node_config c;
    tcn_node_config_default(&c);
    tcn_error err;
    const char *ok = "{\"tee\":\"nitro\",\"bootstrap_expect\":1,\"heartbeat_ms\":200,\"election_timeout_ms\":1000,"
                     "\"replace_after_ms\":0,\"evidence_max_age_ms\":120000}";
    assert_int_equal(tcn_node_config_apply_text(&c, ok, strlen(ok), &err), TCN_OK);
    assert_int_equal(tcn_node_config_finish(&c, &err), TCN_OK);
    assert_int_equal(c.evidence_max_age_ms, 120000);
}

static void args_refused(int code, const char *msg, ...)
{
    char *argv[32];
    int argc = 0;
    va_list ap;
    va_start(ap, msg);
    for (char *a; (a = va_arg(ap, char *)) != NULL;)
        argv[argc++] = a;
    va_end(ap);
    tcn_node_config c;
    tcn_error err;
    tcn_err_clear(&err);
    assert_int_equal(tcn_node_config_from_args(argc, argv, &c, &err), code);
    if (strcmp(err.msg, msg) != 0)
        fail_msg("said:   %s\n  wanted: %s", err.msg, msg);
}

static void test_flag_refusals(void **state)
{
    (void)state;
    args_refused(TCN_ERR_USAGE, "unknown option '--colour'", "--colour", "red", NULL);
    args_refused(TCN_ERR_USAGE, "unexpected argument 'extra'", "--tee", "nitro", "extra", NULL);
    args_refused(TCN_ERR_USAGE, "option --name needs a value", "--tee", "nitro", "--name", NULL);
    args_refused(TCN_ERR_USAGE, "option --name needs a value", "--name", "--standby", NULL);
    args_refused(TCN_ERR_USAGE, "option --config needs a value", "--config", NULL);
    args_refused(TCN_ERR_USAGE, "option --tee given twice", "--tee", "nitro", "--tee", "sim", NULL);
    args_refused(TCN_ERR_USAGE, "option --config given twice", "--config", "a", "--config", "b", NULL);
    args_refused(TCN_ERR_USAGE, "option --standby given twice", "--standby", "--standby", NULL);
    args_refused(TCN_ERR_CONFIG, "config: --heartbeat-ms: 'abc' is not a decimal integer", "--heartbeat-ms", "abc",
                 NULL);
    args_refused(TCN_ERR_CONFIG, "config: --heartbeat-ms: '-5' is not a decimal integer", "--heartbeat-ms", "-5",
                 NULL);
    args_refused(TCN_ERR_CONFIG, "config: --heartbeat-ms: '007' is not a decimal integer", "--heartbeat-ms", "007",
                 NULL);
    args_refused(TCN_ERR_CONFIG, "config: --heartbeat-ms: '' is not a decimal integer", "--heartbeat-ms", "", NULL);
    args_refused(TCN_ERR_CONFIG, "config: --heartbeat-ms: 0 is below the minimum 5", "--heartbeat-ms", "0", NULL);
    args_refused(TCN_ERR_CONFIG, "config: --heartbeat-ms: 99999999999999999999 is above the maximum 60000",
                 "--heartbeat-ms", "99999999999999999999", NULL);
    args_refused(TCN_ERR_CONFIG, "config: --bootstrap-expect: 9 is above the maximum 5", "--bootstrap-expect", "9",
                 NULL);
    args_refused(TCN_ERR_CONFIG, "config: --join[1]: '': empty", "--join", "a:1,,b:2", NULL);
    args_refused(TCN_ERR_CONFIG, "config: --join[0]: 'a': expected HOST:PORT", "--join", "a", NULL);
    args_refused(TCN_ERR_CONFIG, "config: --listen-peer: 'localhost:1': expected an IP address (IPv4 dotted decimal "
                                 "or [IPv6]); host names are not allowed here",
                 "--listen-peer", "localhost:1", NULL);
    args_refused(TCN_ERR_CONFIG, "config: --tee: 'tdx' is not one of sim, gramine, nitro", "--tee", "tdx", NULL);
    args_refused(TCN_ERR_CONFIG, "config: --name: not valid UTF-8", "--name", "\xff", NULL);
    args_refused(TCN_ERR_CONFIG, "config: --data-dir: empty", "--data-dir", "", NULL);
    /* A missing file is named. */
    args_refused(TCN_ERR_CONFIG, "config: /nonexistent/tcnd.json: No such file or directory",
                 "--config", "/nonexistent/tcnd.json", NULL);
    /* Flags are checked before the file is read: a usage error wins. */
    args_refused(TCN_ERR_USAGE, "unknown option '--x'", "--config", "/nonexistent/tcnd.json", "--x", NULL);

    tcn_node_config c;
    tcn_node_config_default(&c);
    tcn_error err;
    assert_int_equal(tcn_node_config_apply_flag(&c, "--standby", "yes", &err), TCN_ERR_USAGE);
    assert_string_equal(err.msg, "config: --standby takes no value");
    assert_int_equal(tcn_node_config_apply_flag(&c, "--name", NULL, &err), TCN_ERR_USAGE);
    assert_int_equal(tcn_node_config_apply_flag(&c, "--config", "x", &err), TCN_ERR_USAGE);
    bool takes;
    assert_true(tcn_node_config_flag_known("--join", &takes) && takes);
    assert_true(tcn_node_config_flag_known("--standby", &takes) && !takes);
    assert_false(tcn_node_config_flag_known("--config", &takes));
}

/* A string holding a NUL (only possible through the API: the JSON parser
 * refuses \u0000) is refused, not cut short. */
static void test_nul_in_string(void **state)
{
    (void)state;
    json_t *o = json_object();
    json_object_set_new(o, "name", json_stringn("ab\0cd", 5));
    tcn_node_config c;
    tcn_node_config_default(&c);
    tcn_error err;
    assert_int_equal(tcn_node_config_apply_json(&c, o, &err), TCN_ERR_CONFIG);
    assert_string_equal(err.msg, "config: name: contains a NUL character");
    json_decref(o);
    const char *text = "{\"name\":\"a\\u0000b\"}";
    assert_int_equal(tcn_node_config_apply_text(&c, text, strlen(text), &err), TCN_ERR_CONFIG);
    assert_non_null(strstr(err.msg, "\\u0000 is not allowed"));
}

/* ---- addresses ----------------------------------------------------------------- */

static void test_addresses(void **state)
{
    (void)state;
    struct {
        const char *in;
        bool names;
        const char *canon; /* NULL: refused */
        tcn_node_host_kind kind;
    } cases[] = {
        {"0.0.0.0:1", false, "0.0.0.0:1", TCN_NODE_HOST_IPV4},
        {"255.255.255.255:65535", false, "255.255.255.255:65535", TCN_NODE_HOST_IPV4},
        {"[::]:80", false, "[::]:80", TCN_NODE_HOST_IPV6},
        {"[2001:DB8:0:0::1]:80", false, "[2001:db8::1]:80", TCN_NODE_HOST_IPV6},
        {"[::ffff:10.0.0.1]:80", false, "[::ffff:10.0.0.1]:80", TCN_NODE_HOST_IPV6},
        {"Node-1.Example.COM:7400", true, "node-1.example.com:7400", TCN_NODE_HOST_NAME},
        {"localhost:7400", true, "localhost:7400", TCN_NODE_HOST_NAME},
        {"a1.2b:1", true, "a1.2b:1", TCN_NODE_HOST_NAME},
        {"localhost:7400", false, NULL, 0},
        {"1.2.3.4.5:1", true, NULL, 0},
        {"1.2.3.04:1", true, NULL, 0},
        {"1.2.3.-4:1", true, NULL, 0},
        {"1.2.3.4:", false, NULL, 0},
        {":1", true, NULL, 0},
        {"[]:1", false, NULL, 0},
        {"[::1]:1:2", false, NULL, 0},
        {"a-.b:1", true, NULL, 0},
        {"a.b.:1", true, NULL, 0},
        {"a b:1", true, NULL, 0},
        {"1.2.3.4:65535x", false, NULL, 0},
        {"1.2.3.4:00001", false, NULL, 0},
        {" 1.2.3.4:1", false, NULL, 0},
    };
    for (size_t i = 0; i < TCN_ARRAY_LEN(cases); i++) {
        tcn_node_addr a;
        const char *why = NULL;
        int rc = tcn_node_addr_parse(cases[i].in, strlen(cases[i].in), cases[i].names, &a, &why);
        if (cases[i].canon == NULL) {
            if (rc == TCN_OK)
                fail_msg("accepted '%s'", cases[i].in);
            assert_non_null(why);
            continue;
        }
        if (rc != TCN_OK)
            fail_msg("refused '%s': %s", cases[i].in, why);
        assert_int_equal(a.kind, cases[i].kind);
        expect_addr(&a, cases[i].canon);
    }
    /* Label and name lengths. */
    char buf[400];
    memset(buf, 'a', 63);
    strcpy(buf + 63, ".b:1");
    tcn_node_addr a;
    const char *why;
    assert_int_equal(tcn_node_addr_parse(buf, strlen(buf), true, &a, &why), TCN_OK);
    memset(buf, 'a', 64);
    strcpy(buf + 64, ".b:1");
    assert_int_equal(tcn_node_addr_parse(buf, strlen(buf), true, &a, &why), TCN_ERR_MALFORMED);
    /* 253 characters of name is the most. */
    for (int i = 0; i < 253; i++)
        buf[i] = (i % 2) ? '.' : 'a';
    buf[252] = 'a';
    strcpy(buf + 253, ":1");
    assert_int_equal(tcn_node_addr_parse(buf, strlen(buf), true, &a, &why), TCN_OK);
    buf[253] = '.';
    buf[254] = 'a';
    strcpy(buf + 255, ":1");
    assert_int_equal(tcn_node_addr_parse(buf, strlen(buf), true, &a, &why), TCN_ERR_MALFORMED);
    /* A NUL inside the given length. */
    assert_int_equal(tcn_node_addr_parse("1.2.3.4:1\0", 10, false, &a, &why), TCN_ERR_MALFORMED);
    assert_string_equal(why, "contains a NUL byte");
    assert_true(tcn_node_name_valid("a", 1));
    assert_false(tcn_node_name_valid("", 0));
    assert_false(tcn_node_name_valid("a/b", 3));
}

/* ---- policy ------------------------------------------------------------------------ */

static void test_policy_sources(void **state)
{
    (void)state;
    tcn_node_config c;
    tcn_error err;
    /* Inline, without measurements: this node's own measurement, never "any". */
    const char *inl = "{\"tee\":\"gramine\",\"bootstrap_expect\":1,\"policy\":{\"tee\":[\"sgx\"],\"min_svn\":3}}";
    tcn_node_config_default(&c);
    assert_int_equal(tcn_node_config_apply_text(&c, inl, strlen(inl), &err), TCN_OK);
    assert_int_equal(tcn_node_config_finish(&c, &err), TCN_OK);
    assert_int_equal(c.policy_source, TCN_NODE_POLICY_INLINE);
    assert_false(c.policy.measurement_any);
    assert_true(c.policy.measurement_self);
    assert_int_equal(c.policy.min_svn, 3);
    /* With an allow-list: exactly that list. */
    const char *list = "{\"tee\":\"gramine\",\"bootstrap_expect\":1,\"policy\":{\"tee\":[\"sgx\"],\"measurements\":"
                       "[\"33d8736db756ed4997e04ba358d27833188f1932ff7b1d156904d3f560452fbb\"]}}";
    tcn_node_config_default(&c);
    assert_int_equal(tcn_node_config_apply_text(&c, list, strlen(list), &err), TCN_OK);
    assert_int_equal(tcn_node_config_finish(&c, &err), TCN_OK);
    assert_false(c.policy.measurement_self);
    assert_int_equal(c.policy.measurement_count, 1);

    /* From a file (the format `tcn verify-evidence --policy` reads), by the flag. */
    char path[256], cfg[256];
    write_file("policy.json", "{\"attestation\":{\"tee\":[\"nitro\"],\"max_evidence_age_s\":600}}", path,
               sizeof(path));
    assert_int_equal(from_args(&c, &err, "--tee", "nitro", "--bootstrap-expect", "1", "--policy", path, NULL),
                     TCN_OK);
    assert_int_equal(c.policy_source, TCN_NODE_POLICY_FILE);
    assert_true(c.policy_loaded);
    assert_int_equal(c.policy.tee_mask, 1u << TCN_TEE_NITRO);
    assert_int_equal(c.policy.max_age_ms, 600000);
    assert_true(c.policy.measurement_self);
    /* ... and by the file's "policy" string. */
    char text[512];
    snprintf(text, sizeof(text), "{\"tee\":\"nitro\",\"bootstrap_expect\":1,\"policy\":\"%s\"}", path);
    write_file("cfg.json", text, cfg, sizeof(cfg));
    assert_int_equal(from_args(&c, &err, "--config", cfg, NULL), TCN_OK);
    assert_int_equal(c.policy.max_age_ms, 600000);
    /* A policy file that is wrong, or missing, says which and why. */
    write_file("bad-policy.json", "{\"attestation\":{\"tee\":[\"nitro\"],\"colour\":1}}", path, sizeof(path));
    assert_int_equal(from_args(&c, &err, "--tee", "nitro", "--bootstrap-expect", "1", "--policy", path, NULL),
                     TCN_ERR_CONFIG);
    char want[512];
    snprintf(want, sizeof(want), "config: policy: config %s: policy: unknown field 'colour'", path);
    assert_string_equal(err.msg, want);
    write_file("other-tee.json", "{\"attestation\":{\"tee\":[\"sgx\"]}}", path, sizeof(path));
    assert_int_equal(from_args(&c, &err, "--tee", "nitro", "--bootstrap-expect", "1", "--policy", path, NULL),
                     TCN_ERR_CONFIG);
    assert_non_null(strstr(err.msg, "does not accept nitro"));
    assert_int_equal(from_args(&c, &err, "--tee", "nitro", "--bootstrap-expect", "1", "--policy",
                               "/nonexistent/p.json", NULL),
                     TCN_ERR_CONFIG);
    assert_non_null(strstr(err.msg, "config: policy: config: /nonexistent/p.json: No such file or directory"));
}

/* tee sim: the platform key file is loaded and checked; with no policy, peers
 * signed by that platform key (and only sim) are accepted. */
static void test_sim_platform_key(void **state)
{
    (void)state;
    tcn_sim_platform plat;
    tcn_error err;
    assert_int_equal(tcn_sim_platform_generate(&plat, &err), TCN_OK);
    char key[256];
    snprintf(key, sizeof(key), "%s/platform.key", g_dir);
    assert_int_equal(tcn_sim_platform_save(&plat, key, &err), TCN_OK);
    tcn_node_config c;
    assert_int_equal(from_args(&c, &err, "--tee", "sim", "--sim-platform-key", key, "--bootstrap-expect", "1", NULL),
                     TCN_OK);
    assert_string_equal(c.sim_platform_key, key);
    assert_int_equal(c.policy.tee_mask, 1u << TCN_TEE_SIM);
    assert_int_equal(c.policy.sim_key_count, 1);
    assert_memory_equal(c.policy.sim_keys[0], plat.pk, TCN_SIM_PUBKEY_LEN);
    assert_true(c.policy.measurement_self);
    /* The printout holds the public key, never the secret seed. */
    json_t *o = tcn_node_config_to_json(&c);
    char *s = json_dumps(o, 0);
    char pkhex[65];
    tcn_hex_encode(plat.pk, 32, pkhex);
    assert_non_null(strstr(s, pkhex));
    uint8_t *raw;
    size_t raw_len;
    assert_int_equal(tcn_file_read(key, 4096, &raw, &raw_len, &err), TCN_OK);
    json_t *kf = json_loadb((const char *)raw, raw_len, 0, NULL);
    assert_non_null(kf);
    const char *seed = json_string_value(json_object_get(kf, "seed"));
    assert_non_null(seed);
    assert_null(strstr(s, seed));
    json_decref(kf);
    sodium_memzero(raw, raw_len);
    free(raw);
    free(s);
    json_decref(o);
    tcn_sim_platform_free(&plat);

    assert_int_equal(
        from_args(&c, &err, "--tee", "sim", "--sim-platform-key", "/nonexistent/k", "--bootstrap-expect", "1", NULL),
        TCN_ERR_CONFIG);
    assert_non_null(strstr(err.msg, "config: sim_platform_key: "));
    char notkey[256];
    write_file("not-a-key.json", "{\"type\":\"something else\"}", notkey, sizeof(notkey));
    assert_int_equal(from_args(&c, &err, "--tee", "sim", "--sim-platform-key", notkey, "--bootstrap-expect", "1", NULL),
                     TCN_ERR_CONFIG);
    assert_non_null(strstr(err.msg, "config: sim_platform_key: "));
}

/* ---- printing ------------------------------------------------------------------------- */

static void round_trip(const char *json)
{
    tcn_node_config a, b;
    tcn_error err;
    tcn_node_config_default(&a);
    assert_int_equal(tcn_node_config_apply_text(&a, json, strlen(json), &err), TCN_OK);
    assert_int_equal(tcn_node_config_finish(&a, &err), TCN_OK);
    json_t *ja = tcn_node_config_to_json(&a);
    assert_non_null(ja);
    char *text = json_dumps(ja, 0);
    tcn_node_config_default(&b);
    if (tcn_node_config_apply_text(&b, text, strlen(text), &err) != TCN_OK)
        fail_msg("printout not accepted: %s\n%s", err.msg, text);
    assert_int_equal(tcn_node_config_finish(&b, &err), TCN_OK);
    json_t *jb = tcn_node_config_to_json(&b);
    if (!json_equal(ja, jb)) {
        char *tb = json_dumps(jb, 0);
        fail_msg("printouts differ:\n%s\n%s", text, tb);
    }
    free(text);
    json_decref(ja);
    json_decref(jb);
}

static void test_print_round_trip(void **state)
{
    (void)state;
    round_trip("{\"tee\":\"gramine\",\"bootstrap_expect\":1}");
    /* The System Program's id: a valid 32-byte key in base58. */
    round_trip("{\"tee\":\"gramine\",\"bootstrap_expect\":1,\"operator_key\":\"11111111111111111111111111111111\"}");
    round_trip("{\"tee\":\"nitro\",\"join\":[\"Peer.Example:1\",\"[0::1]:2\"],\"name\":\"n\",\"standby\":true,"
               "\"data_dir\":\"/d\",\"log_level\":\"off\",\"evidence_max_age_ms\":200000,\"reattest_interval_ms\":"
               "100000,\"chain_rpc\":\"https://[::1]:8899/rpc?k=v%20w\"}");
    round_trip("{\"tee\":\"sim\",\"sim_platform_key\":\"k.json\",\"bootstrap_expect\":3,\"join\":[\"a:1\",\"b:1\"],"
               "\"policy\":{\"tee\":[\"sim\",\"sgx\",\"tdx\"],\"measurements\":[\"self\",\"" 
               "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\"],\"min_svn\":7,"
               "\"tcb_status\":[\"UpToDate\"],\"max_evidence_age_s\":60,\"allow_debug\":true,"
               "\"require_revocation\":false,\"tdx_rtmrs\":[\""
               "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
               "111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111"
               "222222222222222222222222222222222222222222222222222222222222222222222222222222222222222222222222"
               "\"],\"sim_platform_keys\":[\"0101010101010101010101010101010101010101010101010101010101010101\"]}}");
    /* The printed fields. */
    tcn_node_config c;
    tcn_error err;
    assert_int_equal(from_args(&c, &err, "--tee", "nitro", "--bootstrap-expect", "1", NULL), TCN_OK);
    json_t *o = tcn_node_config_to_json(&c);
    const char *keys[] = {"name", "listen_peer", "listen_api", "join", "bootstrap_expect", "standby", "heartbeat_ms",
                          "election_timeout_ms", "replace_after_ms", "chain_rpc", "tee", "policy", "log_level",
                          "reattest_interval_ms", "evidence_max_age_ms"};
    for (size_t i = 0; i < TCN_ARRAY_LEN(keys); i++)
        if (json_object_get(o, keys[i]) == NULL)
            fail_msg("no '%s' printed", keys[i]);
    assert_int_equal(json_object_size(o), TCN_ARRAY_LEN(keys)); /* no data_dir, no sim key */
    json_decref(o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_file_then_flags),
        cmocka_unit_test(test_json_refusals),
        cmocka_unit_test(test_cross_field_refusals),
        cmocka_unit_test(test_flag_refusals),
        cmocka_unit_test(test_nul_in_string),
        cmocka_unit_test(test_addresses),
        cmocka_unit_test(test_policy_sources),
        cmocka_unit_test(test_sim_platform_key),
        cmocka_unit_test(test_print_round_trip),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
