/* Mutator toolkit: plists in bundles, main executables, re-signing as before (mut_toolkit.h). */
#include "mut_toolkit.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bundle_signer.h"
#include "cert.h"
#include "cms.h"
#include "codedir.h"
#include "macho.h"
#include "pki.h"
#include "pki_keyring.h"
#include "plist_guard.h"
#include "signature.h"
#include "verify_memo.h"

__attribute__((format(printf, 2, 3))) static bool mut_fail(sh_mut_ctx *ctx, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ctx->why, sizeof ctx->why, fmt, ap);
    va_end(ap);
    return false;
}

bool sh_mut_need_extension(sh_mut_ctx *ctx)
{
    return ctx->extension[0] || mut_fail(ctx, "the bundle has no system extension");
}

bool sh_mut_path(char *out, size_t size, const char *root, const char *rel)
{
    int n = snprintf(out, size, "%s%sContents/%s", root, root[0] ? "/" : "", rel);
    return n > 0 && (size_t)n < size;
}

bool sh_mut_plist_read(sh_mut_ctx *ctx, const char *path, plist_t *out)
{
    *out = NULL;
    const sh_bundle_entry *e = sh_bundle_find(ctx->bundle, path);
    if (!e || e->kind != SH_BUNDLE_FILE)
        return mut_fail(ctx, "%s is not a file in the bundle", path);
    sh_cursor c = sh_cursor_make(e->data, e->len);
    sh_error err = {0};
    if (sh_plist_parse(&c, NULL, out, NULL, &err) != SH_E_OK) {
        char msg[160];
        sh_error_format(&err, msg, sizeof msg);
        return mut_fail(ctx, "%s: %s", path, msg);
    }
    return true;
}

bool sh_mut_plist_write(sh_mut_ctx *ctx, const char *path, plist_t p)
{
    char *xml = NULL;
    uint32_t len = 0;
    plist_to_xml(p, &xml, &len);
    if (!xml)
        return mut_fail(ctx, "%s: cannot write the plist", path);
    sh_error err = {0};
    sh_err rc = sh_bundle_put_file(ctx->bundle, path, (const uint8_t *)xml, len, 0644, &err);
    free(xml);
    return rc == SH_E_OK || mut_fail(ctx, "%s: %s", path, sh_err_message(rc));
}

bool sh_mut_edit_info(sh_mut_ctx *ctx, const char *root, bool (*edit)(plist_t dict, void *arg),
                      void *arg)
{
    char path[SH_MAX_BUNDLE_PATH + 1];
    plist_t info;
    if (!sh_mut_path(path, sizeof path, root, "Info.plist") || !sh_mut_plist_read(ctx, path, &info))
        return false;
    bool ok = plist_get_node_type(info) == PLIST_DICT && edit(info, arg);
    ok = ok ? sh_mut_plist_write(ctx, path, info) : mut_fail(ctx, "%s: cannot edit it", path);
    plist_free(info);
    return ok;
}

bool sh_mut_main_executable(sh_mut_ctx *ctx, const char *root, char *out, size_t size)
{
    char path[SH_MAX_BUNDLE_PATH + 1];
    plist_t info;
    if (!sh_mut_path(path, sizeof path, root, "Info.plist") || !sh_mut_plist_read(ctx, path, &info))
        return false;
    plist_t exe = plist_dict_get_item(info, "CFBundleExecutable");
    char *name = NULL;
    if (exe && plist_get_node_type(exe) == PLIST_STRING)
        plist_get_string_val(exe, &name);
    char rel[SH_MAX_BUNDLE_PATH + 1];
    bool ok = name && strchr(name, '/') == NULL && snprintf(rel, sizeof rel, "MacOS/%s", name) > 0 &&
              strlen(name) + 6 < sizeof rel && sh_mut_path(out, size, root, rel);
    if (!ok)
        mut_fail(ctx, "%s has no usable CFBundleExecutable", path);
    free(name);
    plist_free(info);
    return ok;
}

void sh_mut_signing_free(sh_mut_signing *s)
{
    if (s->entitlements)
        plist_free(s->entitlements);
    memset(s, 0, sizeof *s);
}

/* The test-PKI identity of the same kind and team as the signing certificate: a bundle signed by
 * someone else is re-signed as Developer ID team 1 (or Apple Development for development leaves). */
