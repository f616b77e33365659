/* JSON-RPC client codec for the Solana method subset of DESIGN §8 (Solana
 * docs "RPC HTTP methods"): request builders and strict answer parsers. */
#include "chain/rpc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "chain/base58.h"
#include "chain/limits.h"
#include "chain/rpc_internal.h"
#include "util/encoding.h"

/* --- Requests ------------------------------------------------------------------- */

/* Appends {"jsonrpc":"2.0","id":id,"method":method,"params":params} (steals params). */
static int emit(tcn_buf *out, uint64_t id, const char *method, json_t *params)
{
    if (params == NULL)
        return TCN_ERR_NOMEM;
    json_t *req = json_pack("{s:s,s:I,s:s,s:o}", "jsonrpc", "2.0", "id", (json_int_t)id, "method", method, "params",
                            params);
    if (req == NULL)
        return TCN_ERR_NOMEM;
    char *s = json_dumps(req, JSON_COMPACT);
    json_decref(req);
    if (s == NULL)
        return TCN_ERR_NOMEM;
    int rc = tcn_buf_append(out, s, strlen(s));
    free(s);
    return rc;
}

int tcn_chain_rpc_request_get_account_info(tcn_buf *out, uint64_t id, const tcn_chain_pubkey *pk)
{
    char b58[TCN_CHAIN_BASE58_PUBKEY_CHARS];
    tcn_chain_pubkey_to_base58(pk, b58);
    return emit(out, id, "getAccountInfo", json_pack("[s,{s:s,s:s}]", b58, "encoding", "base64", "commitment",
                                                     "confirmed"));
}

int tcn_chain_rpc_request_get_balance(tcn_buf *out, uint64_t id, const tcn_chain_pubkey *pk)
{
    char b58[TCN_CHAIN_BASE58_PUBKEY_CHARS];
    tcn_chain_pubkey_to_base58(pk, b58);
    return emit(out, id, "getBalance", json_pack("[s,{s:s}]", b58, "commitment", "confirmed"));
}

int tcn_chain_rpc_request_send_transaction(tcn_buf *out, uint64_t id, const uint8_t *wire, size_t len,
                                           bool skip_preflight)
{
    if (len > TCN_CHAIN_PACKET_BYTES_MAX)
        return TCN_ERR_TOO_LARGE;
    char b64[TCN_CHAIN_PACKET_BYTES_MAX * 4 / 3 + 8];
    tcn_b64_encode(wire, len, b64, sizeof(b64));
    return emit(out, id, "sendTransaction",
                json_pack("[s,{s:s,s:b,s:s}]", b64, "encoding", "base64", "skipPreflight", skip_preflight,
                          "preflightCommitment", "confirmed"));
}

int tcn_chain_rpc_request_get_signature_statuses(tcn_buf *out, uint64_t id, const tcn_chain_signature *sigs, size_t n)
{
    return tcn_chain_rpc_request_get_signature_statuses_cfg(out, id, sigs, n, true, 0);
}

int tcn_chain_rpc_request_request_airdrop(tcn_buf *out, uint64_t id, const tcn_chain_pubkey *pk, uint64_t lamports)
{
    char b58[TCN_CHAIN_BASE58_PUBKEY_CHARS];
    if (lamports > INT64_MAX)
        return TCN_ERR_USAGE;
    tcn_chain_pubkey_to_base58(pk, b58);
    return emit(out, id, "requestAirdrop", json_pack("[s,I]", b58, (json_int_t)lamports));
}

int tcn_chain_rpc_request_get_latest_blockhash(tcn_buf *out, uint64_t id)
{
    return emit(out, id, "getLatestBlockhash", json_pack("[{s:s}]", "commitment", "confirmed"));
}

int tcn_chain_rpc_request_get_slot(tcn_buf *out, uint64_t id)
{
    return emit(out, id, "getSlot", json_pack("[{s:s}]", "commitment", "confirmed"));
}

static const char *const COMMITMENT_NAMES[] = {
    [TCN_CHAIN_COMMITMENT_FINALIZED] = "finalized",
    [TCN_CHAIN_COMMITMENT_CONFIRMED] = "confirmed",
    [TCN_CHAIN_COMMITMENT_PROCESSED] = "processed",
};

const char *tcn_chain_commitment_name(tcn_chain_commitment c)
{
    if ((unsigned)c >= sizeof(COMMITMENT_NAMES) / sizeof(COMMITMENT_NAMES[0]))
        return NULL;
    return COMMITMENT_NAMES[c];
}

