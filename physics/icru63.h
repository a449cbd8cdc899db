/*
 * icru63.h - what a proton's nonelastic reaction on carbon, nitrogen, oxygen, aluminium,
 * silicon, phosphorus, calcium, iron, copper, tungsten or lead emits, sampled from ICRU Report
 * 63's evaluated double-differential cross-sections; and, at the end, the same report's elastic
 * scattering on those nuclei (angle and recoil).
 *
 * ICRU Report 63 (2000) gives, per target element and incident energy (up to 250 MeV), the
 * multiplicities of the emitted protons, deuterons and alphas, their spectra on 41 emission
 * energies (0 to the incident energy) and 13 angles, and the recoiling residual nuclei's share of
 * the incident energy (physics/icru63_data.c, written by scripts/icru63_tables.py, which says
 * where the numbers were read). VMCpro and MCsquare use the same evaluation; MCsquare weights
 * one secondary of each species by its multiplicity. bragg keeps every particle at weight one
 * (integer energy quanta, an exact ledger), so a reaction here is a sampled event:
 *   - the table: the two tabulated incident energies around T are mixed linearly (the upper one
 *     chosen with probability (T - E_k) / (E_k+1 - E_k)); the emission energies scale with T,
 *     x = E / T on the grid j / 40, as MCsquare scales them;
 *   - counts: floor(m) or floor(m) + 1 of each species, the mean m exactly, charge and nucleons
 *     within the target's plus the proton's;
 *   - energies: from the angle-integrated spectrum, linear between its nodes. The trapezoid over
 *     the 41 nodes holds fewer particles than the file's multiplicity (5-12% fewer at 100-200
 *     MeV: the coarse grid cuts the evaporation peak of the first few MeV); the missing ones are
 *     put into the first interval, a density falling linearly from x = 0;
 *   - angles: at the nearer-weighted of the two emission nodes around the energy, the 13-angle
 *     distribution, exponential in cos theta between its angles (Kalbach's form); azimuth
 *     uniform;
 *   - energy: the charged particles, the recoils' share and a Q-value of 8 MeV per nucleon taken
 *     from the nucleus (less the binding of the emitted deuterons and alphas) must fit in T.
 *     The inclusive spectra say nothing of how the particles of one event share it; drawn
 *     independently, two fast protons would often hold more than there is. So the particles
 *     are drawn in a random order, each from its spectrum below the energy the others left
 *     (a fast one leaves the rest slow, as in a cascade). What is left leaves as neutrons and
 *     photons.
 * Not emitted: tritons and He-3 (not in the files), neutrons and photons (the rest of T).
 * Momentum is not conserved per event (the inclusive spectra are sampled independently).
 *
 * Memory: the data are constant arrays on the host (icru63_data.c); icru63_element_copy puts an
 * element's tables into a caller's float array, which physics/tables.c keeps in the proton's
 * transport_table block (and so on the GPU). The sampler is static inline BRAGG_HD: the same code
 * on CPU and GPU, any thread, everything on the caller's stack or in its event.
 */
#ifndef BRAGG_ICRU63_H
#define BRAGG_ICRU63_H

#include <math.h>
#include <stddef.h>

#include "constants.h"
#include "fastmath.h"
#include "fragmentation.h"
#include "hd.h"
#include "random.h"

#define ICRU63_SPECIES 3          /* proton, deuteron, alpha */
#define ICRU63_NODES 41           /* emission energies j T / 40, j = 0..40 */
#define ICRU63_ANGLES 13          /* 0, 10, ..., 70, 90, 110, 130, 150, 180 degrees */
#define ICRU63_MAX_PRODUCTS 16    /* more than floor(m) + 1 of all three at any energy */
#define ICRU63_TRIES 64           /* draws of the counts before giving up on charged products */

/* The data (physics/icru63_data.c). */
extern const int icru63_elements;
extern const int icru63_element_z[];
extern const int icru63_element_first[];
extern const float icru63_energy[], icru63_sigma[], icru63_recoil[], icru63_multiplicity[];
extern const float icru63_spectrum[], icru63_ddx[];

/* Floats per incident energy in an element's copy: what the sampler reads. The energy, the
 * recoil share, three multiplicities and three double-differential tables as the files give
 * them; and what icru63_element_copy derives from the files once: the slopes between the angles
 * (icru63_angle_slope), per species the emission density and the cumulative number of particles
 * per reaction at the nodes (from the spectrum and the cross-section), and the leading particle's
 * cut and its three species' shares. */
