/* Info.plist keys for the verdict engine (infoplist.h). */
#include <stdlib.h>
#include <string.h>

#include "infoplist.h"
#include "plist_guard.h"
#include "res_plist.h"

typedef struct info_ctx {
    sh_infoplist *out;
    sh_error *err;
} info_ctx;

static sh_err type_error(info_ctx *c, const char *key, int64_t index, plist_t v)
{
    return sh_fail_value(c->err, SH_E_INFO_KEY_TYPE, key, index, 0,
                         (uint64_t)plist_get_node_type(v));
}

/* v is the value of key (where-name); index for dict items. */
static sh_err get_string(info_ctx *c, const char *key, int64_t index, plist_t v, char **out)
{
    size_t len = 0;
    switch (sh_pv_string(v, SH_MAX_INFO_STRING, true, c->out->alloc, out, &len)) {
    case SH_PV_OK:
        return SH_E_OK;
    case SH_PV_NOT_STRING:
        return type_error(c, key, index, v);
    case SH_PV_BAD: {
        uint64_t n = 0;
        plist_get_string_ptr(v, &n);
        return sh_fail_value(c->err, SH_E_INFO_BAD_STRING, key, index, 0, n);
    }
    default:
        return sh_fail(c->err, SH_E_NO_MEMORY, key, index, 0);
    }
}

static sh_err opt_string(info_ctx *c, plist_t dict, const char *key, const char *where, char **out)
{
    plist_t v = plist_dict_get_item(dict, key);
    return v ? get_string(c, where, -1, v, out) : SH_E_OK;
}

static const struct {
    const char *key;
    size_t offset;
} STRINGS[] = {
    {"CFBundleIdentifier", offsetof(sh_infoplist, identifier)},
    {"CFBundleExecutable", offsetof(sh_infoplist, executable)},
    {"CFBundlePackageType", offsetof(sh_infoplist, package_type)},
    {"CFBundleVersion", offsetof(sh_infoplist, version)},
    {"CFBundleShortVersionString", offsetof(sh_infoplist, short_version)},
    {"CFBundleName", offsetof(sh_infoplist, name)},
    {"LSMinimumSystemVersion", offsetof(sh_infoplist, min_system)},
    {"NSSystemExtensionUsageDescription", offsetof(sh_infoplist, sysext_usage)},
    {"OSBundleUsageDescription", offsetof(sh_infoplist, os_bundle_usage)},
    {"NSEndpointSecurityMachServiceName", offsetof(sh_infoplist, es_mach_service)},
};

static char **string_field(sh_infoplist *info, size_t offset)
{
    return (char **)(void *)((unsigned char *)info + offset);
}

/* ---- categories ---- */

static sh_err get_providers(info_ctx *c, plist_t v)
{
    static const char *const where = "NetworkExtension/NEProviderClasses";
    sh_infoplist *o = c->out;
    if (plist_get_node_type(v) != PLIST_DICT)
        return type_error(c, where, -1, v);
    o->ne_has_providers = true;
    size_t n = plist_dict_get_size(v);
    if (n > SH_MAX_INFO_ITEMS)
        return sh_fail_value(c->err, SH_E_INFO_TOO_MANY_ITEMS, where, -1, 0, n);
    o->ne_providers = sh_calloc(o->alloc, n ? n : 1, sizeof *o->ne_providers);
    plist_dict_iter it = NULL;
    if (o->ne_providers != NULL)
        plist_dict_new_iter(v, &it);
    if (it == NULL)
        return sh_fail(c->err, SH_E_NO_MEMORY, where, -1, 0);
    sh_err e = SH_E_OK;
    for (size_t i = 0; i < n && e == SH_E_OK; i++) {
        char *key = NULL;
        plist_t item = NULL;
        plist_dict_next_item(v, it, &key, &item);
        sh_info_provider *p = &o->ne_providers[i];
        o->ne_nproviders = i + 1;
        sh_pv_status st = key ? sh_pv_bytes(key, strlen(key), SH_MAX_INFO_STRING, true, o->alloc,
                                            &p->id)
                              : SH_PV_BAD;
        if (st == SH_PV_NO_MEMORY)
            e = sh_fail(c->err, SH_E_NO_MEMORY, where, (int64_t)i, 0);
        else if (st != SH_PV_OK || item == NULL)
            e = sh_fail_value(c->err, SH_E_INFO_BAD_STRING, where, (int64_t)i, 0,
                              key ? strlen(key) : 0);
        else
            e = get_string(c, where, (int64_t)i, item, &p->klass);
        free(key);
    }
    free(it);
    return e;
}

static sh_err get_network(info_ctx *c, plist_t v)
{
    if (plist_get_node_type(v) != PLIST_DICT)
        return type_error(c, "NetworkExtension", -1, v);
    c->out->categories |= SH_SYSEXT_NETWORK;
    sh_err e = opt_string(c, v, "NEMachServiceName", "NetworkExtension/NEMachServiceName",
                          &c->out->ne_mach_service);
    plist_t p = plist_dict_get_item(v, "NEProviderClasses");
    return e == SH_E_OK && p != NULL ? get_providers(c, p) : e;
}

