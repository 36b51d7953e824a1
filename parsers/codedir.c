/* CodeDirectory parsing and page verification.
 *
 * Parsing follows Security's CodeDirectory::checkIntegrity (and the kernel's
 * cs_validate_codedirectory where it is stricter): every string, the hash array and the scatter
 * vector must lie inside the blob, nCodeSlots must match the signed limit and page size, the
 * hash type must be one the kernel accepts.  All input is read through sh_cursor with 64-bit,
 * overflow-checked arithmetic. */
#include "codedir.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "sh_limits.h"
#include "superblob.h"

#define CD_MIN_READ 12u /* magic, length, version: enough to pick the header size */

size_t sh_codedir_header_size(uint32_t version)
{
    if (version < SH_CD_VERSION_SCATTER)
        return 0x2C;
    if (version < SH_CD_VERSION_TEAM)
        return 0x30;
    if (version < SH_CD_VERSION_CODELIMIT64)
        return 0x34;
    if (version < SH_CD_VERSION_EXECSEG)
        return 0x40;
    if (version < SH_CD_VERSION_RUNTIME)
        return 0x58;
    if (version < SH_CD_VERSION_LINKAGE)
        return 0x60;
    return 0x6C; /* 0x20600 and the unknown versions above it (their extra tail is ignored) */
}

static sh_err fail_cd(const sh_codedir *cd, sh_err code, uint64_t value, sh_error *err)
{
    return sh_fail_value(err, code, "CodeDirectory", -1, cd->blob.base, value);
}

/* Fields introduced by each version, read in order from the fixed header h. */
static bool read_base_fields(sh_cursor *h, sh_codedir *cd)
{
    uint32_t magic;
    return sh_cursor_u32be(h, &magic) && sh_cursor_u32be(h, &cd->length) &&
           sh_cursor_u32be(h, &cd->version) && sh_cursor_u32be(h, &cd->flags) &&
           sh_cursor_u32be(h, &cd->hash_offset) && sh_cursor_u32be(h, &cd->ident_offset) &&
           sh_cursor_u32be(h, &cd->n_special_slots) && sh_cursor_u32be(h, &cd->n_code_slots) &&
           sh_cursor_u32be(h, &cd->code_limit) && sh_cursor_u8(h, &cd->hash_size) &&
           sh_cursor_u8(h, &cd->hash_type) && sh_cursor_u8(h, &cd->platform) &&
           sh_cursor_u8(h, &cd->page_shift) && sh_cursor_u32be(h, &cd->spare2);
}

static bool read_versioned_fields(sh_cursor *h, sh_codedir *cd)
{
    uint32_t v = cd->version;
    bool ok = true;
    if (ok && v >= SH_CD_VERSION_SCATTER)
        ok = sh_cursor_u32be(h, &cd->scatter_offset);
    if (ok && v >= SH_CD_VERSION_TEAM)
        ok = sh_cursor_u32be(h, &cd->team_offset);
    if (ok && v >= SH_CD_VERSION_CODELIMIT64)
        ok = sh_cursor_u32be(h, &cd->spare3) && sh_cursor_u64be(h, &cd->code_limit64);
    if (ok && v >= SH_CD_VERSION_EXECSEG)
        ok = sh_cursor_u64be(h, &cd->exec_seg_base) && sh_cursor_u64be(h, &cd->exec_seg_limit) &&
             sh_cursor_u64be(h, &cd->exec_seg_flags);
    if (ok && v >= SH_CD_VERSION_RUNTIME)
        ok = sh_cursor_u32be(h, &cd->runtime) && sh_cursor_u32be(h, &cd->pre_encrypt_offset);
    if (ok && v >= SH_CD_VERSION_LINKAGE)
        ok = sh_cursor_u8(h, &cd->linkage_hash_type) &&
             sh_cursor_u8(h, &cd->linkage_application_type) &&
             sh_cursor_u16be(h, &cd->linkage_application_subtype) &&
             sh_cursor_u32be(h, &cd->linkage_offset) && sh_cursor_u32be(h, &cd->linkage_size);
    return ok;
}

