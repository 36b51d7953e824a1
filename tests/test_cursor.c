#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "cursor.h"

static const uint8_t bytes[] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 'a', 'b', 0, 'c'};

static void reads_both_byte_orders(void **state)
{
    (void)state;
    sh_cursor c = sh_cursor_make(bytes, 8);
    uint32_t v32;
    assert_true(sh_cursor_u32be(&c, &v32));
    assert_int_equal(v32, 0x01020304);
    assert_true(sh_cursor_u32le(&c, &v32));
    assert_int_equal(v32, 0x08070605);
    assert_int_equal(sh_cursor_len(&c), 0);
    assert_int_equal(sh_cursor_pos(&c), 8);

    c = sh_cursor_make(bytes, 8);
    uint64_t v64;
    assert_true(sh_cursor_u64be(&c, &v64));
    assert_true(v64 == 0x0102030405060708ull);
    c = sh_cursor_make(bytes, 8);
    assert_true(sh_cursor_u64le(&c, &v64));
    assert_true(v64 == 0x0807060504030201ull);
    c = sh_cursor_make(bytes, 2);
    uint16_t v16;
    assert_true(sh_cursor_u16le(&c, &v16));
    assert_int_equal(v16, 0x0201);
}

static void short_reads_fail_and_do_not_move(void **state)
{
    (void)state;
    sh_cursor c = sh_cursor_make(bytes, 3);
    uint32_t v;
    assert_false(sh_cursor_u32be(&c, &v));
    assert_int_equal(sh_cursor_len(&c), 3);
    assert_int_equal(sh_cursor_pos(&c), 0);
    assert_false(sh_cursor_skip(&c, 4));
    assert_true(sh_cursor_skip(&c, 3));
    uint8_t b;
    assert_false(sh_cursor_u8(&c, &b));
    sh_cursor empty = sh_cursor_make(NULL, 100);
    assert_int_equal(sh_cursor_len(&empty), 0);
}

static void one_byte_reads_track_offset_and_zero_views(void **state)
{
    (void)state;
    static const uint8_t padded[] = {7, 0, 0, 0, 0, 9};
    sh_cursor c = sh_cursor_make(padded, sizeof padded);
    uint8_t b;
    assert_true(sh_cursor_u8(&c, &b));
    assert_int_equal(b, 7);
    assert_int_equal(sh_cursor_pos(&c), 1);
    assert_int_equal(sh_cursor_len(&c), 5);
    sh_cursor zeros, all;
    assert_true(sh_cursor_sub(&c, 0, 4, &zeros));
    assert_true(sh_cursor_all_zero(&zeros));
    assert_true(sh_cursor_sub(&c, 0, 5, &all));
    assert_false(sh_cursor_all_zero(&all)); /* the 9 at the end */
    sh_cursor none = sh_cursor_make(NULL, 0);
    assert_true(sh_cursor_all_zero(&none));
    assert_true(sh_cursor_all_zero(&c) == false);
}

static void sub_views_check_overflow_and_track_offset(void **state)
{
    (void)state;
    sh_cursor c = sh_cursor_make(bytes, sizeof bytes);
    sh_cursor s;
    assert_true(sh_cursor_sub(&c, 4, 4, &s));
    assert_int_equal(sh_cursor_pos(&s), 4);
    sh_cursor t;
    assert_true(sh_cursor_sub(&s, 2, 2, &t));
    assert_int_equal(sh_cursor_pos(&t), 6);
    assert_false(sh_cursor_sub(&c, 8, 5, &s));
    assert_false(sh_cursor_sub(&c, UINT64_MAX, 2, &s));
    assert_false(sh_cursor_sub(&c, 2, UINT64_MAX, &s));
    assert_true(sh_cursor_sub(&c, sizeof bytes, 0, &s));
    assert_true(sh_cursor_tail(&c, 10, &s));
    assert_int_equal(sh_cursor_len(&s), 2);
    assert_false(sh_cursor_tail(&c, 13, &s));
    uint32_t v;
    assert_true(sh_cursor_u32be_at(&c, 4, &v));
    assert_int_equal(v, 0x05060708);
    assert_false(sh_cursor_u32be_at(&c, 9, &v));
}

static void strings_need_a_nul_inside_the_window(void **state)
{
    (void)state;
    sh_cursor c = sh_cursor_make(bytes, sizeof bytes);
    const char *s;
    size_t n;
    assert_true(sh_cursor_cstr_at(&c, 8, 16, &s, &n));
    assert_int_equal(n, 2);
    assert_string_equal(s, "ab");
    assert_false(sh_cursor_cstr_at(&c, 8, 1, &s, &n)); /* NUL beyond max_len */
    assert_false(sh_cursor_cstr_at(&c, 11, 16, &s, &n)); /* no NUL before the end */
    assert_false(sh_cursor_cstr_at(&c, 12, 16, &s, &n)); /* empty window */
    assert_true(sh_cursor_cstr_at(&c, 10, 0, &s, &n));
    assert_int_equal(n, 0);

    char name[17];
    const uint8_t seg[16] = {'_', '_', 'T', 'E', 'X', 'T'};
    sh_cursor f = sh_cursor_make(seg, sizeof seg);
    assert_true(sh_cursor_fixed_name(&f, 16, name, sizeof name));
    assert_string_equal(name, "__TEXT");
    const uint8_t full[16] = "0123456789abcdef";
    f = sh_cursor_make(full, sizeof full);
    assert_true(sh_cursor_fixed_name(&f, 16, name, sizeof name));
    assert_string_equal(name, "0123456789abcdef");
    f = sh_cursor_make(full, 15);
    assert_false(sh_cursor_fixed_name(&f, 16, name, sizeof name));
}

static void checked_arithmetic(void **state)
{
    (void)state;
    uint64_t r;
    assert_false(sh_add_u64(UINT64_MAX, 1, &r));
    assert_true(sh_add_u64(1, 2, &r));
    assert_int_equal(r, 3);
    assert_false(sh_mul_u64(UINT64_MAX / 2 + 1, 2, &r));
    assert_true(sh_range_within(0, 10, 10));
    assert_false(sh_range_within(1, 10, 10));
    assert_false(sh_range_within(UINT64_MAX, 1, UINT64_MAX));
}

static void take_and_copy(void **state)
{
    (void)state;
    sh_cursor c = sh_cursor_make(bytes, sizeof bytes);
    sh_cursor part;
    assert_true(sh_cursor_take(&c, 4, &part));
    assert_int_equal(sh_cursor_len(&part), 4);
    assert_int_equal(sh_cursor_pos(&c), 4);
    uint8_t out[4];
    assert_true(sh_cursor_copy(&c, out, 4));
    assert_int_equal(out[0], 5);
    assert_false(sh_cursor_copy(&c, out, 5));
    assert_false(sh_cursor_take(&c, 5, &part));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(reads_both_byte_orders),
        cmocka_unit_test(short_reads_fail_and_do_not_move),
        cmocka_unit_test(one_byte_reads_track_offset_and_zero_views),
        cmocka_unit_test(sub_views_check_overflow_and_track_offset),
        cmocka_unit_test(strings_need_a_nul_inside_the_window),
        cmocka_unit_test(checked_arithmetic),
        cmocka_unit_test(take_and_copy),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
