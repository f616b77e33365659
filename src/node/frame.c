/* Peer frames: strict encoding and decoding, and the incremental stream decoder. */
#include "node/frame.h"

#include <stdlib.h>
#include <string.h>

#include "node/config.h"
#include "tls/ratls.h"
#include "util/assert.h"
#include "util/cursor.h"

/* The frame limits cover what travels in them. */
_Static_assert(TCN_FRAME_PAYLOAD_MAX >= TCN_RAFT_MSG_BYTES_MAX, "a Raft message must fit one frame");
_Static_assert(TCN_FRAME_PAYLOAD_MAX >= TCN_RAFT_SNAPSHOT_CHUNK_BYTES_MAX + 1024u, "a snapshot chunk must fit");
_Static_assert(TCN_FRAME_EVIDENCE_BYTES_MAX >= TCN_RATLS_EXT_MAX, "fresh evidence must fit");
_Static_assert(TCN_FRAME_EVIDENCE_BYTES_MAX <= TCN_FRAME_PAYLOAD_MAX, "evidence bound within the frame bound");
_Static_assert(TCN_FRAME_CHALLENGE_BYTES == TCN_RATLS_CHALLENGE_LEN, "the re-attestation nonce");
_Static_assert(TCN_FRAME_GROUP_ID_BYTES == TCN_RATLS_GROUP_ID_LEN, "the group id");
_Static_assert(TCN_FRAME_PAYLOAD_MAX <= UINT32_MAX, "length is a u32");
_Static_assert(TCN_FRAME_HELLO_NAME_BYTES_MAX <= UINT8_MAX && TCN_FRAME_HELLO_ADDR_BYTES_MAX <= UINT8_MAX &&
                   TCN_FRAME_BYE_TEXT_BYTES_MAX <= UINT8_MAX,
               "u8 length prefixes");
_Static_assert(TCN_FRAME_HELLO_ADDR_BYTES_MAX <= TCN_NODE_ADDR_CHARS_MAX, "an API address parses as a config address");

/* The smallest HELLO: one-byte name and addresses (the address parser then
 * judges the addresses). */
#define HELLO_BYTES_MIN (2u + 8u + TCN_FRAME_GROUP_ID_BYTES + 1u + 1u + 1u + 1u + 1u + 1u)

struct type_row {
    const char *name;
    uint32_t min; /* payload bytes */
    uint32_t max;
};

static const struct type_row types[TCN_FRAME_TYPE_MAX + 1] = {
    [TCN_FRAME_HELLO] = {"HELLO", HELLO_BYTES_MIN, TCN_FRAME_HELLO_BYTES_MAX},
    [TCN_FRAME_RAFT] = {"RAFT", 1, TCN_FRAME_PAYLOAD_MAX},
    [TCN_FRAME_REATTEST_CHALLENGE] = {"REATTEST_CHALLENGE", TCN_FRAME_CHALLENGE_BYTES, TCN_FRAME_CHALLENGE_BYTES},
    [TCN_FRAME_REATTEST_EVIDENCE] = {"REATTEST_EVIDENCE", 1, TCN_FRAME_EVIDENCE_BYTES_MAX},
    [TCN_FRAME_PING] = {"PING", TCN_FRAME_PING_BYTES, TCN_FRAME_PING_BYTES},
    [TCN_FRAME_PONG] = {"PONG", TCN_FRAME_PING_BYTES, TCN_FRAME_PING_BYTES},
    [TCN_FRAME_BYE] = {"BYE", TCN_FRAME_BYE_BYTES_MIN, TCN_FRAME_BYE_BYTES_MAX},
};

static const char *bye_reasons[TCN_FRAME_BYE_REASON_MAX + 1] = {
    [TCN_FRAME_BYE_SHUTDOWN] = "SHUTDOWN",       [TCN_FRAME_BYE_PROTOCOL] = "PROTOCOL",
    [TCN_FRAME_BYE_VERSION] = "VERSION",         [TCN_FRAME_BYE_ATTESTATION] = "ATTESTATION",
    [TCN_FRAME_BYE_GROUP] = "GROUP",             [TCN_FRAME_BYE_DUPLICATE] = "DUPLICATE",
    [TCN_FRAME_BYE_REMOVED] = "REMOVED",
};

