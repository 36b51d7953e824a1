/* Verify throughput: the whole verdict engine against the page-hashing floor.
 *
 *  1. The largest bundle of the base fixture catalogue (mutators/fixture_builtin.c), built in
 *     memory with sh_fx_build and judged by sh_verdict_run under the distribution policy, its
 *     cdhashes listed as notarised and the test root standing in for Apple's: a full clean
 *     verification of app + extension (CMS, chains, profiles, seals, page hashes).
 *  2. A synthesised arm64 executable of at least 64 MiB, re-signed with Developer ID (test PKI,
 *     secure timestamp, hardened runtime), judged by sh_verdict_run_executable.
 *  3. The floor, measured in the same run over the same big binary with bench_pagehash's method:
 *     sh_codedir_verify_pages alone (the page hashes are most of what 2 costs), interleaved
 *     run by run with 2 so that load from other processes falls on both alike.
 * Each is the best of several runs after a warm-up (one thread, CLOCK_MONOTONIC); every run must
 * verify (a signature that does not verify is not timed).  Throughput is input bytes per second;
 * the ratio is verdict throughput / page-hash throughput on the same bytes.
 *
 * Not a ctest test: `cmake --build <dir> --target bench` runs it in a Release build.
 * Usage: bench_verify [--json] [--mib N] [--runs N]     Exit: 0 measured, 1 a step failed,
 * 2 bad usage. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "codedir.h"
#include "fixture_build.h"
#include "fixture_spec.h"
#include "macho.h"
#include "macho_synth.h"
#include "notary_list.h"
#include "pki.h"
#include "signature.h"
#include "signer.h"
#include "verdict.h"

#define MIB (1024.0 * 1024.0)
#define MAX_RUNS 1000u

typedef struct bench_options {
    bool json;
    unsigned mib, runs;
} bench_options;

typedef struct timing {
    double best, median; /* seconds */
} timing;

typedef struct bench_result {
    char fixture[SH_FX_NAME_SIZE];
    uint64_t fixture_bytes;
    size_t fixture_entries;
    timing fixture_verdict;
    uint64_t exe_bytes;
    timing exe_verdict, pagehash;
    uint32_t pages;
    char loadavg[64];
} bench_result;

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void read_loadavg(char *buf, size_t size)
{
    snprintf(buf, size, "unknown");
    FILE *f = fopen("/proc/loadavg", "r");
    if (!f)
        return;
    if (fgets(buf, (int)size, f))
        buf[strcspn(buf, "\n")] = '\0';
    fclose(f);
}

static bool parse_unsigned(const char *s, unsigned max, unsigned *out)
{
    char *end;
    unsigned long v = strtoul(s, &end, 10);
    if (*s == '\0' || *end != '\0' || v == 0 || v > max)
        return false;
    *out = (unsigned)v;
    return true;
}

static bool parse_options(int argc, char **argv, bench_options *o)
{
    *o = (bench_options){false, 64, 7};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool has_value = i + 1 < argc;
        if (strcmp(a, "--json") == 0)
            o->json = true;
        else if (strcmp(a, "--mib") == 0 && has_value)
            { if (!parse_unsigned(argv[++i], 4096, &o->mib)) return false; }
        else if (strcmp(a, "--runs") == 0 && has_value)
            { if (!parse_unsigned(argv[++i], MAX_RUNS, &o->runs)) return false; }
        else
            return false;
    }
    return true;
}

static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static timing summarise(double *times, unsigned n)
{
    qsort(times, n, sizeof times[0], compare_doubles);
    return (timing){times[0], times[n / 2]};
}

static double mib_per_s(uint64_t bytes, double seconds)
{
    return seconds > 0 ? (double)bytes / MIB / seconds : 0;
}

/* ---- the shared context: the test root as the trusted stand-in for Apple's ---------------- */

typedef struct context {
    X509 *root;
    sh_pki_identity devid;
    sh_pki_tsa tsa;
} context;

static bool load_context(context *c)
{
    char why[SH_PKI_WHY_MAX];
    c->root = sh_pki_load_cert(NULL, "root", why, sizeof why);
    if (!c->root || !sh_pki_load_identity(NULL, "devid-team1", &c->devid, why, sizeof why) ||
        !sh_pki_load_tsa(NULL, &c->tsa, why, sizeof why)) {
        fprintf(stderr, "bench_verify: test PKI: %s\n", why);
        return false;
    }
    return true;
}

