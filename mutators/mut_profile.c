/* Mutator toolkit, provisioning profiles: unwrap an embedded profile's plist, let a mutator edit
 * it, and wrap it again in a CMS signed by the test PKI's profile signer (mut_toolkit.h).
 *
 * Re-wrapping (rather than rebuilding the profile through profile_writer) keeps every key the
 * mutator does not touch exactly as it was, and lets a mutator write what the writer never
 * would (an iOS Platform, a device list under a Developer ID name).  RSA PKCS#1 v1.5 and a fixed
 * signingTime make the result a pure function of the input. */
#include "mut_toolkit.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/cms.h>
#include <openssl/err.h>

#include "pki.h"
#include "signed_data.h"

static bool profile_fail(sh_mut_ctx *ctx, const char *path, const char *what)
{
    snprintf(ctx->why, sizeof ctx->why, "%.160s: %.90s", path, what);
    return false;
}

/* Only the attached content is wanted: the certificates are left undecoded when the shape of the
 * ContentInfo allows it (signed_data.h). */
static CMS_ContentInfo *decode_without_certificates(const sh_bundle_entry *e)
{
    sh_cursor in = sh_cursor_make(e->data, e->len);
    sh_signed_data_parts parts;
    const unsigned char *p = e->data;
    if (!sh_signed_data_split(&in, &parts))
        return d2i_CMS_ContentInfo(NULL, &p, (long)e->len);
    p = parts.stripped;
    CMS_ContentInfo *cms = d2i_CMS_ContentInfo(NULL, &p, (long)parts.stripped_len);
    sh_signed_data_parts_free(&parts);
    return cms;
}

/* The attached content of a CMS SignedData, parsed as a plist. */
static bool unwrap(sh_mut_ctx *ctx, const char *path, const sh_bundle_entry *e, plist_t *out)
{
    *out = NULL;
    if (e->len > LONG_MAX)
        return profile_fail(ctx, path, "too large");
    CMS_ContentInfo *cms = decode_without_certificates(e);
    ASN1_OCTET_STRING **content = cms ? CMS_get0_content(cms) : NULL;
    int len = content && *content ? ASN1_STRING_length(*content) : 0;
    if (len > 0)
        plist_from_memory((const char *)ASN1_STRING_get0_data(*content), (uint32_t)len, out);
    CMS_ContentInfo_free(cms);
    ERR_clear_error();
    if (!*out || plist_get_node_type(*out) != PLIST_DICT) {
        if (*out)
            plist_free(*out);
        *out = NULL;
        return profile_fail(ctx, path, "not a CMS-wrapped plist dictionary");
    }
    return true;
}

/* DER of an attached SignedData over content (OPENSSL_malloc'd), signingTime t. */
static unsigned char *wrap(const sh_pki_identity *signer, const char *content, uint32_t len,
                           int64_t t, int *der_len)
{
    const unsigned flags = CMS_BINARY | CMS_PARTIAL | CMS_NOSMIMECAP;
    *der_len = 0;
    if (len > INT_MAX)
        return NULL;
    CMS_ContentInfo *cms = CMS_sign(NULL, NULL, NULL, NULL, flags);
    CMS_SignerInfo *si =
        cms ? CMS_add1_signer(cms, signer->leaf, signer->key, EVP_sha256(), flags) : NULL;
    bool ok = si != NULL;
    for (size_t i = 0; ok && i < 2; i++)
        ok = !signer->chain[i] || CMS_add1_cert(cms, signer->chain[i]) == 1;
    /* Set before CMS_final, or OpenSSL stamps the current time (not deterministic). */
    ASN1_TIME *at = ok ? ASN1_TIME_set(NULL, (time_t)t) : NULL;
    ok = at && CMS_signed_add1_attr_by_NID(si, NID_pkcs9_signingTime, at->type, at, -1);
    ASN1_TIME_free(at);
    BIO *bio = ok ? BIO_new_mem_buf(content, (int)len) : NULL;
    ok = ok && bio && CMS_final(cms, bio, NULL, flags) == 1;
    BIO_free(bio);
    unsigned char *der = NULL;
    if (ok)
        *der_len = i2d_CMS_ContentInfo(cms, &der);
    CMS_ContentInfo_free(cms);
    ERR_clear_error();
    if (*der_len <= 0) {
        OPENSSL_free(der);
        *der_len = 0;
        return NULL;
    }
    return der;
}

bool sh_mut_profile_rewrite(sh_mut_ctx *ctx, const char *root, sh_mut_profile_edit edit, void *arg)
{
    char path[SH_MAX_BUNDLE_PATH + 1];
    if (!sh_mut_path(path, sizeof path, root, "embedded.provisionprofile")) {
        snprintf(ctx->why, sizeof ctx->why, "path too long");
        return false;
    }
    const sh_bundle_entry *e = sh_bundle_find(ctx->bundle, path);
    if (!e || e->kind != SH_BUNDLE_FILE)
        return profile_fail(ctx, path, "no embedded profile");
    plist_t dict;
    if (!unwrap(ctx, path, e, &dict))
        return false;
    bool ok = edit(ctx, dict, arg);
    char *xml = NULL;
    uint32_t xml_len = 0;
    if (ok)
        plist_to_xml(dict, &xml, &xml_len);
    plist_free(dict);
    if (!ok)
        return false;
    if (!xml)
        return profile_fail(ctx, path, "cannot write the edited plist");

    sh_pki_identity scratch;
    const sh_pki_identity *signer = sh_mut_identity(ctx, "profile-signer", &scratch);
    ok = signer != NULL;
    int der_len = 0;
    unsigned char *der = ok ? wrap(signer, xml, xml_len, ctx->signing_time, &der_len) : NULL;
    plist_to_xml_free(xml);
    sh_pki_identity_free(&scratch);
    if (ok && !der)
        ok = profile_fail(ctx, path, "cannot sign the profile");
    if (ok) {
        sh_error err = {0};
        sh_err rc = sh_bundle_put_file(ctx->bundle, path, der, (size_t)der_len, 0644, &err);
        if (rc != SH_E_OK)
            ok = profile_fail(ctx, path, sh_err_message(rc));
    }
    OPENSSL_free(der);
    return ok;
}

bool sh_mut_profile_set_certificate(sh_mut_ctx *ctx, plist_t profile, const char *identity)
{
    sh_pki_identity scratch;
    const sh_pki_identity *id = sh_mut_identity(ctx, identity, &scratch);
    if (!id)
        return false;
    unsigned char *der = NULL;
    int len = i2d_X509(id->leaf, &der);
    sh_pki_identity_free(&scratch);
    if (len <= 0) {
        OPENSSL_free(der);
        return profile_fail(ctx, identity, "cannot encode its certificate");
    }
    plist_t certs = plist_new_array();
    plist_array_append_item(certs, plist_new_data((const char *)der, (uint64_t)len));
    OPENSSL_free(der);
    plist_dict_set_item(profile, "DeveloperCertificates", certs);
    return true;
}
