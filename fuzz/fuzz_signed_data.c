/* Certificates decoded once per memo (parsers/signed_data.h) against OpenSSL decoding the whole
 * ContentInfo.  Input: a CMS / PKCS #7 ContentInfo (a code signature's BlobWrapper payload or a
 * timestamp token).  It is parsed as a code-signing CMS and as a timestamp token, each without a
 * memo, with a fresh memo (certificates decoded) and with the same memo again (certificates from
 * it).  Oracle: all three give the same result, error and facts, certificate for certificate;
 * a difference traps. */
#include <stdint.h>
#include <string.h>

#include "cms.h"
#include "signed_data.h"
#include "timestamp.h"

static void check(bool same)
{
    if (!same)
        __builtin_trap();
}

static bool same_error(const sh_error *a, const sh_error *b)
{
    return a->code == b->code && a->index == b->index && a->offset == b->offset &&
           a->value == b->value && a->has_value == b->has_value && strcmp(a->where ? a->where : "", b->where ? b->where : "") == 0;
}

static bool same_view(const sh_cursor *a, const sh_cursor *b)
{
    return a->len == b->len && a->base == b->base && (a->len == 0 || !memcmp(a->p, b->p, a->len));
}

static bool same_certs(STACK_OF(X509) *a, STACK_OF(X509) *b)
{
    if (sk_X509_num(a) != sk_X509_num(b))
        return false;
    for (int i = 0; i < sk_X509_num(a); i++) {
        unsigned char *da = NULL, *db = NULL;
        int la = i2d_X509(sk_X509_value(a, i), &da), lb = i2d_X509(sk_X509_value(b, i), &db);
        bool same = la == lb && (la <= 0 || !memcmp(da, db, (size_t)la));
        OPENSSL_free(da);
        OPENSSL_free(db);
        if (!same)
            return false;
    }
    return true;
}

/* Every fact sh_cms_parse gives, OpenSSL objects by their encoding.  The structures are compared
 * in place (both were zeroed, padding included, before parsing) with their pointers set aside. */
static bool same_cms(sh_cms *a, sh_cms *b)
{
    if (!same_view(&a->timestamp_token, &b->timestamp_token) ||
        !same_view(&a->signature_value, &b->signature_value) || !same_certs(a->certs, b->certs))
        return false;
    sh_cms pa = *a, pb = *b;
    a->timestamp_token = b->timestamp_token = a->signature_value = b->signature_value =
        (sh_cursor){0};
    a->ci = b->ci = NULL;
    a->certs = b->certs = NULL;
    a->signer = b->signer = NULL;
    bool same = memcmp(a, b, sizeof *a) == 0;
    a->timestamp_token = pa.timestamp_token;
    a->signature_value = pa.signature_value;
    a->ci = pa.ci;
    a->certs = pa.certs;
    a->signer = pa.signer;
    b->timestamp_token = pb.timestamp_token;
    b->signature_value = pb.signature_value;
    b->ci = pb.ci;
    b->certs = pb.certs;
    b->signer = pb.signer;
    return same;
}

static void cms_three_ways(const sh_cursor *in, sh_verify_memo *memo)
{
    sh_cms plain, first, again;
    sh_error e_plain = {0}, e_first = {0}, e_again = {0};
    sh_err r_plain = sh_cms_parse(in, &plain, &e_plain);
    sh_err r_first = sh_cms_parse_memo(in, memo, &first, &e_first);
    sh_err r_again = sh_cms_parse_memo(in, memo, &again, &e_again);
    check(r_plain == r_first && r_plain == r_again);
    check(same_error(&e_plain, &e_first) && same_error(&e_plain, &e_again));
    if (r_plain == SH_E_OK)
        check(same_cms(&plain, &first) && same_cms(&plain, &again));
    sh_cms_free(&plain);
    sh_cms_free(&first);
    sh_cms_free(&again);
}

static bool same_encoding(PKCS7 *a, PKCS7 *b)
{
    unsigned char *da = NULL, *db = NULL;
    int la = i2d_PKCS7(a, &da), lb = i2d_PKCS7(b, &db);
    bool same = la == lb && (la <= 0 || !memcmp(da, db, (size_t)la));
    OPENSSL_free(da);
    OPENSSL_free(db);
    return same;
}

/* As same_cms, for what sh_timestamp_parse gives. */
static bool same_timestamp(sh_timestamp *a, sh_timestamp *b)
{
    if (!same_certs(a->token->d.sign->cert, b->token->d.sign->cert) ||
        !same_encoding(a->token, b->token) || (a->tsa_cert == NULL) != (b->tsa_cert == NULL))
        return false;
    sh_timestamp pa = *a, pb = *b;
    a->token = b->token = NULL;
    a->tst = b->tst = NULL;
    a->tsa_cert = b->tsa_cert = NULL;
    bool same = memcmp(a, b, sizeof *a) == 0;
    *a = pa;
    *b = pb;
    return same;
}

static void timestamp_three_ways(const sh_cursor *in, sh_verify_memo *memo)
{
    sh_timestamp plain, first, again;
    sh_error e_plain = {0}, e_first = {0}, e_again = {0};
    sh_err r_plain = sh_timestamp_parse(in, 7, &plain, &e_plain);
    sh_err r_first = sh_timestamp_parse_memo(in, 7, memo, &first, &e_first);
    sh_err r_again = sh_timestamp_parse_memo(in, 7, memo, &again, &e_again);
    check(r_plain == r_first && r_plain == r_again);
    check(same_error(&e_plain, &e_first) && same_error(&e_plain, &e_again));
    if (r_plain == SH_E_OK)
        check(same_timestamp(&plain, &first) && same_timestamp(&plain, &again));
    sh_timestamp_free(&plain);
    sh_timestamp_free(&first);
    sh_timestamp_free(&again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sh_cursor in = sh_cursor_make(data, size);
    sh_signed_data_parts parts;
    if (sh_signed_data_split(&in, &parts)) {
        /* What was left out is exactly the certificates field. */
        size_t certs = 0;
        for (uint32_t i = 0; i < parts.ncerts; i++)
            certs += parts.certs[i].len;
        size_t removed = parts.stripped_len < parts.consumed ? parts.consumed - parts.stripped_len : 0;
        check(parts.consumed <= size && certs + 2 <= removed && removed <= certs + 40);
        sh_signed_data_parts_free(&parts);
    }
    sh_verify_memo *memo = sh_verify_memo_new();
    if (memo) {
        cms_three_ways(&in, memo);
        timestamp_three_ways(&in, memo);
    }
    sh_verify_memo_free(memo);
    return 0;
}
