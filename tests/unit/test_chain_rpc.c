/* Unit tests for the JSON-RPC layer without a network: the client's requests
 * answered by the chain model's server (tcn_chain_rpc_serve) and parsed back
 * by the client — every method of DESIGN §8, preflight and skipPreflight,
 * signature statuses; the client's parsers on answers shaped as Solana's
 * docs show them (rentEpoch = u64::MAX included); and refusals naming the
 * field, on both sides. Also getMultipleAccounts, minContextSlot (-32016)
 * and commitment: builders, parsers, the server. Needs no testdata: keys come from fixed seeds. */
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
#include "chain/model.h"
#include "chain/rent.h"
#include "chain/rpc.h"
#include "chain/rpc_serve.h"
#include "chain/system.h"
#include "chain/transaction.h"
#include "testlib.h"
#include "util/buf.h"
#include "util/secmem.h"

/* ---- a client talking to the model through JSON text ---------------------------- */

static tcn_buf g_req, g_ans;
static uint64_t g_id = 100;

/* Serves g_req and returns the answer text (NUL-terminated in g_ans). */
static const char *roundtrip(tcn_chain_model *m)
{
    g_ans.len = 0;
    assert_int_equal(tcn_chain_rpc_serve(m, (const char *)g_req.p, g_req.len, &g_ans), TCN_OK);
    assert_int_equal(tcn_buf_u8(&g_ans, 0), TCN_OK);
    g_ans.len--;
    g_req.len = 0;
    return (const char *)g_ans.p;
}

static tcn_chain_keypair *key(uint8_t b)
{
    uint8_t seed[TCN_CHAIN_SEED_LEN];
    tcn_chain_keypair *kp;
    tcn_error err;
    memset(seed, b, sizeof(seed));
    assert_int_equal(tcn_chain_keypair_from_seed(seed, &kp, &err), TCN_OK);
    return kp;
}

static tcn_chain_hash rpc_blockhash(tcn_chain_model *m)
{
    uint64_t slot, last, id = ++g_id;
    tcn_chain_hash h;
    tcn_chain_rpc_error re;
    tcn_error err;
    assert_int_equal(tcn_chain_rpc_request_get_latest_blockhash(&g_req, id), TCN_OK);
    const char *a = roundtrip(m);
    assert_int_equal(tcn_chain_rpc_parse_get_latest_blockhash(a, strlen(a), id, &slot, &h, &last, &re, &err), TCN_OK);
    assert_false(re.present);
    assert_int_equal(last, slot + TCN_CHAIN_MAX_PROCESSING_AGE);
    return h;
}

static uint64_t rpc_balance(tcn_chain_model *m, const tcn_chain_pubkey *pk)
{
    uint64_t slot, lamports, id = ++g_id;
    tcn_chain_rpc_error re;
    tcn_error err;
    assert_int_equal(tcn_chain_rpc_request_get_balance(&g_req, id, pk), TCN_OK);
    const char *a = roundtrip(m);
    assert_int_equal(tcn_chain_rpc_parse_get_balance(a, strlen(a), id, &slot, &lamports, &re, &err), TCN_OK);
    assert_false(re.present);
    return lamports;
}

/* sendTransaction; returns true and the signature, or false and the error. */
static bool rpc_send(tcn_chain_model *m, const tcn_chain_tx *tx, bool skip, tcn_chain_signature *sig,
                     tcn_chain_rpc_error *re)
{
    tcn_buf wire = {0};
    tcn_error err;
    uint64_t id = ++g_id;
    assert_int_equal(tcn_chain_tx_encode(tx, &wire, &err), TCN_OK);
    assert_int_equal(tcn_chain_rpc_request_send_transaction(&g_req, id, wire.p, wire.len, skip), TCN_OK);
    tcn_buf_free(&wire);
    const char *a = roundtrip(m);
    if (tcn_chain_rpc_parse_send_transaction(a, strlen(a), id, sig, re, &err) != TCN_OK) {
        fprintf(stderr, "%s\n%s\n", a, err.msg);
        fail();
    }
    return !re->present;
}

static tcn_chain_rpc_status rpc_status(tcn_chain_model *m, const tcn_chain_signature *sig)
{
    uint64_t slot, id = ++g_id;
    tcn_chain_rpc_status st[2];
    tcn_chain_rpc_error re;
    tcn_error err;
    tcn_chain_signature sigs[2];
    sigs[0] = *sig;
    memset(&sigs[1], 0x42, sizeof(sigs[1])); /* never seen */
    assert_int_equal(tcn_chain_rpc_request_get_signature_statuses(&g_req, id, sigs, 2), TCN_OK);
    const char *a = roundtrip(m);
    assert_int_equal(tcn_chain_rpc_parse_get_signature_statuses(a, strlen(a), id, &slot, st, 2, &re, &err), TCN_OK);
    assert_false(re.present);
    assert_false(st[1].found);
    return st[0];
}

static void nonce_payout(tcn_chain_tx *tx, const tcn_chain_hash *value, const tcn_chain_keypair *escrow,
                         const tcn_chain_keypair *nonce_auth, const tcn_chain_pubkey *nonce, const tcn_chain_pubkey *to,
                         uint64_t lamports)
{
    tcn_chain_ix ix[2];
    tcn_chain_message msg;
    tcn_error err;
    tcn_chain_system_advance_nonce(&ix[0], nonce, tcn_chain_keypair_pubkey(nonce_auth));
    tcn_chain_system_transfer(&ix[1], tcn_chain_keypair_pubkey(escrow), to, lamports);
    assert_int_equal(tcn_chain_message_compile(tcn_chain_keypair_pubkey(escrow), value, ix, 2, &msg, &err), TCN_OK);
    tcn_chain_tx_init(tx, &msg);
    assert_int_equal(tcn_chain_tx_sign(tx, (const tcn_chain_keypair *const[]){escrow, nonce_auth}, 2, &err), TCN_OK);
}

static tcn_chain_hash rpc_nonce_value(tcn_chain_model *m, const tcn_chain_pubkey *nonce)
{
    uint64_t slot, id = ++g_id;
    tcn_chain_rpc_account acc;
    tcn_chain_rpc_error re;
    tcn_error err;
    assert_int_equal(tcn_chain_rpc_request_get_account_info(&g_req, id, nonce), TCN_OK);
    const char *a = roundtrip(m);
    assert_int_equal(tcn_chain_rpc_parse_get_account_info(a, strlen(a), id, &slot, &acc, &re, &err), TCN_OK);
    assert_true(acc.exists);
    assert_true(tcn_chain_pubkey_eq(&acc.owner, &tcn_chain_system_program_id));
    tcn_chain_nonce_state st;
    assert_int_equal(tcn_chain_nonce_parse(acc.data, acc.data_len, true, &st, &err), TCN_OK);
    /* the bytes are the model's */
    tcn_chain_account_view v;
    assert_true(tcn_chain_model_get_account(m, nonce, &v));
    assert_int_equal(v.data_len, acc.data_len);
    assert_memory_equal(v.data, acc.data, v.data_len);
    assert_int_equal(acc.lamports, v.lamports);
    tcn_chain_rpc_account_free(&acc);
    return st.durable_nonce;
}

/* The payout story over JSON-RPC: airdrop, nonce account, payout, a failing
 * payout refused by preflight (nothing changes), the same with
 * skipPreflight (lands, fails, fee charged, nonce advanced), statuses. */
