/* Growable byte buffer for encoders (the writing side of the cursor). */
#ifndef TCN_UTIL_BUF_H
#define TCN_UTIL_BUF_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

/* Owns its storage; tcn_buf_free releases it (tcn_buf_free_wipe wipes first,
 * for buffers that held secrets). Growing never leaves a copy behind: the old
 * block is wiped before it is freed. A zeroed struct is an empty buffer. */
typedef struct tcn_buf {
    uint8_t *p;
    size_t len;
    size_t cap;
} tcn_buf;

int tcn_buf_reserve(tcn_buf *b, size_t extra) TCN_MUST_CHECK;
int tcn_buf_append(tcn_buf *b, const void *p, size_t n) TCN_MUST_CHECK;
int tcn_buf_u8(tcn_buf *b, uint8_t v) TCN_MUST_CHECK;
int tcn_buf_u16le(tcn_buf *b, uint16_t v) TCN_MUST_CHECK;
int tcn_buf_u16be(tcn_buf *b, uint16_t v) TCN_MUST_CHECK;
int tcn_buf_u32le(tcn_buf *b, uint32_t v) TCN_MUST_CHECK;
int tcn_buf_u32be(tcn_buf *b, uint32_t v) TCN_MUST_CHECK;
int tcn_buf_u64le(tcn_buf *b, uint64_t v) TCN_MUST_CHECK;
int tcn_buf_u64be(tcn_buf *b, uint64_t v) TCN_MUST_CHECK;
void tcn_buf_free(tcn_buf *b);
void tcn_buf_free_wipe(tcn_buf *b);

#endif
