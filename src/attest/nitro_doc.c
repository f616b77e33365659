/* Nitro attestation document parser: the COSE_Sign1 envelope (RFC 9052 §4.2)
 * and the payload fields (aws-nitro-enclaves-nsm-api docs/attestation_process.md
 * §2.2 and §3.2.2), on libcbor after a bounds pre-check of our own. */
#include "attest/nitro_doc.h"

#include <stdio.h>
#include <string.h>

#include <cbor.h>

#include "util/assert.h"

/* ---- CBOR helpers -------------------------------------------------------- */

int tcn_nitro_cbor_head(tcn_cursor *c, unsigned *major, uint64_t *arg)
{
    const tcn_cursor save = *c;
    uint8_t ib;
    TCN_GUARD(tcn_cur_u8(c, &ib));
    unsigned ai = ib & 0x1fu;
    uint64_t v = ai;
    int rc = TCN_OK;
    /* RFC 8949 §3: additional information 24..27 carries a 1/2/4/8-byte
     * big-endian argument; 28..30 are reserved and 31 is indefinite / break. */
    if (ai == 24) {
        uint8_t x = 0;
        rc = tcn_cur_u8(c, &x);
        v = x;
    } else if (ai == 25) {
        uint16_t x = 0;
        rc = tcn_cur_u16be(c, &x);
        v = x;
    } else if (ai == 26) {
        uint32_t x = 0;
        rc = tcn_cur_u32be(c, &x);
        v = x;
    } else if (ai == 27) {
        rc = tcn_cur_u64be(c, &v);
    } else if (ai >= 28) {
        rc = TCN_ERR_MALFORMED;
    }
    if (rc != TCN_OK) {
        *c = save;
        return rc;
    }
    *major = ib >> 5;
    *arg = v;
    return TCN_OK;
}

int tcn_nitro_cbor_check(const uint8_t *p, size_t len, unsigned depth_max, const char *what, tcn_error *err)
{
    TCN_ASSERT(depth_max <= TCN_NITRO_CBOR_DEPTH_MAX);
    tcn_cursor c;
    tcn_cur_init(&c, p, len);
    /* need[d]: items still due inside the container open at depth d (depth 0
     * is the one top-level item). Iterative, so hostile nesting costs no stack. */
    uint64_t need[TCN_NITRO_CBOR_DEPTH_MAX + 1];
    unsigned depth = 0;
    need[0] = 1;
    for (;;) {
        while (need[depth] == 0 && depth > 0)
            depth--;
        if (need[depth] == 0)
            break;
        need[depth]--;
        size_t at = c.off;
        unsigned major;
        uint64_t arg;
        int rc = tcn_nitro_cbor_head(&c, &major, &arg);
        if (rc == TCN_ERR_TRUNCATED)
            return tcn_err_set(err, TCN_ERR_TRUNCATED, "%s: CBOR ends inside the item head at offset %zu", what, at);
        if (rc != TCN_OK)
            return tcn_err_set(err, TCN_ERR_MALFORMED,
                               "%s: CBOR item at offset %zu (0x%02x) uses an indefinite length or a reserved encoding",
                               what, at, p[at]);
        size_t left = tcn_cur_remaining(&c);
        uint64_t children = 0;
        switch (major) {
        case TCN_NITRO_CBOR_UINT:
        case TCN_NITRO_CBOR_NEGINT:
            break;
        case TCN_NITRO_CBOR_BYTES:
        case TCN_NITRO_CBOR_TEXT:
            if (arg > left)
                return tcn_err_set(err, TCN_ERR_TRUNCATED,
                                   "%s: CBOR string at offset %zu declares %llu bytes, %zu left", what, at,
                                   (unsigned long long)arg, left);
            rc = tcn_cur_skip(&c, (size_t)arg);
            TCN_ASSERT(rc == TCN_OK);
            break;
        case TCN_NITRO_CBOR_ARRAY:
        case TCN_NITRO_CBOR_MAP: {
            /* Every element takes at least one byte: a count beyond what is
             * left cannot be genuine, and libcbor would preallocate it. */
            uint64_t per = major == TCN_NITRO_CBOR_MAP ? 2 : 1;
            if (arg > left / per)
                return tcn_err_set(err, TCN_ERR_TRUNCATED,
                                   "%s: CBOR %s at offset %zu declares %llu entries, %zu bytes left", what,
                                   major == TCN_NITRO_CBOR_MAP ? "map" : "array", at, (unsigned long long)arg,
                                   left);
            children = arg * per;
            break;
        }
        case TCN_NITRO_CBOR_TAG:
            children = 1;
            break;
        default: /* TCN_NITRO_CBOR_SIMPLE */
            /* RFC 8949 §3.3: a one-byte simple value below 32 is not well-formed. */
            if ((p[at] & 0x1fu) == 24 && arg < 32)
                return tcn_err_set(err, TCN_ERR_MALFORMED, "%s: CBOR simple value at offset %zu is not well-formed",
                                   what, at);
            break;
        }
        if (children > 0) {
            if (depth + 1 > depth_max)
                return tcn_err_set(err, TCN_ERR_MALFORMED, "%s: CBOR nests deeper than %u at offset %zu", what,
                                   depth_max, at);
            need[++depth] = children;
        }
    }
    size_t trailing = tcn_cur_remaining(&c);
    TCN_ENSURE(trailing == 0, err, TCN_ERR_MALFORMED, "%s: %zu trailing bytes after the CBOR item", what, trailing);
    return TCN_OK;
}

