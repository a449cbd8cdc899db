/*
 * transport.h - one history of condensed-history Monte Carlo: a primary ion from the beam
 * through a stack of slabs until it stops or leaves, scoring as it goes.
 *
 * A step (transport_step) is limited by a fraction of the residual range (with a floor), by the
 * slab boundary ahead, and by the cut-off energy. Over a step:
 *   - continuous energy loss from the range table: the particle carries its residual CSDA range
 *     R, so the energy after a step of s cm is one lookup, t(R - rho s);
 *   - energy-loss straggling (Bohr variance with the relativistic factor, Gaussian), applied in
 *     range space, delta R = delta E / S(t), so that no second lookup is needed;
 *   - multiple Coulomb scattering: Highland's formula generalised to thick targets (Highland,
 *     NIM 129 (1975) 497; Gottschalk et al., NIM B 74 (1993) 467),
 *       theta0^2 = (14.1 MeV)^2 [1 + log10(L)/9]^2 * integral (z/pv)^2 dx/X0,
 *     L the path so far in radiation lengths; a step adds theta0^2(after) - theta0^2(before),
 *     so the result does not depend on the step size. Each plane gets a Gaussian angle and the
 *     correlated lateral displacement y = s theta0 (z1/sqrt(12) + z2/2), theta = theta0 z2
 *     (PDG 2022, eq. 34.20).
 * The energy lost is spread over the depth bins the step crosses in proportion to the path in
 * each (the deposit of a step is uniform along it).
 *
 * Nuclear reactions (when on): every particle carries the number of mean free paths left before
 * its next reaction, drawn as -ln(U) when it starts; a step uses up Sigma(t) rho s of them and
 * is cut short where they run out. There the particle ends and physics/fragmentation.h says what
 * comes out; charged products go on a per-history stack (bounded: a history never holds more
 * particles than TRANSPORT_STACK) and are transported in turn by this same step, each with its
 * own random stream (seed, history, particle number in order of creation), so the result stays
 * independent of threads and devices. Secondaries of charge Z use the tables of that charge's
 * reference isotope: ranges scale with the mass number, a = A / A_ref, at equal energy per
 * nucleon; a particle carries its range in the reference isotope's units.
 *
 * Energies are scored as integer quanta (2^-24 MeV). The particle's energy is quantised at every
 * step and a deposit is the difference of two quantised energies, so the sums telescope: the
 * energy ledger closes exactly, the dose grid sums exactly to the energy deposited, and integer
 * addition makes every total independent of the order of summation: the same for any thread
 * count, batch size or device.
 *
 * Everything here is static inline and BRAGG_HD: the CPU backends and the CUDA kernel run this
 * very code. The parameters are read-only; the score_sink belongs to the caller (a thread's
 * private arrays on the CPU).
 */
#ifndef BRAGG_TRANSPORT_H
#define BRAGG_TRANSPORT_H

#include <math.h>
#include <stdint.h>
#include <time.h>

#include "fastmath.h"
#include "fragmentation.h"
#include "hd.h"
#include "random.h"
#include "tables.h"

#define TRANSPORT_MAX_SLABS 16
#define TRANSPORT_MAX_Z     26     /* heaviest projectile charge (Fe) */
#define TRANSPORT_STACK     64     /* secondaries waiting in one history */
#define TRANSPORT_MAX_CHANNELS (TRANSPORT_MAX_Z + 2)
#define FORWARD_COS         0.98480775301220806   /* cos 10 degrees */

/* Fixed-point scales of the scored quantities (see "integer quanta" above). */
#define ENERGY_QUANTA_PER_MEV   16777216.0     /* 2^24 */
#define LET_QUANTA              1024.0         /* per MeV * keV/um */
#define TRACK_QUANTA_PER_CM     4294967296.0   /* 2^32 */
#define LATERAL_QUANTA_PER_CM3  1048576.0      /* 2^20, track length * r^2 / 2 */
#define LET_T_QUANTA            1048576.0      /* 2^20 per cm * keV/um */

/* Energy ledger entries, in energy quanta. BEAM = all the others summed, exactly. */
enum ledger_entry {
    LEDGER_BEAM,             /* kinetic energy brought in by the primaries */
    LEDGER_DEPOSITED,        /* lost continuously along steps */
    LEDGER_BELOW_CUTOFF,     /* left when a particle fell below the cut-off, deposited locally */
    LEDGER_ESCAPED_BACK,     /* carried out through the entrance face */
    LEDGER_ESCAPED_SIDE,     /* carried out through the lateral boundary */
    LEDGER_ESCAPED_THROUGH,  /* carried out through the far face of the stack */
    LEDGER_ESCAPED_DEEP,     /* carried past the scoring depth, where transport stops */
    LEDGER_NUCLEAR_LOCAL,    /* nuclear reactions: deposited where they happened */
    LEDGER_NUCLEAR_NEUTRAL,  /* nuclear reactions: carried off by neutrons and photons */
    LEDGER_NUCLEAR_BINDING,  /* nuclear reactions: spent on binding energy (the Q-value) */
    LEDGER_OUTSIDE_GRID,     /* part of the deposits above that fell beyond the scoring depth */
    LEDGER_COUNT
};

/* Event counters of a run. */
enum count_entry {
    COUNT_PRIMARY_REACTED,   /* primaries ended by a nuclear reaction */
    COUNT_PRIMARY_STOPPED,   /* primaries that slowed down to the cut-off */
    COUNT_REACTIONS,         /* all nuclear reactions */
    COUNT_SECONDARIES,       /* charged secondaries transported */
    COUNT_STACK_FULL,        /* secondaries deposited on the spot because the stack was full */
    COUNT_COUNT
};