#define ICRU63_FLOATS_PER_ENERGY                                                                  \
    (5 + ICRU63_SPECIES * ICRU63_NODES * ICRU63_ANGLES +                                          \
     ICRU63_SPECIES * ICRU63_NODES * (ICRU63_ANGLES - 1) + 2 * ICRU63_SPECIES * ICRU63_NODES +    \
     1 + ICRU63_SPECIES)

/* Host: the element of charge Z, or -1; its number of incident energies. */
int icru63_element(int Z);
int icru63_energy_count(int element);
/* Host: writes the element's tables into dst (icru63_energy_count * ICRU63_FLOATS_PER_ENERGY
 * floats), laid out as icru63_view reads them. */
void icru63_element_copy(int element, float *dst);

/* An element's tables, as laid out by icru63_element_copy: n incident energies, then n each of
 * energy and recoil share, 3n multiplicities, [n][3][41][13] angles, [n][3][41][12] slopes
 * between the angles, [n][3][41] densities, [n][3][41] cumulative counts, [n] cuts, [n][3]
 * leading shares. */
typedef struct icru63_view {
    int n;
    const float *energy, *recoil, *multiplicity, *ddx, *slope;
    const float *density, *cumulative, *cut, *fast;
} icru63_view;

static inline BRAGG_HD icru63_view icru63_view_of(const float *base, int n)
{
    icru63_view v;
    v.n = n;
    v.energy = base;
    v.recoil = v.energy + n;
    v.multiplicity = v.recoil + n;
    v.ddx = v.multiplicity + (size_t)ICRU63_SPECIES * n;
    v.slope = v.ddx + (size_t)ICRU63_SPECIES * ICRU63_NODES * ICRU63_ANGLES * n;
    v.density = v.slope + (size_t)ICRU63_SPECIES * ICRU63_NODES * (ICRU63_ANGLES - 1) * n;
    v.cumulative = v.density + (size_t)ICRU63_SPECIES * ICRU63_NODES * n;
    v.cut = v.cumulative + (size_t)ICRU63_SPECIES * ICRU63_NODES * n;
    v.fast = v.cut + n;
    return v;
}

/* cos of the tabulated angles (0, 10, 20, 30, 40, 50, 60, 70, 90, 110, 130, 150, 180 degrees). */
#define ICRU63_COS_INIT                                                                  \
    {1.0, 0.98480775301220802, 0.93969262078590832, 0.86602540378443860,                 \
     0.76604444311897801, 0.64278760968653925, 0.5, 0.34202014332566873, 0.0,            \
     -0.34202014332566873, -0.64278760968653925, -0.86602540378443860, -1.0}
BRAGG_CONST_TABLE(double, icru63_cos, ICRU63_ANGLES, ICRU63_COS_INIT)

/* Charge and mass number of each species. */
static inline BRAGG_HD int icru63_species_z(int s) { return s == 2 ? 2 : 1; }
static inline BRAGG_HD int icru63_species_a(int s) { return s == 0 ? 1 : s == 1 ? 2 : 4; }

/* One sampled reaction: the charged products (species, kinetic energy in MeV, direction cosine
 * and azimuth relative to the proton's direction) and where the rest of the energy goes. */
typedef struct icru63_event {
    int n;
    int species[ICRU63_MAX_PRODUCTS];
    double T[ICRU63_MAX_PRODUCTS], cos_theta[ICRU63_MAX_PRODUCTS], phi[ICRU63_MAX_PRODUCTS];
    double recoil_mev;     /* the residual nuclei's kinetic energy: deposited on the spot */
    double q_mev;          /* the Q-value paid */
    double neutral_mev;    /* neutrons and photons: the rest */
} icru63_event;

/* t in [0, 1] from the density rising linearly from fa at 0 to fb at 1, by inversion: the root of
 * fa t + (fb - fa) t^2 / 2 = u (fa + fb) / 2, written without cancellation. */
static inline BRAGG_HD double icru63_linear_sample(double fa, double fb, double u)
{
    double root = sqrt(fa * fa + u * (fb * fb - fa * fa));
    double den = fa + root;
    return den > 0.0 ? u * (fa + fb) / den : u;
}

