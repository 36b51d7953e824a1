/* Page-hash verification throughput against OpenSSL's own SHA-256 speed.
 *
 * Synthesises a signed arm64 executable of at least 64 MiB in memory (4 KiB SHA-256 pages, as
 * codesign writes them), then times sh_codedir_verify_pages over it (best of several runs, one
 * thread, CLOCK_MONOTONIC) and runs `openssl speed -evp sha256 -bytes 4096 -seconds 2`, which
 * hashes the same block size on one core.  The ratio says how much the verifier costs on top of
 * the hash itself; the target is >= 0.9.  A raw sh_hasher_digest loop over the same pages is
 * timed too, to separate the verifier's overhead from the hasher's.
 *
 * Usage: bench_pagehash [--json] [--mib N] [--runs N] [--openssl-seconds N] [--no-openssl]
 * Exit status: 0 measured, 1 a step failed, 2 bad usage. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "codedir.h"
#include "hash.h"
#include "macho.h"
#include "macho_synth.h"
#include "signature.h"

#define MIB (1024.0 * 1024.0)

typedef struct bench_options {
    bool json, run_openssl;
    unsigned mib, runs, openssl_seconds;
} bench_options;

typedef struct bench_result {
    uint64_t file_size, code_limit;
    uint32_t pages;
    double synth_seconds;
    double verify_best, verify_median; /* seconds */
    double hasher_best;
    double openssl_mib_s; /* < 0 when not measured */
    char loadavg[64];
} bench_result;

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static bool parse_unsigned(const char *s, unsigned *out)
{
    char *end;
    unsigned long v = strtoul(s, &end, 10);
    if (*s == '\0' || *end != '\0' || v == 0 || v > 4096)
        return false;
    *out = (unsigned)v;
    return true;
}

static bool parse_options(int argc, char **argv, bench_options *o)
{
    *o = (bench_options){false, true, 64, 7, 2};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool has_value = i + 1 < argc;
        if (strcmp(a, "--json") == 0)
            o->json = true;
        else if (strcmp(a, "--no-openssl") == 0)
            o->run_openssl = false;
        else if (strcmp(a, "--mib") == 0 && has_value)
            { if (!parse_unsigned(argv[++i], &o->mib)) return false; }
        else if (strcmp(a, "--runs") == 0 && has_value)
            { if (!parse_unsigned(argv[++i], &o->runs)) return false; }
        else if (strcmp(a, "--openssl-seconds") == 0 && has_value)
            { if (!parse_unsigned(argv[++i], &o->openssl_seconds)) return false; }
        else
            return false;
    }
    return true;
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

/* ---- the binary under test ---------------------------------------------------------------- */

typedef struct subject {
    sh_bytebuf file;
    sh_macho_file macho;
    sh_signature sig;
    bool parsed;
} subject;

static bool synthesise(const bench_options *o, subject *s, bench_result *r)
{
    sh_synth_spec spec;
    sh_synth_layout layout;
    sh_write_error err = {SH_W_OK, NULL};
    sh_synth_spec_init(&spec, SH_SYNTH_ARM64, "com.example.bench");
    spec.text_size = (uint64_t)o->mib << 20;
    spec.seed = 1;
    sh_bytebuf_init(&s->file, NULL);
    double t0 = now_seconds();
    sh_write_status st = sh_synth_thin(&spec, &s->file, &layout, &err);
    r->synth_seconds = now_seconds() - t0;
    if (st != SH_W_OK) {
        fprintf(stderr, "bench_pagehash: synthesis failed: %s (%s)\n", sh_write_status_name(st),
                err.what ? err.what : "");
        return false;
    }
    r->file_size = s->file.len;
    r->code_limit = layout.signature_offset;
    return true;
}

static bool report_error(const char *step, sh_err e, const sh_error *err)
{
    char msg[256];
    sh_error_format(err, msg, sizeof msg);
    fprintf(stderr, "bench_pagehash: %s: %s: %s\n", step, sh_err_name(e), msg);
    return false;
}

