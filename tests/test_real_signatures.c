/* Real signatures: binaries signed by codesign, zsign, isign, ld64.lld and Go's linker, and
 * detached components.  Every slice's every CodeDirectory must verify page by page, special
 * slots must match, cdhashes must equal an OpenSSL digest over CD bytes located here
 * independently, and the facts in external-samples/MANIFEST.md must hold.
 *
 * Slices and LC_CODE_SIGNATURE are located by a small reader in this file; when
 * sh_macho_parse() succeeds, its answer must agree with it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "macho.h"
#include "sig_builder.h"
#include "signature.h"

#define MAX_SLICES 8

/* ---- files ---- */

typedef struct file_bytes {
    uint8_t *data; /* exactly len bytes */
    size_t len;
} file_bytes;

static bool read_file(const char *path, file_bytes *out)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return false;
    sig_buf b = {0};
    uint8_t chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        sig_append(&b, chunk, n);
    fclose(f);
    out->data = sig_exact_copy(b.data, b.len);
    out->len = b.len;
    sig_buf_free(&b);
    return true;
}

static const char *shared_dir(char *buf, size_t size)
{
    const char *dir = getenv("SH_SHARED_DIR");
    if (dir && *dir)
        return dir;
    const char *src = getenv("SH_SOURCE_DIR");
    if (!src)
        fail_msg("set SH_SHARED_DIR or SH_SOURCE_DIR");
    snprintf(buf, size, "%s/../shared", src);
    return buf;
}

static file_bytes load_external(const char *sub, const char *name)
{
    char dir_buf[1024], path[2048];
    snprintf(path, sizeof path, "%s/external-samples/%s/%s", shared_dir(dir_buf, sizeof dir_buf),
             sub, name);
    file_bytes f;
    if (!read_file(path, &f))
        fail_msg("cannot read %s", path);
    return f;
}

/* ---- an independent reader for slices, LC_CODE_SIGNATURE and SuperBlob entries ---- */

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

typedef struct slice_info {
    uint64_t offset, size;
    bool is_signed;
    uint32_t dataoff, datasize; /* LC_CODE_SIGNATURE, slice-relative */
} slice_info;

static void find_code_signature(const file_bytes *f, slice_info *s)
{
    const uint8_t *h = f->data + s->offset;
    assert_true(s->size >= 32);
    uint32_t magic = le32(h);
    assert_true(magic == 0xfeedface || magic == 0xfeedfacf);
    uint32_t ncmds = le32(h + 16);
    uint64_t pos = magic == 0xfeedfacf ? 32 : 28;
    for (uint32_t i = 0; i < ncmds; i++) {
        assert_true(pos + 8 <= s->size);
        uint32_t cmd = le32(h + pos), cmdsize = le32(h + pos + 4);
        assert_true(cmdsize >= 8 && pos + cmdsize <= s->size);
        if (cmd == 0x1d) {
            s->is_signed = true;
            s->dataoff = le32(h + pos + 8);
            s->datasize = le32(h + pos + 12);
            assert_true((uint64_t)s->dataoff + s->datasize <= s->size);
            return;
        }
        pos += cmdsize;
    }
}

static uint32_t find_slices(const file_bytes *f, slice_info *out)
{
    uint32_t n = 0;
    if (be32(f->data) == 0xcafebabe) {
        n = be32(f->data + 4);
        assert_true(n >= 1 && n <= MAX_SLICES);
        for (uint32_t i = 0; i < n; i++) {
            const uint8_t *a = f->data + 8 + 20 * i;
            out[i] = (slice_info){.offset = be32(a + 8), .size = be32(a + 12)};
        }
    } else {
        n = 1;
        out[0] = (slice_info){.offset = 0, .size = f->len};
    }
    for (uint32_t i = 0; i < n; i++) {
        assert_true(out[i].offset + out[i].size <= f->len);
        find_code_signature(f, &out[i]);
    }
    return n;
}

