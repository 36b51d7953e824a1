/* Provisioning profiles (parsers/profile*.c): every external sample with the facts MANIFEST.md
 * states, profiles signed in-process with a test PKI (valid, expired, wrong root, tampered,
 * binary plist, no attributes), the verdict checks and the renderings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <plist/plist.h>

#include "profile.h"
#include "profile_builder.h"

#define T_2015_11_08 1446940800 /* 2015-11-08T00:00:00Z */
#define NOW_2024 TEST_T2024

/* ---- samples ---- */

typedef struct sample {
    uint8_t *data;
    size_t len;
} sample;

static sample load(const char *name)
{
    const char *dir = getenv("SH_SHARED_DIR");
    char path[1024];
    snprintf(path, sizeof path, "%s/external-samples/profiles/%s", dir ? dir : "../shared", name);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    long n = ftell(f);
    assert_true(n > 0);
    rewind(f);
    sample s = {malloc((size_t)n), (size_t)n};
    assert_non_null(s.data);
    assert_int_equal(fread(s.data, 1, s.len, f), s.len);
    fclose(f);
    return s;
}

static sh_err parse_sample(const char *name, const sh_profile_options *opt, sh_profile *p,
                           sh_error *err)
{
    sample s = load(name);
    sh_err e = sh_profile_parse(s.data, s.len, NULL, opt, p, err);
    free(s.data);
    return e;
}

static const sh_profile_options PINNED = {.now = NOW_2024};

static void assert_one(const sh_profile_strings *s, const char *want)
{
    assert_int_equal(s->count, 1);
    assert_string_equal(s->items[0], want);
}

static void assert_prefix(const char *s, const char *prefix)
{
    assert_memory_equal(s, prefix, strlen(prefix));
}

static void fastlane_ios_app_store_verifies_to_apple_root_ca(void **state)
{
    (void)state;
    sh_profile p;
    sh_error err = {0};
    assert_int_equal(parse_sample("fastlane_test.mobileprovision", &PINNED, &p, &err), SH_E_OK);
    assert_true(p.decoded);
    assert_one(&p.team_ids, "439BBM9367");
    assert_one(&p.app_id_prefixes, "439BBM9367");
    assert_string_equal(p.team_name, "Felix Krause");
    assert_string_equal(p.name, "tools.fastlane.app AppStore");
    assert_string_equal(p.uuid, "98264c6b-5151-4349-8d0f-66691e48ae35");
    assert_one(&p.platforms, "iOS");
    assert_false(p.has_devices);
    assert_int_equal(p.kind, SH_PROFILE_KIND_APP_STORE);
    assert_int_equal(p.ncerts, 1);
    assert_prefix(p.certs[0].facts.cn, "iPhone Distribution: Felix Krause");
    assert_int_equal(p.certs[0].kind, SH_CERT_KIND_APPLE_DISTRIBUTION);
    assert_string_equal(p.certs[0].serial, "03e864e90c414228");
    assert_int_equal(p.sig.digest_nid, NID_sha1);
    assert_int_equal(p.sig.ncerts, 3);
    assert_true(p.sig.has_signing_time);
    assert_true(p.sig.signing_time >= T_2015_11_08 && p.sig.signing_time < T_2015_11_08 + 86400);
    assert_true(p.sig.signature_verified);
    assert_true(p.sig.chain_verified);
    /* The CMS carries the legacy root, but the intermediate names "Apple Root CA" as issuer (same
     * key): the chain ends at the pinned Apple Root CA, built in. */
    assert_int_equal(p.sig.anchor, SH_PROFILE_ANCHOR_APPLE_ROOT_CA);
    assert_int_equal(p.sig.chain.length, 3);
    assert_string_equal(p.sig.chain.certs[0].cn, "Apple iPhone OS Provisioning Profile Signing");
    assert_string_equal(p.sig.chain.certs[1].cn, "Apple iPhone Certification Authority");
    assert_string_equal(p.sig.chain.certs[2].cn, "Apple Root CA");
    assert_int_equal(p.ttl, 364);
    assert_int_equal(p.version, 1);
    assert_false(sh_ent_get_bool(&p.entitlements.root, "get-task-allow"));
    assert_int_equal(sh_profile_check_expiry(&p, NOW_2024, &err), SH_E_PROFILE_EXPIRED);
    assert_int_equal(sh_profile_check_expiry(&p, T_2015_11_08 + 86400, &err), SH_E_OK);
    assert_int_equal(sh_profile_check_platform(&p, "iOS", &err), SH_E_OK);
    assert_int_equal(sh_profile_check_platform(&p, "OSX", &err), SH_E_PROFILE_PLATFORM_MISMATCH);
    assert_int_equal(sh_profile_check_app_id(&p, "tools.fastlane.app", &err), SH_E_OK);
    assert_int_equal(sh_profile_check_app_id(&p, "tools.fastlane.other", &err),
                     SH_E_PROFILE_APP_ID_MISMATCH);
    sh_profile_free(&p);
}