static void free_context(context *c)
{
    X509_free(c->root);
    sh_pki_identity_free(&c->devid);
    sh_pki_tsa_free(&c->tsa);
}

static void verdict_options(const context *c, X509 **anchor, const sh_notary_list *notarized,
                            sh_verdict_options *o)
{
    sh_verdict_options_init(o);
    o->policy = SH_POLICY_DISTRIBUTION;
    o->now = SH_FX_SIGNING_TIME + 86400;
    anchor[0] = c->root;
    o->trust.anchor_x509 = anchor;
    o->trust.n_anchor_x509 = 1;
    o->trusted_root_is_apple = true;
    o->notarized = notarized;
    o->udid = SH_FX_DEVICE_UDID;
}

/* Every code summarised verified; the verdict itself may refuse (a timing is still of a full
 * verification), but a signature that does not verify stops the benchmark. */
static bool all_valid(const sh_verdict *v, const char *what)
{
    for (size_t i = 0; i < v->ncodes; i++)
        if (!v->codes[i].signature_valid) {
            fprintf(stderr, "bench_verify: %s: %s signature does not verify\n", what,
                    v->codes[i].path);
            return false;
        }
    return v->ncodes > 0 && v->failure == SH_E_OK;
}

/* ---- 1: the largest base fixture ---------------------------------------------------------- */

static bool build_largest(sh_fx_built *out, char *name)
{
    sh_fx_spec spec;
    sh_error err = {0};
    if (sh_fx_spec_parse((const uint8_t *)sh_fx_builtin_spec, strlen(sh_fx_builtin_spec), NULL,
                         &spec, &err) != SH_E_OK) {
        fprintf(stderr, "bench_verify: built-in spec does not parse\n");
        sh_fx_spec_free(&spec);
        return false;
    }
    bool have = false;
    for (size_t i = 0; i < spec.count; i++) {
        sh_fx_built b;
        char why[256];
        if (!sh_fx_build(&spec.bundles[i], NULL, NULL, &b, why, sizeof why)) {
            fprintf(stderr, "bench_verify: %s: %s\n", spec.bundles[i].name, why);
            sh_fx_built_free(&b);
            continue;
        }
        if (!have || b.bundle.total_bytes > out->bundle.total_bytes) {
            if (have)
                sh_fx_built_free(out);
            *out = b;
            snprintf(name, SH_FX_NAME_SIZE, "%s", spec.bundles[i].name);
            have = true;
        } else {
            sh_fx_built_free(&b);
        }
    }
    sh_fx_spec_free(&spec);
    return have;
}

/* The fixture's cdhashes as a notarised list (what `fixtures base` writes to notarized.txt). */
static bool notary_list_of(const sh_fx_built *b, sh_notary_list *list)
{
    char text[SH_FX_MAX_CDHASHES * 41 + 1];
    size_t n = 0;
    for (size_t i = 0; i < b->ncdhashes; i++) {
        sh_fx_cdhash_hex(b->cdhashes[i].cdhash, text + n);
        text[n + 40] = '\n';
        n += 41;
    }
    return sh_notary_list_parse((const uint8_t *)text, n, NULL, list, NULL) == SH_E_OK;
}

static bool bench_fixture(const bench_options *o, const context *c, bench_result *r)
{
    sh_fx_built b;
    memset(&b, 0, sizeof b);
    if (!build_largest(&b, r->fixture))
        return false;
    sh_notary_list list;
    bool ok = notary_list_of(&b, &list);
    r->fixture_bytes = b.bundle.total_bytes;
    r->fixture_entries = b.bundle.count;
    X509 *anchor[1];
    sh_verdict_options vo;
    verdict_options(c, anchor, &list, &vo);
    double times[MAX_RUNS + 1];
    for (unsigned i = 0; ok && i <= o->runs; i++) { /* run 0 warms up */
        sh_verdict v;
        double t0 = now_seconds();
        sh_err e = sh_verdict_run(&b.bundle, &vo, &v);
        double t = now_seconds() - t0;
        ok = e == SH_E_OK && all_valid(&v, r->fixture);
        if (ok && i == 0 && v.outcome != SH_OUTCOME_OK)
            fprintf(stderr, "bench_verify: note: %s is refused (%d)\n", r->fixture, v.sysext_code);
        sh_verdict_free(&v);
        if (i > 0)
            times[i - 1] = t;
    }
    if (ok)
        r->fixture_verdict = summarise(times, o->runs);
    sh_notary_list_free(&list);
    sh_fx_built_free(&b);
    return ok;
}

