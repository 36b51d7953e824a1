/* Info.plist (parsers/infoplist.c): the real Sparkle Info.plists, every system-extension
 * category, wrong types with the key named, hostile inputs, allocation failures. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <plist/plist.h>

#include "failing_alloc.h"
#include "infoplist.h"
#include "res_samples.h"

static sh_err parse_text(const char *body, sh_infoplist *info, sh_error *err)
{
    res_bytes b = res_plist(body);
    sh_cursor c = res_cursor(&b);
    sh_err e = sh_infoplist_parse(&c, NULL, info, err);
    free(b.data);
    return e;
}

static void sparkle_dev_signed_app(void **state)
{
    (void)state;
    res_bytes b = res_load_sample("macho", "sparkle_DevSignedApp_Info.plist");
    assert_non_null(b.data);
    sh_cursor c = res_cursor(&b);
    sh_infoplist info;
    sh_error err = {0};
    assert_int_equal(sh_infoplist_parse(&c, NULL, &info, &err), SH_E_OK);
    assert_string_equal(info.identifier, "com.zoo.SignedApp");
    assert_string_equal(info.executable, "SignedApp");
    assert_string_equal(info.package_type, "APPL");
    assert_string_equal(info.version, "1");
    assert_string_equal(info.short_version, "1.0");
    assert_string_equal(info.name, "SignedApp");
    assert_string_equal(info.min_system, "13.1");
    assert_null(info.sysext_usage);
    assert_null(info.os_bundle_usage);
    assert_int_equal(info.categories, SH_SYSEXT_NONE);
    assert_int_equal(sh_infoplist_category(&info), SH_SYSEXT_NONE);
    assert_null(sh_infoplist_mach_service(&info));
    sh_infoplist_free(&info);
    free(b.data);

    b = res_load_sample("detached", "sparkle_CodeSignedBothNew_Info.plist");
    assert_non_null(b.data);
    c = res_cursor(&b);
    assert_int_equal(sh_infoplist_parse(&c, NULL, &info, &err), SH_E_OK);
    assert_string_equal(info.identifier,
                        "org.sparkle-project.Sparkle.SUUpdateValidatorTestBundle.CodeSignedBothNew");
    assert_string_equal(info.package_type, "BNDL");
    assert_null(info.executable);
    sh_infoplist_free(&info);
    free(b.data);
}

/* The XML sample converted to a binary plist by libplist. */
static void binary_plist_accepted(void **state)
{
    (void)state;
    res_bytes b = res_load_sample("macho", "sparkle_DevSignedApp_Info.plist");
    assert_non_null(b.data);
    plist_t p = NULL;
    plist_from_xml((const char *)b.data, (uint32_t)b.len, &p);
    assert_non_null(p);
    char *bin = NULL;
    uint32_t blen = 0;
    plist_to_bin(p, &bin, &blen);
    plist_free(p);
    res_bytes bb = res_exact(bin, blen);
    free(bin);
    sh_cursor c = res_cursor(&bb);
    sh_infoplist info;
    sh_error err = {0};
    assert_int_equal(sh_infoplist_parse(&c, NULL, &info, &err), SH_E_OK);
    assert_string_equal(info.identifier, "com.zoo.SignedApp");
    sh_infoplist_free(&info);
    free(bb.data);
    free(b.data);
}

#define SYSX "<key>CFBundleIdentifier</key><string>com.ex.app.ext</string>" \
             "<key>CFBundlePackageType</key><string>SYSX</string>"           \
             "<key>NSSystemExtensionUsageDescription</key><string>why</string>"

