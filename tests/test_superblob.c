/* SuperBlob: index decoding, lookup, names, padding, ordering, requirement sets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sig_builder.h"
#include "superblob.h"

#define SIG_BASE 0x8000u

typedef struct parsed_sb {
    uint8_t *copy;
    sh_superblob sb;
    sh_error err;
    sh_err result;
} parsed_sb;

/* Parses an exactly sized copy of b followed by `padding` zero bytes. */
static parsed_sb parse_padded(const sig_buf *b, size_t padding, uint32_t expected_magic)
{
    parsed_sb p = {0};
    uint8_t *tmp = calloc(1, b->len + padding + 1);
    assert_non_null(tmp);
    memcpy(tmp, b->data, b->len);
    p.copy = sig_exact_copy(tmp, b->len + padding);
    free(tmp);
    sh_cursor c = sh_cursor_make(p.copy, b->len + padding);
    c.base = SIG_BASE;
    p.result = sh_superblob_parse(&c, expected_magic, &p.sb, &p.err);
    return p;
}

static void embedded_signature_entries(void **state)
{
    (void)state;
    uint8_t code[100];
    sig_fill_code(code, sizeof code, 1);
    sig_cd_spec s;
    sig_cd_defaults(&s, 0x20400, 2, code, sizeof code);
    sig_buf cd = sig_build_cd(&s, NULL);
    sig_buf req = sig_blob(SH_MAGIC_REQUIREMENTS, "\0\0\0\0", 4);
    sig_buf ent = sig_blob(SH_MAGIC_EMBEDDED_ENTITLEMENTS, "<plist/>", 8);
    sig_buf der = sig_blob(SH_MAGIC_EMBEDDED_DER_ENTITLEMENTS, "\x70\x00", 2);
    sig_buf lc = sig_blob(SH_MAGIC_EMBEDDED_LAUNCH_CONSTRAINT, "\x30\x00", 2);
    sig_buf cms = sig_blob(SH_MAGIC_BLOBWRAPPER, "", 0);
    sig_buf odd = sig_blob(0x12345678, "??", 2);
    sig_entry entries[] = {{0, &cd}, {2, &req}, {5, &ent}, {7, &der}, {8, &lc}, {0x1000, &cd},
                           {0x10000, &cms}, {0x10001, &odd}, {0x20000, NULL}};
    uint32_t offsets[9]; /* the builder copies each blob, so cd appears twice, apart */
    sig_buf sig = sig_build_superblob(SH_MAGIC_EMBEDDED_SIGNATURE, entries, 9, offsets);

    parsed_sb p = parse_padded(&sig, 37, SH_MAGIC_EMBEDDED_SIGNATURE);
    assert_int_equal(p.result, SH_E_OK);
    assert_int_equal(p.sb.magic, SH_MAGIC_EMBEDDED_SIGNATURE);
    assert_int_equal(p.sb.length, sig.len);
    assert_int_equal(p.sb.count, 9);
    assert_true(p.sb.trailing == 37);
    assert_false(p.sb.out_of_order);
    assert_int_equal(p.sb.blob.base, SIG_BASE);
    assert_int_equal(p.sb.blob.len, sig.len);
    for (uint32_t i = 0; i < 9; i++) {
        const sh_blob_entry *e = &p.sb.entries[i];
        assert_int_equal(e->type, entries[i].type);
        assert_int_equal(e->offset, offsets[i]);
        assert_int_equal(e->present, entries[i].blob != NULL);
        if (!e->present)
            continue;
        assert_int_equal(e->length, entries[i].blob->len);
        assert_int_equal(e->magic, sig_get_u32(entries[i].blob, 0));
        assert_int_equal(e->blob.base, SIG_BASE + offsets[i]);
        assert_int_equal(e->blob.len, e->length);
        assert_memory_equal(e->blob.p, entries[i].blob->data, e->length);
    }
    assert_ptr_equal(sh_superblob_find(&p.sb, 5), &p.sb.entries[2]);
    assert_ptr_equal(sh_superblob_find(&p.sb, 0x10001), &p.sb.entries[7]); /* unknown kept */
    assert_null(sh_superblob_find(&p.sb, 0x20000));                       /* absent */
    assert_null(sh_superblob_find(&p.sb, 3));
    free(p.copy);

    /* Any SuperBlob magic is accepted when none is asked for. */
    p = parse_padded(&sig, 0, 0);
    assert_int_equal(p.result, SH_E_OK);
    assert_true(p.sb.trailing == 0);
    free(p.copy);
    /* ... but not a different one when one is asked for. */
    p = parse_padded(&sig, 0, SH_MAGIC_REQUIREMENTS);
    assert_int_equal(p.result, SH_E_BLOB_BAD_MAGIC);
    assert_int_equal(p.err.offset, SIG_BASE);
    free(p.copy);

    sig_buf bufs[] = {sig, cd, req, ent, der, lc, cms, odd};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++)
        sig_buf_free(&bufs[i]);
}

