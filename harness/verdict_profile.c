/* Stage 4: the signed entitlements against the embedded provisioning profile (reference
 * section 6), what amfid checks before it lets the process run. */
#include <stdio.h>
#include <string.h>

#include "profile.h"
#include "verdict_internal.h"

#define NE_KEY "com.apple.developer.networking.networkextension"
#define NE_SUFFIX "-systemextension"

static bool developer_id(const vd_code *c)
{
    return c->has_leaf && c->leaf_kind == SH_CERT_KIND_DEVELOPER_ID_APPLICATION;
}

/* Under Developer ID every NE value but dns-settings takes the -systemextension suffix. */
static bool ne_value_ok(const sh_ent_node *v)
{
    if (v->type != SH_ENT_STRING)
        return true;
    const char *s = (const char *)v->bytes;
    size_t n = v->len, m = strlen(NE_SUFFIX);
    return strcmp(s, "dns-settings") == 0 || (n > m && strcmp(s + n - m, NE_SUFFIX) == 0);
}

static bool check_ne_suffix(vd_ctx *x, const vd_code *c)
{
    const sh_ent_node *ne = sh_ent_dict_get(c->entitlements, NE_KEY);
    if (!ne || !developer_id(c))
        return false;
    char bad[512] = "";
    size_t n = 0;
    for (size_t i = 0; ne->type == SH_ENT_ARRAY && i < ne->count; i++)
        if (!ne_value_ok(&ne->items[i]) && n + ne->items[i].len + 3 < sizeof bad) {
            int w = snprintf(bad + n, sizeof bad - n, "%s%s", n ? ", " : "", ne->items[i].bytes);
            n += w > 0 ? (size_t)w : 0;
        }
    if (ne->type == SH_ENT_STRING && !ne_value_ok(ne))
        snprintf(bad, sizeof bad, "%s", ne->bytes);
    if (!*bad)
        return false;
    vd_add(x, SH_RULE_NE_VALUE_NEEDS_SYSTEMEXTENSION_SUFFIX, c->root, SH_E_OK, false,
           "%s = [%s] under a Developer ID signature", NE_KEY, bad);
    vd_log_rule(x, SH_RULE_NE_VALUE_NEEDS_SYSTEMEXTENSION_SUFFIX, "", c->root, "");
    vd_log_rule(x, SH_RULE_PROFILE_MISSING, "", c->root, "");
    return true;
}

static void profile_error(vd_ctx *x, const vd_code *c, sh_rule_id rule, sh_err e,
                          const sh_error *err)
{
    char msg[512];
    sh_error_format(err, msg, sizeof msg);
    vd_add(x, rule, c->root, e, false, "%s", msg);
}

static bool leaf_listed(const sh_profile *p, const vd_code *c)
{
    for (size_t i = 0; i < p->ncerts; i++)
        if (memcmp(p->certs[i].facts.sha256, c->primary->cms.leaf.sha256, 32) == 0)
            return true;
    return false;
}

static bool team_listed(const sh_profile *p, const char *team)
{
    for (size_t i = 0; i < p->team_ids.count; i++)
        if (strcmp(p->team_ids.items[i], team) == 0)
            return true;
    return false;
}

