/* The fuzz mutators' random source: splitmix64 over a caller-held state, so a mutation is a pure
 * function of (input, seed) and reproduces exactly when a fuzzer replays a seed. */
#ifndef SH_FUZZ_RNG_H
#define SH_FUZZ_RNG_H

#include <stddef.h>
#include <stdint.h>

typedef struct sh_fm_rng {
    uint64_t state;
} sh_fm_rng;

static inline uint64_t sh_fm_rng_next(sh_fm_rng *r)
{
    uint64_t z = (r->state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Uniform-enough value in [0, n); 0 when n is 0. */
static inline uint64_t sh_fm_rng_below(sh_fm_rng *r, uint64_t n)
{
    return n ? sh_fm_rng_next(r) % n : 0;
}

/* True with probability percent / 100. */
static inline int sh_fm_rng_percent(sh_fm_rng *r, unsigned percent)
{
    return sh_fm_rng_below(r, 100) < percent;
}

#endif
