/* Intel DCAP ECDSA quote layout (v3, v4, v5) and its pure parsers: the quote
 * bytes and the SGX extension of a PCK certificate. No cryptography here. */
#ifndef TCN_ATTEST_DCAP_QUOTE_H
#define TCN_ATTEST_DCAP_QUOTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "attest/claims.h"
#include "attest/dcap.h"
#include "util/err.h"

/* Sizes from the Intel SGX ECDSA Quote Library Reference (DCAP), Appendix A
 * "Quote Format" (v3), and the Intel TDX DCAP Quote Generation Library and
 * Quote Verification Library reference, "Quote Format" (v4, v5). */
#define TCN_DCAP_HEADER_LEN 48
#define TCN_DCAP_SGX_REPORT_LEN 384  /* SGX REPORTBODY, also the QE report */
#define TCN_DCAP_TD10_REPORT_LEN 584 /* TDX 1.0 TD report body */
#define TCN_DCAP_TD15_REPORT_LEN 648 /* TDX 1.5: TD 1.0 + TEE_TCB_SVN2 16 + MRSERVICETD 48 */
#define TCN_DCAP_V5_BODY_DESC_LEN 6  /* v5: u16 body type, u32 body size */
#define TCN_DCAP_ECDSA_SIG_LEN 64    /* P-256 r||s */
#define TCN_DCAP_ATT_KEY_LEN 64      /* P-256 x||y */
#define TCN_DCAP_QE_VENDOR_ID_LEN 16
#define TCN_DCAP_USER_DATA_LEN 20
#define TCN_DCAP_CPUSVN_LEN 16
#define TCN_DCAP_TEE_TCB_SVN_LEN 16
#define TCN_DCAP_MR48_LEN 48
#define TCN_DCAP_MR32_LEN 32

#define TCN_DCAP_VERSION_MIN 3
#define TCN_DCAP_VERSION_MAX 5
#define TCN_DCAP_ATT_KEY_ECDSA_P256 2 /* ECDSA-256-with-P-256; 3 (P-384) is unsupported */
#define TCN_DCAP_TEE_SGX 0x00000000u
#define TCN_DCAP_TEE_TDX 0x00000081u

/* Certification data types (Quote Library Reference, "Certification Data"). */
#define TCN_DCAP_CERT_PCK_CHAIN 5         /* concatenated PEM: PCK leaf, PCK CA, root */
#define TCN_DCAP_CERT_QE_REPORT 6         /* v4/v5 outer container: QE report certification data */
#define TCN_DCAP_CERT_DATA_MAX (32 * 1024) /* a PEM chain of three certificates is ~3.6 KiB */

/* SGX ATTRIBUTES.FLAGS bit 1 (Intel SDM Vol. 3D §38.7.1) and TD ATTRIBUTES
 * bit 0 TUD.DEBUG (Intel TDX Module ABI spec, TDREPORT). */
#define TCN_DCAP_SGX_FLAG_DEBUG 0x02u
#define TCN_DCAP_TD_ATTR_DEBUG 0x01u

extern const uint8_t tcn_dcap_intel_qe_vendor_id[TCN_DCAP_QE_VENDOR_ID_LEN];

typedef enum {
    TCN_DCAP_BODY_SGX = 1,  /* v5 body type 1; v3/v4 with TEE type SGX */
    TCN_DCAP_BODY_TD10 = 2, /* v5 body type 2; v4 with TEE type TDX */
    TCN_DCAP_BODY_TD15 = 3, /* v5 body type 3 */
} tcn_dcap_body_kind;

/* SGX REPORTBODY (Intel SDM Vol. 3D §38.15 "REPORT"): the enclave body of an
 * SGX quote, and the QE report inside every quote. */
typedef struct tcn_dcap_sgx_report {
    uint8_t cpusvn[TCN_DCAP_CPUSVN_LEN];
    uint8_t miscselect[4]; /* as stored: little-endian u32 */
    uint8_t attributes[16]; /* FLAGS u64 LE, then XFRM u64 LE */
    uint8_t mrenclave[TCN_DCAP_MR32_LEN];
    uint8_t mrsigner[TCN_DCAP_MR32_LEN];
    uint16_t isvprodid;
    uint16_t isvsvn;
    uint8_t report_data[TCN_REPORT_DATA_LEN];
} tcn_dcap_sgx_report;

