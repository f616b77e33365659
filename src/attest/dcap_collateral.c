/* Intel DCAP collateral: files, signed JSON, TCB info, QE identity, and the TCB rules. */
#include "attest/dcap_collateral.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <pthread.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "attest/roots.h"
#include "attest/x509.h"
#include "util/hash.h"
#include "util/cursor.h"
#include "util/encoding.h"
#include "util/file.h"
#include "util/timefmt.h"

/* ---- collateral directory ------------------------------------------------------ */

static const struct {
    const char *name;
    size_t off; /* offsetof the tcn_slice in tcn_dcap_collateral */
    size_t max;
    bool required;
} collateral_files[] = {
    {"tcb_info.json", offsetof(tcn_dcap_collateral, tcb_info), TCN_DCAP_JSON_FILE_MAX, true},
    {"tcb_info_issuer_chain.pem", offsetof(tcn_dcap_collateral, tcb_info_issuer_chain), TCN_DCAP_PEM_FILE_MAX, true},
    {"qe_identity.json", offsetof(tcn_dcap_collateral, qe_identity), TCN_DCAP_JSON_FILE_MAX, true},
    {"qe_identity_issuer_chain.pem", offsetof(tcn_dcap_collateral, qe_identity_issuer_chain), TCN_DCAP_PEM_FILE_MAX,
     true},
    {"pck_crl.der", offsetof(tcn_dcap_collateral, pck_crl), TCN_DCAP_CRL_FILE_MAX, false},
    {"pck_crl_issuer_chain.pem", offsetof(tcn_dcap_collateral, pck_crl_issuer_chain), TCN_DCAP_PEM_FILE_MAX, false},
    {"root_ca_crl.der", offsetof(tcn_dcap_collateral, root_ca_crl), TCN_DCAP_CRL_FILE_MAX, false},
};

static tcn_slice *collateral_slot(tcn_dcap_collateral *c, size_t i)
{
    return (tcn_slice *)((char *)c + collateral_files[i].off);
}

void tcn_dcap_collateral_free(tcn_dcap_collateral *c)
{
    if (c == NULL)
        return;
    for (size_t i = 0; i < sizeof(collateral_files) / sizeof(collateral_files[0]); i++) {
        tcn_slice *s = collateral_slot(c, i);
        free((void *)s->p);
        s->p = NULL;
        s->len = 0;
    }
}

int tcn_dcap_collateral_load_dir(const char *dir, tcn_dcap_collateral *out, tcn_error *err)
{
    memset(out, 0, sizeof(*out));
    for (size_t i = 0; i < sizeof(collateral_files) / sizeof(collateral_files[0]); i++) {
        char path[4096];
        int n = snprintf(path, sizeof(path), "%s/%s", dir, collateral_files[i].name);
        if (n < 0 || (size_t)n >= sizeof(path)) {
            tcn_dcap_collateral_free(out);
            return tcn_err_set(err, TCN_ERR_USAGE, "collateral: directory path too long");
        }
        uint8_t *p = NULL;
        size_t len = 0;
        int rc = tcn_file_read(path, collateral_files[i].max, &p, &len, err);
        if (rc == TCN_ERR_NOT_FOUND && !collateral_files[i].required) {
            tcn_err_clear(err);
            continue;
        }
        if (rc == TCN_ERR_NOT_FOUND)
            rc = tcn_err_set(err, TCN_ERR_COLLATERAL, "collateral missing: %s (no file %s)", collateral_files[i].name,
                             path);
        else if (rc != TCN_OK)
            tcn_err_wrap(err, "collateral %s", collateral_files[i].name);
        if (rc != TCN_OK) {
            tcn_dcap_collateral_free(out);
            return rc;
        }
        tcn_slice *s = collateral_slot(out, i);
        s->p = p;
        s->len = len;
    }
    return TCN_OK;
}

/* ---- owned storage of a parsed document ---------------------------------------
 * The JSON tree stays alive (level dates and advisory ids point into it) and
 * every array the parser allocates is linked here, so one free releases all. */

typedef union owned_block {
    union owned_block *next;
    max_align_t align_;
} owned_block;

typedef struct owned {
    json_t *json;
    owned_block *blocks;
} owned;

static void *own_calloc(owned *o, size_t count, size_t size)
{
    if (size != 0 && count > (SIZE_MAX - sizeof(owned_block)) / size)
        return NULL;
    owned_block *b = calloc(1, sizeof(owned_block) + count * size);
    if (b == NULL)
        return NULL;
    b->next = o->blocks;
    o->blocks = b;
    return b + 1;
}

static void owned_free(owned *o)
{
    if (o == NULL)
        return;
    while (o->blocks != NULL) {
        owned_block *next = o->blocks->next;
        free(o->blocks);
        o->blocks = next;
    }
    json_decref(o->json);
    free(o);
}

/* ---- signed JSON envelope -------------------------------------------------------
 * PCS returns {"tcbInfo":{...},"signature":"<hex>"} and signs the exact text of
 * the inner value (Intel PCS API v4, "Get TCB Info" / "Get Quoting Enclave
 * Identity": "signature ... calculated over tcbInfo body"). The envelope is
 * scanned here without a JSON library so the signed bytes are found exactly;
 * the inner value is parsed strictly by jansson afterwards. */

static void skip_ws(tcn_cursor *c)
{
    for (;;) {
        tcn_cursor peek = *c;
        uint8_t ch;
        if (tcn_cur_u8(&peek, &ch) != TCN_OK || (ch != ' ' && ch != '\t' && ch != '\n' && ch != '\r'))
            return;
        *c = peek;
    }
}

static bool expect_byte(tcn_cursor *c, uint8_t want)
{
    tcn_cursor peek = *c;
    uint8_t ch;
    if (tcn_cur_u8(&peek, &ch) != TCN_OK || ch != want)
        return false;
    *c = peek;
    return true;
}

static bool expect_text(tcn_cursor *c, const char *s)
{
    size_t n = strlen(s);
    const uint8_t *p;
    tcn_cursor peek = *c;
    if (tcn_cur_view(&peek, n, &p) != TCN_OK || memcmp(p, s, n) != 0)
        return false;
    *c = peek;
    return true;
}

/* Advances over one JSON object, tracking strings and nesting; the result is
 * checked by the real parser later, this only has to find where it ends. */
static bool scan_object(tcn_cursor *c)
{
    uint8_t ch;
    if (tcn_cur_u8(c, &ch) != TCN_OK || ch != '{')
        return false;
    size_t depth = 1;
    bool in_string = false;
    while (depth > 0) {
        if (tcn_cur_u8(c, &ch) != TCN_OK)
            return false;
        if (in_string) {
            if (ch == '\\') {
                if (tcn_cur_u8(c, &ch) != TCN_OK)
                    return false;
            } else if (ch == '"') {
                in_string = false;
            }
        } else if (ch == '"') {
            in_string = true;
        } else if (ch == '{' || ch == '[') {
            depth++;
        } else if (ch == '}' || ch == ']') {
            depth--;
        }
    }
    return true;
}

