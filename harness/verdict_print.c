/* The verdict as text for people and as JSON (docs/verdict-json.md) for tools. */
#include <inttypes.h>

#include "json.h"
#include "verdict.h"

static const char *errsec_name(int status)
{
    const char *n = sh_errsec_name(status);
    return n ? n : "unknown status";
}

static void print_code_line(const sh_verdict *v, FILE *out)
{
    if (v->outcome == SH_OUTCOME_OK) {
        fputs("verdict: OK\n", out);
        return;
    }
    const sh_finding *f = &v->findings[v->deciding];
    if (v->outcome == SH_OUTCOME_APP_KILLED)
        fprintf(out, "verdict: APP KILLED AT LAUNCH (no activation request is made): %s\n",
                sh_rule_get(f->rule)->name);
    else
        fprintf(out, "verdict: %d %s\n", v->sysext_code, sh_sysext_error_name(v->sysext_code));
    if (v->errsec)
        fprintf(out, "status: %d %s\n", v->errsec, errsec_name(v->errsec));
}

void sh_verdict_print_text(const sh_verdict *v, const char *label, FILE *out)
{
    fprintf(out, "%s: %s, policy %s\n", label,
            v->lone_executable ? "static validation of a lone executable" : "app bundle",
            sh_policy_name(v->policy));
    print_code_line(v, out);
    for (size_t i = 0; i < v->ncodes; i++) {
        const sh_code_summary *c = &v->codes[i];
        fprintf(out, "%s %s%s%s\n", c->role, *c->path ? c->path : ".",
                c->bundle_id ? " " : "", c->bundle_id ? c->bundle_id : "");
        fprintf(out, "  signature: %s; Identifier=%s; TeamIdentifier=%s\n",
                c->signature_valid ? "valid" : "INVALID", c->identifier,
                *c->team ? c->team : "not set");
        fprintf(out, "  Authority=%s (%s)\n", *c->signer ? c->signer : "-", c->signer_kind);
        fprintf(out, "  %s; flags=%s; CDHash=%s; arch=%s; notarized=%s\n",
                *c->timestamp ? c->timestamp : "no timestamp", *c->flags ? c->flags : "-",
                *c->cdhash ? c->cdhash : "-", *c->architectures ? c->architectures : "-",
                c->notarized ? "yes" : "no");
        if (c->category)
            fprintf(out, "  category: %s\n", c->category);
    }
    fprintf(out, "findings: %zu%s\n", v->nfindings, v->dropped ? " (more not recorded)" : "");
    for (size_t i = 0; i < v->nfindings; i++) {
        const sh_finding *f = &v->findings[i];
        const sh_rule *r = sh_rule_get(f->rule);
        fprintf(out, "  [%s] %s %s%s", sh_stage_name(f->stage), f->blocking ? "ERROR" : "note",
                r->name, i == v->deciding && v->outcome != SH_OUTCOME_OK ? " (decides)" : "");
        if (f->blocking)
            fprintf(out, " -> %d", f->sysext);
        if (f->errsec)
            fprintf(out, " / %d %s", f->errsec, errsec_name(f->errsec));
        fprintf(out, " [confidence %c]\n", r->confidence);
        fprintf(out, "    subject: %s\n", *f->subject ? f->subject : ".");
        if (*f->detail)
            fprintf(out, "    detail:  %s\n", f->detail);
        fprintf(out, "    cause:   %s\n    fix:     %s\n", r->cause, r->fix);
    }
    if (v->nnotary) {
        fputs("notary preflight (the notary service would answer):\n", out);
        for (size_t i = 0; i < v->nnotary; i++)
            fprintf(out, "  %s\n", v->notary[i]);
    }
    fprintf(out, "launch: %s\n", v->launch ? v->launch : "-");
    if (v->nlog) {
        fputs("log (predicted):\n", out);
        for (size_t i = 0; i < v->nlog; i++)
            fprintf(out, "  %s\n", v->log[i]);
    }
}

static void json_code(sh_json *j, int code)
{
    sh_json_object_begin(j);
    sh_json_kv_int(j, "code", code);
    const char *n = sh_sysext_error_name(code);
    if (n)
        sh_json_kv_string(j, "name", n);
    else
        sh_json_kv_string(j, "name", "OK");
    sh_json_object_end(j);
}

static void json_status(sh_json *j, int status)
{
    if (!status) {
        sh_json_null(j);
        return;
    }
    sh_json_object_begin(j);
    sh_json_kv_int(j, "code", status);
    sh_json_kv_string(j, "name", errsec_name(status));
    sh_json_object_end(j);
}