/* The spectrum of species s in table k as particles per reaction per node spacing: the file's
 * spectrum scaled to its multiplicity, except at the first node: the trapezoid over the 41
 * nodes holds fewer particles than the file's multiplicity (the coarse grid cuts the evaporation
 * peak of the first few MeV), and the missing ones make the first interval's density fall from
 * there. Host, for icru63_element_copy: writes the 41 densities and the cumulative number of
 * particles at each node. */
static inline void icru63_emission(const float *g, double m, double sigma, double energy,
                                   float *density, float *cumulative)
{
    double width = energy / (ICRU63_NODES - 1), trapezoid = 0.0;
    for (int j = 0; j < ICRU63_NODES - 1; j++) trapezoid += 0.5 * ((double)g[j] + g[j + 1]);
    double missing = m * sigma / width - trapezoid;
    double total = trapezoid + (missing > 0.0 ? missing : 0.0);
    double scale = total > 0.0 ? m / total : 0.0, sum = 0.0, previous = 0.0;
    for (int j = 0; j < ICRU63_NODES; j++) {
        double d = scale * ((double)g[j] + (j == 0 && missing > 0.0 ? 2.0 * missing : 0.0));
        density[j] = (float)d;
        if (j > 0) sum += 0.5 * (previous + d);
        cumulative[j] = (float)sum;
        previous = d;
    }
}

/* Particles per reaction over [j, j + tau] of interval j (tau <= 1), densities d. */
static inline BRAGG_HD double icru63_interval_area(const float *d, int j, double tau)
{
    double fa = d[j], fb = d[j + 1];
    return fa * tau + 0.5 * (fb - fa) * tau * tau;
}

/* Emission energy of species s in table k, as x = E / E_k, drawn from the spectrum between nodes
 * jlo and y_hi (node units; y_hi may fall inside an interval); *node the emission node whose
 * angular distribution goes with it. Returns -1 if the spectrum has nothing there. */
static inline BRAGG_HD double icru63_sample_x(const icru63_view *v, int k, int s, int jlo,
                                              double yhi, rng *r, int *node)
{
    size_t at = ((size_t)k * ICRU63_SPECIES + s) * ICRU63_NODES;
    const float *d = v->density + at, *C = v->cumulative + at;
    if (yhi > ICRU63_NODES - 1) yhi = ICRU63_NODES - 1;
    int jhi = (int)yhi;
    double tau_hi = yhi - jhi;
    double part = 0.0;
    if (jhi < ICRU63_NODES - 1 && tau_hi > 0.0) part = icru63_interval_area(d, jhi, tau_hi);
    double below = ((double)C[jhi] - C[jlo]) + part;
    if (!(below > 0.0)) return -1.0;
    /* The interval: C[j] <= u < C[j + 1] by bisection, or the part of interval jhi below y_hi;
     * then the point in it, linear between its densities over the tau of it that is open. */
    double u = C[jlo] + rng_uniform(r) * below;
    int j;
    double tau = 1.0;
    if (u >= C[jhi] && part > 0.0) {
        j = jhi;
        tau = tau_hi;
    } else {
        int lo = jlo, hi = jhi;   /* C[lo] <= u < C[hi] */
        while (hi - lo > 1) {
            int mid = (lo + hi) / 2;
            if (u < C[mid]) hi = mid;
            else lo = mid;
        }
        j = lo;
    }
    double fa = d[j], fb = d[j + 1], area = icru63_interval_area(d, j, tau);
    double w = area > 0.0 ? (u - C[j]) / area : 0.0;
    w = w < 0.0 ? 0.0 : w > 1.0 ? 1.0 : w;
    double t = tau * icru63_linear_sample(fa, fa + (fb - fa) * tau, w);
    if (t > tau) t = tau;
    *node = rng_uniform(r) < t ? j + 1 : j;
    return (j + t) / (ICRU63_NODES - 1);
}

/* The angular distribution between tabulated angles i and i + 1 (cos c0 > c1, values h0, h1):
 * exponential in cos theta, h1 exp(b (c - c1)), the form of Kalbach's systematics, exp(a cos
 * theta), by which the evaluation's continuum angular distributions were made (ICRU Report 63,
 * after Kalbach, Phys. Rev. C 37 (1988) 2350); linear where either value is 0. Linear in
 * cos theta would overstate the wide angles between the nodes, where the distribution of fast
 * particles falls tenfold over 20 degrees. The slope b, or 0 for linear: computed once per
 * table by icru63_element_copy (a logarithm per interval would cost more than the rest of a
 * reaction). */
