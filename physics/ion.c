/* ion.c - see ion.h. */
#include "ion.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "assets.h"
#include "constants.h"

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
        double z = 0, a = 0, m = 0;
        if (strlen(r.fields[0]) >= sizeof ion->name || strlen(r.fields[1]) >= sizeof ion->aliases) {
            bragg_fail(e, "%s line %d: name or aliases too long", r.path, r.line_no);
            goto fail;
        }
        if (!*r.fields[0] || !bragg_text_printable(r.fields[0]) ||
            !bragg_text_printable(r.fields[1])) {
            bragg_fail(e, "%s line %d: name %s or aliases %s empty or not printable text",
                       r.path, r.line_no, BRAGG_QUOTED(r.fields[0]), BRAGG_QUOTED(r.fields[1]));
            goto fail;
        }
        /* Each number is checked before it is used (the fuzzer found the whole-number test run
         * on a Z that had failed to parse). */
        if (parse_number(r.fields[2], "Z", 1, 118, &z, e) ||
            parse_number(r.fields[3], "A", 1, 300, &a, e) ||
            parse_number(r.fields[4], "mass_MeV", 1.0, 3e5, &m, e) ||
            ((z != floor(z) || a != floor(a) || a < z) &&
             bragg_fail(e, "Z and A must be whole numbers with A >= Z (Z %g, A %g)", z, a))) {
            bragg_fail_prefix(e, "%s line %d: ", r.path, r.line_no);
            goto fail;
        }
        /* A nucleus weighs A atomic mass units within its binding energy (under 1%) and the
         * electrons' masses: a mass further off is a typo, and would change the physics. */
        if (fabs(m / (a * ATOMIC_MASS_UNIT_MEV) - 1.0) > 0.02) {
            bragg_fail(e, "%s line %d: mass_MeV: %g is not within 2%% of A x %g MeV (A = %d)",
                       r.path, r.line_no, m, ATOMIC_MASS_UNIT_MEV, (int)a);
            goto fail;
        }
        /* Every name and alias must find one ion only: a second would be silently shadowed. */
        const struct ion *clash = ion_table_find(t, r.fields[0]);
        char clash_name[sizeof ion->aliases];
        snprintf(clash_name, sizeof clash_name, "%s", r.fields[0]);
        if (!clash && strcmp(r.fields[1], "-") != 0) {
            char list[sizeof ion->aliases], *save = NULL;
            snprintf(list, sizeof list, "%s", r.fields[1]);
            for (char *tok = strtok_r(list, ",", &save); tok && !clash;
                 tok = strtok_r(NULL, ",", &save))
                if ((clash = ion_table_find(t, tok)))
                    snprintf(clash_name, sizeof clash_name, "%s", tok);
        }
        if (clash) {
            bragg_fail(e, "%s line %d: %s names ion %s already (names and aliases must be unique)",
                       r.path, r.line_no, BRAGG_QUOTED(clash_name), clash->name);
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
    bragg_fail(e, "ion: %s is not known; valid: %s", BRAGG_QUOTED(name), list);
    return NULL;
}

const char *ion_energy_unit(int A)
{
    return A == 1 ? "MeV" : "MeV/u";
}
