/* The verdict engine's driver: stages in macOS's order, findings, the deciding finding. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "verdict_internal.h"

#define DEFAULT_LOCATION "/Applications"
#define SYSEXT_DIR "Contents/Library/SystemExtensions"

char *vd_strdup(vd_ctx *x, const char *s)
{
    size_t n = strlen(s ? s : "");
    char *d = sh_calloc(x->v->alloc, n + 1, 1);
    if (!d) {
        x->v->failure = SH_E_NO_MEMORY;
        return NULL;
    }
    memcpy(d, s ? s : "", n);
    return d;
}

/* Grows an array held by the verdict (allocator-aware realloc). */
static bool grow(vd_ctx *x, void **items, size_t *cap, size_t count, size_t size)
{
    if (count < *cap)
        return true;
    size_t ncap = *cap ? *cap * 2 : 8;
    void *n = sh_calloc(x->v->alloc, ncap, size);
    if (!n) {
        x->v->failure = SH_E_NO_MEMORY;
        return false;
    }
    if (*items)
        memcpy(n, *items, count * size);
    sh_free(x->v->alloc, *items);
    *items = n;
    *cap = ncap;
    return true;
}

static void push_string(vd_ctx *x, char ***list, size_t *n, size_t *cap, const char *s)
{
    if (*n >= SH_MAX_VERDICT_LOG_LINES)
        return;
    void *items = *list;
    if (!grow(x, &items, cap, *n, sizeof(char *)))
        return;
    *list = items;
    char *d = vd_strdup(x, s);
    if (d)
        (*list)[(*n)++] = d;
}

void vd_log(vd_ctx *x, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    push_string(x, &x->v->log, &x->v->nlog, &x->v->cap_log, line);
}

void vd_notary(vd_ctx *x, const char *message)
{
    for (size_t i = 0; i < x->v->nnotary; i++)
        if (strcmp(x->v->notary[i], message) == 0)
            return;
    push_string(x, &x->v->notary, &x->v->nnotary, &x->v->cap_notary, message);
}

void vd_log_rule(vd_ctx *x, sh_rule_id rule, const char *id, const char *path, const char *detail)
{
    const char *t = sh_rule_get(rule)->log;
    if (!t || !*t)
        return;
    char line[1024];
    size_t n = 0;
    while (*t && n + 1 < sizeof line) {
        const char *sub = NULL;
        size_t skip = 0;
        if (strncmp(t, "{id}", 4) == 0)
            sub = id, skip = 4;
        else if (strncmp(t, "{path}", 6) == 0)
            sub = path, skip = 6;
        else if (strncmp(t, "{detail}", 8) == 0)
            sub = detail, skip = 8;
        if (skip) {
            int w = snprintf(line + n, sizeof line - n, "%s", sub ? sub : "");
            n += w < 0 ? 0 : (size_t)w < sizeof line - n ? (size_t)w : sizeof line - n - 1;
            t += skip;
        } else {
            line[n++] = *t++;
        }
    }
    line[n] = '\0';
    vd_log(x, "%s", line);
}

