/* `sigharness` command line: exit codes, text and JSON output, on binaries signed by ld64.lld and
 * on the external samples. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <cmocka.h>

#include <openssl/cms.h>
#include <openssl/x509.h>

#include "json_check.h"
#include "macho.h"
#include "readfile.h"
#include "signature.h"

typedef struct {
    char *out;
    size_t len;
    int status;
} run_result;

static const char *env_or_fail(const char *name)
{
    const char *v = getenv(name);
    if (!v)
        fail_msg("environment variable %s is not set (run through ctest)", name);
    return v;
}

static run_result run(const char *args)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "'%s/harness/sigharness' %s 2>/dev/null", env_or_fail("SH_BUILD_DIR"),
             args);
    run_result r = {NULL, 0, -1};
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t cap = 0;
    char buf[8192];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, p)) > 0) {
        if (r.len + n + 1 > cap) {
            cap = (r.len + n + 1) * 2;
            r.out = realloc(r.out, cap);
            assert_non_null(r.out);
        }
        memcpy(r.out + r.len, buf, n);
        r.len += n;
    }
    if (!r.out)
        r.out = calloc(1, 1);
    r.out[r.len] = '\0';
    int st = pclose(p);
    r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    return r;
}

static void expect(const run_result *r, const char *needle)
{
    if (!strstr(r->out, needle))
        fail_msg("expected \"%s\" in output:\n%s", needle, r->out);
}

static char *sample(const char *name)
{
    static char path[4096]; /* test-only; single-threaded */
    snprintf(path, sizeof path, "%s/%s", env_or_fail("SH_SAMPLES_DIR"), name);
    return path;
}

static void usage_errors_exit_2(void **state)
{
    (void)state;
    run_result r = run("");
    assert_int_equal(r.status, 2);
    free(r.out);
    r = run("frobnicate");
    assert_int_equal(r.status, 2);
    free(r.out);
    r = run("inspect");
    assert_int_equal(r.status, 2);
    free(r.out);
    r = run("inspect --bogus x");
    assert_int_equal(r.status, 2);
    free(r.out);
    r = run("--help");
    assert_int_equal(r.status, 0);
    expect(&r, "exit codes:");
    free(r.out);
    r = run("version");
    assert_int_equal(r.status, 0);
    expect(&r, "sigharness ");
    free(r.out);
}

static void inspects_lld_thin_binary(void **state)
{
    (void)state;
    char args[4200];
    snprintf(args, sizeof args, "inspect '%s'", sample("lld-arm64"));
    run_result r = run(args);
    assert_int_equal(r.status, 0);
    expect(&r, "Format=Mach-O thin (arm64)");
    expect(&r, "Identifier=lld-arm64");
    expect(&r, "flags=0x20002(adhoc,linker-signed)");
    expect(&r, "Hash type=sha256 size=32");
    expect(&r, "CandidateCDHash sha256=");
    expect(&r, "Signature=adhoc");
    expect(&r, "TeamIdentifier=not set");
    expect(&r, "Page hashes sha256=verified");
    expect(&r, "Structure=valid");
    expect(&r, "Result=valid");
    free(r.out);
}

static void inspects_fat_binary_per_architecture(void **state)
{
    (void)state;
    char args[4200];
    snprintf(args, sizeof args, "inspect '%s'", sample("lld-fat"));
    run_result r = run(args);
    assert_int_equal(r.status, 0);
    /* llvm-lipo orders slices by alignment: x86_64 (2^12) before arm64 (2^14) */
    expect(&r, "Format=Mach-O universal (x86_64 arm64)");
    expect(&r, "--- Architecture=x86_64 (slice 1 of 2");
    expect(&r, "--- Architecture=arm64 (slice 2 of 2");
    free(r.out);
}

static void json_is_valid_and_versioned(void **state)
{
    (void)state;
    const char *names[] = {"lld-arm64", "lld-x86_64", "lld-fat", "go-arm64"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char args[4200];
        snprintf(args, sizeof args, "inspect --json '%s'", sample(names[i]));
        run_result r = run(args);
        assert_int_equal(r.status, 0);
        if (!json_check(r.out, r.len))
            fail_msg("invalid JSON for %s:\n%s", names[i], r.out);
        expect(&r, "\"schema\":\"sigharness.inspect/1\"");
        expect(&r, "\"result\":\"valid\"");
        expect(&r, "\"kind\":\"adhoc\"");
        free(r.out);
    }
}

static void json_is_valid_for_every_external_sample(void **state)
{
    (void)state;
    char args[4200];
    snprintf(args, sizeof args, "inspect --json '%s'/external-samples/macho/*",
             env_or_fail("SH_SHARED_DIR"));
    run_result r = run(args);
    size_t docs = 0;
    for (char *line = strtok(r.out, "\n"); line; line = strtok(NULL, "\n"), docs++)
        if (!json_check(line, strlen(line)))
            fail_msg("invalid JSON document: %s", line);
    assert_int_equal(docs, 12);
    free(r.out);
}