static void test_roundtrip(void **state)
{
    (void)state;
    tcn_chain_model *m;
    tcn_error err;
    assert_int_equal(tcn_chain_model_new("rpc test", 8, NULL, &m, &err), TCN_OK);
    tcn_chain_keypair *payer = key(0x81), *coord = key(0x82), *escrow = key(0x83), *nonce = key(0x84);
    const tcn_chain_pubkey *pp = tcn_chain_keypair_pubkey(payer), *pe = tcn_chain_keypair_pubkey(escrow),
                           *pn = tcn_chain_keypair_pubkey(nonce);
    tcn_chain_pubkey dest;
    memset(dest.b, 0x0d, sizeof(dest.b));

    /* getSlot */
    uint64_t slot, id = ++g_id;
    tcn_chain_rpc_error re;
    assert_int_equal(tcn_chain_rpc_request_get_slot(&g_req, id), TCN_OK);
    const char *a = roundtrip(m);
    assert_int_equal(tcn_chain_rpc_parse_get_slot(a, strlen(a), id, &slot, &re, &err), TCN_OK);
    assert_int_equal(slot, 0);

    /* requestAirdrop, and its status */
    tcn_chain_signature sig;
    id = ++g_id;
    assert_int_equal(tcn_chain_rpc_request_request_airdrop(&g_req, id, pp, 10000000000ull), TCN_OK);
    a = roundtrip(m);
    assert_int_equal(tcn_chain_rpc_parse_request_airdrop(a, strlen(a), id, &sig, &re, &err), TCN_OK);
    assert_false(re.present);
    tcn_chain_rpc_status st = rpc_status(m, &sig);
    assert_true(st.found);
    assert_int_equal(st.err.kind, TCN_CHAIN_TX_OK);
    assert_string_equal(st.confirmation_status, "finalized");
    assert_false(st.has_confirmations);
    assert_int_equal(rpc_balance(m, pp), 10000000000ull);

    /* getAccountInfo of nothing */
    tcn_chain_rpc_account acc;
    id = ++g_id;
    assert_int_equal(tcn_chain_rpc_request_get_account_info(&g_req, id, pn), TCN_OK);
    a = roundtrip(m);
    assert_int_equal(tcn_chain_rpc_parse_get_account_info(a, strlen(a), id, &slot, &acc, &re, &err), TCN_OK);
    assert_false(acc.exists);

    /* fund the escrow, create the nonce account (authority: the coordinator) */
    tcn_chain_ix ix[2];
    tcn_chain_message msg;
    tcn_chain_tx tx;
    tcn_chain_hash bh = rpc_blockhash(m);
    tcn_chain_system_transfer(&ix[0], pp, pe, 20000000);
    assert_int_equal(tcn_chain_message_compile(pp, &bh, ix, 1, &msg, &err), TCN_OK);
    tcn_chain_tx_init(&tx, &msg);
    assert_int_equal(tcn_chain_tx_sign(&tx, (const tcn_chain_keypair *const[]){payer}, 1, &err), TCN_OK);
    assert_true(rpc_send(m, &tx, false, &sig, &re));
    assert_true(tcn_chain_signature_eq(&sig, tcn_chain_tx_id(&tx)));
    /* the same again: AlreadyProcessed, refused by preflight */
    assert_false(rpc_send(m, &tx, false, &sig, &re));
    assert_int_equal(re.code, TCN_CHAIN_RPC_PREFLIGHT_FAILURE);
    assert_true(re.has_tx_err);
    assert_int_equal(re.tx_err.kind, TCN_CHAIN_TXERR_ALREADY_PROCESSED);

    tcn_chain_system_create_account(&ix[0], pp, pn, tcn_chain_rent_minimum_balance(80), 80,
                                    &tcn_chain_system_program_id);
    tcn_chain_system_initialize_nonce(&ix[1], pn, tcn_chain_keypair_pubkey(coord));
    assert_int_equal(tcn_chain_message_compile(pp, &bh, ix, 2, &msg, &err), TCN_OK);
    tcn_chain_tx_init(&tx, &msg);
    assert_int_equal(tcn_chain_tx_sign(&tx, (const tcn_chain_keypair *const[]){payer, nonce}, 2, &err), TCN_OK);
    assert_true(rpc_send(m, &tx, false, &sig, &re));
    tcn_chain_hash v0 = rpc_nonce_value(m, pn);
    tcn_chain_model_advance_slot(m);

    /* a payout */
    nonce_payout(&tx, &v0, escrow, coord, pn, &dest, 2000000);
    assert_true(rpc_send(m, &tx, false, &sig, &re));
    st = rpc_status(m, &sig);
    assert_true(st.found);
    assert_int_equal(st.err.kind, TCN_CHAIN_TX_OK);
    assert_int_equal(st.slot, 1);
    assert_int_equal(rpc_balance(m, &dest), 2000000);
    tcn_chain_hash v1 = rpc_nonce_value(m, pn);
    assert_false(tcn_chain_hash_eq(&v0, &v1));
    /* resubmitted: BlockhashNotFound (preflight), its status still says it landed */
    assert_false(rpc_send(m, &tx, false, &sig, &re));
    assert_int_equal(re.tx_err.kind, TCN_CHAIN_TXERR_BLOCKHASH_NOT_FOUND);
    assert_non_null(strstr(re.message, "Transaction simulation failed"));
    tcn_chain_model_advance_slot(m);

    /* a payout that cannot succeed: preflight refuses it and nothing moves */
    uint64_t escrow_before = rpc_balance(m, pe);
    nonce_payout(&tx, &v1, escrow, coord, pn, &dest, 999000000000ull);
    assert_false(rpc_send(m, &tx, false, &sig, &re));
    assert_int_equal(re.code, TCN_CHAIN_RPC_PREFLIGHT_FAILURE);
    assert_int_equal(re.tx_err.kind, TCN_CHAIN_TXERR_INSTRUCTION_ERROR);
    assert_int_equal(re.tx_err.index, 1);
    assert_int_equal(re.tx_err.ix, TCN_CHAIN_IXERR_CUSTOM);
    assert_int_equal(re.tx_err.custom, 1);
    assert_int_equal(rpc_balance(m, pe), escrow_before);
    tcn_chain_hash same = rpc_nonce_value(m, pn);
    assert_true(tcn_chain_hash_eq(&same, &v1));
    assert_false(rpc_status(m, tcn_chain_tx_id(&tx)).found);
    /* with skipPreflight it lands and fails: fee charged, nonce advanced */
    assert_true(rpc_send(m, &tx, true, &sig, &re));
    st = rpc_status(m, &sig);
    assert_true(st.found);
    assert_int_equal(st.err.kind, TCN_CHAIN_TXERR_INSTRUCTION_ERROR);
    assert_int_equal(st.err.custom, 1);
    assert_int_equal(rpc_balance(m, pe), escrow_before - 10000);
    tcn_chain_hash v2 = rpc_nonce_value(m, pn);
    assert_false(tcn_chain_hash_eq(&v2, &v1));

    /* a bad signature: -32003 with preflight; with skipPreflight the
     * signature comes back but the transaction never lands */
    tcn_chain_model_advance_slot(m);
    nonce_payout(&tx, &v2, escrow, coord, pn, &dest, 1000);
    tx.signatures[1].b[5] ^= 1;
    assert_false(rpc_send(m, &tx, false, &sig, &re));
    assert_int_equal(re.code, TCN_CHAIN_RPC_SIGNATURE_VERIFICATION_FAILURE);
    assert_true(rpc_send(m, &tx, true, &sig, &re));
    assert_false(rpc_status(m, &sig).found);
    /* a stale refund with skipPreflight: same, never lands */
    nonce_payout(&tx, &v1, escrow, coord, pn, &dest, 1000);
    assert_true(rpc_send(m, &tx, true, &sig, &re));
    assert_false(rpc_status(m, &sig).found);
    assert_int_equal(tcn_chain_model_check_conservation(m, &err), TCN_OK);

    tcn_chain_keypair_free(payer);
    tcn_chain_keypair_free(coord);
    tcn_chain_keypair_free(escrow);
    tcn_chain_keypair_free(nonce);
    tcn_chain_model_free(m);
}

