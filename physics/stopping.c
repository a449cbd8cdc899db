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
        else { bragg_fail(e, "projectile: '%s' (valid: proton, alpha)", r.fields[0]); goto fail; }
        double a[5];
        for (int k = 0; k < 5; k++) {
            char field[8];
            snprintf(field, sizeof field, "A%d", k + 1);
            if (parse_number(r.fields[2 + k], field, -1e6, 1e6, &a[k], e)) goto fail;
        }
        const element *el = material_table_element(materials, r.fields[1]);
        if (el) {
            lowenergy_coeffs *c = alpha ? &t->alpha[el->Z] : &t->proton[el->Z];
            memcpy(c->a, a, sizeof a);
            c->present = 1;
        } else if (strcmp(r.fields[7], "-") != 0) {
            if (t->n_compounds == LOWENERGY_MAX_COMPOUNDS) {
                bragg_fail(e, "more than %d compound rows", LOWENERGY_MAX_COMPOUNDS);
                goto fail;
            }
            lowenergy_compound *c = &t->compounds[t->n_compounds];
            snprintf(c->target, sizeof c->target, "%s", r.fields[1]);
            c->alpha = alpha;
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

/* Helium: fraction gamma^2 = (z_eff/2)^2 of ZBL 1985 (Ziegler et al., The Stopping and Range of
 * Ions in Solids, ch. 3), a fit in B = ln(E / (keV/u)); used from 1 keV/u up to 10 MeV/u, above
 * which the ion is bare to better than 1e-20. */
static double helium_charge_fraction2(double kev_per_u, double target_z)
{
    if (kev_per_u >= 1e4) return 1.0;
    double b = log(kev_per_u > 1.0 ? kev_per_u : 1.0);
    double x = 0.2865 + b * (0.1266 + b * (-0.001429 + b * (0.02402 + b * (-0.01135 +
               b * 0.001475))));
    double c = 1.0 + (0.007 + 0.00005 * target_z) * exp(-(7.6 - b) * (7.6 - b));
    return (1.0 - exp(-x)) * c * c;
}

/* Heavier ions: ZBL 1985 fractional effective charge q from the ion's velocity relative to the
 * target's Fermi velocity (v_r = v (1 + v_F^2 / 5v^2) above v_F, (3/4) v_F (1 + 2v^2/3v_F^2 -
 * v^4/15v_F^4) below), y = v_r / (v0 Z1^(2/3)), q = 1 - exp(0.803 y^0.3 - 1.3167 y^0.6 -
 * 0.38157 y - 0.008983 y^2), at least one charge. The Brandt-Kitagawa screening refinement of
 * ZBL is not applied (it matters below ~1 MeV/u only). */
static double heavy_ion_charge_fraction(int Z1, double beta, double fermi_v)
{
    double v = beta / BOHR_VELOCITY_OVER_C;   /* in units of v0 */
    double ratio2 = (v / fermi_v) * (v / fermi_v);
    double vr = ratio2 > 1.0 ? v * (1.0 + 0.2 / ratio2)
                             : 0.75 * fermi_v * (1.0 + (2.0 / 3.0) * ratio2 - ratio2 * ratio2 / 15.0);
    double y = vr / pow(Z1, 2.0 / 3.0);
    double q = 1.0 - exp(0.803 * pow(y, 0.3) - 1.3167 * pow(y, 0.6) - 0.38157 * y -
                         0.008983 * y * y);
    return q > 1.0 / Z1 ? q : 1.0 / Z1;
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

/* Effective charge number of the projectile at this speed. */
static double effective_charge(const stopping_model *m, const kinematics *k)
{
    if (m->Z1 == 1 || !m->sw.effective_charge) return m->Z1;
    if (m->Z1 == 2) {
        double kev_per_u = (k->gamma - 1.0) * ATOMIC_MASS_UNIT_MEV * 1000.0;
        return 2.0 * sqrt(helium_charge_fraction2(kev_per_u, m->mean_z));
    }
    return m->Z1 * heavy_ion_charge_fraction(m->Z1, k->beta, m->fermi_velocity);
}

/* ---- Bethe corrections ---------------------------------------------------------------------- */

double bloch_correction(double y)
{
    double y2 = y * y, sum = 0.0;
    const int n_terms = 2000;
    for (int n = 1; n <= n_terms; n++) sum += 1.0 / (n * ((double)n * n + y2));
    sum += 0.5 / ((double)n_terms * n_terms);   /* tail: sum over n > N of 1/n^3 */
    return -y2 * sum;
}

/* Shell correction C/Z of the material: Barkas & Berger 1964 (NASA SP-3013) per element with
 * the element's own I, valid for eta = beta*gamma >= 0.13, combined per electron (Bragg
 * additivity). Below eta = 0.13 the expansion diverges; see shell_correction(). */
#define SHELL_ETA_MIN 0.13
static double shell_barkas_berger(const stopping_model *m, double eta2)
{
    double e2 = 1.0 / eta2, e4 = e2 * e2, e6 = e4 * e2;
    double sum = 0.0;
    for (int i = 0; i < m->mat->n_elements; i++) {
        double I = m->mat->element_I_ev[i];
        double c = (0.422377 * e2 + 0.0304043 * e4 - 0.00038106 * e6) * 1e-6 * I * I +
                   (3.850190 * e2 - 0.1667989 * e4 + 0.00157955 * e6) * 1e-9 * I * I * I;
        sum += m->atoms_per_gram[i] * c;
    }
    return sum / m->electrons_per_gram;
}

static double shell_correction(const stopping_model *m, double eta2)
{
    const double eta2_min = SHELL_ETA_MIN * SHELL_ETA_MIN;
    if (eta2 >= eta2_min) return shell_barkas_berger(m, eta2);
    /* Below eta = 0.13 (7.9 MeV/u) the correction is carried down log-linearly in beta*gamma,
     * to vanish at eta = 0.0654 (2 MeV/u), where the low-energy fit has taken over (the
     * "standard" variant of Geant4's G4EmCorrections). */
    const double eta2_zero = 0.0654 * 0.0654;
    if (eta2 <= eta2_zero) return 0.0;
    return shell_barkas_berger(m, eta2_min) * log(eta2 / eta2_zero) / log(eta2_min / eta2_zero);
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

void stopping_bethe_terms(const stopping_model *m, double t, bethe_terms *out)
{
    kinematics k = kinematics_of(m, t);
    double z = effective_charge(m, &k);
    double me = ELECTRON_MASS_MEV, ratio = me / m->mass_mev;
    double two_me_eta2 = 2.0 * me * k.eta2;
    double wmax = two_me_eta2 / (1.0 + 2.0 * k.gamma * ratio + ratio * ratio);
    double I = m->mat->I_ev * 1e-6;

    out->beta2 = k.beta2;
    out->gamma = k.gamma;
    out->zeff = z;
    out->L0 = 0.5 * log(two_me_eta2 * wmax / (I * I)) - k.beta2;
    out->delta_half = m->sw.density_effect
                          ? 0.5 * density_effect_delta(&m->mat->density_effect, 0.5 * log10(k.eta2))
                          : 0.0;
    out->shell = m->sw.shell ? shell_correction(m, k.eta2) : 0.0;
    out->barkas = m->sw.barkas ? z * barkas_l1(m, k.beta2) : 0.0;
    out->bloch = m->sw.bloch ? bloch_correction(z * FINE_STRUCTURE / k.beta) : 0.0;
    /* Leading Mott term, pi alpha beta z / 2 (Ahlen, Rev. Mod. Phys. 52 (1980) 121). */
    out->mott = m->sw.mott ? 0.5 * PI * FINE_STRUCTURE * k.beta * z : 0.0;
    out->L = out->L0 - out->delta_half - out->shell + out->barkas + out->bloch + out->mott;
}

static double stopping_bethe(const stopping_model *m, double t)
{
    bethe_terms b;
    stopping_bethe_terms(m, t, &b);
    double s = BETHE_K_MEV_CM2_MOL * m->mat->z_over_a * b.zeff * b.zeff / b.beta2 * b.L;
    return s > 0.0 ? s : 0.0;
}

/* ---- low-energy branch ---------------------------------------------------------------------- */

static double stopping_lowenergy(const stopping_model *m, double t)
{
    kinematics k = kinematics_of(m, t);
    const material *mat = m->mat;
    double s = 0.0;
    if (m->low_kind == LOWENERGY_ALPHA_ELEMENTS || m->low_kind == LOWENERGY_ALPHA_MOLECULE) {
        double T_alpha = (k.gamma - 1.0) * ALPHA_MASS_MEV;
        if (m->compound)
            return icru49_alpha(m->compound->a, T_alpha) * PER_ATOM_TO_MASS /
                   m->compound->formula_mass;
        for (int i = 0; i < mat->n_elements; i++)
            s += mat->mass_fraction[i] * icru49_alpha(m->low->alpha[mat->Z[i]].a, T_alpha) *
                 PER_ATOM_TO_MASS / mat->atomic_weight[i];
        return s;
    }
    double T_kev_u = (k.gamma - 1.0) * PROTON_MASS_MEV * 1000.0 / PROTON_MASS_U;
    if (m->compound) {
        s = icru49_proton(m->compound->a, T_kev_u) * PER_ATOM_TO_MASS / m->compound->formula_mass;
    } else {
        for (int i = 0; i < mat->n_elements; i++)
            s += mat->mass_fraction[i] * icru49_proton(m->low->proton[mat->Z[i]].a, T_kev_u) *
                 PER_ATOM_TO_MASS / mat->atomic_weight[i];
    }
    /* Heavier ions: the proton value at equal velocity times (z_eff)^2 (ZBL 1985 scaling). */
    if (m->Z1 > 2) {
        double z = effective_charge(m, &k);
        s *= z * z;
    }
    return s;
}

/* ---- the two branches joined -------------------------------------------------------------- */

double stopping_electronic(const stopping_model *m, double t)
{
    if (t <= m->join_lo) return stopping_lowenergy(m, t);
    if (t >= m->join_hi) return stopping_bethe(m, t);
    /* C1 blend in log energy: the weight's slope vanishes at both ends, so no kink. */
    double u = log(t / m->join_lo) / log(m->join_hi / m->join_lo);
    double w = u * u * (3.0 - 2.0 * u);
    return (1.0 - w) * stopping_lowenergy(m, t) + w * stopping_bethe(m, t);
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

int stopping_model_init(stopping_model *m, const ion *ion, const material *mat,
                        const lowenergy_table *low, stopping_switches sw, bragg_err *e)
{
    memset(m, 0, sizeof *m);
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

    int alpha_fit = (ion->Z == 2);
    m->compound = find_compound(low, mat, alpha_fit);
    if (!m->compound) {
        for (int i = 0; i < mat->n_elements; i++) {
            const lowenergy_coeffs *c = alpha_fit ? &low->alpha[mat->Z[i]] : &low->proton[mat->Z[i]];
            if (!c->present)
                return bragg_fail(e, "material %s: no ICRU 49 low-energy %s fit for Z = %d",
                                  mat->name, alpha_fit ? "alpha" : "proton", mat->Z[i]);
        }
    }
    m->low_kind = alpha_fit ? (m->compound ? LOWENERGY_ALPHA_MOLECULE : LOWENERGY_ALPHA_ELEMENTS)
                            : (m->compound ? LOWENERGY_PROTON_MOLECULE : LOWENERGY_PROTON_ELEMENTS);

    /* Join window, per nucleon: the ICRU 49 fits hold to ~1-2 MeV/u (Geant4 switches to Bethe at
     * 2 MeV/u for protons and ions); Bethe with the corrections above holds from a few MeV/u. */
    m->join_lo = 1.0;
    m->join_hi = 4.0;
    const char *dev = getenv("BRAGG_DEV_JOIN");
    if (dev) sscanf(dev, "%lf,%lf", &m->join_lo, &m->join_hi);
    return BRAGG_OK;
}
