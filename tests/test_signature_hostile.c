/* Malformed signatures, table-driven: each case builds one hostile embedded signature and names
 * the exact error it must produce, at the stage where it must appear (parse, special slots, code
 * pages).  Every input is parsed from an exactly sized heap copy so ASan sees any over-read. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sig_builder.h"
#include "signature.h"

#define CODE_LEN (3 * 4096 + 100) /* four pages, the last one partial */
#define SIG_BASE 0x10000u         /* absolute offset of the signature in the "file" */
#define ANY_INDEX INT64_MIN

/* CodeDirectory header fields (offsets from the CD start). */
enum {
    CD_LENGTH = 0x04, CD_VERSION = 0x08, CD_HASH_OFFSET = 0x10, CD_IDENT_OFFSET = 0x14,
    CD_N_SPECIAL = 0x18, CD_N_CODE = 0x1C, CD_CODE_LIMIT = 0x20, CD_HASH_SIZE = 0x24,
    CD_HASH_TYPE = 0x25, CD_PAGE_SHIFT = 0x27, CD_SCATTER = 0x2C, CD_TEAM = 0x30,
    CD_CODE_LIMIT64 = 0x38, CD_LINKAGE_OFFSET = 0x64, CD_LINKAGE_SIZE = 0x68,
};

/* ---- the standard signature the cases start from ---- */

typedef struct built {
    sig_buf sig;
    uint32_t offsets[8]; /* of each entry inside the SuperBlob */
    sig_cd_layout layout;  /* of the primary CD */
} built;

typedef void (*spec_tweak)(sig_cd_spec *s);

/* CD (v0x20400, SHA-256, seals requirements and entitlements, nSpecialSlots 5), requirements,
 * entitlements, CMS wrapper: entries 0..3 in slot order. */
static built standard_with(const uint8_t *code, spec_tweak tweak)
{
    built b = {0};
    sig_buf req = sig_blob(0xfade0c01, "\0\0\0\x0c\0\0\0\0", 8);
    sig_buf ent = sig_blob(0xfade7171, "<plist><dict/></plist>", 22);
    sig_buf cms = sig_blob(0xfade0b01, "\x30\x80", 2);
    sig_cd_spec s;
    sig_cd_defaults(&s, 0x20400, 2, code, CODE_LEN);
    s.team_id = "TEAMID1234";
    sig_cd_seal(&s, 2, &req);
    sig_cd_seal(&s, 5, &ent);
    if (tweak)
        tweak(&s);
    sig_buf cd = sig_build_cd(&s, &b.layout);
    sig_entry entries[] = {{0, &cd}, {2, &req}, {5, &ent}, {0x10000, &cms}};
    b.sig = sig_build_superblob(0xfade0cc0, entries, 4, b.offsets);
    sig_buf_free(&cd);
    sig_buf_free(&req);
    sig_buf_free(&ent);
    sig_buf_free(&cms);
    return b;
}

static built standard(const uint8_t *code) { return standard_with(code, NULL); }

static size_t entry_pos(uint32_t i) { return 12 + 8 * (size_t)i; }

static sig_buf cd_u32(const uint8_t *code, size_t field, uint32_t value)
{
    built b = standard(code);
    sig_set_u32(&b.sig, b.offsets[0] + field, value);
    return b.sig;
}

static sig_buf cd_u8(const uint8_t *code, size_t field, uint8_t value)
{
    built b = standard(code);
    sig_set_u8(&b.sig, b.offsets[0] + field, value);
    return b.sig;
}

/* A SuperBlob holding just these blobs. */
static sig_buf wrap(const sig_entry *entries, size_t n)
{
    return sig_build_superblob(0xfade0cc0, entries, n, NULL);
}

static sig_buf wrap_cd_spec(const sig_cd_spec *s)
{
    sig_buf cd = sig_build_cd(s, NULL);
    sig_entry e[] = {{0, &cd}};
    sig_buf sig = wrap(e, 1);
    sig_buf_free(&cd);
    return sig;
}

/* Primary SHA-1 CD plus a SHA-256 alternate in 0x1000 (codesign's dual signature), with the
 * alternate's spec tweaked. */
static sig_buf dual_with(const uint8_t *code, spec_tweak alternate_tweak)
{
    sig_cd_spec s1, s2;
    sig_cd_defaults(&s1, 0x20400, 1, code, CODE_LEN);
    sig_cd_defaults(&s2, 0x20400, 2, code, CODE_LEN);
    if (alternate_tweak)
        alternate_tweak(&s2);
    sig_buf cd1 = sig_build_cd(&s1, NULL), cd2 = sig_build_cd(&s2, NULL);
    sig_entry e[] = {{0, &cd1}, {0x1000, &cd2}};
    sig_buf sig = wrap(e, 2);
    sig_buf_free(&cd1);
    sig_buf_free(&cd2);
    return sig;
}

/* ---- cases: SuperBlob ---- */

typedef sig_buf (*case_fn)(uint8_t *code, size_t *code_len);

static sig_buf sb_bad_magic(uint8_t *code, size_t *len)
{
    (void)len;
    built b = standard(code);
    sig_set_u32(&b.sig, 0, 0xfade0c01); /* a requirement set where a signature belongs */
    return b.sig;
}

static sig_buf sb_length_below_header(uint8_t *code, size_t *len)
{
    (void)len;
    built b = standard(code);
    sig_set_u32(&b.sig, 4, 8);
    return b.sig;
}

/* count * 8 wraps to 0 in 32-bit arithmetic: the index would look empty. */
static sig_buf sb_count_wraps(uint8_t *code, size_t *len)
{
    (void)len;
    built b = standard(code);
    sig_set_u32(&b.sig, 8, 0x20000000);
    return b.sig;
}

