/* Walkers that find the mutable fields of Mach-O files, SuperBlobs and blobs.  They are more
 * lenient than the parsers on purpose: a file the parser rejects (a count one too large, an
 * offset past the end) still has fields worth mutating back into shape, so each walker reads
 * what it can through cursors and stops where the bytes run out. */
#include <string.h>

#include "codedir.h"
#include "fuzz_mutator_internal.h"
#include "macho.h"
#include "superblob.h"

/* Nested SuperBlobs (a detached signature holds embedded ones): how deep the walker follows. */
#define SH_FM_MAX_BLOB_DEPTH 2u
/* Per structure, how many repeated members get table entries, so a file with thousands of
 * sections or code slots does not crowd out everything else. */
#define SH_FM_MAX_SECTIONS_PER_SEGMENT 8u
#define SH_FM_MAX_CODE_SLOTS 8u
#define SH_FM_MAX_SPECIAL_SLOTS 12u

bool sh_fm_u32_at(const sh_cursor *c, uint64_t off, bool big_endian, uint32_t *v)
{
    sh_cursor t;
    return sh_cursor_sub(c, off, 4, &t) && sh_cursor_u32(&t, big_endian, v);
}

bool sh_fm_u64_at(const sh_cursor *c, uint64_t off, bool big_endian, uint64_t *v)
{
    sh_cursor t;
    return sh_cursor_sub(c, off, 8, &t) && sh_cursor_u64(&t, big_endian, v);
}

static bool read_uint(const sh_cursor *c, uint64_t off, uint32_t width, bool be, uint64_t *v)
{
    sh_cursor t;
    if (!sh_cursor_sub(c, off, width, &t))
        return false;
    if (width == 1) {
        uint8_t b;
        if (!sh_cursor_u8(&t, &b))
            return false;
        *v = b;
        return true;
    }
    if (width == 2) {
        uint16_t h;
        if (!(be ? sh_cursor_u16be(&t, &h) : sh_cursor_u16le(&t, &h)))
            return false;
        *v = h;
        return true;
    }
    if (width == 4) {
        uint32_t w;
        if (!sh_cursor_u32(&t, be, &w))
            return false;
        *v = w;
        return true;
    }
    return width == 8 && sh_cursor_u64(&t, be, v);
}

/* Appends the integer field at c[off] when it is readable. */
static void add_int(sh_fm_fields *out, const sh_cursor *c, uint64_t off, uint32_t width, bool be,
                    sh_fm_field_kind kind, const char *what, uint64_t scope)
{
    uint64_t v;
    if (out->n >= SH_FM_MAX_FIELDS || !read_uint(c, off, width, be, &v))
        return;
    out->f[out->n++] = (sh_fm_field){c->base + off, width, be, kind, what, v, scope};
}

static void add_bytes(sh_fm_fields *out, const sh_cursor *c, uint64_t off, uint32_t width,
                      sh_fm_field_kind kind, const char *what)
{
    sh_cursor t;
    if (out->n >= SH_FM_MAX_FIELDS || width == 0 || !sh_cursor_sub(c, off, width, &t))
        return;
    out->f[out->n++] = (sh_fm_field){c->base + off, width, false, kind, what, 0, width};
}

/* ---- Mach-O ---------------------------------------------------------------------------- */

static bool read_slice_header(const sh_cursor *data, sh_fm_slice *s)
{
    uint32_t magic;
    if (!sh_fm_u32_at(data, 0, false, &magic))
        return false;
    s->data = *data;
    s->is64 = magic == SH_MH_MAGIC_64 || magic == SH_MH_CIGAM_64;
    s->big_endian = magic == SH_MH_CIGAM || magic == SH_MH_CIGAM_64;
    if (!s->is64 && magic != SH_MH_MAGIC && magic != SH_MH_CIGAM)
        return false;
    s->header_size = s->is64 ? 32 : 28;
    return sh_fm_u32_at(data, 16, s->big_endian, &s->ncmds) &&
           sh_fm_u32_at(data, 20, s->big_endian, &s->sizeofcmds);
}

