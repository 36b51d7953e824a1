/* Hostile Mach-O inputs: each case builds a malformed file (an exactly sized malloc'ed buffer, so
 * ASan catches any read past its end) and asserts the specific error, where it is reported and,
 * for most, which index.  Cases that parse run the structure check, whose error then counts.
 * Also: every prefix of valid thin and fat files fails with the error its length implies. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "sh_limits.h"
#include "macho.h"
#include "macho_builder.h"

/* ---- case builders ---------------------------------------------------------------------------- */

/* Where a patch goes in the standard file (macho_builder.h). */
typedef enum anchor {
    AT_HEADER, AT_PAGEZERO, AT_TEXT, AT_TEXT_SECTION, AT_LINKEDIT, AT_SYMTAB, AT_UUID,
    AT_BUILD_VERSION, AT_MAIN, AT_DYLIB, AT_CODE_SIGNATURE,
} anchor;

static size_t anchor_offset(const mb_std *o, anchor a)
{
    switch (a) {
    case AT_HEADER: return 0;
    case AT_PAGEZERO: return o->pagezero;
    case AT_TEXT: return o->text;
    case AT_TEXT_SECTION: return o->text_section;
    case AT_LINKEDIT: return o->linkedit;
    case AT_SYMTAB: return o->symtab;
    case AT_UUID: return o->uuid;
    case AT_BUILD_VERSION: return o->build_version;
    case AT_MAIN: return o->main_cmd;
    case AT_DYLIB: return o->dylib;
    case AT_CODE_SIGNATURE: return o->code_signature;
    }
    return 0;
}

static uint8_t *bytes_copy(const void *p, size_t n, size_t *len)
{
    uint8_t *out = malloc(n ? n : 1);
    assert_non_null(out);
    if (n)
        memcpy(out, p, n);
    *len = n;
    return out;
}

static uint8_t *empty_file(size_t *len) { return bytes_copy("", 0, len); }
static uint8_t *three_bytes(size_t *len) { return bytes_copy("\xcf\xfa\xed", 3, len); }

static uint8_t *elf_file(size_t *len)
{
    uint8_t elf[64] = {0x7f, 'E', 'L', 'F', 2, 1, 1};
    return bytes_copy(elf, sizeof elf, len);
}

static uint8_t *java_class(size_t *len)
{
    const uint8_t java[24] = {0xca, 0xfe, 0xba, 0xbe, 0x00, 0x00, 0x00, 0x3d, 0x00, 0x1d};
    return bytes_copy(java, sizeof java, len);
}

static uint8_t *fat_cigam(size_t *len)
{
    const uint8_t cigam[48] = {0xbe, 0xba, 0xfe, 0xca, 0x01, 0x00, 0x00, 0x00};
    return bytes_copy(cigam, sizeof cigam, len);
}

static uint8_t *header_truncated(size_t *len)
{
    size_t full;
    uint8_t *data = mb_std_file(true, false, SH_CPU_TYPE_ARM64, 0, &full, NULL);
    uint8_t *out = bytes_copy(data, 20, len);
    free(data);
    return out;
}

/* A 64-bit file whose only command is given raw. */
static uint8_t *single_raw_command(uint32_t cmd, uint32_t cmdsize, size_t payload_len, size_t *len)
{
    uint8_t payload[64] = {0};
    mb b;
    mb_begin(&b, true, false, SH_CPU_TYPE_ARM64, 0, SH_MH_EXECUTE);
    mb_raw_cmd(&b, cmd, cmdsize, payload, payload_len);
    mb_end_commands(&b);
    return mb_finish(&b, len);
}

static uint8_t *segment_command_too_small(size_t *len)
{
    return single_raw_command(SH_LC_SEGMENT_64, 64, 56, len);
}

static uint8_t *uuid_command_too_small(size_t *len)
{
    return single_raw_command(SH_LC_UUID, 16, 8, len);
}

static uint8_t *main_command_too_small(size_t *len)
{
    return single_raw_command(SH_LC_MAIN, 16, 8, len);
}

/* 32-bit big-endian standard file with the uuid cmdsize made unaligned. */
static uint8_t *cmdsize_unaligned_32(size_t *len)
{
    mb_std o;
    mb b;
    mb_std_begin(&b, false, true, SH_CPU_TYPE_POWERPC, 0, &o);
    mb_put_u32(&b, o.uuid + 4, 26);
    return mb_std_end(&b, len);
}

