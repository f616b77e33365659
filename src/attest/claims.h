/* The one neutral value every verifier produces (DESIGN §4); policy reads only this. */
#ifndef TCN_ATTEST_CLAIMS_H
#define TCN_ATTEST_CLAIMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "util/err.h"

typedef enum {
    TCN_TEE_NONE = 0,
    TCN_TEE_SIM = 1,
    TCN_TEE_SGX = 2,
    TCN_TEE_TDX = 3,
    TCN_TEE_NITRO = 4,
} tcn_tee_type;

/* Intel's TCB statuses (PCS API v4), plus NONE for TEEs without one (sim,
 * Nitro). Values are bit positions in a policy's accepted-status mask. */
typedef enum {
    TCN_TCB_NONE = 0,
    TCN_TCB_UP_TO_DATE,
    TCN_TCB_SW_HARDENING_NEEDED,
    TCN_TCB_CONFIGURATION_NEEDED,
    TCN_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED,
    TCN_TCB_OUT_OF_DATE,
    TCN_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED,
    TCN_TCB_REVOKED,
    TCN_TCB_COUNT_ /* not a status */
} tcn_tcb_status;

#define TCN_MEASUREMENT_MAX 48
#define TCN_REPORT_DATA_LEN 64
#define TCN_ADVISORY_MAX 128 /* Intel lists ~20 per TCB level; QE and TDX module add theirs */
#define TCN_ADVISORY_ID_MAX 32
#define TCN_NITRO_PCR_COUNT 32
#define TCN_NITRO_FIELD_MAX 1024 /* user_data, nonce, public_key (see PROVENANCE size note) */

typedef struct tcn_bytes_field {
    bool present;
    size_t len;
    uint8_t data[TCN_NITRO_FIELD_MAX];
} tcn_bytes_field;

/* Plain value; copyable; holds no pointers. */
typedef struct tcn_claims {
    tcn_tee_type tee;
    /* MRENCLAVE (32), MRTD (48), Nitro PCR0 (48), sim SHA-384 of the binary (48). */
    uint8_t measurement[TCN_MEASUREMENT_MAX];
    size_t measurement_len;
    /* MRSIGNER (32), Nitro PCR8 (48), sim: none (0). */
    uint8_t signer[TCN_MEASUREMENT_MAX];
    size_t signer_len;
    uint16_t product_id;
    uint16_t svn;
    bool debug;
    /* SGX/TDX/sim report data; Nitro: user_data when it is exactly 64 bytes. */
    bool report_data_present;
    uint8_t report_data[TCN_REPORT_DATA_LEN];
    /* Evidence time (ms since epoch): Nitro document timestamp, sim issued-at;
     * 0 for SGX/TDX quotes, which carry no time (freshness comes from the key
     * binding and re-attestation, DESIGN §4). */
    int64_t timestamp_ms;
    /* SGX/TDX: the PCK chain was checked against Intel's CRLs (false when the
     * collateral came without them). */
    bool revocation_checked;
    tcn_tcb_status tcb_status;
    size_t advisory_count;
    char advisory_ids[TCN_ADVISORY_MAX][TCN_ADVISORY_ID_MAX];

    /* Nitro only. pcr_present bit i set when PCR i was in the document. */
    uint32_t pcr_present;
    uint8_t pcrs[TCN_NITRO_PCR_COUNT][48];
    size_t pcr_len; /* 48 for SHA384 documents */
    char module_id[128];
    tcn_bytes_field user_data;
    tcn_bytes_field nonce;
    tcn_bytes_field public_key;

    /* TDX only: RTMR0..3 (48 each). */
    uint8_t rtmr[4][48];

    /* sim only: the platform key that signed the evidence. */
    uint8_t sim_platform_key[32];
} tcn_claims;

const char *tcn_tee_name(tcn_tee_type t);              /* "sgx" */
int tcn_tee_parse(const char *s, tcn_tee_type *out);    /* TCN_OK or TCN_ERR_MALFORMED */
const char *tcn_tcb_status_name(tcn_tcb_status s);      /* Intel's spelling: "UpToDate" */
int tcn_tcb_status_parse(const char *s, tcn_tcb_status *out);

/* Adds an advisory id unless already present (sorted order is not kept). */
void tcn_claims_add_advisory(tcn_claims *c, const char *id);

/* The JSON object `tcn verify-evidence --json` prints: tee, measurement,
 * signer, report_data, debug, tcb_status, advisory_ids, timestamp, and
 * for Nitro pcrs, module_id, user_data, nonce, public_key. New reference. */
json_t *tcn_claims_to_json(const tcn_claims *c);

#endif
