/* Allocation-failure sweep (issue 8).  For every row of the table below: a clean run first (the
 * baseline outcome and fingerprint), then runs with allocation k = 0, 1, 2, ... and every later
 * one failing, until a run completes with no failure injected.  Every run that had a failure
 * injected must
 *   - return (no crash; ASan/UBSan/LSan watch the process),
 *   - release everything it allocated (live count back to where it was),
 *   - leave no output file in the scratch directory,
 *   - and, when it still reports success, have produced exactly the baseline result.
 *
 * Two builds: normally the failures come from an explicit counting sh_allocator handed to every
 * entry point that takes one (parsers, bytebuf writers).  With -DSH_ALLOC_INJECT=ON (preset
 * alloc-inject) the failures come from parsers/alloc_inject.h instead, which also counts the
 * default allocator (signer, CLI commands, hashing) and OpenSSL; libplist and the C library
 * (regcomp, stdio, opendir) are the only allocators no build can fail.
 *
 * A row is one line: add one for each new entry point (bundle reader, bundle signer, fixture
 * builder, verdict engine, mutation catalogue) as it lands. */
#include <errno.h>
#include <ftw.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/err.h>

#include "alloc_inject.h"
#include "bundle.h"
#include "entitlements.h"
#include "fixture_build.h"
#include "fixture_spec.h"
#include "macho_synth.h"
#include "signer.h"
#include "sweep.h"

typedef struct sweep_row {
    sweep_driver run;
    bool needs_fixture; /* setup builds in->fixture (a signed app with a system extension) */
} sweep_row;

/* ---- counting ------------------------------------------------------------------------------ */

typedef struct sweep_counts {
    long allocations, injected, live, openssl_live;
} sweep_counts;

/* The explicit allocator of normal builds: fails allocation fail_at and every later one. */
typedef struct explicit_counter {
    long fail_at; /* < 0: never */
    sweep_counts counts;
} explicit_counter;

static void *counted_alloc(void *ctx, size_t size)
{
    explicit_counter *c = ctx;
    long n = c->counts.allocations++;
    if (c->fail_at >= 0 && n >= c->fail_at) {
        c->counts.injected++;
        return NULL;
    }
    void *p = malloc(size);
    if (p)
        c->counts.live++;
    return p;
}

static void counted_release(void *ctx, void *ptr)
{
    explicit_counter *c = ctx;
    c->counts.live--;
    free(ptr);
}

typedef struct sweep_state {
    const sweep_row *row;
    sweep_inputs in;
    explicit_counter counter;
    sh_allocator allocator;
} sweep_state;

static void arm(sweep_state *st, long fail_at)
{
    st->counter.fail_at = fail_at;
    st->counter.counts.allocations = 0;
    st->counter.counts.injected = 0;
#ifdef SH_ALLOC_INJECT
    sh_alloc_inject_arm(fail_at);
#endif
}

static void disarm(sweep_state *st)
{
    st->counter.fail_at = -1;
#ifdef SH_ALLOC_INJECT
    sh_alloc_inject_disarm();
#endif
}

static sweep_counts counts(const sweep_state *st)
{
#ifdef SH_ALLOC_INJECT
    sh_alloc_inject_stats g = sh_alloc_inject_get();
    sweep_counts c = {g.allocations, g.injected, g.live, g.openssl_live};
    (void)st;
    return c;
#else
    return st->counter.counts;
#endif
}

static const sh_allocator *driver_allocator(sweep_state *st)
{
#ifdef SH_ALLOC_INJECT
    (void)st;
    return NULL; /* the default allocator is the counted one */
#else
    return &st->allocator;
#endif
}

/* ---- the sweep ----------------------------------------------------------------------------- */

/* No row comes near this (the largest make a few tens of thousands of allocations). */
#define SWEEP_MAX_RUNS 200000L
/* Runs per row before the sweep samples: a row whose clean run makes N > SWEEP_FULL allocations
 * fails every (N / SWEEP_FULL + 1)-th one instead of each (the cost of a sweep grows as N^2).
 * SH_SWEEP_EXHAUSTIVE=1 in the environment fails every one. */
#define SWEEP_FULL 500L

static long stride_for(long allocations)
{
    const char *all = getenv("SH_SWEEP_EXHAUSTIVE");
    if ((all && strcmp(all, "1") == 0) || allocations <= SWEEP_FULL)
        return 1;
    return allocations / SWEEP_FULL + 1;
}

