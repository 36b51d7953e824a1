/* Hostile provisioning profiles: each input with the exact error it must produce, run with every
 * allocation checked by ASan/LSan (the suite runs under SH_SANITIZE builds). */
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

static test_profile_pki PKI;
static const sh_profile_options OPT = {.now = TEST_T2024};

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

/* Parses exactly len bytes from an exact-size heap copy; returns the error, checks decoded. */
static sh_err run(const void *data, size_t len, sh_error *err)
{
    uint8_t *copy = sig_exact_copy(data, len);
    sh_profile p;
    memset(err, 0, sizeof *err);
    sh_err e = sh_profile_parse(copy, len, NULL, &OPT, &p, err);
    if (e != SH_E_OK)
        assert_int_equal(err->code, e);
    sh_profile_free(&p);
    free(copy);
    return e;
}

static sh_err run_plist(const char *plist, size_t len, sh_error *err)
{
    test_sign_spec s = {.content = plist, .len = len, .signer = PKI.signer, .key = PKI.signer_key,
                        .certs = PKI.chain, .ncerts = 2};
    sig_buf b = test_profile_sign(&s);
    sh_err e = run(b.data, b.len, err);
    sig_buf_free(&b);
    return e;
}

static sh_err run_spec(const test_plist_spec *spec, sh_error *err)
{
    size_t len;
    char *plist = test_profile_plist(spec, &len);
    sh_err e = run_plist(plist, len, err);
    free(plist);
    return e;
}

static sig_buf valid_profile(void)
{
    X509 *devcerts[] = {PKI.pki.devid_leaf};
    test_plist_spec spec = {.dev_certs = devcerts, .ndev_certs = 1, .all_devices = true};
    return test_profile_make(&PKI, &spec);
}

/* 1. every proper prefix of a real profile */
static void truncated_at_every_prefix(void **state)
{
    (void)state;
    const char *dir = getenv("SH_SHARED_DIR");
    char path[1024];
    snprintf(path, sizeof path, "%s/external-samples/profiles/fastlane_test.mobileprovision",
             dir ? dir : "../shared");
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    static uint8_t buf[8192];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    assert_int_equal(n, 7417);
    sh_error err;
    for (size_t len = 0; len < n; len++)
        assert_int_equal(run(buf, len, &err), SH_E_PROFILE_NOT_CMS);
    assert_int_equal(run(buf, n, &err), SH_E_OK);
}

/* 2-5. garbage, empty, trailing bytes, too large */
static void garbage_empty_trailing_too_large(void **state)
{
    (void)state;
    sh_error err;
    uint8_t garbage[4096];
    uint32_t x = 12345;
    for (size_t i = 0; i < sizeof garbage; i++) {
        x = x * 1103515245u + 12345u;
        garbage[i] = (uint8_t)(x >> 16);
    }
    assert_int_equal(run(garbage, sizeof garbage, &err), SH_E_PROFILE_NOT_CMS);
    assert_int_equal(run("", 0, &err), SH_E_PROFILE_NOT_CMS);
    sig_buf b = valid_profile();
    sig_append_u8(&b, 0);
    assert_int_equal(run(b.data, b.len, &err), SH_E_PROFILE_TRAILING_DATA);
    assert_int_equal(err.value, 1);
    sig_buf_free(&b);
    size_t big = SH_MAX_PROFILE_SIZE + 1;
    uint8_t *huge = calloc(1, big);
    assert_non_null(huge);
    assert_int_equal(run(huge, big, &err), SH_E_PROFILE_TOO_LARGE);
    free(huge);
}

/* 6-10. CMS shapes: detached, not SignedData, other eContentType, no signer, two signers,
 * signer certificate missing */
