/* Code requirements, text -> binary: a recursive-descent compiler for the grammar described at the
 * top of requirement.c, emitting the bytes Security's compiler (requirements.grammar + reqmaker)
 * emits for the same text:
 *   - operators are prefix opcodes; "a and b and c" is and(and(a,b),c), "and" binds tighter than
 *     "or", exactly as Apple's Maker builds chains by inserting the operator at the chain's start;
 *   - data items are u32 length + bytes + zero padding to 4; integers and opcodes big-endian;
 *   - a set is a SuperBlob whose entries are sorted by type (a later entry of the same type
 *     replaces an earlier one), blobs packed in index order after the index.
 * The text is read only through sh_cursor.  Output buffers come from the sh_allocator. */
#include "requirement.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define DAYS_1970_TO_2001 11323

enum tok_type {
    T_EOF,
    T_DOTKEY,
    T_STRING,
    T_HASH,    /* H"hex" */
    T_HEX,     /* 0xhex */
    T_INTEGER, /* digits */
    T_PATH,    /* /a/b */
    T_DATE,    /* <YYYY-MM-DD hh:mm:ss +0000> (extension) */
    T_ARROW,
    T_SEMI,
    T_LPAREN,
    T_RPAREN,
    T_LBRACK,
    T_RBRACK,
    T_LESS,
    T_GT,
    T_LE,
    T_GE,
    T_COMMA,
    T_EQL,
    T_EQQL,
    T_SUBS,
    T_NEG,
    T_NOT,
    T_STAR,
    K_GUEST, /* keywords, in the order of the table below */
    K_HOST,
    K_DESIGNATED,
    K_LIBRARY,
    K_PLUGIN,
    K_OR,
    K_AND,
    K_ALWAYS,
    K_TRUE,
    K_NEVER,
    K_FALSE,
    K_IDENTIFIER,
    K_CDHASH,
    K_PLATFORM,
    K_NOTARIZED,
    K_LEGACY,
    K_ANCHOR,
    K_APPLE,
    K_GENERIC,
    K_CERTIFICATE,
    K_CERT,
    K_TRUSTED,
    K_INFO,
    K_ENTITLEMENT,
    K_EXISTS,
    K_ABSENT,
    K_LEAF,
    K_ROOT,
    K_TIMESTAMP,
};

static const char *const keyword_text[] = {
    "guest",     "host",   "designated", "library",     "plugin",  "or",      "and",
    "always",    "true",   "never",      "false",       "identifier", "cdhash", "platform",
    "notarized", "legacy", "anchor",     "apple",       "generic", "certificate", "cert",
    "trusted",   "info",   "entitlement", "exists",     "absent",  "leaf",    "root",
    "timestamp",
};

typedef struct token {
    enum tok_type type;
    size_t pos, len; /* the token's span in the text (quotes, H, 0x and <> included) */
} token;

typedef struct bytes {
    uint8_t *p;
    size_t len, cap;
} bytes;

typedef struct parser {
    sh_cursor text;
    size_t lex_pos;     /* where the lexer continues */
    token la[3];        /* look-ahead */
    unsigned nla;
    const sh_allocator *alloc;
    bytes out;          /* the requirement being built */
    uint32_t ops;       /* opcodes emitted over the whole compile */
    sh_err status;
    sh_error *err;
    sh_req_diag *diag;
} parser;

/* ---- errors ---- */

__attribute__((format(printf, 4, 5))) static bool fail(parser *p, sh_err code, size_t pos,
                                                         const char *fmt, ...)
{
    if (p->status != SH_E_OK)
        return false;
    p->status = code;
    size_t line = 1, line_start = 0;
    sh_cursor c;
    if (sh_cursor_sub(&p->text, 0, pos <= p->text.len ? pos : p->text.len, &c)) {
        uint8_t b;
        for (size_t i = 0; sh_cursor_u8(&c, &b); i++)
            if (b == '\n') {
                line++;
                line_start = i + 1;
            }
    }
    size_t column = pos - line_start + 1;
    if (p->diag) {
        p->diag->offset = pos;
        p->diag->line = line;
        p->diag->column = column;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(p->diag->message, sizeof p->diag->message, fmt, ap);
        va_end(ap);
    }
    sh_fail_value(p->err, code, "requirement text", (int64_t)line, pos, column);
    return false;
}

/* A printable rendering of a token for messages (at most 32 bytes, '?' for odd bytes). */
static const char *describe(const parser *p, const token *t, char *buf, size_t size)
{
    if (t->type == T_EOF) {
        snprintf(buf, size, "the end of the text");
        return buf;
    }
    sh_cursor c;
    size_t n = t->len < 32 ? t->len : 32;
    size_t o = 0;
    buf[o++] = '\'';
    if (sh_cursor_sub(&p->text, t->pos, n, &c)) {
        uint8_t b;
        while (sh_cursor_u8(&c, &b) && o + 5 < size)
            buf[o++] = (b >= 0x20 && b < 0x7f) ? (char)b : '?';
    }
    if (n < t->len && o + 5 < size) {
        buf[o++] = '.';
        buf[o++] = '.';
    }
    buf[o++] = '\'';
    buf[o] = '\0';
    return buf;
}

/* ---- output bytes ---- */

static bool reserve(parser *p, bytes *b, size_t more, size_t pos)
{
    if (more > SH_MAX_REQUIREMENT_SIZE - b->len)
        return fail(p, SH_E_REQ_TOO_LARGE, pos,
                    "the compiled requirement exceeds SH_MAX_REQUIREMENT_SIZE (%u bytes)",
                    (unsigned)SH_MAX_REQUIREMENT_SIZE);
    size_t need = b->len + more;
    if (need <= b->cap)
        return true;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap *= 2;
    uint8_t *bigger = sh_calloc(p->alloc, cap, 1);
    if (!bigger)
        return fail(p, SH_E_NO_MEMORY, pos, "out of memory");
    if (b->len)
        memcpy(bigger, b->p, b->len);
    sh_free(p->alloc, b->p);
    b->p = bigger;
    b->cap = cap;
    return true;
}

static bool append(parser *p, bytes *b, const void *data, size_t n, size_t pos)
{
    if (!reserve(p, b, n, pos))
        return false;
    if (n)
        memcpy(b->p + b->len, data, n);
    b->len += n;
    return true;
}

static void store_u32(uint8_t *at, uint32_t v)
{
    at[0] = (uint8_t)(v >> 24);
    at[1] = (uint8_t)(v >> 16);
    at[2] = (uint8_t)(v >> 8);
    at[3] = (uint8_t)v;
}

static uint32_t load_u32(const uint8_t *at)
{
    return (uint32_t)at[0] << 24 | (uint32_t)at[1] << 16 | (uint32_t)at[2] << 8 | at[3];
}

static bool append_u32(parser *p, bytes *b, uint32_t v, size_t pos)
{
    uint8_t be[4];
    store_u32(be, v);
    return append(p, b, be, 4, pos);
}

