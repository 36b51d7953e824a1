/* sh_crw_walk: a bundle directory into CodeResources writer entries (coderesources_writer.h).
 *
 * Every entry is reached through its parent directory's descriptor (openat, fstatat,
 * readlinkat) with O_NOFOLLOW / AT_SYMLINK_NOFOLLOW, so nothing outside the tree is ever opened:
 * a symlink is recorded with its target, and a directory or file replaced by a symlink between
 * the lstat and the open fails the open (ELOOP) instead of being followed. */
#define _POSIX_C_SOURCE 200809L

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "coderesources_writer.h"
#include "hash.h"

typedef struct walk {
    const sh_crw_walk_options *opt;
    unsigned max_depth;
    size_t max_entries;
    uint64_t max_file;
    sh_res_rules rules2;
    sh_res_matcher m2;
    bool m2_ok;
    sh_crw_list *out;
    sh_crw_error *err;
    char rel[SH_MAX_RES_PATH_LEN + 1]; /* the current relative path */
} walk;

static sh_write_status walk_fail(walk *w, sh_write_status st, const char *what, int sys_errno)
{
    sh_crw_error_set(w->err, st, what, w->rel, sys_errno);
    return st;
}

/* ---- the list ---- */

static void entry_free(const sh_allocator *a, sh_crw_entry *e)
{
    /* the list allocated these strings itself (list_add / list_dup) */
    char *p;
    memcpy(&p, &e->path, sizeof p);
    sh_free(a, p);
    memcpy(&p, &e->target, sizeof p);
    sh_free(a, p);
    memcpy(&p, &e->requirement, sizeof p);
    sh_free(a, p);
}

void sh_crw_list_free(sh_crw_list *list)
{
    if (list == NULL)
        return;
    for (size_t i = 0; i < list->count; i++)
        entry_free(list->alloc, &list->items[i]);
    sh_free(list->alloc, list->items);
    const sh_allocator *a = list->alloc;
    memset(list, 0, sizeof *list);
    list->alloc = a;
}

static char *list_dup(walk *w, const char *s, size_t n)
{
    if (n >= SIZE_MAX)
        return NULL;
    char *p = sh_calloc(w->out->alloc, n + 1, 1);
    if (p != NULL)
        memcpy(p, s, n);
    return p;
}

/* Appends a zeroed entry for w->rel (path copied) at *out. */
static sh_write_status list_add(walk *w, sh_crw_kind kind, sh_crw_entry **out)
{
    sh_crw_list *l = w->out;
    if (l->count >= w->max_entries)
        return walk_fail(w, SH_W_TOO_LARGE, "too many entries", 0);
    if (l->count == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16; /* cap <= SH_MAX_RES_ENTRIES: no overflow */
        if (cap > w->max_entries)
            cap = w->max_entries;
        sh_crw_entry *items = sh_calloc(l->alloc, cap, sizeof *items);
        if (items == NULL)
            return walk_fail(w, SH_W_NO_MEMORY, "entry list", 0);
        if (l->count)
            memcpy(items, l->items, l->count * sizeof *items);
        sh_free(l->alloc, l->items);
        l->items = items;
        l->cap = cap;
    }
    char *path = list_dup(w, w->rel, strlen(w->rel));
    if (path == NULL)
        return walk_fail(w, SH_W_NO_MEMORY, "entry path", 0);
    sh_crw_entry *e = &l->items[l->count++];
    memset(e, 0, sizeof *e);
    e->path = path;
    e->kind = kind;
    *out = e;
    return SH_W_OK;
}

/* ---- one entry ---- */

static sh_write_status read_all(walk *w, int fd, uint64_t size, uint8_t *buf)
{
    uint64_t done = 0;
    while (done < size) {
        size_t want = size - done > (1u << 20) ? (1u << 20) : (size_t)(size - done);
        ssize_t n = read(fd, buf + done, want);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return walk_fail(w, SH_W_INVALID_ARGUMENT, "read", errno);
        if (n == 0)
            return walk_fail(w, SH_W_INVALID_ARGUMENT, "file shrank while read", 0);
        done += (uint64_t)n;
    }
    uint8_t extra;
    ssize_t n = read(fd, &extra, 1);
    if (n != 0)
        return walk_fail(w, SH_W_INVALID_ARGUMENT, "file grew while read", n < 0 ? errno : 0);
    return SH_W_OK;
}

