/* Transactions: signing, verification, wire format (Solana docs
 * "Transactions"; solana-transaction Transaction::sanitize for the counts). */
#include "chain/transaction.h"

#include <string.h>

#include "chain/base58.h"
#include "chain/shortvec.h"
#include "util/assert.h"
#include "util/cursor.h"

void tcn_chain_tx_init(tcn_chain_tx *tx, const tcn_chain_message *msg)
{
    TCN_ASSERT(msg->header.num_required_signatures <= TCN_CHAIN_TX_SIGNATURES_MAX);
    memset(tx->signatures, 0, sizeof(tx->signatures));
    tx->n_signatures = msg->header.num_required_signatures;
    tx->msg = *msg;
}

/* The signed bytes: the canonical message encoding, which is at most a packet. */
static int message_bytes(const tcn_chain_tx *tx, tcn_buf *b, tcn_error *err)
{
    b->len = 0;
    return tcn_chain_message_encode(&tx->msg, b, err);
}

int tcn_chain_tx_sign(tcn_chain_tx *tx, const tcn_chain_keypair *const *signers, size_t n_signers, tcn_error *err)
{
    const tcn_chain_message *m = &tx->msg;
    unsigned required = m->header.num_required_signatures;
    int slot_of[TCN_CHAIN_TX_SIGNATURES_MAX];
    char b58[TCN_CHAIN_BASE58_PUBKEY_CHARS];
    TCN_ENSURE(tx->n_signatures == required, err, TCN_ERR_USAGE,
               "transaction: signatures: %u for %u required signers", tx->n_signatures, required);
    for (unsigned i = 0; i < required; i++)
        slot_of[i] = -1;
    for (size_t s = 0; s < n_signers; s++) {
        const tcn_chain_pubkey *pk = tcn_chain_keypair_pubkey(signers[s]);
        int idx = tcn_chain_message_key_index(m, pk);
        if (idx < 0 || (unsigned)idx >= required) {
            tcn_chain_pubkey_to_base58(pk, b58);
            return tcn_err_set(err, TCN_ERR_USAGE, "transaction: signer %s is not a required signer", b58);
        }
        slot_of[idx] = (int)s;
    }
    for (unsigned i = 0; i < required; i++) {
        if (slot_of[i] < 0) {
            tcn_chain_pubkey_to_base58(&m->keys[i], b58);
            return tcn_err_set(err, TCN_ERR_USAGE, "transaction: signatures[%u]: no key given for signer %s", i, b58);
        }
    }
    tcn_buf b = {0};
    int rc = message_bytes(tx, &b, err);
    tcn_chain_signature sigs[TCN_CHAIN_TX_SIGNATURES_MAX];
    for (unsigned i = 0; rc == TCN_OK && i < required; i++)
        rc = tcn_chain_keypair_sign(signers[slot_of[i]], b.p, b.len, &sigs[i], err);
    if (rc == TCN_OK)
        memcpy(tx->signatures, sigs, required * sizeof(sigs[0]));
    tcn_buf_free(&b);
    return rc;
}

int tcn_chain_tx_verify(const tcn_chain_tx *tx, tcn_error *err)
{
    const tcn_chain_message *m = &tx->msg;
    TCN_ENSURE(tx->n_signatures == m->header.num_required_signatures, err, TCN_ERR_MALFORMED,
               "transaction: signatures: %u for %u required signers", tx->n_signatures,
               m->header.num_required_signatures);
    tcn_buf b = {0};
    int rc = message_bytes(tx, &b, err);
    for (unsigned i = 0; rc == TCN_OK && i < tx->n_signatures; i++) {
        if (!tcn_chain_verify(&m->keys[i], b.p, b.len, &tx->signatures[i])) {
            char b58[TCN_CHAIN_BASE58_PUBKEY_CHARS];
            tcn_chain_pubkey_to_base58(&m->keys[i], b58);
            rc = tcn_err_set(err, TCN_ERR_BAD_SIGNATURE, "transaction: signatures[%u]: does not verify for %s", i,
                             b58);
        }
    }
    tcn_buf_free(&b);
    return rc;
}

const tcn_chain_signature *tcn_chain_tx_id(const tcn_chain_tx *tx)
{
    TCN_ASSERT(tx->n_signatures >= 1);
    return &tx->signatures[0];
}

int tcn_chain_tx_encode(const tcn_chain_tx *tx, tcn_buf *out, tcn_error *err)
{
    TCN_ENSURE(tx->n_signatures == tx->msg.header.num_required_signatures, err, TCN_ERR_USAGE,
               "transaction: signatures: %u for %u required signers", tx->n_signatures,
               tx->msg.header.num_required_signatures);
    size_t start = out->len;
    int rc = tcn_chain_shortvec_write(out, tx->n_signatures);
    for (unsigned i = 0; rc == TCN_OK && i < tx->n_signatures; i++)
        rc = tcn_buf_append(out, tx->signatures[i].b, TCN_CHAIN_SIGNATURE_LEN);
    if (rc != TCN_OK) {
        out->len = start;
        return tcn_err_set(err, rc, "transaction: encoding: %s", tcn_err_message(rc));
    }
    rc = tcn_chain_message_encode(&tx->msg, out, err);
    if (rc != TCN_OK) {
        out->len = start;
        return rc;
    }
    if (out->len - start > TCN_CHAIN_PACKET_BYTES_MAX) {
        size_t n = out->len - start;
        out->len = start;
        return tcn_err_set(err, TCN_ERR_TOO_LARGE, "transaction: %zu bytes exceed the %u-byte packet", n,
                           TCN_CHAIN_PACKET_BYTES_MAX);
    }
    return TCN_OK;
}

int tcn_chain_tx_decode(const uint8_t *p, size_t len, tcn_chain_tx *tx, tcn_error *err)
{
    tcn_cursor c;
    uint16_t n;
    TCN_ENSURE(len <= TCN_CHAIN_PACKET_BYTES_MAX, err, TCN_ERR_TOO_LARGE,
               "transaction: %zu bytes exceed the %u-byte packet", len, TCN_CHAIN_PACKET_BYTES_MAX);
    tcn_cur_init(&c, p, len);
    TCN_GUARD(tcn_chain_shortvec_read(&c, &n, "transaction: signatures.len", err));
    TCN_ENSURE(n >= 1 && n <= TCN_CHAIN_TX_SIGNATURES_MAX, err, TCN_ERR_MALFORMED,
               "transaction: signatures.len: %u, want 1..%u", n, TCN_CHAIN_TX_SIGNATURES_MAX);
    for (unsigned i = 0; i < n; i++)
        TCN_ENSURE(tcn_cur_copy(&c, tx->signatures[i].b, TCN_CHAIN_SIGNATURE_LEN) == TCN_OK, err, TCN_ERR_TRUNCATED,
                   "transaction: signatures[%u]: ends early", i);
    tx->n_signatures = (uint8_t)n;
    if (tcn_chain_message_parse(&c, &tx->msg, err) != TCN_OK)
        return tcn_err_wrap(err, "transaction");
    TCN_ENSURE(tcn_cur_remaining(&c) == 0, err, TCN_ERR_MALFORMED, "transaction: %zu trailing bytes",
               tcn_cur_remaining(&c));
    TCN_ENSURE(n == tx->msg.header.num_required_signatures, err, TCN_ERR_MALFORMED,
               "transaction: signatures.len: %u signatures for %u required signers", n,
               tx->msg.header.num_required_signatures);
    return TCN_OK;
}
