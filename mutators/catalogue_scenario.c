/* Scenario mutators: the situations of the verdict issue (S1: not notarised, S8: camera like
 * network) and the request / discovery errors, made as the developer or the user would make
 * them: a build that was never submitted, an app run from the wrong folder, an extension the
 * copy phase put in the wrong place (the app then signed over it). */
#include "catalogue.h"

#include <stdio.h>
#include <string.h>

#include "mut_toolkit.h"

static bool scenario_fail(sh_mut_ctx *ctx, const char *what, const char *path)
{
    snprintf(ctx->why, sizeof ctx->why, "%.60s%s%.180s", what, path ? ": " : "", path ? path : "");
    return false;
}

/* Nothing in the bundle changes: the build was never submitted, so no notary ticket or list
 * holds its cdhashes. */
bool sh_mut_s1_not_notarized(sh_mut_ctx *ctx)
{
    ctx->effects.notary = SH_NOTARY_REVOKE;
    return true;
}

bool sh_mut_app_in_downloads(sh_mut_ctx *ctx)
{
    snprintf(ctx->effects.location, sizeof ctx->effects.location, "/Users/dev/Downloads");
    return true;
}

bool sh_mut_app_in_user_applications(sh_mut_ctx *ctx)
{
    snprintf(ctx->effects.location, sizeof ctx->effects.location, "/Users/dev/Applications");
    return true;
}

/* The extension's folder name (the last component of its root). */
static const char *extension_name(const sh_mut_ctx *ctx)
{
    const char *slash = strrchr(ctx->extension, '/');
    return slash ? slash + 1 : ctx->extension;
}

/* The app rebuilt without (or with a misplaced) extension and signed again: submitted again. */
static bool resign_app(sh_mut_ctx *ctx)
{
    ctx->effects.notary = SH_NOTARY_RESUBMIT;
    return sh_mut_resign_root(ctx, "", NULL);
}

bool sh_mut_extension_missing(sh_mut_ctx *ctx)
{
    if (!ctx->extension[0])
        return scenario_fail(ctx, "the bundle has no system extension", NULL);
    sh_error err = {0};
    if (sh_bundle_remove(ctx->bundle, ctx->extension, &err) != SH_E_OK)
        return scenario_fail(ctx, "cannot remove", ctx->extension);
    ctx->extension[0] = '\0';
    return resign_app(ctx);
}

/* Moves the extension to Contents/<dir>/<its name> and signs the app over it. */
static bool move_extension(sh_mut_ctx *ctx, const char *dir)
{
    if (!ctx->extension[0])
        return scenario_fail(ctx, "the bundle has no system extension", NULL);
    char to[SH_MAX_BUNDLE_PATH + 1];
    int n = snprintf(to, sizeof to, "Contents/%s/%s", dir, extension_name(ctx));
    if (n < 0 || (size_t)n >= sizeof to)
        return scenario_fail(ctx, "path too long", dir);
    sh_error err = {0};
    if (sh_bundle_rename(ctx->bundle, ctx->extension, to, &err) != SH_E_OK)
        return scenario_fail(ctx, "cannot move the extension to", to);
    snprintf(ctx->extension, sizeof ctx->extension, "%s", to);
    return resign_app(ctx);
}

bool sh_mut_extension_in_plugins(sh_mut_ctx *ctx)
{
    return move_extension(ctx, "PlugIns");
}

bool sh_mut_extension_in_library_extensions(sh_mut_ctx *ctx)
{
    return move_extension(ctx, "Library/Extensions");
}

/* A second copy of the extension under another folder name (a renamed product left behind by
 * an old copy phase); both carry the same CFBundleIdentifier. */
bool sh_mut_extension_duplicated(sh_mut_ctx *ctx)
{
    if (!ctx->extension[0])
        return scenario_fail(ctx, "the bundle has no system extension", NULL);
    char copy_root[SH_MAX_BUNDLE_PATH + 1];
    const char *dot = strrchr(extension_name(ctx), '.');
    size_t stem = (size_t)(dot - ctx->extension);
    int n = snprintf(copy_root, sizeof copy_root, "%.*s-old%s", (int)stem, ctx->extension,
                     dot ? dot : "");
    if (!dot || n < 0 || (size_t)n >= sizeof copy_root)
        return scenario_fail(ctx, "cannot name the copy of", ctx->extension);
    /* Copied from a snapshot: the bundle's sorted entry array moves while copies are added. */
    sh_bundle snapshot;
    sh_error err = {0};
    if (sh_bundle_clone(ctx->bundle, &snapshot, &err) != SH_E_OK)
        return scenario_fail(ctx, "out of memory", NULL);
    size_t root_len = strlen(ctx->extension);
    bool ok = true;
    for (size_t i = 0; ok && i < snapshot.count; i++) {
        const sh_bundle_entry *e = &snapshot.entries[i];
        if (strcmp(e->path, ctx->extension) != 0 && !sh_bundle_is_under(e->path, ctx->extension))
            continue;
        char to[SH_MAX_BUNDLE_PATH + 1], target[SH_MAX_BUNDLE_PATH + 1];
        n = snprintf(to, sizeof to, "%s%s", copy_root, e->path + root_len);
        int t = e->kind == SH_BUNDLE_SYMLINK
                    ? snprintf(target, sizeof target, "%.*s", (int)e->len, (const char *)e->data)
                    : 0;
        if (n < 0 || (size_t)n >= sizeof to || t < 0 || (size_t)t >= sizeof target) {
            ok = scenario_fail(ctx, "path too long", e->path);
            break;
        }
        sh_err rc = e->kind == SH_BUNDLE_DIR ? sh_bundle_put_dir(ctx->bundle, to, e->mode, &err)
                    : e->kind == SH_BUNDLE_FILE
                        ? sh_bundle_put_file(ctx->bundle, to, e->data, e->len, e->mode, &err)
                        : sh_bundle_put_symlink(ctx->bundle, to, target, &err);
        if (rc != SH_E_OK)
            ok = scenario_fail(ctx, "cannot copy", e->path);
    }
    sh_bundle_free(&snapshot);
    if (!ok)
        return false;
    return resign_app(ctx);
}
