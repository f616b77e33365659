/* tcnd's configuration: defaults, the JSON file, flags, and the checks that join them. */
#include "node/config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attest/sim.h"
#include "chain/base58.h"
#include "util/assert.h"
#include "util/encoding.h"
#include "util/file.h"

_Static_assert(TCN_NODE_DEFAULT_ELECTION_TIMEOUT_MS >=
                   TCN_NODE_ELECTION_TIMEOUT_HEARTBEATS_MIN * TCN_NODE_DEFAULT_HEARTBEAT_MS,
               "the defaults pass their own check");
_Static_assert(TCN_NODE_DEFAULT_REPLACE_AFTER_MS >= TCN_NODE_DEFAULT_ELECTION_TIMEOUT_MS, "defaults");
_Static_assert((uint64_t)TCN_NODE_DEFAULT_EVIDENCE_MAX_AGE_INTERVALS * TCN_NODE_REATTEST_INTERVAL_MS_MAX <=
                   TCN_NODE_EVIDENCE_MAX_AGE_MS_MAX,
               "the derived evidence age is always in range");
_Static_assert(TCN_NODE_DEFAULT_EVIDENCE_MAX_AGE_INTERVALS >= TCN_NODE_EVIDENCE_MAX_AGE_INTERVALS_MIN, "defaults");

#define TEE_BIT(t) (1u << (unsigned)(t))
#define IPV6_TEXT_MAX 45 /* INET6_ADDRSTRLEN - 1 */

/* ---- names and addresses ------------------------------------------------------- */

static bool is_digit(char ch) { return ch >= '0' && ch <= '9'; }
static bool is_alpha(char ch) { return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z'); }
static bool isxdigit_ascii(char ch) { return is_digit(ch) || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F'); }

bool tcn_node_name_valid(const char *s, size_t len)
{
    if (len == 0 || len > TCN_NODE_NAME_CHARS_MAX)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!is_alpha(s[i]) && !is_digit(s[i]) && s[i] != '.' && s[i] != '_' && s[i] != '-')
            return false;
    return true;
}

/* Decimal without sign or leading zeros, lo..hi. */
static bool parse_decimal(const char *s, size_t len, uint64_t lo, uint64_t hi, uint64_t *out)
{
    if (len == 0 || len > 19 || (len > 1 && s[0] == '0'))
        return false;
    uint64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (!is_digit(s[i]))
            return false;
        v = v * 10 + (uint64_t)(s[i] - '0'); /* 19 digits cannot overflow */
    }
    if (v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

/* Four decimal parts 0..255, no leading zeros: what inet_ntop writes, so
 * the text is canonical. */
static bool parse_ipv4(const char *s, size_t len, uint8_t out[4])
{
    size_t part = 0, start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && s[i] != '.')
            continue;
        uint64_t v;
        if (part == 4 || !parse_decimal(s + start, i - start, 0, 255, &v))
            return false;
        out[part++] = (uint8_t)v;
        start = i + 1;
    }
    return part == 4;
}

/* RFC 1123 §2.1 host name: dot-separated labels of letters, digits and
 * hyphens, 1..63 each, not starting or ending with a hyphen; the last label
 * not all digits, so a malformed IPv4 address is never taken for a name. */
static bool hostname_valid(const char *s, size_t len)
{
    if (len == 0 || len > TCN_NODE_HOST_CHARS_MAX)
        return false;
    size_t start = 0;
    bool all_digits = true;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && s[i] != '.') {
            if (!is_alpha(s[i]) && !is_digit(s[i]) && s[i] != '-')
                return false;
            continue;
        }
        size_t n = i - start;
        if (n == 0 || n > TCN_NODE_LABEL_CHARS_MAX || s[start] == '-' || s[i - 1] == '-')
            return false;
        all_digits = true;
        for (size_t k = start; k < i; k++)
            all_digits &= is_digit(s[k]);
        start = i + 1;
    }
    return !all_digits;
}

/* The host part (brackets already removed for IPv6). */
static int parse_host(const char *s, size_t len, bool bracketed, bool allow_names, tcn_node_addr *out,
                      const char **why)
{
    if (bracketed) {
        char tmp[IPV6_TEXT_MAX + 1];
        struct in6_addr a6;
        if (len == 0 || len > IPV6_TEXT_MAX) {
            *why = "not an IPv6 address inside the brackets";
            return TCN_ERR_MALFORMED;
        }
        memcpy(tmp, s, len);
        tmp[len] = '\0';
        if (inet_pton(AF_INET6, tmp, &a6) != 1) {
            *why = "not an IPv6 address inside the brackets";
            return TCN_ERR_MALFORMED;
        }
        out->kind = TCN_NODE_HOST_IPV6;
        TCN_ASSERT(inet_ntop(AF_INET6, &a6, out->host, sizeof(out->host)) != NULL);
        return TCN_OK;
    }
    uint8_t a4[4];
    if (parse_ipv4(s, len, a4)) {
        out->kind = TCN_NODE_HOST_IPV4;
        snprintf(out->host, sizeof(out->host), "%u.%u.%u.%u", a4[0], a4[1], a4[2], a4[3]);
        return TCN_OK;
    }
    if (memchr(s, ':', len) != NULL) {
        *why = "an IPv6 address goes in brackets: [ADDRESS]:PORT";
        return TCN_ERR_MALFORMED;
    }
    if (!allow_names) {
        *why = "expected an IP address (IPv4 dotted decimal or [IPv6]); host names are not allowed here";
        return TCN_ERR_MALFORMED;
    }
    if (!hostname_valid(s, len)) {
        *why = "neither an IPv4 address nor a host name (letters, digits, '-' and '.')";
        return TCN_ERR_MALFORMED;
    }
    out->kind = TCN_NODE_HOST_NAME;
    for (size_t i = 0; i < len; i++) /* DNS names compare without case */
        out->host[i] = (s[i] >= 'A' && s[i] <= 'Z') ? (char)(s[i] - 'A' + 'a') : s[i];
    out->host[len] = '\0';
    return TCN_OK;
}

