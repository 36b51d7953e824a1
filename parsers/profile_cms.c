/* The provisioning profile's CMS: decoding with OpenSSL (attached content, BER accepted) and
 * verification of the content digest, the signer's signature and its chain (profile.h, steps
 * 1-3).  The signed attributes are read by cms_attr.c and chains are built by chain.c, the
 * code-signature CMS code. */
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>

#include "cms_attr.h"
#include "profile_internal.h"
#include "signed_data.h"

static sh_err fail_cms(sh_error *err, sh_err code, uint64_t value)
{
    return sh_fail_value(err, code, "profile CMS", -1, 0, value);
}

/* The ContentInfo, its certificates decoded once per memo when its shape allows it
 * (signed_data.h; cms->certs is then set), else whole.  The bytes it spans go to *consumed. */
static bool decode(const sh_cursor *in, sh_verify_memo *memo, sh_cms *cms, size_t *consumed)
{
    if (sh_signed_data_decode_cms(in, memo, &cms->ci, &cms->certs, consumed))
        return cms->ci != NULL;
    const unsigned char *p = in->p;
    cms->ci = d2i_CMS_ContentInfo(NULL, &p, (long)in->len);
    /* d2i advanced p past what it decoded, never past the explicit length. */
    *consumed = (size_t)(p - in->p);
    return cms->ci != NULL;
}

static sh_err decode_content_info(const sh_cursor *in, sh_verify_memo *memo, sh_cms *cms,
                                  sh_error *err)
{
    if (in->len > SH_MAX_PROFILE_SIZE)
        return fail_cms(err, SH_E_PROFILE_TOO_LARGE, in->len);
    if (in->len == 0)
        return fail_cms(err, SH_E_PROFILE_NOT_CMS, 0);
    size_t consumed;
    if (!decode(in, memo, cms, &consumed))
        return fail_cms(err, SH_E_PROFILE_NOT_CMS, in->len);
    if (consumed != in->len)
        return sh_fail_value(err, SH_E_PROFILE_TRAILING_DATA, "profile CMS", -1, consumed,
                             in->len - consumed);
    cms->size = consumed;
    return SH_E_OK;
}

/* SignedData over id-data with the content attached; copies the content into out. */
static sh_err take_content(sh_cms *cms, sh_profile *out, sh_error *err)
{
    int type = OBJ_obj2nid(CMS_get0_type(cms->ci));
    if (type != NID_pkcs7_signed)
        return fail_cms(err, SH_E_CMS_NOT_SIGNED_DATA, (uint64_t)(int64_t)type);
    cms->econtent_nid = OBJ_obj2nid(CMS_get0_eContentType(cms->ci));
    if (cms->econtent_nid != NID_pkcs7_data)
        return fail_cms(err, SH_E_CMS_ECONTENT_TYPE, (uint64_t)(int64_t)cms->econtent_nid);
    ASN1_OCTET_STRING **content = CMS_get0_content(cms->ci);
    int len = content && *content ? ASN1_STRING_length(*content) : 0;
    if (len <= 0)
        return fail_cms(err, SH_E_PROFILE_DETACHED, 0);
    out->content = sh_calloc(out->alloc, (size_t)len + 1, 1);
    if (out->content == NULL)
        return fail_cms(err, SH_E_NO_MEMORY, (uint64_t)len);
    memcpy(out->content, ASN1_STRING_get0_data(*content), (size_t)len);
    out->content_len = (size_t)len;
    return SH_E_OK;
}

static sh_err pick_signer(sh_cms *cms, sh_error *err)
{
    STACK_OF(CMS_SignerInfo) *signers = CMS_get0_SignerInfos(cms->ci);
    int n = signers ? sk_CMS_SignerInfo_num(signers) : 0;
    if (n <= 0)
        return fail_cms(err, SH_E_CMS_NO_SIGNER, 0);
    if (n > 1)
        return fail_cms(err, SH_E_CMS_MULTIPLE_SIGNERS, (uint64_t)n);
    cms->signer = sk_CMS_SignerInfo_value(signers, 0);
    X509_ALGOR *digest = NULL, *signature = NULL;
    CMS_SignerInfo_get0_algs(cms->signer, NULL, NULL, &digest, &signature);
    const ASN1_OBJECT *obj = NULL;
    X509_ALGOR_get0(&obj, NULL, NULL, digest);
    cms->digest_nid = OBJ_obj2nid(obj);
    obj = NULL;
    X509_ALGOR_get0(&obj, NULL, NULL, signature);
    cms->signature_nid = OBJ_obj2nid(obj);
    return SH_E_OK;
}

