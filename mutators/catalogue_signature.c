/* Signature-structure mutators: the extension's main executable keeps its code and its bytes are
 * edited in place, at offsets the project's parsers report (Mach-O, SuperBlob, CodeDirectory,
 * CMS), without re-signing, the way a post-processing tool or a hand edit breaks a signature.
 * Where a real tool would have produced a self-consistent CMS over a changed CodeDirectory (team
 * ID, CDHashes), the CMS is made again with the test PKI so only the intended check fails. */
#include "catalogue.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bytebuf.h"
#include "cms_sign.h"
#include "hash.h"
#include "macho.h"
#include "mut_toolkit.h"
#include "pki.h"
#include "signature.h"

static bool sig_fail(sh_mut_ctx *ctx, const char *what)
{
    snprintf(ctx->why, sizeof ctx->why, "%.200s", what);
    return false;
}

static bool store(sh_mut_ctx *ctx, const char *path, const uint8_t *data, size_t len)
{
    /* The executable keeps its mode (0755 as built). */
    const sh_bundle_entry *old = sh_bundle_find(ctx->bundle, path);
    uint32_t mode = old ? old->mode : 0755;
    sh_error err = {0};
    sh_err rc = sh_bundle_put_file(ctx->bundle, path, data, len, mode, &err);
    if (rc != SH_E_OK)
        snprintf(ctx->why, sizeof ctx->why, "%.160s: %s", path, sh_err_message(rc));
    return rc == SH_E_OK;
}

static bool put_u32(uint8_t *buf, size_t len, uint64_t off, uint32_t v, bool big_endian)
{
    if (off > len || len - off < 4)
        return false;
    for (int i = 0; i < 4; i++)
        buf[off + (size_t)i] = (uint8_t)(v >> (big_endian ? 24 - 8 * i : 8 * i));
    return true;
}

static bool put_u64le(uint8_t *buf, size_t len, uint64_t off, uint64_t v)
{
    if (off > len || len - off < 8)
        return false;
    for (int i = 0; i < 8; i++)
        buf[off + (size_t)i] = (uint8_t)(v >> (8 * i));
    return true;
}

static bool zero_range(uint8_t *buf, size_t len, uint64_t off, uint64_t n)
{
    if (!sh_range_within(off, n, len))
        return false;
    memset(buf + off, 0, (size_t)n);
    return true;
}

/* One slice's signature being edited: buf is a private copy of the whole executable, and every
 * view in slice and sig points into the unedited original (absolute offsets are the same). */
typedef struct sig_edit {
    sh_mut_ctx *ctx;
    uint8_t *buf;
    size_t len;
    const sh_macho_slice *slice;
    const sh_signature *sig;
} sig_edit;

typedef bool (*slice_edit_fn)(sig_edit *e, void *arg);

/* The extension's main executable: its path and its entry. */
static const sh_bundle_entry *extension_executable(sh_mut_ctx *ctx, char *path, size_t size)
{
    if (!ctx->extension[0]) {
        sig_fail(ctx, "the bundle has no system extension");
        return NULL;
    }
    if (!sh_mut_main_executable(ctx, ctx->extension, path, size))
        return NULL;
    const sh_bundle_entry *e = sh_bundle_find(ctx->bundle, path);
    if (!e || e->kind != SH_BUNDLE_FILE || e->len == 0) {
        snprintf(ctx->why, sizeof ctx->why, "%.200s is not a non-empty file", path);
        return NULL;
    }
    return e;
}