static void pick_identity(sh_cms *cms, char *out, size_t size)
{
    X509 *leaf = cms->signer_cert >= 0 ? sk_X509_value(cms->certs, cms->signer_cert) : NULL;
    sh_cert_facts facts;
    bool development = false, team2 = false;
    if (leaf) {
        sh_cert_describe(leaf, &facts);
        development = strncmp(facts.cn, "Apple Development:", 18) == 0;
        team2 = facts.has_ou && strcmp(facts.ou, "SHTEAM0002") == 0;
    }
    snprintf(out, size, "%s-team%d", development ? "dev" : "devid", team2 ? 2 : 1);
}

static bool read_entitlements(const sh_signature *sig, plist_t *out)
{
    for (uint32_t i = 0; i < sig->superblob.count; i++) {
        const sh_blob_entry *b = &sig->superblob.entries[i];
        if (b->type != SH_SLOT_ENTITLEMENTS || !b->present)
            continue;
        sh_cursor xml;
        if (!sh_cursor_tail(&b->blob, 8, &xml))
            return false;
        return sh_plist_parse(&xml, NULL, out, NULL, NULL) == SH_E_OK;
    }
    return true;
}

/* Who signed, as far as re-signing "as before" needs it; a pure function of the CMS bytes, so
 * remembered in ctx->memo when there is one (decoding the certificates is most of the cost). */
typedef struct signer_facts {
    char identity[32];
    bool timestamp;
} signer_facts;

static void parse_signer(const sh_blob_entry *w, sh_verify_memo *memo, signer_facts *out)
{
    memset(out, 0, sizeof *out);
    sh_cms cms;
    sh_error err = {0};
    memset(&cms, 0, sizeof cms);
    if (sh_cms_parse_wrapper_memo(&w->blob, memo, &cms, &err) == SH_E_OK && !cms.adhoc) {
        pick_identity(&cms, out->identity, sizeof out->identity);
        out->timestamp = cms.has_timestamp;
    }
    sh_cms_free(&cms);
}

static void read_signer(sh_mut_ctx *ctx, const sh_blob_entry *w, sh_mut_signing *out)
{
    uint8_t key[SH_VERIFY_MEMO_KEY_LEN];
    sh_memo_key k;
    sh_memo_key_begin(&k, "code signer identity/1");
    sh_memo_key_bytes(&k, w->blob.p, w->blob.len);
    bool keyed = sh_memo_key_end(&k, key) && ctx->memo;
    const signer_facts *known = keyed ? sh_verify_memo_get(ctx->memo, key) : NULL;
    signer_facts facts;
    if (known)
        facts = *known;
    else {
        parse_signer(w, ctx->memo, &facts);
        signer_facts *copy = keyed ? malloc(sizeof *copy) : NULL;
        if (copy) {
            *copy = facts;
            if (!sh_verify_memo_put(ctx->memo, key, copy, free))
                free(copy);
        }
    }
    snprintf(out->identity, sizeof out->identity, "%s", facts.identity);
    out->timestamp = facts.timestamp;
}

bool sh_mut_signing_read(sh_mut_ctx *ctx, const char *root, sh_mut_signing *out)
{
    memset(out, 0, sizeof *out);
    char exe[SH_MAX_BUNDLE_PATH + 1];
    if (!sh_mut_main_executable(ctx, root, exe, sizeof exe))
        return false;
    const sh_bundle_entry *e = sh_bundle_find(ctx->bundle, exe);
    if (!e || e->kind != SH_BUNDLE_FILE)
        return mut_fail(ctx, "%s is missing", exe);
    sh_macho_file f;
    sh_error err = {0};
    sh_cursor sigdata;
    sh_signature sig;
    if (sh_macho_parse(e->data, e->len, NULL, &f, &err) != SH_E_OK)
        return mut_fail(ctx, "%s is not a Mach-O file", exe);
    bool ok = f.nslices > 0 && sh_macho_signature(&f.slices[0], &sigdata, &err) == SH_E_OK &&
              sh_signature_parse(&sigdata, &sig, &err) == SH_E_OK;
    if (ok) {
        const sh_codedir *cd = &sig.cds[0];
        snprintf(out->identifier, sizeof out->identifier, "%.*s", (int)cd->identifier_len,
                 cd->identifier);
        out->runtime = (cd->flags & SH_CS_RUNTIME) != 0;
        const sh_blob_entry *w = sh_signature_cms(&sig);
        if (w && w->present)
            read_signer(ctx, w, out);
        ok = read_entitlements(&sig, &out->entitlements);
    }
    sh_macho_free(&f);
    if (!ok) {
        sh_mut_signing_free(out);
        return mut_fail(ctx, "%s: cannot read its signature", exe);
    }
    return true;
}