/* TD report body, TDX 1.0 and 1.5 (the last two fields are TD 1.5 only). */
typedef struct tcn_dcap_td_report {
    uint8_t tee_tcb_svn[TCN_DCAP_TEE_TCB_SVN_LEN];
    uint8_t mr_seam[TCN_DCAP_MR48_LEN];
    uint8_t mr_signer_seam[TCN_DCAP_MR48_LEN];
    uint8_t seam_attributes[8];
    uint8_t td_attributes[8];
    uint8_t xfam[8];
    uint8_t mr_td[TCN_DCAP_MR48_LEN];
    uint8_t mr_config_id[TCN_DCAP_MR48_LEN];
    uint8_t mr_owner[TCN_DCAP_MR48_LEN];
    uint8_t mr_owner_config[TCN_DCAP_MR48_LEN];
    uint8_t rtmr[4][TCN_DCAP_MR48_LEN];
    uint8_t report_data[TCN_REPORT_DATA_LEN];
    uint8_t tee_tcb_svn2[TCN_DCAP_TEE_TCB_SVN_LEN];
    uint8_t mr_servicetd[TCN_DCAP_MR48_LEN];
} tcn_dcap_td_report;

/* A parsed quote. Fixed-size fields are copies; the tcn_slice fields borrow
 * from the buffer given to tcn_dcap_quote_parse, which must outlive them.
 * Offsets are from the start of that buffer. */
typedef struct tcn_dcap_quote {
    /* header */
    uint16_t version;
    uint16_t att_key_type;
    uint32_t tee_type;
    uint16_t qe_svn;  /* v3 only (reserved in v4/v5) */
    uint16_t pce_svn; /* v3 only */
    uint8_t qe_vendor_id[TCN_DCAP_QE_VENDOR_ID_LEN];
    uint8_t user_data[TCN_DCAP_USER_DATA_LEN];

    /* body */
    tcn_dcap_body_kind body_kind;
    uint16_t v5_body_type; /* 0 before v5 */
    tcn_dcap_sgx_report sgx; /* when body_kind == SGX */
    tcn_dcap_td_report td;   /* when body_kind is TD10 or TD15 */

    /* What the attestation key signs: bytes [0, signed_len) (header and body,
     * and for v5 also the body type and size between them). */
    size_t signed_len;

    /* signature data */
    size_t sig_data_off; /* first byte after the u32 signature data length */
    size_t sig_data_len;
    uint8_t quote_sig[TCN_DCAP_ECDSA_SIG_LEN];
    uint8_t att_key[TCN_DCAP_ATT_KEY_LEN];
    uint16_t outer_cert_type; /* 6 for v4/v5, 0 for v3 (no outer container) */
    size_t qe_report_off;     /* the 384 raw bytes the QE report signature covers */
    tcn_dcap_sgx_report qe_report;
    uint8_t qe_report_sig[TCN_DCAP_ECDSA_SIG_LEN];
    tcn_slice qe_auth_data;
    uint16_t cert_type; /* 5 = PEM chain */
    tcn_slice cert_data;
    /* Bytes after the declared signature data; ignored (see dcap_quote.c). */
    size_t trailing_len;
} tcn_dcap_quote;

/* Pure parser: layout, every declared length checked against what is left,
 * versions, key type, TEE type/body type consistency. No signatures. */
int tcn_dcap_quote_parse(const uint8_t *p, size_t len, tcn_dcap_quote *out, tcn_error *err) TCN_MUST_CHECK;

/* The report's debug flag: SGX ATTRIBUTES.FLAGS.DEBUG, or TD ATTRIBUTES.DEBUG. */
bool tcn_dcap_quote_is_debug(const tcn_dcap_quote *q);
/* Fills the report-derived claims (tee, measurement, signer, product id, SVN,
 * debug, report data, RTMRs); leaves TCB status and advisories alone. */
void tcn_dcap_quote_to_claims(const tcn_dcap_quote *q, tcn_claims *out);

/* ---- PCK certificate SGX extension (OID 1.2.840.113741.1.13.1) ----------
 * Intel SGX PCK Certificate and Certificate Revocation List Profile
 * Specification, §1.3.5 "Intel SGX Extensions". */
#define TCN_DCAP_PCK_TCB_COMPONENTS 16
#define TCN_DCAP_PPID_LEN 16
#define TCN_DCAP_FMSPC_LEN 6
#define TCN_DCAP_PCEID_LEN 2

typedef struct tcn_dcap_pck_ext {
    uint8_t ppid[TCN_DCAP_PPID_LEN];
    uint8_t tcb_comp[TCN_DCAP_PCK_TCB_COMPONENTS]; /* SGX TCB components 1..16 */
    uint16_t pcesvn;
    uint8_t cpusvn[TCN_DCAP_CPUSVN_LEN];
    uint8_t pceid[TCN_DCAP_PCEID_LEN];
    uint8_t fmspc[TCN_DCAP_FMSPC_LEN];
    int sgx_type; /* 0 Standard, 1 Scalable, 2 Scalable with integrity */
} tcn_dcap_pck_ext;

/* Parses the DER value of the SGX extension (the OCTET STRING contents):
 * strict DER, every required entry exactly once. */
int tcn_dcap_pck_ext_parse(const uint8_t *der, size_t len, tcn_dcap_pck_ext *out, tcn_error *err) TCN_MUST_CHECK;

#endif
