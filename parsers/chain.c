/* Certificate chains: OpenSSL's X509_verify_cert with an X509_STORE whose only trusted
 * certificates are the pinned Apple Root CA (recognised by fingerprint among the certificates the
 * signature carries) and the roots the caller names.  Nothing else is trusted: no system store,
 * no self-signed certificate because it is present. */
#include "cert.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/x509v3.h>

#include "verify_memo.h"

/* OpenSSL refuses unknown critical extensions; Apple marks its own markers critical (the
 * Developer ID leaf's 1.2.840.113635.100.6.1.13 is), and Apple's trust evaluation knows them.
 * Accept an unhandled-critical failure only when every critical extension OpenSSL does not
 * handle is one of Apple's. */
static bool only_apple_unhandled_critical(X509 *cert)
{
    int count = X509_get_ext_count(cert);
    if (count > (int)SH_MAX_CERT_EXTENSIONS)
        return false;
    for (int i = 0; i < count; i++) {
        X509_EXTENSION *ext = X509_get_ext(cert, i);
        if (X509_EXTENSION_get_critical(ext) && !X509_supported_extension(ext) &&
            !sh_oid_is_apple_cert_ext(X509_EXTENSION_get_object(ext)))
            return false;
    }
    return true;
}

static int accept_apple_critical_extensions(int ok, X509_STORE_CTX *ctx)
{
    if (!ok && X509_STORE_CTX_get_error(ctx) == X509_V_ERR_UNHANDLED_CRITICAL_EXTENSION &&
        only_apple_unhandled_critical(X509_STORE_CTX_get_current_cert(ctx))) {
        X509_STORE_CTX_set_error(ctx, X509_V_OK);
        return 1;
    }
    return ok;
}

/* ---- anchors ---- */

static bool add_anchor(sh_anchor_set *set, X509 *cert)
{
    if (!X509_STORE_add_cert(set->store, cert))
        return false;
    if (!X509_up_ref(cert))
        return false;
    if (!sk_X509_push(set->anchors, cert)) {
        X509_free(cert);
        return false;
    }
    return true;
}

static sh_err add_der_anchor(sh_anchor_set *set, const sh_cursor *der, size_t index,
                             uint64_t err_offset, sh_error *err)
{
    const unsigned char *p = der->p;
    X509 *cert = der->len <= (size_t)INT32_MAX ? d2i_X509(NULL, &p, (long)der->len) : NULL;
    if (cert == NULL)
        return sh_fail(err, SH_E_CMS_ANCHOR_INVALID, "trust anchor", (int64_t)index, err_offset);
    bool ok = add_anchor(set, cert);
    X509_free(cert);
    return ok ? SH_E_OK : sh_fail(err, SH_E_NO_MEMORY, "trust anchor", (int64_t)index, err_offset);
}

static sh_err add_caller_anchors(sh_anchor_set *set, const sh_trust *trust, uint64_t err_offset,
                                 sh_error *err)
{
    for (size_t i = 0; i < trust->n_anchor_der; i++) {
        sh_err e = add_der_anchor(set, &trust->anchor_der[i], i, err_offset, err);
        if (e != SH_E_OK)
            return e;
    }
    for (size_t i = 0; i < trust->n_anchor_x509; i++)
        if (!add_anchor(set, trust->anchor_x509[i]))
            return sh_fail(err, SH_E_NO_MEMORY, "trust anchor", (int64_t)i, err_offset);
    return SH_E_OK;
}

static bool is_anchor(const sh_anchor_set *set, X509 *cert)
{
    int n = sk_X509_num(set->anchors);
    for (int i = 0; i < n; i++)
        if (X509_cmp(sk_X509_value(set->anchors, i), cert) == 0)
            return true;
    return false;
}

sh_err sh_anchor_set_init(sh_anchor_set *set, STACK_OF(X509) *pool, const sh_trust *trust,
                          sh_verify_memo *memo, uint64_t err_offset, sh_error *err)
{
    set->memo = memo;
    set->store = X509_STORE_new();
    set->anchors = sk_X509_new_null();
    if (set->store == NULL || set->anchors == NULL)
        return sh_fail(err, SH_E_NO_MEMORY, "trust anchors", -1, err_offset);
    X509_STORE_set_verify_cb(set->store, accept_apple_critical_extensions);
    X509_VERIFY_PARAM_set_depth(X509_STORE_get0_param(set->store), (int)SH_MAX_CMS_CHAIN_DEPTH);
    int n = sk_X509_num(pool);
    for (int i = 0; i < n; i++) {
        X509 *cert = sk_X509_value(pool, i);
        if (sh_cert_is_apple_root(cert) && !is_anchor(set, cert) && !add_anchor(set, cert))
            return sh_fail(err, SH_E_NO_MEMORY, "trust anchors", i, err_offset);
    }
    return trust ? add_caller_anchors(set, trust, err_offset, err) : SH_E_OK;
}