static void tampered_fails_the_digest(void **state)
{
    (void)state;
    sh_profile p;
    sh_error err = {0};
    assert_int_equal(parse_sample("fastlane_match_test_TAMPERED.provisionprofile", &PINNED, &p, &err),
                     SH_E_PROFILE_DIGEST_MISMATCH);
    assert_int_equal(err.code, SH_E_PROFILE_DIGEST_MISMATCH);
    assert_int_equal(sh_err_errsec(err.code), errSecCSSignatureFailed);
    assert_true(p.decoded); /* the structure parses */
    assert_one(&p.platforms, "OSX");
    assert_false(p.sig.signature_verified);
    assert_false(p.sig.chain_verified);
    sh_profile_free(&p);
}

static void bare_bplist_is_not_cms(void **state)
{
    (void)state;
    sh_profile p;
    sh_error err = {0};
    assert_int_equal(parse_sample("appinfo_bplist_NOT_CMS.mobileprovision", &PINNED, &p, &err),
                     SH_E_PROFILE_NOT_CMS);
    assert_false(p.decoded);
    assert_int_equal(sh_err_errsec(err.code), errSecCSSignatureInvalid);
    sh_profile_free(&p);
}

static void jigx_ios_xros_development(void **state)
{
    (void)state;
    sh_profile p;
    sh_error err = {0};
    assert_int_equal(
        parse_sample("fastlane_jigx_test_development.mobileprovision", &PINNED, &p, &err), SH_E_OK);
    assert_int_equal(p.platforms.count, 2);
    assert_string_equal(p.platforms.items[0], "iOS");
    assert_string_equal(p.platforms.items[1], "xrOS");
    assert_int_equal(p.devices.count, 1);
    assert_string_equal(p.devices.items[0], "00008101-001A51411463003A");
    assert_int_equal(p.kind, SH_PROFILE_KIND_DEVELOPMENT);
    assert_int_equal(p.creation_date, 1688131239);   /* 2023-06-30T13:20:39Z */
    assert_int_equal(p.expiration_date, 1719667239); /* 2024-06-29T13:20:39Z */
    assert_true(p.has_der_profile);
    assert_int_equal(p.der_profile_len, 3523);
    assert_int_equal(p.other_keys.count, 0);
    assert_prefix(p.certs[0].facts.cn, "Apple Development: ");
    assert_int_equal(p.certs[0].kind, SH_CERT_KIND_APPLE_DEVELOPMENT);
    assert_int_equal(p.sig.digest_nid, NID_sha1);
    assert_int_equal(p.sig.anchor, SH_PROFILE_ANCHOR_APPLE_ROOT_CA);
    assert_true(sh_ent_get_bool(&p.entitlements.root, "get-task-allow"));
    assert_int_equal(sh_profile_check_platform(&p, "xrOS", &err), SH_E_OK);
    assert_int_equal(sh_profile_check_device(&p, "00008101-001A51411463003A", &err), SH_E_OK);
    assert_int_equal(sh_profile_check_device(&p, "00008101-000000000000000", &err),
                     SH_E_PROFILE_DEVICE_NOT_PROVISIONED);
    assert_int_equal(sh_profile_check_expiry(&p, 1719667239, &err), SH_E_PROFILE_EXPIRED);
    assert_int_equal(sh_profile_check_expiry(&p, 1719667238, &err), SH_E_OK);
    sh_profile_free(&p);
}

