/* libFuzzer target: the sim evidence parser and verifier. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "attest/evidence.h"
#include "attest/sim.h"
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
    tcn_sim_report r;
    uint8_t pk[TCN_SIM_PUBKEY_LEN];
    tcn_error err;
    if (tcn_sim_evidence_parse(data, size, &r, pk, &err) == TCN_OK) {
        /* Trust whatever key the input names, so the signature path runs too. */
        tcn_claims c;
        (void)tcn_sim_verify(data, size, (const uint8_t(*)[TCN_SIM_PUBKEY_LEN])pk, 1, &c, &err);
    }
    (void)tcn_evidence_detect(data, size);
    return 0;
}
