/* The client library of the tcn API (docs/API.md): HTTPS to a node with the
 * RA-TLS check of its certificate run inside the TLS handshake, signed
 * writes (node/reqsig.h), and 307 redirects to the leader followed with the
 * same pins (every hop attests afresh).
 *
 * Built on libcurl: its CURLOPT_SSL_CTX_FUNCTION hook hands us the
 * SSL_CTX before the handshake, where we replace certificate-chain
 * building with tcn_ratls_verify_cert (SSL_CTX_set_cert_verify_callback),
 * so no byte is sent to a node whose evidence the pins refuse. curl gives
 * us blocking requests, timeouts, chunked answers and proxies for free;
 * libevent's evhttp client would need an event loop per call for the
 * same result. Session resumption is off (a resumed session skips the
 * certificate, and with it the attestation).
 *
 * Does not include state/state.h (see node/api.h on the two tcn_policy). */
#ifndef TCN_CLI_CLIENT_H
#define TCN_CLI_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "attest/claims.h"
#include "chain/limits.h"
#include "node/api_limits.h"
#include "util/err.h"

#define TCN_CLIENT_GROUP_ID_LEN 16u
#define TCN_CLIENT_SEED_LEN 32u
#define TCN_CLIENT_ANSWER_MAX (4u * 1024u * 1024u) /* bytes of an answer we read */
#define TCN_CLIENT_TIMEOUT_MS_DEFAULT 30000L       /* a swap create may wait 15 s for its refund */
#define TCN_CLIENT_URL_MAX 1024u
#define TCN_CLIENT_PINS_FILE_MAX (16u * 1024u)

/* What the user expects of the network (DESIGN §4: measurement and group id). */
typedef struct tcn_client_pins {
    bool has_measurement;
    size_t measurement_len; /* 32 (MRENCLAVE) or 48 (sim, Nitro PCR0, MRTD) */
    uint8_t measurement[TCN_MEASUREMENT_MAX];
    bool has_group;
    uint8_t group_id[TCN_CLIENT_GROUP_ID_LEN];
    bool has_sim_key; /* development networks: the sim platform key plays the vendor */
    uint8_t sim_key[32];
} tcn_client_pins;

typedef struct tcn_client_config {
    tcn_client_pins pins;
    /* Connect even when the node's certificate is refused (or nothing is
     * pinned) and report what was seen: `tcn verify` only. */
    bool allow_unverified;
    bool has_key;
    uint8_t seed[TCN_CLIENT_SEED_LEN]; /* secret: the client's Ed25519 seed */
    long timeout_ms;                   /* 0: TCN_CLIENT_TIMEOUT_MS_DEFAULT */
} tcn_client_config;

typedef struct tcn_client tcn_client;

/* Copies cfg (and wipes nothing of the caller's: wipe your seed). Without
 * a pinned measurement only allow_unverified clients may be made. */
int tcn_client_new(const tcn_client_config *cfg, tcn_client **out, tcn_error *err) TCN_MUST_CHECK;
void tcn_client_free(tcn_client *c); /* wipes the seed */
/* The client's public key in base58 (has_key only). */
bool tcn_client_pubkey(const tcn_client *c, char out[TCN_CHAIN_BASE58_PUBKEY_CHARS]);

/* What the last connection's RA-TLS check found. */
typedef struct tcn_client_peer {
    bool checked;      /* a certificate was seen */
    bool verified;     /* accepted by the pins */
    char reason[32];   /* tcn_ratls_reason_name of the refusal ("measurement", ...) or "ok" */
    char error[TCN_ERR_MSG_MAX];
    tcn_claims claims; /* the authentic claims (zero when the evidence was not authentic) */
    bool group_present;
    uint8_t group_id[TCN_CLIENT_GROUP_ID_LEN];
} tcn_client_peer;

typedef struct tcn_client_response {
    long status;
    json_t *body;   /* the answer as JSON (NULL when it is not JSON) */
    char *text;     /* the answer's bytes, NUL-terminated */
    size_t text_len;
    char url[TCN_CLIENT_URL_MAX]; /* the URL that answered (after redirects) */
    unsigned hops;  /* redirects followed */
    tcn_client_peer peer;
} tcn_client_response;

/* One request to base_url ("https://host:port") + path. body NULL: none.
 * sign: add the X-Tcn-* headers (needs a key and a pinned group id).
 * Follows 307 to https URLs, at most TCN_API_REDIRECTS_MAX hops, each
 * attested with the same pins and signed afresh. TCN_OK whenever an answer
 * came (whatever its status); an error when none did: the RA-TLS refusal
 * ("ratls: measurement: ..."), I/O, or too many redirects. out is filled
 * as far as the request went; free it with tcn_client_response_free. */
int tcn_client_request(tcn_client *c, const char *base_url, const char *method, const char *path, const json_t *body,
                       bool sign, tcn_client_response *out, tcn_error *err) TCN_MUST_CHECK;
void tcn_client_response_free(tcn_client_response *r);
/* "message" of an {"error":{...}} answer, or a line about the status. */
const char *tcn_client_error_message(const tcn_client_response *r);
const char *tcn_client_error_code(const tcn_client_response *r); /* "bad_request", ... or "" */

/* pins.json: {"measurement":hex,"group_id":hex,"sim_platform_pubkey":hex}, each optional. */
int tcn_client_load_pins(const char *path, tcn_client_pins *out, tcn_error *err) TCN_MUST_CHECK;
/* A key file: 64 hex characters (the seed) and an optional newline; refused
 * when group- or world-accessible. */
int tcn_client_load_key(const char *path, uint8_t seed[TCN_CLIENT_SEED_LEN], tcn_error *err) TCN_MUST_CHECK;
/* Writes a new random key file (mode 0600; refuses to replace a file) and its public key. */
int tcn_client_keygen(const char *path, char pubkey[TCN_CHAIN_BASE58_PUBKEY_CHARS], tcn_error *err) TCN_MUST_CHECK;

#endif
