/* `sigharness profile` (harness/profile_cmd.c): exit codes over the external samples, and the
 * JSON document parses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "inspect.h"
#include "profile_cmd.h"

static int run(const char *opt1, const char *opt2, const char *name)
{
    const char *dir = getenv("SH_SHARED_DIR");
    char path[1024];
    snprintf(path, sizeof path, "%s/external-samples/profiles/%s", dir ? dir : "../shared", name);
    char *argv[5];
    int argc = 0;
    if (opt1)
        argv[argc++] = (char *)opt1;
    if (opt2)
        argv[argc++] = (char *)opt2;
    argv[argc++] = path;
    argv[argc] = NULL;
    return sh_profile_command(argc, argv);
}

static void exit_codes(void **state)
{
    (void)state;
    /* 2030: the Developer ID profile (expires 2038) is valid */
    assert_int_equal(run("--now", "1893456000", "appinfo_GuiApp_embedded_developerid.provisionprofile"),
                     SH_EXIT_OK);
    assert_int_equal(run("--json", NULL, "appinfo_GuiApp_embedded_developerid.provisionprofile"),
                     SH_EXIT_OK);
    /* expired (2016) */
    assert_int_equal(run(NULL, NULL, "fastlane_test.mobileprovision"), SH_EXIT_INVALID);
    assert_int_equal(run("--json", NULL, "fastlane_match_test_TAMPERED.provisionprofile"),
                     SH_EXIT_INVALID);
    assert_int_equal(run(NULL, NULL, "appinfo_bplist_NOT_CMS.mobileprovision"), SH_EXIT_MALFORMED);
    assert_int_equal(run("--xml", NULL, "fastlane_jigx_test_development.mobileprovision"),
                     SH_EXIT_INVALID);
    assert_int_equal(run(NULL, NULL, "no-such-file"), SH_EXIT_IO);
    assert_int_equal(run("--bogus", NULL, "fastlane_test.mobileprovision"), SH_EXIT_USAGE);
    assert_int_equal(run("--json", "--xml", "fastlane_test.mobileprovision"), SH_EXIT_USAGE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(exit_codes)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