static bool type_known(int type) { return type >= 1 && type <= TCN_FRAME_TYPE_MAX; }

const char *tcn_frame_type_name(int type) { return type_known(type) ? types[type].name : "?"; }

const char *tcn_frame_bye_reason_name(int reason)
{
    return reason >= 1 && reason <= TCN_FRAME_BYE_REASON_MAX ? bye_reasons[reason] : "?";
}

/* The payload length bound of a known type. */
static int length_check(int type, uint64_t len, tcn_error *err)
{
    const struct type_row *t = &types[type];
    if (len > t->max)
        return tcn_err_set(err, TCN_ERR_TOO_LARGE, "frame: %s payload of %llu bytes exceeds the maximum %u", t->name,
                           (unsigned long long)len, t->max);
    if (len < t->min) {
        if (t->min == t->max)
            return tcn_err_set(err, TCN_ERR_MALFORMED, "frame: %s payload of %llu bytes, expected exactly %u",
                               t->name, (unsigned long long)len, t->min);
        return tcn_err_set(err, TCN_ERR_MALFORMED, "frame: %s payload of %llu bytes is below the minimum %u",
                           t->name, (unsigned long long)len, t->min);
    }
    return TCN_OK;
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

int tcn_frame_header_check(const uint8_t *h, size_t n, tcn_error *err)
{
    TCN_ASSERT(n <= TCN_FRAME_HEADER_BYTES);
    if (n >= 1 && h[0] != TCN_FRAME_MAGIC)
        return tcn_err_set(err, TCN_ERR_MALFORMED, "frame: magic 0x%02x, expected 0x%02x ('T')", h[0],
                           TCN_FRAME_MAGIC);
    if (n >= 2 && h[1] != TCN_FRAME_VERSION)
        return tcn_err_set(err, TCN_ERR_UNSUPPORTED, "frame: version %u, this node speaks version %u", h[1],
                           TCN_FRAME_VERSION);
    if (n >= 3 && !type_known(h[2]))
        return tcn_err_set(err, TCN_ERR_MALFORMED, "frame: type %u is not defined in version %u", h[2],
                           TCN_FRAME_VERSION);
    if (n >= 4 && (h[3] & ~TCN_FRAME_FLAGS_KNOWN) != 0)
        return tcn_err_set(err, TCN_ERR_MALFORMED, "frame: flags 0x%02x: no flag is defined in version %u", h[3],
                           TCN_FRAME_VERSION);
    if (n == TCN_FRAME_HEADER_BYTES)
        TCN_GUARD(length_check(h[2], be32(h + 4), err));
    return TCN_OK;
}

static bool printable(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] < 0x20 || p[i] > 0x7e)
            return false;
    return true;
}

/* The API and peer addresses in HELLO: IP literals with a port, in
 * canonical text (so the bytes have one spelling and re-encode identically). */
static int addr_check(const char *field, const char *s, size_t len, tcn_error *err)
{
    tcn_node_addr a;
    const char *why = NULL;
    if (tcn_node_addr_parse(s, len, false, &a, &why) != TCN_OK)
        return tcn_err_set(err, TCN_ERR_MALFORMED, "frame HELLO: %s: %s", field, why);
    char canon[TCN_NODE_ADDR_CHARS_MAX + 1];
    size_t clen = tcn_node_addr_format(&a, canon, sizeof(canon));
    TCN_ENSURE(clen == len && memcmp(canon, s, len) == 0, err, TCN_ERR_MALFORMED,
               "frame HELLO: %s: not in canonical form (%s)", field, canon);
    return TCN_OK;
}

/* A u8 length and that many bytes, min_len..max of them, without NUL, copied
 * into out (max + 1 bytes) and terminated. */
static int short_string(tcn_cursor *c, const char *what, size_t min_len, size_t max, char *out, size_t *out_len,
                        tcn_error *err)
{
    uint8_t n;
    const uint8_t *v;
    TCN_ENSURE(tcn_cur_u8(c, &n) == TCN_OK, err, TCN_ERR_MALFORMED, "%s: the payload ends before its length", what);
    TCN_ENSURE(n >= min_len && n <= max, err, TCN_ERR_MALFORMED, "%s: length %u, expected %zu..%zu", what, n,
               min_len, max);
    TCN_ENSURE(tcn_cur_view(c, n, &v) == TCN_OK, err, TCN_ERR_MALFORMED,
               "%s: length %u, but only %zu bytes are left", what, n, tcn_cur_remaining(c));
    TCN_ENSURE(memchr(v, 0, n) == NULL, err, TCN_ERR_MALFORMED, "%s: contains a NUL byte", what);
    memcpy(out, v, n);
    out[n] = '\0';
    *out_len = n;
    return TCN_OK;
}