static uint8_t *rpath_offset_outside_32_be(size_t *len)
{
    mb b;
    mb_std_begin(&b, false, true, SH_CPU_TYPE_POWERPC, 0, NULL);
    size_t at = mb_lc_str(&b, SH_LC_RPATH, "@loader_path");
    mb_put_u32(&b, at + 8, 0x40);
    return mb_std_end(&b, len);
}

/* Standard 64-bit file plus one extra command (added by the named helper). */
static uint8_t *std_plus(void (*add)(mb *b), size_t *len)
{
    mb b;
    mb_std_begin(&b, true, false, SH_CPU_TYPE_ARM64, 0, NULL);
    add(&b);
    return mb_std_end(&b, len);
}

static void add_dylib_name_without_nul(mb *b)
{
    const uint32_t fields[4] = {24, 2, 0x10000, 0x10000};
    uint8_t payload[24];
    for (int i = 0; i < 4; i++) /* little-endian file */
        for (int k = 0; k < 4; k++)
            payload[i * 4 + k] = (uint8_t)(fields[i] >> (8 * k));
    memcpy(payload + 16, "ABCDEFGH", 8);
    mb_raw_cmd(b, SH_LC_LOAD_DYLIB, 32, payload, sizeof payload);
}
static void add_rpath_without_nul(mb *b)
{
    const uint8_t payload[8] = {12, 0, 0, 0, 'A', 'B', 'C', 'D'};
    mb_raw_cmd(b, SH_LC_RPATH, 16, payload, sizeof payload);
}
static void add_function_starts_past_eof(mb *b)
{
    mb_linkedit_data(b, SH_LC_FUNCTION_STARTS, MB_STD_FILE_SIZE, 8);
}
static void add_second_code_signature(mb *b)
{
    mb_linkedit_data(b, SH_LC_CODE_SIGNATURE, MB_STD_SIG_OFF, MB_STD_SIG_SIZE);
}
static void add_second_uuid(mb *b) { mb_uuid(b, mb_std_uuid); }
static void add_second_main(mb *b) { mb_main(b, 0x800, 0); }
static void add_second_build_version(mb *b)
{
    mb_build_version(b, SH_PLATFORM_MACOS, 0x000c0000, 0x000d0000, 0, NULL);
}
static void add_dyld_info_twice(mb *b)
{
    const uint32_t zero[10] = {0};
    mb_dyld_info(b, SH_LC_DYLD_INFO, zero);
    mb_dyld_info(b, SH_LC_DYLD_INFO_ONLY, zero);
}
static void add_two_version_mins(mb *b)
{
    mb_version_min(b, SH_LC_VERSION_MIN_MACOSX, 0x000a0e00, 0x000b0000);
    mb_version_min(b, SH_LC_VERSION_MIN_IPHONEOS, 0x000e0000, 0x000e0000);
}
static void add_second_symtab(mb *b) { mb_symtab(b, 0, 0, 0, 0); }
static void add_second_text(mb *b) { mb_segment(b, "__TEXT", 0x200000000, 0x1000, 0, 0, 0, NULL); }
static void add_dyld_info_out_of_file(mb *b)
{
    const uint32_t v[10] = {0, 0, 0, 0, 0, 0, 0, 0, 0x1100, 0x200};
    mb_dyld_info(b, SH_LC_DYLD_INFO_ONLY, v);
}
static void add_encryption_out_of_file(mb *b) { mb_encryption_info(b, true, 0x1000, 0x1000, 0); }

static uint8_t *dylib_name_without_nul(size_t *len) { return std_plus(add_dylib_name_without_nul, len); }
static uint8_t *rpath_without_nul(size_t *len) { return std_plus(add_rpath_without_nul, len); }
static uint8_t *function_starts_past_eof(size_t *len) { return std_plus(add_function_starts_past_eof, len); }
static uint8_t *duplicate_code_signature(size_t *len) { return std_plus(add_second_code_signature, len); }
static uint8_t *duplicate_uuid(size_t *len) { return std_plus(add_second_uuid, len); }
static uint8_t *duplicate_main(size_t *len) { return std_plus(add_second_main, len); }
static uint8_t *duplicate_build_version(size_t *len) { return std_plus(add_second_build_version, len); }
static uint8_t *duplicate_dyld_info(size_t *len) { return std_plus(add_dyld_info_twice, len); }
static uint8_t *duplicate_version_min(size_t *len) { return std_plus(add_two_version_mins, len); }
static uint8_t *duplicate_symtab(size_t *len) { return std_plus(add_second_symtab, len); }
static uint8_t *duplicate_text_segment(size_t *len) { return std_plus(add_second_text, len); }
static uint8_t *dyld_info_out_of_file(size_t *len) { return std_plus(add_dyld_info_out_of_file, len); }
static uint8_t *encryption_out_of_file(size_t *len) { return std_plus(add_encryption_out_of_file, len); }

