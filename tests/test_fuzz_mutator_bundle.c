/* The re-signing bundle actions of the structure-aware mutator and their generators
 * (mutators/fuzz_mutator_rebuild.c, _profile.c, _reqgen.c, _plistgen.c): every generated
 * requirement compiles, every generated entitlements dict signs, and on a real signed app +
 * extension the rebuilt or profile-edited bundle still verifies up to the check the change is
 * aimed at (no hash, seal or CMS failure), while those checks do fire. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bundle.h"
#include "fixture_build.h"
#include "fixture_spec.h"
#include "fuzz_mutator_internal.h"
#include "macho_synth.h"
#include "mutation.h"
#include "plist_guard.h"
#include "pki_keyring.h"
#include "profile.h"
#include "readfile.h"
#include "requirement.h"
#include "signer.h"
#include "verdict.h"

#define UDID "00008103-001A2B3C4D5E6F70" /* SH_FX_DEVICE_UDID */

typedef struct fixture {
    sh_pki_keyring keys;
    sh_fm_signers signers;
    sh_fm_config config;
    uint8_t *packed; /* a Developer ID content-filter app + extension, signed */
    size_t packed_len;
    uint8_t *other; /* another product of the builtin spec (packet tunnel), for crossover */
    size_t other_len;
    uint8_t *root_der;
    size_t root_der_len;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    char why[SH_PKI_WHY_MAX];
    if (!f || !sh_pki_keyring_load(&f->keys, NULL, why, sizeof why)) {
        fprintf(stderr, "setup: %s\n", f ? why : "no memory");
        free(f);
        return -1;
    }
    f->signers.keys = &f->keys;
    f->signers.tsa = &f->keys.tsa;
    sh_fm_config_init(&f->config);
    f->config.signers = &f->signers;
    sh_fx_spec spec;
    sh_error err = {0};
    if (sh_fx_spec_parse((const uint8_t *)sh_fx_builtin_spec, strlen(sh_fx_builtin_spec), NULL,
                         &spec, &err) != SH_E_OK)
        return -1;
    sh_fx_built built, other;
    bool ok = sh_fx_build(&spec.bundles[0], NULL, NULL, &built, why, sizeof why);
    if (ok && !sh_fx_build(&spec.bundles[2], NULL, NULL, &other, why, sizeof why)) {
        sh_fx_built_free(&built);
        ok = false;
    }
    sh_fx_spec_free(&spec);
    if (!ok)
        return -1;
    ok = sh_bundle_pack(&built.bundle, &f->packed, &f->packed_len, &err) == SH_E_OK &&
         sh_bundle_pack(&other.bundle, &f->other, &f->other_len, &err) == SH_E_OK;
    sh_fx_built_free(&built);
    sh_fx_built_free(&other);
    char path[4096];
    const char *read_why;
    snprintf(path, sizeof path, "%s/root.cert.der", sh_pki_default_dir());
    if (!ok || sh_read_file(path, &f->root_der, &f->root_der_len, &read_why) != SH_E_OK)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    sh_pki_keyring_free(&f->keys);
    sh_free(NULL, f->packed);
    sh_free(NULL, f->other);
    free(f->root_der);
    free(f);
    return 0;
}

