/* `sigharness sign` (see sign_cmd.h). */
#include "sign_cmd.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bundle.h"
#include "inspect.h"
#include "readfile.h"
#include "sign_bundle_cmd.h"
#include "signer.h"

static const char sign_usage[] =
    "usage: sigharness sign --sign IDENTITY|- [--identifier ID] [--entitlements FILE]\n"
    "                       [--options runtime] [--timestamp | --timestamp=none] [--force]\n"
    "                       [--digest-algorithm=sha1,sha256] [--pki DIR]\n"
    "                       [--signing-time SECONDS] [--profile FILE] [-o OUT] FILE|BUNDLE\n"
    "  IDENTITY: a test identity's CN or name (devid-team1, devid-team2, dev-team1, dev-team2)\n"
    "  or - for ad hoc.  TEST PKI ONLY (corpus/pki).\n"
    "  BUNDLE: a directory X.app, X.systemextension or X.dext, or a packed bundle file.  Only\n"
    "  that bundle is signed (identifier: CFBundleIdentifier; no --deep): sign nested code\n"
    "  first, inside out.  --profile FILE places FILE as Contents/embedded.provisionprofile\n"
    "  before sealing.  The bundle is replaced atomically, or written to OUT (a new directory).\n";

typedef struct sign_args {
    const char *identity, *identifier, *entitlements, *pki, *out, *file, *profile;
    int timestamp; /* -1 default, 0 none, 1 on */
    bool runtime, force, dual;
    int64_t signing_time;
    bool have_time;
} sign_args;

static int usage(const char *msg)
{
    fprintf(stderr, "sigharness sign: %s\n\n%s", msg, sign_usage);
    return SH_EXIT_USAGE;
}

static bool parse_time(const char *text, int64_t *out)
{
    char *end;
    errno = 0;
    long long v = text ? strtoll(text, &end, 10) : 0;
    if (!text || errno != 0 || end == text || *end != '\0' || v < 0)
        return false;
    *out = (int64_t)v;
    return true;
}

/* Options taking a value: returns the value (advancing *i) or NULL. */
static const char *value_of(int argc, char **argv, int *i)
{
    if (*i + 1 >= argc)
        return NULL;
    return argv[++*i];
}

static bool parse_flag(const char *o, sign_args *a)
{
    if (strcmp(o, "--timestamp") == 0)
        a->timestamp = 1;
    else if (strcmp(o, "--timestamp=none") == 0)
        a->timestamp = 0;
    else if (strcmp(o, "--force") == 0 || strcmp(o, "-f") == 0)
        a->force = true;
    else if (strcmp(o, "--options=runtime") == 0 || strcmp(o, "-o=runtime") == 0)
        a->runtime = true;
    else if (strcmp(o, "--digest-algorithm=sha1,sha256") == 0)
        a->dual = true;
    else if (strcmp(o, "--digest-algorithm=sha256") == 0)
        a->dual = false;
    else
        return false;
    return true;
}

static bool parse_option(int argc, char **argv, int *i, sign_args *a)
{
    const char *o = argv[*i], *v;
    if (parse_flag(o, a))
        return true;
    if (strcmp(o, "--options") == 0)
        return (v = value_of(argc, argv, i)) && strcmp(v, "runtime") == 0 && (a->runtime = true);
    if (strcmp(o, "--signing-time") == 0)
        return parse_time(value_of(argc, argv, i), &a->signing_time) && (a->have_time = true);
    const char **slot = strcmp(o, "--sign") == 0 || strcmp(o, "-s") == 0 ? &a->identity
                        : strcmp(o, "--identifier") == 0 || strcmp(o, "-i") == 0 ? &a->identifier
                        : strcmp(o, "--entitlements") == 0 ? &a->entitlements
                        : strcmp(o, "--pki") == 0 ? &a->pki
                        : strcmp(o, "--profile") == 0 ? &a->profile
                        : strcmp(o, "-o") == 0 || strcmp(o, "--output") == 0 ? &a->out
                        : NULL;
    return slot && !*slot && (*slot = value_of(argc, argv, i)) != NULL;
}

static int parse_args(int argc, char **argv, sign_args *a)
{
    a->timestamp = -1;
    for (int i = 0; i < argc; i++) {
        if (argv[i][0] == '-' && argv[i][1] != '\0') {
            if (!parse_option(argc, argv, &i, a))
                return usage("unknown or incomplete option");
        } else if (a->file) {
            return usage("exactly one FILE");
        } else {
            a->file = argv[i];
        }
    }
    if (!a->identity)
        return usage("--sign IDENTITY|- is required");
    if (!a->file)
        return usage("no file given");
    if (!a->have_time && !parse_time(getenv("SOURCE_DATE_EPOCH"), &a->signing_time))
        a->signing_time = (int64_t)time(NULL);
    return SH_EXIT_OK;
}

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

/* Writes data to path atomically: a temporary file in the same directory, then rename. */
static bool write_atomic(const char *path, const uint8_t *data, size_t len, mode_t mode)
{
    const char *base = base_name(path);
    size_t dir_len = (size_t)(base - path), tlen = dir_len + strlen(base) + 16;
    char *tmp = sh_calloc(NULL, 1, tlen);
    if (!tmp)
        return false;
    snprintf(tmp, tlen, "%.*s.%s.XXXXXX", (int)dir_len, path, base);
    int fd = mkstemp(tmp);
    bool ok = fd >= 0;
    for (size_t done = 0; ok && done < len;) {
        ssize_t n = write(fd, data + done, len - done);
        if (n < 0 && errno == EINTR)
            continue;
        ok = n > 0;
        done += ok ? (size_t)n : 0;
    }
    ok = ok && fchmod(fd, mode) == 0 && fsync(fd) == 0;
    if (fd >= 0 && close(fd) != 0)
        ok = false;
    ok = ok && rename(tmp, path) == 0;
    if (!ok && fd >= 0)
        unlink(tmp);
    sh_free(NULL, tmp);
    return ok;
}

