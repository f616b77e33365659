/* The payouts workload (tcn-sim --workload payouts): the coordinator state machine on every node, the
 * executor on every node that believes it leads, one chain model, clients, and the payout checkers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain/rent.h"
#include "chain/system.h"
#include "chain/transaction.h"
#include "sim/sim.h"
#include "util/assert.h"
#include "util/secmem.h"

/*
 * The pieces:
 * - every node applies the log's NORMAL entries to its own tcn_state; the
 *   result code of every command folds into the node's digest, so two nodes
 *   that decide one command differently fail state-machine safety at once;
 * - the reference state applies each index the first time any node applies
 *   it: it is the committed state as of the furthest node;
 * - the chain model advances a slot every SIM_PAY_SLOT_US; transactions
 *   reach it through an inbox with latency, and some are lost on the way
 *   (sendTransaction promises nothing);
 * - machines lose their way to the chain at times (calls fail);
 * - clients (an operator, users) work only from the reference state: they
 *   register users, create swaps, fund an escrow once its refund is
 *   committed, schedule payouts, and sometimes send their refund;
 * - every node that believes it leads, once it has applied an entry of its
 *   own term, runs the executor (src/exec) — deposed leaders that do not yet
 *   know it included.
 *
 * Checkers (issue 4): at every release of payout bytes, the intent is
 * committed and no other payout was released for that (nonce account,
 * value); at every landing, no payout has landed before; after every step,
 * lamports are conserved and every swap holding lamports on the chain has
 * a committed open intent or a committed refund valid against the chain's
 * current nonce value that empties the escrow; in the liveness phase, every
 * due payout lands exactly once and no intent stays open.
 */

#define SIM_PAY_EPOCH_MS 1767225600000ull /* 2026-01-01T00:00:00Z: ts_ms is wall-clock-like */
#define SIM_PAY_SLOT_US 400000u
#define SIM_PAY_LATENCY_US_MAX 600000u
#define SIM_PAY_SEND_LOSS_PPM 30000u
#define SIM_PAY_COORDINATOR_FUNDS 1000000000000ull /* 1,000 SOL for nonce accounts and their fees */
#define SIM_PAY_DEADLINE_MS (3600u * 1000u)
#define SIM_PAY_TARGETED_CRASH_PCT 5u
#define SIM_PAY_STATUS_LAG_SLOTS 3u /* how far behind the status node may be */
#define SIM_PAY_PAYOUT_MIN 900000u /* above the rent-exempt minimum of an empty account (890,880) */

static sim_pay *P(sim *s) { return &s->pay; }

static uint64_t wall_ms_global(const sim *s) { return SIM_PAY_EPOCH_MS + s->now_us / 1000; }
static uint64_t wall_ms_node(const sim *s, uint32_t slot) { return SIM_PAY_EPOCH_MS + s->m[slot].clock_us / 1000; }

static void rand_bytes(sim *s, uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i += 8) {
        uint64_t r = sim_rng_next(&s->rng_wl);
        for (size_t k = 0; k < 8 && i + k < n; k++)
            p[i + k] = (uint8_t)(r >> (8 * k));
    }
}

static void hex8(const uint8_t *p, char *out) /* the first 8 bytes, for messages */
{
    static const char d[] = "0123456789abcdef";
    for (int i = 0; i < 8; i++) {
        out[2 * i] = d[p[i] >> 4];
        out[2 * i + 1] = d[p[i] & 15];
    }
    out[16] = 0;
}

/* --- Set-up --------------------------------------------------------------------- */

void pay_init(sim *s)
{
    sim_pay *p = P(s);
    memset(p, 0, sizeof(*p));
    if (tcn_crypto_init() != TCN_OK) { /* secure memory for the states' keys */
        fprintf(stderr, "tcn-sim: payouts: libsodium failed to initialize\n");
        exit(2);
    }
    uint8_t seed[16];
    memcpy(seed, "tcn-sim:", 8);
    for (int i = 0; i < 8; i++)
        seed[8 + i] = (uint8_t)(s->opt.seed >> (8 * i));
    tcn_error err;
    if (tcn_chain_model_new(seed, sizeof(seed), NULL, &p->chain, &err) != TCN_OK ||
        tcn_state_new(&p->ref) != TCN_OK) {
        fprintf(stderr, "tcn-sim: payouts: %s\n", err.msg);
        exit(2);
    }
    p->inbox = calloc(SIM_PAY_INBOX_MAX, sizeof(*p->inbox));
    TCN_ASSERT(p->inbox != NULL);
    rand_bytes(s, p->operator_key.b, 32);
    rand_bytes(s, p->lp.b, 32);
    for (uint32_t u = 0; u < SIM_PAY_USERS; u++) {
        rand_bytes(s, p->users[u].b, 32);
        rand_bytes(s, p->refund_to[u].b, 32);
    }
    p->next_slot_us = SIM_PAY_SLOT_US;
    p->next_client_us = 200000;
    p->next_chain_fault_us = 1000000 + sim_rng_below(&s->rng_wl, 3000000);
    switch (s->opt.bug) {
    case SIM_BUG_RELEASE_BEFORE_COMMIT:
        p->exec_bugs = TCN_EXEC_BUG_RELEASE_BEFORE_COMMIT;
        break;
    case SIM_BUG_REFUND_BEFORE_LANDING:
        p->exec_bugs = TCN_EXEC_BUG_REFUND_BEFORE_LANDING;
        break;
    case SIM_BUG_SKIP_RESUME:
        p->exec_bugs = TCN_EXEC_BUG_SKIP_RESUME;
        break;
    case SIM_BUG_TRUST_LAGGING_STATUS:
        p->exec_bugs = TCN_EXEC_BUG_TRUST_LAGGING_STATUS;
        break;
    default:
        break;
    }
}

