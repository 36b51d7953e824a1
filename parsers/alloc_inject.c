/* The SH_ALLOC_INJECT counter (see alloc_inject.h).  Compiled only in SH_ALLOC_INJECT builds. */
#include "alloc_inject.h"

#include <stdlib.h>

#include <openssl/crypto.h>

typedef struct inject_state {
    long fail_at; /* < 0: never */
    sh_alloc_inject_stats stats;
} inject_state;

/* Per thread, so parallel tests in one process would not disturb each other's sequence. */
static _Thread_local inject_state state = {-1, {0, 0, 0, 0, 0}};

/* True when this allocation is to fail; counts it either way. */
static bool take(size_t size)
{
    long n = state.stats.allocations++;
    if (state.fail_at >= 0 && n >= state.fail_at) {
        state.stats.injected++;
        return true;
    }
    state.stats.bytes += size;
    return false;
}

bool sh_alloc_inject_take(size_t size)
{
    return take(size);
}

void sh_alloc_inject_arm(long fail_at)
{
    state.fail_at = fail_at;
    state.stats.allocations = 0;
    state.stats.injected = 0;
    state.stats.bytes = 0;
}

void sh_alloc_inject_disarm(void)
{
    state.fail_at = -1;
}

sh_alloc_inject_stats sh_alloc_inject_get(void)
{
    return state.stats;
}

/* Plain calloc/free underneath, so a block released by the other allocator (free() of an
 * sh_calloc(NULL) block, or the reverse) stays memory-safe; the sweep sees it as live-count
 * drift instead. */
void *sh_alloc_inject_calloc(size_t size)
{
    if (take(size))
        return NULL;
    void *p = calloc(1, size);
    if (p)
        state.stats.live++;
    return p;
}

void sh_alloc_inject_free(void *ptr)
{
    if (!ptr)
        return;
    state.stats.live--;
    free(ptr);
}

static void *ossl_malloc(size_t num, const char *file, int line)
{
    (void)file;
    (void)line;
    if (take(num))
        return NULL;
    void *p = malloc(num ? num : 1);
    if (p)
        state.stats.openssl_live++;
    return p;
}

static void ossl_free(void *ptr, const char *file, int line)
{
    (void)file;
    (void)line;
    if (!ptr)
        return;
    state.stats.openssl_live--;
    free(ptr);
}

/* OpenSSL hands every CRYPTO_realloc to a replaced realloc unchanged, NULL and 0 included. */
static void *ossl_realloc(void *ptr, size_t num, const char *file, int line)
{
    if (!ptr)
        return ossl_malloc(num, file, line);
    if (num == 0) {
        ossl_free(ptr, file, line);
        return NULL;
    }
    if (take(num))
        return NULL;
    return realloc(ptr, num);
}

bool sh_alloc_inject_hook_openssl(void)
{
    return CRYPTO_set_mem_functions(ossl_malloc, ossl_realloc, ossl_free) == 1;
}