/* HOST[:PORT] (port optional when port_required is false; then 0). */
static int parse_hostport(const char *s, size_t len, bool allow_names, bool port_required, tcn_node_addr *out,
                          const char **why)
{
    memset(out, 0, sizeof(*out));
    *why = "malformed";
    if (len == 0) {
        *why = "empty";
        return TCN_ERR_MALFORMED;
    }
    if (len > TCN_NODE_ADDR_CHARS_MAX) {
        *why = "too long";
        return TCN_ERR_MALFORMED;
    }
    if (memchr(s, '\0', len) != NULL) {
        *why = "contains a NUL byte";
        return TCN_ERR_MALFORMED;
    }
    const char *host = s, *port = NULL;
    size_t host_len;
    bool bracketed = s[0] == '[';
    if (bracketed) {
        const char *close = memchr(s, ']', len);
        if (close == NULL) {
            *why = "an IPv6 address needs its closing ']'";
            return TCN_ERR_MALFORMED;
        }
        host = s + 1;
        host_len = (size_t)(close - host);
        const char *after = close + 1;
        if (after < s + len) {
            if (*after != ':') {
                *why = "expected ':' and a port after ']'";
                return TCN_ERR_MALFORMED;
            }
            port = after + 1;
        }
    } else {
        const char *colon = NULL;
        for (size_t i = 0; i < len; i++)
            if (s[i] == ':')
                colon = s + i;
        /* Two or more colons: an unbracketed IPv6 address; parse_host says so. */
        if (colon != NULL && memchr(s, ':', (size_t)(colon - s)) == NULL) {
            host_len = (size_t)(colon - s);
            port = colon + 1;
        } else {
            host_len = len;
        }
    }
    if (port == NULL && port_required) {
        if (!bracketed && memchr(s, ':', len) != NULL) {
            *why = "an IPv6 address goes in brackets: [ADDRESS]:PORT";
            return TCN_ERR_MALFORMED;
        }
        *why = "expected HOST:PORT";
        return TCN_ERR_MALFORMED;
    }
    TCN_GUARD(parse_host(host, host_len, bracketed, allow_names, out, why));
    if (port != NULL) {
        uint64_t p;
        if (!parse_decimal(port, (size_t)(s + len - port), 1, 65535, &p)) {
            *why = "the port must be a decimal number 1..65535";
            return TCN_ERR_MALFORMED;
        }
        out->port = (uint16_t)p;
    }
    return TCN_OK;
}

int tcn_node_addr_parse(const char *s, size_t len, bool allow_names, tcn_node_addr *out, const char **why)
{
    return parse_hostport(s, len, allow_names, true, out, why);
}

size_t tcn_node_addr_format(const tcn_node_addr *a, char *out, size_t cap)
{
    int n = snprintf(out, cap, a->kind == TCN_NODE_HOST_IPV6 ? "[%s]:%u" : "%s:%u", a->host, (unsigned)a->port);
    TCN_ASSERT(n >= 0 && (size_t)n < cap);
    return (size_t)n;
}

bool tcn_node_addr_equal(const tcn_node_addr *a, const tcn_node_addr *b)
{
    return a->kind == b->kind && a->port == b->port && strcmp(a->host, b->host) == 0;
}

/* An http:// or https:// URL: no user information (no secrets in the
 * config's printout), no fragment; the path and query as printable
 * characters that need no quoting (RFC 3986 §2), '%' only before two hex
 * digits. Returns NULL or what is wrong. */
static const char *url_check(const char *s, size_t len)
{
    size_t skip;
    if (len >= 7 && memcmp(s, "http://", 7) == 0)
        skip = 7;
    else if (len >= 8 && memcmp(s, "https://", 8) == 0)
        skip = 8;
    else
        return "expected an http:// or https:// URL";
    const char *auth = s + skip, *end = s + len;
    const char *auth_end = auth;
    while (auth_end < end && *auth_end != '/' && *auth_end != '?' && *auth_end != '#')
        auth_end++;
    if (memchr(auth, '@', (size_t)(auth_end - auth)) != NULL)
        return "user information (USER@HOST) is not allowed";
    tcn_node_addr a;
    const char *why;
    if (parse_hostport(auth, (size_t)(auth_end - auth), true, false, &a, &why) != TCN_OK)
        return why;
    for (const char *q = auth_end; q < end; q++) {
        unsigned char ch = (unsigned char)*q;
        if (ch == '#')
            return "a fragment (#...) has no meaning here";
        if (ch <= 0x20 || ch >= 0x7f || strchr("\"<>\\^`{|}", ch) != NULL)
            return "a character that must be percent-encoded";
        if (ch == '%') {
            if (end - q < 3 || !isxdigit_ascii(q[1]) || !isxdigit_ascii(q[2]))
                return "'%' not followed by two hex digits";
        }
    }
    return NULL;
}

/* ---- the fields ----------------------------------------------------------------- */

typedef enum {
    F_NAME,
    F_LISTEN_PEER,
    F_LISTEN_API,
    F_JOIN,
    F_BOOTSTRAP_EXPECT,
    F_STANDBY,
    F_HEARTBEAT_MS,
    F_ELECTION_TIMEOUT_MS,
    F_REPLACE_AFTER_MS,
    F_CHAIN_RPC,
    F_TEE,
    F_SIM_PLATFORM_KEY,
    F_POLICY,
    F_LOG_LEVEL,
    F_DATA_DIR,
    F_OPERATOR_KEY,
    F_ADVERTISE_PEER,
    F_ADVERTISE_API,
    F_REATTEST_INTERVAL_MS,
    F_EVIDENCE_MAX_AGE_MS,
} field_id;

/* How a flag's text becomes the JSON value the field's check reads. */
typedef enum { K_STRING, K_UINT, K_BOOL, K_LIST } field_kind;

struct field {
    const char *key;
    const char *flag;
    field_id id;
    field_kind kind;
    uint32_t min, max; /* K_UINT */
};

/* One row per field: the file's key, its flag, and for integers the range
 * each value must be in on its own (relations between fields are checked
 * by tcn_node_config_finish). */
