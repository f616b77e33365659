/* RA-TLS (DESIGN §4 Binding, §5): a self-signed X.509 certificate carrying TEE
 * evidence bound to the TLS key, its verification, and OpenSSL TLS 1.3
 * contexts whose verify callback runs that verification on the peer.
 *
 * Format (docs/RATLS.md has it byte by byte): the CCC "Interoperable RA-TLS"
 * draft (CCC-Attestation/interoperable-ra-tls, docs/Interoperable-RA-TLS-
 * cert-edvidence-formats.md and -SGX-TDX-evidence-formats.md), as Gramine
 * 1.8 writes it (tools/sgx/ra-tls/ra_tls_attest.c):
 *   extension OID 2.23.133.5.4.9 (TCG DICE tagged evidence), non-critical,
 *   extnValue = tag(T)[ bstr evidence, bstr claims ]
 *   claims    = { ? "nonce": bstr, ? "tcn-group": bstr .size 16,
 *                 "pubkey-hash": bstr .cbor [hash-alg-id, bstr hash(DER SPKI)] }
 * Where we differ from the draft / Gramine:
 *   - report data = SHA-512(claims), all 64 bytes (DESIGN §4); the draft and
 *     Gramine put SHA-256(claims) in the first 32 bytes, so Gramine's verifier
 *     refuses our binding (it can still parse the certificate);
 *   - T: 60000 (IANA "Intel TEE quote") for SGX/TDX quotes as the draft says;
 *     the draft has no tag for Nitro or for our simulated TEE, so those use
 *     two unregistered tags of our own (below);
 *   - the claim "tcn-group" is ours (the draft's verifiers ignore unknown
 *     claims; ours refuses any claim it does not know). */
#ifndef TCN_TLS_RATLS_H
#define TCN_TLS_RATLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "attest/claims.h"
#include "attest/dcap.h"
#include "attest/evidence.h"
#include "attest/policy.h"
#include "attest/provider.h"
#include "util/buf.h"
#include "util/err.h"

/* ---- limits and constants --------------------------------------------------- */

#define TCN_RATLS_OID "2.23.133.5.4.9" /* tcg-dice-tagged-evidence */
/* CBOR tags of the evidence (the tag names the evidence format). */
#define TCN_RATLS_TAG_INTEL_QUOTE 60000u      /* IANA: Intel TEE quote (SGX and TDX ECDSA quotes) */
#define TCN_RATLS_TAG_NITRO 0x74636e6eu       /* "tcnn": AWS Nitro COSE_Sign1 document; unregistered */
#define TCN_RATLS_TAG_SIM 0x74636e73u         /* "tcns": tcn sim evidence; unregistered */
/* IANA Named Information Hash Algorithm Registry ids (the draft's hash-alg-id). */
#define TCN_RATLS_HASH_SHA256 1
#define TCN_RATLS_HASH_SHA384 7
#define TCN_RATLS_HASH_SHA512 8
#define TCN_RATLS_HASH_MAX 64

#define TCN_RATLS_GROUP_ID_LEN 16   /* DESIGN §4 Group id */
#define TCN_RATLS_CHALLENGE_LEN 32  /* re-attestation nonce */
#define TCN_RATLS_NONCE_MAX 64      /* a "nonce" claim carried by others' certificates */
#define TCN_RATLS_KEY_HASH_LEN 32   /* SHA-256 of the DER SubjectPublicKeyInfo */
#define TCN_RATLS_SPKI_MAX 1024     /* P-256: 91 bytes; RSA-4096: 550 */
/* The claims map: nonce 64 + group 16 + pubkey-hash (SHA-512) and heads fit easily. */
#define TCN_RATLS_CLAIMS_MAX 256
/* The whole extension value: tag, array head, two byte-string heads. */
#define TCN_RATLS_EXT_MAX (TCN_EVIDENCE_MAX + TCN_RATLS_CLAIMS_MAX + 32)
/* Certificates: short-lived (the node re-issues them, see
 * tcn_ratls_identity_reissue), back-dated a little for clock skew. */
