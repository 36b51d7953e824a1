/* Mach-O parser: thin 32/64-bit in either byte order, and fat (FAT_MAGIC / FAT_MAGIC_64).
 *
 * sh_macho_parse() decodes the container and every slice's header and load commands, and rejects
 * what cannot be read safely (out-of-bounds ranges, bad cmdsize, counts past the limits).
 * sh_macho_check_structure() then applies the structural rules codesign relies on (segments do
 * not overlap, __LINKEDIT ends the slice, the signature ends __LINKEDIT, fat slices aligned, no
 * gaps); a file can parse and still fail those, as codesign --strict would report. */
#ifndef SH_MACHO_H
#define SH_MACHO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alloc.h"
#include "cursor.h"
#include "errors.h"

#define SH_MH_MAGIC 0xfeedfaceu
#define SH_MH_CIGAM 0xcefaedfeu
#define SH_MH_MAGIC_64 0xfeedfacfu
#define SH_MH_CIGAM_64 0xcffaedfeu
#define SH_FAT_MAGIC 0xcafebabeu
#define SH_FAT_MAGIC_64 0xcafebabfu

#define SH_CPU_ARCH_ABI64 0x01000000
#define SH_CPU_ARCH_ABI64_32 0x02000000
#define SH_CPU_TYPE_X86 7
#define SH_CPU_TYPE_X86_64 (SH_CPU_TYPE_X86 | SH_CPU_ARCH_ABI64)
#define SH_CPU_TYPE_ARM 12
#define SH_CPU_TYPE_ARM64 (SH_CPU_TYPE_ARM | SH_CPU_ARCH_ABI64)
#define SH_CPU_TYPE_ARM64_32 (SH_CPU_TYPE_ARM | SH_CPU_ARCH_ABI64_32)
#define SH_CPU_TYPE_POWERPC 18
#define SH_CPU_TYPE_POWERPC64 (SH_CPU_TYPE_POWERPC | SH_CPU_ARCH_ABI64)

/* Load command ids (loader.h). */
#define SH_LC_REQ_DYLD 0x80000000u
#define SH_LC_SEGMENT 0x1u
#define SH_LC_SYMTAB 0x2u
#define SH_LC_DYSYMTAB 0xbu
#define SH_LC_LOAD_DYLIB 0xcu
#define SH_LC_ID_DYLIB 0xdu
#define SH_LC_LOAD_DYLINKER 0xeu
#define SH_LC_LOAD_WEAK_DYLIB 0x80000018u
#define SH_LC_SEGMENT_64 0x19u
#define SH_LC_UUID 0x1bu
#define SH_LC_RPATH 0x8000001cu
#define SH_LC_CODE_SIGNATURE 0x1du
#define SH_LC_SEGMENT_SPLIT_INFO 0x1eu
#define SH_LC_REEXPORT_DYLIB 0x8000001fu
#define SH_LC_LAZY_LOAD_DYLIB 0x20u
#define SH_LC_ENCRYPTION_INFO 0x21u
#define SH_LC_DYLD_INFO 0x22u
#define SH_LC_DYLD_INFO_ONLY 0x80000022u
#define SH_LC_LOAD_UPWARD_DYLIB 0x80000023u
#define SH_LC_VERSION_MIN_MACOSX 0x24u
#define SH_LC_VERSION_MIN_IPHONEOS 0x25u
#define SH_LC_FUNCTION_STARTS 0x26u
#define SH_LC_DYLD_ENVIRONMENT 0x27u
#define SH_LC_MAIN 0x80000028u
#define SH_LC_DATA_IN_CODE 0x29u
#define SH_LC_SOURCE_VERSION 0x2au
#define SH_LC_DYLIB_CODE_SIGN_DRS 0x2bu
#define SH_LC_ENCRYPTION_INFO_64 0x2cu
#define SH_LC_LINKER_OPTION 0x2du
#define SH_LC_LINKER_OPTIMIZATION_HINT 0x2eu
#define SH_LC_VERSION_MIN_TVOS 0x2fu
#define SH_LC_VERSION_MIN_WATCHOS 0x30u
#define SH_LC_NOTE 0x31u
#define SH_LC_BUILD_VERSION 0x32u
#define SH_LC_DYLD_EXPORTS_TRIE 0x80000033u
#define SH_LC_DYLD_CHAINED_FIXUPS 0x80000034u
#define SH_LC_FILESET_ENTRY 0x80000035u