/* When the colleague's Mach-O parser can read the file, it must locate the same signatures. */
static void cross_check_macho_parser(const file_bytes *f, const slice_info *slices, uint32_t n)
{
    sh_macho_file m;
    sh_error err;
    if (sh_macho_parse(f->data, f->len, NULL, &m, &err) != SH_E_OK) {
        print_message("note: sh_macho_parse refused the file (%s); using the local reader\n",
                      sh_err_name(err.code));
        sh_macho_free(&m);
        return;
    }
    assert_int_equal(m.nslices, n);
    for (uint32_t i = 0; i < n; i++) {
        assert_true(m.slices[i].offset == slices[i].offset);
        sh_cursor sig;
        sh_err e = sh_macho_signature(&m.slices[i], &sig, &err);
        if (!slices[i].is_signed) {
            assert_int_equal(e, SH_E_MACHO_UNSIGNED);
            continue;
        }
        assert_int_equal(e, SH_E_OK);
        assert_true(sig.base == slices[i].offset + slices[i].dataoff);
        assert_int_equal(sig.len, slices[i].datasize);
    }
    sh_macho_free(&m);
}

/* CD blobs of a SuperBlob at absolute offset sb, found by reading the index by hand. */
typedef struct raw_cd {
    uint32_t slot;
    uint64_t offset; /* absolute */
    uint32_t length;
} raw_cd;

static uint32_t raw_code_directories(const file_bytes *f, uint64_t sb, raw_cd *out)
{
    uint32_t count = be32(f->data + sb + 8), n = 0;
    for (uint32_t i = 0; i < count; i++) {
        uint32_t type = be32(f->data + sb + 12 + 8 * i);
        uint32_t off = be32(f->data + sb + 16 + 8 * i);
        if (be32(f->data + sb + off) != 0xfade0c02)
            continue;
        out[n++] = (raw_cd){type, sb + off, be32(f->data + sb + off + 4)};
    }
    return n;
}

/* ---- checks every signed slice gets ---- */

typedef struct slice_result {
    slice_info info;
    sh_cursor code, sig_data;
    sh_signature sig;
} slice_result;

static void check_cdhashes_independently(const file_bytes *f, const slice_result *r)
{
    raw_cd raw[1 + SH_MAX_ALTERNATE_CDS];
    uint32_t n = raw_code_directories(f, r->sig_data.base, raw);
    assert_int_equal(n, r->sig.ncds);
    for (uint32_t i = 0; i < n; i++) {
        const sh_codedir *cd = &r->sig.cds[i];
        assert_int_equal(r->sig.cd_slots[i], raw[i].slot);
        assert_true(cd->blob.base == raw[i].offset);
        uint8_t digest[48];
        size_t size = sig_digest(cd->hash_type, f->data + raw[i].offset, raw[i].length, digest);
        assert_int_equal(cd->cdhash_size, size);
        assert_memory_equal(cd->cdhash, digest, size);
    }
}

static void check_signed_slice(const file_bytes *f, slice_result *r)
{
    sh_cursor file = sh_cursor_make(f->data, f->len);
    assert_true(sh_cursor_sub(&file, r->info.offset, r->info.size, &r->code));
    assert_true(sh_cursor_sub(&r->code, r->info.dataoff, r->info.datasize, &r->sig_data));
    sh_error err;
    sh_err e = sh_signature_parse(&r->sig_data, &r->sig, &err);
    if (e != SH_E_OK) {
        char msg[256];
        sh_error_format(&err, msg, sizeof msg);
        fail_msg("signature at 0x%llx: %s", (unsigned long long)r->sig_data.base, msg);
    }
    /* The signed range ends where the signature starts. */
    for (uint32_t i = 0; i < r->sig.ncds; i++)
        assert_true(r->sig.cds[i].effective_limit == r->info.dataoff);

    sh_page_report reports[1 + SH_MAX_ALTERNATE_CDS];
    e = sh_signature_verify_pages(&r->sig, &r->code, reports, &err);
    assert_int_equal(e, SH_E_OK);
    for (uint32_t i = 0; i < r->sig.ncds; i++) {
        assert_int_equal(reports[i].pages_checked, r->sig.cds[i].n_code_slots);
        assert_int_equal(reports[i].pages_bad, 0);
        assert_int_equal(reports[i].first_bad, -1);
    }
    assert_int_equal(sh_signature_check_special_slots(&r->sig, &err), SH_E_OK);
    check_cdhashes_independently(f, r);
    for (uint32_t i = 0; i < r->sig.ncds; i++)
        assert_true(sh_hash_rank(r->sig.cds[i].hash_type) <=
                    sh_hash_rank(r->sig.cds[r->sig.best].hash_type));
}