void pay_free(sim *s)
{
    sim_pay *p = P(s);
    tcn_chain_model_free(p->chain);
    tcn_state_free(p->ref);
    free(p->inbox);
    free(p->intents);
    free(p->released);
    free(p->landed);
    memset(p, 0, sizeof(*p));
}

void pay_node_boot(sim *s, uint32_t slot)
{
    sim_node *nd = &s->m[slot];
    pay_node_down(s, slot);
    tcn_exec_options o;
    tcn_exec_options_default(&o);
    o.bugs = P(s)->exec_bugs;
    TCN_ASSERT(tcn_state_new(&nd->st) == TCN_OK);
    TCN_ASSERT(tcn_exec_new(&o, &nd->ex) == TCN_OK);
}

void pay_node_down(sim *s, uint32_t slot)
{
    sim_node *nd = &s->m[slot];
    tcn_state_free(nd->st);
    tcn_exec_free(nd->ex);
    nd->st = NULL;
    nd->ex = NULL;
}

/* --- Registries the checkers keep ----------------------------------------------- */

static const sim_pay_intent *intent_by_sig(const sim_pay *p, const tcn_chain_signature *sig)
{
    for (size_t i = 0; i < p->n_intents; i++)
        if (tcn_chain_signature_eq(&p->intents[i].sig, sig))
            return &p->intents[i];
    return NULL;
}

static void note_intent(sim *s, const tcn_cmd *c)
{
    sim_pay *p = P(s);
    tcn_chain_tx *tx = malloc(sizeof(*tx));
    TCN_ASSERT(tx != NULL);
    tcn_error err;
    if (tcn_chain_tx_decode(c->u.payout_intent.tx, c->u.payout_intent.tx_len, tx, &err) != TCN_OK) {
        sim_violation(s, "payout intent", "committed intent for payout %llu holds bytes that do not decode: %s",
                      (unsigned long long)c->u.payout_intent.payout_id, err.msg);
        free(tx);
        return;
    }
    if (p->n_intents == p->cap_intents) {
        size_t cap = p->cap_intents ? p->cap_intents * 2 : 64;
        sim_pay_intent *n = realloc(p->intents, cap * sizeof(*n));
        TCN_ASSERT(n != NULL);
        p->intents = n;
        p->cap_intents = cap;
    }
    sim_pay_intent *in = &p->intents[p->n_intents++];
    in->sig = *tcn_chain_tx_id(tx);
    in->payout_id = c->u.payout_intent.payout_id;
    in->value = c->u.payout_intent.nonce_value;
    const uint8_t *acc = tcn_chain_message_ix_accounts(&tx->msg, 0);
    in->nonce = tx->msg.keys[acc[0]];
    free(tx);
}

static uint32_t *landed_slot(sim_pay *p, uint64_t payout_id)
{
    if (payout_id >= p->cap_landed) {
        size_t cap = p->cap_landed ? p->cap_landed : 64;
        while (cap <= payout_id)
            cap *= 2;
        uint32_t *n = realloc(p->landed, cap * sizeof(*n));
        TCN_ASSERT(n != NULL);
        memset(n + p->cap_landed, 0, (cap - p->cap_landed) * sizeof(*n));
        p->landed = n;
        p->cap_landed = cap;
    }
    return &p->landed[payout_id];
}

/* --- Applying ----------------------------------------------------------------------- */

static void fold(uint8_t digest[TCN_SHA256_LEN], const tcn_state_result *res)
{
    uint8_t b[16];
    for (int i = 0; i < 8; i++) {
        b[i] = (uint8_t)((uint64_t)(uint32_t)res->code >> (8 * i));
        b[8 + i] = (uint8_t)(res->id >> (8 * i));
    }
    tcn_sha256_ctx h;
    tcn_sha256_init(&h);
    tcn_sha256_update(&h, digest, TCN_SHA256_LEN);
    tcn_sha256_update(&h, b, sizeof(b));
    tcn_sha256_final(&h, digest);
}

static void ref_apply(sim *s, const tcn_raft_entry *e, const tcn_state_result *node_res)
{
    sim_pay *p = P(s);
    tcn_state_result res;
    if (tcn_state_apply(p->ref, e->index, e->data, e->len, &res) != TCN_OK) {
        sim_violation(s, "state", "the reference state ran out of memory at index %llu", (unsigned long long)e->index);
        return;
    }
    p->applied_cmds++;
    if (res.code != node_res->code || res.id != node_res->id) {
        sim_violation(s, "state machine safety", "index %llu: the reference state decided %s (id %llu), a node %s (id %llu)",
                      (unsigned long long)e->index, tcn_err_name(res.code), (unsigned long long)res.id,
                      tcn_err_name(node_res->code), (unsigned long long)node_res->id);
        return;
    }
    tcn_cmd c;
    if (tcn_cmd_decode(e->data, e->len, &c, NULL) != TCN_OK)
        return;
    if (res.code != TCN_OK) {
        p->refused++;
        sim_trace(s, "state: index %llu %s refused: %s: %s", (unsigned long long)e->index, tcn_cmd_type_name(c.type),
                  tcn_err_name(res.code), res.reason);
    } else if (c.type == TCN_CMD_PAYOUT_INTENT) {
        note_intent(s, &c);
    }
    if (p->live_sent && p->live_index == 0 && e->len == p->live_len && memcmp(e->data, p->live_cmd, e->len) == 0)
        p->live_index = e->index;
    tcn_cmd_wipe(&c);
}

