#include "json_check.h"

#include <string.h>

#define MAX_DEPTH 64

typedef struct {
    const char *p, *end;
    int depth;
} parser;

static bool value(parser *ps);

static void skip_ws(parser *ps)
{
    while (ps->p < ps->end && strchr(" \t\r\n", *ps->p) && *ps->p)
        ps->p++;
}

static bool literal(parser *ps, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n) != 0)
        return false;
    ps->p += n;
    return true;
}

static bool is_hex(char c) { return strchr("0123456789abcdefABCDEF", c) && c; }

static bool string(parser *ps)
{
    if (ps->p >= ps->end || *ps->p != '"')
        return false;
    ps->p++;
    while (ps->p < ps->end) {
        unsigned char c = (unsigned char)*ps->p++;
        if (c == '"')
            return true;
        if (c < 0x20)
            return false;
        if (c != '\\')
            continue;
        if (ps->p >= ps->end)
            return false;
        char e = *ps->p++;
        if (e == 'u') {
            for (int i = 0; i < 4; i++, ps->p++)
                if (ps->p >= ps->end || !is_hex(*ps->p))
                    return false;
        } else if (!strchr("\"\\/bfnrt", e) || !e) {
            return false;
        }
    }
    return false;
}

static bool digits(parser *ps)
{
    const char *start = ps->p;
    while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9')
        ps->p++;
    return ps->p > start;
}

static bool number(parser *ps)
{
    if (ps->p < ps->end && *ps->p == '-')
        ps->p++;
    if (ps->p < ps->end && *ps->p == '0')
        ps->p++;
    else if (!digits(ps))
        return false;
    if (ps->p < ps->end && *ps->p == '.') {
        ps->p++;
        if (!digits(ps))
            return false;
    }
    if (ps->p < ps->end && (*ps->p == 'e' || *ps->p == 'E')) {
        ps->p++;
        if (ps->p < ps->end && (*ps->p == '+' || *ps->p == '-'))
            ps->p++;
        if (!digits(ps))
            return false;
    }
    return true;
}

static bool container(parser *ps, char close, bool keyed)
{
    if (++ps->depth > MAX_DEPTH)
        return false;
    ps->p++;
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == close) {
        ps->p++;
        ps->depth--;
        return true;
    }
    for (;;) {
        skip_ws(ps);
        if (keyed) {
            if (!string(ps))
                return false;
            skip_ws(ps);
            if (ps->p >= ps->end || *ps->p++ != ':')
                return false;
        }
        if (!value(ps))
            return false;
        skip_ws(ps);
        if (ps->p >= ps->end)
            return false;
        char c = *ps->p++;
        if (c == close) {
            ps->depth--;
            return true;
        }
        if (c != ',')
            return false;
    }
}

static bool value(parser *ps)
{
    skip_ws(ps);
    if (ps->p >= ps->end)
        return false;
    switch (*ps->p) {
    case '{': return container(ps, '}', true);
    case '[': return container(ps, ']', false);
    case '"': return string(ps);
    case 't': return literal(ps, "true");
    case 'f': return literal(ps, "false");
    case 'n': return literal(ps, "null");
    default: return number(ps);
    }
}

bool json_check(const char *text, size_t len)
{
    parser ps = {text, text + len, 0};
    if (!value(&ps))
        return false;
    skip_ws(&ps);
    return ps.p == ps.end;
}
