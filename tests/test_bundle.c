/* The in-memory bundle (parsers/bundle.c) and its packed form (parsers/bundle_pack.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "bundle.h"
#include "failing_alloc.h"

static const uint8_t *u8s(const char *s) { return (const uint8_t *)s; }

static void put_file(sh_bundle *b, const char *path, const char *text)
{
    assert_int_equal(sh_bundle_put_file(b, path, u8s(text), strlen(text), 0644, NULL), SH_E_OK);
}

static void put_link(sh_bundle *b, const char *path, const char *target)
{
    assert_int_equal(sh_bundle_put_symlink(b, path, target, NULL), SH_E_OK);
}

/* "path:kind path:kind ..." of all entries, for whole-bundle comparisons. */
static const char *listing(const sh_bundle *b, char *buf, size_t size)
{
    buf[0] = 0;
    size_t used = 0;
    for (size_t i = 0; i < b->count; i++) {
        int n = snprintf(buf + used, size - used, "%s%s:%d", i ? " " : "", b->entries[i].path,
                         (int)b->entries[i].kind);
        assert_true(n > 0 && (size_t)n < size - used);
        used += (size_t)n;
    }
    return buf;
}

static void assert_listing(const sh_bundle *b, const char *expected)
{
    char buf[2048];
    assert_string_equal(listing(b, buf, sizeof buf), expected);
}

static void test_path_valid(void **state)
{
    (void)state;
    assert_true(sh_bundle_path_valid("Contents/Info.plist"));
    assert_true(sh_bundle_path_valid("a"));
    assert_true(sh_bundle_path_valid("..a/b..")); /* dots inside a name are fine */
    assert_true(sh_bundle_path_valid("new\nline"));
    assert_false(sh_bundle_path_valid(NULL));
    assert_false(sh_bundle_path_valid(""));
    assert_false(sh_bundle_path_valid("/abs"));
    assert_false(sh_bundle_path_valid("trailing/"));
    assert_false(sh_bundle_path_valid("a//b"));
    assert_false(sh_bundle_path_valid("./a"));
    assert_false(sh_bundle_path_valid("a/."));
    assert_false(sh_bundle_path_valid("a/../b"));
    assert_false(sh_bundle_path_valid(".."));

    char path[SH_MAX_BUNDLE_PATH + 2];
    memset(path, 'x', sizeof path);
    path[SH_MAX_BUNDLE_PATH] = 0;
    assert_true(sh_bundle_path_valid(path));
    path[SH_MAX_BUNDLE_PATH] = 'x';
    path[SH_MAX_BUNDLE_PATH + 1] = 0;
    assert_false(sh_bundle_path_valid(path));

    /* SH_MAX_BUNDLE_DEPTH components "a/a/.../a" are fine, one more is not. */
    char deep[2 * SH_MAX_BUNDLE_DEPTH + 2];
    size_t n = 0;
    for (unsigned i = 0; i < SH_MAX_BUNDLE_DEPTH; i++) {
        deep[n++] = 'a';
        deep[n++] = '/';
    }
    deep[n - 1] = 0;
    assert_true(sh_bundle_path_valid(deep));
    deep[n - 1] = '/';
    deep[n] = 'a';
    deep[n + 1] = 0;
    assert_false(sh_bundle_path_valid(deep));
    sh_bundle b;
    sh_bundle_init(&b, NULL);
    sh_error err = {0};
    assert_int_equal(sh_bundle_put_file(&b, deep, u8s("x"), 1, 0644, &err), SH_E_BUNDLE_TOO_DEEP);
    assert_int_equal(sh_bundle_put_file(&b, "a/../b", u8s("x"), 1, 0644, &err),
                     SH_E_BUNDLE_PATH_INVALID);
    assert_int_equal(b.count, 0);
    sh_bundle_free(&b);
}

