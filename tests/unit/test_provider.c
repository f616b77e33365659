/* Unit tests: evidence providers (sim end to end; Gramine's /dev/attestation
 * file protocol against a directory standing in for the device). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "attest/evidence.h"
#include "attest/provider.h"
#include "attest/sim.h"
#include "testlib.h"
#include "util/file.h"
#include "util/secmem.h"
#include "util/timefmt.h"

static char g_dir[] = "/tmp/tcn-test-provider-XXXXXX";

static const char *in_dir(const char *name)
{
    static char p[512];
    snprintf(p, sizeof(p), "%s/%s", g_dir, name);
    return p;
}

static void test_sim_provider_end_to_end(void **state)
{
    (void)state;
    tcn_error e;
    tcn_sim_platform plat;
    assert_int_equal(tcn_sim_platform_generate(&plat, &e), TCN_OK);
    char keyfile[512];
    snprintf(keyfile, sizeof(keyfile), "%s", in_dir("platform.key"));
    assert_int_equal(tcn_sim_platform_save(&plat, keyfile, &e), TCN_OK);
    struct stat st;
    assert_int_equal(stat(keyfile, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);

    tcn_provider *p = NULL;
    assert_int_equal(tcn_provider_sim_new(keyfile, NULL, &p, &e), TCN_OK);
    assert_int_equal(p->tee, TCN_TEE_SIM);
    uint8_t rd[64];
    for (int i = 0; i < 64; i++)
        rd[i] = (uint8_t)i;
    tcn_buf ev = {0};
    assert_int_equal(tcn_provider_evidence(p, rd, &ev, &e), TCN_OK);
    assert_int_equal(ev.len, TCN_SIM_EVIDENCE_LEN);
    assert_int_equal(tcn_evidence_detect(ev.p, ev.len), TCN_TEE_SIM);

    /* The dispatcher + policy accept it only when the policy names the key. */
    tcn_policy pol;
    tcn_policy_default(&pol);
    tcn_verify_opts o = {.at_ms = tcn_time_now_ms(), .policy = &pol};
    tcn_claims c;
    assert_int_equal(tcn_evidence_verify(ev.p, ev.len, &o, &c, &e), TCN_ERR_UNTRUSTED_ROOT);
    assert_int_equal(tcn_policy_add_sim_key(&pol, plat.pk, &e), TCN_OK);
    assert_int_equal(tcn_evidence_verify(ev.p, ev.len, &o, &c, &e), TCN_OK);
    assert_memory_equal(c.report_data, rd, 64);
    uint8_t self[48];
    assert_int_equal(tcn_sim_measure_self(self, &e), TCN_OK);
    assert_memory_equal(c.measurement, self, 48);
    /* Measurement 'self' of another binary is refused, naming the field. */
    pol.measurement_any = false;
    pol.measurement_self = true;
    pol.self.len = 48;
    memset(pol.self.v, 0xee, 48);
    assert_int_equal(tcn_evidence_verify(ev.p, ev.len, &o, &c, &e), TCN_ERR_POLICY);
    assert_non_null(strstr(e.msg, "'measurements'"));
    memcpy(pol.self.v, self, 48);
    assert_int_equal(tcn_evidence_verify(ev.p, ev.len, &o, &c, &e), TCN_OK);
    /* Evidence too old for the policy. */
    pol.max_age_ms = 1000;
    o.at_ms += 5000;
    assert_int_equal(tcn_evidence_verify(ev.p, ev.len, &o, &c, &e), TCN_ERR_POLICY);
    assert_non_null(strstr(e.msg, "max_evidence_age_s"));

    tcn_buf_free(&ev);
    tcn_provider_free(p);
    tcn_sim_platform_free(&plat);
    unlink(keyfile);
    assert_int_equal(tcn_provider_sim_new(keyfile, NULL, &p, &e), TCN_ERR_NOT_FOUND);
    assert_non_null(strstr(e.msg, "sim provider"));
}

static void test_gramine_file_protocol(void **state)
{
    (void)state;
    tcn_error e;
    tcn_provider *p = NULL;
    /* Not under Gramine: a clear error. */
    assert_int_equal(tcn_provider_gramine_new(g_dir, &p, &e), TCN_ERR_NOT_FOUND);
    assert_non_null(strstr(e.msg, "not running under Gramine"));
    assert_int_equal(tcn_file_write(in_dir("attestation_type"), "epid\n", 5, 0600, &e), TCN_OK);
    assert_int_equal(tcn_provider_gramine_new(g_dir, &p, &e), TCN_ERR_UNSUPPORTED);
    assert_non_null(strstr(e.msg, "'epid'"));
    assert_int_equal(tcn_file_write(in_dir("attestation_type"), "dcap", 4, 0600, &e), TCN_OK);
    assert_int_equal(tcn_provider_gramine_new(g_dir, &p, &e), TCN_OK);
    assert_int_equal(p->tee, TCN_TEE_SGX);

    /* The device files: user_report_data receives exactly our 64 bytes, and
     * the quote file is returned as is. */
    assert_int_equal(tcn_file_write(in_dir("user_report_data"), "", 0, 0600, &e), TCN_OK);
    uint8_t fake_quote[600];
    for (size_t i = 0; i < sizeof(fake_quote); i++)
        fake_quote[i] = (uint8_t)(i * 7);
    assert_int_equal(tcn_file_write(in_dir("quote"), fake_quote, sizeof(fake_quote), 0600, &e), TCN_OK);
    uint8_t rd[64];
    memset(rd, 0x5a, sizeof(rd));
    tcn_buf ev = {0};
    assert_int_equal(tcn_provider_evidence(p, rd, &ev, &e), TCN_OK);
    assert_int_equal(ev.len, sizeof(fake_quote));
    assert_memory_equal(ev.p, fake_quote, sizeof(fake_quote));
    uint8_t *written = NULL;
    size_t n = 0;
    assert_int_equal(tcn_file_read(in_dir("user_report_data"), 1024, &written, &n, &e), TCN_OK);
    assert_int_equal(n, 64);
    assert_memory_equal(written, rd, 64);
    free(written);
    tcn_buf_free(&ev);

    /* A short quote is an error, not evidence. */
    assert_int_equal(tcn_file_write(in_dir("quote"), "xx", 2, 0600, &e), TCN_OK);
    assert_int_equal(tcn_provider_evidence(p, rd, &ev, &e), TCN_ERR_TRUNCATED);
    tcn_buf_free(&ev);
    unlink(in_dir("quote"));
    assert_int_equal(tcn_provider_evidence(p, rd, &ev, &e), TCN_ERR_NOT_FOUND);
    tcn_buf_free(&ev);
    tcn_provider_free(p);
    unlink(in_dir("user_report_data"));
    unlink(in_dir("attestation_type"));
}

int main(void)
{
    if (tcn_crypto_init() != TCN_OK || mkdtemp(g_dir) == NULL)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sim_provider_end_to_end),
        cmocka_unit_test(test_gramine_file_protocol),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    rmdir(g_dir);
    return rc;
}
