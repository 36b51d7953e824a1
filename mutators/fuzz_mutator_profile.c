/* Provisioning-profile edits for packed bundles: the embedded profile's plist changed and the
 * profile signed again by the test PKI's profile signer (sh_mut_profile_rewrite), then the code
 * re-signed inside out because the profile is a sealed resource.  The profile is a CMS over the
 * plist, so byte mutation never gets an edited plist past the profile's signature check; these
 * edits reach the checks behind it (expiry, platform, team, App ID, certificate and device
 * lists, the entitlements allow-list with its wildcards, the key types).  Each edit models a
 * profile the developer portal really issues or a developer really embeds: an expired or
 * not-yet-valid one, one for iOS, another team's, one without this Mac or this certificate, a
 * wildcard App ID, an allow-list missing a capability or listing it with other values, and the
 * malformed ones hand-edited profiles are (a key missing, a string where an array belongs).
 * Sometimes the code is not re-signed afterwards: a profile swapped after signing. */
#include <stdio.h>
#include <string.h>

#include <plist/plist.h>

#include "fixture_build.h"
#include "fuzz_mutator_internal.h"
#include "mut_toolkit.h"

#define COUNT_OF(a) (sizeof(a) / sizeof((a)[0]))
#define CF_EPOCH_UNIX 978307200 /* 2001-01-01, the plist date epoch */
#define DAY 86400

typedef struct profile_arg {
    sh_fm_rng *rng;
    const char *what;
} profile_arg;

static plist_t date_at(int64_t unix_time)
{
    return plist_new_date((int32_t)(unix_time - CF_EPOCH_UNIX), 0);
}

static plist_t strings(const char *const *items, size_t n)
{
    plist_t a = plist_new_array();
    for (size_t i = 0; i < n; i++)
        plist_array_append_item(a, plist_new_string(items[i]));
    return a;
}

/* The team the profile names, for values that should agree with it. */
static const char *profile_team(plist_t profile)
{
    plist_t teams = plist_dict_get_item(profile, "TeamIdentifier");
    plist_t first = teams && plist_get_node_type(teams) == PLIST_ARRAY && plist_array_get_size(teams)
                        ? plist_array_get_item(teams, 0)
                        : NULL;
    const char *team = first ? plist_get_string_ptr(first, NULL) : NULL;
    return team && *team ? team : "SHTEAM0001";
}

static void edit_entitlements(plist_t profile, sh_fm_rng *rng, profile_arg *a)
{
    char buf[128];
    const char *team = profile_team(profile);
    plist_t ents = plist_dict_get_item(profile, "Entitlements");
    if (!ents || plist_get_node_type(ents) != PLIST_DICT || sh_fm_rng_percent(rng, 20)) {
        plist_dict_set_item(profile, "Entitlements",
                            sh_fm_entitlements_dict(rng, team, "com.example.app"));
        a->what = "profile.entitlements_replaced";
        return;
    }
    switch (sh_fm_rng_below(rng, 4)) {
    case 0: /* wildcard App ID */
        snprintf(buf, sizeof buf, "%s.%s", team, sh_fm_rng_percent(rng, 50) ? "*" : "com.other.*");
        plist_dict_set_item(ents, "com.apple.application-identifier", plist_new_string(buf));
        a->what = "profile.app_id";
        break;
    case 1: { /* the allow-list lists every value with a wildcard, or a narrower set */
        static const char *const star[] = {"*"};
        static const char *const narrow[] = {"packet-tunnel-provider-systemextension"};
        plist_dict_set_item(ents, "com.apple.developer.networking.networkextension",
                            sh_fm_rng_percent(rng, 50) ? strings(star, 1) : strings(narrow, 1));
        a->what = "profile.ne_allow_list";
        break;
    }
    case 2:
        plist_dict_set_item(ents, "com.apple.developer.team-identifier",
                            plist_new_string(sh_fm_rng_percent(rng, 50) ? team : "SHTEAM0002"));
        a->what = "profile.team_entitlement";
        break;
    default:
        sh_fm_entitlements_edit(ents, rng, team, "com.example.app");
        a->what = "profile.entitlement";
        break;
    }
}

