/* Stage 3, the resource seal of one bundle (codesign-formats.md 7, 8b): every file the rules
 * seal must be in _CodeSignature/CodeResources with the same hash or symlink target (added,
 * modified, missing), nothing else may sit in _CodeSignature, and nested code must have the
 * cdhash the seal recorded. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coderesources.h"
#include "hash.h"
#include "verdict_internal.h"

typedef struct seal_ctx {
    vd_ctx *x;
    vd_code *c;
    size_t issues, dropped;
} seal_ctx;

static void issue(seal_ctx *s, sh_rule_id rule, const char *rel)
{
    s->c->signature_ok = false;
    if (s->issues >= SH_MAX_VERDICT_SEAL_ISSUES) {
        s->dropped++;
        return;
    }
    s->issues++;
    vd_add(s->x, rule, s->c->root, SH_E_OK, false, "%s", rel);
    vd_log_rule(s->x, rule, "", s->c->root, rel);
}

/* Files Security itself leaves out of the seal: _CodeSignature (checked on its own), the main
 * executable (the CodeDirectory seals it) and the stapled ticket Contents/CodeResources. */
static bool excluded(const vd_code *c, const char *full, const char *rel)
{
    return strcmp(full, c->exe) == 0 || strcmp(rel, "CodeResources") == 0 ||
           strncmp(rel, "_CodeSignature/", 15) == 0 || strcmp(rel, "_CodeSignature") == 0;
}

static const vd_code *nested_at(const char *full, const vd_code *nested, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (sh_bundle_is_under(full, nested[i].root))
            return &nested[i];
    return NULL;
}

static bool file_matches(const sh_res_file *f, const sh_bundle_entry *e)
{
    uint8_t d[SH_RES_SHA256_LEN];
    if (f->has_hash2)
        return sh_hash(SH_HASH_SHA256, e->data, e->len, d) && memcmp(d, f->hash2, SH_RES_SHA256_LEN) == 0;
    if (f->has_hash)
        return sh_hash(SH_HASH_SHA1, e->data, e->len, d) && memcmp(d, f->hash, SH_RES_SHA1_LEN) == 0;
    return false;
}

/* Does a link at Contents/<rel> with this target stay inside the bundle root?  Lexically, as
 * Security judges it: an absolute target, or ".." climbing above the root, leaves it. */
static bool link_stays_inside(const char *rel, const uint8_t *target, size_t len)
{
    if (len == 0 || target[0] == '/')
        return false;
    size_t depth = 1; /* Contents */
    for (const char *p = rel; *p; p++)
        depth += *p == '/';
    size_t i = 0;
    while (i < len) {
        size_t j = i;
        while (j < len && target[j] != '/')
            j++;
        if (j - i == 2 && target[i] == '.' && target[i + 1] == '.') {
            if (depth == 0)
                return false;
            depth--;
        } else if (j > i && !(j - i == 1 && target[i] == '.')) {
            depth++;
        }
        i = j + 1;
    }
    return true;
}

static void check_entry(seal_ctx *s, const sh_coderesources *cr, const sh_res_matcher *m,
                        const sh_bundle_entry *e, const char *rel)
{
    if (e->kind == SH_BUNDLE_SYMLINK && !link_stays_inside(rel, e->data, e->len))
        issue(s, SH_RULE_RESOURCE_SYMLINK_OUTSIDE, rel);
    sh_res_match match;
    sh_error err = {0};
    if (sh_res_matcher_match(m, rel, &match, &err) != SH_E_OK || !match.rule || match.rule->omit)
        return;
    const sh_res_file *f = sh_res_find(&cr->files2, rel);
    if (!f) {
        if (!match.rule->optional)
            issue(s, SH_RULE_RESOURCE_ADDED, rel);
        return;
    }
    if (e->kind == SH_BUNDLE_SYMLINK) {
        if (!f->symlink || strlen(f->symlink) != e->len || memcmp(f->symlink, e->data, e->len) != 0)
            issue(s, SH_RULE_RESOURCE_SYMLINK_CHANGED, rel);
        return;
    }
    if (f->symlink)
        issue(s, SH_RULE_RESOURCE_SYMLINK_CHANGED, rel);
    else if (!f->nested && !file_matches(f, e))
        issue(s, SH_RULE_RESOURCE_MODIFIED, rel);
}