/* The scored depth curves, each nbins + 1 integers (difference form while scoring). Channel c:
 * 0 = the primaries, 1..Z = secondaries of that charge, Z + 1 = local deposits of nuclear
 * reactions (target fragments). */
enum curve_index {
    CURVE_LET_D,             /* sum of edep[MeV] * LET[keV/um] * LET_QUANTA */
    CURVE_LET_T,             /* sum of track[cm] * LET * LET_T_QUANTA, all charged particles */
    CURVE_LATERAL,           /* primaries: track * (x^2 + y^2)/2, LATERAL_QUANTA_PER_CM3 */
    CURVE_CHANNELS           /* then three per channel: */
};
#define CURVE_DOSE(c)    (CURVE_CHANNELS + 3 * (c))       /* energy quanta */
#define CURVE_TRACK(c)   (CURVE_CHANNELS + 3 * (c) + 1)   /* track length, TRACK_QUANTA_PER_CM */
#define CURVE_FORWARD(c) (CURVE_CHANNELS + 3 * (c) + 2)   /* depth travelled within 10 degrees
                                                             of +z: crossings of a depth plane */
#define CURVE_COUNT(channels) (CURVE_CHANNELS + 3 * (channels))

typedef struct slab_geometry {
    double z_start, z_end;            /* cm; the last slab may end at +infinity */
    double density;                   /* g/cm^3 */
    /* By charge Z (1..primary's Z): the tables of that charge's reference isotope (the primary
     * itself for its own charge), and the CSDA range at the cut-off energy, g/cm^2. */
    const transport_table *table[TRANSPORT_MAX_Z + 1];
    double range_cut[TRANSPORT_MAX_Z + 1];
} slab_geometry;

typedef struct transport_params {
    /* beam */
    int Z, A;                         /* primary's charge and mass number */
    double energy;                    /* MeV/u */
    double energy_spread;             /* relative sigma */
    double spot_sigma;                /* cm, per transverse axis */
    double divergence_sigma;          /* rad, per transverse plane */
    uint64_t seed;
    /* geometry */
    int n_slabs;
    slab_geometry slabs[TRANSPORT_MAX_SLABS];
    double lateral_halfwidth;         /* cm; INFINITY for laterally infinite slabs */
    /* physics */
    double step_fraction;             /* of the residual range */
    double step_min;                  /* cm */
    /* Secondaries: their dose is spread over centimetres, so their steps may be longer than
     * the primary's, which must place the Bragg peak to 0.05 mm (docs/physics.md). */
    double step_fraction_secondary, step_min_secondary;
    double energy_cut;                /* MeV/u */
    int straggling, scattering, nuclear;
    int ref_A[TRANSPORT_MAX_Z + 1];               /* reference isotope of each charge */
    double nucleon_mass[TRANSPORT_MAX_Z + 1];     /* its rest mass per nucleon, MeV */
    double binding[TRANSPORT_MAX_Z + 1];          /* its binding energy per nucleon, MeV */
    nuclear_radii radii;                          /* abrasion radii by mass number */
    /* scoring grid */
    int channels;                     /* primary, charges 1..Z, nuclear local: Z + 2 */
    int nbins;
    double bin_width, inv_bin_width;  /* cm */
} transport_params;

/* Where a history adds its scores: a ledger, counters and the depth curves (enum curve_index),
 * curve k at curves + k * stride, kept as differences (nbins + 1 entries; element i holds
 * value[i] - value[i-1]) so that a step adds the same amount to any number of bins in O(1);
 * score_arrays_finish() in src/engine/score.h turns them into values by a prefix sum after the batch. */
typedef struct score_sink {
    int64_t *curves;
    int stride;           /* nbins + 1 */
    int64_t ledger[LEDGER_COUNT];
    uint64_t count[COUNT_COUNT];
    uint64_t steps;
} score_sink;

/* Where a step's time goes, for the profile panel and `bragg bench`: cycles per component,
 * accumulated for the histories chosen to be profiled (one in PROFILE_EVERY). Timing reads the
 * cycle counter only; it never touches the random streams, so a profiled run scores exactly
 * what an unprofiled one does. */
enum profile_component {
    PROFILE_STOPPING,     /* energy-grid cell and stopping-power lookups (incl. LET) */
    PROFILE_RANGE,        /* range arithmetic, t(R) lookups, energy quantisation */
    PROFILE_STRAGGLING,   /* Bohr variance and the range shift */
    PROFILE_SCATTERING,   /* Highland width, deflection, lateral displacement */
    PROFILE_NUCLEAR,      /* reaction cross-section, fragmentation, secondaries' set-up */
    PROFILE_SCORING,      /* depth bins, LET, fluence, lateral sums */
    PROFILE_RNG,          /* Philox and the Gaussian transform */
    PROFILE_OTHER,        /* step length, geometry, boundaries, loop */
    PROFILE_COUNT
};

typedef struct step_profile {
    uint64_t cycles[PROFILE_COUNT];
    uint64_t marks[PROFILE_COUNT];   /* how often each was charged: for the timer's own cost */
    uint64_t last;                   /* counter at the previous mark */
} step_profile;

static inline BRAGG_HD uint64_t profile_clock(void)
{
#if defined(__CUDA_ARCH__)
    return (uint64_t)clock64();
#elif defined(__x86_64__) || defined(__i386__)
    /* rdtscp waits for the instructions before it to finish: plain rdtsc would let the
     * out-of-order core charge one component's latency to the next. */
    unsigned aux;
    return __builtin_ia32_rdtscp(&aux);
#else
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
#endif
}

