/* Differential mode and calibration, through the CLI (issue: "tested with the project's own CLI
 * as one tool and with a deliberately wrong adapter whose disagreements must all be reported"):
 * - `regress --tool sigharness`: our own verifier agrees with every expectation;
 * - `regress --adapter always-valid.adapter`: every fixture whose static validation must fail is
 *   reported, and no other;
 * - `regress --adapter crashy.adapter`: a crash and a timeout of the tool are findings;
 * - `calibrate`: a Mac that answers as the oracle expects gives no disagreement; one wrong answer
 *   gives exactly one, naming the rules-table row; scripts/mac-capture.sh output is accepted. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "json_read.h"

static char tmp[] = "/tmp/sh-differential-XXXXXX";
static char sigharness[4096];
static const char *source_dir;

static int setup(void **state)
{
    (void)state;
    source_dir = getenv("SH_SOURCE_DIR");
    const char *build = getenv("SH_BUILD_DIR");
    if (!source_dir || !build || !mkdtemp(tmp))
        return -1;
    snprintf(sigharness, sizeof sigharness, "%s/harness/sigharness", build);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    return system(cmd) == 0 ? 0 : -1;
}

/* Runs a shell command, captures stdout, returns the exit status. */
static int run(const char *cmd, char **out)
{
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    for (size_t n; (n = fread(buf + len, 1, cap - len - 1, p)) > 0;) {
        len += n;
        if (cap - len < 4096)
            buf = realloc(buf, cap *= 2);
    }
    buf[len] = '\0';
    int status = pclose(p);
    *out = buf;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void parse_json(const char *text, sh_json_doc *doc)
{
    char why[256];
    if (!sh_json_parse((const uint8_t *)text, strlen(text), NULL, doc, why, sizeof why))
        fail_msg("not JSON (%s): %.200s", why, text);
}

/* The regress expectation of every camera case: name -> static_errsec, via regress --json. */
typedef struct expected_case {
    char name[192];
    int64_t static_errsec;
} expected_case;

static expected_case cached[512];
static size_t ncached;

static size_t camera_expectations(expected_case *out, size_t max)
{
    if (ncached) { /* the same for every test: regress is deterministic */
        size_t n = ncached < max ? ncached : max;
        memcpy(out, cached, n * sizeof *out);
        return n;
    }
    char cmd[8192], *text;
    snprintf(cmd, sizeof cmd, "'%s' regress --category camera --json --quiet", sigharness);
    assert_int_equal(run(cmd, &text), 0);
    sh_json_doc doc;
    parse_json(text, &doc);
    const sh_jv *results = sh_jv_get(&doc.root, "results");
    assert_non_null(results);
    size_t n = 0;
    for (size_t i = 0; i < results->count && n < max; i++, n++) {
        snprintf(out[n].name, sizeof out[n].name, "%s", sh_jv_get_string(&results->items[i], "case"));
        assert_true(sh_jv_get_int(sh_jv_get(&results->items[i], "expected"), "static_errsec",
                                  &out[n].static_errsec));
    }
    sh_json_doc_free(&doc);
    free(text);
    ncached = n < 512 ? n : 512;
    memcpy(cached, out, ncached * sizeof *out);
    return n;
}

static void test_own_cli_agrees(void **state)
{
    (void)state;
    char cmd[8192], *text;
    snprintf(cmd, sizeof cmd,
             "'%s' regress --tool sigharness --category camera --jobs 2 --quiet --json "
             "--results '%s/own' --junit '%s/own.xml'", sigharness, tmp, tmp);
    int rc = run(cmd, &text);
    sh_json_doc doc;
    parse_json(text, &doc);
    int64_t fixtures = 0, disagreements = -1;
    assert_true(sh_jv_get_int(&doc.root, "fixtures", &fixtures));
    assert_true(sh_jv_get_int(&doc.root, "disagreements", &disagreements));
    if (disagreements != 0)
        fail_msg("our own CLI disagrees with the catalogue: %.2000s", text);
    assert_int_equal(rc, 0);
    expected_case cases[512];
    assert_int_equal((size_t)fixtures, camera_expectations(cases, 512));
    sh_json_doc_free(&doc);
    free(text);
    snprintf(cmd, sizeof cmd, "grep -c '<testcase' '%s/own.xml'", tmp);
    assert_int_equal(run(cmd, &text), 0);
    assert_int_equal(atoi(text), (int)fixtures);
    free(text);
}

static void test_wrong_tool_disagreements_all_reported(void **state)
{
    (void)state;
    expected_case cases[512];
    size_t n = camera_expectations(cases, 512);
    char cmd[8192], *text;
    snprintf(cmd, sizeof cmd,
             "'%s' regress --adapter '%s/tests/differential/always-valid.adapter' --category camera "
             "--quiet --json --results '%s/wrong'", sigharness, source_dir, tmp);
    assert_int_equal(run(cmd, &text), 1);
    sh_json_doc doc;
    parse_json(text, &doc);
    const sh_jv *results = sh_jv_get(&doc.root, "results");
    assert_int_equal(results->count, n);
    size_t must_reject = 0, flagged = 0;
    for (size_t i = 0; i < n; i++) {
        const sh_jv *r = &results->items[i];
        const char *name = sh_jv_get_string(r, "fixture");
        bool disagrees = sh_jv_get(r, "disagrees")->b;
        size_t k = 0;
        while (k < n && strcmp(cases[k].name, name))
            k++;
        assert_true(k < n);
        bool reject = cases[k].static_errsec != 0;
        must_reject += reject;
        flagged += disagrees;
        if (reject != disagrees)
            fail_msg("%s: static_errsec %lld but disagrees=%d", name,
                     (long long)cases[k].static_errsec, disagrees);
    }
    assert_true(must_reject > 0);
    int64_t total;
    assert_true(sh_jv_get_int(&doc.root, "disagreements", &total));
    assert_int_equal((size_t)total, flagged);
    sh_json_doc_free(&doc);
    free(text);
}

static void test_tool_crash_and_timeout_reported(void **state)
{
    (void)state;
    char cmd[8192], *text;
    snprintf(cmd, sizeof cmd,
             "'%s' regress --adapter '%s/tests/differential/crashy.adapter' --category camera "
             "--policy development --quiet --results '%s/crashy'", sigharness, source_dir, tmp);
    assert_int_equal(run(cmd, &text), 1);
    assert_non_null(strstr(text, "camera-dev--extension-code-page-flipped"));
    assert_non_null(strstr(text, "the tool crashed (a bug in the tool)"));
    assert_non_null(strstr(text, "camera-dev--extension-resource-added"));
    assert_non_null(strstr(text, "the tool timed out"));
    assert_non_null(strstr(text, "(2 crashes or timeouts)"));
    free(text);
    snprintf(cmd, sizeof cmd, "test -s '%s/crashy/outputs/camera-dev--extension-info-plist-edited.txt'", tmp);
    assert_int_equal(run(cmd, &text), 0);
    free(text);
}

/* What codesign prints for a status (the wording the codesign adapter maps back). */
static const char *codesign_says(int64_t status)
{
    switch (status) {
    case 0: return "valid on disk";
    case -67062: return "code object is not signed at all";
    case -67061: return "invalid signature (code or signature have been modified)";
    case -67030: return "invalid Info.plist (plist or signature have been modified)";
    case -67023: return "invalid resource directory (directory or signature have been modified)";
    case -67054: return "a sealed resource is missing or invalid";
    case -67014: return "unsealed contents present in the bundle root";
    case -67003: return "invalid destination for symbolic link in bundle";
    case -67028: return "bundle format unrecognized, invalid, or unsuitable";
    case -67021: return "nested code is modified or invalid";
    case -67059: return "unsupported type or version of signature";
    case -67010: return "main executable failed strict validation";
    case -67049: return "invalid format for signature";
    default: return "refused for a reason this stand-in does not spell out";
    }
}

static void write_results(const char *path, const expected_case *cases, size_t n, size_t lie_at,
                          const char *extra_fixture)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "{\"schema\": \"sigharness.mac-capture/1\", \"macos\": \"15.1 (24B83)\", "
               "\"syspolicy_check\": true, \"results\": [\n");
    for (size_t i = 0; i < n; i++) {
        int64_t s = i == lie_at ? 0 : cases[i].static_errsec;
        fprintf(f, "%s{\"fixture\": \"%s\", \"bundle\": \"X.app\", \"tool\": \"codesign\", "
                   "\"command\": \"codesign --verify\", \"exit\": %d, \"output\": \"X.app: %s\"}",
                i ? ",\n" : "", cases[i].name, s ? 1 : 0, codesign_says(s));
    }
    if (extra_fixture)
        fprintf(f, ",\n{\"fixture\": \"%s\", \"tool\": \"codesign\", \"exit\": 0, \"output\": \"\"}",
                extra_fixture);
    fprintf(f, "]}\n");
    fclose(f);
}

