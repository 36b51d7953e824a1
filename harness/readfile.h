/* Reads a regular file whole into memory, refusing anything that is not a regular file and
 * anything larger than SH_MAX_INPUT_SIZE. */
#ifndef SH_READFILE_H
#define SH_READFILE_H

#include <stddef.h>
#include <stdint.h>

#include "errors.h"

/* On success *data is malloc'ed (free it) and *size set; an empty file gives a 1-byte buffer and
 * size 0.  On failure returns SH_E_IO or SH_E_INPUT_TOO_LARGE and sets *why to a short reason. */
sh_err sh_read_file(const char *path, uint8_t **data, size_t *size, const char **why);

#endif
