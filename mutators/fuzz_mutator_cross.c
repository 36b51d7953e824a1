/* Crossover of packed bundles.  A byte splice of two packed bundles almost never unpacks (entry
 * count, lengths and order no longer agree), so it only exercises the pack reader.  These
 * crossovers combine the two bundles the way products really get mixed up:
 *   - the system extension taken from the other bundle (an app shipped with an extension from
 *     another build, team or product), the app then re-signed as before half of the time, as a
 *     developer who replaced the extension and signed the app again would;
 *   - one file from the other bundle at the same path (Info.plist, profile, CodeResources or an
 *     executable from another build);
 *   - the embedded provisioning profile of one root (app or extension) swapped for the other
 *     bundle's;
 *   - when the other input is a lone Mach-O, it becomes the extension's main executable.
 * The result is packed again, so it always reaches the verdict engine. */
#include <stdio.h>
#include <string.h>

#include "bundle.h"
#include "fixture_build.h"
#include "fuzz_mutator_internal.h"
#include "mut_toolkit.h"
#include "mutation.h"

#define EXT_DIR "Contents/Library/SystemExtensions/"

/* The root of the first system extension (a directory entry directly under EXT_DIR). */
static const sh_bundle_entry *extension_root(const sh_bundle *b)
{
    size_t n = strlen(EXT_DIR);
    for (size_t i = 0; i < b->count; i++) {
        const sh_bundle_entry *e = &b->entries[i];
        if (e->kind == SH_BUNDLE_DIR && strncmp(e->path, EXT_DIR, n) == 0 &&
            !strchr(e->path + n, '/') && e->path[n])
            return e;
    }
    return NULL;
}

/* Every entry of from below root copied into to (same paths). */
static bool copy_tree(sh_bundle *to, const sh_bundle *from, const char *root)
{
    for (size_t i = sh_bundle_lower_bound(from, root); i < from->count; i++) {
        const sh_bundle_entry *e = &from->entries[i];
        if (!sh_bundle_is_under(e->path, root))
            continue;
        sh_err rc;
        if (e->kind == SH_BUNDLE_DIR) {
            rc = sh_bundle_put_dir(to, e->path, e->mode, NULL);
        } else if (e->kind == SH_BUNDLE_SYMLINK) {
            char target[SH_MAX_BUNDLE_SYMLINK_TARGET + 1];
            if (e->len > SH_MAX_BUNDLE_SYMLINK_TARGET)
                return false;
            memcpy(target, e->data, e->len);
            target[e->len] = '\0';
            rc = sh_bundle_put_symlink(to, e->path, target, NULL);
        } else {
            rc = sh_bundle_put_file(to, e->path, e->data, e->len, e->mode, NULL);
        }
        if (rc != SH_E_OK)
            return false;
    }
    return true;
}

static const char *swap_extension(const sh_fm_config *c, sh_bundle *a, const sh_bundle *b,
                                  sh_fm_rng *rng)
{
    const sh_bundle_entry *theirs = extension_root(b), *ours = extension_root(a);
    if (!theirs)
        return NULL;
    char root[SH_MAX_BUNDLE_PATH + 1];
    if (ours) {
        snprintf(root, sizeof root, "%s", ours->path);
        if (sh_bundle_remove(a, root, NULL) != SH_E_OK)
            return NULL;
    }
    if (!copy_tree(a, b, theirs->path))
        return NULL;
    if (sh_fm_rng_percent(rng, 50))
        return "cross.extension";
    sh_mut_ctx ctx;
    sh_mut_ctx_init(&ctx, a, SH_FX_SIGNING_TIME, NULL);
    ctx.keys = c->signers ? c->signers->keys : NULL;
    /* a failed re-signing leaves the app as it was: still a swapped extension */
    return sh_mut_resign_root(&ctx, "", NULL) ? "cross.extension_resigned" : "cross.extension";
}

/* A file of b at a path a has too (same role in both bundles), replacing a's. */
static const char *swap_file(sh_bundle *a, const sh_bundle *b, sh_fm_rng *rng, bool profile_only)
{
    size_t start = (size_t)sh_fm_rng_below(rng, b->count ? b->count : 1);
    for (size_t k = 0; k < b->count; k++) {
        const sh_bundle_entry *e = &b->entries[(start + k) % b->count];
        if (e->kind != SH_BUNDLE_FILE ||
            (profile_only && !strstr(e->path, "embedded.provisionprofile")))
            continue;
        const sh_bundle_entry *mine = sh_bundle_find(a, e->path);
        if (!mine || mine->kind != SH_BUNDLE_FILE ||
            (mine->len == e->len && (e->len == 0 || memcmp(mine->data, e->data, e->len) == 0)))
            continue;
        return sh_bundle_put_file(a, e->path, e->data, e->len, mine->mode, NULL) == SH_E_OK
                   ? (profile_only ? "cross.profile" : "cross.file")
                   : NULL;
    }
    return NULL;
}

/* A lone Mach-O as the extension's (else the app's) main executable. */
static const char *adopt_executable(sh_bundle *a, const uint8_t *exe, size_t len)
{
    sh_mut_ctx ctx;
    sh_mut_ctx_init(&ctx, a, SH_FX_SIGNING_TIME, NULL);
    char path[SH_MAX_BUNDLE_PATH + 1];
    if (!sh_mut_main_executable(&ctx, ctx.extension, path, sizeof path))
        return NULL;
    return sh_bundle_put_file(a, path, exe, len, 0755, NULL) == SH_E_OK ? "cross.executable"
                                                                        : NULL;
}

bool sh_fm_crossover_bundle(const sh_fm_config *c, const uint8_t *a, size_t a_len,
                            const uint8_t *b, size_t b_len, sh_fm_rng *rng, sh_bytebuf *out,
                            const char **what)
{
    sh_bundle mine, theirs;
    sh_error err;
    *what = NULL;
    if (sh_bundle_unpack(a, a_len, c->alloc, &mine, &err) != SH_E_OK)
        return false;
    if (sh_fm_detect(b, b_len) == SH_FM_MACHO) {
        *what = adopt_executable(&mine, b, b_len);
    } else if (sh_bundle_unpack(b, b_len, c->alloc, &theirs, &err) == SH_E_OK) {
        switch (sh_fm_rng_below(rng, 4)) {
        case 0:
        case 1: *what = swap_extension(c, &mine, &theirs, rng); break;
        case 2: *what = swap_file(&mine, &theirs, rng, true); break;
        default: break;
        }
        if (!*what)
            *what = swap_file(&mine, &theirs, rng, false);
        sh_bundle_free(&theirs);
    }
    bool ok = false;
    uint8_t *packed = NULL;
    size_t packed_len = 0;
    if (*what && sh_bundle_pack(&mine, &packed, &packed_len, &err) == SH_E_OK) {
        ok = sh_bytebuf_append(out, packed, packed_len);
        sh_free(mine.alloc, packed);
    }
    sh_bundle_free(&mine);
    return ok;
}
