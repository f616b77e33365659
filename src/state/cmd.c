/* The command codec: one strict decoder and one canonical encoder for tcn_cmd (layout in cmd.h). */
#include "state/cmd.h"

#include <stdio.h>
#include <string.h>

#include "util/assert.h"
#include "util/secmem.h"

/* Sizes of the fixed parts (bytes). */
#define HEADER_BYTES (1 + 1 + 8 + TCN_CHAIN_PUBKEY_LEN)
#define WINDOW_BYTES 4u

const char *tcn_cmd_type_name(uint8_t type)
{
    static const char *const names[] = {
        NULL,          "GENESIS",         "CLIENT_SET",    "KEY_IMPORT",     "POLICY_SET", "SWAP_CREATE",
        "SWAP_OBSERVED", "PAYOUT_SCHEDULE", "PAYOUT_INTENT", "PAYOUT_OUTCOME", "MEMBER_SET",
    };
    _Static_assert(sizeof(names) / sizeof(names[0]) == TCN_CMD_TYPE_MAX_ + 1, "a name per command type");
    return type >= 1 && type <= TCN_CMD_TYPE_MAX_ ? names[type] : "unknown";
}

void tcn_cmd_wipe(tcn_cmd *c)
{
    if (c != NULL)
        tcn_wipe(c, sizeof(*c));
}

/* --- Ranges both directions enforce --------------------------------------- */

/* `code` is MALFORMED when decoding and USAGE when encoding (the caller built
 * something the decoder would refuse); a length above its maximum is
 * TOO_LARGE either way. */
static int validate_policy(const tcn_key_policy *p, const char *t, int code, tcn_error *err)
{
    TCN_ENSURE(p->n_destinations <= TCN_POLICY_DESTINATIONS_MAX, err, code == TCN_ERR_USAGE ? code : TCN_ERR_TOO_LARGE,
               "cmd %s: policy.n_destinations: %u exceeds %u", t, p->n_destinations, TCN_POLICY_DESTINATIONS_MAX);
    TCN_ENSURE(p->n_windows <= TCN_POLICY_WINDOWS_MAX, err, code == TCN_ERR_USAGE ? code : TCN_ERR_TOO_LARGE,
               "cmd %s: policy.n_windows: %u exceeds %u", t, p->n_windows, TCN_POLICY_WINDOWS_MAX);
    return TCN_OK;
}

