/* Internals shared by the chain model's files: the account and status
 * stores, and the System program executor's working set. Not a public API. */
#ifndef TCN_CHAIN_MODEL_INTERNAL_H
#define TCN_CHAIN_MODEL_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chain/limits.h"
#include "chain/message.h"
#include "chain/model.h"
#include "chain/tx_error.h"
#include "chain/types.h"

/* --- Open-addressing index: key bytes -> entry number ------------------- */

typedef const uint8_t *(*tcn_chain_key_at_fn)(const void *ctx, uint32_t entry);

typedef struct tcn_chain_index {
    uint32_t *slots; /* 0 = empty, else entry + 1 */
    size_t cap;      /* a power of two, or 0 */
    size_t used;
} tcn_chain_index;

/* Entry number of key, or -1. */
int64_t tcn_chain_index_find(const tcn_chain_index *ix, const uint8_t *key, size_t klen, tcn_chain_key_at_fn key_at,
                             const void *ctx);
/* Adds key -> entry (the key must be absent); grows at half load. */
int tcn_chain_index_add(tcn_chain_index *ix, const uint8_t *key, size_t klen, uint32_t entry,
                        tcn_chain_key_at_fn key_at, const void *ctx) TCN_MUST_CHECK;
void tcn_chain_index_free(tcn_chain_index *ix);

/* --- Accounts --------------------------------------------------------------- */

/* An account with 0 lamports does not exist: reading it gives the default
 * account (System-owned, no data), as the runtime's loader does. */
typedef struct tcn_chain_account {
    tcn_chain_pubkey key;
    uint64_t lamports;
    tcn_chain_pubkey owner;
    bool executable;
    uint8_t *data; /* malloc'd, data_len bytes, or NULL */
    size_t data_len;
} tcn_chain_account;

typedef struct tcn_chain_account_store {
    tcn_chain_account *v;
    size_t n, cap;
    tcn_chain_index by_key;
} tcn_chain_account_store;

tcn_chain_account *tcn_chain_store_find(const tcn_chain_account_store *s, const tcn_chain_pubkey *key);
/* Finds or creates (empty, System-owned) the account of key. */
int tcn_chain_store_get(tcn_chain_account_store *s, const tcn_chain_pubkey *key, tcn_chain_account **out)
    TCN_MUST_CHECK;
/* Replaces a's data with a copy of len bytes. */
int tcn_chain_account_set_data(tcn_chain_account *a, const uint8_t *data, size_t len) TCN_MUST_CHECK;
void tcn_chain_store_free(tcn_chain_account_store *s);

/* --- Landed transactions (the status cache) ------------------------------- */

typedef struct tcn_chain_landed {
    tcn_chain_signature sig;
    uint8_t msg_digest[32]; /* SHA-256 of the message bytes (Agave keys by its own message hash) */
    uint64_t slot;
    tcn_chain_tx_error err;
} tcn_chain_landed;

typedef struct tcn_chain_status_store {
    tcn_chain_landed *v;
    size_t n, cap;
    tcn_chain_index by_sig;
    tcn_chain_index by_msg;
} tcn_chain_status_store;

const tcn_chain_landed *tcn_chain_status_by_sig(const tcn_chain_status_store *s, const tcn_chain_signature *sig);
const tcn_chain_landed *tcn_chain_status_by_msg(const tcn_chain_status_store *s, const uint8_t digest[32]);
int tcn_chain_status_add(tcn_chain_status_store *s, const tcn_chain_landed *l) TCN_MUST_CHECK;
void tcn_chain_status_free(tcn_chain_status_store *s);

/* --- Execution working set ---------------------------------------------- */

/* A transaction's copy of one account while its instructions run. */
typedef struct tcn_chain_exec_account {
    tcn_chain_pubkey key;
    uint64_t lamports;
    tcn_chain_pubkey owner;
    bool executable;
    uint8_t *data; /* owned copy */
    size_t data_len;
    bool signer;
    bool writable; /* after the runtime's demotion of programs and sysvars */
} tcn_chain_exec_account;

typedef struct tcn_chain_exec {
    const tcn_chain_message *msg;
    tcn_chain_exec_account *acc; /* msg->n_keys of them */
    tcn_chain_hash env_blockhash; /* what the nonce instructions derive from */
    uint64_t lamports_per_signature;
    char *log; /* TCN_CHAIN_MODEL_LOG_MAX bytes: the program's message on failure */
} tcn_chain_exec;

/* Runs instruction ix_index (a System program instruction) on the working
 * set. Returns TCN_OK when it succeeds; TCN_ERR_POLICY with *out filled as
 * InstructionError(ix_index, ...) when it fails; TCN_ERR_NOMEM. */
int tcn_chain_exec_system(tcn_chain_exec *x, unsigned ix_index, tcn_chain_tx_error *out) TCN_MUST_CHECK;

#endif
