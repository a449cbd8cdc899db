/* stopping.c - see stopping.h. */
#include "stopping.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "assets.h"
#include "constants.h"

/* m_p / u, CODATA 2018: converts proton energies to the keV/u of the ICRU 49 proton fits. */
#define PROTON_MASS_U  1.007276466621
/* alpha particle rest mass, CODATA 2018: the He fits are in the alpha's own kinetic energy. */
#define ALPHA_MASS_MEV 3727.3794066
/* 1e-15 eV cm^2 per atom -> MeV cm^2/g: multiply by N_A * 1e-21 / (g/mol). */
#define PER_ATOM_TO_MASS (AVOGADRO * 1e-21)

stopping_switches stopping_switches_all(void)
{
    return (stopping_switches){1, 1, 1, 1, 1, 1, 1};
}

/* ---- low-energy data file ---------------------------------------------------------------- */

int lowenergy_table_load(lowenergy_table *t, const material_table *materials, const char *file,
                         bragg_err *e)
{
    memset(t, 0, sizeof *t);
    tsv_reader r;
    if (tsv_open(&r, file, e) != BRAGG_OK) return BRAGG_ERR;
    snprintf(t->path, sizeof t->path, "%s", r.path);
    int rc;
    while ((rc = tsv_next(&r, e)) == 1) {
        if (strcmp(r.fields[0], "projectile") == 0) continue;  /* column header */
        if (r.nfields != 8) {
            bragg_fail(e, "expected 8 fields (projectile target A1..A5 formula_mass_g_mol)");
            goto fail;
        }
        int alpha;
        if (strcmp(r.fields[0], "proton") == 0) alpha = 0;
        else if (strcmp(r.fields[0], "alpha") == 0) alpha = 1;
        else {
            bragg_fail(e, "projectile: %s (valid: proton, alpha)", BRAGG_QUOTED(r.fields[0]));
            goto fail;
        }
        double a[5];
        for (int k = 0; k < 5; k++) {
            static const char *field[5] = {"A1", "A2", "A3", "A4", "A5"};
            if (parse_number(r.fields[2 + k], field[k], LOWENERGY_COEFF_MIN, LOWENERGY_COEFF_MAX,
                             &a[k], e))
                goto fail;
        }
        const element *el = material_table_element(materials, r.fields[1]);
        if (el) {
            lowenergy_coeffs *c = alpha ? &t->alpha[el->Z] : &t->proton[el->Z];
            if (c->present) {
                bragg_fail(e, "%s %s given twice (first on line %d)", r.fields[0], el->symbol,
                           c->line);
                goto fail;
            }
            memcpy(c->a, a, sizeof a);
            c->present = 1;
            c->line = r.line_no;
        } else if (strcmp(r.fields[7], "-") != 0) {
            for (int i = 0; i < t->n_compounds; i++)
                if (t->compounds[i].alpha == alpha &&
                    strcmp(t->compounds[i].target, r.fields[1]) == 0) {
                    bragg_fail(e, "%s %s given twice (first on line %d)", r.fields[0],
                               BRAGG_QUOTED(r.fields[1]), t->compounds[i].line);
                    goto fail;
                }
            if (t->n_compounds == LOWENERGY_MAX_COMPOUNDS) {
                bragg_fail(e, "more than %d compound rows", LOWENERGY_MAX_COMPOUNDS);
                goto fail;
            }
            if (strlen(r.fields[1]) >= sizeof t->compounds[0].target ||
                !bragg_text_printable(r.fields[1])) {
                bragg_fail(e, "target name %s too long or not printable text",
                           BRAGG_QUOTED(r.fields[1]));
                goto fail;
            }
            lowenergy_compound *c = &t->compounds[t->n_compounds];
            snprintf(c->target, sizeof c->target, "%s", r.fields[1]);
            c->alpha = alpha;
            c->line = r.line_no;
            memcpy(c->a, a, sizeof a);
            if (parse_number(r.fields[7], "formula_mass_g_mol", 1.0, 1e4, &c->formula_mass, e))
                goto fail;
            t->n_compounds++;
        }
    }
    tsv_close(&r);
    return rc < 0 ? BRAGG_ERR : BRAGG_OK;
fail:
    bragg_fail_prefix(e, "%s line %d: ", r.path, r.line_no);
    tsv_close(&r);
    return BRAGG_ERR;
}