static const struct field fields[] = {
    {"name", "--name", F_NAME, K_STRING, 0, 0},
    {"listen_peer", "--listen-peer", F_LISTEN_PEER, K_STRING, 0, 0},
    {"listen_api", "--listen-api", F_LISTEN_API, K_STRING, 0, 0},
    {"join", "--join", F_JOIN, K_LIST, 0, 0},
    {"bootstrap_expect", "--bootstrap-expect", F_BOOTSTRAP_EXPECT, K_UINT, 0, TCN_NODE_BOOTSTRAP_EXPECT_MAX},
    {"standby", "--standby", F_STANDBY, K_BOOL, 0, 0},
    {"heartbeat_ms", "--heartbeat-ms", F_HEARTBEAT_MS, K_UINT, TCN_NODE_HEARTBEAT_MS_MIN, TCN_NODE_HEARTBEAT_MS_MAX},
    {"election_timeout_ms", "--election-timeout-ms", F_ELECTION_TIMEOUT_MS, K_UINT,
     TCN_NODE_ELECTION_TIMEOUT_HEARTBEATS_MIN * TCN_NODE_HEARTBEAT_MS_MIN, TCN_NODE_ELECTION_TIMEOUT_MS_MAX},
    {"replace_after_ms", "--replace-after-ms", F_REPLACE_AFTER_MS, K_UINT, 0, TCN_NODE_REPLACE_AFTER_MS_MAX},
    {"chain_rpc", "--chain-rpc", F_CHAIN_RPC, K_STRING, 0, 0},
    {"tee", "--tee", F_TEE, K_STRING, 0, 0},
    {"sim_platform_key", "--sim-platform-key", F_SIM_PLATFORM_KEY, K_STRING, 0, 0},
    {"policy", "--policy", F_POLICY, K_STRING, 0, 0},
    {"log_level", "--log-level", F_LOG_LEVEL, K_STRING, 0, 0},
    {"data_dir", "--data-dir", F_DATA_DIR, K_STRING, 0, 0},
    {"operator_key", "--operator-key", F_OPERATOR_KEY, K_STRING, 0, 0},
    {"advertise_peer", "--advertise-peer", F_ADVERTISE_PEER, K_STRING, 0, 0},
    {"advertise_api", "--advertise-api", F_ADVERTISE_API, K_STRING, 0, 0},
    {"reattest_interval_ms", "--reattest-interval-ms", F_REATTEST_INTERVAL_MS, K_UINT,
     TCN_NODE_REATTEST_INTERVAL_MS_MIN, TCN_NODE_REATTEST_INTERVAL_MS_MAX},
    {"evidence_max_age_ms", "--evidence-max-age-ms", F_EVIDENCE_MAX_AGE_MS, K_UINT,
     TCN_NODE_EVIDENCE_MAX_AGE_INTERVALS_MIN * TCN_NODE_REATTEST_INTERVAL_MS_MIN, TCN_NODE_EVIDENCE_MAX_AGE_MS_MAX},
};

static const char *tee_names[] = {[TCN_NODE_TEE_UNSET] = "", [TCN_NODE_TEE_SIM] = "sim",
                                  [TCN_NODE_TEE_GRAMINE] = "gramine", [TCN_NODE_TEE_NITRO] = "nitro"};
static const char *log_level_names[] = {[TCN_LOG_DEBUG] = "debug", [TCN_LOG_INFO] = "info", [TCN_LOG_WARN] = "warn",
                                        [TCN_LOG_ERROR] = "error", [TCN_LOG_OFF] = "off"};

const char *tcn_node_tee_name(tcn_node_tee t)
{
    return (unsigned)t < TCN_ARRAY_LEN(tee_names) ? tee_names[t] : "";
}

/* The attestation TEE type a tcnd TEE produces evidence of. */
static tcn_tee_type own_tee_type(tcn_node_tee t)
{
    switch (t) {
    case TCN_NODE_TEE_SIM:
        return TCN_TEE_SIM;
    case TCN_NODE_TEE_GRAMINE:
        return TCN_TEE_SGX;
    case TCN_NODE_TEE_NITRO:
        return TCN_TEE_NITRO;
    case TCN_NODE_TEE_UNSET:
        break;
    }
    return TCN_TEE_NONE;
}

static const char *json_kind(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "an array";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
        return "an integer";
    case JSON_REAL:
        return "a fractional number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    case JSON_NULL:
        return "null";
    }
    return "?";
}

static int get_string(const json_t *v, const char *label, size_t max, const char **out, size_t *out_len,
                      tcn_error *err)
{
    TCN_ENSURE(json_is_string(v), err, TCN_ERR_CONFIG, "config: %s: expected a string, not %s", label, json_kind(v));
    const char *s = json_string_value(v);
    size_t len = json_string_length(v);
    TCN_ENSURE(strlen(s) == len, err, TCN_ERR_CONFIG, "config: %s: contains a NUL character", label);
    TCN_ENSURE(len <= max, err, TCN_ERR_CONFIG, "config: %s: %zu characters, the maximum is %zu", label, len, max);
    *out = s;
    *out_len = len;
    return TCN_OK;
}

static int get_uint(const json_t *v, const char *label, uint32_t min, uint32_t max, uint32_t *out, tcn_error *err)
{
    TCN_ENSURE(json_is_integer(v), err, TCN_ERR_CONFIG, "config: %s: expected an integer, not %s", label,
               json_kind(v));
    json_int_t x = json_integer_value(v);
    TCN_ENSURE(x >= (json_int_t)min, err, TCN_ERR_CONFIG, "config: %s: %lld is below the minimum %u", label,
               (long long)x, min);
    TCN_ENSURE(x <= (json_int_t)max, err, TCN_ERR_CONFIG, "config: %s: %lld is above the maximum %u", label,
               (long long)x, max);
    *out = (uint32_t)x;
    return TCN_OK;
}

/* A file or directory path: not empty, no control characters. */
static int get_path(const json_t *v, const char *label, char *out, tcn_error *err)
{
    const char *s;
    size_t len;
    TCN_GUARD(get_string(v, label, TCN_NODE_PATH_CHARS_MAX, &s, &len, err));
    TCN_ENSURE(len > 0, err, TCN_ERR_CONFIG, "config: %s: empty", label);
    for (size_t i = 0; i < len; i++)
        TCN_ENSURE((unsigned char)s[i] >= 0x20 && s[i] != 0x7f, err, TCN_ERR_CONFIG,
                   "config: %s: contains a control character", label);
    memcpy(out, s, len + 1);
    return TCN_OK;
}

static int get_addr(const json_t *v, const char *label, bool allow_names, tcn_node_addr *out, tcn_error *err)
{
    const char *s, *why = NULL;
    size_t len;
    TCN_GUARD(get_string(v, label, TCN_NODE_ADDR_CHARS_MAX, &s, &len, err));
    if (tcn_node_addr_parse(s, len, allow_names, out, &why) != TCN_OK)
        return tcn_err_set(err, TCN_ERR_CONFIG, "config: %s: '%s': %s", label, s, why);
    return TCN_OK;
}