/* Parses and checks every slice; returns the slice count. */
static uint32_t check_file(const file_bytes *f, slice_result *results)
{
    slice_info info[MAX_SLICES];
    uint32_t n = find_slices(f, info);
    cross_check_macho_parser(f, info, n);
    for (uint32_t i = 0; i < n; i++) {
        results[i].info = info[i];
        if (info[i].is_signed)
            check_signed_slice(f, &results[i]);
    }
    return n;
}

/* ---- facts from MANIFEST.md ---- */

typedef struct sample_facts {
    const char *file;
    uint32_t nslices;
    uint32_t ncds;        /* primary plus alternates */
    uint32_t version;
    unsigned hash_type;   /* of the primary */
    unsigned alt_hash;    /* of the 0x1000 alternate, 0 when none */
    uint32_t flags;
    const char *identifier;
    const char *team;     /* NULL: none */
    int64_t n_special;    /* -1: not stated */
    uint32_t blob_count;  /* SuperBlob entries */
    bool cms_empty;
    bool info_and_resources_sealed; /* special slots 1 and 3 non-zero */
} sample_facts;

static const sample_facts facts[] = {
    {"sparkle_DevSignedApp_SignedApp", 1, 1, 0x20400, 2, 0, 0, "com.zoo.SignedApp", "ZCK58M894E", 7, 5, false, true},
    {"appinfo_GuiApp_universal", 2, 1, 0x20500, 2, 0, SH_CS_RUNTIME, "com.icyleaf.macos.GUIApp", "72LA85G59H", 7, 5, false, true},
    {"santa_cert_hash_allowed_signingid_blocked_universal", 2, 1, 0x20400, 2, 0, 0, "com.google.blocked_signing_id", "EQHXZ8M8AV", 2, 3, false, false},
    {"santa_allowed_cdhash_linker_signed", 1, 1, 0x20400, 2, 0, SH_CS_ADHOC | SH_CS_LINKER_SIGNED, "allowed_cdhash", NULL, 0, 1, true, false},
    {"isign_isignTestApp_armv7_arm64", 2, 1, 0x20200, 1, 0, 0, "com.saucelabs.isignTestApp", "L37S4Z6BE9", 5, 4, false, true},
    {"runloop_CalSmoke-cal_armv7_arm64_sha1cms", 2, 1, 0x20200, 1, 0, 0, "com.xamarin.chou-cal", "7S6YLL52WH", 5, 4, false, true},
    {"runloop_CalSmoke_sim_i386_x86_64_adhoc", 2, 2, 0x20100, 1, 2, SH_CS_ADHOC, "sh.calaba.CalSmoke", NULL, 3, 4, true, true},
    {"fastlane_very_capable_app_selfsigned", 1, 2, 0x20400, 1, 2, 0, "org.fastlane.very-capable-app", NULL, 5, 5, false, true},
    {"zsign_demo1_no_cms.dylib", 1, 2, 0x20400, 1, 2, 0, "demo.dylib.47ba6b93.unsigned", NULL, 2, 3, true, false},
};

static void check_cd_facts(const sh_codedir *cd, const sample_facts *x, unsigned hash_type)
{
    assert_int_equal(cd->version, x->version);
    assert_int_equal(cd->hash_type, hash_type);
    assert_int_equal(cd->flags, x->flags);
    assert_int_equal(cd->page_shift, 12);
    assert_string_equal(cd->identifier, x->identifier);
    if (x->team) {
        assert_non_null(cd->team_id);
        assert_string_equal(cd->team_id, x->team);
    } else {
        assert_null(cd->team_id);
    }
    if (x->n_special >= 0)
        assert_int_equal(cd->n_special_slots, x->n_special);
    assert_int_equal(sh_codedir_special_present(cd, 1), x->info_and_resources_sealed);
    assert_int_equal(sh_codedir_special_present(cd, 3), x->info_and_resources_sealed);
}

