/* Bundle signing inside out (mutators/bundle_signer*.c, bundle_seal.c, bundle_nested.c).
 *
 * An app with an embedded system extension is built in memory (Info.plists by hand, executables
 * from macho_synth), the extension is signed, then the app, with the test PKI's devid-team1 and
 * its TSA.  Every check reads the result back with the project's parsers (Mach-O, signature,
 * CodeDirectory, requirement, CMS, CodeResources), never with the signer's own code. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <openssl/x509.h>

#include "bundle.h"
#include "bundle_signer.h"
#include "bundle_write.h"
#include "cms.h"
#include "coderesources.h"
#include "coderesources_writer.h"
#include "failing_alloc.h"
#include "hash.h"
#include "macho.h"
#include "macho_synth.h"
#include "requirement.h"
#include "sign_cmd.h"
#include "signature.h"

#define T_SIGN 1704067200 /* 2024-01-01: fixed, so signing is deterministic */
#define EXT "Contents/Library/SystemExtensions/com.example.app.ext.systemextension"
#define APP_ID "com.example.app"
#define EXT_ID "com.example.app.ext"

static const char app_plist[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" "
    "\"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">\n"
    "<plist version=\"1.0\">\n<dict>\n"
    "\t<key>CFBundleExecutable</key>\n\t<string>App</string>\n"
    "\t<key>CFBundleIdentifier</key>\n\t<string>" APP_ID "</string>\n"
    "\t<key>CFBundlePackageType</key>\n\t<string>APPL</string>\n"
    "</dict>\n</plist>\n";

static const char ext_plist[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" "
    "\"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">\n"
    "<plist version=\"1.0\">\n<dict>\n"
    "\t<key>CFBundleExecutable</key>\n\t<string>" EXT_ID "</string>\n"
    "\t<key>CFBundleIdentifier</key>\n\t<string>" EXT_ID "</string>\n"
    "\t<key>CFBundlePackageType</key>\n\t<string>SYSX</string>\n"
    "\t<key>NSEndpointSecurityMachServiceName</key>\n\t<string>TEAM." EXT_ID ".xpc</string>\n"
    "</dict>\n</plist>\n";

static const char app_ents[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" "
    "\"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">\n"
    "<plist version=\"1.0\">\n<dict>\n"
    "\t<key>com.apple.developer.system-extension.install</key>\n\t<true/>\n"
    "</dict>\n</plist>\n";

static const char ext_ents[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" "
    "\"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">\n"
    "<plist version=\"1.0\">\n<dict>\n"
    "\t<key>com.apple.developer.endpoint-security.client</key>\n\t<true/>\n"
    "</dict>\n</plist>\n";

static const uint8_t profile_bytes[] = "not parsed by the signer: placed and sealed as given";

typedef struct pki_state {
    sh_pki_identity id;
    sh_pki_tsa tsa;
    unsigned char *root_der;
    int root_der_len;
} pki_state;

static int setup(void **state)
{
    pki_state *p = calloc(1, sizeof *p);
    char why[SH_PKI_WHY_MAX];
    if (!p || !sh_pki_load_identity(NULL, "devid-team1", &p->id, why, sizeof why) ||
        !sh_pki_load_tsa(NULL, &p->tsa, why, sizeof why)) {
        fprintf(stderr, "test PKI: %s\n", why);
        return -1;
    }
    p->root_der_len = i2d_X509(p->id.root, &p->root_der);
    *state = p;
    return p->root_der_len > 0 ? 0 : -1;
}

static int teardown(void **state)
{
    pki_state *p = *state;
    sh_pki_identity_free(&p->id);
    sh_pki_tsa_free(&p->tsa);
    OPENSSL_free(p->root_der);
    free(p);
    return 0;
}

static void expect_ok(sh_err e, const sh_error *err, const char *what)
{
    if (e != SH_E_OK) {
        char msg[256];
        sh_error_format(err, msg, sizeof msg);
        fail_msg("%s: %s", what, msg);
    }
}

static void put(sh_bundle *b, const char *path, const void *data, size_t len, uint32_t mode)
{
    sh_error err;
    expect_ok(sh_bundle_put_file(b, path, data, len, mode, &err), &err, path);
}

static void put_text(sh_bundle *b, const char *path, const char *text)
{
    put(b, path, text, strlen(text), 0644);
}

/* A synthesised executable, signed ad hoc by the synthesiser unless sign is false. */
static void put_exe(sh_bundle *b, const char *path, sh_synth_arch arch, uint64_t seed, bool sign)
{
    sh_synth_spec spec;
    sh_synth_spec_init(&spec, arch, "synth");
    spec.seed = seed;
    spec.sign = sign;
    spec.text_size = 9000; /* several pages */
    sh_bytebuf out;
    sh_bytebuf_init(&out, NULL);
    assert_int_equal(sh_synth_thin(&spec, &out, NULL, NULL), SH_W_OK);
    put(b, path, out.data, out.len, 0755);
    sh_bytebuf_free(&out);
}

/* The app and its extension, nothing signed by us yet. */
static void build(sh_bundle *b, const sh_allocator *alloc, bool ext_signed)
{
    sh_error err;
    sh_bundle_init(b, alloc);
    put_text(b, "Contents/Info.plist", app_plist);
    put_exe(b, "Contents/MacOS/App", SH_SYNTH_ARM64, 1, true);
    put_text(b, "Contents/Resources/icon.icns", "icon bytes");
    put_text(b, "Contents/Resources/en.lproj/Localizable.strings", "\"a\" = \"b\";\n");
    expect_ok(sh_bundle_put_symlink(b, "Contents/Resources/link", "icon.icns", &err), &err, "link");
    put_text(b, EXT "/Contents/Info.plist", ext_plist);
    put_exe(b, EXT "/Contents/MacOS/" EXT_ID, SH_SYNTH_X86_64, 2, ext_signed);
    put_text(b, EXT "/Contents/Resources/x.txt", "extension resource");
}

static void options(sh_bundle_sign_options *o, const pki_state *p, const char *ents)
{
    sh_bundle_sign_options_init(o);
    o->code.identity = &p->id;
    o->code.tsa = &p->tsa;
    o->code.runtime = true;
    o->code.force = true; /* the synthesiser signed ad hoc */
    o->code.signing_time = T_SIGN;
    o->code.entitlements = (const uint8_t *)ents;
    o->code.entitlements_len = strlen(ents);
}

static void sign_ok(sh_bundle *b, const char *root, const sh_bundle_sign_options *o)
{
    sh_sign_result r;
    if (sh_sign_bundle(b, root, o, &r) != SH_SIGN_OK)
        fail_msg("sh_sign_bundle(%s): %s", root[0] ? root : "app", r.message);
}

static void sign_inside_out(sh_bundle *b, const pki_state *p)
{
    sh_bundle_sign_options o;
    options(&o, p, ext_ents);
    sign_ok(b, EXT, &o);
    options(&o, p, app_ents);
    o.profile = profile_bytes;
    o.profile_len = sizeof profile_bytes - 1;
    sign_ok(b, "", &o);
}

static const sh_bundle_entry *file_at(const sh_bundle *b, const char *path)
{
    const sh_bundle_entry *e = sh_bundle_find(b, path);
    if (!e || e->kind != SH_BUNDLE_FILE)
        fail_msg("no file %s in the bundle", path);
    return e;
}

static void path_in(char *buf, size_t size, const char *root, const char *rel)
{
    snprintf(buf, size, "%s%sContents/%s", root, root[0] ? "/" : "", rel);
}

/* One signed bundle read back: its executable's signature and its CodeResources. */
typedef struct readback {
    sh_macho_file macho;
    sh_signature sig;
    sh_coderesources cr;
    char *dr; /* designated requirement text */
} readback;

static void read_back(const sh_bundle *b, const char *root, const char *exe, readback *rb)
{
    char path[1024];
    sh_error err;
    sh_cursor sigdata;
    path_in(path, sizeof path, root, exe);
    const sh_bundle_entry *e = file_at(b, path);
    expect_ok(sh_macho_parse(e->data, e->len, NULL, &rb->macho, &err), &err, "Mach-O");
    expect_ok(sh_macho_signature(&rb->macho.slices[0], &sigdata, &err), &err, "signature");
    expect_ok(sh_signature_parse(&sigdata, &rb->sig, &err), &err, "signature parse");
    path_in(path, sizeof path, root, "_CodeSignature/CodeResources");
    e = file_at(b, path);
    sh_cursor c = sh_cursor_make(e->data, e->len);
    expect_ok(sh_coderesources_parse(&c, NULL, &rb->cr, NULL, &err), &err, "CodeResources");
    const sh_blob_entry *reqs = NULL;
    for (uint32_t i = 0; i < rb->sig.superblob.count; i++)
        if (rb->sig.superblob.entries[i].type == SH_SLOT_REQUIREMENTS)
            reqs = &rb->sig.superblob.entries[i];
    assert_non_null(reqs);
    sh_reqset set;
    expect_ok(sh_reqset_parse(&reqs->blob, &set, &err), &err, "requirement set");
    const sh_reqset_entry *dr = sh_reqset_find(&set, SH_REQ_TYPE_DESIGNATED);
    assert_non_null(dr);
    size_t len;
    expect_ok(sh_req_to_text_alloc(&dr->blob, 0, NULL, &rb->dr, &len, NULL, &err), &err, "DR");
}

static void readback_free(readback *rb)
{
    sh_free(NULL, rb->dr);
    sh_coderesources_free(&rb->cr);
    sh_macho_free(&rb->macho);
}

static void assert_slot_hash(const sh_codedir *cd, uint32_t slot, const uint8_t *data, size_t len)
{
    uint8_t want[32];
    sh_cursor got;
    assert_true(sh_hash(SH_HASH_SHA256, data, len, want));
    assert_true(sh_codedir_special_hash(cd, slot, &got));
    assert_int_equal(got.len, 32);
    if (memcmp(got.p, want, 32) != 0)
        fail_msg("special slot %u does not hold the SHA-256 of its file", slot);
}

/* The CodeDirectory, its special slots, page hashes and CMS of one signed bundle. */
static void check_code(const sh_bundle *b, const char *root, const readback *rb,
                       const pki_state *p, const char *ident)
{
    char path[1024];
    sh_error err;
    const sh_codedir *cd = &rb->sig.cds[0];
    assert_int_equal(rb->sig.ncds, 1);
    assert_int_equal((int)cd->identifier_len, (int)strlen(ident));
    assert_memory_equal(cd->identifier, ident, cd->identifier_len);
    assert_int_equal(cd->n_special_slots, 7); /* DER entitlements is the highest slot */
    assert_true(cd->flags & SH_CS_RUNTIME);
    path_in(path, sizeof path, root, "Info.plist");
    const sh_bundle_entry *e = file_at(b, path);
    assert_slot_hash(cd, SH_SLOT_INFO, e->data, e->len);
    path_in(path, sizeof path, root, "_CodeSignature/CodeResources");
    e = file_at(b, path);
    assert_slot_hash(cd, SH_SLOT_RESOURCEDIR, e->data, e->len);
    expect_ok(sh_signature_check_special_slots(&rb->sig, &err), &err, "slots 2, 5, 7");
    assert_true(sh_codedir_special_present(cd, SH_SLOT_ENTITLEMENTS));
    assert_true(sh_codedir_special_present(cd, SH_SLOT_DER_ENTITLEMENTS));
    sh_page_report reports[1 + SH_MAX_ALTERNATE_CDS];
    expect_ok(sh_signature_verify_pages(&rb->sig, &rb->macho.slices[0].data, reports, &err), &err,
              "page hashes");
    assert_true(reports[0].pages_checked > 1);

    const sh_blob_entry *w = sh_signature_cms(&rb->sig);
    assert_non_null(w);
    sh_cms cms;
    expect_ok(sh_cms_parse_wrapper(&w->blob, &cms, &err), &err, "CMS");
    sh_cursor anchor = sh_cursor_make(p->root_der, (size_t)p->root_der_len);
    sh_cms_options opt = {.now = T_SIGN};
    opt.trust.anchor_der = &anchor;
    opt.trust.n_anchor_der = 1;
    sh_cms_code code = sh_cms_code_of(&rb->sig);
    sh_cms_report rep;
    expect_ok(sh_cms_verify(&cms, &code, &opt, &rep, &err), &err, "CMS verify with the test root");
    assert_int_equal(rep.leaf_kind, SH_CERT_KIND_DEVELOPER_ID_APPLICATION);
    assert_int_equal(sh_cms_report_time_kind(&rep), SH_CMS_TIME_KIND_TIMESTAMP);
    sh_cms_free(&cms);
}

/* Every files2 entry that is a file or symlink matches the bundle; returns how many there are. */
static size_t check_files2(const sh_bundle *b, const char *root, const sh_coderesources *cr)
{
    char path[1024];
    for (size_t i = 0; i < cr->files2.count; i++) {
        const sh_res_file *f = &cr->files2.items[i];
        path_in(path, sizeof path, root, f->path);
        const sh_bundle_entry *e = sh_bundle_find(b, path);
        if (!e)
            fail_msg("files2 names %s, which the bundle lacks", path);
        if (f->symlink) {
            assert_int_equal(e->kind, SH_BUNDLE_SYMLINK);
            assert_int_equal(strlen(f->symlink), e->len);
            assert_memory_equal(f->symlink, e->data, e->len);
        } else if (!f->nested) {
            uint8_t want[32];
            assert_int_equal(e->kind, SH_BUNDLE_FILE);
            assert_true(f->has_hash2);
            assert_true(sh_hash(SH_HASH_SHA256, e->data, e->len, want));
            if (memcmp(f->hash2, want, 32) != 0)
                fail_msg("files2 hash2 of %s does not match the file", f->path);
        }
    }
    return cr->files2.count;
}

static void signed_app_and_extension_check_out(void **state)
{
    pki_state *p = *state;
    sh_bundle b;
    build(&b, NULL, true);
    sign_inside_out(&b, p);

    readback ext, app;
    read_back(&b, EXT, "MacOS/" EXT_ID, &ext);
    read_back(&b, "", "MacOS/App", &app);
    check_code(&b, EXT, &ext, p, EXT_ID);
    check_code(&b, "", &app, p, APP_ID);
    assert_string_equal(app.dr, "identifier \"" APP_ID "\" and anchor apple generic and "
                                "certificate 1[field.1.2.840.113635.100.6.2.6] /* exists */ and "
                                "certificate leaf[field.1.2.840.113635.100.6.1.13] /* exists */ "
                                "and certificate leaf[subject.OU] = SHTEAM0001");

    /* the extension seals its resource; Info.plist and its executable are not in files2 */
    assert_int_equal(check_files2(&b, EXT, &ext.cr), 1);
    assert_non_null(sh_res_find(&ext.cr.files2, "Resources/x.txt"));

    /* the app: resources, the symlink, the profile, and the extension as nested code */
    assert_int_equal(check_files2(&b, "", &app.cr), 5);
    assert_true(sh_res_find(&app.cr.files2, "Resources/en.lproj/Localizable.strings")->optional);
    assert_string_equal(sh_res_find(&app.cr.files2, "Resources/link")->symlink, "icon.icns");
    assert_non_null(sh_res_find(&app.cr.files2, "Resources/icon.icns"));
    assert_null(sh_res_find(&app.cr.files2, "Info.plist"));
    assert_null(sh_res_find(&app.cr.files2, "MacOS/App"));
    const sh_res_file *prof = sh_res_find(&app.cr.files2, "embedded.provisionprofile");
    assert_non_null(prof);
    const sh_bundle_entry *pe = file_at(&b, "Contents/embedded.provisionprofile");
    assert_int_equal(pe->len, sizeof profile_bytes - 1);
    assert_memory_equal(pe->data, profile_bytes, pe->len);
    const sh_res_file *n =
        sh_res_find(&app.cr.files2, "Library/SystemExtensions/com.example.app.ext.systemextension");
    assert_non_null(n);
    assert_true(n->nested);
    assert_memory_equal(n->cdhash, ext.sig.cds[0].cdhash, SH_RES_SHA1_LEN);
    assert_non_null(n->requirement);
    assert_string_equal(n->requirement, ext.dr);
    for (size_t i = 0; i < app.cr.files2.count; i++) /* nothing inside the extension is listed */
        assert_null(strstr(app.cr.files2.items[i].path, ".systemextension/"));
    /* the rule that makes it nested is written into rules2 */
    bool rule = false;
    for (size_t i = 0; i < app.cr.rules2.count; i++)
        if (strcmp(app.cr.rules2.items[i].pattern, "^Library/SystemExtensions/") == 0)
            rule = app.cr.rules2.items[i].nested && app.cr.rules2.items[i].weight == 10;
    assert_true(rule);

    /* sh_bundle_nested_seal reports the same seal */
    uint8_t cdhash[20];
    char req[2048];
    sh_sign_result r;
    assert_int_equal(sh_bundle_nested_seal(&b, EXT, cdhash, req, sizeof req, &r), SH_SIGN_OK);
    assert_memory_equal(cdhash, ext.sig.cds[0].cdhash, 20);
    assert_string_equal(req, ext.dr);
    assert_int_equal(sh_bundle_nested_seal(&b, EXT, cdhash, req, 10, &r), SH_SIGN_FAILED);

    readback_free(&ext);
    readback_free(&app);
    sh_bundle_free(&b);
}

static void pack(const sh_bundle *b, uint8_t **data, size_t *len)
{
    sh_error err;
    expect_ok(sh_bundle_pack(b, data, len, &err), &err, "pack");
}

static void assert_same_bundle(const sh_bundle *x, const sh_bundle *y, bool same)
{
    uint8_t *a, *c;
    size_t alen, clen;
    pack(x, &a, &alen);
    pack(y, &c, &clen);
    assert_int_equal(alen == clen && memcmp(a, c, alen) == 0, same);
    sh_free(x->alloc, a);
    sh_free(y->alloc, c);
}

/* Same input, same bytes; and signing a signed bundle again changes nothing. */
static void signing_is_deterministic(void **state)
{
    pki_state *p = *state;
    sh_bundle a, b, c;
    build(&a, NULL, true);
    build(&b, NULL, true);
    sign_inside_out(&a, p);
    sign_inside_out(&b, p);
    assert_same_bundle(&a, &b, true);
    sh_error err;
    expect_ok(sh_bundle_clone(&a, &c, &err), &err, "clone");
    sign_inside_out(&c, p);
    assert_same_bundle(&a, &c, true);
    sh_bundle_free(&a);
    sh_bundle_free(&b);
    sh_bundle_free(&c);
}

/* Outside in is refused: the app cannot seal an unsigned extension; the bundle is unchanged. */
static void unsigned_nested_code_is_refused(void **state)
{
    pki_state *p = *state;
    sh_bundle b, before;
    sh_error err;
    build(&b, NULL, false);
    expect_ok(sh_bundle_clone(&b, &before, &err), &err, "clone");
    sh_bundle_sign_options o;
    options(&o, p, app_ents);
    sh_sign_result r;
    assert_int_equal(sh_sign_bundle(&b, "", &o, &r), SH_SIGN_UNSUPPORTED);
    assert_non_null(strstr(r.message, "sign " EXT " first (inside out)"));
    assert_same_bundle(&b, &before, true);
    /* a CodeResources is not enough: the executable itself carries the signature */
    put_text(&b, EXT "/Contents/_CodeSignature/CodeResources", "<plist/>");
    assert_int_equal(sh_sign_bundle(&b, "", &o, &r), SH_SIGN_UNSUPPORTED);
    assert_non_null(strstr(r.message, EXT " is not signed: sign " EXT " first (inside out)"));
    /* a signed extension whose Info.plist was edited afterwards must be signed again */
    sh_bundle_free(&b);
    build(&b, NULL, true);
    options(&o, p, ext_ents);
    sign_ok(&b, EXT, &o);
    char edited[sizeof ext_plist + 1];
    snprintf(edited, sizeof edited, "%s\n", ext_plist); /* same keys, one byte more */
    put_text(&b, EXT "/Contents/Info.plist", edited);
    options(&o, p, app_ents);
    assert_int_equal(sh_sign_bundle(&b, "", &o, &r), SH_SIGN_UNSUPPORTED);
    assert_non_null(strstr(r.message, "does not seal the current " EXT "/Contents/Info.plist"));
    /* an executable in MacOS/ besides the main one is nested code too */
    sh_bundle_free(&b);
    build(&b, NULL, true);
    options(&o, p, ext_ents);
    sign_ok(&b, EXT, &o);
    put_exe(&b, "Contents/MacOS/helper", SH_SYNTH_ARM64, 3, false);
    options(&o, p, app_ents);
    assert_int_equal(sh_sign_bundle(&b, "", &o, &r), SH_SIGN_UNSUPPORTED);
    assert_non_null(strstr(r.message, "sign Contents/MacOS/helper first"));
    sh_bundle_free(&b);
    sh_bundle_free(&before);
}

/* Changing the extension after the app was signed breaks the app's nested seal: re-signing the
 * extension gives it a new cdhash that no longer matches, and editing its executable without
 * re-signing makes sealing the app fail. */
static void tampered_extension_fails_the_nested_seal(void **state)
{
    pki_state *p = *state;
    sh_bundle b;
    build(&b, NULL, true);
    sign_inside_out(&b, p);
    readback app;
    read_back(&b, "", "MacOS/App", &app);
    const sh_res_file *n =
        sh_res_find(&app.cr.files2, "Library/SystemExtensions/com.example.app.ext.systemextension");
    assert_non_null(n);

    put_text(&b, EXT "/Contents/Resources/x.txt", "changed after the app was signed");
    sh_bundle_sign_options o;
    options(&o, p, ext_ents);
    sign_ok(&b, EXT, &o);
    readback ext;
    read_back(&b, EXT, "MacOS/" EXT_ID, &ext);
    assert_memory_not_equal(n->cdhash, ext.sig.cds[0].cdhash, SH_RES_SHA1_LEN);
    readback_free(&ext);

    const sh_bundle_entry *e = file_at(&b, EXT "/Contents/MacOS/" EXT_ID);
    uint8_t *copy = malloc(e->len);
    assert_non_null(copy);
    memcpy(copy, e->data, e->len);
    copy[e->len / 3] ^= 0x40; /* inside the signed code pages */
    put(&b, EXT "/Contents/MacOS/" EXT_ID, copy, e->len, 0755);
    free(copy);
    options(&o, p, app_ents);
    sh_sign_result r;
    assert_int_equal(sh_sign_bundle(&b, "", &o, &r), SH_SIGN_UNSUPPORTED);
    assert_non_null(strstr(r.message, "invalid signature"));
    readback_free(&app);
    sh_bundle_free(&b);
}

static void bad_bundles_are_refused(void **state)
{
    pki_state *p = *state;
    sh_bundle b;
    sh_bundle_sign_options o;
    sh_sign_result r;
    options(&o, p, app_ents);
    build(&b, NULL, true);
    assert_int_equal(sh_sign_bundle(&b, "Contents/Nope", &o, &r), SH_SIGN_MALFORMED);
    assert_int_equal(sh_sign_bundle(&b, "/abs", &o, &r), SH_SIGN_INVALID_ARGUMENT);
    sh_error err;
    expect_ok(sh_bundle_remove(&b, "Contents/MacOS/App", &err), &err, "remove");
    assert_int_equal(sh_sign_bundle(&b, "", &o, &r), SH_SIGN_MALFORMED);
    assert_non_null(strstr(r.message, "MacOS/App"));
    expect_ok(sh_bundle_remove(&b, "Contents/Info.plist", &err), &err, "remove");
    assert_int_equal(sh_sign_bundle(&b, "", &o, &r), SH_SIGN_MALFORMED);
    assert_non_null(strstr(r.message, "Info.plist"));
    sh_bundle_free(&b);
    /* an already signed executable is replaced only with force */
    build(&b, NULL, true);
    o.code.force = false;
    options(&o, p, ext_ents);
    o.code.force = false;
    assert_int_equal(sh_sign_bundle(&b, EXT, &o, &r), SH_SIGN_ALREADY_SIGNED);
    sh_bundle_free(&b);
}

/* Every allocation the signer makes on the bundle's behalf may fail: the result is an error and
 * an unchanged bundle that holds no more memory than before. */
static void allocation_failures_leave_the_bundle_unchanged(void **state)
{
    pki_state *p = *state;
    failing_alloc fa;
    sh_allocator a = failing_alloc_start(&fa, 1L << 30);
    sh_bundle b, before;
    build(&b, &a, true);
    sh_bundle_sign_options o;
    options(&o, p, ext_ents);
    sign_ok(&b, EXT, &o);
    sh_error err;
    expect_ok(sh_bundle_clone(&b, &before, &err), &err, "clone");
    options(&o, p, app_ents);
    bool succeeded = false;
    long failures = 0;
    for (long k = 0; k < 100000 && !succeeded; k++, failures++) {
        long live = fa.live;
        fa.remaining = k;
        sh_sign_result r;
        sh_sign_status st = sh_sign_bundle(&b, "", &o, &r);
        fa.remaining = 1L << 30;
        if (st == SH_SIGN_OK) {
            succeeded = true;
            break;
        }
        assert_int_equal(fa.live, live);
        assert_same_bundle(&b, &before, true);
    }
    assert_true(succeeded);
    assert_true(failures > 20); /* the clone, the seal's lists, the nested seal, the writes */
    assert_same_bundle(&b, &before, false);
    sh_bundle_free(&before);
    sh_bundle_free(&b);
    assert_int_equal(fa.live, 0);
}

/* sh_crw_write_rules (the writer's hook for the rule above): an extra rule replaces a default
 * one with the same pattern and is applied; a pattern that is empty or does not compile is
 * refused. */
static void extra_rules2_replace_apply_and_refuse(void **state)
{
    (void)state;
    sh_crw_entry e = {.path = "Resources/a", .kind = SH_CRW_FILE,
                      .data = (const uint8_t *)"x", .len = 1};
    sh_crw_entry f = {.path = "other", .kind = SH_CRW_FILE, .data = (const uint8_t *)"y", .len = 1};
    sh_crw_entry both[2] = {e, f};
    sh_crw_rule rules[2] = {{"^Resources/", true, false, false, 20},
                            {"^other$", false, true, false, 30}};
    sh_bytebuf out;
    sh_bytebuf_init(&out, NULL);
    assert_int_equal(sh_crw_write_rules(both, 2, NULL, rules, 2, NULL, &out, NULL), SH_W_OK);
    sh_coderesources cr;
    sh_error err;
    sh_cursor c = sh_cursor_make(out.data, out.len);
    expect_ok(sh_coderesources_parse(&c, NULL, &cr, NULL, &err), &err, "CodeResources");
    assert_null(sh_res_find(&cr.files2, "Resources/a")); /* omitted now */
    assert_true(sh_res_find(&cr.files2, "other")->optional);
    assert_int_equal(cr.rules2.count, 14); /* 13 defaults, one replaced, one added */
    sh_coderesources_free(&cr);
    sh_crw_rule bad[] = {{"", false, false, false, 1}, {"(", false, false, false, 1}};
    for (size_t i = 0; i < 2; i++) {
        sh_crw_error cerr;
        size_t before = out.len;
        assert_int_equal(sh_crw_write_rules(both, 2, NULL, &bad[i], 1, NULL, &out, &cerr),
                         SH_W_INVALID_ARGUMENT);
        assert_int_equal(out.len, before);
    }
    sh_bytebuf_free(&out);
}

/* ---- `sigharness sign` on bundles (harness/sign_cmd.c, sign_bundle_cmd.c) ---- */

static void work_path(char *buf, size_t size, const char *name)
{
    const char *dir = getenv("SH_BUILD_DIR");
    if (!dir)
        fail_msg("SH_BUILD_DIR is not set (run through ctest)");
    snprintf(buf, size, "%s/test_bundle_signer.%s", dir, name);
}

static void write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

static int run_sign(const char *const *args, int argc)
{
    char *argv[24];
    assert_true(argc <= 24);
    for (int i = 0; i < argc; i++)
        argv[i] = (char *)(uintptr_t)args[i];
    return sh_sign_command(argc, argv);
}

/* The same signature options as options(): identity, TSA (Developer ID default), runtime,
 * force, fixed time, entitlements. */
#define CLI_ARGS(ents) "--sign", "devid-team1", "--options", "runtime", "--force", \
                       "--signing-time", "1704067200", "--entitlements", ents

static void cli_signs_directories_and_packed_bundles(void **state)
{
    pki_state *p = *state;
    char app[1024], ext[1200], ents_app[1024], ents_ext[1024], prof[1024], packed[1024], out[1024];
    work_path(app, sizeof app, "X.app");
    snprintf(ext, sizeof ext, "%s/%s", app, EXT);
    work_path(ents_app, sizeof ents_app, "app.entitlements");
    work_path(ents_ext, sizeof ents_ext, "ext.entitlements");
    work_path(prof, sizeof prof, "embedded.provisionprofile");
    work_path(packed, sizeof packed, "X.pack");
    work_path(out, sizeof out, "Y.app");
    write_file(ents_app, app_ents, strlen(app_ents));
    write_file(ents_ext, ext_ents, strlen(ext_ents));
    write_file(prof, profile_bytes, sizeof profile_bytes - 1);

    sh_bundle b, want, got;
    sh_error err;
    char why[512];
    build(&b, NULL, true);
    assert_int_equal(sh_bundle_write_dir(&b, app, true, why, sizeof why), SH_DISK_OK);
    const char *e1[] = {CLI_ARGS(ents_ext), ext};
    assert_int_equal(run_sign(e1, 10), 0);
    const char *a1[] = {CLI_ARGS(ents_app), "--profile", prof, app};
    assert_int_equal(run_sign(a1, 12), 0);
    /* what the library makes in memory, byte for byte */
    build(&want, NULL, true);
    sign_inside_out(&want, p);
    expect_ok(sh_bundle_read_dir(app, NULL, &got, &err, why, sizeof why), &err, why);
    assert_same_bundle(&got, &want, true);
    sh_bundle_free(&got);

    /* -o OUT: an absent or empty directory, never one with contents */
    const char *a2[] = {CLI_ARGS(ents_app), "--profile", prof, "-o", out, app};
    assert_int_equal(sh_bundle_write_dir(&b, out, true, why, sizeof why), SH_DISK_OK);
    assert_int_equal(run_sign(a2, 14), 2);
    sh_bundle empty;
    sh_bundle_init(&empty, NULL);
    assert_int_equal(sh_bundle_write_dir(&empty, out, true, why, sizeof why), SH_DISK_OK);
    assert_int_equal(run_sign(a2, 14), 0); /* re-signs the signed X.app into Y.app */
    expect_ok(sh_bundle_read_dir(out, NULL, &got, &err, why, sizeof why), &err, why);
    assert_same_bundle(&got, &want, true);
    sh_bundle_free(&got);

    /* a packed bundle is signed as a whole (its nested code already signed) */
    sh_bundle_free(&b);
    build(&b, NULL, true);
    sh_bundle_sign_options o;
    options(&o, p, ext_ents);
    sign_ok(&b, EXT, &o);
    uint8_t *data;
    size_t len;
    pack(&b, &data, &len);
    write_file(packed, data, len);
    sh_free(NULL, data);
    const char *a3[] = {CLI_ARGS(ents_app), "--profile", prof, packed};
    assert_int_equal(run_sign(a3, 12), 0);
    FILE *f = fopen(packed, "rb");
    assert_non_null(f);
    static uint8_t buf[1 << 20];
    len = fread(buf, 1, sizeof buf, f);
    fclose(f);
    expect_ok(sh_bundle_unpack(buf, len, NULL, &got, &err), &err, "unpack");
    assert_same_bundle(&got, &want, true);
    sh_bundle_free(&got);

    /* outside in is refused, the bundle on disk untouched; --profile needs a bundle */
    sh_bundle_free(&b);
    build(&b, NULL, false);
    assert_int_equal(sh_bundle_write_dir(&b, app, true, why, sizeof why), SH_DISK_OK);
    const char *a4[] = {CLI_ARGS(ents_app), app};
    assert_int_equal(run_sign(a4, 10), 1);
    expect_ok(sh_bundle_read_dir(app, NULL, &got, &err, why, sizeof why), &err, why);
    assert_same_bundle(&got, &b, true);
    sh_bundle_free(&got);
    const char *a5[] = {"--sign", "-", "--profile", prof, ents_app};
    assert_int_equal(run_sign(a5, 5), 2);
    sh_bundle_free(&b);
    sh_bundle_free(&want);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(signed_app_and_extension_check_out),
        cmocka_unit_test(signing_is_deterministic),
        cmocka_unit_test(unsigned_nested_code_is_refused),
        cmocka_unit_test(tampered_extension_fails_the_nested_seal),
        cmocka_unit_test(bad_bundles_are_refused),
        cmocka_unit_test(allocation_failures_leave_the_bundle_unchanged),
        cmocka_unit_test(extra_rules2_replace_apply_and_refuse),
        cmocka_unit_test(cli_signs_directories_and_packed_bundles),
    };
    return cmocka_run_group_tests_name("bundle_signer", tests, setup, teardown);
}
