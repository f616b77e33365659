/* Compact binary codec for Raft messages: parse through the cursor, validate, encode the one canonical form. */
#include "raft/codec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "raft/config.h"
#include "util/assert.h"
#include "util/cursor.h"

#define VARINT_BYTES_MAX 10

void tcn_raft_decoder_free(tcn_raft_decoder *d)
{
    free(d->entries);
    d->entries = NULL;
    d->cap = 0;
}

static const char *tname(uint8_t type) { return tcn_raft_msg_type_name(type); }

/* --- Validation shared by both directions --------------------------------- */

static bool zero_hash(const uint8_t h[TCN_SHA256_LEN])
{
    uint8_t acc = 0;
    for (int i = 0; i < TCN_SHA256_LEN; i++)
        acc |= h[i];
    return acc == 0;
}

/* Ranges a well-formed message satisfies; `code` is MALFORMED when decoding
 * and USAGE when encoding (the caller built something impossible). */
static int validate(const tcn_raft_msg *m, int code, tcn_error *err)
{
    const char *t = tname(m->type);
    TCN_ENSURE(m->from != 0, err, code, "raft %s: from: zero node id", t);
    TCN_ENSURE(m->to != 0, err, code, "raft %s: to: zero node id", t);
    switch (m->type) {
    case TCN_RAFT_MSG_VOTE:
    case TCN_RAFT_MSG_VOTE_RESULT:
    case TCN_RAFT_MSG_HEARTBEAT:
    case TCN_RAFT_MSG_HEARTBEAT_RESULT:
        return TCN_OK;
    case TCN_RAFT_MSG_TIMEOUT_NOW: {
        /* A leader's log holds at least the genesis and ends in its own term. */
        const tcn_raft_timeout_now *tn = &m->timeout_now;
        TCN_ENSURE(tn->last_index >= 1, err, code, "raft timeout_now: last_index: zero");
        TCN_ENSURE(tn->last_term >= 1 && tn->last_term <= m->term, err, code,
                   "raft timeout_now: last_term: %llu outside [1, %llu]", (unsigned long long)tn->last_term,
                   (unsigned long long)m->term);
        return TCN_OK;
    }
    case TCN_RAFT_MSG_APPEND: {
        const tcn_raft_append *a = &m->append;
        TCN_ENSURE(a->prev_term <= m->term, err, code, "raft append: prev_term: %llu above the message term %llu",
                   (unsigned long long)a->prev_term, (unsigned long long)m->term);
        TCN_ENSURE(a->prev_index != 0 || (a->prev_term == 0 && zero_hash(a->prev_hash)), err, code,
                   "raft append: prev_term/prev_hash: must be zero at prev_index 0");
        TCN_ENSURE(a->n_entries <= TCN_RAFT_MSG_ENTRIES_MAX, err, code, "raft append: entries.n: %u exceeds %u",
                   a->n_entries, TCN_RAFT_MSG_ENTRIES_MAX);
        TCN_ENSURE(a->prev_index <= UINT64_MAX - a->n_entries, err, code,
                   "raft append: prev_index: index overflows with %u entries", a->n_entries);
        TCN_ENSURE(a->n_entries == 0 || a->entries != NULL, err, code, "raft append: entries: missing");
        uint64_t prev_term = a->prev_term, total = 0;
        for (uint32_t i = 0; i < a->n_entries; i++) {
            const tcn_raft_entry *e = &a->entries[i];
            TCN_ENSURE(e->index == a->prev_index + 1 + i, err, code, "raft append: entries[%u].index: not consecutive",
                       i);
            TCN_ENSURE(e->term >= 1 && e->term >= prev_term && e->term <= m->term, err, code,
                       "raft append: entries[%u].term: %llu outside [max(1, %llu), %llu]", i,
                       (unsigned long long)e->term, (unsigned long long)prev_term, (unsigned long long)m->term);
            TCN_ENSURE(e->type >= TCN_RAFT_ENTRY_NORMAL && e->type <= TCN_RAFT_ENTRY_CONFIG, err, code,
                       "raft append: entries[%u].type: unknown type %u", i, e->type);
            TCN_ENSURE(e->len <= TCN_RAFT_ENTRY_BYTES_MAX, err, TCN_ERR_TOO_LARGE,
                       "raft append: entries[%u].len: %u exceeds %u", i, e->len, TCN_RAFT_ENTRY_BYTES_MAX);
            TCN_ENSURE(e->len == 0 || e->data != NULL, err, code, "raft append: entries[%u].data: missing", i);
            total += e->len;
            TCN_ENSURE(total <= TCN_RAFT_APPEND_BYTES_MAX, err, TCN_ERR_TOO_LARGE,
                       "raft append: entries: payloads exceed %u bytes", TCN_RAFT_APPEND_BYTES_MAX);
            prev_term = e->term;
        }
        return TCN_OK;
    }
    case TCN_RAFT_MSG_APPEND_RESULT: {
        const tcn_raft_append_result *a = &m->append_result;
        TCN_ENSURE(a->status <= TCN_RAFT_APPEND_CORRUPT, err, code, "raft append_result: status: unknown %u",
                   a->status);
        if (a->status == TCN_RAFT_APPEND_REJECT) {
            TCN_ENSURE(a->hint_index <= a->index, err, code, "raft append_result: hint_index: above index");
            TCN_ENSURE(a->hint_term <= m->term, err, code, "raft append_result: hint_term: above the message term");
        } else {
            TCN_ENSURE(a->hint_index == 0 && a->hint_term == 0, err, code,
                       "raft append_result: hint_index/hint_term: non-zero outside a reject");
        }
        return TCN_OK;
    }
    case TCN_RAFT_MSG_SNAPSHOT: {
        const tcn_raft_snapshot_chunk *s = &m->snapshot;
        TCN_ENSURE(s->index >= 1, err, code, "raft snapshot: index: zero");
        TCN_ENSURE(s->term >= 1 && s->term <= m->term, err, code,
                   "raft snapshot: term: %llu outside [1, %llu]", (unsigned long long)s->term,
                   (unsigned long long)m->term);
        TCN_ENSURE(tcn_raft_config_valid(&s->config) && tcn_raft_config_voters(&s->config) > 0, err, code,
                   "raft snapshot: config: invalid or without a voter");
        TCN_ENSURE(s->size <= TCN_RAFT_SNAPSHOT_BYTES_MAX, err, TCN_ERR_TOO_LARGE,
                   "raft snapshot: size: %llu exceeds %llu", (unsigned long long)s->size,
                   (unsigned long long)TCN_RAFT_SNAPSHOT_BYTES_MAX);
        TCN_ENSURE(s->len <= TCN_RAFT_SNAPSHOT_CHUNK_BYTES_MAX, err, TCN_ERR_TOO_LARGE,
                   "raft snapshot: len: %u exceeds %u", s->len, TCN_RAFT_SNAPSHOT_CHUNK_BYTES_MAX);
        TCN_ENSURE(s->offset <= s->size && s->len <= s->size - s->offset, err, code,
                   "raft snapshot: offset: chunk [%llu, +%u) outside the %llu-byte snapshot",
                   (unsigned long long)s->offset, s->len, (unsigned long long)s->size);
        TCN_ENSURE(s->len > 0 || s->offset == s->size, err, code, "raft snapshot: len: empty chunk before the end");
        TCN_ENSURE(s->len == 0 || s->data != NULL, err, code, "raft snapshot: data: missing");
        return TCN_OK;
    }
    case TCN_RAFT_MSG_SNAPSHOT_RESULT:
        TCN_ENSURE(m->snapshot_result.status <= TCN_RAFT_SNAPSHOT_RESTART, err, code,
                   "raft snapshot_result: status: unknown %u", m->snapshot_result.status);
        return TCN_OK;
    default:
        return tcn_err_set(err, code == TCN_ERR_USAGE ? code : TCN_ERR_UNSUPPORTED, "raft message: type: unknown %u",
                           m->type);
    }
}

