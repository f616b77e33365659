/* The RA-TLS evidence extension: deterministic CBOR encoder and strict pure parser. */
#include <string.h>

#include "attest/nitro_doc.h"
#include "tls/ratls.h"
#include "util/assert.h"
#include "util/cursor.h"

/* CBOR major types (RFC 8949 §3.1), the ones this format uses. */
enum { MT_UINT = 0, MT_BYTES = 2, MT_TEXT = 3, MT_ARRAY = 4, MT_MAP = 5, MT_TAG = 6 };

/* The claim names, in deterministic order (RFC 8949 §4.2.1: bytewise order of
 * the encoded keys; a text head grows with the length, so shorter first). */
enum { CLAIM_NONCE = 0, CLAIM_GROUP = 1, CLAIM_PUBKEY_HASH = 2, CLAIM_COUNT_ = 3 };
static const char *const claim_names[CLAIM_COUNT_] = {"nonce", "tcn-group", "pubkey-hash"};
#define CLAIM_NAME_MAX 16

static const char *major_name(unsigned m)
{
    static const char *const names[] = {"unsigned integer", "negative integer", "byte string", "text string",
                                        "array", "map", "tag", "simple value or float"};
    return m < 8 ? names[m] : "?";
}

static size_t head_len(uint64_t arg)
{
    return arg < 24 ? 1 : arg <= 0xff ? 2 : arg <= 0xffff ? 3 : arg <= 0xffffffffu ? 5 : 9;
}

static size_t hash_len_of(uint64_t alg)
{
    switch (alg) {
    case TCN_RATLS_HASH_SHA256:
        return 32;
    case TCN_RATLS_HASH_SHA384:
        return 48;
    case TCN_RATLS_HASH_SHA512:
        return 64;
    default:
        return 0;
    }
}

/* One item head, definite and in the shortest form (the encoding is
 * deterministic, so there is exactly one accepted spelling of each value). */
static int head(tcn_cursor *c, unsigned *major, uint64_t *arg, const char *what, tcn_error *err)
{
    size_t at = c->off;
    int rc = tcn_nitro_cbor_head(c, major, arg);
    if (rc == TCN_ERR_TRUNCATED)
        return tcn_err_set(err, TCN_ERR_TRUNCATED, "%s: CBOR ends inside the item head at offset %zu", what, at);
    if (rc != TCN_OK)
        return tcn_err_set(err, TCN_ERR_MALFORMED,
                           "%s: CBOR item at offset %zu uses an indefinite length or a reserved encoding", what, at);
    if (c->off - at != head_len(*arg)) {
        c->off = at;
        return tcn_err_set(err, TCN_ERR_MALFORMED,
                           "%s: CBOR head at offset %zu is not in the shortest form (RFC 8949 §4.2.1)", what, at);
    }
    return TCN_OK;
}

static int expect(tcn_cursor *c, unsigned want, uint64_t *arg, const char *what, tcn_error *err)
{
    size_t at = c->off;
    unsigned major;
    TCN_GUARD(head(c, &major, arg, what, err));
    if (major != want) {
        c->off = at;
        return tcn_err_set(err, TCN_ERR_MALFORMED, "%s: expected a CBOR %s at offset %zu, found a %s", what,
                           major_name(want), at, major_name(major));
    }
    return TCN_OK;
}

/* A byte string of min..max bytes, borrowed. */
static int bstr(tcn_cursor *c, size_t min, size_t max, const uint8_t **p, size_t *n, const char *what,
                tcn_error *err)
{
    size_t at = c->off;
    uint64_t len;
    TCN_GUARD(expect(c, MT_BYTES, &len, what, err));
    int rc = TCN_OK;
    if (len > max)
        rc = tcn_err_set(err, TCN_ERR_TOO_LARGE, "%s: %llu bytes, at most %zu", what, (unsigned long long)len, max);
    else if (len < min)
        rc = tcn_err_set(err, TCN_ERR_MALFORMED, "%s: %llu bytes, at least %zu", what, (unsigned long long)len, min);
    else if (tcn_cur_view(c, (size_t)len, p) != TCN_OK)
        rc = tcn_err_set(err, TCN_ERR_TRUNCATED, "%s: declares %llu bytes, %zu left", what, (unsigned long long)len,
                         tcn_cur_remaining(c));
    if (rc != TCN_OK) {
        c->off = at;
        return rc;
    }
    *n = (size_t)len;
    return TCN_OK;
}