/* Security validates sealed nested code by the requirement the seal records (StaticCode.cpp
 * validateNestedCode; ResourceSeal reads only "requirement" and "optional"), not by its cdhash:
 * nested code re-signed with the same identity still satisfies its designated requirement. */
static void check_nested_requirement(seal_ctx *s, const char *rel, const sh_res_file *f,
                                     const vd_code *n)
{
    char want[2 * SH_CDHASH_LEN + 1] = "none", got[2 * SH_CDHASH_LEN + 1] = "unsigned";
    if (f->has_cdhash)
        vd_hex(f->cdhash, SH_CDHASH_LEN, want);
    if (n->has_cdhash)
        vd_hex(n->cdhash, SH_CDHASH_LEN, got);
    if (!f->requirement) {
        s->c->signature_ok = false;
        vd_add(s->x, SH_RULE_NESTED_SEAL_INVALID, s->c->root, SH_E_OK, false,
               "%s: sealed by cdhash %s alone, without a requirement", rel, want);
        return;
    }
    if (!n->has_cdhash || !n->primary || !n->signature_ok) {
        /* Security validates the nested code before its requirement, and the nested code's own
         * failure (reported on it) is what the app's validation ends in. */
        s->c->signature_ok = false;
        return;
    }
    sh_req_subject subject;
    vd_req_subject(s->x, n, &subject);
    sh_req_result r;
    sh_error err = {0};
    sh_err e = sh_req_evaluate_text(f->requirement, &subject, &r, &err);
    if (e == SH_E_NO_MEMORY) {
        s->x->v->failure = SH_E_NO_MEMORY;
    } else if (e != SH_E_OK) {
        char msg[512];
        sh_error_format(&err, msg, sizeof msg);
        s->c->signature_ok = false;
        vd_add(s->x, SH_RULE_NESTED_SEAL_INVALID, s->c->root, e, false,
               "%s: its sealed requirement does not compile: %s", rel, msg);
    } else if (!r.satisfied && r.has_unsupported) {
        vd_add(s->x, SH_RULE_NESTED_REQUIREMENT_UNDECIDED, s->c->root, SH_E_REQ_EVAL_UNSUPPORTED,
               false, "%s: opcode %u in %s", rel, r.unsupported_op, f->requirement);
    } else if (!r.satisfied) {
        s->c->signature_ok = false;
        vd_add(s->x, SH_RULE_NESTED_CODE_MODIFIED, s->c->root, SH_E_OK, false,
               "%s: does not satisfy the sealed requirement %s (sealed cdhash %s, now %s)", rel,
               f->requirement, want, got);
    } else if (f->has_cdhash && memcmp(f->cdhash, n->cdhash, SH_CDHASH_LEN) != 0) {
        vd_add(s->x, SH_RULE_NESTED_CODE_RESIGNED, s->c->root, SH_E_OK, true,
               "%s: sealed cdhash %s, now %s; the sealed requirement %s still holds", rel, want,
               got, f->requirement);
    }
}

static void check_nested(seal_ctx *s, const sh_coderesources *cr, const char *contents,
                         const vd_code *n)
{
    size_t clen = strlen(contents);
    const char *rel = n->root + clen + 1;
    const sh_res_file *f = sh_res_find(&cr->files2, rel);
    if (f && f->nested) {
        check_nested_requirement(s, rel, f, n);
        return;
    }
    /* sealed file by file (the default rules: Library/SystemExtensions is not a nested
     * directory): the per-file walk judges it; sealed not at all: added after signing */
    char prefix[SH_MAX_RES_PATH_LEN + 2];
    snprintf(prefix, sizeof prefix, "%s/", rel);
    for (size_t i = 0; i < cr->files2.count; i++)
        if (strncmp(cr->files2.items[i].path, prefix, strlen(prefix)) == 0)
            return;
    issue(s, SH_RULE_NESTED_CODE_UNSEALED, rel);
}

static bool sealed_as_nested(const sh_coderesources *cr, const char *contents, const vd_code *n)
{
    const sh_res_file *f = sh_res_find(&cr->files2, n->root + strlen(contents) + 1);
    return f && f->nested;
}