/* Runs fn on every signed slice of the extension's executable, then stores the edited copy. */
static bool edit_extension_signatures(sh_mut_ctx *ctx, slice_edit_fn fn, void *arg)
{
    char path[SH_MAX_BUNDLE_PATH + 1];
    const sh_bundle_entry *entry = extension_executable(ctx, path, sizeof path);
    if (!entry)
        return false;
    uint8_t *buf = malloc(entry->len);
    if (!buf)
        return sig_fail(ctx, "out of memory");
    memcpy(buf, entry->data, entry->len);
    sh_macho_file f;
    sh_error err = {0};
    bool ok = sh_macho_parse(entry->data, entry->len, NULL, &f, &err) == SH_E_OK && f.nslices > 0;
    if (!ok)
        snprintf(ctx->why, sizeof ctx->why, "%.200s is not a Mach-O file", path);
    for (uint32_t i = 0; ok && i < f.nslices; i++) {
        sh_cursor data;
        sh_signature sig;
        if (sh_macho_signature(&f.slices[i], &data, &err) != SH_E_OK ||
            sh_signature_parse(&data, &sig, &err) != SH_E_OK) {
            snprintf(ctx->why, sizeof ctx->why, "%.180s slice %u has no readable signature", path, i);
            ok = false;
            break;
        }
        sig_edit e = {ctx, buf, entry->len, &f.slices[i], &sig};
        ok = fn(&e, arg);
    }
    size_t len = entry->len;
    sh_macho_free(&f);
    ok = ok && store(ctx, path, buf, len);
    free(buf);
    return ok;
}

/* ---- the CMS blob wrapper ---- */

/* Replaces the CMS payload (slot 0x10000, the last blob codesign writes) by cms (cms_len bytes,
 * 0 for an empty wrapper): the wrapper and SuperBlob lengths follow, freed bytes become the zero
 * padding LC_CODE_SIGNATURE already has after the SuperBlob. */
static bool replace_cms(sig_edit *e, const uint8_t *cms, size_t cms_len)
{
    const sh_blob_entry *w = sh_signature_cms(e->sig);
    const sh_superblob *sb = &e->sig->superblob;
    if (!w || !w->present)
        return sig_fail(e->ctx, "the signature has no CMS blob wrapper");
    if ((uint64_t)w->offset + w->length != sb->length)
        return sig_fail(e->ctx, "the CMS blob wrapper is not the last blob of the SuperBlob");
    uint64_t sb_at = sh_cursor_pos(&sb->blob);
    uint64_t sig_end = sh_cursor_pos(&e->slice->data) + e->slice->code_signature.dataoff +
                       e->slice->code_signature.datasize;
    uint64_t w_at = sb_at + w->offset;
    if (w_at + 8 > sig_end || cms_len > sig_end - w_at - 8)
        return sig_fail(e->ctx, "the new CMS does not fit in LC_CODE_SIGNATURE");
    uint64_t old_end = w_at + w->length, new_end = w_at + 8 + cms_len;
    if (!zero_range(e->buf, e->len, w_at + 8, (old_end > new_end ? old_end : new_end) - w_at - 8))
        return sig_fail(e->ctx, "the CMS blob wrapper lies outside the file");
    if (cms_len)
        memcpy(e->buf + w_at + 8, cms, cms_len);
    return put_u32(e->buf, e->len, w_at + 4, (uint32_t)(8 + cms_len), true) &&
           put_u32(e->buf, e->len, sb_at + 4, (uint32_t)(new_end - sb_at), true);
}

static bool empty_cms(sig_edit *e, void *arg)
{
    (void)arg;
    return replace_cms(e, NULL, 0);
}

/* The wrapper's index entry goes (count - 1) and the blob's bytes become padding. */
static bool remove_cms(sig_edit *e, void *arg)
{
    (void)arg;
    const sh_superblob *sb = &e->sig->superblob;
    if (sb->count == 0 || sb->entries[sb->count - 1].type != SH_SLOT_SIGNATURE ||
        !sb->entries[sb->count - 1].present)
        return sig_fail(e->ctx, "the CMS is not the last SuperBlob index entry");
    const sh_blob_entry *w = &sb->entries[sb->count - 1];
    uint64_t sb_at = sh_cursor_pos(&sb->blob);
    return replace_cms(e, NULL, 0) &&
           zero_range(e->buf, e->len, sb_at + w->offset, 8) &&
           zero_range(e->buf, e->len, sh_superblob_index_offset(sb, sb->count - 1), 8) &&
           put_u32(e->buf, e->len, sb_at + 8, sb->count - 1, true) &&
           put_u32(e->buf, e->len, sb_at + 4, w->offset, true);
}

