/* Signing one 64-bit little-endian Mach-O slice (see signer.h). */
#include "signer_internal.h"

#include <string.h>

#include "cms_sign.h"
#include "codedir_writer.h"
#include "hash.h"
#include "superblob.h"

#define SIG_ALIGN 16u
#define CODE_SIGNATURE_CMD_SIZE 16u
#define MACH_HEADER_64_SIZE 32u
#define SEG64_VMSIZE 32u   /* offsets inside segment_command_64 */
#define SEG64_FILESIZE 48u
#define MAX_SLOTS 6u
/* ld64.lld rounds the SuperBlob header and its one index entry (20 bytes) up to 8, so its
 * CodeDirectory starts at 24 (seen in every lld sample), and pads the identifier so the hashes
 * start at a multiple of 16 from the SuperBlob's start. */
#define LLD_INDEX_END 24u
#define LLD_HASH_ALIGN 16u

typedef struct slice_plan {
    uint64_t code_end;   /* input bytes kept */
    uint64_t code_limit; /* signature offset: code_end aligned to 16 */
    bool add_cmd;        /* LC_CODE_SIGNATURE is new */
    uint64_t cmd_offset; /* of LC_CODE_SIGNATURE */
    uint64_t linkedit_cmd, linkedit_fileoff, linkedit_vmsize;
    uint64_t page_size;
    sh_cd_params cd[2];
    size_t ncds;
    size_t datasize;
    size_t index_gap; /* zero bytes between the SuperBlob index and the first blob */
    sh_cms_sign_params cms;
    sh_cms_cd cms_cds[2];
} slice_plan;

static sh_sign_status plan_range(const sh_macho_slice *s, const sh_sign_options *o,
                                 slice_plan *p, sh_sign_result *r)
{
    if (!s->is64 || s->big_endian)
        return sh_sign_fail(r, SH_SIGN_UNSUPPORTED, "only 64-bit little-endian slices are signed");
    if (s->linkedit_segment < 0 || s->text_segment < 0)
        return sh_sign_fail(r, SH_SIGN_UNSUPPORTED, "no __TEXT or __LINKEDIT segment");
    const sh_macho_segment *le = &s->segments[s->linkedit_segment];
    p->linkedit_cmd = s->commands[le->command_index].offset;
    p->linkedit_fileoff = le->fileoff;
    p->linkedit_vmsize = le->vmsize;
    p->page_size = s->cputype == SH_CPU_TYPE_ARM64 ? 0x4000u : 0x1000u;
    if (s->code_signature.present) {
        if (!o->force)
            return sh_sign_fail(r, SH_SIGN_ALREADY_SIGNED,
                                "already signed (use --force to replace the signature)");
        p->code_end = s->code_signature.dataoff;
        p->cmd_offset = s->commands[s->code_signature.command_index].offset;
    } else {
        if (le->fileoff > UINT64_MAX - le->filesize || le->fileoff + le->filesize != s->size)
            return sh_sign_fail(r, SH_SIGN_UNSUPPORTED,
                                "__LINKEDIT does not end the file (data after it)");
        p->code_end = le->fileoff + le->filesize;
        p->add_cmd = true;
        p->cmd_offset = (uint64_t)MACH_HEADER_64_SIZE + s->sizeofcmds;
    }
    if (p->code_end > s->size || p->code_end < le->fileoff)
        return sh_sign_fail(r, SH_SIGN_MALFORMED, "signature offset outside __LINKEDIT");
    if (p->code_end < (uint64_t)MACH_HEADER_64_SIZE + s->sizeofcmds + CODE_SIGNATURE_CMD_SIZE)
        return sh_sign_fail(r, SH_SIGN_MALFORMED, "signature offset inside the load commands");
    if (!sh_align_up_u64(p->code_end, SIG_ALIGN, &p->code_limit) || p->code_limit > UINT32_MAX)
        return sh_sign_fail(r, SH_SIGN_FAILED, "code too large for LC_CODE_SIGNATURE");
    return SH_SIGN_OK;
}

