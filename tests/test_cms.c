/* CMS code signatures: the real signed samples in external-samples/ (every fact MANIFEST.md
 * states about their CMS, an independent OpenSSL CMS_verify over the slot-0 CodeDirectory, chains
 * to the pinned Apple Root CA), and signatures generated here with a test PKI (cms_builder.h):
 * each verification stage passing and failing with its own error, the time and expiry rule, the
 * timestamp.  Hostile inputs are in test_cms_hostile.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/bio.h>

#include "cms.h"
#include "cms_builder.h"
#include "macho.h"
#include "signature.h"

/* The test PKI, made once per process by the group setup (RSA key generation is the slow part)
 * and only read by the tests. */
static test_pki pki;

static int setup_pki(void **state)
{
    (void)state;
    test_pki_init(&pki);
    return 0;
}

static int teardown_pki(void **state)
{
    (void)state;
    test_pki_free(&pki);
    return 0;
}

/* ---- real samples ---- */

typedef struct sample {
    uint8_t *data;
    size_t len;
    sh_macho_file macho;
} sample;

static void load_sample(const char *name, sample *s)
{
    const char *shared = getenv("SH_SHARED_DIR");
    char path[2048];
    snprintf(path, sizeof path, "%s/external-samples/macho/%s", shared ? shared : "../shared", name);
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open %s", path);
    sig_buf b = {0};
    uint8_t chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        sig_append(&b, chunk, n);
    fclose(f);
    s->data = sig_exact_copy(b.data, b.len);
    s->len = b.len;
    sig_buf_free(&b);
    sh_error err;
    assert_int_equal(sh_macho_parse(s->data, s->len, NULL, &s->macho, &err), SH_E_OK);
}

static void free_sample(sample *s)
{
    sh_macho_free(&s->macho);
    free(s->data);
}

typedef struct slice_cms {
    sh_signature sig;
    sh_cms cms;
    sh_cms_code code;
    sh_cms_report report;
    sh_error err;
    sh_err verified;
} slice_cms;

/* Parses slice i's CMS (must succeed) and verifies it at `now` with the given trust. */
static void check_slice(const sample *s, uint32_t i, int64_t now, const sh_trust *trust,
                        slice_cms *out)
{
    sh_cursor data;
    assert_true(i < s->macho.nslices);
    assert_int_equal(sh_macho_signature(&s->macho.slices[i], &data, &out->err), SH_E_OK);
    assert_int_equal(sh_signature_parse(&data, &out->sig, &out->err), SH_E_OK);
    const sh_blob_entry *wrapper = sh_signature_cms(&out->sig);
    assert_non_null(wrapper);
    assert_int_equal(sh_cms_parse_wrapper(&wrapper->blob, &out->cms, &out->err), SH_E_OK);
    assert_false(out->cms.adhoc);
    out->code = sh_cms_code_of(&out->sig);
    sh_cms_options opt = {.now = now};
    if (trust)
        opt.trust = *trust;
    out->verified = sh_cms_verify(&out->cms, &out->code, &opt, &out->report, &out->err);
}

/* OpenSSL's own CMS_verify over the slot-0 CodeDirectory, chain not checked: an oracle that the
 * signature really covers the CD. */
static void assert_openssl_verifies(const slice_cms *sc)
{
    const sh_cursor *cd = &sc->sig.cds[0].blob;
    BIO *content = BIO_new_mem_buf(cd->p, (int)cd->len);
    assert_non_null(content);
    int ok = CMS_verify(sc->cms.ci, NULL, NULL, content, NULL,
                        CMS_NO_SIGNER_CERT_VERIFY | CMS_BINARY | CMS_DETACHED);
    BIO_free(content);
    assert_int_equal(ok, 1);
}

static void assert_chain_cns(const sh_chain *chain, const char *const *cns, uint32_t n)
{
    assert_int_equal(chain->length, n);
    for (uint32_t i = 0; i < n; i++)
        assert_string_equal(chain->certs[i].cn, cns[i]);
}

static void real_sparkle_developer_id_with_timestamp(void **state)
{
    (void)state;
    sample s;
    load_sample("sparkle_DevSignedApp_SignedApp", &s);
    slice_cms sc;
    check_slice(&s, 0, TEST_T2025, NULL, &sc);
    assert_int_equal(sc.verified, SH_E_OK);
    assert_openssl_verifies(&sc);
    const sh_cms_report *r = &sc.report;
    assert_int_equal(sc.cms.digest_nid, NID_sha256);
    assert_true(sc.cms.has_cdhashes && sc.cms.has_cdhashes2);
    assert_true(r->cdhashes_checked && r->cdhashes2_checked && r->signature_verified);
    assert_int_equal(r->leaf_kind, SH_CERT_KIND_DEVELOPER_ID_APPLICATION);
    assert_string_equal(r->leaf.ou, "ZCK58M894E");
    assert_true(r->team_checked && r->apple_developer_chain);
    static const char *const cns[] = {"Developer ID Application: Mayur Pawashe (ZCK58M894E)",
                                      "Developer ID Certification Authority", "Apple Root CA"};
    assert_chain_cns(&r->chain, cns, 3);
    assert_int_equal(r->chain.anchor, SH_ANCHOR_APPLE_ROOT);
    assert_memory_equal(r->chain.certs[1].sha256, SH_APPLE_DEVID_CA_G1_SHA256, 32);
    assert_memory_equal(r->chain.certs[2].sha256, SH_APPLE_ROOT_CA_SHA256, 32);
    /* secure timestamp: verified, chained to Apple, used as the verification time */
    assert_true(r->has_timestamp && r->timestamp_valid);
    assert_string_equal(r->tsa_name, "Timestamp Signer NWK2");
    assert_int_equal(r->tsa_chain.anchor, SH_ANCHOR_APPLE_ROOT);
    assert_int_equal(r->verify_time_source, SH_CMS_TIME_TIMESTAMP);
    assert_int_equal(r->timestamp_time, 1678663721); /* 2023-03-12 23:28:41 */
    assert_int_equal(sh_cms_report_time_kind(r), SH_CMS_TIME_KIND_TIMESTAMP);
    char line[128];
    sh_cms_time_line(r, line, sizeof line);
    assert_string_equal(line, "Timestamp=Mar 12, 2023 at 11:28:41 PM");
    assert_false(r->expired || r->expired_at_now);
    sh_cms_free(&sc.cms);
    /* Long after the leaf expired (2026) the timestamp still carries it. */
    check_slice(&s, 0, TEST_T2030, NULL, &sc);
    assert_int_equal(sc.verified, SH_E_OK);
    assert_true(sc.report.expired_at_now);
    assert_false(sc.report.expired);
    sh_cms_free(&sc.cms);
    free_sample(&s);
}

