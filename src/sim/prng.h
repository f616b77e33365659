/* The simulator's PRNG: one seed, split into independent named streams (splitmix64 seeding, xoshiro256**). */
#ifndef TCN_SIM_PRNG_H
#define TCN_SIM_PRNG_H

#include <stdbool.h>
#include <stdint.h>

/*
 * Every random choice of a run comes from the one seed given on the command
 * line. Each part of the simulator draws from its own stream (network,
 * faults, workload, ...), derived from the seed and a stream number, so that
 * a change in how often one part draws does not shift the choices of the
 * others. No OS randomness, no wall clock, anywhere.
 */

typedef struct sim_rng {
    uint64_t s[4];
} sim_rng;

enum {
    SIM_STREAM_PARAMS = 1, /* per-run parameters: sizes, timeouts, fault rates */
    SIM_STREAM_NET,        /* delays, loss, duplication, tie-breaks */
    SIM_STREAM_FAULTS,     /* the fault schedule and the scenarios */
    SIM_STREAM_WORKLOAD,   /* clients */
    SIM_STREAM_MEMBERS,    /* membership manager */
    SIM_STREAM_ORDER,      /* order in which machines tick */
    SIM_STREAM_RAFT,       /* seeds handed to the cores' election-timeout PRNGs */
};

static inline uint64_t sim_splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Stream `stream` of `seed`: the state is four splitmix64 outputs of a
 * starting point that mixes both (never all zero in practice). */
static inline void sim_rng_init(sim_rng *r, uint64_t seed, uint64_t stream)
{
    uint64_t x = seed ^ (stream * 0xd1b54a32d192ed03ull);
    (void)sim_splitmix64(&x);
    for (int i = 0; i < 4; i++)
        r->s[i] = sim_splitmix64(&x);
    if ((r->s[0] | r->s[1] | r->s[2] | r->s[3]) == 0)
        r->s[0] = 1;
}

static inline uint64_t sim_rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static inline uint64_t sim_rng_next(sim_rng *r)
{
    uint64_t *s = r->s;
    uint64_t out = sim_rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = sim_rotl(s[3], 45);
    return out;
}

/* Uniform in [0, n), n > 0 (multiply-high; the bias is below 2^-40 for the
 * small n used here). */
static inline uint64_t sim_rng_below(sim_rng *r, uint64_t n)
{
    return (uint64_t)(((unsigned __int128)sim_rng_next(r) * n) >> 64);
}

/* Uniform in [lo, hi], lo <= hi. */
static inline uint64_t sim_rng_range(sim_rng *r, uint64_t lo, uint64_t hi)
{
    return lo + sim_rng_below(r, hi - lo + 1);
}

/* True with probability ppm / 1e6. */
static inline bool sim_rng_ppm(sim_rng *r, uint32_t ppm) { return ppm > 0 && sim_rng_below(r, 1000000) < ppm; }

#endif
