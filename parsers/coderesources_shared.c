/* Compiled rule matchers shared through a verification memo (coderesources.h).  Whoever signs or
 * judges hundreds of bundles meets the same few rule sets (Apple's defaults, plus a nested rule)
 * again and again; compiling them costs more than using them, and a matcher in use keeps
 * glibc's lazily built DFA tables warm. */
#include <stdlib.h>
#include <string.h>

#include "coderesources.h"
#include "verify_memo.h"

typedef struct shared_matcher {
    sh_res_rules rules; /* the memo's own copy: the matcher points into it */
    sh_res_matcher m;
} shared_matcher;

static void release_shared(void *v)
{
    shared_matcher *s = v;
    sh_res_matcher_free(&s->m);
    sh_res_rules_free(NULL, &s->rules);
    free(s);
}

static bool rules_key(const sh_res_rules *r, uint8_t key[SH_VERIFY_MEMO_KEY_LEN])
{
    sh_memo_key k;
    sh_memo_key_begin(&k, "CodeResources rules matcher/1");
    sh_memo_key_u64(&k, r->count);
    for (size_t i = 0; i < r->count; i++) {
        const sh_res_rule *it = &r->items[i];
        sh_memo_key_bytes(&k, (const uint8_t *)it->pattern, it->pattern_len);
        sh_memo_key_u64(&k, (uint64_t)it->plain | (uint64_t)it->omit << 1 |
                                (uint64_t)it->optional << 2 | (uint64_t)it->nested << 3);
        sh_memo_key_u64(&k, it->weight);
    }
    return sh_memo_key_end(&k, key);
}

/* Through the default allocator, which sh_res_rules_free(NULL, ...) releases. */
static bool copy_rules(const sh_res_rules *from, sh_res_rules *to)
{
    memset(to, 0, sizeof *to);
    to->present = from->present;
    to->items = sh_calloc(NULL, from->count ? from->count : 1, sizeof *to->items);
    if (!to->items)
        return false;
    for (size_t i = 0; i < from->count; i++) {
        sh_res_rule *r = &to->items[i];
        *r = from->items[i];
        r->pattern = sh_calloc(NULL, r->pattern_len + 1, 1);
        if (!r->pattern)
            return false;
        memcpy(r->pattern, from->items[i].pattern, r->pattern_len + 1);
        to->count = i + 1;
    }
    return true;
}

/* A matcher compiled for the memo, or NULL (no memory, the rules do not compile, memo full). */
static const sh_res_matcher *compile_into_memo(sh_verify_memo *memo, const sh_res_rules *rules,
                                               const uint8_t key[SH_VERIFY_MEMO_KEY_LEN])
{
    shared_matcher *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    sh_error ignored = {0};
    if (!copy_rules(rules, &s->rules) ||
        sh_res_matcher_init(&s->m, &s->rules, NULL, &ignored) != SH_E_OK) {
        sh_res_rules_free(NULL, &s->rules);
        free(s);
        return NULL;
    }
    if (!sh_verify_memo_put(memo, key, s, release_shared)) {
        release_shared(s);
        return NULL;
    }
    return &s->m;
}

sh_err sh_res_matcher_shared(struct sh_verify_memo *memo, const sh_res_rules *rules,
                             const sh_allocator *alloc, sh_res_matcher *scratch,
                             const sh_res_matcher **out, sh_error *err)
{
    memset(scratch, 0, sizeof *scratch);
    uint8_t key[SH_VERIFY_MEMO_KEY_LEN];
    if (memo && rules_key(rules, key)) {
        const shared_matcher *known = sh_verify_memo_get(memo, key);
        *out = known ? &known->m : compile_into_memo(memo, rules, key);
        if (*out)
            return SH_E_OK;
    }
    /* no memo, or this one could not be kept there: compiled for the caller alone, which also
     * reports why rules do not compile */
    sh_err e = sh_res_matcher_init(scratch, rules, alloc, err);
    *out = e == SH_E_OK ? scratch : NULL;
    return e;
}

void sh_res_matcher_release(sh_res_matcher *scratch, const sh_res_matcher *m)
{
    if (m && m == scratch)
        sh_res_matcher_free(scratch);
}
