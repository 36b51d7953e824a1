/* mutators/bytebuf.h: appending a buffer by handing its storage over. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "bytebuf.h"

static void filled(sh_bytebuf *b, const char *text)
{
    sh_bytebuf_init(b, NULL);
    assert_true(sh_bytebuf_append(b, text, strlen(text)));
}

static void moved_into_empty_takes_the_storage(void **state)
{
    (void)state;
    sh_bytebuf to, from;
    sh_bytebuf_init(&to, NULL);
    filled(&from, "signed file");
    const uint8_t *storage = from.data;
    assert_true(sh_bytebuf_append_moved(&to, &from));
    assert_ptr_equal(to.data, storage);
    assert_int_equal(to.len, 11);
    assert_memory_equal(to.data, "signed file", 11);
    assert_null(from.data);
    assert_int_equal(from.len, 0);
    sh_bytebuf_free(&to);
}

static void moved_after_bytes_is_appended(void **state)
{
    (void)state;
    sh_bytebuf to, from;
    filled(&to, "head:");
    filled(&from, "tail");
    assert_true(sh_bytebuf_append_moved(&to, &from));
    assert_int_equal(to.len, 9);
    assert_memory_equal(to.data, "head:tail", 9);
    assert_int_equal(from.len, 0);
    sh_bytebuf_free(&to);
    sh_bytebuf_free(&from);
}

static void moved_into_fixed_storage_is_copied(void **state)
{
    (void)state;
    uint8_t room[8], small[2];
    sh_bytebuf to, tight, from;
    sh_bytebuf_init_fixed(&to, room, sizeof room);
    filled(&from, "abc");
    assert_true(sh_bytebuf_append_moved(&to, &from));
    assert_ptr_equal(to.data, room);
    assert_memory_equal(room, "abc", 3);
    sh_bytebuf_init_fixed(&tight, small, sizeof small);
    filled(&from, "abc");
    assert_false(sh_bytebuf_append_moved(&tight, &from));
    assert_int_equal(sh_bytebuf_status(&tight), SH_W_TOO_LARGE);
    assert_null(from.data); /* emptied whatever happened */
}

static void a_failed_source_fails_the_destination(void **state)
{
    (void)state;
    uint8_t one[1];
    sh_bytebuf to, from;
    sh_bytebuf_init(&to, NULL);
    sh_bytebuf_init_fixed(&from, one, sizeof one);
    assert_false(sh_bytebuf_append(&from, "xy", 2));
    assert_false(sh_bytebuf_append_moved(&to, &from));
    assert_false(sh_bytebuf_ok(&to));
    assert_int_equal(sh_bytebuf_status(&to), SH_W_TOO_LARGE);
    sh_bytebuf_free(&to);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(moved_into_empty_takes_the_storage),
        cmocka_unit_test(moved_after_bytes_is_appended),
        cmocka_unit_test(moved_into_fixed_storage_is_copied),
        cmocka_unit_test(a_failed_source_fails_the_destination),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
