/*
 * constants.h - physical constants and unit conversions, each with its source.
 *
 * Units inside bragg: energy MeV, length cm, mass thickness g/cm^2, mass stopping power
 * MeV cm^2/g, cross-sections cm^2. Plain macros: usable from host and device code alike.
 */
#ifndef BRAGG_CONSTANTS_H
#define BRAGG_CONSTANTS_H

/* CODATA 2018 (Tiesinga et al., Rev. Mod. Phys. 93 (2021) 025010). */
#define ELECTRON_MASS_MEV      0.51099895000      /* m_e c^2 */
#define ATOMIC_MASS_UNIT_MEV   931.49410242       /* u c^2 */
#define PROTON_MASS_MEV        938.27208816
#define NEUTRON_MASS_MEV       939.56542052
#define FINE_STRUCTURE         (1.0 / 137.035999084)
#define CLASSICAL_E_RADIUS_CM  2.8179403262e-13   /* r_e */
#define AVOGADRO               6.02214076e23      /* 1/mol, exact */
#define MEV_TO_JOULE           1.602176634e-13    /* exact since 2019 SI */

/* K = 4 pi N_A r_e^2 m_e c^2, PDG Review of Particle Physics 2022, table 34.1. */
#define BETHE_K_MEV_CM2_MOL    0.307075

/* Plasma energy: hbar*omega_p = 28.816 eV * sqrt(rho[g/cm^3] * <Z/A>), PDG 2022 eq. 34.6. */
#define PLASMA_ENERGY_EV_COEF  28.816

#define PI 3.14159265358979323846

/* Bohr velocity v0 = alpha*c, used by effective-charge formulas. */
#define BOHR_VELOCITY_OVER_C   FINE_STRUCTURE

#endif