/* Charges the time since the last mark to component c (nothing when prof is NULL, which the
 * compiler folds away in the unprofiled specialisation). */
static inline BRAGG_HD void profile_mark(step_profile *prof, int c)
{
    if (prof) {
        uint64_t now = profile_clock();
        prof->cycles[c] += now - prof->last;
        prof->marks[c]++;
        prof->last = now;
    }
}

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
    double mfp;           /* mean free paths left before the next nuclear reaction */
    int slab;
    int Z, A;
    uint32_t id;          /* random stream: 0 the primary, then in order of creation */
} particle;

/* Secondaries of one history waiting to be transported, last in first out. */
typedef struct particle_stack {
    int n;
    uint32_t next_id;
    particle item[TRANSPORT_STACK];
} particle_stack;

static inline BRAGG_HD int64_t energy_quanta(double mev)
{
    return (int64_t)(mev * ENERGY_QUANTA_PER_MEV + 0.5);
}

static inline BRAGG_HD void score_add(int64_t *cell, int64_t v)
{
#if defined(__CUDA_ARCH__)
    atomicAdd((unsigned long long *)cell, (unsigned long long)v);
#else
    *cell += v;
#endif
}

/* Adds v to bins [a, b] of one curve (difference form). */
static inline BRAGG_HD void score_bins(int64_t *curve, int a, int b, int64_t v)
{
    score_add(&curve[a], v);
    score_add(&curve[b + 1], -v);
}

/* Curve k of the sink. */
static inline BRAGG_HD int64_t *sink_curve(const score_sink *s, int k)
{
    return s->curves + (size_t)k * s->stride;
}

/* What one particle's step adds besides its energy: LET (keV/um) and its weights, and the
 * curves it adds to. Those are located once per step (step_tally_locate): both half-steps and
 * all their pieces add to the same ones. */
typedef struct step_tally {
    int64_t *dose, *track;    /* the particle's channel */
    int64_t *forward;         /* the channel's forward fluence; NULL if the step does not count */
    int64_t *let_d, *let_t;
    int64_t *lateral;         /* primaries only, else NULL */
    double let_scale;         /* LET * LET_QUANTA / ENERGY_QUANTA_PER_MEV */
    double let_t_scale;       /* LET * LET_T_QUANTA */
    double half_r2;           /* (x^2 + y^2) / 2 at mid-step */
    double z_per_path;        /* |dz| / path */
} step_tally;

/* Points k at the curves of `channel`, the forward fluence if `forward`, the lateral sum if
 * `primary`. */
static inline BRAGG_HD void step_tally_locate(step_tally *k, const score_sink *s, int channel,
                                              int forward, int primary)
{
    k->dose = sink_curve(s, CURVE_DOSE(channel));
    k->track = sink_curve(s, CURVE_TRACK(channel));
    k->forward = forward ? sink_curve(s, CURVE_FORWARD(channel)) : (int64_t *)0;
    k->let_d = sink_curve(s, CURVE_LET_D);
    k->let_t = sink_curve(s, CURVE_LET_T);
    k->lateral = primary ? sink_curve(s, CURVE_LATERAL) : (int64_t *)0;
}

/* One piece of a step: `share` energy quanta and `seg` cm of track over bins [a, b] each. */
static inline BRAGG_HD BRAGG_FORCE_INLINE void score_piece(const step_tally *k, int a, int b,
                                                           int64_t share, double seg)
{
    score_bins(k->dose, a, b, share);
    score_bins(k->let_d, a, b, (int64_t)((double)share * k->let_scale + 0.5));
    score_bins(k->track, a, b, (int64_t)(seg * TRACK_QUANTA_PER_CM + 0.5));
    score_bins(k->let_t, a, b, (int64_t)(seg * k->let_t_scale + 0.5));
    if (k->forward)
        score_bins(k->forward, a, b, (int64_t)(seg * k->z_per_path * TRACK_QUANTA_PER_CM + 0.5));
    if (k->lateral)
        score_bins(k->lateral, a, b, (int64_t)(seg * k->half_r2 * LATERAL_QUANTA_PER_CM3 + 0.5));
}

/* Spreads a step's energy (dq quanta) and track over the depth bins between z0 and z1,
 * uniformly along the path: a partial first bin, whole bins between (all alike, added as one
 * range), a partial last bin. Integer shares are rounded down and the last bin takes the
 * remainder, so the bins sum to dq exactly.
 * Not forced inline: inlining both half-steps into the step saves 6% of the instructions but cost
 * 30% of the wall-clock rate on AMD EPYC (gcc 12, -march=native). */
