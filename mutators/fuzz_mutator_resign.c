/* "Change a meaningful field, then re-sign so the hashes are consistent again": the mutation
 * that gets a fuzzer past page and special-slot hashing into the CMS, chain, timestamp,
 * requirement and entitlement checks.  The unsigned part of the Mach-O is changed (platform
 * versions, header flags, code bytes), the signing options are drawn (identity, runtime, dual
 * hash, timestamp, entitlements, identifier), sh_sign_macho signs, and sometimes one field of
 * the fresh signature is damaged afterwards so each deep check also sees a near miss. */
#include <string.h>

#include "fuzz_mutator_internal.h"
#include "signer.h"

static const char *const entitlement_sets[SH_FM_ENTITLEMENT_SETS] = {
    NULL,
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<plist version=\"1.0\">\n<dict>\n"
    "\t<key>com.apple.security.get-task-allow</key>\n\t<true/>\n</dict>\n</plist>\n",
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<plist version=\"1.0\">\n<dict>\n"
    "\t<key>com.apple.developer.team-identifier</key>\n\t<string>SHTEAM0001</string>\n"
    "\t<key>com.apple.security.app-sandbox</key>\n\t<true/>\n</dict>\n</plist>\n",
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<plist version=\"1.0\">\n<dict>\n"
    "\t<key>com.apple.developer.system-extension.install</key>\n\t<true/>\n"
    "\t<key>com.apple.security.application-groups</key>\n\t<array>\n"
    "\t\t<string>SHTEAM0001.group</string>\n\t</array>\n</dict>\n</plist>\n",
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<plist version=\"1.0\">\n<dict>\n"
    "\t<key>com.apple.developer.networking.networkextension</key>\n\t<array>\n"
    "\t\t<string>content-filter-provider-systemextension</string>\n"
    "\t\t<string>packet-tunnel-provider-systemextension</string>\n\t</array>\n"
    "\t<key>com.apple.developer.endpoint-security.client</key>\n\t<true/>\n"
    "\t<key>com.sigharness.level</key>\n\t<integer>3</integer>\n</dict>\n</plist>\n",
};

const char *sh_fm_entitlements(unsigned index, size_t *len)
{
    const char *e = entitlement_sets[index % SH_FM_ENTITLEMENT_SETS];
    *len = e ? strlen(e) : 0;
    return e;
}

static const char *const identifiers[] = {
    "com.example.tool", "com.sigharness.fuzz.systemextension", "a", "com.apple.ls",
    "com.example.app.network-extension",
};

/* One change to the part of the file the signature covers. */
static const char *change_unsigned_part(const sh_allocator *alloc, uint8_t *data, size_t size,
                                        sh_fm_rng *rng)
{
    sh_fm_slice slices[SH_MAX_FAT_ARCHS];
    bool fat;
    size_t n = sh_fm_slices(data, size, slices, SH_MAX_FAT_ARCHS, &fat);
    if (n == 0)
        return NULL;
    const sh_fm_slice *s = &slices[sh_fm_rng_below(rng, n)];
    if (sh_fm_rng_percent(rng, 50)) {
        /* A byte after the load commands and before the end: code, constants, linkedit. */
        uint64_t start = (uint64_t)s->header_size + s->sizeofcmds;
        if (start >= s->data.len)
            return NULL;
        uint64_t at = s->data.base + start + sh_fm_rng_below(rng, s->data.len - start);
        if (at >= size)
            return NULL;
        data[at] ^= (uint8_t)(1u + sh_fm_rng_below(rng, 255));
        return "resign.code_byte";
    }
    /* A platform version or header flag: meaningful to the loader, harmless to the signer. */
    sh_fm_fields *fields = sh_calloc(alloc, 1, sizeof *fields);
    if (!fields)
        return NULL;
    sh_fm_collect(data, size, SH_FM_MACHO, fields);
    const char *what = NULL;
    size_t start = (size_t)sh_fm_rng_below(rng, fields->n ? fields->n : 1);
    for (size_t k = 0; k < fields->n && !what; k++) {
        const sh_fm_field *f = &fields->f[(start + k) % fields->n];
        if (f->kind == SH_FK_OS_VERSION || (f->kind == SH_FK_PLATFORM && f->width == 4) ||
            (f->kind == SH_FK_MH_FLAGS && strcmp(f->what, "mach_header.flags") == 0))
            if (sh_fm_mutate_field(data, size, f, fields, rng))
                what = f->what;
    }
    sh_free(alloc, fields);
    return what;
}

