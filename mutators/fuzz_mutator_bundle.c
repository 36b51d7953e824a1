/* Packed bundles (docs/packed-bundle.md) as fuzz input: the file tree is unpacked
 * (parsers/bundle.h), one edit applied, and the tree packed again, so the result always passes
 * the packed-format checks and reaches bundle discovery, resource sealing and the verdict.
 *
 * Edits, each modelled on something that happens to real bundles:
 *   - add a file where it matters (a stray file in Contents/, a nested extension's Info.plist,
 *     an unsealed resource, a second executable), with bytes copied from another entry;
 *   - remove or rename an entry (a missing CodeResources, a renamed executable);
 *   - a symlink: escaping the root, absolute, to itself, or to a real file;
 *   - a plist value changed in Info.plist or an entitlements file (identifier, executable name,
 *     package type, a key removed, a string replaced by an integer), written back as XML;
 *   - an embedded Mach-O mutated with the Mach-O mutator itself (fields, blobs or re-signing);
 *   - a file's mode bits flipped (executable bit) or its content truncated;
 *   - one or two semantic mutators of the catalogue (mutation.h): the breakages real bundles
 *     suffer, re-signed inside out with the test PKI where the scenario needs it, so the input
 *     gets past the hash checks and exercises the profile, notarisation and launch stages;
 *   - a plist edit followed by re-signing the extension and the app, for the same reason;
 *   - the extension or app re-signed with other signing settings (fuzz_mutator_rebuild.c:
 *     identity, timestamp, runtime, entitlements, explicit requirements, flags, time);
 *   - the embedded provisioning profile edited and signed again (fuzz_mutator_profile.c);
 *   - the executable's CMS made again with a signing mistake (fuzz_mutator_cms.c);
 *   - a plist written again in another writer's style (fuzz_mutator_plisttext.c). */
#include <stdio.h>
#include <string.h>

#include <plist/plist.h>

#include "bundle.h"
#include "fixture_build.h"
#include "fuzz_mutator_internal.h"
#include "mut_toolkit.h"
#include "mutation.h"
#include "plist_guard.h"

#define COUNT_OF(a) (sizeof(a) / sizeof((a)[0]))

/* The entry of a random kind-matching entry, or NULL. */
static const sh_bundle_entry *pick_entry(const sh_bundle *b, int kind, sh_fm_rng *rng)
{
    size_t start = (size_t)sh_fm_rng_below(rng, b->count ? b->count : 1);
    for (size_t k = 0; k < b->count; k++) {
        const sh_bundle_entry *e = &b->entries[(start + k) % b->count];
        if (kind == 0 || (int)e->kind == kind)
            return e;
    }
    return NULL;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && memcmp(s + n - m, suffix, m) == 0;
}

static const char *add_file(sh_bundle *b, sh_fm_rng *rng)
{
    static const char *const paths[] = {
        "Contents/stray.txt",
        "Contents/MacOS/helper",
        "Contents/Resources/en.lproj/Localizable.strings",
        "Contents/_CodeSignature/CodeResources",
        "Contents/embedded.provisionprofile",
        "Contents/Library/SystemExtensions/com.example.ext.systemextension/Contents/Info.plist",
        "Contents/Library/SystemExtensions/com.example.ext.systemextension/Contents/MacOS/ext",
        "Contents/Frameworks/X.framework/Versions/A/X",
        ".DS_Store",
    };
    const sh_bundle_entry *src = pick_entry(b, SH_BUNDLE_FILE, rng);
    static const uint8_t filler[] = "sigharness fuzz\n";
    const uint8_t *data = src ? src->data : filler;
    size_t len = src ? src->len : sizeof filler - 1;
    const char *path = paths[sh_fm_rng_below(rng, COUNT_OF(paths))];
    return sh_bundle_put_file(b, path, data, len, sh_fm_rng_percent(rng, 50) ? 0755 : 0644,
                              NULL) == SH_E_OK
               ? "bundle.add_file"
               : NULL;
}

