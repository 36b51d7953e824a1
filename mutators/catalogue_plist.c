/* Plist-level mutators: the extension's Info.plist, the entitlements signed into the code and
 * the embedded provisioning profiles.  Every one models a developer who rebuilt and re-signed
 * (inside out) with the mistake in place, so the code signatures are consistent and only the
 * plist-level rule decides; each asks for resubmission to the notary service
 * (SH_NOTARY_RESUBMIT), whose preflight does not look at profiles or Info.plist keys. */
#include "catalogue.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture_build.h"
#include "mut_toolkit.h"

#define CF_EPOCH_UNIX 978307200 /* libplist dates count from 2001-01-01 */
#define SECONDS_PER_DAY 86400
#define NE_KEY "com.apple.developer.networking.networkextension"
#define NE_SUFFIX "-systemextension"
#define ES_KEY "com.apple.developer.endpoint-security.client"
#define INSTALL_KEY "com.apple.developer.system-extension.install"
#define APP_ID_KEY "com.apple.application-identifier"
#define GET_TASK_ALLOW_KEY "com.apple.security.get-task-allow"

/* ---- entitlements ---------------------------------------------------------------------------- */

typedef bool (*ents_edit)(plist_t ents);

/* Re-signs the code at root with its entitlements changed by edit (a copy; the bundle's
 * profile stays as it is). */
static bool resign_with_entitlements(sh_mut_ctx *ctx, const char *root, ents_edit edit)
{
    sh_mut_signing now;
    if (!sh_mut_signing_read(ctx, root, &now))
        return false;
    plist_t ents = now.entitlements ? plist_copy(now.entitlements) : plist_new_dict();
    sh_mut_signing_free(&now);
    bool ok = ents && edit(ents);
    if (!ok)
        snprintf(ctx->why, sizeof ctx->why, "%.160s: the entitlements do not allow this change",
                 root[0] ? root : "the app");
    sh_mut_resign o = {.entitlements = ents};
    ctx->effects.notary = SH_NOTARY_RESUBMIT;
    if (ok)
        ok = root[0] ? sh_mut_resign_all(ctx, &o, NULL) : sh_mut_resign_root(ctx, "", &o);
    if (ents)
        plist_free(ents);
    return ok;
}

/* Xcode's plain values (Development / App Store) instead of the Developer ID forms. */
static bool strip_ne_suffix(plist_t ents)
{
    plist_t ne = plist_dict_get_item(ents, NE_KEY);
    if (!ne || plist_get_node_type(ne) != PLIST_ARRAY)
        return false;
    bool changed = false;
    for (uint32_t i = 0; i < plist_array_get_size(ne); i++) {
        plist_t item = plist_array_get_item(ne, i);
        char *v = NULL;
        if (plist_get_node_type(item) == PLIST_STRING)
            plist_get_string_val(item, &v);
        size_t n = v ? strlen(v) : 0, m = strlen(NE_SUFFIX);
        if (n > m && strcmp(v + n - m, NE_SUFFIX) == 0) {
            v[n - m] = '\0';
            plist_set_string_val(item, v);
            changed = true;
        }
        free(v);
    }
    return changed;
}

/* A restricted entitlement of another category: Endpoint Security, or for an Endpoint Security
 * client a DriverKit key (no base's extension profile allows either). */
static bool add_foreign_restricted(plist_t ents)
{
    const char *key = plist_dict_get_item(ents, ES_KEY) ? "com.apple.developer.driverkit" : ES_KEY;
    plist_dict_set_item(ents, key, plist_new_bool(1));
    return true;
}

static bool add_get_task_allow(plist_t ents)
{
    plist_dict_set_item(ents, GET_TASK_ALLOW_KEY, plist_new_bool(1));
    return true;
}

static bool drop_install(plist_t ents)
{
    if (!plist_dict_get_item(ents, INSTALL_KEY))
        return false;
    plist_dict_remove_item(ents, INSTALL_KEY);
    return true;
}

bool sh_mut_extension_ne_plain_values(sh_mut_ctx *ctx)
{
    return sh_mut_need_extension(ctx) && resign_with_entitlements(ctx, ctx->extension, strip_ne_suffix);
}

