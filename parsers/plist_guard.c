/* Property-list guard: see plist_guard.h for the accepted subset and why. */
#include "plist_guard.h"

#include <string.h>

/* ------------------------------------------------------------------------------------------ */
/* Small cursor helpers                                                                       */

static bool peek_at(const sh_cursor *c, uint64_t i, uint8_t *b) { return sh_cursor_u8_at(c, i, b); }

static bool peek(const sh_cursor *c, uint8_t *b) { return sh_cursor_u8_at(c, 0, b); }

/* Whether the view starts with the literal (at most 16 bytes). */
static bool at_lit(const sh_cursor *c, const char *lit)
{
    size_t n = strlen(lit);
    uint8_t buf[16];
    sh_cursor t;
    if (n > sizeof buf || !sh_cursor_sub(c, 0, n, &t) || !sh_cursor_copy(&t, buf, n))
        return false;
    return memcmp(buf, lit, n) == 0;
}

static bool is_ws(uint8_t b) { return b == ' ' || b == '\t' || b == '\r' || b == '\n'; }
static bool is_digit(uint8_t b) { return b >= '0' && b <= '9'; }
static bool is_hex(uint8_t b)
{
    return is_digit(b) || (b >= 'a' && b <= 'f') || (b >= 'A' && b <= 'F');
}
static unsigned hex_val(uint8_t b)
{
    if (is_digit(b))
        return (unsigned)(b - '0');
    if (b >= 'a' && b <= 'f')
        return (unsigned)(b - 'a' + 10);
    return (unsigned)(b - 'A' + 10);
}
static bool is_alpha(uint8_t b) { return (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z'); }

static void skip_ws(sh_cursor *c)
{
    uint8_t b;
    while (peek(c, &b) && is_ws(b))
        sh_cursor_skip(c, 1);
}

/* ------------------------------------------------------------------------------------------ */
/* UTF-8                                                                                      */

bool sh_utf8_next(sh_cursor *c, uint32_t *code_point)
{
    uint8_t b0;
    if (!peek(c, &b0))
        return false;
    uint32_t cp;
    size_t n;
    uint32_t min;
    if (b0 < 0x80) {
        *code_point = b0;
        return sh_cursor_skip(c, 1);
    } else if (b0 >= 0xC2 && b0 <= 0xDF) {
        n = 2, cp = b0 & 0x1Fu, min = 0x80;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
        n = 3, cp = b0 & 0x0Fu, min = 0x800;
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
        n = 4, cp = b0 & 0x07u, min = 0x10000;
    } else {
        return false;
    }
    for (size_t i = 1; i < n; i++) {
        uint8_t b;
        if (!peek_at(c, i, &b) || (b & 0xC0) != 0x80)
            return false;
        cp = (cp << 6) | (b & 0x3Fu);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return false;
    *code_point = cp;
    return sh_cursor_skip(c, n);
}

bool sh_utf8_valid(const sh_cursor *s, uint64_t *bad_offset)
{
    sh_cursor c = *s;
    uint32_t cp;
    while (sh_cursor_len(&c) > 0) {
        if (!sh_utf8_next(&c, &cp)) {
            if (bad_offset)
                *bad_offset = sh_cursor_pos(&c);
            return false;
        }
    }
    return true;
}

static bool xml_char(uint32_t cp)
{
    return cp == 0x9 || cp == 0xA || cp == 0xD || (cp >= 0x20 && cp <= 0xD7FF) ||
           (cp >= 0xE000 && cp <= 0xFFFD) || (cp >= 0x10000 && cp <= 0x10FFFF);
}

static size_t utf8_encode(uint32_t cp, uint8_t out[4])
{
    if (cp < 0x80) {
        out[0] = (uint8_t)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (uint8_t)(0xC0 | (cp >> 6));
        out[1] = (uint8_t)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (uint8_t)(0xE0 | (cp >> 12));
        out[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (uint8_t)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (uint8_t)(0xF0 | (cp >> 18));
    out[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (uint8_t)(0x80 | (cp & 0x3F));
    return 4;
}

/* ------------------------------------------------------------------------------------------ */
/* Format detection                                                                           */

sh_plist_format sh_plist_detect(const sh_cursor *data)
{
    if (sh_cursor_len(data) == 0)
        return SH_PLIST_FORMAT_NONE;
    return at_lit(data, "bplist") ? SH_PLIST_FORMAT_BINARY : SH_PLIST_FORMAT_XML;
}

static void stats_init(sh_plist_stats *st, sh_plist_format f)
{
    memset(st, 0, sizeof *st);
    st->format = f;
}

/* ------------------------------------------------------------------------------------------ */
/* XML                                                                                        */

enum xname {
    XN_NONE = -1,
    XN_PLIST,
    XN_DICT,
    XN_ARRAY,
    XN_KEY,
    XN_STRING,
    XN_INTEGER,
    XN_REAL,
    XN_TRUE,
    XN_FALSE,
    XN_DATE,
    XN_DATA,
};
static const char *const xnames[] = {"plist", "dict",  "array", "key",  "string", "integer",
                                     "real",  "true", "false", "date", "data"};

/* libplist's dict: linear key scan while it has <= 500 children (250 keys), then a djb2 hash
 * table of 4096 buckets (plist.c plist_dict_set_item, hashtable.c). */
#define LP_LINEAR_CHILDREN 500u
#define LP_BUCKETS 4096u

typedef struct xkey {
    size_t arena_off, len;
    uint64_t src_off; /* of the <key> element */
} xkey;

typedef struct xframe {
    int kind; /* XN_PLIST, XN_DICT, XN_ARRAY */
    uint64_t open_off;
    uint32_t nvalues;
    bool want_value; /* dict: a key was read, its value is next */
    size_t first_key, arena_mark;
} xframe;

typedef struct xml_state {
    sh_cursor c; /* what is left of the document */
    const sh_allocator *alloc;
    sh_error *err;
    sh_plist_stats *st;
    xframe frames[SH_MAX_PLIST_DEPTH + 1]; /* frames[0] is <plist> */
    uint32_t nframes;
    xkey *keys;
    size_t nkeys, keys_cap;
    uint8_t *arena;
    size_t arena_len, arena_cap;
    int32_t *heads; /* LP_BUCKETS chain heads, allocated on first use */
} xml_state;

static sh_err xfail(xml_state *x, sh_err code, const char *where, uint64_t off)
{
    return sh_fail(x->err, code, where, -1, off);
}

static uint64_t xpos(const xml_state *x) { return sh_cursor_pos(&x->c); }

static bool grow(const sh_allocator *a, void **buf, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return true;
    size_t ncap = *cap ? *cap : 64;
    while (ncap < need) {
        if (ncap > SIZE_MAX / 2)
            return false;
        ncap *= 2;
    }
    void *n = sh_calloc(a, ncap, elem);
    if (!n)
        return false;
    if (*buf && *cap)
        memcpy(n, *buf, *cap * elem);
    sh_free(a, *buf);
    *buf = n;
    *cap = ncap;
    return true;
}

static sh_err arena_put(xml_state *x, const uint8_t *p, size_t n)
{
    size_t need;
    if (n == 0)
        return SH_E_OK;
    if (__builtin_add_overflow(x->arena_len, n, &need) ||
        !grow(x->alloc, (void **)&x->arena, &x->arena_cap, need, 1))
        return xfail(x, SH_E_NO_MEMORY, "XML plist key", xpos(x));
    memcpy(x->arena + x->arena_len, p, n);
    x->arena_len = need;
    return SH_E_OK;
}

/* A comment at the cursor ("<!--" already checked): XML forbids "--" inside. */
static sh_err xml_comment(xml_state *x)
{
    uint64_t start = xpos(x);
    sh_cursor_skip(&x->c, 4);
    uint8_t b, b1, b2;
    while (peek(&x->c, &b)) {
        if (b == '-' && peek_at(&x->c, 1, &b1) && b1 == '-') {
            if (peek_at(&x->c, 2, &b2) && b2 == '>') {
                sh_cursor_skip(&x->c, 3);
                return SH_E_OK;
            }
            return xfail(x, SH_E_PLIST_XML_COMMENT, "XML comment (\"--\" inside)", xpos(x));
        }
        sh_cursor_skip(&x->c, 1);
    }
    return xfail(x, SH_E_PLIST_XML_COMMENT, "XML comment (unterminated)", start);
}

/* Whitespace and comments. */
static sh_err xml_misc(xml_state *x)
{
    for (;;) {
        skip_ws(&x->c);
        if (!at_lit(&x->c, "<!--"))
            return SH_E_OK;
        sh_err e = xml_comment(x);
        if (e)
            return e;
    }
}

/* <?xml version="1.0" encoding="UTF-8" standalone="yes"?> at offset 0. */
static sh_err xml_decl(xml_state *x)
{
    uint64_t start = xpos(x);
    sh_cursor_skip(&x->c, 5);
    for (;;) {
        uint8_t b;
        bool had_ws = false;
        while (peek(&x->c, &b) && is_ws(b)) {
            had_ws = true;
            sh_cursor_skip(&x->c, 1);
        }
        if (at_lit(&x->c, "?>")) {
            sh_cursor_skip(&x->c, 2);
            return SH_E_OK;
        }
        if (!had_ws)
            return xfail(x, SH_E_PLIST_XML_PI, "XML declaration (malformed)", xpos(x));
        char name[16];
        size_t n = 0;
        while (peek(&x->c, &b) && is_alpha(b) && n < sizeof name - 1) {
            name[n++] = (char)b;
            sh_cursor_skip(&x->c, 1);
        }
        name[n] = 0;
        if (strcmp(name, "version") && strcmp(name, "encoding") && strcmp(name, "standalone"))
            return xfail(x, SH_E_PLIST_XML_PI, "XML declaration (unknown pseudo-attribute)",
                         xpos(x));
        skip_ws(&x->c);
        if (!peek(&x->c, &b) || b != '=')
            return xfail(x, SH_E_PLIST_XML_PI, "XML declaration (malformed)", xpos(x));
        sh_cursor_skip(&x->c, 1);
        skip_ws(&x->c);
        uint8_t q;
        if (!peek(&x->c, &q) || (q != '"' && q != '\''))
            return xfail(x, SH_E_PLIST_XML_PI, "XML declaration (malformed)", xpos(x));
        sh_cursor_skip(&x->c, 1);
        uint64_t voff = xpos(x);
        char val[16];
        size_t vn = 0;
        bool long_value = false;
        for (;;) {
            if (!peek(&x->c, &b))
                return xfail(x, SH_E_PLIST_XML_PI, "XML declaration (unterminated)", start);
            if (b == q)
                break;
            if (b == '<' || b == '>' || b == '&' || b == '"' || b == '\'')
                return xfail(x, SH_E_PLIST_XML_PI, "XML declaration (malformed)", xpos(x));
            if (vn < sizeof val - 1)
                val[vn++] = (char)b;
            else
                long_value = true;
            sh_cursor_skip(&x->c, 1);
        }
        val[vn] = 0;
        sh_cursor_skip(&x->c, 1);
        if (!strcmp(name, "encoding")) {
            bool utf8 = !long_value && vn == 5 && (val[0] == 'u' || val[0] == 'U') &&
                        (val[1] == 't' || val[1] == 'T') && (val[2] == 'f' || val[2] == 'F') &&
                        val[3] == '-' && val[4] == '8';
            if (!utf8)
                return xfail(x, SH_E_PLIST_XML_PI, "XML declaration (encoding is not UTF-8)",
                             voff);
        }
    }
}

/* <!DOCTYPE ...> without an internal subset. */
static sh_err xml_doctype(xml_state *x)
{
    uint64_t start = xpos(x);
    sh_cursor_skip(&x->c, 9);
    uint8_t b;
    if (!peek(&x->c, &b) || !is_ws(b))
        return xfail(x, SH_E_PLIST_XML_DTD, "XML DOCTYPE (malformed)", start);
    unsigned quotes = 0;
    while (peek(&x->c, &b)) {
        if (b == '[')
            return xfail(x, SH_E_PLIST_XML_DTD, "XML DOCTYPE (internal subset)", xpos(x));
        if (b == '<')
            return xfail(x, SH_E_PLIST_XML_DTD, "XML DOCTYPE (malformed)", xpos(x));
        if (b == '"')
            quotes++;
        if (b == '>') {
            /* libplist skips "quoted" parts looking for '>': an odd count means it would not
             * end the DOCTYPE where XML does. */
            if (quotes % 2)
                return xfail(x, SH_E_PLIST_XML_DTD, "XML DOCTYPE (unbalanced quotes)", xpos(x));
            sh_cursor_skip(&x->c, 1);
            return SH_E_OK;
        }
        sh_cursor_skip(&x->c, 1);
    }
    return xfail(x, SH_E_PLIST_XML_DTD, "XML DOCTYPE (unterminated)", start);
}

/* An element name at the cursor (after '<' or "</"). */
static int xml_name(xml_state *x, uint64_t tag_off, sh_err *e)
{
    char name[16];
    size_t n = 0;
    uint8_t b;
    bool too_long = false;
    while (peek(&x->c, &b) &&
           (is_alpha(b) || is_digit(b) || b == '_' || b == ':' || b == '-' || b == '.')) {
        if (n < sizeof name - 1)
            name[n++] = (char)b;
        else
            too_long = true;
        sh_cursor_skip(&x->c, 1);
    }
    name[n] = 0;
    if (n == 0) {
        *e = xfail(x, SH_E_PLIST_XML_SYNTAX, "XML tag (no element name)", tag_off);
        return XN_NONE;
    }
    if (!too_long)
        for (size_t i = 0; i < sizeof xnames / sizeof xnames[0]; i++)
            if (!strcmp(name, xnames[i])) {
                *e = SH_E_OK;
                return (int)i;
            }
    *e = xfail(x, SH_E_PLIST_XML_UNKNOWN_ELEMENT, "XML element", tag_off);
    return XN_NONE;
}

/* A start tag at the cursor ('<' seen, not "</", "<!" or "<?"). */
static sh_err xml_start_tag(xml_state *x, bool allow_attrs, int *name, bool *empty)
{
    uint64_t tag_off = xpos(x);
    sh_cursor_skip(&x->c, 1);
    sh_err e;
    *name = xml_name(x, tag_off, &e);
    if (e)
        return e;
    uint8_t b;
    for (;;) {
        bool had_ws = false;
        while (peek(&x->c, &b) && is_ws(b)) {
            had_ws = true;
            sh_cursor_skip(&x->c, 1);
        }
        if (!peek(&x->c, &b))
            return xfail(x, SH_E_PLIST_XML_SYNTAX, "XML tag (unterminated)", tag_off);
        if (b == '>') {
            sh_cursor_skip(&x->c, 1);
            *empty = false;
            return SH_E_OK;
        }
        if (b == '/') {
            uint8_t b1;
            if (!peek_at(&x->c, 1, &b1) || b1 != '>')
                return xfail(x, SH_E_PLIST_XML_SYNTAX, "XML tag ('/' not followed by '>')",
                             xpos(x));
            sh_cursor_skip(&x->c, 2);
            *empty = true;
            return SH_E_OK;
        }
        if (!allow_attrs)
            return xfail(x, SH_E_PLIST_XML_SYNTAX, "XML tag (attribute on a plist value element)",
                         xpos(x));
        if (!had_ws)
            return xfail(x, SH_E_PLIST_XML_SYNTAX, "XML tag (malformed)", xpos(x));
        size_t n = 0;
        while (peek(&x->c, &b) && (is_alpha(b) || is_digit(b) || b == '_' || b == ':' ||
                                   b == '-' || b == '.')) {
            n++;
            sh_cursor_skip(&x->c, 1);
        }
        if (n == 0)
            return xfail(x, SH_E_PLIST_XML_SYNTAX, "XML attribute (no name)", xpos(x));
        skip_ws(&x->c);
        if (!peek(&x->c, &b) || b != '=')
            return xfail(x, SH_E_PLIST_XML_SYNTAX, "XML attribute (no '=')", xpos(x));
        sh_cursor_skip(&x->c, 1);
        skip_ws(&x->c);
        uint8_t q;
        if (!peek(&x->c, &q) || (q != '"' && q != '\''))
            return xfail(x, SH_E_PLIST_XML_SYNTAX, "XML attribute (unquoted value)", xpos(x));
        sh_cursor_skip(&x->c, 1);
        for (;;) {
            if (!peek(&x->c, &b))
                return xfail(x, SH_E_PLIST_XML_SYNTAX, "XML tag (unterminated)", tag_off);
            if (b == q)
                break;
            /* libplist only knows double quotes: no quote of either kind inside a value, no
             * markup characters. */
            if (b == '<' || b == '>' || b == '&' || b == '"' || b == '\'')
                return xfail(x, SH_E_PLIST_XML_SYNTAX, "XML attribute value", xpos(x));
            sh_cursor_skip(&x->c, 1);
        }
        sh_cursor_skip(&x->c, 1);
    }
}

/* "</name" ws* ">" at the cursor for the element expected. */
static sh_err xml_end_tag(xml_state *x, int expected)
{
    uint64_t tag_off = xpos(x);
    sh_cursor_skip(&x->c, 2);
    sh_err e;
    int name = xml_name(x, tag_off, &e);
    if (e)
        return e;
    skip_ws(&x->c);
    uint8_t b;
    if (!peek(&x->c, &b) || b != '>')
        return xfail(x, SH_E_PLIST_XML_SYNTAX, "XML closing tag (malformed)", tag_off);
    sh_cursor_skip(&x->c, 1);
    if (name != expected)
        return xfail(x, SH_E_PLIST_XML_MISMATCHED_TAG, xnames[expected], tag_off);
    return SH_E_OK;
}

/* An entity reference at the cursor ('&').  Returns the code point it stands for. */
static sh_err xml_entity(xml_state *x, uint32_t *cp)
{
    uint64_t start = xpos(x);
    char ent[10];
    size_t n = 0;
    uint8_t b;
    sh_cursor_skip(&x->c, 1);
    for (;;) {
        if (!peek(&x->c, &b) || n >= 9)
            return xfail(x, SH_E_PLIST_XML_ENTITY, "XML entity (no ';' within 8 characters)",
                         start);
        sh_cursor_skip(&x->c, 1);
        if (b == ';')
            break;
        ent[n++] = (char)b;
    }
    ent[n] = 0;
    /* libplist refuses references longer than 8 characters between '&' and ';'. */
    if (n == 0 || n > 8)
        return xfail(x, SH_E_PLIST_XML_ENTITY, "XML entity (length)", start);
    if (!strcmp(ent, "amp"))
        *cp = '&';
    else if (!strcmp(ent, "lt"))
        *cp = '<';
    else if (!strcmp(ent, "gt"))
        *cp = '>';
    else if (!strcmp(ent, "quot"))
        *cp = '"';
    else if (!strcmp(ent, "apos"))
        *cp = '\'';
    else if (ent[0] == '#') {
        bool hex = ent[1] == 'x' || ent[1] == 'X';
        size_t i = hex ? 2 : 1;
        if (i >= n)
            return xfail(x, SH_E_PLIST_XML_ENTITY, "XML character reference (no digits)", start);
        uint32_t v = 0;
        for (; i < n; i++) {
            uint8_t d = (uint8_t)ent[i];
            if (hex ? !is_hex(d) : !is_digit(d))
                return xfail(x, SH_E_PLIST_XML_ENTITY, "XML character reference (bad digit)",
                             start);
            v = v * (hex ? 16u : 10u) + (hex ? hex_val(d) : (unsigned)(d - '0'));
            if (v > 0x10FFFF)
                return xfail(x, SH_E_PLIST_XML_ENTITY, "XML character reference (past U+10FFFF)",
                             start);
        }
        if (!xml_char(v))
            return xfail(x, SH_E_PLIST_XML_ENTITY,
                         "XML character reference (a character XML does not allow)", start);
        *cp = v;
    } else {
        return xfail(x, SH_E_PLIST_XML_ENTITY, "XML entity (undeclared name)", start);
    }
    return SH_E_OK;
}

/* Text of <key> or <string> up to and including its closing tag.  Keys are decoded into the
 * arena. */
static sh_err xml_text(xml_state *x, int name, uint64_t elem_off)
{
    bool key = name == XN_KEY;
    uint8_t b;
    for (;;) {
        if (!peek(&x->c, &b))
            return xfail(x, SH_E_PLIST_XML_MISMATCHED_TAG,
                         key ? "XML <key> (document ends inside)"
                             : "XML <string> (document ends inside)",
                         elem_off);
        sh_err e;
        if (b == '&') {
            uint32_t cp = 0;
            if ((e = xml_entity(x, &cp)) != SH_E_OK)
                return e;
            if (key) {
                uint8_t u[4];
                if ((e = arena_put(x, u, utf8_encode(cp, u))) != SH_E_OK)
                    return e;
            }
        } else if (b == '<') {
            if (at_lit(&x->c, "<!--")) {
                if ((e = xml_comment(x)) != SH_E_OK)
                    return e;
            } else if (at_lit(&x->c, "<![CDATA[")) {
                uint64_t cd = xpos(x);
                sh_cursor_skip(&x->c, 9);
                for (;;) {
                    if (!peek(&x->c, &b))
                        return xfail(x, SH_E_PLIST_XML_SYNTAX, "XML CDATA (unterminated)", cd);
                    if (at_lit(&x->c, "]]>")) {
                        sh_cursor_skip(&x->c, 3);
                        break;
                    }
                    if (key && (e = arena_put(x, &b, 1)) != SH_E_OK)
                        return e;
                    sh_cursor_skip(&x->c, 1);
                }
            } else if (at_lit(&x->c, "</")) {
                return xml_end_tag(x, name);
            } else {
                return xfail(x, SH_E_PLIST_XML_SYNTAX, "XML markup inside <key> or <string>",
                             xpos(x));
            }
        } else {
            if (key && (e = arena_put(x, &b, 1)) != SH_E_OK)
                return e;
            sh_cursor_skip(&x->c, 1);
        }
    }
}

/* Content checks for the scalar elements.  v is the text without surrounding whitespace. */
static bool scalar_integer(sh_cursor v, bool *big_uint, bool *range_ok)
{
    uint8_t b;
    bool neg = false;
    *big_uint = false;
    *range_ok = true;
    if (peek(&v, &b) && (b == '-' || b == '+')) {
        neg = b == '-';
        sh_cursor_skip(&v, 1);
    }
    if (sh_cursor_len(&v) == 0)
        return false;
    uint64_t val = 0;
    bool overflow = false;
    if (at_lit(&v, "0x") || at_lit(&v, "0X")) {
        sh_cursor_skip(&v, 2);
        if (sh_cursor_len(&v) == 0)
            return false;
        while (sh_cursor_u8(&v, &b)) {
            if (!is_hex(b))
                return false;
            if (val >> 60)
                overflow = true;
            val = (val << 4) | hex_val(b);
        }
    } else {
        uint8_t first = 0;
        peek(&v, &first);
        if (first == '0' && sh_cursor_len(&v) > 1)
            return false; /* leading zero: libplist reads octal, CoreFoundation decimal */
        while (sh_cursor_u8(&v, &b)) {
            if (!is_digit(b))
                return false;
            if (!sh_mul_u64(val, 10, &val) || !sh_add_u64(val, (uint64_t)(b - '0'), &val))
                overflow = true;
        }
    }
    if (overflow || (neg && val > (uint64_t)1 << 63))
        *range_ok = false;
    else if (!neg && val > (uint64_t)INT64_MAX)
        *big_uint = true;
    return true;
}

static bool digits(sh_cursor *v, size_t *count)
{
    uint8_t b;
    *count = 0;
    while (peek(v, &b) && is_digit(b)) {
        sh_cursor_skip(v, 1);
        (*count)++;
    }
    return *count > 0;
}

static bool word_ci(sh_cursor v, const char *w)
{
    size_t n = strlen(w);
    if (sh_cursor_len(&v) != n)
        return false;
    for (size_t i = 0; i < n; i++) {
        uint8_t b;
        sh_cursor_u8(&v, &b);
        if (b >= 'A' && b <= 'Z')
            b = (uint8_t)(b - 'A' + 'a');
        if (b != (uint8_t)w[i])
            return false;
    }
    return true;
}

static bool scalar_real(sh_cursor v)
{
    uint8_t b;
    if (peek(&v, &b) && (b == '-' || b == '+'))
        sh_cursor_skip(&v, 1);
    if (word_ci(v, "nan") || word_ci(v, "inf") || word_ci(v, "infinity"))
        return true;
    size_t n_int = 0, n_frac = 0, n;
    digits(&v, &n_int);
    if (peek(&v, &b) && b == '.') {
        sh_cursor_skip(&v, 1);
        digits(&v, &n_frac);
    }
    if (n_int + n_frac == 0)
        return false;
    if (peek(&v, &b) && (b == 'e' || b == 'E')) {
        sh_cursor_skip(&v, 1);
        if (peek(&v, &b) && (b == '-' || b == '+'))
            sh_cursor_skip(&v, 1);
        if (!digits(&v, &n))
            return false;
    }
    return sh_cursor_len(&v) == 0;
}

static bool scalar_date(sh_cursor v)
{
    /* YYYY-MM-DDTHH:MM:SSZ */
    static const char pat[] = "dddd-dd-ddTdd:dd:ddZ";
    uint8_t s[20];
    if (sh_cursor_len(&v) != 20 || !sh_cursor_copy(&v, s, 20))
        return false;
    for (size_t i = 0; i < 20; i++)
        if (pat[i] == 'd' ? !is_digit(s[i]) : s[i] != (uint8_t)pat[i])
            return false;
#define TWO(i) ((s[i] - '0') * 10 + (s[(i) + 1] - '0'))
    int month = TWO(5), day = TWO(8), hour = TWO(11), min = TWO(14), sec = TWO(17);
#undef TWO
    return month >= 1 && month <= 12 && day >= 1 && day <= 31 && hour <= 23 && min <= 59 &&
           sec <= 59;
}

static bool b64_char(uint8_t b) { return is_alpha(b) || is_digit(b) || b == '+' || b == '/'; }

static bool scalar_data(sh_cursor v)
{
    uint8_t b;
    uint64_t n = 0, pad = 0;
    while (sh_cursor_u8(&v, &b)) {
        if (is_ws(b))
            continue;
        if (b == '=') {
            pad++;
        } else if (b64_char(b)) {
            if (pad)
                return false; /* data after padding */
        } else {
            return false;
        }
        n++;
    }
    return n % 4 == 0 && pad <= 2;
}

/* <integer>, <real>, <date>, <data>, <true>, <false> content and closing tag. */
static sh_err xml_scalar(xml_state *x, int name, uint64_t elem_off)
{
    sh_cursor start = x->c;
    uint8_t b;
    uint64_t n = 0;
    for (;;) {
        if (!peek(&x->c, &b))
            return xfail(x, SH_E_PLIST_XML_MISMATCHED_TAG, xnames[name], elem_off);
        if (b == '<')
            break;
        if (b == '&')
            return xfail(x, SH_E_PLIST_XML_BAD_SCALAR, xnames[name], xpos(x));
        sh_cursor_skip(&x->c, 1);
        n++;
    }
    if (!at_lit(&x->c, "</"))
        return xfail(x, SH_E_PLIST_XML_BAD_SCALAR, xnames[name], xpos(x));
    sh_err e = xml_end_tag(x, name);
    if (e)
        return e;
    sh_cursor v;
    sh_cursor_sub(&start, 0, n, &v);
    /* trim whitespace */
    skip_ws(&v);
    while (sh_cursor_len(&v) > 0 && peek_at(&v, sh_cursor_len(&v) - 1, &b) && is_ws(b))
        sh_cursor_sub(&v, 0, sh_cursor_len(&v) - 1, &v);
    bool ok = false;
    switch (name) {
    case XN_INTEGER: {
        bool big, in_range;
        ok = scalar_integer(v, &big, &in_range);
        if (ok && !in_range)
            return xfail(x, SH_E_PLIST_XML_INTEGER_RANGE, "XML <integer>", elem_off);
        if (ok && big && !x->st->has_big_uint) {
            x->st->has_big_uint = true;
            x->st->big_uint_offset = elem_off;
        }
        break;
    }
    case XN_REAL: ok = scalar_real(v); break;
    case XN_DATE: ok = scalar_date(v); break;
    case XN_DATA: ok = scalar_data(v); break;
    default: ok = sh_cursor_len(&v) == 0; break; /* true, false */
    }
    return ok ? SH_E_OK : xfail(x, SH_E_PLIST_XML_BAD_SCALAR, xnames[name], elem_off);
}

/* libplist's key hash (djb2 over `char`, signed on the platforms we run on). */
static unsigned lp_hash(const uint8_t *s, size_t n)
{
    unsigned h = 5381;
    for (size_t i = 0; i < n; i++) {
        int v = s[i] & 0x80 ? (int)s[i] - 256 : (int)s[i];
        h = ((h << 5) + h) + (unsigned)v;
    }
    return h;
}

/* A key's decoded bytes (NULL for an empty key before the arena exists). */
static const uint8_t *key_bytes(const xml_state *x, const xkey *k)
{
    return x->arena ? x->arena + k->arena_off : NULL;
}

static unsigned key_bucket(const xml_state *x, const xkey *k)
{
    return lp_hash(k->len ? key_bytes(x, k) : NULL, k->len) & (LP_BUCKETS - 1);
}

/* strcmp cost (bytes looked at) and equality of two arena keys. */
static uint64_t key_cmp_cost(const xml_state *x, const xkey *a, const xkey *b, bool *equal)
{
    size_t n = a->len < b->len ? a->len : b->len, i = 0;
    if (n) {
        const uint8_t *pa = key_bytes(x, a), *pb = key_bytes(x, b);
        while (i < n && pa[i] == pb[i])
            i++;
    }
    *equal = a->len == b->len && i == n;
    return (uint64_t)i + 1;
}

/* libplist compares two keys: a linear-scan strcmp, or (hashed) a length check then strcmp.
 * Adds the cost and fails once the budget is spent, so this replay is bounded too. */
static sh_err charge(xml_state *x, const xframe *f, const xkey *a, const xkey *b, bool hashed,
                     bool *equal)
{
    uint64_t cost = 1;
    *equal = false;
    if (!hashed || a->len == b->len)
        cost = key_cmp_cost(x, a, b, equal);
    x->st->key_work += cost;
    if (x->st->key_work > SH_MAX_PLIST_KEY_WORK)
        return xfail(x, SH_E_PLIST_HASH_FLOOD, "XML <dict>", f->open_off);
    return SH_E_OK;
}

/* A dict closes: replay libplist's inserts of its keys in document order, counting the key
 * comparisons (and finding duplicates, which libplist would silently merge). */
static sh_err xml_dict_close(xml_state *x, const xframe *f)
{
    size_t n = x->nkeys - f->first_key;
    if (n == 0) {
        x->arena_len = f->arena_mark;
        return SH_E_OK;
    }
    const xkey *ks = x->keys + f->first_key;
    int32_t *next = NULL;
    bool table = false, eq;
    sh_err e = SH_E_OK;
    for (size_t k = 0; k < n && !e; k++) {
        if (!table) {
            for (size_t j = 0; j < k && !e; j++) {
                if ((e = charge(x, f, &ks[j], &ks[k], false, &eq)) == SH_E_OK && eq)
                    e = sh_fail(x->err, SH_E_PLIST_DUPLICATE_KEY, "XML <dict>", (int64_t)k,
                                ks[k].src_off);
            }
            if (!e && 2 * (uint64_t)(k + 1) > LP_LINEAR_CHILDREN) {
                /* libplist builds its hash table now, inserting every key so far. */
                if (!x->heads && !(x->heads = sh_calloc(x->alloc, LP_BUCKETS, sizeof(int32_t)))) {
                    e = xfail(x, SH_E_NO_MEMORY, "XML <dict>", f->open_off);
                    break;
                }
                if (n > INT32_MAX || !(next = sh_calloc(x->alloc, n, sizeof(int32_t)))) {
                    e = xfail(x, SH_E_NO_MEMORY, "XML <dict>", f->open_off);
                    break;
                }
                for (size_t i = 0; i < LP_BUCKETS; i++)
                    x->heads[i] = -1;
                for (size_t j = 0; j <= k && !e; j++) {
                    unsigned bkt = key_bucket(x, &ks[j]);
                    for (int32_t i = x->heads[bkt]; i >= 0 && !e; i = next[i])
                        e = charge(x, f, &ks[i], &ks[j], true, &eq);
                    next[j] = x->heads[bkt];
                    x->heads[bkt] = (int32_t)j;
                }
                table = true;
            }
        } else {
            /* plist_dict_get_item walks the bucket, then hash_table_insert walks it again. */
            unsigned bkt = key_bucket(x, &ks[k]);
            for (int pass = 0; pass < 2 && !e; pass++)
                for (int32_t i = x->heads[bkt]; i >= 0 && !e; i = next[i])
                    if ((e = charge(x, f, &ks[i], &ks[k], true, &eq)) == SH_E_OK && eq)
                        e = sh_fail(x->err, SH_E_PLIST_DUPLICATE_KEY, "XML <dict>", (int64_t)k,
                                    ks[k].src_off);
            next[k] = x->heads[bkt];
            x->heads[bkt] = (int32_t)k;
        }
    }
    sh_free(x->alloc, next);
    x->nkeys = f->first_key;
    x->arena_len = f->arena_mark;
    return e;
}

static sh_err xml_body(xml_state *x)
{
    sh_err e;
    uint8_t b;
    /* Prolog. */
    if (at_lit(&x->c, "\xEF\xBB\xBF"))
        return xfail(x, SH_E_PLIST_XML_SYNTAX, "XML byte order mark", xpos(x));
    if (at_lit(&x->c, "<?xml") && peek_at(&x->c, 5, &b) && (is_ws(b) || b == '?')) {
        if ((e = xml_decl(x)) != SH_E_OK)
            return e;
    }
    bool doctype = false;
    for (;;) {
        if ((e = xml_misc(x)) != SH_E_OK)
            return e;
        if (sh_cursor_len(&x->c) == 0)
            return xfail(x, SH_E_PLIST_XML_STRUCTURE, "XML plist (no <plist> element)", xpos(x));
        if (at_lit(&x->c, "<!DOCTYPE")) {
            if (doctype)
                return xfail(x, SH_E_PLIST_XML_DTD, "XML DOCTYPE (second)", xpos(x));
            doctype = true;
            if ((e = xml_doctype(x)) != SH_E_OK)
                return e;
            continue;
        }
        if (at_lit(&x->c, "<?"))
            return xfail(x, SH_E_PLIST_XML_PI, "XML processing instruction", xpos(x));
        if (at_lit(&x->c, "<!"))
            return xfail(x, SH_E_PLIST_XML_SYNTAX, "XML markup declaration", xpos(x));
        if (!at_lit(&x->c, "<"))
            return xfail(x, SH_E_PLIST_XML_SYNTAX, "XML text outside elements", xpos(x));
        break;
    }
    uint64_t root_off = xpos(x);
    int name;
    bool empty;
    if ((e = xml_start_tag(x, true, &name, &empty)) != SH_E_OK)
        return e;
    if (name != XN_PLIST || empty)
        return xfail(x, SH_E_PLIST_XML_STRUCTURE, "XML plist (root element is not <plist>...)",
                     root_off);
    x->frames[0] = (xframe){.kind = XN_PLIST, .open_off = root_off};
    x->nframes = 1;

    while (x->nframes > 0) {
        xframe *top = &x->frames[x->nframes - 1];
        if ((e = xml_misc(x)) != SH_E_OK)
            return e;
        uint64_t off = xpos(x);
        if (!peek(&x->c, &b))
            return xfail(x, SH_E_PLIST_XML_MISMATCHED_TAG, xnames[top->kind], top->open_off);
        if (b != '<')
            return xfail(x, SH_E_PLIST_XML_SYNTAX, "XML text outside elements", off);
        if (at_lit(&x->c, "</")) {
            if ((e = xml_end_tag(x, top->kind)) != SH_E_OK)
                return e;
            if (top->kind == XN_DICT && top->want_value)
                return xfail(x, SH_E_PLIST_XML_STRUCTURE, "XML <dict> (key without a value)", off);
            if (top->kind == XN_PLIST && top->nvalues != 1)
                return xfail(x, SH_E_PLIST_XML_STRUCTURE, "XML <plist> (no value)", off);
            if (top->kind == XN_DICT && (e = xml_dict_close(x, top)) != SH_E_OK)
                return e;
            x->nframes--;
            continue;
        }
        if (at_lit(&x->c, "<!DOCTYPE"))
            return xfail(x, SH_E_PLIST_XML_DTD, "XML DOCTYPE (inside the root element)", off);
        if (at_lit(&x->c, "<?"))
            return xfail(x, SH_E_PLIST_XML_PI, "XML processing instruction", off);
        if (at_lit(&x->c, "<!"))
            return xfail(x, SH_E_PLIST_XML_SYNTAX, "XML markup declaration or CDATA outside text",
                         off);
        if ((e = xml_start_tag(x, false, &name, &empty)) != SH_E_OK)
            return e;
        if (name == XN_PLIST)
            return xfail(x, SH_E_PLIST_XML_STRUCTURE, "XML <plist> (nested)", off);
        if (x->st->nodes >= SH_MAX_PLIST_NODES)
            return xfail(x, SH_E_PLIST_TOO_MANY_NODES, "XML element", off);
        x->st->nodes++;
        switch (top->kind) {
        case XN_PLIST:
            if (top->nvalues >= 1)
                return xfail(x, SH_E_PLIST_XML_STRUCTURE, "XML <plist> (more than one value)", off);
            if (name == XN_KEY)
                return xfail(x, SH_E_PLIST_XML_STRUCTURE, "XML <key> (outside a dict)", off);
            break;
        case XN_DICT:
            if (!top->want_value && name != XN_KEY)
                return xfail(x, SH_E_PLIST_XML_STRUCTURE, "XML <dict> (value without a key)", off);
            if (top->want_value && name == XN_KEY)
                return xfail(x, SH_E_PLIST_XML_STRUCTURE, "XML <dict> (key without a value)", off);
            break;
        default:
            if (name == XN_KEY)
                return xfail(x, SH_E_PLIST_XML_STRUCTURE, "XML <key> (outside a dict)", off);
            break;
        }
        if (name == XN_KEY) {
            if (empty)
                return xfail(x, SH_E_PLIST_XML_STRUCTURE, "XML <key/> (libplist cannot read it)",
                             off);
            size_t a0 = x->arena_len;
            if ((e = xml_text(x, XN_KEY, off)) != SH_E_OK)
                return e;
            if (!grow(x->alloc, (void **)&x->keys, &x->keys_cap, x->nkeys + 1, sizeof(xkey)))
                return xfail(x, SH_E_NO_MEMORY, "XML <key>", off);
            x->keys[x->nkeys++] = (xkey){a0, x->arena_len - a0, off};
            x->st->dict_keys++;
            top->want_value = true;
            continue;
        }
        top->nvalues++;
        top->want_value = false;
        uint32_t depth = x->nframes - 1; /* containers open around this value */
        switch (name) {
        case XN_STRING:
            if (!empty && (e = xml_text(x, XN_STRING, off)) != SH_E_OK)
                return e;
            break;
        case XN_INTEGER:
        case XN_REAL:
        case XN_DATE:
            if (empty)
                return xfail(x, SH_E_PLIST_XML_BAD_SCALAR, xnames[name], off);
            if ((e = xml_scalar(x, name, off)) != SH_E_OK)
                return e;
            break;
        case XN_TRUE:
        case XN_FALSE:
        case XN_DATA:
            if (!empty && (e = xml_scalar(x, name, off)) != SH_E_OK)
                return e;
            break;
        case XN_DICT:
        case XN_ARRAY:
            if (depth + 1 > SH_MAX_PLIST_DEPTH)
                return xfail(x, SH_E_PLIST_TOO_DEEP, xnames[name], off);
            if (depth + 1 > x->st->max_depth)
                x->st->max_depth = depth + 1;
            if (!empty)
                x->frames[x->nframes++] = (xframe){.kind = name,
                                                   .open_off = off,
                                                   .first_key = x->nkeys,
                                                   .arena_mark = x->arena_len};
            break;
        default:
            break;
        }
    }
    /* After </plist>: whitespace and comments only. */
    if ((e = xml_misc(x)) != SH_E_OK)
        return e;
    if (sh_cursor_len(&x->c) != 0)
        return xfail(x, SH_E_PLIST_XML_STRUCTURE, "XML plist (content after </plist>)", xpos(x));
    return SH_E_OK;
}

sh_err sh_plist_guard_xml(const sh_cursor *data, const sh_allocator *alloc, sh_plist_stats *stats,
                          sh_error *err)
{
    sh_plist_stats local;
    sh_plist_stats *st = stats ? stats : &local;
    stats_init(st, SH_PLIST_FORMAT_XML);
    uint64_t start = sh_cursor_pos(data);
    if (sh_cursor_len(data) > SH_MAX_PLIST_SIZE || sh_cursor_len(data) > UINT32_MAX)
        return sh_fail_value(err, SH_E_PLIST_TOO_LARGE, "XML plist", -1, start,
                             sh_cursor_len(data));
    if (sh_cursor_len(data) == 0)
        return sh_fail(err, SH_E_PLIST_UNKNOWN_FORMAT, "plist (empty)", -1, start);
    /* Characters first: valid UTF-8, XML characters only. */
    sh_cursor c = *data;
    while (sh_cursor_len(&c) > 0) {
        uint64_t off = sh_cursor_pos(&c);
        uint32_t cp;
        if (!sh_utf8_next(&c, &cp))
            return sh_fail(err, SH_E_PLIST_XML_BAD_CHAR, "XML plist (invalid UTF-8)", -1, off);
        if (!xml_char(cp))
            return sh_fail_value(err, SH_E_PLIST_XML_BAD_CHAR, "XML plist (character)", -1, off,
                                 cp);
    }
    xml_state *x = sh_calloc(alloc, 1, sizeof *x);
    if (!x)
        return sh_fail(err, SH_E_NO_MEMORY, "XML plist", -1, start);
    x->c = *data;
    x->alloc = alloc;
    x->err = err;
    x->st = st;
    sh_err e = xml_body(x);
    sh_free(alloc, x->keys);
    sh_free(alloc, x->arena);
    sh_free(alloc, x->heads);
    sh_free(alloc, x);
    return e;
}

/* ------------------------------------------------------------------------------------------ */
/* Binary plists                                                                              */

#define BP_HEADER 8u
#define BP_TRAILER 32u

typedef struct bp_obj {
    uint8_t type;      /* marker high nibble */
    uint64_t off;      /* of the marker */
    uint64_t count;    /* strings: characters; array/dict: entries */
    uint64_t content;  /* offset of the content (after the size field) */
    uint64_t bytes;    /* content size */
} bp_obj;

typedef struct bp_frame {
    uint64_t index; /* object index */
    bp_obj obj;
    uint64_t next;  /* next child: dict entry j gives key j then value j */
    uint64_t total; /* children: entries, or 2 * entries */
} bp_frame;

typedef struct bp_state {
    sh_cursor data;
    const sh_allocator *alloc;
    sh_error *err;
    sh_plist_stats *st;
    uint8_t offset_size, ref_size;
    uint64_t num_objects, root, table_off;
    bp_frame stack[SH_MAX_PLIST_DEPTH];
    uint32_t depth;
} bp_state;

static bool be_uint(const sh_cursor *c, uint64_t off, unsigned n, uint64_t *out)
{
    sh_cursor t;
    if (!sh_cursor_sub(c, off, n, &t))
        return false;
    uint64_t v = 0;
    uint8_t b;
    for (unsigned i = 0; i < n; i++) {
        if (!sh_cursor_u8(&t, &b))
            return false;
        v = (v << 8) | b;
    }
    *out = v;
    return true;
}

static uint64_t abs_off(const bp_state *b, uint64_t rel) { return sh_cursor_pos(&b->data) + rel; }

static sh_err bfail(bp_state *b, sh_err code, const char *where, int64_t index, uint64_t rel)
{
    return sh_fail(b->err, code, where, index, abs_off(b, rel));
}

/* The object at table entry index: marker, size and content bounds. */
static sh_err bp_object(bp_state *b, uint64_t index, bp_obj *o)
{
    uint64_t off = 0;
    be_uint(&b->data, b->table_off + index * b->offset_size, b->offset_size, &off);
    if (off < BP_HEADER || off >= b->table_off)
        return sh_fail_value(b->err, SH_E_PLIST_BPLIST_OFFSET, "binary plist offset table",
                             (int64_t)index,
                             abs_off(b, b->table_off + index * b->offset_size), off);
    uint64_t m = 0;
    be_uint(&b->data, off, 1, &m);
    uint8_t type = (uint8_t)(m >> 4), info = (uint8_t)(m & 0xF);
    o->type = type;
    o->off = off;
    o->count = 0;
    o->content = off + 1;
    o->bytes = 0;
    const char *bad = NULL;
    switch (type) {
    case 0x0:
        if (info != 0x8 && info != 0x9)
            bad = "binary plist object (null, fill or unknown simple marker)";
        break;
    case 0x1:
        if (info > 4)
            bad = "binary plist integer (size)";
        o->bytes = (uint64_t)1 << (info & 7);
        break;
    case 0x2:
        if (info != 2 && info != 3)
            bad = "binary plist real (size)";
        o->bytes = (uint64_t)1 << (info & 3);
        break;
    case 0x3:
        if (info != 3)
            bad = "binary plist date (size)";
        o->bytes = 8;
        break;
    case 0x8:
        if (info != 0 && info != 1 && info != 3)
            bad = "binary plist UID (size)";
        o->bytes = (uint64_t)info + 1;
        break;
    case 0x4:
    case 0x5:
    case 0x6:
    case 0xA:
    case 0xD: {
        uint64_t count = info;
        if (info == 0xF) {
            uint64_t sm = 0;
            if (off + 1 >= b->table_off) {
                bad = "binary plist object (size field past the object area)";
                break;
            }
            be_uint(&b->data, off + 1, 1, &sm);
            if ((sm >> 4) != 0x1 || (sm & 0xF) > 3) {
                bad = "binary plist object (size field is not a 1, 2, 4 or 8 byte integer)";
                break;
            }
            unsigned n = 1u << (sm & 0xF);
            if (off + 2 + n > b->table_off) {
                bad = "binary plist object (size field past the object area)";
                break;
            }
            be_uint(&b->data, off + 2, n, &count);
            o->content = off + 2 + n;
        }
        o->count = count;
        uint64_t unit = type == 0x6   ? 2
                        : type == 0xA ? b->ref_size
                        : type == 0xD ? 2u * b->ref_size
                                      : 1;
        if (!sh_mul_u64(count, unit, &o->bytes))
            bad = "binary plist object (size overflows)";
        break;
    }
    default:
        bad = "binary plist object (unsupported marker: set or unknown type)";
        break;
    }
    if (!bad && !sh_range_within(o->content, o->bytes, b->table_off))
        bad = "binary plist object (content runs into the offset table)";
    if (bad)
        return sh_fail_value(b->err, SH_E_PLIST_BPLIST_OBJECT, bad, (int64_t)index,
                             abs_off(b, off), m);
    return SH_E_OK;
}

/* ASCII without NUL, or non-empty UTF-16BE with paired surrogates and no NUL. */
static sh_err bp_string_check(bp_state *b, uint64_t index, const bp_obj *o)
{
    sh_cursor t;
    sh_cursor_sub(&b->data, o->content, o->bytes, &t);
    if (o->type == 0x5) {
        uint8_t c;
        while (sh_cursor_u8(&t, &c))
            if (c == 0 || c >= 0x80)
                return sh_fail_value(b->err, SH_E_PLIST_BPLIST_OBJECT,
                                     "binary plist ASCII string (NUL or non-ASCII byte)",
                                     (int64_t)index, sh_cursor_pos(&t) - 1, c);
        return SH_E_OK;
    }
    if (o->count == 0) /* libplist 2.2's UTF-16 conversion fails on an empty string */
        return sh_fail(b->err, SH_E_PLIST_BPLIST_OBJECT, "binary plist UTF-16 string (empty)",
                       (int64_t)index, abs_off(b, o->off));
    uint16_t u;
    bool lead = false;
    while (sh_cursor_u16be(&t, &u)) {
        bool is_lead = u >= 0xD800 && u <= 0xDBFF, is_trail = u >= 0xDC00 && u <= 0xDFFF;
        if (u == 0 || (lead && !is_trail) || (!lead && is_trail))
            return sh_fail_value(b->err, SH_E_PLIST_BPLIST_OBJECT,
                                 "binary plist UTF-16 string (NUL or unpaired surrogate)",
                                 (int64_t)index, sh_cursor_pos(&t) - 2, u);
        lead = is_lead;
    }
    if (lead)
        return sh_fail(b->err, SH_E_PLIST_BPLIST_OBJECT,
                       "binary plist UTF-16 string (unpaired surrogate)", (int64_t)index,
                       sh_cursor_pos(&t) - 2);
    return SH_E_OK;
}

/* Code unit i of a string object (ASCII byte or UTF-16 unit). */
static uint16_t bp_unit(const bp_state *b, const bp_obj *o, uint64_t i)
{
    uint64_t v = 0;
    if (o->type == 0x5)
        be_uint(&b->data, o->content + i, 1, &v);
    else
        be_uint(&b->data, o->content + 2 * i, 2, &v);
    return (uint16_t)v;
}

static int bp_key_cmp(const bp_state *b, const bp_obj *x, const bp_obj *y)
{
    uint64_t n = x->count < y->count ? x->count : y->count;
    if (x->type == y->type) {
        /* Same encoding: big-endian units compare like their bytes, a chunk at a time. */
        uint64_t unit = x->type == 0x6 ? 2 : 1, done = 0, total = n * unit;
        uint8_t bx[256], by[256];
        while (done < total) {
            size_t k = total - done < sizeof bx ? (size_t)(total - done) : sizeof bx;
            sh_cursor cx, cy;
            sh_cursor_sub(&b->data, x->content + done, k, &cx);
            sh_cursor_sub(&b->data, y->content + done, k, &cy);
            sh_cursor_copy(&cx, bx, k);
            sh_cursor_copy(&cy, by, k);
            int c = memcmp(bx, by, k);
            if (c)
                return c < 0 ? -1 : 1;
            done += k;
        }
    } else {
        for (uint64_t i = 0; i < n; i++) {
            uint16_t ux = bp_unit(b, x, i), uy = bp_unit(b, y, i);
            if (ux != uy)
                return ux < uy ? -1 : 1;
        }
    }
    return x->count < y->count ? -1 : x->count > y->count ? 1 : 0;
}

/* Heap sort of key descriptors (no recursion, no global comparator state). */
static void bp_sift(const bp_state *b, bp_obj *a, size_t start, size_t end)
{
    size_t root = start;
    while (2 * root + 1 < end) {
        size_t child = 2 * root + 1, sw = root;
        if (bp_key_cmp(b, &a[sw], &a[child]) < 0)
            sw = child;
        if (child + 1 < end && bp_key_cmp(b, &a[sw], &a[child + 1]) < 0)
            sw = child + 1;
        if (sw == root)
            return;
        bp_obj t = a[root];
        a[root] = a[sw];
        a[sw] = t;
        root = sw;
    }
}

/* A dict's keys must be strings and distinct. */
static sh_err bp_dict_keys(bp_state *b, uint64_t dict_index, const bp_obj *d)
{
    if (d->count == 0)
        return SH_E_OK;
    bp_obj *keys = sh_calloc(b->alloc, (size_t)d->count, sizeof *keys);
    if (!keys)
        return bfail(b, SH_E_NO_MEMORY, "binary plist dict", (int64_t)dict_index, d->off);
    sh_err e = SH_E_OK;
    for (uint64_t j = 0; j < d->count && !e; j++) {
        uint64_t ref = 0;
        be_uint(&b->data, d->content + j * b->ref_size, b->ref_size, &ref);
        if (ref >= b->num_objects) {
            e = sh_fail_value(b->err, SH_E_PLIST_BPLIST_REF, "binary plist dict key", (int64_t)j,
                              abs_off(b, d->content + j * b->ref_size), ref);
            break;
        }
        if ((e = bp_object(b, ref, &keys[j])) != SH_E_OK)
            break;
        if (keys[j].type != 0x5 && keys[j].type != 0x6) {
            e = sh_fail_value(b->err, SH_E_PLIST_BPLIST_OBJECT,
                              "binary plist dict key (not a string)", (int64_t)j,
                              abs_off(b, keys[j].off), keys[j].type);
            break;
        }
        if (!sh_add_u64(b->st->expanded, keys[j].bytes, &b->st->expanded) ||
            b->st->expanded > SH_MAX_PLIST_EXPANDED) {
            e = bfail(b, SH_E_PLIST_BPLIST_EXPANSION, "binary plist dict key", (int64_t)j,
                      keys[j].off);
            break;
        }
        e = bp_string_check(b, ref, &keys[j]);
    }
    if (!e) {
        size_t n = (size_t)d->count;
        for (size_t i = n / 2; i-- > 0;)
            bp_sift(b, keys, i, n);
        for (size_t end = n; end-- > 1;) {
            bp_obj t = keys[0];
            keys[0] = keys[end];
            keys[end] = t;
            bp_sift(b, keys, 0, end);
        }
        for (size_t i = 1; i < n; i++)
            if (bp_key_cmp(b, &keys[i - 1], &keys[i]) == 0) {
                uint64_t later = keys[i].off > keys[i - 1].off ? keys[i].off : keys[i - 1].off;
                e = bfail(b, SH_E_PLIST_DUPLICATE_KEY, "binary plist dict", (int64_t)dict_index,
                          later);
                break;
            }
    }
    sh_free(b->alloc, keys);
    return e;
}

/* Visits one object (one libplist node): counts it and, for containers, pushes a frame. */
static sh_err bp_visit(bp_state *b, uint64_t index, uint64_t ref_at)
{
    for (uint32_t i = 0; i < b->depth; i++)
        if (b->stack[i].index == index)
            return sh_fail_value(b->err, SH_E_PLIST_BPLIST_CYCLE, "binary plist reference",
                                 (int64_t)index, abs_off(b, ref_at), index);
    if (b->st->nodes >= SH_MAX_PLIST_NODES)
        return bfail(b, SH_E_PLIST_TOO_MANY_NODES, "binary plist object", (int64_t)index, ref_at);
    b->st->nodes++;
    bp_obj o;
    sh_err e = bp_object(b, index, &o);
    if (e)
        return e;
    uint64_t cost = o.type == 0x6 ? 2 * o.bytes : o.bytes; /* libplist allocates 4 bytes/unit */
    if (!sh_add_u64(b->st->expanded, cost + 1, &b->st->expanded) ||
        b->st->expanded > SH_MAX_PLIST_EXPANDED)
        return bfail(b, SH_E_PLIST_BPLIST_EXPANSION, "binary plist object", (int64_t)index, o.off);
    if (o.type == 0x5 || o.type == 0x6)
        return bp_string_check(b, index, &o);
    if (o.type != 0xA && o.type != 0xD)
        return SH_E_OK;
    /* Every entry becomes a visit (two for a dict): fail before allocating for them. */
    uint64_t children = o.type == 0xD ? 2 * o.count : o.count;
    if (children > SH_MAX_PLIST_NODES - b->st->nodes)
        return bfail(b, SH_E_PLIST_TOO_MANY_NODES, "binary plist container", (int64_t)index, o.off);
    if (b->depth >= SH_MAX_PLIST_DEPTH)
        return bfail(b, SH_E_PLIST_TOO_DEEP, "binary plist container", (int64_t)index, o.off);
    if (o.type == 0xD) {
        if ((e = bp_dict_keys(b, index, &o)) != SH_E_OK)
            return e;
        b->st->dict_keys += (uint32_t)o.count; /* <= SH_MAX_PLIST_NODES visits follow */
    }
    bp_frame *f = &b->stack[b->depth++];
    f->index = index;
    f->obj = o;
    f->next = 0;
    f->total = o.type == 0xD ? 2 * o.count : o.count;
    if (b->depth > b->st->max_depth)
        b->st->max_depth = b->depth;
    return SH_E_OK;
}

static sh_err bp_walk(bp_state *b)
{
    sh_err e = bp_visit(b, b->root, sh_cursor_len(&b->data) - BP_TRAILER + 16);
    while (!e && b->depth > 0) {
        bp_frame *f = &b->stack[b->depth - 1];
        if (f->next >= f->total) {
            b->depth--;
            continue;
        }
        uint64_t j = f->next++;
        /* libplist order: key j, value j. */
        uint64_t slot = f->obj.type == 0xD ? (j % 2 ? f->obj.count + j / 2 : j / 2) : j;
        uint64_t at = f->obj.content + slot * b->ref_size, ref = 0;
        be_uint(&b->data, at, b->ref_size, &ref);
        if (ref >= b->num_objects)
            return sh_fail_value(b->err, SH_E_PLIST_BPLIST_REF, "binary plist reference",
                                 (int64_t)slot, abs_off(b, at), ref);
        e = bp_visit(b, ref, at);
    }
    return e;
}

sh_err sh_plist_guard_binary(const sh_cursor *data, const sh_allocator *alloc,
                             sh_plist_stats *stats, sh_error *err)
{
    sh_plist_stats local;
    sh_plist_stats *st = stats ? stats : &local;
    stats_init(st, SH_PLIST_FORMAT_BINARY);
    uint64_t start = sh_cursor_pos(data);
    uint64_t len = sh_cursor_len(data);
    if (len > SH_MAX_PLIST_SIZE || len > UINT32_MAX)
        return sh_fail_value(err, SH_E_PLIST_TOO_LARGE, "binary plist", -1, start, len);
    if (len < BP_HEADER + BP_TRAILER + 2 || !at_lit(data, "bplist00"))
        return sh_fail_value(err, SH_E_PLIST_BPLIST_HEADER, "binary plist header", -1, start, len);
    bp_state *b = sh_calloc(alloc, 1, sizeof *b);
    if (!b)
        return sh_fail(err, SH_E_NO_MEMORY, "binary plist", -1, start);
    b->data = *data;
    b->alloc = alloc;
    b->err = err;
    b->st = st;
    uint64_t t = len - BP_TRAILER, v = 0;
    be_uint(data, t + 6, 1, &v);
    b->offset_size = (uint8_t)v;
    be_uint(data, t + 7, 1, &v);
    b->ref_size = (uint8_t)v;
    be_uint(data, t + 8, 8, &b->num_objects);
    be_uint(data, t + 16, 8, &b->root);
    be_uint(data, t + 24, 8, &b->table_off);
    sh_err e = SH_E_OK;
    uint64_t table_size;
#define POW2(n) ((n) == 1 || (n) == 2 || (n) == 4 || (n) == 8)
    if (!POW2(b->offset_size))
        e = sh_fail_value(err, SH_E_PLIST_BPLIST_TRAILER, "binary plist trailer (offset size)", -1,
                          start + t + 6, b->offset_size);
    else if (!POW2(b->ref_size))
        e = sh_fail_value(err, SH_E_PLIST_BPLIST_TRAILER, "binary plist trailer (reference size)",
                          -1, start + t + 7, b->ref_size);
    else if (b->num_objects == 0 || b->num_objects > SH_MAX_PLIST_NODES)
        e = sh_fail_value(err, SH_E_PLIST_BPLIST_OBJECT_COUNT, "binary plist trailer", -1,
                          start + t + 8, b->num_objects);
    else if (b->root >= b->num_objects)
        e = sh_fail_value(err, SH_E_PLIST_BPLIST_TRAILER, "binary plist trailer (top object)", -1,
                          start + t + 16, b->root);
    else if (b->table_off < BP_HEADER + 1 ||
             !sh_mul_u64(b->num_objects, b->offset_size, &table_size) ||
             !sh_range_within(b->table_off, table_size, t))
        e = sh_fail_value(err, SH_E_PLIST_BPLIST_TRAILER, "binary plist trailer (offset table)",
                          -1, start + t + 24, b->table_off);
    else if (b->ref_size < 8 && b->num_objects > ((uint64_t)1 << (8 * b->ref_size)))
        e = sh_fail_value(err, SH_E_PLIST_BPLIST_TRAILER,
                          "binary plist trailer (more objects than references can name)", -1,
                          start + t + 7, b->ref_size);
#undef POW2
    if (!e)
        e = bp_walk(b);
    sh_free(alloc, b);
    return e;
}

/* ------------------------------------------------------------------------------------------ */

sh_err sh_plist_guard(const sh_cursor *data, const sh_allocator *alloc, sh_plist_stats *stats,
                      sh_error *err)
{
    switch (sh_plist_detect(data)) {
    case SH_PLIST_FORMAT_XML: return sh_plist_guard_xml(data, alloc, stats, err);
    case SH_PLIST_FORMAT_BINARY: return sh_plist_guard_binary(data, alloc, stats, err);
    default:
        if (stats)
            stats_init(stats, SH_PLIST_FORMAT_NONE);
        return sh_fail(err, SH_E_PLIST_UNKNOWN_FORMAT, "plist (empty)", -1, sh_cursor_pos(data));
    }
}

sh_err sh_plist_parse(const sh_cursor *data, const sh_allocator *alloc, plist_t *out,
                      sh_plist_stats *stats, sh_error *err)
{
    sh_plist_stats local;
    sh_plist_stats *st = stats ? stats : &local;
    *out = NULL;
    sh_err e = sh_plist_guard(data, alloc, st, err);
    if (e)
        return e;
    /* The guard proved the view is in bounds and its length fits libplist's uint32_t. */
    sh_cursor c = *data;
    const char *bytes = (const char *)c.p;
    uint32_t len = (uint32_t)sh_cursor_len(&c);
    plist_t p = NULL;
    if (st->format == SH_PLIST_FORMAT_BINARY)
        plist_from_bin(bytes, len, &p);
    else
        plist_from_xml(bytes, len, &p);
    if (!p)
        return sh_fail(err, SH_E_PLIST_LIBPLIST_FAILED, "plist", -1, sh_cursor_pos(data));
    *out = p;
    return SH_E_OK;
}