bool tcn_chain_commitment_from_name(const char *s, tcn_chain_commitment *out)
{
    for (size_t i = 0; s != NULL && i < sizeof(COMMITMENT_NAMES) / sizeof(COMMITMENT_NAMES[0]); i++)
        if (strcmp(s, COMMITMENT_NAMES[i]) == 0) {
            *out = (tcn_chain_commitment)i;
            return true;
        }
    return false;
}

/* A config object with key_commitment = the read's level and, when set,
 * minContextSlot; NULL when out of memory or the level is not one of ours. */
static json_t *read_config(const tcn_chain_rpc_read *read, const char *key_commitment)
{
    static const tcn_chain_rpc_read zero;
    if (read == NULL)
        read = &zero;
    const char *level = tcn_chain_commitment_name(read->commitment);
    if (level == NULL || read->min_context_slot > INT64_MAX)
        return NULL;
    json_t *cfg = json_object();
    if (cfg == NULL || json_object_set_new(cfg, key_commitment, json_string(level)) != 0 ||
        (read->min_context_slot > 0 &&
         json_object_set_new(cfg, "minContextSlot", json_integer((json_int_t)read->min_context_slot)) != 0)) {
        json_decref(cfg);
        return NULL;
    }
    return cfg;
}

static bool read_ok(const tcn_chain_rpc_read *read)
{
    return read == NULL || (tcn_chain_commitment_name(read->commitment) != NULL && read->min_context_slot <= INT64_MAX);
}

int tcn_chain_rpc_request_get_multiple_accounts(tcn_buf *out, uint64_t id, const tcn_chain_pubkey *pks, size_t n,
                                                const tcn_chain_rpc_read *read)
{
    if (n == 0 || n > TCN_CHAIN_RPC_ACCOUNTS_MAX || !read_ok(read))
        return TCN_ERR_USAGE;
    json_t *arr = json_array();
    for (size_t i = 0; arr != NULL && i < n; i++) {
        char b58[TCN_CHAIN_BASE58_PUBKEY_CHARS];
        tcn_chain_pubkey_to_base58(&pks[i], b58);
        if (json_array_append_new(arr, json_string(b58)) != 0) {
            json_decref(arr);
            arr = NULL;
        }
    }
    json_t *cfg = read_config(read, "commitment");
    if (arr == NULL || cfg == NULL || json_object_set_new(cfg, "encoding", json_string("base64")) != 0) {
        json_decref(arr);
        json_decref(cfg);
        return TCN_ERR_NOMEM;
    }
    return emit(out, id, "getMultipleAccounts", json_pack("[o,o]", arr, cfg));
}

int tcn_chain_rpc_request_get_slot_cfg(tcn_buf *out, uint64_t id, const tcn_chain_rpc_read *read)
{
    if (!read_ok(read))
        return TCN_ERR_USAGE;
    json_t *cfg = read_config(read, "commitment");
    return emit(out, id, "getSlot", cfg ? json_pack("[o]", cfg) : NULL);
}

int tcn_chain_rpc_request_get_latest_blockhash_cfg(tcn_buf *out, uint64_t id, const tcn_chain_rpc_read *read)
{
    if (!read_ok(read))
        return TCN_ERR_USAGE;
    json_t *cfg = read_config(read, "commitment");
    return emit(out, id, "getLatestBlockhash", cfg ? json_pack("[o]", cfg) : NULL);
}

int tcn_chain_rpc_request_get_signature_statuses_cfg(tcn_buf *out, uint64_t id, const tcn_chain_signature *sigs,
                                                     size_t n, bool search_history, uint64_t min_context_slot)
{
    if (n == 0 || n > TCN_CHAIN_RPC_SIGNATURES_MAX || min_context_slot > INT64_MAX)
        return TCN_ERR_USAGE;
    json_t *arr = json_array();
    for (size_t i = 0; arr != NULL && i < n; i++) {
        char b58[TCN_CHAIN_BASE58_SIGNATURE_CHARS];
        tcn_chain_signature_to_base58(&sigs[i], b58);
        if (json_array_append_new(arr, json_string(b58)) != 0) {
            json_decref(arr);
            arr = NULL;
        }
    }
    json_t *cfg = json_pack("{s:b}", "searchTransactionHistory", search_history);
    if (arr == NULL || cfg == NULL ||
        (min_context_slot > 0 &&
         json_object_set_new(cfg, "minContextSlot", json_integer((json_int_t)min_context_slot)) != 0)) {
        json_decref(arr);
        json_decref(cfg);
        return TCN_ERR_NOMEM;
    }
    return emit(out, id, "getSignatureStatuses", json_pack("[o,o]", arr, cfg));
}

