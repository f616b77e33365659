/* Unit tests: the simulated TEE (evidence layout, signatures, measurement, key files). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "attest/sim.h"
#include "testlib.h"
#include "util/file.h"
#include "util/secmem.h"

static tcn_sim_platform g_plat;

static void make_report(tcn_sim_report *r)
{
    memset(r, 0, sizeof(*r));
    for (int i = 0; i < 48; i++)
        r->measurement[i] = (uint8_t)i;
    for (int i = 0; i < 64; i++)
        r->report_data[i] = (uint8_t)(0xa0 + i);
    r->product_id = 7;
    r->svn = 3;
    r->issued_at_ms = 1751328000123LL;
}

static void test_roundtrip(void **state)
{
    (void)state;
    tcn_sim_report r;
    make_report(&r);
    uint8_t ev[TCN_SIM_EVIDENCE_LEN];
    tcn_sim_evidence_create(&g_plat, &r, ev);
    tcn_claims c;
    tcn_error e;
    assert_int_equal(tcn_sim_verify(ev, sizeof(ev), (const uint8_t(*)[32])g_plat.pk, 1, &c, &e), TCN_OK);
    assert_int_equal(c.tee, TCN_TEE_SIM);
    assert_int_equal(c.measurement_len, 48);
    assert_memory_equal(c.measurement, r.measurement, 48);
    assert_memory_equal(c.report_data, r.report_data, 64);
    assert_true(c.report_data_present);
    assert_int_equal(c.product_id, 7);
    assert_int_equal(c.svn, 3);
    assert_false(c.debug);
    assert_true(c.timestamp_ms == r.issued_at_ms);
    assert_memory_equal(c.sim_platform_key, g_plat.pk, 32);
    r.debug = true;
    tcn_sim_evidence_create(&g_plat, &r, ev);
    assert_int_equal(tcn_sim_verify(ev, sizeof(ev), (const uint8_t(*)[32])g_plat.pk, 1, &c, &e), TCN_OK);
    assert_true(c.debug);
}

/* Never accepted without a named platform key, and never under another key. */
static void test_untrusted_key(void **state)
{
    (void)state;
    tcn_sim_report r;
    make_report(&r);
    uint8_t ev[TCN_SIM_EVIDENCE_LEN];
    tcn_sim_evidence_create(&g_plat, &r, ev);
    tcn_claims c;
    tcn_error e;
    assert_int_equal(tcn_sim_verify(ev, sizeof(ev), NULL, 0, &c, &e), TCN_ERR_UNTRUSTED_ROOT);
    assert_non_null(strstr(e.msg, "not named by the policy"));
    tcn_sim_platform other;
    assert_int_equal(tcn_sim_platform_generate(&other, &e), TCN_OK);
    assert_int_equal(tcn_sim_verify(ev, sizeof(ev), (const uint8_t(*)[32])other.pk, 1, &c, &e),
                     TCN_ERR_UNTRUSTED_ROOT);
    /* Evidence re-signed by another key but claiming the trusted key fails the signature. */
    tcn_sim_evidence_create(&other, &r, ev);
    memcpy(ev + TCN_SIM_EVIDENCE_LEN - 64 - 32, g_plat.pk, 32);
    assert_int_equal(tcn_sim_verify(ev, sizeof(ev), (const uint8_t(*)[32])g_plat.pk, 1, &c, &e),
                     TCN_ERR_BAD_SIGNATURE);
    tcn_sim_platform_free(&other);
}

/* Every single-bit flip anywhere is rejected; every truncation too. */
static void test_bit_flips_and_truncations(void **state)
{
    (void)state;
    tcn_sim_report r;
    make_report(&r);
    uint8_t ev[TCN_SIM_EVIDENCE_LEN];
    tcn_sim_evidence_create(&g_plat, &r, ev);
    tcn_claims c;
    tcn_error e;
    for (size_t i = 0; i < sizeof(ev); i++) {
        for (int bit = 0; bit < 8; bit++) {
            ev[i] ^= (uint8_t)(1u << bit);
            int rc = tcn_sim_verify(ev, sizeof(ev), (const uint8_t(*)[32])g_plat.pk, 1, &c, &e);
            assert_int_not_equal(rc, TCN_OK);
            tcn_err_category cat = tcn_err_category_of(rc);
            assert_true(cat == TCN_CAT_PROTO || cat == TCN_CAT_AUTH);
            ev[i] ^= (uint8_t)(1u << bit);
        }
    }
    for (size_t n = 0; n < sizeof(ev); n++)
        assert_int_equal(tcn_sim_verify(ev, n, (const uint8_t(*)[32])g_plat.pk, 1, &c, &e), TCN_ERR_TRUNCATED);
    uint8_t longer[TCN_SIM_EVIDENCE_LEN + 1];
    memcpy(longer, ev, sizeof(ev));
    longer[sizeof(ev)] = 0;
    assert_int_equal(tcn_sim_verify(longer, sizeof(longer), (const uint8_t(*)[32])g_plat.pk, 1, &c, &e),
                     TCN_ERR_MALFORMED);
    /* Random garbage of the right length. */
    for (int k = 0; k < 200; k++) {
        randombytes_buf(ev, sizeof(ev));
        if (k % 2)
            memcpy(ev, TCN_SIM_MAGIC, 8);
        assert_int_not_equal(tcn_sim_verify(ev, sizeof(ev), (const uint8_t(*)[32])g_plat.pk, 1, &c, &e), TCN_OK);
    }
}

