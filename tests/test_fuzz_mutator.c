/* The structure-aware fuzz mutator (mutators/fuzz_mutator.h): input recognition, determinism,
 * the byte share and max_size, SuperBlob rebuilds that keep the index consistent, re-signing
 * that verifies, crossover, allocation failures and hostile inputs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bundle.h"
#include "fixture_build.h"
#include "fixture_spec.h"
#include "failing_alloc.h"
#include "fuzz_mutator.h"
#include "macho.h"
#include "macho_synth.h"
#include "signature.h"
#include "signer.h"

#define ROOM 4096u /* spare capacity the mutator may grow into */

typedef struct fixture {
    sh_bytebuf thin, fat, entitled; /* ad hoc arm64, ad hoc fat, Developer ID + entitlements */
    sh_pki_identity devid;
    sh_fm_signers signers;
} fixture;

static void synth(sh_synth_arch arch, sh_bytebuf *out)
{
    sh_synth_spec spec;
    sh_synth_spec_init(&spec, arch, "com.example.mutate");
    spec.text_size = 9000; /* a few pages */
    sh_bytebuf_init(out, NULL);
    sh_write_error err = {0};
    assert_int_equal(sh_synth_thin(&spec, out, NULL, &err), SH_W_OK);
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    char why[SH_PKI_WHY_MAX];
    if (!f || !sh_pki_load_identity(NULL, "devid-team1", &f->devid, why, sizeof why)) {
        fprintf(stderr, "setup: %s\n", f ? why : "no memory");
        free(f);
        return -1;
    }
    f->signers.developer_id = &f->devid;
    synth(SH_SYNTH_ARM64, &f->thin);
    sh_synth_spec specs[2];
    sh_synth_spec_init(&specs[0], SH_SYNTH_ARM64, "com.example.fat");
    sh_synth_spec_init(&specs[1], SH_SYNTH_X86_64, "com.example.fat");
    sh_bytebuf_init(&f->fat, NULL);
    sh_write_error err = {0};
    if (sh_synth_fat(specs, 2, &f->fat, NULL, &err) != SH_W_OK)
        return -1;
    sh_sign_options o;
    sh_sign_options_init(&o, "com.example.entitled");
    o.identity = &f->devid;
    o.force = true;
    o.signing_time = 1704067200;
    o.entitlements = (const uint8_t *)sh_fm_entitlements(3, &o.entitlements_len);
    sh_sign_result r;
    sh_bytebuf_init(&f->entitled, NULL);
    if (sh_sign_macho(f->thin.data, f->thin.len, &o, &f->entitled, &r) != SH_SIGN_OK) {
        fprintf(stderr, "setup: %s\n", r.message);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    sh_bytebuf_free(&f->thin);
    sh_bytebuf_free(&f->fat);
    sh_bytebuf_free(&f->entitled);
    sh_pki_identity_free(&f->devid);
    free(f);
    return 0;
}

/* A copy of in with room bytes to spare. */
static uint8_t *copy_with_room(const sh_bytebuf *in, size_t room)
{
    uint8_t *p = malloc(in->len + room);
    assert_non_null(p);
    memcpy(p, in->data, in->len);
    return p;
}

static uint8_t *copy_of(const sh_bytebuf *in)
{
    return copy_with_room(in, ROOM);
}

/* The signature region of slice i as a cursor, asserting the file parses. */
static sh_cursor signature_of(const sh_macho_file *m, uint32_t i)
{
    sh_cursor sig;
    sh_error err;
    assert_int_equal(sh_macho_signature(&m->slices[i], &sig, &err), SH_E_OK);
    return sig;
}

/* The SuperBlob's own index is consistent: every blob inside length, after the index, and no
 * two overlapping (checked independently of the mutator's reader). */
static void assert_index_consistent(const sh_cursor *sig)
{
    uint32_t magic = 0, length = 0, count = 0;
    sh_cursor c = *sig;
    assert_true(sh_cursor_u32be(&c, &magic) && sh_cursor_u32be(&c, &length) &&
                sh_cursor_u32be(&c, &count));
    assert_true(length <= sig->len);
    uint64_t index_end = 12 + (uint64_t)count * 8, prev_end = index_end;
    for (uint32_t i = 0; i < count; i++) {
        uint32_t type = 0, off = 0, blob_len = 0;
        assert_true(sh_cursor_u32be(&c, &type) && sh_cursor_u32be(&c, &off));
        assert_true(sh_cursor_u32be_at(sig, (uint64_t)off + 4, &blob_len));
        assert_true(off >= prev_end); /* the writer lays blobs out in index order */
        assert_true((uint64_t)off + blob_len <= length);
        prev_end = (uint64_t)off + blob_len;
    }
    assert_true(prev_end == length);
}

static void detects_kinds(void **state)
{
    fixture *f = *state;
    assert_int_equal(sh_fm_detect(f->thin.data, f->thin.len), SH_FM_MACHO);
    assert_int_equal(sh_fm_detect(f->fat.data, f->fat.len), SH_FM_MACHO);
    sh_macho_file m;
    sh_error err;
    assert_int_equal(sh_macho_parse(f->thin.data, f->thin.len, NULL, &m, &err), SH_E_OK);
    sh_cursor sig = signature_of(&m, 0);
    assert_int_equal(sh_fm_detect(sig.p, sig.len), SH_FM_SUPERBLOB);
    sh_signature s;
    assert_int_equal(sh_signature_parse(&sig, &s, &err), SH_E_OK);
    assert_int_equal(sh_fm_detect(s.cds[0].blob.p, s.cds[0].blob.len), SH_FM_BLOB);
    sh_macho_free(&m);
    assert_int_equal(sh_fm_detect((const uint8_t *)"SHBUNDL1\0\0\0\0", 12), SH_FM_BUNDLE);
    assert_int_equal(sh_fm_detect((const uint8_t *)"hello world", 11), SH_FM_RAW);
    assert_int_equal(sh_fm_detect(NULL, 0), SH_FM_RAW);
}

static void deterministic_for_a_seed(void **state)
{
    fixture *f = *state;
    sh_fm_config c;
    sh_fm_config_init(&c);
    c.signers = &f->signers;
    unsigned differing_seeds = 0;
    for (uint64_t seed = 0; seed < 40; seed++) {
        uint8_t *a = copy_of(&f->thin), *b = copy_of(&f->thin);
        sh_fm_result ra, rb;
        size_t na = sh_fm_mutate(&c, a, f->thin.len, f->thin.len + ROOM, seed, &ra);
        size_t nb = sh_fm_mutate(&c, b, f->thin.len, f->thin.len + ROOM, seed, &rb);
        assert_int_equal(na, nb);
        assert_int_equal(ra.action, rb.action);
        assert_memory_equal(a, b, na);
        if (na != f->thin.len || memcmp(a, f->thin.data, na) != 0)
            differing_seeds++;
        free(a);
        free(b);
    }
    /* 20% are left to the byte mutator (unchanged here); most of the rest change the file */
    assert_true(differing_seeds >= 20);
}

static void byte_share_and_max_size(void **state)
{
    fixture *f = *state;
    sh_fm_config c;
    sh_fm_config_init(&c);
    c.byte_percent = 100;
    for (uint64_t seed = 0; seed < 20; seed++) {
        uint8_t *a = copy_of(&f->thin);
        sh_fm_result r;
        assert_int_equal(sh_fm_mutate(&c, a, f->thin.len, f->thin.len + ROOM, seed, &r),
                         f->thin.len);
        assert_int_equal(r.action, SH_FM_BYTES);
        assert_memory_equal(a, f->thin.data, f->thin.len);
        free(a);
    }
    c.byte_percent = 0;
    c.signers = &f->signers;
    for (uint64_t seed = 0; seed < 100; seed++) {
        uint8_t *a = copy_of(&f->fat);
        sh_fm_result r;
        /* no room to grow: anything larger must be refused */
        size_t n = sh_fm_mutate(&c, a, f->fat.len, f->fat.len, seed, &r);
        assert_true(n <= f->fat.len);
        assert_int_not_equal(r.action, SH_FM_BYTES);
        free(a);
    }
}

static void field_mutations_keep_the_size(void **state)
{
    fixture *f = *state;
    sh_fm_config c;
    sh_fm_config_init(&c);
    c.byte_percent = c.resign_percent = c.blob_percent = 0;
    unsigned changed = 0;
    bool saw_cd_field = false;
    for (uint64_t seed = 0; seed < 200; seed++) {
        uint8_t *a = copy_of(&f->thin);
        sh_fm_result r;
        assert_int_equal(sh_fm_mutate(&c, a, f->thin.len, f->thin.len + ROOM, seed, &r),
                         f->thin.len);
        assert_int_equal(r.action, SH_FM_FIELD);
        changed += memcmp(a, f->thin.data, f->thin.len) != 0;
        saw_cd_field |= strncmp(r.what, "cd.", 3) == 0;
        free(a);
    }
    assert_true(changed >= 180); /* a field can occasionally receive its own value */
    assert_true(saw_cd_field);   /* the walker reaches into the embedded CodeDirectory */
}

static void blob_rebuilds_keep_the_index_consistent(void **state)
{
    fixture *f = *state;
    sh_fm_config c;
    sh_fm_config_init(&c);
    c.byte_percent = c.resign_percent = 0;
    c.blob_percent = 100;
    unsigned rebuilt = 0;
    for (uint64_t seed = 0; seed < 100; seed++) {
        uint8_t *a = copy_of(&f->entitled);
        sh_fm_result r;
        size_t n = sh_fm_mutate(&c, a, f->entitled.len, f->entitled.len + ROOM, seed, &r);
        if (r.action == SH_FM_BLOBS) {
            rebuilt++;
            sh_macho_file m;
            sh_error err;
            assert_int_equal(sh_macho_parse(a, n, NULL, &m, &err), SH_E_OK);
            assert_int_equal(sh_macho_check_structure(&m, &err), SH_E_OK);
            sh_cursor sig = signature_of(&m, 0);
            assert_index_consistent(&sig);
            sh_macho_free(&m);
        }
        free(a);
    }
    assert_true(rebuilt >= 80);
}

static void resigning_verifies(void **state)
{
    fixture *f = *state;
    sh_fm_config c;
    sh_fm_config_init(&c);
    c.byte_percent = c.blob_percent = 0;
    c.resign_percent = 100;
    c.signers = &f->signers;
    unsigned clean = 0;
    for (uint64_t seed = 0; seed < 30; seed++) {
        uint8_t *a = copy_with_room(&f->fat, 8 * ROOM); /* CMS signatures are larger */
        sh_fm_result r;
        size_t n = sh_fm_mutate(&c, a, f->fat.len, f->fat.len + 8 * ROOM, seed, &r);
        if (r.action == SH_FM_RESIGN && strncmp(r.what, "resign.", 7) == 0) {
            /* not damaged afterwards: every page and special slot must verify */
            clean++;
            sh_macho_file m;
            sh_error err;
            assert_int_equal(sh_macho_parse(a, n, NULL, &m, &err), SH_E_OK);
            for (uint32_t i = 0; i < m.nslices; i++) {
                sh_cursor sig = signature_of(&m, i);
                sh_signature s;
                assert_int_equal(sh_signature_parse(&sig, &s, &err), SH_E_OK);
                assert_int_equal(sh_signature_check_special_slots(&s, &err), SH_E_OK);
                for (uint32_t k = 0; k < s.ncds; k++) {
                    sh_page_report rep;
                    assert_int_equal(sh_codedir_verify_pages(&s.cds[k], &m.slices[i].data, &rep,
                                                             &err),
                                     SH_E_OK);
                }
            }
            sh_macho_free(&m);
        }
        free(a);
    }
    assert_true(clean >= 10);
}

static void crossover_moves_blobs_between_signatures(void **state)
{
    fixture *f = *state;
    sh_fm_config c;
    sh_fm_config_init(&c);
    size_t max = f->thin.len + ROOM;
    uint8_t *out = malloc(max);
    assert_non_null(out);
    bool got_entitlements = false;
    for (uint64_t seed = 0; seed < 100 && !got_entitlements; seed++) {
        sh_fm_result r;
        size_t n = sh_fm_crossover(&c, f->thin.data, f->thin.len, f->entitled.data,
                                   f->entitled.len, out, max, seed, &r);
        assert_true(n <= max);
        if (r.action != SH_FM_BLOBS)
            continue;
        sh_macho_file m;
        sh_error err;
        assert_int_equal(sh_macho_parse(out, n, NULL, &m, &err), SH_E_OK);
        sh_cursor sig = signature_of(&m, 0);
        assert_index_consistent(&sig);
        sh_superblob sb;
        if (sh_superblob_parse(&sig, 0, &sb, &err) == SH_E_OK &&
            sh_superblob_find(&sb, SH_SLOT_ENTITLEMENTS))
            got_entitlements = true; /* the ad hoc file now carries the partner's blob */
        sh_macho_free(&m);
    }
    free(out);
    assert_true(got_entitlements);
}

static void allocation_failures_are_survived(void **state)
{
    fixture *f = *state;
    for (long k = 0; k < 8; k++) {
        failing_alloc fa;
        sh_allocator a = failing_alloc_start(&fa, k);
        sh_fm_config c;
        sh_fm_config_init(&c);
        c.alloc = &a;
        c.byte_percent = 0;
        for (uint64_t seed = 0; seed < 10; seed++) {
            uint8_t *buf = copy_of(&f->thin);
            sh_fm_result r;
            size_t n = sh_fm_mutate(&c, buf, f->thin.len, f->thin.len + ROOM, seed, &r);
            assert_true(n <= f->thin.len + ROOM);
            free(buf);
        }
        assert_int_equal(fa.live, 0);
    }
}

/* Truncated, bit-flipped and stacked mutations of real files: nothing reads or writes out of
 * bounds (ASan), sizes stay within max_size. */
static void hostile_inputs(void **state)
{
    fixture *f = *state;
    sh_fm_config c;
    sh_fm_config_init(&c);
    c.byte_percent = 0;
    sh_fm_rng rng = {7};
    size_t cap = f->fat.len + ROOM;
    uint8_t *buf = malloc(cap);
    assert_non_null(buf);
    for (unsigned round = 0; round < 300; round++) {
        const sh_bytebuf *src = round % 2 ? &f->fat : &f->entitled;
        size_t size = (size_t)sh_fm_rng_below(&rng, src->len + 1);
        memcpy(buf, src->data, size);
        for (unsigned step = 0; step < 6; step++) {
            sh_fm_result r;
            size = sh_fm_mutate(&c, buf, size, cap, sh_fm_rng_next(&rng), &r);
            assert_true(size <= cap);
            size = sh_fm_mutate_bytes(buf, size, cap, &rng);
            assert_true(size <= cap);
        }
    }
    free(buf);
}

/* nCodeSlots near 2^32: the walker's sampling step once wrapped its 32-bit index and looped
 * forever (found by fuzz_macho_structured). */
static void huge_code_slot_count_terminates(void **state)
{
    fixture *f = *state;
    sh_macho_file m;
    sh_error err;
    assert_int_equal(sh_macho_parse(f->thin.data, f->thin.len, NULL, &m, &err), SH_E_OK);
    sh_cursor sig = signature_of(&m, 0);
    sh_signature s;
    assert_int_equal(sh_signature_parse(&sig, &s, &err), SH_E_OK);
    uint64_t ncode_at = sh_cursor_pos(&s.cds[0].blob) + 28;
    sh_macho_free(&m);
    sh_fm_config c;
    sh_fm_config_init(&c);
    c.byte_percent = c.resign_percent = c.blob_percent = 0;
    uint8_t *a = copy_of(&f->thin);
    memset(a + ncode_at, 0xff, 4);
    sh_fm_result r;
    assert_int_equal(sh_fm_mutate(&c, a, f->thin.len, f->thin.len + ROOM, 1, &r), f->thin.len);
    assert_int_equal(r.action, SH_FM_FIELD);
    free(a);
}

/* Packed bundles: every edit leaves a tree that unpacks again, and edits do change it. */
static void bundle_edits_repack(void **state)
{
    fixture *f = *state;
    static const char info[] =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<plist version=\"1.0\">\n<dict>\n"
        "\t<key>CFBundleIdentifier</key>\n\t<string>com.example.app</string>\n"
        "\t<key>CFBundleExecutable</key>\n\t<string>app</string>\n</dict>\n</plist>\n";
    sh_bundle b;
    sh_error err;
    sh_bundle_init(&b, NULL);
    assert_int_equal(sh_bundle_put_file(&b, "Contents/Info.plist", (const uint8_t *)info,
                                        sizeof info - 1, 0644, &err),
                     SH_E_OK);
    assert_int_equal(sh_bundle_put_file(&b, "Contents/MacOS/app", f->thin.data, f->thin.len,
                                        0755, &err),
                     SH_E_OK);
    uint8_t *packed;
    size_t packed_len;
    assert_int_equal(sh_bundle_pack(&b, &packed, &packed_len, &err), SH_E_OK);
    sh_bundle_free(&b);
    sh_fm_config c;
    sh_fm_config_init(&c);
    c.byte_percent = 0;
    unsigned edited = 0, plist_edits = 0;
    size_t cap = packed_len + 16 * ROOM;
    uint8_t *buf = malloc(cap);
    assert_non_null(buf);
    for (uint64_t seed = 0; seed < 150; seed++) {
        memcpy(buf, packed, packed_len);
        sh_fm_result r;
        size_t n = sh_fm_mutate(&c, buf, packed_len, cap, seed, &r);
        assert_int_equal(r.kind, SH_FM_BUNDLE);
        if (r.action != SH_FM_BUNDLE_TREE)
            continue;
        edited++;
        plist_edits += strcmp(r.what, "bundle.plist_value") == 0;
        sh_bundle out;
        assert_int_equal(sh_bundle_unpack(buf, n, NULL, &out, &err), SH_E_OK);
        sh_bundle_free(&out);
    }
    free(buf);
    free(packed);
    assert_true(edited >= 100);
    assert_true(plist_edits >= 5);
}

/* On a real signed app + extension, a share of the mutations are semantic catalogue breakages
 * and plist edits re-signed inside out: inputs that get past the hash checks. */
static void bundle_catalogue_and_resign(void **state)
{
    (void)state;
    sh_fx_spec spec;
    sh_error err = {0};
    assert_int_equal(sh_fx_spec_parse((const uint8_t *)sh_fx_builtin_spec,
                                      strlen(sh_fx_builtin_spec), NULL, &spec, &err),
                     SH_E_OK);
    sh_fx_built built;
    char why[256];
    assert_true(sh_fx_build(&spec.bundles[0], NULL, NULL, &built, why, sizeof why));
    uint8_t *packed;
    size_t packed_len;
    assert_int_equal(sh_bundle_pack(&built.bundle, &packed, &packed_len, &err), SH_E_OK);
    sh_fx_built_free(&built);
    sh_fx_spec_free(&spec);
    sh_fm_config c;
    sh_fm_config_init(&c);
    c.byte_percent = 0;
    c.bundle_resign_percent = 100; /* only the re-signing edits (the others: bundle_edits_repack) */
    size_t cap = 2 * packed_len + 16 * ROOM;
    uint8_t *buf = malloc(cap);
    assert_non_null(buf);
    unsigned catalogue = 0, resigned = 0;
    for (uint64_t seed = 0; seed < 48; seed++) {
        memcpy(buf, packed, packed_len);
        sh_fm_result r;
        size_t n = sh_fm_mutate(&c, buf, packed_len, cap, seed, &r);
        if (r.action != SH_FM_BUNDLE_TREE)
            continue;
        catalogue += strcmp(r.what, "bundle.catalogue") == 0;
        resigned += strcmp(r.what, "bundle.edit_resign") == 0;
        sh_bundle out;
        assert_int_equal(sh_bundle_unpack(buf, n, NULL, &out, &err), SH_E_OK);
        sh_bundle_free(&out);
    }
    free(buf);
    free(packed);
    assert_true(catalogue >= 5);
    assert_true(resigned >= 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(detects_kinds),
        cmocka_unit_test(deterministic_for_a_seed),
        cmocka_unit_test(byte_share_and_max_size),
        cmocka_unit_test(field_mutations_keep_the_size),
        cmocka_unit_test(blob_rebuilds_keep_the_index_consistent),
        cmocka_unit_test(resigning_verifies),
        cmocka_unit_test(crossover_moves_blobs_between_signatures),
        cmocka_unit_test(allocation_failures_are_survived),
        cmocka_unit_test(hostile_inputs),
        cmocka_unit_test(huge_code_slot_count_terminates),
        cmocka_unit_test(bundle_edits_repack),
        cmocka_unit_test(bundle_catalogue_and_resign),
    };
    return cmocka_run_group_tests_name("fuzz_mutator", tests, setup, teardown);
}
