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
 *     correlated lateral displacement, y = s theta0 (z1/sqrt(12) + z2/2), theta = theta0 z2
 *     (PDG 2022, eq. 34.20) when the scattering power is uniform over the step, with the
 *     Fermi-Eyges moments of a power that rises linearly along it otherwise (step_scatter).
 * The energy lost is spread over the depth bins the step crosses with a density that rises
 * linearly along the step, as the loss rate does (its two halves' CSDA losses fix the slope),
 * and the LET and z1D* that weight it vary linearly too (start and mid-step values): no step
 * length leaves a sawtooth in the dose or the LET of beams whose steps begin at equal depths.
 *
 * Nuclear reactions (when on): every particle carries the number of mean free paths left before
 * its next reaction, drawn as -ln(U) when it starts; a step uses up Sigma(t) rho s of them and
 * is cut short where they run out. There the step says STEP_REACT, and transport_react (with
 * physics/fragmentation.h) says what comes out; charged products are written to a bank of
 * particles (physics/particle_bank.h): the history's stack in the history loop below, the event
 * loop's next generation in physics/event.h. Each product has its own random stream, whose id
 * follows from its parent's and its place among the products (physics/random.h), so the result
 * is independent of threads, devices and the order particles are processed in. Secondaries of
 * charge Z use the tables of that charge's reference isotope: ranges scale with the mass
 * number, a = A / A_ref, at equal energy per nucleon; a particle carries its range in the
 * reference isotope's units.
 *
 * Dose map (when asked for: map_bins > 0): every energy share a step piece or a point deposit
 * adds to depth bin i also goes to exactly one lateral bin of that depth bin, the bin of the
 * piece's middle on the step's path (tally_xy; r = sqrt(x^2 + y^2) for MAP_RZ, x for MAP_XZ),
 * the last lateral bin collecting everything beyond the grid. The map is map_bins more curves
 * after the channels' (CURVE_MAP), each a depth curve in second-difference form, so a piece
 * over many depth bins is still one ramp (four adds), and the map is merged, summed and packed wherever the
 * curves are: its lateral sum equals the total depth-dose curve integer for integer. The step's
 * path, which only primaries need for the lateral sum, is then built for every particle's step.
 *
 * Phase space (when the sink has a buffer, CPU backends): every step that crosses the plane
 * z = ps_depth, forwards or backwards, writes the particle where it crossed (phase_space_record).
 *
 * A run without a map or a phase space scores neither and pays a test or two per step: their
 * code is out of line (BRAGG_NOINLINE) and called with values, and score_step jumps to its
 * instantiation with the map (score_step_mapped) only when there is one. The inlined
 * alternatives cost the plain step 2-3% of its instructions in registers spilled (callgrind,
 * p 150 MeV).
 *
 * The step is cut into named stages (step_limit, step_energy_loss, step_scatter, step_score,
 * step_finish), each a static inline function over a step_state; transport_step runs them in
 * order, and both loop shapes call transport_step.
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
#include "icru63.h"
#include "particle_bank.h"
#include "random.h"
#include "tables.h"

#define TRANSPORT_MAX_SLABS 16
#define TRANSPORT_MAX_Z     26     /* heaviest projectile charge (Fe) */
/* Secondaries waiting in one history of the history loop. A reaction of a nucleus of A nucleons
 * makes at most 2A + 1 charged products (each projectile nucleon ends in at most one piece, and
 * at most as many target nucleons as projectile ones, plus one, are knocked out: fragmentation.h),
 * so a waiting list of 256 holds several generations of carbon or oxygen fragments at once; a
 * product that finds it full is deposited on the spot and counted (COUNT_STACK_FULL), which
 * would make the history loop differ from the event loop, and the tests check it stays 0. */
#define TRANSPORT_STACK     256
#define TRANSPORT_MAX_CHANNELS (TRANSPORT_MAX_Z + 2)
#define FORWARD_COS         0.98480775301220806   /* cos 10 degrees */

/* Fixed-point scales of the scored quantities (see "integer quanta" above). */
#define ENERGY_QUANTA_PER_MEV   16777216.0     /* 2^24 */
/* 2^22 per MeV * keV/um, and 2^30 per cm * keV/um for LET_t: a 150 MeV proton's deposit in a
 * 20 um bin of water (0.011 MeV at 0.55 keV/um) is about 25 000 of them, and its track there
 * 1.2 million, so the ramps of the LET sums across a step (score_piece) keep their slopes.
 * 2^10 made the deposit's sum about 30 in a 0.1 mm bin, and 2^20 the track's 1 150 in a 20 um
 * bin; both rounded the slope over a step's bins to 0, and LET_d and LET_t were sawtooths of
 * +-5% and +-3% about each other (LET_d 1.45 times LET_t in 2 um bins). Air, 800
 * times thinner, still leaves them a few quanta a bin: a +-5% sawtooth in its 2 cm bins. The
 * job size (engine.c, max_job_histories) keeps the int64 sums from overflowing: 117 000 C-12
 * histories of 400 MeV/u in water a job (the track bound alone allows 195 000), 690 of Fe-56 of
 * 1 GeV/u in lead. */
#define LET_QUANTA              4194304.0
#define TRACK_QUANTA_PER_CM     4294967296.0   /* 2^32 */
/* 2^30 per cm^3 of track length * r^2 / 2: fine enough that the lateral sum's ramp across a
 * step (score_piece) keeps its slope in 0.1 mm bins near the axis, where a history adds a few
 * 1e-7 cm^3 per bin (2^20 rounded those slopes to 0 and drew the spread as a staircase). */
#define LATERAL_QUANTA_PER_CM3  1073741824.0
#define LET_T_QUANTA            1073741824.0   /* 2^30 per cm * keV/um (above) */
#define Z1D_QUANTA              65536.0        /* 2^16 per MeV * Gy (z1D*, below 100 Gy) */

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
    COUNT_STACK_FULL,        /* secondaries deposited on the spot for want of room (never
                                seen: see TRANSPORT_STACK) */
    COUNT_HYDROGEN_ELASTIC,  /* protons scattered elastically on hydrogen (proton_hydrogen_
                                elastic; not counted among the reactions) */
    COUNT_PRIMARY_HYDROGEN_ELASTIC,   /* primaries among them (which end there: both protons
                                         that leave are secondaries) */
    COUNT_NUCLEUS_ELASTIC,   /* protons scattered elastically on a nucleus beyond 5 degrees, or
                                beyond where a step's multiple scattering reaches in heavier
                                materials (proton_nucleus_elastic; not among the reactions) */
    COUNT_PRIMARY_NUCLEUS_ELASTIC,    /* primaries among them (which go on as secondaries) */
    COUNT_COUNT
};

/* The scored depth curves, each nbins + 1 integers, kept as differences while scoring: second
 * differences for the curves a step adds ramps to (curve_is_ramp: energy and everything weighted
 * by it, the LET-weighted track, the lateral sum, the map), first differences for track length
 * and forward fluence, which are uniform along a straight step. Channel c: 0 = the primaries,
 * 1..z_max = secondaries of that charge, z_max + 1 = local deposits of nuclear reactions (target
 * fragments); the secondary deuterons' and tritons' energy is kept apart from channel 1's
 * (CURVE_DOSE_DT). */
enum curve_index {
    CURVE_LET_D,             /* protons': sum of edep[MeV] * LET[keV/um] * LET_QUANTA */
    CURVE_LET_T,             /* sum of track[cm] * LET * LET_T_QUANTA, all charged particles */
    CURVE_LATERAL,           /* primaries: track * (x^2 + y^2)/2, LATERAL_QUANTA_PER_CM3; in
                                second-difference form while scoring (score_ramp) */
    CURVE_Z1D,               /* sum of edep[MeV] * z1D*[Gy] * Z1D_QUANTA (the MKM's specific
                                energy, when params.score_z1d; else 0) */
    CURVE_LET_D_OTHER,       /* CURVE_LET_D of every other charged particle: the LET_d of all
                                is the two's sum over the dose, the protons' (what the proton
                                RBE models read) CURVE_LET_D over the protons' dose */
    CURVE_DOSE_DT,           /* energy quanta of secondary deuterons and tritons: channel 1's
                                dose is CURVE_DOSE(1) and this, its protons' CURVE_DOSE(1) alone
                                (a pointer swap per step: +0.7% instructions per C-12 history;
                                a second add per piece into a separate curve cost +1.6%) */
    CURVE_CHANNELS           /* then three per channel: */
};
#define CURVE_DOSE(c)    (CURVE_CHANNELS + 3 * (c))       /* energy quanta */
#define CURVE_TRACK(c)   (CURVE_CHANNELS + 3 * (c) + 1)   /* track length, TRACK_QUANTA_PER_CM */
#define CURVE_FORWARD(c) (CURVE_CHANNELS + 3 * (c) + 2)   /* depth travelled within 10 degrees
                                                             of +z: crossings of a depth plane */
#define CURVE_COUNT(channels) (CURVE_CHANNELS + 3 * (channels))
/* Lateral bin j of the dose map: energy quanta of all channels (see "Dose map" above). */
#define CURVE_MAP(channels, j) (CURVE_COUNT(channels) + (j))

/* 1 when curve k is kept as second differences while scoring (the enum's comment), 0 when as
 * first differences: score_arrays_finish sums it up twice or once. */
static inline BRAGG_HD int curve_is_ramp(int k, int channels)
{
    if (k < CURVE_CHANNELS) return 1;   /* LET_D, LET_T, LATERAL, Z1D, LET_D_OTHER, DOSE_DT */
    if (k < CURVE_COUNT(channels)) return (k - CURVE_CHANNELS) % 3 == 0;   /* CURVE_DOSE */
    return 1;                           /* CURVE_MAP */
}

/* The dose map's lateral coordinate. */
enum map_kind {
    MAP_NONE,                /* no map (map_bins 0) */
    MAP_RZ,                  /* radius from the beam axis: bins [j dr, (j+1) dr) */
    MAP_XZ                   /* x, over y: bins [-half + j dx, -half + (j+1) dx) */
};

typedef struct slab_geometry {
    double z_start, z_end;            /* cm; the last slab may end at +infinity */
    double density;                   /* g/cm^3 */
    /* The LET_d sums weigh this slab's deposits' LET by let_weight, a power of two: 1 at 0.5
     * g/cm^3 and above, below that the one that takes density times it to 0.5-1 (512 in air),
     * so that a bin of a gas holds about as many quanta as one of water. Unweighted, a bin of
     * air got under one quantum of a proton's LET sum, and the LET_d across an air gap came out
     * 29% low. The bins holding the slab's ends (let_edge_bin: at or before [0], at or after
     * [1]) may take a neighbouring slab's deposits too; there the weight is the least of
     * theirs, let_edge_factor times let_weight, so that every bin has one weight
     * (transport_let_bin_weights), which score_result_compute divides out. Set by
     * transport_set_let_weights. */
    double let_weight;
    int let_edge_bin[2];
    double let_edge_factor[2];
    int let_edges;                    /* 0 when both factors are 1: no bin to look up */
    /* By charge Z (1..z_max): the tables of that charge's reference isotope (the primary
     * itself for its own charge), and the CSDA range at the cut-off energy, g/cm^2. */
    const transport_table *table[TRANSPORT_MAX_Z + 1];
    double range_cut[TRANSPORT_MAX_Z + 1];
} slab_geometry;