void pay_apply_entry(sim *s, uint32_t slot, const tcn_raft_entry *e)
{
    sim_node *nd = &s->m[slot];
    tcn_state_result res;
    if (tcn_state_apply(nd->st, e->index, e->data, e->len, &res) != TCN_OK) {
        sim_violation(s, "state", "node %llu ran out of memory applying index %llu", (unsigned long long)nd->id,
                      (unsigned long long)e->index);
        return;
    }
    fold(nd->digest, &res);
    /* The reference state takes each index once, from the first node that
     * applies it (every node applies in order, and a snapshot holds only
     * what its maker applied, so no index is skipped). */
    if (e->index > tcn_state_applied_index(P(s)->ref) && e->index > chk_applied_max(s))
        ref_apply(s, e, &res);
}

/* Snapshot of the application: the state's own canonical snapshot. */
int pay_snapshot_take(sim *s, uint32_t slot, tcn_buf *out)
{
    tcn_error err;
    int rc = tcn_state_snapshot(s->m[slot].st, out, &err);
    if (rc != TCN_OK)
        sim_violation(s, "state", "node %llu cannot snapshot its state: %s", (unsigned long long)s->m[slot].id,
                      err.msg);
    return rc;
}

bool pay_snapshot_restore(sim *s, uint32_t slot, const uint8_t *b, size_t len)
{
    sim_node *nd = &s->m[slot];
    tcn_state *st;
    tcn_error err;
    if (tcn_state_restore(b, len, &st, &err) != TCN_OK) {
        sim_violation(s, "state", "node %llu cannot restore a state snapshot: %s", (unsigned long long)nd->id,
                      err.msg);
        return false;
    }
    tcn_state_free(nd->st);
    nd->st = st;
    return true;
}

/* --- The chain as the executor sees it --------------------------------------------- */

typedef struct port_ctx {
    sim *s;
    uint32_t slot;
} port_ctx;

static int port_latest(void *ctx, uint64_t *slot, tcn_chain_hash *bh, tcn_error *err)
{
    port_ctx *c = ctx;
    if (c->s->pay.chain_down[c->slot])
        return tcn_err_set(err, TCN_ERR_IO, "simulated: the chain is unreachable");
    uint64_t last_valid;
    tcn_chain_model_latest_blockhash(c->s->pay.chain, bh, &last_valid);
    *slot = tcn_chain_model_slot(c->s->pay.chain);
    return TCN_OK;
}

static void read_one(const tcn_chain_model *chain, const tcn_chain_pubkey *pk, tcn_exec_account *out)
{
    memset(out, 0, sizeof(*out));
    tcn_chain_account_view v;
    if (!tcn_chain_model_get_account(chain, pk, &v))
        return;
    out->exists = true;
    out->lamports = v.lamports;
    out->nonce_ok = tcn_chain_pubkey_eq(&v.owner, &tcn_chain_system_program_id) &&
                    tcn_chain_nonce_parse(v.data, v.data_len, true, &out->nonce, NULL) == TCN_OK;
}

/* Account answers are as of the model's current slot. Status answers come
 * from a node that lags 0-3 slots behind (drawn per call): it knows only
 * landings up to its slot and, as minContextSlot makes a real node do,
 * refuses to answer for a slot it has not reached. That is the shape of the
 * double payment exec.h's RPC contract prevents (a lagging "unknown" taken
 * for "dropped"). */
static int port_accounts(void *ctx, const tcn_chain_pubkey *pks, size_t n, tcn_exec_account *out, uint64_t *slot,
                         tcn_error *err)
{
    port_ctx *c = ctx;
    if (c->s->pay.chain_down[c->slot])
        return tcn_err_set(err, TCN_ERR_IO, "simulated: the chain is unreachable");
    for (size_t i = 0; i < n; i++)
        read_one(c->s->pay.chain, &pks[i], &out[i]);
    *slot = tcn_chain_model_slot(c->s->pay.chain);
    return TCN_OK;
}

static int port_status(void *ctx, const tcn_chain_signature *sig, uint64_t min_slot, tcn_chain_sig_status *out,
                       tcn_error *err)
{
    port_ctx *c = ctx;
    if (c->s->pay.chain_down[c->slot])
        return tcn_err_set(err, TCN_ERR_IO, "simulated: the chain is unreachable");
    uint64_t now = tcn_chain_model_slot(c->s->pay.chain);
    uint64_t lag = sim_rng_below(&c->s->rng_wl, SIM_PAY_STATUS_LAG_SLOTS + 1);
    uint64_t at = now > lag ? now - lag : 0;
    if (at < min_slot)
        return tcn_err_set(err, TCN_ERR_BUSY, "simulated: status node at slot %llu, behind %llu", (unsigned long long)at,
                           (unsigned long long)min_slot);
    tcn_chain_model_signature_status(c->s->pay.chain, sig, out);
    if (out->state != TCN_CHAIN_SIG_UNKNOWN && out->slot > at)
        memset(out, 0, sizeof(*out)); /* landed after what this node has seen */
    return TCN_OK;
}

static void inbox_push(sim *s, int from, const uint8_t *tx, size_t len)
{
    sim_pay *p = P(s);
    if (p->n_inbox == SIM_PAY_INBOX_MAX || len > TCN_CHAIN_PACKET_BYTES_MAX) {
        p->dropped_sends++;
        return;
    }
    if (sim_rng_below(&s->rng_wl, 1000000) < SIM_PAY_SEND_LOSS_PPM) {
        p->dropped_sends++; /* sendTransaction answered, and the transaction never got anywhere */
        return;
    }
    sim_pay_tx *t = &p->inbox[p->n_inbox++];
    t->at_us = s->now_us + sim_rng_below(&s->rng_wl, SIM_PAY_LATENCY_US_MAX);
    t->seq = ++p->inbox_seq;
    t->from = from;
    t->len = (uint16_t)len;
    memcpy(t->bytes, tx, len);
}