static int validate(const tcn_cmd *c, int code, tcn_error *err)
{
    const char *t = tcn_cmd_type_name(c->type);
    int big = code == TCN_ERR_USAGE ? code : TCN_ERR_TOO_LARGE;
    switch (c->type) {
    case TCN_CMD_GENESIS:
    case TCN_CMD_PAYOUT_SCHEDULE:
        return TCN_OK;
    case TCN_CMD_CLIENT_SET:
        TCN_ENSURE(c->u.client_set.role <= TCN_ROLE_OPERATOR, err, code, "cmd CLIENT_SET: role: unknown %u",
                   c->u.client_set.role);
        return TCN_OK;
    case TCN_CMD_KEY_IMPORT: {
        uint8_t kind = c->u.key_import.kind;
        uint16_t len = c->u.key_import.len;
        TCN_ENSURE(kind == TCN_KEY_ED25519_SEED || kind == TCN_KEY_FROST_SHARE, err, code,
                   "cmd KEY_IMPORT: kind: unknown %u", kind);
        if (kind == TCN_KEY_ED25519_SEED)
            TCN_ENSURE(len == TCN_CHAIN_SEED_LEN, err, code, "cmd KEY_IMPORT: len: %u, an Ed25519 seed is %u bytes",
                       len, TCN_CHAIN_SEED_LEN);
        TCN_ENSURE(len <= TCN_STATE_SHARE_BYTES_MAX, err, big, "cmd KEY_IMPORT: len: %u exceeds %u", len,
                   TCN_STATE_SHARE_BYTES_MAX);
        TCN_ENSURE(len >= 1, err, code, "cmd KEY_IMPORT: len: 0, a share holds at least one byte");
        return TCN_OK;
    }
    case TCN_CMD_POLICY_SET:
        return validate_policy(&c->u.policy_set.policy, t, code, err);
    case TCN_CMD_SWAP_CREATE:
        return validate_policy(&c->u.swap_create.policy, t, code, err);
    case TCN_CMD_SWAP_OBSERVED:
        TCN_ENSURE(c->u.swap_observed.refund_len <= TCN_CHAIN_PACKET_BYTES_MAX, err, big,
                   "cmd SWAP_OBSERVED: refund_len: %u exceeds %u", c->u.swap_observed.refund_len,
                   TCN_CHAIN_PACKET_BYTES_MAX);
        return TCN_OK;
    case TCN_CMD_PAYOUT_INTENT:
        TCN_ENSURE(c->u.payout_intent.tx_len <= TCN_CHAIN_PACKET_BYTES_MAX, err, big,
                   "cmd PAYOUT_INTENT: tx_len: %u exceeds %u", c->u.payout_intent.tx_len, TCN_CHAIN_PACKET_BYTES_MAX);
        TCN_ENSURE(c->u.payout_intent.tx_len >= 1, err, code,
                   "cmd PAYOUT_INTENT: tx_len: 0, an intent carries a transaction");
        return TCN_OK;
    case TCN_CMD_PAYOUT_OUTCOME: {
        uint8_t r = c->u.payout_outcome.result;
        TCN_ENSURE(r >= TCN_PAYOUT_LANDED_OK && r <= TCN_PAYOUT_DROPPED, err, code,
                   "cmd PAYOUT_OUTCOME: result: unknown %u", r);
        TCN_ENSURE(c->u.payout_outcome.refund_len <= TCN_CHAIN_PACKET_BYTES_MAX, err, big,
                   "cmd PAYOUT_OUTCOME: refund_len: %u exceeds %u", c->u.payout_outcome.refund_len,
                   TCN_CHAIN_PACKET_BYTES_MAX);
        return TCN_OK;
    }
    case TCN_CMD_MEMBER_SET:
        TCN_ENSURE(c->u.member_set.role <= TCN_ROLE_OPERATOR, err, code, "cmd MEMBER_SET: role: unknown %u",
                   c->u.member_set.role);
        TCN_ENSURE(memchr(c->u.member_set.address, '\0', sizeof(c->u.member_set.address)) != NULL, err, big,
                   "cmd MEMBER_SET: address: longer than %u bytes", TCN_STATE_ADDRESS_MAX);
        return TCN_OK;
    default:
        return tcn_err_set(err, code == TCN_ERR_USAGE ? code : TCN_ERR_UNSUPPORTED, "cmd: type: unknown %u", c->type);
    }
}

/* --- Decoding -------------------------------------------------------------- */

typedef struct parser {
    tcn_cursor *c;
    tcn_error *err;
    const char *t; /* command type name, for errors */
} parser;

static int ends(parser *p, const char *field)
{
    return tcn_err_set(p->err, TCN_ERR_TRUNCATED, "cmd %s: %s: input ends early", p->t, field);
}

static int get_u8(parser *p, uint8_t *v, const char *field)
{
    return tcn_cur_u8(p->c, v) == TCN_OK ? TCN_OK : ends(p, field);
}

static int get_u16(parser *p, uint16_t *v, const char *field)
{
    return tcn_cur_u16be(p->c, v) == TCN_OK ? TCN_OK : ends(p, field);
}

static int get_u64(parser *p, uint64_t *v, const char *field)
{
    return tcn_cur_u64be(p->c, v) == TCN_OK ? TCN_OK : ends(p, field);
}

static int get_bytes(parser *p, void *dst, size_t n, const char *field)
{
    return tcn_cur_copy(p->c, dst, n) == TCN_OK ? TCN_OK : ends(p, field);
}

