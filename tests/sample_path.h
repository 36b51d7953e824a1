/* Where ../shared/external-samples/<sub>/<name> is: under $SH_SHARED_DIR, else beside
 * $SH_SOURCE_DIR (ctest sets both). */
#ifndef SH_TEST_SAMPLE_PATH_H
#define SH_TEST_SAMPLE_PATH_H

#include <stdbool.h>
#include <stddef.h>

/* False when neither variable is set or the path does not fit. */
bool sample_path(const char *sub, const char *name, char *out, size_t size);

#endif
