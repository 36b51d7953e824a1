/* Hostile bundles built on disk at test time (parsers/bundle_read.c) and the safe writers
 * (mutators/bundle_write.c).
 *
 * Each test gets a fresh mkdtemp directory holding "outside/secret" (bytes that must never be
 * read) and the bundle root "X.app".  Devices need root (CI runs as root); those cases skip
 * otherwise. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bundle.h"
#include "bundle_write.h"

#define SECRET "SECRET-OUTSIDE-THE-BUNDLE"

typedef struct fixture {
    char base[64];
    char app[128];     /* base/X.app */
    char outside[128]; /* base/outside */
    char path[4096];   /* scratch */
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    snprintf(f->base, sizeof f->base, "/tmp/sh-bundle-hostile-XXXXXX");
    if (!mkdtemp(f->base))
        return -1;
    snprintf(f->app, sizeof f->app, "%s/X.app", f->base);
    snprintf(f->outside, sizeof f->outside, "%s/outside", f->base);
    if (mkdir(f->app, 0755) != 0 || mkdir(f->outside, 0755) != 0)
        return -1;
    char secret[192];
    snprintf(secret, sizeof secret, "%s/secret", f->outside);
    FILE *fp = fopen(secret, "w");
    if (!fp)
        return -1;
    fputs(SECRET, fp);
    fclose(fp);
    *state = f;
    return 0;
}

