/* The in-memory bundle: a sorted array of entries with every parent directory present.
 *
 * Sorted by path bytes, the entries below "dir/" form one contiguous run (every string with a
 * given prefix does), so find, subtree removal and parent checks are binary searches.  Every
 * mutation first allocates all it needs and checks every limit, then changes the array, so a
 * failure (allocation included) leaves the bundle as it was. */
#include "bundle.h"

#include <stdlib.h>
#include <string.h>

#include "bundle_internal.h"

sh_bundle_limits sh_bundle_limits_default(void)
{
    sh_bundle_limits l = {SH_MAX_BUNDLE_ENTRIES, SH_MAX_BUNDLE_DEPTH, SH_MAX_BUNDLE_FILE,
                          SH_MAX_BUNDLE_BYTES};
    return l;
}

void sh_bundle_init(sh_bundle *b, const sh_allocator *alloc)
{
    memset(b, 0, sizeof *b);
    b->alloc = alloc;
}

static void free_entry(const sh_allocator *a, sh_bundle_entry *e)
{
    sh_free(a, e->path);
    sh_free(a, e->data);
    e->path = NULL;
    e->data = NULL;
}

void sh_bundle_free(sh_bundle *b)
{
    for (size_t i = 0; i < b->count; i++)
        free_entry(b->alloc, &b->entries[i]);
    sh_free(b->alloc, b->entries);
    sh_bundle_init(b, b->alloc);
}

char *sh_bundle_strndup(const sh_bundle *b, const char *s, size_t len)
{
    char *p = sh_calloc(b->alloc, len + 1, 1);
    if (p && len)
        memcpy(p, s, len);
    return p;
}

static uint8_t *copy_bytes(const sh_bundle *b, const uint8_t *data, size_t len)
{
    if (len == 0)
        return NULL;
    uint8_t *p = sh_calloc(b->alloc, len, 1);
    if (p)
        memcpy(p, data, len);
    return p;
}

/* Path syntax: OK, PATH_INVALID or TOO_DEEP (the depth check is separate so that a deep but
 * otherwise clean path gets the error that says so). */
static sh_err path_check(const char *path, size_t len, unsigned max_depth)
{
    if (!path)
        return SH_E_BUNDLE_PATH_INVALID;
    if (len == 0 || len > SH_MAX_BUNDLE_PATH || memchr(path, 0, len))
        return SH_E_BUNDLE_PATH_INVALID;
    unsigned depth = 0;
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && path[i] != '/')
            continue;
        size_t n = i - start;
        if (n == 0 || (n == 1 && path[start] == '.') ||
            (n == 2 && path[start] == '.' && path[start + 1] == '.'))
            return SH_E_BUNDLE_PATH_INVALID;
        depth++;
        start = i + 1;
    }
    return depth > max_depth ? SH_E_BUNDLE_TOO_DEEP : SH_E_OK;
}

sh_err sh_bundle_path_check(const char *path, size_t len)
{
    return path_check(path, len, SH_MAX_BUNDLE_DEPTH);
}

bool sh_bundle_path_valid(const char *path)
{
    if (!path)
        return false;
    size_t len = strnlen(path, SH_MAX_BUNDLE_PATH + 1);
    return path_check(path, len, SH_MAX_BUNDLE_DEPTH) == SH_E_OK;
}

/* First index whose path, cut to klen bytes, compares >= key (strict false) or > key (strict
 * true).  Prefix comparison is monotone over sorted paths, so with strict false this is the first
 * entry >= key, and the entries in [first(false), first(true)) are exactly those that start with
 * key. */
