#include "sample_path.h"

#include <stdio.h>
#include <stdlib.h>

bool sample_path(const char *sub, const char *name, char *out, size_t size)
{
    const char *dir = getenv("SH_SHARED_DIR");
    const char *src = getenv("SH_SOURCE_DIR");
    int n;
    if (dir && *dir)
        n = snprintf(out, size, "%s/external-samples/%s/%s", dir, sub, name);
    else if (src && *src)
        n = snprintf(out, size, "%s/../shared/external-samples/%s/%s", src, sub, name);
    else
        return false;
    return n > 0 && (size_t)n < size;
}