/* ---- the client's parsers on Solana-shaped answers -------------------------------- */

static void test_solana_shapes(void **state)
{
    (void)state;
    tcn_chain_rpc_error re;
    tcn_error err;
    uint64_t slot;

    /* getAccountInfo as Solana's docs show it: rentEpoch = u64::MAX, space */
    static const char acct[] =
        "{\"jsonrpc\":\"2.0\",\"result\":{\"context\":{\"apiVersion\":\"2.1.21\",\"slot\":335501751},"
        "\"value\":{\"data\":[\"AQAAAA==\",\"base64\"],\"executable\":false,\"lamports\":700529347432,"
        "\"owner\":\"11111111111111111111111111111111\",\"rentEpoch\":18446744073709551615,\"space\":4}},\"id\":1}";
    tcn_chain_rpc_account acc;
    assert_int_equal(tcn_chain_rpc_parse_get_account_info(acct, strlen(acct), 1, &slot, &acc, &re, &err), TCN_OK);
    assert_true(acc.exists);
    assert_int_equal(slot, 335501751);
    assert_int_equal(acc.lamports, 700529347432ull);
    assert_true(acc.rent_epoch == UINT64_MAX);
    assert_int_equal(acc.data_len, 4);
    assert_int_equal(acc.data[0], 1);
    tcn_chain_rpc_account_free(&acc);

    /* getSignatureStatuses: one success, one failure, one unknown */
    static const char sts[] =
        "{\"jsonrpc\":\"2.0\",\"result\":{\"context\":{\"slot\":82},\"value\":[{\"slot\":72,\"confirmations\":10,"
        "\"err\":null,\"status\":{\"Ok\":null},\"confirmationStatus\":\"confirmed\"},{\"slot\":48,"
        "\"confirmations\":null,\"err\":{\"InstructionError\":[1,{\"Custom\":1}]},\"status\":{\"Err\":"
        "{\"InstructionError\":[1,{\"Custom\":1}]}},\"confirmationStatus\":\"finalized\"},null]},\"id\":7}";
    tcn_chain_rpc_status st[3];
    assert_int_equal(tcn_chain_rpc_parse_get_signature_statuses(sts, strlen(sts), 7, &slot, st, 3, &re, &err), TCN_OK);
    assert_true(st[0].found && st[0].has_confirmations && st[0].confirmations == 10 && st[0].slot == 72);
    assert_int_equal(st[0].err.kind, TCN_CHAIN_TX_OK);
    assert_true(st[1].found && !st[1].has_confirmations);
    char s[96];
    assert_string_equal(tcn_chain_tx_error_format(&st[1].err, s, sizeof(s)), "InstructionError(1, Custom(1))");
    assert_false(st[2].found);

    /* getLatestBlockhash as Solana's docs show it */
    static const char lb[] = "{\"jsonrpc\":\"2.0\",\"result\":{\"context\":{\"slot\":2792},\"value\":{\"blockhash\":"
                             "\"EkSnNWid2cvwEVnVx9aBqawnmiCNiDgp3gUdkDPTKN1N\",\"lastValidBlockHeight\":3090}},\"id\":1}";
    tcn_chain_hash h;
    uint64_t last;
    assert_int_equal(tcn_chain_rpc_parse_get_latest_blockhash(lb, strlen(lb), 1, &slot, &h, &last, &re, &err), TCN_OK);
    assert_int_equal(last, 3090);
    char b58[TCN_CHAIN_BASE58_PUBKEY_CHARS];
    tcn_chain_hash_to_base58(&h, b58);
    assert_string_equal(b58, "EkSnNWid2cvwEVnVx9aBqawnmiCNiDgp3gUdkDPTKN1N");

    /* a failed preflight, with the error variants we do not model */
    static const char pre[] =
        "{\"jsonrpc\":\"2.0\",\"error\":{\"code\":-32002,\"message\":\"Transaction simulation failed: Error "
        "processing Instruction 0: custom program error: 0x1\",\"data\":{\"accounts\":null,\"err\":"
        "{\"InstructionError\":[0,{\"Custom\":1}]},\"logs\":[\"Program 11111111111111111111111111111111 invoke "
        "[1]\"],\"unitsConsumed\":150}},\"id\":3}";
    tcn_chain_signature sig;
    assert_int_equal(tcn_chain_rpc_parse_send_transaction(pre, strlen(pre), 3, &sig, &re, &err), TCN_OK);
    assert_true(re.present && re.code == -32002 && re.has_tx_err);
    assert_int_equal(re.tx_err.kind, TCN_CHAIN_TXERR_INSTRUCTION_ERROR);
    static const char other[] =
        "{\"jsonrpc\":\"2.0\",\"error\":{\"code\":-32002,\"message\":\"x\",\"data\":{\"err\":"
        "{\"DuplicateInstruction\":0}}},\"id\":3}";
    assert_int_equal(tcn_chain_rpc_parse_send_transaction(other, strlen(other), 3, &sig, &re, &err), TCN_OK);
    assert_int_equal(re.tx_err.kind, TCN_CHAIN_TXERR_OTHER);
    static const char other2[] = "{\"jsonrpc\":\"2.0\",\"result\":{\"context\":{\"slot\":1},\"value\":[{\"slot\":1,"
                                 "\"err\":\"AccountInUse\"},{\"slot\":1,\"err\":{\"InstructionError\":[2,"
                                 "\"InvalidArgument\"]}},{\"slot\":1,\"err\":\"BlockhashNotFound\"}]},\"id\":9}";
    assert_int_equal(tcn_chain_rpc_parse_get_signature_statuses(other2, strlen(other2), 9, &slot, st, 3, &re, &err),
                     TCN_OK);
    assert_int_equal(st[0].err.kind, TCN_CHAIN_TXERR_OTHER);
    assert_int_equal(st[1].err.ix, TCN_CHAIN_IXERR_INVALID_ARGUMENT);
    assert_int_equal(st[1].err.index, 2);
    assert_int_equal(st[2].err.kind, TCN_CHAIN_TXERR_BLOCKHASH_NOT_FOUND);

    /* getBalance as Solana's docs show it */
    static const char bal[] = "{\"jsonrpc\":\"2.0\",\"result\":{\"context\":{\"slot\":1},\"value\":0},\"id\":1}";
    uint64_t lamports = 7;
    assert_int_equal(tcn_chain_rpc_parse_get_balance(bal, strlen(bal), 1, &slot, &lamports, &re, &err), TCN_OK);
    assert_int_equal(lamports, 0);
}

static void expect_refused(int rc, const tcn_error *err, const char *needle)
{
    if (rc == TCN_OK || strstr(err->msg, needle) == NULL) {
        fprintf(stderr, "expected a refusal naming '%s', got %s: '%s'\n", needle, tcn_err_name(rc), err->msg);
        fail();
    }
}