static bool edit_profile(sh_mut_ctx *ctx, plist_t profile, void *arg)
{
    profile_arg *a = arg;
    sh_fm_rng *rng = a->rng;
    switch (sh_fm_rng_below(rng, 10)) {
    case 0: {
        static const int64_t ends[] = {-DAY, -400 * DAY, 3650LL * DAY, 2 * DAY};
        plist_dict_set_item(profile, "ExpirationDate",
                            date_at(SH_FX_SIGNING_TIME + ends[sh_fm_rng_below(rng, COUNT_OF(ends))]));
        a->what = "profile.expiration";
        break;
    }
    case 1:
        plist_dict_set_item(profile, "CreationDate", date_at(SH_FX_SIGNING_TIME + 30 * DAY));
        a->what = "profile.creation_after_now";
        break;
    case 2:
    case 3:
        edit_entitlements(profile, rng, a);
        break;
    case 4: {
        static const char *const other[] = {"SHTEAM0002"};
        static const char *const both[] = {"SHTEAM0002", "SHTEAM0001"};
        plist_dict_set_item(profile, "TeamIdentifier",
                            sh_fm_rng_percent(rng, 30)   ? strings(both, 2)
                            : sh_fm_rng_percent(rng, 70) ? strings(other, 1)
                                                         : plist_new_string("SHTEAM0001"));
        a->what = "profile.team";
        break;
    }
    case 5: {
        static const char *const ios[] = {"iOS"};
        static const char *const both[] = {"iOS", "OSX"};
        if (sh_fm_rng_percent(rng, 25))
            plist_dict_remove_item(profile, "Platform");
        else
            plist_dict_set_item(profile, "Platform",
                                sh_fm_rng_percent(rng, 50) ? strings(ios, 1) : strings(both, 2));
        a->what = "profile.platform";
        break;
    }
    case 6: {
        /* development profiles list devices; Developer ID ones provision all */
        static const char *const devices[] = {"00008103-001A2B3C4D5E6F70", "00000000-0000000000000000"};
        switch (sh_fm_rng_below(rng, 4)) {
        case 0: plist_dict_set_item(profile, "ProvisionedDevices", strings(devices, 1)); break;
        case 1: plist_dict_set_item(profile, "ProvisionedDevices", strings(devices + 1, 1)); break;
        case 2: plist_dict_remove_item(profile, "ProvisionedDevices"); break;
        default:
            plist_dict_set_item(profile, "ProvisionsAllDevices",
                                plist_new_bool(sh_fm_rng_percent(rng, 50)));
            break;
        }
        a->what = "profile.devices";
        break;
    }
    case 7: {
        static const char *const ids[] = {"devid-team1", "devid-team2", "dev-team1", "dev-team2"};
        if (sh_fm_rng_percent(rng, 20)) {
            plist_dict_set_item(profile, "DeveloperCertificates", plist_new_array());
        } else if (!sh_mut_profile_set_certificate(ctx, profile,
                                                   ids[sh_fm_rng_below(rng, COUNT_OF(ids))])) {
            return false;
        }
        a->what = "profile.certificates";
        break;
    }
    case 8: {
        /* a hand-edited profile: a required key gone or of the wrong type */
        static const char *const keys[] = {"TeamIdentifier", "ExpirationDate", "Entitlements",
                                           "Name", "UUID", "DeveloperCertificates", "AppIDName"};
        const char *key = keys[sh_fm_rng_below(rng, COUNT_OF(keys))];
        if (sh_fm_rng_percent(rng, 50))
            plist_dict_remove_item(profile, key);
        else
            plist_dict_set_item(profile, key, plist_new_uint(1));
        a->what = "profile.malformed";
        break;
    }
    default: {
        plist_dict_set_item(profile, "Name",
                            plist_new_string(sh_fm_rng_percent(rng, 50) ? "" : "iOS Team Profile: *"));
        plist_dict_set_item(profile, "IsXcodeManaged", plist_new_bool(true));
        a->what = "profile.name";
        break;
    }
    }
    return true;
}

const char *sh_fm_bundle_profile(const sh_fm_config *c, sh_mut_ctx *ctx, sh_fm_rng *rng)
{
    (void)c;
    bool ext = ctx->extension[0] && sh_bundle_find(ctx->bundle, ctx->extension) &&
               sh_fm_rng_percent(rng, 65);
    const char *root = ext ? ctx->extension : "";
    profile_arg a = {rng, NULL};
    /* the profile's signingTime decides when its chain is checked: sometimes before the
     * profile signer's certificate was issued */
    int64_t signing_time = ctx->signing_time;
    if (sh_fm_rng_percent(rng, 10))
        ctx->signing_time = SH_FX_SIGNING_TIME - 3650LL * DAY;
    bool ok = sh_mut_profile_rewrite(ctx, root, edit_profile, &a);
    ctx->signing_time = signing_time;
    if (!ok || !a.what)
        return NULL;
    if (sh_fm_rng_percent(rng, 15))
        return "profile.swapped_after_signing";
    if (ext ? !sh_mut_resign_all(ctx, NULL, NULL) : !sh_mut_resign_root(ctx, "", NULL))
        return NULL;
    return a.what;
}