static inline BRAGG_HD double icru63_exp_slope(double width, double h0, double h1)
{
    if (!(h0 > 0.0 && h1 > 0.0)) return 0.0;
    double b = portable_log(h0 / h1) / width;
    return fabs(b * width) < 1e-6 ? 0.0 : b;
}

/* The area under that form over the interval of cos-width `width` (b = 0: linear). */
static inline BRAGG_HD double icru63_exp_area(double width, double h0, double h1, double b)
{
    if (b == 0.0) return width * 0.5 * (h0 + h1);
    return (h0 - h1) / b;
}

/* cos theta in [c1, c0] from that form, u uniform in [0, 1). From c1 up: the inverse of
 * (exp(b (c - c1)) - 1) / (exp(b (c0 - c1)) - 1). */
static inline BRAGG_HD double icru63_exp_cos(double c0, double c1, double h0, double h1, double b,
                                             double u)
{
    double c;
    if (b != 0.0) c = c1 + portable_log(1.0 + u * (portable_exp(b * (c0 - c1)) - 1.0)) / b;
    else c = c0 - (c0 - c1) * icru63_linear_sample(h0, h1, u);
    return c < c1 ? c1 : c > c0 ? c0 : c;
}

static inline BRAGG_HD double icru63_angle_slope(const float *h, int i)
{
    double width = BRAGG_CONST_GET(icru63_cos, i) - BRAGG_CONST_GET(icru63_cos, i + 1);
    return icru63_exp_slope(width, h[i], h[i + 1]);
}

/* The area of interval i, with its slope b[i] (0: linear). */
static inline BRAGG_HD double icru63_angle_area(const float *h, const float *b, int i)
{
    double width = BRAGG_CONST_GET(icru63_cos, i) - BRAGG_CONST_GET(icru63_cos, i + 1);
    return icru63_exp_area(width, h[i], h[i + 1], b[i]);
}

/* Direction cosine of species s at emission node j of table k, from the 13 angles (above). A
 * node without angular data (the end points, where the spectrum is 0) borrows its neighbour's;
 * isotropic if that has none either. */
static inline BRAGG_HD double icru63_sample_cos(const icru63_view *v, int k, int s, int j, rng *r)
{
    size_t table = ((size_t)k * ICRU63_SPECIES + s) * ICRU63_NODES;
    const float *h = NULL, *b = NULL;
    double area[ICRU63_ANGLES - 1], total = 0.0;
    for (int pass = 0; pass < 2 && !(total > 0.0); pass++) {
        size_t node = table + (size_t)(pass == 0 ? j : j > 0 ? j - 1 : j + 1);
        h = v->ddx + node * ICRU63_ANGLES;
        b = v->slope + node * (ICRU63_ANGLES - 1);
        total = 0.0;
        for (int i = 0; i < ICRU63_ANGLES - 1; i++) {
            area[i] = icru63_angle_area(h, b, i);
            total += area[i];
        }
    }
    double u = rng_uniform(r) * total, u2 = rng_uniform(r);
    if (!(total > 0.0)) return 1.0 - 2.0 * u2;
    int chosen = 0;
    for (int i = 0; i < ICRU63_ANGLES - 1; i++) {
        if (!(area[i] > 0.0)) continue;
        chosen = i;
        if (u < area[i]) break;
        u -= area[i];
    }
    return icru63_exp_cos(BRAGG_CONST_GET(icru63_cos, chosen),
                          BRAGG_CONST_GET(icru63_cos, chosen + 1), h[chosen], h[chosen + 1],
                          b[chosen], u2);
}

/* Samples one reaction of a proton of kinetic energy T (MeV) on the element v (target charge Zt,
 * mass number At). The caller has checked T <= the last tabulated energy. */
