/* Text output in the shape of `codesign -d -vvvv`, one block per architecture, followed by the
 * verification results codesign --verify would give. */
#include <inttypes.h>
#include <stdlib.h>

#include "inspect.h"
#include "plist_xml.h"

static void print_hex(FILE *out, const uint8_t *bytes, size_t len)
{
    for (size_t i = 0; i < len; i++)
        fprintf(out, "%02x", bytes[i]);
}

static void print_error(FILE *out, const char *label, const sh_error *err)
{
    char msg[512];
    sh_error_format(err, msg, sizeof msg);
    int status = sh_err_errsec(err->code);
    const char *status_name = sh_errsec_name(status);
    fprintf(out, "%s: %s [%s; %s %d]\n", label, msg, sh_err_name(err->code),
            status_name ? status_name : "?", status);
}

static void print_version(FILE *out, const char *label, uint32_t v)
{
    fprintf(out, "%s=%u.%u.%u\n", label, v >> 16, (v >> 8) & 0xff, v & 0xff);
}

static void print_format(const sh_inspection *in, FILE *out)
{
    const sh_macho_file *m = &in->macho;
    fprintf(out, "Format=Mach-O %s (", m->fat ? "universal" : "thin");
    for (uint32_t i = 0; i < m->nslices; i++)
        fprintf(out, "%s%s", i ? " " : "",
                sh_macho_cpu_name(m->slices[i].cputype, m->slices[i].cpusubtype));
    fputs(")\n", out);
}

static uint32_t requirements_count(const sh_signature *sig, uint32_t *size)
{
    const sh_blob_entry *req = sh_superblob_find(&sig->superblob, SH_SLOT_REQUIREMENTS);
    uint32_t count = 0;
    *size = 0;
    if (req && req->present) {
        *size = req->length;
        if (!sh_cursor_u32be_at(&req->blob, 8, &count))
            count = 0;
    }
    return count;
}

static void print_code_directory(const sh_codedir *cd, FILE *out)
{
    char flags[256];
    sh_codedir_flags_string(cd->flags, flags, sizeof flags);
    fprintf(out,
            "CodeDirectory v=%" PRIx32 " size=%" PRIu32 " flags=0x%" PRIx32 "(%s) hashes=%" PRIu32
            "+%" PRIu32 " location=embedded\n",
            cd->version, cd->length, cd->flags, flags, cd->n_code_slots, cd->n_special_slots);
}

static void print_candidates(const sh_signature *sig, FILE *out)
{
    for (uint32_t i = 0; i < sig->ncds; i++) {
        const sh_codedir *cd = &sig->cds[i];
        const char *name = sh_hash_name(cd->hash_type);
        fprintf(out, "CandidateCDHash %s=", name);
        print_hex(out, cd->cdhash, SH_CDHASH_LEN);
        fprintf(out, "\nCandidateCDHashFull %s=", name);
        print_hex(out, cd->cdhash, cd->cdhash_size);
        fputc('\n', out);
    }
    fputs("Hash choices=", out);
    for (uint32_t i = 0; i < sig->ncds; i++)
        fprintf(out, "%s%s", i ? "," : "", sh_hash_name(sig->cds[i].hash_type));
    fputc('\n', out);
}

static void print_exec_segment(const sh_codedir *cd, FILE *out)
{
    if (cd->version < SH_CD_VERSION_EXECSEG)
        return;
    fprintf(out, "Executable Segment base=%" PRIu64 "\n", cd->exec_seg_base);
    fprintf(out, "Executable Segment limit=%" PRIu64 "\n", cd->exec_seg_limit);
    fprintf(out, "Executable Segment flags=0x%" PRIx64 "\n", cd->exec_seg_flags);
}

