/* CodeResources writer (coderesources_writer.h).
 *
 * Sort order: CoreFoundation's XML writer sorts dictionary keys with CFStringCompare, options 0:
 * a literal comparison of UTF-16 code units.  The entries are sorted the same way here.  It
 * differs from UTF-8 byte order (the parser's) only between U+E000..U+FFFF and supplementary
 * characters (U+10000 up), which UTF-16 puts first (their surrogates are 0xD800..0xDFFF). */
#define _POSIX_C_SOURCE 200809L /* strnlen */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coderesources_writer.h"
#include "hash.h"

/* ---- errors ---- */

void sh_crw_error_set(sh_crw_error *err, sh_write_status status, const char *what,
                      const char *path, int sys_errno)
{
    if (err == NULL)
        return;
    err->status = status;
    err->what = what;
    err->sys_errno = sys_errno;
    size_t n = path != NULL ? strnlen(path, sizeof err->path) : 0;
    if (n == sizeof err->path) {
        n = sizeof err->path - 4;
        memcpy(err->path + n, "...", 4);
    } else {
        err->path[n] = '\0';
    }
    if (n)
        memcpy(err->path, path, n);
}

static sh_write_status crw_fail(sh_crw_error *err, sh_write_status st, const char *what,
                                const char *path)
{
    sh_crw_error_set(err, st, what, path, 0);
    return st;
}

/* ---- Apple's v1 default rules ---- */

static const struct {
    const char *pattern;
    bool plain, omit, optional;
    uint32_t weight;
} DEFAULT_RULES1[] = {
    {"^version.plist$", true, false, false, 1},
    {"^Resources/", true, false, false, 1},
    {"^Resources/.*\\.lproj/", false, false, true, 1000},
    {"^Resources/Base\\.lproj/", false, false, false, 1010},
    {"^Resources/.*\\.lproj/locversion.plist$", false, true, false, 1100},
};

static int rule_cmp(const void *a, const void *b)
{
    const sh_res_rule *x = a, *y = b;
    return strcmp(x->pattern, y->pattern);
}

sh_write_status sh_crw_default_rules1(const sh_allocator *alloc, sh_res_rules *out)
{
    const size_t n = sizeof DEFAULT_RULES1 / sizeof DEFAULT_RULES1[0];
    memset(out, 0, sizeof *out);
    out->items = sh_calloc(alloc, n, sizeof *out->items);
    if (out->items == NULL)
        return SH_W_NO_MEMORY;
    out->present = true;
    for (size_t i = 0; i < n; i++) {
        sh_res_rule *r = &out->items[i];
        size_t len = strlen(DEFAULT_RULES1[i].pattern);
        r->pattern = sh_calloc(alloc, len + 1, 1);
        if (r->pattern == NULL) {
            sh_res_rules_free(alloc, out);
            return SH_W_NO_MEMORY;
        }
        memcpy(r->pattern, DEFAULT_RULES1[i].pattern, len);
        r->pattern_len = len;
        r->plain = DEFAULT_RULES1[i].plain;
        r->omit = DEFAULT_RULES1[i].omit;
        r->optional = DEFAULT_RULES1[i].optional;
        r->weight = DEFAULT_RULES1[i].weight;
        out->count = i + 1;
    }
    qsort(out->items, out->count, sizeof *out->items, rule_cmp);
    return SH_W_OK;
}

/* ---- text checks ---- */

/* Length of the UTF-8 sequence at s (strict: no overlongs, surrogates or > U+10FFFF), 0 if bad. */
static size_t utf8_seq(const unsigned char *s)
{
    unsigned c = s[0];
    if (c < 0x80)
        return 1;
    size_t n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 ? 2 : 0;
    if (n == 0 || c > 0xF4)
        return 0;
    for (size_t i = 1; i < n; i++)
        if ((s[i] & 0xC0) != 0x80)
            return 0;
    if ((c == 0xE0 && s[1] < 0xA0) || (c == 0xED && s[1] >= 0xA0) || (c == 0xF0 && s[1] < 0x90) ||
        (c == 0xF4 && s[1] >= 0x90))
        return 0;
    return n;
}

/* UTF-8, no control characters (XML 1.0 cannot carry most of them), 1..max bytes. */
static bool text_ok(const char *s, size_t max)
{
    if (s == NULL)
        return false;
    size_t i = 0;
    while (s[i] != '\0') {
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return false;
        size_t n = utf8_seq((const unsigned char *)s + i);
        if (n == 0 || i > max - n)
            return false;
        i += n;
    }
    return i > 0;
}