/* One entry more than SH_MAX_SUPERBLOB_BLOBS, all well formed (unknown slots). */
static sig_buf sb_count_over_limit(uint8_t *code, size_t *len)
{
    (void)len;
    enum { N = SH_MAX_SUPERBLOB_BLOBS + 1 };
    sig_cd_spec s;
    sig_cd_defaults(&s, 0x20400, 2, code, CODE_LEN);
    sig_buf cd = sig_build_cd(&s, NULL);
    sig_buf filler = sig_blob(0xfade9999, "", 0);
    sig_entry e[N];
    e[0].type = 0;
    e[0].blob = &cd;
    for (uint32_t i = 1; i < N; i++) {
        e[i].type = 0x20000 + i;
        e[i].blob = &filler;
    }
    sig_buf sig = wrap(e, N);
    sig_buf_free(&cd);
    sig_buf_free(&filler);
    return sig;
}

static sig_buf sb_index_past_length(uint8_t *code, size_t *len)
{
    (void)len;
    built b = standard(code);
    sig_set_u32(&b.sig, 8, (uint32_t)(b.sig.len / 8)); /* 12 + count * 8 > length */
    return b.sig;
}

static sig_buf sb_offset_inside_index(uint8_t *code, size_t *len)
{
    (void)len;
    built b = standard(code);
    sig_set_u32(&b.sig, entry_pos(1) + 4, (uint32_t)entry_pos(2));
    return b.sig;
}

static sig_buf sb_offset_inside_header(uint8_t *code, size_t *len)
{
    (void)len;
    built b = standard(code);
    sig_set_u32(&b.sig, entry_pos(2) + 4, 4);
    return b.sig;
}

static sig_buf sb_header_past_end(uint8_t *code, size_t *len)
{
    (void)len;
    built b = standard(code);
    sig_set_u32(&b.sig, entry_pos(3) + 4, (uint32_t)b.sig.len - 4); /* offset + 8 > length */
    return b.sig;
}

/* The last blob claims 0xfffffff8 bytes: offset + length wraps in 32 bits. */
static sig_buf sb_offset_plus_length_overflows(uint8_t *code, size_t *len)
{
    (void)len;
    built b = standard(code);
    sig_set_u32(&b.sig, b.offsets[3] + 4, 0xfffffff8);
    return b.sig;
}

static sig_buf sb_blob_past_end(uint8_t *code, size_t *len)
{
    (void)len;
    built b = standard(code);
    sig_set_u32(&b.sig, b.offsets[3] + 4, sig_get_u32(&b.sig, b.offsets[3] + 4) + 1);
    return b.sig;
}

static sig_buf sb_blob_length_below_header(uint8_t *code, size_t *len)
{
    (void)len;
    built b = standard(code);
    sig_set_u32(&b.sig, b.offsets[2] + 4, 4);
    return b.sig;
}

/* An unknown slot (any magic allowed) pointing inside the entitlements blob, whose payload
 * happens to start with a well-formed blob header. */
static sig_buf sb_blobs_overlap(uint8_t *code, size_t *len)
{
    (void)len;
    static const uint8_t inner[] = {0xfa, 0xde, 0x99, 0x99, 0, 0, 0, 9, 'x'};
    sig_cd_spec s;
    sig_cd_defaults(&s, 0x20400, 2, code, CODE_LEN);
    sig_buf ent = sig_blob(0xfade7171, inner, sizeof inner);
    sig_buf other = sig_blob(0xfade9999, "x", 1);
    sig_cd_seal(&s, 5, &ent);
    sig_buf cd = sig_build_cd(&s, NULL);
    sig_entry e[] = {{0, &cd}, {5, &ent}, {0x10001, &other}};
    uint32_t offsets[3];
    sig_buf sig = sig_build_superblob(0xfade0cc0, e, 3, offsets);
    sig_set_u32(&sig, entry_pos(2) + 4, offsets[1] + 8);
    sig_buf_free(&cd);
    sig_buf_free(&ent);
    sig_buf_free(&other);
    return sig;
}

static sig_buf sb_duplicate_types(uint8_t *code, size_t *len)
{
    (void)len;
    sig_cd_spec s;
    sig_cd_defaults(&s, 0x20400, 2, code, CODE_LEN);
    sig_buf ent = sig_blob(0xfade7171, "<plist/>", 8);
    sig_buf cd = sig_build_cd(&s, NULL);
    sig_entry e[] = {{0, &cd}, {5, &ent}, {5, &ent}};
    sig_buf sig = wrap(e, 3);
    sig_buf_free(&cd);
    sig_buf_free(&ent);
    return sig;
}

static sig_buf sb_wrong_magic_for_slot(uint8_t *code, size_t *len)
{
    (void)len;
    built b = standard(code);
    sig_set_u32(&b.sig, entry_pos(2), 2); /* entitlements blob in the requirements slot... */
    sig_set_u32(&b.sig, entry_pos(1), 5); /* ...and requirements in the entitlements slot */
    return b.sig;
}

static sig_buf sb_cms_slot_wrong_magic(uint8_t *code, size_t *len)
{
    (void)len;
    built b = standard(code);
    sig_set_u32(&b.sig, b.offsets[3], 0xfade0c00);
    return b.sig;
}

static sig_buf sb_cd_slot_wrong_magic(uint8_t *code, size_t *len)
{
    (void)len;
    built b = standard(code);
    sig_set_u32(&b.sig, b.offsets[0], 0xfade0c03);
    return b.sig;
}

static sig_buf sb_no_cd_in_slot0(uint8_t *code, size_t *len)
{
    (void)len;
    sig_cd_spec s;
    sig_cd_defaults(&s, 0x20400, 2, code, CODE_LEN);
    sig_buf cd = sig_build_cd(&s, NULL);
    sig_buf req = sig_blob(0xfade0c01, "\0\0\0\0", 4);
    sig_entry e[] = {{2, &req}, {0x1000, &cd}};
    sig_buf sig = wrap(e, 2);
    sig_buf_free(&cd);
    sig_buf_free(&req);
    return sig;
}

