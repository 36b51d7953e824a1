/* Memory and work bounds on adversarial inputs (issue 8).  Every parser runs in memory and work
 * linear in its input, with the named caps of parsers/sh_limits.h; these tests feed inputs at and
 * just past each cap, and inputs that claim huge counts with no data behind them, and assert the
 * exact outcome plus what the parser spent:
 *   - allocations, through a tallying sh_allocator: total bytes <= SH_BOUND_FACTOR x input size
 *     + SH_BOUND_SLACK (claimed counts must not be allocated before the data is seen);
 *   - work, through the counters the parsers already report (sh_req_info.ops and max_depth,
 *     sh_plist_stats.nodes and max_depth, sh_page_report.pages_checked).
 * No wall-clock assertions. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "codedir.h"
#include "coderesources.h"
#include "entitlements.h"
#include "macho.h"
#include "plist_guard.h"
#include "requirement.h"
#include "sh_limits.h"
#include "sig_builder.h"
#include "superblob.h"

/* The linear bound every parser must keep (README "Limits"). */
#define SH_BOUND_FACTOR 16u
#define SH_BOUND_SLACK ((size_t)64 << 10)

/* ---- a tallying allocator ------------------------------------------------------------------ */

typedef struct tally {
    size_t allocations, bytes;
} tally;

static void *tally_alloc(void *ctx, size_t size)
{
    tally *t = ctx;
    t->allocations++;
    t->bytes += size;
    return malloc(size);
}

static void tally_release(void *ctx, void *ptr)
{
    (void)ctx;
    free(ptr);
}

static sh_allocator tally_start(tally *t)
{
    memset(t, 0, sizeof *t);
    return (sh_allocator){tally_alloc, tally_release, t};
}

static void assert_linear(const tally *t, size_t input_len)
{
    size_t bound = SH_BOUND_FACTOR * input_len + SH_BOUND_SLACK;
    if (t->bytes > bound)
        fail_msg("%zu bytes allocated for %zu input bytes (bound %zu)", t->bytes, input_len, bound);
}

/* ---- requirements -------------------------------------------------------------------------- */

/* A Requirement blob: (depth - 1) nested `!` around `true`, i.e. nesting level `depth`. */
static sig_buf req_nested_not(uint32_t depth)
{
    sig_buf b = {0};
    sig_append_u32(&b, SH_REQ_MAGIC);
    sig_append_u32(&b, 0); /* length, set below */
    sig_append_u32(&b, 1); /* kind: expression */
    for (uint32_t i = 1; i < depth; i++)
        sig_append_u32(&b, SH_REQ_OP_NOT);
    sig_append_u32(&b, SH_REQ_OP_TRUE);
    sig_set_u32(&b, 4, (uint32_t)b.len);
    return b;
}

static void requirement_depth_cap(void **state)
{
    (void)state;
    sig_buf at = req_nested_not(SH_MAX_REQUIREMENT_DEPTH);
    sh_cursor c = sh_cursor_make(at.data, at.len);
    sh_req_info info;
    sh_error err = {0};
    assert_int_equal(sh_req_check(&c, &info, &err), SH_E_OK);
    assert_int_equal(info.max_depth, SH_MAX_REQUIREMENT_DEPTH);
    assert_int_equal(info.ops, SH_MAX_REQUIREMENT_DEPTH);
    tally t;
    sh_allocator a = tally_start(&t);
    char *text = NULL;
    size_t len = 0;
    assert_int_equal(sh_req_to_text_alloc(&c, 0, &a, &text, &len, NULL, &err), SH_E_OK);
    assert_linear(&t, at.len);
    sh_free(&a, text);
    sig_buf_free(&at);

    sig_buf past = req_nested_not(SH_MAX_REQUIREMENT_DEPTH + 1);
    c = sh_cursor_make(past.data, past.len);
    assert_int_equal(sh_req_check(&c, &info, &err), SH_E_REQ_TOO_DEEP);
    assert_true(info.max_depth <= SH_MAX_REQUIREMENT_DEPTH + 1);
    a = tally_start(&t);
    text = NULL;
    assert_int_equal(sh_req_to_text_alloc(&c, 0, &a, &text, &len, NULL, &err), SH_E_REQ_TOO_DEEP);
    assert_null(text);
    assert_linear(&t, past.len);
    sig_buf_free(&past);
}

