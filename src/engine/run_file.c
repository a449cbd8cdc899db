/* run_file.c - see run_file.h. */
#include "run_file.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "assets.h"
#include "tables.h"

#define RUN_FILE_MAX_BYTES 65536

#define F(field) offsetof(run_config, field)
#define NAME(field) F(field), sizeof(((run_config *)0)->field)

/* The defaults each help line names are config_default's (src/engine/config.c). */
const run_key run_keys[] = {
    {"ion", 'i', RUN_KEY_NAME, NAME(ion), 0, 0, NULL, 1, "", "NAME",
     "projectile: p, d, t, He-3, He-4, ..., C-12, O-16, ... (assets/ions.tsv)"},
    {"energy", 'e', RUN_KEY_NUMBER, F(energy), 0, USER_T_MIN, USER_T_MAX, NULL, 1, "MeV/u",
     "MEV_U", "beam kinetic energy per nucleon (protons: MeV), above --ecut"},
    {"material", 'm', RUN_KEY_MATERIAL, 0, 0, 0, 0, NULL, 1, "", "NAME",
     "material: water, air, pmma, bone (= bone-cortical-icrp), ... (assets/materials.tsv)"},
    {"slab", 0, RUN_KEY_SLAB, 0, 0, 0, 0, NULL, 1, "", "MAT:CM",
     "add a slab (repeatable; thickness 'inf' for the last), e.g. --slab water:5 --slab "
     "bone:2 --slab water:inf"},
    {"energy-spread", 0, RUN_KEY_NUMBER, F(energy_spread), 0, 0, 20, NULL, 100, "%", "PERCENT",
     "energy spread, relative sigma (default 0)"},
    {"spot", 0, RUN_KEY_NUMBER, F(spot_sigma_cm), 0, 0, 100, NULL, 10, "mm", "MM",
     "spot size sigma per axis (default 0)"},
    {"divergence", 0, RUN_KEY_NUMBER, F(divergence_rad), 0, 0, 100, NULL, 1000, "mrad", "MRAD",
     "beam divergence sigma per plane (default 0)"},
    {"histories", 'n', RUN_KEY_COUNT, F(histories), 0, 2, 1e12, NULL, 1, "", "N",
     "number of primary histories (default 100000; at least --batches)"},
    {"seed", 's', RUN_KEY_COUNT, F(seed), 0, 0, 18446744073709551615.0, NULL, 1, "", "S",
     "random seed (default 1)"},
    {"backend", 'b', RUN_KEY_NAME, NAME(backend), 0, 0, NULL, 1, "", "NAME",
     "serial, openmp (default), event (the GPU's event loop on CPU threads), simd (the event "
     "loop vectorised across particles) or cuda"},
    {"threads", 't', RUN_KEY_INT, F(threads), 0, 0, 1024, NULL, 1, "", "N",
     "OpenMP threads (default 0 = all cores)"},
    {"no-straggling", 0, RUN_KEY_OFF, F(straggling), 0, 0, 0, NULL, 1, "", 0,
     "switch energy-loss straggling off"},
    {"no-mcs", 0, RUN_KEY_OFF, F(scattering), 0, 0, 0, NULL, 1, "", 0,
     "switch multiple Coulomb scattering off"},
    {"no-nuclear", 0, RUN_KEY_OFF, F(nuclear), 0, 0, 0, NULL, 1, "", 0,
     "switch nuclear reactions and fragmentation off"},
    /* The two water I-values physics/catalog.c offers (catalog_set_water_i). */
    {"iwater", 0, RUN_KEY_VALUES, F(iwater), 0, 75, 78, NULL, 1, "eV", "75|78",
     "water I-value: 75 (ICRU 49, NIST; default) or 78 (ICRU 90)"},
    {"no-shell", 0, RUN_KEY_OFF, F(stopping.shell), 0, 0, 0, NULL, 1, "", 0,
     "stopping: drop the shell correction"},
    {"no-barkas", 0, RUN_KEY_OFF, F(stopping.barkas), 0, 0, 0, NULL, 1, "", 0,
     "stopping: drop the Barkas (z^3) term"},
    {"no-bloch", 0, RUN_KEY_OFF, F(stopping.bloch), 0, 0, 0, NULL, 1, "", 0,
     "stopping: drop the Bloch (z^4) term"},
    {"no-mott", 0, RUN_KEY_OFF, F(stopping.mott), 0, 0, 0, NULL, 1, "", 0,
     "stopping: drop the Mott term"},
    {"no-density-effect", 0, RUN_KEY_OFF, F(stopping.density_effect), 0, 0, 0, NULL, 1, "", 0,
     "stopping: drop the density-effect correction"},
    {"no-effective-charge", 0, RUN_KEY_OFF, F(stopping.effective_charge), 0, 0, 0, NULL, 1, "",
     0, "stopping: treat the ion as bare at all speeds"},
    {"no-nuclear-stopping", 0, RUN_KEY_OFF, F(stopping.nuclear), 0, 0, 0, NULL, 1, "", 0,
     "stopping: drop elastic nuclear stopping"},
    {"step-fraction", 0, RUN_KEY_NUMBER, F(step_fraction), 0, 1e-4, 0.5, NULL, 1, "", "F",
     "largest step as a fraction of the residual range (default 0.12)"},
    {"step-min", 0, RUN_KEY_NUMBER, F(step_min_cm), 0, 1e-5, 10, "automatic", 10, "mm", "MM",
     "smallest step (default 0 = half a depth bin, at most a 300th of the beam's CSDA range)"},
    {"step-fraction-secondary", 0, RUN_KEY_NUMBER, F(step_fraction_secondary), 0, 1e-4, 0.5,
     NULL, 1, "", "F", "the same for nuclear secondaries (default 0.3)"},
    {"step-min-secondary", 0, RUN_KEY_NUMBER, F(step_min_secondary_cm), 0, 1e-5, 10, NULL, 10,
     "mm", "MM", "smallest step of nuclear secondaries (default 1)"},
    {"ecut", 0, RUN_KEY_NUMBER, F(energy_cut), 0, CONFIG_ENERGY_CUT_MIN, 10, "automatic", 1,
     "MeV/u", "MEV_U",
     "cut-off energy, remainder deposited in place (default 0 = 0.1, or lower down to 0.002 "
     "until the beam's range left there is under 0.1% of its range)"},
    {"bin", 0, RUN_KEY_NUMBER, F(bin_width_cm), 0, 0.001, 100, "automatic", 10, "mm", "MM",
     "depth bin width (default 0 = 0.1 mm; 100 across a range under 1 cm, at least 1 um; or "
     "the first of 0.2, 0.5, 1, 2, 5 mm, ... that keeps the grid within 5000 bins)"},
    {"depth", 0, RUN_KEY_NUMBER, F(depth_max_cm), 0, 0, 1e4, NULL, 1, "cm", "CM",
     "scoring depth (default 0 = CSDA depth + 15% + 5 mm, or + the range if under 5 mm; at "
     "least 10 bins)"},
    {"batches", 0, RUN_KEY_INT, F(batches), 0, 2, 1000, NULL, 1, "", "N",
     "batches for the statistical error (default 20; at most --histories)"},
    {"lateral-halfwidth", 0, RUN_KEY_NUMBER, F(lateral_halfwidth_cm), 0, 1e-3, 1e6, NULL, 1,
     "cm", "CM", "half-width of the slabs in x and y (default infinite)"},
    {"profile", 0, RUN_KEY_ON, F(profile), 0, 0, 0, NULL, 1, "", 0,
     "time the step components (one history in 32; ~1.5% slower)"},
    {"bio", 0, RUN_KEY_NAME, NAME(bio_model), 0, 0, NULL, 1, "", "MODEL",
     "biological model: mkm (ions), mcnamara, wedenberg or rbe1.1 (protons); adds RBE, "
     "RBE-weighted dose and survival per bin"},
    {"cell", 0, RUN_KEY_NAME, NAME(bio_cell), 0, 0, NULL, 1, "", "NAME",
     "cell line of the biological model: HSG (default; assets/cell_lines.tsv); with --bio"},
    {"alpha-beta", 0, RUN_KEY_NUMBER, F(bio_alpha_beta), 0, 0.5, 50, NULL, 1, "Gy",
     "GY", "tissue (alpha/beta)x of the reference photons (default: the cell line's, HSG "
     "5.09); with --bio"},
    {"bio-dose", 0, RUN_KEY_NUMBER, F(bio_dose), 0, 0.01, 100, NULL, 1, "Gy", "GY",
     "physical dose per bin at which survival and RBE are given (default 2); with --bio"},
    /* The words in the order of enum map_kind (physics/transport.h). */
    {"map-kind", 0, RUN_KEY_CHOICE, F(map_kind), 0, 0, 0, NULL, 1, "", "none|rz|xz",
     "dose map: rz, rings around the axis, Gy per primary (what --map FILE scores unless told "
     "otherwise); xz, columns in x, dose integrated over y, Gy cm per primary; none (default)"},
    {"map-bin", 0, RUN_KEY_NUMBER, F(map_bin_cm), 0, 10 * CONFIG_MAP_BIN_MIN, 100, "automatic",
     10, "mm", "MM",
     "lateral bin width of the dose map (default 0 = a 200th of the map radius, at least "
     "0.001); with a map"},
    {"map-radius", 0, RUN_KEY_NUMBER, F(map_radius_cm), 0, CONFIG_MAP_BIN_MIN, 1000, "automatic",
     1, "cm", "CM",
     "extent of the dose map: r (or |x|) below it, the rest in one bin beyond (default 0 = the "
     "first of 0.2, 0.5, 1, 2, 5 mm, ... over a third of the range and 4 sigma of the beam; "
     "at least --map-bin); with a map"},
    {"phase-space-depth", 0, RUN_KEY_NUMBER, F(phase_space_depth_cm), 0, 1e-6, 1e4, NULL, 1,
     "cm", "CM",
     "depth of the phase-space plane (inside the scoring depth; written by --phase-space FILE)"},
    {0},
};

