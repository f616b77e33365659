/* Commands of the coordinator state machine: typed, versioned, and their strict binary codec. */
#ifndef TCN_STATE_CMD_H
#define TCN_STATE_CMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chain/limits.h"
#include "chain/types.h"
#include "state/limits.h"
#include "util/buf.h"
#include "util/cursor.h"
#include "util/err.h"

/* Encoding (all integers big endian):
 *   version:u8 (= TCN_CMD_VERSION), type:u8, ts_ms:u64, actor:32 bytes, body
 * ts_ms is the leader's clock when it proposed the command (DESIGN §7: time
 * is stamped into the command, apply never reads a clock). actor is the
 * client key the API layer authenticated (all zero for commands the network
 * itself proposes: GENESIS, SWAP_OBSERVED, PAYOUT_INTENT, PAYOUT_OUTCOME).
 * Bodies per type below; variable-length fields carry a u16 length. The
 * decoder refuses unknown versions and types, any length out of range, any
 * enum value it does not know, and trailing bytes; errors name the field.
 * Precisely: a body is the fields of its union member below, in declaration
 * order; integers big endian at their width; bool as one byte 0 or 1; key,
 * hash, seed and measurement arrays as their bytes; `len`, `refund_len` and
 * `tx_len` (u16) followed by that many bytes; a policy as n_destinations:u8,
 * that many 32-byte keys, max_per_payout:u64, max_per_day:u64, n_windows:u8,
 * that many (start_min:u16, end_min:u16); member_set.address as a u16
 * length (0..TCN_STATE_ADDRESS_MAX) and the bytes without the NUL (a NUL
 * inside is refused). Only the bytes the counts and lengths cover are
 * encoded, so decode(encode(c)) == c for a command whose unused parts are
 * zero, and encode(decode(b)) == b for every b the decoder accepts. */
#define TCN_CMD_VERSION 1u

typedef enum {
    TCN_CMD_GENESIS = 1,         /* group id, coordinator key seed (secret), first operator */
    TCN_CMD_CLIENT_SET = 2,      /* operator: a client key's role (TCN_ROLE_NONE removes it) */
    TCN_CMD_KEY_IMPORT = 3,      /* a client delegates a key or a share (secret) */
    TCN_CMD_POLICY_SET = 4,      /* operator or the key's owner: a key's policy */
    TCN_CMD_SWAP_CREATE = 5,     /* user: a swap; escrow and nonce seeds from the leader (secret) */
    TCN_CMD_SWAP_OBSERVED = 6,   /* network: the chain's view of a swap's nonce and escrow, and a new refund */
    TCN_CMD_PAYOUT_SCHEDULE = 7, /* the swap's user or an operator: a payout due at a time */
    TCN_CMD_PAYOUT_INTENT = 8,   /* network: signed payout bytes bound to (nonce account, value) */
    TCN_CMD_PAYOUT_OUTCOME = 9,  /* network: how the intent ended on the chain, and the new refund */
    TCN_CMD_MEMBER_SET = 10,     /* network: a member's id, measurement and address (TCN_ROLE_NONE removes) */
    TCN_CMD_TYPE_MAX_ = 10,
} tcn_cmd_type;

typedef enum {
    TCN_ROLE_NONE = 0,
    TCN_ROLE_USER = 1,
    TCN_ROLE_LP = 2,
    TCN_ROLE_OPERATOR = 3,
} tcn_role;

typedef enum {
    TCN_KEY_ED25519_SEED = 1, /* 32-byte RFC 8032 seed: can sign (an escrow authority) */
    TCN_KEY_FROST_SHARE = 2,  /* opaque share bytes, held for the later threshold signer */
} tcn_key_kind;

/* A key's policy (DESIGN §7; checked in apply on every node). Zero in a
 * limit means "no limit"; no destinations means "any destination". A
 * schedule window is [start, end) in minutes of the UTC day; with none,
 * every time is allowed; a window with start > end wraps midnight. */
typedef struct tcn_key_policy {
    uint8_t n_destinations;
    tcn_chain_pubkey destinations[TCN_POLICY_DESTINATIONS_MAX];
    uint64_t max_per_payout;
    uint64_t max_per_day; /* sum of payout intents per UTC day (by ts_ms) */
    uint8_t n_windows;
    struct {
        uint16_t start_min;
        uint16_t end_min;
    } windows[TCN_POLICY_WINDOWS_MAX];
} tcn_key_policy;

/* How a payout intent ended on the chain. */
typedef enum {
    TCN_PAYOUT_LANDED_OK = 1,     /* executed: the transfer happened, the fee was paid, the nonce advanced */
    TCN_PAYOUT_LANDED_FAILED = 2, /* landed but failed in execution: fee paid and nonce advanced, no transfer */
    TCN_PAYOUT_DROPPED = 3,       /* never landed and can never land: the nonce moved on without it */
} tcn_payout_result;

