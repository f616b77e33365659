/* Snapshots of the state: one canonical, versioned, checksummed encoding; strict restore; the state digest.
 *
 * Format (integers big endian; docs/STATE.md has the same table):
 *   "TCNS" version:u32 applied_index:u64 now_ms:u64 genesis:u8
 *   [genesis = 1: group_id:16 coordinator_seed:32 coordinator:32]
 *   n_clients:u64  { pubkey:32 role:u8 }                 ascending pubkey
 *   n_keys:u64     { id:u64 kind:u8 owner:32 pubkey:32 secret_len:u8 secret
 *                    policy day:u64 day_spent:u64 }        ascending id
 *   n_swaps:u64    { id:u64 status:u8 user:32 lp:32 refund_to:32
 *                    escrow_key_id:u64 nonce:32 nonce_seed:32 amount:u64
 *                    deadline_ms:u64 created_ms:u64 funded:u8
 *                    nonce_initialized:u8 nonce_value:32 escrow_lamports:u64
 *                    observed_slot:u64 refund_len:u16 refund
 *                    intent_payout_id:u64 intent_nonce_value:32
 *                    intent_tx_len:u16 intent_tx }           ascending id
 *   n_payouts:u64  { id:u64 swap_id:u64 status:u8 attempts:u32
 *                    destination:32 amount:u64 due_ms:u64 landed_slot:u64
 *                    sig:64 }                                ascending id
 *   n_members:u64  { node_id:u64 measurement:48 address_len:u8 address }
 *   sha256 of everything before it
 * policy = n_destinations:u8 {32} max_per_payout:u64 max_per_day:u64
 *          n_windows:u8 {start_min:u16 end_min:u16}
 * secret = the Ed25519 seed (32 bytes) or the share's bytes.
 *
 * What is derived is not stored: a key's open swap (from the swaps), a
 * swap's payout list (from the payouts), the public-key table. Everything
 * stored is checked on restore, so equal states give equal bytes and a
 * snapshot that restores snapshots back to itself.
 *
 * Secrets: a snapshot holds every seed. It is built with one reservation
 * of its exact size (a reallocation would leave copies in freed memory);
 * the digest streams into SHA-256 and keeps no copy. Restore copies seeds
 * from the input straight into the secret store. Ed25519 public halves are
 * taken from the records, not re-derived from the seeds (that would cost a
 * scalar multiplication per key: seconds for 100,000 swaps); the checksum
 * covers them. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "state/internal.h"
#include "util/assert.h"
#include "util/hash.h"
#include "util/secmem.h"

static const uint8_t MAGIC[4] = {'T', 'C', 'N', 'S'};

#define ULL(x) ((unsigned long long)(x))

/* --- Writing -------------------------------------------------------------------- */

typedef struct writer {
    tcn_buf *out; /* NULL: count and/or hash only */
    bool hash;
    tcn_sha256_ctx h;
    size_t n;
} writer;

static void w_bytes(writer *w, const void *p, size_t n)
{
    if (n == 0)
        return;
    if (w->hash)
        tcn_sha256_update(&w->h, p, n);
    if (w->out != NULL)
        TCN_ASSERT(tcn_buf_append(w->out, p, n) == TCN_OK); /* reserved */
    w->n += n;
}

static void w_u8(writer *w, uint8_t v) { w_bytes(w, &v, 1); }

static void w_u16(writer *w, uint16_t v)
{
    uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};
    w_bytes(w, b, 2);
}

static void w_u32(writer *w, uint32_t v)
{
    uint8_t b[4];
    for (int i = 0; i < 4; i++)
        b[i] = (uint8_t)(v >> (24 - 8 * i));
    w_bytes(w, b, 4);
}

static void w_u64(writer *w, uint64_t v)
{
    uint8_t b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)(v >> (56 - 8 * i));
    w_bytes(w, b, 8);
}

static void w_policy(writer *w, const tcn_key_policy *p)
{
    w_u8(w, p->n_destinations);
    for (unsigned i = 0; i < p->n_destinations; i++)
        w_bytes(w, p->destinations[i].b, TCN_CHAIN_PUBKEY_LEN);
    w_u64(w, p->max_per_payout);
    w_u64(w, p->max_per_day);
    w_u8(w, p->n_windows);
    for (unsigned i = 0; i < p->n_windows; i++) {
        w_u16(w, p->windows[i].start_min);
        w_u16(w, p->windows[i].end_min);
    }
}

static int cmp_client(const void *a, const void *b)
{
    return memcmp(((const tcn_state_table_slot *)a)->key.b, ((const tcn_state_table_slot *)b)->key.b,
                  TCN_CHAIN_PUBKEY_LEN);
}

/* Writes everything but the trailer. clients: the client table's entries,
 * sorted. */
