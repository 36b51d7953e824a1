/* CodeDirectory: fields of every version, hash types, accessors, cdhash, flags, page checks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "codedir.h"
#include "sig_builder.h"

#define CODE_BASE 0x4000u /* absolute offset given to code views, so offsets are checked */

/* A parsed CD plus the exactly sized heap copy it points into. */
typedef struct parsed_cd {
    uint8_t *copy;
    sh_codedir cd;
    sh_error err;
    sh_err result;
} parsed_cd;

static parsed_cd parse_built(const sig_buf *b, uint64_t base)
{
    parsed_cd p = {0};
    p.copy = sig_exact_copy(b->data, b->len);
    sh_cursor c = sh_cursor_make(p.copy, b->len);
    c.base = base;
    p.result = sh_codedir_parse(&c, &p.cd, &p.err);
    return p;
}

static void parsed_free(parsed_cd *p) { free(p->copy); }

static sh_cursor code_view(const uint8_t *code, size_t len)
{
    sh_cursor c = sh_cursor_make(code, len);
    c.base = CODE_BASE;
    return c;
}

static bool view_equals(const sh_cursor *v, const uint8_t *bytes, size_t n)
{
    return v->len == n && memcmp(v->p, bytes, n) == 0;
}

/* ---- one test per version: every field that version has, none that it lacks ---- */

static sig_buf build_version(uint32_t version, sig_cd_spec *s, sig_cd_layout *l, uint8_t *code,
                             size_t code_len)
{
    sig_fill_code(code, code_len, version);
    sig_cd_defaults(s, version, 2, code, code_len);
    s->flags = 0x10002;
    s->platform = 7;
    s->identifier = "org.example.version";
    s->team_id = "TEAM123456";
    s->exec_seg_base = 0x10;
    s->exec_seg_limit = 0x4000;
    s->exec_seg_flags = 0x11;
    s->runtime = 0x0b0300;
    s->pre_encrypt_offset = 0x77;
    s->linkage_hash_type = 2;
    s->linkage_application_type = 3;
    s->linkage_application_subtype = 0x0405;
    if (version >= 0x20300)
        s->code_limit64 = code_len;
    static const sig_scatter identity[] = {{3, 0, 0x1234, 0}};
    s->scatter = identity;
    s->n_scatter = 1;
    static const uint8_t linkage[] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
    s->linkage = linkage;
    s->linkage_len = sizeof linkage;
    return sig_build_cd(s, l);
}

static void check_common_fields(const sh_codedir *cd, const sig_cd_spec *s, const sig_cd_layout *l)
{
    assert_int_equal(cd->version, s->version);
    assert_int_equal(cd->length, l->length);
    assert_int_equal(cd->flags, 0x10002);
    assert_int_equal(cd->hash_offset, l->hash_offset);
    assert_int_equal(cd->ident_offset, l->ident_offset);
    assert_int_equal(cd->n_special_slots, 0);
    assert_int_equal(cd->n_code_slots, 3);
    assert_int_equal(cd->code_limit, s->code_limit);
    assert_int_equal(cd->hash_size, 32);
    assert_int_equal(cd->hash_type, 2);
    assert_int_equal(cd->platform, 7);
    assert_int_equal(cd->page_shift, 12);
    assert_int_equal(cd->spare2, 0);
    assert_int_equal(cd->header_size, l->header_size);
    assert_int_equal(cd->identifier_len, strlen("org.example.version"));
    assert_memory_equal(cd->identifier, "org.example.version", cd->identifier_len + 1);
}

