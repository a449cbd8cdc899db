/*
 * random.h - counter-based random numbers: Philox4x32-10 (Salmon et al., "Parallel random
 * numbers: as easy as 1, 2, 3", SC11), from the Random123 library.
 *
 * Every particle draws from its own stream, keyed by the run seed and counted by (history index,
 * particle id, block number). No state is shared, so a history gives the same numbers whatever
 * thread, batch, device or loop shape (history or event loop) runs it: results do not depend on
 * the thread count, the backend, or the order in which particles are processed.
 *
 * A particle's id follows from its ancestry, never from when it was made: the primary is 0, and
 * the k-th product of a reaction of particle P gets rng_child_id(P, k), a 44-bit hash of the two
 * (SplitMix64's finaliser, Steele, Lea & Flood, OOPSLA 2014; rng_init_child; a reaction's
 * target-residue break-up takes the child past its products', physics/fragmentation.h,
 * FERMI_RESIDUE_STREAM). Two particles of one history share
 * a stream only if their hashes collide: with n particles in a history that happens with
 * probability n^2 / 2^45, 3e-11 for the ~30 charged particles of a carbon history. The 128-bit
 * Philox counter holds the history (64 bits), the id (44 bits) and the block number (20 bits:
 * 4 million draws per particle, far beyond the few thousand the longest track takes; the block
 * number wraps within its 20 bits rather than run into the id).
 *
 * Uniform deviates come from single words, normal ones from the exact ziggurat below. An rng
 * lives in the particle it serves (physics/transport.h), in a thread's registers or a bank's
 * slot. Host and device.
 */
#ifndef BRAGG_RANDOM_H
#define BRAGG_RANDOM_H

#include <math.h>
#include <stdint.h>

#include <Random123/philox.h>

#include "bits.h"
#include "fastmath.h"
#include "hd.h"
#include "ziggurat_tables.h"

typedef struct rng {
    philox4x32_key_t key;
    philox4x32_ctr_t ctr;
    philox4x32_ctr_t block;  /* the last four outputs */
    unsigned used;           /* how many of `block` are consumed */
    /* Blocks of this stream computed ahead (the CPU event loop's vector pass, physics/simd.h):
     * the next `ahead` refills take them, four words each from ahead_at on, instead of running
     * the Philox rounds. 0 everywhere else (host code only). */
    unsigned ahead;
    const uint32_t *ahead_at;
} rng;

#define RNG_ID_BITS    44
#define RNG_BLOCK_BITS 20
#define RNG_BLOCK_MASK ((1u << RNG_BLOCK_BITS) - 1)

/* Stream of particle `id` (0 = the primary, else from rng_child_id) of history `history`. */
static inline BRAGG_HD void rng_init(rng *r, uint64_t seed, uint64_t history, uint64_t id)
{
    r->key.v[0] = (uint32_t)seed;
    r->key.v[1] = (uint32_t)(seed >> 32);
    r->ctr.v[0] = (uint32_t)history;
    r->ctr.v[1] = (uint32_t)(history >> 32);
    r->ctr.v[2] = (uint32_t)id;
    r->ctr.v[3] = (uint32_t)(id >> 32) << RNG_BLOCK_BITS;
    r->used = 4;
    r->ahead = 0;
    r->ahead_at = (const uint32_t *)0;
}

/* The id of a stream (the particle's), as given to rng_init. */
static inline BRAGG_HD uint64_t rng_id(const rng *r)
{
    return r->ctr.v[2] | (uint64_t)(r->ctr.v[3] >> RNG_BLOCK_BITS) << 32;
}

/* The history of a stream. */
static inline BRAGG_HD uint64_t rng_history(const rng *r)
{
    return r->ctr.v[0] | (uint64_t)r->ctr.v[1] << 32;
}

/* Id of the k-th product (k >= 0) of a reaction of particle `parent`: never 0 (the primary). */
static inline BRAGG_HD uint64_t rng_child_id(uint64_t parent, unsigned k)
{
    uint64_t z = parent * 0x9E3779B97F4A7C15ULL + (uint64_t)k + 1;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    z ^= z >> 31;
    z &= (1ULL << RNG_ID_BITS) - 1;
    return z ? z : 1;
}

/* The stream of child k of the particle whose stream is `parent`: the same seed and history,
 * the id rng_child_id(parent's id, k). */
static inline BRAGG_HD void rng_init_child(rng *r, const rng *parent, unsigned k)
{
    uint64_t seed = parent->key.v[0] | (uint64_t)parent->key.v[1] << 32;
    rng_init(r, seed, rng_history(parent), rng_child_id(rng_id(parent), k));
}

/* The next block of four words: the Philox rounds, once per four draws. */
static inline BRAGG_HD void rng_refill(rng *r)
{
    r->block = philox4x32(r->ctr, r->key);
    r->ctr.v[3] = (r->ctr.v[3] & ~RNG_BLOCK_MASK) | ((r->ctr.v[3] + 1) & RNG_BLOCK_MASK);
    r->used = 0;
}

