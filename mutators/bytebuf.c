#include "bytebuf.h"

#include <string.h>

const char *sh_write_status_name(sh_write_status s)
{
    switch (s) {
    case SH_W_OK: return "SH_W_OK";
    case SH_W_NO_MEMORY: return "SH_W_NO_MEMORY";
    case SH_W_INVALID_ARGUMENT: return "SH_W_INVALID_ARGUMENT";
    case SH_W_TOO_LARGE: return "SH_W_TOO_LARGE";
    case SH_W_HASH_FAILED: return "SH_W_HASH_FAILED";
    }
    return "unknown";
}

sh_write_status sh_write_fail(sh_write_error *err, sh_write_status status, const char *what)
{
    if (err) {
        err->status = status;
        err->what = what;
    }
    return status;
}

void sh_bytebuf_init(sh_bytebuf *b, const sh_allocator *alloc)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->alloc = alloc;
    b->fixed = false;
    b->failed = false;
    b->too_large = false;
}

void sh_bytebuf_init_fixed(sh_bytebuf *b, uint8_t *dst, size_t size)
{
    sh_bytebuf_init(b, NULL);
    b->data = dst;
    b->cap = dst ? size : 0;
    b->fixed = true;
}

void sh_bytebuf_free(sh_bytebuf *b)
{
    if (!b->fixed)
        sh_free(b->alloc, b->data);
    sh_bytebuf_init(b, b->alloc);
}

sh_write_status sh_bytebuf_status(const sh_bytebuf *b)
{
    if (!b->failed)
        return SH_W_OK;
    return b->too_large ? SH_W_TOO_LARGE : SH_W_NO_MEMORY;
}

static bool mark_failed(sh_bytebuf *b, bool too_large)
{
    b->failed = true;
    b->too_large = too_large;
    return false;
}

/* The allocator hook has no realloc, so growth is allocate, copy, free.  Capacity doubles so
 * appending n bytes one at a time costs O(n) copies overall. */
static bool grow_to(sh_bytebuf *b, size_t needed)
{
    if (b->fixed)
        return mark_failed(b, true);
    size_t cap = b->cap ? b->cap : 256;
    while (cap < needed)
        cap = cap > SH_BYTEBUF_MAX / 2 ? SH_BYTEBUF_MAX : cap * 2;
    uint8_t *p = sh_calloc(b->alloc, 1, cap);
    if (!p)
        return mark_failed(b, false);
    if (b->len)
        memcpy(p, b->data, b->len);
    sh_free(b->alloc, b->data);
    b->data = p;
    b->cap = cap;
    return true;
}

/* Ensures room for extra more bytes.  Fails (sticky) past SH_BYTEBUF_MAX. */
static bool ensure(sh_bytebuf *b, size_t extra)
{
    if (b->failed)
        return false;
    if (extra > SH_BYTEBUF_MAX - b->len)
        return mark_failed(b, true);
    size_t needed = b->len + extra;
    return needed <= b->cap || grow_to(b, needed);
}

bool sh_bytebuf_reserve(sh_bytebuf *b, size_t extra)
{
    if (b->failed)
        return false;
    if (extra > SH_BYTEBUF_MAX - b->len)
        return mark_failed(b, true);
    size_t needed = b->len + extra;
    if (needed <= b->cap)
        return true;
    if (b->fixed)
        return mark_failed(b, true);
    /* Exactly what was asked: a caller reserving a known total wants no doubling slack. */
    uint8_t *p = sh_calloc(b->alloc, 1, needed);
    if (!p)
        return mark_failed(b, false);
    if (b->len)
        memcpy(p, b->data, b->len);
    sh_free(b->alloc, b->data);
    b->data = p;
    b->cap = needed;
    return true;
}

bool sh_bytebuf_append(sh_bytebuf *b, const void *src, size_t n)
{
    if (!ensure(b, n))
        return false;
    if (n)
        memcpy(b->data + b->len, src, n);
    b->len += n;
    return true;
}

