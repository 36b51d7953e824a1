/* Printable names for Mach-O numbers: cpu types, load commands, file types, platforms, tools. */
#include <stdio.h>

#include "macho.h"

static const char *arm_name(uint32_t sub)
{
    switch (sub) {
    case 0: return "arm";
    case 5: return "armv4t";
    case 6: return "armv6";
    case 7: return "armv5e";
    case 8: return "xscale";
    case 9: return "armv7";
    case 10: return "armv7f";
    case 11: return "armv7s";
    case 12: return "armv7k";
    case 13: return "armv8";
    case 14: return "armv6m";
    case 15: return "armv7m";
    case 16: return "armv7em";
    default: return NULL;
    }
}

static const char *ppc_name(uint32_t sub)
{
    switch (sub) {
    case 0: return "ppc";
    case 1: return "ppc601";
    case 2: return "ppc602";
    case 3: return "ppc603";
    case 4: return "ppc603e";
    case 5: return "ppc603ev";
    case 6: return "ppc604";
    case 7: return "ppc604e";
    case 8: return "ppc620";
    case 9: return "ppc750";
    case 10: return "ppc7400";
    case 11: return "ppc7450";
    case 100: return "ppc970";
    default: return NULL;
    }
}

/* NULL when the pair has no name. */
static const char *cpu_name_or_null(int32_t cputype, int32_t cpusubtype)
{
    const uint32_t sub = (uint32_t)cpusubtype & ~SH_CPU_SUBTYPE_MASK; /* drop capability bits */
    switch (cputype) {
    case SH_CPU_TYPE_X86: return sub == 3 ? "i386" : NULL;
    case SH_CPU_TYPE_X86_64:
        return sub == SH_CPU_SUBTYPE_X86_64_ALL ? "x86_64" : sub == SH_CPU_SUBTYPE_X86_64_H ? "x86_64h" : NULL;
    case SH_CPU_TYPE_ARM: return arm_name(sub);
    case SH_CPU_TYPE_ARM64:
        return sub == 0 ? "arm64" : sub == 1 ? "arm64v8" : sub == SH_CPU_SUBTYPE_ARM64E ? "arm64e" : NULL;
    case SH_CPU_TYPE_ARM64_32: return sub <= 1 ? "arm64_32" : NULL;
    case SH_CPU_TYPE_POWERPC: return ppc_name(sub);
    case SH_CPU_TYPE_POWERPC64: return sub == 0 ? "ppc64" : sub == 100 ? "ppc970-64" : NULL;
    case 6: return "m68k";
    case 8: return "mips";
    case 10: return "mc98000";
    case 11: return "hppa";
    case 13: return "m88k";
    case 14: return "sparc";
    case 15: return "i860";
    default: return NULL;
    }
}

const char *sh_macho_cpu_name(int32_t cputype, int32_t cpusubtype)
{
    const char *name = cpu_name_or_null(cputype, cpusubtype);
    return name ? name : "unknown";
}

const char *sh_macho_cpu_name_buf(int32_t cputype, int32_t cpusubtype, char *buf, size_t size)
{
    const char *name = cpu_name_or_null(cputype, cpusubtype);
    if (name)
        return name;
    if (!buf || size == 0)
        return "unknown";
    snprintf(buf, size, "cputype 0x%x subtype 0x%x", (unsigned)cputype, (unsigned)cpusubtype);
    return buf;
}

