/* _CodeSignature/CodeResources (parsers/coderesources*.c): the real Sparkle envelopes, binary
 * plists, rule evaluation against Apple's default v2 rules, hostile envelopes with their exact
 * errors, allocation failures. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <plist/plist.h>

#include "coderesources.h"
#include "failing_alloc.h"
#include "hash.h"
#include "res_samples.h"

#define Z20 "<data>AAAAAAAAAAAAAAAAAAAAAAAAAAA=</data>"
#define Z32 "<data>AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=</data>"

static void hex(const uint8_t *p, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        snprintf(out + 2 * i, 3, "%02x", p[i]);
}

static sh_err parse_text(const char *body, sh_coderesources *cr, sh_res_where *w, sh_error *err)
{
    res_bytes b = res_plist(body);
    sh_cursor c = res_cursor(&b);
    sh_err e = sh_coderesources_parse(&c, NULL, cr, w, err);
    free(b.data);
    return e;
}

/* ---- real samples ---- */

static void sparkle_dev_signed_app(void **state)
{
    (void)state;
    res_bytes b = res_load_sample("macho", "sparkle_DevSignedApp_CodeResources");
    assert_non_null(b.data);
    assert_int_equal(b.len, 2468);
    /* the special slot 3 binding (MANIFEST.md): sha256 of the file */
    uint8_t d[32];
    char h[65];
    assert_true(sh_hash(SH_HASH_SHA256, b.data, b.len, d));
    hex(d, 32, h);
    assert_string_equal(h, "e32682b146cbe61b505eed51adefa71d6192d6c456915dc0d437440d36cd767a");

    sh_cursor c = res_cursor(&b);
    sh_coderesources cr;
    sh_res_where w;
    sh_error err = {0};
    assert_int_equal(sh_coderesources_parse(&c, NULL, &cr, &w, &err), SH_E_OK);
    assert_true(cr.files.present && cr.files2.present && cr.rules.present && cr.rules2.present);
    assert_int_equal(cr.files.count, 1);
    assert_int_equal(cr.files2.count, 1);
    assert_int_equal(cr.rules.count, 5);
    assert_int_equal(cr.rules2.count, 13);

    const sh_res_file *f = sh_res_find(&cr.files2, "Resources/Base.lproj/MainMenu.nib");
    assert_non_null(f);
    assert_true(f->has_hash2 && !f->has_hash && !f->nested && !f->optional && !f->symlink);
    hex(f->hash2, 32, h);
    assert_string_equal(h, "d08ff3b3d0a7abe17ef268046b0518c824917a61e929aae9b9fad60c2681fe6c");
    f = sh_res_find(&cr.files, "Resources/Base.lproj/MainMenu.nib");
    assert_non_null(f);
    assert_true(f->has_hash);
    hex(f->hash, 20, h);
    assert_string_equal(h, "072cfcec4b5680684ef649051c66fee9ba34b0ae");
    assert_null(sh_res_find(&cr.files2, "Resources/Base.lproj/MainMenu"));
    assert_null(sh_res_find(&cr.files2, "Resources/Base.lproj/MainMenu.nibx"));

    /* rules2 weights, sorted by pattern bytes */
    static const struct {
        const char *pattern;
        uint32_t weight;
        bool plain, omit, optional, nested;
    } want[] = {
        {".*\\.dSYM($|/)", 11, false, false, false, false},
        {"^(.*/)?\\.DS_Store$", 2000, false, true, false, false},
        {"^(Frameworks|SharedFrameworks|PlugIns|Plug-ins|XPCServices|Helpers|MacOS|Library/"
         "(Automator|Spotlight|LoginItems))/",
         10, false, false, false, true},
        {"^.*", 1, true, false, false, false},
        {"^Info\\.plist$", 20, false, true, false, false},
        {"^PkgInfo$", 20, false, true, false, false},
        {"^Resources/", 20, false, false, false, false},
        {"^Resources/.*\\.lproj/", 1000, false, false, true, false},
        {"^Resources/.*\\.lproj/locversion.plist$", 1100, false, true, false, false},
        {"^Resources/Base\\.lproj/", 1010, false, false, false, false},
        {"^[^/]+$", 10, false, false, false, true},
        {"^embedded\\.provisionprofile$", 20, false, false, false, false},
        {"^version\\.plist$", 20, false, false, false, false},
    };
    for (size_t i = 0; i < 13; i++) {
        const sh_res_rule *r = &cr.rules2.items[i];
        assert_string_equal(r->pattern, want[i].pattern);
        assert_int_equal(r->weight, want[i].weight);
        assert_int_equal(r->plain, want[i].plain);
        assert_int_equal(r->omit, want[i].omit);
        assert_int_equal(r->optional, want[i].optional);
        assert_int_equal(r->nested, want[i].nested);
    }
    /* v1 rules: bare true is a sealed rule of weight 1 */
    assert_string_equal(cr.rules.items[0].pattern, "^Resources/");
    assert_true(cr.rules.items[0].plain && !cr.rules.items[0].omit);
    assert_int_equal(cr.rules.items[0].weight, 1);
    assert_string_equal(cr.rules.items[4].pattern, "^version.plist$");
    /* the same table as Apple's defaults */
    sh_res_rules def;
    assert_int_equal(sh_res_default_rules2(NULL, &def, &err), SH_E_OK);
    assert_int_equal(def.count, cr.rules2.count);
    for (size_t i = 0; i < def.count; i++) {
        assert_string_equal(def.items[i].pattern, cr.rules2.items[i].pattern);
        assert_int_equal(def.items[i].weight, cr.rules2.items[i].weight);
        assert_string_equal(sh_res_rule_kind(&def.items[i]),
                            sh_res_rule_kind(&cr.rules2.items[i]));
    }
    sh_res_rules_free(NULL, &def);
    sh_coderesources_free(&cr);
    free(b.data);
}