typedef struct transport_params {
    /* beam */
    int Z, A;                         /* primary's charge and mass number */
    /* The highest charge with tables: Z, or 2 for a beam of charge 1 with nuclear reactions,
     * whose protons' reactions emit alphas (ICRU Report 63); heavier products are deposited on
     * the spot. */
    int z_max;
    double energy;                    /* MeV/u */
    double energy_spread;             /* relative sigma */
    double spot_sigma;                /* cm, per transverse axis */
    double divergence_sigma;          /* rad, per transverse plane */
    uint64_t seed;
    /* geometry */
    int n_slabs;
    slab_geometry slabs[TRANSPORT_MAX_SLABS];
    double lateral_halfwidth;         /* cm; INFINITY for laterally infinite slabs */
    /* The lateral sum counts a primary at most this far from the axis (cm): 10 cm plus six
     * sigma of the beam's spot and divergence over the grid, twenty sigma of multiple scattering
     * beyond anything met; it bounds the sum so that int64 jobs of useful size cannot
     * overflow (src/engine/engine.c, max_job_histories). */
    double lateral_cap;
    /* Quanta of the lateral sum per cm^3: LATERAL_QUANTA_PER_CM3 times the power of two that
     * keeps lateral_cap^2 times it under 100 cm^2 x LATERAL_QUANTA_PER_CM3, the bound's budget
     * (src/engine/engine.c). A short range's radii are microns: p 1 MeV's sum was under a
     * thousandth of a quantum per bin and its lateral spread read 0 everywhere. */
    double lateral_quanta;
    /* physics */
    double step_fraction;             /* of the residual range */
    double step_min;                  /* cm */
    /* Secondaries: their dose is spread over centimetres, so their steps may be longer than
     * the primary's, which must place the Bragg peak to 0.05 mm (docs/physics.md). */
    double step_fraction_secondary, step_min_secondary;
    double energy_cut;                /* MeV/u */
    int straggling, scattering, nuclear;
    int score_z1d;                    /* the tables' z1D* columns are filled: score CURVE_Z1D */
    int ref_A[TRANSPORT_MAX_Z + 1];               /* reference isotope of each charge */
    double nucleon_mass[TRANSPORT_MAX_Z + 1];     /* its rest mass per nucleon, MeV */
    double binding[TRANSPORT_MAX_Z + 1];          /* its binding energy per nucleon, MeV */
    nuclear_radii radii;                          /* abrasion radii by mass number */
    int max_products;                 /* charged products one reaction can make: 2A + 1, and
                                         at least ICRU63_MAX_PRODUCTS with reactions on */
    /* scoring grid */
    int channels;                     /* primary, charges 1..z_max, nuclear local: z_max + 2 */
    int nbins;
    double bin_width, inv_bin_width;  /* cm */
    /* dose map: map_bins lateral bins (0: no map), the last one collecting all beyond */
    int map_kind;                     /* enum map_kind */
    int map_bins;
    double map_half;                  /* MAP_XZ: the bins span x in [-map_half, map_half) */
    double map_inv_width;             /* 1 / lateral bin width, 1/cm */
    /* phase space: the plane z = ps_depth (cm), recorded when the sink has a buffer */
    double ps_depth;
} transport_params;

/* Curves a run scores: the channels' and the map's (the length of a score array's curves). */
static inline BRAGG_HD int transport_curve_count(const transport_params *p)
{
    return CURVE_COUNT(p->channels) + p->map_bins;
}

/* Where a history adds its scores: a ledger, counters and the depth curves (enum curve_index),
 * curve k at curves + k * stride, kept as differences (nbins + 1 entries; element i holds
 * value[i] - value[i-1]) so that a step adds the same amount to any number of bins in O(1);
 * score_arrays_finish() in src/engine/score.h turns them into values by a prefix sum after the batch. */
typedef struct phase_space_point phase_space_point;

typedef struct score_sink {
    int64_t *curves;
    int stride;           /* nbins + 1 */
    int64_t ledger[LEDGER_COUNT];
    uint64_t count[COUNT_COUNT];
    uint64_t steps;
    /* Crossings of the phase-space plane: NULL when none is asked for. Slots [0, ps_capacity);
     * ps_count counts every crossing, so ps_count > ps_capacity says some found no slot. On
     * the GPU every thread's sink shares one buffer, and ps_shared (device memory) is the
     * count its crossings take their slots from, atomically (cuda/cuda_transport.cu). */
    phase_space_point *ps;
    uint32_t ps_count, ps_capacity;
    uint32_t *ps_shared;
} score_sink;

/* A particle crossing the phase-space plane z = ps_depth. */
struct phase_space_point {
    uint64_t history, id;     /* its stream's history and id (physics/random.h): who it is */
    double x, y;              /* cm, where it crossed */
    double u, v, w;           /* direction there (the tangent of the step's path) */
    double ekin;              /* kinetic energy there, MeV (all nucleons) */
    int Z, A;
};

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

/* An interval between two marks longer than this (about 100 us of a 2.5 GHz counter; the
 * longest real one, a carbon fragmentation's sampling, takes a few us) is the host thread
 * being descheduled, not work: charged, one such interval on a loaded machine outweighed a
 * whole component's share of the sampled histories. Not applied on the GPU, whose clock64
 * intervals include the other warps' turns by construction. */
#define PROFILE_PREEMPTED_TICKS (1u << 18)

/* Charges the time since the last mark to component c (nothing when prof is NULL, which the
 * compiler folds away in the unprofiled specialisation). */
static inline BRAGG_HD void profile_mark(step_profile *prof, int c)
{
    if (prof) {
        uint64_t now = profile_clock();
        uint64_t dt = now - prof->last;
#if !defined(__CUDA_ARCH__)
        if (dt > PROFILE_PREEMPTED_TICKS) dt = 0;
#endif
        prof->cycles[c] += dt;
        prof->marks[c]++;
        prof->last = now;
    }
}

/* A particle (physics/particle_bank.h) is the primary when its stream is the history's first. */
static inline BRAGG_HD int particle_is_primary(const particle *q)
{
    return rng_id(&q->r) == 0;
}

static inline BRAGG_HD int64_t energy_quanta(double mev)
{
    return (int64_t)(mev * ENERGY_QUANTA_PER_MEV + 0.5);
}

#if defined(__CUDACC__)
/* 1 (set by the CUDA backend, cuda/cuda_transport.cu) to add the scores of the lanes of a warp
 * that hit the same cell as one atomic add: particles started together move together, and
 * lanes adding to one address serialise their atomics in the L2 cache. */
static __constant__ int device_score_aggregate;

/* The lanes adding to `cell` sum their values (shuffles among them) and one of them adds. */
static __device__ __forceinline__ void score_add_warp(int64_t *cell, int64_t v)
{
    unsigned active = __activemask();
    unsigned peers = __match_any_sync(active, (unsigned long long)cell);
    int lane = threadIdx.x & 31, leader = __ffs(peers) - 1;
    long long sum = 0;
    for (unsigned rest = peers; rest; rest &= rest - 1)
        sum += __shfl_sync(peers, (long long)v, __ffs(rest) - 1);
    if (lane == leader) atomicAdd((unsigned long long *)cell, (unsigned long long)sum);
}
#endif

/* Adds v to one cell: a plain add into a thread's own arrays on the CPU, an integer atomic add
 * on the GPU, where all threads share one set of arrays (integer sums: any order gives the
 * same result). */
static inline BRAGG_HD void score_add(int64_t *cell, int64_t v)
{
#if defined(__CUDA_ARCH__)
    if (device_score_aggregate) {
        score_add_warp(cell, v);
        return;
    }
    atomicAdd((unsigned long long *)cell, (unsigned long long)v);
#else
    *cell += v;
#endif
}

/* Adds v to bins [a, b] of a curve kept as first differences (track, forward fluence). */
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
    int64_t *let_d, *let_t;   /* let_d: the protons' curve or the others' */
    int64_t *lateral;         /* primaries only, else NULL */
    int64_t *z1d;             /* when the MKM is scored, else NULL */
    const slab_geometry *slab;  /* where the step is: the LET_d weights of its end bins */
    int let_edges;              /* its let_edges */
    /* The weights at the step's middle and their change over the whole step (d/df, f the
     * fraction of the step): LET and z1D* vary linearly along it. */
    double let_scale, let_scale_df;     /* LET * let_weight * LET_QUANTA / ENERGY_QUANTA_PER_MEV */
    double z1d_scale, z1d_scale_df;     /* z1D* * Z1D_QUANTA / ENERGY_QUANTA_PER_MEV */
    double let_t_scale, let_t_scale_df; /* LET * LET_T_QUANTA */
    /* The step's path, for the lateral position at any depth inside it: the cubic Hermite curve
     * from (x0, y0) to (x1, y1) that leaves along the start direction and arrives along the end
     * direction (ds: step length times the direction cosines), parametrised by the fraction
     * f = (z - z0) inv_dz of the step's depth. Consecutive steps join with the same position and
     * direction, so the lateral sum has no kinks at step boundaries. A step that does not
     * advance in depth has inv_dz = 0 (its start position for all of it). Set for primaries,
     * and for every particle in a run with a dose map or a phase space (step_score). */
    double lat_x[4], lat_y[4];   /* the curve's coefficients of 1, f, f^2, f^3 */
    double lat_z0, lat_inv_dz;
    double lat_cap;           /* lateral_cap^2 / 2 */
    double lat_quanta;        /* lateral_quanta */
    double z_per_path;        /* |dz| / path */
} step_tally;

/* The map's lateral bin of a deposit at (x, y): the last bin when beyond the grid (or NaN).
 * sqrt is correctly rounded on the CPU and the GPU alike, so both find the same bin. */
static inline BRAGG_HD int map_bin(const transport_params *p, double x, double y)
{
    double u = p->map_kind == MAP_XZ ? (x + p->map_half) * p->map_inv_width
                                     : sqrt(x * x + y * y) * p->map_inv_width;
    int last = p->map_bins - 1;
    return u >= 0.0 && u < (double)last ? (int)u : last;
}

/* The integer nearest x, ties away from zero: the same rounding on every device. */
static inline BRAGG_HD int64_t round_quanta(double x)
{
    return (int64_t)(x < 0.0 ? x - 0.5 : x + 0.5);
}

/* The curve of a deposit in `channel` by a particle of mass number A (CURVE_DOSE_DT for a
 * secondary deuteron or triton). */
static inline BRAGG_HD int dose_curve(int channel, int A)
{
    return channel == 1 && A > 1 ? CURVE_DOSE_DT : CURVE_DOSE(channel);
}

/* The LET_d numerator of a particle of charge Z and mass number A: the protons' or the others'. */
static inline BRAGG_HD int let_d_curve(int Z, int A)
{
    return Z == 1 && A == 1 ? CURVE_LET_D : CURVE_LET_D_OTHER;
}

/* Points k at the curves of `channel` for a particle of charge Z and mass number A, the forward
 * fluence if `forward`, the lateral sum if `primary`, the z1D* sum if `z1d`. */
static inline BRAGG_HD void step_tally_locate(step_tally *k, const score_sink *s, int channel,
                                              int Z, int A, int forward, int primary, int z1d)
{
    k->dose = sink_curve(s, dose_curve(channel, A));
    k->track = sink_curve(s, CURVE_TRACK(channel));
    k->forward = forward ? sink_curve(s, CURVE_FORWARD(channel)) : (int64_t *)0;
    k->let_d = sink_curve(s, let_d_curve(Z, A));
    k->let_t = sink_curve(s, CURVE_LET_T);
    k->lateral = primary ? sink_curve(s, CURVE_LATERAL) : (int64_t *)0;
    k->z1d = z1d ? sink_curve(s, CURVE_Z1D) : (int64_t *)0;
}

#define LATERAL_RAMP_MIN 16
#define LATERAL_RAMP_MAX 64

/* Adds the ramp v0 + slope (i - a) to bins [a, b] of a curve kept as second differences (its
 * values are the prefix sum of the prefix sum): four adds whatever the number of bins. Adds
 * beyond the curve's last entry (`stride` entries) are dropped: they change only values past the
 * scoring grid. Always inlined: left to itself, gcc 12 called it out of line from score_step
 * 445 times per C-12 history (158 before) once the elastic scattering on nuclei came in
 * (callgrind; forced inline: C-12 139.4 k -> 132.6 k and p 150 MeV 102.4 k -> 97.3 k
 * instructions per history, -5%). */
