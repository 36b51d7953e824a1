/* _CodeSignature/CodeResources for one bundle of an sh_bundle: the entries under
 * <root>/Contents, classified with the same rules2 the writer seals with, nested code sealed by
 * its cdhash and designated requirement (bundle_nested.c). */
#include "bundle_signer_internal.h"

#include <string.h>

#include "signer_internal.h"

/* Apple's default nested rule lists Frameworks, SharedFrameworks, PlugIns, Plug-ins,
 * XPCServices, Helpers, MacOS and Library/(Automator|Spotlight|LoginItems), not
 * Library/SystemExtensions.  Under the defaults an embedded .systemextension would be sealed
 * file by file; the product requires it sealed as nested code (cdhash + designated requirement),
 * which is what an explicit nested rule of the defaults' weight gives.  Inferred, confidence L:
 * it is not known which rule Xcode's codesign invocation actually seals system extensions with. */
const sh_crw_rule sh_bsign_sysext_rule = {"^Library/SystemExtensions/", false, false, true, 10};

typedef struct seal {
    const sh_bundle *b;
    const char *exe_path;
    size_t base_len; /* of "<root>/Contents" */
    sh_res_rules rules2;
    const sh_res_matcher *m2; /* shared through the memo, or &m2_scratch */
    sh_res_matcher m2_scratch;
    bool *nested_dir;      /* per bundle entry: a directory sealed as nested code */
    sh_crw_entry *entries; /* what the writer gets */
    char **owned;          /* per entry: the string it owns (symlink target, requirement) */
    size_t n;
    sh_sign_result *r;
} seal;

static bool is_top(const char *rel, const char *name)
{
    size_t n = strlen(name);
    return strncmp(rel, name, n) == 0 && (rel[n] == '\0' || rel[n] == '/');
}

/* Whether an ancestor of path (below Contents) was sealed as nested code. */
static bool inside_nested(const seal *s, const char *path)
{
    char prefix[SH_BSIGN_PATH_SIZE];
    size_t len = strlen(path); /* clean bundle path: < SH_BSIGN_PATH_SIZE */
    for (size_t i = s->base_len + 1; i < len; i++) {
        if (path[i] != '/')
            continue;
        memcpy(prefix, path, i);
        prefix[i] = '\0';
        const sh_bundle_entry *e = sh_bundle_find(s->b, prefix);
        if (e && s->nested_dir[e - s->b->entries])
            return true;
    }
    return false;
}

static sh_sign_status rule_is_nested(const seal *s, const char *rel, bool *nested)
{
    sh_res_match m;
    sh_error err;
    if (sh_res_matcher_match(s->m2, rel, &m, &err) != SH_E_OK)
        return sh_sign_fail(s->r, SH_SIGN_FAILED, "resource rules cannot match %s", rel);
    *nested = m.rule && !m.rule->omit && m.rule->nested;
    return SH_SIGN_OK;
}

static sh_sign_status add_nested(seal *s, const sh_bundle_entry *e, sh_crw_entry *out,
                                 char **owned)
{
    out->kind = SH_CRW_NESTED;
    if (e->kind == SH_BUNDLE_FILE)
        return sh_bsign_macho_seal(e->data, e->len, NULL, s->b->alloc, e->path, out->cdhash,
                                   owned, s->r);
    return sh_bsign_bundle_seal(s->b, e->path, out->cdhash, owned, s->r);
}

static sh_sign_status add_entry(seal *s, size_t index)
{
    const sh_bundle_entry *e = &s->b->entries[index];
    const char *rel = e->path + s->base_len + 1;
    bool nested = false;
    sh_sign_status st = rule_is_nested(s, rel, &nested);
    if (st != SH_SIGN_OK)
        return st;
    if (e->kind == SH_BUNDLE_DIR) {
        const char *name = strrchr(rel, '/');
        if (!nested || !strchr(name ? name + 1 : rel, '.'))
            return SH_SIGN_OK; /* an ordinary directory: its files are listed one by one */
    }
    sh_crw_entry *out = &s->entries[s->n];
    char **owned = &s->owned[s->n];
    memset(out, 0, sizeof *out);
    out->path = rel;
    if (e->kind == SH_BUNDLE_SYMLINK) {
        if (!(*owned = sh_calloc(s->b->alloc, 1, e->len + 1)))
            return sh_sign_fail(s->r, SH_SIGN_FAILED, "out of memory (symlink target)");
        memcpy(*owned, e->data, e->len);
        out->kind = SH_CRW_SYMLINK;
        out->target = *owned;
    } else if (nested) { /* a bundle directory, or a code file such as MacOS/helper */
        st = add_nested(s, e, out, owned);
        out->requirement = *owned;
        s->nested_dir[index] = e->kind == SH_BUNDLE_DIR;
    } else {
        out->kind = SH_CRW_FILE;
        out->data = e->data;
        out->len = e->len;
    }
    s->n += st == SH_SIGN_OK;
    return st;
}

