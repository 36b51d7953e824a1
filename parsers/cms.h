/* The CMS signature of a code signature (slot 0x10000, BlobWrapper 0xfade0b01): parsing with
 * OpenSSL (BER accepted, as codesign writes it) and verification as Security's StaticCode.cpp
 * verifySignature does it.
 *
 * sh_cms_parse() decodes the SignedData and extracts what the verifier reads: the signer's digest
 * algorithm, signed attributes (contentType, messageDigest, signingTime, CDHashes plist, CDHashes2),
 * whether an RFC 3161 timestamp token is there, the certificates.  It refuses only what makes the
 * CMS unreadable (SignatureInvalid class); everything that needs the code is judged by verify.
 *
 * sh_cms_verify() runs the checks in Security's order and stops at the first failure, recording
 * in the report which stage failed and every fact gathered up to there:
 *   1. signature: one signer, supported digest, contentType = eContent type, messageDigest = the
 *      digest of the slot-0 CodeDirectory blob (the SHA-1 one in dual-hash signatures), the
 *      signer's signature; unsigned attributes other than one timestamp token fail the signer;
 *      a timestamp token present must be valid (timestamp.h);
 *   2. CDHashes (v1) when present: equal to the CodeDirectories' cdhashes in hash-type order
 *      (Security's cdHashes(), a map keyed by hash type), truncated to 20 bytes;
 *   3. CDHashes2 when present: one value per CodeDirectory, and for each CodeDirectory whose hash
 *      type has a digest OID, the value for that OID equals its full cdhash;
 *   4. chain and team (see the time rule below); the team check runs when the CodeDirectory has a
 *      team ID and the chain is an Apple developer one anchored at a trusted root;
 *   5. if the signature chains to Apple Root CA, its timestamp must too.
 *
 * Time rule (SecCmsSignerInfoVerifyCertificate + StaticCode.cpp, applied exactly):
 *   verification time = the secure timestamp's genTime when a valid token is present, else the
 *   signingTime attribute (unauthenticated, but that is what Security uses), else options->now.
 *   If the chain then fails on validity dates only:
 *   - with a secure timestamp: CMS_CERT_EXPIRED (fatal, as in Security);
 *   - without: the chain is re-verified ignoring dates; when that passes the signature is valid
 *     but report->expired is set (Security's mValidationExpired), and it becomes CMS_CERT_EXPIRED
 *     only when options->consider_expiration (kSecCSConsiderExpiration) or the chosen
 *     CodeDirectory has CS_CHECK_EXPIRATION (0x400).
 *   report->expired_at_now says, independently, whether any chain certificate is outside its
 *   validity at options->now (for policies that look at "now").
 *
 * No global state: OpenSSL's error queue is cleared before returning; results never come from it.
 * Allocation is OpenSSL's; every OpenSSL object is freed by sh_cms_free (also after a failed
 * parse). */
#ifndef SH_CMS_H
#define SH_CMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/cms.h>
#include <openssl/x509.h>

#include "cert.h"
#include "codedir.h"
#include "cursor.h"
#include "errors.h"
#include "sh_limits.h"
#include "signature.h"
#include "timestamp.h"
#include "verify_memo.h"

#define SH_CMS_MAX_DIGEST 64 /* SHA-512 */

typedef struct sh_cms_cdhash2 {
    int digest_nid;                  /* OpenSSL NID of the value's OID (NID_undef: unknown OID) */
    unsigned hash_type;              /* SH_HASH_* the OID stands for; SH_HASH_NONE otherwise */
    uint8_t hash[SH_CMS_MAX_DIGEST]; /* the first hash_len bytes (at most SH_CMS_MAX_DIGEST) */
    size_t hash_len;                 /* the OCTET STRING's real length */
} sh_cms_cdhash2;