static uint8_t *too_many_dylibs(size_t *len)
{
    mb b;
    mb_begin(&b, true, false, SH_CPU_TYPE_ARM64, 0, SH_MH_EXECUTE);
    for (uint32_t i = 0; i <= SH_MAX_DYLIBS; i++)
        mb_dylib(&b, SH_LC_LOAD_DYLIB, "/a", 0, 0, 0);
    mb_end_commands(&b);
    return mb_finish(&b, len);
}

/* Fat containers. */
static uint8_t *fat_header_only(uint32_t magic, uint32_t nfat_arch, size_t table_bytes, size_t *len)
{
    uint8_t buf[8 + 64] = {0};
    for (int k = 0; k < 4; k++) {
        buf[k] = (uint8_t)(magic >> (24 - 8 * k));
        buf[4 + k] = (uint8_t)(nfat_arch >> (24 - 8 * k));
    }
    return bytes_copy(buf, 8 + table_bytes, len);
}
static uint8_t *fat_nfat_huge(size_t *len) { return fat_header_only(SH_FAT_MAGIC, 0xffffffff, 64, len); }
static uint8_t *fat64_too_many_archs(size_t *len)
{
    return fat_header_only(SH_FAT_MAGIC_64, SH_MAX_FAT_ARCHS + 1, 64, len);
}
static uint8_t *fat_zero_archs(size_t *len) { return fat_header_only(SH_FAT_MAGIC, 0, 64, len); }
static uint8_t *fat_table_truncated(size_t *len) { return fat_header_only(SH_FAT_MAGIC, 2, 20, len); }

/* One standard slice (x86_64) in a fat file, with the fat_arch fields overridable. */
static uint8_t *fat_one(bool wide, const uint8_t *slice, size_t slice_len, int32_t cputype,
                        uint32_t align, uint64_t offset, uint64_t size, size_t *len)
{
    const mb_fat_slice s = {slice, slice_len, cputype, 3, align, offset, size};
    return mb_fat(wide, &s, 1, 0, len);
}

static uint8_t *fat_std_one(bool wide, int32_t cputype, uint32_t align, uint64_t offset,
                            uint64_t size, size_t *len)
{
    size_t slice_len;
    uint8_t *slice = mb_std_file(true, false, SH_CPU_TYPE_X86_64, 3, &slice_len, NULL);
    uint8_t *fat = fat_one(wide, slice, slice_len, cputype, align, offset, size, len);
    free(slice);
    return fat;
}

/* Rewrites fat_arch[0].offset / size after building (the builder places the data sanely). */
static void patch_fat_arch(uint8_t *fat, bool wide, uint64_t offset, uint64_t size)
{
    if (wide) {
        for (int k = 0; k < 8; k++) {
            fat[16 + k] = (uint8_t)(offset >> (56 - 8 * k));
            fat[24 + k] = (uint8_t)(size >> (56 - 8 * k));
        }
    } else {
        for (int k = 0; k < 4; k++) {
            fat[16 + k] = (uint8_t)(offset >> (24 - 8 * k));
            fat[20 + k] = (uint8_t)(size >> (24 - 8 * k));
        }
    }
}

static uint8_t *fat_slice_overflow_32(size_t *len)
{
    uint8_t *fat = fat_std_one(false, SH_CPU_TYPE_X86_64, 12, 0, 0, len);
    patch_fat_arch(fat, false, 0xffffff00, 0x200); /* wraps in u32 */
    return fat;
}

static uint8_t *fat_slice_overflow_64(size_t *len)
{
    uint8_t *fat = fat_std_one(true, SH_CPU_TYPE_X86_64, 12, 0, 0, len);
    patch_fat_arch(fat, true, 0xffffffffffffff00u, 0x200); /* wraps in u64 */
    return fat;
}

static uint8_t *fat_slice_past_eof(size_t *len)
{
    return fat_std_one(false, SH_CPU_TYPE_X86_64, 12, 0, MB_STD_FILE_SIZE + 1, len);
}

static uint8_t *fat_cputype_mismatch(size_t *len)
{
    return fat_std_one(false, SH_CPU_TYPE_ARM64, 12, 0, 0, len);
}