/* ICRU 49 eq. 3.1: proton stopping per atom (or molecule), 1e-15 eV cm^2, at T keV/u. Below
 * 10 keV/u the electronic stopping is velocity-proportional (eq. 3.2); we take the constant from
 * the 10 keV/u value so the curve is continuous whatever A1 says. */
static double icru49_proton(const double a[5], double T)
{
    double scale = 1.0;
    if (T < 10.0) {
        scale = sqrt(T / 10.0);
        T = 10.0;
    }
    double s_low = a[1] * pow(T, 0.45);
    double s_high = (a[2] / T) * log(1.0 + a[3] / T + a[4] * T);
    return scale * s_low * s_high / (s_low + s_high);
}

/* ICRU 49 alpha fit (Ziegler 1977 form): He stopping per atom, 1e-15 eV cm^2, at He kinetic
 * energy T in MeV; velocity-proportional below 1 keV. */
static double icru49_alpha(const double a[5], double T)
{
    double scale = 1.0;
    if (T < 1e-3) {
        scale = sqrt(T / 1e-3);
        T = 1e-3;
    }
    double s_low = a[0] * pow(1000.0 * T, a[1]);
    double s_high = (a[2] / T) * log(1.0 + a[3] / T + a[4] * T);
    return scale * s_low * s_high / (s_low + s_high);
}

/* ---- effective charges -------------------------------------------------------------------- */

/* Fermi velocities of the target electrons in units of v0, Z = 1..92 (Ziegler, Biersack &
 * Littmark 1985, as tabulated in Geant4's G4IonisParamElm). */
static const double fermi_velocity_table[92] = {
    1.0309,  0.15976, 0.59782, 1.0781,  1.0486,  1.0,     1.058,   0.93942, 0.74562, 0.3424,
    0.45259, 0.71074, 0.90519, 0.97411, 0.97184, 0.89852, 0.70827, 0.39816, 0.36552, 0.62712,
    0.81707, 0.9943,  1.1423,  1.2381,  1.1222,  0.92705, 1.0047,  1.2,     1.0661,  0.97411,
    0.84912, 0.95,    1.0903,  1.0429,  0.49715, 0.37755, 0.35211, 0.57801, 0.77773, 1.0207,
    1.029,   1.2542,  1.122,   1.1241,  1.0882,  1.2709,  1.2542,  0.90094, 0.74093, 0.86054,
    0.93155, 1.0047,  0.55379, 0.43289, 0.32636, 0.5131,  0.695,   0.72591, 0.71202, 0.67413,
    0.71418, 0.71453, 0.5911,  0.70263, 0.68049, 0.68203, 0.68121, 0.68532, 0.68715, 0.61884,
    0.71801, 0.83048, 1.1222,  1.2381,  1.045,   1.0733,  1.0953,  1.2381,  1.2879,  0.78654,
    0.66401, 0.84912, 0.88433, 0.80746, 0.43357, 0.41923, 0.43638, 0.51464, 0.73087, 0.81065,
    1.9578,  1.0257,
};

/* Helium: the charge-state fraction gamma^2 = (z_eff/2)^2 = 1 - exp(-x) of ZBL 1985 (Ziegler
 * et al., The Stopping and Range of Ions in Solids, ch. 3), a fit in B = ln(E / (keV/u)), used up
 * to 10 MeV/u, above which the ion is bare to better than 1e-20. ZBL multiply this by
 * [1 + (0.007 + 0.00005 Z2) exp(-(7.6 - B)^2)]^2, a z^3 (Barkas-like) enhancement of their
 * scaled proton stopping; the Bethe branch here carries the Barkas and Bloch terms for z = 2
 * explicitly, so that factor would count them twice (it made He 1.3% high at 2 MeV/u). */