/* Offset of the first byte of section or segment data after the load commands. */
static uint64_t first_data_offset(const sh_macho_slice *s)
{
    uint64_t first = s->size;
    for (uint32_t i = 0; i < s->nsections; i++) {
        uint32_t type = s->sections[i].flags & SH_SECTION_TYPE_MASK;
        bool zerofill = type == SH_S_ZEROFILL || type == SH_S_GB_ZEROFILL ||
                        type == SH_S_THREAD_LOCAL_ZEROFILL;
        if (!zerofill && s->sections[i].offset != 0 && s->sections[i].offset < first)
            first = s->sections[i].offset;
    }
    for (uint32_t i = 0; i < s->nsegments; i++)
        if (s->segments[i].fileoff != 0 && s->segments[i].filesize != 0 &&
            s->segments[i].fileoff < first)
            first = s->segments[i].fileoff;
    return first;
}

/* A new LC_CODE_SIGNATURE goes right after the load commands, into zero header padding. */
static sh_sign_status plan_room(const sh_macho_slice *s, const slice_plan *p, sh_sign_result *r)
{
    sh_cursor pad;
    uint64_t end = p->cmd_offset + CODE_SIGNATURE_CMD_SIZE;
    if (s->ncmds == UINT32_MAX || end > first_data_offset(s) ||
        !sh_cursor_sub(&s->data, p->cmd_offset, CODE_SIGNATURE_CMD_SIZE, &pad))
        return sh_sign_fail(r, SH_SIGN_NO_ROOM,
                            "no room for LC_CODE_SIGNATURE in the header padding (load commands "
                            "end at 0x%llx, section data starts at 0x%llx)",
                            (unsigned long long)p->cmd_offset,
                            (unsigned long long)first_data_offset(s));
    for (size_t i = 0; i < pad.len; i++)
        if (pad.p[i] != 0)
            return sh_sign_fail(r, SH_SIGN_NO_ROOM,
                                "header padding at 0x%llx is not zero: no room for "
                                "LC_CODE_SIGNATURE",
                                (unsigned long long)(p->cmd_offset + i));
    return SH_SIGN_OK;
}

/* Zero bytes after the identifier that put lld's hashes 16-aligned in its SuperBlob. */
static uint8_t lld_ident_padding(const sh_cd_params *cd)
{
    size_t end = LLD_INDEX_END + sh_cd_header_size(cd->version) + strlen(cd->identifier) + 1;
    return (uint8_t)((LLD_HASH_ALIGN - end % LLD_HASH_ALIGN) % LLD_HASH_ALIGN);
}

static void plan_cds(const sh_macho_slice *s, const sh_sign_options *o, const sh_sign_blobs *b,
                     slice_plan *p)
{
    const sh_macho_segment *text = &s->segments[s->text_segment];
    p->ncds = o->dual_hash ? 2 : 1;
    for (size_t i = 0; i < p->ncds; i++) {
        sh_cd_params *cd = &p->cd[i];
        sh_cd_params_init(cd, o->identifier);
        cd->hash_type = (o->dual_hash && i == 0) ? SH_HASH_SHA1 : SH_HASH_SHA256;
        cd->version = o->runtime ? 0x20500u : SH_CDW_DEFAULT_VERSION;
        cd->flags = (o->identity ? 0u : SH_CS_ADHOC) | (o->runtime ? SH_CS_RUNTIME : 0u) |
                    o->extra_flags;
        cd->page_shift = o->page_shift ? o->page_shift : SH_CDW_DEFAULT_PAGE_SHIFT;
        cd->team_id = o->identity ? o->identity->team : NULL;
        cd->exec_seg_base = text->fileoff;
        cd->exec_seg_limit = text->filesize;
        cd->exec_seg_flags = s->filetype == SH_MH_EXECUTE ? SH_CS_EXECSEG_MAIN_BINARY : 0;
        cd->runtime = o->runtime && s->has_build_version ? s->sdk : 0;
        if (o->info_plist)
            cd->special[SH_SLOT_INFO] = (sh_bytes){o->info_plist, o->info_plist_len};
        if (b->reqs.len)
            cd->special[SH_SLOT_REQUIREMENTS] = (sh_bytes){b->reqs.data, b->reqs.len};
        if (o->resources)
            cd->special[SH_SLOT_RESOURCEDIR] = (sh_bytes){o->resources, o->resources_len};
        if (b->ent_xml.len)
            cd->special[SH_SLOT_ENTITLEMENTS] = (sh_bytes){b->ent_xml.data, b->ent_xml.len};
        if (b->ent_der.len)
            cd->special[SH_SLOT_DER_ENTITLEMENTS] = (sh_bytes){b->ent_der.data, b->ent_der.len};
        if (o->layout == SH_SIGN_LAYOUT_LLD)
            cd->ident_padding = lld_ident_padding(cd);
    }
    p->index_gap = o->layout == SH_SIGN_LAYOUT_LLD ? LLD_INDEX_END - 20u : 0;
}

