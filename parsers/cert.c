/* Certificate facts and Apple signer kinds.  OpenSSL decodes every certificate; this file only
 * reads decoded fields, bounded by SH_MAX_CERT_EXTENSIONS. */
#include "cert.h"

#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509v3.h>

const uint8_t SH_APPLE_ROOT_CA_SHA256[32] = {
    0xB0, 0xB1, 0x73, 0x0E, 0xCB, 0xC7, 0xFF, 0x45, 0x05, 0x14, 0x2C, 0x49, 0xF1, 0x29, 0x5E, 0x6E,
    0xDA, 0x6B, 0xCA, 0xED, 0x7E, 0x2C, 0x68, 0xC5, 0xBE, 0x91, 0xB5, 0xA1, 0x10, 0x01, 0xF0, 0x24,
};
const uint8_t SH_APPLE_DEVID_CA_G1_SHA256[32] = {
    0x7A, 0xFC, 0x9D, 0x01, 0xA6, 0x2F, 0x03, 0xA2, 0xDE, 0x96, 0x37, 0x93, 0x6D, 0x4A, 0xFE, 0x68,
    0x09, 0x0D, 0x2D, 0xE1, 0x8D, 0x03, 0xF2, 0x9C, 0x88, 0xCF, 0xB0, 0xB1, 0xBA, 0x63, 0x58, 0x7F,
};

/* Content bytes of 1.2.840.113635.100.6 (Apple certificate extensions); .1.n marks leaves, .2.n
 * intermediates. */
static const uint8_t APPLE_CERT_EXT_PREFIX[] = {0x2A, 0x86, 0x48, 0x86, 0xF7, 0x63, 0x64, 0x06};
#define APPLE_ARC_LEAF 1u
#define APPLE_ARC_CA 2u

const char *sh_cert_kind_name(sh_cert_kind kind)
{
    switch (kind) {
    case SH_CERT_KIND_NONE: return "none";
    case SH_CERT_KIND_DEVELOPER_ID_APPLICATION: return "Developer ID Application";
    case SH_CERT_KIND_DEVELOPER_ID_INSTALLER: return "Developer ID Installer";
    case SH_CERT_KIND_DEVELOPER_ID_KERNEL: return "Developer ID Kernel";
    case SH_CERT_KIND_MAC_APP_STORE: return "Mac App Store";
    case SH_CERT_KIND_APPLE_PLATFORM: return "Apple platform";
    case SH_CERT_KIND_APPLE_DISTRIBUTION: return "Apple Distribution";
    case SH_CERT_KIND_APPLE_DEVELOPMENT: return "Apple Development";
    case SH_CERT_KIND_OTHER: return "other";
    }
    return "unknown";
}

/* ---- time ---- */

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, int64_t m, int64_t d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

bool sh_asn1_time_to_unix(const ASN1_TIME *t, int64_t *out)
{
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
        return false;
    int64_t days = days_from_civil((int64_t)tm.tm_year + 1900, (int64_t)tm.tm_mon + 1, tm.tm_mday);
    *out = days * 86400 + (int64_t)tm.tm_hour * 3600 + (int64_t)tm.tm_min * 60 + tm.tm_sec;
    return true;
}

/* ---- names ---- */

/* First entry of nid in name as UTF-8 into buf (NUL-terminated, cut to the buffer).  Returns
 * false when there is no such entry; *unreadable when there is one that does not convert. */
static bool first_name_entry(const X509_NAME *name, int nid, char *buf, size_t size, size_t *len,
                             bool *truncated, bool *unreadable)
{
    *len = 0;
    buf[0] = '\0';
    int index = X509_NAME_get_index_by_NID(name, nid, -1);
    if (index < 0)
        return false;
    const ASN1_STRING *data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, index));
    unsigned char *utf8 = NULL;
    int n = data ? ASN1_STRING_to_UTF8(&utf8, data) : -1;
    if (n < 0) {
        *unreadable = true;
        return true;
    }
    size_t keep = (size_t)n < size - 1 ? (size_t)n : size - 1;
    memcpy(buf, utf8, keep);
    buf[keep] = '\0';
    *len = keep;
    *truncated = keep < (size_t)n;
    OPENSSL_free(utf8);
    return true;
}