bool sh_bytebuf_append_moved(sh_bytebuf *b, sh_bytebuf *from)
{
    if (from->failed)
        return b->failed ? false : mark_failed(b, from->too_large);
    if (b->len != 0 || b->fixed || from->fixed || b->alloc != from->alloc || b->failed) {
        bool ok = sh_bytebuf_append(b, from->data, from->len);
        sh_bytebuf_free(from);
        return ok;
    }
    sh_free(b->alloc, b->data);
    *b = *from;
    sh_bytebuf_init(from, from->alloc);
    return true;
}

bool sh_bytebuf_append_zeros(sh_bytebuf *b, size_t n)
{
    if (!ensure(b, n))
        return false;
    if (n)
        memset(b->data + b->len, 0, n);
    b->len += n;
    return true;
}

bool sh_bytebuf_append_name(sh_bytebuf *b, const char *name, size_t width)
{
    size_t n = strlen(name);
    if (n > width)
        return b->failed ? false : mark_failed(b, true);
    return sh_bytebuf_append(b, name, n) && sh_bytebuf_append_zeros(b, width - n);
}

bool sh_align_up_u64(uint64_t v, uint64_t align, uint64_t *out)
{
    if (align == 0 || (align & (align - 1)) != 0)
        return false;
    uint64_t sum;
    if (__builtin_add_overflow(v, align - 1, &sum))
        return false;
    *out = sum & ~(align - 1);
    return true;
}

bool sh_bytebuf_pad_to(sh_bytebuf *b, size_t align)
{
    uint64_t target;
    if (b->failed)
        return false;
    if (!sh_align_up_u64(b->len, align, &target) || target > SIZE_MAX)
        return mark_failed(b, true);
    return sh_bytebuf_append_zeros(b, (size_t)target - b->len);
}

bool sh_bytebuf_pad_until(sh_bytebuf *b, size_t offset)
{
    if (b->failed)
        return false;
    if (offset < b->len)
        return mark_failed(b, true);
    return sh_bytebuf_append_zeros(b, offset - b->len);
}

/* Stores the low n bytes of v, most significant first (big) or least significant first. */
static void store(uint8_t *p, uint64_t v, size_t n, bool big_endian)
{
    for (size_t i = 0; i < n; i++) {
        size_t shift = 8 * (big_endian ? n - 1 - i : i);
        p[i] = (uint8_t)(v >> shift);
    }
}

static bool append_int(sh_bytebuf *b, uint64_t v, size_t n, bool big_endian)
{
    if (!ensure(b, n))
        return false;
    store(b->data + b->len, v, n, big_endian);
    b->len += n;
    return true;
}

bool sh_bytebuf_u8(sh_bytebuf *b, uint8_t v) { return append_int(b, v, 1, true); }
bool sh_bytebuf_u16be(sh_bytebuf *b, uint16_t v) { return append_int(b, v, 2, true); }
bool sh_bytebuf_u32be(sh_bytebuf *b, uint32_t v) { return append_int(b, v, 4, true); }
bool sh_bytebuf_u64be(sh_bytebuf *b, uint64_t v) { return append_int(b, v, 8, true); }
bool sh_bytebuf_u32le(sh_bytebuf *b, uint32_t v) { return append_int(b, v, 4, false); }
bool sh_bytebuf_u64le(sh_bytebuf *b, uint64_t v) { return append_int(b, v, 8, false); }

static bool set_int(sh_bytebuf *b, size_t off, uint64_t v, size_t n, bool big_endian)
{
    if (b->failed)
        return false;
    if (off > b->len || n > b->len - off)
        return mark_failed(b, true);
    store(b->data + off, v, n, big_endian);
    return true;
}

bool sh_bytebuf_set_u32be(sh_bytebuf *b, size_t off, uint32_t v) { return set_int(b, off, v, 4, true); }
bool sh_bytebuf_set_u32le(sh_bytebuf *b, size_t off, uint32_t v) { return set_int(b, off, v, 4, false); }

uint8_t *sh_bytebuf_detach(sh_bytebuf *b, size_t *len)
{
    if (b->failed || b->fixed) {
        sh_bytebuf_free(b);
        *len = 0;
        return NULL;
    }
    uint8_t *p = b->data;
    *len = b->len;
    sh_bytebuf_init(b, b->alloc);
    return p;
}