static sig_buf sb_slot0_absent(uint8_t *code, size_t *len)
{
    (void)len;
    built b = standard(code);
    sig_set_u32(&b.sig, entry_pos(0) + 4, 0); /* offset 0: the entry says "absent" */
    return b.sig;
}

static sig_buf sb_sixth_alternate(uint8_t *code, size_t *len)
{
    (void)len;
    sig_buf cds[7];
    sig_entry e[7];
    static const unsigned types[] = {1, 2, 3, 4, 1, 2, 3};
    for (int i = 0; i < 7; i++) {
        sig_cd_spec s;
        sig_cd_defaults(&s, 0x20400, types[i], code, CODE_LEN);
        cds[i] = sig_build_cd(&s, NULL);
        e[i].type = i == 0 ? 0 : 0x1000u + (uint32_t)i - 1; /* 0, 0x1000 .. 0x1005 */
        e[i].blob = &cds[i];
    }
    sig_buf sig = wrap(e, 7);
    for (int i = 0; i < 7; i++)
        sig_buf_free(&cds[i]);
    return sig;
}

/* ---- cases: CodeDirectory ---- */

static sig_buf cd_length_below_header(uint8_t *code, size_t *len)
{
    (void)len;
    return cd_u32(code, CD_LENGTH, 0x40); /* v0x20400 needs 0x58 */
}

static sig_buf cd_only_blob_header(uint8_t *code, size_t *len)
{
    (void)len;
    return cd_u32(code, CD_LENGTH, 8);
}

static sig_buf cd_version_20000(uint8_t *code, size_t *len)
{
    (void)len;
    return cd_u32(code, CD_VERSION, 0x20000);
}

static sig_buf cd_version_30000(uint8_t *code, size_t *len)
{
    (void)len;
    return cd_u32(code, CD_VERSION, 0x30000);
}

static sig_buf cd_hash_type_0(uint8_t *code, size_t *len)
{
    (void)len;
    return cd_u8(code, CD_HASH_TYPE, 0);
}

static sig_buf cd_hash_type_5(uint8_t *code, size_t *len)
{
    (void)len;
    return cd_u8(code, CD_HASH_TYPE, 5); /* SHA-512: named by CSCommon.h, refused by the kernel */
}

static sig_buf cd_hash_type_99(uint8_t *code, size_t *len)
{
    (void)len;
    return cd_u8(code, CD_HASH_TYPE, 99);
}

static sig_buf cd_hash_size_mismatch(uint8_t *code, size_t *len)
{
    (void)len;
    return cd_u8(code, CD_HASH_SIZE, 20); /* SHA-256 with SHA-1's size */
}

static sig_buf cd_page_shift_31(uint8_t *code, size_t *len)
{
    (void)len;
    return cd_u8(code, CD_PAGE_SHIFT, 31);
}

/* identOffset at the last byte, which is not NUL: the string runs to the end of the blob. */
static sig_buf cd_ident_without_nul(uint8_t *code, size_t *len)
{
    (void)len;
    built b = standard(code);
    size_t last = b.layout.length - 1;
    sig_set_u32(&b.sig, b.offsets[0] + CD_IDENT_OFFSET, (uint32_t)last);
    sig_set_u8(&b.sig, b.offsets[0] + last, 0xAA);
    return b.sig;
}

static sig_buf cd_ident_past_blob(uint8_t *code, size_t *len)
{
    (void)len;
    built b = standard(code);
    sig_set_u32(&b.sig, b.offsets[0] + CD_IDENT_OFFSET, (uint32_t)b.layout.length + 1);
    return b.sig;
}

static sig_buf cd_ident_too_long(uint8_t *code, size_t *len)
{
    (void)len;
    char *ident = malloc(SH_MAX_IDENTIFIER_LEN + 2);
    assert_non_null(ident);
    memset(ident, 'a', SH_MAX_IDENTIFIER_LEN + 1);
    ident[SH_MAX_IDENTIFIER_LEN + 1] = '\0';
    sig_cd_spec s;
    sig_cd_defaults(&s, 0x20400, 2, code, CODE_LEN);
    s.identifier = ident;
    sig_buf sig = wrap_cd_spec(&s);
    free(ident);
    return sig;
}

static sig_buf cd_team_past_blob(uint8_t *code, size_t *len)
{
    (void)len;
    built b = standard(code);
    sig_set_u32(&b.sig, b.offsets[0] + CD_TEAM, 0xfffffff0);
    return b.sig;
}

static sig_buf cd_team_without_nul(uint8_t *code, size_t *len)
{
    (void)len;
    built b = standard(code);
    size_t last = b.layout.length - 1;
    sig_set_u32(&b.sig, b.offsets[0] + CD_TEAM, (uint32_t)last);
    sig_set_u8(&b.sig, b.offsets[0] + last, 0x41);
    return b.sig;
}

static sig_buf cd_hash_offset_outside(uint8_t *code, size_t *len)
{
    (void)len;
    built b = standard(code);
    sig_set_u32(&b.sig, b.offsets[0] + CD_HASH_OFFSET, (uint32_t)b.layout.length + 64);
    return b.sig;
}

/* hashOffset + nCodeSlots * hashSize wraps past 2^32. */
static sig_buf cd_hash_offset_wraps(uint8_t *code, size_t *len)
{
    (void)len;
    return cd_u32(code, CD_HASH_OFFSET, 0xffffffe0);
}

/* 5 special slots * 32 bytes reach below the blob start (hashOffset - 160 < 0). */
static sig_buf cd_special_underflow(uint8_t *code, size_t *len)
{
    (void)len;
    return cd_u32(code, CD_HASH_OFFSET, 0x20);
}

static sig_buf cd_too_many_special(uint8_t *code, size_t *len)
{
    (void)len;
    return cd_u32(code, CD_N_SPECIAL, 0xffffffff);
}

