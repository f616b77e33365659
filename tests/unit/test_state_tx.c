/* Unit tests: the transactions the state signs — their shape and signatures (and the very bytes the chain
 * layer's own signer makes), binding (any byte of an intent or a refund changed: TCN_ERR_BINDING), and the
 * external truth: on the chain model, the payout lands and moves the right lamports, advances the nonce, the
 * previous refund is then refused and the new one lands; a refund that lands first drops the payout; a payout
 * that fails in execution still moves the nonce, and the refund the outcome carries lands. */
#include "test_state_harness.h"

#include "chain/keypair.h"
#include "chain/message.h"
#include "chain/model.h"
#include "chain/nonce.h"
#include "chain/system.h"
#include "chain/transaction.h"

static tcn_chain_keypair *keypair(uint32_t seed_no)
{
    uint8_t seed[32];
    h_seed(seed_no, seed);
    tcn_chain_keypair *kp;
    tcn_error err;
    assert_int_equal(tcn_chain_keypair_from_seed(seed, &kp, &err), TCN_OK);
    tcn_wipe(seed, sizeof(seed));
    return kp;
}

static void decode(const uint8_t *p, size_t len, tcn_chain_tx *tx)
{
    tcn_error err;
    if (tcn_chain_tx_decode(p, len, tx, &err) != TCN_OK || tcn_chain_tx_verify(tx, &err) != TCN_OK) {
        fprintf(stderr, "%s\n", err.msg);
        fail();
    }
}

/* Instruction i of a System-program transaction: decoded data and its accounts. */
typedef struct ixv {
    tcn_chain_system_ix d;
    unsigned n;
    tcn_chain_pubkey acc[TCN_CHAIN_IX_ACCOUNTS_MAX];
} ixv;

static ixv ix_of(const tcn_chain_tx *tx, unsigned i)
{
    const tcn_chain_message *m = &tx->msg;
    ixv out;
    memset(&out, 0, sizeof(out));
    assert_true(i < m->n_instructions);
    assert_memory_equal(&m->keys[m->ix[i].program_index], &tcn_chain_system_program_id, 32);
    const uint8_t *a = tcn_chain_message_ix_accounts(m, i);
    assert_true(m->ix[i].n_accounts <= TCN_CHAIN_IX_ACCOUNTS_MAX);
    out.n = m->ix[i].n_accounts;
    for (unsigned k = 0; k < out.n; k++)
        out.acc[k] = m->keys[a[k]];
    tcn_error err;
    assert_int_equal(tcn_chain_system_decode(tcn_chain_message_ix_data(m, i), m->ix[i].data_len, false, &out.d, &err),
                     TCN_OK);
    return out;
}

/* Payout and refund: AdvanceNonceAccount(nonce, coordinator) + Transfer(escrow -> to, lamports), the escrow
 * paying, bound to the nonce value, signed by escrow and coordinator. */
static void check_nonce_transfer(const uint8_t *p, size_t len, const tcn_swap_view *v,
                                 const tcn_chain_pubkey *coordinator, const tcn_chain_hash *value,
                                 const tcn_chain_pubkey *to, uint64_t lamports)
{
    tcn_chain_tx tx;
    decode(p, len, &tx);
    assert_int_equal(tx.n_signatures, 2);
    assert_memory_equal(&tx.msg.keys[0], &v->escrow, 32); /* fee payer */
    assert_memory_equal(&tx.msg.recent_blockhash, value, 32);
    assert_int_equal(tx.msg.n_instructions, 2);
    ixv a = ix_of(&tx, 0);
    assert_int_equal(a.d.kind, TCN_CHAIN_SYS_ADVANCE_NONCE_ACCOUNT);
    assert_int_equal(a.n, 3);
    assert_memory_equal(&a.acc[0], &v->nonce, 32);
    assert_memory_equal(&a.acc[1], &tcn_chain_sysvar_recent_blockhashes_id, 32);
    assert_memory_equal(&a.acc[2], coordinator, 32);
    ixv b = ix_of(&tx, 1);
    assert_int_equal(b.d.kind, TCN_CHAIN_SYS_TRANSFER);
    assert_int_equal(b.d.lamports, lamports);
    assert_int_equal(b.n, 2);
    assert_memory_equal(&b.acc[0], &v->escrow, 32);
    assert_memory_equal(&b.acc[1], to, 32);
}

