/* "The developer signs again with different settings": the extension (or the app) of a packed
 * bundle re-signed with sh_sign_bundle and one to three signing settings changed from what the
 * bundle had, then the app re-signed as before so its seal of the nested extension is current
 * again (skipped sometimes: a stale nested seal is a real mistake too).  Settings drawn:
 *   - identity: any of the test PKI's (Developer ID or Apple Development, team 1 or 2) or ad hoc,
 *     as when a build machine has the wrong certificate or CODE_SIGN_IDENTITY is "-";
 *   - secure timestamp on or off, hardened runtime on or off, SHA-1 + SHA-256 CodeDirectories;
 *   - entitlements: generated (fuzz_mutator_plistgen.c), the old ones with a key changed, none;
 *   - an explicit requirement set (`codesign -r`, fuzz_mutator_reqgen.c) instead of the default;
 *   - CodeDirectory flags codesign --options sets (kill, hard, restrict, library validation)
 *     and the hashed page size;
 *   - the signing time: the usual one, before the certificates were valid, or after "now";
 *   - an Info.plist value changed, or the file written in another style, before signing;
 *   - the resource seal edited afterwards and the executable signed over it
 *     (fuzz_mutator_seal.c).
 * Each of these is sealed, so byte mutation cannot reach the checks that read them. */
#include <stdio.h>
#include <string.h>

#include <plist/plist.h>

#include "bundle_signer.h"
#include "codedir.h"
#include "fixture_build.h"
#include "fuzz_mutator_internal.h"
#include "mut_toolkit.h"
#include "pki_keyring.h"

#define COUNT_OF(a) (sizeof(a) / sizeof((a)[0]))
#define REQ_TEXT_MAX 1536u

/* The identity named, from the keyring or the engine's two preloaded ones; NULL: none. */
static const sh_pki_identity *identity_named(const sh_fm_signers *s, const char *name)
{
    if (!s || !name[0])
        return NULL;
    if (s->keys)
        return sh_pki_keyring_find(s->keys, name);
    if (s->developer_id && strcmp(s->developer_id->name, name) == 0)
        return s->developer_id;
    if (s->development && strcmp(s->development->name, name) == 0)
        return s->development;
    return NULL;
}

typedef struct info_arg {
    sh_fm_rng *rng;
    const char *identifier;
} info_arg;

static bool edit_info(plist_t dict, void *arg)
{
    info_arg *a = arg;
    sh_fm_info_edit(dict, a->rng, a->identifier);
    return true;
}

/* The settings a rebuild changes; the rest stay as sh_mut_signing_read found them. */
typedef struct rebuild {
    sh_bundle_sign_options so;
    const sh_pki_identity *id;
    bool timestamp;
    bool custom_seal; /* CodeResources edited after signing (fuzz_mutator_seal.c) */
    plist_t entitlements; /* owned */
    sh_bytebuf ent_xml;
    char req[REQ_TEXT_MAX];
    const char *what;
} rebuild;

static void change_setting(const sh_fm_signers *s, rebuild *rb, sh_fm_rng *rng)
{
    static const char *const identities[] = {"devid-team1", "devid-team2", "dev-team1",
                                             "dev-team2", ""};
    switch (sh_fm_rng_below(rng, 12)) {
    case 0:
        rb->id = identity_named(s, identities[sh_fm_rng_below(rng, COUNT_OF(identities))]);
        rb->what = "rebuild.identity";
        break;
    case 1:
        rb->timestamp = !rb->timestamp;
        rb->what = "rebuild.timestamp";
        break;
    case 2:
        rb->so.code.runtime = !rb->so.code.runtime;
        rb->what = "rebuild.runtime";
        break;
    case 3:
    case 4: {
        const char *team = rb->id && rb->id->team[0] ? rb->id->team : "SHTEAM0001";
        const char *ident = rb->so.code.identifier ? rb->so.code.identifier : "com.example.app";
        if (rb->entitlements && sh_fm_rng_percent(rng, 50)) {
            sh_fm_entitlements_edit(rb->entitlements, rng, team, ident);
        } else if (sh_fm_rng_percent(rng, 85)) {
            plist_free(rb->entitlements);
            rb->entitlements = sh_fm_entitlements_dict(rng, team, ident);
        } else {
            plist_free(rb->entitlements);
            rb->entitlements = NULL;
        }
        rb->what = "rebuild.entitlements";
        break;
    }
    case 5:
    case 6:
    case 11: { /* requirements: the most code behind them and no other way to reach it */
        sh_fm_req_facts f = {
            .identifier = rb->so.code.identifier,
            .team = rb->id ? rb->id->team : "",
            .leaf_cn = rb->id ? rb->id->cn : "",
        };
        if (sh_fm_requirement_text(rng, &f, rb->req, sizeof rb->req)) {
            rb->so.code.requirements_text = rb->req;
            rb->what = "rebuild.requirements";
        }
        break;
    }
    case 7: {
        static const uint32_t flags[] = {SH_CS_KILL, SH_CS_HARD, SH_CS_RESTRICT, SH_CS_REQUIRE_LV,
                                         SH_CS_ENFORCEMENT, SH_CS_CHECK_EXPIRATION};
        rb->so.code.extra_flags ^= flags[sh_fm_rng_below(rng, COUNT_OF(flags))];
        if (sh_fm_rng_percent(rng, 30))
            rb->so.code.dual_hash = !rb->so.code.dual_hash;
        if (sh_fm_rng_percent(rng, 20)) {
            static const uint8_t shifts[] = {12, 14, 16, 10};
            rb->so.code.page_shift = shifts[sh_fm_rng_below(rng, COUNT_OF(shifts))];
        }
        rb->what = "rebuild.codedirectory";
        break;
    }
    case 9:
    case 10:
        rb->custom_seal = true;
        rb->what = "rebuild.seal";
        break;
    default: {
        /* before the leaf certificates were issued, the day before, after "now" */
        static const int64_t shifts[] = {-86400LL * 3650, -86400, 2 * 86400, -86400LL * 30};
        rb->so.code.signing_time = SH_FX_SIGNING_TIME + shifts[sh_fm_rng_below(rng, COUNT_OF(shifts))];
        rb->what = "rebuild.signing_time";
        break;
    }
    }
}

