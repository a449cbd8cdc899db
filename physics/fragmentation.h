/*
 * fragmentation.h - what comes out of a nuclear reaction: an abrasion-ablation model of
 * projectile fragmentation for nuclei, and Bortfeld's energy split for protons.
 *
 * Nucleus-nucleus (after Wilson et al.'s NUCFRG2 abrasion-ablation model as implemented in
 * Geant4's G4WilsonAbrasionModel / G4WilsonAblationModel; formulas and sources in
 * tests/reference/NOTES-nuclear.md, section 4):
 *   1. impact parameter: b^2 uniform over the two sharp-sphere nuclei, Coulomb-corrected
 *      closest approach;
 *   2. abrasion: the projectile volume in the overlap F and the chord through the target give the
 *      mean number of abraded nucleons F A_P (1 - exp(-C_T / lambda)), lambda = 16.6 fm / E^0.26;
 *      the number is Poisson (at least one), its charge hypergeometric; the same number is
 *      knocked out of the target;
 *   3. excitation: excess surface energy 0.95 MeV/fm^2 over the surface change (with the central-
 *      collision enhancement), plus, half the time, 13 MeV/fm of frictional spectator
 *      excitation along the chord; at most 10 MeV per nucleon;
 *   4. ablation: one nucleon per 10 MeV of excitation; the fragment's charge from Rudstam's
 *      distribution, the evaporated nucleons grouped greedily into alpha, He-3, t, d, p, n;
 *   5. momenta in the projectile's rest frame: Goldhaber's statistical width
 *      sigma = 90 MeV/c sqrt(K (A_P - K) / (A_P - 1)) per component for a fragment of K
 *      nucleons (Goldhaber, Phys. Lett. 53B (1974) 306); abraded nucleons the leading Gaussian
 *      of Cucinotta's spectrum, sigma^2 = 0.4 p_K^2; then the boost to the laboratory.
 *   Projectile-side neutrons and target-side neutrons leave (their energy is booked as carried
 *   off); knocked-out target protons are transported; the charged share of the target's
 *   excitation energy is deposited where the reaction happened.
 * Proton projectiles (Bortfeld, Med. Phys. 24 (1997) 2024): a fraction 0.6 of the proton's energy
 * is absorbed locally (short-range charged secondaries), the rest is carried off by neutrons and
 * photons.
 * Unbound light nuclei left by the model decay at once: He-5 -> alpha n, Li-5 -> alpha p,
 * Be-8 -> 2 alpha, B-9 -> 2 alpha p, Li-4 -> He-3 p, He-2 -> 2p, Be-6 -> alpha 2p; beyond rough
 * drip lines (N > 2Z, N < Z - 2) a neutron or proton is shed until the nucleus is bound.
 *
 * Energy is conserved per event by the caller (physics/transport.h, transport_react): the
 * Q-value and the target's share are paid by the participants (the abraded projectile
 * nucleons); the spectator fragments keep the beam's velocity.
 * Model limits (stated in docs/physics.md): no nuclear elastic scattering; momentum is not
 * conserved event by event; fragments of a charge share the cross-sections of that charge's
 * reference isotope.
 *
 * static inline and BRAGG_HD: the same code on CPU and GPU. Everything is on the caller's stack;
 * the random numbers come from the reacting particle's stream.
 */
#ifndef BRAGG_FRAGMENTATION_H
#define BRAGG_FRAGMENTATION_H

#include <math.h>

#include "hd.h"
#include "random.h"

#define NUCLEAR_MAX_A         64     /* largest projectile mass number handled */
#define NUCLEAR_MAX_PRODUCTS  72     /* charged products of one reaction, both sides */
#define NUCLEON_MASS_MEV      938.918   /* mean of proton and neutron, CODATA 2018 */
#define NEUTRON_MASS_MEV      939.56542052

/* Where a product comes from. Spectators (the projectile's remnant and what it evaporates)
 * keep the projectile's velocity; participants (nucleons abraded from the projectile) are
 * where the collision's energy goes. */
enum product_origin { FROM_TARGET, FROM_SPECTATOR, FROM_PARTICIPANT };

