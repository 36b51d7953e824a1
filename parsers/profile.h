/* Provisioning profiles (.mobileprovision, .provisionprofile): a CMS SignedData with ATTACHED
 * content (BER accepted, as Apple and Xcode write it) whose content is a property list
 * (codesign-formats.md section 6).
 *
 * sh_profile_parse() in order:
 *  1. decode: size <= SH_MAX_PROFILE_SIZE; OpenSSL decodes the ContentInfo from exactly the input
 *     bytes (nothing may follow it); SignedData, eContentType id-data, attached content, exactly
 *     one SignerInfo, <= SH_MAX_CMS_CERTS certificates.  Failures: PROFILE_NOT_CMS,
 *     PROFILE_TRAILING_DATA, CMS_NOT_SIGNED_DATA, CMS_ECONTENT_TYPE, PROFILE_DETACHED,
 *     CMS_NO_SIGNER, CMS_MULTIPLE_SIGNERS, CMS_TOO_MANY_CERTS, CMS_ATTRIBUTE_* (the signed
 *     attributes are read with cms_attr.c, the code-signature CMS reader).
 *  2. signature (recorded in out->sig, not fatal to decoding): digest SHA-1/256/384/512
 *     (CMS_UNSUPPORTED_DIGEST); the signer's certificate is in the CMS
 *     (CMS_SIGNER_CERT_MISSING); with signed attributes, contentType = id-data
 *     (CMS_NO_CONTENT_TYPE, CMS_CONTENT_TYPE_MISMATCH), messageDigest = digest of the content
 *     (CMS_NO_MESSAGE_DIGEST, PROFILE_DIGEST_MISMATCH) and the signature over the attributes
 *     (CMS_SIGNATURE_INVALID); without, the signature over the content itself.
 *  3. chain (chain.c): the signer's certificate to a trust anchor, the CMS certificates as
 *     intermediates.  Anchors:
 *     - Apple Root CA, pinned by SHA-256 (SH_APPLE_ROOT_CA_SHA256).  A DER copy of it is built
 *       in (profile_anchor.c) because older profiles do not carry it: the 2015 iOS profiles carry
 *       "Apple iPhone Certification Authority" (issuer "Apple Root CA") plus the LEGACY root
 *       "Apple Root Certificate Authority" (O=Apple Computer, Inc.), which has the same key
 *       (both subject key identifiers are 2BD06947...) but a different name, so no chain is
 *       built to the legacy root: those profiles chain to Apple Root CA.
 *     - The legacy root, pinned by SHA-256 (SH_APPLE_LEGACY_ROOT_SHA256, 0D83B611..., Apple's
 *       published https://www.apple.com/certificateauthority/AppleComputerRootCertificate.cer),
 *       only when the CMS carries a certificate with that fingerprint (it expired 2025-02-10;
 *       same key as Apple Root CA, so pinning it trusts nothing new).
 *     - the caller's explicit roots (options->trust), e.g. a test root.
 *     Verification time: the signingTime attribute, else CreationDate, else options->now (the
 *     profile-signing certificates live shorter than Developer ID profiles: 2023 vs 2038, so
 *     Apple cannot check them at "now").  CMS_CHAIN_UNTRUSTED / CMS_CHAIN_INVALID /
 *     CMS_CERT_EXPIRED as chain.c reports them.
 *  4. content: the plist through plist_guard then libplist (XML or binary), a dict
 *     (PROFILE_ROOT_NOT_DICT), every key decoded into typed fields (PROFILE_KEY_TYPE,
 *     PROFILE_MISSING_KEY, PROFILE_BAD_STRING, PROFILE_TOO_MANY_*, PROFILE_CERT_INVALID), the
 *     Entitlements into the entitlements tree (entitlements.h; PROFILE_ENTITLEMENTS_NOT_DICT).
 *     Plist error offsets are relative to the plist (OpenSSL does not say where the content
 *     octets were; BER content may be split in pieces).
 * Returns the decode error (out->decoded false), else the content error (decoded false; the
 * signature is then not evaluated), else the signature/chain error (decoded true, also in
 * out->sig.result / out->sig.err), else SH_E_OK.  `expired` is not an
 * error of the parse: see sh_profile_check_expiry().
 *
 * Kinds (sh_profile_kind), first matching row wins:
 *   ProvisionsAllDevices true, Platform contains OSX, or a Developer ID certificate -> DEVELOPER_ID
 *   ProvisionsAllDevices true otherwise                                        -> ENTERPRISE
 *   ProvisionedDevices present (even empty) and (get-task-allow true, or a development
 *     certificate: Apple Development / iPhone / Mac Developer marker)           -> DEVELOPMENT
 *   ProvisionedDevices present otherwise (distribution certificate)            -> AD_HOC
 *   no devices, no ProvisionsAllDevices                                        -> APP_STORE
 *
 * Everything the profile owns is allocated through the allocator given (NULL: the C library),
 * exactly sized, and freed by sh_profile_free (also after a failed parse).  OpenSSL and libplist
 * objects never outlive sh_profile_parse.  No global state. */
