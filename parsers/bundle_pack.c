/* The packed single-file form of a bundle (docs/packed-bundle.md).
 *
 * The format has exactly one encoding for each bundle (entries in strictly ascending path order,
 * fixed-width big-endian fields, no padding, no options), so pack(unpack(x)) == x for every
 * accepted x, which the fuzz target checks. */
#include "bundle.h"

#include <string.h>

#include "bundle_internal.h"
#include "cursor.h"

#define PACK_VERSION 1u
#define PACK_MAGIC_LEN 8u
#define PACK_HEADER_LEN (PACK_MAGIC_LEN + 4u + 4u)
/* kind u8, mode u32, path length u16, data length u64 (paths and data not counted). */
#define PACK_ENTRY_FIXED (1u + 4u + 2u + 8u)

bool sh_bundle_is_packed(const uint8_t *data, size_t len)
{
    return data && len >= PACK_MAGIC_LEN && memcmp(data, SH_BUNDLE_PACK_MAGIC, PACK_MAGIC_LEN) == 0;
}

static uint8_t *put_be(uint8_t *p, uint64_t v, unsigned bytes)
{
    for (unsigned i = 0; i < bytes; i++)
        p[i] = (uint8_t)(v >> (8 * (bytes - 1 - i)));
    return p + bytes;
}

sh_err sh_bundle_pack(const sh_bundle *b, uint8_t **out, size_t *out_len, sh_error *err)
{
    *out = NULL;
    *out_len = 0;
    uint64_t size = PACK_HEADER_LEN;
    for (size_t i = 0; i < b->count; i++) {
        const sh_bundle_entry *e = &b->entries[i];
        size_t plen = strlen(e->path);
        if (plen > UINT16_MAX || !sh_add_u64(size, PACK_ENTRY_FIXED, &size) ||
            !sh_add_u64(size, plen, &size) || !sh_add_u64(size, e->len, &size))
            return sh_fail(err, SH_E_BUNDLE_TOO_LARGE, "bundle pack", (int64_t)i, 0);
    }
    if (b->count > UINT32_MAX || size > SIZE_MAX)
        return sh_fail(err, SH_E_BUNDLE_TOO_LARGE, "bundle pack", -1, 0);
    uint8_t *buf = sh_calloc(b->alloc, (size_t)size, 1);
    if (!buf)
        return sh_fail(err, SH_E_NO_MEMORY, "bundle pack", -1, 0);
    uint8_t *p = buf;
    memcpy(p, SH_BUNDLE_PACK_MAGIC, PACK_MAGIC_LEN);
    p = put_be(p + PACK_MAGIC_LEN, PACK_VERSION, 4);
    p = put_be(p, b->count, 4);
    for (size_t i = 0; i < b->count; i++) {
        const sh_bundle_entry *e = &b->entries[i];
        size_t plen = strlen(e->path);
        p = put_be(p, (uint64_t)e->kind, 1);
        p = put_be(p, e->mode & 07777, 4);
        p = put_be(p, plen, 2);
        memcpy(p, e->path, plen);
        p = put_be(p + plen, e->len, 8);
        if (e->len)
            memcpy(p, e->data, e->len);
        p += e->len;
    }
    *out = buf;
    *out_len = (size_t)size;
    return SH_E_OK;
}

/* memcmp order over byte strings without NULs: the order of the entries array. */
static int compare_paths(const char *a, size_t alen, const char *b, size_t blen)
{
    int c = memcmp(a, b, alen < blen ? alen : blen);
    if (c)
        return c;
    return alen < blen ? -1 : alen > blen;
}

typedef struct unpacker {
    sh_cursor c;
    sh_bundle *b;
    sh_error *err;
} unpacker;

static sh_err truncated(unpacker *u, const char *field, size_t index)
{
    return sh_fail(u->err, SH_E_BUNDLE_PACK_TRUNCATED, field, (int64_t)index,
                   sh_cursor_pos(&u->c));
}