/* Every requirement text generated compiles to a requirement set, with and without a leaf. */
static void requirement_texts_compile(void **state)
{
    (void)state;
    const sh_fm_req_facts facts[] = {
        {"com.sigharness.contentfilter.extension", "SHTEAM0001",
         "Developer ID Application: Sigharness Test One (SHTEAM0001)"},
        {"a", "", ""},
        {"odd\"id", NULL, NULL},
    };
    char text[1536];
    unsigned distinct_ops = 0;
    bool seen[8] = {false};
    for (uint64_t seed = 0; seed < 600; seed++) {
        sh_fm_rng rng = {seed};
        const sh_fm_req_facts *fa = &facts[seed % 3];
        assert_true(sh_fm_requirement_text(&rng, fa, text, sizeof text));
        uint8_t *blob = NULL;
        size_t len = 0;
        sh_error err;
        sh_req_diag diag = {0};
        sh_err e = sh_req_compile(text, strlen(text), SH_REQ_PARSE_SET, NULL, &blob, &len, &diag,
                                  &err);
        if (e != SH_E_OK)
            fprintf(stderr, "does not compile: %s\n  %s\n", text, diag.message);
        assert_int_equal(e, SH_E_OK);
        sh_free(NULL, blob);
        static const char *const words[] = {"entitlement[", "cdhash", "trusted", "info[",
                                            "platform", "notarized", "subject.OU", " or "};
        for (unsigned i = 0; i < 8; i++)
            if (!seen[i] && strstr(text, words[i]))
                seen[i] = true, distinct_ops++;
    }
    assert_int_equal(distinct_ops, 8);
    sh_fm_rng rng = {1};
    assert_false(sh_fm_requirement_text(&rng, &facts[0], text, 8)); /* does not fit */
}

/* Every generated entitlements dict is an XML plist the signer accepts (DER-encodable). */
static void entitlement_dicts_sign(void **state)
{
    (void)state;
    sh_synth_spec spec;
    sh_synth_spec_init(&spec, SH_SYNTH_ARM64, "com.example.entitled");
    sh_bytebuf macho;
    sh_bytebuf_init(&macho, NULL);
    sh_write_error werr = {0};
    assert_int_equal(sh_synth_thin(&spec, &macho, NULL, &werr), SH_W_OK);
    for (uint64_t seed = 0; seed < 80; seed++) {
        sh_fm_rng rng = {seed};
        plist_t d = sh_fm_entitlements_dict(&rng, "SHTEAM0001", "com.example.entitled");
        if (seed % 2)
            sh_fm_entitlements_edit(d, &rng, "SHTEAM0001", "com.example.entitled");
        /* libplist's XML, and other writers' styles (codesign embeds the text as given) */
        sh_bytebuf text;
        sh_bytebuf_init(&text, NULL);
        char *xml = NULL;
        uint32_t len = 0;
        plist_to_xml(d, &xml, &len);
        assert_non_null(xml);
        if (seed % 3 == 0) {
            assert_true(sh_fm_plist_text(d, &rng, false, &text));
            plist_to_xml_free(xml);
            xml = NULL;
        } else {
            assert_true(sh_bytebuf_append(&text, xml, len));
        }
        plist_free(d);
        sh_sign_options o;
        sh_sign_options_init(&o, "com.example.entitled");
        o.entitlements = text.data;
        o.entitlements_len = text.len;
        o.force = true; /* the synthesised file is linker-signed */
        sh_bytebuf out;
        sh_bytebuf_init(&out, NULL);
        sh_sign_result r;
        sh_sign_status st = sh_sign_macho(macho.data, macho.len, &o, &out, &r);
        if (st != SH_SIGN_OK)
            fprintf(stderr, "%s\n%.*s\n", r.message, (int)text.len, (const char *)text.data);
        assert_int_equal(st, SH_SIGN_OK);
        sh_bytebuf_free(&out);
        sh_bytebuf_free(&text);
        if (xml)
            plist_to_xml_free(xml);
    }
    sh_bytebuf_free(&macho);
}

/* Every style of plist text parses back (through the guard) to the same values; sloppy texts
 * are sometimes refused, never misread. */
