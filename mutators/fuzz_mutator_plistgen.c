/* Plist contents for the re-signing bundle actions: entitlements dicts and Info.plist edits.
 * Both are sealed (entitlements in slots 5 and 7 and the CMS, Info.plist in slot 1), so only a
 * mutation that re-signs afterwards gets them past the hash checks to the checks that read
 * them: the profile allow-list, the restricted-entitlement rules, the network-extension suffix
 * rule, the category and mach-service rules, the entitlement clauses of requirements, the XML
 * against DER comparison.  Keys and values are the ones those checks name, with the types a
 * developer gets wrong (a string where a bool belongs, one string where an array belongs). */
#include <stdio.h>
#include <string.h>

#include "fuzz_mutator_internal.h"

#define COUNT_OF(a) (sizeof(a) / sizeof((a)[0]))
#define ENT_MAX_KEYS 8u /* keys drawn into one generated dict */

static const char *pick(sh_fm_rng *rng, const char *const *list, size_t n)
{
    return list[sh_fm_rng_below(rng, n)];
}

static const char *const ne_values[] = {
    "content-filter-provider-systemextension", "packet-tunnel-provider-systemextension",
    "app-proxy-provider-systemextension", "dns-proxy-systemextension", "dns-settings",
    "content-filter-provider", "packet-tunnel-provider", "app-proxy-provider",
};

/* An array of 0-3 strings from list. */
static plist_t string_array(sh_fm_rng *rng, const char *const *list, size_t n)
{
    plist_t a = plist_new_array();
    unsigned count = (unsigned)sh_fm_rng_below(rng, 4);
    for (unsigned i = 0; i < count; i++)
        plist_array_append_item(a, plist_new_string(pick(rng, list, n)));
    return a;
}

/* A value of a type the key does not take (the mistakes a hand-written plist has). */
static plist_t wrong_type(sh_fm_rng *rng, const char *team)
{
    switch (sh_fm_rng_below(rng, 5)) {
    case 0: return plist_new_string(sh_fm_rng_percent(rng, 50) ? "true" : team);
    case 1: return plist_new_uint(sh_fm_rng_below(rng, 3));
    case 2: return plist_new_array();
    case 3: return plist_new_dict();
    default: return plist_new_bool(sh_fm_rng_percent(rng, 50));
    }
}

static plist_t entitlement_value(sh_fm_rng *rng, const char *key, const char *team,
                                 const char *identifier)
{
    char buf[SH_MAX_BUNDLE_PATH + 80];
    if (sh_fm_rng_percent(rng, 12))
        return wrong_type(rng, team);
    if (strcmp(key, "com.apple.developer.networking.networkextension") == 0) {
        if (sh_fm_rng_percent(rng, 15))
            return plist_new_string(pick(rng, ne_values, COUNT_OF(ne_values)));
        return string_array(rng, ne_values, COUNT_OF(ne_values));
    }
    if (strcmp(key, "com.apple.developer.team-identifier") == 0)
        return plist_new_string(sh_fm_rng_percent(rng, 80) ? team : "SHTEAM0002");
    if (strcmp(key, "com.apple.application-identifier") == 0) {
        snprintf(buf, sizeof buf, "%s.%s", sh_fm_rng_percent(rng, 80) ? team : "SHTEAM0002",
                 sh_fm_rng_percent(rng, 80) ? identifier : "*");
        return plist_new_string(buf);
    }
    if (strcmp(key, "com.apple.security.application-groups") == 0 ||
        strcmp(key, "keychain-access-groups") == 0) {
        char g1[96], g2[96];
        snprintf(g1, sizeof g1, "%s.group", team);
        snprintf(g2, sizeof g2, "%s.*", team);
        const char *const groups[] = {g1, g2, "group.com.example", "SHTEAM0002.group"};
        return string_array(rng, groups, COUNT_OF(groups));
    }
    if (strcmp(key, "com.apple.developer.driverkit.transport.usb") == 0) {
        plist_t a = plist_new_array(), d = plist_new_dict();
        plist_dict_set_item(d, "idVendor", plist_new_uint(sh_fm_rng_percent(rng, 50) ? 1452 : 0));
        plist_array_append_item(a, d);
        return a;
    }
    if (strcmp(key, "com.apple.developer.associated-domains") == 0) {
        static const char *const domains[] = {"applinks:example.com", "webcredentials:*.example.com"};
        return string_array(rng, domains, COUNT_OF(domains));
    }
    if (strcmp(key, "com.sigharness.level") == 0)
        return plist_new_uint(sh_fm_rng_below(rng, 1000));
    if (strcmp(key, "com.sigharness.nested") == 0) {
        plist_t d = plist_new_dict();
        plist_dict_set_item(d, "enabled", plist_new_bool(true));
        plist_dict_set_item(d, "names", string_array(rng, ne_values, 3));
        return d;
    }
    return plist_new_bool(sh_fm_rng_percent(rng, 85)); /* the capabilities are booleans */
}

