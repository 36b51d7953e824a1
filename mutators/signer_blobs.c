/* The blobs a signature seals besides the CodeDirectory: requirement set and entitlements. */
#include "signer_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "codedir_writer.h"
#include "entitlements.h"
#include "requirement.h"
#include "superblob.h"

sh_sign_status sh_sign_fail(sh_sign_result *r, sh_sign_status st, const char *fmt, ...)
{
    r->status = st;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->message, sizeof r->message, fmt, ap);
    va_end(ap);
    return st;
}

/* Identifiers go into requirement text between quotes: no quote, backslash or control bytes. */
static bool identifier_quotable(const char *id)
{
    for (const unsigned char *p = (const unsigned char *)id; *p; p++)
        if (*p < 0x20 || *p == 0x7f || *p == '"' || *p == '\\')
            return false;
    return true;
}

bool sh_sign_designated_text(const sh_pki_identity *id, const char *identifier, char *buf,
                             size_t size)
{
    int n;
    if (size == 0 || !identifier || !identifier_quotable(identifier))
        return false;
    if (!id) {
        buf[0] = '\0';
        return true;
    }
    if (id->kind == SH_PKI_DEVELOPER_ID && id->team[0])
        n = snprintf(buf, size,
                     "identifier \"%s\" and anchor apple generic and "
                     "certificate 1[field.1.2.840.113635.100.6.2.6] /* exists */ and "
                     "certificate leaf[field.1.2.840.113635.100.6.1.13] /* exists */ and "
                     "certificate leaf[subject.OU] = %s",
                     identifier, id->team);
    else if (id->kind == SH_PKI_DEVELOPMENT && identifier_quotable(id->cn))
        n = snprintf(buf, size,
                     "identifier \"%s\" and anchor apple generic and "
                     "certificate leaf[subject.CN] = \"%s\" and "
                     "certificate 1[field.1.2.840.113635.100.6.2.1] /* exists */",
                     identifier, id->cn);
    else
        return false;
    return n > 0 && (size_t)n < size;
}

/* Compiles requirement-set text and appends the blob to out. */
static sh_sign_status compile_set(const char *text, sh_bytebuf *out, sh_sign_result *r)
{
    uint8_t *blob = NULL;
    size_t blob_len = 0;
    sh_error err;
    sh_req_diag diag = {0};
    if (sh_req_compile(text, strlen(text), SH_REQ_PARSE_SET, NULL, &blob, &blob_len, &diag, &err) !=
        SH_E_OK)
        return sh_sign_fail(r, SH_SIGN_FAILED, "requirements do not compile: %s", diag.message);
    bool ok = sh_bytebuf_append(out, blob, blob_len);
    sh_free(NULL, blob);
    return ok ? SH_SIGN_OK : sh_sign_fail(r, SH_SIGN_FAILED, "out of memory (requirements)");
}

static sh_sign_status make_requirements(const sh_sign_options *o, sh_bytebuf *out,
                                        sh_sign_result *r)
{
    char dr[1024 + SH_MAX_IDENTIFIER_LEN], text[sizeof dr + 16];
    if (o->requirements_text)
        return compile_set(o->requirements_text, out, r);
    if (!sh_sign_designated_text(o->identity, o->identifier, dr, sizeof dr))
        return sh_sign_fail(r, SH_SIGN_INVALID_ARGUMENT,
                            "cannot make a designated requirement for identifier \"%s\"%s",
                            o->identifier, o->identity ? " with this identity" : "");
    if (!o->identity) {
        sh_write_error we = {0};
        if (sh_requirements_empty_write(out, &we) != SH_W_OK)
            return sh_sign_fail(r, SH_SIGN_FAILED, "requirements: %s", we.what);
        return SH_SIGN_OK;
    }
    snprintf(text, sizeof text, "designated => %s", dr);
    return compile_set(text, out, r);
}

static sh_sign_status make_entitlements(const sh_sign_options *o, sh_sign_blobs *b,
                                        sh_sign_result *r)
{
    sh_cursor xml = sh_cursor_make(o->entitlements, o->entitlements_len);
    sh_entitlements e;
    sh_ent_path path = {{0}};
    sh_error err;
    char msg[200];
    if (sh_entitlements_parse_xml(&xml, NULL, &e, &path, &err) != SH_E_OK) {
        sh_entitlements_free(&e);
        sh_error_format(&err, msg, sizeof msg);
        return sh_sign_fail(r, SH_SIGN_BAD_ENTITLEMENTS, "entitlements: %s (at %s)", msg,
                            path.text[0] ? path.text : "top level");
    }
    uint8_t *der = NULL;
    size_t der_len = 0;
    sh_err st = sh_entitlements_encode_der_blob(&e.root, NULL, &der, &der_len, &path, &err);
    sh_entitlements_free(&e);
    if (st != SH_E_OK) {
        sh_error_format(&err, msg, sizeof msg);
        return sh_sign_fail(r, SH_SIGN_BAD_ENTITLEMENTS, "entitlements cannot be DER-encoded: %s",
                            msg);
    }
    sh_write_error we = {0};
    bool ok = sh_bytebuf_append(&b->ent_der, der, der_len) &&
              sh_blob_write(SH_MAGIC_EMBEDDED_ENTITLEMENTS, o->entitlements, o->entitlements_len,
                            &b->ent_xml, &we) == SH_W_OK;
    sh_free(NULL, der);
    return ok ? SH_SIGN_OK : sh_sign_fail(r, SH_SIGN_FAILED, "entitlements blob too large");
}

sh_sign_status sh_sign_blobs_make(const sh_sign_options *o, sh_sign_blobs *b, sh_sign_result *r)
{
    sh_bytebuf_init(&b->reqs, NULL);
    sh_bytebuf_init(&b->ent_xml, NULL);
    sh_bytebuf_init(&b->ent_der, NULL);
    if (o->layout != SH_SIGN_LAYOUT_CODESIGN)
        return SH_SIGN_OK; /* linker signatures hold the CodeDirectory alone */
    sh_sign_status st = make_requirements(o, &b->reqs, r);
    if (st == SH_SIGN_OK && o->entitlements)
        st = make_entitlements(o, b, r);
    return st;
}

void sh_sign_blobs_free(sh_sign_blobs *b)
{
    sh_bytebuf_free(&b->reqs);
    sh_bytebuf_free(&b->ent_xml);
    sh_bytebuf_free(&b->ent_der);
}