static const sh_pki_identity *pick_identity(const sh_fm_signers *signers, sh_fm_rng *rng)
{
    if (!signers)
        return NULL;
    switch (sh_fm_rng_below(rng, 3)) {
    case 1: return signers->developer_id;
    case 2: return signers->development;
    default: return NULL;
    }
}

/* After signing: one field of the new signature damaged, so the deep checks see near misses. */
static const char *damage_signature(const sh_allocator *alloc, sh_bytebuf *signed_file,
                                    sh_fm_rng *rng)
{
    sh_fm_sigspot spot;
    if (!sh_fm_find_signature(signed_file->data, signed_file->len, sh_fm_rng_next(rng), &spot))
        return NULL;
    sh_fm_fields *fields = sh_calloc(alloc, 1, sizeof *fields);
    if (!fields)
        return NULL;
    sh_cursor all = sh_cursor_make(signed_file->data, signed_file->len), sig;
    const char *what = NULL;
    if (sh_cursor_sub(&all, spot.sig_off, spot.sig_size, &sig)) {
        sh_fm_collect_superblob(&sig, fields);
        if (fields->n) {
            const sh_fm_field *f = &fields->f[sh_fm_rng_below(rng, fields->n)];
            if (sh_fm_mutate_field(signed_file->data, signed_file->len, f, fields, rng))
                what = f->what;
        }
    }
    sh_free(alloc, fields);
    return what;
}

bool sh_fm_resign(const sh_fm_config *c, const uint8_t *data, size_t size, sh_fm_rng *rng,
                  sh_bytebuf *out, const char **what, bool *damaged)
{
    *damaged = false;
    sh_bytebuf changed;
    sh_bytebuf_init(&changed, c->alloc);
    if (!sh_bytebuf_append(&changed, data, size))
        return false;
    *what = change_unsigned_part(c->alloc, changed.data, changed.len, rng);
    if (!*what)
        *what = "resign.options_only";

    sh_sign_options o;
    sh_sign_options_init(&o, identifiers[sh_fm_rng_below(rng, sizeof identifiers /
                                                                  sizeof identifiers[0])]);
    o.identity = pick_identity(c->signers, rng);
    o.tsa = o.identity && c->signers && sh_fm_rng_percent(rng, 40) ? c->signers->tsa : NULL;
    o.runtime = sh_fm_rng_percent(rng, 50);
    o.dual_hash = sh_fm_rng_percent(rng, 30);
    o.force = true;
    o.signing_time = 1700000000 + (int64_t)sh_fm_rng_below(rng, 86400 * 365);
    o.entitlements = (const uint8_t *)sh_fm_entitlements(
        (unsigned)sh_fm_rng_below(rng, SH_FM_ENTITLEMENT_SETS), &o.entitlements_len);
    o.info_plist = c->info_plist;
    o.info_plist_len = c->info_plist_len;
    o.resources = c->resources;
    o.resources_len = c->resources_len;

    sh_sign_result r;
    size_t start = out->len;
    bool ok = sh_sign_macho(changed.data, changed.len, &o, out, &r) == SH_SIGN_OK;
    sh_bytebuf_free(&changed);
    if (ok && sh_fm_rng_percent(rng, 30) && out->len > start && start == 0) {
        const char *field = damage_signature(c->alloc, out, rng);
        *damaged = field != NULL;
        if (field)
            *what = field;
    }
    return ok;
}
