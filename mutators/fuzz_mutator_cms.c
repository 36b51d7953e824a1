/* The CMS signature of a bundle's executable made again over its unchanged CodeDirectories,
 * with one of the mistakes signing setups really make: the wrong certificate (another team's,
 * or the profile signer's, which cannot sign code), the intermediate or root left out of the
 * certificate list, a clock before the leaf was issued or after "now", the dual-hash
 * CodeDirectories listed only in part or in the wrong order (CDHashes attributes that do not
 * match the signature's CodeDirectories), a timestamp whose genTime is far from the signing
 * time or whose token lacks the TSA's CA.  The CMS is outside what the page and slot hashes
 * cover, so only the CMS verification stages (parsers/cms_verify.c), the chain, timestamp and
 * certificate checks see the change; byte mutation of a CMS almost always stops at DER
 * decoding instead.  The new SuperBlob replaces the old one in place when it fits the space
 * LC_CODE_SIGNATURE reserves (codesign reserves generously); otherwise the action does not
 * apply. */
#include <string.h>

#include "cms_sign.h"
#include "fixture_build.h"
#include "fuzz_mutator_internal.h"
#include "mut_toolkit.h"
#include "pki_keyring.h"
#include "superblob.h"

#define COUNT_OF(a) (sizeof(a) / sizeof((a)[0]))
#define CD_HASH_TYPE_AT 37u /* CodeDirectory: magic, length, version, flags, hashOffset,
                               identOffset, nSpecialSlots, nCodeSlots, codeLimit, hashSize */
#define DAY 86400

/* The CodeDirectories of a SuperBlob in slot order (primary first), at most max. */
static size_t codedirectories(const sh_fm_blob_list *list, sh_cms_cd *out, size_t max)
{
    size_t n = 0;
    for (uint32_t i = 0; i < list->n && n < max; i++) {
        uint32_t t = list->b[i].type;
        if (t != SH_SLOT_CODEDIRECTORY &&
            (t < SH_SLOT_ALTERNATE_CODEDIRECTORIES || t >= SH_SLOT_ALTERNATE_CODEDIRECTORY_LIMIT))
            continue;
        sh_cursor cd = list->b[i].bytes, type;
        if (!sh_cursor_sub(&cd, CD_HASH_TYPE_AT, 1, &type))
            continue;
        out[n++] = (sh_cms_cd){{cd.p, sh_cursor_len(&cd)}, type.p[0]};
    }
    return n;
}

typedef struct cms_plan {
    sh_cms_sign_params p;
    X509 *certs[2];
    const char *what;
} cms_plan;

static void choose(cms_plan *plan, const sh_pki_keyring *keys, const sh_pki_identity *id,
                   sh_cms_cd *cds, size_t ncds, sh_fm_rng *rng)
{
    sh_cms_sign_params *p = &plan->p;
    p->signer = id->leaf;
    p->key = id->key;
    plan->certs[0] = id->chain[0];
    plan->certs[1] = id->chain[1];
    p->certs = plan->certs;
    p->ncerts = 2;
    p->cds = cds;
    p->ncds = ncds;
    p->signing_time = SH_FX_SIGNING_TIME;
    if (sh_fm_rng_percent(rng, 50)) { /* as codesign --timestamp does */
        p->tsa = keys->tsa.cert;
        p->tsa_key = keys->tsa.key;
        p->tsa_certs = &keys->tsa.ca;
        p->ntsa_certs = 1;
    }
    switch (sh_fm_rng_below(rng, 7)) {
    case 0: {
        static const char *const others[] = {"devid-team2", "dev-team2", "dev-team1",
                                             "devid-team1", "profile-signer"};
        const sh_pki_identity *o =
            sh_pki_keyring_find(keys, others[sh_fm_rng_below(rng, COUNT_OF(others))]);
        if (o) {
            p->signer = o->leaf;
            p->key = o->key;
            plan->certs[0] = o->chain[0];
            plan->certs[1] = o->chain[1];
        }
        plan->what = "cms.other_signer";
        break;
    }
    case 1:
        p->ncerts = sh_fm_rng_below(rng, 2); /* no chain, or the intermediate alone */
        plan->what = "cms.chain_incomplete";
        break;
    case 2:
        plan->certs[0] = plan->certs[1]; /* the root alone */
        p->ncerts = 1;
        plan->what = "cms.root_only";
        break;
    case 3: {
        static const int64_t shifts[] = {-3650LL * DAY, 30 * DAY, -DAY, 400 * DAY};
        p->signing_time += shifts[sh_fm_rng_below(rng, COUNT_OF(shifts))];
        plan->what = "cms.signing_time";
        break;
    }
    case 4:
        if (ncds > 1 && sh_fm_rng_percent(rng, 50)) {
            sh_cms_cd first = cds[0];
            cds[0] = cds[ncds - 1];
            cds[ncds - 1] = first;
            plan->what = "cms.cds_reordered";
        } else {
            p->ncds = 1;
            plan->what = "cms.cds_partial";
        }
        break;
    case 5:
        p->tsa = keys->tsa.cert;
        p->tsa_key = keys->tsa.key;
        p->tsa_certs = &keys->tsa.ca;
        p->ntsa_certs = sh_fm_rng_percent(rng, 40) ? 0 : 1;
        p->timestamp_time = SH_FX_SIGNING_TIME +
                            (sh_fm_rng_percent(rng, 50) ? 730LL * DAY : -3650LL * DAY);
        plan->what = "cms.timestamp";
        break;
    default:
        plan->what = "cms.resigned"; /* the same signature made again: a control */
        break;
    }
}

