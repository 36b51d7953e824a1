/* parsers/signed_data.h: a SignedData's certificates located without decoding them, the rest left
 * to OpenSSL, and certificates decoded once per memo.  The strict shape is taken; everything else
 * is refused so that the caller falls back to decoding the whole ContentInfo. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cms.h"
#include "cms_builder.h"
#include "signed_data.h"

static test_pki pki;

static int setup(void **state)
{
    (void)state;
    test_pki_init(&pki);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    test_pki_free(&pki);
    return 0;
}

/* ---- DER by hand ---- */

static void put_len(sig_buf *b, size_t len)
{
    if (len < 0x80) {
        sig_append_u8(b, (uint8_t)len);
        return;
    }
    uint8_t bytes[8];
    size_t n = 0;
    for (size_t rest = len; rest; rest >>= 8)
        bytes[n++] = (uint8_t)rest;
    sig_append_u8(b, (uint8_t)(0x80 | n));
    while (n)
        sig_append_u8(b, bytes[--n]);
}

static void put_tlv(sig_buf *b, uint8_t tag, const sig_buf *contents)
{
    sig_append_u8(b, tag);
    put_len(b, contents->len);
    sig_append(b, contents->data, contents->len);
}

static const uint8_t oid_signed_data[] = {0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7,
                                          0x0d, 0x01, 0x07, 0x02};
static const uint8_t version_1[] = {0x02, 0x01, 0x01};
static const uint8_t empty_set[] = {0x31, 0x00};
static const uint8_t encap_data[] = {0x30, 0x0b, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86,
                                     0xf7, 0x0d, 0x01, 0x07, 0x01};

static void append_cert(sig_buf *b, X509 *cert)
{
    unsigned char *der = NULL;
    int len = i2d_X509(cert, &der);
    assert_true(len > 0);
    sig_append(b, der, (size_t)len);
    OPENSSL_free(der);
}

/* ContentInfo { signedData, [0] { SignedData { 1, {}, {data}, [fields between] , {} } } }: the
 * caller gives everything between encapContentInfo and signerInfos, and what follows. */
static sig_buf content_info(const sig_buf *between, const sig_buf *after)
{
    sig_buf sd = {0}, sd_tlv = {0}, explicit0 = {0}, ci = {0}, out = {0};
    sig_append(&sd, version_1, sizeof version_1);
    sig_append(&sd, empty_set, sizeof empty_set);
    sig_append(&sd, encap_data, sizeof encap_data);
    if (between)
        sig_append(&sd, between->data, between->len);
    sig_append(&sd, empty_set, sizeof empty_set); /* signerInfos */
    if (after)
        sig_append(&sd, after->data, after->len);
    put_tlv(&sd_tlv, 0x30, &sd);
    put_tlv(&explicit0, 0xa0, &sd_tlv);
    sig_append(&ci, oid_signed_data, sizeof oid_signed_data);
    sig_append(&ci, explicit0.data, explicit0.len);
    put_tlv(&out, 0x30, &ci);
    sig_buf_free(&sd);
    sig_buf_free(&sd_tlv);
    sig_buf_free(&explicit0);
    sig_buf_free(&ci);
    return out;
}

/* A certificates field [0] holding the given certificates. */
static sig_buf cert_field(X509 *const *certs, size_t n)
{
    sig_buf inner = {0}, out = {0};
    for (size_t i = 0; i < n; i++)
        append_cert(&inner, certs[i]);
    put_tlv(&out, 0xa0, &inner);
    sig_buf_free(&inner);
    return out;
}

static bool contains(const uint8_t *p, size_t n, const char *what, size_t len)
{
    for (size_t i = 0; i + len <= n; i++)
        if (memcmp(p + i, what, len) == 0)
            return true;
    return false;
}

static bool splits(const sig_buf *der, sh_signed_data_parts *parts)
{
    uint8_t *exact = sig_exact_copy(der->data, der->len);
    sh_cursor c = sh_cursor_make(exact, der->len);
    bool ok = sh_signed_data_split(&c, parts);
    if (ok) { /* views into exact: keep them valid by copying the certificates out */
        for (uint32_t i = 0; i < parts->ncerts; i++)
            parts->certs[i] = sh_cursor_make(der->data + (parts->certs[i].p - exact),
                                              parts->certs[i].len);
    }
    free(exact);
    return ok;
}

/* ---- a CMS OpenSSL made ---- */

