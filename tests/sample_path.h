/* Where ../shared/external-samples/<sub>/<name> is: under $SH_SHARED_DIR, else beside
 * $SH_SOURCE_DIR (ctest sets both). */
#ifndef SH_TEST_SAMPLE_PATH_H
#define SH_TEST_SAMPLE_PATH_H

#include <stdbool.h>
#include <stddef.h>

/* False when neither variable is set or the path does not fit. */
bool sample_path(const char *sub, const char *name, char *out, size_t size);

/* Reads $SH_SAMPLES_DIR/<name> (the binaries tests/samples/build-samples.sh builds at test time)
 * into a malloc'd buffer.  NULL with why filled when the variable is unset or the file cannot be
 * read or is empty. */
#include <stdint.h>
uint8_t *built_sample_read(const char *name, size_t *len, char *why, size_t why_size);

#endif