int tcn_dcap_signed_json_split(const uint8_t *doc, size_t len, const char *key, tcn_slice *body,
                               uint8_t sig[TCN_DCAP_SIG_LEN], tcn_error *err)
{
    char quoted[64];
    int qn = snprintf(quoted, sizeof(quoted), "\"%s\"", key);
    TCN_ENSURE(qn > 0 && (size_t)qn < sizeof(quoted), err, TCN_ERR_USAGE, "signed JSON: key too long");
    tcn_cursor c;
    tcn_cur_init(&c, len > 0 ? doc : (const uint8_t *)"", len);
    skip_ws(&c);
    bool ok = expect_byte(&c, '{');
    skip_ws(&c);
    ok = ok && expect_text(&c, quoted);
    skip_ws(&c);
    ok = ok && expect_byte(&c, ':');
    skip_ws(&c);
    TCN_ENSURE(ok, err, TCN_ERR_MALFORMED, "signed JSON: document does not start with {%s:", quoted);
    size_t start = c.off;
    TCN_ENSURE(scan_object(&c), err, TCN_ERR_MALFORMED, "signed JSON: value of %s is not a complete object", quoted);
    body->p = c.p + start;
    body->len = c.off - start;
    skip_ws(&c);
    ok = expect_byte(&c, ',');
    skip_ws(&c);
    ok = ok && expect_text(&c, "\"signature\"");
    skip_ws(&c);
    ok = ok && expect_byte(&c, ':');
    skip_ws(&c);
    ok = ok && expect_byte(&c, '"');
    TCN_ENSURE(ok, err, TCN_ERR_MALFORMED, "signed JSON: %s is not followed by ,\"signature\":\"", quoted);
    char hex[2 * TCN_DCAP_SIG_LEN + 1];
    size_t n = 0;
    uint8_t ch;
    for (;;) {
        TCN_ENSURE(tcn_cur_u8(&c, &ch) == TCN_OK, err, TCN_ERR_MALFORMED, "signed JSON: signature string not closed");
        if (ch == '"')
            break;
        TCN_ENSURE(n < 2 * TCN_DCAP_SIG_LEN, err, TCN_ERR_MALFORMED,
                   "signed JSON: signature longer than %d hex digits", 2 * TCN_DCAP_SIG_LEN);
        hex[n++] = (char)ch;
    }
    hex[n] = '\0';
    skip_ws(&c);
    ok = expect_byte(&c, '}');
    skip_ws(&c);
    TCN_ENSURE(ok && tcn_cur_remaining(&c) == 0, err, TCN_ERR_MALFORMED,
               "signed JSON: unexpected content after \"signature\" (only %s and signature are allowed)", quoted);
    if (tcn_hex_decode_exact(hex, sig, TCN_DCAP_SIG_LEN, err) != TCN_OK)
        return tcn_err_wrap(err, "signed JSON: field 'signature'");
    return TCN_OK;
}

/* ---- JSON field readers (ctx names the object in messages) ---------------------- */

static int j_get(json_t *obj, const char *key, json_t **out, const char *ctx, tcn_error *err)
{
    json_t *v = json_object_get(obj, key);
    TCN_ENSURE(v != NULL, err, TCN_ERR_MALFORMED, "%s: field '%s' missing", ctx, key);
    *out = v;
    return TCN_OK;
}

static int j_int(json_t *obj, const char *key, json_int_t min, json_int_t max, json_int_t *out, const char *ctx,
                 tcn_error *err)
{
    json_t *v = NULL;
    TCN_GUARD(j_get(obj, key, &v, ctx, err));
    TCN_ENSURE(json_is_integer(v), err, TCN_ERR_MALFORMED, "%s: field '%s' is not an integer", ctx, key);
    json_int_t x = json_integer_value(v);
    TCN_ENSURE(x >= min && x <= max, err, TCN_ERR_MALFORMED, "%s: field '%s' is %lld, outside %lld..%lld", ctx, key,
               (long long)x, (long long)min, (long long)max);
    *out = x;
    return TCN_OK;
}

static int j_str(json_t *obj, const char *key, const char **out, const char *ctx, tcn_error *err)
{
    json_t *v = NULL;
    TCN_GUARD(j_get(obj, key, &v, ctx, err));
    TCN_ENSURE(json_is_string(v), err, TCN_ERR_MALFORMED, "%s: field '%s' is not a string", ctx, key);
    TCN_ENSURE(strlen(json_string_value(v)) == json_string_length(v), err, TCN_ERR_MALFORMED,
               "%s: field '%s' contains a NUL character", ctx, key);
    *out = json_string_value(v);
    return TCN_OK;
}

static int j_hex(json_t *obj, const char *key, uint8_t *out, size_t n, const char *ctx, tcn_error *err)
{
    const char *s;
    TCN_GUARD(j_str(obj, key, &s, ctx, err));
    if (tcn_hex_decode_exact(s, out, n, err) != TCN_OK)
        return tcn_err_wrap(err, "%s: field '%s'", ctx, key);
    return TCN_OK;
}

static int j_time(json_t *obj, const char *key, int64_t *out, const char *ctx, tcn_error *err)
{
    const char *s;
    TCN_GUARD(j_str(obj, key, &s, ctx, err));
    if (tcn_time_parse_rfc3339(s, out, err) != TCN_OK)
        return tcn_err_wrap(err, "%s: field '%s'", ctx, key);
    return TCN_OK;
}

/* tcbStatus; identity levels only know UpToDate, OutOfDate and Revoked
 * (PCS API v4, "Enclave Identity" tcbLevels). */
static int j_status(json_t *obj, bool identity, tcn_tcb_status *out, const char *ctx, tcn_error *err)
{
    const char *s;
    TCN_GUARD(j_str(obj, "tcbStatus", &s, ctx, err));
    tcn_tcb_status st = TCN_TCB_NONE;
    int rc = tcn_tcb_status_parse(s, &st);
    bool ok = rc == TCN_OK && st != TCN_TCB_NONE;
    if (identity)
        ok = ok && (st == TCN_TCB_UP_TO_DATE || st == TCN_TCB_OUT_OF_DATE || st == TCN_TCB_REVOKED);
    TCN_ENSURE(ok, err, TCN_ERR_MALFORMED, "%s: tcbStatus '%.40s' is not a known status", ctx, s);
    *out = st;
    return TCN_OK;
}

/* Optional "advisoryIDs": an array of short strings. */
static int j_advisories(json_t *obj, owned *o, const char *const **ids, size_t *count, const char *ctx, tcn_error *err)
{
    *ids = NULL;
    *count = 0;
    json_t *a = json_object_get(obj, "advisoryIDs");
    if (a == NULL)
        return TCN_OK;
    TCN_ENSURE(json_is_array(a), err, TCN_ERR_MALFORMED, "%s: field 'advisoryIDs' is not an array", ctx);
    size_t n = json_array_size(a);
    TCN_ENSURE(n <= TCN_DCAP_LEVEL_ADVISORIES_MAX, err, TCN_ERR_TOO_LARGE,
               "%s: %zu advisory IDs exceed the limit of %d", ctx, n, TCN_DCAP_LEVEL_ADVISORIES_MAX);
    if (n == 0)
        return TCN_OK;
    const char **v = own_calloc(o, n, sizeof(*v));
    TCN_ENSURE(v != NULL, err, TCN_ERR_NOMEM, NULL);
    for (size_t i = 0; i < n; i++) {
        json_t *e = json_array_get(a, i);
        const char *s = json_string_value(e);
        TCN_ENSURE(s != NULL && strlen(s) == json_string_length(e) && strlen(s) > 0 &&
                       strlen(s) < TCN_ADVISORY_ID_MAX,
                   err, TCN_ERR_MALFORMED, "%s: advisoryIDs[%zu] is not a string of 1..%d characters", ctx, i,
                   TCN_ADVISORY_ID_MAX - 1);
        v[i] = s;
    }
    *ids = v;
    *count = n;
    return TCN_OK;
}