typedef struct run_result {
    int rc;
    uint64_t fingerprint;
    sweep_counts before, after;
} run_result;

static run_result run_once(sweep_state *st, const sweep_row *row, long fail_at)
{
    run_result r;
    sweep s = {.a = driver_allocator(st), .in = &st->in, .fingerprint = 0};
    r.before = counts(st);
    arm(st, fail_at);
    r.rc = row->run(&s);
    r.after = counts(st);
    disarm(st);
    ERR_clear_error(); /* OpenSSL's per-thread error queue is not the driver's to keep */
    r.fingerprint = s.fingerprint;
    return r;
}

static void sweep_one(void **state)
{
    sweep_state *st = *state;
    const sweep_row *row = st->row;
    /* Twice clean: the first run warms OpenSSL's one-time caches (providers, error strings),
     * which must not count as leaks or be the allocation a later run fails. */
    run_result base = run_once(st, row, -1);
    assert_int_equal(base.rc, 0);
    sweep_dir_clean_output(&st->in);
    base = run_once(st, row, -1);
    assert_int_equal(base.rc, 0);
    assert_int_equal(base.after.live, base.before.live);
    sweep_dir_clean_output(&st->in);
    assert_int_equal(base.after.openssl_live, base.before.openssl_live);
    long runs = 0, failed = 0, tolerated = 0, stride = stride_for(base.after.allocations);
    for (long k = 0;; k += stride) {
        assert_true(k < SWEEP_MAX_RUNS);
        run_result r = run_once(st, row, k);
        runs++;
        if (r.after.injected == 0) {
            /* past the last allocation: the run is the baseline again */
            assert_int_equal(r.rc, 0);
            assert_true(r.fingerprint == base.fingerprint);
            sweep_dir_clean_output(&st->in);
            break;
        }
        if (r.after.live != r.before.live)
            fail_msg("fail at %ld: %ld block(s) not released (rc %d)", k,
                     r.after.live - r.before.live, r.rc);
        if (r.after.openssl_live != r.before.openssl_live)
            fail_msg("fail at %ld: %ld OpenSSL block(s) not released (rc %d)", k,
                     r.after.openssl_live - r.before.openssl_live, r.rc);
        if (r.rc == 0) {
            tolerated++;
            if (r.fingerprint != base.fingerprint)
                fail_msg("fail at %ld: reported success but produced a different result", k);
            sweep_dir_clean_output(&st->in);
        } else {
            failed++;
            if (sweep_dir_has_output(&st->in))
                fail_msg("fail at %ld: failed (rc %d) but left a file in %s", k, r.rc, st->in.dir);
        }
    }
    printf("    %ld allocation(s) in a clean run; %ld runs (k step %ld): %ld failed cleanly, %ld "
           "tolerated the failure\n",
           base.after.allocations, runs, stride, failed, tolerated);
}

/* ---- inputs -------------------------------------------------------------------------------- */

static void load(const char *rel, sweep_file *out)
{
    const char *src = getenv("SH_SOURCE_DIR");
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", src ? src : ".", rel);
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open %s: %s", path, strerror(errno));
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    assert_true(n > 0);
    out->data = sh_calloc(NULL, 1, (size_t)n);
    assert_non_null(out->data);
    out->len = fread(out->data, 1, (size_t)n, f);
    fclose(f);
    assert_int_equal(out->len, (size_t)n);
}

static void write_at(const char *dir, const char *rel, const void *data, size_t len, char *path_out,
                     size_t path_size)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
    if (path_out) {
        size_t n = strlen(path);
        assert_true(n < path_size);
        memcpy(path_out, path, n + 1);
    }
}

/* The DER form of the XML entitlements (the DER seeds in the corpus are fuzzer-made and mostly
 * invalid). */
static void make_der_entitlements(sweep_inputs *in)
{
    sh_cursor c = sh_cursor_make(in->ent_xml.data, in->ent_xml.len);
    sh_entitlements e;
    sh_ent_path path;
    sh_error err = {0};
    assert_int_equal(sh_entitlements_parse_xml(&c, NULL, &e, &path, &err), SH_E_OK);
    assert_int_equal(sh_entitlements_encode_der(&e.root, NULL, &in->ent_der.data, &in->ent_der.len,
                                                &path, &err),
                     SH_E_OK);
    sh_entitlements_free(&e);
}