/* A charged product: charge, mass number and momentum, MeV/c. Projectile-side products are
 * given in the projectile's rest frame (z along its direction), target-side ones in the
 * laboratory. */
typedef struct nuclear_product {
    int Z, A;
    int origin;           /* enum product_origin */
    double px, py, pz;
} nuclear_product;

typedef struct nuclear_event {
    int n;
    nuclear_product product[NUCLEAR_MAX_PRODUCTS];
    int spectator_neutrons;    /* evaporated: leave at about the projectile's velocity */
    int participant_neutrons;  /* abraded from the projectile */
    int target_removed;        /* nucleons knocked out of the target */
    double local_mev;          /* deposited at the reaction point */
    double neutral_mev;        /* carried off by target-side neutrons and photons */
} nuclear_event;

/* Sharp-sphere radii by mass number, fm (physics/nuclear.h fills them on the host). */
typedef struct nuclear_radii {
    double r[NUCLEAR_MAX_A + 1];
} nuclear_radii;

static inline BRAGG_HD int poisson_sample(rng *r, double mean)
{
    /* Knuth's product of uniforms: exact, and the means here are below ~20. */
    double limit = exp(-mean), prod = rng_uniform(r);
    int k = 0;
    while (prod > limit && k < 200) {
        prod *= rng_uniform(r);
        k++;
    }
    return k;
}

/* Protons among `take` nucleons drawn without replacement from Z protons in A nucleons. */
static inline BRAGG_HD int hypergeometric_protons(rng *r, int Z, int A, int take)
{
    int protons = 0;
    for (int i = 0; i < take && A > 0; i++) {
        if (rng_uniform(r) * A < Z) {
            protons++;
            Z--;
        }
        A--;
    }
    return protons;
}

/* Overlap geometry of nucleus 1 (radius r1) with nucleus 2 (r2) at centre distance d (Wilson
 * et al.; as in Geant4's G4NuclearAbrasionGeometry): F, the fraction of nucleus 1's volume
 * in the overlap, and P, the surface term of its excitation. */
static inline BRAGG_HD void abrasion_overlap(double r1, double r2, double d, double *F, double *P)
{
    double n = r1 / (r1 + r2), beta = d / (r1 + r2), m = r2 / r1;
    double Q = (1.0 - beta) / n, S = Q * Q, T3 = S * Q, R = sqrt(m * n), U = 1.0 / m - 2.0;
    double f, p;
    if (r2 > r1) {
        if (d >= r2 - r1 && d <= r2 + r1) {
            f = 0.75 * R * S - 0.125 * (3.0 * R - 1.0) * T3;
            p = 0.125 * R * U * S - 0.125 * (0.5 * R * U + 1.0) * T3;
        } else {
            f = 1.0;
            p = -1.0;
        }
    } else {
        double q1 = 1.0 - m * m, root = sqrt(q1 > 0 ? q1 : 0);
        double c = 1.0 - q1 * root;   /* 1 - (1 - m^2)^(3/2) */
        if (d >= r1 - r2 && d <= r1 + r2) {
            double q2 = 1.0 - (1.0 - m) * (1.0 - m);
            f = 0.75 * R * S -
                0.125 * (3.0 * sqrt(n / m) - c * sqrt(q2 > 0 ? q2 : 0) / (m * m * m)) * T3;
            p = 0.125 * R * U * S -
                0.125 * (0.5 * sqrt(n / m) * U - (root / n - 1.0) * sqrt((2.0 - m) / (m * m * m * m * m))) * T3;
        } else {
            double q3 = 1.0 - beta * beta / (n * n), s3 = sqrt(q3 > 0 ? q3 : 0);
            f = c * s3;
            p = (root / n - 1.0) * s3;
        }
    }
    /* Clamped; a NaN (not expected, but cheap to rule out) counts as no overlap. */
    *F = f >= 0.0 ? (f > 1.0 ? 1.0 : f) : 0.0;
    *P = p >= -1.0 ? (p > 1.0 ? 1.0 : p) : -1.0;
}

