/* setup_panel.c - see setup_panel.h. */
#include "setup_panel.h"

#include <curses.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "assets.h"
#include "backend.h"
#include "biology.h"
#include "draw.h"
#include "run_file.h"

static const char *const field_labels[FIELD_COUNT] = {
    "Ion", "Energy", "Spread", "Spot", "Material", "Stack", "Histories", "Backend", "Threads",
    "Straggling", "MCS", "Nuclear", "Seed", "Biology",
};

/* Shown while editing, until the text typed is checked. */
static const char *const field_hints[FIELD_COUNT] = {
    "ion name or alias: p, He-4, C-12, O-16, ... (left/right cycles)",
    "",   /* field_hint: the unit follows the ion */
    "relative energy spread, percent (0 to 20)",
    "spot size sigma per axis, mm (0 to 100)",
    "material name (left/right cycles)",
    "slabs 'material:cm, ...' with the last 'material' or ':inf'; none (or empty): one material",
    "",   /* field_hint: the floor follows the batches */
    "serial, openmp, event, simd or cuda (left/right cycles)",
    "OpenMP threads, 0 = all cores",
    "on/off", "on/off", "on/off",
    "random seed (0 to 2^64-1)",
    "none, or a model and the tissue's (alpha/beta)x in Gy: mkm, mcnamara 2, wedenberg 3, rbe1.1",
};

static int is_stack(const run_config *c)
{
    return c->n_slabs > 1 || (c->n_slabs == 1 && !isinf(c->slabs[0].thickness_cm));
}

static void stack_text(const run_config *c, char *out, size_t len)
{
    size_t used = 0;
    out[0] = '\0';
    for (int i = 0; i < c->n_slabs && used < len; i++) {
        if (isinf(c->slabs[i].thickness_cm))
            used += (size_t)snprintf(out + used, len - used, "%s%s", i ? ", " : "",
                                     c->slabs[i].material);
        else
            used += (size_t)snprintf(out + used, len - used, "%s%s:%g", i ? ", " : "",
                                     c->slabs[i].material, c->slabs[i].thickness_cm);
    }
}

void setup_field_value(const tui_state *t, int field, char *out, size_t len)
{
    const run_config *c = &t->cfg;
    switch (field) {
    case FIELD_ION: snprintf(out, len, "%s", c->ion); break;
    case FIELD_ENERGY: {
        const ion *ion = ion_table_find(&t->cat.ions, c->ion);
        snprintf(out, len, "%g %s", c->energy, ion_energy_unit(ion ? ion->A : 0));
        break;
    }
    case FIELD_SPREAD: snprintf(out, len, "%g %%", 100 * c->energy_spread); break;
    case FIELD_SPOT: snprintf(out, len, "%g mm", 10 * c->spot_sigma_cm); break;
    case FIELD_MATERIAL:
        snprintf(out, len, "%s", is_stack(c) ? "(stack below)" : c->slabs[0].material);
        break;
    case FIELD_STACK:
        if (is_stack(c)) stack_text(c, out, len);
        else snprintf(out, len, "none");
        break;
    case FIELD_HISTORIES: snprintf(out, len, "%llu", (unsigned long long)c->histories); break;
    case FIELD_BACKEND:
        /* Why not: in the status line when it is chosen, and in the race. */
        if (strcmp(c->backend, "cuda") == 0 && !t->cuda_ok) snprintf(out, len, "cuda (n/a here)");
        else snprintf(out, len, "%s", c->backend);
        break;
    case FIELD_THREADS:
        if (strcmp(c->backend, "openmp") != 0 && strcmp(c->backend, "event") != 0 &&
            strcmp(c->backend, "simd") != 0)
            snprintf(out, len, "- (%s)", c->backend);
        else if (c->threads == 0) snprintf(out, len, "all (%d)", t->cores);
        else snprintf(out, len, "%d", c->threads);
        break;
    case FIELD_STRAGGLING: snprintf(out, len, "%s", c->straggling ? "on" : "off"); break;
    case FIELD_MCS: snprintf(out, len, "%s", c->scattering ? "on" : "off"); break;
    case FIELD_NUCLEAR: snprintf(out, len, "%s", c->nuclear ? "on" : "off"); break;
    case FIELD_BIO:
        if (!c->bio_model[0]) snprintf(out, len, "none");
        else if (c->bio_alpha_beta > 0)
            snprintf(out, len, "%s %s a/b %g", c->bio_model, c->bio_cell[0] ? c->bio_cell : "HSG",
                     c->bio_alpha_beta);
        else snprintf(out, len, "%s %s", c->bio_model, c->bio_cell[0] ? c->bio_cell : "HSG");
        break;
    case FIELD_SEED: snprintf(out, len, "%llu", (unsigned long long)c->seed); break;
    default: out[0] = '\0';
    }
}

