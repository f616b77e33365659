/* Unit tests for the chain model against the outcomes a real Solana runtime
 * (LiteSVM) recorded in shared/testdata/solana/vectors.json: the eight
 * cases replayed in order with their outcome, every named balance before
 * and after, and the nonce account's data and value; the one documented
 * divergence (case 6) asserted and named; the same story under Agave's
 * rules with re-signed transactions; and the model's own rules (fees, rent,
 * duplicates, expiry, durable nonces, sanitizing) with conservation checked
 * after every step. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "chain/base58.h"
#include "chain/keypair.h"
#include "chain/message.h"
#include "chain/model.h"
#include "chain/nonce.h"
#include "chain/rent.h"
#include "chain/system.h"
#include "chain/transaction.h"
#include "testlib.h"
#include "util/buf.h"
#include "util/encoding.h"
#include "util/hash.h"
#include "util/secmem.h"

#define VECTORS "solana/vectors.json"
#define N_CASES 8
#define FEE1 5000u
#define FEE2 10000u

enum { PAYER, COORDINATOR, ESCROW, NONCE, ALICE, LP, DEST, N_KEYS };
static const char *const KEY_NAMES[N_KEYS] = {"payer", "coordinator", "escrow", "nonce", "alice", "lp", "dest"};

/* Case numbers as PROVENANCE.md counts them, minus one. */
enum {
    C_TRANSFER,
    C_CREATE_NONCE,
    C_PAYOUT,
    C_DUPLICATE,
    C_STALE_REFUND,
    C_PAYOUT_FAILS,
    C_TAMPERED,
    C_REFUND,
};

typedef struct vcase {
    json_t *j;
    const char *name;
    uint8_t wire[TCN_CHAIN_PACKET_BYTES_MAX];
    size_t wire_len;
    tcn_chain_signature sig0;
} vcase;

static json_t *g_root;
static tcn_chain_keypair *g_kp[N_KEYS];
static tcn_chain_pubkey g_pk[N_KEYS];
static vcase g_case[N_CASES];

static const char *jstr(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    assert_true(json_is_string(v));
    return json_string_value(v);
}

static int load(void **state)
{
    (void)state;
    size_t len;
    uint8_t *raw = tcn_test_read(VECTORS, &len);
    json_error_t jerr;
    g_root = json_loadb((const char *)raw, len, 0, &jerr);
    free(raw);
    assert_non_null(g_root);
    json_t *keys = json_object_get(g_root, "keys");
    for (int k = 0; k < N_KEYS; k++) {
        uint8_t seed[TCN_CHAIN_SEED_LEN];
        tcn_error err;
        assert_int_equal(
            tcn_hex_decode_exact(jstr(json_object_get(keys, KEY_NAMES[k]), "seed_hex"), seed, sizeof(seed), &err),
            TCN_OK);
        assert_int_equal(tcn_chain_keypair_from_seed(seed, &g_kp[k], &err), TCN_OK);
        tcn_wipe(seed, sizeof(seed));
        g_pk[k] = *tcn_chain_keypair_pubkey(g_kp[k]);
    }
    json_t *cases = json_object_get(g_root, "cases");
    assert_int_equal(json_array_size(cases), N_CASES);
    for (int i = 0; i < N_CASES; i++) {
        vcase *v = &g_case[i];
        v->j = json_array_get(cases, (size_t)i);
        v->name = jstr(v->j, "name");
        const char *b64 = jstr(v->j, "transaction_base64");
        tcn_error err;
        assert_int_equal(tcn_b64_decode(b64, strlen(b64), v->wire, sizeof(v->wire), &v->wire_len, &err), TCN_OK);
        memcpy(v->sig0.b, v->wire + 1, TCN_CHAIN_SIGNATURE_LEN);
    }
    return 0;
}

static int unload(void **state)
{
    (void)state;
    for (int k = 0; k < N_KEYS; k++)
        tcn_chain_keypair_free(g_kp[k]);
    json_decref(g_root);
    return 0;
}

/* ---- helpers ------------------------------------------------------------------- */

static tcn_chain_model *new_model(tcn_chain_nonce_source src)
{
    tcn_chain_model *m;
    tcn_error err;
    tcn_chain_model_opts o = {.nonce_source = src};
    assert_int_equal(tcn_chain_model_new("genesis", 7, &o, &m, &err), TCN_OK);
    return m;
}

static void conserved(const tcn_chain_model *m)
{
    tcn_error err;
    tcn_err_clear(&err);
    if (tcn_chain_model_check_conservation(m, &err) != TCN_OK) {
        fprintf(stderr, "%s\n", err.msg);
        fail();
    }
}

/* Every named key's balance equals the vector's. */
static void check_balances(const tcn_chain_model *m, json_t *balances, const char *where)
{
    for (int k = 0; k < N_KEYS; k++) {
        uint64_t want = (uint64_t)json_integer_value(json_object_get(balances, KEY_NAMES[k]));
        uint64_t got = tcn_chain_model_balance(m, &g_pk[k]);
        if (got != want) {
            fprintf(stderr, "%s: %s holds %llu, the vector says %llu\n", where, KEY_NAMES[k],
                    (unsigned long long)got, (unsigned long long)want);
            fail();
        }
    }
}

/* Funds the keys as the vectors' first "balances_before" says (LiteSVM airdrops). */
static void fund_genesis(tcn_chain_model *m)
{
    json_t *before = json_object_get(g_case[0].j, "balances_before");
    for (int k = 0; k < N_KEYS; k++) {
        uint64_t v = (uint64_t)json_integer_value(json_object_get(before, KEY_NAMES[k]));
        tcn_error err;
        if (v > 0)
            assert_int_equal(tcn_chain_model_airdrop(m, &g_pk[k], v, &err), TCN_OK);
    }
    check_balances(m, before, "genesis");
    conserved(m);
}

/* The vector's outcome as a model outcome. */
static tcn_chain_tx_error expected_outcome(const vcase *v)
{
    tcn_chain_tx_error e;
    memset(&e, 0, sizeof(e));
    if (strcmp(jstr(v->j, "outcome"), "ok") == 0)
        return e;
    const char *s = jstr(v->j, "error");
    unsigned idx, code;
    if (strcmp(s, "BlockhashNotFound") == 0)
        e.kind = TCN_CHAIN_TXERR_BLOCKHASH_NOT_FOUND;
    else if (strcmp(s, "SignatureFailure") == 0)
        e.kind = TCN_CHAIN_TXERR_SIGNATURE_FAILURE;
    else if (sscanf(s, "InstructionError(index %u, Custom %u", &idx, &code) == 2) {
        e.kind = TCN_CHAIN_TXERR_INSTRUCTION_ERROR;
        e.index = (uint8_t)idx;
        e.ix = TCN_CHAIN_IXERR_CUSTOM;
        e.custom = code;
    } else {
        fprintf(stderr, "unknown outcome in the vectors: %s\n", s);
        fail();
    }
    return e;
}

static void expect_outcome(const tcn_chain_submit_result *r, const tcn_chain_tx_error *want, const char *where)
{
    char a[128], b[128];
    if (!tcn_chain_tx_error_eq(&r->err, want)) {
        fprintf(stderr, "%s: outcome %s (%s), want %s\n", where, tcn_chain_tx_error_format(&r->err, a, sizeof(a)),
                r->log, tcn_chain_tx_error_format(want, b, sizeof(b)));
        fail();
    }
}

static tcn_chain_submit_result submit(tcn_chain_model *m, const uint8_t *wire, size_t len)
{
    tcn_chain_submit_result r;
    assert_int_equal(tcn_chain_model_submit(m, wire, len, &r), TCN_OK);
    return r;
}

static tcn_chain_submit_result submit_tx(tcn_chain_model *m, const tcn_chain_tx *tx)
{
    tcn_buf b = {0};
    tcn_error err;
    assert_int_equal(tcn_chain_tx_encode(tx, &b, &err), TCN_OK);
    tcn_chain_submit_result r = submit(m, b.p, b.len);
    tcn_buf_free(&b);
    return r;
}

static tcn_chain_tx_error kind(tcn_chain_txerr k)
{
    tcn_chain_tx_error e;
    memset(&e, 0, sizeof(e));
    e.kind = k;
    return e;
}

