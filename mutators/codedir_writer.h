/* Writers for the code-signature blobs: CodeDirectory, requirement set, generic blobs, SuperBlob,
 * and a whole embedded signature (ad hoc, or CodeDirectories ready for a CMS signer).
 *
 * Output is byte-exact in the layout Apple's Security framework (CodeDirectory::Builder) writes:
 * big-endian header for the chosen version, identifier right after the header, then the team
 * identifier, then special-slot hashes (slot N first, slot 1 last) and code-page hashes, with
 * hashOffset at code slot 0 and no padding anywhere (unless ident_padding asks for ld64.lld's).
 * Go's linker writes the same layout, which tests/test_synth.c checks byte for byte.  See
 * ../shared/reference/codesign-formats.md sec. 2.
 *
 * Every writer appends to an sh_bytebuf and returns SH_W_OK or why it refused. */
#ifndef SH_CODEDIR_WRITER_H
#define SH_CODEDIR_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bytebuf.h"
#include "codedir.h"
#include "sh_limits.h"
#include "superblob.h"

#define SH_CDW_MAX_SPECIAL_SLOT SH_SLOT_LIBRARY_CONSTRAINT /* 11: highest slot a CD hashes */
#define SH_CDW_DEFAULT_VERSION SH_CD_VERSION_EXECSEG       /* 0x20400, what codesign writes today */
#define SH_CDW_DEFAULT_PAGE_SHIFT 12u                      /* codesign hashes 4 KiB pages on every arch */
#define SH_EMPTY_REQUIREMENTS_SIZE 12u                     /* {0xfade0c01, 12, count 0} */
#define SH_EMPTY_BLOBWRAPPER_SIZE 8u                       /* {0xfade0b01, 8}: ad-hoc "CMS" */

/* A borrowed byte range; p == NULL means absent (an empty but present input has p != NULL). */
typedef struct sh_bytes {
    const uint8_t *p;
    size_t len;
} sh_bytes;

/* What one CodeDirectory says.  Fill with sh_cd_params_init, then change what differs. */
typedef struct sh_cd_params {
    const char *identifier; /* required, 1..SH_MAX_IDENTIFIER_LEN bytes */
    const char *team_id;    /* NULL: none (needs version >= 0x20200 otherwise) */
    uint32_t version;       /* 0x20001..0x2F000; header layout follows the version */
    uint32_t flags;         /* SH_CS_* */
    uint8_t hash_type;      /* SH_HASH_SHA1, _SHA256, _SHA256_TRUNCATED, _SHA384 */
    uint8_t page_shift;     /* log2 page size, 0 = one hash over everything; <= SH_MAX_PAGE_SHIFT */
    uint8_t platform;       /* 0 except for platform binaries */
    /* Zero bytes after the identifier's NUL.  0 in Apple's layout; ld64.lld pads the identifier
     * so the hashes start 16-aligned within its SuperBlob (signer.h SH_SIGN_LAYOUT_LLD). */
    uint8_t ident_padding;
    /* The executable segment (__TEXT fileoff/filesize) and SH_CS_EXECSEG_* flags; all must be 0
     * below version 0x20400. */
    uint64_t exec_seg_base, exec_seg_limit, exec_seg_flags;
    uint32_t runtime; /* hardened-runtime SDK version; must be 0 below 0x20500 */
    /* Special-slot inputs, indexed by slot number (index 0 unused).  What is hashed is the raw
     * bytes given: the Info.plist file (1), the whole requirement-set blob (2), the
     * CodeResources file (3), the whole entitlements blob (5), the whole DER entitlements blob
     * (7), the launch-constraint blobs (8..11).  nSpecialSlots becomes the highest slot given;
     * slots below it that are absent hold zeros. */
    sh_bytes special[SH_CDW_MAX_SPECIAL_SLOT + 1];
} sh_cd_params;

/* Defaults: version 0x20400, SHA-256, 4 KiB pages, flags 0, no team, no special slots. */
void sh_cd_params_init(sh_cd_params *p, const char *identifier);

/* Header size of a CodeDirectory of this version (0x2C .. 0x6C); 0 when out of range. */
size_t sh_cd_header_size(uint32_t version);
/* Number of code slots for code_limit bytes with this page shift (the kernel's formula). */
uint64_t sh_cd_code_slots(uint64_t code_limit, uint8_t page_shift);

