/* File-level mutators: what happens to files after signing (copying, editing, packaging). */
#include "catalogue.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "macho.h"
#include "mut_toolkit.h"

static bool put(sh_mut_ctx *ctx, const char *path, const uint8_t *data, size_t len)
{
    sh_error err = {0};
    sh_err rc = sh_bundle_put_file(ctx->bundle, path, data, len, 0644, &err);
    if (rc != SH_E_OK)
        snprintf(ctx->why, sizeof ctx->why, "%.180s: %s", path, sh_err_message(rc));
    return rc == SH_E_OK;
}

/* The file at path, which must exist; its bytes copied into a buffer the caller edits. */
static const sh_bundle_entry *existing_file(sh_mut_ctx *ctx, const char *path)
{
    const sh_bundle_entry *e = sh_bundle_find(ctx->bundle, path);
    if (!e || e->kind != SH_BUNDLE_FILE) {
        snprintf(ctx->why, sizeof ctx->why, "%.200s is not a file in the bundle", path);
        return NULL;
    }
    return e;
}

/* Replaces path's content by its first keep bytes, then extra (extra_len bytes) appended. */
static bool rewrite(sh_mut_ctx *ctx, const char *path, size_t keep, const uint8_t *extra,
                    size_t extra_len, size_t flip_at)
{
    const sh_bundle_entry *e = existing_file(ctx, path);
    if (!e)
        return false;
    if (keep > e->len)
        keep = e->len;
    size_t n = keep + extra_len;
    uint8_t *buf = sh_calloc(ctx->bundle->alloc, n ? n : 1, 1);
    if (!buf) {
        snprintf(ctx->why, sizeof ctx->why, "out of memory");
        return false;
    }
    if (keep)
        memcpy(buf, e->data, keep);
    if (extra_len)
        memcpy(buf + keep, extra, extra_len);
    if (flip_at < n)
        buf[flip_at] ^= 0x01;
    bool ok = put(ctx, path, buf, n);
    sh_free(ctx->bundle->alloc, buf);
    return ok;
}

#define NO_FLIP ((size_t)-1)

static bool ext_file(sh_mut_ctx *ctx, const char *rel, char *out, size_t size)
{
    if (!ctx->extension[0])
        return sh_mut_need_extension(ctx);
    if (!sh_mut_path(out, size, ctx->extension, rel)) {
        snprintf(ctx->why, sizeof ctx->why, "path too long");
        return false;
    }
    return true;
}

static bool ext_executable(sh_mut_ctx *ctx, char *out, size_t size)
{
    return ctx->extension[0] ? sh_mut_main_executable(ctx, ctx->extension, out, size)
                             : sh_mut_need_extension(ctx);
}

bool sh_mut_extension_executable_zero_byte(sh_mut_ctx *ctx)
{
    char exe[SH_MAX_BUNDLE_PATH + 1];
    return ext_executable(ctx, exe, sizeof exe) && rewrite(ctx, exe, 0, NULL, 0, NO_FLIP);
}

/* Cut in half: the Mach-O (or fat) header still describes what is gone. */
bool sh_mut_extension_executable_truncated(sh_mut_ctx *ctx)
{
    char exe[SH_MAX_BUNDLE_PATH + 1];
    if (!ext_executable(ctx, exe, sizeof exe))
        return false;
    const sh_bundle_entry *e = existing_file(ctx, exe);
    return e && rewrite(ctx, exe, e->len / 2, NULL, 0, NO_FLIP);
}

/* One bit of the last code page of the first slice (the byte just before its signature): the
 * page hash no longer matches, the Mach-O structure is untouched. */
bool sh_mut_extension_code_page_flipped(sh_mut_ctx *ctx)
{
    char exe[SH_MAX_BUNDLE_PATH + 1];
    if (!ext_executable(ctx, exe, sizeof exe))
        return false;
    const sh_bundle_entry *e = existing_file(ctx, exe);
    if (!e)
        return false;
    sh_macho_file f;
    sh_error err = {0};
    if (sh_macho_parse(e->data, e->len, NULL, &f, &err) != SH_E_OK || f.nslices == 0 ||
        !f.slices[0].code_signature.present || f.slices[0].code_signature.dataoff == 0) {
        sh_macho_free(&f);
        snprintf(ctx->why, sizeof ctx->why, "%.200s is not a signed Mach-O file", exe);
        return false;
    }
    uint64_t at = sh_cursor_pos(&f.slices[0].data) + f.slices[0].code_signature.dataoff - 1;
    sh_macho_free(&f);
    return rewrite(ctx, exe, e->len, NULL, 0, (size_t)at);
}

