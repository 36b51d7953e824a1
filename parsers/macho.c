/* Mach-O and fat container parser (see macho.h for what is checked where and why).
 *
 * Every input byte is read through an sh_cursor, and every offset + length is checked with
 * sh_cursor_sub / sh_range_within, which refuse u64 wrap-around.  A slice is parsed in two passes
 * over its load commands: a generic walk (cmd/cmdsize framing, and the counts that size the
 * arrays), then typed decoding of the commands the signing code and the harness care about.
 * On any failure the whole sh_macho_file is freed and zeroed, so sh_macho_free stays safe. */
#include "macho.h"

#include <stdio.h>
#include <string.h>

#include "sh_limits.h"
#include "macho_internal.h"

/* Fixed sizes from loader.h / fat.h. */
enum {
    FAT_HEADER_SIZE = 8,
    FAT_ARCH_SIZE = 20,
    FAT_ARCH_64_SIZE = 32,
    MACH_HEADER_SIZE = 28,
    MACH_HEADER_64_SIZE = 32,
    LOAD_COMMAND_SIZE = 8,
    SEGMENT_SIZE = 56,
    SEGMENT_64_SIZE = 72,
    SEGMENT_NSECTS_OFFSET = 48,
    SEGMENT_64_NSECTS_OFFSET = 64,
    SECTION_SIZE = 68,
    SECTION_64_SIZE = 80,
    NAME_FIELD_SIZE = 16,
    LINKEDIT_DATA_SIZE = 16,
    UUID_COMMAND_SIZE = 24,
    VERSION_MIN_SIZE = 16,
    BUILD_VERSION_SIZE = 24,
    BUILD_TOOL_SIZE = 8,
    ENTRY_POINT_SIZE = 24,
    DYLIB_COMMAND_SIZE = 24,
    LC_STR_COMMAND_SIZE = 12, /* {cmd, cmdsize, lc_str}: dylinker, rpath, sub_*, ... */
    FVMLIB_COMMAND_SIZE = 20,
    PREBOUND_DYLIB_SIZE = 20,
    FILESET_ENTRY_SIZE = 32,
    FILESET_ENTRY_ID_OFFSET = 24,
    ENCRYPTION_INFO_SIZE = 20,
    ENCRYPTION_INFO_64_SIZE = 24,
    DYLD_INFO_SIZE = 48,
    SYMTAB_SIZE = 24,
    NLIST_SIZE = 12,
    NLIST_64_SIZE = 16,
};

/* ---- fixed-layout field reading ---------------------------------------------------------- */

/* Reads a run of fixed fields.  The first short read makes every later read return 0 and leaves
 * ok false, so a decoder reads all of a structure's fields and then checks ok once. */
typedef struct field_reader {
    sh_cursor c;
    bool big_endian;
    bool ok;
} field_reader;

/* A reader over view, starting skip bytes in. */
static field_reader reader_from(const sh_cursor *view, bool big_endian, size_t skip)
{
    field_reader r = {*view, big_endian, true};
    r.ok = sh_cursor_skip(&r.c, skip);
    return r;
}

static uint32_t read_u32(field_reader *r)
{
    uint32_t v = 0;
    if (r->ok && !sh_cursor_u32(&r->c, r->big_endian, &v)) {
        r->ok = false;
        v = 0;
    }
    return v;
}

static uint64_t read_u64(field_reader *r)
{
    uint64_t v = 0;
    if (r->ok && !sh_cursor_u64(&r->c, r->big_endian, &v)) {
        r->ok = false;
        v = 0;
    }
    return v;
}

/* Address-sized fields: u64 in 64-bit structures, u32 in 32-bit ones. */
static uint64_t read_word(field_reader *r, bool wide) { return wide ? read_u64(r) : read_u32(r); }

static void read_name16(field_reader *r, char *dst, size_t dst_size)
{
    if (r->ok && !sh_cursor_fixed_name(&r->c, NAME_FIELD_SIZE, dst, dst_size))
        r->ok = false;
    if (!r->ok && dst_size)
        dst[0] = '\0';
}

static void read_bytes(field_reader *r, void *dst, size_t n)
{
    if (r->ok && !sh_cursor_copy(&r->c, dst, n))
        r->ok = false;
}

/* ---- magic numbers ------------------------------------------------------------------------ */

static bool is_fat_magic(uint32_t be_magic)
{
    return be_magic == SH_FAT_MAGIC || be_magic == SH_FAT_MAGIC_64 || be_magic == SH_FAT_CIGAM ||
           be_magic == SH_FAT_CIGAM_64;
}

/* le_magic is the first 4 bytes read little-endian: MH_MAGIC* means a little-endian file,
 * MH_CIGAM* a big-endian one. */
static bool thin_magic(uint32_t le_magic, bool *is64, bool *big_endian)
{
    switch (le_magic) {
    case SH_MH_MAGIC: *is64 = false; *big_endian = false; return true;
    case SH_MH_CIGAM: *is64 = false; *big_endian = true; return true;
    case SH_MH_MAGIC_64: *is64 = true; *big_endian = false; return true;
    case SH_MH_CIGAM_64: *is64 = true; *big_endian = true; return true;
    default: return false;
    }
}

/* ---- allocation --------------------------------------------------------------------------- */

/* count zeroed elements; NULL both for count 0 (nothing needed) and on failure, which sets
 * *failed. */
static void *calloc_array(const sh_allocator *a, size_t count, size_t size, bool *failed)
{
    if (count == 0)
        return NULL;
    void *p = sh_calloc(a, count, size);
    if (!p)
        *failed = true;
    return p;
}

