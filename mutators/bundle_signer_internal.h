/* Shared by bundle_signer*.c only (see bundle_signer.h). */
#ifndef SH_BUNDLE_SIGNER_INTERNAL_H
#define SH_BUNDLE_SIGNER_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bundle_signer.h"
#include "bytebuf.h"
#include "coderesources.h"
#include "coderesources_writer.h"
#include "infoplist.h"

#define SH_BSIGN_PATH_SIZE (SH_MAX_BUNDLE_PATH + 1u)

/* "<root>/Contents/<rel>" ("Contents/<rel>" for the root ""; rel NULL: the Contents directory
 * itself).  False when it does not fit SH_MAX_BUNDLE_PATH. */
bool sh_bsign_join(const char *root, const char *rel, char *buf, size_t size);

/* What a bundle's Info.plist names: the parsed plist, its bytes (borrowed from the bundle), and
 * the main executable "<root>/Contents/MacOS/<CFBundleExecutable>" (borrowed too). */
typedef struct sh_bsign_main {
    sh_infoplist info;
    const uint8_t *plist;
    size_t plist_len;
    char exe_path[SH_BSIGN_PATH_SIZE];
    const uint8_t *exe;
    size_t exe_len;
    uint32_t exe_mode;
} sh_bsign_main;

/* Fills m for the bundle at root; SH_SIGN_MALFORMED when the Info.plist or the executable is
 * missing or unusable.  Free m with sh_bsign_main_free (also after a failure). */
sh_sign_status sh_bsign_find_main(const sh_bundle *b, const char *root, sh_bsign_main *m,
                                  sh_sign_result *r);
void sh_bsign_main_free(sh_bsign_main *m);

/* Files a nested bundle's signature must seal as they are now (NULL: not checked). */
typedef struct sh_bsign_sealed {
    const sh_bundle_entry *info;      /* Info.plist, special slot 1 */
    const sh_bundle_entry *resources; /* _CodeSignature/CodeResources, special slot 3 */
} sh_bsign_sealed;

/* The seal of signed Mach-O code (what = its bundle path, for messages): the primary
 * CodeDirectory's cdhash and the designated requirement's text (allocated with alloc; the
 * implicit `cdhash H"..."` when there is none).  Unsigned code, code whose pages no longer match
 * its CodeDirectory, or whose slots do not seal files (may be NULL) as they are, is
 * SH_SIGN_UNSUPPORTED ("sign <what> first (inside out)"). */
sh_sign_status sh_bsign_macho_seal(const uint8_t *data, size_t len, const sh_bsign_sealed *files,
                                   const sh_allocator *alloc, const char *what,
                                   uint8_t cdhash[SH_RES_SHA1_LEN], char **req, sh_sign_result *r);

/* The same for the nested bundle at root: its main executable, which must seal the bundle's
 * current Info.plist and CodeResources (a bundle without CodeResources is unsigned). */
sh_sign_status sh_bsign_bundle_seal(const sh_bundle *b, const char *root,
                                    uint8_t cdhash[SH_RES_SHA1_LEN], char **req, sh_sign_result *r);

/* The rule added to Apple's default rules2 (see bundle_seal.c for why). */
extern const sh_crw_rule sh_bsign_sysext_rule;

/* Appends the CodeResources file for the bundle at root (exe_path: the main executable, which
 * the CodeDirectory seals instead) to out; compiled rules are shared through memo (may be NULL). */
sh_sign_status sh_bsign_seal(const sh_bundle *b, const char *root, const char *exe_path,
                             struct sh_verify_memo *memo, sh_bytebuf *out, sh_sign_result *r);

#endif
