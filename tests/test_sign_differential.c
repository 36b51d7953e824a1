/* The linker differential: ad-hoc signing a binary made by ld64.lld-14 or by Go, with the same
 * identifier, flags, page size and layout as the linker's own signature, must give a
 * CodeDirectory byte-identical to the linker's (and, since nothing else differs, the same slice).
 * The samples are built at test time (tests/samples/build-samples.sh, ctest fixture "samples").
 *
 * Why byte identity is reachable: the page hashes cover the Mach-O header, so the re-signed
 * LC_CODE_SIGNATURE datasize and __LINKEDIT filesize/vmsize must equal the linker's; the signer
 * keeps the signature offset (force), reserves exactly the linker's size in the linker layouts
 * (signer.h SH_SIGN_LAYOUT_GO / _LLD) and grows __LINKEDIT vmsize only when it must. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "macho.h"
#include "signature.h"
#include "sample_path.h"
#include "signer.h"

static uint8_t *read_sample(const char *name, size_t *len)
{
    char why[1200];
    uint8_t *data = built_sample_read(name, len, why, sizeof why);
    if (!data)
        fail_msg("%s", why);
    return data;
}

static void parse_ok(const uint8_t *data, size_t len, sh_macho_file *f)
{
    sh_error err;
    if (sh_macho_parse(data, len, NULL, f, &err) != SH_E_OK) {
        char msg[256];
        sh_error_format(&err, msg, sizeof msg);
        fail_msg("Mach-O does not parse: %s", msg);
    }
}

static void signature_ok(const sh_macho_slice *s, sh_signature *sig)
{
    sh_cursor data;
    sh_error err;
    char msg[256];
    if (sh_macho_signature(s, &data, &err) != SH_E_OK ||
        sh_signature_parse(&data, sig, &err) != SH_E_OK) {
        sh_error_format(&err, msg, sizeof msg);
        fail_msg("signature does not parse: %s", msg);
    }
}

/* Fails with the first differing offset, so a layout drift is found at once. */
static void assert_bytes_identical(const char *what, const char *sample, uint32_t slice,
                                   const uint8_t *ours, size_t ours_len, const uint8_t *theirs,
                                   size_t theirs_len)
{
    size_t n = ours_len < theirs_len ? ours_len : theirs_len;
    for (size_t i = 0; i < n; i++)
        if (ours[i] != theirs[i])
            fail_msg("%s slice %u: %s differs at offset 0x%zx (ours 0x%02x, linker's 0x%02x)",
                     sample, slice, what, i, ours[i], theirs[i]);
    if (ours_len != theirs_len)
        fail_msg("%s slice %u: %s length differs (ours %zu, linker's %zu)", sample, slice, what,
                 ours_len, theirs_len);
}

/* Options that repeat what the linker's CodeDirectory says. */
static void options_like(const sh_codedir *cd, sh_sign_layout layout, char *ident, size_t size,
                         sh_sign_options *o)
{
    assert_true(cd->identifier_len < size);
    memcpy(ident, cd->identifier, cd->identifier_len);
    ident[cd->identifier_len] = '\0';
    sh_sign_options_init(o, ident);
    o->force = true;
    o->extra_flags = cd->flags;
    o->page_shift = cd->page_shift;
    o->layout = layout;
    o->signing_time = 1704067200;
}

typedef struct sample {
    const char *name;
    sh_sign_layout layout;
    uint32_t nslices;
} sample;

static const sample samples[] = {
    {"lld-arm64", SH_SIGN_LAYOUT_LLD, 1},
    {"lld-x86_64", SH_SIGN_LAYOUT_LLD, 1},
    {"lld-fat", SH_SIGN_LAYOUT_LLD, 2},
    {"go-arm64", SH_SIGN_LAYOUT_GO, 1},
};

/* Re-signs every slice of one sample and compares it with the linker's. */
static void resign_matches(const sample *smp, bool whole_slice)
{
    size_t len;
    uint8_t *in = read_sample(smp->name, &len);
    sh_macho_file theirs;
    parse_ok(in, len, &theirs);
    assert_int_equal(theirs.nslices, smp->nslices);
    for (uint32_t i = 0; i < theirs.nslices; i++) {
        const sh_macho_slice *ts = &theirs.slices[i];
        sh_signature tsig;
        signature_ok(ts, &tsig);
        const sh_codedir *tcd = &tsig.cds[0];
        /* what makes these linker signatures: ad hoc, linker-signed, nothing but pages sealed */
        assert_int_equal(tcd->flags, SH_CS_ADHOC | SH_CS_LINKER_SIGNED);
        assert_int_equal(tcd->n_special_slots, 0);
        assert_int_equal(tsig.superblob.count, 1);

        char ident[512];
        sh_sign_options o;
        options_like(tcd, smp->layout, ident, sizeof ident, &o);
        sh_cursor slice_bytes = ts->data;
        sh_bytebuf out;
        sh_sign_result r;
        sh_bytebuf_init(&out, NULL);
        if (sh_sign_macho(slice_bytes.p, slice_bytes.len, &o, &out, &r) != SH_SIGN_OK)
            fail_msg("%s slice %u: sh_sign_macho: %s", smp->name, i, r.message);
        sh_macho_file ours;
        parse_ok(out.data, out.len, &ours);
        sh_signature osig;
        signature_ok(&ours.slices[0], &osig);
        assert_bytes_identical("CodeDirectory", smp->name, i, osig.cds[0].blob.p,
                               osig.cds[0].blob.len, tcd->blob.p, tcd->blob.len);
        if (whole_slice)
            assert_bytes_identical("signed slice", smp->name, i, out.data, out.len,
                                   slice_bytes.p, slice_bytes.len);
        sh_macho_free(&ours);
        sh_bytebuf_free(&out);
    }
    sh_macho_free(&theirs);
    free(in);
}

