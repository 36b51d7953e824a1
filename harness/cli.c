/* sigharness: command-line entry point. */
#include <errno.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fixtures_cmd.h"
#include "inspect.h"
#include "profile_cmd.h"
#include "readfile.h"
#include "broken_cmd.h"
#include "calibrate.h"
#include "regress_cmd.h"
#include "sign_cmd.h"
#include "verdict_cmd.h"

#define SH_VERSION "0.1.0"

static const char usage_text[] =
    "usage: sigharness <command> [options]\n"
    "\n"
    "commands:\n"
    "  inspect [--json] [-r] [--entitlements] [--now SECONDS] [--root DER-FILE] FILE...\n"
    "                             decode and verify the code signature of Mach-O files\n"
    "                             (thin or fat), like codesign -d -vvvv plus page-hash,\n"
    "                             special-slot and structure checks, per architecture\n"
    "  profile [--json | --xml] [--now SECONDS] [--root DER-FILE] FILE...\n"
    "                             decode and verify provisioning profiles (CMS signature,\n"
    "                             chain to Apple's root or --root, expiry at --now), print\n"
    "                             a summary, the payload plist (--xml) or JSON\n"
    "  sign --sign IDENTITY|- [--identifier ID] [--entitlements FILE] [--options runtime]\n"
    "       [--timestamp | --timestamp=none] [--force] [--pki DIR] [-o OUT] FILE\n"
    "                             sign a Mach-O (thin or fat) like codesign with the test\n"
    "                             PKI (corpus/pki) or ad hoc; `sign --help` for details\n"
    "  fixtures base -o DIR [--force] [--spec FILE] [--packed] [--pki DIR]\n"
    "                             build the signed app + system-extension fixtures of every\n"
    "                             category (or of a spec, docs/fixture-spec.md) with\n"
    "                             notarized.txt and manifest.json; `fixtures --help`\n"
    "  verify [--policy distribution|development] [--location DIR] [--notarized FILE]\n"
    "       [--now SECONDS] [--root DER-FILE] [--udid UDID] [--json] PATH...\n"
    "                             what macOS would do with the app's system extension:\n"
    "                             OK or the OSSystemExtensionErrorCode, the errSecCS status,\n"
    "                             every finding with cause and fix; `verify --help`\n"
    "  explain CODE               what an OSSystemExtensionErrorCode (1-13), an errSecCS\n"
    "                             status (number or name) or a rule id means, causes, fixes\n"
    "  help                       this text\n"
    "  version                    print the version\n"
    "\n"
    "inspect options:\n"
    "  -r, --requirements  print the internal requirements as text (codesign -d -r-)\n"
    "  --entitlements      print the entitlements as an XML plist (the DER blob rendered\n"
    "                      as XML when there is no XML blob; says which blobs exist)\n"
    "  --now SECONDS       verification time of last resort (seconds since 1970; default:\n"
    "                      now): used when the signature has neither a secure timestamp\n"
    "                      nor a signing time\n"
    "  --root DER-FILE     trust this root certificate besides the pinned Apple Root CA\n"
    "  --json              one JSON document per file (schema " SH_INSPECT_JSON_SCHEMA
    ", docs/inspect-json.md)\n"
    "\n"
    "exit codes:\n"
    "  0  every file parsed, every architecture signed and every hash verified\n"
    "  1  a file is unsigned, a page or special-slot hash differs, or a structural rule fails\n"
    "  2  usage error\n"
    "  3  a file or its signature is malformed (cannot be parsed)\n"
    "  4  a file cannot be read\n"
    "With several files the exit code is the worst of them (4 > 3 > 1 > 0).\n";

static int usage_error(const char *msg)
{
    fprintf(stderr, "sigharness: %s\n\n%s", msg, usage_text);
    return SH_EXIT_USAGE;
}

/* --now SECONDS: a whole number of seconds since 1970. */
static bool parse_seconds(const char *text, int64_t *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0')
        return false;
    *out = (int64_t)v;
    return true;
}

typedef struct inspect_args {
    sh_inspect_options opt;
    uint8_t *root;     /* --root DER-FILE contents */
    size_t root_len;
    sh_cursor root_view;
    int first_file;
} inspect_args;

