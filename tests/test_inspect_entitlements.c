/* inspect's entitlement handling on synthesised binaries: DER only (rendered as XML), XML and DER
 * that disagree, and a sealed but malformed DER blob. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "inspect.h"
#include "macho_synth.h"
#include "superblob.h"

#define KEY "com.apple.security.app-sandbox"

/* {KEY: true} in Apple's DER form, as a 0xfade7172 blob. */
static const uint8_t der_blob[] = {
    0xfa, 0xde, 0x71, 0x72, 0x00, 0x00, 0x00, 0x34, 0x70, 0x2a, 0x02, 0x01, 0x01, 0xb0, 0x25,
    0x30, 0x23, 0x0c, 0x1e, 'c',  'o',  'm',  '.',  'a',  'p',  'p',  'l',  'e',  '.',  's',
    'e',  'c',  'u',  'r',  'i',  't',  'y',  '.',  'a',  'p',  'p',  '-',  's',  'a',  'n',
    'd',  'b',  'o',  'x',  0x01, 0x01, 0xff};

/* The same DER with the boolean's length octet broken (02 instead of 01): sealed garbage. */
static uint8_t bad_der_blob[sizeof der_blob];

static const char xml_false[] = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<plist version=\"1.0\">"
                                "<dict><key>" KEY "</key><false/></dict></plist>\n";

typedef struct {
    char path[4096];
    sh_inspection in;
    char *text;
} inspected;

/* Synthesises an ad-hoc arm64 binary sealing the given blobs (NULL: absent), writes it under the
 * build directory and inspects it. */
static void synth_and_inspect(const char *name, const uint8_t *xml, size_t xml_len,
                              const uint8_t *der, size_t der_len, inspected *r)
{
    uint8_t xml_blob[512];
    sh_synth_spec spec;
    sh_synth_spec_init(&spec, SH_SYNTH_ARM64, "com.example.ent");
    if (xml) {
        assert_true(xml_len + 8 <= sizeof xml_blob);
        uint32_t len = (uint32_t)(xml_len + 8);
        const uint8_t header[8] = {0xfa, 0xde, 0x71, 0x71, (uint8_t)(len >> 24),
                                   (uint8_t)(len >> 16), (uint8_t)(len >> 8), (uint8_t)len};
        memcpy(xml_blob, header, 8);
        memcpy(xml_blob + 8, xml, xml_len);
        spec.sig.cd.special[SH_SLOT_ENTITLEMENTS] = (sh_bytes){xml_blob, len};
    }
    if (der)
        spec.sig.cd.special[SH_SLOT_DER_ENTITLEMENTS] = (sh_bytes){der, der_len};
    sh_bytebuf buf;
    sh_bytebuf_init(&buf, NULL);
    sh_write_error werr;
    assert_int_equal(sh_synth_thin(&spec, &buf, NULL, &werr), SH_W_OK);
    const char *dir = getenv("SH_BUILD_DIR");
    assert_non_null(dir);
    snprintf(r->path, sizeof r->path, "%s/%s", dir, name);
    FILE *f = fopen(r->path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(buf.data, 1, buf.len, f), buf.len);
    fclose(f);
    sh_bytebuf_free(&buf);

    sh_inspect_options opt = {.entitlements = true, .now = 1700000000};
    sh_inspect_file(r->path, &opt, &r->in);
    size_t len;
    FILE *mem = open_memstream(&r->text, &len);
    assert_non_null(mem);
    sh_inspection_print_text(&r->in, &opt, mem);
    fclose(mem);
}

static void release(inspected *r)
{
    sh_inspection_free(&r->in);
    free(r->text);
}

static void expect(const inspected *r, const char *needle)
{
    if (!strstr(r->text, needle))
        fail_msg("expected \"%s\" in:\n%s", needle, r->text);
}

static void der_only_is_rendered_as_xml(void **state)
{
    (void)state;
    inspected r;
    synth_and_inspect("ent-der-only", NULL, 0, der_blob, sizeof der_blob, &r);
    assert_int_equal(r.in.exit_code, SH_EXIT_OK);
    expect(&r, "Entitlements=DER blob only\n");
    expect(&r, "# DER entitlements (DER form) rendered as XML; there is no XML blob\n");
    expect(&r, "<dict>\n\t<key>" KEY "</key>\n\t<true/>\n</dict>\n</plist>\n");
    release(&r);
}

static void xml_and_der_that_differ_are_invalid(void **state)
{
    (void)state;
    inspected r;
    synth_and_inspect("ent-differ", (const uint8_t *)xml_false, strlen(xml_false), der_blob,
                      sizeof der_blob, &r);
    assert_int_equal(r.in.exit_code, SH_EXIT_INVALID);
    assert_int_equal(r.in.slices[0].entitlements.result, SH_E_ENT_MISMATCH);
    expect(&r, "Entitlements=XML and DER blobs, which DIFFER: " KEY);
    release(&r);
}

static void xml_and_der_that_agree_are_valid(void **state)
{
    (void)state;
    char xml_true[sizeof xml_false];
    strcpy(xml_true, xml_false);
    memcpy(strstr(xml_true, "<false/>"), "<true/> ", 8);
    inspected r;
    synth_and_inspect("ent-agree", (const uint8_t *)xml_true, strlen(xml_true), der_blob,
                      sizeof der_blob, &r);
    assert_int_equal(r.in.exit_code, SH_EXIT_OK);
    expect(&r, "Entitlements=XML and DER blobs, equivalent\n");
    release(&r);
}

static void sealed_malformed_der_is_malformed(void **state)
{
    (void)state;
    memcpy(bad_der_blob, der_blob, sizeof der_blob);
    bad_der_blob[sizeof der_blob - 2] = 0x02;
    inspected r;
    synth_and_inspect("ent-bad-der", NULL, 0, bad_der_blob, sizeof bad_der_blob, &r);
    assert_int_equal(r.in.exit_code, SH_EXIT_MALFORMED);
    expect(&r, "Entitlements malformed: ");
    expect(&r, "errSecCSInvalidEntitlements -66994");
    release(&r);
}

static void no_entitlements_say_none(void **state)
{
    (void)state;
    inspected r;
    synth_and_inspect("ent-none", NULL, 0, NULL, 0, &r);
    assert_int_equal(r.in.exit_code, SH_EXIT_OK);
    expect(&r, "Entitlements=none\n");
    release(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(der_only_is_rendered_as_xml),
        cmocka_unit_test(xml_and_der_that_differ_are_invalid),
        cmocka_unit_test(xml_and_der_that_agree_are_valid),
        cmocka_unit_test(sealed_malformed_der_is_malformed),
        cmocka_unit_test(no_entitlements_say_none),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
