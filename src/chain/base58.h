/* Base58 (Bitcoin alphabet) for keys, hashes and signatures, with strict decoding. */
#ifndef TCN_CHAIN_BASE58_H
#define TCN_CHAIN_BASE58_H

#include <stddef.h>
#include <stdint.h>

#include "chain/limits.h"
#include "chain/types.h"
#include "util/err.h"

/* Writes the base58 form of n bytes (n <= TCN_CHAIN_BASE58_BYTES_MAX) and a
 * NUL into out (cap bytes). Each leading zero byte becomes one '1'.
 * TCN_ERR_USAGE when n is too large or out too small. */
int tcn_chain_base58_encode(const uint8_t *in, size_t n, char *out, size_t cap) TCN_MUST_CHECK;

/* Decodes len characters into out (cap bytes). Refuses, naming the reason:
 * a character outside the alphabet (0, O, I, l, anything non-alphanumeric),
 * input longer than TCN_CHAIN_BASE58_CHARS_MAX, and a value that does not
 * fit in cap bytes. The encoding is canonical: encoding the result gives
 * the input back. */
int tcn_chain_base58_decode(const char *s, size_t len, uint8_t *out, size_t cap, size_t *out_len,
                            tcn_error *err) TCN_MUST_CHECK;
/* Like tcn_chain_base58_decode, but exactly want bytes: a 32-byte key or a
 * 64-byte signature; `what` names the field in the error. */
int tcn_chain_base58_decode_exact(const char *s, size_t len, uint8_t *out, size_t want, const char *what,
                                  tcn_error *err) TCN_MUST_CHECK;

/* NUL-terminated conveniences. */
int tcn_chain_pubkey_from_base58(const char *s, tcn_chain_pubkey *out, tcn_error *err) TCN_MUST_CHECK;
int tcn_chain_hash_from_base58(const char *s, tcn_chain_hash *out, tcn_error *err) TCN_MUST_CHECK;
int tcn_chain_signature_from_base58(const char *s, tcn_chain_signature *out, tcn_error *err) TCN_MUST_CHECK;
void tcn_chain_pubkey_to_base58(const tcn_chain_pubkey *pk, char out[TCN_CHAIN_BASE58_PUBKEY_CHARS]);
void tcn_chain_hash_to_base58(const tcn_chain_hash *h, char out[TCN_CHAIN_BASE58_PUBKEY_CHARS]);
void tcn_chain_signature_to_base58(const tcn_chain_signature *s, char out[TCN_CHAIN_BASE58_SIGNATURE_CHARS]);

/* Orders two base58 strings as web3.js sorts account keys
 * (String.localeCompare with locale "en", caseFirst "lower", ICU collation):
 * first case-insensitively with digits before letters, then, when that ties,
 * at the first position where the case differs, lowercase first. Returns <0,
 * 0 or >0. Only meaningful for strings of the base58 alphabet. */
int tcn_chain_base58_collate(const char *a, const char *b);

#endif
