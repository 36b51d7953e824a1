/* `sigharness profile` (profile_cmd.h). */
#include "profile_cmd.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "inspect.h"
#include "readfile.h"

typedef struct profile_args {
    bool json, xml;
    int64_t now;
    const char *root_path;
} profile_args;

static int usage(const char *msg)
{
    fprintf(stderr,
            "sigharness profile: %s\n"
            "usage: sigharness profile [--json | --xml] [--now SECONDS] [--root DER-FILE] FILE...\n",
            msg);
    return SH_EXIT_USAGE;
}

static bool parse_now(const char *s, int64_t *out)
{
    char *end = NULL;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0')
        return false;
    *out = (int64_t)v;
    return true;
}

/* Options first; returns the index of the first file, or -1 after printing a usage error. */
static int parse_args(int argc, char **argv, profile_args *a)
{
    int i = 0;
    for (; i < argc && argv[i][0] == '-' && argv[i][1] != '\0'; i++) {
        if (strcmp(argv[i], "--") == 0)
            return i + 1;
        if (strcmp(argv[i], "--json") == 0)
            a->json = true;
        else if (strcmp(argv[i], "--xml") == 0)
            a->xml = true;
        else if (strcmp(argv[i], "--now") == 0 && i + 1 < argc && parse_now(argv[i + 1], &a->now))
            i++;
        else if (strcmp(argv[i], "--root") == 0 && i + 1 < argc)
            a->root_path = argv[++i];
        else
            return -1;
    }
    return a->json && a->xml ? -1 : i;
}

static int exit_for(const sh_profile *p, sh_err parse_result, sh_err expiry)
{
    if (!p->decoded)
        return parse_result == SH_E_NO_MEMORY ? SH_EXIT_IO : SH_EXIT_MALFORMED;
    return parse_result == SH_E_OK && expiry == SH_E_OK ? SH_EXIT_OK : SH_EXIT_INVALID;
}

static void print_text(const char *path, const sh_profile *p, sh_err r, const sh_error *err,
                       sh_err expiry)
{
    printf("%s\n", path);
    if (p->decoded)
        sh_profile_write_summary(p, stdout);
    char msg[512];
    if (r != SH_E_OK) {
        sh_error_format(err, msg, sizeof msg);
        printf("%-22s%s (%s, %d): %s\n", "Result", sh_err_name(r),
               sh_errsec_name(sh_err_errsec(r)) ? sh_errsec_name(sh_err_errsec(r)) : "?",
               (int)sh_err_errsec(r), msg);
    } else {
        printf("%-22s%s\n", "Result", expiry == SH_E_OK ? "valid" : sh_err_name(expiry));
    }
}

static int run_file(const char *path, const profile_args *a, const sh_profile_options *opt)
{
    uint8_t *data = NULL;
    size_t size = 0;
    const char *why = NULL;
    if (sh_read_file(path, &data, &size, &why) != SH_E_OK) {
        fprintf(stderr, "sigharness profile: %s: %s\n", path, why ? why : "cannot read");
        return SH_EXIT_IO;
    }
    sh_profile p;
    sh_error err = {0};
    sh_err r = sh_profile_parse(data, size, NULL, opt, &p, &err);
    sh_error expiry_err = {0};
    sh_err expiry = p.decoded ? sh_profile_check_expiry(&p, a->now, &expiry_err) : SH_E_OK;
    int code = exit_for(&p, r, expiry);
    if (a->xml) {
        if (!p.decoded || !sh_profile_write_xml(&p, stdout))
            code = code == SH_EXIT_OK ? SH_EXIT_MALFORMED : code;
    } else if (a->json) {
        sh_profile_print_json(path, &p, r, &err, expiry, code, stdout);
    } else {
        print_text(path, &p, r, &err, expiry);
    }
    sh_profile_free(&p);
    free(data);
    return code;
}

int sh_profile_command(int argc, char **argv)
{
    profile_args a = {.now = (int64_t)time(NULL)};
    int first = parse_args(argc, argv, &a);
    if (first < 0)
        return usage("bad option");
    if (first >= argc)
        return usage("no file given");
    uint8_t *root = NULL;
    size_t root_len = 0;
    const char *why = NULL;
    if (a.root_path && sh_read_file(a.root_path, &root, &root_len, &why) != SH_E_OK) {
        fprintf(stderr, "sigharness profile: %s: %s\n", a.root_path, why ? why : "cannot read");
        return SH_EXIT_IO;
    }
    sh_cursor anchor = sh_cursor_make(root, root_len);
    sh_profile_options opt = {.now = a.now,
                              .trust = {.anchor_der = &anchor, .n_anchor_der = root ? 1 : 0}};
    int code = SH_EXIT_OK;
    for (int i = first; i < argc; i++)
        code = sh_exit_worst(code, run_file(argv[i], &a, &opt));
    free(root);
    return code;
}
