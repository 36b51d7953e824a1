/* CodeResources rules/rules2: parsing, pattern checks, Apple's default v2 rules and the
 * "which rule applies" matcher (coderesources.h). */
#include <stdlib.h>
#include <string.h>

#include "coderesources_internal.h"
#include "res_plist.h"

/* ---- pattern checks ---- */

/* Bounds what glibc may spend: no back-references (exponential regexec), at most
 * SH_MAX_RES_REGEX_INTERVALS intervals of at most SH_MAX_RES_REGEX_REPEAT (regcomp copies the
 * repeated subexpression per count).  Braces count wherever they are, also inside brackets. */
static bool intervals_bounded(const char *p, size_t n)
{
    unsigned intervals = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '\\') {
            if (i + 1 < n && p[i + 1] >= '1' && p[i + 1] <= '9')
                return false;
            i++;
            continue;
        }
        if (p[i] != '{')
            continue;
        if (++intervals > SH_MAX_RES_REGEX_INTERVALS)
            return false;
        unsigned long value = 0;
        for (size_t j = i + 1; j < n && p[j] != '}'; j++) {
            if (p[j] == ',') {
                value = 0;
            } else if (p[j] >= '0' && p[j] <= '9') {
                value = value * 10 + (unsigned long)(p[j] - '0');
                if (value > SH_MAX_RES_REGEX_REPEAT)
                    return false;
            } else {
                break;
            }
        }
    }
    return true;
}

/* The end of a bracket expression starting at p[i] == '[' (a ']' right after "[" or "[^" is a
 * member), or n when it does not close. */
static size_t bracket_end(const char *p, size_t n, size_t i)
{
    size_t j = i + 1;
    if (j < n && p[j] == '^')
        j++;
    if (j < n && p[j] == ']')
        j++;
    while (j < n && p[j] != ']')
        j++;
    return j;
}

/* glibc's regcomp expands "x+" into "xx*" and "x{m,n}" into copies of x, duplicating x's whole
 * tree: stacked duplications ("a++++", "a*+") and nested duplicated groups ("((a+)+)+") grow it
 * exponentially (a 390-byte pattern took gigabytes; found by fuzz_adapter).  Refuse a
 * duplication operator right after another one, and more than SH_MAX_RES_REGEX_INTERVALS
 * duplicated groups in one pattern.  Apple's rules have neither. */
static bool duplications_bounded(const char *p, size_t n)
{
    unsigned duplicated_groups = 0;
    bool after_quantifier = false;
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        bool quantifier = c == '*' || c == '+' || c == '?' || c == '{';
        if (quantifier && after_quantifier)
            return false;
        if ((c == '+' || c == '{') && i > 0 && p[i - 1] == ')' &&
            ++duplicated_groups > SH_MAX_RES_REGEX_INTERVALS)
            return false;
        if (c == '\\') {
            i++;
        } else if (c == '[') {
            i = bracket_end(p, n, i);
        } else if (c == '{') {
            while (i < n && p[i] != '}')
                i++;
        }
        after_quantifier = quantifier;
    }
    return true;
}

static bool pattern_bounded(const char *p, size_t n)
{
    return intervals_bounded(p, n) && duplications_bounded(p, n);
}

/* Checks the limits, then compiles into *re (the caller regfrees it on success). */
static sh_err compile_pattern(const char *pattern, size_t len, const char *part, int64_t index,
                              regex_t *re, sh_error *err)
{
    if (sh_pv_bytes(pattern, len, SH_MAX_RES_REGEX_LEN, false, NULL, NULL) != SH_PV_OK ||
        !pattern_bounded(pattern, len))
        return sh_fail_value(err, SH_E_RES_RULE_REGEX_LIMIT, part, index, 0, len);
    int rc = regcomp(re, pattern, REG_EXTENDED | REG_NOSUB);
    if (rc == REG_ESPACE)
        return sh_fail(err, SH_E_NO_MEMORY, part, index, 0);
    if (rc != 0)
        return sh_fail_value(err, SH_E_RES_RULE_BAD_REGEX, part, index, 0, (uint64_t)rc);
    return SH_E_OK;
}

