/* Provisioning profiles made in-process for tests: an XML profile plist from a spec, and an
 * attached-content CMS over any bytes (test PKI from cms_builder.h).  Failures abort. */
#ifndef PROFILE_BUILDER_H
#define PROFILE_BUILDER_H

#include "cms_builder.h"

typedef struct test_plist_spec {
    const char *platform;          /* NULL: "OSX" */
    int64_t created, expires;      /* 0: TEST_T2024 .. TEST_T2025 */
    X509 *const *dev_certs;        /* DeveloperCertificates */
    size_t ndev_certs;
    const char *entitlements;      /* inner XML of the Entitlements dict; NULL: a default */
    const char *devices;           /* raw XML value of ProvisionedDevices; NULL: key absent */
    bool all_devices;              /* ProvisionsAllDevices true */
    const char *omit;              /* a key to leave out */
    const char *replace_key;       /* a key whose value is replaced by replace_value (raw XML) */
    const char *replace_value;
    const char *extra;             /* raw XML appended inside the top dict */
} test_plist_spec;

/* NUL-terminated XML; len without the NUL.  free() it. */
char *test_profile_plist(const test_plist_spec *spec, size_t *len);

typedef struct test_profile_pki {
    test_pki pki;
    EVP_PKEY *signer_key;
    X509 *signer;         /* "Test Provisioning Profile Signing" under pki.wwdr, no EKU */
    X509 *expired_signer; /* the same, valid 2020-01-01 .. 2021-01-01 */
    X509 *chain[2];       /* {wwdr, root}: what a profile carries */
} test_profile_pki;

void test_profile_pki_init(test_profile_pki *p);
void test_profile_pki_free(test_profile_pki *p);

typedef struct test_sign_spec {
    const void *content;
    size_t len;
    X509 *signer;              /* NULL: no SignerInfo at all */
    EVP_PKEY *key;
    X509 *const *certs;
    size_t ncerts;
    int64_t signing_time;      /* 0: TEST_T2024 + 1 day; -1: no signingTime */
    bool no_attributes;
    bool detached;
    bool no_certs;
    const char *econtent_oid;  /* NULL: id-data */
    X509 *second_signer;       /* a second SignerInfo (with the same key) */
} test_sign_spec;

sig_buf test_profile_sign(const test_sign_spec *spec);

/* One whole signed profile from a plist spec with the PKI's signer and chain. */
sig_buf test_profile_make(const test_profile_pki *p, const test_plist_spec *spec);

/* DER of a certificate, malloc'd exactly. */
sig_buf test_cert_der(X509 *cert);

#endif
