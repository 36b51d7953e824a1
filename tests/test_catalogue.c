/* The mutation catalogue, mutator by mutator: on every built-in base it fits, its output differs
 * from the base exactly where the catalogue says (every added, removed or changed entry matches
 * its `touches` pattern, and at least one entry changes), and applying it twice gives the same
 * bytes.  Names are unique kebab-case, every entry is described, and composition follows the
 * stage order. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ctype.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture_build.h"
#include "mutation.h"

typedef struct base {
    sh_fx_built built;
    unsigned fits;
    bool development;
} base;

static base *bases;
static size_t nbases;

static int setup(void **state)
{
    (void)state;
    sh_fx_spec spec;
    sh_error err = {0};
    if (sh_fx_spec_parse((const uint8_t *)sh_fx_builtin_spec, strlen(sh_fx_builtin_spec), NULL,
                         &spec, &err) != SH_E_OK)
        return -1;
    bases = calloc(spec.count, sizeof *bases);
    for (size_t i = 0; i < spec.count; i++) {
        char why[256];
        if (!sh_fx_build(&spec.bundles[i], NULL, NULL, &bases[i].built, why, sizeof why)) {
            fprintf(stderr, "%s: %s\n", spec.bundles[i].name, why);
            return -1;
        }
        sh_mut_ctx ctx;
        sh_mut_ctx_init(&ctx, &bases[i].built.bundle, SH_FX_SIGNING_TIME, NULL);
        bases[i].fits = ctx.fits;
        bases[i].development = spec.bundles[i].variant == SH_FX_DEVELOPMENT;
        nbases++;
    }
    sh_fx_spec_free(&spec);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    for (size_t i = 0; i < nbases; i++)
        sh_fx_built_free(&bases[i].built);
    free(bases);
    return 0;
}

static bool same_entry(const sh_bundle_entry *a, const sh_bundle_entry *b)
{
    return a->kind == b->kind && a->mode == b->mode && a->len == b->len &&
           (a->len == 0 || memcmp(a->data, b->data, a->len) == 0);
}

/* Every entry of a missing from b or different in b matches re; returns the number of such. */
static size_t check_changes(const sh_bundle *a, const sh_bundle *b, const regex_t *re,
                            const char *mutator, const char *base_name)
{
    size_t changed = 0;
    for (size_t i = 0; i < a->count; i++) {
        const sh_bundle_entry *other = sh_bundle_find(b, a->entries[i].path);
        if (other && same_entry(&a->entries[i], other))
            continue;
        changed++;
        if (regexec(re, a->entries[i].path, 0, NULL, 0) != 0)
            fail_msg("%s on %s changed %s, outside its declared touches", mutator, base_name,
                     a->entries[i].path);
    }
    return changed;
}

static void test_every_mutator_changes_only_what_it_declares(void **state)
{
    (void)state;
    size_t count;
    const sh_mutator *all = sh_mutators(&count);
    for (size_t m = 0; m < count; m++) {
        regex_t re;
        assert_int_equal(regcomp(&re, all[m].touches, REG_EXTENDED | REG_NOSUB), 0);
        size_t applied = 0;
        for (size_t i = 0; i < nbases; i++) {
            if (!sh_mutator_fits(&all[m], bases[i].fits))
                continue;
            sh_bundle twice[2];
            for (int k = 0; k < 2; k++) {
                assert_int_equal(sh_bundle_clone(&bases[i].built.bundle, &twice[k], NULL), SH_E_OK);
                sh_mut_ctx ctx;
                sh_mut_ctx_init(&ctx, &twice[k], SH_FX_SIGNING_TIME, NULL);
                sh_expectation e;
                if (!sh_mutate(&ctx, all[m].name, bases[i].development, &e))
                    fail_msg("%s on %s: %s", all[m].name, bases[i].built.app_dir, ctx.why);
            }
            const sh_bundle *base_b = &bases[i].built.bundle;
            size_t removed_or_changed = check_changes(base_b, &twice[0], &re, all[m].name,
                                                      bases[i].built.app_dir);
            size_t added_or_changed = check_changes(&twice[0], base_b, &re, all[m].name,
                                                    bases[i].built.app_dir);
            /* touches "^$" declares that nothing may change (re-signing deterministically). */
            bool must_change = strcmp(all[m].touches, "^$") != 0;
            if (must_change && removed_or_changed + added_or_changed == 0)
                fail_msg("%s on %s changed nothing", all[m].name, bases[i].built.app_dir);
            /* Deterministic: the same mutation twice gives the same bundle. */
            assert_int_equal(twice[0].count, twice[1].count);
            for (size_t e = 0; e < twice[0].count; e++) {
                assert_string_equal(twice[0].entries[e].path, twice[1].entries[e].path);
                if (!same_entry(&twice[0].entries[e], &twice[1].entries[e]))
                    fail_msg("%s is not deterministic: %s differs", all[m].name,
                             twice[0].entries[e].path);
            }
            sh_bundle_free(&twice[0]);
            sh_bundle_free(&twice[1]);
            applied++;
        }
        regfree(&re);
        if (applied == 0)
            fail_msg("%s fits no built-in base", all[m].name);
    }
}

