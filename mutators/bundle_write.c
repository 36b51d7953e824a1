/* Writing bundles and files atomically without ever following a symlink (bundle_write.h). */
#include "bundle_write.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Deepest tree remove_tree descends into: the bundle limit for our own temporaries, with room
 * for an older out_dir someone else wrote. */
#define REMOVE_MAX_DEPTH (4u * SH_MAX_BUNDLE_DEPTH)

const char *sh_disk_status_name(sh_disk_status s)
{
    switch (s) {
    case SH_DISK_OK: return "SH_DISK_OK";
    case SH_DISK_INVALID_ARGUMENT: return "SH_DISK_INVALID_ARGUMENT";
    case SH_DISK_EXISTS: return "SH_DISK_EXISTS";
    case SH_DISK_SYMLINK: return "SH_DISK_SYMLINK";
    case SH_DISK_WRONG_TYPE: return "SH_DISK_WRONG_TYPE";
    case SH_DISK_IO: return "SH_DISK_IO";
    case SH_DISK_NO_MEMORY: return "SH_DISK_NO_MEMORY";
    }
    return "unknown";
}

static sh_disk_status say(char *why, size_t size, sh_disk_status s, const char *path,
                          const char *what, int errnum)
{
    if (why && size) {
        char msg[128] = "";
        if (errnum && strerror_r(errnum, msg, sizeof msg) != 0)
            snprintf(msg, sizeof msg, "errno %d", errnum);
        snprintf(why, size, "%s: %s%s%s", path, what, errnum ? ": " : "", msg);
    }
    return s;
}

/* path split into its directory and last name ("a/b/" -> "a", "b"; "b" -> ".", "b"). */
typedef struct split_path {
    char dir[PATH_MAX];
    char name[PATH_MAX];
} split_path;

static bool split(const char *path, split_path *sp)
{
    size_t len = path ? strlen(path) : 0;
    while (len > 1 && path[len - 1] == '/')
        len--;
    if (len == 0 || len >= PATH_MAX)
        return false;
    size_t slash = len;
    while (slash > 0 && path[slash - 1] != '/')
        slash--;
    size_t name_len = len - slash;
    if (name_len == 0 || (name_len == 1 && path[slash] == '.') ||
        (name_len == 2 && path[slash] == '.' && path[slash + 1] == '.'))
        return false;
    memcpy(sp->name, path + slash, name_len);
    sp->name[name_len] = 0;
    if (slash == 0)
        strcpy(sp->dir, ".");
    else if (slash == 1)
        strcpy(sp->dir, "/");
    else {
        memcpy(sp->dir, path, slash - 1);
        sp->dir[slash - 1] = 0;
    }
    return true;
}

/* Removes name (below the directory open on parent) and everything under it; never follows a
 * symlink and never enters another file system (dev).  Best effort: returns false when something
 * stayed behind. */
static bool remove_tree(int parent, const char *name, dev_t dev, unsigned depth)
{
    struct stat st;
    if (fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
        return errno == ENOENT;
    if (!S_ISDIR(st.st_mode))
        return unlinkat(parent, name, 0) == 0;
    if (st.st_dev != dev || depth >= REMOVE_MAX_DEPTH)
        return false;
    int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return false;
    (void)fchmod(fd, 0700); /* ours: a read-only directory must still be emptied */
    DIR *d = fdopendir(fd);
    if (!d) {
        close(fd);
        return false;
    }
    bool ok = true;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
            ok = remove_tree(dirfd(d), de->d_name, dev, depth + 1) && ok;
    }
    closedir(d);
    return unlinkat(parent, name, AT_REMOVEDIR) == 0 && ok;
}

/* The writer's state: the temporary root and the directories leading to the last entry's parent,
 * kept open so that consecutive entries (sorted paths) open only the directories they do not
 * share with the previous one. */
typedef struct writer {
    int root;                                 /* the temporary directory */
    size_t depth;                             /* open directories below the root */
    int fds[SH_MAX_BUNDLE_DEPTH];             /* fds[i]: the directory path[0 .. ends[i]) */
    size_t ends[SH_MAX_BUNDLE_DEPTH];
    char path[SH_MAX_BUNDLE_PATH + 1];        /* the open directories' path below the root */
    char *why;
    size_t why_size;
} writer;

static int top_dir(const writer *w)
{
    return w->depth ? w->fds[w->depth - 1] : w->root;
}

static void close_to(writer *w, size_t depth)
{
    while (w->depth > depth)
        close(w->fds[--w->depth]);
}

/* The number of open directories that are a prefix of path[0 .. len). */
static size_t shared_depth(const writer *w, const char *path, size_t len)
{
    size_t d = 0;
    while (d < w->depth && w->ends[d] <= len && memcmp(path, w->path, w->ends[d]) == 0 &&
           (w->ends[d] == len || path[w->ends[d]] == '/'))
        d++;
    return d;
}

