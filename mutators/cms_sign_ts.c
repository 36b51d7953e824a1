/* RFC 3161 timestamp tokens from the in-process test TSA (see cms_sign.h). */
#include "cms_sign_internal.h"

#include <string.h>

#include <openssl/err.h>
#include <openssl/pkcs7.h>
#include <openssl/ts.h>

static int fixed_time(TS_RESP_CTX *ctx, void *data, long *sec, long *usec)
{
    (void)ctx;
    *sec = (long)*(const int64_t *)data;
    *usec = 0;
    return 1;
}

static ASN1_INTEGER *fixed_serial(TS_RESP_CTX *ctx, void *data)
{
    (void)ctx;
    ASN1_INTEGER *serial = ASN1_INTEGER_new();
    if (serial && !ASN1_INTEGER_set_uint64(serial, *(const uint64_t *)data)) {
        ASN1_INTEGER_free(serial);
        serial = NULL;
    }
    return serial;
}

/* A DER TimeStampReq for sha256(data), certReq set, no nonce. */
static BIO *ts_request(const uint8_t *data, size_t len)
{
    uint8_t digest[32];
    TS_REQ *req = TS_REQ_new();
    TS_MSG_IMPRINT *imprint = TS_MSG_IMPRINT_new();
    X509_ALGOR *algo = X509_ALGOR_new();
    BIO *bio = BIO_new(BIO_s_mem());
    bool ok = req && imprint && algo && bio && len <= INT_MAX &&
              EVP_Digest(data, len, digest, NULL, EVP_sha256(), NULL) &&
              X509_ALGOR_set0(algo, OBJ_nid2obj(NID_sha256), V_ASN1_NULL, NULL) &&
              TS_MSG_IMPRINT_set_algo(imprint, algo) &&
              TS_MSG_IMPRINT_set_msg(imprint, digest, (int)sizeof digest) &&
              TS_REQ_set_version(req, 1) && TS_REQ_set_msg_imprint(req, imprint) &&
              TS_REQ_set_cert_req(req, 1) && i2d_TS_REQ_bio(bio, req);
    X509_ALGOR_free(algo);
    TS_MSG_IMPRINT_free(imprint);
    TS_REQ_free(req);
    if (!ok) {
        BIO_free(bio);
        return NULL;
    }
    return bio;
}

/* PKCS7_dataFinal stamps the token's signer with the current time as signingTime; replace it by
 * the fixed time and re-sign the signed attributes, so the token is deterministic. */
static bool pin_token_time(PKCS7 *token, int64_t t)
{
    STACK_OF(PKCS7_SIGNER_INFO) *sis = PKCS7_get_signer_info(token);
    if (!sis || sk_PKCS7_SIGNER_INFO_num(sis) != 1)
        return false;
    PKCS7_SIGNER_INFO *si = sk_PKCS7_SIGNER_INFO_value(sis, 0);
    ASN1_TIME *at = ASN1_TIME_set(NULL, (time_t)t);
    if (!at)
        return false;
    if (!PKCS7_add_signed_attribute(si, NID_pkcs9_signingTime, at->type, at)) {
        ASN1_TIME_free(at);
        return false;
    }
    return PKCS7_SIGNER_INFO_sign(si) == 1;
}

static bool configure(TS_RESP_CTX *ctx, const sh_cms_sign_params *p, STACK_OF(X509) *extra,
                      ASN1_OBJECT *policy, int64_t *t, uint64_t *serial)
{
    for (size_t i = 0; i < p->ntsa_certs; i++)
        if (!sk_X509_push(extra, p->tsa_certs[i]))
            return false;
    if (!TS_RESP_CTX_set_signer_cert(ctx, p->tsa) || !TS_RESP_CTX_set_signer_key(ctx, p->tsa_key) ||
        !TS_RESP_CTX_set_certs(ctx, extra) || !TS_RESP_CTX_set_def_policy(ctx, policy) ||
        !TS_RESP_CTX_add_md(ctx, EVP_sha256()) || !TS_RESP_CTX_set_signer_digest(ctx, EVP_sha256()))
        return false;
    TS_RESP_CTX_set_time_cb(ctx, fixed_time, t);
    TS_RESP_CTX_set_serial_cb(ctx, fixed_serial, serial);
    return true;
}

bool sh_cms_ts_token(const sh_cms_sign_params *p, const uint8_t *sig, size_t sig_len,
                     unsigned char **der, int *der_len)
{
    int64_t t = p->timestamp_time ? p->timestamp_time : p->signing_time;
    uint64_t serial = p->timestamp_serial ? p->timestamp_serial : 1;
    BIO *request = ts_request(sig, sig_len);
    TS_RESP_CTX *ctx = TS_RESP_CTX_new();
    STACK_OF(X509) *extra = sk_X509_new_null();
    ASN1_OBJECT *policy = OBJ_txt2obj("1.2.3.4.1", 1);
    TS_RESP *resp = NULL;
    bool ok = request && ctx && extra && policy && configure(ctx, p, extra, policy, &t, &serial);
    if (ok)
        resp = TS_RESP_create_response(ctx, request);
    PKCS7 *token = resp ? TS_RESP_get_token(resp) : NULL;
    ok = ok && token && TS_STATUS_INFO_get0_status(TS_RESP_get_status_info(resp)) &&
         ASN1_INTEGER_get(TS_STATUS_INFO_get0_status(TS_RESP_get_status_info(resp))) ==
             TS_STATUS_GRANTED &&
         pin_token_time(token, t);
    *der = NULL;
    *der_len = ok ? i2d_PKCS7(token, der) : -1;
    ok = ok && *der_len > 0;
    TS_RESP_free(resp);
    ASN1_OBJECT_free(policy);
    sk_X509_free(extra);
    TS_RESP_CTX_free(ctx);
    BIO_free(request);
    return ok;
}
