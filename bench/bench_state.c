/* Benchmark: the coordinator state machine — apply throughput (commands per CPU second) for SWAP_CREATE and for
 * PAYOUT_INTENT + PAYOUT_OUTCOME pairs, against a same-process Ed25519 signing baseline; snapshot size and time,
 * digest time and restore time for 100,000 swaps. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "state/cmd.h"
#include "state/state.h"
#include "util/buf.h"
#include "util/hash.h"
#include "util/secmem.h"

/*
 * What apply costs, by command (docs/STATE.md): SWAP_CREATE derives two
 * Ed25519 key pairs (escrow and nonce account); PAYOUT_INTENT recomputes the
 * payout transaction (two signatures) and compares it; PAYOUT_OUTCOME
 * recomputes the new refund (two signatures). So the baseline is one Ed25519
 * signature of a 300-byte message (libsodium, the same call apply makes).
 *
 * Commands are encoded before the clock starts; only tcn_state_apply is
 * timed. The pairs are made by a builder state (which signs what the
 * leader would sign) and applied to a second state restored from the
 * builder's starting snapshot: the timed state recomputes everything.
 */

#define T0 1767225600000ull
#define DAY_MS 86400000ull

static double cpu_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void die(const char *what)
{
    fprintf(stderr, "bench_state: %s\n", what);
    exit(1);
}

static void seed_of(uint64_t n, uint8_t out[32])
{
    uint8_t in[16] = "bench seed";
    for (int i = 0; i < 6; i++)
        in[10 + i] = (uint8_t)(n >> (8 * i));
    tcn_sha256(in, sizeof(in), out);
}

static tcn_chain_pubkey key_of(uint64_t n)
{
    tcn_chain_pubkey k;
    seed_of(n ^ 0x5555555555ull, k.b);
    return k;
}

static tcn_chain_hash value_of(uint64_t n)
{
    tcn_chain_hash h;
    seed_of(n ^ 0xaaaaaaaaaaull, h.b);
    return h;
}

/* --- A list of encoded commands -------------------------------------------------- */

typedef struct cmds {
    tcn_buf bytes;
    size_t *off;
    size_t n, cap;
} cmds;

static void cmds_add(cmds *l, tcn_cmd *c)
{
    tcn_error err;
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 1024;
        l->off = realloc(l->off, (l->cap + 1) * sizeof(*l->off));
        if (l->off == NULL)
            die("out of memory");
    }
    l->off[l->n] = l->bytes.len;
    if (tcn_cmd_encode(c, &l->bytes, &err) != TCN_OK)
        die(err.msg);
    tcn_cmd_wipe(c);
    l->n++;
    l->off[l->n] = l->bytes.len;
}

static void cmds_free(cmds *l)
{
    tcn_buf_free_wipe(&l->bytes);
    free(l->off);
    memset(l, 0, sizeof(*l));
}

typedef struct node {
    tcn_state *st;
    uint64_t index;
} node;

static void apply_one(node *n, const uint8_t *p, size_t len)
{
    tcn_state_result r;
    if (tcn_state_apply(n->st, ++n->index, p, len, &r) != TCN_OK)
        die("out of memory");
    if (r.code != TCN_OK) {
        fprintf(stderr, "bench_state: refused: %s\n", r.reason);
        exit(1);
    }
}

static void apply_cmd(node *n, tcn_cmd *c)
{
    tcn_buf b = {0};
    tcn_error err;
    if (tcn_cmd_encode(c, &b, &err) != TCN_OK)
        die(err.msg);
    tcn_cmd_wipe(c);
    apply_one(n, b.p, b.len);
    tcn_buf_free_wipe(&b);
}

/* Applies every command of l; returns the CPU seconds it took. */
static double apply_all(node *n, const cmds *l)
{
    double t0 = cpu_s();
    for (size_t i = 0; i < l->n; i++)
        apply_one(n, l->bytes.p + l->off[i], l->off[i + 1] - l->off[i]);
    return cpu_s() - t0;
}

static const tcn_chain_pubkey *op(void)
{
    static tcn_chain_pubkey k;
    k = key_of(1);
    return &k;
}

static const tcn_chain_pubkey *user(void)
{
    static tcn_chain_pubkey k;
    k = key_of(2);
    return &k;
}