static void cms_shapes(void **state)
{
    (void)state;
    sh_error err;
    const char plist[] = "<plist version=\"1.0\"><dict/></plist>";
    test_sign_spec s = {.content = plist, .len = sizeof plist - 1, .signer = PKI.signer,
                        .key = PKI.signer_key, .certs = PKI.chain, .ncerts = 2};
    s.detached = true;
    sig_buf b = test_profile_sign(&s);
    assert_int_equal(run(b.data, b.len, &err), SH_E_PROFILE_DETACHED);
    sig_buf_free(&b);
    s.detached = false;
    s.econtent_oid = "1.2.840.113549.1.9.16.1.4"; /* id-ct-TSTInfo */
    b = test_profile_sign(&s);
    assert_int_equal(run(b.data, b.len, &err), SH_E_CMS_ECONTENT_TYPE);
    sig_buf_free(&b);
    s.econtent_oid = NULL;
    /* SignedData { 1, {}, { id-data, [0] "<plist/>" }, signerInfos {} } (OpenSSL will not write
     * one with content and no signer) */
    static const uint8_t no_signer[] = {
        0x30, 0x2f, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02, 0xa0, 0x22,
        0x30, 0x20, 0x02, 0x01, 0x01, 0x31, 0x00, 0x30, 0x17, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86,
        0xf7, 0x0d, 0x01, 0x07, 0x01, 0xa0, 0x0a, 0x04, 0x08, '<',  'p',  'l',  'i',  's',  't',
        '/',  '>',  0x31, 0x00};
    assert_int_equal(run(no_signer, sizeof no_signer, &err), SH_E_CMS_NO_SIGNER);
    s.second_signer = PKI.signer;
    b = test_profile_sign(&s);
    assert_int_equal(run(b.data, b.len, &err), SH_E_CMS_MULTIPLE_SIGNERS);
    sig_buf_free(&b);
    s.second_signer = NULL;
    s.no_certs = true;
    s.certs = NULL;
    s.ncerts = 0;
    X509 *devcerts[] = {PKI.pki.devid_leaf};
    test_plist_spec spec = {.dev_certs = devcerts, .ndev_certs = 1};
    size_t len;
    char *full = test_profile_plist(&spec, &len);
    s.content = full;
    s.len = len;
    b = test_profile_sign(&s);
    assert_int_equal(run(b.data, b.len, &err), SH_E_CMS_SIGNER_CERT_MISSING);
    sig_buf_free(&b);
    free(full);
    /* id-data ContentInfo: not SignedData */
    static const uint8_t data_ci[] = {0x30, 0x16, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7,
                                      0x0d, 0x01, 0x07, 0x01, 0xa0, 0x09, 0x04, 0x07, '<',
                                      'p',  'l',  'i',  's',  't',  '>'};
    assert_int_equal(run(data_ci, sizeof data_ci, &err), SH_E_CMS_NOT_SIGNED_DATA);
}

/* 11-13. content not a plist, root not a dict, Entitlements not a dict */
static void content_shapes(void **state)
{
    (void)state;
    sh_error err;
    const char text[] = "hello, this is not a property list";
    assert_int_equal(run_plist(text, sizeof text - 1, &err), SH_E_PLIST_XML_SYNTAX);
    const char array[] = "<plist version=\"1.0\"><array><string>a</string></array></plist>";
    assert_int_equal(run_plist(array, sizeof array - 1, &err), SH_E_PROFILE_ROOT_NOT_DICT);
    test_plist_spec spec = {.replace_key = "Entitlements", .replace_value = "<string>x</string>"};
    assert_int_equal(run_spec(&spec, &err), SH_E_PROFILE_ENTITLEMENTS_NOT_DICT);
    assert_int_equal(sh_err_errsec(err.code), errSecCSInvalidEntitlements);
}

/* 14-18. wrong types, missing keys, bad strings */
static void key_types(void **state)
{
    (void)state;
    sh_error err;
    test_plist_spec spec = {.replace_key = "CreationDate", .replace_value = "<string>2024</string>"};
    assert_int_equal(run_spec(&spec, &err), SH_E_PROFILE_KEY_TYPE);
    assert_string_equal(err.where, "CreationDate");
    assert_int_equal(err.value, PLIST_STRING);
    spec.replace_key = "ExpirationDate";
    spec.replace_value = "<integer>5</integer>";
    assert_int_equal(run_spec(&spec, &err), SH_E_PROFILE_KEY_TYPE);
    assert_string_equal(err.where, "ExpirationDate");
    spec.replace_key = "TeamIdentifier";
    spec.replace_value = "<array><integer>1</integer></array>";
    assert_int_equal(run_spec(&spec, &err), SH_E_PROFILE_KEY_TYPE);
    assert_int_equal(err.index, 0);
    spec.replace_key = "TimeToLive";
    spec.replace_value = "<integer>-1</integer>";
    assert_int_equal(run_spec(&spec, &err), SH_E_PROFILE_KEY_TYPE);
    spec.replace_key = "UUID";
    spec.replace_value = "<string></string>";
    assert_int_equal(run_spec(&spec, &err), SH_E_PROFILE_BAD_STRING);
    spec.replace_key = "ProvisionsAllDevices";
    spec.replace_value = "<string>yes</string>";
    spec.all_devices = true;
    assert_int_equal(run_spec(&spec, &err), SH_E_PROFILE_KEY_TYPE);
    spec.all_devices = false;
    spec.replace_key = "DeveloperCertificates";
    spec.replace_value = "<array><data>AAECAw==</data></array>";
    assert_int_equal(run_spec(&spec, &err), SH_E_PROFILE_CERT_INVALID);
    assert_int_equal(err.index, 0);
    spec.replace_key = NULL;
    static const char *required[] = {"UUID", "Name", "TeamIdentifier", "CreationDate",
                                     "ExpirationDate", "DeveloperCertificates", "Entitlements"};
    for (size_t i = 0; i < sizeof required / sizeof required[0]; i++) {
        spec.omit = required[i];
        assert_int_equal(run_spec(&spec, &err), SH_E_PROFILE_MISSING_KEY);
        assert_string_equal(err.where, required[i]);
    }
}