/* Blob framing, version and the fixed header of that version. */
static sh_err read_header(const sh_cursor *data, sh_codedir *cd, sh_error *err)
{
    uint32_t magic;
    sh_err e = sh_blob_view(data, "CodeDirectory", &magic, &cd->blob, err);
    if (e != SH_E_OK)
        return e;
    if (magic != SH_MAGIC_CODEDIRECTORY)
        return fail_cd(cd, SH_E_BLOB_BAD_MAGIC, magic, err);
    cd->length = (uint32_t)cd->blob.len;
    if (cd->length < CD_MIN_READ || !sh_cursor_u32be_at(&cd->blob, 8, &cd->version))
        return fail_cd(cd, SH_E_CD_TRUNCATED, cd->length, err);
    if (cd->version < SH_CD_VERSION_EARLIEST || cd->version > SH_CD_VERSION_MAX)
        return fail_cd(cd, SH_E_CD_VERSION_UNSUPPORTED, cd->version, err);
    cd->header_size = sh_codedir_header_size(cd->version);
    sh_cursor h;
    if (!sh_cursor_sub(&cd->blob, 0, cd->header_size, &h))
        return fail_cd(cd, SH_E_CD_TRUNCATED, cd->length, err);
    if (!read_base_fields(&h, cd) || !read_versioned_fields(&h, cd))
        return fail_cd(cd, SH_E_CD_TRUNCATED, cd->length, err);
    return SH_E_OK;
}

static sh_err check_hash_type(const sh_codedir *cd, sh_error *err)
{
    if (!sh_hash_supported(cd->hash_type))
        return fail_cd(cd, SH_E_CD_HASH_TYPE_UNSUPPORTED, cd->hash_type, err);
    if (cd->hash_size != sh_hash_size(cd->hash_type))
        return fail_cd(cd, SH_E_CD_HASH_SIZE_MISMATCH, cd->hash_size, err);
    if (cd->page_shift > SH_MAX_PAGE_SHIFT)
        return fail_cd(cd, SH_E_CD_PAGE_SIZE_UNSUPPORTED, cd->page_shift, err);
    return SH_E_OK;
}

static sh_err read_strings(sh_codedir *cd, sh_error *err)
{
    if (!sh_cursor_cstr_at(&cd->blob, cd->ident_offset, SH_MAX_IDENTIFIER_LEN, &cd->identifier,
                           &cd->identifier_len))
        return fail_cd(cd, SH_E_CD_IDENT_OUT_OF_BLOB, cd->ident_offset, err);
    if (cd->version >= SH_CD_VERSION_TEAM && cd->team_offset != 0 &&
        !sh_cursor_cstr_at(&cd->blob, cd->team_offset, SH_MAX_IDENTIFIER_LEN, &cd->team_id,
                           &cd->team_id_len))
        return fail_cd(cd, SH_E_CD_TEAM_OUT_OF_BLOB, cd->team_offset, err);
    return SH_E_OK;
}

/* The hash array [hashOffset - nSpecialSlots*hashSize, hashOffset + nCodeSlots*hashSize) must lie
 * inside the blob.  In 32-bit arithmetic these products wrap; here they are 64-bit and checked. */
static sh_err check_hash_array(const sh_codedir *cd, sh_error *err)
{
    if (cd->n_special_slots > SH_MAX_SPECIAL_SLOTS)
        return fail_cd(cd, SH_E_CD_TOO_MANY_SPECIAL_SLOTS, cd->n_special_slots, err);
    uint64_t special_bytes, code_bytes;
    if (!sh_mul_u64(cd->n_special_slots, cd->hash_size, &special_bytes) ||
        !sh_mul_u64(cd->n_code_slots, cd->hash_size, &code_bytes) ||
        special_bytes > cd->hash_offset ||
        !sh_range_within(cd->hash_offset, code_bytes, cd->length))
        return fail_cd(cd, SH_E_CD_HASHES_OUT_OF_BLOB, cd->hash_offset, err);
    return SH_E_OK;
}

/* Pre-encryption hashes (0x20500+, preEncryptOffset != 0): nCodeSlots more hashes, which
 * checkIntegrity also requires inside the blob. */
static sh_err check_pre_encrypt(const sh_codedir *cd, sh_error *err)
{
    if (cd->version < SH_CD_VERSION_RUNTIME || cd->pre_encrypt_offset == 0)
        return SH_E_OK;
    uint64_t bytes;
    if (!sh_mul_u64(cd->n_code_slots, cd->hash_size, &bytes) ||
        !sh_range_within(cd->pre_encrypt_offset, bytes, cd->length))
        return fail_cd(cd, SH_E_CD_PRE_ENCRYPT_OUT_OF_BLOB, cd->pre_encrypt_offset, err);
    return SH_E_OK;
}

