/* JSON output of `sigharness inspect --json`; the schema is documented in docs/inspect-json.md.
 * Bump SH_INSPECT_JSON_SCHEMA on any incompatible change. */
#include "inspect.h"
#include "json.h"
#include "plist_xml.h"

#include <stdlib.h>

static void json_error(sh_json *j, const char *key, sh_err result, const sh_error *err)
{
    sh_json_key(j, key);
    if (result == SH_E_OK) {
        sh_json_null(j);
        return;
    }
    char msg[512];
    sh_error_format(err, msg, sizeof msg);
    int status = sh_err_errsec(err->code);
    sh_json_object_begin(j);
    sh_json_kv_string(j, "code", sh_err_name(err->code));
    sh_json_kv_int(j, "errsec", status);
    sh_json_kv_string(j, "errsec_name", sh_errsec_name(status));
    sh_json_kv_string(j, "message", msg);
    sh_json_kv_string(j, "where", err->where);
    sh_json_kv_int(j, "index", err->index);
    sh_json_kv_uint(j, "offset", err->offset);
    sh_json_key(j, "value");
    if (err->has_value)
        sh_json_uint(j, err->value);
    else
        sh_json_null(j);
    sh_json_object_end(j);
}

static void json_load_commands(sh_json *j, const sh_macho_slice *s)
{
    sh_json_key(j, "load_commands");
    sh_json_array_begin(j);
    for (uint32_t i = 0; i < s->ncmds; i++) {
        const sh_macho_load_command *lc = &s->commands[i];
        sh_json_object_begin(j);
        sh_json_kv_string(j, "cmd", sh_macho_load_command_name(lc->cmd));
        sh_json_kv_uint(j, "cmd_value", lc->cmd);
        sh_json_kv_uint(j, "cmdsize", lc->cmdsize);
        sh_json_kv_uint(j, "offset", lc->offset);
        sh_json_object_end(j);
    }
    sh_json_array_end(j);
}

static void json_sections(sh_json *j, const sh_macho_slice *s, const sh_macho_segment *seg)
{
    sh_json_key(j, "sections");
    sh_json_array_begin(j);
    for (uint32_t k = 0; k < seg->nsects; k++) {
        const sh_macho_section *sec = &s->sections[seg->first_section + k];
        sh_json_object_begin(j);
        sh_json_kv_string(j, "name", sec->sectname);
        sh_json_kv_uint(j, "addr", sec->addr);
        sh_json_kv_uint(j, "size", sec->size);
        sh_json_kv_uint(j, "offset", sec->offset);
        sh_json_kv_uint(j, "flags", sec->flags);
        sh_json_object_end(j);
    }
    sh_json_array_end(j);
}

static void json_segments(sh_json *j, const sh_macho_slice *s)
{
    sh_json_key(j, "segments");
    sh_json_array_begin(j);
    for (uint32_t i = 0; i < s->nsegments; i++) {
        const sh_macho_segment *seg = &s->segments[i];
        sh_json_object_begin(j);
        sh_json_kv_string(j, "name", seg->segname);
        sh_json_kv_uint(j, "vmaddr", seg->vmaddr);
        sh_json_kv_uint(j, "vmsize", seg->vmsize);
        sh_json_kv_uint(j, "fileoff", seg->fileoff);
        sh_json_kv_uint(j, "filesize", seg->filesize);
        sh_json_kv_uint(j, "maxprot", seg->maxprot);
        sh_json_kv_uint(j, "initprot", seg->initprot);
        json_sections(j, s, seg);
        sh_json_object_end(j);
    }
    sh_json_array_end(j);
}

static void json_version(sh_json *j, const char *key, uint32_t v)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%u.%u.%u", v >> 16, (v >> 8) & 0xff, v & 0xff);
    sh_json_kv_string(j, key, buf);
}

