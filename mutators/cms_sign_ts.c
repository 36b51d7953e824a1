/* RFC 3161 timestamp tokens from the in-process test TSA (see cms_sign.h).
 *
 * The token is the SignedData a TSA answering a request for sha256(signature) with certReq set
 * and no nonce would return (the shape OpenSSL's TS_RESP_create_response gives): eContentType
 * id-ct-TSTInfo, the TSA's certificate then the given ones, one signer with signed attributes
 * contentType, signingTime, messageDigest and an ESS signingCertificate (v1).  It is assembled
 * here rather than through TS_RESP_create_response because that API stamps signingTime with the
 * clock inside its own signing, so pinning the time meant signing every token twice; one RSA
 * signature per token is a sixth of what `regress` and `fixtures broken` spend. */
#include "cms_sign_internal.h"

#include <string.h>

#include <openssl/err.h>
#include <openssl/ess.h>
#include <openssl/pkcs7.h>
#include <openssl/ts.h>

#define TSA_POLICY "1.2.3.4.1"

static bool set_imprint(TS_TST_INFO *tst, const uint8_t *data, size_t len)
{
    uint8_t digest[32];
    TS_MSG_IMPRINT *imprint = TS_MSG_IMPRINT_new();
    X509_ALGOR *algo = X509_ALGOR_new();
    bool ok = imprint && algo && len <= INT_MAX &&
              EVP_Digest(data, len, digest, NULL, EVP_sha256(), NULL) &&
              X509_ALGOR_set0(algo, OBJ_nid2obj(NID_sha256), V_ASN1_NULL, NULL) &&
              TS_MSG_IMPRINT_set_algo(imprint, algo) &&
              TS_MSG_IMPRINT_set_msg(imprint, digest, (int)sizeof digest) &&
              TS_TST_INFO_set_msg_imprint(tst, imprint);
    X509_ALGOR_free(algo);
    TS_MSG_IMPRINT_free(imprint);
    return ok;
}

/* The DER TSTInfo: version 1, the test policy, sha256(data), serial, genTime to the second. */
static int tst_info_der(const uint8_t *data, size_t len, int64_t t, uint64_t serial,
                        unsigned char **der)
{
    TS_TST_INFO *tst = TS_TST_INFO_new();
    ASN1_OBJECT *policy = OBJ_txt2obj(TSA_POLICY, 1);
    ASN1_INTEGER *number = ASN1_INTEGER_new();
    ASN1_GENERALIZEDTIME *when = ASN1_GENERALIZEDTIME_set(NULL, (time_t)t);
    bool ok = tst && policy && number && when && TS_TST_INFO_set_version(tst, 1) &&
              TS_TST_INFO_set_policy_id(tst, policy) && set_imprint(tst, data, len) &&
              ASN1_INTEGER_set_uint64(number, serial) && TS_TST_INFO_set_serial(tst, number) &&
              TS_TST_INFO_set_time(tst, when);
    int der_len = ok ? i2d_TS_TST_INFO(tst, der) : -1;
    ASN1_GENERALIZEDTIME_free(when);
    ASN1_INTEGER_free(number);
    ASN1_OBJECT_free(policy);
    TS_TST_INFO_free(tst);
    return der_len;
}

/* An empty id-ct-TSTInfo content for p7, which PKCS7_dataFinal fills. */
static bool set_tst_content(PKCS7 *p7)
{
    PKCS7 *content = PKCS7_new();
    ASN1_OCTET_STRING *octets = ASN1_OCTET_STRING_new();
    bool ok = content && octets && (content->d.other = ASN1_TYPE_new()) != NULL;
    if (ok) {
        content->type = OBJ_nid2obj(NID_id_smime_ct_TSTInfo);
        ASN1_TYPE_set(content->d.other, V_ASN1_OCTET_STRING, octets);
        octets = NULL;
        ok = PKCS7_set_content(p7, content) == 1;
    }
    ASN1_OCTET_STRING_free(octets);
    if (!ok)
        PKCS7_free(content);
    return ok;
}

static bool add_signing_certificate(PKCS7_SIGNER_INFO *si, X509 *tsa)
{
    ESS_SIGNING_CERT *sc = OSSL_ESS_signing_cert_new_init(tsa, NULL, 0);
    unsigned char *der = NULL;
    int len = sc ? i2d_ESS_SIGNING_CERT(sc, &der) : -1;
    ASN1_STRING *seq = len > 0 ? ASN1_STRING_new() : NULL;
    bool ok = seq && ASN1_STRING_set(seq, der, len) &&
              PKCS7_add_signed_attribute(si, NID_id_smime_aa_signingCertificate, V_ASN1_SEQUENCE,
                                         seq);
    if (ok)
        seq = NULL; /* the attribute owns it */
    ASN1_STRING_free(seq);
    OPENSSL_free(der);
    ESS_SIGNING_CERT_free(sc);
    return ok;
}

/* signingTime before PKCS7_dataFinal, which would otherwise stamp the clock's time. */
static bool add_signing_time(PKCS7_SIGNER_INFO *si, int64_t t)
{
    ASN1_TIME *at = ASN1_TIME_set(NULL, (time_t)t);
    if (at && PKCS7_add_signed_attribute(si, NID_pkcs9_signingTime, at->type, at))
        return true;
    ASN1_TIME_free(at);
    return false;
}

static bool sign_tst(PKCS7 *p7, const unsigned char *tst, int tst_len)
{
    BIO *out = PKCS7_dataInit(p7, NULL);
    bool ok = out && BIO_write(out, tst, tst_len) == tst_len && PKCS7_dataFinal(p7, out) == 1;
    BIO_free_all(out);
    return ok;
}

static PKCS7 *make_token(const sh_cms_sign_params *p, const unsigned char *tst, int tst_len,
                         int64_t t)
{
    PKCS7 *p7 = PKCS7_new();
    bool ok = p7 && PKCS7_set_type(p7, NID_pkcs7_signed) &&
              ASN1_INTEGER_set(p7->d.sign->version, 3) && PKCS7_add_certificate(p7, p->tsa);
    for (size_t i = 0; ok && i < p->ntsa_certs; i++)
        ok = PKCS7_add_certificate(p7, p->tsa_certs[i]) == 1;
    PKCS7_SIGNER_INFO *si = ok ? PKCS7_add_signature(p7, p->tsa, p->tsa_key, EVP_sha256()) : NULL;
    ok = si &&
         PKCS7_add_signed_attribute(si, NID_pkcs9_contentType, V_ASN1_OBJECT,
                                    OBJ_nid2obj(NID_id_smime_ct_TSTInfo)) &&
         add_signing_certificate(si, p->tsa) && add_signing_time(si, t) && set_tst_content(p7) &&
         sign_tst(p7, tst, tst_len);
    if (!ok) {
        PKCS7_free(p7);
        return NULL;
    }
    return p7;
}

bool sh_cms_ts_token(const sh_cms_sign_params *p, const uint8_t *sig, size_t sig_len,
                     unsigned char **der, int *der_len)
{
    int64_t t = p->timestamp_time ? p->timestamp_time : p->signing_time;
    uint64_t serial = p->timestamp_serial ? p->timestamp_serial : 1;
    unsigned char *tst = NULL;
    int tst_len = tst_info_der(sig, sig_len, t, serial, &tst);
    PKCS7 *token = tst_len > 0 ? make_token(p, tst, tst_len, t) : NULL;
    *der = NULL;
    *der_len = token ? i2d_PKCS7(token, der) : -1;
    PKCS7_free(token);
    OPENSSL_free(tst);
    return *der_len > 0;
}