static uint8_t *fat_align_too_large(size_t *len)
{
    return fat_std_one(false, SH_CPU_TYPE_X86_64, 16, 0, 0, len);
}

static uint8_t *fat_slice_misaligned(size_t *len)
{
    return fat_std_one(false, SH_CPU_TYPE_X86_64, 12, 0x1008, 0, len);
}

static uint8_t *fat_slices_overlap(size_t *len)
{
    size_t l0, l1;
    uint8_t *a = mb_std_file(true, false, SH_CPU_TYPE_X86_64, 3, &l0, NULL);
    uint8_t *b = mb_std_file(true, false, SH_CPU_TYPE_ARM64, 0, &l1, NULL);
    const mb_fat_slice s[2] = {
        {a, l0, SH_CPU_TYPE_X86_64, 3, 12, 0x1000, 0},
        {b, l1, SH_CPU_TYPE_ARM64, 0, 12, 0x2000, 0}, /* the first ends at 0x2200 */
    };
    uint8_t *fat = mb_fat(false, s, 2, 0, len);
    free(a);
    free(b);
    return fat;
}

static uint8_t *fat_slice_not_macho(size_t *len)
{
    const uint8_t junk[64] = "#!/bin/sh\necho this is not a Mach-O\n";
    return fat_one(false, junk, sizeof junk, SH_CPU_TYPE_X86_64, 12, 0, 0, len);
}

static uint8_t *fat_slice_empty(size_t *len)
{
    uint8_t *fat = fat_std_one(false, SH_CPU_TYPE_X86_64, 12, 0, 0, len);
    patch_fat_arch(fat, false, 0x1000, 0);
    return fat;
}

static uint8_t *fat_nested(size_t *len)
{
    size_t inner_len;
    uint8_t *inner = fat_std_one(false, SH_CPU_TYPE_X86_64, 12, 0, 0, &inner_len);
    uint8_t *fat = fat_one(false, inner, inner_len, SH_CPU_TYPE_X86_64, 12, 0, 0, len);
    free(inner);
    return fat;
}

static uint8_t *fat_slice_header_truncated(size_t *len)
{
    size_t slice_len;
    uint8_t *slice = mb_std_file(true, false, SH_CPU_TYPE_X86_64, 3, &slice_len, NULL);
    uint8_t *fat = fat_one(false, slice, 16, SH_CPU_TYPE_X86_64, 12, 0, 0, len);
    free(slice);
    return fat;
}

/* ---- the table -------------------------------------------------------------------------------- */

typedef enum kind { BUILD, PATCH32, PATCH64 } kind;

typedef struct hostile_case {
    const char *name;
    kind kind;
    uint8_t *(*build)(size_t *len); /* BUILD */
    anchor at;                      /* PATCH*: std 64-bit file, field at anchor + rel */
    size_t rel;
    uint64_t value;
    sh_err expected;
    const char *where; /* NULL: not checked */
    int64_t index;
    int64_t offset; /* absolute error offset, -1: not checked */
} hostile_case;

#define B(name, fn, err, where, index, offset) {name, BUILD, fn, AT_HEADER, 0, 0, err, where, index, offset}
#define P32(name, at, rel, v, err, where, index) {name, PATCH32, NULL, at, rel, v, err, where, index, -1}
#define P64(name, at, rel, v, err, where, index) {name, PATCH64, NULL, at, rel, v, err, where, index, -1}