static void json_slice_header(sh_json *j, const sh_macho_slice *s)
{
    sh_json_kv_string(j, "arch", sh_macho_cpu_name(s->cputype, s->cpusubtype));
    sh_json_kv_int(j, "cputype", s->cputype);
    sh_json_kv_int(j, "cpusubtype", s->cpusubtype);
    sh_json_kv_uint(j, "offset", s->offset);
    sh_json_kv_uint(j, "size", s->size);
    sh_json_kv_bool(j, "is64", s->is64);
    sh_json_kv_bool(j, "big_endian", s->big_endian);
    sh_json_kv_string(j, "filetype", sh_macho_filetype_name(s->filetype));
    sh_json_kv_hex32(j, "flags", s->flags);
    sh_json_kv_uint(j, "ncmds", s->ncmds);
    sh_json_kv_uint(j, "sizeofcmds", s->sizeofcmds);
    sh_json_key(j, "uuid");
    if (s->has_uuid)
        sh_json_hex(j, s->uuid, sizeof s->uuid);
    else
        sh_json_null(j);
    sh_json_key(j, "build_version");
    if (s->has_build_version) {
        sh_json_object_begin(j);
        sh_json_kv_string(j, "platform", sh_macho_platform_name(s->platform));
        json_version(j, "minos", s->minos);
        json_version(j, "sdk", s->sdk);
        sh_json_object_end(j);
    } else {
        sh_json_null(j);
    }
}

static void json_superblob(sh_json *j, const sh_superblob *sb)
{
    sh_json_key(j, "superblob");
    sh_json_object_begin(j);
    sh_json_kv_hex32(j, "magic", sb->magic);
    sh_json_kv_uint(j, "length", sb->length);
    sh_json_kv_uint(j, "count", sb->count);
    sh_json_kv_bool(j, "out_of_order", sb->out_of_order);
    sh_json_key(j, "blobs");
    sh_json_array_begin(j);
    for (uint32_t i = 0; i < sb->count; i++) {
        const sh_blob_entry *e = &sb->entries[i];
        sh_json_object_begin(j);
        sh_json_kv_hex32(j, "slot", e->type);
        sh_json_kv_string(j, "slot_name", sh_slot_name(e->type));
        sh_json_kv_uint(j, "offset", e->offset);
        sh_json_kv_bool(j, "present", e->present);
        sh_json_kv_hex32(j, "magic", e->magic);
        sh_json_kv_uint(j, "length", e->length);
        sh_json_object_end(j);
    }
    sh_json_array_end(j);
    sh_json_object_end(j);
}

static void json_special_slots(sh_json *j, const sh_codedir *cd)
{
    sh_json_key(j, "special_slots");
    sh_json_array_begin(j);
    for (uint32_t slot = 1; slot <= cd->n_special_slots; slot++) {
        sh_cursor h;
        if (!sh_codedir_special_present(cd, slot) || !sh_codedir_special_hash(cd, slot, &h))
            continue;
        sh_json_object_begin(j);
        sh_json_kv_uint(j, "slot", slot);
        sh_json_kv_string(j, "name", sh_slot_name(slot));
        sh_json_key(j, "hash");
        sh_json_hex(j, h.p, h.len);
        sh_json_object_end(j);
    }
    sh_json_array_end(j);
}

static void json_pages(sh_json *j, const sh_cd_check *c)
{
    sh_json_key(j, "pages");
    sh_json_object_begin(j);
    sh_json_kv_bool(j, "ok", c->pages_result == SH_E_OK);
    sh_json_kv_uint(j, "checked", c->pages.pages_checked);
    sh_json_kv_uint(j, "bad", c->pages.pages_bad);
    sh_json_kv_int(j, "first_bad", c->pages.first_bad);
    sh_json_kv_int(j, "last_bad", c->pages.last_bad);
    json_error(j, "error", c->pages_result, &c->pages_err);
    sh_json_object_end(j);
}