static double helium_charge_fraction2(double kev_per_u)
{
    if (kev_per_u >= 1e4) return 1.0;
    double b = log(kev_per_u > 1.0 ? kev_per_u : 1.0);
    double x = 0.2865 + b * (0.1266 + b * (-0.001429 + b * (0.02402 + b * (-0.01135 +
               b * 0.001475))));
    return 1.0 - exp(-x);
}

/* Heavier ions at low speed (below ~1 MeV/u): the ZBL 1985 effective charge. The ion's
 * velocity relative to the target's Fermi velocity, v_r = v (1 + v_F^2 / 5v^2) above v_F and
 * (3/4) v_F (1 + 2v^2/3v_F^2 - v^4/15v_F^4) below, sets y = v_r / (v0 Z1^(2/3)) and the
 * ionisation fraction q = 1 - exp(0.803 y^0.3 - 1.3167 y^0.6 - 0.38157 y - 0.008983 y^2)
 * (at least one charge); the Brandt-Kitagawa screening term then raises the charge seen in
 * close collisions, z/Z1 = q [1 + (1/(2q) - 1/2) ln(1 + L^2) / v_F^2] with the screening length
 * L = 10 v_F (1 - q)^(2/3) / (Z1^(1/3) (6 + q)) (Ziegler & Manoyan, NIM B 35 (1988) 215, in the
 * form Geant4's G4ionEffectiveCharge uses: ZBL's analytic Brandt-Kitagawa length gives 7 where
 * this has 10; with 10 the stopping of C-12 in water below 0.2 MeV/u agrees with ICRU 73 to 5%,
 * with 7 it is 40% low). */
static double zbl_charge_fraction(int Z1, double beta, double fermi_v)
{
    double v = beta / BOHR_VELOCITY_OVER_C;   /* in units of v0 */
    double ratio2 = (v / fermi_v) * (v / fermi_v);
    double vr = ratio2 > 1.0 ? v * (1.0 + 0.2 / ratio2)
                             : 0.75 * fermi_v * (1.0 + (2.0 / 3.0) * ratio2 - ratio2 * ratio2 / 15.0);
    double y = vr / pow(Z1, 2.0 / 3.0);
    double q = 1.0 - exp(0.803 * pow(y, 0.3) - 1.3167 * pow(y, 0.6) - 0.38157 * y -
                         0.008983 * y * y);
    if (q < 1.0 / Z1) q = 1.0 / Z1;
    double screen = 10.0 * fermi_v * pow(1.0 - q, 2.0 / 3.0) / (cbrt((double)Z1) * (6.0 + q));
    double g = q * (1.0 + (0.5 / q - 0.5) * log(1.0 + screen * screen) / (fermi_v * fermi_v));
    return g < 1.0 ? g : 1.0;
}

/* Heavier ions from ~2 MeV/u up: the effective charge of Hubert, Bimbot & Gauvin (At. Data
 * Nucl. Data Tables 46 (1990) 1), fitted to heavy-ion stopping data from 2.5 to 500 MeV/u and
 * defined relative to helium: S_ion = S_He * (Z1 gamma)^2 / z_He^2, with
 * gamma = 1 - x1 exp(-x2 E^x3 Z1^-x4), E in MeV/u, x1 = D + B exp(-C Z1) and target-dependent
 * D, x2..x4 (Z2 = the atom-weighted mean target Z); beryllium and carbon targets have their own
 * constants. (Constants as implemented in catima and in Yanez's "Range" library.) */