static void network_extension(void **state)
{
    (void)state;
    sh_infoplist info;
    sh_error err = {0};
    assert_int_equal(
        parse_text("<dict>" SYSX "<key>NetworkExtension</key><dict>"
                   "<key>NEMachServiceName</key><string>TEAM.com.ex.app.group.ne</string>"
                   "<key>NEProviderClasses</key><dict>"
                   "<key>com.apple.networkextension.packet-tunnel</key><string>M.PTP</string>"
                   "<key>com.apple.networkextension.filter-data</key><string>M.FDP</string>"
                   "</dict></dict></dict>",
                   &info, &err),
        SH_E_OK);
    assert_string_equal(info.package_type, "SYSX");
    assert_string_equal(info.sysext_usage, "why");
    assert_int_equal(sh_infoplist_category(&info), SH_SYSEXT_NETWORK);
    assert_string_equal(sh_sysext_category_name(SH_SYSEXT_NETWORK),
                        "com.apple.system_extension.network_extension");
    assert_string_equal(sh_infoplist_mach_service(&info), "TEAM.com.ex.app.group.ne");
    assert_true(info.ne_has_providers);
    assert_int_equal(info.ne_nproviders, 2);
    assert_true(sh_infoplist_has_provider(&info, "com.apple.networkextension.packet-tunnel"));
    assert_true(sh_infoplist_has_provider(&info, "com.apple.networkextension.filter-data"));
    assert_false(sh_infoplist_has_provider(&info, "com.apple.networkextension.dns-proxy"));
    for (size_t i = 0; i < info.ne_nproviders; i++)
        assert_string_equal(info.ne_providers[i].klass,
                            strstr(info.ne_providers[i].id, "tunnel") ? "M.PTP" : "M.FDP");
    sh_infoplist_free(&info);

    /* a NetworkExtension dict without the service name: the category, no name */
    assert_int_equal(parse_text("<dict><key>NetworkExtension</key><dict/></dict>", &info, &err),
                     SH_E_OK);
    assert_int_equal(sh_infoplist_category(&info), SH_SYSEXT_NETWORK);
    assert_null(sh_infoplist_mach_service(&info));
    assert_false(info.ne_has_providers);
    sh_infoplist_free(&info);
}

static void endpoint_security_camera_driver(void **state)
{
    (void)state;
    sh_infoplist info;
    sh_error err = {0};
    assert_int_equal(parse_text("<dict>" SYSX "<key>NSEndpointSecurityMachServiceName</key>"
                                "<string>TEAM.com.ex.es.xpc</string>"
                                "<key>NSEndpointSecurityEarlyBoot</key><true/></dict>",
                                &info, &err),
                     SH_E_OK);
    assert_int_equal(sh_infoplist_category(&info), SH_SYSEXT_ENDPOINT_SECURITY);
    assert_string_equal(sh_infoplist_mach_service(&info), "TEAM.com.ex.es.xpc");
    assert_true(info.es_has_early_boot && info.es_early_boot);
    assert_string_equal(sh_sysext_category_name(sh_infoplist_category(&info)),
                        "com.apple.system_extension.endpoint_security");
    sh_infoplist_free(&info);

    assert_int_equal(parse_text("<dict>" SYSX "<key>CMIOExtension</key><dict>"
                                "<key>CMIOExtensionMachServiceName</key>"
                                "<string>$(TeamIdentifierPrefix)com.ex.cam</string></dict></dict>",
                                &info, &err),
                     SH_E_OK);
    assert_int_equal(sh_infoplist_category(&info), SH_SYSEXT_CAMERA);
    assert_string_equal(sh_infoplist_mach_service(&info), "$(TeamIdentifierPrefix)com.ex.cam");
    assert_string_equal(sh_sysext_category_name(SH_SYSEXT_CAMERA), "com.apple.system_extension.cmio");
    sh_infoplist_free(&info);

    assert_int_equal(parse_text("<dict><key>CFBundlePackageType</key><string>DEXT</string>"
                                "<key>OSBundleUsageDescription</key><string>drv</string>"
                                "<key>IOKitPersonalities</key><dict><key>P1</key><dict/>"
                                "<key>P2</key><dict/></dict></dict>",
                                &info, &err),
                     SH_E_OK);
    assert_int_equal(sh_infoplist_category(&info), SH_SYSEXT_DRIVER);
    assert_int_equal(info.iokit_personalities, 2);
    assert_string_equal(info.os_bundle_usage, "drv");
    assert_null(sh_infoplist_mach_service(&info));
    assert_string_equal(sh_sysext_category_name(SH_SYSEXT_DRIVER),
                        "com.apple.system_extension.driver_extension");
    sh_infoplist_free(&info);

    /* two categories: both recorded, no single category */
    assert_int_equal(parse_text("<dict><key>NSEndpointSecurityMachServiceName</key><string>a</string>"
                                "<key>CMIOExtension</key><dict/></dict>",
                                &info, &err),
                     SH_E_OK);
    assert_int_equal(info.categories, SH_SYSEXT_ENDPOINT_SECURITY | SH_SYSEXT_CAMERA);
    assert_int_equal(sh_infoplist_category(&info), SH_SYSEXT_NONE);
    assert_null(sh_sysext_category_name((sh_sysext_category)info.categories));
    sh_infoplist_free(&info);

    /* empty strings are kept */
    assert_int_equal(parse_text("<dict><key>CFBundleIdentifier</key><string></string></dict>",
                                &info, &err),
                     SH_E_OK);
    assert_string_equal(info.identifier, "");
    sh_infoplist_free(&info);
}