/* A u16 length that must not exceed max (so the copy that follows fits). */
static int get_len(parser *p, uint16_t *v, uint16_t max, const char *field)
{
    TCN_GUARD(get_u16(p, v, field));
    TCN_ENSURE(*v <= max, p->err, TCN_ERR_TOO_LARGE, "cmd %s: %s: %u exceeds %u", p->t, field, *v, max);
    return TCN_OK;
}

static int get_bool(parser *p, bool *v, const char *field)
{
    uint8_t b;
    TCN_GUARD(get_u8(p, &b, field));
    TCN_ENSURE(b <= 1, p->err, TCN_ERR_MALFORMED, "cmd %s: %s: %u is not a boolean (0 or 1)", p->t, field, b);
    *v = b == 1;
    return TCN_OK;
}

static int get_policy(parser *p, tcn_key_policy *pol)
{
    char field[48];
    TCN_GUARD(get_u8(p, &pol->n_destinations, "policy.n_destinations"));
    TCN_ENSURE(pol->n_destinations <= TCN_POLICY_DESTINATIONS_MAX, p->err, TCN_ERR_TOO_LARGE,
               "cmd %s: policy.n_destinations: %u exceeds %u", p->t, pol->n_destinations, TCN_POLICY_DESTINATIONS_MAX);
    for (unsigned i = 0; i < pol->n_destinations; i++) {
        if (tcn_cur_copy(p->c, pol->destinations[i].b, TCN_CHAIN_PUBKEY_LEN) != TCN_OK) {
            snprintf(field, sizeof(field), "policy.destinations[%u]", i);
            return ends(p, field);
        }
    }
    TCN_GUARD(get_u64(p, &pol->max_per_payout, "policy.max_per_payout"));
    TCN_GUARD(get_u64(p, &pol->max_per_day, "policy.max_per_day"));
    TCN_GUARD(get_u8(p, &pol->n_windows, "policy.n_windows"));
    TCN_ENSURE(pol->n_windows <= TCN_POLICY_WINDOWS_MAX, p->err, TCN_ERR_TOO_LARGE,
               "cmd %s: policy.n_windows: %u exceeds %u", p->t, pol->n_windows, TCN_POLICY_WINDOWS_MAX);
    for (unsigned i = 0; i < pol->n_windows; i++) {
        if (tcn_cur_u16be(p->c, &pol->windows[i].start_min) != TCN_OK ||
            tcn_cur_u16be(p->c, &pol->windows[i].end_min) != TCN_OK) {
            snprintf(field, sizeof(field), "policy.windows[%u]", i);
            return ends(p, field);
        }
    }
    return TCN_OK;
}