static sig_buf signed_cms(void)
{
    static const uint8_t content[] = "the slot-0 CodeDirectory";
    test_cms_spec spec = {.signer = pki.devid_leaf, .key = pki.devid_key,
                          .certs = pki.devid_chain, .ncerts = 2,
                          .content = content, .content_len = sizeof content,
                          .tsa = pki.tsa, .tsa_key = pki.tsa_key,
                          .tsa_certs = pki.tsa_chain, .ntsa_certs = 1, .ts_time = TEST_T2024};
    return test_cms_build(&spec);
}

static void openssl_cms_splits_into_its_certificates(void **state)
{
    (void)state;
    sig_buf der = signed_cms();
    sig_append_u8(&der, 0); /* BlobWrapper padding: not part of the ContentInfo */
    sig_append_u8(&der, 0);
    sh_signed_data_parts parts;
    assert_true(splits(&der, &parts));
    assert_int_equal(parts.consumed, der.len - 2);

    const unsigned char *p = der.data;
    CMS_ContentInfo *whole = d2i_CMS_ContentInfo(NULL, &p, (long)der.len);
    assert_non_null(whole);
    STACK_OF(X509) *certs = CMS_get1_certs(whole);
    assert_int_equal(sk_X509_num(certs), 3);
    assert_int_equal(parts.ncerts, 3);
    for (int i = 0; i < 3; i++) {
        unsigned char *cert = NULL;
        int len = i2d_X509(sk_X509_value(certs, i), &cert);
        assert_int_equal((size_t)len, parts.certs[i].len);
        assert_memory_equal(cert, parts.certs[i].p, (size_t)len);
        OPENSSL_free(cert);
    }

    /* What is left decodes to the same SignedData without certificates. */
    p = parts.stripped;
    CMS_ContentInfo *stripped = d2i_CMS_ContentInfo(NULL, &p, (long)parts.stripped_len);
    assert_non_null(stripped);
    assert_ptr_equal(p, parts.stripped + parts.stripped_len);
    assert_null(CMS_get1_certs(stripped));
    CMS_SignerInfo *a = sk_CMS_SignerInfo_value(CMS_get0_SignerInfos(whole), 0);
    CMS_SignerInfo *b = sk_CMS_SignerInfo_value(CMS_get0_SignerInfos(stripped), 0);
    assert_int_equal(ASN1_STRING_cmp(CMS_SignerInfo_get0_signature(a),
                                     CMS_SignerInfo_get0_signature(b)), 0);
    assert_int_equal(CMS_signed_get_attr_count(a), CMS_signed_get_attr_count(b));
    assert_int_equal(CMS_unsigned_get_attr_count(a), CMS_unsigned_get_attr_count(b));

    sk_X509_pop_free(certs, X509_free);
    CMS_ContentInfo_free(whole);
    CMS_ContentInfo_free(stripped);
    sh_signed_data_parts_free(&parts);
    sig_buf_free(&der);
}

static void certificates_come_from_the_memo(void **state)
{
    (void)state;
    sig_buf der = signed_cms();
    sh_signed_data_parts parts;
    assert_true(splits(&der, &parts));
    sh_verify_memo *memo = sh_verify_memo_new();
    assert_non_null(memo);
    STACK_OF(X509) *first = sh_signed_data_certs(&parts, memo);
    STACK_OF(X509) *again = sh_signed_data_certs(&parts, memo);
    assert_non_null(first);
    assert_non_null(again);
    assert_int_equal(sk_X509_num(first), 3);
    for (int i = 0; i < 3; i++) /* decoded once: the same objects */
        assert_ptr_equal(sk_X509_value(first, i), sk_X509_value(again, i));
    sk_X509_pop_free(first, X509_free);
    /* The memo's references outlive the callers'. */
    unsigned char *cert = NULL;
    int len = i2d_X509(sk_X509_value(again, 0), &cert);
    assert_int_equal((size_t)len, parts.certs[0].len);
    assert_memory_equal(cert, parts.certs[0].p, (size_t)len);
    OPENSSL_free(cert);
    sk_X509_pop_free(again, X509_free);

    /* A SEQUENCE that is no certificate: no stack at all. */
    static const uint8_t not_a_cert[] = {0x30, 0x03, 0x02, 0x01, 0x05};
    parts.certs[1] = sh_cursor_make(not_a_cert, sizeof not_a_cert);
    assert_null(sh_signed_data_certs(&parts, memo));
    sh_verify_memo_free(memo);
    sh_signed_data_parts_free(&parts);
    sig_buf_free(&der);
}

