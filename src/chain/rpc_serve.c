/* JSON-RPC server for the chain model (shapes as Solana's RPC answers them:
 * Solana docs "RPC HTTP methods"; Agave rpc.rs for sendTransaction's
 * preflight and error codes). */
#include "chain/rpc_serve.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "chain/base58.h"
#include "chain/limits.h"
#include "chain/rpc.h"
#include "chain/rpc_internal.h"
#include "util/assert.h"
#include "util/encoding.h"

typedef struct call {
    tcn_chain_model *m;
    const json_t *params; /* an array (possibly empty) */
    json_t *result;       /* set on success */
    int64_t code;         /* set on failure */
    char message[TCN_CHAIN_RPC_MESSAGE_MAX];
    json_t *data; /* optional error data */
} call;

static int refuse(call *c, int64_t code, const char *fmt, ...) TCN_PRINTF(3, 4);

static int refuse(call *c, int64_t code, const char *fmt, ...)
{
    c->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->message, sizeof(c->message), fmt, ap);
    va_end(ap);
    return -1;
}

/* params[i], which must be a string; NULL after refusing. */
static const char *param_str(call *c, size_t i, const char *name)
{
    const json_t *p = json_array_get(c->params, i);
    if (!json_is_string(p)) {
        refuse(c, TCN_CHAIN_RPC_INVALID_PARAMS, "Invalid params: %s: expected a string", name);
        return NULL;
    }
    return json_string_value(p);
}

static int param_pubkey(call *c, size_t i, tcn_chain_pubkey *out)
{
    const char *s = param_str(c, i, "pubkey");
    tcn_error e;
    if (s == NULL)
        return -1;
    if (tcn_chain_pubkey_from_base58(s, out, &e) != TCN_OK)
        return refuse(c, TCN_CHAIN_RPC_INVALID_PARAMS, "Invalid param: %s", e.msg);
    return 0;
}

/* params[i] when present: an object (or null); NULL when absent. */
static int param_config(call *c, size_t i, const json_t **cfg)
{
    *cfg = json_array_get(c->params, i);
    if (*cfg != NULL && !json_is_object(*cfg) && !json_is_null(*cfg))
        return refuse(c, TCN_CHAIN_RPC_INVALID_PARAMS, "Invalid params: configuration: expected an object");
    if (json_is_null(*cfg))
        *cfg = NULL;
    return 0;
}

static int max_params(call *c, size_t n)
{
    if (json_array_size(c->params) > n)
        return refuse(c, TCN_CHAIN_RPC_INVALID_PARAMS, "Invalid params: more than %zu", n);
    return 0;
}

/* The configuration object holds only keys from allowed (a NULL-terminated
 * list): a misspelt key would otherwise be ignored silently. */
static int config_keys(call *c, const json_t *cfg, const char *const *allowed)
{
    const char *key;
    const json_t *val;
    if (cfg == NULL)
        return 0;
    json_object_foreach((json_t *)cfg, key, val) {
        (void)val;
        size_t i = 0;
        while (allowed[i] != NULL && strcmp(allowed[i], key) != 0)
            i++;
        if (allowed[i] == NULL)
            return refuse(c, TCN_CHAIN_RPC_INVALID_PARAMS, "Invalid params: configuration: unknown field `%.64s`", key);
    }
    return 0;
}

/* commitment_key (commitment, or preflightCommitment) and minContextSlot of
 * a configuration. The model has a single commitment level — a slot is
 * final as soon as it is processed, there are no forks — so every valid
 * level reads the same state; the names are still checked. A
 * minContextSlot above the model's slot is -32016, as Agave answers it. */
