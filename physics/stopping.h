/*
 * stopping.h - mass stopping power of any ion in any material, from physics rather than tables.
 *
 * High energies: the relativistic Bethe formula with the density effect (Sternheimer 1984),
 * shell corrections (Walske K and L shells, scaled outer shells: physics/shell.h), the Barkas z^3 term
 * (Ashley, Ritchie & Brandt 1972 with Bichsel's b), the Bloch z^4 term (Bloch 1933, exact
 * series) and the Mott term (Ahlen 1980), with the projectile's effective charge.
 * Low energies: the ICRU 49 fits for protons and alpha particles (Andersen-Ziegler / Ziegler
 * 1977 form, assets/stopping_lowenergy.tsv), molecular where ICRU 49 gives a molecule, Bragg
 * additivity otherwise. Heavier ions: the proton scaled by the ZBL effective charge at low
 * speed, helium scaled by the Hubert-Bimbot-Gauvin effective charge at intermediate speed, and
 * Bethe for their own charge at high speed. Branches are joined with smooth (C1) weights in log
 * energy. Nuclear stopping: the ZBL universal formula.
 *
 * These functions are for building tables on the host, not for the transport step (which uses
 * physics/tables.h). A stopping_model is a small value the caller owns; it keeps pointers to the
 * material and low-energy table, which must outlive it. Read-only after init: any thread.
 *
 * Energies are kinetic energy per nucleon t = T/A in MeV/u (A = mass number); stopping powers
 * are for the whole ion, in MeV cm^2/g.
 */
#ifndef BRAGG_STOPPING_H
#define BRAGG_STOPPING_H

#include "err.h"
#include "ion.h"
#include "material.h"
#include "shell.h"

#define LOWENERGY_MAX_COMPOUNDS 48

typedef struct lowenergy_coeffs {
    double a[5];
    int present;
    int line;              /* where in the file (for messages about the tables built from it) */
} lowenergy_coeffs;

typedef struct lowenergy_compound {
    char target[48];       /* matched against a material's name and aliases */
    int alpha;             /* 0: proton fit, 1: alpha fit */
    double a[5];
    double formula_mass;   /* g/mol of one molecule */
    int line;
} lowenergy_compound;

/* Every coefficient of the ICRU 49 fits is positive (the file's smallest is 0.0026, its largest
 * 19180): with positive coefficients the fitted stopping is positive and finite at every
 * energy. A negative one gave NaN stopping powers and, through them, a transport step that
 * never ended; anything outside this range is refused with its line. */
#define LOWENERGY_COEFF_MIN 1e-6
#define LOWENERGY_COEFF_MAX 1e5

typedef struct lowenergy_table {
    char path[1024];       /* the file read, for messages */
    lowenergy_coeffs proton[ELEMENT_MAX_Z + 1];   /* by target Z */
    lowenergy_coeffs alpha[ELEMENT_MAX_Z + 1];
    int n_compounds;
    lowenergy_compound compounds[LOWENERGY_MAX_COMPOUNDS];
} lowenergy_table;

/* Reads assets/stopping_lowenergy.tsv; element symbols are resolved with `materials`. */
int lowenergy_table_load(lowenergy_table *t, const material_table *materials, const char *file,
                         bragg_err *e);

/* All the data the stopping model reads besides the material: low-energy fits and shell
 * correction tables. */
typedef struct stopping_data {
    lowenergy_table low;
    shell_tables shell;
} stopping_data;

int stopping_data_load(stopping_data *d, const material_table *materials, bragg_err *e);

/* Physics switches: every correction can be turned off to see what it does. */
typedef struct stopping_switches {
    int shell, barkas, bloch, mott, density_effect, effective_charge, nuclear;
} stopping_switches;

stopping_switches stopping_switches_all(void);

typedef struct stopping_model {
    int Z1, A1;                 /* projectile charge and mass number */
    double mass_mev;            /* projectile rest mass */
    const material *mat;
    const lowenergy_table *low;
    const shell_tables *shell;
    stopping_switches sw;
    const lowenergy_compound *proton_compound;  /* molecular proton fit, or NULL */
    const lowenergy_compound *compound;         /* molecular alpha fit (helium), or NULL */
    double atoms_per_gram[MATERIAL_MAX_ELEMENTS];  /* n_i / rho, 1/g */
    double electrons_per_gram;
    double mean_z;              /* atom-weighted mean target Z */
    double fermi_velocity;      /* atom-weighted v_F / v0 (ZBL) */
} stopping_model;

int stopping_model_init(stopping_model *m, const ion *ion, const material *mat,
                        const stopping_data *data, stopping_switches sw, bragg_err *e);

/* Electronic (collision) stopping power, MeV cm^2/g. */
double stopping_electronic(const stopping_model *m, double t);
/* Nuclear (elastic) stopping power, MeV cm^2/g; 0 when switched off. */
double stopping_nuclear(const stopping_model *m, double t);
/* Electronic + nuclear. */
double stopping_total(const stopping_model *m, double t);

/* Effective charge number of the projectile at t (ZBL 1985 for He and heavier; the bare
 * charge for hydrogen isotopes or when the effective_charge switch is off). */
double stopping_effective_charge(const stopping_model *m, double t);

/* Bloch's correction L2(y) = -y^2 sum 1/(n (n^2 + y^2)), y = z alpha / beta. */
double bloch_correction(double y);

#endif