static void free_slice(const sh_allocator *a, sh_macho_slice *s)
{
    sh_free(a, s->commands);
    sh_free(a, s->segments);
    sh_free(a, s->sections);
    sh_free(a, s->dylibs);
    sh_free(a, s->tools);
}

void sh_macho_free(sh_macho_file *f)
{
    if (!f)
        return;
    if (f->slices)
        for (uint32_t i = 0; i < f->nslices; i++)
            free_slice(f->alloc, &f->slices[i]);
    sh_free(f->alloc, f->slices);
    memset(f, 0, sizeof *f);
}

/* ---- slice parsing state and error helpers ------------------------------------------------ */

typedef struct slice_parser {
    sh_macho_slice *s;
    const sh_allocator *alloc;
    sh_error *err;
    /* array capacities, from the generic walk */
    uint32_t segment_capacity, section_capacity, dylib_capacity;
} slice_parser;

uint64_t sh_macho_command_position(const sh_macho_slice *s, uint32_t index)
{
    return sh_cursor_pos(&s->data) + s->commands[index].offset;
}

static const char *command_where(uint32_t cmd)
{
    if (cmd == SH_LC_SEGMENT || cmd == SH_LC_SEGMENT_64)
        return "segment";
    const char *name = sh_macho_load_command_name(cmd);
    return name ? name : "load command";
}

/* Records code against load command index (its absolute offset and name). */
static sh_err fail_command(const slice_parser *p, sh_err code, uint32_t index, uint64_t value)
{
    return sh_fail_value(p->err, code, command_where(p->s->commands[index].cmd), index,
                         sh_macho_command_position(p->s, index), value);
}

bool sh_macho_load_command_view(const sh_macho_slice *s, uint32_t index, sh_cursor *out)
{
    if (!s || !s->commands || index >= s->ncmds)
        return false;
    return sh_cursor_sub(&s->data, s->commands[index].offset, s->commands[index].cmdsize, out);
}

/* ---- pass 1: generic load command walk ---------------------------------------------------- */

static bool is_segment_command(uint32_t cmd)
{
    return cmd == SH_LC_SEGMENT || cmd == SH_LC_SEGMENT_64;
}

static bool is_dylib_command(uint32_t cmd)
{
    switch (cmd) {
    case SH_LC_LOAD_DYLIB:
    case SH_LC_LOAD_WEAK_DYLIB:
    case SH_LC_REEXPORT_DYLIB:
    case SH_LC_LAZY_LOAD_DYLIB:
    case SH_LC_LOAD_UPWARD_DYLIB:
    case SH_LC_ID_DYLIB:
        return true;
    default:
        return false;
    }
}

/* Counts what the arrays need.  nsects is only counted when the command is long enough to hold
 * it; a shorter segment command is reported by the typed pass. */
static sh_err count_command(slice_parser *p, uint32_t index, const sh_cursor *body,
                            uint64_t *nsections, uint32_t *ndylibs)
{
    uint32_t cmd = p->s->commands[index].cmd;
    if (is_segment_command(cmd)) {
        p->segment_capacity++;
        size_t at = cmd == SH_LC_SEGMENT_64 ? SEGMENT_64_NSECTS_OFFSET : SEGMENT_NSECTS_OFFSET;
        field_reader r = reader_from(body, p->s->big_endian, at);
        uint32_t nsects = read_u32(&r);
        if (r.ok) {
            *nsections += nsects;
            if (*nsections > SH_MAX_SECTIONS)
                return fail_command(p, SH_E_MACHO_TOO_MANY_SECTIONS, index, nsects);
        }
    } else if (is_dylib_command(cmd)) {
        if (++*ndylibs > SH_MAX_DYLIBS)
            return fail_command(p, SH_E_MACHO_TOO_MANY_DYLIBS, index, *ndylibs);
    }
    return SH_E_OK;
}

/* Frames every command: cmdsize >= 8, aligned (4 for 32-bit, 8 for 64-bit), inside sizeofcmds,
 * and the cmdsizes add up to sizeofcmds exactly. */
static sh_err walk_load_commands(slice_parser *p, const sh_cursor *cmds, uint32_t header_size)
{
    sh_macho_slice *s = p->s;
    const uint32_t align = s->is64 ? 8 : 4;
    uint64_t off = 0, nsections = 0;
    uint32_t ndylibs = 0;
    for (uint32_t i = 0; i < s->ncmds; i++) {
        const uint64_t at = sh_cursor_pos(cmds) + off;
        field_reader r;
        sh_cursor head;
        if (!sh_cursor_sub(cmds, off, LOAD_COMMAND_SIZE, &head))
            return sh_fail(p->err, SH_E_MACHO_CMDSIZE_OVERRUN, "load command", i, at);
        r = reader_from(&head, s->big_endian, 0);
        uint32_t cmd = read_u32(&r), cmdsize = read_u32(&r);
        if (cmdsize < LOAD_COMMAND_SIZE)
            return sh_fail_value(p->err, SH_E_MACHO_CMDSIZE_TOO_SMALL, "load command", i, at, cmdsize);
        if (cmdsize % align != 0)
            return sh_fail_value(p->err, SH_E_MACHO_CMDSIZE_UNALIGNED, "load command", i, at, cmdsize);
        sh_cursor body;
        if (!sh_cursor_sub(cmds, off, cmdsize, &body))
            return sh_fail_value(p->err, SH_E_MACHO_CMDSIZE_OVERRUN, "load command", i, at, cmdsize);
        s->commands[i].cmd = cmd;
        s->commands[i].cmdsize = cmdsize;
        s->commands[i].offset = header_size + off;
        sh_err e = count_command(p, i, &body, &nsections, &ndylibs);
        if (e != SH_E_OK)
            return e;
        off += cmdsize;
    }
    if (off != s->sizeofcmds)
        return sh_fail_value(p->err, SH_E_MACHO_SIZEOFCMDS_MISMATCH, "mach_header", -1,
                             sh_cursor_pos(&s->data), s->sizeofcmds);
    p->section_capacity = (uint32_t)nsections;
    p->dylib_capacity = ndylibs;
    return SH_E_OK;
}