static sh_sign_status collect(seal *s, const char *contents)
{
    const sh_bundle *b = s->b;
    for (size_t i = sh_bundle_lower_bound(b, contents); i < b->count; i++) {
        const char *path = b->entries[i].path;
        if (strncmp(path, contents, s->base_len) != 0)
            break; /* past every path starting with "<root>/Contents" */
        if (path[s->base_len] != '/' || is_top(path + s->base_len + 1, "_CodeSignature") ||
            strcmp(path, s->exe_path) == 0 || inside_nested(s, path))
            continue; /* a sibling such as "Contents.x", the old seal, the main executable */
        sh_sign_status st = add_entry(s, i);
        if (st != SH_SIGN_OK)
            return st;
    }
    return SH_SIGN_OK;
}

static sh_sign_status seal_init(seal *s, const sh_bundle *b, const char *exe_path,
                                struct sh_verify_memo *memo, sh_sign_result *r)
{
    memset(s, 0, sizeof *s);
    s->b = b;
    s->exe_path = exe_path;
    s->r = r;
    sh_crw_error cerr = {0};
    sh_error err;
    if (sh_crw_rules2(&sh_bsign_sysext_rule, 1, b->alloc, &s->rules2, &cerr) != SH_W_OK)
        return sh_sign_fail(r, SH_SIGN_FAILED, "resource rules: %s", cerr.what);
    if (sh_res_matcher_shared(memo, &s->rules2, b->alloc, &s->m2_scratch, &s->m2, &err) !=
        SH_E_OK)
        return sh_sign_fail(r, SH_SIGN_FAILED, "resource rules do not compile");
    size_t n = b->count ? b->count : 1;
    s->nested_dir = sh_calloc(b->alloc, n, sizeof *s->nested_dir);
    s->entries = sh_calloc(b->alloc, n, sizeof *s->entries);
    s->owned = sh_calloc(b->alloc, n, sizeof *s->owned);
    if (!s->nested_dir || !s->entries || !s->owned)
        return sh_sign_fail(r, SH_SIGN_FAILED, "out of memory (resource list)");
    return SH_SIGN_OK;
}

static void seal_free(seal *s)
{
    const sh_allocator *a = s->b->alloc;
    for (size_t i = 0; s->owned && i < s->b->count; i++)
        sh_free(a, s->owned[i]);
    sh_free(a, s->owned);
    sh_free(a, s->entries);
    sh_free(a, s->nested_dir);
    sh_res_matcher_release(&s->m2_scratch, s->m2);
    sh_res_rules_free(a, &s->rules2);
}

sh_sign_status sh_bsign_seal(const sh_bundle *b, const char *root, const char *exe_path,
                             struct sh_verify_memo *memo, sh_bytebuf *out, sh_sign_result *r)
{
    char contents[SH_BSIGN_PATH_SIZE];
    if (!sh_bsign_join(root, NULL, contents, sizeof contents))
        return sh_sign_fail(r, SH_SIGN_MALFORMED, "bundle path too long: %s", root);
    seal s;
    sh_sign_status st = seal_init(&s, b, exe_path, memo, r);
    s.base_len = strlen(contents);
    if (st == SH_SIGN_OK)
        st = collect(&s, contents);
    sh_crw_error cerr = {0};
    sh_crw_options crw_opt = {.memo = memo};
    if (st == SH_SIGN_OK &&
        sh_crw_write_rules(s.entries, s.n, &crw_opt, &sh_bsign_sysext_rule, 1, b->alloc, out,
                           &cerr) !=
            SH_W_OK)
        st = sh_sign_fail(r, cerr.status == SH_W_NO_MEMORY ? SH_SIGN_FAILED : SH_SIGN_MALFORMED,
                          "CodeResources for %s/Contents: %s%s%s", root[0] ? root : ".", cerr.what,
                          cerr.path[0] ? " at " : "", cerr.path);
    seal_free(&s);
    return st;
}
