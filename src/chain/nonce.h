/* Nonce accounts: the 80-byte state layout and the durable nonce value
 * derived from a blockhash (solana-nonce state/versions). */
#ifndef TCN_CHAIN_NONCE_H
#define TCN_CHAIN_NONCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chain/limits.h"
#include "chain/types.h"
#include "util/err.h"

/* bincode Versions::{Legacy=0, Current=1}, State::{Uninitialized=0, Initialized=1}. */
#define TCN_CHAIN_NONCE_VERSION_LEGACY 0u
#define TCN_CHAIN_NONCE_VERSION_CURRENT 1u
#define TCN_CHAIN_NONCE_UNINITIALIZED 0u
#define TCN_CHAIN_NONCE_INITIALIZED 1u

typedef struct tcn_chain_nonce_state {
    uint32_t version;
    uint32_t state;
    tcn_chain_pubkey authority;     /* Initialized only */
    tcn_chain_hash durable_nonce;   /* Initialized only: bytes 40..72 */
    uint64_t lamports_per_signature; /* Initialized only */
} tcn_chain_nonce_state;

/* Reads nonce account data.
 * strict: exactly TCN_CHAIN_NONCE_ACCOUNT_BYTES and initialized — for code
 *   that reads a nonce account it relies on (the coordinator).
 * !strict: as the runtime's bincode get_state does — the fields the state
 *   needs must be present, more bytes are ignored; a version or state
 *   outside {0, 1} is malformed (the runtime's InvalidAccountData). */
int tcn_chain_nonce_parse(const uint8_t *data, size_t len, bool strict, tcn_chain_nonce_state *out, tcn_error *err)
    TCN_MUST_CHECK;
/* Writes Versions::Current(state) (what the runtime's set_state writes):
 * 80 bytes when initialized, 8 when not; returns the bytes written, or 0
 * when cap is too small (the runtime's AccountDataTooSmall). */
size_t tcn_chain_nonce_serialize(const tcn_chain_nonce_state *st, uint8_t *out, size_t cap);

/* DurableNonce::from_blockhash: SHA-256("DURABLE_NONCE" ‖ blockhash). The
 * prefix keeps nonce values apart from every real blockhash, so a nonce
 * value can never pass as a recent blockhash (solana-nonce state/current.rs). */
void tcn_chain_durable_nonce_from_blockhash(const tcn_chain_hash *blockhash, tcn_chain_hash *out);

#endif