/* ---- pass 2: typed decoding ---------------------------------------------------------------- */

static bool is_zerofill(uint32_t section_flags)
{
    uint32_t type = section_flags & SH_SECTION_TYPE_MASK;
    return type == SH_S_ZEROFILL || type == SH_S_GB_ZEROFILL || type == SH_S_THREAD_LOCAL_ZEROFILL;
}

static sh_err decode_section(slice_parser *p, uint32_t cmd_index, const sh_cursor *header,
                             uint32_t number, const sh_macho_segment *seg, bool wide)
{
    sh_macho_slice *s = p->s;
    field_reader r = reader_from(header, s->big_endian, 0);
    sh_macho_section sec;
    memset(&sec, 0, sizeof sec);
    read_name16(&r, sec.sectname, sizeof sec.sectname);
    read_name16(&r, sec.segname, sizeof sec.segname);
    sec.addr = read_word(&r, wide);
    sec.size = read_word(&r, wide);
    sec.offset = read_u32(&r);
    sec.align = read_u32(&r);
    sec.reloff = read_u32(&r);
    sec.nreloc = read_u32(&r);
    sec.flags = read_u32(&r);
    sec.segment_index = s->nsegments;
    if (!r.ok || s->nsections >= p->section_capacity) /* cannot happen: nsects was fitted */
        return fail_command(p, SH_E_MACHO_TOO_MANY_SECTIONS, cmd_index, seg->nsects);
    /* Zerofill sections and empty ones occupy no file bytes.  A segment with no file data (dSYM
     * companions keep such section headers) has no file range to hold its sections. */
    if (!is_zerofill(sec.flags) && sec.size > 0 && seg->filesize > 0) {
        uint64_t seg_end = seg->fileoff + seg->filesize; /* inside the slice: checked */
        if (sec.offset < seg->fileoff || !sh_range_within(sec.offset, sec.size, seg_end))
            return sh_fail_value(p->err, SH_E_MACHO_SECTION_OUT_OF_SEGMENT, "section", number,
                                 sh_cursor_pos(header), sec.offset);
    }
    s->sections[s->nsections++] = sec;
    return SH_E_OK;
}

/* __TEXT gives the exec segment, __LINKEDIT holds the signature: one of each, or the two
 * readers of the file (codesign, dyld) may pick different ones. */
static sh_err note_special_segment(slice_parser *p, uint32_t cmd_index, const char *segname)
{
    int32_t *slot = NULL;
    if (strcmp(segname, "__TEXT") == 0)
        slot = &p->s->text_segment;
    else if (strcmp(segname, "__LINKEDIT") == 0)
        slot = &p->s->linkedit_segment;
    if (!slot)
        return SH_E_OK;
    if (*slot >= 0)
        return fail_command(p, SH_E_MACHO_DUPLICATE_SEGMENT, cmd_index, (uint64_t)*slot);
    *slot = (int32_t)p->s->nsegments;
    return SH_E_OK;
}

static sh_err decode_segment(slice_parser *p, uint32_t index, const sh_cursor *body)
{
    sh_macho_slice *s = p->s;
    const bool wide = s->commands[index].cmd == SH_LC_SEGMENT_64;
    const uint64_t fixed = wide ? SEGMENT_64_SIZE : SEGMENT_SIZE;
    const uint64_t section_size = wide ? SECTION_64_SIZE : SECTION_SIZE;
    field_reader r = reader_from(body, s->big_endian, LOAD_COMMAND_SIZE);
    sh_macho_segment seg;
    memset(&seg, 0, sizeof seg);
    read_name16(&r, seg.segname, sizeof seg.segname);
    seg.vmaddr = read_word(&r, wide);
    seg.vmsize = read_word(&r, wide);
    seg.fileoff = read_word(&r, wide);
    seg.filesize = read_word(&r, wide);
    seg.maxprot = read_u32(&r);
    seg.initprot = read_u32(&r);
    seg.nsects = read_u32(&r);
    seg.flags = read_u32(&r);
    if (!r.ok)
        return fail_command(p, SH_E_MACHO_CMDSIZE_TOO_SMALL, index, s->commands[index].cmdsize);

    uint64_t sections_bytes;
    if (!sh_mul_u64(seg.nsects, section_size, &sections_bytes) ||
        !sh_range_within(fixed, sections_bytes, sh_cursor_len(body)) ||
        seg.nsects > p->section_capacity - s->nsections)
        return fail_command(p, SH_E_MACHO_TOO_MANY_SECTIONS, index, seg.nsects);
    if (!sh_range_within(seg.fileoff, seg.filesize, s->size))
        return fail_command(p, SH_E_MACHO_SEGMENT_OUT_OF_FILE, index, seg.fileoff);
    if (s->nsegments >= p->segment_capacity) /* cannot happen: the walk counted segments */
        return fail_command(p, SH_E_MACHO_TOO_MANY_COMMANDS, index, s->nsegments);
    sh_err e = note_special_segment(p, index, seg.segname);
    if (e != SH_E_OK)
        return e;

    seg.first_section = s->nsections;
    seg.command_index = index;
    for (uint32_t k = 0; k < seg.nsects; k++) {
        sh_cursor header;
        if (!sh_cursor_sub(body, fixed + (uint64_t)k * section_size, section_size, &header))
            return fail_command(p, SH_E_MACHO_TOO_MANY_SECTIONS, index, seg.nsects);
        e = decode_section(p, index, &header, k, &seg, wide);
        if (e != SH_E_OK)
            return e;
    }
    s->segments[s->nsegments++] = seg;
    return SH_E_OK;
}