static double hbg_charge_fraction(int Z1, const material *mat, double target_z, double mev_per_u)
{
    double lz = log(target_z);
    double d = 1.164 + 0.2319 * exp(-0.004302 * target_z), b = 1.658, c = 0.05170;
    double x2 = 8.144 + 0.09876 * lz, x3 = 0.314 + 0.01072 * lz, x4 = 0.5218 + 0.02521 * lz;
    if (mat->n_elements == 1 && mat->Z[0] == 4) {
        d = 2.045, b = 2.000, c = 0.04369, x2 = 7.000, x3 = 0.2643, x4 = 0.4171;
    } else if (mat->n_elements == 1 && mat->Z[0] == 6) {
        d = 2.584, b = 1.910, c = 0.03958, x2 = 6.933, x3 = 0.2433, x4 = 0.3969;
    }
    double x1 = d + b * exp(-c * Z1);
    double g = 1.0 - x1 * exp(-x2 * pow(mev_per_u, x3) * pow(Z1, -x4));
    return g > 1.0 / Z1 ? g : 1.0 / Z1;
}

/* ---- how the models are joined ---------------------------------------------------------------- */

/* Join windows in MeV/u, where each side is known to hold (see docs/physics.md for the
 * comparison with the NIST and ICRU tables):
 *  - protons: the ICRU 49 fit reproduces PSTAR (water) to 0.01% up to 0.15 MeV and departs
 *    above 0.2 MeV; Bethe with the corrections here is within 0.3% of PSTAR from 0.4 MeV up;
 *  - helium: the ICRU 49 alpha fit reproduces ASTAR to 0.25 MeV/u; Bethe is within 0.5% of it
 *    from 0.9 MeV/u;
 *  - heavier ions: ZBL scaling of the proton below 0.5 MeV/u, the HBG scaling of helium (valid
 *    from 2.5 MeV/u by its authors) from 2 MeV/u, Bethe for the ion's own charge above
 *    30 MeV/u, where its z^3 and z^4 terms have shrunk below 1%. */
#define PROTON_JOIN_LO    0.15
#define PROTON_JOIN_HI    0.4
#define ALPHA_JOIN_LO     0.2
#define ALPHA_JOIN_HI     1.0
#define HEAVY_JOIN_MID_LO 0.5
#define HEAVY_JOIN_MID_HI 2.0
#define HEAVY_JOIN_HI_LO  10.0
#define HEAVY_JOIN_HI_HI  30.0

/* C1 blend in log energy between a low-energy value (below lo) and a high-energy one (above
 * hi): the weight's slope vanishes at both ends, so the curve has no kink. */
static double blend(double e, double lo, double hi, double s_low, double s_high)
{
    if (e <= lo) return s_low;
    if (e >= hi) return s_high;
    double u = log(e / lo) / log(hi / lo);
    double w = u * u * (3.0 - 2.0 * u);
    return (1.0 - w) * s_low + w * s_high;
}

/* ---- kinematics ----------------------------------------------------------------------------- */

typedef struct kinematics {
    double gamma, beta2, beta, eta2;  /* eta = beta*gamma */
} kinematics;

static kinematics kinematics_of(const stopping_model *m, double t)
{
    kinematics k;
    k.gamma = 1.0 + t * m->A1 / m->mass_mev;
    k.beta2 = 1.0 - 1.0 / (k.gamma * k.gamma);
    k.beta = sqrt(k.beta2);
    k.eta2 = k.beta2 * k.gamma * k.gamma;
    return k;
}

/* Energy per atomic mass unit at this speed, MeV/u: the common velocity scale of all ions. */
static double energy_per_u(const kinematics *k)
{
    return (k->gamma - 1.0) * ATOMIC_MASS_UNIT_MEV;
}

/* Effective charge number of the projectile at this speed (see the two fraction functions). */
static double effective_charge(const stopping_model *m, const kinematics *k)
{
    if (m->Z1 == 1 || !m->sw.effective_charge) return m->Z1;
    if (m->Z1 == 2) return 2.0 * sqrt(helium_charge_fraction2(1000.0 * energy_per_u(k)));
    double e = energy_per_u(k);
    double low = e < HEAVY_JOIN_MID_HI ? zbl_charge_fraction(m->Z1, k->beta, m->fermi_velocity) : 0;
    double mid = e > HEAVY_JOIN_MID_LO ? hbg_charge_fraction(m->Z1, m->mat, m->mean_z, e) : 0;
    return m->Z1 * blend(e, HEAVY_JOIN_MID_LO, HEAVY_JOIN_MID_HI, low, mid);
}

