/* CodeResources writer (mutators/coderesources_writer.c): Sparkle's real envelope rebuilt byte for
 * byte, round trips through the parser, rule verdicts (omitted, optional, nested, symlinks),
 * refusals, the directory walk on a real temporary tree, determinism, allocation failures. */
#define _XOPEN_SOURCE 700

#include <errno.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "coderesources.h"
#include "coderesources_writer.h"
#include "failing_alloc.h"
#include "hash.h"
#include "res_samples.h"

/* ---- helpers ---- */

static void unhex(const char *h, uint8_t *out, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned v = 0;
        sscanf(h + 2 * i, "%2x", &v);
        out[i] = (uint8_t)v;
    }
}

static sh_crw_entry file_entry(const char *path, const char *content)
{
    sh_crw_entry e;
    memset(&e, 0, sizeof e);
    e.path = path;
    e.kind = SH_CRW_FILE;
    e.data = (const uint8_t *)content;
    e.len = strlen(content);
    return e;
}

static sh_crw_entry link_entry(const char *path, const char *target)
{
    sh_crw_entry e;
    memset(&e, 0, sizeof e);
    e.path = path;
    e.kind = SH_CRW_SYMLINK;
    e.target = target;
    return e;
}

static sh_crw_entry nested_entry(const char *path, uint8_t fill, const char *req)
{
    sh_crw_entry e;
    memset(&e, 0, sizeof e);
    e.path = path;
    e.kind = SH_CRW_NESTED;
    memset(e.cdhash, fill, sizeof e.cdhash);
    e.requirement = req;
    return e;
}

static bool contains(const sh_bytebuf *b, const char *needle)
{
    size_t n = strlen(needle);
    for (size_t i = 0; n <= b->len && i <= b->len - n; i++)
        if (memcmp(b->data + i, needle, n) == 0)
            return true;
    return false;
}

/* Writes entries; asserts success; returns the buffer (free with sh_bytebuf_free). */
static sh_bytebuf write_ok(const sh_crw_entry *e, size_t n, const sh_crw_options *opt)
{
    sh_bytebuf b;
    sh_bytebuf_init(&b, NULL);
    sh_crw_error err;
    memset(&err, 0, sizeof err);
    sh_write_status st = sh_crw_write(e, n, opt, NULL, &b, &err);
    if (st != SH_W_OK)
        print_error("write failed: %s %s %s\n", sh_write_status_name(st), err.what, err.path);
    assert_int_equal(st, SH_W_OK);
    return b;
}

static void parse_ok(const sh_bytebuf *b, sh_coderesources *cr)
{
    sh_cursor c = sh_cursor_make(b->data, b->len);
    sh_error err;
    assert_int_equal(sh_coderesources_parse(&c, NULL, cr, NULL, &err), SH_E_OK);
}

static void assert_rules_equal(const sh_res_rules *a, const sh_res_rules *b)
{
    assert_int_equal(a->count, b->count);
    for (size_t i = 0; i < a->count; i++) {
        assert_string_equal(a->items[i].pattern, b->items[i].pattern);
        assert_int_equal(a->items[i].omit, b->items[i].omit);
        assert_int_equal(a->items[i].optional, b->items[i].optional);
        assert_int_equal(a->items[i].nested, b->items[i].nested);
        assert_int_equal(a->items[i].weight, b->items[i].weight);
    }
}

static void expect_refused(const sh_crw_entry *e, size_t n, sh_write_status want, const char *what)
{
    sh_bytebuf b;
    sh_bytebuf_init(&b, NULL);
    sh_crw_error err;
    memset(&err, 0, sizeof err);
    assert_int_equal(sh_crw_write(e, n, NULL, NULL, &b, &err), want);
    assert_int_equal(err.status, want);
    assert_string_equal(err.what, what);
    assert_int_equal(b.len, 0);
    sh_bytebuf_free(&b);
}

/* ---- Sparkle's envelope, byte for byte ---- */

/* DevSignedApp.app/Contents: the nib is the only sealed resource; Info.plist, PkgInfo and a
 * top-level .DS_Store are omitted by rules2 and outside rules; the main executable is not an
 * entry. */
