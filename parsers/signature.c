/* An embedded signature: the SuperBlob, its CodeDirectories and the rules that tie them together
 * (StaticCode.cpp's loadCodeDirectories and validateDirectory, minus the CMS). */
#include "signature.h"

#include <string.h>

/* Alternates live in 0x1000..0x1004; Security ignores anything past them, but another reader
 * might not, so an entry in the rest of that range is refused rather than silently skipped. */
#define ALTERNATE_RANGE_END 0x2000u

static sh_err check_alternate_range(const sh_superblob *sb, sh_error *err)
{
    for (uint32_t i = 0; i < sb->count; i++) {
        uint32_t type = sb->entries[i].type;
        if (type >= SH_SLOT_ALTERNATE_CODEDIRECTORY_LIMIT && type < ALTERNATE_RANGE_END)
            return sh_fail_value(err, SH_E_SUPERBLOB_TOO_MANY_ALTERNATES, "BlobIndex", i,
                                 sh_superblob_index_offset(sb, i), type);
    }
    return SH_E_OK;
}

static sh_err parse_cd_in_slot(sh_signature *sig, const sh_blob_entry *entry, sh_error *err)
{
    sh_err e = sh_codedir_parse(&entry->blob, &sig->cds[sig->ncds], err);
    if (e != SH_E_OK)
        return e;
    sig->cd_slots[sig->ncds] = entry->type;
    sig->ncds++;
    return SH_E_OK;
}

/* Slot 0 first, then the alternates in slot order. */
static sh_err parse_cds(sh_signature *sig, sh_error *err)
{
    const sh_blob_entry *primary = sh_superblob_find(&sig->superblob, SH_SLOT_CODEDIRECTORY);
    if (!primary)
        return sh_fail(err, SH_E_SUPERBLOB_NO_CODEDIRECTORY, "SuperBlob", -1,
                       sig->superblob.blob.base);
    sh_err e = parse_cd_in_slot(sig, primary, err);
    for (uint32_t slot = SH_SLOT_ALTERNATE_CODEDIRECTORIES;
         e == SH_E_OK && slot < SH_SLOT_ALTERNATE_CODEDIRECTORY_LIMIT; slot++) {
        const sh_blob_entry *alternate = sh_superblob_find(&sig->superblob, slot);
        if (alternate)
            e = parse_cd_in_slot(sig, alternate, err);
    }
    return e;
}

static bool same_identifier(const sh_codedir *a, const sh_codedir *b)
{
    return a->identifier_len == b->identifier_len &&
           memcmp(a->identifier, b->identifier, a->identifier_len) == 0;
}

/* Each CD must use its own hash type (StaticCode refuses two of a kind), and every alternate must
 * describe the same code as the primary; otherwise the kernel (best hash) and an older reader
 * (slot 0) would validate different things. */
static sh_err check_cds_agree(const sh_signature *sig, sh_error *err)
{
    const sh_codedir *primary = &sig->cds[0];
    for (uint32_t i = 1; i < sig->ncds; i++) {
        const sh_codedir *cd = &sig->cds[i];
        for (uint32_t j = 0; j < i; j++)
            if (sig->cds[j].hash_type == cd->hash_type)
                return sh_fail_value(err, SH_E_CD_DUPLICATE_HASH_TYPE, "CodeDirectory", i,
                                     cd->blob.base, cd->hash_type);
        if (!same_identifier(primary, cd) || primary->effective_limit != cd->effective_limit ||
            primary->page_shift != cd->page_shift || primary->n_code_slots != cd->n_code_slots)
            return sh_fail_value(err, SH_E_CD_ALTERNATE_MISMATCH, "CodeDirectory", i,
                                 cd->blob.base, sig->cd_slots[i]);
    }
    return SH_E_OK;
}

static uint32_t strongest_cd(const sh_signature *sig)
{
    uint32_t best = 0;
    for (uint32_t i = 1; i < sig->ncds; i++)
        if (sh_hash_rank(sig->cds[i].hash_type) > sh_hash_rank(sig->cds[best].hash_type))
            best = i;
    return best;
}

