/* catalog.c - see catalog.h. */
#include "catalog.h"

#include <stdlib.h>
#include <string.h>

int catalog_load(catalog *c, bragg_err *e)
{
    memset(c, 0, sizeof *c);
    c->stopping = calloc(1, sizeof *c->stopping);
    if (!c->stopping) return bragg_fail(e, "out of memory loading assets");
    if (ion_table_load(&c->ions, "ions.tsv", e) ||
        material_table_load(&c->materials, "elements.tsv", "materials.tsv", e) ||
        stopping_data_load(c->stopping, &c->materials, e)) {
        catalog_free(c);
        return BRAGG_ERR;
    }
    return BRAGG_OK;
}

void catalog_free(catalog *c)
{
    ion_table_free(&c->ions);
    material_table_free(&c->materials);
    free(c->stopping);
    c->stopping = NULL;
}

int catalog_set_water_i(catalog *c, double I_ev, bragg_err *e)
{
    if (I_ev != 75.0 && I_ev != 78.0)
        return bragg_fail(e, "--iwater: %g eV is not offered (valid: 75 = ICRU 49 / NIST PSTAR, "
                             "78 = ICRU 90)", I_ev);
    material *water = (material *)material_table_find(&c->materials, "water");
    if (!water) return bragg_fail(e, "--iwater: materials.tsv has no material named water");
    return material_set_i_value(water, I_ev, e);
}