static void sparkle_both_new(void **state)
{
    (void)state;
    res_bytes b = res_load_sample("detached", "sparkle_CodeSignedBothNew_CodeResources");
    assert_non_null(b.data);
    sh_cursor c = res_cursor(&b);
    sh_coderesources cr;
    sh_error err = {0};
    assert_int_equal(sh_coderesources_parse(&c, NULL, &cr, NULL, &err), SH_E_OK);
    const sh_res_file *f = sh_res_find(&cr.files2, "Resources/test-pubkey.pem");
    assert_non_null(f);
    assert_true(f->has_hash && f->has_hash2);
    char h[65];
    hex(f->hash2, 32, h);
    assert_string_equal(h, "cc3fd7409bb81253d613ab1faadce8476bc48dd7e08bdf23fe1891a1866abfdc");
    assert_memory_equal(f->hash, cr.files.items[0].hash, 20);
    sh_coderesources_free(&cr);
    free(b.data);
}

/* The same envelope as a binary plist (written by libplist) parses to the same data. */
static void binary_plist_accepted(void **state)
{
    (void)state;
    res_bytes b = res_load_sample("macho", "sparkle_DevSignedApp_CodeResources");
    assert_non_null(b.data);
    plist_t p = NULL;
    plist_from_xml((const char *)b.data, (uint32_t)b.len, &p);
    assert_non_null(p);
    char *bin = NULL;
    uint32_t blen = 0;
    plist_to_bin(p, &bin, &blen);
    plist_free(p);
    assert_non_null(bin);
    res_bytes bb = res_exact(bin, blen);
    free(bin);
    sh_cursor c = res_cursor(&bb);
    sh_coderesources cr;
    sh_error err = {0};
    assert_int_equal(sh_coderesources_parse(&c, NULL, &cr, NULL, &err), SH_E_OK);
    assert_int_equal(cr.rules2.count, 13);
    assert_int_equal(cr.files2.count, 1);
    assert_true(cr.files2.items[0].has_hash2);
    sh_coderesources_free(&cr);
    free(bb.data);
    free(b.data);
}