static inline BRAGG_HD void icru63_sample(const icru63_view *v, rng *r, double T, int Zt, int At,
                                          icru63_event *ev)
{
    int k = 0;
    while (k < v->n - 1 && T >= v->energy[k + 1]) k++;
    if (k < v->n - 1 && T > v->energy[k]) {
        double f = (T - v->energy[k]) / ((double)v->energy[k + 1] - v->energy[k]);
        if (rng_uniform(r) < f) k++;
    }
    ev->recoil_mev = T * v->recoil[k];
    /* The leading particle: the fastest part of the spectra, down to the node where it holds one
     * particle per reaction (x = 0.2-0.25 from 30 to 250 MeV on carbon, oxygen and calcium;
     * icru63_element_copy finds it). */
    int cut = (int)v->cut[k];
    const float *fast = v->fast + (size_t)k * ICRU63_SPECIES;
    /* Counts: at most one leading particle; the rest of each multiplicity below the cut,
     * floor(m) or floor(m) + 1; within the charge and nucleons there are (drawn again if not). */
    int count[ICRU63_SPECIES], lead = -1, nucleons = 0;
    double u = rng_uniform(r);
    for (int s = 0; s < ICRU63_SPECIES && lead < 0; s++) {
        if (u < fast[s]) lead = s;
        u -= fast[s];
    }
    for (int tries = 1;; tries++) {
        int charge = 0;
        nucleons = 0;
        for (int s = 0; s < ICRU63_SPECIES; s++) {
            double m = (double)v->multiplicity[(size_t)k * ICRU63_SPECIES + s] - fast[s];
            int whole = m > 0.0 ? (int)m : 0;
            count[s] = whole + (rng_uniform(r) < m - whole ? 1 : 0) + (s == lead);
            charge += count[s] * icru63_species_z(s);
            nucleons += count[s] * icru63_species_a(s);
        }
        /* The proton and the target hold Zt + 1 protons and At + 1 nucleons. */
        if (charge <= Zt + 1 && nucleons <= At + 1 &&
            count[0] + count[1] + count[2] <= ICRU63_MAX_PRODUCTS)
            break;
        if (tries == ICRU63_TRIES) {   /* never seen: an event without charged products */
            count[0] = count[1] = count[2] = nucleons = 0;
            lead = -1;
            break;
        }
    }
    /* The leading particle first, then the others in a random order, each from its spectrum below
     * the energy left after the recoils and the Q-value of what has been emitted so far (8 MeV
     * per nucleon taken from the nucleus, the proton itself free, less the binding of the
     * deuterons and alphas); a particle there is no room for is not emitted. */
    ev->n = 0;
    if (lead >= 0) {
        ev->species[ev->n++] = lead;
        count[lead]--;
    }
    int first_slow = ev->n;
    for (int s = 0; s < ICRU63_SPECIES; s++)
        for (int i = 0; i < count[s]; i++) ev->species[ev->n++] = s;
    for (int i = ev->n - 1; i > first_slow; i--) {
        int j = first_slow + (int)(rng_uniform(r) * (i - first_slow + 1));
        if (j > i) j = i;
        int swap = ev->species[i];
        ev->species[i] = ev->species[j];
        ev->species[j] = swap;
    }
    double room = T - ev->recoil_mev, q = -NUCLEON_REMOVAL_MEV;
    ev->q_mev = 0.0;
    int kept = 0;
    for (int i = 0; i < ev->n; i++) {
        int s = ev->species[i], node = 0, fastest = i < first_slow;
        /* An emitted deuteron or alpha keeps its binding (AME2020, as the break-up's). */
        int a = icru63_species_a(s);
        double q_with = q + NUCLEON_REMOVAL_MEV * a -
                        (a > 1 ? nuclear_binding_mev(icru63_species_z(s), a, 0.0) : 0.0);
        double cost = (q_with > 0.0 ? q_with : 0.0) - ev->q_mev;
        double yhi = (room - cost) / T * (ICRU63_NODES - 1);
        if (!fastest && yhi > cut) yhi = cut;
        double x = yhi > 0.0 ? icru63_sample_x(v, k, s, fastest ? cut : 0, yhi, r, &node) : -1.0;
        if (x < 0.0) continue;
        q = q_with;
        ev->q_mev += cost;
        room -= cost;
        ev->species[kept] = s;
        ev->T[kept] = x * T;
        if (ev->T[kept] > room) ev->T[kept] = room;
        room -= ev->T[kept];
        ev->cos_theta[kept] = icru63_sample_cos(v, k, s, node, r);
        ev->phi[kept] = 2.0 * PI * rng_uniform(r);
        kept++;
    }
    ev->n = kept;
    ev->neutral_mev = room;
}