static void test_put_creates_parents_sorted(void **state)
{
    (void)state;
    sh_bundle b;
    sh_bundle_init(&b, NULL);
    put_file(&b, "a/b/c", "c");
    put_file(&b, "a-b", "dash");
    put_file(&b, "a.b", "dot");
    put_file(&b, "a/a", "a");
    /* memcmp order: '-' (0x2d) and '.' (0x2e) sort before '/' (0x2f). */
    assert_listing(&b, "a:1 a-b:2 a.b:2 a/a:2 a/b:1 a/b/c:2");
    assert_int_equal(b.total_bytes, 1 + 4 + 3 + 1);
    const sh_bundle_entry *e = sh_bundle_find(&b, "a/b");
    assert_non_null(e);
    assert_int_equal(e->kind, SH_BUNDLE_DIR);
    assert_int_equal(e->mode, 0755);
    assert_null(sh_bundle_find(&b, "a/b/"));
    assert_null(sh_bundle_find(&b, "a/"));
    assert_null(sh_bundle_find(&b, "b"));

    assert_int_equal(sh_bundle_lower_bound(&b, "a"), 0);
    assert_int_equal(sh_bundle_lower_bound(&b, "a/b"), 4);
    assert_int_equal(sh_bundle_lower_bound(&b, "zzz"), b.count);
    assert_int_equal(sh_bundle_lower_bound(&b, "a-"), b.count); /* "a-b" is not below "a-" */

    assert_true(sh_bundle_is_under("a/b/c", "a"));
    assert_true(sh_bundle_is_under("a", "a"));
    assert_false(sh_bundle_is_under("a-b", "a"));
    assert_false(sh_bundle_is_under("ab", "a"));

    /* Walking a directory's subtree the documented way skips the sibling "d-x" in between. */
    sh_bundle c;
    sh_bundle_init(&c, NULL);
    put_file(&c, "d-x", "1");
    put_file(&c, "d/y", "2");
    put_file(&c, "e", "3");
    assert_listing(&c, "d:1 d-x:2 d/y:2 e:2");
    size_t under = 0;
    for (size_t i = sh_bundle_lower_bound(&c, "d");
         i < c.count && strncmp(c.entries[i].path, "d", 1) == 0; i++)
        under += sh_bundle_is_under(c.entries[i].path, "d");
    assert_int_equal(under, 2);
    assert_int_equal(sh_bundle_lower_bound(&c, "d/y"), 2);
    sh_bundle_free(&c);
    sh_bundle_free(&b);
}

static void test_put_sorted_order_is_linear(void **state)
{
    (void)state;
    /* 20000 files appended in order: each append must land at the end without moving others;
     * checked by the result, the time is what the design note is about. */
    sh_bundle b;
    sh_bundle_init(&b, NULL);
    char path[32];
    for (int i = 0; i < 20000; i++) {
        snprintf(path, sizeof path, "d/f%05d", i);
        assert_int_equal(sh_bundle_put_file(&b, path, u8s("x"), 1, 0644, NULL), SH_E_OK);
    }
    assert_int_equal(b.count, 20001);
    for (size_t i = 1; i < b.count; i++)
        assert_true(strcmp(b.entries[i - 1].path, b.entries[i].path) < 0);
    sh_bundle_free(&b);
}