#ifndef SH_PROFILE_H
#define SH_PROFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "alloc.h"
#include "cert.h"
#include "cursor.h"
#include "entitlements.h"
#include "errors.h"
#include "sh_limits.h"

/* Apple Root Certificate Authority (C=US, O=Apple Computer, Inc., OU=Apple Computer Certificate
 * Authority), 2005-2025. */
extern const uint8_t SH_APPLE_LEGACY_ROOT_SHA256[32];
/* DER of Apple Root CA (its SHA-256 is SH_APPLE_ROOT_CA_SHA256). */
extern const uint8_t SH_APPLE_ROOT_CA_DER[];
extern const size_t SH_APPLE_ROOT_CA_DER_LEN;

typedef enum sh_profile_kind {
    SH_PROFILE_KIND_UNKNOWN = 0, /* not decoded */
    SH_PROFILE_KIND_DEVELOPMENT,
    SH_PROFILE_KIND_AD_HOC,
    SH_PROFILE_KIND_APP_STORE,
    SH_PROFILE_KIND_ENTERPRISE,
    SH_PROFILE_KIND_DEVELOPER_ID,
} sh_profile_kind;

const char *sh_profile_kind_name(sh_profile_kind kind); /* "Developer ID", "App Store", ... */

typedef enum sh_profile_anchor {
    SH_PROFILE_ANCHOR_NONE = 0,
    SH_PROFILE_ANCHOR_APPLE_ROOT_CA,
    SH_PROFILE_ANCHOR_APPLE_LEGACY_ROOT,
    SH_PROFILE_ANCHOR_CALLER,
} sh_profile_anchor;

const char *sh_profile_anchor_name(sh_profile_anchor a); /* "Apple Root CA", ... */

typedef struct sh_profile_strings {
    char **items; /* count NUL-terminated UTF-8 strings */
    size_t count;
} sh_profile_strings;

#define SH_PROFILE_SERIAL_MAX 67 /* 32 serial bytes as hex (RFC 5280 allows 20) + NUL */

typedef struct sh_profile_cert {
    sh_cert_facts facts; /* CN, OU (team), validity, SHA-256, Apple markers */
    sh_cert_kind kind;   /* from the leaf markers alone (the issuer is not in the profile) */
    uint8_t sha1[20];
    char serial[SH_PROFILE_SERIAL_MAX]; /* lower-case hex, "" when longer than 32 bytes */
} sh_profile_cert;

typedef struct sh_profile_signature {
    sh_err result;        /* SH_E_OK: digest, signature and chain verified */
    sh_error err;
    int digest_nid;       /* signer digestAlgorithm */
    int signature_nid;
    uint32_t ncerts;      /* certificates in the CMS */
    bool has_signing_time;
    int64_t signing_time; /* seconds since 1970 UTC */
    bool has_signer;
    sh_cert_facts signer; /* "Apple iPhone OS Provisioning Profile Signing" */
    bool signature_verified; /* digest and signature over the content */
    int64_t verify_time;     /* when the chain was evaluated */
    sh_chain chain;          /* leaf first */
    sh_profile_anchor anchor;
    bool chain_verified;
} sh_profile_signature;

typedef struct sh_profile {
    const sh_allocator *alloc;
    bool decoded;          /* every field below is valid */
    sh_profile_signature sig;

    uint8_t *content;      /* the signed plist bytes, exactly content_len (+1 NUL) */
    size_t content_len;
    bool content_binary;   /* bplist00 rather than XML */

    char *app_id_name, *name, *uuid, *team_name; /* NULL when absent */
    sh_profile_strings app_id_prefixes, team_ids, platforms, devices;
    bool has_devices;      /* ProvisionedDevices present */
    bool has_all_devices, provisions_all_devices;
    bool has_xcode_managed, is_xcode_managed;
    int64_t creation_date, expiration_date; /* seconds since 1970 UTC */
    bool has_ttl;
    int64_t ttl;           /* TimeToLive, days */
    bool has_version;
    int64_t version;
    sh_entitlements entitlements;
    sh_profile_cert *certs;
    size_t ncerts;
    bool has_der_profile;  /* DER-Encoded-Profile (a nested CMS, not verified here) */
    size_t der_profile_len;
    sh_profile_strings other_keys; /* top-level keys this parser does not know, in plist order */
    sh_profile_kind kind;
} sh_profile;