size_t sh_fm_slices(const uint8_t *data, size_t size, sh_fm_slice *out, size_t max, bool *fat)
{
    sh_cursor file = sh_cursor_make(data, size);
    uint32_t magic, narch;
    *fat = false;
    if (max == 0 || !sh_fm_u32_at(&file, 0, true, &magic))
        return 0;
    if (magic != SH_FAT_MAGIC && magic != SH_FAT_MAGIC_64)
        return read_slice_header(&file, &out[0]) ? 1 : 0;
    *fat = true;
    if (!sh_fm_u32_at(&file, 4, true, &narch))
        return 0;
    bool wide = magic == SH_FAT_MAGIC_64;
    size_t n = 0;
    for (uint32_t i = 0; i < narch && i < SH_MAX_FAT_ARCHS && n < max; i++) {
        uint64_t entry = 8 + (uint64_t)i * (wide ? 32 : 20), off, len;
        uint32_t off32, len32;
        if (wide) {
            if (!sh_fm_u64_at(&file, entry + 8, true, &off) ||
                !sh_fm_u64_at(&file, entry + 16, true, &len))
                break;
        } else {
            if (!sh_fm_u32_at(&file, entry + 8, true, &off32) ||
                !sh_fm_u32_at(&file, entry + 12, true, &len32))
                break;
            off = off32;
            len = len32;
        }
        sh_cursor slice;
        if (sh_cursor_sub(&file, off, len, &slice) && read_slice_header(&slice, &out[n]))
            n++;
    }
    return n;
}

static void collect_fat(const sh_cursor *file, sh_fm_fields *out)
{
    uint32_t magic, narch;
    if (!sh_fm_u32_at(file, 0, true, &magic) || !sh_fm_u32_at(file, 4, true, &narch))
        return;
    uint64_t scope = file->len;
    add_int(out, file, 4, 4, true, SH_FK_COUNT, "fat.nfat_arch", SH_MAX_FAT_ARCHS);
    bool wide = magic == SH_FAT_MAGIC_64;
    for (uint32_t i = 0; i < narch && i < SH_MAX_FAT_ARCHS; i++) {
        uint64_t e = 8 + (uint64_t)i * (wide ? 32 : 20);
        add_int(out, file, e, 4, true, SH_FK_CPU_TYPE, "fat_arch.cputype", 0);
        add_int(out, file, e + 4, 4, true, SH_FK_CPU_SUBTYPE, "fat_arch.cpusubtype", 0);
        add_int(out, file, e + 8, wide ? 8 : 4, true, SH_FK_OFFSET, "fat_arch.offset", scope);
        add_int(out, file, e + (wide ? 16 : 12), wide ? 8 : 4, true, SH_FK_SIZE, "fat_arch.size",
                scope);
        add_int(out, file, e + (wide ? 24 : 16), 4, true, SH_FK_FAT_ALIGN, "fat_arch.align", 0);
    }
}

static void collect_segment(const sh_fm_slice *s, const sh_cursor *lc, sh_fm_fields *out)
{
    const sh_cursor *d = &s->data;
    bool be = s->big_endian;
    uint64_t scope = d->len;
    uint64_t at = lc->base - d->base; /* the command's offset inside the slice */
    uint32_t w = s->is64 ? 8 : 4;
    uint64_t f = at + 24; /* vmaddr */
    add_int(out, d, f, w, be, SH_FK_OFFSET, "segment.vmaddr", scope);
    add_int(out, d, f + w, w, be, SH_FK_SIZE, "segment.vmsize", scope);
    add_int(out, d, f + 2 * w, w, be, SH_FK_OFFSET, "segment.fileoff", scope);
    add_int(out, d, f + 3 * w, w, be, SH_FK_SIZE, "segment.filesize", scope);
    add_int(out, d, f + 4 * w, 4, be, SH_FK_PROT, "segment.maxprot", 0);
    add_int(out, d, f + 4 * w + 4, 4, be, SH_FK_PROT, "segment.initprot", 0);
    add_int(out, d, f + 4 * w + 8, 4, be, SH_FK_COUNT, "segment.nsects", SH_MAX_SECTIONS);
    uint32_t nsects;
    if (!sh_fm_u32_at(d, f + 4 * w + 8, be, &nsects))
        return;
    uint64_t sect = f + 4 * w + 16, sect_size = s->is64 ? 80 : 68;
    for (uint32_t i = 0; i < nsects && i < SH_FM_MAX_SECTIONS_PER_SEGMENT; i++) {
        uint64_t so = sect + i * sect_size;
        if (so + sect_size > at + lc->len)
            break;
        add_int(out, d, so + 32 + w, w, be, SH_FK_SIZE, "section.size", scope);
        add_int(out, d, so + 32 + 2 * w, 4, be, SH_FK_OFFSET, "section.offset", scope);
        add_int(out, d, so + 36 + 2 * w, 4, be, SH_FK_FAT_ALIGN, "section.align", 0);
        add_int(out, d, so + 48 + 2 * w, 4, be, SH_FK_MH_FLAGS, "section.flags", 0);
    }
}

