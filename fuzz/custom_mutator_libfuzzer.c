/* libFuzzer glue for the structure-aware mutator (mutators/fuzz_mutator.h): linked into the
 * <target>_structured builds of the targets that read Mach-O files and signatures.
 *
 * libFuzzer's hooks carry no context pointer, so the test identities the resign action uses are
 * loaded once, on first use, into the one static below: the only global state, forced by the
 * engine API (the mutation itself is a pure function of input and seed).  When corpus/pki cannot
 * be loaded the mutator re-signs ad hoc only.
 *
 * Environment (0-100 each): SH_FM_BYTE_PERCENT (default 20) sets the share of calls left to
 * LLVMFuzzerMutate; SH_FM_BUNDLE_RESIGN_PERCENT (35) the share of packed-bundle edits that
 * re-sign; SH_FM_BUNDLE_CROSS_PERCENT (30) the share of packed-bundle crossovers made (the
 * others return 0, so libFuzzer calls the custom mutator instead). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "fuzz_mutator.h"
#include "pki_keyring.h"

size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size);
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed);
size_t LLVMFuzzerCustomCrossOver(const uint8_t *data1, size_t size1, const uint8_t *data2,
                                 size_t size2, uint8_t *out, size_t max_out_size,
                                 unsigned int seed);

typedef struct mutator_context {
    int loaded; /* 0 not yet, 1 done */
    sh_pki_keyring keys; /* every test identity (signers points into it) */
    sh_fm_signers signers;
    sh_fm_config config;
} mutator_context;

static mutator_context context;

static void release_context(void)
{
    sh_pki_keyring_free(&context.keys);
}

static unsigned percent_from_env(const char *name, unsigned fallback)
{
    const char *share = getenv(name);
    if (!share)
        return fallback;
    long v = strtol(share, NULL, 10);
    return v < 0 ? 0 : v > 100 ? 100 : (unsigned)v;
}

static const sh_fm_config *config(void)
{
    if (context.loaded)
        return &context.config;
    context.loaded = 1;
    sh_fm_config_init(&context.config);
    sh_fm_config *c = &context.config;
    c->byte_percent = percent_from_env("SH_FM_BYTE_PERCENT", c->byte_percent);
    c->bundle_resign_percent = percent_from_env("SH_FM_BUNDLE_RESIGN_PERCENT",
                                                c->bundle_resign_percent);
    c->bundle_cross_percent = percent_from_env("SH_FM_BUNDLE_CROSS_PERCENT",
                                               c->bundle_cross_percent);
    char why[SH_PKI_WHY_MAX];
    if (!sh_fm_signers_load(&context.keys, &context.signers, why, sizeof why))
        fprintf(stderr, "custom mutator: %s (re-signing ad hoc only)\n", why);
    context.config.signers = &context.signers;
    atexit(release_context);
    return &context.config;
}

/* libFuzzer's seed is 32 bits; the size spreads it so equal seeds on different inputs differ. */
static uint64_t widen(unsigned int seed, size_t size)
{
    return ((uint64_t)seed << 32) ^ (uint64_t)size ^ 0x5368617273656564ull;
}

size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed)
{
    sh_fm_result r;
    size_t n = sh_fm_mutate(config(), data, size, max_size, widen(seed, size), &r);
    if (r.action == SH_FM_BYTES)
        return LLVMFuzzerMutate(data, size, max_size);
    return n;
}

size_t LLVMFuzzerCustomCrossOver(const uint8_t *data1, size_t size1, const uint8_t *data2,
                                 size_t size2, uint8_t *out, size_t max_out_size,
                                 unsigned int seed)
{
    sh_fm_result r;
    return sh_fm_crossover(config(), data1, size1, data2, size2, out, max_out_size,
                           widen(seed, size1 + size2), &r);
}