/* The text an edit starts from: the value without its unit. */
static void edit_start_text(const tui_state *t, int field, char *out, size_t len)
{
    const run_config *c = &t->cfg;
    switch (field) {
    case FIELD_ENERGY: snprintf(out, len, "%g", c->energy); break;
    case FIELD_SPREAD: snprintf(out, len, "%g", 100 * c->energy_spread); break;
    case FIELD_SPOT: snprintf(out, len, "%g", 10 * c->spot_sigma_cm); break;
    case FIELD_STACK:
        if (is_stack(c)) stack_text(c, out, len);
        else out[0] = '\0';
        break;
    case FIELD_THREADS: snprintf(out, len, "%d", c->threads); break;
    case FIELD_BACKEND: snprintf(out, len, "%s", c->backend); break;
    case FIELD_MATERIAL: snprintf(out, len, "%s", c->slabs[0].material); break;
    case FIELD_BIO:
        if (!c->bio_model[0]) snprintf(out, len, "none");
        else if (c->bio_alpha_beta > 0) snprintf(out, len, "%s %g", c->bio_model, c->bio_alpha_beta);
        else snprintf(out, len, "%s", c->bio_model);
        break;
    default: setup_field_value(t, field, out, len);
    }
}

/* A typed field's text with the blanks around it trimmed, since a stray space is invisible
 * in a field; BRAGG_ERR when nothing (or too much) is left. */
static int field_trim(const char *text, char *out, size_t len)
{
    while (*text == ' ') text++;
    size_t n = strlen(text);
    while (n > 0 && text[n - 1] == ' ') n--;
    if (n == 0 || n >= len) return BRAGG_ERR;
    memcpy(out, text, n);
    out[n] = '\0';
    return BRAGG_OK;
}

/* A typed field's number: decimal as everywhere (physics/assets.h). */
static int parse_double(const char *text, const char *what, double *out, bragg_err *e)
{
    char buf[128];
    if (field_trim(text, buf, sizeof buf) || parse_decimal(buf, out))
        return bragg_fail(e, "%s: %s is not a decimal number", what, BRAGG_QUOTED(text));
    return BRAGG_OK;
}

/* A typed field into run key `key` of *c, through the run file's own parser (run_setup_set):
 * the key's unit (Spot in mm, Spread in percent), syntax and range, and its message, named
 * `key`. Counts as people type them (20000, 2e4, 20k, 1M): whole numbers exactly as 64-bit
 * integers (a seed of 2^64 - 1), a k or M suffix the exponent it stands for, the range from
 * `lo` where that is above the key's own. */
static int set_key(const char *text, const char *key, double lo, run_config *c, bragg_err *e)
{
    char buf[128];
    const run_key *known = run_key_find(key);
    if (field_trim(text, buf, sizeof buf - 4))
        return bragg_fail(e, "%s: %s is not %s", key, BRAGG_QUOTED(text),
                          known->kind == RUN_KEY_COUNT ? "a whole number" : "a decimal number");
    size_t n = strlen(buf);
    if (known->kind == RUN_KEY_COUNT || known->kind == RUN_KEY_INT) {
        const char *exp = buf[n - 1] == 'k' || buf[n - 1] == 'K' ? "e3"
                          : buf[n - 1] == 'M'                    ? "e6"
                                                                 : "";
        if (*exp) snprintf(buf + n - 1, sizeof buf - (n - 1), "%s", exp);
    }
    run_setup s;
    run_setup_init(&s);
    s.cfg = *c;
    run_key k = *known;
    if (lo > k.lo) k.lo = lo;
    if (run_setup_set(&s, &k, buf, e)) return bragg_fail_prefix(e, "%s: ", key);
    *c = s.cfg;
    return BRAGG_OK;
}

/* on/off as run files take them (run_file_switch: yes/no, true/false, on/off, 1/0). */
static int parse_switch(const char *text, const char *what, int *out, bragg_err *e)
{
    char buf[16];
    if (field_trim(text, buf, sizeof buf) || run_file_switch(buf, out))
        return bragg_fail(e, "%s: %s (valid: on, off)", what, BRAGG_QUOTED(text));
    return BRAGG_OK;
}