/* Whether rel lies inside nested code the seal records by cdhash (e.g. a bundle in PlugIns, a
 * nested directory of the default rules): its files are that code's own business, not resources
 * of this bundle (codesign-formats.md 7), whether or not it is a discovered system extension. */
static bool inside_sealed_nested(const sh_coderesources *cr, const char *rel)
{
    char prefix[SH_MAX_RES_PATH_LEN + 1];
    for (const char *slash = strchr(rel, '/'); slash; slash = strchr(slash + 1, '/')) {
        size_t n = (size_t)(slash - rel);
        if (n >= sizeof prefix)
            return false;
        memcpy(prefix, rel, n);
        prefix[n] = '\0';
        const sh_res_file *f = sh_res_find(&cr->files2, prefix);
        if (f && f->nested)
            return true;
    }
    return false;
}

static void walk(seal_ctx *s, const sh_coderesources *cr, const sh_res_matcher *m,
                 const char *contents, const vd_code *nested, size_t nnested)
{
    const sh_bundle *b = s->x->b;
    size_t clen = strlen(contents);
    for (size_t i = sh_bundle_lower_bound(b, contents); i < b->count; i++) {
        const sh_bundle_entry *e = &b->entries[i];
        if (!sh_bundle_is_under(e->path, contents)) {
            if (strncmp(e->path, contents, clen) != 0)
                break;
            continue;
        }
        if (strcmp(e->path, contents) == 0 || e->kind == SH_BUNDLE_DIR)
            continue;
        const char *rel = e->path + clen + 1;
        if (strncmp(rel, "_CodeSignature/", 15) == 0 && strcmp(rel, "_CodeSignature/CodeResources") != 0) {
            s->c->signature_ok = false;
            vd_add(s->x, SH_RULE_UNSEALED_FILE_IN_CODESIGNATURE, s->c->root, SH_E_OK, false, "%s", rel);
            continue;
        }
        if (excluded(s->c, e->path, rel))
            continue;
        const vd_code *n = nested_at(e->path, nested, nnested);
        if (n && (sealed_as_nested(cr, contents, n) || !n->has_info))
            continue;
        if (!n && inside_sealed_nested(cr, rel))
            continue;
        check_entry(s, cr, m, e, rel);
    }
    for (size_t i = 0; i < cr->files2.count; i++) {
        const sh_res_file *f = &cr->files2.items[i];
        if (f->optional) /* nested code too: a removed extension is a missing resource */
            continue;
        char full[SH_MAX_BUNDLE_PATH + SH_MAX_RES_PATH_LEN + 2];
        snprintf(full, sizeof full, "%s/%s", contents, f->path);
        if (!sh_bundle_find(b, full))
            issue(s, SH_RULE_RESOURCE_MISSING, f->path);
    }
    for (size_t i = 0; i < nnested; i++)
        if (nested[i].has_info)
            check_nested(s, cr, contents, &nested[i]);
}

/* A CodeResources file parsed, with its rules2 (or the default rules) compiled: a pure function
 * of the file's bytes, so kept in the memo when the caller gives one (the app's and the
 * extension's seals recur across the bundles regress judges).  The compiled matcher is shared by
 * every seal with the same rules (sh_res_matcher_shared). */
typedef struct seal_rules {
    sh_err result; /* the parse */
    sh_error err;
    bool defaults_failed; /* no rules2, and the default rules could not be made (no memory) */
    sh_coderesources cr;
    sh_res_rules defaults;
    const sh_res_rules *rules; /* cr.rules2, or defaults when it has none */
    sh_err matcher_result;
    sh_error matcher_err;
    const sh_res_matcher *m; /* shared through the memo, or &scratch */
    sh_res_matcher scratch;
} seal_rules;

/* Builds in place: m may point into *s. */
static void seal_rules_build(const sh_allocator *alloc, sh_verify_memo *memo,
                             const sh_bundle_entry *e, seal_rules *s)
{
    memset(s, 0, sizeof *s);
    sh_cursor cur = sh_cursor_make(e->data, e->len);
    s->result = sh_coderesources_parse(&cur, alloc, &s->cr, NULL, &s->err);
    s->matcher_result = SH_E_NO_MEMORY;
    if (s->result != SH_E_OK)
        return;
    s->rules = &s->cr.rules2;
    if (!s->cr.rules2.present) {
        sh_error ignored = {0};
        s->defaults_failed = sh_res_default_rules2(alloc, &s->defaults, &ignored) != SH_E_OK;
        s->rules = &s->defaults;
        if (s->defaults_failed)
            return;
    }
    s->matcher_result =
        sh_res_matcher_shared(memo, s->rules, alloc, &s->scratch, &s->m, &s->matcher_err);
}

