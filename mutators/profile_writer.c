/* Provisioning-profile writer (see profile_writer.h). */
#include "profile_writer.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include "hash.h"

/* libplist dates count from the Core Foundation epoch, 2001-01-01T00:00:00Z. */
#define CF_EPOCH_UNIX 978307200
#define SECONDS_PER_DAY 86400

static bool date_fits(int64_t t)
{
    int64_t cf = t - CF_EPOCH_UNIX;
    return cf >= INT32_MIN && cf <= INT32_MAX;
}

static plist_t string_array(const char *const *items, size_t n)
{
    plist_t a = plist_new_array();
    for (size_t i = 0; a && i < n; i++)
        plist_array_append_item(a, plist_new_string(items[i]));
    return a;
}

/* DeveloperCertificates: each leaf's DER as <data>.  NULL when a certificate does not encode. */
static plist_t cert_array(X509 *const *certs, size_t n)
{
    plist_t a = plist_new_array();
    for (size_t i = 0; a && i < n; i++) {
        unsigned char *der = NULL;
        int len = i2d_X509(certs[i], &der);
        if (len <= 0) {
            plist_free(a);
            return NULL;
        }
        plist_array_append_item(a, plist_new_data((const char *)der, (uint64_t)len));
        OPENSSL_free(der);
    }
    return a;
}

static void set(plist_t dict, const char *key, plist_t value)
{
    if (value)
        plist_dict_set_item(dict, key, value);
}

/* The content dict, keys in the order the developer portal writes them; uuid NULL leaves the
 * UUID key out (the text the UUID is derived from). */
static plist_t build_dict(const sh_pw_spec *s, const char *uuid)
{
    plist_t d = plist_new_dict();
    if (!d)
        return NULL;
    const char *team[1] = {s->team_id};
    const char *osx[1] = {"OSX"};
    set(d, "AppIDName", plist_new_string(s->app_id_name));
    set(d, "ApplicationIdentifierPrefix", string_array(team, 1));
    set(d, "CreationDate", plist_new_date((int32_t)(s->creation_date - CF_EPOCH_UNIX), 0));
    set(d, "Platform", string_array(osx, 1));
    set(d, "IsXcodeManaged", plist_new_bool(s->xcode_managed));
    set(d, "DeveloperCertificates", cert_array(s->certificates, s->ncertificates));
    set(d, "Entitlements", plist_copy(s->entitlements));
    set(d, "ExpirationDate", plist_new_date((int32_t)(s->expiration_date - CF_EPOCH_UNIX), 0));
    set(d, "Name", plist_new_string(s->name));
    if (s->kind == SH_PW_DEVELOPMENT)
        set(d, "ProvisionedDevices", string_array(s->devices, s->ndevices));
    else
        set(d, "ProvisionsAllDevices", plist_new_bool(1));
    set(d, "TeamIdentifier", string_array(team, 1));
    set(d, "TeamName", plist_new_string(s->team_name));
    set(d, "TimeToLive",
        plist_new_uint((uint64_t)((s->expiration_date - s->creation_date) / SECONDS_PER_DAY)));
    if (uuid)
        set(d, "UUID", plist_new_string(uuid));
    set(d, "Version", plist_new_uint(1));
    /* A missing value (failed allocation or certificate) leaves its key out: count them. */
    uint32_t expected = 14u + (uuid ? 1u : 0u);
    if (plist_dict_get_size(d) != expected) {
        plist_free(d);
        return NULL;
    }
    return d;
}

static bool append_xml(plist_t d, sh_bytebuf *out)
{
    char *xml = NULL;
    uint32_t len = 0;
    plist_to_xml(d, &xml, &len);
    bool ok = xml && len > 0 && sh_bytebuf_append(out, xml, len);
    if (xml)
        plist_to_xml_free(xml);
    return ok;
}

/* An upper-case RFC 4122 name-based (version 5 layout, SHA-256) UUID of the content without
 * the UUID key, as "8-4-4-4-12" hex. */
static bool derive_uuid(const sh_pw_spec *s, char uuid[37])
{
    plist_t d = build_dict(s, NULL);
    sh_bytebuf text;
    sh_bytebuf_init(&text, NULL);
    uint8_t h[32];
    bool ok = d && append_xml(d, &text) && sh_hash(SH_HASH_SHA256, text.data, text.len, h);
    plist_free(d);
    sh_bytebuf_free(&text);
    if (!ok)
        return false;
    h[6] = (uint8_t)((h[6] & 0x0f) | 0x50);
    h[8] = (uint8_t)((h[8] & 0x3f) | 0x80);
    char *p = uuid;
    for (size_t i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            *p++ = '-';
        snprintf(p, 3, "%02X", h[i]);
        p += 2;
    }
    *p = '\0';
    return true;
}

