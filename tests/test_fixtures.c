/* Fixture spec, profile writer, fixture builder and `sigharness fixtures base`
 * (mutators/fixture_*.c, profile_writer.c, harness/fixtures_cmd.c).
 *
 * Every base bundle is checked with the project's parsers, independently of how it was built:
 * Info.plist keys and category, CodeResources seals against every file, page hashes, special
 * slots (in-signature ones by the signature checks, Info.plist and CodeResources here), CMS to
 * the test root, the embedded profiles (kind, signing leaf, entitlements allowed). */
#define _XOPEN_SOURCE 700

#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "bundle.h"
#include "coderesources.h"
#include "failing_alloc.h"
#include "fixture_build.h"
#include "pki_keyring.h"
#include "fixture_spec.h"
#include "fixtures_cmd.h"
#include "hash.h"
#include "infoplist.h"
#include "inspect.h"
#include "json_check.h"
#include "pki.h"
#include "profile.h"
#include "profile_writer.h"
#include "readfile.h"

/* ---- the test root ---- */

typedef struct root_cert {
    uint8_t *der;
    size_t len;
    sh_cursor view;
} root_cert;

static void load_root(root_cert *r)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/root.cert.der", sh_pki_default_dir());
    const char *why = NULL;
    assert_int_equal(sh_read_file(path, &r->der, &r->len, &why), SH_E_OK);
    r->view = sh_cursor_make(r->der, r->len);
}

static sh_trust trust_of(const root_cert *r)
{
    sh_trust t = {0};
    t.anchor_der = &r->view;
    t.n_anchor_der = 1;
    return t;
}

static const sh_bundle_entry *file_at(const sh_bundle *b, const char *root, const char *rel)
{
    char path[SH_MAX_BUNDLE_PATH + 1];
    int n = snprintf(path, sizeof path, "%s%s%s", root, root[0] ? "/" : "", rel);
    assert_true(n > 0 && (size_t)n < sizeof path);
    const sh_bundle_entry *e = sh_bundle_find(b, path);
    if (!e || e->kind != SH_BUNDLE_FILE)
        fail_msg("missing file %s", path);
    return e;
}

/* ---- spec parser ---- */

static void test_builtin_catalogue(void **state)
{
    (void)state;
    sh_fx_spec spec;
    sh_error err = {0};
    assert_int_equal(sh_fx_spec_parse((const uint8_t *)sh_fx_builtin_spec,
                                      strlen(sh_fx_builtin_spec), NULL, &spec, &err),
                     SH_E_OK);
    assert_int_equal(spec.count, 14);
    /* each product (category, provider) exactly once per variant */
    unsigned seen[5][5][3] = {{{0}}};
    for (size_t i = 0; i < spec.count; i++) {
        const sh_fx_bundle *b = &spec.bundles[i];
        seen[b->category][b->provider][b->variant]++;
        bool devid = b->variant == SH_FX_DEVELOPER_ID;
        assert_int_equal(b->timestamp, devid);
        assert_int_equal(b->notarized, devid);
        assert_int_equal(b->get_task_allow, !devid);
        assert_true(b->runtime);
        assert_string_equal(b->identity, devid ? "devid-team1" : "dev-team1");
        assert_int_equal(b->archs, SH_FX_ARCH_ARM64 | SH_FX_ARCH_X86_64);
    }
    for (int v = 1; v <= 2; v++) {
        for (int p = 1; p <= 4; p++)
            assert_int_equal(seen[SH_FX_NETWORK][p][v], 1);
        assert_int_equal(seen[SH_FX_ENDPOINT_SECURITY][0][v], 1);
        assert_int_equal(seen[SH_FX_DRIVER][0][v], 1);
        assert_int_equal(seen[SH_FX_CAMERA][0][v], 1);
    }
    sh_fx_spec_free(&spec);
}

static void test_spec_defaults_and_keys(void **state)
{
    (void)state;
    const char *text = "  # leading comment\r\n"
                       "[dns-two]\r\n"
                       "category\tnetwork\r\n"
                       "provider dns-proxy\n"
                       "variant development\n"
                       "identity dev-team2\n"
                       "archs x86_64\n"
                       "description a # is text here\n"
                       "[drv]\n"
                       "category driver\n"
                       "variant developer-id\n"
                       "timestamp no\n";
    sh_fx_spec spec;
    sh_error err = {0};
    assert_int_equal(sh_fx_spec_parse((const uint8_t *)text, strlen(text), NULL, &spec, &err),
                     SH_E_OK);
    assert_int_equal(spec.count, 2);
    const sh_fx_bundle *a = &spec.bundles[0], *d = &spec.bundles[1];
    assert_string_equal(a->name, "dns-two");
    assert_int_equal(a->line, 2);
    assert_int_equal(a->team, 2); /* from the identity */
    assert_int_equal(a->archs, SH_FX_ARCH_X86_64);
    assert_string_equal(a->app_id, "com.sigharness.dns-two");
    assert_string_equal(a->extension_id, "com.sigharness.dns-two.extension");
    assert_string_equal(a->app_group, "SHTEAM0002.com.sigharness.dns-two");
    assert_string_equal(a->app_name, "DnsTwo");
    assert_string_equal(a->description, "a # is text here");
    assert_string_equal(a->version, "1.0");
    assert_string_equal(a->build, "1");
    assert_true(a->get_task_allow);
    assert_false(a->timestamp);
    assert_string_equal(d->identity, "devid-team1");
    assert_string_equal(d->extension_id, "com.sigharness.drv.driver");
    assert_false(d->timestamp);
    assert_true(d->notarized);
    sh_fx_spec_free(&spec);
}