static void test_answer_refusals(void **state)
{
    (void)state;
    tcn_chain_rpc_error re;
    tcn_error err;
    uint64_t slot, v;
    tcn_chain_signature sig;
    tcn_chain_hash h;
    tcn_chain_rpc_account acc;
    tcn_chain_rpc_status st[2];
#define BAL(json, needle)                                                                                 \
    do {                                                                                                  \
        tcn_err_clear(&err);                                                                              \
        expect_refused(tcn_chain_rpc_parse_get_balance(json, strlen(json), 1, &slot, &v, &re, &err), &err, \
                       needle);                                                                           \
    } while (0)
    BAL("{\"jsonrpc\":\"2.0\",\"result\":{\"context\":{\"slot\":1},\"value\":1},\"id\":2}", "id: 2 answers another");
    BAL("{\"result\":{\"context\":{\"slot\":1},\"value\":1},\"id\":1}", "jsonrpc");
    BAL("{\"jsonrpc\":\"2.0\",\"id\":1}", "exactly one of result, error");
    BAL("{\"jsonrpc\":\"2.0\",\"result\":1,\"error\":{},\"id\":1}", "exactly one of result, error");
    BAL("{\"jsonrpc\":\"2.0\",\"result\":{\"context\":{\"slot\":1},\"value\":-1},\"id\":1}", "result.value: negative");
    BAL("{\"jsonrpc\":\"2.0\",\"result\":{\"context\":{\"slot\":1},\"value\":1.5},\"id\":1}",
        "result.value: not an unsigned integer");
    BAL("{\"jsonrpc\":\"2.0\",\"result\":{\"context\":{\"slot\":1},\"value\":\"5\"},\"id\":1}",
        "result.value: not an unsigned integer");
    BAL("{\"jsonrpc\":\"2.0\",\"result\":{\"context\":{\"slot\":1},\"value\":18446744073709551616},\"id\":1}",
        "result.value: exceeds u64");
    BAL("{\"jsonrpc\":\"2.0\",\"result\":{\"context\":{},\"value\":1},\"id\":1}", "result.context.slot");
    BAL("{\"jsonrpc\":\"2.0\",\"result\":{\"value\":1},\"id\":1}", "result.context");
    BAL("{\"jsonrpc\":\"2.0\",\"result\":{\"context\":{\"slot\":1},\"value\":1,\"value\":2},\"id\":1}", "not JSON");
    BAL("{\"jsonrpc\":\"2.0\",\"error\":{\"code\":\"x\",\"message\":\"m\"},\"id\":1}", "error.code");
    BAL("[1,2]", "not an object");
    BAL("{", "not JSON");
#undef BAL

#define ACC(value, needle)                                                                                      \
    do {                                                                                                        \
        static const char j_[] = "{\"jsonrpc\":\"2.0\",\"result\":{\"context\":{\"slot\":1},\"value\":" value  \
                                 "},\"id\":1}";                                                                 \
        tcn_err_clear(&err);                                                                                    \
        expect_refused(tcn_chain_rpc_parse_get_account_info(j_, strlen(j_), 1, &slot, &acc, &re, &err), &err,   \
                       needle);                                                                                 \
        assert_null(acc.data);                                                                                  \
    } while (0)
#define GOOD_OWNER "\"owner\":\"11111111111111111111111111111111\""
    ACC("{\"data\":[\"AA==\",\"base58\"],\"executable\":false,\"lamports\":1," GOOD_OWNER ",\"rentEpoch\":0}",
        "result.value.data[1]: encoding");
    ACC("{\"data\":\"AA==\",\"executable\":false,\"lamports\":1," GOOD_OWNER ",\"rentEpoch\":0}",
        "result.value.data: not [text, encoding]");
    ACC("{\"data\":[\"A*==\",\"base64\"],\"executable\":false,\"lamports\":1," GOOD_OWNER ",\"rentEpoch\":0}",
        "result.value.data[0]");
    ACC("{\"data\":[\"AA==\",\"base64\"],\"executable\":false,\"lamports\":1," GOOD_OWNER
        ",\"rentEpoch\":0,\"space\":2}",
        "result.value.space: 2, data holds 1");
    ACC("{\"data\":[\"AA==\",\"base64\"],\"executable\":0,\"lamports\":1," GOOD_OWNER ",\"rentEpoch\":0}",
        "result.value.executable");
    ACC("{\"data\":[\"AA==\",\"base64\"],\"executable\":false,\"lamports\":1,\"owner\":\"1111\",\"rentEpoch\":0}",
        "result.value.owner: base58 decodes to 4 bytes, want 32");
    ACC("{\"data\":[\"AA==\",\"base64\"],\"executable\":false,\"lamports\":1,\"owner\":\"0OIl\",\"rentEpoch\":0}",
        "result.value.owner: base58: character 0");
    ACC("{\"data\":[\"AA==\",\"base64\"],\"executable\":false," GOOD_OWNER ",\"rentEpoch\":0}",
        "result.value.lamports");
    ACC("7", "neither null nor an object");
#undef ACC

    static const char short_sig[] = "{\"jsonrpc\":\"2.0\",\"result\":\"2g\",\"id\":1}";
    tcn_err_clear(&err);
    expect_refused(tcn_chain_rpc_parse_send_transaction(short_sig, strlen(short_sig), 1, &sig, &re, &err), &err,
                   "result: base58 decodes to 1 bytes, want 64");
    static const char bh[] = "{\"jsonrpc\":\"2.0\",\"result\":{\"context\":{\"slot\":1},\"value\":{\"blockhash\":"
                             "\"2g\",\"lastValidBlockHeight\":1}},\"id\":1}";
    expect_refused(tcn_chain_rpc_parse_get_latest_blockhash(bh, strlen(bh), 1, &slot, &h, &v, &re, &err), &err,
                   "result.value.blockhash");
    static const char n1[] = "{\"jsonrpc\":\"2.0\",\"result\":{\"context\":{\"slot\":1},\"value\":[null]},\"id\":1}";
    expect_refused(tcn_chain_rpc_parse_get_signature_statuses(n1, strlen(n1), 1, &slot, st, 2, &re, &err), &err,
                   "not an array of 2 entries");
    static const char cs[] = "{\"jsonrpc\":\"2.0\",\"result\":{\"context\":{\"slot\":1},\"value\":[null,{\"slot\":1,"
                             "\"err\":null,\"confirmationStatus\":\"maybe\"}]},\"id\":1}";
    expect_refused(tcn_chain_rpc_parse_get_signature_statuses(cs, strlen(cs), 1, &slot, st, 2, &re, &err), &err,
                   "result.value[1].confirmationStatus");
    static const char ie[] = "{\"jsonrpc\":\"2.0\",\"result\":{\"context\":{\"slot\":1},\"value\":[null,{\"slot\":1,"
                             "\"err\":{\"InstructionError\":[300,\"InvalidArgument\"]}}]},\"id\":1}";
    expect_refused(tcn_chain_rpc_parse_get_signature_statuses(ie, strlen(ie), 1, &slot, st, 2, &re, &err), &err,
                   "InstructionError[0]: 300 exceeds 255");
    static const char gs[] = "{\"jsonrpc\":\"2.0\",\"result\":\"12\",\"id\":1}";
    expect_refused(tcn_chain_rpc_parse_get_slot(gs, strlen(gs), 1, &slot, &re, &err), &err, "getSlot: result");
    /* numbers inside strings are left alone; a big one outside is read exactly */
    static const char str_big[] = "{\"jsonrpc\":\"2.0\",\"result\":\"18446744073709551615\",\"id\":1}";
    expect_refused(tcn_chain_rpc_parse_get_slot(str_big, strlen(str_big), 1, &slot, &re, &err), &err,
                   "not an unsigned integer");
    static const char big[] = "{\"jsonrpc\":\"2.0\",\"result\":9223372036854775808,\"id\":1}";
    assert_int_equal(tcn_chain_rpc_parse_get_slot(big, strlen(big), 1, &slot, &re, &err), TCN_OK);
    assert_true(slot == 9223372036854775808ull);
    static const char esc[] = "{\"jsonrpc\":\"2.0\",\"result\":12,\"id\":1,\"x\":\"\\\"99999999999999999999\"}";
    assert_int_equal(tcn_chain_rpc_parse_get_slot(esc, strlen(esc), 1, &slot, &re, &err), TCN_OK);
    assert_int_equal(slot, 12);
}

