/* Allocation-failure injection for the whole process (build option SH_ALLOC_INJECT).
 *
 * Parsers take an explicit sh_allocator; the writers, the CLI commands and OpenSSL do not.  In an
 * SH_ALLOC_INJECT build the default allocator (sh_calloc/sh_free with a NULL allocator) and,
 * once sh_alloc_inject_hook_openssl() has run, OpenSSL's CRYPTO_malloc family all count in one
 * sequence, so a test can make "allocation number k and every one after it" fail no matter
 * which layer makes it.  Not covered: libplist (it calls the C library's malloc directly and has
 * no hook) and the C library's own allocations (regcomp, fopen, opendir).
 *
 * The state is per thread (_Thread_local), exists only in SH_ALLOC_INJECT builds (this header
 * declares nothing otherwise) and is disarmed until a test arms it: disarmed, every allocation
 * succeeds exactly as in a normal build. */
#ifndef SH_ALLOC_INJECT_H
#define SH_ALLOC_INJECT_H

#ifdef SH_ALLOC_INJECT

#include <stdbool.h>
#include <stddef.h>

typedef struct sh_alloc_inject_stats {
    long allocations;  /* attempted since arming, failed ones included */
    long injected;     /* failures injected since arming */
    long live;         /* default-allocator blocks not yet freed (sh_calloc with NULL) */
    long openssl_live; /* OpenSSL blocks not yet freed (includes its one-time caches) */
    size_t bytes;      /* bytes handed out since arming */
} sh_alloc_inject_stats;

/* Counts from zero; allocation number fail_at (0 = the first) and every later one fail.
 * fail_at < 0: count only, never fail. */
void sh_alloc_inject_arm(long fail_at);
/* Stops failing (counting continues until the next arm). */
void sh_alloc_inject_disarm(void);
sh_alloc_inject_stats sh_alloc_inject_get(void);

/* Routes OpenSSL's allocations through the counter.  Must run before OpenSSL allocates
 * anything (first thing in main); false when OpenSSL refused (it already allocated). */
bool sh_alloc_inject_hook_openssl(void);

/* For an allocation made with malloc outside sh_calloc (its callers free() it: sh_read_file):
 * counts it in the sequence; true when it is to fail.  Not in the live count. */
bool sh_alloc_inject_take(size_t size);

/* Used by alloc.c: one allocation of size bytes through the counter, NULL when injected. */
void *sh_alloc_inject_calloc(size_t size);
void sh_alloc_inject_free(void *ptr);

#endif
#endif
