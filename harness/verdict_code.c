/* Stage 3 for one piece of code: every architecture's signature (harness/inspect.c does the
 * per-architecture checks on the bytes in memory), the special slots for the files outside the
 * binary (Info.plist, CodeResources), the designated requirement, and the facts later stages
 * need. */
#include <stdio.h>
#include <string.h>

#include "codedir.h"
#include "reqeval.h"
#include "requirement.h"
#include "verdict_internal.h"

static const char *arch_of(const sh_macho_slice *s)
{
    return sh_macho_cpu_name(s->cputype, s->cpusubtype);
}

static void add_error(vd_ctx *x, sh_rule_id rule, const vd_code *c, const char *arch,
                      const sh_error *err)
{
    char msg[512];
    sh_error_format(err, msg, sizeof msg);
    vd_add(x, rule, c->root, err->code, false, "%s%s%s: %s", c->exe, arch ? " " : "",
           arch ? arch : "", msg);
}

static bool chain_error(sh_err e)
{
    return e == SH_E_CMS_CHAIN_UNTRUSTED || e == SH_E_CMS_CHAIN_INVALID ||
           e == SH_E_CMS_CERT_EXPIRED || e == SH_E_CMS_LEAF_NOT_CODE_SIGNING ||
           e == SH_E_TS_UNTRUSTED || e == SH_E_TS_NOT_APPLE;
}

/* One architecture: returns true when everything in it validated. */
static bool check_slice(vd_ctx *x, const vd_code *c, const sh_macho_slice *s,
                        const sh_slice_check *k)
{
    const char *arch = arch_of(s);
    if (k->signature_result == SH_E_MACHO_UNSIGNED) {
        vd_add(x, SH_RULE_CODE_UNSIGNED, c->root, SH_E_MACHO_UNSIGNED, false,
               "%s %s has no LC_CODE_SIGNATURE", c->exe, arch);
        return false;
    }
    if (k->signature_result != SH_E_OK) {
        add_error(x, SH_RULE_SIGNATURE_MALFORMED, c, arch, &k->signature_err);
        return false;
    }
    bool ok = true;
    for (uint32_t i = 0; i < k->signature.ncds; i++)
        if (k->cds[i].pages_result != SH_E_OK) {
            const sh_page_report *p = &k->cds[i].pages;
            if (k->cds[i].pages_result == SH_E_CD_PAGE_HASH_MISMATCH)
                vd_add(x, SH_RULE_PAGE_HASH_MISMATCH, c->root, SH_E_CD_PAGE_HASH_MISMATCH, false,
                       "%s %s: %u of %u pages differ (first: page %lld, %s CodeDirectory)", c->exe,
                       arch, p->pages_bad, p->pages_checked, (long long)p->first_bad,
                       sh_hash_name(k->signature.cds[i].hash_type));
            else
                add_error(x, SH_RULE_SIGNATURE_MALFORMED, c, arch, &k->cds[i].pages_err);
            ok = false;
            break;
        }
    if (k->slots_result != SH_E_OK) {
        add_error(x, SH_RULE_SPECIAL_SLOT_MISMATCH, c, arch, &k->slots_err);
        ok = false;
    }
    if (k->requirements_result != SH_E_OK) {
        add_error(x, SH_RULE_SIGNATURE_MALFORMED, c, arch, &k->requirements_err);
        ok = false;
    }
    if (k->entitlements.result == SH_E_ENT_MISMATCH) {
        vd_add(x, SH_RULE_ENTITLEMENTS_XML_DER_DIFFER, c->root, SH_E_ENT_MISMATCH, false,
               "%s %s: %s", c->exe, arch, k->entitlements.difference);
        ok = false;
    } else if (k->entitlements.result != SH_E_OK) {
        add_error(x, SH_RULE_SIGNATURE_MALFORMED, c, arch, &k->entitlements.err);
        ok = false;
    }
    if (k->cms_result != SH_E_OK) {
        sh_err e = k->cms_result;
        sh_rule_id rule = e == SH_E_CMS_TEAM_MISMATCH || e == SH_E_CMS_TEAM_INVALID
                              ? SH_RULE_TEAM_ID_MISMATCH_CERT
                          : chain_error(e) ? SH_RULE_CERT_CHAIN_UNTRUSTED
                          : e == SH_E_CMS_MISSING ? SH_RULE_CODE_UNSIGNED
                                                  : SH_RULE_CMS_SIGNATURE_INVALID;
        if (rule == SH_RULE_TEAM_ID_MISMATCH_CERT) {
            const sh_codedir *cd = &k->signature.cds[k->signature.best];
            char detail[300];
            snprintf(detail, sizeof detail, "%s) does not match the team identifier (%.*s",
                     k->cms.has_leaf ? k->cms.leaf.ou : "", (int)(cd->team_id ? cd->team_id_len : 0),
                     cd->team_id ? cd->team_id : "");
            vd_add(x, rule, c->root, e, false, "%s %s: leaf OU %s", c->exe, arch, detail);
            vd_log_rule(x, rule, "", c->exe, detail);
        } else {
            add_error(x, rule, c, arch, &k->cms_err);
        }
        ok = false;
    }
    return ok;
}