static sh_err collect_certificates(sh_cms *cms, sh_error *err)
{
    if (cms->certs == NULL) /* not decoded through the memo already */
        cms->certs = CMS_get1_certs(cms->ci);
    if (cms->certs == NULL)
        cms->certs = sk_X509_new_null(); /* NULL means "no certificates" */
    if (cms->certs == NULL)
        return fail_cms(err, SH_E_NO_MEMORY, 0);
    int n = sk_X509_num(cms->certs);
    if (n > (int)SH_MAX_CMS_CERTS)
        return fail_cms(err, SH_E_CMS_TOO_MANY_CERTS, (uint64_t)n);
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

sh_err sh_profile_cms_decode(const sh_cursor *in, sh_verify_memo *memo, sh_cms *cms,
                             sh_profile *out, sh_error *err)
{
    memset(cms, 0, sizeof *cms);
    cms->signer_cert = -1;
    sh_err e = decode_content_info(in, memo, cms, err);
    if (e == SH_E_OK)
        e = take_content(cms, out, err);
    if (e == SH_E_OK)
        e = pick_signer(cms, err);
    if (e == SH_E_OK)
        e = collect_certificates(cms, err);
    if (e == SH_E_OK)
        e = sh_cms_read_signed_attrs(cms, err);
    ERR_clear_error();
    return e;
}

/* ---- verification ---- */

static sh_err sig_fail(sh_profile_signature *sig, sh_err code, const char *where, uint64_t value)
{
    sig->result = sh_fail_value(&sig->err, code, where, -1, 0, value);
    return sig->result;
}

static const EVP_MD *digest_of_nid(int nid)
{
    switch (nid) {
    case NID_sha1: return EVP_sha1();
    case NID_sha256: return EVP_sha256();
    case NID_sha384: return EVP_sha384();
    case NID_sha512: return EVP_sha512();
    default: return NULL;
    }
}

static sh_err check_message_digest(const sh_cms *cms, const sh_profile *p, const EVP_MD *md,
                                   sh_profile_signature *sig)
{
    if (!cms->has_content_type)
        return sig_fail(sig, SH_E_CMS_NO_CONTENT_TYPE, "profile CMS signer", 0);
    if (cms->content_type_nid != NID_pkcs7_data)
        return sig_fail(sig, SH_E_CMS_CONTENT_TYPE_MISMATCH, "profile CMS signer",
                        (uint64_t)(int64_t)cms->content_type_nid);
    if (!cms->has_message_digest)
        return sig_fail(sig, SH_E_CMS_NO_MESSAGE_DIGEST, "profile CMS signer", 0);
    uint8_t digest[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (!EVP_Digest(p->content, p->content_len, digest, &len, md, NULL))
        return sig_fail(sig, SH_E_NO_MEMORY, "profile CMS signer", 0);
    if (len != cms->message_digest_len || memcmp(digest, cms->message_digest, len) != 0)
        return sig_fail(sig, SH_E_PROFILE_DIGEST_MISMATCH, "profile plist", p->content_len);
    return SH_E_OK;
}

/* Without signed attributes the signature covers the content itself (RFC 5652 5.4). */
static sh_err verify_content_signature(X509 *leaf, const sh_cms *cms, const sh_profile *p,
                                       const EVP_MD *md, sh_profile_signature *sig)
{
    ASN1_OCTET_STRING *value = CMS_SignerInfo_get0_signature(cms->signer);
    int vlen = value ? ASN1_STRING_length(value) : 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok = ctx != NULL && vlen > 0 &&
             EVP_DigestVerifyInit(ctx, NULL, md, NULL, X509_get0_pubkey(leaf)) == 1 &&
             EVP_DigestVerify(ctx, ASN1_STRING_get0_data(value), (size_t)vlen, p->content,
                              p->content_len) == 1;
    EVP_MD_CTX_free(ctx);
    return ok ? SH_E_OK : sig_fail(sig, SH_E_CMS_SIGNATURE_INVALID, "profile CMS signer", 0);
}

static sh_err check_signature(const sh_cms *cms, X509 *leaf, const sh_profile *p,
                              sh_profile_signature *sig)
{
    const EVP_MD *md = digest_of_nid(cms->digest_nid);
    if (md == NULL)
        return sig_fail(sig, SH_E_CMS_UNSUPPORTED_DIGEST, "profile CMS signer",
                        (uint64_t)(int64_t)cms->digest_nid);
    if (leaf == NULL)
        return sig_fail(sig, SH_E_CMS_SIGNER_CERT_MISSING, "profile CMS signer", 0);
    if (cms->n_signed_attrs == 0)
        return verify_content_signature(leaf, cms, p, md, sig);
    sh_err e = check_message_digest(cms, p, md, sig);
    if (e != SH_E_OK)
        return e;
    if (CMS_SignerInfo_verify(cms->signer) != 1)
        return sig_fail(sig, SH_E_CMS_SIGNATURE_INVALID, "profile CMS signer", 0);
    return SH_E_OK;
}

/* ---- chain ---- */

static bool has_fingerprint(X509 *cert, const uint8_t *want)
{
    uint8_t md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    return X509_digest(cert, EVP_sha256(), md, &len) && len == 32 && memcmp(md, want, 32) == 0;
}

/* The legacy Apple root becomes an anchor when the CMS carries it (profile.h). */
static bool add_legacy_anchors(sh_anchor_set *set, STACK_OF(X509) *certs)
{
    int n = sk_X509_num(certs);
    for (int i = 0; i < n; i++) {
        X509 *cert = sk_X509_value(certs, i);
        if (!has_fingerprint(cert, SH_APPLE_LEGACY_ROOT_SHA256))
            continue;
        if (!X509_STORE_add_cert(set->store, cert) || !X509_up_ref(cert))
            return false;
        if (!sk_X509_push(set->anchors, cert)) {
            X509_free(cert);
            return false;
        }
    }
    return true;
}

static sh_profile_anchor anchor_of(const sh_chain *chain)
{
    if (chain->length == 0 || chain->anchor == SH_ANCHOR_NONE)
        return SH_PROFILE_ANCHOR_NONE;
    const uint8_t *top = chain->certs[chain->length - 1].sha256;
    if (memcmp(top, SH_APPLE_ROOT_CA_SHA256, 32) == 0)
        return SH_PROFILE_ANCHOR_APPLE_ROOT_CA;
    if (memcmp(top, SH_APPLE_LEGACY_ROOT_SHA256, 32) == 0)
        return SH_PROFILE_ANCHOR_APPLE_LEGACY_ROOT;
    return SH_PROFILE_ANCHOR_CALLER;
}

/* The CMS certificates plus the built-in Apple Root CA (checked against the pin). */
static STACK_OF(X509) *make_pool(const sh_cms *cms, sh_verify_memo *memo, X509 **root)
{
    *root = sh_verify_memo_x509(memo, SH_APPLE_ROOT_CA_DER, SH_APPLE_ROOT_CA_DER_LEN);
    STACK_OF(X509) *pool = sk_X509_dup(cms->certs);
    if (*root == NULL || pool == NULL || !sh_cert_is_apple_root(*root) ||
        !sk_X509_push(pool, *root)) {
        sk_X509_free(pool);
        return NULL;
    }
    return pool;
}

static sh_err check_chain(const sh_cms *cms, X509 *leaf, const sh_profile_options *opt,
                          sh_profile_signature *sig)
{
    X509 *root = NULL;
    STACK_OF(X509) *pool = make_pool(cms, opt ? opt->memo : NULL, &root);
    sh_anchor_set set = {0};
    sh_err e = pool ? SH_E_OK : sig_fail(sig, SH_E_NO_MEMORY, "profile trust anchors", 0);
    if (e == SH_E_OK)
        e = sh_anchor_set_init(&set, pool, opt ? &opt->trust : NULL, opt ? opt->memo : NULL, 0,
                               &sig->err);
    if (e == SH_E_OK && !add_legacy_anchors(&set, cms->certs))
        e = sig_fail(sig, SH_E_NO_MEMORY, "profile trust anchors", 0);
    if (e == SH_E_OK)
        e = sh_chain_verify(leaf, pool, &set, SH_CHAIN_CODE_SIGNING, sig->verify_time, true, 0,
                            &sig->chain, &sig->err);
    sig->result = e;
    sig->anchor = anchor_of(&sig->chain);
    sig->chain_verified = e == SH_E_OK;
    sh_anchor_set_free(&set);
    sk_X509_free(pool);
    X509_free(root);
    return e;
}

void sh_profile_cms_verify(const sh_cms *cms, const sh_profile *p,
                           const sh_profile_options *opt, int64_t fallback_time,
                           sh_profile_signature *sig)
{
    sig->result = SH_E_OK;
    sig->digest_nid = cms->digest_nid;
    sig->signature_nid = cms->signature_nid;
    sig->ncerts = cms->ncerts;
    sig->has_signing_time = cms->has_signing_time;
    sig->signing_time = cms->signing_time;
    sig->verify_time = cms->has_signing_time ? cms->signing_time : fallback_time;
    X509 *leaf = cms->signer_cert >= 0 ? sk_X509_value(cms->certs, cms->signer_cert) : NULL;
    if (leaf != NULL) {
        sig->has_signer = true;
        sh_cert_describe(leaf, &sig->signer);
    }
    if (check_signature(cms, leaf, p, sig) == SH_E_OK) {
        sig->signature_verified = true;
        check_chain(cms, leaf, opt, sig);
    }
    ERR_clear_error();
}