static void real_appinfo_apple_development_no_timestamp(void **state)
{
    (void)state;
    sample s;
    load_sample("appinfo_GuiApp_universal", &s);
    assert_int_equal(s.macho.nslices, 2);
    for (uint32_t i = 0; i < 2; i++) {
        slice_cms sc;
        check_slice(&s, i, TEST_T2025, NULL, &sc);
        assert_int_equal(sc.verified, SH_E_OK);
        assert_openssl_verifies(&sc);
        const sh_cms_report *r = &sc.report;
        assert_int_equal(r->leaf_kind, SH_CERT_KIND_APPLE_DEVELOPMENT);
        assert_string_equal(r->leaf.cn, "Apple Development: Shen Wang (499ZF9BZZC)");
        assert_string_equal(r->leaf.ou, "72LA85G59H");
        assert_true(r->team_checked);
        assert_true(r->cdhashes_checked && r->cdhashes2_checked);
        assert_false(r->has_timestamp);
        assert_int_equal(sh_cms_report_time_kind(r), SH_CMS_TIME_KIND_SIGNED_TIME);
        char line[128];
        sh_cms_time_line(r, line, sizeof line);
        assert_string_equal(line, "Signed Time=Aug 9, 2021 at 11:04:04 AM");
        assert_int_equal(r->verify_time_source, SH_CMS_TIME_SIGNING_TIME);
        assert_int_equal(r->chain.anchor, SH_ANCHOR_APPLE_ROOT);
        assert_string_equal(r->chain.certs[1].cn,
                            "Apple Worldwide Developer Relations Certification Authority");
        assert_true(r->expired_at_now); /* the leaf ran out in 2022 */
        sh_cms_free(&sc.cms);
    }
    free_sample(&s);
}

static void real_santa_apple_development(void **state)
{
    (void)state;
    sample s;
    load_sample("santa_cert_hash_allowed_signingid_blocked_universal", &s);
    for (uint32_t i = 0; i < s.macho.nslices; i++) {
        slice_cms sc;
        check_slice(&s, i, TEST_T2025, NULL, &sc);
        assert_int_equal(sc.verified, SH_E_OK);
        assert_openssl_verifies(&sc);
        assert_int_equal(sc.report.leaf_kind, SH_CERT_KIND_APPLE_DEVELOPMENT);
        assert_string_equal(sc.report.leaf.ou, "EQHXZ8M8AV");
        assert_true(sc.report.team_checked);
        assert_true(sc.report.cdhashes_checked && sc.report.cdhashes2_checked);
        assert_int_equal(sc.report.chain.anchor, SH_ANCHOR_APPLE_ROOT);
        sh_cms_free(&sc.cms);
    }
    free_sample(&s);
}

/* iPhone Developer (1.2 only), SHA-256 CMS digest over a SHA-1 CodeDirectory, no Apple
 * attributes; and the same with a SHA-1 CMS digest (runloop). */
static void real_iphone_developer_sha1_cds(void **state)
{
    (void)state;
    static const struct {
        const char *file, *team;
        int digest;
    } cases[] = {{"isign_isignTestApp_armv7_arm64", "L37S4Z6BE9", NID_sha256},
                 {"runloop_CalSmoke-cal_armv7_arm64_sha1cms", "7S6YLL52WH", NID_sha1}};
    for (size_t k = 0; k < 2; k++) {
        sample s;
        load_sample(cases[k].file, &s);
        for (uint32_t i = 0; i < s.macho.nslices; i++) {
            slice_cms sc;
            check_slice(&s, i, TEST_T2025, NULL, &sc);
            assert_int_equal(sc.verified, SH_E_OK);
            assert_openssl_verifies(&sc);
            assert_int_equal(sc.sig.cds[0].hash_type, SH_HASH_SHA1);
            assert_int_equal(sc.cms.digest_nid, cases[k].digest);
            assert_false(sc.cms.has_cdhashes || sc.cms.has_cdhashes2);
            assert_false(sc.report.cdhashes_checked || sc.report.cdhashes2_checked);
            assert_int_equal(sc.report.leaf_kind, SH_CERT_KIND_APPLE_DEVELOPMENT);
            assert_string_equal(sc.report.leaf.ou, cases[k].team);
            assert_int_equal(sc.report.chain.anchor, SH_ANCHOR_APPLE_ROOT);
            assert_int_equal(sc.report.chain.length, 3);
            sh_cms_free(&sc.cms);
        }
        free_sample(&s);
    }
}

static void real_fastlane_self_signed_is_untrusted(void **state)
{
    (void)state;
    sample s;
    load_sample("fastlane_very_capable_app_selfsigned", &s);
    slice_cms sc;
    check_slice(&s, 0, TEST_T2025, NULL, &sc);
    assert_int_equal(sc.verified, SH_E_CMS_CHAIN_UNTRUSTED);
    assert_int_equal(sh_err_errsec(sc.verified), errSecCSSignatureUntrusted);
    assert_int_equal(sc.report.failed_stage, SH_CMS_STAGE_CHAIN);
    assert_int_equal(sc.err.value, X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT);
    assert_openssl_verifies(&sc);
    assert_true(sc.report.signature_verified);
    /* CDHashes plist with two entries (SHA-1 then SHA-256 CD), no CDHashes2: both checks ran */
    assert_int_equal(sc.cms.ncdhashes, 2);
    assert_false(sc.cms.has_cdhashes2);
    assert_true(sc.report.cdhashes_checked);
    assert_string_equal(sc.report.leaf.cn, "TestFixture");
    assert_int_equal(sc.report.leaf_kind, SH_CERT_KIND_OTHER);
    assert_int_equal(sc.report.chain.anchor, SH_ANCHOR_NONE);
    /* Trusted when the caller names it: then it is a non-Apple chain, no team check. */
    X509 *fixture = sk_X509_value(sc.cms.certs, sc.cms.signer_cert);
    X509_up_ref(fixture);
    sh_cms_free(&sc.cms);
    sh_trust trust = {.anchor_x509 = &fixture, .n_anchor_x509 = 1};
    check_slice(&s, 0, TEST_T2025, &trust, &sc);
    assert_int_equal(sc.verified, SH_E_OK);
    assert_int_equal(sc.report.chain.anchor, SH_ANCHOR_CALLER);
    assert_false(sc.report.team_checked);
    sh_cms_free(&sc.cms);
    X509_free(fixture);
    free_sample(&s);
}