/* Excess surface energy of a nucleus of A nucleons and radius r1 that lost the overlap with a
 * nucleus of radius r2 at distance d, MeV. */
static inline BRAGG_HD double abrasion_surface_energy(int A, double r1, double r2, double d,
                                                      double F, double P)
{
    double e = 0.95 * 4.0 * 3.14159265358979323846 * r1 * r1 * (1.0 + P - cbrt((1.0 - F) * (1.0 - F)));
    if ((d - r1) / r2 < 2.0 / 3.0) {
        /* Central collisions: Wilson et al.'s enhancement with omega by mass number. */
        double omega = A < 12 ? 1500.0 : A <= 16 ? 1500.0 - 320.0 * (A - 12) : 0.0;
        e *= 1.0 + F * (5.0 + omega * F * F);
    }
    double cap = 10.0 * A;
    return e < 0.0 ? 0.0 : e > cap ? cap : e;
}

/* Frictional spectator excitation of nucleus 1 (radius r1) by nucleus 2 (r2) at distance d:
 * 13 MeV per fm of chord, more when the transverse chord exceeds 1.5 fm. */
static inline BRAGG_HD double abrasion_friction_energy(double r1, double r2, double d)
{
    double q = r1 * r1 + 2.0 * d * r2 - d * d - r2 * r2;
    double cl = d > r2 ? 2.0 * sqrt(q > 0 ? q : 0) : 2.0 * r1;
    double ct;
    if (r2 > r1 && d * d < r2 * r2 - r1 * r1) ct = 2.0 * r1;
    else if (r1 > r2 && d * d < r1 * r1 - r2 * r2) ct = 2.0 * r2;
    else {
        double b1 = (r1 * r1 + d * d - r2 * r2) / (2.0 * d), s = r1 * r1 - b1 * b1;
        ct = s > 0 ? 2.0 * sqrt(s) : 0.0;
    }
    double e = 13.0 * cl;
    if (ct > 1.5) e += 13.0 / 3.0 * cl * (ct - 1.5);
    return e;
}

static inline BRAGG_HD void event_add(nuclear_event *ev, int Z, int A, int origin,
                                      double px, double py, double pz)
{
    if (ev->n >= NUCLEAR_MAX_PRODUCTS) return;   /* cannot happen: at most A_P + A_T pieces */
    nuclear_product *p = &ev->product[ev->n++];
    p->Z = Z;
    p->A = A;
    p->origin = origin;
    p->px = px;
    p->py = py;
    p->pz = pz;
}

/* Adds a product whose momentum components are independent Gaussians of width sigma (MeV/c),
 * drawn in the order x, y, z. */
static inline BRAGG_HD void event_add_gaussian(nuclear_event *ev, rng *r, int Z, int A, int origin,
                                               double sigma)
{
    double px = sigma * rng_gauss(r);
    double py = sigma * rng_gauss(r);
    double pz = sigma * rng_gauss(r);
    event_add(ev, Z, A, origin, px, py, pz);
}

/* Width per component of the momenta of nucleons abraded from a nucleus of A nucleons and
 * radius r (fm): the leading Gaussian of Cucinotta's spectrum, sigma^2 = 0.4 p_K^2 with
 * p_K = hbar c (9 pi A / 4)^(1/3) / (1.29 r), times 1.62 - 0.229 A^(1/3) for A <= 24. */
static inline BRAGG_HD double abraded_nucleon_sigma(int A, double r)
{
    double pk = 197.327 * cbrt(9.0 * 3.14159265358979323846 * A / 4.0) / (1.29 * r);
    if (A <= 24) pk *= 1.62 - 0.229 * cbrt((double)A);
    return sqrt(0.4) * pk;
}

/* Adds a projectile-side piece of K nucleons with Goldhaber's momentum spread (K < A_P). */
static inline BRAGG_HD void event_add_fragment(nuclear_event *ev, rng *r, int Z, int K, int Ap)
{
    double f = Ap > 1 ? (double)K * (Ap - K) / (Ap - 1) : 0.0;
    event_add_gaussian(ev, r, Z, K, FROM_SPECTATOR, 90.0 * sqrt(f > 0 ? f : 0));
}

