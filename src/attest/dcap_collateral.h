/* Intel PCS collateral for DCAP: the signed-JSON envelope, TCB info and QE
 * identity (parse, signature, validity window), and the pure TCB rules
 * (level matching, TDX module identity, status convergence). Private to
 * attest/ and its tests; the public entry points are in dcap.h. */
#ifndef TCN_ATTEST_DCAP_COLLATERAL_H
#define TCN_ATTEST_DCAP_COLLATERAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/x509.h>

#include "attest/claims.h"
#include "attest/dcap.h"
#include "attest/dcap_quote.h"
#include "util/err.h"

/* File size limits for tcn_dcap_collateral_load_dir. Real TCB info is
 * 5-20 KiB, chains ~2 KiB, CRLs up to a few KiB (the Platform CA CRL grows
 * by ~40 bytes per revoked certificate). */
#define TCN_DCAP_JSON_FILE_MAX (512 * 1024)
#define TCN_DCAP_PEM_FILE_MAX (64 * 1024)
#define TCN_DCAP_CRL_FILE_MAX (4 * 1024 * 1024)

#define TCN_DCAP_TCB_COMPONENTS 16
#define TCN_DCAP_TCB_LEVELS_MAX 256
#define TCN_DCAP_MODULE_IDENTITIES_MAX 64
#define TCN_DCAP_LEVEL_ADVISORIES_MAX 128
#define TCN_DCAP_SIG_LEN 64 /* collateral signatures: P-256 r||s */
#define TCN_DCAP_MODULE_ID_MAX 16

/* One TCB level of TCB info (PCS API v4 "TCB Info" tcbLevels[]). */
typedef struct tcn_dcap_tcb_level {
    uint8_t sgx_svn[TCN_DCAP_TCB_COMPONENTS];
    uint16_t pcesvn;
    bool has_tdx;
    uint8_t tdx_svn[TCN_DCAP_TCB_COMPONENTS];
    tcn_tcb_status status;
    const char *tcb_date;           /* as written in the JSON (messages only) */
    const char *const *advisory_ids; /* advisory_count strings */
    size_t advisory_count;
} tcn_dcap_tcb_level;

/* One TCB level of an identity (QE identity, TDX module identity): keyed by ISVSVN. */
typedef struct tcn_dcap_isv_level {
    uint16_t isvsvn;
    tcn_tcb_status status; /* UpToDate, OutOfDate or Revoked */
    const char *tcb_date;
    const char *const *advisory_ids;
    size_t advisory_count;
} tcn_dcap_isv_level;

typedef struct tcn_dcap_tdx_module_identity {
    char id[TCN_DCAP_MODULE_ID_MAX]; /* "TDX_01" */
    uint8_t mrsigner[48];
    uint8_t attributes[8];
    uint8_t attributes_mask[8];
    const tcn_dcap_isv_level *levels;
    size_t level_count;
} tcn_dcap_tdx_module_identity;

/* Parsed TCB info (v2 or v3). Owns its storage; free with tcn_dcap_tcb_info_free. */
typedef struct tcn_dcap_tcb_info {
    int version;
    bool tdx; /* id "TDX" (v3); v2 and id "SGX" are SGX */
    int64_t issue_date_ms;
    int64_t next_update_ms;
    uint8_t fmspc[6];
    uint8_t pceid[2];
    const tcn_dcap_tcb_level *levels;
    size_t level_count;
    bool has_tdx_module; /* "tdxModule" */
    uint8_t tdx_module_mrsigner[48];
    uint8_t tdx_module_attributes[8];
    uint8_t tdx_module_attributes_mask[8];
    const tcn_dcap_tdx_module_identity *modules; /* "tdxModuleIdentities" */
    size_t module_count;
    void *owned_; /* internal: JSON document and allocations */
} tcn_dcap_tcb_info;

typedef enum {
    TCN_DCAP_QE_ID_QE = 1,    /* "QE": the SGX quoting enclave */
    TCN_DCAP_QE_ID_QVE = 2,   /* "QVE": the quote verification enclave */
    TCN_DCAP_QE_ID_TD_QE = 3, /* "TD_QE": the TDX quoting enclave */
} tcn_dcap_qe_id;

