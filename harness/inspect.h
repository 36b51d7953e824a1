/* `sigharness inspect`: decode a Mach-O's code signature and check it the way codesign -d -vvvv
 * plus codesign --verify would, per architecture. */
#ifndef SH_INSPECT_H
#define SH_INSPECT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "cms.h"
#include "entitlements.h"
#include "macho.h"
#include "signature.h"
#include "verify_memo.h"

/* Exit codes of `sigharness inspect` (documented in README and --help). */
enum {
    SH_EXIT_OK = 0,        /* parsed; every architecture signed, every hash verified */
    SH_EXIT_INVALID = 1,   /* parsed, but unsigned, a hash differs or a structural rule fails */
    SH_EXIT_USAGE = 2,     /* bad command line */
    SH_EXIT_MALFORMED = 3, /* the file or its signature could not be parsed */
    SH_EXIT_IO = 4,        /* the file could not be read */
};

/* The more severe of two exit codes: I/O > malformed > invalid > ok. */
int sh_exit_worst(int a, int b);

#define SH_INSPECT_JSON_SCHEMA "sigharness.inspect/1"

typedef struct sh_cd_check {
    sh_page_report pages;
    sh_err pages_result;
    sh_error pages_err;
} sh_cd_check;

/* The entitlements sealed in slots 5 (XML) and 7 (DER): both decoded and compared. */
typedef struct sh_entitlements_check {
    bool xml_present, der_present;
    sh_entitlements xml, der; /* empty (form NONE) when absent or undecodable */
    sh_err result;            /* a decoding error, or ENT_MISMATCH */
    sh_error err;
    char difference[512]; /* the first difference, when result is ENT_MISMATCH */
} sh_entitlements_check;

typedef struct sh_slice_check {
    sh_err signature_result; /* OK, MACHO_UNSIGNED or the signature's parse error */
    sh_error signature_err;
    uint32_t signature_offset, signature_size; /* LC_CODE_SIGNATURE dataoff, datasize */
    sh_signature signature;                    /* valid when signature_result is OK */
    sh_cd_check cds[1 + SH_MAX_ALTERNATE_CDS];
    sh_err slots_result;
    sh_error slots_err;
    /* the internal requirement set (slot 2) as text, one "type => expression" line per entry;
     * NULL when the signature has none */
    char *requirements;
    sh_err requirements_result;
    sh_error requirements_err;
    sh_entitlements_check entitlements;
    /* the CMS signature (slot 0x10000) verified over the CodeDirectories, as Security does */
    sh_cms_report cms;
    sh_err cms_result;
    sh_error cms_err;
} sh_slice_check;

typedef struct sh_inspect_options {
    bool json;
    bool requirements; /* -r: print the requirement text (JSON always carries it) */
    bool entitlements; /* --entitlements: print them as an XML plist (JSON always carries it) */
    int64_t now;       /* verification time of last resort, seconds since 1970 (--now) */
    sh_trust trust;    /* roots trusted besides the pinned Apple Root CA (--root) */
    sh_verify_memo *memo; /* CMS verifications already made (NULL: none kept) */
} sh_inspect_options;

typedef struct sh_inspection {
    const char *path;
    uint8_t *data; /* the file's bytes (owned when read by sh_inspect_file) */
    size_t size;
    bool owns_data;
    sh_err read_result;
    const char *read_why;
    sh_err parse_result;
    sh_error parse_err;
    sh_macho_file macho;
    sh_err structure_result;
    sh_error structure_err;
    sh_slice_check *slices; /* macho.nslices entries */
    int exit_code;
} sh_inspection;

/* Runs every check; never fails as a whole: outcomes are recorded in *out.  Free with
 * sh_inspection_free. */
void sh_inspect_file(const char *path, const sh_inspect_options *opt, sh_inspection *out);
/* The same checks on bytes in memory (a bundle's executable, a fuzz input).  data must outlive
 * *out and is not freed by sh_inspection_free; label names it in reports. */
void sh_inspect_bytes(const char *label, const uint8_t *data, size_t size,
                      const sh_inspect_options *opt, sh_inspection *out);
void sh_inspection_free(sh_inspection *in);

void sh_inspection_print_text(const sh_inspection *in, const sh_inspect_options *opt, FILE *out);
void sh_inspection_print_json(const sh_inspection *in, FILE *out);

#endif