/* Where a linkedit_data_command's range is kept, or NULL if cmd is not one of them. */
static sh_macho_linkedit_data *linkedit_slot(sh_macho_slice *s, uint32_t cmd)
{
    switch (cmd) {
    case SH_LC_CODE_SIGNATURE: return &s->code_signature;
    case SH_LC_SEGMENT_SPLIT_INFO: return &s->split_info;
    case SH_LC_FUNCTION_STARTS: return &s->function_starts;
    case SH_LC_DATA_IN_CODE: return &s->data_in_code;
    case SH_LC_DYLIB_CODE_SIGN_DRS: return &s->dylib_code_sign_drs;
    case SH_LC_LINKER_OPTIMIZATION_HINT: return &s->linker_optimization_hint;
    case SH_LC_DYLD_EXPORTS_TRIE: return &s->exports_trie;
    case SH_LC_DYLD_CHAINED_FIXUPS: return &s->chained_fixups;
    case SH_LC_ATOM_INFO: return &s->atom_info;
    case SH_LC_FUNCTION_VARIANTS: return &s->function_variants;
    case SH_LC_FUNCTION_VARIANT_FIXUPS: return &s->function_variant_fixups;
    default: return NULL;
    }
}

/* Each of these is read by exactly one consumer (one signature, one fixup table), so a second
 * copy is refused rather than silently ignored. */
static sh_err decode_linkedit_data(slice_parser *p, uint32_t index, const sh_cursor *body,
                                   sh_macho_linkedit_data *slot)
{
    field_reader r = reader_from(body, p->s->big_endian, LOAD_COMMAND_SIZE);
    uint32_t dataoff = read_u32(&r), datasize = read_u32(&r);
    if (!r.ok)
        return fail_command(p, SH_E_MACHO_CMDSIZE_TOO_SMALL, index, sh_cursor_len(body));
    if (slot->present)
        return fail_command(p, SH_E_MACHO_DUPLICATE_COMMAND, index, slot->command_index);
    if (!sh_range_within(dataoff, datasize, p->s->size))
        return fail_command(p, SH_E_MACHO_LINKEDIT_DATA_OUT_OF_FILE, index, dataoff);
    slot->present = true;
    slot->dataoff = dataoff;
    slot->datasize = datasize;
    slot->command_index = index;
    return SH_E_OK;
}

/* An lc_str: a u32 offset (from the command start) at str_field, pointing past the command's
 * fixed part to a string NUL-terminated inside the command. */
static sh_err decode_lc_str(slice_parser *p, uint32_t index, const sh_cursor *body,
                            uint32_t fixed_size, uint32_t str_field)
{
    field_reader r = reader_from(body, p->s->big_endian, str_field);
    uint32_t str_off = read_u32(&r);
    if (!r.ok || sh_cursor_len(body) < fixed_size)
        return fail_command(p, SH_E_MACHO_CMDSIZE_TOO_SMALL, index, sh_cursor_len(body));
    const char *str;
    size_t len;
    if (str_off < fixed_size || str_off >= sh_cursor_len(body) ||
        !sh_cursor_cstr_at(body, str_off, SH_MAX_LC_STRING_LEN, &str, &len))
        return fail_command(p, SH_E_MACHO_STRING_OUT_OF_COMMAND, index, str_off);
    p->s->commands[index].str = str;
    p->s->commands[index].str_len = len;
    return SH_E_OK;
}

static sh_err decode_dylib(slice_parser *p, uint32_t index, const sh_cursor *body)
{
    sh_macho_slice *s = p->s;
    sh_err e = decode_lc_str(p, index, body, DYLIB_COMMAND_SIZE, LOAD_COMMAND_SIZE);
    if (e != SH_E_OK)
        return e;
    field_reader r = reader_from(body, s->big_endian, LOAD_COMMAND_SIZE + 4);
    sh_macho_dylib d;
    memset(&d, 0, sizeof d);
    d.cmd = s->commands[index].cmd;
    d.name = s->commands[index].str;
    d.name_len = s->commands[index].str_len;
    d.timestamp = read_u32(&r);
    d.current_version = read_u32(&r);
    d.compatibility_version = read_u32(&r);
    if (!r.ok || s->ndylibs >= p->dylib_capacity) /* cannot happen: size and count checked */
        return fail_command(p, SH_E_MACHO_TOO_MANY_DYLIBS, index, s->ndylibs);
    s->dylibs[s->ndylibs++] = d;
    return SH_E_OK;
}

static sh_err decode_uuid(slice_parser *p, uint32_t index, const sh_cursor *body)
{
    sh_macho_slice *s = p->s;
    field_reader r = reader_from(body, s->big_endian, LOAD_COMMAND_SIZE);
    uint8_t uuid[16];
    read_bytes(&r, uuid, sizeof uuid);
    if (!r.ok)
        return fail_command(p, SH_E_MACHO_CMDSIZE_TOO_SMALL, index, sh_cursor_len(body));
    if (s->has_uuid)
        return fail_command(p, SH_E_MACHO_DUPLICATE_COMMAND, index, 0);
    s->has_uuid = true;
    memcpy(s->uuid, uuid, sizeof uuid);
    return SH_E_OK;
}

/* Zippered binaries (macOS + Mac Catalyst) carry two LC_BUILD_VERSION for different platforms;
 * only a second one for the same platform as the first is a duplicate.  The first is kept. */