int tcn_chain_rpc_request_send_transaction_cfg(tcn_buf *out, uint64_t id, const uint8_t *wire, size_t len,
                                               bool skip_preflight, const tcn_chain_rpc_read *read)
{
    if (len > TCN_CHAIN_PACKET_BYTES_MAX)
        return TCN_ERR_TOO_LARGE;
    if (!read_ok(read))
        return TCN_ERR_USAGE;
    char b64[TCN_CHAIN_PACKET_BYTES_MAX * 4 / 3 + 8];
    tcn_b64_encode(wire, len, b64, sizeof(b64));
    json_t *cfg = read_config(read, "preflightCommitment");
    if (cfg == NULL || json_object_set_new(cfg, "encoding", json_string("base64")) != 0 ||
        json_object_set_new(cfg, "skipPreflight", json_boolean(skip_preflight)) != 0) {
        json_decref(cfg);
        return TCN_ERR_NOMEM;
    }
    return emit(out, id, "sendTransaction", json_pack("[s,o]", b64, cfg));
}

/* --- Answers ------------------------------------------------------------------- */

/* The envelope: {"jsonrpc":"2.0","id":id, "result": …} or {…, "error": {…}}.
 * On TCN_OK, *result is the result (borrowed from *root), or NULL when the
 * answer is an error (then rpc_err is filled). The caller json_decref()s *root. */
static int envelope(const char *json, size_t len, uint64_t id, const char *method, json_t **root, json_t **result,
                    tcn_chain_rpc_error *rpc_err, tcn_error *err)
{
    memset(rpc_err, 0, sizeof(*rpc_err));
    *result = NULL;
    *root = tcn_chain_rpc_json_load(json, len, err);
    if (*root == NULL)
        return tcn_err_wrap(err, "%s", method);
    json_t *r = *root;
    TCN_ENSURE(json_is_object(r), err, TCN_ERR_MALFORMED, "%s: answer: not an object", method);
    const json_t *v = json_object_get(r, "jsonrpc");
    TCN_ENSURE(json_is_string(v) && strcmp(json_string_value(v), "2.0") == 0, err, TCN_ERR_MALFORMED,
               "%s: jsonrpc: not \"2.0\"", method);
    uint64_t got_id;
    if (tcn_chain_rpc_json_u64(json_object_get(r, "id"), &got_id, "id", err) != TCN_OK)
        return tcn_err_wrap(err, "%s", method);
    TCN_ENSURE(got_id == id, err, TCN_ERR_MALFORMED, "%s: id: %llu answers another request (sent %llu)", method,
               (unsigned long long)got_id, (unsigned long long)id);
    json_t *res = json_object_get(r, "result");
    const json_t *e = json_object_get(r, "error");
    TCN_ENSURE((res != NULL) != (e != NULL), err, TCN_ERR_MALFORMED, "%s: answer: needs exactly one of result, error",
               method);
    if (res != NULL) {
        *result = res;
        return TCN_OK;
    }
    TCN_ENSURE(json_is_object(e), err, TCN_ERR_MALFORMED, "%s: error: not an object", method);
    const json_t *code = json_object_get(e, "code"), *msg = json_object_get(e, "message");
    TCN_ENSURE(json_is_integer(code), err, TCN_ERR_MALFORMED, "%s: error.code: not an integer", method);
    TCN_ENSURE(json_is_string(msg), err, TCN_ERR_MALFORMED, "%s: error.message: not a string", method);
    rpc_err->present = true;
    rpc_err->code = json_integer_value(code);
    snprintf(rpc_err->message, sizeof(rpc_err->message), "%s", json_string_value(msg));
    const json_t *data = json_object_get(e, "data");
    if (json_is_object(data) && json_object_get(data, "err") != NULL && !json_is_null(json_object_get(data, "err"))) {
        if (tcn_chain_rpc_txerr_from_json(json_object_get(data, "err"), &rpc_err->tx_err, "error.data.err", err) !=
            TCN_OK)
            return tcn_err_wrap(err, "%s", method);
        rpc_err->has_tx_err = true;
    }
    /* -32016 carries the node's slot (Agave MinContextSlotNotReachedErrorData) */
    const json_t *cs = json_is_object(data) ? json_object_get(data, "contextSlot") : NULL;
    if (cs != NULL) {
        if (tcn_chain_rpc_json_u64(cs, &rpc_err->context_slot, "error.data.contextSlot", err) != TCN_OK)
            return tcn_err_wrap(err, "%s", method);
        rpc_err->has_context_slot = true;
    }
    return TCN_OK;
}

