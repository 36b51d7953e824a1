/* SuperBlob parsing: Security's SuperBlob::validateBlob rules plus the hardening the harness wants
 * (count limit, duplicate slots, overlapping blobs, per-slot magic).  All input is read through
 * sh_cursor; every offset sum is done in 64 bits and checked. */
#include "superblob.h"

#include <string.h>

#define BLOB_HEADER_SIZE 8u       /* {magic, length} */
#define SUPERBLOB_HEADER_SIZE 12u /* {magic, length, count} */
#define BLOB_INDEX_SIZE 8u        /* {type, offset} */

sh_err sh_blob_view(const sh_cursor *data, const char *where, uint32_t *magic, sh_cursor *blob,
                    sh_error *err)
{
    sh_cursor c = *data;
    uint32_t length;
    if (!sh_cursor_u32be(&c, magic) || !sh_cursor_u32be(&c, &length))
        return sh_fail_value(err, SH_E_BLOB_TRUNCATED, where, -1, data->base, data->len);
    if (length < BLOB_HEADER_SIZE)
        return sh_fail_value(err, SH_E_BLOB_BAD_LENGTH, where, -1, data->base, length);
    if (!sh_cursor_sub(data, 0, length, blob))
        return sh_fail_value(err, SH_E_BLOB_TRUNCATED, where, -1, data->base, length);
    return SH_E_OK;
}

static bool is_superblob_magic(uint32_t magic)
{
    return magic == SH_MAGIC_EMBEDDED_SIGNATURE || magic == SH_MAGIC_EMBEDDED_SIGNATURE_OLD ||
           magic == SH_MAGIC_DETACHED_SIGNATURE || magic == SH_MAGIC_REQUIREMENTS;
}

static bool is_alternate_cd_slot(uint32_t type)
{
    return type >= SH_SLOT_ALTERNATE_CODEDIRECTORIES &&
           type < SH_SLOT_ALTERNATE_CODEDIRECTORY_LIMIT;
}

uint32_t sh_slot_expected_magic(uint32_t type)
{
    if (type == SH_SLOT_CODEDIRECTORY || is_alternate_cd_slot(type))
        return SH_MAGIC_CODEDIRECTORY;
    switch (type) {
    case SH_SLOT_REQUIREMENTS: return SH_MAGIC_REQUIREMENTS;
    case SH_SLOT_ENTITLEMENTS: return SH_MAGIC_EMBEDDED_ENTITLEMENTS;
    case SH_SLOT_DER_ENTITLEMENTS: return SH_MAGIC_EMBEDDED_DER_ENTITLEMENTS;
    case SH_SLOT_LAUNCH_CONSTRAINT_SELF:
    case SH_SLOT_LAUNCH_CONSTRAINT_PARENT:
    case SH_SLOT_LAUNCH_CONSTRAINT_RESPONSIBLE:
    case SH_SLOT_LIBRARY_CONSTRAINT: return SH_MAGIC_EMBEDDED_LAUNCH_CONSTRAINT;
    case SH_SLOT_SIGNATURE: return SH_MAGIC_BLOBWRAPPER;
    default: return 0;
    }
}

/* The slot numbering depends on the container: an embedded signature indexes by code-signing
 * slot, a requirement set by requirement type (every blob a Requirement), a detached signature
 * by CPU type (every blob an embedded signature). */
static uint32_t entry_expected_magic(uint32_t superblob_magic, uint32_t type)
{
    switch (superblob_magic) {
    case SH_MAGIC_REQUIREMENTS: return SH_MAGIC_REQUIREMENT;
    case SH_MAGIC_DETACHED_SIGNATURE: return SH_MAGIC_EMBEDDED_SIGNATURE;
    default: return sh_slot_expected_magic(type);
    }
}