int tcn_nitro_cbor_put_head(tcn_buf *b, unsigned major, uint64_t arg)
{
    TCN_ASSERT(major <= 7);
    uint8_t mt = (uint8_t)(major << 5);
    if (arg < 24)
        return tcn_buf_u8(b, (uint8_t)(mt | arg));
    if (arg <= UINT8_MAX) {
        TCN_GUARD(tcn_buf_u8(b, mt | 24));
        return tcn_buf_u8(b, (uint8_t)arg);
    }
    if (arg <= UINT16_MAX) {
        TCN_GUARD(tcn_buf_u8(b, mt | 25));
        return tcn_buf_u16be(b, (uint16_t)arg);
    }
    if (arg <= UINT32_MAX) {
        TCN_GUARD(tcn_buf_u8(b, mt | 26));
        return tcn_buf_u32be(b, (uint32_t)arg);
    }
    TCN_GUARD(tcn_buf_u8(b, mt | 27));
    return tcn_buf_u64be(b, arg);
}

void tcn_nitro_quote(const uint8_t *p, size_t n, char *out, size_t cap)
{
    TCN_ASSERT(cap >= 8);
    size_t o = 0, i = 0;
    for (; i < n && o + 4 < cap; i++)
        out[o++] = (p[i] >= 0x20 && p[i] < 0x7f) ? (char)p[i] : '?';
    if (i < n) {
        out[o++] = '.';
        out[o++] = '.';
        out[o++] = '.';
    }
    out[o] = '\0';
}

/* ---- decoding with libcbor ---------------------------------------------- */

/* Decodes p[0..len), which has passed tcn_nitro_cbor_check; the whole input
 * must be the one item. */
static int decode(const uint8_t *p, size_t len, const char *what, cbor_item_t **out, tcn_error *err)
{
    struct cbor_load_result r;
    memset(&r, 0, sizeof(r));
    cbor_item_t *item = cbor_load(p, len, &r);
    if (item == NULL || r.error.code != CBOR_ERR_NONE || r.read != len) {
        if (item != NULL)
            cbor_decref(&item);
        if (r.error.code == CBOR_ERR_MEMERROR)
            return tcn_err_set(err, TCN_ERR_NOMEM, "%s: out of memory decoding CBOR", what);
        return tcn_err_set(err, TCN_ERR_MALFORMED,
                           "%s: CBOR does not decode (libcbor error %d at byte %zu, read %zu of %zu)", what,
                           (int)r.error.code, r.error.position, r.read, len);
    }
    *out = item;
    return TCN_OK;
}

/* Pre-checks p[0..len) and decodes it. */
static int load(const uint8_t *p, size_t len, const char *what, cbor_item_t **out, tcn_error *err)
{
    TCN_GUARD(tcn_nitro_cbor_check(p, len, TCN_NITRO_CBOR_DEPTH_MAX, what, err));
    return decode(p, len, what, out, err);
}