/* {"context":{"slot":n,...},"value":v}: the slot and v. */
static int with_context(const json_t *result, const char *method, uint64_t *slot, const json_t **value,
                        tcn_error *err)
{
    TCN_ENSURE(json_is_object(result), err, TCN_ERR_MALFORMED, "%s: result: not an object", method);
    const json_t *ctx = json_object_get(result, "context");
    TCN_ENSURE(json_is_object(ctx), err, TCN_ERR_MALFORMED, "%s: result.context: not an object", method);
    uint64_t s;
    if (tcn_chain_rpc_json_u64(json_object_get(ctx, "slot"), &s, "result.context.slot", err) != TCN_OK)
        return tcn_err_wrap(err, "%s", method);
    if (slot != NULL)
        *slot = s;
    *value = json_object_get(result, "value");
    TCN_ENSURE(*value != NULL, err, TCN_ERR_MALFORMED, "%s: result.value: missing", method);
    return TCN_OK;
}

static int u64_at(const json_t *obj, const char *key, uint64_t *out, const char *method, const char *path,
                  tcn_error *err)
{
    if (tcn_chain_rpc_json_u64(json_object_get(obj, key), out, path, err) != TCN_OK)
        return tcn_err_wrap(err, "%s", method);
    return TCN_OK;
}

static int b58_at(const json_t *j, uint8_t *out, size_t want, const char *method, const char *path, tcn_error *err)
{
    TCN_ENSURE(json_is_string(j), err, TCN_ERR_MALFORMED, "%s: %s: not a string", method, path);
    const char *s = json_string_value(j);
    if (tcn_chain_base58_decode_exact(s, strlen(s), out, want, path, err) != TCN_OK)
        return tcn_err_wrap(err, "%s", method);
    return TCN_OK;
}

/* Runs one parser body between envelope and cleanup. */
#define PARSE_BEGIN(method)                                                           \
    json_t *root_, *result_;                                                          \
    int rc_ = envelope(json, len, id, method, &root_, &result_, rpc_err, err);        \
    if (rc_ == TCN_OK && result_ != NULL) {
#define PARSE_END()        \
    }                      \
    json_decref(root_);    \
    return rc_;

void tcn_chain_rpc_account_free(tcn_chain_rpc_account *a)
{
    free(a->data);
    memset(a, 0, sizeof(*a));
}

/* One account object at path ("result.value" or "result.value[3]") of method M. */
static int parse_account(const json_t *v, const char *M, const char *path, tcn_chain_rpc_account *out,
                         tcn_error *err)
{
    char f[64];
#define FIELD(name) (snprintf(f, sizeof(f), "%s.%s", path, name), f)
    TCN_ENSURE(json_is_object(v), err, TCN_ERR_MALFORMED, "%s: %s: neither null nor an object", M, path);
    TCN_GUARD(u64_at(v, "lamports", &out->lamports, M, FIELD("lamports"), err));
    TCN_GUARD(b58_at(json_object_get(v, "owner"), out->owner.b, TCN_CHAIN_PUBKEY_LEN, M, FIELD("owner"), err));
    const json_t *ex = json_object_get(v, "executable");
    TCN_ENSURE(json_is_boolean(ex), err, TCN_ERR_MALFORMED, "%s: %s.executable: not a boolean", M, path);
    out->executable = json_is_true(ex);
    TCN_GUARD(u64_at(v, "rentEpoch", &out->rent_epoch, M, FIELD("rentEpoch"), err));
#undef FIELD
    const json_t *data = json_object_get(v, "data");
    TCN_ENSURE(json_is_array(data) && json_array_size(data) == 2 && json_is_string(json_array_get(data, 0)) &&
                   json_is_string(json_array_get(data, 1)),
               err, TCN_ERR_MALFORMED, "%s: %s.data: not [text, encoding]", M, path);
    TCN_ENSURE(strcmp(json_string_value(json_array_get(data, 1)), "base64") == 0, err, TCN_ERR_MALFORMED,
               "%s: %s.data[1]: encoding \"%s\", want base64", M, path, json_string_value(json_array_get(data, 1)));
    const char *b64 = json_string_value(json_array_get(data, 0));
    size_t n = strlen(b64);
    size_t cap = n / 4 * 3 + 3;
    TCN_ENSURE(cap <= (size_t)TCN_CHAIN_ACCOUNT_DATA_MAX + 3, err, TCN_ERR_TOO_LARGE,
               "%s: %s.data[0]: more than %u bytes", M, path, TCN_CHAIN_ACCOUNT_DATA_MAX);
    if (n > 0) {
        out->data = malloc(cap);
        TCN_ENSURE(out->data != NULL, err, TCN_ERR_NOMEM, "%s: out of memory", M);
        if (tcn_b64_decode(b64, n, out->data, cap, &out->data_len, err) != TCN_OK)
            return tcn_err_wrap(err, "%s: %s.data[0]", M, path);
    }
    const json_t *space = json_object_get(v, "space"); /* newer servers: must agree when present */
    if (space != NULL) {
        uint64_t sp;
        snprintf(f, sizeof(f), "%s.space", path);
        TCN_GUARD(u64_at(v, "space", &sp, M, f, err));
        TCN_ENSURE(sp == out->data_len, err, TCN_ERR_MALFORMED, "%s: %s.space: %llu, data holds %zu", M, path,
                   (unsigned long long)sp, out->data_len);
    }
    out->exists = true;
    return TCN_OK;
}