static void test_replace(void **state)
{
    (void)state;
    sh_bundle b;
    sh_bundle_init(&b, NULL);
    sh_error err = {0};
    put_file(&b, "x/f", "old contents");
    assert_int_equal(sh_bundle_put_file(&b, "x/f", u8s("new"), 3, 0755, &err), SH_E_OK);
    const sh_bundle_entry *e = sh_bundle_find(&b, "x/f");
    assert_int_equal(e->len, 3);
    assert_memory_equal(e->data, "new", 3);
    assert_int_equal(e->mode, 0755);
    assert_int_equal(b.total_bytes, 3);
    /* Mode bits beyond 07777 are dropped. */
    assert_int_equal(sh_bundle_put_file(&b, "x/g", u8s("g"), 1, 0100644, &err), SH_E_OK);
    assert_int_equal(sh_bundle_find(&b, "x/g")->mode, 0644);

    /* File replaced by a symlink, then by a directory. */
    put_link(&b, "x/f", "g");
    e = sh_bundle_find(&b, "x/f");
    assert_int_equal(e->kind, SH_BUNDLE_SYMLINK);
    assert_int_equal(e->len, 1);
    assert_int_equal(b.total_bytes, 2);
    assert_int_equal(sh_bundle_put_dir(&b, "x/f", 0700, &err), SH_E_OK);
    e = sh_bundle_find(&b, "x/f");
    assert_int_equal(e->kind, SH_BUNDLE_DIR);
    assert_null(e->data);
    assert_int_equal(e->len, 0);
    assert_int_equal(b.total_bytes, 1);

    /* A directory with children cannot become a file; an empty one can. */
    assert_int_equal(sh_bundle_put_file(&b, "x", u8s("y"), 1, 0644, &err),
                     SH_E_BUNDLE_NOT_A_DIRECTORY);
    assert_int_equal(sh_bundle_put_symlink(&b, "x", "y", &err), SH_E_BUNDLE_NOT_A_DIRECTORY);
    put_file(&b, "x/f", "now a file");
    assert_int_equal(sh_bundle_find(&b, "x/f")->kind, SH_BUNDLE_FILE);
    /* Re-putting a directory keeps its children and takes the new mode. */
    assert_int_equal(sh_bundle_put_dir(&b, "x", 0711, &err), SH_E_OK);
    assert_int_equal(sh_bundle_find(&b, "x")->mode, 0711);
    assert_listing(&b, "x:1 x/f:2 x/g:2");

    /* A parent that is a file or a symlink is not a directory. */
    assert_int_equal(sh_bundle_put_file(&b, "x/f/inside", u8s("z"), 1, 0644, &err),
                     SH_E_BUNDLE_NOT_A_DIRECTORY);
    put_link(&b, "l", "x");
    assert_int_equal(sh_bundle_put_dir(&b, "l/sub", 0755, &err), SH_E_BUNDLE_NOT_A_DIRECTORY);
    assert_listing(&b, "l:3 x:1 x/f:2 x/g:2");

    /* Bad symlink targets. */
    assert_int_equal(sh_bundle_put_symlink(&b, "s", "", &err), SH_E_BUNDLE_SYMLINK_TARGET_INVALID);
    assert_int_equal(sh_bundle_put_symlink(&b, "s", NULL, &err),
                     SH_E_BUNDLE_SYMLINK_TARGET_INVALID);
    char long_target[SH_MAX_BUNDLE_SYMLINK_TARGET + 2];
    memset(long_target, 'a', sizeof long_target - 1);
    long_target[sizeof long_target - 1] = 0;
    assert_int_equal(sh_bundle_put_symlink(&b, "s", long_target, &err),
                     SH_E_BUNDLE_SYMLINK_TARGET_INVALID);
    long_target[SH_MAX_BUNDLE_SYMLINK_TARGET] = 0;
    assert_int_equal(sh_bundle_put_symlink(&b, "s", long_target, &err), SH_E_OK);
    sh_bundle_free(&b);
}

static void test_remove(void **state)
{
    (void)state;
    sh_bundle b;
    sh_bundle_init(&b, NULL);
    sh_error err = {0};
    put_file(&b, "a/b/c", "123");
    put_file(&b, "a/d", "45");
    put_file(&b, "a-b", "6");
    put_file(&b, "a.x/y", "7");
    put_file(&b, "ab", "8");
    assert_int_equal(sh_bundle_remove(&b, "a", &err), SH_E_OK);
    assert_listing(&b, "a-b:2 a.x:1 a.x/y:2 ab:2");
    assert_int_equal(b.total_bytes, 3);
    assert_int_equal(sh_bundle_remove(&b, "a", &err), SH_E_BUNDLE_NOT_FOUND);
    assert_int_equal(sh_bundle_remove(&b, "a.x/y", &err), SH_E_OK);
    assert_listing(&b, "a-b:2 a.x:1 ab:2");
    assert_int_equal(sh_bundle_remove(&b, "nothing/here", &err), SH_E_BUNDLE_NOT_FOUND);
    assert_int_equal(sh_bundle_remove(&b, NULL, &err), SH_E_BUNDLE_NOT_FOUND);
    sh_bundle_free(&b);
}