static const uint8_t empty_bytes[1];

/* A definite byte string's contents (never a NULL pointer, even when empty). */
static bool get_bytes(const cbor_item_t *it, const uint8_t **p, size_t *len)
{
    if (!cbor_isa_bytestring(it) || !cbor_bytestring_is_definite(it))
        return false;
    *len = cbor_bytestring_length(it);
    *p = *len > 0 ? cbor_bytestring_handle(it) : empty_bytes;
    return *p != NULL;
}

static bool get_text(const cbor_item_t *it, const uint8_t **p, size_t *len)
{
    if (!cbor_isa_string(it) || !cbor_string_is_definite(it))
        return false;
    *len = cbor_string_length(it);
    *p = *len > 0 ? cbor_string_handle(it) : empty_bytes;
    return *p != NULL;
}

static bool text_is(const uint8_t *p, size_t n, const char *s) { return n == strlen(s) && memcmp(p, s, n) == 0; }

/* ---- COSE_Sign1 protected header ---------------------------------------- */

static const char *cose_alg_name(int64_t alg)
{
    switch (alg) { /* IANA COSE Algorithms registry */
    case -7: return "ES256";
    case -35: return "ES384";
    case -36: return "ES512";
    case -8: return "EdDSA";
    case -37: return "PS256";
    case -257: return "RS256";
    default: return "unknown";
    }
}

/* The NSM sends exactly {1: -35} (attestation_process.md §3.1). Other labels
 * are rejected rather than ignored: nothing else is expected, and a 'crit'
 * (2) we skipped would be a parameter we were told we must understand. */
static int check_protected_map(const cbor_item_t *h, tcn_error *err)
{
    TCN_ENSURE(cbor_isa_map(h), err, TCN_ERR_MALFORMED, "nitro: COSE protected header is not a map");
    const struct cbor_pair *kv = cbor_map_handle(h);
    size_t n = cbor_map_size(h);
    bool have_alg = false;
    for (size_t i = 0; i < n; i++) {
        TCN_ENSURE(cbor_isa_uint(kv[i].key) && cbor_get_int(kv[i].key) == TCN_COSE_LABEL_ALG, err,
                   TCN_ERR_MALFORMED,
                   "nitro: COSE protected header entry #%zu is not 'alg' (1); the NSM sends only 'alg'", i);
        TCN_ENSURE(!have_alg, err, TCN_ERR_MALFORMED, "nitro: COSE protected header has 'alg' twice");
        have_alg = true;
        const cbor_item_t *v = kv[i].value;
        uint64_t m = cbor_is_int(v) ? cbor_get_int(v) : 0;
        TCN_ENSURE(cbor_is_int(v) && m <= (uint64_t)INT64_MAX, err, TCN_ERR_UNSUPPORTED,
                   "nitro: COSE protected header 'alg' is not a registered integer algorithm; only -35 (ES384) is "
                   "accepted");
        int64_t alg = cbor_isa_negint(v) ? -1 - (int64_t)m : (int64_t)m; /* RFC 8949 §3.1: -1 - argument */
        TCN_ENSURE(alg == TCN_COSE_ALG_ES384, err, TCN_ERR_UNSUPPORTED,
                   "nitro: COSE protected header 'alg' is %lld (%s); only -35 (ES384) is accepted", (long long)alg,
                   cose_alg_name(alg));
    }
    TCN_ENSURE(have_alg, err, TCN_ERR_MALFORMED, "nitro: COSE protected header has no 'alg' (1)");
    return TCN_OK;
}

static int check_protected(const uint8_t *p, size_t len, tcn_error *err)
{
    /* RFC 9052 §3: an empty bstr stands for an empty map, which lacks 'alg'. */
    TCN_ENSURE(len > 0, err, TCN_ERR_MALFORMED, "nitro: COSE protected header is empty; 'alg' (1) is required");
    cbor_item_t *h = NULL;
    TCN_GUARD(load(p, len, "nitro: COSE protected header", &h, err));
    int rc = check_protected_map(h, err);
    cbor_decref(&h);
    return rc;
}

/* ---- payload fields ------------------------------------------------------ */

