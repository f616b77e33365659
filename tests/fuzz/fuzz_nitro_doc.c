/* libFuzzer target: the Nitro attestation document parser and verifier (COSE_Sign1, chain, claims). */
#include <stddef.h>
#include <stdint.h>

#include "attest/nitro.h"
#include "util/assert.h"
#include "util/secmem.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    if (!ready) {
        if (tcn_crypto_init() != TCN_OK)
            return 0;
        ready = 1;
    }
    static tcn_claims claims; /* ~5 KiB: kept off the stack */
    tcn_error err;
    tcn_err_clear(&err);
    claims.tee = TCN_TEE_NONE;
    /* At the document's own timestamp, so a seed's genuine chain is valid and
     * mutations reach the signature and claims code. */
    int rc = tcn_nitro_verify(data, size, -1, &claims, &err);
    /* Whatever the outcome, it must be an operating error with a message,
     * never a success without claims. */
    TCN_ASSERT(rc != TCN_OK || claims.tee == TCN_TEE_NITRO);
    TCN_ASSERT(rc == TCN_OK || err.msg[0] != '\0');
    return 0;
}