static int j_array(json_t *obj, const char *key, size_t min, size_t max, json_t **out, const char *ctx,
                   tcn_error *err)
{
    json_t *a = NULL;
    TCN_GUARD(j_get(obj, key, &a, ctx, err));
    TCN_ENSURE(json_is_array(a), err, TCN_ERR_MALFORMED, "%s: field '%s' is not an array", ctx, key);
    size_t n = json_array_size(a);
    TCN_ENSURE(n >= min && n <= max, err, TCN_ERR_MALFORMED, "%s: field '%s' has %zu entries, expected %zu..%zu", ctx,
               key, n, min, max);
    *out = a;
    return TCN_OK;
}

static int j_object(json_t *obj, const char *key, json_t **out, const char *ctx, tcn_error *err)
{
    TCN_GUARD(j_get(obj, key, out, ctx, err));
    TCN_ENSURE(json_is_object(*out), err, TCN_ERR_MALFORMED, "%s: field '%s' is not an object", ctx, key);
    return TCN_OK;
}

static int load_json(const uint8_t *body, size_t len, const char *what, owned **out, tcn_error *err)
{
    owned *o = calloc(1, sizeof(*o));
    TCN_ENSURE(o != NULL, err, TCN_ERR_NOMEM, NULL);
    json_error_t jerr;
    o->json = json_loadb((const char *)body, len, JSON_REJECT_DUPLICATES, &jerr);
    if (o->json == NULL || !json_is_object(o->json)) {
        int rc = o->json == NULL ? tcn_err_set(err, TCN_ERR_MALFORMED, "%s: invalid JSON (line %d column %d: %s)",
                                               what, jerr.line, jerr.column, jerr.text)
                                 : tcn_err_set(err, TCN_ERR_MALFORMED, "%s: not a JSON object", what);
        owned_free(o);
        return rc;
    }
    *out = o;
    return TCN_OK;
}

/* Identity TCB levels: [{"tcb":{"isvsvn":n},"tcbDate":..,"tcbStatus":..,"advisoryIDs":[..]}] */
static int parse_isv_levels(json_t *arr, owned *o, const tcn_dcap_isv_level **out, size_t *count, const char *ctx,
                            tcn_error *err)
{
    size_t n = json_array_size(arr);
    tcn_dcap_isv_level *lv = own_calloc(o, n, sizeof(*lv));
    TCN_ENSURE(lv != NULL, err, TCN_ERR_NOMEM, NULL);
    for (size_t i = 0; i < n; i++) {
        char lctx[128];
        snprintf(lctx, sizeof(lctx), "%s tcbLevels[%zu]", ctx, i);
        json_t *l = json_array_get(arr, i), *tcb;
        TCN_ENSURE(json_is_object(l), err, TCN_ERR_MALFORMED, "%s: not an object", lctx);
        TCN_GUARD(j_object(l, "tcb", &tcb, lctx, err));
        json_int_t v;
        TCN_GUARD(j_int(tcb, "isvsvn", 0, 65535, &v, lctx, err));
        lv[i].isvsvn = (uint16_t)v;
        TCN_GUARD(j_str(l, "tcbDate", &lv[i].tcb_date, lctx, err));
        TCN_GUARD(j_status(l, true, &lv[i].status, lctx, err));
        TCN_GUARD(j_advisories(l, o, &lv[i].advisory_ids, &lv[i].advisory_count, lctx, err));
    }
    *out = lv;
    *count = n;
    return TCN_OK;
}

/* ---- TCB info (PCS API v4 "TCB Info" v2 and v3) ----------------------------------- */

static int parse_components(json_t *tcb, const char *key, uint8_t out[TCN_DCAP_TCB_COMPONENTS], const char *ctx,
                            tcn_error *err)
{
    json_t *a = NULL;
    TCN_GUARD(j_array(tcb, key, TCN_DCAP_TCB_COMPONENTS, TCN_DCAP_TCB_COMPONENTS, &a, ctx, err));
    for (size_t i = 0; i < TCN_DCAP_TCB_COMPONENTS; i++) {
        char cctx[160];
        snprintf(cctx, sizeof(cctx), "%s %s[%zu]", ctx, key, i);
        json_t *e = json_array_get(a, i);
        TCN_ENSURE(json_is_object(e), err, TCN_ERR_MALFORMED, "%s: not an object", cctx);
        json_int_t v;
        TCN_GUARD(j_int(e, "svn", 0, 255, &v, cctx, err));
        out[i] = (uint8_t)v;
    }
    return TCN_OK;
}

static int parse_tcb_level(json_t *l, const tcn_dcap_tcb_info *ti, owned *o, tcn_dcap_tcb_level *lv,
                           const char *ctx, tcn_error *err)
{
    json_t *tcb;
    TCN_ENSURE(json_is_object(l), err, TCN_ERR_MALFORMED, "%s: not an object", ctx);
    TCN_GUARD(j_object(l, "tcb", &tcb, ctx, err));
    json_int_t v;
    if (ti->version >= 3) {
        TCN_GUARD(parse_components(tcb, "sgxtcbcomponents", lv->sgx_svn, ctx, err));
        if (ti->tdx) {
            TCN_GUARD(parse_components(tcb, "tdxtcbcomponents", lv->tdx_svn, ctx, err));
            lv->has_tdx = true;
        }
    } else {
        /* v2: "sgxtcbcomp01svn" .. "sgxtcbcomp16svn" */
        for (int i = 0; i < TCN_DCAP_TCB_COMPONENTS; i++) {
            char key[32];
            snprintf(key, sizeof(key), "sgxtcbcomp%02dsvn", i + 1);
            TCN_GUARD(j_int(tcb, key, 0, 255, &v, ctx, err));
            lv->sgx_svn[i] = (uint8_t)v;
        }
    }
    TCN_GUARD(j_int(tcb, "pcesvn", 0, 65535, &v, ctx, err));
    lv->pcesvn = (uint16_t)v;
    TCN_GUARD(j_str(l, "tcbDate", &lv->tcb_date, ctx, err));
    TCN_GUARD(j_status(l, false, &lv->status, ctx, err));
    TCN_GUARD(j_advisories(l, o, &lv->advisory_ids, &lv->advisory_count, ctx, err));
    return TCN_OK;
}

