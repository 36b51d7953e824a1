/* Mach-O parser: thin 32/64-bit in either byte order, and fat (FAT_MAGIC / FAT_MAGIC_64).
 *
 * sh_macho_parse() decodes the container and every slice's header and load commands, and rejects
 * what cannot be read safely (out-of-bounds ranges, bad cmdsize, counts past the limits).
 * sh_macho_check_structure() then applies the structural rules codesign relies on (segments do
 * not overlap, __LINKEDIT ends the slice, the signature ends __LINKEDIT, fat slices aligned, no
 * gaps); a file can parse and still fail those, as codesign --strict would report.
 *
 * Choices worth knowing (details in macho.c):
 * - FAT_CIGAM / FAT_CIGAM_64 (a little-endian fat header) is refused with SH_E_FAT_BYTE_SWAPPED:
 *   lipo never writes it and the kernel does not load it.
 * - 0xcafebabe with nfat_arch >= SH_FAT_JAVA_MIN_NFAT_ARCH (45) is a Java class file, SH_E_NOT_MACHO.
 * - Like Security's Universal, a FAT_MAGIC table followed by one more fat_arch whose cputype is
 *   CPU_TYPE_ARM64 gets that "hidden" arm64 slice as well (hidden_slice, nslices = nfat_arch + 1).
 * - sh_macho_slice.magic is the first 4 bytes read little-endian, so a big-endian file shows
 *   MH_CIGAM / MH_CIGAM_64 (as on any little-endian host).
 * - Error locations: where names the structure, index is the load command index (for sections:
 *   the section's number inside its segment; for fat_arch: the arch index), offset is absolute. */
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
#define SH_FAT_CIGAM 0xbebafecau
#define SH_FAT_CIGAM_64 0xbfbafecau

#define SH_CPU_ARCH_ABI64 0x01000000
#define SH_CPU_ARCH_ABI64_32 0x02000000
#define SH_CPU_TYPE_X86 7
#define SH_CPU_TYPE_X86_64 (SH_CPU_TYPE_X86 | SH_CPU_ARCH_ABI64)
#define SH_CPU_TYPE_ARM 12
#define SH_CPU_TYPE_ARM64 (SH_CPU_TYPE_ARM | SH_CPU_ARCH_ABI64)
#define SH_CPU_TYPE_ARM64_32 (SH_CPU_TYPE_ARM | SH_CPU_ARCH_ABI64_32)
#define SH_CPU_TYPE_POWERPC 18
#define SH_CPU_TYPE_POWERPC64 (SH_CPU_TYPE_POWERPC | SH_CPU_ARCH_ABI64)
#define SH_CPU_SUBTYPE_MASK 0xff000000u /* capability bits (LIB64, ptrauth ABI) */
#define SH_CPU_SUBTYPE_X86_64_ALL 3
#define SH_CPU_SUBTYPE_X86_64_H 8
#define SH_CPU_SUBTYPE_ARM_V7 9
#define SH_CPU_SUBTYPE_ARM_V7S 11
#define SH_CPU_SUBTYPE_ARM_V7K 12
#define SH_CPU_SUBTYPE_ARM64_ALL 0
#define SH_CPU_SUBTYPE_ARM64E 2

/* Filetypes and section types used by the parser. */
#define SH_MH_OBJECT 0x1u
#define SH_MH_EXECUTE 0x2u
#define SH_MH_DYLIB 0x6u
#define SH_MH_BUNDLE 0x8u
#define SH_MH_DSYM 0xau
#define SH_SECTION_TYPE_MASK 0xffu
#define SH_S_ZEROFILL 0x1u
#define SH_S_GB_ZEROFILL 0xcu
#define SH_S_THREAD_LOCAL_ZEROFILL 0x12u

