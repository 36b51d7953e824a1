/* sigharness: command-line entry point. */
#include <stdio.h>
#include <string.h>

#include "inspect.h"
#include "profile_cmd.h"

#define SH_VERSION "0.1.0"

static const char usage_text[] =
    "usage: sigharness <command> [options]\n"
    "\n"
    "commands:\n"
    "  inspect [--json] [-r] [--entitlements] FILE...\n"
    "                             decode and verify the code signature of Mach-O files\n"
    "                             (thin or fat), like codesign -d -vvvv plus page-hash,\n"
    "                             special-slot and structure checks, per architecture\n"
    "  profile [--json | --xml] [--now SECONDS] [--root DER-FILE] FILE...\n"
    "                             decode and verify provisioning profiles (CMS signature,\n"
    "                             chain to Apple's root or --root, expiry at --now), print\n"
    "                             a summary, the payload plist (--xml) or JSON\n"
    "  help                       this text\n"
    "  version                    print the version\n"
    "\n"
    "inspect options:\n"
    "  -r, --requirements  print the internal requirements as text (codesign -d -r-)\n"
    "  --entitlements      print the entitlements as an XML plist (the DER blob rendered\n"
    "                      as XML when there is no XML blob; says which blobs exist)\n"
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

static int cmd_inspect(int argc, char **argv)
{
    sh_inspect_options opt = {false, false, false};
    int nfiles = 0, exit_code = SH_EXIT_OK;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0)
            opt.json = true;
        else if (strcmp(argv[i], "-r") == 0 || strcmp(argv[i], "--requirements") == 0)
            opt.requirements = true;
        else if (strcmp(argv[i], "--entitlements") == 0)
            opt.entitlements = true;
        else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(usage_text, stdout);
            return SH_EXIT_OK;
        } else if (argv[i][0] == '-' && argv[i][1] != '\0' && strcmp(argv[i], "--") != 0)
            return usage_error("inspect: unknown option");
    }
    for (int i = 0; i < argc; i++) {
        if (argv[i][0] == '-' && argv[i][1] != '\0')
            continue;
        nfiles++;
        sh_inspection in;
        sh_inspect_file(argv[i], &in);
        if (opt.json)
            sh_inspection_print_json(&in, stdout);
        else
            sh_inspection_print_text(&in, &opt, stdout);
        exit_code = sh_exit_worst(exit_code, in.exit_code);
        sh_inspection_free(&in);
    }
    if (nfiles == 0)
        return usage_error("inspect: no file given");
    return exit_code;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return usage_error("no command given");
    const char *cmd = argv[1];
    if (strcmp(cmd, "inspect") == 0)
        return cmd_inspect(argc - 2, argv + 2);
    if (strcmp(cmd, "profile") == 0)
        return sh_profile_command(argc - 2, argv + 2);
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