static int get_join(tcn_node_config *c, const json_t *v, const char *label, tcn_error *err)
{
    TCN_ENSURE(json_is_array(v), err, TCN_ERR_CONFIG, "config: %s: expected an array of HOST:PORT strings, not %s",
               label, json_kind(v));
    size_t n = json_array_size(v);
    TCN_ENSURE(n <= TCN_NODE_JOIN_MAX, err, TCN_ERR_CONFIG, "config: %s: %zu addresses, the maximum is %u", label, n,
               TCN_NODE_JOIN_MAX);
    tcn_node_addr join[TCN_NODE_JOIN_MAX];
    memset(join, 0, sizeof(join));
    for (size_t i = 0; i < n; i++) {
        char el[64];
        snprintf(el, sizeof(el), "%s[%zu]", label, i);
        TCN_GUARD(get_addr(json_array_get(v, i), el, true, &join[i], err));
        for (size_t k = 0; k < i; k++) {
            char text[TCN_NODE_ADDR_CHARS_MAX + 1];
            tcn_node_addr_format(&join[i], text, sizeof(text));
            TCN_ENSURE(!tcn_node_addr_equal(&join[k], &join[i]), err, TCN_ERR_CONFIG,
                       "config: %s: %s is already %s[%zu]", el, text, label, k);
        }
    }
    memcpy(c->join, join, sizeof(join));
    c->join_count = n;
    return TCN_OK;
}

static int get_policy(tcn_node_config *c, const json_t *v, const char *label, tcn_error *err)
{
    if (json_is_string(v)) {
        TCN_GUARD(get_path(v, label, c->policy_file, err));
        c->policy_source = TCN_NODE_POLICY_FILE;
        c->policy_loaded = false;
        return TCN_OK;
    }
    TCN_ENSURE(json_is_object(v), err, TCN_ERR_CONFIG,
               "config: %s: expected an object (the policy) or a string (a file holding {\"attestation\": "
               "{...}}), not %s",
               label, json_kind(v));
    /* The policy's own parser and its messages ("policy: field 'tee'..."). */
    tcn_policy p;
    if (tcn_policy_from_json(v, &p, err) != TCN_OK) {
        err->code = TCN_ERR_CONFIG; /* some of its refusals carry the hex decoder's code */
        return tcn_err_wrap(err, "config");
    }
    c->policy = p;
    c->policy_source = TCN_NODE_POLICY_INLINE;
    c->policy_file[0] = '\0';
    c->policy_loaded = false;
    return TCN_OK;
}

static int set_field(tcn_node_config *c, const struct field *f, const json_t *v, const char *label, tcn_error *err)
{
    const char *s;
    size_t len;
    switch (f->id) {
    case F_NAME:
        TCN_GUARD(get_string(v, label, TCN_NODE_NAME_CHARS_MAX, &s, &len, err));
        TCN_ENSURE(tcn_node_name_valid(s, len), err, TCN_ERR_CONFIG,
                   "config: %s: '%s': 1..%u of letters, digits, '.', '_' and '-'", label, s, TCN_NODE_NAME_CHARS_MAX);
        memcpy(c->name, s, len + 1);
        c->name_set = true;
        return TCN_OK;
    case F_LISTEN_PEER:
        return get_addr(v, label, false, &c->listen_peer, err);
    case F_LISTEN_API:
        return get_addr(v, label, false, &c->listen_api, err);
    case F_ADVERTISE_PEER:
        TCN_GUARD(get_addr(v, label, false, &c->advertise_peer, err));
        c->advertise_peer_set = true;
        return TCN_OK;
    case F_ADVERTISE_API:
        TCN_GUARD(get_addr(v, label, false, &c->advertise_api, err));
        c->advertise_api_set = true;
        return TCN_OK;
    case F_JOIN:
        return get_join(c, v, label, err);
    case F_BOOTSTRAP_EXPECT: {
        uint32_t x;
        TCN_GUARD(get_uint(v, label, f->min, f->max, &x, err));
        c->bootstrap_expect = x;
        return TCN_OK;
    }
    case F_STANDBY:
        TCN_ENSURE(json_is_boolean(v), err, TCN_ERR_CONFIG, "config: %s: expected true or false, not %s", label,
                   json_kind(v));
        c->standby = json_is_true(v);
        return TCN_OK;
    case F_HEARTBEAT_MS:
        return get_uint(v, label, f->min, f->max, &c->heartbeat_ms, err);
    case F_ELECTION_TIMEOUT_MS:
        return get_uint(v, label, f->min, f->max, &c->election_timeout_ms, err);
    case F_REPLACE_AFTER_MS:
        return get_uint(v, label, f->min, f->max, &c->replace_after_ms, err);
    case F_REATTEST_INTERVAL_MS:
        return get_uint(v, label, f->min, f->max, &c->reattest_interval_ms, err);
    case F_EVIDENCE_MAX_AGE_MS:
        TCN_GUARD(get_uint(v, label, f->min, f->max, &c->evidence_max_age_ms, err));
        c->evidence_max_age_set = true;
        return TCN_OK;
    case F_CHAIN_RPC: {
        TCN_GUARD(get_string(v, label, TCN_NODE_URL_CHARS_MAX, &s, &len, err));
        const char *why = url_check(s, len);
        TCN_ENSURE(why == NULL, err, TCN_ERR_CONFIG, "config: %s: '%s': %s", label, s, why);
        memcpy(c->chain_rpc, s, len + 1);
        return TCN_OK;
    }
    case F_TEE:
        TCN_GUARD(get_string(v, label, TCN_NODE_NAME_CHARS_MAX, &s, &len, err));
        for (size_t t = 1; t < TCN_ARRAY_LEN(tee_names); t++)
            if (strcmp(s, tee_names[t]) == 0) {
                c->tee = (tcn_node_tee)t;
                return TCN_OK;
            }
        return tcn_err_set(err, TCN_ERR_CONFIG, "config: %s: '%s' is not one of sim, gramine, nitro", label, s);
    case F_SIM_PLATFORM_KEY:
        return get_path(v, label, c->sim_platform_key, err);
    case F_POLICY:
        return get_policy(c, v, label, err);
    case F_LOG_LEVEL: {
        TCN_GUARD(get_string(v, label, TCN_NODE_NAME_CHARS_MAX, &s, &len, err));
        int lvl = tcn_log_level_parse(s);
        TCN_ENSURE(lvl >= 0, err, TCN_ERR_CONFIG, "config: %s: '%s' is not one of debug, info, warn, error, off",
                   label, s);
        c->log_level = (tcn_log_level)lvl;
        return TCN_OK;
    }
    case F_DATA_DIR:
        return get_path(v, label, c->data_dir, err);
    case F_OPERATOR_KEY: {
        TCN_GUARD(get_string(v, label, TCN_CHAIN_BASE58_PUBKEY_CHARS - 1, &s, &len, err));
        tcn_chain_pubkey pk;
        tcn_error e2;
        TCN_ENSURE(tcn_chain_pubkey_from_base58(s, &pk, &e2) == TCN_OK, err, TCN_ERR_CONFIG,
                   "config: %s: '%s' is not a base58 Ed25519 public key: %s", label, s, e2.msg);
        c->operator_key = pk;
        c->operator_key_set = true;
        return TCN_OK;
    }
    }
    return tcn_err_set(err, TCN_ERR_INTERNAL, "config: %s: no handler", label);
}