static void collect_command(const sh_fm_slice *s, uint32_t cmd, const sh_cursor *lc,
                            sh_fm_fields *out)
{
    bool be = s->big_endian;
    uint64_t scope = s->data.len;
    switch (cmd) {
    case SH_LC_SEGMENT:
    case SH_LC_SEGMENT_64:
        collect_segment(s, lc, out);
        break;
    case SH_LC_CODE_SIGNATURE: {
        add_int(out, lc, 8, 4, be, SH_FK_OFFSET, "LC_CODE_SIGNATURE.dataoff", scope);
        add_int(out, lc, 12, 4, be, SH_FK_SIZE, "LC_CODE_SIGNATURE.datasize", scope);
        uint32_t off, len;
        sh_cursor sig;
        if (sh_fm_u32_at(lc, 8, be, &off) && sh_fm_u32_at(lc, 12, be, &len) &&
            sh_cursor_sub(&s->data, off, len, &sig))
            sh_fm_collect_superblob(&sig, out);
        break;
    }
    case SH_LC_FUNCTION_STARTS:
    case SH_LC_DATA_IN_CODE:
    case SH_LC_DYLD_CHAINED_FIXUPS:
    case SH_LC_DYLD_EXPORTS_TRIE:
    case SH_LC_SEGMENT_SPLIT_INFO:
    case SH_LC_DYLIB_CODE_SIGN_DRS:
        add_int(out, lc, 8, 4, be, SH_FK_OFFSET, "linkedit_data.dataoff", scope);
        add_int(out, lc, 12, 4, be, SH_FK_SIZE, "linkedit_data.datasize", scope);
        break;
    case SH_LC_BUILD_VERSION:
        add_int(out, lc, 8, 4, be, SH_FK_PLATFORM, "build_version.platform", 0);
        add_int(out, lc, 12, 4, be, SH_FK_OS_VERSION, "build_version.minos", 0);
        add_int(out, lc, 16, 4, be, SH_FK_OS_VERSION, "build_version.sdk", 0);
        add_int(out, lc, 20, 4, be, SH_FK_COUNT, "build_version.ntools", SH_MAX_BUILD_TOOLS);
        break;
    case SH_LC_VERSION_MIN_MACOSX:
    case SH_LC_VERSION_MIN_IPHONEOS:
        add_int(out, lc, 8, 4, be, SH_FK_OS_VERSION, "version_min.version", 0);
        add_int(out, lc, 12, 4, be, SH_FK_OS_VERSION, "version_min.sdk", 0);
        break;
    case SH_LC_MAIN:
        add_int(out, lc, 8, 8, be, SH_FK_OFFSET, "LC_MAIN.entryoff", scope);
        break;
    case SH_LC_SYMTAB:
        add_int(out, lc, 8, 4, be, SH_FK_OFFSET, "symtab.symoff", scope);
        add_int(out, lc, 12, 4, be, SH_FK_COUNT, "symtab.nsyms", 0);
        add_int(out, lc, 16, 4, be, SH_FK_OFFSET, "symtab.stroff", scope);
        add_int(out, lc, 20, 4, be, SH_FK_SIZE, "symtab.strsize", scope);
        break;
    case SH_LC_LOAD_DYLIB:
    case SH_LC_LOAD_WEAK_DYLIB:
    case SH_LC_REEXPORT_DYLIB:
    case SH_LC_ID_DYLIB:
    case SH_LC_LOAD_DYLINKER:
    case SH_LC_RPATH:
        add_int(out, lc, 8, 4, be, SH_FK_OFFSET, "lc_str.offset", lc->len);
        break;
    case SH_LC_ENCRYPTION_INFO:
    case SH_LC_ENCRYPTION_INFO_64:
        add_int(out, lc, 8, 4, be, SH_FK_OFFSET, "encryption.cryptoff", scope);
        add_int(out, lc, 12, 4, be, SH_FK_SIZE, "encryption.cryptsize", scope);
        add_int(out, lc, 16, 4, be, SH_FK_COUNT, "encryption.cryptid", 0);
        break;
    default:
        break;
    }
}

