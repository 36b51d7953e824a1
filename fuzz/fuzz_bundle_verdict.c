/* The verdict engine end to end: a packed bundle (parsers/bundle.h, magic SHBUNDL1) is unpacked
 * and judged under both policies, and both printers run over each verdict; any other input is
 * judged as a lone executable.
 *
 * Options: the test root (corpus/pki/root.cert.der) trusted in place of Apple Root CA, "now" a
 * day after the fixture builder's signing time, the development profile's UDID.  The
 * distribution run is given a notarised-cdhash list made of the cdhashes the development run
 * reported, so the notarised paths (and sh_notary_list_parse) are reached too.
 *
 * Oracle checks (the one place abort() is the point): a verdict that is not OK names a deciding
 * finding inside the findings array; an OK verdict has no sysext code. */
#define _GNU_SOURCE
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/x509.h>

#include "bundle.h"
#include "notary_list.h"
#include "pki.h"
#include "readfile.h"
#include "verdict.h"

#define VERDICT_NOW (1717243200 + 86400) /* SH_FX_SIGNING_TIME + 1 day */
#define VERDICT_UDID "00008103-001A2B3C4D5E6F70" /* SH_FX_DEVICE_UDID */

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Read-only after LLVMFuzzerInitialize: the engine API gives the target no context.  The root is
 * decoded once here, not by every verdict (each decode costs ~0.1 ms in OpenSSL 3.0, a verdict
 * builds up to a dozen anchor sets). */
static struct {
    X509 *root;
} pki;

static void release_pki(void)
{
    X509_free(pki.root);
}

/* Without the test PKI (an OSS-Fuzz runner has no source tree) nothing is trusted: the engine
 * still runs, every chain is untrusted. */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    char path[4096];
    const char *why = NULL;
    uint8_t *der = NULL;
    size_t len = 0;
    snprintf(path, sizeof path, "%s/root.cert.der", sh_pki_default_dir());
    atexit(release_pki);
    if (sh_read_file(path, &der, &len, &why) == SH_E_OK && len <= LONG_MAX) {
        const unsigned char *p = der;
        pki.root = d2i_X509(NULL, &p, (long)len);
    }
    free(der);
    if (!pki.root)
        fprintf(stderr, "fuzz_bundle_verdict: %s: %s: no trusted root\n", path,
                why ? why : "not a DER certificate");
    return 0;
}

static void options(sh_verdict_options *o, sh_policy policy, sh_verify_memo *memo)
{
    sh_verdict_options_init(o);
    o->policy = policy;
    o->memo = memo;
    o->now = VERDICT_NOW;
    o->udid = VERDICT_UDID;
    if (pki.root) {
        o->trust.anchor_x509 = &pki.root;
        o->trust.n_anchor_x509 = 1;
        o->trusted_root_is_apple = true;
    }
}

static void check_and_print(const sh_verdict *v)
{
    if (v->outcome != SH_OUTCOME_OK && v->failure == SH_E_OK && v->deciding >= v->nfindings)
        abort(); /* a refusal must say which finding decided it */
    if (v->outcome == SH_OUTCOME_OK && v->sysext_code != 0)
        abort();
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    if (!out)
        return;
    sh_verdict_print_json(v, "fuzz", out);
    sh_verdict_print_text(v, "fuzz", out);
    fclose(out);
    free(text);
}

/* "cdhash\n" for every code the verdict summarised (at most 16), parsed as a notary list;
 * on failure *list is empty. */
static bool notary_from(const sh_verdict *v, sh_notary_list *list)
{
    char text[16 * 42 + 1];
    size_t n = 0;
    for (size_t i = 0; i < v->ncodes && i < 16; i++) {
        const char *h = v->codes[i].cdhash;
        if (h && strlen(h) == 40) {
            memcpy(text + n, h, 40);
            text[n + 40] = '\n';
            n += 41;
        }
    }
    return sh_notary_list_parse((const uint8_t *)text, n, NULL, list, NULL) == SH_E_OK;
}

/* One memo per input, shared by its two verdicts: the second one's CMS, profile and
 * CodeResources verifications (policy does not enter them) come from the first, which halves the
 * cost of a deep input without carrying any state from one input to the next. */
static void judge_bundle(const sh_bundle *b, sh_verify_memo *memo)
{
    sh_verdict_options o;
    sh_verdict v;
    options(&o, SH_POLICY_DEVELOPMENT, memo);
    sh_verdict_run(b, &o, &v);
    check_and_print(&v);
    sh_notary_list list;
    bool have_list = notary_from(&v, &list);
    sh_verdict_free(&v);

    options(&o, SH_POLICY_DISTRIBUTION, memo);
    o.notarized = have_list ? &list : NULL;
    o.location = "/Applications";
    sh_verdict_run(b, &o, &v);
    check_and_print(&v);
    sh_verdict_free(&v);
    sh_notary_list_free(&list); /* empty (safe to free) when parsing failed */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sh_verify_memo *memo = sh_verify_memo_new(); /* NULL: the verdicts run without one */
    if (sh_bundle_is_packed(data, size)) {
        sh_bundle b;
        if (sh_bundle_unpack(data, size, NULL, &b, NULL) == SH_E_OK) {
            judge_bundle(&b, memo);
            sh_bundle_free(&b);
        }
        sh_verify_memo_free(memo);
        return 0;
    }
    for (int policy = SH_POLICY_DISTRIBUTION; policy <= SH_POLICY_DEVELOPMENT; policy++) {
        sh_verdict_options o;
        sh_verdict v;
        options(&o, (sh_policy)policy, memo);
        sh_verdict_run_executable("fuzz", data, size, &o, &v);
        check_and_print(&v);
        sh_verdict_free(&v);
    }
    sh_verify_memo_free(memo);
    return 0;
}
