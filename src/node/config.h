/* tcnd's configuration: a JSON file and command-line flags merged into one
 * plain struct, every field checked (docs/NODE.md lists them). */
#ifndef TCN_NODE_CONFIG_H
#define TCN_NODE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "attest/policy.h"
#include "chain/types.h"
#include "node/limits.h"
#include "util/err.h"
#include "util/log.h"

/* ---- names and addresses (also used by the HELLO frame) -------------------- */

/* A node's human name: 1..TCN_NODE_NAME_CHARS_MAX of [A-Za-z0-9._-]. */
bool tcn_node_name_valid(const char *s, size_t len);

typedef enum {
    TCN_NODE_HOST_IPV4 = 1,
    TCN_NODE_HOST_IPV6 = 2,
    TCN_NODE_HOST_NAME = 3,
} tcn_node_host_kind;

/* host:port. host is in canonical text: IPv4 dotted decimal, IPv6 as
 * inet_ntop writes it (without brackets), or a host name as given. */
typedef struct tcn_node_addr {
    tcn_node_host_kind kind;
    char host[TCN_NODE_HOST_CHARS_MAX + 1];
    uint16_t port;
} tcn_node_addr;

/* Parses s[0, len) as HOST:PORT: HOST an IPv4 address in dotted decimal
 * (four parts 0..255, no leading zeros), [IPv6] in brackets (no zone), or,
 * when allow_names, a DNS host name (RFC 1123 labels, the last one not all
 * digits); PORT decimal 1..65535 without leading zeros. Returns TCN_OK, or
 * TCN_ERR_MALFORMED with *why saying what is wrong. Pure. */
int tcn_node_addr_parse(const char *s, size_t len, bool allow_names, tcn_node_addr *out, const char **why)
    TCN_MUST_CHECK;
/* Writes the canonical text ("1.2.3.4:7400", "[::1]:7400") into out (cap
 * >= TCN_NODE_ADDR_CHARS_MAX + 1); returns its length. */
size_t tcn_node_addr_format(const tcn_node_addr *a, char *out, size_t cap);
bool tcn_node_addr_equal(const tcn_node_addr *a, const tcn_node_addr *b);

/* ---- the configuration ----------------------------------------------------- */

typedef enum {
    TCN_NODE_TEE_UNSET = 0,
    TCN_NODE_TEE_SIM = 1,     /* development only: a sim platform key plays the vendor */
    TCN_NODE_TEE_GRAMINE = 2, /* Intel SGX through Gramine's /dev/attestation */
    TCN_NODE_TEE_NITRO = 3,   /* AWS Nitro Enclaves through /dev/nsm */
} tcn_node_tee;

/* Where the attestation policy comes from. */
typedef enum {
    TCN_NODE_POLICY_DEFAULT = 0, /* none given: the node's own TEE and measurement */
    TCN_NODE_POLICY_INLINE = 1,  /* "policy": { ...the policy object... } */
    TCN_NODE_POLICY_FILE = 2,    /* "policy": "FILE", read by tcn_node_config_resolve */
} tcn_node_policy_source;