void tcn_node_config_default(tcn_node_config *c)
{
    memset(c, 0, sizeof(*c));
    const char *why = NULL;
    TCN_ASSERT(tcn_node_addr_parse(TCN_NODE_DEFAULT_LISTEN_PEER, strlen(TCN_NODE_DEFAULT_LISTEN_PEER), false,
                                   &c->listen_peer, &why) == TCN_OK);
    TCN_ASSERT(tcn_node_addr_parse(TCN_NODE_DEFAULT_LISTEN_API, strlen(TCN_NODE_DEFAULT_LISTEN_API), false,
                                   &c->listen_api, &why) == TCN_OK);
    c->heartbeat_ms = TCN_NODE_DEFAULT_HEARTBEAT_MS;
    c->election_timeout_ms = TCN_NODE_DEFAULT_ELECTION_TIMEOUT_MS;
    c->replace_after_ms = TCN_NODE_DEFAULT_REPLACE_AFTER_MS;
    snprintf(c->chain_rpc, sizeof(c->chain_rpc), "%s", TCN_NODE_DEFAULT_CHAIN_RPC);
    c->log_level = TCN_LOG_INFO;
    c->reattest_interval_ms = TCN_NODE_DEFAULT_REATTEST_INTERVAL_MS;
    c->evidence_max_age_ms = TCN_NODE_DEFAULT_EVIDENCE_MAX_AGE_INTERVALS * TCN_NODE_DEFAULT_REATTEST_INTERVAL_MS;
    c->policy_source = TCN_NODE_POLICY_DEFAULT;
    tcn_policy_default(&c->policy);
}

int tcn_node_config_apply_json(tcn_node_config *c, const json_t *root, tcn_error *err)
{
    TCN_ENSURE(json_is_object(root), err, TCN_ERR_CONFIG, "config: the top level must be an object, not %s",
               json_kind(root));
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)root, key, v)
    {
        bool known = false;
        for (size_t i = 0; i < TCN_ARRAY_LEN(fields); i++)
            known |= strcmp(key, fields[i].key) == 0;
        TCN_ENSURE(known, err, TCN_ERR_CONFIG, "config: unknown field '%s'", key);
    }
    /* In table order, so the first error reported does not depend on the file's order. */
    for (size_t i = 0; i < TCN_ARRAY_LEN(fields); i++)
        if ((v = json_object_get(root, fields[i].key)) != NULL)
            TCN_GUARD(set_field(c, &fields[i], v, fields[i].key, err));
    return TCN_OK;
}

int tcn_node_config_apply_text(tcn_node_config *c, const char *text, size_t len, tcn_error *err)
{
    TCN_ENSURE(len <= TCN_NODE_CONFIG_FILE_MAX, err, TCN_ERR_CONFIG, "config: %zu bytes, the maximum is %u", len,
               TCN_NODE_CONFIG_FILE_MAX);
    json_error_t jerr;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (root == NULL)
        return tcn_err_set(err, TCN_ERR_CONFIG, "config: line %d column %d: %s", jerr.line, jerr.column, jerr.text);
    int rc = tcn_node_config_apply_json(c, root, err);
    json_decref(root);
    return rc;
}

int tcn_node_config_apply_file(tcn_node_config *c, const char *path, tcn_error *err)
{
    uint8_t *raw = NULL;
    size_t len = 0;
    if (tcn_file_read(path, TCN_NODE_CONFIG_FILE_MAX, &raw, &len, err) != TCN_OK) {
        err->code = TCN_ERR_CONFIG;
        return tcn_err_wrap(err, "config"); /* the message names the file */
    }
    int rc = tcn_node_config_apply_text(c, (const char *)raw, len, err);
    free(raw);
    return rc;
}

/* ---- flags ------------------------------------------------------------------------ */

static const struct field *field_by_flag(const char *flag)
{
    for (size_t i = 0; i < TCN_ARRAY_LEN(fields); i++)
        if (strcmp(flag, fields[i].flag) == 0)
            return &fields[i];
    return NULL;
}

bool tcn_node_config_flag_known(const char *flag, bool *takes_value)
{
    const struct field *f = field_by_flag(flag);
    if (f == NULL)
        return false;
    *takes_value = f->kind != K_BOOL;
    return true;
}