/* The release checks: payout bytes leave a node only for a committed intent,
 * and only one payout per (nonce account, nonce value). */
static void check_release(sim *s, uint32_t slot, const uint8_t *b, size_t len)
{
    sim_pay *p = P(s);
    static tcn_chain_tx tx; /* 8 KiB; the simulator is single-threaded */
    tcn_error err;
    if (tcn_chain_tx_decode(b, len, &tx, &err) != TCN_OK) {
        sim_violation(s, "executor", "node %llu sent bytes that do not decode: %s", (unsigned long long)s->m[slot].id,
                      err.msg);
        return;
    }
    tcn_chain_system_ix ix;
    const tcn_chain_message *m = &tx.msg;
    if (m->n_instructions == 0 ||
        tcn_chain_system_decode(tcn_chain_message_ix_data(m, 0), m->ix[0].data_len, false, &ix, NULL) != TCN_OK)
        return;
    if (ix.kind == TCN_CHAIN_SYS_CREATE_ACCOUNT)
        return; /* a nonce account's creation: a plain transaction, sending it twice is harmless */
    if (ix.kind != TCN_CHAIN_SYS_ADVANCE_NONCE_ACCOUNT)
        return;
    if (m->n_instructions == 1)
        return; /* a nonce cancel: moves the nonce, pays nobody (tcn_state_sign_nonce_cancel) */
    const tcn_chain_signature *sig = tcn_chain_tx_id(&tx);
    char h[17];
    hex8(sig->b, h);
    if (intent_by_sig(p, sig) == NULL) {
        sim_violation(s, "payout exactly-once",
                      "node %llu released payout bytes (signature %s...) before their intent was committed",
                      (unsigned long long)s->m[slot].id, h);
        return;
    }
    const tcn_chain_pubkey *nonce = &m->keys[tcn_chain_message_ix_accounts(m, 0)[0]];
    for (size_t i = 0; i < p->n_released; i++) {
        sim_pay_release *r = &p->released[i];
        if (tcn_chain_pubkey_eq(&r->nonce, nonce) && tcn_chain_hash_eq(&r->value, &m->recent_blockhash)) {
            if (!tcn_chain_signature_eq(&r->sig, sig))
                sim_violation(s, "payout exactly-once",
                              "two different payouts released for one (nonce account, nonce value): %s...",
                              h);
            return;
        }
    }
    if (p->n_released == p->cap_released) {
        size_t cap = p->cap_released ? p->cap_released * 2 : 64;
        sim_pay_release *n = realloc(p->released, cap * sizeof(*n));
        TCN_ASSERT(n != NULL);
        p->released = n;
        p->cap_released = cap;
    }
    sim_pay_release *r = &p->released[p->n_released++];
    r->nonce = *nonce;
    r->value = m->recent_blockhash;
    r->sig = *sig;
}

static int port_send(void *ctx, const uint8_t *tx, size_t len, tcn_error *err)
{
    port_ctx *c = ctx;
    if (c->s->pay.chain_down[c->slot])
        return tcn_err_set(err, TCN_ERR_IO, "simulated: the chain is unreachable");
    check_release(c->s, c->slot, tx, len);
    c->s->pay.sends++;
    inbox_push(c->s, (int)c->slot, tx, len);
    return TCN_OK;
}

static int port_propose(void *ctx, const uint8_t *cmd, size_t len)
{
    port_ctx *c = ctx;
    uint64_t index;
    return tcn_raft_propose(c->s->m[c->slot].r, cmd, len, &index);
}

/* --- The chain's own time ---------------------------------------------------------- */

