/* `sigharness calibrate RESULTS.json`: compare what Apple's tools said on a real Mac
 * (scripts/mac-capture.sh) with the oracle's expectations, and name the rules-table row behind
 * every disagreement so a correction is one line (calibrate.h). */
#include "calibrate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapter.h"
#include "differential.h"
#include "json_read.h"
#include "readfile.h"
#include "regress.h"
#include "verdict.h"

static const char calibrate_usage[] =
    "usage: sigharness calibrate RESULTS.json [--tools codesign[,spctl,syspolicy_check]]\n"
    "                            [--spec FILE] [--category CATEGORY]\n"
    "  RESULTS.json is what scripts/mac-capture.sh wrote on a Mac over the output of\n"
    "  `sigharness fixtures broken` (or `fixtures base`).  For every fixture and tool, the\n"
    "  tool's answer (read through harness/adapters/<tool>.adapter) is compared with the\n"
    "  expectation at the tool's level; each disagreement names the rules.def row (with its\n"
    "  source and confidence) or the catalogue entry to correct.  Default tools: codesign\n"
    "  (static validation: the test PKI's root is not trusted by a real Mac, so spctl and\n"
    "  syspolicy_check reject every fixture for that reason alone).  --spec and --category\n"
    "  must select the fixtures the Mac was given (as for `fixtures broken`).\n"
    "exit codes: 0 no disagreement, 1 disagreements, 2 usage, 3 RESULTS.json is malformed,\n"
    "            4 a file cannot be read\n";

typedef struct judged_case {
    sh_regress_result r;
    bool seen;
} judged_case;

typedef struct collect_state {
    const sh_case_set *set;
    judged_case *cases;
    size_t count, cap;
    char why[256];
} collect_state;

static bool collect(void *arg, const sh_case *c)
{
    collect_state *s = arg;
    if (s->count == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 128;
        judged_case *grown = realloc(s->cases, cap * sizeof *grown);
        if (!grown)
            return false;
        s->cases = grown;
        s->cap = cap;
    }
    memset(&s->cases[s->count], 0, sizeof s->cases[s->count]);
    if (!sh_regress_judge(s->set, c, &s->cases[s->count].r, s->why, sizeof s->why))
        return false;
    s->count++;
    return true;
}

static judged_case *find_case(collect_state *s, const char *name)
{
    for (size_t i = 0; i < s->count; i++)
        if (!strcmp(s->cases[i].r.name, name))
            return &s->cases[i];
    return NULL;
}

static bool tool_selected(const char *tools, const char *tool)
{
    size_t n = strlen(tool);
    for (const char *p = tools; (p = strstr(p, tool)) != NULL; p += n)
        if ((p == tools || p[-1] == ',') && (p[n] == '\0' || p[n] == ','))
            return true;
    return false;
}

static bool load_adapter(const char *tool, sh_adapter *a)
{
    char path[4096], why[SH_ADAPTER_WHY_MAX];
    snprintf(path, sizeof path, "%s/%s.adapter", SH_ADAPTER_DIR, tool);
    uint8_t *data = NULL;
    size_t len = 0;
    const char *read_why = NULL;
    if (sh_read_file(path, &data, &len, &read_why) != SH_E_OK)
        return false;
    bool ok = sh_adapter_parse((const char *)data, len, a, why, sizeof why);
    free(data);
    return ok;
}

/* The one-line correction for a disagreement. */
static void suggest(const sh_regress_result *r, sh_adapter_level level, bool want_accept,
                    const sh_tool_answer *ans, char *buf, size_t size)
{
    const char *rule = level == SH_ADAPTER_LEVEL_STATIC ? r->observed.static_rule
                                                        : r->observed.deciding_rule;
    sh_rule_id id;
    const sh_rule *row = rule ? sh_rule_find(rule, &id) : NULL;
    if (!want_accept && ans->outcome == SH_TOOL_ACCEPTED && row)
        snprintf(buf, size,
                 "rules.def %s (confidence %c; %s) rejects what the Mac accepts: make it advisory "
                 "(SYSEXT 0) or fix mutator %s",
                 row->name, row->confidence, row->source, r->mutator[0] ? r->mutator : "(base)");
    else if (!want_accept && ans->outcome == SH_TOOL_ACCEPTED)
        snprintf(buf, size, "catalogue entry %s expects a rejection the Mac does not make: fix its "
                            "expectation", r->mutator);
    else if (want_accept && row)
        snprintf(buf, size, "the Mac rejects (status %d) but rule %s passes it: re-check the rule",
                 ans->code, row->name);
    else if (want_accept)
        snprintf(buf, size, "the Mac rejects (status %d) and no rule does: add a rules.def row for "
                            "what mutator %s breaks",
                 ans->code, r->mutator[0] ? r->mutator : "(base)");
    else if (row)
        snprintf(buf, size, "rules.def %s: ERRSEC %d -> %d (confidence %c; %s)", row->name,
                 r->expected.static_errsec, ans->code, row->confidence, row->source);
    else
        snprintf(buf, size, "catalogue entry %s: static_errsec %d -> %d", r->mutator,
                 r->expected.static_errsec, ans->code);
}

typedef struct calib_counts {
    size_t compared, disagreements, unknown, skipped;
} calib_counts;