static void test_shapes(void **state)
{
    (void)state;
    h_t t;
    h_init(&t);
    uint64_t amount = 7000000;
    tcn_chain_pubkey d = h_pub(H_DEST), coord = h_pub(H_COORD);
    uint64_t s = h_swap(&t, amount, NULL);
    uint64_t pid = h_schedule(&t, s, &d, 1234567, H_T0);
    tcn_swap_view v = h_swap_view(&t, s);
    tcn_chain_hash nv = h_hash(42), bh = h_hash(43);
    tcn_buf b = {0};
    tcn_error err;

    /* Nonce creation: the coordinator pays and creates an 80-byte account
     * holding its rent-exempt minimum, then initializes it with itself as
     * authority; signed by the coordinator and the nonce key. */
    assert_int_equal(tcn_state_sign_nonce_create(t.st, s, &bh, &b, &err), TCN_OK);
    tcn_chain_tx tx;
    decode(b.p, b.len, &tx);
    assert_int_equal(tx.n_signatures, 2);
    assert_memory_equal(&tx.msg.keys[0], &coord, 32);
    assert_memory_equal(&tx.msg.recent_blockhash, &bh, 32);
    ixv ca = ix_of(&tx, 0);
    assert_int_equal(ca.d.kind, TCN_CHAIN_SYS_CREATE_ACCOUNT);
    assert_int_equal(ca.d.lamports, tcn_chain_rent_minimum_balance(80));
    assert_int_equal(ca.d.space, 80);
    assert_memory_equal(&ca.d.owner, &tcn_chain_system_program_id, 32);
    assert_memory_equal(&ca.acc[0], &coord, 32);
    assert_memory_equal(&ca.acc[1], &v.nonce, 32);
    ixv in = ix_of(&tx, 1);
    assert_int_equal(in.d.kind, TCN_CHAIN_SYS_INITIALIZE_NONCE_ACCOUNT);
    assert_memory_equal(&in.d.authority, &coord, 32);
    assert_memory_equal(&in.acc[0], &v.nonce, 32);

    /* The very bytes the chain layer's own signer makes with the same keys. */
    tcn_chain_keypair *kc = keypair(H_COORD), *kn = keypair(1001), *ke = keypair(1000);
    {
        tcn_chain_tx mine;
        tcn_chain_tx_init(&mine, &tx.msg);
        const tcn_chain_keypair *signers[2] = {kc, kn};
        assert_int_equal(tcn_chain_tx_sign(&mine, signers, 2, &err), TCN_OK);
        tcn_buf again = {0};
        assert_int_equal(tcn_chain_tx_encode(&mine, &again, &err), TCN_OK);
        assert_int_equal(again.len, b.len);
        assert_memory_equal(again.p, b.p, b.len);
        tcn_buf_free(&again);
    }

    /* Payout. */
    b.len = 0;
    assert_int_equal(tcn_state_sign_payout(t.st, pid, &nv, &b, &err), TCN_OK);
    check_nonce_transfer(b.p, b.len, &v, &coord, &nv, &d, 1234567);
    assert_int_equal(b.len, 385);
    decode(b.p, b.len, &tx);
    {
        tcn_chain_tx mine;
        tcn_chain_tx_init(&mine, &tx.msg);
        const tcn_chain_keypair *signers[2] = {ke, kc};
        assert_int_equal(tcn_chain_tx_sign(&mine, signers, 2, &err), TCN_OK);
        assert_memory_equal(mine.signatures, tx.signatures, 2 * 64);
    }
    /* Deterministic: the same inputs, the same bytes; another nonce value, other bytes. */
    tcn_buf b2 = {0};
    assert_int_equal(tcn_state_sign_payout(t.st, pid, &nv, &b2, &err), TCN_OK);
    assert_memory_equal(b.p, b2.p, b.len);
    b2.len = 0;
    tcn_chain_hash other = h_hash(44);
    assert_int_equal(tcn_state_sign_payout(t.st, pid, &other, &b2, &err), TCN_OK);
    assert_memory_not_equal(b.p, b2.p, b.len);

    /* Refund: the balance less the reserve and the fee to refund_to; none
     * below 2 R + fee (the refund would move less than R). */
    b.len = 0;
    assert_int_equal(tcn_state_sign_refund(t.st, s, &nv, 5000000, &b, &err), TCN_OK);
    check_nonce_transfer(b.p, b.len, &v, &coord, &nv, &t.refund_to,
                         5000000 - TCN_STATE_ESCROW_RESERVE - TCN_STATE_TX_FEE);
    size_t before = b.len;
    assert_int_equal(tcn_state_sign_refund(t.st, s, &nv, TCN_STATE_REFUND_MIN_BALANCE - 1, &b, &err),
                     TCN_ERR_USAGE);
    assert_non_null(strstr(err.msg, "a balance of 1791759 lamports is below 1791760"));
    assert_int_equal(b.len, before);
    /* Appends. */
    assert_int_equal(tcn_state_sign_refund(t.st, s, &nv, 5000000, &b, &err), TCN_OK);
    assert_int_equal(b.len, 2 * before);
    assert_memory_equal(b.p, b.p + before, before);

    /* Unknown ids. */
    assert_int_equal(tcn_state_sign_payout(t.st, 9, &nv, &b, &err), TCN_ERR_USAGE);
    assert_int_equal(tcn_state_sign_refund(t.st, 9, &nv, 5000000, &b, &err), TCN_ERR_USAGE);
    assert_int_equal(tcn_state_sign_nonce_create(t.st, 9, &bh, &b, &err), TCN_ERR_USAGE);
    assert_int_equal(tcn_state_refund_balance(t.st, 9, 5), 0);

    tcn_chain_keypair_free(kc);
    tcn_chain_keypair_free(kn);
    tcn_chain_keypair_free(ke);
    tcn_buf_free(&b);
    tcn_buf_free(&b2);
    h_free(&t);

    /* Before genesis nothing can be signed. */
    tcn_state *st;
    assert_int_equal(tcn_state_new(&st), TCN_OK);
    assert_int_equal(tcn_state_sign_refund(st, 1, &nv, 5000000, &b, &err), TCN_ERR_USAGE);
    assert_non_null(strstr(err.msg, "no genesis"));
    tcn_state_free(st);
    tcn_state_free(NULL);
}