bool sh_codedir_has_scatter(const sh_codedir *cd)
{
    return cd->version >= SH_CD_VERSION_SCATTER && cd->scatter_offset != 0;
}

bool sh_codedir_scatter_entry(const sh_codedir *cd, uint32_t index, sh_cd_scatter *out)
{
    uint64_t off;
    sh_cursor c;
    return sh_codedir_has_scatter(cd) &&
           sh_mul_u64(index, SH_CD_SCATTER_ENTRY_SIZE, &off) &&
           sh_add_u64(off, cd->scatter_offset, &off) &&
           sh_cursor_sub(&cd->blob, off, SH_CD_SCATTER_ENTRY_SIZE, &c) &&
           sh_cursor_u32be(&c, &out->count) && sh_cursor_u32be(&c, &out->base) &&
           sh_cursor_u64be(&c, &out->target_offset) && sh_cursor_u64be(&c, &out->spare);
}

/* The legacy scatter vector: entries inside the blob, a count=0 terminator within the limit,
 * and no more pages mapped than there are code slots (xnu's hashes() refuses that too). */
static sh_err check_scatter(sh_codedir *cd, sh_error *err)
{
    if (!sh_codedir_has_scatter(cd))
        return SH_E_OK;
    uint64_t pages = 0;
    for (uint32_t i = 0; i <= SH_MAX_SCATTER_ENTRIES; i++) {
        sh_cd_scatter s;
        if (!sh_codedir_scatter_entry(cd, i, &s))
            break;
        if (s.count == 0) {
            cd->n_scatter = i;
            cd->scatter_pages = pages;
            if (pages > cd->n_code_slots)
                return fail_cd(cd, SH_E_CD_SCATTER_INVALID, pages, err);
            return SH_E_OK;
        }
        pages += s.count; /* at most 4097 * 2^32: no overflow */
    }
    return fail_cd(cd, SH_E_CD_SCATTER_INVALID, cd->scatter_offset, err);
}

/* checkIntegrity's slot count rule over the effective limit. */
static sh_err check_limits(sh_codedir *cd, sh_error *err)
{
    bool use64 = cd->version >= SH_CD_VERSION_CODELIMIT64 && cd->code_limit64 != 0;
    cd->effective_limit = use64 ? cd->code_limit64 : cd->code_limit;
    uint64_t limit = cd->effective_limit;
    uint64_t expected_slots;
    if (cd->page_shift != 0) {
        if (limit == 0)
            return fail_cd(cd, SH_E_CD_CODE_LIMIT_ZERO, cd->n_code_slots, err);
        expected_slots = ((limit - 1) >> cd->page_shift) + 1;
    } else {
        expected_slots = limit > 0 ? 1 : 0;
    }
    if (expected_slots != cd->n_code_slots)
        return fail_cd(cd, SH_E_CD_SLOT_COUNT_MISMATCH, cd->n_code_slots, err);
    return SH_E_OK;
}

static sh_err check_linkage(sh_codedir *cd, sh_error *err)
{
    if (cd->version < SH_CD_VERSION_LINKAGE || (cd->linkage_offset == 0 && cd->linkage_size == 0))
        return SH_E_OK;
    if (!sh_cursor_sub(&cd->blob, cd->linkage_offset, cd->linkage_size, &cd->linkage))
        return fail_cd(cd, SH_E_CD_LINKAGE_OUT_OF_BLOB, cd->linkage_offset, err);
    cd->has_linkage = true;
    return SH_E_OK;
}

/* The cdhash is the CD's own hash type over the whole blob, magic to length. */
static sh_err compute_cdhash(sh_codedir *cd, sh_error *err)
{
    cd->cdhash_size = sh_hash_size(cd->hash_type);
    if (!sh_hash(cd->hash_type, cd->blob.p, cd->blob.len, cd->cdhash))
        return fail_cd(cd, SH_E_NO_MEMORY, cd->hash_type, err);
    return SH_E_OK;
}

