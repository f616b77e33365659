/* libFuzzer target: what the client API reads from a request. The bytes are
 * three header lines (key, timestamp, signature) and a body: the headers go
 * through tcn_reqsig_verify (a refusal names its check), the body through
 * the JSON field readers every handler uses (a refusal says why; accepted
 * values are in range). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "node/api_internal.h"
#include "node/reqsig.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The next line of the input as a NUL-terminated copy (NULL when empty). */
static char *line(const uint8_t **p, size_t *n)
{
    const uint8_t *nl = memchr(*p, '\n', *n);
    size_t len = nl != NULL ? (size_t)(nl - *p) : *n;
    char *s = NULL;
    if (len > 0 && (s = malloc(len + 1)) != NULL) {
        memcpy(s, *p, len);
        s[len] = '\0';
        if (strlen(s) != len) { /* a NUL inside: as if absent */
            free(s);
            s = NULL;
        }
    }
    *p += nl != NULL ? len + 1 : len;
    *n -= nl != NULL ? len + 1 : len;
    return s;
}

static void bad_says_why(bool ok, const api_bad *bad)
{
    if (!ok && bad->msg[0] == '\0')
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *p = data;
    size_t n = size;
    char *key = line(&p, &n), *ts = line(&p, &n), *sig = line(&p, &n);
    static const uint8_t group[16] = {0x47};
    tcn_reqsig_verified v;
    tcn_reqsig_check check;
    tcn_error err;
    tcn_err_clear(&err);
    int rc = tcn_reqsig_verify(key, ts, sig, "POST", "/v1/swaps", group, p, n, 1767225600000ull, 30000, &v, &check, &err);
    if ((rc == TCN_OK) != (check == TCN_REQSIG_OK) || (rc != TCN_OK && err.msg[0] == '\0'))
        abort();
    free(key);
    free(ts);
    free(sig);

    json_error_t je;
    json_t *o = json_loadb((const char *)p, n, JSON_REJECT_DUPLICATES, &je);
    if (json_is_object(o)) {
        static const char *const allowed[] = {"amount", "lp", "deadline", "policy", NULL};
        api_bad bad = {0};
        bool present;
        uint64_t u;
        tcn_chain_pubkey pk;
        tcn_key_policy pol;
        bad_says_why(api_json_fields(o, allowed, &bad), &bad);
        memset(&bad, 0, sizeof(bad));
        bool ok = api_json_u64(o, "amount", true, &present, &u, &bad);
        bad_says_why(ok, &bad);
        if (ok && present && u > (uint64_t)INT64_MAX)
            abort();
        memset(&bad, 0, sizeof(bad));
        bad_says_why(api_json_pubkey(o, "lp", false, &present, &pk, &bad), &bad);
        memset(&bad, 0, sizeof(bad));
        bad_says_why(api_json_time(o, "deadline", false, &present, &u, &bad), &bad);
        const json_t *jp = json_object_get(o, "policy");
        if (jp != NULL) {
            memset(&bad, 0, sizeof(bad));
            ok = api_json_policy(jp, "policy", &pol, &bad);
            bad_says_why(ok, &bad);
            if (ok && (pol.n_destinations > TCN_POLICY_DESTINATIONS_MAX || pol.n_windows > TCN_POLICY_WINDOWS_MAX))
                abort();
            if (ok)
                json_decref(api_policy_json(&pol));
        }
    }
    json_decref(o);
    return 0;
}
