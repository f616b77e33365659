/* tcnd — the coordinator daemon. In this release it only reports its version
 * and its own sim measurement; the network comes with the consensus issues. */
#include <stdio.h>
#include <string.h>

#include "attest/sim.h"
#include "util/encoding.h"
#include "util/secmem.h"

int main(int argc, char **argv)
{
    if (tcn_crypto_init() != TCN_OK) {
        fprintf(stderr, "tcnd: cannot initialise libsodium\n");
        return 1;
    }
    if (argc > 1 && strcmp(argv[1], "--measurement") == 0) {
        uint8_t m[TCN_SIM_MEASUREMENT_LEN];
        tcn_error err;
        tcn_err_clear(&err);
        if (tcn_sim_measure_self(m, &err) != TCN_OK) {
            fprintf(stderr, "tcnd: %s\n", err.msg);
            return 1;
        }
        char hex[2 * TCN_SIM_MEASUREMENT_LEN + 1];
        tcn_hex_encode(m, sizeof(m), hex);
        printf("%s\n", hex);
        return 0;
    }
    printf("tcnd %s (daemon not yet implemented in this release: no network, no consensus)\n", TCN_VERSION);
    return 0;
}
