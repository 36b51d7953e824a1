/* regress output: the table for people, JSON for tools, JUnit XML for CI systems. */
#include <stdio.h>
#include <string.h>

#include "json.h"
#include "regress.h"

static void verdict_text(int sysext, int errsec, bool killed, char *buf, size_t size)
{
    if (killed)
        snprintf(buf, size, "app killed %d", errsec);
    else if (sysext == 0 && errsec == 0)
        snprintf(buf, size, "OK");
    else
        snprintf(buf, size, "%d %d", sysext, errsec);
}

void sh_regress_print_table(const sh_regress_report *r, FILE *out)
{
    fprintf(out, "%-4s  %-64s  %-12s  %-16s  %s\n", "", "case", "policy", "expected", "observed");
    for (size_t i = 0; i < r->count; i++) {
        const sh_regress_result *x = &r->results[i];
        char want[48], got[48];
        verdict_text(x->expected.sysext, x->expected.errsec, x->expected.app_killed, want,
                     sizeof want);
        verdict_text(x->observed.sysext, x->observed.errsec, x->observed.app_killed, got,
                     sizeof got);
        fprintf(out, "%-4s  %-64s  %-12s  %-16s  %s\n", x->pass ? "ok" : "FAIL", x->name,
                x->policy, want, got);
        if (!x->pass)
            fprintf(out, "      %s\n", x->mismatch);
    }
    fprintf(out, "\n%zu cases, %zu passed, %zu failed (%.2f s)\n", r->count,
            r->count - r->failures, r->failures, r->seconds);
}

static void json_expectation(sh_json *j, const char *key, int sysext, int errsec, int static_errsec,
                             bool killed, const char *notary, const char *launch)
{
    sh_json_key(j, key);
    sh_json_object_begin(j);
    sh_json_kv_int(j, "sysext", sysext);
    sh_json_kv_int(j, "errsec", errsec);
    sh_json_kv_int(j, "static_errsec", static_errsec);
    sh_json_kv_bool(j, "app_killed", killed);
    sh_json_key(j, "notary");
    if (notary && notary[0])
        sh_json_string(j, notary);
    else
        sh_json_null(j);
    sh_json_key(j, "launch");
    if (launch)
        sh_json_string(j, launch);
    else
        sh_json_null(j);
    sh_json_object_end(j);
}

void sh_regress_print_json(const sh_regress_report *r, FILE *out)
{
    sh_json j;
    sh_json_init(&j, out);
    sh_json_object_begin(&j);
    sh_json_kv_string(&j, "schema", SH_REGRESS_JSON_SCHEMA);
    sh_json_kv_uint(&j, "cases", r->count);
    sh_json_kv_uint(&j, "failures", r->failures);
    sh_json_key(&j, "results");
    sh_json_array_begin(&j);
    for (size_t i = 0; i < r->count; i++) {
        const sh_regress_result *x = &r->results[i];
        sh_json_object_begin(&j);
        sh_json_kv_string(&j, "case", x->name);
        sh_json_kv_string(&j, "base", x->base);
        sh_json_kv_string(&j, "mutator", x->mutator);
        sh_json_kv_string(&j, "category", x->category);
        sh_json_kv_string(&j, "policy", x->policy);
        sh_json_kv_bool(&j, "pass", x->pass);
        sh_json_kv_string(&j, "mismatch", x->mismatch);
        const sh_expectation *e = &x->expected;
        json_expectation(&j, "expected", e->sysext, e->errsec, e->static_errsec, e->app_killed,
                         e->notary, e->launch);
        const sh_observed *o = &x->observed;
        json_expectation(&j, "observed", o->sysext, o->errsec, o->static_errsec, o->app_killed,
                         o->notary, o->launch);
        sh_json_object_end(&j);
    }
    sh_json_array_end(&j);
    sh_json_object_end(&j);
    fputc('\n', out);
}

static void xml_text(FILE *out, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '<': fputs("&lt;", out); break;
        case '>': fputs("&gt;", out); break;
        case '&': fputs("&amp;", out); break;
        case '"': fputs("&quot;", out); break;
        default:
            if ((unsigned char)*s >= 0x20 || *s == '\n' || *s == '\t')
                fputc(*s, out);
        }
    }
}

void sh_regress_print_junit(const sh_regress_report *r, FILE *out)
{
    fprintf(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    fprintf(out, "<testsuites name=\"sigharness regress\" tests=\"%zu\" failures=\"%zu\" time=\"%.3f\">\n",
            r->count, r->failures, r->seconds);
    fprintf(out, "  <testsuite name=\"catalogue\" tests=\"%zu\" failures=\"%zu\" time=\"%.3f\">\n",
            r->count, r->failures, r->seconds);
    for (size_t i = 0; i < r->count; i++) {
        const sh_regress_result *x = &r->results[i];
        fputs("    <testcase classname=\"", out);
        xml_text(out, x->base);
        fputs("\" name=\"", out);
        xml_text(out, x->mutator[0] ? x->mutator : "(base)");
        fprintf(out, " [%s]\" time=\"%.3f\"", x->policy, x->seconds);
        if (x->pass) {
            fputs("/>\n", out);
            continue;
        }
        fputs(">\n      <failure message=\"", out);
        xml_text(out, x->mismatch);
        fputs("\"/>\n    </testcase>\n", out);
    }
    fputs("  </testsuite>\n</testsuites>\n", out);
}

void sh_expectation_print_json(sh_json *j, const char *key, const sh_expectation *e)
{
    sh_json_key(j, key);
    sh_json_object_begin(j);
    sh_json_kv_bool(j, "activation_ok", e->sysext == 0 && !e->app_killed);
    sh_json_kv_int(j, "sysext", e->sysext);
    const char *sysext_name = e->sysext ? sh_sysext_error_name(e->sysext) : NULL;
    sh_json_kv_string(j, "sysext_name", sysext_name ? sysext_name : "");
    sh_json_kv_int(j, "errsec", e->errsec);
    const char *errsec_name = e->errsec ? sh_errsec_name(e->errsec) : NULL;
    sh_json_kv_string(j, "errsec_name", errsec_name ? errsec_name : "");
    sh_json_kv_int(j, "static_errsec", e->static_errsec);
    sh_json_kv_bool(j, "app_killed", e->app_killed);
    sh_json_key(j, "notary");
    if (e->notary)
        sh_json_string(j, e->notary);
    else
        sh_json_null(j);
    sh_json_kv_string(j, "launch", e->launch ? e->launch : "");
    sh_json_object_end(j);
}
