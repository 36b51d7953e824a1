/* Hostile CMS signatures: each one must fail with its own error, at the right stage, without
 * leaks (run under ASan/LSan).  Inputs are a real CMS cut and padded, garbage, and signatures
 * made with the test PKI then edited with OpenSSL's CMS API. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/bio.h>

#include "cms.h"
#include "cms_builder.h"
#include "macho.h"
#include "plist_guard.h"
#include "signature.h"

/* The test PKI, made once per process by the group setup and only read by the tests. */
static test_pki pki;

static int setup_pki(void **state)
{
    (void)state;
    test_pki_init(&pki);
    return 0;
}

static int teardown_pki(void **state)
{
    (void)state;
    test_pki_free(&pki);
    return 0;
}

/* ---- helpers ---- */

static sh_err parse_bytes(const uint8_t *p, size_t n, sh_error *err)
{
    uint8_t *copy = sig_exact_copy(p, n); /* exact size: ASan sees any over-read */
    sh_cursor c = sh_cursor_make(copy, n);
    sh_cms cms;
    sh_err e = sh_cms_parse(&c, &cms, err);
    sh_cms_free(&cms);
    free(copy);
    return e;
}

static sh_err parse_buf(const sig_buf *b, sh_error *err)
{
    return parse_bytes(b->data, b->len, err);
}

/* Parses (must succeed) and verifies over code with the test root trusted. */
static sh_err verify_buf(const sig_buf *b, const test_code *code, sh_cms_report *report,
                         sh_error *err)
{
    sh_cursor c = sh_cursor_make(b->data, b->len);
    sh_cms cms;
    sh_err e = sh_cms_parse(&c, &cms, err);
    assert_int_equal(e, SH_E_OK);
    sh_cms_options opt = {.now = TEST_T2025,
                          .trust = {.anchor_x509 = &pki.root, .n_anchor_x509 = 1}};
    sh_cms_code view = test_code_view(code);
    e = sh_cms_verify(&cms, &view, &opt, report, err);
    sh_cms_free(&cms);
    return e;
}

static test_cms_spec base_spec(const test_code *code)
{
    test_cms_spec s = {.signer = pki.devid_leaf, .key = pki.devid_key, .certs = pki.devid_chain,
                       .ncerts = 2, .content = code->blobs[0].data,
                       .content_len = code->blobs[0].len};
    return s;
}

static CMS_SignerInfo *signer_of(CMS_ContentInfo *cms)
{
    return sk_CMS_SignerInfo_value(CMS_get0_SignerInfos(cms), 0);
}

static void add_raw_signed_attr(CMS_SignerInfo *si, const char *oid, int type, const void *data,
                                int len)
{
    ASN1_OBJECT *obj = OBJ_txt2obj(oid, 1);
    assert_non_null(obj);
    assert_true(CMS_signed_add1_attr_by_OBJ(si, obj, type, data, len));
    ASN1_OBJECT_free(obj);
}

static void delete_signed_attr(CMS_SignerInfo *si, int nid)
{
    int at = CMS_signed_get_attr_by_NID(si, nid, -1);
    assert_true(at >= 0);
    X509_ATTRIBUTE_free(CMS_signed_delete_attr(si, at));
}

/* A signature with the spec, edited by edit(si) after signing, as DER. */
static sig_buf edited(const test_cms_spec *spec, void (*edit)(CMS_SignerInfo *si))
{
    CMS_ContentInfo *cms = test_cms_make(spec);
    if (edit)
        edit(signer_of(cms));
    sig_buf der = test_cms_der(cms);
    CMS_ContentInfo_free(cms);
    return der;
}

