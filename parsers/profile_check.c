/* Checks the verdict engine asks of a decoded profile (profile.h). */
#include <string.h>

#include <openssl/evp.h>

#include "profile.h"

sh_err sh_profile_check_expiry(const sh_profile *p, int64_t now, sh_error *err)
{
    if (now >= p->expiration_date)
        return sh_fail_value(err, SH_E_PROFILE_EXPIRED, "ExpirationDate", -1, 0,
                             (uint64_t)p->expiration_date);
    if (now < p->creation_date)
        return sh_fail_value(err, SH_E_PROFILE_NOT_YET_VALID, "CreationDate", -1, 0,
                             (uint64_t)p->creation_date);
    return SH_E_OK;
}

sh_err sh_profile_check_certificate(const sh_profile *p, const sh_cursor *leaf_der, size_t *index,
                                    sh_error *err)
{
    uint8_t md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (leaf_der->len > 0 &&
        EVP_Digest(leaf_der->p, leaf_der->len, md, &len, EVP_sha256(), NULL) && len == 32)
        for (size_t i = 0; i < p->ncerts; i++)
            if (memcmp(p->certs[i].facts.sha256, md, 32) == 0) {
                if (index)
                    *index = i;
                return SH_E_OK;
            }
    return sh_fail(err, SH_E_PROFILE_CERT_NOT_INCLUDED, "DeveloperCertificates", -1, 0);
}

/* ---- entitlement allow-list ---- */

bool sh_profile_string_allowed(const char *pattern, size_t pattern_len, const char *value,
                               size_t value_len)
{
    if (pattern_len > 0 && pattern[pattern_len - 1] == '*')
        return value_len >= pattern_len - 1 && memcmp(pattern, value, pattern_len - 1) == 0;
    return pattern_len == value_len && memcmp(pattern, value, value_len) == 0;
}

/* A signed string against a profile string or any element of a profile array of strings. */
static bool string_allowed(const sh_ent_node *allow, const sh_ent_node *s)
{
    if (s->type != SH_ENT_STRING)
        return false;
    if (allow->type == SH_ENT_STRING)
        return sh_profile_string_allowed((const char *)allow->bytes, allow->len,
                                         (const char *)s->bytes, s->len);
    for (size_t i = 0; allow->type == SH_ENT_ARRAY && i < allow->count; i++)
        if (allow->items[i].type == SH_ENT_STRING &&
            sh_profile_string_allowed((const char *)allow->items[i].bytes, allow->items[i].len,
                                      (const char *)s->bytes, s->len))
            return true;
    return false;
}

static bool element_allowed(const sh_ent_node *allow, const sh_ent_node *v)
{
    if (v->type == SH_ENT_STRING)
        return string_allowed(allow, v);
    for (size_t i = 0; allow->type == SH_ENT_ARRAY && i < allow->count; i++)
        if (sh_entitlements_compare(&allow->items[i], v, NULL, NULL) == SH_E_OK)
            return true;
    return false;
}

static bool value_allowed(const sh_ent_node *allow, const sh_ent_node *v)
{
    if (allow->type == SH_ENT_BOOL)
        return v->type == SH_ENT_BOOL && (v->boolean == allow->boolean || !v->boolean);
    if (v->type == SH_ENT_STRING)
        return string_allowed(allow, v);
    if (v->type == SH_ENT_ARRAY && (allow->type == SH_ENT_ARRAY || allow->type == SH_ENT_STRING)) {
        for (size_t i = 0; i < v->count; i++)
            if (!element_allowed(allow, &v->items[i]))
                return false;
        return true;
    }
    return sh_entitlements_compare(allow, v, NULL, NULL) == SH_E_OK;
}

sh_err sh_profile_check_entitlement(const sh_profile *p, const char *key, const sh_ent_node *value,
                                    sh_error *err)
{
    const sh_ent_node *allow = sh_ent_dict_get(&p->entitlements.root, key);
    if (allow != NULL && value != NULL && value_allowed(allow, value))
        return SH_E_OK;
    return sh_fail_value(err, SH_E_PROFILE_ENTITLEMENT_NOT_ALLOWED, "profile entitlement", -1, 0,
                         allow == NULL ? 0 : 1);
}

sh_err sh_profile_check_entitlements(const sh_profile *p, const sh_ent_node *signed_dict,
                                     const char **bad_key, sh_error *err)
{
    for (size_t i = 0; signed_dict->type == SH_ENT_DICT && i < signed_dict->count; i++) {
        sh_err e = sh_profile_check_entitlement(p, signed_dict->keys[i].str,
                                                &signed_dict->items[i], err);
        if (e != SH_E_OK) {
            if (err)
                err->index = (int64_t)i;
            if (bad_key)
                *bad_key = signed_dict->keys[i].str;
            return e;
        }
    }
    return SH_E_OK;
}

/* ---- app ID, platform, device ---- */

static const sh_ent_node *app_id_node(const sh_profile *p)
{
    const sh_ent_node *n = sh_ent_dict_get(&p->entitlements.root, "application-identifier");
    if (n == NULL)
        n = sh_ent_dict_get(&p->entitlements.root, "com.apple.application-identifier");
    return n != NULL && n->type == SH_ENT_STRING ? n : NULL;
}

/* "<prefix>.<bundle_id>" allowed by the profile's pattern. */
static bool app_id_allowed(const sh_ent_node *pattern, const char *prefix, const char *bundle_id)
{
    size_t pl = strlen(prefix), bl = strlen(bundle_id);
    if (pattern->len < pl + 1 || memcmp(pattern->bytes, prefix, pl) != 0 ||
        pattern->bytes[pl] != '.')
        return false;
    return sh_profile_string_allowed((const char *)pattern->bytes + pl + 1, pattern->len - pl - 1,
                                     bundle_id, bl);
}

sh_err sh_profile_check_app_id(const sh_profile *p, const char *bundle_id, sh_error *err)
{
    const sh_ent_node *pattern = app_id_node(p);
    for (size_t i = 0; pattern != NULL && i < p->app_id_prefixes.count; i++)
        if (app_id_allowed(pattern, p->app_id_prefixes.items[i], bundle_id))
            return SH_E_OK;
    return sh_fail(err, SH_E_PROFILE_APP_ID_MISMATCH, "application-identifier", -1, 0);
}

static bool listed(const sh_profile_strings *s, const char *want)
{
    for (size_t i = 0; i < s->count; i++)
        if (strcmp(s->items[i], want) == 0)
            return true;
    return false;
}

sh_err sh_profile_check_platform(const sh_profile *p, const char *platform, sh_error *err)
{
    return listed(&p->platforms, platform)
               ? SH_E_OK
               : sh_fail(err, SH_E_PROFILE_PLATFORM_MISMATCH, "Platform", -1, 0);
}

sh_err sh_profile_check_device(const sh_profile *p, const char *udid, sh_error *err)
{
    return p->provisions_all_devices || listed(&p->devices, udid)
               ? SH_E_OK
               : sh_fail(err, SH_E_PROFILE_DEVICE_NOT_PROVISIONED, "ProvisionedDevices", -1, 0);
}