static void remove_all(int dir, const char *name)
{
    struct stat st;
    if (fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
        return;
    if (S_ISDIR(st.st_mode)) {
        int fd = openat(dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
        if (fd >= 0) {
            fchmod(fd, 0700);
            DIR *d = fdopendir(fd);
            struct dirent *de;
            while (d && (de = readdir(d)) != NULL)
                if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
                    remove_all(dirfd(d), de->d_name);
            if (d)
                closedir(d);
        }
        unlinkat(dir, name, AT_REMOVEDIR);
    } else {
        unlinkat(dir, name, 0);
    }
}

static int teardown(void **state)
{
    fixture *f = *state;
    remove_all(AT_FDCWD, f->base);
    free(f);
    return 0;
}

/* f->path = "<app>/<rel>" */
static const char *in_app(fixture *f, const char *rel)
{
    snprintf(f->path, sizeof f->path, "%s/%s", f->app, rel);
    return f->path;
}

static void write_file(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(text, fp);
    assert_int_equal(fclose(fp), 0);
}

static void make_link(fixture *f, const char *rel, const char *target)
{
    assert_int_equal(symlink(target, in_app(f, rel)), 0);
}

/* Nothing read may hold the secret kept outside the bundle or /etc/passwd's first line. */
static void assert_nothing_outside(const sh_bundle *b)
{
    for (size_t i = 0; i < b->count; i++) {
        const sh_bundle_entry *e = &b->entries[i];
        for (size_t k = 0; e->kind == SH_BUNDLE_FILE && k + 6 <= e->len; k++) {
            assert_false(memcmp(e->data + k, "SECRET", 6) == 0);
            assert_false(memcmp(e->data + k, "root:x", 6) == 0);
        }
    }
}

static sh_err read_app(fixture *f, sh_bundle *b, sh_error *err, char *why, size_t why_size)
{
    sh_err e = sh_bundle_read_dir(f->app, NULL, b, err, why, why_size);
    if (e == SH_E_OK)
        assert_nothing_outside(b);
    else
        assert_int_equal(b->count, 0);
    return e;
}

/* Reads the app expecting success, then resolves rel expecting code. */
static void expect_resolve(fixture *f, const char *rel, sh_err code)
{
    sh_bundle b;
    sh_error err = {0};
    assert_int_equal(read_app(f, &b, &err, NULL, 0), SH_E_OK);
    const sh_bundle_entry *e = sh_bundle_find(&b, rel);
    assert_non_null(e);
    assert_int_equal(e->kind, SH_BUNDLE_SYMLINK);
    const sh_bundle_entry *out;
    assert_int_equal(sh_bundle_resolve(&b, rel, &out, &err), code);
    sh_bundle_free(&b);
}

static void expect_read_error(fixture *f, sh_err code, const char *why_has)
{
    sh_bundle b;
    sh_error err = {0};
    char why[512];
    assert_int_equal(read_app(f, &b, &err, why, sizeof why), code);
    assert_int_equal(err.code, code);
    if (why_has && !strstr(why, why_has))
        fail_msg("why \"%s\" does not name \"%s\"", why, why_has);
    sh_bundle_free(&b);
}

/* ---- reading ---- */

static void test_clean_bundle(void **state)
{
    fixture *f = *state;
    assert_int_equal(mkdir(in_app(f, "Contents"), 0750), 0);
    assert_int_equal(mkdir(in_app(f, "Contents/MacOS"), 0755), 0);
    write_file(in_app(f, "Contents/Info.plist"), "<plist/>");
    write_file(in_app(f, "Contents/MacOS/App"), "exe");
    assert_int_equal(chmod(in_app(f, "Contents/MacOS/App"), 0755), 0);
    make_link(f, "Contents/Current", "MacOS");
    sh_bundle b;
    sh_error err = {0};
    assert_int_equal(read_app(f, &b, &err, NULL, 0), SH_E_OK);
    assert_int_equal(b.count, 5);
    const char *order[] = {"Contents", "Contents/Current", "Contents/Info.plist",
                           "Contents/MacOS", "Contents/MacOS/App"};
    for (size_t i = 0; i < 5; i++)
        assert_string_equal(b.entries[i].path, order[i]);
    assert_int_equal(b.entries[0].mode, 0750);
    assert_int_equal(b.entries[1].kind, SH_BUNDLE_SYMLINK);
    assert_int_equal(b.entries[1].mode, 0777);
    assert_memory_equal(b.entries[1].data, "MacOS", 5);
    assert_int_equal(b.entries[4].mode, 0755);
    assert_int_equal(b.total_bytes, 8 + 3 + 5);
    sh_bundle_free(&b);
}

static void test_empty_root(void **state)
{
    fixture *f = *state;
    sh_bundle b;
    assert_int_equal(read_app(f, &b, NULL, NULL, 0), SH_E_OK);
    assert_int_equal(b.count, 0);
    sh_bundle_free(&b);
}

static void test_symlink_climbs_out(void **state)
{
    fixture *f = *state;
    assert_int_equal(mkdir(in_app(f, "Contents"), 0755), 0);
    make_link(f, "Contents/secret", "../../outside/secret");
    expect_resolve(f, "Contents/secret", SH_E_BUNDLE_SYMLINK_ESCAPES);
}

static void test_symlink_absolute_passwd(void **state)
{
    fixture *f = *state;
    make_link(f, "passwd", "/etc/passwd");
    expect_resolve(f, "passwd", SH_E_BUNDLE_SYMLINK_ABSOLUTE);
}

static void test_symlink_loop(void **state)
{
    fixture *f = *state;
    make_link(f, "a", "b");
    make_link(f, "b", "a");
    expect_resolve(f, "a", SH_E_BUNDLE_SYMLINK_LOOP);
}

static void test_symlink_to_itself(void **state)
{
    fixture *f = *state;
    make_link(f, "self", "self");
    expect_resolve(f, "self", SH_E_BUNDLE_SYMLINK_LOOP);
}

static void test_symlink_chain_over_hop_limit(void **state)
{
    fixture *f = *state;
    write_file(in_app(f, "end"), "end");
    char name[32], target[32];
    for (unsigned i = 0; i <= SH_MAX_BUNDLE_SYMLINK_HOPS; i++) {
        snprintf(name, sizeof name, "l%02u", i);
        if (i)
            snprintf(target, sizeof target, "l%02u", i - 1);
        else
            snprintf(target, sizeof target, "end");
        make_link(f, name, target);
    }
    snprintf(name, sizeof name, "l%02u", SH_MAX_BUNDLE_SYMLINK_HOPS);
    expect_resolve(f, name, SH_E_BUNDLE_SYMLINK_LOOP);
    snprintf(name, sizeof name, "l%02u", SH_MAX_BUNDLE_SYMLINK_HOPS - 1);
    expect_resolve(f, name, SH_E_OK);
}

static void test_symlink_dangling(void **state)
{
    fixture *f = *state;
    make_link(f, "dangling", "not/there");
    expect_resolve(f, "dangling", SH_E_BUNDLE_NOT_FOUND);
}

static void test_symlink_to_outside_directory(void **state)
{
    fixture *f = *state;
    /* A directory link is recorded, never entered: "outside/secret" must not show up. */
    make_link(f, "Contents", f->outside);
    make_link(f, "Up", "..");
    sh_bundle b;
    assert_int_equal(read_app(f, &b, NULL, NULL, 0), SH_E_OK);
    assert_int_equal(b.count, 2);
    assert_null(sh_bundle_find(&b, "Contents/secret"));
    assert_null(sh_bundle_find(&b, "Up/outside/secret"));
    const sh_bundle_entry *out;
    assert_int_equal(sh_bundle_resolve(&b, "Up", &out, NULL), SH_E_BUNDLE_SYMLINK_ESCAPES);
    sh_bundle_free(&b);
}

static void test_symlink_to_filesystem_root(void **state)
{
    fixture *f = *state;
    make_link(f, "root", "/");
    expect_resolve(f, "root", SH_E_BUNDLE_SYMLINK_ABSOLUTE);
}

static void test_symlink_target_too_long(void **state)
{
    fixture *f = *state;
    char target[SH_MAX_BUNDLE_SYMLINK_TARGET + 2];
    memset(target, 'a', sizeof target - 1);
    target[sizeof target - 1] = 0;
    make_link(f, "long", target);
    expect_read_error(f, SH_E_BUNDLE_SYMLINK_TARGET_INVALID, "long");
}

static void test_fifo(void **state)
{
    fixture *f = *state;
    assert_int_equal(mkdir(in_app(f, "Contents"), 0755), 0);
    assert_int_equal(mkfifo(in_app(f, "Contents/pipe"), 0644), 0);
    expect_read_error(f, SH_E_BUNDLE_UNSUPPORTED_FILE_TYPE, "Contents/pipe");
}

static void test_unix_socket(void **state)
{
    fixture *f = *state;
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    assert_true(s >= 0);
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    int n = snprintf(addr.sun_path, sizeof addr.sun_path, "%s/sock", f->app);
    assert_true(n > 0 && (size_t)n < sizeof addr.sun_path);
    assert_int_equal(bind(s, (struct sockaddr *)&addr, sizeof addr), 0);
    expect_read_error(f, SH_E_BUNDLE_UNSUPPORTED_FILE_TYPE, "sock");
    close(s);
}

static void device_case(fixture *f, mode_t type)
{
    /* The numbers of /dev/null (1, 3): even if the reader opened it, it would read nothing. */
    if (mknod(in_app(f, "dev"), type | 0644, makedev(1, 3)) != 0) {
        if (errno == EPERM)
            skip();
        fail_msg("mknod: %s", strerror(errno));
    }
    expect_read_error(f, SH_E_BUNDLE_UNSUPPORTED_FILE_TYPE, "dev");
}

static void test_character_device(void **state) { device_case(*state, S_IFCHR); }
static void test_block_device(void **state) { device_case(*state, S_IFBLK); }

static void test_root_is_symlink(void **state)
{
    fixture *f = *state;
    char link[192];
    snprintf(link, sizeof link, "%s/Link.app", f->base);
    assert_int_equal(symlink(f->outside, link), 0);
    sh_bundle b;
    sh_error err = {0};
    assert_int_equal(sh_bundle_read_dir(link, NULL, &b, &err, NULL, 0),
                     SH_E_BUNDLE_ROOT_NOT_DIRECTORY);
    /* A trailing slash would make the kernel follow it: still refused. */
    strcat(link, "//");
    assert_int_equal(sh_bundle_read_dir(link, NULL, &b, &err, NULL, 0),
                     SH_E_BUNDLE_ROOT_NOT_DIRECTORY);
    assert_int_equal(b.count, 0);
}

static void test_root_is_file(void **state)
{
    fixture *f = *state;
    char file[192];
    snprintf(file, sizeof file, "%s/secret", f->outside);
    sh_bundle b;
    assert_int_equal(sh_bundle_read_dir(file, NULL, &b, NULL, NULL, 0),
                     SH_E_BUNDLE_ROOT_NOT_DIRECTORY);
}

static void test_root_missing(void **state)
{
    fixture *f = *state;
    char missing[192];
    char why[256];
    snprintf(missing, sizeof missing, "%s/Nope.app", f->base);
    sh_bundle b;
    assert_int_equal(sh_bundle_read_dir(missing, NULL, &b, NULL, why, sizeof why), SH_E_IO);
    assert_non_null(strstr(why, "Nope.app"));
}

/* depth directories "d/d/.../d" below the root. */
static void make_deep(fixture *f, unsigned depth)
{
    int fd = open(f->app, O_RDONLY | O_DIRECTORY);
    assert_true(fd >= 0);
    for (unsigned i = 0; i < depth; i++) {
        assert_int_equal(mkdirat(fd, "d", 0755), 0);
        int next = openat(fd, "d", O_RDONLY | O_DIRECTORY);
        close(fd);
        assert_true(next >= 0);
        fd = next;
    }
    assert_int_equal(close(fd), 0);
}

static void test_deep_tree(void **state)
{
    fixture *f = *state;
    make_deep(f, SH_MAX_BUNDLE_DEPTH + 1);
    expect_read_error(f, SH_E_BUNDLE_TOO_DEEP, "d/d/d");
}

static void test_deep_tree_at_limit(void **state)
{
    fixture *f = *state;
    make_deep(f, SH_MAX_BUNDLE_DEPTH);
    sh_bundle b;
    assert_int_equal(read_app(f, &b, NULL, NULL, 0), SH_E_OK);
    assert_int_equal(b.count, SH_MAX_BUNDLE_DEPTH);
    sh_bundle_free(&b);
}

static void test_too_many_entries_test_limit(void **state)
{
    fixture *f = *state;
    /* SH_MAX_BUNDLE_ENTRIES real files cost minutes of disk work; the reader applies the limit
     * from the same struct either way. */
    char name[32];
    for (int i = 0; i < 11; i++) {
        snprintf(name, sizeof name, "f%d", i);
        write_file(in_app(f, name), "x");
    }
    sh_bundle_limits l = sh_bundle_limits_default();
    l.max_entries = 10;
    sh_bundle b;
    sh_error err = {0};
    assert_int_equal(sh_bundle_read_dir_limited(f->app, &l, NULL, &b, &err, NULL, 0),
                     SH_E_BUNDLE_TOO_MANY_ENTRIES);
    l.max_entries = 11;
    assert_int_equal(sh_bundle_read_dir_limited(f->app, &l, NULL, &b, &err, NULL, 0), SH_E_OK);
    sh_bundle_free(&b);
}

static void test_huge_sparse_file(void **state)
{
    fixture *f = *state;
    int fd = open(in_app(f, "huge"), O_WRONLY | O_CREAT | O_EXCL, 0644);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, (off_t)SH_MAX_BUNDLE_FILE + 1), 0);
    close(fd);
    sh_bundle b;
    sh_error err = {0};
    assert_int_equal(read_app(f, &b, &err, NULL, 0), SH_E_BUNDLE_FILE_TOO_LARGE);
    assert_int_equal(err.value, SH_MAX_BUNDLE_FILE + 1);
}

