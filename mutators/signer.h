/* The Mach-O signer behind `sigharness sign`: signs a thin or fat Mach-O in memory the way
 * codesign does (codesign-formats.md sec. 1-4).
 *
 * Per slice (64-bit little-endian): an existing signature is replaced only with force; the code
 * limit is where the old signature started (or the end of __LINKEDIT), aligned to 16;
 * LC_CODE_SIGNATURE is rewritten, or added in the header padding when absent (refused when the
 * padding before the first section's data is too small); __LINKEDIT filesize covers the
 * signature, and vmsize grows (to a page multiple) only when filesize outgrows it, so a linker's
 * own vmsize survives a same-size re-signing; the space reserved for the signature is the
 * SuperBlob with the CMS estimate of sh_cms_sign_reserve (fixed per identity), zero padded,
 * 16-aligned.  The signature holds the CodeDirectory (SHA-256, or SHA-1 in slot 0 + SHA-256 in
 * 0x1000), the requirement set (designated requirement of Apple's shape for the identity kind,
 * empty for ad hoc), the entitlements XML and DER blobs when given, and the CMS (cms_sign.h;
 * empty wrapper for ad hoc); the linker layouts (sh_sign_layout) hold the CodeDirectory alone.
 * Fat files: each slice signed on its own and the fat file rebuilt (lipo placement).
 *
 * The input is untrusted: it is read through the Mach-O parser; every size is checked.  Same
 * input and options, same bytes. */
#ifndef SH_SIGNER_H
#define SH_SIGNER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bytebuf.h"
#include "pki.h"

/* How the signature is laid out.  codesign's layout seals and embeds the requirement set and a
 * CMS blob wrapper.  The linker layouts are what Go's linker and ld64.lld write when they sign
 * ad hoc at link time: a SuperBlob holding only the CodeDirectory (no special slots), so that
 * re-signing a linker's output can reproduce its CodeDirectory byte for byte
 * (tests/test_sign_differential.c).  They need an ad-hoc signature with nothing else to seal. */
typedef enum sh_sign_layout {
    SH_SIGN_LAYOUT_CODESIGN = 0,
    /* Go (cmd/internal/codesign): Apple's CodeDirectory layout; LC_CODE_SIGNATURE datasize is
     * the SuperBlob's exact size (not rounded to 16). */
    SH_SIGN_LAYOUT_GO,
    /* ld64.lld: the SuperBlob index is padded to 8 (CodeDirectory at offset 24) and the
     * identifier is zero-padded so the hashes start 16-aligned in the SuperBlob. */
    SH_SIGN_LAYOUT_LLD,
} sh_sign_layout;

typedef struct sh_sign_options {
    const char *identifier;          /* required: the CodeDirectory identifier */
    const sh_pki_identity *identity; /* NULL: ad hoc ("-") */
    const sh_pki_tsa *tsa;           /* NULL: no secure timestamp (--timestamp=none) */
    const uint8_t *entitlements;     /* XML plist file bytes, NULL: none */
    size_t entitlements_len;
    bool runtime;                    /* --options runtime: CS_RUNTIME, CD version 0x20500 */
    bool force;                      /* replace an existing signature */
    bool dual_hash;                  /* SHA-1 CodeDirectory in slot 0 plus a SHA-256 alternate */
    int64_t signing_time;            /* signingTime attribute and timestamp genTime */
    /* Bundle special slots, hashed with each CodeDirectory's hash type (NULL: not sealed):
     * the Info.plist file (slot 1) and the _CodeSignature/CodeResources file (slot 3).
     * nSpecialSlots is the highest slot sealed (3, or 5 / 7 with entitlements). */
    const uint8_t *info_plist;
    size_t info_plist_len;
    const uint8_t *resources;
    size_t resources_len;
    uint32_t extra_flags; /* more CodeDirectory flags (SH_CS_LINKER_SIGNED, SH_CS_HARD, ...); only
                             those CS_ALLOWED_MACHO lists */
    uint8_t page_shift;   /* log2 of the hashed page size, up to SH_MAX_PAGE_SHIFT; 0: 12 (4 KiB,
                             what codesign and both linkers hash on every architecture) */
    sh_sign_layout layout;
    /* Explicit requirement set text, as `codesign -r` takes it ("designated => ..."; also host,
     * guest, library, plugin), compiled in place of the default set; NULL: the default
     * (designated requirement of Apple's shape, or an empty set for ad hoc). */
    const char *requirements_text;
} sh_sign_options;

typedef enum sh_sign_status {
    SH_SIGN_OK = 0,
    SH_SIGN_INVALID_ARGUMENT,  /* options missing or unusable (identifier, identity kind) */
    SH_SIGN_ALREADY_SIGNED,    /* a slice has a signature and force is off */
    SH_SIGN_MALFORMED,         /* the input does not parse as Mach-O */
    SH_SIGN_UNSUPPORTED,       /* 32-bit / big-endian slices, FAT_MAGIC_64, no __LINKEDIT ... */
    SH_SIGN_NO_ROOM,           /* no room in the header padding for LC_CODE_SIGNATURE */
    SH_SIGN_BAD_ENTITLEMENTS,  /* the entitlements file is not an encodable XML plist dict */
    SH_SIGN_FAILED,            /* memory, size limits, OpenSSL */
} sh_sign_status;

typedef struct sh_sign_result {
    sh_sign_status status;
    char message[320]; /* what failed and where ("slice 1 (arm64): ...") */
} sh_sign_result;

void sh_sign_options_init(sh_sign_options *o, const char *identifier);

/* Appends the signed file to out (which must not alias in).  On failure out is untouched and r
 * says why. */
sh_sign_status sh_sign_macho(const uint8_t *in, size_t len, const sh_sign_options *o,
                             sh_bytebuf *out, sh_sign_result *r);

/* The designated requirement (one expression, no "designated =>") Apple issues for identity
 * and identifier; "" for ad hoc (identity NULL).  False when it does not fit or the identity
 * cannot sign code. */
bool sh_sign_designated_text(const sh_pki_identity *identity, const char *identifier, char *buf,
                             size_t size);

#endif
