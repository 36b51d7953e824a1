/* A SignedData's certificates located without decoding them (signed_data.h). */
#include "signed_data.h"

#include <string.h>

#include "alloc.h"

enum {
    TAG_INTEGER = 0x02,
    TAG_OID = 0x06,
    TAG_SEQUENCE = 0x30,
    TAG_SET = 0x31,
    TAG_CONTEXT_0 = 0xa0, /* [0] constructed */
    TAG_CONTEXT_1 = 0xa1,
};

/* id-signedData, 1.2.840.113549.1.7.2, as the contents of its OID: under any other content type
 * OpenSSL keeps the [0] content as an undecoded ANY, certificates included. */
static const uint8_t signed_data_oid[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02};

/* One DER element: its tag, and views of the whole encoding and of the contents. */
typedef struct der_element {
    uint8_t tag;
    sh_cursor whole, contents;
} der_element;

/* Bytes a minimal DER length field takes for len. */
static size_t length_size(size_t len)
{
    if (len < 0x80)
        return 1;
    size_t n = 1;
    for (size_t rest = len; rest > 0; rest >>= 8)
        n++;
    return n;
}

/* Reads the next element of c: a low tag number (high-tag-number forms are never part of this
 * shape) and a definite length in its minimal form. */
static bool next_element(sh_cursor *c, der_element *e)
{
    sh_cursor start = *c;
    uint8_t tag, first;
    if (!sh_cursor_u8(c, &tag) || (tag & 0x1f) == 0x1f || !sh_cursor_u8(c, &first))
        goto fail;
    size_t len = first;
    if (first & 0x80) {
        size_t n = first & 0x7f;
        if (n == 0 || n > sizeof(size_t)) /* 0x80: indefinite (BER) */
            goto fail;
        len = 0;
        for (size_t i = 0; i < n; i++) {
            uint8_t b;
            if (!sh_cursor_u8(c, &b) || (i == 0 && b == 0))
                goto fail;
            len = len << 8 | b;
        }
        if (len < 0x80 || length_size(len) != 1 + n)
            goto fail;
    }
    size_t header = start.len - c->len;
    if (!sh_cursor_take(c, len, &e->contents) || !sh_cursor_sub(&start, 0, header + len, &e->whole))
        goto fail;
    e->tag = tag;
    return true;
fail:
    *c = start;
    return false;
}

static bool expect(sh_cursor *c, uint8_t tag, der_element *e)
{
    return next_element(c, e) && e->tag == tag;
}

/* The certificates field's elements: each a Certificate SEQUENCE, tiling the field. */
static bool collect(const der_element *field, sh_signed_data_parts *out)
{
    sh_cursor c = field->contents;
    while (c.len > 0) {
        der_element cert;
        if (out->ncerts == SH_MAX_CMS_CERTS || !expect(&c, TAG_SEQUENCE, &cert))
            return false;
        out->certs[out->ncerts++] = cert.whole;
    }
    return out->ncerts > 0;
}

/* Appends a tag and a minimal length. */
static uint8_t *put_header(uint8_t *w, uint8_t tag, size_t len)
{
    *w++ = tag;
    size_t n = length_size(len);
    if (n == 1) {
        *w++ = (uint8_t)len;
        return w;
    }
    *w++ = (uint8_t)(0x80 | (n - 1));
    for (size_t i = n - 1; i-- > 0;)
        *w++ = (uint8_t)(len >> (8 * i));
    return w;
}

static uint8_t *put_bytes(uint8_t *w, const sh_cursor *c)
{
    if (c->len)
        memcpy(w, c->p, c->len);
    return w + c->len;
}