static bool append_u64(parser *p, bytes *b, uint64_t v, size_t pos)
{
    return append_u32(p, b, (uint32_t)(v >> 32), pos) && append_u32(p, b, (uint32_t)v, pos);
}

static bool count_ops(parser *p, uint32_t n, size_t pos)
{
    if (n > SH_MAX_REQUIREMENT_OPS - p->ops)
        return fail(p, SH_E_REQ_TOO_MANY_OPS, pos,
                    "the requirement has more than SH_MAX_REQUIREMENT_OPS (%u) opcodes",
                    (unsigned)SH_MAX_REQUIREMENT_OPS);
    p->ops += n;
    return true;
}

static bool emit_op(parser *p, uint32_t op, size_t pos)
{
    return count_ops(p, 1, pos) && append_u32(p, &p->out, op, pos);
}

/* Data item: length, bytes, zero padding to a multiple of 4 (Maker::putData). */
static bool emit_data(parser *p, const uint8_t *data, size_t n, size_t pos)
{
    static const uint8_t zeros[4] = {0};
    if (n > UINT32_MAX)
        return fail(p, SH_E_REQ_TOO_LARGE, pos, "data item too large");
    return append_u32(p, &p->out, (uint32_t)n, pos) && append(p, &p->out, data, n, pos) &&
           append(p, &p->out, zeros, (4 - (n & 3u)) & 3u, pos);
}

/* Moves the bytes from label on by count * 4 and fills the gap with op: the chain operators of
 * one "a and b and c" in one move, as Apple's Maker inserts them one by one. */
static bool insert_ops(parser *p, size_t label, uint32_t op, uint32_t count, size_t pos)
{
    size_t n = (size_t)count * 4;
    if (!count_ops(p, count, pos) || !reserve(p, &p->out, n, pos))
        return false;
    memmove(p->out.p + label + n, p->out.p + label, p->out.len - label);
    for (uint32_t i = 0; i < count; i++)
        store_u32(p->out.p + label + 4 * (size_t)i, op);
    p->out.len += n;
    return true;
}

/* ---- lexer ---- */

static int ch(const parser *p, size_t off)
{
    sh_cursor c;
    uint8_t b;
    if (!sh_cursor_sub(&p->text, off, 1, &c) || !sh_cursor_u8(&c, &b))
        return -1;
    return b;
}