/* The real fastlane CMS (2004 bytes, BER, one certificate). */
static sig_buf real_cms(void)
{
    const char *shared = getenv("SH_SHARED_DIR");
    char path[2048];
    snprintf(path, sizeof path, "%s/external-samples/macho/fastlane_very_capable_app_selfsigned",
             shared ? shared : "../shared");
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open %s", path);
    sig_buf file = {0};
    uint8_t chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        sig_append(&file, chunk, n);
    fclose(f);
    sh_macho_file m;
    sh_error err;
    sh_cursor data, payload;
    sh_signature sig;
    assert_int_equal(sh_macho_parse(file.data, file.len, NULL, &m, &err), SH_E_OK);
    assert_int_equal(sh_macho_signature(&m.slices[0], &data, &err), SH_E_OK);
    assert_int_equal(sh_signature_parse(&data, &sig, &err), SH_E_OK);
    assert_true(sh_cursor_tail(&sh_signature_cms(&sig)->blob, 8, &payload));
    sig_buf out = {0};
    sig_append(&out, payload.p, payload.len);
    sh_macho_free(&m);
    sig_buf_free(&file);
    return out;
}

/* ---- decoding ---- */

static void every_prefix_of_a_real_cms_is_malformed(void **state)
{
    (void)state;
    sig_buf cms = real_cms();
    assert_int_equal(cms.len, 2004);
    sh_error err;
    assert_int_equal(parse_buf(&cms, &err), SH_E_OK);
    for (size_t k = 1; k < cms.len; k++) {
        if (parse_bytes(cms.data, k, &err) != SH_E_CMS_MALFORMED)
            fail_msg("prefix %zu: %s", k, sh_err_name(err.code));
        assert_int_equal(sh_err_errsec(err.code), errSecCSSignatureInvalid);
    }
    sig_buf_free(&cms);
}

static void garbage_is_malformed(void **state)
{
    (void)state;
    static const uint8_t texts[][12] = {"hello world", {0x30, 0x80, 0x00}, {0x30, 0x82, 0xff, 0xff},
                                        {0x06, 0x03, 0x2a, 0x86, 0x48}, {0xff}};
    static const size_t lens[] = {11, 3, 4, 5, 1};
    sh_error err;
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++)
        assert_int_equal(parse_bytes(texts[i], lens[i], &err), SH_E_CMS_MALFORMED);
    uint8_t noise[512];
    sig_fill_code(noise, sizeof noise, 99);
    assert_int_equal(parse_bytes(noise, sizeof noise, &err), SH_E_CMS_MALFORMED);
}

static void trailing_bytes(void **state)
{
    (void)state;
    sig_buf cms = real_cms();
    sh_error err;
    sig_append(&cms, "\0\0\0", 3); /* zero padding is tolerated and counted */
    sh_cursor c = sh_cursor_make(cms.data, cms.len);
    sh_cms parsed;
    assert_int_equal(sh_cms_parse(&c, &parsed, &err), SH_E_OK);
    assert_int_equal(parsed.padding, 3);
    assert_int_equal(parsed.size, 2004);
    sh_cms_free(&parsed);
    sig_append_u8(&cms, 0x01);
    assert_int_equal(parse_buf(&cms, &err), SH_E_CMS_TRAILING_DATA);
    assert_int_equal(err.value, 4);
    sig_buf_free(&cms);
}

static void too_large(void **state)
{
    (void)state;
    size_t n = SH_MAX_CMS_SIZE + 1;
    uint8_t *big = calloc(1, n);
    assert_non_null(big);
    big[0] = 0x30;
    sh_error err;
    assert_int_equal(parse_bytes(big, n, &err), SH_E_CMS_TOO_LARGE);
    assert_int_equal(sh_err_errsec(err.code), errSecCSCMSTooLarge);
    free(big);
}

static void blob_wrapper_framing(void **state)
{
    (void)state;
    static const uint8_t wrong_magic[] = {0xfa, 0xde, 0x0c, 0x02, 0, 0, 0, 8};
    static const uint8_t short_length[] = {0xfa, 0xde, 0x0b, 0x01, 0, 0, 0, 4};
    static const uint8_t long_length[] = {0xfa, 0xde, 0x0b, 0x01, 0, 0, 1, 0};
    sh_cms cms;
    sh_error err;
    sh_cursor c = sh_cursor_make(wrong_magic, sizeof wrong_magic);
    assert_int_equal(sh_cms_parse_wrapper(&c, &cms, &err), SH_E_BLOB_BAD_MAGIC);
    c = sh_cursor_make(short_length, sizeof short_length);
    assert_int_equal(sh_cms_parse_wrapper(&c, &cms, &err), SH_E_BLOB_BAD_LENGTH);
    c = sh_cursor_make(long_length, sizeof long_length);
    assert_int_equal(sh_cms_parse_wrapper(&c, &cms, &err), SH_E_BLOB_TRUNCATED);
}

