/* Dispatch of the structure-aware mutator: recognise the input, choose an action with the
 * configured shares, fall back to a simpler action when the chosen one cannot apply (no
 * signature to rebuild, signing refused, result larger than max_size). */
#include "fuzz_mutator.h"

#include <string.h>

#include "bundle.h"
#include "fuzz_mutator_internal.h"
#include "macho.h"
#include "pki_keyring.h"
#include "superblob.h"

void sh_fm_config_init(sh_fm_config *c)
{
    memset(c, 0, sizeof *c);
    c->byte_percent = 20;
    c->resign_percent = 25;
    c->blob_percent = 25;
    c->bundle_cross_percent = 30;
    c->bundle_resign_percent = 35;
}

sh_fm_kind sh_fm_detect(const uint8_t *data, size_t size)
{
    sh_cursor all = sh_cursor_make(data, size);
    uint32_t be, le;
    sh_cursor magic;
    /* Compared here rather than through sh_bundle_is_packed so detection needs no bundle code. */
    if (sh_cursor_sub(&all, 0, sizeof SH_BUNDLE_PACK_MAGIC - 1, &magic) &&
        memcmp(magic.p, SH_BUNDLE_PACK_MAGIC, magic.len) == 0)
        return SH_FM_BUNDLE;
    if (!sh_fm_u32_at(&all, 0, true, &be) || !sh_fm_u32_at(&all, 0, false, &le))
        return SH_FM_RAW;
    if (be == SH_FAT_MAGIC || be == SH_FAT_MAGIC_64 || le == SH_MH_MAGIC_64 ||
        le == SH_MH_CIGAM_64 || le == SH_MH_MAGIC || le == SH_MH_CIGAM)
        return SH_FM_MACHO;
    if (be == SH_MAGIC_EMBEDDED_SIGNATURE || be == SH_MAGIC_DETACHED_SIGNATURE ||
        be == SH_MAGIC_EMBEDDED_SIGNATURE_OLD)
        return SH_FM_SUPERBLOB;
    if ((be & 0xffff0000u) == 0xfade0000u)
        return SH_FM_BLOB;
    return SH_FM_RAW;
}

/* One to three field rewrites in place. */
static bool mutate_fields(const sh_fm_config *c, uint8_t *data, size_t size, sh_fm_kind kind,
                          sh_fm_rng *rng, const char **what)
{
    sh_fm_fields *fields = sh_calloc(c->alloc, 1, sizeof *fields);
    if (!fields)
        return false;
    sh_fm_collect(data, size, kind, fields);
    bool changed = false;
    unsigned rounds = 1 + (unsigned)sh_fm_rng_below(rng, 3);
    for (unsigned i = 0; i < rounds && fields->n; i++) {
        const sh_fm_field *f = &fields->f[sh_fm_rng_below(rng, fields->n)];
        if (sh_fm_mutate_field(data, size, f, fields, rng)) {
            changed = true;
            *what = f->what;
        }
    }
    sh_free(c->alloc, fields);
    return changed;
}

/* Copies a finished rebuild into the engine's buffer when it fits. */
static bool take(sh_bytebuf *b, uint8_t *data, size_t max_size, size_t *size)
{
    bool ok = sh_bytebuf_ok(b) && b->len > 0 && b->len <= max_size;
    if (ok) {
        memcpy(data, b->data, b->len);
        *size = b->len;
    }
    sh_bytebuf_free(b);
    return ok;
}

static bool rebuild(const sh_fm_config *c, sh_fm_action action, sh_fm_kind kind, uint8_t *data,
                    size_t *size, size_t max_size, sh_fm_rng *rng, const char **what,
                    bool *damaged)
{
    sh_bytebuf b;
    sh_bytebuf_init(&b, c->alloc);
    bool ok = false;
    if (action == SH_FM_RESIGN)
        ok = sh_fm_resign(c, data, *size, rng, &b, what, damaged);
    else if (action == SH_FM_BLOBS)
        ok = sh_fm_mutate_blobs(data, *size, kind, NULL, rng, &b, what);
    else if (action == SH_FM_BUNDLE_TREE)
        ok = sh_fm_mutate_bundle(c, data, *size, rng, &b, what);
    if (!ok) {
        sh_bytebuf_free(&b);
        return false;
    }
    return take(&b, data, max_size, size);
}