static void wrong_types_and_hostile(void **state)
{
    (void)state;
    static const struct {
        const char *body;
        sh_err code;
        const char *where;
        int64_t index;
    } cases[] = {
        {"<array/>", SH_E_INFO_ROOT_NOT_DICT, "Info.plist", -1},
        {"<string>x</string>", SH_E_INFO_ROOT_NOT_DICT, "Info.plist", -1},
        {"<dict><key>CFBundleIdentifier</key><integer>1</integer></dict>", SH_E_INFO_KEY_TYPE,
         "CFBundleIdentifier", -1},
        {"<dict><key>CFBundleExecutable</key><array/></dict>", SH_E_INFO_KEY_TYPE,
         "CFBundleExecutable", -1},
        {"<dict><key>CFBundlePackageType</key><true/></dict>", SH_E_INFO_KEY_TYPE,
         "CFBundlePackageType", -1},
        {"<dict><key>CFBundleVersion</key><real>1.0</real></dict>", SH_E_INFO_KEY_TYPE,
         "CFBundleVersion", -1},
        {"<dict><key>CFBundleShortVersionString</key><integer>1</integer></dict>",
         SH_E_INFO_KEY_TYPE, "CFBundleShortVersionString", -1},
        {"<dict><key>CFBundleName</key><data>AA==</data></dict>", SH_E_INFO_KEY_TYPE,
         "CFBundleName", -1},
        {"<dict><key>LSMinimumSystemVersion</key><dict/></dict>", SH_E_INFO_KEY_TYPE,
         "LSMinimumSystemVersion", -1},
        {"<dict><key>NSSystemExtensionUsageDescription</key><false/></dict>", SH_E_INFO_KEY_TYPE,
         "NSSystemExtensionUsageDescription", -1},
        {"<dict><key>OSBundleUsageDescription</key><integer>0</integer></dict>",
         SH_E_INFO_KEY_TYPE, "OSBundleUsageDescription", -1},
        {"<dict><key>NetworkExtension</key><string>x</string></dict>", SH_E_INFO_KEY_TYPE,
         "NetworkExtension", -1},
        {"<dict><key>NetworkExtension</key><dict><key>NEMachServiceName</key><integer>1</integer>"
         "</dict></dict>",
         SH_E_INFO_KEY_TYPE, "NetworkExtension/NEMachServiceName", -1},
        {"<dict><key>NetworkExtension</key><dict><key>NEProviderClasses</key><array/></dict>"
         "</dict>",
         SH_E_INFO_KEY_TYPE, "NetworkExtension/NEProviderClasses", -1},
        {"<dict><key>NetworkExtension</key><dict><key>NEProviderClasses</key><dict>"
         "<key>a</key><string>A</string><key>b</key><true/></dict></dict></dict>",
         SH_E_INFO_KEY_TYPE, "NetworkExtension/NEProviderClasses", 1},
        {"<dict><key>NSEndpointSecurityMachServiceName</key><dict/></dict>", SH_E_INFO_KEY_TYPE,
         "NSEndpointSecurityMachServiceName", -1},
        {"<dict><key>NSEndpointSecurityEarlyBoot</key><string>YES</string></dict>",
         SH_E_INFO_KEY_TYPE, "NSEndpointSecurityEarlyBoot", -1},
        {"<dict><key>CMIOExtension</key><true/></dict>", SH_E_INFO_KEY_TYPE, "CMIOExtension", -1},
        {"<dict><key>CMIOExtension</key><dict><key>CMIOExtensionMachServiceName</key><array/>"
         "</dict></dict>",
         SH_E_INFO_KEY_TYPE, "CMIOExtension/CMIOExtensionMachServiceName", -1},
        {"<dict><key>IOKitPersonalities</key><array/></dict>", SH_E_INFO_KEY_TYPE,
         "IOKitPersonalities", -1},
        {"<dict><key>CFBundleIdentifier</key><string>a</string>"
         "<key>CFBundleIdentifier</key><string>b</string></dict>",
         SH_E_PLIST_DUPLICATE_KEY, NULL, 0},
        {"<dict><key>CFBundleIdentifier</key><string>a&#0;b</string></dict>",
         SH_E_PLIST_XML_ENTITY, NULL, 0},
        {"<dict><key>CFBundleVersion</key><integer>010</integer></dict>",
         SH_E_PLIST_XML_BAD_SCALAR, NULL, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sh_infoplist info;
        sh_error err = {0};
        sh_err e = parse_text(cases[i].body, &info, &err);
        if (e != cases[i].code)
            fail_msg("case %zu: %s, want %s", i, sh_err_name(e), sh_err_name(cases[i].code));
        if (cases[i].where) {
            assert_non_null(err.where);
            assert_string_equal(err.where, cases[i].where);
            assert_int_equal(err.index, cases[i].index);
        }
        assert_null(info.identifier);
        assert_int_equal(info.ne_nproviders, 0);
        sh_infoplist_free(&info);
    }
}

/* A string past SH_MAX_INFO_STRING, a binary plist with a NUL inside a UTF-16 string is refused by
 * the guard, garbage. */
static void bad_strings_and_garbage(void **state)
{
    (void)state;
    size_t n = SH_MAX_INFO_STRING + 1;
    char *body = malloc(n + 128);
    assert_non_null(body);
    int at = snprintf(body, n + 128, "<dict><key>CFBundleName</key><string>");
    memset(body + at, 'x', n);
    snprintf(body + at + n, 128, "</string></dict>");
    sh_infoplist info;
    sh_error err = {0};
    assert_int_equal(parse_text(body, &info, &err), SH_E_INFO_BAD_STRING);
    assert_string_equal(err.where, "CFBundleName");
    assert_int_equal(err.value, n);
    free(body);

    res_bytes g = res_exact("\x00\x01garbage", 9);
    sh_cursor c = res_cursor(&g);
    assert_int_not_equal(sh_infoplist_parse(&c, NULL, &info, &err), SH_E_OK);
    free(g.data);
    res_bytes bp = res_exact("bplist00", 8);
    c = res_cursor(&bp);
    assert_int_equal(sh_infoplist_parse(&c, NULL, &info, &err), SH_E_PLIST_BPLIST_HEADER);
    free(bp.data);
}

static void too_many_items(void **state)
{
    (void)state;
    static const char *const wrap[2][2] = {
        {"<dict><key>NetworkExtension</key><dict><key>NEProviderClasses</key><dict>",
         "</dict></dict></dict>"},
        {"<dict><key>IOKitPersonalities</key><dict>", "</dict></dict>"},
    };
    static const char *const where[2] = {"NetworkExtension/NEProviderClasses",
                                         "IOKitPersonalities"};
    for (int w = 0; w < 2; w++) {
        size_t cap = (SH_MAX_INFO_ITEMS + 1) * 40 + 200;
        char *body = malloc(cap);
        assert_non_null(body);
        size_t at = (size_t)snprintf(body, cap, "%s", wrap[w][0]);
        for (unsigned i = 0; i <= SH_MAX_INFO_ITEMS; i++)
            at += (size_t)snprintf(body + at, cap - at, "<key>p%u</key><string>c</string>", i);
        snprintf(body + at, cap - at, "%s", wrap[w][1]);
        sh_infoplist info;
        sh_error err = {0};
        assert_int_equal(parse_text(body, &info, &err), SH_E_INFO_TOO_MANY_ITEMS);
        assert_string_equal(err.where, where[w]);
        assert_int_equal(err.value, SH_MAX_INFO_ITEMS + 1);
        free(body);
    }
}

static void allocation_failures_are_clean(void **state)
{
    (void)state;
    res_bytes b = res_plist(
        "<dict>" SYSX "<key>CFBundleExecutable</key><string>e</string>"
        "<key>NetworkExtension</key><dict><key>NEMachServiceName</key><string>G.n</string>"
        "<key>NEProviderClasses</key><dict><key>p1</key><string>c1</string>"
        "<key>p2</key><string>c2</string></dict></dict>"
        "<key>CMIOExtension</key><dict><key>CMIOExtensionMachServiceName</key><string>G.c</string>"
        "</dict></dict>");
    sh_cursor c = res_cursor(&b);
    bool done = false;
    for (long k = 0; !done; k++) {
        failing_alloc fl;
        sh_allocator a = failing_alloc_start(&fl, k);
        sh_infoplist info;
        sh_error err = {0};
        sh_err r = sh_infoplist_parse(&c, &a, &info, &err);
        if (r == SH_E_OK) {
            done = true;
            assert_int_equal(info.ne_nproviders, 2);
            assert_string_equal(info.cmio_mach_service, "G.c");
        } else {
            assert_int_equal(r, SH_E_NO_MEMORY);
        }
        sh_infoplist_free(&info);
        assert_int_equal(fl.live, 0);
    }
    free(b.data);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sparkle_dev_signed_app),
        cmocka_unit_test(binary_plist_accepted),
        cmocka_unit_test(network_extension),
        cmocka_unit_test(endpoint_security_camera_driver),
        cmocka_unit_test(wrong_types_and_hostile),
        cmocka_unit_test(bad_strings_and_garbage),
        cmocka_unit_test(too_many_items),
        cmocka_unit_test(allocation_failures_are_clean),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
