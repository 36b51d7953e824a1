/* Code requirements: the binary requirement language (Requirement blob 0xfade0c00 and requirement
 * set 0xfade0c01) and its text form.
 *
 *   decoder   binary -> text, the text `codesign -d -r-` prints (requirement.c)
 *   compiler  text -> binary, byte for byte what Security's compiler emits (reqcompile.c)
 *
 * Facts follow Security-61901 (OSX/libsecurity_codesigning: requirements.grammar, reqdumper,
 * reqmaker, reqreader, reqinterp); the code here is our own.  docs: see the block comment at the
 * top of requirement.c for the grammar accepted and every place where the text differs from
 * Apple's Dumper.
 *
 * Two output styles:
 *   default               exactly the text Apple's Dumper prints (what `codesign -d -r-` shows),
 *                         quirks included: `certificate leaftrusted`, no parentheses around a
 *                         right-nested and-in-and (the shape codesign's own default designated
 *                         requirements have), opInfoKeyValue printed like opInfoKeyField, ...
 *   SH_REQ_TEXT_LOSSLESS  the same text except where Apple's loses information; there a form our
 *                         compiler maps back to the same bytes.  compile(decode(b)) == b for every
 *                         requirement that decodes, and for every requirement set whose layout is
 *                         the one Apple's SuperBlob maker writes (layout == 0).
 *
 * All input is read through sh_cursor; nothing is allocated except the output text/blob, through
 * the sh_allocator given (NULL means the C library).  No global mutable state. */
#ifndef SH_REQUIREMENT_H
#define SH_REQUIREMENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alloc.h"
#include "cursor.h"
#include "errors.h"
#include "sh_limits.h"

#define SH_REQ_MAGIC 0xfade0c00u     /* one Requirement {magic, length, kind, program} */
#define SH_REQSET_MAGIC 0xfade0c01u  /* SuperBlob of Requirements indexed by type */
#define SH_REQ_HEADER_SIZE 12u
#define SH_REQSET_HEADER_SIZE 12u

/* Requirement.kind */
#define SH_REQ_KIND_EXPR 1u /* exprForm: opcode program (the only kind decoded) */
#define SH_REQ_KIND_LWCR 2u /* lwcrForm: DER lightweight code requirement */

/* Requirement types: the index type in a requirement set (SecRequirementType). */
#define SH_REQ_TYPE_HOST 1u
#define SH_REQ_TYPE_GUEST 2u
#define SH_REQ_TYPE_DESIGNATED 3u
#define SH_REQ_TYPE_LIBRARY 4u
#define SH_REQ_TYPE_PLUGIN 5u
#define SH_REQ_TYPE_COUNT 6u /* names exist for 0 ("invalid") .. 5 */

/* Opcodes (low 24 bits of the u32; the high byte holds flags). */
enum sh_req_op {
    SH_REQ_OP_FALSE = 0,
    SH_REQ_OP_TRUE = 1,
    SH_REQ_OP_IDENT = 2,
    SH_REQ_OP_APPLE_ANCHOR = 3,
    SH_REQ_OP_ANCHOR_HASH = 4,
    SH_REQ_OP_INFO_KEY_VALUE = 5,
    SH_REQ_OP_AND = 6,
    SH_REQ_OP_OR = 7,
    SH_REQ_OP_CDHASH = 8,
    SH_REQ_OP_NOT = 9,
    SH_REQ_OP_INFO_KEY_FIELD = 10,
    SH_REQ_OP_CERT_FIELD = 11,
    SH_REQ_OP_TRUSTED_CERT = 12,
    SH_REQ_OP_TRUSTED_CERTS = 13,
    SH_REQ_OP_CERT_GENERIC = 14,
    SH_REQ_OP_APPLE_GENERIC_ANCHOR = 15,
    SH_REQ_OP_ENTITLEMENT_FIELD = 16,
    SH_REQ_OP_CERT_POLICY = 17,
    SH_REQ_OP_NAMED_ANCHOR = 18,
    SH_REQ_OP_NAMED_CODE = 19,
    SH_REQ_OP_PLATFORM = 20,
    SH_REQ_OP_NOTARIZED = 21,
    SH_REQ_OP_CERT_FIELD_DATE = 22,
    SH_REQ_OP_LEGACY_DEVID = 23,
    SH_REQ_OP_COUNT = 24
};
#define SH_REQ_OP_FLAG_MASK 0xff000000u
#define SH_REQ_OP_GENERIC_FALSE 0x80000000u /* unknown op: u32 size, payload; evaluates false */
#define SH_REQ_OP_GENERIC_SKIP 0x40000000u  /* unknown op: u32 size, payload; then the next expr */