/* Reads len bytes into a fresh NUL-terminated buffer. */
static sh_err take_bytes(unpacker *u, size_t len, const char *field, size_t index, char **out)
{
    *out = NULL;
    if (sh_cursor_len(&u->c) < len)
        return truncated(u, field, index);
    char *p = sh_calloc(u->b->alloc, len + 1, 1);
    if (!p)
        return sh_fail(u->err, SH_E_NO_MEMORY, field, (int64_t)index, sh_cursor_pos(&u->c));
    if (len && !sh_cursor_copy(&u->c, p, len)) {
        sh_free(u->b->alloc, p);
        return truncated(u, field, index);
    }
    *out = p;
    return SH_E_OK;
}

static sh_err check_path(unpacker *u, const char *path, size_t plen, uint64_t at, size_t index)
{
    sh_err e = sh_bundle_path_check(path, plen);
    if (e != SH_E_OK)
        return sh_fail(u->err, e, "packed bundle path", (int64_t)index, at);
    if (index > 0) {
        const char *prev = u->b->entries[index - 1].path;
        if (compare_paths(prev, strlen(prev), path, plen) >= 0)
            return sh_fail(u->err, SH_E_BUNDLE_PACK_ORDER, "packed bundle path", (int64_t)index,
                           at);
    }
    const char *slash = strrchr(path, '/');
    if (slash) {
        size_t parent_len = (size_t)(slash - path);
        /* Parents sort before their children, so the parent is among the entries so far. */
        const sh_bundle_entry *parent = sh_bundle_find_n(u->b, path, parent_len);
        if (!parent)
            return sh_fail(u->err, SH_E_BUNDLE_PACK_MISSING_PARENT, "packed bundle path",
                           (int64_t)index, at);
        if (parent->kind != SH_BUNDLE_DIR)
            return sh_fail(u->err, SH_E_BUNDLE_NOT_A_DIRECTORY, "packed bundle parent",
                           (int64_t)index, at);
    }
    return SH_E_OK;
}

static sh_err check_data(unpacker *u, uint8_t kind, uint64_t len, uint64_t at, size_t index)
{
    if (kind == SH_BUNDLE_DIR && len != 0)
        return sh_fail_value(u->err, SH_E_BUNDLE_PACK_DIR_HAS_DATA, "packed bundle data length",
                             (int64_t)index, at, len);
    if (kind == SH_BUNDLE_FILE && len > SH_MAX_BUNDLE_FILE)
        return sh_fail_value(u->err, SH_E_BUNDLE_FILE_TOO_LARGE, "packed bundle data length",
                             (int64_t)index, at, len);
    if (kind == SH_BUNDLE_SYMLINK && (len == 0 || len > SH_MAX_BUNDLE_SYMLINK_TARGET))
        return sh_fail_value(u->err, SH_E_BUNDLE_SYMLINK_TARGET_INVALID,
                             "packed bundle data length", (int64_t)index, at, len);
    uint64_t total;
    if (!sh_add_u64(u->b->total_bytes, len, &total) || total > SH_MAX_BUNDLE_BYTES)
        return sh_fail_value(u->err, SH_E_BUNDLE_TOO_LARGE, "packed bundle data length",
                             (int64_t)index, at, len);
    if (len > sh_cursor_len(&u->c))
        return truncated(u, "packed bundle data", index);
    return SH_E_OK;
}