void vd_add(vd_ctx *x, sh_rule_id rule, const char *subject, sh_err err, bool advisory,
            const char *fmt, ...)
{
    sh_verdict *v = x->v;
    if (v->nfindings >= SH_MAX_VERDICT_FINDINGS) {
        v->dropped++;
        return;
    }
    void *items = v->findings;
    if (!grow(x, &items, &v->cap_findings, v->nfindings, sizeof(sh_finding)))
        return;
    v->findings = items;
    const sh_rule *r = sh_rule_get(rule);
    char detail[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    sh_finding *f = &v->findings[v->nfindings];
    memset(f, 0, sizeof *f);
    f->rule = rule;
    f->stage = r->stage;
    f->err = err;
    f->errsec = r->errsec == SH_ERRSEC_FROM_ERROR ? (int)sh_err_errsec(err) : r->errsec;
    f->blocking = r->sysext != 0 && !advisory;
    f->sysext = f->blocking ? r->sysext : 0;
    f->kills_app = f->blocking && r->kills_app && x->b != NULL && subject &&
                  strncmp(subject, SYSEXT_DIR, strlen(SYSEXT_DIR)) != 0;
    f->subject = vd_strdup(x, subject);
    f->detail = vd_strdup(x, detail);
    if (!f->subject || !f->detail) {
        sh_free(v->alloc, f->subject);
        sh_free(v->alloc, f->detail);
        return;
    }
    v->nfindings++;
}

void vd_hex(const uint8_t *bytes, size_t len, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[bytes[i] >> 4];
        out[2 * i + 1] = digits[bytes[i] & 15];
    }
    out[2 * len] = '\0';
}

/* The deciding finding: a host-app kill first (the app never asks), else the first blocking
 * finding in stage order (findings of one stage keep the order they were found in). */
static void decide(sh_verdict *v)
{
    v->outcome = SH_OUTCOME_OK;
    for (size_t i = 0; i < v->nfindings; i++)
        if (v->findings[i].kills_app) {
            v->outcome = SH_OUTCOME_APP_KILLED;
            v->deciding = i;
            v->errsec = v->findings[i].errsec;
            return;
        }
    for (int stage = SH_STAGE_REQUEST; stage <= SH_STAGE_LAUNCH; stage++)
        for (size_t i = 0; i < v->nfindings; i++) {
            const sh_finding *f = &v->findings[i];
            if ((int)f->stage == stage && f->blocking) {
                v->outcome = SH_OUTCOME_ERROR;
                v->sysext_code = f->sysext;
                v->errsec = f->errsec;
                v->deciding = i;
                return;
            }
        }
}

static void init_verdict(sh_verdict *out, const sh_verdict_options *o)
{
    memset(out, 0, sizeof *out);
    out->alloc = o->alloc;
    out->policy = o->policy;
}

/* ---- stage 1: request ---------------------------------------------------------------------- */

static bool location_allowed(const char *loc)
{
    size_t n = strlen(DEFAULT_LOCATION);
    if (strncmp(loc, DEFAULT_LOCATION, n) != 0)
        return false;
    return loc[n] == '\0' || loc[n] == '/';
}

static void stage_request(vd_ctx *x, const vd_code *app)
{
    const char *loc = x->o->location ? x->o->location : DEFAULT_LOCATION;
    if (!sh_ent_get_bool(app->entitlements, "com.apple.developer.system-extension.install"))
        vd_add(x, SH_RULE_APP_MISSING_INSTALL_ENTITLEMENT, "", SH_E_OK, false,
               "the app's signed entitlements %s",
               app->entitlements ? "do not set it to true" : "are empty");
    if (x->o->policy == SH_POLICY_DISTRIBUTION && !location_allowed(loc)) {
        vd_add(x, SH_RULE_APP_NOT_IN_APPLICATIONS, "", SH_E_OK, false, "installed in %s", loc);
        vd_log_rule(x, SH_RULE_APP_NOT_IN_APPLICATIONS, "", loc, "");
    }
}

/* ---- stage 2: discovery ---------------------------------------------------------------------- */

static bool has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n > m && strcmp(s + n - m, suffix) == 0;
}