static void test_file_and_total_limits(void **state)
{
    fixture *f = *state;
    write_file(in_app(f, "a"), "0123456789");
    write_file(in_app(f, "b"), "0123456789");
    sh_bundle_limits l = sh_bundle_limits_default();
    sh_bundle b;
    sh_error err = {0};
    l.max_file = 9;
    assert_int_equal(sh_bundle_read_dir_limited(f->app, &l, NULL, &b, &err, NULL, 0),
                     SH_E_BUNDLE_FILE_TOO_LARGE);
    l.max_file = 10;
    l.max_bytes = 19;
    assert_int_equal(sh_bundle_read_dir_limited(f->app, &l, NULL, &b, &err, NULL, 0),
                     SH_E_BUNDLE_TOO_LARGE);
    l.max_bytes = 20;
    assert_int_equal(sh_bundle_read_dir_limited(f->app, &l, NULL, &b, &err, NULL, 0), SH_E_OK);
    sh_bundle_free(&b);
}

static void test_odd_names(void **state)
{
    fixture *f = *state;
    char longname[256];
    memset(longname, 'n', 255);
    longname[255] = 0;
    write_file(in_app(f, "new\nline"), "1");
    write_file(in_app(f, "\xff\xfe not utf-8"), "2");
    write_file(in_app(f, longname), "3");
    write_file(in_app(f, " space "), "4");
    sh_bundle b;
    assert_int_equal(read_app(f, &b, NULL, NULL, 0), SH_E_OK);
    assert_int_equal(b.count, 4);
    assert_memory_equal(sh_bundle_find(&b, "new\nline")->data, "1", 1);
    assert_memory_equal(sh_bundle_find(&b, "\xff\xfe not utf-8")->data, "2", 1);
    assert_memory_equal(sh_bundle_find(&b, longname)->data, "3", 1);
    assert_non_null(sh_bundle_find(&b, " space "));
    sh_bundle_free(&b);
}

