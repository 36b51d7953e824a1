/* AFL++ glue for the structure-aware mutator (mutators/fuzz_mutator.h), built as the shared
 * library libsh_afl_mutator.so for AFL_CUSTOM_MUTATOR_LIBRARY:
 *
 *   AFL_CUSTOM_MUTATOR_LIBRARY=build/afl/fuzz/libsh_afl_mutator.so afl-fuzz ... fuzz_macho_afl
 *
 * AFL++ hands afl_custom_init a seed and keeps the state pointer we return, so everything lives
 * in that state: the RNG, the loaded test identities, and the output buffer (AFL++ must not
 * free it; it stays ours until the next call).  AFL++'s own havoc stage still runs after the
 * custom stage (unless AFL_CUSTOM_MUTATOR_ONLY is set); in addition the configured byte share of
 * custom calls uses sh_fm_mutate_bytes.  afl_custom_fuzz_count sets how many custom mutations
 * a queue entry gets (SH_FM_AFL_COUNT, default 64), which balances custom against havoc. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_mutator.h"
#include "pki_keyring.h"

typedef struct afl_mutator {
    sh_fm_rng rng;
    sh_pki_keyring keys; /* every test identity (signers points into it) */
    sh_fm_signers signers;
    sh_fm_config config;
    unsigned fuzz_count;
    uint8_t *out;
    size_t out_cap;
    char describe[64];
} afl_mutator;

/* The exported API (afl-fuzz resolves these names with dlsym). */
void *afl_custom_init(void *afl, unsigned int seed);
unsigned int afl_custom_fuzz_count(void *data, const unsigned char *buf, size_t buf_size);
size_t afl_custom_fuzz(void *data, unsigned char *buf, size_t buf_size, unsigned char **out_buf,
                       unsigned char *add_buf, size_t add_buf_size, size_t max_size);
const char *afl_custom_describe(void *data, size_t max_description_len);
void afl_custom_deinit(void *data);

static unsigned env_unsigned(const char *name, unsigned fallback, unsigned max)
{
    const char *s = getenv(name);
    if (!s)
        return fallback;
    long v = strtol(s, NULL, 10);
    return v < 0 ? 0 : v > (long)max ? max : (unsigned)v;
}

void *afl_custom_init(void *afl, unsigned int seed)
{
    (void)afl;
    afl_mutator *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->rng.state = seed;
    sh_fm_config_init(&m->config);
    m->config.byte_percent = env_unsigned("SH_FM_BYTE_PERCENT", m->config.byte_percent, 100);
    /* Crossover is chosen here (10% of calls), not by the engine: a declined one would only hand
     * the input back unchanged. */
    m->config.bundle_cross_percent = 100;
    m->fuzz_count = env_unsigned("SH_FM_AFL_COUNT", 64, 1u << 20);
    char why[SH_PKI_WHY_MAX];
    if (!sh_fm_signers_load(&m->keys, &m->signers, why, sizeof why))
        fprintf(stderr, "sh_afl_mutator: %s (re-signing ad hoc only)\n", why);
    m->config.signers = &m->signers;
    strcpy(m->describe, "sh-init");
    return m;
}

unsigned int afl_custom_fuzz_count(void *data, const unsigned char *buf, size_t buf_size)
{
    (void)buf;
    (void)buf_size;
    return ((afl_mutator *)data)->fuzz_count;
}

static bool reserve(afl_mutator *m, size_t n)
{
    if (n <= m->out_cap)
        return true;
    uint8_t *p = realloc(m->out, n);
    if (!p)
        return false;
    m->out = p;
    m->out_cap = n;
    return true;
}

size_t afl_custom_fuzz(void *data, unsigned char *buf, size_t buf_size, unsigned char **out_buf,
                       unsigned char *add_buf, size_t add_buf_size, size_t max_size)
{
    afl_mutator *m = data;
    size_t size = buf_size < max_size ? buf_size : max_size;
    /* AFL++ requires a non-empty result: on any failure hand back the input unchanged. */
    *out_buf = buf;
    if (!reserve(m, max_size ? max_size : 1))
        return size ? size : buf_size;
    sh_fm_result r;
    size_t n;
    if (add_buf && add_buf_size && sh_fm_rng_percent(&m->rng, 10)) {
        n = sh_fm_crossover(&m->config, buf, buf_size, add_buf, add_buf_size, m->out, max_size,
                            sh_fm_rng_next(&m->rng), &r);
    } else {
        memcpy(m->out, buf, size);
        n = sh_fm_mutate(&m->config, m->out, size, max_size, sh_fm_rng_next(&m->rng), &r);
        if (r.action == SH_FM_BYTES)
            n = sh_fm_mutate_bytes(m->out, size, max_size, &m->rng);
    }
    snprintf(m->describe, sizeof m->describe, "sh-%s", r.what ? r.what : "bytes");
    if (n == 0)
        return size ? size : buf_size;
    *out_buf = m->out;
    return n;
}

const char *afl_custom_describe(void *data, size_t max_description_len)
{
    afl_mutator *m = data;
    if (max_description_len < sizeof m->describe)
        m->describe[max_description_len] = '\0';
    return m->describe;
}

void afl_custom_deinit(void *data)
{
    afl_mutator *m = data;
    sh_pki_keyring_free(&m->keys);
    free(m->out);
    free(m);
}
