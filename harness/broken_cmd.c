/* `sigharness fixtures broken -o DIR`: the whole broken-bundle set on disk, for other tools'
 * test suites (broken_cmd.h). */
#include "broken_cmd.h"

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bundle_write.h"
#include "errors.h"
#include "json.h"
#include "readfile.h"
#include "regress.h"

static const char broken_usage[] =
    "usage: sigharness fixtures broken -o DIR [--force] [--mutator NAME[+NAME...]]\n"
    "                                  [--category CATEGORY] [--policy POLICY] [--spec FILE]\n"
    "  applies every catalogue mutator to every base bundle it fits and writes, atomically:\n"
    "  DIR/<base>--<mutator>/<App>.app, DIR/<base>--<mutator>/notarized.txt (the notary list\n"
    "  the case is judged with), DIR/packed/<case>.shbundle and DIR/manifest.json (schema\n"
    "  " SH_BROKEN_SCHEMA "); the unmodified bases are included as DIR/<base>/.\n";

static int usage(const char *msg)
{
    fprintf(stderr, "sigharness fixtures broken: %s\n%s", msg, broken_usage);
    return 2;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    return flag == FTW_DP ? rmdir(path) : unlink(path);
}

/* Removes a tree without following symlinks (FTW_PHYS). */
static void remove_tree(const char *path)
{
    nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static bool dir_empty_or_absent(const char *path, bool *exists)
{
    struct stat st;
    *exists = lstat(path, &st) == 0;
    if (!*exists)
        return true;
    if (!S_ISDIR(st.st_mode))
        return false;
    DIR *d = opendir(path);
    if (!d)
        return false;
    bool empty = true;
    for (struct dirent *e; empty && (e = readdir(d));)
        empty = !strcmp(e->d_name, ".") || !strcmp(e->d_name, "..");
    closedir(d);
    return empty;
}

typedef struct broken_state {
    const sh_case_set *set;
    const char *tmp;
    sh_json json;
    FILE *progress;
    size_t count;
    char why[320];
} broken_state;

static const char *const notary_effects[] = {"unchanged", "resubmitted", "revoked"};

static bool write_case(void *arg, const sh_case *c)
{
    broken_state *s = arg;
    char *notary_list = sh_regress_notary_list(s->set, c, s->why, sizeof s->why);
    if (!notary_list)
        return false;
    char dir[1024], path[1280], why[256];
    snprintf(dir, sizeof dir, "%s/%s", s->tmp, c->name);
    bool ok = mkdir(dir, 0755) == 0;
    snprintf(path, sizeof path, "%s/%s", dir, c->base->app_dir);
    ok = ok && sh_bundle_write_dir(c->bundle, path, false, why, sizeof why) == SH_DISK_OK;
    snprintf(path, sizeof path, "%s/notarized.txt", dir);
    ok = ok && sh_write_file_new(path, (const uint8_t *)notary_list, strlen(notary_list), why,
                                 sizeof why) == SH_DISK_OK;
    uint8_t *packed = NULL;
    size_t packed_len = 0;
    sh_error err = {0};
    snprintf(path, sizeof path, "%s/packed/%s.shbundle", s->tmp, c->name);
    ok = ok && sh_bundle_pack(c->bundle, &packed, &packed_len, &err) == SH_E_OK &&
         sh_write_file_new(path, packed, packed_len, why, sizeof why) == SH_DISK_OK;
    sh_free(c->bundle->alloc, packed);
    free(notary_list);
    if (!ok) {
        snprintf(s->why, sizeof s->why, "%.120s: %.190s", c->name, why[0] ? why : strerror(errno));
        return false;
    }
    sh_json *j = &s->json;
    sh_json_object_begin(j);
    sh_json_kv_string(j, "name", c->name);
    sh_json_kv_string(j, "base", c->spec->name);
    sh_json_kv_string(j, "mutator", c->mutator);
    sh_json_kv_string(j, "description", c->description);
    sh_json_kv_string(j, "situation", c->situation);
    sh_json_kv_string(j, "category", sh_fx_category_name(c->spec->category));
    sh_json_kv_string(j, "variant", sh_fx_variant_name(c->spec->variant));
    sh_json_kv_string(j, "policy", sh_regress_policy_name(c));
    snprintf(path, sizeof path, "%s/%s", c->name, c->base->app_dir);
    sh_json_kv_string(j, "path", path);
    snprintf(path, sizeof path, "packed/%s.shbundle", c->name);
    sh_json_kv_string(j, "packed", path);
    snprintf(path, sizeof path, "%s/notarized.txt", c->name);
    sh_json_kv_string(j, "notarized", path);
    sh_json_kv_string(j, "location", c->effects.location[0] ? c->effects.location : "/Applications");
    sh_json_kv_string(j, "notary_effect", notary_effects[c->effects.notary]);
    sh_expectation_print_json(j, "expected", &c->expected);
    sh_json_object_end(j);
    s->count++;
    if (s->progress)
        fprintf(s->progress, "\r[%zu] %-90.90s", s->count, c->name);
    return true;
}

/* Moves tmp to out: an existing (empty, or with force any) out is renamed aside first and
 * removed after, so out is at every moment either the old set or the complete new one. */
static bool install(const char *tmp, const char *out, bool exists, char *why, size_t why_size)
{
    char old[1100];
    if (exists) {
        snprintf(old, sizeof old, "%s.sigharness-old-%ld", out, (long)getpid());
        if (rename(out, old) != 0) {
            snprintf(why, why_size, "%s: %s", out, strerror(errno));
            return false;
        }
    }
    if (rename(tmp, out) != 0) {
        snprintf(why, why_size, "%s: %s", out, strerror(errno));
        if (exists)
            rename(old, out);
        return false;
    }
    if (exists)
        remove_tree(old);
    return true;
}

int sh_broken_command(int argc, char **argv)
{
    sh_case_filter f = {NULL, NULL, -1, NULL, 0, NULL};
    const char *out = NULL;
    bool force = false;
    uint8_t *spec = NULL;
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i];
        bool v = i + 1 < argc;
        if (!strcmp(o, "--help") || !strcmp(o, "-h")) {
            fputs(broken_usage, stdout);
            return 0;
        } else if (!strcmp(o, "--force")) {
            force = true;
        } else if (v && !strcmp(o, "-o")) {
            out = argv[++i];
        } else if (v && !strcmp(o, "--mutator")) {
            f.mutator = argv[++i];
        } else if (v && !strcmp(o, "--category")) {
            f.category = argv[++i];
        } else if (v && !strcmp(o, "--policy")) {
            const char *p = argv[++i];
            if (strcmp(p, "distribution") && strcmp(p, "development"))
                return usage("--policy is distribution or development");
            f.development = !strcmp(p, "development");
        } else if (v && !strcmp(o, "--spec") && !spec) {
            const char *why = NULL;
            if (sh_read_file(argv[++i], &spec, &f.spec_len, &why) != SH_E_OK) {
                fprintf(stderr, "sigharness fixtures broken: --spec: %s\n", why ? why : "unreadable");
                return 4;
            }
            f.spec = (const char *)spec;
        } else {
            free(spec);
            return usage("unknown or incomplete option");
        }
    }
    if (!out || !out[0]) {
        free(spec);
        return usage("-o DIR is required");
    }
    bool exists;
    if (!dir_empty_or_absent(out, &exists) && !force) {
        fprintf(stderr, "sigharness fixtures broken: %s is not empty: use --force to replace it\n",
                out);
        free(spec);
        return 1;
    }
    struct stat st;
    if (lstat(out, &st) == 0 && !S_ISDIR(st.st_mode)) {
        fprintf(stderr, "sigharness fixtures broken: %s is not a directory\n", out);
        free(spec);
        return 1;
    }

    char tmp[1100], sub[1200];
    snprintf(tmp, sizeof tmp, "%s.sigharness-tmp-XXXXXX", out);
    broken_state s;
    memset(&s, 0, sizeof s);
    s.progress = isatty(STDERR_FILENO) ? stderr : NULL;
    if (!mkdtemp(tmp)) {
        fprintf(stderr, "sigharness fixtures broken: %s: %s\n", tmp, strerror(errno));
        free(spec);
        return 4;
    }
    chmod(tmp, 0755);
    snprintf(sub, sizeof sub, "%s/packed", tmp);
    sh_case_set set;
    bool ok = mkdir(sub, 0755) == 0 && sh_case_set_build(&f, &set, s.why, sizeof s.why);
    if (ok) {
        s.set = &set;
        s.tmp = tmp;
        char *manifest = NULL;
        size_t manifest_len = 0;
        FILE *mem = open_memstream(&manifest, &manifest_len);
        ok = mem != NULL;
        if (ok) {
            sh_json_init(&s.json, mem);
            sh_json_object_begin(&s.json);
            sh_json_kv_string(&s.json, "schema", SH_BROKEN_SCHEMA);
            sh_json_kv_int(&s.json, "now", SH_REGRESS_NOW);
            sh_json_key(&s.json, "fixtures");
            sh_json_array_begin(&s.json);
            char why[320] = "";
            ok = sh_case_set_each(&set, &f, write_case, &s, why, sizeof why);
            if (!ok && !s.why[0])
                snprintf(s.why, sizeof s.why, "%s", why);
            sh_json_array_end(&s.json);
            sh_json_object_end(&s.json);
            fputc('\n', mem);
            fclose(mem);
            snprintf(sub, sizeof sub, "%s/manifest.json", tmp);
            ok = ok && sh_write_file_atomic(sub, (const uint8_t *)manifest, manifest_len, false,
                                            why, sizeof why) == SH_DISK_OK;
            free(manifest);
        }
        sh_case_set_free(&set);
    }
    if (s.progress)
        fprintf(stderr, "\r%-100s\r", "");
    ok = ok && install(tmp, out, exists, s.why, sizeof s.why);
    free(spec);
    if (!ok) {
        remove_tree(tmp);
        fprintf(stderr, "sigharness fixtures broken: %s\n", s.why[0] ? s.why : strerror(errno));
        return 4;
    }
    fprintf(stderr, "wrote %zu fixtures to %s\n", s.count, out);
    return 0;
}