static sh_fm_action choose(const sh_fm_config *c, sh_fm_kind kind, sh_fm_rng *rng)
{
    uint64_t roll = sh_fm_rng_below(rng, 100);
    switch (kind) {
    case SH_FM_MACHO:
        if (roll < c->resign_percent)
            return SH_FM_RESIGN;
        return roll < c->resign_percent + c->blob_percent ? SH_FM_BLOBS : SH_FM_FIELD;
    case SH_FM_SUPERBLOB:
        return roll < c->blob_percent ? SH_FM_BLOBS : SH_FM_FIELD;
    case SH_FM_BUNDLE:
        return SH_FM_BUNDLE_TREE;
    case SH_FM_BLOB:
        return SH_FM_FIELD;
    case SH_FM_RAW:
        break;
    }
    return SH_FM_BYTES;
}

size_t sh_fm_mutate(const sh_fm_config *c, uint8_t *data, size_t size, size_t max_size,
                    uint64_t seed, sh_fm_result *r)
{
    sh_fm_rng rng = {seed};
    r->kind = sh_fm_detect(data, size);
    r->action = SH_FM_BYTES;
    r->what = "bytes";
    r->damaged = false;
    if (size > max_size || sh_fm_rng_percent(&rng, c->byte_percent))
        return size;
    sh_fm_action action = choose(c, r->kind, &rng);
    const char *what = NULL;
    if ((action == SH_FM_RESIGN || action == SH_FM_BLOBS || action == SH_FM_BUNDLE_TREE) &&
        rebuild(c, action, r->kind, data, &size, max_size, &rng, &what, &r->damaged)) {
        r->action = action;
        r->what = what;
        return size;
    }
    /* The rebuild did not apply: a field rewrite still keeps the input near its structure. */
    if (action != SH_FM_BYTES && mutate_fields(c, data, size, r->kind, &rng, &what)) {
        r->action = SH_FM_FIELD;
        r->what = what;
    }
    return size;
}

/* a's fields overwritten with values b has in fields of the same kind (b's version into a's,
 * b's page size into a's ...). */
static bool cross_fields(const sh_fm_config *c, uint8_t *out, size_t out_len, const uint8_t *b,
                         size_t b_len, sh_fm_rng *rng, const char **what)
{
    sh_fm_fields *fa = sh_calloc(c->alloc, 2, sizeof *fa);
    if (!fa)
        return false;
    sh_fm_fields *fb = fa + 1;
    sh_fm_collect(out, out_len, sh_fm_detect(out, out_len), fa);
    sh_fm_collect(b, b_len, sh_fm_detect(b, b_len), fb);
    bool changed = false;
    for (unsigned round = 0; round < 3 && fa->n && fb->n; round++) {
        const sh_fm_field *f = &fa->f[sh_fm_rng_below(rng, fa->n)];
        size_t start = (size_t)sh_fm_rng_below(rng, fb->n);
        for (size_t k = 0; k < fb->n; k++) {
            const sh_fm_field *g = &fb->f[(start + k) % fb->n];
            if (g->kind == f->kind && g->width == f->width && f->width <= 8 &&
                sh_fm_store(out, out_len, f, g->value)) {
                changed = true;
                *what = f->what;
                break;
            }
        }
    }
    sh_free(c->alloc, fa);
    return changed;
}