static const struct {
    uint32_t cmd;
    const char *name;
} load_command_names[] = {
    {SH_LC_SEGMENT, "LC_SEGMENT"},
    {SH_LC_SYMTAB, "LC_SYMTAB"},
    {SH_LC_SYMSEG, "LC_SYMSEG"},
    {SH_LC_THREAD, "LC_THREAD"},
    {SH_LC_UNIXTHREAD, "LC_UNIXTHREAD"},
    {SH_LC_LOADFVMLIB, "LC_LOADFVMLIB"},
    {SH_LC_IDFVMLIB, "LC_IDFVMLIB"},
    {SH_LC_IDENT, "LC_IDENT"},
    {SH_LC_FVMFILE, "LC_FVMFILE"},
    {SH_LC_PREPAGE, "LC_PREPAGE"},
    {SH_LC_DYSYMTAB, "LC_DYSYMTAB"},
    {SH_LC_LOAD_DYLIB, "LC_LOAD_DYLIB"},
    {SH_LC_ID_DYLIB, "LC_ID_DYLIB"},
    {SH_LC_LOAD_DYLINKER, "LC_LOAD_DYLINKER"},
    {SH_LC_ID_DYLINKER, "LC_ID_DYLINKER"},
    {SH_LC_PREBOUND_DYLIB, "LC_PREBOUND_DYLIB"},
    {SH_LC_ROUTINES, "LC_ROUTINES"},
    {SH_LC_SUB_FRAMEWORK, "LC_SUB_FRAMEWORK"},
    {SH_LC_SUB_UMBRELLA, "LC_SUB_UMBRELLA"},
    {SH_LC_SUB_CLIENT, "LC_SUB_CLIENT"},
    {SH_LC_SUB_LIBRARY, "LC_SUB_LIBRARY"},
    {SH_LC_TWOLEVEL_HINTS, "LC_TWOLEVEL_HINTS"},
    {SH_LC_PREBIND_CKSUM, "LC_PREBIND_CKSUM"},
    {SH_LC_LOAD_WEAK_DYLIB, "LC_LOAD_WEAK_DYLIB"},
    {SH_LC_SEGMENT_64, "LC_SEGMENT_64"},
    {SH_LC_ROUTINES_64, "LC_ROUTINES_64"},
    {SH_LC_UUID, "LC_UUID"},
    {SH_LC_RPATH, "LC_RPATH"},
    {SH_LC_CODE_SIGNATURE, "LC_CODE_SIGNATURE"},
    {SH_LC_SEGMENT_SPLIT_INFO, "LC_SEGMENT_SPLIT_INFO"},
    {SH_LC_REEXPORT_DYLIB, "LC_REEXPORT_DYLIB"},
    {SH_LC_LAZY_LOAD_DYLIB, "LC_LAZY_LOAD_DYLIB"},
    {SH_LC_ENCRYPTION_INFO, "LC_ENCRYPTION_INFO"},
    {SH_LC_DYLD_INFO, "LC_DYLD_INFO"},
    {SH_LC_DYLD_INFO_ONLY, "LC_DYLD_INFO_ONLY"},
    {SH_LC_LOAD_UPWARD_DYLIB, "LC_LOAD_UPWARD_DYLIB"},
    {SH_LC_VERSION_MIN_MACOSX, "LC_VERSION_MIN_MACOSX"},
    {SH_LC_VERSION_MIN_IPHONEOS, "LC_VERSION_MIN_IPHONEOS"},
    {SH_LC_FUNCTION_STARTS, "LC_FUNCTION_STARTS"},
    {SH_LC_DYLD_ENVIRONMENT, "LC_DYLD_ENVIRONMENT"},
    {SH_LC_MAIN, "LC_MAIN"},
    {SH_LC_DATA_IN_CODE, "LC_DATA_IN_CODE"},
    {SH_LC_SOURCE_VERSION, "LC_SOURCE_VERSION"},
    {SH_LC_DYLIB_CODE_SIGN_DRS, "LC_DYLIB_CODE_SIGN_DRS"},
    {SH_LC_ENCRYPTION_INFO_64, "LC_ENCRYPTION_INFO_64"},
    {SH_LC_LINKER_OPTION, "LC_LINKER_OPTION"},
    {SH_LC_LINKER_OPTIMIZATION_HINT, "LC_LINKER_OPTIMIZATION_HINT"},
    {SH_LC_VERSION_MIN_TVOS, "LC_VERSION_MIN_TVOS"},
    {SH_LC_VERSION_MIN_WATCHOS, "LC_VERSION_MIN_WATCHOS"},
    {SH_LC_NOTE, "LC_NOTE"},
    {SH_LC_BUILD_VERSION, "LC_BUILD_VERSION"},
    {SH_LC_DYLD_EXPORTS_TRIE, "LC_DYLD_EXPORTS_TRIE"},
    {SH_LC_DYLD_CHAINED_FIXUPS, "LC_DYLD_CHAINED_FIXUPS"},
    {SH_LC_FILESET_ENTRY, "LC_FILESET_ENTRY"},
    {SH_LC_ATOM_INFO, "LC_ATOM_INFO"},
    {SH_LC_FUNCTION_VARIANTS, "LC_FUNCTION_VARIANTS"},
    {SH_LC_FUNCTION_VARIANT_FIXUPS, "LC_FUNCTION_VARIANT_FIXUPS"},
    {SH_LC_TARGET_TRIPLE, "LC_TARGET_TRIPLE"},
};

const char *sh_macho_load_command_name(uint32_t cmd)
{
    for (size_t i = 0; i < sizeof load_command_names / sizeof load_command_names[0]; i++)
        if (load_command_names[i].cmd == cmd)
            return load_command_names[i].name;
    return NULL;
}

const char *sh_macho_filetype_name(uint32_t filetype)
{
    static const char *const names[] = {
        NULL,           "MH_OBJECT",     "MH_EXECUTE", "MH_FVMLIB",      "MH_CORE",
        "MH_PRELOAD",   "MH_DYLIB",      "MH_DYLINKER", "MH_BUNDLE",     "MH_DYLIB_STUB",
        "MH_DSYM",      "MH_KEXT_BUNDLE", "MH_FILESET", "MH_GPU_EXECUTE", "MH_GPU_DYLIB",
    };
    if (filetype < sizeof names / sizeof names[0] && names[filetype])
        return names[filetype];
    return "unknown";
}

/* Spelled as llvm-objdump prints them, so its output can be compared directly. */
const char *sh_macho_platform_name(uint32_t platform)
{
    static const char *const names[] = {
        NULL,       "macos",    "ios",        "tvos",     "watchos",     "bridgeos",
        "macCatalyst", "iossim", "tvossim",   "watchossim", "driverkit", "visionos",
        "visionossim", "firmware", "sepos",
    };
    if (platform < sizeof names / sizeof names[0] && names[platform])
        return names[platform];
    return "unknown";
}

const char *sh_macho_tool_name(uint32_t tool)
{
    switch (tool) {
    case SH_TOOL_CLANG: return "clang";
    case SH_TOOL_SWIFT: return "swift";
    case SH_TOOL_LD: return "ld";
    case 4: return "lld";
    case 1024: return "metal";
    default: return "unknown";
    }
}