/* Any byte of an intent's transaction or of a refund changed: TCN_ERR_BINDING, nothing applied. */
static void test_binding_every_byte(void **state)
{
    (void)state;
    h_t t;
    h_init(&t);
    uint64_t amount = 7000000;
    tcn_chain_pubkey d = h_pub(H_DEST);
    uint64_t s = h_swap(&t, amount, NULL);
    uint64_t pid = h_schedule(&t, s, &d, 1000000, H_T0);
    tcn_chain_hash v0 = h_hash(1001), v1 = h_hash(2);

    tcn_cmd obs = h_observed_cmd(&t, H_T0, s, 10, true, &v0, amount);
    size_t n = obs.u.swap_observed.refund_len;
    assert_true(n > 300);
    for (size_t i = 0; i < n; i++) {
        tcn_cmd c = obs;
        c.u.swap_observed.refund[i] ^= (uint8_t)(1u << (i % 8));
        h_refused(&t, &c, TCN_ERR_BINDING, "refund: differs at byte");
    }
    tcn_cmd c = obs;
    h_ok(&t, &c);

    tcn_cmd in = h_intent_cmd(&t, pid, H_T0);
    n = in.u.payout_intent.tx_len;
    for (size_t i = 0; i < n; i++) {
        c = in;
        c.u.payout_intent.tx[i] ^= (uint8_t)(0x80u >> (i % 8));
        h_refused(&t, &c, TCN_ERR_BINDING, "tx: differs at byte");
    }
    /* One byte more or less. */
    c = in;
    c.u.payout_intent.tx_len++;
    h_refused(&t, &c, TCN_ERR_BINDING, "tx: 386 bytes");
    c = in;
    h_ok(&t, &c);

    uint64_t after = amount - 1000000 - TCN_STATE_TX_FEE;
    tcn_cmd out = h_outcome_cmd(&t, H_T0, s, pid, TCN_PAYOUT_LANDED_OK, 11, &v1, after);
    n = out.u.payout_outcome.refund_len;
    for (size_t i = 0; i < n; i++) {
        c = out;
        c.u.payout_outcome.refund[i] ^= 0xff;
        h_refused(&t, &c, TCN_ERR_BINDING, "refund: differs at byte");
    }
    c = out;
    h_ok(&t, &c);
    assert_int_equal(h_payout_view(&t, pid).status, TCN_PAYOUT_PAID);
    h_free(&t);
}

/* --- External truth: the chain model ----------------------------------------------------------- */

typedef struct world {
    h_t t;
    tcn_chain_model *m;
    tcn_chain_pubkey coord, dest;
} world;

static tcn_chain_submit_result submit(world *w, const uint8_t *p, size_t len)
{
    tcn_chain_submit_result r;
    assert_int_equal(tcn_chain_model_submit(w->m, p, len, &r), TCN_OK);
    tcn_error err;
    tcn_err_clear(&err);
    if (tcn_chain_model_check_conservation(w->m, &err) != TCN_OK) {
        fprintf(stderr, "%s\n", err.msg);
        fail();
    }
    return r;
}

