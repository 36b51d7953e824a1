/* The bounded JSON reader (harness/json_read.h): what it accepts, what it refuses and where. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "failing_alloc.h"
#include "json_read.h"

static bool parse(const char *text, sh_json_doc *doc, char *why)
{
    return sh_json_parse((const uint8_t *)text, strlen(text), NULL, doc, why, 256);
}

static void test_values(void **state)
{
    (void)state;
    sh_json_doc d;
    char why[256];
    assert_true(parse(" {\"schema\": \"x/1\", \"n\": -42, \"ok\": true, \"no\": null,"
                      " \"list\": [1, \"\\u00e9\\ud83d\\ude00\\t\\\"\", {}, []]} ", &d, why));
    assert_int_equal(d.root.type, SH_JV_OBJECT);
    assert_string_equal(sh_jv_get_string(&d.root, "schema"), "x/1");
    int64_t n;
    assert_true(sh_jv_get_int(&d.root, "n", &n));
    assert_int_equal(n, -42);
    assert_false(sh_jv_get_int(&d.root, "schema", &n));
    assert_null(sh_jv_get_string(&d.root, "n"));
    assert_true(sh_jv_get(&d.root, "ok")->b);
    assert_int_equal(sh_jv_get(&d.root, "no")->type, SH_JV_NULL);
    const sh_jv *list = sh_jv_get(&d.root, "list");
    assert_int_equal(list->count, 4);
    assert_string_equal(list->items[1].s, "\xc3\xa9\xf0\x9f\x98\x80\t\"");
    assert_int_equal(list->items[2].type, SH_JV_OBJECT);
    assert_int_equal(list->items[3].count, 0);
    assert_null(sh_jv_get(&d.root, "absent"));
    sh_json_doc_free(&d);
}

static void expect_error(const char *text, const char *why_prefix)
{
    sh_json_doc d;
    char why[256] = "";
    if (parse(text, &d, why))
        fail_msg("accepted: %s", text);
    if (strncmp(why, why_prefix, strlen(why_prefix)))
        fail_msg("\"%s\": got \"%s\", expected \"%s...\"", text, why, why_prefix);
}

static void test_errors(void **state)
{
    (void)state;
    expect_error("", "offset 0: expected a value");
    expect_error("{\"a\" 1}", "offset 5: expected ':'");
    expect_error("[1 2]", "offset 3: expected ',' or ']'");
    expect_error("[1,]", "offset 3: expected a value");
    expect_error("{1: 2}", "offset 1: expected a key");
    expect_error("\"abc", "offset 1: unterminated string");
    expect_error("\"a\x01\"", "offset 2: control character in a string");
    expect_error("\"\\x\"", "offset 3: unknown escape \\x");
    expect_error("\"\\u0000\"", "offset 7: \\u0000 in a string");
    expect_error("\"\\ud83d\"", "offset 7: unpaired surrogate");
    expect_error("\"\\ude00\"", "offset 7: unpaired surrogate");
    expect_error("\"\xff\"", "offset 1: invalid UTF-8");
    expect_error("1.5", "offset 1: only integers are accepted");
    expect_error("012", "offset 1: leading zero");
    expect_error("99999999999999999999999", "offset 19: number out of range");
    expect_error("tru", "offset 0: unexpected text");
    expect_error("{} x", "offset 3: data after the document");
    char deep[2 * SH_MAX_JSON_DEPTH + 3];
    memset(deep, '[', SH_MAX_JSON_DEPTH + 1);
    memset(deep + SH_MAX_JSON_DEPTH + 1, ']', SH_MAX_JSON_DEPTH + 1);
    deep[2 * SH_MAX_JSON_DEPTH + 2] = '\0';
    expect_error(deep, "offset 33: nested deeper than 32");
    memset(deep, '[', SH_MAX_JSON_DEPTH);
    memset(deep + SH_MAX_JSON_DEPTH, ']', SH_MAX_JSON_DEPTH);
    deep[2 * SH_MAX_JSON_DEPTH] = '\0';
    sh_json_doc d;
    char why[256];
    assert_true(parse(deep, &d, why)); /* exactly the limit */
    sh_json_doc_free(&d);
}

static void test_allocation_failures(void **state)
{
    (void)state;
    const char *text = "{\"results\": [{\"fixture\": \"a\", \"exit\": 1}, [\"b\", \"c\"]], \"k\": \"v\"}";
    for (long k = 0;; k++) {
        failing_alloc fa;
        sh_allocator a = failing_alloc_start(&fa, k);
        sh_json_doc d;
        char why[256];
        bool ok = sh_json_parse((const uint8_t *)text, strlen(text), &a, &d, why, sizeof why);
        if (ok) {
            assert_string_equal(sh_jv_get_string(&sh_jv_get(&d.root, "results")->items[0], "fixture"), "a");
            sh_json_doc_free(&d);
            assert_int_equal(fa.live, 0);
            break;
        }
        assert_non_null(strstr(why, "out of memory"));
        assert_int_equal(fa.live, 0);
        assert_true(k < 1000);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_values),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_allocation_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