enum {
    F_MODULE_ID,
    F_DIGEST,
    F_TIMESTAMP,
    F_PCRS,
    F_CERTIFICATE,
    F_CABUNDLE,
    F_PUBLIC_KEY,
    F_USER_DATA,
    F_NONCE,
    F_COUNT_
};

static const struct {
    const char *name;
    bool required;
} fields[F_COUNT_] = {
    /* attestation_process.md §3.2.2.1: mandatory and optional fields. */
    [F_MODULE_ID] = {"module_id", true},     [F_DIGEST] = {"digest", true},
    [F_TIMESTAMP] = {"timestamp", true},     [F_PCRS] = {"pcrs", true},
    [F_CERTIFICATE] = {"certificate", true}, [F_CABUNDLE] = {"cabundle", true},
    [F_PUBLIC_KEY] = {"public_key", false},  [F_USER_DATA] = {"user_data", false},
    [F_NONCE] = {"nonce", false},
};

static int parse_module_id(tcn_nitro_doc *d, const cbor_item_t *v, tcn_error *err)
{
    const uint8_t *p;
    size_t n;
    TCN_ENSURE(get_text(v, &p, &n), err, TCN_ERR_MALFORMED, "nitro: payload field 'module_id' is not a text string");
    TCN_ENSURE(n > 0, err, TCN_ERR_MALFORMED, "nitro: payload field 'module_id' is empty");
    TCN_ENSURE(n <= TCN_NITRO_MODULE_ID_MAX, err, TCN_ERR_TOO_LARGE,
               "nitro: payload field 'module_id' has %zu bytes, limit %d", n, TCN_NITRO_MODULE_ID_MAX);
    /* NSM module ids are ASCII ("i-<instance>-enc<id>"); they reach logs and
     * JSON, so control characters and non-ASCII bytes are refused. */
    for (size_t i = 0; i < n; i++)
        TCN_ENSURE(p[i] >= 0x20 && p[i] < 0x7f, err, TCN_ERR_MALFORMED,
                   "nitro: payload field 'module_id' has a non-printable byte 0x%02x at %zu", p[i], i);
    memcpy(d->module_id, p, n);
    d->module_id[n] = '\0';
    return TCN_OK;
}

static int parse_digest(const cbor_item_t *v, tcn_error *err)
{
    const uint8_t *p;
    size_t n;
    TCN_ENSURE(get_text(v, &p, &n), err, TCN_ERR_MALFORMED, "nitro: payload field 'digest' is not a text string");
    if (!text_is(p, n, "SHA384")) {
        char q[40];
        tcn_nitro_quote(p, n, q, sizeof(q));
        return tcn_err_set(err, TCN_ERR_UNSUPPORTED,
                           "nitro: payload field 'digest' is \"%s\"; only \"SHA384\" is supported", q);
    }
    return TCN_OK;
}

static int parse_timestamp(tcn_nitro_doc *d, const cbor_item_t *v, tcn_error *err)
{
    TCN_ENSURE(cbor_isa_uint(v), err, TCN_ERR_MALFORMED,
               "nitro: payload field 'timestamp' is not an unsigned integer");
    uint64_t t = cbor_get_int(v);
    /* §3.2.2.2: timestamp > 0; milliseconds must also fit our int64 clock. */
    TCN_ENSURE(t > 0 && t <= (uint64_t)INT64_MAX, err, TCN_ERR_MALFORMED,
               "nitro: payload field 'timestamp' is %llu, out of range", (unsigned long long)t);
    d->timestamp_ms = (int64_t)t;
    return TCN_OK;
}