static void print_page_results(const sh_signature *sig, const sh_slice_check *check, FILE *out)
{
    for (uint32_t i = 0; i < sig->ncds; i++) {
        const sh_cd_check *c = &check->cds[i];
        const char *name = sh_hash_name(sig->cds[i].hash_type);
        if (c->pages_result == SH_E_OK)
            fprintf(out, "Page hashes %s=verified (%" PRIu32 " pages)\n", name,
                    c->pages.pages_checked);
        else if (c->pages_result == SH_E_CD_PAGE_HASH_MISMATCH)
            fprintf(out,
                    "Page hashes %s=FAILED: %" PRIu32 " of %" PRIu32
                    " pages differ, first page %" PRId64 " (offset 0x%" PRIx64 ")\n",
                    name, c->pages.pages_bad, c->pages.pages_checked, c->pages.first_bad,
                    c->pages_err.offset);
        else
            print_error(out, "Page hashes FAILED", &c->pages_err);
    }
}

static void print_requirements(const sh_slice_check *check, FILE *out)
{
    if (check->requirements_result != SH_E_OK)
        print_error(out, "Requirements malformed", &check->requirements_err);
    else if (check->requirements && check->requirements[0])
        fputs(check->requirements, out);
    else
        fputs("# no internal requirements\n", out);
}

/* Authority= lines (the chain, leaf first) and Timestamp= or Signed Time=, as codesign -dv. */
static void print_cms_identity(const sh_cms_report *r, FILE *out)
{
    for (uint32_t i = 0; i < r->chain.length && i < SH_MAX_CMS_CHAIN_DEPTH + 2; i++)
        fprintf(out, "Authority=%s\n", r->chain.certs[i].cn);
    if (r->chain.length == 0 && r->has_leaf)
        fprintf(out, "Authority=%s\n", r->leaf.cn);
    char line[128];
    sh_cms_time_line(r, line, sizeof line);
    if (line[0])
        fprintf(out, "%s\n", line);
}

static const char *anchor_name(sh_anchor_kind anchor)
{
    switch (anchor) {
    case SH_ANCHOR_APPLE_ROOT: return "the pinned Apple Root CA";
    case SH_ANCHOR_CALLER: return "a root given with --root";
    default: return "no trusted root";
    }
}

static void print_cms_result(const sh_slice_check *check, FILE *out)
{
    const sh_cms_report *r = &check->cms;
    if (check->cms_result != SH_E_OK) {
        char label[96];
        snprintf(label, sizeof label, "CMS signature FAILED (%s)", sh_cms_stage_name(r->failed_stage));
        print_error(out, label, &check->cms_err);
        return;
    }
    if (r->adhoc) {
        fputs("CMS signature=none (ad hoc)\n", out);
        return;
    }
    fprintf(out, "CMS signature=verified (%s, chain to %s%s%s)\n", sh_cert_kind_name(r->leaf_kind),
            anchor_name(r->chain.anchor), r->expired ? "; certificate expired, accepted" : "",
            r->has_timestamp ? "" : "; no secure timestamp");
}

static const char *entitlements_source(const sh_entitlements_check *ent)
{
    if (ent->xml_present && ent->der_present)
        return "XML and DER blobs";
    return ent->xml_present ? "XML blob only" : "DER blob only";
}

static void print_entitlements(const sh_entitlements_check *ent, bool full, FILE *out)
{
    if (!ent->xml_present && !ent->der_present) {
        fputs("Entitlements=none\n", out);
        return;
    }
    if (ent->result != SH_E_OK && ent->result != SH_E_ENT_MISMATCH) {
        print_error(out, "Entitlements malformed", &ent->err);
        return;
    }
    if (ent->result == SH_E_ENT_MISMATCH)
        fprintf(out, "Entitlements=%s, which DIFFER: %s\n", entitlements_source(ent),
                ent->difference);
    else
        fprintf(out, "Entitlements=%s%s\n", entitlements_source(ent),
                ent->xml_present && ent->der_present ? ", equivalent" : "");
    if (!full)
        return;
    if (!ent->xml_present)
        fprintf(out, "# DER entitlements (%s form) rendered as XML; there is no XML blob\n",
                sh_ent_form_name(ent->der.form));
    sh_plist_write_xml(ent->xml_present ? &ent->xml.root : &ent->der.root, out);
}