static void json_code_directory(sh_json *j, const sh_codedir *cd, uint32_t slot,
                                const sh_cd_check *check)
{
    char flags[256];
    sh_codedir_flags_string(cd->flags, flags, sizeof flags);
    sh_json_object_begin(j);
    sh_json_kv_hex32(j, "slot", slot);
    sh_json_kv_hex32(j, "version", cd->version);
    sh_json_kv_uint(j, "size", cd->length);
    sh_json_kv_hex32(j, "flags", cd->flags);
    sh_json_kv_string(j, "flags_text", flags);
    sh_json_key(j, "identifier");
    sh_json_string_n(j, cd->identifier, cd->identifier_len);
    sh_json_key(j, "team_id");
    if (cd->team_id)
        sh_json_string_n(j, cd->team_id, cd->team_id_len);
    else
        sh_json_null(j);
    sh_json_kv_string(j, "hash_type", sh_hash_name(cd->hash_type));
    sh_json_kv_uint(j, "hash_size", cd->hash_size);
    sh_json_kv_uint(j, "page_size", cd->page_shift ? 1ull << cd->page_shift : 0);
    sh_json_kv_uint(j, "code_limit", cd->effective_limit);
    sh_json_kv_uint(j, "n_code_slots", cd->n_code_slots);
    sh_json_kv_uint(j, "n_special_slots", cd->n_special_slots);
    sh_json_kv_uint(j, "platform", cd->platform);
    if (cd->version >= SH_CD_VERSION_EXECSEG) {
        sh_json_kv_uint(j, "exec_seg_base", cd->exec_seg_base);
        sh_json_kv_uint(j, "exec_seg_limit", cd->exec_seg_limit);
        sh_json_kv_uint(j, "exec_seg_flags", cd->exec_seg_flags);
    }
    if (cd->version >= SH_CD_VERSION_RUNTIME)
        json_version(j, "runtime", cd->runtime);
    sh_json_key(j, "cdhash");
    sh_json_hex(j, cd->cdhash, SH_CDHASH_LEN);
    sh_json_key(j, "cdhash_full");
    sh_json_hex(j, cd->cdhash, cd->cdhash_size);
    json_special_slots(j, cd);
    json_pages(j, check);
    sh_json_object_end(j);
}

static void json_entitlements(sh_json *j, const sh_entitlements_check *ent)
{
    sh_json_key(j, "entitlements");
    if (!ent->xml_present && !ent->der_present) {
        sh_json_null(j);
        return;
    }
    sh_json_object_begin(j);
    sh_json_kv_bool(j, "xml", ent->xml_present);
    sh_json_kv_bool(j, "der", ent->der_present);
    sh_json_kv_string(j, "der_form", ent->der_present ? sh_ent_form_name(ent->der.form) : NULL);
    bool decoded = ent->result == SH_E_OK || ent->result == SH_E_ENT_MISMATCH;
    sh_json_key(j, "equivalent");
    if (decoded && ent->xml_present && ent->der_present)
        sh_json_bool(j, ent->result == SH_E_OK);
    else
        sh_json_null(j);
    sh_json_kv_string(j, "difference",
                      ent->result == SH_E_ENT_MISMATCH ? ent->difference : NULL);
    char *xml = decoded ? sh_plist_xml_string(ent->xml_present ? &ent->xml.root : &ent->der.root)
                        : NULL;
    sh_json_kv_string(j, "plist", xml);
    free(xml);
    json_error(j, "error", ent->result, &ent->err);
    sh_json_object_end(j);
}

static const char *anchor_key(sh_anchor_kind anchor)
{
    switch (anchor) {
    case SH_ANCHOR_APPLE_ROOT: return "apple-root";
    case SH_ANCHOR_CALLER: return "given-root";
    default: return "none";
    }
}

static void json_time(sh_json *j, const char *key, bool present, int64_t t)
{
    sh_json_key(j, key);
    if (present)
        sh_json_int(j, t);
    else
        sh_json_null(j);
}

static void json_cms(sh_json *j, const sh_slice_check *check)
{
    const sh_cms_report *r = &check->cms;
    static const char *const time_kinds[] = {"none", "signed-time", "timestamp"};
    sh_json_key(j, "cms");
    sh_json_object_begin(j);
    sh_json_kv_bool(j, "verified", check->cms_result == SH_E_OK);
    sh_json_kv_bool(j, "adhoc", r->adhoc);
    sh_json_kv_string(j, "failed_stage", r->failed_stage ? sh_cms_stage_name(r->failed_stage) : NULL);
    json_error(j, "error", check->cms_result, &check->cms_err);
    sh_json_kv_string(j, "leaf_kind", r->has_leaf ? sh_cert_kind_name(r->leaf_kind) : NULL);
    sh_json_kv_string(j, "leaf_team", r->has_leaf && r->leaf.has_ou ? r->leaf.ou : NULL);
    sh_json_key(j, "authorities");
    sh_json_array_begin(j);
    for (uint32_t i = 0; i < r->chain.length && i < SH_MAX_CMS_CHAIN_DEPTH + 2; i++)
        sh_json_string(j, r->chain.certs[i].cn);
    sh_json_array_end(j);
    sh_json_kv_string(j, "anchor", anchor_key(r->chain.anchor));
    sh_json_kv_string(j, "time_kind", time_kinds[sh_cms_report_time_kind(r)]);
    json_time(j, "signing_time", r->has_signing_time, r->signing_time);
    json_time(j, "timestamp", r->has_timestamp && r->timestamp_valid, r->timestamp_time);
    sh_json_kv_string(j, "tsa", r->has_timestamp ? r->tsa_name : NULL);
    sh_json_kv_bool(j, "cdhashes_checked", r->cdhashes_checked);
    sh_json_kv_bool(j, "cdhashes2_checked", r->cdhashes2_checked);
    sh_json_kv_bool(j, "expired", r->expired);
    sh_json_kv_bool(j, "expired_at_now", r->expired_at_now);
    sh_json_object_end(j);
}