/* Breaks an unbound light nucleus (Z, A) into bound pieces, all with the same spread. */
static inline BRAGG_HD void event_add_settled(nuclear_event *ev, rng *r, int Z, int A, int Ap)
{
    while (A > 0) {
        int N = A - Z;
        if (Z == 0) {                        /* neutrons only */
            ev->spectator_neutrons += A;
            return;
        }
        if ((Z == 2 && A == 5) || (Z == 3 && A == 5) || (Z == 4 && A == 8) ||
            (Z == 5 && A == 9) || (Z == 4 && A == 6)) {
            event_add_fragment(ev, r, 2, 4, Ap);   /* an alpha particle and the rest */
            Z -= 2;
            A -= 4;
            continue;
        }
        if ((Z == 3 && A == 4) || (Z == 2 && A == 2) || (A > 1 && N < Z - 2)) {
            event_add_fragment(ev, r, 1, 1, Ap);   /* shed a proton */
            Z--;
            A--;
            continue;
        }
        if (N > 2 * Z) {                     /* shed a neutron */
            ev->spectator_neutrons++;
            A--;
            continue;
        }
        event_add_fragment(ev, r, Z, A, Ap);
        return;
    }
}

/* Samples the products of projectile (Zp, Ap) at t MeV/u on target (Zt, At). Returns 0 when
 * the Coulomb trajectory cannot reach the target (no reaction: the caller keeps the particle). */