/* Match operations (the suffix of info/entitlement/certificate field ops). */
enum sh_req_match {
    SH_REQ_MATCH_EXISTS = 0,
    SH_REQ_MATCH_EQUAL = 1,
    SH_REQ_MATCH_CONTAINS = 2,
    SH_REQ_MATCH_BEGINS_WITH = 3,
    SH_REQ_MATCH_ENDS_WITH = 4,
    SH_REQ_MATCH_LESS_THAN = 5,
    SH_REQ_MATCH_GREATER_THAN = 6,
    SH_REQ_MATCH_LESS_EQUAL = 7,
    SH_REQ_MATCH_GREATER_EQUAL = 8,
    SH_REQ_MATCH_ON = 9, /* 9..13: int64 seconds since 2001-01-01 00:00:00 UTC */
    SH_REQ_MATCH_BEFORE = 10,
    SH_REQ_MATCH_AFTER = 11,
    SH_REQ_MATCH_ON_OR_BEFORE = 12,
    SH_REQ_MATCH_ON_OR_AFTER = 13,
    SH_REQ_MATCH_ABSENT = 14,
    SH_REQ_MATCH_COUNT = 15
};

#define SH_REQ_CERT_LEAF 0      /* cert index: leaf */
#define SH_REQ_CERT_ANCHOR (-1) /* cert index: anchor (root); 1, 2, ... count up from the leaf */

/* Decoder flags. */
#define SH_REQ_TEXT_LOSSLESS 0x1u /* text that recompiles to the same bytes (see requirement.c) */

/* How a requirement set's layout differs from the one Apple's SuperBlob maker writes (entries in
 * ascending type order, blobs packed in index order right after the index, nothing after the
 * last blob).  The text form cannot carry layout, so compile(decode(set)) reproduces the bytes
 * exactly when, and only when, layout == 0. */
#define SH_REQSET_LAYOUT_UNSORTED 0x1u /* index types not in ascending order */
#define SH_REQSET_LAYOUT_GAPS 0x2u     /* a blob does not start where the previous one ends */
#define SH_REQSET_LAYOUT_TRAILING 0x4u /* bytes after the last blob inside the set's length */

typedef struct sh_req_info {
    uint32_t magic;     /* SH_REQ_MAGIC or SH_REQSET_MAGIC */
    uint32_t length;    /* the blob's length field */
    uint32_t count;     /* requirements decoded: 1 for a lone requirement, the set's count */
    uint32_t ops;       /* expression opcodes read (over all requirements) */
    uint32_t max_depth; /* deepest expression nesting level seen (top level = 1) */
    uint32_t layout;    /* SH_REQSET_LAYOUT_* (sets only) */
    uint64_t trailing;  /* bytes of the data given that follow the blob's length */
} sh_req_info;

typedef struct sh_reqset_entry {
    uint32_t type;   /* SH_REQ_TYPE_* (any u32) */
    uint32_t offset; /* from the set's start */
    uint32_t length; /* the Requirement blob's own length field */
    sh_cursor blob;  /* exactly length bytes, header included */
} sh_reqset_entry;