static const char *const entitlement_keys[] = {
    "com.apple.security.app-sandbox", "com.apple.security.get-task-allow",
    "com.apple.developer.system-extension.install", "com.apple.developer.team-identifier",
    "com.apple.application-identifier", "com.apple.security.application-groups",
    "com.apple.developer.networking.networkextension",
    "com.apple.developer.endpoint-security.client", "com.apple.developer.driverkit",
    "com.apple.developer.driverkit.transport.usb", "com.apple.security.cs.allow-jit",
    "com.apple.security.cs.disable-library-validation", "com.apple.security.network.client",
    "keychain-access-groups", "com.apple.developer.associated-domains",
    "com.apple.developer.system-extension.redistributable", "com.sigharness.level",
    "com.sigharness.nested",
};

plist_t sh_fm_entitlements_dict(sh_fm_rng *rng, const char *team, const char *identifier)
{
    plist_t d = plist_new_dict();
    unsigned n = 1 + (unsigned)sh_fm_rng_below(rng, ENT_MAX_KEYS);
    for (unsigned i = 0; i < n; i++) {
        const char *key = pick(rng, entitlement_keys, COUNT_OF(entitlement_keys));
        plist_dict_set_item(d, key, entitlement_value(rng, key, team, identifier));
    }
    return d;
}

void sh_fm_entitlements_edit(plist_t dict, sh_fm_rng *rng, const char *team,
                             const char *identifier)
{
    const char *key = pick(rng, entitlement_keys, COUNT_OF(entitlement_keys));
    if (sh_fm_rng_percent(rng, 25))
        plist_dict_remove_item(dict, key);
    else
        plist_dict_set_item(dict, key, entitlement_value(rng, key, team, identifier));
}

/* ---- Info.plist ---- */

static plist_t network_extension(sh_fm_rng *rng)
{
    plist_t ne = plist_new_dict(), classes = plist_new_dict();
    static const char *const kinds[] = {
        "com.apple.networkextension.filter-data", "com.apple.networkextension.filter-packet",
        "com.apple.networkextension.packet-tunnel", "com.apple.networkextension.app-proxy",
        "com.apple.networkextension.dns-proxy",
    };
    unsigned n = (unsigned)sh_fm_rng_below(rng, 3);
    for (unsigned i = 0; i < n; i++)
        plist_dict_set_item(classes, pick(rng, kinds, COUNT_OF(kinds)),
                            sh_fm_rng_percent(rng, 85) ? plist_new_string("$(PRODUCT_MODULE_NAME).Provider")
                                                       : plist_new_uint(1));
    if (sh_fm_rng_percent(rng, 85))
        plist_dict_set_item(ne, "NEProviderClasses", classes);
    else
        plist_free(classes);
    static const char *const services[] = {"SHTEAM0001.com.example.app.ext", "com.example.app.ext",
                                           "SHTEAM0002.other"};
    if (sh_fm_rng_percent(rng, 75))
        plist_dict_set_item(ne, "NEMachServiceName",
                            plist_new_string(pick(rng, services, COUNT_OF(services))));
    return ne;
}