bool sh_mut_extension_unauthorised_entitlement(sh_mut_ctx *ctx)
{
    return sh_mut_need_extension(ctx) &&
           resign_with_entitlements(ctx, ctx->extension, add_foreign_restricted);
}

/* Xcode's debug injection in both pieces of code, re-signed inside out. */
bool sh_mut_get_task_allow_distribution(sh_mut_ctx *ctx)
{
    if (!sh_mut_need_extension(ctx))
        return false;
    sh_mut_signing ext, app;
    if (!sh_mut_signing_read(ctx, ctx->extension, &ext))
        return false;
    if (!sh_mut_signing_read(ctx, "", &app)) {
        sh_mut_signing_free(&ext);
        return false;
    }
    plist_t e = ext.entitlements ? plist_copy(ext.entitlements) : plist_new_dict();
    plist_t a = app.entitlements ? plist_copy(app.entitlements) : plist_new_dict();
    sh_mut_signing_free(&ext);
    sh_mut_signing_free(&app);
    add_get_task_allow(e);
    add_get_task_allow(a);
    sh_mut_resign eo = {.entitlements = e}, ao = {.entitlements = a};
    ctx->effects.notary = SH_NOTARY_RESUBMIT;
    bool ok = sh_mut_resign_all(ctx, &eo, &ao);
    plist_free(e);
    plist_free(a);
    return ok;
}

bool sh_mut_app_missing_install_entitlement(sh_mut_ctx *ctx)
{
    return resign_with_entitlements(ctx, "", drop_install);
}

/* ---- profiles -------------------------------------------------------------------------------- */

/* Rewrites the profile at root, then re-signs inside out (the profile is a sealed resource). */
static bool rewrite_profile(sh_mut_ctx *ctx, const char *root, sh_mut_profile_edit edit)
{
    if (root[0] && !sh_mut_need_extension(ctx))
        return false;
    if (!sh_mut_profile_rewrite(ctx, root, edit, NULL))
        return false;
    ctx->effects.notary = SH_NOTARY_RESUBMIT;
    return root[0] ? sh_mut_resign_all(ctx, NULL, NULL) : sh_mut_resign_root(ctx, "", NULL);
}

static plist_t profile_entitlements(sh_mut_ctx *ctx, plist_t profile)
{
    plist_t ents = plist_dict_get_item(profile, "Entitlements");
    if (ents && plist_get_node_type(ents) == PLIST_DICT)
        return ents;
    snprintf(ctx->why, sizeof ctx->why, "the profile has no Entitlements dictionary");
    return NULL;
}

static bool profile_drop_install(sh_mut_ctx *ctx, plist_t profile, void *arg)
{
    (void)arg;
    plist_t ents = profile_entitlements(ctx, profile);
    if (ents && drop_install(ents))
        return true;
    snprintf(ctx->why, sizeof ctx->why, "the profile does not list %s", INSTALL_KEY);
    return false;
}

/* Expired the day before the code was signed (regress judges one day after signing). */
static bool profile_expire(sh_mut_ctx *ctx, plist_t profile, void *arg)
{
    (void)arg;
    int64_t expires = ctx->signing_time - SECONDS_PER_DAY;
    plist_t created = plist_dict_get_item(profile, "CreationDate");
    int32_t sec = 0, usec = 0;
    if (created && plist_get_node_type(created) == PLIST_DATE)
        plist_get_date_val(created, &sec, &usec);
    int64_t created_unix = (int64_t)sec + CF_EPOCH_UNIX;
    if (!created || created_unix >= expires) {
        snprintf(ctx->why, sizeof ctx->why, "the profile's CreationDate is not before %lld",
                 (long long)expires);
        return false;
    }
    plist_dict_set_item(profile, "ExpirationDate",
                        plist_new_date((int32_t)(expires - CF_EPOCH_UNIX), 0));
    plist_dict_set_item(profile, "TimeToLive",
                        plist_new_uint((uint64_t)((expires - created_unix) / SECONDS_PER_DAY)));
    return true;
}

