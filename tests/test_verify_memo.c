/* The verification memo (parsers/verify_memo.c) and the test-PKI keyring (mutators/pki_keyring.c):
 * the table itself, that every input changes the key, and that a verdict made with the memo
 * (first filling it, then from it) is byte for byte the verdict made without one, on every case
 * of the broken-bundle set of one base. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broken_set.h"
#include "coderesources.h"
#include "pki_keyring.h"
#include "regress.h"
#include "verdict.h"
#include "verify_memo.h"

typedef struct counted {
    int *released;
} counted;

static void release_counted(void *v)
{
    counted *c = v;
    (*c->released)++;
    free(c);
}

static counted *new_counted(int *released)
{
    counted *c = malloc(sizeof *c);
    assert_non_null(c);
    c->released = released;
    return c;
}

static void key_of(const char *tag, const char *bytes, uint64_t n, uint8_t *key)
{
    sh_memo_key k;
    sh_memo_key_begin(&k, tag);
    sh_memo_key_bytes(&k, (const uint8_t *)bytes, strlen(bytes));
    sh_memo_key_u64(&k, n);
    assert_true(sh_memo_key_end(&k, key));
}

static void test_put_get_release(void **state)
{
    (void)state;
    int released = 0;
    sh_verify_memo *m = sh_verify_memo_new();
    assert_non_null(m);
    uint8_t a[SH_VERIFY_MEMO_KEY_LEN], b[SH_VERIFY_MEMO_KEY_LEN];
    key_of("t", "a", 1, a);
    key_of("t", "b", 1, b);
    assert_null(sh_verify_memo_get(m, a));
    counted *va = new_counted(&released);
    assert_true(sh_verify_memo_put(m, a, va, release_counted));
    assert_ptr_equal(sh_verify_memo_get(m, a), va);
    assert_null(sh_verify_memo_get(m, b));
    /* a second value under the same key stays the caller's */
    counted *again = new_counted(&released);
    assert_false(sh_verify_memo_put(m, a, again, release_counted));
    assert_ptr_equal(sh_verify_memo_get(m, a), va);
    free(again);
    assert_true(sh_verify_memo_put(m, b, new_counted(&released), release_counted));
    sh_verify_memo_free(m);
    assert_int_equal(released, 2);
    sh_verify_memo_free(NULL);
}

static void test_full(void **state)
{
    (void)state;
    int released = 0;
    sh_verify_memo *m = sh_verify_memo_new();
    assert_non_null(m);
    uint8_t key[SH_VERIFY_MEMO_KEY_LEN];
    for (uint64_t i = 0; i < SH_MAX_VERIFY_MEMO_ENTRIES; i++) {
        key_of("full", "x", i, key);
        assert_true(sh_verify_memo_put(m, key, new_counted(&released), release_counted));
    }
    key_of("full", "x", SH_MAX_VERIFY_MEMO_ENTRIES, key);
    counted *extra = new_counted(&released);
    assert_false(sh_verify_memo_put(m, key, extra, release_counted));
    free(extra);
    key_of("full", "x", 17, key); /* everything stored is still found */
    assert_non_null(sh_verify_memo_get(m, key));
    sh_verify_memo_free(m);
    assert_int_equal(released, (int)SH_MAX_VERIFY_MEMO_ENTRIES);
}

