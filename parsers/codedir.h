/* CodeDirectory (0xfade0c02), every version from 0x20001 to 0x20600, and page-hash checking. */
#ifndef SH_CODEDIR_H
#define SH_CODEDIR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cursor.h"
#include "errors.h"
#include "hash.h"

#define SH_CD_VERSION_EARLIEST 0x20001u
#define SH_CD_VERSION_SCATTER 0x20100u
#define SH_CD_VERSION_TEAM 0x20200u
#define SH_CD_VERSION_CODELIMIT64 0x20300u
#define SH_CD_VERSION_EXECSEG 0x20400u
#define SH_CD_VERSION_RUNTIME 0x20500u
#define SH_CD_VERSION_LINKAGE 0x20600u
#define SH_CD_VERSION_MAX 0x2F000u /* Security rejects versions above this */

/* CodeDirectory flags (cs_blobs.h). */
#define SH_CS_HOST 0x1u
#define SH_CS_ADHOC 0x2u
#define SH_CS_GET_TASK_ALLOW 0x4u
#define SH_CS_INSTALLER 0x8u
#define SH_CS_FORCED_LV 0x10u
#define SH_CS_INVALID_ALLOWED 0x20u
#define SH_CS_HARD 0x100u
#define SH_CS_KILL 0x200u
#define SH_CS_CHECK_EXPIRATION 0x400u
#define SH_CS_RESTRICT 0x800u
#define SH_CS_ENFORCEMENT 0x1000u
#define SH_CS_REQUIRE_LV 0x2000u
#define SH_CS_ENTITLEMENTS_VALIDATED 0x4000u
#define SH_CS_NVRAM_UNRESTRICTED 0x8000u
#define SH_CS_RUNTIME 0x10000u
#define SH_CS_LINKER_SIGNED 0x20000u

/* execSegFlags */
#define SH_CS_EXECSEG_MAIN_BINARY 0x1u
#define SH_CS_EXECSEG_ALLOW_UNSIGNED 0x10u
#define SH_CS_EXECSEG_DEBUGGER 0x20u
#define SH_CS_EXECSEG_JIT 0x40u
#define SH_CS_EXECSEG_SKIP_LV 0x80u
#define SH_CS_EXECSEG_CAN_LOAD_CDHASH 0x100u
#define SH_CS_EXECSEG_CAN_EXEC_CDHASH 0x200u

typedef struct sh_codedir {
    sh_cursor blob; /* the whole CodeDirectory, exactly length bytes */
    uint32_t length, version, flags, hash_offset, ident_offset, n_special_slots, n_code_slots,
        code_limit;
    uint8_t hash_size, hash_type, platform, page_shift;
    uint32_t spare2;
    uint32_t scatter_offset;                         /* >= 0x20100 */
    uint32_t team_offset;                            /* >= 0x20200 */
    uint32_t spare3;                                 /* >= 0x20300 */
    uint64_t code_limit64;                           /* >= 0x20300 */
    uint64_t exec_seg_base, exec_seg_limit, exec_seg_flags; /* >= 0x20400 */
    uint32_t runtime, pre_encrypt_offset;            /* >= 0x20500 */
    uint8_t linkage_hash_type, linkage_application_type; /* >= 0x20600 */
    uint16_t linkage_application_subtype;
    uint32_t linkage_offset, linkage_size;

    size_t header_size;        /* fixed header size for this version */
    uint64_t effective_limit;  /* codeLimit64 when set and version >= 0x20300, else codeLimit */
    const char *identifier;    /* points into the blob, NUL-terminated there */
    size_t identifier_len;
    const char *team_id;       /* NULL when absent */
    size_t team_id_len;
    uint32_t n_scatter;        /* scatter entries before the terminator */
    uint64_t scatter_pages;    /* sum of their counts */
    bool has_linkage;          /* >= 0x20600 with a non-empty linkage range */
    sh_cursor linkage;         /* [linkageOffset, +linkageSize) inside the blob */
    uint8_t cdhash[SH_HASH_MAX_SIZE]; /* full digest of the blob; the cdhash is its first 20 bytes */
    size_t cdhash_size;
} sh_codedir;

/* One legacy scatter vector element (SC_Scatter, 24 bytes): hashes [sum of earlier counts,
 * + count) cover pages [base, base + count); targetOffset says where they land in the target. */
#define SH_CD_SCATTER_ENTRY_SIZE 24u
typedef struct sh_cd_scatter {
    uint32_t count, base;
    uint64_t target_offset, spare;
} sh_cd_scatter;

/* Size of the fixed header of a CodeDirectory version (0x2C for 0x20001 ... 0x6C for 0x20600 and
 * the unknown versions above it). */
size_t sh_codedir_header_size(uint32_t version);

/* Parses and integrity-checks a CodeDirectory blob (the view must start at its magic; the blob
 * length is read from the header and must fit in the view).  Checks, in this order: framing and
 * magic, version (0x20001..0x2F000), length >= the version's header, hash type and hashSize,
 * page size, identifier and team ID (NUL inside the blob, <= SH_MAX_IDENTIFIER_LEN), the hash
 * array, pre-encryption hashes (0x20500+), the scatter vector, nCodeSlots against the effective
 * limit and page size, the linkage range (0x20600+).  spare2/spare3 are decoded but, as in
 * Security, not required to be zero.  Computes the cdhash.  Errors: where "CodeDirectory",
 * offset = the CD's absolute offset, value = the offending field. */
sh_err sh_codedir_parse(const sh_cursor *data, sh_codedir *out, sh_error *err);

/* Scatter vector present (version >= 0x20100, scatterOffset != 0) and its entries (index <=
 * n_scatter; entry n_scatter is the terminator). */
bool sh_codedir_has_scatter(const sh_codedir *cd);
bool sh_codedir_scatter_entry(const sh_codedir *cd, uint32_t index, sh_cd_scatter *out);

/* Hash of special slot n (1..n_special_slots) or code slot i, as views into the blob. */
bool sh_codedir_special_hash(const sh_codedir *cd, uint32_t slot, sh_cursor *out);
bool sh_codedir_code_hash(const sh_codedir *cd, uint32_t index, sh_cursor *out);
/* True when special slot n is in range and not all zeros. */
bool sh_codedir_special_present(const sh_codedir *cd, uint32_t slot);

typedef struct sh_page_report {
    uint32_t pages_checked;
    uint32_t pages_bad;
    int64_t first_bad; /* -1 when all match */
    int64_t last_bad;
} sh_page_report;

/* Hashes every code page of code (the slice, whose first effective_limit bytes are signed) and
 * compares with the code slots, checking all pages (the report counts every bad one).  Returns
 * SH_E_CD_PAGE_HASH_MISMATCH (err->index = first bad page, err->offset = its absolute offset,
 * err->value = number of bad pages) when any differs, SH_E_CD_CODE_LIMIT_PAST_DATA when the
 * view is shorter than the limit.  A scattered CD is verified only when its scatter vector is
 * the identity mapping (the one layout on which Security, which ignores the vector, and the
 * kernel, which follows it, agree); any other vector gives SH_E_CD_SCATTER_UNSUPPORTED. */
sh_err sh_codedir_verify_pages(const sh_codedir *cd, const sh_cursor *code, sh_page_report *report,
                               sh_error *err);

/* "adhoc,runtime,linker-signed" for flags; writes "none" when 0.  Always NUL-terminates. */
void sh_codedir_flags_string(uint32_t flags, char *buf, size_t size);

#endif