/* Parsing with the memo gives what parsing without it gives, and verifies the same. */
static void parse_with_memo_matches_plain_parse(void **state)
{
    (void)state;
    test_code code;
    test_code_make(&code, true, TEST_TEAM, 0);
    char *plist = test_code_plist(&code);
    test_cms_spec spec = {.signer = pki.devid_leaf, .key = pki.devid_key,
                          .certs = pki.devid_chain, .ncerts = 2,
                          .content = code.blobs[0].data, .content_len = code.blobs[0].len,
                          .cdhashes_plist = plist,
                          .tsa = pki.tsa, .tsa_key = pki.tsa_key,
                          .tsa_certs = pki.tsa_chain, .ntsa_certs = 1, .ts_time = TEST_T2024};
    sig_buf der = test_cms_build(&spec);
    sh_cursor in = sh_cursor_make(der.data, der.len);
    sh_verify_memo *memo = sh_verify_memo_new();
    sh_cms plain, cached;
    sh_error e1 = {0}, e2 = {0};
    assert_int_equal(sh_cms_parse(&in, &plain, &e1), SH_E_OK);
    assert_int_equal(sh_cms_parse_memo(&in, memo, &cached, &e2), SH_E_OK);
    assert_int_equal(cached.ncerts, plain.ncerts);
    assert_int_equal(cached.signer_cert, plain.signer_cert);
    assert_int_equal(cached.size, plain.size);
    assert_true(cached.has_timestamp && plain.has_timestamp);
    assert_int_equal(cached.timestamp_token.len, plain.timestamp_token.len);
    assert_null(CMS_get1_certs(cached.ci)); /* the certificates are in cached.certs only */

    sh_trust trust = {.anchor_x509 = &pki.root, .n_anchor_x509 = 1};
    sh_cms_options plain_opt = {.now = TEST_T2025, .trust = trust};
    sh_cms_options memo_opt = {.now = TEST_T2025, .trust = trust, .memo = memo};
    sh_cms_code view = test_code_view(&code);
    sh_cms_report r1, r2;
    assert_int_equal(sh_cms_verify(&plain, &view, &plain_opt, &r1, &e1), SH_E_OK);
    assert_int_equal(sh_cms_verify(&cached, &view, &memo_opt, &r2, &e2), SH_E_OK);
    assert_true(r1.timestamp_valid && r2.timestamp_valid);
    assert_int_equal(r1.timestamp_time, r2.timestamp_time);
    assert_int_equal(r1.leaf_kind, r2.leaf_kind);
    assert_int_equal(r1.chain.length, r2.chain.length);
    assert_int_equal(r1.tsa_chain.length, r2.tsa_chain.length);
    assert_true(r1.team_checked && r2.team_checked);
    assert_string_equal(r1.leaf.cn, r2.leaf.cn);

    sh_cms_free(&plain);
    sh_cms_free(&cached);
    sh_verify_memo_free(memo);
    sig_buf_free(&der);
    free(plist);
    test_code_free(&code);
}

/* ---- shapes left to OpenSSL ---- */

static void ber_indefinite_length_is_left_to_openssl(void **state)
{
    (void)state;
    sig_buf der = signed_cms();
    /* The outer SEQUENCE as BER: 30 80 <contents> 00 00. */
    size_t header = der.data[1] & 0x80 ? 2 + (der.data[1] & 0x7f) : 2;
    sig_buf ber = {0};
    sig_append_u8(&ber, 0x30);
    sig_append_u8(&ber, 0x80);
    sig_append(&ber, der.data + header, der.len - header);
    sig_append_u8(&ber, 0);
    sig_append_u8(&ber, 0);
    sh_signed_data_parts parts;
    assert_false(splits(&ber, &parts));
    /* ... and it still parses, the whole way. */
    sh_cursor in = sh_cursor_make(ber.data, ber.len);
    sh_verify_memo *memo = sh_verify_memo_new();
    sh_cms cms;
    sh_error err = {0};
    assert_int_equal(sh_cms_parse_memo(&in, memo, &cms, &err), SH_E_OK);
    assert_int_equal(cms.ncerts, 3);
    sh_cms_free(&cms);
    sh_verify_memo_free(memo);
    sig_buf_free(&ber);
    sig_buf_free(&der);
}

static void non_minimal_length_is_left_to_openssl(void **state)
{
    (void)state;
    sig_buf der = signed_cms();
    assert_int_equal(der.data[1], 0x82); /* a few KiB */
    sig_buf padded = {0};
    sig_append_u8(&padded, 0x30);
    sig_append_u8(&padded, 0x83); /* the same length in three bytes, the first zero */
    sig_append_u8(&padded, 0x00);
    sig_append(&padded, der.data + 2, der.len - 2);
    sh_signed_data_parts parts;
    assert_false(splits(&padded, &parts));
    sig_buf_free(&padded);
    sig_buf_free(&der);
}

