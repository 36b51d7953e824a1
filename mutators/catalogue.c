/* THE catalogue: every named mutator with the situation it models and the verdict it must cause.
 *
 * Expectations come from ../shared/reference/codesign-formats.md (8c row numbers cited per entry)
 * and the notary service's messages from Apple's "Resolving common notarization issues" (RCNI),
 * verbatim.  `launch` is a prefix of the verdict engine's launch sentence.  The development
 * expectation is judged under --policy development on the Development bases; its notary field is
 * not compared (notarisation does not apply there). */
#include "catalogue.h"

#include "errors.h"

#define EXPECT(sysext, errsec, static_errsec, notary, launch) \
    { sysext, errsec, static_errsec, notary, launch, false }
/* A finding on the host app that makes amfid kill it at launch (8c#5): no request is made. */
#define APP_KILLED(errsec, notary) { 0, errsec, 0, notary, "not launched", true }

/* RCNI messages. */
#define NOTARY_INVALID "The signature of the binary is invalid."
#define NOTARY_NOT_DEVID "The binary is not signed with a valid Developer ID certificate."
#define NOTARY_NO_TIMESTAMP "The signature does not include a secure timestamp."
#define NOTARY_NO_RUNTIME "The executable does not have the hardened runtime enabled."
#define NOTARY_GET_TASK_ALLOW \
    "The executable requests the com.apple.security.get-task-allow entitlement."

#define NOT_LAUNCHED "not launched"

/* Static validation of the extension fails with status e: code 8, and codesign --deep reports
 * the same status for the app (in the subcomponent); the notary service, which validates the
 * submitted bundle's signatures first, refuses the upload with its "invalid signature" message
 * (also for an empty or missing executable: the seal cannot be validated; L). */
#define STATIC_BREAK(e) EXPECT(8, e, e, NOTARY_INVALID, NOT_LAUNCHED)

/* A neutral mutator's row: the verdict stays the base's (activation succeeds, nothing from the
 * notary service); sh_mutate judges neutral-only compositions by this same rule. */
#define NEUTRAL_SAME EXPECT(0, 0, 0, NULL, "launches")