/* ---- SignedData shape ---- */

static void not_signed_data(void **state)
{
    (void)state;
    BIO *in = BIO_new_mem_buf("data", 4);
    CMS_ContentInfo *cms = CMS_data_create(in, CMS_BINARY);
    sig_buf der = test_cms_der(cms);
    sh_error err;
    assert_int_equal(parse_buf(&der, &err), SH_E_CMS_NOT_SIGNED_DATA);
    assert_int_equal(err.value, NID_pkcs7_data);
    sig_buf_free(&der);
    CMS_ContentInfo_free(cms);
    BIO_free(in);
}

static void wrong_encapsulated_content_type(void **state)
{
    (void)state;
    test_code code;
    test_code_make(&code, false, TEST_TEAM, 0);
    test_cms_spec spec = base_spec(&code);
    CMS_ContentInfo *cms = CMS_sign(NULL, NULL, NULL, NULL, CMS_DETACHED | CMS_PARTIAL);
    assert_true(CMS_set1_eContentType(cms, OBJ_nid2obj(NID_id_smime_ct_TSTInfo)));
    assert_non_null(CMS_add1_signer(cms, spec.signer, spec.key, EVP_sha256(), CMS_PARTIAL));
    BIO *in = BIO_new_mem_buf(spec.content, (int)spec.content_len);
    assert_true(CMS_final(cms, in, NULL, CMS_DETACHED | CMS_BINARY));
    sig_buf der = test_cms_der(cms);
    sh_error err;
    assert_int_equal(parse_buf(&der, &err), SH_E_CMS_ECONTENT_TYPE);
    sig_buf_free(&der);
    BIO_free(in);
    CMS_ContentInfo_free(cms);
    test_code_free(&code);
}

static void attached_content(void **state)
{
    (void)state;
    test_code code;
    test_code_make(&code, false, TEST_TEAM, 0);
    BIO *in = BIO_new_mem_buf(code.blobs[0].data, (int)code.blobs[0].len);
    CMS_ContentInfo *cms = CMS_sign(pki.devid_leaf, pki.devid_key, NULL, in, CMS_BINARY);
    assert_non_null(cms);
    sig_buf der = test_cms_der(cms);
    sh_error err;
    assert_int_equal(parse_buf(&der, &err), SH_E_CMS_NOT_DETACHED);
    sig_buf_free(&der);
    CMS_ContentInfo_free(cms);
    BIO_free(in);
    test_code_free(&code);
}

static void no_signer(void **state)
{
    (void)state;
    STACK_OF(X509) *certs = sk_X509_new_null();
    sk_X509_push(certs, pki.devid_leaf);
    CMS_ContentInfo *cms = CMS_sign(NULL, NULL, certs, NULL, CMS_DETACHED | CMS_PARTIAL);
    assert_non_null(cms);
    sig_buf der = test_cms_der(cms);
    sh_error err;
    assert_int_equal(parse_buf(&der, &err), SH_E_CMS_NO_SIGNER);
    sig_buf_free(&der);
    CMS_ContentInfo_free(cms);
    sk_X509_free(certs);
}

