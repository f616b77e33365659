/* Signed client requests (docs/API.md "Signing"): the canonical string, the
 * client's signature, the server's checks, and the replay cache. Shared by
 * the API server (api.c) and the client library (cli/client.c).
 *
 * A request that changes state carries
 *   X-Tcn-Key:       base58 Ed25519 public key of the client
 *   X-Tcn-Timestamp: unix milliseconds, decimal, no sign, no leading zero
 *   X-Tcn-Signature: base58 Ed25519 signature over
 *     "tcn-request-v1\n" METHOD "\n" PATH "\n" TIMESTAMP "\n" GROUP_HEX "\n" hex(SHA-256(body))
 * PATH is the request target as sent (with its query); GROUP_HEX the
 * network's 16-byte group id in lowercase hex, so a signature is good for one
 * network only. The node accepts a timestamp within TCN_API_REQUEST_SKEW_MS
 * of its clock and each signature once (the replay cache below).
 *
 * Honest limit: the replay cache is per node. A request replayed to another
 * node within the skew window after a failover (the new leader never saw it)
 * is not caught by the cache. What such a replay can do is bounded by what
 * the command is: CLIENT_SET and POLICY_SET set again what they set (which
 * may undo a later change); KEY_IMPORT of
 * the same key is refused by the state (its public key is known); a
 * replayed SWAP_CREATE or PAYOUT_SCHEDULE would create a second swap or
 * payout. The optional replay guard (api.h leader_since_ms) closes the gap
 * at the price of refusing writes for ~35 s after a failover; docs/API.md. */
#ifndef TCN_NODE_REQSIG_H
#define TCN_NODE_REQSIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chain/limits.h"
#include "chain/types.h"
#include "node/api_limits.h"
#include "util/buf.h"
#include "util/err.h"

#define TCN_REQSIG_GROUP_ID_LEN 16u

/* Which check refused a signed request (the word the 401 answer names). */
typedef enum {
    TCN_REQSIG_OK = 0,
    TCN_REQSIG_MISSING,    /* "missing": a header absent */
    TCN_REQSIG_MALFORMED,  /* "malformed": a header not base58 of the right length, or a bad timestamp */
    TCN_REQSIG_TIMESTAMP,  /* "timestamp": outside the skew window */
    TCN_REQSIG_SIGNATURE,  /* "signature": does not verify */
    TCN_REQSIG_REPLAY,     /* "replay": this signature was seen before */
    TCN_REQSIG_CHECK_COUNT_
} tcn_reqsig_check;

const char *tcn_reqsig_check_name(tcn_reqsig_check c);

/* Appends the canonical string to out. */
int tcn_reqsig_canonical(const char *method, const char *path, const char *ts_text,
                         const uint8_t group_id[TCN_REQSIG_GROUP_ID_LEN], const uint8_t *body, size_t body_len,
                         tcn_buf *out, tcn_error *err) TCN_MUST_CHECK;

/* The three header values a client sends. */
typedef struct tcn_reqsig_headers {
    char key[TCN_CHAIN_BASE58_PUBKEY_CHARS];
    char ts[TCN_REQSIG_TS_CHARS_MAX + 1];
    char sig[TCN_CHAIN_BASE58_SIGNATURE_CHARS];
} tcn_reqsig_headers;

/* Signs with the Ed25519 seed (32 bytes, RFC 8032); the expanded secret key
 * is wiped before returning. */
int tcn_reqsig_sign(const uint8_t seed[TCN_CHAIN_SEED_LEN], const char *method, const char *path, uint64_t ts_ms,
                    const uint8_t group_id[TCN_REQSIG_GROUP_ID_LEN], const uint8_t *body, size_t body_len,
                    tcn_reqsig_headers *out, tcn_error *err) TCN_MUST_CHECK;

/* What a verified request says. */
typedef struct tcn_reqsig_verified {
    tcn_chain_pubkey key;
    tcn_chain_signature sig;
    uint64_t ts_ms;
} tcn_reqsig_verified;

/* The stateless checks, in order: headers present (NULL = absent), well
 * formed, timestamp within skew_ms of now_ms, signature. Returns TCN_OK, or
 * the refusal (MALFORMED, EXPIRED, BAD_SIGNATURE) with *check naming the
 * check and err saying why.
 * Pure (no clock: now_ms comes in). */
int tcn_reqsig_verify(const char *key_h, const char *ts_h, const char *sig_h, const char *method, const char *path,
                      const uint8_t group_id[TCN_REQSIG_GROUP_ID_LEN], const uint8_t *body, size_t body_len,
                      uint64_t now_ms, uint64_t skew_ms, tcn_reqsig_verified *out, tcn_reqsig_check *check,
                      tcn_error *err) TCN_MUST_CHECK;

/* ---- the replay cache --------------------------------------------------------
 * Remembers each accepted signature until its timestamp + skew has passed
 * (after that the timestamp check refuses it anyway). Holds at most
 * `entries_max` signatures, as 16-byte keyed hashes (BLAKE2b with a random
 * key, so nobody can aim collisions at it); when full of live entries it
 * refuses new ones rather than forget one early. */
typedef struct tcn_reqsig_cache tcn_reqsig_cache;

int tcn_reqsig_cache_new(size_t entries_max, uint64_t skew_ms, tcn_reqsig_cache **out, tcn_error *err)
    TCN_MUST_CHECK;
void tcn_reqsig_cache_free(tcn_reqsig_cache *c);
/* TCN_OK: new, remembered. TCN_ERR_BAD_SIGNATURE: seen before (a replay).
 * TCN_ERR_BUSY: the cache is full of live entries. */
int tcn_reqsig_cache_insert(tcn_reqsig_cache *c, const tcn_chain_signature *sig, uint64_t ts_ms, uint64_t now_ms)
    TCN_MUST_CHECK;
size_t tcn_reqsig_cache_count(const tcn_reqsig_cache *c); /* live and expired slots in use */

#endif
