/* A CMS / PKCS #7 SignedData's certificates, located without decoding them.
 *
 * Why: in OpenSSL 3.0 decoding a certificate costs about 0.1 ms (its public key goes through the
 * provider decoders), most of the cost of parsing a signature.  A run that verifies many
 * signatures made with the same few certificates (regress, fuzzing) decodes each distinct
 * certificate once through the verification memo and hands OpenSSL the ContentInfo without them.
 *
 * sh_signed_data_split() walks
 *   ContentInfo ::= SEQUENCE { contentType OID, content [0] EXPLICIT SignedData }
 *   SignedData  ::= SEQUENCE { version INTEGER, digestAlgorithms SET, encapContentInfo SEQUENCE,
 *                              certificates [0] IMPLICIT SET OF Certificate,
 *                              crls [1] IMPLICIT ... OPTIONAL, signerInfos SET }
 * and gives a copy of the ContentInfo with the certificates field left out (the three enclosing
 * lengths re-encoded) and a view of each certificate.  It takes only the strict shape: content
 * type id-signedData (under another type OpenSSL decodes no certificate at all), definite,
 * minimal (DER) lengths along that path, fields exactly tiling their parents, at least one and at
 * most SH_MAX_CMS_CERTS certificates, each a plain Certificate SEQUENCE.  For anything else (BER
 * indefinite lengths as codesign writes them, attribute certificates, a malformed structure) it
 * returns false and the caller decodes the whole ContentInfo with OpenSSL, so the result of
 * parsing never depends on which way was taken. */
#ifndef SH_SIGNED_DATA_H
#define SH_SIGNED_DATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/cms.h>
#include <openssl/x509.h>

#include "cursor.h"
#include "sh_limits.h"
#include "verify_memo.h"

typedef struct sh_signed_data_parts {
    uint8_t *stripped;   /* the ContentInfo without its certificates (sh_malloc'd) */
    size_t stripped_len;
    size_t consumed;     /* bytes of the input the ContentInfo spans */
    sh_cursor certs[SH_MAX_CMS_CERTS]; /* each certificate's whole encoding, in order */
    uint32_t ncerts;
} sh_signed_data_parts;

/* False (nothing allocated) when the input is not of the strict shape above, or out of memory. */
bool sh_signed_data_split(const sh_cursor *content_info, sh_signed_data_parts *out);
void sh_signed_data_parts_free(sh_signed_data_parts *s);

/* The certificates of a split, decoded once per memo: a new stack owning one reference to each,
 * in order.  NULL when one does not decode as a whole certificate, or out of memory. */
STACK_OF(X509) *sh_signed_data_certs(const sh_signed_data_parts *s, sh_verify_memo *memo);

/* A CMS ContentInfo decoded the memo's way: false (nothing decoded) when memo is NULL or the
 * input is not of the strict shape; else *ci and *certs (a new stack owning its references;
 * both NULL when the input does not decode) and *consumed, the bytes the ContentInfo spans. */
bool sh_signed_data_decode_cms(const sh_cursor *content_info, sh_verify_memo *memo,
                               CMS_ContentInfo **ci, STACK_OF(X509) **certs, size_t *consumed);

#endif