/* The CMS signs one exact CodeDirectory: another one fails the messageDigest check. */
static void real_signature_over_other_code_fails(void **state)
{
    (void)state;
    sample sparkle, santa;
    load_sample("sparkle_DevSignedApp_SignedApp", &sparkle);
    load_sample("santa_cert_hash_allowed_signingid_blocked_universal", &santa);
    slice_cms a, b;
    check_slice(&sparkle, 0, TEST_T2025, NULL, &a);
    check_slice(&santa, 0, TEST_T2025, NULL, &b);
    sh_cms_report report;
    sh_error err;
    assert_int_equal(sh_cms_verify(&a.cms, &b.code, &(sh_cms_options){.now = TEST_T2025}, &report,
                                   &err),
                     SH_E_CMS_DIGEST_MISMATCH);
    assert_int_equal(report.failed_stage, SH_CMS_STAGE_SIGNATURE);
    assert_int_equal(sh_err_errsec(err.code), errSecCSSignatureFailed);
    sh_cms_free(&a.cms);
    sh_cms_free(&b.cms);
    free_sample(&sparkle);
    free_sample(&santa);
}

/* Security: when the signature chains to Apple, the timestamp must too.  The real sparkle
 * signature with its token replaced by one from the test TSA (unsigned attributes are not
 * covered by the signature, so the signer still verifies). */
static void real_signature_with_foreign_timestamp(void **state)
{
    (void)state;
    sample s;
    load_sample("sparkle_DevSignedApp_SignedApp", &s);
    slice_cms sc;
    check_slice(&s, 0, TEST_T2025, NULL, &sc);
    CMS_SignerInfo *si = sc.cms.signer;
    ASN1_OCTET_STRING *sig = CMS_SignerInfo_get0_signature(si);
    sig_buf token = test_timestamp_token(pki.tsa, pki.tsa_key, pki.tsa_chain, 1,
                                         ASN1_STRING_get0_data(sig),
                                         (size_t)ASN1_STRING_length(sig), 1678663721);
    test_cms_set_timestamp(si, &token);
    sig_buf der = test_cms_der(sc.cms.ci);
    sh_cms_free(&sc.cms);
    sh_cms cms;
    sh_error err;
    sh_cursor c = sh_cursor_make(der.data, der.len);
    assert_int_equal(sh_cms_parse(&c, &cms, &err), SH_E_OK);
    sh_cms_options opt = {.now = TEST_T2025, .trust = {.anchor_x509 = &pki.root, .n_anchor_x509 = 1}};
    sh_cms_report report;
    assert_int_equal(sh_cms_verify(&cms, &sc.code, &opt, &report, &err), SH_E_TS_NOT_APPLE);
    assert_true(report.timestamp_valid);
    assert_int_equal(report.tsa_chain.anchor, SH_ANCHOR_CALLER);
    assert_int_equal(report.chain.anchor, SH_ANCHOR_APPLE_ROOT);
    /* Without the test root the token itself is untrusted. */
    opt.trust = (sh_trust){0};
    assert_int_equal(sh_cms_verify(&cms, &sc.code, &opt, &report, &err), SH_E_TS_UNTRUSTED);
    assert_int_equal(report.failed_stage, SH_CMS_STAGE_TIMESTAMP);
    sh_cms_free(&cms);
    sig_buf_free(&der);
    sig_buf_free(&token);
    free_sample(&s);
}

/* The signer's certificate, the pinned Apple root among the CMS certificates, and a new stack
 * (not owning them) of every other one. */
static STACK_OF(X509) *chain_parts(const sh_cms *cms, X509 **leaf, X509 **root)
{
    *leaf = *root = NULL;
    STACK_OF(X509) *pool = sk_X509_new_null();
    assert_non_null(pool);
    for (uint32_t i = 0; i < cms->ncerts; i++) {
        X509 *cert = sk_X509_value(cms->certs, (int)i);
        if (sh_cert_is_apple_root(cert))
            *root = cert;
        else
            sk_X509_push(pool, cert);
        if ((int32_t)i == cms->signer_cert)
            *leaf = cert;
    }
    return pool;
}

/* A signature that lacks Apple Root CA: no anchor (nothing in it is pinned) until the caller
 * supplies the root, which is then recognised as Apple's by its fingerprint. */
static void real_chain_without_root_in_signature(void **state)
{
    (void)state;
    sample s;
    load_sample("sparkle_DevSignedApp_SignedApp", &s);
    slice_cms sc;
    check_slice(&s, 0, TEST_T2025, NULL, &sc);
    X509 *leaf, *root;
    STACK_OF(X509) *pool = chain_parts(&sc.cms, &leaf, &root);
    assert_non_null(leaf);
    assert_non_null(root);
    assert_int_equal(sk_X509_num(pool), 2);
    sh_anchor_set anchors = {0};
    sh_chain chain;
    sh_error err;
    assert_int_equal(sh_anchor_set_init(&anchors, pool, NULL, NULL, 0, &err), SH_E_OK);
    assert_int_equal(sh_chain_verify(leaf, pool, &anchors, SH_CHAIN_CODE_SIGNING, 1678663721,
                                     true, 0, &chain, &err),
                     SH_E_CMS_CHAIN_UNTRUSTED);
    assert_int_equal(err.value, X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY);
    assert_int_equal(chain.length, 2);
    sh_anchor_set_free(&anchors);
    sh_trust trust = {.anchor_x509 = &root, .n_anchor_x509 = 1};
    assert_int_equal(sh_anchor_set_init(&anchors, pool, &trust, NULL, 0, &err), SH_E_OK);
    assert_int_equal(sh_chain_verify(leaf, pool, &anchors, SH_CHAIN_CODE_SIGNING, 1678663721,
                                     true, 0, &chain, &err),
                     SH_E_OK);
    assert_int_equal(chain.anchor, SH_ANCHOR_APPLE_ROOT);
    assert_int_equal(chain.length, 3);
    sh_anchor_set_free(&anchors);
    sk_X509_free(pool);
    sh_cms_free(&sc.cms);
    free_sample(&s);
}

/* One chain verification with and without the memo, and again from the memo with another error
 * offset: the same result, chain report and error (its offset the caller's). */
