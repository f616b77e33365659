/* Unit tests for the JSON-RPC transport over loopback: the chain model
 * served by tcn_chain_rpc_server (evhttp, background thread) and called
 * through tcn_chain_rpc_call (libcurl) — getSlot, getLatestBlockhash,
 * requestAirdrop + getBalance, a signed transfer landing and its
 * resubmission; and the refusals: connection refused, an answer above the
 * limit, a URL that is not http(s), GET (405), a wrong path (404), a body
 * that is not JSON (400) or too large (413). Only 127.0.0.1. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "chain/keypair.h"
#include "chain/limits.h"
#include "chain/model.h"
#include "chain/rpc.h"
#include "chain/rpc_server.h"
#include "chain/system.h"
#include "chain/transaction.h"
#include "testlib.h"
#include "util/buf.h"
#include "util/secmem.h"

#define TIMEOUT_MS 5000L

typedef struct fixture {
    tcn_chain_model *m;
    tcn_chain_rpc_server *srv;
    char url[64];
    tcn_buf req, ans;
    uint64_t id;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    tcn_error err;
    uint16_t port = 0;
    assert_non_null(f);
    assert_int_equal(tcn_chain_model_new("rpc http test", 13, NULL, &f->m, &err), TCN_OK);
    if (tcn_chain_rpc_server_start(f->m, "127.0.0.1", 0, &f->srv, &port, &err) != TCN_OK) {
        fprintf(stderr, "%s\n", err.msg);
        return -1;
    }
    assert_true(port != 0);
    snprintf(f->url, sizeof(f->url), "http://127.0.0.1:%u/", (unsigned)port);
    f->id = 500;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    tcn_chain_rpc_server_stop(f->srv);
    tcn_chain_model_free(f->m);
    tcn_buf_free(&f->req);
    tcn_buf_free(&f->ans);
    free(f);
    return 0;
}

/* Posts f->req to the server; returns the answer text. */
static const char *call(fixture *f)
{
    tcn_error err;
    if (tcn_chain_rpc_call(f->url, &f->req, &f->ans, TIMEOUT_MS, &err) != TCN_OK) {
        fprintf(stderr, "%s\n", err.msg);
        fail();
    }
    f->req.len = 0;
    return (const char *)f->ans.p;
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

static uint64_t balance(fixture *f, const tcn_chain_pubkey *pk)
{
    uint64_t slot, lamports, id = ++f->id;
    tcn_chain_rpc_error re;
    tcn_error err;
    assert_int_equal(tcn_chain_rpc_request_get_balance(&f->req, id, pk), TCN_OK);
    const char *a = call(f);
    assert_int_equal(tcn_chain_rpc_parse_get_balance(a, f->ans.len, id, &slot, &lamports, &re, &err), TCN_OK);
    assert_false(re.present);
    return lamports;
}

static bool send_tx(fixture *f, const tcn_chain_tx *tx, tcn_chain_signature *sig, tcn_chain_rpc_error *re)
{
    tcn_buf wire = {0};
    tcn_error err;
    uint64_t id = ++f->id;
    assert_int_equal(tcn_chain_tx_encode(tx, &wire, &err), TCN_OK);
    assert_int_equal(tcn_chain_rpc_request_send_transaction(&f->req, id, wire.p, wire.len, false), TCN_OK);
    tcn_buf_free(&wire);
    const char *a = call(f);
    assert_int_equal(tcn_chain_rpc_parse_send_transaction(a, f->ans.len, id, sig, re, &err), TCN_OK);
    return !re->present;
}

static void test_methods(void **state)
{
    fixture *f = *state;
    tcn_error err;
    tcn_chain_rpc_error re;
    tcn_chain_keypair *payer = key(0x91);
    const tcn_chain_pubkey *pp = tcn_chain_keypair_pubkey(payer);
    tcn_chain_pubkey dest;
    memset(dest.b, 0x0e, sizeof(dest.b));

    /* getSlot */
    uint64_t slot = 99, id = ++f->id;
    assert_int_equal(tcn_chain_rpc_request_get_slot(&f->req, id), TCN_OK);
    const char *a = call(f);
    assert_int_equal(tcn_chain_rpc_parse_get_slot(a, f->ans.len, id, &slot, &re, &err), TCN_OK);
    assert_false(re.present);
    assert_int_equal(slot, 0);

    /* getLatestBlockhash */
    tcn_chain_hash bh;
    uint64_t last;
    id = ++f->id;
    assert_int_equal(tcn_chain_rpc_request_get_latest_blockhash(&f->req, id), TCN_OK);
    a = call(f);
    assert_int_equal(tcn_chain_rpc_parse_get_latest_blockhash(a, f->ans.len, id, &slot, &bh, &last, &re, &err),
                     TCN_OK);
    assert_false(re.present);
    assert_int_equal(last, slot + TCN_CHAIN_MAX_PROCESSING_AGE);

    /* requestAirdrop + getBalance */
    tcn_chain_signature sig;
    id = ++f->id;
    assert_int_equal(tcn_chain_rpc_request_request_airdrop(&f->req, id, pp, 10000000000ull), TCN_OK);
    a = call(f);
    assert_int_equal(tcn_chain_rpc_parse_request_airdrop(a, f->ans.len, id, &sig, &re, &err), TCN_OK);
    assert_false(re.present);
    assert_int_equal(balance(f, pp), 10000000000ull);

    /* sendTransaction: a signed transfer */
    tcn_chain_ix ix;
    tcn_chain_message msg;
    tcn_chain_tx tx;
    tcn_chain_system_transfer(&ix, pp, &dest, 3000000);
    assert_int_equal(tcn_chain_message_compile(pp, &bh, &ix, 1, &msg, &err), TCN_OK);
    tcn_chain_tx_init(&tx, &msg);
    assert_int_equal(tcn_chain_tx_sign(&tx, (const tcn_chain_keypair *const[]){payer}, 1, &err), TCN_OK);
    assert_true(send_tx(f, &tx, &sig, &re));
    assert_true(tcn_chain_signature_eq(&sig, tcn_chain_tx_id(&tx)));

    /* getSignatureStatuses: it landed */
    tcn_chain_rpc_status st[2];
    tcn_chain_signature sigs[2];
    sigs[0] = sig;
    memset(&sigs[1], 0x42, sizeof(sigs[1]));
    id = ++f->id;
    assert_int_equal(tcn_chain_rpc_request_get_signature_statuses(&f->req, id, sigs, 2), TCN_OK);
    a = call(f);
    assert_int_equal(tcn_chain_rpc_parse_get_signature_statuses(a, f->ans.len, id, &slot, st, 2, &re, &err), TCN_OK);
    assert_false(re.present);
    assert_true(st[0].found);
    assert_int_equal(st[0].err.kind, TCN_CHAIN_TX_OK);
    assert_false(st[1].found);
    assert_int_equal(balance(f, &dest), 3000000);

    /* resubmitted: AlreadyProcessed, refused by preflight, as the model answers */
    assert_false(send_tx(f, &tx, &sig, &re));
    assert_int_equal(re.code, TCN_CHAIN_RPC_PREFLIGHT_FAILURE);
    assert_true(re.has_tx_err);
    assert_int_equal(re.tx_err.kind, TCN_CHAIN_TXERR_ALREADY_PROCESSED);
    assert_int_equal(balance(f, &dest), 3000000);

    tcn_chain_keypair_free(payer);
}

static void expect_fail(int rc, const tcn_error *err, int code, const char *needle)
{
    if (rc != code || strstr(err->msg, needle) == NULL) {
        fprintf(stderr, "rc %d (want %d): %s (want \"%s\")\n", rc, code, err->msg, needle);
        fail();
    }
}

static void test_transport_refusals(void **state)
{
    fixture *f = *state;
    tcn_error err;

    /* connection refused: the server's own port after it is stopped */
    tcn_chain_model *m2;
    tcn_chain_rpc_server *s2;
    uint16_t port2;
    char url2[64];
    assert_int_equal(tcn_chain_model_new("other", 5, NULL, &m2, &err), TCN_OK);
    assert_int_equal(tcn_chain_rpc_server_start(m2, "127.0.0.1", 0, &s2, &port2, &err), TCN_OK);
    tcn_chain_rpc_server_stop(s2);
    tcn_chain_model_free(m2);
    snprintf(url2, sizeof(url2), "http://127.0.0.1:%u/", (unsigned)port2);
    assert_int_equal(tcn_chain_rpc_request_get_slot(&f->req, 1), TCN_OK);
    expect_fail(tcn_chain_rpc_call(url2, &f->req, &f->ans, TIMEOUT_MS, &err), &err, TCN_ERR_IO, "connect");

    /* an answer above the limit */
    expect_fail(tcn_chain_rpc_call_max(f->url, &f->req, &f->ans, TIMEOUT_MS, 16, &err), &err, TCN_ERR_TOO_LARGE,
                "too large");
    /* the same request within the limit is fine */
    assert_int_equal(tcn_chain_rpc_call(f->url, &f->req, &f->ans, TIMEOUT_MS, &err), TCN_OK);
    assert_int_equal(strlen((const char *)f->ans.p), f->ans.len);

    /* only http(s), a positive timeout */
    expect_fail(tcn_chain_rpc_call("ftp://127.0.0.1/", &f->req, &f->ans, TIMEOUT_MS, &err), &err, TCN_ERR_USAGE,
                "http://");
    expect_fail(tcn_chain_rpc_call("file:///etc/passwd", &f->req, &f->ans, TIMEOUT_MS, &err), &err, TCN_ERR_USAGE,
                "http://");
    expect_fail(tcn_chain_rpc_call(f->url, &f->req, &f->ans, 0, &err), &err, TCN_ERR_USAGE, "timeout");

    /* wrong path: 404 with a JSON-RPC error body */
    char url404[80];
    snprintf(url404, sizeof(url404), "%sother", f->url);
    expect_fail(tcn_chain_rpc_call(url404, &f->req, &f->ans, TIMEOUT_MS, &err), &err, TCN_ERR_IO, "HTTP status 404");
    assert_non_null(strstr((const char *)f->ans.p, "\"code\":-32600"));

    /* not JSON: 400 with the model's parse error */
    tcn_buf bad = {0};
    assert_int_equal(tcn_buf_append(&bad, "{not json", 9), TCN_OK);
    expect_fail(tcn_chain_rpc_call(f->url, &bad, &f->ans, TIMEOUT_MS, &err), &err, TCN_ERR_IO, "HTTP status 400");
    assert_non_null(strstr((const char *)f->ans.p, "-32700"));

    /* too large: 413 (JSON body up to twice the limit; libevent's own beyond) */
    bad.len = 0;
    assert_int_equal(tcn_buf_reserve(&bad, TCN_CHAIN_RPC_SERVER_BODY_BYTES_MAX + 1), TCN_OK);
    memset(bad.p, ' ', TCN_CHAIN_RPC_SERVER_BODY_BYTES_MAX + 1);
    bad.len = TCN_CHAIN_RPC_SERVER_BODY_BYTES_MAX + 1;
    expect_fail(tcn_chain_rpc_call(f->url, &bad, &f->ans, TIMEOUT_MS, &err), &err, TCN_ERR_IO, "HTTP status 413");
    assert_non_null(strstr((const char *)f->ans.p, "too large"));
    bad.len = 0;
    assert_int_equal(tcn_buf_reserve(&bad, TCN_CHAIN_RPC_SERVER_BODY_BYTES_MAX * 3), TCN_OK);
    memset(bad.p, ' ', TCN_CHAIN_RPC_SERVER_BODY_BYTES_MAX * 3);
    bad.len = TCN_CHAIN_RPC_SERVER_BODY_BYTES_MAX * 3;
    expect_fail(tcn_chain_rpc_call(f->url, &bad, &f->ans, TIMEOUT_MS, &err), &err, TCN_ERR_IO, "HTTP status 413");
    tcn_buf_free(&bad);
}

static size_t discard(char *p, size_t size, size_t n, void *userdata)
{
    tcn_buf *b = userdata;
    return tcn_buf_append(b, p, size * n) == TCN_OK ? size * n : 0;
}

/* GET is answered 405 (curl directly: tcn_chain_rpc_call only POSTs). */
static void test_get_405(void **state)
{
    fixture *f = *state;
    CURL *c = curl_easy_init();
    assert_non_null(c);
    f->ans.len = 0;
    assert_int_equal(curl_easy_setopt(c, CURLOPT_URL, f->url), CURLE_OK);
    assert_int_equal(curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard), CURLE_OK);
    assert_int_equal(curl_easy_setopt(c, CURLOPT_WRITEDATA, &f->ans), CURLE_OK);
    assert_int_equal(curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, TIMEOUT_MS), CURLE_OK);
    assert_int_equal(curl_easy_perform(c), CURLE_OK);
    long status = 0;
    assert_int_equal(curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status), CURLE_OK);
    assert_int_equal(status, 405);
    curl_easy_cleanup(c);
    assert_int_equal(tcn_buf_u8(&f->ans, 0), TCN_OK);
    assert_non_null(strstr((const char *)f->ans.p, "\"jsonrpc\":\"2.0\""));
    assert_non_null(strstr((const char *)f->ans.p, "use POST"));
}

int main(void)
{
    tcn_error err;
    if (tcn_crypto_init() != TCN_OK)
        return 1;
    if (tcn_chain_rpc_http_global_init(&err) != TCN_OK) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_methods, setup, teardown),
        cmocka_unit_test_setup_teardown(test_transport_refusals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_get_405, setup, teardown),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    tcn_chain_rpc_http_global_cleanup();
    return rc;
}
