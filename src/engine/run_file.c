/* run_file.c - see run_file.h. */
#include "run_file.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "assets.h"
#include "tables.h"

#define RUN_FILE_MAX_BYTES 65536

#define F(field) offsetof(run_config, field)
#define NAME(field) F(field), sizeof(((run_config *)0)->field)

/* The defaults each help line names are config_default's (src/engine/config.c). */
const run_key run_keys[] = {
    {"ion", 'i', RUN_KEY_NAME, NAME(ion), 0, 0, 1, "NAME",
     "projectile: p, d, t, He-3, He-4, ..., C-12, O-16, ... (assets/ions.tsv)"},
    {"energy", 'e', RUN_KEY_NUMBER, F(energy), 0, USER_T_MIN, USER_T_MAX, 1, "MEV_U",
     "beam kinetic energy per nucleon (protons: MeV), above --ecut"},
    {"material", 'm', RUN_KEY_MATERIAL, 0, 0, 0, 0, 1, "NAME",
     "material: water, air, pmma, bone (= bone-cortical-icrp), ... (assets/materials.tsv)"},
    {"slab", 0, RUN_KEY_SLAB, 0, 0, 0, 0, 1, "MAT:CM",
     "add a slab (repeatable; thickness 'inf' for the last), e.g. --slab water:5 --slab "
     "bone:2 --slab water:inf"},
    {"energy-spread", 0, RUN_KEY_NUMBER, F(energy_spread), 0, 0, 20, 100, "PERCENT",
     "energy spread, relative sigma (default 0)"},
    {"spot", 0, RUN_KEY_NUMBER, F(spot_sigma_cm), 0, 0, 100, 10, "MM",
     "spot size sigma per axis (default 0)"},
    {"divergence", 0, RUN_KEY_NUMBER, F(divergence_rad), 0, 0, 100, 1000, "MRAD",
     "beam divergence sigma per plane (default 0)"},
    {"histories", 'n', RUN_KEY_COUNT, F(histories), 0, 2, 1e12, 1, "N",
     "number of primary histories (default 100000; at least --batches)"},
    {"seed", 's', RUN_KEY_COUNT, F(seed), 0, 0, 18446744073709551615.0, 1, "S",
     "random seed (default 1)"},
    {"backend", 'b', RUN_KEY_NAME, NAME(backend), 0, 0, 1, "NAME",
     "serial, openmp (default), event (the GPU's event loop on CPU threads), simd (the event "
     "loop vectorised across particles) or cuda"},
    {"threads", 't', RUN_KEY_INT, F(threads), 0, 0, 1024, 1, "N",
     "OpenMP threads (default 0 = all cores)"},
    {"no-straggling", 0, RUN_KEY_OFF, F(straggling), 0, 0, 0, 1, 0,
     "switch energy-loss straggling off"},
    {"no-mcs", 0, RUN_KEY_OFF, F(scattering), 0, 0, 0, 1, 0, "switch multiple Coulomb scattering off"},
    {"no-nuclear", 0, RUN_KEY_OFF, F(nuclear), 0, 0, 0, 1, 0,
     "switch nuclear reactions and fragmentation off"},
    {"iwater", 0, RUN_KEY_NUMBER, F(iwater), 0, 75, 78, 1, "EV",
     "water I-value: 75 (ICRU 49, NIST; default) or 78 (ICRU 90)"},
    {"no-shell", 0, RUN_KEY_OFF, F(stopping.shell), 0, 0, 0, 1, 0,
     "stopping: drop the shell correction"},
    {"no-barkas", 0, RUN_KEY_OFF, F(stopping.barkas), 0, 0, 0, 1, 0,
     "stopping: drop the Barkas (z^3) term"},
    {"no-bloch", 0, RUN_KEY_OFF, F(stopping.bloch), 0, 0, 0, 1, 0,
     "stopping: drop the Bloch (z^4) term"},
    {"no-mott", 0, RUN_KEY_OFF, F(stopping.mott), 0, 0, 0, 1, 0, "stopping: drop the Mott term"},
    {"no-density-effect", 0, RUN_KEY_OFF, F(stopping.density_effect), 0, 0, 0, 1, 0,
     "stopping: drop the density-effect correction"},
    {"no-effective-charge", 0, RUN_KEY_OFF, F(stopping.effective_charge), 0, 0, 0, 1, 0,
     "stopping: treat the ion as bare at all speeds"},
    {"no-nuclear-stopping", 0, RUN_KEY_OFF, F(stopping.nuclear), 0, 0, 0, 1, 0,
     "stopping: drop elastic nuclear stopping"},
    {"step-fraction", 0, RUN_KEY_NUMBER, F(step_fraction), 0, 1e-4, 0.5, 1, "F",
     "largest step as a fraction of the residual range (default 0.12)"},
    {"step-min", 0, RUN_KEY_NUMBER, F(step_min_cm), 0, 0, 10, 10, "MM",
     "smallest step (default 0 = half a depth bin, at most a 300th of the beam's CSDA range)"},
    {"step-fraction-secondary", 0, RUN_KEY_NUMBER, F(step_fraction_secondary), 0, 1e-4, 0.5, 1,
     "F", "the same for nuclear secondaries (default 0.3)"},
    {"step-min-secondary", 0, RUN_KEY_NUMBER, F(step_min_secondary_cm), 0, 1e-5, 10, 10, "MM",
     "smallest step of nuclear secondaries (default 1)"},
    {"ecut", 0, RUN_KEY_NUMBER, F(energy_cut), 0, 0, 10, 1, "MEV_U",
     "cut-off energy, remainder deposited in place (default 0 = 0.1, or lower down to 0.002 "
     "until the beam's range left there is under 0.1% of its range)"},
    {"bin", 0, RUN_KEY_NUMBER, F(bin_width_cm), 0, 0, 100, 10, "MM",
     "depth bin width (default 0 = 0.1 mm; 100 across a range under 1 cm, at least 1 um; or "
     "the first of 0.2, 0.5, 1, 2, 5 mm, ... that keeps the grid within 5000 bins)"},
    {"depth", 0, RUN_KEY_NUMBER, F(depth_max_cm), 0, 0, 1e4, 1, "CM",
     "scoring depth (default 0 = CSDA depth + 15% + 5 mm, or + the range if under 5 mm)"},
    {"batches", 0, RUN_KEY_INT, F(batches), 0, 2, 1000, 1, "N",
     "batches for the statistical error (default 20)"},
    {"lateral-halfwidth", 0, RUN_KEY_NUMBER, F(lateral_halfwidth_cm), 0, 1e-3, 1e6, 1, "CM",
     "half-width of the slabs in x and y (default infinite)"},
    {"profile", 0, RUN_KEY_ON, F(profile), 0, 0, 0, 1, 0,
     "time the step components (one history in 32; ~1.5% slower)"},
    {"bio", 0, RUN_KEY_NAME, NAME(bio_model), 0, 0, 1, "MODEL",
     "biological model: mkm (ions), mcnamara, wedenberg or rbe1.1 (protons); adds RBE, "
     "RBE-weighted dose and survival per bin"},
    {"cell", 0, RUN_KEY_NAME, NAME(bio_cell), 0, 0, 1, "NAME",
     "cell line of the biological model: HSG (default; assets/cell_lines.tsv)"},
    {"alpha-beta", 0, RUN_KEY_NUMBER, F(bio_alpha_beta), 0, 0.5, 50, 1, "GY",
     "tissue (alpha/beta)x of the reference photons (default: the cell line's, HSG 5.09)"},
    {"bio-dose", 0, RUN_KEY_NUMBER, F(bio_dose), 0, 0.01, 100, 1, "GY",
     "physical dose per bin at which survival and RBE are given (default 2)"},
    /* The words in the order of enum map_kind (physics/transport.h). */
    {"map-kind", 0, RUN_KEY_CHOICE, F(map_kind), 0, 0, 0, 1, "none|rz|xz",
     "dose map: rz, rings around the axis, Gy per primary (what --map FILE scores unless told "
     "otherwise); xz, columns in x, dose integrated over y, Gy cm per primary; none (default)"},
    {"map-bin", 0, RUN_KEY_NUMBER, F(map_bin_cm), 0, 0, 100, 10, "MM",
     "lateral bin width of the dose map (default 0 = a 200th of the map radius, at least "
     "0.001)"},
    {"map-radius", 0, RUN_KEY_NUMBER, F(map_radius_cm), 0, 0, 1000, 1, "CM",
     "extent of the dose map: r (or |x|) below it, the rest in one bin beyond (default 0 = the "
     "first of 0.2, 0.5, 1, 2, 5 mm, ... over a third of the range and 4 sigma of the beam)"},
    {"phase-space-depth", 0, RUN_KEY_NUMBER, F(phase_space_depth_cm), 0, 1e-6, 1e4, 1, "CM",
     "depth of the phase-space plane (inside the scoring depth; written by --phase-space FILE)"},
    {0},
};

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