const char *sh_slot_name(uint32_t type)
{
    static const char *const alternates[] = {"AlternateCodeDirectory0", "AlternateCodeDirectory1",
                                             "AlternateCodeDirectory2", "AlternateCodeDirectory3",
                                             "AlternateCodeDirectory4"};
    if (is_alternate_cd_slot(type))
        return alternates[type - SH_SLOT_ALTERNATE_CODEDIRECTORIES];
    switch (type) {
    case SH_SLOT_CODEDIRECTORY: return "CodeDirectory";
    case SH_SLOT_INFO: return "Info.plist";
    case SH_SLOT_REQUIREMENTS: return "Requirements";
    case SH_SLOT_RESOURCEDIR: return "CodeResources";
    case SH_SLOT_APPLICATION: return "Application";
    case SH_SLOT_ENTITLEMENTS: return "Entitlements";
    case SH_SLOT_REP_SPECIFIC: return "RepSpecific";
    case SH_SLOT_DER_ENTITLEMENTS: return "EntitlementsDER";
    case SH_SLOT_LAUNCH_CONSTRAINT_SELF: return "LaunchConstraintSelf";
    case SH_SLOT_LAUNCH_CONSTRAINT_PARENT: return "LaunchConstraintParent";
    case SH_SLOT_LAUNCH_CONSTRAINT_RESPONSIBLE: return "LaunchConstraintResponsible";
    case SH_SLOT_LIBRARY_CONSTRAINT: return "LibraryConstraint";
    case SH_SLOT_SIGNATURE: return "Signature";
    case SH_SLOT_IDENTIFICATION: return "Identification";
    case SH_SLOT_TICKET: return "Ticket";
    default: return "unknown";
    }
}

const char *sh_blob_magic_name(uint32_t magic)
{
    switch (magic) {
    case SH_MAGIC_REQUIREMENT: return "Requirement";
    case SH_MAGIC_REQUIREMENTS: return "Requirements";
    case SH_MAGIC_CODEDIRECTORY: return "CodeDirectory";
    case SH_MAGIC_EMBEDDED_SIGNATURE: return "EmbeddedSignature";
    case SH_MAGIC_EMBEDDED_SIGNATURE_OLD: return "EmbeddedSignatureOld";
    case SH_MAGIC_DETACHED_SIGNATURE: return "DetachedSignature";
    case SH_MAGIC_BLOBWRAPPER: return "BlobWrapper";
    case SH_MAGIC_EMBEDDED_ENTITLEMENTS: return "Entitlements";
    case SH_MAGIC_EMBEDDED_DER_ENTITLEMENTS: return "EntitlementsDER";
    case SH_MAGIC_EMBEDDED_LAUNCH_CONSTRAINT: return "LaunchConstraint";
    default: return "unknown";
    }
}

/* Reads the header and sizes the index: validateBlob's "header + index <= length". */
static sh_err read_header(const sh_cursor *data, uint32_t expected_magic, sh_superblob *out,
                          uint64_t *index_end, sh_error *err)
{
    sh_err e = sh_blob_view(data, "SuperBlob", &out->magic, &out->blob, err);
    if (e != SH_E_OK)
        return e;
    bool magic_ok = expected_magic ? out->magic == expected_magic : is_superblob_magic(out->magic);
    if (!magic_ok)
        return sh_fail_value(err, SH_E_BLOB_BAD_MAGIC, "SuperBlob", -1, data->base, out->magic);
    out->length = (uint32_t)out->blob.len;
    if (out->length < SUPERBLOB_HEADER_SIZE)
        return sh_fail_value(err, SH_E_BLOB_BAD_LENGTH, "SuperBlob", -1, data->base, out->length);
    uint32_t count;
    if (!sh_cursor_u32be_at(&out->blob, 8, &count))
        return sh_fail(err, SH_E_BLOB_TRUNCATED, "SuperBlob", -1, data->base);
    uint64_t index_size;
    if (!sh_mul_u64(count, BLOB_INDEX_SIZE, &index_size) ||
        !sh_add_u64(SUPERBLOB_HEADER_SIZE, index_size, index_end) || *index_end > out->length ||
        count > SH_MAX_SUPERBLOB_BLOBS)
        return sh_fail_value(err, SH_E_SUPERBLOB_TOO_MANY_BLOBS, "SuperBlob", -1, data->base,
                             count);
    out->count = count;
    out->trailing = data->len - out->blob.len;
    return SH_E_OK;
}

uint64_t sh_superblob_index_offset(const sh_superblob *sb, uint32_t i)
{
    return sb->blob.base + SUPERBLOB_HEADER_SIZE + (uint64_t)i * BLOB_INDEX_SIZE;
}