sh_err sh_res_check_pattern(const char *pattern, size_t len, const char *part, int64_t index,
                            sh_error *err)
{
    regex_t re;
    sh_err e = compile_pattern(pattern, len, part, index, &re, err);
    if (e == SH_E_OK)
        regfree(&re);
    return e;
}

/* ---- one rule ---- */

typedef struct rule_ctx {
    const char *part, *key;
    size_t key_len;
    int64_t index;
    sh_res_where *where;
    sh_error *err;
} rule_ctx;

static sh_err rule_fail(rule_ctx *c, sh_err code, const char *field, uint64_t value)
{
    sh_res_set_where(c->where, c->part, c->key, c->key_len, field);
    return sh_fail_value(c->err, code, c->part, c->index, 0, value);
}

static sh_err rule_flag(rule_ctx *c, plist_t d, const char *field, bool *out)
{
    plist_t v = plist_dict_get_item(d, field);
    if (v != NULL && !sh_pv_bool(v, out))
        return rule_fail(c, SH_E_RES_RULE_TYPE, field, (uint64_t)plist_get_node_type(v));
    return SH_E_OK;
}

static sh_err rule_weight(rule_ctx *c, plist_t d, uint32_t *out)
{
    plist_t v = plist_dict_get_item(d, "weight");
    if (v == NULL)
        return SH_E_OK;
    plist_type t = plist_get_node_type(v);
    if (t == PLIST_UINT) {
        uint64_t u = 0;
        plist_get_uint_val(v, &u);
        if (u > UINT32_MAX) /* also every negative integer (libplist 2.2's unsigned view) */
            return rule_fail(c, SH_E_RES_RULE_BAD_WEIGHT, "weight", u);
        *out = (uint32_t)u;
        return SH_E_OK;
    }
    if (t == PLIST_REAL) {
        double d2 = 0;
        plist_get_real_val(v, &d2);
        uint64_t bits;
        memcpy(&bits, &d2, sizeof bits);
        if (!(d2 >= 0.0 && d2 <= 4294967295.0) || (double)(uint32_t)d2 != d2)
            return rule_fail(c, SH_E_RES_RULE_BAD_WEIGHT, "weight", bits);
        *out = (uint32_t)d2;
        return SH_E_OK;
    }
    return rule_fail(c, SH_E_RES_RULE_TYPE, "weight", (uint64_t)t);
}

static sh_err parse_rule(rule_ctx *c, plist_t v, sh_res_rule *r)
{
    sh_err e = sh_res_check_pattern(c->key, c->key_len, c->part, c->index, c->err);
    if (e != SH_E_OK) {
        sh_res_set_where(c->where, c->part, c->key, c->key_len, NULL);
        return e;
    }
    r->weight = 1;
    bool b = false;
    if (sh_pv_bool(v, &b)) {
        r->plain = true;
        r->omit = !b;
        return SH_E_OK;
    }
    if (plist_get_node_type(v) != PLIST_DICT)
        return rule_fail(c, SH_E_RES_RULE_TYPE, NULL, (uint64_t)plist_get_node_type(v));
    e = rule_flag(c, v, "omit", &r->omit);
    if (e == SH_E_OK)
        e = rule_flag(c, v, "optional", &r->optional);
    if (e == SH_E_OK)
        e = rule_flag(c, v, "nested", &r->nested);
    return e == SH_E_OK ? rule_weight(c, v, &r->weight) : e;
}

static int rule_cmp(const void *a, const void *b)
{
    const sh_res_rule *x = a, *y = b;
    size_t n = x->pattern_len < y->pattern_len ? x->pattern_len : y->pattern_len;
    int r = memcmp(x->pattern, y->pattern, n);
    return r ? r : (x->pattern_len > y->pattern_len) - (x->pattern_len < y->pattern_len);
}