static int parse_module_identities(json_t *root, owned *o, tcn_dcap_tcb_info *ti, tcn_error *err)
{
    json_t *arr = json_object_get(root, "tdxModuleIdentities");
    if (arr == NULL)
        return TCN_OK;
    TCN_GUARD(j_array(root, "tdxModuleIdentities", 0, TCN_DCAP_MODULE_IDENTITIES_MAX, &arr, "TCB info", err));
    size_t n = json_array_size(arr);
    tcn_dcap_tdx_module_identity *m = own_calloc(o, n ? n : 1, sizeof(*m));
    TCN_ENSURE(m != NULL, err, TCN_ERR_NOMEM, NULL);
    for (size_t i = 0; i < n; i++) {
        char ctx[96];
        snprintf(ctx, sizeof(ctx), "TCB info tdxModuleIdentities[%zu]", i);
        json_t *e = json_array_get(arr, i), *levels;
        TCN_ENSURE(json_is_object(e), err, TCN_ERR_MALFORMED, "%s: not an object", ctx);
        const char *id;
        TCN_GUARD(j_str(e, "id", &id, ctx, err));
        TCN_ENSURE(strlen(id) > 0 && strlen(id) < sizeof(m[i].id), err, TCN_ERR_MALFORMED, "%s: id of %zu characters",
                   ctx, strlen(id));
        snprintf(m[i].id, sizeof(m[i].id), "%s", id);
        TCN_GUARD(j_hex(e, "mrsigner", m[i].mrsigner, sizeof(m[i].mrsigner), ctx, err));
        TCN_GUARD(j_hex(e, "attributes", m[i].attributes, sizeof(m[i].attributes), ctx, err));
        TCN_GUARD(j_hex(e, "attributesMask", m[i].attributes_mask, sizeof(m[i].attributes_mask), ctx, err));
        TCN_GUARD(j_array(e, "tcbLevels", 1, TCN_DCAP_TCB_LEVELS_MAX, &levels, ctx, err));
        TCN_GUARD(parse_isv_levels(levels, o, &m[i].levels, &m[i].level_count, ctx, err));
    }
    ti->modules = m;
    ti->module_count = n;
    return TCN_OK;
}

static int parse_tcb_info(owned *o, tcn_dcap_tcb_info *ti, tcn_error *err)
{
    const char *ctx = "TCB info";
    json_t *root = o->json, *levels, *tm;
    json_int_t v;
    TCN_GUARD(j_int(root, "version", 0, 1000, &v, ctx, err));
    TCN_ENSURE(v == 2 || v == 3, err, TCN_ERR_UNSUPPORTED, "TCB info: version %lld is not supported (2, 3)",
               (long long)v);
    ti->version = (int)v;
    if (ti->version >= 3) {
        const char *id;
        TCN_GUARD(j_str(root, "id", &id, ctx, err));
        if (strcmp(id, "TDX") == 0)
            ti->tdx = true;
        else
            TCN_ENSURE(strcmp(id, "SGX") == 0, err, TCN_ERR_UNSUPPORTED,
                       "TCB info: id '%.20s' is not supported (SGX, TDX)", id);
    }
    TCN_GUARD(j_time(root, "issueDate", &ti->issue_date_ms, ctx, err));
    TCN_GUARD(j_time(root, "nextUpdate", &ti->next_update_ms, ctx, err));
    TCN_GUARD(j_hex(root, "fmspc", ti->fmspc, sizeof(ti->fmspc), ctx, err));
    TCN_GUARD(j_hex(root, "pceId", ti->pceid, sizeof(ti->pceid), ctx, err));
    /* tcbType 0: the TCB components are the 16 CPUSVN bytes (the only type defined). */
    TCN_GUARD(j_int(root, "tcbType", 0, 1000, &v, ctx, err));
    TCN_ENSURE(v == 0, err, TCN_ERR_UNSUPPORTED, "TCB info: tcbType %lld is not supported (0)", (long long)v);
    if (ti->tdx) {
        TCN_GUARD(j_object(root, "tdxModule", &tm, ctx, err));
        const char *mctx = "TCB info tdxModule";
        TCN_GUARD(j_hex(tm, "mrsigner", ti->tdx_module_mrsigner, sizeof(ti->tdx_module_mrsigner), mctx, err));
        TCN_GUARD(j_hex(tm, "attributes", ti->tdx_module_attributes, sizeof(ti->tdx_module_attributes), mctx, err));
        TCN_GUARD(j_hex(tm, "attributesMask", ti->tdx_module_attributes_mask, sizeof(ti->tdx_module_attributes_mask),
                        mctx, err));
        ti->has_tdx_module = true;
        TCN_GUARD(parse_module_identities(root, o, ti, err));
    }
    TCN_GUARD(j_array(root, "tcbLevels", 1, TCN_DCAP_TCB_LEVELS_MAX, &levels, ctx, err));
    size_t n = json_array_size(levels);
    tcn_dcap_tcb_level *lv = own_calloc(o, n, sizeof(*lv));
    TCN_ENSURE(lv != NULL, err, TCN_ERR_NOMEM, NULL);
    for (size_t i = 0; i < n; i++) {
        char lctx[64];
        snprintf(lctx, sizeof(lctx), "TCB info tcbLevels[%zu]", i);
        TCN_GUARD(parse_tcb_level(json_array_get(levels, i), ti, o, &lv[i], lctx, err));
    }
    ti->levels = lv;
    ti->level_count = n;
    return TCN_OK;
}

int tcn_dcap_tcb_info_parse(const uint8_t *body, size_t len, tcn_dcap_tcb_info *out, tcn_error *err)
{
    memset(out, 0, sizeof(*out));
    owned *o;
    TCN_GUARD(load_json(body, len, "TCB info", &o, err));
    tcn_dcap_tcb_info ti;
    memset(&ti, 0, sizeof(ti));
    int rc = parse_tcb_info(o, &ti, err);
    if (rc != TCN_OK) {
        owned_free(o);
        return rc;
    }
    ti.owned_ = o;
    *out = ti;
    return TCN_OK;
}

void tcn_dcap_tcb_info_free(tcn_dcap_tcb_info *t)
{
    if (t == NULL)
        return;
    owned_free(t->owned_);
    memset(t, 0, sizeof(*t));
}

/* ---- QE identity (PCS API v4 "Enclave Identity" v2) -------------------------------- */

static int parse_qe_identity(owned *o, tcn_dcap_qe_identity *q, tcn_error *err)
{
    const char *ctx = "QE identity";
    json_t *root = o->json, *levels;
    const char *id;
    json_int_t v;
    TCN_GUARD(j_str(root, "id", &id, ctx, err));
    if (strcmp(id, "QE") == 0)
        q->id = TCN_DCAP_QE_ID_QE;
    else if (strcmp(id, "QVE") == 0)
        q->id = TCN_DCAP_QE_ID_QVE;
    else if (strcmp(id, "TD_QE") == 0)
        q->id = TCN_DCAP_QE_ID_TD_QE;
    else
        return tcn_err_set(err, TCN_ERR_UNSUPPORTED, "QE identity: id '%.20s' is not supported (QE, QVE, TD_QE)", id);
    TCN_GUARD(j_int(root, "version", 0, 1000, &v, ctx, err));
    TCN_ENSURE(v == 2, err, TCN_ERR_UNSUPPORTED, "QE identity: version %lld is not supported (2)", (long long)v);
    q->version = (int)v;
    TCN_GUARD(j_time(root, "issueDate", &q->issue_date_ms, ctx, err));
    TCN_GUARD(j_time(root, "nextUpdate", &q->next_update_ms, ctx, err));
    TCN_GUARD(j_hex(root, "miscselect", q->miscselect, sizeof(q->miscselect), ctx, err));
    TCN_GUARD(j_hex(root, "miscselectMask", q->miscselect_mask, sizeof(q->miscselect_mask), ctx, err));
    TCN_GUARD(j_hex(root, "attributes", q->attributes, sizeof(q->attributes), ctx, err));
    TCN_GUARD(j_hex(root, "attributesMask", q->attributes_mask, sizeof(q->attributes_mask), ctx, err));
    TCN_GUARD(j_hex(root, "mrsigner", q->mrsigner, sizeof(q->mrsigner), ctx, err));
    TCN_GUARD(j_int(root, "isvprodid", 0, 65535, &v, ctx, err));
    q->isvprodid = (uint16_t)v;
    TCN_GUARD(j_array(root, "tcbLevels", 1, TCN_DCAP_TCB_LEVELS_MAX, &levels, ctx, err));
    return parse_isv_levels(levels, o, &q->levels, &q->level_count, ctx, err);
}

