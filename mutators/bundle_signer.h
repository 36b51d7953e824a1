/* Bundle signing, inside out, in memory (codesign-formats.md section 7).
 *
 * sh_sign_bundle signs ONE bundle of an sh_bundle: the app (root "") or a nested bundle such as
 * "Contents/Library/SystemExtensions/com.example.app.ext.systemextension" or a ".dext".  Nested
 * code must already be signed (the caller signs the extension first, then the app, as codesign
 * must be run without --deep).  Steps, in codesign's order:
 *  1. place the provisioning profile (if given) at <root>/Contents/embedded.provisionprofile;
 *  2. read <root>/Contents/Info.plist; the main executable is <root>/Contents/MacOS/<CFBundleExecutable>;
 *     the identifier defaults to CFBundleIdentifier;
 *  3. seal the resources: every entry under <root>/Contents except the main executable and
 *     _CodeSignature, with Apple's default rules plus one nested rule for
 *     "^Library/SystemExtensions/" (so a system extension is sealed as nested code by its cdhash
 *     and designated requirement; see the note in bundle_signer.c); write
 *     <root>/Contents/_CodeSignature/CodeResources;
 *  4. sign the main executable (thin or fat) with special slots Info.plist (1), requirements (2),
 *     resources (3, the CodeResources bytes), entitlements XML (5) and DER (7).
 * Same bundle and options, same bytes. */
#ifndef SH_BUNDLE_SIGNER_H
#define SH_BUNDLE_SIGNER_H

#include <stddef.h>
#include <stdint.h>

#include "bundle.h"
#include "signer.h"

typedef struct sh_bundle_sign_options {
    /* identifier may be NULL (CFBundleIdentifier); the slot hashes are filled in here. */
    sh_sign_options code;
    const uint8_t *profile; /* embedded.provisionprofile bytes to place; NULL: leave as is */
    size_t profile_len;
    struct sh_verify_memo *memo; /* compiled resource rules kept for later signings (NULL: none) */
} sh_bundle_sign_options;

void sh_bundle_sign_options_init(sh_bundle_sign_options *o);

/* Signs the bundle at root (a directory entry of b, or "" for b's root).  On failure b is
 * unchanged and r says why (SH_SIGN_MALFORMED for a bundle without Info.plist / executable,
 * SH_SIGN_UNSUPPORTED for nested code that is unsigned). */
sh_sign_status sh_sign_bundle(sh_bundle *b, const char *root, const sh_bundle_sign_options *o,
                              sh_sign_result *r);

/* The cdhash (first 20 bytes of the primary CodeDirectory's hash, as CodeResources records it)
 * and designated requirement text of the already signed bundle at root, for sealing it as
 * nested code.  req receives "" when the signature has no designated requirement and codesign
 * would use an implicit one (then the implicit cdhash requirement text is written). */
sh_sign_status sh_bundle_nested_seal(const sh_bundle *b, const char *root, uint8_t cdhash[20],
                                     char *req, size_t req_size, sh_sign_result *r);

#endif