/* Direct children of SYSEXT_DIR that are directories named *.systemextension or *.dext. */
static size_t discover(vd_ctx *x, vd_code *exts, size_t max)
{
    const sh_bundle *b = x->b;
    size_t n = 0, dirlen = strlen(SYSEXT_DIR);
    for (size_t i = sh_bundle_lower_bound(b, SYSEXT_DIR); i < b->count; i++) {
        const sh_bundle_entry *e = &b->entries[i];
        if (!sh_bundle_is_under(e->path, SYSEXT_DIR)) {
            if (strncmp(e->path, SYSEXT_DIR, dirlen) != 0)
                break;
            continue; /* a sibling such as "SystemExtensions-x" sorted in between */
        }
        const char *name = e->path + dirlen;
        if (*name != '/' || strchr(name + 1, '/') || e->kind != SH_BUNDLE_DIR)
            continue;
        bool dext = has_suffix(name, ".dext");
        if (!dext && !has_suffix(name, ".systemextension"))
            continue;
        if (n >= max) {
            vd_add(x, SH_RULE_LONE_EXECUTABLE, e->path, SH_E_OK, true,
                   "more than SH_MAX_SYSTEM_EXTENSIONS extensions: the rest is not examined");
            break;
        }
        vd_code *c = &exts[n++];
        snprintf(c->root, sizeof c->root, "%s", e->path);
        c->dext = dext;
    }
    return n;
}

static void read_info(vd_ctx *x, vd_code *c, bool report)
{
    char path[SH_MAX_BUNDLE_PATH + 32];
    snprintf(path, sizeof path, "%s%sContents/Info.plist", c->root, *c->root ? "/" : "");
    const sh_bundle_entry *e = sh_bundle_find(x->b, path);
    sh_error err = {0};
    sh_err r = SH_E_INFO_ROOT_NOT_DICT;
    if (e && e->kind == SH_BUNDLE_FILE) {
        sh_cursor cur = sh_cursor_make(e->data, e->len);
        r = sh_infoplist_parse(&cur, x->o->alloc, &c->info, &err);
    } else {
        memset(&c->info, 0, sizeof c->info);
    }
    c->has_info = r == SH_E_OK;
    if (c->has_info && c->info.executable && *c->info.executable) {
        int n = snprintf(c->exe, sizeof c->exe, "%s%sContents/MacOS/%s", c->root,
                         *c->root ? "/" : "", c->info.executable);
        if (n < 0 || (size_t)n >= sizeof c->exe)
            c->exe[0] = '\0'; /* longer than any bundle path: no such executable */
    }
    if (!c->has_info && report) {
        char msg[512] = "missing";
        if (e)
            sh_error_format(&err, msg, sizeof msg);
        vd_add(x, SH_RULE_EXTENSION_INFO_PLIST_UNREADABLE, path, e ? r : SH_E_OK, false, "%s", msg);
    }
}

static void stage_discovery(vd_ctx *x, vd_code *exts, size_t n, const vd_code *app)
{
    if (n == 0) {
        vd_add(x, SH_RULE_EXTENSION_NOT_FOUND, SYSEXT_DIR, SH_E_OK, false,
               "no *.systemextension or *.dext directory in %s", SYSEXT_DIR);
        vd_log_rule(x, SH_RULE_EXTENSION_NOT_FOUND, app->has_info && app->info.identifier
                        ? app->info.identifier : "", "", "");
    }
    for (size_t i = 0; i < n; i++) {
        vd_code *c = &exts[i];
        read_info(x, c, true);
        if (!c->has_info)
            continue;
        if (!c->info.identifier || !*c->info.identifier) {
            vd_add(x, SH_RULE_EXTENSION_MISSING_IDENTIFIER, c->root, SH_E_OK, false,
                   "CFBundleIdentifier %s", c->info.identifier ? "is empty" : "is absent");
            continue;
        }
        for (size_t k = 0; k < i; k++)
            if (exts[k].has_info && exts[k].info.identifier &&
                strcmp(exts[k].info.identifier, c->info.identifier) == 0)
                vd_add(x, SH_RULE_DUPLICATE_EXTENSION_IDENTIFIER, c->root, SH_E_OK, false,
                       "%s is also the identifier of %s", c->info.identifier, exts[k].root);
        c->category = sh_infoplist_category(&c->info);
        if (c->category == SH_SYSEXT_NONE && !c->dext)
            vd_add(x, SH_RULE_UNKNOWN_EXTENSION_CATEGORY, c->root, SH_E_OK, false, "%s",
                   c->info.categories ? "several category keys are present"
                                      : "no category key is present");
        vd_log(x, "client activation request for %s", c->info.identifier);
    }
}

