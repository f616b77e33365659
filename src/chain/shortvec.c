/* compact-u16 encoding and strict decoding (solana-short-vec; Solana docs
 * "Transactions": compact-array format). */
#include "chain/shortvec.h"

#include <stdbool.h>

#include "chain/limits.h"

int tcn_chain_shortvec_read(tcn_cursor *c, uint16_t *out, const char *what, tcn_error *err)
{
    tcn_cursor look = *c; /* read on a copy: the caller's cursor moves only on success */
    uint32_t v = 0;
    for (unsigned i = 0; i < TCN_CHAIN_SHORTVEC_BYTES_MAX; i++) {
        uint8_t byte;
        TCN_ENSURE(tcn_cur_u8(&look, &byte) == TCN_OK, err, TCN_ERR_TRUNCATED,
                   "%s: compact-u16 ends after %u bytes", what, i);
        TCN_ENSURE(!(byte == 0 && i > 0), err, TCN_ERR_MALFORMED, "%s: compact-u16 is not minimal (zero byte %u)",
                   what, i);
        bool more = (byte & 0x80) != 0;
        TCN_ENSURE(!(more && i == TCN_CHAIN_SHORTVEC_BYTES_MAX - 1), err, TCN_ERR_MALFORMED,
                   "%s: compact-u16 continues past its third byte", what);
        v |= (uint32_t)(byte & 0x7f) << (7 * i);
        TCN_ENSURE(v <= 0xffff, err, TCN_ERR_MALFORMED, "%s: compact-u16 value %u exceeds 65535", what, v);
        if (!more) {
            *out = (uint16_t)v;
            *c = look;
            return TCN_OK;
        }
    }
    /* unreachable: the third byte either ends the value or was refused */
    return tcn_err_set(err, TCN_ERR_INTERNAL, "%s: compact-u16 decoder", what);
}

int tcn_chain_shortvec_write(tcn_buf *b, uint16_t v)
{
    uint32_t rest = v;
    for (;;) {
        uint8_t byte = (uint8_t)(rest & 0x7f);
        rest >>= 7;
        if (rest == 0)
            return tcn_buf_u8(b, byte);
        TCN_GUARD(tcn_buf_u8(b, (uint8_t)(byte | 0x80)));
    }
}

unsigned tcn_chain_shortvec_len(uint16_t v)
{
    return v < 0x80 ? 1u : v < 0x4000 ? 2u : 3u;
}