bool sh_mut_extension_cms_emptied(sh_mut_ctx *ctx)
{
    return edit_extension_signatures(ctx, empty_cms, NULL);
}

bool sh_mut_extension_cms_removed(sh_mut_ctx *ctx)
{
    return edit_extension_signatures(ctx, remove_cms, NULL);
}

/* ---- the secure timestamp: a DER edit of the CMS ---- */

typedef struct der_tlv {
    uint8_t tag;
    uint64_t start, content, end; /* offsets in the payload */
} der_tlv;

/* Reads the TLV at c's position (definite lengths only, as DER). */
static bool der_read(sh_cursor *c, uint64_t base, der_tlv *out)
{
    uint8_t tag, first;
    out->start = sh_cursor_pos(c) - base;
    if (!sh_cursor_u8(c, &tag) || (tag & 0x1f) == 0x1f || !sh_cursor_u8(c, &first))
        return false;
    uint64_t len = first;
    if (first & 0x80) {
        unsigned n = first & 0x7f;
        if (n == 0 || n > 4)
            return false;
        len = 0;
        for (unsigned i = 0; i < n; i++) {
            uint8_t b;
            if (!sh_cursor_u8(c, &b))
                return false;
            len = len << 8 | b;
        }
    }
    out->tag = tag;
    out->content = sh_cursor_pos(c) - base;
    out->end = out->content + len;
    return sh_cursor_skip(c, (size_t)len);
}

/* The last child of parent (which lies in payload); false when parent has none. */
static bool der_last_child(const sh_cursor *payload, const der_tlv *parent, der_tlv *out)
{
    sh_cursor c;
    if (!sh_cursor_sub(payload, parent->content, parent->end - parent->content, &c))
        return false;
    bool any = false;
    while (sh_cursor_len(&c) > 0) {
        if (!der_read(&c, sh_cursor_pos(payload), out))
            return false;
        any = true;
    }
    return any;
}

static size_t der_header(uint8_t tag, uint64_t len, uint8_t *out)
{
    out[0] = tag;
    if (len < 0x80) {
        out[1] = (uint8_t)len;
        return 2;
    }
    size_t n = len > 0xffffff ? 4 : len > 0xffff ? 3 : len > 0xff ? 2 : 1;
    out[1] = (uint8_t)(0x80 | n);
    for (size_t i = 0; i < n; i++)
        out[2 + i] = (uint8_t)(len >> (8 * (n - 1 - i)));
    return 2 + n;
}

/* ContentInfo > [0] > SignedData > signerInfos SET > SignerInfo > [1] unsignedAttrs: each the
 * last element of its parent, so dropping the unsigned attributes shortens five lengths. */
enum { CMS_PATH_DEPTH = 6 };