/* Parsed QE identity (enclaveIdentity v2). Free with tcn_dcap_qe_identity_free. */
typedef struct tcn_dcap_qe_identity {
    tcn_dcap_qe_id id;
    int version;
    int64_t issue_date_ms;
    int64_t next_update_ms;
    uint8_t miscselect[4];
    uint8_t miscselect_mask[4];
    uint8_t attributes[16];
    uint8_t attributes_mask[16];
    uint8_t mrsigner[32];
    uint16_t isvprodid;
    const tcn_dcap_isv_level *levels;
    size_t level_count;
    void *owned_;
} tcn_dcap_qe_identity;

/* Splits a PCS document {"<key>":<value>,"signature":"<hex r||s>"}: *body
 * gets the exact bytes of <value> as they appear (the signed bytes: Intel
 * signs the text, so nothing is re-serialized), sig the decoded signature.
 * <key> must be the first top-level key and "signature" the second and last. */
int tcn_dcap_signed_json_split(const uint8_t *doc, size_t len, const char *key, tcn_slice *body,
                               uint8_t sig[TCN_DCAP_SIG_LEN], tcn_error *err) TCN_MUST_CHECK;

/* Pure parsers of the inner value (the bytes from tcn_dcap_signed_json_split). */
int tcn_dcap_tcb_info_parse(const uint8_t *body, size_t len, tcn_dcap_tcb_info *out, tcn_error *err) TCN_MUST_CHECK;
void tcn_dcap_tcb_info_free(tcn_dcap_tcb_info *t);
int tcn_dcap_qe_identity_parse(const uint8_t *body, size_t len, tcn_dcap_qe_identity *out, tcn_error *err)
    TCN_MUST_CHECK;
void tcn_dcap_qe_identity_free(tcn_dcap_qe_identity *q);

/* ---- caches -----------------------------------------------------------------
 * Collateral and PCK chains repeat across quotes, and on OpenSSL 3 decoding a
 * certificate or checking a CRL signature costs ~0.1-0.3 ms each. These
 * process-wide, mutex-protected, fixed-size caches remember only facts that
 * cannot change: the certificates a PEM text decodes to, that a signature
 * verified, and that a chain with given CRLs verified, together with the
 * time window outside which that result must be recomputed. */
#define TCN_DCAP_PEM_CACHE_SLOTS 32
#define TCN_DCAP_SIG_CACHE_SLOTS 256
#define TCN_DCAP_CHAIN_CACHE_SLOTS 64

/* tcn_x509_parse_pem_chain through the cache; the caller owns *out (its
 * certificates are shared, reference-counted and must not be modified). */
int tcn_dcap_pem_chain_cached(tcn_slice pem, STACK_OF(X509) **out, tcn_error *err) TCN_MUST_CHECK;
/* tcn_x509_verify_chain to the pinned Intel SGX root. chain_id and crl_id
 * identify the exact chain and CRL bytes (SHA-256); a success at one time
 * is reused at any time inside the intersection of the validity windows of
 * every certificate and CRL involved, where the result cannot differ. */
int tcn_dcap_verify_chain_cached(X509 *leaf, STACK_OF(X509) *chain, const uint8_t chain_id[32],
                                 STACK_OF(X509_CRL) *crls, const uint8_t crl_id[32], int64_t at_ms, const char *what,
                                 tcn_error *err) TCN_MUST_CHECK;
/* tcn_ecdsa_verify_raw (SHA-256, P-256 r||s) with signer's certificate key,
 * remembering successes. */
int tcn_dcap_ecdsa_verify_cached(X509 *signer, const uint8_t *msg, size_t msg_len, const uint8_t sig[64],
                                 tcn_error *err) TCN_MUST_CHECK;
/* SHA-256 over the given slices, each prefixed by its length. */
void tcn_dcap_hash_slices(const tcn_slice *s, size_t n, uint8_t out[32]);
/* Empties all three caches (tests, benchmarks). */
void tcn_dcap_cache_clear(void);

/* Parses a PEM issuer chain (TCB Signing certificate first), verifies it to
 * the pinned Intel SGX Root CA at at_ms (revocation against crls when
 * non-NULL) and checks that the leaf is the Intel SGX TCB Signing
 * certificate. crl_id identifies the CRL bytes (see the caches). The caller
 * frees *chain_out with sk_X509_pop_free(.., X509_free). */
int tcn_dcap_tcb_signer_verify(tcn_slice chain_pem, STACK_OF(X509_CRL) *crls, const uint8_t crl_id[32],
                               int64_t at_ms, const char *what, STACK_OF(X509) **chain_out, tcn_error *err)
    TCN_MUST_CHECK;