/* A decoded command. Secret fields (seeds, shares) are wiped by
 * tcn_cmd_wipe; whoever fills or decodes one calls it when done. Plain value,
 * no pointers: tx bytes are held inline. */
typedef struct tcn_cmd {
    uint8_t type;
    uint64_t ts_ms;
    tcn_chain_pubkey actor;
    union {
        struct {
            uint8_t group_id[TCN_STATE_GROUP_ID_LEN];
            uint8_t coordinator_seed[TCN_CHAIN_SEED_LEN]; /* secret */
            tcn_chain_pubkey operator_key;
        } genesis;
        struct {
            tcn_chain_pubkey client;
            uint8_t role; /* tcn_role */
        } client_set;
        struct {
            uint8_t kind; /* tcn_key_kind */
            uint16_t len; /* 32 for an Ed25519 seed; 1..TCN_STATE_SHARE_BYTES_MAX for a share */
            uint8_t secret[TCN_STATE_SHARE_BYTES_MAX]; /* secret */
        } key_import;
        struct {
            uint64_t key_id;
            tcn_key_policy policy;
        } policy_set;
        struct {
            /* escrow_key_id 0: the leader generated escrow_seed for this swap
             * (a new key, owned by the actor); otherwise an imported
             * Ed25519 key the actor owns, free of any open swap. */
            uint64_t escrow_key_id;
            uint8_t escrow_seed[TCN_CHAIN_SEED_LEN]; /* secret; zero when escrow_key_id != 0 */
            uint8_t nonce_seed[TCN_CHAIN_SEED_LEN];  /* secret: the nonce account's own key */
            tcn_chain_pubkey lp;                     /* the counterparty */
            tcn_chain_pubkey refund_to;              /* where a refund sends the escrow */
            uint64_t amount;                         /* lamports the user will escrow */
            uint64_t deadline_ms;                    /* no payout intent after this */
            tcn_key_policy policy;                       /* for a generated escrow key */
        } swap_create;
        struct {
            uint64_t swap_id;
            uint64_t slot;                /* the chain slot the observation was made at */
            bool nonce_initialized;       /* the nonce account exists, initialized, our authority */
            tcn_chain_hash nonce_value;   /* when initialized */
            uint64_t escrow_lamports;     /* the escrow's balance */
            uint16_t refund_len;          /* 0 when escrow_lamports cannot pay a refund */
            uint8_t refund[TCN_CHAIN_PACKET_BYTES_MAX]; /* signed refund bound to nonce_value */
        } swap_observed;
        struct {
            uint64_t swap_id;
            tcn_chain_pubkey destination;
            uint64_t amount;
            uint64_t due_ms;
        } payout_schedule;
        struct {
            uint64_t swap_id;
            uint64_t payout_id;
            tcn_chain_hash nonce_value; /* the value the bytes are bound to */
            uint16_t tx_len;
            uint8_t tx[TCN_CHAIN_PACKET_BYTES_MAX]; /* signed payout transaction */
        } payout_intent;
        struct {
            uint64_t swap_id;
            uint64_t payout_id;
            uint8_t result;               /* tcn_payout_result */
            uint64_t slot;                /* when it landed (0 for DROPPED) */
            tcn_chain_hash nonce_value;   /* the nonce account's value afterwards */
            uint64_t escrow_lamports;     /* the escrow's balance afterwards */
            uint16_t refund_len;          /* 0 when nothing is left to refund */
            uint8_t refund[TCN_CHAIN_PACKET_BYTES_MAX]; /* signed refund bound to nonce_value */
        } payout_outcome;
        struct {
            uint64_t node_id;
            uint8_t role; /* TCN_ROLE_NONE removes, anything else records */
            uint8_t measurement[TCN_STATE_MEASUREMENT_LEN];
            char address[TCN_STATE_ADDRESS_MAX + 1]; /* NUL-terminated host:port */
        } member_set;
    } u;
} tcn_cmd;

/* Appends the encoding to out; refuses with TCN_ERR_USAGE (naming the field)
 * what the decoder would refuse. out grows once, by the exact size, so no
 * reallocation leaves a copy of a seed behind; whoever holds the bytes of a
 * command with a secret wipes them (tcn_buf_free_wipe). */
int tcn_cmd_encode(const tcn_cmd *c, tcn_buf *out, tcn_error *err) TCN_MUST_CHECK;
/* Strict: exactly one command in p..p+len. On failure *out is wiped. */
int tcn_cmd_decode(const uint8_t *p, size_t len, tcn_cmd *out, tcn_error *err) TCN_MUST_CHECK;
/* Wipes the secret fields (the whole value, to be simple). */
void tcn_cmd_wipe(tcn_cmd *c);
const char *tcn_cmd_type_name(uint8_t type); /* "SWAP_CREATE", ... or "unknown" */

#endif