static void selfsigned_is_untrusted_unless_given_as_root(void **state)
{
    (void)state;
    const char *name = "fastlane_very_capable_app_embedded_selfsigned.mobileprovision";
    sh_profile p;
    sh_error err = {0};
    assert_int_equal(parse_sample(name, &PINNED, &p, &err), SH_E_CMS_CHAIN_UNTRUSTED);
    assert_true(p.sig.signature_verified); /* BER, indefinite-length content: digest fine */
    assert_false(p.sig.has_signing_time);
    assert_int_equal(p.sig.verify_time, p.creation_date);
    assert_string_equal(p.sig.signer.cn, "TestFixture");
    assert_string_equal(p.uuid, "12345678-1234-1234-1234-123456789012");
    assert_int_equal(p.entitlements.root.count, 26);
    assert_true(p.has_xcode_managed);
    assert_false(p.is_xcode_managed);
    assert_int_equal(p.devices.count, 1);
    assert_int_equal(p.kind, SH_PROFILE_KIND_DEVELOPMENT);
    assert_int_equal(p.certs[0].kind, SH_CERT_KIND_OTHER);
    sample s = load(name);
    /* The signer's own certificate as an explicit root. */
    sh_cursor root_der = sh_cursor_make(NULL, 0);
    X509 *root = NULL;
    {
        CMS_ContentInfo *ci = NULL;
        const unsigned char *q = s.data;
        ci = d2i_CMS_ContentInfo(NULL, &q, (long)s.len);
        assert_non_null(ci);
        STACK_OF(X509) *certs = CMS_get1_certs(ci);
        root = X509_dup(sk_X509_value(certs, 0));
        sk_X509_pop_free(certs, X509_free);
        CMS_ContentInfo_free(ci);
    }
    sig_buf der = test_cert_der(root);
    root_der = sh_cursor_make(der.data, der.len);
    sh_profile_options opt = {.now = NOW_2024, .trust = {.anchor_der = &root_der, .n_anchor_der = 1}};
    sh_profile q;
    assert_int_equal(sh_profile_parse(s.data, s.len, NULL, &opt, &q, &err), SH_E_OK);
    assert_int_equal(q.sig.anchor, SH_PROFILE_ANCHOR_CALLER);
    /* The profile's one DeveloperCertificate is that same certificate. */
    size_t index = 9;
    assert_int_equal(sh_profile_check_certificate(&q, &root_der, &index, &err), SH_E_OK);
    assert_int_equal(index, 0);
    sh_profile_free(&q);
    sig_buf_free(&der);
    X509_free(root);
    free(s.data);
    sh_profile_free(&p);
}

static void macos_development(void **state)
{
    (void)state;
    sh_profile p;
    sh_error err = {0};
    assert_int_equal(
        parse_sample("appinfo_macos_development.provisionprofile", &PINNED, &p, &err), SH_E_OK);
    assert_one(&p.platforms, "OSX");
    assert_int_equal(p.devices.count, 1);
    assert_int_equal(p.kind, SH_PROFILE_KIND_DEVELOPMENT);
    assert_prefix(p.certs[0].facts.cn, "Apple Development: Shen Wang");
    assert_string_equal(p.sig.signer.cn, "Mac OS X Provisioning Profile Signing");
    assert_int_equal(p.sig.anchor, SH_PROFILE_ANCHOR_APPLE_ROOT_CA);
    assert_string_equal(sh_ent_get_string(&p.entitlements.root, "com.apple.application-identifier"),
                        "WKR87TTKML.com.icyleaf.appinfo.test");
    assert_int_equal(sh_profile_check_app_id(&p, "com.icyleaf.appinfo.test", &err), SH_E_OK);
    sh_profile_free(&p);
}