static size_t search(const sh_bundle *b, const char *key, size_t klen, bool strict)
{
    size_t lo = 0, hi = b->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strncmp(b->entries[mid].path, key, klen);
        if (c < 0 || (strict && c == 0))
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* The run of entries strictly below directory path (prefix path + "/"), as [*lo, *hi). */
static void subtree_range(const sh_bundle *b, const char *path, size_t len, size_t *lo,
                          size_t *hi)
{
    char key[SH_MAX_BUNDLE_PATH + 2];
    if (len > SH_MAX_BUNDLE_PATH) {
        *lo = *hi = b->count;
        return;
    }
    memcpy(key, path, len);
    key[len] = '/';
    *lo = search(b, key, len + 1, false);
    *hi = search(b, key, len + 1, true);
}

static size_t find_index_n(const sh_bundle *b, const char *path, size_t len)
{
    size_t i = search(b, path, len, false);
    if (i < b->count && strlen(b->entries[i].path) == len &&
        memcmp(b->entries[i].path, path, len) == 0)
        return i;
    return b->count;
}

static size_t find_index(const sh_bundle *b, const char *path)
{
    return find_index_n(b, path, strlen(path));
}

const sh_bundle_entry *sh_bundle_find_n(const sh_bundle *b, const char *path, size_t len)
{
    size_t i = find_index_n(b, path, len);
    return i < b->count ? &b->entries[i] : NULL;
}

const sh_bundle_entry *sh_bundle_find(const sh_bundle *b, const char *path)
{
    if (!path)
        return NULL;
    size_t i = find_index(b, path);
    return i < b->count ? &b->entries[i] : NULL;
}

size_t sh_bundle_lower_bound(const sh_bundle *b, const char *path)
{
    size_t len = strlen(path);
    size_t i = find_index_n(b, path, len);
    if (i < b->count)
        return i;
    size_t lo, hi;
    subtree_range(b, path, len, &lo, &hi);
    return lo < hi ? lo : b->count;
}

bool sh_bundle_is_under(const char *entry_path, const char *dir_path)
{
    size_t n = strlen(dir_path);
    return strncmp(entry_path, dir_path, n) == 0 && (entry_path[n] == 0 || entry_path[n] == '/');
}

static sh_err reserve(sh_bundle *b, size_t extra, sh_error *err)
{
    if (b->count + extra <= b->cap)
        return SH_E_OK;
    size_t cap = b->cap ? b->cap : 16;
    while (cap < b->count + extra)
        cap *= 2;
    sh_bundle_entry *e = sh_calloc(b->alloc, cap, sizeof *e);
    if (!e)
        return sh_fail(err, SH_E_NO_MEMORY, "bundle entries", -1, 0);
    if (b->count)
        memcpy(e, b->entries, b->count * sizeof *e);
    sh_free(b->alloc, b->entries);
    b->entries = e;
    b->cap = cap;
    return SH_E_OK;
}

/* Inserts at the sorted position; capacity must already be reserved.  Appending in order costs
 * nothing beyond the binary search. */
static void insert_sorted(sh_bundle *b, sh_bundle_entry e)
{
    size_t i = search(b, e.path, strlen(e.path) + 1, false);
    if (i < b->count)
        memmove(&b->entries[i + 1], &b->entries[i], (b->count - i) * sizeof e);
    b->entries[i] = e;
    b->count++;
}

static bool has_children(const sh_bundle *b, const char *path)
{
    size_t lo, hi;
    subtree_range(b, path, strlen(path), &lo, &hi);
    return lo < hi;
}

/* Counts path's ancestors (parents) and how many of them exist (existing).  Every entry's parents
 * are present, so the existing ones are the shallowest: once one is missing, all deeper ones are
 * too.  An existing ancestor that is not a directory is NOT_A_DIRECTORY. */
static sh_err count_existing_parents(const sh_bundle *b, const char *path, unsigned *existing,
                                     unsigned *parents)
{
    size_t len = strlen(path);
    *existing = 0;
    *parents = 0;
    bool missing = false;
    for (size_t i = 0; i < len; i++) {
        if (path[i] != '/')
            continue;
        (*parents)++;
        if (missing)
            continue;
        size_t k = find_index_n(b, path, i);
        if (k == b->count) {
            missing = true;
            continue;
        }
        if (b->entries[k].kind != SH_BUNDLE_DIR)
            return SH_E_BUNDLE_NOT_A_DIRECTORY;
        (*existing)++;
    }
    return SH_E_OK;
}

/* Creates the missing ancestors of path (all but the first existing ones), all or nothing;
 * capacity must already be reserved. */
static sh_err add_parents(sh_bundle *b, const char *path, unsigned existing, sh_error *err)
{
    char *made[SH_MAX_BUNDLE_DEPTH];
    unsigned n = 0, level = 0;
    for (size_t i = 0; path[i]; i++) {
        if (path[i] != '/')
            continue;
        if (level++ < existing)
            continue;
        made[n] = sh_bundle_strndup(b, path, i);
        if (!made[n]) {
            while (n)
                sh_free(b->alloc, made[--n]);
            return sh_fail(err, SH_E_NO_MEMORY, "bundle parent directory", -1, 0);
        }
        n++;
    }
    for (unsigned k = 0; k < n; k++) {
        sh_bundle_entry e = {made[k], SH_BUNDLE_DIR, 0755, NULL, 0};
        insert_sorted(b, e);
    }
    return SH_E_OK;
}

static sh_err check_target(const char *target, size_t *len)
{
    if (!target)
        return SH_E_BUNDLE_SYMLINK_TARGET_INVALID;
    *len = strnlen(target, SH_MAX_BUNDLE_SYMLINK_TARGET + 1);
    if (*len == 0 || *len > SH_MAX_BUNDLE_SYMLINK_TARGET)
        return SH_E_BUNDLE_SYMLINK_TARGET_INVALID;
    return SH_E_OK;
}

static sh_err put(sh_bundle *b, const char *path, sh_bundle_kind kind, const uint8_t *data,
                  size_t len, uint32_t mode, sh_error *err)
{
    if (!path)
        return sh_fail(err, SH_E_BUNDLE_PATH_INVALID, "bundle put", -1, 0);
    sh_err e = path_check(path, strnlen(path, SH_MAX_BUNDLE_PATH + 1), SH_MAX_BUNDLE_DEPTH);
    if (e != SH_E_OK)
        return sh_fail(err, e, "bundle put: path", -1, 0);
    if (kind == SH_BUNDLE_FILE && len > SH_MAX_BUNDLE_FILE)
        return sh_fail_value(err, SH_E_BUNDLE_FILE_TOO_LARGE, "bundle put: file", -1, 0, len);
    if (len && !data)
        return sh_fail(err, SH_E_BUNDLE_PATH_INVALID, "bundle put: no data", -1, 0);

    size_t at = find_index(b, path);
    uint64_t old_len = at < b->count ? b->entries[at].len : 0;
    uint64_t total = b->total_bytes - old_len + len;
    if (total > SH_MAX_BUNDLE_BYTES)
        return sh_fail_value(err, SH_E_BUNDLE_TOO_LARGE, "bundle put", -1, 0, total);

    if (at < b->count) {
        sh_bundle_entry *old = &b->entries[at];
        if (old->kind == SH_BUNDLE_DIR && kind != SH_BUNDLE_DIR && has_children(b, path))
            return sh_fail(err, SH_E_BUNDLE_NOT_A_DIRECTORY, "bundle put: directory has children",
                           (int64_t)at, 0);
        uint8_t *copy = copy_bytes(b, data, len);
        if (len && !copy)
            return sh_fail(err, SH_E_NO_MEMORY, "bundle put: data", -1, 0);
        sh_free(b->alloc, old->data);
        old->data = copy;
        old->len = len;
        old->kind = kind;
        old->mode = mode & 07777;
        b->total_bytes = total;
        return SH_E_OK;
    }

    unsigned existing, parents;
    e = count_existing_parents(b, path, &existing, &parents);
    if (e != SH_E_OK)
        return sh_fail(err, e, "bundle put: parent", -1, 0);
    size_t need = 1 + (parents - existing);
    if (b->count + need > SH_MAX_BUNDLE_ENTRIES)
        return sh_fail_value(err, SH_E_BUNDLE_TOO_MANY_ENTRIES, "bundle put", -1, 0,
                             SH_MAX_BUNDLE_ENTRIES);
    e = reserve(b, need, err);
    if (e != SH_E_OK)
        return e;
    sh_bundle_entry n = {sh_bundle_strndup(b, path, strlen(path)), kind, mode & 07777,
                         copy_bytes(b, data, len), len};
    if (!n.path || (len && !n.data)) {
        free_entry(b->alloc, &n);
        return sh_fail(err, SH_E_NO_MEMORY, "bundle put: entry", -1, 0);
    }
    e = add_parents(b, path, existing, err);
    if (e != SH_E_OK) {
        free_entry(b->alloc, &n);
        return e;
    }
    insert_sorted(b, n);
    b->total_bytes = total;
    return SH_E_OK;
}

sh_err sh_bundle_put_file(sh_bundle *b, const char *path, const uint8_t *data, size_t len,
                          uint32_t mode, sh_error *err)
{
    return put(b, path, SH_BUNDLE_FILE, data, len, mode, err);
}

sh_err sh_bundle_put_symlink(sh_bundle *b, const char *path, const char *target, sh_error *err)
{
    size_t len;
    if (check_target(target, &len) != SH_E_OK)
        return sh_fail(err, SH_E_BUNDLE_SYMLINK_TARGET_INVALID, "bundle put: symlink target", -1,
                       0);
    /* 0777, what Linux always reports: a symlink's mode is not used for access on Linux and is
     * not sealed by codesign, and the reader records the same value, so a bundle written and
     * read back compares equal. */
    return put(b, path, SH_BUNDLE_SYMLINK, (const uint8_t *)target, len, 0777, err);
}

sh_err sh_bundle_put_dir(sh_bundle *b, const char *path, uint32_t mode, sh_error *err)
{
    return put(b, path, SH_BUNDLE_DIR, NULL, 0, mode, err);
}

/* Removes entries [lo, hi) from the array (their memory already released or moved). */
static void drop_range(sh_bundle *b, size_t lo, size_t hi)
{
    memmove(&b->entries[lo], &b->entries[hi], (b->count - hi) * sizeof b->entries[0]);
    b->count -= hi - lo;
}

sh_err sh_bundle_remove(sh_bundle *b, const char *path, sh_error *err)
{
    size_t at = path ? find_index(b, path) : b->count;
    if (at == b->count)
        return sh_fail(err, SH_E_BUNDLE_NOT_FOUND, "bundle remove", -1, 0);
    size_t lo, hi;
    subtree_range(b, path, strlen(path), &lo, &hi);
    for (size_t i = lo; i < hi; i++) {
        b->total_bytes -= b->entries[i].len;
        free_entry(b->alloc, &b->entries[i]);
    }
    drop_range(b, lo, hi);
    b->total_bytes -= b->entries[at].len;
    free_entry(b->alloc, &b->entries[at]);
    drop_range(b, at, at + 1);
    return SH_E_OK;
}

static int compare_entries(const void *x, const void *y)
{
    const sh_bundle_entry *a = x, *b = y;
    return strcmp(a->path, b->path);
}

void sh_bundle_sort(sh_bundle *b)
{
    if (b->count > 1)
        qsort(b->entries, b->count, sizeof b->entries[0], compare_entries);
}

sh_err sh_bundle_rename(sh_bundle *b, const char *from, const char *to, sh_error *err)
{
    if (!from || !to)
        return sh_fail(err, SH_E_BUNDLE_PATH_INVALID, "bundle rename", -1, 0);
    sh_err e = path_check(to, strnlen(to, SH_MAX_BUNDLE_PATH + 1), SH_MAX_BUNDLE_DEPTH);
    if (e != SH_E_OK)
        return sh_fail(err, e, "bundle rename: destination", -1, 0);
    size_t at = find_index(b, from);
    if (at == b->count)
        return sh_fail(err, SH_E_BUNDLE_NOT_FOUND, "bundle rename: source", -1, 0);
    if (find_index(b, to) < b->count)
        return sh_fail(err, SH_E_BUNDLE_EXISTS, "bundle rename: destination", -1, 0);
    if (sh_bundle_is_under(to, from))
        return sh_fail(err, SH_E_BUNDLE_RENAME_INTO_ITSELF, "bundle rename", -1, 0);
    unsigned existing, parents;
    e = count_existing_parents(b, to, &existing, &parents);
    if (e != SH_E_OK)
        return sh_fail(err, e, "bundle rename: destination parent", -1, 0);

    size_t from_len = strlen(from), to_len = strlen(to);
    size_t lo, hi;
    subtree_range(b, from, from_len, &lo, &hi);
    size_t moved = 1 + (hi - lo);
    size_t need = parents - existing;
    if (b->count + need > SH_MAX_BUNDLE_ENTRIES)
        return sh_fail_value(err, SH_E_BUNDLE_TOO_MANY_ENTRIES, "bundle rename", -1, 0,
                             SH_MAX_BUNDLE_ENTRIES);
    /* Every new path must be clean too (a deeper or longer destination can push children past
     * the limits). */
    for (size_t k = 0; k < moved; k++) {
        const char *p = b->entries[k == 0 ? at : lo + k - 1].path;
        size_t n = to_len + strlen(p) - from_len;
        if (n > SH_MAX_BUNDLE_PATH)
            return sh_fail(err, SH_E_BUNDLE_PATH_INVALID, "bundle rename: new path too long",
                           (int64_t)(k == 0 ? at : lo + k - 1), 0);
        unsigned depth = 1;
        for (const char *q = to; *q; q++)
            depth += *q == '/';
        for (const char *q = p + from_len; *q; q++)
            depth += *q == '/';
        if (depth > SH_MAX_BUNDLE_DEPTH)
            return sh_fail(err, SH_E_BUNDLE_TOO_DEEP, "bundle rename: new path",
                           (int64_t)(k == 0 ? at : lo + k - 1), 0);
    }
    e = reserve(b, need, err);
    if (e != SH_E_OK)
        return e;
    char **paths = sh_calloc(b->alloc, moved, sizeof *paths);
    if (!paths)
        return sh_fail(err, SH_E_NO_MEMORY, "bundle rename", -1, 0);
    for (size_t k = 0; k < moved; k++) {
        const char *p = b->entries[k == 0 ? at : lo + k - 1].path;
        size_t rest = strlen(p) - from_len;
        paths[k] = sh_calloc(b->alloc, to_len + rest + 1, 1);
        if (!paths[k]) {
            for (size_t j = 0; j < k; j++)
                sh_free(b->alloc, paths[j]);
            sh_free(b->alloc, paths);
            return sh_fail(err, SH_E_NO_MEMORY, "bundle rename: path", -1, 0);
        }
        memcpy(paths[k], to, to_len);
        memcpy(paths[k] + to_len, p + from_len, rest);
    }
    e = add_parents(b, to, existing, err);
    if (e != SH_E_OK) {
        for (size_t j = 0; j < moved; j++)
            sh_free(b->alloc, paths[j]);
        sh_free(b->alloc, paths);
        return e;
    }
    /* add_parents inserted entries that sort before or after ours: find ours again. */
    at = find_index(b, from);
    subtree_range(b, from, from_len, &lo, &hi);
    for (size_t k = 0; k < moved; k++) {
        sh_bundle_entry *en = &b->entries[k == 0 ? at : lo + k - 1];
        sh_free(b->alloc, en->path);
        en->path = paths[k];
    }
    sh_free(b->alloc, paths);
    sh_bundle_sort(b);
    return SH_E_OK;
}

sh_err sh_bundle_clone(const sh_bundle *src, sh_bundle *dst, sh_error *err)
{
    sh_bundle_init(dst, src->alloc);
    if (src->count == 0)
        return SH_E_OK;
    dst->entries = sh_calloc(src->alloc, src->count, sizeof *dst->entries);
    if (!dst->entries)
        return sh_fail(err, SH_E_NO_MEMORY, "bundle clone", -1, 0);
    dst->cap = src->count;
    for (size_t i = 0; i < src->count; i++) {
        const sh_bundle_entry *s = &src->entries[i];
        sh_bundle_entry *d = &dst->entries[i];
        *d = *s;
        d->path = sh_bundle_strndup(dst, s->path, strlen(s->path));
        d->data = copy_bytes(dst, s->data, s->len);
        dst->count = i + 1;
        if (!d->path || (s->len && !d->data)) {
            sh_bundle_free(dst);
            return sh_fail(err, SH_E_NO_MEMORY, "bundle clone", (int64_t)i, 0);
        }
    }
    dst->total_bytes = src->total_bytes;
    return SH_E_OK;
}

sh_err sh_bundle_append_owned(sh_bundle *b, char *path, sh_bundle_kind kind, uint32_t mode,
                              uint8_t *data, size_t len, const sh_bundle_limits *limits,
                              sh_error *err)
{
    sh_bundle_limits l = limits ? *limits : sh_bundle_limits_default();
    sh_err e = path_check(path, strnlen(path, SH_MAX_BUNDLE_PATH + 1),
                          l.max_depth < SH_MAX_BUNDLE_DEPTH ? l.max_depth : SH_MAX_BUNDLE_DEPTH);
    uint64_t total = b->total_bytes + len;
    uint64_t max_file = l.max_file < SH_MAX_BUNDLE_FILE ? l.max_file : SH_MAX_BUNDLE_FILE;
    uint64_t max_bytes = l.max_bytes < SH_MAX_BUNDLE_BYTES ? l.max_bytes : SH_MAX_BUNDLE_BYTES;
    size_t max_entries = l.max_entries < SH_MAX_BUNDLE_ENTRIES ? l.max_entries
                                                                : SH_MAX_BUNDLE_ENTRIES;
    uint64_t value = 0;
    if (e == SH_E_OK && kind == SH_BUNDLE_FILE && len > max_file) {
        e = SH_E_BUNDLE_FILE_TOO_LARGE;
        value = len;
    } else if (e == SH_E_OK && kind == SH_BUNDLE_SYMLINK &&
               (len == 0 || len > SH_MAX_BUNDLE_SYMLINK_TARGET || memchr(data, 0, len))) {
        e = SH_E_BUNDLE_SYMLINK_TARGET_INVALID;
    } else if (e == SH_E_OK && total > max_bytes) {
        e = SH_E_BUNDLE_TOO_LARGE;
        value = total;
    } else if (e == SH_E_OK && b->count >= max_entries) {
        e = SH_E_BUNDLE_TOO_MANY_ENTRIES;
        value = max_entries;
    }
    if (e == SH_E_OK)
        e = reserve(b, 1, err);
    else
        sh_fail_value(err, e, "bundle entry", (int64_t)b->count, 0, value);
    if (e != SH_E_OK) {
        sh_free(b->alloc, path);
        sh_free(b->alloc, data);
        return e;
    }
    sh_bundle_entry n = {path, kind, mode & 07777, data, len};
    b->entries[b->count++] = n;
    b->total_bytes = total;
    return SH_E_OK;
}

/* Resolution keeps the directory reached so far in cur (always "" or a real entry path, so it
 * fits SH_MAX_BUNDLE_PATH) and a stack of text still to walk: the original path at the bottom,
 * each symlink's target pushed on top.  Targets point into the entries, so nothing is
 * allocated. */
typedef struct pending {
    const char *p;
    size_t len;
} pending;

static bool next_component(pending *stack, unsigned *depth, const char **comp, size_t *n)
{
    while (*depth) {
        pending *top = &stack[*depth - 1];
        while (top->len && top->p[0] == '/') {
            top->p++;
            top->len--;
        }
        if (top->len == 0) {
            (*depth)--;
            continue;
        }
        const char *slash = memchr(top->p, '/', top->len);
        *n = slash ? (size_t)(slash - top->p) : top->len;
        *comp = top->p;
        top->p += *n;
        top->len -= *n;
        return true;
    }
    return false;
}

static bool more_to_walk(pending *stack, unsigned depth)
{
    for (unsigned i = 0; i < depth; i++)
        for (size_t k = 0; k < stack[i].len; k++)
            if (stack[i].p[k] != '/')
                return true;
    return false;
}

sh_err sh_bundle_resolve(const sh_bundle *b, const char *path, const sh_bundle_entry **out,
                         sh_error *err)
{
    *out = NULL;
    if (!path || !sh_bundle_path_valid(path))
        return sh_fail(err, SH_E_BUNDLE_PATH_INVALID, "bundle resolve", -1, 0);
    char cur[SH_MAX_BUNDLE_PATH + 1];
    size_t cur_len = 0;
    pending stack[SH_MAX_BUNDLE_SYMLINK_HOPS + 1];
    unsigned depth = 1, hops = 0;
    stack[0].p = path;
    stack[0].len = strlen(path);
    const char *comp;
    size_t n;
    while (next_component(stack, &depth, &comp, &n)) {
        if (n == 1 && comp[0] == '.')
            continue;
        if (n == 2 && comp[0] == '.' && comp[1] == '.') {
            if (cur_len == 0)
                return sh_fail(err, SH_E_BUNDLE_SYMLINK_ESCAPES, "bundle resolve", -1, 0);
            while (cur_len && cur[cur_len - 1] != '/')
                cur_len--;
            cur_len = cur_len ? cur_len - 1 : 0;
            continue;
        }
        size_t next_len = cur_len + (cur_len ? 1 : 0) + n;
        if (next_len > SH_MAX_BUNDLE_PATH)
            return sh_fail(err, SH_E_BUNDLE_NOT_FOUND, "bundle resolve: path too long", -1, 0);
        if (cur_len)
            cur[cur_len] = '/';
        memcpy(cur + next_len - n, comp, n);
        size_t i = find_index_n(b, cur, next_len);
        if (i == b->count)
            return sh_fail(err, SH_E_BUNDLE_NOT_FOUND, "bundle resolve", -1, 0);
        const sh_bundle_entry *e = &b->entries[i];
        if (e->kind == SH_BUNDLE_SYMLINK) {
            if (hops++ == SH_MAX_BUNDLE_SYMLINK_HOPS)
                return sh_fail_value(err, SH_E_BUNDLE_SYMLINK_LOOP, "bundle resolve", (int64_t)i,
                                     0, hops);
            if (e->len && e->data[0] == '/')
                return sh_fail(err, SH_E_BUNDLE_SYMLINK_ABSOLUTE, "bundle resolve", (int64_t)i, 0);
            /* hops <= SH_MAX_BUNDLE_SYMLINK_HOPS and each hop pushes at most one frame. */
            stack[depth].p = (const char *)e->data;
            stack[depth].len = e->len;
            depth++; /* the target is relative to the link's directory: cur stays */
            continue;
        }
        if (e->kind != SH_BUNDLE_DIR && more_to_walk(stack, depth))
            return sh_fail(err, SH_E_BUNDLE_NOT_A_DIRECTORY, "bundle resolve", (int64_t)i, 0);
        cur_len = next_len;
    }
    size_t i = cur_len ? find_index_n(b, cur, cur_len) : b->count;
    if (i == b->count)
        return sh_fail(err, SH_E_BUNDLE_NOT_FOUND, "bundle resolve: the bundle root", -1, 0);
    *out = &b->entries[i];
    return SH_E_OK;
}