static tcn_chain_tx_error ixerr(uint8_t index, tcn_chain_ixerr ix, uint32_t custom)
{
    tcn_chain_tx_error e = kind(TCN_CHAIN_TXERR_INSTRUCTION_ERROR);
    e.index = index;
    e.ix = ix;
    e.custom = custom;
    return e;
}

static tcn_chain_hash nonce_value(const tcn_chain_model *m, const tcn_chain_pubkey *pk)
{
    tcn_chain_nonce_state st;
    tcn_error err;
    assert_int_equal(tcn_chain_model_nonce(m, pk, &st, &err), TCN_OK);
    return st.durable_nonce;
}

static tcn_chain_hash dn(const tcn_chain_hash *bh)
{
    tcn_chain_hash out;
    tcn_chain_durable_nonce_from_blockhash(bh, &out);
    return out;
}

static tcn_chain_hash latest(const tcn_chain_model *m)
{
    tcn_chain_hash h;
    tcn_chain_model_latest_blockhash(m, &h, NULL);
    return h;
}

/* The vector's nonce account data and value equal the model's. */
static void check_nonce(const tcn_chain_model *m, const vcase *v)
{
    json_t *hex = json_object_get(v->j, "nonce_account_data_hex");
    if (!json_is_string(hex)) {
        tcn_chain_account_view view;
        assert_false(tcn_chain_model_get_account(m, &g_pk[NONCE], &view));
        return;
    }
    uint8_t want[TCN_CHAIN_NONCE_ACCOUNT_BYTES];
    tcn_error err;
    assert_int_equal(tcn_hex_decode_exact(json_string_value(hex), want, sizeof(want), &err), TCN_OK);
    tcn_chain_account_view view;
    assert_true(tcn_chain_model_get_account(m, &g_pk[NONCE], &view));
    assert_int_equal(view.data_len, sizeof(want));
    if (memcmp(view.data, want, sizeof(want)) != 0) {
        fprintf(stderr, "case %s: nonce account data differs from the vector\n", v->name);
        fail();
    }
    tcn_chain_hash h = nonce_value(m, &g_pk[NONCE]);
    char b58[TCN_CHAIN_BASE58_PUBKEY_CHARS];
    tcn_chain_hash_to_base58(&h, b58);
    assert_string_equal(b58, jstr(v->j, "nonce_value"));
}

/* AdvanceNonceAccount(nonce, coordinator) + Transfer(escrow -> to), fee payer
 * escrow, bound to nonce value bh, signed by escrow and coordinator. */
static void nonce_transfer(tcn_chain_tx *tx, const tcn_chain_hash *bh, int to, uint64_t lamports)
{
    tcn_chain_ix ix[2];
    tcn_chain_message msg;
    tcn_error err;
    tcn_chain_system_advance_nonce(&ix[0], &g_pk[NONCE], &g_pk[COORDINATOR]);
    tcn_chain_system_transfer(&ix[1], &g_pk[ESCROW], &g_pk[to], lamports);
    assert_int_equal(tcn_chain_message_compile(&g_pk[ESCROW], bh, ix, 2, &msg, &err), TCN_OK);
    tcn_chain_tx_init(tx, &msg);
    const tcn_chain_keypair *signers[2] = {g_kp[ESCROW], g_kp[COORDINATOR]};
    assert_int_equal(tcn_chain_tx_sign(tx, signers, 2, &err), TCN_OK);
}

static void expect_status(const tcn_chain_model *m, const tcn_chain_signature *sig, tcn_chain_sig_state state)
{
    tcn_chain_sig_status st;
    tcn_chain_model_signature_status(m, sig, &st);
    assert_int_equal(st.state, state);
}

/* ---- the vectors, as LiteSVM ran them ------------------------------------------ */

/* LiteSVM 0.8.0 hands the nonce instructions the transaction's own recent
 * blockhash (TCN_CHAIN_NONCE_FROM_MESSAGE); with it the model reproduces
 * every nonce value of the vectors. Case 6 is the documented divergence:
 * LiteSVM left the nonce where it was; Solana, and the model, advance it. */
static void test_replay_vectors(void **state)
{
    (void)state;
    tcn_chain_model *m = new_model(TCN_CHAIN_NONCE_FROM_MESSAGE);
    fund_genesis(m);
    for (int i = 0; i < N_CASES; i++) {
        const vcase *v = &g_case[i];
        char where[96];
        snprintf(where, sizeof(where), "case %d (%s)", i + 1, v->name);
        check_balances(m, json_object_get(v->j, "balances_before"), where);
        tcn_chain_submit_result r = submit(m, v->wire, v->wire_len);
        tcn_chain_tx_error want = expected_outcome(v);
        expect_outcome(&r, &want, where);
        /* landed = charged a fee: success, or failure in execution */
        assert_int_equal(r.landed, want.kind == TCN_CHAIN_TX_OK || want.kind == TCN_CHAIN_TXERR_INSTRUCTION_ERROR);
        check_balances(m, json_object_get(v->j, "balances_after"), where);
        conserved(m);

        if (i == C_PAYOUT_FAILS) {
            /* DIVERGENCE, case 6 (nonce_payout_insufficient_funds): LiteSVM
             * 0.8.0 charged the fee and did NOT advance the nonce; Solana's
             * documented rule (a durable-nonce transaction that fails after
             * the nonce check still advances the nonce) is what the model
             * does. The balances agree; the nonce value does not. */
            tcn_chain_hash litesvm, model = nonce_value(m, &g_pk[NONCE]);
            tcn_error err;
            assert_non_null(json_object_get(v->j, "divergence"));
            assert_int_equal(tcn_chain_hash_from_base58(jstr(v->j, "nonce_value"), &litesvm, &err), TCN_OK);
            assert_false(tcn_chain_hash_eq(&model, &litesvm));
            tcn_chain_hash advanced = dn(&litesvm);
            assert_true(tcn_chain_hash_eq(&model, &advanced));
            assert_int_equal(r.fee, FEE2);
            fprintf(stderr, "DIVERGENCE (documented) case 6 %s: LiteSVM left the nonce at %s; the model advanced it, "
                            "as Solana does\n",
                    v->name, jstr(v->j, "nonce_value"));
            /* To replay cases 7 and 8 as LiteSVM saw them, put LiteSVM's nonce
             * account back (same lamports: conservation is unaffected). */
            uint8_t data[TCN_CHAIN_NONCE_ACCOUNT_BYTES];
            assert_int_equal(
                tcn_hex_decode_exact(jstr(v->j, "nonce_account_data_hex"), data, sizeof(data), &err), TCN_OK);
            assert_int_equal(tcn_chain_model_set_account(m, &g_pk[NONCE], tcn_chain_model_balance(m, &g_pk[NONCE]),
                                                         NULL, data, sizeof(data), &err),
                             TCN_OK);
            conserved(m);
        }
        check_nonce(m, v);

        if (i == C_TRANSFER) {
            /* the same bytes again, blockhash still valid: AlreadyProcessed, nothing charged */
            tcn_chain_submit_result again = submit(m, v->wire, v->wire_len);
            tcn_chain_tx_error ap = kind(TCN_CHAIN_TXERR_ALREADY_PROCESSED);
            expect_outcome(&again, &ap, "case 1 resubmitted");
            assert_false(again.landed);
            check_balances(m, json_object_get(v->j, "balances_after"), "case 1 resubmitted");
        }
    }
    /* a landed durable-nonce transaction, resubmitted: BlockhashNotFound (its nonce moved on) */
    tcn_chain_submit_result again = submit(m, g_case[C_REFUND].wire, g_case[C_REFUND].wire_len);
    tcn_chain_tx_error bnf = kind(TCN_CHAIN_TXERR_BLOCKHASH_NOT_FOUND);
    expect_outcome(&again, &bnf, "case 8 resubmitted");

    /* Fates by signature: landed ok, landed with an error, or never landed. */
    expect_status(m, &g_case[C_TRANSFER].sig0, TCN_CHAIN_SIG_LANDED_OK);
    expect_status(m, &g_case[C_CREATE_NONCE].sig0, TCN_CHAIN_SIG_LANDED_OK);
    expect_status(m, &g_case[C_PAYOUT].sig0, TCN_CHAIN_SIG_LANDED_OK); /* = the duplicate's signature */
    expect_status(m, &g_case[C_STALE_REFUND].sig0, TCN_CHAIN_SIG_UNKNOWN);
    expect_status(m, &g_case[C_PAYOUT_FAILS].sig0, TCN_CHAIN_SIG_LANDED_ERR);
    expect_status(m, &g_case[C_TAMPERED].sig0, TCN_CHAIN_SIG_UNKNOWN);
    expect_status(m, &g_case[C_REFUND].sig0, TCN_CHAIN_SIG_LANDED_OK);
    tcn_chain_sig_status st;
    tcn_chain_model_signature_status(m, &g_case[C_PAYOUT_FAILS].sig0, &st);
    tcn_chain_tx_error want = expected_outcome(&g_case[C_PAYOUT_FAILS]);
    assert_true(tcn_chain_tx_error_eq(&st.err, &want));
    char s[96];
    assert_string_equal(tcn_chain_tx_error_format(&st.err, s, sizeof(s)), "InstructionError(1, Custom(1))");
    tcn_chain_model_free(m);
}

