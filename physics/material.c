/* material.c - see material.h. */
#include "material.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "assets.h"
#include "constants.h"

/* ---- radiation length ------------------------------------------------------------------- */

/* Coulomb correction f(Z), PDG 2022 eq. 34.27 (Davies, Bethe & Maximon 1954). */
static double coulomb_correction(int Z)
{
    double a2 = (FINE_STRUCTURE * Z) * (FINE_STRUCTURE * Z);
    return a2 * (1.0 / (1.0 + a2) + 0.20206 - 0.0369 * a2 + 0.0083 * a2 * a2 -
                 0.002 * a2 * a2 * a2);
}

double element_radiation_length(int Z, double atomic_weight)
{
    /* L_rad and L'_rad: Tsai's values for Z <= 4, Thomas-Fermi forms above (PDG 2022 table
     * 34.2 and the text after eq. 34.26). */
    static const double lrad_light[5] = {0, 5.31, 4.79, 4.74, 4.71};
    static const double lprime_light[5] = {0, 6.144, 5.621, 5.805, 5.924};
    double lrad, lprime;
    if (Z <= 4) {
        lrad = lrad_light[Z];
        lprime = lprime_light[Z];
    } else {
        lrad = log(184.15 * pow(Z, -1.0 / 3.0));
        lprime = log(1194.0 * pow(Z, -2.0 / 3.0));
    }
    /* 716.408 g/cm^2 = A / (4 alpha r_e^2 N_A) for A = 1 g/mol (PDG 2022 eq. 34.26). */
    double inv = ((double)Z * Z * (lrad - coulomb_correction(Z)) + Z * lprime) /
                 (716.408 * atomic_weight);
    return 1.0 / inv;
}

/* ---- density effect --------------------------------------------------------------------- */

double density_effect_delta(const density_effect *d, double x)
{
    const double two_ln10 = 2.0 * log(10.0);
    if (x >= d->x1) return two_ln10 * x - d->cbar;
    if (x >= d->x0) return two_ln10 * x - d->cbar + d->a * pow(d->x1 - x, d->m);
    /* Below X0 only conductors keep a residual delta (Sternheimer et al. 1984, eq. 6). */
    return d->delta0 > 0 ? d->delta0 * pow(10.0, 2.0 * (x - d->x0)) : 0.0;
}

/* Sternheimer & Peierls, Phys. Rev. B 3 (1971) 3681: general parameters from I and the plasma
 * energy alone, for materials without tabulated values (rules as quoted in Leo, "Techniques for
 * Nuclear and Particle Physics Experiments", 2nd ed., sec. 2.2.1). */
static void density_effect_general(density_effect *d, double I_ev, double plasma_ev, int is_gas)
{
    double cbar = 2.0 * log(I_ev / plasma_ev) + 1.0;
    double x0, x1;
    if (!is_gas) {
        if (I_ev < 100.0) {
            x1 = 2.0;
            x0 = cbar <= 3.681 ? 0.2 : 0.326 * cbar - 1.0;
        } else {
            x1 = 3.0;
            x0 = cbar <= 5.215 ? 0.2 : 0.326 * cbar - 1.5;
        }
    } else {
        x1 = 4.0;
        if (cbar < 10.0) x0 = 1.6;
        else if (cbar < 10.5) x0 = 1.7;
        else if (cbar < 11.0) x0 = 1.8;
        else if (cbar < 11.5) x0 = 1.9;
        else if (cbar < 12.25) x0 = 2.0;
        else if (cbar < 13.804) { x0 = 2.0; x1 = 5.0; }
        else { x0 = 0.326 * cbar - 2.5; x1 = 5.0; }
    }
    d->cbar = cbar;
    d->x0 = x0;
    d->x1 = x1;
    d->m = 3.0;
    d->delta0 = 0.0;
    d->a = (cbar - 2.0 * log(10.0) * x0) / pow(x1 - x0, d->m);
    d->tabulated = 0;
}

/* ---- loading ------------------------------------------------------------------------------ */