static int at_end(const tcn_cursor *c, const char *what, tcn_error *err)
{
    TCN_ENSURE(tcn_cur_remaining(c) == 0, err, TCN_ERR_MALFORMED, "%s: %zu bytes after the item", what,
               tcn_cur_remaining(c));
    return TCN_OK;
}

/* ---- encoding ---------------------------------------------------------------- */

static int put_bstr(tcn_buf *b, const uint8_t *p, size_t n)
{
    TCN_GUARD(tcn_nitro_cbor_put_head(b, MT_BYTES, n));
    return tcn_buf_append(b, p, n);
}

static int put_text(tcn_buf *b, const char *s)
{
    size_t n = strlen(s);
    TCN_GUARD(tcn_nitro_cbor_put_head(b, MT_TEXT, n));
    return tcn_buf_append(b, s, n);
}

static int encode_claims(const tcn_ratls_claims *c, tcn_buf *out)
{
    /* "pubkey-hash" holds the encoded hash-entry [alg, hash] as a byte string
     * (the draft; CoSWID hash-entry). */
    uint8_t entry[4 + 2 + TCN_RATLS_HASH_MAX];
    tcn_buf e = {0};
    int rc = tcn_nitro_cbor_put_head(&e, MT_ARRAY, 2);
    if (rc == TCN_OK)
        rc = tcn_nitro_cbor_put_head(&e, MT_UINT, c->hash_alg);
    if (rc == TCN_OK)
        rc = put_bstr(&e, c->hash, c->hash_len);
    size_t entry_len = e.len;
    if (rc == TCN_OK) {
        TCN_ASSERT(entry_len <= sizeof(entry));
        memcpy(entry, e.p, entry_len);
    }
    tcn_buf_free(&e);
    TCN_GUARD(rc);

    size_t n = 1 + (c->nonce_present ? 1 : 0) + (c->group_present ? 1 : 0);
    TCN_GUARD(tcn_nitro_cbor_put_head(out, MT_MAP, n));
    if (c->nonce_present) {
        TCN_GUARD(put_text(out, claim_names[CLAIM_NONCE]));
        TCN_GUARD(put_bstr(out, c->nonce, c->nonce_len));
    }
    if (c->group_present) {
        TCN_GUARD(put_text(out, claim_names[CLAIM_GROUP]));
        TCN_GUARD(put_bstr(out, c->group_id, TCN_RATLS_GROUP_ID_LEN));
    }
    TCN_GUARD(put_text(out, claim_names[CLAIM_PUBKEY_HASH]));
    return put_bstr(out, entry, entry_len);
}

int tcn_ratls_claims_encode(const tcn_ratls_claims *c, tcn_buf *out, tcn_error *err)
{
    TCN_ENSURE(hash_len_of(c->hash_alg) != 0 && hash_len_of(c->hash_alg) == c->hash_len, err, TCN_ERR_USAGE,
               "ratls: claims: hash algorithm %llu with a %zu-byte hash", (unsigned long long)c->hash_alg,
               c->hash_len);
    TCN_ENSURE(!c->nonce_present || (c->nonce_len >= 1 && c->nonce_len <= TCN_RATLS_NONCE_MAX), err, TCN_ERR_USAGE,
               "ratls: claims: nonce of %zu bytes", c->nonce_len);
    int rc = encode_claims(c, out);
    TCN_ENSURE(rc == TCN_OK, err, rc, "ratls: claims: out of memory");
    return TCN_OK;
}