double stopping_effective_charge(const stopping_model *m, double t)
{
    kinematics k = kinematics_of(m, t);
    return effective_charge(m, &k);
}

/* ---- Bethe corrections ---------------------------------------------------------------------- */

double bloch_correction(double y)
{
    double y2 = y * y, sum = 0.0;
    const int n_terms = 200;   /* the tail beyond is summed in closed form below */
    for (int n = 1; n <= n_terms; n++) sum += 1.0 / (n * ((double)n * n + y2));
    sum += 0.5 / ((double)n_terms * n_terms);   /* tail: sum over n > N of 1/n^3 */
    return -y2 * sum;
}

/* Shell correction C/Z of the material: per element from the K, L and outer-shell theory
 * (physics/shell.h), combined per electron, C/Z = sum_i n_i C_i / sum_i n_i Z_i, which is what
 * Bragg additivity of the stopping number means. */
static double shell_correction(const stopping_model *m, double beta2)
{
    double sum = 0.0;
    for (int i = 0; i < m->mat->n_elements; i++)
        sum += m->atoms_per_gram[i] * shell_correction_atom(m->shell, m->mat->Z[i], beta2);
    return sum / m->electrons_per_gram;
}

/* Ashley-Ritchie-Brandt function F(W) (Phys. Rev. B 5 (1972) 2393), tabulated as used for
 * ICRU 49 (Geant4 G4EmCorrections). */
static const double arb_w[47] = {
    0.02, 0.03, 0.04, 0.05, 0.06, 0.07, 0.08, 0.09, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8,
    0.9, 1.0, 1.2, 1.3, 1.4, 1.5, 1.6, 1.7, 1.8, 1.9, 2.0, 2.1, 2.4, 3.0, 3.08, 3.1, 3.3,
    3.5, 3.8, 4.0, 4.1, 4.8, 5.0, 5.1, 6.0, 6.5, 7.0, 7.1, 8.0, 9.0, 10.0,
};
static const double arb_f[47] = {
    21.5, 20.0, 18.0, 15.6, 15.0, 14.0, 13.5, 13.0, 12.2, 9.25, 7.0, 6.0, 4.5, 3.5, 3.0, 2.5,
    2.0, 1.7, 1.2, 1.0, 0.86, 0.7, 0.61, 0.52, 0.5, 0.43, 0.42, 0.3, 0.2, 0.13, 0.1, 0.09,
    0.08, 0.07, 0.06, 0.051, 0.04, 0.03, 0.024, 0.02, 0.013, 0.01, 0.009, 0.008, 0.006,
    0.0032, 0.0025,
};

static double arb_function(double w)
{
    if (w <= arb_w[0]) return arb_f[0];
    if (w >= 10.0) return arb_f[46] * 10.0 / w;   /* F ~ 1/W beyond the table */
    int i = 0;
    while (arb_w[i + 1] < w) i++;
    /* Log-log interpolation: F falls over four decades, linear would overshoot. */
    double u = log(w / arb_w[i]) / log(arb_w[i + 1] / arb_w[i]);
    return arb_f[i] * pow(arb_f[i + 1] / arb_f[i], u);
}

/* Bichsel's free parameter b of the ARB model by target Z (as used for ICRU 49; table from
 * Geant4 G4EmCorrections). */
static double arb_b(int Z)
{
    if (Z == 2) return 0.6;
    if (Z <= 10 || Z == 18) return 1.8;
    if (Z <= 25) return 1.4;
    if (Z <= 50) return 1.35;
    return 1.3;
}