/* nCodeSlots * 32 is 0 in 32-bit arithmetic. */
static sig_buf cd_code_slots_overflow(uint8_t *code, size_t *len)
{
    (void)len;
    return cd_u32(code, CD_N_CODE, 0x08000000);
}

static void limit_zero(sig_cd_spec *s) { s->code_limit = 0; }

static sig_buf cd_code_limit_zero(uint8_t *code, size_t *len)
{
    (void)len;
    /* no pages, so nCodeSlots 0, but pageSize 12 with a zero limit is invalid */
    return standard_with(code, limit_zero).sig;
}

static sig_buf cd_slots_not_pages(uint8_t *code, size_t *len)
{
    (void)len;
    return cd_u32(code, CD_N_CODE, 3); /* 4 pages hashed */
}

static sig_buf cd_limit_needs_more_slots(uint8_t *code, size_t *len)
{
    (void)len;
    return cd_u32(code, CD_CODE_LIMIT, CODE_LEN + 4096);
}

static sig_buf cd_page_size_zero_many_slots(uint8_t *code, size_t *len)
{
    (void)len;
    return cd_u8(code, CD_PAGE_SHIFT, 0); /* one page, but 4 slots */
}

static sig_buf cd_limit64_disagrees(uint8_t *code, size_t *len)
{
    (void)len;
    built b = standard(code);
    sig_set_u64(&b.sig, b.offsets[0] + CD_CODE_LIMIT64, 0x100000000ull);
    return b.sig;
}

/* The scatter vector's entries run into the end of the blob without a count=0 element: the
 * linkage data (all 0x01) sits last, and scatterOffset points at it. */
static sig_buf cd_scatter_no_terminator(uint8_t *code, size_t *len)
{
    (void)len;
    uint8_t ones[60];
    memset(ones, 1, sizeof ones);
    sig_cd_spec s;
    sig_cd_layout l;
    sig_cd_defaults(&s, 0x20600, 2, code, CODE_LEN);
    s.linkage = ones;
    s.linkage_len = sizeof ones;
    sig_buf cd = sig_build_cd(&s, &l);
    sig_set_u32(&cd, CD_SCATTER, (uint32_t)l.linkage_offset);
    sig_entry e[] = {{0, &cd}};
    sig_buf sig = wrap(e, 1);
    sig_buf_free(&cd);
    return sig;
}

static sig_buf cd_scatter_past_blob(uint8_t *code, size_t *len)
{
    (void)len;
    built b = standard(code);
    sig_set_u32(&b.sig, b.offsets[0] + CD_SCATTER, (uint32_t)b.layout.length - 8);
    return b.sig;
}

static sig_buf cd_scatter_too_many_entries(uint8_t *code, size_t *len)
{
    (void)len;
    size_t n = SH_MAX_SCATTER_ENTRIES + 1;
    sig_scatter *entries = calloc(n, sizeof *entries);
    assert_non_null(entries);
    for (size_t i = 0; i < n; i++)
        entries[i].count = 1;
    sig_cd_spec s;
    sig_cd_defaults(&s, 0x20100, 2, code, CODE_LEN);
    s.scatter = entries;
    s.n_scatter = n;
    sig_buf sig = wrap_cd_spec(&s);
    free(entries);
    return sig;
}

static sig_buf cd_scatter_more_pages_than_slots(uint8_t *code, size_t *len)
{
    (void)len;
    static const sig_scatter entries[] = {{3, 0, 0, 0}, {2, 3, 0, 0}};
    sig_cd_spec s;
    sig_cd_defaults(&s, 0x20100, 2, code, CODE_LEN);
    s.scatter = entries;
    s.n_scatter = 2;
    return wrap_cd_spec(&s);
}

static sig_buf cd_linkage_out_of_blob(uint8_t *code, size_t *len)
{
    (void)len;
    static const uint8_t linkage[16] = {0};
    sig_cd_spec s;
    sig_cd_layout l;
    sig_cd_defaults(&s, 0x20600, 2, code, CODE_LEN);
    s.linkage = linkage;
    s.linkage_len = sizeof linkage;
    sig_buf cd = sig_build_cd(&s, &l);
    sig_set_u32(&cd, CD_LINKAGE_SIZE, sizeof linkage + 1);
    sig_entry e[] = {{0, &cd}};
    sig_buf sig = wrap(e, 1);
    sig_buf_free(&cd);
    return sig;
}

static sig_buf cd_linkage_size_wraps(uint8_t *code, size_t *len)
{
    (void)len;
    sig_cd_spec s;
    sig_cd_defaults(&s, 0x20600, 2, code, CODE_LEN);
    sig_buf cd = sig_build_cd(&s, NULL);
    sig_set_u32(&cd, CD_LINKAGE_OFFSET, 0x60);
    sig_set_u32(&cd, CD_LINKAGE_SIZE, 0xffffffff);
    sig_entry e[] = {{0, &cd}};
    sig_buf sig = wrap(e, 1);
    sig_buf_free(&cd);
    return sig;
}

static sig_buf cd_pre_encrypt_out_of_blob(uint8_t *code, size_t *len)
{
    (void)len;
    sig_cd_spec s;
    sig_cd_layout l;
    sig_cd_defaults(&s, 0x20500, 2, code, CODE_LEN);
    sig_buf cd = sig_build_cd(&s, &l);
    /* the four pre-encryption hashes would start 2 * 32 bytes before the end */
    sig_set_u32(&cd, 0x5C, (uint32_t)l.length - 64);
    sig_entry e[] = {{0, &cd}};
    sig_buf sig = wrap(e, 1);
    sig_buf_free(&cd);
    return sig;
}

/* ---- cases: several CodeDirectories ---- */

static void make_sha1(sig_cd_spec *s) { sig_cd_defaults(s, 0x20400, 1, s->code, s->code_len); }
static void other_identifier(sig_cd_spec *s) { s->identifier = "com.example.other"; }
static void other_page_size(sig_cd_spec *s) { s->page_shift = 14; }
static void other_limit(sig_cd_spec *s) { s->code_limit = CODE_LEN - 100; }
static void bad_hash_size(sig_cd_spec *s) { s->hash_type = 4; s->hash_size = 20; }

