/* Parsing the code-signing CMS: OpenSSL decodes the (BER) ContentInfo from exactly the bytes the
 * BlobWrapper holds; this file checks the SignedData shape a code signature must have and pulls
 * out what the verifier reads. */
#include "cms.h"

#include <string.h>

#include <openssl/err.h>

#include "cms_attr.h"
#include "signed_data.h"
#include "superblob.h"

static sh_err fail_cms(const sh_cms *cms, sh_err code, int64_t index, uint64_t value,
                       sh_error *err)
{
    return sh_fail_value(err, code, "CMS", index, cms->offset, value);
}

/* After the ContentInfo only zero padding may follow.  consumed is how far d2i got. */
static sh_err check_trailing(sh_cms *cms, const sh_cursor *payload, size_t consumed,
                             sh_error *err)
{
    sh_cursor rest;
    if (!sh_cursor_tail(payload, consumed, &rest))
        return fail_cms(cms, SH_E_CMS_MALFORMED, -1, consumed, err);
    cms->size = consumed;
    cms->padding = rest.len;
    uint8_t byte;
    while (sh_cursor_u8(&rest, &byte))
        if (byte != 0)
            return fail_cms(cms, SH_E_CMS_TRAILING_DATA, -1, cms->padding, err);
    return SH_E_OK;
}

static sh_err decode_content_info(sh_cms *cms, const sh_cursor *payload, sh_error *err)
{
    const unsigned char *start = payload->p;
    const unsigned char *p = start;
    cms->ci = d2i_CMS_ContentInfo(NULL, &p, (long)payload->len);
    if (cms->ci == NULL)
        return fail_cms(cms, SH_E_CMS_MALFORMED, -1, payload->len, err);
    /* The one pointer difference here: d2i advances p past what it decoded. */
    return check_trailing(cms, payload, (size_t)(p - start), err);
}

/* The same with the certificates decoded once per memo (signed_data.h); false when the payload is
 * not of the shape that allows it, and nothing was decoded. */
static bool decode_content_info_memo(sh_cms *cms, const sh_cursor *payload, sh_verify_memo *memo,
                                     sh_err *e, sh_error *err)
{
    size_t consumed;
    if (!sh_signed_data_decode_cms(payload, memo, &cms->ci, &cms->certs, &consumed))
        return false;
    *e = cms->ci ? check_trailing(cms, payload, consumed, err)
                 : fail_cms(cms, SH_E_CMS_MALFORMED, -1, payload->len, err);
    return true;
}

static sh_err check_signed_data_shape(sh_cms *cms, sh_error *err)
{
    int type = OBJ_obj2nid(CMS_get0_type(cms->ci));
    if (type != NID_pkcs7_signed)
        return fail_cms(cms, SH_E_CMS_NOT_SIGNED_DATA, -1, (uint64_t)(int64_t)type, err);
    cms->econtent_nid = OBJ_obj2nid(CMS_get0_eContentType(cms->ci));
    if (cms->econtent_nid != NID_pkcs7_data)
        return fail_cms(cms, SH_E_CMS_ECONTENT_TYPE, -1, (uint64_t)(int64_t)cms->econtent_nid,
                        err);
    ASN1_OCTET_STRING **content = CMS_get0_content(cms->ci);
    if (content != NULL && *content != NULL)
        return fail_cms(cms, SH_E_CMS_NOT_DETACHED, -1, 0, err);
    return SH_E_OK;
}

static sh_err pick_signer(sh_cms *cms, sh_error *err)
{
    STACK_OF(CMS_SignerInfo) *signers = CMS_get0_SignerInfos(cms->ci);
    int n = signers ? sk_CMS_SignerInfo_num(signers) : 0;
    if (n <= 0)
        return fail_cms(cms, SH_E_CMS_NO_SIGNER, -1, 0, err);
    if (n > 1)
        return fail_cms(cms, SH_E_CMS_MULTIPLE_SIGNERS, -1, (uint64_t)n, err);
    cms->signer = sk_CMS_SignerInfo_value(signers, 0);
    X509_ALGOR *digest = NULL, *signature = NULL;
    CMS_SignerInfo_get0_algs(cms->signer, NULL, NULL, &digest, &signature);
    const ASN1_OBJECT *obj = NULL;
    X509_ALGOR_get0(&obj, NULL, NULL, digest);
    cms->digest_nid = OBJ_obj2nid(obj);
    X509_ALGOR_get0(&obj, NULL, NULL, signature);
    cms->signature_nid = OBJ_obj2nid(obj);
    ASN1_OCTET_STRING *value = CMS_SignerInfo_get0_signature(cms->signer);
    int len = value ? ASN1_STRING_length(value) : 0;
    cms->signature_value = sh_cursor_make(value ? ASN1_STRING_get0_data(value) : NULL,
                                          len > 0 ? (size_t)len : 0);
    cms->signature_value.base = cms->offset;
    return SH_E_OK;
}

