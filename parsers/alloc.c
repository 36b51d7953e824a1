#include "alloc.h"

#include <stdlib.h>
#include <string.h>

#include "alloc_inject.h"

/* The C library, or in SH_ALLOC_INJECT builds the failure-injection counter in front of it. */
static void *default_calloc(size_t total)
{
#ifdef SH_ALLOC_INJECT
    return sh_alloc_inject_calloc(total);
#else
    return calloc(1, total);
#endif
}

static void default_free(void *ptr)
{
#ifdef SH_ALLOC_INJECT
    sh_alloc_inject_free(ptr);
#else
    free(ptr);
#endif
}

void *sh_calloc(const sh_allocator *a, size_t count, size_t size)
{
    size_t total;
    if (__builtin_mul_overflow(count, size, &total))
        return NULL;
    if (total == 0)
        total = 1;
    if (!a || !a->alloc)
        return default_calloc(total);
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
        default_free(ptr);
    else
        a->release(a->ctx, ptr);
}