/* ---- the server's refusals -------------------------------------------------------- */

static void expect_served_error(tcn_chain_model *m, const char *req, int64_t code, const char *needle)
{
    g_req.len = 0;
    assert_int_equal(tcn_buf_append(&g_req, req, strlen(req)), TCN_OK);
    const char *a = roundtrip(m);
    char want[64];
    snprintf(want, sizeof(want), "\"code\":%lld", (long long)code);
    if (strstr(a, want) == NULL || strstr(a, needle) == NULL) {
        fprintf(stderr, "request %s\nanswer %s\nwant %s and '%s'\n", req, a, want, needle);
        fail();
    }
}

static void test_server_refusals(void **state)
{
    (void)state;
    tcn_chain_model *m;
    tcn_error err;
    assert_int_equal(tcn_chain_model_new("rpc test", 8, NULL, &m, &err), TCN_OK);
    expect_served_error(m, "{nope", TCN_CHAIN_RPC_PARSE_ERROR, "Parse error");
    expect_served_error(m, "[]", TCN_CHAIN_RPC_INVALID_REQUEST, "Invalid request");
    expect_served_error(m, "{\"jsonrpc\":\"1.0\",\"id\":1,\"method\":\"getSlot\"}", TCN_CHAIN_RPC_INVALID_REQUEST,
                        "Invalid request");
    expect_served_error(m, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"getBlock\"}", TCN_CHAIN_RPC_METHOD_NOT_FOUND,
                        "Method not found");
    expect_served_error(m, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"getBalance\",\"params\":[\"0OIl\"]}",
                        TCN_CHAIN_RPC_INVALID_PARAMS, "public key: base58");
    expect_served_error(m, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"getBalance\",\"params\":[]}",
                        TCN_CHAIN_RPC_INVALID_PARAMS, "pubkey: expected a string");
    expect_served_error(m, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"getSlot\",\"params\":[{},{}]}",
                        TCN_CHAIN_RPC_INVALID_PARAMS, "more than 1");
    expect_served_error(m,
                        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"sendTransaction\",\"params\":[\"AAAA\",{"
                        "\"encoding\":\"base64\"}]}",
                        TCN_CHAIN_RPC_INVALID_PARAMS, "invalid transaction: transaction: signatures.len");
    expect_served_error(m,
                        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"sendTransaction\",\"params\":[\"AAAA\",{"
                        "\"encoding\":\"hex\"}]}",
                        TCN_CHAIN_RPC_INVALID_PARAMS, "encoding");
    expect_served_error(m,
                        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"requestAirdrop\",\"params\":[\"11111111111111111"
                        "111111111111111\",-5]}",
                        TCN_CHAIN_RPC_INVALID_PARAMS, "lamports: negative");
    expect_served_error(m, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"getSignatureStatuses\",\"params\":[[\"2g\"]]}",
                        TCN_CHAIN_RPC_INVALID_PARAMS, "signatures[0]");
    /* an id given as a string comes back as that string */
    g_req.len = 0;
    static const char q[] = "{\"jsonrpc\":\"2.0\",\"id\":\"abc\",\"method\":\"getSlot\"}";
    assert_int_equal(tcn_buf_append(&g_req, q, strlen(q)), TCN_OK);
    const char *a = roundtrip(m);
    assert_non_null(strstr(a, "\"id\":\"abc\""));
    assert_non_null(strstr(a, "\"result\":0"));
    tcn_chain_model_free(m);
}

/* ---- getMultipleAccounts, minContextSlot, commitment ------------------------------ */

/* The request builders' JSON, read back with jansson. */
static json_t *built_request(void)
{
    json_error_t je;
    json_t *j = json_loadb((const char *)g_req.p, g_req.len, 0, &je);
    assert_non_null(j);
    g_req.len = 0;
    return j;
}