/* Size of the CodeDirectory sh_cd_write would produce for code_limit bytes of code. */
sh_write_status sh_cd_size(const sh_cd_params *p, uint64_t code_limit, size_t *size,
                           sh_write_error *err);

/* Appends the CodeDirectory for code [0, code_limit).  code may lie inside out's storage only
 * when out cannot move (a fixed buffer, or capacity reserved beforehand): growing moves it. */
sh_write_status sh_cd_write(const sh_cd_params *p, const uint8_t *code, uint64_t code_limit,
                            sh_bytebuf *out, sh_write_error *err);

/* Appends {magic, 8 + len, payload}: entitlements (0xfade7171 + XML), DER entitlements
 * (0xfade7172 + DER), a BlobWrapper (0xfade0b01 + CMS), ... */
sh_write_status sh_blob_write(uint32_t magic, const uint8_t *payload, size_t len, sh_bytebuf *out,
                              sh_write_error *err);
/* Appends the empty requirement set codesign seals in slot 2 when no requirement is given. */
sh_write_status sh_requirements_empty_write(sh_bytebuf *out, sh_write_error *err);

/* One SuperBlob entry: slot type and the whole blob (header included). */
typedef struct sh_blob_slot {
    uint32_t type;
    sh_bytes blob;
} sh_blob_slot;

/* Size of a SuperBlob holding these blobs: 12 + 8 * n + the blob sizes. */
sh_write_status sh_superblob_size(const sh_blob_slot *slots, size_t n, size_t *size,
                                  sh_write_error *err);
/* Appends only the SuperBlob header and index; blob.p may be NULL (only blob.len is used).  The
 * caller then appends exactly those blobs in that order (streaming writers do this). */
sh_write_status sh_superblob_write_index(uint32_t magic, const sh_blob_slot *slots, size_t n,
                                         sh_bytebuf *out, sh_write_error *err);
/* Appends a whole SuperBlob (magic 0xfade0cc0, 0xfade0c01, ...).  Slots must be in strictly
 * ascending type order (as codesign writes them) and every blob must carry a header whose
 * length field equals its size. */
sh_write_status sh_superblob_write(uint32_t magic, const sh_blob_slot *slots, size_t n,
                                   sh_bytebuf *out, sh_write_error *err);

/* A whole embedded signature.  The primary CodeDirectory goes in slot 0; each alternate hash
 * type gets a copy of it with that hash type in slots 0x1000, 0x1001, ...  The blobs the
 * special slots seal that travel inside the signature (requirements 2, entitlements 5, DER
 * entitlements 7, launch constraints 8..11) are embedded in their slots. */
typedef struct sh_sig_params {
    sh_cd_params cd;
    uint8_t alternate_hash_types[SH_MAX_ALTERNATE_CDS];
    uint32_t n_alternates;
    /* When cd.special[2] is absent, seal and embed an empty requirement set, as codesign does
     * (validation of a signature without one fails on macOS). */
    bool empty_requirements;
    /* Add an empty BlobWrapper in slot 0x10000, as codesign does for ad-hoc signatures. */
    bool empty_cms;
    /* LC_CODE_SIGNATURE datasize = SuperBlob size + reserve_extra, rounded up to pad_align
     * (16 by default, as ld64/lld/apple-codesign align it).  The tail is zeros. */
    uint32_t pad_align;
    uint32_t reserve_extra;
} sh_sig_params;

/* Ad-hoc defaults: flags SH_CS_ADHOC, SHA-256, version 0x20400, 4 KiB pages, empty requirement
 * set, empty CMS wrapper, pad to 16. */
void sh_sig_params_init(sh_sig_params *p, const char *identifier);
/* Makes p a dual-hash signature as older codesign wrote: SHA-1 primary, SHA-256 in 0x1000. */
void sh_sig_params_dual_hash(sh_sig_params *p);

/* superblob_size: the SuperBlob's own length; datasize: the padded size to reserve
 * (LC_CODE_SIGNATURE datasize).  Either pointer may be NULL. */
sh_write_status sh_sig_size(const sh_sig_params *p, uint64_t code_limit, size_t *superblob_size,
                            size_t *datasize, sh_write_error *err);
/* Appends exactly datasize bytes: the SuperBlob, then zeros.  The aliasing rule of sh_cd_write
 * applies to code. */
sh_write_status sh_sig_write(const sh_sig_params *p, const uint8_t *code, uint64_t code_limit,
                             sh_bytebuf *out, sh_write_error *err);

#endif