static void assert_chain_memo_agrees(X509 *leaf, STACK_OF(X509) *pool, const sh_trust *trust,
                                     sh_verify_memo *memo, int64_t at, bool check_time)
{
    sh_anchor_set plain = {0}, cached = {0};
    sh_error e0 = {0}, e1 = {0}, e2 = {0};
    sh_chain c0, c1, c2;
    assert_int_equal(sh_anchor_set_init(&plain, pool, trust, NULL, 0, &e0), SH_E_OK);
    assert_int_equal(sh_anchor_set_init(&cached, pool, trust, memo, 0, &e0), SH_E_OK);
    sh_err r0 = sh_chain_verify(leaf, pool, &plain, SH_CHAIN_CODE_SIGNING, at, check_time, 100,
                                &c0, &e0);
    sh_err r1 = sh_chain_verify(leaf, pool, &cached, SH_CHAIN_CODE_SIGNING, at, check_time, 100,
                                &c1, &e1);
    sh_err r2 = sh_chain_verify(leaf, pool, &cached, SH_CHAIN_CODE_SIGNING, at, check_time, 200,
                                &c2, &e2);
    assert_int_equal(r0, r1);
    assert_int_equal(r0, r2);
    assert_memory_equal(&c0, &c1, sizeof c0);
    assert_memory_equal(&c0, &c2, sizeof c0);
    assert_int_equal(e1.code, e0.code);
    assert_int_equal(e2.code, e0.code);
    assert_int_equal(e2.value, e0.value);
    assert_int_equal(e2.index, e0.index);
    assert_int_equal(e1.offset, e0.offset);
    if (r0 != SH_E_OK)
        assert_int_equal(e2.offset, 200);
    sh_anchor_set_free(&plain);
    sh_anchor_set_free(&cached);
}

static void chain_memo_gives_what_verifying_gives(void **state)
{
    (void)state;
    sample s;
    load_sample("sparkle_DevSignedApp_SignedApp", &s);
    slice_cms sc;
    check_slice(&s, 0, TEST_T2025, NULL, &sc);
    X509 *leaf, *root;
    STACK_OF(X509) *pool = chain_parts(&sc.cms, &leaf, &root);
    assert_non_null(root);
    sh_trust trusted = {.anchor_x509 = &root, .n_anchor_x509 = 1};
    sh_verify_memo *memo = sh_verify_memo_new();
    assert_non_null(memo);
    assert_chain_memo_agrees(leaf, pool, NULL, memo, 1678663721, true);      /* untrusted */
    assert_chain_memo_agrees(leaf, pool, &trusted, memo, 1678663721, true);  /* verifies */
    assert_chain_memo_agrees(leaf, pool, &trusted, memo, TEST_T2040, true);  /* expired */
    assert_chain_memo_agrees(leaf, pool, &trusted, memo, TEST_T2040, false); /* dates ignored */
    assert_chain_memo_agrees(leaf, pool, &trusted, memo, TEST_T2020 - 86400 * 400, true);
    sh_verify_memo_free(memo);
    sk_X509_free(pool);
    sh_cms_free(&sc.cms);
    free_sample(&s);
}

/* Ad hoc samples: empty wrapper, ad hoc CD: nothing to verify. */
static void real_adhoc(void **state)
{
    (void)state;
    sample s;
    load_sample("runloop_CalSmoke_sim_i386_x86_64_adhoc", &s);
    sh_cursor data;
    sh_signature sig;
    sh_error err;
    assert_int_equal(sh_macho_signature(&s.macho.slices[0], &data, &err), SH_E_OK);
    assert_int_equal(sh_signature_parse(&data, &sig, &err), SH_E_OK);
    sh_cms cms;
    assert_int_equal(sh_cms_parse_wrapper(&sh_signature_cms(&sig)->blob, &cms, &err), SH_E_OK);
    assert_true(cms.adhoc);
    sh_cms_code code = sh_cms_code_of(&sig);
    sh_cms_report report;
    assert_int_equal(sh_cms_verify(&cms, &code, &(sh_cms_options){0}, &report, &err), SH_E_OK);
    assert_true(report.adhoc);
    sh_cms_free(&cms);
    free_sample(&s);
}

/* ---- generated signatures ---- */

typedef struct gen {
    test_code code;
    sig_buf der;
    sh_cms cms;
    sh_cms_report report;
    sh_error err;
} gen;

static test_cms_spec devid_spec(const test_code *code)
{
    test_cms_spec s = {.signer = pki.devid_leaf, .key = pki.devid_key, .certs = pki.devid_chain,
                       .ncerts = 2, .content = code->blobs[0].data,
                       .content_len = code->blobs[0].len, .signing_time = TEST_T2024};
    return s;
}

static void with_timestamp(test_cms_spec *s, int64_t t)
{
    s->tsa = pki.tsa;
    s->tsa_key = pki.tsa_key;
    s->tsa_certs = pki.tsa_chain;
    s->ntsa_certs = 1;
    s->ts_time = t;
}

/* Builds, parses (must succeed) and verifies with the test root trusted unless untrusted. */
static sh_err run_gen(gen *g, const test_cms_spec *spec, bool trust_root, bool consider_expiration,
                      int64_t now)
{
    g->der = test_cms_build(spec);
    sh_cursor c = sh_cursor_make(g->der.data, g->der.len);
    assert_int_equal(sh_cms_parse(&c, &g->cms, &g->err), SH_E_OK);
    sh_cms_options opt = {.now = now, .consider_expiration = consider_expiration};
    sh_cursor root_der = {0};
    unsigned char *der = NULL;
    int len = i2d_X509(pki.root, &der);
    if (trust_root) {
        root_der = sh_cursor_make(der, (size_t)len);
        opt.trust = (sh_trust){.anchor_der = &root_der, .n_anchor_der = 1};
    }
    sh_cms_code view = test_code_view(&g->code);
    sh_err e = sh_cms_verify(&g->cms, &view, &opt, &g->report, &g->err);
    OPENSSL_free(der);
    return e;
}

static void free_gen(gen *g)
{
    sh_cms_free(&g->cms);
    sig_buf_free(&g->der);
    test_code_free(&g->code);
}