static void expect_ok(const tcn_chain_submit_result *r, const char *what)
{
    if (!r->landed || r->err.kind != TCN_CHAIN_TX_OK) {
        fprintf(stderr, "%s: %s (%s)\n", what, tcn_chain_txerr_name(r->err.kind), r->log);
        fail();
    }
}

static tcn_chain_hash nonce_of(world *w, const tcn_chain_pubkey *pk)
{
    tcn_chain_nonce_state ns;
    tcn_error err;
    assert_int_equal(tcn_chain_model_nonce(w->m, pk, &ns, &err), TCN_OK);
    assert_memory_equal(&ns.authority, &w->coord, 32);
    return ns.durable_nonce;
}

static void world_init(world *w)
{
    h_init(&w->t);
    tcn_error err;
    assert_int_equal(tcn_chain_model_new("tcn state", 9, NULL, &w->m, &err), TCN_OK);
    w->coord = h_pub(H_COORD);
    w->dest = h_pub(H_DEST);
    assert_int_equal(tcn_chain_model_airdrop(w->m, &w->coord, 10000000000ull, &err), TCN_OK);
}

static void world_free(world *w)
{
    tcn_chain_model_free(w->m);
    h_free(&w->t);
}

/* A swap whose nonce account exists on the chain, observed OPEN with its
 * first refund, and funded by the user (observed again). */
static uint64_t world_swap(world *w, uint64_t amount, tcn_chain_hash *v0)
{
    h_t *t = &w->t;
    uint64_t s = h_swap(t, amount, NULL);
    tcn_chain_hash bh;
    tcn_chain_model_latest_blockhash(w->m, &bh, NULL);
    tcn_buf b = {0};
    tcn_error err;
    assert_int_equal(tcn_state_sign_nonce_create(t->st, s, &bh, &b, &err), TCN_OK);
    tcn_chain_submit_result r = submit(w, b.p, b.len);
    expect_ok(&r, "nonce creation");
    tcn_buf_free(&b);
    tcn_swap_view v = h_swap_view(t, s);
    assert_int_equal(tcn_chain_model_balance(w->m, &v.nonce), tcn_chain_rent_minimum_balance(80));
    *v0 = nonce_of(w, &v.nonce);
    tcn_cmd c = h_observed_cmd(t, H_T0, s, tcn_chain_model_slot(w->m), true, v0, 0);
    h_ok(t, &c);
    v = h_swap_view(t, s);
    uint8_t first[TCN_CHAIN_PACKET_BYTES_MAX];
    size_t first_len = v.refund_len;
    memcpy(first, v.refund, first_len);
    assert_int_equal(tcn_chain_model_airdrop(w->m, &v.escrow, amount, &err), TCN_OK); /* the user funds */
    c = h_observed_cmd(t, H_T0, s, tcn_chain_model_slot(w->m), true, v0,
                       tcn_chain_model_balance(w->m, &v.escrow));
    h_ok(t, &c);
    v = h_swap_view(t, s);
    assert_true(v.funded);
    /* The refund held before funding is the one held after: same value, same balance. */
    assert_int_equal(v.refund_len, first_len);
    assert_memory_equal(v.refund, first, first_len);
    /* A nonce initialized in this slot cannot advance in it (Agave). */
    tcn_chain_model_advance_slot(w->m);
    return s;
}