/* The engine's rule for model and ion (bio_model_check_ion), checked where it is chosen. */
static int bio_fits_ion(const tui_state *t, const bio_model *m, const char *ion_name,
                        bragg_err *e)
{
    const ion *ion = ion_table_lookup(&t->cat.ions, ion_name, e);
    return ion ? bio_model_check_ion(m, ion->name, ion->Z, ion->A, e) : BRAGG_ERR;
}

/* A new ion keeps the Biology field's model only where the engine would take it (a proton
 * model on protons, the MKM on ions): otherwise the model goes, and `note` says so. Returns 1
 * when it went. Refusing the ion instead would stop the Ion field's cycling at the proton. */
static int bio_follow_ion(const tui_state *t, run_config *c, char *note, size_t len)
{
    if (!c->bio_model[0]) return 0;
    bio_model m;
    bragg_err e = {{0}};
    if (bio_model_load(&m, c->bio_model, c->bio_cell[0] ? c->bio_cell : NULL, c->bio_alpha_beta,
                       &e) == BRAGG_OK &&
        bio_fits_ion(t, &m, c->ion, &e) == BRAGG_OK)
        return 0;
    snprintf(note, len, "Biology: none now (%s is not for %s)", c->bio_model, c->ion);
    config_drop_bio(c);   /* with its cell line, (alpha/beta)x and dose: they mean nothing now */
    return 1;
}

int setup_field_apply(const tui_state *t, run_config *c, int field, const char *text,
                      bragg_err *e)
{
    run_config n = *c;
    switch (field) {
    case FIELD_ION: {
        const ion *ion = ion_table_lookup(&t->cat.ions, text, e);
        if (!ion) return BRAGG_ERR;
        snprintf(n.ion, sizeof n.ion, "%s", ion->name);
        char note[160];
        bio_follow_ion(t, &n, note, sizeof note);
        break;
    }
    case FIELD_ENERGY:
        if (set_key(text, "energy", 0, &n, e)) return BRAGG_ERR;
        break;
    case FIELD_SPREAD:
        if (set_key(text, "energy-spread", 0, &n, e)) return BRAGG_ERR;
        break;
    case FIELD_SPOT:
        if (set_key(text, "spot", 0, &n, e)) return BRAGG_ERR;
        break;
    case FIELD_MATERIAL: {
        const material *m = material_table_lookup(&t->cat.materials, text, e);
        if (!m) return BRAGG_ERR;   /* the lookup's message names the field */
        n.n_slabs = 1;
        snprintf(n.slabs[0].material, sizeof n.slabs[0].material, "%s", m->name);
        n.slabs[0].thickness_cm = INFINITY;
        break;
    }
    case FIELD_STACK: {
        char buf[512];
        snprintf(buf, sizeof buf, "%s", text);
        /* "none" is what the field shows without a stack (and what the SOBP refusal asks
         * for): typed, it clears the stack as an empty field does. */
        if (field_trim(text, buf, sizeof buf) == BRAGG_OK && strcmp(buf, "none") == 0)
            buf[0] = '\0';
        int slabs = 0;
        n.n_slabs = 0;
        char *save = NULL;
        for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
            while (*tok == ' ') tok++;
            size_t len = strlen(tok);
            while (len && tok[len - 1] == ' ') tok[--len] = '\0';
            if (!len) continue;
            char spec[CONFIG_NAME_LEN + 32];
            snprintf(spec, sizeof spec, strchr(tok, ':') ? "%s" : "%s:inf", tok);
            if (config_add_slab(&n, spec, e)) return bragg_fail_prefix(e, "stack: ");
            slabs++;
        }
        if (slabs == 0) {
            /* No stack: back to one semi-infinite slab of the first material. */
            n.n_slabs = 1;
            n.slabs[0] = c->slabs[0];
            n.slabs[0].thickness_cm = INFINITY;
        }
        break;
    }
    case FIELD_HISTORIES:
        /* The workbench keeps the default batches: they are the floor (the key's own, 2,
         * holds where --batches can be lowered), said as the field's hint says it. */
        if (set_key(text, "histories", n.batches, &n, e)) return BRAGG_ERR;
        break;
    case FIELD_BACKEND: {
        int k;
        for (k = 0; backend_names[k]; k++)
            if (strcmp(text, backend_names[k]) == 0) break;
        if (!backend_names[k])
            return bragg_fail(e, "backend: %s is not known (valid: serial, openmp, event, simd, cuda)",
                              BRAGG_QUOTED(text));
        snprintf(n.backend, sizeof n.backend, "%s", backend_names[k]);
        break;
    }
    case FIELD_THREADS:
        if (set_key(text, "threads", 0, &n, e)) return BRAGG_ERR;
        break;
    case FIELD_STRAGGLING:
        if (parse_switch(text, "straggling", &n.straggling, e)) return BRAGG_ERR;
        break;
    case FIELD_MCS:
        if (parse_switch(text, "MCS", &n.scattering, e)) return BRAGG_ERR;
        break;
    case FIELD_NUCLEAR:
        if (parse_switch(text, "nuclear", &n.nuclear, e)) return BRAGG_ERR;
        break;
    case FIELD_SEED:
        if (set_key(text, "seed", 0, &n, e)) return BRAGG_ERR;
        break;
    case FIELD_BIO: {
        /* "none", "MODEL" or "MODEL ALPHA_BETA", checked by loading the model and against the
         * ion as the engine will. A typed (alpha/beta)x must be in range: 0 or less would
         * silently mean the cell line's own. */
        char model[64] = "", extra[64] = "", more[2];
        double ab = 0;
        int words = sscanf(text, "%63s %63s %1s", model, extra, more);
        if (words <= 0 || strcmp(model, "none") == 0 || strcmp(model, "-") == 0) {
            /* The model's settings go with it: a cell line or a dose kept without a model
             * is refused by bragg run (config_validate). */
            config_drop_bio(&n);
            break;
        }
        if (words == 3)
            return bragg_fail(e, "bio: %s has words after the (alpha/beta)x (valid: none, MODEL "
                                 "or MODEL ALPHA_BETA)", BRAGG_QUOTED(text));
        if (words == 2 && (parse_double(extra, "alpha/beta", &ab, e) ||
                           bio_alpha_beta_check(ab, e)))
            return BRAGG_ERR;
        bio_model m;
        if (bio_model_load(&m, model, n.bio_cell[0] ? n.bio_cell : NULL, ab, e) ||
            bio_fits_ion(t, &m, n.ion, e))
            return BRAGG_ERR;
        snprintf(n.bio_model, sizeof n.bio_model, "%s", m.name);
        n.bio_alpha_beta = ab;
        break;
    }
    default: return bragg_fail(e, "no such field");
    }
    if (config_validate(&n, &t->cat, e)) return BRAGG_ERR;
    *c = n;
    return BRAGG_OK;
}