/* Barkas term L1 per target electron (without the factor z): per element
 * L1 = F(b / sqrt(X)) / (Z^1/2 X^3/2), X = beta^2 / (alpha^2 Z), averaged over electrons. */
static double barkas_l1(const stopping_model *m, double beta2)
{
    double sum = 0.0;
    for (int i = 0; i < m->mat->n_elements; i++) {
        int Z = m->mat->Z[i];
        double x = beta2 / (FINE_STRUCTURE * FINE_STRUCTURE * Z);
        double l1 = arb_function(arb_b(Z) / sqrt(x)) / (sqrt((double)Z) * x * sqrt(x));
        sum += m->atoms_per_gram[i] * Z * l1;
    }
    return sum / m->electrons_per_gram;
}

/* The pieces of the Bethe stopping number L (S = K Z/A z^2/beta^2 L). */
typedef struct bethe_terms {
    double beta2, gamma;
    double zeff;       /* effective charge used */
    double L0;         /* 1/2 ln(2 m c^2 b^2 g^2 Wmax / I^2) - beta^2 */
    double delta_half; /* delta/2 (subtracted) */
    double shell;      /* C/Z (subtracted) */
    double barkas;     /* z L1 (added) */
    double bloch;      /* L2 (added) */
    double mott;       /* added */
    double L;          /* total */
} bethe_terms;

static void bethe_terms_at(const stopping_model *m, const kinematics *k, double z,
                           bethe_terms *out)
{
    double me = ELECTRON_MASS_MEV, ratio = me / m->mass_mev;
    double two_me_eta2 = 2.0 * me * k->eta2;
    double wmax = two_me_eta2 / (1.0 + 2.0 * k->gamma * ratio + ratio * ratio);
    double I = m->mat->I_ev * 1e-6;
    out->beta2 = k->beta2;
    out->gamma = k->gamma;
    out->zeff = z;
    out->L0 = 0.5 * log(two_me_eta2 * wmax / (I * I)) - k->beta2;
    out->delta_half = m->sw.density_effect
                          ? 0.5 * density_effect_delta(&m->mat->density_effect, 0.5 * log10(k->eta2))
                          : 0.0;
    out->shell = m->sw.shell ? shell_correction(m, k->beta2) : 0.0;
    out->barkas = m->sw.barkas ? z * barkas_l1(m, k->beta2) : 0.0;
    out->bloch = m->sw.bloch ? bloch_correction(z * FINE_STRUCTURE / k->beta) : 0.0;
    /* Leading Mott term, pi alpha beta z / 2 (Ahlen, Rev. Mod. Phys. 52 (1980) 121). */
    out->mott = m->sw.mott ? 0.5 * PI * FINE_STRUCTURE * k->beta * z : 0.0;
    out->L = out->L0 - out->delta_half - out->shell + out->barkas + out->bloch + out->mott;
}

static double bethe_at(const stopping_model *m, const kinematics *k, double z)
{
    bethe_terms b;
    bethe_terms_at(m, k, z, &b);
    double s = BETHE_K_MEV_CM2_MOL * m->mat->z_over_a * z * z / b.beta2 * b.L;
    return s > 0.0 ? s : 0.0;
}

/* ---- low-energy fits -------------------------------------------------------------------------- */

/* ICRU 49 proton fit at this speed (molecular where ICRU 49 gives the molecule, else Bragg's
 * additivity over the elements). */
static double proton_fit_at(const stopping_model *m, const kinematics *k)
{
    const material *mat = m->mat;
    double T_kev_u = (k->gamma - 1.0) * PROTON_MASS_MEV * 1000.0 / PROTON_MASS_U;
    if (m->proton_compound)
        return icru49_proton(m->proton_compound->a, T_kev_u) * PER_ATOM_TO_MASS /
               m->proton_compound->formula_mass;
    double s = 0.0;
    for (int i = 0; i < mat->n_elements; i++)
        s += mat->mass_fraction[i] * icru49_proton(m->low->proton[mat->Z[i]].a, T_kev_u) *
             PER_ATOM_TO_MASS / mat->atomic_weight[i];
    return s;
}