static void node_init(node *n)
{
    memset(n, 0, sizeof(*n));
    if (tcn_state_new(&n->st) != TCN_OK)
        die("out of memory");
    tcn_cmd c;
    memset(&c, 0, sizeof(c));
    c.type = TCN_CMD_GENESIS;
    c.ts_ms = T0;
    memset(c.u.genesis.group_id, 9, 16);
    seed_of(0, c.u.genesis.coordinator_seed);
    c.u.genesis.operator_key = *op();
    apply_cmd(n, &c);
    memset(&c, 0, sizeof(c));
    c.type = TCN_CMD_CLIENT_SET;
    c.ts_ms = T0;
    c.actor = *op();
    c.u.client_set.client = *user();
    c.u.client_set.role = TCN_ROLE_USER;
    apply_cmd(n, &c);
}

static void swap_create(tcn_cmd *c, uint64_t i, uint64_t amount)
{
    memset(c, 0, sizeof(*c));
    c->type = TCN_CMD_SWAP_CREATE;
    c->ts_ms = T0;
    c->actor = *user();
    seed_of(1000000 + 2 * i, c->u.swap_create.escrow_seed);
    seed_of(1000001 + 2 * i, c->u.swap_create.nonce_seed);
    c->u.swap_create.lp = key_of(3);
    c->u.swap_create.refund_to = key_of(4);
    c->u.swap_create.amount = amount;
    c->u.swap_create.deadline_ms = T0 + 30 * DAY_MS;
}

static void refund_of(const tcn_state *st, uint64_t swap, const tcn_chain_hash *v, uint64_t lamports, uint8_t *out,
                      uint16_t *len)
{
    uint64_t bal = tcn_state_refund_balance(st, swap, lamports);
    *len = 0;
    if (tcn_state_refund_lamports(bal) == 0)
        return;
    tcn_buf b = {0};
    tcn_error err;
    if (tcn_state_sign_refund(st, swap, v, bal, &b, &err) != TCN_OK)
        die(err.msg);
    memcpy(out, b.p, b.len);
    *len = (uint16_t)b.len;
    tcn_buf_free(&b);
}

/* SWAP_OBSERVED: nonce at v, escrow holding `lamports`, with its refund. */
static void observed(const tcn_state *st, tcn_cmd *c, uint64_t swap, uint64_t slot, const tcn_chain_hash *v,
                     uint64_t lamports)
{
    memset(c, 0, sizeof(*c));
    c->type = TCN_CMD_SWAP_OBSERVED;
    c->ts_ms = T0;
    c->u.swap_observed.swap_id = swap;
    c->u.swap_observed.slot = slot;
    c->u.swap_observed.nonce_initialized = true;
    c->u.swap_observed.nonce_value = *v;
    c->u.swap_observed.escrow_lamports = lamports;
    refund_of(st, swap, v, lamports, c->u.swap_observed.refund, &c->u.swap_observed.refund_len);
}

static void schedule(tcn_cmd *c, uint64_t swap, uint64_t amount)
{
    memset(c, 0, sizeof(*c));
    c->type = TCN_CMD_PAYOUT_SCHEDULE;
    c->ts_ms = T0;
    c->actor = *user();
    c->u.payout_schedule.swap_id = swap;
    c->u.payout_schedule.destination = key_of(5 + swap % 7);
    c->u.payout_schedule.amount = amount;
    c->u.payout_schedule.due_ms = T0;
}

/* --- Figures --------------------------------------------------------------------------- */

static double sign_per_s(double min_s)
{
    uint8_t seed[32], pk[32], sk[64], msg[300], sig[64];
    seed_of(7, seed);
    crypto_sign_seed_keypair(pk, sk, seed);
    memset(msg, 0x5a, sizeof(msg));
    uint64_t n = 0;
    double t0 = cpu_s(), el;
    do {
        for (int k = 0; k < 256; k++, n++) {
            msg[0] = (uint8_t)n;
            crypto_sign_ed25519_detached(sig, NULL, msg, sizeof(msg), sk);
        }
        el = cpu_s() - t0;
    } while (el < min_s);
    sodium_memzero(sk, sizeof(sk));
    return (double)n / el;
}