static const char *remove_or_rename(sh_bundle *b, sh_fm_rng *rng)
{
    const sh_bundle_entry *e = pick_entry(b, 0, rng);
    if (!e)
        return NULL;
    char from[SH_MAX_BUNDLE_PATH + 1], to[SH_MAX_BUNDLE_PATH + 16];
    size_t n = strlen(e->path);
    if (n > SH_MAX_BUNDLE_PATH)
        return NULL;
    memcpy(from, e->path, n + 1);
    if (sh_fm_rng_percent(rng, 50))
        return sh_bundle_remove(b, from, NULL) == SH_E_OK ? "bundle.remove" : NULL;
    static const char *const suffixes[] = {".orig", "~", " 2", ".app", ".systemextension"};
    snprintf(to, sizeof to, "%s%s", from, suffixes[sh_fm_rng_below(rng, COUNT_OF(suffixes))]);
    return sh_bundle_rename(b, from, to, NULL) == SH_E_OK ? "bundle.rename" : NULL;
}

static const char *add_symlink(sh_bundle *b, sh_fm_rng *rng)
{
    static const char *const targets[] = {
        "../../../../etc/passwd", "/etc/passwd", "Info.plist", "../MacOS", "loop", ".",
        "Current", "A/X",
    };
    static const char *const paths[] = {
        "Contents/Resources/link", "Contents/loop", "Contents/MacOS/escape",
        "Contents/Frameworks/X.framework/Versions/Current",
    };
    const char *path = paths[sh_fm_rng_below(rng, COUNT_OF(paths))];
    const char *target = targets[sh_fm_rng_below(rng, COUNT_OF(targets))];
    return sh_bundle_put_symlink(b, path, target, NULL) == SH_E_OK ? "bundle.symlink" : NULL;
}

/* One value of a plist dict changed. */
static void edit_dict(plist_t dict, sh_fm_rng *rng)
{
    static const char *const keys[] = {
        "CFBundleIdentifier", "CFBundleExecutable", "CFBundlePackageType", "CFBundleVersion",
        "NSExtension", "NSSystemExtensionUsageDescription", "OSBundleUsageDescription",
        "com.apple.developer.system-extension.install", "com.apple.security.get-task-allow",
        "com.apple.developer.team-identifier",
    };
    const char *key = keys[sh_fm_rng_below(rng, COUNT_OF(keys))];
    switch (sh_fm_rng_below(rng, 5)) {
    case 0:
        plist_dict_remove_item(dict, key);
        break;
    case 1:
        plist_dict_set_item(dict, key, plist_new_uint(sh_fm_rng_below(rng, 3)));
        break;
    case 2:
        plist_dict_set_item(dict, key, plist_new_bool(sh_fm_rng_percent(rng, 50)));
        break;
    case 3: {
        static const char *const values[] = {"", "com.example.app", "com.example.app.ext",
                                             "SYSX", "APPL", "../x", "SHTEAM0002"};
        plist_dict_set_item(dict, key, plist_new_string(values[sh_fm_rng_below(rng, 7)]));
        break;
    }
    default:
        plist_dict_set_item(dict, key, plist_new_array());
        break;
    }
}