/* Special slot n of every CodeDirectory of every slice against a file's bytes (NULL: absent). */
static bool slot_matches(const vd_code *c, uint32_t slot, const sh_bundle_entry *file)
{
    for (uint32_t si = 0; si < c->insp.macho.nslices; si++) {
        const sh_slice_check *k = &c->insp.slices[si];
        if (k->signature_result != SH_E_OK)
            continue;
        for (uint32_t i = 0; i < k->signature.ncds; i++) {
            const sh_codedir *cd = &k->signature.cds[i];
            bool present = sh_codedir_special_present(cd, slot);
            if (!file || file->kind != SH_BUNDLE_FILE) {
                if (present)
                    return false;
                continue;
            }
            sh_cursor want;
            uint8_t got[SH_HASH_MAX_SIZE];
            if (!present || !sh_codedir_special_hash(cd, slot, &want) ||
                !sh_hash(cd->hash_type, file->data, file->len, got) ||
                sh_cursor_len(&want) > sizeof got || memcmp(got, want.p, sh_cursor_len(&want)) != 0)
                return false;
        }
    }
    return true;
}

static void check_bundle_slots(vd_ctx *x, vd_code *c)
{
    char path[SH_MAX_BUNDLE_PATH + 48];
    const char *sep = *c->root ? "/" : "";
    snprintf(path, sizeof path, "%s%sContents/Info.plist", c->root, sep);
    if (!slot_matches(c, 1, sh_bundle_find(x->b, path))) {
        vd_add(x, SH_RULE_INFO_PLIST_MODIFIED, c->root, SH_E_OK, false,
               "%s does not match special slot 1", path);
        vd_log_rule(x, SH_RULE_INFO_PLIST_MODIFIED, "", path, "");
        c->signature_ok = false;
    }
    snprintf(path, sizeof path, "%s%sContents/_CodeSignature/CodeResources", c->root, sep);
    const sh_bundle_entry *res = sh_bundle_find(x->b, path);
    if (res && !slot_matches(c, 3, res)) {
        vd_add(x, SH_RULE_RESOURCE_ENVELOPE_MODIFIED, c->root, SH_E_OK, false,
               "%s does not match special slot 3", path);
        c->signature_ok = false;
    }
}

void vd_req_subject(const vd_ctx *x, const vd_code *c, sh_req_subject *s)
{
    const sh_slice_check *k = c->primary;
    const sh_codedir *cd = &k->signature.cds[k->signature.best];
    *s = (sh_req_subject){
        .identifier = cd->identifier,
        .cdhash = cd->cdhash,
        .cdhash_len = cd->cdhash_size,
        .chain = k->cms.has_leaf ? &k->cms.chain : NULL,
        .caller_root_is_apple = x->o->trusted_root_is_apple,
        .notarized = c->notarized,
        .entitlements = c->entitlements,
        .platform = cd->platform,
    };
}

