/* One entry point for all evidence: detect the type, verify authenticity with
 * the type's verifier, then check the policy on the claims. */
#ifndef TCN_ATTEST_EVIDENCE_H
#define TCN_ATTEST_EVIDENCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "attest/claims.h"
#include "attest/dcap.h"
#include "attest/policy.h"
#include "util/err.h"

#define TCN_EVIDENCE_MAX (64 * 1024)

typedef struct tcn_verify_opts {
    tcn_tee_type type;                     /* TCN_TEE_NONE: detect */
    const tcn_dcap_collateral *collateral; /* SGX/TDX: required */
    int64_t at_ms;                         /* verification time */
    /* Nitro: check the chain at the document's own timestamp instead of at_ms
     * (AWS's documented procedure; freshness is then the policy's max age). */
    bool nitro_at_doc_time;
    const tcn_policy *policy;              /* required */
} tcn_verify_opts;

/* Guesses the type from the first bytes: sim magic, COSE_Sign1 array/tag,
 * DCAP header (version 3/4/5, key type 2; TEE type 0 SGX, 0x81 TDX). */
tcn_tee_type tcn_evidence_detect(const uint8_t *p, size_t len);

/* Verifies and applies the policy (at opts->at_ms). On TCN_OK *out holds the
 * accepted claims. On an authenticity failure *out is zeroed; on a policy
 * failure *out holds the authentic claims that the policy refused. */
int tcn_evidence_verify(const uint8_t *ev, size_t len, const tcn_verify_opts *opts, tcn_claims *out, tcn_error *err)
    TCN_MUST_CHECK;

/* Drops every verification cache (x509 signatures, DCAP chains and collateral,
 * Nitro certificates): benchmarks use it to measure first-seen evidence. */
void tcn_attest_cache_clear(void);

#endif
