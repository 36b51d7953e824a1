/* Adapter files: parsing and judging a tool's answer (adapter.h). */
#include "adapter.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coderesources.h"
#include "cursor.h"

static const char *const level_names[] = {"static", "gatekeeper", "notary", "activation"};

const char *sh_adapter_level_name(sh_adapter_level l)
{
    return (unsigned)l < sizeof level_names / sizeof level_names[0] ? level_names[l] : "unknown";
}

const char *sh_tool_outcome_name(sh_tool_outcome o)
{
    switch (o) {
    case SH_TOOL_ACCEPTED: return "accepted";
    case SH_TOOL_REJECTED: return "rejected";
    case SH_TOOL_CRASHED: return "crashed";
    case SH_TOOL_TIMED_OUT: return "timed out";
    case SH_TOOL_NOT_RUN: return "not run";
    }
    return "unknown";
}

void sh_adapter_free(sh_adapter *a)
{
    for (size_t i = 0; i < a->naccept; i++)
        regfree(&a->accept[i]);
    for (size_t i = 0; i < a->nreject; i++)
        regfree(&a->reject[i]);
    for (size_t i = 0; i < a->nmaps; i++)
        regfree(&a->maps[i].re);
    if (a->has_code)
        regfree(&a->code);
    memset(a, 0, sizeof *a);
}

typedef struct parse_state {
    sh_adapter *a;
    unsigned line;
    char *why;
    size_t why_size;
} parse_state;

