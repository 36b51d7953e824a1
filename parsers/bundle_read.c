/* Reading a bundle directory from disk without ever following a symlink.
 *
 * Every entry is reached relative to its parent's descriptor (openat, fstatat, readlinkat), and
 * each open uses O_NOFOLLOW, so a symlink anywhere in the tree (or one swapped in while we read)
 * is recorded as a symlink and never opened.  After opening, fstat must show the same inode that
 * fstatat saw, so an entry replaced between the two calls is caught rather than read.  Sizes are
 * checked against the limits before any byte is read, so a huge (sparse) file costs nothing. */
#include "bundle.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bundle_internal.h"

typedef struct reader {
    sh_bundle *b;
    sh_bundle_limits limits;
    sh_error *err;
    char *why;
    size_t why_size;
    char path[SH_MAX_BUNDLE_PATH + 1]; /* the entry being read, relative to the root */
} reader;

static void say(reader *r, const char *path, const char *what, int errnum)
{
    if (!r->why || r->why_size == 0)
        return;
    char msg[128] = "";
    if (errnum && strerror_r(errnum, msg, sizeof msg) != 0)
        snprintf(msg, sizeof msg, "errno %d", errnum);
    snprintf(r->why, r->why_size, "%s: %s%s%s", path[0] ? path : ".", what,
             errnum ? ": " : "", msg);
}

static sh_err fail_io(reader *r, const char *step, int errnum)
{
    say(r, r->path, step, errnum);
    return sh_fail(r->err, SH_E_IO, step, (int64_t)r->b->count, 0);
}

static sh_err fail(reader *r, sh_err code, const char *step, uint64_t value)
{
    say(r, r->path, step, 0);
    return sh_fail_value(r->err, code, step, (int64_t)r->b->count, 0, value);
}

/* The entry's own error (limits, path) was recorded by sh_bundle_append_owned; add the path. */
static sh_err append(reader *r, sh_bundle_kind kind, uint32_t mode, uint8_t *data, size_t len)
{
    char *copy = sh_bundle_strndup(r->b, r->path, strlen(r->path));
    if (!copy) {
        sh_free(r->b->alloc, data);
        return fail(r, SH_E_NO_MEMORY, "bundle read: path", 0);
    }
    sh_err e = sh_bundle_append_owned(r->b, copy, kind, mode, data, len, &r->limits, r->err);
    if (e != SH_E_OK)
        say(r, r->path, sh_err_name(e), 0);
    return e;
}

static bool same_file(const struct stat *a, const struct stat *b)
{
    return a->st_dev == b->st_dev && a->st_ino == b->st_ino &&
           (a->st_mode & S_IFMT) == (b->st_mode & S_IFMT);
}

static sh_err read_symlink(reader *r, int dir, const char *name)
{
    char target[SH_MAX_BUNDLE_SYMLINK_TARGET + 1];
    ssize_t n = readlinkat(dir, name, target, sizeof target);
    if (n < 0)
        return fail_io(r, "bundle read: readlinkat", errno);
    if (n == 0 || (size_t)n > SH_MAX_BUNDLE_SYMLINK_TARGET)
        return fail(r, SH_E_BUNDLE_SYMLINK_TARGET_INVALID, "bundle read: symlink target",
                    (uint64_t)n);
    uint8_t *data = sh_calloc(r->b->alloc, (size_t)n, 1);
    if (!data)
        return fail(r, SH_E_NO_MEMORY, "bundle read: symlink target", 0);
    memcpy(data, target, (size_t)n);
    /* 0777 whatever lstat says, as sh_bundle_put_symlink records it. */
    return append(r, SH_BUNDLE_SYMLINK, 0777, data, (size_t)n);
}