static int inbox_cmp(const void *a, const void *b)
{
    const sim_pay_tx *x = a, *y = b;
    if (x->at_us != y->at_us)
        return x->at_us < y->at_us ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void chain_step(sim *s)
{
    sim_pay *p = P(s);
    while (s->now_us >= p->next_slot_us) {
        tcn_chain_model_advance_slot(p->chain);
        p->next_slot_us += SIM_PAY_SLOT_US;
    }
    if (p->n_inbox == 0)
        return;
    qsort(p->inbox, p->n_inbox, sizeof(*p->inbox), inbox_cmp);
    size_t k = 0;
    while (k < p->n_inbox && p->inbox[k].at_us <= s->now_us && !s->violated) {
        sim_pay_tx *t = &p->inbox[k++];
        tcn_chain_submit_result r;
        TCN_ASSERT(tcn_chain_model_submit(p->chain, t->bytes, t->len, &r) == TCN_OK);
        if (!r.landed) {
            p->rejected++;
            continue;
        }
        if (r.err.kind == TCN_CHAIN_TX_OK)
            p->landed_ok++;
        else
            p->landed_err++;
        const sim_pay_intent *in = intent_by_sig(p, &r.signature);
        if (in == NULL)
            continue;
        uint32_t *n = landed_slot(p, in->payout_id);
        if (++*n > 1)
            sim_violation(s, "payout exactly-once", "payout %llu landed on the chain a second time (slot %llu)",
                          (unsigned long long)in->payout_id, (unsigned long long)r.slot);
        sim_trace(s, "chain: payout %llu landed in slot %llu (%s)", (unsigned long long)in->payout_id,
                  (unsigned long long)r.slot, r.err.kind == TCN_CHAIN_TX_OK ? "ok" : r.log);
    }
    memmove(p->inbox, p->inbox + k, (p->n_inbox - k) * sizeof(*p->inbox));
    p->n_inbox -= k;
}

/* Machines lose the chain for a while now and then (only with the partition fault). */
static void chain_faults(sim *s)
{
    sim_pay *p = P(s);
    if (s->liveness) {
        memset(p->chain_down, 0, sizeof(p->chain_down));
        return;
    }
    if (!sim_has(s, SIM_F_PARTITION) || s->now_us < p->next_chain_fault_us || s->n_machines == 0)
        return;
    uint32_t m = (uint32_t)sim_rng_below(&s->rng_wl, s->n_machines);
    p->chain_down[m] = !p->chain_down[m];
    sim_trace(s, "machine %u %s the chain", m, p->chain_down[m] ? "loses" : "reaches");
    p->next_chain_fault_us = s->now_us + sim_rng_range(&s->rng_wl, 200000, 3000000);
}

/* --- Clients --------------------------------------------------------------------- */

static bool client_propose(sim *s, tcn_cmd *c)
{
    int l = node_leader(s);
    if (l < 0) {
        tcn_cmd_wipe(c);
        return false;
    }
    c->ts_ms = wall_ms_node(s, (uint32_t)l); /* the leader stamps the time */
    tcn_buf b = {0};
    tcn_error err;
    int rc = tcn_cmd_encode(c, &b, &err);
    tcn_cmd_wipe(c);
    TCN_ASSERT(rc == TCN_OK);
    uint64_t index;
    rc = tcn_raft_propose(s->m[l].r, b.p, b.len, &index);
    tcn_buf_free_wipe(&b);
    if (rc == TCN_OK)
        node_drain(s, (uint32_t)l);
    return rc == TCN_OK;
}

static void client_set(sim *s, const tcn_chain_pubkey *who, uint8_t role)
{
    tcn_cmd c;
    memset(&c, 0, sizeof(c));
    c.type = TCN_CMD_CLIENT_SET;
    c.actor = P(s)->operator_key;
    c.u.client_set.client = *who;
    c.u.client_set.role = role;
    (void)client_propose(s, &c);
}

void pay_inject(sim *s, uint32_t slot, uint32_t n)
{
    (void)slot;
    if (!tcn_state_has_genesis(P(s)->ref))
        return;
    for (uint32_t i = 0; i < n; i++) {
        tcn_chain_pubkey k;
        rand_bytes(s, k.b, 32);
        client_set(s, &k, TCN_ROLE_LP);
    }
}

static void propose_genesis(sim *s)
{
    tcn_cmd c;
    memset(&c, 0, sizeof(c));
    c.type = TCN_CMD_GENESIS;
    rand_bytes(s, c.u.genesis.group_id, sizeof(c.u.genesis.group_id));
    rand_bytes(s, c.u.genesis.coordinator_seed, sizeof(c.u.genesis.coordinator_seed)); /* the leader's entropy */
    c.u.genesis.operator_key = P(s)->operator_key;
    (void)client_propose(s, &c);
}

static void create_swap(sim *s)
{
    sim_pay *p = P(s);
    uint32_t u = (uint32_t)sim_rng_below(&s->rng_wl, SIM_PAY_USERS);
    tcn_cmd c;
    memset(&c, 0, sizeof(c));
    c.type = TCN_CMD_SWAP_CREATE;
    c.actor = p->users[u];
    rand_bytes(s, c.u.swap_create.escrow_seed, 32);
    rand_bytes(s, c.u.swap_create.nonce_seed, 32);
    c.u.swap_create.lp = p->lp;
    c.u.swap_create.refund_to = p->refund_to[u];
    c.u.swap_create.amount = 5000000 + sim_rng_below(&s->rng_wl, 3000000);
    c.u.swap_create.deadline_ms = wall_ms_global(s) + SIM_PAY_DEADLINE_MS;
    c.u.swap_create.policy.n_destinations = 1;
    c.u.swap_create.policy.destinations[0] = p->lp;
    c.u.swap_create.policy.max_per_payout = c.u.swap_create.amount;
    (void)client_propose(s, &c);
}

/* The client's plan once its escrow is funded: 1-3 payouts that always
 * leave the escrow able to pay its refund (rent-exempt minimum + fee), each
 * big enough to make a new destination rent exempt. */
static void plan_payouts(sim *s, sim_pay_swap *w, uint64_t amount)
{
    uint32_t k = (uint32_t)sim_rng_range(&s->rng_wl, 1, 3);
    uint64_t spendable = amount - tcn_chain_rent_minimum_balance(0) - 4 * TCN_STATE_TX_FEE;
    w->planned = k;
    for (uint32_t i = 0; i < k; i++)
        w->plan_amount[i] = SIM_PAY_PAYOUT_MIN + sim_rng_below(&s->rng_wl, spendable / k - SIM_PAY_PAYOUT_MIN);
}

static void clients(sim *s)
{
    sim_pay *p = P(s);
    const tcn_state *ref = p->ref;
    if (!tcn_state_has_genesis(ref)) {
        if (s->now_us >= p->next_client_us) {
            propose_genesis(s);
            p->next_client_us = s->now_us + 300000;
        }
        return;
    }
    if (!p->coordinator_funded) {
        /* The operator funds the coordinator's account: it pays for the
         * nonce accounts (rent-exempt minimum) and their fees. */
        tcn_error err;
        TCN_ASSERT(tcn_chain_model_airdrop(p->chain, tcn_state_coordinator_key(ref), SIM_PAY_COORDINATOR_FUNDS, &err) ==
                   TCN_OK);
        p->coordinator_funded = true;
    }
    if (s->now_us < p->next_client_us)
        return;
    p->next_client_us = s->now_us + sim_rng_range(&s->rng_wl, 50000, 250000);
    for (uint32_t u = 0; u < SIM_PAY_USERS; u++)
        if (tcn_state_client_role(ref, &p->users[u]) != TCN_ROLE_USER) {
            client_set(s, &p->users[u], TCN_ROLE_USER);
            return;
        }
    if (tcn_state_client_role(ref, &p->lp) != TCN_ROLE_LP) {
        client_set(s, &p->lp, TCN_ROLE_LP);
        return;
    }
    uint64_t n = tcn_state_swap_count(ref);
    if (!s->liveness && n < SIM_PAY_SWAPS_MAX && sim_rng_below(&s->rng_wl, 10) == 0)
        create_swap(s);
    for (uint64_t id = 1; id <= n && id <= SIM_PAY_SWAPS_MAX; id++) {
        sim_pay_swap *w = &p->swaps[id];
        tcn_swap_view v;
        if (!tcn_state_swap(ref, id, &v))
            continue;
        /* Fund the escrow only once the refund is committed: the user holds
         * its way back before it sends anything. */
        if (!w->funded && !s->liveness && v.status == TCN_SWAP_OPEN && v.refund_len > 0) {
            tcn_error err;
            if (tcn_chain_model_airdrop(p->chain, &v.escrow, v.amount, &err) != TCN_OK) {
                sim_violation(s, "workload", "funding the escrow of swap %llu failed: %s", (unsigned long long)id,
                              err.msg);
                return;
            }
            w->funded = true;
            plan_payouts(s, w, v.amount);
            if (sim_rng_below(&s->rng_wl, 8) == 0) /* this user will take its refund */
                w->refund_at_us = s->now_us + sim_rng_range(&s->rng_wl, 0, 6000000);
            sim_trace(s, "client: funds swap %llu with %llu lamports", (unsigned long long)id,
                      (unsigned long long)v.amount);
            continue;
        }
        if (!w->funded)
            continue;
        if (w->refund_at_us != 0 && !w->user_refund && s->now_us >= w->refund_at_us && v.refund_len > 0) {
            inbox_push(s, -1, v.refund, v.refund_len);
            w->user_refund = true;
            p->user_refunds++;
            sim_trace(s, "client: sends the refund of swap %llu", (unsigned long long)id);
            continue;
        }
        if (!s->liveness && !w->user_refund && v.n_payouts < w->planned && s->now_us >= w->next_try_us &&
            v.status == TCN_SWAP_OPEN) {
            tcn_cmd c;
            memset(&c, 0, sizeof(c));
            c.type = TCN_CMD_PAYOUT_SCHEDULE;
            c.actor = v.user;
            c.u.payout_schedule.swap_id = id;
            c.u.payout_schedule.destination = v.lp;
            c.u.payout_schedule.amount = w->plan_amount[v.n_payouts];
            c.u.payout_schedule.due_ms = wall_ms_global(s) + sim_rng_below(&s->rng_wl, 3000);
            if (client_propose(s, &c))
                w->next_try_us = s->now_us + 2000000;
        }
    }
}

/* --- The executor on every node that believes it leads ------------------------------ */

static bool exec_ready(const sim *s, uint32_t slot)
{
    const sim_node *nd = &s->m[slot];
    if (!node_usable(s, slot) || tcn_raft_role_of(nd->r) != TCN_RAFT_LEADER)
        return false;
    /* Only with an entry of its own term applied: before that it may not
     * know every committed intent. (Asking the log for the entry at the
     * commit index is not enough: once a snapshot covers it, it is gone, and
     * a leader with nothing to propose waited for ever: tcn-sim --seed 107
     * --steps 5000 --workload payouts.) */
    return nd->applied == tcn_raft_commit_index(nd->r) && tcn_raft_commit_in_term(nd->r);
}

static void executors(sim *s)
{
    static const tcn_exec_chain port = {
        .latest = port_latest, .accounts = port_accounts, .send = port_send, .status = port_status};
    for (uint32_t i = 0; i < s->n_machines && !s->violated; i++) {
        if (!exec_ready(s, i))
            continue;
        port_ctx pc = {.s = s, .slot = i};
        tcn_exec_chain ch = port;
        ch.ctx = &pc;
        node_advance_clock(s, i);
        s->event_us = s->now_us;
        tcn_exec_stats before = *tcn_exec_stats_of(s->m[i].ex);
        int rc = tcn_exec_step(s->m[i].ex, s->m[i].st, tcn_raft_term(s->m[i].r), wall_ms_node(s, i), &ch,
                               port_propose, &pc);
        TCN_ASSERT(rc == TCN_OK);
        P(s)->exec_steps++;
        node_drain(s, i);
        /* Crashes at the protocol's delicate instants: right after the
         * leader signed and proposed (an intent, or an outcome with its new
         * refund) and before it commits; right after it sent payout bytes
         * and before they land or their outcome is recorded. */
        if (!s->m[i].up)
            continue; /* the drain may have ended it (a retired node) */
        const tcn_exec_stats *after = tcn_exec_stats_of(s->m[i].ex);
        bool sent = after->sent != before.sent, proposed = after->proposed != before.proposed;
        if ((sent || proposed) && sim_rng_below(&s->rng_wl, 100) < SIM_PAY_TARGETED_CRASH_PCT &&
            faults_crash_now(s, i)) { /* frees the node's executor */
            P(s)->targeted_crashes++;
            sim_trace(s, "machine %u crashes right after its executor %s", i,
                      sent ? "sent a transaction" : "proposed a command");
        }
    }
}

void pay_step(sim *s)
{
    sim_pay *p = P(s);
    chain_faults(s);
    chain_step(s);
    if (s->violated)
        return;
    clients(s);
    if (s->violated)
        return;
    if (s->liveness && !p->live_sent && tcn_state_has_genesis(p->ref)) {
        /* The liveness write: a new LP registered after the heal. */
        tcn_cmd c;
        memset(&c, 0, sizeof(c));
        c.type = TCN_CMD_CLIENT_SET;
        c.ts_ms = wall_ms_global(s);
        c.actor = p->operator_key;
        rand_bytes(s, c.u.client_set.client.b, 32);
        c.u.client_set.role = TCN_ROLE_LP;
        tcn_buf b = {0};
        TCN_ASSERT(tcn_cmd_encode(&c, &b, NULL) == TCN_OK && b.len <= sizeof(p->live_cmd));
        memcpy(p->live_cmd, b.p, b.len);
        p->live_len = b.len;
        tcn_buf_free(&b);
        p->live_sent = true;
    }
    if (s->liveness && p->live_index == 0 && p->live_sent && s->step % 20 == 0) {
        int l = node_leader(s);
        uint64_t index;
        if (l >= 0 && tcn_raft_propose(s->m[l].r, p->live_cmd, p->live_len, &index) == TCN_OK)
            node_drain(s, (uint32_t)l);
    }
    executors(s);
}

uint64_t pay_liveness_index(const sim *s) { return s->pay.live_index; }

/* --- Checkers ------------------------------------------------------------------------ */

/* A committed refund is valid when it is bound to the nonce account's
 * current value and empties the escrow exactly. */
static bool refund_valid(sim *s, const tcn_swap_view *v, uint64_t bal, char *why, size_t cap)
{
    static tcn_chain_tx tx;
    if (v->refund_len == 0) {
        snprintf(why, cap, "no refund");
        return false;
    }
    tcn_error err;
    if (tcn_chain_tx_decode(v->refund, v->refund_len, &tx, &err) != TCN_OK) {
        snprintf(why, cap, "the refund does not decode: %.160s", err.msg);
        return false;
    }
    tcn_chain_nonce_state ns;
    if (tcn_chain_model_nonce(P(s)->chain, &v->nonce, &ns, &err) != TCN_OK) {
        snprintf(why, cap, "nonce account: %.160s", err.msg);
        return false;
    }
    if (!tcn_chain_hash_eq(&ns.durable_nonce, &tx.msg.recent_blockhash)) {
        char a[17], b[17];
        hex8(tx.msg.recent_blockhash.b, a);
        hex8(ns.durable_nonce.b, b);
        snprintf(why, cap, "the refund is bound to nonce value %s... but the chain holds %s...", a, b);
        return false;
    }
    tcn_chain_system_ix ix;
    const tcn_chain_message *m = &tx.msg;
    if (m->n_instructions != 2 ||
        tcn_chain_system_decode(tcn_chain_message_ix_data(m, 1), m->ix[1].data_len, false, &ix, NULL) != TCN_OK ||
        ix.kind != TCN_CHAIN_SYS_TRANSFER) {
        snprintf(why, cap, "the refund is not AdvanceNonce + Transfer");
        return false;
    }
    if (ix.lamports + TCN_STATE_TX_FEE != bal) {
        snprintf(why, cap, "the refund moves %llu lamports + %u fee but the escrow holds %llu",
                 (unsigned long long)ix.lamports, TCN_STATE_TX_FEE, (unsigned long long)bal);
        return false;
    }
    return true;
}

void pay_check_step(sim *s)
{
    sim_pay *p = P(s);
    tcn_error err;
    if (tcn_chain_model_check_conservation(p->chain, &err) != TCN_OK) {
        sim_violation(s, "lamports conserved", "%s", err.msg);
        return;
    }
    uint64_t n = tcn_state_swap_count(p->ref);
    for (uint64_t id = 1; id <= n; id++) {
        tcn_swap_view v;
        if (!tcn_state_swap(p->ref, id, &v))
            continue;
        uint64_t bal = tcn_chain_model_balance(p->chain, &v.escrow);
        if (bal == 0 || v.intent_payout_id != 0)
            continue;
        char why[256];
        if (!refund_valid(s, &v, bal, why, sizeof(why))) {
            sim_violation(s, "refund never stranded",
                          "swap %llu holds %llu lamports on the chain with no open intent and no valid refund "
                          "committed: %s",
                          (unsigned long long)id, (unsigned long long)bal, why);
            return;
        }
    }
}

/* Payouts the run must see landed: scheduled on a funded swap whose user
 * did not take its refund, and allowed now (policy, balance). */
static bool payout_expected(sim *s, const tcn_payout_view *pv)
{
    sim_pay *p = P(s);
    if (pv->swap_id > SIM_PAY_SWAPS_MAX || !p->swaps[pv->swap_id].funded || p->swaps[pv->swap_id].user_refund)
        return false;
    if (pv->status != TCN_PAYOUT_SCHEDULED)
        return true;
    tcn_error err;
    return pv->due_ms > wall_ms_global(s) || tcn_state_check_payout(p->ref, pv->id, wall_ms_global(s), &err) == TCN_OK;
}

bool pay_settled(sim *s, char *why, size_t cap)
{
    sim_pay *p = P(s);
    if (!tcn_state_has_genesis(p->ref)) {
        snprintf(why, cap, "no genesis committed");
        return false;
    }
    uint64_t n = tcn_state_swap_count(p->ref);
    for (uint64_t id = 1; id <= n; id++) {
        tcn_swap_view v;
        if (!tcn_state_swap(p->ref, id, &v))
            continue;
        if (v.status == TCN_SWAP_NEW) {
            snprintf(why, cap, "swap %llu still has no nonce account", (unsigned long long)id);
            return false;
        }
        if (v.intent_payout_id != 0) {
            snprintf(why, cap, "swap %llu: payout %llu has an open intent", (unsigned long long)id,
                     (unsigned long long)v.intent_payout_id);
            return false;
        }
        if (id <= SIM_PAY_SWAPS_MAX && p->swaps[id].funded && !p->swaps[id].user_refund && !v.funded) {
            snprintf(why, cap, "swap %llu: the escrow's funding is not recorded", (unsigned long long)id);
            return false;
        }
    }
    uint64_t np = tcn_state_payout_count(p->ref);
    for (uint64_t pid = 1; pid <= np; pid++) {
        tcn_payout_view pv;
        if (!tcn_state_payout(p->ref, pid, &pv) || !payout_expected(s, &pv))
            continue;
        if (pv.status == TCN_PAYOUT_FAILED) {
            sim_violation(s, "payouts", "payout %llu failed on the chain though its swap could pay it",
                          (unsigned long long)pid);
            return false;
        }
        if (pv.status != TCN_PAYOUT_PAID) {
            snprintf(why, cap, "payout %llu (swap %llu) is due and not paid", (unsigned long long)pid,
                     (unsigned long long)pv.swap_id);
            return false;
        }
    }
    return true;
}

void pay_final_check(sim *s)
{
    sim_pay *p = P(s);
    char why[256];
    if (!pay_settled(s, why, sizeof(why))) {
        if (!s->violated)
            sim_violation(s, "payouts", "at the end of the liveness phase: %s", why);
        return;
    }
    uint64_t np = tcn_state_payout_count(p->ref);
    for (uint64_t pid = 1; pid <= np; pid++) {
        tcn_payout_view pv;
        if (!tcn_state_payout(p->ref, pid, &pv) || pv.status != TCN_PAYOUT_PAID)
            continue;
        uint32_t landed = pid < p->cap_landed ? p->landed[pid] : 0;
        tcn_chain_sig_status st;
        tcn_chain_model_signature_status(p->chain, &pv.sig, &st);
        if (landed != 1 || st.state != TCN_CHAIN_SIG_LANDED_OK) {
            sim_violation(s, "payout exactly-once", "payout %llu is recorded paid but landed %u times (status %d)",
                          (unsigned long long)pid, landed, (int)st.state);
            return;
        }
    }
    /* Every refund held for an escrow with lamports would land in the next
     * slot (a nonce advances at most once per slot: NonceBlockhashNotExpired). */
    tcn_chain_model_advance_slot(p->chain);
    uint64_t n = tcn_state_swap_count(p->ref);
    for (uint64_t id = 1; id <= n; id++) {
        tcn_swap_view v;
        if (!tcn_state_swap(p->ref, id, &v) || tcn_chain_model_balance(p->chain, &v.escrow) == 0)
            continue;
        tcn_chain_submit_result r;
        TCN_ASSERT(tcn_chain_model_simulate(p->chain, v.refund, v.refund_len, &r) == TCN_OK);
        if (!r.landed || r.err.kind != TCN_CHAIN_TX_OK) {
            sim_violation(s, "refund never stranded", "swap %llu: its committed refund would not land: %s",
                          (unsigned long long)id, r.log);
            return;
        }
    }
    /* Every node that applied as far as the reference holds byte-identical state. */
    uint8_t want[32], got[32];
    tcn_error err;
    TCN_ASSERT(tcn_state_digest(p->ref, want, &err) == TCN_OK);
    for (uint32_t i = 0; i < s->n_machines; i++) {
        if (!s->m[i].up || s->m[i].st == NULL ||
            tcn_state_applied_index(s->m[i].st) != tcn_state_applied_index(p->ref))
            continue;
        TCN_ASSERT(tcn_state_digest(s->m[i].st, got, &err) == TCN_OK);
        if (memcmp(want, got, sizeof(want)) != 0) {
            sim_violation(s, "state machine safety", "node %llu's state differs from the reference at index %llu",
                          (unsigned long long)s->m[i].id, (unsigned long long)tcn_state_applied_index(p->ref));
            return;
        }
    }
}

void pay_stats(const sim *s)
{
    const sim_pay *p = &s->pay;
    uint64_t paid = 0, np = tcn_state_payout_count(p->ref);
    for (uint64_t pid = 1; pid <= np; pid++) {
        tcn_payout_view pv;
        if (tcn_state_payout(p->ref, pid, &pv) && pv.status == TCN_PAYOUT_PAID)
            paid++;
    }
    printf("payouts: swaps %llu, payouts %llu (paid %llu), intents %zu, commands %llu (refused %llu); chain: slot "
           "%llu, sends %llu (lost %llu), landed ok %llu / failed %llu, rejected %llu; user refunds %llu; crashes right after an executor action %llu\n",
           (unsigned long long)tcn_state_swap_count(p->ref), (unsigned long long)np, (unsigned long long)paid,
           p->n_intents, (unsigned long long)p->applied_cmds, (unsigned long long)p->refused,
           (unsigned long long)tcn_chain_model_slot(p->chain), (unsigned long long)p->sends,
           (unsigned long long)p->dropped_sends, (unsigned long long)p->landed_ok, (unsigned long long)p->landed_err,
           (unsigned long long)p->rejected, (unsigned long long)p->user_refunds,
           (unsigned long long)p->targeted_crashes);
}
