/* RFC 3161 timestamp tokens with OpenSSL's TS API: d2i_PKCS7 -> PKCS7_to_TS_TST_INFO for the
 * facts, TS_RESP_verify_signature for the TSA signature and ESS binding, sh_chain_verify for a
 * chain report with specific errors. */
#include "timestamp.h"

#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509v3.h>

#include <openssl/err.h>

#include "signed_data.h"

static sh_err malformed(uint64_t err_offset, sh_error *err)
{
    return sh_fail(err, SH_E_TS_MALFORMED, "timestamp token", -1, err_offset);
}

/* The signer's certificate among the token's own (RFC 3161 asks the TSA to include it when the
 * request says certReq, which codesign does).  NULL when absent. */
static X509 *token_signer_cert(PKCS7 *token)
{
    STACK_OF(X509) *signers = PKCS7_get0_signers(token, NULL, 0);
    X509 *cert = sk_X509_num(signers) == 1 ? sk_X509_value(signers, 0) : NULL;
    sk_X509_free(signers); /* the certificates belong to the token */
    return cert;
}

static void tsa_name_from_tstinfo(TS_TST_INFO *tst, char *buf, size_t size)
{
    GENERAL_NAME *name = TS_TST_INFO_get_tsa(tst);
    if (name == NULL || name->type != GEN_DIRNAME)
        return;
    int index = X509_NAME_get_index_by_NID(name->d.directoryName, NID_commonName, -1);
    const ASN1_STRING *cn =
        index < 0 ? NULL : X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name->d.directoryName, index));
    unsigned char *utf8 = NULL;
    int n = cn ? ASN1_STRING_to_UTF8(&utf8, cn) : -1;
    if (n < 0)
        return;
    size_t keep = (size_t)n < size - 1 ? (size_t)n : size - 1;
    memcpy(buf, utf8, keep);
    buf[keep] = '\0';
    OPENSSL_free(utf8);
}

static sh_err read_imprint(sh_timestamp *ts, uint64_t err_offset, sh_error *err)
{
    TS_MSG_IMPRINT *imprint = TS_TST_INFO_get_msg_imprint(ts->tst);
    X509_ALGOR *algo = imprint ? TS_MSG_IMPRINT_get_algo(imprint) : NULL;
    ASN1_OCTET_STRING *digest = imprint ? TS_MSG_IMPRINT_get_msg(imprint) : NULL;
    if (algo == NULL || digest == NULL)
        return malformed(err_offset, err);
    const ASN1_OBJECT *obj = NULL;
    X509_ALGOR_get0(&obj, NULL, NULL, algo);
    ts->imprint_nid = OBJ_obj2nid(obj);
    int len = ASN1_STRING_length(digest);
    if (len < 0 || (size_t)len > sizeof ts->imprint)
        return malformed(err_offset, err);
    if (len > 0)
        memcpy(ts->imprint, ASN1_STRING_get0_data(digest), (size_t)len);
    ts->imprint_len = (size_t)len;
    return SH_E_OK;
}

static sh_err read_token(sh_timestamp *ts, uint64_t err_offset, sh_error *err)
{
    /* RFC 3161: exactly one signer.  Checked before OpenSSL matches signers to certificates, so
     * a token with thousands of SignerInfos costs nothing. */
    if (!PKCS7_type_is_signed(ts->token) || ts->token->d.sign == NULL ||
        sk_PKCS7_SIGNER_INFO_num(ts->token->d.sign->signer_info) != 1)
        return malformed(err_offset, err);
    int ncerts = sk_X509_num(ts->token->d.sign->cert);
    if (ncerts > (int)SH_MAX_CMS_CERTS)
        return sh_fail_value(err, SH_E_CMS_TOO_MANY_CERTS, "timestamp token", -1, err_offset,
                             (uint64_t)ncerts);
    ts->ncerts = ncerts > 0 ? (uint32_t)ncerts : 0;
    ts->tst = PKCS7_to_TS_TST_INFO(ts->token);
    if (ts->tst == NULL || !sh_asn1_time_to_unix(TS_TST_INFO_get_time(ts->tst), &ts->gen_time))
        return malformed(err_offset, err);
    sh_err e = read_imprint(ts, err_offset, err);
    if (e != SH_E_OK)
        return e;
    ts->tsa_cert = token_signer_cert(ts->token);
    if (ts->tsa_cert)
        sh_cert_describe(ts->tsa_cert, &ts->tsa);
    tsa_name_from_tstinfo(ts->tst, ts->tsa_name, sizeof ts->tsa_name);
    if (ts->tsa_name[0] == '\0')
        memcpy(ts->tsa_name, ts->tsa.cn, sizeof ts->tsa_name);
    return SH_E_OK;
}

/* The token decoded without its certificates, which are then added back in order from the memo
 * (signed_data.h).  False when the token is not of the shape that allows it: nothing decoded. */
static bool decode_token_memo(const sh_cursor *der, sh_verify_memo *memo, PKCS7 **token)
{
    sh_signed_data_parts split;
    if (!memo || !sh_signed_data_split(der, &split))
        return false;
    const unsigned char *p = split.stripped;
    *token = d2i_PKCS7(NULL, &p, (long)split.stripped_len);
    STACK_OF(X509) *certs = *token && PKCS7_type_is_signed(*token) && (*token)->d.sign
                                ? sh_signed_data_certs(&split, memo)
                                : NULL;
    bool ok = certs != NULL;
    for (int i = 0; ok && i < sk_X509_num(certs); i++)
        ok = PKCS7_add_certificate(*token, sk_X509_value(certs, i)) == 1;
    sk_X509_pop_free(certs, X509_free);
    if (!ok) {
        PKCS7_free(*token);
        *token = NULL;
    }
    sh_signed_data_parts_free(&split);
    return true;
}

