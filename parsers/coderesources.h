/* _CodeSignature/CodeResources: the resource envelope (codesign-formats.md section 7).
 *
 * The plist (XML or binary) goes through plist_guard (PLIST_* errors) and libplist; the root must
 * be a dict.  Keys read (others are ignored, as Security ignores them):
 * - files (v1): path -> data (SHA-1, 20 bytes) or {hash, optional};
 * - files2 (v2): path -> {hash (SHA-1, 20), hash2 (SHA-256, 32), optional} or {symlink} or nested
 *   code {cdhash (20), requirement (designated requirement text)}, either of which alone also
 *   makes a nested entry (Security's ResourceSeal reads only the requirement; codesign writes
 *   both);
 * - rules, rules2: pattern -> true (weight 1), false (omitted, weight 1; ResourceBuilder::addRule)
 *   or {omit, optional, nested, weight}.  Weights may be <integer> or <real> (Apple writes reals)
 *   and must be whole numbers in [0, UINT32_MAX].
 * Paths must be relative and clean (no empty, "." or ".." component, no leading or trailing '/'),
 * UTF-8 without NUL, at most SH_MAX_RES_PATH_LEN bytes.  Patterns are checked with regcomp
 * (REG_EXTENDED | REG_NOSUB, as Security's ResourceBuilder::Rule) after a pre-check that bounds
 * what glibc's regcomp/regexec may cost (length, no back-references, few small intervals).
 *
 * Entries and rules are kept sorted by their key bytes, so sh_res_find is a binary search.
 * Everything is allocated through the sh_allocator given (NULL: the C library) and freed by
 * sh_coderesources_free; libplist's tree is freed on every path. */
#ifndef SH_CODERESOURCES_H
#define SH_CODERESOURCES_H

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alloc.h"
#include "cursor.h"
#include "errors.h"
#include "sh_limits.h"

#define SH_RES_SHA1_LEN 20
#define SH_RES_SHA256_LEN 32

typedef struct sh_res_file {
    char *path; /* relative to the bundle's Contents (or root), NUL-terminated */
    size_t path_len;
    bool has_hash, has_hash2;
    uint8_t hash[SH_RES_SHA1_LEN];
    uint8_t hash2[SH_RES_SHA256_LEN];
    bool optional;
    char *symlink;     /* symlink target, or NULL */
    bool nested;       /* nested code: a cdhash or a requirement (or, as codesign writes, both) */
    bool has_cdhash;
    uint8_t cdhash[SH_RES_SHA1_LEN];
    char *requirement; /* nested code's requirement text, or NULL */
} sh_res_file;

typedef struct sh_res_rule {
    char *pattern;
    size_t pattern_len;
    bool plain; /* the value was a bare boolean (true: sealed, false: omitted) */
    bool omit, optional, nested;
    uint32_t weight; /* 1 when not given */
} sh_res_rule;

typedef struct sh_res_files {
    bool present; /* the key was in the plist */
    size_t count;
    sh_res_file *items; /* ascending by path bytes, unique */
} sh_res_files;

typedef struct sh_res_rules {
    bool present;
    size_t count;
    sh_res_rule *items; /* ascending by pattern bytes, unique */
} sh_res_rules;

typedef struct sh_coderesources {
    sh_res_files files, files2;
    sh_res_rules rules, rules2;
    const sh_allocator *alloc;
} sh_coderesources;

/* Where a problem is: "files2/MacOS/helper/cdhash", "rules2/^Resources//weight".  Bytes outside
 * printable ASCII are written \xNN; a long one ends in "...". */
#define SH_RES_WHERE_MAX 320
typedef struct sh_res_where {
    char text[SH_RES_WHERE_MAX];
} sh_res_where;

/* Parses CodeResources bytes.  where may be NULL.  On failure *out is empty (safe to free).
 * err->where is the static name of the part ("files2", "rules2", "CodeResources"), err->index the
 * entry's position in the plist dict. */
