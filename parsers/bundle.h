/* A bundle held in memory: the directories, regular files and symbolic links under one root.
 *
 * It comes from a directory on disk (sh_bundle_read_dir, which never follows a symlink and
 * refuses FIFOs, sockets and devices), from the packed single-file form (sh_bundle_unpack; format
 * in docs/packed-bundle.md), or from the fixture builder.  The verdict engine reads it, mutators
 * edit it, and mutators/bundle_write.h puts it on disk atomically.  Working in memory keeps
 * regress fast and makes a whole bundle one fuzz input.
 *
 * Paths are relative to the root, '/'-separated and clean: no empty, "." or ".." component, no
 * leading or trailing '/', no NUL byte, at most SH_MAX_BUNDLE_PATH bytes and SH_MAX_BUNDLE_DEPTH
 * components.  The root itself is not an entry.  For an app the root is the X.app directory,
 * so paths look like "Contents/Info.plist".  Entries are kept sorted by path bytes (memcmp
 * order), and every entry's parent directories are present as SH_BUNDLE_DIR entries (adding a
 * file creates them).
 *
 * All memory comes from the allocator given to sh_bundle_init.  Functions returning sh_err fill
 * err (may be NULL) with where = the step, index = the entry index or -1. */
#ifndef SH_BUNDLE_H
#define SH_BUNDLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alloc.h"
#include "errors.h"
#include "sh_limits.h"

typedef enum sh_bundle_kind {
    SH_BUNDLE_DIR = 1,
    SH_BUNDLE_FILE = 2,
    SH_BUNDLE_SYMLINK = 3,
} sh_bundle_kind;

typedef struct sh_bundle_entry {
    char *path;          /* NUL-terminated, clean (see above) */
    sh_bundle_kind kind;
    uint32_t mode;       /* permission bits only (mode & 07777): 0755 directories, 0644 files */
    uint8_t *data;       /* FILE: the contents; SYMLINK: the target text (no NUL); DIR: NULL */
    size_t len;
} sh_bundle_entry;

typedef struct sh_bundle {
    sh_bundle_entry *entries; /* sorted by path */
    size_t count, cap;
    uint64_t total_bytes;     /* sum of len over all entries (<= SH_MAX_BUNDLE_BYTES) */
    const sh_allocator *alloc;
} sh_bundle;

void sh_bundle_init(sh_bundle *b, const sh_allocator *alloc);
void sh_bundle_free(sh_bundle *b);
/* Deep copy of src into dst (initialised here with src's allocator). */
sh_err sh_bundle_clone(const sh_bundle *src, sh_bundle *dst, sh_error *err);

/* True when path is clean in the sense above. */
bool sh_bundle_path_valid(const char *path);

/* The entry at exactly path (no symlink resolution), or NULL. */
const sh_bundle_entry *sh_bundle_find(const sh_bundle *b, const char *path);
/* Index of the first entry whose path is path or starts with path + "/" (binary search); count
 * when there is none.  Children of a directory follow it contiguously... except that a sibling
 * whose name sorts between "dir" and "dir/" ("dir-x", "dir.x") may sit between them, so use
 * sh_bundle_is_under to test each. */
size_t sh_bundle_lower_bound(const sh_bundle *b, const char *path);
/* True when entry_path is dir_path itself or lies below it. */
bool sh_bundle_is_under(const char *entry_path, const char *dir_path);

/* Adds or replaces (keeping nothing of the old entry) a file / symlink / directory.  Data is
 * copied.  Missing parent directories are created with mode 0755; a parent that exists but is
 * not a directory is BUNDLE_NOT_A_DIRECTORY.  Replacing a directory that has children by a file
 * or symlink is BUNDLE_NOT_A_DIRECTORY too (remove it first).  Limits: SH_MAX_BUNDLE_ENTRIES,
 * SH_MAX_BUNDLE_FILE, SH_MAX_BUNDLE_BYTES, SH_MAX_BUNDLE_SYMLINK_TARGET. */
sh_err sh_bundle_put_file(sh_bundle *b, const char *path, const uint8_t *data, size_t len,
                          uint32_t mode, sh_error *err);
