/* Signer attributes.  OpenSSL has decoded every attribute; this file checks the shape of the ones
 * the verifier reads and copies their values out.  Each of them may appear once: Security looks
 * attributes up with "only one" semantics (a second copy makes it ignore the attribute, or fail
 * the signer for contentType/messageDigest); here any second copy is refused, which is stricter
 * for CDHashes/CDHashes2 (Security would then skip the check) and says so. */
#include "cms_attr.h"

#include <string.h>

#include <plist/plist.h>

#include "hash.h"
#include "plist_guard.h"

/* Content bytes of Apple's code-signing attribute OIDs. */
static const uint8_t OID_CDHASHES[] = {0x2A, 0x86, 0x48, 0x86, 0xF7, 0x63, 0x64, 0x09, 0x01};
static const uint8_t OID_CDHASHES2[] = {0x2A, 0x86, 0x48, 0x86, 0xF7, 0x63, 0x64, 0x09, 0x02};

typedef enum attr_id {
    ATTR_OTHER = 0,
    ATTR_CONTENT_TYPE,
    ATTR_MESSAGE_DIGEST,
    ATTR_SIGNING_TIME,
    ATTR_CDHASHES,
    ATTR_CDHASHES2,
    ATTR_TIMESTAMP_TOKEN,
} attr_id;

static bool oid_is(const ASN1_OBJECT *obj, const uint8_t *content, size_t len)
{
    const unsigned char *data = OBJ_get0_data(obj);
    return data != NULL && OBJ_length(obj) == len && memcmp(data, content, len) == 0;
}

static attr_id identify(X509_ATTRIBUTE *attr)
{
    const ASN1_OBJECT *obj = X509_ATTRIBUTE_get0_object(attr);
    switch (OBJ_obj2nid(obj)) {
    case NID_pkcs9_contentType: return ATTR_CONTENT_TYPE;
    case NID_pkcs9_messageDigest: return ATTR_MESSAGE_DIGEST;
    case NID_pkcs9_signingTime: return ATTR_SIGNING_TIME;
    case NID_id_smime_aa_timeStampToken: return ATTR_TIMESTAMP_TOKEN;
    default: break;
    }
    if (oid_is(obj, OID_CDHASHES, sizeof OID_CDHASHES))
        return ATTR_CDHASHES;
    if (oid_is(obj, OID_CDHASHES2, sizeof OID_CDHASHES2))
        return ATTR_CDHASHES2;
    return ATTR_OTHER;
}

static sh_err fail_attr(const sh_cms *cms, sh_err code, int64_t index, uint64_t value,
                        sh_error *err)
{
    return sh_fail_value(err, code, "CMS signer attribute", index, cms->offset, value);
}

/* The one value of a single-valued attribute, of ASN.1 type `type`. */
static sh_err single_value(const sh_cms *cms, X509_ATTRIBUTE *attr, int type, int64_t index,
                           ASN1_TYPE **out, sh_error *err)
{
    int count = X509_ATTRIBUTE_count(attr);
    if (count != 1)
        return fail_attr(cms, SH_E_CMS_ATTRIBUTE_VALUE_COUNT, index, (uint64_t)(int64_t)count, err);
    *out = X509_ATTRIBUTE_get0_type(attr, 0);
    int actual = *out ? ASN1_TYPE_get(*out) : 0;
    if (actual != type)
        return fail_attr(cms, SH_E_CMS_ATTRIBUTE_TYPE, index, (uint64_t)(int64_t)actual, err);
    return SH_E_OK;
}

/* Copies at most cap bytes of s; *real gets the full length. */
static void copy_octets(const ASN1_STRING *s, uint8_t *dst, size_t cap, size_t *real)
{
    int len = ASN1_STRING_length(s);
    size_t n = len > 0 ? (size_t)len : 0;
    *real = n;
    if (n > 0)
        memcpy(dst, ASN1_STRING_get0_data(s), n < cap ? n : cap);
}