static sh_err decode_build_version(slice_parser *p, uint32_t index, const sh_cursor *body)
{
    sh_macho_slice *s = p->s;
    field_reader r = reader_from(body, s->big_endian, LOAD_COMMAND_SIZE);
    uint32_t platform = read_u32(&r), minos = read_u32(&r), sdk = read_u32(&r);
    uint32_t ntools = read_u32(&r);
    if (!r.ok)
        return fail_command(p, SH_E_MACHO_CMDSIZE_TOO_SMALL, index, sh_cursor_len(body));
    if (ntools > SH_MAX_BUILD_TOOLS ||
        !sh_range_within(BUILD_VERSION_SIZE, (uint64_t)ntools * BUILD_TOOL_SIZE, sh_cursor_len(body)))
        return fail_command(p, SH_E_MACHO_BUILD_VERSION_TOOLS, index, ntools);
    if (s->has_build_version) {
        if (platform == s->platform)
            return fail_command(p, SH_E_MACHO_DUPLICATE_COMMAND, index, platform);
        s->build_version_count++;
        return SH_E_OK;
    }
    bool failed = false;
    s->tools = calloc_array(p->alloc, ntools, sizeof *s->tools, &failed);
    if (failed)
        return sh_fail(p->err, SH_E_NO_MEMORY, "LC_BUILD_VERSION", index, sh_macho_command_position(s, index));
    for (uint32_t t = 0; t < ntools; t++) {
        s->tools[t].tool = read_u32(&r);
        s->tools[t].version = read_u32(&r);
    }
    if (!r.ok) /* cannot happen: ntools was fitted */
        return fail_command(p, SH_E_MACHO_BUILD_VERSION_TOOLS, index, ntools);
    s->has_build_version = true;
    s->build_version_count = 1;
    s->platform = platform;
    s->minos = minos;
    s->sdk = sdk;
    s->ntools = ntools;
    return SH_E_OK;
}

/* The four LC_VERSION_MIN_* each name a platform; a binary has one platform, so any second one
 * is a duplicate. */
static sh_err decode_version_min(slice_parser *p, uint32_t index, const sh_cursor *body)
{
    sh_macho_slice *s = p->s;
    field_reader r = reader_from(body, s->big_endian, LOAD_COMMAND_SIZE);
    uint32_t version = read_u32(&r), sdk = read_u32(&r);
    if (!r.ok)
        return fail_command(p, SH_E_MACHO_CMDSIZE_TOO_SMALL, index, sh_cursor_len(body));
    if (s->has_version_min)
        return fail_command(p, SH_E_MACHO_DUPLICATE_COMMAND, index, s->version_min_cmd);
    s->has_version_min = true;
    s->version_min_cmd = s->commands[index].cmd;
    s->version_min_version = version;
    s->version_min_sdk = sdk;
    return SH_E_OK;
}

static sh_err decode_main(slice_parser *p, uint32_t index, const sh_cursor *body)
{
    sh_macho_slice *s = p->s;
    field_reader r = reader_from(body, s->big_endian, LOAD_COMMAND_SIZE);
    uint64_t entryoff = read_u64(&r), stacksize = read_u64(&r);
    if (!r.ok)
        return fail_command(p, SH_E_MACHO_CMDSIZE_TOO_SMALL, index, sh_cursor_len(body));
    if (s->has_main)
        return fail_command(p, SH_E_MACHO_DUPLICATE_COMMAND, index, 0);
    s->has_main = true;
    s->entryoff = entryoff;
    s->stacksize = stacksize;
    return SH_E_OK;
}

static sh_err decode_encryption_info(slice_parser *p, uint32_t index, const sh_cursor *body)
{
    sh_macho_slice *s = p->s;
    const uint32_t cmd = s->commands[index].cmd;
    field_reader r = reader_from(body, s->big_endian, LOAD_COMMAND_SIZE);
    uint32_t cryptoff = read_u32(&r), cryptsize = read_u32(&r), cryptid = read_u32(&r);
    if (cmd == SH_LC_ENCRYPTION_INFO_64)
        (void)read_u32(&r); /* pad: part of the fixed size */
    if (!r.ok)
        return fail_command(p, SH_E_MACHO_CMDSIZE_TOO_SMALL, index, sh_cursor_len(body));
    if (s->has_encryption_info)
        return fail_command(p, SH_E_MACHO_DUPLICATE_COMMAND, index, s->encryption_info_cmd);
    if (!sh_range_within(cryptoff, cryptsize, s->size))
        return fail_command(p, SH_E_MACHO_ENCRYPTED_RANGE_OUT_OF_FILE, index, cryptoff);
    s->has_encryption_info = true;
    s->encryption_info_cmd = cmd;
    s->cryptoff = cryptoff;
    s->cryptsize = cryptsize;
    s->cryptid = cryptid;
    return SH_E_OK;
}

static sh_err decode_dyld_info(slice_parser *p, uint32_t index, const sh_cursor *body)
{
    sh_macho_slice *s = p->s;
    field_reader r = reader_from(body, s->big_endian, LOAD_COMMAND_SIZE);
    uint32_t v[10];
    for (size_t i = 0; i < 10; i++)
        v[i] = read_u32(&r);
    if (!r.ok)
        return fail_command(p, SH_E_MACHO_CMDSIZE_TOO_SMALL, index, sh_cursor_len(body));
    if (s->has_dyld_info)
        return fail_command(p, SH_E_MACHO_DUPLICATE_COMMAND, index, s->dyld_info_cmd);
    for (size_t i = 0; i < 10; i += 2)
        if (!sh_range_within(v[i], v[i + 1], s->size))
            return fail_command(p, SH_E_MACHO_LINKEDIT_DATA_OUT_OF_FILE, index, v[i]);
    s->has_dyld_info = true;
    s->dyld_info_cmd = s->commands[index].cmd;
    s->rebase_off = v[0];
    s->rebase_size = v[1];
    s->bind_off = v[2];
    s->bind_size = v[3];
    s->weak_bind_off = v[4];
    s->weak_bind_size = v[5];
    s->lazy_bind_off = v[6];
    s->lazy_bind_size = v[7];
    s->export_off = v[8];
    s->export_size = v[9];
    return SH_E_OK;
}