static inline BRAGG_HD void score_step(const transport_params *p,
                                                          score_sink *s, const step_tally *k,
                                                          double z0, double z1, double length,
                                                          int64_t dq)
{
    double za = z0 < z1 ? z0 : z1, zb = z0 < z1 ? z1 : z0;
    double dz = zb - za, w = p->bin_width;
    double depth_max = p->nbins * w;
    if (dz <= 0.0) {
        /* Moving across the beam axis: everything in one bin. */
        int i = (int)(za * p->inv_bin_width);
        if (za < 0.0 || i >= p->nbins) {
            s->ledger[LEDGER_OUTSIDE_GRID] += dq;
            return;
        }
        score_piece(k, i, i, dq, length);
        return;
    }
    double lo = za > 0.0 ? za : 0.0, hi = zb < depth_max ? zb : depth_max;
    int64_t given = 0;
    if (hi > lo) {
        int i0 = (int)(lo * p->inv_bin_width), i1 = (int)(hi * p->inv_bin_width);
        if (i1 >= p->nbins) i1 = p->nbins - 1;
        if (i0 > i1) i0 = i1;
        double per_z = 1.0 / dz, path_per_z = length / dz;
        int whole = (za >= 0.0 && zb <= depth_max);
        if (i0 == i1) {
            int64_t share = whole ? dq : (int64_t)((double)dq * (hi - lo) * per_z);
            score_piece(k, i0, i0, share, (hi - lo) * path_per_z);
            given = share;
        } else {
            double first = (i0 + 1) * w - lo, last = hi - i1 * w;
            int64_t share0 = (int64_t)((double)dq * first * per_z);
            int64_t share_mid = (int64_t)((double)dq * w * per_z);
            int n_mid = i1 - i0 - 1;
            int64_t share1 = whole ? dq - share0 - share_mid * n_mid
                                   : (int64_t)((double)dq * last * per_z);
            score_piece(k, i0, i0, share0, first * path_per_z);
            if (n_mid > 0) score_piece(k, i0 + 1, i1 - 1, share_mid, w * path_per_z);
            score_piece(k, i1, i1, share1, last * path_per_z);
            given = share0 + share_mid * n_mid + share1;
        }
    }
    s->ledger[LEDGER_OUTSIDE_GRID] += dq - given;
}

/* Deposits dq quanta at one point (a cut-off remnant, a nuclear reaction's local share) in
 * channel c. */
static inline BRAGG_HD void score_point(const transport_params *p, score_sink *s, int c, double z,
                                        int64_t dq, double let)
{
    int i = (int)(z * p->inv_bin_width);
    if (z < 0.0 || i >= p->nbins) {
        s->ledger[LEDGER_OUTSIDE_GRID] += dq;
        return;
    }
    score_bins(sink_curve(s, CURVE_DOSE(c)), i, i, dq);
    score_bins(sink_curve(s, CURVE_LET_D), i, i,
               (int64_t)((double)dq * let * LET_QUANTA / ENERGY_QUANTA_PER_MEV + 0.5));
}

/* Rotates the direction by projected angles (ax, ay) in the particle's own frame and returns
 * that frame's transverse axes e1, e2 (before the rotation) for the lateral displacement.
 * Always inlined: in the step, e1, e2 and the direction then stay in registers. */
static inline BRAGG_HD BRAGG_FORCE_INLINE void deflect(particle *q, double ax, double ay,
                                                       double e1[3], double e2[3])
{
    double u = q->u, v = q->v, w = q->w;
    double sperp2 = 1.0 - w * w;
    if (sperp2 > 1e-20) {
        double sperp = sqrt(sperp2), inv = 1.0 / sperp;
        e1[0] = u * w * inv; e1[1] = v * w * inv; e1[2] = -sperp;
        e2[0] = -v * inv;    e2[1] = u * inv;     e2[2] = 0.0;
    } else {
        e1[0] = 1.0; e1[1] = 0.0; e1[2] = 0.0;
        e2[0] = 0.0; e2[1] = w > 0 ? 1.0 : -1.0; e2[2] = 0.0;
    }
    double theta2 = ax * ax + ay * ay;
    if (theta2 <= 0.0) return;
    double theta = sqrt(theta2), c, s;
    if (theta <= 0.7853981633974483) {
        fast_sincos_small(theta, &s, &c);   /* s = sin(theta)/theta */
    } else {
        c = cos(theta);
        s = sin(theta) / theta;
    }
    /* d' = d cos(theta) + sin(theta) (e1 cos(phi) + e2 sin(phi)), cos(phi) = ax/theta. */
    q->u = u * c + s * (e1[0] * ax + e2[0] * ay);
    q->v = v * c + s * (e1[1] * ax + e2[1] * ay);
    q->w = w * c + s * (e1[2] * ax + e2[2] * ay);
}

/* Highland theta0^2 for a path of L radiation lengths with scattering integral I. */
static inline BRAGG_HD double highland_theta2(double L, double I)
{
    if (L <= 0.0) return 0.0;
    double f = 1.0 + fast_log(L) * (1.0 / (9.0 * 2.302585092994046));   /* 1 + log10(L)/9 */
    if (f < 0.0) f = 0.0;   /* only below 1e-9 X0, far under any step */
    return 14.1 * 14.1 * f * f * I;
}

/* Mean free paths to the first reaction of a particle that starts: -ln U from its stream. */
static inline BRAGG_HD double sample_free_paths(const transport_params *p, rng *r)
{
    return p->nuclear ? -fast_log(rng_uniform(r)) : INFINITY;
}

/* Starts primary `history`: samples the beam and books its energy. */
static inline BRAGG_HD void transport_start(const transport_params *p, rng *r, particle *q,
                                            score_sink *s)
{
    double g1, g2, g3, g4;
    rng_gauss2(r, &g1, &g2);
    rng_gauss2(r, &g3, &g4);
    double t = p->energy;
    if (p->energy_spread > 0.0) {
        t *= 1.0 + p->energy_spread * rng_gauss(r);
        if (t < 0.0) t = 0.0;
    }
    q->x = p->spot_sigma * g1;
    q->y = p->spot_sigma * g2;
    q->z = 0.0;
    double ax = p->divergence_sigma * g3, ay = p->divergence_sigma * g4;
    double norm = 1.0 / sqrt(1.0 + ax * ax + ay * ay);
    q->u = ax * norm;
    q->v = ay * norm;
    q->w = norm;
    q->t = t;
    q->slab = 0;
    q->Z = p->Z;
    q->A = p->A;
    q->a = 1.0;
    q->id = 0;
    q->range = table_range(p->slabs[0].table[p->Z], t);
    q->energy_q = energy_quanta(p->A * t);
    q->path_x0 = 0.0;
    q->scatter_sum = 0.0;
    q->theta2 = 0.0;
    q->mfp = sample_free_paths(p, r);
    s->ledger[LEDGER_BEAM] += q->energy_q;
}