static void test_rename(void **state)
{
    (void)state;
    sh_bundle b;
    sh_bundle_init(&b, NULL);
    sh_error err = {0};
    put_file(&b, "Contents/MacOS/app", "exe");
    put_file(&b, "Contents/MacOS-x", "sibling");
    put_link(&b, "Contents/MacOS/link", "app");
    assert_int_equal(sh_bundle_rename(&b, "Contents/MacOS", "Other/Bin", &err), SH_E_OK);
    assert_listing(&b, "Contents:1 Contents/MacOS-x:2 Other:1 Other/Bin:1 Other/Bin/app:2 "
                       "Other/Bin/link:3");
    assert_memory_equal(sh_bundle_find(&b, "Other/Bin/app")->data, "exe", 3);
    assert_int_equal(b.total_bytes, 3 + 7 + 3);

    assert_int_equal(sh_bundle_rename(&b, "Other", "Contents", &err), SH_E_BUNDLE_EXISTS);
    assert_int_equal(sh_bundle_rename(&b, "Other", "Other/Bin/inner", &err),
                     SH_E_BUNDLE_RENAME_INTO_ITSELF);
    assert_int_equal(sh_bundle_rename(&b, "Other", "Other/new", &err),
                     SH_E_BUNDLE_RENAME_INTO_ITSELF);
    assert_int_equal(sh_bundle_rename(&b, "missing", "x", &err), SH_E_BUNDLE_NOT_FOUND);
    assert_int_equal(sh_bundle_rename(&b, "Other", "../x", &err), SH_E_BUNDLE_PATH_INVALID);
    assert_int_equal(sh_bundle_rename(&b, "Other", "Contents/MacOS-x/y", &err),
                     SH_E_BUNDLE_NOT_A_DIRECTORY);
    /* A file renamed to a sibling name that sorts elsewhere. */
    assert_int_equal(sh_bundle_rename(&b, "Contents/MacOS-x", "Contents-z", &err), SH_E_OK);
    assert_listing(&b, "Contents:1 Contents-z:2 Other:1 Other/Bin:1 Other/Bin/app:2 "
                       "Other/Bin/link:3");
    /* "Other" renamed to "Oth" keeps children contiguous and sorted. */
    assert_int_equal(sh_bundle_rename(&b, "Other", "O", &err), SH_E_OK);
    assert_listing(&b, "Contents:1 Contents-z:2 O:1 O/Bin:1 O/Bin/app:2 O/Bin/link:3");
    sh_bundle_free(&b);
}

static void test_resolve(void **state)
{
    (void)state;
    sh_bundle b;
    sh_bundle_init(&b, NULL);
    sh_error err = {0};
    const sh_bundle_entry *out;
    put_file(&b, "Versions/A/Resources/Info.plist", "plist");
    put_link(&b, "Versions/Current", "A");
    put_link(&b, "Resources", "Versions/Current/Resources");
    put_link(&b, "up", "Versions/A/../A/./Resources//Info.plist");
    put_link(&b, "abs", "/etc/passwd");
    put_link(&b, "escape", "../outside");
    put_link(&b, "Versions/escape2", "../../etc");
    put_link(&b, "loop1", "loop2");
    put_link(&b, "loop2", "loop1");
    put_link(&b, "self", "self");
    put_link(&b, "dangling", "nowhere");
    put_link(&b, "rootlink", ".");
    put_link(&b, "file_as_dir", "Versions/A/Resources/Info.plist/x");

    assert_int_equal(sh_bundle_resolve(&b, "Resources/Info.plist", &out, &err), SH_E_OK);
    assert_string_equal(out->path, "Versions/A/Resources/Info.plist");
    assert_int_equal(sh_bundle_resolve(&b, "up", &out, &err), SH_E_OK);
    assert_string_equal(out->path, "Versions/A/Resources/Info.plist");
    assert_int_equal(sh_bundle_resolve(&b, "Versions/Current", &out, &err), SH_E_OK);
    assert_string_equal(out->path, "Versions/A");
    assert_int_equal(sh_bundle_resolve(&b, "Versions", &out, &err), SH_E_OK);
    assert_string_equal(out->path, "Versions");
    assert_int_equal(sh_bundle_resolve(&b, "abs", &out, &err), SH_E_BUNDLE_SYMLINK_ABSOLUTE);
    assert_null(out);
    assert_int_equal(sh_bundle_resolve(&b, "escape", &out, &err), SH_E_BUNDLE_SYMLINK_ESCAPES);
    assert_int_equal(sh_bundle_resolve(&b, "Versions/escape2", &out, &err),
                     SH_E_BUNDLE_SYMLINK_ESCAPES);
    assert_int_equal(sh_bundle_resolve(&b, "loop1", &out, &err), SH_E_BUNDLE_SYMLINK_LOOP);
    assert_int_equal(sh_bundle_resolve(&b, "self", &out, &err), SH_E_BUNDLE_SYMLINK_LOOP);
    assert_int_equal(sh_bundle_resolve(&b, "dangling", &out, &err), SH_E_BUNDLE_NOT_FOUND);
    assert_int_equal(sh_bundle_resolve(&b, "rootlink", &out, &err), SH_E_BUNDLE_NOT_FOUND);
    assert_int_equal(sh_bundle_resolve(&b, "rootlink/Versions/A", &out, &err), SH_E_OK);
    assert_string_equal(out->path, "Versions/A");
    assert_int_equal(sh_bundle_resolve(&b, "file_as_dir", &out, &err),
                     SH_E_BUNDLE_NOT_A_DIRECTORY);
    assert_int_equal(sh_bundle_resolve(&b, "missing/x", &out, &err), SH_E_BUNDLE_NOT_FOUND);
    assert_int_equal(sh_bundle_resolve(&b, "../x", &out, &err), SH_E_BUNDLE_PATH_INVALID);

    /* A chain of exactly SH_MAX_BUNDLE_SYMLINK_HOPS links resolves; one more is a loop. */
    char name[32], target[32];
    put_file(&b, "chain/end", "e");
    for (unsigned i = 0; i < SH_MAX_BUNDLE_SYMLINK_HOPS + 1; i++) {
        snprintf(name, sizeof name, "chain/l%02u", i);
        if (i == 0)
            snprintf(target, sizeof target, "end");
        else
            snprintf(target, sizeof target, "l%02u", i - 1);
        put_link(&b, name, target);
    }
    snprintf(name, sizeof name, "chain/l%02u", SH_MAX_BUNDLE_SYMLINK_HOPS - 1);
    assert_int_equal(sh_bundle_resolve(&b, name, &out, &err), SH_E_OK);
    assert_string_equal(out->path, "chain/end");
    snprintf(name, sizeof name, "chain/l%02u", SH_MAX_BUNDLE_SYMLINK_HOPS);
    assert_int_equal(sh_bundle_resolve(&b, name, &out, &err), SH_E_BUNDLE_SYMLINK_LOOP);
    sh_bundle_free(&b);
}