/* --- Decoding -------------------------------------------------------------- */

/* Unsigned LEB128, shortest form only; a failed read leaves c unchanged. */
static int cur_varint(tcn_cursor *c, uint64_t *out)
{
    tcn_cursor save = *c;
    uint64_t v = 0;
    for (int i = 0; i < VARINT_BYTES_MAX; i++) {
        uint8_t b;
        if (tcn_cur_u8(c, &b) != TCN_OK) {
            *c = save;
            return TCN_ERR_TRUNCATED;
        }
        if (i == VARINT_BYTES_MAX - 1 && b > 1) {
            *c = save; /* more than 64 bits */
            return TCN_ERR_MALFORMED;
        }
        v |= (uint64_t)(b & 0x7f) << (7 * i);
        if ((b & 0x80) == 0) {
            if (b == 0 && i > 0) {
                *c = save; /* not the shortest form */
                return TCN_ERR_MALFORMED;
            }
            *out = v;
            return TCN_OK;
        }
    }
    *c = save;
    return TCN_ERR_MALFORMED;
}

typedef struct {
    tcn_cursor *c;
    tcn_error *err;
    const char *t; /* message type name, for errors */
} parser;

static int fail_read(parser *p, int rc, const char *field)
{
    return tcn_err_set(p->err, rc, "raft %s: %s: %s", p->t, field,
                       rc == TCN_ERR_TRUNCATED ? "input ends early" : "varint too long or not in shortest form");
}