/* ---- 2 and 3: the big executable ---------------------------------------------------------- */

static bool synthesise_signed(const bench_options *o, const context *c, sh_bytebuf *out)
{
    sh_synth_spec spec;
    sh_write_error we = {SH_W_OK, NULL};
    sh_synth_spec_init(&spec, SH_SYNTH_ARM64, "com.example.bench");
    spec.text_size = (uint64_t)o->mib << 20;
    spec.seed = 1;
    sh_bytebuf adhoc;
    sh_bytebuf_init(&adhoc, NULL);
    sh_write_status st = sh_synth_thin(&spec, &adhoc, NULL, &we);
    if (st != SH_W_OK) {
        fprintf(stderr, "bench_verify: synthesis failed: %s\n", sh_write_status_name(st));
        sh_bytebuf_free(&adhoc);
        return false;
    }
    sh_sign_options so;
    sh_sign_options_init(&so, "com.example.bench");
    so.identity = &c->devid;
    so.tsa = &c->tsa;
    so.runtime = true;
    so.force = true; /* the synthesiser's ad hoc signature is replaced */
    so.signing_time = SH_FX_SIGNING_TIME;
    sh_sign_result sr;
    sh_bytebuf_init(out, NULL);
    sh_sign_status ss = sh_sign_macho(adhoc.data, adhoc.len, &so, out, &sr);
    sh_bytebuf_free(&adhoc);
    if (ss != SH_SIGN_OK)
        fprintf(stderr, "bench_verify: signing failed: %s\n", sr.message);
    return ss == SH_SIGN_OK;
}

/* One verdict on the big executable; false when it fails or a signature does not verify. */
static bool time_verdict(const sh_verdict_options *vo, const sh_bytebuf *exe, double *t)
{
    sh_verdict v;
    double t0 = now_seconds();
    sh_err e = sh_verdict_run_executable("bench", exe->data, exe->len, vo, &v);
    *t = now_seconds() - t0;
    bool ok = e == SH_E_OK && all_valid(&v, "big executable");
    sh_verdict_free(&v);
    return ok;
}

/* bench_pagehash's measurement: sh_codedir_verify_pages over the slice, every page good. */
static bool time_pages(const sh_signature *sig, const sh_macho_file *m, double *t,
                       uint32_t *pages)
{
    sh_page_report report;
    sh_error err = {0};
    double t0 = now_seconds();
    sh_err e = sh_codedir_verify_pages(&sig->cds[0], &m->slices[0].data, &report, &err);
    *t = now_seconds() - t0;
    *pages = report.pages_checked;
    bool ok = e == SH_E_OK && report.pages_bad == 0 &&
              report.pages_checked == sig->cds[0].n_code_slots;
    if (!ok)
        fprintf(stderr, "bench_verify: page-hash verification failed\n");
    return ok;
}

/* The floor and the verdict over the same bytes, interleaved run by run so that load from
 * other processes falls on both alike (run 0 of each warms up). */
static bool bench_big(const bench_options *o, const context *c, const sh_bytebuf *exe,
                      bench_result *r)
{
    sh_macho_file m;
    sh_signature sig;
    sh_cursor sigdata;
    sh_error err = {0};
    if (sh_macho_parse(exe->data, exe->len, NULL, &m, &err) != SH_E_OK) {
        fprintf(stderr, "bench_verify: the big executable does not parse\n");
        return false;
    }
    bool ok = sh_macho_signature(&m.slices[0], &sigdata, &err) == SH_E_OK &&
              sh_signature_parse(&sigdata, &sig, &err) == SH_E_OK;
    X509 *anchor[1];
    sh_verdict_options vo;
    verdict_options(c, anchor, NULL, &vo);
    r->exe_bytes = exe->len;
    double pages[MAX_RUNS + 1], verdicts[MAX_RUNS + 1];
    for (unsigned i = 0; ok && i <= o->runs; i++)
        ok = time_pages(&sig, &m, &pages[i], &r->pages) && time_verdict(&vo, exe, &verdicts[i]);
    if (ok) {
        r->pagehash = summarise(pages + 1, o->runs);
        r->exe_verdict = summarise(verdicts + 1, o->runs);
    }
    sh_macho_free(&m);
    return ok;
}