static void json_strings(sh_json *j, const char *key, char *const *list, size_t n)
{
    sh_json_key(j, key);
    sh_json_array_begin(j);
    for (size_t i = 0; i < n; i++)
        sh_json_string(j, list[i]);
    sh_json_array_end(j);
}

static void json_opt(sh_json *j, const char *key, const char *s)
{
    sh_json_key(j, key);
    if (s)
        sh_json_string(j, s);
    else
        sh_json_null(j);
}

void sh_verdict_print_json(const sh_verdict *v, const char *label, FILE *out)
{
    sh_json j;
    sh_json_init(&j, out);
    sh_json_object_begin(&j);
    sh_json_kv_string(&j, "schema", SH_VERDICT_JSON_SCHEMA);
    sh_json_kv_string(&j, "input", label);
    sh_json_kv_string(&j, "input_kind", v->lone_executable ? "executable" : "app");
    sh_json_kv_string(&j, "policy", sh_policy_name(v->policy));
    sh_json_kv_string(&j, "verdict", v->outcome == SH_OUTCOME_OK      ? "OK"
                                     : v->outcome == SH_OUTCOME_ERROR ? "error"
                                                                      : "app-killed");
    sh_json_key(&j, "activation");
    json_code(&j, v->outcome == SH_OUTCOME_ERROR ? v->sysext_code : 0);
    sh_json_key(&j, "status");
    json_status(&j, v->outcome == SH_OUTCOME_OK ? 0 : v->errsec);
    sh_json_key(&j, "deciding_finding");
    if (v->outcome == SH_OUTCOME_OK)
        sh_json_null(&j);
    else
        sh_json_uint(&j, v->deciding);
    sh_json_key(&j, "codes");
    sh_json_array_begin(&j);
    for (size_t i = 0; i < v->ncodes; i++) {
        const sh_code_summary *c = &v->codes[i];
        sh_json_object_begin(&j);
        sh_json_kv_string(&j, "path", c->path);
        sh_json_kv_string(&j, "role", c->role);
        json_opt(&j, "bundle_id", c->bundle_id);
        json_opt(&j, "category", c->category);
        sh_json_kv_string(&j, "identifier", c->identifier);
        sh_json_kv_string(&j, "team", c->team);
        sh_json_kv_string(&j, "signer", c->signer);
        sh_json_kv_string(&j, "signer_kind", c->signer_kind);
        sh_json_kv_string(&j, "timestamp", c->timestamp);
        sh_json_kv_string(&j, "flags", c->flags);
        sh_json_kv_string(&j, "cdhash", c->cdhash);
        sh_json_kv_string(&j, "architectures", c->architectures);
        sh_json_kv_bool(&j, "signature_valid", c->signature_valid);
        sh_json_kv_bool(&j, "notarized", c->notarized);
        sh_json_object_end(&j);
    }
    sh_json_array_end(&j);
    sh_json_key(&j, "findings");
    sh_json_array_begin(&j);
    for (size_t i = 0; i < v->nfindings; i++) {
        const sh_finding *f = &v->findings[i];
        const sh_rule *r = sh_rule_get(f->rule);
        sh_json_object_begin(&j);
        sh_json_kv_string(&j, "stage", sh_stage_name(f->stage));
        sh_json_kv_string(&j, "rule", r->name);
        sh_json_kv_bool(&j, "blocking", f->blocking);
        sh_json_kv_bool(&j, "kills_app", f->kills_app);
        sh_json_key(&j, "activation");
        json_code(&j, f->sysext);
        sh_json_key(&j, "status");
        json_status(&j, f->errsec);
        json_opt(&j, "error", f->err != SH_E_OK ? sh_err_name(f->err) : NULL);
        sh_json_kv_string(&j, "subject", f->subject);
        sh_json_kv_string(&j, "detail", f->detail);
        sh_json_kv_string(&j, "cause", r->cause);
        sh_json_kv_string(&j, "fix", r->fix);
        char conf[2] = {r->confidence, '\0'};
        sh_json_kv_string(&j, "confidence", conf);
        sh_json_kv_string(&j, "source", r->source);
        sh_json_object_end(&j);
    }
    sh_json_array_end(&j);
    sh_json_kv_uint(&j, "findings_dropped", v->dropped);
    json_strings(&j, "notary_preflight", v->notary, v->nnotary);
    json_opt(&j, "launch", v->launch);
    json_strings(&j, "log", v->log, v->nlog);
    sh_json_object_end(&j);
    fputc('\n', out);
}