/* The next round number from `value` in direction `dir` on a ladder: `tenths` (10 = 1.0,
 * 25 = 2.5) in every decade. Where `zero_below` is positive the ladder ends there: below it
 * comes 0, and from 0 up it is the first step. The ladder has no other ends: the valid range
 * is config_validate's alone (bounds of its own here once disagreed with it, and a step at
 * them did nothing and said nothing). */
static double ladder_step(double value, int dir, const int *tenths, int n, double zero_below)
{
    if (!(value > 0)) return dir > 0 && zero_below > 0 ? zero_below : value;
    double next = NAN;
    int k0 = (int)floor(log10(value)) - 1;
    for (int k = k0; k <= k0 + 2; k++)
        for (int i = 0; i < n; i++) {
            /* Exact decimals: 1.1 is 11 / 10, not 11 * 0.1 (1.1000000000000001). */
            double v = k >= 1 ? tenths[i] * pow(10, k - 1) : tenths[i] / pow(10, 1 - k);
            if (dir > 0 ? v > value * (1 + 1e-9) && !(v >= next)
                        : v < value * (1 - 1e-9) && !(v <= next))
                next = v;
        }
    if (dir < 0 && zero_below > 0 && !(next >= zero_below * (1 - 1e-9))) return 0;
    return next;
}

/* A bound of a range as a typed value's refusal writes it: 1e12, not 1e+12; the seed's
 * largest, 2^64 - 1, in digits (as a double it reads one more). */
static void range_bound(double v, char *out, size_t len)
{
    if (v >= 18446744073709551615.0) snprintf(out, len, "%llu", (unsigned long long)UINT64_MAX);
    else if (v >= 1e6 && v == pow(10, round(log10(v))))
        snprintf(out, len, "1e%d", (int)lround(log10(v)));
    else snprintf(out, len, "%g", v);
}