static inline BRAGG_HD BRAGG_FORCE_INLINE void score_ramp(int64_t *curve, int stride, int a,
                                                          int b, int64_t v0, int64_t slope)
{
    int64_t n = (int64_t)b - a + 1;
    score_add(&curve[a], v0);
    if (a + 1 < stride) score_add(&curve[a + 1], slope - v0);
    if (b + 1 < stride) score_add(&curve[b + 1], -v0 - slope * n);
    if (b + 2 < stride) score_add(&curve[b + 2], v0 + slope * (n - 1));
}

/* The particle's lateral position (x, y) at depth z on the step's path: the one place that
 * says where a particle is inside a step, for the lateral sum and the dose map alike. */
static inline BRAGG_HD void tally_xy(const step_tally *k, double z, double *x, double *y)
{
    double f = (z - k->lat_z0) * k->lat_inv_dz;
    f = f < 0.0 ? 0.0 : f > 1.0 ? 1.0 : f;
    *x = ((k->lat_x[3] * f + k->lat_x[2]) * f + k->lat_x[1]) * f + k->lat_x[0];
    *y = ((k->lat_y[3] * f + k->lat_y[2]) * f + k->lat_y[1]) * f + k->lat_y[0];
}

/* (x^2 + y^2) / 2 at depth z on the step's path, capped (lateral_cap). */
static inline BRAGG_HD double tally_half_r2(const step_tally *k, double z)
{
    double x, y;
    tally_xy(k, z, &x, &y);
    double h = 0.5 * (x * x + y * y);
    return h < k->lat_cap ? h : k->lat_cap;
}

/* A weight that varies linearly along the step, at fraction f: never below 0 (the LET falls
 * along a step only below the stopping-power maximum, where a step's end could extrapolate it
 * past zero). */
static inline BRAGG_HD double tally_weight(double mid, double df, double f)
{
    double v = mid + df * (f - 0.5);
    return v > 0.0 ? v : 0.0;
}

/* The depth bins [lo, hi] that slab s holds some depth of, found as segment_bins and
 * score_step_body find a step's bins (a slab that ends on a bin's lower edge leaves that bin
 * only the rounding's last quanta of a step's deposit); 0 when it starts past the grid. */
static inline int transport_slab_bins(const transport_params *p, int s, int *lo, int *hi)
{
    const slab_geometry *g = &p->slabs[s];
    double depth_max = p->nbins * p->bin_width;
    if (!(g->z_start < depth_max)) return 0;
    *lo = g->z_start > 0.0 ? (int)(g->z_start * p->inv_bin_width) : 0;
    if (g->z_end < depth_max) {
        *hi = (int)(g->z_end * p->inv_bin_width);
        if (*hi > *lo && *hi * p->bin_width >= g->z_end) (*hi)--;
    } else {
        *hi = p->nbins - 1;
    }
    if (*hi >= p->nbins) *hi = p->nbins - 1;
    if (*lo > *hi) *lo = *hi;
    return 1;
}

/* The weight of bin i's LET_d sums (slab_geometry): the least let_weight of the slabs that
 * score there. */
static inline double transport_let_bin_weight(const transport_params *p, int i)
{
    double w = 0.0;
    for (int s = 0; s < p->n_slabs; s++) {
        int lo, hi;
        if (transport_slab_bins(p, s, &lo, &hi) && lo <= i && i <= hi &&
            (w == 0.0 || p->slabs[s].let_weight < w))
            w = p->slabs[s].let_weight;
    }
    return w > 0.0 ? w : 1.0;
}

/* Sets the slabs' LET_d weights and their end bins' factors (slab_geometry), once the slabs'
 * depths, densities and the grid are known. */
static inline void transport_set_let_weights(transport_params *p)
{
    for (int s = 0; s < p->n_slabs; s++) {
        double w = 1.0;
        while (w * p->slabs[s].density < 0.5 && w < 0x1p30) w *= 2.0;
        p->slabs[s].let_weight = w;
    }
    for (int s = 0; s < p->n_slabs; s++) {
        slab_geometry *g = &p->slabs[s];
        int lo, hi;
        g->let_edge_bin[0] = -1;
        g->let_edge_bin[1] = 0x7fffffff;
        g->let_edge_factor[0] = g->let_edge_factor[1] = 1.0;
        g->let_edges = 0;
        if (!transport_slab_bins(p, s, &lo, &hi)) continue;
        g->let_edge_bin[0] = lo;
        g->let_edge_bin[1] = hi;
        g->let_edge_factor[0] = transport_let_bin_weight(p, lo) / g->let_weight;
        g->let_edge_factor[1] = transport_let_bin_weight(p, hi) / g->let_weight;
        g->let_edges = g->let_edge_factor[0] != 1.0 || g->let_edge_factor[1] != 1.0;
    }
}

/* The factor on slab s's LET_d weight in bin i (slab_geometry): its end bins' own, 1 between. */
static inline BRAGG_HD double let_edge_factor(const slab_geometry *s, int i)
{
    return i <= s->let_edge_bin[0] ? s->let_edge_factor[0]
           : i >= s->let_edge_bin[1] ? s->let_edge_factor[1] : 1.0;
}

/* The weight of each depth bin's LET_d sums (p->nbins values into w), as the steps give it:
 * 1 where no slab scores. */
static inline void transport_let_bin_weights(const transport_params *p, double *w)
{
    for (int i = 0; i < p->nbins; i++) w[i] = 1.0;
    for (int s = 0; s < p->n_slabs; s++) {
        int lo, hi;
        if (!transport_slab_bins(p, s, &lo, &hi)) continue;
        for (int i = lo; i <= hi; i++)
            w[i] = p->slabs[s].let_weight * let_edge_factor(&p->slabs[s], i);
    }
}

/* Adds to bins [a, b] of a second-difference curve the ramp through v0 at a and v1 at b (the
 * values a weight times a share has there): the integer slope nearest, and the first value that
 * keeps the ramp's sum nearest theirs. */
static inline BRAGG_HD BRAGG_FORCE_INLINE void score_ramp_between(int64_t *curve, int stride,
                                                                  int a, int b, double v0,
                                                                  double v1)
{
    if (a == b) {
        score_ramp(curve, stride, a, a, round_quanta(v0), 0);
        return;
    }
    int64_t slope = round_quanta((v1 - v0) / (double)(b - a));
    score_ramp(curve, stride, a, b, round_quanta(0.5 * (v0 + v1) - 0.5 * (double)slope * (b - a)),
               slope);
}

/* One piece of a step: energy quanta `share` + `slope` (i - a) in bins i of [a, b], and `seg`
 * cm of track in each; f is the step's fraction at bin a's middle and df its change per bin (the
 * LET, LET-weighted track and z1D* there, tally_weight). With a dose map (`map`, its first
 * curve; a constant NULL in the instantiation without, which folds the branch and zm away) the
 * whole piece also goes to the lateral bin of the step's path at the piece's middle depth zm.
 * (The lateral sum is not here: score_lateral takes it once per step.)
 *
 * The weighted deposits (LET, z1D*) are a rising density times a rising weight, a parabola
 * along the step: each bin's value at its middle misses the product of the two slopes over the
 * bin, `bend` = ds du^3 / 12 per unit of the weight's slope (du the bin's share of the step, ds
 * the density's slope, score_step_body), and a run's straight ramp through its end bins lies
 * above the parabola by slope dw (n - 1)(n - 2) / 6 per bin (dw the weight's change per bin).
 * Both are added back, so the bins hold the step's exact weighted sum: without them a step to
 * the cut-off of 0.5 mm over 1 um bins put 10% too much LET into the curve. */
static inline BRAGG_HD BRAGG_FORCE_INLINE void score_piece(const transport_params *p,
                                                           const step_tally *k, int64_t *map,
                                                           int stride, int a, int b,
                                                           int64_t share, int64_t slope,
                                                           double seg, double f, double df,
                                                           double zm, double bend)
{
    score_ramp(k->dose, stride, a, b, share, slope);
    if (map) {
        double x, y;
        tally_xy(k, zm, &x, &y);
        score_ramp(map + (size_t)map_bin(p, x, y) * stride, stride, a, b, share, slope);
    }
    double n1 = (double)(b - a);
    double f1 = f + df * n1, last = (double)share + (double)slope * n1;
    double fix = bend - (double)slope * df * n1 * (n1 - 1.0) * (1.0 / 6.0);
    double let_fix = fix * k->let_scale_df;
    double v0 = (double)share * tally_weight(k->let_scale, k->let_scale_df, f) + let_fix;
    double v1 = last * tally_weight(k->let_scale, k->let_scale_df, f1) + let_fix;
    /* A run of whole bins lies inside the slab, clear of its end bins: weight factor 1. */
    if (k->let_edges && a == b) {
        double edge = let_edge_factor(k->slab, a);
        v0 *= edge;
        v1 *= edge;
    }
    score_ramp_between(k->let_d, stride, a, b, v0, v1);
    score_bins(k->track, a, b, (int64_t)(seg * TRACK_QUANTA_PER_CM + 0.5));
    score_ramp_between(k->let_t, stride, a, b,
                       seg * tally_weight(k->let_t_scale, k->let_t_scale_df, f),
                       seg * tally_weight(k->let_t_scale, k->let_t_scale_df, f1));
    if (k->forward)
        score_bins(k->forward, a, b, (int64_t)(seg * k->z_per_path * TRACK_QUANTA_PER_CM + 0.5));
    if (k->z1d) {
        double z1d_fix = fix * k->z1d_scale_df;
        score_ramp_between(k->z1d, stride, a, b,
                           (double)share * tally_weight(k->z1d_scale, k->z1d_scale_df, f) + z1d_fix,
                           last * tally_weight(k->z1d_scale, k->z1d_scale_df, f1) + z1d_fix);
    }
}

/* The lateral sum of `seg` cm of track in bin i at depth z (its share's middle): the value in
 * second-difference form. */
static inline BRAGG_HD BRAGG_FORCE_INLINE void score_lateral_bin(const step_tally *k, int stride,
                                                                 int i, double seg, double z)
{
    score_ramp(k->lateral, stride, i, i,
               (int64_t)(tally_half_r2(k, z) * seg * k->lat_quanta + 0.5), 0);
}

/* The lateral sum of `seg` cm of track in each of the whole bins [a, b] (a < b) of width w, the
 * first's middle at depth za: a ramp between the radii at the ends of each run of bins, on the
 * step's path. r^2 grows as z^3 near the entrance, and one straight line over a whole
 * half-step bent the spread at every half-step's end; runs of a twentieth of the depth (16 to
 * 64 bins) keep a straight line's sag below what 20 000 histories resolve (runs of 32 bins at
 * 1.2 cm still bent the spread measurably, tests/unit/test_transport.c,
 * lateral_spread_has_no_steps). */
static inline BRAGG_HD void score_lateral_run(const step_tally *k, int stride, int a, int b,
                                              double seg, double za, double w)
{
    double scale = seg * k->lat_quanta;
    int run = (int)(0.05 * za / w);
    run = run < LATERAL_RAMP_MIN ? LATERAL_RAMP_MIN : run > LATERAL_RAMP_MAX ? LATERAL_RAMP_MAX : run;
    int64_t first = (int64_t)(tally_half_r2(k, za) * scale + 0.5);
    for (int from = a; from <= b; from += run) {
        int to = from + run - 1 < b ? from + run - 1 : b;
        int64_t slope = 0;
        if (to > from) {
            int64_t last = (int64_t)(tally_half_r2(k, za + (to - a) * w) * scale + 0.5);
            /* Rounded to the nearest integer, ties away from zero, the same everywhere. */
            double per = (double)(last - first) / (double)(to - from);
            slope = (int64_t)(per < 0.0 ? per - 0.5 : per + 0.5);
        }
        score_ramp(k->lateral, stride, from, to, first, slope);
        if (to < b) first = (int64_t)(tally_half_r2(k, za + (to + 1 - a) * w) * scale + 0.5);
    }
}