/* ICRU 49 alpha fit at this speed: the stopping of a He ion, its charge state included. */
static double alpha_fit_at(const stopping_model *m, const kinematics *k)
{
    const material *mat = m->mat;
    double T_alpha = (k->gamma - 1.0) * ALPHA_MASS_MEV;
    if (m->compound)
        return icru49_alpha(m->compound->a, T_alpha) * PER_ATOM_TO_MASS / m->compound->formula_mass;
    double s = 0.0;
    for (int i = 0; i < mat->n_elements; i++)
        s += mat->mass_fraction[i] * icru49_alpha(m->low->alpha[mat->Z[i]].a, T_alpha) *
             PER_ATOM_TO_MASS / mat->atomic_weight[i];
    return s;
}

/* ---- the branches joined ------------------------------------------------------------------------ */



/* Stopping of a proton moving at this speed: fit joined to Bethe. */
static double proton_at(const stopping_model *m, const kinematics *k)
{
    double e = energy_per_u(k);
    double s_low = e < PROTON_JOIN_HI ? proton_fit_at(m, k) : 0.0;
    double s_high = e > PROTON_JOIN_LO ? bethe_at(m, k, 1.0) : 0.0;
    return blend(e, PROTON_JOIN_LO, PROTON_JOIN_HI, s_low, s_high);
}

/* Stopping of a helium ion moving at this speed: fit joined to Bethe. */
static double alpha_at(const stopping_model *m, const kinematics *k)
{
    double e = energy_per_u(k);
    double s_low = e < ALPHA_JOIN_HI ? alpha_fit_at(m, k) : 0.0;
    double s_high = e > ALPHA_JOIN_LO ? bethe_at(m, k, 2.0 * sqrt(helium_charge_fraction2(1000.0 * e))) : 0.0;
    return blend(e, ALPHA_JOIN_LO, ALPHA_JOIN_HI, s_low, s_high);
}

double stopping_electronic(const stopping_model *m, double t)
{
    kinematics k = kinematics_of(m, t);
    double e = energy_per_u(&k);
    if (m->Z1 == 1) return proton_at(m, &k);
    if (m->Z1 == 2) return alpha_at(m, &k);

    /* Heavier ions, three published scalings joined smoothly (see the join windows). */
    double z = effective_charge(m, &k);
    double s_low = 0.0, s_mid = 0.0, s_high = 0.0;
    if (e < HEAVY_JOIN_MID_HI) s_low = proton_at(m, &k) * z * z;
    if (e > HEAVY_JOIN_MID_LO && e < HEAVY_JOIN_HI_HI) {
        double he2 = m->sw.effective_charge ? 4.0 * helium_charge_fraction2(1000.0 * e) : 4.0;
        s_mid = alpha_at(m, &k) / he2 * z * z;
    }
    if (e > HEAVY_JOIN_HI_LO) s_high = bethe_at(m, &k, z);
    double below = blend(e, HEAVY_JOIN_MID_LO, HEAVY_JOIN_MID_HI, s_low, s_mid);
    return blend(e, HEAVY_JOIN_HI_LO, HEAVY_JOIN_HI_HI, below, s_high);
}

/* ZBL universal nuclear stopping (Ziegler, Biersack & Littmark 1985): reduced energy
 * eps = 32.53 M2 E / (Z1 Z2 (M1 + M2)(Z1^0.23 + Z2^0.23)), E in keV (lab), masses in u;
 * S_n = 8.462 Z1 Z2 M1 s_n(eps) / ((M1 + M2)(Z1^0.23 + Z2^0.23)) in 1e-15 eV cm^2/atom. */