static void test_parse_errors_are_precise(void **state)
{
    (void)state;
    tcn_sim_report r;
    make_report(&r);
    uint8_t ev[TCN_SIM_EVIDENCE_LEN], pk[32];
    tcn_sim_evidence_create(&g_plat, &r, ev);
    tcn_error e;
    ev[0] ^= 1;
    assert_int_equal(tcn_sim_evidence_parse(ev, sizeof(ev), &r, pk, &e), TCN_ERR_MALFORMED);
    assert_non_null(strstr(e.msg, "magic"));
    ev[0] ^= 1;
    ev[8] = 2;
    assert_int_equal(tcn_sim_evidence_parse(ev, sizeof(ev), &r, pk, &e), TCN_ERR_UNSUPPORTED);
    assert_non_null(strstr(e.msg, "version 2"));
    ev[8] = 1;
    ev[10] = 0x02;
    assert_int_equal(tcn_sim_evidence_parse(ev, sizeof(ev), &r, pk, &e), TCN_ERR_MALFORMED);
    assert_non_null(strstr(e.msg, "flags"));
}

/* A modified binary gets another measurement. */
static void test_measure(void **state)
{
    (void)state;
    char path[] = "/tmp/tcn-test-measure-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    tcn_error e;
    assert_int_equal(tcn_file_write(path, "abc", 3, 0600, &e), TCN_OK);
    uint8_t m1[48], m2[48];
    assert_int_equal(tcn_sim_measure_file(path, m1, &e), TCN_OK);
    /* SHA-384("abc"), FIPS 180-2 appendix D.1. */
    static const uint8_t want[48] = {0xcb, 0x00, 0x75, 0x3f, 0x45, 0xa3, 0x5e, 0x8b, 0xb5, 0xa0, 0x3d, 0x69,
                                     0x9a, 0xc6, 0x50, 0x07, 0x27, 0x2c, 0x32, 0xab, 0x0e, 0xde, 0xd1, 0x63,
                                     0x1a, 0x8b, 0x60, 0x5a, 0x43, 0xff, 0x5b, 0xed, 0x80, 0x86, 0x07, 0x2b,
                                     0xa1, 0xe7, 0xcc, 0x23, 0x58, 0xba, 0xec, 0xa1, 0x34, 0xc8, 0x25, 0xa7};
    assert_memory_equal(m1, want, 48);
    assert_int_equal(tcn_file_write(path, "abd", 3, 0600, &e), TCN_OK);
    assert_int_equal(tcn_sim_measure_file(path, m2, &e), TCN_OK);
    assert_memory_not_equal(m1, m2, 48);
    unlink(path);
    assert_int_equal(tcn_sim_measure_file(path, m2, &e), TCN_ERR_NOT_FOUND);
    assert_int_equal(tcn_sim_measure_self(m2, &e), TCN_OK);
}

static void test_key_file(void **state)
{
    (void)state;
    char path[] = "/tmp/tcn-test-simkey-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    tcn_error e;
    assert_int_equal(tcn_sim_platform_save(&g_plat, path, &e), TCN_OK);
    tcn_sim_platform p;
    assert_int_equal(tcn_sim_platform_load(path, &p, &e), TCN_OK);
    assert_memory_equal(p.pk, g_plat.pk, 32);
    assert_memory_equal(p.sk, g_plat.sk, 64);
    tcn_sim_platform_free(&p);
    assert_null(p.sk);

    const char *bad[] = {
        "not json",
        "{\"type\":\"other\",\"public_key\":\"00\",\"seed\":\"00\"}",
        "{\"type\":\"tcn-sim-platform-key\"}",
        "{\"type\":\"tcn-sim-platform-key\",\"public_key\":\"00\",\"seed\":\"0011\"}",
        "{\"type\":\"tcn-sim-platform-key\",\"public_key\":\"" /* wrong public key for the seed */
        "0000000000000000000000000000000000000000000000000000000000000000\",\"seed\":"
        "\"0101010101010101010101010101010101010101010101010101010101010101\"}",
    };
    const char *why[] = {"line", "type", "required", "seed", "does not belong"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(tcn_file_write(path, bad[i], strlen(bad[i]), 0600, &e), TCN_OK);
        assert_int_equal(tcn_sim_platform_load(path, &p, &e), TCN_ERR_MALFORMED);
        assert_non_null(strstr(e.msg, why[i]));
        assert_null(p.sk);
    }
    unlink(path);
}

int main(void)
{
    tcn_error e;
    if (tcn_crypto_init() != TCN_OK || tcn_sim_platform_generate(&g_plat, &e) != TCN_OK)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip),         cmocka_unit_test(test_untrusted_key),
        cmocka_unit_test(test_bit_flips_and_truncations), cmocka_unit_test(test_parse_errors_are_precise),
        cmocka_unit_test(test_measure),           cmocka_unit_test(test_key_file),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    tcn_sim_platform_free(&g_plat);
    return rc;
}
