/*
 * material.h - elements and materials: composition, density, mean excitation energy (I),
 * density-effect parameters and radiation length, read from assets/elements.tsv and
 * assets/materials.tsv (the file headers document the formats; a user adds a material by adding
 * a row).
 *
 * A material_table owns everything it holds (material_table_free releases it). It is loaded and,
 * if wanted, adjusted (material_set_i_value) on one thread before any run starts; afterwards it is
 * read-only and may be shared by all threads.
 */
#ifndef BRAGG_MATERIAL_H
#define BRAGG_MATERIAL_H

#include "err.h"

#define ELEMENT_MAX_Z          118
#define MATERIAL_MAX_ELEMENTS  16

typedef struct element {
    int Z;                 /* 0 marks an absent row */
    char symbol[4];
    char name[24];
    double atomic_weight;  /* g/mol */
    double I_ev;           /* mean excitation energy of the pure element, eV */
} element;

/* Sternheimer's density-effect parametrisation (Sternheimer, Berger & Seltzer, At. Data Nucl.
 * Data Tables 30 (1984) 261): delta(X) with X = log10(beta*gamma). */
typedef struct density_effect {
    double cbar, x0, x1, a, m, delta0;
    int tabulated;         /* 1: from the file; 0: from Sternheimer-Peierls general rules */
} density_effect;

typedef struct material {
    char name[48];
    char aliases[200];
    char source[256];
    double density;          /* g/cm^3 */
    double I_ev;             /* mean excitation energy in use, eV */
    double I_ev_tabulated;   /* as written in the file */
    int n_elements;
    int Z[MATERIAL_MAX_ELEMENTS];
    double atomic_weight[MATERIAL_MAX_ELEMENTS];  /* g/mol */
    double mass_fraction[MATERIAL_MAX_ELEMENTS];  /* normalised to sum 1 */
    double element_I_ev[MATERIAL_MAX_ELEMENTS];   /* of the pure element (for shell corrections) */

    /* Derived on load. */
    double z_over_a;           /* <Z/A>, mol/g */
    double plasma_energy_ev;   /* hbar*omega_p */
    double radiation_length;   /* X0, g/cm^2 (Tsai, as in PDG 2022 eq. 34.26) */
    density_effect density_effect;
    double density_effect_file[6]; /* as read, before any I change; unused if not tabulated */
} material;

typedef struct material_table {
    int count;
    material *materials;
    element elements[ELEMENT_MAX_Z + 1];   /* indexed by Z */
} material_table;

/* Reads the element file then the material file (asset names or paths). */
int material_table_load(material_table *t, const char *elements_file, const char *materials_file,
                        bragg_err *e);
void material_table_free(material_table *t);

/* Lookup by name or alias, ignoring case and '-', '_', '.', ' '. */
const material *material_table_find(const material_table *t, const char *name);
/* Same, filling `e` with the valid names when not found. */
const material *material_table_lookup(const material_table *t, const char *name, bragg_err *e);

/* Element by symbol ("O", "Ca"), or NULL. */
const element *material_table_element(const material_table *t, const char *symbol);

/* Changes the mean excitation energy (e.g. water's 75 eV -> 78 eV). The density-effect
 * parameters follow: Cbar = 2 ln(I / hbar omega_p) + 1 and `a` from continuity at X0. */
int material_set_i_value(material *m, double I_ev, bragg_err *e);

/* Density-effect correction delta at X = log10(beta*gamma). */
double density_effect_delta(const density_effect *d, double x);

/* Radiation length of a pure element, g/cm^2 (Tsai 1974 as in PDG 2022 eq. 34.26). */
double element_radiation_length(int Z, double atomic_weight);

#endif