/* Load command ids (loader.h). */
#define SH_LC_REQ_DYLD 0x80000000u
#define SH_LC_SEGMENT 0x1u
#define SH_LC_SYMTAB 0x2u
#define SH_LC_SYMSEG 0x3u
#define SH_LC_THREAD 0x4u
#define SH_LC_UNIXTHREAD 0x5u
#define SH_LC_LOADFVMLIB 0x6u
#define SH_LC_IDFVMLIB 0x7u
#define SH_LC_IDENT 0x8u
#define SH_LC_FVMFILE 0x9u
#define SH_LC_PREPAGE 0xau
#define SH_LC_DYSYMTAB 0xbu
#define SH_LC_LOAD_DYLIB 0xcu
#define SH_LC_ID_DYLIB 0xdu
#define SH_LC_LOAD_DYLINKER 0xeu
#define SH_LC_ID_DYLINKER 0xfu
#define SH_LC_PREBOUND_DYLIB 0x10u
#define SH_LC_ROUTINES 0x11u
#define SH_LC_SUB_FRAMEWORK 0x12u
#define SH_LC_SUB_UMBRELLA 0x13u
#define SH_LC_SUB_CLIENT 0x14u
#define SH_LC_SUB_LIBRARY 0x15u
#define SH_LC_TWOLEVEL_HINTS 0x16u
#define SH_LC_PREBIND_CKSUM 0x17u
#define SH_LC_LOAD_WEAK_DYLIB 0x80000018u
#define SH_LC_SEGMENT_64 0x19u
#define SH_LC_ROUTINES_64 0x1au
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
#define SH_LC_ATOM_INFO 0x36u
#define SH_LC_FUNCTION_VARIANTS 0x37u
#define SH_LC_FUNCTION_VARIANT_FIXUPS 0x38u
#define SH_LC_TARGET_TRIPLE 0x39u

/* LC_BUILD_VERSION platforms and tools. */
#define SH_PLATFORM_MACOS 1u
#define SH_PLATFORM_IOS 2u
#define SH_PLATFORM_MACCATALYST 6u
#define SH_TOOL_CLANG 1u
#define SH_TOOL_SWIFT 2u
#define SH_TOOL_LD 3u

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

/* Every load command, walked generically.  offset is relative to the slice start.  str is the
 * command's lc_str (dylib, dylinker, rpath, sub_*, environment, target triple, fileset entry id),
 * checked to be NUL-terminated inside the command, or NULL for commands without one. */
typedef struct sh_macho_load_command {
    uint32_t cmd, cmdsize;
    uint64_t offset;
    const char *str;
    size_t str_len;
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
    int32_t fat_cputype, fat_cpusubtype; /* as the fat_arch declares them (fat files only) */
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
    sh_macho_linkedit_data linker_optimization_hint, atom_info, function_variants,
        function_variant_fixups;
    bool has_symtab;
    uint32_t symoff, nsyms, stroff, strsize;
    uint32_t symtab_command_index;
    bool has_uuid;
    uint8_t uuid[16];
    bool has_build_version;
    uint32_t platform, minos, sdk, ntools; /* of the first LC_BUILD_VERSION */
    sh_macho_build_tool *tools;
    uint32_t build_version_count; /* 2 in zippered (macOS + Mac Catalyst) binaries */
    bool has_version_min;
    uint32_t version_min_cmd, version_min_version, version_min_sdk;
    bool has_main;
    uint64_t entryoff, stacksize;
    bool has_encryption_info;
    uint32_t encryption_info_cmd;
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
    uint32_t nfat_arch; /* as declared in the fat header */
    bool hidden_slice;  /* one more arm64 fat_arch follows the declared ones (see top) */
    uint32_t nslices;
    sh_macho_slice *slices;
    uint64_t file_size;
    sh_cursor data; /* the whole file */
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

/* The bytes of load command index (cmd and cmdsize included).  False when index is out of range. */
bool sh_macho_load_command_view(const sh_macho_slice *s, uint32_t index, sh_cursor *out);

/* Names.  Unknown values give "unknown" (the load command name gives NULL), never a formatted
 * string: nothing here writes to static storage. */
const char *sh_macho_cpu_name(int32_t cputype, int32_t cpusubtype); /* "arm64", "arm64e", "x86_64h" */
/* As sh_macho_cpu_name, but an unknown pair is written as "cputype 0x.. subtype 0x.." into buf,
 * which is returned.  Always NUL-terminates when size > 0. */
const char *sh_macho_cpu_name_buf(int32_t cputype, int32_t cpusubtype, char *buf, size_t size);
const char *sh_macho_load_command_name(uint32_t cmd); /* "LC_SEGMENT_64"; NULL when unknown */
const char *sh_macho_filetype_name(uint32_t filetype); /* "MH_EXECUTE" */
const char *sh_macho_platform_name(uint32_t platform); /* "macos", as llvm-objdump prints it */
const char *sh_macho_tool_name(uint32_t tool);         /* "clang", "swift", "ld" */

#endif