sh_err sh_coderesources_parse(const sh_cursor *data, const sh_allocator *alloc,
                              sh_coderesources *out, sh_res_where *where, sh_error *err);
void sh_coderesources_free(sh_coderesources *cr);

/* The entry for a path (exact bytes), or NULL. */
const sh_res_file *sh_res_find(const sh_res_files *files, const char *path);

/* Apple's default v2 rules (bundlediskrep.cpp), into *out (free with sh_res_rules_free). */
sh_err sh_res_default_rules2(const sh_allocator *alloc, sh_res_rules *out, sh_error *err);
void sh_res_rules_free(const sh_allocator *alloc, sh_res_rules *rules);

/* Rule evaluation: which rule applies to a relative path.
 *
 * Security's ResourceBuilder::findRule walks the rules and keeps a match only when its weight is
 * strictly greater than the best so far, so among equal weights the first rule visited wins; its
 * visiting order is CFDictionary order, which is unspecified.  Here the rules are visited in
 * ascending pattern byte order, so among equal weights the pattern that sorts first wins, and
 * sh_res_match.tie says that another matching rule had the same weight (a verdict that depends on
 * the tie is one macOS may decide differently).  No rule matching means the path is not sealed
 * (Security skips it).  Security also adds exclusion rules of its own while it builds or checks a
 * seal (_CodeSignature/, the main executable, CodeResources itself); those are the caller's
 * business, not part of the plist's rules. */
typedef struct sh_res_matcher {
    const sh_res_rules *rules;
    regex_t *re; /* rules->count compiled patterns */
    size_t compiled;
    const sh_allocator *alloc;
} sh_res_matcher;

typedef struct sh_res_match {
    const sh_res_rule *rule; /* NULL: no rule matches */
    size_t index;            /* of rule in rules->items */
    bool tie;
} sh_res_match;

/* The matcher refers to rules (which must outlive it). */
sh_err sh_res_matcher_init(sh_res_matcher *m, const sh_res_rules *rules, const sh_allocator *alloc,
                           sh_error *err);
sh_err sh_res_matcher_match(const sh_res_matcher *m, const char *path, sh_res_match *out,
                            sh_error *err);
void sh_res_matcher_free(sh_res_matcher *m);

/* The same matcher, shared (coderesources_shared.c): from memo when equal rules were compiled
 * there before, else compiled and handed to memo (which keeps its own copy of the rules), else
 * (no memo, memo full, or the rules do not compile: err says why) compiled into *scratch.  *out
 * is the one to use, NULL on failure; sh_res_matcher_release(scratch, *out) afterwards.  A shared
 * matcher is only read (glibc's regexec locks its own lazily built tables), so threads sharing a
 * memo may share it. */
struct sh_verify_memo;
sh_err sh_res_matcher_shared(struct sh_verify_memo *memo, const sh_res_rules *rules,
                             const sh_allocator *alloc, sh_res_matcher *scratch,
                             const sh_res_matcher **out, sh_error *err);
void sh_res_matcher_release(sh_res_matcher *scratch, const sh_res_matcher *m);

/* "omitted", "optional", "nested", "sealed" for a rule (NULL rule: "unsealed"). */
const char *sh_res_rule_kind(const sh_res_rule *rule);

/* Is pattern (len bytes, UTF-8) a POSIX extended regex glibc can compile and match in bounded
 * time and memory: at most SH_MAX_RES_REGEX_LEN bytes and SH_MAX_RES_REGEX_INTERVALS {m,n}
 * intervals of at most SH_MAX_RES_REGEX_REPEAT (regcomp and regexec were tried, then freed)?
 * SH_E_OK or a RES_RULE_* code.  Also used for other untrusted patterns (tool adapters). */
sh_err sh_res_check_pattern(const char *pattern, size_t len, const char *part, int64_t index,
                            sh_error *err);

#endif