static int hello_decode(tcn_cursor *c, tcn_frame_hello *h, tcn_error *err)
{
    memset(h, 0, sizeof(*h));
    size_t n;
    TCN_ENSURE(tcn_cur_u16be(c, &h->protocol_version) == TCN_OK && tcn_cur_u64be(c, &h->node_id) == TCN_OK &&
                   tcn_cur_copy(c, h->group_id, sizeof(h->group_id)) == TCN_OK,
               err, TCN_ERR_MALFORMED, "frame HELLO: the payload ends inside its fixed fields");
    TCN_ENSURE(h->protocol_version >= 1, err, TCN_ERR_MALFORMED, "frame HELLO: protocol_version 0");
    TCN_ENSURE(h->node_id != 0, err, TCN_ERR_MALFORMED, "frame HELLO: node_id 0 (ids are non-zero)");
    TCN_GUARD(short_string(c, "frame HELLO: name", 1, TCN_FRAME_HELLO_NAME_BYTES_MAX, h->name, &n, err));
    TCN_ENSURE(tcn_node_name_valid(h->name, n), err, TCN_ERR_MALFORMED,
               "frame HELLO: name: only letters, digits, '.', '_' and '-' are allowed");
    TCN_GUARD(short_string(c, "frame HELLO: api_addr", 1, TCN_FRAME_HELLO_ADDR_BYTES_MAX, h->api_addr, &n, err));
    TCN_GUARD(addr_check("api_addr", h->api_addr, n, err));
    TCN_GUARD(short_string(c, "frame HELLO: peer_addr", 1, TCN_FRAME_HELLO_ADDR_BYTES_MAX, h->peer_addr, &n, err));
    return addr_check("peer_addr", h->peer_addr, n, err);
}

static int bye_decode(tcn_cursor *c, tcn_frame_bye *b, tcn_error *err)
{
    memset(b, 0, sizeof(*b));
    size_t n;
    TCN_ENSURE(tcn_cur_u16be(c, &b->reason) == TCN_OK, err, TCN_ERR_MALFORMED,
               "frame BYE: the payload ends inside its reason");
    TCN_ENSURE(b->reason >= 1 && b->reason <= TCN_FRAME_BYE_REASON_MAX, err, TCN_ERR_MALFORMED,
               "frame BYE: reason %u is not defined (1..%d)", b->reason, TCN_FRAME_BYE_REASON_MAX);
    TCN_GUARD(short_string(c, "frame BYE: text", 0, TCN_FRAME_BYE_TEXT_BYTES_MAX, b->text, &n, err));
    TCN_ENSURE(printable((const uint8_t *)b->text, n), err, TCN_ERR_MALFORMED,
               "frame BYE: text: only printable ASCII is allowed");
    return TCN_OK;
}

int tcn_frame_payload_decode(int type, const uint8_t *p, size_t n, tcn_frame *out, tcn_error *err)
{
    TCN_ENSURE(type_known(type), err, TCN_ERR_MALFORMED, "frame: type %d is not defined in version %u", type,
               TCN_FRAME_VERSION);
    TCN_GUARD(length_check(type, n, err));
    memset(out, 0, sizeof(*out));
    out->type = (tcn_frame_type)type;
    tcn_cursor c;
    tcn_cur_init(&c, p, n);
    int rc = TCN_OK;
    switch ((tcn_frame_type)type) {
    case TCN_FRAME_HELLO:
        TCN_GUARD(hello_decode(&c, &out->u.hello, err));
        break;
    case TCN_FRAME_RAFT:
        out->u.raft.p = p;
        out->u.raft.len = n;
        rc = tcn_cur_skip(&c, n);
        break;
    case TCN_FRAME_REATTEST_EVIDENCE:
        out->u.evidence.p = p;
        out->u.evidence.len = n;
        rc = tcn_cur_skip(&c, n);
        break;
    case TCN_FRAME_REATTEST_CHALLENGE:
        rc = tcn_cur_copy(&c, out->u.challenge, TCN_FRAME_CHALLENGE_BYTES);
        break;
    case TCN_FRAME_PING:
    case TCN_FRAME_PONG:
        rc = tcn_cur_u64be(&c, &out->u.ping.nonce);
        if (rc == TCN_OK)
            rc = tcn_cur_u64be(&c, &out->u.ping.clock_ms);
        break;
    case TCN_FRAME_BYE:
        TCN_GUARD(bye_decode(&c, &out->u.bye, err));
        break;
    }
    /* The length check made the fixed layouts fit. */
    TCN_ASSERT(rc == TCN_OK);
    TCN_ENSURE(tcn_cur_remaining(&c) == 0, err, TCN_ERR_MALFORMED, "frame %s: %zu trailing bytes after the payload",
               types[type].name, tcn_cur_remaining(&c));
    return TCN_OK;
}

