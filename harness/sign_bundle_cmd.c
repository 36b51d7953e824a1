/* `sigharness sign` on bundles (see sign_bundle_cmd.h). */
#include "sign_bundle_cmd.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "bundle_signer.h"
#include "bundle_write.h"
#include "inspect.h"

#define WHY_SIZE 512

static bool ends_with(const char *s, size_t len, const char *suffix)
{
    size_t n = strlen(suffix);
    return len > n && memcmp(s + len - n, suffix, n) == 0;
}

/* Length of path without trailing '/' (but keeping a lone "/"). */
static size_t trimmed_len(const char *path)
{
    size_t len = strlen(path);
    while (len > 1 && path[len - 1] == '/')
        len--;
    return len;
}

bool sh_sign_is_bundle_dir(const char *path)
{
    struct stat st;
    size_t len = trimmed_len(path);
    return (ends_with(path, len, ".app") || ends_with(path, len, ".systemextension") ||
            ends_with(path, len, ".dext")) &&
           stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int exit_for(sh_sign_status st)
{
    return st == SH_SIGN_MALFORMED ? SH_EXIT_MALFORMED
           : st == SH_SIGN_INVALID_ARGUMENT ? SH_EXIT_USAGE
                                            : SH_EXIT_INVALID;
}

static int read_bundle(const sh_sign_bundle_job *job, sh_bundle *b)
{
    sh_error err;
    char why[WHY_SIZE] = "", msg[256];
    if (job->packed) {
        if (sh_bundle_unpack(job->packed, job->packed_len, NULL, b, &err) == SH_E_OK)
            return SH_EXIT_OK;
        sh_error_format(&err, msg, sizeof msg);
        fprintf(stderr, "sigharness sign: %s: not a valid packed bundle: %s\n", job->path, msg);
        return SH_EXIT_MALFORMED;
    }
    if (sh_bundle_read_dir(job->path, NULL, b, &err, why, sizeof why) == SH_E_OK)
        return SH_EXIT_OK;
    sh_error_format(&err, msg, sizeof msg);
    fprintf(stderr, "sigharness sign: %s: cannot read the bundle: %s%s%s\n", job->path, msg,
            why[0] ? ": " : "", why);
    return err.code == SH_E_IO ? SH_EXIT_IO : SH_EXIT_MALFORMED;
}

/* In place replaces the bundle that was read; a separate OUT directory is never replaced (it
 * could be anything), a separate OUT file is, as for Mach-O files. */
static int write_bundle(const sh_sign_bundle_job *job, const sh_bundle *b, const char *dest)
{
    char why[WHY_SIZE] = "";
    sh_disk_status ds;
    if (job->packed) {
        uint8_t *data = NULL;
        size_t len = 0;
        sh_error err;
        if (sh_bundle_pack(b, &data, &len, &err) != SH_E_OK) {
            fprintf(stderr, "sigharness sign: %s: cannot pack the signed bundle\n", job->path);
            return SH_EXIT_INVALID;
        }
        ds = sh_write_file_atomic(dest, data, len, true, why, sizeof why);
        sh_free(b->alloc, data);
    } else {
        char dir[SH_MAX_BUNDLE_PATH * 4];
        int n = snprintf(dir, sizeof dir, "%.*s", (int)trimmed_len(dest), dest);
        if (n < 0 || (size_t)n >= sizeof dir) {
            fprintf(stderr, "sigharness sign: %s: path too long\n", dest);
            return SH_EXIT_USAGE;
        }
        ds = sh_bundle_write_dir(b, dir, job->out == NULL, why, sizeof why);
    }
    if (ds == SH_DISK_OK)
        return SH_EXIT_OK;
    fprintf(stderr, "sigharness sign: cannot write %s: %s\n", dest,
            why[0] ? why : sh_disk_status_name(ds));
    return ds == SH_DISK_EXISTS || ds == SH_DISK_SYMLINK || ds == SH_DISK_WRONG_TYPE
               ? SH_EXIT_USAGE
               : SH_EXIT_IO;
}

int sh_sign_bundle_job_run(const sh_sign_bundle_job *job, const sh_sign_options *code)
{
    sh_bundle b;
    int rc = read_bundle(job, &b);
    if (rc != SH_EXIT_OK)
        return rc;
    sh_bundle_sign_options o;
    sh_bundle_sign_options_init(&o);
    o.code = *code;
    o.profile = job->profile;
    o.profile_len = job->profile_len;
    sh_sign_result r;
    const char *dest = job->out ? job->out : job->path;
    if (sh_sign_bundle(&b, "", &o, &r) != SH_SIGN_OK) {
        fprintf(stderr, "sigharness sign: %s: %s\n", job->path, r.message);
        rc = exit_for(r.status);
    } else {
        rc = write_bundle(job, &b, dest);
    }
    if (rc == SH_EXIT_OK)
        printf("%s: signed (%s)\n", dest, code->identity ? code->identity->cn : "ad hoc");
    sh_bundle_free(&b);
    return rc;
}
