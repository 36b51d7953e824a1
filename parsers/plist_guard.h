/* Property-list guard: everything checked BEFORE bytes reach libplist.
 *
 * libplist 2.2 (Debian's libplist-dev) parses XML without a depth limit on its frees and copies,
 * reads integers with strtoull(..., 0) (so "010" is octal, CoreFoundation says 10), ignores
 * everything after the root value, keeps the last of two equal dict keys, hashes dict keys with
 * djb2 modulo 4096 (trivially flooded), recurses once per binary-plist reference and expands
 * shared binary objects once per reference.  The guard therefore accepts only a strict subset:
 *
 * XML (a real tokenizer, one pass, no recursion):
 * - size <= SH_MAX_PLIST_SIZE; valid UTF-8 made of XML 1.0 characters; no byte order mark;
 * - optional `<?xml ...?>` declaration at offset 0 (version/encoding/standalone, encoding UTF-8),
 *   optional `<!DOCTYPE ...>` WITHOUT an internal subset (no entity declarations: nothing can
 *   expand; libplist skips DTDs, CoreFoundation and libxml2 may not), comments following XML's
 *   rules (no "--" inside), no other processing instructions;
 * - exactly one `<plist>` element (attributes allowed there only) holding exactly one value, then
 *   only whitespace and comments;
 * - elements plist, dict, array, key, string, integer, real, true, false, date, data; dicts are
 *   <key>/value pairs with unique keys (compared after entity decoding), <key> only there,
 *   no `<key/>` (libplist turns it into a string and fails);
 * - key and string text: the five predefined entities and numeric references to XML characters
 *   (at most 8 characters between & and ;, libplist's limit), comments and CDATA sections;
 * - integer: [+-]?(0|[1-9][0-9]*|0[xX][0-9a-fA-F]+) in [INT64_MIN, UINT64_MAX]; real: decimal or
 *   exponent notation, nan, inf(inity); date: YYYY-MM-DDTHH:MM:SSZ; data: padded base64 and
 *   whitespace; true/false: empty; surrounding whitespace allowed, nothing else;
 * - dict/array nesting <= SH_MAX_PLIST_DEPTH, elements <= SH_MAX_PLIST_NODES, and the key
 *   comparisons libplist's dict inserts would make (linear scan up to 250 keys, then djb2 buckets,
 *   simulated exactly) <= SH_MAX_PLIST_KEY_WORK.
 *
 * Binary (bplist00):
 * - header, trailer (offset and reference sizes 1/2/4/8, object count 1..SH_MAX_PLIST_NODES, top
 *   object in range, offset table inside the object area), every offset in [8, table);
 * - a walk from the top object with an explicit stack, in the order libplist recurses: markers
 *   libplist reads correctly only (no null, fill, set or unknown types; integers of 1/2/4/8/16
 *   bytes, reals of 4/8, dates of 8, UIDs of 1/2/4 bytes, size fields of 1/2/4/8 bytes), content
 *   inside the object area, references below the object count, ASCII strings without NUL or
 *   high bytes, non-empty UTF-16 strings with paired surrogates and no NUL (libplist 2.2 fails
 *   on empty ones), string dict keys without duplicates; reference cycles refused; depth <=
 *   SH_MAX_PLIST_DEPTH; every visit (a shared object once per reference, as libplist copies it)
 *   counts towards SH_MAX_PLIST_NODES and its bytes towards SH_MAX_PLIST_EXPANDED.
 *
 * Errors are the PLIST_* codes (errSecCSBadDictionaryFormat) with absolute offsets (the cursor's
 * base).  The guard allocates only through the allocator given (NULL: the C library) and frees
 * everything before returning; libplist itself allocates with malloc. */
#ifndef SH_PLIST_GUARD_H
#define SH_PLIST_GUARD_H

#include <stdbool.h>
#include <stdint.h>

#include <plist/plist.h>

#include "alloc.h"
#include "cursor.h"
#include "errors.h"
#include "sh_limits.h"

typedef enum sh_plist_format {
    SH_PLIST_FORMAT_NONE = 0,
    SH_PLIST_FORMAT_XML = 1,
    SH_PLIST_FORMAT_BINARY = 2,
} sh_plist_format;

typedef struct sh_plist_stats {
    sh_plist_format format;
    uint32_t nodes;     /* XML: elements other than <plist>; binary: object visits */
    uint32_t max_depth; /* deepest dict/array nesting, the outermost container being 1 */
    uint32_t dict_keys; /* keys over all dicts (binary: per visit) */
    uint64_t key_work;  /* XML: simulated libplist key comparison cost (bytes) */
    uint64_t expanded;  /* binary: bytes libplist would copy */
    /* An XML integer above INT64_MAX: libplist keeps it as an unsigned value that its 2.2 API
     * cannot tell from a negative one.  Offset of the first such <integer> element. */
    bool has_big_uint;
    uint64_t big_uint_offset;
} sh_plist_stats;

/* The format by the first bytes: "bplist" is binary, anything else XML. */
sh_plist_format sh_plist_detect(const sh_cursor *data);

/* The guards.  stats may be NULL; it is filled as far as the scan got, also on failure. */
sh_err sh_plist_guard_xml(const sh_cursor *data, const sh_allocator *alloc, sh_plist_stats *stats,
                          sh_error *err);
sh_err sh_plist_guard_binary(const sh_cursor *data, const sh_allocator *alloc,
                             sh_plist_stats *stats, sh_error *err);
/* sh_plist_detect, then the matching guard.  Empty input is PLIST_UNKNOWN_FORMAT. */
sh_err sh_plist_guard(const sh_cursor *data, const sh_allocator *alloc, sh_plist_stats *stats,
                      sh_error *err);

/* sh_plist_guard, then libplist (plist_from_xml / plist_from_bin).  On success *out is the
 * libplist tree (free it with plist_free); on failure *out is NULL.  PLIST_LIBPLIST_FAILED when
 * libplist refuses what the guard let through. */
sh_err sh_plist_parse(const sh_cursor *data, const sh_allocator *alloc, plist_t *out,
                      sh_plist_stats *stats, sh_error *err);

/* Strict UTF-8 over the whole view (no overlongs, surrogates or code points past U+10FFFF).  On
 * failure *bad_offset (may be NULL) is the absolute offset of the first bad sequence. */
bool sh_utf8_valid(const sh_cursor *s, uint64_t *bad_offset);
/* Decodes one strict UTF-8 sequence and consumes it; false (cursor unchanged) when invalid. */
bool sh_utf8_next(sh_cursor *c, uint32_t *code_point);

#endif