static bool parse_subject(subject *s)
{
    sh_error err;
    sh_cursor sigdata;
    memset(&err, 0, sizeof err);
    sh_err e = sh_macho_parse(s->file.data, s->file.len, NULL, &s->macho, &err);
    if (e != SH_E_OK)
        return report_error("sh_macho_parse", e, &err);
    s->parsed = true;
    e = sh_macho_signature(&s->macho.slices[0], &sigdata, &err);
    if (e == SH_E_OK)
        e = sh_signature_parse(&sigdata, &s->sig, &err);
    return e == SH_E_OK || report_error("signature", e, &err);
}

static void free_subject(subject *s)
{
    if (s->parsed)
        sh_macho_free(&s->macho);
    sh_bytebuf_free(&s->file);
}

/* ---- timing ------------------------------------------------------------------------------- */

static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* One timed verification; false when it does not verify (timing a failure means nothing). */
static bool time_verify(const subject *s, double *seconds, uint32_t *pages)
{
    sh_page_report report;
    sh_error err;
    memset(&err, 0, sizeof err);
    double t0 = now_seconds();
    sh_err e = sh_codedir_verify_pages(&s->sig.cds[0], &s->macho.slices[0].data, &report, &err);
    *seconds = now_seconds() - t0;
    if (e != SH_E_OK)
        return report_error("sh_codedir_verify_pages", e, &err);
    if (report.pages_bad != 0 || report.pages_checked != s->sig.cds[0].n_code_slots) {
        fprintf(stderr, "bench_pagehash: %u bad pages of %u checked\n", report.pages_bad,
                report.pages_checked);
        return false;
    }
    *pages = report.pages_checked;
    return true;
}

static bool bench_verify(const bench_options *o, const subject *s, bench_result *r)
{
    double times[4096], warmup;
    if (!time_verify(s, &warmup, &r->pages)) /* faults the pages in, warms the caches */
        return false;
    for (unsigned i = 0; i < o->runs; i++)
        if (!time_verify(s, &times[i], &r->pages))
            return false;
    qsort(times, o->runs, sizeof times[0], compare_doubles);
    r->verify_best = times[0];
    r->verify_median = times[o->runs / 2];
    return true;
}

/* The hasher alone over the same pages: what verification costs at the least. */
static bool bench_hasher(const bench_options *o, const subject *s, bench_result *r)
{
    const sh_codedir *cd = &s->sig.cds[0];
    const uint8_t *code = s->macho.slices[0].data.p;
    uint64_t limit = cd->effective_limit, page = (uint64_t)1 << cd->page_shift;
    uint8_t digest[SH_HASH_MAX_SIZE];
    sh_hasher *h = sh_hasher_new(cd->hash_type);
    if (!h)
        return false;
    r->hasher_best = 1e9;
    bool ok = true;
    for (unsigned run = 0; ok && run < o->runs; run++) {
        double t0 = now_seconds();
        for (uint64_t off = 0; ok && off < limit; off += page)
            ok = sh_hasher_digest(h, code + off, (size_t)(limit - off < page ? limit - off : page),
                                  digest);
        double t = now_seconds() - t0;
        if (t < r->hasher_best)
            r->hasher_best = t;
    }
    sh_hasher_free(h);
    return ok;
}

/* ---- openssl speed ------------------------------------------------------------------------ */

/* "sha256          1655173.12k": thousands of bytes per second for 4096-byte blocks. */
static bool parse_openssl_line(const char *line, double *mib_s)
{
    char name[32];
    double kbytes;
    char unit;
    if (sscanf(line, "%31s %lf%c", name, &kbytes, &unit) != 3 || strcmp(name, "sha256") != 0 ||
        unit != 'k')
        return false;
    *mib_s = kbytes * 1000.0 / MIB;
    return true;
}