typedef struct sh_macho_section {
    char sectname[17];
    char segname[17];
    uint64_t addr, size;
    uint32_t offset, align, reloff, nreloc, flags;
    uint32_t segment_index; /* index into sh_macho_slice.segments */
} sh_macho_section;

typedef struct sh_macho_segment {
    char segname[17];
    uint64_t vmaddr, vmsize, fileoff, filesize;
    uint32_t maxprot, initprot, nsects, flags;
    uint32_t first_section; /* index into sh_macho_slice.sections */
    uint32_t command_index;
} sh_macho_segment;

/* Every load command, walked generically.  offset is relative to the slice start. */
typedef struct sh_macho_load_command {
    uint32_t cmd, cmdsize;
    uint64_t offset;
} sh_macho_load_command;

/* linkedit_data_command users: code signature, function starts, chained fixups, ... */
typedef struct sh_macho_linkedit_data {
    bool present;
    uint32_t dataoff, datasize;
    uint32_t command_index;
} sh_macho_linkedit_data;

typedef struct sh_macho_dylib {
    uint32_t cmd;
    const char *name; /* points into the input; NUL-terminated inside the command */
    size_t name_len;
    uint32_t timestamp, current_version, compatibility_version;
} sh_macho_dylib;

typedef struct sh_macho_build_tool {
    uint32_t tool, version;
} sh_macho_build_tool;

typedef struct sh_macho_slice {
    /* container */
    uint64_t offset, size; /* of the slice within the file */
    uint32_t fat_align;    /* log2, fat files only */
    /* header */
    uint32_t magic;
    bool is64, big_endian;
    int32_t cputype, cpusubtype;
    uint32_t filetype, ncmds, sizeofcmds, flags;
    sh_cursor data; /* the whole slice */

    sh_macho_load_command *commands; /* ncmds entries */
    sh_macho_segment *segments;
    uint32_t nsegments;
    sh_macho_section *sections;
    uint32_t nsections;
    sh_macho_dylib *dylibs;
    uint32_t ndylibs;

    sh_macho_linkedit_data code_signature, function_starts, data_in_code, chained_fixups,
        exports_trie, split_info, dylib_code_sign_drs;
    bool has_uuid;
    uint8_t uuid[16];
    bool has_build_version;
    uint32_t platform, minos, sdk, ntools;
    sh_macho_build_tool *tools;
    bool has_version_min;
    uint32_t version_min_cmd, version_min_version, version_min_sdk;
    bool has_main;
    uint64_t entryoff, stacksize;
    bool has_encryption_info;
    uint32_t cryptoff, cryptsize, cryptid;
    bool has_dyld_info;
    uint32_t dyld_info_cmd;
    uint32_t rebase_off, rebase_size, bind_off, bind_size, weak_bind_off, weak_bind_size,
        lazy_bind_off, lazy_bind_size, export_off, export_size;
    int32_t text_segment;     /* index of __TEXT in segments, -1 if none */
    int32_t linkedit_segment; /* index of __LINKEDIT, -1 if none */
} sh_macho_slice;

typedef struct sh_macho_file {
    bool fat;
    uint32_t fat_magic; /* 0 for thin files */
    uint32_t nslices;
    sh_macho_slice *slices;
    uint64_t file_size;
    const sh_allocator *alloc;
} sh_macho_file;

/* Parses data (which must outlive *out).  On failure *out is left empty (safe to free) and err
 * says what and where.  alloc may be NULL. */
sh_err sh_macho_parse(const uint8_t *data, size_t len, const sh_allocator *alloc,
                      sh_macho_file *out, sh_error *err);
void sh_macho_free(sh_macho_file *f);

/* codesign's structural rules (see the file comment).  Returns the first violation. */
sh_err sh_macho_check_structure(const sh_macho_file *f, sh_error *err);

/* The signature bytes (LC_CODE_SIGNATURE dataoff/datasize) of a slice, as a view.  Returns
 * SH_E_MACHO_UNSIGNED when the slice has no LC_CODE_SIGNATURE. */
sh_err sh_macho_signature(const sh_macho_slice *s, sh_cursor *out, sh_error *err);

const char *sh_macho_cpu_name(int32_t cputype, int32_t cpusubtype); /* "arm64", "arm64e", "x86_64h" */
const char *sh_macho_load_command_name(uint32_t cmd); /* "LC_SEGMENT_64"; NULL when unknown */
const char *sh_macho_filetype_name(uint32_t filetype); /* "MH_EXECUTE" */
const char *sh_macho_platform_name(uint32_t platform); /* "macos" */

#endif