static sh_err get_camera(info_ctx *c, plist_t v)
{
    if (plist_get_node_type(v) != PLIST_DICT)
        return type_error(c, "CMIOExtension", -1, v);
    c->out->categories |= SH_SYSEXT_CAMERA;
    return opt_string(c, v, "CMIOExtensionMachServiceName",
                      "CMIOExtension/CMIOExtensionMachServiceName", &c->out->cmio_mach_service);
}

static sh_err get_categories(info_ctx *c, plist_t root)
{
    sh_infoplist *o = c->out;
    sh_err e = SH_E_OK;
    plist_t v;
    if ((v = plist_dict_get_item(root, "NetworkExtension")) != NULL)
        e = get_network(c, v);
    if (e == SH_E_OK && (v = plist_dict_get_item(root, "CMIOExtension")) != NULL)
        e = get_camera(c, v);
    if (e == SH_E_OK && o->es_mach_service != NULL)
        o->categories |= SH_SYSEXT_ENDPOINT_SECURITY;
    if (e == SH_E_OK && (v = plist_dict_get_item(root, "NSEndpointSecurityEarlyBoot")) != NULL) {
        if (!sh_pv_bool(v, &o->es_early_boot))
            return type_error(c, "NSEndpointSecurityEarlyBoot", -1, v);
        o->es_has_early_boot = true;
    }
    if (e == SH_E_OK && (v = plist_dict_get_item(root, "IOKitPersonalities")) != NULL) {
        if (plist_get_node_type(v) != PLIST_DICT)
            return type_error(c, "IOKitPersonalities", -1, v);
        o->iokit_personalities = plist_dict_get_size(v);
        if (o->iokit_personalities > SH_MAX_INFO_ITEMS)
            return sh_fail_value(c->err, SH_E_INFO_TOO_MANY_ITEMS, "IOKitPersonalities", -1, 0,
                                 o->iokit_personalities);
        o->categories |= SH_SYSEXT_DRIVER;
    }
    return e;
}

static sh_err parse_root(info_ctx *c, plist_t root)
{
    if (plist_get_node_type(root) != PLIST_DICT)
        return sh_fail_value(c->err, SH_E_INFO_ROOT_NOT_DICT, "Info.plist", -1, 0,
                             (uint64_t)plist_get_node_type(root));
    sh_err e = SH_E_OK;
    for (size_t i = 0; i < sizeof STRINGS / sizeof STRINGS[0] && e == SH_E_OK; i++)
        e = opt_string(c, root, STRINGS[i].key, STRINGS[i].key,
                       string_field(c->out, STRINGS[i].offset));
    return e == SH_E_OK ? get_categories(c, root) : e;
}

sh_err sh_infoplist_parse(const sh_cursor *data, const sh_allocator *alloc, sh_infoplist *out,
                          sh_error *err)
{
    memset(out, 0, sizeof *out);
    out->alloc = alloc;
    plist_t root = NULL;
    sh_err e = sh_plist_parse(data, alloc, &root, NULL, err);
    if (e != SH_E_OK)
        return e;
    info_ctx c = {out, err};
    e = parse_root(&c, root);
    plist_free(root);
    if (e != SH_E_OK)
        sh_infoplist_free(out);
    return e;
}

void sh_infoplist_free(sh_infoplist *info)
{
    if (info == NULL)
        return;
    const sh_allocator *a = info->alloc;
    for (size_t i = 0; i < sizeof STRINGS / sizeof STRINGS[0]; i++)
        sh_free(a, *string_field(info, STRINGS[i].offset));
    for (size_t i = 0; i < info->ne_nproviders; i++) {
        sh_free(a, info->ne_providers[i].id);
        sh_free(a, info->ne_providers[i].klass);
    }
    sh_free(a, info->ne_providers);
    sh_free(a, info->ne_mach_service);
    sh_free(a, info->cmio_mach_service);
    memset(info, 0, sizeof *info);
    info->alloc = a;
}

sh_sysext_category sh_infoplist_category(const sh_infoplist *info)
{
    unsigned c = info->categories;
    return c != 0 && (c & (c - 1)) == 0 ? (sh_sysext_category)c : SH_SYSEXT_NONE;
}

const char *sh_infoplist_mach_service(const sh_infoplist *info)
{
    switch (sh_infoplist_category(info)) {
    case SH_SYSEXT_NETWORK:
        return info->ne_mach_service;
    case SH_SYSEXT_ENDPOINT_SECURITY:
        return info->es_mach_service;
    case SH_SYSEXT_CAMERA:
        return info->cmio_mach_service;
    default:
        return NULL;
    }
}

const char *sh_sysext_category_name(sh_sysext_category c)
{
    switch (c) {
    case SH_SYSEXT_NETWORK:
        return "com.apple.system_extension.network_extension";
    case SH_SYSEXT_ENDPOINT_SECURITY:
        return "com.apple.system_extension.endpoint_security";
    case SH_SYSEXT_CAMERA:
        return "com.apple.system_extension.cmio";
    case SH_SYSEXT_DRIVER:
        return "com.apple.system_extension.driver_extension";
    default:
        return NULL;
    }
}

bool sh_infoplist_has_provider(const sh_infoplist *info, const char *id)
{
    for (size_t i = 0; i < info->ne_nproviders; i++)
        if (info->ne_providers[i].id && strcmp(info->ne_providers[i].id, id) == 0)
            return true;
    return false;
}