static void write_state(writer *w, const tcn_state *st, const tcn_state_table_slot *clients, size_t n_clients)
{
    w_bytes(w, MAGIC, sizeof(MAGIC));
    w_u32(w, TCN_STATE_SNAPSHOT_VERSION);
    w_u64(w, st->applied_index);
    w_u64(w, st->now_ms);
    w_u8(w, st->genesis ? 1 : 0);
    if (st->genesis) {
        w_bytes(w, st->group_id, TCN_STATE_GROUP_ID_LEN);
        w_bytes(w, st->root + TCN_STATE_ROOT_COORDINATOR, TCN_CHAIN_SEED_LEN);
        w_bytes(w, st->coordinator.b, TCN_CHAIN_PUBKEY_LEN);
    }
    w_u64(w, n_clients);
    for (size_t i = 0; i < n_clients; i++) {
        w_bytes(w, clients[i].key.b, TCN_CHAIN_PUBKEY_LEN);
        w_u8(w, (uint8_t)clients[i].value);
    }
    w_u64(w, st->n_keys);
    for (size_t i = 0; i < st->n_keys; i++) {
        const tcn_state_key_rec *k = &st->keys[i];
        bool ed = k->kind == TCN_KEY_ED25519_SEED;
        w_u64(w, i + 1);
        w_u8(w, k->kind);
        w_bytes(w, k->owner.b, TCN_CHAIN_PUBKEY_LEN);
        w_bytes(w, k->pubkey.b, TCN_CHAIN_PUBKEY_LEN);
        uint8_t n = ed ? TCN_CHAIN_SEED_LEN : k->secret_len;
        w_u8(w, n);
        w_bytes(w, tcn_state_secrets_at(&st->key_secrets, i), n);
        w_policy(w, tcn_state_key_policy(k));
        w_u64(w, k->day);
        w_u64(w, k->day_spent);
    }
    w_u64(w, st->n_swaps);
    for (size_t i = 0; i < st->n_swaps; i++) {
        const tcn_state_swap_rec *s = &st->swaps[i];
        w_u64(w, i + 1);
        w_u8(w, s->status);
        w_bytes(w, s->user.b, TCN_CHAIN_PUBKEY_LEN);
        w_bytes(w, s->lp.b, TCN_CHAIN_PUBKEY_LEN);
        w_bytes(w, s->refund_to.b, TCN_CHAIN_PUBKEY_LEN);
        w_u64(w, s->escrow_key_id);
        w_bytes(w, s->nonce.b, TCN_CHAIN_PUBKEY_LEN);
        w_bytes(w, tcn_state_secrets_at(&st->nonce_secrets, i), TCN_CHAIN_SEED_LEN);
        w_u64(w, s->amount);
        w_u64(w, s->deadline_ms);
        w_u64(w, s->created_ms);
        w_u8(w, s->funded ? 1 : 0);
        w_u8(w, s->nonce_initialized ? 1 : 0);
        w_bytes(w, s->nonce_value.b, TCN_CHAIN_HASH_LEN);
        w_u64(w, s->escrow_lamports);
        w_u64(w, s->observed_slot);
        w_u16(w, s->refund_len);
        w_bytes(w, s->refund, s->refund_len);
        w_u64(w, s->intent_payout_id);
        w_bytes(w, s->intent_nonce_value.b, TCN_CHAIN_HASH_LEN);
        w_u16(w, s->intent_tx_len);
        w_bytes(w, s->intent_tx, s->intent_tx_len);
    }
    w_u64(w, st->n_payouts);
    for (size_t i = 0; i < st->n_payouts; i++) {
        const tcn_state_payout_rec *p = &st->payouts[i];
        w_u64(w, i + 1);
        w_u64(w, p->swap_id);
        w_u8(w, p->status);
        w_u32(w, p->attempts);
        w_bytes(w, p->destination.b, TCN_CHAIN_PUBKEY_LEN);
        w_u64(w, p->amount);
        w_u64(w, p->due_ms);
        w_u64(w, p->landed_slot);
        w_bytes(w, p->sig.b, TCN_CHAIN_SIGNATURE_LEN);
    }
    w_u64(w, st->n_members);
    for (size_t i = 0; i < st->n_members; i++) {
        const tcn_state_member_rec *m = &st->members[i];
        size_t alen = strlen(m->address);
        w_u64(w, m->node_id);
        w_bytes(w, m->measurement, TCN_STATE_MEASUREMENT_LEN);
        w_u8(w, (uint8_t)alen);
        w_bytes(w, m->address, alen);
    }
}

/* The client table's entries in ascending key order (a malloc'd array the caller frees). */
static int sorted_clients(const tcn_state *st, tcn_state_table_slot **out, tcn_error *err)
{
    *out = NULL;
    if (st->clients.n == 0)
        return TCN_OK;
    tcn_state_table_slot *v = malloc(st->clients.n * sizeof(*v));
    TCN_ENSURE(v != NULL, err, TCN_ERR_NOMEM, "snapshot: clients: out of memory");
    size_t n = 0;
    for (size_t i = 0; i < st->clients.cap; i++)
        if (st->clients.slots[i].value != 0)
            v[n++] = st->clients.slots[i];
    TCN_ASSERT(n == st->clients.n);
    qsort(v, n, sizeof(*v), cmp_client);
    *out = v;
    return TCN_OK;
}

int tcn_state_snapshot(const tcn_state *st, tcn_buf *out, tcn_error *err)
{
    TCN_ASSERT(st != NULL && out != NULL);
    tcn_state_table_slot *clients;
    TCN_GUARD(sorted_clients(st, &clients, err));
    writer w = {.out = NULL, .hash = false};
    write_state(&w, st, clients, st->clients.n);
    int rc = tcn_buf_reserve(out, w.n + TCN_SHA256_LEN);
    if (rc != TCN_OK) {
        free(clients);
        return tcn_err_set(err, rc, "snapshot: %zu bytes: %s", w.n + TCN_SHA256_LEN, tcn_err_message(rc));
    }
    size_t start = out->len;
    w = (writer){.out = out, .hash = true};
    tcn_sha256_init(&w.h);
    write_state(&w, st, clients, st->clients.n);
    uint8_t sum[TCN_SHA256_LEN];
    tcn_sha256_final(&w.h, sum);
    tcn_wipe(&w.h, sizeof(w.h)); /* its block buffer saw seeds */
    TCN_ASSERT(tcn_buf_append(out, sum, sizeof(sum)) == TCN_OK);
    TCN_ASSERT(out->len - start == w.n + TCN_SHA256_LEN);
    free(clients);
    return TCN_OK;
}

/* The digest is the snapshot's own checksum: SHA-256 of its canonical bytes
 * before the trailer, streamed (no copy of any seed is made). */
