/* Test PKI and CMS code signatures made in-process with OpenSSL, for tests/test_cms.c.
 *
 * The PKI mirrors Apple's: a test root; a "Developer ID Certification Authority" (marker
 * 1.2.840.113635.100.6.2.6) issuing "Developer ID Application: Test (ABCDE12345)" (1.13 critical,
 * 1.33, OU=ABCDE12345, EKU codeSigning, RSA-2048 like the real ones); a WWDR-like CA (2.1) issuing
 * "Apple Development: Test Dev (XYZ9876543)" (1.2 + 1.12, OU=ABCDE12345); a timestamp CA (2.9)
 * issuing a TSA certificate with a critical timeStamping EKU.  Keys: one RSA-2048 key, generated
 * once per process, for the Developer ID leaf; EC P-256 for everything else (fast; signatures are
 * not deterministic, nothing here needs them to be).  Failures abort (test code). */
#ifndef CMS_BUILDER_H
#define CMS_BUILDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/cms.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "sig_builder.h"

#define TEST_TEAM "ABCDE12345"
#define TEST_T2020 1577836800 /* 2020-01-01 */
#define TEST_T2021 1609459200
#define TEST_T2022 1640995200
#define TEST_T2024 1704067200
#define TEST_T2025 1735689600
#define TEST_T2030 1893456000
#define TEST_T2040 2208988800

typedef struct test_cert_spec {
    const char *cn, *ou, *o;
    X509 *issuer;          /* NULL: self-signed */
    EVP_PKEY *issuer_key;  /* NULL with issuer NULL: key signs itself */
    EVP_PKEY *key;         /* subject key */
    bool ca;
    int64_t not_before, not_after; /* 0, 0: 2020-01-01 .. 2040-01-01 */
    const char *markers[4];        /* OIDs of Apple marker extensions (NULL-terminated list) */
    bool markers_critical;
    const char *eku;               /* "codeSigning", "critical,timeStamping", ... or NULL */
    long serial;
} test_cert_spec;

X509 *test_cert_make(const test_cert_spec *spec);
EVP_PKEY *test_key_ec(void);

typedef struct test_pki {
    EVP_PKEY *root_key, *devid_ca_key, *devid_key, *wwdr_key, *dev_key, *ts_ca_key, *tsa_key;
    X509 *root, *devid_ca, *devid_leaf, *wwdr, *dev_leaf, *ts_ca, *tsa;
    EVP_PKEY *other_root_key;
    X509 *other_root; /* an unrelated self-signed root */
    X509 *devid_chain[2]; /* {devid_ca, root}: what a Developer ID signature carries */
    X509 *tsa_chain[1];   /* {ts_ca}: what the timestamp token carries besides the TSA */
} test_pki;

void test_pki_init(test_pki *pki);
void test_pki_free(test_pki *pki);

typedef struct test_cdhash2 {
    int nid;              /* digest OID, by NID; NID_undef: oid_text below */
    const char *oid_text; /* dotted OID when nid is NID_undef */
    const uint8_t *hash;
    size_t len;
} test_cdhash2;

typedef struct test_cms_spec {
    X509 *signer;
    EVP_PKEY *key;
    X509 *const *certs; /* more certificates to carry (the signer's is added unless no_certs) */
    size_t ncerts;
    bool no_certs;      /* CMS_NOCERTS: the signer's certificate is not added either */
    const EVP_MD *md;   /* NULL: SHA-256 */
    const uint8_t *content; /* the detached content: the slot-0 CodeDirectory */
    size_t content_len;
    bool no_attributes;     /* CMS_NOATTR: the signature covers the content itself */
    bool no_signing_time;   /* strip signingTime (then the signed attributes are re-signed) */
    int64_t signing_time;   /* 0: TEST_T2024 */
    const char *cdhashes_plist; /* CDHashes attribute text, NULL for none */
    size_t cdhashes_plist_len;  /* 0: strlen */
    const test_cdhash2 *cdhashes2; /* CDHashes2 values */
    size_t ncdhashes2;
    /* secure timestamp */
    X509 *tsa;
    EVP_PKEY *tsa_key;
    X509 *const *tsa_certs; /* certificates the token carries besides the TSA's */
    size_t ntsa_certs;
    int64_t ts_time;
    bool ts_wrong_imprint;  /* the imprint hashes something other than the signature value */
} test_cms_spec;

/* A finished CMS object (caller frees with CMS_ContentInfo_free) and its DER. */
CMS_ContentInfo *test_cms_make(const test_cms_spec *spec);
sig_buf test_cms_der(CMS_ContentInfo *cms);
sig_buf test_cms_build(const test_cms_spec *spec);

/* Re-signs si's signed attributes with key (after a test edited them). */
void test_cms_resign(CMS_SignerInfo *si, EVP_PKEY *key, const EVP_MD *md);
/* A DER timestamp token over sha256(data) from tsa at time t. */
sig_buf test_timestamp_token(X509 *tsa, EVP_PKEY *tsa_key, X509 *const *certs, size_t ncerts,
                             const uint8_t *data, size_t len, int64_t t);
/* Replaces (or adds) si's timestamp token. */
void test_cms_set_timestamp(CMS_SignerInfo *si, const sig_buf *token);

/* The XML plist {cdhashes: [<data>...]} of n 20-byte hashes, as codesign writes it. */
char *test_cdhashes_plist(const uint8_t (*hashes)[20], size_t n);

/* ---- CodeDirectories to sign ---- */

#include "cms.h"

/* One SHA-256 CodeDirectory, or (dual) a SHA-1 one in slot 0 and a SHA-256 alternate, over
 * 8 KiB of filler code, with team ID team (NULL: none) and flags. */
typedef struct test_code {
    uint8_t code[8192];
    sig_buf blobs[2];
    sh_codedir cds[2];
    uint32_t ncds;
} test_code;

void test_code_make(test_code *c, bool dual, const char *team, uint32_t flags);
void test_code_free(test_code *c);
sh_cms_code test_code_view(const test_code *c);
/* The CDHashes plist for c (hash-type order, truncated), malloc'd. */
char *test_code_plist(const test_code *c);

#endif