static void check_facts(const sample_facts *x)
{
    file_bytes f = load_external("macho", x->file);
    slice_result *r = calloc(MAX_SLICES, sizeof *r);
    assert_non_null(r);
    uint32_t n = check_file(&f, r);
    assert_int_equal(n, x->nslices);
    for (uint32_t i = 0; i < n; i++) {
        const sh_signature *sig = &r[i].sig;
        assert_true(r[i].info.is_signed);
        assert_int_equal(sig->ncds, x->ncds);
        assert_int_equal(sig->superblob.count, x->blob_count);
        assert_int_equal(sh_signature_cms_empty(sig), x->cms_empty);
        check_cd_facts(&sig->cds[0], x, x->hash_type);
        if (x->alt_hash) {
            assert_int_equal(sig->cd_slots[1], 0x1000);
            check_cd_facts(&sig->cds[1], x, x->alt_hash);
            assert_int_equal(sig->best, 1); /* SHA-256 outranks SHA-1 */
        }
    }
    free(r);
    free(f.data);
}

static void manifest_facts(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof facts / sizeof facts[0]; i++) {
        print_message("checking %s\n", facts[i].file);
        check_facts(&facts[i]);
    }
}

static void hex(const uint8_t *p, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        snprintf(out + 2 * i, 3, "%02x", p[i]);
}

/* google/santa names this binary's cdhash in Source/santad/SantadTest.mm (kAllowedCDHash),
 * a value published independently of this project. */
static void santa_published_cdhash_and_tiny_exec_segment(void **state)
{
    (void)state;
    file_bytes f = load_external("macho", "santa_allowed_cdhash_linker_signed");
    slice_result r[MAX_SLICES];
    assert_int_equal(check_file(&f, r), 1);
    const sh_codedir *cd = &r[0].sig.cds[0];
    char text[41];
    hex(cd->cdhash, SH_CDHASH_LEN, text);
    assert_string_equal(text, "dedebf2eac732d873008b17b3e44a56599dd614b");
    assert_true(cd->exec_seg_limit == 60);
    assert_true(cd->exec_seg_base == 0);
    assert_true(cd->exec_seg_flags == SH_CS_EXECSEG_MAIN_BINARY);
    assert_null(sh_signature_cms(&r[0].sig));
    char flags[128];
    sh_codedir_flags_string(cd->flags, flags, sizeof flags);
    assert_string_equal(flags, "adhoc,linker-signed");
    free(f.data);
}

static void sparkle_info_plist_and_resources_are_bound(void **state)
{
    (void)state;
    file_bytes f = load_external("macho", "sparkle_DevSignedApp_SignedApp");
    file_bytes info = load_external("macho", "sparkle_DevSignedApp_Info.plist");
    file_bytes res = load_external("macho", "sparkle_DevSignedApp_CodeResources");
    slice_result r[MAX_SLICES];
    assert_int_equal(check_file(&f, r), 1);
    const sh_codedir *cd = &r[0].sig.cds[0];
    uint8_t digest[48];
    sh_cursor slot;
    sig_digest(2, info.data, info.len, digest);
    assert_true(sh_codedir_special_hash(cd, 1, &slot));
    assert_memory_equal(slot.p, digest, 32);
    sig_digest(2, res.data, res.len, digest);
    assert_true(sh_codedir_special_hash(cd, 3, &slot));
    assert_memory_equal(slot.p, digest, 32);
    /* Requirements, entitlements and DER entitlements are present and sealed. */
    assert_non_null(sh_superblob_find(&r[0].sig.superblob, SH_SLOT_REQUIREMENTS));
    assert_non_null(sh_superblob_find(&r[0].sig.superblob, SH_SLOT_ENTITLEMENTS));
    assert_non_null(sh_superblob_find(&r[0].sig.superblob, SH_SLOT_DER_ENTITLEMENTS));
    assert_true(r[0].sig.superblob.trailing > 0); /* LC_CODE_SIGNATURE padding */
    free(res.data);
    free(info.data);
    free(f.data);
}

