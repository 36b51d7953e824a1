/* Test PKI and CMS signatures (see cms_builder.h). */
#include "cms_builder.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/ts.h>
#include <openssl/x509v3.h>

static void check(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "cms_builder: %s failed\n", what);
        abort();
    }
}

/* ---- keys and certificates ---- */

EVP_PKEY *test_key_ec(void)
{
    EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    check(key != NULL, "EC key generation");
    return key;
}

static EVP_PKEY *test_key_rsa(void)
{
    EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    check(key != NULL, "RSA key generation");
    return key;
}

static void add_name_entry(X509_NAME *name, const char *field, const char *value)
{
    if (value)
        check(X509_NAME_add_entry_by_txt(name, field, MBSTRING_UTF8, (const unsigned char *)value,
                                         -1, -1, 0),
              "name entry");
}

static void add_conf_ext(X509 *cert, X509V3_CTX *ctx, int nid, const char *value)
{
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, ctx, nid, value);
    check(ext != NULL && X509_add_ext(cert, ext, -1), "extension");
    X509_EXTENSION_free(ext);
}

/* Apple markers carry a DER NULL (05 00), as in Apple's certificates. */
static void add_marker(X509 *cert, const char *oid, bool critical)
{
    static const unsigned char der_null[] = {0x05, 0x00};
    ASN1_OBJECT *obj = OBJ_txt2obj(oid, 1);
    ASN1_OCTET_STRING *value = ASN1_OCTET_STRING_new();
    check(obj && value && ASN1_OCTET_STRING_set(value, der_null, sizeof der_null), "marker");
    X509_EXTENSION *ext = X509_EXTENSION_create_by_OBJ(NULL, obj, critical, value);
    check(ext != NULL && X509_add_ext(cert, ext, -1), "marker extension");
    X509_EXTENSION_free(ext);
    ASN1_OCTET_STRING_free(value);
    ASN1_OBJECT_free(obj);
}

static void add_extensions(X509 *cert, X509 *issuer, const test_cert_spec *s)
{
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, issuer ? issuer : cert, cert, NULL, NULL, 0);
    add_conf_ext(cert, &ctx, NID_basic_constraints, s->ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
    add_conf_ext(cert, &ctx, NID_key_usage,
                 s->ca ? "critical,keyCertSign,cRLSign" : "critical,digitalSignature");
    add_conf_ext(cert, &ctx, NID_subject_key_identifier, "hash");
    add_conf_ext(cert, &ctx, NID_authority_key_identifier, "keyid:always");
    if (s->eku)
        add_conf_ext(cert, &ctx, NID_ext_key_usage, s->eku);
    for (size_t i = 0; i < 4 && s->markers[i]; i++)
        add_marker(cert, s->markers[i], s->markers_critical);
}

X509 *test_cert_make(const test_cert_spec *s)
{
    X509 *cert = X509_new();
    check(cert != NULL && X509_set_version(cert, 2), "X509_new");
    check(ASN1_INTEGER_set(X509_get_serialNumber(cert), s->serial ? s->serial : 1), "serial");
    int64_t nb = s->not_before ? s->not_before : TEST_T2020;
    int64_t na = s->not_after ? s->not_after : TEST_T2040;
    check(ASN1_TIME_set(X509_getm_notBefore(cert), (time_t)nb) != NULL, "notBefore");
    check(ASN1_TIME_set(X509_getm_notAfter(cert), (time_t)na) != NULL, "notAfter");
    X509_NAME *name = X509_get_subject_name(cert);
    add_name_entry(name, "CN", s->cn);
    add_name_entry(name, "OU", s->ou);
    add_name_entry(name, "O", s->o);
    add_name_entry(name, "C", "US");
    check(X509_set_issuer_name(cert, s->issuer ? X509_get_subject_name(s->issuer) : name),
          "issuer name");
    check(X509_set_pubkey(cert, s->key), "public key");
    add_extensions(cert, s->issuer, s);
    EVP_PKEY *signing_key = s->issuer_key ? s->issuer_key : s->key;
    check(X509_sign(cert, signing_key, EVP_sha256()) > 0, "X509_sign");
    return cert;
}