static void test_new_requests(void **state)
{
    (void)state;
    tcn_chain_pubkey pks[TCN_CHAIN_RPC_ACCOUNTS_MAX + 1];
    memset(pks, 0, sizeof(pks));
    tcn_chain_rpc_read r = {.commitment = TCN_CHAIN_COMMITMENT_FINALIZED, .min_context_slot = 42};

    /* getMultipleAccounts: [[keys], {"commitment", "minContextSlot", "encoding": "base64"}] */
    assert_int_equal(tcn_chain_rpc_request_get_multiple_accounts(&g_req, 5, pks, 2, &r), TCN_OK);
    json_t *j = built_request();
    assert_string_equal(json_string_value(json_object_get(j, "method")), "getMultipleAccounts");
    assert_int_equal(json_integer_value(json_object_get(j, "id")), 5);
    const json_t *params = json_object_get(j, "params");
    assert_int_equal(json_array_size(params), 2);
    assert_int_equal(json_array_size(json_array_get(params, 0)), 2);
    assert_string_equal(json_string_value(json_array_get(json_array_get(params, 0), 0)),
                        "11111111111111111111111111111111");
    const json_t *cfg = json_array_get(params, 1);
    assert_int_equal(json_object_size(cfg), 3);
    assert_string_equal(json_string_value(json_object_get(cfg, "commitment")), "finalized");
    assert_string_equal(json_string_value(json_object_get(cfg, "encoding")), "base64");
    assert_int_equal(json_integer_value(json_object_get(cfg, "minContextSlot")), 42);
    json_decref(j);
    /* 1..100 keys; a zero read (NULL) is finalized without minContextSlot */
    assert_int_equal(tcn_chain_rpc_request_get_multiple_accounts(&g_req, 5, pks, 0, &r), TCN_ERR_USAGE);
    assert_int_equal(tcn_chain_rpc_request_get_multiple_accounts(&g_req, 5, pks, TCN_CHAIN_RPC_ACCOUNTS_MAX + 1, &r),
                     TCN_ERR_USAGE);
    assert_int_equal(g_req.len, 0);
    assert_int_equal(tcn_chain_rpc_request_get_multiple_accounts(&g_req, 5, pks, TCN_CHAIN_RPC_ACCOUNTS_MAX, NULL),
                     TCN_OK);
    j = built_request();
    cfg = json_array_get(json_object_get(j, "params"), 1);
    assert_null(json_object_get(cfg, "minContextSlot"));
    assert_string_equal(json_string_value(json_object_get(cfg, "commitment")), "finalized");
    json_decref(j);
    tcn_chain_rpc_read bad = {.commitment = (tcn_chain_commitment)7};
    assert_int_equal(tcn_chain_rpc_request_get_slot_cfg(&g_req, 1, &bad), TCN_ERR_USAGE);

    /* getSlot / getLatestBlockhash: [{"commitment", "minContextSlot"}] */
    r.commitment = TCN_CHAIN_COMMITMENT_CONFIRMED;
    assert_int_equal(tcn_chain_rpc_request_get_slot_cfg(&g_req, 6, &r), TCN_OK);
    j = built_request();
    cfg = json_array_get(json_object_get(j, "params"), 0);
    assert_string_equal(json_string_value(json_object_get(cfg, "commitment")), "confirmed");
    assert_int_equal(json_integer_value(json_object_get(cfg, "minContextSlot")), 42);
    json_decref(j);
    assert_int_equal(tcn_chain_rpc_request_get_latest_blockhash_cfg(&g_req, 7, &r), TCN_OK);
    j = built_request();
    assert_string_equal(json_string_value(json_object_get(j, "method")), "getLatestBlockhash");
    json_decref(j);

    /* getSignatureStatuses: [[sigs], {"searchTransactionHistory": true, "minContextSlot"}] */
    tcn_chain_signature sig;
    memset(&sig, 0x42, sizeof(sig));
    assert_int_equal(tcn_chain_rpc_request_get_signature_statuses_cfg(&g_req, 8, &sig, 1, true, 9), TCN_OK);
    j = built_request();
    cfg = json_array_get(json_object_get(j, "params"), 1);
    assert_int_equal(json_object_size(cfg), 2);
    assert_true(json_is_true(json_object_get(cfg, "searchTransactionHistory")));
    assert_int_equal(json_integer_value(json_object_get(cfg, "minContextSlot")), 9);
    json_decref(j);
    assert_int_equal(tcn_chain_rpc_request_get_signature_statuses_cfg(&g_req, 8, &sig, 1, false, 0), TCN_OK);
    j = built_request();
    cfg = json_array_get(json_object_get(j, "params"), 1);
    assert_int_equal(json_object_size(cfg), 1);
    assert_true(json_is_false(json_object_get(cfg, "searchTransactionHistory")));
    json_decref(j);

    /* sendTransaction: preflightCommitment is the read's level */
    uint8_t wire[8] = {0};
    r.commitment = TCN_CHAIN_COMMITMENT_FINALIZED;
    r.min_context_slot = 0;
    assert_int_equal(tcn_chain_rpc_request_send_transaction_cfg(&g_req, 9, wire, sizeof(wire), true, &r), TCN_OK);
    j = built_request();
    cfg = json_array_get(json_object_get(j, "params"), 1);
    assert_string_equal(json_string_value(json_object_get(cfg, "preflightCommitment")), "finalized");
    assert_true(json_is_true(json_object_get(cfg, "skipPreflight")));
    assert_string_equal(json_string_value(json_object_get(cfg, "encoding")), "base64");
    assert_null(json_object_get(cfg, "minContextSlot"));
    json_decref(j);

    /* the names */
    tcn_chain_commitment c;
    assert_true(tcn_chain_commitment_from_name("processed", &c) && c == TCN_CHAIN_COMMITMENT_PROCESSED);
    assert_false(tcn_chain_commitment_from_name("max", &c));
    assert_false(tcn_chain_commitment_from_name("Finalized", &c));
    assert_null(tcn_chain_commitment_name((tcn_chain_commitment)3));
}

/* Answers shaped as Solana's docs show them (https://solana.com/docs/rpc/http/getmultipleaccounts:
 * context with apiVersion, a null entry for a missing account, rentEpoch = u64::MAX, space), and
 * the -32016 error as Agave's rpc_custom_error.rs words it (data.contextSlot). */
static void test_multiple_accounts_shapes(void **state)
{
    (void)state;
    tcn_chain_rpc_error re;
    tcn_error err;
    uint64_t slot;
    tcn_chain_rpc_account acc[3];

    static const char ok[] =
        "{\"jsonrpc\":\"2.0\",\"result\":{\"context\":{\"apiVersion\":\"2.1.21\",\"slot\":335501794},\"value\":[null,"
        "{\"data\":[\"\",\"base64\"],\"executable\":false,\"lamports\":2000000,\"owner\":"
        "\"11111111111111111111111111111111\",\"rentEpoch\":18446744073709551615,\"space\":0}]},\"id\":1}";
    assert_int_equal(tcn_chain_rpc_parse_get_multiple_accounts(ok, strlen(ok), 1, &slot, acc, 2, &re, &err), TCN_OK);
    assert_false(re.present);
    assert_int_equal(slot, 335501794);
    assert_false(acc[0].exists);
    assert_true(acc[1].exists);
    assert_int_equal(acc[1].lamports, 2000000);
    assert_true(acc[1].rent_epoch == UINT64_MAX);
    assert_int_equal(acc[1].data_len, 0);
    assert_true(tcn_chain_pubkey_eq(&acc[1].owner, &tcn_chain_system_program_id));
    tcn_chain_rpc_account_free(&acc[0]);
    tcn_chain_rpc_account_free(&acc[1]);

    /* an account with data, read exactly */
    static const char data[] =
        "{\"jsonrpc\":\"2.0\",\"result\":{\"context\":{\"slot\":7},\"value\":[{\"data\":[\"AQIDBA==\",\"base64\"],"
        "\"executable\":false,\"lamports\":1,\"owner\":\"11111111111111111111111111111111\",\"rentEpoch\":0,"
        "\"space\":4}]},\"id\":2}";
    assert_int_equal(tcn_chain_rpc_parse_get_multiple_accounts(data, strlen(data), 2, &slot, acc, 1, &re, &err),
                     TCN_OK);
    assert_int_equal(acc[0].data_len, 4);
    assert_memory_equal(acc[0].data, "\x01\x02\x03\x04", 4);
    tcn_chain_rpc_account_free(&acc[0]);

    /* the node behind minContextSlot */
    static const char behind[] = "{\"jsonrpc\":\"2.0\",\"error\":{\"code\":-32016,\"message\":\"Minimum context "
                                 "slot has not been reached\",\"data\":{\"contextSlot\":335501700}},\"id\":3}";
    assert_int_equal(tcn_chain_rpc_parse_get_multiple_accounts(behind, strlen(behind), 3, &slot, acc, 2, &re, &err),
                     TCN_OK);
    assert_true(re.present);
    assert_int_equal(re.code, TCN_CHAIN_RPC_MIN_CONTEXT_SLOT_NOT_REACHED);
    assert_string_equal(re.message, "Minimum context slot has not been reached");
    assert_true(re.has_context_slot);
    assert_int_equal(re.context_slot, 335501700);
    assert_false(acc[0].exists || acc[1].exists);
    /* ... also without data (older nodes), and for getSignatureStatuses */
    static const char bare[] = "{\"jsonrpc\":\"2.0\",\"error\":{\"code\":-32016,\"message\":\"Minimum context slot has "
                               "not been reached\"},\"id\":3}";
    tcn_chain_rpc_status st[1];
    assert_int_equal(tcn_chain_rpc_parse_get_signature_statuses(bare, strlen(bare), 3, &slot, st, 1, &re, &err),
                     TCN_OK);
    assert_true(re.present && re.code == TCN_CHAIN_RPC_MIN_CONTEXT_SLOT_NOT_REACHED && !re.has_context_slot);

#define GMA(json, n, needle)                                                                                        \
    do {                                                                                                            \
        static const char j_[] = json;                                                                              \
        tcn_err_clear(&err);                                                                                        \
        expect_refused(tcn_chain_rpc_parse_get_multiple_accounts(j_, strlen(j_), 1, &slot, acc, n, &re, &err), &err, \
                       needle);                                                                                     \
        for (size_t i_ = 0; i_ < (n); i_++)                                                                         \
            assert_null(acc[i_].data);                                                                              \
    } while (0)
    /* the docs' own example shows "space": 80 beside empty data (it was read with a dataSlice); we never ask
     * for a slice, so data and space must agree */
    GMA("{\"jsonrpc\":\"2.0\",\"result\":{\"context\":{\"slot\":1},\"value\":[null,{\"data\":[\"\",\"base64\"],"
        "\"executable\":false,\"lamports\":2000000,\"owner\":\"11111111111111111111111111111111\",\"rentEpoch\":0,"
        "\"space\":80}]},\"id\":1}",
        2, "getMultipleAccounts: result.value[1].space: 80, data holds 0");
    GMA("{\"jsonrpc\":\"2.0\",\"result\":{\"context\":{\"slot\":1},\"value\":[null]},\"id\":1}", 2,
        "getMultipleAccounts: result.value: not an array of 2 entries");
    GMA("{\"jsonrpc\":\"2.0\",\"result\":{\"context\":{\"slot\":1},\"value\":null},\"id\":1}", 1,
        "result.value: not an array of 1 entries");
    GMA("{\"jsonrpc\":\"2.0\",\"result\":{\"context\":{\"slot\":1},\"value\":[7]},\"id\":1}", 1,
        "result.value[0]: neither null nor an object");
    /* the first entry decoded (data allocated), the second bad: nothing left allocated */
    GMA("{\"jsonrpc\":\"2.0\",\"result\":{\"context\":{\"slot\":1},\"value\":[{\"data\":[\"AQID\",\"base64\"],"
        "\"executable\":false,\"lamports\":1,\"owner\":\"11111111111111111111111111111111\",\"rentEpoch\":0},"
        "{\"data\":[\"AA==\",\"base64\"],\"executable\":false,\"lamports\":1,\"owner\":\"1111\",\"rentEpoch\":0}]},"
        "\"id\":1}",
        2, "result.value[1].owner: base58 decodes to 4 bytes, want 32");
    GMA("{\"jsonrpc\":\"2.0\",\"result\":{\"context\":{\"slot\":1},\"value\":[{\"data\":[\"AA==\",\"base58\"],"
        "\"executable\":false,\"lamports\":1,\"owner\":\"11111111111111111111111111111111\",\"rentEpoch\":0}]},"
        "\"id\":1}",
        1, "result.value[0].data[1]: encoding \"base58\", want base64");
    GMA("{\"jsonrpc\":\"2.0\",\"result\":{\"context\":{\"slot\":1},\"value\":[{\"data\":[\"AA==\",\"base64\"],"
        "\"executable\":false,\"owner\":\"11111111111111111111111111111111\",\"rentEpoch\":0}]},\"id\":1}",
        1, "result.value[0].lamports");
    GMA("{\"jsonrpc\":\"2.0\",\"result\":{\"context\":{\"slot\":-1},\"value\":[null]},\"id\":1}", 1,
        "result.context.slot: negative");
    GMA("{\"jsonrpc\":\"2.0\",\"error\":{\"code\":-32016,\"message\":\"m\",\"data\":{\"contextSlot\":\"x\"}},\"id\":1}",
        1, "error.data.contextSlot");
#undef GMA
}

