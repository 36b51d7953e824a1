/* Putting a bundle or a single file on disk safely.
 *
 * Both writers build the result under a temporary name in the destination's own directory (so
 * the final rename never crosses a file system) and rename it into place: other processes see
 * the old state or the new one, never a half-written tree.  Nothing is ever written through a
 * symlink: every file is created relative to a directory descriptor with O_CREAT|O_EXCL|
 * O_NOFOLLOW, directories with mkdirat and symlinks with symlinkat, so a symlink in the bundle
 * is written as a symlink and an attacker's symlink in the way makes the write fail.  On any
 * failure the temporary is removed and the destination is left as it was.
 *
 * Atomic, not durable: sh_write_file_atomic fsyncs the file and its directory; the bundle writer
 * does not fsync each file (fixtures hold thousands), so after a power loss a bundle may be
 * missing and a ".sigharness-tmp-" directory left behind. */
#ifndef SH_BUNDLE_WRITE_H
#define SH_BUNDLE_WRITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bundle.h"

typedef enum sh_disk_status {
    SH_DISK_OK = 0,
    SH_DISK_INVALID_ARGUMENT, /* NULL, an empty path, a name of "." or "..", or an entry the
                                 bundle cannot hold (a path that is not clean) */
    SH_DISK_EXISTS,           /* the destination exists (a file) or is a non-empty directory and
                                 force was not given */
    SH_DISK_SYMLINK,          /* the destination is a symlink: refused even with force */
    SH_DISK_WRONG_TYPE,       /* the destination exists but is not the kind being written (a file
                                 where a directory goes, or the reverse): refused even with force */
    SH_DISK_IO,               /* a system call failed (ENOSPC, EFBIG, EACCES, ...): why says which */
    SH_DISK_NO_MEMORY,
} sh_disk_status;

const char *sh_disk_status_name(sh_disk_status s); /* "SH_DISK_EXISTS" */

/* Writes b as the directory out_dir (the bundle root: entries become out_dir/<path>).  The tree
 * is built in a new directory ".sigharness-tmp-XXXXXX" beside out_dir.  When out_dir is absent or
 * an empty directory it is then renamed into place; a non-empty out_dir is SH_DISK_EXISTS unless
 * force, which renames the old tree aside (".sigharness-old-XXXXXX"), renames the new one in and
 * deletes the old one (never following a symlink and never crossing into another file system).
 * Files get their entry's permission bits without set-user-ID, set-group-ID and sticky (a packed
 * bundle is untrusted input; we may be root); directories get theirs once their contents are
 * written.  why (may be NULL) receives a sentence naming the path and the system error. */
sh_disk_status sh_bundle_write_dir(const sh_bundle *b, const char *out_dir, bool force, char *why,
                                   size_t why_size);

/* Writes len bytes as the file path (mode 0644): a temporary file beside it is written, fsynced
 * and then linked (no force: fails with SH_DISK_EXISTS if path appeared meanwhile) or renamed
 * (force) into place, and the directory fsynced.  An existing path is SH_DISK_EXISTS without
 * force; a symlink at path is SH_DISK_SYMLINK and a directory SH_DISK_WRONG_TYPE in any case. */
sh_disk_status sh_write_file_atomic(const char *path, const uint8_t *data, size_t len, bool force,
                                    char *why, size_t why_size);

/* Creates path (mode 0644), which must not exist (O_EXCL|O_NOFOLLOW: SH_DISK_EXISTS), and
 * writes len bytes: for files inside a private temporary tree that is moved into place as a
 * whole afterwards, so no temporary name and no fsync per file (a broken-bundle set holds
 * thousands).  A failed write leaves a partial file for the caller's cleanup of the tree. */
sh_disk_status sh_write_file_new(const char *path, const uint8_t *data, size_t len, char *why,
                                 size_t why_size);

#endif
