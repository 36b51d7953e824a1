/* `sigharness regress`, `sigharness mutators` and `sigharness mutate`. */
#include "regress_cmd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bundle_write.h"
#include "differential.h"
#include "json.h"
#include "mutation.h"
#include "readfile.h"
#include "regress.h"

static const char regress_usage[] =
    "usage: sigharness regress [--mutator NAME[+NAME...]] [--category CATEGORY]\n"
    "                          [--policy distribution|development] [--spec FILE]\n"
    "                          [--json] [--junit FILE] [--quiet]\n"
    "       sigharness regress (--tool NAME | --adapter FILE | --tool-cmd 'COMMAND {bundle}')\n"
    "                          [--jobs N] [--results DIR] [filters] [--json] [--junit FILE]\n"
    "\n"
    "Builds the built-in base bundles (or those of --spec), applies every catalogue mutator\n"
    "that fits each, judges every result with the verdict engine and compares it with the\n"
    "catalogue's declared expectation.  Prints a table and a summary (--json: a JSON report,\n"
    "schema " SH_REGRESS_JSON_SCHEMA "), a progress line on stderr while it runs (--quiet: none)\n"
    "and, with --junit FILE, a JUnit XML report.\n"
    "With --tool / --adapter / --tool-cmd, an external tool judges the fixtures instead and\n"
    "regress reports where it disagrees with the expectation (docs/differential.md).\n"
    "\n"
    "exit codes: 0 every case matches, 1 a mismatch (or a disagreement), 2 usage,\n"
    "            3 the set could not be built (a mutator failed to apply)\n";

static int usage(const char *text, const char *msg)
{
    if (msg)
        fprintf(stderr, "sigharness: %s\n\n", msg);
    fputs(text, stderr);
    return 2;
}

static bool write_text_file(const char *path, void (*print)(const sh_regress_report *, FILE *),
                            const sh_regress_report *r)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    if (!mem)
        return false;
    print(r, mem);
    fclose(mem);
    char why[256];
    sh_disk_status st = sh_write_file_atomic(path, (const uint8_t *)buf, len, true, why, sizeof why);
    free(buf);
    if (st != SH_DISK_OK)
        fprintf(stderr, "sigharness regress: %s: %s\n", path, why);
    return st == SH_DISK_OK;
}

static bool parse_filter_option(int argc, char **argv, int *i, sh_case_filter *f, char **spec_buf,
                                bool *bad)
{
    const char *o = argv[*i];
    if (*i + 1 >= argc)
        return false;
    const char *v = argv[*i + 1];
    if (!strcmp(o, "--mutator")) {
        f->mutator = v;
    } else if (!strcmp(o, "--category")) {
        f->category = v;
    } else if (!strcmp(o, "--policy")) {
        if (strcmp(v, "distribution") && strcmp(v, "development"))
            *bad = true;
        f->development = !strcmp(v, "development");
    } else if (!strcmp(o, "--spec")) {
        size_t len;
        const char *why = NULL;
        if (sh_read_file(v, (uint8_t **)spec_buf, &len, &why) != SH_E_OK) {
            fprintf(stderr, "sigharness: --spec %s: %s\n", v, why ? why : "cannot read");
            *bad = true;
        }
        f->spec = *spec_buf;
        f->spec_len = len;
    } else {
        return false;
    }
    (*i)++;
    return true;
}

int sh_regress_command(int argc, char **argv)
{
    sh_case_filter f = {NULL, NULL, -1, NULL, 0, NULL};
    sh_tool_options tool = {0};
    tool.jobs = 2;
    const char *junit = NULL;
    bool json = false, quiet = false, bad = false;
    char *spec_buf = NULL;
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i];
        if (!strcmp(o, "--help") || !strcmp(o, "-h")) {
            fputs(regress_usage, stdout);
            return 0;
        } else if (!strcmp(o, "--json")) {
            json = true;
        } else if (!strcmp(o, "--quiet")) {
            quiet = true;
        } else if (parse_filter_option(argc, argv, &i, &f, &spec_buf, &bad)) {
            continue;
        } else if (i + 1 < argc && !strcmp(o, "--junit")) {
            junit = argv[++i];
        } else if (i + 1 < argc && !strcmp(o, "--tool")) {
            tool.tool = argv[++i];
        } else if (i + 1 < argc && !strcmp(o, "--adapter")) {
            tool.adapter_file = argv[++i];
        } else if (i + 1 < argc && !strcmp(o, "--tool-cmd")) {
            tool.command = argv[++i];
        } else if (i + 1 < argc && !strcmp(o, "--jobs")) {
            tool.jobs = atoi(argv[++i]);
            bad |= tool.jobs < 1 || tool.jobs > 64;
        } else if (i + 1 < argc && !strcmp(o, "--results")) {
            tool.results_dir = argv[++i];
        } else {
            free(spec_buf);
            return usage(regress_usage, "unknown or incomplete option");
        }
    }
    if (bad) {
        free(spec_buf);
        return usage(regress_usage, "bad option value");
    }
    if (tool.tool || tool.adapter_file || tool.command) {
        int rc = sh_differential_run(&f, &tool, json, junit,
                                     quiet || !isatty(STDERR_FILENO) ? NULL : stderr);
        free(spec_buf);
        return rc;
    }
    sh_regress_report r;
    char why[256];
    FILE *progress = quiet ? NULL : stderr;
    bool ok = sh_regress_run(&f, progress, &r, why, sizeof why);
    free(spec_buf);
    if (!ok) {
        fprintf(stderr, "sigharness regress: %s\n", why);
        sh_regress_report_free(&r);
        return 3;
    }
    if (json)
        sh_regress_print_json(&r, stdout);
    else
        sh_regress_print_table(&r, stdout);
    if (junit && !write_text_file(junit, sh_regress_print_junit, &r)) {
        sh_regress_report_free(&r);
        return 3;
    }
    int rc = r.failures || r.count == 0 ? 1 : 0;
    sh_regress_report_free(&r);
    return rc;
}

