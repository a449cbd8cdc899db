/* ion.c - see ion.h. */
#include "ion.h"

#include <stdlib.h>
#include <string.h>

#include "assets.h"

int ion_table_load(ion_table *t, const char *file, bragg_err *e)
{
    tsv_reader r;
    memset(t, 0, sizeof *t);
    if (tsv_open(&r, file, e) != BRAGG_OK) return BRAGG_ERR;

    int cap = 0, rc;
    while ((rc = tsv_next(&r, e)) == 1) {
        if (r.nfields != 5) {
            bragg_fail(e, "%s line %d: expected 5 fields (name aliases Z A mass_MeV), found %d",
                       r.path, r.line_no, r.nfields);
            goto fail;
        }
        if (t->count == cap) {
            cap = cap ? 2 * cap : 32;
            ion *grown = realloc(t->ions, (size_t)cap * sizeof *grown);
            if (!grown) { bragg_fail(e, "out of memory reading %s", r.path); goto fail; }
            t->ions = grown;
        }
        ion *ion = &t->ions[t->count];
        memset(ion, 0, sizeof *ion);
        double z, a, m;
        if (strlen(r.fields[0]) >= sizeof ion->name || strlen(r.fields[1]) >= sizeof ion->aliases) {
            bragg_fail(e, "%s line %d: name or aliases too long", r.path, r.line_no);
            goto fail;
        }
        if (parse_number(r.fields[2], "Z", 1, 118, &z, e) || z != (int)z ||
            parse_number(r.fields[3], "A", 1, 300, &a, e) || a != (int)a || a < z ||
            parse_number(r.fields[4], "mass_MeV", 1.0, 3e5, &m, e)) {
            if (z != (int)z || a != (int)a || a < z)
                bragg_fail(e, "Z and A must be integers with A >= Z");
            bragg_fail_prefix(e, "%s line %d: ", r.path, r.line_no);
            goto fail;
        }
        snprintf(ion->name, sizeof ion->name, "%s", r.fields[0]);
        snprintf(ion->aliases, sizeof ion->aliases, "%s", r.fields[1]);
        ion->Z = (int)z;
        ion->A = (int)a;
        ion->mass_mev = m;
        t->count++;
    }
    if (rc < 0) goto fail;
    tsv_close(&r);
    if (t->count == 0) {
        ion_table_free(t);
        return bragg_fail(e, "%s holds no ions", r.path);
    }
    return BRAGG_OK;
fail:
    tsv_close(&r);
    ion_table_free(t);
    return BRAGG_ERR;
}

void ion_table_free(ion_table *t)
{
    free(t->ions);
    t->ions = NULL;
    t->count = 0;
}

const ion *ion_table_find(const ion_table *t, const char *name)
{
    char key[64];
    name_key(name, key, sizeof key);
    if (!*key) return NULL;
    for (int i = 0; i < t->count; i++)
        if (name_key_equals(key, t->ions[i].name) || name_list_has(key, t->ions[i].aliases))
            return &t->ions[i];
    return NULL;
}

const ion *ion_table_lookup(const ion_table *t, const char *name, bragg_err *e)
{
    const ion *found = ion_table_find(t, name);
    if (found) return found;
    char list[400] = "";
    size_t used = 0;
    for (int i = 0; i < t->count && used < sizeof list - 20; i++)
        used += (size_t)snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "",
                                 t->ions[i].name);
    bragg_fail(e, "ion: '%s' is not known; valid: %s", name, list);
    return NULL;
}

const char *ion_energy_unit(int A)
{
    return A == 1 ? "MeV" : "MeV/u";
}
