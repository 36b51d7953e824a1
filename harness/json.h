/* A small streaming JSON writer: keeps track of commas and nesting, escapes strings. */
#ifndef SH_JSON_H
#define SH_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define SH_JSON_MAX_DEPTH 32

typedef struct sh_json {
    FILE *out;
    int depth;
    bool need_comma[SH_JSON_MAX_DEPTH];
    bool after_key;
} sh_json;

void sh_json_init(sh_json *j, FILE *out);
void sh_json_object_begin(sh_json *j);
void sh_json_object_end(sh_json *j);
void sh_json_array_begin(sh_json *j);
void sh_json_array_end(sh_json *j);
void sh_json_key(sh_json *j, const char *key);
void sh_json_string(sh_json *j, const char *s);
/* A string of exactly len bytes (may hold no NUL); bytes that are not printable ASCII are
 * escaped as \u00XX so the output stays valid JSON whatever the input held. */
void sh_json_string_n(sh_json *j, const char *s, size_t len);
void sh_json_int(sh_json *j, int64_t v);
void sh_json_uint(sh_json *j, uint64_t v);
void sh_json_bool(sh_json *j, bool v);
void sh_json_null(sh_json *j);
void sh_json_hex(sh_json *j, const uint8_t *bytes, size_t len); /* "0a1b..." */

/* key + value shorthands */
void sh_json_kv_string(sh_json *j, const char *key, const char *s);
void sh_json_kv_int(sh_json *j, const char *key, int64_t v);
void sh_json_kv_uint(sh_json *j, const char *key, uint64_t v);
void sh_json_kv_bool(sh_json *j, const char *key, bool v);
void sh_json_kv_hex32(sh_json *j, const char *key, uint32_t v); /* "0x20400" */

#endif