/* run_setup.given and bragg run's option table hold RUN_KEYS_MAX keys. */
_Static_assert(sizeof run_keys / sizeof run_keys[0] - 1 <= RUN_KEYS_MAX,
               "RUN_KEYS_MAX is below the number of run keys");

/* bragg run's outputs (src/cli/cmd_run.c: its option table, which a test compares with this
 * list). */
const run_output_key run_output_keys[] = {
    {"csv", 0, 0},     {"json", 0, 0},        {"png", 0, 0},         {"svg", 0, 0},
    {"pdf", 0, 0},     {"map", 0, 0},         {"map-error", 0, 0},   {"profile-at", 0, 1},
    {"phase-space", 0, 0}, {"all", 1, 0},     {"quiet", 1, 0},       {0, 0, 0},
};

const char *const run_file_sections[] = {"workbench", NULL};

const run_output_key *run_output_key_find(const char *name)
{
    for (const run_output_key *k = run_output_keys; k->name; k++)
        if (strcmp(k->name, name) == 0) return k;
    return NULL;
}

const run_key *run_key_find(const char *name)
{
    for (const run_key *k = run_keys; k->name; k++)
        if (strcmp(k->name, name) == 0) return k;
    return NULL;
}

int run_key_is_switch(const run_key *k)
{
    return k->kind == RUN_KEY_OFF || k->kind == RUN_KEY_ON;
}