static const char *edit_plist(sh_bundle *b, const sh_allocator *alloc, sh_fm_rng *rng)
{
    size_t start = (size_t)sh_fm_rng_below(rng, b->count ? b->count : 1);
    for (size_t k = 0; k < b->count; k++) {
        const sh_bundle_entry *e = &b->entries[(start + k) % b->count];
        if (e->kind != SH_BUNDLE_FILE ||
            !(ends_with(e->path, ".plist") || ends_with(e->path, ".entitlements")))
            continue;
        sh_cursor c = sh_cursor_make(e->data, e->len);
        plist_t root = NULL;
        sh_error err;
        if (sh_plist_parse(&c, alloc, &root, NULL, &err) != SH_E_OK)
            return NULL;
        const char *what = NULL;
        if (plist_get_node_type(root) == PLIST_DICT) {
            edit_dict(root, rng);
            char *xml = NULL;
            uint32_t len = 0;
            plist_to_xml(root, &xml, &len);
            char path[SH_MAX_BUNDLE_PATH + 1];
            size_t n = strlen(e->path);
            uint32_t mode = e->mode;
            if (xml && n <= SH_MAX_BUNDLE_PATH) {
                memcpy(path, e->path, n + 1); /* e moves when the entry is replaced */
                if (sh_bundle_put_file(b, path, (const uint8_t *)xml, len, mode, NULL) == SH_E_OK)
                    what = "bundle.plist_value";
            }
            free(xml);
        }
        plist_free(root);
        return what;
    }
    return NULL;
}

/* A catalogue context for b that finds its identities in the engine's keyring when there is
 * one (reading PEM files per mutation would cost more than the verdict). */
static void init_ctx(const sh_fm_config *c, sh_bundle *b, sh_mut_ctx *ctx)
{
    sh_mut_ctx_init(ctx, b, SH_FX_SIGNING_TIME, NULL);
    ctx->keys = c->signers ? c->signers->keys : NULL;
}

/* When path is a bundle's main executable (the app's or the extension's Contents/MacOS), points
 * inner's special-slot inputs at that bundle's Info.plist and CodeResources, so a re-signing of
 * it seals them as the bundle's signature does. */
static void seal_slots_for(const sh_fm_config *c, sh_bundle *b, const char *path,
                           sh_fm_config *inner)
{
    sh_mut_ctx ctx;
    init_ctx(c, b, &ctx);
    const char *root = NULL;
    size_t n = strlen(ctx.extension);
    if (n && !strncmp(path, ctx.extension, n) && !strncmp(path + n, "/Contents/MacOS/", 16))
        root = ctx.extension;
    else if (!strncmp(path, "Contents/MacOS/", 15))
        root = "";
    char info[SH_MAX_BUNDLE_PATH + 1], res[SH_MAX_BUNDLE_PATH + 1];
    if (!root || !sh_mut_path(info, sizeof info, root, "Info.plist") ||
        !sh_mut_path(res, sizeof res, root, "_CodeSignature/CodeResources"))
        return;
    const sh_bundle_entry *i = sh_bundle_find(b, info), *r = sh_bundle_find(b, res);
    if (i && i->kind == SH_BUNDLE_FILE) {
        inner->info_plist = i->data;
        inner->info_plist_len = i->len;
    }
    if (r && r->kind == SH_BUNDLE_FILE) {
        inner->resources = r->data;
        inner->resources_len = r->len;
    }
}

/* A random Mach-O file (an executable: what the signature checks are about), or NULL. */
static const sh_bundle_entry *pick_macho(const sh_bundle *b, sh_fm_rng *rng)
{
    size_t start = (size_t)sh_fm_rng_below(rng, b->count ? b->count : 1);
    for (size_t k = 0; k < b->count; k++) {
        const sh_bundle_entry *e = &b->entries[(start + k) % b->count];
        if (e->kind == SH_BUNDLE_FILE && sh_fm_detect(e->data, e->len) == SH_FM_MACHO)
            return e;
    }
    return NULL;
}

/* A file's content through the Mach-O / signature mutator (an executable's, three times in
 * four), or truncated; or its mode flipped. */
