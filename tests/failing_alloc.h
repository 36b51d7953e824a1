/* An sh_allocator for allocation-failure tests: the allocation numbered fail_at (0 = the first)
 * and every one after it fail; live counts blocks not yet released, so a test can assert that a
 * failed run released everything. */
#ifndef SH_TEST_FAILING_ALLOC_H
#define SH_TEST_FAILING_ALLOC_H

#include "alloc.h"

typedef struct failing_alloc {
    long remaining; /* allocations that still succeed */
    long live;      /* allocated and not yet released */
} failing_alloc;

sh_allocator failing_alloc_start(failing_alloc *f, long fail_at);

#endif