int tcn_frame_decode(const uint8_t *p, size_t n, tcn_frame *out, size_t *used, tcn_error *err)
{
    size_t h = n < TCN_FRAME_HEADER_BYTES ? n : TCN_FRAME_HEADER_BYTES;
    TCN_GUARD(tcn_frame_header_check(p, h, err));
    TCN_ENSURE(h == TCN_FRAME_HEADER_BYTES, err, TCN_ERR_TRUNCATED, "frame: %zu of %u header bytes", n,
               TCN_FRAME_HEADER_BYTES);
    uint32_t len = be32(p + 4);
    TCN_ENSURE(n - TCN_FRAME_HEADER_BYTES >= len, err, TCN_ERR_TRUNCATED, "frame %s: %zu of %u payload bytes",
               types[p[2]].name, n - TCN_FRAME_HEADER_BYTES, len);
    TCN_GUARD(tcn_frame_payload_decode(p[2], p + TCN_FRAME_HEADER_BYTES, len, out, err));
    *used = TCN_FRAME_HEADER_BYTES + (size_t)len;
    return TCN_OK;
}

/* ---- encoding ---------------------------------------------------------------- */

static int put_short_string(tcn_buf *b, const char *s, size_t len)
{
    TCN_GUARD(tcn_buf_u8(b, (uint8_t)len));
    return tcn_buf_append(b, s, len);
}

/* Checks f as the decoder would, before writing anything. */
static int encode_check(const tcn_frame *f, tcn_error *err)
{
    TCN_ENSURE(type_known((int)f->type), err, TCN_ERR_USAGE, "frame: type %d is not defined", (int)f->type);
    switch (f->type) {
    case TCN_FRAME_HELLO: {
        const tcn_frame_hello *h = &f->u.hello;
        TCN_ENSURE(h->protocol_version >= 1, err, TCN_ERR_USAGE, "frame HELLO: protocol_version 0");
        TCN_ENSURE(h->node_id != 0, err, TCN_ERR_USAGE, "frame HELLO: node_id 0 (ids are non-zero)");
        size_t nl = strnlen(h->name, sizeof(h->name));
        TCN_ENSURE(nl < sizeof(h->name) && tcn_node_name_valid(h->name, nl), err, TCN_ERR_USAGE,
                   "frame HELLO: name: 1..%u of letters, digits, '.', '_' and '-'", TCN_FRAME_HELLO_NAME_BYTES_MAX);
        size_t al = strnlen(h->api_addr, sizeof(h->api_addr));
        TCN_ENSURE(al >= 1 && al < sizeof(h->api_addr), err, TCN_ERR_USAGE, "frame HELLO: api_addr: 1..%u bytes",
                   TCN_FRAME_HELLO_ADDR_BYTES_MAX);
        if (addr_check("api_addr", h->api_addr, al, err) != TCN_OK) {
            err->code = TCN_ERR_USAGE;
            return TCN_ERR_USAGE;
        }
        size_t pl = strnlen(h->peer_addr, sizeof(h->peer_addr));
        TCN_ENSURE(pl >= 1 && pl < sizeof(h->peer_addr), err, TCN_ERR_USAGE, "frame HELLO: peer_addr: 1..%u bytes",
                   TCN_FRAME_HELLO_ADDR_BYTES_MAX);
        if (addr_check("peer_addr", h->peer_addr, pl, err) != TCN_OK) {
            err->code = TCN_ERR_USAGE;
            return TCN_ERR_USAGE;
        }
        return TCN_OK;
    }
    case TCN_FRAME_RAFT:
    case TCN_FRAME_REATTEST_EVIDENCE: {
        const tcn_frame_bytes *v = f->type == TCN_FRAME_RAFT ? &f->u.raft : &f->u.evidence;
        TCN_ENSURE(v->p != NULL || v->len == 0, err, TCN_ERR_USAGE, "frame %s: no bytes", types[f->type].name);
        if (length_check(f->type, v->len, err) != TCN_OK) {
            err->code = TCN_ERR_USAGE;
            return TCN_ERR_USAGE;
        }
        return TCN_OK;
    }
    case TCN_FRAME_BYE: {
        const tcn_frame_bye *b = &f->u.bye;
        TCN_ENSURE(b->reason >= 1 && b->reason <= TCN_FRAME_BYE_REASON_MAX, err, TCN_ERR_USAGE,
                   "frame BYE: reason %u is not defined (1..%d)", b->reason, TCN_FRAME_BYE_REASON_MAX);
        size_t tl = strnlen(b->text, sizeof(b->text));
        TCN_ENSURE(tl < sizeof(b->text) && printable((const uint8_t *)b->text, tl), err, TCN_ERR_USAGE,
                   "frame BYE: text: 0..%u printable ASCII characters", TCN_FRAME_BYE_TEXT_BYTES_MAX);
        return TCN_OK;
    }
    case TCN_FRAME_REATTEST_CHALLENGE:
    case TCN_FRAME_PING:
    case TCN_FRAME_PONG:
        return TCN_OK; /* fixed layouts: every value is valid */
    }
    return TCN_OK;
}