static int parse_pcrs(tcn_nitro_doc *d, const cbor_item_t *v, tcn_error *err)
{
    TCN_ENSURE(cbor_isa_map(v), err, TCN_ERR_MALFORMED, "nitro: payload field 'pcrs' is not a map");
    size_t n = cbor_map_size(v);
    /* §3.2.2.2: 1..32 entries, integer index 0..31, byte string content. */
    TCN_ENSURE(n >= 1 && n <= TCN_NITRO_PCR_COUNT, err, TCN_ERR_MALFORMED,
               "nitro: payload field 'pcrs' has %zu entries, expected 1..%d", n, TCN_NITRO_PCR_COUNT);
    const struct cbor_pair *kv = cbor_map_handle(v);
    for (size_t i = 0; i < n; i++) {
        TCN_ENSURE(cbor_isa_uint(kv[i].key), err, TCN_ERR_MALFORMED,
                   "nitro: payload field 'pcrs': key #%zu is not an unsigned integer", i);
        uint64_t idx = cbor_get_int(kv[i].key);
        TCN_ENSURE(idx < TCN_NITRO_PCR_COUNT, err, TCN_ERR_MALFORMED,
                   "nitro: payload field 'pcrs': index %llu is out of range 0..%d", (unsigned long long)idx,
                   TCN_NITRO_PCR_COUNT - 1);
        uint32_t bit = 1u << idx;
        TCN_ENSURE(!(d->pcr_present & bit), err, TCN_ERR_MALFORMED,
                   "nitro: payload field 'pcrs': PCR %u appears twice", (unsigned)idx);
        const uint8_t *p;
        size_t len;
        TCN_ENSURE(get_bytes(kv[i].value, &p, &len), err, TCN_ERR_MALFORMED,
                   "nitro: payload field 'pcrs': PCR %u is not a byte string", (unsigned)idx);
        /* digest is SHA384, so every PCR holds 48 bytes (§2.2 "pcr = bytes .size (32/48/64)"). */
        TCN_ENSURE(len == TCN_NITRO_PCR_LEN, err, TCN_ERR_MALFORMED,
                   "nitro: payload field 'pcrs': PCR %u has %zu bytes, expected %d", (unsigned)idx, len,
                   TCN_NITRO_PCR_LEN);
        d->pcr_present |= bit;
        d->pcrs[idx] = p;
    }
    return TCN_OK;
}

/* One DER certificate: non-empty and within TCN_NITRO_CERT_MAX. `what` is
 * "'certificate'" or "'cabundle': entry 2". */
static int parse_cert_bytes(const cbor_item_t *v, const char *what, const uint8_t **p, size_t *len, tcn_error *err)
{
    TCN_ENSURE(get_bytes(v, p, len), err, TCN_ERR_MALFORMED, "nitro: payload field %s is not a byte string", what);
    TCN_ENSURE(*len > 0, err, TCN_ERR_MALFORMED, "nitro: payload field %s is empty", what);
    TCN_ENSURE(*len <= TCN_NITRO_CERT_MAX, err, TCN_ERR_TOO_LARGE,
               "nitro: payload field %s has %zu bytes, limit %d", what, *len, TCN_NITRO_CERT_MAX);
    return TCN_OK;
}

static int parse_cabundle(tcn_nitro_doc *d, const cbor_item_t *v, tcn_error *err)
{
    TCN_ENSURE(cbor_isa_array(v), err, TCN_ERR_MALFORMED, "nitro: payload field 'cabundle' is not an array");
    size_t n = cbor_array_size(v);
    TCN_ENSURE(n > 0, err, TCN_ERR_MALFORMED, "nitro: payload field 'cabundle' is empty");
    TCN_ENSURE(n <= TCN_NITRO_CABUNDLE_MAX, err, TCN_ERR_TOO_LARGE,
               "nitro: payload field 'cabundle' has %zu entries, limit %d", n, TCN_NITRO_CABUNDLE_MAX);
    cbor_item_t **items = cbor_array_handle(v);
    for (size_t i = 0; i < n; i++) {
        char what[48];
        snprintf(what, sizeof(what), "'cabundle': entry %zu", i);
        TCN_GUARD(parse_cert_bytes(items[i], what, &d->cabundle[i], &d->cabundle_len[i], err));
    }
    d->cabundle_count = n;
    return TCN_OK;
}

/* public_key, user_data, nonce: a byte string of at most TCN_NITRO_FIELD_MAX
 * bytes, or null. The nsm-api CDDL (§2.2) allows 0..1024 bytes; the stricter
 * 512 and "no null" of §3.2.2 are not followed, because genuine documents
 * carry 1024-byte fields and nulls (testdata PROVENANCE, size-limit note). */
