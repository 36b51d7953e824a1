/* Notarised-cdhash lists (`sigharness verify --notarized FILE`): which code the notary service
 * has notarised, when there is no stapled ticket to say so.
 *
 * Text, one entry per line (LF or CRLF):  40 lower-case hex digits (the 20-byte cdhash that
 * `codesign -dvvv` prints as CDHash=, the name of a notarisation ticket record), optionally
 * followed by blanks and a '#' comment; or a blank line; or a '#' comment line.  Blanks (space,
 * tab) may lead any line.  Anything else is refused with the line and column (NOTARY_LIST_*),
 * never skipped: a typo in a notarisation list must not silently turn into "not notarised".
 * Duplicates are allowed and kept once.  Limits: SH_MAX_NOTARY_LIST_SIZE bytes,
 * SH_MAX_NOTARY_CDHASHES entries, SH_MAX_NOTARY_LINE bytes per line. */
#ifndef SH_NOTARY_LIST_H
#define SH_NOTARY_LIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alloc.h"
#include "errors.h"
#include "hash.h" /* SH_CDHASH_LEN */
#include "sh_limits.h"

typedef struct sh_notary_list {
    uint8_t (*cdhashes)[SH_CDHASH_LEN]; /* ascending, unique */
    size_t count;
    const sh_allocator *alloc;
} sh_notary_list;

/* Parses untrusted bytes.  On failure *out is empty (safe to free); err->index = 1-based line,
 * err->value = 1-based column, err->offset = byte offset of the offending character. */
sh_err sh_notary_list_parse(const uint8_t *data, size_t len, const sh_allocator *alloc,
                            sh_notary_list *out, sh_error *err);
bool sh_notary_list_contains(const sh_notary_list *list, const uint8_t cdhash[SH_CDHASH_LEN]);
void sh_notary_list_free(sh_notary_list *list);

#endif
