/* Shared by the verdict engine's files (not for other callers). */
#ifndef SH_VERDICT_INTERNAL_H
#define SH_VERDICT_INTERNAL_H

#include "entitlements.h"
#include "infoplist.h"
#include "inspect.h"
#include "reqeval.h"
#include "verdict.h"

typedef struct vd_ctx {
    const sh_bundle *b; /* NULL for a lone executable */
    const sh_verdict_options *o;
    sh_verdict *v;
} vd_ctx;

/* Everything later stages need to know about one piece of code after static validation. */
typedef struct vd_code {
    char root[SH_MAX_BUNDLE_PATH + 1]; /* bundle-relative root: "" app, the extension's path */
    char exe[SH_MAX_BUNDLE_PATH + 1];  /* bundle-relative main executable path */
    bool is_app;
    bool has_info;
    sh_infoplist info;
    bool present;          /* the executable exists and is not empty */
    bool inspected;
    sh_inspection insp;
    bool signature_ok;     /* every slice signed and every static check passed */
    bool signed_any;       /* slice 0 has a parsed signature */
    const sh_slice_check *primary; /* slice 0's check (NULL when not signed) */
    uint8_t cdhash[SH_CDHASH_LEN];
    bool has_cdhash;
    char team[SH_CERT_NAME_MAX];
    bool adhoc, has_leaf, secure_timestamp, runtime;
    sh_cert_kind leaf_kind;
    const sh_ent_node *entitlements; /* signed entitlements dict, NULL none */
    bool notarized;
    sh_sysext_category category;
    bool dext;
} vd_code;

/* Findings.  detail is printf-formatted; advisory forces the finding non-blocking. */
void vd_add(vd_ctx *x, sh_rule_id rule, const char *subject, sh_err err, bool advisory,
            const char *fmt, ...) __attribute__((format(printf, 6, 7)));
void vd_log(vd_ctx *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void vd_notary(vd_ctx *x, const char *message);
char *vd_strdup(vd_ctx *x, const char *s);
/* The rule's LOG template with {id}, {path}, {detail} filled in, logged when not empty. */
void vd_log_rule(vd_ctx *x, sh_rule_id rule, const char *id, const char *path, const char *detail);

/* Static validation of one piece of code (verdict_code.c): fills c, adds findings. */
void vd_check_code(vd_ctx *x, vd_code *c, const uint8_t *exe, size_t exe_len);
void vd_code_free(vd_code *c);
void vd_summarise(vd_ctx *x, const vd_code *c, const char *role);

/* What a requirement is evaluated against for code c (signed: c->primary set). */
void vd_req_subject(const vd_ctx *x, const vd_code *c, sh_req_subject *s);

/* The resource seal of a bundle root (verdict_seal.c).  nested: extension codes the app
 * seals as nested code (may be empty). */
void vd_check_seal(vd_ctx *x, vd_code *c, const vd_code *nested, size_t nnested);

/* Stage 4 for one piece of code (verdict_profile.c). */
void vd_check_profile(vd_ctx *x, const vd_code *c);

/* Stage 5 preflight and notarisation for one piece of code (verdict_notary.c). */
void vd_check_notary(vd_ctx *x, const vd_code *c);
/* Every other Mach-O in the bundle must be signed (notary preflight). */
void vd_check_nested_binaries(vd_ctx *x, const vd_code *codes, size_t ncodes);

bool vd_is_restricted_entitlement(const char *key);
void vd_hex(const uint8_t *bytes, size_t len, char *out); /* out >= 2 * len + 1 */

#endif