sh_err sh_bundle_put_symlink(sh_bundle *b, const char *path, const char *target, sh_error *err);
sh_err sh_bundle_put_dir(sh_bundle *b, const char *path, uint32_t mode, sh_error *err);
/* Removes path and everything below it; BUNDLE_NOT_FOUND when path is absent. */
sh_err sh_bundle_remove(sh_bundle *b, const char *path, sh_error *err);
/* Moves path and everything below it to to (whose parents are created; to must not exist and
 * must not lie below from). */
sh_err sh_bundle_rename(sh_bundle *b, const char *from, const char *to, sh_error *err);

/* Resolves path inside the bundle the way the kernel would, following symlinks (relative
 * targets only, at most SH_MAX_BUNDLE_SYMLINK_HOPS) but never out of the root: an absolute
 * target is BUNDLE_SYMLINK_ABSOLUTE, a target climbing above the root BUNDLE_SYMLINK_ESCAPES,
 * too many hops BUNDLE_SYMLINK_LOOP, a missing component BUNDLE_NOT_FOUND, a file used as a
 * directory BUNDLE_NOT_A_DIRECTORY.  *out is the final entry (never a symlink); a path that
 * resolves to the root itself ("a/.." through a symlink to "..") is BUNDLE_NOT_FOUND, because the
 * root is not an entry. */
sh_err sh_bundle_resolve(const sh_bundle *b, const char *path, const sh_bundle_entry **out,
                         sh_error *err);

/* Limits a reader applies; each is clamped to its SH_MAX_BUNDLE_* default, so a caller (a test)
 * can only make them tighter. */
typedef struct sh_bundle_limits {
    size_t max_entries;  /* SH_MAX_BUNDLE_ENTRIES */
    unsigned max_depth;  /* SH_MAX_BUNDLE_DEPTH */
    uint64_t max_file;   /* SH_MAX_BUNDLE_FILE */
    uint64_t max_bytes;  /* SH_MAX_BUNDLE_BYTES */
} sh_bundle_limits;
sh_bundle_limits sh_bundle_limits_default(void);

/* Reads the directory tree at dir (the bundle root, e.g. ".../X.app") into out (initialised
 * here).  Opens each entry relative to its parent's descriptor with O_NOFOLLOW: symlinks are
 * recorded with their target and never followed; FIFOs, sockets and devices are
 * BUNDLE_UNSUPPORTED_FILE_TYPE; names that are not clean (a newline is allowed, a '/' cannot
 * occur) BUNDLE_PATH_INVALID; deeper than SH_MAX_BUNDLE_DEPTH BUNDLE_TOO_DEEP; more entries,
 * bigger files or more bytes than the limits BUNDLE_TOO_MANY_ENTRIES / BUNDLE_FILE_TOO_LARGE /
 * BUNDLE_TOO_LARGE; a system call failing IO.  why (may be NULL) receives the relative path and
 * the system error.  On failure *out is empty. */
sh_err sh_bundle_read_dir(const char *dir, const sh_allocator *alloc, sh_bundle *out,
                          sh_error *err, char *why, size_t why_size);
/* The same with tighter limits (NULL: the defaults). */
sh_err sh_bundle_read_dir_limited(const char *dir, const sh_bundle_limits *limits,
                                  const sh_allocator *alloc, sh_bundle *out, sh_error *err,
                                  char *why, size_t why_size);

/* Packed single-file form (docs/packed-bundle.md).  sh_bundle_pack allocates *out with the
 * bundle's allocator (free with sh_free(b->alloc, *out)); the bytes depend only on the entries. */
#define SH_BUNDLE_PACK_MAGIC "SHBUNDL1"
sh_err sh_bundle_pack(const sh_bundle *b, uint8_t **out, size_t *out_len, sh_error *err);
/* Parses untrusted packed bytes into out (initialised here).  Entries must come in strictly
 * ascending path order with parents first; every count, length and limit is checked
 * (BUNDLE_PACK_* errors, offsets in err).  On failure *out is empty. */
sh_err sh_bundle_unpack(const uint8_t *data, size_t len, const sh_allocator *alloc,
                        sh_bundle *out, sh_error *err);
/* True when data starts with SH_BUNDLE_PACK_MAGIC. */
bool sh_bundle_is_packed(const uint8_t *data, size_t len);

#endif