static void test_every_input_changes_the_key(void **state)
{
    (void)state;
    uint8_t base[SH_VERIFY_MEMO_KEY_LEN], other[SH_VERIFY_MEMO_KEY_LEN];
    key_of("tag", "bytes", 7, base);
    key_of("tag", "bytes", 7, other);
    assert_memory_equal(base, other, sizeof base);
    key_of("tag2", "bytes", 7, other);
    assert_memory_not_equal(base, other, sizeof base);
    key_of("tag", "bytez", 7, other);
    assert_memory_not_equal(base, other, sizeof base);
    key_of("tag", "bytes", 8, other);
    assert_memory_not_equal(base, other, sizeof base);

    /* pieces are length-framed: "ab" + "c" is not "a" + "bc" */
    sh_memo_key k;
    sh_memo_key_begin(&k, "t");
    sh_memo_key_bytes(&k, (const uint8_t *)"ab", 2);
    sh_memo_key_bytes(&k, (const uint8_t *)"c", 1);
    assert_true(sh_memo_key_end(&k, base));
    sh_memo_key_begin(&k, "t");
    sh_memo_key_bytes(&k, (const uint8_t *)"a", 1);
    sh_memo_key_bytes(&k, (const uint8_t *)"bc", 2);
    assert_true(sh_memo_key_end(&k, other));
    assert_memory_not_equal(base, other, sizeof base);

    /* the trusted anchors are part of it, by their DER */
    sh_pki_keyring keys;
    char why[SH_PKI_WHY_MAX];
    assert_true(sh_pki_keyring_load(&keys, NULL, why, sizeof why));
    sh_trust none = {0};
    sh_trust root = {.anchor_x509 = &keys.ids[0].root, .n_anchor_x509 = 1};
    sh_trust ca = {.anchor_x509 = &keys.ids[0].intermediate, .n_anchor_x509 = 1};
    uint8_t with_none[SH_VERIFY_MEMO_KEY_LEN], with_root[SH_VERIFY_MEMO_KEY_LEN],
        with_ca[SH_VERIFY_MEMO_KEY_LEN];
    const sh_trust *trusts[] = {&none, &root, &ca};
    uint8_t *keys_out[] = {with_none, with_root, with_ca};
    for (size_t i = 0; i < 3; i++) {
        sh_memo_key_begin(&k, "t");
        sh_memo_key_trust(&k, trusts[i]);
        assert_true(sh_memo_key_end(&k, keys_out[i]));
    }
    assert_memory_not_equal(with_none, with_root, SH_VERIFY_MEMO_KEY_LEN);
    assert_memory_not_equal(with_root, with_ca, SH_VERIFY_MEMO_KEY_LEN);
    sh_pki_keyring_free(&keys);
}

/* Matchers shared through a memo: equal rule sets (built apart) get the one compiled matcher,
 * which matches exactly as a matcher of their own; without a memo, or for rules that do not
 * compile, the caller's scratch is used and the error comes back. */
static void test_shared_matcher(void **state)
{
    (void)state;
    sh_verify_memo *memo = sh_verify_memo_new();
    assert_non_null(memo);
    sh_res_rules a, b;
    sh_error err = {0};
    assert_int_equal(sh_res_default_rules2(NULL, &a, &err), SH_E_OK);
    assert_int_equal(sh_res_default_rules2(NULL, &b, &err), SH_E_OK);
    sh_res_matcher sa, sb, own;
    const sh_res_matcher *ma, *mb;
    assert_int_equal(sh_res_matcher_shared(memo, &a, NULL, &sa, &ma, &err), SH_E_OK);
    assert_int_equal(sh_res_matcher_shared(memo, &b, NULL, &sb, &mb, &err), SH_E_OK);
    assert_ptr_equal(ma, mb);
    assert_ptr_not_equal(ma, &sa);
    assert_int_equal(sh_res_matcher_init(&own, &a, NULL, &err), SH_E_OK);
    static const char *const paths[] = {"Info.plist", "Resources/en.lproj/x.strings", "MacOS/x",
                                        "Resources/.DS_Store", "a.dSYM/y", "Library/LoginItems/z",
                                        "PkgInfo", "top"};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        sh_res_match x, y;
        assert_int_equal(sh_res_matcher_match(ma, paths[i], &x, &err), SH_E_OK);
        assert_int_equal(sh_res_matcher_match(&own, paths[i], &y, &err), SH_E_OK);
        assert_int_equal(x.index, y.index);
        assert_int_equal(x.rule != NULL, y.rule != NULL);
        assert_int_equal(x.tie, y.tie);
    }
    sh_res_matcher_free(&own);
    sh_res_matcher_release(&sa, ma);
    sh_res_matcher_release(&sb, mb);
    /* a rule set that differs in one weight is compiled apart */
    b.items[0].weight++;
    assert_int_equal(sh_res_matcher_shared(memo, &b, NULL, &sb, &mb, &err), SH_E_OK);
    assert_ptr_not_equal(ma, mb);
    sh_res_matcher_release(&sb, mb);
    /* no memo: the scratch */
    assert_int_equal(sh_res_matcher_shared(NULL, &a, NULL, &sa, &ma, &err), SH_E_OK);
    assert_ptr_equal(ma, &sa);
    sh_res_matcher_release(&sa, ma);
    /* rules that do not compile: the error, nothing to use */
    char *saved = b.items[0].pattern;
    b.items[0].pattern = "(";
    b.items[0].pattern_len = 1;
    assert_int_equal(sh_res_matcher_shared(memo, &b, NULL, &sb, &mb, &err),
                     SH_E_RES_RULE_BAD_REGEX);
    assert_null(mb);
    b.items[0].pattern = saved;
    b.items[0].pattern_len = strlen(saved);
    sh_res_rules_free(NULL, &a);
    sh_res_rules_free(NULL, &b);
    sh_verify_memo_free(memo);
}