static const hostile_case cases[] = {
    /* container and header */
    B("empty file", empty_file, SH_E_NOT_MACHO, "file", -1, 0),
    B("three bytes", three_bytes, SH_E_NOT_MACHO, "file", -1, 0),
    B("ELF file", elf_file, SH_E_NOT_MACHO, "file", -1, 0),
    B("Java class file", java_class, SH_E_NOT_MACHO, "fat_header", -1, 0),
    B("FAT_CIGAM header", fat_cigam, SH_E_FAT_BYTE_SWAPPED, "fat_header", -1, 0),
    B("mach_header truncated", header_truncated, SH_E_MACHO_TRUNCATED, "mach_header", -1, 0),
    P32("ncmds huge", AT_HEADER, 16, 0xffffffff, SH_E_MACHO_TOO_MANY_COMMANDS, "mach_header", -1),
    P32("ncmds one past the limit", AT_HEADER, 16, SH_MAX_LOAD_COMMANDS + 1,
        SH_E_MACHO_TOO_MANY_COMMANDS, "mach_header", -1),
    P32("ncmds counts one more command", AT_HEADER, 16, MB_STD_NCMDS + 1,
        SH_E_MACHO_CMDSIZE_OVERRUN, "load command", MB_STD_NCMDS),
    P32("sizeofcmds past the file", AT_HEADER, 20, 0x2000, SH_E_MACHO_COMMANDS_OUT_OF_FILE,
        "mach_header", -1),
    P32("sizeofcmds 0xffffffff", AT_HEADER, 20, 0xffffffff, SH_E_MACHO_COMMANDS_OUT_OF_FILE,
        "mach_header", -1),
    P32("sizeofcmds larger than the commands", AT_HEADER, 20, 472 + 8,
        SH_E_MACHO_SIZEOFCMDS_MISMATCH, "mach_header", -1),
    /* generic command framing */
    P32("cmdsize 0", AT_TEXT, 4, 0, SH_E_MACHO_CMDSIZE_TOO_SMALL, "load command", 1),
    P32("cmdsize 4", AT_UUID, 4, 4, SH_E_MACHO_CMDSIZE_TOO_SMALL, "load command", 4),
    P32("cmdsize not a multiple of 8 (64-bit)", AT_UUID, 4, 28, SH_E_MACHO_CMDSIZE_UNALIGNED,
        "load command", 4),
    B("cmdsize not a multiple of 4 (32-bit)", cmdsize_unaligned_32, SH_E_MACHO_CMDSIZE_UNALIGNED,
      "load command", 4, -1),
    P32("cmdsize past sizeofcmds", AT_CODE_SIGNATURE, 4, 24, SH_E_MACHO_CMDSIZE_OVERRUN,
        "load command", 8),
    P32("cmdsize 0xfffffff8", AT_LINKEDIT, 4, 0xfffffff8, SH_E_MACHO_CMDSIZE_OVERRUN,
        "load command", 2),
    /* segments and sections */
    P64("segment fileoff + filesize wraps u64", AT_TEXT, 40, 0xfffffffffffff000u,
        SH_E_MACHO_SEGMENT_OUT_OF_FILE, "segment", 1),
    P64("segment filesize past the slice", AT_LINKEDIT, 48, MB_STD_LINKEDIT_SIZE + 1,
        SH_E_MACHO_SEGMENT_OUT_OF_FILE, "segment", 2),
    P64("segment fileoff past the slice", AT_LINKEDIT, 40, MB_STD_FILE_SIZE,
        SH_E_MACHO_SEGMENT_OUT_OF_FILE, "segment", 2),
    B("segment command shorter than segment_command_64", segment_command_too_small,
      SH_E_MACHO_CMDSIZE_TOO_SMALL, "segment", 0, 32),
    P32("nsects 0xffffffff", AT_TEXT, 64, 0xffffffff, SH_E_MACHO_TOO_MANY_SECTIONS, "segment", 1),
    P32("nsects larger than cmdsize holds", AT_TEXT, 64, 2, SH_E_MACHO_TOO_MANY_SECTIONS,
        "segment", 1),
    P32("section ends past its segment", AT_TEXT_SECTION, 48, 0xf80,
        SH_E_MACHO_SECTION_OUT_OF_SEGMENT, "section", 0),
    P64("section offset + size wraps u64", AT_TEXT_SECTION, 40, 0xffffffffffffff00u,
        SH_E_MACHO_SECTION_OUT_OF_SEGMENT, "section", 0),
    B("two __TEXT segments", duplicate_text_segment, SH_E_MACHO_DUPLICATE_SEGMENT, "segment",
      MB_STD_NCMDS, -1),
    /* strings */
    P32("dylib name offset past the command", AT_DYLIB, 8, 0x100,
        SH_E_MACHO_STRING_OUT_OF_COMMAND, "LC_LOAD_DYLIB", 7),
    P32("dylib name offset inside the fixed fields", AT_DYLIB, 8, 8,
        SH_E_MACHO_STRING_OUT_OF_COMMAND, "LC_LOAD_DYLIB", 7),
    B("dylib name without NUL", dylib_name_without_nul, SH_E_MACHO_STRING_OUT_OF_COMMAND,
      "LC_LOAD_DYLIB", MB_STD_NCMDS, -1),
    B("rpath without NUL", rpath_without_nul, SH_E_MACHO_STRING_OUT_OF_COMMAND, "LC_RPATH",
      MB_STD_NCMDS, -1),
    B("rpath offset past the command (32-bit big-endian)", rpath_offset_outside_32_be,
      SH_E_MACHO_STRING_OUT_OF_COMMAND, "LC_RPATH", MB_STD_NCMDS, -1),
    B("4097 dylibs", too_many_dylibs, SH_E_MACHO_TOO_MANY_DYLIBS, "LC_LOAD_DYLIB", SH_MAX_DYLIBS, -1),
    /* linkedit data and other ranges */
    P32("code signature dataoff + datasize overflows u32", AT_CODE_SIGNATURE, 8, 0xffffff00,
        SH_E_MACHO_LINKEDIT_DATA_OUT_OF_FILE, "LC_CODE_SIGNATURE", 8),
    P32("code signature past EOF", AT_CODE_SIGNATURE, 12, MB_STD_SIG_SIZE + 1,
        SH_E_MACHO_LINKEDIT_DATA_OUT_OF_FILE, "LC_CODE_SIGNATURE", 8),
    B("function starts past EOF", function_starts_past_eof, SH_E_MACHO_LINKEDIT_DATA_OUT_OF_FILE,
      "LC_FUNCTION_STARTS", MB_STD_NCMDS, -1),
    B("dyld_info export range past EOF", dyld_info_out_of_file,
      SH_E_MACHO_LINKEDIT_DATA_OUT_OF_FILE, "LC_DYLD_INFO_ONLY", MB_STD_NCMDS, -1),
    B("encrypted range past EOF", encryption_out_of_file, SH_E_MACHO_ENCRYPTED_RANGE_OUT_OF_FILE,
      "LC_ENCRYPTION_INFO_64", MB_STD_NCMDS, -1),
    P32("symtab nsyms huge", AT_SYMTAB, 12, 0x10000000, SH_E_MACHO_SYMTAB_OUT_OF_FILE,
        "LC_SYMTAB", 3),
    P32("string table past EOF", AT_SYMTAB, 20, 0x1000, SH_E_MACHO_SYMTAB_OUT_OF_FILE,
        "LC_SYMTAB", 3),
    /* typed commands: sizes and duplicates */
    B("uuid command too small", uuid_command_too_small, SH_E_MACHO_CMDSIZE_TOO_SMALL, "LC_UUID", 0, 32),
    B("LC_MAIN too small", main_command_too_small, SH_E_MACHO_CMDSIZE_TOO_SMALL, "LC_MAIN", 0, 32),
    P32("build_version ntools huge", AT_BUILD_VERSION, 20, 1000, SH_E_MACHO_BUILD_VERSION_TOOLS,
        "LC_BUILD_VERSION", 5),
    P32("build_version ntools past cmdsize", AT_BUILD_VERSION, 20, 2,
        SH_E_MACHO_BUILD_VERSION_TOOLS, "LC_BUILD_VERSION", 5),
    B("duplicate LC_CODE_SIGNATURE", duplicate_code_signature, SH_E_MACHO_DUPLICATE_COMMAND,
      "LC_CODE_SIGNATURE", MB_STD_NCMDS, -1),
    B("duplicate LC_UUID", duplicate_uuid, SH_E_MACHO_DUPLICATE_COMMAND, "LC_UUID", MB_STD_NCMDS, -1),
    B("duplicate LC_MAIN", duplicate_main, SH_E_MACHO_DUPLICATE_COMMAND, "LC_MAIN", MB_STD_NCMDS, -1),
    B("duplicate LC_BUILD_VERSION (same platform)", duplicate_build_version,
      SH_E_MACHO_DUPLICATE_COMMAND, "LC_BUILD_VERSION", MB_STD_NCMDS, -1),
    B("LC_DYLD_INFO and LC_DYLD_INFO_ONLY", duplicate_dyld_info, SH_E_MACHO_DUPLICATE_COMMAND,
      "LC_DYLD_INFO_ONLY", MB_STD_NCMDS + 1, -1),
    B("two LC_VERSION_MIN_*", duplicate_version_min, SH_E_MACHO_DUPLICATE_COMMAND,
      "LC_VERSION_MIN_IPHONEOS", MB_STD_NCMDS + 1, -1),
    B("duplicate LC_SYMTAB", duplicate_symtab, SH_E_MACHO_DUPLICATE_COMMAND, "LC_SYMTAB",
      MB_STD_NCMDS, -1),
    /* fat */
    B("fat nfat_arch 0xffffffff (read as a class file)", fat_nfat_huge, SH_E_NOT_MACHO,
      "fat_header", -1, 0),
    B("fat64 nfat_arch past the limit", fat64_too_many_archs, SH_E_FAT_TOO_MANY_ARCHS,
      "fat_header", -1, 0),
    B("fat with zero archs", fat_zero_archs, SH_E_FAT_NO_ARCHS, "fat_header", -1, 0),
    B("fat_arch table truncated", fat_table_truncated, SH_E_MACHO_TRUNCATED, "fat_arch", -1, 8),
    B("fat slice offset + size wraps u32", fat_slice_overflow_32, SH_E_FAT_SLICE_OUT_OF_FILE,
      "fat_arch", 0, 8),
    B("fat64 slice offset + size wraps u64", fat_slice_overflow_64, SH_E_FAT_SLICE_OUT_OF_FILE,
      "fat_arch", 0, 8),
    B("fat slice past EOF", fat_slice_past_eof, SH_E_FAT_SLICE_OUT_OF_FILE, "fat_arch", 0, 8),
    B("fat slices overlap", fat_slices_overlap, SH_E_FAT_SLICE_OVERLAP, "fat_arch", 1, 28),
    B("fat slice is not Mach-O", fat_slice_not_macho, SH_E_FAT_SLICE_NOT_MACHO, "fat_arch", 0, 8),
    B("fat slice of size 0", fat_slice_empty, SH_E_FAT_SLICE_NOT_MACHO, "fat_arch", 0, 8),
    B("fat slice is a fat file", fat_nested, SH_E_FAT_NESTED, "fat_arch", 0, 8),
    B("fat cputype differs from the slice", fat_cputype_mismatch, SH_E_FAT_CPUTYPE_MISMATCH,
      "fat_arch", 0, 8),
    B("fat align 16", fat_align_too_large, SH_E_FAT_ALIGN_TOO_LARGE, "fat_arch", 0, 8),
    B("fat slice misaligned", fat_slice_misaligned, SH_E_FAT_SLICE_MISALIGNED, "fat_arch", 0, 8),
    B("fat slice with a truncated mach_header", fat_slice_header_truncated, SH_E_MACHO_TRUNCATED,
      "mach_header", -1, 0x1000),
};