static void gen_developer_id_with_timestamp_ok(void **state)
{
    (void)state;
    gen g;
    test_code_make(&g.code, false, TEST_TEAM, 0);
    char *plist = test_code_plist(&g.code);
    test_cdhash2 v2 = {.nid = NID_sha256, .hash = g.code.cds[0].cdhash, .len = 32};
    test_cms_spec spec = devid_spec(&g.code);
    spec.cdhashes_plist = plist;
    spec.cdhashes2 = &v2;
    spec.ncdhashes2 = 1;
    with_timestamp(&spec, TEST_T2024 + 60);
    assert_int_equal(run_gen(&g, &spec, true, false, TEST_T2025), SH_E_OK);
    const sh_cms_report *r = &g.report;
    assert_true(r->signature_verified && r->cdhashes_checked && r->cdhashes2_checked);
    assert_int_equal(r->leaf_kind, SH_CERT_KIND_DEVELOPER_ID_APPLICATION);
    assert_true(r->apple_developer_chain && r->team_checked);
    assert_int_equal(r->chain.anchor, SH_ANCHOR_CALLER);
    static const char *const cns[] = {"Developer ID Application: Test (ABCDE12345)",
                                      "Developer ID Certification Authority", "Test Root CA"};
    assert_chain_cns(&r->chain, cns, 3);
    assert_true(r->timestamp_valid);
    assert_int_equal(r->timestamp_time, TEST_T2024 + 60);
    assert_string_equal(r->tsa_name, "Test Timestamp Signer");
    assert_int_equal(r->tsa_chain.length, 3);
    assert_int_equal(r->verify_time_source, SH_CMS_TIME_TIMESTAMP);
    assert_int_equal(sh_cms_report_time_kind(r), SH_CMS_TIME_KIND_TIMESTAMP);
    free(plist);
    free_gen(&g);
}

/* Dual-hash: the CMS signs the SHA-1 CD in slot 0; both attributes list both CDs. */
static void gen_dual_hash_ok(void **state)
{
    (void)state;
    gen g;
    test_code_make(&g.code, true, TEST_TEAM, 0);
    char *plist = test_code_plist(&g.code);
    test_cdhash2 v2[] = {{.nid = NID_sha1, .hash = g.code.cds[0].cdhash, .len = 20},
                         {.nid = NID_sha256, .hash = g.code.cds[1].cdhash, .len = 32}};
    test_cms_spec spec = devid_spec(&g.code);
    spec.cdhashes_plist = plist;
    spec.cdhashes2 = v2;
    spec.ncdhashes2 = 2;
    assert_int_equal(run_gen(&g, &spec, true, false, TEST_T2025), SH_E_OK);
    assert_int_equal(g.cms.ncdhashes, 2);
    assert_int_equal(g.cms.ncdhashes2, 2);
    assert_int_equal(sh_cms_report_time_kind(&g.report), SH_CMS_TIME_KIND_SIGNED_TIME);
    free(plist);
    free_gen(&g);
}

static void gen_wrong_code_directory_fails(void **state)
{
    (void)state;
    gen g;
    test_code_make(&g.code, false, TEST_TEAM, 0);
    test_code other;
    test_code_make(&other, false, "OTHERTEAM1", 0);
    test_cms_spec spec = devid_spec(&other); /* signs another CD than the one verified */
    assert_int_equal(run_gen(&g, &spec, true, false, TEST_T2025), SH_E_CMS_DIGEST_MISMATCH);
    assert_int_equal(sh_err_errsec(g.err.code), errSecCSSignatureFailed);
    assert_false(g.report.signature_verified);
    test_code_free(&other);
    free_gen(&g);
}

static void gen_tampered_cdhashes(void **state)
{
    (void)state;
    gen g;
    test_code_make(&g.code, true, TEST_TEAM, 0);
    uint8_t wrong[2][20];
    memcpy(wrong[0], g.code.cds[0].cdhash, 20);
    memcpy(wrong[1], g.code.cds[1].cdhash, 20);
    wrong[1][19] ^= 1;
    char *plist = test_cdhashes_plist((const uint8_t(*)[20])wrong, 2);
    test_cms_spec spec = devid_spec(&g.code);
    spec.cdhashes_plist = plist;
    assert_int_equal(run_gen(&g, &spec, true, false, TEST_T2025), SH_E_CMS_CDHASHES_MISMATCH);
    assert_int_equal(g.err.index, 1);
    assert_int_equal(g.report.failed_stage, SH_CMS_STAGE_CDHASHES);
    assert_true(g.report.signature_verified);
    free_gen(&g);
    free(plist);
    /* one entry for two CDs: count differs */
    test_code_make(&g.code, true, TEST_TEAM, 0);
    plist = test_cdhashes_plist((const uint8_t(*)[20])wrong, 1);
    spec = devid_spec(&g.code);
    spec.cdhashes_plist = plist;
    assert_int_equal(run_gen(&g, &spec, true, false, TEST_T2025), SH_E_CMS_CDHASHES_MISMATCH);
    assert_int_equal(g.err.index, -1);
    free_gen(&g);
    free(plist);
}

/* Security compares CDHashes with cdHashes(), a map keyed by hash type: with the SHA-256 CD in
 * slot 0 and a SHA-1 alternate, the SHA-1 cdhash still comes first. */
static void gen_cdhashes_follow_hash_type_order(void **state)
{
    (void)state;
    gen g;
    test_code_make(&g.code, true, TEST_TEAM, 0);
    char *type_order = test_code_plist(&g.code); /* SHA-1, SHA-256 */
    sh_codedir cd = g.code.cds[0];
    g.code.cds[0] = g.code.cds[1];
    g.code.cds[1] = cd;
    sig_buf blob = g.code.blobs[0];
    g.code.blobs[0] = g.code.blobs[1];
    g.code.blobs[1] = blob;
    test_cms_spec spec = devid_spec(&g.code); /* signs the SHA-256 CD, now in slot 0 */
    spec.cdhashes_plist = type_order;
    assert_int_equal(run_gen(&g, &spec, true, false, TEST_T2025), SH_E_OK);
    free_gen(&g);
    free(type_order);
    /* the list in slot order is refused */
    test_code_make(&g.code, true, TEST_TEAM, 0);
    uint8_t slot_order[2][20];
    memcpy(slot_order[0], g.code.cds[1].cdhash, 20);
    memcpy(slot_order[1], g.code.cds[0].cdhash, 20);
    char *plist = test_cdhashes_plist((const uint8_t(*)[20])slot_order, 2);
    cd = g.code.cds[0];
    g.code.cds[0] = g.code.cds[1];
    g.code.cds[1] = cd;
    blob = g.code.blobs[0];
    g.code.blobs[0] = g.code.blobs[1];
    g.code.blobs[1] = blob;
    spec = devid_spec(&g.code);
    spec.cdhashes_plist = plist;
    assert_int_equal(run_gen(&g, &spec, true, false, TEST_T2025), SH_E_CMS_CDHASHES_MISMATCH);
    assert_int_equal(g.err.index, 0);
    free_gen(&g);
    free(plist);
}