#define TCN_RATLS_CERT_LIFETIME_MS (24LL * 3600 * 1000)
#define TCN_RATLS_CERT_BACKDATE_MS (3600LL * 1000)

/* ---- the evidence extension: encode and parse (pure, ext.c) ----------------- */

/* The draft's custom claims (not tcn_claims, which are what the TEE says). */
typedef struct tcn_ratls_claims {
    uint64_t hash_alg; /* TCN_RATLS_HASH_* */
    size_t hash_len;   /* 32, 48 or 64, as hash_alg says */
    uint8_t hash[TCN_RATLS_HASH_MAX];
    bool group_present;
    uint8_t group_id[TCN_RATLS_GROUP_ID_LEN];
    bool nonce_present;
    size_t nonce_len; /* 1..TCN_RATLS_NONCE_MAX */
    uint8_t nonce[TCN_RATLS_NONCE_MAX];
} tcn_ratls_claims;

/* A parsed extension. evidence and claims_raw borrow from the parsed input. */
typedef struct tcn_ratls_ext {
    uint64_t tag;
    const uint8_t *evidence;
    size_t evidence_len;
    const uint8_t *claims_raw; /* the claims bytes as carried: what report data hashes */
    size_t claims_len;
    tcn_ratls_claims claims;
} tcn_ratls_ext;

/* Deterministic encoding (RFC 8949 §4.2.1: shortest heads, map keys in
 * bytewise order of their encodings: "nonce", "tcn-group", "pubkey-hash"). */
int tcn_ratls_claims_encode(const tcn_ratls_claims *c, tcn_buf *out, tcn_error *err) TCN_MUST_CHECK;
/* Strict: exactly one definite map, shortest heads, known keys once each in
 * deterministic order, exact value shapes, "pubkey-hash" required, nothing
 * after the map. */
int tcn_ratls_claims_parse(const uint8_t *p, size_t len, tcn_ratls_claims *out, tcn_error *err) TCN_MUST_CHECK;
int tcn_ratls_ext_encode(uint64_t tag, const uint8_t *evidence, size_t evidence_len, const uint8_t *claims,
                         size_t claims_len, tcn_buf *out, tcn_error *err) TCN_MUST_CHECK;
/* Strict: one tag of ours holding exactly [bstr, bstr], lengths within the
 * limits above, shortest heads, nothing after; then the claims as above.
 * Errors are TCN_ERR_TRUNCATED / MALFORMED / TOO_LARGE / UNSUPPORTED. */
int tcn_ratls_ext_parse(const uint8_t *p, size_t len, tcn_ratls_ext *out, tcn_error *err) TCN_MUST_CHECK;
/* The tag for evidence of a TEE type (0 for none); whether a tag names
 * evidence of type t (60000 covers SGX and TDX). */
uint64_t tcn_ratls_tag_for(tcn_tee_type t);
bool tcn_ratls_tag_accepts(uint64_t tag, tcn_tee_type t);

/* ---- verification policy --------------------------------------------------- */

/* Plain value; copyable. collateral is borrowed: it must outlive every use of
 * the policy (including SSL_CTXs that hold a copy). */
typedef struct tcn_ratls_policy {
    /* TEE types, measurements ('self' + allow-list), SVN, TCB statuses,
     * debug, maximum evidence age, sim platform keys: the attestation
     * layer's policy, with its meaning (docs/ATTESTATION.md). */
    tcn_policy attest;
    const tcn_dcap_collateral *collateral; /* SGX/TDX quotes need it; NULL refuses them */
    bool group_pinned;                      /* refuse peers without this group id */
    uint8_t group_id[TCN_RATLS_GROUP_ID_LEN];
    /* With group_pinned: accept a peer whose certificate carries no group
     * at all (a node that is not a member yet and asks to join; it runs
     * approved code, so it may learn the state) while still refusing any
     * other group. Peers set it; clients pinning a network never do. */
    bool group_absent_ok;
    int64_t now_ms; /* verification time; 0: the wall clock at each verification */
} tcn_ratls_policy;

