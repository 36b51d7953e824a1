/* The semantic mutation catalogue: named, deliberate breakages of a valid app + system-extension
 * bundle, each declaring the exact verdict it must cause (codesign-formats.md sections 8c, 9).
 *
 * A mutator edits an in-memory bundle (parsers/bundle.h) at the level its real situation needs:
 * files, plists, signature structures, identities (re-signing inside out with the test PKI), or
 * whole scenarios.  It can also change the circumstances the bundle is judged under
 * (sh_mut_effects): where the app is installed, and what the notary service knows.  A re-signed
 * bundle has new cdhashes, which no notary list holds unless the mutator says the developer
 * resubmitted it (and the notary preflight then decides).
 *
 * Expectations are declared from the reference, never copied from the verdict engine's output:
 * regress compares the two and a mismatch is a bug in one of them. */
#ifndef SH_MUTATION_H
#define SH_MUTATION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bundle.h"

/* Stages in the order macOS runs them (DESIGN.md).  A composed mutation's expectation is the one
 * of its component with the earliest stage (ties: the first one named). */
typedef enum sh_mut_stage {
    SH_MUT_NEUTRAL = 0, /* must not change the verdict */
    SH_MUT_REQUEST = 1,
    SH_MUT_DISCOVERY = 2,
    SH_MUT_STATIC = 3,
    SH_MUT_PROFILE = 4,
    SH_MUT_NOTARIZATION = 5,
    SH_MUT_LAUNCH = 6,
} sh_mut_stage;
const char *sh_mut_stage_name(sh_mut_stage s); /* "request", ..., "neutral" */

/* What macOS does with the mutated bundle.  sysext 0 with errsec 0 means "as the base" for a
 * neutral mutator and "activation succeeds" otherwise. */
typedef struct sh_expectation {
    int sysext;         /* activation OSSystemExtensionErrorCode; 0: activation succeeds */
    int errsec;         /* the errSecCS (or other OSStatus) behind it; 0: none */
    int static_errsec;  /* what `codesign --verify --deep --strict` says of the app: 0 valid */
    const char *notary; /* the notary preflight rejection message, verbatim; NULL: accepted */
    const char *launch; /* a prefix of the verdict engine's launch sentence */
    bool app_killed;    /* amfid kills the host app at launch: no request is ever made */
} sh_expectation;

/* Which base bundles a mutator fits: category bits, variant bits; 0 in a group means all. */
enum {
    SH_FIT_NETWORK = 1u << 0,
    SH_FIT_ENDPOINT_SECURITY = 1u << 1,
    SH_FIT_CAMERA = 1u << 2,
    SH_FIT_DRIVER = 1u << 3,
    SH_FIT_CATEGORIES = 0xffu,
    SH_FIT_DEVELOPER_ID = 1u << 8,
    SH_FIT_DEVELOPMENT = 1u << 9,
    SH_FIT_VARIANTS = 0xff00u,
};

typedef enum sh_notary_effect {
    SH_NOTARY_KEEP = 0, /* the list is unchanged: new cdhashes are simply not on it */
    SH_NOTARY_RESUBMIT, /* resubmitted: new cdhashes are notarised if the preflight accepts */
    SH_NOTARY_REVOKE,   /* the bundle's cdhashes are taken off the list */
} sh_notary_effect;

typedef struct sh_mut_effects {
    char location[256]; /* the app's install location; "" keeps the default */
    sh_notary_effect notary;
} sh_mut_effects;

/* The bundle being mutated and what a mutator needs to re-sign it. */
typedef struct sh_mut_ctx {
    sh_bundle *bundle;
    unsigned fits;         /* SH_FIT_* bits of this bundle (sh_mut_classify) */
    char extension[SH_MAX_BUNDLE_PATH + 1]; /* root of the first system extension ("" none) */
    const char *pki_dir;   /* NULL: corpus/pki */
    const struct sh_pki_keyring *keys; /* loaded identities (NULL: loaded from pki_dir each time) */
    struct sh_verify_memo *memo;       /* who signed which CMS, remembered (NULL: none) */
    int64_t signing_time;  /* for re-signing (deterministic output) */
    sh_mut_effects effects;
    char why[256];         /* why a mutator could not apply */
} sh_mut_ctx;

typedef bool (*sh_mut_fn)(sh_mut_ctx *ctx);

typedef struct sh_mutator {
    const char *name;        /* stable, kebab-case */
    const char *description; /* one line */
    const char *situation;   /* the real-world situation it models */
    sh_mut_stage stage;
    unsigned fits;
    /* POSIX extended regex over bundle paths: every entry added, removed or changed by the
     * mutator must match it (and at least one must change); the unit test checks this. */
    const char *touches;
    sh_expectation distribution; /* under --policy distribution (Developer ID bases) */
    sh_expectation development;  /* under --policy development (Development bases) */
    sh_mut_fn apply;
} sh_mutator;

/* The whole catalogue, in a stable order. */
const sh_mutator *sh_mutators(size_t *count);
const sh_mutator *sh_mutator_find(const char *name);
bool sh_mutator_fits(const sh_mutator *m, unsigned fits);

/* Finds the extension and the base's category and variant (from the extension's Info.plist and
 * the app's signing certificate kind). */
bool sh_mut_ctx_init(sh_mut_ctx *ctx, sh_bundle *b, int64_t signing_time, const char *pki_dir);
/* A context for copy, a copy of the bundle `of` describes (what sh_mut_ctx_init learned is kept). */
void sh_mut_ctx_for_copy(sh_mut_ctx *ctx, const sh_mut_ctx *of, sh_bundle *copy);

#define SH_MAX_MUT_COMPOSE 8u /* mutators in one "a+b+..." */

/* Applies "a" or "a+b+..." in order.  *expected receives the composed expectation for policy
 * ("distribution" or "development"): the earliest-stage component's.  On failure returns false
 * with ctx->why set, and the bundle may be half mutated (callers work on a copy). */
bool sh_mutate(sh_mut_ctx *ctx, const char *names, bool development, sh_expectation *expected);

#endif
