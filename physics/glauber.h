/*
 * glauber.h - the reaction cross-section of two nuclei in Glauber's optical limit, from their
 * nucleon densities and the nucleon-nucleon cross-sections.
 *
 * Why: measured reaction cross-sections of C-12 on Be, C and Al (Takechi et al., Phys. Rev. C 79
 * (2009) 061601) fall from 140 to 370 MeV/u as the nucleon-nucleon cross-section does, to a
 * minimum near 300-400 MeV/u, and rise again towards 800 MeV/u; Tripathi's fit levels off there
 * instead and is 9-19% high on the light targets water is made of. A nucleus passing another at
 * impact parameter b survives with probability T(b) = exp(-chi(b)), chi(b) = the number of
 * nucleon-nucleon collisions expected on the way (their cross-sections times the overlap of the
 * two nuclei's thickness functions), and sigma_R = 2 pi int b db (1 - T(b)). Inputs, each from a
 * measurement: the densities' r.m.s. radii (nuclear.h's charge radii less the proton's own),
 * their shapes (Gaussian for A <= 4, harmonic oscillator for the p shell, symmetrised Fermi
 * above), the free pp and np cross-sections, and the Fermi motion of the nucleons, which
 * Takechi et al. showed matters below 200 MeV/u. Nothing in it is fitted to nucleus-nucleus data.
 * Where it holds and where it does not (light projectiles, below 100 MeV/u): nuclear.c, which
 * decides which pairs use it, and tests/unit/test_nuclear.c.
 *
 * Memory: glauber_pair is a plain value the caller owns (no allocation); one process-wide grid of
 * Bessel function values (1 MB, static) is filled on first use under pthread_once. Threads: any
 * thread. Host only: the tables (physics/tables.h) carry the result to devices.
 */
#ifndef BRAGG_GLAUBER_H
#define BRAGG_GLAUBER_H

/* The reaction cross-section of one projectile-target pair, tabulated at construction at 16
 * energies per octave from GLAUBER_E_MIN to GLAUBER_E_MAX MeV/u (about 1 ms), then read by
 * interpolation: the transport tables ask for it at some 2 700 energies. */
#define GLAUBER_E_MIN 16.0
#define GLAUBER_E_MAX 2048.0
#define GLAUBER_PER_OCTAVE 16
#define GLAUBER_NODES (7 * GLAUBER_PER_OCTAVE + 1)   /* log2(2048 / 16) = 7 octaves */

typedef struct {
    double sigma_mb[GLAUBER_NODES];   /* at GLAUBER_E_MIN * 2^(i / GLAUBER_PER_OCTAVE) */
} glauber_pair;

/* Tabulate projectile (Zp, Ap) on target (Zt, At); both A >= 2. */
void glauber_pair_init(glauber_pair *g, int Zp, int Ap, int Zt, int At);

/* Reaction cross-section, mb, at E MeV per nucleon of the projectile (laboratory), interpolated
 * linearly in log E; E is clamped to [GLAUBER_E_MIN, GLAUBER_E_MAX]. */
double glauber_pair_xs_mb(const glauber_pair *g, double E);

/* The same without a table, computed at E (for tests and one-off values). */
double glauber_reaction_xs_mb(int Zp, int Ap, int Zt, int At, double E);

/* Free nucleon-nucleon total cross-sections, mb, at laboratory kinetic energy T MeV of one
 * nucleon on the other at rest: Charagi and Gupta, Phys. Rev. C 41 (1990) 1610, their fit of
 * measured pp and np total cross-sections from 10 MeV to 1 GeV, in the nucleon's velocity beta:
 *   sigma_pp = 13.73 - 15.04 / beta + 8.76 / beta^2 + 68.67 beta^4,
 *   sigma_np = -70.67 - 18.18 / beta + 25.26 / beta^2 + 113.85 beta.
 * T is held to [10, 1000] MeV, the range of the fit (below 10 MeV a collision inside a nucleus
 * is Pauli-blocked: the Fermi energy is some 35 MeV). */
void glauber_nn_xs_mb(double T, double *sigma_pp, double *sigma_np);

/* The same averaged over the Fermi motion of the nucleons in the projectile (Fermi momentum
 * kf_proj, MeV/c) and the target (kf_target): each pair of nucleons collides at the energy its
 * relative motion gives. E is the projectile's MeV per nucleon. The pairs' Fermi momenta are
 * nuclear_fermi_momentum's (physics/fragmentation.h: Moniz et al. 1971). */
void glauber_nn_fermi_xs_mb(double E, double kf_proj, double kf_target, double *sigma_pp,
                            double *sigma_np);

#endif
