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

uint8_t *built_sample_read(const char *name, size_t *len, char *why, size_t why_size)
{
    const char *dir = getenv("SH_SAMPLES_DIR");
    char path[1024];
    if (!dir) {
        snprintf(why, why_size, "SH_SAMPLES_DIR is not set (run through ctest: the samples "
                                "fixture builds them)");
        return NULL;
    }
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    long size = -1;
    if (f && fseek(f, 0, SEEK_END) == 0)
        size = ftell(f);
    uint8_t *data = size > 0 ? malloc((size_t)size) : NULL;
    if (data && (fseek(f, 0, SEEK_SET) != 0 || fread(data, 1, (size_t)size, f) != (size_t)size)) {
        free(data);
        data = NULL;
    }
    if (f)
        fclose(f);
    if (!data) {
        snprintf(why, why_size, "cannot read %s (or it is empty)", path);
        return NULL;
    }
    *len = (size_t)size;
    return data;
}