void sh_anchor_set_free(sh_anchor_set *set)
{
    X509_STORE_free(set->store);
    sk_X509_pop_free(set->anchors, X509_free);
    set->store = NULL;
    set->anchors = NULL;
}

void sh_anchor_set_time(sh_anchor_set *set, int64_t at)
{
    X509_VERIFY_PARAM_set_time(X509_STORE_get0_param(set->store), (time_t)at);
}

sh_anchor_kind sh_anchor_set_kind(const sh_anchor_set *set, X509 *cert)
{
    if (cert == NULL || !is_anchor(set, cert))
        return SH_ANCHOR_NONE;
    return sh_cert_is_apple_root(cert) ? SH_ANCHOR_APPLE_ROOT : SH_ANCHOR_CALLER;
}

/* ---- verification ---- */

static bool is_time_error(int e)
{
    return e == X509_V_ERR_CERT_NOT_YET_VALID || e == X509_V_ERR_CERT_HAS_EXPIRED ||
           e == X509_V_ERR_ERROR_IN_CERT_NOT_BEFORE_FIELD ||
           e == X509_V_ERR_ERROR_IN_CERT_NOT_AFTER_FIELD;
}

/* No path to an anchor, as opposed to a path with a bad certificate on it. */
static bool is_untrusted_error(int e)
{
    return e == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT ||
           e == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY ||
           e == X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN || e == X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT ||
           e == X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE || e == X509_V_ERR_CERT_UNTRUSTED ||
           e == X509_V_ERR_CERT_REJECTED;
}

static void describe_chain(X509_STORE_CTX *ctx, const sh_anchor_set *anchors, sh_chain *out)
{
    STACK_OF(X509) *chain = X509_STORE_CTX_get0_chain(ctx);
    int n = chain ? sk_X509_num(chain) : 0;
    uint32_t cap = (uint32_t)(sizeof out->certs / sizeof out->certs[0]);
    for (int i = 0; i < n && (uint32_t)i < cap; i++)
        sh_cert_describe(sk_X509_value(chain, i), &out->certs[i]);
    out->length = n < 0 ? 0 : ((uint32_t)n < cap ? (uint32_t)n : cap);
    out->truncated = n > 0 && (uint32_t)n > cap;
    out->anchor = n > 0 ? sh_anchor_set_kind(anchors, sk_X509_value(chain, n - 1)) : SH_ANCHOR_NONE;
}

static sh_err chain_failure(const sh_chain *out, uint64_t err_offset, sh_error *err)
{
    sh_err code = SH_E_CMS_CHAIN_INVALID;
    if (out->time_error)
        code = SH_E_CMS_CERT_EXPIRED;
    else if (is_untrusted_error(out->x509_error))
        code = SH_E_CMS_CHAIN_UNTRUSTED;
    return sh_fail_value(err, code, "certificate chain", out->error_depth, err_offset,
                         (uint64_t)(int64_t)out->x509_error);
}

static sh_err run_verify(X509_STORE_CTX *ctx, const sh_anchor_set *anchors, uint64_t err_offset,
                         sh_chain *out, sh_error *err)
{
    int ok = X509_verify_cert(ctx);
    describe_chain(ctx, anchors, out);
    out->x509_error = ok == 1 ? X509_V_OK : X509_STORE_CTX_get_error(ctx);
    out->error_depth = ok == 1 ? -1 : X509_STORE_CTX_get_error_depth(ctx);
    out->verified = ok == 1;
    out->time_error = ok != 1 && is_time_error(out->x509_error);
    if (ok == 1)
        return SH_E_OK;
    if (ok < 0 && out->x509_error == X509_V_OK)
        return sh_fail(err, SH_E_NO_MEMORY, "certificate chain", -1, err_offset);
    return chain_failure(out, err_offset, err);
}

