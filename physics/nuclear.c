/* nuclear.c - see nuclear.h. */
#include "nuclear.h"

#include <math.h>
#include <stddef.h>

#include "constants.h"

/* R.m.s. radii (fm) for A = 1..26 as tabulated in Tripathi's code (TALYS `radius`) and in
 * Wilson's abrasion code (Geant4 G4WilsonRadius, which adds A = 5, 8, 21). 0: not tabulated. */
static const double rms_radius_fm[27] = {
    0,     0.85,  2.095, 1.976, 1.671, 1.986, 2.57,  2.41,  2.23,  2.519, 2.45,  2.42,  2.471, 2.440,
    2.58,  2.611, 2.730, 2.662, 2.727, 2.900, 3.040, 2.867, 2.969, 2.94,  3.075, 3.11,  3.06};

double nuclear_rms_radius(int A)
{
    if (A >= 1 && A <= 26 && rms_radius_fm[A] > 0) return rms_radius_fm[A];
    return 0.84 * cbrt((double)A) + 0.55;
}

double nuclear_abrasion_radius(int A)
{
    double R = sqrt(5.0 / 3.0) * nuclear_rms_radius(A);
    return 1.29 * sqrt(R * R - 0.84 * 0.84);
}

/* Kinetic energy in the centre of mass, MeV, as Tripathi computes it: nucleon mass 938 MeV, no
 * binding. Returns 0 when the system has no energy above rest. */
static double tripathi_ecm(int Ap, int At, double E)
{
    const double m = 938.0;
    double g = (Ap * (1.0 + E / m) + At) / sqrt((double)Ap * Ap + (double)At * At +
                                                2.0 * Ap * (E + m) * At / m);
    if (g <= 1.0) return 0.0;
    double b = sqrt(1.0 - 1.0 / (g * g));
    double plab = Ap * sqrt(2.0 * m * E + E * E);
    return (g * (E + m) * Ap - b * g * plab - m * Ap) + (g * m * At - m * At);
}

double nuclear_xs_tripathi_mb(int Zp, int Ap, int Zt, int At, double E)
{
    if (E <= 0.0) return 0.0;
    double rp = sqrt(5.0 / 3.0) * nuclear_rms_radius(Ap);
    double rt = sqrt(5.0 / 3.0) * nuclear_rms_radius(At);
    double ap3 = cbrt((double)Ap), at3 = cbrt((double)At);

    /* Pauli-blocking strength D scales with the mean nuclear density of the pair, normalised
     * to C-12 + C-12 (0.08824728 fm^-3), where D = 1.75 (TP-3621). */
    double vp = 4.0 / 3.0 * PI * rp * rp * rp, vt = 4.0 / 3.0 * PI * rt * rt * rt;
    double density = 0.5 * (Ap / vp + At / vt);
    double D = 1.75 * density / 0.08824728;
    double T1 = 40.0;
    if (Ap == 1) D = 2.05;
    if (Zp == 3) D /= 3.0;

    double ecm = tripathi_ecm(Ap, At, E);
    if (ecm <= 0.0) return 0.0;
    double ecm3 = cbrt(ecm);
    double R = rp + rt + 1.2 * (ap3 + at3) / ecm3;
    double B = 1.44 * Zp * Zt / R;   /* Coulomb barrier, MeV (e^2 = 1.44 MeV fm) */
    /* Coulomb multipliers of the light-system paper (NIM B 155) and of Tripathi's code. */
    if (Zp == 1 && At > 56) B *= 0.90;
    if (Ap > 56 && Zt == 1) B *= 0.90;
    if (Ap == 1 && At == 12) B *= 3.5;
    if (Ap == 1) {
        if (At >= 13 && At <= 16) B *= At / 7.0;
        if (Zt == 12) B *= 1.8;
        if (Zt == 14) B *= 1.4;
        if (Zt == 20) B *= 1.3;
    }
    if ((Ap == 1 && At < 4) || (Ap < 4 && At == 1)) B *= 21.0;
    if ((Ap == 1 && At == 4) || (Ap == 4 && At == 1)) B *= 27.0;

    /* Tripathi's light-system paper gives alphas a Pauli term of their own, D = 2.77 - 8e-3 At
     * + 1.8e-5 At^2 - 0.8 / (1 + exp((250 - E) / 75)) (NOTES-nuclear.md 1.2, step 8). Not used:
     * measured alpha cross-sections on C, O and Si at 17-216 MeV/u (Ingemarsson 2000, DeVries
     * 1982, Horst 2017 and 2019; tests/reference/helium_reaction_xs.tsv) lie 7-31% above it,
     * 20% on average, and within 0-17% (6% on average) of the density-dependent D above, which
     * every other nucleus-nucleus pair here takes too (tests/unit/test_nuclear.c,
     * helium_cross_sections_vs_measurement). */
    if (Zp == 1 && Ap == 1) {
        double x = fmin((E - 20.0) / 10.0, 80.0);
        if (At > 45) T1 = 40.0 + At / 3.0;
        if (At < 4) T1 = 55.0;
        D = 2.05 - 0.05 / (1.0 + exp((250.0 - E) / 75.0));
        if (At < 4) D = 1.7;
        if (Zt == 12) { T1 = 40.0; D = 2.05 - 3.0 / (1.0 + exp(x)); }
        if (Zt == 14) { T1 = 40.0; D = 2.05 - 1.75 / (1.0 + exp(x)); }
        if (Zt == 18) { T1 = 40.0; D = 2.05 - 2.0 / (1.0 + exp(x)); }
        if (Zt == 20) {
            T1 = 40.0;
            D = 2.05 - 1.0 / (1.0 + exp(fmin((E - 40.0) / 10.0, 80.0)));
        }
    }

    double CE = D * (1.0 - exp(-E / T1)) - 0.292 * exp(-E / 792.0) * cos(0.229 * pow(E, 0.453));
    double S = ap3 * at3 / (ap3 + at3);
    double deltaE = 1.85 * S + 0.16 * S / ecm3 - CE + 0.91 * (At - 2.0 * Zt) * Zp / ((double)At * Ap);
    double r0 = 1.1;   /* fm */
    double sum = ap3 + at3 + deltaE;
    double sigma = PI * r0 * r0 * sum * sum * (1.0 - B / ecm) * 10.0;   /* fm^2 -> mb */
    return sigma > 0.0 ? sigma : 0.0;
}