int tcn_dcap_qe_identity_parse(const uint8_t *body, size_t len, tcn_dcap_qe_identity *out, tcn_error *err)
{
    memset(out, 0, sizeof(*out));
    owned *o;
    TCN_GUARD(load_json(body, len, "QE identity", &o, err));
    tcn_dcap_qe_identity q;
    memset(&q, 0, sizeof(q));
    int rc = parse_qe_identity(o, &q, err);
    if (rc != TCN_OK) {
        owned_free(o);
        return rc;
    }
    q.owned_ = o;
    *out = q;
    return TCN_OK;
}

void tcn_dcap_qe_identity_free(tcn_dcap_qe_identity *q)
{
    if (q == NULL)
        return;
    owned_free(q->owned_);
    memset(q, 0, sizeof(*q));
}

/* ---- caches ----------------------------------------------------------------------- */

static pthread_mutex_t g_cache_mu = PTHREAD_MUTEX_INITIALIZER;

typedef struct pem_entry {
    uint64_t stamp; /* last use; 0 = empty */
    uint8_t key[32];
    STACK_OF(X509) *chain;
} pem_entry;

typedef struct sig_entry {
    uint64_t stamp;
    uint8_t key[32];
} sig_entry;

typedef struct chain_entry {
    uint64_t stamp;
    uint8_t key[32];
    int64_t lo_ms, hi_ms; /* the result holds for lo <= at < hi */
} chain_entry;

_Static_assert(offsetof(pem_entry, key) == sizeof(uint64_t), "cache_find layout");
_Static_assert(offsetof(sig_entry, key) == sizeof(uint64_t), "cache_find layout");
_Static_assert(offsetof(chain_entry, key) == sizeof(uint64_t), "cache_find layout");

static pem_entry g_pem[TCN_DCAP_PEM_CACHE_SLOTS];
static sig_entry g_sig[TCN_DCAP_SIG_CACHE_SLOTS];
static chain_entry g_chain[TCN_DCAP_CHAIN_CACHE_SLOTS];

static uint64_t g_clock; /* use counter for least-recently-used replacement */

/* Fully associative lookup over entries of a given size whose first fields
 * are (stamp, key): the index of the key, or of the slot to replace (an
 * empty one, else the least recently used) with *found false. Caller
 * holds g_cache_mu. */
static size_t cache_find(void *entries, size_t n, size_t size, const uint8_t key[32], bool *found)
{
    size_t victim = 0;
    uint64_t oldest = UINT64_MAX;
    for (size_t i = 0; i < n; i++) {
        char *e = (char *)entries + i * size;
        uint64_t stamp;
        memcpy(&stamp, e, sizeof(stamp));
        if (stamp != 0 && memcmp(e + sizeof(uint64_t), key, 32) == 0) {
            stamp = ++g_clock;
            memcpy(e, &stamp, sizeof(stamp));
            *found = true;
            return i;
        }
        if (stamp < oldest) {
            oldest = stamp;
            victim = i;
        }
    }
    *found = false;
    return victim;
}

void tcn_dcap_hash_slices(const tcn_slice *s, size_t n, uint8_t out[32])
{
    /* Each slice length-prefixed (u64le), so different splits never collide. */
    tcn_sha256_ctx h;
    tcn_sha256_init(&h);
    for (size_t i = 0; i < n; i++) {
        uint8_t l[8];
        uint64_t v = s[i].len;
        for (int k = 0; k < 8; k++)
            l[k] = (uint8_t)(v >> (8 * k));
        tcn_sha256_update(&h, l, sizeof(l));
        if (s[i].len > 0)
            tcn_sha256_update(&h, s[i].p, s[i].len);
    }
    tcn_sha256_final(&h, out);
}

void tcn_dcap_cache_clear(void)
{
    pthread_mutex_lock(&g_cache_mu);
    for (size_t i = 0; i < TCN_DCAP_PEM_CACHE_SLOTS; i++) {
        sk_X509_pop_free(g_pem[i].chain, X509_free);
        g_pem[i].chain = NULL;
        g_pem[i].stamp = 0;
    }
    memset(g_sig, 0, sizeof(g_sig));
    memset(g_chain, 0, sizeof(g_chain));
    pthread_mutex_unlock(&g_cache_mu);
}

int tcn_dcap_pem_chain_cached(tcn_slice pem, STACK_OF(X509) **out, tcn_error *err)
{
    uint8_t key[32];
    tcn_dcap_hash_slices(&pem, 1, key);
    STACK_OF(X509) *hit = NULL;
    bool found;
    pthread_mutex_lock(&g_cache_mu);
    size_t slot = cache_find(g_pem, TCN_DCAP_PEM_CACHE_SLOTS, sizeof(g_pem[0]), key, &found);
    if (found)
        hit = X509_chain_up_ref(g_pem[slot].chain);
    pthread_mutex_unlock(&g_cache_mu);
    if (hit != NULL) {
        *out = hit;
        return TCN_OK;
    }
    STACK_OF(X509) *chain = NULL;
    /* Strict: only certificate blocks and whitespace (x509.c). */
    TCN_GUARD(tcn_x509_parse_pem_chain(pem.p, pem.len, &chain, err));
    STACK_OF(X509) *keep = X509_chain_up_ref(chain);
    if (keep != NULL) {
        STACK_OF(X509) *old = keep;
        pthread_mutex_lock(&g_cache_mu);
        slot = cache_find(g_pem, TCN_DCAP_PEM_CACHE_SLOTS, sizeof(g_pem[0]), key, &found);
        if (!found) { /* another thread may have inserted it meanwhile */
            old = g_pem[slot].chain;
            memcpy(g_pem[slot].key, key, 32);
            g_pem[slot].chain = keep;
            g_pem[slot].stamp = ++g_clock;
        }
        pthread_mutex_unlock(&g_cache_mu);
        sk_X509_pop_free(old, X509_free);
    }
    *out = chain;
    return TCN_OK;
}

static bool asn1_ms(const ASN1_TIME *t, int64_t *ms)
{
    struct tm tm;
    if (t == NULL || !ASN1_TIME_to_tm(t, &tm))
        return false;
    time_t s = timegm(&tm);
    if (s == (time_t)-1)
        return false;
    *ms = (int64_t)s * 1000;
    return true;
}

/* The intersection of the validity windows of every certificate offered
 * (a superset of the path OpenSSL builds, so the window can only be
 * smaller than the true one) and of every CRL. A CRL without nextUpdate
 * gives no window: not cached. */
static bool chain_window(STACK_OF(X509) *chain, STACK_OF(X509_CRL) *crls, int64_t *lo, int64_t *hi)
{
    int64_t l = 0, h = INT64_MAX, a, b;
    X509 *root = tcn_root_intel_sgx();
    for (int i = 0; i <= sk_X509_num(chain); i++) {
        X509 *x = i < sk_X509_num(chain) ? sk_X509_value(chain, i) : root;
        if (!asn1_ms(X509_get0_notBefore(x), &a) || !asn1_ms(X509_get0_notAfter(x), &b))
            return false;
        l = a > l ? a : l;
        h = b < h ? b : h;
    }
    for (int i = 0; crls != NULL && i < sk_X509_CRL_num(crls); i++) {
        X509_CRL *c = sk_X509_CRL_value(crls, i);
        if (!asn1_ms(X509_CRL_get0_lastUpdate(c), &a) || !asn1_ms(X509_CRL_get0_nextUpdate(c), &b))
            return false;
        l = a > l ? a : l;
        h = b < h ? b : h;
    }
    *lo = l;
    *hi = h;
    return l < h;
}