static int encode_payload(const tcn_frame *f, tcn_buf *b)
{
    switch (f->type) {
    case TCN_FRAME_HELLO: {
        const tcn_frame_hello *h = &f->u.hello;
        TCN_GUARD(tcn_buf_u16be(b, h->protocol_version));
        TCN_GUARD(tcn_buf_u64be(b, h->node_id));
        TCN_GUARD(tcn_buf_append(b, h->group_id, sizeof(h->group_id)));
        TCN_GUARD(put_short_string(b, h->name, strlen(h->name)));
        TCN_GUARD(put_short_string(b, h->api_addr, strlen(h->api_addr)));
        return put_short_string(b, h->peer_addr, strlen(h->peer_addr));
    }
    case TCN_FRAME_RAFT:
        return tcn_buf_append(b, f->u.raft.p, f->u.raft.len);
    case TCN_FRAME_REATTEST_EVIDENCE:
        return tcn_buf_append(b, f->u.evidence.p, f->u.evidence.len);
    case TCN_FRAME_REATTEST_CHALLENGE:
        return tcn_buf_append(b, f->u.challenge, sizeof(f->u.challenge));
    case TCN_FRAME_PING:
    case TCN_FRAME_PONG:
        TCN_GUARD(tcn_buf_u64be(b, f->u.ping.nonce));
        return tcn_buf_u64be(b, f->u.ping.clock_ms);
    case TCN_FRAME_BYE:
        TCN_GUARD(tcn_buf_u16be(b, f->u.bye.reason));
        return put_short_string(b, f->u.bye.text, strlen(f->u.bye.text));
    }
    return TCN_ERR_INTERNAL;
}

int tcn_frame_encode(const tcn_frame *f, tcn_buf *out, tcn_error *err)
{
    TCN_GUARD(encode_check(f, err));
    size_t start = out->len;
    uint8_t hdr[TCN_FRAME_HEADER_BYTES] = {TCN_FRAME_MAGIC, TCN_FRAME_VERSION, (uint8_t)f->type, 0, 0, 0, 0, 0};
    int rc = tcn_buf_append(out, hdr, sizeof(hdr));
    if (rc == TCN_OK)
        rc = encode_payload(f, out);
    if (rc != TCN_OK) {
        out->len = start;
        return tcn_err_set(err, rc, "frame %s: cannot encode", types[f->type].name);
    }
    size_t len = out->len - start - TCN_FRAME_HEADER_BYTES;
    TCN_ASSERT(len <= types[f->type].max && len >= types[f->type].min);
    uint8_t *l = out->p + start + 4;
    l[0] = (uint8_t)(len >> 24);
    l[1] = (uint8_t)(len >> 16);
    l[2] = (uint8_t)(len >> 8);
    l[3] = (uint8_t)len;
    return TCN_OK;
}