/* Books the particle's remaining energy under `entry` and ends it. */
static inline BRAGG_HD void transport_end(score_sink *s, particle *q, int entry)
{
    s->ledger[entry] += q->energy_q;
    q->energy_q = 0;
    q->t = 0.0;
}

/* The scoring channel of a particle: 0 for the primary, its charge for a secondary. */
static inline BRAGG_HD int particle_channel(const particle *q)
{
    return q->id == 0 ? 0 : q->Z;
}

/* Energy deposited on the spot by a nuclear reaction, in the local channel. */
static inline BRAGG_HD void nuclear_deposit(const transport_params *p, score_sink *s, double z,
                                            int64_t dq)
{
    score_point(p, s, p->channels - 1, z, dq, 0.0);
    s->ledger[LEDGER_NUCLEAR_LOCAL] += dq;
}

/* Sets up and pushes a charged product of a reaction of q: charge Z, A nucleons, laboratory
 * kinetic energy T (MeV) and direction at projected angles (ax, ay) from q's direction.
 * Returns the energy quanta it carries away. */
static inline BRAGG_HD int64_t push_secondary(const transport_params *p, score_sink *s,
                                              particle_stack *st, const particle *q, int Z, int A,
                                              double T, double ax, double ay)
{
    int64_t eq = energy_quanta(T);
    const slab_geometry *slab = &p->slabs[q->slab];
    double t = T / A;
    if (Z > p->Z || Z < 1 || t <= p->energy_cut || st->n >= TRANSPORT_STACK) {
        /* Below the cut-off (or, never in practice, no room): deposited on the spot. */
        if (st->n >= TRANSPORT_STACK) s->count[COUNT_STACK_FULL]++;
        nuclear_deposit(p, s, q->z, eq);
        return eq;
    }
    particle *n = &st->item[st->n++];
    *n = *q;
    double e1[3], e2[3];
    deflect(n, ax, ay, e1, e2);
    n->t = t;
    n->Z = Z;
    n->A = A;
    n->a = (double)A / p->ref_A[Z];
    n->id = st->next_id++;
    n->range = table_range(slab->table[Z], t);
    n->energy_q = eq;
    n->path_x0 = 0.0;
    n->scatter_sum = 0.0;
    n->theta2 = 0.0;
    s->count[COUNT_SECONDARIES]++;
    return eq;
}

/* Projected angles of a laboratory momentum (px, py, pz) relative to the z axis. */
static inline BRAGG_HD void momentum_angles(double px, double py, double pz, double *ax,
                                            double *ay)
{
    double pt = sqrt(px * px + py * py);
    if (pt <= 0.0) {
        *ax = *ay = 0.0;
        return;
    }
    double theta = atan2(pt, pz);
    *ax = theta * px / pt;
    *ay = theta * py / pt;
}

/* A nuclear reaction of q, here and now: picks the target nucleus, samples what comes out,
 * pushes the charged products and books the rest. Returns 1 if q lives on (the Coulomb
 * trajectory missed the nucleus), else 0. */