static void test_names_and_descriptions(void **state)
{
    (void)state;
    size_t count;
    const sh_mutator *all = sh_mutators(&count);
    size_t neutral = 0;
    for (size_t m = 0; m < count; m++) {
        const char *n = all[m].name;
        assert_true(islower((unsigned char)n[0]));
        for (const char *p = n; *p; p++)
            assert_true(islower((unsigned char)*p) || isdigit((unsigned char)*p) ||
                        (*p == '-' && p[1] && p[1] != '-'));
        assert_ptr_equal(sh_mutator_find(n), &all[m]);
        assert_true(strlen(all[m].description) > 10);
        assert_true(strlen(all[m].situation) > 10);
        neutral += all[m].stage == SH_MUT_NEUTRAL;
        for (size_t k = 0; k < m; k++)
            assert_string_not_equal(all[k].name, n);
    }
    assert_null(sh_mutator_find("no-such-mutator"));
    (void)neutral;
}

static void test_composition_follows_stage_order(void **state)
{
    (void)state;
    size_t count;
    const sh_mutator *all = sh_mutators(&count);
    const sh_mutator *early = NULL, *late = NULL;
    for (size_t m = 0; m < count; m++) {
        if (all[m].fits != 0 || all[m].stage == SH_MUT_NEUTRAL) /* neutral never decides */
            continue;
        if (!early || all[m].stage < early->stage)
            early = &all[m];
        if (!late || all[m].stage > late->stage)
            late = &all[m];
    }
    assert_non_null(early);
    if (early->stage == late->stage)
        return;
    char names[256];
    snprintf(names, sizeof names, "%s+%s", late->name, early->name);
    sh_bundle b;
    assert_int_equal(sh_bundle_clone(&bases[0].built.bundle, &b, NULL), SH_E_OK);
    sh_mut_ctx ctx;
    sh_mut_ctx_init(&ctx, &b, SH_FX_SIGNING_TIME, NULL);
    sh_expectation e;
    assert_true(sh_mutate(&ctx, names, false, &e));
    assert_int_equal(e.errsec, early->distribution.errsec);
    assert_int_equal(e.sysext, early->distribution.sysext);
    sh_bundle_free(&b);

    sh_bundle_init(&b, NULL);
    sh_mut_ctx_init(&ctx, &b, SH_FX_SIGNING_TIME, NULL);
    assert_false(sh_mutate(&ctx, "no-such-mutator", false, &e));
    assert_string_equal(ctx.why, "no mutator named \"no-such-mutator\"");
    sh_bundle_free(&b);
}

/* S1 composed with a broken code page: the static finding (stage 3) decides, not the missing
 * notarisation (stage 5), whatever the order the names are given in. */
static void test_static_break_wins_over_not_notarized(void **state)
{
    (void)state;
    static const char *const orders[] = {"s1-not-notarized+extension-code-page-flipped",
                                         "extension-code-page-flipped+s1-not-notarized"};
    for (size_t k = 0; k < 2; k++) {
        sh_bundle b;
        assert_int_equal(sh_bundle_clone(&bases[0].built.bundle, &b, NULL), SH_E_OK);
        sh_mut_ctx ctx;
        sh_mut_ctx_init(&ctx, &b, SH_FX_SIGNING_TIME, NULL);
        sh_expectation e;
        assert_true(sh_mutate(&ctx, orders[k], false, &e));
        assert_int_equal(e.sysext, 8);
        assert_int_equal(e.errsec, -67061);        /* errSecCSSignatureFailed, 8c#13 */
        assert_int_equal(e.static_errsec, -67061);
        assert_int_equal(ctx.effects.notary, SH_NOTARY_REVOKE);
        sh_bundle_free(&b);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names_and_descriptions),
        cmocka_unit_test(test_every_mutator_changes_only_what_it_declares),
        cmocka_unit_test(test_composition_follows_stage_order),
        cmocka_unit_test(test_static_break_wins_over_not_notarized),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