static void test_chain_payout_then_refund(void **state)
{
    (void)state;
    world w;
    world_init(&w);
    h_t *t = &w.t;
    uint64_t amount = 2000000000ull, pay = 500000000ull;
    tcn_chain_hash v0;
    uint64_t s = world_swap(&w, amount, &v0);
    tcn_swap_view v = h_swap_view(t, s);
    uint8_t r0[TCN_CHAIN_PACKET_BYTES_MAX];
    size_t r0_len = v.refund_len;
    memcpy(r0, v.refund, r0_len);
    uint64_t pid = h_schedule(t, s, &w.dest, pay, H_T0);
    tcn_cmd c = h_intent_cmd(t, pid, H_T0);
    h_ok(t, &c);
    v = h_swap_view(t, s);
    assert_memory_equal(&v.intent_nonce_value, &v0, 32);

    /* The committed bytes land: the destination gets exactly the amount,
     * the escrow pays it and the fee, the nonce advances. */
    tcn_chain_submit_result r = submit(&w, v.intent_tx, v.intent_tx_len);
    expect_ok(&r, "payout");
    assert_int_equal(r.fee, TCN_STATE_TX_FEE);
    tcn_payout_view pv = h_payout_view(t, pid);
    assert_memory_equal(&r.signature, &pv.sig, 64);
    assert_int_equal(tcn_chain_model_balance(w.m, &w.dest), pay);
    uint64_t after = amount - pay - TCN_STATE_TX_FEE;
    assert_int_equal(tcn_chain_model_balance(w.m, &v.escrow), after);
    tcn_chain_hash v1 = nonce_of(&w, &v.nonce);
    assert_memory_not_equal(&v1, &v0, 32);
    tcn_chain_sig_status st;
    tcn_chain_model_signature_status(w.m, &r.signature, &st);
    assert_int_equal(st.state, TCN_CHAIN_SIG_LANDED_OK);
    /* The same bytes again: their nonce moved on. */
    r = submit(&w, v.intent_tx, v.intent_tx_len);
    assert_false(r.landed);

    /* Outcome + the refund bound to v1, committed together. */
    c = h_outcome_cmd(t, H_T0, s, pid, TCN_PAYOUT_LANDED_OK, st.slot, &v1, after);
    h_ok(t, &c);
    v = h_swap_view(t, s);
    assert_int_equal(h_payout_view(t, pid).status, TCN_PAYOUT_PAID);
    tcn_chain_model_advance_slot(w.m);
    /* The refund the user held before is dead: BlockhashNotFound (its nonce value is gone). */
    r = submit(&w, r0, r0_len);
    assert_false(r.landed);
    assert_int_equal(r.err.kind, TCN_CHAIN_TXERR_BLOCKHASH_NOT_FOUND);
    assert_int_equal(tcn_chain_model_balance(w.m, &v.escrow), after);
    /* The new one lands: refund_to gets all but the reserve and the fee. */
    r = submit(&w, v.refund, v.refund_len);
    expect_ok(&r, "new refund");
    assert_int_equal(tcn_chain_model_balance(w.m, &v.escrow), TCN_STATE_ESCROW_RESERVE);
    assert_int_equal(tcn_chain_model_balance(w.m, &t->refund_to), after - TCN_STATE_ESCROW_RESERVE - TCN_STATE_TX_FEE);
    tcn_chain_hash v2 = nonce_of(&w, &v.nonce);
    assert_memory_not_equal(&v2, &v1, 32);
    /* Observed holding R: no refund, the sweep is due; it lands (the
     * coordinator pays), the escrow is seen empty: CLOSED. */
    c = h_observed_cmd(t, H_T0, s, tcn_chain_model_slot(w.m), true, &v2, TCN_STATE_ESCROW_RESERVE);
    h_ok(t, &c);
    assert_int_equal(h_swap_view(t, s).refund_len, 0);
    assert_true(tcn_state_sweep_due(t->st, s, H_T0));
    tcn_chain_model_advance_slot(w.m);
    tcn_buf b = {0};
    tcn_error err;
    assert_int_equal(tcn_state_sign_sweep(t->st, s, &v2, TCN_STATE_ESCROW_RESERVE, &b, &err), TCN_OK);
    uint64_t coord_before = tcn_chain_model_balance(w.m, &w.coord);
    r = submit(&w, b.p, b.len);
    tcn_buf_free(&b);
    expect_ok(&r, "sweep");
    assert_int_equal(tcn_chain_model_balance(w.m, &v.escrow), 0);
    assert_int_equal(tcn_chain_model_balance(w.m, &t->refund_to), after - TCN_STATE_TX_FEE);
    assert_int_equal(tcn_chain_model_balance(w.m, &w.coord), coord_before - TCN_STATE_TX_FEE);
    c = h_observed_cmd(t, H_T0, s, tcn_chain_model_slot(w.m), true, &v2, 0);
    h_ok(t, &c);
    assert_int_equal(h_swap_view(t, s).status, TCN_SWAP_CLOSED);
    world_free(&w);
}

/* The user's refund lands before the committed payout: the payout's bytes
 * are refused by the chain and can never land; DROPPED, and the swap closes. */