static sh_write_status hash_fd(walk *w, int fd, const struct stat *lst, sh_crw_entry *e)
{
    struct stat st;
    if (fstat(fd, &st) != 0)
        return walk_fail(w, SH_W_INVALID_ARGUMENT, "fstat", errno);
    if (!S_ISREG(st.st_mode) || st.st_ino != lst->st_ino || st.st_dev != lst->st_dev)
        return walk_fail(w, SH_W_INVALID_ARGUMENT, "file replaced during the walk", 0);
    if (st.st_size < 0 || (uint64_t)st.st_size > w->max_file ||
        (uint64_t)st.st_size >= SH_BYTEBUF_MAX)
        return walk_fail(w, SH_W_TOO_LARGE, "file too large", 0);
    uint64_t size = (uint64_t)st.st_size;
    uint8_t *buf = sh_calloc(w->out->alloc, size ? (size_t)size : 1, 1);
    if (buf == NULL)
        return walk_fail(w, SH_W_NO_MEMORY, "file buffer", 0);
    sh_write_status rc = read_all(w, fd, size, buf);
    if (rc == SH_W_OK && (!sh_hash(SH_HASH_SHA1, buf, (size_t)size, e->sha1) ||
                          !sh_hash(SH_HASH_SHA256, buf, (size_t)size, e->sha256)))
        rc = walk_fail(w, SH_W_HASH_FAILED, "file hash", 0);
    e->hashed = rc == SH_W_OK;
    sh_free(w->out->alloc, buf);
    return rc;
}

static sh_write_status add_file(walk *w, int dfd, const char *name, const struct stat *lst)
{
    sh_crw_entry *e = NULL;
    sh_write_status rc = list_add(w, SH_CRW_FILE, &e);
    if (rc != SH_W_OK)
        return rc;
    int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return walk_fail(w, SH_W_INVALID_ARGUMENT, "open", errno);
    sh_write_status st = hash_fd(w, fd, lst, e);
    close(fd);
    return st;
}

static sh_write_status add_symlink(walk *w, int dfd, const char *name)
{
    char target[SH_MAX_RES_PATH_LEN + 1];
    ssize_t n = readlinkat(dfd, name, target, sizeof target);
    if (n < 0)
        return walk_fail(w, SH_W_INVALID_ARGUMENT, "readlink", errno);
    if ((size_t)n >= sizeof target || n == 0)
        return walk_fail(w, SH_W_INVALID_ARGUMENT, "symlink target length", 0);
    sh_crw_entry *e = NULL;
    sh_write_status rc = list_add(w, SH_CRW_SYMLINK, &e);
    if (rc != SH_W_OK)
        return rc;
    e->target = list_dup(w, target, (size_t)n);
    return e->target ? SH_W_OK : walk_fail(w, SH_W_NO_MEMORY, "symlink target", 0);
}

/* Nested code (v2 rule nested): its cdhash and requirement from the caller. */
static sh_write_status add_nested(walk *w, bool is_dir)
{
    if (w->opt->nested == NULL)
        return walk_fail(w, SH_W_INVALID_ARGUMENT, "nested code and no resolver", 0);
    uint8_t cdhash[SH_RES_SHA1_LEN] = {0};
    const char *req = NULL;
    if (!w->opt->nested(w->opt->nested_ctx, w->rel, is_dir, cdhash, &req))
        return walk_fail(w, SH_W_INVALID_ARGUMENT, "nested code resolver refused", 0);
    sh_crw_entry *e = NULL;
    sh_write_status rc = list_add(w, SH_CRW_NESTED, &e);
    if (rc != SH_W_OK)
        return rc;
    memcpy(e->cdhash, cdhash, sizeof cdhash);
    if (req != NULL) {
        size_t n = strnlen(req, SH_MAX_RES_REQUIREMENT_LEN + 1);
        if (n > SH_MAX_RES_REQUIREMENT_LEN)
            return walk_fail(w, SH_W_TOO_LARGE, "nested requirement", 0);
        if ((e->requirement = list_dup(w, req, n)) == NULL)
            return walk_fail(w, SH_W_NO_MEMORY, "nested requirement", 0);
    }
    return SH_W_OK;
}

/* Does w->rel fall under a nested v2 rule? */
static sh_write_status is_nested(walk *w, bool *out)
{
    sh_res_match m;
    sh_error perr;
    if (sh_res_matcher_match(&w->m2, w->rel, &m, &perr) != SH_E_OK)
        return walk_fail(w, SH_W_INVALID_ARGUMENT, "rule match failed", 0);
    *out = m.rule != NULL && !m.rule->omit && m.rule->nested;
    return SH_W_OK;
}

static sh_write_status walk_dir(walk *w, int dfd, unsigned depth);

static sh_write_status visit_dir(walk *w, int dfd, const char *name, unsigned depth)
{
    bool nested = false;
    sh_write_status st = is_nested(w, &nested);
    if (st != SH_W_OK)
        return st;
    if (nested && strchr(name, '.') != NULL) /* a bundle: sealed as nested code, not entered */
        return add_nested(w, true);
    if (depth >= w->max_depth)
        return walk_fail(w, SH_W_TOO_LARGE, "directory tree too deep", 0);
    int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return walk_fail(w, SH_W_INVALID_ARGUMENT, "open directory", errno);
    return walk_dir(w, fd, depth + 1); /* walk_dir closes fd */
}