static void calsmoke_empty_requirements_and_wrapper(void **state)
{
    (void)state;
    file_bytes f = load_external("macho", "runloop_CalSmoke_sim_i386_x86_64_adhoc");
    slice_result *r = calloc(MAX_SLICES, sizeof *r);
    assert_non_null(r);
    assert_int_equal(check_file(&f, r), 2);
    for (int i = 0; i < 2; i++) {
        const sh_blob_entry *req = sh_superblob_find(&r[i].sig.superblob, SH_SLOT_REQUIREMENTS);
        assert_non_null(req);
        sh_superblob set;
        sh_error err;
        assert_int_equal(sh_superblob_parse(&req->blob, SH_MAGIC_REQUIREMENTS, &set, &err),
                         SH_E_OK);
        assert_int_equal(set.count, 0);
        assert_non_null(sh_signature_cms(&r[i].sig));
        assert_int_equal(sh_signature_cms(&r[i].sig)->length, 8);
        assert_true(sh_signature_cms_empty(&r[i].sig));
        assert_int_equal(r[i].sig.cds[0].scatter_offset, 0);
    }
    free(r);
    free(f.data);
}

static void fastlane_exec_segment_flags(void **state)
{
    (void)state;
    file_bytes f = load_external("macho", "fastlane_very_capable_app_selfsigned");
    slice_result r[MAX_SLICES];
    assert_int_equal(check_file(&f, r), 1);
    for (uint32_t i = 0; i < r[0].sig.ncds; i++)
        assert_true(r[0].sig.cds[i].exec_seg_flags ==
                    (SH_CS_EXECSEG_MAIN_BINARY | SH_CS_EXECSEG_ALLOW_UNSIGNED));
    assert_null(sh_superblob_find(&r[0].sig.superblob, SH_SLOT_DER_ENTITLEMENTS));
    free(f.data);
}

static void unsigned_fat_has_no_signature(void **state)
{
    (void)state;
    file_bytes f = load_external("macho", "isign_isignTestApp_unsigned_fat");
    slice_result *r = calloc(MAX_SLICES, sizeof *r);
    assert_non_null(r);
    assert_int_equal(check_file(&f, r), 2);
    assert_false(r[0].info.is_signed);
    assert_false(r[1].info.is_signed);
    free(r);
    free(f.data);
}

/* ---- detached components ---- */

static void check_detached_cd(const file_bytes *cd_file, unsigned hash_type,
                              const file_bytes *info, const file_bytes *req,
                              const file_bytes *res, sh_codedir *cd)
{
    sh_cursor c = sh_cursor_make(cd_file->data, cd_file->len);
    sh_error err;
    assert_int_equal(sh_codedir_parse(&c, cd, &err), SH_E_OK);
    assert_int_equal(cd->version, 0x20100);
    assert_int_equal(cd->flags, SH_CS_ADHOC);
    assert_int_equal(cd->hash_type, hash_type);
    assert_int_equal(cd->page_shift, 0);
    assert_int_equal(cd->n_code_slots, 1);
    assert_int_equal(cd->code_limit, 687);
    assert_string_equal(cd->identifier,
                        "org.sparkle-project.Sparkle.SUUpdateValidatorTestBundle.CodeSignedNew");
    /* The one "page" is the whole Info.plist. */
    sh_cursor code = sh_cursor_make(info->data, info->len);
    sh_page_report report;
    assert_int_equal(sh_codedir_verify_pages(cd, &code, &report, &err), SH_E_OK);
    assert_int_equal(report.pages_checked, 1);
    const file_bytes *sealed[] = {NULL, info, req, res};
    for (uint32_t slot = 1; slot <= 3; slot++) {
        uint8_t digest[48];
        size_t size = sig_digest(hash_type, sealed[slot]->data, sealed[slot]->len, digest);
        sh_cursor h;
        assert_true(sh_codedir_special_hash(cd, slot, &h));
        assert_int_equal(h.len, size);
        assert_memory_equal(h.p, digest, size);
    }
    uint8_t digest[48];
    size_t size = sig_digest(hash_type, cd_file->data, cd_file->len, digest);
    assert_memory_equal(cd->cdhash, digest, size);
}