/* The flag's text as the JSON value its field reads. */
static int flag_value(const struct field *f, const char *value, json_t **out, tcn_error *err)
{
    *out = NULL;
    if (f->kind == K_BOOL) {
        TCN_ENSURE(value == NULL, err, TCN_ERR_USAGE, "config: %s takes no value", f->flag);
        *out = json_true();
        return TCN_OK;
    }
    TCN_ENSURE(value != NULL, err, TCN_ERR_USAGE, "config: %s needs a value", f->flag);
    if (f->kind == K_UINT) {
        size_t len = strlen(value);
        bool digits = len > 0 && (len == 1 || value[0] != '0');
        for (size_t i = 0; i < len; i++)
            digits &= is_digit(value[i]);
        TCN_ENSURE(digits, err, TCN_ERR_CONFIG, "config: %s: '%s' is not a decimal integer", f->flag, value);
        uint64_t x = 0;
        /* 18 digits fit json_int_t; anything longer is far above every maximum. */
        TCN_ENSURE(len <= 18 && parse_decimal(value, len, 0, UINT64_MAX, &x), err, TCN_ERR_CONFIG,
                   "config: %s: %s is above the maximum %u", f->flag, value, f->max);
        *out = json_integer((json_int_t)x);
    } else if (f->kind == K_LIST) {
        json_t *a = json_array();
        if (a != NULL && value[0] != '\0') { /* "" clears the list */
            const char *p = value;
            for (;;) {
                const char *comma = strchr(p, ',');
                size_t n = comma ? (size_t)(comma - p) : strlen(p);
                json_t *s = json_stringn(p, n);
                if (s == NULL || json_array_append_new(a, s) != 0) {
                    json_decref(a);
                    return tcn_err_set(err, TCN_ERR_CONFIG, "config: %s: not valid UTF-8", f->flag);
                }
                if (comma == NULL)
                    break;
                p = comma + 1;
            }
        }
        *out = a;
    } else {
        *out = json_string(value);
        TCN_ENSURE(*out != NULL, err, TCN_ERR_CONFIG, "config: %s: not valid UTF-8", f->flag);
    }
    TCN_ENSURE(*out != NULL, err, TCN_ERR_NOMEM, "config: %s: out of memory", f->flag);
    return TCN_OK;
}

int tcn_node_config_apply_flag(tcn_node_config *c, const char *flag, const char *value, tcn_error *err)
{
    const struct field *f = field_by_flag(flag);
    TCN_ENSURE(f != NULL, err, TCN_ERR_USAGE, "config: unknown option '%s'", flag);
    json_t *v;
    TCN_GUARD(flag_value(f, value, &v, err));
    int rc = set_field(c, f, v, f->flag, err);
    json_decref(v);
    return rc;
}

/* ---- the checks across fields ----------------------------------------------------- */

/* A policy tcnd uses for its peers: DESIGN §4 makes "self" the default for
 * peers, so where the policy names no measurement it accepts the node's own
 * (never "any code"); and it must accept the node's own TEE, or the network
 * could not form. */
static int policy_adopt(const tcn_node_config *c, tcn_policy *p, tcn_error *err)
{
    if (p->measurement_any) {
        p->measurement_any = false;
        p->measurement_self = true;
    }
    tcn_tee_type own = own_tee_type(c->tee);
    TCN_ENSURE(p->tee_mask & TEE_BIT(own), err, TCN_ERR_CONFIG,
               "config: policy: field 'tee' does not accept %s, the TEE of this node (tee %s), so no peer running "
               "the same code would be accepted",
               tcn_tee_name(own), tcn_node_tee_name(c->tee));
    return TCN_OK;
}

static bool addr_unspecified(const tcn_node_addr *a)
{
    return (a->kind == TCN_NODE_HOST_IPV4 && strcmp(a->host, "0.0.0.0") == 0) ||
           (a->kind == TCN_NODE_HOST_IPV6 && strcmp(a->host, "::") == 0);
}

static int check_advertise(const tcn_node_addr *listen, bool set, tcn_node_addr *adv, const char *adv_name,
                           const char *listen_name, tcn_error *err)
{
    char text[TCN_NODE_ADDR_CHARS_MAX + 1];
    if (set) {
        tcn_node_addr_format(adv, text, sizeof(text));
        TCN_ENSURE(!addr_unspecified(adv), err, TCN_ERR_CONFIG,
                   "config: %s: %s is not an address anyone can reach", adv_name, text);
        return TCN_OK;
    }
    tcn_node_addr_format(listen, text, sizeof(text));
    TCN_ENSURE(!addr_unspecified(listen), err, TCN_ERR_CONFIG,
               "config: %s: %s %s listens on every address: set %s to the address others reach it at", adv_name,
               listen_name, text, adv_name);
    *adv = *listen;
    return TCN_OK;
}

