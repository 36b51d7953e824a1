/* Test provisioning profiles (profile_builder.h). */
#include "profile_builder.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/bio.h>
#include <openssl/cms.h>
#include <openssl/evp.h>
#include <openssl/objects.h>

static void must(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "profile_builder: %s failed\n", what);
        ERR_print_errors_fp(stderr);
        abort();
    }
}

static void put(sig_buf *b, const char *s)
{
    sig_append(b, s, strlen(s));
}

static void put_date(sig_buf *b, int64_t t)
{
    char buf[64];
    struct tm tm;
    time_t tt = (time_t)t;
    must(gmtime_r(&tt, &tm) != NULL, "gmtime");
    strftime(buf, sizeof buf, "<date>%Y-%m-%dT%H:%M:%SZ</date>", &tm);
    put(b, buf);
}

static void put_cert_data(sig_buf *b, X509 *cert)
{
    sig_buf der = test_cert_der(cert);
    size_t cap = 4 * ((der.len + 2) / 3) + 1;
    unsigned char *text = malloc(cap);
    must(text != NULL, "malloc");
    EVP_EncodeBlock(text, der.data, (int)der.len);
    put(b, "<data>");
    put(b, (const char *)text);
    put(b, "</data>");
    free(text);
    sig_buf_free(&der);
}

/* Writes <key>k</key> and returns true when the caller should write the default value. */
static bool key(sig_buf *b, const test_plist_spec *s, const char *k)
{
    if (s->omit && strcmp(s->omit, k) == 0)
        return false;
    put(b, "<key>");
    put(b, k);
    put(b, "</key>");
    if (s->replace_key && strcmp(s->replace_key, k) == 0) {
        put(b, s->replace_value);
        return false;
    }
    return true;
}

static void put_certs(sig_buf *b, const test_plist_spec *s)
{
    if (!key(b, s, "DeveloperCertificates"))
        return;
    put(b, "<array>");
    for (size_t i = 0; i < s->ndev_certs; i++)
        put_cert_data(b, s->dev_certs[i]);
    put(b, "</array>");
}

static const char DEFAULT_ENTITLEMENTS[] =
    "<key>com.apple.application-identifier</key><string>" TEST_TEAM ".com.example.*</string>"
    "<key>com.apple.developer.team-identifier</key><string>" TEST_TEAM "</string>"
    "<key>keychain-access-groups</key><array><string>" TEST_TEAM ".*</string></array>"
    "<key>com.apple.developer.system-extension.install</key><true/>"
    "<key>com.apple.developer.networking.networkextension</key><array>"
    "<string>content-filter-provider-systemextension</string>"
    "<string>packet-tunnel-provider-systemextension</string></array>";

char *test_profile_plist(const test_plist_spec *s, size_t *len)
{
    sig_buf b = {0};
    put(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!DOCTYPE plist PUBLIC \"-//Apple//DTD "
            "PLIST 1.0//EN\" \"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">\n"
            "<plist version=\"1.0\">\n<dict>");
    if (key(&b, s, "AppIDName"))
        put(&b, "<string>Test App</string>");
    if (key(&b, s, "ApplicationIdentifierPrefix"))
        put(&b, "<array><string>" TEST_TEAM "</string></array>");
    if (key(&b, s, "CreationDate"))
        put_date(&b, s->created ? s->created : TEST_T2024);
    if (key(&b, s, "Platform")) {
        put(&b, "<array><string>");
        put(&b, s->platform ? s->platform : "OSX");
        put(&b, "</string></array>");
    }
    if (key(&b, s, "IsXcodeManaged"))
        put(&b, "<false/>");
    put_certs(&b, s);
    if (key(&b, s, "Entitlements")) {
        put(&b, "<dict>");
        put(&b, s->entitlements ? s->entitlements : DEFAULT_ENTITLEMENTS);
        put(&b, "</dict>");
    }
    if (key(&b, s, "ExpirationDate"))
        put_date(&b, s->expires ? s->expires : TEST_T2025);
    if (key(&b, s, "Name"))
        put(&b, "<string>Test Profile</string>");
    if (s->devices && key(&b, s, "ProvisionedDevices"))
        put(&b, s->devices);
    if (s->all_devices && key(&b, s, "ProvisionsAllDevices"))
        put(&b, "<true/>");
    if (key(&b, s, "TeamIdentifier"))
        put(&b, "<array><string>" TEST_TEAM "</string></array>");
    if (key(&b, s, "TeamName"))
        put(&b, "<string>Test Team</string>");
    if (key(&b, s, "TimeToLive"))
        put(&b, "<integer>365</integer>");
    if (key(&b, s, "UUID"))
        put(&b, "<string>0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0</string>");
    if (key(&b, s, "Version"))
        put(&b, "<integer>1</integer>");
    if (s->extra)
        put(&b, s->extra);
    put(&b, "</dict>\n</plist>\n");
    *len = b.len;
    sig_append_u8(&b, 0);
    return (char *)b.data;
}