static void plan_cms(const sh_sign_options *o, slice_plan *p)
{
    if (!o->identity)
        return;
    p->cms.signer = o->identity->leaf;
    p->cms.key = o->identity->key;
    p->cms.certs = o->identity->chain;
    p->cms.ncerts = 2;
    p->cms.signing_time = o->signing_time;
    if (o->tsa) {
        p->cms.tsa = o->tsa->cert;
        p->cms.tsa_key = o->tsa->key;
        p->cms.tsa_certs = &o->tsa->ca;
        p->cms.ntsa_certs = 1;
    }
}

/* The SuperBlob entries in slot order; lengths only when blobs is NULL.  A linker signature
 * (no requirement set, no CMS wrapper) holds only the CodeDirectory. */
static size_t make_slots(const slice_plan *p, const sh_sign_blobs *b, const size_t *cd_len,
                         const sh_bytebuf *cds, size_t cms_len, const sh_bytebuf *wrapper,
                         sh_blob_slot *slots)
{
    size_t n = 0;
    slots[n++] = (sh_blob_slot){SH_SLOT_CODEDIRECTORY, {cds ? cds[0].data : NULL, cd_len[0]}};
    if (!b->reqs.len)
        return n;
    slots[n++] = (sh_blob_slot){SH_SLOT_REQUIREMENTS, {b->reqs.data, b->reqs.len}};
    if (b->ent_xml.len)
        slots[n++] = (sh_blob_slot){SH_SLOT_ENTITLEMENTS, {b->ent_xml.data, b->ent_xml.len}};
    if (b->ent_der.len)
        slots[n++] = (sh_blob_slot){SH_SLOT_DER_ENTITLEMENTS, {b->ent_der.data, b->ent_der.len}};
    if (p->ncds == 2)
        slots[n++] = (sh_blob_slot){SH_SLOT_ALTERNATE_CODEDIRECTORIES,
                                    {cds ? cds[1].data : NULL, cd_len[1]}};
    slots[n++] = (sh_blob_slot){SH_SLOT_SIGNATURE, {wrapper ? wrapper->data : NULL, 8 + cms_len}};
    return n;
}

static sh_sign_status plan_size(const sh_sign_options *o, const sh_sign_blobs *b, slice_plan *p,
                                sh_sign_result *r)
{
    size_t cd_len[2] = {0, 0}, sb_size = 0;
    sh_write_error we = {0};
    for (size_t i = 0; i < p->ncds; i++)
        if (sh_cd_size(&p->cd[i], p->code_limit, &cd_len[i], &we) != SH_W_OK)
            return sh_sign_fail(r, SH_SIGN_INVALID_ARGUMENT, "CodeDirectory: %s (%s)", we.what,
                                sh_write_status_name(we.status));
    size_t reserve = p->cms.signer ? sh_cms_sign_reserve(&p->cms) : 0;
    sh_blob_slot slots[MAX_SLOTS];
    size_t n = make_slots(p, b, cd_len, NULL, reserve, NULL, slots);
    /* Go reserves exactly the SuperBlob (the file ends with it); codesign and lld round to 16. */
    uint64_t datasize, align = o->layout == SH_SIGN_LAYOUT_GO ? 1u : SIG_ALIGN;
    if (sh_superblob_size(slots, n, &sb_size, &we) != SH_W_OK ||
        !sh_align_up_u64((uint64_t)sb_size + p->index_gap, align, &datasize) ||
        datasize > UINT32_MAX ||
        p->code_limit > UINT32_MAX - datasize)
        return sh_sign_fail(r, SH_SIGN_FAILED, "signature too large");
    p->datasize = (size_t)datasize;
    return SH_SIGN_OK;
}