/* Opens the directory at the first len bytes of path below the root, component by component with
 * O_NOFOLLOW (the tree is ours, but we never trust a path into following a link). */
static int open_parent(writer *w, const char *path, size_t len)
{
    close_to(w, shared_depth(w, path, len));
    size_t start = w->depth ? w->ends[w->depth - 1] + 1 : 0;
    while (start < len) {
        size_t end = start;
        while (end < len && path[end] != '/')
            end++;
        char name[SH_MAX_BUNDLE_PATH + 1];
        memcpy(name, path + start, end - start);
        name[end - start] = 0;
        if (w->depth == SH_MAX_BUNDLE_DEPTH) {
            errno = ENAMETOOLONG;
            return -1;
        }
        int fd = openat(top_dir(w), name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
            return -1;
        memcpy(w->path, path, end);
        w->path[end] = 0;
        w->fds[w->depth] = fd;
        w->ends[w->depth++] = end;
        start = end + 1;
    }
    return top_dir(w);
}

static bool write_all(int fd, const uint8_t *data, size_t len)
{
    size_t done = 0;
    while (done < len) {
        ssize_t n = write(fd, data + done, len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            if (n == 0)
                errno = EIO;
            return false;
        }
        done += (size_t)n;
    }
    return true;
}

static sh_disk_status write_entry(writer *w, const sh_bundle_entry *e)
{
    if (!sh_bundle_path_valid(e->path))
        return say(w->why, w->why_size, SH_DISK_INVALID_ARGUMENT, e->path, "not a clean path", 0);
    const char *slash = strrchr(e->path, '/');
    size_t parent_len = slash ? (size_t)(slash - e->path) : 0;
    const char *name = slash ? slash + 1 : e->path;
    int dir = open_parent(w, e->path, parent_len);
    if (dir < 0)
        return say(w->why, w->why_size, SH_DISK_IO, e->path, "open parent directory", errno);
    if (e->kind == SH_BUNDLE_DIR) {
        if (mkdirat(dir, name, 0700) != 0)
            return say(w->why, w->why_size, SH_DISK_IO, e->path, "mkdirat", errno);
        return SH_DISK_OK;
    }
    if (e->kind == SH_BUNDLE_SYMLINK) {
        char target[SH_MAX_BUNDLE_SYMLINK_TARGET + 1];
        if (e->len == 0 || e->len > SH_MAX_BUNDLE_SYMLINK_TARGET || memchr(e->data, 0, e->len))
            return say(w->why, w->why_size, SH_DISK_INVALID_ARGUMENT, e->path,
                       "symlink target is empty, too long or holds a NUL", 0);
        memcpy(target, e->data, e->len);
        target[e->len] = 0;
        if (symlinkat(target, dir, name) != 0)
            return say(w->why, w->why_size, SH_DISK_IO, e->path, "symlinkat", errno);
        return SH_DISK_OK;
    }
    int fd = openat(dir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return say(w->why, w->why_size, SH_DISK_IO, e->path, "openat", errno);
    sh_disk_status s = SH_DISK_OK;
    if (!write_all(fd, e->data, e->len))
        s = say(w->why, w->why_size, SH_DISK_IO, e->path, "write", errno);
    else if (fchmod(fd, e->mode & 0777) != 0)
        s = say(w->why, w->why_size, SH_DISK_IO, e->path, "fchmod", errno);
    if (close(fd) != 0 && s == SH_DISK_OK)
        s = say(w->why, w->why_size, SH_DISK_IO, e->path, "close", errno);
    return s;
}

/* Directory modes go on last, deepest first, so a read-only directory is filled before it
 * becomes read-only. */
static sh_disk_status set_dir_modes(writer *w, const sh_bundle *b)
{
    for (size_t i = b->count; i-- > 0;) {
        const sh_bundle_entry *e = &b->entries[i];
        if (e->kind != SH_BUNDLE_DIR)
            continue;
        const char *slash = strrchr(e->path, '/');
        int dir = open_parent(w, e->path, slash ? (size_t)(slash - e->path) : 0);
        if (dir < 0 || fchmodat(dir, slash ? slash + 1 : e->path, e->mode & 0777, 0) != 0)
            return say(w->why, w->why_size, SH_DISK_IO, e->path, "chmod directory", errno);
    }
    return SH_DISK_OK;
}

static sh_disk_status fill_tree(int root, const sh_bundle *b, char *why, size_t why_size)
{
    writer w = {.root = root, .why = why, .why_size = why_size};
    sh_disk_status s = SH_DISK_OK;
    for (size_t i = 0; i < b->count && s == SH_DISK_OK; i++)
        s = write_entry(&w, &b->entries[i]);
    if (s == SH_DISK_OK)
        s = set_dir_modes(&w, b);
    close_to(&w, 0);
    if (s == SH_DISK_OK && fchmod(root, 0755) != 0)
        s = say(why, why_size, SH_DISK_IO, ".", "chmod bundle root", errno);
    return s;
}

/* What is at name in the directory parent: 0 absent, else the stat result's type; -1 on error. */
static int probe(int parent, const char *name, struct stat *st)
{
    if (fstatat(parent, name, st, AT_SYMLINK_NOFOLLOW) == 0)
        return 1;
    return errno == ENOENT ? 0 : -1;
}

static int dir_is_empty(int parent, const char *name)
{
    int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return -1;
    DIR *d = fdopendir(fd);
    if (!d) {
        close(fd);
        return -1;
    }
    int empty = 1;
    struct dirent *de;
    while ((de = readdir(d)) != NULL)
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0) {
            empty = 0;
            break;
        }
    closedir(d);
    return empty;
}

/* A fresh, empty directory "<dir>/<prefix>XXXXXX"; its name goes to name. */
static bool make_temp_dir(const char *dir, const char *prefix, char *name, size_t name_size)
{
    char tmpl[PATH_MAX];
    int n = snprintf(tmpl, sizeof tmpl, "%s/%sXXXXXX", dir, prefix);
    if (n < 0 || (size_t)n >= sizeof tmpl || !mkdtemp(tmpl))
        return false;
    snprintf(name, name_size, "%s", tmpl + strlen(dir) + 1);
    return true;
}

/* Puts the finished temporary tree at sp->name (see sh_bundle_write_dir). */
static sh_disk_status place(int parent, const split_path *sp, const char *tmp, bool replace,
                            dev_t dev, char *why, size_t why_size)
{
    if (!replace) {
        /* Absent or empty: rename replaces an empty directory atomically. */
        if (renameat(parent, tmp, parent, sp->name) != 0)
            return say(why, why_size, errno == ENOTEMPTY || errno == EEXIST ? SH_DISK_EXISTS
                                                                            : SH_DISK_IO,
                       sp->name, "rename into place", errno);
        return SH_DISK_OK;
    }
    char old[NAME_MAX + 1];
    if (!make_temp_dir(sp->dir, ".sigharness-old-", old, sizeof old))
        return say(why, why_size, SH_DISK_IO, sp->dir, "mkdtemp", errno);
    if (renameat(parent, sp->name, parent, old) != 0) {
        int errnum = errno;
        unlinkat(parent, old, AT_REMOVEDIR);
        return say(why, why_size, SH_DISK_IO, sp->name, "rename the old tree aside", errnum);
    }
    if (renameat(parent, tmp, parent, sp->name) != 0) {
        int errnum = errno;
        (void)renameat(parent, old, parent, sp->name); /* put the old tree back */
        return say(why, why_size, SH_DISK_IO, sp->name, "rename into place", errnum);
    }
    if (!remove_tree(parent, old, dev, 0))
        return say(why, why_size, SH_DISK_IO, old,
                   "the new bundle is in place but the old tree could not be fully deleted", 0);
    return SH_DISK_OK;
}

sh_disk_status sh_bundle_write_dir(const sh_bundle *b, const char *out_dir, bool force, char *why,
                                   size_t why_size)
{
    if (why && why_size)
        why[0] = 0;
    split_path sp;
    if (!b || !split(out_dir, &sp))
        return say(why, why_size, SH_DISK_INVALID_ARGUMENT, out_dir ? out_dir : "(null)",
                   "not a usable output directory name", 0);
    int parent = open(sp.dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (parent < 0)
        return say(why, why_size, SH_DISK_IO, sp.dir, "open", errno);
    struct stat st, pst;
    sh_disk_status s = SH_DISK_OK;
    bool replace = false;
    int found = probe(parent, sp.name, &st);
    if (fstat(parent, &pst) != 0 || found < 0)
        s = say(why, why_size, SH_DISK_IO, out_dir, "stat", errno);
    else if (found && S_ISLNK(st.st_mode))
        s = say(why, why_size, SH_DISK_SYMLINK, out_dir, "is a symlink: refusing to write", 0);
    else if (found && !S_ISDIR(st.st_mode))
        s = say(why, why_size, SH_DISK_WRONG_TYPE, out_dir, "exists and is not a directory", 0);
    else if (found) {
        int empty = dir_is_empty(parent, sp.name);
        if (empty < 0)
            s = say(why, why_size, SH_DISK_IO, out_dir, "open", errno);
        else if (!empty && !force)
            s = say(why, why_size, SH_DISK_EXISTS, out_dir,
                    "is not empty (pass force to replace it)", 0);
        replace = !empty;
    }
    char tmp[NAME_MAX + 1];
    if (s == SH_DISK_OK && !make_temp_dir(sp.dir, ".sigharness-tmp-", tmp, sizeof tmp))
        s = say(why, why_size, SH_DISK_IO, sp.dir, "mkdtemp", errno);
    else if (s == SH_DISK_OK) {
        int root = openat(parent, tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (root < 0)
            s = say(why, why_size, SH_DISK_IO, tmp, "open", errno);
        else {
            s = fill_tree(root, b, why, why_size);
            close(root);
        }
        if (s == SH_DISK_OK)
            s = place(parent, &sp, tmp, replace, pst.st_dev, why, why_size);
        if (s != SH_DISK_OK)
            remove_tree(parent, tmp, pst.st_dev, 0);
    }
    close(parent);
    return s;
}

sh_disk_status sh_write_file_atomic(const char *path, const uint8_t *data, size_t len, bool force,
                                    char *why, size_t why_size)
{
    if (why && why_size)
        why[0] = 0;
    split_path sp;
    if (!split(path, &sp) || (len && !data))
        return say(why, why_size, SH_DISK_INVALID_ARGUMENT, path ? path : "(null)",
                   "not a usable file name", 0);
    int parent = open(sp.dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (parent < 0)
        return say(why, why_size, SH_DISK_IO, sp.dir, "open", errno);
    struct stat st;
    int found = probe(parent, sp.name, &st);
    sh_disk_status s = SH_DISK_OK;
    if (found < 0)
        s = say(why, why_size, SH_DISK_IO, path, "stat", errno);
    else if (found && S_ISLNK(st.st_mode))
        s = say(why, why_size, SH_DISK_SYMLINK, path, "is a symlink: refusing to write", 0);
    else if (found && !S_ISREG(st.st_mode))
        s = say(why, why_size, SH_DISK_WRONG_TYPE, path, "exists and is not a regular file", 0);
    else if (found && !force)
        s = say(why, why_size, SH_DISK_EXISTS, path, "exists (pass force to replace it)", 0);
    if (s != SH_DISK_OK) {
        close(parent);
        return s;
    }
    char tmpl[PATH_MAX];
    int n = snprintf(tmpl, sizeof tmpl, "%s/.sigharness-tmp-XXXXXX", sp.dir);
    int fd = n > 0 && (size_t)n < sizeof tmpl ? mkstemp(tmpl) : -1;
    if (fd < 0) {
        close(parent);
        return say(why, why_size, SH_DISK_IO, sp.dir, "mkstemp", errno);
    }
    const char *tmp = tmpl + strlen(sp.dir) + 1;
    if (!write_all(fd, data, len))
        s = say(why, why_size, SH_DISK_IO, path, "write", errno);
    else if (fchmod(fd, 0644) != 0)
        s = say(why, why_size, SH_DISK_IO, path, "fchmod", errno);
    else if (fsync(fd) != 0)
        s = say(why, why_size, SH_DISK_IO, path, "fsync", errno);
    if (close(fd) != 0 && s == SH_DISK_OK)
        s = say(why, why_size, SH_DISK_IO, path, "close", errno);
    if (s == SH_DISK_OK && !force && linkat(parent, tmp, parent, sp.name, 0) != 0)
        s = say(why, why_size, errno == EEXIST ? SH_DISK_EXISTS : SH_DISK_IO, path,
                "link into place", errno);
    else if (s == SH_DISK_OK && force && renameat(parent, tmp, parent, sp.name) != 0)
        s = say(why, why_size, SH_DISK_IO, path, "rename into place", errno);
    if (s != SH_DISK_OK || !force)
        unlinkat(parent, tmp, 0); /* after link, or on failure: the temporary name goes */
    if (s == SH_DISK_OK && fsync(parent) != 0)
        s = say(why, why_size, SH_DISK_IO, sp.dir, "fsync directory", errno);
    close(parent);
    return s;
}

sh_disk_status sh_write_file_new(const char *path, const uint8_t *data, size_t len, char *why,
                                 size_t why_size)
{
    if (why && why_size)
        why[0] = 0;
    if (!path || (len && !data))
        return say(why, why_size, SH_DISK_INVALID_ARGUMENT, path ? path : "(null)",
                   "not a usable file name", 0);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0)
        return say(why, why_size, errno == EEXIST ? SH_DISK_EXISTS : SH_DISK_IO, path, "open",
                   errno);
    sh_disk_status s = SH_DISK_OK;
    if (!write_all(fd, data, len))
        s = say(why, why_size, SH_DISK_IO, path, "write", errno);
    if (close(fd) != 0 && s == SH_DISK_OK)
        s = say(why, why_size, SH_DISK_IO, path, "close", errno);
    return s;
}