static void check_version(uint32_t version, size_t header_size)
{
    uint8_t code[3 * 4096 - 100];
    sig_cd_spec s;
    sig_cd_layout l;
    sig_buf b = build_version(version, &s, &l, code, sizeof code);
    assert_int_equal(l.header_size, header_size);
    parsed_cd p = parse_built(&b, 0x100);
    assert_int_equal(p.result, SH_E_OK);
    const sh_codedir *cd = &p.cd;
    check_common_fields(cd, &s, &l);
    assert_int_equal(sh_codedir_header_size(version), header_size);
    assert_int_equal(cd->blob.base, 0x100);

    bool scatter = version >= 0x20100, team = version >= 0x20200, limit64 = version >= 0x20300;
    bool execseg = version >= 0x20400, runtime = version >= 0x20500, linkage = version >= 0x20600;
    assert_int_equal(cd->scatter_offset, scatter ? l.scatter_offset : 0);
    assert_int_equal(cd->n_scatter, scatter ? 1 : 0);
    assert_int_equal(sh_codedir_has_scatter(cd), scatter);
    assert_int_equal(cd->team_offset, team ? l.team_offset : 0);
    if (team) {
        assert_non_null(cd->team_id);
        assert_string_equal(cd->team_id, "TEAM123456");
        assert_int_equal(cd->team_id_len, 10);
    } else {
        assert_null(cd->team_id);
    }
    assert_int_equal(cd->spare3, 0);
    assert_true(cd->code_limit64 == (limit64 ? sizeof code : 0));
    assert_true(cd->effective_limit == sizeof code);
    assert_true(cd->exec_seg_base == (execseg ? 0x10u : 0u));
    assert_true(cd->exec_seg_limit == (execseg ? 0x4000u : 0u));
    assert_true(cd->exec_seg_flags == (execseg ? 0x11u : 0u));
    assert_int_equal(cd->runtime, runtime ? 0x0b0300 : 0);
    assert_int_equal(cd->pre_encrypt_offset, runtime ? 0x77 : 0);
    assert_int_equal(cd->linkage_hash_type, linkage ? 2 : 0);
    assert_int_equal(cd->linkage_application_type, linkage ? 3 : 0);
    assert_int_equal(cd->linkage_application_subtype, linkage ? 0x0405 : 0);
    assert_int_equal(cd->linkage_offset, linkage ? l.linkage_offset : 0);
    assert_int_equal(cd->linkage_size, linkage ? 9 : 0);
    assert_int_equal(cd->has_linkage, linkage);
    if (linkage) {
        static const uint8_t expected[] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
        assert_true(view_equals(&cd->linkage, expected, sizeof expected));
        assert_int_equal(cd->linkage.base, 0x100 + l.linkage_offset);
    }
    sh_cursor c = code_view(code, sizeof code);
    sh_page_report r;
    sh_error err;
    assert_int_equal(sh_codedir_verify_pages(cd, &c, &r, &err), SH_E_OK);
    assert_int_equal(r.pages_checked, 3);
    parsed_free(&p);
    sig_buf_free(&b);
}

static void version_20001(void **state) { (void)state; check_version(0x20001, 0x2C); }
static void version_20100(void **state) { (void)state; check_version(0x20100, 0x30); }
static void version_20200(void **state) { (void)state; check_version(0x20200, 0x34); }
static void version_20300(void **state) { (void)state; check_version(0x20300, 0x40); }
static void version_20400(void **state) { (void)state; check_version(0x20400, 0x58); }
static void version_20500(void **state) { (void)state; check_version(0x20500, 0x60); }
static void version_20600(void **state) { (void)state; check_version(0x20600, 0x6C); }

/* A version past the known ones (up to 0x2F000) is accepted; its unknown tail is skipped. */
static void future_version_tail_ignored(void **state)
{
    (void)state;
    uint32_t versions[] = {0x20700, 0x2F000};
    for (size_t i = 0; i < 2; i++) {
        uint8_t code[5000];
        sig_cd_spec s;
        sig_cd_layout l;
        sig_fill_code(code, sizeof code, 9);
        sig_cd_defaults(&s, versions[i], 2, code, sizeof code);
        s.unknown_tail_len = 20;
        s.team_id = "FUTURE";
        sig_buf b = sig_build_cd(&s, &l);
        parsed_cd p = parse_built(&b, 0);
        assert_int_equal(p.result, SH_E_OK);
        assert_int_equal(p.cd.header_size, 0x6C);
        assert_string_equal(p.cd.team_id, "FUTURE");
        assert_int_equal(p.cd.n_code_slots, 2);
        parsed_free(&p);
        sig_buf_free(&b);
    }
}