/* ---- synthetic envelopes ---- */

static void entry_kinds_and_lookup(void **state)
{
    (void)state;
    sh_coderesources cr;
    sh_error err = {0};
    assert_int_equal(
        parse_text("<dict><key>files2</key><dict>"
                   "<key>z/file</key><dict><key>hash2</key>" Z32 "<key>optional</key><true/></dict>"
                   "<key>Frameworks/A.framework</key><dict><key>cdhash</key>" Z20
                   "<key>requirement</key><string>identifier \"a\" and anchor apple</string></dict>"
                   "<key>Resources/link</key><dict><key>symlink</key><string>../x</string></dict>"
                   "<key>a</key><dict><key>hash</key>" Z20 "<key>hash2</key>" Z32 "</dict>"
                   "<key>b</key>" Z20
                   "</dict><key>other</key><integer>1</integer></dict>",
                   &cr, NULL, &err),
        SH_E_OK);
    assert_false(cr.files.present);
    assert_int_equal(cr.files2.count, 5);
    static const char *order[] = {"Frameworks/A.framework", "Resources/link", "a", "b", "z/file"};
    for (size_t i = 0; i < 5; i++) {
        assert_string_equal(cr.files2.items[i].path, order[i]);
        assert_ptr_equal(sh_res_find(&cr.files2, order[i]), &cr.files2.items[i]);
    }
    const sh_res_file *f = &cr.files2.items[0];
    assert_true(f->nested && f->has_cdhash);
    assert_string_equal(f->requirement, "identifier \"a\" and anchor apple");
    assert_string_equal(cr.files2.items[1].symlink, "../x");
    assert_true(cr.files2.items[4].optional);
    assert_true(cr.files2.items[3].has_hash && !cr.files2.items[3].has_hash2);
    sh_coderesources_free(&cr);
    /* either half of a nested seal alone is still a nested entry (ResourceSeal keys on the
     * requirement; a cdhash alone is left for the verdict to refuse) */
    assert_int_equal(
        parse_text("<dict><key>files2</key><dict>"
                   "<key>PlugIns/R.appex</key><dict><key>requirement</key><string>anchor apple"
                   "</string><key>optional</key><true/></dict>"
                   "<key>PlugIns/C.appex</key><dict><key>cdhash</key>" Z20 "</dict>"
                   "</dict></dict>",
                   &cr, NULL, &err),
        SH_E_OK);
    f = sh_res_find(&cr.files2, "PlugIns/R.appex");
    assert_true(f && f->nested && !f->has_cdhash && f->optional);
    assert_string_equal(f->requirement, "anchor apple");
    f = sh_res_find(&cr.files2, "PlugIns/C.appex");
    assert_true(f && f->nested && f->has_cdhash && !f->requirement);
    sh_coderesources_free(&cr);
}