static void out_of_order_is_only_flagged(void **state)
{
    (void)state;
    sig_buf req = sig_blob(SH_MAGIC_REQUIREMENTS, "\0\0\0\0", 4);
    sig_buf ent = sig_blob(SH_MAGIC_EMBEDDED_ENTITLEMENTS, "x", 1);
    sig_entry entries[] = {{5, &ent}, {2, &req}};
    sig_buf sig = sig_build_superblob(SH_MAGIC_EMBEDDED_SIGNATURE, entries, 2, NULL);
    parsed_sb p = parse_padded(&sig, 0, SH_MAGIC_EMBEDDED_SIGNATURE);
    assert_int_equal(p.result, SH_E_OK);
    assert_true(p.sb.out_of_order);
    assert_non_null(sh_superblob_find(&p.sb, 2));
    free(p.copy);
    sig_buf_free(&sig);
    sig_buf_free(&req);
    sig_buf_free(&ent);
}

static void requirement_set_holds_requirements(void **state)
{
    (void)state;
    sig_buf r1 = sig_blob(SH_MAGIC_REQUIREMENT, "\0\0\0\1\0\0\0\1", 8);
    sig_entry entries[] = {{3, &r1}};
    sig_buf set = sig_build_superblob(SH_MAGIC_REQUIREMENTS, entries, 1, NULL);
    parsed_sb p = parse_padded(&set, 0, SH_MAGIC_REQUIREMENTS);
    assert_int_equal(p.result, SH_E_OK);
    assert_int_equal(p.sb.count, 1);
    assert_int_equal(p.sb.entries[0].type, 3); /* designated requirement */
    free(p.copy);
    sig_buf_free(&set);

    /* In a requirement set, slot numbers are requirement types: type 5 (plugin) is not the
     * entitlements slot, and every blob must be a Requirement. */
    sig_buf ent = sig_blob(SH_MAGIC_EMBEDDED_ENTITLEMENTS, "x", 1);
    sig_entry bad[] = {{5, &ent}};
    set = sig_build_superblob(SH_MAGIC_REQUIREMENTS, bad, 1, NULL);
    p = parse_padded(&set, 0, SH_MAGIC_REQUIREMENTS);
    assert_int_equal(p.result, SH_E_BLOB_BAD_MAGIC);
    assert_string_equal(p.err.where, "BlobIndex");
    assert_int_equal(p.err.index, 0);
    free(p.copy);
    sig_buf_free(&set);

    /* The empty set (count 0) that codesign writes for ad-hoc code. */
    set = sig_build_superblob(SH_MAGIC_REQUIREMENTS, NULL, 0, NULL);
    assert_int_equal(set.len, 12);
    p = parse_padded(&set, 0, SH_MAGIC_REQUIREMENTS);
    assert_int_equal(p.result, SH_E_OK);
    assert_int_equal(p.sb.count, 0);
    free(p.copy);
    sig_buf_free(&set);
    sig_buf_free(&ent);
    sig_buf_free(&r1);
}