static void plist_styles_round_trip(void **state)
{
    (void)state;
    plist_t d = plist_new_dict(), a = plist_new_array();
    plist_dict_set_item(d, "CFBundleIdentifier", plist_new_string("com.example.a&b<c>\"'"));
    plist_dict_set_item(d, "Empty", plist_new_string(""));
    plist_dict_set_item(d, "Flag", plist_new_bool(1));
    plist_dict_set_item(d, "Off", plist_new_bool(0));
    plist_dict_set_item(d, "Count", plist_new_uint(4096));
    plist_dict_set_item(d, "Ratio", plist_new_real(0.5));
    plist_dict_set_item(d, "When", plist_new_date(739000000, 0));
    static const char blob[] = "\x00\x01\x02\xff sigharness data blob";
    plist_dict_set_item(d, "Blob", plist_new_data(blob, sizeof blob - 1));
    plist_array_append_item(a, plist_new_string("x"));
    plist_array_append_item(a, plist_new_dict());
    plist_array_append_item(a, plist_new_array());
    plist_dict_set_item(d, "List", a);
    char *want = NULL;
    uint32_t want_len = 0;
    plist_to_xml(d, &want, &want_len);
    unsigned refused = 0, binary = 0;
    for (uint64_t seed = 0; seed < 200; seed++) {
        sh_fm_rng rng = {seed};
        bool sloppy = seed % 4 == 3;
        sh_bytebuf text;
        sh_bytebuf_init(&text, NULL);
        assert_true(sh_fm_plist_text(d, &rng, sloppy, &text));
        sh_bytebuf again;
        sh_bytebuf_init(&again, NULL);
        bool restyled = sh_fm_plist_restyle((const uint8_t *)want, want_len, NULL, &rng, false,
                                            &again);
        assert_true(restyled);
        binary += again.len > 8 && memcmp(again.data, "bplist00", 8) == 0;
        const sh_bytebuf *texts[] = {&text, &again};
        for (unsigned k = 0; k < 2; k++) {
            sh_cursor c = sh_cursor_make(texts[k]->data, texts[k]->len);
            plist_t back = NULL;
            sh_error err;
            if (sh_plist_parse(&c, NULL, &back, NULL, &err) != SH_E_OK) {
                if (!(sloppy && k == 0))
                    fail_msg("seed %llu: %.*s", (unsigned long long)seed, (int)texts[k]->len,
                             (const char *)texts[k]->data);
                refused++;
                continue;
            }
            char *got = NULL;
            uint32_t got_len = 0;
            plist_to_xml(back, &got, &got_len);
            plist_free(back);
            if (!(sloppy && k == 0)) { /* sloppy texts may read a duplicated key's value */
                assert_int_equal(got_len, want_len);
                assert_memory_equal(got, want, want_len);
            }
            plist_to_xml_free(got);
        }
        sh_bytebuf_free(&text);
        sh_bytebuf_free(&again);
    }
    plist_to_xml_free(want);
    plist_free(d);
    assert_true(refused >= 3);
    assert_true(binary >= 10);
}

/* Damaged plists: the guard refuses some and accepts others (unusual but valid forms such as
 * nan reals or character references); XML and binary both get damaged. */
static void plist_damage_is_judged(void **state)
{
    (void)state;
    plist_t d = plist_new_dict();
    plist_dict_set_item(d, "CFBundleIdentifier", plist_new_string("com.example.app"));
    plist_dict_set_item(d, "Count", plist_new_uint(3));
    plist_dict_set_item(d, "List", plist_new_array());
    char *xml = NULL;
    uint32_t xml_len = 0;
    plist_to_xml(d, &xml, &xml_len);
    unsigned refused = 0, accepted = 0, binary = 0;
    for (uint64_t seed = 0; seed < 300; seed++) {
        sh_fm_rng rng = {seed};
        sh_bytebuf text;
        sh_bytebuf_init(&text, NULL);
        assert_true(sh_fm_plist_restyle((const uint8_t *)xml, xml_len, NULL, &rng, false, &text));
        binary += memcmp(text.data, "bplist00", 8) == 0;
        if (sh_fm_plist_damage(&text, &rng)) {
            sh_cursor c = sh_cursor_make(text.data, text.len);
            plist_t back = NULL;
            sh_error err;
            if (sh_plist_parse(&c, NULL, &back, NULL, &err) == SH_E_OK) {
                accepted++;
                plist_free(back);
            } else {
                refused++;
            }
        }
        sh_bytebuf_free(&text);
    }
    plist_to_xml_free(xml);
    plist_free(d);
    assert_true(binary >= 20);
    assert_true(refused >= 100);
    assert_true(accepted >= 20);
}

