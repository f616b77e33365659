/* compact-u16 ("short_vec"): the length prefix of every array in a Solana transaction. */
#ifndef TCN_CHAIN_SHORTVEC_H
#define TCN_CHAIN_SHORTVEC_H

#include <stdint.h>

#include "util/buf.h"
#include "util/cursor.h"
#include "util/err.h"

/* Reads one compact-u16 as Solana does (solana-short-vec visit_byte): 7 bits
 * per byte, low bits first, high bit = more; at most 3 bytes, the third
 * without a continuation bit; a zero byte after the first is an alias (a
 * non-minimal encoding) and refused; values above 0xffff are refused. On
 * failure the cursor does not move and `what` names the field. */
int tcn_chain_shortvec_read(tcn_cursor *c, uint16_t *out, const char *what, tcn_error *err) TCN_MUST_CHECK;
/* Appends the minimal encoding of v. */
int tcn_chain_shortvec_write(tcn_buf *b, uint16_t v) TCN_MUST_CHECK;
/* Bytes tcn_chain_shortvec_write uses for v: 1, 2 or 3. */
unsigned tcn_chain_shortvec_len(uint16_t v);

#endif