static void requirements_print_as_codesign_does(void **state)
{
    (void)state;
    char args[4200];
    snprintf(args, sizeof args,
             "inspect -r '%s/external-samples/macho/sparkle_DevSignedApp_SignedApp'",
             env_or_fail("SH_SHARED_DIR"));
    run_result r = run(args);
    assert_int_equal(r.status, 0);
    expect(&r, "designated => anchor apple generic and identifier \"com.zoo.SignedApp\" and "
               "(certificate leaf[field.1.2.840.113635.100.6.1.9] /* exists */ or certificate "
               "1[field.1.2.840.113635.100.6.2.6] /* exists */ and certificate "
               "leaf[field.1.2.840.113635.100.6.1.13] /* exists */ and certificate "
               "leaf[subject.OU] = ZCK58M894E)\n");
    free(r.out);
    snprintf(args, sizeof args, "inspect '%s/external-samples/macho/sparkle_DevSignedApp_SignedApp'",
             env_or_fail("SH_SHARED_DIR"));
    r = run(args);
    if (strstr(r.out, "designated =>"))
        fail_msg("requirements printed without -r:\n%s", r.out);
    free(r.out);
    snprintf(args, sizeof args, "inspect --json '%s'", sample("lld-arm64"));
    r = run(args);
    expect(&r, "\"requirements\":null");
    free(r.out);
}

static char *external(const char *name)
{
    static char path[4096]; /* test-only; single-threaded */
    snprintf(path, sizeof path, "%s/external-samples/macho/%s", env_or_fail("SH_SHARED_DIR"), name);
    return path;
}

static void cms_identity_lines_as_codesign_prints_them(void **state)
{
    (void)state;
    char args[4200];
    snprintf(args, sizeof args, "inspect '%s'", external("sparkle_DevSignedApp_SignedApp"));
    run_result r = run(args);
    assert_int_equal(r.status, 0);
    expect(&r, "Signature size=8977\n"
               "Authority=Developer ID Application: Mayur Pawashe (ZCK58M894E)\n"
               "Authority=Developer ID Certification Authority\n"
               "Authority=Apple Root CA\n"
               "Timestamp=Mar 12, 2023 at 11:28:41 PM\n");
    expect(&r, "CMS signature=verified (Developer ID Application, chain to the pinned Apple Root CA)");
    free(r.out);

    snprintf(args, sizeof args, "inspect '%s'", external("appinfo_GuiApp_universal"));
    r = run(args);
    assert_int_equal(r.status, 0);
    expect(&r, "Authority=Apple Development: Shen Wang (499ZF9BZZC)\n");
    expect(&r, "Signed Time=Aug 9, 2021 at 11:04:04 AM\n");
    expect(&r, "; no secure timestamp)");
    if (strstr(r.out, "Timestamp="))
        fail_msg("an insecure signing time printed as Timestamp=:\n%s", r.out);
    free(r.out);

    snprintf(args, sizeof args, "inspect --json '%s'", external("sparkle_DevSignedApp_SignedApp"));
    r = run(args);
    expect(&r, "\"leaf_kind\":\"Developer ID Application\",\"leaf_team\":\"ZCK58M894E\"");
    expect(&r, "\"anchor\":\"apple-root\",\"time_kind\":\"timestamp\"");
    free(r.out);
}

/* The self-signed certificate carried in the fastlane sample's CMS, written as DER to path. */
static void write_fastlane_certificate(const char *path)
{
    uint8_t *data;
    size_t size;
    const char *why;
    assert_int_equal(sh_read_file(external("fastlane_very_capable_app_selfsigned"), &data, &size, &why),
                     SH_E_OK);
    sh_macho_file m;
    sh_error err;
    assert_int_equal(sh_macho_parse(data, size, NULL, &m, &err), SH_E_OK);
    sh_cursor sig_data;
    assert_int_equal(sh_macho_signature(&m.slices[0], &sig_data, &err), SH_E_OK);
    sh_signature sig;
    assert_int_equal(sh_signature_parse(&sig_data, &sig, &err), SH_E_OK);
    const sh_blob_entry *wrapper = sh_signature_cms(&sig);
    assert_non_null(wrapper);
    sh_cursor payload;
    assert_true(sh_cursor_tail(&wrapper->blob, 8, &payload));
    const unsigned char *p = payload.p;
    CMS_ContentInfo *cms = d2i_CMS_ContentInfo(NULL, &p, (long)payload.len);
    assert_non_null(cms);
    STACK_OF(X509) *certs = CMS_get1_certs(cms);
    assert_int_equal(sk_X509_num(certs), 1);
    unsigned char *der = NULL;
    int der_len = i2d_X509(sk_X509_value(certs, 0), &der);
    assert_true(der_len > 0);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(der, 1, (size_t)der_len, f), (size_t)der_len);
    fclose(f);
    OPENSSL_free(der);
    sk_X509_pop_free(certs, X509_free);
    CMS_ContentInfo_free(cms);
    sh_macho_free(&m);
    free(data);
}

