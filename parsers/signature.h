/* An embedded signature as a whole: the SuperBlob, its CodeDirectories (primary and alternates)
 * and the checks that tie them together. */
#ifndef SH_SIGNATURE_H
#define SH_SIGNATURE_H

#include <stdbool.h>
#include <stdint.h>

#include "codedir.h"
#include "superblob.h"

typedef struct sh_signature {
    sh_superblob superblob;
    sh_codedir cds[1 + SH_MAX_ALTERNATE_CDS]; /* cds[0] is slot 0, then 0x1000.. in slot order */
    uint32_t cd_slots[1 + SH_MAX_ALTERNATE_CDS];
    uint32_t ncds;
    uint32_t best;                /* index in cds of the strongest hash type (the kernel's pick) */
} sh_signature;

/* Parses an embedded signature (0xfade0cc0; a detached 0xfade0cc1 is not handled here).
 * Requires a CodeDirectory in slot 0, parses the alternates in 0x1000..0x1004 and refuses entries
 * in 0x1005..0x1fff (SUPERBLOB_TOO_MANY_ALTERNATES), two CodeDirectories with the same hash type
 * and alternates that disagree with the primary on identifier, effective code limit, page size
 * or nCodeSlots.  data may extend past the SuperBlob (LC_CODE_SIGNATURE padding). */
sh_err sh_signature_parse(const sh_cursor *data, sh_signature *out, sh_error *err);

/* Checks the special slots whose content travels inside the signature (requirements,
 * entitlements XML and DER, launch constraints) against the blobs present, for every
 * CodeDirectory.  Slots for files outside the binary (Info.plist, CodeResources) are not checked
 * here.  On failure err->index is the slot number and err->value the index in sig->cds:
 * CD_SPECIAL_SLOT_MISMATCH (offset of the slot's hash), CD_SPECIAL_SLOT_MISSING_BLOB (slot hash
 * set, no blob), CD_UNSEALED_BLOB (blob present, slot zero or past nSpecialSlots; offset of the
 * blob). */
sh_err sh_signature_check_special_slots(const sh_signature *sig, sh_error *err);

/* sh_codedir_verify_pages for every CodeDirectory (reports[i] for cds[i]); returns the first
 * failure (in cds order) but always checks them all. */
sh_err sh_signature_verify_pages(const sh_signature *sig, const sh_cursor *code,
                                 sh_page_report reports[], sh_error *err);

/* The slot 0x10000 BlobWrapper holding the CMS signature, NULL when absent. */
const sh_blob_entry *sh_signature_cms(const sh_signature *sig);

/* Whether the CMS blob wrapper is absent or empty (ad-hoc signatures). */
bool sh_signature_cms_empty(const sh_signature *sig);

#endif