static void make_bundle(sweep_inputs *in)
{
    char p[512];
    snprintf(in->bundle_dir, sizeof in->bundle_dir, "%s/bundle", in->dir);
    const char *dirs[] = {"", "/Contents", "/Contents/MacOS", "/Contents/Resources",
                          "/Contents/Resources/en.lproj"};
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
        snprintf(p, sizeof p, "%s%s", in->bundle_dir, dirs[i]);
        assert_int_equal(mkdir(p, 0755), 0);
    }
    write_at(in->bundle_dir, "Contents/Info.plist", in->infoplist.data, in->infoplist.len, NULL, 0);
    write_at(in->bundle_dir, "Contents/MacOS/main", in->thin, in->thin_len, NULL, 0);
    write_at(in->bundle_dir, "Contents/Resources/a.txt", "a\n", 2, NULL, 0);
    write_at(in->bundle_dir, "Contents/Resources/en.lproj/b.strings", "\"b\" = \"c\";", 10, NULL, 0);
    snprintf(p, sizeof p, "%s/Contents/Resources/link", in->bundle_dir);
    assert_int_equal(symlink("a.txt", p), 0);
}

/* thin signed with every option, for inspect to verify down to the test root. */
static void make_devid_binary(sweep_inputs *in)
{
    char why[SH_PKI_WHY_MAX];
    assert_true(sh_pki_load_identity(sh_pki_default_dir(), "devid-team1", &in->id, why, sizeof why));
    assert_true(sh_pki_load_tsa(sh_pki_default_dir(), &in->tsa, why, sizeof why));
    sh_sign_options o;
    sweep_sign_options(in, &o);
    sh_bytebuf out;
    sh_bytebuf_init(&out, NULL);
    sh_sign_result r;
    assert_int_equal(sh_sign_macho(in->thin, in->thin_len, &o, &out, &r), SH_SIGN_OK);
    write_at(in->dir, "devid.bin", out.data, out.len, in->devid_path, sizeof in->devid_path);
    sh_bytebuf_free(&out);
}

static void make_fixture(sweep_inputs *in)
{
    sh_fx_spec spec;
    sh_error err = {0};
    assert_int_equal(sh_fx_spec_parse((const uint8_t *)sh_fx_builtin_spec,
                                      strlen(sh_fx_builtin_spec), NULL, &spec, &err),
                     SH_E_OK);
    in->fixture = calloc(1, sizeof *in->fixture);
    assert_non_null(in->fixture);
    char why[256];
    if (!sh_fx_build(&spec.bundles[0], NULL, NULL, in->fixture, why, sizeof why))
        fail_msg("fixture: %s", why);
    sh_fx_spec_free(&spec);
}