const sh_pki_identity *sh_mut_identity(sh_mut_ctx *ctx, const char *name, sh_pki_identity *scratch)
{
    memset(scratch, 0, sizeof *scratch);
    const sh_pki_identity *found = ctx->keys ? sh_pki_keyring_find(ctx->keys, name) : NULL;
    if (found)
        return found;
    char why[SH_PKI_WHY_MAX];
    if (sh_pki_load_identity(ctx->pki_dir, name, scratch, why, sizeof why))
        return scratch;
    mut_fail(ctx, "identity %s: %s", name, why);
    return NULL;
}

const sh_pki_tsa *sh_mut_tsa(sh_mut_ctx *ctx, sh_pki_tsa *scratch)
{
    memset(scratch, 0, sizeof *scratch);
    if (ctx->keys)
        return &ctx->keys->tsa;
    char why[SH_PKI_WHY_MAX];
    if (sh_pki_load_tsa(ctx->pki_dir, scratch, why, sizeof why))
        return scratch;
    mut_fail(ctx, "timestamp authority: %s", why);
    return NULL;
}

bool sh_mut_resign_root(sh_mut_ctx *ctx, const char *root, const sh_mut_resign *o)
{
    sh_mut_signing now;
    if (!sh_mut_signing_read(ctx, root, &now))
        return false;
    const char *identity = o && o->identity ? o->identity : now.identity;
    bool adhoc = !identity[0] || strcmp(identity, "-") == 0;
    sh_pki_identity id_scratch;
    sh_pki_tsa tsa_scratch;
    memset(&id_scratch, 0, sizeof id_scratch);
    memset(&tsa_scratch, 0, sizeof tsa_scratch);
    bool timestamp = o && o->timestamp ? o->timestamp > 0 : now.timestamp;
    const sh_pki_identity *id = adhoc ? NULL : sh_mut_identity(ctx, identity, &id_scratch);
    const sh_pki_tsa *tsa = timestamp && id ? sh_mut_tsa(ctx, &tsa_scratch) : NULL;
    bool ok = adhoc || (id && (!timestamp || tsa));

    plist_t ents = o && o->entitlements ? o->entitlements : now.entitlements;
    if (o && o->no_entitlements)
        ents = NULL;
    char *xml = NULL;
    uint32_t xml_len = 0;
    if (ok && ents)
        plist_to_xml(ents, &xml, &xml_len);

    sh_bundle_sign_options so;
    sh_bundle_sign_options_init(&so);
    so.memo = ctx->memo;
    so.code.identifier = now.identifier[0] ? now.identifier : NULL;
    so.code.identity = id;
    so.code.tsa = tsa;
    so.code.entitlements = (const uint8_t *)xml;
    so.code.entitlements_len = xml_len;
    so.code.runtime = o && o->runtime ? o->runtime > 0 : now.runtime;
    so.code.force = true;
    so.code.signing_time = ctx->signing_time;
    sh_sign_result r;
    if (ok && (!ents || xml) && sh_sign_bundle(ctx->bundle, root, &so, &r) != SH_SIGN_OK)
        ok = mut_fail(ctx, "re-signing %s: %s", root[0] ? root : "the app", r.message);
    if (xml)
        free(xml);
    sh_pki_identity_free(&id_scratch);
    sh_pki_tsa_free(&tsa_scratch);
    sh_mut_signing_free(&now);
    return ok;
}

bool sh_mut_resign_all(sh_mut_ctx *ctx, const sh_mut_resign *ext, const sh_mut_resign *app)
{
    if (ctx->extension[0] && sh_bundle_find(ctx->bundle, ctx->extension) &&
        !sh_mut_resign_root(ctx, ctx->extension, ext))
        return false;
    return sh_mut_resign_root(ctx, "", app);
}

static bool next_build(plist_t dict, void *arg)
{
    (void)arg;
    plist_dict_set_item(dict, "CFBundleVersion", plist_new_string("2"));
    return true;
}

bool sh_mut_rebuild_extension(sh_mut_ctx *ctx, const sh_mut_resign *o)
{
    return sh_mut_edit_info(ctx, ctx->extension, next_build, NULL) &&
           sh_mut_resign_root(ctx, ctx->extension, o);
}