static size_t sparkle_entries(sh_crw_entry *e)
{
    memset(e, 0, 4 * sizeof *e);
    e[0].path = "Resources/Base.lproj/MainMenu.nib";
    e[0].kind = SH_CRW_FILE;
    e[0].hashed = true;
    unhex("072cfcec4b5680684ef649051c66fee9ba34b0ae", e[0].sha1, 20);
    unhex("d08ff3b3d0a7abe17ef268046b0518c824917a61e929aae9b9fad60c2681fe6c", e[0].sha256, 32);
    e[1] = file_entry("Info.plist", "<plist/>");
    e[2] = file_entry("PkgInfo", "APPL????");
    e[3] = file_entry(".DS_Store", "junk"); /* omitted by rules2, outside every v1 rule */
    return 4;
}

static void sparkle_byte_identical(void **state)
{
    (void)state;
    res_bytes want = res_load_sample("macho", "sparkle_DevSignedApp_CodeResources");
    assert_non_null(want.data);
    assert_int_equal(want.len, 2468);
    sh_crw_entry e[4];
    size_t n = sparkle_entries(e);
    sh_bytebuf b = write_ok(e, n, NULL);
    assert_int_equal(b.len, want.len);
    assert_memory_equal(b.data, want.data, want.len);
    uint8_t digest[32], expect[32];
    assert_true(sh_hash(SH_HASH_SHA256, b.data, b.len, digest));
    unhex("e32682b146cbe61b505eed51adefa71d6192d6c456915dc0d437440d36cd767a", expect, 32);
    assert_memory_equal(digest, expect, 32);
    sh_bytebuf_free(&b);
    free(want.data);
}

/* The sample's own parse equals the parse of what we wrote. */
static void sparkle_parse_matches(void **state)
{
    (void)state;
    res_bytes want = res_load_sample("macho", "sparkle_DevSignedApp_CodeResources");
    assert_non_null(want.data);
    sh_cursor c = res_cursor(&want);
    sh_coderesources ref, got;
    sh_error err;
    assert_int_equal(sh_coderesources_parse(&c, NULL, &ref, NULL, &err), SH_E_OK);
    sh_crw_entry e[4];
    sh_bytebuf b = write_ok(e, sparkle_entries(e), NULL);
    parse_ok(&b, &got);
    assert_rules_equal(&ref.rules, &got.rules);
    assert_rules_equal(&ref.rules2, &got.rules2);
    assert_int_equal(got.files.count, 1);
    assert_int_equal(got.files2.count, 1);
    assert_memory_equal(got.files.items[0].hash, ref.files.items[0].hash, 20);
    assert_memory_equal(got.files2.items[0].hash2, ref.files2.items[0].hash2, 32);
    assert_false(got.files2.items[0].has_hash);
    sh_coderesources_free(&ref);
    sh_coderesources_free(&got);
    sh_bytebuf_free(&b);
    free(want.data);
}

/* ---- verdicts and round trip ---- */

#define REQ "identifier \"com.example.helper\" and anchor apple generic & <x>"

static size_t bundle_entries(sh_crw_entry *e)
{
    size_t n = 0;
    e[n++] = file_entry("Info.plist", "info");
    e[n++] = file_entry(".DS_Store", "ds");
    e[n++] = file_entry("Resources/sub/.DS_Store", "ds");
    e[n++] = file_entry("Resources/en.lproj/Localizable.strings", "hello");
    e[n++] = file_entry("Resources/en.lproj/locversion.plist", "loc");
    e[n++] = file_entry("Resources/Base.lproj/Main.nib", "nib");
    e[n++] = file_entry("Resources/icon.icns", "icon");
    e[n++] = file_entry("Resources/empty", "");
    e[n++] = file_entry("version.plist", "v");
    e[n++] = file_entry("embedded.provisionprofile", "p");
    e[n++] = file_entry("README", "top-level file: v2 nested rule ^[^/]+$ applies only to code?");
    e[n++] = link_entry("Resources/link", "../../outside/target");
    e[n++] = link_entry("Resources/fr.lproj/alias", "../en.lproj/Localizable.strings");
    e[n++] = nested_entry("MacOS/other-exe", 0xab, REQ);
    e[n++] = nested_entry("Frameworks/Foo.framework", 0xcd, NULL);
    return n;
}

/* README at the top matches ^[^/]+$ (nested, weight 10): Security would sign it as code, so the
 * writer refuses it as a plain file; the list used below drops it. */