/* ---- stage 4 extras: category configuration (sysextd validates it after the signature) ---- */

static void check_category(vd_ctx *x, const vd_code *c)
{
    if (!c->has_info || c->dext)
        return;
    if (!c->info.sysext_usage || !*c->info.sysext_usage)
        vd_add(x, SH_RULE_USAGE_DESCRIPTION_MISSING, c->root, SH_E_OK, false,
               "NSSystemExtensionUsageDescription is absent or empty");
    const char *service = c->category == SH_SYSEXT_NETWORK ? c->info.ne_mach_service
                          : c->category == SH_SYSEXT_CAMERA ? c->info.cmio_mach_service
                                                            : NULL;
    if (!service)
        return;
    const sh_ent_node *groups =
        sh_ent_dict_get(c->entitlements, "com.apple.security.application-groups");
    for (size_t i = 0; groups && groups->type == SH_ENT_ARRAY && i < groups->count; i++) {
        const sh_ent_node *g = &groups->items[i];
        if (g->type == SH_ENT_STRING && g->len > 0 && strncmp(service, (const char *)g->bytes, g->len) == 0 &&
            service[g->len] == '.')
            return;
    }
    vd_add(x, SH_RULE_MACH_SERVICE_NOT_IN_APP_GROUP, c->root, SH_E_OK, false,
           "Mach service %s is not below any app group in com.apple.security.application-groups",
           service);
}

/* ---- stage 3 extra: same team ---------------------------------------------------------------- */

static void check_same_team(vd_ctx *x, const vd_code *app, const vd_code *ext)
{
    if (!app->signed_any || !ext->signed_any || !*app->team || !*ext->team)
        return;
    if (strcmp(app->team, ext->team) != 0)
        vd_add(x, SH_RULE_TEAM_ID_MISMATCH_APP_EXTENSION, ext->root, SH_E_OK, false,
               "extension team %s, app team %s", ext->team, app->team);
}

/* ---- stage 6: launch ------------------------------------------------------------------------- */

static bool has_blocking(const sh_verdict *v, const char *subject, sh_stage stage)
{
    for (size_t i = 0; i < v->nfindings; i++)
        if (v->findings[i].blocking && v->findings[i].stage == stage &&
            strcmp(v->findings[i].subject, subject) == 0)
            return true;
    return false;
}

static void stage_launch(vd_ctx *x, const vd_code *c)
{
    const char *id = c->has_info && c->info.identifier ? c->info.identifier : c->exe;
    if (has_blocking(x->v, c->root, SH_STAGE_ENTITLEMENTS) ||
        has_blocking(x->v, c->exe, SH_STAGE_ENTITLEMENTS)) {
        vd_add(x, SH_RULE_LAUNCH_KILLED_RESTRICTED_ENTITLEMENTS, c->exe, SH_E_OK, false,
               "%s", id);
        vd_log(x, "amfid: %s: Unsatisfied entitlements", id);
        vd_log_rule(x, SH_RULE_LAUNCH_KILLED_RESTRICTED_ENTITLEMENTS, id, c->exe, "");
        if (!x->v->launch)
            x->v->launch = vd_strdup(x, "killed at exec: AMFI bails out on restricted entitlements "
                                        "not validated by a matching profile");
        return;
    }
    if (c->inspected && !c->signature_ok && c->signed_any) {
        vd_add(x, SH_RULE_LAUNCH_KILLED_INVALID_SIGNATURE, c->exe, SH_E_OK, false, "%s", id);
        if (!x->v->launch)
            x->v->launch = vd_strdup(x, "killed: the code signature does not validate "
                                        "(CODESIGNING, Code Signature Invalid)");
        return;
    }
    if (sh_ent_get_bool(c->entitlements, "com.apple.security.get-task-allow")) {
        vd_add(x, SH_RULE_LAUNCH_DEBUGGABLE, c->exe, SH_E_OK, false,
               "com.apple.security.get-task-allow = true");
        if (!x->v->launch)
            x->v->launch = vd_strdup(x, "launches; debuggable (get-task-allow): amfid allows it, "
                                        "the notary service does not");
        return;
    }
    if (!x->v->launch && c->inspected && c->signed_any)
        x->v->launch = vd_strdup(x, c->runtime ? "launches (hardened runtime)"
                                               : "launches (no hardened runtime)");
}

