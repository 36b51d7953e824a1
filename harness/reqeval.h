/* Evaluates a code requirement (binary, 0xfade0c00, expression form) against one piece of code,
 * offline: the designated requirement a signature carries, the requirement CodeResources
 * records for nested code, and the policy requirements the verdict engine applies (Developer ID
 * + notarised under the distribution policy).
 *
 * Decided here: true, false, identifier, cdhash, and, or, not, anchor apple generic, anchor apple,
 * certificate N[subject.CN / subject.OU] with every string match, certificate N[field.OID]
 * exists/absent for Apple's marker OIDs 1.2.840.113635.100.6.1.n and .6.2.n, entitlement
 * [key] exists/absent/= string, platform, notarized, and the generic-skip/false opcode flags.
 * Everything else (info keys, anchor hashes, trusted certs, named anchors/code, certificate
 * policies and dates, legacy Developer ID, other OIDs) cannot be decided from what the signature
 * carries: it evaluates as false and result->unsupported_op names it, so a verdict can say
 * "not decidable offline" instead of inventing an answer.
 *
 * "anchor apple generic" holds when the signature's chain verified to the pinned Apple Root CA,
 * or to a root the caller trusts in its place (subject->caller_root_is_apple: the test PKI).
 * Certificate indices: 0 leaf, 1.. up the chain, -1 the anchor.  The blob is validated first
 * with sh_req_check (every limit, depth <= SH_MAX_REQUIREMENT_DEPTH); evaluation recurses with
 * the same bound and reads only through the cursor. */
#ifndef SH_REQEVAL_H
#define SH_REQEVAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cert.h"
#include "cursor.h"
#include "entitlements.h"
#include "errors.h"

typedef struct sh_req_subject {
    const char *identifier;    /* CodeDirectory identifier (NULL: none) */
    const uint8_t *cdhash;     /* full cdhash of the chosen CodeDirectory */
    size_t cdhash_len;
    const sh_chain *chain;     /* leaf first; NULL for ad hoc or unsigned code */
    bool caller_root_is_apple; /* a chain anchored at a caller root counts as Apple's */
    bool notarized;
    const sh_ent_node *entitlements; /* signed entitlements dict, NULL: none */
    uint8_t platform;          /* CodeDirectory platform byte */
} sh_req_subject;

typedef struct sh_req_result {
    bool satisfied;
    uint32_t unsupported_op; /* first opcode evaluated as false for lack of information, or 0 */
    bool has_unsupported;
} sh_req_result;

/* SH_E_OK with *result filled, or the requirement's structural error (REQ_*). */
sh_err sh_req_evaluate(const sh_cursor *requirement, const sh_req_subject *subject,
                       sh_req_result *result, sh_error *err);

/* Compiles text (Security's requirement language) and evaluates it. */
sh_err sh_req_evaluate_text(const char *text, const sh_req_subject *subject,
                            sh_req_result *result, sh_error *err);

#endif