/* For peers: SGX, TDX, Nitro; measurement 'self' only (unknown until
 * tcn_ratls_policy_set_self, so everything is refused until then); the
 * attestation defaults otherwise; no sim; no group pinned. */
void tcn_ratls_policy_default(tcn_ratls_policy *p);
int tcn_ratls_policy_set_self(tcn_ratls_policy *p, const uint8_t *measurement, size_t len, tcn_error *err)
    TCN_MUST_CHECK;
void tcn_ratls_policy_pin_group(tcn_ratls_policy *p, const uint8_t group_id[TCN_RATLS_GROUP_ID_LEN]);

/* ---- verification (verify.c) ------------------------------------------------ */

/* Which check refused a peer: one value per check, in the order they run. */
typedef enum {
    TCN_RATLS_OK = 0,
    TCN_RATLS_NO_CERT,         /* no certificate, or more than one */
    TCN_RATLS_CERT,            /* not a self-issued X.509 v3 certificate we can read */
    TCN_RATLS_CERT_VALIDITY,   /* outside notBefore..notAfter */
    TCN_RATLS_SELF_SIGNATURE,  /* not signed by its own key */
    TCN_RATLS_NO_EXTENSION,    /* no evidence extension */
    TCN_RATLS_DUP_EXTENSION,   /* more than one */
    TCN_RATLS_EXT_MALFORMED,   /* the extension's CBOR */
    TCN_RATLS_PUBKEY_HASH,     /* "pubkey-hash" is not the hash of the certificate's key */
    TCN_RATLS_PEER_KEY,        /* fresh evidence bound to another key than the channel's peer */
    TCN_RATLS_TAG_MISMATCH,    /* the tag names another evidence format than the one carried */
    TCN_RATLS_EVIDENCE,        /* evidence not authentic (the attestation layer's code is kept) */
    TCN_RATLS_EVIDENCE_POLICY, /* authentic, refused by the attestation policy (TEE, sim key, debug, SVN, TCB) */
    TCN_RATLS_REPORT_DATA,     /* report data is not SHA-512 of the claims carried */
    TCN_RATLS_NONCE,           /* fresh evidence without our challenge */
    TCN_RATLS_MEASUREMENT,     /* not self and not in the allow-list */
    TCN_RATLS_GROUP_MISSING,   /* group pinned, claim absent */
    TCN_RATLS_GROUP_MISMATCH,  /* another group */
    TCN_RATLS_EVIDENCE_AGE,    /* older than the policy's maximum age (or dated in the future) */
    TCN_RATLS_REASON_COUNT_    /* not a reason */
} tcn_ratls_reason;

/* "measurement", "pubkey-hash", ... (the word logs and docs use). */
const char *tcn_ratls_reason_name(tcn_ratls_reason r);

/* What a verification found. Plain value; copyable. */
typedef struct tcn_ratls_peer {
    tcn_ratls_reason reason; /* TCN_RATLS_OK when accepted; else the check that refused */
    /* Accepted: the verified claims. Refused after the evidence was found
     * authentic: the authentic claims the later check refused. Else zero. */
    tcn_claims claims;
    uint8_t key_hash[TCN_RATLS_KEY_HASH_LEN]; /* SHA-256 of the peer's DER SPKI: its identity for this boot */
    size_t spki_len;
    uint8_t spki[TCN_RATLS_SPKI_MAX];
    bool group_present;
    uint8_t group_id[TCN_RATLS_GROUP_ID_LEN];
    /* The evidence's own time when it has one (sim, Nitro); else the
     * verification time (SGX/TDX quotes carry none). */
    int64_t attested_at_ms;
} tcn_ratls_peer;