bool sh_signed_data_split(const sh_cursor *content_info, sh_signed_data_parts *out)
{
    memset(out, 0, sizeof *out);
    sh_cursor in = *content_info, ci_c, explicit_c, sd_c;
    der_element ci, type, explicit0, sd, version, digests, encap, certs, e;
    if (!expect(&in, TAG_SEQUENCE, &ci) || (ci_c = ci.contents, !expect(&ci_c, TAG_OID, &type)) ||
        !expect(&ci_c, TAG_CONTEXT_0, &explicit0) || ci_c.len != 0 ||
        type.contents.len != sizeof signed_data_oid ||
        memcmp(type.contents.p, signed_data_oid, sizeof signed_data_oid) != 0)
        return false;
    explicit_c = explicit0.contents;
    if (!expect(&explicit_c, TAG_SEQUENCE, &sd) || explicit_c.len != 0)
        return false;
    sd_c = sd.contents;
    if (!expect(&sd_c, TAG_INTEGER, &version) || !expect(&sd_c, TAG_SET, &digests) ||
        !expect(&sd_c, TAG_SEQUENCE, &encap) || !expect(&sd_c, TAG_CONTEXT_0, &certs) ||
        !collect(&certs, out))
        return false;
    sh_cursor after = sd_c; /* [1] crls OPTIONAL, then signerInfos: the rest is kept as it is */
    if (!next_element(&sd_c, &e) || (e.tag == TAG_CONTEXT_1 && !next_element(&sd_c, &e)) ||
        e.tag != TAG_SET || sd_c.len != 0)
        return false;

    size_t sd_len = sd.contents.len - certs.whole.len;
    size_t sd_whole = 1 + length_size(sd_len) + sd_len;
    size_t ci_len = type.whole.len + 1 + length_size(sd_whole) + sd_whole;
    size_t total = 1 + length_size(ci_len) + ci_len; /* all below the input's own size */
    uint8_t *w = sh_calloc(NULL, total, 1);
    if (!w)
        return false;
    out->stripped = w;
    w = put_header(w, TAG_SEQUENCE, ci_len);
    w = put_bytes(w, &type.whole);
    w = put_header(w, TAG_CONTEXT_0, sd_whole);
    w = put_header(w, TAG_SEQUENCE, sd_len);
    w = put_bytes(w, &version.whole);
    w = put_bytes(w, &digests.whole);
    w = put_bytes(w, &encap.whole);
    w = put_bytes(w, &after);
    out->stripped_len = (size_t)(w - out->stripped);
    out->consumed = ci.whole.len;
    return true;
}

void sh_signed_data_parts_free(sh_signed_data_parts *s)
{
    sh_free(NULL, s->stripped);
    memset(s, 0, sizeof *s);
}

STACK_OF(X509) *sh_signed_data_certs(const sh_signed_data_parts *s, sh_verify_memo *memo)
{
    STACK_OF(X509) *certs = sk_X509_new_reserve(NULL, (int)s->ncerts);
    for (uint32_t i = 0; certs && i < s->ncerts; i++) {
        X509 *cert = sh_verify_memo_x509(memo, s->certs[i].p, s->certs[i].len);
        if (!cert || !sk_X509_push(certs, cert)) {
            X509_free(cert);
            sk_X509_pop_free(certs, X509_free);
            return NULL;
        }
    }
    return certs;
}

bool sh_signed_data_decode_cms(const sh_cursor *content_info, sh_verify_memo *memo,
                               CMS_ContentInfo **ci, STACK_OF(X509) **certs, size_t *consumed)
{
    sh_signed_data_parts parts;
    if (!memo || !sh_signed_data_split(content_info, &parts))
        return false;
    const unsigned char *p = parts.stripped;
    *ci = d2i_CMS_ContentInfo(NULL, &p, (long)parts.stripped_len);
    *certs = *ci ? sh_signed_data_certs(&parts, memo) : NULL;
    if (*certs == NULL) {
        CMS_ContentInfo_free(*ci);
        *ci = NULL;
    }
    *consumed = parts.consumed;
    sh_signed_data_parts_free(&parts);
    return true;
}