static sh_cursor octets_view(const ASN1_STRING *s, uint64_t base)
{
    int len = ASN1_STRING_length(s);
    sh_cursor c = sh_cursor_make(ASN1_STRING_get0_data(s), len > 0 ? (size_t)len : 0);
    c.base = base;
    return c;
}

/* ---- the standard attributes ---- */

static sh_err read_content_type(sh_cms *cms, X509_ATTRIBUTE *attr, int64_t i, sh_error *err)
{
    ASN1_TYPE *v = NULL;
    sh_err e = single_value(cms, attr, V_ASN1_OBJECT, i, &v, err);
    if (e == SH_E_OK) {
        cms->has_content_type = true;
        cms->content_type_nid = OBJ_obj2nid(v->value.object);
    }
    return e;
}

static sh_err read_message_digest(sh_cms *cms, X509_ATTRIBUTE *attr, int64_t i, sh_error *err)
{
    ASN1_TYPE *v = NULL;
    sh_err e = single_value(cms, attr, V_ASN1_OCTET_STRING, i, &v, err);
    if (e == SH_E_OK) {
        cms->has_message_digest = true;
        copy_octets(v->value.octet_string, cms->message_digest, sizeof cms->message_digest,
                    &cms->message_digest_len);
    }
    return e;
}

static sh_err read_signing_time(sh_cms *cms, X509_ATTRIBUTE *attr, int64_t i, sh_error *err)
{
    int count = X509_ATTRIBUTE_count(attr);
    if (count != 1)
        return fail_attr(cms, SH_E_CMS_ATTRIBUTE_VALUE_COUNT, i, (uint64_t)(int64_t)count, err);
    ASN1_TYPE *v = X509_ATTRIBUTE_get0_type(attr, 0);
    int type = v ? ASN1_TYPE_get(v) : 0;
    /* value.utctime and value.generalizedtime are the same ASN1_STRING member of the union. */
    bool timeish = type == V_ASN1_UTCTIME || type == V_ASN1_GENERALIZEDTIME;
    if (!timeish || !sh_asn1_time_to_unix(v->value.utctime, &cms->signing_time))
        return fail_attr(cms, SH_E_CMS_ATTRIBUTE_TYPE, i, (uint64_t)(int64_t)type, err);
    cms->has_signing_time = true;
    return SH_E_OK;
}

/* ---- CDHashes: an XML plist {cdhashes: [<data>...]} in an OCTET STRING ---- */

static sh_err read_cdhash_entries(sh_cms *cms, plist_t array, int64_t i, sh_error *err)
{
    uint32_t n = plist_array_get_size(array);
    if (n > SH_MAX_CMS_CDHASHES)
        return fail_attr(cms, SH_E_CMS_CDHASHES_TOO_MANY, i, n, err);
    for (uint32_t k = 0; k < n; k++) {
        plist_t item = plist_array_get_item(array, k);
        if (plist_get_node_type(item) != PLIST_DATA)
            return fail_attr(cms, SH_E_CMS_CDHASHES_SHAPE, k, i, err);
        uint64_t len = 0;
        const char *data = plist_get_data_ptr(item, &len);
        cms->cdhash_lens[k] = (size_t)len;
        if (data && len)
            memcpy(cms->cdhashes[k], data, len < SH_CMS_MAX_DIGEST ? (size_t)len : SH_CMS_MAX_DIGEST);
    }
    cms->ncdhashes = n;
    return SH_E_OK;
}

static sh_err read_cdhash_plist(sh_cms *cms, plist_t root, int64_t i, sh_error *err)
{
    if (plist_get_node_type(root) != PLIST_DICT)
        return fail_attr(cms, SH_E_CMS_CDHASHES_NOT_DICT, i, 0, err);
    plist_t array = plist_dict_get_item(root, "cdhashes");
    if (array == NULL || plist_get_node_type(array) != PLIST_ARRAY)
        return fail_attr(cms, SH_E_CMS_CDHASHES_SHAPE, -1, i, err);
    return read_cdhash_entries(cms, array, i, err);
}