static const char *edit_file(const sh_fm_config *c, sh_bundle *b, sh_fm_rng *rng)
{
    const sh_bundle_entry *e = sh_fm_rng_percent(rng, 75) ? pick_macho(b, rng) : NULL;
    if (!e)
        e = pick_entry(b, SH_BUNDLE_FILE, rng);
    if (!e)
        return NULL;
    char path[SH_MAX_BUNDLE_PATH + 1];
    size_t n = strlen(e->path);
    if (n > SH_MAX_BUNDLE_PATH)
        return NULL;
    memcpy(path, e->path, n + 1);
    uint32_t mode = e->mode;
    /* A copy first: replacing the entry frees its data. */
    size_t room = e->len + 64 * 1024, len = e->len;
    uint8_t *copy = sh_calloc(c->alloc, 1, room);
    if (!copy)
        return NULL;
    if (len)
        memcpy(copy, e->data, len);
    if (sh_fm_rng_percent(rng, 20)) {
        bool flipped = sh_bundle_put_file(b, path, copy, len, mode ^ 0111, NULL) == SH_E_OK;
        sh_free(c->alloc, copy);
        return flipped ? "bundle.mode" : NULL;
    }
    sh_fm_kind kind = sh_fm_detect(copy, len);
    const char *what = "bundle.truncate";
    if (kind == SH_FM_MACHO || kind == SH_FM_SUPERBLOB || kind == SH_FM_BLOB) {
        sh_fm_config inner = *c;
        inner.byte_percent = 0;
        /* mostly signed as its bundle signs it, so the edit gets past the slot checks; a
         * share signed alone, as the Mach-O mutator does for a lone file */
        if (sh_fm_rng_percent(rng, 80))
            seal_slots_for(c, b, path, &inner);
        sh_fm_result r;
        len = sh_fm_mutate(&inner, copy, len, room, sh_fm_rng_next(rng), &r);
        bool sealed = inner.info_plist || inner.resources;
        what = r.action != SH_FM_RESIGN ? "bundle.macho_field"
               : !sealed                ? "bundle.macho_resign"
               : r.damaged              ? "bundle.macho_resign_sealed_damaged"
                                        : "bundle.macho_resign_sealed";
    } else {
        len = (size_t)sh_fm_rng_below(rng, len + 1);
    }
    bool ok = sh_bundle_put_file(b, path, copy, len, mode, NULL) == SH_E_OK;
    sh_free(c->alloc, copy);
    return ok ? what : NULL;
}

/* One or two catalogue mutators, chosen by the rng; NULL when they do not apply here. */
static const char *apply_catalogue(const sh_fm_config *c, sh_bundle *b, sh_fm_rng *rng)
{
    size_t count;
    const sh_mutator *all = sh_mutators(&count);
    char names[2 * 64 + 2];
    const char *first = all[sh_fm_rng_below(rng, count)].name;
    if (sh_fm_rng_percent(rng, 25))
        snprintf(names, sizeof names, "%.64s+%.64s", first, all[sh_fm_rng_below(rng, count)].name);
    else
        snprintf(names, sizeof names, "%.64s", first);
    sh_mut_ctx ctx;
    init_ctx(c, b, &ctx);
    sh_expectation expected;
    return sh_mutate(&ctx, names, false, &expected) ? "bundle.catalogue" : NULL;
}

/* A plist edit, then the extension and the app re-signed inside out as they were signed. */
static const char *edit_and_resign(const sh_fm_config *c, sh_bundle *b, sh_fm_rng *rng)
{
    if (!edit_plist(b, c->alloc, rng))
        return NULL;
    sh_mut_ctx ctx;
    init_ctx(c, b, &ctx);
    return sh_mut_resign_all(&ctx, NULL, NULL) ? "bundle.edit_resign" : "bundle.plist";
}

/* A plist file (Info.plist, CodeResources, a .plist resource) written again in another style
 * (fuzz_mutator_plisttext.c), its values unchanged, sometimes with one mistake made in it: the
 * plist readers' syntax and refusal paths. */