static void two_signers(void **state)
{
    (void)state;
    test_code code;
    test_code_make(&code, false, TEST_TEAM, 0);
    unsigned flags = CMS_DETACHED | CMS_BINARY | CMS_PARTIAL;
    CMS_ContentInfo *cms = CMS_sign(NULL, NULL, NULL, NULL, flags);
    assert_non_null(CMS_add1_signer(cms, pki.devid_leaf, pki.devid_key, EVP_sha256(), flags));
    assert_non_null(CMS_add1_signer(cms, pki.dev_leaf, pki.dev_key, EVP_sha256(), flags));
    BIO *in = BIO_new_mem_buf(code.blobs[0].data, (int)code.blobs[0].len);
    assert_true(CMS_final(cms, in, NULL, flags));
    sig_buf der = test_cms_der(cms);
    sh_error err;
    assert_int_equal(parse_buf(&der, &err), SH_E_CMS_MULTIPLE_SIGNERS);
    assert_int_equal(err.value, 2);
    sig_buf_free(&der);
    BIO_free(in);
    CMS_ContentInfo_free(cms);
    test_code_free(&code);
}

static void too_many_certificates(void **state)
{
    (void)state;
    test_code code;
    test_code_make(&code, false, TEST_TEAM, 0);
    X509 *certs[SH_MAX_CMS_CERTS + 1];
    for (size_t i = 0; i < SH_MAX_CMS_CERTS + 1; i++) {
        test_cert_spec s = {.cn = "filler", .issuer = pki.root, .issuer_key = pki.root_key,
                            .key = pki.dev_key, .serial = (long)(1000 + i)};
        certs[i] = test_cert_make(&s);
    }
    test_cms_spec spec = base_spec(&code);
    spec.certs = certs;
    spec.ncerts = SH_MAX_CMS_CERTS; /* plus the signer's: one past the limit */
    sig_buf der = test_cms_build(&spec);
    sh_error err;
    assert_int_equal(parse_buf(&der, &err), SH_E_CMS_TOO_MANY_CERTS);
    assert_int_equal(err.value, SH_MAX_CMS_CERTS + 1);
    sig_buf_free(&der);
    for (size_t i = 0; i < SH_MAX_CMS_CERTS + 1; i++)
        X509_free(certs[i]);
    test_code_free(&code);
}

/* ---- signed attributes ---- */

static void add_second_message_digest(CMS_SignerInfo *si)
{
    static const uint8_t zeros[32];
    assert_true(CMS_signed_add1_attr_by_NID(si, NID_pkcs9_messageDigest, V_ASN1_OCTET_STRING,
                                            zeros, 32));
}

static void add_too_many_attributes(CMS_SignerInfo *si)
{
    for (unsigned i = 0; i < SH_MAX_CMS_ATTRIBUTES; i++) {
        char oid[32];
        snprintf(oid, sizeof oid, "1.3.6.1.4.1.99999.%u", i);
        add_raw_signed_attr(si, oid, V_ASN1_OCTET_STRING, "x", 1);
    }
}

static void two_valued_content_type(CMS_SignerInfo *si)
{
    int at = CMS_signed_get_attr_by_NID(si, NID_pkcs9_contentType, -1);
    X509_ATTRIBUTE *attr = CMS_signed_get_attr(si, at);
    assert_true(X509_ATTRIBUTE_set1_data(attr, V_ASN1_OBJECT, OBJ_nid2obj(NID_pkcs7_data), -1));
}

static void signing_time_as_octets(CMS_SignerInfo *si)
{
    delete_signed_attr(si, NID_pkcs9_signingTime);
    assert_true(CMS_signed_add1_attr_by_NID(si, NID_pkcs9_signingTime, V_ASN1_OCTET_STRING,
                                            "20240101", 8));
}

static void signed_attribute_shapes(void **state)
{
    (void)state;
    static const struct {
        void (*edit)(CMS_SignerInfo *si);
        sh_err expected;
    } cases[] = {
        {add_second_message_digest, SH_E_CMS_ATTRIBUTE_DUPLICATE},
        {add_too_many_attributes, SH_E_CMS_TOO_MANY_ATTRIBUTES},
        {two_valued_content_type, SH_E_CMS_ATTRIBUTE_VALUE_COUNT},
        {signing_time_as_octets, SH_E_CMS_ATTRIBUTE_TYPE},
    };
    test_code code;
    test_code_make(&code, false, TEST_TEAM, 0);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        test_cms_spec spec = base_spec(&code);
        sig_buf der = edited(&spec, cases[i].edit);
        sh_error err;
        if (parse_buf(&der, &err) != cases[i].expected)
            fail_msg("case %zu: %s", i, sh_err_name(err.code));
        assert_int_equal(sh_err_errsec(err.code), errSecCSSignatureInvalid);
        sig_buf_free(&der);
    }
    test_code_free(&code);
}

