/* Allocation-sweep drivers for the parsers (see sweep.h): each runs what the matching fuzz
 * target runs, on one valid input, and fails on the first error. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codedir.h"
#include "cms.h"
#include "coderesources.h"
#include "entitlements.h"
#include "hash.h"
#include "infoplist.h"
#include "macho.h"
#include "profile.h"
#include "requirement.h"
#include "sh_limits.h"
#include "signature.h"
#include "superblob.h"
#include "sweep.h"

#define SWEEP_NOW 1735689600 /* 2025-01-01: inside every sample's validity */

void sweep_mix(sweep *s, const void *data, size_t len)
{
    const uint8_t *p = data;
    uint64_t h = s->fingerprint ? s->fingerprint : 0xcbf29ce484222325ull;
    for (size_t i = 0; i < len; i++)
        h = (h ^ p[i]) * 0x100000001b3ull;
    s->fingerprint = h;
}

void sweep_mix_u64(sweep *s, uint64_t v)
{
    sweep_mix(s, &v, sizeof v);
}

/* The first slice's embedded signature, from the fat sample. */
static sh_err first_signature(sweep *s, sh_macho_file *f, sh_cursor *sig)
{
    sh_error err = {0};
    sh_err r = sh_macho_parse(s->in->macho_fat.data, s->in->macho_fat.len, s->a, f, &err);
    if (r == SH_E_OK && f->nslices == 0)
        r = SH_E_MACHO_TRUNCATED;
    if (r == SH_E_OK)
        r = sh_macho_signature(&f->slices[0], sig, &err);
    return r;
}

int sweep_macho(sweep *s)
{
    sh_macho_file f;
    sh_error err = {0};
    sh_err r = sh_macho_parse(s->in->macho_fat.data, s->in->macho_fat.len, s->a, &f, &err);
    if (r == SH_E_OK)
        r = sh_macho_check_structure(&f, &err);
    for (uint32_t i = 0; r == SH_E_OK && i < f.nslices; i++) {
        sweep_mix_u64(s, f.slices[i].ncmds);
        sweep_mix_u64(s, f.slices[i].nsegments);
    }
    sh_macho_free(&f);
    return (int)r;
}

int sweep_superblob(sweep *s)
{
    sh_macho_file f;
    sh_cursor data;
    sh_err r = first_signature(s, &f, &data);
    sh_superblob sb;
    sh_error err = {0};
    if (r == SH_E_OK)
        r = sh_superblob_parse(&data, 0, &sb, &err);
    for (uint32_t i = 0; r == SH_E_OK && i < sb.count; i++)
        sweep_mix_u64(s, sb.entries[i].type);
    sh_macho_free(&f);
    return (int)r;
}

int sweep_codedir(sweep *s)
{
    sh_macho_file f;
    sh_cursor data;
    sh_err r = first_signature(s, &f, &data);
    sh_signature sig;
    sh_error err = {0};
    if (r == SH_E_OK)
        r = sh_signature_parse(&data, &sig, &err);
    sh_codedir cd;
    if (r == SH_E_OK)
        r = sh_codedir_parse(&sig.cds[0].blob, &cd, &err);
    sh_page_report report;
    if (r == SH_E_OK)
        r = sh_codedir_verify_pages(&cd, &f.slices[0].data, &report, &err);
    if (r == SH_E_OK)
        sweep_mix_u64(s, cd.n_code_slots);
    sh_macho_free(&f);
    return (int)r;
}

int sweep_signature(sweep *s)
{
    sh_macho_file f;
    sh_cursor data;
    sh_err r = first_signature(s, &f, &data);
    sh_signature sig;
    sh_error err = {0};
    if (r == SH_E_OK)
        r = sh_signature_parse(&data, &sig, &err);
    if (r == SH_E_OK)
        r = sh_signature_check_special_slots(&sig, &err);
    sh_page_report report;
    if (r == SH_E_OK)
        r = sh_signature_verify_pages(&sig, &f.slices[0].data, &report, &err);
    if (r == SH_E_OK)
        sweep_mix_u64(s, sig.ncds);
    sh_macho_free(&f);
    return (int)r;
}

