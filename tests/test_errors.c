#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "errors.h"

static void every_error_has_a_name_status_and_message(void **state)
{
    (void)state;
    for (int e = 0; e < SH_E_COUNT; e++) {
        assert_non_null(sh_err_name((sh_err)e));
        assert_true(strlen(sh_err_message((sh_err)e)) > 5);
        const char *status = sh_errsec_name(sh_err_errsec((sh_err)e));
        assert_non_null(status);
        if (e != SH_E_OK)
            assert_int_not_equal(sh_err_errsec((sh_err)e), 0);
    }
    assert_int_equal(sh_err_errsec(SH_E_CD_PAGE_HASH_MISMATCH), -67061);
    assert_string_equal(sh_errsec_name(-67061), "errSecCSSignatureFailed");
    assert_string_equal(sh_errsec_name(-67050), "errSecCSReqFailed");
    assert_null(sh_errsec_name(12345));
    assert_string_equal(sh_err_name(SH_E_MACHO_TRUNCATED), "MACHO_TRUNCATED");
}

static void format_names_structure_index_offset_and_value(void **state)
{
    (void)state;
    sh_error err;
    char buf[256];
    assert_int_equal(sh_fail_value(&err, SH_E_MACHO_CMDSIZE_UNALIGNED, "load command", 3, 0x40, 0x13),
                     SH_E_MACHO_CMDSIZE_UNALIGNED);
    sh_error_format(&err, buf, sizeof buf);
    assert_non_null(strstr(buf, "load command #3 at offset 0x40"));
    assert_non_null(strstr(buf, "value 0x13"));
    sh_fail(&err, SH_E_NOT_MACHO, "file", -1, 0);
    sh_error_format(&err, buf, sizeof buf);
    assert_non_null(strstr(buf, "(file at offset 0x0)"));
    assert_null(strstr(buf, "value"));
    char tiny[8];
    sh_error_format(&err, tiny, sizeof tiny);
    assert_int_equal(strlen(tiny), 7);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_error_has_a_name_status_and_message),
        cmocka_unit_test(format_names_structure_index_offset_and_value),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