static int read_config(call *c, const json_t *cfg, const char *commitment_key)
{
    if (cfg == NULL)
        return 0;
    const json_t *lv = json_object_get(cfg, commitment_key);
    tcn_chain_commitment level;
    if (lv != NULL && !(json_is_string(lv) && tcn_chain_commitment_from_name(json_string_value(lv), &level)))
        return refuse(c, TCN_CHAIN_RPC_INVALID_PARAMS,
                      "Invalid params: %s: expected processed, confirmed or finalized", commitment_key);
    const json_t *mcs = json_object_get(cfg, "minContextSlot");
    if (mcs != NULL) {
        uint64_t min;
        tcn_error e;
        if (tcn_chain_rpc_json_u64(mcs, &min, "minContextSlot", &e) != TCN_OK)
            return refuse(c, TCN_CHAIN_RPC_INVALID_PARAMS, "Invalid params: %s", e.msg);
        uint64_t slot = tcn_chain_model_slot(c->m);
        if (slot < min) {
            c->data = json_pack("{s:I}", "contextSlot", (json_int_t)slot);
            return refuse(c, TCN_CHAIN_RPC_MIN_CONTEXT_SLOT_NOT_REACHED, "Minimum context slot has not been reached");
        }
    }
    return 0;
}

static json_t *context(const call *c, json_t *value)
{
    return json_pack("{s:{s:I,s:s},s:o}", "context", "slot", (json_int_t)tcn_chain_model_slot(c->m), "apiVersion",
                     "tcn-chain-model", "value", value);
}

static char *b58_dup(const uint8_t *p, size_t n)
{
    char buf[TCN_CHAIN_BASE58_SIGNATURE_CHARS];
    if (tcn_chain_base58_encode(p, n, buf, sizeof(buf)) != TCN_OK)
        return NULL;
    return strdup(buf);
}

/* --- Methods -------------------------------------------------------------- */

/* The encoding asked for: base64 or base58 (Solana's default). */
static int param_encoding(call *c, const json_t *cfg, const char **enc)
{
    *enc = "base58";
    const json_t *e = cfg ? json_object_get(cfg, "encoding") : NULL;
    if (e != NULL)
        *enc = json_is_string(e) ? json_string_value(e) : "";
    if (strcmp(*enc, "base64") != 0 && strcmp(*enc, "base58") != 0)
        return refuse(c, TCN_CHAIN_RPC_INVALID_PARAMS, "Invalid params: encoding: base64 or base58 only");
    return 0;
}

/* An account as getAccountInfo and getMultipleAccounts show it; *out NULL
 * (and 0 returned) when out of memory. */
static int account_json(call *c, const tcn_chain_account_view *v, const char *enc, json_t **out)
{
    char *text;
    *out = NULL;
    if (strcmp(enc, "base64") == 0) {
        size_t n = tcn_b64_encoded_len(v->data_len);
        text = malloc(n);
        if (text != NULL)
            tcn_b64_encode(v->data, v->data_len, text, n);
    } else {
        if (v->data_len > 128) /* Agave: base58 only for data of at most 128 bytes */
            return refuse(c, TCN_CHAIN_RPC_INVALID_REQUEST, "Encoded binary (base 58) data should be less than 128 bytes, please use Base64 encoding.");
        text = malloc(TCN_CHAIN_BASE58_CHARS_MAX + 64);
        if (text != NULL && tcn_chain_base58_encode(v->data, v->data_len, text, TCN_CHAIN_BASE58_CHARS_MAX + 64) != TCN_OK)
            text[0] = '\0';
    }
    char owner[TCN_CHAIN_BASE58_PUBKEY_CHARS];
    tcn_chain_pubkey_to_base58(&v->owner, owner);
    /* rentEpoch: Solana reports u64::MAX for rent-exempt accounts; the model
     * has no epochs and reports 0. */
    *out = text == NULL ? NULL
                        : json_pack("{s:[s,s],s:b,s:I,s:s,s:I,s:I}", "data", text, enc, "executable", v->executable,
                                    "lamports", (json_int_t)v->lamports, "owner", owner, "rentEpoch", (json_int_t)0,
                                    "space", (json_int_t)v->data_len);
    free(text);
    return 0;
}

/* Solana's RpcAccountInfoConfig; dataSlice is not served (refused, never ignored). */
static const char *const ACCOUNT_CONFIG_KEYS[] = {"encoding", "commitment", "minContextSlot", NULL};

