/* Values chosen for what a field means: the edges its parser checks (limits, one past, zero,
 * all ones), neighbouring offsets, other structures' offsets, and the known constants of enums
 * and flag words.  Writes are bounds-checked against the buffer. */
#include <string.h>

#include "codedir.h"
#include "fuzz_mutator_internal.h"
#include "macho.h"
#include "superblob.h"

#define COUNT_OF(a) (sizeof(a) / sizeof((a)[0]))

static const uint64_t blob_magics[] = {
    SH_MAGIC_REQUIREMENT,          SH_MAGIC_REQUIREMENTS,
    SH_MAGIC_CODEDIRECTORY,        SH_MAGIC_EMBEDDED_SIGNATURE,
    SH_MAGIC_EMBEDDED_SIGNATURE_OLD, SH_MAGIC_DETACHED_SIGNATURE,
    SH_MAGIC_BLOBWRAPPER,          SH_MAGIC_EMBEDDED_ENTITLEMENTS,
    SH_MAGIC_EMBEDDED_DER_ENTITLEMENTS, SH_MAGIC_EMBEDDED_LAUNCH_CONSTRAINT,
};
static const uint64_t slot_types[] = {
    SH_SLOT_CODEDIRECTORY, SH_SLOT_INFO, SH_SLOT_REQUIREMENTS, SH_SLOT_RESOURCEDIR,
    SH_SLOT_APPLICATION, SH_SLOT_ENTITLEMENTS, SH_SLOT_REP_SPECIFIC, SH_SLOT_DER_ENTITLEMENTS,
    SH_SLOT_LAUNCH_CONSTRAINT_SELF, SH_SLOT_LIBRARY_CONSTRAINT,
    SH_SLOT_ALTERNATE_CODEDIRECTORIES, SH_SLOT_ALTERNATE_CODEDIRECTORIES + 1,
    SH_SLOT_ALTERNATE_CODEDIRECTORY_LIMIT - 1, SH_SLOT_ALTERNATE_CODEDIRECTORY_LIMIT,
    SH_SLOT_SIGNATURE, SH_SLOT_IDENTIFICATION, SH_SLOT_TICKET, 0xffffffffu,
};
static const uint64_t cd_versions[] = {
    0x20000u, SH_CD_VERSION_EARLIEST, SH_CD_VERSION_SCATTER, SH_CD_VERSION_TEAM,
    SH_CD_VERSION_CODELIMIT64, SH_CD_VERSION_EXECSEG, SH_CD_VERSION_RUNTIME,
    SH_CD_VERSION_LINKAGE, SH_CD_VERSION_LINKAGE + 1, SH_CD_VERSION_MAX,
    SH_CD_VERSION_MAX + 1, 0x30000u,
};
static const uint64_t cd_flag_bits[] = {
    SH_CS_HOST, SH_CS_ADHOC, SH_CS_GET_TASK_ALLOW, SH_CS_INSTALLER, SH_CS_FORCED_LV,
    SH_CS_INVALID_ALLOWED, SH_CS_HARD, SH_CS_KILL, SH_CS_CHECK_EXPIRATION, SH_CS_RESTRICT,
    SH_CS_ENFORCEMENT, SH_CS_REQUIRE_LV, SH_CS_ENTITLEMENTS_VALIDATED, SH_CS_NVRAM_UNRESTRICTED,
    SH_CS_RUNTIME, SH_CS_LINKER_SIGNED,
};
static const uint64_t execseg_bits[] = {
    SH_CS_EXECSEG_MAIN_BINARY, SH_CS_EXECSEG_ALLOW_UNSIGNED, SH_CS_EXECSEG_DEBUGGER,
    SH_CS_EXECSEG_JIT, SH_CS_EXECSEG_SKIP_LV, SH_CS_EXECSEG_CAN_LOAD_CDHASH,
    SH_CS_EXECSEG_CAN_EXEC_CDHASH,
};
static const uint64_t hash_sizes[] = {0, 1, 19, 20, 21, 31, 32, 33, 48, 64, 65, 255};
static const uint64_t hash_types[] = {0, 1, 2, 3, 4, 5, 255};
static const uint64_t page_shifts[] = {0, 1, 11, 12, 13, 14, 15, 16, 24, 25, 31, 32, 63, 255};
static const uint64_t cpu_types[] = {
    SH_CPU_TYPE_X86,      SH_CPU_TYPE_X86_64,    SH_CPU_TYPE_ARM, SH_CPU_TYPE_ARM64,
    SH_CPU_TYPE_ARM64_32, SH_CPU_TYPE_POWERPC64, 0,               0xffffffffu,
};
static const uint64_t cpu_subtypes[] = {
    SH_CPU_SUBTYPE_ARM64_ALL, 1, SH_CPU_SUBTYPE_ARM64E, SH_CPU_SUBTYPE_X86_64_ALL,
    SH_CPU_SUBTYPE_X86_64_H, SH_CPU_SUBTYPE_ARM_V7, 0x80000002u, 0xc0000002u, 0x80000003u,
};
static const uint64_t load_commands[] = {
    SH_LC_SEGMENT,        SH_LC_SEGMENT_64,        SH_LC_SYMTAB,          SH_LC_DYSYMTAB,
    SH_LC_LOAD_DYLIB,     SH_LC_LOAD_DYLINKER,     SH_LC_UUID,            SH_LC_CODE_SIGNATURE,
    SH_LC_FUNCTION_STARTS, SH_LC_DATA_IN_CODE,     SH_LC_MAIN,            SH_LC_BUILD_VERSION,
    SH_LC_VERSION_MIN_MACOSX, SH_LC_ENCRYPTION_INFO_64, SH_LC_DYLD_CHAINED_FIXUPS,
    SH_LC_DYLD_EXPORTS_TRIE, SH_LC_DYLIB_CODE_SIGN_DRS, SH_LC_RPATH, SH_LC_NOTE,
    SH_LC_TARGET_TRIPLE,   0,                       0x7fffffffu,
};
static const uint64_t fat_aligns[] = {0, 2, 3, 12, 14, 15, 16, 31, 32, 0xffffffffu};
static const uint64_t os_versions[] = {
    0, 0x000a0000u, 0x000a0f00u, 0x000b0000u, 0x000c0000u, 0x000e0000u, 0x000f0000u,
    0x001a0000u, 0xffffffffu,
};