static void test_calibrate(void **state)
{
    (void)state;
    expected_case cases[512];
    size_t n = camera_expectations(cases, 512);
    char results[512], cmd[8192], *text;
    snprintf(results, sizeof results, "%s/mac.json", tmp);
    write_results(results, cases, n, (size_t)-1, NULL);
    snprintf(cmd, sizeof cmd, "'%s' calibrate '%s' --category camera", sigharness, results);
    int rc = run(cmd, &text);
    if (rc != 0 || !strstr(text, " 0 disagreements"))
        fail_msg("calibrate of agreeing answers: exit %d\n%.3000s", rc, text);
    free(text);

    size_t lie = 0;
    while (lie < n && cases[lie].static_errsec != -67061)
        lie++;
    assert_true(lie < n);
    write_results(results, cases, n, lie, "no-such-fixture");
    assert_int_equal(run(cmd, &text), 1);
    assert_non_null(strstr(text, cases[lie].name));
    assert_non_null(strstr(text, "PAGE_HASH_MISMATCH"));
    assert_non_null(strstr(text, " 1 disagreements"));
    assert_non_null(strstr(text, "no-such-fixture"));
    free(text);

    snprintf(cmd, sizeof cmd, "printf '{\"schema\": 1}' > '%s/bad.json'; '%s' calibrate '%s/bad.json'",
             tmp, sigharness, tmp);
    assert_int_equal(run(cmd, &text), 3);
    free(text);
}

