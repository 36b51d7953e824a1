/* `sigharness verify [options] PATH...` and `sigharness explain CODE`. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "bundle.h"
#include "readfile.h"
#include "verdict.h"
#include "verdict_cmd.h"

static const char verify_usage[] =
    "usage: sigharness verify [--policy distribution|development] [--location DIR]\n"
    "                         [--notarized FILE] [--now SECONDS] [--root DER-FILE] [--udid UDID]\n"
    "                         [--json] PATH...\n"
    "  PATH              an .app directory, a packed bundle (docs/packed-bundle.md) or a Mach-O\n"
    "  --policy          distribution (default: SIP on, Developer ID, notarisation required)\n"
    "                    or development (developer mode / SIP off, Apple Development accepted)\n"
    "  --location DIR    where the app is installed (default /Applications)\n"
    "  --notarized FILE  notarised cdhashes, one 40-hex-digit cdhash per line, '#' comments\n"
    "  --now SECONDS     evaluation time (seconds since 1970; default: the clock)\n"
    "  --root DER-FILE   trust this root besides Apple Root CA; it stands in for Apple's root\n"
    "                    in requirements (anchor apple generic): use it for the test PKI\n"
    "  --udid UDID       this Mac's provisioning UDID, checked against development profiles\n"
    "  --json            one JSON document per PATH (schema " SH_VERDICT_JSON_SCHEMA
    ", docs/verdict-json.md)\n"
    "exit codes: 0 every verdict OK; 1 an activation would fail or the app be killed;\n"
    "            2 usage error; 4 a PATH or option file cannot be read or unpacked\n";

typedef struct verify_args {
    sh_verdict_options opt;
    bool json;
    uint8_t *root;
    size_t root_len;
    sh_cursor root_view;
    sh_notary_list notarized;
    int first;
} verify_args;

static int usage(const char *msg)
{
    fprintf(stderr, "sigharness verify: %s\n\n%s", msg, verify_usage);
    return SH_VERIFY_EXIT_USAGE;
}

static bool parse_i64(const char *text, int64_t *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (errno || end == text || *end)
        return false;
    *out = v;
    return true;
}

static int load_notarized(verify_args *a, const char *path)
{
    uint8_t *data;
    size_t len;
    const char *why;
    if (sh_read_file(path, &data, &len, &why) != SH_E_OK) {
        fprintf(stderr, "sigharness verify: --notarized %s: %s\n", path, why);
        return SH_VERIFY_EXIT_UNREADABLE;
    }
    sh_error err = {0};
    sh_err e = sh_notary_list_parse(data, len, NULL, &a->notarized, &err);
    free(data);
    if (e != SH_E_OK) {
        char msg[512];
        sh_error_format(&err, msg, sizeof msg);
        fprintf(stderr, "sigharness verify: --notarized %s: line %lld: %s\n", path,
                (long long)err.index, msg);
        return SH_VERIFY_EXIT_UNREADABLE;
    }
    a->opt.notarized = &a->notarized;
    return SH_VERIFY_EXIT_OK;
}

/* Options come before the paths; returns an exit code, SH_VERIFY_EXIT_OK to go on. */
static int parse_args(int argc, char **argv, verify_args *a)
{
    sh_verdict_options_init(&a->opt);
    bool have_now = false;
    int i = 0;
    for (; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
        const char *o = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(o, "--") == 0) {
            i++;
            break;
        } else if (strcmp(o, "--json") == 0) {
            a->json = true;
            continue;
        }
        if (!val)
            return usage("option needs a value");
        i++;
        if (strcmp(o, "--policy") == 0) {
            if (strcmp(val, "distribution") == 0)
                a->opt.policy = SH_POLICY_DISTRIBUTION;
            else if (strcmp(val, "development") == 0)
                a->opt.policy = SH_POLICY_DEVELOPMENT;
            else
                return usage("--policy is distribution or development");
        } else if (strcmp(o, "--location") == 0) {
            a->opt.location = val;
        } else if (strcmp(o, "--udid") == 0) {
            a->opt.udid = val;
        } else if (strcmp(o, "--now") == 0) {
            if (!parse_i64(val, &a->opt.now))
                return usage("--now takes whole seconds since 1970");
            have_now = true;
        } else if (strcmp(o, "--notarized") == 0 && !a->opt.notarized) {
            int rc = load_notarized(a, val);
            if (rc != SH_VERIFY_EXIT_OK)
                return rc;
        } else if (strcmp(o, "--root") == 0 && !a->root) {
            const char *why;
            if (sh_read_file(val, &a->root, &a->root_len, &why) != SH_E_OK) {
                fprintf(stderr, "sigharness verify: --root %s: %s\n", val, why);
                return SH_VERIFY_EXIT_UNREADABLE;
            }
            a->root_view = sh_cursor_make(a->root, a->root_len);
            a->opt.trust.anchor_der = &a->root_view;
            a->opt.trust.n_anchor_der = 1;
            a->opt.trusted_root_is_apple = true;
        } else {
            return usage("unknown or repeated option");
        }
    }
    if (i >= argc)
        return usage("no PATH given");
    if (!have_now) /* the one clock read: the engine itself is a pure function of its inputs */
        a->opt.now = (int64_t)time(NULL);
    a->first = i;
    return SH_VERIFY_EXIT_OK;
}

