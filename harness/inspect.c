#include "inspect.h"

#include <stdlib.h>
#include <string.h>

#include "readfile.h"
#include "requirement.h"

int sh_exit_worst(int a, int b)
{
    static const int rank[] = {[SH_EXIT_OK] = 0, [SH_EXIT_INVALID] = 1, [SH_EXIT_MALFORMED] = 2,
                               [SH_EXIT_IO] = 3, [SH_EXIT_USAGE] = 4};
    if (a < SH_EXIT_OK || a > SH_EXIT_IO)
        return a;
    if (b < SH_EXIT_OK || b > SH_EXIT_IO)
        return b;
    return rank[b] > rank[a] ? b : a;
}

/* Records a failed step: running out of memory is no verdict on the file, so it ranks with
 * failing to read it (SH_EXIT_IO) rather than as "malformed" or "invalid". */
static void worsen(int *exit_code, sh_err result, int code)
{
    *exit_code = sh_exit_worst(*exit_code, result == SH_E_NO_MEMORY ? SH_EXIT_IO : code);
}

static void decode_requirements(const sh_signature *sig, sh_slice_check *check, int *exit_code)
{
    const sh_blob_entry *req = sh_superblob_find(&sig->superblob, SH_SLOT_REQUIREMENTS);
    if (!req)
        return;
    size_t len;
    check->requirements_result = sh_req_to_text_alloc(&req->blob, 0, NULL, &check->requirements,
                                                      &len, NULL, &check->requirements_err);
    if (check->requirements_result != SH_E_OK)
        worsen(exit_code, check->requirements_result, SH_EXIT_MALFORMED);
}

static void decode_entitlements(const sh_signature *sig, sh_entitlements_check *ent,
                                int *exit_code)
{
    const sh_blob_entry *xml = sh_superblob_find(&sig->superblob, SH_SLOT_ENTITLEMENTS);
    const sh_blob_entry *der = sh_superblob_find(&sig->superblob, SH_SLOT_DER_ENTITLEMENTS);
    ent->xml_present = xml != NULL;
    ent->der_present = der != NULL;
    if (xml)
        ent->result = sh_entitlements_parse_xml_blob(&xml->blob, NULL, &ent->xml, NULL, &ent->err);
    if (der && ent->result == SH_E_OK)
        ent->result = sh_entitlements_parse_der_blob(&der->blob, NULL, &ent->der, NULL, &ent->err);
    if (ent->result != SH_E_OK) {
        worsen(exit_code, ent->result, SH_EXIT_MALFORMED);
        return;
    }
    if (!xml || !der)
        return;
    sh_ent_diff diff;
    ent->result = sh_entitlements_compare(&ent->xml.root, &ent->der.root, &diff, &ent->err);
    if (ent->result != SH_E_OK) {
        sh_ent_diff_format(&diff, "XML", "DER", ent->difference, sizeof ent->difference);
        worsen(exit_code, ent->result, SH_EXIT_INVALID);
    }
}

/* What verifying a slice's CMS gives; a pure function of the slice's BlobWrapper, its
 * CodeDirectories, the time and the anchors (the memo's key). */
typedef struct cms_outcome {
    bool parsed;
    sh_err result;
    sh_error err;
    sh_cms_report report;
} cms_outcome;

/* An absent or empty BlobWrapper parses as ad hoc; sh_cms_verify then says whether the
 * CodeDirectory agrees (a non-ad-hoc CodeDirectory without a CMS fails its presence stage). */
static void compute_cms(const sh_blob_entry *wrapper, const sh_cms_code *code,
                        const sh_inspect_options *opt, cms_outcome *out)
{
    memset(out, 0, sizeof *out);
    sh_cms cms;
    if (wrapper)
        out->result = sh_cms_parse_wrapper_memo(&wrapper->blob, opt->memo, &cms, &out->err);
    else {
        sh_cursor empty = sh_cursor_make(NULL, 0);
        out->result = sh_cms_parse(&empty, &cms, &out->err);
    }
    out->parsed = out->result == SH_E_OK;
    if (out->parsed) {
        sh_cms_options options = {opt->now, opt->trust, false, opt->memo};
        out->result = sh_cms_verify(&cms, code, &options, &out->report, &out->err);
    }
    sh_cms_free(&cms);
}

static bool cms_key(const sh_blob_entry *wrapper, const sh_cms_code *code,
                    const sh_inspect_options *opt, uint8_t key[SH_VERIFY_MEMO_KEY_LEN])
{
    sh_memo_key k;
    sh_memo_key_begin(&k, "code CMS/1");
    sh_memo_key_u64(&k, wrapper != NULL);
    if (wrapper) {
        sh_memo_key_u64(&k, wrapper->blob.base);
        sh_memo_key_bytes(&k, wrapper->blob.p, wrapper->blob.len);
    }
    sh_memo_key_u64(&k, code->ncds);
    sh_memo_key_u64(&k, code->best);
    for (uint32_t i = 0; i < code->ncds; i++) {
        sh_memo_key_u64(&k, code->cds[i].blob.base);
        sh_memo_key_bytes(&k, code->cds[i].blob.p, code->cds[i].blob.len);
    }
    sh_memo_key_u64(&k, (uint64_t)opt->now);
    sh_memo_key_trust(&k, &opt->trust);
    return sh_memo_key_end(&k, key);
}

