/* Unit tests: errors, logging, hex/base64, secure memory, time, files. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testlib.h"
#include "util/encoding.h"
#include "util/err.h"
#include "util/file.h"
#include "util/hash.h"
#include "util/log.h"
#include "util/secmem.h"
#include "util/timefmt.h"

static void test_err_table_and_wrap(void **state)
{
    (void)state;
    for (int c = 0; c < TCN_ERR_COUNT_; c++) {
        assert_non_null(tcn_err_name(c));
        assert_true(strncmp(tcn_err_name(c), "TCN_", 4) == 0);
        assert_true(strlen(tcn_err_message(c)) > 0);
    }
    assert_int_equal(tcn_err_category_of(TCN_ERR_EXPIRED), TCN_CAT_AUTH);
    assert_int_equal(tcn_err_category_of(TCN_ERR_TRUNCATED), TCN_CAT_PROTO);
    assert_int_equal(tcn_err_category_of(TCN_ERR_POLICY), TCN_CAT_POLICY);
    assert_int_equal(tcn_err_category_of(TCN_ERR_DEBUG), TCN_CAT_POLICY);
    assert_int_equal(tcn_err_category_of(9999), TCN_CAT_INTERNAL);
    assert_string_equal(tcn_err_category_name(TCN_CAT_AUTH), "auth");

    tcn_error e;
    tcn_err_clear(&e);
    assert_int_equal(tcn_err_set(&e, TCN_ERR_EXPIRED, "CRL expired at %s", "2023-05-21"), TCN_ERR_EXPIRED);
    assert_int_equal(tcn_err_wrap(&e, "PCK chain"), TCN_ERR_EXPIRED);
    assert_int_equal(tcn_err_wrap(&e, "sgx %d", 3), TCN_ERR_EXPIRED);
    assert_string_equal(e.msg, "sgx 3: PCK chain: CRL expired at 2023-05-21");
    /* Default message from the table. */
    tcn_err_set(&e, TCN_ERR_NO_TCB_MATCH, NULL);
    assert_string_equal(e.msg, "no matching TCB level");
    /* A very long context is truncated, never overflows. */
    char big[2000];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    tcn_err_set(&e, TCN_ERR_MALFORMED, "%s", big);
    tcn_err_wrap(&e, "%s", big);
    assert_int_equal(strlen(e.msg), TCN_ERR_MSG_MAX - 1);
}

static int guard_helper(int code, int *reached)
{
    TCN_GUARD(code);
    *reached = 1;
    return TCN_OK;
}

static void test_guard_ensure(void **state)
{
    (void)state;
    int reached = 0;
    assert_int_equal(guard_helper(TCN_ERR_IO, &reached), TCN_ERR_IO);
    assert_int_equal(reached, 0);
    assert_int_equal(guard_helper(TCN_OK, &reached), TCN_OK);
    assert_int_equal(reached, 1);
}

static void test_logfmt(void **state)
{
    (void)state;
    char line[512];
    const char *kv[] = {"peer", "node-1", "reason", "bad \"quote\" = x\n", "empty", ""};
    tcn_log_format(line, sizeof(line), 1751328000123LL, TCN_LOG_WARN, "peer refused", kv, 6);
    assert_string_equal(line, "ts=2025-07-01T00:00:00.123Z level=warn msg=\"peer refused\" peer=node-1 "
                              "reason=\"bad \\\"quote\\\" = x\\n\" empty=\"\"");
    /* Truncation keeps the line NUL-terminated within the buffer. */
    char small[20];
    tcn_log_format(small, sizeof(small), 0, TCN_LOG_INFO, "a long message here", kv, 6);
    assert_int_equal(strlen(small), sizeof(small) - 1);
    assert_int_equal(tcn_log_level_parse("debug"), TCN_LOG_DEBUG);
    assert_int_equal(tcn_log_level_parse("error"), TCN_LOG_ERROR);
    assert_int_equal(tcn_log_level_parse("loud"), -1);

    /* Levels filter: below the threshold nothing is written. */
    FILE *f = tmpfile();
    assert_non_null(f);
    tcn_log_set_stream(f);
    tcn_log_set_level(TCN_LOG_WARN);
    tcn_log(TCN_LOG_INFO, "hidden", "k", "v", NULL);
    tcn_log(TCN_LOG_ERROR, "shown", "k", "v w", NULL);
    tcn_log_set_stream(NULL);
    tcn_log_set_level(TCN_LOG_INFO);
    rewind(f);
    char got[512] = {0};
    size_t n = fread(got, 1, sizeof(got) - 1, f);
    fclose(f);
    assert_true(n > 0);
    assert_null(strstr(got, "hidden"));
    assert_non_null(strstr(got, "level=error msg=shown k=\"v w\"\n"));
}