static void run_verdict(const fixture *f, const sh_bundle *b, sh_verdict *v)
{
    sh_verdict_options o;
    sh_verdict_options_init(&o);
    o.policy = SH_POLICY_DISTRIBUTION;
    o.now = SH_FX_SIGNING_TIME + 86400;
    o.udid = UDID;
    sh_cursor root = sh_cursor_make(f->root_der, f->root_der_len);
    o.trust.anchor_der = &root;
    o.trust.n_anchor_der = 1;
    o.trusted_root_is_apple = true;
    sh_verdict_run(b, &o, v);
}

/* Hash, seal and signature failures: what a consistent re-signing must not produce (an
 * edited seal may judge a resource differently, but the hashes still hold). */
static bool broken_hashes(const sh_verdict *v, const char *what, char *why, size_t size)
{
    static const sh_rule_id bad[] = {
        SH_RULE_PAGE_HASH_MISMATCH,     SH_RULE_SPECIAL_SLOT_MISMATCH,
        SH_RULE_INFO_PLIST_MODIFIED,    SH_RULE_RESOURCE_ENVELOPE_MODIFIED,
        SH_RULE_SIGNATURE_MALFORMED,    SH_RULE_CMS_SIGNATURE_INVALID,
        SH_RULE_RESOURCE_MODIFIED,      SH_RULE_ENTITLEMENTS_XML_DER_DIFFER,
    };
    for (size_t i = 0; i < v->nfindings; i++)
        for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++)
            if (v->findings[i].rule == bad[k] &&
                !(bad[k] == SH_RULE_RESOURCE_MODIFIED && strncmp(what, "seal.", 5) == 0)) {
                snprintf(why, size, "rule %d on %s: %s", (int)bad[k], v->findings[i].subject,
                         v->findings[i].detail ? v->findings[i].detail : "");
                return true;
            }
    return false;
}

static bool has_rule(const sh_verdict *v, sh_rule_id rule)
{
    return sh_verdict_count(v, rule) > 0;
}

/* The base unpacked afresh, with a mutation context on it that signs with the keyring. */
static void fresh_base(const fixture *f, sh_bundle *b, sh_mut_ctx *ctx)
{
    sh_error err;
    assert_int_equal(sh_bundle_unpack(f->packed, f->packed_len, NULL, b, &err), SH_E_OK);
    sh_mut_ctx_init(ctx, b, SH_FX_SIGNING_TIME, NULL);
    ctx->keys = &f->keys;
}

/* Rebuilds keep every hash and seal consistent; the requirement, identity and entitlement
 * checks behind them do fire. */
static void rebuilds_verify(void **state)
{
    fixture *f = *state;
    unsigned applied = 0, requirements = 0, dr_failed = 0, dr_undecided = 0, team = 0, ents = 0;
    unsigned seals = 0, seal_findings = 0;
    for (uint64_t seed = 0; seed < 80; seed++) {
        sh_bundle b;
        sh_mut_ctx ctx;
        fresh_base(f, &b, &ctx);
        sh_fm_rng rng = {seed};
        const char *what = sh_fm_bundle_rebuild(&f->config, &ctx, &rng);
        if (what) {
            applied++;
            requirements += strcmp(what, "rebuild.requirements") == 0;
            seals += strncmp(what, "seal.", 5) == 0;
            sh_verdict v;
            run_verdict(f, &b, &v);
            char why[512];
            if (broken_hashes(&v, what, why, sizeof why))
                fail_msg("seed %llu (%s): %s", (unsigned long long)seed, what, why);
            seal_findings += strncmp(what, "seal.", 5) == 0 &&
                             (has_rule(&v, SH_RULE_RESOURCE_MISSING) ||
                              has_rule(&v, SH_RULE_RESOURCE_ADDED) ||
                              has_rule(&v, SH_RULE_RESOURCE_MODIFIED) ||
                              has_rule(&v, SH_RULE_NESTED_CODE_MODIFIED) ||
                              has_rule(&v, SH_RULE_NESTED_CODE_UNSEALED));
            dr_failed += has_rule(&v, SH_RULE_DESIGNATED_REQUIREMENT_FAILED);
            dr_undecided += has_rule(&v, SH_RULE_DESIGNATED_REQUIREMENT_UNDECIDED);
            team += has_rule(&v, SH_RULE_TEAM_ID_MISMATCH_APP_EXTENSION) ||
                    has_rule(&v, SH_RULE_PROFILE_CERT_NOT_INCLUDED);
            ents += has_rule(&v, SH_RULE_ENTITLEMENT_NOT_IN_PROFILE) ||
                    has_rule(&v, SH_RULE_NE_VALUE_NEEDS_SYSTEMEXTENSION_SUFFIX);
            sh_verdict_free(&v);
        }
        sh_bundle_free(&b);
    }
    fprintf(stderr, "rebuild: %u applied, %u requirements, DR failed %u undecided %u, "
                    "identity %u, entitlements %u, seals %u (%u with seal findings)\n",
            applied, requirements, dr_failed, dr_undecided, team, ents, seals, seal_findings);
    assert_true(applied >= 60);
    assert_true(requirements >= 5);
    assert_true(dr_failed >= 2);
    assert_true(dr_undecided >= 1);
    assert_true(team >= 2);
    assert_true(ents >= 2);
    assert_true(seals >= 4);
    assert_true(seal_findings >= 1);
}

