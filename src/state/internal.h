/* The state machine's layout and the functions its files share (not part of the public API). */
#ifndef TCN_STATE_INTERNAL_H
#define TCN_STATE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chain/types.h"
#include "state/cmd.h"
#include "state/state.h"
#include "util/buf.h"
#include "util/err.h"

/* --- Secret store (secrets.c) ------------------------------------------------
 * Fixed 64-byte slots in slabs of tcn_secure_alloc memory: one guarded,
 * locked allocation per TCN_STATE_SLAB_SLOTS keys instead of one per key
 * (guard pages per key would not scale to 100,000 swaps). Slot i holds the
 * secret of object i (key id i + 1, or swap id i + 1 for nonce keys); the
 * slot after the last object is scratch that apply derives into before it
 * decides, and wipes when it refuses. An Ed25519 slot holds libsodium's 64-byte secret
 * key (seed ‖ public key); a share slot holds the share's bytes. */
#define TCN_STATE_SECRET_BYTES 64u
#define TCN_STATE_SLAB_SLOTS 1024u

typedef struct tcn_state_secrets {
    uint8_t **slabs;
    size_t n_slabs, cap_slabs;
} tcn_state_secrets;

/* Makes slots [0, n) addressable. */
int tcn_state_secrets_reserve(tcn_state_secrets *s, size_t n) TCN_MUST_CHECK;
uint8_t *tcn_state_secrets_at(const tcn_state_secrets *s, size_t i);
/* Wipes and frees every slab. */
void tcn_state_secrets_free(tcn_state_secrets *s);

/* --- Pubkey table (table.c) --------------------------------------------------
 * Open addressing with linear probing: 32-byte key -> non-zero u64 value.
 * Hashed with SipHash-2-4 under a key the state derives from the coordinator
 * key at genesis (secret, the same on every node): a client cannot grind key
 * seeds into one probe chain. The layout never shows: snapshots sort. */
typedef struct tcn_state_table_slot {
    tcn_chain_pubkey key;
    uint64_t value; /* 0: empty */
} tcn_state_table_slot;

typedef struct tcn_state_table {
    tcn_state_table_slot *slots;
    size_t cap; /* a power of two, or 0 */
    size_t n;
    const uint8_t *hash_key; /* 16 bytes in the state's secure root */
} tcn_state_table;

uint64_t tcn_state_table_get(const tcn_state_table *t, const tcn_chain_pubkey *key);
/* Makes room for `extra` more entries (so that the puts that follow cannot fail). */
int tcn_state_table_reserve(tcn_state_table *t, size_t extra) TCN_MUST_CHECK;
/* Adds or replaces; room must have been reserved for an addition. */
void tcn_state_table_put(tcn_state_table *t, const tcn_chain_pubkey *key, uint64_t value);
/* Removes key if present. */
void tcn_state_table_del(tcn_state_table *t, const tcn_chain_pubkey *key);
void tcn_state_table_free(tcn_state_table *t);

/* What a public key in the account table names (one chain account must
 * never play two parts: a nonce account that is also an escrow would merge
 * keys in the transactions). */
#define TCN_STATE_TAG_COORDINATOR (1ull << 60)
#define TCN_STATE_TAG_KEY (2ull << 60)   /* | key id */
#define TCN_STATE_TAG_NONCE (3ull << 60) /* | swap id */
#define TCN_STATE_TAG_ID_MASK ((1ull << 60) - 1)

/* --- Records ------------------------------------------------------------------ */

typedef struct tcn_state_key_rec {
    uint8_t kind;       /* tcn_key_kind */
    uint8_t secret_len; /* share bytes; TCN_STATE_SECRET_BYTES for Ed25519 */
    tcn_chain_pubkey owner;
    tcn_chain_pubkey pubkey;     /* zero for a share */
    tcn_key_policy *policy;          /* NULL: the empty policy (no limits) */
    uint64_t day, day_spent;
    uint64_t swap_id;            /* the non-closed swap using it as escrow, or 0 */
} tcn_state_key_rec;

typedef struct tcn_state_swap_rec {
    uint8_t status; /* tcn_swap_status */
    bool funded, nonce_initialized;
    uint8_t n_payouts, cap_payouts;
    tcn_chain_pubkey user, lp, refund_to, nonce;
    uint64_t escrow_key_id;
    uint64_t amount, deadline_ms, created_ms;
    tcn_chain_hash nonce_value;
    uint64_t escrow_lamports, observed_slot;
    uint8_t *refund; /* malloc'd, refund_len bytes; NULL when none */
    uint16_t refund_len;
    uint16_t intent_tx_len;
    uint64_t intent_payout_id; /* 0: no open intent */
    tcn_chain_hash intent_nonce_value;
    uint8_t *intent_tx; /* malloc'd */
    uint64_t *payouts;  /* ids, ascending */
} tcn_state_swap_rec;