static void top_level_file_is_nested(void **state)
{
    (void)state;
    sh_crw_entry e[1] = {file_entry("README", "x")};
    expect_refused(e, 1, SH_W_INVALID_ARGUMENT, "regular file under a nested rule");
    sh_crw_entry f[1] = {file_entry("MacOS/helper", "x")};
    expect_refused(f, 1, SH_W_INVALID_ARGUMENT, "regular file under a nested rule");
    sh_crw_entry g[1] = {nested_entry("Resources/Helper.app", 1, NULL)};
    expect_refused(g, 1, SH_W_INVALID_ARGUMENT, "nested code outside a nested rule");
}

static size_t bundle_entries_ok(sh_crw_entry *e)
{
    size_t n = bundle_entries(e), k = 0;
    for (size_t i = 0; i < n; i++)
        if (strcmp(e[i].path, "README") != 0)
            e[k++] = e[i];
    return k;
}

static void verdicts_and_round_trip(void **state)
{
    (void)state;
    sh_crw_entry e[20];
    size_t n = bundle_entries_ok(e);
    sh_crw_options opt = {true, false, NULL};
    sh_bytebuf b = write_ok(e, n, &opt);
    sh_coderesources cr;
    parse_ok(&b, &cr);
    /* omitted everywhere */
    const char *omitted[] = {"Info.plist", ".DS_Store", "Resources/en.lproj/locversion.plist"};
    for (size_t i = 0; i < 3; i++) {
        assert_null(sh_res_find(&cr.files2, omitted[i]));
        assert_null(sh_res_find(&cr.files, omitted[i]));
    }
    /* the v1 rules have no .DS_Store rule: a nested .DS_Store is in files, not in files2 */
    assert_null(sh_res_find(&cr.files2, "Resources/sub/.DS_Store"));
    assert_non_null(sh_res_find(&cr.files, "Resources/sub/.DS_Store"));
    /* optional: {hash, optional} in files, optional in files2 */
    const sh_res_file *f = sh_res_find(&cr.files, "Resources/en.lproj/Localizable.strings");
    assert_non_null(f);
    assert_true(f->optional);
    uint8_t d1[20], d2[32];
    sh_hash(SH_HASH_SHA1, (const uint8_t *)"hello", 5, d1);
    sh_hash(SH_HASH_SHA256, (const uint8_t *)"hello", 5, d2);
    assert_memory_equal(f->hash, d1, 20);
    f = sh_res_find(&cr.files2, "Resources/en.lproj/Localizable.strings");
    assert_non_null(f);
    assert_true(f->optional && f->has_hash && f->has_hash2);
    assert_memory_equal(f->hash, d1, 20);
    assert_memory_equal(f->hash2, d2, 32);
    /* Base.lproj (weight 1010) beats .lproj's optional */
    f = sh_res_find(&cr.files2, "Resources/Base.lproj/Main.nib");
    assert_true(f != NULL && !f->optional);
    assert_false(sh_res_find(&cr.files, "Resources/Base.lproj/Main.nib")->optional);
    /* empty file */
    sh_hash(SH_HASH_SHA256, (const uint8_t *)"", 0, d2);
    assert_memory_equal(sh_res_find(&cr.files2, "Resources/empty")->hash2, d2, 32);
    /* outside v1 rules: only in files2 */
    assert_non_null(sh_res_find(&cr.files2, "embedded.provisionprofile"));
    assert_null(sh_res_find(&cr.files, "embedded.provisionprofile"));
    assert_non_null(sh_res_find(&cr.files, "version.plist"));
    /* symlinks: files2 only, target kept; the optional one keeps optional */
    f = sh_res_find(&cr.files2, "Resources/link");
    assert_true(f != NULL && f->symlink != NULL && !f->optional);
    assert_string_equal(f->symlink, "../../outside/target");
    assert_null(sh_res_find(&cr.files, "Resources/link"));
    f = sh_res_find(&cr.files2, "Resources/fr.lproj/alias");
    assert_true(f != NULL && f->symlink != NULL && f->optional);
    /* nested code */
    f = sh_res_find(&cr.files2, "MacOS/other-exe");
    assert_true(f != NULL && f->nested);
    uint8_t ab[20];
    memset(ab, 0xab, 20);
    assert_memory_equal(f->cdhash, ab, 20);
    assert_string_equal(f->requirement, REQ);
    f = sh_res_find(&cr.files2, "Frameworks/Foo.framework");
    assert_true(f != NULL && f->nested && f->requirement == NULL);
    assert_null(sh_res_find(&cr.files, "MacOS/other-exe"));
    /* counts: everything accounted for */
    assert_int_equal(cr.files.count, 6); /* strings, nib, icon, empty, version, sub/.DS_Store */
    assert_int_equal(cr.files2.count, 10); /* 5 of files + profile, 2 links, 2 nested */
    /* rules round trip against the parser's own default table */
    sh_res_rules def2, def1;
    sh_error perr;
    assert_int_equal(sh_res_default_rules2(NULL, &def2, &perr), SH_E_OK);
    assert_int_equal(sh_crw_default_rules1(NULL, &def1), SH_W_OK);
    assert_rules_equal(&cr.rules2, &def2);
    assert_rules_equal(&cr.rules, &def1);
    sh_res_rules_free(NULL, &def1);
    sh_res_rules_free(NULL, &def2);
    sh_coderesources_free(&cr);
    /* escaping reached the text */
    const char *needle = "and anchor apple generic &amp; &lt;x&gt;</string>";
    assert_true(contains(&b, needle));
    sh_bytebuf_free(&b);
}