/* Profile edits: the profile's signature still verifies (it is decoded), the code is re-signed
 * consistently, and the profile checks the edits aim at fire. */
static void profile_edits_verify(void **state)
{
    fixture *f = *state;
    static const sh_rule_id profile_rules[] = {
        SH_RULE_PROFILE_EXPIRED,       SH_RULE_PROFILE_TEAM_MISMATCH,
        SH_RULE_PROFILE_APP_ID_MISMATCH, SH_RULE_PROFILE_PLATFORM_MISMATCH,
        SH_RULE_PROFILE_CERT_NOT_INCLUDED, SH_RULE_ENTITLEMENT_NOT_IN_PROFILE,
        SH_RULE_PROFILE_INVALID,       SH_RULE_PROFILE_KIND_MISMATCH,
    };
    bool fired[sizeof profile_rules / sizeof profile_rules[0]] = {false};
    unsigned applied = 0, distinct = 0;
    for (uint64_t seed = 0; seed < 60; seed++) {
        sh_bundle b;
        sh_mut_ctx ctx;
        fresh_base(f, &b, &ctx);
        sh_fm_rng rng = {seed};
        const char *what = sh_fm_bundle_profile(&f->config, &ctx, &rng);
        if (what && strcmp(what, "profile.swapped_after_signing") != 0) {
            applied++;
            sh_verdict v;
            run_verdict(f, &b, &v);
            char why[512];
            if (broken_hashes(&v, what, why, sizeof why))
                fail_msg("seed %llu (%s): %s", (unsigned long long)seed, what, why);
            for (size_t k = 0; k < sizeof profile_rules / sizeof profile_rules[0]; k++)
                if (!fired[k] && has_rule(&v, profile_rules[k]))
                    fired[k] = true, distinct++;
            sh_verdict_free(&v);
        }
        sh_bundle_free(&b);
    }
    fprintf(stderr, "profile: %u applied, %u distinct profile findings\n", applied, distinct);
    assert_true(applied >= 40);
    assert_true(distinct >= 5);
}

/* CMS remade with a signing mistake: the hashes, seals and nested seal still hold; the CMS,
 * chain and timestamp checks fire, and the control (made again as it was) verifies. */