static bool is_digit(int c) { return c >= '0' && c <= '9'; }
static bool is_alpha(int c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
static bool is_alnum(int c) { return is_digit(c) || is_alpha(c); }
static int hex_value(int c)
{
    if (is_digit(c))
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}
/* Bytes Apple's lexer vocabulary leaves out (NUL, and what cannot occur in UTF-8). */
static bool is_forbidden(int c) { return c == 0 || c == 0xc0 || c == 0xc1 || c >= 0xf5; }

static bool token_is(const parser *p, const token *t, const char *word)
{
    size_t n = strlen(word);
    if (t->type != T_DOTKEY || t->len != n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (ch(p, t->pos + i) != (unsigned char)word[i])
            return false;
    return true;
}

static size_t skip_ident(const parser *p, size_t j)
{
    while (is_alnum(ch(p, j)))
        j++;
    return j;
}

/* Skips white space and comments; false (with the error recorded) on a bad byte or an
 * unterminated comment. */
static bool skip_blank(parser *p, size_t *at)
{
    size_t i = *at;
    for (;;) {
        int c = ch(p, i);
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
            i++;
        } else if (c == '#' || (c == '/' && ch(p, i + 1) == '/')) {
            while ((c = ch(p, i)) != -1 && c != '\n') {
                if (is_forbidden(c))
                    return fail(p, SH_E_REQ_TEXT_BAD_TOKEN, i, "byte 0x%02x is not allowed", c);
                i++;
            }
        } else if (c == '/' && ch(p, i + 1) == '*') {
            size_t start = i;
            i += 2;
            for (;;) {
                c = ch(p, i);
                if (c == -1)
                    return fail(p, SH_E_REQ_TEXT_BAD_TOKEN, start, "unterminated comment");
                if (is_forbidden(c))
                    return fail(p, SH_E_REQ_TEXT_BAD_TOKEN, i, "byte 0x%02x is not allowed", c);
                if (c == '*' && ch(p, i + 1) == '/') {
                    i += 2;
                    break;
                }
                i++;
            }
        } else {
            *at = i;
            return true;
        }
    }
}

static bool lex(parser *p, token *t)
{
    size_t i = p->lex_pos;
    t->type = T_EOF;
    t->pos = i;
    t->len = 0;
    if (!skip_blank(p, &i))
        return false;
    t->pos = i;
    int c = ch(p, i), c1 = ch(p, i + 1);
    size_t j = i + 1;
    if (c == -1) {
        p->lex_pos = i;
        return true;
    }
    if (is_forbidden(c))
        return fail(p, SH_E_REQ_TEXT_BAD_TOKEN, i, "byte 0x%02x is not allowed", c);
    if (c == 'H' && c1 == '"') {
        j = i + 2;
        while (hex_value(ch(p, j)) >= 0)
            j++;
        if (ch(p, j) != '"')
            return fail(p, SH_E_REQ_TEXT_BAD_TOKEN, j, "expected hex digits and '\"' in H\"...\"");
        t->type = T_HASH;
        j++;
    } else if (is_alpha(c)) {
        j = skip_ident(p, i + 1);
        while (ch(p, j) == '.' && is_alnum(ch(p, j + 1))) {
            j++;
            if (is_digit(ch(p, j)))
                while (is_digit(ch(p, j)))
                    j++;
            else
                j = skip_ident(p, j);
        }
        t->type = T_DOTKEY;
        t->len = j - i;
        for (size_t k = 0; k < sizeof keyword_text / sizeof keyword_text[0]; k++)
            if (token_is(p, t, keyword_text[k]))
                t->type = (enum tok_type)(K_GUEST + k);
    } else if (c == '"') {
        for (;;) {
            int d = ch(p, j);
            if (d == -1)
                return fail(p, SH_E_REQ_TEXT_BAD_TOKEN, i, "unterminated string");
            if (d == '"')
                break;
            if (d == '\\') {
                int e = ch(p, j + 1);
                if (e != '"' && e != '\\')
                    return fail(p, SH_E_REQ_TEXT_BAD_TOKEN, j,
                                "only \\\" and \\\\ are escapes in strings");
                j += 2;
                continue;
            }
            if (is_forbidden(d))
                return fail(p, SH_E_REQ_TEXT_BAD_TOKEN, j, "byte 0x%02x is not allowed", d);
            j++;
        }
        t->type = T_STRING;
        j++;
    } else if (c == '0' && c1 == 'x') {
        j = i + 2;
        while (hex_value(ch(p, j)) >= 0)
            j++;
        if (j == i + 2)
            return fail(p, SH_E_REQ_TEXT_BAD_TOKEN, i, "0x needs hex digits");
        t->type = T_HEX;
    } else if (is_digit(c)) {
        while (is_digit(ch(p, j)))
            j++;
        t->type = T_INTEGER;
    } else if (c == '/' && is_alpha(c1)) {
        unsigned parts = 1;
        j = skip_ident(p, i + 1);
        while (ch(p, j) == '/' && is_alpha(ch(p, j + 1))) {
            j = skip_ident(p, j + 1);
            parts++;
        }
        if (parts < 2)
            return fail(p, SH_E_REQ_TEXT_BAD_TOKEN, i, "a path needs at least two components");
        t->type = T_PATH;
    } else if (c == '<' && (is_digit(c1) || (c1 == '-' && is_digit(ch(p, i + 2))))) {
        int d;
        while ((d = ch(p, j)) != -1 && d != '>' && d != '\n' && j - i < 64)
            j++;
        if (d != '>')
            return fail(p, SH_E_REQ_TEXT_BAD_TOKEN, i, "unterminated <date>");
        t->type = T_DATE;
        j++;
    } else {
        static const struct {
            char first, second;
            enum tok_type type;
        } ops[] = {
            {'=', '>', T_ARROW}, {'=', '=', T_EQQL}, {'<', '=', T_LE},   {'>', '=', T_GE},
            {'=', 0, T_EQL},     {'<', 0, T_LESS},   {'>', 0, T_GT},     {';', 0, T_SEMI},
            {'(', 0, T_LPAREN},  {')', 0, T_RPAREN}, {'[', 0, T_LBRACK}, {']', 0, T_RBRACK},
            {',', 0, T_COMMA},   {'~', 0, T_SUBS},   {'-', 0, T_NEG},    {'!', 0, T_NOT},
            {'*', 0, T_STAR},
        };
        size_t k = 0;
        for (; k < sizeof ops / sizeof ops[0]; k++)
            if (ops[k].first == c && (ops[k].second == 0 || ops[k].second == c1))
                break;
        if (k == sizeof ops / sizeof ops[0])
            return fail(p, SH_E_REQ_TEXT_BAD_TOKEN, i, "unexpected character '%c'",
                        c >= 0x20 && c < 0x7f ? c : '?');
        t->type = ops[k].type;
        j = i + (ops[k].second ? 2 : 1);
    }
    t->len = j - i;
    p->lex_pos = j;
    return true;
}

static const token eof_token = {T_EOF, 0, 0};

/* The k-th token ahead (0 = next); the end-of-text token after an error. */
static const token *la(parser *p, unsigned k)
{
    while (p->nla <= k) {
        if (p->status != SH_E_OK || !lex(p, &p->la[p->nla]))
            return &eof_token;
        p->nla++;
    }
    return &p->la[k];
}

static void advance(parser *p)
{
    if (p->nla == 0)
        (void)la(p, 0);
    if (p->nla == 0)
        return;
    p->la[0] = p->la[1];
    p->la[1] = p->la[2];
    p->nla--;
}

static bool ok(const parser *p) { return p->status == SH_E_OK; }

static bool expect(parser *p, enum tok_type type, const char *what)
{
    const token *t = la(p, 0);
    if (!ok(p))
        return false;
    if (t->type != type) {
        char buf[48];
        return fail(p, SH_E_REQ_SYNTAX, t->pos, "expected %s, found %s", what,
                    describe(p, t, buf, sizeof buf));
    }
    advance(p);
    return true;
}

static bool unexpected(parser *p, const token *t, const char *what)
{
    char buf[48];
    if (!ok(p))
        return false;
    return fail(p, SH_E_REQ_SYNTAX, t->pos, "expected %s, found %s", what,
                describe(p, t, buf, sizeof buf));
}

/* ---- token values ---- */

static bool is_value(enum tok_type type)
{
    return type == T_DOTKEY || type == T_STRING || type == T_HEX;
}

static bool hex_pairs(parser *p, bytes *out, size_t from, size_t n, size_t pos)
{
    if (n % 2)
        return fail(p, SH_E_REQ_TEXT_BAD_HEX, pos, "odd number of hex digits");
    if (!reserve(p, out, n / 2, pos))
        return false;
    for (size_t k = 0; k < n; k += 2)
        out->p[out->len++] =
            (uint8_t)(hex_value(ch(p, from + k)) << 4 | hex_value(ch(p, from + k + 1)));
    return true;
}

/* Appends the bytes a DOTKEY, STRING, HEX or HASH token stands for. */
static bool token_bytes(parser *p, const token *t, bytes *out)
{
    switch (t->type) {
    case T_STRING: {
        if (!reserve(p, out, t->len, t->pos))
            return false;
        for (size_t k = t->pos + 1; k + 1 < t->pos + t->len; k++) {
            int c = ch(p, k);
            if (c == '\\')
                c = ch(p, ++k);
            out->p[out->len++] = (uint8_t)c;
        }
        return true;
    }
    case T_HEX: return hex_pairs(p, out, t->pos + 2, t->len - 2, t->pos);
    case T_HASH: return hex_pairs(p, out, t->pos + 2, t->len - 3, t->pos);
    default:
        if (!reserve(p, out, t->len, t->pos))
            return false;
        for (size_t k = 0; k < t->len; k++)
            out->p[out->len++] = (uint8_t)ch(p, t->pos + k);
        return true;
    }
}

/* Emits the next token (DOTKEY, STRING or 0xHEX) as a data item. */
static bool emit_value(parser *p, const char *what)
{
    const token *t = la(p, 0);
    if (!ok(p))
        return false;
    if (!is_value(t->type))
        return unexpected(p, t, what);
    bytes tmp = {0};
    bool good = token_bytes(p, t, &tmp) && emit_data(p, tmp.p, tmp.len, t->pos);
    sh_free(p->alloc, tmp.p);
    if (good)
        advance(p);
    return good;
}

/* Apple's integer(): atol (saturating at the long range) truncated to 32 bits. */
static uint32_t integer_value(const parser *p, const token *t)
{
    uint64_t v = 0;
    for (size_t k = 0; k < t->len; k++) {
        unsigned d = (unsigned)(ch(p, t->pos + k) - '0');
        if (v > ((uint64_t)INT64_MAX - d) / 10) {
            v = INT64_MAX;
            break;
        }
        v = v * 10 + d;
    }
    return (uint32_t)v;
}

/* [ "-" ] INTEGER as a two's complement 32-bit value. */
static bool signed_integer(parser *p, uint32_t *v, bool allow_negative, const char *what)
{
    bool negative = false;
    if (allow_negative && la(p, 0)->type == T_NEG) {
        negative = true;
        advance(p);
    }
    const token *t = la(p, 0);
    if (!ok(p))
        return false;
    if (t->type != T_INTEGER)
        return unexpected(p, t, what);
    *v = integer_value(p, t);
    if (negative)
        *v = 0u - *v;
    advance(p);
    return true;
}

static void optional_eql(parser *p)
{
    enum tok_type type = la(p, 0)->type;
    if (type == T_EQL || type == T_EQQL)
        advance(p);
}

/* ---- dates ---- */

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static bool leap_year(int64_t y) { return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0); }