static sh_err read_contents(reader *r, int fd, uint8_t *data, size_t size)
{
    size_t done = 0;
    while (done < size) {
        ssize_t n = read(fd, data + done, size - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return fail_io(r, "bundle read: read", errno);
        if (n == 0)
            return fail(r, SH_E_BUNDLE_CHANGED, "bundle read: file shrank", done);
        done += (size_t)n;
    }
    uint8_t extra;
    ssize_t n;
    do
        n = read(fd, &extra, 1);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return fail_io(r, "bundle read: read", errno);
    if (n > 0)
        return fail(r, SH_E_BUNDLE_CHANGED, "bundle read: file grew", size);
    return SH_E_OK;
}

static sh_err read_file(reader *r, int dir, const char *name, const struct stat *seen)
{
    uint64_t size = (uint64_t)seen->st_size;
    uint64_t total = r->b->total_bytes + size;
    if (size > r->limits.max_file)
        return fail(r, SH_E_BUNDLE_FILE_TOO_LARGE, "bundle read: file", size);
    if (total > r->limits.max_bytes)
        return fail(r, SH_E_BUNDLE_TOO_LARGE, "bundle read: total", total);
    /* O_NONBLOCK: if a FIFO was swapped in after fstatat, opening it must not hang. */
    int fd = openat(dir, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return fail_io(r, "bundle read: openat", errno);
    struct stat now;
    sh_err e = SH_E_OK;
    uint8_t *data = NULL;
    if (fstat(fd, &now) != 0)
        e = fail_io(r, "bundle read: fstat", errno);
    else if (!same_file(seen, &now) || now.st_size != seen->st_size)
        e = fail(r, SH_E_BUNDLE_CHANGED, "bundle read: file replaced", 0);
    else if (size && !(data = sh_calloc(r->b->alloc, (size_t)size, 1)))
        e = fail(r, SH_E_NO_MEMORY, "bundle read: file contents", size);
    else if (size)
        e = read_contents(r, fd, data, (size_t)size);
    close(fd);
    if (e != SH_E_OK) {
        sh_free(r->b->alloc, data);
        return e;
    }
    return append(r, SH_BUNDLE_FILE, (uint32_t)seen->st_mode & 07777, data, (size_t)size);
}

static sh_err read_tree(reader *r, int dir, unsigned depth);

static sh_err read_subdir(reader *r, int dir, const char *name, const struct stat *seen,
                          unsigned depth)
{
    if (depth > r->limits.max_depth)
        return fail(r, SH_E_BUNDLE_TOO_DEEP, "bundle read: directory", depth);
    sh_err e = append(r, SH_BUNDLE_DIR, (uint32_t)seen->st_mode & 07777, NULL, 0);
    if (e != SH_E_OK)
        return e;
    int fd = openat(dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return fail_io(r, "bundle read: openat directory", errno);
    struct stat now;
    if (fstat(fd, &now) != 0) {
        e = fail_io(r, "bundle read: fstat", errno);
        close(fd);
        return e;
    }
    if (!same_file(seen, &now)) {
        close(fd);
        return fail(r, SH_E_BUNDLE_CHANGED, "bundle read: directory replaced", 0);
    }
    return read_tree(r, fd, depth);
}

static sh_err read_entry(reader *r, int dir, const char *name, unsigned depth)
{
    size_t base = strlen(r->path), n = strlen(name);
    size_t sep = base ? 1 : 0;
    if (base + sep + n > SH_MAX_BUNDLE_PATH) {
        say(r, r->path, "bundle read: path longer than SH_MAX_BUNDLE_PATH", 0);
        return sh_fail(r->err, SH_E_BUNDLE_PATH_INVALID, "bundle read: path",
                       (int64_t)r->b->count, 0);
    }
    if (sep)
        r->path[base] = '/';
    memcpy(r->path + base + sep, name, n + 1);

    struct stat st;
    sh_err e;
    if (fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
        e = fail_io(r, "bundle read: fstatat", errno);
    else if (S_ISLNK(st.st_mode))
        e = read_symlink(r, dir, name);
    else if (S_ISREG(st.st_mode))
        e = read_file(r, dir, name, &st);
    else if (S_ISDIR(st.st_mode))
        e = read_subdir(r, dir, name, &st, depth + 1);
    else
        e = fail(r, SH_E_BUNDLE_UNSUPPORTED_FILE_TYPE, "bundle read: file type",
                 (uint64_t)st.st_mode);
    if (e == SH_E_OK)
        r->path[base] = 0;
    return e;
}

/* Reads the directory open on dir (whose path is r->path, depth components deep); takes dir. */
static sh_err read_tree(reader *r, int dir, unsigned depth)
{
    DIR *d = fdopendir(dir);
    if (!d) {
        sh_err e = fail_io(r, "bundle read: fdopendir", errno);
        close(dir);
        return e;
    }
    sh_err e = SH_E_OK;
    for (;;) {
        errno = 0;
        struct dirent *de = readdir(d);
        if (!de) {
            if (errno)
                e = fail_io(r, "bundle read: readdir", errno);
            break;
        }
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        e = read_entry(r, dirfd(d), de->d_name, depth);
        if (e != SH_E_OK)
            break;
    }
    closedir(d);
    return e;
}

static sh_bundle_limits clamp(const sh_bundle_limits *l)
{
    sh_bundle_limits d = sh_bundle_limits_default();
    if (!l)
        return d;
    sh_bundle_limits c = *l;
    if (c.max_entries > d.max_entries)
        c.max_entries = d.max_entries;
    if (c.max_depth > d.max_depth)
        c.max_depth = d.max_depth;
    if (c.max_file > d.max_file)
        c.max_file = d.max_file;
    if (c.max_bytes > d.max_bytes)
        c.max_bytes = d.max_bytes;
    return c;
}

sh_err sh_bundle_read_dir_limited(const char *dir, const sh_bundle_limits *limits,
                                  const sh_allocator *alloc, sh_bundle *out, sh_error *err,
                                  char *why, size_t why_size)
{
    sh_bundle_init(out, alloc);
    if (why && why_size)
        why[0] = 0;
    reader r = {out, clamp(limits), err, why, why_size, ""};
    if (!dir)
        return sh_fail(err, SH_E_IO, "bundle read: no directory", -1, 0);
    /* "link/" would make the kernel follow link despite O_NOFOLLOW: drop trailing slashes. */
    char root[4096];
    size_t len = strlen(dir);
    while (len > 1 && dir[len - 1] == '/')
        len--;
    if (len >= sizeof root)
        return sh_fail(err, SH_E_IO, "bundle read: root path too long", -1, 0);
    memcpy(root, dir, len);
    root[len] = 0;
    int fd = open(root, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        int errnum = errno;
        say(&r, dir, "open", errnum);
        /* ELOOP: the root is a symlink (O_NOFOLLOW); ENOTDIR: not a directory. */
        if (errnum == ELOOP || errnum == ENOTDIR)
            return sh_fail(err, SH_E_BUNDLE_ROOT_NOT_DIRECTORY, "bundle read: root", -1, 0);
        return sh_fail(err, SH_E_IO, "bundle read: root", -1, 0);
    }
    sh_err e = read_tree(&r, fd, 0);
    if (e != SH_E_OK) {
        sh_bundle_free(out);
        return e;
    }
    sh_bundle_sort(out);
    return SH_E_OK;
}

sh_err sh_bundle_read_dir(const char *dir, const sh_allocator *alloc, sh_bundle *out,
                          sh_error *err, char *why, size_t why_size)
{
    return sh_bundle_read_dir_limited(dir, NULL, alloc, out, err, why, why_size);
}
