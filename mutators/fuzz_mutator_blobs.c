/* SuperBlob-level mutation that keeps the container consistent: the blob list is edited (drop,
 * duplicate, re-type, swap, reverse, take a blob from the crossover partner) and a fresh
 * SuperBlob is written with every offset and length right, so the parser's index checks pass
 * and the blobs' own validation runs.  Inside a Mach-O the new signature replaces the old one
 * in LC_CODE_SIGNATURE's region: in place when it fits, else by growing the file when the
 * signature ends a thin file (datasize and __LINKEDIT sizes follow). */
#include <string.h>

#include "fuzz_mutator_internal.h"
#include "macho.h"
#include "superblob.h"

bool sh_fm_blob_list_read(const sh_cursor *sb, sh_fm_blob_list *list)
{
    uint32_t length, count;
    list->n = 0;
    if (!sh_fm_u32_at(sb, 0, true, &list->magic) || !sh_fm_u32_at(sb, 4, true, &length) ||
        !sh_fm_u32_at(sb, 8, true, &count))
        return false;
    if ((list->magic & 0xffff0000u) != 0xfade0000u)
        return false;
    sh_cursor body;
    if (!sh_cursor_sub(sb, 0, length, &body))
        body = *sb;
    for (uint32_t i = 0; i < count && i < SH_MAX_SUPERBLOB_BLOBS; i++) {
        uint32_t type, off, blob_len;
        sh_cursor blob;
        if (!sh_fm_u32_at(&body, 12 + (uint64_t)i * 8, true, &type) ||
            !sh_fm_u32_at(&body, 16 + (uint64_t)i * 8, true, &off))
            break;
        if (!sh_fm_u32_at(&body, (uint64_t)off + 4, true, &blob_len) || blob_len < 8 ||
            !sh_cursor_sub(&body, off, blob_len, &blob))
            continue;
        list->b[list->n++] = (sh_fm_blob){type, blob};
    }
    return true;
}

bool sh_fm_blob_list_write(const sh_fm_blob_list *list, sh_bytebuf *out)
{
    uint64_t total = 12 + (uint64_t)list->n * 8;
    for (uint32_t i = 0; i < list->n; i++)
        total += list->b[i].bytes.len;
    if (total > UINT32_MAX)
        return false;
    size_t start = out->len;
    sh_bytebuf_u32be(out, list->magic);
    sh_bytebuf_u32be(out, (uint32_t)total);
    sh_bytebuf_u32be(out, list->n);
    uint64_t off = 12 + (uint64_t)list->n * 8;
    for (uint32_t i = 0; i < list->n; i++) {
        sh_bytebuf_u32be(out, list->b[i].type);
        sh_bytebuf_u32be(out, (uint32_t)off);
        off += list->b[i].bytes.len;
    }
    for (uint32_t i = 0; i < list->n; i++)
        sh_bytebuf_append(out, list->b[i].bytes.p, list->b[i].bytes.len);
    return sh_bytebuf_ok(out) && out->len - start == total;
}

/* ---- where the signature sits in a Mach-O ----------------------------------------------- */

static void find_linkedit(const sh_fm_slice *s, uint64_t cmd_off, sh_fm_sigspot *spot)
{
    char name[17];
    sh_cursor lc, t;
    if (!sh_cursor_sub(&s->data, cmd_off + 8, 16, &lc) ||
        !sh_cursor_fixed_name(&lc, 16, name, sizeof name) || strcmp(name, "__LINKEDIT") != 0)
        return;
    uint32_t w = s->is64 ? 8 : 4;
    if (!sh_cursor_sub(&s->data, cmd_off + 24, 4 * (uint64_t)w, &t))
        return;
    spot->linkedit_vmsize = s->data.base + cmd_off + 24 + w;
    spot->linkedit_filesize = s->data.base + cmd_off + 24 + 3 * w;
    spot->linkedit_64 = s->is64;
}