static void collect_slice(const sh_fm_slice *s, sh_fm_fields *out)
{
    const sh_cursor *d = &s->data;
    bool be = s->big_endian;
    add_int(out, d, 4, 4, be, SH_FK_CPU_TYPE, "mach_header.cputype", 0);
    add_int(out, d, 8, 4, be, SH_FK_CPU_SUBTYPE, "mach_header.cpusubtype", 0);
    add_int(out, d, 12, 4, be, SH_FK_FILETYPE, "mach_header.filetype", 0);
    add_int(out, d, 16, 4, be, SH_FK_COUNT, "mach_header.ncmds", SH_MAX_LOAD_COMMANDS);
    add_int(out, d, 20, 4, be, SH_FK_SIZE, "mach_header.sizeofcmds", d->len);
    add_int(out, d, 24, 4, be, SH_FK_MH_FLAGS, "mach_header.flags", 0);
    uint64_t off = s->header_size;
    for (uint32_t i = 0; i < s->ncmds && i < SH_MAX_LOAD_COMMANDS; i++) {
        uint32_t cmd, cmdsize;
        sh_cursor lc;
        if (!sh_fm_u32_at(d, off, be, &cmd) || !sh_fm_u32_at(d, off + 4, be, &cmdsize) ||
            cmdsize < 8 || !sh_cursor_sub(d, off, cmdsize, &lc))
            break;
        add_int(out, d, off, 4, be, SH_FK_LOAD_COMMAND, "load_command.cmd", 0);
        add_int(out, d, off + 4, 4, be, SH_FK_SIZE, "load_command.cmdsize", s->sizeofcmds);
        collect_command(s, cmd, &lc, out);
        off += cmdsize;
    }
}

/* ---- signatures ------------------------------------------------------------------------ */

static void collect_hashes(const sh_cursor *cd, uint32_t hash_offset, uint32_t hash_size,
                           uint32_t nspecial, uint32_t ncode, sh_fm_fields *out)
{
    if (hash_size == 0 || hash_size > 64)
        return;
    for (uint32_t k = 1; k <= nspecial && k <= SH_FM_MAX_SPECIAL_SLOTS; k++)
        if ((uint64_t)k * hash_size <= hash_offset)
            add_bytes(out, cd, hash_offset - (uint64_t)k * hash_size, hash_size,
                      SH_FK_HASH_BYTES, "cd.special_slot_hash");
    /* The first and last pages and a few between: enough to hit every path of the page check. */
    uint64_t step = ncode / SH_FM_MAX_CODE_SLOTS + 1; /* 64-bit: i + step must not wrap */
    for (uint64_t i = 0; i < ncode; i += step)
        add_bytes(out, cd, hash_offset + i * hash_size, hash_size, SH_FK_HASH_BYTES,
                  "cd.code_slot_hash");
    if (ncode > 1)
        add_bytes(out, cd, hash_offset + (uint64_t)(ncode - 1) * hash_size, hash_size,
                  SH_FK_HASH_BYTES, "cd.code_slot_hash");
}