static void detached_code_directories(void **state)
{
    (void)state;
    file_bytes cd1 = load_external("detached", "sparkle_CodeSignedBothNew_CodeDirectory");
    file_bytes cd2 = load_external("detached", "sparkle_CodeSignedBothNew_CodeRequirements-1");
    file_bytes req = load_external("detached", "sparkle_CodeSignedBothNew_CodeRequirements");
    file_bytes res = load_external("detached", "sparkle_CodeSignedBothNew_CodeResources");
    file_bytes info = load_external("detached", "sparkle_CodeSignedBothNew_Info.plist");
    sh_codedir primary, alternate;
    check_detached_cd(&cd1, 1, &info, &req, &res, &primary);
    /* Named like a requirements file, but it is the SHA-256 alternate CodeDirectory. */
    check_detached_cd(&cd2, 2, &info, &req, &res, &alternate);
    assert_true(primary.effective_limit == alternate.effective_limit);

    sh_cursor c = sh_cursor_make(req.data, req.len);
    sh_superblob set;
    sh_error err;
    assert_int_equal(sh_superblob_parse(&c, SH_MAGIC_REQUIREMENTS, &set, &err), SH_E_OK);
    assert_int_equal(set.count, 1);
    assert_int_equal(set.entries[0].type, 3); /* designated */
    assert_int_equal(set.entries[0].magic, SH_MAGIC_REQUIREMENT);
    const char *ident = "org.sparkle-project.Sparkle.SUUpdateValidatorTestBundle.CodeSignedNew";
    bool found = false;
    for (size_t i = 0; i + strlen(ident) <= set.entries[0].blob.len; i++)
        found |= memcmp(set.entries[0].blob.p + i, ident, strlen(ident)) == 0;
    assert_true(found);
    /* The requirements file is not a CodeDirectory: its magic says so. */
    sh_codedir not_cd;
    assert_int_equal(sh_codedir_parse(&c, &not_cd, &err), SH_E_BLOB_BAD_MAGIC);
    free(cd1.data);
    free(cd2.data);
    free(req.data);
    free(res.data);
    free(info.data);
}

/* ---- binaries built at test time by ld64.lld and Go ---- */

typedef struct built_sample {
    const char *file;
    uint32_t nslices;
    const char *identifiers[2];
} built_sample;

static void linker_signed_samples(void **state)
{
    (void)state;
    const char *dir = getenv("SH_SAMPLES_DIR");
    if (!dir || !*dir) {
        print_message("SH_SAMPLES_DIR not set: skipping the linker-signed samples\n");
        skip();
    }
    static const built_sample samples[] = {
        {"lld-arm64", 1, {"lld-arm64"}},
        {"lld-x86_64", 1, {"lld-x86_64"}},
        {"lld-fat", 2, {"lld-x86_64", "lld-arm64"}},
        {"go-arm64", 1, {"a.out"}},
    };
    for (size_t i = 0; i < sizeof samples / sizeof samples[0]; i++) {
        char path[2048];
        snprintf(path, sizeof path, "%s/%s", dir, samples[i].file);
        file_bytes f;
        if (!read_file(path, &f))
            fail_msg("cannot read %s", path);
        slice_result *r = calloc(MAX_SLICES, sizeof *r);
        assert_non_null(r);
        assert_int_equal(check_file(&f, r), samples[i].nslices);
        for (uint32_t s = 0; s < samples[i].nslices; s++) {
            const sh_codedir *cd = &r[s].sig.cds[0];
            assert_int_equal(r[s].sig.ncds, 1);
            assert_int_equal(cd->version, 0x20400);
            assert_int_equal(cd->hash_type, SH_HASH_SHA256);
            assert_int_equal(cd->flags, SH_CS_ADHOC | SH_CS_LINKER_SIGNED);
            assert_string_equal(cd->identifier, samples[i].identifiers[s]);
            assert_true(sh_signature_cms_empty(&r[s].sig));
        }
        free(r);
        free(f.data);
    }
}

/* ---- byte flips ---- */

static sh_err verify_all(const slice_result *r, sh_page_report *reports, sh_error *err)
{
    return sh_signature_verify_pages(&r->sig, &r->code, reports, err);
}

/* Flipping one byte of [0, codeLimit) is reported at exactly its page, by every CD. */
static void flip_inside_limit(file_bytes *f, slice_result *r, uint64_t at)
{
    uint64_t abs = r->info.offset + at;
    uint32_t page = (uint32_t)(at >> 12);
    f->data[abs] ^= 0x5a;
    sh_page_report reports[1 + SH_MAX_ALTERNATE_CDS];
    sh_error err;
    sh_err e = verify_all(r, reports, &err);
    f->data[abs] ^= 0x5a;
    if (e != SH_E_CD_PAGE_HASH_MISMATCH)
        fail_msg("flip at 0x%llx: %s", (unsigned long long)abs, sh_err_name(e));
    assert_int_equal(err.index, page);
    assert_true(err.offset == r->info.offset + ((uint64_t)page << 12));
    for (uint32_t i = 0; i < r->sig.ncds; i++) {
        assert_int_equal(reports[i].pages_bad, 1);
        assert_int_equal(reports[i].first_bad, page);
    }
}