/* ---- extensions ---- */

/* The arc after 1.2.840.113635.100.6.<group>. when obj is a one-byte arc below 64 there. */
static bool apple_marker_arc(const ASN1_OBJECT *obj, unsigned group, unsigned *arc)
{
    size_t len = OBJ_length(obj);
    const unsigned char *data = OBJ_get0_data(obj);
    size_t prefix = sizeof APPLE_CERT_EXT_PREFIX;
    sh_cursor c = sh_cursor_make(data, data ? len : 0);
    sh_cursor head;
    uint8_t g, n;
    if (len != prefix + 2 || !sh_cursor_take(&c, prefix, &head) ||
        memcmp(head.p, APPLE_CERT_EXT_PREFIX, prefix) != 0 || !sh_cursor_u8(&c, &g) ||
        !sh_cursor_u8(&c, &n))
        return false;
    if (g != group || n >= 64)
        return false;
    *arc = n;
    return true;
}

bool sh_oid_is_apple_cert_ext(const ASN1_OBJECT *obj)
{
    size_t len = OBJ_length(obj);
    const unsigned char *data = OBJ_get0_data(obj);
    sh_cursor c = sh_cursor_make(data, data ? len : 0);
    sh_cursor head;
    return len > sizeof APPLE_CERT_EXT_PREFIX &&
           sh_cursor_take(&c, sizeof APPLE_CERT_EXT_PREFIX, &head) &&
           memcmp(head.p, APPLE_CERT_EXT_PREFIX, sizeof APPLE_CERT_EXT_PREFIX) == 0;
}

static void read_marker(const ASN1_OBJECT *obj, sh_cert_facts *out)
{
    unsigned arc;
    if (apple_marker_arc(obj, APPLE_ARC_LEAF, &arc))
        out->apple_leaf_markers |= (uint64_t)1 << arc;
    else if (apple_marker_arc(obj, APPLE_ARC_CA, &arc))
        out->apple_ca_markers |= (uint64_t)1 << arc;
}

static void read_markers(const X509 *cert, sh_cert_facts *out)
{
    int count = X509_get_ext_count(cert);
    if (count > (int)SH_MAX_CERT_EXTENSIONS) {
        out->extensions_truncated = true;
        count = (int)SH_MAX_CERT_EXTENSIONS;
    }
    for (int i = 0; i < count; i++)
        read_marker(X509_EXTENSION_get_object(X509_get_ext(cert, i)), out);
}

static void read_eku(X509 *cert, sh_cert_facts *out)
{
    uint32_t flags = X509_get_extension_flags(cert);
    if (!(flags & EXFLAG_XKUSAGE))
        return;
    uint32_t eku = X509_get_extended_key_usage(cert);
    out->has_eku = true;
    out->eku_code_signing = (eku & XKU_CODE_SIGN) != 0;
    out->eku_time_stamping = (eku & XKU_TIMESTAMP) != 0;
    out->eku_any = (eku & XKU_ANYEKU) != 0;
}

void sh_cert_describe(X509 *cert, sh_cert_facts *out)
{
    memset(out, 0, sizeof *out);
    const X509_NAME *subject = X509_get_subject_name(cert);
    bool ignored = false;
    first_name_entry(subject, NID_commonName, out->cn, sizeof out->cn, &out->cn_len,
                     &out->cn_truncated, &ignored);
    out->has_ou = first_name_entry(subject, NID_organizationalUnitName, out->ou, sizeof out->ou,
                                   &out->ou_len, &out->ou_truncated, &out->ou_unreadable);
    out->validity_readable = sh_asn1_time_to_unix(X509_get0_notBefore(cert), &out->not_before) &&
                             sh_asn1_time_to_unix(X509_get0_notAfter(cert), &out->not_after);
    unsigned int md_len = 0;
    if (!X509_digest(cert, EVP_sha256(), out->sha256, &md_len))
        memset(out->sha256, 0, sizeof out->sha256);
    out->self_issued = X509_NAME_cmp(subject, X509_get_issuer_name(cert)) == 0;
    read_markers(cert, out);
    read_eku(cert, out);
}