/* Seconds since 2001-01-01 for a validated date; false when outside int64. */
static bool date_seconds(int64_t year, unsigned month, unsigned day, unsigned hour,
                         unsigned minute, unsigned second, int64_t zone, int64_t *out)
{
    static const unsigned mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 60)
        return false;
    if (day > mdays[month - 1] + (month == 2 && leap_year(year)))
        return false;
    int64_t days = days_from_civil(year, month, day) - DAYS_1970_TO_2001;
    int64_t secs = (int64_t)hour * 3600 + minute * 60 + second, q, t;
    if (days < 0) { /* (days + 1) * 86400 + (secs - 86400): no overflow at the int64 minimum */
        if (__builtin_mul_overflow(days + 1, 86400, &q))
            return false;
        secs -= 86400;
    } else if (__builtin_mul_overflow(days, 86400, &q)) {
        return false;
    }
    return !__builtin_add_overflow(q, secs, &t) && !__builtin_sub_overflow(t, zone, out);
}

/* Two digits at s[k], s[k+1] (the caller checked they are digits). */
static unsigned pair(const uint8_t *s, size_t k)
{
    return (unsigned)(s[k] - '0') * 10 + (unsigned)(s[k + 1] - '0');
}

/* Security's SecAbsoluteTimeFromDateContent for a GeneralizedTime: YYYYMMDDhhmmssZ or
 * YYYYMMDDhhmmss+hhmm / -hhmm, seconds up to 60, no range check on the zone. */
static bool generalized_time(const uint8_t *s, size_t n, int64_t *out)
{
    if (n != 15 && n != 19)
        return false;
    for (size_t k = 0; k < n; k++) {
        bool zone_sign = n == 19 && k == 14 && (s[k] == '+' || s[k] == '-');
        bool zulu = n == 15 && k == 14 && s[k] == 'Z';
        if (!is_digit(s[k]) && !zone_sign && !zulu)
            return false;
    }
    int64_t zone = 0;
    if (n == 19)
        zone = (s[14] == '+' ? 60 : -60) * (int64_t)(pair(s, 15) * 60 + pair(s, 17));
    return date_seconds(pair(s, 0) * 100 + pair(s, 2), pair(s, 4), pair(s, 6), pair(s, 8),
                        pair(s, 10), pair(s, 12), zone, out);
}

/* Reads `count` digits at *k into *v; false if any is not a digit. */
static bool digits(const parser *p, size_t *k, unsigned count, unsigned *v)
{
    *v = 0;
    for (unsigned i = 0; i < count; i++) {
        int c = ch(p, (*k)++);
        if (!is_digit(c))
            return false;
        *v = *v * 10 + (unsigned)(c - '0');
    }
    return true;
}

static bool literal(const parser *p, size_t *k, char c) { return ch(p, (*k)++) == c; }

/* <[-]Y...-MM-DD hh:mm:ss +hhmm> as the decoder prints it. */
static bool date_token(const parser *p, const token *t, int64_t *out)
{
    size_t k = t->pos + 1;
    bool negative = ch(p, k) == '-';
    if (negative)
        k++;
    int64_t year = 0;
    unsigned n = 0;
    while (is_digit(ch(p, k))) {
        if (++n > 15)
            return false;
        year = year * 10 + (ch(p, k++) - '0');
    }
    unsigned month, day, hour, minute, second, zh, zm;
    if (n == 0 || !literal(p, &k, '-') || !digits(p, &k, 2, &month) || !literal(p, &k, '-') ||
        !digits(p, &k, 2, &day) || !literal(p, &k, ' ') || !digits(p, &k, 2, &hour) ||
        !literal(p, &k, ':') || !digits(p, &k, 2, &minute) || !literal(p, &k, ':') ||
        !digits(p, &k, 2, &second) || !literal(p, &k, ' '))
        return false;
    int sign = ch(p, k++);
    if ((sign != '+' && sign != '-') || !digits(p, &k, 2, &zh) || !digits(p, &k, 2, &zm) ||
        !literal(p, &k, '>') || k != t->pos + t->len)
        return false;
    int64_t zone = (sign == '+' ? 60 : -60) * (int64_t)(zh * 60 + zm);
    return date_seconds(negative ? -year : year, month, day, hour, minute, second, zone, out);
}

static bool is_date_start(parser *p)
{
    enum tok_type type = la(p, 0)->type;
    return type == K_TIMESTAMP || type == T_DATE;
}

/* timestamp "GeneralizedTime" | <date> */
static bool parse_date(parser *p, int64_t *out)
{
    const token *t = la(p, 0);
    if (t->type == T_DATE) {
        if (!date_token(p, t, out))
            return fail(p, SH_E_REQ_TEXT_BAD_DATE, t->pos,
                        "expected <YYYY-MM-DD hh:mm:ss +hhmm> with a valid date");
        advance(p);
        return true;
    }
    advance(p); /* "timestamp" */
    t = la(p, 0);
    if (!ok(p))
        return false;
    if (t->type != T_STRING)
        return unexpected(p, t, "a quoted GeneralizedTime after 'timestamp'");
    bytes tmp = {0};
    bool good = token_bytes(p, t, &tmp);
    if (good && !generalized_time(tmp.p, tmp.len, out))
        good = fail(p, SH_E_REQ_TEXT_BAD_DATE, t->pos,
                    "expected \"YYYYMMDDhhmmssZ\" or \"YYYYMMDDhhmmss+hhmm\" with a valid date");
    sh_free(p->alloc, tmp.p);
    if (good)
        advance(p);
    return good;
}

/* ---- OIDs ---- */

/* Dotted text (first arc 0..2, second below 40 unless the first is 2, arcs within 64 bits) ->
 * DER content bytes, as CssmOwnedData::fromOid encodes them. */
static bool oid_encode(const uint8_t *s, size_t n, uint8_t *out, size_t *out_len)
{
    uint64_t arcs_seen = 0, first = 0;
    size_t k = 0, o = 0;
    while (k < n || arcs_seen == 0) {
        if (arcs_seen > 0 && (k >= n || s[k++] != '.'))
            return false;
        if (k >= n || !is_digit(s[k]))
            return false;
        uint64_t v = 0;
        while (k < n && is_digit(s[k])) {
            unsigned d = (unsigned)(s[k++] - '0');
            if (v > (UINT64_MAX - d) / 10)
                return false;
            v = v * 10 + d;
        }
        arcs_seen++;
        if (arcs_seen == 1) {
            if (v > 2)
                return false;
            first = v;
            continue;
        }
        if (arcs_seen == 2) {
            if ((first < 2 && v >= 40) || v > UINT64_MAX - 40 * first)
                return false;
            v += 40 * first;
        }
        uint8_t group[10];
        size_t g = 0;
        do {
            group[g++] = (uint8_t)(v & 0x7f);
            v >>= 7;
        } while (v);
        if (o + g > SH_MAX_REQUIREMENT_OID_LEN)
            return false;
        while (g > 0) {
            g--;
            out[o++] = (uint8_t)(group[g] | (g ? 0x80 : 0));
        }
    }
    if (arcs_seen < 2)
        return false;
    *out_len = o;
    return true;
}