static sig_buf two_cds_same_hash_type(uint8_t *code, size_t *len)
{
    (void)len;
    return dual_with(code, make_sha1);
}

static sig_buf alternate_other_identifier(uint8_t *code, size_t *len)
{
    (void)len;
    return dual_with(code, other_identifier);
}

static sig_buf alternate_other_page_size(uint8_t *code, size_t *len)
{
    (void)len;
    return dual_with(code, other_page_size);
}

static sig_buf alternate_other_limit(uint8_t *code, size_t *len)
{
    (void)len;
    return dual_with(code, other_limit);
}

static sig_buf alternate_malformed(uint8_t *code, size_t *len)
{
    (void)len;
    return dual_with(code, bad_hash_size);
}

/* ---- cases: special slots ---- */

static sig_buf slot_entitlements_modified(uint8_t *code, size_t *len)
{
    (void)len;
    built b = standard(code);
    sig_set_u8(&b.sig, b.offsets[2] + 10, 'X'); /* inside the plist, after sealing */
    return b.sig;
}

static sig_buf slot_requirements_missing(uint8_t *code, size_t *len)
{
    (void)len;
    built b = standard(code);
    sig_set_u32(&b.sig, entry_pos(1) + 4, 0); /* the entry now says "absent" */
    return b.sig;
}

static void seal_requirements_only(sig_cd_spec *s)
{
    s->n_special_slots = 2; /* entitlements (slot 5) beyond nSpecialSlots */
}

static sig_buf slot_entitlements_beyond_special(uint8_t *code, size_t *len)
{
    (void)len;
    return standard_with(code, seal_requirements_only).sig;
}

static void zero_entitlements_slot(sig_cd_spec *s) { memset(s->special[5], 0, 48); }

static sig_buf slot_entitlements_zero(uint8_t *code, size_t *len)
{
    (void)len;
    return standard_with(code, zero_entitlements_slot).sig;
}

static sig_buf slot_launch_constraint_modified(uint8_t *code, size_t *len)
{
    (void)len;
    sig_cd_spec s;
    sig_cd_defaults(&s, 0x20400, 2, code, CODE_LEN);
    sig_buf lc = sig_blob(0xfade8181, "\x30\x03\x02\x01\x01", 5);
    sig_cd_seal(&s, 8, &lc);
    sig_buf cd = sig_build_cd(&s, NULL);
    lc.data[12] ^= 1;
    sig_entry e[] = {{0, &cd}, {8, &lc}};
    sig_buf sig = wrap(e, 2);
    sig_buf_free(&cd);
    sig_buf_free(&lc);
    return sig;
}

/* The primary seals the right entitlements hash, the alternate a stale one. */
static sig_buf slot_alternate_stale(uint8_t *code, size_t *len)
{
    (void)len;
    sig_buf ent = sig_blob(0xfade7171, "<plist/>", 8);
    sig_buf stale = sig_blob(0xfade7171, "<plist>", 7);
    sig_cd_spec s1, s2;
    sig_cd_defaults(&s1, 0x20400, 1, code, CODE_LEN);
    sig_cd_defaults(&s2, 0x20400, 2, code, CODE_LEN);
    sig_cd_seal(&s1, 5, &ent);
    sig_cd_seal(&s2, 5, &stale);
    sig_buf cd1 = sig_build_cd(&s1, NULL), cd2 = sig_build_cd(&s2, NULL);
    sig_entry e[] = {{0, &cd1}, {5, &ent}, {0x1000, &cd2}};
    sig_buf sig = wrap(e, 3);
    sig_buf_free(&cd1);
    sig_buf_free(&cd2);
    sig_buf_free(&ent);
    sig_buf_free(&stale);
    return sig;
}

/* ---- cases: code pages ---- */

static sig_buf page_2_modified(uint8_t *code, size_t *len)
{
    (void)len;
    built b = standard(code);
    code[2 * 4096 + 99] ^= 0x10; /* after signing */
    return b.sig;
}

static sig_buf code_shorter_than_limit(uint8_t *code, size_t *len)
{
    built b = standard(code);
    *len = CODE_LEN - 1;
    return b.sig;
}

static sig_buf scatter_not_identity(uint8_t *code, size_t *len)
{
    (void)len;
    static const sig_scatter entries[] = {{2, 0, 0, 0}, {2, 3, 0, 0}}; /* page 2 skipped */
    sig_cd_spec s;
    sig_cd_defaults(&s, 0x20100, 2, code, CODE_LEN);
    s.scatter = entries;
    s.n_scatter = 2;
    return wrap_cd_spec(&s);
}

/* ---- the table ---- */

typedef enum stage { AT_PARSE, AT_SLOTS, AT_PAGES } stage;

typedef struct hostile_case {
    const char *name;
    case_fn build;
    stage at;
    sh_err expected;
    const char *where; /* NULL: not checked */
    int64_t index;     /* ANY_INDEX: not checked */
} hostile_case;