static void test_clone(void **state)
{
    (void)state;
    sh_bundle b, c;
    sh_bundle_init(&b, NULL);
    put_file(&b, "a/b", "bee");
    put_link(&b, "l", "a/b");
    assert_int_equal(sh_bundle_clone(&b, &c, NULL), SH_E_OK);
    assert_listing(&c, "a:1 a/b:2 l:3");
    assert_int_equal(c.total_bytes, b.total_bytes);
    /* Deep: changing the clone leaves the original alone. */
    put_file(&c, "a/b", "changed");
    assert_memory_equal(sh_bundle_find(&b, "a/b")->data, "bee", 3);
    assert_ptr_not_equal(sh_bundle_find(&b, "l")->data, sh_bundle_find(&c, "l")->data);
    sh_bundle_free(&c);
    sh_bundle empty;
    sh_bundle_init(&empty, NULL);
    assert_int_equal(sh_bundle_clone(&empty, &c, NULL), SH_E_OK);
    assert_int_equal(c.count, 0);
    sh_bundle_free(&c);
    sh_bundle_free(&b);
}

static void build_sample(sh_bundle *b)
{
    put_file(b, "Contents/Info.plist", "<plist/>");
    put_file(b, "Contents/MacOS/App", "\xcf\xfa\xed\xfe");
    put_link(b, "Contents/Current", "MacOS");
    assert_int_equal(sh_bundle_put_dir(b, "Contents/Resources", 0700, NULL), SH_E_OK);
    assert_int_equal(sh_bundle_put_file(b, "Contents/empty", NULL, 0, 0600, NULL), SH_E_OK);
}

static void test_pack_round_trip(void **state)
{
    (void)state;
    sh_bundle b, u;
    sh_bundle_init(&b, NULL);
    build_sample(&b);
    uint8_t *p;
    size_t n;
    assert_int_equal(sh_bundle_pack(&b, &p, &n, NULL), SH_E_OK);
    assert_true(sh_bundle_is_packed(p, n));
    assert_false(sh_bundle_is_packed(p, 7));
    assert_false(sh_bundle_is_packed(u8s("SHBUNDL2"), 8));
    /* Header: magic, version 1, 7 entries; first entry the directory "Contents" 0755. */
    static const uint8_t head[] = {'S', 'H', 'B', 'U', 'N', 'D', 'L', '1', 0, 0, 0, 1, 0, 0, 0, 7,
                                   1,   0,   0,   0x01, 0xed, 0, 8, 'C', 'o', 'n', 't', 'e', 'n',
                                   't', 's', 0, 0, 0, 0, 0, 0, 0, 0};
    assert_true(n > sizeof head);
    assert_memory_equal(p, head, sizeof head);
    assert_int_equal(sh_bundle_unpack(p, n, NULL, &u, NULL), SH_E_OK);
    assert_listing(&u, "Contents:1 Contents/Current:3 Contents/Info.plist:2 Contents/MacOS:1 "
                       "Contents/MacOS/App:2 Contents/Resources:1 Contents/empty:2");
    assert_int_equal(u.count, b.count);
    for (size_t i = 0; i < b.count; i++) {
        assert_int_equal(u.entries[i].mode, b.entries[i].mode);
        assert_int_equal(u.entries[i].len, b.entries[i].len);
        if (b.entries[i].len)
            assert_memory_equal(u.entries[i].data, b.entries[i].data, b.entries[i].len);
    }
    assert_int_equal(u.total_bytes, b.total_bytes);
    uint8_t *p2;
    size_t n2;
    assert_int_equal(sh_bundle_pack(&u, &p2, &n2, NULL), SH_E_OK);
    assert_int_equal(n2, n);
    assert_memory_equal(p2, p, n);
    sh_free(NULL, p2);
    sh_free(NULL, p);
    sh_bundle_free(&u);

    /* The empty bundle packs to the bare header. */
    sh_bundle e;
    sh_bundle_init(&e, NULL);
    assert_int_equal(sh_bundle_pack(&e, &p, &n, NULL), SH_E_OK);
    assert_int_equal(n, 16);
    assert_int_equal(sh_bundle_unpack(p, n, NULL, &u, NULL), SH_E_OK);
    assert_int_equal(u.count, 0);
    sh_free(NULL, p);
    sh_bundle_free(&u);
    sh_bundle_free(&b);
}