static void test_path_too_long(void **state)
{
    fixture *f = *state;
    /* Five 255-byte directory names: 1279 bytes > SH_MAX_BUNDLE_PATH. */
    char name[256];
    memset(name, 'p', 255);
    name[255] = 0;
    int fd = open(f->app, O_RDONLY | O_DIRECTORY);
    for (int i = 0; i < 5; i++) {
        assert_int_equal(mkdirat(fd, name, 0755), 0);
        int next = openat(fd, name, O_RDONLY | O_DIRECTORY);
        close(fd);
        fd = next;
    }
    close(fd);
    expect_read_error(f, SH_E_BUNDLE_PATH_INVALID, NULL);
}

static void test_unreadable_directory(void **state)
{
    fixture *f = *state;
    /* Root reads a mode-000 directory anyway: the case only exists for other users. */
    if (geteuid() == 0)
        skip();
    assert_int_equal(mkdir(in_app(f, "locked"), 0), 0);
    expect_read_error(f, SH_E_IO, "locked");
    chmod(in_app(f, "locked"), 0700);
}

static void test_modes_kept(void **state)
{
    fixture *f = *state;
    write_file(in_app(f, "suid"), "s");
    assert_int_equal(chmod(in_app(f, "suid"), 04750), 0);
    assert_int_equal(mkdir(in_app(f, "closed"), 0), 0);
    write_file(in_app(f, "closed/inner"), "i"); /* root: mode 0 is no obstacle */
    sh_bundle b;
    if (geteuid() != 0) {
        chmod(in_app(f, "closed"), 0700);
        skip();
    }
    assert_int_equal(read_app(f, &b, NULL, NULL, 0), SH_E_OK);
    assert_int_equal(sh_bundle_find(&b, "suid")->mode, 04750);
    assert_int_equal(sh_bundle_find(&b, "closed")->mode, 0);
    assert_non_null(sh_bundle_find(&b, "closed/inner"));
    sh_bundle_free(&b);
}

