/* Test helper: a sim-TEE RA-TLS server context, in a file of its own so that
 * tests which read the state machine (state/cmd.h's tcn_policy) can use it
 * without including tls/ratls.h (attest/policy.h's tcn_policy). */
#ifndef TCN_TESTS_TESTLIB_RATLS_H
#define TCN_TESTS_TESTLIB_RATLS_H

#include <stdint.h>

#include <openssl/ssl.h>

typedef struct tcn_test_ratls {
    SSL_CTX *server_ctx;         /* server-auth RA-TLS context (users' clients) */
    uint8_t measurement[48];     /* sim measurement of this test binary */
    uint8_t platform_pk[32];     /* the sim platform key that signs our evidence */
    uint8_t other_platform_pk[32]; /* another platform key (signs nothing of ours) */
    void *priv_;
} tcn_test_ratls;

/* A new sim platform, provider and identity (with group_id, or NULL);
 * returns 0 on success. */
int tcn_test_ratls_new(const uint8_t *group_id, tcn_test_ratls *out);
/* The certificate in DER (malloc'd) and the claims-free parts tests need. */
int tcn_test_ratls_cert_der(const tcn_test_ratls *t, uint8_t **der, size_t *len);
void tcn_test_ratls_free(tcn_test_ratls *t);

#endif
