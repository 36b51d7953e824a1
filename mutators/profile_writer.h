/* Provisioning-profile writer: builds a profile the way Apple's developer portal issues one
 * (codesign-formats.md section 6), signed by a test profile signer instead of Apple.
 *
 * The content is an XML property list (libplist) with Apple's keys in Apple's order: AppIDName,
 * ApplicationIdentifierPrefix, CreationDate, Platform ["OSX"], IsXcodeManaged,
 * DeveloperCertificates (leaf DER), Entitlements (the allow-list), ExpirationDate, Name,
 * ProvisionedDevices (Development only) or ProvisionsAllDevices true (Developer ID),
 * TeamIdentifier, TeamName, TimeToLive (whole days from CreationDate to ExpirationDate), UUID,
 * Version 1.  The UUID is derived from the rest of the content (SHA-256 of the plist written
 * without it), so the same spec always gives the same profile.
 *
 * The wrapper is a CMS SignedData with the plist attached (id-data), SHA-256, RSA PKCS#1 v1.5
 * (deterministic), signed attributes contentType, signingTime (the given time) and
 * messageDigest, and certificates signer, then the signer's chain (intermediate, root).
 * parsers/profile.h classifies the result as SH_PROFILE_KIND_DEVELOPER_ID or
 * SH_PROFILE_KIND_DEVELOPMENT. */
#ifndef SH_PROFILE_WRITER_H
#define SH_PROFILE_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/x509.h>
#include <plist/plist.h>

#include "bytebuf.h"
#include "pki.h"

typedef enum sh_pw_kind {
    SH_PW_DEVELOPER_ID = 1, /* ProvisionsAllDevices true, no device list */
    SH_PW_DEVELOPMENT = 2,  /* ProvisionedDevices: the given UDIDs */
} sh_pw_kind;

#define SH_PW_MAX_DEVICES 128u /* a writer argument, not input: Apple allows 100 Macs a year */
#define SH_PW_MAX_CERTS 16u

typedef struct sh_pw_spec {
    sh_pw_kind kind;
    const char *name;        /* Name ("SH NetFilter Developer ID") */
    const char *app_id_name; /* AppIDName ("SH NetFilter") */
    const char *team_id;     /* ApplicationIdentifierPrefix and TeamIdentifier */
    const char *team_name;   /* TeamName */
    int64_t creation_date;   /* seconds since 1970; also the CMS signingTime */
    int64_t expiration_date; /* > creation_date */
    bool xcode_managed;      /* IsXcodeManaged */
    const char *const *devices; /* Development: ProvisionedDevices (may be 0 of them) */
    size_t ndevices;
    X509 *const *certificates; /* DeveloperCertificates, in order */
    size_t ncertificates;
    plist_t entitlements;    /* a dict (borrowed, copied): the allow-list */
    const sh_pki_identity *signer; /* the profile signer (corpus/pki "profile-signer") */
} sh_pw_spec;

/* Appends the DER profile to out.  SH_W_INVALID_ARGUMENT (what names the field) for a missing
 * or unusable field; SH_W_NO_MEMORY / SH_W_TOO_LARGE as the buffer reports; SH_W_HASH_FAILED
 * when OpenSSL fails to sign. */
sh_write_status sh_pw_write(const sh_pw_spec *spec, sh_bytebuf *out, sh_write_error *err);

/* The plist alone (what `security cms -D` prints), for tests and the UUID. */
sh_write_status sh_pw_write_plist(const sh_pw_spec *spec, sh_bytebuf *out, sh_write_error *err);

#endif