static void test_fifo_does_not_block_and_nothing_leaks(void **state)
{
    fixture *f = *state;
    /* A FIFO after many good entries: the error frees everything read so far (ASan checks). */
    char name[32];
    for (int i = 0; i < 50; i++) {
        snprintf(name, sizeof name, "f%02d", i);
        write_file(in_app(f, name), "data");
    }
    assert_int_equal(mkfifo(in_app(f, "zz-pipe"), 0644), 0);
    expect_read_error(f, SH_E_BUNDLE_UNSUPPORTED_FILE_TYPE, "zz-pipe");
}

/* ---- writing ---- */

static void sample_bundle(sh_bundle *b)
{
    sh_bundle_init(b, NULL);
    assert_int_equal(sh_bundle_put_file(b, "Contents/Info.plist", (const uint8_t *)"<plist/>", 8,
                                        0644, NULL), SH_E_OK);
    assert_int_equal(sh_bundle_put_file(b, "Contents/MacOS/App", (const uint8_t *)"exe", 3, 0755,
                                        NULL), SH_E_OK);
    assert_int_equal(sh_bundle_put_symlink(b, "Contents/passwd", "/etc/passwd", NULL), SH_E_OK);
    assert_int_equal(sh_bundle_put_symlink(b, "Contents/Current", "MacOS", NULL), SH_E_OK);
    assert_int_equal(sh_bundle_put_dir(b, "Contents/ReadOnly", 0555, NULL), SH_E_OK);
}

static void assert_same_bundle(const sh_bundle *a, const sh_bundle *b)
{
    uint8_t *pa, *pb;
    size_t na, nb;
    assert_int_equal(sh_bundle_pack(a, &pa, &na, NULL), SH_E_OK);
    assert_int_equal(sh_bundle_pack(b, &pb, &nb, NULL), SH_E_OK);
    assert_int_equal(na, nb);
    assert_memory_equal(pa, pb, na);
    sh_free(NULL, pa);
    sh_free(NULL, pb);
}

/* No ".sigharness-" temporary left in dir. */
static void assert_no_temporaries(const char *dir)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *de;
    while ((de = readdir(d)) != NULL)
        if (strncmp(de->d_name, ".sigharness-", 12) == 0)
            fail_msg("temporary left behind: %s/%s", dir, de->d_name);
    closedir(d);
}

static void test_write_new_and_read_back(void **state)
{
    fixture *f = *state;
    sh_bundle b, r;
    sample_bundle(&b);
    char out[192], why[256];
    snprintf(out, sizeof out, "%s/Out.app", f->base);
    assert_int_equal(sh_bundle_write_dir(&b, out, false, why, sizeof why), SH_DISK_OK);
    assert_int_equal(sh_bundle_read_dir(out, NULL, &r, NULL, NULL, 0), SH_E_OK);
    assert_same_bundle(&b, &r);
    /* The symlink is a symlink on disk, not a copy of /etc/passwd. */
    struct stat st;
    snprintf(f->path, sizeof f->path, "%s/Contents/passwd", out);
    assert_int_equal(lstat(f->path, &st), 0);
    assert_true(S_ISLNK(st.st_mode));
    assert_no_temporaries(f->base);
    sh_bundle_free(&r);
    sh_bundle_free(&b);
}

/* The writer keeps the directories of the previous entry open: siblings whose names share a
 * prefix ("Res" / "Resources"), returns to shallower levels, a tree at the depth limit and a
 * read-only directory with contents must all come back as written. */