/* ---- kinds ---- */

static bool has_leaf(const sh_cert_facts *f, unsigned arc)
{
    return (f->apple_leaf_markers >> arc) & 1u;
}

static bool has_ca(const sh_cert_facts *f, unsigned arc)
{
    return f != NULL && ((f->apple_ca_markers >> arc) & 1u);
}

sh_cert_kind sh_cert_classify(const sh_cert_facts *leaf, const sh_cert_facts *issuer)
{
    if (leaf == NULL)
        return SH_CERT_KIND_NONE;
    /* Most specific first: a Developer ID leaf also carries other markers (1.33, the date). */
    if (has_leaf(leaf, SH_APPLE_LEAF_DEVELOPER_ID_APPLICATION))
        return SH_CERT_KIND_DEVELOPER_ID_APPLICATION;
    if (has_leaf(leaf, SH_APPLE_LEAF_DEVELOPER_ID_INSTALLER))
        return SH_CERT_KIND_DEVELOPER_ID_INSTALLER;
    if (has_leaf(leaf, SH_APPLE_LEAF_DEVELOPER_ID_KERNEL))
        return SH_CERT_KIND_DEVELOPER_ID_KERNEL;
    if (has_leaf(leaf, SH_APPLE_LEAF_MAC_APP_STORE))
        return SH_CERT_KIND_MAC_APP_STORE;
    if (has_leaf(leaf, SH_APPLE_LEAF_APPLE_SIGNING))
        return SH_CERT_KIND_APPLE_PLATFORM;
    if (has_leaf(leaf, SH_APPLE_LEAF_IPHONE_DISTRIBUTION) ||
        has_leaf(leaf, SH_APPLE_LEAF_MAC_APP_DEVELOPMENT))
        return SH_CERT_KIND_APPLE_DISTRIBUTION;
    if (has_leaf(leaf, SH_APPLE_LEAF_IPHONE_DEVELOPER) || has_leaf(leaf, SH_APPLE_LEAF_MAC_DEVELOPER))
        return SH_CERT_KIND_APPLE_DEVELOPMENT;
    if (has_ca(issuer, SH_APPLE_CA_WWDR))
        return SH_CERT_KIND_APPLE_DEVELOPMENT;
    return SH_CERT_KIND_OTHER;
}

bool sh_cert_is_apple_developer(const sh_cert_facts *leaf, const sh_cert_facts *issuer)
{
    if (leaf == NULL)
        return false;
    return has_leaf(leaf, SH_APPLE_LEAF_IPHONE_DEVELOPER) ||
           has_leaf(leaf, SH_APPLE_LEAF_MAC_DEVELOPER) ||
           has_leaf(leaf, SH_APPLE_LEAF_MAC_APP_DEVELOPMENT) ||
           has_leaf(leaf, SH_APPLE_LEAF_IPHONE_DISTRIBUTION) ||
           (has_leaf(leaf, SH_APPLE_LEAF_DEVELOPER_ID_APPLICATION) &&
            has_ca(issuer, SH_APPLE_CA_DEVELOPER_ID));
}

bool sh_cert_is_apple_root(X509 *cert)
{
    uint8_t md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    return cert != NULL && X509_digest(cert, EVP_sha256(), md, &md_len) && md_len == 32 &&
           memcmp(md, SH_APPLE_ROOT_CA_SHA256, 32) == 0;
}