static void blob_view_reads_the_generic_header(void **state)
{
    (void)state;
    sig_buf b = sig_blob(0xfade7171, "abc", 3);
    uint8_t *copy = sig_exact_copy(b.data, b.len);
    sh_cursor c = sh_cursor_make(copy, b.len);
    c.base = 0x30;
    uint32_t magic;
    sh_cursor view;
    sh_error err;
    assert_int_equal(sh_blob_view(&c, "blob", &magic, &view, &err), SH_E_OK);
    assert_int_equal(magic, 0xfade7171);
    assert_int_equal(view.len, 11);
    assert_int_equal(view.base, 0x30);
    c.len = 10;
    assert_int_equal(sh_blob_view(&c, "blob", &magic, &view, &err), SH_E_BLOB_TRUNCATED);
    assert_string_equal(err.where, "blob");
    assert_int_equal(err.offset, 0x30);
    c.len = 7;
    assert_int_equal(sh_blob_view(&c, "blob", &magic, &view, &err), SH_E_BLOB_TRUNCATED);
    free(copy);
    sig_set_u32(&b, 4, 7);
    copy = sig_exact_copy(b.data, b.len);
    c = sh_cursor_make(copy, b.len);
    assert_int_equal(sh_blob_view(&c, "blob", &magic, &view, &err), SH_E_BLOB_BAD_LENGTH);
    assert_true(err.has_value && err.value == 7);
    free(copy);
    sig_buf_free(&b);
}

/* Errors name the BlobIndex entry and an absolute offset (the signature sits at SIG_BASE). */
static void errors_carry_absolute_offsets(void **state)
{
    (void)state;
    sig_buf req = sig_blob(SH_MAGIC_REQUIREMENTS, "\0\0\0\0", 4);
    sig_buf ent = sig_blob(SH_MAGIC_EMBEDDED_ENTITLEMENTS, "x", 1);
    sig_entry entries[] = {{2, &req}, {5, &ent}};
    uint32_t offsets[2];
    sig_buf sig = sig_build_superblob(SH_MAGIC_EMBEDDED_SIGNATURE, entries, 2, offsets);

    sig_set_u32(&sig, 12 + 8 + 4, 16); /* entry 1 points into the index */
    parsed_sb p = parse_padded(&sig, 0, 0);
    assert_int_equal(p.result, SH_E_SUPERBLOB_INDEX_OVERLAP);
    assert_string_equal(p.err.where, "BlobIndex");
    assert_int_equal(p.err.index, 1);
    assert_int_equal(p.err.offset, SIG_BASE + 12 + 8);
    assert_true(p.err.has_value && p.err.value == 16);
    assert_int_equal(sh_superblob_index_offset(&p.sb, 1), SIG_BASE + 20);
    free(p.copy);

    sig_set_u32(&sig, 12 + 8 + 4, offsets[1]);
    sig_set_u32(&sig, offsets[1], SH_MAGIC_REQUIREMENTS); /* entitlements slot, wrong magic */
    p = parse_padded(&sig, 0, 0);
    assert_int_equal(p.result, SH_E_BLOB_BAD_MAGIC);
    assert_int_equal(p.err.index, 1);
    assert_int_equal(p.err.offset, SIG_BASE + offsets[1]);
    assert_true(p.err.value == SH_MAGIC_REQUIREMENTS);
    free(p.copy);

    sig_set_u32(&sig, offsets[1], SH_MAGIC_EMBEDDED_ENTITLEMENTS);
    sig_set_u32(&sig, 12, 5); /* both entries are slot 5 now */
    p = parse_padded(&sig, 0, 0);
    assert_int_equal(p.result, SH_E_BLOB_BAD_MAGIC); /* requirements blob in slot 5 */
    free(p.copy);
    sig_set_u32(&sig, offsets[0], SH_MAGIC_EMBEDDED_ENTITLEMENTS);
    p = parse_padded(&sig, 0, 0);
    assert_int_equal(p.result, SH_E_SUPERBLOB_DUPLICATE_TYPE);
    assert_int_equal(p.err.index, 1);
    assert_int_equal(p.err.offset, SIG_BASE + 20);
    free(p.copy);

    sig_set_u32(&sig, 12, 0x10001);
    sig_set_u32(&sig, 12 + 4, offsets[1]); /* both entries at the same bytes */
    p = parse_padded(&sig, 0, 0);
    assert_int_equal(p.result, SH_E_SUPERBLOB_BLOBS_OVERLAP);
    assert_int_equal(p.err.index, 1);
    assert_int_equal(p.err.offset, SIG_BASE + offsets[1]);
    free(p.copy);

    sig_buf_free(&sig);
    sig_buf_free(&req);
    sig_buf_free(&ent);
}