int tcn_state_digest(const tcn_state *st, uint8_t out[32], tcn_error *err)
{
    TCN_ASSERT(st != NULL && out != NULL);
    tcn_state_table_slot *clients;
    TCN_GUARD(sorted_clients(st, &clients, err));
    writer w = {.out = NULL, .hash = true};
    tcn_sha256_init(&w.h);
    write_state(&w, st, clients, st->clients.n);
    tcn_sha256_final(&w.h, out);
    tcn_wipe(&w.h, sizeof(w.h));
    free(clients);
    return TCN_OK;
}

/* --- Reading -------------------------------------------------------------------- */

typedef struct reader {
    tcn_cursor c;
    tcn_error *err;
} reader;

/* Field names are formatted only when a read fails. */
__attribute__((format(printf, 2, 0))) static int ends(reader *r, const char *fmt, va_list ap)
{
    char field[96];
    vsnprintf(field, sizeof(field), fmt, ap);
    return tcn_err_set(r->err, TCN_ERR_TRUNCATED, "snapshot: %s: input ends early", field);
}

#define READER(name, type, call)                                   \
    TCN_PRINTF(3, 4) static int name(reader *r, type *v, const char *fmt, ...) \
    {                                                              \
        if (call == TCN_OK)                                        \
            return TCN_OK;                                         \
        va_list ap;                                                \
        va_start(ap, fmt);                                         \
        int rc = ends(r, fmt, ap);                                 \
        va_end(ap);                                                \
        return rc;                                                 \
    }

READER(r_u8, uint8_t, tcn_cur_u8(&r->c, v))
READER(r_u16, uint16_t, tcn_cur_u16be(&r->c, v))
READER(r_u32, uint32_t, tcn_cur_u32be(&r->c, v))
READER(r_u64, uint64_t, tcn_cur_u64be(&r->c, v))
READER(r_key, tcn_chain_pubkey, tcn_cur_copy(&r->c, v->b, TCN_CHAIN_PUBKEY_LEN))
READER(r_hash, tcn_chain_hash, tcn_cur_copy(&r->c, v->b, TCN_CHAIN_HASH_LEN))

TCN_PRINTF(4, 5) static int r_bytes(reader *r, void *dst, size_t n, const char *fmt, ...)
{
    if (tcn_cur_copy(&r->c, dst, n) == TCN_OK)
        return TCN_OK;
    va_list ap;
    va_start(ap, fmt);
    int rc = ends(r, fmt, ap);
    va_end(ap);
    return rc;
}

TCN_PRINTF(3, 4) static int r_bool(reader *r, bool *v, const char *fmt, ...)
{
    uint8_t b = 0;
    va_list ap;
    int rc = TCN_OK;
    va_start(ap, fmt);
    if (tcn_cur_u8(&r->c, &b) != TCN_OK) {
        rc = ends(r, fmt, ap);
    } else if (b > 1) {
        char field[96];
        vsnprintf(field, sizeof(field), fmt, ap);
        rc = tcn_err_set(r->err, TCN_ERR_MALFORMED, "snapshot: %s: %u is not a boolean", field, b);
    }
    va_end(ap);
    *v = b == 1;
    return rc;
}

/* A count of records of at least min_bytes each, which the rest must hold:
 * checked before anything is allocated for them. */
static int r_count(reader *r, uint64_t *n, size_t min_bytes, uint64_t max, const char *what)
{
    TCN_GUARD(r_u64(r, n, "%s", what));
    TCN_ENSURE(*n <= max, r->err, TCN_ERR_TOO_LARGE, "snapshot: %s: %llu exceeds %llu", what, ULL(*n), ULL(max));
    TCN_ENSURE(*n <= tcn_cur_remaining(&r->c) / min_bytes, r->err, TCN_ERR_TRUNCATED,
               "snapshot: %s: %llu records cannot fit in the %zu bytes left", what, ULL(*n),
               tcn_cur_remaining(&r->c));
    return TCN_OK;
}

static bool all_zero(const void *p, size_t n)
{
    const uint8_t *b = p;
    uint8_t acc = 0;
    for (size_t i = 0; i < n; i++)
        acc |= b[i];
    return acc == 0;
}

#define POLICY_MIN_BYTES (1 + 8 + 8 + 1)
#define KEY_MIN_BYTES (8 + 1 + 32 + 32 + 1 + 1 + POLICY_MIN_BYTES + 8 + 8)
#define SWAP_MIN_BYTES (8 + 1 + 32 * 3 + 8 + 32 + 32 + 8 * 3 + 2 + 32 + 8 * 2 + 2 + 8 + 32 + 2)
#define PAYOUT_MIN_BYTES (8 + 8 + 1 + 4 + 32 + 8 * 3 + 64)
#define MEMBER_MIN_BYTES (8 + TCN_STATE_MEASUREMENT_LEN + 1 + 1)
#define CLIENT_BYTES (32 + 1)

static int read_policy(reader *r, tcn_key_policy *p, const char *what, size_t i)
{
    memset(p, 0, sizeof(*p));
    TCN_GUARD(r_u8(r, &p->n_destinations, "%s[%zu].policy.n_destinations", what, i));
    TCN_ENSURE(p->n_destinations <= TCN_POLICY_DESTINATIONS_MAX, r->err, TCN_ERR_MALFORMED,
               "snapshot: %s[%zu].policy.n_destinations: %u exceeds %u", what, i, p->n_destinations,
               TCN_POLICY_DESTINATIONS_MAX);
    for (unsigned d = 0; d < p->n_destinations; d++)
        TCN_GUARD(r_key(r, &p->destinations[d], "%s[%zu].policy.destinations[%u]", what, i, d));
    TCN_GUARD(r_u64(r, &p->max_per_payout, "%s[%zu].policy.max_per_payout", what, i));
    TCN_GUARD(r_u64(r, &p->max_per_day, "%s[%zu].policy.max_per_day", what, i));
    TCN_GUARD(r_u8(r, &p->n_windows, "%s[%zu].policy.n_windows", what, i));
    TCN_ENSURE(p->n_windows <= TCN_POLICY_WINDOWS_MAX, r->err, TCN_ERR_MALFORMED,
               "snapshot: %s[%zu].policy.n_windows: %u exceeds %u", what, i, p->n_windows, TCN_POLICY_WINDOWS_MAX);
    for (unsigned k = 0; k < p->n_windows; k++) {
        TCN_GUARD(r_u16(r, &p->windows[k].start_min, "%s[%zu].policy.windows[%u].start_min", what, i, k));
        TCN_GUARD(r_u16(r, &p->windows[k].end_min, "%s[%zu].policy.windows[%u].end_min", what, i, k));
    }
    tcn_error e;
    if (tcn_state_policy_validate(p, &e) != TCN_OK)
        return tcn_err_set(r->err, TCN_ERR_MALFORMED, "snapshot: %s[%zu].%s", what, i, e.msg);
    return TCN_OK;
}