static int load_elements(material_table *t, const char *file, bragg_err *e)
{
    tsv_reader r;
    if (tsv_open(&r, file, e) != BRAGG_OK) return BRAGG_ERR;
    int rc, rows = 0;
    while ((rc = tsv_next(&r, e)) == 1) {
        double z, w, I;
        if (r.nfields < 5) {
            bragg_fail(e, "%s line %d: expected Z symbol name atomic_weight I_eV", r.path,
                       r.line_no);
            goto fail;
        }
        if (parse_number(r.fields[0], "Z", 1, ELEMENT_MAX_Z, &z, e) ||
            parse_number(r.fields[3], "atomic_weight", 1.0, 300.0, &w, e) ||
            parse_number(r.fields[4], "I_eV", 1.0, 2000.0, &I, e)) {
            bragg_fail_prefix(e, "%s line %d: ", r.path, r.line_no);
            goto fail;
        }
        if (z != floor(z)) {
            bragg_fail(e, "%s line %d: Z: %g is not a whole number", r.path, r.line_no, z);
            goto fail;
        }
        /* Natural atomic weights lie between Z and 3 Z (H 1.008 ... U 238.03). */
        if (w < z || w > 3 * z) {
            bragg_fail(e, "%s line %d: atomic_weight: %g is implausible for Z = %d (valid: %g to "
                          "%g)", r.path, r.line_no, w, (int)z, z, 3 * z);
            goto fail;
        }
        element *el = &t->elements[(int)z];
        if (el->Z) {
            bragg_fail(e, "%s line %d: Z = %d given twice (%s)", r.path, r.line_no, (int)z,
                       BRAGG_QUOTED(el->symbol));
            goto fail;
        }
        if (material_table_element(t, r.fields[1])) {
            bragg_fail(e, "%s line %d: symbol %s given twice", r.path, r.line_no,
                       BRAGG_QUOTED(r.fields[1]));
            goto fail;
        }
        if (!*r.fields[1] || strlen(r.fields[1]) >= sizeof el->symbol ||
            strlen(r.fields[2]) >= sizeof el->name || !bragg_text_printable(r.fields[1]) ||
            !bragg_text_printable(r.fields[2])) {
            bragg_fail(e, "%s line %d: symbol or name empty, too long or not printable text",
                       r.path, r.line_no);
            goto fail;
        }
        el->Z = (int)z;
        snprintf(el->symbol, sizeof el->symbol, "%s", r.fields[1]);
        snprintf(el->name, sizeof el->name, "%s", r.fields[2]);
        el->atomic_weight = w;
        el->I_ev = I;
        rows++;
    }
    tsv_close(&r);
    if (rc < 0) return BRAGG_ERR;
    if (rows == 0) return bragg_fail(e, "%s holds no elements", r.path);
    return BRAGG_OK;
fail:
    tsv_close(&r);
    return BRAGG_ERR;
}

const element *material_table_element(const material_table *t, const char *symbol)
{
    for (int z = 1; z <= ELEMENT_MAX_Z; z++)
        if (t->elements[z].Z && strcmp(t->elements[z].symbol, symbol) == 0)
            return &t->elements[z];
    return NULL;
}

/* Parses "H:0.111894,O:0.888106" into the material. */
static int parse_composition(const material_table *t, material *m, const char *text, bragg_err *e)
{
    char buf[1024];
    if (strlen(text) >= sizeof buf) return bragg_fail(e, "composition: too long");
    snprintf(buf, sizeof buf, "%s", text);
    double sum = 0.0;
    m->n_elements = 0;
    char *save = NULL;
    for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        char *colon = strchr(tok, ':');
        if (!colon)
            return bragg_fail(e, "composition: %s is not Symbol:mass_fraction",
                              BRAGG_QUOTED(tok));
        *colon = '\0';
        const element *el = material_table_element(t, tok);
        if (!el) return bragg_fail(e, "composition: unknown element symbol %s",
                                      BRAGG_QUOTED(tok));
        if (m->n_elements == MATERIAL_MAX_ELEMENTS)
            return bragg_fail(e, "composition: more than %d elements", MATERIAL_MAX_ELEMENTS);
        double w;
        if (parse_number(colon + 1, "composition mass fraction", 0.0, 1.0, &w, e))
            return BRAGG_ERR;
        for (int i = 0; i < m->n_elements; i++)
            if (m->Z[i] == el->Z) return bragg_fail(e, "composition: %s listed twice", tok);
        int i = m->n_elements++;
        m->Z[i] = el->Z;
        m->atomic_weight[i] = el->atomic_weight;
        m->element_I_ev[i] = el->I_ev;
        m->mass_fraction[i] = w;
        sum += w;
    }
    if (m->n_elements == 0) return bragg_fail(e, "composition: empty");
    if (fabs(sum - 1.0) > 1e-3)
        return bragg_fail(e, "composition: mass fractions sum to %.6f (valid: 1 within 1e-3)",
                          sum);
    for (int i = 0; i < m->n_elements; i++) m->mass_fraction[i] /= sum;
    return BRAGG_OK;
}