/* Verifies a peer's certificate, in this order: certificate shape (v3,
 * self-issued, no unknown critical extension), validity window, self-
 * signature, exactly one evidence extension, its CBOR, pubkey-hash = hash of
 * the certificate's own SPKI, tag = evidence format, evidence authentic
 * (tcn_evidence_verify: sim only when the policy names the platform key;
 * SGX/TDX with pol->collateral), report data = SHA-512(claims as carried),
 * measurement (self or allow-list), group id when pinned, evidence age, and
 * the rest of the attestation policy. On refusal out->reason names the check,
 * the return code is the error's category (MALFORMED, BAD_SIGNATURE, BINDING,
 * POLICY, ...) and err->msg reads "ratls: <check>: <what was found>". */
int tcn_ratls_verify_cert(X509 *cert, const tcn_ratls_policy *pol, tcn_ratls_peer *out, tcn_error *err)
    TCN_MUST_CHECK;
int tcn_ratls_verify_der(const uint8_t *der, size_t len, const tcn_ratls_policy *pol, tcn_ratls_peer *out,
                         tcn_error *err) TCN_MUST_CHECK;

/* True when the peer's last attestation is older than the policy's maximum
 * age at now_ms (never when the policy sets none): the node drops it. */
bool tcn_ratls_peer_is_stale(const tcn_ratls_peer *p, const tcn_ratls_policy *pol, int64_t now_ms);

/* ---- identity at boot (cert.c) ---------------------------------------------- */

/* Our TLS key pair (P-256, generated in this process, i.e. inside the TEE),
 * our evidence binding it, and the self-signed certificate carrying both.
 * Opaque: the private key never leaves it (OpenSSL clears it on free). */
typedef struct tcn_ratls_identity tcn_ratls_identity;

/* Generates the key, asks prov for evidence over SHA-512(claims) and signs the
 * certificate. group_id: NULL until the node is a member. prov is borrowed:
 * keep it alive while the identity lives (re-issue and re-attestation use it). */
int tcn_ratls_identity_new(tcn_provider *prov, const uint8_t *group_id, tcn_ratls_identity **out, tcn_error *err)
    TCN_MUST_CHECK;
/* Fresh evidence and a new certificate for the same key: on a timer (before
 * the certificate or its evidence ages out) and once the group id is known
 * (group_id NULL keeps the current one; a different group than the one set
 * is TCN_ERR_USAGE). SSL_CTXs keep the old certificate until
 * tcn_ratls_ctx_set_identity. On failure the identity is unchanged. */
int tcn_ratls_identity_reissue(tcn_ratls_identity *id, const uint8_t *group_id, tcn_error *err) TCN_MUST_CHECK;
void tcn_ratls_identity_free(tcn_ratls_identity *id);

X509 *tcn_ratls_identity_cert(const tcn_ratls_identity *id); /* borrowed */
int tcn_ratls_identity_cert_der(const tcn_ratls_identity *id, tcn_buf *out, tcn_error *err) TCN_MUST_CHECK;
const uint8_t *tcn_ratls_identity_key_hash(const tcn_ratls_identity *id); /* TCN_RATLS_KEY_HASH_LEN bytes */
bool tcn_ratls_identity_group(const tcn_ratls_identity *id, uint8_t out[TCN_RATLS_GROUP_ID_LEN]);
/* Our own measurement as our own evidence states it (sim: SHA-384 of the
 * binary; SGX: MRENCLAVE; TDX: MRTD; Nitro: PCR0): what 'self' means. */
int tcn_ratls_identity_measurement(const tcn_ratls_identity *id, tcn_policy_measurement *out, tcn_error *err)
    TCN_MUST_CHECK;

/* A self-signed certificate for key carrying ext[0..ext_len) in the evidence
 * extension (non-critical), valid [not_before_ms, not_after_ms], random
 * 127-bit serial, signed with SHA-256 (Ed25519: no digest). The identity uses
 * it; so do tests and tools that build certificates of their own. */