static inline BRAGG_HD int transport_react(const transport_params *p, rng *r, particle *q,
                                           score_sink *s, particle_stack *st)
{
    const slab_geometry *slab = &p->slabs[q->slab];
    const transport_table *tab = slab->table[q->Z];
    uint32_t cell = table_energy_cell(tab, q->t);
    double u = rng_uniform(r);
    int k = 0;
    while (k < tab->n_targets - 1 &&
           u > table_at(tab, tab->reaction_cum + (size_t)k * tab->energy_grid.ncell, cell, q->t))
        k++;
    int Zt = tab->target_Z[k], At = tab->target_A[k];
    int64_t e_in = q->energy_q;

    if (q->A == 1) {
        /* Proton: Bortfeld's split, 60% absorbed locally, 40% carried off (Med. Phys. 24
         * (1997) 2024, the fraction gamma of his Bragg-curve model). */
        int64_t local = (int64_t)(0.6 * (double)e_in);
        nuclear_deposit(p, s, q->z, local);
        s->ledger[LEDGER_NUCLEAR_NEUTRAL] += e_in - local;
    } else {
        nuclear_event ev;
        if (!fragmentation_sample(&p->radii, r, q->Z, q->A, Zt, At, q->t, &ev)) {
            q->mfp = sample_free_paths(p, r);
            return 1;
        }
        /* Boost of the projectile's rest frame: gamma from the energy per nucleon. */
        double gamma = 1.0 + q->t / p->nucleon_mass[q->Z];
        double beta = sqrt(1.0 - 1.0 / (gamma * gamma));
        double T[NUCLEAR_MAX_PRODUCTS], ang_x[NUCLEAR_MAX_PRODUCTS], ang_y[NUCLEAR_MAX_PRODUCTS];
        double neutron_T = (gamma - 1.0) * NEUTRON_MASS_MEV;
        double side[3];   /* laboratory kinetic energy by origin (enum product_origin) */
        side[FROM_TARGET] = ev.local_mev + ev.neutral_mev;
        /* Spectator neutrons at the beam's velocity plus, for those of a break-up, their
         * motion in the projectile's frame (lab energy (gamma - 1) m + gamma T* + gamma beta
         * p*_z); its fragments' gamma rays, gamma E* on average. */
        double spectator_neutral = ev.spectator_neutrons * neutron_T +
                                   gamma * (ev.spectator_neutron_ke + ev.spectator_photon_mev) +
                                   gamma * beta * ev.spectator_neutron_pz;
        side[FROM_SPECTATOR] = spectator_neutral;
        /* Participants (the fireball's nucleons) are given in the laboratory already. */
        side[FROM_PARTICIPANT] = ev.participant_neutron_mev;
        /* Q-value: binding energy of the projectile less that of its charged pieces, from
         * the AME2020 masses the Fermi break-up uses (physics/fermi_tables.h; beyond them, each
         * charge at its reference isotope's binding per nucleon), and 8 MeV per nucleon
         * knocked out of a target nucleus: the targets of tissue bind 7.68 (C-12), 7.48
         * (N-14) and 7.98 (O-16) MeV per nucleon (AME2020, Wang et al., Chin. Phys. C 45
         * (2021) 030003); one round value serves them all. */
        double Q = nuclear_binding_mev(q->Z, q->A, q->A * p->binding[q->Z]) +
                   (At > 1 ? 8.0 * ev.target_removed : 0.0);
        for (int i = 0; i < ev.n; i++) {
            const nuclear_product *f = &ev.product[i];
            double M = f->A * p->nucleon_mass[f->Z];
            double px = f->px, py = f->py, pz = f->pz, E;
            if (f->origin == FROM_SPECTATOR) {
                double e_rest = sqrt(px * px + py * py + pz * pz + M * M);
                E = gamma * (e_rest + beta * pz);
                pz = gamma * (pz + beta * e_rest);
                Q -= nuclear_binding_mev(f->Z, f->A, f->A * p->binding[f->Z]);
            } else {
                E = sqrt(px * px + py * py + pz * pz + M * M);
            }
            T[i] = E - M;
            side[f->origin] += T[i];
            momentum_angles(px, py, pz, &ang_x[i], &ang_y[i]);
        }
        /* The sampled momenta do not conserve energy by themselves. The Q-value and the target's
         * share are paid by the participants (the fireball's nucleons, which took the collision's
         * energy), whose laboratory energies are scaled to what is left; the spectators keep the
         * beam's velocity. What the participants cannot take (peripheral collisions) is
         * excitation that leaves as photons; what they cannot pay is taken from the spectators,
         * and then from the target's share, by the same scaling. */
        double e_mev = (double)e_in / ENERGY_QUANTA_PER_MEV;
        if (Q < 0.0) Q = 0.0;
        if (Q > e_mev) Q = e_mev;
        double left = e_mev - Q, scale[3] = {1.0, 1.0, 0.0}, photons = 0.0;
        if (side[FROM_TARGET] > left) {
            scale[FROM_TARGET] = side[FROM_TARGET] > 0.0 ? left / side[FROM_TARGET] : 0.0;
            scale[FROM_SPECTATOR] = 0.0;
        } else if (side[FROM_TARGET] + side[FROM_SPECTATOR] > left) {
            scale[FROM_SPECTATOR] = (left - side[FROM_TARGET]) / side[FROM_SPECTATOR];
        } else {
            double rest = left - side[FROM_TARGET] - side[FROM_SPECTATOR];
            if (side[FROM_PARTICIPANT] > rest) scale[FROM_PARTICIPANT] = rest / side[FROM_PARTICIPANT];
            else {
                scale[FROM_PARTICIPANT] = 1.0;
                photons = rest - side[FROM_PARTICIPANT];
            }
        }
        int64_t out = 0;
        for (int i = 0; i < ev.n; i++) {
            const nuclear_product *f = &ev.product[i];
            out += push_secondary(p, s, st, q, f->Z, f->A, scale[f->origin] * T[i], ang_x[i],
                                  ang_y[i]);
        }
        int64_t neutral = energy_quanta(scale[FROM_TARGET] * ev.neutral_mev + photons +
                                        scale[FROM_SPECTATOR] * spectator_neutral +
                                        scale[FROM_PARTICIPANT] * ev.participant_neutron_mev);
        int64_t local = energy_quanta(scale[FROM_TARGET] * ev.local_mev);
        nuclear_deposit(p, s, q->z, local);
        s->ledger[LEDGER_NUCLEAR_NEUTRAL] += neutral;
        /* The Q-value, up to rounding to quanta: what closes the ledger exactly. */
        s->ledger[LEDGER_NUCLEAR_BINDING] += e_in - out - local - neutral;
    }
    s->count[COUNT_REACTIONS]++;
    if (q->id == 0) s->count[COUNT_PRIMARY_REACTED]++;
    q->energy_q = 0;
    q->t = 0.0;
    return 0;
}

/* One condensed-history step. Returns 1 while the particle lives, 0 once it has stopped,
 * reacted or left the geometry. */