/* The designated requirement (slot 2, type 3) must hold for the code itself. */
static void check_designated(vd_ctx *x, vd_code *c)
{
    const sh_slice_check *k = c->primary;
    const sh_blob_entry *reqs = sh_superblob_find(&k->signature.superblob, SH_SLOT_REQUIREMENTS);
    sh_reqset set;
    sh_error err = {0};
    if (!reqs || sh_reqset_parse(&reqs->blob, &set, &err) != SH_E_OK)
        return;
    const sh_reqset_entry *dr = sh_reqset_find(&set, SH_REQ_TYPE_DESIGNATED);
    if (!dr)
        return;
    sh_req_subject s;
    vd_req_subject(x, c, &s);
    sh_req_result r;
    sh_err e = sh_req_evaluate(&dr->blob, &s, &r, &err);
    if (e != SH_E_OK) {
        add_error(x, SH_RULE_SIGNATURE_MALFORMED, c, NULL, &err);
        c->signature_ok = false;
    } else if (!r.satisfied && r.has_unsupported) {
        vd_add(x, SH_RULE_DESIGNATED_REQUIREMENT_UNDECIDED, c->root, SH_E_REQ_EVAL_UNSUPPORTED,
               false, "opcode %u", r.unsupported_op);
    } else if (!r.satisfied) {
        char *text = NULL;
        size_t len;
        sh_req_to_text_alloc(&dr->blob, 0, NULL, &text, &len, NULL, &err);
        vd_add(x, SH_RULE_DESIGNATED_REQUIREMENT_FAILED, c->root, SH_E_OK, false,
               "designated => %s", text ? text : "(undecodable)");
        sh_free(NULL, text);
        c->signature_ok = false;
    }
}

static void collect_facts(vd_ctx *x, vd_code *c)
{
    const sh_slice_check *k = c->primary;
    const sh_codedir *cd = &k->signature.cds[k->signature.best];
    memcpy(c->cdhash, cd->cdhash, SH_CDHASH_LEN);
    c->has_cdhash = true;
    if (cd->team_id && cd->team_id_len < sizeof c->team) {
        memcpy(c->team, cd->team_id, cd->team_id_len);
        c->team[cd->team_id_len] = '\0';
    }
    c->adhoc = (cd->flags & SH_CS_ADHOC) != 0;
    c->runtime = (cd->flags & SH_CS_RUNTIME) != 0;
    c->has_leaf = k->cms.has_leaf;
    c->leaf_kind = k->cms.has_leaf ? k->cms.leaf_kind : SH_CERT_KIND_NONE;
    c->secure_timestamp = k->cms.has_timestamp && k->cms.timestamp_valid;
    const sh_entitlements_check *ent = &k->entitlements;
    if (ent->der_present && ent->der.form != SH_ENT_FORM_NONE)
        c->entitlements = &ent->der.root;
    else if (ent->xml_present && ent->xml.form != SH_ENT_FORM_NONE)
        c->entitlements = &ent->xml.root;
    /* notarised: a cdhash in --notarized, or a stapled ticket naming it (L: ticket contents are
     * Apple-signed and not verified here; the record name carries the cdhash) */
    c->notarized = sh_notary_list_contains(x->o->notarized, c->cdhash);
    char path[SH_MAX_BUNDLE_PATH + 32], hex[2 * SH_CDHASH_LEN + 1];
    snprintf(path, sizeof path, "%s%sContents/CodeResources", c->root, *c->root ? "/" : "");
    const sh_bundle_entry *ticket = x->b ? sh_bundle_find(x->b, path) : NULL;
    vd_hex(c->cdhash, SH_CDHASH_LEN, hex);
    if (!c->notarized && ticket && ticket->kind == SH_BUNDLE_FILE && ticket->len > 0) {
        for (size_t i = 0; i + SH_CDHASH_LEN <= ticket->len && !c->notarized; i++)
            c->notarized = memcmp(ticket->data + i, c->cdhash, SH_CDHASH_LEN) == 0 ||
                           (i + 2 * SH_CDHASH_LEN <= ticket->len &&
                            memcmp(ticket->data + i, hex, 2 * SH_CDHASH_LEN) == 0);
    }
}