static void cms_remakes_verify(void **state)
{
    fixture *f = *state;
    static const sh_rule_id page_or_seal[] = {
        SH_RULE_PAGE_HASH_MISMATCH, SH_RULE_SPECIAL_SLOT_MISMATCH, SH_RULE_INFO_PLIST_MODIFIED,
        SH_RULE_RESOURCE_ENVELOPE_MODIFIED, SH_RULE_NESTED_CODE_MODIFIED,
        SH_RULE_SIGNATURE_MALFORMED,
    };
    unsigned applied = 0, cms_findings = 0, controls = 0;
    for (uint64_t seed = 0; seed < 50; seed++) {
        sh_bundle b;
        sh_mut_ctx ctx;
        fresh_base(f, &b, &ctx);
        sh_fm_rng rng = {seed};
        const char *what = sh_fm_bundle_cms(&f->config, &ctx, &rng);
        if (what) {
            applied++;
            sh_verdict v;
            run_verdict(f, &b, &v);
            for (size_t k = 0; k < sizeof page_or_seal / sizeof page_or_seal[0]; k++)
                if (has_rule(&v, page_or_seal[k]))
                    fail_msg("seed %llu (%s): rule %d", (unsigned long long)seed, what,
                             (int)page_or_seal[k]);
            bool cms = has_rule(&v, SH_RULE_CMS_SIGNATURE_INVALID) ||
                       has_rule(&v, SH_RULE_CERT_CHAIN_UNTRUSTED) ||
                       has_rule(&v, SH_RULE_TEAM_ID_MISMATCH_CERT) ||
                       has_rule(&v, SH_RULE_NOTARY_SIGNATURE_INVALID);
            cms_findings += cms;
            if (strcmp(what, "cms.resigned") == 0) {
                controls++;
                assert_false(has_rule(&v, SH_RULE_CMS_SIGNATURE_INVALID));
            }
            sh_verdict_free(&v);
        }
        sh_bundle_free(&b);
    }
    fprintf(stderr, "cms: %u applied, %u with CMS findings, %u controls\n", applied, cms_findings,
            controls);
    assert_true(applied >= 40);
    assert_true(cms_findings >= 15);
    assert_true(controls >= 2);
}

/* Through the dispatch: a share of bundle mutations are rebuilds and profile edits. */
static void dispatch_reaches_new_actions(void **state)
{
    fixture *f = *state;
    sh_fm_config c = f->config;
    c.byte_percent = 0;
    size_t cap = 2 * f->packed_len + 65536;
    uint8_t *buf = malloc(cap);
    assert_non_null(buf);
    unsigned rebuilds = 0, profiles = 0, cms = 0, restyles = 0;
    for (uint64_t seed = 0; seed < 80; seed++) {
        memcpy(buf, f->packed, f->packed_len);
        sh_fm_result r;
        size_t n = sh_fm_mutate(&c, buf, f->packed_len, cap, seed, &r);
        if (r.action != SH_FM_BUNDLE_TREE)
            continue;
        rebuilds += strncmp(r.what, "rebuild.", 8) == 0;
        profiles += strncmp(r.what, "profile.", 8) == 0;
        cms += strncmp(r.what, "cms.", 4) == 0;
        restyles += strcmp(r.what, "bundle.plist_restyle") == 0;
        sh_bundle out;
        sh_error err;
        assert_int_equal(sh_bundle_unpack(buf, n, NULL, &out, &err), SH_E_OK);
        sh_bundle_free(&out);
    }
    free(buf);
    fprintf(stderr, "dispatch: %u rebuilds, %u profile edits, %u CMS remakes, %u restyles\n",
            rebuilds, profiles, cms, restyles);
    assert_true(rebuilds >= 5);
    assert_true(profiles >= 2);
    assert_true(cms >= 1);
    assert_true(restyles >= 3);
}

/* An executable re-signed by the Mach-O mutator inside a bundle seals the bundle's Info.plist
 * and CodeResources as its bundle's signature does: unless the fresh signature was damaged on
 * purpose, every hash and slot check passes. */