/* Adds a chain account's public key; a key that plays two parts is corrupt. */
static int add_account(reader *r, tcn_state *st, const tcn_chain_pubkey *pk, uint64_t tag, const char *field,
                       size_t i)
{
    TCN_ENSURE(tcn_state_table_get(&st->accounts, pk) == 0, r->err, TCN_ERR_MALFORMED,
               "snapshot: %s[%zu]: public key already held by another record", field, i);
    TCN_ENSURE(tcn_state_table_reserve(&st->accounts, 1) == TCN_OK, r->err, TCN_ERR_NOMEM,
               "snapshot: accounts: out of memory");
    tcn_state_table_put(&st->accounts, pk, tag);
    return TCN_OK;
}

static int read_header(reader *r, tcn_state *st)
{
    uint8_t genesis;
    TCN_GUARD(r_u64(r, &st->applied_index, "applied_index"));
    TCN_GUARD(r_u64(r, &st->now_ms, "now_ms"));
    TCN_GUARD(r_u8(r, &genesis, "genesis"));
    TCN_ENSURE(genesis <= 1, r->err, TCN_ERR_MALFORMED, "snapshot: genesis: %u is not a boolean", genesis);
    if (!genesis) {
        TCN_ENSURE(st->now_ms == 0, r->err, TCN_ERR_MALFORMED, "snapshot: now_ms: %llu before genesis",
                   ULL(st->now_ms));
        return TCN_OK;
    }
    st->genesis = true;
    TCN_GUARD(r_bytes(r, st->group_id, TCN_STATE_GROUP_ID_LEN, "group_id"));
    TCN_ENSURE(!all_zero(st->group_id, TCN_STATE_GROUP_ID_LEN), r->err, TCN_ERR_MALFORMED,
               "snapshot: group_id: all zero");
    uint8_t *sk = st->root + TCN_STATE_ROOT_COORDINATOR;
    TCN_GUARD(r_bytes(r, sk, TCN_CHAIN_SEED_LEN, "coordinator_seed"));
    TCN_GUARD(r_key(r, &st->coordinator, "coordinator"));
    TCN_ENSURE(!tcn_state_pubkey_is_zero(&st->coordinator), r->err, TCN_ERR_MALFORMED,
               "snapshot: coordinator: the zero key");
    memcpy(sk + TCN_CHAIN_SEED_LEN, st->coordinator.b, TCN_CHAIN_PUBKEY_LEN);
    tcn_state_derive_hash_key(st);
    TCN_ENSURE(tcn_state_table_reserve(&st->accounts, 1) == TCN_OK, r->err, TCN_ERR_NOMEM,
               "snapshot: accounts: out of memory");
    tcn_state_table_put(&st->accounts, &st->coordinator, TCN_STATE_TAG_COORDINATOR);
    return TCN_OK;
}

static int read_clients(reader *r, tcn_state *st)
{
    uint64_t n;
    TCN_GUARD(r_count(r, &n, CLIENT_BYTES, SIZE_MAX / 4 / sizeof(tcn_state_table_slot), "n_clients"));
    TCN_ENSURE(st->genesis || n == 0, r->err, TCN_ERR_MALFORMED, "snapshot: n_clients: %llu before genesis", ULL(n));
    TCN_ENSURE(tcn_state_table_reserve(&st->clients, n) == TCN_OK, r->err, TCN_ERR_NOMEM,
               "snapshot: clients: out of memory");
    tcn_chain_pubkey prev;
    for (size_t i = 0; i < n; i++) {
        tcn_chain_pubkey pk;
        uint8_t role;
        TCN_GUARD(r_key(r, &pk, "clients[%zu].pubkey", i));
        TCN_GUARD(r_u8(r, &role, "clients[%zu].role", i));
        TCN_ENSURE(!tcn_state_pubkey_is_zero(&pk), r->err, TCN_ERR_MALFORMED, "snapshot: clients[%zu].pubkey: zero", i);
        TCN_ENSURE(i == 0 || memcmp(prev.b, pk.b, TCN_CHAIN_PUBKEY_LEN) < 0, r->err, TCN_ERR_MALFORMED,
                   "snapshot: clients[%zu].pubkey: not above clients[%zu] (sorted, no repeats)", i, i - 1);
        TCN_ENSURE(role >= TCN_ROLE_USER && role <= TCN_ROLE_OPERATOR, r->err, TCN_ERR_MALFORMED,
                   "snapshot: clients[%zu].role: unknown %u", i, role);
        tcn_state_table_put(&st->clients, &pk, role);
        if (role == TCN_ROLE_OPERATOR)
            st->n_operators++;
        prev = pk;
    }
    TCN_ENSURE(!st->genesis || st->n_operators > 0, r->err, TCN_ERR_MALFORMED, "snapshot: clients: no operator");
    return TCN_OK;
}

