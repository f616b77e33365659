/* Benchmark: evidence verifications per second on one core, per evidence type,
 * with every cache cold (first-seen evidence: all certificates parsed, every
 * signature checked) and warm (repeat chains and collateral), against a
 * same-process baseline of raw ECDSA verifications. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/ec.h>
#include <openssl/evp.h>

#include "attest/dcap.h"
#include "attest/evidence.h"
#include "attest/nitro.h"
#include "attest/sim.h"
#include "attest/x509.h"
#include "testlib.h"
#include "util/file.h"
#include "util/secmem.h"
#include "util/timefmt.h"

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

typedef int (*verify_fn)(void *ctx);

/* Runs fn for at least min_s seconds; returns microseconds per call. */
static double run(verify_fn fn, void *ctx, int cold, double min_s)
{
    long n = 0;
    double start = now_s(), el;
    do {
        for (int i = 0; i < 16; i++, n++) {
            if (cold)
                tcn_attest_cache_clear();
            if (fn(ctx) != TCN_OK) {
                fprintf(stderr, "bench: verification failed\n");
                exit(1);
            }
        }
        el = now_s() - start;
    } while (el < min_s);
    return el * 1e6 / (double)n;
}

struct ecdsa_ctx {
    EVP_PKEY *key;
    uint8_t sig[256];
    size_t sig_len;
    const EVP_MD *md;
};

static int ecdsa_once(void *p)
{
    struct ecdsa_ctx *c = p;
    EVP_MD_CTX *m = EVP_MD_CTX_new();
    int ok = EVP_DigestVerifyInit(m, NULL, c->md, NULL, c->key) == 1 &&
             EVP_DigestVerify(m, c->sig, c->sig_len, (const uint8_t *)"bench", 5) == 1;
    EVP_MD_CTX_free(m);
    return ok ? TCN_OK : TCN_ERR_BAD_SIGNATURE;
}

static double ecdsa_baseline(const char *curve, const EVP_MD *md, double min_s)
{
    struct ecdsa_ctx c = {.md = md};
    c.key = EVP_EC_gen(curve);
    EVP_MD_CTX *m = EVP_MD_CTX_new();
    c.sig_len = sizeof(c.sig);
    if (c.key == NULL || EVP_DigestSignInit(m, NULL, md, NULL, c.key) != 1 ||
        EVP_DigestSign(m, c.sig, &c.sig_len, (const uint8_t *)"bench", 5) != 1) {
        fprintf(stderr, "bench: baseline key failed\n");
        exit(1);
    }
    EVP_MD_CTX_free(m);
    double us = run(ecdsa_once, &c, 0, min_s);
    EVP_PKEY_free(c.key);
    return us;
}

struct ev_ctx {
    uint8_t *ev;
    size_t len;
    tcn_verify_opts opts;
};

static int ev_once(void *p)
{
    struct ev_ctx *c = p;
    tcn_claims cl;
    tcn_error e;
    int rc = tcn_evidence_verify(c->ev, c->len, &c->opts, &cl, &e);
    if (rc != TCN_OK)
        fprintf(stderr, "bench: %s\n", e.msg);
    return rc;
}

static void report(const char *name, double cold_us, double warm_us, double p256_us, double p384_us)
{
    printf("%-34s cold %8.1f us (%6.0f/s)   warm %8.1f us (%6.0f/s)   warm = %4.1fx P-256 verify, %4.2fx P-384 verify\n",
           name, cold_us, 1e6 / cold_us, warm_us, 1e6 / warm_us, warm_us / p256_us, warm_us / p384_us);
}