/* ---- drivers --------------------------------------------------------------------------------- */

static void finish_log(vd_ctx *x, const vd_code *exts, size_t n)
{
    sh_verdict *v = x->v;
    const char *id = n > 0 && exts[0].has_info && exts[0].info.identifier ? exts[0].info.identifier
                                                                          : "";
    if (v->outcome == SH_OUTCOME_OK) {
        if (x->o->policy == SH_POLICY_DISTRIBUTION)
            vd_log(x, "activateDecision: %s not in the list of allowed extensions -> decision UserOption", id);
        vd_log(x, "changing state of extension %s to activated_waiting_for_user", id);
    } else if (v->outcome == SH_OUTCOME_ERROR && v->sysext_code == 8) {
        vd_log(x, "extension failed to validate! uninstalling...");
    }
}

static void stage_code(vd_ctx *x, vd_code *c)
{
    const sh_bundle_entry *e = c->exe[0] ? sh_bundle_find(x->b, c->exe) : NULL;
    if (e && e->kind == SH_BUNDLE_SYMLINK) {
        const sh_bundle_entry *t = NULL;
        if (sh_bundle_resolve(x->b, c->exe, &t, NULL) == SH_E_OK)
            e = t;
    }
    if (!e || e->kind != SH_BUNDLE_FILE) {
        vd_add(x, SH_RULE_MAIN_EXECUTABLE_MISSING, c->root, SH_E_OK, false, "%s",
               c->exe[0] ? c->exe : "CFBundleExecutable is not set");
        return;
    }
    vd_check_code(x, c, e->data, e->len);
}

sh_err sh_verdict_run(const sh_bundle *b, const sh_verdict_options *o, sh_verdict *out)
{
    init_verdict(out, o);
    vd_ctx x = {b, o, out};
    vd_code *codes = sh_calloc(o->alloc, 1 + SH_MAX_SYSTEM_EXTENSIONS, sizeof *codes);
    if (!codes)
        return out->failure = SH_E_NO_MEMORY;
    vd_code *app = &codes[0], *exts = codes + 1;
    app->is_app = true;
    read_info(&x, app, false);

    /* static validation of the app first: stage 1 needs its entitlements (recorded in stage
     * order afterwards: findings are sorted by stage when the verdict is decided) */
    size_t n = discover(&x, exts, SH_MAX_SYSTEM_EXTENSIONS);
    stage_discovery(&x, exts, n, app);
    for (size_t i = 0; i < n; i++)
        if (exts[i].has_info) {
            vd_log(&x, "attempting to realize extension with identifier %s",
                   exts[i].info.identifier ? exts[i].info.identifier : "");
            stage_code(&x, &exts[i]);
            vd_check_seal(&x, &exts[i], NULL, 0);
            vd_summarise(&x, &exts[i], "extension");
        }
    stage_code(&x, app);
    vd_check_seal(&x, app, exts, n);
    vd_summarise(&x, app, "app");
    stage_request(&x, app);
    for (size_t i = 0; i < n; i++)
        check_same_team(&x, app, &exts[i]);

    for (size_t i = 0; i < n; i++)
        if (exts[i].has_info) {
            vd_check_profile(&x, &exts[i]);
            check_category(&x, &exts[i]);
        }
    vd_check_profile(&x, app);

    for (size_t i = 0; i < n; i++)
        if (exts[i].inspected)
            vd_check_notary(&x, &exts[i]);
    if (app->inspected)
        vd_check_notary(&x, app);
    vd_check_nested_binaries(&x, codes, n + 1);

    for (size_t i = 0; i < n; i++)
        if (exts[i].has_info)
            stage_launch(&x, &exts[i]);
    if (!out->launch)
        out->launch = vd_strdup(&x, "not launched: no extension can be activated");

    decide(out);
    /* The LAUNCH_* findings say what would happen to the process; the sentence says what does:
     * a failed activation (or a killed host app) never starts the extension. */
    if (out->outcome != SH_OUTCOME_OK) {
        sh_free(o->alloc, out->launch);
        out->launch = vd_strdup(&x, out->outcome == SH_OUTCOME_APP_KILLED
                                        ? "not launched: amfid kills the host app first"
                                        : "not launched: the activation request fails");
    }
    finish_log(&x, exts, n);
    for (size_t i = 0; i < n + 1; i++)
        vd_code_free(&codes[i]);
    sh_free(o->alloc, codes);
    return out->failure;
}