/* ---- grammar ---- */

static bool expr(parser *p, unsigned depth);
static bool primary(parser *p, unsigned depth);

static bool prefix_is(const bytes *key, const char *prefix, size_t *rest)
{
    size_t n = strlen(prefix);
    if (key->len < n || memcmp(key->p, prefix, n) != 0)
        return false;
    *rest = n;
    return true;
}

/* The match suffix after info[..], entitlement[..] and certificate ..[..]. */
static bool match_suffix(parser *p)
{
    const token *t = la(p, 0);
    size_t pos = t->pos;
    enum tok_type type = t->type;
    if (!ok(p))
        return false;
    switch (type) {
    case K_EXISTS: advance(p); return append_u32(p, &p->out, SH_REQ_MATCH_EXISTS, pos);
    case K_ABSENT: advance(p); return append_u32(p, &p->out, SH_REQ_MATCH_ABSENT, pos);
    case T_EQL:
    case T_EQQL:
    case T_SUBS:
    case T_LESS:
    case T_GT:
    case T_LE:
    case T_GE: break;
    default: return append_u32(p, &p->out, SH_REQ_MATCH_EXISTS, pos); /* empty suffix */
    }
    advance(p);
    if (type != T_SUBS && is_date_start(p)) {
        int64_t when;
        uint32_t mop = type == T_LESS ? SH_REQ_MATCH_BEFORE
                       : type == T_GT ? SH_REQ_MATCH_AFTER
                       : type == T_LE ? SH_REQ_MATCH_ON_OR_BEFORE
                       : type == T_GE ? SH_REQ_MATCH_ON_OR_AFTER
                                      : SH_REQ_MATCH_ON;
        return parse_date(p, &when) && append_u32(p, &p->out, mop, pos) &&
               append_u64(p, &p->out, (uint64_t)when, pos);
    }
    uint32_t mop;
    switch (type) {
    case T_SUBS: mop = SH_REQ_MATCH_CONTAINS; break;
    case T_LESS: mop = SH_REQ_MATCH_LESS_THAN; break;
    case T_GT: mop = SH_REQ_MATCH_GREATER_THAN; break;
    case T_LE: mop = SH_REQ_MATCH_LESS_EQUAL; break;
    case T_GE: mop = SH_REQ_MATCH_GREATER_EQUAL; break;
    default:
        mop = SH_REQ_MATCH_EQUAL;
        if (la(p, 0)->type == T_STAR) {
            advance(p);
            mop = SH_REQ_MATCH_ENDS_WITH;
        }
        if (!is_value(la(p, 0)->type))
            return unexpected(p, la(p, 0), "a string, 0x constant or date to match");
        if (la(p, 1)->type == T_STAR) { /* value then '*': begins-with, or contains */
            mop = mop == SH_REQ_MATCH_ENDS_WITH ? SH_REQ_MATCH_CONTAINS
                                                : SH_REQ_MATCH_BEGINS_WITH;
            if (!append_u32(p, &p->out, mop, pos) || !emit_value(p, "a value"))
                return false;
            advance(p); /* '*' */
            return true;
        }
        break;
    }
    return append_u32(p, &p->out, mop, pos) && emit_value(p, "a string or 0x constant to match");
}

/* "[" string "]" into key (raw bytes); pos receives the key token's position. */
static bool bracket_key(parser *p, bytes *key, size_t *pos)
{
    if (!expect(p, T_LBRACK, "'['"))
        return false;
    const token *t = la(p, 0);
    if (!ok(p))
        return false;
    if (!is_value(t->type))
        return unexpected(p, t, "a key inside [ ]");
    *pos = t->pos;
    if (!token_bytes(p, t, key))
        return false;
    advance(p);
    return expect(p, T_RBRACK, "']'");
}

/* certificate <slot>[key] match: the key's prefix picks the opcode (certMatchOperation). */
static bool cert_field(parser *p, uint32_t slot, size_t op_pos)
{
    bytes key = {0};
    size_t key_pos = 0, rest = 0;
    bool good = bracket_key(p, &key, &key_pos);
    if (good) {
        uint32_t op = 0;
        if (prefix_is(&key, "timestamp.", &rest))
            op = SH_REQ_OP_CERT_FIELD_DATE;
        else if (prefix_is(&key, "subject.", &rest))
            op = SH_REQ_OP_CERT_FIELD;
        else if (prefix_is(&key, "field.", &rest) || prefix_is(&key, "extension.", &rest))
            op = SH_REQ_OP_CERT_GENERIC;
        else if (prefix_is(&key, "policy.", &rest))
            op = SH_REQ_OP_CERT_POLICY;
        if (op == 0) {
            good = fail(p, SH_E_REQ_TEXT_BAD_FIELD, key_pos,
                        "unrecognized certificate field (use subject.*, field.*, extension.*, "
                        "policy.* or timestamp.*)");
        } else if (!emit_op(p, op, op_pos) || !append_u32(p, &p->out, slot, op_pos)) {
            good = false;
        } else if (op == SH_REQ_OP_CERT_FIELD) {
            good = emit_data(p, key.p, key.len, key_pos);
        } else {
            uint8_t oid[SH_MAX_REQUIREMENT_OID_LEN];
            size_t oid_len = 0;
            if (!oid_encode(key.p + rest, key.len - rest, oid, &oid_len))
                good = fail(p, SH_E_REQ_TEXT_BAD_OID, key_pos,
                            "malformed OID: arcs are decimal numbers below 2^64 separated by "
                            "dots, the first 0, 1 or 2, the second below 40 unless the first "
                            "is 2, at most %u encoded bytes",
                            (unsigned)SH_MAX_REQUIREMENT_OID_LEN);
            else
                good = emit_data(p, oid, oid_len, key_pos);
        }
    }
    sh_free(p->alloc, key.p);
    return good && match_suffix(p);
}