/* Requirement text: `! ! ... true` compiles at the depth cap and is refused past it, with the
 * compiler's allocations linear in the text. */
static void requirement_text_depth_cap(void **state)
{
    (void)state;
    for (uint32_t depth = SH_MAX_REQUIREMENT_DEPTH; depth <= SH_MAX_REQUIREMENT_DEPTH + 1; depth++) {
        size_t len = (size_t)(depth - 1) * 2 + 4;
        char *text = malloc(len + 1);
        assert_non_null(text);
        for (uint32_t i = 0; i + 1 < depth; i++)
            memcpy(text + 2 * i, "! ", 2);
        memcpy(text + len - 4, "true", 5);
        tally t;
        sh_allocator a = tally_start(&t);
        uint8_t *blob = NULL;
        size_t blob_len = 0;
        sh_req_diag diag;
        sh_error err = {0};
        sh_err r = sh_req_compile(text, len, SH_REQ_PARSE_SINGLE, &a, &blob, &blob_len, &diag, &err);
        assert_int_equal(r, depth <= SH_MAX_REQUIREMENT_DEPTH ? SH_E_OK : SH_E_REQ_TOO_DEEP);
        assert_linear(&t, len);
        sh_free(&a, blob);
        free(text);
    }
}

/* A balanced tree of `and` with 2^17 - 1 opcodes (depth 17, far below the depth cap): the op
 * cap stops the walk as soon as it is passed. */
static void append_and_tree(sig_buf *b, unsigned height)
{
    if (height == 1) {
        sig_append_u32(b, SH_REQ_OP_TRUE);
        return;
    }
    sig_append_u32(b, SH_REQ_OP_AND);
    append_and_tree(b, height - 1);
    append_and_tree(b, height - 1);
}

static void requirement_op_cap(void **state)
{
    (void)state;
    sig_buf b = {0};
    sig_append_u32(&b, SH_REQ_MAGIC);
    sig_append_u32(&b, 0);
    sig_append_u32(&b, 1);
    append_and_tree(&b, 17);
    sig_set_u32(&b, 4, (uint32_t)b.len);
    sh_cursor c = sh_cursor_make(b.data, b.len);
    sh_req_info info;
    sh_error err = {0};
    assert_int_equal(sh_req_check(&c, &info, &err), SH_E_REQ_TOO_MANY_OPS);
    assert_true(info.ops <= SH_MAX_REQUIREMENT_OPS + 1);
    sig_buf_free(&b);
}

/* A requirement set claiming a million entries in 12 bytes. */
static void requirement_set_claimed_count(void **state)
{
    (void)state;
    sig_buf b = {0};
    sig_append_u32(&b, SH_REQSET_MAGIC);
    sig_append_u32(&b, 12);
    sig_append_u32(&b, 1000000);
    sh_cursor c = sh_cursor_make(b.data, b.len);
    sh_reqset set;
    sh_error err = {0};
    assert_int_not_equal(sh_reqset_parse(&c, &set, &err), SH_E_OK);
    tally t;
    sh_allocator a = tally_start(&t);
    char *text = NULL;
    size_t len = 0;
    assert_int_not_equal(sh_req_to_text_alloc(&c, 0, &a, &text, &len, NULL, &err), SH_E_OK);
    assert_linear(&t, b.len);
    sig_buf_free(&b);
}

/* ---- property lists and entitlements ------------------------------------------------------- */

