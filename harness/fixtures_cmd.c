/* `sigharness fixtures base` (see fixtures_cmd.h). */
#include "fixtures_cmd.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bundle_write.h"
#include "fixture_build.h"
#include "fixture_spec.h"
#include "inspect.h"
#include "json.h"
#include "readfile.h"

#define WHY_SIZE 512

static sh_err build_failed(sh_error *err, const char *where)
{
    return sh_fail(err, SH_E_FIXTURE_BUILD_FAILED, where, -1, 0);
}

/* Copies every entry of src into dst below prefix ("<name>/<App>.app"). */
static sh_err graft(sh_bundle *dst, const char *prefix, const sh_bundle *src, sh_error *err)
{
    sh_err e = sh_bundle_put_dir(dst, prefix, 0755, err);
    for (size_t i = 0; e == SH_E_OK && i < src->count; i++) {
        const sh_bundle_entry *s = &src->entries[i];
        char path[SH_MAX_BUNDLE_PATH + 1];
        int n = snprintf(path, sizeof path, "%s/%s", prefix, s->path);
        if (n < 0 || (size_t)n >= sizeof path)
            return sh_fail(err, SH_E_BUNDLE_PATH_INVALID, "fixture path", (int64_t)i, 0);
        if (s->kind == SH_BUNDLE_DIR) {
            e = sh_bundle_put_dir(dst, path, s->mode, err);
        } else if (s->kind == SH_BUNDLE_FILE) {
            e = sh_bundle_put_file(dst, path, s->data, s->len, s->mode, err);
        } else {
            char target[SH_MAX_BUNDLE_SYMLINK_TARGET + 1];
            if (s->len >= sizeof target)
                return sh_fail(err, SH_E_BUNDLE_PATH_INVALID, "fixture symlink", (int64_t)i, 0);
            memcpy(target, s->data, s->len);
            target[s->len] = '\0';
            e = sh_bundle_put_symlink(dst, path, target, err);
        }
    }
    return e;
}

/* ---- notarized.txt and manifest.json (text written with stdio into memory) ---- */

typedef struct memfile {
    FILE *f;
    char *data;
    size_t len;
} memfile;

static bool memfile_open(memfile *m)
{
    m->data = NULL;
    m->len = 0;
    m->f = open_memstream(&m->data, &m->len);
    return m->f != NULL;
}

/* Closes the stream and adds its bytes as path. */
static sh_err memfile_put(memfile *m, sh_bundle *out, const char *path, sh_error *err)
{
    bool ok = !ferror(m->f);
    ok = fclose(m->f) == 0 && ok;
    sh_err e = ok ? sh_bundle_put_file(out, path, (const uint8_t *)m->data, m->len, 0644, err)
                  : sh_fail(err, SH_E_NO_MEMORY, path, -1, 0);
    free(m->data);
    m->data = NULL;
    return e;
}

static void notary_lines(FILE *f, const sh_fx_bundle *s, const sh_fx_built *b)
{
    if (!s->notarized)
        return;
    for (size_t i = 0; i < b->ncdhashes; i++) {
        char hex[41];
        sh_fx_cdhash_hex(b->cdhashes[i].cdhash, hex);
        fprintf(f, "%s  # %s %s %s\n", hex, s->name, b->cdhashes[i].code, b->cdhashes[i].arch);
    }
}

static void manifest_entry(sh_json *j, const sh_fx_bundle *s, const sh_fx_built *b)
{
    char path[SH_FX_NAME_SIZE + SH_FX_PATH_SIZE + 2], packed[SH_FX_NAME_SIZE + 16];
    snprintf(path, sizeof path, "%s/%s", s->name, b->app_dir);
    snprintf(packed, sizeof packed, "%s.shbundle", s->name);
    sh_json_object_begin(j);
    sh_json_kv_string(j, "name", s->name);
    sh_json_kv_string(j, "path", path);
    sh_json_kv_string(j, "packed", packed);
    sh_json_kv_string(j, "category", sh_fx_category_name(s->category));
    sh_json_key(j, "provider");
    if (s->provider == SH_FX_PROVIDER_NONE)
        sh_json_null(j);
    else
        sh_json_string(j, sh_fx_provider_name(s->provider));
    sh_json_kv_string(j, "variant", sh_fx_variant_name(s->variant));
    sh_json_kv_string(j, "policy", sh_fx_variant_policy(s->variant));
    sh_json_kv_string(j, "app_id", s->app_id);
    sh_json_kv_string(j, "extension_id", s->extension_id);
    sh_json_kv_string(j, "extension_path", b->extension_root);
    sh_json_kv_string(j, "team", sh_fx_team_id(s->team));
    sh_json_kv_string(j, "identity", s->identity);
    sh_json_kv_bool(j, "timestamp", s->timestamp);
    sh_json_kv_bool(j, "runtime", s->runtime);
    sh_json_kv_bool(j, "sandbox", s->sandbox);
    sh_json_kv_bool(j, "get_task_allow", s->get_task_allow);
    sh_json_kv_bool(j, "notarized", s->notarized);
    sh_json_key(j, "archs");
    sh_json_array_begin(j);
    if (s->archs & SH_FX_ARCH_ARM64)
        sh_json_string(j, "arm64");
    if (s->archs & SH_FX_ARCH_X86_64)
        sh_json_string(j, "x86_64");
    sh_json_array_end(j);
    sh_json_key(j, "cdhashes");
    sh_json_array_begin(j);
    for (size_t i = 0; i < b->ncdhashes; i++) {
        char hex[41];
        sh_fx_cdhash_hex(b->cdhashes[i].cdhash, hex);
        sh_json_object_begin(j);
        sh_json_kv_string(j, "code", b->cdhashes[i].code);
        sh_json_kv_string(j, "arch", b->cdhashes[i].arch);
        sh_json_kv_string(j, "cdhash", hex);
        sh_json_object_end(j);
    }
    sh_json_array_end(j);
    sh_json_kv_string(j, "description", b->description);
    sh_json_object_end(j);
}