__attribute__((format(printf, 2, 3))) static bool fail(parse_state *s, const char *fmt, ...)
{
    char msg[SH_ADAPTER_WHY_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (s->why && s->why_size)
        snprintf(s->why, s->why_size, "line %u: %s", s->line, msg);
    return false;
}

static bool compile(parse_state *s, regex_t *re, const char *pattern, int flags)
{
    /* Untrusted patterns: the same time and memory bounds as CodeResources rules. */
    if (sh_res_check_pattern(pattern, strlen(pattern), "adapter", -1, NULL) ==
        SH_E_RES_RULE_REGEX_LIMIT)
        return fail(s, "regular expression \"%.64s\" is too costly to compile: longer than %u "
                       "bytes, more than %u {m,n} intervals or repeated groups, a count above %u, "
                       "or a repetition right after another", pattern, SH_MAX_RES_REGEX_LEN,
                    SH_MAX_RES_REGEX_INTERVALS, SH_MAX_RES_REGEX_REPEAT);
    int rc = regcomp(re, pattern, REG_EXTENDED | REG_NEWLINE | flags);
    if (rc == 0)
        return true;
    char msg[128];
    regerror(rc, re, msg, sizeof msg);
    return fail(s, "bad regular expression \"%.64s\": %s", pattern, msg);
}

/* A whole decimal int in [lo, hi]. */
static bool parse_int(const char *text, long lo, long hi, long *out)
{
    char *end;
    long v = strtol(text, &end, 10);
    if (end == text || (*end != '\0' && *end != ' ') || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

static bool set_exits(parse_state *s, char *value)
{
    s->a->naccept_exits = 0;
    for (char *save = NULL, *tok = strtok_r(value, " ,", &save); tok;
         tok = strtok_r(NULL, " ,", &save)) {
        long v;
        if (!parse_int(tok, 0, 255, &v))
            return fail(s, "accept-exit wants exit statuses 0..255, got \"%.32s\"", tok);
        if (s->a->naccept_exits == SH_MAX_ADAPTER_EXITS)
            return fail(s, "more than %u accept-exit values", SH_MAX_ADAPTER_EXITS);
        s->a->accept_exits[s->a->naccept_exits++] = (int)v;
    }
    return s->a->naccept_exits > 0 || fail(s, "accept-exit needs at least one status");
}

static bool add_map(parse_state *s, const char *value)
{
    sh_adapter *a = s->a;
    char *end;
    long code = strtol(value, &end, 10);
    if (end == value || *end != ' ' || code < -99999 || code > 0)
        return fail(s, "map wants \"<errSecCS number> <regex>\"");
    while (*end == ' ')
        end++;
    if (!*end)
        return fail(s, "map has no regular expression");
    if (a->nmaps == SH_MAX_ADAPTER_PATTERNS)
        return fail(s, "more than %u map lines", SH_MAX_ADAPTER_PATTERNS);
    if (!compile(s, &a->maps[a->nmaps].re, end, REG_NOSUB))
        return false;
    a->maps[a->nmaps++].code = (int)code;
    return true;
}

static bool set_key(parse_state *s, const char *key, char *value, unsigned *seen)
{
    sh_adapter *a = s->a;
    long v;
    if (!strcmp(key, "name")) {
        if (strlen(value) >= sizeof a->name)
            return fail(s, "name is longer than %zu bytes", sizeof a->name - 1);
        snprintf(a->name, sizeof a->name, "%s", value);
        *seen |= 1;
    } else if (!strcmp(key, "command")) {
        if (!strstr(value, "{bundle}"))
            return fail(s, "command must contain {bundle}");
        snprintf(a->command, sizeof a->command, "%s", value);
        *seen |= 2;
    } else if (!strcmp(key, "level")) {
        size_t i = 0;
        while (i < sizeof level_names / sizeof level_names[0] && strcmp(value, level_names[i]))
            i++;
        if (i == sizeof level_names / sizeof level_names[0])
            return fail(s, "level must be static, gatekeeper, notary or activation");
        a->level = (sh_adapter_level)i;
    } else if (!strcmp(key, "timeout")) {
        if (!parse_int(value, 1, SH_MAX_ADAPTER_TIMEOUT, &v))
            return fail(s, "timeout wants 1..%u seconds", SH_MAX_ADAPTER_TIMEOUT);
        a->timeout = (unsigned)v;
    } else if (!strcmp(key, "accept-exit")) {
        return set_exits(s, value);
    } else if (!strcmp(key, "accept") || !strcmp(key, "reject")) {
        bool accept = key[0] == 'a';
        size_t *n = accept ? &a->naccept : &a->nreject;
        if (*n == SH_MAX_ADAPTER_PATTERNS)
            return fail(s, "more than %u %s patterns", SH_MAX_ADAPTER_PATTERNS, key);
        if (!compile(s, accept ? &a->accept[*n] : &a->reject[*n], value, REG_NOSUB))
            return false;
        (*n)++;
    } else if (!strcmp(key, "code")) {
        if (a->has_code)
            return fail(s, "code given twice");
        if (!compile(s, &a->code, value, 0))
            return false;
        a->has_code = true;
    } else if (!strcmp(key, "map")) {
        return add_map(s, value);
    } else {
        return fail(s, "unknown key \"%.32s\"", key);
    }
    return true;
}

/* One line, already cut out and NUL-terminated, no '\n'. */
static bool parse_line(parse_state *s, char *line, unsigned *seen)
{
    char *p = line;
    while (*p == ' ' || *p == '\t')
        p++;
    if (*p == '\0' || *p == '#')
        return true;
    char *key = p;
    while (*p && *p != ' ' && *p != '\t')
        p++;
    if (!*p)
        return fail(s, "\"%.32s\" has no value", key);
    *p++ = '\0';
    while (*p == ' ' || *p == '\t')
        p++;
    size_t n = strlen(p);
    while (n && (p[n - 1] == ' ' || p[n - 1] == '\t' || p[n - 1] == '\r'))
        p[--n] = '\0';
    if (!n)
        return fail(s, "\"%.32s\" has no value", key);
    return set_key(s, key, p, seen);
}

bool sh_adapter_parse(const char *text, size_t len, sh_adapter *out, char *why, size_t why_size)
{
    memset(out, 0, sizeof *out);
    out->timeout = 120;
    out->naccept_exits = 1; /* accept-exit 0 */
    parse_state s = {out, 0, why, why_size};
    if (len > SH_MAX_ADAPTER_SIZE)
        return fail(&s, "the file is larger than %u bytes", SH_MAX_ADAPTER_SIZE);
    sh_cursor c = sh_cursor_make((const uint8_t *)text, len);
    unsigned seen = 0;
    char line[SH_MAX_ADAPTER_LINE + 2];
    while (sh_cursor_len(&c) > 0) {
        s.line++;
        size_t peek = sh_cursor_len(&c) < sizeof line - 1 ? sh_cursor_len(&c) : sizeof line - 1;
        sh_cursor window;
        if (!sh_cursor_sub(&c, 0, peek, &window) || !sh_cursor_copy(&window, line, peek))
            goto bad;
        line[peek] = '\0';
        char *nl = memchr(line, '\n', peek);
        size_t n = nl ? (size_t)(nl - line) : peek;
        if (n > SH_MAX_ADAPTER_LINE) {
            fail(&s, "line is longer than %u bytes", SH_MAX_ADAPTER_LINE);
            goto bad;
        }
        if (!sh_cursor_skip(&c, nl ? n + 1 : n))
            goto bad;
        line[n] = '\0';
        if (strlen(line) != n) {
            fail(&s, "NUL byte in the line");
            goto bad;
        }
        if (!parse_line(&s, line, &seen))
            goto bad;
    }
    if ((seen & 3) != 3) {
        s.line = 0;
        fail(&s, "name and command are required");
        goto bad;
    }
    return true;
bad:
    sh_adapter_free(out);
    return false;
}

static bool matches(const regex_t *res, size_t n, const char *output)
{
    for (size_t i = 0; i < n; i++)
        if (regexec(&res[i], output, 0, NULL, 0) == 0)
            return true;
    return false;
}

static int find_code(const sh_adapter *a, const char *output)
{
    if (a->has_code) {
        regmatch_t m[2];
        if (regexec(&a->code, output, 2, m, 0) == 0) {
            regmatch_t use = m[1].rm_so >= 0 ? m[1] : m[0];
            char num[16];
            size_t n = (size_t)(use.rm_eo - use.rm_so);
            if (n > 0 && n < sizeof num) {
                memcpy(num, output + use.rm_so, n);
                num[n] = '\0';
                long v;
                if (parse_int(num, -99999, 99999, &v))
                    return (int)v;
            }
        }
    }
    for (size_t i = 0; i < a->nmaps; i++)
        if (regexec(&a->maps[i].re, output, 0, NULL, 0) == 0)
            return a->maps[i].code;
    return 0;
}

void sh_adapter_judge(const sh_adapter *a, bool exited, int status_or_signal, bool timed_out,
                      const char *output, sh_tool_answer *out)
{
    memset(out, 0, sizeof *out);
    if (timed_out) {
        out->outcome = SH_TOOL_TIMED_OUT;
        return;
    }
    if (!exited) {
        out->outcome = SH_TOOL_CRASHED;
        out->signal = status_or_signal;
        return;
    }
    out->exit_status = status_or_signal;
    out->code = find_code(a, output);
    if (matches(a->reject, a->nreject, output)) {
        out->outcome = SH_TOOL_REJECTED;
    } else if (matches(a->accept, a->naccept, output)) {
        out->outcome = SH_TOOL_ACCEPTED;
    } else {
        out->outcome = SH_TOOL_REJECTED;
        for (size_t i = 0; i < a->naccept_exits; i++)
            if (a->accept_exits[i] == status_or_signal)
                out->outcome = SH_TOOL_ACCEPTED;
    }
    if (out->outcome == SH_TOOL_ACCEPTED)
        out->code = 0;
}