static inline BRAGG_HD int fragmentation_sample(const nuclear_radii *radii, rng *r, int Zp, int Ap,
                                                int Zt, int At, double t, nuclear_event *ev)
{
    ev->n = 0;
    ev->spectator_neutrons = 0;
    ev->participant_neutrons = 0;
    ev->local_mev = 0.0;
    ev->neutral_mev = 0.0;
    ev->target_removed = 0;
    double rp = radii->r[Ap], rt = radii->r[At < NUCLEAR_MAX_A ? At : NUCLEAR_MAX_A];
    double rsum = rp + rt;
    double rm = Zp * Zt * 1.44 / (Ap * t);   /* Coulomb distance, fm (e^2 = 1.44 MeV fm) */
    if (rm >= 0.99 * rsum) return 0;

    /* 1-2: impact parameter and abrasion, resampled until a nucleon is abraded. */
    double d = 0.0;
    int abraded = 0;
    double lambda = 16.6 / pow(t, 0.26);
    for (int attempt = 0; attempt < 1000 && abraded == 0; attempt++) {
        double b2 = rng_uniform(r) * rsum * rsum;
        d = 0.5 * (rm + sqrt(rm * rm + 4.0 * b2));
        if (d > rsum) continue;
        double F, P, ct;
        abrasion_overlap(rp, rt, d, &F, &P);
        if (rt > rp) {
            double x = (rp * rp + d * d - rt * rt) / (2.0 * d);
            double s = x > 0 ? rt * rt - x * x : rt * rt - d * d;
            ct = 2.0 * sqrt(s > 0 ? s : 0);
        } else {
            double x = (rt * rt + d * d - rp * rp) / (2.0 * d);
            double s = rt * rt - x * x;
            ct = x > 0 ? 2.0 * sqrt(s > 0 ? s : 0) : 2.0 * rt;
        }
        double mean = F * Ap * (1.0 - exp(-ct / lambda));
        for (int k = 0; k < 10 && abraded == 0; k++) abraded = poisson_sample(r, mean);
    }
    if (abraded == 0) return 0;
    if (abraded > Ap) abraded = Ap;
    if (Ap - abraded < 2) abraded = Ap;
    int abraded_target = abraded < At ? abraded : At;
    if (At - abraded_target < 2) abraded_target = At;

    /* Abraded projectile nucleons: protons go on (Cucinotta's leading Gaussian), neutrons leave. */
    int zp_out = hypergeometric_protons(r, Zp, Ap, abraded);
    double sigma_abr = abraded_nucleon_sigma(Ap, rp);
    for (int i = 0; i < zp_out; i++) event_add_gaussian(ev, r, 1, 1, FROM_PARTICIPANT, sigma_abr);
    ev->participant_neutrons += abraded - zp_out;

    /* Target side: knocked-out protons are transported, neutrons leave. */
    int zt_out = hypergeometric_protons(r, Zt, At, abraded_target);
    ev->target_removed = abraded_target;
    double sigma_t = abraded_nucleon_sigma(At, rt);
    for (int i = 0; i < zt_out; i++) event_add_gaussian(ev, r, 1, 1, FROM_TARGET, sigma_t);
    /* Mean kinetic energy of a neutron with that spread: 3 sigma^2 / 2m. */
    ev->neutral_mev += (abraded_target - zt_out) * 1.5 * sigma_t * sigma_t / NEUTRON_MASS_MEV;

    /* 3: excitation energies. */
    double Fp, Pp, Ft, Pt;
    abrasion_overlap(rp, rt, d, &Fp, &Pp);
    abrasion_overlap(rt, rp, d, &Ft, &Pt);
    double ex_p = abrasion_surface_energy(Ap, rp, rt, d, Fp, Pp);
    double ex_t = abrasion_surface_energy(At, rt, rp, d, Ft, Pt);
    if (abraded < At && rng_uniform(r) < 0.5) ex_p += abrasion_friction_energy(rp, rt, d);
    else ex_t += abrasion_friction_energy(rt, rp, d);
    int a_pre = Ap - abraded, z_pre = Zp - zp_out;
    int a_rest_t = At - abraded_target;
    if (ex_p > 10.0 * a_pre) ex_p = 10.0 * a_pre;
    if (ex_t > 10.0 * a_rest_t) ex_t = 10.0 * a_rest_t;
    /* The target's de-excitation products stop near the reaction: the charged share of the
     * energy is deposited there, the neutral share leaves. */
    if (a_rest_t > 0) {
        double charged = (double)(Zt - zt_out) / a_rest_t;
        ev->local_mev += ex_t * charged;
        ev->neutral_mev += ex_t * (1.0 - charged);
    }

    if (a_pre == 0) return 1;
    if (z_pre == 0) {            /* a neutron-only remainder */
        ev->spectator_neutrons += a_pre;
        return 1;
    }

    /* 4: ablation. */
    int ablated = (int)(ex_p / 10.0);
    if (ablated > a_pre) ablated = a_pre;
    int a_f = a_pre - ablated, z_f = 0;
    if (a_f > 0) {
        int zlo = z_pre - ablated > 1 ? z_pre - ablated : 1, zhi = z_pre < a_f ? z_pre : a_f;
        double R = 11.8 / pow((double)a_f, 0.45), centre = 0.486 * a_f - 3.8e-4 * a_f * a_f;
        double w[NUCLEAR_MAX_A + 1], total = 0.0;
        for (int z = zlo; z <= zhi; z++) {
            w[z] = exp(-R * pow(fabs(z - centre), 1.5));
            total += w[z];
        }
        double u = rng_uniform(r) * total;
        z_f = zhi;
        for (int z = zlo; z <= zhi; z++) {
            u -= w[z];
            if (u <= 0.0) {
                z_f = z;
                break;
            }
        }
    }
    int da = a_pre - a_f, dz = z_pre - z_f;
    /* Evaporated nucleons grouped greedily, never using more neutrons than are there. */
    static const int light_z[4] = {2, 2, 1, 1}, light_a[4] = {4, 3, 3, 2};
    for (int k = 0; k < 4; k++) {
        int zx = light_z[k], ax = light_a[k], nx = ax - zx;
        int count = da / ax;
        if (dz / zx < count) count = dz / zx;
        if (nx > 0 && (da - dz) / nx < count) count = (da - dz) / nx;
        for (int i = 0; i < count; i++) event_add_fragment(ev, r, zx, ax, Ap);
        da -= count * ax;
        dz -= count * zx;
    }
    for (int i = 0; i < dz; i++) event_add_fragment(ev, r, 1, 1, Ap);
    ev->spectator_neutrons += da - dz;
    if (a_f > 0) event_add_settled(ev, r, z_f, a_f, Ap);
    return 1;
}

#endif