/* Under any content type but id-signedData OpenSSL keeps the content as an undecoded ANY, so a
 * certificate that does not decode must not make the split way fail where the whole way does
 * not (found by fuzz_signed_data). */
static void other_content_type_is_left_to_openssl(void **state)
{
    (void)state;
    sig_buf der = signed_cms();
    size_t header = 2 + (der.data[1] & 0x7f);
    assert_memory_equal(der.data + header, oid_signed_data, sizeof oid_signed_data);
    der.data[header + sizeof oid_signed_data - 1] = 0x01; /* id-data */
    sh_signed_data_parts parts;
    assert_false(splits(&der, &parts));
    sig_buf_free(&der);
}

static void hand_made_shapes(void **state)
{
    (void)state;
    X509 *two[] = {pki.devid_leaf, pki.devid_ca};
    sh_signed_data_parts parts;

    sig_buf field = cert_field(two, 2);
    sig_buf ok = content_info(&field, NULL);
    assert_true(splits(&ok, &parts));
    assert_int_equal(parts.ncerts, 2);
    assert_int_equal(parts.consumed, ok.len);
    sh_signed_data_parts_free(&parts);

    /* Every truncation is refused. */
    for (size_t n = 0; n < ok.len; n++) {
        sig_buf cut = {0};
        sig_append(&cut, ok.data, n);
        assert_false(splits(&cut, &parts));
        sig_buf_free(&cut);
    }

    /* crls [1] are kept in what is left. */
    static const uint8_t crls[] = {0xa1, 0x00};
    sig_buf with_crls = {0};
    sig_append(&with_crls, field.data, field.len);
    sig_append(&with_crls, crls, sizeof crls);
    sig_buf ci = content_info(&with_crls, NULL);
    assert_true(splits(&ci, &parts));
    assert_true(contains(parts.stripped, parts.stripped_len, "\xa1\x00\x31\x00", 4));
    sh_signed_data_parts_free(&parts);
    sig_buf_free(&ci);
    sig_buf_free(&with_crls);

    /* Something after signerInfos. */
    sig_buf extra = {0};
    sig_append(&extra, empty_set, sizeof empty_set);
    ci = content_info(&field, &extra);
    assert_false(splits(&ci, &parts));
    sig_buf_free(&ci);
    sig_buf_free(&extra);

    /* No certificates field, an empty one. */
    ci = content_info(NULL, NULL);
    assert_false(splits(&ci, &parts));
    sig_buf_free(&ci);
    sig_buf empty_field = cert_field(NULL, 0);
    ci = content_info(&empty_field, NULL);
    assert_false(splits(&ci, &parts));
    sig_buf_free(&ci);
    sig_buf_free(&empty_field);

    /* An attribute certificate ([1] inside the set) among the certificates. */
    sig_buf mixed = {0}, inner = {0};
    append_cert(&inner, pki.devid_leaf);
    sig_append(&inner, "\xa1\x03\x02\x01\x00", 5);
    put_tlv(&mixed, 0xa0, &inner);
    ci = content_info(&mixed, NULL);
    assert_false(splits(&ci, &parts));
    sig_buf_free(&ci);
    sig_buf_free(&mixed);
    sig_buf_free(&inner);

    /* More certificates than SH_MAX_CMS_CERTS. */
    X509 *many[SH_MAX_CMS_CERTS + 1];
    for (size_t i = 0; i <= SH_MAX_CMS_CERTS; i++)
        many[i] = pki.devid_leaf;
    sig_buf too_many = cert_field(many, SH_MAX_CMS_CERTS + 1);
    ci = content_info(&too_many, NULL);
    assert_false(splits(&ci, &parts));
    sig_buf_free(&ci);
    sig_buf_free(&too_many);
    sig_buf at_limit = cert_field(many, SH_MAX_CMS_CERTS);
    ci = content_info(&at_limit, NULL);
    assert_true(splits(&ci, &parts));
    assert_int_equal(parts.ncerts, SH_MAX_CMS_CERTS);
    sh_signed_data_parts_free(&parts);
    sig_buf_free(&ci);
    sig_buf_free(&at_limit);

    sig_buf_free(&ok);
    sig_buf_free(&field);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(openssl_cms_splits_into_its_certificates),
        cmocka_unit_test(certificates_come_from_the_memo),
        cmocka_unit_test(parse_with_memo_matches_plain_parse),
        cmocka_unit_test(ber_indefinite_length_is_left_to_openssl),
        cmocka_unit_test(non_minimal_length_is_left_to_openssl),
        cmocka_unit_test(other_content_type_is_left_to_openssl),
        cmocka_unit_test(hand_made_shapes),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