static int read_keys(reader *r, tcn_state *st)
{
    uint64_t n;
    TCN_GUARD(r_count(r, &n, KEY_MIN_BYTES, SIZE_MAX / sizeof(tcn_state_key_rec), "n_keys"));
    TCN_ENSURE(st->genesis || n == 0, r->err, TCN_ERR_MALFORMED, "snapshot: n_keys: %llu before genesis", ULL(n));
    if (n == 0)
        return TCN_OK;
    st->keys = calloc(n, sizeof(*st->keys));
    TCN_ENSURE(st->keys != NULL, r->err, TCN_ERR_NOMEM, "snapshot: keys: out of memory");
    st->cap_keys = n;
    TCN_ENSURE(tcn_state_secrets_reserve(&st->key_secrets, n) == TCN_OK, r->err, TCN_ERR_NOMEM,
               "snapshot: keys: secure memory exhausted");
    for (size_t i = 0; i < n; i++) {
        tcn_state_key_rec *k = &st->keys[i];
        uint64_t id;
        uint8_t len;
        TCN_GUARD(r_u64(r, &id, "keys[%zu].id", i));
        TCN_ENSURE(id == i + 1, r->err, TCN_ERR_MALFORMED, "snapshot: keys[%zu].id: %llu, want %zu (dense ids)", i,
                   ULL(id), i + 1);
        TCN_GUARD(r_u8(r, &k->kind, "keys[%zu].kind", i));
        TCN_ENSURE(k->kind == TCN_KEY_ED25519_SEED || k->kind == TCN_KEY_FROST_SHARE, r->err, TCN_ERR_MALFORMED,
                   "snapshot: keys[%zu].kind: unknown %u", i, k->kind);
        bool ed = k->kind == TCN_KEY_ED25519_SEED;
        TCN_GUARD(r_key(r, &k->owner, "keys[%zu].owner", i));
        TCN_ENSURE(!tcn_state_pubkey_is_zero(&k->owner), r->err, TCN_ERR_MALFORMED, "snapshot: keys[%zu].owner: zero",
                   i);
        TCN_GUARD(r_key(r, &k->pubkey, "keys[%zu].pubkey", i));
        TCN_ENSURE(ed != tcn_state_pubkey_is_zero(&k->pubkey), r->err, TCN_ERR_MALFORMED,
                   "snapshot: keys[%zu].pubkey: %s", i, ed ? "zero for an Ed25519 key" : "set for a share");
        TCN_GUARD(r_u8(r, &len, "keys[%zu].secret_len", i));
        TCN_ENSURE(ed ? len == TCN_CHAIN_SEED_LEN : len >= 1 && len <= TCN_STATE_SHARE_BYTES_MAX, r->err,
                   TCN_ERR_MALFORMED, "snapshot: keys[%zu].secret_len: %u out of range for its kind", i, len);
        uint8_t *slot = tcn_state_secrets_at(&st->key_secrets, i);
        TCN_GUARD(r_bytes(r, slot, len, "keys[%zu].secret", i));
        st->n_keys = i + 1; /* from here on, freeing the state releases its policy */
        if (ed) {
            memcpy(slot + TCN_CHAIN_SEED_LEN, k->pubkey.b, TCN_CHAIN_PUBKEY_LEN);
            k->secret_len = TCN_STATE_SECRET_BYTES;
            TCN_GUARD(add_account(r, st, &k->pubkey, TCN_STATE_TAG_KEY | (i + 1), "keys", i));
        } else {
            k->secret_len = len;
        }
        tcn_key_policy pol;
        TCN_GUARD(read_policy(r, &pol, "keys", i));
        TCN_ENSURE(tcn_state_policy_dup(&pol, &k->policy) == TCN_OK, r->err, TCN_ERR_NOMEM,
                   "snapshot: keys: out of memory");
        TCN_GUARD(r_u64(r, &k->day, "keys[%zu].day", i));
        TCN_GUARD(r_u64(r, &k->day_spent, "keys[%zu].day_spent", i));
    }
    return TCN_OK;
}

static int read_blob(reader *r, uint8_t **p, uint16_t *len, uint16_t min, const char *field, size_t i)
{
    TCN_GUARD(r_u16(r, len, "swaps[%zu].%s_len", i, field));
    TCN_ENSURE(*len <= TCN_CHAIN_PACKET_BYTES_MAX, r->err, TCN_ERR_MALFORMED,
               "snapshot: swaps[%zu].%s_len: %u exceeds %u", i, field, *len, TCN_CHAIN_PACKET_BYTES_MAX);
    TCN_ENSURE(*len == 0 || *len >= min, r->err, TCN_ERR_MALFORMED, "snapshot: swaps[%zu].%s_len: %u below %u", i,
               field, *len, min);
    if (*len == 0)
        return TCN_OK;
    const uint8_t *src;
    if (tcn_cur_view(&r->c, *len, &src) != TCN_OK) {
        *len = 0;
        return tcn_err_set(r->err, TCN_ERR_TRUNCATED, "snapshot: swaps[%zu].%s: input ends early", i, field);
    }
    *p = malloc(*len);
    if (*p == NULL) {
        *len = 0;
        return tcn_err_set(r->err, TCN_ERR_NOMEM, "snapshot: swaps: out of memory");
    }
    memcpy(*p, src, *len);
    return TCN_OK;
}

/* A transaction signed by two keys is at least its two signatures long. */
#define TX_MIN_BYTES (1 + 2 * TCN_CHAIN_SIGNATURE_LEN)