/* A plain value; copyable. Strings are NUL-terminated. */
typedef struct tcn_node_config {
    char name[TCN_NODE_NAME_CHARS_MAX + 1];
    tcn_node_addr listen_peer; /* IP literal: what the node binds */
    tcn_node_addr listen_api;  /* IP literal */
    /* What peers dial (HELLO) and clients are redirected to: IP literals;
     * default the listen addresses, which then may not be 0.0.0.0 or ::. */
    bool advertise_peer_set, advertise_api_set;
    tcn_node_addr advertise_peer;
    tcn_node_addr advertise_api;
    size_t join_count;
    tcn_node_addr join[TCN_NODE_JOIN_MAX]; /* IP literals or host names */
    unsigned bootstrap_expect;             /* 0: join an existing network */
    bool standby;
    uint32_t heartbeat_ms;
    uint32_t election_timeout_ms;
    uint32_t replace_after_ms; /* 0: never automatically */
    char chain_rpc[TCN_NODE_URL_CHARS_MAX + 1];
    tcn_node_tee tee;
    char sim_platform_key[TCN_NODE_PATH_CHARS_MAX + 1]; /* tee sim only */
    tcn_node_policy_source policy_source;
    char policy_file[TCN_NODE_PATH_CHARS_MAX + 1];      /* TCN_NODE_POLICY_FILE */
    bool policy_loaded; /* policy below is final (tcn_node_config_finish / _resolve) */
    tcn_policy policy;
    tcn_log_level log_level;
    /* Optional (empty: memory only, the default; DESIGN §6). Nothing secret
     * is ever written there: keys, shares and the replicated state live only
     * in enclave memory and in other members' memory; this directory may
     * only hold what the host could see anyway (logs, public diagnostics). */
    char data_dir[TCN_NODE_PATH_CHARS_MAX + 1];
    /* The first operator's Ed25519 public key: the node that creates the
     * network (GENESIS) makes it the operator, who then registers clients.
     * Only the bootstrapping nodes need it. */
    bool operator_key_set;
    tcn_chain_pubkey operator_key;
    uint32_t reattest_interval_ms;
    uint32_t evidence_max_age_ms;
    /* Which defaulted fields were given (their defaults depend on others). */
    bool name_set;
    bool evidence_max_age_set;
} tcn_node_config;

/* Every default (docs/NODE.md); tee is left unset, since a TEE type, and
 * above all sim, is never assumed. */
void tcn_node_config_default(tcn_node_config *c);

/* Applies the members of a JSON object over c. Unknown keys, wrong types and
 * out-of-range values are TCN_ERR_CONFIG, the message naming the field and
 * why ("config: heartbeat_ms: 0 is below the minimum 5"). On failure c may
 * hold some of the fields. Pure: no I/O ("policy": "FILE" is only noted). */
int tcn_node_config_apply_json(tcn_node_config *c, const json_t *root, tcn_error *err) TCN_MUST_CHECK;
/* The same from JSON text (duplicate keys refused). Pure. */
int tcn_node_config_apply_text(tcn_node_config *c, const char *text, size_t len, tcn_error *err) TCN_MUST_CHECK;
/* The same from a file of at most TCN_NODE_CONFIG_FILE_MAX bytes. */
int tcn_node_config_apply_file(tcn_node_config *c, const char *path, tcn_error *err) TCN_MUST_CHECK;

/* Applies one flag ("--heartbeat-ms", value "250"; value NULL for --standby),
 * checked exactly as the matching JSON field, the message naming the flag.
 * --config is not a field: tcn_node_config_from_args handles it. */
int tcn_node_config_apply_flag(tcn_node_config *c, const char *flag, const char *value, tcn_error *err)
    TCN_MUST_CHECK;
/* True when flag exists and takes a value (sets *takes_value). */
bool tcn_node_config_flag_known(const char *flag, bool *takes_value);

/* Checks what involves several fields and fills the defaults that depend on
 * others (name, evidence_max_age_ms, the default or inline policy). Pure. */
int tcn_node_config_finish(tcn_node_config *c, tcn_error *err) TCN_MUST_CHECK;

/* The I/O a checked configuration needs before use: reads "policy": "FILE",
 * and with tee sim loads sim_platform_key (so a missing or malformed key is
 * reported now) and, when no policy was given, accepts peers signed by that
 * platform key. Call after tcn_node_config_finish. */
int tcn_node_config_resolve(tcn_node_config *c, tcn_error *err) TCN_MUST_CHECK;

/* Defaults, then --config FILE (anywhere in argv), then the other flags in
 * order, then finish and resolve. argv holds flags only (no program name).
 * Usage mistakes (unknown flag, missing value, a flag given twice) are
 * TCN_ERR_USAGE; bad values TCN_ERR_CONFIG. */
int tcn_node_config_from_args(int argc, char *const *argv, tcn_node_config *out, tcn_error *err) TCN_MUST_CHECK;

/* The configuration as a JSON object with the file's keys; fed back as a
 * config file it gives the same configuration. The policy is printed as the
 * object in effect. NULL when out of memory. Call after finish. */
json_t *tcn_node_config_to_json(const tcn_node_config *c);

const char *tcn_node_tee_name(tcn_node_tee t); /* "sim", "gramine", "nitro"; "" when unset */

#endif