/* One BlobIndex entry: bounds as validateBlob checks them, then the magic its slot requires. */
static sh_err read_entry(sh_superblob *sb, uint32_t i, uint64_t index_end, sh_error *err)
{
    sh_blob_entry *e = &sb->entries[i];
    uint64_t entry_pos = SUPERBLOB_HEADER_SIZE + (uint64_t)i * BLOB_INDEX_SIZE;
    uint64_t entry_abs = sh_superblob_index_offset(sb, i);
    sh_cursor c;
    if (!sh_cursor_sub(&sb->blob, entry_pos, BLOB_INDEX_SIZE, &c) ||
        !sh_cursor_u32be(&c, &e->type) || !sh_cursor_u32be(&c, &e->offset))
        return sh_fail(err, SH_E_BLOB_TRUNCATED, "BlobIndex", i, entry_abs);
    if (e->offset == 0)
        return SH_E_OK; /* absent */
    if (e->offset < index_end)
        return sh_fail_value(err, SH_E_SUPERBLOB_INDEX_OVERLAP, "BlobIndex", i, entry_abs,
                             e->offset);
    uint64_t blob_abs = sb->blob.base + e->offset;
    sh_cursor header;
    if (!sh_cursor_sub(&sb->blob, e->offset, BLOB_HEADER_SIZE, &header) ||
        !sh_cursor_u32be(&header, &e->magic) || !sh_cursor_u32be(&header, &e->length))
        return sh_fail_value(err, SH_E_SUPERBLOB_ENTRY_OUT_OF_BOUNDS, "BlobIndex", i, entry_abs,
                             e->offset);
    if (e->length < BLOB_HEADER_SIZE)
        return sh_fail_value(err, SH_E_BLOB_BAD_LENGTH, "BlobIndex", i, blob_abs, e->length);
    if (!sh_cursor_sub(&sb->blob, e->offset, e->length, &e->blob))
        return sh_fail_value(err, SH_E_SUPERBLOB_ENTRY_OUT_OF_BOUNDS, "BlobIndex", i, blob_abs,
                             e->length);
    uint32_t expected = entry_expected_magic(sb->magic, e->type);
    if (expected && e->magic != expected)
        return sh_fail_value(err, SH_E_BLOB_BAD_MAGIC, "BlobIndex", i, blob_abs, e->magic);
    e->present = true;
    return SH_E_OK;
}

/* Lookup by type assumes each type appears once; a second entry would be ignored by Security
 * and seen by another reader, so it is refused. */
static sh_err check_duplicate(const sh_superblob *sb, uint32_t i, sh_error *err)
{
    for (uint32_t j = 0; j < i; j++)
        if (sb->entries[j].type == sb->entries[i].type)
            return sh_fail_value(err, SH_E_SUPERBLOB_DUPLICATE_TYPE, "BlobIndex", i,
                                 sh_superblob_index_offset(sb, i), sb->entries[i].type);
    return SH_E_OK;
}

static bool blobs_overlap(const sh_blob_entry *a, const sh_blob_entry *b)
{
    uint64_t a_end = (uint64_t)a->offset + a->length;
    uint64_t b_end = (uint64_t)b->offset + b->length;
    return a->offset < b_end && b->offset < a_end;
}

/* Two entries sharing bytes would let one blob be read as two different things. */
static sh_err check_overlaps(const sh_superblob *sb, sh_error *err)
{
    for (uint32_t i = 0; i < sb->count; i++) {
        const sh_blob_entry *a = &sb->entries[i];
        for (uint32_t j = 0; a->present && j < i; j++) {
            const sh_blob_entry *b = &sb->entries[j];
            if (b->present && blobs_overlap(a, b))
                return sh_fail_value(err, SH_E_SUPERBLOB_BLOBS_OVERLAP, "BlobIndex", i,
                                     a->blob.base, j);
        }
    }
    return SH_E_OK;
}

sh_err sh_superblob_parse(const sh_cursor *data, uint32_t expected_magic, sh_superblob *out,
                          sh_error *err)
{
    memset(out, 0, sizeof *out);
    uint64_t index_end = 0;
    sh_err e = read_header(data, expected_magic, out, &index_end, err);
    if (e != SH_E_OK)
        return e;
    for (uint32_t i = 0; i < out->count; i++) {
        e = read_entry(out, i, index_end, err);
        if (e == SH_E_OK)
            e = check_duplicate(out, i, err);
        if (e != SH_E_OK)
            return e;
        if (i > 0 && out->entries[i].type < out->entries[i - 1].type)
            out->out_of_order = true;
    }
    return check_overlaps(out, err);
}

const sh_blob_entry *sh_superblob_find(const sh_superblob *sb, uint32_t type)
{
    for (uint32_t i = 0; i < sb->count && i < SH_MAX_SUPERBLOB_BLOBS; i++)
        if (sb->entries[i].type == type)
            return sb->entries[i].present ? &sb->entries[i] : NULL;
    return NULL;
}