static void print_signature(const sh_slice_check *check, const sh_inspect_options *opt,
                            FILE *out)
{
    const sh_signature *sig = &check->signature;
    const sh_codedir *best = &sig->cds[sig->best];
    fprintf(out, "Identifier=%.*s\n", (int)best->identifier_len, best->identifier);
    print_code_directory(&sig->cds[0], out);
    fprintf(out, "Hash type=%s size=%u\n", sh_hash_name(best->hash_type), best->hash_size);
    print_candidates(sig, out);
    print_exec_segment(best, out);
    fprintf(out, "Page size=%u\n", best->page_shift ? 1u << best->page_shift : 0u);
    if (best->version >= SH_CD_VERSION_RUNTIME && best->runtime)
        print_version(out, "Runtime Version", best->runtime);
    fputs("CDHash=", out);
    print_hex(out, best->cdhash, SH_CDHASH_LEN);
    fputc('\n', out);
    if (sh_signature_cms_empty(sig))
        fputs("Signature=adhoc\n", out);
    else
        fprintf(out, "Signature size=%" PRIu32 "\n", sh_signature_cms(sig)->length - 8);
    print_cms_identity(&check->cms, out);
    if (best->team_id)
        fprintf(out, "TeamIdentifier=%.*s\n", (int)best->team_id_len, best->team_id);
    else
        fputs("TeamIdentifier=not set\n", out);
    uint32_t req_size;
    uint32_t req_count = requirements_count(sig, &req_size);
    if (req_size == 0)
        fputs("Internal requirements=none\n", out);
    else
        fprintf(out, "Internal requirements count=%" PRIu32 " size=%" PRIu32 "\n", req_count,
                req_size);
    print_page_results(sig, check, out);
    if (check->slots_result == SH_E_OK)
        fputs("Special slots=verified\n", out);
    else
        print_error(out, "Special slots FAILED", &check->slots_err);
    print_cms_result(check, out);
    print_entitlements(&check->entitlements, opt->entitlements, out);
    if (opt->requirements || check->requirements_result != SH_E_OK)
        print_requirements(check, out);
}

static void print_slice(const sh_inspection *in, const sh_inspect_options *opt, uint32_t i,
                        FILE *out)
{
    const sh_macho_slice *s = &in->macho.slices[i];
    const sh_slice_check *check = &in->slices[i];
    fprintf(out, "--- Architecture=%s (slice %" PRIu32 " of %" PRIu32 ", offset %" PRIu64
            ", size %" PRIu64 ", %s)\n",
            sh_macho_cpu_name(s->cputype, s->cpusubtype), i + 1, in->macho.nslices, s->offset,
            s->size, sh_macho_filetype_name(s->filetype));
    if (check->signature_result == SH_E_MACHO_UNSIGNED) {
        fputs("code object is not signed at all\n", out);
        return;
    }
    if (check->signature_result != SH_E_OK) {
        print_error(out, "Signature malformed", &check->signature_err);
        return;
    }
    print_signature(check, opt, out);
}

void sh_inspection_print_text(const sh_inspection *in, const sh_inspect_options *opt, FILE *out)
{
    if (in->read_result != SH_E_OK) {
        fprintf(out, "%s: cannot read: %s\n", in->path, in->read_why);
        return;
    }
    char *abs = realpath(in->path, NULL);
    fprintf(out, "Executable=%s\n", abs ? abs : in->path);
    free(abs);
    if (in->parse_result != SH_E_OK) {
        print_error(out, "Malformed", &in->parse_err);
        return;
    }
    print_format(in, out);
    if (in->structure_result == SH_E_OK)
        fputs("Structure=valid\n", out);
    else
        print_error(out, "Structure invalid", &in->structure_err);
    for (uint32_t i = 0; i < in->macho.nslices; i++)
        print_slice(in, opt, i, out);
    fprintf(out, "Result=%s\n", in->exit_code == SH_EXIT_OK        ? "valid"
                                : in->exit_code == SH_EXIT_INVALID ? "invalid"
                                                                   : "malformed");
}