static void verify_cms(const sh_signature *sig, const sh_inspect_options *opt,
                       sh_slice_check *check, int *exit_code)
{
    const sh_blob_entry *wrapper = sh_signature_cms(sig);
    sh_cms_code code = sh_cms_code_of(sig);
    uint8_t key[SH_VERIFY_MEMO_KEY_LEN];
    bool keyed = opt->memo && cms_key(wrapper, &code, opt, key);
    const cms_outcome *known = keyed ? sh_verify_memo_get(opt->memo, key) : NULL;
    cms_outcome o;
    if (known)
        o = *known;
    else {
        compute_cms(wrapper, &code, opt, &o);
        /* running out of memory is not a property of the input */
        cms_outcome *copy = keyed && o.result != SH_E_NO_MEMORY ? malloc(sizeof *copy) : NULL;
        if (copy) {
            *copy = o;
            if (!sh_verify_memo_put(opt->memo, key, copy, free))
                free(copy);
        }
    }
    check->cms_result = o.result;
    check->cms_err = o.err;
    if (o.parsed)
        check->cms = o.report;
    if (o.result != SH_E_OK)
        worsen(exit_code, o.result, o.parsed ? SH_EXIT_INVALID : SH_EXIT_MALFORMED);
}

static void check_slice(const sh_macho_slice *slice, const sh_inspect_options *opt,
                        sh_slice_check *check, int *exit_code)
{
    sh_cursor sig_data;
    check->signature_result = sh_macho_signature(slice, &sig_data, &check->signature_err);
    if (check->signature_result == SH_E_MACHO_UNSIGNED) {
        *exit_code = sh_exit_worst(*exit_code, SH_EXIT_INVALID);
        return;
    }
    if (check->signature_result != SH_E_OK) {
        *exit_code = sh_exit_worst(*exit_code, SH_EXIT_MALFORMED);
        return;
    }
    check->signature_offset = slice->code_signature.dataoff;
    check->signature_size = slice->code_signature.datasize;
    check->signature_result =
        sh_signature_parse(&sig_data, &check->signature, &check->signature_err);
    if (check->signature_result != SH_E_OK) {
        *exit_code = sh_exit_worst(*exit_code, SH_EXIT_MALFORMED);
        return;
    }
    const sh_signature *sig = &check->signature;
    for (uint32_t i = 0; i < sig->ncds; i++) {
        sh_cd_check *cd = &check->cds[i];
        cd->pages_result = sh_codedir_verify_pages(&sig->cds[i], &slice->data, &cd->pages,
                                                   &cd->pages_err);
        if (cd->pages_result != SH_E_OK)
            worsen(exit_code, cd->pages_result, SH_EXIT_INVALID);
    }
    check->slots_result = sh_signature_check_special_slots(sig, &check->slots_err);
    if (check->slots_result != SH_E_OK)
        worsen(exit_code, check->slots_result, SH_EXIT_INVALID);
    decode_requirements(sig, check, exit_code);
    decode_entitlements(sig, &check->entitlements, exit_code);
    verify_cms(sig, opt, check, exit_code);
}

static void inspect_parsed(const sh_inspect_options *opt, sh_inspection *out)
{
    out->parse_result = sh_macho_parse(out->data, out->size, NULL, &out->macho, &out->parse_err);
    if (out->parse_result != SH_E_OK) {
        out->exit_code = SH_EXIT_MALFORMED;
        return;
    }
    out->structure_result = sh_macho_check_structure(&out->macho, &out->structure_err);
    int exit_code = out->structure_result == SH_E_OK ? SH_EXIT_OK : SH_EXIT_INVALID;
    out->slices = sh_calloc(NULL, out->macho.nslices ? out->macho.nslices : 1, sizeof *out->slices);
    if (!out->slices) {
        out->parse_result = sh_fail(&out->parse_err, SH_E_NO_MEMORY, "inspection", -1, 0);
        out->exit_code = SH_EXIT_IO;
        return;
    }
    for (uint32_t i = 0; i < out->macho.nslices; i++)
        check_slice(&out->macho.slices[i], opt, &out->slices[i], &exit_code);
    out->exit_code = exit_code;
}

void sh_inspect_file(const char *path, const sh_inspect_options *opt, sh_inspection *out)
{
    memset(out, 0, sizeof *out);
    out->path = path;
    out->read_result = sh_read_file(path, &out->data, &out->size, &out->read_why);
    if (out->read_result != SH_E_OK) {
        out->exit_code = SH_EXIT_IO;
        return;
    }
    out->owns_data = true;
    inspect_parsed(opt, out);
}

void sh_inspect_bytes(const char *label, const uint8_t *data, size_t size,
                      const sh_inspect_options *opt, sh_inspection *out)
{
    memset(out, 0, sizeof *out);
    out->path = label;
    /* parsers only read through cursors; the cast lets the struct keep one pointer type */
    out->data = (uint8_t *)(uintptr_t)data;
    out->size = size;
    inspect_parsed(opt, out);
}

void sh_inspection_free(sh_inspection *in)
{
    for (uint32_t i = 0; in->slices && i < in->macho.nslices; i++) {
        sh_free(NULL, in->slices[i].requirements);
        sh_entitlements_free(&in->slices[i].entitlements.xml);
        sh_entitlements_free(&in->slices[i].entitlements.der);
    }
    sh_macho_free(&in->macho);
    sh_free(NULL, in->slices);
    if (in->owns_data) /* sh_inspect_bytes leaves the caller's bytes alone */
        free(in->data);
    memset(in, 0, sizeof *in);
}
