/* Every limit and constant of the chain layer, named, with its source. */
#ifndef TCN_CHAIN_LIMITS_H
#define TCN_CHAIN_LIMITS_H

/* --- Wire format ------------------------------------------------------- */

/* Largest serialized transaction (Solana docs "Transactions": 1232 bytes =
 * IPv6 MTU 1280 - 48 bytes of headers; solana-packet PACKET_DATA_SIZE). */
#define TCN_CHAIN_PACKET_BYTES_MAX 1232u
/* Account keys of one message. Agave refuses more than 64 account locks per
 * transaction (MAX_TX_ACCOUNT_LOCKS, TooManyAccountLocks); a 1232-byte
 * packet holds at most 35 anyway. */
#define TCN_CHAIN_MESSAGE_KEYS_MAX 64u
/* Top-level instructions of one message: Agave's instruction trace holds at
 * most 64 (MAX_INSTRUCTION_TRACE_LENGTH), so more can never execute. */
#define TCN_CHAIN_MESSAGE_INSTRUCTIONS_MAX 64u
/* Signatures: one per required signer, never more than the keys. */
#define TCN_CHAIN_TX_SIGNATURES_MAX TCN_CHAIN_MESSAGE_KEYS_MAX
/* compact-u16 ("short_vec", solana-short-vec): 1 to 3 bytes, values <= 0xffff. */
#define TCN_CHAIN_SHORTVEC_BYTES_MAX 3u
/* The high bit of a message's first byte marks a versioned message
 * (solana-message MESSAGE_VERSION_PREFIX); only legacy messages are supported. */
#define TCN_CHAIN_MESSAGE_VERSION_PREFIX 0x80u

/* --- Instruction building (our own bound, enough for the System program) */

#define TCN_CHAIN_IX_ACCOUNTS_MAX 8u
#define TCN_CHAIN_IX_DATA_MAX 64u

/* --- base58 -------------------------------------------------------------- */

/* A 64-byte signature is at most 88 characters; refuse longer input before
 * doing any arithmetic on it. */
#define TCN_CHAIN_BASE58_CHARS_MAX 128u
#define TCN_CHAIN_BASE58_BYTES_MAX 96u
/* Characters for a 32-byte key (44) or a 64-byte signature (88), with NUL. */
#define TCN_CHAIN_BASE58_PUBKEY_CHARS 45u
#define TCN_CHAIN_BASE58_SIGNATURE_CHARS 89u

/* --- Fees, rent, nonces (the values the vectors' runtime used) ----------- */

/* solana-fee-calculator DEFAULT_TARGET_LAMPORTS_PER_SIGNATURE / 2 = 5000. */
#define TCN_CHAIN_LAMPORTS_PER_SIGNATURE 5000u
/* solana-rent defaults: minimum_balance(len) =
 * (ACCOUNT_STORAGE_OVERHEAD + len) * DEFAULT_LAMPORTS_PER_BYTE_YEAR * DEFAULT_EXEMPTION_THRESHOLD. */
#define TCN_CHAIN_RENT_ACCOUNT_STORAGE_OVERHEAD 128u
#define TCN_CHAIN_RENT_LAMPORTS_PER_BYTE_YEAR 3480u
#define TCN_CHAIN_RENT_EXEMPTION_THRESHOLD 2u
/* solana-system-interface MAX_PERMITTED_DATA_LENGTH: 10 MiB. */
#define TCN_CHAIN_ACCOUNT_DATA_MAX (10u * 1024u * 1024u)
/* solana-nonce State::size(): u32 version, u32 state, authority 32,
 * durable nonce 32, lamports_per_signature u64. */
#define TCN_CHAIN_NONCE_ACCOUNT_BYTES 80u
#define TCN_CHAIN_NONCE_OFF_AUTHORITY 8u
#define TCN_CHAIN_NONCE_OFF_VALUE 40u
#define TCN_CHAIN_NONCE_OFF_LAMPORTS_PER_SIGNATURE 72u

/* --- Blockhash queue ----------------------------------------------------- */

/* A blockhash is usable for 150 slots (solana-clock MAX_PROCESSING_AGE;
 * Agave BlockhashQueue::get_hash_info_if_valid: age <= max_age). */
#define TCN_CHAIN_MAX_PROCESSING_AGE 150u

#endif
