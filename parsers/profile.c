/* Provisioning profiles: the parse in the order profile.h describes, the kind rule table, and
 * freeing. */
#include "profile.h"

#include <string.h>

#include "plist_guard.h"
#include "profile_internal.h"

const char *sh_profile_kind_name(sh_profile_kind kind)
{
    switch (kind) {
    case SH_PROFILE_KIND_UNKNOWN: return "unknown";
    case SH_PROFILE_KIND_DEVELOPMENT: return "Development";
    case SH_PROFILE_KIND_AD_HOC: return "Ad Hoc";
    case SH_PROFILE_KIND_APP_STORE: return "App Store";
    case SH_PROFILE_KIND_ENTERPRISE: return "Enterprise";
    case SH_PROFILE_KIND_DEVELOPER_ID: return "Developer ID";
    }
    return "unknown";
}

const char *sh_profile_anchor_name(sh_profile_anchor a)
{
    switch (a) {
    case SH_PROFILE_ANCHOR_NONE: return "none";
    case SH_PROFILE_ANCHOR_APPLE_ROOT_CA: return "Apple Root CA";
    case SH_PROFILE_ANCHOR_APPLE_LEGACY_ROOT: return "Apple Root Certificate Authority (legacy)";
    case SH_PROFILE_ANCHOR_CALLER: return "caller-supplied root";
    }
    return "unknown";
}

char *sh_profile_strdup(const sh_allocator *a, const char *s, size_t len)
{
    if (len == SIZE_MAX)
        return NULL;
    char *copy = sh_calloc(a, len + 1, 1);
    if (copy != NULL && len > 0)
        memcpy(copy, s, len);
    return copy;
}

void sh_profile_strings_free(const sh_allocator *a, sh_profile_strings *s)
{
    for (size_t i = 0; s->items != NULL && i < s->count; i++)
        sh_free(a, s->items[i]);
    sh_free(a, s->items);
    s->items = NULL;
    s->count = 0;
}

/* ---- kind (the table in profile.h) ---- */

static bool has_string(const sh_profile_strings *s, const char *want)
{
    for (size_t i = 0; i < s->count; i++)
        if (strcmp(s->items[i], want) == 0)
            return true;
    return false;
}

static bool has_cert_kind(const sh_profile *p, sh_cert_kind kind)
{
    for (size_t i = 0; i < p->ncerts; i++)
        if (p->certs[i].kind == kind)
            return true;
    return false;
}

static sh_profile_kind classify(const sh_profile *p)
{
    if (p->provisions_all_devices) {
        if (has_string(&p->platforms, "OSX") ||
            has_cert_kind(p, SH_CERT_KIND_DEVELOPER_ID_APPLICATION))
            return SH_PROFILE_KIND_DEVELOPER_ID;
        return SH_PROFILE_KIND_ENTERPRISE;
    }
    if (p->has_devices) {
        if (sh_ent_get_bool(&p->entitlements.root, "get-task-allow") ||
            sh_ent_get_bool(&p->entitlements.root, "com.apple.security.get-task-allow") ||
            has_cert_kind(p, SH_CERT_KIND_APPLE_DEVELOPMENT))
            return SH_PROFILE_KIND_DEVELOPMENT;
        return SH_PROFILE_KIND_AD_HOC;
    }
    return SH_PROFILE_KIND_APP_STORE;
}

/* ---- parse ---- */

static sh_err decode_content(sh_profile *out, sh_verify_memo *memo, sh_error *err)
{
    sh_cursor c = sh_cursor_make(out->content, out->content_len);
    out->content_binary = sh_plist_detect(&c) == SH_PLIST_FORMAT_BINARY;
    plist_t root = NULL;
    sh_err e = sh_plist_parse(&c, out->alloc, &root, NULL, err);
    if (e == SH_E_OK)
        e = sh_profile_decode_plist(root, memo, out, err);
    plist_free(root);
    return e;
}

sh_err sh_profile_parse(const uint8_t *bytes, size_t len, const sh_allocator *alloc,
                        const sh_profile_options *options, sh_profile *out, sh_error *err)
{
    memset(out, 0, sizeof *out);
    out->alloc = alloc;
    out->entitlements.alloc = alloc;
    sh_cursor in = sh_cursor_make(bytes, len);
    sh_cms cms;
    sh_err e = sh_profile_cms_decode(&in, options ? options->memo : NULL, &cms, out, err);
    if (e == SH_E_OK)
        e = decode_content(out, options ? options->memo : NULL, err);
    if (e == SH_E_OK) {
        out->decoded = true;
        out->kind = classify(out);
        sh_profile_cms_verify(&cms, out, options, out->creation_date, &out->sig);
        if (out->sig.result != SH_E_OK && err != NULL)
            *err = out->sig.err;
        e = out->sig.result;
    }
    sh_cms_free(&cms);
    return e;
}

void sh_profile_free(sh_profile *p)
{
    const sh_allocator *a = p->alloc;
    sh_free(a, p->content);
    sh_free(a, p->app_id_name);
    sh_free(a, p->name);
    sh_free(a, p->uuid);
    sh_free(a, p->team_name);
    sh_profile_strings_free(a, &p->app_id_prefixes);
    sh_profile_strings_free(a, &p->team_ids);
    sh_profile_strings_free(a, &p->platforms);
    sh_profile_strings_free(a, &p->devices);
    sh_profile_strings_free(a, &p->other_keys);
    sh_entitlements_free(&p->entitlements);
    sh_free(a, p->certs);
    memset(p, 0, sizeof *p);
    p->alloc = a;
}