int tcn_chain_rpc_parse_get_account_info(const char *json, size_t len, uint64_t id, uint64_t *slot,
                                         tcn_chain_rpc_account *out, tcn_chain_rpc_error *rpc_err, tcn_error *err)
{
    memset(out, 0, sizeof(*out));
    PARSE_BEGIN("getAccountInfo")
    const json_t *v;
    rc_ = with_context(result_, "getAccountInfo", slot, &v, err);
    if (rc_ == TCN_OK && !json_is_null(v))
        rc_ = parse_account(v, "getAccountInfo", "result.value", out, err);
    if (rc_ != TCN_OK)
        tcn_chain_rpc_account_free(out);
    PARSE_END()
}

int tcn_chain_rpc_parse_get_multiple_accounts(const char *json, size_t len, uint64_t id, uint64_t *slot,
                                              tcn_chain_rpc_account *out, size_t n, tcn_chain_rpc_error *rpc_err,
                                              tcn_error *err)
{
    static const char M[] = "getMultipleAccounts";
    memset(out, 0, n * sizeof(*out));
    PARSE_BEGIN(M)
    const json_t *v;
    rc_ = with_context(result_, M, slot, &v, err);
    if (rc_ == TCN_OK && !(json_is_array(v) && json_array_size(v) == n))
        rc_ = tcn_err_set(err, TCN_ERR_MALFORMED, "%s: result.value: not an array of %zu entries", M, n);
    for (size_t i = 0; rc_ == TCN_OK && i < n; i++) {
        const json_t *a = json_array_get(v, i);
        char path[48];
        snprintf(path, sizeof(path), "result.value[%zu]", i);
        if (!json_is_null(a))
            rc_ = parse_account(a, M, path, &out[i], err);
    }
    if (rc_ != TCN_OK)
        for (size_t i = 0; i < n; i++)
            tcn_chain_rpc_account_free(&out[i]);
    PARSE_END()
}

int tcn_chain_rpc_parse_get_balance(const char *json, size_t len, uint64_t id, uint64_t *slot, uint64_t *lamports,
                                    tcn_chain_rpc_error *rpc_err, tcn_error *err)
{
    PARSE_BEGIN("getBalance")
    const json_t *v;
    rc_ = with_context(result_, "getBalance", slot, &v, err);
    if (rc_ == TCN_OK && tcn_chain_rpc_json_u64(v, lamports, "result.value", err) != TCN_OK)
        rc_ = tcn_err_wrap(err, "getBalance");
    PARSE_END()
}

int tcn_chain_rpc_parse_send_transaction(const char *json, size_t len, uint64_t id, tcn_chain_signature *sig,
                                         tcn_chain_rpc_error *rpc_err, tcn_error *err)
{
    PARSE_BEGIN("sendTransaction")
    rc_ = b58_at(result_, sig->b, TCN_CHAIN_SIGNATURE_LEN, "sendTransaction", "result", err);
    PARSE_END()
}

int tcn_chain_rpc_parse_request_airdrop(const char *json, size_t len, uint64_t id, tcn_chain_signature *sig,
                                        tcn_chain_rpc_error *rpc_err, tcn_error *err)
{
    PARSE_BEGIN("requestAirdrop")
    rc_ = b58_at(result_, sig->b, TCN_CHAIN_SIGNATURE_LEN, "requestAirdrop", "result", err);
    PARSE_END()
}

