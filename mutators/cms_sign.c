/* CMS SignedData over the slot-0 CodeDirectory (see cms_sign.h). */
#include "cms_sign_internal.h"

#include <string.h>

#include <openssl/cms.h>
#include <openssl/err.h>

#include "hash.h"
#include "sh_limits.h"

#define CMS_BASE_RESERVE 9000u
#define TIMESTAMP_RESERVE 4096u

static size_t der_size(X509 *cert)
{
    int n = cert ? i2d_X509(cert, NULL) : 0;
    return n > 0 ? (size_t)n : 0;
}

size_t sh_cms_sign_reserve(const sh_cms_sign_params *p)
{
    size_t total = CMS_BASE_RESERVE + der_size(p->signer); /* certificates are a few KiB each */
    for (size_t i = 0; i < p->ncerts; i++)
        total += der_size(p->certs[i]);
    if (p->tsa) {
        total += TIMESTAMP_RESERVE + der_size(p->tsa);
        for (size_t i = 0; i < p->ntsa_certs; i++)
            total += der_size(p->tsa_certs[i]);
    }
    return total;
}

/* ---- CDHashes ---- */

typedef struct cd_hash {
    uint8_t hash_type;
    uint8_t digest[SH_HASH_MAX_SIZE];
    size_t len;
} cd_hash;

/* cdhashes of the CDs, sorted by hash type (Security's cdHashes() map order). */
static bool cd_hashes(const sh_cms_cd *cds, size_t n, cd_hash *out)
{
    for (size_t i = 0; i < n; i++) {
        out[i].hash_type = cds[i].hash_type;
        out[i].len = sh_hash_size(cds[i].hash_type);
        if (out[i].len < 20 || !cds[i].blob.p ||
            !sh_hash(cds[i].hash_type, cds[i].blob.p, cds[i].blob.len, out[i].digest))
            return false;
    }
    for (size_t i = 1; i < n; i++) /* insertion sort: n <= SH_MAX_CMS_CDHASHES */
        for (size_t j = i; j > 0 && out[j - 1].hash_type > out[j].hash_type; j--) {
            cd_hash tmp = out[j];
            out[j] = out[j - 1];
            out[j - 1] = tmp;
        }
    return true;
}