void run_setup_init(run_setup *s)
{
    memset(s, 0, sizeof *s);
    config_default(&s->cfg);
}

int run_setup_given(const run_setup *s, const char *name)
{
    const run_key *k = run_key_find(name);
    return k && s->given[k - run_keys];
}

int run_file_switch(const char *v, int *on)
{
    static const char *const yes[] = {"yes", "true", "on", "1"}, *const no[] = {"no", "false", "off", "0"};
    for (int i = 0; i < 4; i++) {
        if (strcasecmp(v, yes[i]) == 0) return *on = 1, BRAGG_OK;
        if (strcasecmp(v, no[i]) == 0) return *on = 0, BRAGG_OK;
    }
    return BRAGG_ERR;
}

/* Word i of a choice's words ("none|rz|xz") into out; 0 when there is none. */
static int choice_word(const char *words, int i, char *out, size_t len)
{
    const char *w = words;
    for (int k = 0; k < i && w; k++) {
        w = strchr(w, '|');
        if (w) w++;
    }
    if (!w || i < 0) return 0;
    size_t n = strcspn(w, "|");
    snprintf(out, len, "%.*s", (int)n, w);
    return 1;
}

/* The index of `value` among a choice's words, or -1. */
static int choice_index(const char *words, const char *value)
{
    char w[64];
    for (int i = 0; choice_word(words, i, w, sizeof w); i++)
        if (strcmp(w, value) == 0) return i;
    return -1;
}

/* A number as people type it: 20, 0.5, 1e12, 1e-7 (not 1e+12 or 1e-07). */
static const char *number_text(double v, char *buf, size_t len)
{
    snprintf(buf, len, "%g", v);
    char *x = strchr(buf, 'e');
    if (x) {
        const char *p = x + 1;
        int negative = *p == '-';
        if (*p == '+' || *p == '-') p++;
        while (p[0] == '0' && p[1]) p++;
        char exponent[16];
        snprintf(exponent, sizeof exponent, "%s%s", negative ? "-" : "", p);
        snprintf(x + 1, len - (size_t)(x + 1 - buf), "%s", exponent);
    }
    return buf;
}

/* As number_text, but 2^64 - 1 whole, since as a double it is 2^64, which "%.0f" prints one
 * too high. */
const char *run_file_bound_text(double v, char *buf, size_t len)
{
    if (v < 18446744073709551615.0) return number_text(v, buf, len);
    snprintf(buf, len, "%llu", (unsigned long long)UINT64_MAX);
    return buf;
}