static uint8_t *build_case(const hostile_case *c, size_t *len)
{
    if (c->kind == BUILD)
        return c->build(len);
    mb_std o;
    mb b;
    mb_std_begin(&b, true, false, SH_CPU_TYPE_ARM64, 0, &o);
    size_t at = anchor_offset(&o, c->at) + c->rel;
    if (c->kind == PATCH32)
        mb_put_u32(&b, at, (uint32_t)c->value);
    else
        mb_put_u64(&b, at, c->value);
    uint8_t *data = mb_std_end(&b, len);
    /* mb_std_end re-patches ncmds and sizeofcmds: apply a header patch again (little-endian). */
    if (c->at == AT_HEADER)
        for (int k = 0; k < 4; k++)
            data[at + (size_t)k] = (uint8_t)(c->value >> (8 * k));
    return data;
}

static void run_case(const hostile_case *c)
{
    size_t len;
    uint8_t *data = build_case(c, &len);
    sh_macho_file f;
    sh_error err;
    memset(&err, 0, sizeof err);
    sh_err e = sh_macho_parse(data, len, NULL, &f, &err);
    if (e == SH_E_OK) {
        e = sh_macho_check_structure(&f, &err);
    } else {
        assert_null(f.slices); /* a failed parse leaves nothing behind */
        assert_int_equal(f.nslices, 0);
    }
    char msg[512];
    sh_error_format(&err, msg, sizeof msg);
    if (e != c->expected || (c->where && (!err.where || strcmp(err.where, c->where) != 0)) ||
        (c->where && err.index != c->index) || (c->offset >= 0 && err.offset != (uint64_t)c->offset))
        print_error("case \"%s\": expected %s (%s #%lld at %lld), got %s: %s\n", c->name,
                    sh_err_name(c->expected), c->where ? c->where : "-", (long long)c->index,
                    (long long)c->offset, sh_err_name(e), msg);
    assert_int_equal(e, c->expected);
    if (c->where) {
        assert_non_null(err.where);
        assert_string_equal(err.where, c->where);
        assert_int_equal(err.index, c->index);
    }
    if (c->offset >= 0)
        assert_int_equal(err.offset, (uint64_t)c->offset);
    sh_macho_free(&f);
    free(data);
}

