/* RFC 3161 secure timestamp: the id-aa-timeStampToken (1.2.840.113549.1.9.16.2.14) unsigned
 * attribute of a code signature's SignerInfo.  OpenSSL's TS API decodes and verifies it.
 *
 * What "valid" means here, as Security's decodeTimeStampTokenWithPolicy and StaticCode.cpp apply
 * it: the token is SignedData with one signer over a TSTInfo; its message imprint is the hash of
 * the code signature's SignerInfo signature value; the TSA's signature and ESS signing-certificate
 * binding verify; the TSA certificate chains to a trusted anchor (the pinned Apple Root CA or a
 * caller root) at the token's own genTime with OpenSSL's timestamp-signing purpose (TSA
 * certificates live for weeks, so "now" would reject every old timestamp). */
#ifndef SH_TIMESTAMP_H
#define SH_TIMESTAMP_H

#include <stdbool.h>
#include <stdint.h>

#include <openssl/pkcs7.h>
#include <openssl/ts.h>

#include "cert.h"
#include "cursor.h"
#include "errors.h"
#include "verify_memo.h"

#define SH_TIMESTAMP_MAX_IMPRINT 64 /* SHA-512 */

typedef struct sh_timestamp {
    PKCS7 *token;     /* owned */
    TS_TST_INFO *tst; /* owned */
    X509 *tsa_cert;   /* the token signer's certificate (a reference into token), NULL if absent */
    int64_t gen_time; /* seconds since 1970 UTC */
    int imprint_nid;  /* OpenSSL NID of the message imprint's hash algorithm */
    uint8_t imprint[SH_TIMESTAMP_MAX_IMPRINT];
    size_t imprint_len;
    sh_cert_facts tsa;  /* facts of tsa_cert (zeroed when absent) */
    char tsa_name[SH_CERT_NAME_MAX]; /* TSTInfo.tsa directory name CN when given, else the TSA
                                        certificate's CN ("Timestamp Signer NWK2") */
    uint32_t ncerts;  /* certificates in the token */
} sh_timestamp;

/* Decodes the token (the attribute value, DER/BER ContentInfo) and its TSTInfo.  TS_MALFORMED,
 * CMS_TOO_MANY_CERTS; offset is err_offset.  *out is safe to free after a failure. */
sh_err sh_timestamp_parse(const sh_cursor *token_der, uint64_t err_offset, sh_timestamp *out,
                          sh_error *err);
/* The same, decoding each distinct certificate once per memo (signed_data.h). */
sh_err sh_timestamp_parse_memo(const sh_cursor *token_der, uint64_t err_offset,
                               sh_verify_memo *memo, sh_timestamp *out, sh_error *err);
void sh_timestamp_free(sh_timestamp *ts);

/* The imprint must be the hash (with the imprint's own algorithm) of signature_value, the
 * content octets of the SignerInfo's signature.  TS_UNSUPPORTED_DIGEST, TS_IMPRINT_MISMATCH. */
sh_err sh_timestamp_check_imprint(const sh_timestamp *ts, const sh_cursor *signature_value,
                                  uint64_t err_offset, sh_error *err);

/* TSA chain at gen_time (TS_UNTRUSTED, value: X509_V_ERR), then the token signature and ESS
 * binding (TS_SIGNATURE_INVALID).  extra_certs (may be NULL) are more untrusted intermediates
 * (the code signature's certificates).  chain describes the TSA chain.  memo (may be NULL)
 * remembers the TSA chain (cert.h). */
sh_err sh_timestamp_verify(const sh_timestamp *ts, STACK_OF(X509) *extra_certs,
                           const sh_trust *trust, sh_verify_memo *memo, uint64_t err_offset,
                           sh_chain *chain, sh_error *err);

#endif