static int is_energy(const run_key *k)
{
    return k->kind == RUN_KEY_NUMBER && k->offset == offsetof(run_config, energy);
}

/* The cut-off a beam must start above: the one given, or the lowest automatic one. A cut-off
 * out of its own range is its key's error, not the energy's. */
static double energy_floor(const run_config *c)
{
    double cut = c ? c->energy_cut : 0;
    return cut >= CONFIG_ENERGY_CUT_MIN && cut <= 10 ? cut : CONFIG_ENERGY_CUT_MIN;
}

void run_file_words(const char *words, char *out, size_t len)
{
    char w[64];
    size_t used = 0;
    int n = 0;
    while (choice_word(words, n, w, sizeof w)) n++;
    if (len) out[0] = '\0';
    for (int i = 0; i < n && used < len; i++) {
        choice_word(words, i, w, sizeof w);
        int k = snprintf(out + used, len - used, "%s%s", i == 0 ? "" : i == n - 1 ? " or " : ", ",
                         w);
        if (k > 0) used += (size_t)k;
    }
}

void run_key_range(const run_key *k, const run_config *c, char *out, size_t len)
{
    char lo[32], hi[32], words[128];
    const char *space = *k->units ? " " : "";
    out[0] = '\0';
    switch (k->kind) {
    case RUN_KEY_NUMBER:
    case RUN_KEY_INT:
    case RUN_KEY_COUNT:
        run_file_bound_text(k->lo, lo, sizeof lo);
        run_file_bound_text(k->hi, hi, sizeof hi);
        if (is_energy(k) && c)
            snprintf(out, len, "above the cut-off %s to %s%s%s",
                     number_text(energy_floor(c), lo, sizeof lo), hi, space, k->units);
        else if (is_energy(k))
            snprintf(out, len, "above the cut-off, ecut (at least %s), to %s%s%s",
                     number_text(CONFIG_ENERGY_CUT_MIN, lo, sizeof lo), hi, space, k->units);
        else if (k->zero)
            snprintf(out, len, "0 (%s) or %s to %s%s%s", k->zero, lo, hi, space, k->units);
        else snprintf(out, len, "%s to %s%s%s", lo, hi, space, k->units);
        break;
    case RUN_KEY_VALUES:
        run_file_words(k->meta, words, sizeof words);
        snprintf(out, len, "%s%s%s", words, space, k->units);
        break;
    case RUN_KEY_CHOICE: run_file_words(k->meta, out, len); break;
    default: break;
    }
}

/* The one range check: x, in config units (the field's), against key k; the energy's floor is
 * c's cut-off. In config units, since a typed lo divided by the unit is the field that
 * run_setup_set stores, and a stored field must pass again. */
static int in_range(const run_key *k, const run_config *c, double x)
{
    if (k->zero && x == 0) return 1;
    if (k->kind == RUN_KEY_VALUES) {
        char w[64];
        double v;
        for (int i = 0; choice_word(k->meta, i, w, sizeof w); i++)
            if (parse_decimal(w, &v) == BRAGG_OK && x == v / k->unit) return 1;
        return 0;
    }
    if (is_energy(k) && !(x > energy_floor(c))) return 0;
    return x >= k->lo / k->unit && x <= k->hi / k->unit;
}

/* A number of key k typed as `text`, in user units; the message leaves the key to the
 * caller. */
static int number(const char *text, const run_key *k, const run_config *c, double *out,
                  bragg_err *e)
{
    /* The one number syntax (physics/assets.h: decimal only). */
    double v;
    char range[200], shown[32];
    run_key_range(k, c, range, sizeof range);
    if (parse_decimal(text, &v))
        return bragg_fail(e, "%s is not a decimal number (valid: %s)", BRAGG_QUOTED(text), range);
    if (v == 0) v = 0;   /* -0 is 0: reports and saved files say 0, never -0 */
    /* Whole first: 2.5 histories is no count at all, whatever the range. */
    if ((k->kind == RUN_KEY_INT || k->kind == RUN_KEY_COUNT) && v != floor(v))
        return bragg_fail(e, "%s is not a whole number (valid: %s)", BRAGG_QUOTED(text), range);
    if (!in_range(k, c, v / k->unit))
        return bragg_fail(e, "%s is out of range (valid: %s)", number_text(v, shown, sizeof shown),
                          range);
    *out = v;
    return BRAGG_OK;
}