static sh_err rules_fill(plist_t dict, rule_ctx *c, const sh_allocator *alloc, sh_res_rules *out,
                         size_t n)
{
    plist_dict_iter it = NULL;
    plist_dict_new_iter(dict, &it);
    if (it == NULL)
        return sh_fail(c->err, SH_E_NO_MEMORY, c->part, -1, 0);
    sh_err e = SH_E_OK;
    for (size_t i = 0; i < n && e == SH_E_OK; i++) {
        char *key = NULL;
        plist_t v = NULL;
        plist_dict_next_item(dict, it, &key, &v);
        if (key == NULL || v == NULL) {
            free(key);
            e = sh_fail(c->err, SH_E_PLIST_LIBPLIST_FAILED, c->part, (int64_t)i, 0);
            break;
        }
        c->key = key;
        c->key_len = strlen(key);
        c->index = (int64_t)i;
        sh_res_rule *r = &out->items[i];
        e = parse_rule(c, v, r);
        if (e == SH_E_OK) {
            r->pattern = sh_calloc(alloc, c->key_len + 1, 1);
            if (r->pattern == NULL)
                e = sh_fail(c->err, SH_E_NO_MEMORY, c->part, (int64_t)i, 0);
            else
                memcpy(r->pattern, key, c->key_len);
            r->pattern_len = c->key_len;
            out->count = i + 1;
        }
        free(key);
    }
    free(it);
    return e;
}

/* Total pattern bytes within SH_MAX_RES_RULES_BYTES; *total (may be NULL) gets the sum. */
static bool rules_bounded(const sh_res_rules *rules, int64_t *total)
{
    uint64_t sum = 0;
    for (size_t i = 0; i < rules->count; i++)
        sum += rules->items[i].pattern_len; /* each <= SH_MAX_RES_REGEX_LEN: no overflow */
    if (total != NULL)
        *total = (int64_t)sum;
    return sum <= SH_MAX_RES_RULES_BYTES;
}

sh_err sh_res_parse_rules(plist_t dict, const char *part, const sh_allocator *alloc,
                          sh_res_rules *out, sh_res_where *where, sh_error *err)
{
    out->present = true;
    rule_ctx c = {part, NULL, 0, -1, where, err};
    if (plist_get_node_type(dict) != PLIST_DICT)
        return rule_fail(&c, SH_E_RES_RULE_TYPE, NULL, (uint64_t)plist_get_node_type(dict));
    size_t n = plist_dict_get_size(dict);
    if (n > SH_MAX_RES_RULES)
        return rule_fail(&c, SH_E_RES_TOO_MANY_RULES, NULL, n);
    out->items = sh_calloc(alloc, n ? n : 1, sizeof *out->items);
    if (out->items == NULL)
        return sh_fail(err, SH_E_NO_MEMORY, part, -1, 0);
    sh_err e = rules_fill(dict, &c, alloc, out, n);
    int64_t total = 0;
    if (e == SH_E_OK && !rules_bounded(out, &total)) {
        c.key = NULL;
        c.index = -1;
        return rule_fail(&c, SH_E_RES_TOO_MANY_RULES, NULL, (uint64_t)total);
    }
    if (e == SH_E_OK && out->count > 1) /* keys are unique (plist_guard), so the order is total */
        qsort(out->items, out->count, sizeof *out->items, rule_cmp);
    return e;
}

void sh_res_rules_free(const sh_allocator *alloc, sh_res_rules *rules)
{
    if (rules == NULL)
        return;
    for (size_t i = 0; i < rules->count; i++)
        sh_free(alloc, rules->items[i].pattern);
    sh_free(alloc, rules->items);
    memset(rules, 0, sizeof *rules);
}

/* ---- Apple's default v2 rules (bundlediskrep.cpp) ---- */

static const struct {
    const char *pattern;
    bool plain, omit, optional, nested;
    uint32_t weight;
} DEFAULT_RULES2[] = {
    {"^.*", true, false, false, false, 1},
    {"^[^/]+$", false, false, false, true, 10},
    {"^(Frameworks|SharedFrameworks|PlugIns|Plug-ins|XPCServices|Helpers|MacOS|Library/"
     "(Automator|Spotlight|LoginItems))/",
     false, false, false, true, 10},
    {".*\\.dSYM($|/)", false, false, false, false, 11},
    {"^(.*/)?\\.DS_Store$", false, true, false, false, 2000},
    {"^Info\\.plist$", false, true, false, false, 20},
    {"^version\\.plist$", false, false, false, false, 20},
    {"^embedded\\.provisionprofile$", false, false, false, false, 20},
    {"^PkgInfo$", false, true, false, false, 20},
    {"^Resources/", false, false, false, false, 20},
    {"^Resources/.*\\.lproj/", false, false, true, false, 1000},
    {"^Resources/Base\\.lproj/", false, false, false, false, 1010},
    {"^Resources/.*\\.lproj/locversion.plist$", false, true, false, false, 1100},
};

