/* Neutral mutators: changes a developer makes that macOS must not care about.  Each one must
 * leave the verdict exactly as the base's (regress checks it), so each guards against the
 * verdict engine reading meaning into bytes that have none (key order, plist encoding, omitted
 * files) or treating legal entitlement combinations as errors. */
#include "catalogue.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mut_toolkit.h"

static bool neutral_fail(sh_mut_ctx *ctx, const char *what)
{
    snprintf(ctx->why, sizeof ctx->why, "%.200s", what);
    return false;
}

/* codesign --force with the same identity, entitlements and time: the same bytes. */
bool sh_mut_resign_same_identity(sh_mut_ctx *ctx)
{
    return sh_mut_resign_all(ctx, NULL, NULL);
}

/* A copy of dict with its keys in reverse order (libplist keeps insertion order). */
static plist_t reversed_dict(plist_t dict)
{
    uint32_t n = plist_dict_get_size(dict);
    char **keys = calloc(n ? n : 1, sizeof *keys);
    plist_t out = plist_new_dict();
    if (!keys || !out) {
        free(keys);
        if (out)
            plist_free(out);
        return NULL;
    }
    plist_dict_iter it = NULL;
    plist_dict_new_iter(dict, &it);
    for (uint32_t i = 0; i < n && it; i++) {
        plist_t value = NULL;
        plist_dict_next_item(dict, it, &keys[i], &value);
    }
    free(it);
    for (uint32_t i = n; i-- > 0;) {
        if (keys[i])
            plist_dict_set_item(out, keys[i], plist_copy(plist_dict_get_item(dict, keys[i])));
        free(keys[i]);
    }
    free(keys);
    return out;
}

/* Rewrites the app's Info.plist with its keys reversed (an editor or a build tool reordering
 * them), then re-signs the app: Info.plist is sealed byte for byte, the meaning is unchanged. */
bool sh_mut_app_info_plist_keys_reordered(sh_mut_ctx *ctx)
{
    char path[SH_MAX_BUNDLE_PATH + 1];
    plist_t info;
    if (!sh_mut_path(path, sizeof path, "", "Info.plist") || !sh_mut_plist_read(ctx, path, &info))
        return false;
    plist_t reordered = reversed_dict(info);
    plist_free(info);
    if (!reordered)
        return neutral_fail(ctx, "cannot reorder Info.plist");
    bool ok = sh_mut_plist_write(ctx, path, reordered);
    plist_free(reordered);
    ctx->effects.notary = SH_NOTARY_RESUBMIT;
    return ok && sh_mut_resign_root(ctx, "", NULL);
}

/* The app's Info.plist in binary form (what `plutil -convert binary1` or some build systems
 * write); Security hashes the file's bytes whatever their format. */
bool sh_mut_app_info_plist_binary(sh_mut_ctx *ctx)
{
    char path[SH_MAX_BUNDLE_PATH + 1];
    plist_t info;
    if (!sh_mut_path(path, sizeof path, "", "Info.plist") || !sh_mut_plist_read(ctx, path, &info))
        return false;
    char *bin = NULL;
    uint32_t len = 0;
    plist_to_bin(info, &bin, &len);
    plist_free(info);
    if (!bin)
        return neutral_fail(ctx, "cannot encode Info.plist as a binary plist");
    sh_error err = {0};
    sh_err rc = sh_bundle_put_file(ctx->bundle, path, (const uint8_t *)bin, len, 0644, &err);
    free(bin);
    if (rc != SH_E_OK)
        return neutral_fail(ctx, "cannot write Info.plist");
    ctx->effects.notary = SH_NOTARY_RESUBMIT;
    return sh_mut_resign_root(ctx, "", NULL);
}

/* Re-signs the extension with edit applied to its current entitlements, then the app (inside
 * out), as a developer rebuilding with an edited .entitlements file would; resubmitted. */