int run_file_number(double v, double unit, char *out, size_t len)
{
    if (isinf(v)) {
        snprintf(out, len, "%s", v > 0 ? "inf" : "-inf");
        return 1;
    }
    double x = v * unit;
    /* v * unit may be an ulp or two from a number that divides back to v. */
    for (int nudge = 0; nudge < 9; nudge++) {
        double cand = x;
        for (int k = 0; k < (nudge + 1) / 2; k++)
            cand = nextafter(cand, nudge % 2 ? INFINITY : -INFINITY);
        if (cand / unit != v) continue;
        for (int digits = 6; digits <= 17; digits++) {
            snprintf(out, len, "%.*g", digits, cand);
            double back = strtod(out, NULL);
            if (back / unit == v) return 1;
        }
    }
    snprintf(out, len, "%.17g", x);
    return 0;
}

int run_key_check(const run_key *k, const run_config *c, bragg_err *e)
{
    const char *field = (const char *)c + k->offset;
    double x;
    char range[200], shown[32];
    switch (k->kind) {
    case RUN_KEY_NUMBER:
    case RUN_KEY_VALUES: x = *(const double *)(const void *)field; break;
    case RUN_KEY_INT:
    case RUN_KEY_CHOICE: x = *(const int *)(const void *)field; break;
    case RUN_KEY_COUNT: x = (double)*(const uint64_t *)(const void *)field; break;
    default: return BRAGG_OK;
    }
    /* A default that no text gives (the infinite lateral half-width, alpha-beta 0: the cell
     * line's own, no phase-space plane) is no value out of range. */
    run_config d;
    config_default(&d);
    size_t size = k->kind == RUN_KEY_COUNT                             ? sizeof(uint64_t)
                  : k->kind == RUN_KEY_INT || k->kind == RUN_KEY_CHOICE ? sizeof(int)
                                                                        : sizeof(double);
    if (memcmp(field, (const char *)&d + k->offset, size) == 0) return BRAGG_OK;
    run_key_range(k, c, range, sizeof range);
    if (k->kind == RUN_KEY_CHOICE) {
        char w[64];
        if (x >= 0 && choice_word(k->meta, (int)x, w, sizeof w)) return BRAGG_OK;
        return bragg_fail(e, "%d is not known (valid: %s)", (int)x, range);
    }
    if (in_range(k, c, x)) return BRAGG_OK;
    if (k->kind == RUN_KEY_COUNT)
        snprintf(shown, sizeof shown, "%llu",
                 (unsigned long long)*(const uint64_t *)(const void *)field);
    else if (k->kind == RUN_KEY_INT) snprintf(shown, sizeof shown, "%d", (int)x);
    else run_file_number(x, k->unit, shown, sizeof shown);
    return bragg_fail(e, "%s is out of range (valid: %s)", shown, range);
}

int run_setup_set(run_setup *s, const run_key *k, const char *value, bragg_err *e)
{
    run_config *c = &s->cfg;
    char *field = (char *)c + k->offset;
    double v;
    int on;
    switch (k->kind) {
    case RUN_KEY_NAME:
        if (!*value) return bragg_fail(e, "needs a value (%s)", k->meta);
        if (strlen(value) >= k->size)
            return bragg_fail(e, "%s is too long (at most %zu characters)", BRAGG_QUOTED(value),
                              k->size - 1);
        memcpy(field, value, strlen(value) + 1);
        break;
    case RUN_KEY_NUMBER:
    case RUN_KEY_VALUES:
        if (number(value, k, c, &v, e)) return BRAGG_ERR;
        *(double *)(void *)field = v / k->unit;
        break;
    case RUN_KEY_INT:
        if (number(value, k, c, &v, e)) return BRAGG_ERR;
        *(int *)(void *)field = (int)v;
        break;
    case RUN_KEY_COUNT: {
        char range[200];
        run_key_range(k, c, range, sizeof range);
        /* Digits only: read exactly (a seed of 2^64 - 1 does not survive a double). */
        if (*value && strspn(value, "0123456789") == strlen(value)) {
            errno = 0;
            unsigned long long u = strtoull(value, NULL, 10);
            if (errno == ERANGE || !in_range(k, c, (double)u))
                return bragg_fail(e, "%s is out of range (valid: %s)", BRAGG_QUOTED(value),
                                  range);
            *(uint64_t *)(void *)field = u;
            break;
        }
        if (number(value, k, c, &v, e)) return BRAGG_ERR;
        if (v >= 18446744073709551615.0)
            return bragg_fail(e, "%s is out of range (valid: %s)", BRAGG_QUOTED(value), range);
        *(uint64_t *)(void *)field = (uint64_t)v;
        break;
    }
    case RUN_KEY_CHOICE: {
        int i = choice_index(k->meta, value);
        if (i < 0) {
            char valid[128];
            run_key_range(k, c, valid, sizeof valid);
            return bragg_fail(e, "%s is not known (valid: %s)", BRAGG_QUOTED(value), valid);
        }
        *(int *)(void *)field = i;
        break;
    }
    case RUN_KEY_OFF:
    case RUN_KEY_ON:
        if (run_file_switch(value, &on))
            return bragg_fail(e, "%s is not a switch (valid: yes, no)", BRAGG_QUOTED(value));
        *(int *)(void *)field = k->kind == RUN_KEY_ON ? on : !on;
        break;
    case RUN_KEY_MATERIAL:
        if (s->geometry == 2)
            return bragg_fail(e, "material and slab exclude each other (use slab water:inf for a "
                                 "semi-infinite last slab)");
        if (!*value) return bragg_fail(e, "needs a value (%s)", k->meta);
        if (strlen(value) >= CONFIG_NAME_LEN)
            return bragg_fail(e, "%s is too long (at most %d characters)", BRAGG_QUOTED(value),
                              CONFIG_NAME_LEN - 1);
        c->n_slabs = 1;
        snprintf(c->slabs[0].material, sizeof c->slabs[0].material, "%s", value);
        c->slabs[0].thickness_cm = INFINITY;
        s->geometry = 1;
        break;
    case RUN_KEY_SLAB:
        if (s->geometry == 1)
            return bragg_fail(e, "material and slab exclude each other (use slab water:inf for a "
                                 "semi-infinite last slab)");
        if (s->geometry == 0) c->n_slabs = 0;   /* the first slab replaces the default block */
        if (config_add_slab(c, value, e)) return BRAGG_ERR;
        s->geometry = 2;
        break;
    }
    /* By its name: k may be a narrowed copy (run_setup_set's header). */
    const run_key *known = run_key_find(k->name);
    if (known) s->given[known - run_keys] = 1;
    return BRAGG_OK;
}