typedef struct tcn_state_payout_rec {
    uint64_t swap_id;
    uint8_t status; /* tcn_payout_status */
    uint32_t attempts;
    tcn_chain_pubkey destination;
    uint64_t amount, due_ms, landed_slot;
    tcn_chain_signature sig;
} tcn_state_payout_rec;

typedef struct tcn_state_member_rec {
    uint64_t node_id;
    uint8_t measurement[TCN_STATE_MEASUREMENT_LEN];
    char address[TCN_STATE_ADDRESS_MAX + 1];
} tcn_state_member_rec;

/* The secure root: the coordinator's libsodium secret key and the table hash key. */
#define TCN_STATE_ROOT_COORDINATOR 0u
#define TCN_STATE_ROOT_HASH_KEY 64u
#define TCN_STATE_ROOT_BYTES 80u

struct tcn_state {
    uint64_t applied_index;
    uint64_t now_ms;
    bool genesis;
    uint8_t group_id[TCN_STATE_GROUP_ID_LEN];
    tcn_chain_pubkey coordinator;
    uint8_t *root; /* TCN_STATE_ROOT_BYTES of secure memory */

    tcn_state_table clients;  /* pubkey -> tcn_role */
    size_t n_operators;
    tcn_state_table accounts; /* pubkey -> TCN_STATE_TAG_* | id */

    tcn_state_key_rec *keys; /* key id k at keys[k - 1] */
    size_t n_keys, cap_keys;
    tcn_state_secrets key_secrets;

    tcn_state_swap_rec *swaps; /* swap id s at swaps[s - 1] */
    size_t n_swaps, cap_swaps;
    tcn_state_secrets nonce_secrets; /* the nonce account key of swap s at slot s - 1 */

    tcn_state_payout_rec *payouts; /* payout id p at payouts[p - 1] */
    size_t n_payouts, cap_payouts;

    tcn_state_member_rec members[TCN_STATE_MEMBERS_MAX]; /* ascending node id */
    size_t n_members;
};

/* Lookups: NULL when the id is 0 or beyond the last. */
tcn_state_key_rec *tcn_state_key_get(const tcn_state *st, uint64_t id);
tcn_state_swap_rec *tcn_state_swap_get(const tcn_state *st, uint64_t id);
tcn_state_payout_rec *tcn_state_payout_get(const tcn_state *st, uint64_t id);
const uint8_t *tcn_state_key_secret(const tcn_state *st, uint64_t key_id);
const uint8_t *tcn_state_nonce_secret(const tcn_state *st, uint64_t swap_id);
const tcn_key_policy *tcn_state_key_policy(const tcn_state_key_rec *k);
/* policy.c: every payout tight allows, loose allows too. */
bool tcn_state_policy_within(const tcn_key_policy *tight, const tcn_key_policy *loose);

/* Room for one more key, swap or payout (so that commits cannot fail). */
int tcn_state_reserve_key(tcn_state *st) TCN_MUST_CHECK;
int tcn_state_reserve_swap(tcn_state *st) TCN_MUST_CHECK;
int tcn_state_reserve_payout(tcn_state *st) TCN_MUST_CHECK;
/* The hash key of both tables, from the coordinator key (genesis, restore). */
void tcn_state_derive_hash_key(tcn_state *st);
/* Frees the key records, swap records and blobs (secrets.c frees the slabs). */
void tcn_state_records_free(tcn_state *st);

/* Signs with a 64-byte libsodium secret key (secrets.c: the one place that does). */
void tcn_state_ed25519_sign(const uint8_t *sk, const uint8_t *msg, size_t len, tcn_chain_signature *out);
/* Derives a key pair into a slot: sk (64 bytes) and its public key (any 32 bytes are a seed). */
void tcn_state_ed25519_derive(const uint8_t seed[TCN_CHAIN_SEED_LEN], uint8_t *sk, tcn_chain_pubkey *pk);

/* --- Policy (policy.c) -------------------------------------------------------- */

#define TCN_STATE_MINUTES_PER_DAY 1440u
#define TCN_STATE_MS_PER_MINUTE 60000ull
#define TCN_STATE_MS_PER_DAY 86400000ull

/* TCN_ERR_USAGE naming the field when a policy is not well formed. */
int tcn_state_policy_validate(const tcn_key_policy *p, tcn_error *err) TCN_MUST_CHECK;
bool tcn_state_policy_allows_destination(const tcn_key_policy *p, const tcn_chain_pubkey *dest);
/* True when the policy has no windows or ts_ms's minute of the UTC day falls in one. */
bool tcn_state_policy_in_window(const tcn_key_policy *p, uint64_t ts_ms);
/* What the key has spent on the day of ts_ms, as the per-day limit counts it
 * (see policy.c for a clock that steps back over midnight). */