size_t sh_fm_crossover(const sh_fm_config *c, const uint8_t *a, size_t a_len, const uint8_t *b,
                       size_t b_len, uint8_t *out, size_t max_out, uint64_t seed,
                       sh_fm_result *r)
{
    sh_fm_rng rng = {seed};
    r->kind = sh_fm_detect(a, a_len);
    r->action = SH_FM_BLOBS;
    r->what = NULL;
    r->damaged = false;
    if (r->kind == SH_FM_BUNDLE) {
        /* Half of libFuzzer's mutation calls are crossovers, each followed by a run of the
         * target.  Moving a file or extension between bundles finds less than one of
         * sh_fm_mutate's edits, and a byte splice of two packed bundles does not even unpack, so
         * most calls answer "nothing" and libFuzzer falls back to the custom mutator. */
        if (!sh_fm_rng_percent(&rng, c->bundle_cross_percent)) {
            r->action = SH_FM_BYTES;
            r->what = "crossover.declined";
            return 0;
        }
        sh_bytebuf buf;
        sh_bytebuf_init(&buf, c->alloc);
        size_t size = 0;
        r->action = SH_FM_BUNDLE_TREE;
        if (sh_fm_crossover_bundle(c, a, a_len, b, b_len, &rng, &buf, &r->what) &&
            take(&buf, out, max_out, &size))
            return size;
        sh_bytebuf_free(&buf);
    }
    if (r->kind == SH_FM_MACHO || r->kind == SH_FM_SUPERBLOB) {
        sh_bytebuf buf;
        sh_bytebuf_init(&buf, c->alloc);
        sh_cursor partner = sh_cursor_make(b, b_len);
        size_t size = 0;
        if (sh_fm_rng_percent(&rng, 60) &&
            sh_fm_mutate_blobs(a, a_len, r->kind, &partner, &rng, &buf, &r->what) &&
            take(&buf, out, max_out, &size))
            return size;
        sh_bytebuf_free(&buf);
    }
    if (a_len <= max_out && a_len > 0) {
        memcpy(out, a, a_len);
        r->action = SH_FM_FIELD;
        if (cross_fields(c, out, a_len, b, b_len, &rng, &r->what))
            return a_len;
    }
    /* Byte splice: a's head, b's tail. */
    r->action = SH_FM_BYTES;
    r->what = "crossover.splice";
    size_t head = (size_t)sh_fm_rng_below(&rng, a_len + 1);
    size_t from = (size_t)sh_fm_rng_below(&rng, b_len + 1);
    if (head > max_out)
        head = max_out;
    size_t tail = b_len - from;
    if (tail > max_out - head)
        tail = max_out - head;
    if (head)
        memmove(out, a, head);
    if (tail)
        memcpy(out + head, b + from, tail);
    return head + tail;
}

size_t sh_fm_mutate_bytes(uint8_t *data, size_t size, size_t max_size, sh_fm_rng *rng)
{
    static const uint32_t interesting[] = {0, 1, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff,
                                           0x7fffffffu, 0x80000000u, 0xffffffffu, 0x1000,
                                           0x4000, 0xfade0c02u};
    if (size == 0) {
        if (max_size == 0)
            return 0;
        data[0] = (uint8_t)sh_fm_rng_next(rng);
        return 1;
    }
    size_t at = (size_t)sh_fm_rng_below(rng, size);
    switch (sh_fm_rng_below(rng, 5)) {
    case 0:
        data[at] ^= (uint8_t)(1u << sh_fm_rng_below(rng, 8));
        return size;
    case 1:
        data[at] = (uint8_t)sh_fm_rng_next(rng);
        return size;
    case 2: { /* a 4-byte interesting value, big-endian (signature fields) or little (Mach-O) */
        uint32_t v = interesting[sh_fm_rng_below(rng, sizeof interesting / sizeof interesting[0])];
        bool big = sh_fm_rng_percent(rng, 50);
        for (size_t i = 0; i < 4 && at + i < size; i++)
            data[at + i] = (uint8_t)(v >> (big ? 24 - 8 * i : 8 * i));
        return size;
    }
    case 3: { /* delete a block */
        size_t n = 1 + (size_t)sh_fm_rng_below(rng, size - at);
        memmove(data + at, data + at + n, size - at - n);
        return size - n;
    }
    default: { /* duplicate a block */
        if (size >= max_size)
            return size;
        size_t n = 1 + (size_t)sh_fm_rng_below(rng, size - at);
        if (n > max_size - size)
            n = max_size - size;
        memmove(data + at + n, data + at, size - at);
        return size + n;
    }
    }
}

bool sh_fm_signers_load(struct sh_pki_keyring *keys, sh_fm_signers *out, char *why,
                        size_t why_size)
{
    memset(out, 0, sizeof *out);
    if (!sh_pki_keyring_load(keys, NULL, why, why_size))
        return false;
    out->developer_id = sh_pki_keyring_find(keys, "devid-team1");
    out->development = sh_pki_keyring_find(keys, "dev-team1");
    out->tsa = &keys->tsa;
    out->keys = keys;
    return true;
}