int run_file_quote(const char *v, char *out, size_t len)
{
    size_t n = strlen(v);
    int blank_end = n && (strchr(" \t\r", v[0]) || strchr(" \t\r", v[n - 1]));
    if (!blank_end && !strchr(v, '#') && v[0] != '"') return snprintf(out, len, "%s", v);
    size_t used = 0;
#define OUT(ch)                                                                                    \
    do {                                                                                           \
        if (used + 1 < len) out[used] = (ch);                                                      \
        used++;                                                                                    \
    } while (0)
    OUT('"');
    for (const char *p = v; *p; p++) {
        if (*p == '"' || *p == '\\') OUT('\\');
        OUT(*p);
    }
    OUT('"');
#undef OUT
    if (len) out[used < len ? used : len - 1] = '\0';
    return (int)used;
}

int run_file_format(const run_config *c, const char *head, char *out, size_t len)
{
    size_t used = 0;
    int total = 0;
#define PUT(...)                                                                                   \
    do {                                                                                           \
        int w_ = snprintf(out + (used < len ? used : len), used < len ? len - used : 0,           \
                          __VA_ARGS__);                                                            \
        if (w_ > 0) {                                                                              \
            used += (size_t)w_;                                                                    \
            total += w_;                                                                           \
        }                                                                                          \
    } while (0)
    if (len) out[0] = '\0';
    if (head && *head) PUT("%s", head);
    PUT("# A bragg run file: `bragg run --config FILE` runs it (options on the command line\n"
        "# override it), the workbench loads and saves it. Keys are bragg run's long options;\n"
        "# switches take yes or no. Values in the units of bragg run --help.\n");
    for (const run_key *k = run_keys; k->name; k++) {
        const char *field = (const char *)c + k->offset;
        char val[160];
        switch (k->kind) {
        case RUN_KEY_NAME:
            /* "" is a default with no text of its own (no biological model): left out. */
            if (*field) {
                run_file_quote(field, val, sizeof val);
                PUT("%-24s= %s\n", k->name, val);
            }
            break;
        case RUN_KEY_NUMBER:
        case RUN_KEY_VALUES: {
            double v = *(const double *)(const void *)field;
            /* Defaults with no value of their own, left out: infinite (no lateral bound), and
             * 0 below a key's range where no text gives it (alpha-beta 0: the cell line's
             * own). */
            if (isinf(v) || (v == 0 && k->lo > 0 && !k->zero)) continue;
            run_file_number(v, k->unit, val, sizeof val);
            PUT("%-24s= %-12s # %s\n", k->name, val, k->meta);
            break;
        }
        case RUN_KEY_INT: PUT("%-24s= %d\n", k->name, *(const int *)(const void *)field); break;
        case RUN_KEY_CHOICE:
            if (choice_word(k->meta, *(const int *)(const void *)field, val, sizeof val))
                PUT("%-24s= %s\n", k->name, val);
            break;
        case RUN_KEY_COUNT:
            PUT("%-24s= %llu\n", k->name,
                (unsigned long long)*(const uint64_t *)(const void *)field);
            break;
        case RUN_KEY_OFF:
        case RUN_KEY_ON: {
            int on = *(const int *)(const void *)field;
            PUT("%-24s= %s\n", k->name, (k->kind == RUN_KEY_ON ? on : !on) ? "yes" : "no");
            break;
        }
        case RUN_KEY_MATERIAL:
            if (c->n_slabs == 1 && isinf(c->slabs[0].thickness_cm)) {
                run_file_quote(c->slabs[0].material, val, sizeof val);
                PUT("%-24s= %s\n", k->name, val);
            }
            break;
        case RUN_KEY_SLAB:
            if (c->n_slabs == 1 && isinf(c->slabs[0].thickness_cm)) break;
            for (int i = 0; i < c->n_slabs; i++) {
                char th[40], spec[120];
                if (isinf(c->slabs[i].thickness_cm)) snprintf(th, sizeof th, "inf");
                else run_file_number(c->slabs[i].thickness_cm, 1, th, sizeof th);
                snprintf(spec, sizeof spec, "%s:%s", c->slabs[i].material, th);
                run_file_quote(spec, val, sizeof val);
                PUT("%-24s= %s\n", k->name, val);
            }
            break;
        }
    }
#undef PUT
    return total;
}

