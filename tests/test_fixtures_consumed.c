/* `sigharness fixtures broken` as another tool's test suite consumes it: the driver category is
 * written to disk, then every fixture is read back from its folder with its own notarized.txt,
 * install location and policy from manifest.json, judged by the verdict engine as `sigharness
 * verify` would judge it, and must give the activation code, status and notary objection (or
 * none) its manifest entry declares. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/x509.h>

#include "broken_cmd.h"
#include "bundle.h"
#include "fixture_build.h"
#include "json_read.h"
#include "notary_list.h"
#include "pki.h"
#include "readfile.h"
#include "verdict.h"

static void read_whole(const char *path, uint8_t **data, size_t *len)
{
    const char *why = NULL;
    if (sh_read_file(path, data, len, &why) != SH_E_OK)
        fail_msg("%s: %s", path, why ? why : "unreadable");
}

static bool has_notary_message(const sh_verdict *v, const char *message)
{
    for (size_t i = 0; i < v->nnotary; i++)
        if (strcmp(v->notary[i], message) == 0)
            return true;
    return false;
}

/* One manifest entry judged from disk; the case's name when it disagrees, else NULL. */
static const char *judge(const char *dir, const sh_jv *fx, int64_t now, X509 *root, char *why,
                         size_t why_size)
{
    const char *name = sh_jv_get_string(fx, "name");
    const char *path = sh_jv_get_string(fx, "path");
    const char *notarized = sh_jv_get_string(fx, "notarized");
    const char *location = sh_jv_get_string(fx, "location");
    const char *policy = sh_jv_get_string(fx, "policy");
    const sh_jv *expected = sh_jv_get(fx, "expected");
    int64_t sysext = -1, errsec = -1;
    assert_true(name && path && notarized && location && policy && expected);
    assert_true(sh_jv_get_int(expected, "sysext", &sysext) &&
                sh_jv_get_int(expected, "errsec", &errsec));
    const sh_jv *notary = sh_jv_get(expected, "notary");
    assert_non_null(notary);

    char full[4096];
    snprintf(full, sizeof full, "%s/%s", dir, notarized);
    uint8_t *list_text;
    size_t list_len;
    read_whole(full, &list_text, &list_len);
    sh_notary_list list;
    sh_error err = {0};
    assert_int_equal(sh_notary_list_parse(list_text, list_len, NULL, &list, &err), SH_E_OK);
    free(list_text);

    snprintf(full, sizeof full, "%s/%s", dir, path);
    sh_bundle b;
    char read_why[256];
    assert_int_equal(sh_bundle_read_dir(full, NULL, &b, &err, read_why, sizeof read_why),
                     SH_E_OK);

    sh_verdict_options o;
    sh_verdict_options_init(&o);
    o.policy = strcmp(policy, "development") == 0 ? SH_POLICY_DEVELOPMENT
                                                  : SH_POLICY_DISTRIBUTION;
    o.location = location;
    o.now = now;
    X509 *anchors[1] = {root};
    o.trust.anchor_x509 = anchors;
    o.trust.n_anchor_x509 = 1;
    o.trusted_root_is_apple = true;
    o.notarized = &list;
    o.udid = SH_FX_DEVICE_UDID;
    sh_verdict v;
    assert_int_equal(sh_verdict_run(&b, &o, &v), SH_E_OK);

    why[0] = '\0';
    if (v.sysext_code != sysext || v.errsec != errsec)
        snprintf(why, why_size, "verdict %d / %d, manifest %lld / %lld", v.sysext_code, v.errsec,
                 (long long)sysext, (long long)errsec);
    else if (o.policy == SH_POLICY_DISTRIBUTION && notary->type == SH_JV_STRING &&
             !has_notary_message(&v, notary->s))
        snprintf(why, why_size, "notary objection \"%s\" missing", notary->s);
    else if (o.policy == SH_POLICY_DISTRIBUTION && notary->type == SH_JV_NULL && v.nnotary > 0)
        snprintf(why, why_size, "notary objects: \"%s\"", v.notary[0]);
    sh_verdict_free(&v);
    sh_bundle_free(&b);
    sh_notary_list_free(&list);
    return why[0] ? name : NULL;
}

static void every_fixture_judges_as_its_manifest_says(void **state)
{
    (void)state;
    const char *tmp = getenv("TMPDIR");
    char dir[512];
    snprintf(dir, sizeof dir, "%s/fixtures-consumed.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    assert_non_null(mkdtemp(dir));
    char out[600];
    snprintf(out, sizeof out, "%s/set", dir);
    char *argv[] = {"broken", "-o", out, "--category", "driver", NULL};
    assert_int_equal(sh_broken_command(5, argv), 0);

    char path[700];
    snprintf(path, sizeof path, "%s/manifest.json", out);
    uint8_t *json;
    size_t json_len;
    read_whole(path, &json, &json_len);
    sh_json_doc doc;
    char why[256];
    if (!sh_json_parse(json, json_len, NULL, &doc, why, sizeof why))
        fail_msg("manifest.json: %s", why);
    free(json);
    int64_t now = 0;
    assert_true(sh_jv_get_int(&doc.root, "now", &now));
    const sh_jv *fixtures = sh_jv_get(&doc.root, "fixtures");
    assert_true(fixtures && fixtures->type == SH_JV_ARRAY && fixtures->count > 20);

    sh_pki_identity id;
    char pki_why[SH_PKI_WHY_MAX];
    assert_true(sh_pki_load_identity(NULL, "devid-team1", &id, pki_why, sizeof pki_why));
    unsigned resubmitted = 0, failed = 0;
    for (size_t i = 0; i < fixtures->count; i++) {
        const sh_jv *fx = &fixtures->items[i];
        const char *effect = sh_jv_get_string(fx, "notary_effect");
        resubmitted += effect && strcmp(effect, "resubmitted") == 0;
        const char *bad = judge(out, fx, now, id.root, why, sizeof why);
        if (bad) {
            fprintf(stderr, "%s: %s\n", bad, why);
            failed++;
        }
    }
    fprintf(stderr, "%zu fixtures judged from disk, %u of them resubmitted\n", fixtures->count,
            resubmitted);
    sh_pki_identity_free(&id);
    sh_json_doc_free(&doc);
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(failed, 0);
    assert_true(resubmitted >= 5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_fixture_judges_as_its_manifest_says),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
