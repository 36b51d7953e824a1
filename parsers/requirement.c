/* Code requirements, binary -> text.
 *
 * THE TEXT FORM (what the decoder prints and the compiler in reqcompile.c reads)
 *
 *   set        := ( type "=>" element )*          type: host guest designated library plugin
 *                                                        | INTEGER | invalid (= 0)
 *   element    := expr ( ";" )*
 *   expr       := term ( "or" term )*              left-associative: a or b or c = or(or(a,b),c)
 *   term       := primary ( "and" primary )*       "and" binds tighter than "or"
 *   primary    := "(" expr ")" | "!" primary | "always" | "true" | "never" | "false"
 *              |  "identifier" [=] string          | "cdhash" [=] H"hex"
 *              |  "platform" [=] INTEGER           | "notarized" | "legacy"
 *              |  "anchor" "apple" [ "generic" | string ]   | "anchor" "generic" "apple"
 *              |  ("anchor" | "certificate" | "cert") "trusted"
 *              |  ("certificate" | "cert") slot ( "trusted" | slotspec ) | "anchor" slotspec
 *              |  "info" "[" string "]" match  | "entitlement" "[" string "]" match
 *              |  "(" string ")"                                  (named code)
 *   slot       := "leaf" (0) | "root" (-1) | INTEGER | "-" INTEGER
 *   slotspec   := [=] H"40 hex digits"                            (opAnchorHash)
 *              |  "[" key "]" match       key: subject.X (opCertField), field.OID or
 *                                         extension.OID (opCertGeneric), policy.OID
 *                                         (opCertPolicy), timestamp.OID (opCertFieldDate)
 *   match      := [ "exists" ] | "absent" | ("="|"==") ["*"] value ["*"] | "~" value
 *              |  ("<" | ">" | "<=" | ">=") value | ("=" | "<" | ">" | "<=" | ">=") date
 *   value      := string | 0xHEX       string := DOTKEY | "quoted"
 *   date       := "timestamp" "YYYYMMDDhhmmssZ" | "timestamp" "YYYYMMDDhhmmss+hhmm"
 *              |  <YYYY-MM-DD hh:mm:ss +0000>
 *   comments   := # ... | // ... | C-style block comments
 *
 * Printing follows Security's Dumper (reqdumper.cpp): and/or parenthesised only where the
 * precedence needs it, `! x`, `certificate leaf[field.1.2.3]` + the
 * comment "exists" for matchExists, `info[k] absent `
 * (Apple's trailing space kept), `= v*` begins-with, `= *v` ends-with, `~ v` contains, hashes as
 * H"lowercase hex", dates as <YYYY-MM-DD hh:mm:ss +0000> (NSDate's description, the form
 * CFCopyDescription gives on macOS; years before 1 print with a '-' and as many digits as
 * needed).  Strings print bare when they are a name (letters and digits, starting with a letter;
 * dots allowed inside bracket keys) and not a keyword, quoted with \" and \\ escapes when every
 * byte is printable or white space, otherwise as 0xHEX.
 *
 * The default text is Apple's, byte for byte, with two exceptions: long bare strings are not cut
 * at 255 bytes (Apple's print buffer), and for an unknown opcode with the generic-false/skip bit
 * Apple's Dumper prints ` false` or nothing plus the comment "opcode N" and then misreads the size
 * field as the next opcode; here the payload is skipped and, for skip, the expression that
 * follows is printed.
 *
 * SH_REQ_TEXT_LOSSLESS differs from Apple's text only where Apple's loses information:
 *  - the right operand of and-in-and / or-in-or is parenthesised: Apple's compiler only builds
 *    left-nested chains, so `a and (b and c)` is the only text that rebuilds and(a, and(b,c))
 *    (codesign's default designated requirements are right-nested);
 *  - `certificate leaf trusted` (Apple prints `certificate leaftrusted`, which it cannot parse);
 *  - a bare name inside [] must lex back as one name (Apple prints `[a..b]` bare);
 *  - opInfoKeyValue (legacy) prints `legacy info[k] = v` (Apple: `info[k] = v`, which compiles to
 *    opInfoKeyField);
 *  - an opcode with flag bits in its high byte prints `opcode(0x40000002) identifier x`;
 *  - an unknown opcode with the generic-false/skip bit prints `opcode(0x80000018, H"payload")`
 *    (skip: followed by the expression it precedes);
 *  - opCertField whose key does not start with "subject." prints `raw(H"...")` (the op's exact
 *    bytes), since the compiler maps every bracket key by its prefix;
 *  - set entries of unknown type print `N =>` after the comment "unknown type", N unsigned.
 *
 * Compiler extensions (Apple's compiler rejects these texts, so none changes the meaning of a
 * text Apple accepts): the lossless forms above, `not` for `!`, `\\` in strings, 0xHEX wherever a
 * string is accepted, `cdhash H"..."` of any length (H"" too), `platform = -N`, <date>, `invalid`
 * as set type 0, an empty set.  Certificate file paths are refused (no file access).  Malformed
 * OIDs and dates are errors (Apple stores 0 or partial bytes silently).
 *
 * Strictness beyond Apple's reader (all errSecCSReqInvalid): data items must be followed by
 * their zero padding inside the blob, no bytes may follow the expression, OIDs must be valid DER
 * content, nesting follows Apple's interpreter limit (999 levels). */
#include "requirement.h"

#include <string.h>

#define SET_INDEX_SIZE 8u
#define MAX_KEYWORD_LEN 12u

/* ---- text sink: a caller buffer, a growing allocation, or nothing ---- */

typedef struct sink {
    char *buf;
    size_t cap;
    size_t len; /* bytes produced, also those that did not fit a fixed buffer */
    const sh_allocator *alloc;
    bool grow;
    sh_err err;
} sink;

