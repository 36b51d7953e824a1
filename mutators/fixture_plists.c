/* Info.plist and entitlements of the fixture bundles (see fixture_build.h for the rules).
 * Keys are inserted in ascending order: Xcode's build writes Info.plist and the entitlements
 * through CFPropertyList, which sorts dictionary keys. */
#include "fixture_build_internal.h"

#include <stdio.h>
#include <string.h>

#define NE_KEY "com.apple.developer.networking.networkextension"

/* libplist cannot report a failed allocation except by returning NULL: a NULL value leaves its
 * key out (and the reader of the result then finds it missing). */
static void put(plist_t d, const char *key, plist_t value)
{
    if (value)
        plist_dict_set_item(d, key, value);
}

static void put_string(plist_t d, const char *key, const char *value)
{
    put(d, key, plist_new_string(value));
}

static void put_bool(plist_t d, const char *key, bool value)
{
    put(d, key, plist_new_bool(value ? 1 : 0));
}

static void put_string_array(plist_t d, const char *key, const char *value)
{
    plist_t a = plist_new_array();
    if (a)
        plist_array_append_item(a, plist_new_string(value));
    put(d, key, a);
}

static const char *last_component(const char *id)
{
    const char *dot = strrchr(id, '.');
    return dot ? dot + 1 : id;
}

/* "<app-group>.<last component of the extension id>[suffix]". */
static void mach_service(const sh_fx_bundle *s, const char *suffix, char *buf, size_t size)
{
    snprintf(buf, size, "%s.%s%s", s->app_group, last_component(s->extension_id), suffix);
}

/* The NetworkExtension entitlement value of the provider; Developer ID takes the
 * "-systemextension" form (codesign-formats.md section 6, Network Extension rule). */
static void ne_value(const sh_fx_bundle *s, char *buf, size_t size)
{
    static const char *const values[] = {"", "content-filter-provider", "packet-tunnel-provider",
                                         "app-proxy-provider", "dns-proxy"};
    size_t p = (size_t)s->provider < sizeof values / sizeof values[0] ? (size_t)s->provider : 0;
    snprintf(buf, size, "%s%s", values[p],
             s->variant == SH_FX_DEVELOPER_ID ? "-systemextension" : "");
}

/* NEProviderClasses: provider id -> "<module>.<class>", the module being the product name with
 * '.' and '-' turned into '_' (how Xcode expands $(PRODUCT_MODULE_NAME)). */
static plist_t ne_providers(const sh_fx_bundle *s)
{
    static const char *const ids[] = {"", "com.apple.networkextension.filter-data",
                                      "com.apple.networkextension.packet-tunnel",
                                      "com.apple.networkextension.app-proxy",
                                      "com.apple.networkextension.dns-proxy"};
    static const char *const classes[] = {"", "FilterDataProvider", "PacketTunnelProvider",
                                          "AppProxyProvider", "DNSProxyProvider"};
    size_t p = (size_t)s->provider < sizeof ids / sizeof ids[0] ? (size_t)s->provider : 0;
    char module[SH_FX_ID_SIZE];
    snprintf(module, sizeof module, "%s", s->extension_id);
    for (char *c = module; *c; c++)
        if (*c == '.' || *c == '-')
            *c = '_';
    char klass[2 * SH_FX_ID_SIZE];
    snprintf(klass, sizeof klass, "%s.%s", module, classes[p]);
    plist_t d = plist_new_dict();
    if (d)
        put_string(d, ids[p], klass);
    return d;
}

static plist_t network_extension(const sh_fx_bundle *s)
{
    char service[3 * SH_FX_ID_SIZE];
    mach_service(s, "", service, sizeof service);
    plist_t d = plist_new_dict();
    if (d) {
        put_string(d, "NEMachServiceName", service);
        put(d, "NEProviderClasses", ne_providers(s));
    }
    return d;
}

static plist_t cmio_extension(const sh_fx_bundle *s)
{
    char service[3 * SH_FX_ID_SIZE];
    mach_service(s, "", service, sizeof service);
    plist_t d = plist_new_dict();
    if (d)
        put_string(d, "CMIOExtensionMachServiceName", service);
    return d;
}

/* One IOUserService personality matching IOUserResources, as Xcode's DriverKit template has. */
static plist_t iokit_personalities(const sh_fx_bundle *s)
{
    plist_t p = plist_new_dict(), all = plist_new_dict();
    if (!p || !all) {
        plist_free(p);
        plist_free(all);
        return NULL;
    }
    put_string(p, "CFBundleIdentifier", s->extension_id);
    put_string(p, "CFBundleIdentifierKernel", "com.apple.kpi.iokit");
    put_string(p, "IOClass", "IOUserService");
    put_string(p, "IOMatchCategory", s->extension_id);
    put_string(p, "IOProviderClass", "IOUserResources");
    put_string(p, "IOResourceMatch", "IOKit");
    put_string(p, "IOUserClass", "SHDriver");
    put_string(p, "IOUserServerName", s->extension_id);
    put(all, "SHDriver", p);
    return all;
}

