/* The mutation catalogue's core: lookup, fit, the bundle context, composition (mutation.h). */
#include "mutation.h"

#include <stdio.h>
#include <string.h>

#include "catalogue.h"
#include "infoplist.h"
#include "mut_toolkit.h"

static const char *const stage_names[] = {"neutral", "request", "discovery", "static",
                                          "profile", "notarization", "launch"};

const char *sh_mut_stage_name(sh_mut_stage s)
{
    return (unsigned)s < sizeof stage_names / sizeof stage_names[0] ? stage_names[s] : "unknown";
}

const sh_mutator *sh_mutators(size_t *count)
{
    *count = sh_catalogue_count;
    return sh_catalogue;
}

const sh_mutator *sh_mutator_find(const char *name)
{
    for (size_t i = 0; i < sh_catalogue_count; i++)
        if (!strcmp(sh_catalogue[i].name, name))
            return &sh_catalogue[i];
    return NULL;
}

bool sh_mutator_fits(const sh_mutator *m, unsigned fits)
{
    unsigned cat = m->fits & SH_FIT_CATEGORIES, var = m->fits & SH_FIT_VARIANTS;
    return (!cat || (cat & fits)) && (!var || (var & fits));
}

static const char sysext_dir[] = "Contents/Library/SystemExtensions/";

static bool is_extension_root(const char *path)
{
    size_t n = sizeof sysext_dir - 1;
    if (strncmp(path, sysext_dir, n) || strchr(path + n, '/'))
        return false;
    const char *dot = strrchr(path + n, '.');
    return dot && (!strcmp(dot, ".systemextension") || !strcmp(dot, ".dext"));
}

static unsigned category_fit(sh_mut_ctx *ctx)
{
    char path[SH_MAX_BUNDLE_PATH + 1];
    if (!ctx->extension[0] || !sh_mut_path(path, sizeof path, ctx->extension, "Info.plist"))
        return 0;
    const sh_bundle_entry *e = sh_bundle_find(ctx->bundle, path);
    if (!e || e->kind != SH_BUNDLE_FILE)
        return 0;
    sh_infoplist info;
    sh_cursor c = sh_cursor_make(e->data, e->len);
    unsigned fit = 0;
    if (sh_infoplist_parse(&c, NULL, &info, NULL) == SH_E_OK) {
        switch (sh_infoplist_category(&info)) {
        case SH_SYSEXT_NETWORK: fit = SH_FIT_NETWORK; break;
        case SH_SYSEXT_ENDPOINT_SECURITY: fit = SH_FIT_ENDPOINT_SECURITY; break;
        case SH_SYSEXT_CAMERA: fit = SH_FIT_CAMERA; break;
        case SH_SYSEXT_DRIVER: fit = SH_FIT_DRIVER; break;
        default: break;
        }
    }
    sh_infoplist_free(&info);
    return fit;
}

bool sh_mut_ctx_init(sh_mut_ctx *ctx, sh_bundle *b, int64_t signing_time, const char *pki_dir)
{
    memset(ctx, 0, sizeof *ctx);
    ctx->bundle = b;
    ctx->signing_time = signing_time;
    ctx->pki_dir = pki_dir;
    for (size_t i = 0; i < b->count; i++) {
        const sh_bundle_entry *e = &b->entries[i];
        if (e->kind == SH_BUNDLE_DIR && is_extension_root(e->path)) {
            snprintf(ctx->extension, sizeof ctx->extension, "%s", e->path);
            break;
        }
    }
    ctx->fits = category_fit(ctx);
    sh_mut_signing app;
    if (sh_mut_signing_read(ctx, "", &app)) {
        ctx->fits |= strncmp(app.identity, "dev-", 4) == 0 ? SH_FIT_DEVELOPMENT
                                                          : SH_FIT_DEVELOPER_ID;
        sh_mut_signing_free(&app);
    }
    ctx->why[0] = '\0';
    return true;
}

void sh_mut_ctx_for_copy(sh_mut_ctx *ctx, const sh_mut_ctx *of, sh_bundle *copy)
{
    *ctx = *of;
    ctx->bundle = copy;
    memset(&ctx->effects, 0, sizeof ctx->effects);
    ctx->why[0] = '\0';
}

bool sh_mutate(sh_mut_ctx *ctx, const char *names, bool development, sh_expectation *expected)
{
    char list[SH_MAX_MUT_COMPOSE * 64];
    if (strlen(names) >= sizeof list) {
        snprintf(ctx->why, sizeof ctx->why, "too long a mutator list");
        return false;
    }
    snprintf(list, sizeof list, "%s", names);
    const sh_mutator *chosen[SH_MAX_MUT_COMPOSE];
    size_t n = 0;
    for (char *save = NULL, *tok = strtok_r(list, "+", &save); tok;
         tok = strtok_r(NULL, "+", &save)) {
        const sh_mutator *m = sh_mutator_find(tok);
        if (!m) {
            snprintf(ctx->why, sizeof ctx->why, "no mutator named \"%.64s\"", tok);
            return false;
        }
        if (n == SH_MAX_MUT_COMPOSE) {
            snprintf(ctx->why, sizeof ctx->why, "more than %u mutators", SH_MAX_MUT_COMPOSE);
            return false;
        }
        chosen[n++] = m;
    }
    if (n == 0) {
        snprintf(ctx->why, sizeof ctx->why, "no mutator named");
        return false;
    }
    const sh_mutator *decisive = NULL;
    for (size_t i = 0; i < n; i++) {
        if (!chosen[i]->apply(ctx)) {
            char why[sizeof ctx->why];
            snprintf(why, sizeof why, "%s", ctx->why);
            snprintf(ctx->why, sizeof ctx->why, "%.48s: %.200s", chosen[i]->name, why);
            return false;
        }
        /* The earliest stage decides; neutral mutators never do. */
        if (chosen[i]->stage != SH_MUT_NEUTRAL &&
            (!decisive || chosen[i]->stage < decisive->stage))
            decisive = chosen[i];
    }
    static const sh_expectation unchanged = {0, 0, 0, NULL, "launches", false};
    *expected = decisive ? (development ? decisive->development : decisive->distribution)
                         : unchanged;
    return true;
}