uint64_t tcn_state_key_spent(const tcn_state_key_rec *k, uint64_t ts_ms);
/* Adds an intent's amount to the day's total. */
void tcn_state_key_spend(tcn_state_key_rec *k, uint64_t ts_ms, uint64_t amount);
bool tcn_state_policy_is_empty(const tcn_key_policy *p);
/* A canonical heap copy of a validated policy; NULL for the empty policy. */
int tcn_state_policy_dup(const tcn_key_policy *p, tcn_key_policy **out) TCN_MUST_CHECK;

/* --- Transactions (txbuild.c) ---------------------------------------------------- */

/* The balance the swap's current refund empties (0: no refund). */
uint64_t tcn_state_swap_refund_balance(const tcn_state_swap_rec *sw, uint64_t escrow_lamports);

/* Formats for reasons: a base58 key (public values only). */
const char *tcn_state_b58(const tcn_chain_pubkey *pk, char out[48]);
bool tcn_state_pubkey_is_zero(const tcn_chain_pubkey *pk);

/* --- Apply (apply*.c) -------------------------------------------------------------
 * Each command's apply returns TCN_OK, a refusal code with err naming the
 * check, or TCN_ERR_NOMEM; on anything but TCN_OK the state is unchanged:
 * every check runs first, then memory is reserved, then the commit, which
 * cannot fail, mutates. *id receives the id of an object it creates. */
typedef int (*tcn_state_apply_fn)(tcn_state *st, const tcn_cmd *c, uint64_t *id, tcn_error *err);

int tcn_state_apply_genesis(tcn_state *st, const tcn_cmd *c, uint64_t *id, tcn_error *err) TCN_MUST_CHECK;
int tcn_state_apply_client_set(tcn_state *st, const tcn_cmd *c, uint64_t *id, tcn_error *err) TCN_MUST_CHECK;
int tcn_state_apply_key_import(tcn_state *st, const tcn_cmd *c, uint64_t *id, tcn_error *err) TCN_MUST_CHECK;
int tcn_state_apply_policy_set(tcn_state *st, const tcn_cmd *c, uint64_t *id, tcn_error *err) TCN_MUST_CHECK;
int tcn_state_apply_member_set(tcn_state *st, const tcn_cmd *c, uint64_t *id, tcn_error *err) TCN_MUST_CHECK;
int tcn_state_apply_swap_create(tcn_state *st, const tcn_cmd *c, uint64_t *id, tcn_error *err) TCN_MUST_CHECK;
int tcn_state_apply_swap_observed(tcn_state *st, const tcn_cmd *c, uint64_t *id, tcn_error *err) TCN_MUST_CHECK;
int tcn_state_apply_payout_schedule(tcn_state *st, const tcn_cmd *c, uint64_t *id, tcn_error *err) TCN_MUST_CHECK;
int tcn_state_apply_payout_intent(tcn_state *st, const tcn_cmd *c, uint64_t *id, tcn_error *err) TCN_MUST_CHECK;
int tcn_state_apply_payout_outcome(tcn_state *st, const tcn_cmd *c, uint64_t *id, tcn_error *err) TCN_MUST_CHECK;

/* Actor checks: the zero actor (commands the network proposes), or a client
 * holding one of the roles in `roles` (a bit mask of 1u << tcn_role). */
int tcn_state_need_network(const tcn_cmd *c, tcn_error *err) TCN_MUST_CHECK;
int tcn_state_need_role(const tcn_state *st, const tcn_cmd *c, unsigned roles, tcn_error *err) TCN_MUST_CHECK;
#define TCN_STATE_ROLE_BIT(r) (1u << (r))
const char *tcn_state_role_name(unsigned role);

/* The refund a SWAP_OBSERVED or PAYOUT_OUTCOME carries, once checked: keep
 * the swap's current bytes, or take p (malloc'd, len bytes; NULL and 0: no
 * refund). */
typedef struct tcn_state_new_refund {
    bool keep;
    uint8_t *p;
    uint16_t len;
} tcn_state_new_refund;

/* The refund rule (both commands): with the nonce initialized and a refund
 * balance (tcn_state_refund_balance for escrow_lamports) above the fee, the
 * bytes must be exactly tcn_state_sign_refund(swap, nonce_value, balance);
 * otherwise there must be none. TCN_ERR_BINDING otherwise. */
int tcn_state_refund_check(const tcn_state *st, uint64_t swap_id, bool nonce_initialized,
                           const tcn_chain_hash *nonce_value, uint64_t escrow_lamports, const uint8_t *refund,
                           size_t refund_len, tcn_state_new_refund *out, tcn_error *err) TCN_MUST_CHECK;
/* Records what the chain showed (commit side of both commands): escrow
 * balance, slot (when later than the last), nonce value, the new refund, and the
 * funded / CLOSED rules. */
void tcn_state_observe(tcn_state *st, uint64_t swap_id, bool nonce_initialized, const tcn_chain_hash *nonce_value,
                       uint64_t escrow_lamports, uint64_t slot, tcn_state_new_refund *refund);

#endif