sh_err sh_res_default_rules2(const sh_allocator *alloc, sh_res_rules *out, sh_error *err)
{
    const size_t n = sizeof DEFAULT_RULES2 / sizeof DEFAULT_RULES2[0];
    memset(out, 0, sizeof *out);
    out->items = sh_calloc(alloc, n, sizeof *out->items);
    if (out->items == NULL)
        return sh_fail(err, SH_E_NO_MEMORY, "rules2", -1, 0);
    out->present = true;
    for (size_t i = 0; i < n; i++) {
        sh_res_rule *r = &out->items[i];
        size_t len = strlen(DEFAULT_RULES2[i].pattern);
        r->pattern = sh_calloc(alloc, len + 1, 1);
        if (r->pattern == NULL) {
            sh_res_rules_free(alloc, out);
            return sh_fail(err, SH_E_NO_MEMORY, "rules2", (int64_t)i, 0);
        }
        memcpy(r->pattern, DEFAULT_RULES2[i].pattern, len);
        r->pattern_len = len;
        r->plain = DEFAULT_RULES2[i].plain;
        r->omit = DEFAULT_RULES2[i].omit;
        r->optional = DEFAULT_RULES2[i].optional;
        r->nested = DEFAULT_RULES2[i].nested;
        r->weight = DEFAULT_RULES2[i].weight;
        out->count = i + 1;
    }
    qsort(out->items, out->count, sizeof *out->items, rule_cmp);
    return SH_E_OK;
}

/* ---- the matcher ---- */

sh_err sh_res_matcher_init(sh_res_matcher *m, const sh_res_rules *rules, const sh_allocator *alloc,
                           sh_error *err)
{
    memset(m, 0, sizeof *m);
    m->rules = rules;
    m->alloc = alloc;
    int64_t total = 0;
    if (rules->count > SH_MAX_RES_RULES || !rules_bounded(rules, &total))
        return sh_fail_value(err, SH_E_RES_TOO_MANY_RULES, "rules", -1, 0,
                             rules->count > SH_MAX_RES_RULES ? rules->count : (uint64_t)total);
    m->re = sh_calloc(alloc, rules->count ? rules->count : 1, sizeof *m->re);
    if (m->re == NULL)
        return sh_fail(err, SH_E_NO_MEMORY, "rules", -1, 0);
    for (size_t i = 0; i < rules->count; i++) {
        const sh_res_rule *r = &rules->items[i];
        /* rules built by hand skip the parser: check them the same way */
        sh_err e = compile_pattern(r->pattern, r->pattern_len, "rules", (int64_t)i, &m->re[i], err);
        if (e != SH_E_OK) {
            sh_res_matcher_free(m);
            return e;
        }
        m->compiled = i + 1;
    }
    return SH_E_OK;
}

sh_err sh_res_matcher_match(const sh_res_matcher *m, const char *path, sh_res_match *out,
                            sh_error *err)
{
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < m->compiled; i++) {
        int rc = regexec(&m->re[i], path, 0, NULL, 0);
        if (rc == REG_NOMATCH)
            continue;
        if (rc != 0)
            return sh_fail_value(err, SH_E_RES_RULE_MATCH_FAILED, "rules", (int64_t)i, 0,
                                 (uint64_t)rc);
        const sh_res_rule *r = &m->rules->items[i];
        if (out->rule == NULL || r->weight > out->rule->weight) {
            out->rule = r;
            out->index = i;
            out->tie = false;
        } else if (r->weight == out->rule->weight) {
            out->tie = true;
        }
    }
    return SH_E_OK;
}

void sh_res_matcher_free(sh_res_matcher *m)
{
    if (m == NULL)
        return;
    for (size_t i = 0; i < m->compiled; i++)
        regfree(&m->re[i]);
    sh_free(m->alloc, m->re);
    m->re = NULL;
    m->compiled = 0;
}

const char *sh_res_rule_kind(const sh_res_rule *rule)
{
    if (rule == NULL)
        return "unsealed";
    if (rule->omit)
        return "omitted";
    if (rule->nested)
        return "nested";
    return rule->optional ? "optional" : "sealed";
}
