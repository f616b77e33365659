/* Solana legacy transactions: signatures + message; signing, verification,
 * transaction id, wire encoding and strict decoding. */
#ifndef TCN_CHAIN_TRANSACTION_H
#define TCN_CHAIN_TRANSACTION_H

#include <stddef.h>
#include <stdint.h>

#include "chain/keypair.h"
#include "chain/message.h"
#include "util/buf.h"
#include "util/err.h"

/* A plain value (about 8 KiB): signatures[i] belongs to msg.keys[i]. */
typedef struct tcn_chain_tx {
    uint8_t n_signatures;
    tcn_chain_signature signatures[TCN_CHAIN_TX_SIGNATURES_MAX];
    tcn_chain_message msg;
} tcn_chain_tx;

/* An unsigned transaction over msg: one zero signature per required signer. */
void tcn_chain_tx_init(tcn_chain_tx *tx, const tcn_chain_message *msg);
/* Signs the message with every key given; each must be one of the required
 * signers, and together they must cover all of them (otherwise nothing is
 * written and the error names the missing or unexpected key). */
int tcn_chain_tx_sign(tcn_chain_tx *tx, const tcn_chain_keypair *const *signers, size_t n_signers, tcn_error *err)
    TCN_MUST_CHECK;
/* Checks every signature against its key over the message bytes;
 * TCN_ERR_BAD_SIGNATURE names the first that fails. */
int tcn_chain_tx_verify(const tcn_chain_tx *tx, tcn_error *err) TCN_MUST_CHECK;
/* The transaction id: its first signature (the fee payer's). */
const tcn_chain_signature *tcn_chain_tx_id(const tcn_chain_tx *tx);

/* Wire format: compact-u16 signature count, the signatures, the message.
 * The encoder refuses what the decoder would refuse (TCN_ERR_USAGE), and
 * anything above TCN_CHAIN_PACKET_BYTES_MAX (TCN_ERR_TOO_LARGE). */
int tcn_chain_tx_encode(const tcn_chain_tx *tx, tcn_buf *out, tcn_error *err) TCN_MUST_CHECK;
/* Strict: at most TCN_CHAIN_PACKET_BYTES_MAX bytes, exactly one signature per
 * required signer (Solana's sanitizer: equal counts), a strict message
 * (tcn_chain_message_parse), no trailing bytes. Signatures are NOT verified
 * here: call tcn_chain_tx_verify. Decoding then encoding gives the same bytes. */
int tcn_chain_tx_decode(const uint8_t *p, size_t len, tcn_chain_tx *tx, tcn_error *err) TCN_MUST_CHECK;

#endif
