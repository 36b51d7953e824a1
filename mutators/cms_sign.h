/* CMS SignedData for a code signature (slot 0x10000), as codesign makes it
 * (codesign-formats.md sec. 4): detached over the slot-0 CodeDirectory, SHA-256, RSA PKCS#1 v1.5
 * (deterministic), signed attributes contentType, signingTime (the given time), messageDigest,
 * CDHashes (XML plist, Apple's exact text with trailing newline) and CDHashes2 (one
 * SEQUENCE {digest OID, OCTET STRING full cdhash} per CodeDirectory); certificates leaf, then
 * the given ones (intermediate, root).  Optionally an RFC 3161 token made in-process by a test
 * TSA over the signature value (fixed genTime and serial) as the unsigned attribute
 * id-aa-timeStampToken 1.2.840.113549.1.9.16.2.14.
 *
 * Same inputs, same bytes.  OpenSSL objects are created and freed inside each call; the error
 * queue is cleared before returning. */
#ifndef SH_CMS_SIGN_H
#define SH_CMS_SIGN_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "bytebuf.h"
#include "codedir_writer.h"

typedef struct sh_cms_cd {
    sh_bytes blob;     /* a whole CodeDirectory blob */
    uint8_t hash_type; /* its SH_HASH_*: SHA-1 or SHA-256 (the ones with CDHashes2 OIDs) */
} sh_cms_cd;

typedef struct sh_cms_sign_params {
    X509 *signer;
    EVP_PKEY *key;
    X509 *const *certs;  /* carried after the signer's: intermediate, root */
    size_t ncerts;
    const sh_cms_cd *cds; /* cds[0]: the slot-0 CodeDirectory (the signed content) */
    size_t ncds;          /* 1 .. SH_MAX_CMS_CDHASHES */
    int64_t signing_time; /* seconds since 1970 */
    /* Secure timestamp: tsa == NULL for none. */
    X509 *tsa;
    EVP_PKEY *tsa_key;
    X509 *const *tsa_certs; /* carried in the token besides the TSA's own */
    size_t ntsa_certs;
    int64_t timestamp_time; /* genTime; 0: signing_time */
    uint64_t timestamp_serial; /* 0: 1 */
} sh_cms_sign_params;

/* Bytes to reserve for the CMS in a signature before it exists, as codesign estimates it:
 * 9000 + every certificate's DER size (+ 4096 and the TSA certificates with a timestamp).
 * Depends only on the certificates, so signatures of one identity have one layout. */
size_t sh_cms_sign_reserve(const sh_cms_sign_params *p);

/* Appends the DER CMS to out. */
sh_write_status sh_cms_sign(const sh_cms_sign_params *p, sh_bytebuf *out, sh_write_error *err);

/* Appends the CDHashes plist text (entries in hash-type order, each cdhash truncated to 20). */
sh_write_status sh_cdhashes_plist(const sh_cms_cd *cds, size_t ncds, sh_bytebuf *out,
                                  sh_write_error *err);

#endif