static void test_chain_refund_first_drops_payout(void **state)
{
    (void)state;
    world w;
    world_init(&w);
    h_t *t = &w.t;
    uint64_t amount = 3000000000ull;
    tcn_chain_hash v0;
    uint64_t s = world_swap(&w, amount, &v0);
    uint64_t pid = h_schedule(t, s, &w.dest, 1000000000ull, H_T0);
    tcn_cmd c = h_intent_cmd(t, pid, H_T0);
    h_ok(t, &c);
    tcn_swap_view v = h_swap_view(t, s);
    tcn_chain_submit_result r = submit(&w, v.refund, v.refund_len);
    expect_ok(&r, "refund");
    assert_int_equal(tcn_chain_model_balance(w.m, &t->refund_to), amount - TCN_STATE_ESCROW_RESERVE - TCN_STATE_TX_FEE);
    tcn_chain_model_advance_slot(w.m);
    r = submit(&w, v.intent_tx, v.intent_tx_len);
    assert_false(r.landed);
    assert_int_equal(r.err.kind, TCN_CHAIN_TXERR_BLOCKHASH_NOT_FOUND);
    tcn_chain_sig_status st;
    tcn_payout_view pv = h_payout_view(t, pid);
    tcn_chain_model_signature_status(w.m, &pv.sig, &st);
    assert_int_equal(st.state, TCN_CHAIN_SIG_UNKNOWN);
    assert_int_equal(tcn_chain_model_balance(w.m, &w.dest), 0);
    tcn_chain_hash v1 = nonce_of(&w, &v.nonce);
    c = h_outcome_cmd(t, H_T0, s, pid, TCN_PAYOUT_DROPPED, 0, &v1, TCN_STATE_ESCROW_RESERVE);
    h_ok(t, &c);
    assert_int_equal(h_payout_view(t, pid).status, TCN_PAYOUT_SCHEDULED);
    /* The reserve is left, without a refund; the payout no longer fits: sweep. */
    assert_int_equal(h_swap_view(t, s).status, TCN_SWAP_OPEN);
    assert_int_equal(h_swap_view(t, s).refund_len, 0);
    assert_true(tcn_state_sweep_due(t->st, s, H_T0));
    world_free(&w);
}

/* A payout that fails in execution (a new destination left below the rent
 * minimum) still charges the fee and advances the nonce: FAILED, and the
 * refund carried by the outcome is the one that lands. */
static void test_chain_failed_payout(void **state)
{
    (void)state;
    world w;
    world_init(&w);
    h_t *t = &w.t;
    uint64_t amount = 1000000000ull;
    tcn_chain_hash v0;
    uint64_t s = world_swap(&w, amount, &v0);
    uint64_t pid = h_schedule(t, s, &w.dest, 1000, H_T0);
    tcn_cmd c = h_intent_cmd(t, pid, H_T0);
    h_ok(t, &c);
    tcn_swap_view v = h_swap_view(t, s);
    uint8_t r0[TCN_CHAIN_PACKET_BYTES_MAX];
    size_t r0_len = v.refund_len;
    memcpy(r0, v.refund, r0_len);
    tcn_chain_submit_result r = submit(&w, v.intent_tx, v.intent_tx_len);
    assert_true(r.landed);
    assert_int_equal(r.err.kind, TCN_CHAIN_TXERR_INSUFFICIENT_FUNDS_FOR_RENT);
    uint64_t after = amount - TCN_STATE_TX_FEE;
    assert_int_equal(tcn_chain_model_balance(w.m, &v.escrow), after);
    tcn_chain_hash v1 = nonce_of(&w, &v.nonce);
    assert_memory_not_equal(&v1, &v0, 32);
    tcn_chain_sig_status st;
    tcn_chain_model_signature_status(w.m, &r.signature, &st);
    assert_int_equal(st.state, TCN_CHAIN_SIG_LANDED_ERR);
    c = h_outcome_cmd(t, H_T0, s, pid, TCN_PAYOUT_LANDED_FAILED, st.slot, &v1, after);
    h_ok(t, &c);
    assert_int_equal(h_payout_view(t, pid).status, TCN_PAYOUT_FAILED);
    tcn_chain_model_advance_slot(w.m);
    r = submit(&w, r0, r0_len);
    assert_int_equal(r.err.kind, TCN_CHAIN_TXERR_BLOCKHASH_NOT_FOUND);
    v = h_swap_view(t, s);
    r = submit(&w, v.refund, v.refund_len);
    expect_ok(&r, "refund after a failed payout");
    assert_int_equal(tcn_chain_model_balance(w.m, &t->refund_to), after - TCN_STATE_ESCROW_RESERVE - TCN_STATE_TX_FEE);
    world_free(&w);
}

/* Third-party deposits of 1, R - 1, R and a large amount land in the escrow
 * before the user's refund: the refund still lands (it keeps R, the
 * deposit only adds to it). Against the old rule (the refund empties the
 * escrow: balance - fee) the small ones leave the escrow rent paying:
 * InsufficientFundsForRent, and the durable nonce is burnt with the fee. */
