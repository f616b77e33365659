/* Solana legacy messages: the compiled form (header, account keys, recent
 * blockhash, instructions), a web3.js-compatible compiler, strict parsing
 * and canonical encoding. */
#ifndef TCN_CHAIN_MESSAGE_H
#define TCN_CHAIN_MESSAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chain/limits.h"
#include "chain/types.h"
#include "util/buf.h"
#include "util/cursor.h"
#include "util/err.h"

/* --- Instructions before compilation (web3.js TransactionInstruction) ---- */

typedef struct tcn_chain_account_meta {
    tcn_chain_pubkey pubkey;
    bool is_signer;
    bool is_writable;
} tcn_chain_account_meta;

/* A plain value (no pointers): the System builders fill one. */
typedef struct tcn_chain_ix {
    tcn_chain_pubkey program_id;
    uint8_t n_accounts;
    tcn_chain_account_meta accounts[TCN_CHAIN_IX_ACCOUNTS_MAX];
    uint16_t data_len;
    uint8_t data[TCN_CHAIN_IX_DATA_MAX];
} tcn_chain_ix;

/* --- The compiled message ---------------------------------------------- */

typedef struct tcn_chain_message_header {
    uint8_t num_required_signatures;
    uint8_t num_readonly_signed;
    uint8_t num_readonly_unsigned;
} tcn_chain_message_header;

/* One compiled instruction; its account indexes and data live in the
 * message's arena (offsets, so a message can be copied by value). */
typedef struct tcn_chain_compiled_ix {
    uint8_t program_index;
    uint16_t n_accounts;
    uint16_t accounts_off;
    uint16_t data_len;
    uint16_t data_off;
} tcn_chain_compiled_ix;

/* A plain value (about 4 KiB) that owns everything it holds. */
typedef struct tcn_chain_message {
    tcn_chain_message_header header;
    uint8_t n_keys;
    tcn_chain_pubkey keys[TCN_CHAIN_MESSAGE_KEYS_MAX];
    tcn_chain_hash recent_blockhash;
    uint8_t n_instructions;
    tcn_chain_compiled_ix ix[TCN_CHAIN_MESSAGE_INSTRUCTIONS_MAX];
    uint16_t arena_len;
    uint8_t arena[TCN_CHAIN_PACKET_BYTES_MAX];
} tcn_chain_message;

const uint8_t *tcn_chain_message_ix_accounts(const tcn_chain_message *m, unsigned i);
const uint8_t *tcn_chain_message_ix_data(const tcn_chain_message *m, unsigned i);
/* Header rules: the first num_required_signatures keys sign; within the
 * signers and within the others the read-only ones come last. (The runtime
 * further demotes program ids and sysvars to read-only: see model.c.) */
bool tcn_chain_message_is_signer(const tcn_chain_message *m, unsigned key_index);
bool tcn_chain_message_is_writable_index(const tcn_chain_message *m, unsigned key_index);
/* Index of key in m->keys, or -1. */
int tcn_chain_message_key_index(const tcn_chain_message *m, const tcn_chain_pubkey *key);

/* Compiles instructions as @solana/web3.js 1.x Transaction.compileMessage
 * does: account metas of every instruction in order, then each program id
 * (read-only, not a signer); duplicates merged (signer and writable OR-ed);
 * sorted signers first, then writable first, then by base58 string
 * (tcn_chain_base58_collate); the fee payer moved to the front as a
 * writable signer. Header counts and instruction indexes follow. */
int tcn_chain_message_compile(const tcn_chain_pubkey *fee_payer, const tcn_chain_hash *recent_blockhash,
                              const tcn_chain_ix *ixs, size_t n_ixs, tcn_chain_message *out, tcn_error *err)
    TCN_MUST_CHECK;

/* Reads one legacy message from the cursor and checks it as Solana's
 * sanitizer does, and more strictly: every length and index in range, header
 * counts consistent (a writable fee payer, signers and read-only counts
 * within the keys), no program at index 0, no duplicate keys, limits of
 * limits.h. A versioned message (high bit of the first byte) is
 * TCN_ERR_UNSUPPORTED. Errors name the field. On failure *out is undefined. */
int tcn_chain_message_parse(tcn_cursor *c, tcn_chain_message *out, tcn_error *err) TCN_MUST_CHECK;
/* The whole of p..p+len must be exactly one message. */
int tcn_chain_message_decode(const uint8_t *p, size_t len, tcn_chain_message *out, tcn_error *err) TCN_MUST_CHECK;
/* Appends the canonical encoding (the bytes signers sign); refuses with
 * TCN_ERR_USAGE a message the parser would refuse. */
int tcn_chain_message_encode(const tcn_chain_message *m, tcn_buf *out, tcn_error *err) TCN_MUST_CHECK;

#endif