int tcn_ratls_cert_sign(EVP_PKEY *key, const uint8_t *ext, size_t ext_len, int64_t not_before_ms,
                        int64_t not_after_ms, X509 **out, tcn_error *err) TCN_MUST_CHECK;

/* ---- re-attestation over the live channel (fresh.c) -------------------------
 * The verifier sends a random 32-byte challenge; the prover answers with an
 * extension-format blob whose claims hold {"nonce": challenge, "tcn-group",
 * "pubkey-hash" of the same TLS key}, its evidence binding SHA-512 of those
 * claims. The verifier checks it like a certificate's extension, plus: the
 * key is the channel peer's, and the nonce is its challenge. */
int tcn_ratls_fresh_evidence(tcn_ratls_identity *id, const uint8_t challenge[TCN_RATLS_CHALLENGE_LEN], tcn_buf *out,
                             tcn_error *err) TCN_MUST_CHECK;
/* channel: what the handshake verified for this peer. On success *out is the
 * peer's new record (its attested_at_ms restarts the staleness clock). */
int tcn_ratls_verify_fresh(const uint8_t *blob, size_t len, const tcn_ratls_policy *pol, const tcn_ratls_peer *channel,
                           const uint8_t challenge[TCN_RATLS_CHALLENGE_LEN], tcn_ratls_peer *out, tcn_error *err)
    TCN_MUST_CHECK;

/* ---- OpenSSL contexts (ctx.c) ------------------------------------------------
 * TLS 1.3 only (minimum and maximum), no session resumption (every connection
 * attests afresh), no CA store: the verify callback replaces chain building
 * and runs tcn_ratls_verify_cert on the peer's single certificate. A refused
 * peer gets a TLS alert (bad_certificate) and nothing else; the log line says
 * which check failed. The SSL_CTX holds its own copy of the policy. */
typedef enum {
    TCN_RATLS_SERVER = 0,
    TCN_RATLS_CLIENT = 1,
} tcn_ratls_role;

/* server, pol != NULL: mutual (peers), a client certificate is required;
 * server, pol == NULL: server-auth only (users' clients);
 * client: pol required; id != NULL sends our certificate (peers),
 *         id == NULL sends none (users' clients, `tcn verify`). */
int tcn_ratls_ctx_new(tcn_ratls_role role, const tcn_ratls_identity *id, const tcn_ratls_policy *pol, SSL_CTX **out,
                      tcn_error *err) TCN_MUST_CHECK;
/* Replaces the policy new handshakes use (group id learned, allow-list changed). */
int tcn_ratls_ctx_set_policy(SSL_CTX *ctx, const tcn_ratls_policy *pol, tcn_error *err) TCN_MUST_CHECK;
/* Uses the identity's current certificate and key for new handshakes (after a re-issue). */
int tcn_ratls_ctx_set_identity(SSL_CTX *ctx, const tcn_ratls_identity *id, tcn_error *err) TCN_MUST_CHECK;
/* After the handshake: TCN_OK and *out = the verified peer (owned by ssl),
 * or the refusal (code and message), or TCN_ERR_NOT_FOUND when no peer
 * certificate was verified (server-auth only, or none was sent). */
int tcn_ratls_ssl_peer(const SSL *ssl, const tcn_ratls_peer **out, tcn_error *err) TCN_MUST_CHECK;
/* The check that refused the peer's certificate on this connection, or
 * TCN_RATLS_OK when none did (accepted, or not verified yet): for callers
 * that count refusals by check without parsing messages. */
tcn_ratls_reason tcn_ratls_ssl_refusal(const SSL *ssl);
/* Explains a failed SSL_do_handshake (ret is its return value): our refusal
 * when the verify callback refused, else what OpenSSL or the peer's alert
 * says ("TLS 1.3 only", "no certificate", "refused by the peer", I/O). Clears
 * OpenSSL's error queue. Returns the code it set. */
int tcn_ratls_ssl_error(const SSL *ssl, int ret, tcn_error *err);

#endif
