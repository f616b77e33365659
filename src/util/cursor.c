/* Bounds-checked reader for untrusted bytes. */
#include "util/cursor.h"

#include <string.h>

#include "util/assert.h"

void tcn_cur_init(tcn_cursor *c, const void *p, size_t len)
{
    TCN_ASSERT(c != NULL);
    TCN_ASSERT(p != NULL || len == 0);
    c->p = p;
    c->len = len;
    c->off = 0;
}

size_t tcn_cur_remaining(const tcn_cursor *c)
{
    TCN_ASSERT(c->off <= c->len);
    return c->len - c->off;
}

const uint8_t *tcn_cur_ptr(const tcn_cursor *c) { return c->p + c->off; }

/* The one place that checks a length against what is left. */
static int take(tcn_cursor *c, size_t n, const uint8_t **out)
{
    if (n > tcn_cur_remaining(c))
        return TCN_ERR_TRUNCATED;
    *out = c->p + c->off;
    c->off += n;
    return TCN_OK;
}

int tcn_cur_u8(tcn_cursor *c, uint8_t *out)
{
    const uint8_t *b;
    TCN_GUARD(take(c, 1, &b));
    *out = b[0];
    return TCN_OK;
}

int tcn_cur_u16le(tcn_cursor *c, uint16_t *out)
{
    const uint8_t *b;
    TCN_GUARD(take(c, 2, &b));
    *out = (uint16_t)(b[0] | (b[1] << 8));
    return TCN_OK;
}

int tcn_cur_u16be(tcn_cursor *c, uint16_t *out)
{
    const uint8_t *b;
    TCN_GUARD(take(c, 2, &b));
    *out = (uint16_t)((b[0] << 8) | b[1]);
    return TCN_OK;
}

int tcn_cur_u32le(tcn_cursor *c, uint32_t *out)
{
    const uint8_t *b;
    TCN_GUARD(take(c, 4, &b));
    *out = (uint32_t)b[0] | ((uint32_t)b[1] << 8) | ((uint32_t)b[2] << 16) | ((uint32_t)b[3] << 24);
    return TCN_OK;
}

int tcn_cur_u32be(tcn_cursor *c, uint32_t *out)
{
    const uint8_t *b;
    TCN_GUARD(take(c, 4, &b));
    *out = ((uint32_t)b[0] << 24) | ((uint32_t)b[1] << 16) | ((uint32_t)b[2] << 8) | (uint32_t)b[3];
    return TCN_OK;
}

int tcn_cur_u64le(tcn_cursor *c, uint64_t *out)
{
    const uint8_t *b;
    TCN_GUARD(take(c, 8, &b));
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | b[i];
    *out = v;
    return TCN_OK;
}

int tcn_cur_u64be(tcn_cursor *c, uint64_t *out)
{
    const uint8_t *b;
    TCN_GUARD(take(c, 8, &b));
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = (v << 8) | b[i];
    *out = v;
    return TCN_OK;
}

int tcn_cur_view(tcn_cursor *c, size_t n, const uint8_t **out) { return take(c, n, out); }

int tcn_cur_copy(tcn_cursor *c, void *dst, size_t n)
{
    const uint8_t *b;
    TCN_GUARD(take(c, n, &b));
    if (n > 0)
        memcpy(dst, b, n);
    return TCN_OK;
}

int tcn_cur_skip(tcn_cursor *c, size_t n)
{
    const uint8_t *b;
    return take(c, n, &b);
}

int tcn_cur_sub(tcn_cursor *c, size_t n, tcn_cursor *sub)
{
    const uint8_t *b;
    TCN_GUARD(take(c, n, &b));
    tcn_cur_init(sub, b, n);
    return TCN_OK;
}
