/* sh_sign_macho: options, thin and fat files (see signer.h). */
#include "signer_internal.h"

#include <stdio.h>
#include <string.h>

#include "codedir.h"
#include "macho_synth.h"
#include "sh_limits.h"

void sh_sign_options_init(sh_sign_options *o, const char *identifier)
{
    memset(o, 0, sizeof *o);
    o->identifier = identifier;
}

/* CS_ALLOWED_MACHO (cs_blobs.h): the kernel rejects a CodeDirectory with any other flag. */
#define SH_SIGN_ALLOWED_FLAGS                                                                     \
    (SH_CS_ADHOC | SH_CS_HARD | SH_CS_KILL | SH_CS_CHECK_EXPIRATION | SH_CS_RESTRICT |            \
     SH_CS_ENFORCEMENT | SH_CS_REQUIRE_LV | SH_CS_RUNTIME | SH_CS_LINKER_SIGNED)

/* A linker signature is ad hoc and seals nothing but the code pages. */
static sh_sign_status check_layout(const sh_sign_options *o, sh_sign_result *r)
{
    if (o->layout == SH_SIGN_LAYOUT_CODESIGN)
        return SH_SIGN_OK;
    if (o->layout != SH_SIGN_LAYOUT_GO && o->layout != SH_SIGN_LAYOUT_LLD)
        return sh_sign_fail(r, SH_SIGN_INVALID_ARGUMENT, "unknown signature layout %d",
                            (int)o->layout);
    if (o->identity || o->entitlements || o->info_plist || o->resources || o->dual_hash)
        return sh_sign_fail(r, SH_SIGN_INVALID_ARGUMENT,
                            "a linker-style signature is ad hoc with one SHA-256 CodeDirectory and "
                            "no special slots (no identity, entitlements, Info.plist, resources)");
    return SH_SIGN_OK;
}

static sh_sign_status check_options(const sh_sign_options *o, sh_sign_result *r)
{
    if (!o->identifier || !o->identifier[0] || strlen(o->identifier) > SH_MAX_IDENTIFIER_LEN)
        return sh_sign_fail(r, SH_SIGN_INVALID_ARGUMENT, "an identifier of 1..%u bytes is required",
                            SH_MAX_IDENTIFIER_LEN);
    if (o->identity && o->identity->kind != SH_PKI_DEVELOPER_ID &&
        o->identity->kind != SH_PKI_DEVELOPMENT)
        return sh_sign_fail(r, SH_SIGN_INVALID_ARGUMENT, "identity \"%s\" cannot sign code",
                            o->identity->cn);
    if (o->identity && (!o->identity->leaf || !o->identity->key || !o->identity->chain[0]))
        return sh_sign_fail(r, SH_SIGN_INVALID_ARGUMENT, "identity not loaded");
    if (o->tsa && !o->identity)
        return sh_sign_fail(r, SH_SIGN_INVALID_ARGUMENT, "ad-hoc signatures have no timestamp");
    if (o->entitlements && o->entitlements_len == 0)
        return sh_sign_fail(r, SH_SIGN_BAD_ENTITLEMENTS, "the entitlements file is empty");
    if (o->extra_flags & ~SH_SIGN_ALLOWED_FLAGS)
        return sh_sign_fail(r, SH_SIGN_INVALID_ARGUMENT,
                            "CodeDirectory flags 0x%x are not allowed in a Mach-O signature",
                            o->extra_flags & ~SH_SIGN_ALLOWED_FLAGS);
    if (o->page_shift > SH_MAX_PAGE_SHIFT)
        return sh_sign_fail(r, SH_SIGN_INVALID_ARGUMENT, "page shift %u above %u", o->page_shift,
                            SH_MAX_PAGE_SHIFT);
    return check_layout(o, r);
}

static const char *slice_name(const sh_macho_slice *s, char *buf, size_t size)
{
    return sh_macho_cpu_name_buf(s->cputype, s->cpusubtype, buf, size);
}

static sh_sign_status prefix_slice(sh_sign_result *r, uint32_t i, const sh_macho_slice *s)
{
    char name[64], msg[sizeof r->message];
    snprintf(msg, sizeof msg, "%s", r->message);
    return sh_sign_fail(r, r->status, "slice %u (%s): %s", i, slice_name(s, name, sizeof name), msg);
}

static sh_sign_status sign_fat(const sh_macho_file *f, const sh_sign_options *o,
                               const sh_sign_blobs *b, sh_bytebuf *out, sh_sign_result *r)
{
    if (f->fat_magic != SH_FAT_MAGIC || f->hidden_slice || f->nslices > SH_SYNTH_MAX_SLICES)
        return sh_sign_fail(r, SH_SIGN_UNSUPPORTED,
                            "only FAT_MAGIC files with 1..%u slices and no hidden slice are signed",
                            SH_SYNTH_MAX_SLICES);
    sh_bytebuf slices[SH_SYNTH_MAX_SLICES];
    sh_fat_input inputs[SH_SYNTH_MAX_SLICES];
    sh_sign_status st = SH_SIGN_OK;
    uint32_t done = 0;
    for (; done < f->nslices && st == SH_SIGN_OK; done++) {
        const sh_macho_slice *s = &f->slices[done];
        sh_bytebuf_init(&slices[done], NULL);
        st = sh_sign_slice(s, o, b, &slices[done], r);
        if (st != SH_SIGN_OK)
            st = prefix_slice(r, done, s);
        inputs[done] = (sh_fat_input){s->fat_cputype, s->fat_cpusubtype, s->fat_align,
                                      {slices[done].data, slices[done].len}};
    }
    sh_write_error we = {0};
    if (st == SH_SIGN_OK && sh_fat_write(inputs, f->nslices, out, NULL, &we) != SH_W_OK)
        st = sh_sign_fail(r, SH_SIGN_FAILED, "fat file: %s (%s)", we.what,
                          sh_write_status_name(we.status));
    for (uint32_t i = 0; i < done; i++)
        sh_bytebuf_free(&slices[i]);
    return st;
}

sh_sign_status sh_sign_macho(const uint8_t *in, size_t len, const sh_sign_options *o,
                             sh_bytebuf *out, sh_sign_result *r)
{
    memset(r, 0, sizeof *r);
    sh_sign_status st = check_options(o, r);
    if (st != SH_SIGN_OK)
        return st;
    sh_macho_file f;
    sh_error err;
    if (sh_macho_parse(in, len, NULL, &f, &err) != SH_E_OK) {
        char msg[256];
        sh_error_format(&err, msg, sizeof msg);
        sh_macho_free(&f);
        return sh_sign_fail(r, SH_SIGN_MALFORMED, "not a readable Mach-O file: %s", msg);
    }
    sh_sign_blobs b;
    sh_bytebuf signed_file; /* out is touched only on success */
    sh_bytebuf_init(&signed_file, NULL);
    st = sh_sign_blobs_make(o, &b, r);
    if (st == SH_SIGN_OK)
        st = f.fat ? sign_fat(&f, o, &b, &signed_file, r)
                   : sh_sign_slice(&f.slices[0], o, &b, &signed_file, r);
    if (st == SH_SIGN_OK && !sh_bytebuf_append_moved(out, &signed_file))
        st = sh_sign_fail(r, SH_SIGN_FAILED, "out of memory (output)");
    sh_bytebuf_free(&signed_file);
    sh_sign_blobs_free(&b);
    sh_macho_free(&f);
    return st;
}
