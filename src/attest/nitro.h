/* AWS Nitro Enclaves attestation documents (COSE_Sign1, ES384): verify and
 * produce claims; and the /dev/nsm request encoding for the provider. */
#ifndef TCN_ATTEST_NITRO_H
#define TCN_ATTEST_NITRO_H

#include <stddef.h>
#include <stdint.h>

#include "attest/claims.h"
#include "util/buf.h"
#include "util/err.h"

#define TCN_NITRO_DOC_MAX (32 * 1024)

/* Verifies the COSE_Sign1 signature (ES384) over the CBOR payload, the
 * certificate chain from the document's cabundle to the pinned AWS Nitro root
 * G1 at at_ms (at_ms < 0: at the document's own timestamp), and the payload
 * fields (module_id, digest SHA384, timestamp, pcrs, certificate, cabundle,
 * public_key, user_data, nonce). Fills *out: tee NITRO, measurement PCR0,
 * signer PCR8, debug (PCR0 all zero), pcrs, user_data, nonce, public_key,
 * timestamp. Errors name the failed check. */
int tcn_nitro_verify(const uint8_t *doc, size_t len, int64_t at_ms, tcn_claims *out, tcn_error *err)
    TCN_MUST_CHECK;

/* Drops the cache of parsed certificates (tests and benchmarks). */
void tcn_nitro_cache_clear(void);

/* ---- Provider side: the attestation request to /dev/nsm ---------------------
 * Shapes from aws-nitro-enclaves-nsm-api src/api/mod.rs (serde's externally
 * tagged enums, CBOR via serde_cbor/ciborium): the request
 *   {"Attestation": {"user_data": bstr / null, "nonce": bstr / null,
 *                    "public_key": bstr / null}}
 * and the response {"Attestation": {"document": bstr}} or
 * {"Error": "<ErrorCode>"} (InvalidArgument, InputTooLarge, InternalError, ...).
 * Transport from the Linux driver (include/uapi/linux/nsm.h, drivers/misc/nsm.c;
 * nsm-api src/driver/mod.rs): one ioctl _IOWR(0x0A, 0, struct nsm_raw) on
 * /dev/nsm, where struct nsm_raw is {request, response} pairs of
 * {u64 addr; u64 len} (two struct iovec on 64-bit), requests up to 0x1000
 * bytes, responses up to 0x3000 bytes. */

#define TCN_NITRO_NSM_DEVICE "/dev/nsm"
#define TCN_NITRO_NSM_REQUEST_MAX 0x1000  /* NSM_REQUEST_MAX_SIZE */
#define TCN_NITRO_NSM_RESPONSE_MAX 0x3000 /* NSM_RESPONSE_MAX_SIZE */

/* Encodes the Attestation request into out (appended). A NULL field is sent
 * as CBOR null (its length must then be 0); each field holds at most
 * TCN_NITRO_FIELD_MAX bytes (TCN_ERR_USAGE otherwise). */
int tcn_nitro_nsm_encode_attestation_request(const uint8_t *user_data, size_t ud_len, const uint8_t *nonce,
                                             size_t nonce_len, const uint8_t *public_key, size_t pk_len,
                                             tcn_buf *out, tcn_error *err) TCN_MUST_CHECK;

/* Decodes an NSM response to the Attestation request. On success *doc points
 * INTO p (no copy, nothing to free): it stays valid as long as the caller
 * keeps p alive and unchanged. An {"Error": code} answer fails with
 * TCN_ERR_IO and a message naming the code; any other shape fails with
 * TCN_ERR_MALFORMED (TCN_ERR_TRUNCATED, TCN_ERR_TOO_LARGE for lengths). The
 * document itself is not parsed or verified here. */
int tcn_nitro_nsm_decode_attestation_response(const uint8_t *p, size_t len, const uint8_t **doc, size_t *doc_len,
                                              tcn_error *err) TCN_MUST_CHECK;

/* Asks the NSM at dev_path (normally TCN_NITRO_NSM_DEVICE) for an attestation
 * document whose user_data is report_data (nonce and public_key null) and
 * appends the document bytes to doc_out (the caller owns and frees it). */
int tcn_nitro_nsm_attest(const char *dev_path, const uint8_t report_data[64], tcn_buf *doc_out, tcn_error *err)
    TCN_MUST_CHECK;

#endif