int tcn_ratls_ext_encode(uint64_t tag, const uint8_t *evidence, size_t evidence_len, const uint8_t *claims,
                         size_t claims_len, tcn_buf *out, tcn_error *err)
{
    TCN_ENSURE(tag == TCN_RATLS_TAG_INTEL_QUOTE || tag == TCN_RATLS_TAG_NITRO || tag == TCN_RATLS_TAG_SIM, err,
               TCN_ERR_USAGE, "ratls: extension: unknown tag %llu", (unsigned long long)tag);
    TCN_ENSURE(evidence_len >= 1 && evidence_len <= TCN_EVIDENCE_MAX, err, TCN_ERR_TOO_LARGE,
               "ratls: extension: evidence of %zu bytes (1..%d)", evidence_len, TCN_EVIDENCE_MAX);
    TCN_ENSURE(claims_len >= 1 && claims_len <= TCN_RATLS_CLAIMS_MAX, err, TCN_ERR_TOO_LARGE,
               "ratls: extension: claims of %zu bytes (1..%d)", claims_len, TCN_RATLS_CLAIMS_MAX);
    int rc = tcn_nitro_cbor_put_head(out, MT_TAG, tag);
    if (rc == TCN_OK)
        rc = tcn_nitro_cbor_put_head(out, MT_ARRAY, 2);
    if (rc == TCN_OK)
        rc = put_bstr(out, evidence, evidence_len);
    if (rc == TCN_OK)
        rc = put_bstr(out, claims, claims_len);
    TCN_ENSURE(rc == TCN_OK, err, rc, "ratls: extension: out of memory");
    return TCN_OK;
}

/* ---- parsing ----------------------------------------------------------------- */

static int parse_hash_entry(const uint8_t *p, size_t n, tcn_ratls_claims *out, tcn_error *err)
{
    static const char what[] = "claim 'pubkey-hash'";
    tcn_cursor c;
    tcn_cur_init(&c, p, n);
    uint64_t count, alg;
    TCN_GUARD(expect(&c, MT_ARRAY, &count, what, err));
    TCN_ENSURE(count == 2, err, TCN_ERR_MALFORMED, "%s: hash-entry array of %llu items, expected [alg, hash]", what,
               (unsigned long long)count);
    TCN_GUARD(expect(&c, MT_UINT, &alg, what, err));
    size_t want = hash_len_of(alg);
    TCN_ENSURE(want != 0, err, TCN_ERR_UNSUPPORTED,
               "%s: hash algorithm %llu (supported: 1 sha-256, 7 sha-384, 8 sha-512)", what,
               (unsigned long long)alg);
    const uint8_t *h;
    size_t hn;
    TCN_GUARD(bstr(&c, want, want, &h, &hn, what, err));
    TCN_GUARD(at_end(&c, what, err));
    out->hash_alg = alg;
    out->hash_len = hn;
    memcpy(out->hash, h, hn);
    return TCN_OK;
}

static int parse_claims(const uint8_t *p, size_t len, tcn_ratls_claims *out, tcn_error *err)
{
    static const char what[] = "claims";
    TCN_ENSURE(len <= TCN_RATLS_CLAIMS_MAX, err, TCN_ERR_TOO_LARGE, "claims: %zu bytes, at most %d", len,
               TCN_RATLS_CLAIMS_MAX);
    tcn_cursor c;
    tcn_cur_init(&c, p, len);
    uint64_t count;
    TCN_GUARD(expect(&c, MT_MAP, &count, what, err));
    TCN_ENSURE(count >= 1 && count <= CLAIM_COUNT_, err, TCN_ERR_MALFORMED, "claims: map of %llu entries (1..%d)",
               (unsigned long long)count, CLAIM_COUNT_);
    int prev = -1;
    for (uint64_t i = 0; i < count; i++) {
        uint64_t klen;
        size_t at = c.off;
        TCN_GUARD(expect(&c, MT_TEXT, &klen, "claims: key", err));
        const uint8_t *k = NULL;
        TCN_ENSURE(klen <= CLAIM_NAME_MAX, err, TCN_ERR_MALFORMED, "claims: unknown claim (a %llu-byte name at offset %zu)",
                   (unsigned long long)klen, at);
        TCN_ENSURE(tcn_cur_view(&c, (size_t)klen, &k) == TCN_OK, err, TCN_ERR_TRUNCATED,
                   "claims: key at offset %zu declares %llu bytes, %zu left", at, (unsigned long long)klen,
                   tcn_cur_remaining(&c));
        int which = -1;
        for (int j = 0; j < CLAIM_COUNT_; j++)
            if (strlen(claim_names[j]) == klen && memcmp(claim_names[j], k, (size_t)klen) == 0)
                which = j;
        if (which < 0) {
            char shown[CLAIM_NAME_MAX + 8];
            tcn_nitro_quote(k, (size_t)klen, shown, sizeof(shown));
            return tcn_err_set(err, TCN_ERR_MALFORMED, "claims: unknown claim '%s'", shown);
        }
        TCN_ENSURE(which > prev, err, TCN_ERR_MALFORMED,
                   "claims: '%s' %s (keys appear once each, in deterministic order)", claim_names[which],
                   which == prev ? "appears twice" : "is out of order");
        prev = which;
        const uint8_t *v;
        size_t vn;
        switch (which) {
        case CLAIM_NONCE:
            TCN_GUARD(bstr(&c, 1, TCN_RATLS_NONCE_MAX, &v, &vn, "claim 'nonce'", err));
            out->nonce_present = true;
            out->nonce_len = vn;
            memcpy(out->nonce, v, vn);
            break;
        case CLAIM_GROUP:
            TCN_GUARD(bstr(&c, TCN_RATLS_GROUP_ID_LEN, TCN_RATLS_GROUP_ID_LEN, &v, &vn, "claim 'tcn-group'", err));
            out->group_present = true;
            memcpy(out->group_id, v, vn);
            break;
        default:
            TCN_GUARD(bstr(&c, 1, TCN_RATLS_CLAIMS_MAX, &v, &vn, "claim 'pubkey-hash'", err));
            TCN_GUARD(parse_hash_entry(v, vn, out, err));
            break;
        }
    }
    TCN_ENSURE(prev == CLAIM_PUBKEY_HASH, err, TCN_ERR_MALFORMED, "claims: 'pubkey-hash' is missing");
    return at_end(&c, what, err);
}