static void no_v1_and_empty(void **state)
{
    (void)state;
    sh_crw_options opt = {false, true, NULL};
    sh_bytebuf b = write_ok(NULL, 0, &opt);
    static const char want_start[] = "<plist version=\"1.0\">\n<dict>\n"
                                     "\t<key>files2</key>\n\t<dict/>\n"
                                     "\t<key>rules2</key>\n\t<dict>\n";
    assert_true(contains(&b, want_start));
    sh_coderesources cr;
    parse_ok(&b, &cr);
    assert_false(cr.files.present);
    assert_false(cr.rules.present);
    assert_true(cr.files2.present);
    assert_int_equal(cr.files2.count, 0);
    sh_coderesources_free(&cr);
    sh_bytebuf_free(&b);
}

static void refusals(void **state)
{
    (void)state;
    const char *bad[] = {"", "/abs", "a//b", "a/", "./a", "a/../b", "..", "a/.", "tab\there",
                         "\xff\xfe", "\xed\xa0\x80", "\xc0\xaf"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        sh_crw_entry e[1] = {file_entry(bad[i], "x")};
        expect_refused(e, 1, SH_W_INVALID_ARGUMENT, "bad path");
    }
    sh_crw_entry dup[2] = {file_entry("Resources/a", "1"), file_entry("Resources/a", "2")};
    expect_refused(dup, 2, SH_W_INVALID_ARGUMENT, "duplicate path");
    sh_crw_entry l[1] = {link_entry("Resources/l", "")};
    expect_refused(l, 1, SH_W_INVALID_ARGUMENT, "bad symlink target");
    sh_crw_entry r[1] = {nested_entry("MacOS/x", 1, "bad\x01req")};
    expect_refused(r, 1, SH_W_INVALID_ARGUMENT, "bad requirement text");
    sh_crw_entry k[1] = {file_entry("Resources/a", "1")};
    k[0].kind = (sh_crw_kind)7;
    expect_refused(k, 1, SH_W_INVALID_ARGUMENT, "bad entry kind");
    sh_crw_entry m[1] = {file_entry("Resources/a", "1")};
    m[0].data = NULL;
    expect_refused(m, 1, SH_W_INVALID_ARGUMENT, "file data missing");
    expect_refused(NULL, 3, SH_W_INVALID_ARGUMENT, "arguments");
    expect_refused(k, (size_t)SH_MAX_RES_ENTRIES + 1, SH_W_TOO_LARGE, "entry count");
    /* a failed write leaves what the buffer held before */
    sh_bytebuf b;
    sh_bytebuf_init(&b, NULL);
    sh_bytebuf_append(&b, "keep", 4);
    assert_int_not_equal(sh_crw_write(dup, 2, NULL, NULL, &b, NULL), SH_W_OK);
    assert_int_equal(b.len, 4);
    sh_bytebuf_free(&b);
}

/* CFStringCompare order: U+1F600 (UTF-16 D83D DE00) sorts before U+FF21, unlike UTF-8 bytes
 * (F0 > EF); ASCII and the rest of the BMP keep byte order. */