/* ---- the PKI ---- */

static X509 *make_ca(const char *cn, const char *marker, X509 *issuer, EVP_PKEY *issuer_key,
                     EVP_PKEY *key, long serial)
{
    test_cert_spec s = {.cn = cn, .ou = "Test Certification Authority", .o = "Test Inc.",
                        .issuer = issuer, .issuer_key = issuer_key, .key = key, .ca = true,
                        .markers = {marker}, .serial = serial};
    return test_cert_make(&s);
}

void test_pki_init(test_pki *p)
{
    memset(p, 0, sizeof *p);
    p->root_key = test_key_ec();
    p->root = make_ca("Test Root CA", NULL, NULL, NULL, p->root_key, 1);
    p->devid_ca_key = test_key_ec();
    p->devid_ca = make_ca("Developer ID Certification Authority", "1.2.840.113635.100.6.2.6",
                          p->root, p->root_key, p->devid_ca_key, 2);
    p->devid_key = test_key_rsa();
    test_cert_spec devid = {.cn = "Developer ID Application: Test (" TEST_TEAM ")",
                            .ou = TEST_TEAM, .o = "Test", .issuer = p->devid_ca,
                            .issuer_key = p->devid_ca_key, .key = p->devid_key,
                            .markers = {"1.2.840.113635.100.6.1.13", "1.2.840.113635.100.6.1.33"},
                            .markers_critical = true, .eku = "critical,codeSigning", .serial = 3};
    p->devid_leaf = test_cert_make(&devid);
    p->wwdr_key = test_key_ec();
    p->wwdr = make_ca("Apple Worldwide Developer Relations Certification Authority",
                      "1.2.840.113635.100.6.2.1", p->root, p->root_key, p->wwdr_key, 4);
    p->dev_key = test_key_ec();
    test_cert_spec dev = {.cn = "Apple Development: Test Dev (XYZ9876543)", .ou = TEST_TEAM,
                          .o = "Test", .issuer = p->wwdr, .issuer_key = p->wwdr_key,
                          .key = p->dev_key,
                          .markers = {"1.2.840.113635.100.6.1.2", "1.2.840.113635.100.6.1.12"},
                          .eku = "critical,codeSigning", .serial = 5};
    p->dev_leaf = test_cert_make(&dev);
    p->ts_ca_key = test_key_ec();
    p->ts_ca = make_ca("Test Timestamp Certification Authority", "1.2.840.113635.100.6.2.9",
                       p->root, p->root_key, p->ts_ca_key, 6);
    p->tsa_key = test_key_ec();
    test_cert_spec tsa = {.cn = "Test Timestamp Signer", .o = "Test Inc.", .issuer = p->ts_ca,
                          .issuer_key = p->ts_ca_key, .key = p->tsa_key,
                          .eku = "critical,timeStamping", .serial = 7};
    p->tsa = test_cert_make(&tsa);
    p->other_root_key = test_key_ec();
    p->other_root = make_ca("Other Root CA", NULL, NULL, NULL, p->other_root_key, 8);
    p->devid_chain[0] = p->devid_ca;
    p->devid_chain[1] = p->root;
    p->tsa_chain[0] = p->ts_ca;
}

void test_pki_free(test_pki *p)
{
    X509 *certs[] = {p->root, p->devid_ca, p->devid_leaf, p->wwdr, p->dev_leaf,
                     p->ts_ca, p->tsa, p->other_root};
    EVP_PKEY *keys[] = {p->root_key, p->devid_ca_key, p->devid_key, p->wwdr_key,
                        p->dev_key, p->ts_ca_key, p->tsa_key, p->other_root_key};
    for (size_t i = 0; i < sizeof certs / sizeof certs[0]; i++)
        X509_free(certs[i]);
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        EVP_PKEY_free(keys[i]);
    memset(p, 0, sizeof *p);
}

/* ---- attributes ---- */