/* A packed input written field by field. */
typedef struct pk {
    uint8_t b[512];
    size_t n;
} pk;

static void pk_be(pk *p, uint64_t v, unsigned bytes)
{
    for (unsigned i = 0; i < bytes; i++)
        p->b[p->n++] = (uint8_t)(v >> (8 * (bytes - 1 - i)));
}

static void pk_raw(pk *p, const void *data, size_t len)
{
    memcpy(p->b + p->n, data, len);
    p->n += len;
}

static void pk_header(pk *p, uint32_t count)
{
    p->n = 0;
    pk_raw(p, "SHBUNDL1", 8);
    pk_be(p, 1, 4);
    pk_be(p, count, 4);
}

static void pk_entry(pk *p, uint8_t kind, uint32_t mode, const char *path, const char *data,
                     size_t dlen)
{
    pk_be(p, kind, 1);
    pk_be(p, mode, 4);
    pk_be(p, strlen(path), 2);
    pk_raw(p, path, strlen(path));
    pk_be(p, dlen, 8);
    pk_raw(p, data, dlen);
}

static void expect_unpack(const pk *p, sh_err code, uint64_t offset)
{
    sh_bundle u;
    sh_error err = {0};
    assert_int_equal(sh_bundle_unpack(p->b, p->n, NULL, &u, &err), code);
    assert_int_equal(err.code, code);
    assert_int_equal(err.offset, offset);
    assert_int_equal(u.count, 0);
    assert_null(u.entries);
}