static int is_blank(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\r';
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t') s++;
    size_t n = strlen(s);
    while (n > 0 && is_blank(s[n - 1])) s[--n] = '\0';
    return s;
}

/* Ends s at its comment: a '#' first on the line (`line`) or after a blank; names never have
 * one. */
static void cut_comment(char *s, const char *line)
{
    for (char *h = s; (h = strchr(h, '#')); h++)
        if (h == line || is_blank(h[-1])) {
            *h = '\0';
            return;
        }
}

/* A quoted value ("...", with \" and \\) in place: *v is the opening quote; on return *v is
 * the text without quotes and escapes. Only blanks and a comment may follow the closing
 * quote. */
static int unquote(char **v, bragg_err *e)
{
    char *r = *v + 1, *w = *v;
    while (*r && *r != '"') {
        if (*r == '\\' && (r[1] == '"' || r[1] == '\\')) r++;
        *w++ = *r++;
    }
    if (*r != '"') return bragg_fail(e, "no closing quote (valid: \"TEXT\", with \\\" and \\\\)");
    char *rest = r + 1;
    *w = '\0';
    while (is_blank(*rest)) rest++;
    if (*rest && *rest != '#')
        return bragg_fail(e, "text after the closing quote (valid: \"TEXT\", then a # comment)");
    return BRAGG_OK;
}

/* The keys a parse has seen, for "given twice": at most the keys of both tables in each
 * section, since the callers refuse any other (an unknown key ends the parse). */
#define SEEN_MAX 256
typedef struct seen_key {
    const char *key;
    int section, line;
} seen_key;

/* A key as messages show it: as it is, or quoted with its control characters escaped. */
#define key_text(key) (bragg_text_printable(key) ? (key) : BRAGG_QUOTED(key))

static int repeatable(const char *key)
{
    const run_key *k = run_key_find(key);
    const run_output_key *o = run_output_key_find(key);
    return (k && k->kind == RUN_KEY_SLAB) || (o && o->repeatable);
}

