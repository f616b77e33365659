/* Shared helpers of the state machine's unit tests: deterministic seeds and keys, command builders that
 * carry the transactions the state expects, and apply helpers that check refusals change nothing. */
#ifndef TCN_TESTS_STATE_HARNESS_H
#define TCN_TESTS_STATE_HARNESS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "chain/rent.h"
#include "state/cmd.h"
#include "state/state.h"
#include "util/buf.h"
#include "util/hash.h"
#include "util/secmem.h"

/* One UTC day and a Monday noon in 2026 (ms since the epoch). */
#define H_DAY_MS 86400000ull
#define H_T0 (20454ull * H_DAY_MS + 12ull * 3600000ull)
#define H_MIN_AMOUNT TCN_STATE_REFUND_MIN_BALANCE /* 2 R + fee */

/* Seed n: SHA-256("tcn state test seed" || n). Secrets in the tests come
 * only from here, so a test can search every output for them. */
static inline void h_seed(uint32_t n, uint8_t out[32])
{
    uint8_t in[24] = "tcn state test seed";
    in[20] = (uint8_t)(n >> 24);
    in[21] = (uint8_t)(n >> 16);
    in[22] = (uint8_t)(n >> 8);
    in[23] = (uint8_t)n;
    tcn_sha256(in, sizeof(in), out);
}

static inline tcn_chain_pubkey h_pub(uint32_t n)
{
    uint8_t seed[32], sk[64];
    tcn_chain_pubkey pk;
    h_seed(n, seed);
    crypto_sign_seed_keypair(pk.b, sk, seed);
    sodium_memzero(seed, sizeof(seed));
    sodium_memzero(sk, sizeof(sk));
    return pk;
}