static void compare_result(collect_state *s, const sh_jv *item, const char *tools,
                           sh_adapter *adapters, const char *const *names, size_t nadapters,
                           calib_counts *n)
{
    const char *fixture = sh_jv_get_string(item, "fixture");
    const char *tool = sh_jv_get_string(item, "tool");
    const char *output = sh_jv_get_string(item, "output");
    int64_t status;
    if (!fixture || !tool || !output || !sh_jv_get_int(item, "exit", &status)) {
        n->skipped++;
        return;
    }
    size_t t = 0;
    while (t < nadapters && strcmp(names[t], tool))
        t++;
    if (t == nadapters || !tool_selected(tools, tool)) {
        n->skipped++;
        return;
    }
    judged_case *jc = find_case(s, fixture);
    if (!jc) {
        printf("?     %-60s  %-16s  not a fixture of this catalogue\n", fixture, tool);
        n->unknown++;
        return;
    }
    jc->seen = true;
    sh_tool_answer ans;
    sh_adapter_judge(&adapters[t], true, (int)status, false, output, &ans);
    sh_tool_expectation want = sh_tool_expect(adapters[t].level, &jc->r);
    n->compared++;
    bool accepted = ans.outcome == SH_TOOL_ACCEPTED;
    bool differs = want.accept != accepted ||
                   (!want.accept && want.code && ans.code && want.code != ans.code);
    if (!differs)
        return;
    n->disagreements++;
    char fix[512];
    suggest(&jc->r, adapters[t].level, want.accept, &ans, fix, sizeof fix);
    printf("DIFF  %-60s  %-16s  expected %s %d, Mac: %s %d\n      %s\n", fixture, tool,
           want.accept ? "accept" : "reject", want.code, accepted ? "accept" : "reject", ans.code,
           fix);
}

int sh_calibrate_command(int argc, char **argv)
{
    const char *results = NULL, *tools = "codesign";
    sh_case_filter f = {NULL, NULL, -1, NULL, 0, NULL};
    uint8_t *spec = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            fputs(calibrate_usage, stdout);
            return 0;
        } else if (i + 1 < argc && !strcmp(argv[i], "--tools")) {
            tools = argv[++i];
        } else if (i + 1 < argc && !strcmp(argv[i], "--category")) {
            f.category = argv[++i];
        } else if (i + 1 < argc && !strcmp(argv[i], "--spec") && !spec) {
            const char *why = NULL;
            if (sh_read_file(argv[++i], &spec, &f.spec_len, &why) != SH_E_OK) {
                fprintf(stderr, "sigharness calibrate: --spec: %s\n", why ? why : "unreadable");
                return 4;
            }
            f.spec = (const char *)spec;
        } else if (argv[i][0] != '-' && !results) {
            results = argv[i];
        } else {
            free(spec);
            fprintf(stderr, "sigharness calibrate: unknown or incomplete option\n\n%s",
                    calibrate_usage);
            return 2;
        }
    }
    if (!results) {
        free(spec);
        fprintf(stderr, "sigharness calibrate: RESULTS.json is required\n\n%s", calibrate_usage);
        return 2;
    }
    uint8_t *data = NULL;
    size_t len = 0;
    const char *read_why = NULL;
    if (sh_read_file(results, &data, &len, &read_why) != SH_E_OK) {
        fprintf(stderr, "sigharness calibrate: %s: %s\n", results, read_why);
        free(spec);
        return 4;
    }
    sh_json_doc doc;
    char why[256];
    bool parsed = sh_json_parse(data, len, NULL, &doc, why, sizeof why);
    free(data);
    const char *schema = parsed ? sh_jv_get_string(&doc.root, "schema") : NULL;
    const sh_jv *list = parsed ? sh_jv_get(&doc.root, "results") : NULL;
    if (!parsed || !schema || strcmp(schema, "sigharness.mac-capture/1") || !list ||
        list->type != SH_JV_ARRAY) {
        fprintf(stderr, "sigharness calibrate: %s: %s\n", results,
                parsed ? "not a sigharness.mac-capture/1 document" : why);
        if (parsed)
            sh_json_doc_free(&doc);
        free(spec);
        return 3;
    }

    static const char *const names[] = {"codesign", "spctl", "syspolicy_check"};
    sh_adapter adapters[3];
    size_t nadapters = 0;
    while (nadapters < 3 && load_adapter(names[nadapters], &adapters[nadapters]))
        nadapters++;
    collect_state s = {0};
    sh_case_set set;
    bool ok = sh_case_set_build(&f, &set, s.why, sizeof s.why);
    if (ok) {
        s.set = &set;
        ok = sh_case_set_each(&set, &f, collect, &s, why, sizeof why);
        sh_case_set_free(&set);
    }
    int rc = 3;
    if (ok) {
        const char *macos = sh_jv_get_string(&doc.root, "macos");
        printf("calibrating against macOS %s (%s)\n", macos ? macos : "?", results);
        calib_counts n = {0};
        for (size_t i = 0; i < list->count; i++)
            compare_result(&s, &list->items[i], tools, adapters, names, nadapters, &n);
        size_t missing = 0;
        for (size_t i = 0; i < s.count; i++)
            missing += !s.cases[i].seen;
        printf("\n%zu answers compared, %zu disagreements, %zu fixtures unknown to this catalogue, "
               "%zu answers of other tools skipped, %zu catalogue fixtures without an answer\n",
               n.compared, n.disagreements, n.unknown, n.skipped, missing);
        rc = n.disagreements || n.unknown ? 1 : 0;
    } else {
        fprintf(stderr, "sigharness calibrate: %s\n", s.why[0] ? s.why : why);
    }
    for (size_t i = 0; i < s.count; i++)
        free(s.cases[i].r.notary_list);
    free(s.cases);
    for (size_t i = 0; i < nadapters; i++)
        sh_adapter_free(&adapters[i]);
    sh_json_doc_free(&doc);
    free(spec);
    return rc;
}
