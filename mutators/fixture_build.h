/* Fixture builder: one fixture-spec bundle (fixture_spec.h) -> a signed app with a system
 * extension in memory, in the shape Xcode produces (codesign-formats.md sections 6 and 7):
 *
 *   <App>.app/Contents/Info.plist                  APPL, versions, LSMinimumSystemVersion ...
 *   <App>.app/Contents/PkgInfo                     "APPL????"
 *   <App>.app/Contents/MacOS/<App>                 fat arm64 + x86_64 (archs), macho_synth
 *   <App>.app/Contents/Resources/AppIcon.icns, Base.lproj/Main.storyboardc/...
 *   <App>.app/Contents/embedded.provisionprofile   the app's profile
 *   <App>.app/Contents/Library/SystemExtensions/<ext-id>.systemextension   (driver: .dext)
 *       Contents/Info.plist   SYSX (DEXT) + the category keys: NetworkExtension
 *                             {NEMachServiceName, NEProviderClasses}, NSEndpointSecurity-
 *                             MachServiceName, CMIOExtension {CMIOExtensionMachServiceName} or
 *                             IOKitPersonalities + OSBundleUsageDescription;
 *                             NSSystemExtensionUsageDescription for non-dexts
 *       Contents/MacOS/<ext-id>, Contents/embedded.provisionprofile
 *
 * Mach service names are "<app-group>.<last component of the extension id>" (ES adds ".xpc"),
 * so they lie under the app group the extension holds.  The dext uses the Contents/ layout the
 * bundle signer handles (real dexts may be shallow bundles: unconfirmed).
 *
 * Entitlements (app / extension):
 *   both: com.apple.application-identifier TEAM.<id>, com.apple.developer.team-identifier TEAM,
 *         com.apple.security.app-sandbox (sandbox yes; never on a dext),
 *         com.apple.security.get-task-allow (get-task-allow yes: Xcode's debug injection)
 *   app: com.apple.developer.system-extension.install; network: the NE value too; non-driver:
 *        com.apple.security.application-groups [group]
 *   extension: network: com.apple.developer.networking.networkextension [<provider value>]
 *        ("-systemextension" suffix under Developer ID); ES: endpoint-security.client; driver:
 *        com.apple.developer.driverkit; non-driver: application-groups [group]
 * Each profile's Entitlements allow-list is exactly the entitlements of the code it ships in,
 * so sh_profile_check_entitlements accepts every signed key.
 *
 * Signing: extension, then app (sh_sign_bundle), identity from corpus/pki, hardened runtime and
 * secure timestamp as the spec says, at SH_FX_SIGNING_TIME.  Profiles: Developer ID (all
 * devices) or Development (SH_FX_DEVICE_UDID), created SH_FX_PROFILE_CREATED, expiring
 * SH_FX_PROFILE_EXPIRES.  Everything is a pure function of the spec and the PKI files. */
#ifndef SH_FIXTURE_BUILD_H
#define SH_FIXTURE_BUILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bundle.h"
#include "fixture_spec.h"

struct sh_pki_keyring;

#define SH_FX_SIGNING_TIME 1717243200    /* 2024-06-01T12:00:00Z */
#define SH_FX_PROFILE_CREATED 1714564800 /* 2024-05-01T12:00:00Z */
/* Developer ID: 6570 days (Apple's TimeToLive); Development: also far ahead (real ones live a
 * year) so the fixtures stay valid at any "now" the certificates allow (they end 2040). */
#define SH_FX_PROFILE_EXPIRES_DEVID (SH_FX_PROFILE_CREATED + 6570LL * 86400)
#define SH_FX_PROFILE_EXPIRES_DEV 2206008000LL /* 2039-11-27T12:00:00Z */
#define SH_FX_DEVICE_UDID "00008103-001A2B3C4D5E6F70" /* the Mac the Development profile lists */

#define SH_FX_MAX_CDHASHES 4u /* app + extension, two architectures each */
#define SH_FX_PATH_SIZE 256u

typedef struct sh_fx_cdhash {
    const char *code;  /* "app" or "extension" */
    const char *arch;  /* "arm64", "x86_64" */
    uint8_t cdhash[20]; /* primary (slot 0) CodeDirectory hash, truncated as tickets use it */
} sh_fx_cdhash;

typedef struct sh_fx_built {
    sh_bundle bundle;                     /* rooted at the .app: "Contents/Info.plist" ... */
    char app_dir[SH_FX_PATH_SIZE];        /* "<App>.app" */
    char extension_root[SH_FX_PATH_SIZE]; /* "Contents/Library/SystemExtensions/<id>.systemextension" */
    sh_fx_cdhash cdhashes[SH_FX_MAX_CDHASHES]; /* extension slices, then app slices */
    size_t ncdhashes;
    char description[4 * SH_FX_TEXT_SIZE];
} sh_fx_built;

/* Builds and signs spec's bundle with the PKI in pki_dir (NULL: corpus/pki).  False with why
 * (what failed: loading an identity, synthesising, signing ...) on failure; out is then empty.
 * Free with sh_fx_built_free either way. */
bool sh_fx_build(const sh_fx_bundle *spec, const char *pki_dir, const sh_allocator *alloc,
                 sh_fx_built *out, char *why, size_t why_size);
/* The same with identities already loaded (a run building many bundles). */
bool sh_fx_build_keyed(const sh_fx_bundle *spec, const struct sh_pki_keyring *keys,
                       const sh_allocator *alloc, sh_fx_built *out, char *why, size_t why_size);
void sh_fx_built_free(sh_fx_built *b);

/* The cdhash as 40 lower-case hex digits (out >= 41 bytes). */
void sh_fx_cdhash_hex(const uint8_t cdhash[20], char *out);

#endif