/* libplist's XML most of the time (what Xcode's entitlements files look like), another
 * writer's style otherwise. */
static bool entitlements_text(plist_t ents, sh_fm_rng *rng, sh_bytebuf *out)
{
    if (sh_fm_rng_percent(rng, 50))
        return sh_fm_plist_text(ents, rng, false, out);
    char *xml = NULL;
    uint32_t len = 0;
    plist_to_xml(ents, &xml, &len);
    bool ok = xml && sh_bytebuf_append(out, xml, len);
    plist_to_xml_free(xml);
    return ok;
}

/* Info.plist written again in another style (or binary) before it is sealed. */
static bool restyle_info(sh_mut_ctx *ctx, const char *root, const sh_allocator *alloc,
                         sh_fm_rng *rng)
{
    char path[SH_MAX_BUNDLE_PATH + 1];
    if (!sh_mut_path(path, sizeof path, root, "Info.plist"))
        return false;
    const sh_bundle_entry *e = sh_bundle_find(ctx->bundle, path);
    if (!e || e->kind != SH_BUNDLE_FILE)
        return false;
    sh_bytebuf text;
    sh_bytebuf_init(&text, alloc);
    bool ok = sh_fm_plist_restyle(e->data, e->len, alloc, rng, false, &text) &&
              sh_bundle_put_file(ctx->bundle, path, text.data, text.len, 0644, NULL) == SH_E_OK;
    sh_bytebuf_free(&text);
    return ok;
}

/* Re-signs root with changed settings; *what names the (last) change. */
static bool rebuild_root(const sh_fm_config *c, sh_mut_ctx *ctx, const char *root, sh_fm_rng *rng,
                         const char **what)
{
    const sh_fm_signers *s = c->signers;
    if (sh_fm_rng_percent(rng, 20)) {
        sh_mut_signing before;
        if (!sh_mut_signing_read(ctx, root, &before))
            return false;
        info_arg a = {rng, before.identifier[0] ? before.identifier : "com.example.app"};
        bool edited = sh_mut_edit_info(ctx, root, edit_info, &a);
        sh_mut_signing_free(&before);
        if (!edited)
            return false;
    }
    if (sh_fm_rng_percent(rng, 20) && !restyle_info(ctx, root, c->alloc, rng))
        return false;
    sh_mut_signing now;
    if (!sh_mut_signing_read(ctx, root, &now))
        return false;
    rebuild rb;
    memset(&rb, 0, sizeof rb);
    sh_bundle_sign_options_init(&rb.so);
    rb.so.code.identifier = now.identifier[0] ? now.identifier : NULL;
    rb.id = identity_named(s, now.identity);
    rb.timestamp = now.timestamp;
    rb.so.code.runtime = now.runtime;
    rb.so.code.force = true;
    rb.so.code.signing_time = ctx->signing_time;
    rb.entitlements = now.entitlements;
    now.entitlements = NULL; /* rb owns it now */
    rb.what = "rebuild.as_before";
    unsigned changes = 1 + (unsigned)sh_fm_rng_below(rng, 3);
    for (unsigned i = 0; i < changes; i++)
        change_setting(s, &rb, rng);
    rb.so.code.identity = rb.id;
    /* ad hoc signatures carry no CMS to timestamp */
    if (rb.timestamp && rb.id && s)
        rb.so.code.tsa = s->keys ? &s->keys->tsa : s->tsa;
    /* the entitlements file as the developer's tools wrote it: codesign embeds its text */
    sh_bytebuf_init(&rb.ent_xml, c->alloc);
    bool ok = !rb.entitlements || entitlements_text(rb.entitlements, rng, &rb.ent_xml);
    rb.so.code.entitlements = rb.entitlements ? rb.ent_xml.data : NULL;
    rb.so.code.entitlements_len = rb.ent_xml.len;
    sh_sign_result r;
    ok = ok && sh_sign_bundle(ctx->bundle, root, &rb.so, &r) == SH_SIGN_OK;
    if (ok && rb.custom_seal) {
        rb.what = sh_fm_seal_rewrite(ctx, root, &rb.so.code, rng);
        ok = rb.what != NULL;
    }
    sh_bytebuf_free(&rb.ent_xml);
    plist_free(rb.entitlements);
    sh_mut_signing_free(&now);
    *what = rb.what;
    return ok;
}

const char *sh_fm_bundle_rebuild(const sh_fm_config *c, sh_mut_ctx *ctx, sh_fm_rng *rng)
{
    bool ext = ctx->extension[0] && sh_bundle_find(ctx->bundle, ctx->extension) &&
               sh_fm_rng_percent(rng, 65);
    const char *what = NULL;
    if (!rebuild_root(c, ctx, ext ? ctx->extension : "", rng, &what))
        return NULL;
    /* the app seals the extension by cdhash: re-sign it as before, most of the time */
    if (ext && sh_fm_rng_percent(rng, 85) && !sh_mut_resign_root(ctx, "", NULL))
        return NULL;
    return what;
}