static int read_swap(reader *r, tcn_state *st, size_t i)
{
    tcn_state_swap_rec *s = &st->swaps[i];
    uint64_t id;
    TCN_GUARD(r_u64(r, &id, "swaps[%zu].id", i));
    TCN_ENSURE(id == i + 1, r->err, TCN_ERR_MALFORMED, "snapshot: swaps[%zu].id: %llu, want %zu (dense ids)", i,
               ULL(id), i + 1);
    TCN_GUARD(r_u8(r, &s->status, "swaps[%zu].status", i));
    TCN_ENSURE(s->status >= TCN_SWAP_NEW && s->status <= TCN_SWAP_CLOSED, r->err, TCN_ERR_MALFORMED,
               "snapshot: swaps[%zu].status: unknown %u", i, s->status);
    TCN_GUARD(r_key(r, &s->user, "swaps[%zu].user", i));
    TCN_GUARD(r_key(r, &s->lp, "swaps[%zu].lp", i));
    TCN_GUARD(r_key(r, &s->refund_to, "swaps[%zu].refund_to", i));
    TCN_ENSURE(!tcn_state_pubkey_is_zero(&s->user) && !tcn_state_pubkey_is_zero(&s->lp) &&
                   !tcn_state_pubkey_is_zero(&s->refund_to),
               r->err, TCN_ERR_MALFORMED, "snapshot: swaps[%zu]: user, lp or refund_to is the zero key", i);
    TCN_GUARD(r_u64(r, &s->escrow_key_id, "swaps[%zu].escrow_key_id", i));
    const tcn_state_key_rec *k = tcn_state_key_get(st, s->escrow_key_id);
    TCN_ENSURE(k != NULL, r->err, TCN_ERR_MALFORMED, "snapshot: swaps[%zu].escrow_key_id: %llu: no such key", i,
               ULL(s->escrow_key_id));
    TCN_ENSURE(k->kind == TCN_KEY_ED25519_SEED, r->err, TCN_ERR_MALFORMED,
               "snapshot: swaps[%zu].escrow_key_id: key %llu is a share", i, ULL(s->escrow_key_id));
    TCN_GUARD(r_key(r, &s->nonce, "swaps[%zu].nonce", i));
    TCN_ENSURE(!tcn_state_pubkey_is_zero(&s->nonce), r->err, TCN_ERR_MALFORMED, "snapshot: swaps[%zu].nonce: zero", i);
    uint8_t *slot = tcn_state_secrets_at(&st->nonce_secrets, i);
    TCN_GUARD(r_bytes(r, slot, TCN_CHAIN_SEED_LEN, "swaps[%zu].nonce_seed", i));
    memcpy(slot + TCN_CHAIN_SEED_LEN, s->nonce.b, TCN_CHAIN_PUBKEY_LEN);
    TCN_GUARD(add_account(r, st, &s->nonce, TCN_STATE_TAG_NONCE | (i + 1), "swaps", i));
    TCN_GUARD(r_u64(r, &s->amount, "swaps[%zu].amount", i));
    TCN_GUARD(r_u64(r, &s->deadline_ms, "swaps[%zu].deadline_ms", i));
    TCN_GUARD(r_u64(r, &s->created_ms, "swaps[%zu].created_ms", i));
    TCN_GUARD(r_bool(r, &s->funded, "swaps[%zu].funded", i));
    TCN_GUARD(r_bool(r, &s->nonce_initialized, "swaps[%zu].nonce_initialized", i));
    TCN_GUARD(r_hash(r, &s->nonce_value, "swaps[%zu].nonce_value", i));
    TCN_GUARD(r_u64(r, &s->escrow_lamports, "swaps[%zu].escrow_lamports", i));
    TCN_GUARD(r_u64(r, &s->observed_slot, "swaps[%zu].observed_slot", i));
    TCN_GUARD(read_blob(r, &s->refund, &s->refund_len, TX_MIN_BYTES, "refund", i));
    TCN_GUARD(r_u64(r, &s->intent_payout_id, "swaps[%zu].intent_payout_id", i));
    TCN_GUARD(r_hash(r, &s->intent_nonce_value, "swaps[%zu].intent_nonce_value", i));
    TCN_GUARD(read_blob(r, &s->intent_tx, &s->intent_tx_len, TX_MIN_BYTES, "intent_tx", i));

    /* What apply guarantees about a swap's fields, one status at a time. */
    bool intent = s->intent_payout_id != 0;
    TCN_ENSURE(s->nonce_initialized || (all_zero(s->nonce_value.b, TCN_CHAIN_HASH_LEN) && s->refund_len == 0), r->err,
               TCN_ERR_MALFORMED, "snapshot: swaps[%zu]: a nonce value or refund without an initialized nonce", i);
    TCN_ENSURE((s->status == TCN_SWAP_NEW) == !s->nonce_initialized, r->err, TCN_ERR_MALFORMED,
               "snapshot: swaps[%zu].nonce_initialized: inconsistent with status %u", i, s->status);
    TCN_ENSURE(s->status != TCN_SWAP_CLOSED || (s->funded && s->escrow_lamports == 0 && s->refund_len == 0), r->err,
               TCN_ERR_MALFORMED, "snapshot: swaps[%zu]: CLOSED but not funded and empty, or holding a refund", i);
    TCN_ENSURE(s->status == TCN_SWAP_CLOSED || !(s->funded && s->escrow_lamports == 0), r->err, TCN_ERR_MALFORMED,
               "snapshot: swaps[%zu]: funded and empty but not CLOSED", i);
    TCN_ENSURE(intent == (s->intent_tx_len > 0), r->err, TCN_ERR_MALFORMED,
               "snapshot: swaps[%zu]: intent_payout_id and intent_tx disagree", i);
    TCN_ENSURE(intent || all_zero(s->intent_nonce_value.b, TCN_CHAIN_HASH_LEN), r->err, TCN_ERR_MALFORMED,
               "snapshot: swaps[%zu].intent_nonce_value: set without an intent", i);
    TCN_ENSURE(!intent || (s->status == TCN_SWAP_OPEN && s->funded), r->err, TCN_ERR_MALFORMED,
               "snapshot: swaps[%zu]: an intent on a swap not OPEN and funded", i);
    /* The escrow key's open swap is derived, and unique. */
    if (s->status != TCN_SWAP_CLOSED) {
        tcn_state_key_rec *ek = tcn_state_key_get(st, s->escrow_key_id);
        TCN_ENSURE(ek->swap_id == 0, r->err, TCN_ERR_MALFORMED,
                   "snapshot: swaps[%zu].escrow_key_id: key %llu is also the escrow of open swap %llu", i,
                   ULL(s->escrow_key_id), ULL(ek->swap_id));
        ek->swap_id = i + 1;
    }
    return TCN_OK;
}