static int get_account_info(call *c)
{
    tcn_chain_pubkey pk;
    const json_t *cfg;
    const char *enc;
    if (max_params(c, 2) || param_pubkey(c, 0, &pk) || param_config(c, 1, &cfg) ||
        config_keys(c, cfg, ACCOUNT_CONFIG_KEYS) || param_encoding(c, cfg, &enc) ||
        read_config(c, cfg, "commitment"))
        return -1;
    tcn_chain_account_view v;
    if (!tcn_chain_model_get_account(c->m, &pk, &v)) {
        c->result = context(c, json_null());
        return 0;
    }
    json_t *value;
    if (account_json(c, &v, enc, &value))
        return -1;
    c->result = value ? context(c, value) : NULL;
    return 0;
}

/* getMultipleAccounts: up to 100 keys, every account read in the same slot
 * (the model answers one request at a time: nothing moves in between). */
static int get_multiple_accounts(call *c)
{
    const json_t *cfg;
    const char *enc;
    if (max_params(c, 2) || param_config(c, 1, &cfg) || config_keys(c, cfg, ACCOUNT_CONFIG_KEYS) ||
        param_encoding(c, cfg, &enc) || read_config(c, cfg, "commitment"))
        return -1;
    const json_t *keys = json_array_get(c->params, 0);
    if (!json_is_array(keys))
        return refuse(c, TCN_CHAIN_RPC_INVALID_PARAMS, "Invalid params: pubkeys: expected an array");
    if (json_array_size(keys) > TCN_CHAIN_RPC_ACCOUNTS_MAX)
        return refuse(c, TCN_CHAIN_RPC_INVALID_PARAMS, "Too many inputs provided; max %u", TCN_CHAIN_RPC_ACCOUNTS_MAX);
    /* every key first: a bad one refuses the whole request */
    for (size_t i = 0; i < json_array_size(keys); i++) {
        const json_t *k = json_array_get(keys, i);
        tcn_chain_pubkey pk;
        tcn_error e;
        if (!json_is_string(k))
            return refuse(c, TCN_CHAIN_RPC_INVALID_PARAMS, "Invalid params: pubkeys[%zu]: expected a string", i);
        if (tcn_chain_pubkey_from_base58(json_string_value(k), &pk, &e) != TCN_OK)
            return refuse(c, TCN_CHAIN_RPC_INVALID_PARAMS, "Invalid param: pubkeys[%zu]: %s", i, e.msg);
    }
    json_t *value = json_array();
    for (size_t i = 0; value != NULL && i < json_array_size(keys); i++) {
        tcn_chain_pubkey pk;
        tcn_chain_account_view v;
        json_t *entry = NULL;
        if (tcn_chain_pubkey_from_base58(json_string_value(json_array_get(keys, i)), &pk, NULL) != TCN_OK)
            TCN_ASSERT(0); /* checked above */
        if (!tcn_chain_model_get_account(c->m, &pk, &v))
            entry = json_null();
        else if (account_json(c, &v, enc, &entry)) {
            json_decref(value);
            return -1;
        }
        if (entry == NULL || json_array_append_new(value, entry) != 0) {
            json_decref(value);
            value = NULL;
        }
    }
    c->result = value ? context(c, value) : NULL;
    return 0;
}

static const char *const READ_CONFIG_KEYS[] = {"commitment", "minContextSlot", NULL};

static int get_balance(call *c)
{
    tcn_chain_pubkey pk;
    const json_t *cfg;
    if (max_params(c, 2) || param_pubkey(c, 0, &pk) || param_config(c, 1, &cfg) ||
        config_keys(c, cfg, READ_CONFIG_KEYS) || read_config(c, cfg, "commitment"))
        return -1;
    c->result = context(c, json_integer((json_int_t)tcn_chain_model_balance(c->m, &pk)));
    return 0;
}

static int get_slot(call *c)
{
    const json_t *cfg;
    if (max_params(c, 1) || param_config(c, 0, &cfg) || config_keys(c, cfg, READ_CONFIG_KEYS) ||
        read_config(c, cfg, "commitment"))
        return -1;
    c->result = json_integer((json_int_t)tcn_chain_model_slot(c->m));
    return 0;
}