double nuclear_xs_wellisch_axen_mb(int Zt, int At, double T_mev)
{
    if (T_mev <= 0.0 || At < 2) return 0.0;
    double T = T_mev * 1e-3;   /* the formula is written in GeV */
    if (T > 19.8) T = 19.8;    /* fitted to 20 GeV; held constant above */
    double A = At, N = At - Zt;
    double a3 = pow(A, 0.3333), inv3 = 1.0 - pow(A, -0.3333);
    double b0 = 2.247 - 0.915 * inv3;
    double L = N > 1.0 ? log(N) : 1.0;
    double sigma0 = 58.107 * L * (1.0 + a3 - b0 * inv3);   /* pi (1.36 fm)^2 = 58.107 mb */
    double sigma1 = sigma0 * (1.0 - 0.15 * exp(-T)) / (1.0 - 0.0007 * A);
    double f1 = 0.70 - 0.002 * A, f2 = 1.0 + 1.0 / A, f3 = 0.8 + 18.0 / A - 0.002 * A;
    double lt = log10(T);
    double g = 1.0 - 1.0 / (1.0 + exp(-8.0 * f1 * (lt + 1.37 * f2)));
    double sigma2 = sigma1 * (1.0 + f3 * g);
    double h1 = 1.0 - 1.0 / A - 0.001 * A, h2 = 1.17 - 2.7 / A - 0.0014 * A;
    return sigma2 / (1.0 + exp(-8.0 * h1 * (lt + 2.0 * h2)));
}

/* Where the optical limit takes over from Tripathi's fit, MeV/u. Glauber's picture (straight
 * paths, nucleons colliding as in free space) is a high-energy one. Measured C-12 on Be, C and Al
 * (Takechi et al. 2009, 50 points) agree with it within -3..+3% from 140 to 372 MeV/u, where
 * Tripathi is up to 19% high; below 100 MeV/u they lie up to 14% above it (and Be-7 and Li-6 at
 * 30-50 MeV/u up to 24%: refraction and Pauli blocking, which it leaves out, matter there) and
 * within -4..+5% of Tripathi for C-12, whose fit was made to such data.
 * Lithium joins from 40 MeV/u instead: Tripathi's lithium rule (D / 3) holds near the data it
 * was made for (Li-6 on Be, C, Al at 38 MeV/u, Fukuda et al. 1999: 0..+10%) but keeps his
 * cross-section nearly flat above (Li-6 + C 1274 mb at 38 MeV/u, 1159 at 100, 1178 at 790,
 * where Tanihata measured 688); joined at 100 MeV/u, lithium's cross-section fell 38% between
 * 100 and 150 and lay 21% above carbon's at 100 MeV/u, where a nucleus of six or seven
 * nucleons has no reason to (measured: Li-6 and C-12 on C equal at 38-40 MeV/u within 3%, Li-6
 * 17% lower at 790-800, Tanihata against Ponnath). No measurement between 51 and 790 MeV/u
 * was found to place the join.
 * Tests: nuclear::ion_cross_sections_vs_measurement and
 *        nuclear::lithium_falls_smoothly_below_carbon. */
