/* JSON helpers of the RPC layer: exact u64 reading on top of jansson, and
 * TransactionError as Solana's RPC serializes it (serde's externally tagged
 * enums: a unit variant is its name, a variant with data is {name: data}). */
#include <stdlib.h>
#include <string.h>

#include "chain/rpc.h"
#include "chain/rpc_internal.h"
#include "util/buf.h"

/* Marks a big integer turned into a string; '#' never starts a JSON number. */
#define BIG_MARK "#u64:"

static bool digit(char c) { return c >= '0' && c <= '9'; }

/* jansson holds integers as long long and refuses larger ones outright, yet
 * Solana answers rentEpoch = 18446744073709551615. Outside strings, a bare
 * run of digits above INT64_MAX becomes "#u64:<digits>"; everything else is
 * copied as is (jansson then checks the syntax). */
static int quote_big_ints(const char *in, size_t len, tcn_buf *out)
{
    static const char int64_max[] = "9223372036854775807";
    bool in_str = false, esc = false;
    for (size_t i = 0; i < len;) {
        char c = in[i];
        if (in_str) {
            if (esc)
                esc = false;
            else if (c == '\\')
                esc = true;
            else if (c == '"')
                in_str = false;
            TCN_GUARD(tcn_buf_u8(out, (uint8_t)c));
            i++;
            continue;
        }
        if (c == '"') {
            in_str = true;
            TCN_GUARD(tcn_buf_u8(out, (uint8_t)c));
            i++;
            continue;
        }
        /* a number token starts after a structural character or space */
        bool starts = digit(c) && (i == 0 || !(digit(in[i - 1]) || in[i - 1] == '-' || in[i - 1] == '.' ||
                                               in[i - 1] == 'e' || in[i - 1] == 'E' || in[i - 1] == '+'));
        if (!starts) {
            TCN_GUARD(tcn_buf_u8(out, (uint8_t)c));
            i++;
            continue;
        }
        size_t j = i;
        while (j < len && digit(in[j]))
            j++;
        bool plain = j == len || !(in[j] == '.' || in[j] == 'e' || in[j] == 'E');
        size_t n = j - i;
        bool big = plain && in[i] != '0' &&
                   (n > sizeof(int64_max) - 1 || (n == sizeof(int64_max) - 1 && memcmp(in + i, int64_max, n) > 0));
        if (big) {
            TCN_GUARD(tcn_buf_append(out, "\"" BIG_MARK, sizeof(BIG_MARK)));
            TCN_GUARD(tcn_buf_append(out, in + i, n));
            TCN_GUARD(tcn_buf_u8(out, '"'));
        } else {
            TCN_GUARD(tcn_buf_append(out, in + i, n));
        }
        i = j;
    }
    return TCN_OK;
}

json_t *tcn_chain_rpc_json_load(const char *text, size_t len, tcn_error *err)
{
    if (len > TCN_CHAIN_RPC_ANSWER_BYTES_MAX) {
        tcn_err_set(err, TCN_ERR_TOO_LARGE, "rpc: answer of %zu bytes exceeds %u", len, TCN_CHAIN_RPC_ANSWER_BYTES_MAX);
        return NULL;
    }
    tcn_buf b = {0};
    if (quote_big_ints(text, len, &b) != TCN_OK) {
        tcn_buf_free(&b);
        tcn_err_set(err, TCN_ERR_NOMEM, "rpc: out of memory");
        return NULL;
    }
    json_error_t je;
    json_t *j = json_loadb((const char *)b.p, b.len, JSON_REJECT_DUPLICATES, &je);
    tcn_buf_free(&b);
    if (j == NULL)
        tcn_err_set(err, TCN_ERR_MALFORMED, "rpc: not JSON: %s (line %d, column %d)", je.text, je.line, je.column);
    return j;
}

int tcn_chain_rpc_json_u64(const json_t *j, uint64_t *out, const char *what, tcn_error *err)
{
    if (json_is_integer(j)) {
        json_int_t v = json_integer_value(j);
        TCN_ENSURE(v >= 0, err, TCN_ERR_MALFORMED, "%s: negative", what);
        *out = (uint64_t)v;
        return TCN_OK;
    }
    const char *s = json_is_string(j) ? json_string_value(j) : NULL;
    TCN_ENSURE(s != NULL && strncmp(s, BIG_MARK, sizeof(BIG_MARK) - 1) == 0, err, TCN_ERR_MALFORMED,
               "%s: not an unsigned integer", what);
    s += sizeof(BIG_MARK) - 1;
    uint64_t v = 0;
    for (; *s; s++) {
        TCN_ENSURE(digit(*s), err, TCN_ERR_MALFORMED, "%s: not an unsigned integer", what);
        unsigned d = (unsigned)(*s - '0');
        TCN_ENSURE(v <= (UINT64_MAX - d) / 10, err, TCN_ERR_MALFORMED, "%s: exceeds u64", what);
        v = v * 10 + d;
    }
    *out = v;
    return TCN_OK;
}