/* One bundle: build it, add "<name>/<App>.app/..." and "<name>.shbundle" to out. */
static sh_err add_bundle(const sh_fx_bundle *s, const char *pki_dir, sh_bundle *out,
                         sh_fx_built *b, sh_error *err, char *why, size_t why_size)
{
    char detail[WHY_SIZE];
    if (!sh_fx_build(s, pki_dir, out->alloc, b, detail, sizeof detail)) {
        snprintf(why, why_size, "[%s]: %s", s->name, detail);
        return build_failed(err, s->name);
    }
    char prefix[SH_FX_NAME_SIZE + SH_FX_PATH_SIZE + 2], packed_path[SH_FX_NAME_SIZE + 16];
    snprintf(prefix, sizeof prefix, "%s/%s", s->name, b->app_dir);
    snprintf(packed_path, sizeof packed_path, "%s.shbundle", s->name);
    sh_err e = graft(out, prefix, &b->bundle, err);
    uint8_t *packed = NULL;
    size_t packed_len = 0;
    if (e == SH_E_OK)
        e = sh_bundle_pack(&b->bundle, &packed, &packed_len, err);
    if (e == SH_E_OK)
        e = sh_bundle_put_file(out, packed_path, packed, packed_len, 0644, err);
    sh_free(b->bundle.alloc, packed);
    if (e != SH_E_OK)
        snprintf(why, why_size, "[%s]: %s", s->name, sh_err_message(e));
    return e;
}

static sh_err build_bundles(const sh_fx_spec *spec, const char *pki_dir, sh_bundle *out,
                            FILE *notary, sh_json *manifest, sh_error *err, char *why,
                            size_t why_size)
{
    for (size_t i = 0; i < spec->count; i++) {
        sh_fx_built b;
        sh_err e = add_bundle(&spec->bundles[i], pki_dir, out, &b, err, why, why_size);
        if (e == SH_E_OK) {
            notary_lines(notary, &spec->bundles[i], &b);
            manifest_entry(manifest, &spec->bundles[i], &b);
        }
        sh_fx_built_free(&b);
        if (e != SH_E_OK)
            return e;
    }
    return SH_E_OK;
}

sh_err sh_fixtures_build_set(const uint8_t *spec_text, size_t spec_len, const char *pki_dir,
                             sh_bundle *out, sh_error *err, char *why, size_t why_size)
{
    sh_bundle_init(out, NULL);
    if (why && why_size)
        why[0] = '\0';
    if (!spec_text) {
        spec_text = (const uint8_t *)sh_fx_builtin_spec;
        spec_len = strlen(sh_fx_builtin_spec);
    }
    sh_fx_spec spec;
    sh_err e = sh_fx_spec_parse(spec_text, spec_len, NULL, &spec, err);
    if (e != SH_E_OK)
        return e;
    memfile notary, manifest;
    if (!memfile_open(&notary)) {
        sh_fx_spec_free(&spec);
        return sh_fail(err, SH_E_NO_MEMORY, "notarized.txt", -1, 0);
    }
    if (!memfile_open(&manifest)) {
        fclose(notary.f);
        free(notary.data);
        sh_fx_spec_free(&spec);
        return sh_fail(err, SH_E_NO_MEMORY, "manifest.json", -1, 0);
    }
    fputs("# cdhashes the notary service has notarised (sigharness fixtures; format:\n"
          "# harness/notary_list.h): every slice of every code of each notarised bundle\n",
          notary.f);
    sh_json j;
    sh_json_init(&j, manifest.f);
    sh_json_object_begin(&j);
    sh_json_kv_string(&j, "schema", SH_FIXTURES_SCHEMA);
    sh_json_kv_int(&j, "signing_time", SH_FX_SIGNING_TIME);
    sh_json_key(&j, "bundles");
    sh_json_array_begin(&j);
    e = build_bundles(&spec, pki_dir, out, notary.f, &j, err, why, why_size);
    sh_json_array_end(&j);
    sh_json_object_end(&j);
    fputc('\n', manifest.f);
    sh_err e1 = memfile_put(&notary, out, "notarized.txt", err);
    sh_err e2 = memfile_put(&manifest, out, "manifest.json", err);
    sh_fx_spec_free(&spec);
    if (e == SH_E_OK)
        e = e1 != SH_E_OK ? e1 : e2;
    if (e != SH_E_OK)
        sh_bundle_free(out);
    return e;
}