typedef struct sign_inputs {
    uint8_t *file, *ents, *profile;
    size_t file_len, ents_len, profile_len;
    bool bundle_dir; /* file is a bundle directory, not read here */
    sh_pki_identity id;
    sh_pki_tsa tsa;
    bool have_id, have_tsa;
} sign_inputs;

static int load_inputs(const sign_args *a, sign_inputs *in)
{
    const char *why;
    char pki_why[SH_PKI_WHY_MAX];
    in->bundle_dir = sh_sign_is_bundle_dir(a->file);
    if (!in->bundle_dir && sh_read_file(a->file, &in->file, &in->file_len, &why) != SH_E_OK)
        return fprintf(stderr, "sigharness sign: %s: %s\n", a->file, why), SH_EXIT_IO;
    if (a->profile && sh_read_file(a->profile, &in->profile, &in->profile_len, &why) != SH_E_OK)
        return fprintf(stderr, "sigharness sign: %s: %s\n", a->profile, why), SH_EXIT_IO;
    if (a->entitlements &&
        sh_read_file(a->entitlements, &in->ents, &in->ents_len, &why) != SH_E_OK)
        return fprintf(stderr, "sigharness sign: %s: %s\n", a->entitlements, why), SH_EXIT_IO;
    if (strcmp(a->identity, "-") != 0) {
        if (!sh_pki_load_identity(a->pki, a->identity, &in->id, pki_why, sizeof pki_why))
            return fprintf(stderr, "sigharness sign: %s\n", pki_why), SH_EXIT_USAGE;
        in->have_id = true;
        bool ts = a->timestamp == 1 || (a->timestamp == -1 && in->id.kind == SH_PKI_DEVELOPER_ID);
        if (ts && !sh_pki_load_tsa(a->pki, &in->tsa, pki_why, sizeof pki_why))
            return fprintf(stderr, "sigharness sign: %s\n", pki_why), SH_EXIT_IO;
        in->have_tsa = ts;
    }
    return SH_EXIT_OK;
}

static void free_inputs(sign_inputs *in)
{
    free(in->file);
    free(in->ents);
    free(in->profile);
    sh_pki_identity_free(&in->id);
    sh_pki_tsa_free(&in->tsa);
}

static int exit_for(sh_sign_status st)
{
    return st == SH_SIGN_MALFORMED ? SH_EXIT_MALFORMED
           : st == SH_SIGN_INVALID_ARGUMENT ? SH_EXIT_USAGE
                                            : SH_EXIT_INVALID;
}

static void code_options(const sign_args *a, sign_inputs *in, const char *identifier,
                         sh_sign_options *o_out)
{
    sh_sign_options o;
    sh_sign_options_init(&o, identifier);
    o.identity = in->have_id ? &in->id : NULL;
    o.tsa = in->have_tsa ? &in->tsa : NULL;
    o.entitlements = in->ents;
    o.entitlements_len = in->ents_len;
    o.runtime = a->runtime;
    o.force = a->force;
    o.dual_hash = a->dual;
    o.signing_time = a->signing_time;
    *o_out = o;
}

/* A bundle directory or packed bundle: the identifier defaults to CFBundleIdentifier. */
static int sign_bundle(const sign_args *a, sign_inputs *in)
{
    sh_sign_options o;
    code_options(a, in, a->identifier, &o);
    sh_sign_bundle_job job = {a->file, in->bundle_dir ? NULL : in->file, in->file_len, a->out,
                              in->profile, in->profile_len};
    return sh_sign_bundle_job_run(&job, &o);
}

static int sign_and_write(const sign_args *a, sign_inputs *in)
{
    if (in->bundle_dir || sh_bundle_is_packed(in->file, in->file_len))
        return sign_bundle(a, in);
    if (a->profile)
        return usage("--profile needs a bundle (X.app, X.systemextension, X.dext or packed)");
    sh_sign_options o;
    code_options(a, in, a->identifier ? a->identifier : base_name(a->file), &o);
    sh_bytebuf out;
    sh_bytebuf_init(&out, NULL);
    sh_sign_result r;
    int rc = SH_EXIT_OK;
    if (sh_sign_macho(in->file, in->file_len, &o, &out, &r) != SH_SIGN_OK) {
        fprintf(stderr, "sigharness sign: %s: %s\n", a->file, r.message);
        rc = exit_for(r.status);
    } else {
        const char *dest = a->out ? a->out : a->file;
        struct stat st;
        mode_t mode = stat(a->file, &st) == 0 ? (st.st_mode & 07777) : 0755;
        if (!write_atomic(dest, out.data, out.len, mode)) {
            fprintf(stderr, "sigharness sign: cannot write %s: %s\n", dest, strerror(errno));
            rc = SH_EXIT_IO;
        } else {
            printf("%s: signed (%s)\n", dest, o.identity ? o.identity->cn : "ad hoc");
        }
    }
    sh_bytebuf_free(&out);
    return rc;
}

int sh_sign_command(int argc, char **argv)
{
    if (argc == 1 && (strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0)) {
        fputs(sign_usage, stdout);
        return SH_EXIT_OK;
    }
    sign_args a;
    memset(&a, 0, sizeof a);
    int rc = parse_args(argc, argv, &a);
    if (rc != SH_EXIT_OK)
        return rc;
    sign_inputs in;
    memset(&in, 0, sizeof in);
    rc = load_inputs(&a, &in);
    if (rc == SH_EXIT_OK)
        rc = sign_and_write(&a, &in);
    free_inputs(&in);
    return rc;
}