static void executable_edits_resign_sealed(void **state)
{
    fixture *f = *state;
    sh_fm_config c = f->config;
    c.byte_percent = 0;
    c.bundle_resign_percent = 0;
    c.resign_percent = 100;
    size_t cap = 2 * f->packed_len + 65536;
    uint8_t *buf = malloc(cap);
    assert_non_null(buf);
    unsigned sealed = 0, damaged = 0, alone = 0;
    for (uint64_t seed = 0; seed < 120; seed++) {
        memcpy(buf, f->packed, f->packed_len);
        sh_fm_result r;
        size_t n = sh_fm_mutate(&c, buf, f->packed_len, cap, seed, &r);
        alone += r.what && strcmp(r.what, "bundle.macho_resign") == 0;
        damaged += r.what && strcmp(r.what, "bundle.macho_resign_sealed_damaged") == 0;
        if (!r.what || strcmp(r.what, "bundle.macho_resign_sealed") != 0)
            continue;
        sealed++;
        sh_bundle b;
        sh_error err;
        assert_int_equal(sh_bundle_unpack(buf, n, NULL, &b, &err), SH_E_OK);
        sh_verdict v;
        run_verdict(f, &b, &v);
        char why[512];
        if (broken_hashes(&v, r.what, why, sizeof why))
            fail_msg("seed %llu: %s", (unsigned long long)seed, why);
        sh_verdict_free(&v);
        sh_bundle_free(&b);
    }
    free(buf);
    fprintf(stderr, "executable re-signings: %u sealed, %u sealed then damaged, %u alone\n",
            sealed, damaged, alone);
    assert_true(sealed >= 5);
    assert_true(alone >= 1); /* the lone-file signing stays, for a share */
}

/* Crossover of two products: the result unpacks; an extension moved in and the app re-signed
 * keeps every hash and the nested seal consistent. */
static void bundle_crossover(void **state)
{
    fixture *f = *state;
    size_t cap = 2 * (f->packed_len + f->other_len) + 65536;
    uint8_t *buf = malloc(cap);
    assert_non_null(buf);
    unsigned extensions = 0, resigned = 0, files = 0, profiles = 0, declined = 0;
    for (uint64_t seed = 0; seed < 40; seed++) {
        sh_fm_result r;
        declined += sh_fm_crossover(&f->config, f->packed, f->packed_len, f->other, f->other_len,
                                    buf, cap, seed, &r) == 0;
    }
    assert_true(declined >= 20 && declined < 40); /* the default share of 30 % is done */
    sh_fm_config c = f->config;
    c.bundle_cross_percent = 100;
    for (uint64_t seed = 0; seed < 40; seed++) {
        sh_fm_result r;
        size_t n = sh_fm_crossover(&c, f->packed, f->packed_len, f->other, f->other_len,
                                   buf, cap, seed, &r);
        assert_int_equal(r.action, SH_FM_BUNDLE_TREE);
        sh_bundle b;
        sh_error err;
        assert_int_equal(sh_bundle_unpack(buf, n, NULL, &b, &err), SH_E_OK);
        extensions += strncmp(r.what, "cross.extension", 15) == 0;
        files += strcmp(r.what, "cross.file") == 0;
        profiles += strcmp(r.what, "cross.profile") == 0;
        if (strcmp(r.what, "cross.extension_resigned") == 0) {
            resigned++;
            sh_verdict v;
            run_verdict(f, &b, &v);
            char why[512];
            if (broken_hashes(&v, r.what, why, sizeof why) ||
                has_rule(&v, SH_RULE_NESTED_CODE_MODIFIED))
                fail_msg("seed %llu: %s", (unsigned long long)seed, why);
            sh_verdict_free(&v);
        }
        sh_bundle_free(&b);
    }
    free(buf);
    assert_true(extensions >= 8);
    assert_true(resigned >= 3);
    assert_true(files >= 3);
    assert_true(profiles >= 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(requirement_texts_compile),
        cmocka_unit_test(entitlement_dicts_sign),
        cmocka_unit_test(plist_styles_round_trip),
        cmocka_unit_test(plist_damage_is_judged),
        cmocka_unit_test(rebuilds_verify),
        cmocka_unit_test(profile_edits_verify),
        cmocka_unit_test(cms_remakes_verify),
        cmocka_unit_test(dispatch_reaches_new_actions),
        cmocka_unit_test(executable_edits_resign_sealed),
        cmocka_unit_test(bundle_crossover),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