sh_err sh_signature_parse(const sh_cursor *data, sh_signature *out, sh_error *err)
{
    memset(out, 0, sizeof *out);
    sh_err e = sh_superblob_parse(data, SH_MAGIC_EMBEDDED_SIGNATURE, &out->superblob, err);
    if (e == SH_E_OK)
        e = check_alternate_range(&out->superblob, err);
    if (e == SH_E_OK)
        e = parse_cds(out, err);
    if (e == SH_E_OK)
        e = check_cds_agree(out, err);
    if (e != SH_E_OK)
        return e;
    out->best = strongest_cd(out);
    return SH_E_OK;
}

/* Slots whose sealed content travels inside the signature itself. */
static const uint32_t sealed_blob_slots[] = {
    SH_SLOT_REQUIREMENTS,
    SH_SLOT_ENTITLEMENTS,
    SH_SLOT_DER_ENTITLEMENTS,
    SH_SLOT_LAUNCH_CONSTRAINT_SELF,
    SH_SLOT_LAUNCH_CONSTRAINT_PARENT,
    SH_SLOT_LAUNCH_CONSTRAINT_RESPONSIBLE,
    SH_SLOT_LIBRARY_CONSTRAINT,
};

/* err->value is the index of the CodeDirectory in sig->cds. */
static sh_err check_slot(const sh_signature *sig, uint32_t cd_index, uint32_t slot, sh_error *err)
{
    const sh_codedir *cd = &sig->cds[cd_index];
    const sh_blob_entry *blob = sh_superblob_find(&sig->superblob, slot);
    bool sealed = sh_codedir_special_present(cd, slot);
    sh_cursor slot_hash;
    if (!blob) {
        if (sealed && sh_codedir_special_hash(cd, slot, &slot_hash))
            return sh_fail_value(err, SH_E_CD_SPECIAL_SLOT_MISSING_BLOB, "special slot", slot,
                                 slot_hash.base, cd_index);
        return SH_E_OK;
    }
    if (!sealed || !sh_codedir_special_hash(cd, slot, &slot_hash))
        return sh_fail_value(err, SH_E_CD_UNSEALED_BLOB, "special slot", slot, blob->blob.base,
                             cd_index);
    uint64_t slot_pos = slot_hash.base;
    uint8_t expected[SH_HASH_MAX_SIZE], actual[SH_HASH_MAX_SIZE];
    if (!sh_cursor_copy(&slot_hash, expected, cd->hash_size) ||
        !sh_hash(cd->hash_type, blob->blob.p, blob->blob.len, actual))
        return sh_fail_value(err, SH_E_NO_MEMORY, "special slot", slot, blob->blob.base, cd_index);
    if (memcmp(expected, actual, cd->hash_size) != 0)
        return sh_fail_value(err, SH_E_CD_SPECIAL_SLOT_MISMATCH, "special slot", slot,
                             slot_pos, cd_index);
    return SH_E_OK;
}

sh_err sh_signature_check_special_slots(const sh_signature *sig, sh_error *err)
{
    for (uint32_t i = 0; i < sig->ncds; i++)
        for (size_t k = 0; k < sizeof sealed_blob_slots / sizeof sealed_blob_slots[0]; k++) {
            sh_err e = check_slot(sig, i, sealed_blob_slots[k], err);
            if (e != SH_E_OK)
                return e;
        }
    return SH_E_OK;
}

sh_err sh_signature_verify_pages(const sh_signature *sig, const sh_cursor *code,
                                 sh_page_report reports[], sh_error *err)
{
    sh_err first = SH_E_OK;
    for (uint32_t i = 0; i < sig->ncds; i++) {
        sh_error e_here;
        sh_err e = sh_codedir_verify_pages(&sig->cds[i], code, &reports[i], &e_here);
        if (e != SH_E_OK && first == SH_E_OK) {
            first = e;
            if (err)
                *err = e_here;
        }
    }
    return first;
}

const sh_blob_entry *sh_signature_cms(const sh_signature *sig)
{
    return sh_superblob_find(&sig->superblob, SH_SLOT_SIGNATURE);
}

bool sh_signature_cms_empty(const sh_signature *sig)
{
    const sh_blob_entry *cms = sh_signature_cms(sig);
    return cms == NULL || cms->length <= 8;
}