/* A bound of a valid range: as number_text (1e12, where one message said 1000000000000 and
 * another 1e+12), but 2^64 - 1 whole, since as a double it is 2^64, which "%.0f" prints one
 * too high. */
static const char *bound_text(double v, char *buf, size_t len)
{
    if (v < 18446744073709551615.0) return number_text(v, buf, len);
    snprintf(buf, len, "%llu", (unsigned long long)UINT64_MAX);
    return buf;
}

/* The valid range as a message states it: "lo to hi", but the energy's floor is the cut-off
 * (config_validate), which another key sets: its tables' floor lo would offer energies that
 * the run then refuses. */
static void range_words(const run_key *k, char *out, size_t len)
{
    char lo[32], hi[32];
    if (k->offset == offsetof(run_config, energy) && k->kind == RUN_KEY_NUMBER)
        snprintf(out, len, "above the cut-off, --ecut (default 0.1 or lower, at least 0.002), "
                           "to %s", bound_text(k->hi, hi, sizeof hi));
    else
        snprintf(out, len, "%s to %s", bound_text(k->lo, lo, sizeof lo),
                 bound_text(k->hi, hi, sizeof hi));
}

/* A number in [lo, hi]; the message leaves the key to the caller. */
static int number(const char *text, const run_key *k, double *out, bragg_err *e)
{
    /* The one number syntax (physics/assets.h: decimal only). */
    double v;
    char range[160], shown[32];
    range_words(k, range, sizeof range);
    if (parse_decimal(text, &v))
        return bragg_fail(e, "%s is not a decimal number (valid: %s)", BRAGG_QUOTED(text), range);
    /* Whole first: 2.5 histories is no count at all, whatever the range. */
    if ((k->kind == RUN_KEY_INT || k->kind == RUN_KEY_COUNT) && v != floor(v))
        return bragg_fail(e, "%s is not a whole number (valid: %s)", BRAGG_QUOTED(text), range);
    if (v < k->lo || v > k->hi)
        return bragg_fail(e, "%s is out of range (valid: %s)", number_text(v, shown, sizeof shown),
                          range);
    *out = v;
    return BRAGG_OK;
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
        if (number(value, k, &v, e)) return BRAGG_ERR;
        *(double *)(void *)field = v / k->unit;
        break;
    case RUN_KEY_INT:
        if (number(value, k, &v, e)) return BRAGG_ERR;
        *(int *)(void *)field = (int)v;
        break;
    case RUN_KEY_COUNT: {
        char range[160];
        range_words(k, range, sizeof range);
        /* Digits only: read exactly (a seed of 2^64 - 1 does not survive a double). */
        if (*value && strspn(value, "0123456789") == strlen(value)) {
            errno = 0;
            unsigned long long u = strtoull(value, NULL, 10);
            if (errno == ERANGE || (double)u < k->lo || (double)u > k->hi)
                return bragg_fail(e, "%s is out of range (valid: %s)", BRAGG_QUOTED(value),
                                  range);
            *(uint64_t *)(void *)field = u;
            break;
        }
        if (number(value, k, &v, e)) return BRAGG_ERR;
        if (v >= 18446744073709551615.0)
            return bragg_fail(e, "%s is out of range (valid: %s)", BRAGG_QUOTED(value), range);
        *(uint64_t *)(void *)field = (uint64_t)v;
        break;
    }
    case RUN_KEY_CHOICE: {
        int i = choice_index(k->meta, value);
        if (i < 0) {
            /* "none|rz|xz" as "none, rz, xz" */
            char valid[128];
            size_t n = 0;
            for (const char *c = k->meta; *c && n + 3 < sizeof valid; c++) {
                if (*c == '|') valid[n++] = ',', valid[n++] = ' ';
                else valid[n++] = *c;
            }
            valid[n] = '\0';
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
    s->given[run_key_find(k->name) - run_keys] = 1;
    return BRAGG_OK;
}

/* The shortest text x for a field holding v in config units such that reading it back
 * (x / unit, as run_setup_set does) gives v again: 0.1 mm, not 0.10000000000000001. A
 * saved setup then runs bit for bit as the one on screen. */
static void shortest(double v, double unit, char *out, size_t len)
{
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
            if (back / unit == v) return;
        }
    }
    snprintf(out, len, "%.17g", x);
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
        char val[64];
        switch (k->kind) {
        case RUN_KEY_NAME:
            /* "" is a default with no text of its own (no biological model): left out. */
            if (*field) PUT("%-24s= %s\n", k->name, field);
            break;
        case RUN_KEY_NUMBER: {
            double v = *(const double *)(const void *)field;
            /* Defaults with no value of their own, left out: infinite (no lateral bound), and
             * 0 below a key's range (alpha-beta 0: the cell line's own). */
            if (isinf(v) || (v == 0 && k->lo > 0)) continue;
            shortest(v, k->unit, val, sizeof val);
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
            if (c->n_slabs == 1 && isinf(c->slabs[0].thickness_cm))
                PUT("%-24s= %s\n", k->name, c->slabs[0].material);
            break;
        case RUN_KEY_SLAB:
            if (c->n_slabs == 1 && isinf(c->slabs[0].thickness_cm)) break;
            for (int i = 0; i < c->n_slabs; i++) {
                if (isinf(c->slabs[i].thickness_cm)) snprintf(val, sizeof val, "inf");
                else shortest(c->slabs[i].thickness_cm, 1, val, sizeof val);
                PUT("%-24s= %s:%s\n", k->name, c->slabs[i].material, val);
            }
            break;
        }
    }
#undef PUT
    return total;
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t') s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r')) s[--n] = '\0';
    return s;
}