typedef struct sh_profile_options {
    int64_t now;    /* seconds since 1970 UTC: chain time when the profile has no dates */
    sh_trust trust; /* roots trusted besides the pinned Apple roots (test roots) */
    struct sh_verify_memo *memo; /* decodes certificates and verifies chains once (NULL: none) */
} sh_profile_options;

/* options may be NULL (now 0, no caller roots).  Free *out with sh_profile_free, whatever the
 * result. */
sh_err sh_profile_parse(const uint8_t *bytes, size_t len, const sh_allocator *alloc,
                        const sh_profile_options *options, sh_profile *out, sh_error *err);
void sh_profile_free(sh_profile *p);

/* ---- checks for the verdict engine (each SH_E_OK or one PROFILE_* error) ---- */

/* PROFILE_EXPIRED when now >= ExpirationDate, PROFILE_NOT_YET_VALID when now < CreationDate. */
sh_err sh_profile_check_expiry(const sh_profile *p, int64_t now, sh_error *err);
/* The DER leaf certificate is among DeveloperCertificates (compared by SHA-256 of the DER);
 * *index (may be NULL) gets its position.  PROFILE_CERT_NOT_INCLUDED. */
sh_err sh_profile_check_certificate(const sh_profile *p, const sh_cursor *leaf_der, size_t *index,
                                    sh_error *err);
/* The allow-list rule for one signed entitlement (TN3125):
 *  - the key must be in the profile's Entitlements;
 *  - profile string P: the signed value is a string equal to P, or P ends in '*' and the signed
 *    string starts with P without the '*'; a signed array: every element so;
 *  - profile array: a signed string must match (as above) one element; a signed array: every
 *    element must match one element;
 *  - profile bool: the signed bool is equal, or false (false grants nothing);
 *  - anything else: equal (sh_entitlements_compare).
 * PROFILE_ENTITLEMENT_NOT_ALLOWED (where: "profile entitlement"). */
sh_err sh_profile_check_entitlement(const sh_profile *p, const char *key, const sh_ent_node *value,
                                    sh_error *err);
/* Every key of a signed entitlements dict; *bad_key (may be NULL) names the first refused. */
sh_err sh_profile_check_entitlements(const sh_profile *p, const sh_ent_node *signed_dict,
                                     const char **bad_key, sh_error *err);
/* application-identifier (iOS) or com.apple.application-identifier (macOS) of the profile must
 * allow "<prefix>.<bundle_id>" for one of ApplicationIdentifierPrefix (with the '*' rule).
 * PROFILE_APP_ID_MISMATCH. */
sh_err sh_profile_check_app_id(const sh_profile *p, const char *bundle_id, sh_error *err);
/* platform ("OSX", "iOS", "xrOS", ...) is in Platform.  PROFILE_PLATFORM_MISMATCH. */
sh_err sh_profile_check_platform(const sh_profile *p, const char *platform, sh_error *err);
/* udid is in ProvisionedDevices, or ProvisionsAllDevices.  PROFILE_DEVICE_NOT_PROVISIONED. */
sh_err sh_profile_check_device(const sh_profile *p, const char *udid, sh_error *err);

/* The string-pattern rule above on its own (pattern "TEAM.*" allows "TEAM.x"). */
bool sh_profile_string_allowed(const char *pattern, size_t pattern_len, const char *value,
                               size_t value_len);

/* ---- rendering ---- */

/* The plist as XML, what `security cms -D -i` prints: XML content as it is, a binary plist
 * converted by libplist (after the guard).  False on a write error or a failed conversion. */
bool sh_profile_write_xml(const sh_profile *p, FILE *out);
/* A human summary: name, UUID, team, kind, app ID, platforms, dates, devices, certificates,
 * entitlement keys, signature and chain. */
void sh_profile_write_summary(const sh_profile *p, FILE *out);
/* "2024-06-29T13:20:39Z" (buf >= 21 bytes). */
void sh_profile_format_time(int64_t t, char *buf, size_t size);

#endif