int tcn_dcap_verify_chain_cached(X509 *leaf, STACK_OF(X509) *chain, const uint8_t chain_id[32],
                                 STACK_OF(X509_CRL) *crls, const uint8_t crl_id[32], int64_t at_ms, const char *what,
                                 tcn_error *err)
{
    static const uint8_t no_crl[32];
    tcn_slice parts[3] = {{chain_id, 32}, {crls != NULL ? crl_id : no_crl, 32}, {NULL, 0}};
    uint8_t leaf_id[32];
    unsigned char *der = NULL;
    int dl = i2d_X509(leaf, &der);
    if (dl > 0) {
        parts[2].p = der;
        parts[2].len = (size_t)dl;
    }
    tcn_dcap_hash_slices(parts, 3, leaf_id);
    OPENSSL_free(der);
    bool hit = false, found;
    pthread_mutex_lock(&g_cache_mu);
    size_t slot = cache_find(g_chain, TCN_DCAP_CHAIN_CACHE_SLOTS, sizeof(g_chain[0]), leaf_id, &found);
    if (dl > 0 && at_ms >= 0 && found)
        hit = at_ms >= g_chain[slot].lo_ms && at_ms < g_chain[slot].hi_ms;
    pthread_mutex_unlock(&g_cache_mu);
    if (hit)
        return TCN_OK;
    TCN_GUARD(tcn_x509_verify_chain(leaf, chain, tcn_root_intel_sgx(), crls, at_ms, what, err));
    int64_t lo, hi;
    if (dl > 0 && at_ms >= 0 && chain_window(chain, crls, &lo, &hi) && at_ms >= lo &&
        at_ms < hi) {
        pthread_mutex_lock(&g_cache_mu);
        slot = cache_find(g_chain, TCN_DCAP_CHAIN_CACHE_SLOTS, sizeof(g_chain[0]), leaf_id, &found);
        memcpy(g_chain[slot].key, leaf_id, 32);
        g_chain[slot].lo_ms = lo;
        g_chain[slot].hi_ms = hi;
        g_chain[slot].stamp = ++g_clock;
        pthread_mutex_unlock(&g_cache_mu);
    }
    return TCN_OK;
}

int tcn_dcap_ecdsa_verify_cached(X509 *signer, const uint8_t *msg, size_t msg_len, const uint8_t sig[64],
                                 tcn_error *err)
{
    const ASN1_BIT_STRING *kbits = X509_get0_pubkey_bitstr(signer);
    EVP_PKEY *pub = X509_get0_pubkey(signer);
    TCN_ENSURE(kbits != NULL && pub != NULL, err, TCN_ERR_CERT_CHAIN, "signing certificate has no usable public key");
    tcn_slice parts[3] = {{ASN1_STRING_get0_data(kbits), (size_t)ASN1_STRING_length(kbits)}, {sig, 64}, {msg, msg_len}};
    uint8_t key[32];
    tcn_dcap_hash_slices(parts, 3, key);
    bool hit;
    pthread_mutex_lock(&g_cache_mu);
    (void)cache_find(g_sig, TCN_DCAP_SIG_CACHE_SLOTS, sizeof(g_sig[0]), key, &hit);
    pthread_mutex_unlock(&g_cache_mu);
    if (hit)
        return TCN_OK;
    TCN_GUARD(tcn_ecdsa_verify_raw(pub, EVP_sha256(), msg, msg_len, sig, 64, err));
    {
        bool found;
        pthread_mutex_lock(&g_cache_mu);
        size_t slot = cache_find(g_sig, TCN_DCAP_SIG_CACHE_SLOTS, sizeof(g_sig[0]), key, &found);
        memcpy(g_sig[slot].key, key, 32);
        g_sig[slot].stamp = ++g_clock;
        pthread_mutex_unlock(&g_cache_mu);
    }
    return TCN_OK;
}

/* ---- signatures and time ------------------------------------------------------------ */

/* CN of the certificate that signs TCB info and QE identity (Intel SGX PCK
 * Certificate and CRL Profile Specification, "TCB Signing Certificate"). */
#define TCB_SIGNING_CN "Intel SGX TCB Signing"

int tcn_dcap_tcb_signer_verify(tcn_slice chain_pem, STACK_OF(X509_CRL) *crls, const uint8_t crl_id[32],
                               int64_t at_ms, const char *what, STACK_OF(X509) **chain_out, tcn_error *err)
{
    STACK_OF(X509) *chain = NULL;
    if (tcn_dcap_pem_chain_cached(chain_pem, &chain, err) != TCN_OK)
        return tcn_err_wrap(err, "%s", what);
    uint8_t chain_id[32];
    tcn_dcap_hash_slices(&chain_pem, 1, chain_id);
    X509 *leaf = sk_X509_value(chain, 0);
    int rc = tcn_dcap_verify_chain_cached(leaf, chain, chain_id, crls, crl_id, at_ms, what, err);
    if (rc == TCN_OK) {
        char cn[128] = "";
        int n = X509_NAME_get_text_by_NID(X509_get_subject_name(leaf), NID_commonName, cn, sizeof(cn));
        if (n < 0 || strcmp(cn, TCB_SIGNING_CN) != 0)
            rc = tcn_err_set(err, TCN_ERR_CERT_CHAIN, "%s: leaf certificate CN '%s' is not '%s'", what, cn,
                             TCB_SIGNING_CN);
    }
    if (rc != TCN_OK) {
        sk_X509_pop_free(chain, X509_free);
        return rc;
    }
    *chain_out = chain;
    return TCN_OK;
}

int tcn_dcap_check_window(int64_t issue_ms, int64_t next_ms, int64_t at_ms, const char *what, tcn_error *err)
{
    char at[40], t[40];
    tcn_time_format_rfc3339(at_ms, at, sizeof(at));
    if (at_ms < issue_ms) {
        tcn_time_format_rfc3339(issue_ms, t, sizeof(t));
        return tcn_err_set(err, TCN_ERR_NOT_YET_VALID, "%s not yet valid (issueDate %s, verification time %s)", what,
                           t, at);
    }
    if (at_ms >= next_ms) {
        tcn_time_format_rfc3339(next_ms, t, sizeof(t));
        return tcn_err_set(err, TCN_ERR_EXPIRED, "%s expired (nextUpdate %s, verification time %s)", what, t, at);
    }
    return TCN_OK;
}

static int verify_signed_body(tcn_slice doc, const char *key, X509 *signer, const char *what, tcn_slice *body,
                              tcn_error *err)
{
    uint8_t sig[TCN_DCAP_SIG_LEN];
    if (tcn_dcap_signed_json_split(doc.p, doc.len, key, body, sig, err) != TCN_OK)
        return tcn_err_wrap(err, "%s", what);
    int rc = tcn_dcap_ecdsa_verify_cached(signer, body->p, body->len, sig, err);
    if (rc == TCN_ERR_BAD_SIGNATURE)
        return tcn_err_set(err, rc, "%s signature does not verify with the TCB Signing key", what);
    if (rc != TCN_OK)
        return tcn_err_wrap(err, "%s signature", what);
    return TCN_OK;
}