static bool resign_extension_with(sh_mut_ctx *ctx, plist_t (*edit)(plist_t ents))
{
    if (!ctx->extension[0])
        return neutral_fail(ctx, "the bundle has no system extension");
    sh_mut_signing now;
    if (!sh_mut_signing_read(ctx, ctx->extension, &now))
        return false;
    if (!now.entitlements) {
        sh_mut_signing_free(&now);
        return neutral_fail(ctx, "the extension is signed without entitlements");
    }
    plist_t ents = edit(now.entitlements);
    sh_mut_signing_free(&now);
    if (!ents)
        return neutral_fail(ctx, "cannot edit the entitlements");
    sh_mut_resign o;
    memset(&o, 0, sizeof o);
    o.entitlements = ents;
    ctx->effects.notary = SH_NOTARY_RESUBMIT;
    bool ok = sh_mut_resign_all(ctx, &o, NULL);
    plist_free(ents);
    return ok;
}

static plist_t reorder(plist_t ents)
{
    return reversed_dict(ents);
}

static plist_t without_sandbox(plist_t ents)
{
    plist_t out = plist_copy(ents);
    if (out && plist_dict_get_item(out, "com.apple.security.app-sandbox"))
        plist_dict_remove_item(out, "com.apple.security.app-sandbox");
    return out;
}

static plist_t with_network_client(plist_t ents)
{
    plist_t out = plist_copy(ents);
    if (out)
        plist_dict_set_item(out, "com.apple.security.network.client", plist_new_bool(1));
    return out;
}

/* A second team-prefixed group next to the one the Mach service lives under. */
static plist_t with_second_app_group(plist_t ents)
{
    plist_t groups = plist_dict_get_item(ents, "com.apple.security.application-groups");
    if (!groups || plist_get_node_type(groups) != PLIST_ARRAY || plist_array_get_size(groups) == 0)
        return NULL;
    char *first = NULL;
    plist_t g0 = plist_array_get_item(groups, 0);
    if (plist_get_node_type(g0) == PLIST_STRING)
        plist_get_string_val(g0, &first);
    if (!first)
        return NULL;
    char extra[512];
    int n = snprintf(extra, sizeof extra, "%s.shared", first);
    free(first);
    if (n < 0 || (size_t)n >= sizeof extra)
        return NULL;
    plist_t out = plist_copy(ents);
    if (out)
        plist_array_append_item(plist_dict_get_item(out, "com.apple.security.application-groups"),
                                plist_new_string(extra));
    return out;
}

bool sh_mut_extension_entitlements_reordered(sh_mut_ctx *ctx)
{
    return resign_extension_with(ctx, reorder);
}

bool sh_mut_extension_sandbox_removed(sh_mut_ctx *ctx)
{
    return resign_extension_with(ctx, without_sandbox);
}

bool sh_mut_extension_network_client_added(sh_mut_ctx *ctx)
{
    return resign_extension_with(ctx, with_network_client);
}

bool sh_mut_extension_app_group_added(sh_mut_ctx *ctx)
{
    return resign_extension_with(ctx, with_second_app_group);
}

/* The extension rebuilt and re-signed as before after the app was signed, the app left alone;
 * resubmitted (the extension's cdhash is new). */
bool sh_mut_extension_resigned_after_app(sh_mut_ctx *ctx)
{
    if (!ctx->extension[0])
        return neutral_fail(ctx, "the bundle has no system extension");
    ctx->effects.notary = SH_NOTARY_RESUBMIT;
    return sh_mut_rebuild_extension(ctx, NULL);
}

/* Finder's folder metadata, written after signing; the default rules omit .DS_Store. */
bool sh_mut_app_ds_store_added(sh_mut_ctx *ctx)
{
    static const uint8_t ds_store[] = {0x00, 0x00, 0x00, 0x01, 'B', 'u', 'd', '1'};
    sh_error err = {0};
    if (sh_bundle_put_file(ctx->bundle, "Contents/Resources/.DS_Store", ds_store, sizeof ds_store,
                           0644, &err) != SH_E_OK)
        return neutral_fail(ctx, "cannot add Contents/Resources/.DS_Store");
    return true;
}
