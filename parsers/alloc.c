#include "alloc.h"

#include <stdlib.h>
#include <string.h>

void *sh_calloc(const sh_allocator *a, size_t count, size_t size)
{
    size_t total;
    if (__builtin_mul_overflow(count, size, &total))
        return NULL;
    if (total == 0)
        total = 1;
    if (!a || !a->alloc)
        return calloc(1, total);
    void *p = a->alloc(a->ctx, total);
    if (p)
        memset(p, 0, total);
    return p;
}

void sh_free(const sh_allocator *a, void *ptr)
{
    if (!ptr)
        return;
    if (!a || !a->release)
        free(ptr);
    else
        a->release(a->ctx, ptr);
}