static uint64_t pick(const uint64_t *table, size_t n, sh_fm_rng *rng)
{
    return table[sh_fm_rng_below(rng, n)];
}

/* The value of a random other field of the same kind (an offset pointing at another blob,
 * a size copied from a neighbour), or fallback when there is none. */
static uint64_t sibling_value(const sh_fm_field *f, const sh_fm_fields *all, sh_fm_rng *rng,
                              uint64_t fallback)
{
    size_t start = (size_t)sh_fm_rng_below(rng, all->n ? all->n : 1);
    for (size_t k = 0; k < all->n; k++) {
        const sh_fm_field *g = &all->f[(start + k) % all->n];
        if (g != f && g->kind == f->kind && g->value != f->value)
            return g->value;
    }
    return fallback;
}

static uint64_t pick_count(const sh_fm_field *f, sh_fm_rng *rng)
{
    uint64_t v = f->value, limit = f->scope;
    const uint64_t choices[] = {0,         1,         v - 1,       v + 1,      v * 2, v + 16,
                                limit,     limit + 1, 0x7fffffffu, 0xffffffffu, v >> 1};
    return pick(choices, COUNT_OF(choices), rng);
}

static uint64_t pick_offset(const sh_fm_field *f, const sh_fm_fields *all, sh_fm_rng *rng)
{
    uint64_t v = f->value, end = f->scope;
    switch (sh_fm_rng_below(rng, 14)) {
    case 0: return 0;
    case 1: return v - 1;
    case 2: return v + 1;
    case 3: return v - 4;
    case 4: return v + 4;
    case 5: return v + 8;
    case 6: return end;
    case 7: return end - 1;
    case 8: return end + 1;
    case 9: return v & ~(uint64_t)0xfff;
    case 10: return (v + 0x3fff) & ~(uint64_t)0x3fff;
    case 11: return 0xffffffffu;
    default: return sibling_value(f, all, rng, v + 16);
    }
}

static uint64_t pick_size(const sh_fm_field *f, const sh_fm_fields *all, sh_fm_rng *rng)
{
    uint64_t v = f->value, end = f->scope;
    switch (sh_fm_rng_below(rng, 14)) {
    case 0: return 0;
    case 1: return 1;
    case 2: return v - 1;
    case 3: return v + 1;
    case 4: return v + 8;
    case 5: return v + 4096;
    case 6: return v * 2;
    case 7: return v / 2;
    case 8: return end;
    case 9: return end + 1;
    case 10: return 0x80000000u;
    case 11: return 0xffffffffu;
    default: return sibling_value(f, all, rng, v - 8);
    }
}

static uint64_t toggle_bit(uint64_t v, const uint64_t *bits, size_t n, sh_fm_rng *rng)
{
    switch (sh_fm_rng_below(rng, 6)) {
    case 0: return 0;
    case 1: return v | pick(bits, n, rng) | pick(bits, n, rng);
    default: return v ^ pick(bits, n, rng);
    }
}

