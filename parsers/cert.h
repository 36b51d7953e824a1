/* Certificates of a code signature: facts (subject CN, team OU, validity, Apple marker
 * extensions, fingerprint), the signer kind Apple's markers say, and chain building to a trust
 * anchor with OpenSSL's X509_verify_cert.
 *
 * Trust anchors are never taken from the signature on their own say-so.  A certificate becomes an
 * anchor only when
 * - its SHA-256 fingerprint is the pinned Apple Root CA (SH_APPLE_ROOT_CA_SHA256), or
 * - the caller passes it explicitly (a test root) in sh_trust.
 * A self-signed root that merely travels in the signature gives SH_E_CMS_CHAIN_UNTRUSTED. */
#ifndef SH_CERT_H
#define SH_CERT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/x509.h>

#include "cursor.h"
#include "errors.h"
#include "sh_limits.h"

/* Apple Root CA (C=US, O=Apple Inc., OU=Apple Certification Authority, CN=Apple Root CA). */
extern const uint8_t SH_APPLE_ROOT_CA_SHA256[32];
/* Developer ID Certification Authority, G1 (RSA): lets a report say "the real Apple intermediate". */
extern const uint8_t SH_APPLE_DEVID_CA_G1_SHA256[32];

#define SH_CERT_NAME_MAX 256 /* bytes kept of a subject CN or OU (longer ones are cut, flagged) */

/* Apple marker extension arcs: leaf 1.2.840.113635.100.6.1.<n>, CA 1.2.840.113635.100.6.2.<n>. */
#define SH_APPLE_LEAF_APPLE_SIGNING 1u
#define SH_APPLE_LEAF_IPHONE_DEVELOPER 2u
#define SH_APPLE_LEAF_IPHONE_DISTRIBUTION 4u
#define SH_APPLE_LEAF_MAC_APP_DEVELOPMENT 7u
#define SH_APPLE_LEAF_MAC_APP_STORE 9u
#define SH_APPLE_LEAF_MAC_DEVELOPER 12u
#define SH_APPLE_LEAF_DEVELOPER_ID_APPLICATION 13u
#define SH_APPLE_LEAF_DEVELOPER_ID_INSTALLER 14u
#define SH_APPLE_LEAF_DEVELOPER_ID_KERNEL 18u
#define SH_APPLE_CA_WWDR 1u
#define SH_APPLE_CA_DEVELOPER_ID 6u
#define SH_APPLE_CA_TIMESTAMP 9u

typedef enum sh_cert_kind {
    SH_CERT_KIND_NONE = 0,                 /* no leaf (ad hoc, or the signer is not in the CMS) */
    SH_CERT_KIND_DEVELOPER_ID_APPLICATION, /* leaf 1.13 */
    SH_CERT_KIND_DEVELOPER_ID_INSTALLER,   /* leaf 1.14 */
    SH_CERT_KIND_DEVELOPER_ID_KERNEL,      /* leaf 1.18 */
    SH_CERT_KIND_MAC_APP_STORE,            /* leaf 1.9: Apple's App Store re-signing */
    SH_CERT_KIND_APPLE_PLATFORM,           /* leaf 1.1: Apple's own software */
    SH_CERT_KIND_APPLE_DISTRIBUTION,       /* leaf 1.4 or 1.7 (Apple/iPhone Distribution) */
    SH_CERT_KIND_APPLE_DEVELOPMENT,        /* leaf 1.2 or 1.12, or no marker under a WWDR (2.1) CA */
    SH_CERT_KIND_OTHER,                    /* no Apple marker */
} sh_cert_kind;

const char *sh_cert_kind_name(sh_cert_kind kind); /* "Developer ID Application", ... */

typedef struct sh_cert_facts {
    char cn[SH_CERT_NAME_MAX]; /* first subject CN as UTF-8, NUL-terminated; "" when none */
    size_t cn_len;
    bool cn_truncated;
    char ou[SH_CERT_NAME_MAX]; /* first subject OU (the team ID in Apple developer certificates) */
    size_t ou_len;
    bool has_ou;
    bool ou_unreadable;        /* an OU is there but does not convert to UTF-8 */
    bool ou_truncated;
    int64_t not_before, not_after; /* seconds since 1970-01-01 UTC */
    bool validity_readable;
    uint8_t sha256[32];        /* fingerprint of the DER certificate */
    bool self_issued;          /* subject == issuer */
    uint64_t apple_leaf_markers; /* bit n set: extension 1.2.840.113635.100.6.1.n present (n < 64) */
    uint64_t apple_ca_markers;   /* bit n set: extension 1.2.840.113635.100.6.2.n present (n < 64) */
    bool has_eku, eku_code_signing, eku_time_stamping, eku_any;
    bool extensions_truncated; /* more than SH_MAX_CERT_EXTENSIONS extensions: the rest unread */
} sh_cert_facts;

/* Reads the facts of one certificate.  Never fails on odd content: what cannot be read is left
 * empty and flagged. */
void sh_cert_describe(X509 *cert, sh_cert_facts *out);

/* The kind the leaf's Apple markers say; issuer (the next certificate up, may be NULL) is used
 * only for a leaf without a marker under a WWDR CA. */