static inline tcn_chain_hash h_hash(uint32_t n)
{
    tcn_chain_hash h;
    uint8_t in[8] = {'n', 'o', 'n', 'c', (uint8_t)(n >> 24), (uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n};
    tcn_sha256(in, sizeof(in), h.b);
    return h;
}

/* Seed numbers of the fixed cast. */
enum { H_COORD = 1, H_OP = 100, H_USER = 101, H_LP = 102, H_USER2 = 103, H_OP2 = 104, H_REFUND = 110, H_DEST = 120 };

typedef struct h_t {
    tcn_state *st;
    uint64_t index;
    uint32_t next_seed; /* escrow and nonce seeds drawn from here */
    tcn_chain_pubkey op, user, lp, user2, refund_to;
} h_t;

static inline tcn_cmd h_cmd(uint8_t type, uint64_t ts_ms, const tcn_chain_pubkey *actor)
{
    tcn_cmd c;
    memset(&c, 0, sizeof(c));
    c.type = type;
    c.ts_ms = ts_ms;
    if (actor != NULL)
        c.actor = *actor;
    return c;
}

static inline tcn_state_result h_apply(h_t *t, tcn_cmd *c)
{
    tcn_buf b = {0};
    tcn_error err;
    if (tcn_cmd_encode(c, &b, &err) != TCN_OK) {
        fprintf(stderr, "encode: %s\n", err.msg);
        fail();
    }
    tcn_cmd_wipe(c);
    tcn_state_result res;
    assert_int_equal(tcn_state_apply(t->st, ++t->index, b.p, b.len, &res), TCN_OK);
    assert_int_equal(tcn_state_applied_index(t->st), t->index);
    tcn_buf_free_wipe(&b);
    return res;
}

static inline void h_digest(const tcn_state *st, uint8_t out[32])
{
    tcn_error err;
    assert_int_equal(tcn_state_digest(st, out, &err), TCN_OK);
}

static inline uint64_t h_ok(h_t *t, tcn_cmd *c)
{
    uint8_t type = c->type;
    tcn_state_result r = h_apply(t, c);
    if (r.code != TCN_OK) {
        fprintf(stderr, "%s refused: %s: %s\n", tcn_cmd_type_name(type), tcn_err_name(r.code), r.reason);
        fail();
    }
    assert_string_equal(r.reason, "");
    return r.id;
}

/* Refused with `code` and a reason holding `why`; the state's digest and
 * now are what they were (only the applied index moved). */
static inline void h_refused(h_t *t, tcn_cmd *c, int code, const char *why)
{
    uint8_t before[32], after[32];
    h_digest(t->st, before);
    uint64_t now = tcn_state_now_ms(t->st);
    tcn_state_result r = h_apply(t, c);
    if (r.code != code || strstr(r.reason, why) == NULL) {
        fprintf(stderr, "want %s with \"%s\", got %s: \"%s\"\n", tcn_err_name(code), why, tcn_err_name(r.code),
                r.reason);
        fail();
    }
    assert_int_equal(r.id, 0);
    assert_int_equal(tcn_state_now_ms(t->st), now);
    /* The digest covers the applied index, which did move: compare the
     * snapshot's bytes with the index put back (bytes 8..16). */
    tcn_buf s = {0};
    tcn_error err;
    assert_int_equal(tcn_state_snapshot(t->st, &s, &err), TCN_OK);
    uint64_t idx = t->index - 1;
    for (int i = 0; i < 8; i++)
        s.p[8 + i] = (uint8_t)(idx >> (56 - 8 * i));
    tcn_sha256(s.p, s.len - 32, after);
    tcn_buf_free_wipe(&s);
    assert_memory_equal(before, after, 32);
}

static inline void h_genesis(h_t *t)
{
    tcn_cmd c = h_cmd(TCN_CMD_GENESIS, H_T0, NULL);
    memset(c.u.genesis.group_id, 0x47, sizeof(c.u.genesis.group_id));
    h_seed(H_COORD, c.u.genesis.coordinator_seed);
    c.u.genesis.operator_key = t->op;
    h_ok(t, &c);
}

static inline void h_client(h_t *t, const tcn_chain_pubkey *client, tcn_role role)
{
    tcn_cmd c = h_cmd(TCN_CMD_CLIENT_SET, H_T0, &t->op);
    c.u.client_set.client = *client;
    c.u.client_set.role = role;
    h_ok(t, &c);
}

/* A state after genesis with a user, an LP and a second user. */
static inline void h_init(h_t *t)
{
    memset(t, 0, sizeof(*t));
    assert_int_equal(tcn_crypto_init(), TCN_OK);
    assert_int_equal(tcn_state_new(&t->st), TCN_OK);
    t->next_seed = 1000;
    t->op = h_pub(H_OP);
    t->user = h_pub(H_USER);
    t->lp = h_pub(H_LP);
    t->user2 = h_pub(H_USER2);
    t->refund_to = h_pub(H_REFUND);
    h_genesis(t);
    h_client(t, &t->user, TCN_ROLE_USER);
    h_client(t, &t->lp, TCN_ROLE_LP);
    h_client(t, &t->user2, TCN_ROLE_USER);
}

static inline void h_free(h_t *t)
{
    tcn_state_free(t->st);
    t->st = NULL;
}

/* SWAP_CREATE by the user with a generated escrow key. */
static inline tcn_cmd h_swap_cmd(h_t *t, uint64_t amount, uint64_t deadline_ms, const tcn_key_policy *pol)
{
    tcn_cmd c = h_cmd(TCN_CMD_SWAP_CREATE, H_T0, &t->user);
    h_seed(t->next_seed++, c.u.swap_create.escrow_seed);
    h_seed(t->next_seed++, c.u.swap_create.nonce_seed);
    c.u.swap_create.lp = t->lp;
    c.u.swap_create.refund_to = t->refund_to;
    c.u.swap_create.amount = amount;
    c.u.swap_create.deadline_ms = deadline_ms;
    if (pol != NULL)
        c.u.swap_create.policy = *pol;
    return c;
}

static inline uint64_t h_swap(h_t *t, uint64_t amount, const tcn_key_policy *pol)
{
    tcn_cmd c = h_swap_cmd(t, amount, H_T0 + 30 * H_DAY_MS, pol);
    return h_ok(t, &c);
}

/* Appends the refund the state expects for (nonce value, escrow balance). */
static inline uint16_t h_refund(const h_t *t, uint64_t swap_id, const tcn_chain_hash *v, uint64_t lamports,
                                uint8_t *out)
{
    uint64_t bal = tcn_state_refund_balance(t->st, swap_id, lamports);
    if (tcn_state_refund_lamports(bal) == 0)
        return 0;
    tcn_buf b = {0};
    tcn_error err;
    assert_int_equal(tcn_state_sign_refund(t->st, swap_id, v, bal, &b, &err), TCN_OK);
    assert_true(b.len <= TCN_CHAIN_PACKET_BYTES_MAX);
    memcpy(out, b.p, b.len);
    uint16_t n = (uint16_t)b.len;
    tcn_buf_free(&b);
    return n;
}

/* SWAP_OBSERVED with the refund the state expects. */
static inline tcn_cmd h_observed_cmd(const h_t *t, uint64_t ts, uint64_t swap_id, uint64_t slot, bool init,
                                     const tcn_chain_hash *v, uint64_t lamports)
{
    tcn_cmd c = h_cmd(TCN_CMD_SWAP_OBSERVED, ts, NULL);
    c.u.swap_observed.swap_id = swap_id;
    c.u.swap_observed.slot = slot;
    c.u.swap_observed.nonce_initialized = init;
    if (init) {
        c.u.swap_observed.nonce_value = *v;
        c.u.swap_observed.refund_len = h_refund(t, swap_id, v, lamports, c.u.swap_observed.refund);
    }
    c.u.swap_observed.escrow_lamports = lamports;
    return c;
}

/* Observes the swap's nonce at value h_hash(1000 + swap) and its escrow
 * holding `lamports` (OPEN, funded when lamports >= amount). */
static inline void h_open(h_t *t, uint64_t swap_id, uint64_t lamports)
{
    tcn_chain_hash v = h_hash(1000 + (uint32_t)swap_id);
    tcn_cmd c = h_observed_cmd(t, H_T0, swap_id, 10, true, &v, lamports);
    h_ok(t, &c);
}

static inline tcn_cmd h_schedule_cmd(h_t *t, uint64_t swap_id, const tcn_chain_pubkey *dest, uint64_t amount,
                                     uint64_t due_ms)
{
    tcn_cmd c = h_cmd(TCN_CMD_PAYOUT_SCHEDULE, H_T0, &t->user);
    c.u.payout_schedule.swap_id = swap_id;
    c.u.payout_schedule.destination = *dest;
    c.u.payout_schedule.amount = amount;
    c.u.payout_schedule.due_ms = due_ms;
    return c;
}

static inline uint64_t h_schedule(h_t *t, uint64_t swap_id, const tcn_chain_pubkey *dest, uint64_t amount,
                                  uint64_t due_ms)
{
    tcn_cmd c = h_schedule_cmd(t, swap_id, dest, amount, due_ms);
    return h_ok(t, &c);
}

/* PAYOUT_INTENT bound to the swap's current nonce value, signed as the state signs. */
static inline tcn_cmd h_intent_cmd(const h_t *t, uint64_t payout_id, uint64_t ts)
{
    tcn_payout_view p;
    tcn_swap_view s;
    assert_true(tcn_state_payout(t->st, payout_id, &p));
    assert_true(tcn_state_swap(t->st, p.swap_id, &s));
    tcn_cmd c = h_cmd(TCN_CMD_PAYOUT_INTENT, ts, NULL);
    c.u.payout_intent.swap_id = p.swap_id;
    c.u.payout_intent.payout_id = payout_id;
    c.u.payout_intent.nonce_value = s.nonce_value;
    tcn_buf b = {0};
    tcn_error err;
    assert_int_equal(tcn_state_sign_payout(t->st, payout_id, &s.nonce_value, &b, &err), TCN_OK);
    memcpy(c.u.payout_intent.tx, b.p, b.len);
    c.u.payout_intent.tx_len = (uint16_t)b.len;
    tcn_buf_free(&b);
    return c;
}

static inline tcn_cmd h_outcome_cmd(const h_t *t, uint64_t ts, uint64_t swap_id, uint64_t payout_id, uint8_t result,
                                    uint64_t slot, const tcn_chain_hash *v, uint64_t lamports)
{
    tcn_cmd c = h_cmd(TCN_CMD_PAYOUT_OUTCOME, ts, NULL);
    c.u.payout_outcome.swap_id = swap_id;
    c.u.payout_outcome.payout_id = payout_id;
    c.u.payout_outcome.result = result;
    c.u.payout_outcome.slot = slot;
    c.u.payout_outcome.nonce_value = *v;
    c.u.payout_outcome.escrow_lamports = lamports;
    c.u.payout_outcome.refund_len = h_refund(t, swap_id, v, lamports, c.u.payout_outcome.refund);
    return c;
}

static inline tcn_swap_view h_swap_view(const h_t *t, uint64_t id)
{
    tcn_swap_view v;
    assert_true(tcn_state_swap(t->st, id, &v));
    return v;
}

static inline tcn_payout_view h_payout_view(const h_t *t, uint64_t id)
{
    tcn_payout_view v;
    assert_true(tcn_state_payout(t->st, id, &v));
    return v;
}

/* --- A scripted log ------------------------------------------------------------------------
 * Every command type, accepted and refused, in a pseudo-random order fixed
 * by the seed: swaps created (generated and imported escrow keys), observed
 * (uninitialized, opened, funded, emptied), payouts scheduled, intents,
 * outcomes of every kind, clients, keys, policies, members, and commands
 * that are refused (wrong actor, stale nonce value, altered bytes, junk). */

typedef struct h_log {
    uint8_t **cmd;
    size_t *len;
    size_t n, cap;
} h_log;

static inline void h_log_free(h_log *l)
{
    for (size_t i = 0; i < l->n; i++) {
        sodium_memzero(l->cmd[i], l->len[i]);
        free(l->cmd[i]);
    }
    free(l->cmd);
    free(l->len);
    memset(l, 0, sizeof(*l));
}

static inline uint64_t h_rng(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Applies c to t and records its bytes (optionally altered at byte `flip`). */
static inline tcn_state_result h_log_apply(h_t *t, h_log *l, tcn_cmd *c, long flip)
{
    tcn_buf b = {0};
    tcn_error err;
    if (tcn_cmd_encode(c, &b, &err) != TCN_OK) {
        fprintf(stderr, "encode: %s\n", err.msg);
        fail();
    }
    tcn_cmd_wipe(c);
    if (flip >= 0 && (size_t)flip < b.len)
        b.p[flip] ^= 0x10;
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 64;
        l->cmd = realloc(l->cmd, l->cap * sizeof(*l->cmd));
        l->len = realloc(l->len, l->cap * sizeof(*l->len));
        assert_non_null(l->cmd);
        assert_non_null(l->len);
    }
    l->cmd[l->n] = malloc(b.len);
    assert_non_null(l->cmd[l->n]);
    memcpy(l->cmd[l->n], b.p, b.len);
    l->len[l->n] = b.len;
    l->n++;
    tcn_state_result r;
    assert_int_equal(tcn_state_apply(t->st, ++t->index, b.p, b.len, &r), TCN_OK);
    tcn_buf_free_wipe(&b);
    return r;
}

/* Builds a log of at least n commands on a fresh state t (h_init's cast,
 * whose own commands are the log's first). Returns the number accepted. */
static inline size_t h_script(h_t *t, h_log *l, size_t n, uint64_t seed)
{
    memset(t, 0, sizeof(*t));
    assert_int_equal(tcn_crypto_init(), TCN_OK);
    assert_int_equal(tcn_state_new(&t->st), TCN_OK);
    t->next_seed = 1000;
    t->op = h_pub(H_OP);
    t->user = h_pub(H_USER);
    t->lp = h_pub(H_LP);
    t->user2 = h_pub(H_USER2);
    t->refund_to = h_pub(H_REFUND);
    uint64_t rng = seed, slot = 1, ts = H_T0;
    uint32_t value_no = 100000;
    size_t accepted = 0;
    tcn_cmd c;
#define H_LOG(cmd, flip) (accepted += h_log_apply(t, l, &(cmd), (flip)).code == TCN_OK)
    /* Junk first: refused before genesis. */
    c = h_cmd(TCN_CMD_CLIENT_SET, ts, &t->op);
    H_LOG(c, -1);
    c = h_cmd(TCN_CMD_GENESIS, ts, NULL);
    memset(c.u.genesis.group_id, 0x47, 16);
    h_seed(H_COORD, c.u.genesis.coordinator_seed);
    c.u.genesis.operator_key = t->op;
    H_LOG(c, -1);
    const tcn_chain_pubkey *cast[] = {&t->user, &t->lp, &t->user2};
    const uint8_t roles[] = {TCN_ROLE_USER, TCN_ROLE_LP, TCN_ROLE_USER};
    for (int i = 0; i < 3; i++) {
        c = h_cmd(TCN_CMD_CLIENT_SET, ts, &t->op);
        c.u.client_set.client = *cast[i];
        c.u.client_set.role = roles[i];
        H_LOG(c, -1);
    }
    for (uint64_t node = 1; node <= 3; node++) {
        c = h_cmd(TCN_CMD_MEMBER_SET, ts, NULL);
        c.u.member_set.node_id = node * 11;
        c.u.member_set.role = TCN_ROLE_OPERATOR;
        memset(c.u.member_set.measurement, (int)node, TCN_STATE_MEASUREMENT_LEN);
        snprintf(c.u.member_set.address, sizeof(c.u.member_set.address), "10.0.0.%llu:7400",
                 (unsigned long long)node);
        H_LOG(c, -1);
    }
    /* Imported keys: two Ed25519 keys of the user, a share of the LP. */
    for (int i = 0; i < 3; i++) {
        c = h_cmd(TCN_CMD_KEY_IMPORT, ts, i < 2 ? &t->user : &t->lp);
        c.u.key_import.kind = i < 2 ? TCN_KEY_ED25519_SEED : TCN_KEY_FROST_SHARE;
        c.u.key_import.len = i < 2 ? 32 : 20;
        uint8_t sd[32];
        h_seed(900 + (uint32_t)i, sd);
        memcpy(c.u.key_import.secret, sd, c.u.key_import.len);
        sodium_memzero(sd, sizeof(sd));
        H_LOG(c, -1);
    }
    c = h_cmd(TCN_CMD_POLICY_SET, ts, &t->user);
    c.u.policy_set.key_id = 1;
    c.u.policy_set.policy.max_per_payout = 50000000;
    c.u.policy_set.policy.n_windows = 1;
    c.u.policy_set.policy.windows[0].start_min = 0;
    c.u.policy_set.policy.windows[0].end_min = 1439;
    H_LOG(c, -1);

    tcn_chain_pubkey dests[3] = {h_pub(H_DEST), h_pub(H_DEST + 1), h_pub(H_DEST + 2)};
    while (l->n < n) {
        ts += 1000 + h_rng(&rng) % 60000;
        uint64_t n_swaps = tcn_state_swap_count(t->st);
        uint64_t sid = n_swaps ? 1 + h_rng(&rng) % n_swaps : 0;
        tcn_swap_view v;
        memset(&v, 0, sizeof(v));
        if (sid)
            (void)tcn_state_swap(t->st, sid, &v);
        unsigned pick = (unsigned)(h_rng(&rng) % 16);
        if (pick < 2 || n_swaps == 0) { /* a swap: generated key, or an imported one */
            uint64_t amount = 2000000 + h_rng(&rng) % 50000000;
            c = h_swap_cmd(t, amount, ts + 5 * H_DAY_MS, NULL);
            c.ts_ms = ts;
            if (h_rng(&rng) % 3 == 0) {
                memset(c.u.swap_create.escrow_seed, 0, 32);
                c.u.swap_create.escrow_key_id = 1 + h_rng(&rng) % 3; /* sometimes busy, or a share */
            } else if (h_rng(&rng) % 2) {
                c.u.swap_create.policy.max_per_day = 100000000;
            }
            H_LOG(c, -1);
        } else if (v.status == TCN_SWAP_NEW) { /* observe it: not yet, or initialized */
            bool init = h_rng(&rng) % 4 != 0;
            tcn_chain_hash nv = h_hash(value_no++);
            c = h_observed_cmd(t, ts, sid, slot++, init, &nv, 0);
            H_LOG(c, -1);
        } else if (v.status == TCN_SWAP_OPEN && v.intent_payout_id == 0 && pick < 5) { /* fund, or empty */
            uint64_t lam = v.funded && h_rng(&rng) % 4 == 0 ? 0 : v.amount;
            tcn_chain_hash nv = lam == 0 ? h_hash(value_no++) : v.nonce_value;
            c = h_observed_cmd(t, ts, sid, slot++, true, &nv, lam);
            H_LOG(c, -1);
        } else if (v.status != TCN_SWAP_CLOSED && pick < 8) { /* schedule */
            c = h_schedule_cmd(t, sid, &dests[h_rng(&rng) % 3], 100000 + h_rng(&rng) % 2000000, ts);
            c.ts_ms = ts;
            H_LOG(c, -1);
        } else if (v.status == TCN_SWAP_OPEN && v.funded && v.intent_payout_id == 0 && pick < 12) { /* intent */
            for (size_t i = 0; i < v.n_payouts; i++) {
                uint64_t pid = tcn_state_swap_payout(t->st, sid, i);
                tcn_error err;
                if (tcn_state_check_payout(t->st, pid, ts, &err) != TCN_OK)
                    continue;
                c = h_intent_cmd(t, pid, ts);
                long flip = h_rng(&rng) % 8 == 0 ? (long)(60 + h_rng(&rng) % 300) : -1; /* refused: BINDING */
                H_LOG(c, flip);
                break;
            }
        } else if (v.intent_payout_id != 0) { /* outcome */
            tcn_payout_view p;
            (void)tcn_state_payout(t->st, v.intent_payout_id, &p);
            uint8_t result = (uint8_t)(1 + h_rng(&rng) % 3);
            uint64_t lam = v.escrow_lamports - TCN_STATE_TX_FEE - (result == TCN_PAYOUT_LANDED_OK ? p.amount : 0);
            if (result == TCN_PAYOUT_DROPPED)
                lam = v.escrow_lamports;
            tcn_chain_hash nv = h_hash(value_no++);
            c = h_outcome_cmd(t, ts, sid, v.intent_payout_id, result, result == TCN_PAYOUT_DROPPED ? 0 : slot++, &nv,
                              lam);
            H_LOG(c, -1);
        } else if (pick == 13) { /* refused: an LP may not create a swap */
            c = h_swap_cmd(t, 3000000, ts + H_DAY_MS, NULL);
            c.actor = t->lp;
            H_LOG(c, -1);
        } else if (pick == 14) { /* a member comes or goes; a client changes role */
            c = h_cmd(TCN_CMD_MEMBER_SET, ts, NULL);
            c.u.member_set.node_id = 11 * (1 + h_rng(&rng) % 5);
            c.u.member_set.role = (uint8_t)(h_rng(&rng) % 2 ? TCN_ROLE_USER : TCN_ROLE_NONE);
            snprintf(c.u.member_set.address, sizeof(c.u.member_set.address), "node-%llu:7400",
                     (unsigned long long)c.u.member_set.node_id);
            H_LOG(c, -1);
            tcn_chain_pubkey someone = h_pub(3000 + (uint32_t)(h_rng(&rng) % 8));
            c = h_cmd(TCN_CMD_CLIENT_SET, ts, &t->op);
            c.u.client_set.client = someone;
            c.u.client_set.role = (uint8_t)(h_rng(&rng) % 4);
            H_LOG(c, -1);
        } else if (pick == 15) { /* bytes that do not decode */
            c = h_cmd(TCN_CMD_PAYOUT_SCHEDULE, ts, &t->user);
            H_LOG(c, 1); /* the type byte altered: 7 -> 23 */
        }
    }
#undef H_LOG
    return accepted;
}

#endif
