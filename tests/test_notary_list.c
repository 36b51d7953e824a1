/* The notarised-cdhash list parser (harness/notary_list.c): accepted shapes, exact errors with
 * line and column, limits, duplicates, and allocation failures. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "failing_alloc.h"
#include "notary_list.h"

#define H1 "00112233445566778899aabbccddeeff00112233"
#define H2 "ffeeddccbbaa99887766554433221100ffeeddcc"

static sh_err parse(const char *text, sh_notary_list *l, sh_error *err)
{
    return sh_notary_list_parse((const uint8_t *)text, strlen(text), NULL, l, err);
}

static void test_accepts_comments_blanks_crlf(void **state)
{
    (void)state;
    sh_notary_list l;
    sh_error err = {0};
    assert_int_equal(parse("# notarised\n\n  " H2 "  # the extension\r\n" H1 "\n" H1, &l, &err),
                     SH_E_OK);
    assert_int_equal(l.count, 2); /* the duplicate is kept once */
    uint8_t h1[20] = {0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99,
                      0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0x00, 0x11, 0x22, 0x33};
    assert_true(sh_notary_list_contains(&l, h1));
    h1[19] ^= 1;
    assert_false(sh_notary_list_contains(&l, h1));
    sh_notary_list_free(&l);
}

static void test_empty_list(void **state)
{
    (void)state;
    sh_notary_list l;
    sh_error err = {0};
    assert_int_equal(parse("", &l, &err), SH_E_OK);
    assert_int_equal(l.count, 0);
    uint8_t h[20] = {0};
    assert_false(sh_notary_list_contains(&l, h));
    sh_notary_list_free(&l);
}

static void expect_error(const char *text, sh_err code, int64_t line, uint64_t column)
{
    sh_notary_list l;
    sh_error err = {0};
    assert_int_equal(parse(text, &l, &err), code);
    assert_int_equal(err.index, line);
    assert_int_equal(err.value, column);
    assert_null(l.cdhashes);
    sh_notary_list_free(&l);
}

static void test_errors_name_line_and_column(void **state)
{
    (void)state;
    /* upper case, at column 3 of line 2 */
    expect_error("# x\n00A12233445566778899aabbccddeeff00112233\n", SH_E_NOTARY_LIST_BAD_CDHASH, 2, 3);
    /* 39 digits: the column after the line's end */
    expect_error("0011223344556677889900112233445566778899\n" "00112233445566778899aabbccddeeff0011223\n",
                 SH_E_NOTARY_LIST_BAD_CDHASH, 2, 40);
    /* 41 digits: the 41st is refused, not read as a comment */
    expect_error(H1 "4", SH_E_NOTARY_LIST_BAD_CDHASH, 1, 41);
    /* text after the hash that is not a comment */
    expect_error(H1 " extra", SH_E_NOTARY_LIST_BAD_CDHASH, 1, 42);
    /* a comment glued to the hash is refused too (it could be a typo) */
    expect_error(H1 "#c", SH_E_NOTARY_LIST_BAD_CDHASH, 1, 41);
}

static void test_nul_and_long_lines(void **state)
{
    (void)state;
    sh_notary_list l;
    sh_error err = {0};
    const uint8_t nul[] = {'#', ' ', 0, '\n'};
    assert_int_equal(sh_notary_list_parse(nul, sizeof nul, NULL, &l, &err), SH_E_NOTARY_LIST_NUL);
    assert_int_equal(err.index, 1);
    sh_notary_list_free(&l);
    size_t n = SH_MAX_NOTARY_LINE + 1;
    char *long_line = malloc(n + 1);
    assert_non_null(long_line);
    memset(long_line, '#', n);
    long_line[n] = '\0';
    assert_int_equal(parse(long_line, &l, &err), SH_E_NOTARY_LIST_LINE_TOO_LONG);
    sh_notary_list_free(&l);
    long_line[n - 1] = '\0'; /* exactly the limit is fine */
    assert_int_equal(parse(long_line, &l, &err), SH_E_OK);
    sh_notary_list_free(&l);
    free(long_line);
}

static void test_too_many(void **state)
{
    (void)state;
    size_t n = SH_MAX_NOTARY_CDHASHES + 1, line = 41;
    char *text = malloc(n * line + 1);
    assert_non_null(text);
    for (size_t i = 0; i < n; i++) {
        memcpy(text + i * line, H1 "\n", line);
    }
    sh_notary_list l;
    sh_error err = {0};
    assert_int_equal(sh_notary_list_parse((uint8_t *)text, n * line, NULL, &l, &err),
                     SH_E_NOTARY_LIST_TOO_MANY);
    assert_int_equal(err.index, (int64_t)n);
    sh_notary_list_free(&l);
    assert_int_equal(sh_notary_list_parse((uint8_t *)text, (n - 1) * line, NULL, &l, &err), SH_E_OK);
    assert_int_equal(l.count, 1);
    sh_notary_list_free(&l);
    free(text);
}

static void test_too_large(void **state)
{
    (void)state;
    sh_notary_list l;
    sh_error err = {0};
    static const uint8_t byte = '\n';
    /* the size check comes before any byte is read */
    assert_int_equal(sh_notary_list_parse(&byte, SH_MAX_NOTARY_LIST_SIZE + 1, NULL, &l, &err),
                     SH_E_NOTARY_LIST_TOO_LARGE);
    sh_notary_list_free(&l);
}

static void test_allocation_failure(void **state)
{
    (void)state;
    failing_alloc f;
    sh_allocator a = failing_alloc_start(&f, 0);
    sh_notary_list l;
    sh_error err = {0};
    const char *text = H1 "\n" H2 "\n";
    assert_int_equal(sh_notary_list_parse((const uint8_t *)text, strlen(text), &a, &l, &err),
                     SH_E_NO_MEMORY);
    sh_notary_list_free(&l);
    assert_int_equal(f.live, 0);
    a = failing_alloc_start(&f, 1);
    assert_int_equal(sh_notary_list_parse((const uint8_t *)text, strlen(text), &a, &l, &err), SH_E_OK);
    assert_int_equal(l.count, 2);
    sh_notary_list_free(&l);
    assert_int_equal(f.live, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accepts_comments_blanks_crlf),
        cmocka_unit_test(test_empty_list),
        cmocka_unit_test(test_errors_name_line_and_column),
        cmocka_unit_test(test_nul_and_long_lines),
        cmocka_unit_test(test_too_many),
        cmocka_unit_test(test_too_large),
        cmocka_unit_test(test_allocation_failure),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