static sh_err read_cdhashes(sh_cms *cms, X509_ATTRIBUTE *attr, int64_t i, sh_error *err)
{
    ASN1_TYPE *v = NULL;
    sh_err e = single_value(cms, attr, V_ASN1_OCTET_STRING, i, &v, err);
    if (e != SH_E_OK)
        return e;
    sh_cursor text = octets_view(v->value.octet_string, cms->offset);
    plist_t root = NULL;
    sh_error plist_err = {0};
    if (sh_plist_parse(&text, NULL, &root, NULL, &plist_err) != SH_E_OK)
        return sh_fail_value(err, SH_E_CMS_CDHASHES_NOT_PLIST, "CMS CDHashes plist", i,
                             plist_err.offset, (uint64_t)plist_err.code);
    e = read_cdhash_plist(cms, root, i, err);
    plist_free(root);
    cms->has_cdhashes = e == SH_E_OK;
    return e;
}

/* ---- CDHashes2: one SEQUENCE { digest OID, OCTET STRING } per value ---- */

static unsigned hash_type_of_nid(int nid)
{
    switch (nid) {
    case NID_sha1: return SH_HASH_SHA1;
    case NID_sha256: return SH_HASH_SHA256;
    case NID_sha384: return SH_HASH_SHA384;
    case NID_sha512: return SH_HASH_SHA512;
    default: return SH_HASH_NONE;
    }
}

static bool decode_agile_hash(const ASN1_STRING *der, sh_cms_cdhash2 *out)
{
    const unsigned char *p = ASN1_STRING_get0_data(der);
    int len = ASN1_STRING_length(der);
    ASN1_SEQUENCE_ANY *seq = len > 0 ? d2i_ASN1_SEQUENCE_ANY(NULL, &p, len) : NULL;
    bool ok = seq != NULL && sk_ASN1_TYPE_num(seq) == 2 &&
              ASN1_TYPE_get(sk_ASN1_TYPE_value(seq, 0)) == V_ASN1_OBJECT &&
              ASN1_TYPE_get(sk_ASN1_TYPE_value(seq, 1)) == V_ASN1_OCTET_STRING;
    if (ok) {
        out->digest_nid = OBJ_obj2nid(sk_ASN1_TYPE_value(seq, 0)->value.object);
        out->hash_type = hash_type_of_nid(out->digest_nid);
        copy_octets(sk_ASN1_TYPE_value(seq, 1)->value.octet_string, out->hash, sizeof out->hash,
                    &out->hash_len);
    }
    sk_ASN1_TYPE_pop_free(seq, ASN1_TYPE_free);
    return ok;
}

/* Security keys the values by digest OID tag (unknown OIDs all share one tag) and fails with
 * errSecDecode when that loses a value; NID_undef plays the unknown tag here. */
static bool digest_seen(const sh_cms *cms, uint32_t upto, int nid)
{
    for (uint32_t k = 0; k < upto; k++)
        if (cms->cdhashes2[k].digest_nid == nid)
            return true;
    return false;
}

static sh_err read_cdhashes2(sh_cms *cms, X509_ATTRIBUTE *attr, int64_t i, sh_error *err)
{
    int count = X509_ATTRIBUTE_count(attr);
    if (count < 1)
        return fail_attr(cms, SH_E_CMS_ATTRIBUTE_VALUE_COUNT, i, (uint64_t)(int64_t)count, err);
    if ((unsigned)count > SH_MAX_CMS_CDHASHES)
        return fail_attr(cms, SH_E_CMS_CDHASHES2_TOO_MANY, i, (uint64_t)count, err);
    for (int k = 0; k < count; k++) {
        ASN1_TYPE *v = X509_ATTRIBUTE_get0_type(attr, k);
        sh_cms_cdhash2 *entry = &cms->cdhashes2[k];
        if (v == NULL || ASN1_TYPE_get(v) != V_ASN1_SEQUENCE ||
            !decode_agile_hash(v->value.sequence, entry))
            return fail_attr(cms, SH_E_CMS_CDHASHES2_MALFORMED, k, i, err);
        if (digest_seen(cms, (uint32_t)k, entry->digest_nid))
            return fail_attr(cms, SH_E_CMS_CDHASHES2_DUPLICATE, k, (uint64_t)(int64_t)entry->digest_nid,
                             err);
    }
    cms->ncdhashes2 = (uint32_t)count;
    cms->has_cdhashes2 = true;
    return SH_E_OK;
}