/* --- TransactionError ------------------------------------------------------ */

json_t *tcn_chain_rpc_txerr_to_json(const tcn_chain_tx_error *e)
{
    switch (e->kind) {
    case TCN_CHAIN_TXERR_INSTRUCTION_ERROR: {
        json_t *ix = e->ix == TCN_CHAIN_IXERR_CUSTOM ? json_pack("{s:I}", "Custom", (json_int_t)e->custom)
                                                      : json_string(tcn_chain_ixerr_name(e->ix));
        return json_pack("{s:[I,o]}", "InstructionError", (json_int_t)e->index, ix);
    }
    case TCN_CHAIN_TXERR_INSUFFICIENT_FUNDS_FOR_RENT:
        return json_pack("{s:{s:I}}", "InsufficientFundsForRent", "account_index", (json_int_t)e->index);
    case TCN_CHAIN_TX_OK:
        return json_null();
    default:
        return json_string(tcn_chain_txerr_name(e->kind));
    }
}

static int u8_field(const json_t *j, uint8_t *out, const char *what, tcn_error *err)
{
    uint64_t v;
    TCN_GUARD(tcn_chain_rpc_json_u64(j, &v, what, err));
    TCN_ENSURE(v <= 255, err, TCN_ERR_MALFORMED, "%s: %llu exceeds 255", what, (unsigned long long)v);
    *out = (uint8_t)v;
    return TCN_OK;
}

int tcn_chain_rpc_txerr_from_json(const json_t *j, tcn_chain_tx_error *out, const char *what, tcn_error *err)
{
    memset(out, 0, sizeof(*out));
    if (json_is_null(j))
        return TCN_OK;
    if (json_is_string(j)) {
        out->kind = tcn_chain_txerr_from_name(json_string_value(j));
        /* the variants with data are never bare names */
        if (out->kind == TCN_CHAIN_TXERR_INSTRUCTION_ERROR || out->kind == TCN_CHAIN_TXERR_INSUFFICIENT_FUNDS_FOR_RENT)
            out->kind = TCN_CHAIN_TXERR_OTHER;
        return TCN_OK;
    }
    TCN_ENSURE(json_is_object(j) && json_object_size(j) == 1, err, TCN_ERR_MALFORMED,
               "%s: neither a name nor a one-key object", what);
    const char *name = json_object_iter_key(json_object_iter((json_t *)j));
    const json_t *v = json_object_iter_value(json_object_iter((json_t *)j));
    out->kind = tcn_chain_txerr_from_name(name);
    if (out->kind == TCN_CHAIN_TXERR_INSTRUCTION_ERROR) {
        TCN_ENSURE(json_is_array(v) && json_array_size(v) == 2, err, TCN_ERR_MALFORMED,
                   "%s.InstructionError: not [index, error]", what);
        TCN_GUARD(u8_field(json_array_get(v, 0), &out->index, "InstructionError[0]", err));
        const json_t *ix = json_array_get(v, 1);
        if (json_is_string(ix)) {
            out->ix = tcn_chain_ixerr_from_name(json_string_value(ix));
            if (out->ix == TCN_CHAIN_IXERR_CUSTOM)
                out->ix = TCN_CHAIN_IXERR_OTHER;
        } else if (json_is_object(ix) && json_object_get(ix, "Custom") != NULL) {
            uint64_t c;
            TCN_ENSURE(json_object_size(ix) == 1, err, TCN_ERR_MALFORMED, "%s.InstructionError[1]: extra keys", what);
            TCN_GUARD(tcn_chain_rpc_json_u64(json_object_get(ix, "Custom"), &c, "InstructionError[1].Custom", err));
            TCN_ENSURE(c <= UINT32_MAX, err, TCN_ERR_MALFORMED, "%s.InstructionError[1].Custom: exceeds u32", what);
            out->ix = TCN_CHAIN_IXERR_CUSTOM;
            out->custom = (uint32_t)c;
        } else {
            TCN_ENSURE(json_is_object(ix) && json_object_size(ix) == 1, err, TCN_ERR_MALFORMED,
                       "%s.InstructionError[1]: neither a name nor a one-key object", what);
            out->ix = TCN_CHAIN_IXERR_OTHER; /* e.g. {"BorshIoError": "..."} */
        }
        return TCN_OK;
    }
    if (out->kind == TCN_CHAIN_TXERR_INSUFFICIENT_FUNDS_FOR_RENT) {
        TCN_ENSURE(json_is_object(v), err, TCN_ERR_MALFORMED, "%s.InsufficientFundsForRent: not an object", what);
        return u8_field(json_object_get(v, "account_index"), &out->index, "InsufficientFundsForRent.account_index",
                        err);
    }
    out->kind = TCN_CHAIN_TXERR_OTHER; /* a variant with data we do not model, e.g. {"DuplicateInstruction": 0} */
    return TCN_OK;
}