static void gen_tampered_cdhashes2(void **state)
{
    (void)state;
    gen g;
    test_code_make(&g.code, true, TEST_TEAM, 0);
    uint8_t bad[32];
    memcpy(bad, g.code.cds[1].cdhash, 32);
    bad[31] ^= 0x80; /* only the untruncated hash shows it */
    test_cdhash2 v2[] = {{.nid = NID_sha1, .hash = g.code.cds[0].cdhash, .len = 20},
                         {.nid = NID_sha256, .hash = bad, .len = 32}};
    test_cms_spec spec = devid_spec(&g.code);
    spec.cdhashes2 = v2;
    spec.ncdhashes2 = 2;
    assert_int_equal(run_gen(&g, &spec, true, false, TEST_T2025), SH_E_CMS_CDHASHES2_MISMATCH);
    assert_int_equal(g.err.index, 1);
    assert_int_equal(g.report.failed_stage, SH_CMS_STAGE_CDHASHES2);
    free_gen(&g);
    /* a CD stripped from the list */
    test_code_make(&g.code, true, TEST_TEAM, 0);
    v2[1].hash = g.code.cds[1].cdhash;
    spec = devid_spec(&g.code);
    spec.cdhashes2 = v2;
    spec.ncdhashes2 = 1;
    assert_int_equal(run_gen(&g, &spec, true, false, TEST_T2025), SH_E_CMS_CDHASHES2_COUNT);
    free_gen(&g);
    /* the SHA-256 value filed under SHA-384 */
    test_code_make(&g.code, false, TEST_TEAM, 0);
    test_cdhash2 moved = {.nid = NID_sha384, .hash = g.code.cds[0].cdhash, .len = 32};
    spec = devid_spec(&g.code);
    spec.cdhashes2 = &moved;
    spec.ncdhashes2 = 1;
    assert_int_equal(run_gen(&g, &spec, true, false, TEST_T2025), SH_E_CMS_CDHASHES2_MISSING);
    assert_int_equal(g.err.index, 0);
    free_gen(&g);
}

static void gen_self_signed_root_is_not_trusted_by_presence(void **state)
{
    (void)state;
    gen g;
    test_code_make(&g.code, false, TEST_TEAM, 0);
    test_cms_spec spec = devid_spec(&g.code); /* carries the test root */
    assert_int_equal(run_gen(&g, &spec, false, false, TEST_T2025), SH_E_CMS_CHAIN_UNTRUSTED);
    assert_int_equal(g.err.value, X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN);
    assert_int_equal(g.report.chain.anchor, SH_ANCHOR_NONE);
    assert_int_equal(g.report.chain.length, 3);
    assert_false(g.report.team_checked); /* no trusted anchor: not an Apple developer chain */
    free_gen(&g);
    /* without the root in the signature: no issuer for the intermediate */
    test_code_make(&g.code, false, TEST_TEAM, 0);
    spec = devid_spec(&g.code);
    spec.ncerts = 1;
    assert_int_equal(run_gen(&g, &spec, false, false, TEST_T2025), SH_E_CMS_CHAIN_UNTRUSTED);
    assert_int_equal(g.err.value, X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY);
    free_gen(&g);
    /* ... but the root given by the caller is enough */
    test_code_make(&g.code, false, TEST_TEAM, 0);
    spec = devid_spec(&g.code);
    spec.ncerts = 1;
    assert_int_equal(run_gen(&g, &spec, true, false, TEST_T2025), SH_E_OK);
    assert_int_equal(g.report.chain.anchor, SH_ANCHOR_CALLER);
    free_gen(&g);
}

static void gen_team_mismatch(void **state)
{
    (void)state;
    gen g;
    test_code_make(&g.code, false, "ZZZZZ99999", 0);
    test_cms_spec spec = devid_spec(&g.code);
    assert_int_equal(run_gen(&g, &spec, true, false, TEST_T2025), SH_E_CMS_TEAM_MISMATCH);
    assert_int_equal(sh_err_errsec(g.err.code), errSecCSBadTeamIdentifier);
    assert_int_equal(g.report.failed_stage, SH_CMS_STAGE_TEAM);
    free_gen(&g);
    /* Apple Development leaf under the WWDR-like CA: same rule */
    test_code_make(&g.code, false, "ZZZZZ99999", 0);
    X509 *chain[] = {pki.wwdr};
    spec = devid_spec(&g.code);
    spec.signer = pki.dev_leaf;
    spec.key = pki.dev_key;
    spec.certs = chain;
    spec.ncerts = 1;
    assert_int_equal(run_gen(&g, &spec, true, false, TEST_T2025), SH_E_CMS_TEAM_MISMATCH);
    assert_int_equal(g.report.leaf_kind, SH_CERT_KIND_APPLE_DEVELOPMENT);
    free_gen(&g);
    /* no team ID in the CD: nothing to compare */
    test_code_make(&g.code, false, NULL, 0);
    spec = devid_spec(&g.code);
    assert_int_equal(run_gen(&g, &spec, true, false, TEST_T2025), SH_E_OK);
    assert_false(g.report.team_checked);
    free_gen(&g);
    /* team ID that is not UTF-8 */
    test_code_make(&g.code, false, "AB\xff", 0);
    spec = devid_spec(&g.code);
    assert_int_equal(run_gen(&g, &spec, true, false, TEST_T2025), SH_E_CMS_TEAM_INVALID);
    assert_int_equal(sh_err_errsec(g.err.code), errSecCSInvalidTeamIdentifier);
    free_gen(&g);
}

/* A leaf without Apple markers is not an Apple developer certificate: no team rule. */
static void gen_non_apple_leaf_skips_team_check(void **state)
{
    (void)state;
    EVP_PKEY *key = test_key_ec();
    test_cert_spec s = {.cn = "Plain Signer", .ou = "NOTTHETEAM", .issuer = pki.devid_ca,
                        .issuer_key = pki.devid_ca_key, .key = key, .eku = "codeSigning",
                        .serial = 40};
    X509 *leaf = test_cert_make(&s);
    gen g;
    test_code_make(&g.code, false, TEST_TEAM, 0);
    test_cms_spec spec = devid_spec(&g.code);
    spec.signer = leaf;
    spec.key = key;
    assert_int_equal(run_gen(&g, &spec, true, false, TEST_T2025), SH_E_OK);
    assert_int_equal(g.report.leaf_kind, SH_CERT_KIND_OTHER);
    assert_false(g.report.apple_developer_chain || g.report.team_checked);
    free_gen(&g);
    X509_free(leaf);
    EVP_PKEY_free(key);
}