static double swap_create_per_s(double min_s)
{
    node n;
    node_init(&n);
    size_t batch = 4096;
    uint64_t done = 0, i = 0;
    double el = 0;
    while (el < min_s) {
        cmds l = {0};
        for (size_t k = 0; k < batch; k++, i++) {
            tcn_cmd c;
            swap_create(&c, i, 10000000);
            cmds_add(&l, &c);
        }
        el += apply_all(&n, &l);
        done += l.n;
        cmds_free(&l);
    }
    tcn_state_free(n.st);
    return (double)done / el;
}

/* Intent + outcome pairs over `swaps` funded swaps, `pairs` in all. */
static double pairs_per_s(size_t swaps, size_t pairs, double *cpu)
{
    node b;
    node_init(&b);
    uint64_t amount = 1000000000ull, pay = 1000000;
    tcn_cmd c;
    for (size_t s = 1; s <= swaps; s++) {
        swap_create(&c, s, amount);
        apply_cmd(&b, &c);
        tcn_chain_hash v = value_of(s);
        observed(b.st, &c, s, 1, &v, amount);
        apply_cmd(&b, &c);
    }
    /* The timed node starts from here. */
    tcn_buf snap = {0};
    tcn_error err;
    if (tcn_state_snapshot(b.st, &snap, &err) != TCN_OK)
        die(err.msg);
    cmds l = {0};
    uint64_t next_value = 1000000, slot = 2;
    for (size_t k = 0; k < pairs; k++) {
        uint64_t s = 1 + k % swaps;
        schedule(&c, s, pay);
        cmds_add(&l, &c);
        apply_one(&b, l.bytes.p + l.off[l.n - 1], l.off[l.n] - l.off[l.n - 1]);
        uint64_t pid = tcn_state_payout_count(b.st);
        tcn_swap_view v;
        if (!tcn_state_swap(b.st, s, &v))
            die("no swap");
        memset(&c, 0, sizeof(c));
        c.type = TCN_CMD_PAYOUT_INTENT;
        c.ts_ms = T0;
        c.u.payout_intent.swap_id = s;
        c.u.payout_intent.payout_id = pid;
        c.u.payout_intent.nonce_value = v.nonce_value;
        tcn_buf tx = {0};
        if (tcn_state_sign_payout(b.st, pid, &v.nonce_value, &tx, &err) != TCN_OK)
            die(err.msg);
        memcpy(c.u.payout_intent.tx, tx.p, tx.len);
        c.u.payout_intent.tx_len = (uint16_t)tx.len;
        tcn_buf_free(&tx);
        cmds_add(&l, &c);
        apply_one(&b, l.bytes.p + l.off[l.n - 1], l.off[l.n] - l.off[l.n - 1]);
        tcn_chain_hash nv = value_of(next_value++);
        uint64_t after = v.escrow_lamports - pay - TCN_STATE_TX_FEE;
        memset(&c, 0, sizeof(c));
        c.type = TCN_CMD_PAYOUT_OUTCOME;
        c.ts_ms = T0;
        c.u.payout_outcome.swap_id = s;
        c.u.payout_outcome.payout_id = pid;
        c.u.payout_outcome.result = TCN_PAYOUT_LANDED_OK;
        c.u.payout_outcome.slot = slot++;
        c.u.payout_outcome.nonce_value = nv;
        c.u.payout_outcome.escrow_lamports = after;
        refund_of(b.st, s, &nv, after, c.u.payout_outcome.refund, &c.u.payout_outcome.refund_len);
        cmds_add(&l, &c);
        apply_one(&b, l.bytes.p + l.off[l.n - 1], l.off[l.n] - l.off[l.n - 1]);
    }
    /* Time only the intents and outcomes: the schedules go in untimed. */
    node t;
    memset(&t, 0, sizeof(t));
    if (tcn_state_restore(snap.p, snap.len, &t.st, &err) != TCN_OK)
        die(err.msg);
    t.index = tcn_state_applied_index(t.st);
    double el = 0;
    for (size_t i = 0; i < l.n; i++) {
        const uint8_t *p = l.bytes.p + l.off[i];
        size_t len = l.off[i + 1] - l.off[i];
        if (i % 3 == 0) {
            apply_one(&t, p, len);
            continue;
        }
        double t0 = cpu_s();
        apply_one(&t, p, len);
        el += cpu_s() - t0;
    }
    uint8_t d1[32], d2[32];
    if (tcn_state_digest(b.st, d1, &err) != TCN_OK || tcn_state_digest(t.st, d2, &err) != TCN_OK ||
        memcmp(d1, d2, 32) != 0)
        die("the timed node diverged from the builder");
    *cpu = el;
    tcn_buf_free_wipe(&snap);
    cmds_free(&l);
    tcn_state_free(b.st);
    tcn_state_free(t.st);
    return (double)(2 * pairs) / el;
}