static int get_latest_blockhash(call *c)
{
    const json_t *cfg;
    if (max_params(c, 1) || param_config(c, 0, &cfg) || config_keys(c, cfg, READ_CONFIG_KEYS) ||
        read_config(c, cfg, "commitment"))
        return -1;
    tcn_chain_hash h;
    uint64_t last;
    char b58[TCN_CHAIN_BASE58_PUBKEY_CHARS];
    tcn_chain_model_latest_blockhash(c->m, &h, &last);
    tcn_chain_hash_to_base58(&h, b58);
    /* the model's block height is its slot */
    c->result = context(c, json_pack("{s:s,s:I}", "blockhash", b58, "lastValidBlockHeight", (json_int_t)last));
    return 0;
}

static int request_airdrop(call *c)
{
    tcn_chain_pubkey pk;
    const json_t *cfg;
    static const char *const keys[] = {"commitment", NULL};
    if (max_params(c, 3) || param_pubkey(c, 0, &pk) || param_config(c, 2, &cfg) || config_keys(c, cfg, keys) ||
        read_config(c, cfg, "commitment"))
        return -1;
    uint64_t lamports;
    tcn_error e;
    if (tcn_chain_rpc_json_u64(json_array_get(c->params, 1), &lamports, "lamports", &e) != TCN_OK)
        return refuse(c, TCN_CHAIN_RPC_INVALID_PARAMS, "Invalid params: %s", e.msg);
    tcn_chain_signature sig;
    if (tcn_chain_model_request_airdrop(c->m, &pk, lamports, &sig, &e) != TCN_OK)
        return refuse(c, TCN_CHAIN_RPC_INVALID_PARAMS, "airdrop request failed: %s", e.msg);
    char *s = b58_dup(sig.b, sizeof(sig.b));
    c->result = s ? json_string(s) : NULL;
    free(s);
    return 0;
}

/* Solana's RpcSignatureStatusConfig has searchTransactionHistory only; the
 * model also honours minContextSlot (its history is complete, so the
 * search flag changes nothing, but it must be a boolean). */
static int get_signature_statuses(call *c)
{
    static const char *const keys[] = {"searchTransactionHistory", "minContextSlot", NULL};
    const json_t *cfg;
    if (max_params(c, 2) || param_config(c, 1, &cfg) || config_keys(c, cfg, keys))
        return -1;
    const json_t *sh = cfg ? json_object_get(cfg, "searchTransactionHistory") : NULL;
    if (sh != NULL && !json_is_boolean(sh))
        return refuse(c, TCN_CHAIN_RPC_INVALID_PARAMS, "Invalid params: searchTransactionHistory: expected a boolean");
    if (read_config(c, cfg, "commitment"))
        return -1;
    const json_t *sigs = json_array_get(c->params, 0);
    if (!json_is_array(sigs))
        return refuse(c, TCN_CHAIN_RPC_INVALID_PARAMS, "Invalid params: signatures: expected an array");
    if (json_array_size(sigs) > TCN_CHAIN_RPC_SIGNATURES_MAX)
        return refuse(c, TCN_CHAIN_RPC_INVALID_PARAMS, "Too many inputs provided; max %u",
                      TCN_CHAIN_RPC_SIGNATURES_MAX);
    json_t *value = json_array();
    for (size_t i = 0; value != NULL && i < json_array_size(sigs); i++) {
        const json_t *s = json_array_get(sigs, i);
        tcn_chain_signature sig;
        tcn_error e;
        if (!json_is_string(s) || tcn_chain_signature_from_base58(json_string_value(s), &sig, &e) != TCN_OK) {
            json_decref(value);
            return refuse(c, TCN_CHAIN_RPC_INVALID_PARAMS, "Invalid params: signatures[%zu]: not a signature", i);
        }
        tcn_chain_sig_status st;
        tcn_chain_model_signature_status(c->m, &sig, &st);
        json_t *entry;
        if (st.state == TCN_CHAIN_SIG_UNKNOWN) {
            entry = json_null();
        } else {
            json_t *err = tcn_chain_rpc_txerr_to_json(&st.err);
            json_t *status = st.state == TCN_CHAIN_SIG_LANDED_OK ? json_pack("{s:n}", "Ok")
                                                                 : json_pack("{s:O}", "Err", err);
            /* the model has no forks: what landed is final */
            entry = json_pack("{s:I,s:n,s:o,s:o,s:s}", "slot", (json_int_t)st.slot, "confirmations", "err", err,
                              "status", status, "confirmationStatus", "finalized");
        }
        if (entry == NULL || json_array_append_new(value, entry) != 0) {
            json_decref(value);
            value = NULL;
        }
    }
    c->result = value ? context(c, value) : NULL;
    return 0;
}