static void test_write_tree_shapes_read_back(void **state)
{
    fixture *f = *state;
    sh_bundle b, r;
    sh_bundle_init(&b, NULL);
    static const char *const files[] = {
        "Contents/Res/a",          "Contents/Resources/b",      "Contents/Resources/en/c",
        "Contents/Resources/en/d", "Contents/Resources/fr/e",   "Contents/Re",
        "Contents/z",              "Contents2/f",               "g",
    };
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
        assert_int_equal(sh_bundle_put_file(&b, files[i], (const uint8_t *)files[i],
                                            strlen(files[i]), 0644, NULL), SH_E_OK);
    assert_int_equal(sh_bundle_put_dir(&b, "Contents/Locked", 0555, NULL), SH_E_OK);
    assert_int_equal(sh_bundle_put_file(&b, "Contents/Locked/h", (const uint8_t *)"h", 1, 0444,
                                        NULL), SH_E_OK);
    char deep[SH_MAX_BUNDLE_PATH + 1] = "";
    for (unsigned i = 0; i + 1 < SH_MAX_BUNDLE_DEPTH; i++)
        strcat(deep, i ? "/d" : "d");
    strcat(deep, "/leaf");
    assert_int_equal(sh_bundle_put_file(&b, deep, (const uint8_t *)"deep", 4, 0644, NULL), SH_E_OK);
    char out[192], why[256];
    snprintf(out, sizeof out, "%s/Shapes.app", f->base);
    assert_int_equal(sh_bundle_write_dir(&b, out, false, why, sizeof why), SH_DISK_OK);
    assert_int_equal(sh_bundle_read_dir(out, NULL, &r, NULL, NULL, 0), SH_E_OK);
    assert_same_bundle(&b, &r);
    assert_no_temporaries(f->base);
    sh_bundle_free(&r);
    sh_bundle_free(&b);
}

static void test_write_into_empty_dir(void **state)
{
    fixture *f = *state;
    sh_bundle b, r;
    sample_bundle(&b);
    char out[192];
    snprintf(out, sizeof out, "%s/Empty.app", f->base);
    assert_int_equal(mkdir(out, 0755), 0);
    assert_int_equal(sh_bundle_write_dir(&b, out, false, NULL, 0), SH_DISK_OK);
    assert_int_equal(sh_bundle_read_dir(out, NULL, &r, NULL, NULL, 0), SH_E_OK);
    assert_same_bundle(&b, &r);
    sh_bundle_free(&r);
    sh_bundle_free(&b);
}

static void test_write_refuses_nonempty_without_force(void **state)
{
    fixture *f = *state;
    sh_bundle b;
    sample_bundle(&b);
    write_file(in_app(f, "keep"), "old");
    char why[256];
    assert_int_equal(sh_bundle_write_dir(&b, f->app, false, why, sizeof why), SH_DISK_EXISTS);
    assert_non_null(strstr(why, "X.app"));
    sh_bundle r;
    assert_int_equal(read_app(f, &r, NULL, NULL, 0), SH_E_OK);
    assert_int_equal(r.count, 1);
    assert_string_equal(r.entries[0].path, "keep");
    assert_no_temporaries(f->base);
    sh_bundle_free(&r);
    sh_bundle_free(&b);
}

static void test_write_force_replaces(void **state)
{
    fixture *f = *state;
    sh_bundle b, r;
    sample_bundle(&b);
    write_file(in_app(f, "keep"), "old");
    assert_int_equal(mkdir(in_app(f, "olddir"), 0555), 0);
    make_link(f, "escape", f->outside); /* deleting the old tree must not follow this */
    assert_int_equal(sh_bundle_write_dir(&b, f->app, true, NULL, 0), SH_DISK_OK);
    assert_int_equal(read_app(f, &r, NULL, NULL, 0), SH_E_OK);
    assert_same_bundle(&b, &r);
    char secret[192];
    snprintf(secret, sizeof secret, "%s/secret", f->outside);
    assert_int_equal(access(secret, F_OK), 0);
    assert_no_temporaries(f->base);
    sh_bundle_free(&r);
    sh_bundle_free(&b);
}

static void test_write_refuses_symlink_out_dir(void **state)
{
    fixture *f = *state;
    sh_bundle b;
    sample_bundle(&b);
    char link[192];
    snprintf(link, sizeof link, "%s/Link.app", f->base);
    assert_int_equal(symlink(f->outside, link), 0);
    assert_int_equal(sh_bundle_write_dir(&b, link, true, NULL, 0), SH_DISK_SYMLINK);
    strcat(link, "/");
    assert_int_equal(sh_bundle_write_dir(&b, link, true, NULL, 0), SH_DISK_SYMLINK);
    snprintf(f->path, sizeof f->path, "%s/Contents", f->outside);
    assert_int_equal(access(f->path, F_OK), -1);
    assert_no_temporaries(f->base);
    sh_bundle_free(&b);
}