static bool strip_timestamp(sig_edit *e, void *arg)
{
    (void)arg;
    const sh_blob_entry *w = sh_signature_cms(e->sig);
    sh_cursor payload;
    if (!w || !w->present || !sh_cursor_tail(&w->blob, 8, &payload) || sh_cursor_len(&payload) == 0)
        return sig_fail(e->ctx, "the signature has no CMS");
    static const uint8_t tags[CMS_PATH_DEPTH] = {0x30, 0xa0, 0x30, 0x31, 0x30, 0xa1};
    der_tlv path[CMS_PATH_DEPTH];
    sh_cursor top = payload;
    bool ok = der_read(&top, sh_cursor_pos(&payload), &path[0]);
    for (int k = 1; ok && k < CMS_PATH_DEPTH; k++)
        ok = der_last_child(&payload, &path[k - 1], &path[k]);
    for (int k = 0; ok && k < CMS_PATH_DEPTH; k++)
        ok = path[k].tag == tags[k];
    if (!ok)
        return sig_fail(e->ctx, "the CMS has no unsigned attributes (no secure timestamp)");
    uint8_t *out = malloc((size_t)path[0].end);
    if (!out)
        return sig_fail(e->ctx, "out of memory");
    /* New lengths from the inside out: each level loses the removed bytes plus any bytes its
     * child's length encoding saved. */
    uint64_t newlen[CMS_PATH_DEPTH - 1];
    uint64_t shrink = path[CMS_PATH_DEPTH - 1].end - path[CMS_PATH_DEPTH - 1].start;
    for (int k = CMS_PATH_DEPTH - 2; k >= 0; k--) {
        uint8_t h[8];
        newlen[k] = path[k].end - path[k].content - shrink;
        shrink = (path[k].end - path[k].start) - (der_header(path[k].tag, newlen[k], h) + newlen[k]);
    }
    size_t n = 0;
    for (int k = 0; k < CMS_PATH_DEPTH - 1; k++) {
        n += der_header(path[k].tag, newlen[k], out + n);
        size_t prefix = (size_t)(path[k + 1].start - path[k].content);
        memcpy(out + n, payload.p + path[k].content, prefix);
        n += prefix;
    }
    ok = replace_cms(e, out, n);
    free(out);
    return ok;
}

bool sh_mut_extension_timestamp_stripped(sh_mut_ctx *ctx)
{
    /* Stripped, the signature is what `codesign --timestamp=none` writes; such a build was
     * refused by the notary service, so its cdhashes were never notarised. */
    ctx->effects.notary = SH_NOTARY_REVOKE;
    return edit_extension_signatures(ctx, strip_timestamp, NULL);
}

/* ---- CodeDirectory fields ---- */

static bool zero_entitlements_slot(sig_edit *e, void *arg)
{
    (void)arg;
    bool any = false;
    for (uint32_t i = 0; i < e->sig->ncds; i++) {
        sh_cursor h;
        if (!sh_codedir_special_present(&e->sig->cds[i], SH_SLOT_ENTITLEMENTS) ||
            !sh_codedir_special_hash(&e->sig->cds[i], SH_SLOT_ENTITLEMENTS, &h))
            continue;
        if (!zero_range(e->buf, e->len, sh_cursor_pos(&h), sh_cursor_len(&h)))
            return sig_fail(e->ctx, "the entitlements slot lies outside the file");
        any = true;
    }
    return any || sig_fail(e->ctx, "no CodeDirectory seals entitlements");
}

bool sh_mut_extension_entitlements_slot_zeroed(sh_mut_ctx *ctx)
{
    return edit_extension_signatures(ctx, zero_entitlements_slot, NULL);
}

/* A u8 or u32 field of every CodeDirectory. */
typedef struct cd_field {
    uint32_t offset; /* from the CodeDirectory's magic */
    bool byte;
    uint32_t (*value)(const sh_codedir *cd);
} cd_field;

static bool set_cd_field(sig_edit *e, void *arg)
{
    const cd_field *f = arg;
    for (uint32_t i = 0; i < e->sig->ncds; i++) {
        const sh_codedir *cd = &e->sig->cds[i];
        uint64_t at = sh_cursor_pos(&cd->blob) + f->offset;
        uint32_t v = f->value(cd);
        bool ok = f->byte ? at < e->len : put_u32(e->buf, e->len, at, v, true);
        if (!ok)
            return sig_fail(e->ctx, "the CodeDirectory lies outside the file");
        if (f->byte)
            e->buf[at] = (uint8_t)v;
    }
    return true;
}

/* SHA-384 with 32-byte hashes: no base signs with SHA-384, so no two CodeDirectories collide. */
static uint32_t sha384_type(const sh_codedir *cd)
{
    (void)cd;
    return SH_HASH_SHA384;
}

static uint32_t version_too_new(const sh_codedir *cd)
{
    (void)cd;
    return 0x30000u; /* above 0x2F000, Security's compatibility limit */
}