static bool slice_signature(const sh_fm_slice *s, sh_fm_sigspot *spot)
{
    uint64_t off = s->header_size;
    bool found = false;
    memset(spot, 0, sizeof *spot);
    for (uint32_t i = 0; i < s->ncmds && i < SH_MAX_LOAD_COMMANDS; i++) {
        uint32_t cmd, cmdsize, dataoff, datasize;
        if (!sh_fm_u32_at(&s->data, off, s->big_endian, &cmd) ||
            !sh_fm_u32_at(&s->data, off + 4, s->big_endian, &cmdsize) || cmdsize < 8)
            break;
        if (cmd == SH_LC_SEGMENT_64 || cmd == SH_LC_SEGMENT)
            find_linkedit(s, off, spot);
        if (cmd == SH_LC_CODE_SIGNATURE &&
            sh_fm_u32_at(&s->data, off + 8, s->big_endian, &dataoff) &&
            sh_fm_u32_at(&s->data, off + 12, s->big_endian, &datasize) &&
            sh_range_within(dataoff, datasize, s->data.len)) {
            spot->sig_off = s->data.base + dataoff;
            spot->sig_size = datasize;
            spot->datasize_field = s->data.base + off + 12;
            found = true;
        }
        off += cmdsize;
    }
    spot->slice_off = s->data.base;
    spot->slice_size = s->data.len;
    spot->big_endian = s->big_endian;
    return found;
}

bool sh_fm_find_signature(const uint8_t *data, size_t size, uint64_t which, sh_fm_sigspot *out)
{
    sh_fm_slice slices[SH_MAX_FAT_ARCHS];
    bool fat;
    size_t n = sh_fm_slices(data, size, slices, SH_MAX_FAT_ARCHS, &fat);
    for (size_t k = 0; k < n; k++)
        if (slice_signature(&slices[(which + k) % n], out)) {
            out->fat = fat;
            return true;
        }
    return false;
}

/* ---- the list edits ---------------------------------------------------------------------- */

static const char *edit_list(sh_fm_blob_list *l, const sh_fm_blob_list *partner, sh_fm_rng *rng)
{
    uint32_t i = (uint32_t)sh_fm_rng_below(rng, l->n), j = (uint32_t)sh_fm_rng_below(rng, l->n);
    if (partner && partner->n && l->n < SH_MAX_SUPERBLOB_BLOBS && sh_fm_rng_percent(rng, 60)) {
        const sh_fm_blob *theirs = &partner->b[sh_fm_rng_below(rng, partner->n)];
        /* Their blob in the slot it had (replacing ours of that type), else appended. */
        for (uint32_t k = 0; k < l->n; k++)
            if (l->b[k].type == theirs->type) {
                l->b[k].bytes = theirs->bytes;
                return "blobs.take_partner_blob";
            }
        l->b[l->n++] = *theirs;
        return "blobs.add_partner_blob";
    }
    switch (sh_fm_rng_below(rng, 5)) {
    case 0:
        if (l->n == 0)
            return NULL;
        memmove(&l->b[i], &l->b[i + 1], (l->n - i - 1) * sizeof l->b[0]);
        l->n--;
        return "blobs.drop";
    case 1:
        if (l->n == 0 || l->n >= SH_MAX_SUPERBLOB_BLOBS)
            return NULL;
        l->b[l->n] = l->b[i];
        if (sh_fm_rng_percent(rng, 50)) /* as an alternate CodeDirectory, or the same slot */
            l->b[l->n].type = SH_SLOT_ALTERNATE_CODEDIRECTORIES + (uint32_t)sh_fm_rng_below(rng, 6);
        l->n++;
        return "blobs.duplicate";
    case 2: {
        if (l->n < 2)
            return NULL;
        uint32_t t = l->b[i].type;
        l->b[i].type = l->b[j].type;
        l->b[j].type = t;
        return "blobs.swap_types";
    }
    case 3:
        for (uint32_t k = 0; k < l->n / 2; k++) {
            sh_fm_blob b = l->b[k];
            l->b[k] = l->b[l->n - 1 - k];
            l->b[l->n - 1 - k] = b;
        }
        return "blobs.reverse_order";
    default: {
        static const uint32_t types[] = {SH_SLOT_CODEDIRECTORY, SH_SLOT_REQUIREMENTS,
                                         SH_SLOT_ENTITLEMENTS, SH_SLOT_DER_ENTITLEMENTS,
                                         SH_SLOT_ALTERNATE_CODEDIRECTORIES, SH_SLOT_SIGNATURE};
        if (l->n == 0)
            return NULL;
        l->b[i].type = types[sh_fm_rng_below(rng, sizeof types / sizeof types[0])];
        return "blobs.retype";
    }
    }
}

