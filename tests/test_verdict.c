/* The verdict engine (harness/verdict*.c) on app + system-extension bundles assembled here from
 * the Mach-O synthesiser, hand-written Info.plists and the bundle signer with the test PKI
 * (Developer ID, secure timestamp, hardened runtime), trusted through options.trust. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/x509.h>
#include <plist/plist.h>

#include "bundle.h"
#include "bundle_signer.h"
#include "json_check.h"
#include "macho_synth.h"
#include "pki.h"
#include "readfile.h"
#include "sample_path.h"
#include "verdict.h"

#define T_SIGN 1704067200 /* 2024-01-01 */
#define APP_ID "com.example.app"
#define EXT_ID "com.example.app.camera"
#define EXT_ROOT "Contents/Library/SystemExtensions/" EXT_ID ".systemextension"

static const char app_info[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<plist version=\"1.0\"><dict>"
    "<key>CFBundleIdentifier</key><string>" APP_ID "</string>"
    "<key>CFBundleExecutable</key><string>App</string>"
    "<key>CFBundlePackageType</key><string>APPL</string></dict></plist>\n";
static const char ext_info[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<plist version=\"1.0\"><dict>"
    "<key>CFBundleIdentifier</key><string>" EXT_ID "</string>"
    "<key>CFBundleExecutable</key><string>" EXT_ID "</string>"
    "<key>CFBundlePackageType</key><string>SYSX</string>"
    "<key>NSSystemExtensionUsageDescription</key><string>camera</string>"
    "<key>CMIOExtension</key><dict><key>CMIOExtensionMachServiceName</key>"
    "<string>SHTEAM0001.com.example.app.camera</string></dict></dict></plist>\n";
/* unrestricted only: sandbox and an app group (S9 combinations must not be flagged) */
static const char ext_ents[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<plist version=\"1.0\"><dict>"
    "<key>com.apple.security.app-sandbox</key><true/>"
    "<key>com.apple.security.application-groups</key><array><string>SHTEAM0001</string></array>"
    "</dict></plist>\n";
static const char app_ents_sandbox[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<plist version=\"1.0\"><dict>"
    "<key>com.apple.security.app-sandbox</key><true/></dict></plist>\n";
static const char app_ents_install[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<plist version=\"1.0\"><dict>"
    "<key>com.apple.developer.system-extension.install</key><true/></dict></plist>\n";

typedef struct fixture {
    sh_pki_identity id;
    sh_pki_tsa tsa;
    X509 *root;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    char why[SH_PKI_WHY_MAX];
    if (!f || !sh_pki_load_identity(NULL, "devid-team1", &f->id, why, sizeof why) ||
        !sh_pki_load_tsa(NULL, &f->tsa, why, sizeof why))
        return -1;
    f->root = f->id.root;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    sh_pki_identity_free(&f->id);
    sh_pki_tsa_free(&f->tsa);
    free(f);
    return 0;
}

static void put(sh_bundle *b, const char *path, const void *data, size_t len, uint32_t mode)
{
    assert_int_equal(sh_bundle_put_file(b, path, data, len, mode, NULL), SH_E_OK);
}

static void put_exe(sh_bundle *b, const char *path, uint64_t seed)
{
    sh_synth_spec spec;
    sh_synth_spec_init(&spec, SH_SYNTH_ARM64, "x");
    spec.seed = seed;
    sh_bytebuf out;
    sh_bytebuf_init(&out, NULL);
    assert_int_equal(sh_synth_thin(&spec, &out, NULL, NULL), SH_W_OK);
    put(b, path, out.data, out.len, 0755);
    sh_bytebuf_free(&out);
}

static void sign(fixture *f, sh_bundle *b, const char *root, const char *ents)
{
    sh_bundle_sign_options o;
    sh_bundle_sign_options_init(&o);
    o.code.identity = &f->id;
    o.code.tsa = &f->tsa;
    o.code.runtime = true;
    o.code.force = true; /* the synthesiser signs ad hoc */
    o.code.signing_time = T_SIGN;
    o.code.entitlements = (const uint8_t *)ents;
    o.code.entitlements_len = strlen(ents);
    sh_sign_result r;
    sh_sign_status s = sh_sign_bundle(b, root, &o, &r);
    if (s != SH_SIGN_OK)
        fprintf(stderr, "sign %s: %s\n", root, r.message);
    assert_int_equal(s, SH_SIGN_OK);
}

static void build(fixture *f, sh_bundle *b, const char *app_ents)
{
    sh_bundle_init(b, NULL);
    put(b, "Contents/Info.plist", app_info, strlen(app_info), 0644);
    put_exe(b, "Contents/MacOS/App", 1);
    put(b, "Contents/Resources/readme.txt", "hello\n", 6, 0644);
    put(b, EXT_ROOT "/Contents/Info.plist", ext_info, strlen(ext_info), 0644);
    put_exe(b, EXT_ROOT "/Contents/MacOS/" EXT_ID, 2);
    put(b, EXT_ROOT "/Contents/Resources/model.bin", "model", 5, 0644);
    sign(f, b, EXT_ROOT, ext_ents);
    sign(f, b, "", app_ents);
}

static void run(fixture *f, const sh_bundle *b, sh_policy policy, sh_verdict *v)
{
    sh_verdict_options o;
    sh_verdict_options_init(&o);
    o.policy = policy;
    o.now = T_SIGN + 86400;
    X509 *anchors[1] = {f->root};
    o.trust.anchor_x509 = anchors;
    o.trust.n_anchor_x509 = 1;
    o.trusted_root_is_apple = true;
    assert_int_equal(sh_verdict_run(b, &o, v), SH_E_OK);
}

/* S10: an app without the install entitlement -> 2; the signature itself is clean. */
static void test_missing_install_entitlement(void **state)
{
    fixture *f = *state;
    sh_bundle b;
    build(f, &b, app_ents_sandbox);
    sh_verdict v;
    run(f, &b, SH_POLICY_DEVELOPMENT, &v);
    assert_int_equal(v.outcome, SH_OUTCOME_ERROR);
    assert_int_equal(v.sysext_code, 2);
    assert_int_equal(sh_verdict_count(&v, SH_RULE_APP_MISSING_INSTALL_ENTITLEMENT), 1);
    /* clean signatures: no static, seal or category finding; S9 combinations not flagged */
    for (size_t i = 0; i < v.nfindings; i++)
        assert_true(v.findings[i].stage != SH_STAGE_STATIC || !v.findings[i].blocking);
    assert_int_equal(sh_verdict_count(&v, SH_RULE_MACH_SERVICE_NOT_IN_APP_GROUP), 0);
    assert_int_equal(v.ncodes, 2);
    assert_true(v.codes[0].signature_valid && v.codes[1].signature_valid);
    assert_string_equal(v.codes[0].team, "SHTEAM0001");
    sh_verdict_free(&v);
    sh_bundle_free(&b);
}

/* The install entitlement is restricted: without an embedded profile amfid kills the app. */
static void test_install_entitlement_without_profile_kills_app(void **state)
{
    fixture *f = *state;
    sh_bundle b;
    build(f, &b, app_ents_install);
    sh_verdict v;
    run(f, &b, SH_POLICY_DISTRIBUTION, &v);
    assert_int_equal(v.outcome, SH_OUTCOME_APP_KILLED);
    assert_int_equal(v.findings[v.deciding].rule, SH_RULE_PROFILE_MISSING);
    assert_int_equal(v.errsec, -66994);
    sh_verdict_free(&v);
    sh_bundle_free(&b);
}

/* S1 shape: Developer ID, distribution, not notarised -> 8 with -67050 and sysextd's line;
 * then the same bundle with both cdhashes in the notarised list is no longer refused for it. */
static void test_not_notarized(void **state)
{
    fixture *f = *state;
    sh_bundle b;
    build(f, &b, app_ents_sandbox);
    sh_verdict v;
    run(f, &b, SH_POLICY_DISTRIBUTION, &v);
    assert_int_equal(sh_verdict_count(&v, SH_RULE_NOT_NOTARIZED), 2);
    bool line = false;
    for (size_t i = 0; i < v.nlog; i++)
        line |= strstr(v.log[i], "does not satisfy requirement: -67050") != NULL;
    assert_true(line);
    /* the install entitlement is missing too, and stage 1 comes first */
    assert_int_equal(v.sysext_code, 2);
    sh_verdict_free(&v);
    sh_bundle_free(&b);
}

/* Tampered resource in the extension, and a removed extension. */
static void test_tampered_and_missing(void **state)
{
    fixture *f = *state;
    sh_bundle b;
    build(f, &b, app_ents_sandbox);
    put(&b, EXT_ROOT "/Contents/Resources/model.bin", "MODEL", 5, 0644);
    sh_verdict v;
    run(f, &b, SH_POLICY_DEVELOPMENT, &v);
    assert_int_equal(sh_verdict_count(&v, SH_RULE_RESOURCE_MODIFIED), 1);
    sh_verdict_free(&v);
    assert_int_equal(sh_bundle_remove(&b, "Contents/Library/SystemExtensions", NULL), SH_E_OK);
    run(f, &b, SH_POLICY_DEVELOPMENT, &v);
    assert_int_equal(sh_verdict_count(&v, SH_RULE_EXTENSION_NOT_FOUND), 1);
    assert_int_equal(sh_verdict_count(&v, SH_RULE_RESOURCE_MISSING) > 0, 1);
    sh_verdict_free(&v);
    sh_bundle_free(&b);
}

/* The extension signed again after the app: with the same identity the requirement the app's
 * seal recorded still holds (macOS checks that, not the cdhash); ad hoc it does not. */
static void test_nested_code_sealed_by_requirement(void **state)
{
    fixture *f = *state;
    sh_bundle b;
    build(f, &b, app_ents_sandbox);
    sh_verdict v;
    run(f, &b, SH_POLICY_DEVELOPMENT, &v);
    size_t base_findings = v.nfindings;
    int base_code = v.sysext_code;
    sh_verdict_free(&v);
    put(&b, EXT_ROOT "/Contents/Resources/model.bin", "model v2", 8, 0644);
    sign(f, &b, EXT_ROOT, ext_ents);
    run(f, &b, SH_POLICY_DEVELOPMENT, &v);
    assert_int_equal(sh_verdict_count(&v, SH_RULE_NESTED_CODE_RESIGNED), 1);
    assert_int_equal(sh_verdict_count(&v, SH_RULE_NESTED_CODE_MODIFIED), 0);
    assert_int_equal(v.nfindings, base_findings + 1); /* the note, nothing else */
    assert_int_equal(v.sysext_code, base_code);
    sh_verdict_free(&v);

    sh_bundle_sign_options o;
    sh_bundle_sign_options_init(&o);
    o.code.force = true;
    o.code.signing_time = T_SIGN;
    o.code.entitlements = (const uint8_t *)ext_ents;
    o.code.entitlements_len = strlen(ext_ents);
    sh_sign_result r;
    assert_int_equal(sh_sign_bundle(&b, EXT_ROOT, &o, &r), SH_SIGN_OK); /* ad hoc */
    run(f, &b, SH_POLICY_DEVELOPMENT, &v);
    assert_int_equal(sh_verdict_count(&v, SH_RULE_NESTED_CODE_MODIFIED), 1);
    assert_int_equal(sh_verdict_count(&v, SH_RULE_NESTED_CODE_RESIGNED), 0);
    sh_verdict_free(&v);
    sh_bundle_free(&b);
}

/* The app's CodeResources with its nested seal's requirement replaced (NULL: removed), and its
 * cdhash removed when drop_cdhash. */
static void set_nested_requirement(sh_bundle *b, const char *text, bool drop_cdhash)
{
    const char *path = "Contents/_CodeSignature/CodeResources";
    const sh_bundle_entry *e = sh_bundle_find(b, path);
    assert_non_null(e);
    plist_t root = NULL;
    plist_from_memory((const char *)e->data, (uint32_t)e->len, &root);
    assert_non_null(root);
    plist_t seal = plist_access_path(root, 2, "files2",
                                     "Library/SystemExtensions/" EXT_ID ".systemextension");
    assert_non_null(seal);
    assert_non_null(plist_dict_get_item(seal, "requirement"));
    if (text)
        plist_dict_set_item(seal, "requirement", plist_new_string(text));
    else
        plist_dict_remove_item(seal, "requirement");
    if (drop_cdhash && text)
        plist_dict_remove_item(seal, "cdhash");
    char *xml = NULL;
    uint32_t len = 0;
    plist_to_xml(root, &xml, &len);
    put(b, path, xml, len, 0644);
    plist_to_xml_free(xml);
    plist_free(root);
}

/* What the nested seal's requirement says decides: missing or not compiling is a seal macOS
 * cannot use; a clause not decidable offline is only noted; a false one fails the app. */
static void test_nested_seal_requirement_text(void **state)
{
    fixture *f = *state;
    static const struct {
        const char *text;
        sh_rule_id rule;
    } cases[] = {
        {NULL, SH_RULE_NESTED_SEAL_INVALID},
        {"identifier \"unterminated", SH_RULE_NESTED_SEAL_INVALID},
        {"info[CFBundleVersion] = \"1\"", SH_RULE_NESTED_REQUIREMENT_UNDECIDED},
        {"identifier \"com.example.other\" and anchor apple generic",
         SH_RULE_NESTED_CODE_MODIFIED},
        {"identifier \"" EXT_ID "\" and anchor apple generic", SH_RULE_COUNT},
    };
    /* ... and a seal of the requirement alone (no cdhash) is judged the same way */
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sh_bundle b;
        build(f, &b, app_ents_sandbox);
        set_nested_requirement(&b, cases[i].text, i % 2 == 1);
        sh_verdict v;
        run(f, &b, SH_POLICY_DEVELOPMENT, &v);
        /* edited after signing: the envelope no longer matches slot 3 either way */
        assert_int_equal(sh_verdict_count(&v, SH_RULE_RESOURCE_ENVELOPE_MODIFIED), 1);
        static const sh_rule_id nested_rules[] = {
            SH_RULE_NESTED_SEAL_INVALID, SH_RULE_NESTED_REQUIREMENT_UNDECIDED,
            SH_RULE_NESTED_CODE_MODIFIED, SH_RULE_NESTED_CODE_RESIGNED};
        for (size_t k = 0; k < sizeof nested_rules / sizeof nested_rules[0]; k++)
            if (sh_verdict_count(&v, nested_rules[k]) != (nested_rules[k] == cases[i].rule))
                fail_msg("case %zu: rule %d counted %zu", i, (int)nested_rules[k],
                         sh_verdict_count(&v, nested_rules[k]));
        sh_verdict_free(&v);
        sh_bundle_free(&b);
    }
}

/* sh_verdict_print_json into memory: one JSON value. */
static char *json_of(const sh_verdict *v, const char *label, size_t *len)
{
    char *text = NULL;
    FILE *out = open_memstream(&text, len);
    assert_non_null(out);
    sh_verdict_print_json(v, label, out);
    assert_int_equal(fclose(out), 0);
    assert_non_null(text);
    assert_true(json_check(text, *len));
    return text;
}

/* The JSON report: valid JSON, the schema, the verdict and every finding's rule by name, in
 * order; under both outcomes the report's "verdict" matches the engine's. */
static void test_json_output(void **state)
{
    fixture *f = *state;
    sh_bundle b;
    build(f, &b, app_ents_sandbox);
    for (int policy = SH_POLICY_DISTRIBUTION; policy <= SH_POLICY_DEVELOPMENT; policy++) {
        sh_verdict v;
        run(f, &b, (sh_policy)policy, &v);
        assert_int_equal(v.outcome, SH_OUTCOME_ERROR); /* the install entitlement is missing */
        assert_true(v.nfindings > 0);
        size_t len;
        char *text = json_of(&v, "Test \"quoted\" label.app", &len);
        assert_non_null(strstr(text, "\"schema\":\"" SH_VERDICT_JSON_SCHEMA "\""));
        assert_non_null(strstr(text, "\"verdict\":\"error\""));
        assert_non_null(strstr(text, "\"activation\":{\"code\":2,"));
        assert_non_null(strstr(text, "\"input\":\"Test \\\"quoted\\\" label.app\""));
        /* every finding's rule, in the engine's order */
        const char *at = strstr(text, "\"findings\":[");
        assert_non_null(at);
        for (size_t i = 0; i < v.nfindings; i++) {
            char key[128];
            snprintf(key, sizeof key, "\"rule\":\"%s\"", sh_rule_get(v.findings[i].rule)->name);
            const char *next = strstr(at, key);
            if (!next)
                fail_msg("finding %zu (%s) missing from the JSON after its predecessors", i, key);
            at = next + 1;
        }
        char deciding[48];
        snprintf(deciding, sizeof deciding, "\"deciding_finding\":%zu", v.deciding);
        assert_non_null(strstr(text, deciding));
        free(text);
        sh_verdict_free(&v);
    }
    sh_bundle_free(&b);

    /* an OK verdict with nothing in it (no findings, codes, log or launch line) prints too */
    sh_verdict ok;
    memset(&ok, 0, sizeof ok);
    ok.outcome = SH_OUTCOME_OK;
    size_t len;
    char *text = json_of(&ok, "empty", &len);
    assert_non_null(strstr(text, "\"verdict\":\"OK\""));
    assert_non_null(strstr(text, "\"findings\":[]"));
    free(text);
}

/* A lone executable nobody here signed: Sparkle's DevSignedApp (Developer ID, secure timestamp,
 * no hardened runtime; ../shared/external-samples/MANIFEST.md), judged at its signing time with
 * only the pinned Apple Root CA.  The signature verifies; the notary preflight refuses it for
 * the missing hardened runtime, which decides the distribution verdict (8 / -67050). */
#define SPARKLE_SIGNED 1678663721 /* 2023-03-12T23:28:41Z, its timestamp */
static void test_lone_executable_sample(void **state)
{
    (void)state;
    char path[4096];
    if (!sample_path("macho", "sparkle_DevSignedApp_SignedApp", path,
                     sizeof path))
        skip();
    uint8_t *data;
    size_t size;
    const char *why;
    if (sh_read_file(path, &data, &size, &why) != SH_E_OK) {
        fprintf(stderr, "%s: %s\n", path, why);
        skip();
    }
    sh_verdict_options o;
    sh_verdict_options_init(&o);
    o.policy = SH_POLICY_DISTRIBUTION;
    o.now = SPARKLE_SIGNED + 86400;
    sh_verdict v;
    assert_int_equal(sh_verdict_run_executable("SignedApp", data, size, &o, &v), SH_E_OK);
    assert_true(v.lone_executable);
    assert_int_equal(v.ncodes, 1);
    const sh_code_summary *c = &v.codes[0];
    assert_true(c->signature_valid);
    assert_false(c->notarized);
    assert_string_equal(c->role, "executable");
    assert_string_equal(c->identifier, "com.zoo.SignedApp");
    assert_string_equal(c->team, "ZCK58M894E");
    assert_string_equal(c->signer, "Developer ID Application: Mayur Pawashe (ZCK58M894E)");
    assert_string_equal(c->signer_kind, "Developer ID Application");
    assert_string_equal(c->architectures, "arm64");
    assert_non_null(strstr(c->timestamp, "Timestamp="));
    /* static validation is clean: nothing blocking before the notarisation stage */
    for (size_t i = 0; i < v.nfindings; i++)
        if (v.findings[i].stage < SH_STAGE_NOTARIZATION && v.findings[i].blocking)
            fail_msg("blocking %s finding %s", sh_stage_name(v.findings[i].stage),
                     sh_rule_get(v.findings[i].rule)->name);
    assert_int_equal(sh_verdict_count(&v, SH_RULE_LONE_EXECUTABLE), 1);
    assert_int_equal(sh_verdict_count(&v, SH_RULE_NOTARY_NO_HARDENED_RUNTIME), 1);
    assert_int_equal(sh_verdict_count(&v, SH_RULE_NOT_NOTARIZED), 1);
    /* the preflight says exactly one thing: the runtime (it is Developer ID and timestamped) */
    assert_int_equal(v.nnotary, 1);
    assert_string_equal(v.notary[0], "The executable does not have the hardened runtime enabled.");
    assert_int_equal(v.outcome, SH_OUTCOME_ERROR);
    assert_int_equal(v.sysext_code, 8);
    assert_int_equal(v.errsec, -67050);
    assert_int_equal(v.findings[v.deciding].rule, SH_RULE_NOTARY_NO_HARDENED_RUNTIME);
    sh_verdict_free(&v);

    /* under development the preflight is advisory: nothing blocks */
    o.policy = SH_POLICY_DEVELOPMENT;
    assert_int_equal(sh_verdict_run_executable("SignedApp", data, size, &o, &v), SH_E_OK);
    assert_true(v.codes[0].signature_valid);
    assert_int_equal(v.outcome, SH_OUTCOME_OK);
    assert_int_equal(v.sysext_code, 0);
    sh_verdict_free(&v);
    free(data);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_missing_install_entitlement),
        cmocka_unit_test(test_install_entitlement_without_profile_kills_app),
        cmocka_unit_test(test_not_notarized),
        cmocka_unit_test(test_tampered_and_missing),
        cmocka_unit_test(test_nested_code_sealed_by_requirement),
        cmocka_unit_test(test_nested_seal_requirement_text),
        cmocka_unit_test(test_json_output),
        cmocka_unit_test(test_lone_executable_sample),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