static void macos_app_store(void **state)
{
    (void)state;
    sh_profile p;
    sh_error err = {0};
    assert_int_equal(parse_sample("appinfo_macos_appstore.provisionprofile", &PINNED, &p, &err),
                     SH_E_OK);
    assert_false(p.has_devices);
    assert_int_equal(p.ttl, 94);
    assert_int_equal(p.kind, SH_PROFILE_KIND_APP_STORE);
    assert_prefix(p.certs[0].facts.cn, "Apple Distribution: ");
    assert_int_equal(p.certs[0].kind, SH_CERT_KIND_APPLE_DISTRIBUTION);
    sh_profile_free(&p);
}

static void developer_id_provisions_all_devices(void **state)
{
    (void)state;
    sh_profile p;
    sh_error err = {0};
    assert_int_equal(
        parse_sample("appinfo_GuiApp_embedded_developerid.provisionprofile", &PINNED, &p, &err),
        SH_E_OK);
    assert_true(p.has_all_devices && p.provisions_all_devices);
    assert_false(p.has_devices);
    assert_int_equal(p.ttl, 6570);
    assert_int_equal(p.expiration_date, 2176264808); /* 2038-12-18T06:00:08Z */
    assert_int_equal(p.kind, SH_PROFILE_KIND_DEVELOPER_ID);
    assert_string_equal(p.certs[0].facts.cn, "Developer ID Application: Samuel Sharps (3G4J97R9DL)");
    assert_string_equal(p.certs[0].facts.ou, "3G4J97R9DL");
    assert_int_equal(p.certs[0].kind, SH_CERT_KIND_DEVELOPER_ID_APPLICATION);
    assert_one(&p.team_ids, "3G4J97R9DL");
    assert_non_null(sh_ent_dict_get(&p.entitlements.root,
                                    "com.apple.developer.icloud-container-identifiers"));
    assert_string_equal(p.sig.signer.cn, "Mac OS X Provisioning Profile Signing");
    /* The profile outlives its signer (2023): the chain is judged at signing time. */
    assert_true(p.sig.chain_verified);
    assert_int_equal(sh_profile_check_device(&p, "ANY-MAC", &err), SH_E_OK);
    assert_int_equal(sh_profile_check_app_id(&p, "com.Layouts", &err), SH_E_OK);
    sh_profile_free(&p);
}

static void ad_hoc_with_90_devices(void **state)
{
    (void)state;
    sh_profile p;
    sh_error err = {0};
    assert_int_equal(parse_sample("appinfo_notificationservice_adhoc_90devices.mobileprovision",
                                  &PINNED, &p, &err),
                     SH_E_OK);
    assert_int_equal(p.devices.count, 90);
    assert_string_equal(p.devices.items[0], "859168ec1b9a688bd39b6f8902569e85ea5b97c7");
    assert_int_equal(p.kind, SH_PROFILE_KIND_AD_HOC);
    assert_int_equal(p.certs[0].kind, SH_CERT_KIND_APPLE_DISTRIBUTION);
    assert_non_null(sh_ent_dict_get(&p.entitlements.root, "com.apple.security.application-groups"));
    assert_string_equal(p.sig.signer.cn, "Apple iPhone OS Provisioning Profile Signing");
    assert_int_equal(p.sig.anchor, SH_PROFILE_ANCHOR_APPLE_ROOT_CA);
    assert_one(&p.platforms, "iOS");
    sh_profile_free(&p);
}

