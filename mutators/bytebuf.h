/* A growable byte buffer for writers, and the status type the writers in mutators/ return.
 *
 * Writers emit long runs of fields; checking every append would bury the layout logic, so a
 * buffer remembers its first failure ("sticky"): once an append fails, every later operation is
 * a no-op returning false and sh_bytebuf_ok() reports the failure.  A writer appends freely and
 * checks once at the end.  Memory comes from the project's allocator hook (sh_calloc), so tests
 * can make allocations fail. */
#ifndef SH_BYTEBUF_H
#define SH_BYTEBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alloc.h"

/* Why a writer failed.  Writers build structures that are valid by construction; they refuse
 * inputs that cannot be represented instead of writing something truncated. */
typedef enum sh_write_status {
    SH_W_OK = 0,
    SH_W_NO_MEMORY,        /* an allocation failed */
    SH_W_INVALID_ARGUMENT, /* a parameter is missing or outside what the format allows */
    SH_W_TOO_LARGE,        /* a size or offset does not fit its field (or overflows) */
    SH_W_HASH_FAILED,      /* the hash library failed or does not know the hash type */
} sh_write_status;

/* status plus a static string naming the field or step that failed ("identifier", ...). */
typedef struct sh_write_error {
    sh_write_status status;
    const char *what;
} sh_write_error;

const char *sh_write_status_name(sh_write_status s); /* "SH_W_TOO_LARGE" */
/* Records the failure in err (which may be NULL) and returns status, for `return sh_write_fail(...)`. */
sh_write_status sh_write_fail(sh_write_error *err, sh_write_status status, const char *what);

/* Largest buffer we will ever allocate (1 TiB, or a quarter of the address space on 32-bit
 * hosts); keeps every len + n sum far from SIZE_MAX. */
#define SH_BYTEBUF_MAX \
    ((uint64_t)(SIZE_MAX / 4) < ((uint64_t)1 << 40) ? SIZE_MAX / 4 : (size_t)((uint64_t)1 << 40))

typedef struct sh_bytebuf {
    uint8_t *data;
    size_t len, cap;
    const sh_allocator *alloc; /* NULL: the C library */
    bool fixed;                /* storage belongs to the caller and never moves or grows */
    bool failed;               /* sticky: an operation failed */
    bool too_large;            /* the failure was a size limit, not memory */
} sh_bytebuf;

void sh_bytebuf_init(sh_bytebuf *b, const sh_allocator *alloc);
/* A buffer over caller storage [dst, dst + size): appends past size fail (SH_W_TOO_LARGE).
 * Because it never reallocates, a writer can fill a region of a larger buffer while reading
 * other bytes of that same buffer (a signature written after the code it hashes). */
void sh_bytebuf_init_fixed(sh_bytebuf *b, uint8_t *dst, size_t size);
/* Frees the storage (not for fixed buffers) and resets the buffer to empty. */
void sh_bytebuf_free(sh_bytebuf *b);
/* SH_W_OK, or why the first failed operation failed. */
sh_write_status sh_bytebuf_status(const sh_bytebuf *b);
static inline bool sh_bytebuf_ok(const sh_bytebuf *b) { return !b->failed; }

/* Makes room for extra more bytes without changing len (one allocation for a known total). */
bool sh_bytebuf_reserve(sh_bytebuf *b, size_t extra);
bool sh_bytebuf_append(sh_bytebuf *b, const void *src, size_t n);
/* Appends from's bytes to b and leaves from empty (a failed from fails b).  When b is empty, both
 * share an allocator and neither is fixed, from's storage is handed over instead of copied. */
bool sh_bytebuf_append_moved(sh_bytebuf *b, sh_bytebuf *from);
bool sh_bytebuf_append_zeros(sh_bytebuf *b, size_t n);
/* Appends NUL-padded text filling exactly width bytes (segment and section names); fails when
 * the text is longer than width. */
bool sh_bytebuf_append_name(sh_bytebuf *b, const char *name, size_t width);
/* Zero-pads len up to a multiple of align (a power of two, or 1). */
bool sh_bytebuf_pad_to(sh_bytebuf *b, size_t align);
/* Zero-pads len up to exactly offset (fails when len is already past it). */
bool sh_bytebuf_pad_until(sh_bytebuf *b, size_t offset);

bool sh_bytebuf_u8(sh_bytebuf *b, uint8_t v);
bool sh_bytebuf_u16be(sh_bytebuf *b, uint16_t v);
bool sh_bytebuf_u32be(sh_bytebuf *b, uint32_t v);
bool sh_bytebuf_u64be(sh_bytebuf *b, uint64_t v);
bool sh_bytebuf_u32le(sh_bytebuf *b, uint32_t v);
bool sh_bytebuf_u64le(sh_bytebuf *b, uint64_t v);

/* Overwrites 4 bytes at off (which must already be written): back-patching lengths. */
bool sh_bytebuf_set_u32be(sh_bytebuf *b, size_t off, uint32_t v);
bool sh_bytebuf_set_u32le(sh_bytebuf *b, size_t off, uint32_t v);

/* Hands the storage to the caller (free it with sh_free(alloc, p)); the buffer becomes empty.
 * NULL when the buffer failed (its storage is freed then), never held anything, or is fixed. */
uint8_t *sh_bytebuf_detach(sh_bytebuf *b, size_t *len);

/* Rounds v up to a multiple of align (a power of two); false on overflow. */
bool sh_align_up_u64(uint64_t v, uint64_t align, uint64_t *out);

#endif