static int get_varint(parser *p, uint64_t *v, const char *field)
{
    int rc = cur_varint(p->c, v);
    return rc == TCN_OK ? TCN_OK : fail_read(p, rc, field);
}

static int get_u8(parser *p, uint8_t *v, const char *field)
{
    int rc = tcn_cur_u8(p->c, v);
    return rc == TCN_OK ? TCN_OK : fail_read(p, rc, field);
}

static int get_u64be(parser *p, uint64_t *v, const char *field)
{
    int rc = tcn_cur_u64be(p->c, v);
    return rc == TCN_OK ? TCN_OK : fail_read(p, rc, field);
}

static int get_hash(parser *p, uint8_t out[TCN_SHA256_LEN], const char *field)
{
    int rc = tcn_cur_copy(p->c, out, TCN_SHA256_LEN);
    return rc == TCN_OK ? TCN_OK : fail_read(p, rc, field);
}

static int get_u32_varint(parser *p, uint32_t *v, uint32_t max, const char *field)
{
    uint64_t x;
    TCN_GUARD(get_varint(p, &x, field));
    if (x > max)
        return tcn_err_set(p->err, TCN_ERR_TOO_LARGE, "raft %s: %s: %llu exceeds %u", p->t, field,
                           (unsigned long long)x, max);
    *v = (uint32_t)x;
    return TCN_OK;
}

static int get_flags(parser *p, uint8_t allowed, uint8_t *v)
{
    TCN_GUARD(get_u8(p, v, "flags"));
    if (*v & ~allowed)
        return tcn_err_set(p->err, TCN_ERR_MALFORMED, "raft %s: flags: unknown bits 0x%02x", p->t, *v & ~allowed);
    return TCN_OK;
}

/* Puts entry i's position where the message says "[#]". */
static int entry_fail(parser *p, int rc, uint32_t i)
{
    char *hole = strstr(p->err->msg, "[#]");
    if (hole != NULL) {
        char rest[TCN_ERR_MSG_MAX];
        snprintf(rest, sizeof(rest), "%s", hole + 3);
        int room = (int)(sizeof(p->err->msg) - (size_t)(hole - p->err->msg));
        int w = snprintf(hole, (size_t)room, "[%u]%s", i, rest);
        (void)w;
    }
    return rc;
}

