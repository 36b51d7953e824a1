/* The test PKI and the Mach-O signer (mutators/pki.c, cms_sign*.c, signer*.c, harness/sign_cmd.c):
 * binaries synthesised unsigned (mutators/macho_synth) and ld64.lld's samples are signed with
 * every identity, ad hoc, hardened runtime, entitlements, timestamp on/off and dual hashes, then
 * read back by the project's own parsers: structure, signature, page hashes, special slots, the
 * CMS verified with the test root as trust anchor (leaf kind, team, timestamp kind), the
 * designated requirement decoded to text.  Also: same input -> same bytes; `openssl cms -verify`
 * accepts the CMS over the CodeDirectory (fails when openssl is missing); without the test root
 * the chain is untrusted; re-signing without --force is refused; the CLI writes atomically. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/x509.h>

#include "cms.h"
#include "cms_sign.h"
#include "macho.h"
#include "macho_synth.h"
#include "pki.h"
#include "requirement.h"
#include "sign_cmd.h"
#include "signature.h"
#include "signer.h"

#define IDENT "com.example.signed"
#define T_SIGN 1704067200 /* 2024-01-01 */

static const char ents_xml[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" "
    "\"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">\n"
    "<plist version=\"1.0\">\n<dict>\n"
    "\t<key>com.apple.developer.system-extension.install</key>\n\t<true/>\n"
    "\t<key>com.apple.security.app-sandbox</key>\n\t<true/>\n"
    "</dict>\n</plist>\n";

/* ---- fixtures ------------------------------------------------------------------------------ */

typedef struct pki_state {
    sh_pki_identity ids[4]; /* devid-team1, devid-team2, dev-team1, dev-team2 */
    sh_pki_tsa tsa;
    unsigned char *root_der;
    int root_der_len;
} pki_state;

static const char *const id_names[4] = {"devid-team1", "devid-team2", "dev-team1", "dev-team2"};

static int setup(void **state)
{
    pki_state *p = calloc(1, sizeof *p);
    char why[SH_PKI_WHY_MAX];
    if (!p)
        return -1;
    for (int i = 0; i < 4; i++)
        if (!sh_pki_load_identity(NULL, id_names[i], &p->ids[i], why, sizeof why)) {
            fprintf(stderr, "%s\n", why);
            return -1;
        }
    if (!sh_pki_load_tsa(NULL, &p->tsa, why, sizeof why))
        return -1;
    p->root_der_len = i2d_X509(p->ids[0].root, &p->root_der);
    *state = p;
    return p->root_der_len > 0 ? 0 : -1;
}

static int teardown(void **state)
{
    pki_state *p = *state;
    for (int i = 0; i < 4; i++)
        sh_pki_identity_free(&p->ids[i]);
    sh_pki_tsa_free(&p->tsa);
    OPENSSL_free(p->root_der);
    free(p);
    return 0;
}

static void expect_ok(sh_err e, const sh_error *err, const char *what)
{
    if (e == SH_E_OK)
        return;
    char msg[256];
    sh_error_format(err, msg, sizeof msg);
    fail_msg("%s: %s: %s", what, sh_err_name(e), msg);
}

/* sign false: unsigned, and (as the synthesiser packs __text right after the load commands)
 * without room for a new LC_CODE_SIGNATURE. */
static void synth(sh_synth_arch arch, bool sign, uint64_t seed, sh_bytebuf *out)
{
    sh_synth_spec spec;
    sh_synth_spec_init(&spec, arch, "com.example.synth");
    spec.sign = sign;
    spec.seed = seed;
    spec.text_size = 20000; /* several pages */
    sh_write_error we = {0};
    sh_bytebuf_init(out, NULL);
    assert_int_equal(sh_synth_thin(&spec, out, NULL, &we), SH_W_OK);
}

static void synth_fat(sh_bytebuf *out)
{
    sh_synth_spec specs[2];
    sh_synth_spec_init(&specs[0], SH_SYNTH_X86_64, "com.example.synth");
    sh_synth_spec_init(&specs[1], SH_SYNTH_ARM64, "com.example.synth");
        sh_write_error we = {0};
    sh_bytebuf_init(out, NULL);
    assert_int_equal(sh_synth_fat(specs, 2, out, NULL, &we), SH_W_OK);
}

static void sign_ok(const uint8_t *in, size_t len, const sh_sign_options *o, sh_bytebuf *out)
{
    sh_sign_result r;
    sh_bytebuf_init(out, NULL);
    sh_sign_status st = sh_sign_macho(in, len, o, out, &r);
    if (st != SH_SIGN_OK)
        fail_msg("sh_sign_macho: %d: %s", (int)st, r.message);
}

/* ---- verification with the project's parsers ----------------------------------------------- */

typedef struct expect {
    const sh_pki_identity *id; /* NULL: ad hoc */
    bool timestamp, runtime, dual, entitlements;
} expect;

static void check_requirements(const sh_signature *sig, const expect *e)
{
    const sh_blob_entry *req = NULL;
    for (uint32_t i = 0; i < sig->superblob.count; i++)
        if (sig->superblob.entries[i].type == SH_SLOT_REQUIREMENTS)
            req = &sig->superblob.entries[i];
    assert_non_null(req);
    char text[2048], dr[1024], want[1100];
    size_t len = 0;
    sh_error err;
    expect_ok(sh_req_to_text(&req->blob, 0, text, sizeof text, &len, NULL, &err), &err, "req text");
    assert_true(sh_sign_designated_text(e->id, IDENT, dr, sizeof dr));
    if (e->id)
        snprintf(want, sizeof want, "designated => %s\n", dr);
    else
        want[0] = '\0';
    assert_string_equal(text, want);
}

static void check_cms(const sh_signature *sig, const expect *e, const pki_state *p, bool trust)
{
    if (!e->id) {
        assert_true(sh_signature_cms_empty(sig));
        return;
    }
    const sh_blob_entry *b = sh_signature_cms(sig);
    assert_non_null(b);
    sh_cms cms;
    sh_error err;
    expect_ok(sh_cms_parse_wrapper(&b->blob, &cms, &err), &err, "sh_cms_parse_wrapper");
    assert_true(cms.has_cdhashes && cms.has_cdhashes2 && cms.has_signing_time);
    assert_int_equal(cms.ncdhashes, sig->ncds);
    assert_int_equal(cms.signing_time, T_SIGN);
    assert_int_equal(cms.ncerts, 3);
    sh_cursor root = sh_cursor_make(p->root_der, (size_t)p->root_der_len);
    sh_cms_options opt = {.now = T_SIGN};
    if (trust) {
        opt.trust.anchor_der = &root;
        opt.trust.n_anchor_der = 1;
    }
    sh_cms_code code = sh_cms_code_of(sig);
    sh_cms_report rep;
    sh_err v = sh_cms_verify(&cms, &code, &opt, &rep, &err);
    if (trust) {
        expect_ok(v, &err, "sh_cms_verify");
        assert_int_equal(rep.leaf_kind, e->id->kind == SH_PKI_DEVELOPER_ID
                                            ? SH_CERT_KIND_DEVELOPER_ID_APPLICATION
                                            : SH_CERT_KIND_APPLE_DEVELOPMENT);
        assert_string_equal(rep.leaf.ou, e->id->team);
        assert_true(rep.team_checked);
        assert_int_equal(sh_cms_report_time_kind(&rep),
                         e->timestamp ? SH_CMS_TIME_KIND_TIMESTAMP : SH_CMS_TIME_KIND_SIGNED_TIME);
        if (e->timestamp)
            assert_int_equal(rep.timestamp_time, T_SIGN);
    } else {
        /* the timestamp's chain is checked first when there is one */
        assert_int_equal(v, e->timestamp ? SH_E_TS_UNTRUSTED : SH_E_CMS_CHAIN_UNTRUSTED);
    }
    sh_cms_free(&cms);
}

static void check_slice(const sh_macho_slice *s, const expect *e, const pki_state *p)
{
    sh_error err;
    sh_cursor sigdata;
    sh_signature sig;
    expect_ok(sh_macho_signature(s, &sigdata, &err), &err, "sh_macho_signature");
    expect_ok(sh_signature_parse(&sigdata, &sig, &err), &err, "sh_signature_parse");
    expect_ok(sh_signature_check_special_slots(&sig, &err), &err, "special slots");
    sh_page_report reports[1 + SH_MAX_ALTERNATE_CDS];
    expect_ok(sh_signature_verify_pages(&sig, &s->data, reports, &err), &err, "page hashes");
    assert_int_equal(sig.ncds, e->dual ? 2 : 1);
    const sh_codedir *cd = &sig.cds[0];
    assert_int_equal(cd->hash_type, e->dual ? SH_HASH_SHA1 : SH_HASH_SHA256);
    assert_string_equal(cd->identifier, IDENT);
    assert_int_equal(cd->flags, (e->id ? 0u : SH_CS_ADHOC) | (e->runtime ? SH_CS_RUNTIME : 0u));
    assert_int_equal(cd->version, e->runtime ? 0x20500u : 0x20400u);
    if (e->id)
        assert_string_equal(cd->team_id, e->id->team);
    else
        assert_null(cd->team_id);
    assert_int_equal(cd->n_special_slots, e->entitlements ? 7 : 2);
    check_requirements(&sig, e);
    check_cms(&sig, e, p, true);
    check_cms(&sig, e, p, false);
}

static void check_file(const sh_bytebuf *b, const expect *e, const pki_state *p,
                       uint32_t nslices)
{
    sh_macho_file f;
    sh_error err;
    expect_ok(sh_macho_parse(b->data, b->len, NULL, &f, &err), &err, "sh_macho_parse");
    expect_ok(sh_macho_check_structure(&f, &err), &err, "sh_macho_check_structure");
    assert_int_equal(f.nslices, nslices);
    for (uint32_t i = 0; i < f.nslices; i++)
        check_slice(&f.slices[i], e, p);
    sh_macho_free(&f);
}

static void options_for(sh_sign_options *o, const expect *e, const pki_state *p)
{
    sh_sign_options_init(o, IDENT);
    o->identity = e->id;
    o->tsa = e->timestamp ? &p->tsa : NULL;
    o->runtime = e->runtime;
    o->dual_hash = e->dual;
    o->signing_time = T_SIGN;
    o->force = true; /* the synthesiser's binaries are ad-hoc signed */
    if (e->entitlements) {
        o->entitlements = (const uint8_t *)ents_xml;
        o->entitlements_len = sizeof ents_xml - 1;
    }
}

static void sign_and_check(const sh_bytebuf *in, const expect *e, const pki_state *p,
                           uint32_t nslices)
{
    sh_sign_options o;
    options_for(&o, e, p);
    sh_bytebuf out, again;
    sign_ok(in->data, in->len, &o, &out);
    check_file(&out, e, p, nslices);
    sign_ok(in->data, in->len, &o, &again); /* deterministic */
    assert_int_equal(out.len, again.len);
    assert_memory_equal(out.data, again.data, out.len);
    sh_bytebuf_free(&out);
    sh_bytebuf_free(&again);
}

/* ---- tests --------------------------------------------------------------------------------- */

static void pki_loads_by_name_and_cn(void **state)
{
    pki_state *p = *state;
    assert_int_equal(p->ids[0].kind, SH_PKI_DEVELOPER_ID);
    assert_string_equal(p->ids[0].team, "SHTEAM0001");
    assert_string_equal(p->ids[1].team, "SHTEAM0002");
    assert_int_equal(p->ids[3].kind, SH_PKI_DEVELOPMENT);
    sh_pki_identity id;
    char why[SH_PKI_WHY_MAX];
    assert_true(sh_pki_load_identity(NULL, p->ids[2].cn, &id, why, sizeof why));
    assert_string_equal(id.name, "dev-team1");
    assert_string_equal(id.cn, "Apple Development: Sigharness Dev One (SHTEAM0001)");
    sh_pki_identity_free(&id);
    assert_false(sh_pki_load_identity(NULL, "Developer ID Application: Nobody (X)", &id, why,
                                      sizeof why));
    assert_non_null(strstr(why, "no identity"));
    assert_false(sh_pki_load_identity("/nonexistent", "devid-team1", &id, why, sizeof why));
    sh_pki_identity_free(&id);
}

static void every_identity_and_arch(void **state)
{
    pki_state *p = *state;
    for (int arch = 0; arch < 2; arch++) {
        sh_bytebuf in;
        synth((sh_synth_arch)arch, true, 3, &in);
        for (int i = 0; i <= 4; i++) {
            expect e = {.id = i < 4 ? &p->ids[i] : NULL};
            sign_and_check(&in, &e, p, 1);
        }
        sh_bytebuf_free(&in);
    }
}

static void runtime_entitlements_timestamp_dual(void **state)
{
    pki_state *p = *state;
    sh_bytebuf in;
    synth(SH_SYNTH_ARM64, true, 5, &in);
    for (int mask = 0; mask < 16; mask++) {
        expect e = {.id = &p->ids[mask & 1 ? 0 : 3], .timestamp = mask & 2, .runtime = mask & 4,
                    .dual = mask & 8, .entitlements = mask & 1};
        sign_and_check(&in, &e, p, 1);
    }
    expect adhoc = {.runtime = true, .entitlements = true, .dual = true};
    sign_and_check(&in, &adhoc, p, 1);
    sh_bytebuf_free(&in);
}

static void fat_file_each_slice_signed(void **state)
{
    pki_state *p = *state;
    sh_bytebuf in;
    synth_fat(&in);
    expect e = {.id = &p->ids[0], .timestamp = true, .runtime = true};
    sign_and_check(&in, &e, p, 2);
    expect adhoc = {0};
    sign_and_check(&in, &adhoc, p, 2);
    sh_bytebuf_free(&in);
}

static void resigning_needs_force(void **state)
{
    pki_state *p = *state;
    sh_bytebuf in, out;
    synth(SH_SYNTH_X86_64, true, 9, &in); /* ad-hoc signed by the synthesiser */
    expect e = {.id = &p->ids[1], .timestamp = true};
    sh_sign_options o;
    options_for(&o, &e, p);
    o.force = false;
    sh_sign_result r;
    sh_bytebuf_init(&out, NULL);
    assert_int_equal(sh_sign_macho(in.data, in.len, &o, &out, &r), SH_SIGN_ALREADY_SIGNED);
    assert_non_null(strstr(r.message, "--force"));
    assert_int_equal(out.len, 0);
    o.force = true;
    sign_ok(in.data, in.len, &o, &out);
    check_file(&out, &e, p, 1);
    /* re-sign the signed output: same bytes again (old signature fully replaced) */
    sh_bytebuf twice;
    sign_ok(out.data, out.len, &o, &twice);
    assert_int_equal(twice.len, out.len);
    assert_memory_equal(twice.data, out.data, out.len);
    sh_bytebuf_free(&twice);
    sh_bytebuf_free(&out);
    sh_bytebuf_free(&in);
}

/* codesign -r: an explicit requirement set replaces the default one, also for ad hoc; text
 * that does not compile is refused. */
static void explicit_requirements(void **state)
{
    (void)state;
    sh_bytebuf in, out;
    synth(SH_SYNTH_ARM64, true, 3, &in);
    sh_sign_options o;
    sh_sign_options_init(&o, "com.example.synth");
    o.force = true;
    o.requirements_text = "designated => identifier \"com.example.synth\" and platform = 1 "
                          "library => anchor apple";
    sign_ok(in.data, in.len, &o, &out);
    sh_macho_file f;
    sh_error err;
    expect_ok(sh_macho_parse(out.data, out.len, NULL, &f, &err), &err, "parse");
    sh_cursor sigdata;
    sh_signature sig;
    expect_ok(sh_macho_signature(&f.slices[0], &sigdata, &err), &err, "signature");
    expect_ok(sh_signature_parse(&sigdata, &sig, &err), &err, "signature parse");
    const sh_blob_entry *reqs = sh_superblob_find(&sig.superblob, SH_SLOT_REQUIREMENTS);
    assert_non_null(reqs);
    sh_reqset set;
    expect_ok(sh_reqset_parse(&reqs->blob, &set, &err), &err, "requirement set");
    assert_non_null(sh_reqset_find(&set, SH_REQ_TYPE_DESIGNATED));
    char *text = NULL;
    size_t len = 0;
    const sh_reqset_entry *dr = sh_reqset_find(&set, SH_REQ_TYPE_DESIGNATED);
    expect_ok(sh_req_to_text_alloc(&dr->blob, 0, NULL, &text, &len, NULL, &err), &err, "text");
    assert_string_equal(text, "identifier \"com.example.synth\" and platform = 1");
    sh_free(NULL, text);
    sh_macho_free(&f);
    sh_bytebuf_free(&out);

    o.requirements_text = "designated => identifier and";
    sh_sign_result r;
    sh_bytebuf_init(&out, NULL);
    assert_int_equal(sh_sign_macho(in.data, in.len, &o, &out, &r), SH_SIGN_FAILED);
    assert_non_null(strstr(r.message, "requirements do not compile"));
    assert_int_equal(out.len, 0);
    sh_bytebuf_free(&in);
}

static void refuses_bad_inputs(void **state)
{
    pki_state *p = *state;
    sh_sign_options o;
    sh_sign_result r;
    sh_bytebuf out;
    sh_bytebuf_init(&out, NULL);
    static const uint8_t junk[64] = {1, 2, 3};
    sh_sign_options_init(&o, IDENT);
    assert_int_equal(sh_sign_macho(junk, sizeof junk, &o, &out, &r), SH_SIGN_MALFORMED);
    sh_bytebuf in;
    synth(SH_SYNTH_ARM64, false, 1, &in);
    o.identifier = "";
    assert_int_equal(sh_sign_macho(in.data, in.len, &o, &out, &r), SH_SIGN_INVALID_ARGUMENT);
    o.identifier = IDENT;
    o.entitlements = (const uint8_t *)"<plist><array/></plist>";
    o.entitlements_len = strlen((const char *)o.entitlements);
    assert_int_equal(sh_sign_macho(in.data, in.len, &o, &out, &r), SH_SIGN_BAD_ENTITLEMENTS);
    o.entitlements = NULL;
    o.entitlements_len = 0;
    o.tsa = &p->tsa; /* ad hoc + timestamp */
    assert_int_equal(sh_sign_macho(in.data, in.len, &o, &out, &r), SH_SIGN_INVALID_ARGUMENT);
    /* no header padding: the unsigned synthesised binary has 8 bytes; fill them too */
    o.tsa = NULL;
    assert_int_equal(sh_sign_macho(in.data, in.len, &o, &out, &r), SH_SIGN_NO_ROOM);
    sh_macho_file f;
    sh_error err;
    expect_ok(sh_macho_parse(in.data, in.len, NULL, &f, &err), &err, "parse");
    uint32_t text_off = f.slices[0].sections[0].offset, sizeofcmds = 0;
    memcpy(&sizeofcmds, in.data + 20, 4);
    sh_macho_free(&f);
    memset(in.data + 32 + sizeofcmds, 0xAB, text_off - 32 - sizeofcmds);
    assert_int_equal(sh_sign_macho(in.data, in.len, &o, &out, &r), SH_SIGN_NO_ROOM);
    assert_non_null(strstr(r.message, "LC_CODE_SIGNATURE"));
    assert_int_equal(out.len, 0);
    sh_bytebuf_free(&in);
    sh_bytebuf_free(&out);
}

/* Single-byte corruptions of the header and load commands: the signer refuses or signs, never
 * reads out of bounds (ASan), and whatever it signs parses back. */
static void corrupted_headers_never_crash(void **state)
{
    (void)state;
    sh_bytebuf in, out;
    synth(SH_SYNTH_ARM64, true, 17, &in);
    sh_sign_options o;
    sh_sign_options_init(&o, IDENT);
    o.force = true;
    uint32_t x = 12345;
    for (int i = 0; i < 3000; i++) {
        x = x * 1103515245u + 12345u;
        size_t at = (x >> 8) % 0x2a0;
        uint8_t old = in.data[at];
        in.data[at] ^= (uint8_t)(1u << ((x >> 4) % 8));
        sh_sign_result r;
        sh_bytebuf_init(&out, NULL);
        if (sh_sign_macho(in.data, in.len, &o, &out, &r) == SH_SIGN_OK) {
            sh_macho_file f;
            sh_error err;
            assert_int_equal(sh_macho_parse(out.data, out.len, NULL, &f, &err), SH_E_OK);
            sh_macho_free(&f);
        } else {
            assert_int_equal(out.len, 0);
            assert_true(r.message[0] != '\0');
        }
        sh_bytebuf_free(&out);
        in.data[at] = old;
    }
    sh_bytebuf_free(&in);
}

/* The timestamp token's own signingTime (which OpenSSL stamps with the clock) is pinned too. */
static void timestamped_signature_ignores_the_clock(void **state)
{
    pki_state *p = *state;
    sh_bytebuf in, a, b;
    synth(SH_SYNTH_X86_64, true, 19, &in);
    expect e = {.id = &p->ids[0], .timestamp = true};
    sh_sign_options o;
    options_for(&o, &e, p);
    sign_ok(in.data, in.len, &o, &a);
    sleep(2);
    sign_ok(in.data, in.len, &o, &b);
    assert_int_equal(a.len, b.len);
    assert_memory_equal(a.data, b.data, a.len);
    sh_bytebuf_free(&a);
    sh_bytebuf_free(&b);
    sh_bytebuf_free(&in);
}

/* ---- openssl cms -verify ------------------------------------------------------------------- */

static void write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

/* A private directory under $TMPDIR (or /tmp) for the files openssl reads; the caller removes
 * it with remove_work_dir. */
static void make_work_dir(char *dir, size_t size)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, size, "%s/test_signer.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    assert_non_null(mkdtemp(dir));
}