/* Without the resynchronisation: after the failed payout (case 6) advanced
 * the nonce, the refund the coordinator had signed against the old value
 * (case 8's bytes) is stale and refused; a refund bound to the new value
 * lands, with the very balances the vector's case 8 shows. */
static void test_stale_refund_after_failed_payout(void **state)
{
    (void)state;
    tcn_chain_model *m = new_model(TCN_CHAIN_NONCE_FROM_MESSAGE);
    fund_genesis(m);
    for (int i = 0; i <= C_PAYOUT_FAILS; i++)
        (void)submit(m, g_case[i].wire, g_case[i].wire_len);
    check_balances(m, json_object_get(g_case[C_PAYOUT_FAILS].j, "balances_after"), "after case 6");
    tcn_chain_hash before = nonce_value(m, &g_pk[NONCE]);

    tcn_chain_submit_result r = submit(m, g_case[C_REFUND].wire, g_case[C_REFUND].wire_len);
    tcn_chain_tx_error bnf = kind(TCN_CHAIN_TXERR_BLOCKHASH_NOT_FOUND);
    expect_outcome(&r, &bnf, "stale refund after a failed payout");
    assert_false(r.landed);
    check_balances(m, json_object_get(g_case[C_PAYOUT_FAILS].j, "balances_after"), "stale refund refused");
    expect_status(m, &g_case[C_REFUND].sig0, TCN_CHAIN_SIG_UNKNOWN);
    conserved(m);

    tcn_chain_tx tx;
    nonce_transfer(&tx, &before, ALICE, 5000000);
    r = submit_tx(m, &tx);
    tcn_chain_tx_error ok = kind(TCN_CHAIN_TX_OK);
    expect_outcome(&r, &ok, "refund bound to the new nonce");
    assert_true(r.landed);
    check_balances(m, json_object_get(g_case[C_REFUND].j, "balances_after"), "refund bound to the new nonce");
    tcn_chain_hash after = nonce_value(m, &g_pk[NONCE]), want = dn(&before);
    assert_true(tcn_chain_hash_eq(&after, &want));
    expect_status(m, tcn_chain_tx_id(&tx), TCN_CHAIN_SIG_LANDED_OK);
    conserved(m);
    tcn_chain_model_free(m);
}

/* ---- the same story under Agave's rules ----------------------------------------- */

/* Default model: nonce values derive from the bank's blockhash, so a nonce
 * advances at most once per slot and its next value is not known before
 * the transaction lands. The transactions are those of the vectors, re-signed
 * against the model's nonce values where they must be; outcomes and balances
 * are the vectors' (with case 6 following Solana). */
static void test_agave_replay(void **state)
{
    (void)state;
    tcn_chain_model *m = new_model(TCN_CHAIN_NONCE_FROM_BANK);
    fund_genesis(m);
    tcn_chain_tx_error ok = kind(TCN_CHAIN_TX_OK), bnf = kind(TCN_CHAIN_TXERR_BLOCKHASH_NOT_FOUND);

    /* Slot 0's blockhash is LiteSVM's genesis blockhash: cases 1 and 2 land as they are. */
    tcn_chain_submit_result r = submit(m, g_case[C_TRANSFER].wire, g_case[C_TRANSFER].wire_len);
    expect_outcome(&r, &ok, "agave case 1");
    r = submit(m, g_case[C_CREATE_NONCE].wire, g_case[C_CREATE_NONCE].wire_len);
    expect_outcome(&r, &ok, "agave case 2");
    check_nonce(m, &g_case[C_CREATE_NONCE]); /* initialized from the bank's blockhash = the message's here */
    check_balances(m, json_object_get(g_case[C_CREATE_NONCE].j, "balances_after"), "agave case 2");

    /* In the slot that initialized it the nonce cannot advance:
     * DurableNonce(bank blockhash) is its current value (not advanceable). */
    r = submit(m, g_case[C_PAYOUT].wire, g_case[C_PAYOUT].wire_len);
    expect_outcome(&r, &bnf, "agave case 3 in the same slot");
    tcn_chain_model_advance_slot(m);
    r = submit(m, g_case[C_PAYOUT].wire, g_case[C_PAYOUT].wire_len);
    expect_outcome(&r, &ok, "agave case 3");
    check_balances(m, json_object_get(g_case[C_PAYOUT].j, "balances_after"), "agave case 3");
    tcn_chain_hash bank = latest(m), v1 = nonce_value(m, &g_pk[NONCE]), want = dn(&bank);
    assert_true(tcn_chain_hash_eq(&v1, &want));
    conserved(m);

    /* cases 4 and 5: the duplicate payout and the stale refund */
    r = submit(m, g_case[C_DUPLICATE].wire, g_case[C_DUPLICATE].wire_len);
    expect_outcome(&r, &bnf, "agave case 4");
    r = submit(m, g_case[C_STALE_REFUND].wire, g_case[C_STALE_REFUND].wire_len);
    expect_outcome(&r, &bnf, "agave case 5");
    check_balances(m, json_object_get(g_case[C_STALE_REFUND].j, "balances_after"), "agave case 5");

    /* case 6 re-signed against the current nonce, in the next slot: fails in
     * execution, fee charged, nonce advanced (Solana's rule). */
    tcn_chain_model_advance_slot(m);
    tcn_chain_tx tx;
    nonce_transfer(&tx, &v1, DEST, 999000000000ull);
    r = submit_tx(m, &tx);
    tcn_chain_tx_error want6 = expected_outcome(&g_case[C_PAYOUT_FAILS]);
    expect_outcome(&r, &want6, "agave case 6");
    assert_true(r.landed);
    check_balances(m, json_object_get(g_case[C_PAYOUT_FAILS].j, "balances_after"), "agave case 6");
    tcn_chain_hash v2 = nonce_value(m, &g_pk[NONCE]);
    bank = latest(m);
    want = dn(&bank);
    assert_true(tcn_chain_hash_eq(&v2, &want));
    /* the failed payout's bytes again: its nonce moved on */
    r = submit_tx(m, &tx);
    expect_outcome(&r, &bnf, "agave case 6 resubmitted");
    conserved(m);

    /* case 7: one bit of the first signature flipped */
    nonce_transfer(&tx, &v2, DEST, 1000000);
    tx.signatures[0].b[17] ^= 0x04;
    r = submit_tx(m, &tx);
    tcn_chain_tx_error sf = kind(TCN_CHAIN_TXERR_SIGNATURE_FAILURE);
    expect_outcome(&r, &sf, "agave case 7");
    assert_non_null(strstr(r.log, "signatures[0]"));
    check_balances(m, json_object_get(g_case[C_TAMPERED].j, "balances_after"), "agave case 7");

    /* case 8: the vector's refund is bound to a value this chain never had;
     * re-signed against the current one, it lands. */
    r = submit(m, g_case[C_REFUND].wire, g_case[C_REFUND].wire_len);
    expect_outcome(&r, &bnf, "agave case 8 as recorded");
    tcn_chain_model_advance_slot(m);
    nonce_transfer(&tx, &v2, ALICE, 5000000);
    r = submit_tx(m, &tx);
    expect_outcome(&r, &ok, "agave case 8");
    check_balances(m, json_object_get(g_case[C_REFUND].j, "balances_after"), "agave case 8");
    conserved(m);
    tcn_chain_model_free(m);
}

/* ---- the model's own rules -------------------------------------------------------- */