static int parse_append(parser *p, tcn_raft_decoder *d, tcn_raft_append *a)
{
    TCN_GUARD(get_varint(p, &a->prev_index, "prev_index"));
    TCN_GUARD(get_varint(p, &a->prev_term, "prev_term"));
    TCN_GUARD(get_hash(p, a->prev_hash, "prev_hash"));
    TCN_GUARD(get_varint(p, &a->commit, "commit"));
    TCN_GUARD(get_u32_varint(p, &a->n_entries, TCN_RAFT_MSG_ENTRIES_MAX, "entries.n"));
    uint32_t n = a->n_entries;
    if (a->prev_index > UINT64_MAX - n)
        return tcn_err_set(p->err, TCN_ERR_MALFORMED, "raft append: prev_index: index overflows with %u entries", n);
    /* Each entry takes at least 3 bytes: refuse a count the input cannot hold
     * before allocating for it. */
    if ((uint64_t)n * 3 > tcn_cur_remaining(p->c))
        return tcn_err_set(p->err, TCN_ERR_TRUNCATED, "raft append: entries.n: %u entries cannot fit in %zu bytes", n,
                           tcn_cur_remaining(p->c));
    if (n > d->cap) {
        tcn_raft_entry *e = realloc(d->entries, (size_t)n * sizeof(*e));
        if (e == NULL)
            return tcn_err_set(p->err, TCN_ERR_NOMEM, "raft append: entries: %u entries", n);
        d->entries = e;
        d->cap = n;
    }
    a->entries = n ? d->entries : NULL;
    /* Field names carry a "#" that is replaced by the entry's position only
     * when decoding fails: formatting names per entry on the hot path cost
     * more than the rest of the decoder. */
    for (uint32_t i = 0; i < n; i++) {
        tcn_raft_entry *e = &d->entries[i];
        memset(e, 0, sizeof(*e));
        e->index = a->prev_index + 1 + i;
        int rc = get_varint(p, &e->term, "entries[#].term");
        if (rc == TCN_OK)
            rc = get_u8(p, &e->type, "entries[#].type");
        if (rc == TCN_OK)
            rc = get_u32_varint(p, &e->len, TCN_RAFT_ENTRY_BYTES_MAX, "entries[#].len");
        if (rc == TCN_OK && (rc = tcn_cur_view(p->c, e->len, &e->data)) != TCN_OK)
            rc = fail_read(p, rc, "entries[#].payload");
        if (rc != TCN_OK)
            return entry_fail(p, rc, i);
        if (e->len == 0)
            e->data = NULL;
    }
    if (n > 0)
        TCN_GUARD(get_hash(p, a->last_hash, "last_hash"));
    return TCN_OK;
}

static int parse_snapshot(parser *p, tcn_raft_snapshot_chunk *s)
{
    TCN_GUARD(get_varint(p, &s->index, "index"));
    TCN_GUARD(get_varint(p, &s->term, "term"));
    TCN_GUARD(get_hash(p, s->hash, "hash"));
    int rc = tcn_raft_config_get(p->c, &s->config, p->err);
    if (rc != TCN_OK) {
        (void)tcn_err_wrap(p->err, "raft snapshot");
        return rc;
    }
    TCN_GUARD(get_varint(p, &s->size, "size"));
    TCN_GUARD(get_varint(p, &s->offset, "offset"));
    TCN_GUARD(get_u32_varint(p, &s->len, TCN_RAFT_SNAPSHOT_CHUNK_BYTES_MAX, "len"));
    rc = tcn_cur_view(p->c, s->len, &s->data);
    if (rc != TCN_OK)
        return fail_read(p, rc, "data");
    if (s->len == 0)
        s->data = NULL;
    return TCN_OK;
}

