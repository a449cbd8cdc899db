/*
 * particle_bank.h - particles in structure-of-arrays form: one array per field, one slot per
 * particle. The event loop (physics/event.h) keeps its live particles in banks, so that the
 * threads of a GPU warp (or the lanes of a vector unit) that handle neighbouring slots read and
 * write neighbouring addresses of each field; a history's waiting secondaries
 * (physics/transport.h) are a small bank too, so that a reaction writes its products the same
 * way in both loop shapes.
 *
 * PARTICLE_FIELDS lists every field once: the bank's arrays, the copy in and out of a particle
 * (bank_load / bank_store) and the memory layout (particle_bank_bytes / particle_bank_place)
 * all come from it. The stream's key is not stored: it is the run's seed.
 *
 * A bank does not own memory: particle_bank_place points it into a block of
 * particle_bank_bytes(capacity) bytes the caller allocated (host or device memory). bank_load
 * and bank_store are host and device code; a slot is read or written by one thread at a time.
 */
#ifndef BRAGG_PARTICLE_BANK_H
#define BRAGG_PARTICLE_BANK_H

#include <stddef.h>
#include <stdint.h>

#include "hd.h"
#include "random.h"

typedef struct particle {
    double x, y, z;       /* cm */
    double u, v, w;       /* direction cosines */
    double t;             /* kinetic energy per nucleon, MeV/u */
    double range;         /* residual CSDA range in the current slab's material, g/cm^2, in
                             units of its charge's reference isotope (actual = a * range) */
    int64_t energy_q;     /* A*t in energy quanta, as last scored */
    double path_x0;       /* path so far, radiation lengths (Highland's L) */
    double scatter_sum;   /* integral (z/pv)^2 dx/X0 so far, MeV^-2 */
    double theta2;        /* Highland theta0^2 for the path so far */
    double a;             /* A / A_ref */
    double mfp;           /* mean free paths left before the next nuclear reaction; once
                             used up, until the reaction, minus the energy per nucleon whose
                             rate the step took (<= 0: pending; transport_step) */
    int slab;
    int Z, A;
    rng r;                /* its own stream: (seed, history, id by ancestry), physics/random.h */
} particle;

/* F(type, bank array, the particle's field): every field a slot stores. slab < 16, Z <= 26,
 * A <= 64 and used <= 4 fit a byte (transport.h's limits). */
#define PARTICLE_FIELDS(F)                                                                    \
    F(double, x, x) F(double, y, y) F(double, z, z)                                           \
    F(double, u, u) F(double, v, v) F(double, w, w)                                           \
    F(double, t, t) F(double, range, range) F(int64_t, energy_q, energy_q)                    \
    F(double, path_x0, path_x0) F(double, scatter_sum, scatter_sum) F(double, theta2, theta2) \
    F(double, a, a) F(double, mfp, mfp)                                                       \
    F(uint32_t, ctr0, r.ctr.v[0]) F(uint32_t, ctr1, r.ctr.v[1])                               \
    F(uint32_t, ctr2, r.ctr.v[2]) F(uint32_t, ctr3, r.ctr.v[3])                               \
    F(uint32_t, block0, r.block.v[0]) F(uint32_t, block1, r.block.v[1])                       \
    F(uint32_t, block2, r.block.v[2]) F(uint32_t, block3, r.block.v[3])                       \
    F(uint8_t, slab, slab) F(uint8_t, Z, Z) F(uint8_t, A, A) F(uint8_t, used, r.used)

typedef struct particle_bank {
#define BANK_ARRAY(type, name, field) type *name;
    PARTICLE_FIELDS(BANK_ARRAY)
#undef BANK_ARRAY
    uint32_t capacity;
} particle_bank;

/* Bytes of a bank of `capacity` slots, each array starting on a 256-byte boundary (a GPU
 * memory transaction's alignment many times over). */
static inline size_t particle_bank_bytes(uint32_t capacity)
{
    size_t bytes = 0;
#define BANK_SIZE(type, name, field) bytes += ((size_t)capacity * sizeof(type) + 255) & ~(size_t)255;
    PARTICLE_FIELDS(BANK_SIZE)
#undef BANK_SIZE
    return bytes;
}

/* Points bank's arrays into `block` (particle_bank_bytes(capacity) bytes, 256-byte aligned). */
static inline void particle_bank_place(particle_bank *bank, void *block, uint32_t capacity)
{
    char *at = (char *)block;
#define BANK_PLACE(type, name, field)                                  \
    bank->name = (type *)(void *)at;                                   \
    at += ((size_t)capacity * sizeof(type) + 255) & ~(size_t)255;
    PARTICLE_FIELDS(BANK_PLACE)
#undef BANK_PLACE
    bank->capacity = capacity;
}

/* Slot i into a particle; `seed` is the run's (the stream's key). */
static inline BRAGG_HD BRAGG_FORCE_INLINE void bank_load(const particle_bank *bank, uint32_t i,
                                                         uint64_t seed, particle *q)
{
#define BANK_LOAD(type, name, field) q->field = bank->name[i];
    PARTICLE_FIELDS(BANK_LOAD)
#undef BANK_LOAD
    q->r.key.v[0] = (uint32_t)seed;
    q->r.key.v[1] = (uint32_t)(seed >> 32);
    q->r.ahead = 0;   /* blocks computed ahead are not kept in a bank */
}

/* A particle into slot i. */
static inline BRAGG_HD BRAGG_FORCE_INLINE void bank_store(const particle_bank *bank, uint32_t i,
                                                          const particle *q)
{
#define BANK_STORE(type, name, field) bank->name[i] = (type)q->field;
    PARTICLE_FIELDS(BANK_STORE)
#undef BANK_STORE
}

/* The history slot i's particle belongs to (its stream's, physics/random.h). */
static inline BRAGG_HD uint64_t bank_history(const particle_bank *bank, uint32_t i)
{
    return bank->ctr0[i] | (uint64_t)bank->ctr1[i] << 32;
}

/* Takes n slots of a bank's counter and returns the first: an atomic add on the device, where
 * many threads append to one bank; a plain one on the host, where a bank belongs to one
 * thread. */
static inline BRAGG_HD uint32_t bank_take(uint32_t *count, uint32_t n)
{
#if defined(__CUDA_ARCH__)
    return atomicAdd(count, n);
#else
    uint32_t first = *count;
    *count = first + n;
    return first;
#endif
}

#endif
