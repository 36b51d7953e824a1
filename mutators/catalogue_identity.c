/* Identity-level mutators: the same bundle re-signed (inside out) with another identity or other
 * signing options, as a developer whose signing settings changed would produce it. */
#include "catalogue.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mut_toolkit.h"

#define TEAM1 "SHTEAM0001"
#define TEAM2 "SHTEAM0002"

/* Replaces the leading team ID of every string in the tree: application identifiers, the team
 * identifier, app groups and the Mach service names below them all start with it. */
static void swap_team(plist_t node, const char *from, const char *to)
{
    plist_type t = plist_get_node_type(node);
    if (t == PLIST_STRING) {
        char *v = NULL;
        plist_get_string_val(node, &v);
        size_t n = strlen(from);
        if (v && strncmp(v, from, n) == 0) {
            char swapped[512];
            int w = snprintf(swapped, sizeof swapped, "%s%s", to, v + n);
            if (w > 0 && (size_t)w < sizeof swapped)
                plist_set_string_val(node, swapped);
        }
        free(v);
    } else if (t == PLIST_ARRAY) {
        for (uint32_t i = 0; i < plist_array_get_size(node); i++)
            swap_team(plist_array_get_item(node, i), from, to);
    } else if (t == PLIST_DICT) {
        plist_dict_iter it = NULL;
        plist_dict_new_iter(node, &it);
        char *key = NULL;
        plist_t value = NULL;
        for (plist_dict_next_item(node, it, &key, &value); key;
             plist_dict_next_item(node, it, &key, &value)) {
            swap_team(value, from, to);
            free(key);
            key = NULL;
        }
        free(it);
    }
}

static bool swap_info(plist_t info, void *arg)
{
    (void)arg;
    swap_team(info, TEAM1, TEAM2);
    return true;
}

/* The other team's portal profile for the same bundle: its team, its App ID prefix, its
 * certificate (of the kind arg names). */
static bool swap_profile(sh_mut_ctx *ctx, plist_t profile, void *arg)
{
    swap_team(profile, TEAM1, TEAM2);
    plist_dict_set_item(profile, "TeamName", plist_new_string("Sigharness Test Two"));
    return sh_mut_profile_set_certificate(ctx, profile, arg);
}

/* The extension comes from team 2 (a contractor's build embedded as is): identity, profile,
 * entitlements and the Info.plist's app-group names are all team 2's, consistently, so the only
 * problem left is that app and extension differ in team. */
bool sh_mut_extension_other_team(sh_mut_ctx *ctx)
{
    if (!sh_mut_need_extension(ctx))
        return false;
    sh_mut_signing now;
    if (!sh_mut_signing_read(ctx, ctx->extension, &now))
        return false;
    char identity[40];
    bool ok = strncmp(now.identity, "dev", 3) == 0 && strstr(now.identity, "team1") != NULL;
    if (!ok)
        snprintf(ctx->why, sizeof ctx->why, "the extension is not signed by team 1");
    snprintf(identity, sizeof identity, "%s-team2",
             strncmp(now.identity, "devid-", 6) == 0 ? "devid" : "dev");
    plist_t ents = now.entitlements ? plist_copy(now.entitlements) : plist_new_dict();
    sh_mut_signing_free(&now);
    swap_team(ents, TEAM1, TEAM2);
    ok = ok && sh_mut_profile_rewrite(ctx, ctx->extension, swap_profile, identity) &&
         sh_mut_edit_info(ctx, ctx->extension, swap_info, NULL);
    sh_mut_resign o = {.identity = identity, .entitlements = ents};
    ctx->effects.notary = SH_NOTARY_RESUBMIT;
    ok = ok && sh_mut_resign_all(ctx, &o, NULL);
    plist_free(ents);
    return ok;
}

bool sh_mut_extension_ad_hoc(sh_mut_ctx *ctx)
{
    sh_mut_resign o = {.identity = "-"};
    ctx->effects.notary = SH_NOTARY_RESUBMIT;
    return sh_mut_need_extension(ctx) && sh_mut_resign_all(ctx, &o, NULL);
}

bool sh_mut_app_ad_hoc(sh_mut_ctx *ctx)
{
    sh_mut_resign o = {.identity = "-"};
    ctx->effects.notary = SH_NOTARY_RESUBMIT;
    return sh_mut_resign_root(ctx, "", &o);
}

/* Xcode's automatic signing left the extension target on Apple Development. */
bool sh_mut_extension_apple_development(sh_mut_ctx *ctx)
{
    sh_mut_resign o = {.identity = "dev-team1"};
    ctx->effects.notary = SH_NOTARY_RESUBMIT;
    return sh_mut_need_extension(ctx) && sh_mut_resign_all(ctx, &o, NULL);
}

bool sh_mut_no_hardened_runtime(sh_mut_ctx *ctx)
{
    sh_mut_resign o = {.runtime = -1};
    ctx->effects.notary = SH_NOTARY_RESUBMIT;
    return sh_mut_need_extension(ctx) && sh_mut_resign_all(ctx, &o, &o);
}

bool sh_mut_no_secure_timestamp(sh_mut_ctx *ctx)
{
    sh_mut_resign o = {.timestamp = -1};
    ctx->effects.notary = SH_NOTARY_RESUBMIT;
    return sh_mut_need_extension(ctx) && sh_mut_resign_all(ctx, &o, &o);
}