static void test_hex(void **state)
{
    (void)state;
    const uint8_t b[] = {0x00, 0x01, 0xab, 0xff};
    char hex[9];
    tcn_hex_encode(b, 4, hex);
    assert_string_equal(hex, "0001abff");
    uint8_t out[4];
    size_t n = 0;
    tcn_error e;
    assert_int_equal(tcn_hex_decode("0001ABff", out, sizeof(out), &n, &e), TCN_OK);
    assert_int_equal(n, 4);
    assert_memory_equal(out, b, 4);
    assert_int_equal(tcn_hex_decode("abc", out, sizeof(out), &n, &e), TCN_ERR_MALFORMED);
    assert_non_null(strstr(e.msg, "odd"));
    assert_int_equal(tcn_hex_decode("zz", out, sizeof(out), &n, &e), TCN_ERR_MALFORMED);
    assert_non_null(strstr(e.msg, "offset 0"));
    assert_int_equal(tcn_hex_decode("0011 2233", out, sizeof(out), &n, &e), TCN_ERR_MALFORMED);
    assert_int_equal(tcn_hex_decode("0011223344", out, sizeof(out), &n, &e), TCN_ERR_TOO_LARGE);
    assert_int_equal(tcn_hex_decode_exact("0011", out, 4, &e), TCN_ERR_MALFORMED);
    assert_int_equal(tcn_hex_decode_exact("00112233", out, 4, &e), TCN_OK);
    assert_int_equal(tcn_hex_decode("", out, sizeof(out), &n, &e), TCN_OK);
    assert_int_equal(n, 0);
    char *d = tcn_hex_dup(b, 4);
    assert_string_equal(d, "0001abff");
    free(d);
}

