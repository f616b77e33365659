/* X.509 chains, CRLs and ECDSA on OpenSSL: the one place the SGX and Nitro
 * verifiers touch certificate validation. */
#ifndef TCN_ATTEST_X509_H
#define TCN_ATTEST_X509_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "util/err.h"

/* Parses one or more concatenated PEM certificates (order kept, at most 16).
 * Only whitespace and NUL (which ends an SGX quote's chain) may stand between
 * and around the blocks; anything else, or a damaged block, is an error.
 * The caller frees the stack with sk_X509_pop_free(s, X509_free). */
int tcn_x509_parse_pem_chain(const uint8_t *pem, size_t len, STACK_OF(X509) **out, tcn_error *err)
    TCN_MUST_CHECK;
/* Parses exactly one DER certificate covering all len bytes. */
int tcn_x509_parse_der(const uint8_t *der, size_t len, X509 **out, tcn_error *err) TCN_MUST_CHECK;
/* Parses one DER (or PEM) CRL covering all len bytes. */
int tcn_x509_parse_crl(const uint8_t *p, size_t len, X509_CRL **out, tcn_error *err) TCN_MUST_CHECK;

/* Verifies leaf up to the single trust anchor `root` at time at_ms:
 * signatures, validity windows, CA constraints, and revocation against
 * `crls` (when non-NULL, every non-root certificate needs a CRL and each
 * CRL must be valid at at_ms). `untrusted` holds the intermediates (may
 * include the root itself, which is then required to be byte-identical
 * to `root`). `what` names the chain in error messages ("PCK chain").
 * Signature checks go through a small process-wide cache of verified
 * (certificate, issuer key) pairs, so repeated chains cost only the
 * checks that depend on time. */
int tcn_x509_verify_chain(X509 *leaf, STACK_OF(X509) *untrusted, X509 *root, STACK_OF(X509_CRL) *crls,
                          int64_t at_ms, const char *what, tcn_error *err) TCN_MUST_CHECK;

/* True when a and b are the same certificate (DER equal). */
int tcn_x509_equal(X509 *a, X509 *b);
/* One-line subject "CN=...,O=..." into out. */
void tcn_x509_subject(X509 *c, char *out, size_t cap);

/* ECDSA over msg with a raw r||s signature (2*coordinate bytes), the form
 * used by SGX quotes, Intel collateral and COSE. */
int tcn_ecdsa_verify_raw(EVP_PKEY *pub, const EVP_MD *md, const uint8_t *msg, size_t msg_len,
                         const uint8_t *rs, size_t rs_len, tcn_error *err) TCN_MUST_CHECK;
/* Builds a P-256 public key from the 64-byte x||y form of SGX quotes. */
int tcn_ec_p256_from_xy(const uint8_t xy[64], EVP_PKEY **out, tcn_error *err) TCN_MUST_CHECK;

/* Drops all cached signature verifications (tests and benchmarks). */
void tcn_x509_cache_clear(void);
/* Hits and misses since the last clear (benchmarks). */
void tcn_x509_cache_stats(uint64_t *hits, uint64_t *misses);

#endif
