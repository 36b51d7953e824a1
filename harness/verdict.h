/* The verdict engine: given an app bundle (or a lone Mach-O) and a policy, say what macOS would
 * do with an OSSystemExtensionRequest.activationRequest for its system extension(s).
 *
 * Stages run in the order macOS runs them (DESIGN.md): request, discovery, static validation
 * (extension first, then the app), entitlements vs the embedded profile, notarisation (+ the
 * notary service's preflight), launch.  Every finding is recorded, not just the first; each comes
 * from one row of harness/rules.def (the ONE table mapping findings to OSSystemExtensionErrorCode
 * and errSecCS status, with source and confidence).  The verdict is decided by the first blocking
 * finding in stage order (a finding on the host app that makes amfid kill the app wins: the app
 * then never asks).
 *
 * Pure function of (bundle bytes, options): no clock reads (options->now is the time), no file
 * system access, no global state; findings come out in a deterministic order.  All memory the
 * verdict owns comes from options->alloc (NULL: the C library) and is freed by sh_verdict_free.
 * JSON schema: docs/verdict-json.md ("sigharness.verdict/1"). */
#ifndef SH_VERDICT_H
#define SH_VERDICT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "alloc.h"
#include "bundle.h"
#include "cert.h"
#include "errors.h"
#include "notary_list.h"
#include "verify_memo.h"

#define SH_VERDICT_JSON_SCHEMA "sigharness.verdict/1"

typedef enum sh_stage {
    SH_STAGE_REQUEST = 1,
    SH_STAGE_DISCOVERY,
    SH_STAGE_STATIC,
    SH_STAGE_ENTITLEMENTS,
    SH_STAGE_NOTARIZATION,
    SH_STAGE_LAUNCH,
} sh_stage;

const char *sh_stage_name(sh_stage s); /* "request", "discovery", "static", ... */

#define SH_ERRSEC_FROM_ERROR 1 /* rules.def ERRSEC = FROM_ERROR (no errSecCS status is positive) */

typedef enum sh_rule_id {
#define X(id, stage, sysext, errsec, kills, conf, src, cause, fix, log) SH_RULE_##id,
#include "rules.def"
#undef X
    SH_RULE_COUNT
} sh_rule_id;

typedef struct sh_rule {
    const char *name; /* "APP_NOT_IN_APPLICATIONS" */
    sh_stage stage;
    int sysext;       /* 0: advisory */
    int errsec;       /* errSecCS status, 0 none, SH_ERRSEC_FROM_ERROR */
    bool kills_app;
    char confidence;  /* 'H', 'M', 'L' */
    const char *source, *cause, *fix, *log;
} sh_rule;

const sh_rule *sh_rule_get(sh_rule_id id); /* NULL for an id out of range */
const sh_rule *sh_rule_find(const char *name, sh_rule_id *id);

/* OSSystemExtensionErrorCode names ("OSSystemExtensionErrorCodeSignatureInvalid"), NULL unknown. */
const char *sh_sysext_error_name(int code);
/* What it means, in one sentence (for explain), NULL unknown. */
const char *sh_sysext_error_meaning(int code);

typedef enum sh_policy {
    SH_POLICY_DISTRIBUTION = 0, /* SIP on, Developer ID, notarisation required */
    SH_POLICY_DEVELOPMENT,      /* developer mode / SIP off, Apple Development accepted */
} sh_policy;

const char *sh_policy_name(sh_policy p);

typedef struct sh_verdict_options {
    sh_policy policy;
    const char *location;  /* directory the .app is installed in; NULL: "/Applications" */
    int64_t now;           /* seconds since 1970: profile expiry, chain time of last resort */
    sh_trust trust;        /* roots trusted besides the pinned Apple Root CA (test PKI) */
    bool trusted_root_is_apple; /* a caller root stands in for Apple Root CA in requirements
                                   ("anchor apple generic"); set with a test root */
    const sh_notary_list *notarized; /* notarised cdhashes besides stapled tickets; NULL none */
    const char *udid;      /* this Mac's provisioning UDID for development profiles; NULL skip */
    const sh_allocator *alloc;
    sh_verify_memo *memo;  /* CMS and profile verifications already made, for callers judging
                              many bundles that share signatures (NULL: none kept) */
} sh_verdict_options;