static void add_signing_time(CMS_SignerInfo *si, int64_t t)
{
    ASN1_TIME *time = ASN1_TIME_set(NULL, (time_t)t);
    check(time != NULL, "signing time");
    check(CMS_signed_add1_attr_by_NID(si, NID_pkcs9_signingTime, time->type, time, -1),
          "signingTime attribute");
    ASN1_TIME_free(time);
}

static void add_cdhashes_plist(CMS_SignerInfo *si, const char *text, size_t len)
{
    ASN1_OBJECT *obj = OBJ_txt2obj("1.2.840.113635.100.9.1", 1);
    check(obj && CMS_signed_add1_attr_by_OBJ(si, obj, V_ASN1_OCTET_STRING, text, (int)len),
          "CDHashes attribute");
    ASN1_OBJECT_free(obj);
}

/* SEQUENCE { OID, OCTET STRING } */
static sig_buf agile_hash_der(const test_cdhash2 *h)
{
    ASN1_OBJECT *obj = h->nid != NID_undef ? OBJ_dup(OBJ_nid2obj(h->nid)) : OBJ_txt2obj(h->oid_text, 1);
    ASN1_OCTET_STRING *value = ASN1_OCTET_STRING_new();
    ASN1_TYPE *t0 = ASN1_TYPE_new(), *t1 = ASN1_TYPE_new();
    ASN1_SEQUENCE_ANY *seq = sk_ASN1_TYPE_new_null();
    check(obj && value && t0 && t1 && seq && ASN1_OCTET_STRING_set(value, h->hash, (int)h->len),
          "agile hash");
    ASN1_TYPE_set(t0, V_ASN1_OBJECT, obj);
    ASN1_TYPE_set(t1, V_ASN1_OCTET_STRING, value);
    check(sk_ASN1_TYPE_push(seq, t0) && sk_ASN1_TYPE_push(seq, t1), "agile hash push");
    unsigned char *der = NULL;
    int len = i2d_ASN1_SEQUENCE_ANY(seq, &der);
    check(len > 0, "agile hash DER");
    sig_buf out = {0};
    sig_append(&out, der, (size_t)len);
    OPENSSL_free(der);
    sk_ASN1_TYPE_pop_free(seq, ASN1_TYPE_free);
    return out;
}

static void add_cdhashes2(CMS_SignerInfo *si, const test_cdhash2 *hashes, size_t n)
{
    ASN1_OBJECT *obj = OBJ_txt2obj("1.2.840.113635.100.9.2", 1);
    X509_ATTRIBUTE *attr = NULL;
    for (size_t i = 0; i < n; i++) {
        sig_buf der = agile_hash_der(&hashes[i]);
        if (attr == NULL)
            attr = X509_ATTRIBUTE_create_by_OBJ(NULL, obj, V_ASN1_SEQUENCE, der.data, (int)der.len);
        else
            check(X509_ATTRIBUTE_set1_data(attr, V_ASN1_SEQUENCE, der.data, (int)der.len),
                  "CDHashes2 value");
        sig_buf_free(&der);
    }
    check(attr != NULL && CMS_signed_add1_attr(si, attr), "CDHashes2 attribute");
    X509_ATTRIBUTE_free(attr);
    ASN1_OBJECT_free(obj);
}

/* ---- re-signing edited signed attributes (DER SET OF, sorted) ---- */

typedef struct der_item {
    unsigned char *der;
    int len;
} der_item;

static int compare_der(const void *a, const void *b)
{
    const der_item *x = a, *y = b;
    int n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->der, y->der, (size_t)n);
    return c ? c : x->len - y->len;
}

static void append_der_length(sig_buf *b, size_t len)
{
    if (len < 0x80) {
        sig_append_u8(b, (uint8_t)len);
    } else if (len < 0x100) {
        sig_append_u8(b, 0x81);
        sig_append_u8(b, (uint8_t)len);
    } else {
        sig_append_u8(b, 0x82);
        sig_append_u16(b, (uint16_t)len);
    }
}

