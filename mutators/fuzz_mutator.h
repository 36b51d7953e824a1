/* Structure-aware fuzz mutation for the code-signing formats, shared by the libFuzzer custom
 * mutator (fuzz/custom_mutator_libfuzzer.c) and the AFL++ custom mutator library
 * (fuzz/afl_custom_mutator.c).
 *
 * A call decodes the input far enough to know where its fields are (thin and fat Mach-O: header,
 * fat_arch, load commands, segments, sections, LC_CODE_SIGNATURE; the embedded SuperBlob: count,
 * BlobIndex types and offsets, blob magics and lengths; CodeDirectories: version, flags, offsets,
 * nSpecialSlots, nCodeSlots, codeLimit, hashSize, hashType, pageSize, execSeg, slot hashes,
 * identifier and team), then does one of:
 *   - field: rewrites one to three fields with values chosen for what the field means (counts
 *     around their limits, offsets pointing at other structures or the end, known versions,
 *     flag bits, hash types, page sizes, slot hashes damaged or copied from another slot);
 *   - blobs: rebuilds the SuperBlob with a blob dropped, duplicated, re-typed, reordered or
 *     taken from the crossover partner, with every offset and length consistent again (also
 *     inside a Mach-O when the signature ends the slice or the new one fits);
 *   - resign (Mach-O): changes a meaningful unsigned field (platform versions, header flags,
 *     code bytes) then re-signs with sh_sign_macho (ad hoc or a test identity, runtime, dual hash,
 *     timestamp, entitlements from a small set), so the result passes the hash checks and the
 *     fuzzer reaches CMS, requirement and entitlement validation;
 *   - bundle: packed bundles (SH_BUNDLE_PACK_MAGIC): see fuzz_mutator_bundle.c;
 *   - bytes: a configurable share of calls is left to plain byte mutation (the caller runs
 *     LLVMFuzzerMutate, or sh_fm_mutate_bytes for AFL++).
 *
 * Deterministic: the result depends only on (input, seed, config).  No global state.  The input
 * is untrusted: it is read through cursors and every write is bounds-checked. */
#ifndef SH_FUZZ_MUTATOR_H
#define SH_FUZZ_MUTATOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alloc.h"
#include "fuzz_rng.h"
#include "pki.h"

typedef enum sh_fm_kind {
    SH_FM_RAW = 0,   /* nothing recognised */
    SH_FM_MACHO,     /* thin or fat Mach-O */
    SH_FM_SUPERBLOB, /* an embedded or detached signature SuperBlob */
    SH_FM_BLOB,      /* one blob: CodeDirectory, requirements, entitlements, ... */
    SH_FM_BUNDLE,    /* packed bundle (docs/packed-bundle.md) */
} sh_fm_kind;

typedef enum sh_fm_action {
    SH_FM_BYTES = 0, /* left to byte mutation: the caller mutates data itself */
    SH_FM_FIELD,
    SH_FM_BLOBS,
    SH_FM_RESIGN,
    SH_FM_BUNDLE_TREE,
} sh_fm_action;

/* Identities the resign action may use, loaded once by the engine glue (loading PEM files per
 * mutation would dominate the run time).  Any pointer may be NULL: ad hoc is always available. */
typedef struct sh_fm_signers {
    const sh_pki_identity *developer_id; /* devid-team1 */
    const sh_pki_identity *development;  /* dev-team1 */
    const sh_pki_tsa *tsa;
    /* Every test identity (pki_keyring.h): the bundle actions re-sign with any of them and the
     * catalogue finds its identities here instead of reading PEM files per mutation.  NULL: the
     * bundle actions load what they need from corpus/pki each time (slow, still correct). */
    const struct sh_pki_keyring *keys;
} sh_fm_signers;

/* For the engine glue: loads the test PKI into *keys and points every field of *out into it.  On
 * failure (why says what) *out is all NULL, re-signing ad hoc only, and *keys needs no freeing. */
bool sh_fm_signers_load(struct sh_pki_keyring *keys, sh_fm_signers *out, char *why,
                        size_t why_size);

typedef struct sh_fm_config {
    unsigned byte_percent;   /* share of calls answered with SH_FM_BYTES (default 20) */
    unsigned resign_percent; /* share of Mach-O mutations that re-sign (default 25) */
    unsigned blob_percent;   /* share of signature mutations that rebuild the SuperBlob (25) */
    unsigned bundle_cross_percent; /* share of bundle crossovers done; the rest return 0 (30) */
    unsigned bundle_resign_percent; /* share of bundle edits that re-sign (35) */
    const sh_fm_signers *signers; /* NULL: resign ad hoc only */
    const sh_allocator *alloc;    /* NULL: the C library */
    /* Set when the Mach-O is a bundle's main executable: the Info.plist and CodeResources bytes
     * its re-signing seals in special slots 1 and 3, as a bundle's signature does (NULL: none). */
    const uint8_t *info_plist, *resources;
    size_t info_plist_len, resources_len;
} sh_fm_config;

void sh_fm_config_init(sh_fm_config *c);

typedef struct sh_fm_result {
    sh_fm_kind kind;
    sh_fm_action action;
    const char *what; /* static text naming the last field or operation ("cd.hashType") */
    bool damaged;     /* SH_FM_RESIGN: a field of the fresh signature was then damaged */
} sh_fm_result;

sh_fm_kind sh_fm_detect(const uint8_t *data, size_t size);

/* Mutates data[0, size) in place; data has room for max_size bytes.  Returns the new size
 * (<= max_size).  When r->action is SH_FM_BYTES nothing was changed and the caller should apply
 * its byte mutator. */
size_t sh_fm_mutate(const sh_fm_config *c, uint8_t *data, size_t size, size_t max_size,
                    uint64_t seed, sh_fm_result *r);

/* Structure-aware crossover: for packed bundles, b's extension, profile or a file moved into a
 * (fuzz_mutator_cross.c); else a blob of b's signature moved into a's (SuperBlob rebuilt,
 * offsets consistent), else a's fields overwritten with values of b's fields of the same kind,
 * else a byte splice.  Writes at most max_out bytes to out; returns the size written (0: nothing). */
size_t sh_fm_crossover(const sh_fm_config *c, const uint8_t *a, size_t a_len, const uint8_t *b,
                       size_t b_len, uint8_t *out, size_t max_out, uint64_t seed,
                       sh_fm_result *r);

/* Plain byte mutation (bit flip, interesting value, random byte, block delete / duplicate) for
 * engines whose own byte mutator cannot be called from the custom mutator (AFL++). */
size_t sh_fm_mutate_bytes(uint8_t *data, size_t size, size_t max_size, sh_fm_rng *rng);

/* The entitlements plists the resign action and fuzz_sign_verify choose from: index modulo the
 * set size; index 0 is "no entitlements" (NULL, 0). */
#define SH_FM_ENTITLEMENT_SETS 5u
const char *sh_fm_entitlements(unsigned index, size_t *len);

#endif