/* The next block from those computed ahead for this counter: the four words rng_refill would
 * compute (a block depends only on key and counter), read instead of computed. Always inlined:
 * it is a few loads, where a call costs as much. */
static inline BRAGG_HD BRAGG_FORCE_INLINE void rng_take_block(rng *r)
{
    const uint32_t *a = r->ahead_at;
    r->block.v[0] = a[0];
    r->block.v[1] = a[1];
    r->block.v[2] = a[2];
    r->block.v[3] = a[3];
    r->ahead_at = a + 4;
    r->ahead--;
    r->ctr.v[3] = (r->ctr.v[3] & ~RNG_BLOCK_MASK) | ((r->ctr.v[3] + 1) & RNG_BLOCK_MASK);
    r->used = 0;
}

/* The stream's next n blocks are at `at` (word w of block j at at[4 j + w]), as rng_ahead_fill
 * (physics/simd.h) wrote them for the stream's current counter. */
static inline BRAGG_HD void rng_take_ahead(rng *r, const uint32_t *at, unsigned n)
{
    r->ahead_at = at;
    r->ahead = n;
}

/* Always inlined, the refill not: a draw is mostly a load from the block, and the call it replaces
 * cost more than that. */
static inline BRAGG_HD BRAGG_FORCE_INLINE uint32_t rng_u32(rng *r)
{
    if (r->used == 4) {
#if !defined(__CUDA_ARCH__)
        if (r->ahead) rng_take_block(r);
        else
#endif
            rng_refill(r);
    }
    return r->block.v[r->used++];
}

/* Uniform in the open interval (0, 1): (k + 0.5) / 2^32, never 0 or 1, so log() is safe. */
static inline BRAGG_HD double rng_uniform(rng *r)
{
    return ((double)rng_u32(r) + 0.5) * (1.0 / 4294967296.0);
}

/*
 * Standard normal deviates by the ziggurat method (Marsaglia & Tsang, "The ziggurat method for
 * generating random variables", J. Stat. Softw. 5 (2000) issue 8): the area under
 * f(x) = exp(-x^2/2), x >= 0, is covered by ZIGGURAT_LAYERS stacked layers of equal area V, each a
 * rectangle [0, x_i] x [y_i, y_{i+1}] (layer 0: the rectangle [0, R] x [0, f(R)] plus the tail
 * beyond R). A point uniform in a random layer, if under f, has |g|'s density; the tables and
 * their construction are in physics/ziggurat_tables.h (generated by scripts/ziggurat_tables.py).
 *
 * Exact, not an approximation: a point inside the part of a layer that lies wholly under f is
 * taken at once (98.5% of draws with 256 layers); one in a wedge (the strip between x_{i+1} and
 * x_i, 1.5%) is taken iff a uniform height in the layer lies under f(x), evaluated with
 * portable_exp; one beyond R in layer 0 (0.026%) is replaced by a draw from the tail by
 * Marsaglia's exact method. Decisions are those of the exact density to double precision, and
 * the tables are exact doubles, so a seed gives the same deviates on every machine. 256 layers
 * rather than 128: fewer wedges (half as many) matter most on a GPU, where one thread in a wedge
 * holds up its warp; the price is one bit of position (23 instead of 24).
 *
 * One 32-bit Philox word per deviate in the common case (as Box-Muller, which this replaced):
 * its low ZIGGURAT_LAYER_BITS bits pick the layer, the next bit the sign, the top
 * ZIGGURAT_POSITION_BITS the position in the layer. The fields are disjoint: Marsaglia &
 * Tsang's RNOR reused the layer bits in the position, which correlates the two (Doornik, "An
 * improved ziggurat method to generate normal random samples", 2005). The position is a
 * midpoint (m + 1/2) / 2^23, never 0, so the lattice of positions is symmetric in the layer. A
 * wedge or the tail takes more words.
 */
#define ZIGGURAT_POSITION_BITS (32 - ZIGGURAT_LAYER_BITS - 1)

/* The layer tables, on host and device (hd.h, BRAGG_CONST_TABLE). */
BRAGG_CONST_TABLE(double, ziggurat_x, ZIGGURAT_LAYERS + 1, ZIGGURAT_X_INIT)
BRAGG_CONST_TABLE(double, ziggurat_y, ZIGGURAT_LAYERS + 1, ZIGGURAT_Y_INIT)

/* Right edge of layer i (0 <= i <= ZIGGURAT_LAYERS). */
static inline BRAGG_HD double ziggurat_x(unsigned i) { return BRAGG_CONST_GET(ziggurat_x, i); }

/* Bottom of layer i, f(x_i) (0 <= i <= ZIGGURAT_LAYERS). */
static inline BRAGG_HD double ziggurat_y(unsigned i) { return BRAGG_CONST_GET(ziggurat_y, i); }

/* |g| conditioned on |g| > R (Marsaglia, "Generating a variable from the tail of the normal
 * distribution", Technometrics 6 (1964) 101): x = -ln(U1)/R, y = -ln(U2), accepted iff
 * 2y > x^2, gives R + x. It accepts 94% of pairs at R = 3.65. */