static void json_signature(sh_json *j, const sh_slice_check *check)
{
    const sh_signature *sig = &check->signature;
    sh_json_key(j, "signature");
    sh_json_object_begin(j);
    sh_json_kv_uint(j, "offset", check->signature_offset);
    sh_json_kv_uint(j, "size", check->signature_size);
    json_superblob(j, &sig->superblob);
    sh_json_key(j, "code_directories");
    sh_json_array_begin(j);
    for (uint32_t i = 0; i < sig->ncds; i++)
        json_code_directory(j, &sig->cds[i], sig->cd_slots[i], &check->cds[i]);
    sh_json_array_end(j);
    sh_json_kv_uint(j, "best", sig->best);
    sh_json_key(j, "cdhash");
    sh_json_hex(j, sig->cds[sig->best].cdhash, SH_CDHASH_LEN);
    bool adhoc = sh_signature_cms_empty(sig);
    sh_json_kv_string(j, "kind", adhoc ? "adhoc" : "cms");
    sh_json_kv_uint(j, "cms_size", adhoc ? 0 : sh_signature_cms(sig)->length - 8);
    sh_json_key(j, "requirements");
    if (check->requirements)
        sh_json_string(j, check->requirements);
    else
        sh_json_null(j);
    json_error(j, "requirements_error", check->requirements_result, &check->requirements_err);
    json_entitlements(j, &check->entitlements);
    json_cms(j, check);
    sh_json_kv_bool(j, "special_slots_ok", check->slots_result == SH_E_OK);
    json_error(j, "special_slots_error", check->slots_result, &check->slots_err);
    sh_json_object_end(j);
}

static void json_slice(sh_json *j, const sh_macho_slice *s, const sh_slice_check *check)
{
    sh_json_object_begin(j);
    json_slice_header(j, s);
    json_load_commands(j, s);
    json_segments(j, s);
    sh_json_kv_bool(j, "signed", check->signature_result != SH_E_MACHO_UNSIGNED);
    if (check->signature_result == SH_E_OK)
        json_signature(j, check);
    else {
        sh_json_key(j, "signature");
        sh_json_null(j);
    }
    json_error(j, "error", check->signature_result, &check->signature_err);
    sh_json_object_end(j);
}

static const char *result_name(int exit_code)
{
    switch (exit_code) {
    case SH_EXIT_OK: return "valid";
    case SH_EXIT_INVALID: return "invalid";
    case SH_EXIT_MALFORMED: return "malformed";
    default: return "unreadable";
    }
}

void sh_inspection_print_json(const sh_inspection *in, FILE *out)
{
    sh_json j;
    sh_json_init(&j, out);
    sh_json_object_begin(&j);
    sh_json_kv_string(&j, "schema", SH_INSPECT_JSON_SCHEMA);
    sh_json_kv_string(&j, "path", in->path);
    sh_json_kv_string(&j, "result", result_name(in->exit_code));
    sh_json_kv_int(&j, "exit_code", in->exit_code);
    sh_json_kv_uint(&j, "file_size", in->size);
    if (in->read_result != SH_E_OK) {
        sh_json_kv_string(&j, "read_error", in->read_why);
    } else if (in->parse_result != SH_E_OK) {
        json_error(&j, "error", in->parse_result, &in->parse_err);
    } else {
        sh_json_kv_string(&j, "format", in->macho.fat ? "fat" : "thin");
        sh_json_kv_hex32(&j, "magic", in->macho.fat ? in->macho.fat_magic
                                                    : in->macho.slices[0].magic);
        json_error(&j, "structure_error", in->structure_result, &in->structure_err);
        sh_json_key(&j, "slices");
        sh_json_array_begin(&j);
        for (uint32_t i = 0; i < in->macho.nslices; i++)
            json_slice(&j, &in->macho.slices[i], &in->slices[i]);
        sh_json_array_end(&j);
    }
    sh_json_object_end(&j);
    fputc('\n', out);
}