static void every_hostile_case_fails_with_its_error(void **state)
{
    (void)state;
    const size_t n = sizeof cases / sizeof cases[0];
    assert_true(n >= 25);
    for (size_t i = 0; i < n; i++)
        run_case(&cases[i]);
}

/* ---- every prefix of a valid file -------------------------------------------------------------- */

static sh_err parse_prefix(const uint8_t *data, size_t prefix, sh_error *err)
{
    uint8_t *copy = malloc(prefix ? prefix : 1); /* exact size: ASan sees any overread */
    assert_non_null(copy);
    if (prefix)
        memcpy(copy, data, prefix);
    sh_macho_file f;
    memset(err, 0, sizeof *err);
    sh_err e = sh_macho_parse(prefix ? copy : NULL, prefix, NULL, &f, err);
    sh_macho_free(&f);
    free(copy);
    return e;
}

static void every_thin_prefix_fails_cleanly(bool is64, bool big_endian)
{
    size_t len;
    uint8_t *data = mb_std_file(is64, big_endian, is64 ? SH_CPU_TYPE_ARM64 : SH_CPU_TYPE_ARM,
                                is64 ? 0 : SH_CPU_SUBTYPE_ARM_V7, &len, NULL);
    const size_t header = is64 ? 32 : 28;
    sh_macho_file f;
    sh_error err;
    assert_int_equal(sh_macho_parse(data, len, NULL, &f, &err), SH_E_OK);
    const size_t commands_end = header + f.slices[0].sizeofcmds;
    sh_macho_free(&f);
    for (size_t prefix = 0; prefix < len; prefix++) {
        sh_err e = parse_prefix(data, prefix, &err);
        sh_err expected;
        int64_t index = -1;
        if (prefix < 4)
            expected = SH_E_NOT_MACHO;
        else if (prefix < header)
            expected = SH_E_MACHO_TRUNCATED;
        else if (prefix < commands_end)
            expected = SH_E_MACHO_COMMANDS_OUT_OF_FILE;
        else {
            expected = SH_E_MACHO_SEGMENT_OUT_OF_FILE; /* __TEXT, else __LINKEDIT */
            index = prefix < MB_STD_TEXT_SIZE ? 1 : 2;
        }
        if (e != expected)
            print_error("prefix %zu: expected %s, got %s\n", prefix, sh_err_name(expected),
                        sh_err_name(e));
        assert_int_equal(e, expected);
        if (index >= 0)
            assert_int_equal(err.index, index);
    }
    assert_int_equal(parse_prefix(data, len, &err), SH_E_OK);
    free(data);
}