static sh_err decode_symtab(slice_parser *p, uint32_t index, const sh_cursor *body)
{
    sh_macho_slice *s = p->s;
    field_reader r = reader_from(body, s->big_endian, LOAD_COMMAND_SIZE);
    uint32_t symoff = read_u32(&r), nsyms = read_u32(&r);
    uint32_t stroff = read_u32(&r), strsize = read_u32(&r);
    if (!r.ok)
        return fail_command(p, SH_E_MACHO_CMDSIZE_TOO_SMALL, index, sh_cursor_len(body));
    if (s->has_symtab)
        return fail_command(p, SH_E_MACHO_DUPLICATE_COMMAND, index, s->symtab_command_index);
    const uint64_t nlist = s->is64 ? NLIST_64_SIZE : NLIST_SIZE;
    if (!sh_range_within(symoff, (uint64_t)nsyms * nlist, s->size))
        return fail_command(p, SH_E_MACHO_SYMTAB_OUT_OF_FILE, index, symoff);
    if (!sh_range_within(stroff, strsize, s->size))
        return fail_command(p, SH_E_MACHO_SYMTAB_OUT_OF_FILE, index, stroff);
    s->has_symtab = true;
    s->symoff = symoff;
    s->nsyms = nsyms;
    s->stroff = stroff;
    s->strsize = strsize;
    s->symtab_command_index = index;
    return SH_E_OK;
}

/* Commands whose only variable part is one lc_str: {fixed size, offset of the lc_str field}. */
static bool lc_str_layout(uint32_t cmd, uint32_t *fixed_size, uint32_t *str_field)
{
    *str_field = LOAD_COMMAND_SIZE;
    switch (cmd) {
    case SH_LC_LOAD_DYLINKER:
    case SH_LC_ID_DYLINKER:
    case SH_LC_DYLD_ENVIRONMENT:
    case SH_LC_RPATH:
    case SH_LC_SUB_FRAMEWORK:
    case SH_LC_SUB_UMBRELLA:
    case SH_LC_SUB_CLIENT:
    case SH_LC_SUB_LIBRARY:
    case SH_LC_TARGET_TRIPLE:
        *fixed_size = LC_STR_COMMAND_SIZE;
        return true;
    case SH_LC_LOADFVMLIB:
    case SH_LC_IDFVMLIB:
        *fixed_size = FVMLIB_COMMAND_SIZE;
        return true;
    case SH_LC_PREBOUND_DYLIB:
        *fixed_size = PREBOUND_DYLIB_SIZE;
        return true;
    case SH_LC_FILESET_ENTRY:
        *fixed_size = FILESET_ENTRY_SIZE;
        *str_field = FILESET_ENTRY_ID_OFFSET;
        return true;
    default:
        return false;
    }
}

static sh_err decode_command(slice_parser *p, uint32_t index)
{
    sh_macho_slice *s = p->s;
    const uint32_t cmd = s->commands[index].cmd;
    sh_cursor body;
    if (!sh_macho_load_command_view(s, index, &body)) /* cannot happen: the walk framed it */
        return fail_command(p, SH_E_MACHO_CMDSIZE_OVERRUN, index, s->commands[index].cmdsize);

    sh_macho_linkedit_data *slot = linkedit_slot(s, cmd);
    if (slot)
        return decode_linkedit_data(p, index, &body, slot);
    uint32_t fixed_size, str_field;
    if (lc_str_layout(cmd, &fixed_size, &str_field))
        return decode_lc_str(p, index, &body, fixed_size, str_field);
    if (is_dylib_command(cmd))
        return decode_dylib(p, index, &body);
    switch (cmd) {
    case SH_LC_SEGMENT:
    case SH_LC_SEGMENT_64:
        return decode_segment(p, index, &body);
    case SH_LC_UUID:
        return decode_uuid(p, index, &body);
    case SH_LC_BUILD_VERSION:
        return decode_build_version(p, index, &body);
    case SH_LC_VERSION_MIN_MACOSX:
    case SH_LC_VERSION_MIN_IPHONEOS:
    case SH_LC_VERSION_MIN_TVOS:
    case SH_LC_VERSION_MIN_WATCHOS:
        return decode_version_min(p, index, &body);
    case SH_LC_MAIN:
        return decode_main(p, index, &body);
    case SH_LC_ENCRYPTION_INFO:
    case SH_LC_ENCRYPTION_INFO_64:
        return decode_encryption_info(p, index, &body);
    case SH_LC_DYLD_INFO:
    case SH_LC_DYLD_INFO_ONLY:
        return decode_dyld_info(p, index, &body);
    case SH_LC_SYMTAB:
        return decode_symtab(p, index, &body);
    default:
        return SH_E_OK; /* framed by the walk; contents not needed */
    }
}

/* ---- one thin slice ------------------------------------------------------------------------ */

