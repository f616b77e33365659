/* Unit tests: attestation policy loading and checks (each violation names its field). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "attest/policy.h"
#include "testlib.h"
#include "util/file.h"
#include "util/secmem.h"

static tcn_claims sgx_claims(void)
{
    tcn_claims c;
    memset(&c, 0, sizeof(c));
    c.tee = TCN_TEE_SGX;
    c.measurement_len = 32;
    memset(c.measurement, 0x33, 32);
    c.svn = 2;
    c.tcb_status = TCN_TCB_SW_HARDENING_NEEDED;
    c.revocation_checked = true;
    return c;
}

static json_t *parse(const char *text)
{
    json_error_t je;
    json_t *j = json_loads(text, 0, &je);
    assert_non_null(j);
    return j;
}

static void test_default_policy(void **state)
{
    (void)state;
    tcn_policy p;
    tcn_policy_default(&p);
    tcn_claims c = sgx_claims();
    tcn_error e;
    assert_int_equal(tcn_policy_check(&p, &c, 0, &e), TCN_OK);
    c.tcb_status = TCN_TCB_OUT_OF_DATE;
    assert_int_equal(tcn_policy_check(&p, &c, 0, &e), TCN_OK);
    c.tcb_status = TCN_TCB_REVOKED;
    assert_int_equal(tcn_policy_check(&p, &c, 0, &e), TCN_ERR_POLICY);
    assert_non_null(strstr(e.msg, "'tcb_status'"));
    assert_non_null(strstr(e.msg, "actual Revoked"));
    c = sgx_claims();
    c.debug = true;
    assert_int_equal(tcn_policy_check(&p, &c, 0, &e), TCN_ERR_DEBUG);
    assert_non_null(strstr(e.msg, "DEBUG attribute"));
    p.allow_debug = true;
    assert_int_equal(tcn_policy_check(&p, &c, 0, &e), TCN_OK);
    /* sim is never accepted by default. */
    c.tee = TCN_TEE_SIM;
    assert_int_equal(tcn_policy_check(&p, &c, 0, &e), TCN_ERR_POLICY);
    assert_non_null(strstr(e.msg, "field 'tee': expected one of [sgx, tdx, nitro], actual sim"));
}

static void test_measurements(void **state)
{
    (void)state;
    json_t *j = parse("{\"measurements\":[\"self\",\"4444444444444444444444444444444444444444444444444444444444444444\"]}");
    tcn_policy p;
    tcn_error e;
    assert_int_equal(tcn_policy_from_json(j, &p, &e), TCN_OK);
    json_decref(j);
    tcn_claims c = sgx_claims();
    assert_int_equal(tcn_policy_check(&p, &c, 0, &e), TCN_ERR_POLICY);
    assert_non_null(strstr(e.msg, "field 'measurements'"));
    assert_non_null(strstr(e.msg, "3333333333"));
    p.self.len = 32;
    memset(p.self.v, 0x33, 32);
    assert_int_equal(tcn_policy_check(&p, &c, 0, &e), TCN_OK);
    p.self.len = 0;
    memset(c.measurement, 0x44, 32);
    assert_int_equal(tcn_policy_check(&p, &c, 0, &e), TCN_OK);
    /* Same bytes, other length: no match. */
    c.measurement_len = 48;
    assert_int_equal(tcn_policy_check(&p, &c, 0, &e), TCN_ERR_POLICY);
}

static void test_svn_age_status(void **state)
{
    (void)state;
    json_t *j = parse("{\"min_svn\":3,\"tcb_status\":[\"UpToDate\"],\"max_evidence_age_s\":60}");
    tcn_policy p;
    tcn_error e;
    assert_int_equal(tcn_policy_from_json(j, &p, &e), TCN_OK);
    json_decref(j);
    tcn_claims c = sgx_claims();
    assert_int_equal(tcn_policy_check(&p, &c, 0, &e), TCN_ERR_POLICY);
    assert_non_null(strstr(e.msg, "field 'min_svn': expected >= 3, actual 2"));
    c.svn = 3;
    assert_int_equal(tcn_policy_check(&p, &c, 0, &e), TCN_ERR_POLICY);
    assert_non_null(strstr(e.msg, "field 'tcb_status': expected one of [UpToDate], actual SWHardeningNeeded"));
    c.tcb_status = TCN_TCB_UP_TO_DATE;
    assert_int_equal(tcn_policy_check(&p, &c, 0, &e), TCN_OK);
    c.timestamp_ms = 1000000;
    assert_int_equal(tcn_policy_check(&p, &c, 1000000 + 60000, &e), TCN_OK);
    assert_int_equal(tcn_policy_check(&p, &c, 1000000 + 61000, &e), TCN_ERR_POLICY);
    assert_non_null(strstr(e.msg, "field 'max_evidence_age_s': expected <= 60 s, actual 61 s"));
    assert_int_equal(tcn_policy_check(&p, &c, 1000000 - TCN_POLICY_FUTURE_SKEW_MS - 1000, &e), TCN_ERR_POLICY);
    assert_non_null(strstr(e.msg, "future"));
}

