/* Error codes with categories, one message table, and context added on the way up. */
#ifndef TCN_UTIL_ERR_H
#define TCN_UTIL_ERR_H

#include <stddef.h>

#define TCN_MUST_CHECK __attribute__((warn_unused_result))
#define TCN_PRINTF(a, b) __attribute__((format(printf, a, b)))

/* Categories (s2n_errno.h style): what a caller may do about an error. */
typedef enum {
    TCN_CAT_OK = 0,
    TCN_CAT_USAGE,    /* the caller asked for something invalid */
    TCN_CAT_IO,       /* the operating system said no */
    TCN_CAT_PROTO,    /* bytes from outside are malformed */
    TCN_CAT_AUTH,     /* bytes are well formed but not authentic or not valid now */
    TCN_CAT_POLICY,   /* authentic, but the policy does not accept it */
    TCN_CAT_INTERNAL, /* out of memory, library failure */
    TCN_CAT_STATE,    /* not possible in the current state: retry later or elsewhere */
} tcn_err_category;

/* Every operating error has one code; tcn_err_table in err.c maps each to
 * its category and message. Add codes at the end of a group. */
typedef enum {
    TCN_OK = 0,
    TCN_ERR_USAGE,
    TCN_ERR_CONFIG,
    TCN_ERR_IO,
    TCN_ERR_NOT_FOUND,
    TCN_ERR_TRUNCATED,
    TCN_ERR_MALFORMED,
    TCN_ERR_UNSUPPORTED,
    TCN_ERR_TOO_LARGE,
    TCN_ERR_BAD_SIGNATURE,
    TCN_ERR_CERT_CHAIN,
    TCN_ERR_UNTRUSTED_ROOT,
    TCN_ERR_EXPIRED,
    TCN_ERR_NOT_YET_VALID,
    TCN_ERR_REVOKED,
    TCN_ERR_BINDING,
    TCN_ERR_COLLATERAL,
    TCN_ERR_NO_TCB_MATCH,
    TCN_ERR_POLICY,
    TCN_ERR_DEBUG,
    TCN_ERR_NOMEM,
    TCN_ERR_CRYPTO,
    TCN_ERR_INTERNAL,
    TCN_ERR_NOT_LEADER,
    TCN_ERR_BUSY,
    TCN_ERR_CORRUPT,
    TCN_ERR_COUNT_ /* not a code */
} tcn_err_code;

#define TCN_ERR_MSG_MAX 768

/* An error as it rises: the code, and a message that each layer may prefix
 * with its own context ("sgx: PCK chain: certificate has expired ..."). The
 * caller owns it; it holds no pointers. */
typedef struct tcn_error {
    int code;
    char msg[TCN_ERR_MSG_MAX];
} tcn_error;

void tcn_err_clear(tcn_error *err);
/* Sets code and message (the table's message when fmt is NULL); returns code. */
int tcn_err_set(tcn_error *err, int code, const char *fmt, ...) TCN_PRINTF(3, 4);
/* Prefixes "<context>: " to the message; returns the current code. */
int tcn_err_wrap(tcn_error *err, const char *fmt, ...) TCN_PRINTF(2, 3);

const char *tcn_err_name(int code);     /* "TCN_ERR_EXPIRED" */
const char *tcn_err_message(int code);  /* "expired" */
tcn_err_category tcn_err_category_of(int code);
const char *tcn_err_category_name(tcn_err_category cat);

/* Happy path reads straight down. */
#define TCN_GUARD(expr)            \
    do {                           \
        int tcn_rc_ = (expr);      \
        if (tcn_rc_ != TCN_OK)     \
            return tcn_rc_;        \
    } while (0)

#define TCN_ENSURE(cond, err, code, ...)                  \
    do {                                                  \
        if (!(cond))                                      \
            return tcn_err_set((err), (code), __VA_ARGS__); \
    } while (0)

#endif