uint64_t sh_fm_pick_value(const sh_fm_field *f, const sh_fm_fields *all, sh_fm_rng *rng)
{
    /* Now and then any value at all: the tables cannot anticipate everything. */
    if (sh_fm_rng_below(rng, 10) == 0)
        return sh_fm_rng_next(rng);
    uint64_t v = f->value;
    switch (f->kind) {
    case SH_FK_COUNT: return pick_count(f, rng);
    case SH_FK_OFFSET: return pick_offset(f, all, rng);
    case SH_FK_SIZE: return pick_size(f, all, rng);
    case SH_FK_MAGIC: return pick(blob_magics, COUNT_OF(blob_magics), rng);
    case SH_FK_SLOT_TYPE: return pick(slot_types, COUNT_OF(slot_types), rng);
    case SH_FK_CD_VERSION: return pick(cd_versions, COUNT_OF(cd_versions), rng);
    case SH_FK_CD_FLAGS: return toggle_bit(v, cd_flag_bits, COUNT_OF(cd_flag_bits), rng);
    case SH_FK_HASH_SIZE: return pick(hash_sizes, COUNT_OF(hash_sizes), rng);
    case SH_FK_HASH_TYPE: return pick(hash_types, COUNT_OF(hash_types), rng);
    case SH_FK_PAGE_SHIFT: return pick(page_shifts, COUNT_OF(page_shifts), rng);
    case SH_FK_PLATFORM: return sh_fm_rng_below(rng, 14);
    case SH_FK_EXECSEG_FLAGS: return toggle_bit(v, execseg_bits, COUNT_OF(execseg_bits), rng);
    case SH_FK_CPU_TYPE: return pick(cpu_types, COUNT_OF(cpu_types), rng);
    case SH_FK_CPU_SUBTYPE: return pick(cpu_subtypes, COUNT_OF(cpu_subtypes), rng);
    case SH_FK_FILETYPE: return sh_fm_rng_below(rng, 14);
    case SH_FK_MH_FLAGS: return v ^ ((uint64_t)1 << sh_fm_rng_below(rng, 32));
    case SH_FK_PROT: return sh_fm_rng_below(rng, 8);
    case SH_FK_LOAD_COMMAND: return pick(load_commands, COUNT_OF(load_commands), rng);
    case SH_FK_FAT_ALIGN: return pick(fat_aligns, COUNT_OF(fat_aligns), rng);
    case SH_FK_OS_VERSION: return pick(os_versions, COUNT_OF(os_versions), rng);
    case SH_FK_HASH_BYTES:
    case SH_FK_STRING_BYTES: break;
    }
    return v ^ 1;
}

bool sh_fm_store(uint8_t *data, size_t size, const sh_fm_field *f, uint64_t v)
{
    if (f->width > 8 || !sh_range_within(f->off, f->width, size))
        return false;
    for (uint32_t i = 0; i < f->width; i++) {
        uint32_t shift = 8 * (f->big_endian ? f->width - 1 - i : i);
        data[f->off + i] = (uint8_t)(v >> shift);
    }
    return true;
}

static bool mutate_hash(uint8_t *data, size_t size, const sh_fm_field *f,
                        const sh_fm_fields *all, sh_fm_rng *rng)
{
    if (!sh_range_within(f->off, f->width, size))
        return false;
    uint8_t *h = data + f->off;
    switch (sh_fm_rng_below(rng, 4)) {
    case 0: /* one bit: the page or blob no longer matches */
        h[sh_fm_rng_below(rng, f->width)] ^= (uint8_t)(1u << sh_fm_rng_below(rng, 8));
        return true;
    case 1: /* zeros: how codesign marks an absent special slot */
        memset(h, 0, f->width);
        return true;
    case 2: /* another slot's hash: right hash, wrong place */
        for (size_t k = 0; k < all->n; k++) {
            const sh_fm_field *g = &all->f[(k + sh_fm_rng_below(rng, all->n)) % all->n];
            if (g != f && g->kind == SH_FK_HASH_BYTES && g->width == f->width &&
                sh_range_within(g->off, g->width, size)) {
                memmove(h, data + g->off, f->width);
                return true;
            }
        }
        return false;
    default:
        memset(h, 0xff, f->width);
        return true;
    }
}

static bool mutate_string(uint8_t *data, size_t size, const sh_fm_field *f, sh_fm_rng *rng)
{
    static const uint8_t replacements[] = {'.', '-', '/', 'a', 'Z', '0', ' ', 0, 0x80, 0xff};
    if (f->width < 2 || !sh_range_within(f->off, f->width, size))
        return false;
    /* Never the terminating NUL: the string stays inside its blob. */
    uint64_t at = f->off + sh_fm_rng_below(rng, f->width - 1);
    data[at] = replacements[sh_fm_rng_below(rng, sizeof replacements)];
    return true;
}

bool sh_fm_mutate_field(uint8_t *data, size_t size, const sh_fm_field *f,
                        const sh_fm_fields *all, sh_fm_rng *rng)
{
    if (f->kind == SH_FK_HASH_BYTES)
        return mutate_hash(data, size, f, all, rng);
    if (f->kind == SH_FK_STRING_BYTES)
        return mutate_string(data, size, f, rng);
    return sh_fm_store(data, size, f, sh_fm_pick_value(f, all, rng));
}