static void utf16_key_order(void **state)
{
    (void)state;
    sh_crw_entry e[4] = {file_entry("Resources/\xef\xbc\xa1", "a"),
                         file_entry("Resources/\xf0\x9f\x98\x80", "b"),
                         file_entry("Resources/\xc3\xa9", "c"), file_entry("Resources/z", "d")};
    sh_bytebuf b = write_ok(e, 4, NULL);
    const char *order[] = {"<key>Resources/z</key>", "<key>Resources/\xc3\xa9</key>",
                           "<key>Resources/\xf0\x9f\x98\x80</key>",
                           "<key>Resources/\xef\xbc\xa1</key>"};
    size_t last = 0;
    for (size_t i = 0; i < 4; i++) {
        size_t n = strlen(order[i]), at = 0;
        while (at + n <= b.len && memcmp(b.data + at, order[i], n) != 0)
            at++;
        assert_true(at + n <= b.len);
        assert_true(i == 0 || at > last);
        last = at;
    }
    sh_coderesources cr;
    parse_ok(&b, &cr);
    assert_int_equal(cr.files2.count, 4);
    sh_coderesources_free(&cr);
    sh_bytebuf_free(&b);
}

/* ---- determinism ---- */

static void deterministic(void **state)
{
    (void)state;
    sh_crw_entry e[20], r[20];
    size_t n = bundle_entries_ok(e);
    for (size_t i = 0; i < n; i++)
        r[i] = e[n - 1 - i];
    sh_bytebuf a = write_ok(e, n, NULL), b = write_ok(e, n, NULL), c = write_ok(r, n, NULL);
    assert_int_equal(a.len, b.len);
    assert_memory_equal(a.data, b.data, a.len);
    assert_int_equal(a.len, c.len);
    assert_memory_equal(a.data, c.data, a.len);
    sh_bytebuf_free(&a);
    sh_bytebuf_free(&b);
    sh_bytebuf_free(&c);
}

static void allocation_failures(void **state)
{
    (void)state;
    sh_crw_entry e[20];
    size_t n = bundle_entries_ok(e);
    bool done = false;
    for (long k = 0; !done && k < 10000; k++) {
        failing_alloc fa;
        sh_allocator a = failing_alloc_start(&fa, k);
        sh_bytebuf b;
        sh_bytebuf_init(&b, &a);
        sh_crw_error err;
        sh_write_status st = sh_crw_write(e, n, NULL, &a, &b, &err);
        if (st == SH_W_OK)
            done = true;
        else
            assert_int_equal(st, SH_W_NO_MEMORY);
        sh_bytebuf_free(&b);
        assert_int_equal(fa.live, 0);
    }
    assert_true(done);
}

/* ---- directory walk ---- */

typedef struct tree {
    char root[1024];
} tree;

static void mk(const tree *t, const char *rel, const char *content)
{
    char p[1200];
    snprintf(p, sizeof p, "%s/%s", t->root, rel);
    if (content == NULL) {
        assert_int_equal(mkdir(p, 0755), 0);
        return;
    }
    FILE *f = fopen(p, "wb");
    assert_non_null(f);
    fputs(content, f);
    fclose(f);
}

static void ln(const tree *t, const char *target, const char *rel)
{
    char p[1200];
    snprintf(p, sizeof p, "%s/%s", t->root, rel);
    assert_int_equal(symlink(target, p), 0);
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    return flag == FTW_DP ? rmdir(p) : unlink(p);
}

