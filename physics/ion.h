/*
 * ion.h - the projectiles: charge, mass number and rest mass, read from assets/ions.tsv.
 *
 * An ion_table owns its array (ion_table_free releases it). Loading happens once on the main
 * thread; afterwards the table is read-only and any thread may look names up.
 */
#ifndef BRAGG_ION_H
#define BRAGG_ION_H

#include "err.h"

typedef struct ion {
    char name[16];      /* canonical, e.g. "C-12" */
    char aliases[160];  /* comma-separated, as in the file */
    int Z;              /* charge number of the bare nucleus */
    int A;              /* mass number; energies per nucleon are T/A */
    double mass_mev;    /* nuclear rest mass, MeV/c^2 */
} ion;

typedef struct ion_table {
    int count;
    ion *ions;
} ion_table;

/* Reads `file` (an asset name such as "ions.tsv" or a path). */
int ion_table_load(ion_table *t, const char *file, bragg_err *e);
void ion_table_free(ion_table *t);

/* Finds an ion by name or alias, ignoring case and '-', '_', '.', ' '. NULL if unknown. */
const ion *ion_table_find(const ion_table *t, const char *name);

/* Like ion_table_find, but on failure fills `e` with the list of valid names. */
const ion *ion_table_lookup(const ion_table *t, const char *name, bragg_err *e);

/* The unit a beam's energy is quoted in: "MeV" for a single nucleon (protons: per nucleon and
 * total are the same, and clinics say MeV), "MeV/u" (per nucleon) for every heavier ion. */
const char *ion_energy_unit(int A);

#endif