static inline BRAGG_HD BRAGG_FORCE_INLINE int transport_step(const transport_params *p, rng *r,
                                                             particle *q, score_sink *s,
                                                             particle_stack *st,
                                                             step_profile *prof)
{
    const slab_geometry *slab = &p->slabs[q->slab];
    const transport_table *tab = slab->table[q->Z];
    double range_cut = slab->range_cut[q->Z];
    /* Density in the reference isotope's range units: its range R_ref = R / a. */
    double rho = slab->density / q->a;

    if (!(q->range > range_cut)) {
        /* Below the cut-off already (e.g. a beam energy under it): leave it here. Written so
         * that a NaN range ends the particle too: tables are checked when built
         * (physics/tables.c), and should one still hold a NaN, a step loop must end rather
         * than spin on NaN-long steps for ever. */
        double let = table_stopping_el(tab, q->t) * slab->density * 0.1;
        int64_t rest = q->energy_q;
        score_point(p, s, particle_channel(q), q->z, rest, let);
        if (q->id == 0) s->count[COUNT_PRIMARY_STOPPED]++;
        transport_end(s, q, LEDGER_BELOW_CUTOFF);
        return 0;
    }

    /* Step length: a fraction of the residual range, not under step_min, not past the
     * cut-off range, not past the slab boundary ahead. */
    int primary = q->id == 0;
    double step = (primary ? p->step_fraction : p->step_fraction_secondary) * q->range / rho;
    double step_min = primary ? p->step_min : p->step_min_secondary;
    if (step < step_min) step = step_min;
    int to_cut = 0, to_boundary = 0, react = 0;
    double to_cut_len = (q->range - range_cut) / rho;
    if (step >= to_cut_len) {
        step = to_cut_len;
        to_cut = 1;
    }
    double dist = INFINITY;
    if (q->w > 0.0) dist = (slab->z_end - q->z) / q->w;
    else if (q->w < 0.0) dist = (slab->z_start - q->z) / q->w;
    if (dist < 0.0) dist = 0.0;
    if (step >= dist) {
        step = dist;
        to_boundary = 1;
        to_cut = 0;
    }

    profile_mark(prof, PROFILE_OTHER);
    uint32_t cell = table_energy_cell(tab, q->t);

    /* Nuclear reaction within the step? The cross-section at the step's start: it changes by
     * well under a percent over a step of a few percent of the range. */
    if (p->nuclear) {
        double mu = table_at(tab, tab->reaction, cell, q->t) * slab->density;   /* 1/cm */
        if (mu * step >= q->mfp) {
            step = q->mfp / mu;
            react = 1;
            to_cut = to_boundary = 0;
            q->mfp = 0.0;
        } else {
            q->mfp -= mu * step;
        }
        profile_mark(prof, PROFILE_NUCLEAR);
    }

    /* Energy loss, in range space. */
    double dR = rho * step;
    double range_new = q->range - dR;
    if (p->straggling && !to_cut && dR > 0.0) {
        double variance = table_at(tab, tab->straggling, cell, q->t) * dR / q->a;
        double stopping = table_at(tab, tab->stopping, cell, q->t);
        profile_mark(prof, PROFILE_STOPPING);
        double g = rng_gauss(r);
        profile_mark(prof, PROFILE_RNG);
        range_new -= sqrt(variance) * g / stopping;
        if (range_new > q->range) range_new = q->range;   /* no energy gain */
        if (range_new <= range_cut) {
            range_new = range_cut;
            to_cut = 1;
            react = 0;   /* it stopped before the reaction point */
        }
        profile_mark(prof, PROFILE_STRAGGLING);
    }
    /* A zero-length step (e.g. on a boundary) keeps its energy exactly: t(R(t)) is only equal
     * to t within interpolation accuracy. */
    double t_new = to_cut ? p->energy_cut : dR > 0.0 ? table_energy(tab, range_new) : q->t;
    int64_t q_new = energy_quanta(q->A * t_new);
    int64_t dq = q->energy_q - q_new;
    if (dq < 0) {   /* rounding at a table edge: never create energy */
        dq = 0;
        q_new = q->energy_q;
    }
    /* The step's mid-point energy and its grid cell: the scattering integrand and the LET are
     * taken there. */
    double t_mid = 0.5 * (q->t + t_new);
    uint32_t cell_mid = table_energy_cell(tab, t_mid);
    profile_mark(prof, PROFILE_RANGE);

    /* Multiple scattering over the step. */
    double ax = 0.0, ay = 0.0, dx = 0.0, dy = 0.0;
    if (p->scattering && dR > 0.0) {
        double path_x0 = q->path_x0 + dR * q->a / tab->radiation_length;
        /* The integrand (z/pv)^2 grows along the step as the particle slows: taken at the
         * step's start it undercounted the step's scattering by about half the rise over the
         * step, 1% in the lateral spread at the default steps. The mid-step energy is second-order
         * accurate. */
        double integrand = table_at(tab, tab->scattering, cell_mid, t_mid);
        double scatter_sum = q->scatter_sum + integrand * dR / q->a;
        double theta2 = highland_theta2(path_x0, scatter_sum);
        double sigma = sqrt(theta2 > q->theta2 ? theta2 - q->theta2 : 0.0);
        q->path_x0 = path_x0;
        q->scatter_sum = scatter_sum;
        q->theta2 = theta2;
        profile_mark(prof, PROFILE_SCATTERING);
        double g1 = rng_gauss(r), g2 = rng_gauss(r), g3 = rng_gauss(r), g4 = rng_gauss(r);
        profile_mark(prof, PROFILE_RNG);
        const double inv_sqrt12 = 0.28867513459481287;
        ax = sigma * g2;
        dx = step * sigma * (g1 * inv_sqrt12 + 0.5 * g2);
        ay = sigma * g4;
        dy = step * sigma * (g3 * inv_sqrt12 + 0.5 * g4);
    }

    /* Move: the chord along the old direction plus the lateral displacement. */
    double e1[3], e2[3];
    double u = q->u, v = q->v, w = q->w;
    deflect(q, ax, ay, e1, e2);
    double x0 = q->x, y0 = q->y, z0 = q->z;
    q->x = x0 + step * u + dx * e1[0] + dy * e2[0];
    q->y = y0 + step * v + dx * e1[1] + dy * e2[1];
    q->z = to_boundary ? (w > 0.0 ? slab->z_end : slab->z_start)
                       : z0 + step * w + dx * e1[2] + dy * e2[2];
    profile_mark(prof, PROFILE_SCATTERING);

    /* The loss rate rises along a step, so the step is scored as two halves, each uniform,
     * sharing dq in the ratio of their CSDA losses: this removes the first-order error of a
     * uniform spread (which biased the peak-to-entrance ratio by -0.7% at 4% steps). */
    double let = table_at(tab, tab->stopping_el, cell_mid, t_mid) * slab->density * 0.1; /* keV/um */
    double xm = 0.5 * (x0 + q->x), ym = 0.5 * (y0 + q->y);
    double path_z = fabs(q->z - z0);
    step_tally tally;
    step_tally_locate(&tally, s, particle_channel(q), w >= FORWARD_COS, primary);
    tally.let_scale = let * LET_QUANTA / ENERGY_QUANTA_PER_MEV;
    tally.let_t_scale = let * LET_T_QUANTA;
    tally.half_r2 = 0.5 * (xm * xm + ym * ym);
    tally.z_per_path = step > 0.0 ? path_z / step : 0.0;
    profile_mark(prof, PROFILE_STOPPING);
    int64_t dq1 = dq / 2;
    if (dR > 0.0 && dq > 1) {
        double t_half = table_energy(tab, q->range - 0.5 * dR);
        /* Without a straggling shift the CSDA end energy is t_new: no second lookup. */
        double t_end = range_new == q->range - dR ? t_new : table_energy(tab, q->range - dR);
        double lost = q->t - t_end;
        if (lost > 0.0) {
            double f = (q->t - t_half) / lost;
            f = f < 0.0 ? 0.0 : f > 1.0 ? 1.0 : f;
            dq1 = (int64_t)((double)dq * f);
        }
    }
    profile_mark(prof, PROFILE_RANGE);
    double zm = 0.5 * (z0 + q->z);
    score_step(p, s, &tally, z0, zm, 0.5 * step, dq1);
    score_step(p, s, &tally, zm, q->z, 0.5 * step, dq - dq1);
    s->ledger[LEDGER_DEPOSITED] += dq;
    s->steps++;
    profile_mark(prof, PROFILE_SCORING);

    q->t = t_new;
    q->energy_q = q_new;
    q->range = range_new;

    if (to_cut) {
        score_point(p, s, particle_channel(q), q->z, q->energy_q, let);
        if (q->id == 0) s->count[COUNT_PRIMARY_STOPPED]++;
        transport_end(s, q, LEDGER_BELOW_CUTOFF);
        profile_mark(prof, PROFILE_SCORING);
        return 0;
    }
    if (fabs(q->x) > p->lateral_halfwidth || fabs(q->y) > p->lateral_halfwidth) {
        transport_end(s, q, LEDGER_ESCAPED_SIDE);
        return 0;
    }
    if (q->z > p->nbins * p->bin_width) {
        /* Past the scoring depth nothing more is scored, and what little could scatter back
         * (fast fragments, at small angles) is not worth following them for. */
        transport_end(s, q, LEDGER_ESCAPED_DEEP);
        return 0;
    }
    if (react) {
        int lives = transport_react(p, r, q, s, st);
        profile_mark(prof, PROFILE_NUCLEAR);
        return lives;
    }
    if (to_boundary) {
        int next = q->slab + (w > 0.0 ? 1 : -1);
        if (next < 0) {
            transport_end(s, q, LEDGER_ESCAPED_BACK);
            return 0;
        }
        if (next >= p->n_slabs) {
            transport_end(s, q, LEDGER_ESCAPED_THROUGH);
            return 0;
        }
        /* The same energy has a different residual range in the next material. */
        q->slab = next;
        q->range = table_range(p->slabs[next].table[q->Z], q->t);
    }
    profile_mark(prof, PROFILE_OTHER);
    return 1;
}