static int parse_body(parser *p, tcn_cmd *c)
{
    switch (c->type) {
    case TCN_CMD_GENESIS:
        TCN_GUARD(get_bytes(p, c->u.genesis.group_id, TCN_STATE_GROUP_ID_LEN, "group_id"));
        TCN_GUARD(get_bytes(p, c->u.genesis.coordinator_seed, TCN_CHAIN_SEED_LEN, "coordinator_seed"));
        return get_bytes(p, c->u.genesis.operator_key.b, TCN_CHAIN_PUBKEY_LEN, "operator_key");
    case TCN_CMD_CLIENT_SET:
        TCN_GUARD(get_bytes(p, c->u.client_set.client.b, TCN_CHAIN_PUBKEY_LEN, "client"));
        return get_u8(p, &c->u.client_set.role, "role");
    case TCN_CMD_KEY_IMPORT:
        TCN_GUARD(get_u8(p, &c->u.key_import.kind, "kind"));
        TCN_GUARD(get_len(p, &c->u.key_import.len, TCN_STATE_SHARE_BYTES_MAX, "len"));
        return get_bytes(p, c->u.key_import.secret, c->u.key_import.len, "secret");
    case TCN_CMD_POLICY_SET:
        TCN_GUARD(get_u64(p, &c->u.policy_set.key_id, "key_id"));
        return get_policy(p, &c->u.policy_set.policy);
    case TCN_CMD_SWAP_CREATE:
        TCN_GUARD(get_u64(p, &c->u.swap_create.escrow_key_id, "escrow_key_id"));
        TCN_GUARD(get_bytes(p, c->u.swap_create.escrow_seed, TCN_CHAIN_SEED_LEN, "escrow_seed"));
        TCN_GUARD(get_bytes(p, c->u.swap_create.nonce_seed, TCN_CHAIN_SEED_LEN, "nonce_seed"));
        TCN_GUARD(get_bytes(p, c->u.swap_create.lp.b, TCN_CHAIN_PUBKEY_LEN, "lp"));
        TCN_GUARD(get_bytes(p, c->u.swap_create.refund_to.b, TCN_CHAIN_PUBKEY_LEN, "refund_to"));
        TCN_GUARD(get_u64(p, &c->u.swap_create.amount, "amount"));
        TCN_GUARD(get_u64(p, &c->u.swap_create.deadline_ms, "deadline_ms"));
        return get_policy(p, &c->u.swap_create.policy);
    case TCN_CMD_SWAP_OBSERVED:
        TCN_GUARD(get_u64(p, &c->u.swap_observed.swap_id, "swap_id"));
        TCN_GUARD(get_u64(p, &c->u.swap_observed.slot, "slot"));
        TCN_GUARD(get_bool(p, &c->u.swap_observed.nonce_initialized, "nonce_initialized"));
        TCN_GUARD(get_bytes(p, c->u.swap_observed.nonce_value.b, TCN_CHAIN_HASH_LEN, "nonce_value"));
        TCN_GUARD(get_u64(p, &c->u.swap_observed.escrow_lamports, "escrow_lamports"));
        TCN_GUARD(get_len(p, &c->u.swap_observed.refund_len, TCN_CHAIN_PACKET_BYTES_MAX, "refund_len"));
        return get_bytes(p, c->u.swap_observed.refund, c->u.swap_observed.refund_len, "refund");
    case TCN_CMD_PAYOUT_SCHEDULE:
        TCN_GUARD(get_u64(p, &c->u.payout_schedule.swap_id, "swap_id"));
        TCN_GUARD(get_bytes(p, c->u.payout_schedule.destination.b, TCN_CHAIN_PUBKEY_LEN, "destination"));
        TCN_GUARD(get_u64(p, &c->u.payout_schedule.amount, "amount"));
        return get_u64(p, &c->u.payout_schedule.due_ms, "due_ms");
    case TCN_CMD_PAYOUT_INTENT:
        TCN_GUARD(get_u64(p, &c->u.payout_intent.swap_id, "swap_id"));
        TCN_GUARD(get_u64(p, &c->u.payout_intent.payout_id, "payout_id"));
        TCN_GUARD(get_bytes(p, c->u.payout_intent.nonce_value.b, TCN_CHAIN_HASH_LEN, "nonce_value"));
        TCN_GUARD(get_len(p, &c->u.payout_intent.tx_len, TCN_CHAIN_PACKET_BYTES_MAX, "tx_len"));
        return get_bytes(p, c->u.payout_intent.tx, c->u.payout_intent.tx_len, "tx");
    case TCN_CMD_PAYOUT_OUTCOME:
        TCN_GUARD(get_u64(p, &c->u.payout_outcome.swap_id, "swap_id"));
        TCN_GUARD(get_u64(p, &c->u.payout_outcome.payout_id, "payout_id"));
        TCN_GUARD(get_u8(p, &c->u.payout_outcome.result, "result"));
        TCN_GUARD(get_u64(p, &c->u.payout_outcome.slot, "slot"));
        TCN_GUARD(get_bytes(p, c->u.payout_outcome.nonce_value.b, TCN_CHAIN_HASH_LEN, "nonce_value"));
        TCN_GUARD(get_u64(p, &c->u.payout_outcome.escrow_lamports, "escrow_lamports"));
        TCN_GUARD(get_len(p, &c->u.payout_outcome.refund_len, TCN_CHAIN_PACKET_BYTES_MAX, "refund_len"));
        return get_bytes(p, c->u.payout_outcome.refund, c->u.payout_outcome.refund_len, "refund");
    case TCN_CMD_MEMBER_SET: {
        uint16_t n;
        TCN_GUARD(get_u64(p, &c->u.member_set.node_id, "node_id"));
        TCN_GUARD(get_u8(p, &c->u.member_set.role, "role"));
        TCN_GUARD(get_bytes(p, c->u.member_set.measurement, TCN_STATE_MEASUREMENT_LEN, "measurement"));
        TCN_GUARD(get_len(p, &n, TCN_STATE_ADDRESS_MAX, "address_len"));
        TCN_GUARD(get_bytes(p, c->u.member_set.address, n, "address"));
        TCN_ENSURE(memchr(c->u.member_set.address, '\0', n) == NULL, p->err, TCN_ERR_MALFORMED,
                   "cmd MEMBER_SET: address: holds a NUL byte");
        c->u.member_set.address[n] = '\0';
        return TCN_OK;
    }
    default:
        return tcn_err_set(p->err, TCN_ERR_UNSUPPORTED, "cmd: type: unknown %u", c->type);
    }
}

