/* Tool adapters: the adapter-file parser, the judging rules, and running a tool with a timeout. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "adapter.h"
#include "tool_run.h"

static bool parse(const char *text, sh_adapter *a, char *why)
{
    return sh_adapter_parse(text, strlen(text), a, why, 256);
}

static void test_builtin_adapters_parse(void **state)
{
    (void)state;
    const char *src = getenv("SH_SOURCE_DIR");
    assert_non_null(src);
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/harness/adapters", src);
    DIR *d = opendir(dir);
    assert_non_null(d);
    const char *expected[] = {"codesign", "spctl", "syspolicy_check", "rcodesign", "ldid",
                              "sigharness"};
    unsigned found = 0;
    for (struct dirent *e; (e = readdir(d));) {
        size_t n = strlen(e->d_name);
        if (n < 9 || strcmp(e->d_name + n - 8, ".adapter"))
            continue;
        char path[8192], text[SH_MAX_ADAPTER_SIZE];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        FILE *f = fopen(path, "rb");
        assert_non_null(f);
        size_t len = fread(text, 1, sizeof text, f);
        fclose(f);
        sh_adapter a;
        char why[256] = "";
        if (!sh_adapter_parse(text, len, &a, why, sizeof why))
            fail_msg("%s: %s", e->d_name, why);
        for (size_t i = 0; i < sizeof expected / sizeof expected[0]; i++)
            if (!strcmp(a.name, expected[i]))
                found |= 1u << i;
        sh_adapter_free(&a);
    }
    closedir(d);
    assert_int_equal(found, (1u << (sizeof expected / sizeof expected[0])) - 1);
}

static void test_parse_errors_name_the_line(void **state)
{
    (void)state;
    sh_adapter a;
    char why[256];
    assert_false(parse("name x\n\ncommand run {bundle}\nlevel sometimes\n", &a, why));
    assert_string_equal(why, "line 4: level must be static, gatekeeper, notary or activation");
    assert_false(parse("name x\ncommand run it\n", &a, why));
    assert_string_equal(why, "line 2: command must contain {bundle}");
    assert_false(parse("name x\n", &a, why));
    assert_string_equal(why, "line 0: name and command are required");
    assert_false(parse("name x\ncommand c {bundle}\naccept (unclosed\n", &a, why));
    assert_non_null(strstr(why, "line 3: bad regular expression"));
    assert_false(parse("name x\ncommand c {bundle}\naccept-exit 0 300\n", &a, why));
    assert_non_null(strstr(why, "line 3: accept-exit wants"));
    assert_false(parse("name x\ncommand c {bundle}\ncolour blue\n", &a, why));
    assert_string_equal(why, "line 3: unknown key \"colour\"");
    assert_false(parse("name x\ncommand c {bundle}\nmap 5 text\n", &a, why));
    assert_non_null(strstr(why, "line 3: map wants"));
    assert_false(parse("name\n", &a, why));
    assert_string_equal(why, "line 1: \"name\" has no value");

    char big[SH_MAX_ADAPTER_LINE + 64];
    memset(big, 'a', sizeof big);
    memcpy(big, "name ", 5);
    big[sizeof big - 1] = '\0';
    assert_false(parse(big, &a, why));
    assert_string_equal(why, "line 1: line is longer than 4096 bytes");

    const char with_nul[] = "name x\ncommand c {bundle}\0\n";
    assert_false(sh_adapter_parse(with_nul, sizeof with_nul - 1, &a, why, sizeof why));
    assert_string_equal(why, "line 2: NUL byte in the line");

    char many[SH_MAX_ADAPTER_SIZE];
    size_t n = (size_t)snprintf(many, sizeof many, "name x\ncommand c {bundle}\n");
    for (unsigned i = 0; i <= SH_MAX_ADAPTER_PATTERNS; i++)
        n += (size_t)snprintf(many + n, sizeof many - n, "accept ok%u\n", i);
    assert_false(parse(many, &a, why));
    assert_string_equal(why, "line 35: more than 32 accept patterns");
}

static void test_judge(void **state)
{
    (void)state;
    sh_adapter a;
    char why[256];
    assert_true(parse("name t\ncommand t {bundle}\naccept-exit 0, 3\n"
                      "accept : valid on disk$\nreject : invalid\n"
                      "code errSecCS[A-Za-z]* \\((-6[0-9]{4})\\)\n"
                      "map -67030 invalid Info\\.plist\n",
                      &a, why));
    sh_tool_answer ans;
    sh_adapter_judge(&a, true, 1, false, "X.app: valid on disk\n", &ans);
    assert_int_equal(ans.outcome, SH_TOOL_ACCEPTED); /* the accept pattern beats the status */
    sh_adapter_judge(&a, true, 0, false, "X.app: valid on disk\nX.app: invalid Info.plist\n", &ans);
    assert_int_equal(ans.outcome, SH_TOOL_REJECTED); /* reject patterns win */
    assert_int_equal(ans.code, -67030);
    sh_adapter_judge(&a, true, 1, false, "failed: errSecCSReqFailed (-67050)\n", &ans);
    assert_int_equal(ans.outcome, SH_TOOL_REJECTED);
    assert_int_equal(ans.code, -67050); /* the code pattern's group */
    sh_adapter_judge(&a, true, 3, false, "nothing to say\n", &ans);
    assert_int_equal(ans.outcome, SH_TOOL_ACCEPTED); /* accept-exit 3 */
    sh_adapter_judge(&a, true, 2, false, "nothing to say\n", &ans);
    assert_int_equal(ans.outcome, SH_TOOL_REJECTED);
    assert_int_equal(ans.code, 0);
    sh_adapter_judge(&a, false, SIGSEGV, false, "", &ans);
    assert_int_equal(ans.outcome, SH_TOOL_CRASHED);
    assert_int_equal(ans.signal, SIGSEGV);
    sh_adapter_judge(&a, false, SIGKILL, true, "", &ans);
    assert_int_equal(ans.outcome, SH_TOOL_TIMED_OUT);
    sh_adapter_free(&a);
}

