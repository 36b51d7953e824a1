/* Stage 5: notarisation (ticket or --notarized list) and the notary service's preflight: the
 * rejections it would give, with its messages verbatim (RCNI).  A preflight finding blocks only
 * under the distribution policy when the code is not notarised: notarised code evidently passed,
 * and development needs no notarisation. */
#include <stdio.h>
#include <string.h>

#include "verdict_internal.h"

static void preflight(vd_ctx *x, const vd_code *c, sh_rule_id rule, bool blocking, const char *detail)
{
    vd_add(x, rule, c->root, SH_E_OK, !blocking, "%s: %s", c->exe, detail);
    vd_notary(x, sh_rule_get(rule)->log);
}

void vd_check_notary(vd_ctx *x, const vd_code *c)
{
    bool distribution = x->o->policy == SH_POLICY_DISTRIBUTION;
    bool blocking = distribution && !c->notarized;
    bool devid = c->has_leaf && c->leaf_kind == SH_CERT_KIND_DEVELOPER_ID_APPLICATION;
    if (!c->signed_any) {
        preflight(x, c, SH_RULE_NOTARY_NOT_SIGNED, blocking, "no code signature");
        return;
    }
    if (distribution && !devid && x->b)
        vd_add(x, SH_RULE_POLICY_NOT_DEVELOPER_ID, c->root, SH_E_OK, false, "signed %s",
               c->adhoc ? "ad hoc" : sh_cert_kind_name(c->leaf_kind));
    if (!distribution && (c->adhoc || !c->has_leaf) && x->b)
        vd_add(x, SH_RULE_POLICY_NOT_APPLE_SIGNED, c->root, SH_E_OK, false, "signed %s",
               c->adhoc ? "ad hoc" : "without a trusted Apple certificate");
    if (!devid)
        preflight(x, c, SH_RULE_NOTARY_NOT_DEVELOPER_ID, blocking,
                  c->adhoc ? "signed ad hoc" : sh_cert_kind_name(c->leaf_kind));
    else if (!c->secure_timestamp)
        preflight(x, c, SH_RULE_NOTARY_NO_SECURE_TIMESTAMP, blocking,
                  c->primary->cms.has_signing_time ? "only a signing time (Signed Time=)"
                                                   : "no timestamp at all");
    if (!c->runtime)
        preflight(x, c, SH_RULE_NOTARY_NO_HARDENED_RUNTIME, blocking, "CodeDirectory flags lack runtime (0x10000)");
    if (sh_ent_get_bool(c->entitlements, "com.apple.security.get-task-allow"))
        preflight(x, c, SH_RULE_NOTARY_GET_TASK_ALLOW, blocking, "com.apple.security.get-task-allow = true");
    if (!c->signature_ok)
        preflight(x, c, SH_RULE_NOTARY_SIGNATURE_INVALID, blocking, "see the static findings");
    if (distribution && devid && !c->notarized) {
        char hex[2 * SH_CDHASH_LEN + 1];
        vd_hex(c->cdhash, SH_CDHASH_LEN, hex);
        vd_add(x, SH_RULE_NOT_NOTARIZED, c->root, SH_E_OK, false,
               "cdhash %s has no stapled ticket and is not in --notarized", hex);
        if (x->b && !c->is_app) {
            /* sysextd's sequence for this case (reference section 9) */
            vd_log(x, "validating extension %s", c->has_info && c->info.identifier ? c->info.identifier : "");
            vd_log(x, "MacOS error: 3");
            vd_log(x, "Error checking with notarization daemon: 3");
        }
        vd_log_rule(x, SH_RULE_NOT_NOTARIZED, "", c->root, "");
    }
}

static bool is_macho(const sh_bundle_entry *e)
{
    if (e->kind != SH_BUNDLE_FILE || e->len < 4)
        return false;
    uint32_t m = (uint32_t)e->data[0] << 24 | (uint32_t)e->data[1] << 16 | (uint32_t)e->data[2] << 8 | e->data[3];
    return m == 0xfeedfacfu || m == 0xcffaedfeu || m == 0xfeedfaceu || m == 0xcefaedfeu ||
           m == 0xcafebabeu;
}

void vd_check_nested_binaries(vd_ctx *x, const vd_code *codes, size_t ncodes)
{
    const sh_bundle *b = x->b;
    bool blocking = x->o->policy == SH_POLICY_DISTRIBUTION;
    for (size_t i = 0; i < b->count; i++) {
        const sh_bundle_entry *e = &b->entries[i];
        bool main_exe = false;
        for (size_t k = 0; k < ncodes && !main_exe; k++)
            main_exe = strcmp(codes[k].exe, e->path) == 0;
        if (main_exe || !is_macho(e))
            continue;
        sh_macho_file m;
        sh_error err = {0};
        if (sh_macho_parse(e->data, e->len, x->o->alloc, &m, &err) != SH_E_OK)
            continue;
        bool is_signed = true;
        for (uint32_t s = 0; s < m.nslices; s++) {
            sh_cursor sig;
            if (sh_macho_signature(&m.slices[s], &sig, &err) != SH_E_OK)
                is_signed = false;
        }
        sh_macho_free(&m);
        if (!is_signed) {
            vd_add(x, SH_RULE_NOTARY_NOT_SIGNED, e->path, SH_E_OK, !blocking, "nested code %s is unsigned",
                   e->path);
            vd_notary(x, sh_rule_get(SH_RULE_NOTARY_NOT_SIGNED)->log);
        }
    }
}