static void test_chain_refund_after_deposit(void **state)
{
    (void)state;
    const uint64_t deposits[] = {1, TCN_STATE_ESCROW_RESERVE - 1, TCN_STATE_ESCROW_RESERVE, 3000000000ull};
    for (size_t i = 0; i < sizeof(deposits) / sizeof(deposits[0]); i++) {
        world w;
        world_init(&w);
        h_t *t = &w.t;
        uint64_t amount = 5000000;
        tcn_chain_hash v0;
        uint64_t s = world_swap(&w, amount, &v0);
        tcn_swap_view v = h_swap_view(t, s);
        tcn_error err;
        assert_int_equal(tcn_chain_model_airdrop(w.m, &v.escrow, deposits[i], &err), TCN_OK); /* the griefer */
        tcn_chain_submit_result r = submit(&w, v.refund, v.refund_len);
        expect_ok(&r, "refund after a deposit");
        assert_int_equal(tcn_chain_model_balance(w.m, &t->refund_to),
                         amount - TCN_STATE_ESCROW_RESERVE - TCN_STATE_TX_FEE);
        assert_int_equal(tcn_chain_model_balance(w.m, &v.escrow), TCN_STATE_ESCROW_RESERVE + deposits[i]);
        world_free(&w);
    }
}

/* The boundary amount: a swap of exactly 2 R + fee has a refund of R, and
 * it lands into a refund_to that does not exist yet (a refund of less
 * would not: the runtime refuses to create an account below R). */
static void test_chain_refund_boundary(void **state)
{
    (void)state;
    world w;
    world_init(&w);
    h_t *t = &w.t;
    tcn_chain_hash v0;
    uint64_t s = world_swap(&w, TCN_STATE_REFUND_MIN_BALANCE, &v0);
    tcn_swap_view v = h_swap_view(t, s);
    assert_int_equal(tcn_chain_model_balance(w.m, &t->refund_to), 0);
    assert_true(v.refund_len > 0);
    tcn_chain_submit_result r = submit(&w, v.refund, v.refund_len);
    expect_ok(&r, "refund of R");
    assert_int_equal(tcn_chain_model_balance(w.m, &t->refund_to), TCN_STATE_ESCROW_RESERVE);
    assert_int_equal(tcn_chain_model_balance(w.m, &v.escrow), TCN_STATE_ESCROW_RESERVE);
    world_free(&w);
}

/* A payout that leaves exactly R: a 1-lamport deposit before it lands does
 * not make it fail (it would, had the payout emptied the escrow), and the
 * refund after it is none (below 2 R + fee) — the sweep returns R + 1. */
static void test_chain_payout_at_reserve_with_deposit(void **state)
{
    (void)state;
    world w;
    world_init(&w);
    h_t *t = &w.t;
    uint64_t amount = 5000000, pay = amount - TCN_STATE_ESCROW_RESERVE - TCN_STATE_TX_FEE;
    tcn_chain_hash v0;
    uint64_t s = world_swap(&w, amount, &v0);
    uint64_t pid = h_schedule(t, s, &w.dest, pay, H_T0);
    tcn_cmd c = h_intent_cmd(t, pid, H_T0);
    h_ok(t, &c);
    tcn_swap_view v = h_swap_view(t, s);
    tcn_error err;
    assert_int_equal(tcn_chain_model_airdrop(w.m, &v.escrow, 1, &err), TCN_OK);
    tcn_chain_submit_result r = submit(&w, v.intent_tx, v.intent_tx_len);
    expect_ok(&r, "payout to the reserve after a deposit");
    assert_int_equal(tcn_chain_model_balance(w.m, &v.escrow), TCN_STATE_ESCROW_RESERVE + 1);
    tcn_chain_hash v1 = nonce_of(&w, &v.nonce);
    c = h_outcome_cmd(t, H_T0, s, pid, TCN_PAYOUT_LANDED_OK, r.slot, &v1, TCN_STATE_ESCROW_RESERVE + 1);
    assert_int_equal(c.u.payout_outcome.refund_len, 0);
    h_ok(t, &c);
    assert_true(tcn_state_sweep_due(t->st, s, H_T0));
    world_free(&w);
}

/* The sweep, with a deposit arriving between signing and landing: below R
 * it would leave the escrow rent paying, so the sweep fails — the
 * coordinator paid the fee, the nonce advanced, the escrow is untouched.
 * Observed again and swept again at the new value: the escrow ends at 0
 * and refund_to has everything. A deposit of R or more lets the sweep land
 * and stays for the next one. */