int run_file_parse(char *text, const char *name, run_file_fn fn, void *ctx, bragg_err *e)
{
    char section[64] = "";
    int line_no = 0;
    char *p = text;
    while (*p) {
        line_no++;
        size_t n = strcspn(p, "\n");
        if (n >= 1024) return bragg_fail(e, "%s line %d: longer than 1023 characters", name, line_no);
        /* Split in place: keys and values stay valid as long as the text. */
        char *line = p;
        p += n;
        if (*p == '\n') *p++ = '\0';
        /* A comment: '#' first on the line, or after a space or tab (names never have one). */
        for (char *h = line; (h = strchr(h, '#')); h++)
            if (h == line || h[-1] == ' ' || h[-1] == '\t') {
                *h = '\0';
                break;
            }
        char *s = trim(line);
        if (!*s) continue;
        if (*s == '[') {
            char *close = strchr(s, ']');
            if (!close || close[1] || close - s - 1 >= (long)sizeof section || close == s + 1)
                return bragg_fail(e, "%s line %d: %s is not a section ([name])", name, line_no,
                                  BRAGG_QUOTED(s));
            *close = '\0';
            snprintf(section, sizeof section, "%s", trim(s + 1));
            continue;
        }
        char *eq = strchr(s, '=');
        if (!eq) return bragg_fail(e, "%s line %d: no '=' in %s", name, line_no, BRAGG_QUOTED(s));
        *eq = '\0';
        char *key = trim(s), *value = trim(eq + 1);
        if (!*key) return bragg_fail(e, "%s line %d: no key before '='", name, line_no);
        if (fn(section, key, value, line_no, ctx, e))
            return bragg_fail_prefix(e, "%s line %d: ", name, line_no);
    }
    return BRAGG_OK;
}

int run_file_read(const char *path, char **text, bragg_err *e)
{
    *text = NULL;
    FILE *f = fopen(path, "r");
    if (!f) return bragg_fail(e, "%s: cannot read: %s", path, strerror(errno));
    char *buf = malloc(RUN_FILE_MAX_BYTES + 1);
    if (!buf) {
        fclose(f);
        return bragg_fail(e, "%s: out of memory", path);
    }
    size_t n = fread(buf, 1, RUN_FILE_MAX_BYTES + 1, f);
    int read_error = ferror(f);
    fclose(f);
    int rc = BRAGG_OK;
    if (read_error) rc = bragg_fail(e, "%s: cannot read", path);
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