/* <plist><dict><key>k</key><dict>... depth levels ...</dict></plist> */
static char *xml_nested_dicts(uint32_t depth, size_t *len)
{
    static const char head[] = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<plist version=\"1.0\">",
                      open[] = "<dict><key>k</key>", leaf[] = "<true/>", close[] = "</dict>",
                      tail[] = "</plist>\n";
    size_t n = sizeof head - 1 + depth * (sizeof open - 1 + sizeof close - 1) + sizeof leaf - 1 +
               sizeof tail - 1;
    char *x = malloc(n + 1), *p = x;
    assert_non_null(x);
    p += sprintf(p, "%s", head);
    for (uint32_t i = 0; i < depth; i++)
        p += sprintf(p, "%s", open);
    p += sprintf(p, "%s", leaf);
    for (uint32_t i = 0; i < depth; i++)
        p += sprintf(p, "%s", close);
    p += sprintf(p, "%s", tail);
    *len = (size_t)(p - x);
    assert_int_equal(*len, n);
    return x;
}

static void plist_depth_cap(void **state)
{
    (void)state;
    uint32_t depths[] = {SH_MAX_PLIST_DEPTH, SH_MAX_PLIST_DEPTH + 1, 100000};
    for (size_t i = 0; i < sizeof depths / sizeof depths[0]; i++) {
        size_t len;
        char *x = xml_nested_dicts(depths[i], &len);
        sh_cursor c = sh_cursor_make((const uint8_t *)x, len);
        sh_plist_stats st;
        sh_error err = {0};
        tally t;
        sh_allocator a = tally_start(&t);
        sh_err r = sh_plist_guard(&c, &a, &st, &err);
        assert_int_equal(r, depths[i] <= SH_MAX_PLIST_DEPTH ? SH_E_OK : SH_E_PLIST_TOO_DEEP);
        assert_true(st.max_depth <= SH_MAX_PLIST_DEPTH + 1);
        /* the scan stops at the first level past the cap: no more nodes than levels x 2 */
        assert_true(st.nodes <= 2 * (SH_MAX_PLIST_DEPTH + 1) + 2);
        assert_linear(&t, len);
        /* the entitlements parser never hands the deep one to libplist */
        sh_entitlements e;
        sh_ent_path path;
        a = tally_start(&t);
        r = sh_entitlements_parse_xml(&c, &a, &e, &path, &err);
        assert_int_equal(r, depths[i] <= SH_MAX_PLIST_DEPTH ? SH_E_OK : SH_E_PLIST_TOO_DEEP);
        assert_linear(&t, len);
        if (r == SH_E_OK)
            sh_entitlements_free(&e);
        free(x);
    }
}

/* DER entitlements nested dicts: encoded from XML at the DER cap; one more level refused. */
static void der_depth_cap(void **state)
{
    (void)state;
    for (uint32_t depth = SH_MAX_DER_DEPTH; depth <= SH_MAX_DER_DEPTH + 1; depth++) {
        size_t len;
        char *x = xml_nested_dicts(depth, &len);
        sh_cursor c = sh_cursor_make((const uint8_t *)x, len);
        sh_entitlements e;
        sh_ent_path path;
        sh_error err = {0};
        assert_int_equal(sh_entitlements_parse_xml(&c, NULL, &e, &path, &err), SH_E_OK);
        uint8_t *der = NULL;
        size_t der_len = 0;
        sh_err r = sh_entitlements_encode_der(&e.root, NULL, &der, &der_len, &path, &err);
        sh_entitlements_free(&e);
        free(x);
        if (depth <= SH_MAX_DER_DEPTH) {
            assert_int_equal(r, SH_E_OK);
            tally t;
            sh_allocator a = tally_start(&t);
            sh_cursor d = sh_cursor_make(der, der_len);
            assert_int_equal(sh_entitlements_parse_der(&d, &a, &e, &path, &err), SH_E_OK);
            assert_linear(&t, der_len);
            sh_entitlements_free(&e);
        } else {
            assert_int_equal(r, SH_E_ENT_DER_TOO_DEEP);
        }
        sh_free(NULL, der);
    }
}

