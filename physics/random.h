/*
 * random.h - counter-based random numbers: Philox4x32-10 (Salmon et al., "Parallel random
 * numbers: as easy as 1, 2, 3", SC11), from the Random123 library.
 *
 * Every particle draws from its own stream, keyed by the run seed and counted by
 * (history index, particle index within the history, draw number). No state is shared, so a
 * history gives the same numbers whatever thread, batch or device runs it: results do not depend
 * on the thread count or on CPU vs GPU.
 *
 * An rng lives on the stack of the code transporting one particle. Host and device.
 */
#ifndef BRAGG_RANDOM_H
#define BRAGG_RANDOM_H

#include <math.h>
#include <stdint.h>

#include <Random123/philox.h>

#include "fastmath.h"
#include "hd.h"

typedef struct rng {
    philox4x32_key_t key;
    philox4x32_ctr_t ctr;
    philox4x32_ctr_t block;  /* the last four outputs */
    unsigned used;           /* how many of `block` are consumed */
    int has_spare;           /* Box-Muller makes two deviates; the second waits here */
    double spare;
} rng;

/* Stream for particle `particle` (0 = the primary) of history `history`. */
static inline BRAGG_HD void rng_init(rng *r, uint64_t seed, uint64_t history, uint32_t particle)
{
    r->key.v[0] = (uint32_t)seed;
    r->key.v[1] = (uint32_t)(seed >> 32);
    r->ctr.v[0] = (uint32_t)history;
    r->ctr.v[1] = (uint32_t)(history >> 32);
    r->ctr.v[2] = particle;
    r->ctr.v[3] = 0;
    r->used = 4;
    r->has_spare = 0;
    r->spare = 0.0;
}

static inline BRAGG_HD uint32_t rng_u32(rng *r)
{
    if (r->used == 4) {
        r->block = philox4x32(r->ctr, r->key);
        r->ctr.v[3]++;
        r->used = 0;
    }
    return r->block.v[r->used++];
}

/* Uniform in the open interval (0, 1): (k + 0.5) / 2^32, never 0 or 1, so log() is safe. */
static inline BRAGG_HD double rng_uniform(rng *r)
{
    return ((double)rng_u32(r) + 0.5) * (1.0 / 4294967296.0);
}

/* Two independent standard normal deviates (Box-Muller: exact, branch-free), with the fast
 * log and sincos of physics/fastmath.h (errors below 1e-9, far under sampling noise). */
static inline BRAGG_HD void rng_gauss2(rng *r, double *g1, double *g2)
{
    double radius = sqrt(-2.0 * fast_log(rng_uniform(r)));
    double s, c;
    fast_sincos_turn(((double)rng_u32(r)) * (1.0 / 4294967296.0), &s, &c);
    *g1 = radius * c;
    *g2 = radius * s;
}

/* One standard normal deviate; every other call uses the pair's second half. */
static inline BRAGG_HD double rng_gauss(rng *r)
{
    if (r->has_spare) {
        r->has_spare = 0;
        return r->spare;
    }
    double g1;
    rng_gauss2(r, &g1, &r->spare);
    r->has_spare = 1;
    return g1;
}

#endif