int tcn_dcap_tcb_info_load(tcn_slice doc, X509 *signer, int64_t at_ms, tcn_dcap_tcb_info *out, tcn_error *err)
{
    tcn_slice body;
    memset(out, 0, sizeof(*out));
    TCN_GUARD(verify_signed_body(doc, "tcbInfo", signer, "TCB info", &body, err));
    TCN_GUARD(tcn_dcap_tcb_info_parse(body.p, body.len, out, err));
    int rc = tcn_dcap_check_window(out->issue_date_ms, out->next_update_ms, at_ms, "TCB info", err);
    if (rc != TCN_OK)
        tcn_dcap_tcb_info_free(out);
    return rc;
}

int tcn_dcap_qe_identity_load(tcn_slice doc, X509 *signer, int64_t at_ms, tcn_dcap_qe_identity *out,
                              tcn_error *err)
{
    tcn_slice body;
    memset(out, 0, sizeof(*out));
    TCN_GUARD(verify_signed_body(doc, "enclaveIdentity", signer, "QE identity", &body, err));
    TCN_GUARD(tcn_dcap_qe_identity_parse(body.p, body.len, out, err));
    int rc = tcn_dcap_check_window(out->issue_date_ms, out->next_update_ms, at_ms, "QE identity", err);
    if (rc != TCN_OK)
        tcn_dcap_qe_identity_free(out);
    return rc;
}

/* ---- TCB rules ------------------------------------------------------------------------ */

/* Message builder that stops quietly when full. */
typedef struct msgbuf {
    char s[TCN_ERR_MSG_MAX];
    size_t n;
} msgbuf;

static void TCN_PRINTF(2, 3) mb_add(msgbuf *m, const char *fmt, ...)
{
    if (m->n >= sizeof(m->s) - 1)
        return;
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(m->s + m->n, sizeof(m->s) - m->n, fmt, ap);
    va_end(ap);
    if (k > 0)
        m->n += (size_t)k < sizeof(m->s) - m->n ? (size_t)k : sizeof(m->s) - m->n - 1;
}

static size_t tdx_first_component(const uint8_t *tee_tcb_svn)
{
    /* QVL TcbLevelCheck isTdxTcbHigherOrEqual: bytes 0..1 are the TDX module
     * SVN and major version, judged by the module identity when the version
     * is non-zero. */
    return tee_tcb_svn[1] > 0 ? 2 : 0;
}

static bool level_matches(const tcn_dcap_tcb_level *l, const uint8_t pck_comp[16], uint16_t pck_pcesvn,
                          const uint8_t *tee_tcb_svn)
{
    for (size_t i = 0; i < TCN_DCAP_TCB_COMPONENTS; i++)
        if (pck_comp[i] < l->sgx_svn[i])
            return false;
    if (pck_pcesvn < l->pcesvn)
        return false;
    if (tee_tcb_svn != NULL) {
        if (!l->has_tdx)
            return false;
        for (size_t i = tdx_first_component(tee_tcb_svn); i < TCN_DCAP_TCB_COMPONENTS; i++)
            if (tee_tcb_svn[i] < l->tdx_svn[i])
                return false;
    }
    return true;
}

/* Says which values were below every level, or else how the last (lowest)
 * level was missed. */
static int no_match(const tcn_dcap_tcb_level *levels, size_t n, const uint8_t pck_comp[16], uint16_t pck_pcesvn,
                    const uint8_t *tee_tcb_svn, tcn_error *err)
{
    msgbuf m = {.n = 0};
    m.s[0] = '\0';
    mb_add(&m, "no matching TCB level among %zu:", n);
    size_t reasons = 0;
    for (size_t i = 0; i < TCN_DCAP_TCB_COMPONENTS && n > 0; i++) {
        uint8_t lo = 255;
        for (size_t k = 0; k < n; k++)
            lo = levels[k].sgx_svn[i] < lo ? levels[k].sgx_svn[i] : lo;
        if (pck_comp[i] < lo)
            mb_add(&m, "%s PCK SGX component %zu is %u, every level requires >= %u", reasons++ ? ";" : "", i + 1,
                   pck_comp[i], lo);
    }
    uint16_t plo = 65535;
    for (size_t k = 0; k < n; k++)
        plo = levels[k].pcesvn < plo ? levels[k].pcesvn : plo;
    if (n > 0 && pck_pcesvn < plo)
        mb_add(&m, "%s PCK PCESVN is %u, every level requires >= %u", reasons++ ? ";" : "", pck_pcesvn, plo);
    if (tee_tcb_svn != NULL) {
        for (size_t i = tdx_first_component(tee_tcb_svn); i < TCN_DCAP_TCB_COMPONENTS && n > 0; i++) {
            uint8_t lo = 255;
            for (size_t k = 0; k < n; k++)
                lo = levels[k].tdx_svn[i] < lo ? levels[k].tdx_svn[i] : lo;
            if (tee_tcb_svn[i] < lo)
                mb_add(&m, "%s TEE_TCB_SVN[%zu] is %u, every level requires >= %u", reasons++ ? ";" : "", i,
                       tee_tcb_svn[i], lo);
        }
    }
    if (reasons == 0 && n > 0) {
        /* Each level fails on something else: show the lowest one. */
        const tcn_dcap_tcb_level *l = &levels[n - 1];
        mb_add(&m, " the lowest level (tcbDate %s) needs", l->tcb_date ? l->tcb_date : "?");
        for (size_t i = 0; i < TCN_DCAP_TCB_COMPONENTS; i++)
            if (pck_comp[i] < l->sgx_svn[i])
                mb_add(&m, " SGX component %zu >= %u (PCK has %u)", i + 1, l->sgx_svn[i], pck_comp[i]);
        if (pck_pcesvn < l->pcesvn)
            mb_add(&m, " PCESVN >= %u (PCK has %u)", l->pcesvn, pck_pcesvn);
        if (tee_tcb_svn != NULL && !l->has_tdx)
            mb_add(&m, " TDX components (it has none)");
        if (tee_tcb_svn != NULL && l->has_tdx)
            for (size_t i = tdx_first_component(tee_tcb_svn); i < TCN_DCAP_TCB_COMPONENTS; i++)
                if (tee_tcb_svn[i] < l->tdx_svn[i])
                    mb_add(&m, " TEE_TCB_SVN[%zu] >= %u (quote has %u)", i, l->tdx_svn[i], tee_tcb_svn[i]);
    }
    return tcn_err_set(err, TCN_ERR_NO_TCB_MATCH, "%s", m.s);
}

int tcn_dcap_match_tcb_level(const tcn_dcap_tcb_level *levels, size_t n, const uint8_t pck_comp[16],
                             uint16_t pck_pcesvn, const uint8_t *tee_tcb_svn, const tcn_dcap_tcb_level **out,
                             tcn_error *err)
{
    /* PCS lists levels newest first, and QVL takes the first match in that
     * order (TcbLevelCheck matchTcbLevels). */
    for (size_t i = 0; i < n; i++) {
        if (level_matches(&levels[i], pck_comp, pck_pcesvn, tee_tcb_svn)) {
            *out = &levels[i];
            return TCN_OK;
        }
    }
    return no_match(levels, n, pck_comp, pck_pcesvn, tee_tcb_svn, err);
}