/* ---- generated profiles ---- */

static test_profile_pki PKI;

static int setup(void **state)
{
    (void)state;
    test_profile_pki_init(&PKI);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    test_profile_pki_free(&PKI);
    return 0;
}

static sh_profile_options test_root_options(sh_cursor *root, sig_buf *der, X509 *cert)
{
    *der = test_cert_der(cert);
    *root = sh_cursor_make(der->data, der->len);
    sh_profile_options opt = {.now = NOW_2024, .trust = {.anchor_der = root, .n_anchor_der = 1}};
    return opt;
}

static sh_err parse_buf(const sig_buf *b, const sh_profile_options *opt, sh_profile *p,
                        sh_error *err)
{
    uint8_t *copy = sig_exact_copy(b->data, b->len);
    sh_err e = sh_profile_parse(copy, b->len, NULL, opt, p, err);
    free(copy);
    return e;
}

static void generated_developer_id_verifies_with_test_root(void **state)
{
    (void)state;
    X509 *devcerts[] = {PKI.pki.devid_leaf};
    test_plist_spec spec = {.dev_certs = devcerts, .ndev_certs = 1, .all_devices = true,
                            .extra = "<key>Custom</key><string>x</string>"};
    sig_buf prof = test_profile_make(&PKI, &spec);
    sh_cursor root;
    sig_buf der;
    sh_profile_options opt = test_root_options(&root, &der, PKI.pki.root);
    sh_profile p;
    sh_error err = {0};
    assert_int_equal(parse_buf(&prof, &opt, &p, &err), SH_E_OK);
    assert_int_equal(p.sig.anchor, SH_PROFILE_ANCHOR_CALLER);
    assert_int_equal(p.sig.chain.length, 3);
    assert_int_equal(p.kind, SH_PROFILE_KIND_DEVELOPER_ID);
    assert_one(&p.other_keys, "Custom");
    assert_int_equal(p.sig.verify_time, TEST_T2024 + 86400);
    /* checks */
    sig_buf leaf = test_cert_der(PKI.pki.devid_leaf), other = test_cert_der(PKI.pki.dev_leaf);
    sh_cursor lc = sh_cursor_make(leaf.data, leaf.len), oc = sh_cursor_make(other.data, other.len);
    assert_int_equal(sh_profile_check_certificate(&p, &lc, NULL, &err), SH_E_OK);
    assert_int_equal(sh_profile_check_certificate(&p, &oc, NULL, &err),
                     SH_E_PROFILE_CERT_NOT_INCLUDED);
    assert_int_equal(sh_profile_check_app_id(&p, "com.example.tool", &err), SH_E_OK);
    assert_int_equal(sh_profile_check_app_id(&p, "org.other.tool", &err),
                     SH_E_PROFILE_APP_ID_MISMATCH);
    sig_buf_free(&leaf);
    sig_buf_free(&other);
    /* The same profile with only the pinned Apple roots: untrusted. */
    sh_profile q;
    assert_int_equal(parse_buf(&prof, &PINNED, &q, &err), SH_E_CMS_CHAIN_UNTRUSTED);
    assert_int_equal(sh_err_errsec(err.code), errSecCSSignatureUntrusted);
    assert_true(q.sig.signature_verified);
    sh_profile_free(&q);
    sh_profile_free(&p);
    sig_buf_free(&der);
    sig_buf_free(&prof);
}

