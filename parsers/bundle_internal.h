/* Bulk loading for the bundle reader and the packed-form parser (not for other callers).
 *
 * sh_bundle_put_* keep the entries sorted on every call, which costs a memmove per out-of-order
 * insertion.  The directory reader meets entries in readdir order and may load
 * SH_MAX_BUNDLE_ENTRIES of them, so it appends without sorting and sorts once at the end. */
#ifndef SH_BUNDLE_INTERNAL_H
#define SH_BUNDLE_INTERNAL_H

#include "bundle.h"

/* Appends an entry taking ownership of path and data (both allocated with b->alloc; both are
 * released when this fails).  Checks the path (PATH_INVALID / TOO_DEEP), the kind's size limit
 * and depth against limits (NULL: the SH_MAX_BUNDLE_* defaults).  Neither
 * order nor parents are checked here. */
sh_err sh_bundle_append_owned(sh_bundle *b, char *path, sh_bundle_kind kind, uint32_t mode,
                              uint8_t *data, size_t len, const sh_bundle_limits *limits,
                              sh_error *err);

/* OK, BUNDLE_PATH_INVALID or BUNDLE_TOO_DEEP for the len bytes at path (which need not be
 * NUL-terminated; a NUL among them is invalid). */
sh_err sh_bundle_path_check(const char *path, size_t len);

/* sh_bundle_find for the first len bytes of path. */
const sh_bundle_entry *sh_bundle_find_n(const sh_bundle *b, const char *path, size_t len);

/* Sorts the entries once after bulk appends. */
void sh_bundle_sort(sh_bundle *b);

/* Copies len bytes into a new NUL-terminated string from b->alloc (NULL when that fails). */
char *sh_bundle_strndup(const sh_bundle *b, const char *s, size_t len);

#endif