typedef struct spec_case {
    const char *text;
    sh_err code;
    int64_t line;
    const char *where;
} spec_case;

static void test_spec_errors(void **state)
{
    (void)state;
    static const spec_case cases[] = {
        {"", SH_E_FIXTURE_SPEC_EMPTY, 0, "spec"},
        {"# only a comment\n\n", SH_E_FIXTURE_SPEC_EMPTY, 2, "spec"},
        {"category network\n", SH_E_FIXTURE_SPEC_OUTSIDE_SECTION, 1, "key"},
        {"[a]\ncategory camera\nvariant development\ncolour blue\n",
         SH_E_FIXTURE_SPEC_UNKNOWN_KEY, 4, "key"},
        {"[a]\ncategory camera\ncategory driver\n", SH_E_FIXTURE_SPEC_DUPLICATE_KEY, 3,
         "category"},
        {"[a]\ncategory toaster\n", SH_E_FIXTURE_SPEC_BAD_VALUE, 2, "category"},
        {"[a]\n\n\ncategory network\nvariant developer-id\n", SH_E_FIXTURE_SPEC_MISSING_KEY, 1,
         "provider"},
        {"[a]\ncategory camera\n[b]\n", SH_E_FIXTURE_SPEC_MISSING_KEY, 1, "variant"},
        {"[a]\ncategory camera\nprovider dns-proxy\nvariant development\n",
         SH_E_FIXTURE_SPEC_CONFLICT, 1, "provider"},
        {"[a]\ncategory camera\nvariant development\nidentity devid-team1\n",
         SH_E_FIXTURE_SPEC_CONFLICT, 1, "identity"},
        {"[a]\ncategory camera\nvariant development\nteam 1\nidentity dev-team2\n",
         SH_E_FIXTURE_SPEC_CONFLICT, 1, "identity"},
        {"[a]\ncategory camera\nvariant development\napp-id x.y\nextension-id x.y\n",
         SH_E_FIXTURE_SPEC_CONFLICT, 1, "extension-id"},
        {"[a]\ncategory camera\nvariant development\n[a]\n", SH_E_FIXTURE_SPEC_DUPLICATE_NAME, 4,
         "section header"},
        {"[Big]\n", SH_E_FIXTURE_SPEC_BAD_NAME, 1, "section header"},
        {"[a\n", SH_E_FIXTURE_SPEC_SYNTAX, 1, "section header"},
        {"[a]\ncategory\n", SH_E_FIXTURE_SPEC_SYNTAX, 2, "key without value"},
        {"[a]\nCategory camera\n", SH_E_FIXTURE_SPEC_SYNTAX, 2, "key"},
        {"[a]\ncategory cam\x01era\n", SH_E_FIXTURE_SPEC_BAD_CHARACTER, 2, "line"},
        {"[a]\ncategory camera\r\rvariant x\n", SH_E_FIXTURE_SPEC_BAD_CHARACTER, 2, "line"},
        {"[a]\napp-id com..x\n", SH_E_FIXTURE_SPEC_BAD_VALUE, 2, "app-id"},
        {"[a]\narchs arm64 arm64\n", SH_E_FIXTURE_SPEC_BAD_VALUE, 2, "archs"},
        {"[a]\narchs ppc\n", SH_E_FIXTURE_SPEC_BAD_VALUE, 2, "archs"},
        {"[a]\nteam 3\n", SH_E_FIXTURE_SPEC_BAD_VALUE, 2, "team"},
        {"[a]\nsandbox maybe\n", SH_E_FIXTURE_SPEC_BAD_VALUE, 2, "sandbox"},
        {"[a]\nversion 1..2\n", SH_E_FIXTURE_SPEC_BAD_VALUE, 2, "version"},
        {"[a]\napp-name ../evil\n", SH_E_FIXTURE_SPEC_BAD_VALUE, 2, "app-name"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sh_fx_spec spec;
        sh_error err = {0};
        sh_err e = sh_fx_spec_parse((const uint8_t *)cases[i].text, strlen(cases[i].text), NULL,
                                    &spec, &err);
        if (e != cases[i].code || err.index != cases[i].line ||
            strcmp(err.where, cases[i].where) != 0)
            fail_msg("case %zu: got %s line %lld (%s), want %s line %lld (%s)", i, sh_err_name(e),
                     (long long)err.index, err.where, sh_err_name(cases[i].code),
                     (long long)cases[i].line, cases[i].where);
        assert_true(sh_fx_is_spec_error(e));
        assert_null(spec.bundles);
        assert_int_equal(spec.count, 0);
        sh_fx_spec_free(&spec);
    }
    /* the message names the line */
    sh_error err = {0};
    sh_fx_spec spec;
    const char *text = "[a]\ncategory camera\nvariant development\nteam 7\n";
    assert_int_equal(sh_fx_spec_parse((const uint8_t *)text, strlen(text), NULL, &spec, &err),
                     SH_E_FIXTURE_SPEC_BAD_VALUE);
    char msg[512];
    sh_fx_error_format(&err, msg, sizeof msg);
    assert_non_null(strstr(msg, "spec line 4: "));
    assert_non_null(strstr(msg, "(team)"));
}

static void test_spec_limits(void **state)
{
    (void)state;
    /* a line of SH_MAX_FIXTURE_SPEC_LINE bytes is fine, one more is not */
    char text[2 * SH_MAX_FIXTURE_SPEC_LINE];
    size_t n = (size_t)snprintf(text, sizeof text, "[a]\ndescription ");
    memset(text + n, 'x', SH_MAX_FIXTURE_SPEC_LINE - 12);
    n += SH_MAX_FIXTURE_SPEC_LINE - 12;
    sh_fx_spec spec;
    sh_error err = {0};
    assert_int_equal(sh_fx_spec_parse((const uint8_t *)text, n, NULL, &spec, &err),
                     SH_E_FIXTURE_SPEC_BAD_VALUE); /* 244 > SH_MAX_FIXTURE_TEXT */
    assert_int_equal(err.index, 2);
    text[n++] = 'x';
    assert_int_equal(sh_fx_spec_parse((const uint8_t *)text, n, NULL, &spec, &err),
                     SH_E_FIXTURE_SPEC_LINE_TOO_LONG);
    assert_int_equal(err.index, 2);

    uint8_t *big = calloc(1, SH_MAX_FIXTURE_SPEC_SIZE + 1);
    assert_non_null(big);
    assert_int_equal(sh_fx_spec_parse(big, SH_MAX_FIXTURE_SPEC_SIZE + 1, NULL, &spec, &err),
                     SH_E_FIXTURE_SPEC_TOO_LARGE);
    free(big);

    /* one section more than the limit */
    size_t cap = (SH_MAX_FIXTURE_BUNDLES + 1) * 64, len = 0;
    char *many = malloc(cap);
    assert_non_null(many);
    for (unsigned i = 0; i <= SH_MAX_FIXTURE_BUNDLES; i++)
        len += (size_t)snprintf(many + len, cap - len, "[b%u]\ncategory camera\nvariant development\n", i);
    assert_int_equal(sh_fx_spec_parse((const uint8_t *)many, len, NULL, &spec, &err),
                     SH_E_FIXTURE_SPEC_TOO_MANY_BUNDLES);
    assert_int_equal(err.index, 3 * SH_MAX_FIXTURE_BUNDLES + 1);
    free(many);
}

static void test_spec_allocation_failure(void **state)
{
    (void)state;
    failing_alloc f;
    sh_allocator a = failing_alloc_start(&f, 0);
    sh_fx_spec spec;
    sh_error err = {0};
    assert_int_equal(sh_fx_spec_parse((const uint8_t *)sh_fx_builtin_spec,
                                      strlen(sh_fx_builtin_spec), &a, &spec, &err),
                     SH_E_NO_MEMORY);
    sh_fx_spec_free(&spec);
    assert_int_equal(f.live, 0);
}

/* ---- profile writer ---- */

static void test_profile_writer_kinds(void **state)
{
    (void)state;
    root_cert root;
    load_root(&root);
    sh_pki_identity signer = {0}, leaf = {0};
    assert_true(sh_pki_load_identity(NULL, "profile-signer", &signer, NULL, 0));
    assert_true(sh_pki_load_identity(NULL, "dev-team2", &leaf, NULL, 0));
    plist_t ents = plist_new_dict();
    plist_dict_set_item(ents, "com.apple.security.get-task-allow", plist_new_bool(1));
    const char *devices[2] = {"UDID-ONE", "UDID-TWO"};
    X509 *certs[1] = {leaf.leaf};
    sh_pw_spec s = {.kind = SH_PW_DEVELOPMENT, .name = "N", .app_id_name = "A",
                    .team_id = "SHTEAM0002", .team_name = "T",
                    .creation_date = SH_FX_PROFILE_CREATED,
                    .expiration_date = SH_FX_PROFILE_CREATED + 7 * 86400, .devices = devices,
                    .ndevices = 2, .certificates = certs, .ncertificates = 1,
                    .entitlements = ents, .signer = &signer};
    for (int kind = SH_PW_DEVELOPER_ID; kind <= SH_PW_DEVELOPMENT; kind++) {
        s.kind = (sh_pw_kind)kind;
        sh_bytebuf out, again;
        sh_bytebuf_init(&out, NULL);
        sh_bytebuf_init(&again, NULL);
        assert_int_equal(sh_pw_write(&s, &out, NULL), SH_W_OK);
        assert_int_equal(sh_pw_write(&s, &again, NULL), SH_W_OK);
        assert_int_equal(out.len, again.len);
        assert_memory_equal(out.data, again.data, out.len); /* deterministic */

        sh_profile_options o = {.now = 0, .trust = trust_of(&root)};
        sh_profile p;
        sh_error err = {0};
        assert_int_equal(sh_profile_parse(out.data, out.len, NULL, &o, &p, &err), SH_E_OK);
        assert_int_equal(p.kind, kind == SH_PW_DEVELOPER_ID ? SH_PROFILE_KIND_DEVELOPER_ID
                                                             : SH_PROFILE_KIND_DEVELOPMENT);
        assert_true(p.sig.chain_verified);
        assert_int_equal(p.sig.signing_time, SH_FX_PROFILE_CREATED);
        assert_int_equal(p.creation_date, SH_FX_PROFILE_CREATED);
        assert_int_equal(p.ttl, 7);
        assert_int_equal(p.version, 1);
        assert_string_equal(p.team_ids.items[0], "SHTEAM0002");
        assert_string_equal(p.platforms.items[0], "OSX");
        assert_int_equal(p.has_devices, kind == SH_PW_DEVELOPMENT);
        assert_int_equal(p.provisions_all_devices, kind == SH_PW_DEVELOPER_ID);
        assert_int_equal(sh_profile_check_device(&p, "UDID-TWO", NULL), SH_E_OK);
        assert_int_equal(strlen(p.uuid), 36);
        unsigned char *der = NULL;
        int der_len = i2d_X509(leaf.leaf, &der);
        sh_cursor leaf_view = sh_cursor_make(der, (size_t)der_len);
        assert_int_equal(sh_profile_check_certificate(&p, &leaf_view, NULL, NULL), SH_E_OK);
        OPENSSL_free(der);
        sh_profile_free(&p);
        sh_bytebuf_free(&out);
        sh_bytebuf_free(&again);
    }
    /* the UUID follows the content */
    sh_bytebuf a, b;
    sh_bytebuf_init(&a, NULL);
    sh_bytebuf_init(&b, NULL);
    assert_int_equal(sh_pw_write_plist(&s, &a, NULL), SH_W_OK);
    s.name = "Other";
    assert_int_equal(sh_pw_write_plist(&s, &b, NULL), SH_W_OK);
    const char *ua = strstr((const char *)a.data, "<key>UUID</key>");
    const char *ub = strstr((const char *)b.data, "<key>UUID</key>");
    assert_non_null(ua);
    assert_non_null(ub);
    assert_memory_not_equal(ua, ub, 60);
    sh_bytebuf_free(&a);
    sh_bytebuf_free(&b);
    /* refusals */
    sh_write_error we = {0};
    s.expiration_date = s.creation_date;
    assert_int_equal(sh_pw_write(&s, &a, &we), SH_W_INVALID_ARGUMENT);
    assert_string_equal(we.what, "dates");
    plist_free(ents);
    sh_pki_identity_free(&signer);
    sh_pki_identity_free(&leaf);
    free(root.der);
}

/* ---- the base bundles ---- */

typedef struct code_check {
    const sh_bundle *b;
    const char *root;       /* "" for the app */
    const sh_fx_bundle *s;
    const sh_fx_built *built;
    const root_cert *anchor;
    bool is_app;
} code_check;

/* Special slot `slot` of cd equals the hash of data. */
static void assert_slot(const sh_codedir *cd, uint32_t slot, const uint8_t *data, size_t len)
{
    sh_cursor h;
    uint8_t want[SH_HASH_MAX_SIZE];
    assert_true(sh_codedir_special_hash(cd, slot, &h));
    assert_true(sh_hash(cd->hash_type, data, len, want));
    assert_int_equal(h.len, cd->hash_size);
    assert_memory_equal(h.p, want, cd->hash_size);
}

/* Every regular file under root/Contents is sealed with its SHA-256, or is one Security leaves
 * out (main executable, _CodeSignature, Info.plist, PkgInfo); the extension is nested code. */
static void check_seal(const code_check *c, const uint8_t *cr_bytes, size_t cr_len,
                       const char *exe)
{
    sh_cursor v = sh_cursor_make(cr_bytes, cr_len);
    sh_coderesources cr;
    sh_error err = {0};
    assert_int_equal(sh_coderesources_parse(&v, NULL, &cr, NULL, &err), SH_E_OK);
    char contents[SH_MAX_BUNDLE_PATH + 1], ext_rel[SH_MAX_BUNDLE_PATH + 1];
    snprintf(contents, sizeof contents, "%s%sContents", c->root, c->root[0] ? "/" : "");
    snprintf(ext_rel, sizeof ext_rel, "%s", c->built->extension_root + strlen("Contents/"));
    size_t checked = 0;
    for (size_t i = 0; i < c->b->count; i++) {
        const sh_bundle_entry *e = &c->b->entries[i];
        if (e->kind != SH_BUNDLE_FILE || !sh_bundle_is_under(e->path, contents))
            continue;
        const char *rel = e->path + strlen(contents) + 1;
        if (strncmp(rel, "_CodeSignature/", 15) == 0 || strcmp(rel, "Info.plist") == 0 ||
            strcmp(rel, "PkgInfo") == 0 || (strncmp(rel, "MacOS/", 6) == 0 && !strcmp(rel + 6, exe)))
            continue;
        if (c->is_app && sh_bundle_is_under(rel, ext_rel))
            continue; /* sealed as nested code below */
        const sh_res_file *f = sh_res_find(&cr.files2, rel);
        if (!f)
            fail_msg("%s: %s is not sealed", contents, rel);
        uint8_t h[32];
        assert_true(sh_hash(SH_HASH_SHA256, e->data, e->len, h));
        assert_true(f->has_hash2);
        assert_memory_equal(f->hash2, h, 32);
        checked++;
    }
    assert_true(checked >= 1); /* at least embedded.provisionprofile */
    if (c->is_app) {
        const sh_res_file *n = sh_res_find(&cr.files2, ext_rel);
        assert_non_null(n);
        assert_true(n->nested);
        bool found = false; /* the extension's cdhash of one of its slices */
        for (size_t i = 0; i < c->built->ncdhashes; i++)
            found |= strcmp(c->built->cdhashes[i].code, "extension") == 0 &&
                     memcmp(c->built->cdhashes[i].cdhash, n->cdhash, 20) == 0;
        assert_true(found);
    }
    sh_coderesources_free(&cr);
}

static void check_profile(const code_check *c, const sh_slice_check *slice, const uint8_t *leaf_der,
                          size_t leaf_len, const char *id)
{
    const sh_bundle_entry *pe = file_at(c->b, c->root, "Contents/embedded.provisionprofile");
    sh_profile_options o = {.now = SH_FX_SIGNING_TIME, .trust = trust_of(c->anchor)};
    sh_profile p;
    sh_error err = {0};
    assert_int_equal(sh_profile_parse(pe->data, pe->len, NULL, &o, &p, &err), SH_E_OK);
    bool devid = c->s->variant == SH_FX_DEVELOPER_ID;
    assert_int_equal(p.kind, devid ? SH_PROFILE_KIND_DEVELOPER_ID : SH_PROFILE_KIND_DEVELOPMENT);
    sh_cursor leaf = sh_cursor_make(leaf_der, leaf_len);
    assert_int_equal(sh_profile_check_certificate(&p, &leaf, NULL, &err), SH_E_OK);
    assert_int_equal(sh_profile_check_expiry(&p, SH_FX_SIGNING_TIME, &err), SH_E_OK);
    assert_int_equal(sh_profile_check_platform(&p, "OSX", &err), SH_E_OK);
    assert_int_equal(sh_profile_check_app_id(&p, id, &err), SH_E_OK);
    if (!devid)
        assert_int_equal(sh_profile_check_device(&p, SH_FX_DEVICE_UDID, &err), SH_E_OK);
    const char *bad = NULL;
    assert_true(slice->entitlements.xml_present && slice->entitlements.der_present);
    assert_int_equal(slice->entitlements.result, SH_E_OK);
    if (sh_profile_check_entitlements(&p, &slice->entitlements.xml.root, &bad, &err) != SH_E_OK)
        fail_msg("%s: entitlement %s not allowed", c->root, bad);
    sh_profile_free(&p);
}

/* The category keys and the entitlements a code of this category and variant must carry. */
static void check_info(const code_check *c, const sh_infoplist *info, const sh_slice_check *slice)
{
    const sh_fx_bundle *s = c->s;
    const sh_ent_node *ents = &slice->entitlements.xml.root;
    assert_string_equal(sh_ent_get_string(ents, "com.apple.developer.team-identifier"),
                        sh_fx_team_id(s->team));
    assert_int_equal(sh_ent_get_bool(ents, "com.apple.security.get-task-allow"),
                     s->variant == SH_FX_DEVELOPMENT);
    if (c->is_app) {
        assert_string_equal(info->package_type, "APPL");
        assert_string_equal(info->identifier, s->app_id);
        assert_int_equal(info->categories, 0);
        assert_true(sh_ent_get_bool(ents, "com.apple.developer.system-extension.install"));
        return;
    }
    static const unsigned bits[] = {0, SH_SYSEXT_NETWORK, SH_SYSEXT_ENDPOINT_SECURITY,
                                    SH_SYSEXT_DRIVER, SH_SYSEXT_CAMERA};
    assert_int_equal(sh_infoplist_category(info), bits[s->category]);
    assert_string_equal(info->identifier, s->extension_id);
    bool dext = s->category == SH_FX_DRIVER;
    assert_string_equal(info->package_type, dext ? "DEXT" : "SYSX");
    assert_true(dext ? info->os_bundle_usage != NULL : info->sysext_usage != NULL);
    if (dext) {
        assert_true(info->iokit_personalities >= 1);
        assert_true(sh_ent_get_bool(ents, "com.apple.developer.driverkit"));
        return;
    }
    /* the Mach service lies under the app group the extension holds */
    const char *svc = sh_infoplist_mach_service(info);
    assert_non_null(svc);
    size_t glen = strlen(s->app_group);
    assert_true(strncmp(svc, s->app_group, glen) == 0 && svc[glen] == '.');
    const sh_ent_node *groups = sh_ent_dict_get(ents, "com.apple.security.application-groups");
    assert_non_null(groups);
    assert_int_equal(groups->count, 1);
    assert_string_equal((const char *)groups->items[0].bytes, s->app_group);
    if (s->category == SH_FX_NETWORK) {
        static const char *const providers[] = {"", "com.apple.networkextension.filter-data",
                                                "com.apple.networkextension.packet-tunnel",
                                                "com.apple.networkextension.app-proxy",
                                                "com.apple.networkextension.dns-proxy"};
        assert_true(sh_infoplist_has_provider(info, providers[s->provider]));
        const sh_ent_node *ne =
            sh_ent_dict_get(ents, "com.apple.developer.networking.networkextension");
        assert_non_null(ne);
        const char *v = (const char *)ne->items[0].bytes;
        bool suffixed = strlen(v) > 16 && strcmp(v + strlen(v) - 16, "-systemextension") == 0;
        assert_int_equal(suffixed, s->variant == SH_FX_DEVELOPER_ID);
    }
    if (s->category == SH_FX_ENDPOINT_SECURITY)
        assert_true(sh_ent_get_bool(ents, "com.apple.developer.endpoint-security.client"));
}

static void check_code(const code_check *c)
{
    const sh_bundle_entry *ie = file_at(c->b, c->root, "Contents/Info.plist");
    sh_cursor iv = sh_cursor_make(ie->data, ie->len);
    sh_infoplist info;
    sh_error err = {0};
    assert_int_equal(sh_infoplist_parse(&iv, NULL, &info, &err), SH_E_OK);
    char exe_rel[SH_MAX_BUNDLE_PATH + 1];
    snprintf(exe_rel, sizeof exe_rel, "Contents/MacOS/%s", info.executable);
    const sh_bundle_entry *xe = file_at(c->b, c->root, exe_rel);
    const sh_bundle_entry *re = file_at(c->b, c->root, "Contents/_CodeSignature/CodeResources");
    check_seal(c, re->data, re->len, info.executable);

    sh_inspect_options opt = {.now = SH_FX_SIGNING_TIME, .trust = trust_of(c->anchor)};
    sh_inspection in;
    sh_inspect_bytes(exe_rel, xe->data, xe->len, &opt, &in);
    assert_int_equal(in.exit_code, SH_EXIT_OK); /* pages, in-signature slots, CMS, structure */
    unsigned want_slices = (c->s->archs & SH_FX_ARCH_ARM64 ? 1u : 0u) +
                           (c->s->archs & SH_FX_ARCH_X86_64 ? 1u : 0u);
    assert_int_equal(in.macho.nslices, want_slices);
    sh_pki_identity id = {0};
    assert_true(sh_pki_load_identity(NULL, c->s->identity, &id, NULL, 0));
    unsigned char *leaf = NULL;
    int leaf_len = i2d_X509(id.leaf, &leaf);
    for (uint32_t i = 0; i < in.macho.nslices; i++) {
        const sh_slice_check *sl = &in.slices[i];
        assert_int_equal(sl->cms_result, SH_E_OK);
        assert_true(sl->cms.signature_verified);
        assert_int_equal(sl->cms.has_timestamp, c->s->timestamp);
        assert_string_equal(sl->cms.leaf.cn, id.cn);
        for (uint32_t k = 0; k < sl->signature.ncds; k++) {
            const sh_codedir *cd = &sl->signature.cds[k];
            assert_slot(cd, 1, ie->data, ie->len); /* Info.plist */
            assert_slot(cd, 3, re->data, re->len); /* CodeResources */
            assert_int_equal((cd->flags & 0x10000u) != 0, c->s->runtime);
            assert_string_equal(cd->team_id, sh_fx_team_id(c->s->team));
        }
        check_info(c, &info, sl);
        check_profile(c, sl, leaf, (size_t)leaf_len, info.identifier);
    }
    OPENSSL_free(leaf);
    sh_pki_identity_free(&id);
    sh_inspection_free(&in);
    sh_infoplist_free(&info);
}

static void test_every_base_bundle_verifies(void **state)
{
    (void)state;
    root_cert root;
    load_root(&root);
    sh_fx_spec spec;
    assert_int_equal(sh_fx_spec_parse((const uint8_t *)sh_fx_builtin_spec,
                                      strlen(sh_fx_builtin_spec), NULL, &spec, NULL),
                     SH_E_OK);
    for (size_t i = 0; i < spec.count; i++) {
        const sh_fx_bundle *s = &spec.bundles[i];
        sh_fx_built built;
        char why[512];
        if (!sh_fx_build(s, NULL, NULL, &built, why, sizeof why))
            fail_msg("[%s]: %s", s->name, why);
        assert_int_equal(built.ncdhashes, 4);
        code_check ext = {&built.bundle, built.extension_root, s, &built, &root, false};
        code_check app = {&built.bundle, "", s, &built, &root, true};
        check_code(&ext);
        check_code(&app);
        sh_fx_built_free(&built);
    }
    sh_fx_spec_free(&spec);
    free(root.der);
}

static void test_thin_and_team2(void **state)
{
    (void)state;
    root_cert root;
    load_root(&root);
    const char *text = "[cam]\ncategory camera\nvariant developer-id\nteam 2\narchs arm64\n"
                       "runtime no\ntimestamp no\n";
    sh_fx_spec spec;
    assert_int_equal(sh_fx_spec_parse((const uint8_t *)text, strlen(text), NULL, &spec, NULL),
                     SH_E_OK);
    sh_fx_built built;
    char why[512];
    assert_true(sh_fx_build(&spec.bundles[0], NULL, NULL, &built, why, sizeof why));
    assert_int_equal(built.ncdhashes, 2);
    assert_string_equal(built.cdhashes[0].arch, "arm64");
    code_check ext = {&built.bundle, built.extension_root, &spec.bundles[0], &built, &root, false};
    code_check app = {&built.bundle, "", &spec.bundles[0], &built, &root, true};
    check_code(&ext);
    check_code(&app);
    sh_fx_built_free(&built);
    sh_fx_spec_free(&spec);
    free(root.der);
}

/* Identities from a loaded keyring build the very bytes that loading them from corpus/pki does,
 * with and without a timestamp. */
static void test_keyed_build_is_identical(void **state)
{
    (void)state;
    const char *text = "[ts]\ncategory network\nprovider dns-proxy\nvariant developer-id\n"
                       "[nots]\ncategory driver\nvariant development\ntimestamp no\n";
    sh_fx_spec spec;
    assert_int_equal(sh_fx_spec_parse((const uint8_t *)text, strlen(text), NULL, &spec, NULL),
                     SH_E_OK);
    sh_pki_keyring keys;
    char why[512];
    assert_true(sh_pki_keyring_load(&keys, NULL, why, sizeof why));
    for (size_t i = 0; i < spec.count; i++) {
        sh_fx_built loaded, keyed;
        assert_true(sh_fx_build(&spec.bundles[i], NULL, NULL, &loaded, why, sizeof why));
        assert_true(sh_fx_build_keyed(&spec.bundles[i], &keys, NULL, &keyed, why, sizeof why));
        uint8_t *a, *b;
        size_t na, nb;
        assert_int_equal(sh_bundle_pack(&loaded.bundle, &a, &na, NULL), SH_E_OK);
        assert_int_equal(sh_bundle_pack(&keyed.bundle, &b, &nb, NULL), SH_E_OK);
        assert_int_equal(na, nb);
        assert_memory_equal(a, b, na);
        sh_free(NULL, a);
        sh_free(NULL, b);
        sh_fx_built_free(&loaded);
        sh_fx_built_free(&keyed);
    }
    sh_pki_keyring_free(&keys);
    sh_fx_spec_free(&spec);
}

static void test_build_unknown_pki_dir(void **state)
{
    (void)state;
    sh_fx_spec spec;
    const char *text = "[a]\ncategory camera\nvariant development\n";
    assert_int_equal(sh_fx_spec_parse((const uint8_t *)text, strlen(text), NULL, &spec, NULL),
                     SH_E_OK);
    sh_fx_built built;
    char why[512];
    assert_false(sh_fx_build(&spec.bundles[0], "/nonexistent-pki", NULL, &built, why, sizeof why));
    assert_non_null(strstr(why, "dev-team1"));
    assert_int_equal(built.bundle.count, 0);
    sh_fx_built_free(&built);
    sh_fx_spec_free(&spec);
}

/* Allocation failures anywhere in a build (bundle entries, buffers, parsers) fail cleanly and
 * release everything; sampled, since a build makes thousands of allocations. */
static void test_build_allocation_failures(void **state)
{
    (void)state;
    sh_fx_spec spec;
    const char *text = "[a]\ncategory network\nprovider app-proxy\nvariant developer-id\n"
                       "archs arm64\n";
    assert_int_equal(sh_fx_spec_parse((const uint8_t *)text, strlen(text), NULL, &spec, NULL),
                     SH_E_OK);
    long k = 0, step = 1;
    for (;; k += step, step = step < 64 ? step * 2 : 97) {
        failing_alloc f;
        sh_allocator a = failing_alloc_start(&f, k);
        sh_fx_built built;
        char why[512];
        bool ok = sh_fx_build(&spec.bundles[0], NULL, &a, &built, why, sizeof why);
        sh_fx_built_free(&built);
        assert_int_equal(f.live, 0);
        if (ok)
            break;
        assert_true(why[0] != '\0');
    }
    assert_true(k > 10);
    sh_fx_spec_free(&spec);
}

/* ---- the set and the command ---- */

static void test_set_deterministic(void **state)
{
    (void)state;
    sh_bundle a, b;
    sh_error err = {0};
    char why[512];
    assert_int_equal(sh_fixtures_build_set(NULL, 0, NULL, &a, &err, why, sizeof why), SH_E_OK);
    assert_int_equal(sh_fixtures_build_set(NULL, 0, NULL, &b, &err, why, sizeof why), SH_E_OK);
    uint8_t *pa = NULL, *pb = NULL;
    size_t la = 0, lb = 0;
    assert_int_equal(sh_bundle_pack(&a, &pa, &la, &err), SH_E_OK);
    assert_int_equal(sh_bundle_pack(&b, &pb, &lb, &err), SH_E_OK);
    assert_int_equal(la, lb);
    assert_memory_equal(pa, pb, la);

    /* the packed copy unpacks to the bundle tree beside it */
    const sh_bundle_entry *packed = sh_bundle_find(&a, "camera-devid.shbundle");
    assert_non_null(packed);
    sh_bundle u;
    assert_int_equal(sh_bundle_unpack(packed->data, packed->len, NULL, &u, &err), SH_E_OK);
    const sh_bundle_entry *exe = sh_bundle_find(&u, "Contents/MacOS/Camera");
    const sh_bundle_entry *exe2 = sh_bundle_find(&a, "camera-devid/Camera.app/Contents/MacOS/Camera");
    assert_non_null(exe);
    assert_non_null(exe2);
    assert_int_equal(exe->len, exe2->len);
    assert_memory_equal(exe->data, exe2->data, exe->len);
    sh_bundle_free(&u);

    /* notarized.txt: four cdhashes per Developer ID bundle, none for Development */
    const sh_bundle_entry *n = sh_bundle_find(&a, "notarized.txt");
    assert_non_null(n);
    size_t hex_lines = 0;
    for (size_t i = 0; i + 41 < n->len; i++)
        if ((i == 0 || n->data[i - 1] == '\n') && n->data[i] != '#')
            hex_lines++;
    assert_int_equal(hex_lines, 7 * 4);
    const sh_bundle_entry *m = sh_bundle_find(&a, "manifest.json");
    assert_non_null(m);
    assert_true(json_check((const char *)m->data, m->len));
    char *text = strndup((const char *)m->data, m->len);
    assert_non_null(strstr(text, "\"" SH_FIXTURES_SCHEMA "\""));
    assert_non_null(strstr(text, "network-dns-proxy-dev/DNSProxy.app"));
    free(text);
    sh_free(NULL, pa);
    sh_free(NULL, pb);
    sh_bundle_free(&a);
    sh_bundle_free(&b);
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static int run_cli(const char *a0, const char *a1, const char *a2, const char *a3, const char *a4)
{
    char *argv[6] = {(char *)a0, (char *)a1, (char *)a2, (char *)a3, (char *)a4, NULL};
    int argc = 0;
    while (argv[argc])
        argc++;
    return sh_fixtures_command(argc, argv);
}

static void test_cli_writes_refuses_forces(void **state)
{
    (void)state;
    char base[] = "/tmp/sh-test-fixtures-XXXXXX";
    assert_non_null(mkdtemp(base));
    char out[256], spec_path[256], marker[256], probe[512];
    snprintf(out, sizeof out, "%s/out", base);
    snprintf(spec_path, sizeof spec_path, "%s/one.spec", base);
    snprintf(marker, sizeof marker, "%s/out/marker", base);
    FILE *f = fopen(spec_path, "w");
    assert_non_null(f);
    fputs("[only]\ncategory endpoint-security\nvariant development\narchs arm64\n", f);
    fclose(f);

    assert_int_equal(run_cli("base", "-o", out, "--spec", spec_path), SH_EXIT_OK);
    struct stat st;
    snprintf(probe, sizeof probe, "%s/only/Only.app/Contents/MacOS/Only", out);
    assert_int_equal(stat(probe, &st), 0);
    snprintf(probe, sizeof probe, "%s/only.shbundle", out);
    assert_int_equal(stat(probe, &st), 0);
    snprintf(probe, sizeof probe, "%s/manifest.json", out);
    assert_int_equal(stat(probe, &st), 0);

    /* a non-empty DIR is refused and left alone */
    f = fopen(marker, "w");
    assert_non_null(f);
    fclose(f);
    assert_int_equal(run_cli("base", "-o", out, "--spec", spec_path), SH_EXIT_INVALID);
    assert_int_equal(stat(marker, &st), 0);

    /* --force replaces it whole: the built-in catalogue, the marker gone */
    assert_int_equal(run_cli("base", "--force", "-o", out, "--packed"), SH_EXIT_OK);
    assert_int_equal(stat(marker, &st), -1);
    snprintf(probe, sizeof probe, "%s/driver-devid/Driver.app/Contents/Library/SystemExtensions/"
             "com.sigharness.driver.driver.dext/Contents/MacOS/com.sigharness.driver.driver", out);
    assert_int_equal(stat(probe, &st), 0);
    snprintf(probe, sizeof probe, "%s/only", out);
    assert_int_equal(stat(probe, &st), -1);

    /* a spec error is exit 3 and writes nothing */
    f = fopen(spec_path, "w");
    assert_non_null(f);
    fputs("[x]\ncategory network\nvariant development\n", f);
    fclose(f);
    char out2[256];
    snprintf(out2, sizeof out2, "%s/out2", base);
    assert_int_equal(run_cli("base", "-o", out2, "--spec", spec_path), SH_EXIT_MALFORMED);
    assert_int_equal(stat(out2, &st), -1);
    assert_int_equal(run_cli("base", "--bogus", NULL, NULL, NULL), SH_EXIT_USAGE);
    assert_int_equal(run_cli("other", "-o", out2, NULL, NULL), SH_EXIT_USAGE);

    assert_int_equal(nftw(base, rm_entry, 16, FTW_DEPTH | FTW_PHYS), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_builtin_catalogue),
        cmocka_unit_test(test_spec_defaults_and_keys),
        cmocka_unit_test(test_spec_errors),
        cmocka_unit_test(test_spec_limits),
        cmocka_unit_test(test_spec_allocation_failure),
        cmocka_unit_test(test_profile_writer_kinds),
        cmocka_unit_test(test_every_base_bundle_verifies),
        cmocka_unit_test(test_thin_and_team2),
        cmocka_unit_test(test_keyed_build_is_identical),
        cmocka_unit_test(test_build_unknown_pki_dir),
        cmocka_unit_test(test_build_allocation_failures),
        cmocka_unit_test(test_set_deterministic),
        cmocka_unit_test(test_cli_writes_refuses_forces),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