static int read_swaps(reader *r, tcn_state *st)
{
    uint64_t n;
    TCN_GUARD(r_count(r, &n, SWAP_MIN_BYTES, SIZE_MAX / sizeof(tcn_state_swap_rec), "n_swaps"));
    TCN_ENSURE(st->genesis || n == 0, r->err, TCN_ERR_MALFORMED, "snapshot: n_swaps: %llu before genesis", ULL(n));
    if (n == 0)
        return TCN_OK;
    st->swaps = calloc(n, sizeof(*st->swaps));
    TCN_ENSURE(st->swaps != NULL, r->err, TCN_ERR_NOMEM, "snapshot: swaps: out of memory");
    st->cap_swaps = n;
    TCN_ENSURE(tcn_state_secrets_reserve(&st->nonce_secrets, n) == TCN_OK &&
                   tcn_state_table_reserve(&st->accounts, n) == TCN_OK,
               r->err, TCN_ERR_NOMEM, "snapshot: swaps: out of memory");
    for (size_t i = 0; i < n; i++) {
        st->n_swaps = i + 1; /* freeing the state releases what the record holds */
        TCN_GUARD(read_swap(r, st, i));
    }
    return TCN_OK;
}

static int read_payouts(reader *r, tcn_state *st)
{
    uint64_t n;
    TCN_GUARD(r_count(r, &n, PAYOUT_MIN_BYTES, SIZE_MAX / sizeof(tcn_state_payout_rec), "n_payouts"));
    if (n == 0)
        return TCN_OK;
    st->payouts = calloc(n, sizeof(*st->payouts));
    TCN_ENSURE(st->payouts != NULL, r->err, TCN_ERR_NOMEM, "snapshot: payouts: out of memory");
    st->cap_payouts = n;
    for (size_t i = 0; i < n; i++) {
        tcn_state_payout_rec *p = &st->payouts[i];
        uint64_t id;
        TCN_GUARD(r_u64(r, &id, "payouts[%zu].id", i));
        TCN_ENSURE(id == i + 1, r->err, TCN_ERR_MALFORMED, "snapshot: payouts[%zu].id: %llu, want %zu (dense ids)", i,
                   ULL(id), i + 1);
        TCN_GUARD(r_u64(r, &p->swap_id, "payouts[%zu].swap_id", i));
        tcn_state_swap_rec *sw = tcn_state_swap_get(st, p->swap_id);
        TCN_ENSURE(sw != NULL, r->err, TCN_ERR_MALFORMED, "snapshot: payouts[%zu].swap_id: %llu: no such swap", i,
                   ULL(p->swap_id));
        TCN_GUARD(r_u8(r, &p->status, "payouts[%zu].status", i));
        TCN_ENSURE(p->status >= TCN_PAYOUT_SCHEDULED && p->status <= TCN_PAYOUT_FAILED, r->err, TCN_ERR_MALFORMED,
                   "snapshot: payouts[%zu].status: unknown %u", i, p->status);
        TCN_GUARD(r_u32(r, &p->attempts, "payouts[%zu].attempts", i));
        TCN_GUARD(r_key(r, &p->destination, "payouts[%zu].destination", i));
        TCN_GUARD(r_u64(r, &p->amount, "payouts[%zu].amount", i));
        TCN_GUARD(r_u64(r, &p->due_ms, "payouts[%zu].due_ms", i));
        TCN_GUARD(r_u64(r, &p->landed_slot, "payouts[%zu].landed_slot", i));
        TCN_GUARD(r_bytes(r, p->sig.b, TCN_CHAIN_SIGNATURE_LEN, "payouts[%zu].sig", i));
        st->n_payouts = i + 1;

        bool landed = p->status == TCN_PAYOUT_PAID || p->status == TCN_PAYOUT_FAILED;
        TCN_ENSURE(!tcn_state_pubkey_is_zero(&p->destination) && p->amount > 0, r->err, TCN_ERR_MALFORMED,
                   "snapshot: payouts[%zu]: zero destination or amount", i);
        TCN_ENSURE(landed == (p->landed_slot != 0), r->err, TCN_ERR_MALFORMED,
                   "snapshot: payouts[%zu].landed_slot: inconsistent with status %u", i, p->status);
        TCN_ENSURE((p->attempts == 0) == all_zero(p->sig.b, TCN_CHAIN_SIGNATURE_LEN) &&
                       (p->status == TCN_PAYOUT_SCHEDULED || p->attempts > 0),
                   r->err, TCN_ERR_MALFORMED, "snapshot: payouts[%zu].attempts: inconsistent with sig and status", i);
        TCN_ENSURE((p->status == TCN_PAYOUT_INTENT) == (sw->intent_payout_id == i + 1), r->err, TCN_ERR_MALFORMED,
                   "snapshot: payouts[%zu]: status and swap %llu's open intent disagree", i, ULL(p->swap_id));
        TCN_ENSURE(sw->n_payouts < TCN_STATE_SWAP_PAYOUTS_MAX, r->err, TCN_ERR_MALFORMED,
                   "snapshot: payouts[%zu]: swap %llu holds more than %u payouts", i, ULL(p->swap_id),
                   TCN_STATE_SWAP_PAYOUTS_MAX);
        if (sw->n_payouts == sw->cap_payouts) {
            unsigned cap = sw->cap_payouts ? sw->cap_payouts * 2u : 4u;
            if (cap > TCN_STATE_SWAP_PAYOUTS_MAX)
                cap = TCN_STATE_SWAP_PAYOUTS_MAX;
            uint64_t *v = realloc(sw->payouts, cap * sizeof(*v));
            TCN_ENSURE(v != NULL, r->err, TCN_ERR_NOMEM, "snapshot: payouts: out of memory");
            sw->payouts = v;
            sw->cap_payouts = (uint8_t)cap;
        }
        sw->payouts[sw->n_payouts++] = i + 1;
    }
    return TCN_OK;
}