int tcn_ratls_claims_parse(const uint8_t *p, size_t len, tcn_ratls_claims *out, tcn_error *err)
{
    memset(out, 0, sizeof(*out));
    int rc = parse_claims(p, len, out, err);
    if (rc != TCN_OK)
        memset(out, 0, sizeof(*out));
    return rc;
}

static int parse_ext(const uint8_t *p, size_t len, tcn_ratls_ext *out, tcn_error *err)
{
    static const char what[] = "extension";
    TCN_ENSURE(len <= TCN_RATLS_EXT_MAX, err, TCN_ERR_TOO_LARGE, "extension: %zu bytes, at most %d", len,
               TCN_RATLS_EXT_MAX);
    tcn_cursor c;
    tcn_cur_init(&c, p, len);
    uint64_t tag, count;
    TCN_GUARD(expect(&c, MT_TAG, &tag, what, err));
    TCN_ENSURE(tag == TCN_RATLS_TAG_INTEL_QUOTE || tag == TCN_RATLS_TAG_NITRO || tag == TCN_RATLS_TAG_SIM, err,
               TCN_ERR_UNSUPPORTED, "extension: CBOR tag %llu is not an evidence format we know", (unsigned long long)tag);
    TCN_GUARD(expect(&c, MT_ARRAY, &count, what, err));
    TCN_ENSURE(count == 2, err, TCN_ERR_MALFORMED, "extension: array of %llu items, expected [evidence, claims]",
               (unsigned long long)count);
    TCN_GUARD(bstr(&c, 1, TCN_EVIDENCE_MAX, &out->evidence, &out->evidence_len, "extension: evidence", err));
    TCN_GUARD(bstr(&c, 1, TCN_RATLS_CLAIMS_MAX, &out->claims_raw, &out->claims_len, "extension: claims", err));
    TCN_GUARD(at_end(&c, what, err));
    out->tag = tag;
    if (tcn_ratls_claims_parse(out->claims_raw, out->claims_len, &out->claims, err) != TCN_OK)
        return tcn_err_wrap(err, "extension");
    return TCN_OK;
}

int tcn_ratls_ext_parse(const uint8_t *p, size_t len, tcn_ratls_ext *out, tcn_error *err)
{
    memset(out, 0, sizeof(*out));
    int rc = parse_ext(p, len, out, err);
    if (rc != TCN_OK)
        memset(out, 0, sizeof(*out));
    return rc;
}

uint64_t tcn_ratls_tag_for(tcn_tee_type t)
{
    switch (t) {
    case TCN_TEE_SGX:
    case TCN_TEE_TDX:
        return TCN_RATLS_TAG_INTEL_QUOTE;
    case TCN_TEE_NITRO:
        return TCN_RATLS_TAG_NITRO;
    case TCN_TEE_SIM:
        return TCN_RATLS_TAG_SIM;
    default:
        return 0;
    }
}

bool tcn_ratls_tag_accepts(uint64_t tag, tcn_tee_type t)
{
    return t != TCN_TEE_NONE && tcn_ratls_tag_for(t) == tag;
}