static void test_write_refuses_file_out_dir(void **state)
{
    fixture *f = *state;
    sh_bundle b;
    sample_bundle(&b);
    char file[192];
    snprintf(file, sizeof file, "%s/secret", f->outside);
    assert_int_equal(sh_bundle_write_dir(&b, file, true, NULL, 0), SH_DISK_WRONG_TYPE);
    assert_int_equal(sh_bundle_write_dir(&b, "", true, NULL, 0), SH_DISK_INVALID_ARGUMENT);
    snprintf(file, sizeof file, "%s/..", f->outside);
    assert_int_equal(sh_bundle_write_dir(&b, file, true, NULL, 0), SH_DISK_INVALID_ARGUMENT);
    sh_bundle_free(&b);
}

static void test_write_strips_setuid(void **state)
{
    fixture *f = *state;
    sh_bundle b;
    sh_bundle_init(&b, NULL);
    assert_int_equal(sh_bundle_put_file(&b, "tool", (const uint8_t *)"x", 1, 06755, NULL),
                     SH_E_OK);
    char out[192];
    snprintf(out, sizeof out, "%s/Suid.app", f->base);
    assert_int_equal(sh_bundle_write_dir(&b, out, false, NULL, 0), SH_DISK_OK);
    struct stat st;
    snprintf(f->path, sizeof f->path, "%s/tool", out);
    assert_int_equal(lstat(f->path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0755);
    sh_bundle_free(&b);
}

/* Runs the write in a child with RLIMIT_FSIZE = 1 KiB and SIGXFSZ ignored, so writing a 64 KiB
 * file fails with EFBIG; returns the child's status (an sh_disk_status). */
static int write_with_small_fsize(const sh_bundle *b, const char *out, bool force,
                                  const char *file, bool single)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct rlimit rl = {1024, 1024};
        signal(SIGXFSZ, SIG_IGN);
        if (setrlimit(RLIMIT_FSIZE, &rl) != 0)
            _exit(100);
        static uint8_t big[65536];
        sh_disk_status s = single ? sh_write_file_atomic(file, big, sizeof big, force, NULL, 0)
                                  : sh_bundle_write_dir(b, out, force, NULL, 0);
        _exit((int)s);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    return WEXITSTATUS(status);
}

static void big_bundle(sh_bundle *b)
{
    static uint8_t big[65536];
    sample_bundle(b);
    assert_int_equal(sh_bundle_put_file(b, "Contents/Resources/big", big, sizeof big, 0644, NULL),
                     SH_E_OK);
}

static void test_write_efbig_new(void **state)
{
    fixture *f = *state;
    sh_bundle b;
    big_bundle(&b);
    char out[192];
    snprintf(out, sizeof out, "%s/Big.app", f->base);
    assert_int_equal(write_with_small_fsize(&b, out, false, NULL, false), SH_DISK_IO);
    assert_int_equal(access(out, F_OK), -1);
    assert_no_temporaries(f->base);
    sh_bundle_free(&b);
}

static void test_write_efbig_force_keeps_old(void **state)
{
    fixture *f = *state;
    sh_bundle b, r;
    big_bundle(&b);
    write_file(in_app(f, "keep"), "old");
    assert_int_equal(write_with_small_fsize(&b, f->app, true, NULL, false), SH_DISK_IO);
    assert_int_equal(read_app(f, &r, NULL, NULL, 0), SH_E_OK);
    assert_int_equal(r.count, 1);
    assert_string_equal(r.entries[0].path, "keep");
    assert_no_temporaries(f->base);
    sh_bundle_free(&r);
    sh_bundle_free(&b);
}

static void read_text(const char *path, char *buf, size_t size)
{
    FILE *fp = fopen(path, "r");
    assert_non_null(fp);
    size_t n = fread(buf, 1, size - 1, fp);
    buf[n] = 0;
    fclose(fp);
}