static inline BRAGG_HD double ziggurat_tail(rng *r)
{
    for (;;) {
        double x = -portable_log(rng_uniform(r)) / ZIGGURAT_R;
        double y = -portable_log(rng_uniform(r));
        if (y + y > x * x) return ZIGGURAT_R + x;
    }
}

/* Where one 32-bit word puts its point: the layer, the sign bit, and x = position * x_layer. */
typedef struct ziggurat_point {
    unsigned layer;
    uint64_t sign;
    double x;
} ziggurat_point;

static inline BRAGG_HD ziggurat_point ziggurat_point_of(uint32_t word)
{
    ziggurat_point z;
    z.layer = word & (ZIGGURAT_LAYERS - 1);
    z.sign = (uint64_t)((word >> ZIGGURAT_LAYER_BITS) & 1) << 63;
    double position = ((double)(word >> (ZIGGURAT_LAYER_BITS + 1)) + 0.5) *
                      (1.0 / (double)(1u << ZIGGURAT_POSITION_BITS));
    z.x = position * ziggurat_x(z.layer);
    return z;
}

/* |g| with the sign bit of a draw. */
static inline BRAGG_HD double ziggurat_signed(double magnitude, uint64_t sign)
{
    return bits_to_double(double_to_bits(magnitude) | sign);
}

/* The rest of rng_gauss for a point z outside its layer's inner rectangle (1.5% of draws): the
 * tail or the wedge's test, and new words until a point is accepted. Kept apart from the inner
 * test so that the common path is a few instructions inlined where a deviate is wanted. */
static inline BRAGG_HD double ziggurat_outer(rng *r, ziggurat_point z)
{
    for (;;) {
        if (z.layer == 0) return ziggurat_signed(ziggurat_tail(r), z.sign);
        double y_low = ziggurat_y(z.layer);
        double y_high = ziggurat_y(z.layer + 1);
        if (y_low + rng_uniform(r) * (y_high - y_low) < portable_exp(-0.5 * z.x * z.x))
            return ziggurat_signed(z.x, z.sign);
        z = ziggurat_point_of(rng_u32(r));
        if (z.x < ziggurat_x(z.layer + 1)) return ziggurat_signed(z.x, z.sign);
    }
}

/* One standard normal deviate. */
static inline BRAGG_HD BRAGG_FORCE_INLINE double rng_gauss(rng *r)
{
    ziggurat_point z = ziggurat_point_of(rng_u32(r));
    if (z.x < ziggurat_x(z.layer + 1)) return ziggurat_signed(z.x, z.sign);
    return ziggurat_outer(r, z);
}

/* A Gamma deviate of the given shape (> 0) and scale 1: mean and variance `shape`. Marsaglia and
 * Tsang's method (ACM Trans. Math. Softw. 26 (2000) 363): for shape a >= 1, with d = a - 1/3
 * and c = 1 / sqrt(9 d), a normal x gives the candidate d (1 + c x)^3, taken if a uniform u has
 * ln u < x^2 / 2 + d (1 - v + ln v), v = (1 + c x)^3 (over 95% of candidates are); the squeeze
 * u < 1 - 0.0331 x^4 takes most of them without a logarithm and takes none that the exact test
 * would refuse. Below shape 1, a deviate of shape a + 1 times u^(1/a) (their boost). Every
 * decision uses portable_log and portable_exp, so a stream gives the same deviates on every
 * machine. Out of line: only thin steps call it (physics/transport.h, step_energy_loss). */
static BRAGG_HD BRAGG_NOINLINE double rng_gamma(rng *r, double shape)
{
    double boost = 1.0;
    if (shape < 1.0) {
        double t = portable_log(rng_uniform(r)) / shape;
        boost = t > -700.0 ? portable_exp(t) : 0.0;   /* portable_exp holds above -708 */
        shape += 1.0;
    }
    double d = shape - 1.0 / 3.0, c = 1.0 / sqrt(9.0 * d);
    /* Each try is taken with probability above 0.95: 64 refusals in a row do not happen
     * (0.05^64); the bound only keeps a GPU thread from looping on a broken stream. */
    for (int tries = 0; tries < 64; tries++) {
        double x = rng_gauss(r), v = 1.0 + c * x;
        if (v <= 0.0) continue;
        v = v * v * v;
        double u = rng_uniform(r), x2 = x * x;
        if (u < 1.0 - 0.0331 * x2 * x2 ||
            portable_log(u) < 0.5 * x2 + d * (1.0 - v + portable_log(v)))
            return d * v * boost;
    }
    return (d + 1.0 / 3.0) * boost;
}

/* Two independent standard normal deviates, g1 drawn first. */
static inline BRAGG_HD void rng_gauss2(rng *r, double *g1, double *g2)
{
    *g1 = rng_gauss(r);
    *g2 = rng_gauss(r);
}

#endif