static char *repeat(const char *head, const char *item, size_t n, const char *tail)
{
    sig_buf b = {0};
    sig_append(&b, head, strlen(head));
    for (size_t i = 0; i < n; i++)
        sig_append(&b, item, strlen(item));
    sig_append(&b, tail, strlen(tail));
    sig_append_u8(&b, 0);
    return (char *)b.data;
}

/* 19-21. limits: devices, developer certificates, nesting */
static void limits(void **state)
{
    (void)state;
    sh_error err;
    char *devices = repeat("<array>", "<string>0000</string>", SH_MAX_PROFILE_DEVICES + 1,
                           "</array>");
    test_plist_spec spec = {.devices = devices};
    assert_int_equal(run_spec(&spec, &err), SH_E_PROFILE_TOO_MANY_DEVICES);
    assert_int_equal(err.value, SH_MAX_PROFILE_DEVICES + 1);
    free(devices);
    devices = repeat("<array>", "<string>0000</string>", SH_MAX_PROFILE_DEVICES, "</array>");
    spec.devices = devices;
    X509 *devcerts[] = {PKI.pki.dev_leaf};
    spec.dev_certs = devcerts;
    spec.ndev_certs = 1;
    assert_int_equal(run_spec(&spec, &err), SH_E_CMS_CHAIN_UNTRUSTED); /* at the limit: parses */
    free(devices);
    spec.devices = NULL;
    char *certs = repeat("<array>", "<data>AAAA</data>", SH_MAX_PROFILE_CERTS + 1, "</array>");
    spec.replace_key = "DeveloperCertificates";
    spec.replace_value = certs;
    assert_int_equal(run_spec(&spec, &err), SH_E_PROFILE_TOO_MANY_CERTS);
    free(certs);
    char *deep = repeat("<key>Deep</key>", "<array>", 100, "");
    char *deep2 = repeat(deep, "</array>", 100, "");
    spec.replace_key = NULL;
    spec.extra = deep2;
    assert_int_equal(run_spec(&spec, &err), SH_E_PLIST_TOO_DEEP);
    free(deep);
    free(deep2);
}

/* 22-24. plist-level attacks: bplist cycle, DTD entities, duplicate keys */
static void plist_attacks(void **state)
{
    (void)state;
    sh_error err;
    /* bplist00 with one array object that contains itself */
    uint8_t bp[8 + 2 + 1 + 32] = {'b', 'p', 'l', 'i', 's', 't', '0', '0', 0xA1, 0x00, 0x08};
    uint8_t *t = bp + 11;
    t[6] = 1;  /* offset size */
    t[7] = 1;  /* ref size */
    t[15] = 1; /* objects */
    t[31] = 10; /* offset table offset */
    assert_int_equal(run_plist((const char *)bp, sizeof bp, &err), SH_E_PLIST_BPLIST_CYCLE);
    const char dtd[] = "<?xml version=\"1.0\"?><!DOCTYPE plist [<!ENTITY a \"aaaa\">]>"
                       "<plist version=\"1.0\"><dict/></plist>";
    assert_int_equal(run_plist(dtd, sizeof dtd - 1, &err), SH_E_PLIST_XML_DTD);
    test_plist_spec spec = {.extra = "<key>UUID</key><string>again</string>"};
    assert_int_equal(run_spec(&spec, &err), SH_E_PLIST_DUPLICATE_KEY);
}

/* 25. too many top-level keys */
static void too_many_keys(void **state)
{
    (void)state;
    sh_error err;
    sig_buf extra = {0};
    for (unsigned i = 0; i < SH_MAX_PROFILE_KEYS; i++) {
        char k[48];
        snprintf(k, sizeof k, "<key>X%u</key><true/>", i);
        sig_append(&extra, k, strlen(k));
    }
    sig_append_u8(&extra, 0);
    test_plist_spec spec = {.extra = (const char *)extra.data};
    assert_int_equal(run_spec(&spec, &err), SH_E_PROFILE_TOO_MANY_KEYS);
    sig_buf_free(&extra);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(truncated_at_every_prefix),
        cmocka_unit_test(garbage_empty_trailing_too_large),
        cmocka_unit_test(cms_shapes),
        cmocka_unit_test(content_shapes),
        cmocka_unit_test(key_types),
        cmocka_unit_test(limits),
        cmocka_unit_test(plist_attacks),
        cmocka_unit_test(too_many_keys),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