/* DER past the depth cap, written directly: 0x70 wrapper, version, then nested dict SETs. */
static void der_claimed_length(void **state)
{
    (void)state;
    /* [APPLICATION 16] with a 4 GiB length in 6 bytes, and the same inside a blob */
    static const uint8_t der[] = {0x70, 0x84, 0xff, 0xff, 0xff, 0xf0};
    tally t;
    sh_allocator a = tally_start(&t);
    sh_cursor c = sh_cursor_make(der, sizeof der);
    sh_entitlements e;
    sh_ent_path path;
    sh_error err = {0};
    sh_err r = sh_entitlements_parse_der(&c, &a, &e, &path, &err);
    assert_true(r == SH_E_ENT_DER_TRUNCATED || r == SH_E_ENT_DER_LENGTH_OVERFLOW);
    assert_linear(&t, sizeof der);
    assert_true(t.bytes < 4096);
}

/* A binary plist whose trailer claims 2^40 objects in a few dozen bytes. */
static void bplist_claimed_objects(void **state)
{
    (void)state;
    uint8_t b[8 + 1 + 32];
    memset(b, 0, sizeof b);
    memcpy(b, "bplist00", 8);
    b[8] = 0x09;                    /* true */
    uint8_t *tr = b + 9;            /* trailer: 6 unused, sort, offset size, ref size, 3 x u64 */
    tr[6] = 1;                      /* offset int size */
    tr[7] = 1;                      /* object ref size */
    tr[8 + 3] = 0x01;               /* num objects = 2^40 (big-endian u64 at tr+8) */
    tr[24 + 7] = 8;                 /* offset table offset */
    tally t;
    sh_allocator a = tally_start(&t);
    sh_cursor c = sh_cursor_make(b, sizeof b);
    sh_plist_stats st;
    sh_error err = {0};
    assert_int_not_equal(sh_plist_guard(&c, &a, &st, &err), SH_E_OK);
    assert_true(t.bytes < 4096);
}

/* ---- Mach-O and fat ------------------------------------------------------------------------ */

#define ARM64_CPU 0x0100000c