static void test_chain_sweep_with_deposit(void **state)
{
    (void)state;
    world w;
    world_init(&w);
    h_t *t = &w.t;
    uint64_t amount = 5000000;
    tcn_chain_hash v0;
    uint64_t s = world_swap(&w, amount, &v0);
    tcn_swap_view v = h_swap_view(t, s);
    tcn_chain_submit_result r = submit(&w, v.refund, v.refund_len);
    expect_ok(&r, "refund");
    uint64_t to = tcn_chain_model_balance(w.m, &t->refund_to);
    tcn_chain_hash v1 = nonce_of(&w, &v.nonce);
    tcn_cmd c = h_observed_cmd(t, H_T0, s, tcn_chain_model_slot(w.m), true, &v1, TCN_STATE_ESCROW_RESERVE);
    h_ok(t, &c);
    assert_true(tcn_state_sweep_due(t->st, s, H_T0));
    tcn_chain_model_advance_slot(w.m);
    tcn_buf b = {0};
    tcn_error err;
    assert_int_equal(tcn_state_sign_sweep(t->st, s, &v1, TCN_STATE_ESCROW_RESERVE, &b, &err), TCN_OK);
    assert_int_equal(tcn_chain_model_airdrop(w.m, &v.escrow, 7, &err), TCN_OK); /* the griefer, first */
    uint64_t coord = tcn_chain_model_balance(w.m, &w.coord);
    r = submit(&w, b.p, b.len);
    assert_true(r.landed);
    assert_int_equal(r.err.kind, TCN_CHAIN_TXERR_INSUFFICIENT_FUNDS_FOR_RENT);
    assert_int_equal(tcn_chain_model_balance(w.m, &w.coord), coord - TCN_STATE_TX_FEE);
    assert_int_equal(tcn_chain_model_balance(w.m, &v.escrow), TCN_STATE_ESCROW_RESERVE + 7);
    tcn_chain_hash v2 = nonce_of(&w, &v.nonce);
    assert_memory_not_equal(&v2, &v1, 32);
    c = h_observed_cmd(t, H_T0, s, tcn_chain_model_slot(w.m), true, &v2, TCN_STATE_ESCROW_RESERVE + 7);
    h_ok(t, &c);
    assert_true(tcn_state_sweep_due(t->st, s, H_T0));
    tcn_chain_model_advance_slot(w.m);
    b.len = 0;
    assert_int_equal(tcn_state_sign_sweep(t->st, s, &v2, TCN_STATE_ESCROW_RESERVE + 7, &b, &err), TCN_OK);
    /* this time a deposit of R arrives first: the sweep lands, R stays */
    assert_int_equal(tcn_chain_model_airdrop(w.m, &v.escrow, TCN_STATE_ESCROW_RESERVE, &err), TCN_OK);
    r = submit(&w, b.p, b.len);
    expect_ok(&r, "sweep with a deposit of R");
    assert_int_equal(tcn_chain_model_balance(w.m, &v.escrow), TCN_STATE_ESCROW_RESERVE);
    tcn_chain_hash v3 = nonce_of(&w, &v.nonce);
    c = h_observed_cmd(t, H_T0, s, tcn_chain_model_slot(w.m), true, &v3, TCN_STATE_ESCROW_RESERVE);
    h_ok(t, &c);
    tcn_chain_model_advance_slot(w.m);
    b.len = 0;
    assert_int_equal(tcn_state_sign_sweep(t->st, s, &v3, TCN_STATE_ESCROW_RESERVE, &b, &err), TCN_OK);
    r = submit(&w, b.p, b.len);
    tcn_buf_free(&b);
    expect_ok(&r, "sweep");
    assert_int_equal(tcn_chain_model_balance(w.m, &v.escrow), 0);
    assert_int_equal(tcn_chain_model_balance(w.m, &t->refund_to), to + 2 * TCN_STATE_ESCROW_RESERVE + 7);
    c = h_observed_cmd(t, H_T0, s, tcn_chain_model_slot(w.m), true, &v3, 0);
    h_ok(t, &c);
    assert_int_equal(h_swap_view(t, s).status, TCN_SWAP_CLOSED);
    world_free(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shapes),
        cmocka_unit_test(test_binding_every_byte),
        cmocka_unit_test(test_chain_payout_then_refund),
        cmocka_unit_test(test_chain_refund_first_drops_payout),
        cmocka_unit_test(test_chain_failed_payout),
        cmocka_unit_test(test_chain_refund_after_deposit),
        cmocka_unit_test(test_chain_refund_boundary),
        cmocka_unit_test(test_chain_payout_at_reserve_with_deposit),
        cmocka_unit_test(test_chain_sweep_with_deposit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