static void tree_make(tree *t, const char *name)
{
    const char *dir = getenv("SH_BUILD_DIR");
    snprintf(t->root, sizeof t->root, "%s/crw-%s-%ld", dir && *dir ? dir : ".", name,
             (long)getpid());
    nftw(t->root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    assert_int_equal(mkdir(t->root, 0755), 0);
}

static void tree_remove(tree *t) { nftw(t->root, rm_one, 16, FTW_DEPTH | FTW_PHYS); }

static bool resolve_nested(void *ctx, const char *relpath, bool is_dir, uint8_t cdhash[20],
                           const char **req)
{
    int *calls = ctx;
    (*calls)++;
    memset(cdhash, is_dir ? 0x22 : 0x11, 20);
    *req = strcmp(relpath, "MacOS/helper") == 0 ? "identifier helper" : NULL;
    return true;
}

static void walk_real_tree(void **state)
{
    (void)state;
    tree t;
    tree_make(&t, "ok");
    mk(&t, "Info.plist", "<plist/>");
    mk(&t, "PkgInfo", "APPL????");
    mk(&t, "MacOS", NULL);
    mk(&t, "MacOS/App", "main executable");
    mk(&t, "MacOS/helper", "helper code");
    mk(&t, "Frameworks", NULL);
    mk(&t, "Frameworks/Foo.framework", NULL);
    mk(&t, "Frameworks/Foo.framework/Foo", "not entered");
    mk(&t, "_CodeSignature", NULL);
    mk(&t, "_CodeSignature/CodeResources", "old seal");
    mk(&t, "Resources", NULL);
    mk(&t, "Resources/a.txt", "alpha");
    mk(&t, "Resources/en.lproj", NULL);
    mk(&t, "Resources/en.lproj/x.strings", "x");
    ln(&t, "../../../../../../etc", "Resources/outside");
    ln(&t, "/etc/passwd", "Resources/abs");
    int calls = 0;
    sh_crw_walk_options o = {"MacOS/App", 0, 0, 0, resolve_nested, &calls};
    sh_crw_list list;
    sh_crw_error err;
    memset(&err, 0, sizeof err);
    sh_write_status st = sh_crw_walk(t.root, &o, NULL, &list, &err);
    if (st != SH_W_OK)
        print_error("walk: %s %s %s errno %d\n", sh_write_status_name(st), err.what, err.path,
                    err.sys_errno);
    assert_int_equal(st, SH_W_OK);
    assert_int_equal(calls, 2);
    assert_int_equal(list.count, 8); /* Info, PkgInfo, helper, Foo.fw, a, x, 2 links */
    sh_bytebuf b = write_ok(list.items, list.count, NULL);
    sh_coderesources cr;
    parse_ok(&b, &cr);
    assert_int_equal(cr.files2.count, 6);
    const sh_res_file *f = sh_res_find(&cr.files2, "Resources/outside");
    assert_true(f != NULL && f->symlink != NULL);
    assert_string_equal(f->symlink, "../../../../../../etc");
    assert_string_equal(sh_res_find(&cr.files2, "Resources/abs")->symlink, "/etc/passwd");
    uint8_t d[32];
    sh_hash(SH_HASH_SHA256, (const uint8_t *)"alpha", 5, d);
    assert_memory_equal(sh_res_find(&cr.files2, "Resources/a.txt")->hash2, d, 32);
    assert_true(sh_res_find(&cr.files2, "Resources/en.lproj/x.strings")->optional);
    f = sh_res_find(&cr.files2, "MacOS/helper");
    assert_true(f != NULL && f->nested && f->cdhash[0] == 0x11);
    assert_string_equal(f->requirement, "identifier helper");
    assert_true(sh_res_find(&cr.files2, "Frameworks/Foo.framework")->cdhash[0] == 0x22);
    assert_null(sh_res_find(&cr.files2, "Frameworks/Foo.framework/Foo"));
    assert_null(sh_res_find(&cr.files2, "MacOS/App"));
    assert_null(sh_res_find(&cr.files2, "_CodeSignature/CodeResources"));
    assert_null(sh_res_find(&cr.files2, "Info.plist"));
    sh_coderesources_free(&cr);
    sh_bytebuf_free(&b);
    sh_crw_list_free(&list);
    tree_remove(&t);
}

static void expect_walk_fail(const tree *t, const sh_crw_walk_options *o, sh_write_status want,
                             const char *what, const char *path)
{
    sh_crw_list list;
    sh_crw_error err;
    memset(&err, 0, sizeof err);
    assert_int_equal(sh_crw_walk(t->root, o, NULL, &list, &err), want);
    assert_int_equal(err.status, want);
    assert_string_equal(err.what, what);
    assert_string_equal(err.path, path);
    assert_int_equal(list.count, 0);
    assert_null(list.items);
}

static void walk_refusals(void **state)
{
    (void)state;
    tree t;
    tree_make(&t, "fifo");
    mk(&t, "Resources", NULL);
    char p[1200];
    snprintf(p, sizeof p, "%s/Resources/pipe", t.root);
    assert_int_equal(mkfifo(p, 0600), 0);
    expect_walk_fail(&t, NULL, SH_W_INVALID_ARGUMENT, "unsupported file type", "Resources/pipe");
    tree_remove(&t);

    tree_make(&t, "deep");
    mk(&t, "Resources", NULL);
    mk(&t, "Resources/a", NULL);
    mk(&t, "Resources/a/b", NULL);
    mk(&t, "Resources/a/b/c", NULL);
    mk(&t, "Resources/a/b/c/f", "deep");
    sh_crw_walk_options o = {NULL, 3, 0, 0, NULL, NULL};
    expect_walk_fail(&t, &o, SH_W_TOO_LARGE, "directory tree too deep", "Resources/a/b/c");
    o.max_depth = 4;
    sh_crw_list list;
    assert_int_equal(sh_crw_walk(t.root, &o, NULL, &list, NULL), SH_W_OK);
    assert_int_equal(list.count, 1);
    sh_crw_list_free(&list);
    o.max_file_size = 3;
    expect_walk_fail(&t, &o, SH_W_TOO_LARGE, "file too large", "Resources/a/b/c/f");
    mk(&t, "Resources/g", "1");
    mk(&t, "Resources/h", "2");
    sh_crw_walk_options cnt = {NULL, 0, 2, 0, NULL, NULL};
    sh_crw_error err;
    assert_int_equal(sh_crw_walk(t.root, &cnt, NULL, &list, &err), SH_W_TOO_LARGE);
    assert_string_equal(err.what, "too many entries");
    tree_remove(&t);

    tree_make(&t, "nested");
    mk(&t, "MacOS", NULL);
    mk(&t, "MacOS/tool", "code");
    expect_walk_fail(&t, NULL, SH_W_INVALID_ARGUMENT, "nested code and no resolver", "MacOS/tool");
    tree_remove(&t);

    tree_make(&t, "missing");
    tree_remove(&t);
    expect_walk_fail(&t, NULL, SH_W_INVALID_ARGUMENT, "open root", "");
}

static void walk_allocation_failures(void **state)
{
    (void)state;
    tree t;
    tree_make(&t, "alloc");
    mk(&t, "Resources", NULL);
    mk(&t, "Resources/a", "a");
    mk(&t, "Resources/b", "b");
    ln(&t, "a", "Resources/l");
    bool done = false;
    for (long k = 0; !done && k < 10000; k++) {
        failing_alloc fa;
        sh_allocator a = failing_alloc_start(&fa, k);
        sh_crw_list list;
        sh_write_status st = sh_crw_walk(t.root, NULL, &a, &list, NULL);
        if (st == SH_W_OK) {
            done = true;
            assert_int_equal(list.count, 3);
        } else {
            assert_int_equal(st, SH_W_NO_MEMORY);
            assert_int_equal(list.count, 0);
        }
        sh_crw_list_free(&list);
        assert_int_equal(fa.live, 0);
    }
    assert_true(done);
    tree_remove(&t);
}

static void error_path_truncated(void **state)
{
    (void)state;
    char longpath[600];
    memset(longpath, 'p', sizeof longpath - 1);
    longpath[sizeof longpath - 1] = '\0';
    sh_crw_error err;
    sh_crw_error_set(&err, SH_W_TOO_LARGE, "x", longpath, 5);
    assert_int_equal(strlen(err.path), SH_CRW_ERR_PATH_MAX - 1);
    assert_string_equal(err.path + SH_CRW_ERR_PATH_MAX - 4, "...");
    assert_int_equal(err.sys_errno, 5);
    sh_crw_error_set(&err, SH_W_OK, "y", NULL, 0);
    assert_string_equal(err.path, "");
    sh_crw_error_set(NULL, SH_W_OK, "y", NULL, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sparkle_byte_identical),
        cmocka_unit_test(sparkle_parse_matches),
        cmocka_unit_test(top_level_file_is_nested),
        cmocka_unit_test(verdicts_and_round_trip),
        cmocka_unit_test(no_v1_and_empty),
        cmocka_unit_test(refusals),
        cmocka_unit_test(utf16_key_order),
        cmocka_unit_test(deterministic),
        cmocka_unit_test(allocation_failures),
        cmocka_unit_test(walk_real_tree),
        cmocka_unit_test(walk_refusals),
        cmocka_unit_test(walk_allocation_failures),
        cmocka_unit_test(error_path_truncated),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