int tcn_cmd_decode(const uint8_t *bytes, size_t len, tcn_cmd *out, tcn_error *err)
{
    TCN_ASSERT(out != NULL);
    TCN_ASSERT(bytes != NULL || len == 0);
    memset(out, 0, sizeof(*out));
    tcn_cursor c;
    tcn_cur_init(&c, bytes, len);
    parser p = {&c, err, "command"};
    uint8_t version;
    int rc = get_u8(&p, &version, "version");
    if (rc == TCN_OK && version != TCN_CMD_VERSION)
        rc = tcn_err_set(err, TCN_ERR_UNSUPPORTED, "cmd: version: %u unsupported (want %u)", version, TCN_CMD_VERSION);
    if (rc == TCN_OK)
        rc = get_u8(&p, &out->type, "type");
    if (rc == TCN_OK && (out->type < 1 || out->type > TCN_CMD_TYPE_MAX_))
        rc = tcn_err_set(err, TCN_ERR_UNSUPPORTED, "cmd: type: unknown %u", out->type);
    if (rc == TCN_OK) {
        p.t = tcn_cmd_type_name(out->type);
        rc = get_u64(&p, &out->ts_ms, "ts_ms");
    }
    if (rc == TCN_OK)
        rc = get_bytes(&p, out->actor.b, TCN_CHAIN_PUBKEY_LEN, "actor");
    if (rc == TCN_OK)
        rc = parse_body(&p, out);
    if (rc == TCN_OK && tcn_cur_remaining(&c) != 0)
        rc = tcn_err_set(err, TCN_ERR_MALFORMED, "cmd %s: %zu trailing bytes", p.t, tcn_cur_remaining(&c));
    if (rc == TCN_OK)
        rc = validate(out, TCN_ERR_MALFORMED, err);
    if (rc != TCN_OK)
        tcn_cmd_wipe(out); /* a partly decoded seed must not linger */
    return rc;
}

/* --- Encoding -------------------------------------------------------------- */

static size_t policy_bytes(const tcn_key_policy *p)
{
    return 1 + (size_t)p->n_destinations * TCN_CHAIN_PUBKEY_LEN + 8 + 8 + 1 + (size_t)p->n_windows * WINDOW_BYTES;
}