double stopping_nuclear(const stopping_model *m, double t)
{
    if (!m->sw.nuclear) return 0.0;
    double E_kev = t * m->A1 * 1000.0;
    double M1 = m->mass_mev / ATOMIC_MASS_UNIT_MEV;
    double s = 0.0;
    for (int i = 0; i < m->mat->n_elements; i++) {
        double Z2 = m->mat->Z[i], M2 = m->mat->atomic_weight[i];
        double screen = pow(m->Z1, 0.23) + pow(Z2, 0.23);
        double eps = 32.53 * M2 * E_kev / (m->Z1 * Z2 * (M1 + M2) * screen);
        double sn = eps <= 30.0 ? log(1.0 + 1.1383 * eps) /
                                      (2.0 * (eps + 0.01321 * pow(eps, 0.21226) +
                                              0.19593 * sqrt(eps)))
                                : log(eps) / (2.0 * eps);
        double per_atom = 8.462 * m->Z1 * Z2 * M1 * sn / ((M1 + M2) * screen);
        s += m->mat->mass_fraction[i] * per_atom * PER_ATOM_TO_MASS / M2;
    }
    return s;
}

double stopping_total(const stopping_model *m, double t)
{
    return stopping_electronic(m, t) + stopping_nuclear(m, t);
}

/* ---- set-up ------------------------------------------------------------------------------- */

static const lowenergy_compound *find_compound(const lowenergy_table *low, const material *mat,
                                               int alpha)
{
    char key[64];
    for (int i = 0; i < low->n_compounds; i++) {
        const lowenergy_compound *c = &low->compounds[i];
        if (c->alpha != alpha) continue;
        name_key(c->target, key, sizeof key);
        if (name_key_equals(key, mat->name) || name_list_has(key, mat->aliases)) return c;
    }
    return NULL;
}

int stopping_data_load(stopping_data *d, const material_table *materials, bragg_err *e)
{
    if (lowenergy_table_load(&d->low, materials, "stopping_lowenergy.tsv", e)) return BRAGG_ERR;
    return shell_tables_load(&d->shell, "shell_corrections.tsv", e);
}

int stopping_model_init(stopping_model *m, const ion *ion, const material *mat,
                        const stopping_data *data, stopping_switches sw, bragg_err *e)
{
    const lowenergy_table *low = &data->low;
    memset(m, 0, sizeof *m);
    m->shell = &data->shell;
    m->Z1 = ion->Z;
    m->A1 = ion->A;
    m->mass_mev = ion->mass_mev;
    m->mat = mat;
    m->low = low;
    m->sw = sw;

    double atoms = 0.0, z_sum = 0.0, vf_sum = 0.0;
    for (int i = 0; i < mat->n_elements; i++) {
        int Z = mat->Z[i];
        m->atoms_per_gram[i] = mat->mass_fraction[i] * AVOGADRO / mat->atomic_weight[i];
        m->electrons_per_gram += m->atoms_per_gram[i] * Z;
        atoms += m->atoms_per_gram[i];
        z_sum += m->atoms_per_gram[i] * Z;
        vf_sum += m->atoms_per_gram[i] * (Z <= 92 ? fermi_velocity_table[Z - 1] : 1.0);
    }
    m->mean_z = z_sum / atoms;
    m->fermi_velocity = vf_sum / atoms;

    /* Every ion needs the proton fit (heavier ions scale it); helium also its own fit. */
    m->proton_compound = find_compound(low, mat, 0);
    m->compound = ion->Z == 2 ? find_compound(low, mat, 1) : NULL;
    for (int i = 0; i < mat->n_elements; i++) {
        if (!m->proton_compound && !low->proton[mat->Z[i]].present)
            return bragg_fail(e, "material %s: no ICRU 49 low-energy proton fit for Z = %d",
                              mat->name, mat->Z[i]);
        if (ion->Z == 2 && !m->compound && !low->alpha[mat->Z[i]].present)
            return bragg_fail(e, "material %s: no ICRU 49 low-energy alpha fit for Z = %d",
                              mat->name, mat->Z[i]);
    }

    return BRAGG_OK;
}