/* Transports primary number `history` and all its secondaries to their ends. Each particle's
 * random numbers come from its own stream (seed, history, particle number), so the result is
 * the same wherever and whenever it runs. With a non-NULL `prof`, the time of every step goes
 * to its components. */
static inline BRAGG_HD BRAGG_FORCE_INLINE void transport_history_profiled(const transport_params *p,
                                                                         uint64_t history,
                                                                         score_sink *s,
                                                                         step_profile *prof)
{
    if (prof) prof->last = profile_clock();
    rng r;
    rng_init(&r, p->seed, history, 0);
    particle_stack st;
    st.n = 0;
    st.next_id = 1;
    particle q;
    transport_start(p, &r, &q, s);
    profile_mark(prof, PROFILE_OTHER);
    /* The primary, then the secondaries last in first out. One call site of the step, which is
     * inlined: with prof NULL (transport_history) every profile_mark folds away. */
    for (;;) {
        while (transport_step(p, &r, &q, s, &st, prof)) {
        }
        if (st.n == 0) break;
        q = st.item[--st.n];
        rng_init(&r, p->seed, history, q.id);
        q.mfp = sample_free_paths(p, &r);
        profile_mark(prof, PROFILE_NUCLEAR);
    }
}

static inline BRAGG_HD void transport_history(const transport_params *p, uint64_t history,
                                              score_sink *s)
{
    transport_history_profiled(p, history, s, (step_profile *)0);
}

#endif