static void openssl_cms_verify_accepts(void **state)
{
    pki_state *p = *state;
    sh_bytebuf in, out;
    synth(SH_SYNTH_ARM64, true, 11, &in);
    expect e = {.id = &p->ids[0], .timestamp = true, .dual = true};
    sh_sign_options o;
    options_for(&o, &e, p);
    sign_ok(in.data, in.len, &o, &out);
    sh_macho_file f;
    sh_error err;
    sh_cursor sigdata;
    sh_signature sig;
    expect_ok(sh_macho_parse(out.data, out.len, NULL, &f, &err), &err, "parse");
    expect_ok(sh_macho_signature(&f.slices[0], &sigdata, &err), &err, "signature");
    expect_ok(sh_signature_parse(&sigdata, &sig, &err), &err, "signature parse");
    const sh_blob_entry *cms = sh_signature_cms(&sig);
    char dir[512], cms_path[1024], cd_path[1024], cmd[4096];
    make_work_dir(dir, sizeof dir);
    snprintf(cms_path, sizeof cms_path, "%s/cms.der", dir);
    snprintf(cd_path, sizeof cd_path, "%s/cd.bin", dir);
    write_file(cms_path, cms->blob.p + 8, cms->blob.len - 8);
    write_file(cd_path, sig.cds[0].blob.p, sig.cds[0].blob.len);
    sh_macho_free(&f);
    snprintf(cmd, sizeof cmd,
             "openssl cms -verify -binary -inform DER -in '%s' -content '%s' -CAfile '%s/root.cert.pem' "
             "-purpose any -out /dev/null 2>&1",
             cms_path, cd_path, sh_pki_default_dir());
    FILE *pipe = popen(cmd, "r");
    assert_non_null(pipe);
    char line[512], all[4096] = "";
    while (fgets(line, sizeof line, pipe))
        strncat(all, line, sizeof all - strlen(all) - 1);
    int status = pclose(pipe);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        fail_msg("openssl cms -verify failed (status %d; is openssl installed?): %s", status, all);
    assert_non_null(strstr(all, "Verification successful"));
    /* and with a tampered CodeDirectory it fails */
    {
        uint8_t *copy = malloc(sig.cds[0].blob.len);
        assert_non_null(copy);
        memcpy(copy, sig.cds[0].blob.p, sig.cds[0].blob.len);
        copy[sig.cds[0].blob.len - 1] ^= 1;
        write_file(cd_path, copy, sig.cds[0].blob.len);
        free(copy);
        pipe = popen(cmd, "r");
        assert_non_null(pipe);
        while (fgets(line, sizeof line, pipe))
            ;
        status = pclose(pipe);
        assert_false(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    assert_int_equal(remove(cms_path), 0);
    assert_int_equal(remove(cd_path), 0);
    assert_int_equal(rmdir(dir), 0);
    sh_bytebuf_free(&out);
    sh_bytebuf_free(&in);
}

/* ---- ld64.lld samples ---------------------------------------------------------------------- */

static bool read_all(const char *path, sh_bytebuf *b)
{
    FILE *f = fopen(path, "rb");
    sh_bytebuf_init(b, NULL);
    if (!f)
        return false;
    uint8_t chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        sh_bytebuf_append(b, chunk, n);
    fclose(f);
    return sh_bytebuf_ok(b);
}

static void lld_samples_resigned(void **state)
{
    pki_state *p = *state;
    const char *dir = getenv("SH_SAMPLES_DIR");
    if (!dir)
        fail_msg("SH_SAMPLES_DIR is not set (run through ctest)");
    /* lld-x86_64-unsigned has no LC_CODE_SIGNATURE: the signer adds one in lld's header padding */
    static const char *const names[] = {"lld-arm64", "lld-x86_64", "lld-x86_64-unsigned",
                                        "lld-fat", "go-arm64"};
    static const uint32_t nslices[] = {1, 1, 1, 2, 1};
    for (size_t i = 0; i < 5; i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        sh_bytebuf in;
        if (!read_all(path, &in))
            fail_msg("cannot read %s", path);
        expect e = {.id = &p->ids[i % 4], .timestamp = i != 1, .runtime = true, .dual = i == 3,
                    .entitlements = i == 4};
        sh_sign_options o;
        options_for(&o, &e, p);
        o.force = true;
        sh_bytebuf out;
        sign_ok(in.data, in.len, &o, &out);
        check_file(&out, &e, p, nslices[i]);
        sh_bytebuf_free(&out);
        sh_bytebuf_free(&in);
    }
}

/* ---- CLI (harness/sign_cmd.c) -------------------------------------------------------------- */

static int run_sign(int argc, const char *const *args)
{
    char *argv[16];
    for (int i = 0; i < argc; i++)
        argv[i] = (char *)(uintptr_t)args[i];
    return sh_sign_command(argc, argv);
}

static void cli_signs_in_place_and_refuses_resign(void **state)
{
    pki_state *p = *state;
    char dir[512], path[1024], ents[1024], out_path[1024];
    make_work_dir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/cli.bin", dir);
    snprintf(ents, sizeof ents, "%s/ents.plist", dir);
    snprintf(out_path, sizeof out_path, "%s/cli.out", dir);
    sh_bytebuf in;
    synth(SH_SYNTH_ARM64, true, 13, &in);
    write_file(path, in.data, in.len);
    write_file(ents, ents_xml, sizeof ents_xml - 1);
    const char *a1[] = {"--sign", "devid-team1", "--identifier", IDENT, "--entitlements", ents,
                        "--options", "runtime", "--signing-time", "1704067200", "--force", path};
    assert_int_equal(run_sign(12, a1), 0);
    sh_bytebuf got;
    assert_true(read_all(path, &got));
    expect e = {.id = &p->ids[0], .timestamp = true, .runtime = true, .entitlements = true};
    check_file(&got, &e, p, 1);
    const char *a2[] = {"--sign", "-", "--identifier", IDENT, path};
    assert_int_equal(run_sign(5, a2), 1); /* already signed */
    const char *a3[] = {"--sign", "-", "--identifier", IDENT, "--force", "-o", out_path, path};
    assert_int_equal(run_sign(8, a3), 0);
    sh_bytebuf adhoc;
    assert_true(read_all(out_path, &adhoc));
    expect ea = {0};
    check_file(&adhoc, &ea, p, 1);
    const char *a4[] = {"--sign", "Developer ID Application: Sigharness Test Two (SHTEAM0002)",
                        "--identifier", IDENT, "--timestamp=none", "--force",
                        "--signing-time", "1704067200", "-o", out_path, path};
    assert_int_equal(run_sign(11, a4), 0);
    sh_bytebuf t2;
    assert_true(read_all(out_path, &t2));
    expect e2 = {.id = &p->ids[1]};
    check_file(&t2, &e2, p, 1);
    const char *a5[] = {"--sign", "nobody", path};
    assert_int_equal(run_sign(3, a5), 2);
    const char *a6[] = {"--identifier", IDENT, path};
    assert_int_equal(run_sign(3, a6), 2);
    const char *a7[] = {"--sign", "-", "/nonexistent/file"};
    assert_int_equal(run_sign(3, a7), 4);
    assert_int_equal(remove(path), 0);
    assert_int_equal(remove(ents), 0);
    assert_int_equal(remove(out_path), 0);
    assert_int_equal(rmdir(dir), 0);
    sh_bytebuf_free(&t2);
    sh_bytebuf_free(&adhoc);
    sh_bytebuf_free(&got);
    sh_bytebuf_free(&in);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(pki_loads_by_name_and_cn),
        cmocka_unit_test(every_identity_and_arch),
        cmocka_unit_test(runtime_entitlements_timestamp_dual),
        cmocka_unit_test(fat_file_each_slice_signed),
        cmocka_unit_test(resigning_needs_force),
        cmocka_unit_test(explicit_requirements),
        cmocka_unit_test(refuses_bad_inputs),
        cmocka_unit_test(corrupted_headers_never_crash),
        cmocka_unit_test(timestamped_signature_ignores_the_clock),
        cmocka_unit_test(openssl_cms_verify_accepts),
        cmocka_unit_test(cli_signs_in_place_and_refuses_resign),
    };
    const struct CMUnitTest samples[] = {
        cmocka_unit_test(lld_samples_resigned),
    };
    if (argc > 1 && strcmp(argv[1], "samples") == 0)
        return cmocka_run_group_tests_name("signer_samples", samples, setup, teardown);
    return cmocka_run_group_tests_name("signer", tests, setup, teardown);
}
