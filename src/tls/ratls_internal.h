/* What the files of src/tls share and nothing else may use. */
#ifndef TCN_TLS_RATLS_INTERNAL_H
#define TCN_TLS_RATLS_INTERNAL_H

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "tls/ratls.h"

struct tcn_ratls_identity {
    EVP_PKEY *key;          /* P-256 key pair; the private half stays here (and in SSL_CTXs by reference) */
    X509 *cert;             /* current certificate */
    tcn_buf evidence;       /* the evidence the current certificate carries */
    tcn_provider *provider; /* borrowed */
    size_t spki_len;
    uint8_t spki[TCN_RATLS_SPKI_MAX];
    uint8_t key_hash[TCN_RATLS_KEY_HASH_LEN];
    bool group_present;
    uint8_t group_id[TCN_RATLS_GROUP_ID_LEN];
};

/* The claims for our key (pubkey-hash SHA-256 of our SPKI, the group if set,
 * the nonce if given), our provider's evidence over SHA-512 of their
 * encoding, and the extension value holding both, appended to ext_out. The
 * evidence alone is appended to ev_out when non-NULL. */
int tcn_ratls_identity_attest(const tcn_ratls_identity *id, const uint8_t *nonce, size_t nonce_len,
                              const bool *group_present, const uint8_t *group_id, tcn_buf *ext_out,
                              tcn_buf *ev_out, tcn_error *err) TCN_MUST_CHECK;

/* Checks an extension value bound to spki, from the CBOR on (the part a
 * certificate and a fresh-evidence blob share). key_reason: the reason for a
 * pubkey-hash that is not spki's (PUBKEY_HASH for a certificate, PEER_KEY
 * for fresh evidence). nonce: required "nonce" claim, or NULL. Fills out
 * (spki, key hash, reason, claims, group, attested_at_ms). */
int tcn_ratls_verify_ext(const uint8_t *ext, size_t ext_len, const uint8_t *spki, size_t spki_len,
                         const tcn_ratls_policy *pol, int64_t now_ms, const uint8_t *nonce, size_t nonce_len,
                         tcn_ratls_reason key_reason, tcn_ratls_peer *out, tcn_error *err) TCN_MUST_CHECK;

/* Sets out->reason and the error ("ratls: <message>"); returns code. */
int tcn_ratls_refuse(tcn_ratls_peer *out, tcn_ratls_reason reason, tcn_error *err, int code, const char *fmt, ...)
    TCN_PRINTF(5, 6);

#endif
