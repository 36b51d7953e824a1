/* The one bounds-checked reader of untrusted bytes.
 *
 * A cursor is a view {p, len} plus the absolute offset of p in the original input, so errors can
 * name file offsets.  Every read either succeeds completely or leaves the cursor unchanged and
 * returns false; nothing reads outside the view. */
#ifndef SH_CURSOR_H
#define SH_CURSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct sh_cursor {
    const uint8_t *p;
    size_t len;
    uint64_t base; /* absolute offset of p[0] in the input the cursor was made from */
} sh_cursor;

sh_cursor sh_cursor_make(const uint8_t *p, size_t len);

static inline size_t sh_cursor_len(const sh_cursor *c) { return c->len; }
static inline uint64_t sh_cursor_pos(const sh_cursor *c) { return c->base; }

/* Consuming reads.  The one-byte read and skip are inline: the plist guard and the UTF-8 and
 * padding checks call them for every byte they look at. */
static inline bool sh_cursor_u8(sh_cursor *c, uint8_t *out)
{
    if (c->len < 1)
        return false;
    *out = c->p[0];
    c->p++;
    c->len--;
    c->base++;
    return true;
}
bool sh_cursor_u16be(sh_cursor *c, uint16_t *out);
bool sh_cursor_u16le(sh_cursor *c, uint16_t *out);
bool sh_cursor_u32be(sh_cursor *c, uint32_t *out);
bool sh_cursor_u32le(sh_cursor *c, uint32_t *out);
bool sh_cursor_u64be(sh_cursor *c, uint64_t *out);
bool sh_cursor_u64le(sh_cursor *c, uint64_t *out);
/* Endianness chosen at run time (Mach-O files come in both byte orders). */
bool sh_cursor_u32(sh_cursor *c, bool big_endian, uint32_t *out);
bool sh_cursor_u64(sh_cursor *c, bool big_endian, uint64_t *out);
static inline bool sh_cursor_skip(sh_cursor *c, size_t n)
{
    if (n > c->len)
        return false;
    c->p += n;
    c->len -= n;
    c->base += n;
    return true;
}
/* Consumes n bytes and returns them as a view of their own. */
bool sh_cursor_take(sh_cursor *c, size_t n, sh_cursor *out);
/* Copies n bytes out (for fixed-size fields such as UUIDs and segment names). */
bool sh_cursor_copy(sh_cursor *c, void *dst, size_t n);

/* Non-consuming: the byte at off (inline, for byte-at-a-time scanners such as the plist guard). */
static inline bool sh_cursor_u8_at(const sh_cursor *c, uint64_t off, uint8_t *out)
{
    if (off >= c->len)
        return false;
    *out = c->p[off];
    return true;
}
/* Non-consuming: true when every byte of the view is zero (padding checks). */
bool sh_cursor_all_zero(const sh_cursor *c);
/* Non-consuming: the view [off, off + len) of c, overflow-checked. */
bool sh_cursor_sub(const sh_cursor *c, uint64_t off, uint64_t len, sh_cursor *out);
/* Non-consuming: the view from off to the end of c. */
bool sh_cursor_tail(const sh_cursor *c, uint64_t off, sh_cursor *out);
bool sh_cursor_u32be_at(const sh_cursor *c, uint64_t off, uint32_t *out);

/* A NUL-terminated string starting at off whose NUL lies within min(max_len + 1, rest of view)
 * bytes.  Returns the string (pointing into the input) and its length without the NUL. */
bool sh_cursor_cstr_at(const sh_cursor *c, uint64_t off, size_t max_len, const char **str,
                       size_t *str_len);
/* A fixed-width, NUL-padded name field (segment and section names): copies up to width bytes
 * into dst (dst_size >= width + 1) and terminates it.  Consumes width bytes. */
bool sh_cursor_fixed_name(sh_cursor *c, size_t width, char *dst, size_t dst_size);

/* Checked arithmetic: false on overflow. */
static inline bool sh_add_u64(uint64_t a, uint64_t b, uint64_t *out)
{
    return !__builtin_add_overflow(a, b, out);
}
static inline bool sh_mul_u64(uint64_t a, uint64_t b, uint64_t *out)
{
    return !__builtin_mul_overflow(a, b, out);
}
/* True when [off, off + len) lies inside [0, size). */
static inline bool sh_range_within(uint64_t off, uint64_t len, uint64_t size)
{
    uint64_t end;
    return sh_add_u64(off, len, &end) && end <= size;
}

#endif