/* The numbers Left/Right step, with their run keys (run_keys: the range a typed value is
 * checked against) and the unit the status line gives them. */
static const struct {
    int field;
    const char *key, *unit;   /* unit NULL: the ion's energy unit */
} stepped[] = {
    {FIELD_ENERGY, "energy", NULL},  {FIELD_SPREAD, "energy-spread", " %"},
    {FIELD_SPOT, "spot", " mm"},     {FIELD_HISTORIES, "histories", ""},
    {FIELD_SEED, "seed", ""},
};

/* The range of a stepped field in the units it is shown in; the histories' floor is the
 * batches, as their hint says. 0 for a field that is not stepped. */
static int stepped_range(const tui_state *t, int field, double *lo, double *hi)
{
    for (size_t i = 0; i < sizeof stepped / sizeof stepped[0]; i++) {
        if (stepped[i].field != field) continue;
        const run_key *k = run_key_find(stepped[i].key);
        *lo = k->lo;
        *hi = k->hi;
        if (field == FIELD_HISTORIES && t->cfg.batches > *lo) *lo = t->cfg.batches;
        return 1;
    }
    return 0;
}

/* A step that changes nothing (0 going down, a seed at its largest), or whose next round
 * number lies past the range, is at the end of the range: the status line says so, with the
 * range of the field's run key, so the key never seems dead (and never names a value the user
 * did not choose: Spread 20, Right said "50% is out of range"). */
static void say_range_end(tui_state *t, int field, int dir)
{
    for (size_t i = 0; i < sizeof stepped / sizeof stepped[0]; i++) {
        if (stepped[i].field != field) continue;
        double lo, hi;
        stepped_range(t, field, &lo, &hi);
        char value[64], from[32], to[32], unit[16];
        const ion *ion = ion_table_find(&t->cat.ions, t->cfg.ion);
        snprintf(unit, sizeof unit, "%s%s", stepped[i].unit ? "" : " ",
                 stepped[i].unit ? stepped[i].unit : ion_energy_unit(ion ? ion->A : 0));
        setup_field_value(t, field, value, sizeof value);
        range_bound(lo, from, sizeof from);
        range_bound(hi, to, sizeof to);
        snprintf(t->status, sizeof t->status, "%s: %s is the %s of its range (valid: %s to %s%s)",
                 field_labels[field], value, dir < 0 ? "bottom" : "top", from, to, unit);
        t->status_error = 1;
    }
}

/* Left/right on a number: the next value of its ladder, taken when the setup stays valid;
 * otherwise the status line says why (config_validate's message names the valid range), as
 * it does when the step changes nothing (say_range_end). */
static void step_number(tui_state *t, int field, int dir)
{
    /* Energies about 10% apart in round numbers (70, 80, 90, 100, 110, 120, ... 250, 280,
     * 300 MeV); spread in 1-2-5 steps from 0.1 %; spot sizes 0.5, 0.7, 1, 1.5, 2, 3, 4, 5, 7
     * mm ...; histories in 1-2-5 steps, 10k, 20k, 50k, 100k, ... */
    static const int energy[] = {10, 11, 12, 13, 14, 15, 16, 18, 20, 22, 25,
                                 28, 30, 35, 40, 45, 50, 55, 60, 70, 80, 90};
    static const int one_two_five[] = {10, 20, 50};
    static const int spot[] = {10, 15, 20, 30, 40, 50, 70};
    run_config n = t->cfg;
    int same;
    switch (field) {
    case FIELD_ENERGY:
        n.energy = ladder_step(n.energy, dir, energy, 22, 0);
        same = n.energy == t->cfg.energy;
        break;
    case FIELD_SPREAD:
        n.energy_spread = ladder_step(100 * n.energy_spread, dir, one_two_five, 3, 0.1) / 100;
        same = n.energy_spread == t->cfg.energy_spread;
        break;
    case FIELD_SPOT:
        n.spot_sigma_cm = ladder_step(10 * n.spot_sigma_cm, dir, spot, 7, 0.5) / 10;
        same = n.spot_sigma_cm == t->cfg.spot_sigma_cm;
        break;
    case FIELD_HISTORIES:
        n.histories = (uint64_t)ladder_step((double)n.histories, dir, one_two_five, 3, 0);
        same = n.histories == t->cfg.histories;
        break;
    case FIELD_SEED:
        /* Every seed, one at a time: 0 and 2^64-1 are its ends (it wrapped round once). */
        same = dir > 0 ? n.seed == UINT64_MAX : n.seed == 0;
        if (!same) n.seed += (uint64_t)(int64_t)dir;
        break;
    default: return;
    }
    /* The stepped value in the units of its run key. */
    double v = field == FIELD_ENERGY     ? n.energy
               : field == FIELD_SPREAD   ? 100 * n.energy_spread
               : field == FIELD_SPOT     ? 10 * n.spot_sigma_cm
               : field == FIELD_HISTORIES ? (double)n.histories
                                          : 0;
    double lo, hi;
    int beyond = field != FIELD_SEED && stepped_range(t, field, &lo, &hi) &&
                 (v > hi * (1 + 1e-12) || v < lo * (1 - 1e-12));
    if (same || beyond) {
        say_range_end(t, field, dir);
        return;
    }
    bragg_err e = {{0}};
    if (config_validate(&n, &t->cat, &e) == BRAGG_OK) {
        t->cfg = n;
    } else {
        snprintf(t->status, sizeof t->status, "%s", e.msg);
        t->status_error = 1;
    }
}