typedef struct sh_reqset {
    uint32_t length, count;
    uint32_t layout; /* SH_REQSET_LAYOUT_* */
    sh_reqset_entry entries[SH_MAX_REQUIREMENT_SET_ENTRIES];
    sh_cursor blob; /* the set itself, exactly length bytes */
} sh_reqset;

/* Structure of a requirement set: header, count (<= SH_MAX_REQUIREMENT_SET_ENTRIES), index,
 * every entry present (offset != 0), past the index, inside the set, holding a Requirement blob
 * header, no two entries of one type, no two blobs overlapping.  The programs are not decoded
 * (sh_req_check does that).  data may extend past the set's length. */
sh_err sh_reqset_parse(const sh_cursor *data, sh_reqset *out, sh_error *err);
/* The entry of that type, or NULL. */
const sh_reqset_entry *sh_reqset_find(const sh_reqset *set, uint32_t type);

/* Validates a Requirement or requirement set completely (every program walked, every limit
 * enforced) without producing text.  info may be NULL. */
sh_err sh_req_check(const sh_cursor *data, sh_req_info *info, sh_error *err);

/* Decodes a Requirement (text: one expression, no newline) or a requirement set (text: one
 * "type => expression\n" line per entry, in index order) into buf, NUL-terminated.
 * *len receives the text length without the NUL.  When buf is too small the result is
 * SH_E_REQ_TEXT_TOO_LONG and err->value holds the size needed (NUL included). */
sh_err sh_req_to_text(const sh_cursor *data, unsigned flags, char *buf, size_t size, size_t *len,
                      sh_req_info *info, sh_error *err);
/* Same, into a NUL-terminated string allocated with sh_calloc(a); release it with sh_free(a). */
sh_err sh_req_to_text_alloc(const sh_cursor *data, unsigned flags, const sh_allocator *a,
                            char **text, size_t *len, sh_req_info *info, sh_error *err);

/* "host", "guest", "designated", "library", "plugin", "invalid" (0); NULL for other values. */
const char *sh_req_type_name(uint32_t type);

/* ---- compiler (reqcompile.c) ---- */

typedef enum sh_req_parse_mode {
    SH_REQ_PARSE_AUTO = 0, /* a set if the text starts with a type and "=>", else one requirement */
    SH_REQ_PARSE_SINGLE,   /* one requirement -> 0xfade0c00 */
    SH_REQ_PARSE_SET       /* a requirement set -> 0xfade0c01 (empty text -> empty set) */
} sh_req_parse_mode;

/* Where a compile failed: byte offset into the text, 1-based line and column, and what was
 * expected or wrong ("expected ']' after the bracket key, found 'and'"). */
typedef struct sh_req_diag {
    size_t offset;
    size_t line, column;
    char message[192];
} sh_req_diag;

/* Compiles requirement text (len bytes, no NUL needed) into a blob allocated with sh_calloc(a)
 * (*blob, *blob_len; release with sh_free(a)).  Byte-exact with Security's compiler for its
 * grammar; the extensions listed in requirement.c are accepted too.  Every blob produced passes
 * sh_req_check.  Syntax errors are SH_E_REQ_SYNTAX (or a more specific SH_E_REQ_TEXT_*) with
 * err->where = "requirement text", err->offset = byte offset, err->index = line and
 * err->value = column (both 1-based); diag (may be NULL) adds what was expected. */
sh_err sh_req_compile(const char *text, size_t len, sh_req_parse_mode mode,
                      const sh_allocator *a, uint8_t **blob, size_t *blob_len, sh_req_diag *diag,
                      sh_error *err);

/* ---- shared by requirement.c and reqcompile.c (not for other callers) ---- */

/* Walks exactly one expression that fills frag completely, starting at nesting level
 * depth + 1, adding to *ops.  Used to validate `raw(H"...")` fragments. */
sh_err sh_req_check_fragment(const sh_cursor *frag, uint32_t depth, uint32_t *ops,
                             sh_error *err);

#endif