static void gen_leaf_without_code_signing_eku(void **state)
{
    (void)state;
    EVP_PKEY *key = test_key_ec();
    test_cert_spec s = {.cn = "Mail Signer", .ou = TEST_TEAM, .issuer = pki.devid_ca,
                        .issuer_key = pki.devid_ca_key, .key = key, .eku = "emailProtection",
                        .serial = 41};
    X509 *leaf = test_cert_make(&s);
    gen g;
    test_code_make(&g.code, false, TEST_TEAM, 0);
    test_cms_spec spec = devid_spec(&g.code);
    spec.signer = leaf;
    spec.key = key;
    assert_int_equal(run_gen(&g, &spec, true, false, TEST_T2025), SH_E_CMS_LEAF_NOT_CODE_SIGNING);
    free_gen(&g);
    X509_free(leaf);
    EVP_PKEY_free(key);
}

/* ---- expiry and the verification time ---- */

typedef struct expired_leaf {
    EVP_PKEY *key;
    X509 *cert;
} expired_leaf;

/* A Developer ID leaf valid during 2020 only. */
static expired_leaf make_2020_leaf(void)
{
    expired_leaf l = {.key = test_key_ec()};
    test_cert_spec s = {.cn = "Developer ID Application: Test (" TEST_TEAM ")", .ou = TEST_TEAM,
                        .issuer = pki.devid_ca, .issuer_key = pki.devid_ca_key, .key = l.key,
                        .not_before = TEST_T2020, .not_after = TEST_T2021,
                        .markers = {"1.2.840.113635.100.6.1.13"}, .markers_critical = true,
                        .eku = "codeSigning", .serial = 42};
    l.cert = test_cert_make(&s);
    return l;
}

static test_cms_spec expired_spec(const test_code *code, const expired_leaf *l)
{
    test_cms_spec spec = devid_spec(code);
    spec.signer = l->cert;
    spec.key = l->key;
    spec.signing_time = TEST_T2020 + 86400 * 180;
    return spec;
}

static void expired_leaf_without_timestamp(void **state)
{
    (void)state;
    expired_leaf l = make_2020_leaf();
    gen g;
    /* signingTime inside the validity: Security verifies at that (unauthenticated) time */
    test_code_make(&g.code, false, TEST_TEAM, 0);
    test_cms_spec spec = expired_spec(&g.code, &l);
    assert_int_equal(run_gen(&g, &spec, true, false, TEST_T2030), SH_E_OK);
    assert_int_equal(g.report.verify_time_source, SH_CMS_TIME_SIGNING_TIME);
    assert_false(g.report.expired);
    assert_true(g.report.expired_at_now);
    free_gen(&g);
    /* no signingTime: verified at now, expired, tolerated (mValidationExpired) ... */
    test_code_make(&g.code, false, TEST_TEAM, 0);
    spec = expired_spec(&g.code, &l);
    spec.no_signing_time = true;
    assert_int_equal(run_gen(&g, &spec, true, false, TEST_T2030), SH_E_OK);
    assert_false(g.cms.has_signing_time);
    assert_int_equal(g.report.verify_time_source, SH_CMS_TIME_NOW);
    assert_true(g.report.expired);
    assert_int_equal(sh_cms_report_time_kind(&g.report), SH_CMS_TIME_KIND_NONE);
    char line[64] = "x";
    sh_cms_time_line(&g.report, line, sizeof line);
    assert_string_equal(line, "");
    free_gen(&g);
    /* ... unless expiration is considered */
    test_code_make(&g.code, false, TEST_TEAM, 0);
    spec = expired_spec(&g.code, &l);
    spec.no_signing_time = true;
    assert_int_equal(run_gen(&g, &spec, true, true, TEST_T2030), SH_E_CMS_CERT_EXPIRED);
    assert_int_equal(g.report.failed_stage, SH_CMS_STAGE_EXPIRATION);
    free_gen(&g);
    /* ... or the CodeDirectory asks for it (CS_CHECK_EXPIRATION) */
    test_code_make(&g.code, false, TEST_TEAM, 0x400);
    spec = expired_spec(&g.code, &l);
    spec.no_signing_time = true;
    assert_int_equal(run_gen(&g, &spec, true, false, TEST_T2030), SH_E_CMS_CERT_EXPIRED);
    free_gen(&g);
    X509_free(l.cert);
    EVP_PKEY_free(l.key);
}

static void expired_leaf_with_timestamp(void **state)
{
    (void)state;
    expired_leaf l = make_2020_leaf();
    gen g;
    /* timestamped while valid: fine years later */
    test_code_make(&g.code, false, TEST_TEAM, 0);
    test_cms_spec spec = expired_spec(&g.code, &l);
    with_timestamp(&spec, TEST_T2020 + 86400 * 181);
    assert_int_equal(run_gen(&g, &spec, true, true, TEST_T2030), SH_E_OK);
    assert_int_equal(g.report.verify_time_source, SH_CMS_TIME_TIMESTAMP);
    assert_false(g.report.expired);
    free_gen(&g);
    /* timestamped after expiry: fatal, no tolerance with a secure timestamp */
    test_code_make(&g.code, false, TEST_TEAM, 0);
    spec = expired_spec(&g.code, &l);
    with_timestamp(&spec, TEST_T2022);
    assert_int_equal(run_gen(&g, &spec, true, false, TEST_T2030), SH_E_CMS_CERT_EXPIRED);
    assert_int_equal(g.report.failed_stage, SH_CMS_STAGE_CHAIN);
    assert_int_equal(g.err.value, X509_V_ERR_CERT_HAS_EXPIRED);
    free_gen(&g);
    X509_free(l.cert);
    EVP_PKEY_free(l.key);
}

static void timestamp_over_wrong_imprint(void **state)
{
    (void)state;
    gen g;
    test_code_make(&g.code, false, TEST_TEAM, 0);
    test_cms_spec spec = devid_spec(&g.code);
    with_timestamp(&spec, TEST_T2024);
    spec.ts_wrong_imprint = true;
    assert_int_equal(run_gen(&g, &spec, true, false, TEST_T2025), SH_E_TS_IMPRINT_MISMATCH);
    assert_int_equal(g.report.failed_stage, SH_CMS_STAGE_TIMESTAMP);
    assert_true(g.report.has_timestamp);
    assert_false(g.report.timestamp_valid);
    assert_int_equal(sh_cms_report_time_kind(&g.report), SH_CMS_TIME_KIND_SIGNED_TIME);
    free_gen(&g);
}