static void lld_codedirectories_identical(void **state)
{
    (void)state;
    for (size_t i = 0; i < 3; i++)
        resign_matches(&samples[i], false);
}

static void go_codedirectory_identical(void **state)
{
    (void)state;
    resign_matches(&samples[3], false);
}

/* Nothing else differs either: the whole slice (header, padding, SuperBlob) is the linker's. */
static void whole_slices_identical(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof samples / sizeof samples[0]; i++)
        resign_matches(&samples[i], true);
}

/* The comparison can fail: codesign's layout (requirement set sealed in slot 2), the other
 * linker's layout, or another identifier each give a different CodeDirectory. */
static void differences_are_detected(void **state)
{
    (void)state;
    size_t len;
    uint8_t *in = read_sample("lld-arm64", &len);
    sh_macho_file theirs;
    parse_ok(in, len, &theirs);
    sh_signature tsig;
    signature_ok(&theirs.slices[0], &tsig);
    const sh_codedir *tcd = &tsig.cds[0];
    for (int variant = 0; variant < 3; variant++) {
        char ident[512];
        sh_sign_options o;
        options_like(tcd, SH_SIGN_LAYOUT_LLD, ident, sizeof ident, &o);
        if (variant == 0)
            o.layout = SH_SIGN_LAYOUT_CODESIGN;
        else if (variant == 1)
            o.layout = SH_SIGN_LAYOUT_GO;
        else
            o.identifier = "lld-arm6";
        sh_bytebuf out;
        sh_sign_result r;
        sh_bytebuf_init(&out, NULL);
        assert_int_equal(sh_sign_macho(in, len, &o, &out, &r), SH_SIGN_OK);
        sh_macho_file ours;
        parse_ok(out.data, out.len, &ours);
        sh_signature osig;
        signature_ok(&ours.slices[0], &osig);
        const sh_cursor *cd = &osig.cds[0].blob;
        assert_true(cd->len != tcd->blob.len || memcmp(cd->p, tcd->blob.p, cd->len) != 0);
        if (variant == 0)
            assert_int_equal(osig.cds[0].n_special_slots, 2);
        sh_macho_free(&ours);
        sh_bytebuf_free(&out);
    }
    sh_macho_free(&theirs);
    free(in);
}

/* Linker layouts are ad hoc and seal nothing else; unknown flags are refused. */
static void linker_layout_refuses_extras(void **state)
{
    (void)state;
    size_t len;
    uint8_t *in = read_sample("lld-x86_64", &len);
    static const uint8_t plist[] = "<plist/>";
    for (int variant = 0; variant < 4; variant++) {
        sh_sign_options o;
        sh_sign_options_init(&o, "lld-x86_64");
        o.force = true;
        o.layout = SH_SIGN_LAYOUT_LLD;
        if (variant == 0) {
            o.info_plist = plist;
            o.info_plist_len = sizeof plist - 1;
        } else if (variant == 1) {
            o.dual_hash = true;
        } else if (variant == 2) {
            o.layout = SH_SIGN_LAYOUT_CODESIGN;
            o.extra_flags = SH_CS_GET_TASK_ALLOW; /* runtime-only flag, not allowed in a CD */
        } else {
            o.layout = (sh_sign_layout)7;
        }
        sh_bytebuf out;
        sh_sign_result r;
        sh_bytebuf_init(&out, NULL);
        assert_int_equal(sh_sign_macho(in, len, &o, &out, &r), SH_SIGN_INVALID_ARGUMENT);
        assert_int_equal(out.len, 0);
        sh_bytebuf_free(&out);
    }
    free(in);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(lld_codedirectories_identical),
        cmocka_unit_test(go_codedirectory_identical),
        cmocka_unit_test(whole_slices_identical),
        cmocka_unit_test(differences_are_detected),
        cmocka_unit_test(linker_layout_refuses_extras),
    };
    return cmocka_run_group_tests_name("sign_differential", tests, NULL, NULL);
}