static uint32_t one_slot_less(const sh_codedir *cd)
{
    return cd->n_code_slots - 1;
}

bool sh_mut_extension_cd_hash_type_wrong(sh_mut_ctx *ctx)
{
    cd_field f = {0x25, true, sha384_type};
    return edit_extension_signatures(ctx, set_cd_field, &f);
}

bool sh_mut_extension_cd_version_unsupported(sh_mut_ctx *ctx)
{
    cd_field f = {0x08, false, version_too_new};
    return edit_extension_signatures(ctx, set_cd_field, &f);
}

bool sh_mut_extension_cd_code_slots_short(sh_mut_ctx *ctx)
{
    cd_field f = {0x1c, false, one_slot_less};
    return edit_extension_signatures(ctx, set_cd_field, &f);
}

/* ---- a CMS made again over edited CodeDirectories ---- */

typedef struct remake {
    const sh_pki_identity *id;
    const sh_pki_tsa *tsa;
    bool timestamp;
    const char *team; /* replacement CodeDirectory team ID (same length), NULL: keep */
    bool phantom_cd;  /* list one more CodeDirectory than the signature holds */
} remake;

static bool remake_cms(sig_edit *e, void *arg)
{
    remake *r = arg;
    sh_cms_cd cds[1 + SH_MAX_ALTERNATE_CDS + 1];
    size_t ncds = 0;
    bool have_sha1 = false;
    for (uint32_t i = 0; i < e->sig->ncds; i++) {
        const sh_codedir *cd = &e->sig->cds[i];
        uint64_t at = sh_cursor_pos(&cd->blob);
        if (r->team) {
            if (!cd->team_id || cd->team_id_len != strlen(r->team))
                return sig_fail(e->ctx, "the CodeDirectory has no team ID of that length");
            memcpy(e->buf + (cd->team_id - (const char *)cd->blob.p) + at, r->team,
                   cd->team_id_len);
        }
        have_sha1 = have_sha1 || cd->hash_type == SH_HASH_SHA1;
        cds[ncds++] = (sh_cms_cd){{e->buf + at, cd->length}, cd->hash_type};
    }
    uint8_t *phantom = NULL;
    if (r->phantom_cd) {
        /* A CodeDirectory the signature does not carry (as if a tool dropped one after the CMS
         * was made): its cdhash is in CDHashes and CDHashes2 but matches nothing. */
        if (have_sha1 || !(phantom = malloc(cds[0].blob.len)))
            return sig_fail(e->ctx, "cannot add a phantom CodeDirectory");
        memcpy(phantom, cds[0].blob.p, cds[0].blob.len);
        phantom[cds[0].blob.len - 1] ^= 0x01;
        cds[ncds++] = (sh_cms_cd){{phantom, cds[0].blob.len}, SH_HASH_SHA1};
    }
    sh_cms_sign_params p;
    memset(&p, 0, sizeof p);
    p.signer = r->id->leaf;
    p.key = r->id->key;
    p.certs = r->id->chain;
    p.ncerts = 2;
    p.cds = cds;
    p.ncds = ncds;
    p.signing_time = e->ctx->signing_time;
    if (r->timestamp) {
        p.tsa = r->tsa->cert;
        p.tsa_key = r->tsa->key;
        p.tsa_certs = &r->tsa->ca;
        p.ntsa_certs = 1;
    }
    sh_bytebuf out;
    sh_bytebuf_init(&out, NULL);
    sh_write_error we = {0};
    bool ok = sh_cms_sign(&p, &out, &we) == SH_W_OK ? replace_cms(e, out.data, out.len)
                                                     : sig_fail(e->ctx, "cannot make the CMS");
    sh_bytebuf_free(&out);
    free(phantom);
    return ok;
}