void sh_fm_info_edit(plist_t dict, sh_fm_rng *rng, const char *identifier)
{
    char buf[SH_MAX_BUNDLE_PATH + 32];
    switch (sh_fm_rng_below(rng, 12)) {
    case 0: {
        static const char *const suffixes[] = {"", ".other", "X", ".ext"};
        snprintf(buf, sizeof buf, "%s%s", identifier,
                 suffixes[sh_fm_rng_below(rng, COUNT_OF(suffixes))]);
        plist_dict_set_item(dict, "CFBundleIdentifier", plist_new_string(buf));
        break;
    }
    case 1: {
        static const char *const types[] = {"SYSX", "DEXT", "APPL", "BNDL", "XPC!"};
        plist_dict_set_item(dict, "CFBundlePackageType",
                            plist_new_string(types[sh_fm_rng_below(rng, COUNT_OF(types))]));
        break;
    }
    case 2: plist_dict_set_item(dict, "NetworkExtension", network_extension(rng)); break;
    case 3: {
        static const char *const services[] = {"SHTEAM0001.com.example.es", "com.example.es", ""};
        plist_dict_set_item(dict, "NSEndpointSecurityMachServiceName",
                            plist_new_string(services[sh_fm_rng_below(rng, COUNT_OF(services))]));
        break;
    }
    case 4: {
        plist_t cmio = plist_new_dict();
        if (sh_fm_rng_percent(rng, 80))
            plist_dict_set_item(cmio, "CMIOExtensionMachServiceName",
                                plist_new_string("SHTEAM0001.com.example.camera"));
        plist_dict_set_item(dict, "CMIOExtension", cmio);
        break;
    }
    case 5: {
        plist_t p = plist_new_dict(), one = plist_new_dict();
        plist_dict_set_item(one, "IOClass", plist_new_string("IOUserService"));
        plist_dict_set_item(one, "IOProviderClass", plist_new_string("IOUSBHostInterface"));
        plist_dict_set_item(p, "Driver", one);
        plist_dict_set_item(dict, "IOKitPersonalities", p);
        break;
    }
    case 6:
        plist_dict_set_item(dict, sh_fm_rng_percent(rng, 50) ? "NSSystemExtensionUsageDescription"
                                                           : "OSBundleUsageDescription",
                            plist_new_string(sh_fm_rng_percent(rng, 80) ? "Filters traffic." : ""));
        break;
    case 7: {
        static const char *const keys[] = {"NetworkExtension", "CMIOExtension",
                                           "NSEndpointSecurityMachServiceName",
                                           "IOKitPersonalities", "CFBundleExecutable",
                                           "NSSystemExtensionUsageDescription"};
        plist_dict_remove_item(dict, keys[sh_fm_rng_below(rng, COUNT_OF(keys))]);
        break;
    }
    case 8: {
        static const char *const versions[] = {"1.0", "2.0.1", "", "1.0 (beta)"};
        plist_dict_set_item(dict, sh_fm_rng_percent(rng, 50) ? "CFBundleVersion"
                                                           : "CFBundleShortVersionString",
                            plist_new_string(versions[sh_fm_rng_below(rng, COUNT_OF(versions))]));
        break;
    }
    case 9: {
        static const char *const keys[] = {"CFBundleIdentifier", "CFBundleExecutable",
                                           "CFBundlePackageType", "NetworkExtension",
                                           "CMIOExtension"};
        plist_dict_set_item(dict, keys[sh_fm_rng_below(rng, COUNT_OF(keys))], wrong_type(rng, ""));
        break;
    }
    case 10:
        plist_dict_set_item(dict, "LSMinimumSystemVersion",
                            plist_new_string(sh_fm_rng_percent(rng, 50) ? "10.15" : "15.0"));
        break;
    default: {
        static const char *const exes[] = {"missing", "E", "com.example.app.ext", "../MacOS/E"};
        plist_dict_set_item(dict, "CFBundleExecutable",
                            plist_new_string(exes[sh_fm_rng_below(rng, COUNT_OF(exes))]));
        break;
    }
    }
}