static void add_string(sh_fm_fields *out, const sh_cursor *cd, uint32_t off, const char *what)
{
    const char *str;
    size_t len;
    if (off && sh_cursor_cstr_at(cd, off, SH_MAX_IDENTIFIER_LEN, &str, &len))
        add_bytes(out, cd, off, (uint32_t)len + 1, SH_FK_STRING_BYTES, what);
}

static void collect_codedir(const sh_cursor *cd, sh_fm_fields *out)
{
    uint64_t scope = cd->len;
    uint32_t version = 0, hash_offset = 0, ident = 0, nspecial = 0, ncode = 0, team = 0;
    uint8_t hash_size = 0;
    sh_fm_u32_at(cd, 8, true, &version);
    add_int(out, cd, 8, 4, true, SH_FK_CD_VERSION, "cd.version", 0);
    add_int(out, cd, 12, 4, true, SH_FK_CD_FLAGS, "cd.flags", 0);
    add_int(out, cd, 16, 4, true, SH_FK_OFFSET, "cd.hashOffset", scope);
    add_int(out, cd, 20, 4, true, SH_FK_OFFSET, "cd.identOffset", scope);
    add_int(out, cd, 24, 4, true, SH_FK_COUNT, "cd.nSpecialSlots", SH_MAX_SPECIAL_SLOTS);
    add_int(out, cd, 28, 4, true, SH_FK_COUNT, "cd.nCodeSlots", 0);
    add_int(out, cd, 32, 4, true, SH_FK_SIZE, "cd.codeLimit", 0);
    add_int(out, cd, 36, 1, true, SH_FK_HASH_SIZE, "cd.hashSize", 0);
    add_int(out, cd, 37, 1, true, SH_FK_HASH_TYPE, "cd.hashType", 0);
    add_int(out, cd, 38, 1, true, SH_FK_PLATFORM, "cd.platform", 0);
    add_int(out, cd, 39, 1, true, SH_FK_PAGE_SHIFT, "cd.pageSize", SH_MAX_PAGE_SHIFT);
    if (version >= SH_CD_VERSION_SCATTER)
        add_int(out, cd, 44, 4, true, SH_FK_OFFSET, "cd.scatterOffset", scope);
    if (version >= SH_CD_VERSION_TEAM)
        add_int(out, cd, 48, 4, true, SH_FK_OFFSET, "cd.teamOffset", scope);
    if (version >= SH_CD_VERSION_CODELIMIT64)
        add_int(out, cd, 56, 8, true, SH_FK_SIZE, "cd.codeLimit64", 0);
    if (version >= SH_CD_VERSION_EXECSEG) {
        add_int(out, cd, 64, 8, true, SH_FK_OFFSET, "cd.execSegBase", 0);
        add_int(out, cd, 72, 8, true, SH_FK_SIZE, "cd.execSegLimit", 0);
        add_int(out, cd, 80, 8, true, SH_FK_EXECSEG_FLAGS, "cd.execSegFlags", 0);
    }
    if (version >= SH_CD_VERSION_RUNTIME) {
        add_int(out, cd, 88, 4, true, SH_FK_OS_VERSION, "cd.runtime", 0);
        add_int(out, cd, 92, 4, true, SH_FK_OFFSET, "cd.preEncryptOffset", scope);
    }
    if (version >= SH_CD_VERSION_LINKAGE) {
        add_int(out, cd, 96, 1, true, SH_FK_HASH_TYPE, "cd.linkageHashType", 0);
        add_int(out, cd, 100, 4, true, SH_FK_OFFSET, "cd.linkageOffset", scope);
        add_int(out, cd, 104, 4, true, SH_FK_SIZE, "cd.linkageSize", scope);
    }
    sh_cursor t;
    if (sh_fm_u32_at(cd, 16, true, &hash_offset) && sh_fm_u32_at(cd, 24, true, &nspecial) &&
        sh_fm_u32_at(cd, 28, true, &ncode) && sh_cursor_sub(cd, 36, 1, &t) &&
        sh_cursor_u8(&t, &hash_size))
        collect_hashes(cd, hash_offset, hash_size, nspecial, ncode, out);
    if (sh_fm_u32_at(cd, 20, true, &ident))
        add_string(out, cd, ident, "cd.identifier");
    if (version >= SH_CD_VERSION_TEAM && sh_fm_u32_at(cd, 48, true, &team))
        add_string(out, cd, team, "cd.teamID");
}

