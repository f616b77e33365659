/* The pinned roots of trust (process-lifetime objects; never free them). */
#ifndef TCN_ATTEST_ROOTS_H
#define TCN_ATTEST_ROOTS_H

#include <openssl/x509.h>

X509 *tcn_root_intel_sgx(void);
X509 *tcn_root_aws_nitro(void);

#endif