static void drop_message_digest(CMS_SignerInfo *si)
{
    delete_signed_attr(si, NID_pkcs9_messageDigest);
}

static void drop_content_type(CMS_SignerInfo *si)
{
    delete_signed_attr(si, NID_pkcs9_contentType);
}

static void retype_content(CMS_SignerInfo *si)
{
    delete_signed_attr(si, NID_pkcs9_contentType);
    assert_true(CMS_signed_add1_attr_by_NID(si, NID_pkcs9_contentType, V_ASN1_OBJECT,
                                            OBJ_nid2obj(NID_pkcs7_signed), -1));
}

static void flip_signature(CMS_SignerInfo *si)
{
    ASN1_OCTET_STRING *sig = CMS_SignerInfo_get0_signature(si);
    uint8_t *copy = sig_exact_copy(ASN1_STRING_get0_data(sig), (size_t)ASN1_STRING_length(sig));
    copy[10] ^= 0x01;
    assert_true(ASN1_STRING_set(sig, copy, ASN1_STRING_length(sig)));
    free(copy);
}

static void add_unsigned_other(CMS_SignerInfo *si)
{
    assert_true(CMS_unsigned_add1_attr_by_NID(si, NID_pkcs9_countersignature, V_ASN1_OCTET_STRING,
                                              "x", 1));
}

static void signer_checks(void **state)
{
    (void)state;
    static const struct {
        void (*edit)(CMS_SignerInfo *si);
        sh_err expected;
    } cases[] = {
        {drop_message_digest, SH_E_CMS_NO_MESSAGE_DIGEST},
        {drop_content_type, SH_E_CMS_NO_CONTENT_TYPE},
        {retype_content, SH_E_CMS_CONTENT_TYPE_MISMATCH},
        {flip_signature, SH_E_CMS_SIGNATURE_INVALID},
        {add_unsigned_other, SH_E_CMS_UNSIGNED_ATTR_NOT_TIMESTAMP},
    };
    test_code code;
    test_code_make(&code, false, TEST_TEAM, 0);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        test_cms_spec spec = base_spec(&code);
        sig_buf der = edited(&spec, cases[i].edit);
        sh_cms_report report;
        sh_error err;
        if (verify_buf(&der, &code, &report, &err) != cases[i].expected)
            fail_msg("case %zu: %s", i, sh_err_name(err.code));
        assert_int_equal(report.failed_stage, SH_CMS_STAGE_SIGNATURE);
        assert_int_equal(sh_err_errsec(err.code), errSecCSSignatureFailed);
        sig_buf_free(&der);
    }
    test_code_free(&code);
}

static void signer_certificate_missing(void **state)
{
    (void)state;
    test_code code;
    test_code_make(&code, false, TEST_TEAM, 0);
    test_cms_spec spec = base_spec(&code);
    spec.no_certs = true;
    spec.ncerts = 0;
    sig_buf der = test_cms_build(&spec);
    sh_cms_report report;
    sh_error err;
    assert_int_equal(verify_buf(&der, &code, &report, &err), SH_E_CMS_SIGNER_CERT_MISSING);
    assert_false(report.has_leaf);
    sig_buf_free(&der);
    test_code_free(&code);
}

static void unsupported_digest(void **state)
{
    (void)state;
    test_code code;
    test_code_make(&code, false, TEST_TEAM, 0);
    test_cms_spec spec = base_spec(&code);
    spec.md = EVP_md5();
    sig_buf der = test_cms_build(&spec);
    sh_cms_report report;
    sh_error err;
    assert_int_equal(verify_buf(&der, &code, &report, &err), SH_E_CMS_UNSUPPORTED_DIGEST);
    assert_int_equal(sh_err_errsec(err.code), errSecCSUnsupportedDigestAlgorithm);
    assert_int_equal(err.value, NID_md5);
    sig_buf_free(&der);
    test_code_free(&code);
}

