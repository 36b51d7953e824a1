/* The catalogue table (catalogue.c) and the mutator functions of each group, one file per level:
 * catalogue_file.c (files), catalogue_plist.c (Info.plist, entitlements, profiles),
 * catalogue_signature.c (signature structures), catalogue_identity.c (re-signing with another
 * identity), catalogue_scenario.c (the verdict issue's situations S1-S10 and the request /
 * discovery errors), catalogue_neutral.c (changes that must not alter the verdict). */
#ifndef SH_CATALOGUE_H
#define SH_CATALOGUE_H

#include <stddef.h>

#include "mutation.h"

extern const sh_mutator sh_catalogue[];
extern const size_t sh_catalogue_count;

/* Paths regexes for sh_mutator.touches (bundle paths relative to the .app). */
#define SH_EXT_RE "Contents/Library/SystemExtensions/[^/]+"
#define SH_TOUCH_EXT_CODE "^" SH_EXT_RE "/Contents/(MacOS/|_CodeSignature/CodeResources$)"
#define SH_TOUCH_APP_CODE "^Contents/(MacOS/|_CodeSignature/CodeResources$)"
/* Re-signing everything inside out: both main executables and both seals. */
#define SH_TOUCH_RESIGNED "(" SH_TOUCH_EXT_CODE ")|(" SH_TOUCH_APP_CODE ")"

/* catalogue_file.c */
bool sh_mut_extension_executable_zero_byte(sh_mut_ctx *ctx);
bool sh_mut_extension_executable_truncated(sh_mut_ctx *ctx);
bool sh_mut_extension_code_page_flipped(sh_mut_ctx *ctx);
bool sh_mut_extension_info_plist_edited(sh_mut_ctx *ctx);
bool sh_mut_extension_resource_modified(sh_mut_ctx *ctx);
bool sh_mut_extension_resource_added(sh_mut_ctx *ctx);
bool sh_mut_extension_resource_deleted(sh_mut_ctx *ctx);
bool sh_mut_app_resource_modified(sh_mut_ctx *ctx);
bool sh_mut_extension_coderesources_edited(sh_mut_ctx *ctx);
bool sh_mut_extension_codesignature_extra_file(sh_mut_ctx *ctx);
bool sh_mut_extension_executable_deleted(sh_mut_ctx *ctx);
bool sh_mut_extension_symlink_out_of_bundle(sh_mut_ctx *ctx);

/* catalogue_plist.c */
bool sh_mut_extension_ne_plain_values(sh_mut_ctx *ctx);
bool sh_mut_extension_unauthorised_entitlement(sh_mut_ctx *ctx);
bool sh_mut_get_task_allow_distribution(sh_mut_ctx *ctx);
bool sh_mut_app_missing_install_entitlement(sh_mut_ctx *ctx);
bool sh_mut_app_install_entitlement_not_in_profile(sh_mut_ctx *ctx);
bool sh_mut_extension_profile_expired(sh_mut_ctx *ctx);
bool sh_mut_extension_profile_lacks_certificate(sh_mut_ctx *ctx);
bool sh_mut_extension_profile_ios(sh_mut_ctx *ctx);
bool sh_mut_extension_profile_app_id_mismatch(sh_mut_ctx *ctx);
bool sh_mut_extension_development_profile(sh_mut_ctx *ctx);
bool sh_mut_app_development_profile(sh_mut_ctx *ctx);
bool sh_mut_extension_profile_missing(sh_mut_ctx *ctx);
bool sh_mut_extension_missing_identifier(sh_mut_ctx *ctx);
bool sh_mut_extension_unknown_category(sh_mut_ctx *ctx);
bool sh_mut_extension_usage_description_missing(sh_mut_ctx *ctx);
bool sh_mut_extension_mach_service_outside_group(sh_mut_ctx *ctx);

/* catalogue_identity.c */
bool sh_mut_extension_other_team(sh_mut_ctx *ctx);
bool sh_mut_extension_ad_hoc(sh_mut_ctx *ctx);
bool sh_mut_app_ad_hoc(sh_mut_ctx *ctx);
bool sh_mut_extension_apple_development(sh_mut_ctx *ctx);
bool sh_mut_no_hardened_runtime(sh_mut_ctx *ctx);
bool sh_mut_no_secure_timestamp(sh_mut_ctx *ctx);

/* catalogue_signature.c */
bool sh_mut_extension_cms_emptied(sh_mut_ctx *ctx);
bool sh_mut_extension_cms_removed(sh_mut_ctx *ctx);
bool sh_mut_extension_timestamp_stripped(sh_mut_ctx *ctx);
bool sh_mut_extension_entitlements_slot_zeroed(sh_mut_ctx *ctx);
bool sh_mut_extension_cd_hash_type_wrong(sh_mut_ctx *ctx);
bool sh_mut_extension_cd_version_unsupported(sh_mut_ctx *ctx);
bool sh_mut_extension_cd_code_slots_short(sh_mut_ctx *ctx);
bool sh_mut_extension_cdhashes_mismatch(sh_mut_ctx *ctx);
bool sh_mut_extension_cd_team_differs_from_cert(sh_mut_ctx *ctx);
bool sh_mut_extension_data_after_linkedit(sh_mut_ctx *ctx);
bool sh_mut_extension_unsigned(sh_mut_ctx *ctx);
bool sh_mut_app_nested_seal_stale(sh_mut_ctx *ctx);

/* catalogue_scenario.c */
bool sh_mut_s1_not_notarized(sh_mut_ctx *ctx);
bool sh_mut_app_in_downloads(sh_mut_ctx *ctx);
bool sh_mut_app_in_user_applications(sh_mut_ctx *ctx);
bool sh_mut_extension_missing(sh_mut_ctx *ctx);
bool sh_mut_extension_in_plugins(sh_mut_ctx *ctx);
bool sh_mut_extension_in_library_extensions(sh_mut_ctx *ctx);
bool sh_mut_extension_duplicated(sh_mut_ctx *ctx);

/* catalogue_neutral.c */
bool sh_mut_resign_same_identity(sh_mut_ctx *ctx);
bool sh_mut_app_info_plist_keys_reordered(sh_mut_ctx *ctx);
bool sh_mut_app_info_plist_binary(sh_mut_ctx *ctx);
bool sh_mut_extension_entitlements_reordered(sh_mut_ctx *ctx);
bool sh_mut_extension_sandbox_removed(sh_mut_ctx *ctx);
bool sh_mut_extension_network_client_added(sh_mut_ctx *ctx);
bool sh_mut_extension_app_group_added(sh_mut_ctx *ctx);
bool sh_mut_extension_resigned_after_app(sh_mut_ctx *ctx);
bool sh_mut_app_ds_store_added(sh_mut_ctx *ctx);

#endif