/* Keys of our own, from seeds 0x41.. */
static tcn_chain_keypair *own_key(uint8_t b)
{
    uint8_t seed[TCN_CHAIN_SEED_LEN];
    tcn_chain_keypair *kp;
    tcn_error err;
    memset(seed, b, sizeof(seed));
    assert_int_equal(tcn_chain_keypair_from_seed(seed, &kp, &err), TCN_OK);
    return kp;
}

static void make_tx(tcn_chain_tx *tx, const tcn_chain_model *m, const tcn_chain_hash *bh_or_null,
                    const tcn_chain_keypair *payer, const tcn_chain_ix *ixs, size_t n,
                    const tcn_chain_keypair *const *signers, size_t n_signers)
{
    tcn_chain_message msg;
    tcn_error err;
    tcn_chain_hash bh = bh_or_null ? *bh_or_null : latest(m);
    assert_int_equal(tcn_chain_message_compile(tcn_chain_keypair_pubkey(payer), &bh, ixs, n, &msg, &err), TCN_OK);
    tcn_chain_tx_init(tx, &msg);
    assert_int_equal(tcn_chain_tx_sign(tx, signers, n_signers, &err), TCN_OK);
}

static tcn_chain_submit_result transfer(tcn_chain_model *m, const tcn_chain_keypair *from, const tcn_chain_pubkey *to,
                                        uint64_t lamports)
{
    tcn_chain_ix ix;
    tcn_chain_tx tx;
    tcn_chain_system_transfer(&ix, tcn_chain_keypair_pubkey(from), to, lamports);
    make_tx(&tx, m, NULL, from, &ix, 1, &from, 1);
    return submit_tx(m, &tx);
}

static void test_fees_and_rent(void **state)
{
    (void)state;
    tcn_chain_model *m = new_model(TCN_CHAIN_NONCE_FROM_BANK);
    tcn_chain_keypair *a = own_key(0x41), *b = own_key(0x42), *c = own_key(0x43);
    const tcn_chain_pubkey *pa = tcn_chain_keypair_pubkey(a), *pb = tcn_chain_keypair_pubkey(b),
                           *pc = tcn_chain_keypair_pubkey(c);
    tcn_error err;
    const uint64_t R0 = tcn_chain_rent_minimum_balance(0);

    /* a fee payer that does not exist; one that cannot pay */
    tcn_chain_submit_result r = transfer(m, a, pb, 1);
    tcn_chain_tx_error want = kind(TCN_CHAIN_TXERR_ACCOUNT_NOT_FOUND);
    expect_outcome(&r, &want, "unfunded fee payer");
    assert_int_equal(tcn_chain_model_airdrop(m, pa, 4999, &err), TCN_OK);
    r = transfer(m, a, pb, 1);
    want = kind(TCN_CHAIN_TXERR_INSUFFICIENT_FUNDS_FOR_FEE);
    expect_outcome(&r, &want, "fee payer below the fee");
    assert_false(r.landed);
    assert_int_equal(tcn_chain_model_balance(m, pa), 4999);
    conserved(m);

    /* a fee that would leave the payer rent-paying */
    assert_int_equal(tcn_chain_model_airdrop(m, pa, R0, &err), TCN_OK); /* R0 + 4999 */
    r = transfer(m, a, pb, 0);
    want = kind(TCN_CHAIN_TXERR_INSUFFICIENT_FUNDS_FOR_RENT);
    expect_outcome(&r, &want, "fee leaves the payer below rent exemption");
    assert_int_equal(r.err.index, 0);
    assert_false(r.landed);

    /* a transfer that leaves `from` rent-paying: lands, fails, pays the fee */
    assert_int_equal(tcn_chain_model_airdrop(m, pa, 10000000 - R0 - 4999, &err), TCN_OK); /* 10,000,000 */
    r = transfer(m, a, pb, 10000000 - FEE1 - 1000);
    want = kind(TCN_CHAIN_TXERR_INSUFFICIENT_FUNDS_FOR_RENT);
    expect_outcome(&r, &want, "from left rent-paying");
    assert_true(r.landed);
    assert_int_equal(r.err.index, 0);
    assert_int_equal(tcn_chain_model_balance(m, pa), 10000000 - FEE1);
    assert_int_equal(tcn_chain_model_balance(m, pb), 0);
    conserved(m);

    /* a new account credited below the minimum */
    r = transfer(m, a, pb, R0 - 1);
    char s[96];
    assert_string_equal(tcn_chain_tx_error_format(&r.err, s, sizeof(s)), "InsufficientFundsForRent { account_index: 1 }");
    assert_true(r.landed);
    assert_int_equal(tcn_chain_model_balance(m, pa), 10000000 - 2 * FEE1);
    /* exactly the minimum: fine */
    r = transfer(m, a, pb, R0);
    want = kind(TCN_CHAIN_TX_OK);
    expect_outcome(&r, &want, "new account at the minimum");
    assert_int_equal(tcn_chain_model_balance(m, pb), R0);
    /* emptying an account entirely is allowed (it ceases to exist) */
    uint64_t rest = tcn_chain_model_balance(m, pa) - FEE1;
    r = transfer(m, a, pc, rest);
    expect_outcome(&r, &want, "emptying the payer");
    assert_int_equal(tcn_chain_model_balance(m, pa), 0);
    assert_int_equal(tcn_chain_model_balance(m, pc), rest);
    tcn_chain_account_view view;
    assert_false(tcn_chain_model_get_account(m, pa, &view));
    /* more than it has: ResultWithNegativeLamports, fee charged */
    r = transfer(m, c, pb, rest);
    want = ixerr(0, TCN_CHAIN_IXERR_CUSTOM, TCN_CHAIN_SYSERR_RESULT_WITH_NEGATIVE_LAMPORTS);
    expect_outcome(&r, &want, "overdraft");
    assert_non_null(strstr(r.log, "insufficient lamports"));
    assert_int_equal(tcn_chain_model_balance(m, pc), rest - FEE1);

    tcn_chain_supply sup;
    tcn_chain_model_supply(m, &sup);
    assert_int_equal(sup.fees, 5 * FEE1);
    assert_int_equal(sup.minted, 10000000);
    conserved(m);
    tcn_chain_keypair_free(a);
    tcn_chain_keypair_free(b);
    tcn_chain_keypair_free(c);
    tcn_chain_model_free(m);
}

static void test_duplicates_and_expiry(void **state)
{
    (void)state;
    tcn_chain_model *m = new_model(TCN_CHAIN_NONCE_FROM_BANK);
    tcn_chain_keypair *a = own_key(0x51);
    tcn_chain_pubkey to;
    memset(to.b, 0x77, sizeof(to.b));
    tcn_error err;
    assert_int_equal(tcn_chain_model_airdrop(m, tcn_chain_keypair_pubkey(a), 100000000, &err), TCN_OK);

    tcn_chain_ix ix;
    tcn_chain_tx tx;
    tcn_buf wire = {0};
    tcn_chain_system_transfer(&ix, tcn_chain_keypair_pubkey(a), &to, 1000000);
    make_tx(&tx, m, NULL, a, &ix, 1, (const tcn_chain_keypair *const[]){a}, 1);
    assert_int_equal(tcn_chain_tx_encode(&tx, &wire, &err), TCN_OK);

    /* not landed yet after 150 slots it still can (age 150 is valid)... */
    tcn_chain_sig_status st;
    tcn_chain_model_signature_status(m, tcn_chain_tx_id(&tx), &st);
    assert_int_equal(st.state, TCN_CHAIN_SIG_UNKNOWN);
    tcn_chain_hash bh0 = latest(m);
    uint64_t last_valid;
    tcn_chain_hash tmp;
    tcn_chain_model_latest_blockhash(m, &tmp, &last_valid);
    assert_int_equal(last_valid, TCN_CHAIN_MAX_PROCESSING_AGE);
    for (int i = 0; i < 150; i++)
        tcn_chain_model_advance_slot(m);
    assert_true(tcn_chain_model_blockhash_valid(m, &bh0));
    tcn_chain_submit_result r = submit(m, wire.p, wire.len);
    tcn_chain_tx_error ok = kind(TCN_CHAIN_TX_OK);
    expect_outcome(&r, &ok, "age 150");
    assert_int_equal(r.slot, 150);
    tcn_chain_model_signature_status(m, tcn_chain_tx_id(&tx), &st);
    assert_int_equal(st.state, TCN_CHAIN_SIG_LANDED_OK);
    assert_int_equal(st.slot, 150);
    /* ...and once landed, the same bytes are AlreadyProcessed while the blockhash lives */
    r = submit(m, wire.p, wire.len);
    tcn_chain_tx_error ap = kind(TCN_CHAIN_TXERR_ALREADY_PROCESSED);
    expect_outcome(&r, &ap, "duplicate");
    assert_int_equal(tcn_chain_model_balance(m, &to), 1000000);
    /* then the blockhash expires: BlockhashNotFound */
    tcn_chain_model_advance_slot(m);
    assert_false(tcn_chain_model_blockhash_valid(m, &bh0));
    r = submit(m, wire.p, wire.len);
    tcn_chain_tx_error bnf = kind(TCN_CHAIN_TXERR_BLOCKHASH_NOT_FOUND);
    expect_outcome(&r, &bnf, "expired");
    /* a transaction never seen with an expired blockhash, too */
    tcn_chain_system_transfer(&ix, tcn_chain_keypair_pubkey(a), &to, 2);
    make_tx(&tx, m, &bh0, a, &ix, 1, (const tcn_chain_keypair *const[]){a}, 1);
    r = submit_tx(m, &tx);
    expect_outcome(&r, &bnf, "expired, never seen");
    conserved(m);
    tcn_buf_free(&wire);
    tcn_chain_keypair_free(a);
    tcn_chain_model_free(m);
}