static int send_transaction(call *c)
{
    static const char *const keys[] = {"encoding", "skipPreflight", "preflightCommitment", "maxRetries",
                                       "minContextSlot", NULL};
    const json_t *cfg;
    if (max_params(c, 2) || param_config(c, 1, &cfg) || config_keys(c, cfg, keys) ||
        read_config(c, cfg, "preflightCommitment"))
        return -1;
    const json_t *mr = cfg ? json_object_get(cfg, "maxRetries") : NULL;
    uint64_t retries;
    tcn_error me;
    if (mr != NULL && tcn_chain_rpc_json_u64(mr, &retries, "maxRetries", &me) != TCN_OK)
        return refuse(c, TCN_CHAIN_RPC_INVALID_PARAMS, "Invalid params: %s", me.msg);
    const char *text = param_str(c, 0, "transaction");
    if (text == NULL)
        return -1;
    const char *enc = "base58"; /* Solana's default */
    bool skip = false;
    if (cfg != NULL) {
        const json_t *e = json_object_get(cfg, "encoding"), *sp = json_object_get(cfg, "skipPreflight");
        if (e != NULL)
            enc = json_is_string(e) ? json_string_value(e) : "";
        if (sp != NULL && !json_is_boolean(sp))
            return refuse(c, TCN_CHAIN_RPC_INVALID_PARAMS, "Invalid params: skipPreflight: expected a boolean");
        skip = json_is_true(sp);
    }
    uint8_t wire[TCN_CHAIN_PACKET_BYTES_MAX];
    size_t len = 0;
    tcn_error e;
    tcn_err_clear(&e);
    int rc;
    if (strcmp(enc, "base64") == 0)
        rc = tcn_b64_decode(text, strlen(text), wire, sizeof(wire), &len, &e);
    else if (strcmp(enc, "base58") == 0)
        rc = tcn_chain_base58_decode(text, strlen(text), wire, sizeof(wire), &len, &e);
    else
        return refuse(c, TCN_CHAIN_RPC_INVALID_PARAMS, "Invalid params: encoding: base64 or base58 only");
    if (rc != TCN_OK)
        return refuse(c, TCN_CHAIN_RPC_INVALID_PARAMS, "invalid transaction: %s", e.msg);

    tcn_chain_submit_result r;
    if (!skip) {
        if (tcn_chain_model_simulate(c->m, wire, len, &r) != TCN_OK)
            return refuse(c, TCN_CHAIN_RPC_INVALID_REQUEST, "internal error");
        if (r.err.kind == TCN_CHAIN_TXERR_SANITIZE_FAILURE || r.err.kind == TCN_CHAIN_TXERR_UNSUPPORTED_VERSION)
            return refuse(c, TCN_CHAIN_RPC_INVALID_PARAMS, "invalid transaction: %s", r.log);
        if (r.err.kind == TCN_CHAIN_TXERR_SIGNATURE_FAILURE)
            return refuse(c, TCN_CHAIN_RPC_SIGNATURE_VERIFICATION_FAILURE, "Transaction signature verification failure");
        if (r.err.kind != TCN_CHAIN_TX_OK) {
            char what[96];
            tcn_chain_tx_error_format(&r.err, what, sizeof(what));
            c->data = json_pack("{s:o,s:[s],s:n,s:I}", "err", tcn_chain_rpc_txerr_to_json(&r.err), "logs", r.log,
                                "accounts", "unitsConsumed", (json_int_t)0);
            return refuse(c, TCN_CHAIN_RPC_PREFLIGHT_FAILURE, "Transaction simulation failed: %s", what);
        }
    }
    if (tcn_chain_model_submit(c->m, wire, len, &r) != TCN_OK)
        return refuse(c, TCN_CHAIN_RPC_INVALID_REQUEST, "internal error");
    if (r.err.kind == TCN_CHAIN_TXERR_SANITIZE_FAILURE || r.err.kind == TCN_CHAIN_TXERR_UNSUPPORTED_VERSION)
        return refuse(c, TCN_CHAIN_RPC_INVALID_PARAMS, "invalid transaction: %s", r.log);
    char *s = b58_dup(r.signature.b, sizeof(r.signature.b));
    c->result = s ? json_string(s) : NULL;
    free(s);
    return 0;
}