static bool set_u64le(sh_bytebuf *b, size_t off, uint64_t v)
{
    return sh_bytebuf_set_u32le(b, off, (uint32_t)v) &&
           sh_bytebuf_set_u32le(b, off + 4, (uint32_t)(v >> 32));
}

/* Copies the kept bytes, pads to the code limit and rewrites the header, LC_CODE_SIGNATURE and
 * __LINKEDIT for the new signature. */
static bool write_code(const sh_macho_slice *s, const slice_plan *p, sh_bytebuf *out, size_t at)
{
    sh_cursor keep;
    if (!sh_cursor_sub(&s->data, 0, p->code_end, &keep) || !sh_bytebuf_append(out, keep.p, keep.len) ||
        !sh_bytebuf_append_zeros(out, (size_t)(p->code_limit - p->code_end)))
        return false;
    size_t cmd = at + (size_t)p->cmd_offset;
    if (p->add_cmd && !(sh_bytebuf_set_u32le(out, at + 16, s->ncmds + 1) &&
                        sh_bytebuf_set_u32le(out, at + 20, s->sizeofcmds + CODE_SIGNATURE_CMD_SIZE) &&
                        sh_bytebuf_set_u32le(out, cmd, SH_LC_CODE_SIGNATURE) &&
                        sh_bytebuf_set_u32le(out, cmd + 4, CODE_SIGNATURE_CMD_SIZE)))
        return false;
    /* vmsize grows (to a page multiple) only when the signature outgrows it: a linker's own
     * choice, such as lld's and Go's vmsize == filesize, survives a same-size re-signing, so the
     * header page hashes the same (tests/test_sign_differential.c). */
    uint64_t filesize = p->code_limit + p->datasize - p->linkedit_fileoff;
    uint64_t vmsize = p->linkedit_vmsize;
    size_t seg = at + (size_t)p->linkedit_cmd;
    return (filesize <= vmsize || sh_align_up_u64(filesize, p->page_size, &vmsize)) &&
           sh_bytebuf_set_u32le(out, cmd + 8, (uint32_t)p->code_limit) &&
           sh_bytebuf_set_u32le(out, cmd + 12, (uint32_t)p->datasize) &&
           set_u64le(out, seg + SEG64_VMSIZE, vmsize) && set_u64le(out, seg + SEG64_FILESIZE, filesize);
}

static const uint8_t no_bytes[1];

/* sh_superblob_write, plus p->index_gap zero bytes between the index and the blobs (lld). */
static sh_write_status write_superblob(const slice_plan *p, const sh_blob_slot *slots, size_t n,
                                       sh_bytebuf *out, sh_write_error *we)
{
    if (p->index_gap == 0)
        return sh_superblob_write(SH_MAGIC_EMBEDDED_SIGNATURE, slots, n, out, we);
    size_t size; /* plan_size checked size + index_gap <= datasize <= UINT32_MAX */
    sh_write_status st = sh_superblob_size(slots, n, &size, we);
    if (st != SH_W_OK)
        return st;
    sh_bytebuf_u32be(out, SH_MAGIC_EMBEDDED_SIGNATURE);
    sh_bytebuf_u32be(out, (uint32_t)(size + p->index_gap));
    sh_bytebuf_u32be(out, (uint32_t)n);
    size_t offset = 12 + 8 * n + p->index_gap;
    for (size_t i = 0; i < n; i++) {
        sh_bytebuf_u32be(out, slots[i].type);
        sh_bytebuf_u32be(out, (uint32_t)offset);
        offset += slots[i].blob.len;
    }
    sh_bytebuf_append_zeros(out, p->index_gap);
    for (size_t i = 0; i < n; i++)
        sh_bytebuf_append(out, slots[i].blob.p, slots[i].blob.len);
    return sh_bytebuf_ok(out) ? SH_W_OK : sh_write_fail(we, sh_bytebuf_status(out), "SuperBlob");
}

