/* Bounds-checked reader for untrusted bytes: typed reads, one place that checks
 * length, and a failed read leaves the cursor unchanged (s2n's stuffer). */
#ifndef TCN_UTIL_CURSOR_H
#define TCN_UTIL_CURSOR_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

/* A view over bytes the caller owns; the cursor never copies or frees them. */
typedef struct tcn_cursor {
    const uint8_t *p;
    size_t len;
    size_t off;
} tcn_cursor;

void tcn_cur_init(tcn_cursor *c, const void *p, size_t len);
size_t tcn_cur_remaining(const tcn_cursor *c);
/* Points at the next unread byte. */
const uint8_t *tcn_cur_ptr(const tcn_cursor *c);

/* Each read returns TCN_OK or TCN_ERR_TRUNCATED; on failure nothing moves. */
int tcn_cur_u8(tcn_cursor *c, uint8_t *out) TCN_MUST_CHECK;
int tcn_cur_u16le(tcn_cursor *c, uint16_t *out) TCN_MUST_CHECK;
int tcn_cur_u16be(tcn_cursor *c, uint16_t *out) TCN_MUST_CHECK;
int tcn_cur_u32le(tcn_cursor *c, uint32_t *out) TCN_MUST_CHECK;
int tcn_cur_u32be(tcn_cursor *c, uint32_t *out) TCN_MUST_CHECK;
int tcn_cur_u64le(tcn_cursor *c, uint64_t *out) TCN_MUST_CHECK;
int tcn_cur_u64be(tcn_cursor *c, uint64_t *out) TCN_MUST_CHECK;
/* Borrows n bytes: *out points into the cursor's buffer. */
int tcn_cur_view(tcn_cursor *c, size_t n, const uint8_t **out) TCN_MUST_CHECK;
/* Copies n bytes into dst (which holds at least n). */
int tcn_cur_copy(tcn_cursor *c, void *dst, size_t n) TCN_MUST_CHECK;
int tcn_cur_skip(tcn_cursor *c, size_t n) TCN_MUST_CHECK;
/* Splits off the next n bytes as a cursor of their own. */
int tcn_cur_sub(tcn_cursor *c, size_t n, tcn_cursor *sub) TCN_MUST_CHECK;

#endif