static bool remake_extension_cms(sh_mut_ctx *ctx, const char *team, bool phantom_cd)
{
    sh_mut_signing now;
    if (!ctx->extension[0] || !sh_mut_signing_read(ctx, ctx->extension, &now))
        return ctx->extension[0] ? false : sig_fail(ctx, "the bundle has no system extension");
    remake r;
    memset(&r, 0, sizeof r);
    r.team = team;
    r.phantom_cd = phantom_cd;
    r.timestamp = now.timestamp;
    sh_pki_identity id_scratch;
    sh_pki_tsa tsa_scratch;
    memset(&id_scratch, 0, sizeof id_scratch);
    memset(&tsa_scratch, 0, sizeof tsa_scratch);
    r.id = now.identity[0] ? sh_mut_identity(ctx, now.identity, &id_scratch) : NULL;
    r.tsa = r.id && r.timestamp ? sh_mut_tsa(ctx, &tsa_scratch) : NULL;
    bool ok = r.id && (!r.timestamp || r.tsa)
                  ? edit_extension_signatures(ctx, remake_cms, &r)
                  : sig_fail(ctx, "cannot load the extension's signing identity");
    sh_pki_identity_free(&id_scratch);
    sh_pki_tsa_free(&tsa_scratch);
    sh_mut_signing_free(&now);
    return ok;
}

/* Same length as the test teams' IDs (SHTEAM0001 / SHTEAM0002) and neither of them. */
bool sh_mut_extension_cd_team_differs_from_cert(sh_mut_ctx *ctx)
{
    return remake_extension_cms(ctx, "SHTEAM0009", false);
}

bool sh_mut_extension_cdhashes_mismatch(sh_mut_ctx *ctx)
{
    return remake_extension_cms(ctx, NULL, true);
}

/* ---- the Mach-O around the signature ---- */

static const uint8_t appended[16] = "appended-by-tool";

/* Data after __LINKEDIT inside the last slice: thin files grow, in fat files the last slice
 * (which must end the file) grows and its fat_arch size with it. */
bool sh_mut_extension_data_after_linkedit(sh_mut_ctx *ctx)
{
    char path[SH_MAX_BUNDLE_PATH + 1];
    const sh_bundle_entry *entry = extension_executable(ctx, path, sizeof path);
    if (!entry)
        return false;
    sh_macho_file f;
    sh_error err = {0};
    if (sh_macho_parse(entry->data, entry->len, NULL, &f, &err) != SH_E_OK || f.nslices == 0) {
        sh_macho_free(&f);
        return sig_fail(ctx, "the extension's executable is not a Mach-O file");
    }
    size_t len = entry->len;
    uint8_t *buf = malloc(len + sizeof appended);
    bool ok = buf != NULL;
    if (ok) {
        memcpy(buf, entry->data, len);
        memcpy(buf + len, appended, sizeof appended);
    }
    if (ok && f.fat) {
        uint32_t last = f.nslices - 1;
        const sh_macho_slice *s = &f.slices[last];
        ok = f.fat_magic == 0xcafebabeu && !f.hidden_slice && s->offset + s->size == len &&
             put_u32(buf, len, 8 + 20u * last + 12, (uint32_t)(s->size + sizeof appended), true);
    }
    sh_macho_free(&f);
    ok = ok ? store(ctx, path, buf, len + sizeof appended)
            : sig_fail(ctx, "cannot append to the last slice");
    free(buf);
    return ok;
}

/* One slice without its signature, as `codesign --remove-signature` leaves it: LC_CODE_SIGNATURE
 * (the last load command, where codesign adds it) removed, the file cut where the signature
 * began, __LINKEDIT shortened to end there. */