static const char plist_head[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" "
    "\"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">\n"
    "<plist version=\"1.0\">\n<dict>\n\t<key>cdhashes</key>\n\t<array>\n";
static const char plist_tail[] = "\t</array>\n</dict>\n</plist>\n";

static void plist_from(const cd_hash *h, size_t n, sh_bytebuf *out)
{
    sh_bytebuf_append(out, plist_head, sizeof plist_head - 1);
    for (size_t i = 0; i < n; i++) {
        unsigned char b64[32];
        int len = EVP_EncodeBlock(b64, h[i].digest, 20);
        sh_bytebuf_append(out, "\t\t<data>\n\t\t", 11);
        sh_bytebuf_append(out, b64, len > 0 ? (size_t)len : 0);
        sh_bytebuf_append(out, "\n\t\t</data>\n", 11);
    }
    sh_bytebuf_append(out, plist_tail, sizeof plist_tail - 1);
}

sh_write_status sh_cdhashes_plist(const sh_cms_cd *cds, size_t ncds, sh_bytebuf *out,
                                  sh_write_error *err)
{
    cd_hash h[SH_MAX_CMS_CDHASHES];
    if (ncds == 0 || ncds > SH_MAX_CMS_CDHASHES)
        return sh_write_fail(err, SH_W_INVALID_ARGUMENT, "CodeDirectory count");
    if (!cd_hashes(cds, ncds, h))
        return sh_write_fail(err, SH_W_HASH_FAILED, "cdhash");
    plist_from(h, ncds, out);
    return sh_bytebuf_ok(out) ? SH_W_OK : sh_write_fail(err, sh_bytebuf_status(out), "CDHashes plist");
}

/* ---- signed attributes ---- */

static bool add_signing_time(CMS_SignerInfo *si, int64_t t)
{
    ASN1_TIME *at = ASN1_TIME_set(NULL, (time_t)t);
    bool ok = at && CMS_signed_add1_attr_by_NID(si, NID_pkcs9_signingTime, at->type, at, -1);
    ASN1_TIME_free(at);
    return ok;
}

static bool add_plist(CMS_SignerInfo *si, const cd_hash *h, size_t n)
{
    sh_bytebuf text;
    sh_bytebuf_init(&text, NULL);
    plist_from(h, n, &text);
    ASN1_OBJECT *obj = OBJ_txt2obj("1.2.840.113635.100.9.1", 1);
    bool ok = obj && sh_bytebuf_ok(&text) && text.len <= INT_MAX &&
              CMS_signed_add1_attr_by_OBJ(si, obj, V_ASN1_OCTET_STRING, text.data, (int)text.len);
    ASN1_OBJECT_free(obj);
    sh_bytebuf_free(&text);
    return ok;
}

/* DER SEQUENCE { OID, OCTET STRING } (OPENSSL_malloc'd). */
static int agile_hash_der(const cd_hash *h, unsigned char **der)
{
    int nid = h->hash_type == SH_HASH_SHA1 ? NID_sha1 : h->hash_type == SH_HASH_SHA256 ? NID_sha256
                                                                                        : NID_undef;
    ASN1_OCTET_STRING *value = ASN1_OCTET_STRING_new();
    ASN1_TYPE *t0 = ASN1_TYPE_new(), *t1 = ASN1_TYPE_new();
    ASN1_SEQUENCE_ANY *seq = sk_ASN1_TYPE_new_null();
    int len = -1;
    if (nid != NID_undef && value && t0 && t1 && seq &&
        ASN1_OCTET_STRING_set(value, h->digest, (int)h->len)) {
        ASN1_TYPE_set(t0, V_ASN1_OBJECT, OBJ_nid2obj(nid)); /* static object: free is a no-op */
        ASN1_TYPE_set(t1, V_ASN1_OCTET_STRING, value);
        value = NULL;
        if (sk_ASN1_TYPE_push(seq, t0)) {
            t0 = NULL;
            if (sk_ASN1_TYPE_push(seq, t1)) {
                t1 = NULL;
                len = i2d_ASN1_SEQUENCE_ANY(seq, der);
            }
        }
    }
    ASN1_OCTET_STRING_free(value);
    ASN1_TYPE_free(t0);
    ASN1_TYPE_free(t1);
    sk_ASN1_TYPE_pop_free(seq, ASN1_TYPE_free);
    return len;
}

static bool add_cdhashes2(CMS_SignerInfo *si, const cd_hash *h, size_t n)
{
    ASN1_OBJECT *obj = OBJ_txt2obj("1.2.840.113635.100.9.2", 1);
    X509_ATTRIBUTE *attr = obj ? X509_ATTRIBUTE_create_by_OBJ(NULL, obj, 0, NULL, -1)
                               : NULL;
    bool ok = attr != NULL;
    for (size_t i = 0; ok && i < n; i++) {
        unsigned char *der = NULL;
        int len = agile_hash_der(&h[i], &der);
        ok = len > 0 && X509_ATTRIBUTE_set1_data(attr, V_ASN1_SEQUENCE, der, len);
        OPENSSL_free(der);
    }
    ok = ok && CMS_signed_add1_attr(si, attr);
    X509_ATTRIBUTE_free(attr);
    ASN1_OBJECT_free(obj);
    return ok;
}

/* ---- the SignedData ---- */

static bool add_timestamp(CMS_SignerInfo *si, const sh_cms_sign_params *p)
{
    ASN1_OCTET_STRING *sig = CMS_SignerInfo_get0_signature(si);
    unsigned char *der = NULL;
    int len = 0;
    bool ok = sig && sh_cms_ts_token(p, ASN1_STRING_get0_data(sig), (size_t)ASN1_STRING_length(sig),
                                     &der, &len) &&
              CMS_unsigned_add1_attr_by_NID(si, NID_id_smime_aa_timeStampToken, V_ASN1_SEQUENCE,
                                            der, len);
    OPENSSL_free(der);
    return ok;
}

static CMS_ContentInfo *make_cms(const sh_cms_sign_params *p, const cd_hash *h)
{
    const unsigned flags = CMS_DETACHED | CMS_BINARY | CMS_PARTIAL | CMS_NOSMIMECAP;
    CMS_ContentInfo *cms = CMS_sign(NULL, NULL, NULL, NULL, flags);
    CMS_SignerInfo *si = cms ? CMS_add1_signer(cms, p->signer, p->key, EVP_sha256(), flags) : NULL;
    bool ok = si != NULL;
    for (size_t i = 0; ok && i < p->ncerts; i++)
        ok = CMS_add1_cert(cms, p->certs[i]) == 1;
    ok = ok && add_signing_time(si, p->signing_time) && add_plist(si, h, p->ncds) &&
         add_cdhashes2(si, h, p->ncds);
    BIO *content = ok ? BIO_new_mem_buf(p->cds[0].blob.p, (int)p->cds[0].blob.len) : NULL;
    ok = ok && content && CMS_final(cms, content, NULL, flags) == 1;
    BIO_free(content);
    ok = ok && (!p->tsa || add_timestamp(si, p));
    if (!ok) {
        CMS_ContentInfo_free(cms);
        return NULL;
    }
    return cms;
}

static bool params_ok(const sh_cms_sign_params *p)
{
    if (!p->signer || !p->key || !p->cds || p->ncds == 0 || p->ncds > SH_MAX_CMS_CDHASHES ||
        p->cds[0].blob.len > INT_MAX || (p->tsa && !p->tsa_key))
        return false;
    for (size_t i = 0; i < p->ncds; i++)
        if (p->cds[i].hash_type != SH_HASH_SHA1 && p->cds[i].hash_type != SH_HASH_SHA256)
            return false;
    return true;
}

sh_write_status sh_cms_sign(const sh_cms_sign_params *p, sh_bytebuf *out, sh_write_error *err)
{
    cd_hash h[SH_MAX_CMS_CDHASHES];
    if (!params_ok(p))
        return sh_write_fail(err, SH_W_INVALID_ARGUMENT, "CMS parameters");
    if (!cd_hashes(p->cds, p->ncds, h))
        return sh_write_fail(err, SH_W_HASH_FAILED, "cdhash");
    CMS_ContentInfo *cms = make_cms(p, h);
    unsigned char *der = NULL;
    int len = cms ? i2d_CMS_ContentInfo(cms, &der) : -1;
    CMS_ContentInfo_free(cms);
    ERR_clear_error();
    if (len <= 0)
        return sh_write_fail(err, SH_W_HASH_FAILED, "CMS signing (OpenSSL)");
    bool ok = sh_bytebuf_append(out, der, (size_t)len);
    OPENSSL_free(der);
    return ok ? SH_W_OK : sh_write_fail(err, sh_bytebuf_status(out), "CMS");
}