/* The certificate the SignerInfo names, attached to it so OpenSSL can verify with its key.  The
 * certificates were decoded already when the memo's way was taken. */
static sh_err collect_certificates(sh_cms *cms, sh_error *err)
{
    if (cms->certs == NULL)
        cms->certs = CMS_get1_certs(cms->ci);
    if (cms->certs == NULL)
        cms->certs = sk_X509_new_null(); /* OpenSSL returns NULL for "no certificates" */
    if (cms->certs == NULL)
        return fail_cms(cms, SH_E_NO_MEMORY, -1, 0, err);
    int n = sk_X509_num(cms->certs);
    if (n > (int)SH_MAX_CMS_CERTS)
        return fail_cms(cms, SH_E_CMS_TOO_MANY_CERTS, -1, (uint64_t)n, err);
    cms->ncerts = (uint32_t)n;
    for (int i = 0; i < n; i++) {
        X509 *cert = sk_X509_value(cms->certs, i);
        if (CMS_SignerInfo_cert_cmp(cms->signer, cert) == 0) {
            cms->signer_cert = i;
            CMS_SignerInfo_set1_signer_cert(cms->signer, cert);
            break;
        }
    }
    return SH_E_OK;
}

static sh_err parse_payload(const sh_cursor *payload, sh_verify_memo *memo, sh_cms *out,
                            sh_error *err)
{
    if (payload->len > SH_MAX_CMS_SIZE)
        return fail_cms(out, SH_E_CMS_TOO_LARGE, -1, payload->len, err);
    sh_err e;
    if (!decode_content_info_memo(out, payload, memo, &e, err))
        e = decode_content_info(out, payload, err);
    if (e == SH_E_OK)
        e = check_signed_data_shape(out, err);
    if (e == SH_E_OK)
        e = pick_signer(out, err);
    if (e == SH_E_OK)
        e = collect_certificates(out, err);
    if (e == SH_E_OK)
        e = sh_cms_read_signed_attrs(out, err);
    if (e == SH_E_OK)
        e = sh_cms_read_unsigned_attrs(out, err);
    return e;
}

sh_err sh_cms_parse(const sh_cursor *payload, sh_cms *out, sh_error *err)
{
    return sh_cms_parse_memo(payload, NULL, out, err);
}

sh_err sh_cms_parse_memo(const sh_cursor *payload, sh_verify_memo *memo, sh_cms *out,
                         sh_error *err)
{
    memset(out, 0, sizeof *out);
    out->signer_cert = -1;
    out->offset = payload->base;
    if (payload->len == 0) {
        out->adhoc = true;
        return SH_E_OK;
    }
    sh_err e = parse_payload(payload, memo, out, err);
    ERR_clear_error();
    return e;
}

sh_err sh_cms_parse_wrapper(const sh_cursor *blob, sh_cms *out, sh_error *err)
{
    return sh_cms_parse_wrapper_memo(blob, NULL, out, err);
}

sh_err sh_cms_parse_wrapper_memo(const sh_cursor *blob, sh_verify_memo *memo, sh_cms *out,
                                 sh_error *err)
{
    memset(out, 0, sizeof *out);
    out->signer_cert = -1;
    out->offset = blob->base;
    uint32_t magic;
    sh_cursor whole, payload;
    sh_err e = sh_blob_view(blob, "BlobWrapper", &magic, &whole, err);
    if (e != SH_E_OK)
        return e;
    if (magic != SH_MAGIC_BLOBWRAPPER)
        return sh_fail_value(err, SH_E_BLOB_BAD_MAGIC, "BlobWrapper", -1, blob->base, magic);
    if (!sh_cursor_tail(&whole, 8, &payload))
        return sh_fail(err, SH_E_BLOB_TRUNCATED, "BlobWrapper", -1, blob->base);
    return sh_cms_parse_memo(&payload, memo, out, err);
}

void sh_cms_free(sh_cms *cms)
{
    sk_X509_pop_free(cms->certs, X509_free);
    CMS_ContentInfo_free(cms->ci);
    cms->certs = NULL;
    cms->ci = NULL;
    cms->signer = NULL;
}