/* scripts/mac-capture.sh with stand-ins for codesign, spctl and sw_vers, over a real fixture
 * folder: its JSON is what calibrate reads. */
static void test_mac_capture_output_is_read(void **state)
{
    (void)state;
    char cmd[16384], *text;
    snprintf(cmd, sizeof cmd,
             "set -e; cd '%s'; mkdir -p bin; "
             "printf '#!/bin/sh\\necho \"$5: valid on disk\"\\n' > bin/codesign; "
             "printf '#!/bin/sh\\necho \"$6: rejected\"; exit 3\\n' > bin/spctl; "
             "printf '#!/bin/sh\\necho 15.1\\n' > bin/sw_vers; chmod +x bin/*; "
             "'%s' fixtures broken -o broken --category camera --policy development >/dev/null 2>&1; "
             "PATH=\"$PWD/bin:$PATH\" sh '%s/scripts/mac-capture.sh' broken capture.json 2>/dev/null; "
             "'%s' calibrate capture.json --tools codesign,spctl --category camera", tmp, sigharness, source_dir,
             sigharness);
    int rc = run(cmd, &text);
    /* A Mac that accepts everything disagrees on every broken camera fixture (exit 1), and the
     * file parsed (not 3). */
    if (rc != 1 || !strstr(text, "calibrating against macOS 15.1"))
        fail_msg("exit %d\n%.2000s", rc, text);
    assert_non_null(strstr(text, "DIFF  camera-dev--extension-code-page-flipped"));
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_own_cli_agrees),
        cmocka_unit_test(test_wrong_tool_disagreements_all_reported),
        cmocka_unit_test(test_tool_crash_and_timeout_reported),
        cmocka_unit_test(test_calibrate),
        cmocka_unit_test(test_mac_capture_output_is_read),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