static void test_keyring(void **state)
{
    (void)state;
    sh_pki_keyring keys;
    char why[SH_PKI_WHY_MAX];
    assert_true(sh_pki_keyring_load(&keys, NULL, why, sizeof why));
    size_t listed = 0;
    for (const char *const *n = sh_pki_identity_names(); *n; n++, listed++) {
        const sh_pki_identity *id = sh_pki_keyring_find(&keys, *n);
        assert_non_null(id);
        assert_string_equal(id->name, *n);
        assert_ptr_equal(sh_pki_keyring_find(&keys, id->cn), id);
        assert_non_null(id->key);
    }
    assert_int_equal(keys.count, listed);
    assert_non_null(keys.tsa.key);
    assert_null(sh_pki_keyring_find(&keys, "nobody"));
    assert_null(sh_pki_keyring_find(&keys, NULL));
    sh_pki_keyring_free(&keys);
    sh_pki_keyring_free(&keys); /* safe twice */

    assert_false(sh_pki_keyring_load(&keys, "/nonexistent-pki", why, sizeof why));
    assert_non_null(strstr(why, "/nonexistent-pki"));
    assert_int_equal(keys.count, 0);
}

/* ---- a memoised verdict is the verdict ---- */

typedef struct compare_state {
    const sh_case_set *set;
    size_t cases, differing;
    char first[200];
} compare_state;

static char *verdict_json(const sh_case_set *set, const sh_case *c, sh_verify_memo *memo)
{
    X509 *root = set->keys.ids[0].root;
    sh_verdict_options o;
    sh_verdict_options_init(&o);
    o.policy = c->development ? SH_POLICY_DEVELOPMENT : SH_POLICY_DISTRIBUTION;
    o.now = SH_REGRESS_NOW;
    o.trust.anchor_x509 = &root;
    o.trust.n_anchor_x509 = 1;
    o.trusted_root_is_apple = true;
    o.memo = memo;
    sh_verdict v;
    assert_int_equal(sh_verdict_run(c->bundle, &o, &v), SH_E_OK);
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    assert_non_null(out);
    sh_verdict_print_json(&v, c->name, out);
    fclose(out);
    sh_verdict_free(&v);
    return text;
}

static bool compare_case(void *arg, const sh_case *c)
{
    compare_state *s = arg;
    char *plain = verdict_json(s->set, c, NULL);
    char *filling = verdict_json(s->set, c, s->set->memo);
    char *remembered = verdict_json(s->set, c, s->set->memo);
    if (strcmp(plain, filling) || strcmp(plain, remembered)) {
        if (!s->differing++)
            snprintf(s->first, sizeof s->first, "%s", c->name);
    }
    s->cases++;
    free(plain);
    free(filling);
    free(remembered);
    return true;
}

static void test_memoised_verdicts_are_the_verdicts(void **state)
{
    (void)state;
    sh_case_filter f = {.category = "camera", .development = -1};
    sh_case_set set;
    char why[320];
    assert_true(sh_case_set_build(&f, &set, why, sizeof why));
    assert_non_null(set.memo);
    compare_state s = {&set, 0, 0, ""};
    assert_true(sh_case_set_each(&set, &f, compare_case, &s, why, sizeof why));
    if (s.differing)
        fail_msg("%zu of %zu cases differ with the memo, first %s", s.differing, s.cases, s.first);
    assert_true(s.cases > 100); /* both camera bases, every fitting mutator */
    sh_case_set_free(&set);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_put_get_release),
        cmocka_unit_test(test_full),
        cmocka_unit_test(test_every_input_changes_the_key),
        cmocka_unit_test(test_shared_matcher),
        cmocka_unit_test(test_keyring),
        cmocka_unit_test(test_memoised_verdicts_are_the_verdicts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