/* ---- the command ---- */

static const char fixtures_usage[] =
    "usage: sigharness fixtures base -o DIR [--force] [--spec FILE] [--packed] [--pki DIR]\n"
    "  builds every bundle of the base catalogue (or of --spec FILE, docs/fixture-spec.md):\n"
    "  DIR/<name>/<App>.app, DIR/<name>.shbundle (always), DIR/notarized.txt and\n"
    "  DIR/manifest.json (schema " SH_FIXTURES_SCHEMA "); atomic; a non-empty DIR needs --force\n";

static int usage(const char *msg)
{
    fprintf(stderr, "sigharness fixtures: %s\n%s", msg, fixtures_usage);
    return SH_EXIT_USAGE;
}

typedef struct fixtures_args {
    const char *out, *spec, *pki;
    bool force;
} fixtures_args;

static bool parse_args(int argc, char **argv, fixtures_args *a)
{
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i];
        bool has_value = i + 1 < argc;
        if (strcmp(o, "-o") == 0 && has_value && !a->out)
            a->out = argv[++i];
        else if (strcmp(o, "--spec") == 0 && has_value && !a->spec)
            a->spec = argv[++i];
        else if (strcmp(o, "--pki") == 0 && has_value && !a->pki)
            a->pki = argv[++i];
        else if (strcmp(o, "--force") == 0)
            a->force = true;
        else if (strcmp(o, "--packed") == 0)
            continue; /* packed copies are always written */
        else
            return false;
    }
    return a->out != NULL && a->out[0] != '\0';
}

static int exit_for_disk(sh_disk_status st)
{
    switch (st) {
    case SH_DISK_OK: return SH_EXIT_OK;
    case SH_DISK_EXISTS:
    case SH_DISK_SYMLINK:
    case SH_DISK_WRONG_TYPE: return SH_EXIT_INVALID;
    case SH_DISK_INVALID_ARGUMENT: return SH_EXIT_USAGE;
    case SH_DISK_IO:
    case SH_DISK_NO_MEMORY: break;
    }
    return SH_EXIT_IO;
}

static int run(const fixtures_args *a)
{
    uint8_t *text = NULL;
    size_t text_len = 0;
    if (a->spec) {
        const char *why;
        if (sh_read_file(a->spec, &text, &text_len, &why) != SH_E_OK) {
            fprintf(stderr, "sigharness fixtures: --spec %s: %s\n", a->spec, why);
            return SH_EXIT_IO;
        }
    }
    sh_bundle set;
    sh_error err = {0};
    char why[WHY_SIZE];
    sh_err e = sh_fixtures_build_set(a->spec ? text : NULL, text_len, a->pki, &set, &err, why,
                                     sizeof why);
    free(text);
    if (e != SH_E_OK) {
        bool spec_error = sh_fx_is_spec_error(e);
        if (spec_error)
            sh_fx_error_format(&err, why, sizeof why);
        fprintf(stderr, "sigharness fixtures: %s%s%s\n", spec_error && a->spec ? a->spec : "",
                spec_error && a->spec ? ": " : "", why);
        return spec_error ? SH_EXIT_MALFORMED : SH_EXIT_INVALID;
    }
    sh_disk_status st = sh_bundle_write_dir(&set, a->out, a->force, why, sizeof why);
    sh_bundle_free(&set);
    if (st != SH_DISK_OK) {
        if (st == SH_DISK_EXISTS)
            fprintf(stderr, "sigharness fixtures: %s is not empty: use --force to replace it\n",
                    a->out);
        else
            fprintf(stderr, "sigharness fixtures: %s\n", why);
        return exit_for_disk(st);
    }
    return SH_EXIT_OK;
}

int sh_fixtures_command(int argc, char **argv)
{
    if (argc >= 1 && (strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0)) {
        fputs(fixtures_usage, stdout);
        return SH_EXIT_OK;
    }
    if (argc < 1 || strcmp(argv[0], "base") != 0)
        return usage("the only subcommand is `base`");
    fixtures_args a = {0};
    if (!parse_args(argc, argv, &a))
        return usage("unknown or incomplete option, or no -o DIR");
    return run(&a);
}