static sh_write_status visit(walk *w, int dfd, const char *name, unsigned depth)
{
    struct stat st;
    if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
        return walk_fail(w, SH_W_INVALID_ARGUMENT, "lstat", errno);
    if (S_ISLNK(st.st_mode))
        return add_symlink(w, dfd, name);
    if (S_ISDIR(st.st_mode))
        return visit_dir(w, dfd, name, depth);
    if (!S_ISREG(st.st_mode))
        return walk_fail(w, SH_W_INVALID_ARGUMENT, "unsupported file type", 0);
    bool nested = false;
    sh_write_status rc = is_nested(w, &nested);
    if (rc != SH_W_OK)
        return rc;
    return nested ? add_nested(w, false) : add_file(w, dfd, name, &st);
}

/* Skips "_CodeSignature" at the top and the main executable. */
static bool skipped(const walk *w, unsigned depth)
{
    if (depth == 0 && strcmp(w->rel, "_CodeSignature") == 0)
        return true;
    return w->opt->main_executable != NULL && strcmp(w->rel, w->opt->main_executable) == 0;
}

/* Appends "/name" (or "name" at the top) to w->rel; false when too long. */
static bool rel_push(walk *w, const char *name, size_t *saved)
{
    size_t len = strlen(w->rel), n = strlen(name);
    size_t need = len + (len ? 1 : 0) + n; /* each <= SH_MAX_RES_PATH_LEN + NAME_MAX */
    *saved = len;
    if (need > SH_MAX_RES_PATH_LEN)
        return false;
    if (len)
        w->rel[len++] = '/';
    memcpy(w->rel + len, name, n + 1);
    return true;
}

static sh_write_status walk_entries(walk *w, DIR *d, int dfd, unsigned depth)
{
    for (;;) {
        errno = 0;
        struct dirent *de = readdir(d);
        if (de == NULL)
            return errno ? walk_fail(w, SH_W_INVALID_ARGUMENT, "readdir", errno) : SH_W_OK;
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        size_t saved;
        if (!rel_push(w, de->d_name, &saved))
            return walk_fail(w, SH_W_TOO_LARGE, "path too long", 0);
        sh_write_status st = skipped(w, depth) ? SH_W_OK : visit(w, dfd, de->d_name, depth);
        if (st != SH_W_OK)
            return st;
        w->rel[saved] = '\0';
    }
}

static sh_write_status walk_dir(walk *w, int fd, unsigned depth)
{
    DIR *d = fdopendir(fd);
    if (d == NULL) {
        int e = errno;
        close(fd);
        return walk_fail(w, SH_W_INVALID_ARGUMENT, "fdopendir", e);
    }
    sh_write_status st = walk_entries(w, d, fd, depth);
    closedir(d);
    return st;
}

static sh_write_status walk_setup(walk *w, const sh_crw_walk_options *opt, sh_crw_list *out,
                                  sh_crw_error *err)
{
    static const sh_crw_walk_options defaults = {NULL, 0, 0, 0, NULL, NULL};
    memset(w, 0, sizeof *w);
    w->opt = opt != NULL ? opt : &defaults;
    w->max_depth = w->opt->max_depth ? w->opt->max_depth : SH_CRW_DEFAULT_MAX_DEPTH;
    w->max_entries = w->opt->max_entries ? w->opt->max_entries : SH_MAX_RES_ENTRIES;
    if (w->max_entries > SH_MAX_RES_ENTRIES)
        w->max_entries = SH_MAX_RES_ENTRIES;
    w->max_file = w->opt->max_file_size ? w->opt->max_file_size : SH_CRW_DEFAULT_MAX_FILE;
    w->out = out;
    w->err = err;
    sh_error perr;
    if (sh_res_default_rules2(out->alloc, &w->rules2, &perr) != SH_E_OK)
        return walk_fail(w, SH_W_NO_MEMORY, "default rules", 0);
    if (sh_res_matcher_init(&w->m2, &w->rules2, out->alloc, &perr) != SH_E_OK)
        return walk_fail(w, SH_W_NO_MEMORY, "rules2 matcher", 0);
    w->m2_ok = true;
    return SH_W_OK;
}

sh_write_status sh_crw_walk(const char *root, const sh_crw_walk_options *opt,
                            const sh_allocator *alloc, sh_crw_list *out, sh_crw_error *err)
{
    if (out == NULL)
        return SH_W_INVALID_ARGUMENT;
    memset(out, 0, sizeof *out);
    out->alloc = alloc;
    walk w;
    sh_write_status st = walk_setup(&w, opt, out, err);
    if (st == SH_W_OK && root == NULL)
        st = walk_fail(&w, SH_W_INVALID_ARGUMENT, "root", 0);
    if (st == SH_W_OK) {
        int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        st = fd < 0 ? walk_fail(&w, SH_W_INVALID_ARGUMENT, "open root", errno)
                    : walk_dir(&w, fd, 0);
    }
    if (w.m2_ok)
        sh_res_matcher_free(&w.m2);
    sh_res_rules_free(alloc, &w.rules2);
    if (st != SH_W_OK)
        sh_crw_list_free(out);
    return st;
}