void setup_field_cycle(tui_state *t, int field, int dir)
{
    run_config *c = &t->cfg;
    switch (field) {
    case FIELD_ENERGY:
    case FIELD_SPREAD:
    case FIELD_SPOT:
    case FIELD_HISTORIES:
    case FIELD_SEED: step_number(t, field, dir); break;
    case FIELD_STACK:
        /* Slabs have no order to step through: say what does change them. */
        snprintf(t->status, sizeof t->status,
                 "Stack: Enter edits the slabs ('water:5, bone:2, water'; none: one material)");
        t->status_error = 0;
        break;
    case FIELD_ION: {
        int n = t->cat.ions.count, k = 0;
        const ion *cur = ion_table_find(&t->cat.ions, c->ion);
        if (cur) k = (int)(cur - t->cat.ions.ions);
        k = ((k + dir) % n + n) % n;
        snprintf(c->ion, sizeof c->ion, "%s", t->cat.ions.ions[k].name);
        if (bio_follow_ion(t, c, t->status, sizeof t->status)) t->status_error = 0;
        break;
    }
    case FIELD_MATERIAL: {
        int n = t->cat.materials.count, k = 0;
        const material *cur = material_table_find(&t->cat.materials, c->slabs[0].material);
        if (cur) k = (int)(cur - t->cat.materials.materials);
        k = ((k + dir) % n + n) % n;
        c->n_slabs = 1;
        snprintf(c->slabs[0].material, sizeof c->slabs[0].material, "%s",
                 t->cat.materials.materials[k].name);
        c->slabs[0].thickness_cm = INFINITY;
        break;
    }
    case FIELD_BACKEND: {
        int n = 0, k = 0;
        while (backend_names[n]) n++;
        for (int i = 0; i < n; i++)
            if (strcmp(c->backend, backend_names[i]) == 0) k = i;
        k = ((k + dir) % n + n) % n;
        snprintf(c->backend, sizeof c->backend, "%s", backend_names[k]);
        break;
    }
    case FIELD_THREADS: {
        int th = c->threads + dir;
        c->threads = th < 0 ? t->cores : th > t->cores ? 0 : th;
        break;
    }
    case FIELD_STRAGGLING: c->straggling = !c->straggling; break;
    case FIELD_MCS: c->scattering = !c->scattering; break;
    case FIELD_NUCLEAR: c->nuclear = !c->nuclear; break;
    case FIELD_BIO: {
        /* none, then the models of physics/biology.h in a fixed order, those the ion can take
         * only (none always can). */
        static const char *const models[] = {"", "mkm", "mcnamara", "wedenberg", "rbe1.1"};
        int n = (int)(sizeof models / sizeof models[0]), k = 0;
        for (int i = 0; i < n; i++)
            if (strcmp(c->bio_model, models[i]) == 0) k = i;
        for (int step = 0; step < n; step++) {
            k = ((k + dir) % n + n) % n;
            bio_model m;
            bragg_err e = {{0}};
            if (k == 0 || (bio_model_load(&m, models[k], c->bio_cell[0] ? c->bio_cell : NULL,
                                          c->bio_alpha_beta, &e) == BRAGG_OK &&
                           bio_fits_ion(t, &m, c->ion, &e) == BRAGG_OK))
                break;
        }
        if (k == 0) config_drop_bio(c);   /* as the typed "none" */
        else snprintf(c->bio_model, sizeof c->bio_model, "%s", models[k]);
        break;
    }
    default: break;
    }
}