int main(int argc, char **argv)
{
    double min_s = argc > 1 ? atof(argv[1]) : 1.0;
    if (tcn_crypto_init() != TCN_OK)
        return 1;
    printf("bench_verify: one thread, each figure averaged over >= %.1f s\n", min_s);
    double p256 = ecdsa_baseline("P-256", EVP_sha256(), min_s);
    double p384 = ecdsa_baseline("P-384", EVP_sha384(), min_s);
    printf("%-34s %8.1f us (%6.0f/s)\n", "baseline: ECDSA P-256 verify", p256, 1e6 / p256);
    printf("%-34s %8.1f us (%6.0f/s)\n", "baseline: ECDSA P-384 verify", p384, 1e6 / p384);

    /* sim */
    tcn_sim_platform plat;
    tcn_error e;
    if (tcn_sim_platform_generate(&plat, &e) != TCN_OK)
        return 1;
    tcn_sim_report r;
    memset(&r, 0, sizeof(r));
    r.issued_at_ms = tcn_time_now_ms();
    uint8_t sim_ev[TCN_SIM_EVIDENCE_LEN];
    tcn_sim_evidence_create(&plat, &r, sim_ev);
    tcn_policy pol;
    tcn_policy_default(&pol);
    pol.allow_debug = true;
    if (tcn_policy_add_sim_key(&pol, plat.pk, &e) != TCN_OK)
        return 1;
    struct ev_ctx sc = {.ev = sim_ev, .len = sizeof(sim_ev), .opts = {.at_ms = r.issued_at_ms, .policy = &pol}};
    double sim_us = run(ev_once, &sc, 0, min_s);
    report("sim (Ed25519)", sim_us, sim_us, p256, p384);
    tcn_sim_platform_free(&plat);

    if (!tcn_test_have_testdata("attestation")) {
        printf("bench_verify: SKIPPED the SGX/TDX/Nitro figures (no testdata)\n");
        return 0;
    }
    struct {
        const char *name, *dir, *at;
    } dcap[] = {
        {"sgx quote v3 + collateral", "attestation/sgx_dcap/sgx_v3_phala_dcap_qvl", "2025-07-01T00:00:00Z"},
        {"tdx quote v4 + collateral", "attestation/sgx_dcap/tdx_v4_phala_dcap_qvl", "2025-07-01T00:00:00Z"},
    };
    for (size_t i = 0; i < 2; i++) {
        char qp[512];
        snprintf(qp, sizeof(qp), "%s/quote.bin", dcap[i].dir);
        struct ev_ctx c = {0};
        c.ev = tcn_test_read(qp, &c.len);
        tcn_dcap_collateral col;
        if (tcn_dcap_collateral_load_dir(tcn_test_path(dcap[i].dir), &col, &e) != TCN_OK ||
            tcn_time_parse_rfc3339(dcap[i].at, &c.opts.at_ms, &e) != TCN_OK) {
            fprintf(stderr, "bench: %s\n", e.msg);
            return 1;
        }
        c.opts.collateral = &col;
        c.opts.policy = &pol;
        double cold = run(ev_once, &c, 1, min_s);
        double warm = run(ev_once, &c, 0, min_s);
        report(dcap[i].name, cold, warm, p256, p384);
        tcn_dcap_collateral_free(&col);
        free(c.ev);
    }
    const char *nitro[] = {"attestation/nitro/blocky_prod_2024-09-07/attestation_doc.cbor",
                           "attestation/nitro/evervault_prod_2022-10-13/attestation_doc.cbor"};
    /* Each document's own timestamp (PROVENANCE.md), one second later. */
    const int64_t nitro_at[] = {1725719859545LL + 1000, 1665651482136LL + 1000};
    for (size_t i = 0; i < 2; i++) {
        struct ev_ctx c = {0};
        c.ev = tcn_test_read(nitro[i], &c.len);
        c.opts.at_ms = nitro_at[i];
        c.opts.policy = &pol;
        double cold = run(ev_once, &c, 1, min_s);
        double warm = run(ev_once, &c, 0, min_s);
        report(i == 0 ? "nitro document (blocky prod)" : "nitro document (evervault prod)", cold, warm, p256, p384);
        free(c.ev);
    }
    uint64_t hits, misses;
    tcn_x509_cache_stats(&hits, &misses);
    printf("signature cache since last clear: %llu hits, %llu misses\n", (unsigned long long)hits,
           (unsigned long long)misses);
    return 0;
}