sh_err sh_verdict_run_executable(const char *label, const uint8_t *data, size_t len,
                                 const sh_verdict_options *o, sh_verdict *out)
{
    init_verdict(out, o);
    out->lone_executable = true;
    vd_ctx x = {NULL, o, out};
    vd_code *c = sh_calloc(o->alloc, 1, sizeof *c);
    if (!c)
        return out->failure = SH_E_NO_MEMORY;
    snprintf(c->exe, sizeof c->exe, "%s", label ? label : "");
    snprintf(c->root, sizeof c->root, "%s", c->exe);
    vd_add(&x, SH_RULE_LONE_EXECUTABLE, c->exe, SH_E_OK, true, "static validation of a lone executable");
    vd_check_code(&x, c, data, len);
    vd_summarise(&x, c, "executable");
    if (c->inspected)
        vd_check_notary(&x, c);
    stage_launch(&x, c);
    if (!out->launch)
        out->launch = vd_strdup(&x, "not launched: the executable does not validate");
    decide(out);
    vd_code_free(c);
    sh_free(o->alloc, c);
    return out->failure;
}

size_t sh_verdict_count(const sh_verdict *v, sh_rule_id rule)
{
    size_t n = 0;
    for (size_t i = 0; i < v->nfindings; i++)
        n += v->findings[i].rule == rule;
    return n;
}

static void free_strings(const sh_allocator *a, char **list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        sh_free(a, list[i]);
    sh_free(a, list);
}

void sh_verdict_free(sh_verdict *v)
{
    const sh_allocator *a = v->alloc;
    for (size_t i = 0; i < v->nfindings; i++) {
        sh_free(a, v->findings[i].subject);
        sh_free(a, v->findings[i].detail);
    }
    sh_free(a, v->findings);
    free_strings(a, v->log, v->nlog);
    free_strings(a, v->notary, v->nnotary);
    sh_free(a, v->launch);
    for (size_t i = 0; i < v->ncodes; i++) {
        char **fields[] = {&v->codes[i].path, &v->codes[i].role, &v->codes[i].identifier,
                           &v->codes[i].bundle_id, &v->codes[i].category, &v->codes[i].team,
                           &v->codes[i].signer, &v->codes[i].signer_kind, &v->codes[i].timestamp,
                           &v->codes[i].flags, &v->codes[i].cdhash, &v->codes[i].architectures};
        for (size_t k = 0; k < sizeof fields / sizeof fields[0]; k++)
            sh_free(a, *fields[k]);
    }
    sh_free(a, v->codes);
    memset(v, 0, sizeof *v);
}
