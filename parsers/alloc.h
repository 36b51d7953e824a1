/* The one allocation hook.  Every allocation made on behalf of parsed input goes through an
 * sh_allocator so tests can make the k-th allocation fail.  NULL means the C library. */
#ifndef SH_ALLOC_H
#define SH_ALLOC_H

#include <stddef.h>

typedef struct sh_allocator {
    void *(*alloc)(void *ctx, size_t size);
    void (*release)(void *ctx, void *ptr);
    void *ctx;
} sh_allocator;

/* Zeroed array of count * size bytes; NULL on overflow or failure. */
void *sh_calloc(const sh_allocator *a, size_t count, size_t size);
void sh_free(const sh_allocator *a, void *ptr);

#endif