/* codeLimit64 (0x20300+) overrides codeLimit when non-zero. */
static void code_limit64_is_the_effective_limit(void **state)
{
    (void)state;
    uint8_t code[9000];
    sig_fill_code(code, sizeof code, 3);
    sig_cd_spec s;
    sig_cd_defaults(&s, 0x20300, 2, code, sizeof code);
    s.code_limit = 100; /* would be one page; the 64-bit field says three */
    s.code_limit64 = sizeof code;
    sig_buf b = sig_build_cd(&s, NULL);
    parsed_cd p = parse_built(&b, 0);
    assert_int_equal(p.result, SH_E_OK);
    assert_true(p.cd.code_limit64 == sizeof code);
    assert_true(p.cd.effective_limit == sizeof code);
    assert_int_equal(p.cd.n_code_slots, 3);
    parsed_free(&p);
    sig_buf_free(&b);

    /* Before 0x20300 there is no such field: bytes there belong to the identifier. */
    sig_cd_defaults(&s, 0x20200, 2, code, sizeof code);
    b = sig_build_cd(&s, NULL);
    p = parse_built(&b, 0);
    assert_int_equal(p.result, SH_E_OK);
    assert_true(p.cd.code_limit64 == 0);
    assert_true(p.cd.effective_limit == sizeof code);
    parsed_free(&p);
    sig_buf_free(&b);
}

/* ---- hash types, cdhash, accessors ---- */

static void every_hash_type(void **state)
{
    (void)state;
    static const unsigned types[] = {1, 2, 3, 4};
    static const size_t sizes[] = {20, 32, 20, 48};
    uint8_t code[4096 * 2 + 7];
    sig_fill_code(code, sizeof code, 42);
    sig_buf req = sig_blob(0xfade0c01, "\0\0\0\0", 4);
    for (size_t i = 0; i < 4; i++) {
        sig_cd_spec s;
        sig_cd_defaults(&s, 0x20400, types[i], code, sizeof code);
        sig_cd_seal(&s, 2, &req);
        s.n_special_slots = 5;
        sig_buf b = sig_build_cd(&s, NULL);
        parsed_cd p = parse_built(&b, 0x2000);
        assert_int_equal(p.result, SH_E_OK);
        assert_int_equal(p.cd.hash_type, types[i]);
        assert_int_equal(p.cd.hash_size, sizes[i]);

        uint8_t expected[48];
        assert_int_equal(sig_digest(types[i], b.data, b.len, expected), sizes[i]);
        assert_int_equal(p.cd.cdhash_size, sizes[i]);
        assert_memory_equal(p.cd.cdhash, expected, sizes[i]);

        sh_cursor h;
        for (uint32_t page = 0; page < 3; page++) {
            size_t len = page < 2 ? 4096 : 7;
            sig_digest(types[i], code + page * 4096, len, expected);
            assert_true(sh_codedir_code_hash(&p.cd, page, &h));
            assert_true(view_equals(&h, expected, sizes[i]));
        }
        assert_false(sh_codedir_code_hash(&p.cd, 3, &h));

        sig_digest(types[i], req.data, req.len, expected);
        assert_true(sh_codedir_special_hash(&p.cd, 2, &h));
        assert_true(view_equals(&h, expected, sizes[i]));
        assert_int_equal(h.base, 0x2000 + p.cd.hash_offset - 2 * sizes[i]);
        assert_true(sh_codedir_special_present(&p.cd, 2));
        assert_true(sh_codedir_special_hash(&p.cd, 5, &h)); /* in range, all zeros */
        assert_false(sh_codedir_special_present(&p.cd, 5));
        assert_false(sh_codedir_special_present(&p.cd, 1));
        assert_false(sh_codedir_special_hash(&p.cd, 0, &h));
        assert_false(sh_codedir_special_hash(&p.cd, 6, &h));

        sh_cursor c = code_view(code, sizeof code);
        sh_page_report r;
        sh_error err;
        assert_int_equal(sh_codedir_verify_pages(&p.cd, &c, &r, &err), SH_E_OK);
        assert_int_equal(r.pages_checked, 3);
        assert_int_equal(r.pages_bad, 0);
        assert_int_equal(r.first_bad, -1);
        parsed_free(&p);
        sig_buf_free(&b);
    }
    sig_buf_free(&req);
}