bool sh_mut_extension_info_plist_edited(sh_mut_ctx *ctx)
{
    char path[SH_MAX_BUNDLE_PATH + 1];
    plist_t info;
    if (!ext_file(ctx, "Info.plist", path, sizeof path) || !sh_mut_plist_read(ctx, path, &info))
        return false;
    plist_dict_set_item(info, "CFBundleShortVersionString", plist_new_string("9.9.9"));
    bool ok = sh_mut_plist_write(ctx, path, info);
    plist_free(info);
    return ok;
}

/* The extension's sealed resource is its embedded profile (the only one Xcode puts there). */
bool sh_mut_extension_resource_modified(sh_mut_ctx *ctx)
{
    char path[SH_MAX_BUNDLE_PATH + 1];
    static const uint8_t nul = 0;
    return ext_file(ctx, "embedded.provisionprofile", path, sizeof path) &&
           rewrite(ctx, path, SIZE_MAX, &nul, 1, NO_FLIP);
}

bool sh_mut_extension_resource_added(sh_mut_ctx *ctx)
{
    char path[SH_MAX_BUNDLE_PATH + 1];
    static const char text[] = "added after signing\n";
    return ext_file(ctx, "Resources/notes.txt", path, sizeof path) &&
           put(ctx, path, (const uint8_t *)text, sizeof text - 1);
}

bool sh_mut_extension_resource_deleted(sh_mut_ctx *ctx)
{
    char path[SH_MAX_BUNDLE_PATH + 1];
    if (!ext_file(ctx, "embedded.provisionprofile", path, sizeof path))
        return false;
    sh_error err = {0};
    sh_err rc = sh_bundle_remove(ctx->bundle, path, &err);
    if (rc != SH_E_OK)
        snprintf(ctx->why, sizeof ctx->why, "%.180s: %s", path, sh_err_message(rc));
    return rc == SH_E_OK;
}

/* The first file under the app's Contents/Resources. */
bool sh_mut_app_resource_modified(sh_mut_ctx *ctx)
{
    const sh_bundle *b = ctx->bundle;
    for (size_t i = sh_bundle_lower_bound(b, "Contents/Resources"); i < b->count; i++) {
        const sh_bundle_entry *e = &b->entries[i];
        if (!sh_bundle_is_under(e->path, "Contents/Resources"))
            continue;
        if (e->kind == SH_BUNDLE_FILE && e->len > 0) {
            char path[SH_MAX_BUNDLE_PATH + 1];
            snprintf(path, sizeof path, "%s", e->path);
            return rewrite(ctx, path, e->len, NULL, 0, e->len / 2);
        }
    }
    snprintf(ctx->why, sizeof ctx->why, "the app has no non-empty file under Contents/Resources");
    return false;
}

bool sh_mut_extension_coderesources_edited(sh_mut_ctx *ctx)
{
    char path[SH_MAX_BUNDLE_PATH + 1];
    static const uint8_t newline = '\n';
    return ext_file(ctx, "_CodeSignature/CodeResources", path, sizeof path) &&
           rewrite(ctx, path, SIZE_MAX, &newline, 1, NO_FLIP);
}

bool sh_mut_extension_codesignature_extra_file(sh_mut_ctx *ctx)
{
    char path[SH_MAX_BUNDLE_PATH + 1];
    static const char text[] = "stray\n";
    return ext_file(ctx, "_CodeSignature/CodeResources.orig", path, sizeof path) &&
           put(ctx, path, (const uint8_t *)text, sizeof text - 1);
}

bool sh_mut_extension_executable_deleted(sh_mut_ctx *ctx)
{
    char exe[SH_MAX_BUNDLE_PATH + 1];
    if (!ext_executable(ctx, exe, sizeof exe))
        return false;
    sh_error err = {0};
    sh_err rc = sh_bundle_remove(ctx->bundle, exe, &err);
    if (rc != SH_E_OK)
        snprintf(ctx->why, sizeof ctx->why, "%.180s: %s", exe, sh_err_message(rc));
    return rc == SH_E_OK;
}

/* A symlink to a file outside the bundle, sealed by a fresh signature (codesign --strict refuses
 * links that leave the bundle). */
bool sh_mut_extension_symlink_out_of_bundle(sh_mut_ctx *ctx)
{
    char path[SH_MAX_BUNDLE_PATH + 1];
    if (!ext_file(ctx, "Resources/hosts", path, sizeof path))
        return false;
    sh_error err = {0};
    sh_err rc = sh_bundle_put_symlink(ctx->bundle, path, "/etc/hosts", &err);
    if (rc != SH_E_OK) {
        snprintf(ctx->why, sizeof ctx->why, "%.180s: %s", path, sh_err_message(rc));
        return false;
    }
    ctx->effects.notary = SH_NOTARY_RESUBMIT;
    return sh_mut_resign_all(ctx, NULL, NULL);
}
