/* physics_options.c - the options shared by the physics commands (see commands.h). */
#include "commands.h"

#include <string.h>

void physics_options_default(physics_options *p)
{
    memset(p, 0, sizeof *p);
    p->iwater = 75.0;
    p->stopping = stopping_switches_all();
}

int physics_options_resolve(const physics_options *p, catalog *cat, const ion **ion,
                            const material **mat, bragg_err *e)
{
    if (!p->ion) return bragg_fail(e, "--ion: missing (e.g. --ion p, --ion C-12)");
    if (!p->material) return bragg_fail(e, "--material: missing (e.g. --material water)");
    if (catalog_load(cat, e)) return BRAGG_ERR;
    if (catalog_set_water_i(cat, p->iwater, e)) goto fail;
    *ion = ion_table_lookup(&cat->ions, p->ion, e);
    if (!*ion) goto fail;
    *mat = material_table_lookup(&cat->materials, p->material, e);
    if (!*mat) goto fail;
    return BRAGG_OK;
fail:
    catalog_free(cat);
    return BRAGG_ERR;
}