int sweep_requirement_decode(sweep *s)
{
    sh_cursor c = sh_cursor_make(s->in->req_blob.data, s->in->req_blob.len);
    sh_err r = SH_E_OK;
    for (unsigned flags = 0; r == SH_E_OK && flags <= SH_REQ_TEXT_LOSSLESS; flags++) {
        char *text = NULL;
        size_t len = 0;
        sh_req_info info;
        sh_error err = {0};
        r = sh_req_to_text_alloc(&c, flags, s->a, &text, &len, &info, &err);
        if (r == SH_E_OK)
            sweep_mix(s, text, len);
        sh_free(s->a, text);
    }
    return (int)r;
}

int sweep_requirement_compile(sweep *s)
{
    uint8_t *blob = NULL;
    size_t len = 0;
    sh_req_diag diag;
    sh_error err = {0};
    sh_err r = sh_req_compile((const char *)s->in->req_text.data, s->in->req_text.len,
                              SH_REQ_PARSE_AUTO, s->a, &blob, &len, &diag, &err);
    if (r == SH_E_OK)
        sweep_mix(s, blob, len);
    sh_free(s->a, blob);
    return (int)r;
}

/* Parses, encodes the tree to DER and parses that again: the encoder is swept too. */
static sh_err entitlements_round_trip(sweep *s, const sh_entitlements *e)
{
    uint8_t *der = NULL;
    size_t len = 0;
    sh_ent_path path;
    sh_error err = {0};
    sh_err r = sh_entitlements_encode_der(&e->root, s->a, &der, &len, &path, &err);
    sh_entitlements back;
    if (r == SH_E_OK) {
        sweep_mix(s, der, len);
        sh_cursor c = sh_cursor_make(der, len);
        r = sh_entitlements_parse_der(&c, s->a, &back, &path, &err);
        if (r == SH_E_OK)
            sh_entitlements_free(&back);
    }
    sh_free(s->a, der);
    return r;
}

int sweep_entitlements_xml(sweep *s)
{
    sh_cursor c = sh_cursor_make(s->in->ent_xml.data, s->in->ent_xml.len);
    sh_entitlements e;
    sh_ent_path path;
    sh_error err = {0};
    sh_err r = sh_entitlements_parse_xml(&c, s->a, &e, &path, &err);
    if (r == SH_E_OK) {
        r = entitlements_round_trip(s, &e);
        sh_entitlements_free(&e);
    }
    return (int)r;
}

int sweep_entitlements_der(sweep *s)
{
    sh_cursor c = sh_cursor_make(s->in->ent_der.data, s->in->ent_der.len);
    sh_entitlements e;
    sh_ent_path path;
    sh_error err = {0};
    sh_err r = sh_entitlements_parse_der(&c, s->a, &e, &path, &err);
    if (r == SH_E_OK) {
        r = entitlements_round_trip(s, &e);
        sh_entitlements_free(&e);
    }
    return (int)r;
}

/* The fuzz_cms seed layout: CodeDirectory blobs, then the BlobWrapper payload. */
static uint32_t take_codedirs(sh_cursor *c, sh_codedir *cds, uint32_t max)
{
    uint32_t n = 0, magic, length;
    while (n < max && sh_cursor_u32be_at(c, 0, &magic) && magic == SH_MAGIC_CODEDIRECTORY &&
           sh_cursor_u32be_at(c, 4, &length)) {
        sh_cursor blob;
        sh_error err;
        if (!sh_cursor_take(c, length, &blob) || sh_codedir_parse(&blob, &cds[n], &err) != SH_E_OK)
            break;
        n++;
    }
    return n;
}

/* Parse, then verify trusting every certificate the CMS carries (so the chain, team and
 * timestamp stages run, not only the first anchor check). */