/* Options come before the files; returns false after printing a usage error. */
static bool parse_inspect_args(int argc, char **argv, inspect_args *a)
{
    a->opt.now = (int64_t)time(NULL);
    int i = 0;
    for (; i < argc && argv[i][0] == '-' && argv[i][1] != '\0'; i++) {
        const char *o = argv[i];
        if (strcmp(o, "--") == 0) {
            i++;
            break;
        } else if (strcmp(o, "--json") == 0) {
            a->opt.json = true;
        } else if (strcmp(o, "-r") == 0 || strcmp(o, "--requirements") == 0) {
            a->opt.requirements = true;
        } else if (strcmp(o, "--entitlements") == 0) {
            a->opt.entitlements = true;
        } else if (strcmp(o, "--now") == 0 && i + 1 < argc && parse_seconds(argv[i + 1], &a->opt.now)) {
            i++;
        } else if (strcmp(o, "--root") == 0 && i + 1 < argc && !a->root) {
            const char *why;
            if (sh_read_file(argv[++i], &a->root, &a->root_len, &why) != SH_E_OK) {
                fprintf(stderr, "sigharness: --root %s: %s\n", argv[i], why);
                return false;
            }
            a->root_view = sh_cursor_make(a->root, a->root_len);
            a->opt.trust.anchor_der = &a->root_view;
            a->opt.trust.n_anchor_der = 1;
        } else {
            usage_error("inspect: unknown or incomplete option");
            return false;
        }
    }
    a->first_file = i;
    if (i >= argc) {
        usage_error("inspect: no file given");
        return false;
    }
    return true;
}

static int cmd_inspect(int argc, char **argv)
{
    if (argc == 1 && (strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0)) {
        fputs(usage_text, stdout);
        return SH_EXIT_OK;
    }
    inspect_args a = {0};
    if (!parse_inspect_args(argc, argv, &a)) {
        free(a.root);
        return SH_EXIT_USAGE;
    }
    int exit_code = SH_EXIT_OK;
    for (int i = a.first_file; i < argc; i++) {
        sh_inspection in;
        sh_inspect_file(argv[i], &a.opt, &in);
        if (a.opt.json)
            sh_inspection_print_json(&in, stdout);
        else
            sh_inspection_print_text(&in, &a.opt, stdout);
        exit_code = sh_exit_worst(exit_code, in.exit_code);
        sh_inspection_free(&in);
    }
    free(a.root);
    return exit_code;
}

/* regress and fixtures broken allocate and free a bundle's worth of large buffers (executables,
 * signatures, packed copies) for every case.  By default glibc hands each freed one back to the
 * kernel (munmap, heap trimming) and the next case faults the pages in again: a quarter of
 * regress's time.  Freed memory is kept for reuse instead; the peak is one case's worth. */
static void keep_freed_memory(void)
{
#ifdef __GLIBC__
    mallopt(M_MMAP_THRESHOLD, 32 << 20); /* glibc's largest: bigger blocks are still mapped */
    mallopt(M_TRIM_THRESHOLD, 256 << 20);
#endif
}

int main(int argc, char **argv)
{
    keep_freed_memory();
    if (argc < 2)
        return usage_error("no command given");
    const char *cmd = argv[1];
    if (strcmp(cmd, "inspect") == 0)
        return cmd_inspect(argc - 2, argv + 2);
    if (strcmp(cmd, "sign") == 0)
        return sh_sign_command(argc - 2, argv + 2);
    if (strcmp(cmd, "fixtures") == 0 && argc > 2 && strcmp(argv[2], "broken") == 0)
        return sh_broken_command(argc - 2, argv + 2);
    if (strcmp(cmd, "fixtures") == 0)
        return sh_fixtures_command(argc - 2, argv + 2);
    if (strcmp(cmd, "profile") == 0)
        return sh_profile_command(argc - 2, argv + 2);
    if (strcmp(cmd, "verify") == 0)
        return sh_verify_command(argc - 2, argv + 2);
    if (strcmp(cmd, "explain") == 0)
        return sh_explain_command(argc - 2, argv + 2);
    if (strcmp(cmd, "regress") == 0)
        return sh_regress_command(argc - 1, argv + 1);
    if (strcmp(cmd, "mutators") == 0)
        return sh_mutators_command(argc - 1, argv + 1);
    if (strcmp(cmd, "mutate") == 0)
        return sh_mutate_command(argc - 1, argv + 1);
    if (strcmp(cmd, "calibrate") == 0)
        return sh_calibrate_command(argc - 1, argv + 1);
    if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        fputs(usage_text, stdout);
        return SH_EXIT_OK;
    }
    if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
        puts("sigharness " SH_VERSION);
        return SH_EXIT_OK;
    }
    return usage_error("unknown command");
}