static bool read_signature_list(const uint8_t *data, size_t size, sh_fm_kind kind, uint64_t which,
                                sh_fm_blob_list *list, sh_fm_sigspot *spot)
{
    sh_cursor all = sh_cursor_make(data, size), sig;
    if (kind == SH_FM_SUPERBLOB)
        return sh_fm_blob_list_read(&all, list);
    if (kind != SH_FM_MACHO || !sh_fm_find_signature(data, size, which, spot) ||
        !sh_cursor_sub(&all, spot->sig_off, spot->sig_size, &sig))
        return false;
    return sh_fm_blob_list_read(&sig, list);
}

/* Puts the new signature into a copy of the Mach-O. */
static bool place_signature(const uint8_t *data, size_t size, const sh_fm_sigspot *spot,
                            const sh_bytebuf *sig, sh_bytebuf *out)
{
    if (sig->len <= spot->sig_size) {
        if (!sh_bytebuf_append(out, data, size))
            return false;
        memcpy(out->data + spot->sig_off, sig->data, sig->len);
        memset(out->data + spot->sig_off + sig->len, 0, spot->sig_size - sig->len);
        return true;
    }
    /* Growing is only consistent when nothing follows the signature. */
    if (spot->fat || spot->sig_off + spot->sig_size != size || spot->linkedit_filesize == 0)
        return false;
    uint64_t padded;
    if (!sh_align_up_u64(sig->len, 16, &padded) || padded > UINT32_MAX)
        return false;
    uint64_t grow = padded - spot->sig_size;
    sh_bytebuf_append(out, data, spot->sig_off);
    sh_bytebuf_append(out, sig->data, sig->len);
    sh_bytebuf_append_zeros(out, padded - sig->len);
    if (!sh_bytebuf_ok(out))
        return false;
    sh_fm_field datasize = {spot->datasize_field, 4, spot->big_endian, SH_FK_SIZE, "", 0, 0};
    sh_fm_store(out->data, out->len, &datasize, padded);
    uint32_t w = spot->linkedit_64 ? 8 : 4;
    sh_cursor view = sh_cursor_make(out->data, out->len);
    uint64_t filesize = 0, vmsize = 0;
    uint32_t f32 = 0, v32 = 0;
    bool ok = w == 8 ? sh_fm_u64_at(&view, spot->linkedit_filesize, spot->big_endian, &filesize) &&
                           sh_fm_u64_at(&view, spot->linkedit_vmsize, spot->big_endian, &vmsize)
                     : sh_fm_u32_at(&view, spot->linkedit_filesize, spot->big_endian, &f32) &&
                           sh_fm_u32_at(&view, spot->linkedit_vmsize, spot->big_endian, &v32);
    if (!ok)
        return false;
    if (w == 4) {
        filesize = f32;
        vmsize = v32;
    }
    filesize += grow;
    uint64_t need;
    if (!sh_align_up_u64(filesize, 0x4000, &need))
        return false;
    sh_fm_field fs = {spot->linkedit_filesize, w, spot->big_endian, SH_FK_SIZE, "", 0, 0};
    sh_fm_field vs = {spot->linkedit_vmsize, w, spot->big_endian, SH_FK_SIZE, "", 0, 0};
    sh_fm_store(out->data, out->len, &fs, filesize);
    if (vmsize < need)
        sh_fm_store(out->data, out->len, &vs, need);
    return true;
}

bool sh_fm_mutate_blobs(const uint8_t *data, size_t size, sh_fm_kind kind,
                        const sh_cursor *partner, sh_fm_rng *rng, sh_bytebuf *out,
                        const char **what)
{
    sh_fm_blob_list list, theirs;
    sh_fm_sigspot spot;
    if (!read_signature_list(data, size, kind, sh_fm_rng_next(rng), &list, &spot))
        return false;
    bool have_partner = false;
    if (partner) {
        sh_fm_kind pk = sh_fm_detect(partner->p, partner->len);
        sh_fm_sigspot pspot;
        have_partner = read_signature_list(partner->p, partner->len, pk, sh_fm_rng_next(rng),
                                           &theirs, &pspot);
    }
    *what = edit_list(&list, have_partner ? &theirs : NULL, rng);
    if (!*what)
        return false;
    sh_bytebuf sig;
    sh_bytebuf_init(&sig, out->alloc);
    bool ok = sh_fm_blob_list_write(&list, &sig);
    if (ok)
        ok = kind == SH_FM_SUPERBLOB ? sh_bytebuf_append(out, sig.data, sig.len)
                                     : place_signature(data, size, &spot, &sig, out);
    sh_bytebuf_free(&sig);
    return ok;
}