int sweep_cms(sweep *s)
{
    sh_cursor c = sh_cursor_make(s->in->cms_seed.data, s->in->cms_seed.len);
    sh_codedir cds[1 + SH_MAX_ALTERNATE_CDS];
    uint32_t ncds = take_codedirs(&c, cds, 1 + SH_MAX_ALTERNATE_CDS);
    sh_cms cms;
    sh_error err = {0};
    sh_err r = sh_cms_parse(&c, &cms, &err);
    if (r == SH_E_OK && ncds == 0)
        r = SH_E_CMS_MALFORMED;
    if (r == SH_E_OK) {
        X509 *anchors[SH_MAX_CMS_CERTS];
        sh_trust all = {.anchor_x509 = anchors};
        for (uint32_t i = 0; i < cms.ncerts && i < SH_MAX_CMS_CERTS; i++)
            anchors[all.n_anchor_x509++] = sk_X509_value(cms.certs, (int)i);
        uint32_t best = 0;
        for (uint32_t i = 1; i < ncds; i++)
            if (sh_hash_rank(cds[i].hash_type) > sh_hash_rank(cds[best].hash_type))
                best = i;
        sh_cms_code code = {.cds = cds, .ncds = ncds, .best = best};
        sh_cms_options opt = {.now = SWEEP_NOW, .trust = all};
        sh_cms_report report;
        r = sh_cms_verify(&cms, &code, &opt, &report, &err);
        sweep_mix_u64(s, (uint64_t)report.failed_stage);
        sweep_mix_u64(s, (uint64_t)report.leaf_kind);
    }
    sh_cms_free(&cms);
    return (int)r;
}

/* Parse (CMS, chain to the pinned Apple roots, plist, keys), then render both ways.  The
 * signature's verdict is recorded apart from decoding (p.sig.result): a failure there, such as
 * NO_MEMORY during chain building, fails the run. */
int sweep_profile(sweep *s)
{
    sh_profile_options options = {.now = SWEEP_NOW};
    sh_profile p;
    sh_error err = {0};
    sh_err r = sh_profile_parse(s->in->profile.data, s->in->profile.len, s->a, &options, &p, &err);
    if (p.decoded) {
        if (r == SH_E_OK)
            r = p.sig.result;
        sweep_mix_u64(s, p.devices.count);
        sweep_mix_u64(s, p.ncerts);
        sweep_mix_u64(s, (uint64_t)p.sig.result);
        FILE *out = fopen("/dev/null", "w");
        if (out) {
            sh_profile_write_summary(&p, out);
            if (!sh_profile_write_xml(&p, out))
                r = SH_E_NO_MEMORY;
            fclose(out);
        }
    } else if (r == SH_E_OK) {
        r = SH_E_PROFILE_NOT_CMS;
    }
    sh_profile_free(&p);
    return (int)r;
}

int sweep_coderesources(sweep *s)
{
    sh_cursor c = sh_cursor_make(s->in->coderesources.data, s->in->coderesources.len);
    sh_coderesources cr;
    sh_res_where where;
    sh_error err = {0};
    sh_err r = sh_coderesources_parse(&c, s->a, &cr, &where, &err);
    if (r != SH_E_OK)
        return (int)r;
    sh_res_matcher m;
    const sh_res_rules *rules = cr.rules2.present ? &cr.rules2 : &cr.rules;
    r = sh_res_matcher_init(&m, rules, s->a, &err);
    if (r == SH_E_OK) {
        for (size_t i = 0; r == SH_E_OK && i < cr.files2.count; i++) {
            sh_res_match match;
            r = sh_res_matcher_match(&m, cr.files2.items[i].path, &match, &err);
            sweep_mix_u64(s, match.index);
        }
        sh_res_matcher_free(&m);
    }
    sh_res_rules def;
    if (r == SH_E_OK && (r = sh_res_default_rules2(s->a, &def, &err)) == SH_E_OK)
        sh_res_rules_free(s->a, &def);
    sweep_mix_u64(s, cr.files.count);
    sweep_mix_u64(s, cr.files2.count);
    sh_coderesources_free(&cr);
    return (int)r;
}

int sweep_infoplist(sweep *s)
{
    sh_cursor c = sh_cursor_make(s->in->infoplist.data, s->in->infoplist.len);
    sh_infoplist info;
    sh_error err = {0};
    sh_err r = sh_infoplist_parse(&c, s->a, &info, &err);
    if (r == SH_E_OK) {
        sweep_mix_u64(s, (uint64_t)sh_infoplist_category(&info));
        sweep_mix_u64(s, info.ne_nproviders);
        sh_infoplist_free(&info);
    }
    return (int)r;
}