static void append_le32(sig_buf *b, uint32_t v)
{
    uint8_t le[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    sig_append(b, le, 4);
}

/* mach_header_64, little-endian, MH_EXECUTE, ncmds/sizeofcmds as given, no commands. */
static void append_thin_header(sig_buf *b, uint32_t cpusubtype, uint32_t ncmds, uint32_t sizeofcmds)
{
    append_le32(b, 0xfeedfacf);
    append_le32(b, ARM64_CPU);
    append_le32(b, cpusubtype);
    append_le32(b, 2); /* MH_EXECUTE */
    append_le32(b, ncmds);
    append_le32(b, sizeofcmds);
    append_le32(b, 0);
    append_le32(b, 0);
}

/* A fat file with n 32-byte slices (arm64, subtypes 0..n-1), each at 2^5 alignment. */
static sig_buf fat_with(uint32_t magic, uint32_t n)
{
    const bool wide = magic == SH_FAT_MAGIC_64;
    sig_buf b = {0};
    sig_append_u32(&b, magic);
    sig_append_u32(&b, n);
    size_t first = (8 + (size_t)n * (wide ? 32 : 20) + 31) & ~(size_t)31;
    for (uint32_t i = 0; i < n; i++) {
        sig_append_u32(&b, ARM64_CPU);
        sig_append_u32(&b, i);
        if (wide) {
            sig_append_u64(&b, first + 32 * i);
            sig_append_u64(&b, 32);
        } else {
            sig_append_u32(&b, (uint32_t)(first + 32 * i));
            sig_append_u32(&b, 32);
        }
        sig_append_u32(&b, 5);
        if (wide)
            sig_append_u32(&b, 0); /* reserved */
    }
    while (b.len < first)
        sig_append_u8(&b, 0);
    for (uint32_t i = 0; i < n; i++)
        append_thin_header(&b, i, 0, 0);
    return b;
}

/* n slices parse (allocation linear) or fail with expect (nothing allocated). */
static void check_fat(uint32_t magic, uint32_t n, sh_err expect)
{
    sig_buf b = fat_with(magic, n);
    tally t;
    sh_allocator a = tally_start(&t);
    sh_macho_file f;
    sh_error err = {0};
    assert_int_equal(sh_macho_parse(b.data, b.len, &a, &f, &err), expect);
    if (expect == SH_E_OK)
        assert_int_equal(f.nslices, n);
    else
        assert_int_equal(t.bytes, 0);
    assert_linear(&t, b.len);
    sh_macho_free(&f);
    sig_buf_free(&b);
}

/* FAT_MAGIC_64 reaches SH_MAX_FAT_ARCHS; FAT_MAGIC stops below it, at the Java class file
 * boundary (0xcafebabe with nfat_arch >= 45 is a class file's version, not a fat header). */
static void fat_arch_cap(void **state)
{
    (void)state;
    check_fat(SH_FAT_MAGIC_64, SH_MAX_FAT_ARCHS, SH_E_OK);
    check_fat(SH_FAT_MAGIC_64, SH_MAX_FAT_ARCHS + 1, SH_E_FAT_TOO_MANY_ARCHS);
    check_fat(SH_FAT_MAGIC, SH_FAT_JAVA_MIN_NFAT_ARCH - 1, SH_E_OK);
    check_fat(SH_FAT_MAGIC, SH_FAT_JAVA_MIN_NFAT_ARCH, SH_E_NOT_MACHO);
}

/* ncmds claims the maximum (and a million) with no load command bytes behind it: refused
 * before an array of ncmds entries is allocated. */
static void macho_claimed_commands(void **state)
{
    (void)state;
    uint32_t claims[] = {SH_MAX_LOAD_COMMANDS, 1000000};
    sh_err expect[] = {SH_E_MACHO_CMDSIZE_OVERRUN, SH_E_MACHO_TOO_MANY_COMMANDS};
    for (size_t i = 0; i < 2; i++) {
        sig_buf b = {0};
        append_thin_header(&b, 0, claims[i], 0);
        tally t;
        sh_allocator a = tally_start(&t);
        sh_macho_file f;
        sh_error err = {0};
        assert_int_equal(sh_macho_parse(b.data, b.len, &a, &f, &err), expect[i]);
        if (t.bytes > 4096)
            fail_msg("ncmds %u in %zu bytes: %zu bytes allocated", claims[i], b.len, t.bytes);
        sh_macho_free(&f);
        sig_buf_free(&b);
    }
}

/* ---- SuperBlob and CodeDirectory ----------------------------------------------------------- */

static void superblob_blob_cap(void **state)
{
    (void)state;
    sig_buf blob = sig_blob(0xfade0b01u, "x", 1);
    for (uint32_t n = SH_MAX_SUPERBLOB_BLOBS; n <= SH_MAX_SUPERBLOB_BLOBS + 1; n++) {
        sig_entry e[SH_MAX_SUPERBLOB_BLOBS + 1];
        for (uint32_t i = 0; i < n; i++)
            e[i] = (sig_entry){0x20000 + i, &blob};
        sig_buf sb = sig_build_superblob(SH_MAGIC_EMBEDDED_SIGNATURE, e, n, NULL);
        sh_cursor c = sh_cursor_make(sb.data, sb.len);
        sh_superblob out;
        sh_error err = {0};
        sh_err r = sh_superblob_parse(&c, SH_MAGIC_EMBEDDED_SIGNATURE, &out, &err);
        assert_int_equal(r, n <= SH_MAX_SUPERBLOB_BLOBS ? SH_E_OK : SH_E_SUPERBLOB_TOO_MANY_BLOBS);
        if (r == SH_E_OK)
            assert_int_equal(out.count, n);
        /* every index entry pointing at one blob: the overlap check refuses it */
        uint32_t first;
        sb.len = 0;
        sig_buf_free(&sb);
        sb = sig_build_superblob(SH_MAGIC_EMBEDDED_SIGNATURE, e, n, NULL);
        first = sig_get_u32(&sb, 12 + 4);
        for (uint32_t i = 1; i < n; i++)
            sig_set_u32(&sb, 12 + 8 * i + 4, first);
        c = sh_cursor_make(sb.data, sb.len);
        r = sh_superblob_parse(&c, SH_MAGIC_EMBEDDED_SIGNATURE, &out, &err);
        assert_int_equal(r, n <= SH_MAX_SUPERBLOB_BLOBS ? SH_E_SUPERBLOB_BLOBS_OVERLAP
                                                        : SH_E_SUPERBLOB_TOO_MANY_BLOBS);
        sig_buf_free(&sb);
    }
    /* a million claimed in 12 bytes */
    sig_buf tiny = {0};
    sig_append_u32(&tiny, SH_MAGIC_EMBEDDED_SIGNATURE);
    sig_append_u32(&tiny, 12);
    sig_append_u32(&tiny, 1000000);
    sh_cursor c = sh_cursor_make(tiny.data, tiny.len);
    sh_superblob out;
    sh_error err = {0};
    assert_int_not_equal(sh_superblob_parse(&c, SH_MAGIC_EMBEDDED_SIGNATURE, &out, &err), SH_E_OK);
    sig_buf_free(&tiny);
    sig_buf_free(&blob);
}

/* nCodeSlots of 2^28 in a CodeDirectory made for 4 pages: refused by the parser (the hash
 * array cannot fit in the blob) before any page is hashed. */
static void codedir_huge_slot_count(void **state)
{
    (void)state;
    uint8_t code[4 * 4096];
    sig_fill_code(code, sizeof code, 7);
    sig_cd_spec spec;
    sig_cd_defaults(&spec, 0x20400, 2, code, sizeof code);
    sig_buf cd = sig_build_cd(&spec, NULL);
    sh_cursor c = sh_cursor_make(cd.data, cd.len);
    sh_codedir parsed;
    sh_error err = {0};
    assert_int_equal(sh_codedir_parse(&c, &parsed, &err), SH_E_OK);
    sh_page_report rep;
    sh_cursor all = sh_cursor_make(code, sizeof code);
    assert_int_equal(sh_codedir_verify_pages(&parsed, &all, &rep, &err), SH_E_OK);
    assert_int_equal(rep.pages_checked, 4);
    /* a code limit past the data: refused without hashing */
    sh_cursor half = sh_cursor_make(code, sizeof code / 2);
    assert_int_equal(sh_codedir_verify_pages(&parsed, &half, &rep, &err),
                     SH_E_CD_CODE_LIMIT_PAST_DATA);
    assert_int_equal(rep.pages_checked, 0);
    sig_set_u32(&cd, 28, 1u << 28); /* nCodeSlots */
    c = sh_cursor_make(cd.data, cd.len);
    assert_int_equal(sh_codedir_parse(&c, &parsed, &err), SH_E_CD_HASHES_OUT_OF_BLOB);
    sig_buf_free(&cd);
}

/* ---- CodeResources ------------------------------------------------------------------------- */

/* rules2 with n patterns of pattern_len bytes each ("^" + distinct filler), and files2 with
 * npaths entries of path_len bytes. */
static char *coderesources_with(uint32_t n, size_t pattern_len, uint32_t npaths, size_t path_len,
                                size_t *len)
{
    size_t cap = 4096 + (size_t)n * (pattern_len + 64) + (size_t)npaths * (path_len + 128);
    char *x = malloc(cap), *p = x;
    assert_non_null(x);
    p += sprintf(p, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<plist version=\"1.0\"><dict>"
                    "<key>files2</key><dict>");
    for (uint32_t i = 0; i < npaths; i++) {
        p += sprintf(p, "<key>d/%08u", i);
        for (size_t k = 10; k < path_len; k++)
            *p++ = 'a';
        p += sprintf(p, "</key><dict><key>hash2</key><data>"
                        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=</data></dict>");
    }
    p += sprintf(p, "</dict><key>rules2</key><dict>");
    for (uint32_t i = 0; i < n; i++) {
        p += sprintf(p, "<key>^%08u", i);
        for (size_t k = 9; k < pattern_len; k++)
            *p++ = 'b';
        p += sprintf(p, "</key><true/>");
    }
    p += sprintf(p, "</dict></dict></plist>\n");
    *len = (size_t)(p - x);
    assert_true(*len < cap);
    return x;
}

static sh_err parse_coderesources(const char *x, size_t len, tally *t)
{
    sh_allocator a = tally_start(t);
    sh_cursor c = sh_cursor_make((const uint8_t *)x, len);
    sh_coderesources cr;
    sh_res_where where;
    sh_error err = {0};
    sh_err r = sh_coderesources_parse(&c, &a, &cr, &where, &err);
    if (r == SH_E_OK)
        sh_coderesources_free(&cr);
    return r;
}

static void coderesources_rule_caps(void **state)
{
    (void)state;
    size_t len;
    tally t;
    /* the rule count cap, with short patterns */
    char *x = coderesources_with(SH_MAX_RES_RULES, 10, 1, 16, &len);
    assert_int_equal(parse_coderesources(x, len, &t), SH_E_OK);
    assert_linear(&t, len);
    free(x);
    x = coderesources_with(SH_MAX_RES_RULES + 1, 10, 1, 16, &len);
    assert_int_equal(parse_coderesources(x, len, &t), SH_E_RES_TOO_MANY_RULES);
    assert_linear(&t, len);
    free(x);
    /* the pattern-bytes cap (regexec cost = pattern bytes x path bytes): 16 x 512 fills it */
    uint32_t fit = SH_MAX_RES_RULES_BYTES / SH_MAX_RES_REGEX_LEN;
    x = coderesources_with(fit, SH_MAX_RES_REGEX_LEN, 64, SH_MAX_RES_PATH_LEN, &len);
    assert_int_equal(parse_coderesources(x, len, &t), SH_E_OK);
    assert_linear(&t, len);
    free(x);
    x = coderesources_with(fit + 1, SH_MAX_RES_REGEX_LEN, 1, 16, &len);
    assert_int_equal(parse_coderesources(x, len, &t), SH_E_RES_TOO_MANY_RULES);
    free(x);
    /* one pattern past its own length cap, one path past the path cap */
    x = coderesources_with(1, SH_MAX_RES_REGEX_LEN + 1, 1, 16, &len);
    assert_int_equal(parse_coderesources(x, len, &t), SH_E_RES_RULE_REGEX_LIMIT);
    free(x);
    x = coderesources_with(1, 10, 1, SH_MAX_RES_PATH_LEN + 1, &len);
    assert_int_equal(parse_coderesources(x, len, &t), SH_E_RES_BAD_PATH);
    free(x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(requirement_depth_cap),
        cmocka_unit_test(requirement_text_depth_cap),
        cmocka_unit_test(requirement_op_cap),
        cmocka_unit_test(requirement_set_claimed_count),
        cmocka_unit_test(plist_depth_cap),
        cmocka_unit_test(der_depth_cap),
        cmocka_unit_test(der_claimed_length),
        cmocka_unit_test(bplist_claimed_objects),
        cmocka_unit_test(fat_arch_cap),
        cmocka_unit_test(macho_claimed_commands),
        cmocka_unit_test(superblob_blob_cap),
        cmocka_unit_test(codedir_huge_slot_count),
        cmocka_unit_test(coderesources_rule_caps),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