static const char *restyle_plist(const sh_fm_config *c, sh_bundle *b, sh_fm_rng *rng)
{
    size_t start = (size_t)sh_fm_rng_below(rng, b->count ? b->count : 1);
    for (size_t k = 0; k < b->count; k++) {
        const sh_bundle_entry *e = &b->entries[(start + k) % b->count];
        if (e->kind != SH_BUNDLE_FILE ||
            !(ends_with(e->path, ".plist") || ends_with(e->path, "CodeResources")))
            continue;
        char path[SH_MAX_BUNDLE_PATH + 1];
        size_t n = strlen(e->path);
        if (n > SH_MAX_BUNDLE_PATH)
            return NULL;
        memcpy(path, e->path, n + 1); /* e moves when the entry is replaced */
        uint32_t mode = e->mode;
        sh_bytebuf text;
        sh_bytebuf_init(&text, c->alloc);
        bool ok = sh_fm_plist_restyle(e->data, e->len, c->alloc, rng, sh_fm_rng_percent(rng, 30),
                                      &text);
        /* half the time with a mistake of a hand-edited or foreign plist as well */
        bool damaged = ok && sh_fm_rng_percent(rng, 50) && sh_fm_plist_damage(&text, rng);
        ok = ok && sh_bundle_put_file(b, path, text.data, text.len, mode, NULL) == SH_E_OK;
        sh_bytebuf_free(&text);
        return !ok ? NULL : damaged ? "bundle.plist_damage" : "bundle.plist_restyle";
    }
    return NULL;
}

/* The edits that need no signing identity: cheap, and always applicable. */
static const char *plain_edit(const sh_fm_config *c, sh_bundle *b, sh_fm_rng *rng)
{
    switch (sh_fm_rng_below(rng, 9)) {
    case 0: return add_file(b, rng);
    case 1: return remove_or_rename(b, rng);
    case 2: return add_symlink(b, rng);
    case 3: return edit_plist(b, c->alloc, rng);
    case 4:
    case 5: return restyle_plist(c, b, rng);
    default: return edit_file(c, b, rng); /* mostly an executable's fields and signature */
    }
}

/* The edits that re-sign: a few RSA signatures each, but the only way past the seals to the
 * later stages.  NULL when the bundle is not signed the way they need (the bundle may then be
 * half edited). */
static const char *resigning_edit(const sh_fm_config *c, sh_bundle *b, sh_fm_rng *rng)
{
    sh_mut_ctx ctx;
    switch (sh_fm_rng_below(rng, 10)) {
    case 0: return edit_and_resign(c, b, rng);
    case 1:
    case 2: return apply_catalogue(c, b, rng);
    case 3:
    case 4:
    case 5:
    case 6:
        init_ctx(c, b, &ctx);
        return sh_fm_bundle_rebuild(c, &ctx, rng);
    case 7:
        init_ctx(c, b, &ctx);
        return sh_fm_bundle_cms(c, &ctx, rng);
    default:
        init_ctx(c, b, &ctx);
        return sh_fm_bundle_profile(c, &ctx, rng);
    }
}

bool sh_fm_mutate_bundle(const sh_fm_config *c, const uint8_t *data, size_t size,
                         sh_fm_rng *rng, sh_bytebuf *out, const char **what)
{
    sh_bundle b;
    sh_error err;
    *what = NULL;
    if (sh_bundle_unpack(data, size, c->alloc, &b, &err) != SH_E_OK)
        return false;
    if (sh_fm_rng_percent(rng, c->bundle_resign_percent)) {
        *what = resigning_edit(c, &b, rng);
        if (!*what) { /* not applicable here: start again from the input with a plain edit */
            sh_bundle_free(&b);
            if (sh_bundle_unpack(data, size, c->alloc, &b, &err) != SH_E_OK)
                return false;
        }
    }
    if (!*what)
        *what = plain_edit(c, &b, rng);
    bool ok = false;
    uint8_t *packed = NULL;
    size_t packed_len = 0;
    if (*what && sh_bundle_pack(&b, &packed, &packed_len, &err) == SH_E_OK) {
        ok = sh_bytebuf_append(out, packed, packed_len);
        sh_free(b.alloc, packed);
    }
    sh_bundle_free(&b);
    return ok;
}