/* ---- mutators ---- */

static const char *fits_text(unsigned fits, char *buf, size_t size)
{
    static const struct { unsigned bit; const char *name; } names[] = {
        {SH_FIT_NETWORK, "network"},         {SH_FIT_ENDPOINT_SECURITY, "endpoint-security"},
        {SH_FIT_CAMERA, "camera"},           {SH_FIT_DRIVER, "driver"},
        {SH_FIT_DEVELOPER_ID, "developer-id"}, {SH_FIT_DEVELOPMENT, "development"},
    };
    size_t n = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (fits & names[i].bit)
            n += (size_t)snprintf(buf + n, n < size ? size - n : 0, "%s%s", n ? "," : "",
                                  names[i].name);
    if (!buf[0])
        snprintf(buf, size, "any");
    return buf;
}

int sh_mutators_command(int argc, char **argv)
{
    bool json = argc == 2 && !strcmp(argv[1], "--json");
    if (argc > 2 || (argc == 2 && !json))
        return usage("usage: sigharness mutators [--json]\n", NULL);
    size_t count;
    const sh_mutator *all = sh_mutators(&count);
    if (!json) {
        for (size_t i = 0; i < count; i++) {
            char fits[128];
            const sh_expectation *e = &all[i].distribution;
            fprintf(stdout, "%-44s %-12s %s\n", all[i].name, sh_mut_stage_name(all[i].stage),
                    all[i].description);
            fprintf(stdout, "%-44s fits %s; distribution: %s%d %d%s%s\n", "",
                    fits_text(all[i].fits, fits, sizeof fits), e->app_killed ? "app killed " : "",
                    e->sysext, e->errsec, e->notary ? "; notary: " : "", e->notary ? e->notary : "");
        }
        fprintf(stdout, "%zu mutators\n", count);
        return 0;
    }
    sh_json j;
    sh_json_init(&j, stdout);
    sh_json_object_begin(&j);
    sh_json_kv_string(&j, "schema", "sigharness.mutators/1");
    sh_json_key(&j, "mutators");
    sh_json_array_begin(&j);
    for (size_t i = 0; i < count; i++) {
        char fits[128];
        sh_json_object_begin(&j);
        sh_json_kv_string(&j, "name", all[i].name);
        sh_json_kv_string(&j, "description", all[i].description);
        sh_json_kv_string(&j, "situation", all[i].situation);
        sh_json_kv_string(&j, "stage", sh_mut_stage_name(all[i].stage));
        sh_json_kv_string(&j, "fits", fits_text(all[i].fits, fits, sizeof fits));
        sh_expectation_print_json(&j, "distribution", &all[i].distribution);
        sh_expectation_print_json(&j, "development", &all[i].development);
        sh_json_object_end(&j);
    }
    sh_json_array_end(&j);
    sh_json_object_end(&j);
    fputc('\n', stdout);
    return 0;
}

/* ---- mutate ---- */

static const char mutate_usage[] =
    "usage: sigharness mutate BUNDLE --mutator NAME[+NAME...] -o OUT [--force] [--pki DIR]\n"
    "\n"
    "Applies catalogue mutators to any app bundle (a directory or a packed .shbundle) and\n"
    "writes the result to OUT (a directory, or a packed file when OUT ends in .shbundle),\n"
    "atomically; refuses an existing OUT without --force.  Mutators that re-sign use the test\n"
    "PKI (corpus/pki or --pki DIR).  Prints the expected verdict under both policies and the\n"
    "mutation's effects (install location, notarisation).\n";

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && !strcmp(s + n - m, suffix);
}