/* The exact encoded size of a validated command. */
static size_t encoded_bytes(const tcn_cmd *c)
{
    size_t n = HEADER_BYTES;
    switch (c->type) {
    case TCN_CMD_GENESIS:
        return n + TCN_STATE_GROUP_ID_LEN + TCN_CHAIN_SEED_LEN + TCN_CHAIN_PUBKEY_LEN;
    case TCN_CMD_CLIENT_SET:
        return n + TCN_CHAIN_PUBKEY_LEN + 1;
    case TCN_CMD_KEY_IMPORT:
        return n + 1 + 2 + c->u.key_import.len;
    case TCN_CMD_POLICY_SET:
        return n + 8 + policy_bytes(&c->u.policy_set.policy);
    case TCN_CMD_SWAP_CREATE:
        return n + 8 + 2 * TCN_CHAIN_SEED_LEN + 2 * TCN_CHAIN_PUBKEY_LEN + 8 + 8 +
               policy_bytes(&c->u.swap_create.policy);
    case TCN_CMD_SWAP_OBSERVED:
        return n + 8 + 8 + 1 + TCN_CHAIN_HASH_LEN + 8 + 2 + c->u.swap_observed.refund_len;
    case TCN_CMD_PAYOUT_SCHEDULE:
        return n + 8 + TCN_CHAIN_PUBKEY_LEN + 8 + 8;
    case TCN_CMD_PAYOUT_INTENT:
        return n + 8 + 8 + TCN_CHAIN_HASH_LEN + 2 + c->u.payout_intent.tx_len;
    case TCN_CMD_PAYOUT_OUTCOME:
        return n + 8 + 8 + 1 + 8 + TCN_CHAIN_HASH_LEN + 8 + 2 + c->u.payout_outcome.refund_len;
    case TCN_CMD_MEMBER_SET:
        return n + 8 + 1 + TCN_STATE_MEASUREMENT_LEN + 2 + strlen(c->u.member_set.address);
    default:
        TCN_ASSERT(!"validated type");
        return 0;
    }
}

/* After tcn_buf_reserve of the exact size no append can fail. */
static void put(tcn_buf *b, const void *p, size_t n) { TCN_ASSERT(tcn_buf_append(b, p, n) == TCN_OK); }
static void put_u8(tcn_buf *b, uint8_t v) { put(b, &v, 1); }
static void put_u16(tcn_buf *b, uint16_t v) { TCN_ASSERT(tcn_buf_u16be(b, v) == TCN_OK); }
static void put_u64(tcn_buf *b, uint64_t v) { TCN_ASSERT(tcn_buf_u64be(b, v) == TCN_OK); }

static void put_policy(tcn_buf *b, const tcn_key_policy *p)
{
    put_u8(b, p->n_destinations);
    for (unsigned i = 0; i < p->n_destinations; i++)
        put(b, p->destinations[i].b, TCN_CHAIN_PUBKEY_LEN);
    put_u64(b, p->max_per_payout);
    put_u64(b, p->max_per_day);
    put_u8(b, p->n_windows);
    for (unsigned i = 0; i < p->n_windows; i++) {
        put_u16(b, p->windows[i].start_min);
        put_u16(b, p->windows[i].end_min);
    }
}