void sh_verdict_options_init(sh_verdict_options *o);

typedef struct sh_finding {
    sh_rule_id rule;
    sh_stage stage;
    char *subject;    /* bundle-relative path of the code or file concerned ("" the app) */
    char *detail;     /* the specifics: paths, values, parser message */
    int sysext;       /* effective: 0 when advisory here (e.g. preflight under development) */
    int errsec;       /* effective errSecCS status (0 none) */
    bool blocking;
    bool kills_app;   /* effective: on the host app, amfid kills it at launch */
    sh_err err;       /* parser error behind it, SH_E_OK none */
} sh_finding;

/* What the report says about one piece of code (app, extension, lone executable). */
typedef struct sh_code_summary {
    char *path;        /* bundle-relative root ("" the app) or the file label */
    char *role;        /* "app", "extension", "executable" */
    char *identifier;  /* CodeDirectory identifier */
    char *bundle_id;   /* CFBundleIdentifier (NULL lone executable) */
    char *category;    /* sysext category name (extensions) */
    char *team;        /* CodeDirectory team ID */
    char *signer;      /* leaf CN ("" ad hoc) */
    char *signer_kind; /* "Developer ID Application", "Apple Development", "ad hoc", ... */
    char *timestamp;   /* "Timestamp=..." / "Signed Time=..." / "" */
    char *flags;       /* "runtime" ... */
    char *cdhash;      /* 40 hex digits */
    char *architectures; /* "arm64 x86_64" */
    bool signature_valid;
    bool notarized;
} sh_code_summary;

typedef enum sh_outcome {
    SH_OUTCOME_OK = 0,
    SH_OUTCOME_ERROR,      /* activation fails with sysext_code */
    SH_OUTCOME_APP_KILLED, /* the host app is killed at launch: no request is ever made */
} sh_outcome;

typedef struct sh_verdict {
    bool lone_executable;
    sh_policy policy;
    sh_outcome outcome;
    int sysext_code;     /* 0 when OK */
    int errsec;          /* errSecCS status behind it, 0 none */
    size_t deciding;     /* index in findings of the deciding finding (when not OK) */
    sh_finding *findings;
    size_t nfindings, cap_findings;
    size_t dropped;      /* findings past SH_MAX_VERDICT_FINDINGS, counted only */
    char **log;          /* predicted sysextd / amfid / kernel lines, in order */
    size_t nlog, cap_log;
    char **notary;       /* notary-service messages the preflight predicts, in order, unique */
    size_t nnotary, cap_notary;
    char *launch;        /* what happens to the extension process */
    sh_code_summary *codes;
    size_t ncodes, cap_codes;
    sh_err failure;      /* SH_E_NO_MEMORY when the verdict is incomplete */
    const sh_allocator *alloc;
} sh_verdict;

/* Runs every stage on an app bundle (b's root is the X.app directory).  *out is always
 * initialised; free it with sh_verdict_free.  Returns SH_E_OK, or NO_MEMORY (out->failure). */
sh_err sh_verdict_run(const sh_bundle *b, const sh_verdict_options *o, sh_verdict *out);
/* Static validation of a lone executable (+ notary preflight, launch). */
sh_err sh_verdict_run_executable(const char *label, const uint8_t *data, size_t len,
                                 const sh_verdict_options *o, sh_verdict *out);
void sh_verdict_free(sh_verdict *v);

/* Count of findings of a rule (tests and the mutation catalogue assert on these). */
size_t sh_verdict_count(const sh_verdict *v, sh_rule_id rule);

/* Exit codes of `sigharness verify`. */
enum {
    SH_VERIFY_EXIT_OK = 0,       /* activation verdict OK for every input */
    SH_VERIFY_EXIT_REFUSED = 1,  /* an activation would fail (or the app would be killed) */
    SH_VERIFY_EXIT_USAGE = 2,
    SH_VERIFY_EXIT_UNREADABLE = 4, /* an input could not be read or unpacked */
};

void sh_verdict_print_text(const sh_verdict *v, const char *label, FILE *out);
void sh_verdict_print_json(const sh_verdict *v, const char *label, FILE *out);

#endif