int tcn_raft_msg_decode(tcn_raft_decoder *d, const uint8_t *bytes, size_t len, tcn_raft_msg *out, tcn_error *err)
{
    memset(out, 0, sizeof(*out));
    if (len > TCN_RAFT_MSG_BYTES_MAX)
        return tcn_err_set(err, TCN_ERR_TOO_LARGE, "raft message: %zu bytes exceed %u", len, TCN_RAFT_MSG_BYTES_MAX);
    tcn_cursor c;
    tcn_cur_init(&c, bytes, len);
    parser p = {&c, err, "message"};
    uint8_t version, flags;
    TCN_GUARD(get_u8(&p, &version, "version"));
    if (version != TCN_RAFT_CODEC_VERSION)
        return tcn_err_set(err, TCN_ERR_UNSUPPORTED, "raft message: version: %u unsupported", version);
    TCN_GUARD(get_u8(&p, &out->type, "type"));
    if (out->type < TCN_RAFT_MSG_VOTE || out->type > TCN_RAFT_MSG_TYPE_MAX)
        return tcn_err_set(err, TCN_ERR_UNSUPPORTED, "raft message: type: unknown %u", out->type);
    p.t = tname(out->type);
    TCN_GUARD(get_u64be(&p, &out->from, "from"));
    TCN_GUARD(get_u64be(&p, &out->to, "to"));
    TCN_GUARD(get_varint(&p, &out->term, "term"));
    switch (out->type) {
    case TCN_RAFT_MSG_VOTE:
        TCN_GUARD(get_varint(&p, &out->vote.last_index, "last_index"));
        TCN_GUARD(get_varint(&p, &out->vote.last_term, "last_term"));
        TCN_GUARD(get_flags(&p, 0x03, &flags));
        out->vote.pre_vote = flags & 0x01;
        out->vote.transfer = (flags & 0x02) != 0;
        break;
    case TCN_RAFT_MSG_VOTE_RESULT:
        TCN_GUARD(get_flags(&p, 0x03, &flags));
        out->vote_result.pre_vote = flags & 0x01;
        out->vote_result.granted = (flags & 0x02) != 0;
        break;
    case TCN_RAFT_MSG_APPEND:
        TCN_GUARD(parse_append(&p, d, &out->append));
        break;
    case TCN_RAFT_MSG_APPEND_RESULT:
        TCN_GUARD(get_u8(&p, &out->append_result.status, "status"));
        TCN_GUARD(get_varint(&p, &out->append_result.index, "index"));
        TCN_GUARD(get_varint(&p, &out->append_result.hint_index, "hint_index"));
        TCN_GUARD(get_varint(&p, &out->append_result.hint_term, "hint_term"));
        break;
    case TCN_RAFT_MSG_HEARTBEAT:
        TCN_GUARD(get_varint(&p, &out->heartbeat.commit, "commit"));
        TCN_GUARD(get_varint(&p, &out->heartbeat.read_seq, "read_seq"));
        break;
    case TCN_RAFT_MSG_HEARTBEAT_RESULT:
        TCN_GUARD(get_varint(&p, &out->heartbeat_result.read_seq, "read_seq"));
        break;
    case TCN_RAFT_MSG_SNAPSHOT:
        TCN_GUARD(parse_snapshot(&p, &out->snapshot));
        break;
    case TCN_RAFT_MSG_SNAPSHOT_RESULT:
        TCN_GUARD(get_u8(&p, &out->snapshot_result.status, "status"));
        TCN_GUARD(get_varint(&p, &out->snapshot_result.index, "index"));
        TCN_GUARD(get_varint(&p, &out->snapshot_result.offset, "offset"));
        break;
    case TCN_RAFT_MSG_TIMEOUT_NOW:
        TCN_GUARD(get_varint(&p, &out->timeout_now.last_index, "last_index"));
        TCN_GUARD(get_varint(&p, &out->timeout_now.last_term, "last_term"));
        break;
    }
    if (tcn_cur_remaining(&c) != 0)
        return tcn_err_set(err, TCN_ERR_MALFORMED, "raft %s: %zu trailing bytes", p.t, tcn_cur_remaining(&c));
    return validate(out, TCN_ERR_MALFORMED, err);
}

/* --- Encoding -------------------------------------------------------------- */