/* A TSA certificate from an unrelated root: the token is not trusted. */
static void timestamp_from_untrusted_tsa(void **state)
{
    (void)state;
    EVP_PKEY *key = test_key_ec();
    test_cert_spec s = {.cn = "Rogue Timestamp Signer", .issuer = pki.other_root,
                        .issuer_key = pki.other_root_key, .key = key,
                        .eku = "critical,timeStamping", .serial = 43};
    X509 *rogue = test_cert_make(&s);
    gen g;
    test_code_make(&g.code, false, TEST_TEAM, 0);
    test_cms_spec spec = devid_spec(&g.code);
    with_timestamp(&spec, TEST_T2024);
    spec.tsa = rogue;
    spec.tsa_key = key;
    spec.tsa_certs = &pki.other_root;
    assert_int_equal(run_gen(&g, &spec, true, false, TEST_T2025), SH_E_TS_UNTRUSTED);
    assert_int_equal(g.err.value, X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN);
    free_gen(&g);
    X509_free(rogue);
    EVP_PKEY_free(key);
}

/* RFC 5652 without signed attributes: the signature covers the CodeDirectory itself. */
static void gen_signature_without_attributes(void **state)
{
    (void)state;
    gen g;
    test_code_make(&g.code, false, TEST_TEAM, 0);
    test_cms_spec spec = devid_spec(&g.code);
    spec.no_attributes = true;
    assert_int_equal(run_gen(&g, &spec, true, false, TEST_T2025), SH_E_OK);
    assert_int_equal(g.cms.n_signed_attrs, 0);
    assert_true(g.report.signature_verified);
    free_gen(&g);
    test_code_make(&g.code, false, TEST_TEAM, 0);
    test_code other;
    test_code_make(&other, false, "OTHERTEAM1", 0);
    spec = devid_spec(&other);
    spec.no_attributes = true;
    assert_int_equal(run_gen(&g, &spec, true, false, TEST_T2025), SH_E_CMS_SIGNATURE_INVALID);
    test_code_free(&other);
    free_gen(&g);
}

/* Security skips the CMS of ad hoc code; a missing CMS on signed code is "unsigned". */
static void gen_adhoc_and_missing(void **state)
{
    (void)state;
    test_code code;
    test_code_make(&code, false, NULL, 0x2);
    sh_cms cms;
    sh_error err;
    sh_cursor empty = sh_cursor_make(NULL, 0);
    assert_int_equal(sh_cms_parse(&empty, &cms, &err), SH_E_OK);
    sh_cms_code view = test_code_view(&code);
    sh_cms_report report;
    assert_int_equal(sh_cms_verify(&cms, &view, &(sh_cms_options){0}, &report, &err), SH_E_OK);
    assert_true(report.adhoc);
    test_code_free(&code);
    test_code_make(&code, false, TEST_TEAM, 0);
    view = test_code_view(&code);
    assert_int_equal(sh_cms_verify(&cms, &view, &(sh_cms_options){0}, &report, &err),
                     SH_E_CMS_MISSING);
    assert_int_equal(sh_err_errsec(err.code), errSecCSUnsigned);
    sh_cms_free(&cms);
    test_code_free(&code);
}

static void classify_kinds(void **state)
{
    (void)state;
    sh_cert_facts leaf = {0}, issuer = {0};
    assert_int_equal(sh_cert_classify(&leaf, NULL), SH_CERT_KIND_OTHER);
    issuer.apple_ca_markers = 1u << SH_APPLE_CA_WWDR;
    assert_int_equal(sh_cert_classify(&leaf, &issuer), SH_CERT_KIND_APPLE_DEVELOPMENT);
    leaf.apple_leaf_markers = (1u << 7) | (1u << 4);
    assert_int_equal(sh_cert_classify(&leaf, NULL), SH_CERT_KIND_APPLE_DISTRIBUTION);
    leaf.apple_leaf_markers = 1u << 9;
    assert_int_equal(sh_cert_classify(&leaf, NULL), SH_CERT_KIND_MAC_APP_STORE);
    leaf.apple_leaf_markers = 1u << 1;
    assert_int_equal(sh_cert_classify(&leaf, NULL), SH_CERT_KIND_APPLE_PLATFORM);
    leaf.apple_leaf_markers = 1u << 14;
    assert_int_equal(sh_cert_classify(&leaf, NULL), SH_CERT_KIND_DEVELOPER_ID_INSTALLER);
    leaf.apple_leaf_markers = (1u << 13) | (1u << 2);
    assert_int_equal(sh_cert_classify(&leaf, NULL), SH_CERT_KIND_DEVELOPER_ID_APPLICATION);
    /* Developer ID needs the 2.6 intermediate to count as an Apple developer chain */
    leaf.apple_leaf_markers = 1u << 13;
    assert_false(sh_cert_is_apple_developer(&leaf, NULL));
    issuer.apple_ca_markers = 1u << SH_APPLE_CA_DEVELOPER_ID;
    assert_true(sh_cert_is_apple_developer(&leaf, &issuer));
    assert_string_equal(sh_cert_kind_name(SH_CERT_KIND_APPLE_DEVELOPMENT), "Apple Development");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(real_sparkle_developer_id_with_timestamp),
        cmocka_unit_test(real_appinfo_apple_development_no_timestamp),
        cmocka_unit_test(real_santa_apple_development),
        cmocka_unit_test(real_iphone_developer_sha1_cds),
        cmocka_unit_test(real_fastlane_self_signed_is_untrusted),
        cmocka_unit_test(real_signature_over_other_code_fails),
        cmocka_unit_test(real_signature_with_foreign_timestamp),
        cmocka_unit_test(real_chain_without_root_in_signature),
        cmocka_unit_test(chain_memo_gives_what_verifying_gives),
        cmocka_unit_test(real_adhoc),
        cmocka_unit_test(gen_developer_id_with_timestamp_ok),
        cmocka_unit_test(gen_dual_hash_ok),
        cmocka_unit_test(gen_wrong_code_directory_fails),
        cmocka_unit_test(gen_tampered_cdhashes),
        cmocka_unit_test(gen_cdhashes_follow_hash_type_order),
        cmocka_unit_test(gen_tampered_cdhashes2),
        cmocka_unit_test(gen_self_signed_root_is_not_trusted_by_presence),
        cmocka_unit_test(gen_team_mismatch),
        cmocka_unit_test(gen_non_apple_leaf_skips_team_check),
        cmocka_unit_test(gen_leaf_without_code_signing_eku),
        cmocka_unit_test(expired_leaf_without_timestamp),
        cmocka_unit_test(expired_leaf_with_timestamp),
        cmocka_unit_test(timestamp_over_wrong_imprint),
        cmocka_unit_test(timestamp_from_untrusted_tsa),
        cmocka_unit_test(gen_signature_without_attributes),
        cmocka_unit_test(gen_adhoc_and_missing),
        cmocka_unit_test(classify_kinds),
    };
    return cmocka_run_group_tests(tests, setup_pki, teardown_pki);
}
