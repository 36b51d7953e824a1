/* The bounded JSON reader (json_read.h). */
#include "json_read.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cursor.h"
#include "plist_guard.h" /* sh_utf8_next */

typedef struct jp {
    sh_cursor c;
    const sh_allocator *alloc;
    size_t nodes;
    char *why;
    size_t why_size;
    bool failed;
} jp;

__attribute__((format(printf, 2, 3))) static bool jfail(jp *p, const char *fmt, ...)
{
    if (p->failed)
        return false;
    p->failed = true;
    char msg[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (p->why && p->why_size)
        snprintf(p->why, p->why_size, "offset %llu: %s", (unsigned long long)sh_cursor_pos(&p->c),
                 msg);
    return false;
}

static bool peek(const jp *p, uint8_t *out)
{
    sh_cursor c = p->c;
    return sh_cursor_u8(&c, out);
}

static void skip_ws(jp *p)
{
    uint8_t ch;
    while (peek(p, &ch) && (ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r'))
        sh_cursor_skip(&p->c, 1);
}

static bool literal(jp *p, const char *word)
{
    size_t n = strlen(word);
    char buf[8];
    sh_cursor c = p->c;
    if (!sh_cursor_copy(&c, buf, n) || memcmp(buf, word, n) != 0)
        return jfail(p, "unexpected text");
    p->c = c;
    return true;
}

static bool put_utf8(char *out, size_t *n, uint32_t cp)
{
    if (cp < 0x80) {
        out[(*n)++] = (char)cp;
    } else if (cp < 0x800) {
        out[(*n)++] = (char)(0xc0 | (cp >> 6));
        out[(*n)++] = (char)(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
        out[(*n)++] = (char)(0xe0 | (cp >> 12));
        out[(*n)++] = (char)(0x80 | ((cp >> 6) & 0x3f));
        out[(*n)++] = (char)(0x80 | (cp & 0x3f));
    } else {
        out[(*n)++] = (char)(0xf0 | (cp >> 18));
        out[(*n)++] = (char)(0x80 | ((cp >> 12) & 0x3f));
        out[(*n)++] = (char)(0x80 | ((cp >> 6) & 0x3f));
        out[(*n)++] = (char)(0x80 | (cp & 0x3f));
    }
    return true;
}

static bool hex4(jp *p, uint32_t *out)
{
    *out = 0;
    for (int i = 0; i < 4; i++) {
        uint8_t ch;
        if (!sh_cursor_u8(&p->c, &ch))
            return jfail(p, "truncated \\u escape");
        uint32_t d = ch >= '0' && ch <= '9'   ? (uint32_t)(ch - '0')
                     : ch >= 'a' && ch <= 'f' ? (uint32_t)(ch - 'a' + 10)
                     : ch >= 'A' && ch <= 'F' ? (uint32_t)(ch - 'A' + 10)
                                              : 16u;
        if (d == 16)
            return jfail(p, "bad \\u escape");
        *out = *out << 4 | d;
    }
    return true;
}

static bool escape(jp *p, char *out, size_t *n)
{
    uint8_t ch;
    if (!sh_cursor_u8(&p->c, &ch))
        return jfail(p, "truncated escape");
    static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
    const char *k = ch ? strchr(from, ch) : NULL;
    if (k) {
        out[(*n)++] = to[k - from];
        return true;
    }
    if (ch != 'u')
        return jfail(p, "unknown escape \\%c", ch >= 0x20 && ch < 0x7f ? ch : '?');
    uint32_t cp;
    if (!hex4(p, &cp))
        return false;
    if (cp >= 0xd800 && cp < 0xdc00) {
        uint32_t lo;
        char two[2];
        sh_cursor pair = p->c;
        if (!sh_cursor_copy(&pair, two, 2) || two[0] != '\\' || two[1] != 'u')
            return jfail(p, "unpaired surrogate");
        p->c = pair;
        if (!hex4(p, &lo) || lo < 0xdc00 || lo >= 0xe000)
            return jfail(p, "unpaired surrogate");
        cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
    } else if (cp >= 0xdc00 && cp < 0xe000) {
        return jfail(p, "unpaired surrogate");
    }
    if (cp == 0)
        return jfail(p, "\\u0000 in a string");
    return put_utf8(out, n, cp);
}

/* After the opening quote.  The decoded form is never longer than the encoded one. */
static bool string(jp *p, char **out, size_t *out_len)
{
    sh_cursor start = p->c;
    size_t n = 0;
    /* First pass: find the closing quote to size the buffer. */
    sh_cursor scan = p->c;
    for (;;) {
        uint8_t ch;
        if (!sh_cursor_u8(&scan, &ch))
            return jfail(p, "unterminated string");
        if (ch == '"')
            break;
        if (ch == '\\' && !sh_cursor_skip(&scan, 1))
            return jfail(p, "unterminated string");
    }
    size_t cap = sh_cursor_pos(&scan) - sh_cursor_pos(&start);
    char *buf = sh_calloc(p->alloc, cap + 1, 1);
    if (!buf)
        return jfail(p, "out of memory");
    for (;;) {
        sh_cursor before = p->c;
        uint8_t ch;
        if (!peek(p, &ch) || (ch == '"' && sh_cursor_skip(&p->c, 1)))
            break;
        if (ch < 0x20) {
            sh_free(p->alloc, buf);
            return jfail(p, "control character in a string");
        }
        if (ch == '\\') {
            sh_cursor_skip(&p->c, 1);
            if (!escape(p, buf, &n) || n > cap) {
                sh_free(p->alloc, buf);
                return jfail(p, "bad escape");
            }
            continue;
        }
        uint32_t cp;
        if (!sh_utf8_next(&p->c, &cp)) {
            sh_free(p->alloc, buf);
            return jfail(p, "invalid UTF-8");
        }
        size_t used = sh_cursor_pos(&p->c) - sh_cursor_pos(&before);
        if (n + used > cap || !sh_cursor_copy(&before, buf + n, used)) {
            sh_free(p->alloc, buf);
            return jfail(p, "string overflow");
        }
        n += used;
    }
    buf[n] = '\0';
    *out = buf;
    *out_len = n;
    return true;
}

static bool number(jp *p, int64_t *out)
{
    bool neg = false;
    uint8_t ch;
    if (peek(p, &ch) && ch == '-') {
        neg = true;
        sh_cursor_skip(&p->c, 1);
    }
    uint64_t v = 0;
    size_t digits = 0;
    while (peek(p, &ch) && ch >= '0' && ch <= '9') {
        if (digits == 1 && v == 0)
            return jfail(p, "leading zero");
        if (v > (UINT64_C(1) << 62))
            return jfail(p, "number out of range");
        v = v * 10 + (uint64_t)(ch - '0');
        digits++;
        sh_cursor_skip(&p->c, 1);
    }
    if (digits == 0)
        return jfail(p, "expected a value");
    if (peek(p, &ch) && (ch == '.' || ch == 'e' || ch == 'E'))
        return jfail(p, "only integers are accepted");
    *out = neg ? -(int64_t)v : (int64_t)v;
    return true;
}

static bool value(jp *p, sh_jv *v, unsigned depth);

static bool grow(jp *p, sh_jv *v, size_t *cap, bool object)
{
    if (v->count < *cap)
        return true;
    size_t ncap = *cap ? *cap * 2 : 4;
    sh_jv *items = sh_calloc(p->alloc, ncap, sizeof *items);
    char **keys = object ? sh_calloc(p->alloc, ncap, sizeof *keys) : NULL;
    if (!items || (object && !keys)) {
        sh_free(p->alloc, items);
        sh_free(p->alloc, keys);
        return jfail(p, "out of memory");
    }
    if (v->count) {
        memcpy(items, v->items, v->count * sizeof *items);
        if (object)
            memcpy(keys, v->keys, v->count * sizeof *keys);
    }
    sh_free(p->alloc, v->items);
    sh_free(p->alloc, v->keys);
    v->items = items;
    v->keys = keys;
    *cap = ncap;
    return true;
}

static bool container(jp *p, sh_jv *v, unsigned depth, bool object)
{
    if (depth >= SH_MAX_JSON_DEPTH)
        return jfail(p, "nested deeper than %u", SH_MAX_JSON_DEPTH);
    v->type = object ? SH_JV_OBJECT : SH_JV_ARRAY;
    size_t cap = 0;
    uint8_t close = object ? '}' : ']', ch;
    skip_ws(p);
    if (peek(p, &ch) && ch == close)
        return sh_cursor_skip(&p->c, 1);
    for (;;) {
        if (!grow(p, v, &cap, object))
            return false;
        skip_ws(p);
        if (object) {
            size_t klen;
            if (!peek(p, &ch) || ch != '"')
                return jfail(p, "expected a key");
            sh_cursor_skip(&p->c, 1);
            if (!string(p, &v->keys[v->count], &klen))
                return false;
            skip_ws(p);
            if (!peek(p, &ch) || ch != ':') {
                v->count++; /* the key is freed with the object */
                return jfail(p, "expected ':'");
            }
            sh_cursor_skip(&p->c, 1);
        }
        bool ok = value(p, &v->items[v->count], depth + 1);
        v->count++;
        if (!ok)
            return false;
        skip_ws(p);
        if (!peek(p, &ch))
            return jfail(p, "unterminated %s", object ? "object" : "array");
        if (ch != close && ch != ',')
            return jfail(p, "expected ',' or '%c'", close);
        sh_cursor_skip(&p->c, 1);
        if (ch == close)
            return true;
    }
}

static bool value(jp *p, sh_jv *v, unsigned depth)
{
    if (++p->nodes > SH_MAX_JSON_NODES)
        return jfail(p, "more than %u values", SH_MAX_JSON_NODES);
    skip_ws(p);
    uint8_t ch;
    if (!peek(p, &ch))
        return jfail(p, "expected a value");
    switch (ch) {
    case '{': sh_cursor_skip(&p->c, 1); return container(p, v, depth, true);
    case '[': sh_cursor_skip(&p->c, 1); return container(p, v, depth, false);
    case '"':
        sh_cursor_skip(&p->c, 1);
        v->type = SH_JV_STRING;
        return string(p, &v->s, &v->len);
    case 't': v->type = SH_JV_BOOL; v->b = true; return literal(p, "true");
    case 'f': v->type = SH_JV_BOOL; return literal(p, "false");
    case 'n': v->type = SH_JV_NULL; return literal(p, "null");
    default: v->type = SH_JV_INT; return number(p, &v->i);
    }
}

/* Iterative over siblings, recursive over depth (bounded by SH_MAX_JSON_DEPTH). */
static void free_value(const sh_allocator *a, sh_jv *v)
{
    for (size_t i = 0; i < v->count; i++) {
        free_value(a, &v->items[i]);
        if (v->keys)
            sh_free(a, v->keys[i]);
    }
    sh_free(a, v->items);
    sh_free(a, v->keys);
    sh_free(a, v->s);
    memset(v, 0, sizeof *v);
}

void sh_json_doc_free(sh_json_doc *doc)
{
    free_value(doc->alloc, &doc->root);
}

bool sh_json_parse(const uint8_t *data, size_t len, const sh_allocator *alloc, sh_json_doc *out,
                   char *why, size_t why_size)
{
    memset(out, 0, sizeof *out);
    out->alloc = alloc;
    jp p = {sh_cursor_make(data, len), alloc, 0, why, why_size, false};
    if (len > SH_MAX_JSON_SIZE)
        return jfail(&p, "larger than %zu bytes", SH_MAX_JSON_SIZE);
    bool ok = value(&p, &out->root, 0);
    skip_ws(&p);
    if (ok && sh_cursor_len(&p.c) != 0)
        ok = jfail(&p, "data after the document");
    if (!ok)
        sh_json_doc_free(out);
    return ok;
}

const sh_jv *sh_jv_get(const sh_jv *v, const char *key)
{
    if (!v || v->type != SH_JV_OBJECT)
        return NULL;
    for (size_t i = 0; i < v->count; i++)
        if (!strcmp(v->keys[i], key))
            return &v->items[i];
    return NULL;
}

const char *sh_jv_get_string(const sh_jv *v, const char *key)
{
    const sh_jv *m = sh_jv_get(v, key);
    return m && m->type == SH_JV_STRING ? m->s : NULL;
}

bool sh_jv_get_int(const sh_jv *v, const char *key, int64_t *out)
{
    const sh_jv *m = sh_jv_get(v, key);
    if (!m || m->type != SH_JV_INT)
        return false;
    *out = m->i;
    return true;
}