static const hostile_case cases[] = {
    {"SuperBlob magic is a requirement set", sb_bad_magic, AT_PARSE, SH_E_BLOB_BAD_MAGIC, "SuperBlob", -1},
    {"SuperBlob length below its header", sb_length_below_header, AT_PARSE, SH_E_BLOB_BAD_LENGTH, "SuperBlob", -1},
    {"count * 8 wraps in 32 bits", sb_count_wraps, AT_PARSE, SH_E_SUPERBLOB_TOO_MANY_BLOBS, "SuperBlob", -1},
    {"count over SH_MAX_SUPERBLOB_BLOBS", sb_count_over_limit, AT_PARSE, SH_E_SUPERBLOB_TOO_MANY_BLOBS, "SuperBlob", -1},
    {"index runs past the length", sb_index_past_length, AT_PARSE, SH_E_SUPERBLOB_TOO_MANY_BLOBS, "SuperBlob", -1},
    {"offset inside the index", sb_offset_inside_index, AT_PARSE, SH_E_SUPERBLOB_INDEX_OVERLAP, "BlobIndex", 1},
    {"offset inside the header", sb_offset_inside_header, AT_PARSE, SH_E_SUPERBLOB_INDEX_OVERLAP, "BlobIndex", 2},
    {"blob header past the end", sb_header_past_end, AT_PARSE, SH_E_SUPERBLOB_ENTRY_OUT_OF_BOUNDS, "BlobIndex", 3},
    {"offset + length overflows", sb_offset_plus_length_overflows, AT_PARSE, SH_E_SUPERBLOB_ENTRY_OUT_OF_BOUNDS, "BlobIndex", 3},
    {"blob one byte past the end", sb_blob_past_end, AT_PARSE, SH_E_SUPERBLOB_ENTRY_OUT_OF_BOUNDS, "BlobIndex", 3},
    {"blob length below 8", sb_blob_length_below_header, AT_PARSE, SH_E_BLOB_BAD_LENGTH, "BlobIndex", 2},
    {"overlapping blobs", sb_blobs_overlap, AT_PARSE, SH_E_SUPERBLOB_BLOBS_OVERLAP, "BlobIndex", 2},
    {"duplicate slot types", sb_duplicate_types, AT_PARSE, SH_E_SUPERBLOB_DUPLICATE_TYPE, "BlobIndex", 2},
    {"wrong magic for the slot", sb_wrong_magic_for_slot, AT_PARSE, SH_E_BLOB_BAD_MAGIC, "BlobIndex", 1},
    {"CMS slot without a BlobWrapper", sb_cms_slot_wrong_magic, AT_PARSE, SH_E_BLOB_BAD_MAGIC, "BlobIndex", 3},
    {"slot 0 without a CodeDirectory", sb_cd_slot_wrong_magic, AT_PARSE, SH_E_BLOB_BAD_MAGIC, "BlobIndex", 0},
    {"no CD in slot 0 (alternate only)", sb_no_cd_in_slot0, AT_PARSE, SH_E_SUPERBLOB_NO_CODEDIRECTORY, "SuperBlob", -1},
    {"slot 0 entry absent", sb_slot0_absent, AT_PARSE, SH_E_SUPERBLOB_NO_CODEDIRECTORY, "SuperBlob", -1},
    {"sixth alternate CD (0x1005)", sb_sixth_alternate, AT_PARSE, SH_E_SUPERBLOB_TOO_MANY_ALTERNATES, "BlobIndex", 6},
    {"CD length below its version's header", cd_length_below_header, AT_PARSE, SH_E_CD_TRUNCATED, "CodeDirectory", -1},
    {"CD of just a blob header", cd_only_blob_header, AT_PARSE, SH_E_CD_TRUNCATED, "CodeDirectory", -1},
    {"CD version 0x20000", cd_version_20000, AT_PARSE, SH_E_CD_VERSION_UNSUPPORTED, "CodeDirectory", -1},
    {"CD version 0x30000", cd_version_30000, AT_PARSE, SH_E_CD_VERSION_UNSUPPORTED, "CodeDirectory", -1},
    {"hash type 0", cd_hash_type_0, AT_PARSE, SH_E_CD_HASH_TYPE_UNSUPPORTED, "CodeDirectory", -1},
    {"hash type 5 (SHA-512)", cd_hash_type_5, AT_PARSE, SH_E_CD_HASH_TYPE_UNSUPPORTED, "CodeDirectory", -1},
    {"hash type 99", cd_hash_type_99, AT_PARSE, SH_E_CD_HASH_TYPE_UNSUPPORTED, "CodeDirectory", -1},
    {"hashSize differs from the digest", cd_hash_size_mismatch, AT_PARSE, SH_E_CD_HASH_SIZE_MISMATCH, "CodeDirectory", -1},
    {"pageSize 31", cd_page_shift_31, AT_PARSE, SH_E_CD_PAGE_SIZE_UNSUPPORTED, "CodeDirectory", -1},
    {"identifier runs to the end of the blob", cd_ident_without_nul, AT_PARSE, SH_E_CD_IDENT_OUT_OF_BLOB, "CodeDirectory", -1},
    {"identOffset past the blob", cd_ident_past_blob, AT_PARSE, SH_E_CD_IDENT_OUT_OF_BLOB, "CodeDirectory", -1},
    {"identifier longer than SH_MAX_IDENTIFIER_LEN", cd_ident_too_long, AT_PARSE, SH_E_CD_IDENT_OUT_OF_BLOB, "CodeDirectory", -1},
    {"teamOffset past the blob", cd_team_past_blob, AT_PARSE, SH_E_CD_TEAM_OUT_OF_BLOB, "CodeDirectory", -1},
    {"team ID runs to the end of the blob", cd_team_without_nul, AT_PARSE, SH_E_CD_TEAM_OUT_OF_BLOB, "CodeDirectory", -1},
    {"hashOffset outside the blob", cd_hash_offset_outside, AT_PARSE, SH_E_CD_HASHES_OUT_OF_BLOB, "CodeDirectory", -1},
    {"hashOffset + code hashes wrap", cd_hash_offset_wraps, AT_PARSE, SH_E_CD_HASHES_OUT_OF_BLOB, "CodeDirectory", -1},
    {"special slots underflow the blob start", cd_special_underflow, AT_PARSE, SH_E_CD_HASHES_OUT_OF_BLOB, "CodeDirectory", -1},
    {"nSpecialSlots 0xffffffff", cd_too_many_special, AT_PARSE, SH_E_CD_TOO_MANY_SPECIAL_SLOTS, "CodeDirectory", -1},
    {"nCodeSlots * hashSize wraps in 32 bits", cd_code_slots_overflow, AT_PARSE, SH_E_CD_HASHES_OUT_OF_BLOB, "CodeDirectory", -1},
    {"codeLimit 0 with a page size", cd_code_limit_zero, AT_PARSE, SH_E_CD_CODE_LIMIT_ZERO, "CodeDirectory", -1},
    {"nCodeSlots != pages", cd_slots_not_pages, AT_PARSE, SH_E_CD_SLOT_COUNT_MISMATCH, "CodeDirectory", -1},
    {"codeLimit needs more slots", cd_limit_needs_more_slots, AT_PARSE, SH_E_CD_SLOT_COUNT_MISMATCH, "CodeDirectory", -1},
    {"pageSize 0 with several slots", cd_page_size_zero_many_slots, AT_PARSE, SH_E_CD_SLOT_COUNT_MISMATCH, "CodeDirectory", -1},
    {"codeLimit64 disagrees with nCodeSlots", cd_limit64_disagrees, AT_PARSE, SH_E_CD_SLOT_COUNT_MISMATCH, "CodeDirectory", -1},
    {"scatter vector without terminator", cd_scatter_no_terminator, AT_PARSE, SH_E_CD_SCATTER_INVALID, "CodeDirectory", -1},
    {"scatter vector past the blob", cd_scatter_past_blob, AT_PARSE, SH_E_CD_SCATTER_INVALID, "CodeDirectory", -1},
    {"scatter vector over SH_MAX_SCATTER_ENTRIES", cd_scatter_too_many_entries, AT_PARSE, SH_E_CD_SCATTER_INVALID, "CodeDirectory", -1},
    {"scatter maps more pages than slots", cd_scatter_more_pages_than_slots, AT_PARSE, SH_E_CD_SCATTER_INVALID, "CodeDirectory", -1},
    {"pre-encryption hashes out of the blob", cd_pre_encrypt_out_of_blob, AT_PARSE, SH_E_CD_PRE_ENCRYPT_OUT_OF_BLOB, "CodeDirectory", -1},
    {"linkage out of the blob", cd_linkage_out_of_blob, AT_PARSE, SH_E_CD_LINKAGE_OUT_OF_BLOB, "CodeDirectory", -1},
    {"linkage size wraps", cd_linkage_size_wraps, AT_PARSE, SH_E_CD_LINKAGE_OUT_OF_BLOB, "CodeDirectory", -1},
    {"two CDs with the same hash type", two_cds_same_hash_type, AT_PARSE, SH_E_CD_DUPLICATE_HASH_TYPE, "CodeDirectory", 1},
    {"alternate with another identifier", alternate_other_identifier, AT_PARSE, SH_E_CD_ALTERNATE_MISMATCH, "CodeDirectory", 1},
    {"alternate with another page size", alternate_other_page_size, AT_PARSE, SH_E_CD_ALTERNATE_MISMATCH, "CodeDirectory", 1},
    {"alternate with another code limit", alternate_other_limit, AT_PARSE, SH_E_CD_ALTERNATE_MISMATCH, "CodeDirectory", 1},
    {"malformed alternate", alternate_malformed, AT_PARSE, SH_E_CD_HASH_SIZE_MISMATCH, "CodeDirectory", -1},
    {"entitlements modified after sealing", slot_entitlements_modified, AT_SLOTS, SH_E_CD_SPECIAL_SLOT_MISMATCH, "special slot", 5},
    {"sealed requirements missing", slot_requirements_missing, AT_SLOTS, SH_E_CD_SPECIAL_SLOT_MISSING_BLOB, "special slot", 2},
    {"entitlements beyond nSpecialSlots", slot_entitlements_beyond_special, AT_SLOTS, SH_E_CD_UNSEALED_BLOB, "special slot", 5},
    {"entitlements slot zero", slot_entitlements_zero, AT_SLOTS, SH_E_CD_UNSEALED_BLOB, "special slot", 5},
    {"launch constraint modified", slot_launch_constraint_modified, AT_SLOTS, SH_E_CD_SPECIAL_SLOT_MISMATCH, "special slot", 8},
    {"alternate seals stale entitlements", slot_alternate_stale, AT_SLOTS, SH_E_CD_SPECIAL_SLOT_MISMATCH, "special slot", 5},
    {"code page 2 modified", page_2_modified, AT_PAGES, SH_E_CD_PAGE_HASH_MISMATCH, "code page", 2},
    {"code shorter than codeLimit", code_shorter_than_limit, AT_PAGES, SH_E_CD_CODE_LIMIT_PAST_DATA, "CodeDirectory", -1},
    {"scatter vector is not the identity", scatter_not_identity, AT_PAGES, SH_E_CD_SCATTER_UNSUPPORTED, "CodeDirectory", 1},
};