/* Flipping a byte of the signature area outside the CodeDirectories: whatever else it breaks,
 * it is never a code page mismatch. */
static void flip_after_limit(file_bytes *f, slice_result *r, uint64_t at)
{
    uint64_t abs = r->info.offset + at;
    f->data[abs] ^= 0x5a;
    sh_signature *sig = malloc(sizeof *sig);
    assert_non_null(sig);
    sh_error err;
    sh_err e = sh_signature_parse(&r->sig_data, sig, &err);
    if (e == SH_E_OK) {
        sh_page_report reports[1 + SH_MAX_ALTERNATE_CDS];
        e = sh_signature_verify_pages(sig, &r->code, reports, &err);
        if (e != SH_E_OK)
            fail_msg("flip at 0x%llx after the limit: %s", (unsigned long long)abs,
                     sh_err_name(e));
    }
    assert_int_not_equal(e, SH_E_CD_PAGE_HASH_MISMATCH);
    free(sig);
    f->data[abs] ^= 0x5a;
}

static bool inside_a_code_directory(const slice_result *r, uint64_t abs)
{
    for (uint32_t i = 0; i < r->sig.ncds; i++) {
        const sh_cursor *b = &r->sig.cds[i].blob;
        if (abs >= b->base && abs < b->base + b->len)
            return true;
    }
    return false;
}

static void flips_in(const char *sub, const char *name)
{
    file_bytes f;
    if (strcmp(sub, "samples") == 0) {
        char path[2048];
        snprintf(path, sizeof path, "%s/%s", getenv("SH_SAMPLES_DIR"), name);
        if (!read_file(path, &f))
            fail_msg("cannot read %s", path);
    } else {
        f = load_external(sub, name);
    }
    slice_result *r = calloc(MAX_SLICES, sizeof *r);
    assert_non_null(r);
    uint32_t n = check_file(&f, r);
    for (uint32_t s = 0; s < n; s++) {
        uint64_t limit = r[s].sig.cds[0].effective_limit;
        for (uint64_t page = 0; page << 12 < limit; page++) {
            uint64_t start = page << 12, len = limit - start < 4096 ? limit - start : 4096;
            flip_inside_limit(&f, &r[s], start + (page * 613) % len);
        }
        flip_inside_limit(&f, &r[s], 0);
        flip_inside_limit(&f, &r[s], limit - 1);
        uint64_t end = r[s].info.dataoff + (uint64_t)r[s].info.datasize;
        for (uint64_t at = limit; at < end; at += 7)
            if (!inside_a_code_directory(&r[s], r[s].info.offset + at))
                flip_after_limit(&f, &r[s], at);
        if (!inside_a_code_directory(&r[s], r[s].info.offset + end - 1))
            flip_after_limit(&f, &r[s], end - 1);
    }
    free(r);
    free(f.data);
}

static void byte_flips_hit_exactly_their_page(void **state)
{
    (void)state;
    flips_in("macho", "sparkle_DevSignedApp_SignedApp");     /* CMS, entitlements, padding */
    flips_in("macho", "fastlane_very_capable_app_selfsigned"); /* two CDs */
    const char *dir = getenv("SH_SAMPLES_DIR");
    if (dir && *dir)
        flips_in("samples", "lld-fat");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(manifest_facts),
        cmocka_unit_test(santa_published_cdhash_and_tiny_exec_segment),
        cmocka_unit_test(sparkle_info_plist_and_resources_are_bound),
        cmocka_unit_test(calsmoke_empty_requirements_and_wrapper),
        cmocka_unit_test(fastlane_exec_segment_flags),
        cmocka_unit_test(unsigned_fat_has_no_signature),
        cmocka_unit_test(detached_code_directories),
        cmocka_unit_test(linker_signed_samples),
        cmocka_unit_test(byte_flips_hit_exactly_their_page),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
