/* Attestation policy: what evidence a verifier accepts, checked on claims only. */
#ifndef TCN_ATTEST_POLICY_H
#define TCN_ATTEST_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "attest/claims.h"
#include "attest/sim.h"
#include "util/err.h"

#define TCN_POLICY_MEASUREMENTS_MAX 32
#define TCN_POLICY_SIM_KEYS_MAX 8
#define TCN_POLICY_FILE_MAX (256 * 1024)
/* Evidence stamped this far in the verifier's future is still accepted (clock skew). */
#define TCN_POLICY_FUTURE_SKEW_MS (5 * 60 * 1000)

typedef struct tcn_policy_measurement {
    size_t len;
    uint8_t v[TCN_MEASUREMENT_MAX];
} tcn_policy_measurement;

/* Plain value; copyable. */
typedef struct tcn_policy {
    uint32_t tee_mask;        /* bit (1u << tcn_tee_type) per accepted TEE */
    bool measurement_any;     /* no measurement check (the CLI's default) */
    bool measurement_self;    /* accept the verifier's own measurement... */
    tcn_policy_measurement self; /* ...which the node sets at boot (len 0: unknown) */
    size_t measurement_count; /* allow-list for rolling upgrades */
    tcn_policy_measurement measurements[TCN_POLICY_MEASUREMENTS_MAX];
    uint16_t min_svn;
    uint32_t tcb_status_mask; /* bit (1u << tcn_tcb_status) per accepted status */
    int64_t max_age_ms;       /* 0: no limit; applies to evidence that carries a time */
    bool allow_debug;
    /* SGX/TDX: refuse evidence whose PCK chain was not checked against
     * Intel's CRLs (collateral without them). */
    bool require_revocation;
    /* TDX: MRTD measures only the TD's firmware; when measurements are
     * checked, RTMR0..2 (kernel, command line, application) must also match
     * one of these (each 144 bytes: RTMR0 ‖ RTMR1 ‖ RTMR2). */
    size_t tdx_rtmr_count;
    uint8_t tdx_rtmrs[TCN_POLICY_MEASUREMENTS_MAX][3 * 48];
    size_t sim_key_count;     /* sim is accepted only with tee "sim" AND a key here */
    uint8_t sim_keys[TCN_POLICY_SIM_KEYS_MAX][TCN_SIM_PUBKEY_LEN];
} tcn_policy;

/* `tcn verify-evidence` without --policy: SGX, TDX and Nitro; every TCB status
 * except Revoked; no debug; revocation checked; no measurement check; no sim;
 * no age limit. */
void tcn_policy_default(tcn_policy *p);

/* Reads the "attestation" object of a config file / JSON value. Fields:
 *   tee: ["sgx","tdx","nitro","sim"]        (default: sgx, tdx, nitro)
 *   measurements: ["self" | hex, ...]      (default: any measurement; [] is an error)
 *   min_svn: 0..65535                       (default 0)
 *   tcb_status: ["UpToDate", ...]           (default: all but Revoked)
 *   max_evidence_age_s: seconds             (default 0: no limit)
 *   allow_debug: bool                       (default false)
 *   require_revocation: bool                (default true)
 *   tdx_rtmrs: [hex144, ...]                (RTMR0‖RTMR1‖RTMR2; needed for TDX
 *                                            when measurements are checked)
 *   sim_platform_keys: [hex32, ...]         (default none)
 * Unknown fields, wrong types and bad values are errors naming the field. */
int tcn_policy_from_json(const json_t *attestation, tcn_policy *out, tcn_error *err) TCN_MUST_CHECK;
/* Loads a config file: a JSON object whose "attestation" member is the policy
 * (other top-level sections belong to other parts and are not read here). */
int tcn_policy_load_file(const char *path, tcn_policy *out, tcn_error *err) TCN_MUST_CHECK;

/* Adds a sim platform key (and accepts tee sim). */
int tcn_policy_add_sim_key(tcn_policy *p, const uint8_t key[TCN_SIM_PUBKEY_LEN], tcn_error *err) TCN_MUST_CHECK;
int tcn_policy_add_measurement(tcn_policy *p, const uint8_t *m, size_t len, tcn_error *err) TCN_MUST_CHECK;

/* Checks claims against the policy at time now_ms. A violation is
 * TCN_ERR_POLICY (TCN_ERR_DEBUG for debug enclaves) with a message naming the
 * field, the expected and the actual value. */
int tcn_policy_check(const tcn_policy *p, const tcn_claims *c, int64_t now_ms, tcn_error *err) TCN_MUST_CHECK;

#endif
