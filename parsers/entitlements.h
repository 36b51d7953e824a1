/* Entitlements: the XML blob (0xfade7171, slot 5) and the DER blob (0xfade7172, slot 7) decoded
 * into one small tree type, a DER encoder for Apple's current form, and an XML-vs-DER comparison.
 *
 * DER forms (codesign-formats.md section 5):
 * - current: [APPLICATION 16] 0x70 { INTEGER 1, [CONTEXT 16] 0xB0 dict }, dict entries
 *   SEQUENCE { UTF8String key, value }, keys in ascending byte order and unique, arrays 0x30,
 *   strings 0x0C, BOOLEAN 0xFF/0x00, INTEGER minimal two's complement;
 * - legacy (macOS 11 codesign, ldid): a bare SET 0x31 of the same entries in DER SET order
 *   (ascending encodings, so shorter entries first), nested dicts 0x31 as well, BOOLEAN true
 *   0x01 or 0xFF, OCTET STRING 0x04 as data (ldid).
 * Decoding is strict DER: one-byte tags, definite minimal lengths, nothing after the last element
 * of any container or of the blob, UTF-8 strings without NUL, integers within int64, depth
 * <= SH_MAX_DER_DEPTH, values <= SH_MAX_DER_ITEMS.  Errors carry the absolute offset of the
 * offending element (tag, length octet or content as the code says), the index of the entry in
 * its container, and (through sh_ent_path) the key path of the value or key concerned.
 *
 * XML: the blob's plist goes through plist_guard (PLIST_* errors, errSecCSBadDictionaryFormat)
 * and then libplist; the root must be a dict, integers must fit int64, binary plists are refused.
 * XML nodes have no offsets of their own: node offsets are the plist's.
 *
 * The tree: dict entries are kept sorted by key bytes (unique), so lookups are binary searches
 * and the DER encoding follows the tree order.  Every node, key and string is allocated through
 * the sh_allocator given (NULL: the C library) and freed by sh_entitlements_free. */
#ifndef SH_ENTITLEMENTS_H
#define SH_ENTITLEMENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alloc.h"
#include "cursor.h"
#include "errors.h"
#include "sh_limits.h"

typedef enum sh_ent_type {
    SH_ENT_DICT = 1,
    SH_ENT_ARRAY,
    SH_ENT_STRING,
    SH_ENT_BOOL,
    SH_ENT_INT,
    SH_ENT_DATA,
    SH_ENT_DATE, /* XML only */
    SH_ENT_REAL, /* XML only */
} sh_ent_type;

typedef struct sh_ent_key {
    char *str;   /* UTF-8, NUL-terminated, no NUL inside */
    size_t len;  /* without the terminator */
    uint64_t offset; /* DER: of the key's UTF8String; XML: of the plist */
} sh_ent_key;

typedef struct sh_ent_node sh_ent_node;
struct sh_ent_node {
    sh_ent_type type;
    uint64_t offset;  /* DER: of the value's tag; XML: of the plist */
    bool boolean;     /* SH_ENT_BOOL */
    int64_t integer;  /* SH_ENT_INT */
    double real;      /* SH_ENT_REAL; SH_ENT_DATE: seconds since 2001-01-01T00:00:00Z */
    uint8_t *bytes;   /* SH_ENT_STRING: UTF-8 + NUL terminator; SH_ENT_DATA: the bytes */
    size_t len;       /* of bytes, without the terminator */
    size_t count;     /* dict entries, array items */
    sh_ent_node *items; /* count values */
    sh_ent_key *keys;   /* dict: count keys, keys[i] names items[i], ascending, unique */
};

typedef enum sh_ent_form {
    SH_ENT_FORM_NONE = 0,
    SH_ENT_FORM_XML,
    SH_ENT_FORM_DER,        /* 0x70 { 1, 0xB0 } */
    SH_ENT_FORM_DER_LEGACY, /* bare SET 0x31 */
} sh_ent_form;

typedef struct sh_entitlements {
    sh_ent_node root; /* SH_ENT_DICT */
    sh_ent_form form;
    uint32_t nodes; /* values in the tree, the root included */
    const sh_allocator *alloc;
} sh_entitlements;

/* Where a problem is: keys joined by '/', array indices as [i], e.g.
 * "com.apple.security.application-groups[2]" or "outer/inner".  Bytes outside printable ASCII
 * are written \xNN; a path too long ends in "...".  Empty for the top level. */