/* ---- walking the attribute lists ---- */

static sh_err read_signed_attr(sh_cms *cms, attr_id id, X509_ATTRIBUTE *attr, int64_t i,
                               sh_error *err)
{
    switch (id) {
    case ATTR_CONTENT_TYPE: return read_content_type(cms, attr, i, err);
    case ATTR_MESSAGE_DIGEST: return read_message_digest(cms, attr, i, err);
    case ATTR_SIGNING_TIME: return read_signing_time(cms, attr, i, err);
    case ATTR_CDHASHES: return read_cdhashes(cms, attr, i, err);
    case ATTR_CDHASHES2: return read_cdhashes2(cms, attr, i, err);
    default: return SH_E_OK;
    }
}

/* Attribute count, bounded; -1 from OpenSSL means "no attributes". */
static sh_err bounded_count(const sh_cms *cms, int count, uint32_t *out, sh_error *err)
{
    if (count > (int)SH_MAX_CMS_ATTRIBUTES)
        return fail_attr(cms, SH_E_CMS_TOO_MANY_ATTRIBUTES, -1, (uint64_t)count, err);
    *out = count > 0 ? (uint32_t)count : 0;
    return SH_E_OK;
}

sh_err sh_cms_read_signed_attrs(sh_cms *cms, sh_error *err)
{
    sh_err e = bounded_count(cms, CMS_signed_get_attr_count(cms->signer), &cms->n_signed_attrs, err);
    unsigned seen = 0;
    for (uint32_t i = 0; e == SH_E_OK && i < cms->n_signed_attrs; i++) {
        X509_ATTRIBUTE *attr = CMS_signed_get_attr(cms->signer, (int)i);
        attr_id id = identify(attr);
        if (id != ATTR_OTHER && (seen & (1u << id)))
            return fail_attr(cms, SH_E_CMS_ATTRIBUTE_DUPLICATE, i, id, err);
        seen |= 1u << id;
        e = read_signed_attr(cms, id, attr, i, err);
    }
    return e;
}

static sh_err read_timestamp_token(sh_cms *cms, X509_ATTRIBUTE *attr, int64_t i, sh_error *err)
{
    if (cms->has_timestamp)
        return fail_attr(cms, SH_E_CMS_ATTRIBUTE_DUPLICATE, i, ATTR_TIMESTAMP_TOKEN, err);
    ASN1_TYPE *v = NULL;
    sh_err e = single_value(cms, attr, V_ASN1_SEQUENCE, i, &v, err);
    if (e == SH_E_OK) {
        cms->has_timestamp = true;
        cms->timestamp_token = octets_view(v->value.sequence, cms->offset);
    }
    return e;
}

sh_err sh_cms_read_unsigned_attrs(sh_cms *cms, sh_error *err)
{
    sh_err e =
        bounded_count(cms, CMS_unsigned_get_attr_count(cms->signer), &cms->n_unsigned_attrs, err);
    for (uint32_t i = 0; e == SH_E_OK && i < cms->n_unsigned_attrs; i++) {
        X509_ATTRIBUTE *attr = CMS_unsigned_get_attr(cms->signer, (int)i);
        if (identify(attr) == ATTR_TIMESTAMP_TOKEN)
            e = read_timestamp_token(cms, attr, i, err);
    }
    return e;
}