static const char *spec_problem(const sh_pw_spec *s)
{
    if (s->kind != SH_PW_DEVELOPER_ID && s->kind != SH_PW_DEVELOPMENT)
        return "kind";
    if (!s->name || !s->app_id_name || !s->team_id || !s->team_name)
        return "name, app ID name or team";
    if (!date_fits(s->creation_date) || !date_fits(s->expiration_date) ||
        s->expiration_date <= s->creation_date)
        return "dates";
    if (s->ndevices > SH_PW_MAX_DEVICES || (s->ndevices > 0 && !s->devices))
        return "devices";
    if (s->ncertificates == 0 || s->ncertificates > SH_PW_MAX_CERTS || !s->certificates)
        return "certificates";
    if (!s->entitlements || plist_get_node_type(s->entitlements) != PLIST_DICT)
        return "entitlements";
    if (!s->signer || !s->signer->leaf || !s->signer->key)
        return "signer";
    return NULL;
}

sh_write_status sh_pw_write_plist(const sh_pw_spec *spec, sh_bytebuf *out, sh_write_error *err)
{
    const char *problem = spec ? spec_problem(spec) : "spec";
    if (problem)
        return sh_write_fail(err, SH_W_INVALID_ARGUMENT, problem);
    char uuid[37];
    if (!derive_uuid(spec, uuid))
        return sh_write_fail(err, SH_W_NO_MEMORY, "profile UUID");
    plist_t d = build_dict(spec, uuid);
    bool ok = d && append_xml(d, out);
    plist_free(d);
    if (!ok)
        return sh_write_fail(err, sh_bytebuf_ok(out) ? SH_W_NO_MEMORY : sh_bytebuf_status(out),
                             "profile plist");
    return SH_W_OK;
}

static bool add_signing_time(CMS_SignerInfo *si, int64_t t)
{
    ASN1_TIME *at = ASN1_TIME_set(NULL, (time_t)t);
    bool ok = at && CMS_signed_add1_attr_by_NID(si, NID_pkcs9_signingTime, at->type, at, -1);
    ASN1_TIME_free(at);
    return ok;
}

/* DER of the attached SignedData over content; OPENSSL_malloc'd, length in *len (0 on failure).
 * The signingTime is added before CMS_final so OpenSSL does not stamp the current time. */
static unsigned char *sign_attached(const sh_pki_identity *signer, const uint8_t *content,
                                    size_t content_len, int64_t signing_time, int *len)
{
    const unsigned flags = CMS_BINARY | CMS_PARTIAL | CMS_NOSMIMECAP;
    *len = 0;
    if (content_len > INT_MAX)
        return NULL;
    CMS_ContentInfo *cms = CMS_sign(NULL, NULL, NULL, NULL, flags);
    CMS_SignerInfo *si =
        cms ? CMS_add1_signer(cms, signer->leaf, signer->key, EVP_sha256(), flags) : NULL;
    bool ok = si != NULL;
    for (size_t i = 0; ok && i < 2; i++)
        ok = !signer->chain[i] || CMS_add1_cert(cms, signer->chain[i]) == 1;
    ok = ok && add_signing_time(si, signing_time);
    BIO *bio = ok ? BIO_new_mem_buf(content, (int)content_len) : NULL;
    ok = ok && bio && CMS_final(cms, bio, NULL, flags) == 1;
    BIO_free(bio);
    unsigned char *der = NULL;
    if (ok)
        *len = i2d_CMS_ContentInfo(cms, &der);
    CMS_ContentInfo_free(cms);
    if (*len <= 0) {
        OPENSSL_free(der);
        *len = 0;
        return NULL;
    }
    return der;
}

sh_write_status sh_pw_write(const sh_pw_spec *spec, sh_bytebuf *out, sh_write_error *err)
{
    sh_bytebuf plist;
    sh_bytebuf_init(&plist, out->alloc);
    sh_write_status st = sh_pw_write_plist(spec, &plist, err);
    if (st != SH_W_OK) {
        sh_bytebuf_free(&plist);
        return st;
    }
    int len = 0;
    unsigned char *der =
        sign_attached(spec->signer, plist.data, plist.len, spec->creation_date, &len);
    sh_bytebuf_free(&plist);
    ERR_clear_error();
    if (!der)
        return sh_write_fail(err, SH_W_HASH_FAILED, "profile CMS");
    bool ok = sh_bytebuf_append(out, der, (size_t)len);
    OPENSSL_free(der);
    return ok ? SH_W_OK : sh_write_fail(err, sh_bytebuf_status(out), "profile");
}