/* 100,000 OPEN funded swaps, each with a refund and a scheduled payout. */
static void big_state(size_t swaps)
{
    node n;
    node_init(&n);
    double t0 = cpu_s();
    tcn_cmd c;
    for (size_t s = 1; s <= swaps; s++) {
        swap_create(&c, s, 50000000);
        apply_cmd(&n, &c);
        tcn_chain_hash v = value_of(s);
        observed(n.st, &c, s, 1, &v, 50000000);
        apply_cmd(&n, &c);
        schedule(&c, s, 1000000);
        apply_cmd(&n, &c);
    }
    double build = cpu_s() - t0;
    tcn_buf snap = {0};
    tcn_error err;
    t0 = cpu_s();
    if (tcn_state_snapshot(n.st, &snap, &err) != TCN_OK)
        die(err.msg);
    double snap_s = cpu_s() - t0;
    uint8_t d[32];
    t0 = cpu_s();
    if (tcn_state_digest(n.st, d, &err) != TCN_OK)
        die(err.msg);
    double digest_s = cpu_s() - t0;
    tcn_state *r;
    t0 = cpu_s();
    if (tcn_state_restore(snap.p, snap.len, &r, &err) != TCN_OK)
        die(err.msg);
    double restore_s = cpu_s() - t0;
    uint8_t d2[32];
    if (tcn_state_digest(r, d2, &err) != TCN_OK || memcmp(d, d2, 32) != 0)
        die("restored state differs");
    printf("  %-44s %12zu swaps (+ %zu payouts, each swap OPEN with its refund; built in %.1f CPU s)\n",
           "snapshot of", swaps, swaps, build);
    printf("  %-44s %12.1f MB (%.0f bytes per swap)\n", "  size", (double)snap.len / 1e6,
           (double)snap.len / (double)swaps);
    printf("  %-44s %12.3f CPU s\n", "  tcn_state_snapshot", snap_s);
    printf("  %-44s %12.3f CPU s\n", "  tcn_state_digest (streamed, no copy)", digest_s);
    printf("  %-44s %12.3f CPU s\n", "  tcn_state_restore (all checks)", restore_s);
    tcn_state_free(r);
    tcn_state_free(n.st);
    tcn_buf_free_wipe(&snap);
}

int main(int argc, char **argv)
{
    /* bench_state [seconds per figure] [swaps in the snapshot] */
    double min_s = argc > 1 ? atof(argv[1]) : 1.0;
    if (min_s <= 0)
        min_s = 1.0;
    size_t swaps = argc > 2 ? (size_t)atol(argv[2]) : 100000;
    if (tcn_crypto_init() != TCN_OK)
        die("libsodium");
    double sign = sign_per_s(min_s);
    printf("state machine (apply on one node; commands encoded beforehand):\n");
    printf("  %-44s %12.0f /CPU s\n", "baseline: Ed25519 sign, 300 bytes (libsodium)", sign);
    double sc = swap_create_per_s(min_s);
    printf("  %-44s %12.0f /CPU s  (%.2f x sign; two key derivations each)%s\n", "SWAP_CREATE", sc, sc / sign,
           sc >= 10000 ? "" : "  BELOW TARGET 10,000");
    double cpu = 0;
    size_t pairs = (size_t)(sign * min_s / 4);
    if (pairs < 1000)
        pairs = 1000;
    size_t pair_swaps = pairs / 32 + 256; /* at most 64 payouts a swap */
    double pi = pairs_per_s(pair_swaps, pairs, &cpu);
    printf("  %-44s %12.0f /CPU s  (%.2f x sign; %zu pairs over %zu swaps in %.2f s; four signatures a pair)%s\n",
           "PAYOUT_INTENT + PAYOUT_OUTCOME, commands", pi, pi / sign, pairs, pair_swaps, cpu,
           pi >= 10000 ? "" : "  BELOW TARGET 10,000");
    big_state(swaps);
    return 0;
}