/* The hint of a field, in the units and range of the setup now: MeV for protons (it said
 * "MeV per nucleon" beside a field in MeV), the histories' floor from the batches. */
static void field_hint(const tui_state *t, int field, char *out, size_t len)
{
    if (field == FIELD_ENERGY) {
        const ion *ion = ion_table_find(&t->cat.ions, t->cfg.ion);
        int A = ion ? ion->A : 0;
        snprintf(out, len, "%s, %s", A == 1 ? "beam energy" : "energy per nucleon",
                 ion_energy_unit(A));
    } else if (field == FIELD_HISTORIES) {
        snprintf(out, len, "number of primary histories (%d to 1e12; 20k, 1e5 allowed)",
                 t->cfg.batches);
    } else {
        snprintf(out, len, "%s", field_hints[field]);
    }
}

static void check_edit(tui_state *t)
{
    run_config tmp = t->cfg;
    bragg_err e = {{0}};
    if (setup_field_apply(t, &tmp, t->focus, t->edit, &e) == BRAGG_OK) {
        char hint[160];
        field_hint(t, t->focus, hint, sizeof hint);
        t->edit_ok = 1;
        snprintf(t->edit_msg, sizeof t->edit_msg, "ok: %s (Enter keeps it, Esc cancels)", hint);
    } else {
        t->edit_ok = 0;
        snprintf(t->edit_msg, sizeof t->edit_msg, "%s", e.msg);
    }
}

void setup_edit_begin(tui_state *t)
{
    t->editing = 1;
    t->edit_fresh = 1;
    edit_start_text(t, t->focus, t->edit, sizeof t->edit);
    check_edit(t);
}

int setup_edit_key(tui_state *t, int key)
{
    if (!t->editing) return 0;
    size_t len = strlen(t->edit);
    if (key == 27) {   /* Esc */
        t->editing = 0;
        return 1;
    }
    if (key == '\n' || key == '\r' || key == KEY_ENTER) {
        bragg_err e = {{0}};
        char had[sizeof t->cfg.bio_model];
        snprintf(had, sizeof had, "%s", t->cfg.bio_model);
        if (setup_field_apply(t, &t->cfg, t->focus, t->edit, &e) == BRAGG_OK) {
            t->editing = 0;
            t->status[0] = '\0';
            if (t->focus == FIELD_ION && had[0] && !t->cfg.bio_model[0]) {
                snprintf(t->status, sizeof t->status, "Biology: none now (%s is not for %s)",
                         had, t->cfg.ion);
                t->status_error = 0;
            }
        } else {
            t->edit_ok = 0;
            snprintf(t->edit_msg, sizeof t->edit_msg, "%s", e.msg);
        }
        return 1;
    }
    if (key == KEY_BACKSPACE || key == 127 || key == 8) {
        if (len) t->edit[len - 1] = '\0';
    } else if (key == 21) {   /* Ctrl-U: clear */
        t->edit[0] = '\0';
    } else if (key >= 32 && key < 127) {
        if (t->edit_fresh) {
            t->edit[0] = '\0';
            len = 0;
        }
        if (len + 1 < sizeof t->edit) {
            t->edit[len] = (char)key;
            t->edit[len + 1] = '\0';
        }
    } else {
        return 1;   /* other keys are swallowed while editing: no surprise runs */
    }
    t->edit_fresh = 0;
    check_edit(t);
    return 1;
}

/* The stack in `width` columns with every slab in view: "water:5, bone-cortical-icrp:2,
 * water", else everyday names ("water:5, bone:2, water"), else without spaces, else names cut
 * to their first letters ("wat…:5,bone:2,water"), longest first. 0 when even that is too
 * wide. */