typedef struct sh_cms {
    bool adhoc;          /* empty payload: no CMS at all (ad hoc signatures) */
    uint64_t offset;     /* absolute offset of the CMS bytes (for errors) */
    size_t size;         /* CMS bytes, trailing zero padding excluded */
    size_t padding;      /* zero bytes after the ContentInfo */

    int econtent_nid;    /* encapsulated content type (id-data) */
    int digest_nid;      /* signer digestAlgorithm */
    int signature_nid;   /* signer signatureAlgorithm */
    uint32_t ncerts;
    int32_t signer_cert; /* index in certs of the signer's certificate; -1 when not in the CMS */

    uint32_t n_signed_attrs, n_unsigned_attrs;
    bool has_content_type;
    int content_type_nid;
    bool has_message_digest;
    uint8_t message_digest[SH_CMS_MAX_DIGEST]; /* first message_digest_len bytes */
    size_t message_digest_len;                 /* the OCTET STRING's real length */
    bool has_signing_time;
    int64_t signing_time;                      /* seconds since 1970 UTC */
    bool has_cdhashes;                         /* CDHashes plist (1.2.840.113635.100.9.1) */
    uint32_t ncdhashes;
    uint8_t cdhashes[SH_MAX_CMS_CDHASHES][SH_CMS_MAX_DIGEST];
    size_t cdhash_lens[SH_MAX_CMS_CDHASHES];   /* real lengths (20 in every real signature) */
    bool has_cdhashes2;                        /* CDHashes2 (1.2.840.113635.100.9.2) */
    uint32_t ncdhashes2;
    sh_cms_cdhash2 cdhashes2[SH_MAX_CMS_CDHASHES];
    bool has_timestamp;                        /* an id-aa-timeStampToken attribute, one value */
    sh_cursor timestamp_token;                 /* its DER, a view into ci (valid until free) */
    sh_cursor signature_value;                 /* SignerInfo signature octets, a view into ci */

    /* OpenSSL objects, owned; NULL when adhoc.  Parsed with a memo, ci carries no certificates:
     * they are in certs only. */
    CMS_ContentInfo *ci;
    STACK_OF(X509) *certs;
    CMS_SignerInfo *signer; /* borrowed from ci */
} sh_cms;

/* Parses a BlobWrapper payload (the bytes after its 8-byte header).  An empty payload is ad hoc
 * (out->adhoc, SH_E_OK).  Errors (where "CMS", offset = payload's absolute offset, index = the
 * attribute or value number where one applies): CMS_TOO_LARGE, CMS_MALFORMED, CMS_TRAILING_DATA,
 * CMS_NOT_SIGNED_DATA, CMS_ECONTENT_TYPE, CMS_NOT_DETACHED, CMS_NO_SIGNER, CMS_MULTIPLE_SIGNERS,
 * CMS_TOO_MANY_CERTS, CMS_TOO_MANY_ATTRIBUTES, CMS_ATTRIBUTE_DUPLICATE, CMS_ATTRIBUTE_VALUE_COUNT,
 * CMS_ATTRIBUTE_TYPE, CMS_CDHASHES_*, CMS_CDHASHES2_MALFORMED/DUPLICATE/TOO_MANY, NO_MEMORY.
 * Free *out with sh_cms_free, whatever the result. */
sh_err sh_cms_parse(const sh_cursor *payload, sh_cms *out, sh_error *err);
/* The same from a whole BlobWrapper blob (magic 0xfade0b01 and length checked first:
 * BLOB_TRUNCATED, BLOB_BAD_MAGIC, BLOB_BAD_LENGTH). */
sh_err sh_cms_parse_wrapper(const sh_cursor *blob, sh_cms *out, sh_error *err);
/* The same, decoding each distinct certificate once per memo (signed_data.h): the result is the
 * one the functions above give. */
sh_err sh_cms_parse_memo(const sh_cursor *payload, sh_verify_memo *memo, sh_cms *out,
                         sh_error *err);
sh_err sh_cms_parse_wrapper_memo(const sh_cursor *blob, sh_verify_memo *memo, sh_cms *out,
                                 sh_error *err);
void sh_cms_free(sh_cms *cms);

/* The code the CMS signs: CodeDirectories with cds[0] the slot-0 one (the detached content), then
 * the alternates in slot order; best is the one Security picks (its team ID and flags count). */