/* Elastic scattering (the same files): per element and incident energy, d sigma / d Omega in the
 * centre of mass at 5, 10, ..., 180 degrees; below 5 degrees multiple Coulomb scattering holds
 * it, and beyond 5 degrees too where a step's Gaussian reaches that far (tungsten and lead,
 * aluminium to copper at low energies): the copy then starts at a later angle. Between
 * the angles the distribution is a power of x = 1 - cos theta, h0 (x / x0)^-n: exact for
 * Rutherford's 1 / sin^4(theta / 2) = 4 / x^2, which is all of it at a few MeV (oxygen at 10
 * MeV: 248 b/sr at 5 degrees, 14.9 at 10, sixteen times less), and close to the exponential of
 * the diffraction peak at 100-250 MeV (a factor of 2 between two angles). Exponential in
 * cos theta put 33% too much into 5-10 degrees at 10 MeV, linear (the files' own trapezoid)
 * 111%. The rate is what the sampled distribution integrates to (icru63_elastic_copy). */
#define ICRU63_ELASTIC_ANGLES 36
extern const int icru63_elastic_first[];
extern const float icru63_elastic_energy[], icru63_elastic_sigma[], icru63_elastic_dxs[];

/* An element's elastic copy: the 36 values of x = 1 - cos theta, then per incident energy its
 * energy (MeV), the cross-section over 5-180 degrees (b), d sigma / d Omega (b/sr) at the 36
 * angles, the 35 powers n between them (icru63_power_slope) and the cumulative share of the 35
 * intervals (the last 1). */
#define ICRU63_ELASTIC_FLOATS_PER_ENERGY                                                          \
    (2 + ICRU63_ELASTIC_ANGLES + 2 * (ICRU63_ELASTIC_ANGLES - 1))
#define ICRU63_ELASTIC_FLOATS(n) (ICRU63_ELASTIC_ANGLES + (n) * ICRU63_ELASTIC_FLOATS_PER_ENERGY)

/* Host: the element's number of elastic incident energies; writes its copy into dst
 * (ICRU63_ELASTIC_FLOATS(count) floats), the distribution of its k-th energy from interval
 * first_interval[k] on (interval i runs from 5 (i + 1) to 5 (i + 2) degrees; NULL: all from 5
 * degrees): the rate and the draws leave the smaller angles to multiple scattering, where a
 * step's Gaussian reaches them (physics/tables.c, elastic_first_interval). */
int icru63_elastic_count(int element);
void icru63_elastic_copy(int element, const int *first_interval, float *dst);

typedef struct icru63_elastic_view {
    int n;
    const float *x, *energy, *sigma, *dxs, *slope, *cumulative;
} icru63_elastic_view;

static inline BRAGG_HD icru63_elastic_view icru63_elastic_view_of(const float *base, int n)
{
    icru63_elastic_view v;
    v.n = n;
    v.x = base;
    v.energy = base + ICRU63_ELASTIC_ANGLES;
    v.sigma = v.energy + n;
    v.dxs = v.sigma + n;
    v.slope = v.dxs + (size_t)ICRU63_ELASTIC_ANGLES * n;
    v.cumulative = v.slope + (size_t)(ICRU63_ELASTIC_ANGLES - 1) * n;
    return v;
}

/* The power n of h0 (x / x0)^-n between x0 < x1 (values h0, h1), or 0 for linear in x where
 * either value is 0 or they are equal. */
static inline BRAGG_HD double icru63_power_slope(double x0, double x1, double h0, double h1)
{
    if (!(h0 > 0.0 && h1 > 0.0)) return 0.0;
    double n = portable_log(h0 / h1) / portable_log(x1 / x0);
    return fabs(n) < 1e-9 ? 0.0 : n;
}

/* The area under that form over [x0, x1] (n = 0: linear). */
static inline BRAGG_HD double icru63_power_area(double x0, double x1, double h0, double h1,
                                                double n)
{
    if (n == 0.0) return (x1 - x0) * 0.5 * (h0 + h1);
    double g = 1.0 - n, lr = portable_log(x1 / x0);
    if (fabs(g * lr) < 1e-9) return h0 * x0 * lr;
    return h0 * x0 * (portable_exp(g * lr) - 1.0) / g;
}