void vd_check_code(vd_ctx *x, vd_code *c, const uint8_t *exe, size_t exe_len)
{
    if (exe_len == 0) {
        vd_add(x, SH_RULE_EXECUTABLE_EMPTY, c->root, SH_E_OK, false, "%s is 0 bytes", c->exe);
        return;
    }
    c->present = true;
    sh_inspect_options io = {.now = x->o->now, .trust = x->o->trust, .memo = x->o->memo};
    sh_inspect_bytes(c->exe, exe, exe_len, &io, &c->insp);
    c->inspected = true;
    if (c->insp.parse_result != SH_E_OK) {
        add_error(x, SH_RULE_EXECUTABLE_MALFORMED, c, NULL, &c->insp.parse_err);
        return;
    }
    bool ok = true;
    if (c->insp.structure_result != SH_E_OK) {
        add_error(x, SH_RULE_EXECUTABLE_STRUCTURE, c, NULL, &c->insp.structure_err);
        ok = false;
    }
    for (uint32_t i = 0; i < c->insp.macho.nslices; i++)
        ok = check_slice(x, c, &c->insp.macho.slices[i], &c->insp.slices[i]) && ok;
    c->signature_ok = ok;
    const sh_slice_check *k0 = &c->insp.slices[0];
    if (c->insp.macho.nslices == 0 || k0->signature_result != SH_E_OK)
        return;
    c->primary = k0;
    c->signed_any = true;
    collect_facts(x, c);
    if (x->b)
        check_bundle_slots(x, c);
    check_designated(x, c);
}

void vd_code_free(vd_code *c)
{
    if (c->inspected)
        sh_inspection_free(&c->insp);
    sh_infoplist_free(&c->info);
    memset(c, 0, sizeof *c);
}

bool vd_is_restricted_entitlement(const char *key)
{
    /* macOS: com.apple.security.* (sandbox, hardened-runtime cs.*, get-task-allow, app groups,
     * network client/server) are unrestricted (Quinn, T730398); the developer-program
     * capabilities and the identifiers need a profile (TN3125). */
    return strncmp(key, "com.apple.developer.", 20) == 0 ||
           strcmp(key, "com.apple.application-identifier") == 0 ||
           strcmp(key, "keychain-access-groups") == 0;
}

void vd_summarise(vd_ctx *x, const vd_code *c, const char *role)
{
    sh_verdict *v = x->v;
    if (v->ncodes >= v->cap_codes) {
        size_t ncap = v->cap_codes ? v->cap_codes * 2 : 4;
        sh_code_summary *n = sh_calloc(v->alloc, ncap, sizeof *n);
        if (!n) {
            v->failure = SH_E_NO_MEMORY;
            return;
        }
        if (v->codes)
            memcpy(n, v->codes, v->ncodes * sizeof *n);
        sh_free(v->alloc, v->codes);
        v->codes = n;
        v->cap_codes = ncap;
    }
    sh_code_summary *s = &v->codes[v->ncodes++];
    memset(s, 0, sizeof *s);
    char buf[512] = "", arches[256] = "", hex[2 * SH_CDHASH_LEN + 1] = "";
    const sh_slice_check *k = c->primary;
    s->path = vd_strdup(x, c->root);
    s->role = vd_strdup(x, role);
    s->bundle_id = c->has_info && c->info.identifier ? vd_strdup(x, c->info.identifier) : NULL;
    s->category = c->category ? vd_strdup(x, sh_sysext_category_name(c->category))
                  : c->dext   ? vd_strdup(x, "com.apple.system_extension.driver_extension")
                              : NULL;
    const sh_codedir *cd = k ? &k->signature.cds[k->signature.best] : NULL;
    s->identifier = vd_strdup(x, cd ? cd->identifier : "");
    s->team = vd_strdup(x, c->team);
    s->signer = vd_strdup(x, k && k->cms.has_leaf ? k->cms.leaf.cn : "");
    s->signer_kind = vd_strdup(x, !k ? "unsigned" : c->adhoc ? "ad hoc"
                                                   : sh_cert_kind_name(c->leaf_kind));
    if (k)
        sh_cms_time_line(&k->cms, buf, sizeof buf);
    s->timestamp = vd_strdup(x, buf);
    if (cd)
        sh_codedir_flags_string(cd->flags, buf, sizeof buf);
    s->flags = vd_strdup(x, cd ? buf : "");
    if (c->has_cdhash)
        vd_hex(c->cdhash, SH_CDHASH_LEN, hex);
    s->cdhash = vd_strdup(x, hex);
    size_t n = 0;
    for (uint32_t i = 0; c->inspected && i < c->insp.macho.nslices && n + 32 < sizeof arches; i++) {
        int w = snprintf(arches + n, sizeof arches - n, "%s%s", i ? " " : "",
                         arch_of(&c->insp.macho.slices[i]));
        n += w > 0 ? (size_t)w : 0;
    }
    s->architectures = vd_strdup(x, arches);
    s->signature_valid = c->signed_any && c->signature_ok;
    s->notarized = c->notarized;
}