/* ---- CDHashes plist ---- */

static sh_err parse_with_plist(const char *text, sh_error *err)
{
    test_code code;
    test_code_make(&code, false, TEST_TEAM, 0);
    test_cms_spec spec = base_spec(&code);
    spec.cdhashes_plist = text;
    sig_buf der = test_cms_build(&spec);
    sh_err e = parse_buf(&der, err);
    sig_buf_free(&der);
    test_code_free(&code);
    return e;
}

#define PLIST_HEAD "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<plist version=\"1.0\">\n"

static void cdhashes_plist_hostile(void **state)
{
    (void)state;
    sh_error err;
    assert_int_equal(parse_with_plist("not a plist at all", &err), SH_E_CMS_CDHASHES_NOT_PLIST);
    assert_int_equal(err.value, SH_E_PLIST_XML_SYNTAX);
    assert_int_equal(sh_err_errsec(err.code), errSecCSBadDictionaryFormat);
    assert_int_equal(parse_with_plist(PLIST_HEAD "<dict><key>a</key></dict></plist>", &err),
                     SH_E_CMS_CDHASHES_NOT_PLIST);
    assert_int_equal(parse_with_plist(PLIST_HEAD "<array><data>AAAA</data></array></plist>", &err),
                     SH_E_CMS_CDHASHES_NOT_DICT);
    assert_int_equal(parse_with_plist(PLIST_HEAD "<dict><key>hashes</key><array/></dict></plist>",
                                      &err),
                     SH_E_CMS_CDHASHES_SHAPE);
    assert_int_equal(err.index, -1);
    assert_int_equal(
        parse_with_plist(PLIST_HEAD "<dict><key>cdhashes</key><string>x</string></dict></plist>",
                         &err),
        SH_E_CMS_CDHASHES_SHAPE);
    assert_int_equal(parse_with_plist(PLIST_HEAD "<dict><key>cdhashes</key><array><data>AAAA"
                                                 "</data><string>x</string></array></dict></plist>",
                                      &err),
                     SH_E_CMS_CDHASHES_SHAPE);
    assert_int_equal(err.index, 1);
    assert_int_equal(sh_err_errsec(err.code), errSecCSSignatureFailed);
}

static void cdhashes_plist_too_many_entries(void **state)
{
    (void)state;
    uint8_t hashes[SH_MAX_CMS_CDHASHES + 1][20];
    memset(hashes, 0x5a, sizeof hashes);
    char *plist = test_cdhashes_plist((const uint8_t(*)[20])hashes, SH_MAX_CMS_CDHASHES + 1);
    sh_error err;
    assert_int_equal(parse_with_plist(plist, &err), SH_E_CMS_CDHASHES_TOO_MANY);
    assert_int_equal(err.value, SH_MAX_CMS_CDHASHES + 1);
    free(plist);
    /* a 19-byte entry parses, and fails the comparison */
    test_code code;
    test_code_make(&code, false, TEST_TEAM, 0);
    test_cms_spec spec = base_spec(&code);
    char *good = test_code_plist(&code);
    char *cut = strstr(good, "<data>");
    assert_non_null(cut);
    /* 20 bytes are 28 base64 characters; replace them by 19 bytes ("...=" padding) */
    char text[1024];
    snprintf(text, sizeof text, "%.*s<data>AAAAAAAAAAAAAAAAAAAAAAAAAA==</data></array></dict></plist>",
             (int)(cut - good), good);
    spec.cdhashes_plist = text;
    sig_buf der = test_cms_build(&spec);
    sh_cms_report report;
    assert_int_equal(verify_buf(&der, &code, &report, &err), SH_E_CMS_CDHASHES_MISMATCH);
    assert_int_equal(err.index, 0);
    sig_buf_free(&der);
    free(good);
    test_code_free(&code);
}

/* ---- CDHashes2 ---- */