static sh_err run_stage(const hostile_case *c, const sh_signature *sig, const sh_cursor *code,
                        sh_error *err)
{
    if (c->at == AT_SLOTS)
        return sh_signature_check_special_slots(sig, err);
    sh_page_report reports[1 + SH_MAX_ALTERNATE_CDS];
    return sh_signature_verify_pages(sig, code, reports, err);
}

static void run_case(const hostile_case *c)
{
    uint8_t *code = malloc(CODE_LEN);
    assert_non_null(code);
    sig_fill_code(code, CODE_LEN, 77);
    size_t code_len = CODE_LEN;
    sig_buf built_sig = c->build(code, &code_len);
    uint8_t *sig_copy = sig_exact_copy(built_sig.data, built_sig.len);
    uint8_t *code_copy = sig_exact_copy(code, code_len);
    sh_cursor data = sh_cursor_make(sig_copy, built_sig.len);
    data.base = SIG_BASE;
    sh_cursor code_view = sh_cursor_make(code_copy, code_len);
    sh_signature *sig = malloc(sizeof *sig);
    assert_non_null(sig);
    sh_error err = {0};
    sh_err got = sh_signature_parse(&data, sig, &err);
    if (c->at != AT_PARSE) {
        if (got != SH_E_OK)
            fail_msg("%s: parse failed with %s", c->name, sh_err_name(got));
        got = run_stage(c, sig, &code_view, &err);
    }
    if (got != c->expected)
        fail_msg("%s: got %s, want %s", c->name, sh_err_name(got), sh_err_name(c->expected));
    assert_int_equal(err.code, c->expected);
    if (c->where && strcmp(err.where, c->where) != 0)
        fail_msg("%s: where is %s, want %s", c->name, err.where, c->where);
    if (c->index != ANY_INDEX && err.index != c->index)
        fail_msg("%s: index %lld, want %lld", c->name, (long long)err.index, (long long)c->index);
    /* Offsets are absolute: inside the signature, or inside the code for code pages. */
    if (c->at == AT_PAGES && c->expected == SH_E_CD_PAGE_HASH_MISMATCH)
        assert_int_equal(err.offset, (uint64_t)err.index * 4096);
    else if (err.offset < SIG_BASE || err.offset > SIG_BASE + built_sig.len)
        fail_msg("%s: offset 0x%llx outside the signature", c->name, (unsigned long long)err.offset);
    free(sig);
    free(code_copy);
    free(sig_copy);
    sig_buf_free(&built_sig);
    free(code);
}

