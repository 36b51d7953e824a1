#include "failing_alloc.h"

#include <stdlib.h>

static void *fail_or_allocate(void *ctx, size_t size)
{
    failing_alloc *f = ctx;
    if (f->remaining <= 0)
        return NULL;
    f->remaining--;
    f->live++;
    return malloc(size);
}

static void release(void *ctx, void *ptr)
{
    failing_alloc *f = ctx;
    f->live--;
    free(ptr);
}

sh_allocator failing_alloc_start(failing_alloc *f, long fail_at)
{
    f->remaining = fail_at;
    f->live = 0;
    sh_allocator a = {fail_or_allocate, release, f};
    return a;
}