static void common_keys(plist_t d, const sh_fx_bundle *s, const char *exe, const char *id,
                        const char *name, const char *type)
{
    put_string(d, "CFBundleDevelopmentRegion", "en");
    put_string(d, "CFBundleExecutable", exe);
    put_string(d, "CFBundleIdentifier", id);
    put_string(d, "CFBundleInfoDictionaryVersion", "6.0");
    put_string(d, "CFBundleName", name);
    put_string(d, "CFBundlePackageType", type);
    put_string(d, "CFBundleShortVersionString", s->version);
    put_string_array(d, "CFBundleSupportedPlatforms", "MacOSX");
    put_string(d, "CFBundleVersion", s->build);
    put_string(d, "DTPlatformName", "macosx");
    put_string(d, "DTSDKName", "macosx14.0");
    put_string(d, "LSMinimumSystemVersion", "11.0");
}

static plist_t app_info(const sh_fx_bundle *s)
{
    plist_t d = plist_new_dict();
    if (!d)
        return NULL;
    common_keys(d, s, s->app_name, s->app_id, s->app_name, "APPL");
    put_string(d, "CFBundleIconFile", "AppIcon");
    put_string(d, "NSHumanReadableCopyright", "Sigharness test fixture");
    put_string(d, "NSMainStoryboardFile", "Main");
    put_string(d, "NSPrincipalClass", "NSApplication");
    return d;
}

static plist_t extension_info(const sh_fx_bundle *s)
{
    plist_t d = plist_new_dict();
    if (!d)
        return NULL;
    bool dext = s->category == SH_FX_DRIVER;
    common_keys(d, s, sh_fx_extension_exe(s), s->extension_id, last_component(s->extension_id),
                dext ? "DEXT" : "SYSX");
    char service[3 * SH_FX_ID_SIZE];
    switch (s->category) {
    case SH_FX_NETWORK:
        put(d, "NetworkExtension", network_extension(s));
        break;
    case SH_FX_ENDPOINT_SECURITY:
        mach_service(s, ".xpc", service, sizeof service);
        put_string(d, "NSEndpointSecurityMachServiceName", service);
        break;
    case SH_FX_CAMERA:
        put(d, "CMIOExtension", cmio_extension(s));
        break;
    case SH_FX_DRIVER:
        put(d, "IOKitPersonalities", iokit_personalities(s));
        put_string(d, "OSBundleUsageDescription", "Sigharness test driver");
        break;
    }
    if (!dext)
        put_string(d, "NSSystemExtensionUsageDescription", "Sigharness test system extension");
    return d;
}

plist_t sh_fx_info_plist(const sh_fx_bundle *s, fx_code code)
{
    return code == FX_APP ? app_info(s) : extension_info(s);
}

plist_t sh_fx_entitlements(const sh_fx_bundle *s, fx_code code)
{
    plist_t d = plist_new_dict();
    if (!d)
        return NULL;
    const char *team = sh_fx_team_id(s->team);
    bool app = code == FX_APP, driver = s->category == SH_FX_DRIVER;
    char app_identifier[2 * SH_FX_ID_SIZE], ne[64];
    snprintf(app_identifier, sizeof app_identifier, "%s.%s", team,
             app ? s->app_id : s->extension_id);
    ne_value(s, ne, sizeof ne);

    put_string(d, "com.apple.application-identifier", app_identifier);
    if (!app && driver)
        put_bool(d, "com.apple.developer.driverkit", true);
    if (!app && s->category == SH_FX_ENDPOINT_SECURITY)
        put_bool(d, "com.apple.developer.endpoint-security.client", true);
    if (s->category == SH_FX_NETWORK)
        put_string_array(d, NE_KEY, ne);
    if (app)
        put_bool(d, "com.apple.developer.system-extension.install", true);
    put_string(d, "com.apple.developer.team-identifier", team);
    if (s->sandbox && !(driver && !app))
        put_bool(d, "com.apple.security.app-sandbox", true);
    if (!driver)
        put_string_array(d, "com.apple.security.application-groups", s->app_group);
    if (s->get_task_allow)
        put_bool(d, "com.apple.security.get-task-allow", true);
    return d;
}

bool sh_fx_plist_xml(plist_t p, sh_bytebuf *out)
{
    char *xml = NULL;
    uint32_t len = 0;
    if (!p)
        return false;
    plist_to_xml(p, &xml, &len);
    bool ok = xml && len > 0 && sh_bytebuf_append(out, xml, len);
    if (xml)
        plist_to_xml_free(xml);
    return ok;
}