/* Creates and initializes a nonce account for `nonce` with authority `auth`,
 * funded by `payer`, at the current slot. */
static void create_nonce(tcn_chain_model *m, const tcn_chain_keypair *payer, const tcn_chain_keypair *nonce,
                         const tcn_chain_pubkey *auth)
{
    tcn_chain_ix ix[2];
    tcn_chain_tx tx;
    tcn_chain_system_create_account(&ix[0], tcn_chain_keypair_pubkey(payer), tcn_chain_keypair_pubkey(nonce),
                                    tcn_chain_rent_minimum_balance(80), 80, &tcn_chain_system_program_id);
    tcn_chain_system_initialize_nonce(&ix[1], tcn_chain_keypair_pubkey(nonce), auth);
    make_tx(&tx, m, NULL, payer, ix, 2, (const tcn_chain_keypair *const[]){payer, nonce}, 2);
    tcn_chain_submit_result r = submit_tx(m, &tx);
    tcn_chain_tx_error ok = kind(TCN_CHAIN_TX_OK);
    expect_outcome(&r, &ok, "create nonce account");
}

static void test_nonce_rules(void **state)
{
    (void)state;
    tcn_chain_model *m = new_model(TCN_CHAIN_NONCE_FROM_BANK);
    tcn_chain_keypair *payer = own_key(0x61), *nk = own_key(0x62), *auth = own_key(0x63), *other = own_key(0x64);
    const tcn_chain_pubkey *pn = tcn_chain_keypair_pubkey(nk), *pauth = tcn_chain_keypair_pubkey(auth);
    tcn_error err;
    assert_int_equal(tcn_chain_model_airdrop(m, tcn_chain_keypair_pubkey(payer), 1000000000, &err), TCN_OK);
    create_nonce(m, payer, nk, pauth);
    tcn_chain_nonce_state ns;
    assert_int_equal(tcn_chain_model_nonce(m, pn, &ns, &err), TCN_OK);
    tcn_chain_hash bank = latest(m), v0 = dn(&bank);
    assert_true(tcn_chain_hash_eq(&ns.durable_nonce, &v0));
    assert_true(tcn_chain_pubkey_eq(&ns.authority, pauth));

    tcn_chain_ix ix[2];
    tcn_chain_tx tx;
    tcn_chain_submit_result r;
    tcn_chain_tx_error want;

    /* CreateAccount on an account in use */
    tcn_chain_system_create_account(&ix[0], tcn_chain_keypair_pubkey(payer), pn, 2000000, 0,
                                    &tcn_chain_system_program_id);
    make_tx(&tx, m, NULL, payer, ix, 1, (const tcn_chain_keypair *const[]){payer, nk}, 2);
    r = submit_tx(m, &tx);
    want = ixerr(0, TCN_CHAIN_IXERR_CUSTOM, TCN_CHAIN_SYSERR_ACCOUNT_ALREADY_IN_USE);
    expect_outcome(&r, &want, "create over a nonce account");
    /* InitializeNonceAccount again */
    tcn_chain_system_initialize_nonce(&ix[0], pn, pauth);
    make_tx(&tx, m, NULL, payer, ix, 1, (const tcn_chain_keypair *const[]){payer}, 1);
    r = submit_tx(m, &tx);
    want = ixerr(0, TCN_CHAIN_IXERR_INVALID_ACCOUNT_DATA, 0);
    expect_outcome(&r, &want, "initialize twice");
    /* Transfer out of a nonce account: it carries data */
    tcn_chain_system_transfer(&ix[0], pn, pauth, 1);
    make_tx(&tx, m, NULL, payer, ix, 1, (const tcn_chain_keypair *const[]){payer, nk}, 2);
    r = submit_tx(m, &tx);
    want = ixerr(0, TCN_CHAIN_IXERR_INVALID_ARGUMENT, 0);
    expect_outcome(&r, &want, "transfer from a nonce account");
    /* AdvanceNonceAccount in the slot that set the value: NonceBlockhashNotExpired */
    tcn_chain_system_advance_nonce(&ix[0], pn, pauth);
    make_tx(&tx, m, NULL, payer, ix, 1, (const tcn_chain_keypair *const[]){payer, auth}, 2);
    r = submit_tx(m, &tx);
    want = ixerr(0, TCN_CHAIN_IXERR_CUSTOM, TCN_CHAIN_SYSERR_NONCE_BLOCKHASH_NOT_EXPIRED);
    expect_outcome(&r, &want, "advance twice in a slot");
    /* ... and by a non-authority, with a regular blockhash: MissingRequiredSignature */
    tcn_chain_model_advance_slot(m);
    tcn_chain_system_advance_nonce(&ix[0], pn, tcn_chain_keypair_pubkey(other));
    make_tx(&tx, m, NULL, payer, ix, 1, (const tcn_chain_keypair *const[]){payer, other}, 2);
    r = submit_tx(m, &tx);
    want = ixerr(0, TCN_CHAIN_IXERR_MISSING_REQUIRED_SIGNATURE, 0);
    expect_outcome(&r, &want, "advance by another key");
    conserved(m);

    /* Durable-nonce admission: bound to the current value... */
    tcn_chain_hash v = nonce_value(m, pn);
    assert_true(tcn_chain_hash_eq(&v, &v0));
    tcn_chain_pubkey dest;
    memset(dest.b, 0x99, sizeof(dest.b));
    /* ...but the authority does not sign the advance: BlockhashNotFound */
    tcn_chain_system_advance_nonce(&ix[0], pn, tcn_chain_keypair_pubkey(other));
    tcn_chain_system_transfer(&ix[1], tcn_chain_keypair_pubkey(payer), &dest, 1000000);
    make_tx(&tx, m, &v, payer, ix, 2, (const tcn_chain_keypair *const[]){payer, other}, 2);
    r = submit_tx(m, &tx);
    want = kind(TCN_CHAIN_TXERR_BLOCKHASH_NOT_FOUND);
    expect_outcome(&r, &want, "nonce transaction without the authority");
    /* ...AdvanceNonceAccount not first: BlockhashNotFound */
    tcn_chain_system_transfer(&ix[0], tcn_chain_keypair_pubkey(payer), &dest, 1000000);
    tcn_chain_system_advance_nonce(&ix[1], pn, pauth);
    make_tx(&tx, m, &v, payer, ix, 2, (const tcn_chain_keypair *const[]){payer, auth}, 2);
    r = submit_tx(m, &tx);
    expect_outcome(&r, &want, "advance not first");
    /* ...done right: lands; the nonce becomes DurableNonce(bank blockhash) */
    tcn_chain_system_advance_nonce(&ix[0], pn, pauth);
    tcn_chain_system_transfer(&ix[1], tcn_chain_keypair_pubkey(payer), &dest, 1000000);
    make_tx(&tx, m, &v, payer, ix, 2, (const tcn_chain_keypair *const[]){payer, auth}, 2);
    r = submit_tx(m, &tx);
    want = kind(TCN_CHAIN_TX_OK);
    expect_outcome(&r, &want, "durable transaction");
    bank = latest(m);
    tcn_chain_hash v1 = nonce_value(m, pn), w = dn(&bank);
    assert_true(tcn_chain_hash_eq(&v1, &w));
    /* resubmitted: the nonce moved on */
    r = submit_tx(m, &tx);
    want = kind(TCN_CHAIN_TXERR_BLOCKHASH_NOT_FOUND);
    expect_outcome(&r, &want, "durable transaction resubmitted");
    /* still valid long after any blockhash would have expired */
    for (int i = 0; i < 300; i++)
        tcn_chain_model_advance_slot(m);
    tcn_chain_system_transfer(&ix[1], tcn_chain_keypair_pubkey(payer), &dest, 1000);
    make_tx(&tx, m, &v1, payer, ix, 2, (const tcn_chain_keypair *const[]){payer, auth}, 2);
    r = submit_tx(m, &tx);
    want = kind(TCN_CHAIN_TX_OK);
    expect_outcome(&r, &want, "durable transaction 300 slots later");

    /* The nonce account as fee payer keeps its rent-exempt minimum. */
    tcn_chain_model_advance_slot(m);
    tcn_chain_hash v2 = nonce_value(m, pn);
    tcn_chain_system_advance_nonce(&ix[0], pn, pauth);
    make_tx(&tx, m, &v2, nk, ix, 1, (const tcn_chain_keypair *const[]){nk, auth}, 2);
    r = submit_tx(m, &tx);
    want = kind(TCN_CHAIN_TXERR_INSUFFICIENT_FUNDS_FOR_FEE); /* it holds exactly the minimum */
    expect_outcome(&r, &want, "nonce account paying the fee");
    assert_int_equal(tcn_chain_model_airdrop(m, pn, 1, &err), TCN_ERR_USAGE); /* not a plain System account */
    conserved(m);

    /* A nonce account with more than its minimum pays for a durable
     * transaction that then fails: the fee and the advance are both kept. */
    tcn_chain_keypair *nk2 = own_key(0x65), *poor = own_key(0x66);
    const tcn_chain_pubkey *pn2 = tcn_chain_keypair_pubkey(nk2);
    create_nonce(m, payer, nk2, pauth);
    tcn_chain_system_transfer(&ix[0], tcn_chain_keypair_pubkey(payer), pn2, 1000000);
    make_tx(&tx, m, NULL, payer, ix, 1, (const tcn_chain_keypair *const[]){payer}, 1);
    r = submit_tx(m, &tx);
    want = kind(TCN_CHAIN_TX_OK);
    expect_outcome(&r, &want, "top up the second nonce account");
    tcn_chain_model_advance_slot(m);
    tcn_chain_hash w0 = nonce_value(m, pn2);
    uint64_t nbal = tcn_chain_model_balance(m, pn2);
    tcn_chain_system_advance_nonce(&ix[0], pn2, pauth);
    tcn_chain_system_transfer(&ix[1], tcn_chain_keypair_pubkey(poor), &dest, 1); /* poor holds nothing */
    make_tx(&tx, m, &w0, nk2, ix, 2, (const tcn_chain_keypair *const[]){nk2, auth, poor}, 3);
    r = submit_tx(m, &tx);
    want = ixerr(1, TCN_CHAIN_IXERR_CUSTOM, TCN_CHAIN_SYSERR_RESULT_WITH_NEGATIVE_LAMPORTS);
    expect_outcome(&r, &want, "nonce account pays for a failing durable transaction");
    assert_int_equal(tcn_chain_model_balance(m, pn2), nbal - 3 * FEE1);
    tcn_chain_hash w1 = nonce_value(m, pn2);
    bank = latest(m);
    w = dn(&bank);
    assert_true(tcn_chain_hash_eq(&w1, &w));
    tcn_chain_nonce_state st2;
    assert_int_equal(tcn_chain_model_nonce(m, pn2, &st2, &err), TCN_OK);
    assert_true(tcn_chain_pubkey_eq(&st2.authority, pauth));
    conserved(m);
    tcn_chain_keypair_free(nk2);
    tcn_chain_keypair_free(poor);

    /* An unknown program: the fee is charged, and a failed durable-nonce
     * transaction still advances its nonce. */
    tcn_chain_ix bogus;
    memset(&bogus, 0, sizeof(bogus));
    memset(bogus.program_id.b, 0xcd, 32);
    tcn_chain_system_advance_nonce(&ix[0], pn, pauth);
    ix[1] = bogus;
    make_tx(&tx, m, &v2, payer, ix, 2, (const tcn_chain_keypair *const[]){payer, auth}, 2);
    uint64_t before = tcn_chain_model_balance(m, tcn_chain_keypair_pubkey(payer));
    r = submit_tx(m, &tx);
    want = kind(TCN_CHAIN_TXERR_PROGRAM_ACCOUNT_NOT_FOUND);
    expect_outcome(&r, &want, "unknown program");
    assert_true(r.landed);
    assert_int_equal(tcn_chain_model_balance(m, tcn_chain_keypair_pubkey(payer)), before - 2 * FEE1);
    tcn_chain_hash v3 = nonce_value(m, pn);
    bank = latest(m);
    w = dn(&bank);
    assert_true(tcn_chain_hash_eq(&v3, &w));
    assert_false(tcn_chain_hash_eq(&v3, &v2));
    conserved(m);

    tcn_chain_keypair_free(payer);
    tcn_chain_keypair_free(nk);
    tcn_chain_keypair_free(auth);
    tcn_chain_keypair_free(other);
    tcn_chain_model_free(m);
}