/* ---- output ------------------------------------------------------------------------------- */

static void print_text(const bench_options *o, const bench_result *r)
{
    double page = mib_per_s(r->exe_bytes, r->pagehash.best);
    double exe = mib_per_s(r->exe_bytes, r->exe_verdict.best);
    double fx = mib_per_s(r->fixture_bytes, r->fixture_verdict.best);
    printf("load average before: %s; runs: %u (best; median in parentheses)\n", r->loadavg,
           o->runs);
    printf("page-hash floor (sh_codedir_verify_pages, %.1f MiB, %u pages): %.1f MiB/s (%.1f)\n",
           (double)r->exe_bytes / MIB, r->pages, page,
           mib_per_s(r->exe_bytes, r->pagehash.median));
    printf("verify lone executable (Developer ID, %.1f MiB): %.3f s, %.1f MiB/s (%.1f); "
           "ratio to floor %.3f\n",
           (double)r->exe_bytes / MIB, r->exe_verdict.best, exe,
           mib_per_s(r->exe_bytes, r->exe_verdict.median), page > 0 ? exe / page : 0);
    printf("verify largest base fixture (%s, %zu entries, %.1f KiB): %.2f ms, %.1f MiB/s (%.1f); "
           "ratio to floor %.3f\n",
           r->fixture, r->fixture_entries, (double)r->fixture_bytes / 1024.0,
           r->fixture_verdict.best * 1e3, fx,
           mib_per_s(r->fixture_bytes, r->fixture_verdict.median), page > 0 ? fx / page : 0);
}

static void print_json(const bench_options *o, const bench_result *r)
{
    double page = mib_per_s(r->exe_bytes, r->pagehash.best);
    double exe = mib_per_s(r->exe_bytes, r->exe_verdict.best);
    double fx = mib_per_s(r->fixture_bytes, r->fixture_verdict.best);
    printf("{\"schema\": \"sigharness.bench_verify/1\", \"loadavg\": \"%s\", \"runs\": %u, "
           "\"pagehash\": {\"bytes\": %llu, \"pages\": %u, \"best_seconds\": %.6f, "
           "\"mib_s\": %.2f}, "
           "\"executable\": {\"bytes\": %llu, \"best_seconds\": %.6f, \"mib_s\": %.2f, "
           "\"ratio_to_pagehash\": %.4f}, "
           "\"fixture\": {\"name\": \"%s\", \"bytes\": %llu, \"entries\": %zu, "
           "\"best_seconds\": %.6f, \"mib_s\": %.2f, \"ratio_to_pagehash\": %.4f}}\n",
           r->loadavg, o->runs, (unsigned long long)r->exe_bytes, r->pages, r->pagehash.best, page,
           (unsigned long long)r->exe_bytes, r->exe_verdict.best, exe, page > 0 ? exe / page : 0,
           r->fixture, (unsigned long long)r->fixture_bytes, r->fixture_entries,
           r->fixture_verdict.best, fx, page > 0 ? fx / page : 0);
}

int main(int argc, char **argv)
{
    bench_options o;
    bench_result r;
    context c;
    memset(&r, 0, sizeof r);
    memset(&c, 0, sizeof c);
    if (!parse_options(argc, argv, &o)) {
        fprintf(stderr, "usage: bench_verify [--json] [--mib N] [--runs N]\n");
        return 2;
    }
    read_loadavg(r.loadavg, sizeof r.loadavg);
    sh_bytebuf exe;
    sh_bytebuf_init(&exe, NULL);
    bool ok = load_context(&c) && bench_fixture(&o, &c, &r) && synthesise_signed(&o, &c, &exe) &&
              bench_big(&o, &c, &exe, &r);
    if (ok)
        (o.json ? print_json : print_text)(&o, &r);
    sh_bytebuf_free(&exe);
    free_context(&c);
    return ok ? 0 : 1;
}
