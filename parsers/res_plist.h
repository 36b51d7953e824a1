/* Small helpers shared by coderesources.c and infoplist.c: reading libplist values that came out
 * of sh_plist_parse (so depth, node count and duplicate keys are bounded already). */
#ifndef SH_RES_PLIST_H
#define SH_RES_PLIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <plist/plist.h>

#include "alloc.h"

typedef enum sh_pv_status {
    SH_PV_OK = 0,
    SH_PV_NOT_STRING, /* the node is not a string */
    SH_PV_BAD,        /* not UTF-8, holds a NUL, empty when !allow_empty, or longer than max */
    SH_PV_NO_MEMORY,
} sh_pv_status;

/* Copies a string node into a NUL-terminated buffer from alloc; *len (may be NULL) without the
 * terminator. */
sh_pv_status sh_pv_string(plist_t v, size_t max, bool allow_empty, const sh_allocator *alloc,
                          char **out, size_t *len);
/* Same checks on a C string of known length (dict keys); copies when out is not NULL. */
sh_pv_status sh_pv_bytes(const char *s, size_t n, size_t max, bool allow_empty,
                         const sh_allocator *alloc, char **out);
/* A boolean node's value; false when the node is no boolean. */
bool sh_pv_bool(plist_t v, bool *out);

#endif