static int parse_density_effect(material *m, const char *text, bragg_err *e)
{
    if (strcmp(text, "-") == 0) return BRAGG_OK;
    double v[6];
    char buf[256];
    snprintf(buf, sizeof buf, "%s", text);
    char *save = NULL, *tok = strtok_r(buf, ",", &save);
    static const char *names[6] = {"Cbar", "X0", "X1", "a", "m", "delta0"};
    static const double lo[6] = {0.0, -1.0, 0.0, 0.0, 0.5, 0.0};
    static const double hi[6] = {20.0, 5.0, 10.0, 5.0, 10.0, 1.0};
    for (int i = 0; i < 6; i++, tok = strtok_r(NULL, ",", &save)) {
        char field[64];
        snprintf(field, sizeof field, "density_effect %s", names[i]);
        if (!tok) return bragg_fail(e, "density_effect: needs 6 numbers Cbar,X0,X1,a,m,delta0");
        if (parse_number(tok, field, lo[i], hi[i], &v[i], e)) return BRAGG_ERR;
    }
    if (tok) return bragg_fail(e, "density_effect: more than 6 numbers");
    if (v[2] <= v[1]) return bragg_fail(e, "density_effect: X1 must exceed X0");
    memcpy(m->density_effect_file, v, sizeof v);
    m->density_effect = (density_effect){v[0], v[1], v[2], v[3], v[4], v[5], 1};
    return BRAGG_OK;
}

static void material_derive(material *m)
{
    double za = 0.0, inv_x0 = 0.0;
    for (int i = 0; i < m->n_elements; i++) {
        za += m->mass_fraction[i] * m->Z[i] / m->atomic_weight[i];
        inv_x0 += m->mass_fraction[i] / element_radiation_length(m->Z[i], m->atomic_weight[i]);
    }
    m->z_over_a = za;
    m->radiation_length = 1.0 / inv_x0;
    m->plasma_energy_ev = PLASMA_ENERGY_EV_COEF * sqrt(m->density * za);
}

int material_set_i_value(material *m, double I_ev, bragg_err *e)
{
    if (!(I_ev >= 5.0 && I_ev <= 2000.0))
        return bragg_fail(e, "I-value: %g eV is out of range (valid: 5 to 2000 eV)", I_ev);
    m->I_ev = I_ev;
    if (m->density_effect.tabulated) {
        density_effect *d = &m->density_effect;
        /* Restart from the file's values, so switching back restores them exactly. */
        d->cbar = m->density_effect_file[0];
        d->x0 = m->density_effect_file[1];
        d->x1 = m->density_effect_file[2];
        d->a = m->density_effect_file[3];
        d->m = m->density_effect_file[4];
        d->delta0 = m->density_effect_file[5];
        if (I_ev != m->I_ev_tabulated) {
            /* Sternheimer 1984: Cbar = 2 ln(I/hbar omega_p) + 1; X0, X1, m kept; a from
             * continuity of delta at X0. */
            d->cbar = 2.0 * log(I_ev / m->plasma_energy_ev) + 1.0;
            d->a = (d->cbar - 2.0 * log(10.0) * d->x0 + d->delta0) / pow(d->x1 - d->x0, d->m);
        }
    } else {
        density_effect_general(&m->density_effect, I_ev, m->plasma_energy_ev,
                               m->density < 0.01);
    }
    return BRAGG_OK;
}