static void every_prefix_of_thin_64(void **state)
{
    (void)state;
    every_thin_prefix_fails_cleanly(true, false);
}

static void every_prefix_of_thin_32_big_endian(void **state)
{
    (void)state;
    every_thin_prefix_fails_cleanly(false, true);
}

static void every_prefix_of_fat(void **state)
{
    (void)state;
    size_t l0, l1, len;
    uint8_t *a = mb_std_file(true, false, SH_CPU_TYPE_X86_64, 3, &l0, NULL);
    uint8_t *b = mb_std_file(true, true, SH_CPU_TYPE_POWERPC64, 0, &l1, NULL);
    const mb_fat_slice s[2] = {
        {a, l0, SH_CPU_TYPE_X86_64, 3, 12, 0, 0},
        {b, l1, SH_CPU_TYPE_POWERPC64, 0, 12, 0, 0},
    };
    uint8_t *data = mb_fat(false, s, 2, 0, &len);
    free(a);
    free(b);
    assert_int_equal(len, 0x3000 + MB_STD_FILE_SIZE);
    sh_error err;
    for (size_t prefix = 0; prefix < len; prefix++) {
        sh_err e = parse_prefix(data, prefix, &err);
        sh_err expected;
        int64_t index = -1;
        if (prefix < 4)
            expected = SH_E_NOT_MACHO;
        else if (prefix < 8 + 2 * 20)
            expected = SH_E_MACHO_TRUNCATED;
        else {
            expected = SH_E_FAT_SLICE_OUT_OF_FILE;
            index = prefix < 0x1000 + MB_STD_FILE_SIZE ? 0 : 1;
        }
        if (e != expected)
            print_error("prefix %zu: expected %s, got %s\n", prefix, sh_err_name(expected),
                        sh_err_name(e));
        assert_int_equal(e, expected);
        if (index >= 0)
            assert_int_equal(err.index, index);
    }
    assert_int_equal(parse_prefix(data, len, &err), SH_E_OK);
    free(data);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_hostile_case_fails_with_its_error),
        cmocka_unit_test(every_prefix_of_thin_64),
        cmocka_unit_test(every_prefix_of_thin_32_big_endian),
        cmocka_unit_test(every_prefix_of_fat),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