/* The depth bins a segment [za, zb] (za < zb) covers inside the grid: [lo, hi] clipped to the
 * grid, first and last bins i0 <= i1. 0 when it lies outside. */
static inline BRAGG_HD int segment_bins(const transport_params *p, double za, double zb,
                                        double *lo, double *hi, int *i0, int *i1)
{
    double depth_max = p->nbins * p->bin_width;
    *lo = za > 0.0 ? za : 0.0;
    *hi = zb < depth_max ? zb : depth_max;
    if (!(*hi > *lo)) return 0;
    *i0 = (int)(*lo * p->inv_bin_width);
    *i1 = (int)(*hi * p->inv_bin_width);
    if (*i1 >= p->nbins) *i1 = p->nbins - 1;
    if (*i0 > *i1) *i0 = *i1;
    return 1;
}

/* The lateral sum of a primary's whole step from depth z0 to z1 (`length` cm of path): the
 * track in each bin at the radius of the step's path there (step_tally). */
static inline BRAGG_HD void score_lateral(const transport_params *p, score_sink *s,
                                          const step_tally *k, double z0, double z1, double length)
{
    double za = z0 < z1 ? z0 : z1, zb = z0 < z1 ? z1 : z0, dz = zb - za, w = p->bin_width;
    double lo, hi;
    int i0, i1;
    if (dz <= 0.0) {   /* across the beam axis: one bin */
        int i = (int)(za * p->inv_bin_width);
        if (za >= 0.0 && i < p->nbins) score_lateral_bin(k, s->stride, i, length, za);
        return;
    }
    if (!segment_bins(p, za, zb, &lo, &hi, &i0, &i1)) return;
    double path_per_z = length / dz;
    if (i0 == i1) {
        score_lateral_bin(k, s->stride, i0, (hi - lo) * path_per_z, 0.5 * (lo + hi));
        return;
    }
    score_lateral_bin(k, s->stride, i0, ((i0 + 1) * w - lo) * path_per_z, 0.5 * (lo + (i0 + 1) * w));
    if (i1 - i0 > 1) score_lateral_run(k, s->stride, i0 + 1, i1 - 1, w * path_per_z, (i0 + 1.5) * w, w);
    score_lateral_bin(k, s->stride, i1, (hi - i1 * w) * path_per_z, 0.5 * (i1 * w + hi));
}

/* The exact share of [zl, zh] in a step's deposit whose density along u = (z - za) per_z is
 * q + ds_u (u - 1/2) (score_step_body). */
static inline BRAGG_HD double segment_share(double q, double ds_u, double za, double per_z,
                                            double zl, double zh)
{
    return (zh - zl) * per_z * (q + ds_u * ((0.5 * (zl + zh) - za) * per_z - 0.5));
}

/* Spreads a step's energy (dq quanta) and track over the depth bins between z0 and z1 (track
 * uniformly along the path; energy with the density dq + ds (f - 1/2) per unit of the step's
 * fraction f, which rises along the step when ds > 0): a partial first bin, whole bins between
 * (one ramp), a partial last bin. The whole bins' ramp has the integer slope nearest the
 * density's and the first value that keeps their sum within a quantum per bin of the exact one;
 * the last bin takes the remainder, so the bins sum to dq exactly. With a dose map (`map`:
 * score_step and score_step_mapped below are the instantiations without and with) every piece
 * goes to it too, the whole bins in runs of LATERAL_RAMP_MIN (1.6 mm in 0.1 mm bins), each at
 * the lateral bin of its own middle: a step now spans centimetres. */
static inline BRAGG_HD BRAGG_FORCE_INLINE void score_step_body(const transport_params *p,
                                                               score_sink *s, const step_tally *k,
                                                               int64_t *map, double z0, double z1,
                                                               double length, int64_t dq,
                                                               double ds)
{
    double za = z0 < z1 ? z0 : z1, zb = z0 < z1 ? z1 : z0;
    double dz = zb - za, w = p->bin_width;
    if (dz <= 0.0) {
        /* Moving across the beam axis: everything in one bin. */
        int i = (int)(za * p->inv_bin_width);
        if (za < 0.0 || i >= p->nbins) {
            s->ledger[LEDGER_OUTSIDE_GRID] += dq;
            return;
        }
        score_piece(p, k, map, s->stride, i, i, dq, 0, length, 0.5, 0.0, za, ds / 12.0);
        return;
    }
    double lo, hi;
    int i0, i1;
    int64_t given = 0;
    if (segment_bins(p, za, zb, &lo, &hi, &i0, &i1)) {
        /* In depth: u = (z - za) / dz, the step's fraction f = u forwards, 1 - u backwards. */
        double per_z = 1.0 / dz, path_per_z = length / dz;
        double f_a = z1 >= z0 ? 0.0 : 1.0, f_per_u = z1 >= z0 ? 1.0 : -1.0;
        double ds_u = ds * f_per_u, q = (double)dq;
        int whole = (za >= 0.0 && zb <= p->nbins * w);
        if (i0 == i1) {
            double zm = 0.5 * (lo + hi);
            int64_t share = whole ? dq : (int64_t)segment_share(q, ds_u, za, per_z, lo, hi);
            double du = (hi - lo) * per_z;
            score_piece(p, k, map, s->stride, i0, i0, share, 0, (hi - lo) * path_per_z,
                        f_a + f_per_u * (zm - za) * per_z, 0.0, zm,
                        ds * du * du * du * (1.0 / 12.0));
            given = share;
        } else {
            double edge0 = (i0 + 1) * w, edge1 = i1 * w;
            int64_t share0 = (int64_t)segment_share(q, ds_u, za, per_z, lo, edge0);
            int64_t share1 = whole ? 0 : (int64_t)segment_share(q, ds_u, za, per_z, edge1, hi);
            double zm0 = 0.5 * (lo + edge0), zm1 = 0.5 * (edge1 + hi);
            double du0 = (edge0 - lo) * per_z, du1 = (hi - edge1) * per_z;
            score_piece(p, k, map, s->stride, i0, i0, share0, 0, (edge0 - lo) * path_per_z,
                        f_a + f_per_u * (zm0 - za) * per_z, 0.0, zm0,
                        ds * du0 * du0 * du0 * (1.0 / 12.0));
            given = share0;
            int n_mid = i1 - i0 - 1;
            if (n_mid > 0) {
                /* Bin j of the run (its middle at u_j = u_0 + j du) holds
                 * du (q + ds_u (u_j - 1/2)); their sum is that of the exact shares. */
                double du = w * per_z, u0 = (edge0 + 0.5 * w - za) * per_z;
                double sum = segment_share(q, ds_u, za, per_z, edge0, edge1);
                int64_t slope = round_quanta(du * du * ds_u);
                double base = sum - 0.5 * (double)slope * n_mid * (n_mid - 1);
                int64_t first = (int64_t)floor(base / n_mid);
                score_piece(p, k, (int64_t *)0, s->stride, i0 + 1, i1 - 1, first, slope,
                            w * path_per_z, f_a + f_per_u * u0, f_per_u * du, 0.0,
                            ds * du * du * du * (1.0 / 12.0));
                /* What the whole quanta leave, 0 <= up < n_mid, one more in each of the run's
                 * first `up` bins. Left to the step's last bin, as until 2026-12-06, it made a
                 * spike wherever many histories end a step alike (their first steps): +25% in 1
                 * um bins of water 4.7 and 9.5 mm deep for p 150 MeV, the curve's maximum 9 times
                 * the plateau in 0.1 mm bins of air, where a step spans 20 000 bins. The dose
                 * alone takes them (one ramp); the LET and z1D* sums miss their weight, under
                 * 1e-3 of a bin's (a quantum against the 1e3, in air, to 1e6 a step gives each
                 * bin it crosses), which a second scored piece would have cost 7% of the history
                 * loop's instructions (callgrind, C-12 400 MeV/u; this ramp costs 1.2%). */
                int64_t up = (int64_t)(base - (double)first * n_mid + 0.5);
                if (up < 0) up = 0;
                if (up > n_mid) up = n_mid;
                if (up > 0) score_ramp(k->dose, s->stride, i0 + 1, i0 + (int)up, 1, 0);
                /* The map takes the same values, in runs at their own lateral bins, split
                 * where the extra quantum ends. */
                for (int from = 0; map && from < n_mid;) {
                    int to = from + LATERAL_RAMP_MIN < n_mid ? from + LATERAL_RAMP_MIN - 1 : n_mid - 1;
                    int extra = from < up;
                    if (extra && to >= up) to = (int)up - 1;
                    double x, y;
                    tally_xy(k, edge0 + 0.5 * (from + to + 1) * w, &x, &y);
                    score_ramp(map + (size_t)map_bin(p, x, y) * s->stride, s->stride,
                               i0 + 1 + from, i0 + 1 + to, first + slope * from + extra, slope);
                    from = to + 1;
                }
                given += first * n_mid + slope * ((int64_t)n_mid * (n_mid - 1) / 2) + up;
            }
            if (whole) share1 = dq - given;
            score_piece(p, k, map, s->stride, i1, i1, share1, 0, (hi - edge1) * path_per_z,
                        f_a + f_per_u * (zm1 - za) * per_z, 0.0, zm1,
                        ds * du1 * du1 * du1 * (1.0 / 12.0));
            given += share1;
        }
    }
    s->ledger[LEDGER_OUTSIDE_GRID] += dq - given;
}

/* score_step_body with the map, out of line: score_step below jumps there (a tail call) when
 * the run has a map, and its own code, the one without, stays as it was. */
static BRAGG_HD BRAGG_NOINLINE void score_step_mapped(const transport_params *p, score_sink *s,
                                                     const step_tally *k, double z0, double z1,
                                                     double length, int64_t dq, double ds)
{
    score_step_body(p, s, k, sink_curve(s, CURVE_MAP(p->channels, 0)), z0, z1, length, dq, ds);
}

static inline BRAGG_HD void score_step(const transport_params *p, score_sink *s,
                                       const step_tally *k, double z0, double z1, double length,
                                       int64_t dq, double ds)
{
    if (p->map_bins) {
        score_step_mapped(p, s, k, z0, z1, length, dq, ds);
        return;
    }
    score_step_body(p, s, k, (int64_t *)0, z0, z1, length, dq, ds);
}

/* Deposits dq quanta at one point (a cut-off remnant, a nuclear reaction's local share) in
 * channel c, where particle q is, with its LET (keV/um) and z1D* (Gy). */