/* text_ok plus: no leading or trailing '/', no empty, "." or ".." component. */
static bool path_ok(const char *p)
{
    if (!text_ok(p, SH_MAX_RES_PATH_LEN))
        return false;
    const char *c = p;
    for (;;) {
        const char *slash = strchr(c, '/');
        size_t n = slash ? (size_t)(slash - c) : strlen(c);
        if (n == 0 || (n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
            return false;
        if (slash == NULL)
            return true;
        c = slash + 1;
    }
}

/* ---- XML output in CoreFoundation's layout ---- */

static void put(sh_bytebuf *b, const char *s) { sh_bytebuf_append(b, s, strlen(s)); }

static void indent(sh_bytebuf *b, unsigned depth)
{
    for (unsigned i = 0; i < depth; i++)
        sh_bytebuf_u8(b, '\t');
}

/* &, < and > as entities, the rest as is (CFPropertyList's _appendEscapedString). */
static void put_escaped(sh_bytebuf *b, const char *s)
{
    for (; *s; s++) {
        if (*s == '&')
            put(b, "&amp;");
        else if (*s == '<')
            put(b, "&lt;");
        else if (*s == '>')
            put(b, "&gt;");
        else
            sh_bytebuf_u8(b, (uint8_t)*s);
    }
}

static void tagged(sh_bytebuf *b, unsigned depth, const char *tag, const char *text)
{
    indent(b, depth);
    sh_bytebuf_u8(b, '<');
    put(b, tag);
    sh_bytebuf_u8(b, '>');
    put_escaped(b, text);
    put(b, "</");
    put(b, tag);
    put(b, ">\n");
}

static void line(sh_bytebuf *b, unsigned depth, const char *s)
{
    indent(b, depth);
    put(b, s);
    sh_bytebuf_u8(b, '\n');
}

static void put_key(sh_bytebuf *b, unsigned depth, const char *k) { tagged(b, depth, "key", k); }

static void put_weight(sh_bytebuf *b, unsigned depth, uint32_t w)
{
    char num[16];
    snprintf(num, sizeof num, "%u", (unsigned)w);
    tagged(b, depth, "real", num);
}

static const char B64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static void b64_flush(sh_bytebuf *b, unsigned depth, char *buf, size_t *pos)
{
    indent(b, depth);
    sh_bytebuf_append(b, buf, *pos);
    sh_bytebuf_u8(b, '\n');
    *pos = 0;
}

/* _XMLPlistAppendDataUsingBase64: a line ends once it holds 76 - 8 * indent characters (indent
 * capped at 8), checked after each input byte, so a line may run one character over. */
static void put_data(sh_bytebuf *b, unsigned depth, const uint8_t *p, size_t n)
{
    const size_t maxline = 76 - 8 * (size_t)(depth > 8 ? 8 : depth);
    char buf[80];
    size_t pos = 0;
    line(b, depth, "<data>");
    for (size_t i = 0; i < n; i++) {
        if (i % 3 == 0) {
            buf[pos++] = B64[(p[i] >> 2) & 0x3f];
        } else if (i % 3 == 1) {
            buf[pos++] = B64[(((unsigned)p[i - 1] << 8 | p[i]) >> 4) & 0x3f];
        } else {
            buf[pos++] = B64[(((unsigned)p[i - 1] << 8 | p[i]) >> 6) & 0x3f];
            buf[pos++] = B64[p[i] & 0x3f];
        }
        if (pos >= maxline)
            b64_flush(b, depth, buf, &pos);
    }
    if (n % 3 == 1) {
        buf[pos++] = B64[(p[n - 1] << 4) & 0x30];
        buf[pos++] = '=';
        buf[pos++] = '=';
    } else if (n % 3 == 2) {
        buf[pos++] = B64[(p[n - 1] << 2) & 0x3c];
        buf[pos++] = '=';
    }
    if (pos > 0)
        b64_flush(b, depth, buf, &pos);
    line(b, depth, "</data>");
}

/* ---- rules ---- */

static void put_rule(sh_bytebuf *b, const sh_res_rule *r)
{
    put_key(b, 2, r->pattern);
    if (r->plain) {
        line(b, 2, r->omit ? "<false/>" : "<true/>");
        return;
    }
    line(b, 2, "<dict>");
    static const char *const NAMES[] = {"nested", "omit", "optional"};
    const bool on[] = {r->nested, r->omit, r->optional};
    for (size_t i = 0; i < 3; i++) {
        if (on[i]) {
            put_key(b, 3, NAMES[i]);
            line(b, 3, "<true/>");
        }
    }
    put_key(b, 3, "weight");
    put_weight(b, 3, r->weight);
    line(b, 2, "</dict>");
}

static void put_rules(sh_bytebuf *b, const char *name, const sh_res_rules *rules)
{
    put_key(b, 1, name);
    if (rules->count == 0) {
        line(b, 1, "<dict/>");
        return;
    }
    line(b, 1, "<dict>");
    for (size_t i = 0; i < rules->count; i++)
        put_rule(b, &rules->items[i]);
    line(b, 1, "</dict>");
}

/* ---- the writer's state ---- */

typedef struct crw {
    const sh_crw_entry **sorted;
    size_t count;
    const sh_crw_options *opt;
    const sh_crw_rule *extra;
    size_t n_extra;
    sh_res_rules rules1, rules2;
    const sh_res_matcher *m1, *m2; /* shared through opt->memo, or the scratch ones */
    sh_res_matcher m1_scratch, m2_scratch;
    const sh_allocator *alloc;
    sh_crw_error *err;
} crw;

/* One entry's verdict under a rule set: not in the seal, or in it with these flags. */
typedef struct verdict {
    bool sealed, optional, nested;
} verdict;

static sh_write_status classify(crw *w, const sh_res_matcher *m, const sh_crw_entry *e,
                                verdict *v)
{
    sh_res_match match;
    sh_error perr;
    memset(v, 0, sizeof *v);
    if (sh_res_matcher_match(m, e->path, &match, &perr) != SH_E_OK)
        return crw_fail(w->err, SH_W_INVALID_ARGUMENT, "rule match failed", e->path);
    if (match.rule == NULL || match.rule->omit)
        return SH_W_OK;
    v->sealed = true;
    v->optional = match.rule->optional;
    v->nested = match.rule->nested;
    return SH_W_OK;
}

static sh_write_status digests(crw *w, const sh_crw_entry *e, uint8_t sha1[SH_RES_SHA1_LEN],
                               uint8_t sha256[SH_RES_SHA256_LEN])
{
    if (e->hashed) {
        memcpy(sha1, e->sha1, SH_RES_SHA1_LEN);
        memcpy(sha256, e->sha256, SH_RES_SHA256_LEN);
        return SH_W_OK;
    }
    static const uint8_t empty[1] = {0};
    const uint8_t *p = e->data != NULL ? e->data : empty;
    if (e->data == NULL && e->len != 0)
        return crw_fail(w->err, SH_W_INVALID_ARGUMENT, "file data missing", e->path);
    if (!sh_hash(SH_HASH_SHA1, p, e->len, sha1) || !sh_hash(SH_HASH_SHA256, p, e->len, sha256))
        return crw_fail(w->err, SH_W_HASH_FAILED, "file hash", e->path);
    return SH_W_OK;
}

/* ---- files (v1) ---- */

static sh_write_status put_file1(crw *w, sh_bytebuf *b, const sh_crw_entry *e)
{
    verdict v;
    sh_write_status st = classify(w, w->m1, e, &v);
    if (st != SH_W_OK || e->kind != SH_CRW_FILE || !v.sealed)
        return st;
    uint8_t sha1[SH_RES_SHA1_LEN], sha256[SH_RES_SHA256_LEN];
    if ((st = digests(w, e, sha1, sha256)) != SH_W_OK)
        return st;
    put_key(b, 2, e->path);
    if (!v.optional && !v.nested) {
        put_data(b, 2, sha1, sizeof sha1);
        return SH_W_OK;
    }
    /* Security: {hash=%O,optional=%B} whenever the rule has flags */
    line(b, 2, "<dict>");
    put_key(b, 3, "hash");
    put_data(b, 3, sha1, sizeof sha1);
    put_key(b, 3, "optional");
    line(b, 3, v.optional ? "<true/>" : "<false/>");
    line(b, 2, "</dict>");
    return SH_W_OK;
}

/* ---- files2 ---- */

static void put_optional(sh_bytebuf *b, const verdict *v)
{
    if (v->optional) {
        put_key(b, 3, "optional");
        line(b, 3, "<true/>");
    }
}

static sh_write_status put_file2_body(crw *w, sh_bytebuf *b, const sh_crw_entry *e,
                                      const verdict *v)
{
    if (e->kind == SH_CRW_SYMLINK) {
        put_optional(b, v);
        put_key(b, 3, "symlink");
        tagged(b, 3, "string", e->target);
        return SH_W_OK;
    }
    if (e->kind == SH_CRW_NESTED) {
        put_key(b, 3, "cdhash");
        put_data(b, 3, e->cdhash, sizeof e->cdhash);
        put_optional(b, v);
        if (e->requirement != NULL) {
            put_key(b, 3, "requirement");
            tagged(b, 3, "string", e->requirement);
        }
        return SH_W_OK;
    }
    uint8_t sha1[SH_RES_SHA1_LEN], sha256[SH_RES_SHA256_LEN];
    sh_write_status st = digests(w, e, sha1, sha256);
    if (st != SH_W_OK)
        return st;
    if (w->opt->files2_sha1) {
        put_key(b, 3, "hash");
        put_data(b, 3, sha1, sizeof sha1);
    }
    put_key(b, 3, "hash2");
    put_data(b, 3, sha256, sizeof sha256);
    put_optional(b, v);
    return SH_W_OK;
}

static sh_write_status put_file2(crw *w, sh_bytebuf *b, const sh_crw_entry *e)
{
    verdict v;
    sh_write_status st = classify(w, w->m2, e, &v);
    if (st != SH_W_OK || !v.sealed)
        return st;
    if (e->kind == SH_CRW_SYMLINK)
        v.nested = false; /* "symlinks cannot ever be nested code" (ResourceBuilder::scan) */
    if (e->kind == SH_CRW_FILE && v.nested)
        return crw_fail(w->err, SH_W_INVALID_ARGUMENT, "regular file under a nested rule",
                        e->path);
    if (e->kind == SH_CRW_NESTED && !v.nested)
        return crw_fail(w->err, SH_W_INVALID_ARGUMENT, "nested code outside a nested rule",
                        e->path);
    put_key(b, 2, e->path);
    line(b, 2, "<dict>");
    st = put_file2_body(w, b, e, &v);
    line(b, 2, "</dict>");
    return st;
}

/* Writes "files" or "files2"; an empty one as <dict/>.  Entries are counted first so the empty
 * form is known before anything is written. */
static sh_write_status put_files(crw *w, sh_bytebuf *b, bool v2)
{
    sh_bytebuf tmp;
    sh_bytebuf_init(&tmp, w->alloc);
    sh_write_status st = SH_W_OK;
    for (size_t i = 0; i < w->count && st == SH_W_OK; i++)
        st = v2 ? put_file2(w, &tmp, w->sorted[i]) : put_file1(w, &tmp, w->sorted[i]);
    if (st == SH_W_OK && !sh_bytebuf_ok(&tmp))
        st = crw_fail(w->err, sh_bytebuf_status(&tmp), v2 ? "files2" : "files", NULL);
    if (st == SH_W_OK) {
        put_key(b, 1, v2 ? "files2" : "files");
        if (tmp.len == 0) {
            line(b, 1, "<dict/>");
        } else {
            line(b, 1, "<dict>");
            sh_bytebuf_append(b, tmp.data, tmp.len);
            line(b, 1, "</dict>");
        }
    }
    sh_bytebuf_free(&tmp);
    return st;
}

/* ---- setup ---- */

/* The code point at *s (valid UTF-8, checked by path_ok); advances *s. */
static uint32_t utf8_next(const unsigned char **s)
{
    const unsigned char *p = *s;
    size_t n = utf8_seq(p);
    uint32_t cp = n == 1 ? p[0] : (uint32_t)(p[0] & (0x7F >> n));
    for (size_t i = 1; i < n; i++)
        cp = cp << 6 | (p[i] & 0x3F);
    *s = p + (n ? n : 1);
    return cp;
}

/* The first UTF-16 code unit of cp. */
static uint32_t utf16_lead(uint32_t cp)
{
    return cp < 0x10000 ? cp : 0xD800 + ((cp - 0x10000) >> 10);
}

/* CFStringCompare(a, b, 0) on valid UTF-8: UTF-16 code unit order. */
static int utf16_cmp(const char *a, const char *b)
{
    const unsigned char *x = (const unsigned char *)a, *y = (const unsigned char *)b;
    while (*x != 0 && *y != 0) {
        uint32_t cx = utf8_next(&x), cy = utf8_next(&y);
        if (cx == cy)
            continue;
        uint32_t ux = utf16_lead(cx), uy = utf16_lead(cy);
        if (ux != uy)
            return ux < uy ? -1 : 1;
        return cx < cy ? -1 : 1; /* same lead surrogate: the trail surrogates follow cp order */
    }
    return (*x != 0) - (*y != 0);
}

static int entry_cmp(const void *a, const void *b)
{
    const sh_crw_entry *const *x = a, *const *y = b;
    return utf16_cmp((*x)->path, (*y)->path);
}

static sh_write_status check_entry(crw *w, const sh_crw_entry *e)
{
    if (e->path == NULL || !path_ok(e->path))
        return crw_fail(w->err, SH_W_INVALID_ARGUMENT, "bad path", e->path);
    if (e->kind == SH_CRW_SYMLINK && !text_ok(e->target, SH_MAX_RES_PATH_LEN))
        return crw_fail(w->err, SH_W_INVALID_ARGUMENT, "bad symlink target", e->path);
    if (e->kind == SH_CRW_NESTED && e->requirement != NULL &&
        !text_ok(e->requirement, SH_MAX_RES_REQUIREMENT_LEN))
        return crw_fail(w->err, SH_W_INVALID_ARGUMENT, "bad requirement text", e->path);
    if (e->kind != SH_CRW_FILE && e->kind != SH_CRW_SYMLINK && e->kind != SH_CRW_NESTED)
        return crw_fail(w->err, SH_W_INVALID_ARGUMENT, "bad entry kind", e->path);
    return SH_W_OK;
}

static sh_write_status sort_entries(crw *w, const sh_crw_entry *entries)
{
    w->sorted = sh_calloc(w->alloc, w->count ? w->count : 1, sizeof *w->sorted);
    if (w->sorted == NULL)
        return crw_fail(w->err, SH_W_NO_MEMORY, "entries", NULL);
    for (size_t i = 0; i < w->count; i++) {
        sh_write_status st = check_entry(w, &entries[i]);
        if (st != SH_W_OK)
            return st;
        w->sorted[i] = &entries[i];
    }
    if (w->count > 1)
        qsort(w->sorted, w->count, sizeof *w->sorted, entry_cmp);
    for (size_t i = 1; i < w->count; i++)
        if (strcmp(w->sorted[i - 1]->path, w->sorted[i]->path) == 0)
            return crw_fail(w->err, SH_W_INVALID_ARGUMENT, "duplicate path", w->sorted[i]->path);
    return SH_W_OK;
}

/* Sets rule r from x; the pattern is copied. */
static bool rule_set(const sh_allocator *alloc, sh_res_rule *r, const sh_crw_rule *x)
{
    size_t len = strlen(x->pattern);
    char *pattern = sh_calloc(alloc, len + 1, 1);
    if (pattern == NULL)
        return false;
    memcpy(pattern, x->pattern, len);
    sh_free(alloc, r->pattern);
    *r = (sh_res_rule){pattern, len, false, x->omit, x->optional, x->nested, x->weight};
    return true;
}

/* Merges extra into r2, keeping it sorted by pattern. */
static sh_write_status add_extra_rules(sh_res_rules *r2, const sh_crw_rule *extra, size_t n_extra,
                                       const sh_allocator *alloc, sh_crw_error *err)
{
    if (n_extra > SH_MAX_RES_RULES - r2->count)
        return crw_fail(err, SH_W_INVALID_ARGUMENT, "rules2: too many rules", NULL);
    sh_res_rule *items = sh_calloc(alloc, r2->count + n_extra, sizeof *items);
    if (items == NULL)
        return crw_fail(err, SH_W_NO_MEMORY, "rules2", NULL);
    memcpy(items, r2->items, r2->count * sizeof *items);
    sh_free(alloc, r2->items);
    r2->items = items;
    for (size_t i = 0; i < n_extra; i++) {
        const sh_crw_rule *x = &extra[i];
        if (x->pattern == NULL || x->pattern[0] == '\0' ||
            strlen(x->pattern) > SH_MAX_RES_REGEX_LEN)
            return crw_fail(err, SH_W_INVALID_ARGUMENT, "rules2: bad pattern", x->pattern);
        size_t at = 0;
        while (at < r2->count && strcmp(r2->items[at].pattern, x->pattern) != 0)
            at++;
        if (!rule_set(alloc, &r2->items[at], x))
            return crw_fail(err, SH_W_NO_MEMORY, "rules2", NULL);
        if (at == r2->count)
            r2->count++;
    }
    qsort(r2->items, r2->count, sizeof *r2->items, rule_cmp);
    return SH_W_OK;
}

sh_write_status sh_crw_rules2(const sh_crw_rule *extra, size_t n_extra, const sh_allocator *alloc,
                              sh_res_rules *out, sh_crw_error *err)
{
    sh_error perr;
    if (extra == NULL && n_extra != 0)
        return crw_fail(err, SH_W_INVALID_ARGUMENT, "arguments", NULL);
    if (sh_res_default_rules2(alloc, out, &perr) != SH_E_OK)
        return crw_fail(err, SH_W_NO_MEMORY, "default rules", NULL);
    sh_write_status st = n_extra ? add_extra_rules(out, extra, n_extra, alloc, err) : SH_W_OK;
    if (st != SH_W_OK)
        sh_res_rules_free(alloc, out);
    return st;
}

static sh_write_status setup_rules(crw *w)
{
    sh_error perr;
    if (sh_crw_default_rules1(w->alloc, &w->rules1) != SH_W_OK)
        return crw_fail(w->err, SH_W_NO_MEMORY, "default rules", NULL);
    sh_write_status st = sh_crw_rules2(w->extra, w->n_extra, w->alloc, &w->rules2, w->err);
    if (st != SH_W_OK)
        return st;
    if (sh_res_matcher_shared(w->opt->memo, &w->rules1, w->alloc, &w->m1_scratch, &w->m1,
                              &perr) != SH_E_OK)
        return crw_fail(w->err, SH_W_NO_MEMORY, "rules matcher", NULL);
    if (sh_res_matcher_shared(w->opt->memo, &w->rules2, w->alloc, &w->m2_scratch, &w->m2,
                              &perr) != SH_E_OK)
        return crw_fail(w->err,
                        perr.code == SH_E_NO_MEMORY ? SH_W_NO_MEMORY : SH_W_INVALID_ARGUMENT,
                        "rules2 matcher", NULL);
    return SH_W_OK;
}

static void crw_free(crw *w)
{
    sh_res_matcher_release(&w->m1_scratch, w->m1);
    sh_res_matcher_release(&w->m2_scratch, w->m2);
    sh_res_rules_free(w->alloc, &w->rules1);
    sh_res_rules_free(w->alloc, &w->rules2);
    sh_free(w->alloc, w->sorted);
}

static const char HEAD[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" "
    "\"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">\n"
    "<plist version=\"1.0\">\n"
    "<dict>\n";

static sh_write_status put_all(crw *w, sh_bytebuf *b)
{
    put(b, HEAD);
    sh_write_status st = w->opt->no_v1 ? SH_W_OK : put_files(w, b, false);
    if (st == SH_W_OK)
        st = put_files(w, b, true);
    if (st != SH_W_OK)
        return st;
    if (!w->opt->no_v1)
        put_rules(b, "rules", &w->rules1);
    put_rules(b, "rules2", &w->rules2);
    put(b, "</dict>\n</plist>\n");
    return sh_bytebuf_ok(b) ? SH_W_OK : crw_fail(w->err, sh_bytebuf_status(b), "output", NULL);
}

sh_write_status sh_crw_write(const sh_crw_entry *entries, size_t count, const sh_crw_options *opt,
                             const sh_allocator *alloc, sh_bytebuf *out, sh_crw_error *err)
{
    return sh_crw_write_rules(entries, count, opt, NULL, 0, alloc, out, err);
}

sh_write_status sh_crw_write_rules(const sh_crw_entry *entries, size_t count,
                                   const sh_crw_options *opt, const sh_crw_rule *extra,
                                   size_t n_extra, const sh_allocator *alloc, sh_bytebuf *out,
                                   sh_crw_error *err)
{
    static const sh_crw_options defaults = {false, false, NULL};
    if (out == NULL || (entries == NULL && count != 0) || (extra == NULL && n_extra != 0))
        return crw_fail(err, SH_W_INVALID_ARGUMENT, "arguments", NULL);
    if (count > SH_MAX_RES_ENTRIES)
        return crw_fail(err, SH_W_TOO_LARGE, "entry count", NULL);
    crw w;
    memset(&w, 0, sizeof w);
    w.count = count;
    w.opt = opt != NULL ? opt : &defaults;
    w.extra = extra;
    w.n_extra = n_extra;
    w.alloc = alloc;
    w.err = err;
    size_t start = out->len;
    sh_write_status st = sort_entries(&w, entries);
    if (st == SH_W_OK)
        st = setup_rules(&w);
    if (st == SH_W_OK)
        st = put_all(&w, out);
    if (st != SH_W_OK && !out->failed)
        out->len = start; /* nothing half-written stays in a healthy buffer */
    crw_free(&w);
    return st;
}
