/* _CodeSignature/CodeResources writer (codesign-formats.md section 7).
 *
 * sh_crw_write turns a list of bundle entries into the XML plist codesign writes, byte for byte in
 * the layout of CoreFoundation's XML writer: tab indentation, dictionary keys in ascending order,
 * <data> as base64 lines of at most 76 - 8 * indent characters (indent capped at 8) at the
 * <data>'s own indentation, weights as <real>, empty dictionaries as <dict/>.
 *
 * Which entries are sealed, omitted, optional or nested is decided with the parser's matcher
 * (coderesources.h) over Apple's default rules: sh_res_default_rules2 for files2/rules2, and the
 * v1 default rules (below) for files/rules, as Security's SecCodeSigner::Signer::buildResources
 * does:
 * - files2: every entry whose v2 rule neither omits it nor is missing.  A regular file becomes
 *   {hash (SHA-1, only with files2_sha1), hash2 (SHA-256), optional}; a symlink {symlink: target,
 *   optional} (a symlink is never nested code); nested code {cdhash, requirement, optional}.
 *   A regular file under a nested rule is code Security would sign as nested: refused here (give
 *   it as SH_CRW_NESTED).  Nested code under a rule that is not nested is refused too.
 * - files (v1): regular files only, with the v1 rules; path -> SHA-1 <data>, or {hash, optional}
 *   when the rule is optional.
 * Paths are sorted by their bytes (CFStringCompare order for ASCII and the BMP; see the note in
 * coderesources_writer.c about supplementary characters).  The output depends only on the entry
 * set, not its order.
 *
 * sh_crw_walk builds the entry list from a real directory (POSIX, no symlink is ever followed). */
#ifndef SH_CODERESOURCES_WRITER_H
#define SH_CODERESOURCES_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bytebuf.h"
#include "coderesources.h"

typedef enum sh_crw_kind {
    SH_CRW_FILE = 0, /* a regular file: its bytes, or its precomputed digests */
    SH_CRW_SYMLINK,  /* a symbolic link: its target text */
    SH_CRW_NESTED,   /* nested code: its cdhash and designated requirement text */
} sh_crw_kind;

typedef struct sh_crw_entry {
    const char *path; /* relative, clean ("a/b", no "." / ".." / empty parts), UTF-8 */
    sh_crw_kind kind;
    /* SH_CRW_FILE: data/len are hashed unless hashed is set (then sha1/sha256 are used as given;
     * a seal can be rebuilt without the files). */
    const uint8_t *data;
    size_t len;
    bool hashed;
    uint8_t sha1[SH_RES_SHA1_LEN];
    uint8_t sha256[SH_RES_SHA256_LEN];
    const char *target; /* SH_CRW_SYMLINK: non-empty, UTF-8 */
    uint8_t cdhash[SH_RES_SHA1_LEN]; /* SH_CRW_NESTED */
    const char *requirement;         /* SH_CRW_NESTED: requirement text, NULL: no key */
} sh_crw_entry;

typedef struct sh_crw_options {
    bool files2_sha1; /* files2 entries also carry "hash" (SHA-1): sealed with SHA-1 and SHA-256 */
    bool no_v1;       /* leave out files and rules (no legacy seal) */
    struct sh_verify_memo *memo; /* compiled rules kept for later writes (NULL: none) */
} sh_crw_options;

#define SH_CRW_ERR_PATH_MAX 256
/* Why a write or walk failed: the status, a static string naming the step, the entry's path
 * (truncated, "" when none) and errno for a system call (0 otherwise). */
typedef struct sh_crw_error {
    sh_write_status status;
    const char *what;
    char path[SH_CRW_ERR_PATH_MAX];
    int sys_errno;
} sh_crw_error;

/* Fills err (may be NULL): path copied (NULL: ""), cut to fit with "..." at the end. */
void sh_crw_error_set(sh_crw_error *err, sh_write_status status, const char *what,
                      const char *path, int sys_errno);

/* Appends the CodeResources plist for entries[0..count) to out.  opt may be NULL (SHA-256 files2,
 * v1 included: what codesign writes for a macOS 10.11+ deployment target).  err may be NULL.
 * Refuses (SH_W_INVALID_ARGUMENT) bad or duplicate paths, bad symlink targets or requirement
 * text, and the nested-rule mismatches above; SH_W_TOO_LARGE past SH_MAX_RES_ENTRIES entries. */
