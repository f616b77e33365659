/* Error table and message composition. */
#include "util/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

struct err_row {
    const char *name;
    tcn_err_category cat;
    const char *msg;
};

static const struct err_row tcn_err_table[TCN_ERR_COUNT_] = {
    [TCN_OK] = {"TCN_OK", TCN_CAT_OK, "ok"},
    [TCN_ERR_USAGE] = {"TCN_ERR_USAGE", TCN_CAT_USAGE, "invalid usage"},
    [TCN_ERR_CONFIG] = {"TCN_ERR_CONFIG", TCN_CAT_USAGE, "invalid configuration"},
    [TCN_ERR_IO] = {"TCN_ERR_IO", TCN_CAT_IO, "input/output error"},
    [TCN_ERR_NOT_FOUND] = {"TCN_ERR_NOT_FOUND", TCN_CAT_IO, "not found"},
    [TCN_ERR_TRUNCATED] = {"TCN_ERR_TRUNCATED", TCN_CAT_PROTO, "input ends early"},
    [TCN_ERR_MALFORMED] = {"TCN_ERR_MALFORMED", TCN_CAT_PROTO, "malformed input"},
    [TCN_ERR_UNSUPPORTED] = {"TCN_ERR_UNSUPPORTED", TCN_CAT_PROTO, "unsupported format or version"},
    [TCN_ERR_TOO_LARGE] = {"TCN_ERR_TOO_LARGE", TCN_CAT_PROTO, "input too large"},
    [TCN_ERR_BAD_SIGNATURE] = {"TCN_ERR_BAD_SIGNATURE", TCN_CAT_AUTH, "signature does not verify"},
    [TCN_ERR_CERT_CHAIN] = {"TCN_ERR_CERT_CHAIN", TCN_CAT_AUTH, "certificate chain does not verify"},
    [TCN_ERR_UNTRUSTED_ROOT] = {"TCN_ERR_UNTRUSTED_ROOT", TCN_CAT_AUTH, "root of trust is not the pinned one"},
    [TCN_ERR_EXPIRED] = {"TCN_ERR_EXPIRED", TCN_CAT_AUTH, "expired"},
    [TCN_ERR_NOT_YET_VALID] = {"TCN_ERR_NOT_YET_VALID", TCN_CAT_AUTH, "not yet valid"},
    [TCN_ERR_REVOKED] = {"TCN_ERR_REVOKED", TCN_CAT_AUTH, "revoked"},
    [TCN_ERR_BINDING] = {"TCN_ERR_BINDING", TCN_CAT_AUTH, "binding hash does not match"},
    [TCN_ERR_COLLATERAL] = {"TCN_ERR_COLLATERAL", TCN_CAT_AUTH, "collateral does not match the evidence"},
    [TCN_ERR_NO_TCB_MATCH] = {"TCN_ERR_NO_TCB_MATCH", TCN_CAT_AUTH, "no matching TCB level"},
    [TCN_ERR_POLICY] = {"TCN_ERR_POLICY", TCN_CAT_POLICY, "rejected by policy"},
    [TCN_ERR_DEBUG] = {"TCN_ERR_DEBUG", TCN_CAT_POLICY, "debug enclave rejected"},
    [TCN_ERR_NOMEM] = {"TCN_ERR_NOMEM", TCN_CAT_INTERNAL, "out of memory"},
    [TCN_ERR_CRYPTO] = {"TCN_ERR_CRYPTO", TCN_CAT_INTERNAL, "cryptographic library failure"},
    [TCN_ERR_INTERNAL] = {"TCN_ERR_INTERNAL", TCN_CAT_INTERNAL, "internal error"},
    [TCN_ERR_NOT_LEADER] = {"TCN_ERR_NOT_LEADER", TCN_CAT_STATE, "not the leader"},
    [TCN_ERR_BUSY] = {"TCN_ERR_BUSY", TCN_CAT_STATE, "another operation is in progress"},
    [TCN_ERR_CORRUPT] = {"TCN_ERR_CORRUPT", TCN_CAT_AUTH, "integrity check failed"},
};

static const struct err_row *row(int code)
{
    if (code < 0 || code >= TCN_ERR_COUNT_ || tcn_err_table[code].name == NULL)
        return &tcn_err_table[TCN_ERR_INTERNAL];
    return &tcn_err_table[code];
}

const char *tcn_err_name(int code) { return row(code)->name; }
const char *tcn_err_message(int code) { return row(code)->msg; }
tcn_err_category tcn_err_category_of(int code) { return row(code)->cat; }

const char *tcn_err_category_name(tcn_err_category cat)
{
    static const char *names[] = {"ok", "usage", "io", "proto", "auth", "policy", "internal", "state"};
    if ((unsigned)cat >= sizeof(names) / sizeof(names[0]))
        return "internal";
    return names[cat];
}

void tcn_err_clear(tcn_error *err)
{
    if (err == NULL)
        return;
    err->code = TCN_OK;
    err->msg[0] = '\0';
}

int tcn_err_set(tcn_error *err, int code, const char *fmt, ...)
{
    if (err == NULL)
        return code;
    err->code = code;
    if (fmt == NULL) {
        snprintf(err->msg, sizeof(err->msg), "%s", tcn_err_message(code));
        return code;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
    va_end(ap);
    return code;
}

int tcn_err_wrap(tcn_error *err, const char *fmt, ...)
{
    if (err == NULL)
        return TCN_ERR_INTERNAL;
    char ctx[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ctx, sizeof(ctx), fmt, ap);
    va_end(ap);
    char old[TCN_ERR_MSG_MAX];
    memcpy(old, err->msg, sizeof(old));
    old[sizeof(old) - 1] = '\0';
    /* "<ctx>: <old>"; truncation keeps the outermost context. */
    const char *inner = old[0] ? old : tcn_err_message(err->code);
    size_t pos = 0, cap = sizeof(err->msg) - 1;
    for (const char *parts[3] = {ctx, ": ", inner}, **pp = parts; pp < parts + 3; pp++)
        for (const char *q = *pp; *q && pos < cap; q++)
            err->msg[pos++] = *q;
    err->msg[pos] = '\0';
    if (err->code == TCN_OK)
        err->code = TCN_ERR_INTERNAL; /* wrapping a success is a bug upstream */
    return err->code;
}
