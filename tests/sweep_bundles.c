/* Allocation-sweep drivers for the bundle layer (see sweep.h): the in-memory bundle (read,
 * pack, unpack), the fixture spec and builder, the bundle signer and the verdict engine. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bundle.h"
#include "bundle_signer.h"
#include "fixture_build.h"
#include "fixture_spec.h"
#include "mutation.h"
#include "sweep.h"
#include "verdict.h"

int sweep_bundle_read_pack(sweep *s)
{
    sh_bundle b;
    sh_error err = {0};
    sh_err r = sh_bundle_read_dir(s->in->bundle_dir, s->a, &b, &err, NULL, 0);
    if (r != SH_E_OK)
        return (int)r;
    uint8_t *packed = NULL;
    size_t len = 0;
    r = sh_bundle_pack(&b, &packed, &len, &err);
    sh_bundle back;
    if (r == SH_E_OK && (r = sh_bundle_unpack(packed, len, s->a, &back, &err)) == SH_E_OK) {
        sweep_mix(s, packed, len);
        sweep_mix_u64(s, back.count);
        sh_bundle_free(&back);
    }
    sh_free(s->a, packed);
    sh_bundle_free(&b);
    return (int)r;
}

int sweep_fixture_spec(sweep *s)
{
    sh_fx_spec spec;
    sh_error err = {0};
    sh_err r = sh_fx_spec_parse((const uint8_t *)sh_fx_builtin_spec, strlen(sh_fx_builtin_spec),
                                s->a, &spec, &err);
    if (r == SH_E_OK)
        for (size_t i = 0; i < spec.count; i++)
            sweep_mix(s, spec.bundles[i].app_id, strlen(spec.bundles[i].app_id));
    sh_fx_spec_free(&spec);
    return (int)r;
}

/* The first built-in fixture (spec parsed inside the run too). */
int sweep_fixture_build(sweep *s)
{
    sh_fx_spec spec;
    sh_error err = {0};
    sh_err r = sh_fx_spec_parse((const uint8_t *)sh_fx_builtin_spec, strlen(sh_fx_builtin_spec),
                                s->a, &spec, &err);
    if (r != SH_E_OK) {
        sh_fx_spec_free(&spec);
        return (int)r;
    }
    sh_fx_built built;
    char why[256];
    int rc = 0;
    if (!sh_fx_build(&spec.bundles[0], NULL, s->a, &built, why, sizeof why)) {
        rc = -1;
    } else {
        for (size_t i = 0; i < built.ncdhashes; i++)
            sweep_mix(s, built.cdhashes[i].cdhash, sizeof built.cdhashes[i].cdhash);
        sweep_mix_u64(s, built.bundle.count);
    }
    sh_fx_built_free(&built);
    sh_fx_spec_free(&spec);
    return rc;
}

/* Re-signs the fixture app (inside out is the fixture builder's job; this is the app level). */
int sweep_bundle_signer(sweep *s)
{
    sh_bundle b;
    sh_error err = {0};
    sh_err e = sh_bundle_clone(&s->in->fixture->bundle, &b, &err);
    if (e != SH_E_OK)
        return (int)e;
    sh_bundle_sign_options o;
    sh_bundle_sign_options_init(&o);
    sweep_sign_options(s->in, &o.code);
    o.code.identifier = NULL; /* CFBundleIdentifier */
    sh_sign_result r;
    int rc = (int)sh_sign_bundle(&b, "", &o, &r);
    if (rc == SH_SIGN_OK) {
        uint8_t *packed = NULL;
        size_t len = 0;
        e = sh_bundle_pack(&b, &packed, &len, &err);
        if (e == SH_E_OK)
            sweep_mix(s, packed, len);
        else
            rc = (int)e;
        sh_free(b.alloc, packed);
    }
    sh_bundle_free(&b);
    return rc;
}

/* The whole verdict on the fixture app, trusting the test root as Apple's. */
static int verdict_with(sweep *s, sh_verify_memo *memo)
{
    sh_verdict_options o;
    sh_verdict_options_init(&o);
    o.policy = SH_POLICY_DEVELOPMENT;
    o.now = SH_FX_SIGNING_TIME + 86400;
    X509 *anchors[1] = {s->in->id.root};
    o.trust.anchor_x509 = anchors;
    o.trust.n_anchor_x509 = 1;
    o.trusted_root_is_apple = true;
    o.alloc = s->a;
    o.memo = memo;
    sh_verdict v;
    sh_err r = sh_verdict_run(&s->in->fixture->bundle, &o, &v);
    if (r == SH_E_OK) {
        sweep_mix_u64(s, (uint64_t)v.outcome);
        sweep_mix_u64(s, (uint64_t)v.sysext_code);
        for (size_t i = 0; i < v.nfindings; i++)
            sweep_mix_u64(s, (uint64_t)v.findings[i].rule);
        FILE *null = fopen("/dev/null", "w");
        if (null) {
            sh_verdict_print_text(&v, "fixture", null);
            sh_verdict_print_json(&v, "fixture", null);
            fclose(null);
        }
    }
    sh_verdict_free(&v);
    return (int)r;
}

int sweep_verdict(sweep *s)
{
    return verdict_with(s, NULL);
}

/* Twice with one verification memo: the first verdict fills it (certificates decoded once,
 * signatures without their certificates, chains), the second is answered from it. */
int sweep_verdict_memo(sweep *s)
{
    sh_verify_memo *memo = sh_verify_memo_new();
    if (!memo)
        return (int)SH_E_NO_MEMORY;
    int first = verdict_with(s, memo);
    int second = verdict_with(s, memo);
    sh_verify_memo_free(memo);
    return first != (int)SH_E_OK ? first : second;
}

/* The mutation catalogue on the fixture app: a file-level break, then a re-signing scenario, on
 * a bundle whose memory comes from the failing allocator. */
int sweep_mutation(sweep *s)
{
    /* A shallow view of the fixture whose allocator is the failing one: the clone allocates
     * with it, and so does every bundle edit the mutators make. */
    sh_bundle view = s->in->fixture->bundle;
    view.alloc = s->a;
    sh_bundle copy;
    sh_error err = {0};
    sh_err e = sh_bundle_clone(&view, &copy, &err);
    if (e != SH_E_OK)
        return (int)e;
    sh_mut_ctx ctx;
    sh_mut_ctx_init(&ctx, &copy, SH_FX_SIGNING_TIME, NULL);
    sh_expectation expected;
    int rc = sh_mutate(&ctx, "extension-code-page-flipped+no-hardened-runtime", false, &expected)
                 ? 0
                 : 1;
    if (rc == 0) {
        uint8_t *packed = NULL;
        size_t len = 0;
        e = sh_bundle_pack(&copy, &packed, &len, &err);
        if (e == SH_E_OK)
            sweep_mix(s, packed, len);
        else
            rc = (int)e;
        sh_free(copy.alloc, packed);
    }
    sh_bundle_free(&copy);
    return rc;
}