static uint8_t *put_varint(uint8_t *w, uint64_t v)
{
    while (v >= 0x80) {
        *w++ = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    *w++ = (uint8_t)v;
    return w;
}

static uint8_t *put_u64be(uint8_t *w, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        *w++ = (uint8_t)(v >> (56 - 8 * i));
    return w;
}

static uint8_t *put_bytes(uint8_t *w, const void *p, size_t n)
{
    if (n > 0)
        memcpy(w, p, n);
    return w + n;
}

/* An upper bound of the encoded size of a validated message. */
static size_t bound(const tcn_raft_msg *m)
{
    size_t n = 2 + 8 + 8 + VARINT_BYTES_MAX + 4 * VARINT_BYTES_MAX + 1;
    if (m->type == TCN_RAFT_MSG_APPEND) {
        n += 2 * TCN_SHA256_LEN + 2 * VARINT_BYTES_MAX;
        for (uint32_t i = 0; i < m->append.n_entries; i++)
            n += VARINT_BYTES_MAX + 1 + 5 + m->append.entries[i].len;
    } else if (m->type == TCN_RAFT_MSG_SNAPSHOT) {
        n += TCN_SHA256_LEN + TCN_RAFT_CONFIG_BYTES_MAX + 2 * VARINT_BYTES_MAX + m->snapshot.len;
    }
    return n;
}

int tcn_raft_msg_encode(const tcn_raft_msg *m, tcn_buf *out, tcn_error *err)
{
    TCN_GUARD(validate(m, TCN_ERR_USAGE, err));
    int rc = tcn_buf_reserve(out, bound(m));
    if (rc != TCN_OK)
        return tcn_err_set(err, rc, "raft %s: encoding", tname(m->type));
    uint8_t *start = out->p + out->len, *w = start;
    *w++ = TCN_RAFT_CODEC_VERSION;
    *w++ = m->type;
    w = put_u64be(w, m->from);
    w = put_u64be(w, m->to);
    w = put_varint(w, m->term);
    switch (m->type) {
    case TCN_RAFT_MSG_VOTE:
        w = put_varint(w, m->vote.last_index);
        w = put_varint(w, m->vote.last_term);
        *w++ = (uint8_t)((m->vote.pre_vote ? 0x01 : 0) | (m->vote.transfer ? 0x02 : 0));
        break;
    case TCN_RAFT_MSG_VOTE_RESULT:
        *w++ = (uint8_t)((m->vote_result.pre_vote ? 0x01 : 0) | (m->vote_result.granted ? 0x02 : 0));
        break;
    case TCN_RAFT_MSG_APPEND: {
        const tcn_raft_append *a = &m->append;
        w = put_varint(w, a->prev_index);
        w = put_varint(w, a->prev_term);
        w = put_bytes(w, a->prev_hash, TCN_SHA256_LEN);
        w = put_varint(w, a->commit);
        w = put_varint(w, a->n_entries);
        for (uint32_t i = 0; i < a->n_entries; i++) {
            const tcn_raft_entry *e = &a->entries[i];
            w = put_varint(w, e->term);
            *w++ = e->type;
            w = put_varint(w, e->len);
            w = put_bytes(w, e->data, e->len);
        }
        if (a->n_entries > 0)
            w = put_bytes(w, a->last_hash, TCN_SHA256_LEN);
        break;
    }
    case TCN_RAFT_MSG_APPEND_RESULT:
        *w++ = m->append_result.status;
        w = put_varint(w, m->append_result.index);
        w = put_varint(w, m->append_result.hint_index);
        w = put_varint(w, m->append_result.hint_term);
        break;
    case TCN_RAFT_MSG_HEARTBEAT:
        w = put_varint(w, m->heartbeat.commit);
        w = put_varint(w, m->heartbeat.read_seq);
        break;
    case TCN_RAFT_MSG_HEARTBEAT_RESULT:
        w = put_varint(w, m->heartbeat_result.read_seq);
        break;
    case TCN_RAFT_MSG_SNAPSHOT: {
        const tcn_raft_snapshot_chunk *s = &m->snapshot;
        w = put_varint(w, s->index);
        w = put_varint(w, s->term);
        w = put_bytes(w, s->hash, TCN_SHA256_LEN);
        w += tcn_raft_config_write(&s->config, w);
        w = put_varint(w, s->size);
        w = put_varint(w, s->offset);
        w = put_varint(w, s->len);
        w = put_bytes(w, s->data, s->len);
        break;
    }
    case TCN_RAFT_MSG_SNAPSHOT_RESULT:
        *w++ = m->snapshot_result.status;
        w = put_varint(w, m->snapshot_result.index);
        w = put_varint(w, m->snapshot_result.offset);
        break;
    case TCN_RAFT_MSG_TIMEOUT_NOW:
        w = put_varint(w, m->timeout_now.last_index);
        w = put_varint(w, m->timeout_now.last_term);
        break;
    }
    size_t n = (size_t)(w - start);
    TCN_ASSERT(n <= bound(m));
    if (n > TCN_RAFT_MSG_BYTES_MAX)
        return tcn_err_set(err, TCN_ERR_USAGE, "raft %s: %zu bytes exceed %u", tname(m->type), n,
                           TCN_RAFT_MSG_BYTES_MAX);
    out->len += n;
    return TCN_OK;
}

/* --- Equality ---------------------------------------------------------------- */

static bool bytes_equal(const uint8_t *a, const uint8_t *b, size_t n) { return n == 0 || memcmp(a, b, n) == 0; }

bool tcn_raft_msg_equal(const tcn_raft_msg *a, const tcn_raft_msg *b)
{
    if (a->type != b->type || a->from != b->from || a->to != b->to || a->term != b->term)
        return false;
    switch (a->type) {
    case TCN_RAFT_MSG_VOTE:
        return a->vote.last_index == b->vote.last_index && a->vote.last_term == b->vote.last_term &&
               a->vote.pre_vote == b->vote.pre_vote && a->vote.transfer == b->vote.transfer;
    case TCN_RAFT_MSG_VOTE_RESULT:
        return a->vote_result.pre_vote == b->vote_result.pre_vote && a->vote_result.granted == b->vote_result.granted;
    case TCN_RAFT_MSG_APPEND: {
        const tcn_raft_append *x = &a->append, *y = &b->append;
        if (x->prev_index != y->prev_index || x->prev_term != y->prev_term || x->commit != y->commit ||
            x->n_entries != y->n_entries || memcmp(x->prev_hash, y->prev_hash, TCN_SHA256_LEN) != 0)
            return false;
        if (x->n_entries > 0 && memcmp(x->last_hash, y->last_hash, TCN_SHA256_LEN) != 0)
            return false;
        for (uint32_t i = 0; i < x->n_entries; i++) {
            const tcn_raft_entry *e = &x->entries[i], *f = &y->entries[i];
            if (e->index != f->index || e->term != f->term || e->type != f->type || e->len != f->len ||
                !bytes_equal(e->data, f->data, e->len))
                return false;
        }
        return true;
    }
    case TCN_RAFT_MSG_APPEND_RESULT:
        return a->append_result.status == b->append_result.status && a->append_result.index == b->append_result.index &&
               a->append_result.hint_index == b->append_result.hint_index &&
               a->append_result.hint_term == b->append_result.hint_term;
    case TCN_RAFT_MSG_HEARTBEAT:
        return a->heartbeat.commit == b->heartbeat.commit && a->heartbeat.read_seq == b->heartbeat.read_seq;
    case TCN_RAFT_MSG_HEARTBEAT_RESULT:
        return a->heartbeat_result.read_seq == b->heartbeat_result.read_seq;
    case TCN_RAFT_MSG_SNAPSHOT: {
        const tcn_raft_snapshot_chunk *x = &a->snapshot, *y = &b->snapshot;
        return x->index == y->index && x->term == y->term && memcmp(x->hash, y->hash, TCN_SHA256_LEN) == 0 &&
               tcn_raft_config_equal(&x->config, &y->config) && x->size == y->size && x->offset == y->offset &&
               x->len == y->len && bytes_equal(x->data, y->data, x->len);
    }
    case TCN_RAFT_MSG_SNAPSHOT_RESULT:
        return a->snapshot_result.status == b->snapshot_result.status &&
               a->snapshot_result.index == b->snapshot_result.index &&
               a->snapshot_result.offset == b->snapshot_result.offset;
    case TCN_RAFT_MSG_TIMEOUT_NOW:
        return a->timeout_now.last_index == b->timeout_now.last_index &&
               a->timeout_now.last_term == b->timeout_now.last_term;
    default:
        return false;
    }
}
