/* A strict, bounded JSON reader (RFC 8259) for the files sigharness reads back: the results a Mac
 * produced with scripts/mac-capture.sh (`sigharness calibrate`).  The input is untrusted: it is
 * read through the cursor, nesting is limited to SH_MAX_JSON_DEPTH, the node count to
 * SH_MAX_JSON_NODES, strings must be valid UTF-8 (escapes decoded, \u0000 refused), numbers are
 * kept as int64 when integral (others refused: the files carry none).  Memory comes from the
 * allocator given. */
#ifndef SH_JSON_READ_H
#define SH_JSON_READ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alloc.h"

#define SH_MAX_JSON_SIZE ((size_t)256 << 20) /* bytes of one document */
#define SH_MAX_JSON_DEPTH 32u                 /* nested arrays/objects */
#define SH_MAX_JSON_NODES (1u << 22)          /* values in one document */

typedef enum sh_jv_type {
    SH_JV_NULL = 0,
    SH_JV_BOOL,
    SH_JV_INT,
    SH_JV_STRING,
    SH_JV_ARRAY,
    SH_JV_OBJECT,
} sh_jv_type;

typedef struct sh_jv sh_jv;
struct sh_jv {
    sh_jv_type type;
    bool b;
    int64_t i;
    char *s;        /* STRING: decoded, NUL-terminated (no NUL inside) */
    size_t len;
    char **keys;    /* OBJECT: keys[n] names items[n] */
    sh_jv *items;   /* ARRAY / OBJECT members */
    size_t count;
};

typedef struct sh_json_doc {
    sh_jv root;
    const sh_allocator *alloc;
} sh_json_doc;

/* Parses data; on failure returns false, writes "offset N: why" into why and leaves *out empty
 * (safe to free). */
bool sh_json_parse(const uint8_t *data, size_t len, const sh_allocator *alloc, sh_json_doc *out,
                   char *why, size_t why_size);
void sh_json_doc_free(sh_json_doc *doc);

/* Member of an object by key (the first one), NULL when absent or v is not an object. */
const sh_jv *sh_jv_get(const sh_jv *v, const char *key);
/* The string / int of a member, or NULL / false when absent or of another type. */
const char *sh_jv_get_string(const sh_jv *v, const char *key);
bool sh_jv_get_int(const sh_jv *v, const char *key, int64_t *out);

#endif