static void test_write_file_atomic(void **state)
{
    fixture *f = *state;
    char path[192], link[192], buf[64], why[256];
    snprintf(path, sizeof path, "%s/out.bin", f->base);
    assert_int_equal(sh_write_file_atomic(path, (const uint8_t *)"one", 3, false, why, sizeof why),
                     SH_DISK_OK);
    read_text(path, buf, sizeof buf);
    assert_string_equal(buf, "one");
    assert_int_equal(sh_write_file_atomic(path, (const uint8_t *)"two", 3, false, why, sizeof why),
                     SH_DISK_EXISTS);
    read_text(path, buf, sizeof buf);
    assert_string_equal(buf, "one");
    assert_int_equal(sh_write_file_atomic(path, (const uint8_t *)"two", 3, true, why, sizeof why),
                     SH_DISK_OK);
    read_text(path, buf, sizeof buf);
    assert_string_equal(buf, "two");
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0644);

    /* A symlink at path is refused even with force, and its target is untouched. */
    snprintf(link, sizeof link, "%s/link.bin", f->base);
    snprintf(f->path, sizeof f->path, "%s/secret", f->outside);
    assert_int_equal(symlink(f->path, link), 0);
    assert_int_equal(sh_write_file_atomic(link, (const uint8_t *)"x", 1, true, why, sizeof why),
                     SH_DISK_SYMLINK);
    read_text(f->path, buf, sizeof buf);
    assert_string_equal(buf, SECRET);
    assert_int_equal(sh_write_file_atomic(f->app, (const uint8_t *)"x", 1, true, why, sizeof why),
                     SH_DISK_WRONG_TYPE);
    assert_int_equal(sh_write_file_atomic(NULL, NULL, 0, true, why, sizeof why),
                     SH_DISK_INVALID_ARGUMENT);

    /* EFBIG: the old contents stay, no temporary stays. */
    assert_int_equal(write_with_small_fsize(NULL, NULL, true, path, true), SH_DISK_IO);
    read_text(path, buf, sizeof buf);
    assert_string_equal(buf, "two");
    snprintf(link, sizeof link, "%s/new.bin", f->base);
    assert_int_equal(write_with_small_fsize(NULL, NULL, false, link, true), SH_DISK_IO);
    assert_int_equal(access(link, F_OK), -1);
    assert_no_temporaries(f->base);
}

/* Inside a private tree: create-only, never through a symlink, no temporary name. */
static void test_write_file_new(void **state)
{
    fixture *f = *state;
    char path[192], link[192], buf[64], why[256];
    snprintf(path, sizeof path, "%s/new.txt", f->base);
    assert_int_equal(sh_write_file_new(path, (const uint8_t *)"one", 3, why, sizeof why),
                     SH_DISK_OK);
    read_text(path, buf, sizeof buf);
    assert_string_equal(buf, "one");
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0644);
    assert_int_equal(sh_write_file_new(path, (const uint8_t *)"two", 3, why, sizeof why),
                     SH_DISK_EXISTS);
    read_text(path, buf, sizeof buf);
    assert_string_equal(buf, "one");

    snprintf(link, sizeof link, "%s/link.txt", f->base);
    snprintf(f->path, sizeof f->path, "%s/secret", f->outside);
    assert_int_equal(symlink(f->path, link), 0);
    assert_int_not_equal(sh_write_file_new(link, (const uint8_t *)"x", 1, why, sizeof why),
                         SH_DISK_OK);
    read_text(f->path, buf, sizeof buf);
    assert_string_equal(buf, SECRET);
    assert_int_equal(sh_write_file_new(NULL, NULL, 0, why, sizeof why), SH_DISK_INVALID_ARGUMENT);
    snprintf(path, sizeof path, "%s/no-such-dir/x", f->base);
    assert_int_equal(sh_write_file_new(path, (const uint8_t *)"x", 1, why, sizeof why), SH_DISK_IO);
    assert_non_null(strstr(why, "no-such-dir"));
    assert_no_temporaries(f->base);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_clean_bundle),
        T(test_empty_root),
        T(test_symlink_climbs_out),
        T(test_symlink_absolute_passwd),
        T(test_symlink_loop),
        T(test_symlink_to_itself),
        T(test_symlink_chain_over_hop_limit),
        T(test_symlink_dangling),
        T(test_symlink_to_outside_directory),
        T(test_symlink_to_filesystem_root),
        T(test_symlink_target_too_long),
        T(test_fifo),
        T(test_unix_socket),
        T(test_character_device),
        T(test_block_device),
        T(test_root_is_symlink),
        T(test_root_is_file),
        T(test_root_missing),
        T(test_deep_tree),
        T(test_deep_tree_at_limit),
        T(test_too_many_entries_test_limit),
        T(test_huge_sparse_file),
        T(test_file_and_total_limits),
        T(test_odd_names),
        T(test_path_too_long),
        T(test_unreadable_directory),
        T(test_modes_kept),
        T(test_fifo_does_not_block_and_nothing_leaks),
        T(test_write_new_and_read_back),
        T(test_write_tree_shapes_read_back),
        T(test_write_into_empty_dir),
        T(test_write_refuses_nonempty_without_force),
        T(test_write_force_replaces),
        T(test_write_refuses_symlink_out_dir),
        T(test_write_refuses_file_out_dir),
        T(test_write_strips_setuid),
        T(test_write_efbig_new),
        T(test_write_efbig_force_keeps_old),
        T(test_write_file_atomic),
        T(test_write_file_new),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