static void rule_evaluation_table(void **state)
{
    (void)state;
    static const struct {
        const char *path;
        const char *kind;
        uint32_t weight;
    } table[] = {
        {"Info.plist", "omitted", 20},
        {"MacOS/x", "nested", 10},
        {"Resources/en.lproj/a.strings", "optional", 1000},
        {"Resources/Base.lproj/MainMenu.nib", "sealed", 1010},
        {"Resources/en.lproj/locversion.plist", "omitted", 1100},
        {".DS_Store", "omitted", 2000},
        {"Resources/sub/.DS_Store", "omitted", 2000},
        {"embedded.provisionprofile", "sealed", 20},
        {"foo.dSYM/x", "sealed", 11},
        {"PkgInfo", "omitted", 20},
        {"version.plist", "sealed", 20},
        {"Resources/icon.icns", "sealed", 20},
        {"README", "nested", 10},
        {"Frameworks/A.framework/A", "nested", 10},
        {"Library/LoginItems/H.app", "nested", 10},
        /* not in the nested rule: sealed as a plain resource (codesign-formats.md section 7) */
        {"Library/SystemExtensions/x.systemextension/Contents/Info.plist", "sealed", 1},
    };
    sh_error err = {0};
    sh_res_rules def;
    assert_int_equal(sh_res_default_rules2(NULL, &def, &err), SH_E_OK);
    sh_res_matcher m;
    assert_int_equal(sh_res_matcher_init(&m, &def, NULL, &err), SH_E_OK);
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        sh_res_match r;
        assert_int_equal(sh_res_matcher_match(&m, table[i].path, &r, &err), SH_E_OK);
        assert_non_null(r.rule);
        if (strcmp(sh_res_rule_kind(r.rule), table[i].kind) != 0 || r.rule->weight != table[i].weight)
            fail_msg("%s: %s %u, want %s %u", table[i].path, sh_res_rule_kind(r.rule),
                     r.rule->weight, table[i].kind, table[i].weight);
        assert_false(r.tie);
    }
    sh_res_matcher_free(&m);
    sh_res_rules_free(NULL, &def);
}

/* Equal weights: the pattern that sorts first wins and the tie is reported; no match: NULL. */
static void rule_ties_and_no_match(void **state)
{
    (void)state;
    sh_coderesources cr;
    sh_error err = {0};
    assert_int_equal(parse_text("<dict><key>rules2</key><dict>"
                                "<key>b</key><dict><key>weight</key><integer>5</integer></dict>"
                                "<key>a</key><dict><key>omit</key><true/><key>weight</key>"
                                "<integer>5</integer></dict>"
                                "<key>^x</key><false/>"
                                "<key>^y</key><dict><key>optional</key><true/></dict>"
                                "</dict></dict>",
                                &cr, NULL, &err),
                     SH_E_OK);
    sh_res_matcher m;
    assert_int_equal(sh_res_matcher_init(&m, &cr.rules2, NULL, &err), SH_E_OK);
    sh_res_match r;
    assert_int_equal(sh_res_matcher_match(&m, "ab", &r, &err), SH_E_OK);
    assert_true(r.tie);
    assert_string_equal(r.rule->pattern, "a");
    assert_string_equal(sh_res_rule_kind(r.rule), "omitted");
    assert_int_equal(sh_res_matcher_match(&m, "b", &r, &err), SH_E_OK);
    assert_false(r.tie);
    assert_string_equal(r.rule->pattern, "b");
    assert_int_equal(sh_res_matcher_match(&m, "x", &r, &err), SH_E_OK);
    assert_true(r.rule->plain && r.rule->omit && r.rule->weight == 1); /* false: omitted */
    assert_int_equal(sh_res_matcher_match(&m, "y", &r, &err), SH_E_OK);
    assert_true(!r.rule->plain && r.rule->optional && r.rule->weight == 1); /* default weight */
    assert_string_equal(sh_res_rule_kind(r.rule), "optional");
    assert_int_equal(sh_res_matcher_match(&m, "q", &r, &err), SH_E_OK);
    assert_null(r.rule);
    assert_string_equal(sh_res_rule_kind(r.rule), "unsealed");
    sh_res_matcher_free(&m);
    sh_coderesources_free(&cr);
}

/* ---- hostile envelopes: each with its specific error and where ---- */