/* x in [x0, x1] from that form, u uniform in [0, 1): the inverse of its cumulative area. */
static inline BRAGG_HD double icru63_power_x(double x0, double x1, double h0, double h1, double n,
                                             double u)
{
    double x;
    if (n == 0.0) {
        x = x0 + (x1 - x0) * icru63_linear_sample(h0, h1, u);
    } else {
        double g = 1.0 - n, lr = portable_log(x1 / x0);
        if (fabs(g * lr) < 1e-9) x = x0 * portable_exp(u * lr);
        else x = x0 * portable_exp(portable_log(1.0 + u * (portable_exp(g * lr) - 1.0)) / g);
    }
    return x < x0 ? x0 : x > x1 ? x1 : x;
}

/* The elastic cross-section at T (MeV), b: linear between the tabulated energies, 0 outside
 * them (below the first, 1-7 MeV, and above 250 MeV). */
static inline BRAGG_HD double icru63_elastic_sigma_at(const icru63_elastic_view *v, double T)
{
    if (v->n < 1 || !(T >= v->energy[0]) || T > v->energy[v->n - 1]) return 0.0;
    int k = 0;
    while (k < v->n - 1 && T >= v->energy[k + 1]) k++;
    if (k == v->n - 1) return v->sigma[k];
    double f = (T - v->energy[k]) / ((double)v->energy[k + 1] - v->energy[k]);
    return (1.0 - f) * v->sigma[k] + f * v->sigma[k + 1];
}

/* cos theta in the centre of mass of an elastic scattering at T (within the tables): the table
 * of the energy below or above T, each with its share of icru63_elastic_sigma_at (so that the
 * draws follow the interpolated distribution the rate integrates), the interval by its
 * cumulative share, the angle in it from the power form. */
static inline BRAGG_HD double icru63_elastic_sample_cos(const icru63_elastic_view *v, double T,
                                                        rng *r)
{
    int k = 0;
    while (k < v->n - 1 && T >= v->energy[k + 1]) k++;
    if (k < v->n - 1 && T > v->energy[k]) {
        double f = (T - v->energy[k]) / ((double)v->energy[k + 1] - v->energy[k]);
        double below = (1.0 - f) * v->sigma[k], above = f * v->sigma[k + 1];
        if (rng_uniform(r) * (below + above) < above) k++;
    }
    const float *cum = v->cumulative + (size_t)k * (ICRU63_ELASTIC_ANGLES - 1);
    const float *h = v->dxs + (size_t)k * ICRU63_ELASTIC_ANGLES;
    const float *b = v->slope + (size_t)k * (ICRU63_ELASTIC_ANGLES - 1);
    double u = rng_uniform(r), u2 = rng_uniform(r);
    int lo = 0, hi = ICRU63_ELASTIC_ANGLES - 2;   /* the first interval with u < cum[i] */
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (u < cum[mid]) hi = mid;
        else lo = mid + 1;
    }
    return 1.0 - icru63_power_x(v->x[lo], v->x[lo + 1], h[lo], h[lo + 1], b[lo], u2);
}

/* Elastic two-body scattering of a projectile of mass m (MeV) and kinetic energy T on a nucleus
 * of mass M at rest, at cos c in the centre of mass, exact and relativistic: the projectile's
 * laboratory angle and the recoil's kinetic energy, T_R = p*^2 (1 - c) / M (minus the
 * four-momentum transfer over 2M; p* the centre-of-mass momentum, p M / sqrt(s)). */
static inline BRAGG_HD void icru63_elastic_kinematics(double T, double m, double M, double c,
                                                      double *theta_lab, double *recoil)
{
    double E = T + m, p = sqrt(T * (T + 2.0 * m));
    double s = m * m + M * M + 2.0 * E * M, W = sqrt(s);
    double pcm = p * M / W, e_cm = (s + m * m - M * M) / (2.0 * W);
    *recoil = pcm * pcm * (1.0 - c) / M;
    /* The projectile's momentum boosted back by the centre of mass (gamma = (E + M) / W,
     * gamma beta = p / W): along the beam gamma p* c + gamma beta e*, across p* sin. */
    double along = (E + M) / W * pcm * c + p / W * e_cm;
    *theta_lab = portable_atan2(pcm * sqrt(fmax(0.0, 1.0 - c * c)), along);
}

#endif