/* The identity of the other kind (Developer ID <-> Apple Development) of the same team. */
static bool other_kind_identity(sh_mut_ctx *ctx, const char *root, char *out, size_t size)
{
    sh_mut_signing now;
    if (!sh_mut_signing_read(ctx, root, &now))
        return false;
    bool ok = now.identity[0] != '\0';
    if (ok) {
        bool devid = strncmp(now.identity, "devid-", 6) == 0;
        const char *team = strrchr(now.identity, '-');
        snprintf(out, size, "%s%s", devid ? "dev" : "devid", team ? team : "-team1");
    } else {
        snprintf(ctx->why, sizeof ctx->why, "%.200s is signed ad hoc",
                 root[0] ? root : "the app");
    }
    sh_mut_signing_free(&now);
    return ok;
}

/* The team's certificate of the other kind only: the signing leaf is not listed. */
static bool profile_other_certificate(sh_mut_ctx *ctx, plist_t profile, void *arg)
{
    (void)arg;
    char other[40];
    return other_kind_identity(ctx, ctx->extension, other, sizeof other) &&
           sh_mut_profile_set_certificate(ctx, profile, other);
}

static bool profile_ios(sh_mut_ctx *ctx, plist_t profile, void *arg)
{
    (void)ctx;
    (void)arg;
    plist_t platforms = plist_new_array();
    plist_array_append_item(platforms, plist_new_string("iOS"));
    plist_dict_set_item(profile, "Platform", platforms);
    return true;
}

/* application-identifier <prefix>.com.sigharness.unrelated: another App ID of the same team. */
static bool profile_other_app_id(sh_mut_ctx *ctx, plist_t profile, void *arg)
{
    (void)arg;
    plist_t ents = profile_entitlements(ctx, profile);
    plist_t id = ents ? plist_dict_get_item(ents, APP_ID_KEY) : NULL;
    char *v = NULL;
    if (id && plist_get_node_type(id) == PLIST_STRING)
        plist_get_string_val(id, &v);
    char *dot = v ? strchr(v, '.') : NULL;
    if (!dot) {
        free(v);
        snprintf(ctx->why, sizeof ctx->why, "the profile has no %s", APP_ID_KEY);
        return false;
    }
    char app_id[128];
    snprintf(app_id, sizeof app_id, "%.*s.com.sigharness.unrelated", (int)(dot - v) % 64, v);
    free(v);
    plist_set_string_val(id, app_id);
    return true;
}

/* What the portal issues for the same App ID as a Development profile: a device list, Xcode's
 * get-task-allow, the plain NE values, and the team's Apple Development certificate. */
static bool profile_development(sh_mut_ctx *ctx, plist_t profile, void *arg)
{
    const char *root = arg;
    plist_t ents = profile_entitlements(ctx, profile);
    char other[40];
    if (!ents || !other_kind_identity(ctx, root, other, sizeof other) ||
        !sh_mut_profile_set_certificate(ctx, profile, other))
        return false;
    plist_dict_remove_item(profile, "ProvisionsAllDevices");
    plist_t devices = plist_new_array();
    plist_array_append_item(devices, plist_new_string(SH_FX_DEVICE_UDID));
    plist_dict_set_item(profile, "ProvisionedDevices", devices);
    plist_dict_set_item(profile, "IsXcodeManaged", plist_new_bool(1));
    add_get_task_allow(ents);
    strip_ne_suffix(ents);
    return true;
}

bool sh_mut_app_install_entitlement_not_in_profile(sh_mut_ctx *ctx)
{
    return rewrite_profile(ctx, "", profile_drop_install);
}

bool sh_mut_extension_profile_expired(sh_mut_ctx *ctx)
{
    return rewrite_profile(ctx, ctx->extension, profile_expire);
}

bool sh_mut_extension_profile_lacks_certificate(sh_mut_ctx *ctx)
{
    return rewrite_profile(ctx, ctx->extension, profile_other_certificate);
}

bool sh_mut_extension_profile_ios(sh_mut_ctx *ctx)
{
    return rewrite_profile(ctx, ctx->extension, profile_ios);
}

bool sh_mut_extension_profile_app_id_mismatch(sh_mut_ctx *ctx)
{
    return rewrite_profile(ctx, ctx->extension, profile_other_app_id);
}