static int parse_opt_bytes(const cbor_item_t *v, const char *name, tcn_nitro_opt_bytes *out, tcn_error *err)
{
    if (cbor_is_null(v)) {
        out->present = false;
        return TCN_OK;
    }
    TCN_ENSURE(get_bytes(v, &out->p, &out->len), err, TCN_ERR_MALFORMED,
               "nitro: payload field '%s' is neither a byte string nor null", name);
    TCN_ENSURE(out->len <= TCN_NITRO_FIELD_MAX, err, TCN_ERR_TOO_LARGE,
               "nitro: payload field '%s' has %zu bytes, limit %d", name, out->len, TCN_NITRO_FIELD_MAX);
    out->present = true;
    return TCN_OK;
}

static int parse_field(tcn_nitro_doc *d, int f, const cbor_item_t *v, tcn_error *err)
{
    switch (f) {
    case F_MODULE_ID: return parse_module_id(d, v, err);
    case F_DIGEST: return parse_digest(v, err);
    case F_TIMESTAMP: return parse_timestamp(d, v, err);
    case F_PCRS: return parse_pcrs(d, v, err);
    case F_CERTIFICATE: return parse_cert_bytes(v, "'certificate'", &d->certificate, &d->certificate_len, err);
    case F_CABUNDLE: return parse_cabundle(d, v, err);
    case F_PUBLIC_KEY: return parse_opt_bytes(v, "public_key", &d->public_key, err);
    case F_USER_DATA: return parse_opt_bytes(v, "user_data", &d->user_data, err);
    case F_NONCE: return parse_opt_bytes(v, "nonce", &d->nonce, err);
    default: TCN_ASSERT(0 && "unknown payload field");
    }
    return TCN_ERR_INTERNAL;
}

/* Unknown payload keys. Keys must be text strings (a non-text key is an
 * error); a text key we do not know is skipped. Why skip: the payload is
 * signed by the AWS Nitro PKI, so an unknown key cannot be injected by an
 * attacker; the reference decoder (nsm-api's serde-derived AttestationDoc,
 * no deny_unknown_fields) ignores unknown fields; and rejecting them would
 * turn an additive AWS format change into an outage of every node at once.
 * The known keys are still strict: right type, right size, at most once. */
static int parse_payload(tcn_nitro_doc *d, tcn_error *err)
{
    TCN_GUARD(load(d->payload, d->payload_len, "nitro: payload", &d->payload_item_, err));
    const cbor_item_t *m = d->payload_item_;
    TCN_ENSURE(cbor_isa_map(m), err, TCN_ERR_MALFORMED, "nitro: payload is not a map");
    const struct cbor_pair *kv = cbor_map_handle(m);
    size_t n = cbor_map_size(m);
    unsigned seen = 0;
    for (size_t i = 0; i < n; i++) {
        const uint8_t *k;
        size_t klen;
        TCN_ENSURE(get_text(kv[i].key, &k, &klen), err, TCN_ERR_MALFORMED,
                   "nitro: payload key #%zu is not a text string", i);
        int f = -1;
        for (int j = 0; j < F_COUNT_; j++)
            if (text_is(k, klen, fields[j].name))
                f = j;
        if (f < 0)
            continue; /* unknown text key: see above */
        TCN_ENSURE(!(seen & (1u << f)), err, TCN_ERR_MALFORMED, "nitro: payload field '%s' appears twice",
                   fields[f].name);
        seen |= 1u << f;
        TCN_GUARD(parse_field(d, f, kv[i].value, err));
    }
    for (int f = 0; f < F_COUNT_; f++)
        TCN_ENSURE(!fields[f].required || (seen & (1u << f)), err, TCN_ERR_MALFORMED,
                   "nitro: payload field '%s' is missing", fields[f].name);
    return TCN_OK;
}

/* ---- the envelope -------------------------------------------------------- */