static void generated_wrong_root_and_expired_signer(void **state)
{
    (void)state;
    X509 *devcerts[] = {PKI.pki.dev_leaf};
    test_plist_spec spec = {.dev_certs = devcerts, .ndev_certs = 1,
                            .devices = "<array><string>UDID-1</string></array>"};
    sig_buf prof = test_profile_make(&PKI, &spec);
    sh_cursor root;
    sig_buf der;
    sh_profile_options opt = test_root_options(&root, &der, PKI.pki.other_root);
    sh_profile p;
    sh_error err = {0};
    assert_int_equal(parse_buf(&prof, &opt, &p, &err), SH_E_CMS_CHAIN_UNTRUSTED);
    assert_int_equal(p.kind, SH_PROFILE_KIND_DEVELOPMENT);
    sh_profile_free(&p);
    sig_buf_free(&der);
    sig_buf_free(&prof);

    /* Signer valid 2020..2021, signing time 2024: expired at the verification time. */
    size_t len;
    char *plist = test_profile_plist(&spec, &len);
    test_sign_spec s = {.content = plist, .len = len, .signer = PKI.expired_signer,
                        .key = PKI.signer_key, .certs = PKI.chain, .ncerts = 2};
    prof = test_profile_sign(&s);
    opt = test_root_options(&root, &der, PKI.pki.root);
    assert_int_equal(parse_buf(&prof, &opt, &p, &err), SH_E_CMS_CERT_EXPIRED);
    sh_profile_free(&p);
    sig_buf_free(&prof);
    /* ... but fine when it signed in 2020 (expiry of the profile is a separate check). */
    s.signing_time = TEST_T2020 + 86400;
    prof = test_profile_sign(&s);
    assert_int_equal(parse_buf(&prof, &opt, &p, &err), SH_E_OK);
    assert_int_equal(sh_profile_check_expiry(&p, NOW_2024 + 86400, &err), SH_E_OK);
    assert_int_equal(sh_profile_check_expiry(&p, TEST_T2025, &err), SH_E_PROFILE_EXPIRED);
    assert_int_equal(sh_profile_check_expiry(&p, TEST_T2022, &err), SH_E_PROFILE_NOT_YET_VALID);
    sh_profile_free(&p);
    sig_buf_free(&prof);
    sig_buf_free(&der);
    free(plist);
}

/* Flips one byte of the signed plist inside the DER (the content is stored contiguously). */
static void generated_tampered_content(void **state)
{
    (void)state;
    X509 *devcerts[] = {PKI.pki.devid_leaf};
    test_plist_spec spec = {.dev_certs = devcerts, .ndev_certs = 1, .all_devices = true};
    sig_buf prof = test_profile_make(&PKI, &spec);
    const char *needle = "Test Profile";
    uint8_t *hit = NULL;
    for (size_t i = 0; i + strlen(needle) <= prof.len && !hit; i++)
        if (memcmp(prof.data + i, needle, strlen(needle)) == 0)
            hit = prof.data + i;
    assert_non_null(hit);
    hit[0] = 'B';
    sh_cursor root;
    sig_buf der;
    sh_profile_options opt = test_root_options(&root, &der, PKI.pki.root);
    sh_profile p;
    sh_error err = {0};
    assert_int_equal(parse_buf(&prof, &opt, &p, &err), SH_E_PROFILE_DIGEST_MISMATCH);
    assert_string_equal(p.name, "Best Profile");
    sh_profile_free(&p);
    sig_buf_free(&prof);

    /* Without signed attributes the signature covers the content: CMS_SIGNATURE_INVALID. */
    size_t len;
    char *plist = test_profile_plist(&spec, &len);
    test_sign_spec s = {.content = plist, .len = len, .signer = PKI.signer, .key = PKI.signer_key,
                        .certs = PKI.chain, .ncerts = 2, .no_attributes = true};
    prof = test_profile_sign(&s);
    assert_int_equal(parse_buf(&prof, &opt, &p, &err), SH_E_OK);
    assert_false(p.sig.has_signing_time);
    assert_int_equal(p.sig.verify_time, TEST_T2024); /* CreationDate */
    sh_profile_free(&p);
    hit = NULL;
    for (size_t i = 0; i + strlen(needle) <= prof.len && !hit; i++)
        if (memcmp(prof.data + i, needle, strlen(needle)) == 0)
            hit = prof.data + i;
    assert_non_null(hit);
    hit[0] = 'B';
    assert_int_equal(parse_buf(&prof, &opt, &p, &err), SH_E_CMS_SIGNATURE_INVALID);
    sh_profile_free(&p);
    sig_buf_free(&prof);
    sig_buf_free(&der);
    free(plist);
}

