/* Value types of the chain layer: public keys, hashes, signatures, and the well-known program ids. */
#ifndef TCN_CHAIN_TYPES_H
#define TCN_CHAIN_TYPES_H

#include <stdbool.h>
#include <stdint.h>

#define TCN_CHAIN_PUBKEY_LEN 32
#define TCN_CHAIN_HASH_LEN 32
#define TCN_CHAIN_SIGNATURE_LEN 64
#define TCN_CHAIN_SEED_LEN 32 /* Ed25519 seed (RFC 8032 private key) */

/* Plain values: copy them freely; they hold no pointers. */
typedef struct tcn_chain_pubkey {
    uint8_t b[TCN_CHAIN_PUBKEY_LEN];
} tcn_chain_pubkey;

typedef struct tcn_chain_hash {
    uint8_t b[TCN_CHAIN_HASH_LEN];
} tcn_chain_hash;

typedef struct tcn_chain_signature {
    uint8_t b[TCN_CHAIN_SIGNATURE_LEN];
} tcn_chain_signature;

/* Well-known addresses (solana-sdk-ids): "11111111111111111111111111111111",
 * "SysvarRecentB1ockHashes11111111111111111111", "SysvarRent111111111111111111111111111111111",
 * and "Sysvar1111111111111111111111111111111111111" (owner of every sysvar). */
extern const tcn_chain_pubkey tcn_chain_system_program_id;
extern const tcn_chain_pubkey tcn_chain_sysvar_recent_blockhashes_id;
extern const tcn_chain_pubkey tcn_chain_sysvar_rent_id;
extern const tcn_chain_pubkey tcn_chain_sysvar_owner_id;

bool tcn_chain_pubkey_eq(const tcn_chain_pubkey *a, const tcn_chain_pubkey *b);
bool tcn_chain_hash_eq(const tcn_chain_hash *a, const tcn_chain_hash *b);
bool tcn_chain_signature_eq(const tcn_chain_signature *a, const tcn_chain_signature *b);

#endif