const sh_mutator sh_catalogue[] = {
    /* ---- files ---- */
    {"extension-executable-zero-byte", "truncate the extension's main executable to 0 bytes",
     "a copy or download step left an empty binary in the bundle (forum reports of a zero-byte "
     "executable after a broken archive step); 8c#17",
     SH_MUT_STATIC, 0, SH_TOUCH_EXT_CODE,
     STATIC_BREAK(errSecCSUnsigned),
     EXPECT(8, errSecCSUnsigned, errSecCSUnsigned, NULL, NOT_LAUNCHED),
     sh_mut_extension_executable_zero_byte},
    {"extension-executable-truncated", "cut the extension's main executable in half",
     "an interrupted copy; the Mach-O header still describes segments past the end of the file",
     SH_MUT_STATIC, 0, SH_TOUCH_EXT_CODE, STATIC_BREAK(errSecCSBadObjectFormat),
     EXPECT(8, errSecCSBadObjectFormat, errSecCSBadObjectFormat, NULL, NOT_LAUNCHED),
     sh_mut_extension_executable_truncated},
    {"extension-code-page-flipped", "flip one bit in the last code page of the extension",
     "the binary was patched after signing (a post-build step, strip, a byte-level edit); 8c#13",
     SH_MUT_STATIC, 0, SH_TOUCH_EXT_CODE, STATIC_BREAK(errSecCSSignatureFailed),
     EXPECT(8, errSecCSSignatureFailed, errSecCSSignatureFailed, NULL, NOT_LAUNCHED),
     sh_mut_extension_code_page_flipped},
    {"extension-info-plist-edited", "change the extension's CFBundleShortVersionString after signing",
     "a build script bumped the version in Info.plist after code signing; 8c#14",
     SH_MUT_STATIC, 0, "^" SH_EXT_RE "/Contents/Info\\.plist$",
     STATIC_BREAK(errSecCSInfoPlistFailed),
     EXPECT(8, errSecCSInfoPlistFailed, errSecCSInfoPlistFailed, NULL, NOT_LAUNCHED),
     sh_mut_extension_info_plist_edited},
    {"extension-resource-modified", "append a byte to the extension's sealed embedded profile",
     "a sealed resource was replaced after signing (e.g. a profile swapped in by hand); 8c#15",
     SH_MUT_STATIC, 0, "^" SH_EXT_RE "/Contents/embedded\\.provisionprofile$",
     STATIC_BREAK(errSecCSBadResource),
     EXPECT(8, errSecCSBadResource, errSecCSBadResource, NULL, NOT_LAUNCHED),
     sh_mut_extension_resource_modified},
    {"extension-resource-added", "add Contents/Resources/notes.txt to the extension after signing",
     "a file was copied into the signed extension (codesign: \"file added\"); 8c#15",
     SH_MUT_STATIC, 0, "^" SH_EXT_RE "/Contents/Resources(/notes\\.txt)?$",
     STATIC_BREAK(errSecCSBadResource),
     EXPECT(8, errSecCSBadResource, errSecCSBadResource, NULL, NOT_LAUNCHED),
     sh_mut_extension_resource_added},
    {"extension-resource-deleted", "delete the extension's sealed embedded profile",
     "a packaging step dropped a sealed file (codesign: \"file missing\"); 8c#15",
     SH_MUT_STATIC, 0, "^" SH_EXT_RE "/Contents/embedded\\.provisionprofile$",
     STATIC_BREAK(errSecCSBadResource),
     EXPECT(8, errSecCSBadResource, errSecCSBadResource, NULL, NOT_LAUNCHED),
     sh_mut_extension_resource_deleted},
    {"app-resource-modified", "flip a bit in the first file under the app's Contents/Resources",
     "an asset was re-exported into the signed app; static validation of the host app fails "
     "(8c#15; the activation code for an invalid host app is inferred, L)",
     SH_MUT_STATIC, 0, "^Contents/Resources/", STATIC_BREAK(errSecCSBadResource),
     EXPECT(8, errSecCSBadResource, errSecCSBadResource, NULL, NOT_LAUNCHED),
     sh_mut_app_resource_modified},
    {"extension-coderesources-edited", "append a newline to the extension's _CodeSignature/CodeResources",
     "the resource seal was edited or regenerated without re-signing; 8c#16",
     SH_MUT_STATIC, 0, "^" SH_EXT_RE "/Contents/_CodeSignature/CodeResources$",
     STATIC_BREAK(errSecCSResourceDirectoryFailed),
     EXPECT(8, errSecCSResourceDirectoryFailed, errSecCSResourceDirectoryFailed, NULL,
            NOT_LAUNCHED),
     sh_mut_extension_coderesources_edited},
    {"extension-codesignature-extra-file", "add CodeResources.orig to the extension's _CodeSignature",
     "a merge tool or editor left a backup file in _CodeSignature; 8c#28",
     SH_MUT_STATIC, 0, "^" SH_EXT_RE "/Contents/_CodeSignature/CodeResources\\.orig$",
     STATIC_BREAK(errSecCSUnsealedAppRoot),
     EXPECT(8, errSecCSUnsealedAppRoot, errSecCSUnsealedAppRoot, NULL, NOT_LAUNCHED),
     sh_mut_extension_codesignature_extra_file},
    {"extension-executable-deleted", "delete the extension's main executable",
     "the build product was cleaned after embedding; the bundle format is broken (Security's "
     "BundleDiskRep refuses a bundle without its executable: errSecCSBadBundleFormat, L)",
     SH_MUT_STATIC, 0, "^" SH_EXT_RE "/Contents/MacOS/",
     STATIC_BREAK(errSecCSBadBundleFormat),
     EXPECT(8, errSecCSBadBundleFormat, errSecCSBadBundleFormat, NULL, NOT_LAUNCHED),
     sh_mut_extension_executable_deleted},
    {"extension-symlink-out-of-bundle",
     "seal a symlink Resources/hosts -> /etc/hosts in the extension (re-signed inside out)",
     "a resource was added as a symlink to a system file; codesign --strict refuses links that "
     "leave the bundle (errSecCSInvalidSymlink)",
     SH_MUT_STATIC, 0, SH_TOUCH_RESIGNED "|(^" SH_EXT_RE "/Contents/Resources(/hosts)?$)",
     STATIC_BREAK(errSecCSInvalidSymlink),
     EXPECT(8, errSecCSInvalidSymlink, errSecCSInvalidSymlink, NULL, NOT_LAUNCHED),
     sh_mut_extension_symlink_out_of_bundle},

    /* ---- plists, entitlements, profiles (catalogue_plist.c) ----
     * Each models a rebuilt, re-signed and resubmitted product: the notary preflight accepts it
     * (it does not read profiles or Info.plist keys), so the plist-level rule decides.
     * errSecCS for a profile / restricted-entitlement failure: the reference names no status
     * (amfid logs -413 "No matching profile found" and -67671, 8c#5); we expect
     * errSecCSInvalidEntitlements -66994, the CSCommon.h status for "entitlements not valid"
     * (L), except errSecCSInvalidPlatform -67005 for the platform check. codesign --verify does
     * not read profiles (8c#5 "profiles not checked"), so static is 0 throughout. */
    {"extension-ne-plain-values-devid",
     "re-sign the Developer ID extension with the plain networkextension values (no "
     "-systemextension suffix), profile unchanged",
     "Xcode's .entitlements carries the Development values into a Developer ID build; amfid "
     "-413 \"No matching profile found\", Unsatisfied entitlements: networkextension (8c#4, "
     "M; T737894, T795579)",
     SH_MUT_PROFILE, SH_FIT_NETWORK | SH_FIT_DEVELOPER_ID, SH_TOUCH_RESIGNED,
     EXPECT(8, errSecCSInvalidEntitlements, 0, NULL, NOT_LAUNCHED),
     EXPECT(8, errSecCSInvalidEntitlements, 0, NULL, NOT_LAUNCHED),
     sh_mut_extension_ne_plain_values},
    {"extension-unauthorised-entitlement",
     "re-sign the extension with a restricted entitlement its profile does not list "
     "(endpoint-security.client; driverkit for an ES client)",
     "a capability added to the .entitlements but not to the App ID: amfid \"Unsatisfied "
     "entitlements\", the extension fails validation with 8 (8c#5, H logs / M code)",
     SH_MUT_PROFILE, 0, SH_TOUCH_RESIGNED,
     EXPECT(8, errSecCSInvalidEntitlements, 0, NULL, NOT_LAUNCHED),
     EXPECT(8, errSecCSInvalidEntitlements, 0, NULL, NOT_LAUNCHED),
     sh_mut_extension_unauthorised_entitlement},
    {"get-task-allow-distribution",
     "re-sign app and extension with com.apple.security.get-task-allow = true and resubmit",
     "a Debug build (Xcode injects get-task-allow, section 9) sent to the notary service: it is "
     "rejected (8c#3, RCNI), so the code stays unnotarised: 8 / -67050 as row 2 resolved by "
     "section 9; get-task-allow needs no profile on macOS (section 6)",
     SH_MUT_NOTARIZATION, SH_FIT_DEVELOPER_ID, SH_TOUCH_RESIGNED,
     EXPECT(8, errSecCSReqFailed, 0, NOTARY_GET_TASK_ALLOW, NOT_LAUNCHED),
     EXPECT(0, 0, 0, NULL, "launches; debuggable"),
     sh_mut_get_task_allow_distribution},
    {"app-missing-install-entitlement",
     "re-sign the app without com.apple.developer.system-extension.install (its profile still "
     "lists it)",
     "the System Extension capability was dropped from the app target: the request fails with "
     "MissingEntitlement (8c#21, M).  A profile only allows entitlements, it never adds them "
     "(section 6), so the profile still listing the key changes nothing",
     SH_MUT_REQUEST, 0, SH_TOUCH_APP_CODE,
     EXPECT(2, 0, 0, NULL, NOT_LAUNCHED), EXPECT(2, 0, 0, NULL, NOT_LAUNCHED),
     sh_mut_app_missing_install_entitlement},
    {"app-install-entitlement-not-in-profile",
     "regenerate the app's profile without system-extension.install and re-sign the app",
     "the app signs the install entitlement but its App ID lacks the capability: \"Unsatisfied "
     "entitlements: com.apple.developer.system-extension.install\", amfid kills the app at "
     "launch, no request is made (8c#22 -> 8c#5, H)",
     SH_MUT_PROFILE, 0, "^Contents/(MacOS/|_CodeSignature/CodeResources$|embedded\\.provisionprofile$)",
     APP_KILLED(errSecCSInvalidEntitlements, NULL), APP_KILLED(errSecCSInvalidEntitlements, NULL),
     sh_mut_app_install_entitlement_not_in_profile},
    {"extension-profile-expired",
     "embed an extension profile that expired the day before signing, re-signed inside out",
     "a stale profile from the build machine's cache: TN3125 says it must not be expired; the "
     "extension fails validation, 8 (8c#19, L: \"app killed by amfid, or 8\"; for the extension "
     "amfid's refusal surfaces as 8 as in 8c#5)",
     SH_MUT_PROFILE, 0, SH_TOUCH_RESIGNED "|(^" SH_EXT_RE "/Contents/embedded\\.provisionprofile$)",
     EXPECT(8, errSecCSInvalidEntitlements, 0, NULL, NOT_LAUNCHED),
     EXPECT(8, errSecCSInvalidEntitlements, 0, NULL, NOT_LAUNCHED),
     sh_mut_extension_profile_expired},
    {"extension-profile-lacks-signing-certificate",
     "regenerate the extension's profile listing only the team's other-kind certificate",
     "the signing certificate was renewed (or is of the other kind) and the profile was not "
     "regenerated: DeveloperCertificates must contain the signing leaf (section 6, TN3125, M); "
     "amfid refuses, 8 (8c#5)",
     SH_MUT_PROFILE, 0, SH_TOUCH_RESIGNED "|(^" SH_EXT_RE "/Contents/embedded\\.provisionprofile$)",
     EXPECT(8, errSecCSInvalidEntitlements, 0, NULL, NOT_LAUNCHED),
     EXPECT(8, errSecCSInvalidEntitlements, 0, NULL, NOT_LAUNCHED),
     sh_mut_extension_profile_lacks_certificate},
    {"extension-profile-ios-platform",
     "regenerate the extension's profile with Platform [iOS]",
     "an iOS profile for the same App ID was downloaded by mistake: Platform must match "
     "(section 6, TN3125, M); 8 (8c#5); status errSecCSInvalidPlatform -67005 by its name (L)",
     SH_MUT_PROFILE, 0, SH_TOUCH_RESIGNED "|(^" SH_EXT_RE "/Contents/embedded\\.provisionprofile$)",
     EXPECT(8, errSecCSInvalidPlatform, 0, NULL, NOT_LAUNCHED),
     EXPECT(8, errSecCSInvalidPlatform, 0, NULL, NOT_LAUNCHED),
     sh_mut_extension_profile_ios},
    {"extension-profile-app-id-mismatch",
     "regenerate the extension's profile for another App ID of the same team",
     "the app's (or a sibling target's) profile embedded in the extension: application-"
     "identifier must be <prefix>.<CFBundleIdentifier> (section 6, M); 8 (8c#5)",
     SH_MUT_PROFILE, 0, SH_TOUCH_RESIGNED "|(^" SH_EXT_RE "/Contents/embedded\\.provisionprofile$)",
     EXPECT(8, errSecCSInvalidEntitlements, 0, NULL, NOT_LAUNCHED),
     EXPECT(8, errSecCSInvalidEntitlements, 0, NULL, NOT_LAUNCHED),
     sh_mut_extension_profile_app_id_mismatch},
    {"extension-development-profile-devid",
     "embed a Development profile (device list, Apple Development certificate) in the Developer "
     "ID extension, re-signed inside out",
     "Xcode kept the Debug profile for the Developer ID export: the extension needs a Developer "
     "ID profile (section 9, T737894); amfid refuses, 8 (8c#5)",
     SH_MUT_PROFILE, SH_FIT_DEVELOPER_ID,
     SH_TOUCH_RESIGNED "|(^" SH_EXT_RE "/Contents/embedded\\.provisionprofile$)",
     EXPECT(8, errSecCSInvalidEntitlements, 0, NULL, NOT_LAUNCHED),
     EXPECT(8, errSecCSInvalidEntitlements, 0, NULL, NOT_LAUNCHED),
     sh_mut_extension_development_profile},
    {"app-development-profile-devid",
     "embed a Development profile in the Developer ID app and re-sign the app",
     "the app target kept its Debug profile: the app needs a Developer ID profile (section 9); "
     "its restricted entitlements are not validated and amfid kills it at launch (8c#5, H)",
     SH_MUT_PROFILE, SH_FIT_DEVELOPER_ID,
     "^Contents/(MacOS/|_CodeSignature/CodeResources$|embedded\\.provisionprofile$)",
     APP_KILLED(errSecCSInvalidEntitlements, NULL), APP_KILLED(errSecCSInvalidEntitlements, NULL),
     sh_mut_app_development_profile},
    {"extension-profile-missing",
     "delete the extension's embedded.provisionprofile and re-sign inside out",
     "the extension target has no provisioning profile but signs restricted entitlements: a "
     "profile is required for them (section 6; 8c#5: -413 \"No matching profile found\"), 8",
     SH_MUT_PROFILE, 0, SH_TOUCH_RESIGNED "|(^" SH_EXT_RE "/Contents/embedded\\.provisionprofile$)",
     EXPECT(8, errSecCSInvalidEntitlements, 0, NULL, NOT_LAUNCHED),
     EXPECT(8, errSecCSInvalidEntitlements, 0, NULL, NOT_LAUNCHED),
     sh_mut_extension_profile_missing},
    {"extension-missing-bundle-identifier",
     "remove CFBundleIdentifier from the extension's Info.plist, re-signed inside out",
     "a hand-written Info.plist without PRODUCT_BUNDLE_IDENTIFIER: ExtensionMissingIdentifier "
     "(8c#9, M name / L trigger; codesign signs it, using the identifier it is given)",
     SH_MUT_DISCOVERY, 0, SH_TOUCH_RESIGNED "|(^" SH_EXT_RE "/Contents/Info\\.plist$)",
     EXPECT(5, 0, 0, NULL, NOT_LAUNCHED), EXPECT(5, 0, 0, NULL, NOT_LAUNCHED),
     sh_mut_extension_missing_identifier},
    {"extension-unknown-category",
     "remove the category keys (NetworkExtension, NSEndpointSecurityMachServiceName, "
     "CMIOExtension) from the extension's Info.plist, re-signed",
     "an extension target made from the generic template, no category declared: "
     "UnknownExtensionCategory (8c#11, M; section 7 category table, L trigger). Not for a "
     ".dext, whose category is its bundle type",
     SH_MUT_DISCOVERY, SH_FIT_NETWORK | SH_FIT_ENDPOINT_SECURITY | SH_FIT_CAMERA,
     SH_TOUCH_RESIGNED "|(^" SH_EXT_RE "/Contents/Info\\.plist$)",
     EXPECT(7, 0, 0, NULL, NOT_LAUNCHED), EXPECT(7, 0, 0, NULL, NOT_LAUNCHED),
     sh_mut_extension_unknown_category},
    {"extension-usage-description-missing",
     "remove NSSystemExtensionUsageDescription from the (non-dext) extension, re-signed",
     "the key doc says a missing usage description is an error at activation (8c#23, M); the "
     "code is not documented, 9 ValidationFailed is the reference's \"probably 9\" (L)",
     SH_MUT_PROFILE, SH_FIT_NETWORK | SH_FIT_ENDPOINT_SECURITY | SH_FIT_CAMERA,
     SH_TOUCH_RESIGNED "|(^" SH_EXT_RE "/Contents/Info\\.plist$)",
     EXPECT(9, 0, 0, NULL, NOT_LAUNCHED), EXPECT(9, 0, 0, NULL, NOT_LAUNCHED),
     sh_mut_extension_usage_description_missing},
    {"extension-mach-service-outside-app-group",
     "rename the extension's NEMachServiceName / CMIOExtensionMachServiceName outside its app "
     "groups, re-signed",
     "the Mach service must be a child of an app group the extension holds; NE and CMIO "
     "validate it: \"extension category returned error\", 9 (8c#12, M; T708017).  ES is not "
     "covered by the reference's rule, so it is not a fit",
     SH_MUT_PROFILE, SH_FIT_NETWORK | SH_FIT_CAMERA,
     SH_TOUCH_RESIGNED "|(^" SH_EXT_RE "/Contents/Info\\.plist$)",
     EXPECT(9, 0, 0, NULL, NOT_LAUNCHED), EXPECT(9, 0, 0, NULL, NOT_LAUNCHED),
     sh_mut_extension_mach_service_outside_group},

    /* ---- identities (catalogue_identity.c) ----
     * Re-signed inside out and resubmitted.  codesign --verify --deep --strict checks that each
     * signature is intact, not who made it (no -R), so static is 0 for all of them. */
    {"extension-other-team",
     "re-sign the extension as team 2 (its identity, profile, entitlements and app groups)",
     "an extension built by another team embedded in the app: sysextd matches extensions by "
     "(team, bundle id) and the same-team rule fails it with 8 (8c#6, L; each signature passes "
     "statically).  Status unknown: errSecCSBadTeamIdentifier -66997 (L)",
     SH_MUT_STATIC, 0,
     SH_TOUCH_RESIGNED "|(^" SH_EXT_RE "/Contents/(Info\\.plist|embedded\\.provisionprofile)$)",
     EXPECT(8, errSecCSBadTeamIdentifier, 0, NULL, NOT_LAUNCHED),
     EXPECT(8, errSecCSBadTeamIdentifier, 0, NULL, NOT_LAUNCHED),
     sh_mut_extension_other_team},
    {"extension-ad-hoc",
     "re-sign the extension ad hoc (the app properly), resubmit",
     "\"Sign to Run Locally\" left on the extension target: with SIP on sysextd requires a "
     "Developer ID signature and logs -67050 (section 9, M); the notary refuses it (RCNI).  "
     "Under developer mode an Apple-issued signature is still needed (L), same 8 / -67050",
     SH_MUT_STATIC, 0, SH_TOUCH_RESIGNED,
     EXPECT(8, errSecCSReqFailed, 0, NOTARY_NOT_DEVID, NOT_LAUNCHED),
     EXPECT(8, errSecCSReqFailed, 0, NULL, NOT_LAUNCHED),
     sh_mut_extension_ad_hoc},
    {"app-ad-hoc",
     "re-sign the host app ad hoc, resubmit",
     "the app target signed to run locally: it signs the restricted install entitlement, which "
     "no profile can validate without a certificate, so amfid kills the app at launch (8c#5, "
     "section 6: DeveloperCertificates must hold the leaf); the notary refuses it (RCNI)",
     SH_MUT_PROFILE, 0, SH_TOUCH_APP_CODE,
     APP_KILLED(errSecCSInvalidEntitlements, NOTARY_NOT_DEVID),
     APP_KILLED(errSecCSInvalidEntitlements, NULL),
     sh_mut_app_ad_hoc},
    {"extension-apple-development",
     "re-sign the Developer ID extension with Apple Development, resubmit",
     "automatic signing kept Apple Development on the extension target of an export: the "
     "distribution policy requires Developer ID (section 9, M: -67050) and the notary refuses "
     "it (RCNI)",
     SH_MUT_STATIC, SH_FIT_DEVELOPER_ID, SH_TOUCH_RESIGNED,
     EXPECT(8, errSecCSReqFailed, 0, NOTARY_NOT_DEVID, NOT_LAUNCHED),
     EXPECT(8, errSecCSReqFailed, 0, NULL, NOT_LAUNCHED),
     sh_mut_extension_apple_development},
    {"no-hardened-runtime",
     "re-sign extension and app without the hardened runtime, resubmit",
     "Hardened Runtime capability off: the notary rejects it (8c#18, RCNI), so the code is not "
     "notarised: 8 / -67050 (row 2 resolved by section 9).  Development needs no notarisation "
     "and the runtime is optional there: it activates",
     SH_MUT_NOTARIZATION, 0, SH_TOUCH_RESIGNED,
     EXPECT(8, errSecCSReqFailed, 0, NOTARY_NO_RUNTIME, NOT_LAUNCHED),
     EXPECT(0, 0, 0, NULL, "launches"),
     sh_mut_no_hardened_runtime},
    {"no-secure-timestamp",
     "re-sign extension and app without a secure timestamp, resubmit",
     "signed offline or without --timestamp: codesign -dv shows only Signed Time=; the notary "
     "rejects it (8c#1, RCNI; section 9 camera thread), so the code is not notarised: 8 / -67050",
     SH_MUT_NOTARIZATION, SH_FIT_DEVELOPER_ID, SH_TOUCH_RESIGNED,
     EXPECT(8, errSecCSReqFailed, 0, NOTARY_NO_TIMESTAMP, NOT_LAUNCHED),
     EXPECT(0, 0, 0, NULL, "launches"),
     sh_mut_no_secure_timestamp},

    /* ---- signature structures (catalogue_signature.c): the extension's signature edited in
     * place, nothing re-signed unless the row says so ---- */
    {"extension-cms-emptied", "empty the extension's CMS blob wrapper (slot 0x10000 kept, 0 bytes)",
     "a tool rewrote the signature as if ad hoc but kept a non-ad-hoc CodeDirectory (4: ad-hoc "
     "code has flag 0x2 and an empty wrapper); Security finds no signature to verify: "
     "errSecCSUnsigned (SecStaticCode::signature(), L: read from memory of StaticCode.cpp)",
     SH_MUT_STATIC, 0, SH_TOUCH_EXT_CODE, STATIC_BREAK(errSecCSUnsigned),
     EXPECT(8, errSecCSUnsigned, errSecCSUnsigned, NULL, NOT_LAUNCHED),
     sh_mut_extension_cms_emptied},
    {"extension-cms-removed", "remove the CMS blob (slot 0x10000) from the extension's SuperBlob",
     "the CMS slot was dropped (a signature \"thinned\" by a tool); as extension-cms-emptied: no "
     "signer behind a non-ad-hoc CodeDirectory, errSecCSUnsigned (4; L for the status)",
     SH_MUT_STATIC, 0, SH_TOUCH_EXT_CODE, STATIC_BREAK(errSecCSUnsigned),
     EXPECT(8, errSecCSUnsigned, errSecCSUnsigned, NULL, NOT_LAUNCHED),
     sh_mut_extension_cms_removed},
    {"extension-timestamp-stripped",
     "remove the secure timestamp (unsigned attribute 1.2.840.113549.1.9.16.2.14) from the CMS",
     "the S6 situation made structurally: the signature is what --timestamp=none writes; static "
     "validation tolerates it (4, 8c#1), the notary service rejects it (RCNI), so the build was "
     "never notarised (its cdhashes are on no list): 8 / -67050 (8c#2 resolved by 9).  "
     "Development builds carry no timestamp, so the row is Developer ID only",
     SH_MUT_NOTARIZATION, SH_FIT_DEVELOPER_ID, SH_TOUCH_EXT_CODE,
     EXPECT(8, errSecCSReqFailed, 0, NOTARY_NO_TIMESTAMP, NOT_LAUNCHED),
     EXPECT(0, 0, 0, NULL, "launches"),
     sh_mut_extension_timestamp_stripped},
    {"extension-entitlements-slot-zeroed",
     "zero the entitlements special-slot hash (slot 5) in the extension's CodeDirectories",
     "the entitlements were unsealed by hand; the blob is no longer covered by its slot (8b: a "
     "special-slot mismatch other than Info/ResourceDir is errSecCSSignatureFailed) and the CMS "
     "digest no longer matches the CodeDirectory (4: errSecCSSignatureFailed)",
     SH_MUT_STATIC, 0, SH_TOUCH_EXT_CODE, STATIC_BREAK(errSecCSSignatureFailed),
     EXPECT(8, errSecCSSignatureFailed, errSecCSSignatureFailed, NULL, NOT_LAUNCHED),
     sh_mut_extension_entitlements_slot_zeroed},
    {"extension-cd-hash-type-wrong",
     "set the extension CodeDirectory's hashType to SHA-384 while its hashes stay 32 bytes",
     "a signature patched by a buggy tool; 2: hashSize must equal the digest size of hashType, "
     "an integrity violation, errSecCSSignatureFailed (checkIntegrity, H; 8c#25 class)",
     SH_MUT_STATIC, 0, SH_TOUCH_EXT_CODE, STATIC_BREAK(errSecCSSignatureFailed),
     EXPECT(8, errSecCSSignatureFailed, errSecCSSignatureFailed, NULL, NOT_LAUNCHED),
     sh_mut_extension_cd_hash_type_wrong},
    {"extension-cd-version-unsupported",
     "set the extension CodeDirectory's version to 0x30000 (above 0x2F000)",
     "a signature from a future or broken signer; 8c#24: errSecCSSignatureUnsupported, 8",
     SH_MUT_STATIC, 0, SH_TOUCH_EXT_CODE, STATIC_BREAK(errSecCSSignatureUnsupported),
     EXPECT(8, errSecCSSignatureUnsupported, errSecCSSignatureUnsupported, NULL, NOT_LAUNCHED),
     sh_mut_extension_cd_version_unsupported},
    {"extension-cd-code-slots-short",
     "decrement nCodeSlots in the extension's CodeDirectories (one page left unhashed)",
     "a signer miscounted the pages; 8c#25: nCodeSlots != pages, errSecCSSignatureFailed, 8",
     SH_MUT_STATIC, 0, SH_TOUCH_EXT_CODE, STATIC_BREAK(errSecCSSignatureFailed),
     EXPECT(8, errSecCSSignatureFailed, errSecCSSignatureFailed, NULL, NOT_LAUNCHED),
     sh_mut_extension_cd_code_slots_short},
    {"extension-cdhashes-mismatch",
     "make the extension's CMS again listing one CodeDirectory more than the signature holds",
     "a tool dropped a CodeDirectory after the CMS was made: the CMS itself verifies but its "
     "CDHashes / CDHashes2 differ from the computed list; 8c#26 and 4: errSecCSSignatureFailed",
     SH_MUT_STATIC, 0, SH_TOUCH_EXT_CODE, STATIC_BREAK(errSecCSSignatureFailed),
     EXPECT(8, errSecCSSignatureFailed, errSecCSSignatureFailed, NULL, NOT_LAUNCHED),
     sh_mut_extension_cdhashes_mismatch},
    {"extension-cd-team-differs-from-cert",
     "patch the extension CodeDirectory's team ID to SHTEAM0009 and make the CMS again over it",
     "a third-party signer took the team ID from its configuration instead of the certificate; "
     "8c#7 and 4: the leaf's subject OU must equal the CD team ID, errSecCSBadTeamIdentifier, 8",
     SH_MUT_STATIC, 0, SH_TOUCH_EXT_CODE, STATIC_BREAK(errSecCSBadTeamIdentifier),
     EXPECT(8, errSecCSBadTeamIdentifier, errSecCSBadTeamIdentifier, NULL, NOT_LAUNCHED),
     sh_mut_extension_cd_team_differs_from_cert},
    {"extension-data-after-linkedit",
     "append 16 bytes after __LINKEDIT in the extension's last slice (fat size grown to match)",
     "a packaging step appended data (a license blob, a payload) to a signed binary; 8c#27 and "
     "1: --strict finds the file suspicious, errSecCSBadMainExecutable, 8",
     SH_MUT_STATIC, 0, SH_TOUCH_EXT_CODE, STATIC_BREAK(errSecCSBadMainExecutable),
     EXPECT(8, errSecCSBadMainExecutable, errSecCSBadMainExecutable, NULL, NOT_LAUNCHED),
     sh_mut_extension_data_after_linkedit},
    {"extension-unsigned",
     "remove the extension's signature as codesign --remove-signature does (LC_CODE_SIGNATURE gone)",
     "the extension target was built with signing disabled and embedded as is; errSecCSUnsigned "
     "(8b; CSCommon.h), 8 (code 8 is the catch-all for an invalid extension signature, 8c)",
     SH_MUT_STATIC, 0, SH_TOUCH_EXT_CODE, STATIC_BREAK(errSecCSUnsigned),
     EXPECT(8, errSecCSUnsigned, errSecCSUnsigned, NULL, NOT_LAUNCHED),
     sh_mut_extension_unsigned},
    {"app-nested-seal-stale",
     "rebuild the extension (CFBundleVersion 2) and re-sign it ad hoc (codesign --force -s -), "
     "but not the app",
     "a post-build script re-signed the extension ad hoc after the app was signed (signing order "
     "broken, 7): the designated requirement the app's seal recorded for its nested code (anchor "
     "apple generic, the team) no longer holds, and StaticCode.cpp validateNestedCode reports "
     "errSecCSBadNestedCode (8b, H); activation code for an invalid host app inferred as 8 (L)",
     SH_MUT_STATIC, 0, SH_TOUCH_EXT_CODE "|(^" SH_EXT_RE "/Contents/Info\\.plist$)",
     STATIC_BREAK(errSecCSBadNestedCode),
     EXPECT(8, errSecCSBadNestedCode, errSecCSBadNestedCode, NULL, NOT_LAUNCHED),
     sh_mut_app_nested_seal_stale},

    /* ---- scenarios (catalogue_scenario.c): S1, S8 (every row fits camera as network), the
     * request and discovery errors ---- */
    {"s1-not-notarized", "judge the Developer ID build as never notarised (no ticket, no list entry)",
     "S1 / section 9: Developer ID, SIP on, not notarised: sysextd's notarisation check fails, "
     "\"does not satisfy requirement: -67050\", code 8 (M, DTS); nothing for the notary to object "
     "to; development policy (SIP off) does not need notarisation",
     SH_MUT_NOTARIZATION, SH_FIT_DEVELOPER_ID, "^$",
     EXPECT(8, errSecCSReqFailed, 0, NULL, NOT_LAUNCHED),
     EXPECT(0, 0, 0, NULL, "launches"),
     sh_mut_s1_not_notarized},
    {"app-in-downloads", "run the app from /Users/dev/Downloads",
     "8c#20: the app must be in /Applications, code 3 (H code, M message).  Development: the "
     "reference is silent; developer mode (systemextensionsctl developer on) is the documented "
     "way to activate from a build folder, so it activates (L)",
     SH_MUT_REQUEST, 0, "^$",
     EXPECT(3, 0, 0, NULL, NOT_LAUNCHED), EXPECT(0, 0, 0, NULL, "launches"),
     sh_mut_app_in_downloads},
    {"app-in-user-applications", "run the app from ~/Applications (/Users/dev/Applications)",
     "8c#20 / 7: ~/Applications is rejected on macOS 15 (DTS, T762003), code 3.  Development as "
     "app-in-downloads (L)",
     SH_MUT_REQUEST, 0, "^$",
     EXPECT(3, 0, 0, NULL, NOT_LAUNCHED), EXPECT(0, 0, 0, NULL, "launches"),
     sh_mut_app_in_user_applications},
    {"extension-missing", "remove the extension from the app and re-sign the app, resubmit",
     "the Copy Files phase was lost: nothing in Contents/Library/SystemExtensions; 8c#8 / 8a: "
     "\"Extension not found in App bundle\", code 4 (H)",
     SH_MUT_DISCOVERY, 0, "(^" SH_EXT_RE "(/|$))|(" SH_TOUCH_APP_CODE ")",
     EXPECT(4, 0, 0, NULL, NOT_LAUNCHED), EXPECT(4, 0, 0, NULL, NOT_LAUNCHED),
     sh_mut_extension_missing},
    {"extension-in-plugins", "move the extension to Contents/PlugIns and re-sign the app, resubmit",
     "the Copy Files destination was \"PlugIns\" (where .appex go); 8c#8 and 7: extensions are "
     "discovered only in Contents/Library/SystemExtensions, code 4 (H)",
     SH_MUT_DISCOVERY, 0,
     "(^Contents/(PlugIns|Library/SystemExtensions)(/|$))|(" SH_TOUCH_APP_CODE ")",
     EXPECT(4, 0, 0, NULL, NOT_LAUNCHED), EXPECT(4, 0, 0, NULL, NOT_LAUNCHED),
     sh_mut_extension_in_plugins},
    {"extension-in-library-extensions",
     "move the extension to Contents/Library/Extensions and re-sign the app, resubmit",
     "the destination was mistyped as the kext folder; 8c#8 and 7: code 4 (H)",
     SH_MUT_DISCOVERY, 0,
     "(^Contents/Library/(Extensions|SystemExtensions)(/|$))|(" SH_TOUCH_APP_CODE ")",
     EXPECT(4, 0, 0, NULL, NOT_LAUNCHED), EXPECT(4, 0, 0, NULL, NOT_LAUNCHED),
     sh_mut_extension_in_library_extensions},
    {"extension-duplicated",
     "copy the extension to <id>-old.systemextension beside it and re-sign the app, resubmit",
     "a renamed product left its old copy in the bundle: two extensions with one "
     "CFBundleIdentifier; 8c#10: code 6 (M)",
     SH_MUT_DISCOVERY, 0, "(^Contents/Library/SystemExtensions/)|(" SH_TOUCH_APP_CODE ")",
     EXPECT(6, 0, 0, NULL, NOT_LAUNCHED), EXPECT(6, 0, 0, NULL, NOT_LAUNCHED),
     sh_mut_extension_duplicated},

    /* ---- neutral (catalogue_neutral.c): the verdict must stay exactly the base's ---- */
    {"resign-same-identity", "re-sign extension and app with the same identity, time and entitlements",
     "codesign --force run twice in a build: deterministic signing gives the same bytes (4: "
     "RSA PKCS#1 v1.5 is deterministic), so nothing changes",
     SH_MUT_NEUTRAL, 0, "^$", NEUTRAL_SAME, NEUTRAL_SAME, sh_mut_resign_same_identity},
    {"app-info-plist-keys-reordered", "reverse the key order of the app's Info.plist, re-sign the app, resubmit",
     "an editor or build tool reordered Info.plist: slot 1 hashes the new bytes (2) and the keys "
     "mean the same",
     SH_MUT_NEUTRAL, 0, "(^Contents/Info\\.plist$)|(" SH_TOUCH_APP_CODE ")", NEUTRAL_SAME,
     NEUTRAL_SAME, sh_mut_app_info_plist_keys_reordered},
    {"app-info-plist-binary", "convert the app's Info.plist to a binary plist, re-sign the app, resubmit",
     "plutil -convert binary1 in a build phase: slot 1 hashes the raw file bytes whatever the "
     "plist format (2)",
     SH_MUT_NEUTRAL, 0, "(^Contents/Info\\.plist$)|(" SH_TOUCH_APP_CODE ")", NEUTRAL_SAME,
     NEUTRAL_SAME, sh_mut_app_info_plist_binary},
    {"extension-entitlements-reordered",
     "reverse the key order of the extension's entitlements, re-sign inside out, resubmit",
     "the .entitlements file was reordered; the DER form is sorted anyway (5) and the XML form "
     "means the same",
     SH_MUT_NEUTRAL, 0, SH_TOUCH_RESIGNED, NEUTRAL_SAME, NEUTRAL_SAME,
     sh_mut_extension_entitlements_reordered},
    {"extension-sandbox-removed",
     "drop com.apple.security.app-sandbox from the network extension, re-sign inside out, resubmit",
     "9: sandboxed and unsandboxed system extensions are both legal; app-sandbox is unrestricted "
     "(6, T730398), so the profile need not mention it",
     SH_MUT_NEUTRAL, SH_FIT_NETWORK, SH_TOUCH_RESIGNED, NEUTRAL_SAME, NEUTRAL_SAME,
     sh_mut_extension_sandbox_removed},
    {"extension-network-client-added",
     "add com.apple.security.network.client to the extension, re-sign inside out, resubmit",
     "the Outgoing Connections sandbox capability: a com.apple.security.* sandbox entitlement, "
     "unrestricted on macOS (6, T730398: no profile needed)",
     SH_MUT_NEUTRAL, SH_FIT_NETWORK | SH_FIT_CAMERA | SH_FIT_ENDPOINT_SECURITY, SH_TOUCH_RESIGNED,
     NEUTRAL_SAME, NEUTRAL_SAME, sh_mut_extension_network_client_added},
    {"extension-app-group-added",
     "add a second team-prefixed app group (<group>.shared) to the extension, re-sign, resubmit",
     "a shared container for app and extension; the reference lists no profile rule for "
     "com.apple.security.application-groups (6 names only com.apple.developer.* style "
     "capabilities as restricted; team-prefixed macOS groups need no profile: L), and the Mach "
     "service stays under its group (7)",
     SH_MUT_NEUTRAL, SH_FIT_NETWORK | SH_FIT_CAMERA, SH_TOUCH_RESIGNED, NEUTRAL_SAME,
     NEUTRAL_SAME, sh_mut_extension_app_group_added},
    {"extension-resigned-after-app",
     "rebuild the extension (CFBundleVersion 2), re-sign it with the same identity but not the "
     "app, resubmit",
     "the extension was re-signed after the app (signing order broken, 7) by the same "
     "certificate: the app's seal records the old cdhash, but macOS validates nested code by the "
     "requirement the seal records (StaticCode.cpp validateNestedCode, H), which still holds",
     SH_MUT_NEUTRAL, 0, SH_TOUCH_EXT_CODE "|(^" SH_EXT_RE "/Contents/Info\\.plist$)",
     NEUTRAL_SAME, NEUTRAL_SAME, sh_mut_extension_resigned_after_app},
    {"app-ds-store-added", "add Contents/Resources/.DS_Store to the signed app (no re-sign)",
     "Finder browsed the bundle after signing; 7: the default rules omit ^(.*/)?\\.DS_Store$, so "
     "the seal ignores it",
     SH_MUT_NEUTRAL, 0, "^Contents/Resources/\\.DS_Store$", NEUTRAL_SAME, NEUTRAL_SAME,
     sh_mut_app_ds_store_added},
};

const size_t sh_catalogue_count = sizeof sh_catalogue / sizeof sh_catalogue[0];
