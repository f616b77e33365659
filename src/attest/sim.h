/* The simulated TEE (development only, insecure by construction): evidence is
 * a fixed binary layout signed with Ed25519 by a sim platform key that plays
 * the vendor's role. Accepted only where the policy names that key. */
#ifndef TCN_ATTEST_SIM_H
#define TCN_ATTEST_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "attest/claims.h"
#include "util/err.h"

#define TCN_SIM_MEASUREMENT_LEN 48 /* SHA-384 of the executable */
#define TCN_SIM_PUBKEY_LEN 32
#define TCN_SIM_SIG_LEN 64
#define TCN_SIM_VERSION 1
#define TCN_SIM_FLAG_DEBUG 0x0001u
/* magic 8 | version u16 | flags u16 | product_id u16 | svn u16 |
 * measurement 48 | report_data 64 | issued_at_ms u64 | platform key 32 |
 * Ed25519 signature 64 over every byte before it. Integers little-endian. */
#define TCN_SIM_EVIDENCE_LEN (8 + 2 + 2 + 2 + 2 + 48 + 64 + 8 + 32 + 64)
#define TCN_SIM_MAGIC "TCNSIMEV"

/* A sim platform key pair. sk points to secure memory (wiped on free). */
typedef struct tcn_sim_platform {
    uint8_t pk[TCN_SIM_PUBKEY_LEN];
    uint8_t *sk; /* 64 bytes, libsodium Ed25519 secret key form */
} tcn_sim_platform;

int tcn_sim_platform_generate(tcn_sim_platform *out, tcn_error *err) TCN_MUST_CHECK;
/* Key file: JSON {"type":"tcn-sim-platform-key","public_key":hex,"seed":hex}, mode 0600. */
int tcn_sim_platform_save(const tcn_sim_platform *p, const char *path, tcn_error *err) TCN_MUST_CHECK;
int tcn_sim_platform_load(const char *path, tcn_sim_platform *out, tcn_error *err) TCN_MUST_CHECK;
void tcn_sim_platform_free(tcn_sim_platform *p);

typedef struct tcn_sim_report {
    uint8_t measurement[TCN_SIM_MEASUREMENT_LEN];
    uint8_t report_data[TCN_REPORT_DATA_LEN];
    uint16_t product_id;
    uint16_t svn;
    bool debug;
    int64_t issued_at_ms;
} tcn_sim_report;

/* Encodes and signs evidence for r into out (TCN_SIM_EVIDENCE_LEN bytes). */
void tcn_sim_evidence_create(const tcn_sim_platform *p, const tcn_sim_report *r,
                             uint8_t out[TCN_SIM_EVIDENCE_LEN]);
/* Pure parser: layout only, no signature check. */
int tcn_sim_evidence_parse(const uint8_t *ev, size_t len, tcn_sim_report *r, uint8_t pk[TCN_SIM_PUBKEY_LEN],
                           tcn_error *err) TCN_MUST_CHECK;
/* Parses, requires the signing platform key to be one of trusted[0..n), and
 * checks the signature. n == 0 always fails: sim is never accepted by default. */
int tcn_sim_verify(const uint8_t *ev, size_t len, const uint8_t (*trusted)[TCN_SIM_PUBKEY_LEN], size_t n,
                   tcn_claims *out, tcn_error *err) TCN_MUST_CHECK;

/* SHA-384 of a file (the sim measurement of an executable). */
int tcn_sim_measure_file(const char *path, uint8_t out[TCN_SIM_MEASUREMENT_LEN], tcn_error *err) TCN_MUST_CHECK;
/* SHA-384 of the running executable (/proc/self/exe). */
int tcn_sim_measure_self(uint8_t out[TCN_SIM_MEASUREMENT_LEN], tcn_error *err) TCN_MUST_CHECK;

#endif