/* ---- page verification ---- */

typedef struct page_fixture {
    uint8_t *code;
    size_t code_len;
    sig_buf cd_bytes;
    parsed_cd parsed;
} page_fixture;

static void make_pages(page_fixture *f, size_t code_len, uint8_t shift, unsigned type)
{
    f->code = malloc(code_len);
    assert_non_null(f->code);
    f->code_len = code_len;
    sig_fill_code(f->code, code_len, (uint32_t)code_len);
    sig_cd_spec s;
    sig_cd_defaults(&s, 0x20400, type, f->code, code_len);
    s.page_shift = shift;
    f->cd_bytes = sig_build_cd(&s, NULL);
    f->parsed = parse_built(&f->cd_bytes, 0);
    assert_int_equal(f->parsed.result, SH_E_OK);
}

static void free_pages(page_fixture *f)
{
    parsed_free(&f->parsed);
    sig_buf_free(&f->cd_bytes);
    free(f->code);
}

static sh_err verify(const page_fixture *f, sh_page_report *r, sh_error *err)
{
    sh_cursor c = code_view(f->code, f->code_len);
    return sh_codedir_verify_pages(&f->parsed.cd, &c, r, err);
}

static void mismatch_reports_exact_page(void **state)
{
    (void)state;
    page_fixture f;
    make_pages(&f, 5 * 4096, 12, 2);
    sh_page_report r;
    sh_error err;
    for (uint32_t page = 0; page < 5; page++) {
        size_t at = page * 4096 + 1234;
        f.code[at] ^= 0x40;
        assert_int_equal(verify(&f, &r, &err), SH_E_CD_PAGE_HASH_MISMATCH);
        assert_int_equal(err.code, SH_E_CD_PAGE_HASH_MISMATCH);
        assert_string_equal(err.where, "code page");
        assert_int_equal(err.index, page);
        assert_int_equal(err.offset, CODE_BASE + page * 4096);
        assert_int_equal(r.pages_checked, 5);
        assert_int_equal(r.pages_bad, 1);
        assert_int_equal(r.first_bad, page);
        assert_int_equal(r.last_bad, page);
        f.code[at] ^= 0x40;
    }
    /* Two bad pages: first and last both reported, every page still checked. */
    f.code[4096] ^= 1;
    f.code[4 * 4096 + 5] ^= 1;
    assert_int_equal(verify(&f, &r, &err), SH_E_CD_PAGE_HASH_MISMATCH);
    assert_int_equal(r.pages_bad, 2);
    assert_int_equal(r.first_bad, 1);
    assert_int_equal(r.last_bad, 4);
    assert_int_equal(err.index, 1);
    assert_true(err.has_value && err.value == 2);
    free_pages(&f);
}

