/* Pure parser for AWS Nitro Enclaves attestation documents (COSE_Sign1 around a
 * CBOR payload): structure and field checks only, no signatures, no chain. */
#ifndef TCN_ATTEST_NITRO_DOC_H
#define TCN_ATTEST_NITRO_DOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "attest/claims.h"
#include "attest/nitro.h"
#include "util/cursor.h"
#include "util/err.h"

/* Limits. The document itself is bounded by TCN_NITRO_DOC_MAX (nitro.h). */
#define TCN_NITRO_SIG_LEN 96               /* ES384: raw r||s, 48 + 48 (RFC 9053 §2.1) */
#define TCN_NITRO_PCR_LEN 48               /* SHA384 PCR bank */
#define TCN_NITRO_CABUNDLE_MAX 8           /* real documents carry 4 (root, regional, zonal, instance) */
#define TCN_NITRO_CERT_MAX (8 * 1024)      /* one DER certificate; real ones are ~0.5-0.7 KiB */
#define TCN_NITRO_MODULE_ID_MAX 127        /* fits tcn_claims.module_id[128] with its NUL */
#define TCN_NITRO_CBOR_DEPTH_MAX 8         /* deepest legitimate nesting is 3 (tag, array/map, array) */

/* COSE algorithm identifier ES384 (RFC 9053 §2.1, IANA "COSE Algorithms"). */
#define TCN_COSE_ALG_ES384 (-35)
/* COSE header label "alg" (RFC 9052 §3.1). */
#define TCN_COSE_LABEL_ALG 1
/* CBOR tag for COSE_Sign1 (RFC 9052 §2, §4.2). */
#define TCN_COSE_SIGN1_TAG 18

/* Optional byte string of the payload: absent and CBOR null both give
 * present = false (PROVENANCE: real documents carry null optional fields). */
typedef struct tcn_nitro_opt_bytes {
    bool present;
    const uint8_t *p;
    size_t len;
} tcn_nitro_opt_bytes;

struct cbor_item_t;

/* A parsed document. Every pointer below borrows from the decoded CBOR items
 * the value holds (not from the caller's input): they stay valid until
 * tcn_nitro_doc_free. Not copyable. */
typedef struct tcn_nitro_doc {
    /* COSE_Sign1 = [protected: bstr, unprotected: map, payload: bstr, signature: bstr]
     * (RFC 9052 §4.2); the bstr contents exactly as signed. */
    bool tagged; /* wrapped in CBOR tag 18 */
    const uint8_t *protected_hdr;
    size_t protected_len;
    const uint8_t *payload;
    size_t payload_len;
    const uint8_t *signature; /* TCN_NITRO_SIG_LEN bytes */

    /* The payload, aws-nitro-enclaves-nsm-api docs/attestation_process.md §2.2. */
    char module_id[TCN_NITRO_MODULE_ID_MAX + 1];
    int64_t timestamp_ms;
    uint32_t pcr_present; /* bit i: PCR i was in the document */
    const uint8_t *pcrs[TCN_NITRO_PCR_COUNT]; /* TCN_NITRO_PCR_LEN bytes each, where present */
    const uint8_t *certificate;
    size_t certificate_len;
    size_t cabundle_count; /* >= 1; cabundle[0] is the root */
    const uint8_t *cabundle[TCN_NITRO_CABUNDLE_MAX];
    size_t cabundle_len[TCN_NITRO_CABUNDLE_MAX];
    tcn_nitro_opt_bytes public_key;
    tcn_nitro_opt_bytes user_data;
    tcn_nitro_opt_bytes nonce;

    /* Owned: the decoded COSE array (without its tag) and the decoded payload. */
    struct cbor_item_t *cose_item_;
    struct cbor_item_t *payload_item_;
} tcn_nitro_doc;

/* Parses doc[0..len) into *out: the whole input must be one COSE_Sign1 (tag 18
 * optional) with protected header exactly {1: -35}, an empty unprotected map,
 * a 96-byte signature, and a payload whose fields have the documented types
 * and sizes. On failure *out is left empty (tcn_nitro_doc_free is still safe)
 * and err names the field and the failed check. */
int tcn_nitro_doc_parse(const uint8_t *doc, size_t len, tcn_nitro_doc *out, tcn_error *err) TCN_MUST_CHECK;
/* Releases what a parse holds; safe on a zeroed or already freed value. */
void tcn_nitro_doc_free(tcn_nitro_doc *d);

/* ---- CBOR helpers shared with the NSM encoder/decoder (nitro_nsm.c) ---- */

/* CBOR major types (RFC 8949 §3.1). */
enum {
    TCN_NITRO_CBOR_UINT = 0,
    TCN_NITRO_CBOR_NEGINT = 1,
    TCN_NITRO_CBOR_BYTES = 2,
    TCN_NITRO_CBOR_TEXT = 3,
    TCN_NITRO_CBOR_ARRAY = 4,
    TCN_NITRO_CBOR_MAP = 5,
    TCN_NITRO_CBOR_TAG = 6,
    TCN_NITRO_CBOR_SIMPLE = 7,
};

/* Reads one data item head (RFC 8949 §3): major type and argument. Definite
 * lengths only: additional information 28..31 (reserved, indefinite, break)
 * is TCN_ERR_MALFORMED. A short input is TCN_ERR_TRUNCATED and leaves the
 * cursor where it was. The argument of major type 7 is the simple value or
 * the float's bit pattern. */
int tcn_nitro_cbor_head(tcn_cursor *c, unsigned *major, uint64_t *arg) TCN_MUST_CHECK;

/* Checks that p[0..len) is exactly one well-formed CBOR data item with no
 * trailing bytes, definite lengths only, nested at most depth_max deep
 * (<= TCN_NITRO_CBOR_DEPTH_MAX), and with every array or map count no larger
 * than the bytes left (each element takes at least one byte). Run before
 * cbor_load: libcbor 0.8 preallocates arrays and maps from the declared count,
 * so this bounds what a hostile header can make it allocate. `what` prefixes
 * the message ("nitro: payload"). */
int tcn_nitro_cbor_check(const uint8_t *p, size_t len, unsigned depth_max, const char *what, tcn_error *err)
    TCN_MUST_CHECK;

/* Appends a CBOR head (major type, argument) in the shortest form
 * (RFC 8949 §4.2.1, core deterministic encoding). */
int tcn_nitro_cbor_put_head(tcn_buf *b, unsigned major, uint64_t arg) TCN_MUST_CHECK;

/* Untrusted text for an error message: printable ASCII kept, other bytes
 * shown as '?', cut with "..." to fit cap (>= 8) including the NUL. */
void tcn_nitro_quote(const uint8_t *p, size_t n, char *out, size_t cap);

#endif