static sh_err check_leaf_usage(const sh_chain *out, sh_chain_purpose purpose, uint64_t err_offset,
                               sh_error *err)
{
    const sh_cert_facts *leaf = &out->certs[0];
    if (purpose != SH_CHAIN_CODE_SIGNING || out->length == 0 || !leaf->has_eku ||
        leaf->eku_code_signing || leaf->eku_any)
        return SH_E_OK;
    return sh_fail(err, SH_E_CMS_LEAF_NOT_CODE_SIGNING, "certificate chain", 0, err_offset);
}

static sh_err build_and_verify(X509 *leaf, STACK_OF(X509) *pool, const sh_anchor_set *anchors,
                               sh_chain_purpose purpose, int64_t at, bool check_time,
                               uint64_t err_offset, sh_chain *out, sh_error *err)
{
    memset(out, 0, sizeof *out);
    out->error_depth = -1;
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    if (ctx == NULL || !X509_STORE_CTX_init(ctx, anchors->store, leaf, pool)) {
        X509_STORE_CTX_free(ctx);
        return sh_fail(err, SH_E_NO_MEMORY, "certificate chain", -1, err_offset);
    }
    /* OpenSSL honours a set time before NO_CHECK_TIME, so it is one or the other. */
    X509_VERIFY_PARAM *param = X509_STORE_CTX_get0_param(ctx);
    if (check_time)
        X509_VERIFY_PARAM_set_time(param, (time_t)at);
    else
        X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_NO_CHECK_TIME);
    if (purpose == SH_CHAIN_TIMESTAMPING)
        X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_TIMESTAMP_SIGN);
    sh_err e = run_verify(ctx, anchors, err_offset, out, err);
    X509_STORE_CTX_free(ctx);
    /* A chain that only failed on dates is still a chain: its leaf usage matters to the caller
     * deciding whether to tolerate the dates. */
    if (e == SH_E_OK || e == SH_E_CMS_CERT_EXPIRED) {
        sh_err usage = check_leaf_usage(out, purpose, err_offset, err);
        if (usage != SH_E_OK)
            return usage;
    }
    return e;
}

/* A verified chain as the memo keeps it; its error's offset is the caller's. */
typedef struct chain_outcome {
    sh_err result;
    sh_error err;
    sh_chain chain;
} chain_outcome;

static bool chain_key(X509 *leaf, STACK_OF(X509) *pool, const sh_anchor_set *anchors,
                      sh_chain_purpose purpose, int64_t at, bool check_time,
                      uint8_t key[SH_VERIFY_MEMO_KEY_LEN])
{
    sh_memo_key k;
    sh_memo_key_begin(&k, "chain/1");
    sh_memo_key_u64(&k, purpose);
    sh_memo_key_u64(&k, check_time);
    sh_memo_key_u64(&k, check_time ? (uint64_t)at : 0);
    sh_memo_key_x509(&k, leaf);
    sh_memo_key_x509s(&k, pool);
    sh_memo_key_x509s(&k, anchors->anchors);
    return sh_memo_key_end(&k, key);
}

sh_err sh_chain_verify(X509 *leaf, STACK_OF(X509) *pool, const sh_anchor_set *anchors,
                       sh_chain_purpose purpose, int64_t at, bool check_time, uint64_t err_offset,
                       sh_chain *out, sh_error *err)
{
    uint8_t key[SH_VERIFY_MEMO_KEY_LEN];
    bool keyed = anchors->memo && chain_key(leaf, pool, anchors, purpose, at, check_time, key);
    const chain_outcome *known = keyed ? sh_verify_memo_get(anchors->memo, key) : NULL;
    if (known) {
        *out = known->chain;
        if (known->result != SH_E_OK) {
            *err = known->err;
            err->offset = err_offset;
        }
        return known->result;
    }
    sh_error mine = {0};
    sh_err e = build_and_verify(leaf, pool, anchors, purpose, at, check_time, err_offset, out,
                                &mine);
    if (e != SH_E_OK)
        *err = mine;
    /* running out of memory is not a property of the certificates */
    chain_outcome *copy = keyed && e != SH_E_NO_MEMORY ? malloc(sizeof *copy) : NULL;
    if (copy) {
        *copy = (chain_outcome){e, mine, *out};
        if (!sh_verify_memo_put(anchors->memo, key, copy, free))
            free(copy);
    }
    return e;
}