static void self_signed_is_untrusted_unless_given_as_root(void **state)
{
    (void)state;
    char args[8500], root[4200];
    snprintf(args, sizeof args, "inspect '%s'", external("fastlane_very_capable_app_selfsigned"));
    run_result r = run(args);
    assert_int_equal(r.status, 1);
    expect(&r, "Authority=TestFixture\n");
    expect(&r, "CMS signature FAILED (chain)");
    expect(&r, "[CMS_CHAIN_UNTRUSTED; errSecCSSignatureUntrusted -66996]");
    free(r.out);

    snprintf(root, sizeof root, "%s/cli-testfixture.der", env_or_fail("SH_BUILD_DIR"));
    write_fastlane_certificate(root);
    snprintf(args, sizeof args, "inspect --root '%s' '%s'", root,
             external("fastlane_very_capable_app_selfsigned"));
    r = run(args);
    assert_int_equal(r.status, 0);
    expect(&r, "chain to a root given with --root");
    free(r.out);

    r = run("inspect --now yesterday x");
    assert_int_equal(r.status, 2);
    free(r.out);
    r = run("inspect --root /nonexistent x");
    assert_int_equal(r.status, 2);
    free(r.out);
}

static void flipped_byte_names_the_page(void **state)
{
    (void)state;
    char path[4200], args[4300];
    snprintf(path, sizeof path, "%s/cli-flipped", env_or_fail("SH_BUILD_DIR"));
    FILE *in = fopen(sample("lld-arm64"), "rb");
    assert_non_null(in);
    static uint8_t buf[1 << 20];
    size_t n = fread(buf, 1, sizeof buf, in);
    fclose(in);
    assert_true(n > 4096 + 10);
    buf[4096 + 10] ^= 0x01; /* inside page 1 of 4 KiB pages */
    FILE *out = fopen(path, "wb");
    assert_non_null(out);
    assert_int_equal(fwrite(buf, 1, n, out), n);
    fclose(out);
    snprintf(args, sizeof args, "inspect '%s'", path);
    run_result r = run(args);
    assert_int_equal(r.status, 1);
    expect(&r, "pages differ, first page 1 (offset 0x1000)");
    expect(&r, "Result=invalid");
    free(r.out);
}

static void unreadable_and_malformed_inputs(void **state)
{
    (void)state;
    run_result r = run("inspect /nonexistent/file");
    assert_int_equal(r.status, 4);
    free(r.out);
    r = run("inspect /");
    assert_int_equal(r.status, 4);
    expect(&r, "not a regular file");
    free(r.out);
    char args[4200];
    snprintf(args, sizeof args, "inspect '%s/external-samples/macho/sparkle_DevSignedApp_Info.plist'",
             env_or_fail("SH_SHARED_DIR"));
    r = run(args);
    assert_int_equal(r.status, 3);
    expect(&r, "NOT_MACHO; errSecCSBadObjectFormat -67049");
    free(r.out);
    snprintf(args, sizeof args, "inspect '%s'", sample("lld-x86_64-unsigned"));
    r = run(args);
    assert_int_equal(r.status, 1);
    expect(&r, "code object is not signed at all");
    free(r.out);
    /* its armv7 __LINKEDIT runs 8 bytes past the slice: the kernel and llvm-objdump refuse it */
    snprintf(args, sizeof args,
             "inspect '%s/external-samples/macho/isign_isignTestApp_unsigned_fat'",
             env_or_fail("SH_SHARED_DIR"));
    r = run(args);
    assert_int_equal(r.status, 3);
    expect(&r, "MACHO_SEGMENT_OUT_OF_FILE");
    free(r.out);
    /* several files: the worst exit code wins */
    snprintf(args, sizeof args, "inspect '%s' /nonexistent", sample("lld-arm64"));
    r = run(args);
    assert_int_equal(r.status, 4);
    free(r.out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(usage_errors_exit_2),
        cmocka_unit_test(inspects_lld_thin_binary),
        cmocka_unit_test(inspects_fat_binary_per_architecture),
        cmocka_unit_test(json_is_valid_and_versioned),
        cmocka_unit_test(json_is_valid_for_every_external_sample),
        cmocka_unit_test(requirements_print_as_codesign_does),
        cmocka_unit_test(cms_identity_lines_as_codesign_prints_them),
        cmocka_unit_test(self_signed_is_untrusted_unless_given_as_root),
        cmocka_unit_test(flipped_byte_names_the_page),
        cmocka_unit_test(unreadable_and_malformed_inputs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