int tcn_node_config_finish(tcn_node_config *c, tcn_error *err)
{
    TCN_ENSURE(c->tee != TCN_NODE_TEE_UNSET, err, TCN_ERR_CONFIG,
               "config: tee: required (sim, gramine or nitro); no TEE type is assumed");
    if (c->tee == TCN_NODE_TEE_SIM)
        TCN_ENSURE(c->sim_platform_key[0] != '\0', err, TCN_ERR_CONFIG,
                   "config: sim_platform_key: required with tee sim (a key file from `tcn sim-platform keygen`)");
    else
        TCN_ENSURE(c->sim_platform_key[0] == '\0', err, TCN_ERR_CONFIG,
                   "config: sim_platform_key: only used with tee sim, and tee is %s", tcn_node_tee_name(c->tee));
    uint64_t et_min = (uint64_t)TCN_NODE_ELECTION_TIMEOUT_HEARTBEATS_MIN * c->heartbeat_ms;
    TCN_ENSURE(c->election_timeout_ms >= et_min, err, TCN_ERR_CONFIG,
               "config: election_timeout_ms: %u is below %u times heartbeat_ms (%llu)", c->election_timeout_ms,
               TCN_NODE_ELECTION_TIMEOUT_HEARTBEATS_MIN, (unsigned long long)et_min);
    TCN_ENSURE(c->replace_after_ms == 0 || c->replace_after_ms >= c->election_timeout_ms, err, TCN_ERR_CONFIG,
               "config: replace_after_ms: %u is below election_timeout_ms (%u); 0 turns automatic replacement off",
               c->replace_after_ms, c->election_timeout_ms);
    uint64_t age_min = (uint64_t)TCN_NODE_EVIDENCE_MAX_AGE_INTERVALS_MIN * c->reattest_interval_ms;
    if (c->evidence_max_age_set)
        TCN_ENSURE(c->evidence_max_age_ms >= age_min, err, TCN_ERR_CONFIG,
                   "config: evidence_max_age_ms: %u is below %u times reattest_interval_ms (%llu): peers would be "
                   "dropped between re-attestations",
                   c->evidence_max_age_ms, TCN_NODE_EVIDENCE_MAX_AGE_INTERVALS_MIN, (unsigned long long)age_min);
    else
        c->evidence_max_age_ms = TCN_NODE_DEFAULT_EVIDENCE_MAX_AGE_INTERVALS * c->reattest_interval_ms;
    TCN_ENSURE(c->bootstrap_expect != 0 || c->join_count > 0, err, TCN_ERR_CONFIG,
               "config: join: empty, and bootstrap_expect 0 means joining an existing network: name a member to "
               "join, or set bootstrap_expect to start a new network");
    TCN_ENSURE(c->bootstrap_expect <= 1 || c->join_count > 0, err, TCN_ERR_CONFIG,
               "config: join: empty, but bootstrap_expect %u needs the addresses of the other nodes",
               c->bootstrap_expect);
    if (c->bootstrap_expect >= 2) {
        /* The first configuration is this node and the nodes its join list
         * names; every bootstrap node must compute the same set, so the list
         * names exactly the other bootstrap nodes (docs/NODE.md §4). */
        size_t others = 0;
        for (size_t i = 0; i < c->join_count; i++)
            others += !tcn_node_addr_equal(&c->join[i], &c->listen_peer) &&
                      !(c->advertise_peer_set && tcn_node_addr_equal(&c->join[i], &c->advertise_peer));
        TCN_ENSURE(others == c->bootstrap_expect - 1, err, TCN_ERR_CONFIG,
                   "config: join: bootstrap_expect %u needs exactly the other %u bootstrap nodes' peer addresses "
                   "in join (it names %zu): the first configuration is those nodes",
                   c->bootstrap_expect, c->bootstrap_expect - 1, others);
    }
    TCN_ENSURE(!(c->standby && c->bootstrap_expect == 1), err, TCN_ERR_CONFIG,
               "config: standby: a standby hands leadership to other voters, and bootstrap_expect 1 has none");
    if (tcn_node_addr_equal(&c->listen_peer, &c->listen_api)) {
        char text[TCN_NODE_ADDR_CHARS_MAX + 1];
        tcn_node_addr_format(&c->listen_api, text, sizeof(text));
        return tcn_err_set(err, TCN_ERR_CONFIG, "config: listen_api: %s is also listen_peer", text);
    }
    /* What peers dial and clients are redirected to: an address they can
     * reach, never 0.0.0.0 or ::. */
    TCN_GUARD(check_advertise(&c->listen_peer, c->advertise_peer_set, &c->advertise_peer, "advertise_peer",
                              "listen_peer", err));
    TCN_GUARD(check_advertise(&c->listen_api, c->advertise_api_set, &c->advertise_api, "advertise_api",
                              "listen_api", err));
    if (!c->name_set)
        snprintf(c->name, sizeof(c->name), "tcnd-%u", (unsigned)c->listen_peer.port);
    switch (c->policy_source) {
    case TCN_NODE_POLICY_DEFAULT:
        tcn_policy_default(&c->policy);
        c->policy.tee_mask = TEE_BIT(own_tee_type(c->tee));
        c->policy.measurement_any = false;
        c->policy.measurement_self = true;
        /* sim: complete once resolve adds the platform key (sim is accepted only for a named key). */
        c->policy_loaded = c->tee != TCN_NODE_TEE_SIM;
        break;
    case TCN_NODE_POLICY_INLINE:
        TCN_GUARD(policy_adopt(c, &c->policy, err));
        c->policy_loaded = true;
        break;
    case TCN_NODE_POLICY_FILE:
        c->policy_loaded = false;
        break;
    }
    return TCN_OK;
}

int tcn_node_config_resolve(tcn_node_config *c, tcn_error *err)
{
    TCN_ASSERT(c->tee != TCN_NODE_TEE_UNSET); /* finish ran */
    if (c->policy_source == TCN_NODE_POLICY_FILE) {
        tcn_policy p;
        if (tcn_policy_load_file(c->policy_file, &p, err) != TCN_OK) {
            err->code = TCN_ERR_CONFIG;
            return tcn_err_wrap(err, "config: policy");
        }
        TCN_GUARD(policy_adopt(c, &p, err));
        c->policy = p;
        c->policy_loaded = true;
    }
    if (c->tee == TCN_NODE_TEE_SIM) {
        tcn_sim_platform plat;
        if (tcn_sim_platform_load(c->sim_platform_key, &plat, err) != TCN_OK) {
            err->code = TCN_ERR_CONFIG;
            return tcn_err_wrap(err, "config: sim_platform_key");
        }
        int rc = TCN_OK;
        if (c->policy_source == TCN_NODE_POLICY_DEFAULT && !c->policy_loaded) {
            /* Peers whose evidence this node's own platform key signed. */
            rc = tcn_policy_add_sim_key(&c->policy, plat.pk, err);
            c->policy_loaded = rc == TCN_OK;
        }
        tcn_sim_platform_free(&plat);
        TCN_GUARD(rc);
    }
    return TCN_OK;
}

int tcn_node_config_from_args(int argc, char *const *argv, tcn_node_config *out, tcn_error *err)
{
    tcn_node_config c;
    tcn_node_config_default(&c);
    const char *config_path = NULL;
    bool seen[TCN_ARRAY_LEN(fields)] = {false};
    /* First the usage: every flag known, given once, with its value. */
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        bool takes = true;
        const struct field *f = NULL;
        if (strcmp(a, "--config") == 0) {
            TCN_ENSURE(config_path == NULL, err, TCN_ERR_USAGE, "option --config given twice");
        } else {
            TCN_ENSURE(strncmp(a, "--", 2) == 0, err, TCN_ERR_USAGE, "unexpected argument '%s'", a);
            TCN_ENSURE((f = field_by_flag(a)) != NULL, err, TCN_ERR_USAGE, "unknown option '%s'", a);
            TCN_ENSURE(!seen[f - fields], err, TCN_ERR_USAGE, "option %s given twice", a);
            seen[f - fields] = true;
            takes = f->kind != K_BOOL;
        }
        if (!takes)
            continue;
        /* "--name --standby" forgot the name; a value never starts with "--". */
        TCN_ENSURE(i + 1 < argc && strncmp(argv[i + 1], "--", 2) != 0, err, TCN_ERR_USAGE, "option %s needs a value",
                   a);
        i++;
        if (f == NULL)
            config_path = argv[i];
    }
    if (config_path != NULL)
        TCN_GUARD(tcn_node_config_apply_file(&c, config_path, err));
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--config") == 0) {
            i++;
            continue;
        }
        bool takes = false;
        TCN_ASSERT(tcn_node_config_flag_known(argv[i], &takes));
        TCN_GUARD(tcn_node_config_apply_flag(&c, argv[i], takes ? argv[i + 1] : NULL, err));
        if (takes)
            i++;
    }
    TCN_GUARD(tcn_node_config_finish(&c, err));
    TCN_GUARD(tcn_node_config_resolve(&c, err));
    *out = c;
    return TCN_OK;
}

