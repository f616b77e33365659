/* Growable byte buffer for encoders. */
#include "util/buf.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

int tcn_buf_reserve(tcn_buf *b, size_t extra)
{
    if (extra > SIZE_MAX - b->len)
        return TCN_ERR_TOO_LARGE;
    size_t need = b->len + extra;
    if (need <= b->cap)
        return TCN_OK;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need) {
        if (cap > SIZE_MAX / 2)
            return TCN_ERR_TOO_LARGE;
        cap *= 2;
    }
    /* Not realloc: it may leave the old bytes behind in freed memory, and
     * buffers carry secrets (commands with seeds, state snapshots). Move
     * them and wipe the old block. */
    uint8_t *p = malloc(cap);
    if (p == NULL)
        return TCN_ERR_NOMEM;
    if (b->p != NULL) {
        memcpy(p, b->p, b->len);
        sodium_memzero(b->p, b->cap);
        free(b->p);
    }
    b->p = p;
    b->cap = cap;
    return TCN_OK;
}

int tcn_buf_append(tcn_buf *b, const void *p, size_t n)
{
    TCN_GUARD(tcn_buf_reserve(b, n));
    if (n > 0)
        memcpy(b->p + b->len, p, n);
    b->len += n;
    return TCN_OK;
}

int tcn_buf_u8(tcn_buf *b, uint8_t v) { return tcn_buf_append(b, &v, 1); }

int tcn_buf_u16le(tcn_buf *b, uint16_t v)
{
    uint8_t x[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
    return tcn_buf_append(b, x, 2);
}

int tcn_buf_u16be(tcn_buf *b, uint16_t v)
{
    uint8_t x[2] = {(uint8_t)(v >> 8), (uint8_t)v};
    return tcn_buf_append(b, x, 2);
}

int tcn_buf_u32le(tcn_buf *b, uint32_t v)
{
    uint8_t x[4];
    for (int i = 0; i < 4; i++)
        x[i] = (uint8_t)(v >> (8 * i));
    return tcn_buf_append(b, x, 4);
}

int tcn_buf_u32be(tcn_buf *b, uint32_t v)
{
    uint8_t x[4];
    for (int i = 0; i < 4; i++)
        x[i] = (uint8_t)(v >> (8 * (3 - i)));
    return tcn_buf_append(b, x, 4);
}

int tcn_buf_u64le(tcn_buf *b, uint64_t v)
{
    uint8_t x[8];
    for (int i = 0; i < 8; i++)
        x[i] = (uint8_t)(v >> (8 * i));
    return tcn_buf_append(b, x, 8);
}

int tcn_buf_u64be(tcn_buf *b, uint64_t v)
{
    uint8_t x[8];
    for (int i = 0; i < 8; i++)
        x[i] = (uint8_t)(v >> (8 * (7 - i)));
    return tcn_buf_append(b, x, 8);
}

void tcn_buf_free(tcn_buf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

void tcn_buf_free_wipe(tcn_buf *b)
{
    if (b->p != NULL)
        sodium_memzero(b->p, b->cap);
    tcn_buf_free(b);
}