void test_cms_resign(CMS_SignerInfo *si, EVP_PKEY *key, const EVP_MD *md)
{
    int n = CMS_signed_get_attr_count(si);
    check(n > 0 && n < 64, "signed attributes to re-sign");
    der_item items[64];
    size_t total = 0;
    for (int i = 0; i < n; i++) {
        items[i].der = NULL;
        items[i].len = i2d_X509_ATTRIBUTE(CMS_signed_get_attr(si, i), &items[i].der);
        check(items[i].len > 0, "attribute DER");
        total += (size_t)items[i].len;
    }
    qsort(items, (size_t)n, sizeof items[0], compare_der);
    sig_buf set = {0};
    sig_append_u8(&set, 0x31);
    append_der_length(&set, total);
    for (int i = 0; i < n; i++) {
        sig_append(&set, items[i].der, (size_t)items[i].len);
        OPENSSL_free(items[i].der);
    }
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    size_t siglen = 0;
    check(ctx && EVP_DigestSignInit(ctx, NULL, md ? md : EVP_sha256(), NULL, key) == 1 &&
              EVP_DigestSign(ctx, NULL, &siglen, set.data, set.len) == 1,
          "re-sign size");
    unsigned char *sig = OPENSSL_malloc(siglen);
    check(sig && EVP_DigestSign(ctx, sig, &siglen, set.data, set.len) == 1, "re-sign");
    check(ASN1_STRING_set(CMS_SignerInfo_get0_signature(si), sig, (int)siglen), "signature");
    OPENSSL_free(sig);
    EVP_MD_CTX_free(ctx);
    sig_buf_free(&set);
}

/* ---- timestamps ---- */

static int fixed_time(TS_RESP_CTX *ctx, void *data, long *sec, long *usec)
{
    (void)ctx;
    *sec = (long)*(const int64_t *)data;
    *usec = 0;
    return 1;
}

static BIO *timestamp_request(const uint8_t *digest, size_t len)
{
    TS_REQ *req = TS_REQ_new();
    TS_MSG_IMPRINT *imprint = TS_MSG_IMPRINT_new();
    X509_ALGOR *algo = X509_ALGOR_new();
    check(req && imprint && algo, "TS_REQ");
    X509_ALGOR_set0(algo, OBJ_nid2obj(NID_sha256), V_ASN1_NULL, NULL);
    check(TS_MSG_IMPRINT_set_algo(imprint, algo) && TS_MSG_IMPRINT_set_msg(imprint, (unsigned char *)digest, (int)len) &&
              TS_REQ_set_version(req, 1) && TS_REQ_set_msg_imprint(req, imprint) &&
              TS_REQ_set_cert_req(req, 1),
          "TS_REQ fields");
    BIO *bio = BIO_new(BIO_s_mem());
    check(bio && i2d_TS_REQ_bio(bio, req), "TS_REQ DER");
    X509_ALGOR_free(algo);
    TS_MSG_IMPRINT_free(imprint);
    TS_REQ_free(req);
    return bio;
}