int tcn_dcap_match_isv_level(const tcn_dcap_isv_level *levels, size_t n, uint16_t isvsvn, const char *what,
                             const tcn_dcap_isv_level **out, tcn_error *err)
{
    for (size_t i = 0; i < n; i++) {
        if (isvsvn >= levels[i].isvsvn) {
            *out = &levels[i];
            return TCN_OK;
        }
    }
    unsigned lo = 65535;
    for (size_t i = 0; i < n; i++)
        lo = levels[i].isvsvn < lo ? levels[i].isvsvn : lo;
    return tcn_err_set(err, TCN_ERR_NO_TCB_MATCH, "no %s TCB level for ISVSVN %u (every level requires >= %u)", what,
                       isvsvn, n > 0 ? lo : 0u);
}

int tcn_dcap_tdx_module_check(const tcn_dcap_tcb_info *ti, const uint8_t tee_tcb_svn[16],
                              const uint8_t mr_signer_seam[48], const uint8_t seam_attributes[8],
                              tcn_tcb_status *status, const tcn_dcap_isv_level **level, tcn_error *err)
{
    TCN_ENSURE(ti->tdx && ti->has_tdx_module, err, TCN_ERR_COLLATERAL, "TCB info has no tdxModule for a TDX quote");
    uint8_t version = tee_tcb_svn[1], svn = tee_tcb_svn[0];
    const uint8_t *mrsigner = ti->tdx_module_mrsigner;
    const uint8_t *attr = ti->tdx_module_attributes;
    const uint8_t *mask = ti->tdx_module_attributes_mask;
    const tcn_dcap_tdx_module_identity *id = NULL;
    char want[TCN_DCAP_MODULE_ID_MAX];
    snprintf(want, sizeof(want), "TDX_%02X", version);
    if (version > 0) {
        for (size_t i = 0; i < ti->module_count && id == NULL; i++)
            if (strcasecmp(ti->modules[i].id, want) == 0)
                id = &ti->modules[i];
        TCN_ENSURE(id != NULL, err, TCN_ERR_COLLATERAL,
                   "TCB info has no TDX module identity %s for TEE_TCB_SVN[1] = %u", want, version);
        mrsigner = id->mrsigner;
        attr = id->attributes;
        mask = id->attributes_mask;
    }
    const char *src = id != NULL ? want : "tdxModule";
    TCN_ENSURE(memcmp(mr_signer_seam, mrsigner, 48) == 0, err, TCN_ERR_COLLATERAL,
               "TD report MRSIGNERSEAM does not match the TCB info %s mrsigner", src);
    for (int i = 0; i < 8; i++)
        TCN_ENSURE((seam_attributes[i] & mask[i]) == (attr[i] & mask[i]), err, TCN_ERR_COLLATERAL,
                   "TD report SEAMATTRIBUTES do not match the TCB info %s attributes under its mask", src);
    if (id == NULL) {
        /* QVL checkTdxModuleTcbStatus: major version 0 has no module TCB. */
        *status = TCN_TCB_UP_TO_DATE;
        *level = NULL;
        return TCN_OK;
    }
    char what[48];
    snprintf(what, sizeof(what), "TDX module identity %s", want);
    TCN_GUARD(tcn_dcap_match_isv_level(id->levels, id->level_count, svn, what, level, err));
    *status = (*level)->status;
    return TCN_OK;
}

tcn_tcb_status tcn_dcap_converge_status(tcn_tcb_status platform, tcn_tcb_status other)
{
    if (other == TCN_TCB_REVOKED)
        return TCN_TCB_REVOKED;
    if (other == TCN_TCB_OUT_OF_DATE) {
        if (platform == TCN_TCB_UP_TO_DATE || platform == TCN_TCB_SW_HARDENING_NEEDED)
            return TCN_TCB_OUT_OF_DATE;
        if (platform == TCN_TCB_CONFIGURATION_NEEDED || platform == TCN_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED)
            return TCN_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED;
    }
    return platform;
}

/* ---- matching collateral to the quote ---------------------------------------------- */

int tcn_dcap_tcb_info_match(const tcn_dcap_tcb_info *ti, const tcn_dcap_pck_ext *pck, bool tdx, tcn_error *err)
{
    char a[2 * TCN_DCAP_FMSPC_LEN + 1], b[2 * TCN_DCAP_FMSPC_LEN + 1];
    if (memcmp(ti->fmspc, pck->fmspc, TCN_DCAP_FMSPC_LEN) != 0) {
        tcn_hex_encode(pck->fmspc, TCN_DCAP_FMSPC_LEN, a);
        tcn_hex_encode(ti->fmspc, TCN_DCAP_FMSPC_LEN, b);
        return tcn_err_set(err, TCN_ERR_COLLATERAL, "PCK certificate FMSPC %s does not match TCB info fmspc %s", a, b);
    }
    if (memcmp(ti->pceid, pck->pceid, TCN_DCAP_PCEID_LEN) != 0) {
        tcn_hex_encode(pck->pceid, TCN_DCAP_PCEID_LEN, a);
        tcn_hex_encode(ti->pceid, TCN_DCAP_PCEID_LEN, b);
        return tcn_err_set(err, TCN_ERR_COLLATERAL, "PCK certificate PCE-ID %s does not match TCB info pceId %s", a,
                           b);
    }
    TCN_ENSURE(ti->tdx == tdx, err, TCN_ERR_COLLATERAL, "TCB info is for %s but the quote is %s",
               ti->tdx ? "TDX" : "SGX", tdx ? "TDX" : "SGX");
    return TCN_OK;
}

int tcn_dcap_qe_identity_match(const tcn_dcap_qe_identity *qi, const tcn_dcap_sgx_report *qe_report, bool tdx,
                               const tcn_dcap_isv_level **level, tcn_error *err)
{
    tcn_dcap_qe_id want = tdx ? TCN_DCAP_QE_ID_TD_QE : TCN_DCAP_QE_ID_QE;
    TCN_ENSURE(qi->id == want, err, TCN_ERR_COLLATERAL, "QE identity id is not '%s' (the quote is %s)",
               tdx ? "TD_QE" : "QE", tdx ? "TDX" : "SGX");
    for (int i = 0; i < 4; i++)
        TCN_ENSURE((qe_report->miscselect[i] & qi->miscselect_mask[i]) == qi->miscselect[i], err, TCN_ERR_COLLATERAL,
                   "QE report MISCSELECT does not match the QE identity miscselect under miscselectMask");
    for (int i = 0; i < 16; i++)
        TCN_ENSURE((qe_report->attributes[i] & qi->attributes_mask[i]) == qi->attributes[i], err, TCN_ERR_COLLATERAL,
                   "QE report ATTRIBUTES do not match the QE identity attributes under attributesMask");
    TCN_ENSURE(memcmp(qe_report->mrsigner, qi->mrsigner, sizeof(qi->mrsigner)) == 0, err, TCN_ERR_COLLATERAL,
               "QE report MRSIGNER does not match the QE identity mrsigner");
    TCN_ENSURE(qe_report->isvprodid == qi->isvprodid, err, TCN_ERR_COLLATERAL,
               "QE report ISVPRODID %u does not match the QE identity isvprodid %u", qe_report->isvprodid,
               qi->isvprodid);
    return tcn_dcap_match_isv_level(qi->levels, qi->level_count, qe_report->isvsvn, "QE identity", level, err);
}
