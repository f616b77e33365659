/* Ed25519 signing keys for the chain, held in secure memory. */
#ifndef TCN_CHAIN_KEYPAIR_H
#define TCN_CHAIN_KEYPAIR_H

#include <stddef.h>
#include <stdint.h>

#include "chain/types.h"
#include "util/err.h"

/* Opaque: lives in tcn_secure_alloc memory (guard pages, locked, wiped on
 * free). No function returns or prints the secret half. */
typedef struct tcn_chain_keypair tcn_chain_keypair;

/* Derives the key pair of a 32-byte Ed25519 seed (RFC 8032 §5.1.5; the
 * seed is what Solana's Keypair.fromSeed takes). The caller wipes its copy
 * of the seed. */
int tcn_chain_keypair_from_seed(const uint8_t seed[TCN_CHAIN_SEED_LEN], tcn_chain_keypair **out, tcn_error *err)
    TCN_MUST_CHECK;
/* Wipes and frees; NULL is accepted. */
void tcn_chain_keypair_free(tcn_chain_keypair *kp);
const tcn_chain_pubkey *tcn_chain_keypair_pubkey(const tcn_chain_keypair *kp);
/* Ed25519 signature of msg (deterministic: RFC 8032). */
int tcn_chain_keypair_sign(const tcn_chain_keypair *kp, const uint8_t *msg, size_t len, tcn_chain_signature *out,
                           tcn_error *err) TCN_MUST_CHECK;
/* True when sig is a valid Ed25519 signature of msg by pk (libsodium's
 * checks: canonical encodings, no small-order keys). */
bool tcn_chain_verify(const tcn_chain_pubkey *pk, const uint8_t *msg, size_t len, const tcn_chain_signature *sig);

#endif