static void every_hostile_case_gives_its_error(void **state)
{
    (void)state;
    size_t n = sizeof cases / sizeof cases[0];
    assert_true(n >= 20);
    for (size_t i = 0; i < n; i++)
        run_case(&cases[i]);
}

/* ---- the untouched baseline really is valid ---- */

static void standard_signature_is_valid(void **state)
{
    (void)state;
    uint8_t *code = malloc(CODE_LEN);
    assert_non_null(code);
    sig_fill_code(code, CODE_LEN, 77);
    built b = standard(code);
    uint8_t *copy = sig_exact_copy(b.sig.data, b.sig.len);
    sh_cursor data = sh_cursor_make(copy, b.sig.len);
    sh_cursor code_view = sh_cursor_make(code, CODE_LEN);
    sh_signature sig;
    sh_error err;
    assert_int_equal(sh_signature_parse(&data, &sig, &err), SH_E_OK);
    assert_int_equal(sig.ncds, 1);
    assert_false(sh_signature_cms_empty(&sig));
    assert_int_equal(sh_signature_check_special_slots(&sig, &err), SH_E_OK);
    sh_page_report r[1 + SH_MAX_ALTERNATE_CDS];
    assert_int_equal(sh_signature_verify_pages(&sig, &code_view, r, &err), SH_E_OK);
    assert_int_equal(r[0].pages_checked, 4);
    free(copy);

    sig_buf dual = dual_with(code, NULL);
    copy = sig_exact_copy(dual.data, dual.len);
    data = sh_cursor_make(copy, dual.len);
    assert_int_equal(sh_signature_parse(&data, &sig, &err), SH_E_OK);
    assert_int_equal(sig.ncds, 2);
    assert_int_equal(sig.cd_slots[1], 0x1000);
    assert_int_equal(sig.best, 1);
    assert_true(sh_signature_cms_empty(&sig)); /* no CMS blob at all */
    assert_int_equal(sh_signature_verify_pages(&sig, &code_view, r, &err), SH_E_OK);
    assert_int_equal(r[1].pages_checked, 4);
    free(copy);
    sig_buf_free(&dual);
    sig_buf_free(&b.sig);
    free(code);
}

/* Every proper prefix of a valid signature is refused as truncated. */
static void truncated_at_every_prefix(void **state)
{
    (void)state;
    uint8_t *code = malloc(CODE_LEN);
    assert_non_null(code);
    sig_fill_code(code, CODE_LEN, 77);
    built b = standard(code);
    for (size_t len = 0; len < b.sig.len; len++) {
        uint8_t *copy = sig_exact_copy(b.sig.data, len);
        sh_cursor data = sh_cursor_make(copy, len);
        sh_signature sig;
        sh_error err;
        sh_err got = sh_signature_parse(&data, &sig, &err);
        if (got != SH_E_BLOB_TRUNCATED)
            fail_msg("prefix %zu: got %s", len, sh_err_name(got));
        free(copy);
    }
    sig_buf_free(&b.sig);
    free(code);
}

/* Every single-byte corruption of a dual-CD signature: any outcome but a crash, and a clean
 * error code from the table. */
static void every_byte_corruption_is_handled(void **state)
{
    (void)state;
    uint8_t *code = malloc(CODE_LEN);
    assert_non_null(code);
    sig_fill_code(code, CODE_LEN, 77);
    sig_buf dual = dual_with(code, NULL);
    static const uint8_t xors[] = {0x01, 0x80, 0xff};
    sh_cursor code_view = sh_cursor_make(code, CODE_LEN);
    sh_signature *sig = malloc(sizeof *sig);
    assert_non_null(sig);
    for (size_t at = 0; at < dual.len; at++)
        for (size_t k = 0; k < sizeof xors; k++) {
            uint8_t *copy = sig_exact_copy(dual.data, dual.len);
            copy[at] ^= xors[k];
            sh_cursor data = sh_cursor_make(copy, dual.len);
            sh_error err;
            sh_err e = sh_signature_parse(&data, sig, &err);
            if (e == SH_E_OK) {
                sh_page_report r[1 + SH_MAX_ALTERNATE_CDS];
                sh_err slots = sh_signature_check_special_slots(sig, &err);
                assert_true((unsigned)slots < SH_E_COUNT);
                e = sh_signature_verify_pages(sig, &code_view, r, &err);
            }
            assert_true((unsigned)e < SH_E_COUNT);
            free(copy);
        }
    free(sig);
    sig_buf_free(&dual);
    free(code);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(standard_signature_is_valid),
        cmocka_unit_test(every_hostile_case_gives_its_error),
        cmocka_unit_test(truncated_at_every_prefix),
        cmocka_unit_test(every_byte_corruption_is_handled),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
