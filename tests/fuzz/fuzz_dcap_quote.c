/* libFuzzer target: the DCAP quote parser on any bytes and, when they parse, the
 * full verifier against the real Phala SGX and TDX collateral (from
 * $TCN_TESTDATA; without it only the parsers run). The same bytes also go to
 * the PCK SGX extension parser, which has the same kind of input. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "attest/dcap.h"
#include "attest/dcap_collateral.h"
#include "attest/dcap_quote.h"
#include "util/secmem.h"
#include "util/timefmt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define COLLATERALS 2
static const char *const collateral_dirs[COLLATERALS] = {
    "attestation/sgx_dcap/sgx_v3_phala_dcap_qvl",
    "attestation/sgx_dcap/tdx_v4_phala_dcap_qvl",
};
static tcn_dcap_collateral g_col[COLLATERALS];
static int g_have_col;
static int64_t g_at_ms; /* inside both collateral windows */

static void init_once(void)
{
    static int done;
    if (done)
        return;
    done = 1;
    if (tcn_crypto_init() != TCN_OK)
        abort();
    tcn_error err;
    if (tcn_time_parse_rfc3339("2025-07-01T00:00:00Z", &g_at_ms, &err) != TCN_OK)
        abort();
    const char *root = getenv("TCN_TESTDATA");
    if (root == NULL || *root == '\0') {
        fprintf(stderr, "fuzz_dcap_quote: TCN_TESTDATA not set: parsers only, no verification\n");
        return;
    }
    for (int i = 0; i < COLLATERALS; i++) {
        char dir[4096];
        snprintf(dir, sizeof(dir), "%s/%s", root, collateral_dirs[i]);
        if (tcn_dcap_collateral_load_dir(dir, &g_col[i], &err) != TCN_OK) {
            fprintf(stderr, "fuzz_dcap_quote: %s: %s: parsers only\n", dir, err.msg);
            for (int k = 0; k < i; k++)
                tcn_dcap_collateral_free(&g_col[k]);
            return;
        }
    }
    g_have_col = 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    init_once();
    tcn_error err;
    tcn_dcap_pck_ext ext;
    (void)tcn_dcap_pck_ext_parse(data, size, &ext, &err);

    tcn_dcap_quote q;
    if (tcn_dcap_quote_parse(data, size, &q, &err) != TCN_OK)
        return 0;
    tcn_claims claims = {0};
    tcn_dcap_quote_to_claims(&q, &claims);
    if (!g_have_col)
        return 0;
    const tcn_dcap_collateral *col = &g_col[q.body_kind == TCN_DCAP_BODY_SGX ? 0 : 1];
    if (tcn_dcap_verify(data, size, col, g_at_ms, &claims, &err) == TCN_OK) {
        /* Only the untouched sample quotes can get here. */
        if (claims.tee != TCN_TEE_SGX && claims.tee != TCN_TEE_TDX)
            abort();
    }
    return 0;
}
