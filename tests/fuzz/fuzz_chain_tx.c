/* libFuzzer target: Solana wire transactions (tcn_chain_tx_decode). Whatever
 * decodes must re-encode to the very same bytes (one canonical form) and
 * decode again to the same transaction; whatever is refused must say why.
 * The System instruction decoder and the nonce account parser run on the
 * pieces as well. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "chain/nonce.h"
#include "chain/system.h"
#include "chain/transaction.h"
#include "util/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool same_tx(const tcn_chain_tx *a, const tcn_chain_tx *b)
{
    const tcn_chain_message *x = &a->msg, *y = &b->msg;
    if (a->n_signatures != b->n_signatures ||
        memcmp(a->signatures, b->signatures, a->n_signatures * sizeof(a->signatures[0])) != 0)
        return false;
    if (memcmp(&x->header, &y->header, sizeof(x->header)) != 0 || x->n_keys != y->n_keys ||
        memcmp(x->keys, y->keys, x->n_keys * sizeof(x->keys[0])) != 0 ||
        !tcn_chain_hash_eq(&x->recent_blockhash, &y->recent_blockhash) || x->n_instructions != y->n_instructions)
        return false;
    for (unsigned i = 0; i < x->n_instructions; i++) {
        if (x->ix[i].program_index != y->ix[i].program_index || x->ix[i].n_accounts != y->ix[i].n_accounts ||
            x->ix[i].data_len != y->ix[i].data_len ||
            memcmp(tcn_chain_message_ix_accounts(x, i), tcn_chain_message_ix_accounts(y, i), x->ix[i].n_accounts) ||
            memcmp(tcn_chain_message_ix_data(x, i), tcn_chain_message_ix_data(y, i), x->ix[i].data_len))
            return false;
    }
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static tcn_chain_tx tx, again;
    static tcn_buf b;
    tcn_error err;
    tcn_err_clear(&err);

    tcn_chain_nonce_state st;
    (void)tcn_chain_nonce_parse(data, size, size & 1, &st, NULL);

    if (tcn_chain_tx_decode(data, size, &tx, &err) != TCN_OK) {
        if (err.msg[0] == '\0')
            abort(); /* a refusal names its field */
        return 0;
    }
    b.len = 0;
    if (tcn_chain_tx_encode(&tx, &b, &err) != TCN_OK)
        abort(); /* the encoder refuses what the decoder accepted */
    if (b.len != size || memcmp(b.p, data, size) != 0)
        abort(); /* not canonical */
    if (tcn_chain_tx_decode(b.p, b.len, &again, &err) != TCN_OK || !same_tx(&tx, &again))
        abort(); /* decode(encode(tx)) != tx */
    for (unsigned i = 0; i < tx.msg.n_instructions; i++) {
        tcn_chain_system_ix six;
        const uint8_t *d = tcn_chain_message_ix_data(&tx.msg, i);
        size_t n = tx.msg.ix[i].data_len;
        int strict = tcn_chain_system_decode(d, n, false, &six, &err);
        int loose = tcn_chain_system_decode(d, n, true, &six, &err);
        if (strict == TCN_OK && loose != TCN_OK)
            abort(); /* the runtime's mode accepts everything the strict mode does */
    }
    return 0;
}