int run_file_parse(char *text, const char *name, run_file_fn fn, void *ctx, bragg_err *e)
{
    char section[64] = "";
    int section_id = 0, line_no = 0, n_seen = 0;
    static const char bom[] = "\xEF\xBB\xBF";
    seen_key *seen = malloc(SEEN_MAX * sizeof *seen);
    if (!seen) return bragg_fail(e, "%s: out of memory", name);
    int rc = BRAGG_OK;
    /* An editor's byte order mark: invisible, and no part of the first key. */
    char *p = strncmp(text, bom, 3) == 0 ? text + 3 : text;
    while (*p && rc == BRAGG_OK) {
        line_no++;
        size_t n = strcspn(p, "\n");
        if (n >= 1024) {
            rc = bragg_fail(e, "%s line %d: longer than 1023 characters", name, line_no);
            break;
        }
        /* Split in place: keys and values stay valid as long as the text. */
        char *line = p;
        p += n;
        if (*p == '\n') *p++ = '\0';
        char *s = line;
        while (*s == ' ' || *s == '\t') s++;
        if (*s == '#') continue;
        if (*s == '[') {
            cut_comment(s, line);
            s = trim(s);
            char *close = strchr(s, ']');
            if (!close || close[1] || close - s - 1 >= (long)sizeof section || close == s + 1) {
                rc = bragg_fail(e, "%s line %d: %s is not a section ([name])", name, line_no,
                                BRAGG_QUOTED(s));
                break;
            }
            *close = '\0';
            snprintf(section, sizeof section, "%s", trim(s + 1));
            section_id = 0;
            for (int i = 0; run_file_sections[i]; i++)
                if (strcmp(section, run_file_sections[i]) == 0) section_id = i + 1;
            if (!section_id) {
                rc = bragg_fail(e, "%s line %d: unknown section %s (valid: [workbench], the "
                                   "workbench's own settings)",
                                name, line_no, BRAGG_QUOTED(section));
                break;
            }
            continue;
        }
        char *eq = strchr(s, '=');
        if (eq) *eq = '\0';
        cut_comment(s, line);   /* a comment before any '=' holds the '=' */
        if (!eq || strlen(s) < (size_t)(eq - s)) {
            s = trim(s);
            if (!*s) continue;
            if (eq) *eq = '=';
            rc = bragg_fail(e, "%s line %d: no '=' in %s", name, line_no, BRAGG_QUOTED(s));
            break;
        }
        char *key = trim(s), *value = eq + 1;
        while (*value == ' ' || *value == '\t') value++;
        if (*value == '"') {
            if (unquote(&value, e)) {
                rc = bragg_fail_prefix(e, "%s line %d: %s: ", name, line_no, key_text(key));
                break;
            }
        } else {
            cut_comment(value, line);
            value = trim(value);
        }
        if (!*key) {
            rc = bragg_fail(e, "%s line %d: no key before '='", name, line_no);
            break;
        }
        /* bragg run skips a section: a setting there would silently do nothing. */
        if (*section && (run_key_find(key) || run_output_key_find(key))) {
            rc = bragg_fail(e, "%s line %d: %s: in section [%s], which bragg run skips; move it "
                               "above the section line",
                            name, line_no, key, section);
            break;
        }
        if (!repeatable(key)) {
            for (int i = 0; i < n_seen; i++)
                if (seen[i].section == section_id && strcmp(seen[i].key, key) == 0) {
                    rc = bragg_fail(e, "%s line %d: %s: given twice (lines %d and %d; a key "
                                       "that does not repeat is given once)",
                                    name, line_no, key_text(key), seen[i].line, line_no);
                    break;
                }
            if (rc) break;
            if (n_seen < SEEN_MAX) seen[n_seen++] = (seen_key){key, section_id, line_no};
        }
        if (fn(section, key, value, line_no, ctx, e))
            rc = bragg_fail_prefix(e, "%s line %d: ", name, line_no);
    }
    free(seen);
    return rc;
}

int run_file_blame(bragg_err *e, const char *key, const char *file, int line)
{
    size_t n = strlen(key);
    int named = strncmp(e->msg, key, n) == 0 && e->msg[n] == ':';
    if (!file) return named ? bragg_fail_prefix(e, "--") : bragg_fail_prefix(e, "--%s: ", key);
    return named ? bragg_fail_prefix(e, "%s line %d: ", file, line)
                 : bragg_fail_prefix(e, "%s line %d: %s: ", file, line, key);
}

int run_file_read(const char *path, char **text, bragg_err *e)
{
    *text = NULL;
    struct stat st;
    /* fopen takes a folder on Linux, and the read then fails with EISDIR, said as "cannot
     * read": say what it is. */
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
        return bragg_fail(e, "%s: is a folder (valid: a run file)", path);
    FILE *f = fopen(path, "r");
    if (!f) return bragg_fail(e, "%s: cannot read: %s", path, strerror(errno));
    char *buf = malloc(RUN_FILE_MAX_BYTES + 1);
    if (!buf) {
        fclose(f);
        return bragg_fail(e, "%s: out of memory", path);
    }
    size_t n = fread(buf, 1, RUN_FILE_MAX_BYTES + 1, f);
    int read_error = ferror(f) ? errno : 0;
    fclose(f);
    int rc = BRAGG_OK;
    if (read_error) rc = bragg_fail(e, "%s: cannot read: %s", path, strerror(read_error));
    else if (n > RUN_FILE_MAX_BYTES)
        rc = bragg_fail(e, "%s: larger than %d bytes (not a run file?)", path, RUN_FILE_MAX_BYTES);
    else if (memchr(buf, '\0', n)) rc = bragg_fail(e, "%s: not text", path);
    if (rc) {
        free(buf);
        return BRAGG_ERR;
    }
    buf[n] = '\0';
    *text = buf;
    return BRAGG_OK;
}
