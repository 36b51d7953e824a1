#include "cursor.h"

#include <string.h>

sh_cursor sh_cursor_make(const uint8_t *p, size_t len)
{
    sh_cursor c = {p, p ? len : 0, 0};
    return c;
}


bool sh_cursor_all_zero(const sh_cursor *c)
{
    for (size_t i = 0; i < c->len; i++)
        if (c->p[i] != 0)
            return false;
    return true;
}

static uint64_t load_be(const uint8_t *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v = (v << 8) | p[i];
    return v;
}

static uint64_t load_le(const uint8_t *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = n; i > 0; i--)
        v = (v << 8) | p[i - 1];
    return v;
}

static bool read_int(sh_cursor *c, size_t n, bool big_endian, uint64_t *out)
{
    if (c->len < n)
        return false;
    *out = big_endian ? load_be(c->p, n) : load_le(c->p, n);
    return sh_cursor_skip(c, n);
}

bool sh_cursor_u16be(sh_cursor *c, uint16_t *out)
{
    uint64_t v;
    if (!read_int(c, 2, true, &v))
        return false;
    *out = (uint16_t)v;
    return true;
}

bool sh_cursor_u16le(sh_cursor *c, uint16_t *out)
{
    uint64_t v;
    if (!read_int(c, 2, false, &v))
        return false;
    *out = (uint16_t)v;
    return true;
}

bool sh_cursor_u32(sh_cursor *c, bool big_endian, uint32_t *out)
{
    uint64_t v;
    if (!read_int(c, 4, big_endian, &v))
        return false;
    *out = (uint32_t)v;
    return true;
}

bool sh_cursor_u64(sh_cursor *c, bool big_endian, uint64_t *out)
{
    return read_int(c, 8, big_endian, out);
}

bool sh_cursor_u32be(sh_cursor *c, uint32_t *out) { return sh_cursor_u32(c, true, out); }
bool sh_cursor_u32le(sh_cursor *c, uint32_t *out) { return sh_cursor_u32(c, false, out); }
bool sh_cursor_u64be(sh_cursor *c, uint64_t *out) { return read_int(c, 8, true, out); }
bool sh_cursor_u64le(sh_cursor *c, uint64_t *out) { return read_int(c, 8, false, out); }

bool sh_cursor_take(sh_cursor *c, size_t n, sh_cursor *out)
{
    if (n > c->len)
        return false;
    out->p = c->p;
    out->len = n;
    out->base = c->base;
    return sh_cursor_skip(c, n);
}

bool sh_cursor_copy(sh_cursor *c, void *dst, size_t n)
{
    if (n > c->len)
        return false;
    if (n)
        memcpy(dst, c->p, n);
    return sh_cursor_skip(c, n);
}

bool sh_cursor_sub(const sh_cursor *c, uint64_t off, uint64_t len, sh_cursor *out)
{
    if (!sh_range_within(off, len, c->len))
        return false;
    out->p = c->p + off;
    out->len = (size_t)len;
    out->base = c->base + off;
    return true;
}

bool sh_cursor_tail(const sh_cursor *c, uint64_t off, sh_cursor *out)
{
    if (off > c->len)
        return false;
    return sh_cursor_sub(c, off, c->len - off, out);
}

bool sh_cursor_u32be_at(const sh_cursor *c, uint64_t off, uint32_t *out)
{
    sh_cursor s;
    return sh_cursor_sub(c, off, 4, &s) && sh_cursor_u32be(&s, out);
}

bool sh_cursor_cstr_at(const sh_cursor *c, uint64_t off, size_t max_len, const char **str,
                       size_t *str_len)
{
    sh_cursor rest;
    if (!sh_cursor_tail(c, off, &rest))
        return false;
    size_t window = rest.len;
    if (max_len < SIZE_MAX && max_len + 1 < window)
        window = max_len + 1;
    const uint8_t *nul = window ? memchr(rest.p, 0, window) : NULL;
    if (!nul)
        return false;
    *str = (const char *)rest.p;
    *str_len = (size_t)(nul - rest.p);
    return true;
}

bool sh_cursor_fixed_name(sh_cursor *c, size_t width, char *dst, size_t dst_size)
{
    if (dst_size < width + 1 || width > c->len)
        return false;
    size_t n = 0;
    while (n < width && c->p[n] != 0)
        n++;
    memcpy(dst, c->p, n);
    dst[n] = '\0';
    return sh_cursor_skip(c, width);
}