/* After a certificate slot: [=] H"sha1" (opAnchorHash) or [key] match. */
static bool cert_slot_spec(parser *p, uint32_t slot, size_t op_pos)
{
    if (la(p, 0)->type == T_LBRACK)
        return cert_field(p, slot, op_pos);
    optional_eql(p);
    const token *t = la(p, 0);
    if (!ok(p))
        return false;
    if (t->type == T_DOTKEY || t->type == T_STRING || t->type == T_PATH)
        return fail(p, SH_E_REQ_TEXT_FILE_REFERENCE, t->pos,
                    "certificate files are not read; give the certificate's SHA-1 as H\"...\"");
    if (t->type != T_HASH)
        return unexpected(p, t, "'[', '=' or H\"sha1\" after the certificate");
    if (t->len != 43)
        return fail(p, SH_E_REQ_TEXT_BAD_HEX, t->pos, "a certificate hash has 40 hex digits");
    bytes hash = {0};
    bool good = token_bytes(p, t, &hash) && emit_op(p, SH_REQ_OP_ANCHOR_HASH, op_pos) &&
                append_u32(p, &p->out, slot, op_pos) && emit_data(p, hash.p, hash.len, t->pos);
    sh_free(p->alloc, hash.p);
    if (good)
        advance(p);
    return good;
}

static bool cert_spec(parser *p)
{
    const token *t0 = la(p, 0);
    size_t pos = t0->pos;
    enum tok_type first = t0->type, second = la(p, 1)->type;
    if (!ok(p))
        return false;
    if (second == K_TRUSTED) { /* anchor/certificate/cert trusted */
        advance(p);
        advance(p);
        return emit_op(p, SH_REQ_OP_TRUSTED_CERTS, pos);
    }
    if (first == K_ANCHOR) {
        if (second == K_APPLE) {
            advance(p);
            advance(p);
            enum tok_type next = la(p, 0)->type;
            if (next == K_GENERIC) {
                advance(p);
                return emit_op(p, SH_REQ_OP_APPLE_GENERIC_ANCHOR, pos);
            }
            /* a name follows, unless it is the set type "invalid =>" of the next entry */
            if (is_value(next) && !(token_is(p, la(p, 0), "invalid") && la(p, 1)->type == T_ARROW))
                return emit_op(p, SH_REQ_OP_NAMED_ANCHOR, pos) &&
                       emit_value(p, "an anchor name");
            return emit_op(p, SH_REQ_OP_APPLE_ANCHOR, pos);
        }
        if (second == K_GENERIC) {
            advance(p);
            advance(p);
            return expect(p, K_APPLE, "'apple' after 'anchor generic'") &&
                   emit_op(p, SH_REQ_OP_APPLE_GENERIC_ANCHOR, pos);
        }
        advance(p);
        return cert_slot_spec(p, (uint32_t)SH_REQ_CERT_ANCHOR, pos);
    }
    advance(p); /* certificate | cert */
    uint32_t slot;
    enum tok_type type = la(p, 0)->type;
    if (type == K_LEAF || type == K_ROOT) {
        slot = type == K_LEAF ? (uint32_t)SH_REQ_CERT_LEAF : (uint32_t)SH_REQ_CERT_ANCHOR;
        advance(p);
    } else if (!signed_integer(p, &slot, true, "a certificate: leaf, root, N or -N")) {
        return false;
    }
    if (la(p, 0)->type == K_TRUSTED) {
        advance(p);
        return emit_op(p, SH_REQ_OP_TRUSTED_CERT, pos) && append_u32(p, &p->out, slot, pos);
    }
    return cert_slot_spec(p, slot, pos);
}

/* info[key] match | entitlement[key] match | legacy info[key] = value */
static bool keyed(parser *p, uint32_t op)
{
    size_t pos = la(p, 0)->pos;
    advance(p);
    bytes key = {0};
    size_t key_pos = 0;
    bool good = bracket_key(p, &key, &key_pos) && emit_op(p, op, pos) &&
                emit_data(p, key.p, key.len, key_pos);
    sh_free(p->alloc, key.p);
    if (!good)
        return false;
    if (op != SH_REQ_OP_INFO_KEY_VALUE)
        return match_suffix(p);
    enum tok_type type = la(p, 0)->type;
    if (type != T_EQL && type != T_EQQL)
        return unexpected(p, la(p, 0), "'=' after legacy info[key]");
    advance(p);
    return emit_value(p, "the value of legacy info[key]");
}

/* opcode(0xVALUE) primary  |  opcode(0xVALUE, H"payload") [primary]  (extensions) */
static bool opcode_form(parser *p, unsigned depth)
{
    size_t pos = la(p, 0)->pos;
    advance(p);
    advance(p); /* opcode ( */
    const token *t = la(p, 0);
    if (!ok(p))
        return false;
    uint64_t v = 0;
    if (t->type == T_HEX && t->len <= 10) {
        for (size_t k = t->pos + 2; k < t->pos + t->len; k++)
            v = v << 4 | (uint64_t)hex_value(ch(p, k));
    } else if (t->type == T_INTEGER && t->len <= 10) {
        for (size_t k = t->pos; k < t->pos + t->len; k++)
            v = v * 10 + (uint64_t)(ch(p, k) - '0');
        if (v > UINT32_MAX)
            return fail(p, SH_E_REQ_TEXT_BAD_RAW, t->pos, "the opcode does not fit 32 bits");
    } else {
        return unexpected(p, t, "a 32-bit opcode (0x........)");
    }
    uint32_t op = (uint32_t)v, base = op & ~SH_REQ_OP_FLAG_MASK;
    size_t op_pos = t->pos;
    advance(p);
    if (la(p, 0)->type == T_COMMA) { /* an unknown opcode with its payload */
        advance(p);
        t = la(p, 0);
        if (!ok(p))
            return false;
        if (t->type != T_HASH)
            return unexpected(p, t, "the opcode's payload as H\"...\"");
        if (base < SH_REQ_OP_COUNT ||
            !(op & (SH_REQ_OP_GENERIC_FALSE | SH_REQ_OP_GENERIC_SKIP)))
            return fail(p, SH_E_REQ_TEXT_BAD_RAW, op_pos,
                        "opcode(0x%08x, H\"...\") needs an unknown opcode (low 24 bits >= 24) "
                        "with the generic-false (0x80000000) or generic-skip (0x40000000) bit",
                        (unsigned)op);
        bytes payload = {0};
        bool good = token_bytes(p, t, &payload) && emit_op(p, op, pos) &&
                    payload.len <= UINT32_MAX &&
                    append_u32(p, &p->out, (uint32_t)payload.len, pos) &&
                    append(p, &p->out, payload.p, payload.len, pos);
        sh_free(p->alloc, payload.p);
        if (!good)
            return false;
        advance(p);
        if (!expect(p, T_RPAREN, "')'"))
            return false;
        if (op & SH_REQ_OP_GENERIC_FALSE)
            return true;
        return primary(p, depth + 1); /* generic skip: the expression it precedes */
    }
    if (!expect(p, T_RPAREN, "')' or ', H\"payload\"'"))
        return false;
    if (base >= SH_REQ_OP_COUNT)
        return fail(p, SH_E_REQ_TEXT_BAD_RAW, op_pos,
                    "opcode(0x%08x) without a payload must be a known opcode with flag bits",
                    (unsigned)op);
    /* The flagged expression sits at this same level in the binary, so the depth does not grow;
     * a second prefix right after would recurse without progress, so it is refused. */
    if (token_is(p, la(p, 0), "opcode") && la(p, 1)->type == T_LPAREN)
        return fail(p, SH_E_REQ_TEXT_BAD_RAW, la(p, 0)->pos,
                    "opcode(0x%08x) cannot be followed by another opcode()", (unsigned)op);
    size_t at = p->out.len;
    if (!primary(p, depth))
        return false;
    if (p->out.len < at + 4 || (load_u32(p->out.p + at) & ~SH_REQ_OP_FLAG_MASK) != base)
        return fail(p, SH_E_REQ_TEXT_BAD_RAW, op_pos,
                    "opcode(0x%08x) does not match the expression that follows it",
                    (unsigned)op);
    store_u32(p->out.p + at, op);
    return true;
}

