/* regress: judge the broken-bundle set and compare with the catalogue (regress.h). */
#include "regress.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "macho.h"
#include "signature.h"

static double seconds_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The verdict options for a case: the test root (decoded once, in the set's keyring) is the only
 * caller anchor, the notary list is the case's. */
typedef struct regress_env {
    sh_verdict_options opt;
    X509 *root;
    sh_notary_list list;
} regress_env;

static bool regress_env_init(regress_env *env, const sh_case_set *set, const sh_case *c,
                             const char *notary_text, size_t notary_len, char *why,
                             size_t why_size)
{
    memset(env, 0, sizeof *env);
    sh_error err = {0};
    if (sh_notary_list_parse((const uint8_t *)notary_text, notary_len, NULL, &env->list, &err) !=
        SH_E_OK) {
        snprintf(why, why_size, "notary list: line %lld", (long long)err.index);
        return false;
    }
    env->root = set->keys.count ? set->keys.ids[0].root : NULL;
    sh_verdict_options_init(&env->opt);
    env->opt.policy = c->development ? SH_POLICY_DEVELOPMENT : SH_POLICY_DISTRIBUTION;
    env->opt.location = c->effects.location[0] ? c->effects.location : NULL;
    env->opt.now = SH_REGRESS_NOW;
    env->opt.trust.anchor_x509 = &env->root;
    env->opt.trust.n_anchor_x509 = env->root ? 1 : 0;
    env->opt.trusted_root_is_apple = true;
    env->opt.notarized = &env->list;
    env->opt.udid = SH_FX_DEVICE_UDID;
    env->opt.memo = set->memo;
    return true;
}

/* Static-stage rules that are sysextd's own checks, not `codesign --verify --deep --strict`'s:
 * without -R codesign accepts any intact signature (ad hoc, Apple Development) and does not
 * compare the teams of nested code (8c#6: "each passes"). */
static bool codesign_checks(sh_rule_id rule)
{
    return rule != SH_RULE_POLICY_NOT_DEVELOPER_ID && rule != SH_RULE_POLICY_NOT_APPLE_SIGNED &&
           rule != SH_RULE_TEAM_ID_MISMATCH_APP_EXTENSION;
}

static void observe(const sh_verdict *v, sh_observed *o)
{
    memset(o, 0, sizeof *o);
    o->app_killed = v->outcome == SH_OUTCOME_APP_KILLED;
    o->sysext = v->sysext_code;
    o->errsec = v->errsec;
    /* codesign --verify --deep --strict: the first failing static check, extension first. */
    for (size_t i = 0; i < v->nfindings; i++)
        if (v->findings[i].stage == SH_STAGE_STATIC && v->findings[i].blocking &&
            codesign_checks(v->findings[i].rule)) {
            o->static_errsec = v->findings[i].errsec;
            o->static_rule = sh_rule_get(v->findings[i].rule)->name;
            break;
        }
    if (v->outcome != SH_OUTCOME_OK && v->deciding < v->nfindings)
        o->deciding_rule = sh_rule_get(v->findings[v->deciding].rule)->name;
    o->nnotary = v->nnotary;
    if (v->nnotary)
        snprintf(o->notary, sizeof o->notary, "%s", v->notary[0]);
    snprintf(o->launch, sizeof o->launch, "%s", v->launch ? v->launch : "");
    o->notarized = v->ncodes > 0;
    for (size_t i = 0; i < v->ncodes; i++)
        o->notarized = o->notarized && v->codes[i].notarized;
}

static bool notary_has(const sh_verdict *v, const char *msg)
{
    for (size_t i = 0; i < v->nnotary; i++)
        if (!strcmp(v->notary[i], msg))
            return true;
    return false;
}

/* Compares; writes the first difference into r->mismatch. */
static void compare(const sh_verdict *v, sh_regress_result *r)
{
    const sh_expectation *e = &r->expected;
    const sh_observed *o = &r->observed;
    char *m = r->mismatch;
    size_t n = sizeof r->mismatch;
    if (e->app_killed != o->app_killed)
        snprintf(m, n, "app killed: expected %s, got %s", e->app_killed ? "yes" : "no",
                 o->app_killed ? "yes" : "no");
    else if (e->sysext != o->sysext)
        snprintf(m, n, "activation: expected %d, got %d", e->sysext, o->sysext);
    else if (e->errsec != o->errsec)
        snprintf(m, n, "status: expected %d, got %d", e->errsec, o->errsec);
    else if (e->static_errsec != o->static_errsec)
        snprintf(m, n, "static validation: expected %d, got %d", e->static_errsec,
                 o->static_errsec);
    else if (!strcmp(r->policy, "distribution") && e->notary && !notary_has(v, e->notary))
        snprintf(m, n, "notary: expected \"%s\"%s%s", e->notary, o->nnotary ? ", got " : ", got none",
                 o->notary);
    else if (!strcmp(r->policy, "distribution") && !e->notary && o->nnotary)
        snprintf(m, n, "notary: expected no objection, got \"%s\"", o->notary);
    else if (e->launch && strncmp(o->launch, e->launch, strlen(e->launch)))
        snprintf(m, n, "launch: expected \"%s...\", got \"%s\"", e->launch, o->launch);
    r->pass = m[0] == '\0';
}

/* The set's notary list, minus the base's cdhashes (revoked), as text. */
static char *notary_text(const sh_case_set *set, const sh_case *c, size_t *len)
{
    char *text = malloc(set->notarized_len + 1);
    if (!text)
        return NULL;
    memcpy(text, set->notarized, set->notarized_len + 1);
    *len = set->notarized_len;
    if (c->effects.notary != SH_NOTARY_REVOKE)
        return text;
    for (size_t i = 0; i < c->base->ncdhashes; i++) {
        char hex[41];
        sh_fx_cdhash_hex(c->base->cdhashes[i].cdhash, hex);
        for (char *p = strstr(text, hex); p; p = strstr(p, hex))
            p[0] = '#'; /* a comment line now */
    }
    return text;
}

/* Appends one 40-hex line. */
static char *add_line(char *text, size_t *len, const uint8_t cdhash[20])
{
    char *grown = realloc(text, *len + 42);
    if (!grown) {
        free(text);
        return NULL;
    }
    text = grown;
    sh_fx_cdhash_hex(cdhash, text + *len);
    *len += 40;
    text[(*len)++] = '\n';
    text[*len] = '\0';
    return text;
}

/* Appends the cdhash of every CodeDirectory of every signed Mach-O in the bundle (each
 * architecture, each hash type), as a notarisation ticket records a submission's code. */
static char *add_bundle_cdhashes(char *text, size_t *len, const sh_bundle *b)
{
    for (size_t i = 0; text && i < b->count; i++) {
        const sh_bundle_entry *e = &b->entries[i];
        sh_macho_file f;
        sh_error err = {0};
        if (e->kind != SH_BUNDLE_FILE || sh_macho_parse(e->data, e->len, NULL, &f, &err) != SH_E_OK)
            continue;
        for (uint32_t k = 0; text && k < f.nslices; k++) {
            sh_cursor sig;
            sh_signature parsed;
            if (sh_macho_signature(&f.slices[k], &sig, &err) != SH_E_OK ||
                sh_signature_parse(&sig, &parsed, &err) != SH_E_OK)
                continue;
            for (uint32_t d = 0; text && d < parsed.ncds; d++)
                text = add_line(text, len, parsed.cds[d].cdhash);
        }
        sh_macho_free(&f);
    }
    return text;
}

static bool run_verdict(const sh_case_set *set, const sh_case *c, const char *text, size_t len,
                        sh_verdict *v, char *why, size_t why_size)
{
    regress_env env;
    if (!regress_env_init(&env, set, c, text, len, why, why_size))
        return false;
    sh_err rc = sh_verdict_run(c->bundle, &env.opt, v);
    sh_notary_list_free(&env.list);
    if (rc != SH_E_OK) {
        snprintf(why, why_size, "%s: the verdict engine ran out of memory", c->name);
        sh_verdict_free(v);
        return false;
    }
    return true;
}

/* The notary list case c is judged with: the set's, minus revoked cdhashes, plus every cdhash of
 * the case's code when it was resubmitted and the notary service accepts it.  Whether it does is
 * the case's declared expectation (no notary message), so the list is the scenario's, not the
 * engine's: an engine that disagrees shows up as a mismatch in the verdict judged with it. */
char *sh_regress_notary_list(const sh_case_set *set, const sh_case *c, char *why, size_t why_size)
{
    size_t len;
    char *text = notary_text(set, c, &len);
    if (text && c->effects.notary == SH_NOTARY_RESUBMIT && !c->development && !c->expected.notary)
        text = add_bundle_cdhashes(text, &len, c->bundle);
    if (!text)
        snprintf(why, why_size, "out of memory");
    return text;
}

bool sh_regress_judge(const sh_case_set *set, const sh_case *c, sh_regress_result *out,
                      char *why, size_t why_size)
{
    memset(out, 0, sizeof *out);
    double start = seconds_now();
    snprintf(out->name, sizeof out->name, "%s", c->name);
    snprintf(out->mutator, sizeof out->mutator, "%s", c->mutator);
    snprintf(out->base, sizeof out->base, "%s", c->spec->name);
    snprintf(out->category, sizeof out->category, "%s", sh_fx_category_name(c->spec->category));
    out->policy = sh_regress_policy_name(c);
    out->expected = c->expected;
    char *text = sh_regress_notary_list(set, c, why, why_size);
    if (!text)
        return false;
    sh_verdict v;
    if (!run_verdict(set, c, text, strlen(text), &v, why, why_size)) {
        free(text);
        return false;
    }
    out->notary_list = text;
    observe(&v, &out->observed);
    compare(&v, out);
    sh_verdict_free(&v);
    out->seconds = seconds_now() - start;
    return true;
}

const char *sh_regress_policy_name(const sh_case *c)
{
    return c->development ? "development" : "distribution";
}

typedef struct run_state {
    const sh_case_set *set;
    sh_regress_report *report;
    FILE *progress;
    bool tty; /* progress as one rewritten line, else a line every 100 cases */
    char why[256];
} run_state;

static bool judge_case(void *arg, const sh_case *c)
{
    run_state *s = arg;
    sh_regress_report *r = s->report;
    if (r->count == r->cap) {
        size_t cap = r->cap ? 2 * r->cap : 128;
        sh_regress_result *grown = realloc(r->results, cap * sizeof *grown);
        if (!grown)
            return false;
        r->results = grown;
        r->cap = cap;
    }
    if (!sh_regress_judge(s->set, c, &r->results[r->count], s->why, sizeof s->why))
        return false;
    if (!r->results[r->count].pass)
        r->failures++;
    r->count++;
    if (s->progress && s->tty)
        fprintf(s->progress, "\r[%zu] %-90.90s", r->count, c->name);
    else if (s->progress && r->count % 100 == 0)
        fprintf(s->progress, "regress: %zu cases judged, %zu mismatches so far\n", r->count,
                r->failures);
    return true;
}

bool sh_regress_run(const sh_case_filter *f, FILE *progress, sh_regress_report *out, char *why,
                    size_t why_size)
{
    memset(out, 0, sizeof *out);
    double start = seconds_now();
    sh_case_set set;
    if (!sh_case_set_build(f, &set, why, why_size))
        return false;
    run_state s = {&set, out, progress, progress && isatty(fileno(progress)), ""};
    bool ok = sh_case_set_each(&set, f, judge_case, &s, why, why_size);
    if (!ok && s.why[0])
        snprintf(why, why_size, "%s", s.why);
    if (progress && s.tty)
        fprintf(progress, "\r%-100s\r", "");
    sh_case_set_free(&set);
    out->seconds = seconds_now() - start;
    return ok;
}

void sh_regress_report_free(sh_regress_report *r)
{
    for (size_t i = 0; i < r->count; i++)
        free(r->results[i].notary_list);
    free(r->results);
    memset(r, 0, sizeof *r);
}
