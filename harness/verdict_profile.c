/* Stage 4: the signed entitlements against the embedded provisioning profile (reference
 * section 6), what amfid checks before it lets the process run. */
#include <stdio.h>
#include <stdlib.h>
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

/* A profile parsed and verified: a pure function of its bytes, the time and the anchors. */
typedef struct profile_outcome {
    sh_err result;
    sh_error err;
    sh_profile profile;
} profile_outcome;

static void release_outcome(void *v)
{
    profile_outcome *o = v;
    sh_profile_free(&o->profile);
    free(o);
}

static bool profile_key(const vd_ctx *x, const sh_bundle_entry *e, uint8_t key[SH_VERIFY_MEMO_KEY_LEN])
{
    sh_memo_key k;
    sh_memo_key_begin(&k, "provisioning profile/1");
    sh_memo_key_bytes(&k, e->data, e->len);
    sh_memo_key_u64(&k, (uint64_t)x->o->now);
    sh_memo_key_trust(&k, &x->o->trust);
    return sh_memo_key_end(&k, key);
}

/* The outcome from the memo, or parsed into *scratch (then the caller frees scratch->profile),
 * or parsed and handed to the memo. */
static const profile_outcome *parse_profile(vd_ctx *x, const sh_bundle_entry *e,
                                            profile_outcome *scratch)
{
    uint8_t key[SH_VERIFY_MEMO_KEY_LEN];
    bool keyed = x->o->memo && profile_key(x, e, key);
    const profile_outcome *known = keyed ? sh_verify_memo_get(x->o->memo, key) : NULL;
    if (known)
        return known;
    profile_outcome *o = keyed ? calloc(1, sizeof *o) : NULL;
    if (!o)
        o = scratch;
    memset(&o->err, 0, sizeof o->err);
    sh_profile_options po = {.now = x->o->now, .trust = x->o->trust, .memo = x->o->memo};
    o->result = sh_profile_parse(e->data, e->len, x->o->alloc, &po, &o->profile, &o->err);
    if (o == scratch)
        return o;
    /* running out of memory is not a property of the input */
    if (o->result != SH_E_NO_MEMORY && sh_verify_memo_put(x->o->memo, key, o, release_outcome))
        return o;
    *scratch = *o;
    free(o);
    return scratch;
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
    profile_outcome scratch;
    const profile_outcome *o = parse_profile(x, e, &scratch);
    if (o->result == SH_E_NO_MEMORY)
        x->v->failure = o->result;
    if (o->result != SH_E_OK)
        profile_error(x, c, SH_RULE_PROFILE_INVALID, o->result, &o->err);
    if (o->profile.decoded)
        check_against(x, c, &o->profile, ne_reported);
    if (o == &scratch)
        sh_profile_free(&scratch.profile);
}