sh_cert_kind sh_cert_classify(const sh_cert_facts *leaf, const sh_cert_facts *issuer);

/* Security's isAppleDeveloperCert (StaticCode.cpp): leaf 1.2 or 1.12 or 1.7 or 1.4, or leaf 1.13
 * under a 2.6 intermediate.  The anchor condition ("anchor apple generic") is the caller's. */
bool sh_cert_is_apple_developer(const sh_cert_facts *leaf, const sh_cert_facts *issuer);

/* ASN1_TIME (UTCTime or GeneralizedTime) to seconds since 1970 UTC. */
bool sh_asn1_time_to_unix(const ASN1_TIME *t, int64_t *out);

/* ---- chains ---- */

typedef struct sh_trust {
    const sh_cursor *anchor_der; /* DER certificates the caller trusts explicitly (test roots) */
    size_t n_anchor_der;
    X509 *const *anchor_x509;    /* the same, as OpenSSL objects */
    size_t n_anchor_x509;
} sh_trust;

typedef enum sh_anchor_kind {
    SH_ANCHOR_NONE = 0,
    SH_ANCHOR_APPLE_ROOT, /* the pinned Apple Root CA */
    SH_ANCHOR_CALLER,     /* a certificate the caller passed in sh_trust */
} sh_anchor_kind;

typedef struct sh_chain {
    uint32_t length;  /* certificates in the chain OpenSSL built, leaf first; on failure as far as
                         it got */
    sh_cert_facts certs[SH_MAX_CMS_CHAIN_DEPTH + 2];
    bool truncated;   /* OpenSSL built more than certs[] holds (not within the depth limit) */
    sh_anchor_kind anchor; /* what the top of the chain is, also when only dates failed */
    int x509_error;   /* OpenSSL X509_V_ERR_* of the failure, X509_V_OK when it verified */
    int error_depth;  /* chain position of that failure */
    bool verified;
    bool time_error;  /* it failed on validity dates only */
} sh_chain;

typedef enum sh_chain_purpose {
    SH_CHAIN_CODE_SIGNING, /* code signature leaf: EKU, when present, must allow code signing */
    SH_CHAIN_TIMESTAMPING, /* TSA: OpenSSL's timestamp-signing purpose (critical timeStamping EKU) */
} sh_chain_purpose;

/* The anchors of one verification: an X509_STORE holding them (and a verify callback that
 * accepts Apple's own critical marker extensions, which Apple's trust evaluation knows and OpenSSL
 * does not), plus the list to tell which anchor a chain reached. */
typedef struct sh_anchor_set {
    X509_STORE *store;
    STACK_OF(X509) *anchors;
    struct sh_verify_memo *memo; /* remembers chains verified against these anchors (NULL: none) */
} sh_anchor_set;

/* Anchors: pool's certificates whose fingerprint is the pinned Apple Root CA, and trust's (trust
 * may be NULL).  CMS_ANCHOR_INVALID (index: the DER anchor) or NO_MEMORY; offset is err_offset.
 * memo (may be NULL) then serves sh_chain_verify.  The set is safe to free after a failure. */
sh_err sh_anchor_set_init(sh_anchor_set *set, STACK_OF(X509) *pool, const sh_trust *trust,
                          struct sh_verify_memo *memo, uint64_t err_offset, sh_error *err);
void sh_anchor_set_free(sh_anchor_set *set);
/* Sets the store's own verification time (used by verifiers that make their own
 * X509_STORE_CTX from the store, such as TS_RESP_verify_signature). */
void sh_anchor_set_time(sh_anchor_set *set, int64_t at);
/* Which anchor cert is: APPLE_ROOT, CALLER, or NONE. */
sh_anchor_kind sh_anchor_set_kind(const sh_anchor_set *set, X509 *cert);

/* Verifies leaf at time `at` (seconds since 1970) with pool as untrusted intermediates against
 * anchors.  With check_time false, validity dates are ignored (Security's
 * CSSM_TP_ACTION_ALLOW_EXPIRED retry).  The chain is described in out whatever the outcome.
 * Errors (index = chain position, value = X509_V_ERR_*, offset = err_offset):
 * CMS_CHAIN_UNTRUSTED (no path to an anchor), CMS_CERT_EXPIRED (only dates failed),
 * CMS_CHAIN_INVALID (a certificate on the path is bad), CMS_LEAF_NOT_CODE_SIGNING, NO_MEMORY.
 * With the anchor set's memo, a chain verified before (the same certificates by their DER, time,
 * purpose and anchors) is not built again. */
sh_err sh_chain_verify(X509 *leaf, STACK_OF(X509) *pool, const sh_anchor_set *anchors,
                       sh_chain_purpose purpose, int64_t at, bool check_time, uint64_t err_offset,
                       sh_chain *out, sh_error *err);

/* True when obj is an Apple certificate extension, 1.2.840.113635.100.6.* */
bool sh_oid_is_apple_cert_ext(const ASN1_OBJECT *obj);

/* True when cert's SHA-256 fingerprint is the pinned Apple Root CA. */
bool sh_cert_is_apple_root(X509 *cert);

#endif
