/*
 * catalog.h - everything read from assets/ at start: ions, elements and materials, and the
 * data of the stopping model (ICRU 49 low-energy fits, shell-correction tables).
 *
 * The caller owns a catalog (catalog_free releases it). Load and adjust (e.g. water's I-value)
 * on one thread before any run; afterwards it is read-only and shared by all threads.
 */
#ifndef BRAGG_CATALOG_H
#define BRAGG_CATALOG_H

#include "err.h"
#include "ion.h"
#include "material.h"
#include "stopping.h"

typedef struct catalog {
    ion_table ions;
    material_table materials;
    stopping_data *stopping;      /* low-energy fits and shell tables; large, kept off the stack */
} catalog;

int catalog_load(catalog *c, bragg_err *e);
void catalog_free(catalog *c);

/* Water's I-value choice: 75 eV (ICRU 49, NIST PSTAR/ASTAR; the default) or 78 eV (ICRU 90,
 * revised ICRU 73). Applies to the material named "water". */
int catalog_set_water_i(catalog *c, double I_ev, bragg_err *e);

#endif