sh_err sh_codedir_parse(const sh_cursor *data, sh_codedir *out, sh_error *err)
{
    memset(out, 0, sizeof *out);
    sh_err e = read_header(data, out, err);
    if (e == SH_E_OK)
        e = check_hash_type(out, err);
    if (e == SH_E_OK)
        e = read_strings(out, err);
    if (e == SH_E_OK)
        e = check_hash_array(out, err);
    if (e == SH_E_OK)
        e = check_pre_encrypt(out, err);
    if (e == SH_E_OK)
        e = check_scatter(out, err);
    if (e == SH_E_OK)
        e = check_limits(out, err);
    if (e == SH_E_OK)
        e = check_linkage(out, err);
    if (e == SH_E_OK)
        e = compute_cdhash(out, err);
    return e;
}

bool sh_codedir_special_hash(const sh_codedir *cd, uint32_t slot, sh_cursor *out)
{
    uint64_t back;
    if (slot == 0 || slot > cd->n_special_slots || !sh_mul_u64(slot, cd->hash_size, &back) ||
        back > cd->hash_offset)
        return false;
    return sh_cursor_sub(&cd->blob, cd->hash_offset - back, cd->hash_size, out);
}

bool sh_codedir_code_hash(const sh_codedir *cd, uint32_t index, sh_cursor *out)
{
    uint64_t off;
    return index < cd->n_code_slots && sh_mul_u64(index, cd->hash_size, &off) &&
           sh_add_u64(off, cd->hash_offset, &off) &&
           sh_cursor_sub(&cd->blob, off, cd->hash_size, out);
}

bool sh_codedir_special_present(const sh_codedir *cd, uint32_t slot)
{
    sh_cursor h;
    if (!sh_codedir_special_hash(cd, slot, &h))
        return false;
    uint8_t b;
    while (sh_cursor_u8(&h, &b))
        if (b != 0)
            return true;
    return false;
}

/* Security checks pages linearly (slot i = page i) and ignores the scatter vector; xnu looks pages
 * up through it.  The two agree only when the vector is the identity mapping (contiguous entries
 * from page 0 covering every slot), so that is the only scattered layout verified. */
static sh_err check_scatter_is_identity(const sh_codedir *cd, sh_error *err)
{
    uint64_t next_page = 0;
    for (uint32_t i = 0; i < cd->n_scatter; i++) {
        sh_cd_scatter s = {0};
        if (!sh_codedir_scatter_entry(cd, i, &s) || s.base != next_page)
            return sh_fail_value(err, SH_E_CD_SCATTER_UNSUPPORTED, "CodeDirectory", i,
                                 cd->blob.base, s.base);
        next_page += s.count;
    }
    if (next_page != cd->n_code_slots)
        return sh_fail_value(err, SH_E_CD_SCATTER_UNSUPPORTED, "CodeDirectory", -1,
                             cd->blob.base, next_page);
    return SH_E_OK;
}

/* Page i is [i << shift, min((i + 1) << shift, limit)); with shift 0 one page covers the limit. */
static void page_range(const sh_codedir *cd, uint32_t i, uint64_t *start, uint64_t *len)
{
    uint64_t limit = cd->effective_limit;
    if (cd->page_shift == 0) {
        *start = 0;
        *len = limit;
        return;
    }
    uint64_t page_size = (uint64_t)1 << cd->page_shift;
    *start = (uint64_t)i << cd->page_shift;
    *len = limit - *start < page_size ? limit - *start : page_size;
}

static void note_bad_page(sh_page_report *r, uint32_t i)
{
    r->pages_bad++;
    if (r->first_bad < 0)
        r->first_bad = i;
    r->last_bad = i;
}

/* Hashes one page with the reusable hasher and compares with code slot i. */
static sh_err check_page(const sh_codedir *cd, const sh_cursor *code, sh_hasher *hasher,
                         uint32_t i, bool *match, sh_error *err)
{
    uint64_t start, len;
    page_range(cd, i, &start, &len);
    sh_cursor page, slot;
    uint8_t expected[SH_HASH_MAX_SIZE], actual[SH_HASH_MAX_SIZE];
    if (!sh_cursor_sub(code, start, len, &page))
        return sh_fail_value(err, SH_E_CD_CODE_LIMIT_PAST_DATA, "code page", i, code->base + start,
                             cd->effective_limit);
    if (!sh_codedir_code_hash(cd, i, &slot) || !sh_cursor_copy(&slot, expected, cd->hash_size))
        return sh_fail_value(err, SH_E_CD_HASHES_OUT_OF_BLOB, "CodeDirectory", i, cd->blob.base,
                             cd->hash_offset);
    if (!sh_hasher_digest(hasher, page.p, page.len, actual))
        return sh_fail(err, SH_E_NO_MEMORY, "code page", i, page.base);
    *match = memcmp(expected, actual, cd->hash_size) == 0;
    return SH_E_OK;
}