sh_write_status sh_crw_write(const sh_crw_entry *entries, size_t count, const sh_crw_options *opt,
                             const sh_allocator *alloc, sh_bytebuf *out, sh_crw_error *err);

/* A rule added to Apple's default rules2 (the writer applies it and writes it into rules2). */
typedef struct sh_crw_rule {
    const char *pattern; /* POSIX extended regex, as Security compiles rules */
    bool omit, optional, nested;
    uint32_t weight;
} sh_crw_rule;

/* sh_crw_write sealing with Apple's default rules2 plus extra[0..n_extra) (a pattern equal to a
 * default one replaces that rule).  A pattern that is empty, too long or does not compile is
 * SH_W_INVALID_ARGUMENT ("rules2"). */
sh_write_status sh_crw_write_rules(const sh_crw_entry *entries, size_t count,
                                   const sh_crw_options *opt, const sh_crw_rule *extra,
                                   size_t n_extra, const sh_allocator *alloc, sh_bytebuf *out,
                                   sh_crw_error *err);

/* The rules2 sh_crw_write_rules seals with (Apple's default plus extra), into *out (free with
 * sh_res_rules_free): callers deciding what is nested code match against the same rules. */
sh_write_status sh_crw_rules2(const sh_crw_rule *extra, size_t n_extra, const sh_allocator *alloc,
                              sh_res_rules *out, sh_crw_error *err);

/* Apple's default v1 rules (bundlediskrep.cpp, the legacy "rules" key), into *out (free with
 * sh_res_rules_free). */
sh_write_status sh_crw_default_rules1(const sh_allocator *alloc, sh_res_rules *out);

/* ---- directory walk ---- */

/* Nested code found by the walk (a regular file or a directory with a '.' in its name under a
 * nested v2 rule): fill cdhash and *requirement (borrowed until the callback is called again;
 * NULL for none) and return true, or return false to fail the walk. */
typedef bool (*sh_crw_nested_fn)(void *ctx, const char *relpath, bool is_dir,
                                 uint8_t cdhash[SH_RES_SHA1_LEN], const char **requirement);

#define SH_CRW_DEFAULT_MAX_DEPTH 32u
#define SH_CRW_DEFAULT_MAX_FILE ((uint64_t)1 << 30)

typedef struct sh_crw_walk_options {
    const char *main_executable; /* relative path skipped (the CodeDirectory seals it); NULL none */
    unsigned max_depth;          /* directory levels below the root; 0: SH_CRW_DEFAULT_MAX_DEPTH */
    size_t max_entries;          /* 0: SH_MAX_RES_ENTRIES */
    uint64_t max_file_size;      /* bytes read from one file; 0: SH_CRW_DEFAULT_MAX_FILE */
    sh_crw_nested_fn nested;     /* NULL: nested code fails the walk */
    void *nested_ctx;
} sh_crw_walk_options;

/* The walk's result: entries own their strings; free with sh_crw_list_free. */
typedef struct sh_crw_list {
    sh_crw_entry *items;
    size_t count, cap;
    const sh_allocator *alloc;
} sh_crw_list;

/* Lists the bundle root (its Contents directory, or the root of a flat bundle): regular files
 * (hashed while walking), symlinks (target read, never followed), nested code (through
 * opt->nested).  Skips the top-level _CodeSignature directory and the main executable; everything
 * else is listed (sh_crw_write applies the rules).  Refuses FIFOs, sockets and devices
 * (SH_W_INVALID_ARGUMENT "unsupported file type"), a tree deeper than max_depth or with more
 * than max_entries entries, a file larger than max_file_size (SH_W_TOO_LARGE).  Entries are
 * opened relative to their parent directory's descriptor with O_NOFOLLOW, so a directory swapped
 * for a symlink during the walk is refused, not followed.  On failure *out is empty. */
sh_write_status sh_crw_walk(const char *root, const sh_crw_walk_options *opt,
                            const sh_allocator *alloc, sh_crw_list *out, sh_crw_error *err);
void sh_crw_list_free(sh_crw_list *list);

#endif