/* The runtime's account rules as the System program meets them. */
static void test_instruction_checks(void **state)
{
    (void)state;
    tcn_chain_model *m = new_model(TCN_CHAIN_NONCE_FROM_BANK);
    tcn_chain_keypair *payer = own_key(0x71), *foreign = own_key(0x72), *fresh = own_key(0x73);
    const tcn_chain_pubkey *pp = tcn_chain_keypair_pubkey(payer), *pf = tcn_chain_keypair_pubkey(foreign),
                           *pfresh = tcn_chain_keypair_pubkey(fresh);
    tcn_chain_pubkey other_program, to;
    memset(other_program.b, 0xab, 32);
    memset(to.b, 0x31, 32);
    tcn_error err;
    assert_int_equal(tcn_chain_model_airdrop(m, pp, 100000000, &err), TCN_OK);
    /* an account owned by another program, holding lamports */
    assert_int_equal(tcn_chain_model_set_account(m, pf, 5000000, &other_program, NULL, 0, &err), TCN_OK);
    conserved(m);

    tcn_chain_ix ix[2];
    tcn_chain_tx tx;
    tcn_chain_submit_result r;
    tcn_chain_tx_error want;

    /* debiting an account the System program does not own */
    tcn_chain_system_transfer(&ix[0], pf, &to, 1000000);
    make_tx(&tx, m, NULL, payer, ix, 1, (const tcn_chain_keypair *const[]){payer, foreign}, 2);
    r = submit_tx(m, &tx);
    want = ixerr(0, TCN_CHAIN_IXERR_EXTERNAL_ACCOUNT_LAMPORT_SPEND, 0);
    expect_outcome(&r, &want, "spend from a foreign account");
    assert_int_equal(tcn_chain_model_balance(m, pf), 5000000);
    /* crediting a read-only account */
    tcn_chain_system_transfer(&ix[0], pp, &to, 1000000);
    ix[0].accounts[1].is_writable = false;
    make_tx(&tx, m, NULL, payer, ix, 1, (const tcn_chain_keypair *const[]){payer}, 1);
    r = submit_tx(m, &tx);
    want = ixerr(0, TCN_CHAIN_IXERR_READONLY_LAMPORT_CHANGE, 0);
    expect_outcome(&r, &want, "credit a read-only account");
    /* a sysvar is never writable, whatever the header says */
    tcn_chain_system_transfer(&ix[0], pp, &tcn_chain_sysvar_rent_id, 1000000);
    make_tx(&tx, m, NULL, payer, ix, 1, (const tcn_chain_keypair *const[]){payer}, 1);
    r = submit_tx(m, &tx);
    expect_outcome(&r, &want, "credit a sysvar");
    /* too few accounts; `from` not a signer */
    tcn_chain_system_transfer(&ix[0], pp, &to, 1);
    ix[0].n_accounts = 1;
    make_tx(&tx, m, NULL, payer, ix, 1, (const tcn_chain_keypair *const[]){payer}, 1);
    r = submit_tx(m, &tx);
    want = ixerr(0, TCN_CHAIN_IXERR_NOT_ENOUGH_ACCOUNT_KEYS, 0);
    expect_outcome(&r, &want, "transfer with one account");
    tcn_chain_system_transfer(&ix[0], &to, pp, 1);
    ix[0].accounts[0].is_signer = false;
    make_tx(&tx, m, NULL, payer, ix, 1, (const tcn_chain_keypair *const[]){payer}, 1);
    r = submit_tx(m, &tx);
    want = ixerr(0, TCN_CHAIN_IXERR_MISSING_REQUIRED_SIGNATURE, 0);
    expect_outcome(&r, &want, "transfer from a non-signer");
    /* instruction data the System program cannot read; one it does not implement here */
    tcn_chain_system_transfer(&ix[0], pp, &to, 1);
    ix[0].data_len = 7;
    make_tx(&tx, m, NULL, payer, ix, 1, (const tcn_chain_keypair *const[]){payer}, 1);
    r = submit_tx(m, &tx);
    want = ixerr(0, TCN_CHAIN_IXERR_INVALID_INSTRUCTION_DATA, 0);
    expect_outcome(&r, &want, "short transfer data");
    ix[0].data_len = 12;
    ix[0].data[0] = TCN_CHAIN_SYS_ASSIGN;
    make_tx(&tx, m, NULL, payer, ix, 1, (const tcn_chain_keypair *const[]){payer}, 1);
    r = submit_tx(m, &tx);
    expect_outcome(&r, &want, "Assign (not modelled)");
    /* trailing bytes after a Transfer are ignored, as bincode's limited_deserialize does */
    tcn_chain_system_transfer(&ix[0], pp, pfresh, 1000000);
    ix[0].data[12] = 0xee;
    ix[0].data_len = 13;
    make_tx(&tx, m, NULL, payer, ix, 1, (const tcn_chain_keypair *const[]){payer}, 1);
    r = submit_tx(m, &tx);
    want = kind(TCN_CHAIN_TX_OK);
    expect_outcome(&r, &want, "transfer with a trailing byte");
    assert_int_equal(tcn_chain_model_balance(m, pfresh), 1000000);
    conserved(m);

    /* CreateAccount: too large; under-funded nonce account; new account must sign */
    tcn_chain_keypair *n2 = own_key(0x74);
    const tcn_chain_pubkey *pn2 = tcn_chain_keypair_pubkey(n2);
    tcn_chain_system_create_account(&ix[0], pp, pn2, 2000000, (uint64_t)TCN_CHAIN_ACCOUNT_DATA_MAX + 1,
                                    &tcn_chain_system_program_id);
    make_tx(&tx, m, NULL, payer, ix, 1, (const tcn_chain_keypair *const[]){payer, n2}, 2);
    r = submit_tx(m, &tx);
    want = ixerr(0, TCN_CHAIN_IXERR_CUSTOM, TCN_CHAIN_SYSERR_INVALID_ACCOUNT_DATA_LENGTH);
    expect_outcome(&r, &want, "CreateAccount above 10 MiB");
    tcn_chain_system_create_account(&ix[0], pp, pn2, 1000000, 80, &tcn_chain_system_program_id);
    tcn_chain_system_initialize_nonce(&ix[1], pn2, pp);
    make_tx(&tx, m, NULL, payer, ix, 2, (const tcn_chain_keypair *const[]){payer, n2}, 2);
    r = submit_tx(m, &tx);
    want = ixerr(1, TCN_CHAIN_IXERR_INSUFFICIENT_FUNDS, 0);
    expect_outcome(&r, &want, "InitializeNonceAccount below the minimum");
    tcn_chain_account_view view;
    assert_false(tcn_chain_model_get_account(m, pn2, &view)); /* rolled back */
    tcn_chain_system_create_account(&ix[0], pp, pn2, 2000000, 0, &tcn_chain_system_program_id);
    ix[0].accounts[1].is_signer = false;
    make_tx(&tx, m, NULL, payer, ix, 1, (const tcn_chain_keypair *const[]){payer}, 1);
    r = submit_tx(m, &tx);
    want = ixerr(0, TCN_CHAIN_IXERR_MISSING_REQUIRED_SIGNATURE, 0);
    expect_outcome(&r, &want, "CreateAccount without the new account's signature");
    /* CreateAccount owned by another program: data zeroed, owner set */
    tcn_chain_system_create_account(&ix[0], pp, pn2, 2000000, 16, &other_program);
    make_tx(&tx, m, NULL, payer, ix, 1, (const tcn_chain_keypair *const[]){payer, n2}, 2);
    r = submit_tx(m, &tx);
    want = kind(TCN_CHAIN_TX_OK);
    expect_outcome(&r, &want, "CreateAccount for another program");
    assert_true(tcn_chain_model_get_account(m, pn2, &view));
    assert_int_equal(view.data_len, 16);
    assert_true(tcn_chain_pubkey_eq(&view.owner, &other_program));
    /* ... which then cannot pay fees */
    tcn_chain_system_transfer(&ix[0], pp, &to, 1000000);
    make_tx(&tx, m, NULL, n2, ix, 1, (const tcn_chain_keypair *const[]){n2, payer}, 2);
    r = submit_tx(m, &tx);
    want = kind(TCN_CHAIN_TXERR_INVALID_ACCOUNT_FOR_FEE);
    expect_outcome(&r, &want, "fee payer owned by another program");
    conserved(m);

    tcn_chain_keypair_free(payer);
    tcn_chain_keypair_free(foreign);
    tcn_chain_keypair_free(fresh);
    tcn_chain_keypair_free(n2);
    tcn_chain_model_free(m);
}