/* cmocka's initial state is the row; it becomes the row plus freshly made inputs. */
static int row_setup(void **state)
{
    sweep_state *st = calloc(1, sizeof *st);
    assert_non_null(st);
    st->row = *state;
    st->allocator = (sh_allocator){counted_alloc, counted_release, &st->counter};
    st->counter.fail_at = -1;
    sweep_inputs *in = &st->in;
    load("corpus/fuzz_macho/lld-fat", &in->macho_fat);
    load("corpus/fuzz_cms/appinfo_GuiApp_universal-arm64", &in->cms_seed);
    load("corpus/fuzz_requirement/req_every_op", &in->req_blob);
    load("corpus/fuzz_requirement/text_devid_dr", &in->req_text);
    load("corpus/fuzz_entitlements_xml/guiapp_entitlements.xml", &in->ent_xml);
    load("corpus/fuzz_profile/developerid", &in->profile);
    load("corpus/fuzz_coderesources/synthetic_kinds.xml", &in->coderesources);
    load("corpus/fuzz_infoplist/synthetic_es_cmio_driver.xml", &in->infoplist);
    load("corpus/pki/root.cert.der", &in->root_der);
    make_der_entitlements(in);

    sh_synth_spec spec;
    sh_synth_spec_init(&spec, SH_SYNTH_ARM64, "com.example.sweep");
    sh_bytebuf thin; /* signed ad hoc: the signer needs the LC_CODE_SIGNATURE room it reserves */
    sh_bytebuf_init(&thin, NULL);
    sh_write_error werr;
    assert_int_equal(sh_synth_thin(&spec, &thin, NULL, &werr), SH_W_OK);
    in->thin = malloc(thin.len);
    assert_non_null(in->thin);
    memcpy(in->thin, thin.data, thin.len);
    in->thin_len = thin.len;
    sh_bytebuf_free(&thin);

    const char *base = getenv("SH_BUILD_DIR");
    snprintf(in->dir, sizeof in->dir, "%s/test_alloc_sweep.XXXXXX", base ? base : "/tmp");
    assert_non_null(mkdtemp(in->dir));
    write_at(in->dir, "thin.bin", in->thin, in->thin_len, in->thin_path, sizeof in->thin_path);
    write_at(in->dir, "ents.plist", in->ent_xml.data, in->ent_xml.len, in->ents_path,
             sizeof in->ents_path);
    write_at(in->dir, "fat.bin", in->macho_fat.data, in->macho_fat.len, NULL, 0);
    make_bundle(in);
    make_devid_binary(in);
    if (st->row->needs_fixture)
        make_fixture(in);
    *state = st;
    return 0;
}

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static int row_teardown(void **state)
{
    sweep_state *st = *state;
    sweep_inputs *in = &st->in;
    nftw(in->dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    sweep_file *files[] = {&in->macho_fat, &in->cms_seed, &in->req_blob, &in->req_text,
                           &in->ent_xml, &in->ent_der, &in->profile, &in->coderesources,
                           &in->infoplist, &in->root_der};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
        sh_free(NULL, files[i]->data);
    free(in->thin);
    if (in->fixture)
        sh_fx_built_free(in->fixture);
    free(in->fixture);
    sh_pki_identity_free(&in->id);
    sh_pki_tsa_free(&in->tsa);
    free(st);
    return 0;
}

/* One row per entry point: name, driver (SWEEP_ROW_FX: the driver reads in->fixture). */
#define SWEEP_ROW(name, fn) {name, sweep_one, row_setup, row_teardown, &(sweep_row){fn, false}}
#define SWEEP_ROW_FX(name, fn) {name, sweep_one, row_setup, row_teardown, &(sweep_row){fn, true}}

static const struct CMUnitTest rows[] = {
    SWEEP_ROW("macho", sweep_macho),
    SWEEP_ROW("superblob", sweep_superblob),
    SWEEP_ROW("codedir", sweep_codedir),
    SWEEP_ROW("signature", sweep_signature),
    SWEEP_ROW("requirement_decode", sweep_requirement_decode),
    SWEEP_ROW("requirement_compile", sweep_requirement_compile),
    SWEEP_ROW("entitlements_xml", sweep_entitlements_xml),
    SWEEP_ROW("entitlements_der", sweep_entitlements_der),
    SWEEP_ROW("cms_parse_verify", sweep_cms),
    SWEEP_ROW("profile", sweep_profile),
    SWEEP_ROW("coderesources", sweep_coderesources),
    SWEEP_ROW("infoplist", sweep_infoplist),
    SWEEP_ROW("synth_thin", sweep_synth_thin),
    SWEEP_ROW("synth_fat", sweep_synth_fat),
    SWEEP_ROW("pki_load", sweep_pki_load),
    SWEEP_ROW("signer", sweep_signer),
    SWEEP_ROW("coderesources_write", sweep_crw_write),
    SWEEP_ROW("coderesources_walk", sweep_crw_walk),
    SWEEP_ROW("sign_cmd", sweep_sign_cmd),
    SWEEP_ROW("inspect", sweep_inspect),
    SWEEP_ROW("bundle_read_pack", sweep_bundle_read_pack),
    SWEEP_ROW("fixture_spec", sweep_fixture_spec),
    SWEEP_ROW("fixture_build", sweep_fixture_build),
    SWEEP_ROW_FX("bundle_signer", sweep_bundle_signer),
    SWEEP_ROW_FX("verdict", sweep_verdict),
    SWEEP_ROW_FX("verdict_memo", sweep_verdict_memo),
    SWEEP_ROW_FX("mutation", sweep_mutation),
};

int main(int argc, char **argv)
{
#ifdef SH_ALLOC_INJECT
    /* before anything touches OpenSSL */
    if (!sh_alloc_inject_hook_openssl()) {
        fprintf(stderr, "test_alloc_sweep: OpenSSL allocated before its hook was installed\n");
        return 1;
    }
#endif
    /* `test_alloc_sweep NAME`: one row only */
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    return cmocka_run_group_tests_name("alloc_sweep", rows, NULL, NULL);
}