static int load_materials(material_table *t, const char *file, bragg_err *e)
{
    tsv_reader r;
    if (tsv_open(&r, file, e) != BRAGG_OK) return BRAGG_ERR;
    int cap = 0, rc;
    while ((rc = tsv_next(&r, e)) == 1) {
        if (r.nfields != 7) {
            bragg_fail(e, "expected 7 tab-separated fields (name aliases density_g_cm3 I_eV "
                          "composition density_effect source), found %d", r.nfields);
            goto row_fail;
        }
        if (t->count == cap) {
            cap = cap ? 2 * cap : 32;
            material *grown = realloc(t->materials, (size_t)cap * sizeof *grown);
            if (!grown) { bragg_fail(e, "out of memory"); goto row_fail; }
            t->materials = grown;
        }
        material *m = &t->materials[t->count];
        memset(m, 0, sizeof *m);
        if (strlen(r.fields[0]) >= sizeof m->name || strlen(r.fields[1]) >= sizeof m->aliases) {
            bragg_fail(e, "name or aliases too long");
            goto row_fail;
        }
        if (!*r.fields[0] || !bragg_text_printable(r.fields[0]) ||
            !bragg_text_printable(r.fields[1]) || !bragg_text_printable(r.fields[6])) {
            bragg_fail(e, "name %s, aliases or source empty or not printable text",
                       BRAGG_QUOTED(r.fields[0]));
            goto row_fail;
        }
        snprintf(m->name, sizeof m->name, "%s", r.fields[0]);
        snprintf(m->aliases, sizeof m->aliases, "%s", r.fields[1]);
        snprintf(m->source, sizeof m->source, "%s", r.fields[6]);
        double I;
        if (parse_number(r.fields[2], "density_g_cm3", 1e-6, 30.0, &m->density, e) ||
            parse_number(r.fields[3], "I_eV", 5.0, 2000.0, &I, e) ||
            parse_composition(t, m, r.fields[4], e) ||
            parse_density_effect(m, r.fields[5], e))
            goto row_fail;
        /* Every name and alias must find one material only: a second would be shadowed. */
        const material *clash = material_table_find(t, m->name);
        char clash_name[sizeof m->aliases];
        snprintf(clash_name, sizeof clash_name, "%s", m->name);
        if (!clash && strcmp(m->aliases, "-") != 0) {
            char list[sizeof m->aliases], *save = NULL;
            snprintf(list, sizeof list, "%s", m->aliases);
            for (char *tok = strtok_r(list, ",", &save); tok && !clash;
                 tok = strtok_r(NULL, ",", &save))
                if ((clash = material_table_find(t, tok)))
                    snprintf(clash_name, sizeof clash_name, "%s", tok);
        }
        if (clash) {
            bragg_fail(e, "%s names material %s already (names and aliases must be unique)",
                       BRAGG_QUOTED(clash_name), clash->name);
            goto row_fail;
        }
        m->I_ev_tabulated = I;
        material_derive(m);
        if (material_set_i_value(m, I, e)) goto row_fail;
        t->count++;
    }
    tsv_close(&r);
    if (rc < 0) return BRAGG_ERR;
    if (t->count == 0) return bragg_fail(e, "%s holds no materials", r.path);
    return BRAGG_OK;
row_fail:
    bragg_fail_prefix(e, "%s line %d: ", r.path, r.line_no);
    tsv_close(&r);
    return BRAGG_ERR;
}

int material_table_load(material_table *t, const char *elements_file, const char *materials_file,
                        bragg_err *e)
{
    memset(t, 0, sizeof *t);
    if (load_elements(t, elements_file, e) || load_materials(t, materials_file, e)) {
        material_table_free(t);
        return BRAGG_ERR;
    }
    return BRAGG_OK;
}

void material_table_free(material_table *t)
{
    free(t->materials);
    t->materials = NULL;
    t->count = 0;
}

const material *material_table_find(const material_table *t, const char *name)
{
    char key[128];
    name_key(name, key, sizeof key);
    if (!*key) return NULL;
    for (int i = 0; i < t->count; i++)
        if (name_key_equals(key, t->materials[i].name) ||
            name_list_has(key, t->materials[i].aliases))
            return &t->materials[i];
    return NULL;
}

const material *material_table_lookup(const material_table *t, const char *name, bragg_err *e)
{
    const material *m = material_table_find(t, name);
    if (m) return m;
    char list[sizeof e->msg - 96] = "";
    size_t used = 0;
    for (int i = 0; i < t->count && used + 40 < sizeof list; i++)
        used += (size_t)snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "",
                                 t->materials[i].name);
    /* Aliases are too many to list; the everyday ones are named so a user can find them. */
    bragg_fail(e, "material: %s is not known; valid: %s (aliases too: bone, tissue, lung, "
                  "lucite, G4_WATER, ...)", BRAGG_QUOTED(name), list);
    return NULL;
}