static void test_base64(void **state)
{
    (void)state;
    /* RFC 4648 §10 test vectors. */
    const char *plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    const char *enc[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
    for (int i = 0; i < 7; i++) {
        char out[32];
        tcn_b64_encode((const uint8_t *)plain[i], strlen(plain[i]), out, sizeof(out));
        assert_string_equal(out, enc[i]);
        uint8_t dec[32];
        size_t n = 99;
        tcn_error e;
        assert_int_equal(tcn_b64_decode(enc[i], strlen(enc[i]), dec, sizeof(dec), &n, &e), TCN_OK);
        assert_int_equal(n, strlen(plain[i]));
        assert_memory_equal(dec, plain[i], n);
    }
    uint8_t dec[4];
    size_t n;
    tcn_error e;
    assert_int_equal(tcn_b64_decode("Zm9v!", 5, dec, sizeof(dec), &n, &e), TCN_ERR_MALFORMED);
    assert_int_equal(tcn_b64_decode("Zg", 2, dec, sizeof(dec), &n, &e), TCN_ERR_MALFORMED);
    assert_int_equal(tcn_b64_decode("Zm9vYmFyZm9vYmFy", 16, dec, sizeof(dec), &n, &e), TCN_ERR_TOO_LARGE);
}

static void test_secmem(void **state)
{
    (void)state;
    uint8_t *k = tcn_secure_alloc(64);
    assert_non_null(k);
    tcn_random_bytes(k, 64);
    uint8_t copy[64];
    memcpy(copy, k, 64);
    assert_true(tcn_ct_equal(k, copy, 64));
    copy[63] ^= 1;
    assert_false(tcn_ct_equal(k, copy, 64));
    tcn_wipe(copy, sizeof(copy));
    uint8_t zero[64] = {0};
    assert_memory_equal(copy, zero, 64);
    tcn_secure_free(k);
    tcn_secure_free(NULL);
}

static void test_time(void **state)
{
    (void)state;
    int64_t ms;
    tcn_error e;
    assert_int_equal(tcn_time_parse_rfc3339("1970-01-01T00:00:00Z", &ms, &e), TCN_OK);
    assert_true(ms == 0);
    assert_int_equal(tcn_time_parse_rfc3339("2025-07-01T00:00:00Z", &ms, &e), TCN_OK);
    assert_true(ms == 1751328000000LL);
    assert_int_equal(tcn_time_parse_rfc3339("2024-09-07T14:37:39.545Z", &ms, &e), TCN_OK);
    assert_true(ms == 1725719859545LL);
    assert_int_equal(tcn_time_parse_rfc3339("2024-09-07T16:37:39.545+02:00", &ms, &e), TCN_OK);
    assert_true(ms == 1725719859545LL);
    assert_int_equal(tcn_time_parse_rfc3339("2024-02-29T00:00:00Z", &ms, &e), TCN_OK);
    assert_int_equal(tcn_time_parse_rfc3339("2023-02-29T00:00:00Z", &ms, &e), TCN_ERR_MALFORMED);
    assert_int_equal(tcn_time_parse_rfc3339("2025-13-01T00:00:00Z", &ms, &e), TCN_ERR_MALFORMED);
    assert_int_equal(tcn_time_parse_rfc3339("2025-07-01 00:00:00Z", &ms, &e), TCN_ERR_MALFORMED);
    assert_int_equal(tcn_time_parse_rfc3339("2025-07-01T00:00:00", &ms, &e), TCN_ERR_MALFORMED);
    assert_non_null(strstr(e.msg, "zone"));
    assert_int_equal(tcn_time_parse_rfc3339("2025-07-01T00:00:00Zjunk", &ms, &e), TCN_ERR_MALFORMED);
    assert_int_equal(tcn_time_parse_rfc3339("", &ms, &e), TCN_ERR_MALFORMED);
    char out[40];
    tcn_time_format_rfc3339(1751328000999LL, out, sizeof(out));
    assert_string_equal(out, "2025-07-01T00:00:00Z");
    tcn_time_format_rfc3339_ms(1725719859545LL, out, sizeof(out));
    assert_string_equal(out, "2024-09-07T14:37:39.545Z");
    /* Round trip across many dates, including leap days and far years. */
    for (int64_t t = -86400000LL * 365 * 10; t < 86400000LL * 365 * 200; t += 86400000LL * 37 + 12345) {
        tcn_time_format_rfc3339_ms(t, out, sizeof(out));
        assert_int_equal(tcn_time_parse_rfc3339(out, &ms, &e), TCN_OK);
        assert_true(ms == t);
    }
    assert_true(tcn_time_now_ms() > 1700000000000LL);
}

static void test_file(void **state)
{
    (void)state;
    char path[] = "/tmp/tcn-test-file-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    tcn_error e;
    assert_int_equal(tcn_file_write(path, "hello", 5, 0600, &e), TCN_OK);
    uint8_t *p = NULL;
    size_t n = 0;
    assert_int_equal(tcn_file_read(path, 100, &p, &n, &e), TCN_OK);
    assert_int_equal(n, 5);
    assert_string_equal((char *)p, "hello"); /* NUL-terminated */
    free(p);
    assert_int_equal(tcn_file_read(path, 4, &p, &n, &e), TCN_ERR_TOO_LARGE);
    assert_non_null(strstr(e.msg, "limit"));
    unlink(path);
    assert_int_equal(tcn_file_read(path, 100, &p, &n, &e), TCN_ERR_NOT_FOUND);
    assert_int_equal(tcn_file_read("/tmp", 100, &p, &n, &e), TCN_ERR_IO);
    /* Pseudo-files report st_size 0 (as Gramine's /dev/attestation files do):
     * read to end of file anyway, and still enforce the limit. */
    assert_int_equal(tcn_file_read("/proc/self/status", 1 << 20, &p, &n, &e), TCN_OK);
    assert_true(n > 100);
    assert_non_null(strstr((char *)p, "Name:"));
    free(p);
    assert_int_equal(tcn_file_read("/proc/self/status", 50, &p, &n, &e), TCN_ERR_TOO_LARGE);
}

/* FIPS 180-2 appendix B.1 / C.1 ("abc"), and incremental == one-shot. */
static void test_hash(void **state)
{
    (void)state;
    static const uint8_t sha256_abc[32] = {0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40,
                                           0xde, 0x5d, 0xae, 0x22, 0x23, 0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17,
                                           0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad};
    uint8_t out[64];
    tcn_sha256("abc", 3, out);
    assert_memory_equal(out, sha256_abc, 32);
    tcn_sha256_ctx c;
    tcn_sha256_init(&c);
    tcn_sha256_update(&c, "a", 1);
    tcn_sha256_update(&c, "bc", 2);
    tcn_sha256_final(&c, out);
    assert_memory_equal(out, sha256_abc, 32);
    tcn_sha512("abc", 3, out);
    assert_int_equal(out[0], 0xdd);
    assert_int_equal(out[1], 0xaf);
    assert_int_equal(out[63], 0x9f);
}

int main(void)
{
    if (tcn_crypto_init() != TCN_OK)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_err_table_and_wrap), cmocka_unit_test(test_guard_ensure), cmocka_unit_test(test_logfmt),
        cmocka_unit_test(test_hex),   cmocka_unit_test(test_base64),    cmocka_unit_test(test_secmem),
        cmocka_unit_test(test_time),  cmocka_unit_test(test_file), cmocka_unit_test(test_hash),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
