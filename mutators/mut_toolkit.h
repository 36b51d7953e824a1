/* What mutators are made of: reading and writing plists inside a bundle, finding a bundle's main
 * executable, learning how a bundle was signed, and re-signing it "as before, except ...". */
#ifndef SH_MUT_TOOLKIT_H
#define SH_MUT_TOOLKIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <plist/plist.h>

#include "mutation.h"
#include "pki.h"

/* True when the bundle has a system extension; otherwise false with ctx->why set. */
bool sh_mut_need_extension(sh_mut_ctx *ctx);

/* "<root>/Contents/<rel>" (root "" gives "Contents/<rel>"); false when it does not fit. */
bool sh_mut_path(char *out, size_t size, const char *root, const char *rel);

/* Parses the plist at path (XML or binary, through the project's plist guard); the caller
 * frees *out with plist_free.  False with ctx->why set. */
bool sh_mut_plist_read(sh_mut_ctx *ctx, const char *path, plist_t *out);
/* Writes p as an XML plist at path (mode 0644). */
bool sh_mut_plist_write(sh_mut_ctx *ctx, const char *path, plist_t p);
/* Reads <root>/Contents/Info.plist, lets edit change it, writes it back. */
bool sh_mut_edit_info(sh_mut_ctx *ctx, const char *root, bool (*edit)(plist_t dict, void *arg),
                      void *arg);

/* <root>/Contents/MacOS/<CFBundleExecutable>. */
bool sh_mut_main_executable(sh_mut_ctx *ctx, const char *root, char *out, size_t size);

/* How the bundle at root is signed now (from its main executable's first slice). */
typedef struct sh_mut_signing {
    char identity[32];    /* corpus/pki identity of the same kind and team; "" for ad hoc */
    char identifier[256]; /* CodeDirectory identifier */
    bool runtime;         /* CS_RUNTIME */
    bool timestamp;       /* the CMS carries a secure timestamp */
    plist_t entitlements; /* the XML entitlements blob as a dict; NULL when none (owned) */
} sh_mut_signing;
bool sh_mut_signing_read(sh_mut_ctx *ctx, const char *root, sh_mut_signing *out);
void sh_mut_signing_free(sh_mut_signing *s);

/* The test-PKI identity `name` (file base or CN) and the timestamp authority: from ctx->keys when
 * set, else loaded into *scratch.  The caller frees *scratch either way (it may stay zeroed).
 * NULL with ctx->why set. */
const sh_pki_identity *sh_mut_identity(sh_mut_ctx *ctx, const char *name, sh_pki_identity *scratch);
const sh_pki_tsa *sh_mut_tsa(sh_mut_ctx *ctx, sh_pki_tsa *scratch);

/* Overrides for a re-signing; fields left at their zero value keep what the bundle had. */
typedef struct sh_mut_resign {
    const char *identity;   /* corpus/pki name, "-" for ad hoc; NULL: as before */
    int timestamp;          /* -1 no, 1 yes, 0 as before */
    int runtime;            /* -1 off, 1 on, 0 as before */
    plist_t entitlements;   /* replacement dict (borrowed); NULL: as before */
    bool no_entitlements;   /* drop them */
} sh_mut_resign;

/* Re-signs the bundle at root with the test PKI (force), keeping its profile and everything
 * the overrides do not change. */
bool sh_mut_resign_root(sh_mut_ctx *ctx, const char *root, const sh_mut_resign *o);
/* Re-signs the extension with ext (NULL: as before), then the app with app (NULL: as before),
 * inside out, as a developer rebuilding the product would. */
bool sh_mut_resign_all(sh_mut_ctx *ctx, const sh_mut_resign *ext, const sh_mut_resign *app);
/* The extension rebuilt (CFBundleVersion 2) and re-signed with o (NULL: as before); the app is
 * left as it was signed. */
bool sh_mut_rebuild_extension(sh_mut_ctx *ctx, const sh_mut_resign *o);

/* ---- provisioning profiles (mut_profile.c) ---- */

/* Edits the plist of a profile in place; false with ctx->why set to give up. */
typedef bool (*sh_mut_profile_edit)(sh_mut_ctx *ctx, plist_t profile, void *arg);
/* Unwraps <root>/Contents/embedded.provisionprofile, lets edit change its plist, and wraps it
 * again in a CMS signed by the test PKI's "profile-signer" at ctx->signing_time.  The code is
 * NOT re-signed: the profile is a sealed resource, so callers re-sign inside out afterwards. */
bool sh_mut_profile_rewrite(sh_mut_ctx *ctx, const char *root, sh_mut_profile_edit edit, void *arg);
/* Sets the profile's DeveloperCertificates to the leaf of the corpus/pki identity named. */
bool sh_mut_profile_set_certificate(sh_mut_ctx *ctx, plist_t profile, const char *identity);

#endif