static inline BRAGG_HD void score_point(const transport_params *p, score_sink *s, int c,
                                        const particle *q, int64_t dq, double let, double z1d)
{
    double z = q->z;
    int i = (int)(z * p->inv_bin_width);
    if (z < 0.0 || i >= p->nbins) {
        s->ledger[LEDGER_OUTSIDE_GRID] += dq;
        return;
    }
    int st = s->stride;
    score_ramp(sink_curve(s, dose_curve(c, q->A)), st, i, i, dq, 0);
    if (p->map_bins)
        score_ramp(sink_curve(s, CURVE_MAP(p->channels, map_bin(p, q->x, q->y))), st, i, i, dq, 0);
    const slab_geometry *slab = &p->slabs[q->slab];
    double weight = slab->let_weight * let_edge_factor(slab, i);
    score_ramp(sink_curve(s, let_d_curve(q->Z, q->A)), st, i, i,
               (int64_t)((double)dq * let * weight * LET_QUANTA / ENERGY_QUANTA_PER_MEV + 0.5), 0);
    if (p->score_z1d)
        score_ramp(sink_curve(s, CURVE_Z1D), st, i, i,
                   (int64_t)((double)dq * z1d * Z1D_QUANTA / ENERGY_QUANTA_PER_MEV + 0.5), 0);
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
        double sin_theta;
        portable_sincos(theta, &sin_theta, &c);
        s = sin_theta / theta;
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

/* Starts primary `history`: its stream, the beam's sampled position, direction and energy;
 * books its energy. */
static inline BRAGG_HD void transport_start(const transport_params *p, uint64_t history,
                                            particle *q, score_sink *s)
{
    rng *r = &q->r;
    rng_init(r, p->seed, history, 0);
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
    return particle_is_primary(q) ? 0 : q->Z;
}

/* Energy deposited on the spot (where q is) by a nuclear reaction, in the local channel. */
static inline BRAGG_HD void nuclear_deposit(const transport_params *p, score_sink *s,
                                            const particle *q, int64_t dq)
{
    score_point(p, s, p->channels - 1, q, dq, 0.0, 0.0);
    s->ledger[LEDGER_NUCLEAR_LOCAL] += dq;
}

/* Where a reaction's charged products go: slots [*count, capacity) of a bank. */
typedef struct product_out {
    const particle_bank *bank;
    uint32_t *count;           /* slots in use; taken with bank_take */
    uint32_t capacity;
} product_out;

/* What a reaction needs besides the particle: the sampled event and, per product, its
 * laboratory kinetic energy and projected angles. A few kB: on the CPU it sits on the stack of
 * the code that reacts; a GPU thread gets its own in global memory instead (cuda/), which keeps
 * the reaction kernel's own stack small. */
typedef struct reaction_scratch {
    nuclear_event ev;
    icru63_event icru;
    double T[NUCLEAR_MAX_PRODUCTS], ang_x[NUCLEAR_MAX_PRODUCTS], ang_y[NUCLEAR_MAX_PRODUCTS];
} reaction_scratch;

/* Product k of a reaction of q: charge Z, A nucleons, laboratory kinetic energy T (MeV),
 * direction at projected angles (ax, ay) from q's. Set up with its own stream (id from q's and
 * k) and its free paths, and written to `out`; deposited on the spot instead when it is below
 * the cut-off (or, never in practice, finds no room). Returns the energy quanta it carries. */
static inline BRAGG_HD int64_t push_secondary(const transport_params *p, score_sink *s,
                                              const product_out *out, const particle *q,
                                              unsigned k, int Z, int A, double T, double ax,
                                              double ay)
{
    int64_t eq = energy_quanta(T);
    const slab_geometry *slab = &p->slabs[q->slab];
    double t = T / A;
    if (Z > p->z_max || Z < 1 || t <= p->energy_cut) {
        nuclear_deposit(p, s, q, eq);
        return eq;
    }
    uint32_t slot = bank_take(out->count, 1);
    if (slot >= out->capacity) {
        s->count[COUNT_STACK_FULL]++;
        nuclear_deposit(p, s, q, eq);
        return eq;
    }
    particle n = *q;
    double e1[3], e2[3];
    deflect(&n, ax, ay, e1, e2);
    n.t = t;
    n.Z = Z;
    n.A = A;
    n.a = (double)A / p->ref_A[Z];
    n.range = table_range(slab->table[Z], t);
    n.energy_q = eq;
    n.path_x0 = 0.0;
    n.scatter_sum = 0.0;
    n.theta2 = 0.0;
    rng_init_child(&n.r, &q->r, k);
    n.mfp = sample_free_paths(p, &n.r);
    bank_store(out->bank, slot, &n);
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
    double theta = portable_atan2(pt, pz);
    *ax = theta * px / pt;
    *ay = theta * py / pt;
}

/* Elastic scattering of a proton on a hydrogen nucleus at rest: the "reaction" a proton's
 * tables give hydrogen (physics/nuclear.h, nuclear_hydrogen_elastic_xs_mb). Isotropic in the
 * centre of mass, as VMCpro (Fippel and Soukup, Med. Phys. 31 (2004) 2263) and MCsquare sample
 * it. Equal masses make the kinematics exact and simple, relativity included: the struck proton
 * takes T (1 - cos theta_cm) / 2; the two leave at tan theta = k tan(theta_cm / 2) and
 * k cot(theta_cm / 2) from q's direction, k = sqrt(2m / (T + 2m)) (opening angle below 90
 * degrees), back to back in azimuth. Both are transported as the products (children 0 and 1)
 * of an event that ends q: a primary scattered this hard is no longer the core but the halo
 * (Gottschalk et al., Phys. Med. Biol. 60 (2015) 5627 name elastic scattering on hydrogen among
 * the halo's sources). Energy is conserved to the quantum: the rounding goes to the
 * binding-energy ledger. */
static inline BRAGG_HD int proton_hydrogen_elastic(const transport_params *p, particle *q,
                                                   score_sink *s, const product_out *products)
{
    rng *r = &q->r;
    double T = q->t, m = p->nucleon_mass[1];   /* A = 1: per nucleon is the whole */
    double c = 2.0 * rng_uniform(r) - 1.0, phi = 2.0 * PI * rng_uniform(r);
    double sin_cm = sqrt(fmax(0.0, 1.0 - c * c)), k = sqrt(2.0 * m / (T + 2.0 * m));
    double theta1 = portable_atan2(k * sin_cm, 1.0 + c);
    double theta2 = portable_atan2(k * sin_cm, 1.0 - c);
    double T2 = 0.5 * T * (1.0 - c), sin_phi, cos_phi;
    portable_sincos(phi, &sin_phi, &cos_phi);
    int64_t e_in = q->energy_q;
    int64_t out = push_secondary(p, s, products, q, 0, 1, 1, T - T2, theta1 * cos_phi,
                                 theta1 * sin_phi);
    out += push_secondary(p, s, products, q, 1, 1, 1, T2, -theta2 * cos_phi, -theta2 * sin_phi);
    s->ledger[LEDGER_NUCLEAR_BINDING] += e_in - out;
    s->count[COUNT_HYDROGEN_ELASTIC]++;
    if (particle_is_primary(q)) s->count[COUNT_PRIMARY_HYDROGEN_ELASTIC]++;
    q->energy_q = 0;
    q->t = 0.0;
    return 0;
}

/* The end of q in a nonelastic reaction that took e_in quanta and pushed products carrying `out`:
 * `local` deposited here, `neutral` carried off by neutrons and photons, the rest (the Q-value,
 * up to rounding to quanta) booked as binding, which closes the ledger exactly. */
static inline BRAGG_HD void reaction_close(const transport_params *p, score_sink *s, particle *q,
                                           int64_t e_in, int64_t out, int64_t local,
                                           int64_t neutral)
{
    nuclear_deposit(p, s, q, local);
    s->ledger[LEDGER_NUCLEAR_NEUTRAL] += neutral;
    s->ledger[LEDGER_NUCLEAR_BINDING] += e_in - out - local - neutral;
    s->count[COUNT_REACTIONS]++;
    if (particle_is_primary(q)) s->count[COUNT_PRIMARY_REACTED]++;
    q->energy_q = 0;
    q->t = 0.0;
}

/* A nonelastic reaction of a proton on target k of its material, whose products ICRU Report 63
 * evaluated (physics/icru63.h): protons, deuterons and alphas are transported (a charge-1 beam
 * has helium's tables for them, src/engine/engine.c); the recoils' energy is deposited on the spot;
 * the rest leaves as neutrons and photons, up to the Q-value, which closes the ledger. Out of
 * line: it is rare, and inlined into the step loop it made every step 3% slower. */
static BRAGG_HD BRAGG_NOINLINE int proton_reaction_icru63(const transport_params *p, particle *q,
                                                          score_sink *s,
                                                          const product_out *products,
                                                          const transport_table *tab, int k,
                                                          reaction_scratch *scratch)
{
    icru63_view v = icru63_view_of(tab->icru63 + tab->icru63_offset[k], tab->icru63_count[k]);
    icru63_event *ev = &scratch->icru;
    icru63_sample(&v, &q->r, q->t, tab->target_Z[k], tab->target_A[k], ev);
    int64_t e_in = q->energy_q, out = 0;
    for (int i = 0; i < ev->n; i++) {
        double c = ev->cos_theta[i], theta = portable_atan2(sqrt(fmax(0.0, 1.0 - c * c)), c);
        double sin_phi, cos_phi;
        portable_sincos(ev->phi[i], &sin_phi, &cos_phi);
        int sp = ev->species[i];
        out += push_secondary(p, s, products, q, (unsigned)i, icru63_species_z(sp),
                              icru63_species_a(sp), ev->T[i], theta * cos_phi, theta * sin_phi);
    }
    reaction_close(p, s, q, e_in, out, energy_quanta(ev->recoil_mev),
                   energy_quanta(ev->neutral_mev));
    return 0;
}

/* Elastic scattering of proton q on nucleus k of its material beyond 5 degrees in the centre of
 * mass (10-20 in the metals: physics/tables.c, elastic_first_interval), as ICRU Report 63
 * evaluated it (physics/icru63.h; the smaller angles are multiple Coulomb scattering's). The
 * scattered proton goes on as a secondary (child 0, its own stream), as both protons of an
 * elastic scattering on hydrogen do: it has left the beam's core for its halo, and the
 * primaries' lateral spread stays multiple scattering's. Laboratory angle and
 * energy from the exact two-body kinematics; the recoil's kinetic energy is deposited on the
 * spot (the ledger's nuclear local share). Out of line, as the reactions. */
static BRAGG_HD BRAGG_NOINLINE int proton_nucleus_elastic(const transport_params *p, particle *q,
                                                          score_sink *s,
                                                          const product_out *products,
                                                          const transport_table *tab, int k)
{
    rng *r = &q->r;
    int j = k - tab->first_elastic;
    icru63_elastic_view v = icru63_elastic_view_of(tab->icru63 + tab->icru63_elastic_offset[j],
                                                   tab->icru63_elastic_count[j]);
    double c = icru63_elastic_sample_cos(&v, q->t, r), phi = 2.0 * PI * rng_uniform(r);
    double theta, recoil;
    /* The nucleus' mass as A atomic mass units: its binding defect and electrons move the
     * recoil's energy by under 0.1%. */
    icru63_elastic_kinematics(q->t, p->nucleon_mass[1], tab->target_A[k] * ATOMIC_MASS_UNIT_MEV,
                              c, &theta, &recoil);
    double sin_phi, cos_phi;
    portable_sincos(phi, &sin_phi, &cos_phi);
    int64_t e_in = q->energy_q;
    int64_t out = push_secondary(p, s, products, q, 0, 1, 1, q->t - recoil, theta * cos_phi,
                                 theta * sin_phi);
    /* The rest, the recoil's share up to rounding, on the spot: the ledger closes exactly. */
    nuclear_deposit(p, s, q, e_in - out);
    s->count[COUNT_NUCLEUS_ELASTIC]++;
    if (particle_is_primary(q)) s->count[COUNT_PRIMARY_NUCLEUS_ELASTIC]++;
    q->energy_q = 0;
    q->t = 0.0;
    return 0;
}

/* A nuclear reaction of q, here and now (after a step said STEP_REACT): picks the target
 * nucleus, samples what comes out, writes the charged products to `out` and books the rest.
 * Returns 1 if q lives on (the Coulomb trajectory missed the nucleus: new free paths), else 0. */
static inline BRAGG_HD int transport_react(const transport_params *p, particle *q, score_sink *s,
                                           const product_out *products, reaction_scratch *scratch)
{
    rng *r = &q->r;
    const slab_geometry *slab = &p->slabs[q->slab];
    const transport_table *tab = slab->table[q->Z];
    /* The target at the energy where the step took the rate (transport_step); q->t if none. */
    double t_rate = q->mfp < 0.0 ? -q->mfp : q->t;
    int k = table_pick_target(tab, table_energy_cell(tab, t_rate), t_rate, rng_uniform(r));
    int Zt = tab->target_Z[k], At = tab->target_A[k];
    int64_t e_in = q->energy_q;
    /* On hydrogen the Z = 1 tables hold the proton's elastic cross-section: a proton scatters;
     * a deuteron or triton (which shares the proton's tables) does not, so for it this was no
     * event: new free paths, as if that cross-section were not there (memoryless). */
    if (Zt == 1 && At == 1 && q->Z == 1) {
        if (q->A == 1) return proton_hydrogen_elastic(p, q, s, products);
        q->mfp = sample_free_paths(p, r);
        return 1;
    }
    /* The same for the elastic scattering on nuclei that the proton tables hold after the
     * reaction targets. */
    if (k >= tab->first_elastic) {
        if (q->A == 1) return proton_nucleus_elastic(p, q, s, products, tab, k);
        q->mfp = sample_free_paths(p, r);
        return 1;
    }

    /* A proton up to 250 MeV on an element of ICRU Report 63: its evaluated products. */
    if (q->Z == 1 && q->A == 1 && tab->icru63_offset[k] >= 0 &&
        q->t <= tab->icru63[tab->icru63_offset[k] + tab->icru63_count[k] - 1])
        return proton_reaction_icru63(p, q, s, products, tab, k, scratch);
    /* Every other projectile, and protons beyond the report (physics/fragmentation.h): a
     * proton abrades one nucleon of the target and the two leave as a fireball, the excited
     * residue's charged share is deposited here. */
    nuclear_event *ev = &scratch->ev;
    if (!fragmentation_sample(&p->radii, r, q->Z, q->A, Zt, At, q->t, ev)) {
        q->mfp = sample_free_paths(p, r);
        return 1;
    }
    /* Boost of the projectile's rest frame: gamma from the energy per nucleon. */
    double gamma = 1.0 + q->t / p->nucleon_mass[q->Z];
    double beta = sqrt(1.0 - 1.0 / (gamma * gamma));
    double *T = scratch->T, *ang_x = scratch->ang_x, *ang_y = scratch->ang_y;
    double neutron_T = (gamma - 1.0) * NEUTRON_MASS_MEV;
    double side[3];   /* laboratory kinetic energy by origin (enum product_origin) */
    side[FROM_TARGET] = ev->local_mev + ev->neutral_mev;
    /* Spectator neutrons at the beam's velocity plus, for those of a break-up, their
     * motion in the projectile's frame (lab energy (gamma - 1) m + gamma T* + gamma beta
     * p*_z); its fragments' gamma rays, gamma E* on average. */
    double spectator_neutral = ev->spectator_neutrons * neutron_T +
                               gamma * (ev->spectator_neutron_ke + ev->spectator_photon_mev) +
                               gamma * beta * ev->spectator_neutron_pz;
    side[FROM_SPECTATOR] = spectator_neutral;
    /* Participants (the fireball's nucleons) are given in the laboratory already. */
    side[FROM_PARTICIPANT] = ev->participant_neutron_mev;
    /* Q-value: binding energy of the projectile less that of its charged pieces, from
     * the AME2020 masses the Fermi break-up uses (physics/fermi_tables.h; beyond them, each
     * charge at its reference isotope's binding per nucleon), and NUCLEON_REMOVAL_MEV per
     * nucleon knocked out of a target nucleus, and what separating the target residue's pieces
     * cost (fermi_residue_energies). */
    double Q = nuclear_binding_mev(q->Z, q->A, q->A * p->binding[q->Z]) +
               (At > 1 ? NUCLEON_REMOVAL_MEV * ev->target_removed : 0.0) +
               ev->target_binding_mev;
    for (int i = 0; i < ev->n; i++) {
        const nuclear_product *f = &ev->product[i];
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
    for (int i = 0; i < ev->n; i++) {
        const nuclear_product *f = &ev->product[i];
        out += push_secondary(p, s, products, q, (unsigned)i, f->Z, f->A,
                              scale[f->origin] * T[i], ang_x[i], ang_y[i]);
    }
    int64_t neutral = energy_quanta(scale[FROM_TARGET] * ev->neutral_mev + photons +
                                    scale[FROM_SPECTATOR] * spectator_neutral +
                                    scale[FROM_PARTICIPANT] * ev->participant_neutron_mev);
    reaction_close(p, s, q, e_in, out, energy_quanta(scale[FROM_TARGET] * ev->local_mev),
                   neutral);
    return 0;
}

/* What a step ends in. */
enum step_outcome {
    STEP_GONE,     /* stopped, or left the geometry or the scoring depth */
    STEP_ALIVE,    /* goes on with another step */
    STEP_REACT     /* reached its nuclear reaction: transport_react next */
};

/* What the stages of one step hand each other. */
typedef struct step_state {
    const slab_geometry *slab;
    const transport_table *tab;
    double rho;                 /* density in the reference isotope's range units */
    double range_cut;
    int primary;
    double step;                /* cm */
    int to_cut, to_boundary, react;
    uint32_t cell;              /* energy-grid cell of the start energy */
    double dR;                  /* CSDA range used, g/cm^2 (reference units) */
    double range_new, t_new;
    int64_t q_new, dq;          /* energy quanta after the step, and lost over it */
    double t_half;              /* CSDA energy at R - dR/2, or -1 before it is needed */
    uint32_t cell_half;
    double t_table;             /* t(R) at the step's start, where step_energy_loss looked it
                                   up (a step losing under 1% of the range), else -1 */
    double t_mid;               /* mid-step energy, and its cell */
    uint32_t cell_mid;
    double x0, y0, z0;          /* position before the step */
    double u0, v0, w0;          /* direction before the step */
} step_state;

/* Stage 1: the step's length. A fraction of the residual range, not under step_min, not past
 * the cut-off range, not past the slab boundary ahead, and not past the particle's nuclear
 * reaction (whose free paths it uses up). */
static inline BRAGG_HD BRAGG_FORCE_INLINE void step_limit(const transport_params *p, particle *q,
                                                          step_state *st, step_profile *prof)
{
    double step = (st->primary ? p->step_fraction : p->step_fraction_secondary) * q->range / st->rho;
    double step_min = st->primary ? p->step_min : p->step_min_secondary;
    /* Highland's log factor rises by ~10% per e-fold of the path so far, so over a primary's
     * first steps the scattering power rises faster than linearly (step_scatter): a step adds
     * at most the radiation lengths already travelled, or a quarter of its usual length (the
     * first step has none behind it). With a quarter, two more steps per history bring a
     * proton's spread at 2 cm from +0.7% to +0.2% of the 1%-step value (docs/physics.md). */
    if (st->primary) {
        double grown = q->path_x0 * st->tab->radiation_length / (q->a * st->rho);
        double least = 0.25 * step;
        if (step > grown) step = grown > least ? grown : least;
    }
    if (step < step_min) step = step_min;
    st->to_cut = st->to_boundary = st->react = 0;
    double to_cut_len = (q->range - st->range_cut) / st->rho;
    if (step >= to_cut_len) {
        step = to_cut_len;
        st->to_cut = 1;
    }
    double dist = INFINITY;
    if (q->w > 0.0) dist = (st->slab->z_end - q->z) / q->w;
    else if (q->w < 0.0) dist = (st->slab->z_start - q->z) / q->w;
    if (dist < 0.0) dist = 0.0;
    if (step >= dist) {
        step = dist;
        st->to_boundary = 1;
        st->to_cut = 0;
    }
    profile_mark(prof, PROFILE_OTHER);
    st->cell = table_energy_cell(st->tab, q->t);

    /* Nuclear reaction within the step? The cross-section at the step's CSDA middle (second
     * order): at its start, a proton's, which rises as it slows from 150 to 30 MeV, made 0.6%
     * fewer reactions at 12% steps than at 1%. The energy there also serves the straggling
     * (step_energy_loss) unless the reaction shortens the step. */
    st->t_half = -1.0;
    st->cell_half = 0;
    st->t_table = -1.0;
    if (p->nuclear) {
        double t_half = table_energy(st->tab, q->range - 0.5 * st->rho * step);
        uint32_t cell_half = table_energy_cell(st->tab, t_half);
        double mu = table_at(st->tab, st->tab->reaction, cell_half, t_half) * st->slab->density;
        if (mu * step >= q->mfp) {
            step = q->mfp / mu;
            st->react = 1;
            st->to_cut = st->to_boundary = 0;
            /* Pending (mfp <= 0): minus the energy whose rates drew the reaction point, where
             * transport_react picks the target from the same rates. Picked at the point's own
             * energy, below the start of a cross-section (ICRU 63's oxygen elastic data begin
             * at 7 MeV) a reaction its rate had drawn went to the others: 12 MeV protons in
             * water (1 mm bins, 10^6) had 1.78e-3 non-elastic reactions each at 12% steps,
             * 1.13e-3 at 1% (now 1.04e-3 and 1.08e-3). */
            q->mfp = -t_half;
        } else {
            q->mfp -= mu * step;
            st->t_half = t_half;
            st->cell_half = cell_half;
        }
        profile_mark(prof, PROFILE_NUCLEAR);
    }
    st->step = step;
}

/* The straggling's deviation from the mean loss `mean` (Bohr's `sigma`) where the first normal
 * deviate does not serve (step_energy_loss): for a normal step (mean >= 2 sigma) whose deviate
 * put the loss outside [0, 2 mean], normal deviates drawn again from the same stream until one
 * lies within (refused with probability 4.6% at most, at mean = 2 sigma: 64 refusals in a row
 * do not happen, the bound only keeps a GPU thread from looping on a broken stream); for a
 * thin step a Gamma deviate of the same mean and variance. Out of line: inlined, the loop and
 * its second ziggurat cost the history loop about 40 instructions a step (callgrind, C-12 400
 * MeV/u without reactions: 135.6k a history against 133.1k), most steps never coming here. */
static BRAGG_HD BRAGG_NOINLINE double straggling_deviation_rare(rng *r, double mean, double sigma,
                                                                int normal)
{
    if (!normal) {
        double shape = (mean / sigma) * (mean / sigma);
        return mean * (rng_gamma(r, shape) / shape - 1.0);
    }
    for (int tries = 0; tries < 64; tries++) {
        double deviation = sigma * rng_gauss(r);
        if (fabs(deviation) <= mean) return deviation;
    }
    return 0.0;
}

/* Stage 2: the energy lost, in range space, with Bohr straggling; the end and mid-step
 * energies. */
static inline BRAGG_HD BRAGG_FORCE_INLINE void step_energy_loss(const transport_params *p,
                                                                particle *q, step_state *st,
                                                                step_profile *prof)
{
    const transport_table *tab = st->tab;
    double dR = st->rho * st->step;
    double range_new = q->range - dR;
    if (p->straggling && !st->to_cut && dR > 0.0) {
        /* The range variance the step adds, integral of (dOmega^2/dx) / S^2 dR over it, with the
         * integrand at the step's CSDA middle (second-order accurate; at the start it grew the
         * range straggling by half the integrand's fall over a step, 4% of the variance at 8%
         * steps). */
        if (st->t_half < 0.0) {
            st->t_half = table_energy(tab, q->range - 0.5 * dR);
            st->cell_half = table_energy_cell(tab, st->t_half);
        }
        double variance = table_at(tab, tab->straggling, st->cell_half, st->t_half) * dR / q->a;
        double stopping = table_at(tab, tab->stopping, st->cell_half, st->t_half);
        profile_mark(prof, PROFILE_STOPPING);
        /* The loss about its mean m = S dR with Bohr's sigma, as Geant4's G4UniversalFluctuation
         * samples heavy particles in its Gaussian regime: where m >= 2 sigma a normal deviate
         * drawn again until the loss lies within [0, 2m], a cut symmetric about the mean, which
         * therefore keeps it; below, a Gamma deviate with the same mean and variance (shape
         * (m / sigma)^2), never negative. Until 2026-12-06 a normal loss was clipped at 0 alone,
         * which raised the mean where sigma is not small against m: the energy deposited in a
         * water layer of 1 / 10 / 100 um by 150 MeV protons was 2.95 / 1.35 / 1.01 times PSTAR's
         * stopping power. Thick-target steps have m / sigma of 6 (a 1 mm step at 150 MeV) to
         * hundreds: there the normal deviate is drawn once, as before, to the bit. */
        double sigma = sqrt(variance), mean = stopping * dR, deviation = 0.0;
        int normal = mean >= 2.0 * sigma;
        if (normal) deviation = sigma * rng_gauss(&q->r);
        if (!normal || fabs(deviation) > mean)   /* out of line: rare in thick targets */
            deviation = straggling_deviation_rare(&q->r, mean, sigma, normal);
        profile_mark(prof, PROFILE_RNG);
        range_new -= deviation / stopping;
        if (range_new > q->range) range_new = q->range;   /* no energy gain (rounding) */
        if (range_new <= st->range_cut) {
            range_new = st->range_cut;
            st->to_cut = 1;
            st->react = 0;   /* it stopped before the reaction point */
        }
        profile_mark(prof, PROFILE_STRAGGLING);
    }
    /* A zero-length step (e.g. on a boundary) keeps its energy exactly: t(R(t)) is only equal
     * to t within interpolation accuracy. For the same reason a step that loses under 1% of
     * the range takes its loss as the difference of t(R) at its two ends: t(R(t)) - t is a few
     * 1e-7 of t where a particle starts (a beam, a secondary, a new slab's table), which is
     * +9% of the loss of a 150 MeV proton over 1 um of water; the difference cancels it. */
    double t_new = q->t;
    if (st->to_cut) t_new = p->energy_cut;
    else if (range_new < q->range && q->range - range_new < 0.01 * q->range) {
        st->t_table = table_energy(tab, q->range);
        t_new = q->t - (st->t_table - table_energy(tab, range_new));
    }
    else if (range_new < q->range)
        t_new = table_energy(tab, range_new);
    int64_t q_new = energy_quanta(q->A * t_new);
    int64_t dq = q->energy_q - q_new;
    if (dq < 0) {   /* rounding at a table edge: never create energy */
        dq = 0;
        q_new = q->energy_q;
    }
    st->dR = dR;
    st->range_new = range_new;
    st->t_new = t_new;
    st->q_new = q_new;
    st->dq = dq;
    /* The step's mid-point energy and its grid cell: the scattering integrand and the LET are
     * taken there. */
    st->t_mid = 0.5 * (q->t + t_new);
    st->cell_mid = table_energy_cell(tab, st->t_mid);
    profile_mark(prof, PROFILE_RANGE);
}

/* Stage 3: multiple scattering over the step, and the move: the chord along the old direction
 * plus the correlated lateral displacement. */
static inline BRAGG_HD BRAGG_FORCE_INLINE void step_scatter(const transport_params *p,
                                                            particle *q, step_state *st,
                                                            step_profile *prof)
{
    const transport_table *tab = st->tab;
    double ax = 0.0, ay = 0.0, dx = 0.0, dy = 0.0, step = st->step;
    if (p->scattering && st->dR > 0.0) {
        double path_x0 = q->path_x0 + st->dR * q->a / tab->radiation_length;
        /* The integrand (z/pv)^2 grows along the step as the particle slows: taken at the
         * step's start it undercounted the step's scattering by about half the rise over the
         * step, 1% in the lateral spread at the default steps. The mid-step energy is second-order
         * accurate. */
        double integrand = table_at(tab, tab->scattering, st->cell_mid, st->t_mid);
        double scatter_sum = q->scatter_sum + integrand * st->dR / q->a;
        double theta2 = highland_theta2(path_x0, scatter_sum);
        double variance = theta2 > q->theta2 ? theta2 - q->theta2 : 0.0;
        double sigma = sqrt(variance);
        /* The scattering power rises along the step (the integrand as the particle slows, and
         * Highland's log factor, steeply over the first steps): with a power T (1 + k (f - 1/2))
         * over a step s, the Fermi-Eyges moments are <theta^2> = T s, <y theta> = T s^2 (1/2 -
         * k/12), <y^2> = T s^3 (1/3 - k/12), so y = s theta0 (z1 sqrt(1 - k^2/12) / sqrt(12) +
         * z2 (1/2 - k/12)). k comes from theta0^2 at the step's middle (the first half's
         * integrand at its middle, between the start and mid-step values): its halves add
         * T s (1/2 -+ k/8). A uniform power (k = 0) put 6% too much spread into a proton's
         * first 2 cm at 12% steps. */
        double kappa = 0.0;
        if (variance > 0.0) {
            double integrand0 = table_at(tab, tab->scattering, st->cell, q->t);
            double theta2_mid = highland_theta2(
                q->path_x0 + 0.5 * st->dR * q->a / tab->radiation_length,
                q->scatter_sum + 0.25 * (integrand0 + integrand) * st->dR / q->a);
            kappa = 4.0 * (theta2 + q->theta2 - 2.0 * theta2_mid) / variance;
            kappa = kappa > 2.0 ? 2.0 : kappa < -2.0 ? -2.0 : kappa;
        }
        q->path_x0 = path_x0;
        q->scatter_sum = scatter_sum;
        q->theta2 = theta2;
        profile_mark(prof, PROFILE_SCATTERING);
        double g1 = rng_gauss(&q->r), g2 = rng_gauss(&q->r), g3 = rng_gauss(&q->r),
               g4 = rng_gauss(&q->r);
        profile_mark(prof, PROFILE_RNG);
        const double inv_sqrt12 = 0.28867513459481287;
        double c_free = step * sigma * inv_sqrt12 * sqrt(1.0 - kappa * kappa * (1.0 / 12.0));
        double c_angle = step * sigma * (0.5 - kappa * (1.0 / 12.0));
        ax = sigma * g2;
        dx = g1 * c_free + g2 * c_angle;
        ay = sigma * g4;
        dy = g3 * c_free + g4 * c_angle;
    }
    double e1[3], e2[3];
    double u = q->u, v = q->v, w = q->w;
    deflect(q, ax, ay, e1, e2);
    st->x0 = q->x;
    st->y0 = q->y;
    st->z0 = q->z;
    st->u0 = u;
    st->v0 = v;
    st->w0 = w;
    q->x = st->x0 + step * u + dx * e1[0] + dy * e2[0];
    q->y = st->y0 + step * v + dx * e1[1] + dy * e2[1];
    q->z = st->to_boundary ? (w > 0.0 ? st->slab->z_end : st->slab->z_start)
                           : st->z0 + step * w + dx * e1[2] + dy * e2[2];
    profile_mark(prof, PROFILE_SCATTERING);
}

/* 1 when the sink records a phase space: on every backend, the GPU's included (its sinks
 * share one device buffer, cuda/cuda_transport.cu's sink_begin; NULL when none is asked for). */
static inline BRAGG_HD int sink_records_phase_space(const score_sink *s)
{
    return s->ps != (phase_space_point *)0;
}

/* Records a particle in the sink's phase space: its step (tally k, ending at depth z1, the
 * energy per nucleon falling from t0 to t1) crossed the plane z = zp. Position and direction
 * are the step's path there (the curve the lateral sum and the dose map follow, tally_xy, and
 * its tangent), the energy is interpolated in depth. Out of line, and given the tally (whose
 * address score_step has anyway) and values: the step's code keeps its registers, and nothing
 * of its particle has its address taken. */
static BRAGG_HD BRAGG_NOINLINE void phase_space_record(score_sink *s, const step_tally *k,
                                                       double zp, double z1, double t0,
                                                       double t1, uint64_t history,
                                                       uint64_t id, int Z, int A)
{
#ifdef __CUDA_ARCH__
    uint32_t n = atomicAdd(s->ps_shared, 1u);
#else
    uint32_t n = s->ps_count++;
#endif
    if (n >= s->ps_capacity) return;
    double f = (zp - k->lat_z0) * k->lat_inv_dz;
    double x, y;
    tally_xy(k, zp, &x, &y);
    /* d/df of the cubic curve (its coefficients in powers of f), and z1 - z0 along the depth. */
    double dx = (3.0 * k->lat_x[3] * f + 2.0 * k->lat_x[2]) * f + k->lat_x[1];
    double dy = (3.0 * k->lat_y[3] * f + 2.0 * k->lat_y[2]) * f + k->lat_y[1];
    double dz = z1 - k->lat_z0, inv = 1.0 / sqrt(dx * dx + dy * dy + dz * dz);
    phase_space_point *r = &s->ps[n];
    r->history = history;
    r->id = id;
    r->x = x;
    r->y = y;
    r->u = dx * inv;
    r->v = dy * inv;
    r->w = dz * inv;
    r->ekin = A * (t0 + f * (t1 - t0));
    r->Z = Z;
    r->A = A;
}

/* Stage 4: the step's deposit and track over the depth bins it crosses. The loss rate rises
 * along a step: the deposit's density rises linearly, with the slope that gives the step's two
 * halves their shares of the CSDA loss (first-order exact; a uniform spread biased the
 * peak-to-entrance ratio by -0.7% at 4% steps, and two uniform halves still left the entrance
 * dose 0.5% high at 8% steps and a sawtooth of the step's length in the plateau). The weights
 * of the deposit (LET, z1D*) go linearly from their start values to the step's exact mean of
 * each; the track's LET through its mid-step value. Then the particle takes its new energy. */
static inline BRAGG_HD BRAGG_FORCE_INLINE void step_score(const transport_params *p, particle *q,
                                                          score_sink *s, step_state *st,
                                                          step_profile *prof)
{
    const transport_table *tab = st->tab;
    double step = st->step, dR = st->dR;
    int64_t dq = st->dq;
    double let_per_stopping = st->slab->density * 0.1;
    /* The LET for LET_t (track-weighted) goes linearly through its start and mid-step values. */
    double let_mid = table_at(tab, tab->stopping_el, st->cell_mid, st->t_mid) * let_per_stopping;
    double let0 = table_at(tab, tab->stopping_el, st->cell, q->t) * let_per_stopping;
    double let_df = 2.0 * (let_mid - let0);
    double path_z = fabs(q->z - st->z0);
    step_tally tally;
    step_tally_locate(&tally, s, particle_channel(q), q->Z, q->A, st->w0 >= FORWARD_COS,
                      st->primary, p->score_z1d);
    tally.slab = st->slab;
    tally.let_edges = st->slab->let_edges;
    tally.let_t_scale = let_mid * LET_T_QUANTA;
    tally.let_t_scale_df = let_df * LET_T_QUANTA;
    /* The step's path: for the lateral sum (primaries), the dose map and the phase space;
     * the other particles' steps need none of it. */
    if (st->primary || p->map_bins || sink_records_phase_space(s)) {
        /* The Hermite curve in powers of f: p0 + d0 f + (3 (p1 - p0) - 2 d0 - d1) f^2 +
         * (2 (p0 - p1) + d0 + d1) f^3, p the positions and d the step times the directions. */
        double d0x = step * st->u0, d0y = step * st->v0, d1x = step * q->u, d1y = step * q->v;
        tally.lat_x[0] = st->x0;
        tally.lat_x[1] = d0x;
        tally.lat_x[2] = 3.0 * (q->x - st->x0) - 2.0 * d0x - d1x;
        tally.lat_x[3] = 2.0 * (st->x0 - q->x) + d0x + d1x;
        tally.lat_y[0] = st->y0;
        tally.lat_y[1] = d0y;
        tally.lat_y[2] = 3.0 * (q->y - st->y0) - 2.0 * d0y - d1y;
        tally.lat_y[3] = 2.0 * (st->y0 - q->y) + d0y + d1y;
        tally.lat_z0 = st->z0;
        tally.lat_inv_dz = path_z > 0.0 ? 1.0 / (q->z - st->z0) : 0.0;
        tally.lat_cap = 0.5 * p->lateral_cap * p->lateral_cap;
        tally.lat_quanta = p->lateral_quanta;
    }
    tally.z_per_path = step > 0.0 ? path_z / step : 0.0;
    profile_mark(prof, PROFILE_STOPPING);
    /* The density dq + ds (f - 1/2) gives the first half dq (1/2 - ds/(8 dq)): ds = 4 dq (1 - 2 h),
     * h the first half's share of the CSDA loss. Capped at |ds| <= dq (the density at one end
     * at most three times that at the other): only the last step to the cut-off, a few microns,
     * steepens more. */
    double ds = 0.0;
    if (dR > 0.0 && dq > 1) {
        double t_half = st->t_half >= 0.0 ? st->t_half : table_energy(tab, q->range - 0.5 * dR);
        /* Without a straggling shift the CSDA end energy is t_new: no second lookup. A step
         * losing under 1% of the range takes its start from the table too (t_table; t_new is
         * then t(R_new) moved by q->t - t(R)): the particle's own energy may sit a few 1e-6 of
         * itself off t(R) (a new slab's table), which against the loss of 2 cm of air by a 120
         * MeV proton (1e-4 of its energy) tilted the deposit across an air gap from 0.84 to
         * 0.95 of the water dose before it (flat at the mass stopping-power ratio: 0.884 in
         * PSTAR at 100 MeV). */
        int csda = st->range_new == q->range - dR;
        double t0 = st->t_table >= 0.0 ? st->t_table : q->t;
        double t_end = !csda ? table_energy(tab, q->range - dR) : st->t_new - (q->t - t0);
        double lost = t0 - t_end;
        if (lost > 0.0) {
            double q_dq = (double)dq;
            ds = 4.0 * q_dq * (1.0 - 2.0 * (t0 - t_half) / lost);
            ds = ds > q_dq ? q_dq : ds < -q_dq ? -q_dq : ds;
        }
    }
    /* The weights of the deposit, LET (for LET_d) and the MKM's z1D*: linear along the step
     * from their start values, with the slope that gives the deposit's density, dq + ds (f -
     * 1/2), the exact energy-weighted mean of each over the energies the step passes
     * (table_mean_over). Their mean is then right at any step length: through the mid-step
     * value instead, a fragment's last step to the cut-off, where the LET climbs to its
     * maximum, weighed its deposit by about half its mean LET, and the LET_d beyond the peak
     * of C-12 400 MeV/u fell by 1.3% from 5% to 20% secondary steps (docs/physics.md). */
    double inv_shape = dq > 0 ? 12.0 * (double)dq / (6.0 * (double)dq + ds) : 2.0;
    uint32_t cell_end = table_energy_cell(tab, st->t_new);
    double let_mean = table_mean_over(tab, tab->stopping_el, tab->stopping_el_integral, st->cell,
                                      q->t, cell_end, st->t_new) * let_per_stopping;
    double let_slope = (let_mean - let0) * inv_shape;
    double let_quanta = st->slab->let_weight * LET_QUANTA / ENERGY_QUANTA_PER_MEV;
    tally.let_scale = (let0 + 0.5 * let_slope) * let_quanta;
    tally.let_scale_df = let_slope * let_quanta;
    tally.z1d_scale = tally.z1d_scale_df = 0.0;
    if (p->score_z1d) {
        double z1d0 = table_at(tab, tab->z1d, st->cell, q->t);
        double z1d_mean = table_mean_over(tab, tab->z1d, tab->z1d_integral, st->cell, q->t,
                                          cell_end, st->t_new);
        double z1d_slope = (z1d_mean - z1d0) * inv_shape;
        tally.z1d_scale = (z1d0 + 0.5 * z1d_slope) * Z1D_QUANTA / ENERGY_QUANTA_PER_MEV;
        tally.z1d_scale_df = z1d_slope * Z1D_QUANTA / ENERGY_QUANTA_PER_MEV;
    }
    profile_mark(prof, PROFILE_RANGE);
    score_step(p, s, &tally, st->z0, q->z, step, dq, ds);
    if (tally.lateral) score_lateral(p, s, &tally, st->z0, q->z, step);
    s->ledger[LEDGER_DEPOSITED] += dq;
    s->steps++;
    /* A step crosses the plane when its ends lie on either side; a position at or beyond it
     * counts as past it, so a particle that stops on the plane crosses once. */
    if (sink_records_phase_space(s) && (st->z0 < p->ps_depth) != (q->z < p->ps_depth))
        phase_space_record(s, &tally, p->ps_depth, q->z, q->t, st->t_new, rng_history(&q->r),
                           rng_id(&q->r), q->Z, q->A);
    profile_mark(prof, PROFILE_SCORING);

    q->t = st->t_new;
    q->energy_q = st->q_new;
    q->range = st->range_new;
}

/* The LET (keV/um) and z1D* (Gy, if `z1d`) of the energy a particle at t deposits on the spot
 * as it stops: their energy-weighted means over the rest of its track, from t down to the
 * tables' lowest energy. (The LET at the last step's middle gave this energy, near the
 * stopping-power maximum, too little weight.) */
static inline BRAGG_HD void stopping_means(const transport_table *tab, double density, double t,
                                           int z1d, double *let, double *z1d_mean)
{
    uint32_t c = table_energy_cell(tab, t);
    double t_low = grid_node(&tab->energy_grid, 0);
    *let = table_mean_over(tab, tab->stopping_el, tab->stopping_el_integral, c, t, 0, t_low) *
           density * 0.1;
    *z1d_mean = z1d ? table_mean_over(tab, tab->z1d, tab->z1d_integral, c, t, 0, t_low) : 0.0;
}

/* Stage 5: where the step ends: at the cut-off (the rest deposited here), out of the sides or
 * past the scoring depth, at the reaction point, or across a slab boundary. */
static inline BRAGG_HD BRAGG_FORCE_INLINE int step_finish(const transport_params *p, particle *q,
                                                          score_sink *s, const step_state *st,
                                                          step_profile *prof)
{
    if (st->to_cut) {
        double let, z1d;
        stopping_means(st->tab, st->slab->density, q->t, p->score_z1d, &let, &z1d);
        score_point(p, s, particle_channel(q), q, q->energy_q, let, z1d);
        if (st->primary) s->count[COUNT_PRIMARY_STOPPED]++;
        transport_end(s, q, LEDGER_BELOW_CUTOFF);
        profile_mark(prof, PROFILE_SCORING);
        return STEP_GONE;
    }
    if (fabs(q->x) > p->lateral_halfwidth || fabs(q->y) > p->lateral_halfwidth) {
        transport_end(s, q, LEDGER_ESCAPED_SIDE);
        return STEP_GONE;
    }
    if (q->z > p->nbins * p->bin_width) {
        /* Past the scoring depth nothing more is scored, and what little could scatter back
         * (fast fragments, at small angles) is not worth following them for. */
        transport_end(s, q, LEDGER_ESCAPED_DEEP);
        return STEP_GONE;
    }
    if (st->react) return STEP_REACT;
    if (st->to_boundary) {
        int next = q->slab + (st->w0 > 0.0 ? 1 : -1);
        if (next < 0) {
            transport_end(s, q, LEDGER_ESCAPED_BACK);
            return STEP_GONE;
        }
        if (next >= p->n_slabs) {
            transport_end(s, q, LEDGER_ESCAPED_THROUGH);
            return STEP_GONE;
        }
        /* The same energy has a different residual range in the next material. */
        q->slab = next;
        q->range = table_range(p->slabs[next].table[q->Z], q->t);
    }
    profile_mark(prof, PROFILE_OTHER);
    return STEP_ALIVE;
}

/* One condensed-history step of q: the five stages above. Returns enum step_outcome; on
 * STEP_REACT the caller runs transport_react. */
static inline BRAGG_HD BRAGG_FORCE_INLINE int transport_step(const transport_params *p,
                                                             particle *q, score_sink *s,
                                                             step_profile *prof)
{
    step_state st;
    st.slab = &p->slabs[q->slab];
    st.tab = st.slab->table[q->Z];
    st.range_cut = st.slab->range_cut[q->Z];
    /* Density in the reference isotope's range units: its range R_ref = R / a. */
    st.rho = st.slab->density / q->a;
    st.primary = particle_is_primary(q);

    if (!(q->range > st.range_cut)) {
        /* Below the cut-off already (e.g. a beam energy under it): leave it here. Written so
         * that a NaN range ends the particle too: tables are checked when built
         * (physics/tables.c), and should one still hold a NaN, a step loop must end rather
         * than spin on NaN-long steps for ever. */
        double let, z1d;
        stopping_means(st.tab, st.slab->density, q->t, p->score_z1d, &let, &z1d);
        score_point(p, s, particle_channel(q), q, q->energy_q, let, z1d);
        if (st.primary) s->count[COUNT_PRIMARY_STOPPED]++;
        transport_end(s, q, LEDGER_BELOW_CUTOFF);
        return STEP_GONE;
    }
    step_limit(p, q, &st, prof);
    step_energy_loss(p, q, &st, prof);
    step_scatter(p, q, &st, prof);
    step_score(p, q, s, &st, prof);
    return step_finish(p, q, s, &st, prof);
}

/* The waiting secondaries of one history (history loop): a bank of TRANSPORT_STACK slots in
 * arrays of its own, taken last in first out. */
typedef struct particle_stack {
#define STACK_ARRAY(type, name, field) type name[TRANSPORT_STACK];
    PARTICLE_FIELDS(STACK_ARRAY)
#undef STACK_ARRAY
} particle_stack;

static inline BRAGG_HD particle_bank particle_stack_bank(particle_stack *st)
{
    particle_bank b;
#define STACK_POINT(type, name, field) b.name = st->name;
    PARTICLE_FIELDS(STACK_POINT)
#undef STACK_POINT
    b.capacity = TRANSPORT_STACK;
    return b;
}

/* Transports primary number `history` and all its secondaries to their ends: the history loop,
 * the reference the event loop (physics/event.h) must reproduce bit for bit. With a non-NULL
 * `prof`, the time of every step goes to its components. */
static inline BRAGG_HD BRAGG_FORCE_INLINE void transport_history_profiled(const transport_params *p,
                                                                         uint64_t history,
                                                                         score_sink *s,
                                                                         step_profile *prof)
{
    if (prof) prof->last = profile_clock();
    particle_stack storage;
    particle_bank stack = particle_stack_bank(&storage);
    uint32_t waiting = 0;
    product_out out = {&stack, &waiting, TRANSPORT_STACK};
    reaction_scratch scratch;
    particle q;
    transport_start(p, history, &q, s);
    profile_mark(prof, PROFILE_OTHER);
    /* The primary, then the secondaries last in first out. One call site of the step, which is
     * inlined: with prof NULL (transport_history) every profile_mark folds away. */
    for (;;) {
        int outcome;
        while ((outcome = transport_step(p, &q, s, prof)) == STEP_ALIVE) {
        }
        if (outcome == STEP_REACT) {
            int lives = transport_react(p, &q, s, &out, &scratch);
            if (waiting > TRANSPORT_STACK) waiting = TRANSPORT_STACK;   /* slots refused */
            profile_mark(prof, PROFILE_NUCLEAR);
            if (lives) continue;
        }
        if (waiting == 0) break;
        bank_load(&stack, --waiting, p->seed, &q);
        profile_mark(prof, PROFILE_NUCLEAR);
    }
}

static inline BRAGG_HD void transport_history(const transport_params *p, uint64_t history,
                                              score_sink *s)
{
    transport_history_profiled(p, history, s, (step_profile *)0);
}

#endif