/* ---- PKI ---- */

void test_profile_pki_init(test_profile_pki *p)
{
    memset(p, 0, sizeof *p);
    test_pki_init(&p->pki);
    p->signer_key = test_key_ec();
    test_cert_spec spec = {.cn = "Test Provisioning Profile Signing", .o = "Test Inc.",
                           .issuer = p->pki.wwdr, .issuer_key = p->pki.wwdr_key,
                           .key = p->signer_key, .serial = 40};
    p->signer = test_cert_make(&spec);
    spec.not_before = TEST_T2020;
    spec.not_after = TEST_T2021;
    spec.serial = 41;
    p->expired_signer = test_cert_make(&spec);
    p->chain[0] = p->pki.wwdr;
    p->chain[1] = p->pki.root;
}

void test_profile_pki_free(test_profile_pki *p)
{
    X509_free(p->signer);
    X509_free(p->expired_signer);
    EVP_PKEY_free(p->signer_key);
    test_pki_free(&p->pki);
    memset(p, 0, sizeof *p);
}

/* ---- CMS ---- */

static void add_signing_time(CMS_SignerInfo *si, int64_t t)
{
    ASN1_TIME *time = ASN1_TIME_set(NULL, (time_t)t);
    must(time != NULL, "signing time");
    must(CMS_signed_add1_attr_by_NID(si, NID_pkcs9_signingTime, time->type, time, -1),
         "signingTime attribute");
    ASN1_TIME_free(time);
}

static void add_signer(CMS_ContentInfo *cms, X509 *signer, EVP_PKEY *key, const test_sign_spec *s,
                       unsigned flags, bool second)
{
    unsigned sflags = flags | (s->no_attributes ? CMS_NOATTR : 0) |
                      (s->no_certs || second ? CMS_NOCERTS : 0);
    CMS_SignerInfo *si = CMS_add1_signer(cms, signer, key, EVP_sha256(), sflags);
    must(si != NULL, "CMS_add1_signer");
    if (!s->no_attributes && s->signing_time != -1)
        add_signing_time(si, s->signing_time ? s->signing_time : TEST_T2024 + 86400);
}

sig_buf test_profile_sign(const test_sign_spec *s)
{
    unsigned flags = CMS_BINARY | CMS_PARTIAL | CMS_NOSMIMECAP | (s->detached ? CMS_DETACHED : 0);
    CMS_ContentInfo *cms = CMS_sign(NULL, NULL, NULL, NULL, flags);
    must(cms != NULL, "CMS_sign");
    if (s->econtent_oid)
        must(CMS_set1_eContentType(cms, OBJ_txt2obj(s->econtent_oid, 1)), "eContentType");
    if (s->signer)
        add_signer(cms, s->signer, s->key, s, flags, false);
    if (s->second_signer)
        add_signer(cms, s->second_signer, s->key, s, flags, true);
    for (size_t i = 0; i < s->ncerts; i++)
        must(CMS_add1_cert(cms, s->certs[i]), "CMS_add1_cert");
    BIO *content = BIO_new_mem_buf(s->content, (int)s->len);
    must(content && CMS_final(cms, content, NULL, flags), "CMS_final");
    BIO_free(content);
    sig_buf out = test_cms_der(cms);
    CMS_ContentInfo_free(cms);
    return out;
}

sig_buf test_profile_make(const test_profile_pki *p, const test_plist_spec *spec)
{
    size_t len = 0;
    char *plist = test_profile_plist(spec, &len);
    test_sign_spec s = {.content = plist, .len = len, .signer = p->signer, .key = p->signer_key,
                        .certs = p->chain, .ncerts = 2};
    sig_buf out = test_profile_sign(&s);
    free(plist);
    return out;
}

sig_buf test_cert_der(X509 *cert)
{
    unsigned char *der = NULL;
    int len = i2d_X509(cert, &der);
    must(len > 0, "i2d_X509");
    sig_buf out = {0};
    out.data = sig_exact_copy(der, (size_t)len);
    out.len = out.cap = (size_t)len;
    OPENSSL_free(der);
    return out;
}
