/* Intel SGX / TDX DCAP ECDSA quotes (v3 SGX, v4 SGX/TDX, v5 TDX 1.5): parse,
 * verify against Intel collateral, produce claims. */
#ifndef TCN_ATTEST_DCAP_H
#define TCN_ATTEST_DCAP_H

#include <stddef.h>
#include <stdint.h>

#include "attest/claims.h"
#include "util/err.h"

#define TCN_DCAP_QUOTE_MAX (64 * 1024)

/* A borrowed byte range. */
typedef struct tcn_slice {
    const uint8_t *p;
    size_t len;
} tcn_slice;

/* Intel collateral as fetched from PCS, file names as in
 * shared/testdata/attestation/sgx_dcap/<sample>/. The caller owns the bytes.
 * tcb_info and qe_identity (with their issuer chains) are required; the two
 * CRLs are given together or not at all (then revocation is not checked and
 * the claims say so). */
typedef struct tcn_dcap_collateral {
    tcn_slice tcb_info;                 /* tcb_info.json: {"tcbInfo":{...},"signature":"hex"} */
    tcn_slice tcb_info_issuer_chain;    /* PEM: TCB Signing cert, Root CA */
    tcn_slice qe_identity;              /* qe_identity.json: {"enclaveIdentity":{...},"signature":"hex"} */
    tcn_slice qe_identity_issuer_chain; /* PEM */
    tcn_slice pck_crl;                  /* DER (or PEM) CRL of the PCK Processor/Platform CA */
    tcn_slice pck_crl_issuer_chain;     /* PEM */
    tcn_slice root_ca_crl;              /* DER (or PEM) CRL of the Intel SGX Root CA */
} tcn_dcap_collateral;

/* Reads the files of a collateral directory (missing optional files leave
 * empty slices). Free with tcn_dcap_collateral_free. */
int tcn_dcap_collateral_load_dir(const char *dir, tcn_dcap_collateral *out, tcn_error *err) TCN_MUST_CHECK;
void tcn_dcap_collateral_free(tcn_dcap_collateral *c);

/* Full verification at time at_ms (ms since epoch): PCK chain to the pinned
 * Intel SGX Root CA with CRLs, QE report signature, QE report data binding,
 * quote signature, TCB info and QE identity (signatures, validity windows,
 * FMSPC/PCEID match) to a TCB status. On success fills *out (tee SGX or TDX,
 * measurement MRENCLAVE/MRTD, signer MRSIGNER, debug flag, report data,
 * tcb_status, advisory ids). Debug enclaves are reported, not rejected:
 * that is the policy's call. Errors name the failed check. */
int tcn_dcap_verify(const uint8_t *quote, size_t len, const tcn_dcap_collateral *col, int64_t at_ms,
                    tcn_claims *out, tcn_error *err) TCN_MUST_CHECK;

#endif