static sh_sign_status write_blobs(slice_plan *p, const uint8_t *code,
                                  sh_bytebuf *cds, sh_bytebuf *cms, sh_bytebuf *wrapper,
                                  sh_sign_result *r)
{
    sh_write_error we = {0};
    for (size_t i = 0; i < p->ncds; i++) {
        if (sh_cd_write(&p->cd[i], code, p->code_limit, &cds[i], &we) != SH_W_OK)
            return sh_sign_fail(r, SH_SIGN_FAILED, "CodeDirectory: %s", we.what);
        p->cms_cds[i] = (sh_cms_cd){{cds[i].data, cds[i].len}, p->cd[i].hash_type};
    }
    p->cms.cds = p->cms_cds;
    p->cms.ncds = p->ncds;
    if (p->cms.signer && sh_cms_sign(&p->cms, cms, &we) != SH_W_OK)
        return sh_sign_fail(r, SH_SIGN_FAILED, "CMS signature: %s", we.what);
    if (sh_blob_write(SH_MAGIC_BLOBWRAPPER, cms->len ? cms->data : no_bytes, cms->len, wrapper,
                      &we) != SH_W_OK)
        return sh_sign_fail(r, SH_SIGN_FAILED, "CMS wrapper: %s", we.what);
    return SH_SIGN_OK;
}

static sh_sign_status write_signature(slice_plan *p, const sh_sign_blobs *b, sh_bytebuf *out,
                                      size_t at, sh_sign_result *r)
{
    sh_bytebuf cds[2], cms, wrapper;
    for (size_t i = 0; i < 2; i++)
        sh_bytebuf_init(&cds[i], NULL);
    sh_bytebuf_init(&cms, NULL);
    sh_bytebuf_init(&wrapper, NULL);
    sh_sign_status st = write_blobs(p, out->data + at, cds, &cms, &wrapper, r);
    if (st == SH_SIGN_OK) {
        size_t cd_len[2] = {cds[0].len, cds[1].len}, sig_at = out->len;
        sh_blob_slot slots[MAX_SLOTS];
        size_t n = make_slots(p, b, cd_len, cds, cms.len, &wrapper, slots);
        sh_write_error we = {0};
        if (write_superblob(p, slots, n, out, &we) != SH_W_OK)
            st = sh_sign_fail(r, SH_SIGN_FAILED, "SuperBlob: %s", we.what);
        else if (out->len - sig_at > p->datasize)
            st = sh_sign_fail(r, SH_SIGN_FAILED, "the CMS is larger than the space reserved");
        else if (!sh_bytebuf_append_zeros(out, p->datasize - (out->len - sig_at)))
            st = sh_sign_fail(r, SH_SIGN_FAILED, "out of memory (signature)");
    }
    for (size_t i = 0; i < 2; i++)
        sh_bytebuf_free(&cds[i]);
    sh_bytebuf_free(&cms);
    sh_bytebuf_free(&wrapper);
    return st;
}

sh_sign_status sh_sign_slice(const sh_macho_slice *s, const sh_sign_options *o,
                             const sh_sign_blobs *b, sh_bytebuf *out, sh_sign_result *r)
{
    slice_plan p;
    memset(&p, 0, sizeof p);
    sh_sign_status st = plan_range(s, o, &p, r);
    if (st == SH_SIGN_OK && p.add_cmd)
        st = plan_room(s, &p, r);
    if (st != SH_SIGN_OK)
        return st;
    plan_cds(s, o, b, &p);
    plan_cms(o, &p);
    st = plan_size(o, b, &p, r);
    if (st != SH_SIGN_OK)
        return st;
    size_t at = out->len;
    if (!sh_bytebuf_reserve(out, (size_t)p.code_limit + p.datasize) || !write_code(s, &p, out, at))
        return sh_sign_fail(r, SH_SIGN_FAILED, "cannot write the signed slice (%s)",
                            sh_write_status_name(sh_bytebuf_status(out)));
    st = write_signature(&p, b, out, at, r);
    if (st != SH_SIGN_OK)
        out->len = at;
    return st;
}