static void test_run_exit_signal_timeout(void **state)
{
    (void)state;
    sh_tool_run r;
    sh_tool_run_command("printf 'out %s\\n' {bundle}; echo err >&2; exit 3", "/tmp/x y", NULL, 10, &r);
    assert_true(r.started);
    assert_true(r.exited);
    assert_false(r.timed_out);
    assert_int_equal(r.status, 3);
    assert_string_equal(r.output, "out /tmp/x y\nerr\n");
    sh_tool_run_free(&r);

    sh_tool_run_command("kill -SEGV $$ # {bundle}", "p", NULL, 10, &r);
    assert_false(r.exited);
    assert_int_equal(r.status, SIGSEGV);
    sh_tool_run_free(&r);

    /* A tool (a child of the shell) that crashes: the shell exits 128 + SIGBUS. */
    sh_tool_run_command("echo before; sh -c 'kill -BUS $$' # {bundle}", "p", NULL, 10, &r);
    assert_false(r.exited);
    assert_int_equal(r.status, SIGBUS);
    sh_tool_run_free(&r);
    sh_tool_run_command("exit 200 # {bundle}", "p", NULL, 10, &r);
    assert_true(r.exited);
    assert_int_equal(r.status, 200);
    sh_tool_run_free(&r);

    sh_tool_run_command("sleep 30; echo late {bundle}", "p", NULL, 1, &r);
    assert_true(r.timed_out);
    assert_false(r.exited);
    assert_int_equal(r.status, SIGKILL);
    assert_null(strstr(r.output, "late"));
    sh_tool_run_free(&r);

    const char *const env[] = {"SH_TEST_VALUE=a b", "HOME=/nowhere", NULL};
    sh_tool_run_command("printf '%s|%s' \"$SH_TEST_VALUE\" \"$HOME\" # {bundle}", "p", env, 10, &r);
    assert_string_equal(r.output, "a b|/nowhere");
    sh_tool_run_free(&r);

    /* A child that closes its output and lingers is still timed out. */
    sh_tool_run_command("exec >/dev/null 2>&1; sleep 30 # {bundle}", "p", NULL, 1, &r);
    assert_true(r.timed_out);
    sh_tool_run_free(&r);
}

static void test_run_path_is_never_shell_text(void **state)
{
    (void)state;
    char dir[] = "/tmp/sh-adapter-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char marker[64], path[256];
    snprintf(marker, sizeof marker, "%s/pwned", dir);
    snprintf(path, sizeof path, "$(touch %s)`touch %s`;touch %s", marker, marker, marker);
    sh_tool_run r;
    sh_tool_run_command("printf '%s' {bundle}", path, NULL, 10, &r);
    assert_true(r.exited);
    assert_string_equal(r.output, path);
    assert_int_not_equal(access(marker, F_OK), 0);
    sh_tool_run_free(&r);
    rmdir(dir);
}

static void test_run_output_is_capped(void **state)
{
    (void)state;
    sh_tool_run r;
    sh_tool_run_command("head -c 3000000 /dev/zero | tr '\\0' a # {bundle}", "p", NULL, 30, &r);
    assert_true(r.exited);
    assert_int_equal(r.output_len, SH_TOOL_OUTPUT_MAX);
    assert_int_equal(r.dropped, 3000000 - SH_TOOL_OUTPUT_MAX);
    sh_tool_run_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_builtin_adapters_parse),
        cmocka_unit_test(test_parse_errors_name_the_line),
        cmocka_unit_test(test_judge),
        cmocka_unit_test(test_run_exit_signal_timeout),
        cmocka_unit_test(test_run_path_is_never_shell_text),
        cmocka_unit_test(test_run_output_is_capped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