static int stack_fit(const tui_state *t, const run_config *c, int width, char *out, size_t len)
{
    stack_text(c, out, len);
    if (draw_width(out) <= width) return 1;
    char names[TRANSPORT_MAX_SLABS][CONFIG_NAME_LEN];
    int keep[TRANSPORT_MAX_SLABS];
    for (int i = 0; i < c->n_slabs; i++) {
        tui_material_short(t, c->slabs[i].material, names[i], sizeof names[i]);
        keep[i] = draw_width(names[i]);
    }
    const char *ell = glyph("\u2026", "~");
    for (int pass = 0; pass < 2 + 64; pass++) {
        const char *sep = pass == 0 ? ", " : ",";
        size_t used = 0;
        out[0] = '\0';
        for (int i = 0; i < c->n_slabs && used < len; i++) {
            int cut = keep[i] < draw_width(names[i]);
            char th[32] = "";
            if (!isinf(c->slabs[i].thickness_cm)) snprintf(th, sizeof th, ":%g", c->slabs[i].thickness_cm);
            used += (size_t)snprintf(out + used, len - used, "%s%.*s%s%s", i ? sep : "", keep[i],
                                     names[i], cut ? ell : "", th);
        }
        if (draw_width(out) <= width) return 1;
        if (pass >= 1) {
            /* Shorten the longest name (the last slab's only when no other can be): its
             * first cut takes two letters, since the ellipsis takes one; at least 3 stay. */
            int longest = -1;
            for (int pick_last = 0; pick_last < 2 && longest < 0; pick_last++)
                for (int i = 0; i < c->n_slabs; i++)
                    if ((i < c->n_slabs - 1 || pick_last) && keep[i] > 3 &&
                        (longest < 0 || keep[i] > keep[longest]))
                        longest = i;
            if (longest < 0) break;
            int whole = keep[longest] == draw_width(names[longest]);
            keep[longest] -= whole && keep[longest] > 4 ? 2 : 1;
        }
    }
    return 0;
}

/* A stack too long for any form of stack_fit: how many slabs, and how to see them, in the
 * longest words that fit `width` ("6 slabs (Enter shows)" was cut to "(Enter show" at 80
 * columns). */
static void stack_count(const run_config *c, int width, char *out, size_t len)
{
    static const char *const forms[] = {"%d slabs (Enter shows)", "%d slabs (Enter)", "%d slabs"};
    for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
        snprintf(out, len, forms[i], c->n_slabs);
        if (draw_width(out) <= width) return;
    }
}

void setup_panel_draw(const tui_state *t, const ui_rect *r)
{
    draw_box(r, "Setup", 1);
    int label_w = 11, x = r->x + 2, value_x = x + label_w, value_w = r->w - 4 - label_w;
    for (int f = 0; f < FIELD_COUNT && f < r->h - 2; f++) {
        int y = r->y + 1 + f;
        int focused = f == t->focus;
        attr_t a = focused ? A_REVERSE : A_NORMAL;
        /* The whole row in the focus colour, so the cursor reads at a glance. */
        if (focused) {
            attron(a);
            mvhline(y, r->x + 1, ' ', r->w - 2);
            attroff(a);
        }
        draw_text(y, x, label_w, a | (focused ? A_BOLD : A_NORMAL), field_labels[f]);
        char value[256];
        if (focused && t->editing) {
            snprintf(value, sizeof value, "%s_", t->edit);
            attr_t va = t->edit_ok ? draw_attr(ROLE_GOOD) : draw_attr(ROLE_ERROR);
            /* Keep the end of a long text in view: that is where the typing happens. */
            int w = draw_width(value);
            const char *shown = value;
            while (w > value_w && *shown) {
                shown++;
                while ((*shown & 0xC0) == 0x80) shown++;
                w--;
            }
            draw_text(y, value_x, value_w, va | A_UNDERLINE, shown);
        } else {
            /* A value wider than its column starts right after its label instead: cut, a
             * number reads as another one (a seed of 2^64 - 1 has 20 digits, the column
             * 19 at 80 columns). */
            int wide_x = x + draw_width(field_labels[f]) + 1, wide_w = r->x + r->w - 2 - wide_x;
            int vx = value_x, vw = value_w;
            setup_field_value(t, f, value, sizeof value);
            if (f == FIELD_STACK && is_stack(&t->cfg)) {
                if (stack_fit(t, &t->cfg, value_w, value, sizeof value)) {
                } else if (stack_fit(t, &t->cfg, wide_w, value, sizeof value)) {
                    vx = wide_x;
                    vw = wide_w;
                } else {
                    stack_count(&t->cfg, value_w, value, sizeof value);
                }
            } else if (draw_width(value) > value_w) {
                vx = wide_x;
                vw = wide_w;
            }
            int bad_backend = f == FIELD_BACKEND && strcmp(t->cfg.backend, "cuda") == 0 &&
                              !t->cuda_ok;
            attr_t va = bad_backend ? draw_attr(ROLE_ERROR) : A_NORMAL;
            draw_text_fit(y, vx, vw, a | va, value);
        }
    }
}