static void generated_binary_plist_payload(void **state)
{
    (void)state;
    X509 *devcerts[] = {PKI.pki.dev_leaf};
    test_plist_spec spec = {.dev_certs = devcerts, .ndev_certs = 1, .platform = "iOS",
                            .devices = "<array><string>A</string><string>B</string></array>",
                            .entitlements = "<key>get-task-allow</key><false/>"};
    size_t len;
    char *xml = test_profile_plist(&spec, &len);
    plist_t root = NULL;
    plist_from_xml(xml, (uint32_t)len, &root);
    assert_non_null(root);
    char *bin = NULL;
    uint32_t blen = 0;
    plist_to_bin(root, &bin, &blen);
    plist_free(root);
    test_sign_spec s = {.content = bin, .len = blen, .signer = PKI.signer, .key = PKI.signer_key,
                        .certs = PKI.chain, .ncerts = 2};
    sig_buf prof = test_profile_sign(&s);
    sh_cursor rc;
    sig_buf der;
    sh_profile_options opt = test_root_options(&rc, &der, PKI.pki.root);
    sh_profile p;
    sh_error err = {0};
    assert_int_equal(parse_buf(&prof, &opt, &p, &err), SH_E_OK);
    assert_true(p.content_binary);
    assert_int_equal(p.devices.count, 2);
    /* get-task-allow false, development certificate: still Development by the cert. */
    assert_int_equal(p.kind, SH_PROFILE_KIND_DEVELOPMENT);
    FILE *f = tmpfile();
    assert_non_null(f);
    assert_true(sh_profile_write_xml(&p, f));
    long n = ftell(f);
    assert_true(n > 100);
    rewind(f);
    char head[6] = {0};
    assert_int_equal(fread(head, 1, 5, f), 5);
    assert_string_equal(head, "<?xml");
    fclose(f);
    sh_profile_free(&p);
    sig_buf_free(&prof);
    sig_buf_free(&der);
    plist_to_bin_free(bin);
    free(xml);
}

/* ---- allow-list ---- */

static sh_entitlements ents(const char *inner)
{
    char buf[2048];
    snprintf(buf, sizeof buf, "<plist version=\"1.0\"><dict>%s</dict></plist>", inner);
    sh_cursor c = sh_cursor_make((const uint8_t *)buf, strlen(buf));
    sh_entitlements e;
    sh_error err = {0};
    assert_int_equal(sh_entitlements_parse_xml(&c, NULL, &e, NULL, &err), SH_E_OK);
    return e;
}