static int parse_status(const json_t *v, size_t i, tcn_chain_rpc_status *out, tcn_error *err)
{
    static const char M[] = "getSignatureStatuses";
    char path[64];
    memset(out, 0, sizeof(*out));
    if (json_is_null(v))
        return TCN_OK;
    TCN_ENSURE(json_is_object(v), err, TCN_ERR_MALFORMED, "%s: result.value[%zu]: neither null nor an object", M, i);
    snprintf(path, sizeof(path), "result.value[%zu].slot", i);
    TCN_GUARD(u64_at(v, "slot", &out->slot, M, path, err));
    const json_t *conf = json_object_get(v, "confirmations");
    if (conf != NULL && !json_is_null(conf)) {
        snprintf(path, sizeof(path), "result.value[%zu].confirmations", i);
        TCN_GUARD(u64_at(v, "confirmations", &out->confirmations, M, path, err));
        out->has_confirmations = true;
    }
    const json_t *e = json_object_get(v, "err");
    TCN_ENSURE(e != NULL, err, TCN_ERR_MALFORMED, "%s: result.value[%zu].err: missing", M, i);
    snprintf(path, sizeof(path), "result.value[%zu].err", i);
    if (tcn_chain_rpc_txerr_from_json(e, &out->err, path, err) != TCN_OK)
        return tcn_err_wrap(err, "%s", M);
    const json_t *cs = json_object_get(v, "confirmationStatus");
    if (cs != NULL && !json_is_null(cs)) {
        const char *s = json_is_string(cs) ? json_string_value(cs) : "";
        TCN_ENSURE(strcmp(s, "processed") == 0 || strcmp(s, "confirmed") == 0 || strcmp(s, "finalized") == 0, err,
                   TCN_ERR_MALFORMED, "%s: result.value[%zu].confirmationStatus: unknown", M, i);
        snprintf(out->confirmation_status, sizeof(out->confirmation_status), "%s", s);
    }
    out->found = true;
    return TCN_OK;
}

int tcn_chain_rpc_parse_get_signature_statuses(const char *json, size_t len, uint64_t id, uint64_t *slot,
                                               tcn_chain_rpc_status *out, size_t n, tcn_chain_rpc_error *rpc_err,
                                               tcn_error *err)
{
    PARSE_BEGIN("getSignatureStatuses")
    const json_t *v;
    rc_ = with_context(result_, "getSignatureStatuses", slot, &v, err);
    if (rc_ == TCN_OK && !(json_is_array(v) && json_array_size(v) == n))
        rc_ = tcn_err_set(err, TCN_ERR_MALFORMED, "getSignatureStatuses: result.value: not an array of %zu entries",
                          n);
    for (size_t i = 0; rc_ == TCN_OK && i < n; i++)
        rc_ = parse_status(json_array_get(v, i), i, &out[i], err);
    PARSE_END()
}

int tcn_chain_rpc_parse_get_latest_blockhash(const char *json, size_t len, uint64_t id, uint64_t *slot,
                                             tcn_chain_hash *blockhash, uint64_t *last_valid_block_height,
                                             tcn_chain_rpc_error *rpc_err, tcn_error *err)
{
    static const char M[] = "getLatestBlockhash";
    PARSE_BEGIN(M)
    const json_t *v;
    rc_ = with_context(result_, M, slot, &v, err);
    if (rc_ == TCN_OK && !json_is_object(v))
        rc_ = tcn_err_set(err, TCN_ERR_MALFORMED, "%s: result.value: not an object", M);
    if (rc_ == TCN_OK)
        rc_ = b58_at(json_object_get(v, "blockhash"), blockhash->b, TCN_CHAIN_HASH_LEN, M, "result.value.blockhash",
                     err);
    if (rc_ == TCN_OK)
        rc_ = u64_at(v, "lastValidBlockHeight", last_valid_block_height, M, "result.value.lastValidBlockHeight", err);
    PARSE_END()
}

int tcn_chain_rpc_parse_get_slot(const char *json, size_t len, uint64_t id, uint64_t *slot,
                                 tcn_chain_rpc_error *rpc_err, tcn_error *err)
{
    PARSE_BEGIN("getSlot")
    if (tcn_chain_rpc_json_u64(result_, slot, "result", err) != TCN_OK)
        rc_ = tcn_err_wrap(err, "getSlot");
    PARSE_END()
}