static void last_partial_page(void **state)
{
    (void)state;
    page_fixture f;
    make_pages(&f, 3 * 4096 + 17, 12, 1);
    assert_int_equal(f.parsed.cd.n_code_slots, 4);
    sh_page_report r;
    sh_error err;
    assert_int_equal(verify(&f, &r, &err), SH_E_OK);
    assert_int_equal(r.pages_checked, 4);
    f.code[f.code_len - 1] ^= 0xff; /* last byte of the 17-byte page */
    assert_int_equal(verify(&f, &r, &err), SH_E_CD_PAGE_HASH_MISMATCH);
    assert_int_equal(err.index, 3);
    assert_int_equal(err.offset, CODE_BASE + 3 * 4096);
    f.code[f.code_len - 1] ^= 0xff;
    /* Bytes past the limit are not signed: a longer view still verifies. */
    uint8_t *longer = malloc(f.code_len + 100);
    assert_non_null(longer);
    memcpy(longer, f.code, f.code_len);
    memset(longer + f.code_len, 0x5a, 100);
    sh_cursor c = code_view(longer, f.code_len + 100);
    assert_int_equal(sh_codedir_verify_pages(&f.parsed.cd, &c, &r, &err), SH_E_OK);
    free(longer);
    /* A view shorter than the limit cannot be verified. */
    c = code_view(f.code, f.code_len - 1);
    assert_int_equal(sh_codedir_verify_pages(&f.parsed.cd, &c, &r, &err),
                     SH_E_CD_CODE_LIMIT_PAST_DATA);
    assert_int_equal(r.pages_checked, 0);
    free_pages(&f);
}

static void page_size_zero_is_one_page(void **state)
{
    (void)state;
    page_fixture f;
    make_pages(&f, 10000, 0, 2);
    assert_int_equal(f.parsed.cd.n_code_slots, 1);
    sh_page_report r;
    sh_error err;
    assert_int_equal(verify(&f, &r, &err), SH_E_OK);
    assert_int_equal(r.pages_checked, 1);
    f.code[9999] ^= 1;
    assert_int_equal(verify(&f, &r, &err), SH_E_CD_PAGE_HASH_MISMATCH);
    assert_int_equal(err.index, 0);
    free_pages(&f);
}

static void larger_pages(void **state)
{
    (void)state;
    page_fixture f;
    make_pages(&f, 3 * 16384 + 1, 14, 4);
    assert_int_equal(f.parsed.cd.n_code_slots, 4);
    sh_page_report r;
    sh_error err;
    assert_int_equal(verify(&f, &r, &err), SH_E_OK);
    f.code[2 * 16384 + 16383] ^= 1;
    assert_int_equal(verify(&f, &r, &err), SH_E_CD_PAGE_HASH_MISMATCH);
    assert_int_equal(err.index, 2);
    assert_int_equal(err.offset, CODE_BASE + 2 * 16384);
    free_pages(&f);
}

/* ---- scatter vector ---- */