sig_buf test_timestamp_token(X509 *tsa, EVP_PKEY *tsa_key, X509 *const *certs, size_t ncerts,
                             const uint8_t *data, size_t len, int64_t t)
{
    uint8_t digest[32];
    check(EVP_Digest(data, len, digest, NULL, EVP_sha256(), NULL), "imprint");
    BIO *request = timestamp_request(digest, sizeof digest);
    TS_RESP_CTX *ctx = TS_RESP_CTX_new();
    STACK_OF(X509) *extra = sk_X509_new_null();
    ASN1_OBJECT *policy = OBJ_txt2obj("1.2.3.4.1", 1);
    check(ctx && extra && policy, "TS_RESP_CTX");
    for (size_t i = 0; i < ncerts; i++)
        check(sk_X509_push(extra, certs[i]), "TSA certs");
    check(TS_RESP_CTX_set_signer_cert(ctx, tsa) && TS_RESP_CTX_set_signer_key(ctx, tsa_key) &&
              TS_RESP_CTX_set_certs(ctx, extra) && TS_RESP_CTX_set_def_policy(ctx, policy) &&
              TS_RESP_CTX_add_md(ctx, EVP_sha256()) &&
              TS_RESP_CTX_set_signer_digest(ctx, EVP_sha256()),
          "TS_RESP_CTX setup");
    TS_RESP_CTX_set_time_cb(ctx, fixed_time, &t);
    TS_RESP *resp = TS_RESP_create_response(ctx, request);
    PKCS7 *token = resp ? TS_RESP_get_token(resp) : NULL;
    unsigned char *der = NULL;
    int der_len = token ? i2d_PKCS7(token, &der) : -1;
    check(der_len > 0, "timestamp token");
    sig_buf out = {0};
    sig_append(&out, der, (size_t)der_len);
    OPENSSL_free(der);
    TS_RESP_free(resp);
    ASN1_OBJECT_free(policy);
    sk_X509_free(extra);
    TS_RESP_CTX_free(ctx);
    BIO_free(request);
    return out;
}

void test_cms_set_timestamp(CMS_SignerInfo *si, const sig_buf *token)
{
    int at;
    while ((at = CMS_unsigned_get_attr_by_NID(si, NID_id_smime_aa_timeStampToken, -1)) >= 0)
        X509_ATTRIBUTE_free(CMS_unsigned_delete_attr(si, at));
    check(CMS_unsigned_add1_attr_by_NID(si, NID_id_smime_aa_timeStampToken, V_ASN1_SEQUENCE,
                                        token->data, (int)token->len),
          "timestamp attribute");
}

static void add_timestamp(CMS_SignerInfo *si, const test_cms_spec *s)
{
    ASN1_OCTET_STRING *sig = CMS_SignerInfo_get0_signature(si);
    static const uint8_t other[] = "not the signature";
    const uint8_t *data = s->ts_wrong_imprint ? other : ASN1_STRING_get0_data(sig);
    size_t len = s->ts_wrong_imprint ? sizeof other : (size_t)ASN1_STRING_length(sig);
    sig_buf token = test_timestamp_token(s->tsa, s->tsa_key, s->tsa_certs, s->ntsa_certs, data,
                                         len, s->ts_time ? s->ts_time : TEST_T2024);
    test_cms_set_timestamp(si, &token);
    sig_buf_free(&token);
}

/* ---- the CMS ---- */

static void add_signed_attrs(CMS_SignerInfo *si, const test_cms_spec *s)
{
    add_signing_time(si, s->signing_time ? s->signing_time : TEST_T2024);
    if (s->cdhashes_plist)
        add_cdhashes_plist(si, s->cdhashes_plist,
                           s->cdhashes_plist_len ? s->cdhashes_plist_len : strlen(s->cdhashes_plist));
    if (s->ncdhashes2)
        add_cdhashes2(si, s->cdhashes2, s->ncdhashes2);
}

static void strip_signing_time(CMS_SignerInfo *si, const test_cms_spec *s)
{
    int at = CMS_signed_get_attr_by_NID(si, NID_pkcs9_signingTime, -1);
    check(at >= 0, "signingTime to strip");
    X509_ATTRIBUTE_free(CMS_signed_delete_attr(si, at));
    test_cms_resign(si, s->key, s->md);
}

CMS_ContentInfo *test_cms_make(const test_cms_spec *s)
{
    unsigned flags = CMS_DETACHED | CMS_BINARY | CMS_PARTIAL | CMS_NOSMIMECAP;
    unsigned signer_flags = flags | (s->no_attributes ? CMS_NOATTR : 0) |
                            (s->no_certs ? CMS_NOCERTS : 0);
    CMS_ContentInfo *cms = CMS_sign(NULL, NULL, NULL, NULL, flags);
    check(cms != NULL, "CMS_sign");
    CMS_SignerInfo *si =
        CMS_add1_signer(cms, s->signer, s->key, s->md ? s->md : EVP_sha256(), signer_flags);
    check(si != NULL, "CMS_add1_signer");
    for (size_t i = 0; i < s->ncerts; i++)
        check(CMS_add1_cert(cms, s->certs[i]), "CMS_add1_cert");
    if (!s->no_attributes)
        add_signed_attrs(si, s);
    BIO *content = BIO_new_mem_buf(s->content, (int)s->content_len);
    check(content && CMS_final(cms, content, NULL, flags), "CMS_final");
    BIO_free(content);
    if (s->no_signing_time)
        strip_signing_time(si, s);
    if (s->tsa)
        add_timestamp(si, s);
    return cms;
}

