/* AWS Nitro Enclaves attestation documents (COSE_Sign1, ES384): verify and
 * produce claims; and the /dev/nsm request encoding for the provider. */
#ifndef TCN_ATTEST_NITRO_H
#define TCN_ATTEST_NITRO_H

#include <stddef.h>
#include <stdint.h>

#include "attest/claims.h"
#include "util/buf.h"
#include "util/err.h"

#define TCN_NITRO_DOC_MAX (32 * 1024)

/* Verifies the COSE_Sign1 signature (ES384) over the CBOR payload, the
 * certificate chain from the document's cabundle to the pinned AWS Nitro root
 * G1 at at_ms (at_ms < 0: at the document's own timestamp), and the payload
 * fields (module_id, digest SHA384, timestamp, pcrs, certificate, cabundle,
 * public_key, user_data, nonce). Fills *out: tee NITRO, measurement PCR0,
 * signer PCR8, debug (PCR0 all zero), pcrs, user_data, nonce, public_key,
 * timestamp. Errors name the failed check. */
int tcn_nitro_verify(const uint8_t *doc, size_t len, int64_t at_ms, tcn_claims *out, tcn_error *err)
    TCN_MUST_CHECK;

#endif