static void check_against(vd_ctx *x, const vd_code *c, const sh_profile *p, bool ne_reported)
{
    sh_error err = {0};
    sh_err e;
    const char *root = c->root;
    if ((e = sh_profile_check_expiry(p, x->o->now, &err)) != SH_E_OK)
        profile_error(x, c, SH_RULE_PROFILE_EXPIRED, e, &err);
    if ((e = sh_profile_check_platform(p, "OSX", &err)) != SH_E_OK)
        profile_error(x, c, SH_RULE_PROFILE_PLATFORM_MISMATCH, e, &err);
    if (*c->team && !team_listed(p, c->team))
        vd_add(x, SH_RULE_PROFILE_TEAM_MISMATCH, root, SH_E_OK, false,
               "code team %s is not in the profile's TeamIdentifier", c->team);
    const char *bundle_id = c->has_info ? c->info.identifier : NULL;
    if (bundle_id && (e = sh_profile_check_app_id(p, bundle_id, &err)) != SH_E_OK)
        profile_error(x, c, SH_RULE_PROFILE_APP_ID_MISMATCH, e, &err);
    bool devid = developer_id(c);
    if ((devid && p->kind == SH_PROFILE_KIND_DEVELOPMENT) ||
        (c->leaf_kind == SH_CERT_KIND_APPLE_DEVELOPMENT && p->kind == SH_PROFILE_KIND_DEVELOPER_ID))
        vd_add(x, SH_RULE_PROFILE_KIND_MISMATCH, root, SH_E_OK, false,
               "%s profile \"%s\" in code signed with %s", sh_profile_kind_name(p->kind),
               p->name ? p->name : "", sh_cert_kind_name(c->leaf_kind));
    if (c->has_leaf && !leaf_listed(p, c))
        vd_add(x, SH_RULE_PROFILE_CERT_NOT_INCLUDED, root, SH_E_OK, false,
               "leaf \"%s\" is not among the profile's %zu DeveloperCertificates",
               c->primary->cms.leaf.cn, p->ncerts);
    if (x->o->udid && p->kind == SH_PROFILE_KIND_DEVELOPMENT &&
        (e = sh_profile_check_device(p, x->o->udid, &err)) != SH_E_OK)
        profile_error(x, c, SH_RULE_PROFILE_DEVICE_NOT_PROVISIONED, e, &err);
    const sh_ent_node *ents = c->entitlements;
    for (size_t i = 0; ents && i < ents->count; i++) {
        const char *key = ents->keys[i].str;
        if (!vd_is_restricted_entitlement(key) || (ne_reported && strcmp(key, NE_KEY) == 0))
            continue;
        if (sh_profile_check_entitlement(p, key, &ents->items[i], &err) != SH_E_OK) {
            vd_add(x, SH_RULE_ENTITLEMENT_NOT_IN_PROFILE, root, SH_E_PROFILE_ENTITLEMENT_NOT_ALLOWED,
                   false, "%s", key);
            vd_log_rule(x, SH_RULE_ENTITLEMENT_NOT_IN_PROFILE, "", root, key);
        }
    }
}

void vd_check_profile(vd_ctx *x, const vd_code *c)
{
    if (!c->signed_any)
        return;
    bool ne_reported = check_ne_suffix(x, c);
    const sh_ent_node *ents = c->entitlements;
    const char *restricted = NULL;
    for (size_t i = 0; ents && i < ents->count && !restricted; i++)
        if (vd_is_restricted_entitlement(ents->keys[i].str))
            restricted = ents->keys[i].str;
    if (c->adhoc) {
        /* No certificate, so no profile's DeveloperCertificates can hold the signing leaf:
         * amfid cannot validate restricted entitlements of ad-hoc code, whatever profile is
         * embedded (section 6; 8c#5 "Restricted entitlements not validated"). */
        if (restricted) {
            vd_add(x, SH_RULE_PROFILE_CERT_NOT_INCLUDED, c->root, SH_E_OK, false,
                   "signed ad hoc (no certificate a profile could list), restricted entitlement %s",
                   restricted);
            vd_log_rule(x, SH_RULE_PROFILE_CERT_NOT_INCLUDED, "", c->root, "");
        }
        return;
    }
    char path[SH_MAX_BUNDLE_PATH + 48];
    snprintf(path, sizeof path, "%s%sContents/embedded.provisionprofile", c->root, *c->root ? "/" : "");
    const sh_bundle_entry *e = sh_bundle_find(x->b, path);
    if (!e || e->kind != SH_BUNDLE_FILE) {
        if (restricted) {
            vd_add(x, SH_RULE_PROFILE_MISSING, c->root, SH_E_OK, false,
                   "restricted entitlement %s, no %s", restricted, path);
            vd_log_rule(x, SH_RULE_PROFILE_MISSING, "", c->root, "");
        }
        return;
    }
    sh_profile p;
    sh_error err = {0};
    sh_profile_options po = {.now = x->o->now, .trust = x->o->trust};
    sh_err r = sh_profile_parse(e->data, e->len, x->o->alloc, &po, &p, &err);
    if (r == SH_E_NO_MEMORY)
        x->v->failure = r;
    if (r != SH_E_OK)
        profile_error(x, c, SH_RULE_PROFILE_INVALID, r, &err);
    if (p.decoded)
        check_against(x, c, &p, ne_reported);
    sh_profile_free(&p);
}
