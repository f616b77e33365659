/* Evidence providers: ask the TEE we run in for evidence binding 64 bytes of
 * report data. One small table of functions per TEE (sim, Gramine SGX, Nitro). */
#ifndef TCN_ATTEST_PROVIDER_H
#define TCN_ATTEST_PROVIDER_H

#include <stdint.h>

#include "attest/claims.h"
#include "util/buf.h"
#include "util/err.h"

typedef struct tcn_provider tcn_provider;

struct tcn_provider {
    tcn_tee_type tee;
    /* Appends evidence binding report_data to out (the caller owns out). */
    int (*evidence)(tcn_provider *p, const uint8_t report_data[TCN_REPORT_DATA_LEN], tcn_buf *out, tcn_error *err);
    void (*destroy)(tcn_provider *p);
};

/* Sim: the platform key file (see tcn sim-platform keygen) plays the vendor;
 * the measurement is SHA-384 of exe_path (NULL: /proc/self/exe). */
int tcn_provider_sim_new(const char *platform_key_path, const char *exe_path, tcn_provider **out, tcn_error *err)
    TCN_MUST_CHECK;
/* Gramine SGX (DCAP): writes report data to <dir>/user_report_data and reads
 * <dir>/quote, dir normally "/dev/attestation"; <dir>/attestation_type must
 * say "dcap". Not run on hardware here; tests use a directory of files. */
int tcn_provider_gramine_new(const char *dir, tcn_provider **out, tcn_error *err) TCN_MUST_CHECK;
/* AWS Nitro: an Attestation request to the NSM device (normally "/dev/nsm")
 * with report data as user_data. Not run on hardware here. */
int tcn_provider_nitro_new(const char *dev_path, tcn_provider **out, tcn_error *err) TCN_MUST_CHECK;

int tcn_provider_evidence(tcn_provider *p, const uint8_t report_data[TCN_REPORT_DATA_LEN], tcn_buf *out,
                          tcn_error *err) TCN_MUST_CHECK;
void tcn_provider_free(tcn_provider *p);

#endif
