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
    const sh_blob_entry *cms;     /* slot 0x10000 BlobWrapper, NULL when absent */
} sh_signature;

/* Parses an embedded signature (0xfade0cc0) or a detached one (0xfade0cc1 is not handled here).
 * Requires a CodeDirectory in slot 0, refuses two CodeDirectories with the same hash type and
 * alternates that disagree with the primary on identifier, code limit or page size. */
sh_err sh_signature_parse(const sh_cursor *data, sh_signature *out, sh_error *err);

/* Checks the special slots whose content travels inside the signature (requirements,
 * entitlements XML and DER, launch constraints) against the blobs present, for every
 * CodeDirectory.  Slots for files outside the binary (Info.plist, CodeResources) are not checked
 * here.  err->index is the slot number on failure. */
sh_err sh_signature_check_special_slots(const sh_signature *sig, sh_error *err);

/* Whether the CMS blob wrapper is absent or empty (ad-hoc signatures). */
bool sh_signature_cms_empty(const sh_signature *sig);

#endif