static void names_and_expected_magics(void **state)
{
    (void)state;
    assert_string_equal(sh_slot_name(0), "CodeDirectory");
    assert_string_equal(sh_slot_name(1), "Info.plist");
    assert_string_equal(sh_slot_name(2), "Requirements");
    assert_string_equal(sh_slot_name(3), "CodeResources");
    assert_string_equal(sh_slot_name(4), "Application");
    assert_string_equal(sh_slot_name(5), "Entitlements");
    assert_string_equal(sh_slot_name(6), "RepSpecific");
    assert_string_equal(sh_slot_name(7), "EntitlementsDER");
    assert_string_equal(sh_slot_name(8), "LaunchConstraintSelf");
    assert_string_equal(sh_slot_name(9), "LaunchConstraintParent");
    assert_string_equal(sh_slot_name(10), "LaunchConstraintResponsible");
    assert_string_equal(sh_slot_name(11), "LibraryConstraint");
    assert_string_equal(sh_slot_name(0x1000), "AlternateCodeDirectory0");
    assert_string_equal(sh_slot_name(0x1004), "AlternateCodeDirectory4");
    assert_string_equal(sh_slot_name(0x1005), "unknown");
    assert_string_equal(sh_slot_name(0x10000), "Signature");
    assert_string_equal(sh_slot_name(0x10001), "Identification");
    assert_string_equal(sh_slot_name(0x10002), "Ticket");
    assert_string_equal(sh_slot_name(12), "unknown");

    assert_string_equal(sh_blob_magic_name(0xfade0c00), "Requirement");
    assert_string_equal(sh_blob_magic_name(0xfade0c01), "Requirements");
    assert_string_equal(sh_blob_magic_name(0xfade0c02), "CodeDirectory");
    assert_string_equal(sh_blob_magic_name(0xfade0cc0), "EmbeddedSignature");
    assert_string_equal(sh_blob_magic_name(0xfade0b02), "EmbeddedSignatureOld");
    assert_string_equal(sh_blob_magic_name(0xfade0cc1), "DetachedSignature");
    assert_string_equal(sh_blob_magic_name(0xfade0b01), "BlobWrapper");
    assert_string_equal(sh_blob_magic_name(0xfade7171), "Entitlements");
    assert_string_equal(sh_blob_magic_name(0xfade7172), "EntitlementsDER");
    assert_string_equal(sh_blob_magic_name(0xfade8181), "LaunchConstraint");
    assert_string_equal(sh_blob_magic_name(0xfade0000), "unknown");

    assert_int_equal(sh_slot_expected_magic(0), SH_MAGIC_CODEDIRECTORY);
    for (uint32_t s = 0x1000; s <= 0x1004; s++)
        assert_int_equal(sh_slot_expected_magic(s), SH_MAGIC_CODEDIRECTORY);
    assert_int_equal(sh_slot_expected_magic(2), SH_MAGIC_REQUIREMENTS);
    assert_int_equal(sh_slot_expected_magic(5), SH_MAGIC_EMBEDDED_ENTITLEMENTS);
    assert_int_equal(sh_slot_expected_magic(7), SH_MAGIC_EMBEDDED_DER_ENTITLEMENTS);
    for (uint32_t s = 8; s <= 11; s++)
        assert_int_equal(sh_slot_expected_magic(s), SH_MAGIC_EMBEDDED_LAUNCH_CONSTRAINT);
    assert_int_equal(sh_slot_expected_magic(0x10000), SH_MAGIC_BLOBWRAPPER);
    assert_int_equal(sh_slot_expected_magic(1), 0);
    assert_int_equal(sh_slot_expected_magic(3), 0);
    assert_int_equal(sh_slot_expected_magic(0x1005), 0);
    assert_int_equal(sh_slot_expected_magic(0x10002), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(embedded_signature_entries),
        cmocka_unit_test(out_of_order_is_only_flagged),
        cmocka_unit_test(requirement_set_holds_requirements),
        cmocka_unit_test(blob_view_reads_the_generic_header),
        cmocka_unit_test(errors_carry_absolute_offsets),
        cmocka_unit_test(names_and_expected_magics),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