/* The mach_header: magic, cpu, filetype, command counts.  data is the whole slice. */
static sh_err parse_mach_header(const sh_cursor *data, sh_macho_slice *s, sh_error *err)
{
    const uint64_t at = sh_cursor_pos(data);
    uint32_t le_magic;
    sh_cursor c = *data;
    bool is64, big_endian;
    if (!sh_cursor_u32le(&c, &le_magic) || !thin_magic(le_magic, &is64, &big_endian))
        return sh_fail(err, SH_E_NOT_MACHO, "mach_header", -1, at);
    s->data = *data;
    s->offset = at;
    s->size = sh_cursor_len(data);
    s->magic = le_magic;
    s->is64 = is64;
    s->big_endian = big_endian;
    s->text_segment = -1;
    s->linkedit_segment = -1;

    field_reader r = reader_from(data, big_endian, 4);
    s->cputype = (int32_t)read_u32(&r);
    s->cpusubtype = (int32_t)read_u32(&r);
    s->filetype = read_u32(&r);
    s->ncmds = read_u32(&r);
    s->sizeofcmds = read_u32(&r);
    s->flags = read_u32(&r);
    if (is64)
        (void)read_u32(&r); /* reserved */
    if (!r.ok)
        return sh_fail_value(err, SH_E_MACHO_TRUNCATED, "mach_header", -1, at, s->size);
    return SH_E_OK;
}

static sh_err parse_load_commands(sh_macho_slice *s, const sh_allocator *alloc, sh_error *err)
{
    const uint64_t at = sh_cursor_pos(&s->data);
    const uint32_t header_size = s->is64 ? MACH_HEADER_64_SIZE : MACH_HEADER_SIZE;
    if (s->ncmds > SH_MAX_LOAD_COMMANDS)
        return sh_fail_value(err, SH_E_MACHO_TOO_MANY_COMMANDS, "mach_header", -1, at, s->ncmds);
    sh_cursor cmds;
    if (!sh_cursor_sub(&s->data, header_size, s->sizeofcmds, &cmds))
        return sh_fail_value(err, SH_E_MACHO_COMMANDS_OUT_OF_FILE, "mach_header", -1, at,
                             s->sizeofcmds);

    slice_parser p = {s, alloc, err, 0, 0, 0};
    bool failed = false;
    /* Every command takes at least LOAD_COMMAND_SIZE bytes of sizeofcmds, so the walk fails
     * (CMDSIZE_OVERRUN) before index sizeofcmds / LOAD_COMMAND_SIZE: a claimed ncmds with no
     * bytes behind it must not size the allocation (memory stays linear in the input). */
    const uint32_t room = s->sizeofcmds / LOAD_COMMAND_SIZE + 1;
    s->commands = calloc_array(alloc, s->ncmds < room ? s->ncmds : room, sizeof *s->commands,
                               &failed);
    if (failed)
        return sh_fail(err, SH_E_NO_MEMORY, "load command", -1, at);
    sh_err e = walk_load_commands(&p, &cmds, header_size);
    if (e != SH_E_OK)
        return e;
    s->segments = calloc_array(alloc, p.segment_capacity, sizeof *s->segments, &failed);
    s->sections = calloc_array(alloc, p.section_capacity, sizeof *s->sections, &failed);
    s->dylibs = calloc_array(alloc, p.dylib_capacity, sizeof *s->dylibs, &failed);
    if (failed)
        return sh_fail(err, SH_E_NO_MEMORY, "segment", -1, at);
    for (uint32_t i = 0; i < s->ncmds; i++) {
        e = decode_command(&p, i);
        if (e != SH_E_OK)
            return e;
    }
    return SH_E_OK;
}

/* ---- containers ---------------------------------------------------------------------------- */

/* Security's Universal also reads one fat_arch past nfat_arch and, when its cputype is
 * CPU_TYPE_ARM64, counts it: old iOS tools hid an arm64 slice from loaders that predate it.
 * Only for FAT_MAGIC, as in Security. */
static bool has_hidden_arm64_slice(const sh_macho_file *f, uint32_t nfat_arch)
{
    uint32_t cputype;
    return sh_cursor_u32be_at(&f->data, FAT_HEADER_SIZE + (uint64_t)nfat_arch * FAT_ARCH_SIZE,
                              &cputype) &&
           cputype == (uint32_t)SH_CPU_TYPE_ARM64;
}

uint64_t sh_macho_fat_arch_position(const sh_macho_file *f, uint32_t index)
{
    const uint64_t entry = f->fat_magic == SH_FAT_MAGIC_64 ? FAT_ARCH_64_SIZE : FAT_ARCH_SIZE;
    return FAT_HEADER_SIZE + (uint64_t)index * entry;
}