/* ---- the stream decoder ------------------------------------------------------ */

/* Makes room for need payload bytes: at most double what is held, never
 * beyond the current frame's announced length, which need never exceeds. */
static int grow(tcn_frame_decoder *d, size_t need, tcn_error *err)
{
    TCN_ASSERT(need <= d->length);
    if (need <= d->buf_cap)
        return TCN_OK;
    size_t cap = d->buf_cap ? d->buf_cap * 2 : TCN_FRAME_DECODER_BUF_MIN;
    if (cap < need)
        cap = need;
    if (cap > d->length)
        cap = d->length;
    uint8_t *p = realloc(d->buf, cap);
    TCN_ENSURE(p != NULL, err, TCN_ERR_NOMEM, "frame: no memory for a %zu-byte payload buffer", cap);
    d->buf = p;
    d->buf_cap = cap;
    return TCN_OK;
}

static void next_frame(tcn_frame_decoder *d)
{
    d->hdr_len = 0;
    d->buf_len = 0;
    if (d->buf_cap > TCN_FRAME_DECODER_BUF_KEEP) {
        free(d->buf);
        d->buf = NULL;
        d->buf_cap = 0;
    }
}

int tcn_frame_decoder_feed(tcn_frame_decoder *d, const void *p, size_t n, tcn_frame_handler handler, void *ctx,
                           tcn_error *err)
{
    TCN_ASSERT(!d->in_feed);
    TCN_ASSERT(p != NULL || n == 0);
    if (d->failed != TCN_OK)
        return tcn_err_set(err, d->failed, "frame: the stream failed earlier; no frame can follow");
    const uint8_t *in = p;
    size_t left = n;
    int rc = TCN_OK;
    d->in_feed = true;
    for (;;) {
        if (d->hdr_len < TCN_FRAME_HEADER_BYTES) {
            if (left == 0)
                break;
            /* One byte at a time: each field is judged the moment it is complete. */
            d->hdr[d->hdr_len++] = *in++;
            left--;
            if ((rc = tcn_frame_header_check(d->hdr, d->hdr_len, err)) != TCN_OK)
                break;
            if (d->hdr_len == TCN_FRAME_HEADER_BYTES) {
                d->type = d->hdr[2];
                d->length = be32(d->hdr + 4);
            } else {
                continue;
            }
        }
        const uint8_t *payload;
        if (d->buf_len == 0 && left >= d->length) {
            /* The whole payload is in this piece: read it in place. */
            payload = in;
            in += d->length;
            left -= d->length;
        } else {
            if (left == 0)
                break;
            size_t want = d->length - d->buf_len;
            size_t take = left < want ? left : want;
            if ((rc = grow(d, d->buf_len + take, err)) != TCN_OK)
                break;
            memcpy(d->buf + d->buf_len, in, take);
            d->buf_len += take;
            in += take;
            left -= take;
            if (d->buf_len < d->length)
                break; /* everything taken; the frame continues in a later piece */
            payload = d->buf;
        }
        tcn_frame f;
        if ((rc = tcn_frame_payload_decode(d->type, payload, d->length, &f, err)) != TCN_OK)
            break;
        d->frames++;
        rc = handler(ctx, &f, err);
        next_frame(d);
        if (rc != TCN_OK)
            break;
    }
    d->in_feed = false;
    if (rc != TCN_OK)
        d->failed = rc;
    return rc;
}

size_t tcn_frame_decoder_pending(const tcn_frame_decoder *d)
{
    return d->hdr_len < TCN_FRAME_HEADER_BYTES ? d->hdr_len : TCN_FRAME_HEADER_BYTES + d->buf_len;
}

size_t tcn_frame_decoder_capacity(const tcn_frame_decoder *d) { return d->buf_cap; }

void tcn_frame_decoder_free(tcn_frame_decoder *d)
{
    free(d->buf);
    memset(d, 0, sizeof(*d));
}