static void seal_rules_free(seal_rules *s)
{
    sh_res_matcher_release(&s->scratch, s->m);
    if (s->rules == &s->defaults && !s->defaults_failed)
        sh_res_rules_free(s->cr.alloc, &s->defaults);
    sh_coderesources_free(&s->cr);
}

static void release_seal_rules(void *v)
{
    seal_rules_free(v);
    free(v);
}

static bool seal_rules_key(const sh_bundle_entry *e, uint8_t *key)
{
    sh_memo_key k;
    sh_memo_key_begin(&k, "CodeResources with matcher/1");
    sh_memo_key_bytes(&k, e->data, e->len);
    return sh_memo_key_end(&k, key);
}

/* The rules from the memo, or built (into *scratch, or on the heap and handed to the memo);
 * *built is what the caller must free afterwards (NULL: nothing). */
static const seal_rules *get_seal_rules(vd_ctx *x, const sh_bundle_entry *e, seal_rules *scratch,
                                        seal_rules **built)
{
    *built = NULL;
    uint8_t key[SH_VERIFY_MEMO_KEY_LEN];
    bool keyed = x->o->memo && seal_rules_key(e, key);
    const seal_rules *known = keyed ? sh_verify_memo_get(x->o->memo, key) : NULL;
    if (known)
        return known;
    seal_rules *s = keyed ? calloc(1, sizeof *s) : NULL;
    if (!s) {
        seal_rules_build(x->o->alloc, x->o->memo, e, scratch);
        *built = scratch;
        return scratch;
    }
    seal_rules_build(x->o->alloc, x->o->memo, e, s);
    /* running out of memory is not a property of the input */
    bool storable = s->result != SH_E_NO_MEMORY && !s->defaults_failed &&
                    (s->result != SH_E_OK || s->matcher_result != SH_E_NO_MEMORY);
    if (!storable || !sh_verify_memo_put(x->o->memo, key, s, release_seal_rules))
        *built = s;
    return s;
}

void vd_check_seal(vd_ctx *x, vd_code *c, const vd_code *nested, size_t nnested)
{
    if (!c->signed_any)
        return;
    char contents[SH_MAX_BUNDLE_PATH + 16], path[SH_MAX_BUNDLE_PATH + 48];
    snprintf(contents, sizeof contents, "%s%sContents", c->root, *c->root ? "/" : "");
    snprintf(path, sizeof path, "%s/_CodeSignature/CodeResources", contents);
    const sh_bundle_entry *e = sh_bundle_find(x->b, path);
    if (!e || e->kind != SH_BUNDLE_FILE) {
        c->signature_ok = false;
        vd_add(x, SH_RULE_RESOURCES_NOT_SEALED, c->root, SH_E_OK, false, "%s is missing", path);
        return;
    }
    seal_rules scratch, *built;
    const seal_rules *sr = get_seal_rules(x, e, &scratch, &built);
    if (sr->defaults_failed) {
        x->v->failure = SH_E_NO_MEMORY;
    } else if (sr->result != SH_E_OK) {
        char msg[512];
        sh_error_format(&sr->err, msg, sizeof msg);
        c->signature_ok = false;
        vd_add(x, SH_RULE_RESOURCES_NOT_SEALED, c->root, sr->result, false, "%s: %s", path, msg);
    } else if (sr->matcher_result == SH_E_OK) {
        seal_ctx s = {x, c, 0, 0};
        walk(&s, &sr->cr, sr->m, contents, nested, nnested);
        if (s.dropped)
            vd_add(x, SH_RULE_RESOURCE_MODIFIED, c->root, SH_E_OK, true,
                   "%zu more resource-seal findings not listed", s.dropped);
    } else {
        c->signature_ok = false;
        vd_add(x, SH_RULE_RESOURCES_NOT_SEALED, c->root, sr->matcher_err.code, false,
               "rules2 do not compile");
    }
    if (built) {
        seal_rules_free(built);
        if (built != &scratch)
            free(built);
    }
}
