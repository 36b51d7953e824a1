/* The error model: one table (errors.def) of failures, each with its errSecCS status and message. */
#ifndef SH_ERRORS_H
#define SH_ERRORS_H

#include <stddef.h>
#include <stdint.h>

typedef enum sh_errsec {
#define X(name, value) name = value,
#include "errsec.def"
#undef X
} sh_errsec;

typedef enum sh_err {
#define X(name, errsec, msg) SH_E_##name,
#include "errors.def"
#undef X
    SH_E_COUNT
} sh_err;

/* An error value plus where it happened.  where is a static string naming the structure ("load
 * command", "fat_arch", "CodeDirectory", ...); index is the item number or -1; offset is the
 * absolute byte offset in the input; value is the offending field value (has_value says if set). */
typedef struct sh_error {
    sh_err code;
    const char *where;
    int64_t index;
    uint64_t offset;
    uint64_t value;
    int has_value;
} sh_error;

const char *sh_err_name(sh_err e);     /* "MACHO_TRUNCATED" */
const char *sh_err_message(sh_err e);  /* the table's message */
sh_errsec sh_err_errsec(sh_err e);     /* the errSecCS status for it */
const char *sh_errsec_name(int status); /* "errSecCSSignatureFailed", or NULL if unknown */

/* Records an error and returns its code, so parsers can write `return sh_fail(err, ...)`. */
sh_err sh_fail(sh_error *err, sh_err code, const char *where, int64_t index, uint64_t offset);
sh_err sh_fail_value(sh_error *err, sh_err code, const char *where, int64_t index,
                     uint64_t offset, uint64_t value);

/* "CodeDirectory hash array ... lies outside the blob (CodeDirectory at offset 0x1a0, value
 * 0x40)".  Always NUL-terminates; returns what snprintf returns. */
int sh_error_format(const sh_error *err, char *buf, size_t size);

#endif