static void test_unpack_malformed(void **state)
{
    (void)state;
    pk p;
    /* Entry layout from 16: kind @16, mode @17, path length @21, path @23. */
    pk_header(&p, 1);
    p.b[7] = '2';
    expect_unpack(&p, SH_E_BUNDLE_PACK_BAD_MAGIC, 0);
    pk_header(&p, 0);
    expect_unpack(&(pk){.n = 5}, SH_E_BUNDLE_PACK_BAD_MAGIC, 0);
    p.n = 10;
    expect_unpack(&p, SH_E_BUNDLE_PACK_TRUNCATED, 8);
    p.n = 14;
    expect_unpack(&p, SH_E_BUNDLE_PACK_TRUNCATED, 12);
    pk_header(&p, 0);
    p.b[11] = 2;
    expect_unpack(&p, SH_E_BUNDLE_PACK_BAD_VERSION, 8);
    pk_header(&p, SH_MAX_BUNDLE_ENTRIES + 1);
    expect_unpack(&p, SH_E_BUNDLE_TOO_MANY_ENTRIES, 12);
    pk_header(&p, 1); /* declares an entry, holds none */
    expect_unpack(&p, SH_E_BUNDLE_PACK_TRUNCATED, 16);
    pk_header(&p, 0);
    pk_be(&p, 0, 1);
    expect_unpack(&p, SH_E_BUNDLE_PACK_TRAILING_DATA, 16);

    pk_header(&p, 1);
    pk_entry(&p, 4, 0644, "f", "x", 1);
    expect_unpack(&p, SH_E_BUNDLE_PACK_BAD_KIND, 16);
    pk_header(&p, 1);
    pk_entry(&p, 0, 0644, "f", "x", 1);
    expect_unpack(&p, SH_E_BUNDLE_PACK_BAD_KIND, 16);
    pk_header(&p, 1);
    pk_entry(&p, 2, 0100644, "f", "x", 1);
    expect_unpack(&p, SH_E_BUNDLE_PACK_BAD_MODE, 17);
    pk_header(&p, 1);
    pk_entry(&p, 2, 0644, "a/../b", "x", 1);
    expect_unpack(&p, SH_E_BUNDLE_PATH_INVALID, 23);
    pk_header(&p, 1);
    pk_entry(&p, 2, 0644, "", "x", 1);
    expect_unpack(&p, SH_E_BUNDLE_PATH_INVALID, 23);
    pk_header(&p, 1);
    pk_be(&p, 2, 1);
    pk_be(&p, 0644, 4);
    pk_be(&p, 3, 2);
    pk_raw(&p, "a\0b", 3);
    pk_be(&p, 0, 8);
    expect_unpack(&p, SH_E_BUNDLE_PATH_INVALID, 23);
    pk_header(&p, 1);
    pk_entry(&p, 1, 0755, "d", "x", 1);
    expect_unpack(&p, SH_E_BUNDLE_PACK_DIR_HAS_DATA, 24);
    pk_header(&p, 1);
    pk_entry(&p, 3, 0777, "l", "", 0);
    expect_unpack(&p, SH_E_BUNDLE_SYMLINK_TARGET_INVALID, 24);
    pk_header(&p, 1);
    pk_entry(&p, 3, 0777, "l", "a\0b", 3);
    expect_unpack(&p, SH_E_BUNDLE_SYMLINK_TARGET_INVALID, 32);
    pk_header(&p, 1);
    pk_entry(&p, 2, 0644, "f", "", 0);
    p.n -= 8;
    pk_be(&p, SH_MAX_BUNDLE_FILE + 1, 8);
    expect_unpack(&p, SH_E_BUNDLE_FILE_TOO_LARGE, 24);
    pk_header(&p, 1);
    pk_entry(&p, 2, 0644, "f", "abc", 3);
    p.n -= 1; /* data cut short */
    expect_unpack(&p, SH_E_BUNDLE_PACK_TRUNCATED, 32);
    pk_header(&p, 1);
    pk_entry(&p, 2, 0644, "f", "abc", 3);
    p.n = 23; /* ends before the path */
    expect_unpack(&p, SH_E_BUNDLE_PACK_TRUNCATED, 23);

    /* Order: duplicates, descending, child before parent, parent missing, parent a file. */
    pk_header(&p, 2);
    pk_entry(&p, 2, 0644, "b", "", 0);
    pk_entry(&p, 2, 0644, "b", "", 0);
    expect_unpack(&p, SH_E_BUNDLE_PACK_ORDER, 39);
    pk_header(&p, 2);
    pk_entry(&p, 2, 0644, "b", "", 0);
    pk_entry(&p, 2, 0644, "a", "", 0);
    expect_unpack(&p, SH_E_BUNDLE_PACK_ORDER, 39);
    pk_header(&p, 1);
    pk_entry(&p, 2, 0644, "d/f", "", 0);
    expect_unpack(&p, SH_E_BUNDLE_PACK_MISSING_PARENT, 23);
    pk_header(&p, 2);
    pk_entry(&p, 2, 0644, "d", "", 0);
    pk_entry(&p, 2, 0644, "d/f", "", 0);
    expect_unpack(&p, SH_E_BUNDLE_NOT_A_DIRECTORY, 39);
    /* "a-b" sorts between "a" and "a/b": accepted, the parent is still found. */
    pk_header(&p, 3);
    pk_entry(&p, 1, 0755, "a", "", 0);
    pk_entry(&p, 2, 0644, "a-b", "", 0);
    pk_entry(&p, 2, 0644, "a/b", "", 0);
    sh_bundle u;
    assert_int_equal(sh_bundle_unpack(p.b, p.n, NULL, &u, NULL), SH_E_OK);
    assert_listing(&u, "a:1 a-b:2 a/b:2");
    sh_bundle_free(&u);
    assert_int_equal(sh_bundle_unpack(NULL, 0, NULL, &u, NULL), SH_E_BUNDLE_PACK_BAD_MAGIC);
}

/* Runs op with an allocator that fails at the k-th allocation for every k until op succeeds:
 * each failure must be NO_MEMORY and leave nothing allocated. */
typedef sh_err (*alloc_op)(const sh_allocator *a);