static void test_sim_opt_in(void **state)
{
    (void)state;
    tcn_policy p;
    tcn_error e;
    const char *key = "0101010101010101010101010101010101010101010101010101010101010101";
    char text[512];
    /* Naming a key alone does not accept sim; 'tee' must say so too. */
    snprintf(text, sizeof(text), "{\"sim_platform_keys\":[\"%s\"]}", key);
    json_t *j = parse(text);
    assert_int_equal(tcn_policy_from_json(j, &p, &e), TCN_OK);
    json_decref(j);
    tcn_claims c;
    memset(&c, 0, sizeof(c));
    c.tee = TCN_TEE_SIM;
    c.measurement_len = 48;
    memset(c.sim_platform_key, 1, 32);
    assert_int_equal(tcn_policy_check(&p, &c, 0, &e), TCN_ERR_POLICY);
    snprintf(text, sizeof(text), "{\"tee\":[\"sim\"],\"sim_platform_keys\":[\"%s\"]}", key);
    j = parse(text);
    assert_int_equal(tcn_policy_from_json(j, &p, &e), TCN_OK);
    json_decref(j);
    assert_int_equal(tcn_policy_check(&p, &c, 0, &e), TCN_OK);
    memset(c.sim_platform_key, 2, 32);
    assert_int_equal(tcn_policy_check(&p, &c, 0, &e), TCN_ERR_POLICY);
    assert_non_null(strstr(e.msg, "'sim_platform_keys'"));
    j = parse("{\"tee\":[\"sim\"]}");
    assert_int_equal(tcn_policy_from_json(j, &p, &e), TCN_ERR_CONFIG);
    assert_non_null(strstr(e.msg, "names no platform key"));
    json_decref(j);
}

static void test_revocation_and_tdx(void **state)
{
    (void)state;
    tcn_policy p;
    tcn_policy_default(&p);
    tcn_error e;
    tcn_claims c = sgx_claims();
    /* Collateral without CRLs: refused by default, accepted when the policy says so. */
    c.revocation_checked = false;
    assert_int_equal(tcn_policy_check(&p, &c, 0, &e), TCN_ERR_POLICY);
    assert_non_null(strstr(e.msg, "field 'require_revocation'"));
    c.revocation_checked = true;
    assert_int_equal(tcn_policy_check(&p, &c, 0, &e), TCN_OK);
    json_t *j = parse("{\"require_revocation\":false}");
    assert_int_equal(tcn_policy_from_json(j, &p, &e), TCN_OK);
    json_decref(j);
    c.revocation_checked = false;
    assert_int_equal(tcn_policy_check(&p, &c, 0, &e), TCN_OK);

    /* TDX: MRTD on the allow-list is not enough; RTMR0..2 must match too. */
    char text[1024];
    char rtmrs[2 * 144 + 1];
    memset(rtmrs, 'a', 2 * 144);
    rtmrs[2 * 144] = '\0';
    snprintf(text, sizeof(text),
             "{\"measurements\":[\"%096d\"],\"tdx_rtmrs\":[\"%s\"]}", 0, rtmrs);
    j = parse(text);
    assert_int_equal(tcn_policy_from_json(j, &p, &e), TCN_OK);
    json_decref(j);
    memset(&c, 0, sizeof(c));
    c.tee = TCN_TEE_TDX;
    c.measurement_len = 48;
    c.revocation_checked = true;
    c.tcb_status = TCN_TCB_UP_TO_DATE;
    assert_int_equal(tcn_policy_check(&p, &c, 0, &e), TCN_ERR_POLICY);
    assert_non_null(strstr(e.msg, "field 'tdx_rtmrs'"));
    memset(c.rtmr, 0xaa, 3 * 48);
    assert_int_equal(tcn_policy_check(&p, &c, 0, &e), TCN_OK);
    c.rtmr[3][0] = 1; /* RTMR3 is not part of the check */
    assert_int_equal(tcn_policy_check(&p, &c, 0, &e), TCN_OK);
    c.rtmr[1][47] ^= 1;
    assert_int_equal(tcn_policy_check(&p, &c, 0, &e), TCN_ERR_POLICY);
}