static sh_err parse_fat_slice(sh_macho_file *f, uint32_t index, sh_error *err)
{
    const bool wide = f->fat_magic == SH_FAT_MAGIC_64;
    const uint64_t at = sh_macho_fat_arch_position(f, index);
    sh_macho_slice *s = &f->slices[index];
    sh_cursor entry;
    if (!sh_cursor_sub(&f->data, at, wide ? FAT_ARCH_64_SIZE : FAT_ARCH_SIZE, &entry))
        return sh_fail(err, SH_E_MACHO_TRUNCATED, "fat_arch", index, at);
    field_reader r = reader_from(&entry, true, 0);
    int32_t cputype = (int32_t)read_u32(&r);
    int32_t cpusubtype = (int32_t)read_u32(&r);
    uint64_t offset = read_word(&r, wide);
    uint64_t size = read_word(&r, wide);
    uint32_t align = read_u32(&r);
    if (!r.ok) /* cannot happen: entry has the full size */
        return sh_fail(err, SH_E_MACHO_TRUNCATED, "fat_arch", index, at);

    sh_cursor data;
    if (!sh_cursor_sub(&f->data, offset, size, &data))
        return sh_fail_value(err, SH_E_FAT_SLICE_OUT_OF_FILE, "fat_arch", index, at, offset);
    uint32_t be_magic, le_magic;
    bool is64, big_endian;
    sh_cursor magic = data;
    if (!sh_cursor_u32be_at(&data, 0, &be_magic) || !sh_cursor_u32le(&magic, &le_magic))
        return sh_fail(err, SH_E_FAT_SLICE_NOT_MACHO, "fat_arch", index, at);
    if (is_fat_magic(be_magic))
        return sh_fail_value(err, SH_E_FAT_NESTED, "fat_arch", index, at, be_magic);
    if (!thin_magic(le_magic, &is64, &big_endian))
        return sh_fail_value(err, SH_E_FAT_SLICE_NOT_MACHO, "fat_arch", index, at, be_magic);

    sh_err e = parse_mach_header(&data, s, err);
    if (e != SH_E_OK)
        return e;
    s->fat_cputype = cputype;
    s->fat_cpusubtype = cpusubtype;
    s->fat_align = align;
    if (s->cputype != cputype)
        return sh_fail_value(err, SH_E_FAT_CPUTYPE_MISMATCH, "fat_arch", index, at,
                             (uint32_t)s->cputype);
    return parse_load_commands(s, f->alloc, err);
}

static sh_err parse_fat(sh_macho_file *f, uint32_t magic, sh_error *err)
{
    const bool wide = magic == SH_FAT_MAGIC_64;
    uint32_t nfat_arch;
    if (!sh_cursor_u32be_at(&f->data, 4, &nfat_arch))
        return sh_fail(err, SH_E_MACHO_TRUNCATED, "fat_header", -1, 0);
    if (nfat_arch == 0)
        return sh_fail(err, SH_E_FAT_NO_ARCHS, "fat_header", -1, 0);
    /* A class file's minor/major version sits where nfat_arch would be; no fat file has 45 slices. */
    if (!wide && nfat_arch >= SH_FAT_JAVA_MIN_NFAT_ARCH)
        return sh_fail_value(err, SH_E_NOT_MACHO, "fat_header", -1, 0, nfat_arch);
    if (nfat_arch > SH_MAX_FAT_ARCHS)
        return sh_fail_value(err, SH_E_FAT_TOO_MANY_ARCHS, "fat_header", -1, 0, nfat_arch);
    const uint64_t entry = wide ? FAT_ARCH_64_SIZE : FAT_ARCH_SIZE;
    sh_cursor table;
    if (!sh_cursor_sub(&f->data, FAT_HEADER_SIZE, nfat_arch * entry, &table))
        return sh_fail_value(err, SH_E_MACHO_TRUNCATED, "fat_arch", -1, FAT_HEADER_SIZE, nfat_arch);

    f->fat = true;
    f->fat_magic = magic;
    f->nfat_arch = nfat_arch;
    f->hidden_slice = !wide && has_hidden_arm64_slice(f, nfat_arch);
    const uint32_t nslices = nfat_arch + (f->hidden_slice ? 1 : 0);
    bool failed = false;
    f->slices = calloc_array(f->alloc, nslices, sizeof *f->slices, &failed);
    if (failed)
        return sh_fail(err, SH_E_NO_MEMORY, "fat_arch", -1, FAT_HEADER_SIZE);
    f->nslices = nslices;
    for (uint32_t i = 0; i < nslices; i++) {
        sh_err e = parse_fat_slice(f, i, err);
        if (e != SH_E_OK)
            return e;
    }
    return SH_E_OK;
}

static sh_err parse_file(sh_macho_file *f, sh_error *err)
{
    uint32_t be_magic;
    if (!sh_cursor_u32be_at(&f->data, 0, &be_magic))
        return sh_fail_value(err, SH_E_NOT_MACHO, "file", -1, 0, sh_cursor_len(&f->data));
    if (be_magic == SH_FAT_MAGIC || be_magic == SH_FAT_MAGIC_64)
        return parse_fat(f, be_magic, err);
    if (be_magic == SH_FAT_CIGAM || be_magic == SH_FAT_CIGAM_64)
        return sh_fail_value(err, SH_E_FAT_BYTE_SWAPPED, "fat_header", -1, 0, be_magic);

    sh_cursor c = f->data;
    uint32_t le_magic;
    bool is64, big_endian;
    if (!sh_cursor_u32le(&c, &le_magic) || !thin_magic(le_magic, &is64, &big_endian))
        return sh_fail_value(err, SH_E_NOT_MACHO, "file", -1, 0, be_magic);
    bool failed = false;
    f->slices = calloc_array(f->alloc, 1, sizeof *f->slices, &failed);
    if (failed)
        return sh_fail(err, SH_E_NO_MEMORY, "mach_header", -1, 0);
    f->nslices = 1;
    sh_err e = parse_mach_header(&f->data, &f->slices[0], err);
    if (e != SH_E_OK)
        return e;
    return parse_load_commands(&f->slices[0], f->alloc, err);
}

sh_err sh_macho_parse(const uint8_t *data, size_t len, const sh_allocator *alloc,
                      sh_macho_file *out, sh_error *err)
{
    if (!out)
        return sh_fail(err, SH_E_NOT_MACHO, "file", -1, 0);
    memset(out, 0, sizeof *out);
    if (len > SH_MAX_INPUT_SIZE)
        return sh_fail_value(err, SH_E_INPUT_TOO_LARGE, "file", -1, 0, len);
    out->alloc = alloc;
    out->file_size = len;
    out->data = sh_cursor_make(data, len);
    sh_err e = parse_file(out, err);
    if (e != SH_E_OK)
        sh_macho_free(out);
    return e;
}