/* issue <= at < next, else TCN_ERR_NOT_YET_VALID / TCN_ERR_EXPIRED naming what. */
int tcn_dcap_check_window(int64_t issue_ms, int64_t next_ms, int64_t at_ms, const char *what, tcn_error *err)
    TCN_MUST_CHECK;

/* Envelope, signature by signer (a verified TCB Signing certificate), parse,
 * then the validity window at at_ms. */
int tcn_dcap_tcb_info_load(tcn_slice doc, X509 *signer, int64_t at_ms, tcn_dcap_tcb_info *out, tcn_error *err)
    TCN_MUST_CHECK;
int tcn_dcap_qe_identity_load(tcn_slice doc, X509 *signer, int64_t at_ms, tcn_dcap_qe_identity *out,
                              tcn_error *err) TCN_MUST_CHECK;

/* ---- pure TCB rules (Intel QVL TcbLevelCheck / TdxModuleCheck semantics) -- */

/* The first level (PCS lists them newest first) whose 16 SGX components and
 * PCESVN are all <= the PCK certificate's and, when tee_tcb_svn is non-NULL
 * (TDX), whose TDX components are all <= TEE_TCB_SVN, compared from byte 2
 * when TEE_TCB_SVN[1] (the TDX module major version) is non-zero because the
 * module identity covers bytes 0..1 then. No match: TCN_ERR_NO_TCB_MATCH
 * with the components that were below. */
int tcn_dcap_match_tcb_level(const tcn_dcap_tcb_level *levels, size_t n, const uint8_t pck_comp[16],
                             uint16_t pck_pcesvn, const uint8_t *tee_tcb_svn, const tcn_dcap_tcb_level **out,
                             tcn_error *err) TCN_MUST_CHECK;

/* The first level with isvsvn <= the given ISVSVN; what names the identity. */
int tcn_dcap_match_isv_level(const tcn_dcap_isv_level *levels, size_t n, uint16_t isvsvn, const char *what,
                             const tcn_dcap_isv_level **out, tcn_error *err) TCN_MUST_CHECK;

/* TDX module (QVL TdxModuleCheck): TEE_TCB_SVN[1] is the module major version,
 * TEE_TCB_SVN[0] its SVN. Version 0: MRSIGNERSEAM/SEAMATTRIBUTES are checked
 * against "tdxModule" and there is no module TCB level (*level NULL, status
 * UpToDate). Otherwise the identity "TDX_%02X" is required, checked the same
 * way, and its first level with isvsvn <= TEE_TCB_SVN[0] gives the status. */
int tcn_dcap_tdx_module_check(const tcn_dcap_tcb_info *ti, const uint8_t tee_tcb_svn[16],
                              const uint8_t mr_signer_seam[48], const uint8_t seam_attributes[8],
                              tcn_tcb_status *status, const tcn_dcap_isv_level **level, tcn_error *err)
    TCN_MUST_CHECK;

/* FMSPC and PCE-ID of the PCK certificate equal the TCB info's, and the TCB
 * info is for the quote's TEE (id "TDX" for TDX, "SGX" or v2 for SGX). */
int tcn_dcap_tcb_info_match(const tcn_dcap_tcb_info *ti, const tcn_dcap_pck_ext *pck, bool tdx, tcn_error *err)
    TCN_MUST_CHECK;

/* The QE report against the QE identity (QVL EnclaveReportVerifier): id
 * "QE" for SGX quotes and "TD_QE" for TDX, MISCSELECT and ATTRIBUTES under
 * their masks, MRSIGNER, ISVPRODID (mismatch: TCN_ERR_COLLATERAL), then the
 * identity's TCB level for the QE's ISVSVN. */
int tcn_dcap_qe_identity_match(const tcn_dcap_qe_identity *qi, const tcn_dcap_sgx_report *qe_report, bool tdx,
                               const tcn_dcap_isv_level **level, tcn_error *err) TCN_MUST_CHECK;

/* Intel QVL convergeTcbStatusWithQeTcbStatus / ...WithTdxModuleStatus: an
 * OutOfDate QE (or TDX module) turns UpToDate and SWHardeningNeeded into
 * OutOfDate and the two Configuration statuses into
 * OutOfDateConfigurationNeeded; a Revoked one makes the result Revoked. */
tcn_tcb_status tcn_dcap_converge_status(tcn_tcb_status platform, tcn_tcb_status other);

#endif