sh_err sh_codedir_verify_pages(const sh_codedir *cd, const sh_cursor *code, sh_page_report *report,
                               sh_error *err)
{
    memset(report, 0, sizeof *report);
    report->first_bad = report->last_bad = -1;
    if (cd->effective_limit > code->len)
        return sh_fail_value(err, SH_E_CD_CODE_LIMIT_PAST_DATA, "CodeDirectory", -1, cd->blob.base,
                             cd->effective_limit);
    if (sh_codedir_has_scatter(cd)) {
        sh_err e = check_scatter_is_identity(cd, err);
        if (e != SH_E_OK)
            return e;
    }
    sh_hasher *hasher = sh_hasher_new(cd->hash_type);
    if (!hasher)
        return fail_cd(cd, SH_E_NO_MEMORY, cd->hash_type, err);
    sh_err e = SH_E_OK;
    for (uint32_t i = 0; i < cd->n_code_slots; i++) {
        bool match = false;
        e = check_page(cd, code, hasher, i, &match, err);
        if (e != SH_E_OK)
            break;
        report->pages_checked++;
        if (!match)
            note_bad_page(report, i);
    }
    sh_hasher_free(hasher);
    if (e != SH_E_OK)
        return e;
    if (report->pages_bad == 0)
        return SH_E_OK;
    uint64_t start, len;
    page_range(cd, (uint32_t)report->first_bad, &start, &len);
    return sh_fail_value(err, SH_E_CD_PAGE_HASH_MISMATCH, "code page", report->first_bad,
                         code->base + start, report->pages_bad);
}

static const struct {
    uint32_t bit;
    const char *name;
} flag_names[] = {
    {SH_CS_HOST, "host"},
    {SH_CS_ADHOC, "adhoc"},
    {SH_CS_GET_TASK_ALLOW, "get-task-allow"},
    {SH_CS_INSTALLER, "installer"},
    {SH_CS_FORCED_LV, "forced-lv"},
    {SH_CS_INVALID_ALLOWED, "invalid-allowed"},
    {SH_CS_HARD, "hard"},
    {SH_CS_KILL, "kill"},
    {SH_CS_CHECK_EXPIRATION, "expires"},
    {SH_CS_RESTRICT, "restrict"},
    {SH_CS_ENFORCEMENT, "enforcement"},
    {SH_CS_REQUIRE_LV, "library-validation"},
    {SH_CS_ENTITLEMENTS_VALIDATED, "entitlements-validated"},
    {SH_CS_NVRAM_UNRESTRICTED, "nvram-unrestricted"},
    {SH_CS_RUNTIME, "runtime"},
    {SH_CS_LINKER_SIGNED, "linker-signed"},
};

/* Appends to buf without ever overrunning it; *used stops growing once the buffer is full. */
static void append(char *buf, size_t size, size_t *used, const char *text)
{
    size_t n = strlen(text);
    if (*used >= size)
        return;
    size_t room = size - *used - 1;
    size_t copy = n < room ? n : room;
    memcpy(buf + *used, text, copy);
    *used += copy;
    buf[*used] = '\0';
}

void sh_codedir_flags_string(uint32_t flags, char *buf, size_t size)
{
    if (size == 0)
        return;
    buf[0] = '\0';
    size_t used = 0;
    uint32_t unknown = flags;
    for (size_t i = 0; i < sizeof flag_names / sizeof flag_names[0]; i++) {
        if (!(flags & flag_names[i].bit))
            continue;
        append(buf, size, &used, used ? "," : "");
        append(buf, size, &used, flag_names[i].name);
        unknown &= ~flag_names[i].bit;
    }
    if (unknown) {
        char hex[16];
        snprintf(hex, sizeof hex, "0x%" PRIx32, unknown);
        append(buf, size, &used, used ? "," : "");
        append(buf, size, &used, hex);
    }
    if (flags == 0)
        append(buf, size, &used, "none");
}