static void collect_superblob_at(const sh_cursor *sb, unsigned depth, sh_fm_fields *out);

static void collect_blob_at(const sh_cursor *blob, unsigned depth, sh_fm_fields *out)
{
    uint32_t magic, length;
    if (!sh_fm_u32_at(blob, 0, true, &magic) || !sh_fm_u32_at(blob, 4, true, &length))
        return;
    add_int(out, blob, 0, 4, true, SH_FK_MAGIC, "blob.magic", 0);
    add_int(out, blob, 4, 4, true, SH_FK_SIZE, "blob.length", blob->len);
    sh_cursor body;
    if (length < 8 || !sh_cursor_sub(blob, 0, length, &body))
        return;
    if (magic == SH_MAGIC_CODEDIRECTORY)
        collect_codedir(&body, out);
    else if (magic == SH_MAGIC_EMBEDDED_SIGNATURE || magic == SH_MAGIC_DETACHED_SIGNATURE ||
             magic == SH_MAGIC_EMBEDDED_SIGNATURE_OLD || magic == SH_MAGIC_REQUIREMENTS)
        collect_superblob_at(&body, depth + 1, out);
}

static void collect_superblob_at(const sh_cursor *sb, unsigned depth, sh_fm_fields *out)
{
    uint32_t magic, length, count;
    if (depth > SH_FM_MAX_BLOB_DEPTH || !sh_fm_u32_at(sb, 0, true, &magic) ||
        !sh_fm_u32_at(sb, 4, true, &length) || !sh_fm_u32_at(sb, 8, true, &count))
        return;
    uint64_t scope = length < sb->len ? length : sb->len;
    add_int(out, sb, 0, 4, true, SH_FK_MAGIC, "superblob.magic", 0);
    add_int(out, sb, 4, 4, true, SH_FK_SIZE, "superblob.length", sb->len);
    add_int(out, sb, 8, 4, true, SH_FK_COUNT, "superblob.count", SH_MAX_SUPERBLOB_BLOBS);
    for (uint32_t i = 0; i < count && i < SH_MAX_SUPERBLOB_BLOBS; i++) {
        uint64_t e = 12 + (uint64_t)i * 8;
        uint32_t off;
        add_int(out, sb, e, 4, true, SH_FK_SLOT_TYPE, "blob_index.type", 0);
        add_int(out, sb, e + 4, 4, true, SH_FK_OFFSET, "blob_index.offset", scope);
        sh_cursor blob;
        if (sh_fm_u32_at(sb, e + 4, true, &off) && sh_cursor_tail(sb, off, &blob))
            collect_blob_at(&blob, depth, out);
    }
}

void sh_fm_collect_superblob(const sh_cursor *sb, sh_fm_fields *out)
{
    collect_superblob_at(sb, 0, out);
}

void sh_fm_collect_blob(const sh_cursor *blob, sh_fm_fields *out)
{
    collect_blob_at(blob, 0, out);
}

void sh_fm_collect(const uint8_t *data, size_t size, sh_fm_kind kind, sh_fm_fields *out)
{
    sh_cursor all = sh_cursor_make(data, size);
    out->n = 0;
    if (kind == SH_FM_SUPERBLOB) {
        sh_fm_collect_superblob(&all, out);
    } else if (kind == SH_FM_BLOB) {
        sh_fm_collect_blob(&all, out);
    } else if (kind == SH_FM_MACHO) {
        sh_fm_slice slices[SH_MAX_FAT_ARCHS];
        bool fat;
        size_t n = sh_fm_slices(data, size, slices, SH_MAX_FAT_ARCHS, &fat);
        if (fat)
            collect_fat(&all, out);
        for (size_t i = 0; i < n; i++)
            collect_slice(&slices[i], out);
    }
}