static void test_sanitize_and_signatures(void **state)
{
    (void)state;
    tcn_chain_model *m = new_model(TCN_CHAIN_NONCE_FROM_BANK);
    fund_genesis(m);
    uint8_t junk[40];
    memset(junk, 0xff, sizeof(junk));
    tcn_chain_submit_result r = submit(m, junk, sizeof(junk));
    tcn_chain_tx_error want = kind(TCN_CHAIN_TXERR_SANITIZE_FAILURE);
    expect_outcome(&r, &want, "junk");
    assert_non_null(strstr(r.log, "signatures.len"));
    r = submit(m, junk, 0);
    expect_outcome(&r, &want, "empty");
    /* a versioned message prefix */
    uint8_t v0[TCN_CHAIN_PACKET_BYTES_MAX];
    memcpy(v0, g_case[0].wire, g_case[0].wire_len);
    v0[65] = 0x80;
    r = submit(m, v0, g_case[0].wire_len);
    want = kind(TCN_CHAIN_TXERR_UNSUPPORTED_VERSION);
    expect_outcome(&r, &want, "versioned");
    /* every single-bit flip of case 1 is refused before it costs anything */
    for (size_t bit = 0; bit < g_case[0].wire_len * 8; bit += 5) {
        memcpy(v0, g_case[0].wire, g_case[0].wire_len);
        v0[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        r = submit(m, v0, g_case[0].wire_len);
        assert_int_not_equal(r.err.kind, TCN_CHAIN_TX_OK);
        assert_false(r.landed);
    }
    check_balances(m, json_object_get(g_case[0].j, "balances_before"), "after junk");
    conserved(m);
    tcn_chain_model_free(m);
}

/* A seeded random walk over transfers, account creations, nonce payouts,
 * resubmissions, tampering and slot changes. After every step: conservation
 * holds, the fees counted equal the fees of the transactions that landed,
 * and a transaction's status agrees with its outcome. Two runs with the same
 * seed end in the same state. */
static uint64_t xorshift(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

#define WALK_KEYS 6

static void walk(uint64_t seed, tcn_chain_supply *end_supply, tcn_chain_hash *end_nonce, unsigned *kinds)
{
    tcn_chain_model *m = new_model(TCN_CHAIN_NONCE_FROM_BANK);
    tcn_chain_keypair *k[WALK_KEYS];
    const tcn_chain_pubkey *pk[WALK_KEYS];
    tcn_error err;
    for (int i = 0; i < WALK_KEYS; i++) {
        k[i] = own_key((uint8_t)(0xa0 + i));
        pk[i] = tcn_chain_keypair_pubkey(k[i]);
    }
    /* k[0..2] funded; k[5] becomes a nonce account with authority k[4] */
    for (int i = 0; i < 3; i++)
        assert_int_equal(tcn_chain_model_airdrop(m, pk[i], 50000000, &err), TCN_OK);
    create_nonce(m, k[0], k[5], pk[4]);
    tcn_buf last = {0};
    uint64_t fees = FEE2, s = seed;
    for (int step = 0; step < 3000; step++) {
        uint64_t r = xorshift(&s);
        tcn_chain_ix ix[2];
        tcn_chain_tx tx;
        tcn_buf wire = {0};
        int from = (int)(r % 5), to = (int)((r >> 8) % WALK_KEYS);
        uint64_t amount = (r >> 16) % 3000000, bal = tcn_chain_model_balance(m, pk[from]);
        if ((r >> 50) % 16 == 0 && bal > FEE1)
            amount = bal - FEE1; /* empty it: it ceases to exist */
        switch ((r >> 40) % 8) {
        case 0: /* a transfer (may fail for funds or rent) */
        case 1:
        case 2:
            tcn_chain_system_transfer(&ix[0], pk[from], pk[to], amount);
            make_tx(&tx, m, NULL, k[from], ix, 1, (const tcn_chain_keypair *const[]){k[from]}, 1);
            break;
        case 3: { /* a durable payout from k[from], authority k[4] */
            tcn_chain_hash v = nonce_value(m, pk[5]);
            tcn_chain_system_advance_nonce(&ix[0], pk[5], pk[4]);
            tcn_chain_system_transfer(&ix[1], pk[from], pk[to], amount);
            if (from == 4) { /* the authority pays */
                make_tx(&tx, m, &v, k[4], ix, 2, (const tcn_chain_keypair *const[]){k[4]}, 1);
            } else {
                make_tx(&tx, m, &v, k[from], ix, 2, (const tcn_chain_keypair *const[]){k[from], k[4]}, 2);
            }
            break;
        }
        case 4: /* the last transaction again */
            if (last.len == 0)
                continue;
            assert_int_equal(tcn_buf_append(&wire, last.p, last.len), TCN_OK);
            break;
        case 5: /* a tampered one */
            if (last.len == 0)
                continue;
            assert_int_equal(tcn_buf_append(&wire, last.p, last.len), TCN_OK);
            wire.p[(r >> 20) % wire.len] ^= (uint8_t)(1u << ((r >> 30) % 8));
            break;
        case 6: /* the faucet */
            if (tcn_chain_model_airdrop(m, pk[from], 4000000, &err) != TCN_OK)
                assert_int_equal(err.code, TCN_ERR_USAGE); /* not a plain System account */
            conserved(m);
            continue;
        default:
            tcn_chain_model_advance_slot(m);
            continue;
        }
        if (wire.len == 0)
            assert_int_equal(tcn_chain_tx_encode(&tx, &wire, &err), TCN_OK);
        tcn_chain_submit_result res = submit(m, wire.p, wire.len);
        kinds[res.err.kind]++;
        if (res.landed) {
            fees += res.fee;
            tcn_chain_sig_status st;
            tcn_chain_model_signature_status(m, &res.signature, &st);
            assert_int_equal(st.state, res.err.kind == TCN_CHAIN_TX_OK ? TCN_CHAIN_SIG_LANDED_OK
                                                                        : TCN_CHAIN_SIG_LANDED_ERR);
            assert_true(tcn_chain_tx_error_eq(&st.err, &res.err));
            last.len = 0;
            assert_int_equal(tcn_buf_append(&last, wire.p, wire.len), TCN_OK);
        } else {
            assert_int_equal(res.fee, 0);
        }
        tcn_buf_free(&wire);
        tcn_chain_supply sup;
        tcn_chain_model_supply(m, &sup);
        assert_int_equal(sup.fees, fees);
        conserved(m);
    }
    tcn_chain_model_supply(m, end_supply);
    *end_nonce = nonce_value(m, pk[5]);
    tcn_buf_free(&last);
    for (int i = 0; i < WALK_KEYS; i++)
        tcn_chain_keypair_free(k[i]);
    tcn_chain_model_free(m);
}

static void test_random_walk(void **state)
{
    (void)state;
    tcn_chain_supply a, b;
    tcn_chain_hash na, nb;
    unsigned ka[TCN_CHAIN_TXERR_COUNT_] = {0}, kb[TCN_CHAIN_TXERR_COUNT_] = {0};
    walk(0x9e3779b97f4a7c15ull, &a, &na, ka);
    walk(0x9e3779b97f4a7c15ull, &b, &nb, kb);
    assert_memory_equal(&a, &b, sizeof(a));
    assert_true(tcn_chain_hash_eq(&na, &nb));
    assert_memory_equal(ka, kb, sizeof(ka));
    /* the walk met every outcome it can produce */
    static const tcn_chain_txerr seen[] = {
        TCN_CHAIN_TX_OK, TCN_CHAIN_TXERR_INSTRUCTION_ERROR, TCN_CHAIN_TXERR_INSUFFICIENT_FUNDS_FOR_RENT,
        TCN_CHAIN_TXERR_BLOCKHASH_NOT_FOUND, TCN_CHAIN_TXERR_ALREADY_PROCESSED, TCN_CHAIN_TXERR_SIGNATURE_FAILURE,
        TCN_CHAIN_TXERR_ACCOUNT_NOT_FOUND,
    };
    for (int i = 0; i < TCN_CHAIN_TXERR_COUNT_; i++)
        if (getenv("TCN_CHAIN_WALK_VERBOSE") != NULL)
            fprintf(stderr, "%s: %u\n", tcn_chain_txerr_name((tcn_chain_txerr)i), ka[i]);
    for (size_t i = 0; i < sizeof(seen) / sizeof(seen[0]); i++) {
        if (ka[seen[i]] < 3) {
            fprintf(stderr, "random walk: no %s\n", tcn_chain_txerr_name(seen[i]));
            fail();
        }
    }
}

static void test_determinism(void **state)
{
    (void)state;
    tcn_chain_model *a = new_model(TCN_CHAIN_NONCE_FROM_BANK), *b = new_model(TCN_CHAIN_NONCE_FROM_BANK), *c;
    tcn_error err;
    assert_int_equal(tcn_chain_model_new("another seed", 12, NULL, &c, &err), TCN_OK);
    /* seed "genesis": LiteSVM's first blockhash, the one case 1 used */
    tcn_chain_hash g = latest(a), msg_bh;
    tcn_chain_tx tx;
    assert_int_equal(tcn_chain_tx_decode(g_case[0].wire, g_case[0].wire_len, &tx, &err), TCN_OK);
    msg_bh = tx.msg.recent_blockhash;
    assert_true(tcn_chain_hash_eq(&g, &msg_bh));
    for (int i = 0; i < 10; i++) {
        tcn_chain_hash ha = latest(a), hb = latest(b), hc = latest(c), next;
        assert_true(tcn_chain_hash_eq(&ha, &hb));
        assert_false(tcn_chain_hash_eq(&ha, &hc));
        tcn_chain_model_advance_slot(a);
        tcn_chain_model_advance_slot(b);
        tcn_chain_model_advance_slot(c);
        tcn_sha256(ha.b, 32, next.b); /* each slot: SHA-256 of the previous blockhash */
        hb = latest(a);
        assert_true(tcn_chain_hash_eq(&hb, &next));
    }
    tcn_chain_model *d = NULL;
    assert_int_equal(tcn_chain_model_new("", 0, NULL, &d, &err), TCN_ERR_USAGE);
    assert_null(d);
    tcn_chain_model_free(a);
    tcn_chain_model_free(b);
    tcn_chain_model_free(c);
}

int main(void)
{
    if (!tcn_test_have_testdata(VECTORS))
        return TCN_TEST_SKIP;
    if (tcn_crypto_init() != TCN_OK)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_replay_vectors),
        cmocka_unit_test(test_stale_refund_after_failed_payout),
        cmocka_unit_test(test_agave_replay),
        cmocka_unit_test(test_fees_and_rent),
        cmocka_unit_test(test_duplicates_and_expiry),
        cmocka_unit_test(test_nonce_rules),
        cmocka_unit_test(test_instruction_checks),
        cmocka_unit_test(test_sanitize_and_signatures),
        cmocka_unit_test(test_random_walk),
        cmocka_unit_test(test_determinism),
    };
    return cmocka_run_group_tests(tests, load, unload);
}