/* raw(H"bytes"): exactly one complete expression, copied as is (extension). */
static bool raw_form(parser *p, unsigned depth)
{
    advance(p);
    advance(p); /* raw ( */
    const token *t = la(p, 0);
    if (!ok(p))
        return false;
    if (t->type != T_HASH)
        return unexpected(p, t, "the expression's bytes as H\"...\"");
    bytes frag = {0};
    bool good = token_bytes(p, t, &frag);
    if (good) {
        sh_cursor c = sh_cursor_make(frag.p, frag.len);
        sh_error inner = {0};
        uint32_t ops = p->ops;
        if (sh_req_check_fragment(&c, depth - 1, &ops, &inner) != SH_E_OK)
            good = fail(p, SH_E_REQ_TEXT_BAD_RAW, t->pos,
                        "raw() bytes are not one complete expression: %s at byte %llu",
                        sh_err_name(inner.code), (unsigned long long)inner.offset);
        else
            good = count_ops(p, ops - p->ops, t->pos) &&
                   append(p, &p->out, frag.p, frag.len, t->pos);
    }
    sh_free(p->alloc, frag.p);
    if (!good)
        return false;
    advance(p);
    return expect(p, T_RPAREN, "')'");
}

static bool primary(parser *p, unsigned depth)
{
    const token *t = la(p, 0);
    size_t pos = t->pos;
    if (!ok(p))
        return false;
    if (depth > SH_MAX_REQUIREMENT_DEPTH)
        return fail(p, SH_E_REQ_TOO_DEEP, pos,
                    "expressions nest deeper than SH_MAX_REQUIREMENT_DEPTH (%u)",
                    (unsigned)SH_MAX_REQUIREMENT_DEPTH);
    switch (t->type) {
    case T_LPAREN: {
        const token *t1 = la(p, 1), *t2 = la(p, 2);
        if (is_value(t1->type) && t2->type == T_RPAREN) { /* (name): named code */
            advance(p);
            if (!emit_op(p, SH_REQ_OP_NAMED_CODE, pos) || !emit_value(p, "a code name"))
                return false;
            advance(p);
            return true;
        }
        advance(p);
        return expr(p, depth + 1) && expect(p, T_RPAREN, "')'");
    }
    case T_NOT:
        advance(p);
        return emit_op(p, SH_REQ_OP_NOT, pos) && primary(p, depth + 1);
    case K_ALWAYS:
    case K_TRUE: advance(p); return emit_op(p, SH_REQ_OP_TRUE, pos);
    case K_NEVER:
    case K_FALSE: advance(p); return emit_op(p, SH_REQ_OP_FALSE, pos);
    case K_NOTARIZED: advance(p); return emit_op(p, SH_REQ_OP_NOTARIZED, pos);
    case K_LEGACY:
        if (la(p, 1)->type == K_INFO) {
            advance(p);
            return keyed(p, SH_REQ_OP_INFO_KEY_VALUE);
        }
        advance(p);
        return emit_op(p, SH_REQ_OP_LEGACY_DEVID, pos);
    case K_IDENTIFIER:
        advance(p);
        optional_eql(p);
        return emit_op(p, SH_REQ_OP_IDENT, pos) && emit_value(p, "the code identifier");
    case K_CDHASH: {
        advance(p);
        optional_eql(p);
        t = la(p, 0);
        if (!ok(p))
            return false;
        if (t->type != T_HASH)
            return unexpected(p, t, "the cdhash as H\"...\"");
        bytes hash = {0};
        bool good = token_bytes(p, t, &hash) && emit_op(p, SH_REQ_OP_CDHASH, pos) &&
                    emit_data(p, hash.p, hash.len, t->pos);
        sh_free(p->alloc, hash.p);
        if (good)
            advance(p);
        return good;
    }
    case K_PLATFORM: {
        advance(p);
        optional_eql(p);
        uint32_t v;
        return signed_integer(p, &v, true, "the platform number") &&
               emit_op(p, SH_REQ_OP_PLATFORM, pos) && append_u32(p, &p->out, v, pos);
    }
    case K_ANCHOR:
    case K_CERTIFICATE:
    case K_CERT: return cert_spec(p);
    case K_INFO: return keyed(p, SH_REQ_OP_INFO_KEY_FIELD);
    case K_ENTITLEMENT: return keyed(p, SH_REQ_OP_ENTITLEMENT_FIELD);
    case T_DOTKEY:
        if (token_is(p, t, "not")) {
            advance(p);
            return emit_op(p, SH_REQ_OP_NOT, pos) && primary(p, depth + 1);
        }
        if (token_is(p, t, "opcode") && la(p, 1)->type == T_LPAREN)
            return opcode_form(p, depth);
        if (token_is(p, t, "raw") && la(p, 1)->type == T_LPAREN)
            return raw_form(p, depth);
        return unexpected(p, t, "a requirement expression");
    default: return unexpected(p, t, "a requirement expression");
    }
}

/* term := primary ("and" primary)*   expr := term ("or" term)*   (left-associative) */
static bool chain(parser *p, unsigned depth, bool is_or)
{
    size_t label = p->out.len;
    enum tok_type joiner = is_or ? K_OR : K_AND;
    if (!(is_or ? chain(p, depth, false) : primary(p, depth)))
        return false;
    uint32_t count = 0;
    size_t pos = 0;
    while (la(p, 0)->type == joiner) {
        if (count == 0)
            pos = la(p, 0)->pos;
        advance(p);
        count++;
        if (!(is_or ? chain(p, depth, false) : primary(p, depth)))
            return false;
    }
    return ok(p) && (count == 0 ||
                     insert_ops(p, label, is_or ? SH_REQ_OP_OR : SH_REQ_OP_AND, count, pos));
}

static bool expr(parser *p, unsigned depth) { return chain(p, depth, true); }