static void sink_put(sink *s, const char *p, size_t n)
{
    if (!s || s->err != SH_E_OK || n == 0)
        return;
    if (n > SH_MAX_REQUIREMENT_TEXT - s->len) {
        s->err = SH_E_REQ_TEXT_TOO_LONG;
        return;
    }
    size_t need = s->len + n + 1;
    if (s->grow && need > s->cap) {
        size_t cap = s->cap ? s->cap : 256;
        while (cap < need)
            cap *= 2;
        if (cap > SH_MAX_REQUIREMENT_TEXT + 1)
            cap = SH_MAX_REQUIREMENT_TEXT + 1;
        char *bigger = sh_calloc(s->alloc, cap, 1);
        if (!bigger) {
            s->err = SH_E_NO_MEMORY;
            return;
        }
        if (s->len)
            memcpy(bigger, s->buf, s->len);
        sh_free(s->alloc, s->buf);
        s->buf = bigger;
        s->cap = cap;
    }
    if (s->buf && s->len < s->cap) {
        size_t room = s->cap - 1 - s->len;
        memcpy(s->buf + s->len, p, n < room ? n : room);
    }
    s->len += n;
}

static void sink_str(sink *s, const char *str) { sink_put(s, str, strlen(str)); }
static void sink_char(sink *s, char ch) { sink_put(s, &ch, 1); }

