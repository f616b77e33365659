/* Unit tests: the bounds-checked cursor and the byte buffer. */
#include <string.h>

#include "testlib.h"
#include "util/buf.h"
#include "util/cursor.h"

static void test_typed_reads(void **state)
{
    (void)state;
    const uint8_t b[] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
                         0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e};
    tcn_cursor c;
    tcn_cur_init(&c, b, sizeof(b));
    uint8_t u8;
    uint16_t u16;
    uint32_t u32;
    uint64_t u64;
    assert_int_equal(tcn_cur_u8(&c, &u8), TCN_OK);
    assert_int_equal(u8, 0x01);
    assert_int_equal(tcn_cur_u16le(&c, &u16), TCN_OK);
    assert_int_equal(u16, 0x0302);
    assert_int_equal(tcn_cur_u16be(&c, &u16), TCN_OK);
    assert_int_equal(u16, 0x0405);
    assert_int_equal(tcn_cur_u32le(&c, &u32), TCN_OK);
    assert_int_equal(u32, 0x09080706);
    assert_int_equal(tcn_cur_u32be(&c, &u32), TCN_OK);
    assert_int_equal(u32, 0x0a0b0c0d);
    assert_int_equal(tcn_cur_u64le(&c, &u64), TCN_OK);
    assert_true(u64 == 0x1514131211100f0eULL);
    assert_int_equal(tcn_cur_u64be(&c, &u64), TCN_OK);
    assert_true(u64 == 0x161718191a1b1c1dULL);
    assert_int_equal(tcn_cur_remaining(&c), 1);
}

/* A failed read of any width leaves the cursor where it was. */
static void test_failed_read_leaves_cursor(void **state)
{
    (void)state;
    const uint8_t b[7] = {1, 2, 3, 4, 5, 6, 7};
    for (size_t start = 0; start <= sizeof(b); start++) {
        tcn_cursor c;
        tcn_cur_init(&c, b, sizeof(b));
        assert_int_equal(tcn_cur_skip(&c, start), TCN_OK);
        size_t left = tcn_cur_remaining(&c);
        uint16_t u16;
        uint32_t u32;
        uint64_t u64;
        const uint8_t *v;
        uint8_t dst[16];
        tcn_cursor sub;
        if (left < 2) {
            assert_int_equal(tcn_cur_u16le(&c, &u16), TCN_ERR_TRUNCATED);
            assert_int_equal(tcn_cur_u16be(&c, &u16), TCN_ERR_TRUNCATED);
        }
        if (left < 4) {
            assert_int_equal(tcn_cur_u32le(&c, &u32), TCN_ERR_TRUNCATED);
            assert_int_equal(tcn_cur_u32be(&c, &u32), TCN_ERR_TRUNCATED);
        }
        assert_int_equal(tcn_cur_u64le(&c, &u64), TCN_ERR_TRUNCATED);
        assert_int_equal(tcn_cur_u64be(&c, &u64), TCN_ERR_TRUNCATED);
        assert_int_equal(tcn_cur_view(&c, left + 1, &v), TCN_ERR_TRUNCATED);
        assert_int_equal(tcn_cur_copy(&c, dst, left + 1), TCN_ERR_TRUNCATED);
        assert_int_equal(tcn_cur_skip(&c, left + 1), TCN_ERR_TRUNCATED);
        assert_int_equal(tcn_cur_sub(&c, left + 1, &sub), TCN_ERR_TRUNCATED);
        assert_int_equal(tcn_cur_skip(&c, SIZE_MAX), TCN_ERR_TRUNCATED);
        assert_int_equal(tcn_cur_remaining(&c), left);
        assert_ptr_equal(tcn_cur_ptr(&c), b + start);
    }
}

static void test_sub_and_view(void **state)
{
    (void)state;
    const uint8_t b[] = {9, 8, 7, 6, 5};
    tcn_cursor c, sub;
    tcn_cur_init(&c, b, sizeof(b));
    assert_int_equal(tcn_cur_sub(&c, 3, &sub), TCN_OK);
    assert_int_equal(tcn_cur_remaining(&sub), 3);
    assert_int_equal(tcn_cur_remaining(&c), 2);
    const uint8_t *v;
    assert_int_equal(tcn_cur_view(&sub, 3, &v), TCN_OK);
    assert_memory_equal(v, b, 3);
    uint8_t u8;
    assert_int_equal(tcn_cur_u8(&sub, &u8), TCN_ERR_TRUNCATED);
    assert_int_equal(tcn_cur_u8(&c, &u8), TCN_OK);
    assert_int_equal(u8, 6);
    /* An empty cursor over NULL is valid. */
    tcn_cur_init(&c, NULL, 0);
    assert_int_equal(tcn_cur_u8(&c, &u8), TCN_ERR_TRUNCATED);
    assert_int_equal(tcn_cur_view(&c, 0, &v), TCN_OK);
}

static void test_buf_roundtrip(void **state)
{
    (void)state;
    tcn_buf b = {0};
    assert_int_equal(tcn_buf_u8(&b, 0xaa), TCN_OK);
    assert_int_equal(tcn_buf_u16le(&b, 0x1234), TCN_OK);
    assert_int_equal(tcn_buf_u16be(&b, 0x1234), TCN_OK);
    assert_int_equal(tcn_buf_u32le(&b, 0xdeadbeef), TCN_OK);
    assert_int_equal(tcn_buf_u32be(&b, 0xdeadbeef), TCN_OK);
    assert_int_equal(tcn_buf_u64le(&b, 0x0102030405060708ULL), TCN_OK);
    assert_int_equal(tcn_buf_u64be(&b, 0x0102030405060708ULL), TCN_OK);
    for (int i = 0; i < 1000; i++)
        assert_int_equal(tcn_buf_u8(&b, (uint8_t)i), TCN_OK);
    tcn_cursor c;
    tcn_cur_init(&c, b.p, b.len);
    uint8_t u8;
    uint16_t u16;
    uint32_t u32;
    uint64_t u64;
    assert_int_equal(tcn_cur_u8(&c, &u8), TCN_OK);
    assert_int_equal(u8, 0xaa);
    assert_int_equal(tcn_cur_u16le(&c, &u16), TCN_OK);
    assert_int_equal(u16, 0x1234);
    assert_int_equal(tcn_cur_u16be(&c, &u16), TCN_OK);
    assert_int_equal(u16, 0x1234);
    assert_int_equal(tcn_cur_u32le(&c, &u32), TCN_OK);
    assert_int_equal(u32, 0xdeadbeef);
    assert_int_equal(tcn_cur_u32be(&c, &u32), TCN_OK);
    assert_int_equal(u32, 0xdeadbeef);
    assert_int_equal(tcn_cur_u64le(&c, &u64), TCN_OK);
    assert_true(u64 == 0x0102030405060708ULL);
    assert_int_equal(tcn_cur_u64be(&c, &u64), TCN_OK);
    assert_true(u64 == 0x0102030405060708ULL);
    assert_int_equal(tcn_cur_remaining(&c), 1000);
    assert_int_equal(tcn_buf_reserve(&b, SIZE_MAX), TCN_ERR_TOO_LARGE);
    tcn_buf_free_wipe(&b);
    assert_null(b.p);
    assert_int_equal(b.len, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_typed_reads),
        cmocka_unit_test(test_failed_read_leaves_cursor),
        cmocka_unit_test(test_sub_and_view),
        cmocka_unit_test(test_buf_roundtrip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
