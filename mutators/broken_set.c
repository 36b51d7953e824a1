/* The broken-bundle set (broken_set.h). */
#include "broken_set.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sh_case_set_free(sh_case_set *set)
{
    for (size_t i = 0; i < set->nbases; i++)
        sh_fx_built_free(&set->bases[i]);
    free(set->bases);
    free(set->notarized);
    sh_fx_spec_free(&set->spec);
    sh_pki_keyring_free(&set->keys);
    sh_verify_memo_free(set->memo);
    memset(set, 0, sizeof *set);
}

static bool base_selected(const sh_case_filter *f, const sh_fx_bundle *b)
{
    if (f->category && strcmp(f->category, sh_fx_category_name(b->category)))
        return false;
    if (f->development >= 0 && (b->variant == SH_FX_DEVELOPMENT) != (f->development == 1))
        return false;
    return true;
}

static bool append_notarized(sh_case_set *set, const sh_fx_built *b)
{
    size_t add = b->ncdhashes * 41;
    char *grown = realloc(set->notarized, set->notarized_len + add + 1);
    if (!grown)
        return false;
    set->notarized = grown;
    for (size_t i = 0; i < b->ncdhashes; i++) {
        sh_fx_cdhash_hex(b->cdhashes[i].cdhash, set->notarized + set->notarized_len);
        set->notarized_len += 40;
        set->notarized[set->notarized_len++] = '\n';
    }
    set->notarized[set->notarized_len] = '\0';
    return true;
}

bool sh_case_set_build(const sh_case_filter *f, sh_case_set *set, char *why, size_t why_size)
{
    memset(set, 0, sizeof *set);
    const char *text = f->spec ? f->spec : sh_fx_builtin_spec;
    size_t len = f->spec ? f->spec_len : strlen(sh_fx_builtin_spec);
    sh_error err = {0};
    if (sh_fx_spec_parse((const uint8_t *)text, len, NULL, &set->spec, &err) != SH_E_OK) {
        sh_fx_error_format(&err, why, why_size);
        sh_case_set_free(set);
        return false;
    }
    char pki_why[SH_PKI_WHY_MAX];
    if (!sh_pki_keyring_load(&set->keys, f->pki_dir, pki_why, sizeof pki_why)) {
        snprintf(why, why_size, "test PKI: %s", pki_why);
        sh_case_set_free(set);
        return false;
    }
    set->memo = sh_verify_memo_new();
    set->bases = calloc(set->spec.count ? set->spec.count : 1, sizeof *set->bases);
    set->notarized = calloc(1, 1);
    if (!set->bases || !set->notarized) {
        snprintf(why, why_size, "out of memory");
        sh_case_set_free(set);
        return false;
    }
    for (size_t i = 0; i < set->spec.count; i++) {
        const sh_fx_bundle *b = &set->spec.bundles[i];
        set->nbases = i + 1; /* built or not, freed by sh_case_set_free */
        if (!base_selected(f, b))
            continue;
        char msg[256];
        if (!sh_fx_build_keyed(b, &set->keys, NULL, &set->bases[i], msg, sizeof msg)) {
            snprintf(why, why_size, "base %s: %s", b->name, msg);
            sh_case_set_free(set);
            return false;
        }
        if (b->notarized && !append_notarized(set, &set->bases[i])) {
            snprintf(why, why_size, "out of memory");
            sh_case_set_free(set);
            return false;
        }
    }
    return true;
}

/* A Developer ID base is also judged under the development policy (developer mode accepts
 * Developer ID signatures): "valid under both policies it is built for". */
#define DEVELOPMENT_POLICY_SUFFIX "--development-policy"

static bool run_case(const sh_case_set *set, size_t i, const sh_mut_ctx *probe, const char *names,
                     const sh_mutator *m, sh_case_fn fn, void *arg, char *why, size_t why_size)
{
    bool base_under_development = strcmp(names, DEVELOPMENT_POLICY_SUFFIX) == 0;
    if (base_under_development)
        names = "";
    const sh_fx_bundle *spec = &set->spec.bundles[i];
    sh_case c;
    memset(&c, 0, sizeof c);
    c.spec = spec;
    c.base = &set->bases[i];
    c.development = spec->variant == SH_FX_DEVELOPMENT || base_under_development;
    snprintf(c.mutator, sizeof c.mutator, "%s", names);
    snprintf(c.name, sizeof c.name, "%s%s%s%s", spec->name, names[0] ? "--" : "", names,
             base_under_development ? DEVELOPMENT_POLICY_SUFFIX : "");
    c.description = m ? m->description
                      : names[0] ? "composed mutation (expectation of its earliest stage)"
                                 : set->bases[i].description;
    c.situation = m ? m->situation : "";
    sh_bundle copy;
    sh_error err = {0};
    if (sh_bundle_clone(&set->bases[i].bundle, &copy, &err) != SH_E_OK) {
        snprintf(why, why_size, "out of memory");
        return false;
    }
    bool ok = true;
    if (names[0]) {
        sh_mut_ctx ctx;
        sh_mut_ctx_for_copy(&ctx, probe, &copy);
        ok = sh_mutate(&ctx, names, c.development, &c.expected);
        if (!ok)
            snprintf(why, why_size, "%s: %s", c.name, ctx.why);
        c.effects = ctx.effects;
    } else {
        c.expected = (sh_expectation){0, 0, 0, NULL, "launches", false};
    }
    c.bundle = &copy;
    if (ok && !fn(arg, &c)) {
        snprintf(why, why_size, "stopped at %s", c.name);
        ok = false;
    }
    sh_bundle_free(&copy);
    return ok;
}

bool sh_case_set_each(const sh_case_set *set, const sh_case_filter *f, sh_case_fn fn, void *arg,
                      char *why, size_t why_size)
{
    size_t count;
    const sh_mutator *all = sh_mutators(&count);
    for (size_t i = 0; i < set->nbases; i++) {
        const sh_fx_bundle *spec = &set->spec.bundles[i];
        if (!base_selected(f, spec))
            continue;
        sh_mut_ctx probe;
        sh_mut_ctx_init(&probe, (sh_bundle *)&set->bases[i].bundle, SH_FX_SIGNING_TIME, f->pki_dir);
        probe.keys = &set->keys;
        probe.memo = set->memo;
        if (f->mutator) {
            /* One named mutation (possibly composed): applied where its first component fits. */
            char first[128];
            snprintf(first, sizeof first, "%s", f->mutator);
            char *plus = strchr(first, '+');
            if (plus)
                *plus = '\0';
            const sh_mutator *m = sh_mutator_find(first);
            if (!m) {
                snprintf(why, why_size, "no mutator named \"%.64s\"", first);
                return false;
            }
            if (sh_mutator_fits(m, probe.fits) &&
                !run_case(set, i, &probe, f->mutator, plus ? NULL : m, fn, arg, why, why_size))
                return false;
            continue;
        }
        if (!run_case(set, i, &probe, "", NULL, fn, arg, why, why_size))
            return false;
        if (spec->variant == SH_FX_DEVELOPER_ID && f->development != 0 &&
            !run_case(set, i, &probe, DEVELOPMENT_POLICY_SUFFIX, NULL, fn, arg, why, why_size))
            return false;
        for (size_t k = 0; k < count; k++)
            if (sh_mutator_fits(&all[k], probe.fits) &&
                !run_case(set, i, &probe, all[k].name, &all[k], fn, arg, why, why_size))
                return false;
    }
    return true;
}
