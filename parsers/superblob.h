/* Code-signature SuperBlob: {magic, length, count, BlobIndex[count]} and the blobs it indexes.
 * Zero-copy: entries are views into the input.  No allocation. */
#ifndef SH_SUPERBLOB_H
#define SH_SUPERBLOB_H

#include <stdbool.h>
#include <stdint.h>

#include "cursor.h"
#include "errors.h"
#include "sh_limits.h"

/* Blob magics (cs_blobs.h). */
#define SH_MAGIC_REQUIREMENT 0xfade0c00u
#define SH_MAGIC_REQUIREMENTS 0xfade0c01u
#define SH_MAGIC_CODEDIRECTORY 0xfade0c02u
#define SH_MAGIC_EMBEDDED_SIGNATURE 0xfade0cc0u
#define SH_MAGIC_EMBEDDED_SIGNATURE_OLD 0xfade0b02u
#define SH_MAGIC_DETACHED_SIGNATURE 0xfade0cc1u
#define SH_MAGIC_BLOBWRAPPER 0xfade0b01u
#define SH_MAGIC_EMBEDDED_ENTITLEMENTS 0xfade7171u
#define SH_MAGIC_EMBEDDED_DER_ENTITLEMENTS 0xfade7172u
#define SH_MAGIC_EMBEDDED_LAUNCH_CONSTRAINT 0xfade8181u

/* Slot numbers (BlobIndex.type). */
#define SH_SLOT_CODEDIRECTORY 0u
#define SH_SLOT_INFO 1u
#define SH_SLOT_REQUIREMENTS 2u
#define SH_SLOT_RESOURCEDIR 3u
#define SH_SLOT_APPLICATION 4u
#define SH_SLOT_ENTITLEMENTS 5u
#define SH_SLOT_REP_SPECIFIC 6u
#define SH_SLOT_DER_ENTITLEMENTS 7u
#define SH_SLOT_LAUNCH_CONSTRAINT_SELF 8u
#define SH_SLOT_LAUNCH_CONSTRAINT_PARENT 9u
#define SH_SLOT_LAUNCH_CONSTRAINT_RESPONSIBLE 10u
#define SH_SLOT_LIBRARY_CONSTRAINT 11u
#define SH_SLOT_ALTERNATE_CODEDIRECTORIES 0x1000u
#define SH_SLOT_ALTERNATE_CODEDIRECTORY_LIMIT 0x1005u
#define SH_SLOT_SIGNATURE 0x10000u
#define SH_SLOT_IDENTIFICATION 0x10001u
#define SH_SLOT_TICKET 0x10002u

typedef struct sh_blob_entry {
    uint32_t type;   /* slot */
    uint32_t offset; /* from the SuperBlob start; 0 means absent */
    bool present;
    uint32_t magic, length; /* of the blob, when present */
    sh_cursor blob;         /* exactly length bytes, header included */
} sh_blob_entry;

typedef struct sh_superblob {
    uint32_t magic, length, count;
    sh_blob_entry entries[SH_MAX_SUPERBLOB_BLOBS];
    bool out_of_order; /* entries not in ascending slot order (codesign writes slot order) */
    sh_cursor blob;    /* the SuperBlob itself, exactly length bytes */
    uint64_t trailing; /* bytes after length inside the data given (padding in LC_CODE_SIGNATURE) */
} sh_superblob;

/* Reads a generic blob header {magic, length} at the start of data and returns the blob's view
 * (exactly length bytes).  Checks 8 <= length <= available data. */
sh_err sh_blob_view(const sh_cursor *data, const char *where, uint32_t *magic, sh_cursor *blob,
                    sh_error *err);

/* Parses a SuperBlob whose magic must be expected_magic (any of the SuperBlob magics when 0).
 * Validates the index (bounds, overlap with the header, duplicates, overlapping blobs, count
 * limit) and, for known slots, that each blob carries the magic its slot requires (in a
 * requirement set every blob must be a Requirement, in a detached signature an embedded
 * signature).  Unknown slot types are kept.  data may extend past the SuperBlob's length (the
 * zero padding after it in LC_CODE_SIGNATURE); out->trailing counts those bytes. */
sh_err sh_superblob_parse(const sh_cursor *data, uint32_t expected_magic, sh_superblob *out,
                          sh_error *err);

/* Absolute offset of BlobIndex entry i (for error reports). */
uint64_t sh_superblob_index_offset(const sh_superblob *sb, uint32_t i);

/* The entry of that slot type when it is present (non-zero offset), else NULL. */
const sh_blob_entry *sh_superblob_find(const sh_superblob *sb, uint32_t type);

const char *sh_slot_name(uint32_t type);        /* "CodeDirectory", "Requirements", ...; "unknown" */
const char *sh_blob_magic_name(uint32_t magic); /* "CodeDirectory", "BlobWrapper", ...; "unknown" */
/* The magic a blob in this slot must carry, or 0 when any is acceptable (unknown slots). */
uint32_t sh_slot_expected_magic(uint32_t type);

#endif