static const uint8_t SHA256_OID_SEQ_ONLY[] = {0x30, 0x0b, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
                                              0x65, 0x03, 0x04, 0x02, 0x01};

static void cdhashes2_oid_only(CMS_SignerInfo *si)
{
    add_raw_signed_attr(si, "1.2.840.113635.100.9.2", V_ASN1_SEQUENCE, SHA256_OID_SEQ_ONLY,
                        sizeof SHA256_OID_SEQ_ONLY);
}

static void cdhashes2_octets(CMS_SignerInfo *si)
{
    add_raw_signed_attr(si, "1.2.840.113635.100.9.2", V_ASN1_OCTET_STRING, "hash", 4);
}

static void cdhashes2_parse_errors(void **state)
{
    (void)state;
    test_code code;
    test_code_make(&code, false, TEST_TEAM, 0);
    uint8_t hash[32] = {1};
    sh_error err;
    /* not SEQUENCE { OID, OCTET STRING } */
    void (*malformed[])(CMS_SignerInfo *) = {cdhashes2_oid_only, cdhashes2_octets};
    for (size_t i = 0; i < 2; i++) {
        test_cms_spec spec = base_spec(&code);
        sig_buf der = edited(&spec, malformed[i]);
        assert_int_equal(parse_buf(&der, &err), SH_E_CMS_CDHASHES2_MALFORMED);
        sig_buf_free(&der);
    }
    /* the same algorithm twice, and two OIDs nobody knows (Security files both as "unknown") */
    test_cdhash2 twice[] = {{.nid = NID_sha256, .hash = hash, .len = 32},
                            {.nid = NID_sha256, .hash = hash, .len = 32}};
    test_cdhash2 unknown[] = {{.oid_text = "1.2.3.4.5", .hash = hash, .len = 32},
                              {.oid_text = "1.2.3.4.6", .hash = hash, .len = 32}};
    const test_cdhash2 *lists[] = {twice, unknown};
    for (size_t i = 0; i < 2; i++) {
        test_cms_spec spec = base_spec(&code);
        spec.cdhashes2 = lists[i];
        spec.ncdhashes2 = 2;
        sig_buf der = test_cms_build(&spec);
        assert_int_equal(parse_buf(&der, &err), SH_E_CMS_CDHASHES2_DUPLICATE);
        assert_int_equal(err.index, 1);
        sig_buf_free(&der);
    }
    /* more values than the limit */
    test_cdhash2 many[SH_MAX_CMS_CDHASHES + 1];
    for (size_t i = 0; i < SH_MAX_CMS_CDHASHES + 1; i++)
        many[i] = (test_cdhash2){.nid = NID_sha256, .hash = hash, .len = 32};
    test_cms_spec spec = base_spec(&code);
    spec.cdhashes2 = many;
    spec.ncdhashes2 = SH_MAX_CMS_CDHASHES + 1;
    sig_buf der = test_cms_build(&spec);
    assert_int_equal(parse_buf(&der, &err), SH_E_CMS_CDHASHES2_TOO_MANY);
    sig_buf_free(&der);
    test_code_free(&code);
}

/* An OID Security does not know is filed apart: the CD's own algorithm is then missing. */
static void cdhashes2_unknown_oid(void **state)
{
    (void)state;
    test_code code;
    test_code_make(&code, false, TEST_TEAM, 0);
    test_cdhash2 v = {.oid_text = "1.2.3.4.5", .hash = code.cds[0].cdhash, .len = 32};
    test_cms_spec spec = base_spec(&code);
    spec.cdhashes2 = &v;
    spec.ncdhashes2 = 1;
    sig_buf der = test_cms_build(&spec);
    sh_cms_report report;
    sh_error err;
    assert_int_equal(verify_buf(&der, &code, &report, &err), SH_E_CMS_CDHASHES2_MISSING);
    assert_int_equal(report.failed_stage, SH_CMS_STAGE_CDHASHES2);
    sig_buf_free(&der);
    test_code_free(&code);
}

/* ---- timestamp attribute ---- */