/* One requirement: header, expression, optional ';'s.  Leaves the blob in p->out. */
static bool element(parser *p)
{
    size_t pos = la(p, 0)->pos;
    p->out.len = 0;
    if (!append_u32(p, &p->out, SH_REQ_MAGIC, pos) || !append_u32(p, &p->out, 0, pos) ||
        !append_u32(p, &p->out, SH_REQ_KIND_EXPR, pos) || !expr(p, 1))
        return false;
    while (la(p, 0)->type == T_SEMI)
        advance(p);
    store_u32(p->out.p + 4, (uint32_t)p->out.len);
    return ok(p);
}

static bool is_type_start(parser *p)
{
    const token *t = la(p, 0);
    switch (t->type) {
    case K_GUEST:
    case K_HOST:
    case K_DESIGNATED:
    case K_LIBRARY:
    case K_PLUGIN:
    case T_INTEGER: return true;
    default: return token_is(p, t, "invalid") && la(p, 1)->type == T_ARROW;
    }
}

typedef struct set_entry {
    uint32_t type;
    bytes blob;
} set_entry;

typedef struct set_build {
    set_entry entries[SH_MAX_REQUIREMENT_SET_ENTRIES];
    uint32_t count;
} set_build;

static bool set_add(parser *p, set_build *set, uint32_t type, size_t pos)
{
    uint32_t i = 0;
    while (i < set->count && set->entries[i].type < type)
        i++;
    if (i < set->count && set->entries[i].type == type) { /* a later entry replaces */
        sh_free(p->alloc, set->entries[i].blob.p);
    } else {
        if (set->count == SH_MAX_REQUIREMENT_SET_ENTRIES) {
            sh_free(p->alloc, p->out.p);
            p->out = (bytes){0};
            return fail(p, SH_E_REQSET_TOO_MANY_ENTRIES, pos,
                        "more than SH_MAX_REQUIREMENT_SET_ENTRIES (%u) requirement types",
                        (unsigned)SH_MAX_REQUIREMENT_SET_ENTRIES);
        }
        memmove(&set->entries[i + 1], &set->entries[i],
                (set->count - i) * sizeof set->entries[0]);
        set->count++;
    }
    set->entries[i].type = type;
    set->entries[i].blob = p->out;
    p->out = (bytes){0};
    return true;
}

static bool requirement_set(parser *p, set_build *set)
{
    while (ok(p) && la(p, 0)->type != T_EOF) {
        const token *t = la(p, 0);
        size_t pos = t->pos;
        uint32_t type;
        switch (t->type) {
        case K_HOST: type = SH_REQ_TYPE_HOST; break;
        case K_GUEST: type = SH_REQ_TYPE_GUEST; break;
        case K_DESIGNATED: type = SH_REQ_TYPE_DESIGNATED; break;
        case K_LIBRARY: type = SH_REQ_TYPE_LIBRARY; break;
        case K_PLUGIN: type = SH_REQ_TYPE_PLUGIN; break;
        case T_INTEGER: type = integer_value(p, t); break;
        default:
            if (!token_is(p, t, "invalid"))
                return unexpected(p, t,
                                  "a requirement type (host, guest, designated, library, "
                                  "plugin or a number)");
            type = 0;
            break;
        }
        advance(p);
        if (!expect(p, T_ARROW, "'=>' after the requirement type") || !element(p) ||
            !set_add(p, set, type, pos))
            return false;
    }
    return ok(p);
}

static bool assemble_set(parser *p, const set_build *set, bytes *out)
{
    uint64_t total = SH_REQSET_HEADER_SIZE + (uint64_t)set->count * 8;
    for (uint32_t i = 0; i < set->count; i++)
        total += set->entries[i].blob.len;
    if (total > SH_MAX_REQUIREMENT_SIZE)
        return fail(p, SH_E_REQ_TOO_LARGE, 0,
                    "the compiled requirement set exceeds SH_MAX_REQUIREMENT_SIZE (%u bytes)",
                    (unsigned)SH_MAX_REQUIREMENT_SIZE);
    if (!append_u32(p, out, SH_REQSET_MAGIC, 0) || !append_u32(p, out, (uint32_t)total, 0) ||
        !append_u32(p, out, set->count, 0))
        return false;
    uint32_t offset = SH_REQSET_HEADER_SIZE + set->count * 8;
    for (uint32_t i = 0; i < set->count; i++) {
        if (!append_u32(p, out, set->entries[i].type, 0) || !append_u32(p, out, offset, 0))
            return false;
        offset += (uint32_t)set->entries[i].blob.len;
    }
    for (uint32_t i = 0; i < set->count; i++)
        if (!append(p, out, set->entries[i].blob.p, set->entries[i].blob.len, 0))
            return false;
    return true;
}

sh_err sh_req_compile(const char *text, size_t len, sh_req_parse_mode mode,
                      const sh_allocator *a, uint8_t **blob, size_t *blob_len, sh_req_diag *diag,
                      sh_error *err)
{
    *blob = NULL;
    *blob_len = 0;
    if (diag)
        memset(diag, 0, sizeof *diag);
    parser p = {.text = sh_cursor_make((const uint8_t *)text, len), .alloc = a, .err = err,
                .diag = diag};
    if (len > SH_MAX_REQUIREMENT_TEXT) {
        fail(&p, SH_E_REQ_TEXT_TOO_LONG, 0, "the text exceeds SH_MAX_REQUIREMENT_TEXT");
        return p.status;
    }
    if (mode == SH_REQ_PARSE_AUTO) {
        if (la(&p, 0)->type == T_EOF && ok(&p))
            fail(&p, SH_E_REQ_SYNTAX, la(&p, 0)->pos, "empty requirement text");
        else
            mode = is_type_start(&p) ? SH_REQ_PARSE_SET : SH_REQ_PARSE_SINGLE;
    }
    set_build *set = NULL;
    bytes result = {0};
    if (ok(&p) && mode == SH_REQ_PARSE_SET) {
        set = sh_calloc(a, 1, sizeof *set);
        if (!set)
            fail(&p, SH_E_NO_MEMORY, 0, "out of memory");
        else if (requirement_set(&p, set))
            assemble_set(&p, set, &result);
    } else if (ok(&p)) {
        if (element(&p) && expect(&p, T_EOF, "'and', 'or' or the end of the requirement")) {
            result = p.out;
            p.out = (bytes){0};
        }
    }
    if (set) {
        for (uint32_t i = 0; i < set->count; i++)
            sh_free(a, set->entries[i].blob.p);
        sh_free(a, set);
    }
    sh_free(a, p.out.p);
    if (ok(&p)) { /* everything compiled must decode: depth, op count, sizes */
        sh_cursor c = sh_cursor_make(result.p, result.len);
        sh_error check = {0};
        if (sh_req_check(&c, NULL, &check) != SH_E_OK) {
            fail(&p, check.code, 0, "the compiled requirement is not valid: %s",
                 sh_err_message(check.code));
        }
    }
    if (!ok(&p)) {
        sh_free(a, result.p);
        return p.status;
    }
    *blob = result.p;
    *blob_len = result.len;
    return SH_E_OK;
}