typedef struct sh_cms_code {
    const sh_codedir *cds;
    uint32_t ncds;
    uint32_t best;
} sh_cms_code;

sh_cms_code sh_cms_code_of(const sh_signature *sig);

typedef struct sh_cms_options {
    int64_t now;              /* seconds since 1970 UTC: last-resort verification time (no
                                 timestamp, no signingTime) and the time of expired_at_now */
    sh_trust trust;           /* roots trusted explicitly besides the pinned Apple Root CA */
    bool consider_expiration; /* kSecCSConsiderExpiration */
    sh_verify_memo *memo;     /* decodes the timestamp's certificates once (NULL: none) */
} sh_cms_options;

typedef enum sh_cms_stage {
    SH_CMS_STAGE_NONE = 0, /* nothing failed */
    SH_CMS_STAGE_PRESENCE, /* no CMS but the code is not ad hoc */
    SH_CMS_STAGE_SIGNATURE,
    SH_CMS_STAGE_TIMESTAMP,
    SH_CMS_STAGE_CDHASHES,
    SH_CMS_STAGE_CDHASHES2,
    SH_CMS_STAGE_CHAIN,
    SH_CMS_STAGE_TEAM,
    SH_CMS_STAGE_TIMESTAMP_POLICY,
    SH_CMS_STAGE_EXPIRATION,
} sh_cms_stage;

const char *sh_cms_stage_name(sh_cms_stage stage); /* "signature", "CDHashes2", ... */

typedef enum sh_cms_time_source {
    SH_CMS_TIME_NOW = 0,      /* options->now */
    SH_CMS_TIME_SIGNING_TIME, /* the signingTime attribute */
    SH_CMS_TIME_TIMESTAMP,    /* the secure timestamp */
} sh_cms_time_source;

/* What codesign -dv prints about time: "Timestamp=" for a secure timestamp, otherwise
 * "Signed Time=" for the signingTime attribute, otherwise nothing. */
typedef enum sh_cms_time_kind {
    SH_CMS_TIME_KIND_NONE = 0,
    SH_CMS_TIME_KIND_SIGNED_TIME,
    SH_CMS_TIME_KIND_TIMESTAMP,
} sh_cms_time_kind;

typedef struct sh_cms_report {
    bool adhoc;                 /* the CodeDirectory is ad hoc: Security skips the CMS */
    sh_cms_stage failed_stage;
    bool signature_verified;    /* stage 1 passed (digest, signature, timestamp if any) */
    bool cdhashes_checked, cdhashes2_checked;

    bool has_signing_time;
    int64_t signing_time;
    bool has_timestamp;         /* a token is present */
    bool timestamp_valid;       /* ... and it verified */
    int64_t timestamp_time;
    char tsa_name[SH_CERT_NAME_MAX];
    sh_chain tsa_chain;

    int64_t verify_time;
    sh_cms_time_source verify_time_source;
    bool expired;               /* the chain verified only with dates ignored */
    bool expired_at_now;        /* a chain certificate is outside its validity at options->now */

    bool has_leaf;
    sh_cert_facts leaf;         /* the signer's certificate */
    sh_cert_kind leaf_kind;
    sh_chain chain;
    bool apple_developer_chain; /* Security's isAppleDeveloperCert with a trusted anchor */
    bool team_checked;          /* the CD team ID was compared with the leaf OU (and matched) */
} sh_cms_report;

/* Verifies cms over code (see the top of this file).  Returns the first failure; report says
 * where (failed_stage) and what was learnt.  err->where names the stage's structure. */
sh_err sh_cms_verify(const sh_cms *cms, const sh_cms_code *code, const sh_cms_options *options,
                     sh_cms_report *report, sh_error *err);

sh_cms_time_kind sh_cms_report_time_kind(const sh_cms_report *report);
/* "Timestamp=Mar 12, 2023 at 11:28:41 PM" or "Signed Time=..." as codesign -dv prints them (in
 * UTC; codesign uses the local time zone), or "" when neither.  Always NUL-terminates. */
void sh_cms_time_line(const sh_cms_report *report, char *buf, size_t size);

#endif