static void hostile_inputs(void **state)
{
    (void)state;
    static const struct {
        const char *body;
        sh_err code;
        const char *where; /* sh_res_where text, NULL: not checked */
        uint64_t value;    /* checked when nonzero */
    } cases[] = {
        {"<array/>", SH_E_RES_ROOT_NOT_DICT, "CodeResources", 0},
        {"<dict><key>files2</key><array/></dict>", SH_E_RES_KEY_TYPE, "files2", 0},
        {"<dict><key>files2</key><dict><key>a</key><string>x</string></dict></dict>",
         SH_E_RES_KEY_TYPE, "files2/a", 0},
        {"<dict><key>files2</key><dict><key>a</key><dict><key>hash2</key>" Z20
         "</dict></dict></dict>",
         SH_E_RES_HASH_LENGTH, "files2/a/hash2", 20},
        {"<dict><key>files2</key><dict><key>a</key><dict><key>hash</key>" Z32
         "</dict></dict></dict>",
         SH_E_RES_HASH_LENGTH, "files2/a/hash", 32},
        {"<dict><key>files2</key><dict><key>F/x</key><dict><key>cdhash</key>" Z32
         "</dict></dict></dict>",
         SH_E_RES_HASH_LENGTH, "files2/F/x/cdhash", 32},
        {"<dict><key>files</key><dict><key>a</key><data>AAAA</data></dict></dict>",
         SH_E_RES_HASH_LENGTH, "files/a/hash", 3},
        {"<dict><key>files2</key><dict><key>a</key><dict><key>hash2</key><string>x</string>"
         "</dict></dict></dict>",
         SH_E_RES_KEY_TYPE, "files2/a/hash2", 0},
        {"<dict><key>files2</key><dict><key>a</key><dict/></dict></dict>", SH_E_RES_ENTRY_EMPTY,
         "files2/a", 0},
        {"<dict><key>files</key><dict><key>a</key><dict><key>optional</key><true/></dict>"
         "</dict></dict>",
         SH_E_RES_ENTRY_EMPTY, "files/a", 0},
        {"<dict><key>files2</key><dict><key>a</key><dict><key>cdhash</key>" Z20
         "<key>hash2</key>" Z32 "</dict></dict></dict>",
         SH_E_RES_ENTRY_CONFLICT, "files2/a", 0},
        {"<dict><key>files2</key><dict><key>a</key><dict><key>hash2</key>" Z32
         "<key>requirement</key><string>anchor apple</string></dict></dict></dict>",
         SH_E_RES_ENTRY_CONFLICT, "files2/a", 0},
        {"<dict><key>files2</key><dict><key>a</key><dict><key>hash2</key>" Z32
         "<key>symlink</key><string>b</string></dict></dict></dict>",
         SH_E_RES_ENTRY_CONFLICT, "files2/a", 0},
        {"<dict><key>files2</key><dict><key>../etc/passwd</key>" Z20 "</dict></dict>",
         SH_E_RES_BAD_PATH, "files2/../etc/passwd", 0},
        {"<dict><key>files2</key><dict><key>/abs</key>" Z20 "</dict></dict>", SH_E_RES_BAD_PATH,
         NULL, 0},
        {"<dict><key>files2</key><dict><key>a//b</key>" Z20 "</dict></dict>", SH_E_RES_BAD_PATH,
         NULL, 0},
        {"<dict><key>files2</key><dict><key>a/./b</key>" Z20 "</dict></dict>", SH_E_RES_BAD_PATH,
         NULL, 0},
        {"<dict><key>files2</key><dict><key>dir/</key>" Z20 "</dict></dict>", SH_E_RES_BAD_PATH,
         NULL, 0},
        {"<dict><key>files2</key><dict><key></key>" Z20 "</dict></dict>", SH_E_RES_BAD_PATH, NULL,
         0},
        {"<dict><key>files2</key><dict><key>a</key><dict><key>hash2</key>" Z32
         "<key>optional</key><string>yes</string></dict></dict></dict>",
         SH_E_RES_KEY_TYPE, "files2/a/optional", 0},
        {"<dict><key>files2</key><dict><key>a</key><dict><key>symlink</key><integer>1</integer>"
         "</dict></dict></dict>",
         SH_E_RES_KEY_TYPE, "files2/a/symlink", 0},
        {"<dict><key>files2</key><dict><key>a</key><dict><key>symlink</key><string></string>"
         "</dict></dict></dict>",
         SH_E_RES_BAD_STRING, "files2/a/symlink", 0},
        {"<dict><key>rules2</key><string>x</string></dict>", SH_E_RES_RULE_TYPE, "rules2", 0},
        {"<dict><key>rules2</key><dict><key>^a</key><integer>1</integer></dict></dict>",
         SH_E_RES_RULE_TYPE, "rules2/^a", 0},
        {"<dict><key>rules</key><dict><key>(</key><true/></dict></dict>",
         SH_E_RES_RULE_BAD_REGEX, "rules/(", 0},
        {"<dict><key>rules2</key><dict><key>[z-a]</key><true/></dict></dict>",
         SH_E_RES_RULE_BAD_REGEX, NULL, 0},
        {"<dict><key>rules2</key><dict><key>(a)\\1</key><true/></dict></dict>",
         SH_E_RES_RULE_REGEX_LIMIT, "rules2/(a)\\1", 0},
        {"<dict><key>rules2</key><dict><key>a{1000}</key><true/></dict></dict>",
         SH_E_RES_RULE_REGEX_LIMIT, NULL, 0},
        {"<dict><key>rules2</key><dict><key>((a{9}){9}){9}</key><true/></dict></dict>",
         SH_E_RES_RULE_REGEX_LIMIT, NULL, 0},
        {"<dict><key>rules2</key><dict><key></key><true/></dict></dict>",
         SH_E_RES_RULE_REGEX_LIMIT, NULL, 0},
        {"<dict><key>rules2</key><dict><key>(a)(b)(c)\\9</key><true/></dict></dict>",
         SH_E_RES_RULE_REGEX_LIMIT, NULL, 0},
        /* stacked repetitions and repeated groups (glibc duplicates the tree exponentially) */
        {"<dict><key>rules2</key><dict><key>^a++++++++b$</key><true/></dict></dict>",
         SH_E_RES_RULE_REGEX_LIMIT, NULL, 0},
        {"<dict><key>rules2</key><dict><key>^a*?$</key><true/></dict></dict>",
         SH_E_RES_RULE_REGEX_LIMIT, NULL, 0},
        {"<dict><key>rules2</key><dict><key>(((x+)+)+)+</key><true/></dict></dict>",
         SH_E_RES_RULE_REGEX_LIMIT, NULL, 0},
        {"<dict><key>rules2</key><dict><key>^a</key><dict><key>weight</key><integer>-1</integer>"
         "</dict></dict></dict>",
         SH_E_RES_RULE_BAD_WEIGHT, "rules2/^a/weight", 0},
        {"<dict><key>rules2</key><dict><key>^a</key><dict><key>weight</key><real>1.5</real>"
         "</dict></dict></dict>",
         SH_E_RES_RULE_BAD_WEIGHT, "rules2/^a/weight", 0},
        {"<dict><key>rules2</key><dict><key>^a</key><dict><key>weight</key>"
         "<integer>4294967296</integer></dict></dict></dict>",
         SH_E_RES_RULE_BAD_WEIGHT, NULL, 4294967296u},
        {"<dict><key>rules2</key><dict><key>^a</key><dict><key>weight</key><real>nan</real>"
         "</dict></dict></dict>",
         SH_E_RES_RULE_BAD_WEIGHT, NULL, 0},
        {"<dict><key>rules2</key><dict><key>^a</key><dict><key>weight</key><string>1</string>"
         "</dict></dict></dict>",
         SH_E_RES_RULE_TYPE, "rules2/^a/weight", 0},
        {"<dict><key>rules2</key><dict><key>^a</key><dict><key>nested</key><integer>1</integer>"
         "</dict></dict></dict>",
         SH_E_RES_RULE_TYPE, "rules2/^a/nested", 0},
        {"<dict><key>files2</key><dict/><key>files2</key><dict/></dict>", SH_E_PLIST_DUPLICATE_KEY,
         NULL, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sh_coderesources cr;
        sh_res_where w;
        sh_error err = {0};
        sh_err e = parse_text(cases[i].body, &cr, &w, &err);
        if (e != cases[i].code)
            fail_msg("case %zu: %s, want %s", i, sh_err_name(e), sh_err_name(cases[i].code));
        if (cases[i].where && strcmp(w.text, cases[i].where) != 0)
            fail_msg("case %zu: where \"%s\", want \"%s\"", i, w.text, cases[i].where);
        if (cases[i].value)
            assert_int_equal(err.value, cases[i].value);
        char msg[512];
        assert_true(sh_error_format(&err, msg, sizeof msg) > 0);
        assert_int_equal(cr.files2.count + cr.rules2.count + cr.files.count + cr.rules.count, 0);
        sh_coderesources_free(&cr);
    }
    /* not a plist at all, and empty input */
    sh_coderesources cr;
    sh_error err = {0};
    res_bytes b = res_exact("", 0);
    sh_cursor c = res_cursor(&b);
    assert_int_equal(sh_coderesources_parse(&c, NULL, &cr, NULL, &err), SH_E_PLIST_UNKNOWN_FORMAT);
    free(b.data);
}

static void too_many_rules(void **state)
{
    (void)state;
    size_t cap = (SH_MAX_RES_RULES + 1) * 32 + 64;
    char *body = malloc(cap);
    assert_non_null(body);
    size_t at = (size_t)snprintf(body, cap, "<dict><key>rules2</key><dict>");
    for (unsigned i = 0; i <= SH_MAX_RES_RULES; i++)
        at += (size_t)snprintf(body + at, cap - at, "<key>^r%u</key><true/>", i);
    snprintf(body + at, cap - at, "</dict></dict>");
    sh_coderesources cr;
    sh_error err = {0};
    assert_int_equal(parse_text(body, &cr, NULL, &err), SH_E_RES_TOO_MANY_RULES);
    assert_int_equal(err.value, SH_MAX_RES_RULES + 1);
    free(body);

    /* few rules, long patterns: the byte total is bounded (regexec cost) */
    unsigned each = SH_MAX_RES_REGEX_LEN - 4;
    unsigned count = SH_MAX_RES_RULES_BYTES / each + 1;
    cap = (size_t)count * (each + 32) + 64;
    body = malloc(cap);
    assert_non_null(body);
    at = (size_t)snprintf(body, cap, "<dict><key>rules2</key><dict>");
    for (unsigned i = 0; i < count; i++) {
        at += (size_t)snprintf(body + at, cap - at, "<key>%04u", i);
        memset(body + at, 'a', each - 4);
        at += each - 4;
        at += (size_t)snprintf(body + at, cap - at, "</key><true/>");
    }
    snprintf(body + at, cap - at, "</dict></dict>");
    sh_res_where w;
    assert_int_equal(parse_text(body, &cr, &w, &err), SH_E_RES_TOO_MANY_RULES);
    assert_int_equal(err.value, (uint64_t)count * each);
    assert_string_equal(w.text, "rules2");
    free(body);

    /* one pattern one byte past SH_MAX_RES_REGEX_LEN */
    body = malloc(SH_MAX_RES_REGEX_LEN + 128);
    assert_non_null(body);
    at = (size_t)snprintf(body, 64, "<dict><key>rules2</key><dict><key>");
    memset(body + at, 'a', SH_MAX_RES_REGEX_LEN + 1);
    at += SH_MAX_RES_REGEX_LEN + 1;
    snprintf(body + at, 64, "</key><true/></dict></dict>");
    assert_int_equal(parse_text(body, &cr, NULL, &err), SH_E_RES_RULE_REGEX_LIMIT);
    assert_int_equal(err.value, SH_MAX_RES_REGEX_LEN + 1);
    free(body);
}

/* A long path with control bytes: the where text is escaped and truncated. */
static void where_is_escaped_and_truncated(void **state)
{
    (void)state;
    char body[4096];
    char path[1100];
    memset(path, 'p', sizeof path - 1);
    path[sizeof path - 1] = '\0';
    memcpy(path, "&#x7f;", 6);
    snprintf(body, sizeof body, "<dict><key>files2</key><dict><key>%s</key><string/></dict></dict>",
             path);
    sh_coderesources cr;
    sh_res_where w;
    sh_error err = {0};
    assert_int_equal(parse_text(body, &cr, &w, &err), SH_E_RES_BAD_PATH); /* > 1024 bytes */
    assert_memory_equal(w.text, "files2/\\x7fppp", 14);
    size_t n = strlen(w.text);
    assert_true(n < SH_RES_WHERE_MAX);
    assert_string_equal(w.text + n - 3, "...");
}

/* ---- allocation failures ---- */

static void allocation_failures_are_clean(void **state)
{
    (void)state;
    res_bytes b = res_load_sample("macho", "sparkle_DevSignedApp_CodeResources");
    assert_non_null(b.data);
    sh_cursor c = res_cursor(&b);
    for (int which = 0; which < 3; which++) {
        bool done = false;
        for (long k = 0; !done; k++) {
            failing_alloc fl;
            sh_allocator a = failing_alloc_start(&fl, k);
            sh_error err = {0};
            sh_err r;
            if (which == 0) {
                sh_coderesources cr;
                r = sh_coderesources_parse(&c, &a, &cr, NULL, &err);
                if (r == SH_E_OK) {
                    assert_int_equal(cr.rules2.count, 13);
                }
                sh_coderesources_free(&cr);
            } else if (which == 1) {
                sh_res_rules def;
                r = sh_res_default_rules2(&a, &def, &err);
                sh_res_rules_free(&a, &def);
            } else {
                sh_res_rules def;
                assert_int_equal(sh_res_default_rules2(NULL, &def, &err), SH_E_OK);
                sh_res_matcher m;
                r = sh_res_matcher_init(&m, &def, &a, &err);
                sh_res_matcher_free(&m);
                sh_res_rules_free(NULL, &def);
            }
            if (r == SH_E_OK)
                done = true;
            else
                assert_int_equal(r, SH_E_NO_MEMORY);
            assert_int_equal(fl.live, 0);
        }
    }
    free(b.data);
}

/* The pattern bounds let through what real rules use and refuse only costly shapes. */
static void test_pattern_bounds(void **state)
{
    (void)state;
    static const char *const ok[] = {
        "^.*", "^[^/]+$", "^(.*/)?\\.DS_Store$", "^[+*?]+\\.txt$", "^(a|b)?(c)+$",
        "^(Frameworks|PlugIns)/", "a{1,16}b{2}", "^x\\+\\+$", "^[]+]*$",
    };
    static const char *const refused[] = {
        "a++", "a*+", "a+?", "a{2}+", "(a)+(b)+(c)+", "((x+)+)+)+", "(a)\\1",
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        if (sh_res_check_pattern(ok[i], strlen(ok[i]), "t", 0, NULL) != SH_E_OK)
            fail_msg("refused %s", ok[i]);
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++)
        if (sh_res_check_pattern(refused[i], strlen(refused[i]), "t", 0, NULL) !=
            SH_E_RES_RULE_REGEX_LIMIT)
            fail_msg("accepted %s", refused[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pattern_bounds),
        cmocka_unit_test(sparkle_dev_signed_app),
        cmocka_unit_test(sparkle_both_new),
        cmocka_unit_test(binary_plist_accepted),
        cmocka_unit_test(entry_kinds_and_lookup),
        cmocka_unit_test(rule_evaluation_table),
        cmocka_unit_test(rule_ties_and_no_match),
        cmocka_unit_test(hostile_inputs),
        cmocka_unit_test(too_many_rules),
        cmocka_unit_test(where_is_escaped_and_truncated),
        cmocka_unit_test(allocation_failures_are_clean),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