sig_buf test_cms_der(CMS_ContentInfo *cms)
{
    unsigned char *der = NULL;
    int len = i2d_CMS_ContentInfo(cms, &der);
    check(len > 0, "CMS DER");
    sig_buf out = {0};
    sig_append(&out, der, (size_t)len);
    OPENSSL_free(der);
    return out;
}

sig_buf test_cms_build(const test_cms_spec *s)
{
    CMS_ContentInfo *cms = test_cms_make(s);
    sig_buf out = test_cms_der(cms);
    CMS_ContentInfo_free(cms);
    return out;
}

char *test_cdhashes_plist(const uint8_t (*hashes)[20], size_t n)
{
    sig_buf b = {0};
    static const char head[] =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" "
        "\"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">\n"
        "<plist version=\"1.0\">\n<dict>\n\t<key>cdhashes</key>\n\t<array>\n";
    static const char tail[] = "\t</array>\n</dict>\n</plist>\n";
    sig_append(&b, head, strlen(head));
    for (size_t i = 0; i < n; i++) {
        unsigned char b64[40];
        int len = EVP_EncodeBlock(b64, hashes[i], 20);
        sig_append(&b, "\t\t<data>\n\t\t", 11);
        sig_append(&b, b64, (size_t)len);
        sig_append(&b, "\n\t\t</data>\n", 11);
    }
    sig_append(&b, tail, strlen(tail));
    sig_append_u8(&b, 0);
    return (char *)b.data;
}

/* ---- CodeDirectories ---- */

static void make_cd(test_code *c, uint32_t i, unsigned hash_type, const char *team, uint32_t flags)
{
    sig_cd_spec spec;
    sig_cd_defaults(&spec, 0x20400, hash_type, c->code, sizeof c->code);
    spec.identifier = "com.example.cmstest";
    spec.team_id = team;
    spec.flags = flags;
    c->blobs[i] = sig_build_cd(&spec, NULL);
    sh_cursor blob = sh_cursor_make(c->blobs[i].data, c->blobs[i].len);
    sh_error err;
    check(sh_codedir_parse(&blob, &c->cds[i], &err) == SH_E_OK, "CodeDirectory parse");
}

void test_code_make(test_code *c, bool dual, const char *team, uint32_t flags)
{
    memset(c, 0, sizeof *c);
    sig_fill_code(c->code, sizeof c->code, 7);
    make_cd(c, 0, dual ? 1u : 2u, team, flags);
    if (dual)
        make_cd(c, 1, 2u, team, flags);
    c->ncds = dual ? 2 : 1;
}

void test_code_free(test_code *c)
{
    for (uint32_t i = 0; i < 2; i++)
        sig_buf_free(&c->blobs[i]);
}

sh_cms_code test_code_view(const test_code *c)
{
    sh_cms_code v = {.cds = c->cds, .ncds = c->ncds, .best = 0};
    for (uint32_t i = 1; i < c->ncds; i++)
        if (sh_hash_rank(c->cds[i].hash_type) > sh_hash_rank(c->cds[v.best].hash_type))
            v.best = i;
    return v;
}

char *test_code_plist(const test_code *c)
{
    uint8_t hashes[2][20];
    for (uint32_t i = 0; i < c->ncds; i++) /* built in hash-type order already */
        memcpy(hashes[i], c->cds[i].cdhash, 20);
    return test_cdhashes_plist((const uint8_t(*)[20])hashes, c->ncds);
}