static bool development_profile_in(sh_mut_ctx *ctx, const char *root)
{
    if (root[0] && !sh_mut_need_extension(ctx))
        return false;
    char copy[SH_MAX_BUNDLE_PATH + 1];
    snprintf(copy, sizeof copy, "%s", root);
    if (!sh_mut_profile_rewrite(ctx, copy, profile_development, copy))
        return false;
    ctx->effects.notary = SH_NOTARY_RESUBMIT;
    return root[0] ? sh_mut_resign_all(ctx, NULL, NULL) : sh_mut_resign_root(ctx, "", NULL);
}

bool sh_mut_extension_development_profile(sh_mut_ctx *ctx)
{
    return development_profile_in(ctx, ctx->extension);
}

bool sh_mut_app_development_profile(sh_mut_ctx *ctx)
{
    return development_profile_in(ctx, "");
}

bool sh_mut_extension_profile_missing(sh_mut_ctx *ctx)
{
    char path[SH_MAX_BUNDLE_PATH + 1];
    if (!sh_mut_need_extension(ctx) ||
        !sh_mut_path(path, sizeof path, ctx->extension, "embedded.provisionprofile"))
        return false;
    sh_error err = {0};
    sh_err rc = sh_bundle_remove(ctx->bundle, path, &err);
    if (rc != SH_E_OK) {
        snprintf(ctx->why, sizeof ctx->why, "%.160s: %.80s", path, sh_err_message(rc));
        return false;
    }
    ctx->effects.notary = SH_NOTARY_RESUBMIT;
    return sh_mut_resign_all(ctx, NULL, NULL);
}

/* ---- the extension's Info.plist -------------------------------------------------------------- */

static bool edit_extension_info(sh_mut_ctx *ctx, bool (*edit)(plist_t dict, void *arg))
{
    if (!sh_mut_need_extension(ctx) || !sh_mut_edit_info(ctx, ctx->extension, edit, NULL))
        return false;
    ctx->effects.notary = SH_NOTARY_RESUBMIT;
    return sh_mut_resign_all(ctx, NULL, NULL);
}

static bool remove_key(plist_t dict, const char *key)
{
    if (!plist_dict_get_item(dict, key))
        return false;
    plist_dict_remove_item(dict, key);
    return true;
}

static bool drop_identifier(plist_t info, void *arg)
{
    (void)arg;
    return remove_key(info, "CFBundleIdentifier");
}

static bool drop_category(plist_t info, void *arg)
{
    (void)arg;
    bool a = remove_key(info, "NetworkExtension");
    bool b = remove_key(info, "NSEndpointSecurityMachServiceName");
    bool c = remove_key(info, "CMIOExtension");
    remove_key(info, "NSEndpointSecurityEarlyBoot");
    return a || b || c;
}

static bool drop_usage(plist_t info, void *arg)
{
    (void)arg;
    return remove_key(info, "NSSystemExtensionUsageDescription");
}

/* A Mach service name under no app group the extension holds. */
static bool service_outside_group(plist_t info, void *arg)
{
    (void)arg;
    static const char service[] = "com.sigharness.unrelated.service";
    plist_t ne = plist_dict_get_item(info, "NetworkExtension");
    plist_t cmio = plist_dict_get_item(info, "CMIOExtension");
    plist_t dict = ne && plist_get_node_type(ne) == PLIST_DICT       ? ne
                   : cmio && plist_get_node_type(cmio) == PLIST_DICT ? cmio
                                                                     : NULL;
    const char *key = dict == ne ? "NEMachServiceName" : "CMIOExtensionMachServiceName";
    if (!dict || !plist_dict_get_item(dict, key))
        return false;
    plist_dict_set_item(dict, key, plist_new_string(service));
    return true;
}

bool sh_mut_extension_missing_identifier(sh_mut_ctx *ctx)
{
    return edit_extension_info(ctx, drop_identifier);
}

bool sh_mut_extension_unknown_category(sh_mut_ctx *ctx)
{
    return edit_extension_info(ctx, drop_category);
}

bool sh_mut_extension_usage_description_missing(sh_mut_ctx *ctx)
{
    return edit_extension_info(ctx, drop_usage);
}

bool sh_mut_extension_mach_service_outside_group(sh_mut_ctx *ctx)
{
    return edit_extension_info(ctx, service_outside_group);
}