#define GLAUBER_FROM          100.0
#define GLAUBER_FROM_LITHIUM   40.0
#define GLAUBER_FULL          150.0

static double glauber_join_energy(int Zp)
{
    return Zp == 3 ? GLAUBER_FROM_LITHIUM : GLAUBER_FROM;
}

/* The lowest open non-elastic channel of the light pairs that matter most in tissue, as the
 * centre-of-mass kinetic energy (MeV) where it opens: the lower of the target's first excited
 * level and -Q of the most favourable particle channel (n, p, d, t, He-3 or alpha out; all
 * endothermic here, from the AME2020 mass excesses). Below it the pair can only scatter
 * elastically, but both formulas give a cross-section there (He-4 + C 442 mb at 1 MeV/u,
 * p + O 11-55 mb at 3-5 MeV). Levels: C-12 4.43891 (2+), N-14 2.312798 (0+), O-16 6.0494
 * (0+), the first excited state of each in the TUNL evaluations (Kelley et al., Nucl. Phys.
 * A968 (2017) 71; Ajzenberg-Selove, Nucl. Phys. A523 (1991) 1; Tilley, Weller & Cheves, Nucl.
 * Phys. A565 (1993) 1), the digits of the NNDC chart as scripts/fermi_breakup_tables.py
 * carries them; the proton has no level and He-4 none below its p + t threshold (19.8 MeV).
 * Q-values from AME2020 (mass.mas20; tests/reference/reaction_thresholds.tsv holds the masses,
 * and nuclear::no_reaction_below_the_first_open_channel recomputes every entry):
 * p + C-12: C-12's level (C-12(p, alpha)B-9 Q = -7.552); p + N-14: N-14's level
 * (N-14(p, alpha)C-11 -2.922); p + O-16: O-16(p, alpha)N-13, Q = -5.218 (the level 6.049);
 * He-4 + C-12: C-12's level (C-12(alpha, p)N-15 -4.965); He-4 + N-14: N-14(alpha, p)O-17,
 * Q = -1.192; He-4 + O-16: O-16's level (O-16(alpha, p)F-19 -8.114). Other pairs keep the
 * formulas (they hold none of these data); deuterons, tritons and He-3 take the thresholds of
 * their charge's tables (p, He-4: physics/tables.c). */
static const struct {
    int Z1, A1, Z2, A2;
    double ecm_mev;
} first_channel[] = {
    {1, 1, 6, 12, 4.43891}, {1, 1, 7, 14, 2.312798}, {1, 1, 8, 16, 5.21843},
    {2, 4, 6, 12, 4.43891}, {2, 4, 7, 14, 1.19187},  {2, 4, 8, 16, 6.0494},
};

/* Centre-of-mass kinetic energy (MeV) of projectile Ap at E MeV per nucleon on target At at
 * rest, masses A u (the invariant mass: the same for the pair seen from either nucleus). */
static double pair_ecm(int Ap, int At, double E)
{
    double m1 = Ap * ATOMIC_MASS_UNIT_MEV, m2 = At * ATOMIC_MASS_UNIT_MEV;
    return sqrt((m1 + m2) * (m1 + m2) + 2.0 * m2 * Ap * E) - m1 - m2;
}