sh_err sh_timestamp_parse_memo(const sh_cursor *token_der, uint64_t err_offset,
                               sh_verify_memo *memo, sh_timestamp *out, sh_error *err)
{
    memset(out, 0, sizeof *out);
    out->imprint_nid = NID_undef;
    const unsigned char *p = token_der->p;
    if (token_der->len == 0 || token_der->len > SH_MAX_CMS_SIZE)
        return malformed(err_offset, err);
    if (!decode_token_memo(token_der, memo, &out->token))
        out->token = d2i_PKCS7(NULL, &p, (long)token_der->len);
    sh_err e = out->token ? read_token(out, err_offset, err) : malformed(err_offset, err);
    ERR_clear_error();
    return e;
}

sh_err sh_timestamp_parse(const sh_cursor *token_der, uint64_t err_offset, sh_timestamp *out,
                          sh_error *err)
{
    return sh_timestamp_parse_memo(token_der, err_offset, NULL, out, err);
}

void sh_timestamp_free(sh_timestamp *ts)
{
    TS_TST_INFO_free(ts->tst);
    PKCS7_free(ts->token);
    ts->tst = NULL;
    ts->token = NULL;
    ts->tsa_cert = NULL;
}

static const EVP_MD *imprint_digest(int nid)
{
    switch (nid) {
    case NID_sha1: return EVP_sha1();
    case NID_sha256: return EVP_sha256();
    case NID_sha384: return EVP_sha384();
    case NID_sha512: return EVP_sha512();
    default: return NULL;
    }
}

sh_err sh_timestamp_check_imprint(const sh_timestamp *ts, const sh_cursor *signature_value,
                                  uint64_t err_offset, sh_error *err)
{
    const EVP_MD *md = imprint_digest(ts->imprint_nid);
    if (md == NULL)
        return sh_fail_value(err, SH_E_TS_UNSUPPORTED_DIGEST, "timestamp token", -1, err_offset,
                             (uint64_t)(int64_t)ts->imprint_nid);
    uint8_t digest[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (!EVP_Digest(signature_value->p, signature_value->len, digest, &len, md, NULL)) {
        ERR_clear_error();
        return sh_fail(err, SH_E_NO_MEMORY, "timestamp token", -1, err_offset);
    }
    if (len != ts->imprint_len || memcmp(digest, ts->imprint, len) != 0)
        return sh_fail(err, SH_E_TS_IMPRINT_MISMATCH, "timestamp token", -1, err_offset);
    return SH_E_OK;
}

/* Every certificate either side carries: the token's and the code signature's.  The stack does
 * not own them. */
static STACK_OF(X509) *certificate_pool(const sh_timestamp *ts, STACK_OF(X509) *extra)
{
    STACK_OF(X509) *pool = sk_X509_new_null();
    STACK_OF(X509) *own = ts->token->d.sign->cert;
    for (int i = 0; pool && i < sk_X509_num(own); i++)
        if (!sk_X509_push(pool, sk_X509_value(own, i)))
            goto fail;
    for (int i = 0; pool && i < sk_X509_num(extra); i++)
        if (!sk_X509_push(pool, sk_X509_value(extra, i)))
            goto fail;
    return pool;
fail:
    sk_X509_free(pool);
    return NULL;
}

static sh_err verify_token_signature(const sh_timestamp *ts, STACK_OF(X509) *pool,
                                     sh_anchor_set *anchors, uint64_t err_offset, sh_error *err)
{
    X509 *signer = NULL;
    sh_anchor_set_time(anchors, ts->gen_time);
    int ok = TS_RESP_verify_signature(ts->token, pool, anchors->store, &signer);
    X509_free(signer);
    return ok == 1 ? SH_E_OK : sh_fail(err, SH_E_TS_SIGNATURE_INVALID, "timestamp token", -1,
                                       err_offset);
}

static sh_err verify_with_pool(const sh_timestamp *ts, STACK_OF(X509) *pool,
                               const sh_trust *trust, sh_verify_memo *memo, uint64_t err_offset,
                               sh_chain *chain, sh_error *err)
{
    sh_anchor_set anchors = {0};
    sh_err e = sh_anchor_set_init(&anchors, pool, trust, memo, err_offset, err);
    if (e == SH_E_OK) {
        e = sh_chain_verify(ts->tsa_cert, pool, &anchors, SH_CHAIN_TIMESTAMPING, ts->gen_time,
                            true, err_offset, chain, err);
        if (e != SH_E_OK && e != SH_E_NO_MEMORY)
            e = sh_fail_value(err, SH_E_TS_UNTRUSTED, "timestamp token", chain->error_depth,
                              err_offset, (uint64_t)(int64_t)chain->x509_error);
    }
    if (e == SH_E_OK)
        e = verify_token_signature(ts, pool, &anchors, err_offset, err);
    sh_anchor_set_free(&anchors);
    return e;
}

sh_err sh_timestamp_verify(const sh_timestamp *ts, STACK_OF(X509) *extra_certs,
                           const sh_trust *trust, sh_verify_memo *memo, uint64_t err_offset,
                           sh_chain *chain, sh_error *err)
{
    memset(chain, 0, sizeof *chain);
    if (ts->token == NULL || ts->tsa_cert == NULL)
        return malformed(err_offset, err);
    STACK_OF(X509) *pool = certificate_pool(ts, extra_certs);
    sh_err e = pool ? verify_with_pool(ts, pool, trust, memo, err_offset, chain, err)
                    : sh_fail(err, SH_E_NO_MEMORY, "timestamp token", -1, err_offset);
    sk_X509_free(pool);
    ERR_clear_error();
    return e;
}
