/* Info.plist: the keys the verdict engine needs (codesign-formats.md section 7).
 *
 * The plist (XML or binary) goes through plist_guard (PLIST_* errors) and libplist; the root must
 * be a dict (INFO_ROOT_NOT_DICT).  Every key read must have the type named below, otherwise
 * INFO_KEY_TYPE with err->where = the key ("NetworkExtension/NEMachServiceName"), err->index =
 * the item for arrays/dicts (-1 for the value itself), err->value = libplist node type.  Strings
 * must be UTF-8 without NUL and at most SH_MAX_INFO_STRING bytes (INFO_BAD_STRING); empty strings
 * are kept (the verdict engine decides what an empty identifier means).  Absent keys are NULL.
 *
 * System-extension category: decided by key presence, each recorded on its own (the verdict
 * engine decides what several or none mean: UnknownExtensionCategory):
 * - network: NetworkExtension (dict) {NEMachServiceName (string), NEProviderClasses (dict:
 *   provider id -> class name string)};
 * - endpoint security: NSEndpointSecurityMachServiceName (string), NSEndpointSecurityEarlyBoot
 *   (bool);
 * - camera: CMIOExtension (dict) {CMIOExtensionMachServiceName (string)};
 * - driver: IOKitPersonalities (dict; personalities counted). */
#ifndef SH_INFOPLIST_H
#define SH_INFOPLIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alloc.h"
#include "cursor.h"
#include "errors.h"
#include "sh_limits.h"

typedef enum sh_sysext_category {
    SH_SYSEXT_NONE = 0,
    SH_SYSEXT_NETWORK = 1u << 0,
    SH_SYSEXT_ENDPOINT_SECURITY = 1u << 1,
    SH_SYSEXT_CAMERA = 1u << 2,
    SH_SYSEXT_DRIVER = 1u << 3,
} sh_sysext_category;

typedef struct sh_info_provider {
    char *id;    /* "com.apple.networkextension.packet-tunnel" */
    char *klass; /* "$(PRODUCT_MODULE_NAME).PacketTunnelProvider" */
} sh_info_provider;

typedef struct sh_infoplist {
    char *identifier;        /* CFBundleIdentifier */
    char *executable;        /* CFBundleExecutable */
    char *package_type;      /* CFBundlePackageType: APPL, SYSX, DEXT, BNDL */
    char *version;           /* CFBundleVersion */
    char *short_version;     /* CFBundleShortVersionString */
    char *name;              /* CFBundleName */
    char *min_system;        /* LSMinimumSystemVersion */
    char *sysext_usage;      /* NSSystemExtensionUsageDescription */
    char *os_bundle_usage;   /* OSBundleUsageDescription (dexts) */

    unsigned categories; /* sh_sysext_category bits of every category key present */
    char *ne_mach_service;   /* NetworkExtension/NEMachServiceName */
    bool ne_has_providers;   /* NEProviderClasses present */
    size_t ne_nproviders;
    sh_info_provider *ne_providers; /* in plist order */
    char *es_mach_service;   /* NSEndpointSecurityMachServiceName */
    bool es_has_early_boot, es_early_boot;
    char *cmio_mach_service; /* CMIOExtension/CMIOExtensionMachServiceName */
    size_t iokit_personalities;

    const sh_allocator *alloc;
} sh_infoplist;

/* On failure *out is empty (safe to free). */
sh_err sh_infoplist_parse(const sh_cursor *data, const sh_allocator *alloc, sh_infoplist *out,
                          sh_error *err);
void sh_infoplist_free(sh_infoplist *info);

/* The one category present, SH_SYSEXT_NONE when none or several. */
sh_sysext_category sh_infoplist_category(const sh_infoplist *info);
/* The Mach service name of that category (NULL for none, several, or driver). */
const char *sh_infoplist_mach_service(const sh_infoplist *info);
/* "com.apple.system_extension.network_extension", ...; NULL for NONE or several bits. */
const char *sh_sysext_category_name(sh_sysext_category c);
/* Is the provider id listed in NEProviderClasses? */
bool sh_infoplist_has_provider(const sh_infoplist *info, const char *id);

#endif