/* The model's server: getMultipleAccounts read in one slot, minContextSlot refused with -32016 by every
 * method that takes it, commitment names checked, configuration keys strict. */
static void test_serve_new_params(void **state)
{
    (void)state;
    tcn_chain_model *m;
    tcn_error err;
    assert_int_equal(tcn_chain_model_new("rpc test", 8, NULL, &m, &err), TCN_OK);
    tcn_chain_pubkey pks[3];
    memset(pks, 0, sizeof(pks));
    pks[0].b[0] = 1;
    pks[1].b[0] = 2;
    pks[2].b[0] = 3;
    static const uint8_t bytes[5] = {9, 8, 7, 6, 5};
    assert_int_equal(tcn_chain_model_airdrop(m, &pks[0], 1000000, &err), TCN_OK);
    assert_int_equal(tcn_chain_model_set_account(m, &pks[2], 2000000, NULL, bytes, sizeof(bytes), &err), TCN_OK);
    for (int i = 0; i < 3; i++)
        tcn_chain_model_advance_slot(m);

    tcn_chain_rpc_read r = {.commitment = TCN_CHAIN_COMMITMENT_FINALIZED, .min_context_slot = 3};
    tcn_chain_rpc_account acc[3];
    tcn_chain_rpc_error re;
    uint64_t slot, id = ++g_id;
    assert_int_equal(tcn_chain_rpc_request_get_multiple_accounts(&g_req, id, pks, 3, &r), TCN_OK);
    const char *a = roundtrip(m);
    assert_int_equal(tcn_chain_rpc_parse_get_multiple_accounts(a, strlen(a), id, &slot, acc, 3, &re, &err), TCN_OK);
    assert_false(re.present);
    assert_int_equal(slot, 3);
    assert_true(acc[0].exists && acc[0].lamports == 1000000 && acc[0].data_len == 0);
    assert_false(acc[1].exists);
    assert_true(acc[2].exists && acc[2].lamports == 2000000 && acc[2].data_len == sizeof(bytes));
    assert_memory_equal(acc[2].data, bytes, sizeof(bytes));
    for (int i = 0; i < 3; i++)
        tcn_chain_rpc_account_free(&acc[i]);

    /* minContextSlot above the model's slot: -32016 with the slot it is at */
    r.min_context_slot = 4;
    id = ++g_id;
    assert_int_equal(tcn_chain_rpc_request_get_multiple_accounts(&g_req, id, pks, 3, &r), TCN_OK);
    a = roundtrip(m);
    assert_int_equal(tcn_chain_rpc_parse_get_multiple_accounts(a, strlen(a), id, &slot, acc, 3, &re, &err), TCN_OK);
    assert_true(re.present);
    assert_int_equal(re.code, TCN_CHAIN_RPC_MIN_CONTEXT_SLOT_NOT_REACHED);
    assert_true(re.has_context_slot);
    assert_int_equal(re.context_slot, 3);
    id = ++g_id;
    assert_int_equal(tcn_chain_rpc_request_get_slot_cfg(&g_req, id, &r), TCN_OK);
    a = roundtrip(m);
    assert_int_equal(tcn_chain_rpc_parse_get_slot(a, strlen(a), id, &slot, &re, &err), TCN_OK);
    assert_true(re.present && re.code == TCN_CHAIN_RPC_MIN_CONTEXT_SLOT_NOT_REACHED);
    tcn_chain_hash h;
    uint64_t last;
    id = ++g_id;
    assert_int_equal(tcn_chain_rpc_request_get_latest_blockhash_cfg(&g_req, id, &r), TCN_OK);
    a = roundtrip(m);
    assert_int_equal(tcn_chain_rpc_parse_get_latest_blockhash(a, strlen(a), id, &slot, &h, &last, &re, &err), TCN_OK);
    assert_true(re.present && re.code == TCN_CHAIN_RPC_MIN_CONTEXT_SLOT_NOT_REACHED);
    tcn_chain_signature sig;
    tcn_chain_rpc_status st;
    memset(&sig, 0x42, sizeof(sig));
    id = ++g_id;
    assert_int_equal(tcn_chain_rpc_request_get_signature_statuses_cfg(&g_req, id, &sig, 1, true, 4), TCN_OK);
    a = roundtrip(m);
    assert_int_equal(tcn_chain_rpc_parse_get_signature_statuses(a, strlen(a), id, &slot, &st, 1, &re, &err), TCN_OK);
    assert_true(re.present && re.code == TCN_CHAIN_RPC_MIN_CONTEXT_SLOT_NOT_REACHED && re.context_slot == 3);
    /* ... and at the slot itself it answers */
    id = ++g_id;
    assert_int_equal(tcn_chain_rpc_request_get_signature_statuses_cfg(&g_req, id, &sig, 1, true, 3), TCN_OK);
    a = roundtrip(m);
    assert_int_equal(tcn_chain_rpc_parse_get_signature_statuses(a, strlen(a), id, &slot, &st, 1, &re, &err), TCN_OK);
    assert_false(re.present);
    assert_int_equal(slot, 3);
    assert_false(st.found);

    /* every commitment level reads the same (the model has one) */
    for (int c = 0; c < 3; c++) {
        tcn_chain_rpc_read rc = {.commitment = (tcn_chain_commitment)c};
        id = ++g_id;
        assert_int_equal(tcn_chain_rpc_request_get_slot_cfg(&g_req, id, &rc), TCN_OK);
        a = roundtrip(m);
        assert_int_equal(tcn_chain_rpc_parse_get_slot(a, strlen(a), id, &slot, &re, &err), TCN_OK);
        assert_false(re.present);
        assert_int_equal(slot, 3);
    }

#define REQ(method, params) "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"" method "\",\"params\":" params "}"
#define K1 "\"11111111111111111111111111111111\""
    expect_served_error(m, REQ("getMultipleAccounts", "[[" K1 "],{\"encoding\":\"base64\",\"dataSlice\":{}}]"),
                        TCN_CHAIN_RPC_INVALID_PARAMS, "unknown field `dataSlice`");
    expect_served_error(m, REQ("getMultipleAccounts", "[[" K1 "],{\"commitment\":\"max\"}]"),
                        TCN_CHAIN_RPC_INVALID_PARAMS, "commitment: expected processed, confirmed or finalized");
    expect_served_error(m, REQ("getMultipleAccounts", "[[" K1 "],{\"commitment\":1}]"), TCN_CHAIN_RPC_INVALID_PARAMS,
                        "commitment");
    expect_served_error(m, REQ("getMultipleAccounts", "[[" K1 "],{\"minContextSlot\":-1}]"),
                        TCN_CHAIN_RPC_INVALID_PARAMS, "minContextSlot: negative");
    expect_served_error(m, REQ("getMultipleAccounts", "[[" K1 "],{\"minContextSlot\":\"5\"}]"),
                        TCN_CHAIN_RPC_INVALID_PARAMS, "minContextSlot: not an unsigned integer");
    expect_served_error(m, REQ("getMultipleAccounts", "[[" K1 "],{\"encoding\":\"jsonParsed\"}]"),
                        TCN_CHAIN_RPC_INVALID_PARAMS, "encoding");
    expect_served_error(m, REQ("getMultipleAccounts", "[" K1 "]"), TCN_CHAIN_RPC_INVALID_PARAMS,
                        "pubkeys: expected an array");
    expect_served_error(m, REQ("getMultipleAccounts", "[[" K1 ",\"0OIl\"]]"), TCN_CHAIN_RPC_INVALID_PARAMS,
                        "pubkeys[1]");
    expect_served_error(m, REQ("getMultipleAccounts", "[[" K1 ",5]]"), TCN_CHAIN_RPC_INVALID_PARAMS,
                        "pubkeys[1]: expected a string");
    expect_served_error(m, REQ("getMultipleAccounts", "[[" K1 "],{},{}]"), TCN_CHAIN_RPC_INVALID_PARAMS,
                        "more than 2");
    expect_served_error(m, REQ("getSignatureStatuses", "[[],{\"searchTransactionHistory\":\"yes\"}]"),
                        TCN_CHAIN_RPC_INVALID_PARAMS, "searchTransactionHistory: expected a boolean");
    expect_served_error(m, REQ("getSignatureStatuses", "[[],{\"commitment\":\"finalized\"}]"),
                        TCN_CHAIN_RPC_INVALID_PARAMS, "unknown field `commitment`");
    expect_served_error(m, REQ("getSlot", "[{\"commitment\":\"recent\"}]"), TCN_CHAIN_RPC_INVALID_PARAMS,
                        "commitment: expected");
    expect_served_error(m, REQ("getSlot", "[{\"comitment\":\"finalized\"}]"), TCN_CHAIN_RPC_INVALID_PARAMS,
                        "unknown field `comitment`");
    expect_served_error(m, REQ("getBalance", "[" K1 ",{\"minContextSlot\":99}]"),
                        TCN_CHAIN_RPC_MIN_CONTEXT_SLOT_NOT_REACHED, "Minimum context slot has not been reached");
    expect_served_error(m, REQ("getAccountInfo", "[" K1 ",{\"minContextSlot\":99}]"),
                        TCN_CHAIN_RPC_MIN_CONTEXT_SLOT_NOT_REACHED, "\"contextSlot\":3");
    expect_served_error(m, REQ("sendTransaction", "[\"AAAA\",{\"preflightCommitment\":\"rooted\"}]"),
                        TCN_CHAIN_RPC_INVALID_PARAMS, "preflightCommitment: expected");
    expect_served_error(m, REQ("sendTransaction", "[\"AAAA\",{\"maxRetries\":-1}]"), TCN_CHAIN_RPC_INVALID_PARAMS,
                        "maxRetries: negative");
    /* 101 keys */
    tcn_buf big = {0};
    static const char head[] = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"getMultipleAccounts\",\"params\":[[";
    assert_int_equal(tcn_buf_append(&big, head, strlen(head)), TCN_OK);
    for (int i = 0; i <= (int)TCN_CHAIN_RPC_ACCOUNTS_MAX; i++) {
        if (i > 0)
            assert_int_equal(tcn_buf_u8(&big, ','), TCN_OK);
        assert_int_equal(tcn_buf_append(&big, K1, strlen(K1)), TCN_OK);
    }
    assert_int_equal(tcn_buf_append(&big, "]]}", 4), TCN_OK); /* with the NUL */
    expect_served_error(m, (const char *)big.p, TCN_CHAIN_RPC_INVALID_PARAMS, "Too many inputs provided; max 100");
    tcn_buf_free(&big);
#undef K1
#undef REQ
    tcn_chain_model_free(m);
}

static int teardown(void **state)
{
    (void)state;
    tcn_buf_free(&g_req);
    tcn_buf_free(&g_ans);
    return 0;
}

int main(void)
{
    if (tcn_crypto_init() != TCN_OK)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_solana_shapes),
        cmocka_unit_test(test_answer_refusals),
        cmocka_unit_test(test_server_refusals),
        cmocka_unit_test(test_new_requests),
        cmocka_unit_test(test_multiple_accounts_shapes),
        cmocka_unit_test(test_serve_new_params),
    };
    return cmocka_run_group_tests(tests, NULL, teardown);
}