static void sink_u64(sink *s, uint64_t v)
{
    char digits[24];
    size_t n = sizeof digits;
    do {
        digits[--n] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    sink_put(s, digits + n, sizeof digits - n);
}

static void sink_i64(sink *s, int64_t v)
{
    if (v < 0) {
        sink_char(s, '-');
        sink_u64(s, (uint64_t)0 - (uint64_t)v);
    } else {
        sink_u64(s, (uint64_t)v);
    }
}

/* Zero-padded to at least width digits. */
static void sink_u64_width(sink *s, uint64_t v, unsigned width)
{
    uint64_t limit = 1;
    for (unsigned i = 1; i < width; i++) {
        limit *= 10;
        if (v < limit)
            sink_char(s, '0');
    }
    sink_u64(s, v);
}

static const char hex_digits[] = "0123456789abcdef";

static void sink_hex_u32(sink *s, uint32_t v)
{
    char out[10] = {'0', 'x'};
    for (int i = 0; i < 8; i++)
        out[2 + i] = hex_digits[(v >> (28 - 4 * i)) & 0xf];
    sink_put(s, out, sizeof out);
}

/* Lowercase hex of every byte of v. */
static void sink_hex_bytes(sink *s, sh_cursor v)
{
    char chunk[128];
    size_t n = 0;
    uint8_t b;
    while (sh_cursor_u8(&v, &b)) {
        chunk[n++] = hex_digits[b >> 4];
        chunk[n++] = hex_digits[b & 0xf];
        if (n == sizeof chunk) {
            sink_put(s, chunk, n);
            n = 0;
        }
    }
    sink_put(s, chunk, n);
}

/* ---- character classes (C locale, as Apple's ctype calls see bytes) ---- */

static bool is_digit(uint8_t b) { return b >= '0' && b <= '9'; }
static bool is_alpha(uint8_t b) { return (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z'); }
static bool is_alnum(uint8_t b) { return is_digit(b) || is_alpha(b); }
static bool is_graph(uint8_t b) { return b > 0x20 && b < 0x7f; }
static bool is_space(uint8_t b) { return b == ' ' || (b >= '\t' && b <= '\r'); }

/* The requirement language's reserved words (RequirementKeywords.h) plus "", which Apple's
 * Dumper lists so that an empty string prints as "". */
static const char *const keywords[] = {
    "guest",  "host",     "designated", "library", "plugin",      "or",          "and",
    "always", "true",     "never",      "false",   "identifier",  "cdhash",      "platform",
    "notarized", "legacy", "anchor",   "apple",   "generic",     "certificate", "cert",
    "trusted", "info",    "entitlement", "exists", "absent",      "leaf",        "root",
    "timestamp", "",
};

static bool is_keyword(sh_cursor v)
{
    if (v.len > MAX_KEYWORD_LEN)
        return false;
    char word[MAX_KEYWORD_LEN + 1];
    size_t n = v.len;
    if (!sh_cursor_copy(&v, word, n))
        return false;
    word[n] = '\0';
    for (size_t i = 0; i < sizeof keywords / sizeof keywords[0]; i++)
        if (strlen(keywords[i]) == n && memcmp(keywords[i], word, n) == 0)
            return true;
    return false;
}

/* True when v lexes back as exactly one DOTKEY: IDENT ( "." ( IDENT | INTEGER ) )*, where
 * IDENT is a letter followed by letters and digits and INTEGER is digits. */
static bool is_dotkey(sh_cursor v)
{
    enum { START, IN_IDENT, IN_INTEGER, AFTER_DOT } state = START;
    uint8_t b;
    while (sh_cursor_u8(&v, &b)) {
        switch (state) {
        case START:
            if (!is_alpha(b))
                return false;
            state = IN_IDENT;
            break;
        case IN_IDENT:
            if (b == '.')
                state = AFTER_DOT;
            else if (!is_alnum(b))
                return false;
            break;
        case IN_INTEGER:
            if (b == '.')
                state = AFTER_DOT;
            else if (!is_digit(b))
                return false;
            break;
        case AFTER_DOT:
            if (is_alpha(b))
                state = IN_IDENT;
            else if (is_digit(b))
                state = IN_INTEGER;
            else
                return false;
            break;
        }
    }
    return state == IN_IDENT || state == IN_INTEGER;
}

static bool has_prefix(sh_cursor v, const char *prefix)
{
    size_t n = strlen(prefix);
    char head[16];
    if (n > sizeof head || v.len < n || !sh_cursor_copy(&v, head, n))
        return false;
    return memcmp(head, prefix, n) == 0;
}

/* ---- the program reader ---- */

enum syntax_level { SL_PRIMARY, SL_AND, SL_OR, SL_TOP };

typedef struct reader {
    sh_cursor prog; /* the unread rest of the program */
    sh_error *err;
    const char *where;
    int64_t index; /* set entry, or -1 */
    bool apple;    /* Apple's text (no SH_REQ_TEXT_LOSSLESS) */
    bool single;   /* a lone requirement: Apple's Dumper drops one leading space */
    sink *out;     /* NULL: validate only */
    unsigned mute; /* > 0: walk without printing */
    size_t text_start;
    uint32_t ops, max_depth;
} reader;

static sh_err fail_at(reader *r, sh_err code, uint64_t offset)
{
    return sh_fail(r->err, code, r->where, r->index, offset);
}

static sh_err fail_value(reader *r, sh_err code, uint64_t offset, uint64_t value)
{
    return sh_fail_value(r->err, code, r->where, r->index, offset, value);
}

static sink *out_of(reader *r) { return r->mute ? NULL : r->out; }
static void put(reader *r, const char *s) { sink_str(out_of(r), s); }

static sh_err read_u32(reader *r, uint32_t *v)
{
    uint64_t at = sh_cursor_pos(&r->prog);
    if (!sh_cursor_u32be(&r->prog, v))
        return fail_value(r, SH_E_REQ_TRUNCATED, at, r->prog.len);
    return SH_E_OK;
}

static sh_err read_i32(reader *r, int32_t *v)
{
    uint32_t u;
    sh_err e = read_u32(r, &u);
    *v = u <= INT32_MAX ? (int32_t)u : (int32_t)(u - 0x80000000u) - INT32_MAX - 1;
    return e;
}

static sh_err read_i64(reader *r, int64_t *v)
{
    uint64_t at = sh_cursor_pos(&r->prog);
    uint64_t u;
    if (!sh_cursor_u64be(&r->prog, &u))
        return fail_value(r, SH_E_REQ_TRUNCATED, at, r->prog.len);
    *v = u <= INT64_MAX ? (int64_t)u : (int64_t)(u - 0x8000000000000000u) - INT64_MAX - 1;
    return SH_E_OK;
}

/* A data item: u32 length, the bytes, zero padding to a multiple of 4. */
static sh_err read_data(reader *r, sh_cursor *data)
{
    uint64_t at = sh_cursor_pos(&r->prog);
    uint32_t len;
    sh_err e = read_u32(r, &len);
    if (e != SH_E_OK)
        return e;
    if (!sh_cursor_take(&r->prog, len, data))
        return fail_value(r, SH_E_REQ_DATA_PAST_END, at, len);
    size_t pad = (4 - (len & 3u)) & 3u;
    sh_cursor padding;
    if (!sh_cursor_take(&r->prog, pad, &padding))
        return fail_value(r, SH_E_REQ_DATA_UNPADDED, at, len);
    uint8_t b;
    while (sh_cursor_u8(&padding, &b))
        if (b != 0)
            return fail_value(r, SH_E_REQ_PADDING_NONZERO, sh_cursor_pos(&padding) - 1, b);
    return SH_E_OK;
}

/* ---- value printers ---- */

enum print_mode { MODE_SIMPLE, MODE_PRINTABLE, MODE_BINARY };

/* Apple's Dumper::data(): bare, quoted or 0x-hex.  Lossless mode also quotes dotted names that
 * would not lex back as one name. */
static void print_data(reader *r, sh_cursor v, bool dot_ok)
{
    sink *s = out_of(r);
    if (!s)
        return;
    enum print_mode mode = MODE_SIMPLE;
    sh_cursor scan = v;
    uint8_t b;
    for (size_t n = 0; sh_cursor_u8(&scan, &b); n++) {
        if (is_alnum(b) || (b == '.' && dot_ok)) {
            if (n == 0 && is_digit(b))
                mode = MODE_PRINTABLE;
        } else if (is_graph(b) || is_space(b)) {
            mode = MODE_PRINTABLE;
        } else {
            mode = MODE_BINARY;
            break;
        }
    }
    if (mode == MODE_SIMPLE && is_keyword(v))
        mode = MODE_PRINTABLE;
    if (mode == MODE_SIMPLE && dot_ok && !r->apple && !is_dotkey(v))
        mode = MODE_PRINTABLE;

    switch (mode) {
    case MODE_SIMPLE:
        while (v.len) {
            char chunk[256];
            size_t n = v.len < sizeof chunk ? v.len : sizeof chunk;
            if (!sh_cursor_copy(&v, chunk, n))
                break;
            sink_put(s, chunk, n);
        }
        break;
    case MODE_PRINTABLE:
        sink_char(s, '"');
        while (sh_cursor_u8(&v, &b)) {
            if (b == '\\' || b == '"')
                sink_char(s, '\\');
            sink_char(s, (char)b);
        }
        sink_char(s, '"');
        break;
    case MODE_BINARY:
        sink_str(s, "0x");
        sink_hex_bytes(s, v);
        break;
    }
}

static void print_hash(reader *r, sh_cursor v)
{
    sink *s = out_of(r);
    sink_str(s, "H\"");
    sink_hex_bytes(s, v);
    sink_char(s, '"');
}

static void print_slot(reader *r, int32_t slot)
{
    sink *s = out_of(r);
    if (slot == SH_REQ_CERT_ANCHOR) {
        sink_str(s, " root");
    } else if (slot == SH_REQ_CERT_LEAF) {
        sink_str(s, " leaf");
    } else {
        sink_char(s, ' ');
        sink_i64(s, slot);
    }
}

/* DER OID content bytes -> dotted text.  Strict: non-empty, bounded, minimal base-128 arcs that
 * fit 64 bits, the last byte ending an arc.  The first arc splits as Apple's CssmOid::toOid does:
 * min(v / 40, 2) and the rest. */
static sh_err print_oid(reader *r, sh_cursor oid, uint64_t at)
{
    if (oid.len == 0 || oid.len > SH_MAX_REQUIREMENT_OID_LEN)
        return fail_value(r, SH_E_REQ_BAD_OID, at, oid.len);
    sink *s = out_of(r);
    uint64_t v = 0;
    bool in_arc = false, first = true;
    uint8_t b = 0;
    while (sh_cursor_u8(&oid, &b)) {
        if (!in_arc && b == 0x80)
            return fail_value(r, SH_E_REQ_BAD_OID, sh_cursor_pos(&oid) - 1, b);
        if (v > (UINT64_MAX >> 7))
            return fail_value(r, SH_E_REQ_BAD_OID, sh_cursor_pos(&oid) - 1, b);
        v = (v << 7) | (b & 0x7fu);
        in_arc = true;
        if (b & 0x80)
            continue;
        if (first) {
            uint64_t q1 = v / 40 < 2 ? v / 40 : 2;
            sink_u64(s, q1);
            sink_char(s, '.');
            sink_u64(s, v - 40 * q1);
            first = false;
        } else {
            sink_char(s, '.');
            sink_u64(s, v);
        }
        v = 0;
        in_arc = false;
    }
    if (in_arc)
        return fail_value(r, SH_E_REQ_BAD_OID, at, b);
    return SH_E_OK;
}

/* Days since 1970-01-01 -> proleptic Gregorian date (Howard Hinnant's civil_from_days). */
static void civil_from_days(int64_t z, int64_t *year, unsigned *month, unsigned *day)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;                                      /* [0, 146096] */
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365; /* [0, 399] */
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);               /* [0, 365] */
    int64_t mp = (5 * doy + 2) / 153;                                    /* [0, 11] */
    *day = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
    *month = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
    *year = yoe + era * 400 + (*month <= 2);
}

#define DAYS_1970_TO_2001 11323 /* 2001-01-01 is day 11323 of the Unix epoch */

/* Seconds since 2001-01-01 00:00:00 UTC -> "<YYYY-MM-DD hh:mm:ss +0000>" (every int64). */
static void print_date(reader *r, int64_t t)
{
    sink *s = out_of(r);
    int64_t days = t / 86400, secs = t % 86400;
    if (secs < 0) {
        secs += 86400;
        days -= 1;
    }
    int64_t year;
    unsigned month, day;
    civil_from_days(days + DAYS_1970_TO_2001, &year, &month, &day);
    sink_char(s, '<');
    if (year < 0)
        sink_char(s, '-');
    sink_u64_width(s, year < 0 ? (uint64_t)0 - (uint64_t)year : (uint64_t)year, 4);
    sink_char(s, '-');
    sink_u64_width(s, month, 2);
    sink_char(s, '-');
    sink_u64_width(s, day, 2);
    sink_char(s, ' ');
    sink_u64_width(s, (uint64_t)secs / 3600, 2);
    sink_char(s, ':');
    sink_u64_width(s, (uint64_t)secs / 60 % 60, 2);
    sink_char(s, ':');
    sink_u64_width(s, (uint64_t)secs % 60, 2);
    sink_str(s, " +0000>");
}

/* ---- match suffix ---- */

typedef struct match {
    uint32_t op;
    sh_cursor value; /* ops 1..8 */
    int64_t when;    /* ops 9..13 */
} match;

static sh_err read_match(reader *r, match *m)
{
    uint64_t at = sh_cursor_pos(&r->prog);
    sh_err e = read_u32(r, &m->op);
    if (e != SH_E_OK)
        return e;
    if (m->op == SH_REQ_MATCH_EXISTS || m->op == SH_REQ_MATCH_ABSENT)
        return SH_E_OK;
    if (m->op <= SH_REQ_MATCH_GREATER_EQUAL)
        return read_data(r, &m->value);
    if (m->op <= SH_REQ_MATCH_ON_OR_AFTER)
        return read_i64(r, &m->when);
    return fail_value(r, SH_E_REQ_UNKNOWN_MATCH, at, m->op);
}

static void print_match(reader *r, const match *m)
{
    static const char *const ops[SH_REQ_MATCH_COUNT] = {
        " /* exists */", " = ", " ~ ", " = ", " = *", " < ", " > ", " <= ",
        " >= ",          " = ", " < ", " > ", " <= ", " >= ", " absent ",
    };
    if (m->op >= SH_REQ_MATCH_COUNT)
        return;
    put(r, ops[m->op]);
    if (m->op >= SH_REQ_MATCH_EQUAL && m->op <= SH_REQ_MATCH_GREATER_EQUAL)
        print_data(r, m->value, false);
    else if (m->op >= SH_REQ_MATCH_ON && m->op <= SH_REQ_MATCH_ON_OR_AFTER)
        print_date(r, m->when);
    if (m->op == SH_REQ_MATCH_BEGINS_WITH)
        put(r, "*");
}

static sh_err read_print_match(reader *r)
{
    match m;
    sh_err e = read_match(r, &m);
    if (e == SH_E_OK)
        print_match(r, &m);
    return e;
}

/* ---- expressions ---- */

static sh_err expr(reader *r, enum syntax_level level, uint32_t depth);

/* [slot] OID match: certificate <slot>[<prefix><oid>] <match> */
static sh_err cert_oid_op(reader *r, const char *prefix)
{
    int32_t slot;
    sh_cursor oid;
    sh_err e = read_i32(r, &slot);
    uint64_t at = sh_cursor_pos(&r->prog);
    if (e == SH_E_OK)
        e = read_data(r, &oid);
    if (e != SH_E_OK)
        return e;
    put(r, "certificate");
    print_slot(r, slot);
    put(r, "[");
    put(r, prefix);
    e = print_oid(r, oid, at);
    if (e != SH_E_OK)
        return e;
    put(r, "]");
    return read_print_match(r);
}

/* key match: <name>[<key>] <match> */
static sh_err keyed_op(reader *r, const char *name)
{
    sh_cursor key;
    sh_err e = read_data(r, &key);
    if (e != SH_E_OK)
        return e;
    put(r, name);
    put(r, "[");
    print_data(r, key, true);
    put(r, "]");
    return read_print_match(r);
}

/* Unknown opcode carrying the generic-false or generic-skip bit: u32 size, size bytes (no
 * alignment), then for skip the expression it stands in front of. */
static sh_err generic_op(reader *r, uint32_t op, uint64_t at, enum syntax_level level,
                         uint32_t depth)
{
    if (!(op & (SH_REQ_OP_GENERIC_FALSE | SH_REQ_OP_GENERIC_SKIP)))
        return fail_value(r, SH_E_REQ_UNKNOWN_OPCODE, at, op);
    uint64_t size_at = sh_cursor_pos(&r->prog);
    uint32_t size;
    sh_err e = read_u32(r, &size);
    if (e != SH_E_OK)
        return e;
    sh_cursor payload;
    if (!sh_cursor_take(&r->prog, size, &payload))
        return fail_value(r, SH_E_REQ_SKIP_PAST_END, size_at, size);
    bool is_false = (op & SH_REQ_OP_GENERIC_FALSE) != 0;
    sink *s = out_of(r);
    if (r->apple) {
        if (!(r->single && s && s->len == r->text_start))
            sink_char(s, ' '); /* Apple's leading space, dropped at the very start */
        sink_str(s, is_false ? "false /* opcode " : "/* opcode ");
        sink_u64(s, op & ~SH_REQ_OP_FLAG_MASK);
        sink_str(s, " */");
        if (is_false)
            return SH_E_OK;
        sink_char(s, ' ');
        return expr(r, level, depth + 1);
    }
    sink_str(s, "opcode(");
    sink_hex_u32(s, op);
    sink_str(s, ", H\"");
    sink_hex_bytes(s, payload);
    sink_str(s, "\")");
    if (is_false)
        return SH_E_OK;
    sink_char(s, ' ');
    return expr(r, SL_PRIMARY, depth + 1);
}

/* and/or: prefix operator, two operands.  Parenthesised when the context binds tighter. */
static sh_err binary_op(reader *r, uint32_t base, enum syntax_level level, uint32_t depth)
{
    enum syntax_level mine = base == SH_REQ_OP_AND ? SL_AND : SL_OR;
    if (level < mine)
        put(r, "(");
    sh_err e = expr(r, mine, depth + 1);
    if (e != SH_E_OK)
        return e;
    put(r, base == SH_REQ_OP_AND ? " and " : " or ");
    /* Lossless: a right operand of the same operator needs parentheses to rebuild the same
     * (right-nested) tree; Apple's compiler only nests to the left. */
    enum syntax_level right = mine;
    uint32_t next;
    if (!r->apple && sh_cursor_u32be_at(&r->prog, 0, &next) && next == base)
        right = (enum syntax_level)(mine - 1);
    e = expr(r, right, depth + 1);
    if (e != SH_E_OK)
        return e;
    if (level < mine)
        put(r, ")");
    return SH_E_OK;
}

/* The operands of one known opcode, printed in Apple's words. */
static sh_err known_op(reader *r, uint32_t base, enum syntax_level level, uint32_t depth)
{
    sh_err e = SH_E_OK;
    int32_t slot;
    sh_cursor data;
    uint64_t at;
    switch (base) {
    case SH_REQ_OP_FALSE: put(r, "never"); break;
    case SH_REQ_OP_TRUE: put(r, "always"); break;
    case SH_REQ_OP_APPLE_ANCHOR: put(r, "anchor apple"); break;
    case SH_REQ_OP_APPLE_GENERIC_ANCHOR: put(r, "anchor apple generic"); break;
    case SH_REQ_OP_TRUSTED_CERTS: put(r, "anchor trusted"); break;
    case SH_REQ_OP_NOTARIZED: put(r, "notarized"); break;
    case SH_REQ_OP_LEGACY_DEVID: put(r, "legacy"); break;
    case SH_REQ_OP_IDENT:
        if ((e = read_data(r, &data)) == SH_E_OK) {
            put(r, "identifier ");
            print_data(r, data, false);
        }
        break;
    case SH_REQ_OP_ANCHOR_HASH:
        if ((e = read_i32(r, &slot)) != SH_E_OK)
            break;
        at = sh_cursor_pos(&r->prog);
        if ((e = read_data(r, &data)) != SH_E_OK)
            break;
        if (data.len != 20)
            return fail_value(r, SH_E_REQ_BAD_HASH_LENGTH, at, data.len);
        put(r, "certificate");
        print_slot(r, slot);
        put(r, " = ");
        print_hash(r, data);
        break;
    case SH_REQ_OP_INFO_KEY_VALUE: {
        sh_cursor value;
        if ((e = read_data(r, &data)) != SH_E_OK || (e = read_data(r, &value)) != SH_E_OK)
            break;
        put(r, r->apple ? "info[" : "legacy info[");
        print_data(r, data, true);
        put(r, "] = ");
        print_data(r, value, false);
        break;
    }
    case SH_REQ_OP_AND:
    case SH_REQ_OP_OR: return binary_op(r, base, level, depth);
    case SH_REQ_OP_NOT:
        put(r, "! ");
        return expr(r, SL_PRIMARY, depth + 1);
    case SH_REQ_OP_CDHASH:
        if ((e = read_data(r, &data)) == SH_E_OK) {
            put(r, "cdhash ");
            print_hash(r, data);
        }
        break;
    case SH_REQ_OP_INFO_KEY_FIELD: return keyed_op(r, "info");
    case SH_REQ_OP_ENTITLEMENT_FIELD: return keyed_op(r, "entitlement");
    case SH_REQ_OP_CERT_FIELD:
        if ((e = read_i32(r, &slot)) != SH_E_OK || (e = read_data(r, &data)) != SH_E_OK)
            break;
        put(r, "certificate");
        print_slot(r, slot);
        put(r, "[");
        print_data(r, data, true);
        put(r, "]");
        return read_print_match(r);
    case SH_REQ_OP_CERT_GENERIC: return cert_oid_op(r, "field.");
    case SH_REQ_OP_CERT_POLICY: return cert_oid_op(r, "policy.");
    case SH_REQ_OP_CERT_FIELD_DATE: return cert_oid_op(r, "timestamp.");
    case SH_REQ_OP_TRUSTED_CERT:
        if ((e = read_i32(r, &slot)) == SH_E_OK) {
            put(r, "certificate");
            print_slot(r, slot);
            put(r, r->apple ? "trusted" : " trusted");
        }
        break;
    case SH_REQ_OP_NAMED_ANCHOR:
        if ((e = read_data(r, &data)) == SH_E_OK) {
            put(r, "anchor apple ");
            print_data(r, data, false);
        }
        break;
    case SH_REQ_OP_NAMED_CODE:
        if ((e = read_data(r, &data)) == SH_E_OK) {
            put(r, "(");
            print_data(r, data, false);
            put(r, ")");
        }
        break;
    case SH_REQ_OP_PLATFORM:
        if ((e = read_i32(r, &slot)) == SH_E_OK) {
            put(r, "platform = ");
            sink_i64(out_of(r), slot);
        }
        break;
    default: break;
    }
    return e;
}

/* opCertField whose key the compiler would not map back to opCertField (lossless mode). */
static bool needs_raw(const reader *r, uint32_t base)
{
    if (r->apple || base != SH_REQ_OP_CERT_FIELD)
        return false;
    reader peek = *r;
    peek.err = NULL;
    peek.mute = 1;
    int32_t slot;
    sh_cursor key;
    if (read_i32(&peek, &slot) != SH_E_OK || read_data(&peek, &key) != SH_E_OK)
        return false; /* the real read reports it */
    return !has_prefix(key, "subject.");
}

static sh_err expr(reader *r, enum syntax_level level, uint32_t depth)
{
    uint64_t at = sh_cursor_pos(&r->prog);
    if (depth > SH_MAX_REQUIREMENT_DEPTH)
        return fail_value(r, SH_E_REQ_TOO_DEEP, at, depth);
    if (++r->ops > SH_MAX_REQUIREMENT_OPS)
        return fail_value(r, SH_E_REQ_TOO_MANY_OPS, at, r->ops);
    if (depth > r->max_depth)
        r->max_depth = depth;
    if (r->out && r->out->err != SH_E_OK)
        return fail_value(r, r->out->err, at, r->out->len);

    sh_cursor start = r->prog;
    uint32_t op;
    sh_err e = read_u32(r, &op);
    if (e != SH_E_OK)
        return e;
    uint32_t base = op & ~SH_REQ_OP_FLAG_MASK;
    if (base >= SH_REQ_OP_COUNT)
        return generic_op(r, op, at, level, depth);

    if (needs_raw(r, base)) {
        r->mute++;
        e = known_op(r, base, level, depth);
        r->mute--;
        if (e != SH_E_OK)
            return e;
        sh_cursor bytes;
        if (!sh_cursor_sub(&start, 0, start.len - r->prog.len, &bytes))
            return fail_at(r, SH_E_REQ_TRUNCATED, at);
        put(r, "raw(H\"");
        sink_hex_bytes(out_of(r), bytes);
        put(r, "\")");
        return SH_E_OK;
    }
    if (!r->apple && (op & SH_REQ_OP_FLAG_MASK)) {
        put(r, "opcode(");
        sink_hex_u32(out_of(r), op);
        put(r, ") ");
        level = SL_PRIMARY;
    }
    return known_op(r, base, level, depth);
}

/* ---- blobs ---- */

/* One Requirement blob, exactly its length: header, kind, one expression, nothing after. */
static sh_err decode_requirement(reader *r, const sh_cursor *blob)
{
    sh_cursor c = *blob;
    uint32_t magic, length, kind;
    uint64_t at = sh_cursor_pos(blob);
    if (!sh_cursor_u32be(&c, &magic) || !sh_cursor_u32be(&c, &length) ||
        !sh_cursor_u32be(&c, &kind))
        return fail_value(r, SH_E_REQ_TRUNCATED, at, blob->len);
    if (kind != SH_REQ_KIND_EXPR)
        return fail_value(r, SH_E_REQ_KIND_UNSUPPORTED, at + 8, kind);
    r->prog = c;
    sh_err e = expr(r, SL_TOP, 1);
    if (e != SH_E_OK)
        return e;
    if (r->prog.len != 0)
        return fail_value(r, SH_E_REQ_TRAILING_DATA, sh_cursor_pos(&r->prog), r->prog.len);
    if (r->out && r->out->err != SH_E_OK)
        return fail_value(r, r->out->err, at, r->out->len);
    return SH_E_OK;
}

/* The header of a lone Requirement: {magic, length, kind}; returns the blob's exact view. */
static sh_err requirement_view(const sh_cursor *data, const char *where, int64_t index,
                               sh_cursor *blob, sh_error *err)
{
    uint32_t magic, length;
    uint64_t at = sh_cursor_pos(data);
    if (!sh_cursor_u32be_at(data, 0, &magic) || !sh_cursor_u32be_at(data, 4, &length))
        return sh_fail_value(err, SH_E_REQ_TRUNCATED, where, index, at, data->len);
    if (magic != SH_REQ_MAGIC)
        return sh_fail_value(err, SH_E_REQ_BAD_MAGIC, where, index, at, magic);
    if (length < SH_REQ_HEADER_SIZE)
        return sh_fail_value(err, SH_E_REQ_BAD_LENGTH, where, index, at, length);
    if (length > SH_MAX_REQUIREMENT_SIZE)
        return sh_fail_value(err, SH_E_REQ_TOO_LARGE, where, index, at, length);
    if (!sh_cursor_sub(data, 0, length, blob))
        return sh_fail_value(err, SH_E_REQ_TRUNCATED, where, index, at, length);
    return SH_E_OK;
}

const char *sh_req_type_name(uint32_t type)
{
    static const char *const names[SH_REQ_TYPE_COUNT] = {"invalid", "host",    "guest",
                                                         "designated", "library", "plugin"};
    return type < SH_REQ_TYPE_COUNT ? names[type] : NULL;
}

static bool ranges_overlap(const sh_reqset_entry *a, const sh_reqset_entry *b)
{
    uint64_t a_end = (uint64_t)a->offset + a->length;
    uint64_t b_end = (uint64_t)b->offset + b->length;
    return a->offset < b_end && b->offset < a_end;
}

static sh_err reqset_entry(sh_reqset *set, uint32_t i, uint64_t index_end, sh_error *err)
{
    sh_reqset_entry *en = &set->entries[i];
    uint64_t pos = SH_REQSET_HEADER_SIZE + (uint64_t)i * SET_INDEX_SIZE;
    uint64_t abs = sh_cursor_pos(&set->blob) + pos;
    sh_cursor c;
    if (!sh_cursor_sub(&set->blob, pos, SET_INDEX_SIZE, &c) || !sh_cursor_u32be(&c, &en->type) ||
        !sh_cursor_u32be(&c, &en->offset))
        return sh_fail(err, SH_E_REQ_TRUNCATED, "RequirementSet index", i, abs);
    if (en->offset == 0)
        return sh_fail_value(err, SH_E_REQSET_ENTRY_ABSENT, "RequirementSet index", i, abs,
                             en->type);
    if (en->offset < index_end)
        return sh_fail_value(err, SH_E_REQSET_INDEX_OVERLAP, "RequirementSet index", i, abs,
                             en->offset);
    uint32_t magic;
    if (!sh_cursor_u32be_at(&set->blob, en->offset, &magic) ||
        !sh_cursor_u32be_at(&set->blob, (uint64_t)en->offset + 4, &en->length))
        return sh_fail_value(err, SH_E_REQSET_ENTRY_OUT_OF_BOUNDS, "RequirementSet index", i,
                             abs, en->offset);
    uint64_t blob_abs = sh_cursor_pos(&set->blob) + en->offset;
    if (magic != SH_REQ_MAGIC)
        return sh_fail_value(err, SH_E_REQSET_BAD_ENTRY_MAGIC, "RequirementSet entry", i,
                             blob_abs, magic);
    if (en->length < SH_REQ_HEADER_SIZE)
        return sh_fail_value(err, SH_E_REQ_BAD_LENGTH, "RequirementSet entry", i, blob_abs,
                             en->length);
    if (!sh_cursor_sub(&set->blob, en->offset, en->length, &en->blob))
        return sh_fail_value(err, SH_E_REQSET_ENTRY_OUT_OF_BOUNDS, "RequirementSet entry", i,
                             blob_abs, en->length);
    for (uint32_t j = 0; j < i; j++) {
        if (set->entries[j].type == en->type)
            return sh_fail_value(err, SH_E_REQSET_DUPLICATE_TYPE, "RequirementSet index", i,
                                 abs, en->type);
        if (ranges_overlap(&set->entries[j], en))
            return sh_fail_value(err, SH_E_REQSET_OVERLAP, "RequirementSet entry", i, blob_abs,
                                 j);
    }
    return SH_E_OK;
}

sh_err sh_reqset_parse(const sh_cursor *data, sh_reqset *out, sh_error *err)
{
    memset(out, 0, sizeof *out);
    uint32_t magic, length, count;
    uint64_t at = sh_cursor_pos(data);
    if (!sh_cursor_u32be_at(data, 0, &magic) || !sh_cursor_u32be_at(data, 4, &length))
        return sh_fail_value(err, SH_E_REQ_TRUNCATED, "RequirementSet", -1, at, data->len);
    if (magic != SH_REQSET_MAGIC)
        return sh_fail_value(err, SH_E_REQ_BAD_MAGIC, "RequirementSet", -1, at, magic);
    if (length < SH_REQSET_HEADER_SIZE)
        return sh_fail_value(err, SH_E_REQ_BAD_LENGTH, "RequirementSet", -1, at, length);
    if (length > SH_MAX_REQUIREMENT_SIZE)
        return sh_fail_value(err, SH_E_REQ_TOO_LARGE, "RequirementSet", -1, at, length);
    if (!sh_cursor_sub(data, 0, length, &out->blob))
        return sh_fail_value(err, SH_E_REQ_TRUNCATED, "RequirementSet", -1, at, length);
    if (!sh_cursor_u32be_at(&out->blob, 8, &count))
        return sh_fail(err, SH_E_REQ_TRUNCATED, "RequirementSet", -1, at);
    uint64_t index_end = SH_REQSET_HEADER_SIZE + (uint64_t)count * SET_INDEX_SIZE;
    if (count > SH_MAX_REQUIREMENT_SET_ENTRIES || index_end > length)
        return sh_fail_value(err, SH_E_REQSET_TOO_MANY_ENTRIES, "RequirementSet", -1, at + 8,
                             count);
    out->length = length;
    out->count = count;
    uint64_t expected = index_end, end = index_end;
    for (uint32_t i = 0; i < count; i++) {
        sh_err e = reqset_entry(out, i, index_end, err);
        if (e != SH_E_OK)
            return e;
        const sh_reqset_entry *en = &out->entries[i];
        if (i > 0 && en->type < out->entries[i - 1].type)
            out->layout |= SH_REQSET_LAYOUT_UNSORTED;
        if (en->offset != expected)
            out->layout |= SH_REQSET_LAYOUT_GAPS;
        expected = (uint64_t)en->offset + en->length;
        if (expected > end)
            end = expected;
    }
    if (end < length)
        out->layout |= SH_REQSET_LAYOUT_TRAILING;
    return SH_E_OK;
}

const sh_reqset_entry *sh_reqset_find(const sh_reqset *set, uint32_t type)
{
    for (uint32_t i = 0; i < set->count && i < SH_MAX_REQUIREMENT_SET_ENTRIES; i++)
        if (set->entries[i].type == type)
            return &set->entries[i];
    return NULL;
}

static void print_type(sink *s, uint32_t type, bool apple)
{
    const char *name = sh_req_type_name(type);
    if (name) {
        sink_str(s, name);
    } else {
        sink_str(s, "/*unknown type*/ ");
        if (apple && type > INT32_MAX)
            sink_i64(s, (int64_t)type - 0x100000000);
        else
            sink_u64(s, type);
    }
    sink_str(s, " => ");
}

/* A Requirement or a set, into out (NULL: validate only). */
static sh_err decode(const sh_cursor *data, unsigned flags, sink *out, sh_req_info *info,
                     sh_error *err)
{
    sh_req_info local;
    if (!info)
        info = &local;
    memset(info, 0, sizeof *info);
    reader r = {.err = err, .where = "Requirement", .index = -1,
                .apple = (flags & SH_REQ_TEXT_LOSSLESS) == 0, .out = out};
    uint32_t magic;
    if (!sh_cursor_u32be_at(data, 0, &magic))
        return sh_fail_value(err, SH_E_REQ_TRUNCATED, "Requirement", -1, sh_cursor_pos(data),
                             data->len);
    info->magic = magic;
    sh_err e;
    if (magic == SH_REQSET_MAGIC) {
        sh_reqset set;
        e = sh_reqset_parse(data, &set, err);
        if (e != SH_E_OK)
            return e;
        info->length = set.length;
        info->count = set.count;
        info->layout = set.layout;
        info->trailing = data->len - set.length;
        r.where = "RequirementSet entry";
        for (uint32_t i = 0; i < set.count; i++) {
            r.index = i;
            print_type(out, set.entries[i].type, r.apple);
            e = decode_requirement(&r, &set.entries[i].blob);
            if (e != SH_E_OK)
                return e;
            sink_char(out, '\n');
        }
    } else {
        sh_cursor blob;
        e = requirement_view(data, "Requirement", -1, &blob, err);
        if (e != SH_E_OK)
            return e;
        info->length = (uint32_t)blob.len;
        info->count = 1;
        info->trailing = data->len - blob.len;
        r.single = true;
        r.text_start = out ? out->len : 0;
        e = decode_requirement(&r, &blob);
        if (e != SH_E_OK)
            return e;
    }
    info->ops = r.ops;
    info->max_depth = r.max_depth;
    if (out && out->err != SH_E_OK)
        return sh_fail_value(err, out->err, "Requirement text", -1, sh_cursor_pos(data),
                             out->len);
    return SH_E_OK;
}

sh_err sh_req_check(const sh_cursor *data, sh_req_info *info, sh_error *err)
{
    return decode(data, 0, NULL, info, err);
}

sh_err sh_req_check_fragment(const sh_cursor *frag, uint32_t depth, uint32_t *ops,
                             sh_error *err)
{
    reader r = {.err = err, .where = "Requirement fragment", .index = -1, .prog = *frag,
                .ops = *ops};
    sh_err e = expr(&r, SL_TOP, depth + 1);
    *ops = r.ops;
    if (e != SH_E_OK)
        return e;
    if (r.prog.len != 0)
        return fail_value(&r, SH_E_REQ_TRAILING_DATA, sh_cursor_pos(&r.prog), r.prog.len);
    return SH_E_OK;
}

sh_err sh_req_to_text(const sh_cursor *data, unsigned flags, char *buf, size_t size, size_t *len,
                      sh_req_info *info, sh_error *err)
{
    if (!buf)
        size = 0;
    sink s = {.buf = size ? buf : NULL, .cap = size};
    if (buf && size)
        buf[0] = '\0';
    sh_err e = decode(data, flags, &s, info, err);
    if (len)
        *len = e == SH_E_OK ? s.len : 0;
    if (e != SH_E_OK) {
        if (buf && size)
            buf[0] = '\0';
        return e;
    }
    if (s.len >= size) {
        if (buf && size)
            buf[0] = '\0';
        if (len)
            *len = 0;
        return sh_fail_value(err, SH_E_REQ_TEXT_TOO_LONG, "Requirement text", -1,
                             sh_cursor_pos(data), (uint64_t)s.len + 1);
    }
    buf[s.len] = '\0';
    return SH_E_OK;
}

sh_err sh_req_to_text_alloc(const sh_cursor *data, unsigned flags, const sh_allocator *a,
                            char **text, size_t *len, sh_req_info *info, sh_error *err)
{
    *text = NULL;
    if (len)
        *len = 0;
    sink s = {.alloc = a, .grow = true};
    sh_err e = decode(data, flags, &s, info, err);
    if (e == SH_E_OK && !s.buf) { /* empty text (an empty set) */
        s.buf = sh_calloc(a, 1, 1);
        if (!s.buf)
            e = sh_fail(err, SH_E_NO_MEMORY, "Requirement text", -1, sh_cursor_pos(data));
    }
    if (e != SH_E_OK) {
        sh_free(a, s.buf);
        return e;
    }
    s.buf[s.len] = '\0';
    *text = s.buf;
    if (len)
        *len = s.len;
    return SH_E_OK;
}
