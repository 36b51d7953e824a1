/* DeveloperCertificates entries: each exactly one DER X.509 certificate, decoded by OpenSSL and
 * described with cert.c (CN, team OU, validity, SHA-256, Apple markers, kind). */
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>

#include "profile_internal.h"

static void serial_hex(X509 *cert, char *out, size_t size)
{
    static const char hex[] = "0123456789abcdef";
    out[0] = '\0';
    const ASN1_INTEGER *serial = X509_get0_serialNumber(cert);
    int n = serial ? ASN1_STRING_length(serial) : 0;
    if (n <= 0 || (size_t)n * 2 + 1 > size)
        return;
    const unsigned char *b = ASN1_STRING_get0_data(serial);
    for (int i = 0; i < n; i++) {
        out[2 * i] = hex[b[i] >> 4];
        out[2 * i + 1] = hex[b[i] & 15];
    }
    out[2 * n] = '\0';
}

sh_err sh_profile_cert_decode(const uint8_t *der, size_t len, size_t index, sh_verify_memo *memo,
                              sh_profile_cert *out, sh_error *err)
{
    memset(out, 0, sizeof *out);
    /* NULL also when something follows the certificate: that is not "one certificate". */
    X509 *cert = der && len > 0 && len <= SH_MAX_PROFILE_SIZE ? sh_verify_memo_x509(memo, der, len)
                                                              : NULL;
    if (cert == NULL) {
        ERR_clear_error();
        return sh_fail_value(err, SH_E_PROFILE_CERT_INVALID, "DeveloperCertificates",
                             (int64_t)index, 0, len);
    }
    sh_cert_describe(cert, &out->facts);
    out->kind = sh_cert_classify(&out->facts, NULL);
    unsigned int md_len = 0;
    if (!X509_digest(cert, EVP_sha1(), out->sha1, &md_len))
        memset(out->sha1, 0, sizeof out->sha1);
    serial_hex(cert, out->serial, sizeof out->serial);
    X509_free(cert);
    ERR_clear_error();
    return SH_E_OK;
}