static bool unsigned_slice(sh_mut_ctx *ctx, const sh_macho_slice *s, sh_bytebuf *out)
{
    if (!s->is64 || s->big_endian || !s->code_signature.present || s->linkedit_segment < 0 ||
        s->ncmds == 0 || s->code_signature.command_index != s->ncmds - 1)
        return sig_fail(ctx, "a slice's LC_CODE_SIGNATURE is not its last load command");
    uint64_t cut = s->code_signature.dataoff;
    const sh_macho_segment *le = &s->segments[s->linkedit_segment];
    const sh_macho_load_command *cs = &s->commands[s->code_signature.command_index];
    if (cut > s->size || cut < le->fileoff || cs->offset + 16 > cut)
        return sig_fail(ctx, "a slice's signature is not at the end of __LINKEDIT");
    size_t at = out->len;
    if (!sh_bytebuf_append(out, s->data.p, (size_t)cut))
        return sig_fail(ctx, "out of memory");
    uint8_t *p = out->data + at;
    size_t n = (size_t)cut;
    return put_u32(p, n, 16, s->ncmds - 1, false) &&
           put_u32(p, n, 20, s->sizeofcmds - 16, false) && zero_range(p, n, cs->offset, 16) &&
           put_u64le(p, n, s->commands[le->command_index].offset + 48, cut - le->fileoff);
}

bool sh_mut_extension_unsigned(sh_mut_ctx *ctx)
{
    char path[SH_MAX_BUNDLE_PATH + 1];
    const sh_bundle_entry *entry = extension_executable(ctx, path, sizeof path);
    if (!entry)
        return false;
    sh_macho_file f;
    sh_error err = {0};
    if (sh_macho_parse(entry->data, entry->len, NULL, &f, &err) != SH_E_OK || f.nslices == 0) {
        sh_macho_free(&f);
        return sig_fail(ctx, "the extension's executable is not a Mach-O file");
    }
    sh_bytebuf out;
    sh_bytebuf_init(&out, NULL);
    bool ok = true;
    if (!f.fat) {
        ok = unsigned_slice(ctx, &f.slices[0], &out);
    } else if (f.fat_magic != 0xcafebabeu || f.hidden_slice) {
        ok = sig_fail(ctx, "only 32-bit fat headers are rebuilt");
    } else {
        /* lipo's layout: header, then each slice at its alignment, the last ending the file. */
        size_t header = 8 + 20u * f.nslices;
        ok = sh_bytebuf_append_zeros(&out, header);
        for (uint32_t i = 0; ok && i < f.nslices; i++) {
            const sh_macho_slice *s = &f.slices[i];
            ok = s->fat_align <= 16 && sh_bytebuf_pad_to(&out, (size_t)1 << s->fat_align);
            size_t start = out.len;
            ok = ok && unsigned_slice(ctx, s, &out);
            uint64_t arch = 8 + 20u * i;
            ok = ok && put_u32(out.data, out.len, arch, (uint32_t)s->fat_cputype, true) &&
                 put_u32(out.data, out.len, arch + 4, (uint32_t)s->fat_cpusubtype, true) &&
                 put_u32(out.data, out.len, arch + 8, (uint32_t)start, true) &&
                 put_u32(out.data, out.len, arch + 12, (uint32_t)(out.len - start), true) &&
                 put_u32(out.data, out.len, arch + 16, s->fat_align, true);
        }
        ok = ok && put_u32(out.data, out.len, 0, 0xcafebabeu, true) &&
             put_u32(out.data, out.len, 4, f.nslices, true);
        if (!ok && !ctx->why[0])
            sig_fail(ctx, "cannot rebuild the fat file");
    }
    sh_macho_free(&f);
    ok = ok && sh_bytebuf_ok(&out) && store(ctx, path, out.data, out.len);
    sh_bytebuf_free(&out);
    return ok;
}

/* ---- nesting ---- */

/* The extension rebuilt (new build number) and signed again ad hoc, the app not: the
 * designated requirement the app's CodeResources recorded for its nested code no longer holds
 * (re-signing with the same identity would keep it: extension-resigned-after-app). */
bool sh_mut_app_nested_seal_stale(sh_mut_ctx *ctx)
{
    if (!ctx->extension[0])
        return sig_fail(ctx, "the bundle has no system extension");
    sh_mut_resign adhoc = {.identity = "-"};
    return sh_mut_rebuild_extension(ctx, &adhoc);
}