static void scatter_identity_is_verified_other_layouts_refused(void **state)
{
    (void)state;
    uint8_t code[4 * 4096];
    sig_fill_code(code, sizeof code, 5);
    sig_cd_spec s;
    sig_cd_defaults(&s, 0x20100, 1, code, sizeof code);
    sig_scatter identity[] = {{2, 0, 0x1000, 0}, {2, 2, 0x9000, 0}};
    s.scatter = identity;
    s.n_scatter = 2;
    sig_cd_layout l;
    sig_buf b = sig_build_cd(&s, &l);
    parsed_cd p = parse_built(&b, 0);
    assert_int_equal(p.result, SH_E_OK);
    assert_true(sh_codedir_has_scatter(&p.cd));
    assert_int_equal(p.cd.scatter_offset, l.scatter_offset);
    assert_int_equal(p.cd.n_scatter, 2);
    assert_true(p.cd.scatter_pages == 4);
    sh_cd_scatter e;
    assert_true(sh_codedir_scatter_entry(&p.cd, 1, &e));
    assert_int_equal(e.count, 2);
    assert_int_equal(e.base, 2);
    assert_true(e.target_offset == 0x9000);
    assert_true(sh_codedir_scatter_entry(&p.cd, 2, &e));
    assert_int_equal(e.count, 0);
    sh_cursor c = code_view(code, sizeof code);
    sh_page_report r;
    sh_error err;
    assert_int_equal(sh_codedir_verify_pages(&p.cd, &c, &r, &err), SH_E_OK);
    assert_int_equal(r.pages_checked, 4);
    parsed_free(&p);
    sig_buf_free(&b);

    /* Slots 0 -> page 1 and 1..3 -> pages 3..5: valid for checkIntegrity, but Security (linear)
     * and xnu (through the vector) would check different pages: refused, not passed. */
    sig_scatter holes[] = {{1, 1, 0, 0}, {3, 3, 0, 0}};
    s.scatter = holes;
    b = sig_build_cd(&s, NULL);
    p = parse_built(&b, 0);
    assert_int_equal(p.result, SH_E_OK);
    assert_int_equal(sh_codedir_verify_pages(&p.cd, &c, &r, &err), SH_E_CD_SCATTER_UNSUPPORTED);
    assert_int_equal(r.pages_checked, 0);
    parsed_free(&p);
    sig_buf_free(&b);

    /* Only the terminator: the kernel would find no page at all. */
    s.n_scatter = 0;
    b = sig_build_cd(&s, &l);
    p = parse_built(&b, 0);
    assert_int_equal(p.result, SH_E_OK);
    assert_int_equal(p.cd.n_scatter, 0);
    assert_int_equal(sh_codedir_verify_pages(&p.cd, &c, &r, &err), SH_E_CD_SCATTER_UNSUPPORTED);
    parsed_free(&p);
    sig_buf_free(&b);
}

/* ---- flags ---- */

static void flags_string_names_every_flag(void **state)
{
    (void)state;
    char buf[512];
    sh_codedir_flags_string(0, buf, sizeof buf);
    assert_string_equal(buf, "none");
    sh_codedir_flags_string(SH_CS_ADHOC | SH_CS_LINKER_SIGNED, buf, sizeof buf);
    assert_string_equal(buf, "adhoc,linker-signed");
    sh_codedir_flags_string(SH_CS_RUNTIME, buf, sizeof buf);
    assert_string_equal(buf, "runtime");
    sh_codedir_flags_string(0x3ff3f, buf, sizeof buf);
    assert_string_equal(buf, "host,adhoc,get-task-allow,installer,forced-lv,invalid-allowed,hard,"
                             "kill,expires,restrict,enforcement,library-validation,"
                             "entitlements-validated,nvram-unrestricted,runtime,linker-signed");
    sh_codedir_flags_string(SH_CS_HARD | 0x40 | 0x80000000u, buf, sizeof buf);
    assert_string_equal(buf, "hard,0x80000040");
    sh_codedir_flags_string(0x40000, buf, sizeof buf);
    assert_string_equal(buf, "0x40000");
    char tiny[8];
    sh_codedir_flags_string(SH_CS_ADHOC | SH_CS_RUNTIME, tiny, sizeof tiny);
    assert_string_equal(tiny, "adhoc,r");
    sh_codedir_flags_string(SH_CS_ADHOC, tiny, 0); /* no write at all */
    char one[1] = {'x'};
    sh_codedir_flags_string(SH_CS_ADHOC, one, 1);
    assert_int_equal(one[0], 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(version_20001),
        cmocka_unit_test(version_20100),
        cmocka_unit_test(version_20200),
        cmocka_unit_test(version_20300),
        cmocka_unit_test(version_20400),
        cmocka_unit_test(version_20500),
        cmocka_unit_test(version_20600),
        cmocka_unit_test(future_version_tail_ignored),
        cmocka_unit_test(code_limit64_is_the_effective_limit),
        cmocka_unit_test(every_hash_type),
        cmocka_unit_test(mismatch_reports_exact_page),
        cmocka_unit_test(last_partial_page),
        cmocka_unit_test(page_size_zero_is_one_page),
        cmocka_unit_test(larger_pages),
        cmocka_unit_test(scatter_identity_is_verified_other_layouts_refused),
        cmocka_unit_test(flags_string_names_every_flag),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
