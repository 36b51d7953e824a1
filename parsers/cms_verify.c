/* Verifying the code-signing CMS in the order of Security's StaticCode.cpp verifySignature (see
 * cms.h for the stages and the time rule). */
#include "cms.h"

#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>

#include "hash.h"
#include "plist_guard.h"

typedef struct verify_ctx {
    const sh_cms *cms;
    const sh_cms_code *code;
    const sh_cms_options *opt;
    sh_cms_report *report;
    sh_error *err;
    X509 *leaf;         /* borrowed from cms->certs */
    sh_timestamp ts;    /* owned, freed at the end */
    sh_anchor_set anchors;
} verify_ctx;

static sh_err fail(verify_ctx *vc, sh_cms_stage stage, sh_err code, const char *where,
                   int64_t index, uint64_t value)
{
    vc->report->failed_stage = stage;
    return sh_fail_value(vc->err, code, where, index, vc->cms->offset, value);
}

/* A failure already recorded in err by a callee: only the stage is ours. */
static sh_err failed_in(verify_ctx *vc, sh_cms_stage stage, sh_err e)
{
    if (e != SH_E_OK)
        vc->report->failed_stage = stage;
    return e;
}

static const EVP_MD *digest_of_nid(int nid)
{
    switch (nid) {
    case NID_sha1: return EVP_sha1();
    case NID_sha256: return EVP_sha256();
    case NID_sha384: return EVP_sha384();
    case NID_sha512: return EVP_sha512();
    default: return NULL;
    }
}

static const sh_codedir *chosen_cd(const sh_cms_code *code)
{
    return &code->cds[code->best < code->ncds ? code->best : 0];
}

/* ---- stage 1: the signer's signature over the slot-0 CodeDirectory ---- */