int tcn_cmd_encode(const tcn_cmd *c, tcn_buf *out, tcn_error *err)
{
    TCN_ASSERT(c != NULL && out != NULL);
    TCN_GUARD(validate(c, TCN_ERR_USAGE, err));
    size_t n = encoded_bytes(c);
    /* One reservation of the exact size: growing the buffer while it holds a
     * seed would leave a copy of it in the freed block. */
    int rc = tcn_buf_reserve(out, n);
    if (rc != TCN_OK)
        return tcn_err_set(err, rc, "cmd %s: encoding: %s", tcn_cmd_type_name(c->type), tcn_err_message(rc));
    size_t start = out->len;
    put_u8(out, TCN_CMD_VERSION);
    put_u8(out, c->type);
    put_u64(out, c->ts_ms);
    put(out, c->actor.b, TCN_CHAIN_PUBKEY_LEN);
    switch (c->type) {
    case TCN_CMD_GENESIS:
        put(out, c->u.genesis.group_id, TCN_STATE_GROUP_ID_LEN);
        put(out, c->u.genesis.coordinator_seed, TCN_CHAIN_SEED_LEN);
        put(out, c->u.genesis.operator_key.b, TCN_CHAIN_PUBKEY_LEN);
        break;
    case TCN_CMD_CLIENT_SET:
        put(out, c->u.client_set.client.b, TCN_CHAIN_PUBKEY_LEN);
        put_u8(out, c->u.client_set.role);
        break;
    case TCN_CMD_KEY_IMPORT:
        put_u8(out, c->u.key_import.kind);
        put_u16(out, c->u.key_import.len);
        put(out, c->u.key_import.secret, c->u.key_import.len);
        break;
    case TCN_CMD_POLICY_SET:
        put_u64(out, c->u.policy_set.key_id);
        put_policy(out, &c->u.policy_set.policy);
        break;
    case TCN_CMD_SWAP_CREATE:
        put_u64(out, c->u.swap_create.escrow_key_id);
        put(out, c->u.swap_create.escrow_seed, TCN_CHAIN_SEED_LEN);
        put(out, c->u.swap_create.nonce_seed, TCN_CHAIN_SEED_LEN);
        put(out, c->u.swap_create.lp.b, TCN_CHAIN_PUBKEY_LEN);
        put(out, c->u.swap_create.refund_to.b, TCN_CHAIN_PUBKEY_LEN);
        put_u64(out, c->u.swap_create.amount);
        put_u64(out, c->u.swap_create.deadline_ms);
        put_policy(out, &c->u.swap_create.policy);
        break;
    case TCN_CMD_SWAP_OBSERVED:
        put_u64(out, c->u.swap_observed.swap_id);
        put_u64(out, c->u.swap_observed.slot);
        put_u8(out, c->u.swap_observed.nonce_initialized ? 1 : 0);
        put(out, c->u.swap_observed.nonce_value.b, TCN_CHAIN_HASH_LEN);
        put_u64(out, c->u.swap_observed.escrow_lamports);
        put_u16(out, c->u.swap_observed.refund_len);
        put(out, c->u.swap_observed.refund, c->u.swap_observed.refund_len);
        break;
    case TCN_CMD_PAYOUT_SCHEDULE:
        put_u64(out, c->u.payout_schedule.swap_id);
        put(out, c->u.payout_schedule.destination.b, TCN_CHAIN_PUBKEY_LEN);
        put_u64(out, c->u.payout_schedule.amount);
        put_u64(out, c->u.payout_schedule.due_ms);
        break;
    case TCN_CMD_PAYOUT_INTENT:
        put_u64(out, c->u.payout_intent.swap_id);
        put_u64(out, c->u.payout_intent.payout_id);
        put(out, c->u.payout_intent.nonce_value.b, TCN_CHAIN_HASH_LEN);
        put_u16(out, c->u.payout_intent.tx_len);
        put(out, c->u.payout_intent.tx, c->u.payout_intent.tx_len);
        break;
    case TCN_CMD_PAYOUT_OUTCOME:
        put_u64(out, c->u.payout_outcome.swap_id);
        put_u64(out, c->u.payout_outcome.payout_id);
        put_u8(out, c->u.payout_outcome.result);
        put_u64(out, c->u.payout_outcome.slot);
        put(out, c->u.payout_outcome.nonce_value.b, TCN_CHAIN_HASH_LEN);
        put_u64(out, c->u.payout_outcome.escrow_lamports);
        put_u16(out, c->u.payout_outcome.refund_len);
        put(out, c->u.payout_outcome.refund, c->u.payout_outcome.refund_len);
        break;
    case TCN_CMD_MEMBER_SET: {
        size_t alen = strlen(c->u.member_set.address);
        put_u64(out, c->u.member_set.node_id);
        put_u8(out, c->u.member_set.role);
        put(out, c->u.member_set.measurement, TCN_STATE_MEASUREMENT_LEN);
        put_u16(out, (uint16_t)alen);
        put(out, c->u.member_set.address, alen);
        break;
    }
    }
    TCN_ASSERT(out->len - start == n);
    return TCN_OK;
}