#define SH_ENT_PATH_MAX 256
typedef struct sh_ent_path {
    char text[SH_ENT_PATH_MAX];
} sh_ent_path;

/* Blobs: 8-byte header {magic, length} (big-endian) then the payload; length must equal the view
 * (a SuperBlob entry's blob view is exactly that).  ENT_BLOB_BAD_MAGIC / ENT_BLOB_BAD_LENGTH.
 * path may be NULL.  On failure *out is empty (safe to free). */
sh_err sh_entitlements_parse_xml_blob(const sh_cursor *blob, const sh_allocator *alloc,
                                      sh_entitlements *out, sh_ent_path *path, sh_error *err);
sh_err sh_entitlements_parse_der_blob(const sh_cursor *blob, const sh_allocator *alloc,
                                      sh_entitlements *out, sh_ent_path *path, sh_error *err);
/* Payloads without the blob header. */
sh_err sh_entitlements_parse_xml(const sh_cursor *xml, const sh_allocator *alloc,
                                 sh_entitlements *out, sh_ent_path *path, sh_error *err);
sh_err sh_entitlements_parse_der(const sh_cursor *der, const sh_allocator *alloc,
                                 sh_entitlements *out, sh_ent_path *path, sh_error *err);
void sh_entitlements_free(sh_entitlements *e);

/* Apple's current DER form of a dict node (normally &e->root): 70 .. 02 01 01 B0 .. entries.
 * *out is allocated through alloc (free with sh_free(alloc, *out)).  Refuses data, date and real
 * (ENT_DER_UNENCODABLE, err->index = the sh_ent_type, path = where), unsorted or duplicate keys
 * (ENT_DER_KEY_ORDER, ENT_DUPLICATE_KEY), keys or strings that are not UTF-8 or hold NUL, nesting
 * past SH_MAX_DER_DEPTH and more than SH_MAX_DER_ITEMS values, so that whatever it writes the
 * decoder reads back.  The blob variant adds the 0xfade7172 header. */
sh_err sh_entitlements_encode_der(const sh_ent_node *dict, const sh_allocator *alloc, uint8_t **out,
                                  size_t *out_len, sh_ent_path *path, sh_error *err);
sh_err sh_entitlements_encode_der_blob(const sh_ent_node *dict, const sh_allocator *alloc,
                                       uint8_t **out, size_t *out_len, sh_ent_path *path,
                                       sh_error *err);

/* The first difference between two trees (depth first, dict keys in order, array items in
 * order, an array length difference after the common items). */
typedef enum sh_ent_diff_kind {
    SH_ENT_DIFF_NONE = 0,
    SH_ENT_DIFF_ONLY_IN_A, /* key present in a only */
    SH_ENT_DIFF_ONLY_IN_B,
    SH_ENT_DIFF_TYPE,
    SH_ENT_DIFF_VALUE,
    SH_ENT_DIFF_LENGTH, /* arrays of different lengths */
} sh_ent_diff_kind;

typedef struct sh_ent_diff {
    sh_ent_diff_kind kind;
    sh_ent_path path;
    const sh_ent_node *a, *b; /* the nodes that differ (one is NULL for ONLY_IN_*) */
} sh_ent_diff;

/* SH_E_OK when the trees hold the same keys, types and values; otherwise ENT_MISMATCH with
 * err->index = the sh_ent_diff_kind and err->offset = b's node offset (a's if b has none).
 * Reals and dates compare bit for bit except that NaN equals NaN. */
sh_err sh_entitlements_compare(const sh_ent_node *a, const sh_ent_node *b, sh_ent_diff *diff,
                               sh_error *err);
/* "com.apple.security.app-sandbox: bool true in XML, bool false in DER"; returns snprintf's. */
int sh_ent_diff_format(const sh_ent_diff *diff, const char *a_name, const char *b_name, char *buf,
                       size_t size);

/* Lookups in a dict node (NULL when absent or when dict is not a dict). */
const sh_ent_node *sh_ent_dict_get(const sh_ent_node *dict, const char *key);
/* True only for a present SH_ENT_BOOL true (how amfid and the notary service read flags). */
bool sh_ent_get_bool(const sh_ent_node *dict, const char *key);
/* The string value or NULL. */
const char *sh_ent_get_string(const sh_ent_node *dict, const char *key);
const char *sh_ent_type_name(sh_ent_type t); /* "dict", "array", ...; "unknown" */
const char *sh_ent_form_name(sh_ent_form f); /* "XML", "DER", "DER (legacy SET)"; "none" */

#endif