static sh_err check_message_digest(verify_ctx *vc, const EVP_MD *md)
{
    const sh_cms *cms = vc->cms;
    const sh_cursor *content = &vc->code->cds[0].blob;
    if (!cms->has_content_type)
        return fail(vc, SH_CMS_STAGE_SIGNATURE, SH_E_CMS_NO_CONTENT_TYPE, "CMS signer", -1, 0);
    if (cms->content_type_nid != cms->econtent_nid)
        return fail(vc, SH_CMS_STAGE_SIGNATURE, SH_E_CMS_CONTENT_TYPE_MISMATCH, "CMS signer", -1,
                    (uint64_t)(int64_t)cms->content_type_nid);
    if (!cms->has_message_digest)
        return fail(vc, SH_CMS_STAGE_SIGNATURE, SH_E_CMS_NO_MESSAGE_DIGEST, "CMS signer", -1, 0);
    uint8_t digest[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (!EVP_Digest(content->p, content->len, digest, &len, md, NULL))
        return fail(vc, SH_CMS_STAGE_SIGNATURE, SH_E_NO_MEMORY, "CMS signer", -1, 0);
    if (len != cms->message_digest_len || memcmp(digest, cms->message_digest, len) != 0)
        return fail(vc, SH_CMS_STAGE_SIGNATURE, SH_E_CMS_DIGEST_MISMATCH, "CodeDirectory", 0,
                    content->base);
    return SH_E_OK;
}

/* Without signed attributes the signature covers the content itself (RFC 5652 5.4). */
static sh_err verify_content_signature(verify_ctx *vc, const EVP_MD *md)
{
    const sh_cursor *content = &vc->code->cds[0].blob;
    const sh_cursor *sig = &vc->cms->signature_value;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok = ctx != NULL &&
             EVP_DigestVerifyInit(ctx, NULL, md, NULL, X509_get0_pubkey(vc->leaf)) == 1 &&
             EVP_DigestVerify(ctx, sig->p, sig->len, content->p, content->len) == 1;
    EVP_MD_CTX_free(ctx);
    return ok ? SH_E_OK
              : fail(vc, SH_CMS_STAGE_SIGNATURE, SH_E_CMS_SIGNATURE_INVALID, "CMS signer", -1, 0);
}

static sh_err stage_signature(verify_ctx *vc)
{
    const sh_cms *cms = vc->cms;
    const EVP_MD *md = digest_of_nid(cms->digest_nid);
    if (md == NULL)
        return fail(vc, SH_CMS_STAGE_SIGNATURE, SH_E_CMS_UNSUPPORTED_DIGEST, "CMS signer", -1,
                    (uint64_t)(int64_t)cms->digest_nid);
    if (vc->leaf == NULL)
        return fail(vc, SH_CMS_STAGE_SIGNATURE, SH_E_CMS_SIGNER_CERT_MISSING, "CMS signer", -1, 0);
    if (cms->n_signed_attrs == 0)
        return verify_content_signature(vc, md);
    sh_err e = check_message_digest(vc, md);
    if (e != SH_E_OK)
        return e;
    if (CMS_SignerInfo_verify(cms->signer) != 1)
        return fail(vc, SH_CMS_STAGE_SIGNATURE, SH_E_CMS_SIGNATURE_INVALID, "CMS signer", -1, 0);
    /* Security's SecCmsSignerInfoVerifyUnAuthAttrs: unsigned attributes mean a timestamp. */
    if (cms->n_unsigned_attrs > 0 && !cms->has_timestamp)
        return fail(vc, SH_CMS_STAGE_SIGNATURE, SH_E_CMS_UNSIGNED_ATTR_NOT_TIMESTAMP, "CMS signer",
                    -1, cms->n_unsigned_attrs);
    return SH_E_OK;
}

/* ---- stage 1b: the secure timestamp (part of Security's signer status) ---- */

static sh_err stage_timestamp(verify_ctx *vc)
{
    const sh_cms *cms = vc->cms;
    sh_cms_report *r = vc->report;
    if (!cms->has_timestamp)
        return SH_E_OK;
    uint64_t at = cms->timestamp_token.base;
    sh_err e = sh_timestamp_parse_memo(&cms->timestamp_token, at, vc->opt->memo, &vc->ts, vc->err);
    if (e == SH_E_OK) {
        r->timestamp_time = vc->ts.gen_time;
        memcpy(r->tsa_name, vc->ts.tsa_name, sizeof r->tsa_name);
        e = sh_timestamp_check_imprint(&vc->ts, &cms->signature_value, at, vc->err);
    }
    if (e == SH_E_OK)
        e = sh_timestamp_verify(&vc->ts, cms->certs, &vc->opt->trust, vc->opt->memo, at,
                                &r->tsa_chain, vc->err);
    r->timestamp_valid = e == SH_E_OK;
    return failed_in(vc, SH_CMS_STAGE_TIMESTAMP, e);
}

/* ---- stages 2 and 3: the cdhash attributes ---- */

/* Security's cdHashes() iterates a map keyed by hash type. */
static void cds_in_hash_type_order(const sh_cms_code *code, uint32_t order[])
{
    for (uint32_t i = 0; i < code->ncds; i++) {
        uint32_t k = i;
        for (; k > 0 && code->cds[order[k - 1]].hash_type > code->cds[i].hash_type; k--)
            order[k] = order[k - 1];
        order[k] = i;
    }
}

static sh_err stage_cdhashes(verify_ctx *vc)
{
    const sh_cms *cms = vc->cms;
    const sh_cms_code *code = vc->code;
    if (!cms->has_cdhashes)
        return SH_E_OK;
    vc->report->cdhashes_checked = true;
    if (cms->ncdhashes != code->ncds)
        return fail(vc, SH_CMS_STAGE_CDHASHES, SH_E_CMS_CDHASHES_MISMATCH, "CMS CDHashes", -1,
                    cms->ncdhashes);
    uint32_t order[1 + SH_MAX_ALTERNATE_CDS];
    cds_in_hash_type_order(code, order);
    for (uint32_t k = 0; k < code->ncds; k++) {
        const sh_codedir *cd = &code->cds[order[k]];
        if (cms->cdhash_lens[k] != SH_CDHASH_LEN ||
            memcmp(cms->cdhashes[k], cd->cdhash, SH_CDHASH_LEN) != 0)
            return fail(vc, SH_CMS_STAGE_CDHASHES, SH_E_CMS_CDHASHES_MISMATCH, "CMS CDHashes", k,
                        cd->hash_type);
    }
    return SH_E_OK;
}

/* The digest OID Security files a CodeDirectory's cdhash under (SECOidTagForAlgorithm):
 * SHA-256-truncated CodeDirectories use SHA-256 too. */
static int digest_nid_of_hash_type(unsigned type)
{
    switch (type) {
    case SH_HASH_SHA1: return NID_sha1;
    case SH_HASH_SHA256:
    case SH_HASH_SHA256_TRUNCATED: return NID_sha256;
    case SH_HASH_SHA384: return NID_sha384;
    default: return NID_undef;
    }
}

static const sh_cms_cdhash2 *cdhash2_for(const sh_cms *cms, int nid)
{
    for (uint32_t k = 0; k < cms->ncdhashes2; k++)
        if (cms->cdhashes2[k].digest_nid == nid)
            return &cms->cdhashes2[k];
    return NULL;
}

static sh_err stage_cdhashes2(verify_ctx *vc)
{
    const sh_cms *cms = vc->cms;
    const sh_cms_code *code = vc->code;
    if (!cms->has_cdhashes2)
        return SH_E_OK;
    vc->report->cdhashes2_checked = true;
    if (cms->ncdhashes2 != code->ncds)
        return fail(vc, SH_CMS_STAGE_CDHASHES2, SH_E_CMS_CDHASHES2_COUNT, "CMS CDHashes2", -1,
                    cms->ncdhashes2);
    for (uint32_t i = 0; i < code->ncds; i++) {
        const sh_codedir *cd = &code->cds[i];
        int nid = digest_nid_of_hash_type(cd->hash_type);
        if (nid == NID_undef)
            continue; /* an algorithm Security has no OID for: not checked */
        const sh_cms_cdhash2 *entry = cdhash2_for(cms, nid);
        if (entry == NULL)
            return fail(vc, SH_CMS_STAGE_CDHASHES2, SH_E_CMS_CDHASHES2_MISSING, "CMS CDHashes2", i,
                        cd->hash_type);
        if (entry->hash_len != cd->cdhash_size ||
            memcmp(entry->hash, cd->cdhash, cd->cdhash_size) != 0)
            return fail(vc, SH_CMS_STAGE_CDHASHES2, SH_E_CMS_CDHASHES2_MISMATCH, "CMS CDHashes2",
                        i, cd->hash_type);
    }
    return SH_E_OK;
}

/* ---- stage 4: chain, team, expiry ---- */

static void choose_verify_time(verify_ctx *vc)
{
    sh_cms_report *r = vc->report;
    if (r->timestamp_valid) {
        r->verify_time = r->timestamp_time;
        r->verify_time_source = SH_CMS_TIME_TIMESTAMP;
    } else if (vc->cms->has_signing_time) {
        r->verify_time = vc->cms->signing_time;
        r->verify_time_source = SH_CMS_TIME_SIGNING_TIME;
    } else {
        r->verify_time = vc->opt->now;
        r->verify_time_source = SH_CMS_TIME_NOW;
    }
}

/* Security's rule: expiry is fatal with a secure timestamp; without one, verify again tolerating
 * dates and remember that it was expired. */
static sh_err verify_leaf_chain(verify_ctx *vc)
{
    sh_cms_report *r = vc->report;
    uint64_t at = vc->cms->offset;
    sh_err e = sh_chain_verify(vc->leaf, vc->cms->certs, &vc->anchors, SH_CHAIN_CODE_SIGNING,
                               r->verify_time, true, at, &r->chain, vc->err);
    if (e != SH_E_CMS_CERT_EXPIRED || r->timestamp_valid)
        return e;
    e = sh_chain_verify(vc->leaf, vc->cms->certs, &vc->anchors, SH_CHAIN_CODE_SIGNING,
                        r->verify_time, false, at, &r->chain, vc->err);
    r->expired = e == SH_E_OK;
    return e;
}

static bool outside_validity(const sh_cert_facts *f, int64_t t)
{
    return f->validity_readable && (t < f->not_before || t > f->not_after);
}

static void note_expiry_at_now(verify_ctx *vc)
{
    const sh_chain *chain = &vc->report->chain;
    for (uint32_t i = 0; i < chain->length; i++)
        if (outside_validity(&chain->certs[i], vc->opt->now))
            vc->report->expired_at_now = true;
}

/* StaticCode.cpp: with a team ID in the CodeDirectory and an Apple developer chain, the leaf's
 * first subject OU must equal it.  Runs before the trust result is acted on, as there. */
static sh_err check_team(verify_ctx *vc)
{
    sh_cms_report *r = vc->report;
    const sh_codedir *cd = chosen_cd(vc->code);
    const sh_cert_facts *issuer = r->chain.length > 1 ? &r->chain.certs[1] : NULL;
    r->apple_developer_chain = r->chain.anchor != SH_ANCHOR_NONE && r->chain.length > 0 &&
                               sh_cert_is_apple_developer(&r->chain.certs[0], issuer);
    if (cd->team_id == NULL || !r->apple_developer_chain || !r->leaf.has_ou)
        return SH_E_OK;
    sh_cursor team = sh_cursor_make((const uint8_t *)cd->team_id, cd->team_id_len);
    team.base = cd->blob.base;
    if (!sh_utf8_valid(&team, NULL))
        return fail(vc, SH_CMS_STAGE_TEAM, SH_E_CMS_TEAM_INVALID, "CodeDirectory", -1, 0);
    if (r->leaf.ou_unreadable)
        return fail(vc, SH_CMS_STAGE_TEAM, SH_E_CMS_TEAM_INVALID, "signing certificate", 0, 0);
    r->team_checked = true;
    if (r->leaf.ou_truncated || r->leaf.ou_len != cd->team_id_len ||
        memcmp(r->leaf.ou, cd->team_id, cd->team_id_len) != 0)
        return fail(vc, SH_CMS_STAGE_TEAM, SH_E_CMS_TEAM_MISMATCH, "signing certificate", 0, 0);
    return SH_E_OK;
}

static sh_err stage_chain(verify_ctx *vc)
{
    choose_verify_time(vc);
    sh_err e = sh_anchor_set_init(&vc->anchors, vc->cms->certs, &vc->opt->trust, vc->opt->memo,
                                  vc->cms->offset, vc->err);
    if (e != SH_E_OK)
        return failed_in(vc, SH_CMS_STAGE_CHAIN, e);
    e = verify_leaf_chain(vc);
    note_expiry_at_now(vc);
    /* The team check comes first: Security compares teams before it acts on the trust result
     * (check_team only writes err when it fails). */
    sh_err team = check_team(vc);
    if (team != SH_E_OK)
        return team;
    return failed_in(vc, SH_CMS_STAGE_CHAIN, e);
}

/* ---- stage 5: an Apple-anchored signature needs an Apple-anchored timestamp ---- */

static sh_err stage_timestamp_policy(verify_ctx *vc)
{
    const sh_cms_report *r = vc->report;
    if (!r->timestamp_valid || r->chain.anchor != SH_ANCHOR_APPLE_ROOT ||
        r->tsa_chain.anchor == SH_ANCHOR_APPLE_ROOT)
        return SH_E_OK;
    return fail(vc, SH_CMS_STAGE_TIMESTAMP_POLICY, SH_E_TS_NOT_APPLE, "timestamp token", -1, 0);
}

static sh_err stage_expiration(verify_ctx *vc)
{
    bool enforced = vc->opt->consider_expiration ||
                    (chosen_cd(vc->code)->flags & SH_CS_CHECK_EXPIRATION) != 0;
    if (!vc->report->expired || !enforced)
        return SH_E_OK;
    return fail(vc, SH_CMS_STAGE_EXPIRATION, SH_E_CMS_CERT_EXPIRED, "certificate chain", -1, 0);
}

/* ---- driver ---- */

static void describe_leaf(verify_ctx *vc)
{
    const sh_cms *cms = vc->cms;
    sh_cms_report *r = vc->report;
    r->has_signing_time = cms->has_signing_time;
    r->signing_time = cms->signing_time;
    r->has_timestamp = cms->has_timestamp;
    if (cms->signer_cert < 0 || cms->certs == NULL)
        return;
    vc->leaf = sk_X509_value(cms->certs, cms->signer_cert);
    r->has_leaf = true;
    sh_cert_describe(vc->leaf, &r->leaf);
    sh_cert_facts issuer;
    for (uint32_t i = 0; i < cms->ncerts; i++) {
        X509 *candidate = sk_X509_value(cms->certs, (int)i);
        if (candidate != vc->leaf && X509_check_issued(candidate, vc->leaf) == X509_V_OK) {
            sh_cert_describe(candidate, &issuer);
            r->leaf_kind = sh_cert_classify(&r->leaf, &issuer);
            return;
        }
    }
    r->leaf_kind = sh_cert_classify(&r->leaf, NULL);
}

static sh_err run_stages(verify_ctx *vc)
{
    sh_err e = stage_signature(vc);
    if (e == SH_E_OK)
        e = stage_timestamp(vc);
    vc->report->signature_verified = e == SH_E_OK;
    if (e == SH_E_OK)
        e = stage_cdhashes(vc);
    if (e == SH_E_OK)
        e = stage_cdhashes2(vc);
    if (e == SH_E_OK)
        e = stage_chain(vc);
    if (e == SH_E_OK)
        e = stage_timestamp_policy(vc);
    if (e == SH_E_OK)
        e = stage_expiration(vc);
    return e;
}

sh_err sh_cms_verify(const sh_cms *cms, const sh_cms_code *code, const sh_cms_options *options,
                     sh_cms_report *report, sh_error *err)
{
    memset(report, 0, sizeof *report);
    if (code->ncds == 0 || code->cds == NULL)
        return sh_fail(err, SH_E_SUPERBLOB_NO_CODEDIRECTORY, "CodeDirectory", -1, cms->offset);
    if (chosen_cd(code)->flags & SH_CS_ADHOC) {
        report->adhoc = true; /* Security: ad hoc code is validly signed by definition */
        return SH_E_OK;
    }
    verify_ctx vc = {.cms = cms, .code = code, .opt = options, .report = report, .err = err};
    if (cms->adhoc || cms->ci == NULL)
        return fail(&vc, SH_CMS_STAGE_PRESENCE, SH_E_CMS_MISSING, "CMS", -1, 0);
    describe_leaf(&vc);
    sh_err e = run_stages(&vc);
    sh_timestamp_free(&vc.ts);
    sh_anchor_set_free(&vc.anchors);
    ERR_clear_error();
    return e;
}

sh_cms_code sh_cms_code_of(const sh_signature *sig)
{
    sh_cms_code code = {.cds = sig->cds, .ncds = sig->ncds, .best = sig->best};
    return code;
}