static int verify_one(const verify_args *a, const char *path)
{
    struct stat st;
    sh_bundle b;
    sh_verdict v;
    sh_error err = {0};
    char why[512] = "";
    bool lone = false;
    uint8_t *data = NULL;
    size_t len = 0;
    if (stat(path, &st) != 0) {
        fprintf(stderr, "sigharness verify: %s: %s\n", path, strerror(errno));
        return SH_VERIFY_EXIT_UNREADABLE;
    }
    if (S_ISDIR(st.st_mode)) {
        if (sh_bundle_read_dir(path, NULL, &b, &err, why, sizeof why) != SH_E_OK) {
            char msg[512];
            sh_error_format(&err, msg, sizeof msg);
            fprintf(stderr, "sigharness verify: %s: %s (%s)\n", path, msg, why);
            return SH_VERIFY_EXIT_UNREADABLE;
        }
    } else {
        const char *rwhy;
        if (sh_read_file(path, &data, &len, &rwhy) != SH_E_OK) {
            fprintf(stderr, "sigharness verify: %s: %s\n", path, rwhy);
            return SH_VERIFY_EXIT_UNREADABLE;
        }
        lone = !sh_bundle_is_packed(data, len);
        if (!lone && sh_bundle_unpack(data, len, NULL, &b, &err) != SH_E_OK) {
            char msg[512];
            sh_error_format(&err, msg, sizeof msg);
            fprintf(stderr, "sigharness verify: %s: %s\n", path, msg);
            free(data);
            return SH_VERIFY_EXIT_UNREADABLE;
        }
    }
    if (lone)
        sh_verdict_run_executable(path, data, len, &a->opt, &v);
    else
        sh_verdict_run(&b, &a->opt, &v);
    if (a->json)
        sh_verdict_print_json(&v, path, stdout);
    else
        sh_verdict_print_text(&v, path, stdout);
    int rc = v.failure != SH_E_OK          ? SH_VERIFY_EXIT_UNREADABLE
             : v.outcome == SH_OUTCOME_OK ? SH_VERIFY_EXIT_OK
                                          : SH_VERIFY_EXIT_REFUSED;
    sh_verdict_free(&v);
    if (!lone)
        sh_bundle_free(&b);
    free(data);
    return rc;
}

int sh_verify_command(int argc, char **argv)
{
    if (argc == 1 && (strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0)) {
        fputs(verify_usage, stdout);
        return SH_VERIFY_EXIT_OK;
    }
    verify_args a;
    memset(&a, 0, sizeof a);
    int rc = parse_args(argc, argv, &a);
    if (rc == SH_VERIFY_EXIT_OK)
        for (int i = a.first; i < argc; i++) {
            int r = verify_one(&a, argv[i]);
            if (r > rc) /* 4 > 1 > 0 */
                rc = r;
        }
    sh_notary_list_free(&a.notarized);
    free(a.root);
    return rc;
}

/* ---- explain ---- */

static void explain_rule(const sh_rule *r, FILE *out)
{
    fprintf(out, "  %s (stage %s, confidence %c)\n    cause: %s\n    fix:   %s\n    source: %s\n",
            r->name, sh_stage_name(r->stage), r->confidence, r->cause, r->fix, r->source);
}

int sh_explain_command(int argc, char **argv)
{
    if (argc != 1) {
        fputs("usage: sigharness explain CODE   (an OSSystemExtensionErrorCode 1-13, an errSecCS "
              "status number or name, or a rule id)\n", stderr);
        return SH_VERIFY_EXIT_USAGE;
    }
    const char *arg = argv[0];
    int64_t n = 0;
    bool number = parse_i64(arg, &n);
    sh_rule_id rid;
    const sh_rule *named = sh_rule_find(arg, &rid);
    if (named) {
        fprintf(stdout, "rule %s\n", named->name);
        if (named->sysext)
            fprintf(stdout, "activation: %d %s\n", named->sysext, sh_sysext_error_name(named->sysext));
        explain_rule(named, stdout);
        return SH_VERIFY_EXIT_OK;
    }
    if (number && n >= 1 && n <= 13) {
        printf("%" PRId64 " %s\n  %s\ntypical causes and fixes:\n", n, sh_sysext_error_name((int)n),
               sh_sysext_error_meaning((int)n));
        size_t k = 0;
        for (int i = 0; i < SH_RULE_COUNT; i++)
            if (sh_rule_get((sh_rule_id)i)->sysext == n) {
                explain_rule(sh_rule_get((sh_rule_id)i), stdout);
                k++;
            }
        if (!k)
            puts("  (no finding of this tool leads to it: it depends on the request, the user or MDM)");
        return SH_VERIFY_EXIT_OK;
    }
    int status = 0;
    if (number && n < 0 && n > -100000)
        status = (int)n;
    else
        for (int s = -68000; s <= 0 && !status; s++) {
            const char *name = sh_errsec_name(s);
            if (name && strcmp(name, arg) == 0)
                status = s;
        }
    const char *name = status ? sh_errsec_name(status) : NULL;
    if (!name) {
        fprintf(stderr, "sigharness explain: %s is not an OSSystemExtensionErrorCode (1-13), a known "
                        "errSecCS status or a rule id\n", arg);
        return SH_VERIFY_EXIT_USAGE;
    }
    printf("%d %s\nreported by this tool for:\n", status, name);
    for (int i = 0; i < SH_RULE_COUNT; i++)
        if (sh_rule_get((sh_rule_id)i)->errsec == status)
            explain_rule(sh_rule_get((sh_rule_id)i), stdout);
    puts("parser errors with this status (errors.def):");
    for (int e = 0; e < SH_E_COUNT; e++)
        if ((int)sh_err_errsec((sh_err)e) == status)
            printf("  %s: %s\n", sh_err_name((sh_err)e), sh_err_message((sh_err)e));
    return SH_VERIFY_EXIT_OK;
}