static void test_bad_config(void **state)
{
    (void)state;
    struct {
        const char *text, *why;
    } cases[] = {
        {"{\"colour\":1}", "unknown field 'colour'"},
        {"{\"tee\":\"sgx\"}", "field 'tee': expected an array"},
        {"{\"tee\":[\"sgx\",\"sev\"]}", "field 'tee'[1]: 'sev'"},
        {"{\"tee\":[]}", "accepts nothing"},
        {"{\"measurements\":[\"zz\"]}", "field 'measurements'[0]"},
        {"{\"measurements\":[\"0011\"]}", "2 bytes, expected 32"},
        {"{\"measurements\":[1]}", "field 'measurements'[0]: expected a string"},
        {"{\"min_svn\":-1}", "field 'min_svn'"},
        {"{\"min_svn\":70000}", "field 'min_svn'"},
        {"{\"min_svn\":\"3\"}", "field 'min_svn'"},
        {"{\"tcb_status\":[\"Fine\"]}", "field 'tcb_status'[0]: 'Fine'"},
        {"{\"max_evidence_age_s\":1.5}", "field 'max_evidence_age_s'"},
        {"{\"allow_debug\":1}", "field 'allow_debug'"},
        {"{\"sim_platform_keys\":[\"00\"]}", "field 'sim_platform_keys'[0]"},
        {"{\"measurements\":[]}", "field 'measurements': empty"},
        {"{\"require_revocation\":\"yes\"}", "field 'require_revocation'"},
        {"{\"tdx_rtmrs\":[\"00\"]}", "field 'tdx_rtmrs'[0]"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t *j = parse(cases[i].text);
        tcn_policy p;
        tcn_error e;
        tcn_err_clear(&e);
        int rc = tcn_policy_from_json(j, &p, &e);
        json_decref(j);
        if (rc == TCN_OK || strstr(e.msg, cases[i].why) == NULL)
            fail_msg("case %zu (%s): rc %d msg '%s', expected '%s'", i, cases[i].text, rc, e.msg, cases[i].why);
    }
}

static void test_load_file(void **state)
{
    (void)state;
    char path[] = "/tmp/tcn-test-policy-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    tcn_error e;
    tcn_policy p;
    const char *ok = "{\"attestation\":{\"tee\":[\"nitro\"],\"allow_debug\":true},\"node\":{\"name\":\"a\"}}";
    assert_int_equal(tcn_file_write(path, ok, strlen(ok), 0600, &e), TCN_OK);
    assert_int_equal(tcn_policy_load_file(path, &p, &e), TCN_OK);
    assert_true(p.allow_debug);
    assert_int_equal(p.tee_mask, 1u << TCN_TEE_NITRO);
    const char *bad_json = "{\"attestation\": {\n\"tee\": [\"sgx\",]}}";
    assert_int_equal(tcn_file_write(path, bad_json, strlen(bad_json), 0600, &e), TCN_OK);
    assert_int_equal(tcn_policy_load_file(path, &p, &e), TCN_ERR_CONFIG);
    assert_non_null(strstr(e.msg, "line 2"));
    const char *dup = "{\"attestation\":{},\"attestation\":{}}";
    assert_int_equal(tcn_file_write(path, dup, strlen(dup), 0600, &e), TCN_OK);
    assert_int_equal(tcn_policy_load_file(path, &p, &e), TCN_ERR_CONFIG);
    const char *none = "{\"node\":{}}";
    assert_int_equal(tcn_file_write(path, none, strlen(none), 0600, &e), TCN_OK);
    assert_int_equal(tcn_policy_load_file(path, &p, &e), TCN_ERR_CONFIG);
    assert_non_null(strstr(e.msg, "no 'attestation' section"));
    unlink(path);
    assert_int_equal(tcn_policy_load_file(path, &p, &e), TCN_ERR_NOT_FOUND);
}

int main(void)
{
    if (tcn_crypto_init() != TCN_OK)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_policy), cmocka_unit_test(test_measurements),
        cmocka_unit_test(test_svn_age_status), cmocka_unit_test(test_sim_opt_in),
        cmocka_unit_test(test_bad_config),     cmocka_unit_test(test_load_file),
        cmocka_unit_test(test_revocation_and_tdx),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