static int read_members(reader *r, tcn_state *st)
{
    uint64_t n;
    TCN_GUARD(r_count(r, &n, MEMBER_MIN_BYTES, TCN_STATE_MEMBERS_MAX, "n_members"));
    TCN_ENSURE(st->genesis || n == 0, r->err, TCN_ERR_MALFORMED, "snapshot: n_members: %llu before genesis", ULL(n));
    for (size_t i = 0; i < n; i++) {
        tcn_state_member_rec *m = &st->members[i];
        uint8_t len;
        TCN_GUARD(r_u64(r, &m->node_id, "members[%zu].node_id", i));
        TCN_ENSURE(m->node_id != 0 && (i == 0 || st->members[i - 1].node_id < m->node_id), r->err, TCN_ERR_MALFORMED,
                   "snapshot: members[%zu].node_id: zero, or not above the one before", i);
        TCN_GUARD(r_bytes(r, m->measurement, TCN_STATE_MEASUREMENT_LEN, "members[%zu].measurement", i));
        TCN_GUARD(r_u8(r, &len, "members[%zu].address_len", i));
        TCN_ENSURE(len >= 1 && len <= TCN_STATE_ADDRESS_MAX, r->err, TCN_ERR_MALFORMED,
                   "snapshot: members[%zu].address_len: %u outside 1..%u", i, len, TCN_STATE_ADDRESS_MAX);
        TCN_GUARD(r_bytes(r, m->address, len, "members[%zu].address", i));
        TCN_ENSURE(memchr(m->address, '\0', len) == NULL, r->err, TCN_ERR_MALFORMED,
                   "snapshot: members[%zu].address: holds a NUL byte", i);
        m->address[len] = '\0';
        st->n_members = i + 1;
    }
    return TCN_OK;
}

static int read_state(reader *r, tcn_state *st)
{
    TCN_GUARD(read_header(r, st));
    TCN_GUARD(read_clients(r, st));
    TCN_GUARD(read_keys(r, st));
    TCN_GUARD(read_swaps(r, st));
    TCN_GUARD(read_payouts(r, st));
    /* Every open intent names one of its swap's payouts (the payouts side
     * was checked as they were read). */
    for (size_t i = 0; i < st->n_swaps; i++) {
        uint64_t pid = st->swaps[i].intent_payout_id;
        const tcn_state_payout_rec *p = tcn_state_payout_get(st, pid);
        TCN_ENSURE(pid == 0 || (p != NULL && p->swap_id == i + 1), r->err, TCN_ERR_MALFORMED,
                   "snapshot: swaps[%zu].intent_payout_id: %llu is not one of its payouts", i, ULL(pid));
    }
    TCN_GUARD(read_members(r, st));
    TCN_ENSURE(tcn_cur_remaining(&r->c) == 0, r->err, TCN_ERR_MALFORMED, "snapshot: %zu bytes after the members",
               tcn_cur_remaining(&r->c));
    return TCN_OK;
}

int tcn_state_restore(const uint8_t *p, size_t len, tcn_state **out, tcn_error *err)
{
    TCN_ASSERT(out != NULL);
    TCN_ASSERT(p != NULL || len == 0);
    *out = NULL;
    const size_t head = sizeof(MAGIC) + 4;
    TCN_ENSURE(len >= head + TCN_SHA256_LEN, err, TCN_ERR_TRUNCATED,
               "snapshot: %zu bytes, too short for magic, version and checksum", len);
    TCN_ENSURE(memcmp(p, MAGIC, sizeof(MAGIC)) == 0, err, TCN_ERR_MALFORMED, "snapshot: magic: not \"TCNS\"");
    uint32_t version = ((uint32_t)p[4] << 24) | ((uint32_t)p[5] << 16) | ((uint32_t)p[6] << 8) | p[7];
    TCN_ENSURE(version == TCN_STATE_SNAPSHOT_VERSION, err, TCN_ERR_UNSUPPORTED,
               "snapshot: version: %u unsupported (want %u)", version, TCN_STATE_SNAPSHOT_VERSION);
    uint8_t sum[TCN_SHA256_LEN];
    tcn_sha256(p, len - TCN_SHA256_LEN, sum);
    TCN_ENSURE(memcmp(sum, p + len - TCN_SHA256_LEN, TCN_SHA256_LEN) == 0, err, TCN_ERR_CORRUPT,
               "snapshot: checksum: the SHA-256 trailer does not match the %zu bytes before it", len - TCN_SHA256_LEN);
    /* The bytes are what some node wrote. Build a private state while
     * checking every field and reference; on any refusal it is wiped and
     * freed, and the caller never sees it. */
    tcn_state *st;
    TCN_ENSURE(tcn_state_new(&st) == TCN_OK, err, TCN_ERR_NOMEM, "snapshot: out of memory");
    reader r;
    tcn_cur_init(&r.c, p + head, len - head - TCN_SHA256_LEN);
    r.err = err;
    int rc = read_state(&r, st);
    if (rc != TCN_OK) {
        tcn_state_free(st);
        return rc;
    }
    *out = st;
    return TCN_OK;
}