static void entitlement_allow_list_rules(void **state)
{
    (void)state;
    X509 *devcerts[] = {PKI.pki.devid_leaf};
    test_plist_spec spec = {.dev_certs = devcerts, .ndev_certs = 1, .all_devices = true};
    sig_buf prof = test_profile_make(&PKI, &spec);
    sh_profile p;
    sh_error err = {0};
    parse_buf(&prof, &PINNED, &p, &err);
    assert_true(p.decoded);
    sh_entitlements ok = ents(
        "<key>com.apple.application-identifier</key><string>" TEST_TEAM ".com.example.app</string>"
        "<key>keychain-access-groups</key><array><string>" TEST_TEAM ".a</string>"
        "<string>" TEST_TEAM ".b</string></array>"
        "<key>com.apple.developer.system-extension.install</key><true/>"
        "<key>com.apple.developer.networking.networkextension</key><array>"
        "<string>content-filter-provider-systemextension</string></array>");
    const char *bad = NULL;
    assert_int_equal(sh_profile_check_entitlements(&p, &ok.root, &bad, &err), SH_E_OK);
    sh_entitlements_free(&ok);
    static const char *refused[] = {
        /* Developer ID NE value without the -systemextension suffix (forum thread 737894) */
        ("<key>com.apple.developer.networking.networkextension</key><array>"
         "<string>content-filter-provider</string></array>"),
        "<key>keychain-access-groups</key><array><string>OTHERTEAM.a</string></array>",
        "<key>com.apple.developer.team-identifier</key><string>OTHERTEAM</string>",
        "<key>com.apple.developer.team-identifier</key><true/>",
        "<key>com.apple.developer.homekit</key><true/>", /* not in the profile */
        "<key>com.apple.application-identifier</key><string>XXXXXXXXXX.com.example.app</string>",
    };
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        sh_entitlements e = ents(refused[i]);
        assert_int_equal(sh_profile_check_entitlements(&p, &e.root, &bad, &err),
                         SH_E_PROFILE_ENTITLEMENT_NOT_ALLOWED);
        assert_string_equal(bad, e.root.keys[0].str);
        sh_entitlements_free(&e);
    }
    /* bool: false is always allowed, true only when the profile says true */
    sh_entitlements f = ents("<key>com.apple.developer.system-extension.install</key><false/>");
    assert_int_equal(sh_profile_check_entitlements(&p, &f.root, NULL, &err), SH_E_OK);
    sh_entitlements_free(&f);
    assert_true(sh_profile_string_allowed("A.*", 3, "A.", 2));
    assert_false(sh_profile_string_allowed("A.*", 3, "A", 1));
    assert_true(sh_profile_string_allowed("*", 1, "anything", 8));
    assert_false(sh_profile_string_allowed("abc", 3, "abcd", 4));
    sh_profile_free(&p);
    sig_buf_free(&prof);
}

static void summary_and_xml_of_a_sample(void **state)
{
    (void)state;
    sh_profile p;
    sh_error err = {0};
    assert_int_equal(
        parse_sample("appinfo_GuiApp_embedded_developerid.provisionprofile", &PINNED, &p, &err),
        SH_E_OK);
    char *buf = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&buf, &size);
    assert_non_null(f);
    sh_profile_write_summary(&p, f);
    fclose(f);
    assert_non_null(strstr(buf, "Developer ID"));
    assert_non_null(strstr(buf, "e31f16f4-21dd-4ede-94e1-bafd718f9667"));
    assert_non_null(strstr(buf, "2038-12-18T06:00:08Z"));
    assert_non_null(strstr(buf, "anchor: Apple Root CA"));
    free(buf);
    f = open_memstream(&buf, &size);
    assert_true(sh_profile_write_xml(&p, f));
    fclose(f);
    assert_int_equal(size, p.content_len);
    assert_memory_equal(buf, "<?xml", 5);
    free(buf);
    sh_profile_free(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fastlane_ios_app_store_verifies_to_apple_root_ca),
        cmocka_unit_test(tampered_fails_the_digest),
        cmocka_unit_test(bare_bplist_is_not_cms),
        cmocka_unit_test(jigx_ios_xros_development),
        cmocka_unit_test(selfsigned_is_untrusted_unless_given_as_root),
        cmocka_unit_test(macos_development),
        cmocka_unit_test(macos_app_store),
        cmocka_unit_test(developer_id_provisions_all_devices),
        cmocka_unit_test(ad_hoc_with_90_devices),
        cmocka_unit_test(generated_developer_id_verifies_with_test_root),
        cmocka_unit_test(generated_wrong_root_and_expired_signer),
        cmocka_unit_test(generated_tampered_content),
        cmocka_unit_test(generated_binary_plist_payload),
        cmocka_unit_test(entitlement_allow_list_rules),
        cmocka_unit_test(summary_and_xml_of_a_sample),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