static sh_err unpack_entry(unpacker *u, size_t index)
{
    uint8_t kind;
    uint32_t mode;
    uint16_t plen;
    uint64_t dlen;
    if (!sh_cursor_u8(&u->c, &kind))
        return truncated(u, "packed bundle kind", index);
    if (kind < SH_BUNDLE_DIR || kind > SH_BUNDLE_SYMLINK)
        return sh_fail_value(u->err, SH_E_BUNDLE_PACK_BAD_KIND, "packed bundle kind",
                             (int64_t)index, sh_cursor_pos(&u->c) - 1, kind);
    uint64_t at = sh_cursor_pos(&u->c);
    if (!sh_cursor_u32be(&u->c, &mode))
        return truncated(u, "packed bundle mode", index);
    if (mode & ~(uint32_t)07777)
        return sh_fail_value(u->err, SH_E_BUNDLE_PACK_BAD_MODE, "packed bundle mode",
                             (int64_t)index, at, mode);
    if (!sh_cursor_u16be(&u->c, &plen))
        return truncated(u, "packed bundle path length", index);
    at = sh_cursor_pos(&u->c);
    char *path;
    sh_err e = take_bytes(u, plen, "packed bundle path", index, &path);
    if (e != SH_E_OK)
        return e;
    e = check_path(u, path, plen, at, index);
    at = sh_cursor_pos(&u->c);
    if (e == SH_E_OK && !sh_cursor_u64be(&u->c, &dlen))
        e = truncated(u, "packed bundle data length", index);
    if (e == SH_E_OK)
        e = check_data(u, kind, dlen, at, index);
    at = sh_cursor_pos(&u->c);
    char *data = NULL;
    if (e == SH_E_OK && dlen)
        e = take_bytes(u, (size_t)dlen, "packed bundle data", index, &data);
    if (e == SH_E_OK && kind == SH_BUNDLE_SYMLINK && memchr(data, 0, (size_t)dlen))
        e = sh_fail(u->err, SH_E_BUNDLE_SYMLINK_TARGET_INVALID, "packed bundle symlink target",
                    (int64_t)index, at);
    if (e != SH_E_OK) {
        sh_free(u->b->alloc, path);
        sh_free(u->b->alloc, data);
        return e;
    }
    /* Limits, path and target were checked above with offsets; only memory can fail here.  The
     * data buffer holds one extra NUL byte that the entry does not count. */
    return sh_bundle_append_owned(u->b, path, (sh_bundle_kind)kind, mode, (uint8_t *)data,
                                  (size_t)dlen, NULL, u->err);
}

sh_err sh_bundle_unpack(const uint8_t *data, size_t len, const sh_allocator *alloc,
                        sh_bundle *out, sh_error *err)
{
    sh_bundle_init(out, alloc);
    unpacker u = {sh_cursor_make(data, len), out, err};
    uint8_t magic[PACK_MAGIC_LEN];
    if (!data || !sh_cursor_copy(&u.c, magic, sizeof magic) ||
        memcmp(magic, SH_BUNDLE_PACK_MAGIC, sizeof magic) != 0)
        return sh_fail(err, SH_E_BUNDLE_PACK_BAD_MAGIC, "packed bundle magic", -1, 0);
    uint32_t version, count;
    if (!sh_cursor_u32be(&u.c, &version))
        return truncated(&u, "packed bundle version", 0);
    if (version != PACK_VERSION)
        return sh_fail_value(err, SH_E_BUNDLE_PACK_BAD_VERSION, "packed bundle version", -1,
                             PACK_MAGIC_LEN, version);
    if (!sh_cursor_u32be(&u.c, &count))
        return truncated(&u, "packed bundle entry count", 0);
    if (count > SH_MAX_BUNDLE_ENTRIES)
        return sh_fail_value(err, SH_E_BUNDLE_TOO_MANY_ENTRIES, "packed bundle entry count", -1,
                             PACK_MAGIC_LEN + 4, count);
    sh_err e = SH_E_OK;
    for (size_t i = 0; i < count && e == SH_E_OK; i++)
        e = unpack_entry(&u, i);
    if (e == SH_E_OK && sh_cursor_len(&u.c) != 0)
        e = sh_fail_value(err, SH_E_BUNDLE_PACK_TRAILING_DATA, "packed bundle end", -1,
                          sh_cursor_pos(&u.c), sh_cursor_len(&u.c));
    if (e != SH_E_OK)
        sh_bundle_free(out);
    return e;
}
