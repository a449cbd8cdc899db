/*
 * nuclear.h - total reaction (non-elastic) cross-sections of nucleus-nucleus collisions, the
 * proton's elastic cross-section on hydrogen, and the nuclear radii the fragmentation model
 * shares with them.
 *
 * Two published parameterisations and one calculation:
 *   - protons on nuclei with Z >= 3 (and, by inverse kinematics, those nuclei on hydrogen):
 *     Wellisch & Axen, Phys. Rev. C 54 (1996) 1329, the formula Geant4 long used for protons;
 *   - nuclei from lithium up on nuclei from lithium up, above 100 MeV/u: Glauber's optical limit
 *     (glauber.h), blended linearly into Tripathi's fit between 150 and 100 MeV/u;
 *   - every other pair, and those below 100 MeV/u: Tripathi, Cucinotta & Wilson's universal
 *     formula (NIM B 117 (1996) 347, NASA TP-3621 (1997); light systems NIM B 155 (1999) 349),
 *     as in Tripathi's own algorithm (density-dependent Pauli term D, the light-system Coulomb
 *     multipliers), except that He-4
 *     keeps the density-dependent D (the light-system paper's alpha term is 20% below measured
 *     alpha cross-sections) and helium on hydrogen is the proton on helium at the same velocity.
 * The formulas were read from their published form and from open implementations; where they
 * came from and how they were checked is in tests/reference/NOTES-nuclear.md. Validation against
 * measured cross-sections: tests/unit/test_nuclear.c and docs/physics.md.
 *
 * Host-side, pure functions (nuclear_pair: a value the caller owns): any thread. The transport
 * uses them only through the tables (physics/tables.h), which hold the macroscopic cross-section
 * of each material.
 */
#ifndef BRAGG_NUCLEAR_H
#define BRAGG_NUCLEAR_H

#include "glauber.h"

/* Reaction cross-section, mb, of projectile (Zp, Ap) at E MeV per nucleon (laboratory) on a
 * target nucleus (Zt, At) at rest. 0 below the Coulomb barrier, 0 for p and He-4 on C-12, N-14
 * and O-16 (either way round) below their first open channel (physics/nuclear.c), and 0 for
 * p + p (no non-elastic channel below the pion threshold; above it, a few mb neglected: see
 * docs/physics.md). */
double nuclear_reaction_xs_mb(int Zp, int Ap, int Zt, int At, double E);

/* The same for one pair at many energies: nuclear_pair_init prepares it (the Glauber part is
 * tabulated once, 1-1.5 ms; nuclear_reaction_xs_mb pays that on every call), nuclear_pair_xs_mb
 * reads it. A plain value the caller owns. */
typedef struct {
    int Zp, Ap, Zt, At;
    int uses_glauber;
    double threshold_ecm; /* centre-of-mass energy (MeV) below which no non-elastic channel is
                           * open, 0: none known (physics/nuclear.c, first_channel) */
    double join_ratio;    /* Tripathi's cross-section over the optical limit's where the latter
                           * starts to take over (physics/nuclear.c, glauber_join_energy) */
    glauber_pair glauber;
} nuclear_pair;
void nuclear_pair_init(nuclear_pair *pair, int Zp, int Ap, int Zt, int At);
double nuclear_pair_xs_mb(const nuclear_pair *pair, double E);

/* Elastic scattering of a proton on a free proton (a hydrogen atom's nucleus), mb, at E MeV
 * (laboratory): Fippel and Soukup's fit for water (Med. Phys. 31 (2004) 2263, VMCpro; the form
 * MCsquare uses), (0.315 E^-1.126 + 3.78e-6 E) per cm of water of unit density, over water's
 * 6.686e22 hydrogen atoms per cm^3; held at its 250 MeV value above that, where the measured
 * p-p elastic cross-section stays near 24 mb to 1 GeV (Cugnon, L'Hote and Vandermeulen,
 * NIM B 111 (1996) 215). 0 below 10 MeV, as in VMCpro and MCsquare (a proton there has less than
 * 1.3 mm to go), and for every other projectile (a deuteron, triton or ion on hydrogen scatters
 * too, not modelled: docs/physics.md section 6). */
double nuclear_hydrogen_elastic_xs_mb(int Zp, int Ap, double E);

/* The two parameterisations themselves (for tests and the tables command). */
double nuclear_xs_tripathi_mb(int Zp, int Ap, int Zt, int At, double E);
double nuclear_xs_wellisch_axen_mb(int Zt, int At, double T_mev);

/* R.m.s. charge radius of a nucleus of mass number A, fm: the table of Tripathi's and Wilson's
 * codes for A <= 26, else 0.84 A^(1/3) + 0.55 fm. */
double nuclear_rms_radius(int A);

/* Sharp-sphere radius of the abrasion model (Wilson et al., NUCFRG2):
 * 1.29 sqrt(R^2 - 0.84^2) with R = sqrt(5/3) r_rms, fm. */
double nuclear_abrasion_radius(int A);

#endif