/* Re-makes the CMS of the SuperBlob at spot in data; false when it does not apply. */
static bool remake(const sh_pki_keyring *keys, const sh_pki_identity *id, uint8_t *data,
                   size_t size, const sh_fm_sigspot *spot, sh_fm_rng *rng, const char **what)
{
    sh_cursor all = sh_cursor_make(data, size), sig;
    sh_fm_blob_list list;
    if (!sh_cursor_sub(&all, spot->sig_off, spot->sig_size, &sig) ||
        !sh_fm_blob_list_read(&sig, &list))
        return false;
    sh_cms_cd cds[1 + SH_MAX_ALTERNATE_CDS];
    size_t ncds = codedirectories(&list, cds, COUNT_OF(cds));
    if (ncds == 0)
        return false;
    cms_plan plan;
    memset(&plan, 0, sizeof plan);
    choose(&plan, keys, id, cds, ncds, rng);
    sh_bytebuf cms, wrapper, sb;
    sh_bytebuf_init(&cms, NULL);
    sh_bytebuf_init(&wrapper, NULL);
    sh_bytebuf_init(&sb, NULL);
    sh_write_error we = {0};
    bool ok = sh_cms_sign(&plan.p, &cms, &we) == SH_W_OK &&
              sh_blob_write(SH_MAGIC_BLOBWRAPPER, cms.data, cms.len, &wrapper, &we) == SH_W_OK;
    if (ok) {
        bool replaced = false;
        for (uint32_t i = 0; i < list.n; i++)
            if (list.b[i].type == SH_SLOT_SIGNATURE) {
                list.b[i].bytes = sh_cursor_make(wrapper.data, wrapper.len);
                replaced = true;
            }
        if (!replaced && list.n < SH_MAX_SUPERBLOB_BLOBS)
            list.b[list.n++] = (sh_fm_blob){SH_SLOT_SIGNATURE,
                                            sh_cursor_make(wrapper.data, wrapper.len)};
        /* the blob list points into data: write the new SuperBlob aside, then copy it in */
        ok = sh_fm_blob_list_write(&list, &sb) && sb.len <= spot->sig_size;
    }
    if (ok) {
        memcpy(data + spot->sig_off, sb.data, sb.len);
        memset(data + spot->sig_off + sb.len, 0, spot->sig_size - sb.len);
        *what = plan.what;
    }
    sh_bytebuf_free(&cms);
    sh_bytebuf_free(&wrapper);
    sh_bytebuf_free(&sb);
    return ok;
}

const char *sh_fm_bundle_cms(const sh_fm_config *c, sh_mut_ctx *ctx, sh_fm_rng *rng)
{
    const sh_pki_keyring *keys = c->signers ? c->signers->keys : NULL;
    bool ext = ctx->extension[0] && sh_bundle_find(ctx->bundle, ctx->extension) &&
               sh_fm_rng_percent(rng, 65);
    const char *root = ext ? ctx->extension : "";
    sh_mut_signing now;
    char exe_path[SH_MAX_BUNDLE_PATH + 1];
    if (!keys || !sh_mut_main_executable(ctx, root, exe_path, sizeof exe_path) ||
        !sh_mut_signing_read(ctx, root, &now))
        return NULL;
    const sh_pki_identity *id = now.identity[0] ? sh_pki_keyring_find(keys, now.identity) : NULL;
    sh_mut_signing_free(&now);
    const sh_bundle_entry *e = sh_bundle_find(ctx->bundle, exe_path);
    if (!id || !e || e->kind != SH_BUNDLE_FILE)
        return NULL; /* ad hoc code has no CMS to remake */
    sh_bytebuf exe;
    sh_bytebuf_init(&exe, NULL);
    sh_fm_sigspot spot;
    const char *what = NULL;
    uint32_t mode = e->mode;
    bool ok = sh_bytebuf_append(&exe, e->data, e->len) &&
              sh_fm_find_signature(exe.data, exe.len, 0, &spot) &&
              remake(keys, id, exe.data, exe.len, &spot, rng, &what) &&
              sh_bundle_put_file(ctx->bundle, exe_path, exe.data, exe.len, mode, NULL) == SH_E_OK;
    sh_bytebuf_free(&exe);
    return ok ? what : NULL;
}