static void every_failure(alloc_op op)
{
    for (long k = 0;; k++) {
        failing_alloc f;
        sh_allocator a = failing_alloc_start(&f, k);
        sh_err e = op(&a);
        assert_int_equal(f.live, 0);
        if (e == SH_E_OK) {
            assert_true(k > 0);
            return;
        }
        assert_int_equal(e, SH_E_NO_MEMORY);
        assert_true(k < 10000);
    }
}

/* The op bodies free everything they made on success too, so live must be 0 either way. */
static sh_err op_build_and_edit(const sh_allocator *a)
{
    sh_bundle b;
    sh_bundle_init(&b, a);
    sh_error err = {0};
    const char *names[] = {"Contents/MacOS/App", "Contents/Info.plist", "Contents/A/B/C/d",
                           "Contents/Resources/en.lproj/x", "z"};
    sh_err e = SH_E_OK;
    for (size_t i = 0; i < 5 && e == SH_E_OK; i++)
        e = sh_bundle_put_file(&b, names[i], u8s("data"), 4, 0644, &err);
    if (e == SH_E_OK)
        e = sh_bundle_put_symlink(&b, "Contents/link", "MacOS/App", &err);
    if (e == SH_E_OK)
        e = sh_bundle_put_file(&b, "Contents/Info.plist", u8s("replaced"), 8, 0644, &err);
    if (e == SH_E_OK)
        e = sh_bundle_rename(&b, "Contents/A", "New/Place/A", &err);
    if (e == SH_E_OK)
        e = sh_bundle_remove(&b, "New/Place/A/B", &err);
    if (e == SH_E_OK && b.count != 12)
        e = SH_E_IO;
    sh_bundle_free(&b);
    return e;
}

static sh_err op_clone(const sh_allocator *a)
{
    sh_bundle b, c;
    sh_bundle_init(&b, NULL); /* the source comes from the C library... */
    build_sample(&b);
    b.alloc = a;              /* ...the clone from the failing allocator */
    sh_err e = sh_bundle_clone(&b, &c, NULL);
    b.alloc = NULL;
    sh_bundle_free(&b);
    if (e == SH_E_OK)
        sh_bundle_free(&c);
    return e;
}

static sh_err op_pack_unpack(const sh_allocator *a)
{
    sh_bundle b, u;
    sh_bundle_init(&b, NULL);
    build_sample(&b);
    b.alloc = a;
    uint8_t *p;
    size_t n;
    sh_err e = sh_bundle_pack(&b, &p, &n, NULL);
    b.alloc = NULL;
    sh_bundle_free(&b);
    if (e != SH_E_OK)
        return e;
    e = sh_bundle_unpack(p, n, a, &u, NULL);
    sh_free(a, p);
    if (e == SH_E_OK)
        sh_bundle_free(&u);
    return e;
}

static void test_allocation_failures(void **state)
{
    (void)state;
    every_failure(op_build_and_edit);
    every_failure(op_clone);
    every_failure(op_pack_unpack);
}

/* A failed put leaves the bundle exactly as it was (all or nothing). */
static void test_failed_put_changes_nothing(void **state)
{
    (void)state;
    for (long k = 0; k < 8; k++) {
        failing_alloc f;
        sh_allocator a = failing_alloc_start(&f, 100);
        sh_bundle b;
        sh_bundle_init(&b, &a);
        put_file(&b, "x", "1");
        f.remaining = k;
        sh_err e = sh_bundle_put_file(&b, "p/q/r/s", u8s("abc"), 3, 0644, NULL);
        if (e == SH_E_OK) {
            assert_listing(&b, "p:1 p/q:1 p/q/r:1 p/q/r/s:2 x:2");
        } else {
            assert_int_equal(e, SH_E_NO_MEMORY);
            assert_listing(&b, "x:2");
            assert_int_equal(b.total_bytes, 1);
        }
        sh_bundle_free(&b);
        assert_int_equal(f.live, 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_path_valid),
        cmocka_unit_test(test_put_creates_parents_sorted),
        cmocka_unit_test(test_put_sorted_order_is_linear),
        cmocka_unit_test(test_replace),
        cmocka_unit_test(test_remove),
        cmocka_unit_test(test_rename),
        cmocka_unit_test(test_resolve),
        cmocka_unit_test(test_clone),
        cmocka_unit_test(test_pack_round_trip),
        cmocka_unit_test(test_unpack_malformed),
        cmocka_unit_test(test_allocation_failures),
        cmocka_unit_test(test_failed_put_changes_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