/* ---- printing ---------------------------------------------------------------------- */

static json_t *hex_string(const uint8_t *p, size_t n)
{
    char *h = tcn_hex_dup(p, n);
    json_t *s = h ? json_string(h) : NULL;
    free(h);
    return s;
}

/* Adds v to an object or array; a NULL v (out of memory) or a failed add
 * clears *ok, so a printout is whole or not given at all. */
static void put(json_t *o, const char *key, json_t *v, bool *ok)
{
    int rc = key != NULL ? json_object_set_new(o, key, v) : json_array_append_new(o, v);
    *ok &= v != NULL && rc == 0;
}

/* The policy as tcn_policy_from_json reads it. */
static json_t *policy_to_json(const tcn_policy *p)
{
    bool ok = true;
    json_t *o = json_object();
    if (o == NULL)
        return NULL;
    json_t *tee = json_array(), *ms = json_array(), *tcb = json_array(), *rt = json_array(), *keys = json_array();
    put(o, "tee", tee, &ok);
    if (!p->measurement_any) /* no list: any measurement (never so in tcnd, see policy_adopt) */
        put(o, "measurements", ms, &ok);
    else
        json_decref(ms);
    put(o, "min_svn", json_integer(p->min_svn), &ok);
    put(o, "tcb_status", tcb, &ok);
    put(o, "max_evidence_age_s", json_integer(p->max_age_ms / 1000), &ok);
    put(o, "allow_debug", json_boolean(p->allow_debug), &ok);
    put(o, "require_revocation", json_boolean(p->require_revocation), &ok);
    put(o, "tdx_rtmrs", rt, &ok);
    put(o, "sim_platform_keys", keys, &ok);
    if (!ok) {
        json_decref(o);
        return NULL;
    }
    for (int t = TCN_TEE_SIM; t <= TCN_TEE_NITRO; t++)
        if (p->tee_mask & TEE_BIT(t))
            put(tee, NULL, json_string(tcn_tee_name((tcn_tee_type)t)), &ok);
    if (!p->measurement_any && p->measurement_self)
        put(ms, NULL, json_string("self"), &ok);
    for (size_t i = 0; !p->measurement_any && i < p->measurement_count; i++)
        put(ms, NULL, hex_string(p->measurements[i].v, p->measurements[i].len), &ok);
    for (int s = TCN_TCB_UP_TO_DATE; s < TCN_TCB_COUNT_; s++)
        if (p->tcb_status_mask & (1u << (unsigned)s))
            put(tcb, NULL, json_string(tcn_tcb_status_name((tcn_tcb_status)s)), &ok);
    for (size_t i = 0; i < p->tdx_rtmr_count; i++)
        put(rt, NULL, hex_string(p->tdx_rtmrs[i], sizeof(p->tdx_rtmrs[i])), &ok);
    for (size_t i = 0; i < p->sim_key_count; i++)
        put(keys, NULL, hex_string(p->sim_keys[i], TCN_SIM_PUBKEY_LEN), &ok);
    if (!ok) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static json_t *addr_json(const tcn_node_addr *a)
{
    char text[TCN_NODE_ADDR_CHARS_MAX + 1];
    tcn_node_addr_format(a, text, sizeof(text));
    return json_string(text);
}

json_t *tcn_node_config_to_json(const tcn_node_config *c)
{
    bool ok = true;
    json_t *o = json_object(), *join = json_array();
    if (o == NULL) {
        json_decref(join);
        return NULL;
    }
    put(o, "name", json_string(c->name), &ok);
    put(o, "listen_peer", addr_json(&c->listen_peer), &ok);
    put(o, "listen_api", addr_json(&c->listen_api), &ok);
    if (c->advertise_peer_set)
        put(o, "advertise_peer", addr_json(&c->advertise_peer), &ok);
    if (c->advertise_api_set)
        put(o, "advertise_api", addr_json(&c->advertise_api), &ok);
    put(o, "join", join, &ok);
    for (size_t i = 0; ok && i < c->join_count; i++)
        put(join, NULL, addr_json(&c->join[i]), &ok);
    put(o, "bootstrap_expect", json_integer(c->bootstrap_expect), &ok);
    put(o, "standby", json_boolean(c->standby), &ok);
    put(o, "heartbeat_ms", json_integer(c->heartbeat_ms), &ok);
    put(o, "election_timeout_ms", json_integer(c->election_timeout_ms), &ok);
    put(o, "replace_after_ms", json_integer(c->replace_after_ms), &ok);
    put(o, "chain_rpc", json_string(c->chain_rpc), &ok);
    if (c->tee != TCN_NODE_TEE_UNSET)
        put(o, "tee", json_string(tcn_node_tee_name(c->tee)), &ok);
    if (c->sim_platform_key[0] != '\0')
        put(o, "sim_platform_key", json_string(c->sim_platform_key), &ok);
    if (c->policy_loaded)
        put(o, "policy", policy_to_json(&c->policy), &ok);
    else if (c->policy_source == TCN_NODE_POLICY_FILE)
        put(o, "policy", json_string(c->policy_file), &ok);
    put(o, "log_level", json_string(log_level_names[c->log_level]), &ok);
    if (c->data_dir[0] != '\0')
        put(o, "data_dir", json_string(c->data_dir), &ok);
    if (c->operator_key_set) {
        char b58[TCN_CHAIN_BASE58_PUBKEY_CHARS];
        tcn_chain_pubkey_to_base58(&c->operator_key, b58);
        put(o, "operator_key", json_string(b58), &ok);
    }
    put(o, "reattest_interval_ms", json_integer(c->reattest_interval_ms), &ok);
    put(o, "evidence_max_age_ms", json_integer(c->evidence_max_age_ms), &ok);
    if (!ok) {
        json_decref(o);
        return NULL;
    }
    return o;
}