void nuclear_pair_init(nuclear_pair *pair, int Zp, int Ap, int Zt, int At)
{
    pair->Zp = Zp, pair->Ap = Ap, pair->Zt = Zt, pair->At = At;
    /* Lithium and up on lithium and up. Helium projectiles keep Tripathi's fit: the optical
     * limit is 4-14% below their measured cross-sections at 176-790 MeV/u (He-3 12%; a
     * projectile of 3 or 4 nucleons is not the smooth density the limit assumes), Tripathi is
     * within 5.4% on average (helium_cross_sections_vs_measurement). Lithium leaves Tripathi's
     * fit too, from 40 MeV/u (above): its lithium rule (D / 3) puts Li-6 and Li-7 on Be, C and
     * Al at 790 MeV/u 53-71% above Tanihata's measurement; the optical limit is -2..+9%. */
    pair->threshold_ecm = 0.0;
    for (size_t k = 0; k < sizeof first_channel / sizeof first_channel[0]; k++)
        if ((first_channel[k].Z1 == Zp && first_channel[k].A1 == Ap && first_channel[k].Z2 == Zt &&
             first_channel[k].A2 == At) ||
            (first_channel[k].Z1 == Zt && first_channel[k].A1 == At && first_channel[k].Z2 == Zp &&
             first_channel[k].A2 == Ap))
            pair->threshold_ecm = first_channel[k].ecm_mev;
    pair->uses_glauber = Zp >= 3 && Ap >= 6 && Zt >= 3 && At >= 6;
    pair->join_ratio = 1.0;
    if (pair->uses_glauber) {
        double from = glauber_join_energy(Zp);
        glauber_pair_init(&pair->glauber, Zp, Ap, Zt, At);
        pair->join_ratio = nuclear_xs_tripathi_mb(Zp, Ap, Zt, At, from) /
                           glauber_pair_xs_mb(&pair->glauber, from);
    }
}

double nuclear_pair_xs_mb(const nuclear_pair *pair, double E)
{
    int Zp = pair->Zp, Ap = pair->Ap, Zt = pair->Zt, At = pair->At;
    if (Ap == 1 && At == 1) return 0.0;
    if (pair->threshold_ecm > 0.0 && pair_ecm(Ap, At, E) < pair->threshold_ecm) return 0.0;
    /* A proton on a nucleus Z >= 3; or that nucleus on hydrogen, which is the same collision
     * seen from another frame (same velocity, same invariant mass): the proton cross-section at
     * the kinetic energy a proton of that velocity has, E * m_p / u. */
    if (Ap == 1 && Zp == 1 && Zt >= 3) return nuclear_xs_wellisch_axen_mb(Zt, At, E);
    if (At == 1 && Zt == 1 && Zp >= 3)
        return nuclear_xs_wellisch_axen_mb(Zp, Ap, E * (PROTON_MASS_MEV / ATOMIC_MASS_UNIT_MEV));
    /* Helium on hydrogen likewise, but Wellisch and Axen's fit does not reach helium (6-70 mb
     * for p + He-4 at 30-700 MeV against 70-131 measured), so the proton on helium is
     * Tripathi's proton branch: within 25% of the measured p + He-3 and p + He-4 from 30 MeV
     * up. Seen from the helium side (Z = 2 projectile, light-system Coulomb multiplier) the
     * same formula gave 10-60 mb, a seventh of the 104-137 mb Horst et al. measured. */
    if (At == 1 && Zt == 1 && Zp == 2)
        return nuclear_xs_tripathi_mb(1, 1, Zp, Ap, E * (PROTON_MASS_MEV / ATOMIC_MASS_UNIT_MEV));
    double from = glauber_join_energy(Zp);
    if (!pair->uses_glauber || E <= from) return nuclear_xs_tripathi_mb(Zp, Ap, Zt, At, E);
    double glauber = glauber_pair_xs_mb(&pair->glauber, E);
    if (E >= GLAUBER_FULL) return glauber;
    /* Between: the optical limit times Tripathi's ratio to it at the join, that ratio going to 1
     * linearly in E. The curve then keeps the optical limit's shape (falling ever more slowly,
     * as the measured ones do) instead of running straight from one fit to the other. */
    double w = (E - from) / (GLAUBER_FULL - from);
    return glauber * ((1.0 - w) * pair->join_ratio + w);
}

double nuclear_reaction_xs_mb(int Zp, int Ap, int Zt, int At, double E)
{
    nuclear_pair pair;
    nuclear_pair_init(&pair, Zp, Ap, Zt, At);
    return nuclear_pair_xs_mb(&pair, E);
}

double nuclear_hydrogen_elastic_xs_mb(int Zp, int Ap, double E)
{
    if (Zp != 1 || Ap != 1 || !(E >= 10.0)) return 0.0;
    if (E > 250.0) E = 250.0;
    /* Hydrogen atoms per cm^3 of water at 1 g/cm^3: 2 N_A / 18.0153 g/mol (H2O from the IUPAC
     * standard atomic weights, H 1.008, O 15.999), the water the fit was made for. */
    const double h_per_cm3 = 2.0 * AVOGADRO / 18.0153;
    double per_cm = 0.315 * pow(E, -1.126) + 3.78e-6 * E;
    return per_cm / h_per_cm3 * 1e27;
}