static bool load_bundle(const char *path, sh_bundle *b)
{
    uint8_t *data = NULL;
    size_t len = 0;
    const char *why = NULL;
    sh_error err = {0};
    char msg[256];
    if (sh_read_file(path, &data, &len, &why) == SH_E_OK) {
        sh_err rc = sh_bundle_unpack(data, len, NULL, b, &err);
        free(data);
        if (rc == SH_E_OK)
            return true;
        sh_error_format(&err, msg, sizeof msg);
        fprintf(stderr, "sigharness mutate: %s: %s\n", path, msg);
        return false;
    }
    char dir_why[256] = "";
    if (sh_bundle_read_dir(path, NULL, b, &err, dir_why, sizeof dir_why) == SH_E_OK)
        return true;
    sh_error_format(&err, msg, sizeof msg);
    fprintf(stderr, "sigharness mutate: %s: %s%s%s\n", path, msg, dir_why[0] ? ": " : "", dir_why);
    return false;
}

static void print_mutate_summary(const char *names, const sh_mut_ctx *ctx,
                                 const sh_expectation *dist, const sh_expectation *dev)
{
    static const char *const notary[] = {"unchanged", "resubmitted", "revoked"};
    printf("mutated with %s\n", names);
    printf("expected (distribution): %s%d %d%s%s\n", dist->app_killed ? "app killed " : "",
           dist->sysext, dist->errsec, dist->notary ? "; notary: " : "",
           dist->notary ? dist->notary : "");
    printf("expected (development):  %s%d %d\n", dev->app_killed ? "app killed " : "",
           dev->sysext, dev->errsec);
    printf("install location: %s\n", ctx->effects.location[0] ? ctx->effects.location
                                                               : "/Applications (default)");
    printf("notarisation: %s\n", notary[ctx->effects.notary]);
}

int sh_mutate_command(int argc, char **argv)
{
    const char *in = NULL, *names = NULL, *out = NULL, *pki = NULL;
    bool force = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            fputs(mutate_usage, stdout);
            return 0;
        } else if (!strcmp(argv[i], "--force")) {
            force = true;
        } else if (i + 1 < argc && !strcmp(argv[i], "--mutator")) {
            names = argv[++i];
        } else if (i + 1 < argc && !strcmp(argv[i], "-o")) {
            out = argv[++i];
        } else if (i + 1 < argc && !strcmp(argv[i], "--pki")) {
            pki = argv[++i];
        } else if (argv[i][0] != '-' && !in) {
            in = argv[i];
        } else {
            return usage(mutate_usage, "unknown or incomplete option");
        }
    }
    if (!in || !names || !out)
        return usage(mutate_usage, "BUNDLE, --mutator and -o are required");
    sh_bundle b;
    if (!load_bundle(in, &b))
        return 4;
    sh_mut_ctx ctx;
    sh_mut_ctx_init(&ctx, &b, SH_FX_SIGNING_TIME, pki);
    sh_expectation dist, dev;
    /* Applied twice from the same start would need a copy; the expectation depends only on the
     * names, so the development one is looked up without mutating again. */
    sh_bundle copy;
    sh_error err = {0};
    if (sh_bundle_clone(&b, &copy, &err) != SH_E_OK) {
        sh_bundle_free(&b);
        return 3;
    }
    sh_mut_ctx dev_ctx;
    sh_mut_ctx_init(&dev_ctx, &copy, SH_FX_SIGNING_TIME, pki);
    bool ok = sh_mutate(&ctx, names, false, &dist) && sh_mutate(&dev_ctx, names, true, &dev);
    sh_bundle_free(&copy);
    if (!ok) {
        fprintf(stderr, "sigharness mutate: %s\n", ctx.why[0] ? ctx.why : dev_ctx.why);
        sh_bundle_free(&b);
        return 1;
    }
    char why[256] = "";
    sh_disk_status st;
    if (ends_with(out, ".shbundle")) {
        uint8_t *packed = NULL;
        size_t len = 0;
        st = sh_bundle_pack(&b, &packed, &len, &err) == SH_E_OK
                 ? sh_write_file_atomic(out, packed, len, force, why, sizeof why)
                 : SH_DISK_NO_MEMORY;
        sh_free(b.alloc, packed);
    } else {
        st = sh_bundle_write_dir(&b, out, force, why, sizeof why);
    }
    if (st != SH_DISK_OK) {
        fprintf(stderr, "sigharness mutate: %s: %s\n", out, why[0] ? why : sh_disk_status_name(st));
        sh_bundle_free(&b);
        return st == SH_DISK_EXISTS ? 2 : 4;
    }
    print_mutate_summary(names, &ctx, &dist, &dev);
    sh_bundle_free(&b);
    return 0;
}