static const struct {
    const char *name;
    int (*fn)(call *);
} METHODS[] = {
    {"getAccountInfo", get_account_info},
    {"getMultipleAccounts", get_multiple_accounts},
    {"getBalance", get_balance},
    {"sendTransaction", send_transaction},
    {"getSignatureStatuses", get_signature_statuses},
    {"requestAirdrop", request_airdrop},
    {"getLatestBlockhash", get_latest_blockhash},
    {"getSlot", get_slot},
};

/* --- The envelope ---------------------------------------------------------- */

static int answer(tcn_buf *out, json_t *id, json_t *result, int64_t code, const char *message, json_t *data)
{
    json_t *a;
    if (result != NULL) {
        a = json_pack("{s:s,s:o,s:O}", "jsonrpc", "2.0", "result", result, "id", id ? id : json_null());
    } else {
        json_t *e = json_pack("{s:I,s:s}", "code", (json_int_t)code, "message", message);
        if (e != NULL && data != NULL)
            json_object_set(e, "data", data);
        a = e ? json_pack("{s:s,s:o,s:O}", "jsonrpc", "2.0", "error", e, "id", id ? id : json_null()) : NULL;
    }
    if (a == NULL)
        return TCN_ERR_NOMEM;
    char *s = json_dumps(a, JSON_COMPACT);
    json_decref(a);
    if (s == NULL)
        return TCN_ERR_NOMEM;
    int rc = tcn_buf_append(out, s, strlen(s));
    free(s);
    return rc;
}

int tcn_chain_rpc_serve(tcn_chain_model *m, const char *request, size_t len, tcn_buf *out)
{
    tcn_error e;
    json_t *req = tcn_chain_rpc_json_load(request, len, &e);
    if (req == NULL)
        return answer(out, NULL, NULL, TCN_CHAIN_RPC_PARSE_ERROR, "Parse error", NULL);
    json_t *id = json_object_get(req, "id");
    const json_t *ver = json_object_get(req, "jsonrpc"), *method = json_object_get(req, "method");
    json_t *params = json_object_get(req, "params");
    int rc;
    if (!json_is_object(req) || !json_is_string(ver) || strcmp(json_string_value(ver), "2.0") != 0 ||
        !json_is_string(method) || (params != NULL && !json_is_array(params)) ||
        (id != NULL && !json_is_integer(id) && !json_is_string(id) && !json_is_null(id))) {
        rc = answer(out, json_is_object(req) ? id : NULL, NULL, TCN_CHAIN_RPC_INVALID_REQUEST, "Invalid request",
                    NULL);
        json_decref(req);
        return rc;
    }
    json_t *empty = params ? NULL : json_array();
    call c = {.m = m, .params = params ? params : empty};
    size_t k = 0;
    while (k < sizeof(METHODS) / sizeof(METHODS[0]) && strcmp(METHODS[k].name, json_string_value(method)) != 0)
        k++;
    if (k == sizeof(METHODS) / sizeof(METHODS[0]))
        refuse(&c, TCN_CHAIN_RPC_METHOD_NOT_FOUND, "Method not found");
    else if (METHODS[k].fn(&c) == 0 && c.result == NULL)
        refuse(&c, TCN_CHAIN_RPC_INVALID_REQUEST, "internal error: out of memory");
    rc = answer(out, id, c.result, c.code, c.message, c.data);
    json_decref(c.data);
    json_decref(empty);
    json_decref(req);
    return rc;
}