static int parse_doc(const uint8_t *doc, size_t len, tcn_nitro_doc *d, tcn_error *err)
{
    TCN_ENSURE(len > 0, err, TCN_ERR_TRUNCATED, "nitro: empty document");
    TCN_ENSURE(len <= TCN_NITRO_DOC_MAX, err, TCN_ERR_TOO_LARGE, "nitro: document has %zu bytes, limit %d", len,
               TCN_NITRO_DOC_MAX);
    TCN_GUARD(tcn_nitro_cbor_check(doc, len, TCN_NITRO_CBOR_DEPTH_MAX, "nitro: COSE_Sign1", err));
    /* COSE_Sign1 may come tagged 18 (RFC 9052 §2, §4.2). The tag is read
     * here, not by libcbor: libcbor 0.8 rejects the one-byte tag heads
     * 0xc6..0xd4 as reserved, and 18 is 0xd2. */
    tcn_cursor c;
    tcn_cur_init(&c, doc, len);
    unsigned major = 0;
    uint64_t tag = 0;
    int rc = tcn_nitro_cbor_head(&c, &major, &tag);
    TCN_ASSERT(rc == TCN_OK); /* the check above read the same head */
    if (major == TCN_NITRO_CBOR_TAG) {
        TCN_ENSURE(tag == TCN_COSE_SIGN1_TAG, err, TCN_ERR_MALFORMED,
                   "nitro: COSE_Sign1: CBOR tag %llu, expected 18 (COSE_Sign1) or none", (unsigned long long)tag);
        d->tagged = true;
    } else {
        tcn_cur_init(&c, doc, len);
    }
    TCN_GUARD(decode(tcn_cur_ptr(&c), tcn_cur_remaining(&c), "nitro: COSE_Sign1", &d->cose_item_, err));
    const cbor_item_t *arr = d->cose_item_;
    TCN_ENSURE(cbor_isa_array(arr) && cbor_array_size(arr) == 4, err, TCN_ERR_MALFORMED,
               "nitro: COSE_Sign1: expected an array of 4 items [protected, unprotected, payload, signature]");
    cbor_item_t **it = cbor_array_handle(arr);

    TCN_ENSURE(get_bytes(it[0], &d->protected_hdr, &d->protected_len), err, TCN_ERR_MALFORMED,
               "nitro: COSE protected header is not a byte string");
    TCN_GUARD(check_protected(d->protected_hdr, d->protected_len, err));

    /* Unprotected parameters are not covered by the signature; the NSM sends
     * none, so any are refused rather than trusted or silently dropped. */
    TCN_ENSURE(cbor_isa_map(it[1]), err, TCN_ERR_MALFORMED, "nitro: COSE unprotected header is not a map");
    TCN_ENSURE(cbor_map_size(it[1]) == 0, err, TCN_ERR_MALFORMED,
               "nitro: COSE unprotected header has %zu entries, expected none", cbor_map_size(it[1]));

    TCN_ENSURE(get_bytes(it[2], &d->payload, &d->payload_len), err, TCN_ERR_MALFORMED,
               "nitro: COSE payload is not a byte string (detached payloads are not used by the NSM)");
    TCN_ENSURE(d->payload_len > 0, err, TCN_ERR_MALFORMED, "nitro: COSE payload is empty");

    size_t sig_len = 0;
    TCN_ENSURE(get_bytes(it[3], &d->signature, &sig_len), err, TCN_ERR_MALFORMED,
               "nitro: COSE signature is not a byte string");
    TCN_ENSURE(sig_len == TCN_NITRO_SIG_LEN, err, TCN_ERR_MALFORMED,
               "nitro: COSE signature has %zu bytes, expected %d (ES384 r||s)", sig_len, TCN_NITRO_SIG_LEN);

    return parse_payload(d, err);
}

int tcn_nitro_doc_parse(const uint8_t *doc, size_t len, tcn_nitro_doc *out, tcn_error *err)
{
    TCN_ASSERT(out != NULL && (doc != NULL || len == 0));
    memset(out, 0, sizeof(*out));
    int rc = parse_doc(doc, len, out, err);
    if (rc != TCN_OK)
        tcn_nitro_doc_free(out);
    return rc;
}

void tcn_nitro_doc_free(tcn_nitro_doc *d)
{
    if (d == NULL)
        return;
    if (d->payload_item_ != NULL)
        cbor_decref(&d->payload_item_);
    if (d->cose_item_ != NULL)
        cbor_decref(&d->cose_item_);
    memset(d, 0, sizeof(*d));
}