static void token_garbage(CMS_SignerInfo *si)
{
    static const uint8_t seq[] = {0x30, 0x03, 0x02, 0x01, 0x01};
    assert_true(CMS_unsigned_add1_attr_by_NID(si, NID_id_smime_aa_timeStampToken, V_ASN1_SEQUENCE,
                                              seq, sizeof seq));
}

static void token_as_octets(CMS_SignerInfo *si)
{
    assert_true(CMS_unsigned_add1_attr_by_NID(si, NID_id_smime_aa_timeStampToken,
                                              V_ASN1_OCTET_STRING, "token", 5));
}

static void token_twice(CMS_SignerInfo *si)
{
    token_garbage(si);
    token_garbage(si);
}

static void timestamp_attribute_hostile(void **state)
{
    (void)state;
    test_code code;
    test_code_make(&code, false, TEST_TEAM, 0);
    sh_error err;
    test_cms_spec spec = base_spec(&code);
    sig_buf der = edited(&spec, token_as_octets);
    assert_int_equal(parse_buf(&der, &err), SH_E_CMS_ATTRIBUTE_TYPE);
    sig_buf_free(&der);
    der = edited(&spec, token_twice);
    assert_int_equal(parse_buf(&der, &err), SH_E_CMS_ATTRIBUTE_DUPLICATE);
    sig_buf_free(&der);
    der = edited(&spec, token_garbage);
    sh_cms_report report;
    assert_int_equal(verify_buf(&der, &code, &report, &err), SH_E_TS_MALFORMED);
    assert_int_equal(report.failed_stage, SH_CMS_STAGE_TIMESTAMP);
    assert_true(report.has_timestamp);
    assert_false(report.timestamp_valid);
    sig_buf_free(&der);
    test_code_free(&code);
}

static void caller_anchor_not_a_certificate(void **state)
{
    (void)state;
    test_code code;
    test_code_make(&code, false, TEST_TEAM, 0);
    test_cms_spec spec = base_spec(&code);
    sig_buf der = test_cms_build(&spec);
    sh_cursor c = sh_cursor_make(der.data, der.len);
    sh_cms cms;
    sh_error err;
    assert_int_equal(sh_cms_parse(&c, &cms, &err), SH_E_OK);
    sh_cursor junk = sh_cursor_make((const uint8_t *)"junk", 4);
    sh_cms_options opt = {.now = TEST_T2025, .trust = {.anchor_der = &junk, .n_anchor_der = 1}};
    sh_cms_code view = test_code_view(&code);
    sh_cms_report report;
    assert_int_equal(sh_cms_verify(&cms, &view, &opt, &report, &err), SH_E_CMS_ANCHOR_INVALID);
    assert_int_equal(err.index, 0);
    sh_cms_free(&cms);
    sig_buf_free(&der);
    test_code_free(&code);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_prefix_of_a_real_cms_is_malformed),
        cmocka_unit_test(garbage_is_malformed),
        cmocka_unit_test(trailing_bytes),
        cmocka_unit_test(too_large),
        cmocka_unit_test(blob_wrapper_framing),
        cmocka_unit_test(not_signed_data),
        cmocka_unit_test(wrong_encapsulated_content_type),
        cmocka_unit_test(attached_content),
        cmocka_unit_test(no_signer),
        cmocka_unit_test(two_signers),
        cmocka_unit_test(too_many_certificates),
        cmocka_unit_test(signed_attribute_shapes),
        cmocka_unit_test(signer_checks),
        cmocka_unit_test(signer_certificate_missing),
        cmocka_unit_test(unsupported_digest),
        cmocka_unit_test(cdhashes_plist_hostile),
        cmocka_unit_test(cdhashes_plist_too_many_entries),
        cmocka_unit_test(cdhashes2_parse_errors),
        cmocka_unit_test(cdhashes2_unknown_oid),
        cmocka_unit_test(timestamp_attribute_hostile),
        cmocka_unit_test(caller_anchor_not_a_certificate),
    };
    return cmocka_run_group_tests(tests, setup_pki, teardown_pki);
}