static bool run_openssl(const bench_options *o, bench_result *r)
{
    char cmd[128], line[512];
    snprintf(cmd, sizeof cmd, "openssl speed -evp sha256 -bytes 4096 -seconds %u 2>/dev/null",
             o->openssl_seconds);
    FILE *p = popen(cmd, "r");
    if (!p) {
        fprintf(stderr, "bench_pagehash: cannot run openssl\n");
        return false;
    }
    bool found = false;
    while (fgets(line, sizeof line, p))
        found = parse_openssl_line(line, &r->openssl_mib_s) || found;
    int status = pclose(p);
    if (!found || status != 0) {
        fprintf(stderr, "bench_pagehash: no sha256 result from `%s` (status %d)\n", cmd, status);
        return false;
    }
    return true;
}

/* ---- output ------------------------------------------------------------------------------- */

static double mib_per_s(uint64_t bytes, double seconds)
{
    return seconds > 0 ? (double)bytes / MIB / seconds : 0;
}

static void print_text(const bench_options *o, const bench_result *r)
{
    double verify = mib_per_s(r->code_limit, r->verify_best);
    printf("binary: arm64, %.1f MiB, %u pages of 4 KiB, SHA-256 (synthesised and signed in %.3f s)\n",
           (double)r->file_size / MIB, r->pages, r->synth_seconds);
    printf("load average before: %s; runs: %u (best; median %.1f MiB/s); raw sh_hasher_digest loop: %.1f MiB/s\n",
           r->loadavg, o->runs, mib_per_s(r->code_limit, r->verify_median),
           mib_per_s(r->code_limit, r->hasher_best));
    if (r->openssl_mib_s > 0)
        printf("page-hash verification: %.1f MiB/s; openssl speed sha256 (4096-byte blocks): %.1f MiB/s; ratio %.3f\n",
               verify, r->openssl_mib_s, verify / r->openssl_mib_s);
    else
        printf("page-hash verification: %.1f MiB/s; openssl speed sha256: not measured\n", verify);
}

static void print_json(const bench_options *o, const bench_result *r)
{
    double verify = mib_per_s(r->code_limit, r->verify_best);
    printf("{\"schema\": \"sigharness.bench_pagehash/1\", \"arch\": \"arm64\", \"hash\": \"sha256\", "
           "\"page_size\": 4096, \"file_bytes\": %llu, \"code_limit\": %llu, \"pages\": %u, "
           "\"runs\": %u, \"loadavg\": \"%s\", \"synth_seconds\": %.6f, "
           "\"verify_best_seconds\": %.6f, \"verify_mib_s\": %.2f, \"verify_median_mib_s\": %.2f, "
           "\"hasher_loop_mib_s\": %.2f, ",
           (unsigned long long)r->file_size, (unsigned long long)r->code_limit, r->pages, o->runs,
           r->loadavg, r->synth_seconds, r->verify_best, verify,
           mib_per_s(r->code_limit, r->verify_median), mib_per_s(r->code_limit, r->hasher_best));
    if (r->openssl_mib_s > 0)
        printf("\"openssl_sha256_4096_mib_s\": %.2f, \"ratio\": %.4f}\n", r->openssl_mib_s,
               verify / r->openssl_mib_s);
    else
        printf("\"openssl_sha256_4096_mib_s\": null, \"ratio\": null}\n");
}

int main(int argc, char **argv)
{
    bench_options o;
    bench_result r;
    subject s;
    memset(&r, 0, sizeof r);
    memset(&s, 0, sizeof s);
    r.openssl_mib_s = -1;
    if (!parse_options(argc, argv, &o)) {
        fprintf(stderr, "usage: bench_pagehash [--json] [--mib N] [--runs N] "
                        "[--openssl-seconds N] [--no-openssl]\n");
        return 2;
    }
    read_loadavg(r.loadavg, sizeof r.loadavg);
    bool ok = synthesise(&o, &s, &r) && parse_subject(&s) && bench_verify(&o, &s, &r) &&
              bench_hasher(&o, &s, &r);
    if (ok && o.run_openssl)
        ok = run_openssl(&o, &r);
    if (ok)
        (o.json ? print_json : print_text)(&o, &r);
    free_subject(&s);
    return ok ? 0 : 1;
}
