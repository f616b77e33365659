/* libFuzzer target: the Raft message codec. Whatever decodes must re-encode to the same bytes (one canonical
 * form) and decode again to an equal message; whatever is refused must say why. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "raft/codec.h"
#include "util/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static tcn_raft_decoder d1, d2;
    static tcn_buf b;
    tcn_raft_msg m, again;
    tcn_error err;
    tcn_err_clear(&err);
    if (tcn_raft_msg_decode(&d1, data, size, &m, &err) != TCN_OK) {
        if (err.msg[0] == '\0')
            abort(); /* a refusal names its field */
        return 0;
    }
    b.len = 0;
    if (tcn_raft_msg_encode(&m, &b, &err) != TCN_OK)
        abort(); /* the encoder refuses what the decoder accepted */
    if (b.len != size || memcmp(b.p, data, size) != 0)
        abort(); /* not canonical */
    if (tcn_raft_msg_decode(&d2, b.p, b.len, &again, &err) != TCN_OK)
        abort();
    if (!tcn_raft_msg_equal(&m, &again))
        abort(); /* decode(encode(m)) != m */
    return 0;
}
