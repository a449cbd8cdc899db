/* figures.c - see figures.h. */
#include "figures.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "axis_ticks.h"
#include "depth_unit.h"
#include "dose_map.h"
#include "ion.h"
#include "measured.h"

static const char *kind_names[] = {"auto",    "dose",   "charge",  "let", "lateral", "fluence",
                                   "yields",  "bench",  "profile", "bio", "sobp",    "map",
                                   "profile-at"};

int figure_kind_parse(const char *text, figure_kind *kind, bragg_err *e)
{
    for (int k = 1; k < (int)(sizeof kind_names / sizeof kind_names[0]); k++)
        if (strcmp(text, kind_names[k]) == 0) {
            *kind = (figure_kind)k;
            return BRAGG_OK;
        }
    return bragg_fail(e, "%s is not a kind of plot (valid: dose, charge, let, lateral, fluence, "
                         "yields, bio, bench, profile, sobp, map, profile-at)", BRAGG_QUOTED(text));
}

int figure_norm_parse(const char *text, figure_norm *norm, bragg_err *e)
{
    if (strcmp(text, "none") == 0) *norm = FIGURE_NORM_NONE;
    else if (strcmp(text, "entrance") == 0) *norm = FIGURE_NORM_ENTRANCE;
    else if (strcmp(text, "peak") == 0) *norm = FIGURE_NORM_PEAK;
    else return bragg_fail(e, "%s is not a normalisation (valid: none, entrance, peak)",
                           BRAGG_QUOTED(text));
    return BRAGG_OK;
}

double figure_norm_factor(const double *depth, const double *dose, int n, figure_norm norm)
{
    double sum = 0, max = 0;
    int count = 0;
    for (int i = 0; i < n; i++) {
        if (!isfinite(dose[i])) continue;
        if (depth[i] < 0.1) {
            sum += dose[i];
            count++;
        }
        max = fmax(max, dose[i]);
    }
    double f = norm == FIGURE_NORM_ENTRANCE ? (count ? sum / count : 0)
               : norm == FIGURE_NORM_PEAK   ? max
                                            : 1;
    return f > 0 ? f : 1;
}

const char *figure_kind_name(figure_kind kind)
{
    return kind_names[kind];
}

/* ------------------------------------------------------------------------------------------ */
/* Reading the JSON                                                                            */

/* The item at a dotted path ("config.physics"), or NULL. */
static const cJSON *at(const cJSON *o, const char *path)
{
    char key[64];
    while (o && *path) {
        size_t n = strcspn(path, ".");
        if (n >= sizeof key) return NULL;
        memcpy(key, path, n);
        key[n] = '\0';
        o = cJSON_GetObjectItemCaseSensitive(o, key);
        path += n;
        if (*path == '.') path++;
    }
    return o;
}

static double num(const cJSON *o, const char *path)
{
    const cJSON *v = at(o, path);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static const char *str(const cJSON *o, const char *path, const char *fallback)
{
    const cJSON *v = at(o, path);
    return cJSON_IsString(v) && v->valuestring ? v->valuestring : fallback;
}

cJSON *figures_parse_json(const char *text, size_t len, const char *name, bragg_err *e)
{
    const char *nul = memchr(text, '\0', len);
    if (nul) {
        bragg_fail(e, "%s: not valid JSON (a NUL byte at byte %ld)", BRAGG_QUOTED(name),
                   (long)(nul - text));
        return NULL;
    }
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithOpts(text, &end, 1);
    if (!root) {
        long off = end && end >= text && end <= text + len ? (long)(end - text) : -1;
        /* With require_null_terminated cJSON fails on what follows a whole document too; a
         * second parse of the prefix tells the two apart for the message. */
        const char *first_end = NULL;
        cJSON *first = cJSON_ParseWithOpts(text, &first_end, 0);
        if (first) {
            cJSON_Delete(first);
            bragg_fail(e, "%s: not valid JSON (something follows the document at byte %ld: "
                          "trailing garbage or a second document)",
                       BRAGG_QUOTED(name), (long)(first_end - text));
        } else {
            bragg_fail(e, "%s: not valid JSON (near byte %ld)", BRAGG_QUOTED(name), off);
        }
    }
    return root;
}

figure_source figures_source(const cJSON *root)
{
    if (cJSON_IsObject(at(root, "config")) && cJSON_IsObject(at(root, "depth_curves")))
        return FIGURE_SOURCE_RUN;
    if (cJSON_IsArray(at(root, "runs"))) return FIGURE_SOURCE_BENCH;
    const cJSON *kind = at(root, "kind");
    if (cJSON_IsString(kind) && strcmp(kind->valuestring, "sobp") == 0 &&
        cJSON_IsArray(at(root, "peaks")))
        return FIGURE_SOURCE_SOBP;
    return FIGURE_SOURCE_UNKNOWN;
}

/* A numeric array as doubles, null (NaN in the run) as NaN. */
static int doubles(const cJSON *arr, const char *what, double **out, int *n, bragg_err *e)
{
    *out = NULL;
    *n = 0;
    if (!cJSON_IsArray(arr)) return bragg_fail(e, "%s: missing (not an array)", what);
    int len = cJSON_GetArraySize(arr);
    double *v = malloc((size_t)(len > 0 ? len : 1) * sizeof *v);
    if (!v) return bragg_fail(e, "%s: out of memory", what);
    int i = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, arr) {
        if (cJSON_IsNumber(it)) v[i] = it->valuedouble;
        else if (cJSON_IsNull(it)) v[i] = NAN;
        else {
            free(v);
            return bragg_fail(e, "%s[%d]: not a number", what, i);
        }
        i++;
    }
    *out = v;
    *n = len;
    return BRAGG_OK;
}

/* "1e5" for round powers, "2.5e5" for two-digit mantissas, else the plain count. */
static void format_count(double n, char *out, size_t len)
{
    if (n >= 1e4) {
        int k = (int)floor(log10(n));
        double m = n / pow(10, k);
        if (fabs(m * 10 - round(m * 10)) < 1e-9) {
            snprintf(out, len, "%ge%d", round(m * 10) / 10, k);
            return;
        }
    }
    snprintf(out, len, "%.0f", n);
}

/* "water", or "water 5 cm | bone-cortical-icrp 2 cm | water" for a stack. */
static void describe_slabs(const cJSON *run, char *out, size_t len)
{
    const cJSON *slabs = at(run, "config.slabs"), *s;
    size_t used = 0;
    out[0] = '\0';
    int n = cJSON_GetArraySize(slabs), i = 0;
    cJSON_ArrayForEach(s, slabs) {
        double t = num(s, "thickness_cm");
        const char *m = str(s, "material", "?");
        int w;
        if (n == 1 && !isfinite(t)) w = snprintf(out + used, len - used, "%s", m);
        else if (isfinite(t)) w = snprintf(out + used, len - used, "%s%s %g cm", i ? " | " : "", m, t);
        else w = snprintf(out + used, len - used, "%s%s", i ? " | " : "", m);
        if (w < 0 || (size_t)w >= len - used) break;
        used += (size_t)w;
        i++;
    }
    if (!out[0]) snprintf(out, len, "?");
}

/* "C-12 400 MeV/u", "p 150 MeV" (runs written before ion_A was recorded: MeV/u). */
static void describe_beam(const cJSON *run, char *out, size_t len)
{
    double A = num(run, "config.ion_A");
    snprintf(out, len, "%s %g %s", str(run, "config.ion", "?"), num(run, "config.energy_MeV_u"),
             ion_energy_unit(isfinite(A) ? (int)A : 0));
}

static double run_histories(const cJSON *run)
{
    double h = num(run, "run.histories");
    return isfinite(h) ? h : num(run, "config.histories_requested");
}

/* "straggling on, multiple_scattering on, nuclear_interactions off, ..." */
static void describe_physics(const cJSON *run, char *out, size_t len)
{
    const cJSON *p = at(run, "config.physics"), *it;
    size_t used = 0;
    out[0] = '\0';
    cJSON_ArrayForEach(it, p) {
        char val[32];
        if (cJSON_IsBool(it)) snprintf(val, sizeof val, "%s", cJSON_IsTrue(it) ? "on" : "off");
        else if (cJSON_IsNumber(it)) snprintf(val, sizeof val, "%g", it->valuedouble);
        else if (cJSON_IsString(it)) snprintf(val, sizeof val, "%s", it->valuestring);
        else continue;
        int w = snprintf(out + used, len - used, "%s%s %s", used ? ", " : "", it->string, val);
        if (w < 0 || (size_t)w >= len - used) break;
        used += (size_t)w;
    }
}

/* ------------------------------------------------------------------------------------------ */
/* Titles, legend labels and metadata of runs                                                  */

typedef struct run_info {
    const cJSON *json;
    char beam[96], slabs[384], histories[32], physics[1024];
    double depth_lo, depth_hi;
} run_info;

static void run_info_fill(run_info *ri, const cJSON *run)
{
    ri->json = run;
    describe_beam(run, ri->beam, sizeof ri->beam);
    describe_slabs(run, ri->slabs, sizeof ri->slabs);
    format_count(run_histories(run), ri->histories, sizeof ri->histories);
    describe_physics(run, ri->physics, sizeof ri->physics);
}

/* A legend label: the beam, plus whatever else tells the runs apart. */
static void run_label(const run_info *runs, int n, int i, char *out, size_t len)
{
    size_t used = (size_t)snprintf(out, len, "%s", runs[i].beam);
    int beam_unique = 1, slabs_differ = 0, hist_differ = 0, seed_differ = 0;
    for (int k = 0; k < n; k++) {
        if (k != i && strcmp(runs[k].beam, runs[i].beam) == 0) beam_unique = 0;
        if (strcmp(runs[k].slabs, runs[i].slabs) != 0) slabs_differ = 1;
        if (strcmp(runs[k].histories, runs[i].histories) != 0) hist_differ = 1;
        if (num(runs[k].json, "config.seed") != num(runs[i].json, "config.seed")) seed_differ = 1;
    }
#define APPEND(...)                                                                                \
    do {                                                                                           \
        if (used < len) used += (size_t)snprintf(out + used, len - used, __VA_ARGS__);             \
    } while (0)
    if (slabs_differ) APPEND(" in %s", runs[i].slabs);
    if (beam_unique && !slabs_differ) return;
    /* Same beam in the same target: name the physics switches that differ. */
    const cJSON *mine = at(runs[i].json, "config.physics"), *it;
    int told = 0;
    cJSON_ArrayForEach(it, mine) {
        if (!cJSON_IsBool(it)) continue;
        int differs = 0;
        for (int k = 0; k < n; k++) {
            const cJSON *o = at(runs[k].json, "config.physics");
            const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, it->string);
            if (!v || cJSON_IsTrue(v) != cJSON_IsTrue(it)) differs = 1;
        }
        if (!differs) continue;
        char name[64];
        snprintf(name, sizeof name, "%s", it->string);
        for (char *c = name; *c; c++)
            if (*c == '_') *c = ' ';
        APPEND(", %s%s", cJSON_IsTrue(it) ? "" : "no ", name);
        told = 1;
    }
    if (hist_differ) {
        APPEND(", %s histories", runs[i].histories);
        told = 1;
    }
    if (seed_differ) {
        APPEND(", seed %.0f", num(runs[i].json, "config.seed"));
        told = 1;
    }
    if (!told && !beam_unique) APPEND(" (run %d)", i + 1);
#undef APPEND
}

static void runs_title(const run_info *runs, int n, figure_kind kind, char *out, size_t len)
{
    if (n == 1) {
        int partial = cJSON_IsTrue(at(runs[0].json, "partial"));
        snprintf(out, len, "%s in %s, %s histories%s", runs[0].beam, runs[0].slabs,
                 runs[0].histories, partial ? " (partial run)" : "");
        return;
    }
    int same_slabs = 1, same_hist = 1;
    for (int k = 1; k < n; k++) {
        if (strcmp(runs[k].slabs, runs[0].slabs) != 0) same_slabs = 0;
        if (strcmp(runs[k].histories, runs[0].histories) != 0) same_hist = 0;
    }
    const char *what = kind == FIGURE_LET       ? "Dose and dose-averaged LET"
                       : kind == FIGURE_LATERAL ? "Lateral spread"
                       : kind == FIGURE_CHARGE  ? "Dose by particle charge"
                       : kind == FIGURE_FLUENCE ? "Fluence of primaries"
                       : kind == FIGURE_YIELDS  ? "Fragments within 10\u00b0 by charge"
                                                : "Depth-dose curves";
    size_t used = (size_t)snprintf(out, len, "%s", what);
    if (same_slabs && used < len) used += (size_t)snprintf(out + used, len - used, " in %s", runs[0].slabs);
    if (same_hist && used < len)
        snprintf(out + used, len - used, ", %s histories each", runs[0].histories);
}

static int add_run_meta(plot_figure *f, const run_info *ri, const char *prefix, bragg_err *e)
{
    char key[80], val[64];
    const cJSON *run = ri->json;
#define META(name, value)                                                                          \
    do {                                                                                           \
        snprintf(key, sizeof key, "%s%s", prefix, name);                                           \
        if (plot_add_meta(f, key, value, e)) return BRAGG_ERR;                                     \
    } while (0)
    META("ion", str(run, "config.ion", "?"));
    snprintf(val, sizeof val, "%g", num(run, "config.energy_MeV_u"));
    META("energy_MeV_u", val);
    META("material", ri->slabs);
    snprintf(val, sizeof val, "%.0f of %.0f", run_histories(run), num(run, "config.histories_requested"));
    META("histories", val);
    snprintf(val, sizeof val, "%.0f", num(run, "config.seed"));
    META("seed", val);
    snprintf(val, sizeof val, "%s, %.0f thread%s", str(run, "run.backend", "?"),
             num(run, "run.threads"), num(run, "run.threads") == 1 ? "" : "s");
    META("backend", val);
    META("physics", ri->physics);
    snprintf(val, sizeof val, "%s (git %s)", str(run, "bragg_version", "?"),
             str(run, "git_revision", "?"));
    META("made_by", val);
    char *cfg = cJSON_PrintUnformatted(at(run, "config"));
    if (!cfg) return bragg_fail(e, "plot: out of memory");
    snprintf(key, sizeof key, "%sconfig", prefix);
    int rc = plot_add_meta(f, key, cfg, e);
    cJSON_free(cfg);
#undef META
    return rc;
}

static int add_common_meta(plot_figure *f, const cJSON *src, figure_kind kind, bragg_err *e)
{
    char val[160];
    snprintf(val, sizeof val, "bragg %s (git %s)", BRAGG_VERSION, BRAGG_GIT_REV);
    if (plot_add_meta(f, "Title", f->title ? f->title : "", e) ||
        plot_add_meta(f, "Software", val, e) ||
        plot_add_meta(f, "bragg:plot", figure_kind_name(kind), e) ||
        plot_add_meta(f, "bragg:version", str(src, "bragg_version", "?"), e) ||
        plot_add_meta(f, "bragg:git_revision", str(src, "git_revision", "?"), e))
        return BRAGG_ERR;
    return BRAGG_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* Run figures                                                                                 */

/* Element symbols for fragment charges (the lightest nuclei fragmentation makes). */
static const char *const element_symbol[] = {"", "H", "He", "Li", "Be", "B", "C", "N", "O", "F", "Ne"};

/* Channels of a by-charge block: "primary", then "1".."Z", then "target" (dose only). Index
 * k runs 0..CHANNEL_TARGET; the key, a legend name and a colour for each. Every run colours a
 * charge alike, so curves of several runs compare by colour. */
#define CHANNEL_TARGET 129
static void channel_key(int k, char *key, size_t len)
{
    if (k == 0) snprintf(key, len, "primary");
    else if (k == CHANNEL_TARGET) snprintf(key, len, "target");
    else snprintf(key, len, "%d", k);
}

static void channel_label(const run_info *ri, int k, char *out, size_t len)
{
    if (k == 0) snprintf(out, len, "primary %s", str(ri->json, "config.ion", "ion"));
    else if (k == CHANNEL_TARGET) snprintf(out, len, "target fragments (local)");
    else if (k < (int)(sizeof element_symbol / sizeof element_symbol[0]))
        snprintf(out, len, "%s fragments (Z = %d)", element_symbol[k], k);
    else snprintf(out, len, "fragments Z = %d", k);
}

static int channel_colour(int k)
{
    return k == CHANNEL_TARGET ? 7 : k;
}

/* A curve of the run's depth_curves as doubles, checked against the depth grid's length. */
static int curve_of(const run_info *ri, const char *key, int n, double **out, bragg_err *e)
{
    char what[96];
    int m;
    snprintf(what, sizeof what, "depth_curves.%s", key);
    if (doubles(at(at(ri->json, "depth_curves"), key), what, out, &m, e)) return BRAGG_ERR;
    if (m != n) {
        free(*out);
        *out = NULL;
        return bragg_fail(e, "%s: %d values for %d depths", what, m, n);
    }
    return BRAGG_OK;
}

/* The by-charge block `block` (dose_by_charge_Gy_cm2 or forward_crossings_by_charge) as one
 * series per channel, divided by `scale`. With several runs the curves carry no label (the
 * legend shows charges and runs apart) and the run's line style. */
static int add_channels(plot_figure *f, const run_info *ri, const char *block, const double *depth,
                        int n, double scale, int run, int n_runs, int lines, unsigned char *seen,
                        bragg_err *e)
{
    const cJSON *by = at(at(ri->json, "depth_curves"), block);
    /* As lines, the target fragments' local deposits (noisy: one reaction per bin) go first,
     * under the others; stacked, the primary is the base of the stack. */
    for (int step = 0; step <= CHANNEL_TARGET; step++) {
        int k = lines ? (step + CHANNEL_TARGET) % (CHANNEL_TARGET + 1) : step;
        char key[16], what[96], label[96];
        channel_key(k, key, sizeof key);
        const cJSON *arr = cJSON_GetObjectItemCaseSensitive(by, key);
        if (!arr) continue;
        double *y;
        int m;
        snprintf(what, sizeof what, "depth_curves.%s.%s", block, key);
        if (doubles(arr, what, &y, &m, e)) return BRAGG_ERR;
        if (m != n) {
            free(y);
            return bragg_fail(e, "%s: %d values for %d depths", what, m, n);
        }
        for (int i = 0; i < n; i++) y[i] /= scale;
        channel_label(ri, k, label, sizeof label);
        int s = plot_add_series(f, n_runs == 1 ? label : NULL, n, depth, y, NULL, e);
        free(y);
        if (s < 0) return BRAGG_ERR;
        f->series[s].colour = channel_colour(k);
        f->series[s].dashed = run % 4;
        seen[k] = 1;
    }
    return BRAGG_OK;
}

/* The series of one run for the kind: returns BRAGG_ERR with a message naming the run's
 * missing field. `seen` collects the charges drawn (for the legend of several runs). */
static int add_run_series(plot_figure *f, const run_info *ri, const char *label,
                          const figure_options *o, int run, int n_runs, unsigned char *seen,
                          bragg_err *e)
{
    const cJSON *curves = at(ri->json, "depth_curves");
    double *depth = NULL, *y = NULL, *err = NULL, *let = NULL;
    int n, rc = BRAGG_ERR;
    if (doubles(at(curves, "depth_cm"), "depth_curves.depth_cm", &depth, &n, e)) return BRAGG_ERR;
    char buf[400];   /* a label (< 320) and a suffix */
    switch (o->kind) {
    case FIGURE_LATERAL:
    case FIGURE_FLUENCE: {
        int lateral = o->kind == FIGURE_LATERAL;
        if (curve_of(ri, lateral ? "lateral_rms_cm" : "fluence_primaries", n, &y, e)) goto done;
        if (lateral)
            for (int i = 0; i < n; i++) y[i] *= 10;   /* cm -> mm */
        int s = plot_add_series(f, label, n, depth, y, NULL, e);
        if (s < 0) goto done;
        f->series[s].colour = run;
        break;
    }
    case FIGURE_CHARGE:
    case FIGURE_YIELDS: {
        int charge = o->kind == FIGURE_CHARGE;
        const char *block = charge ? "dose_by_charge_Gy_cm2" : "forward_crossings_by_charge";
        const cJSON *by = at(curves, block);
        if (!cJSON_IsObject(by) || cJSON_GetArraySize(by) == 0) {
            bragg_fail(e, "this run has no %s data (run with nuclear interactions on)",
                       charge ? "dose-by-charge" : "fragment");
            goto done;
        }
        /* Dose normalised by the run's total dose, so a stack tops out at the dose curve's. */
        double scale = 1;
        if (charge) {
            if (curve_of(ri, "dose_Gy_cm2", n, &y, e)) goto done;
            scale = figure_norm_factor(depth, y, n, o->norm);
        }
        /* One run, linear: stacked areas add up to the dose. Several runs or a log scale:
         * lines, which stay readable where curves cross or span decades. */
        f->stacked = charge && n_runs == 1 && !o->log_y;
        if (add_channels(f, ri, block, depth, n, scale, run, n_runs, !f->stacked, seen, e))
            goto done;
        break;
    }
    case FIGURE_BIO: {
        /* Physical dose and the RBE-weighted dose it stands for (both per unit fluence, RBE at
         * the run's --bio-dose), RBE on the right axis. */
        const cJSON *bio = at(ri->json, "biology");
        if (!cJSON_IsObject(bio)) {
            bragg_fail(e, "this run has no biology (run with --bio MODEL)");
            goto done;
        }
        if (curve_of(ri, "dose_Gy_cm2", n, &y, e)) goto done;
        int m;
        if (doubles(at(bio, "curves.rbe"), "biology.curves.rbe", &let, &m, e)) goto done;
        if (m != n) {
            bragg_fail(e, "biology.curves.rbe: %d values for %d depths", m, n);
            goto done;
        }
        double scale = figure_norm_factor(depth, y, n, o->norm);
        for (int i = 0; i < n; i++) y[i] /= scale;
        /* The two doses share the left axis but not the unit: the RBE-weighted dose is in
         * Gy (RBE) (ICRU Reports 78 and 93), so each legend entry says its own (relative
         * curves have none). */
        int absolute = o->norm == FIGURE_NORM_NONE;
        snprintf(buf, sizeof buf, "%s%sphysical dose%s", label, *label ? ": " : "",
                 absolute ? ", Gy cm\u00b2" : "");
        int s = plot_add_series(f, buf, n, depth, y, NULL, e);
        if (s < 0) goto done;
        f->series[s].colour = n_runs == 1 ? 0 : run;
        err = malloc((size_t)n * sizeof *err);
        if (!err) {
            bragg_fail(e, "plot: out of memory");
            goto done;
        }
        for (int i = 0; i < n; i++) err[i] = isfinite(let[i]) ? y[i] * let[i] : NAN;
        snprintf(buf, sizeof buf, "%s%sRBE-weighted dose (%s, %s)%s", label, *label ? ": " : "",
                 str(bio, "model", "?"), str(bio, "cell_line", "?"),
                 absolute ? ", Gy (RBE) cm\u00b2" : "");
        s = plot_add_series(f, buf, n, depth, err, NULL, e);
        if (s < 0) goto done;
        f->series[s].colour = n_runs == 1 ? 2 : run;
        snprintf(buf, sizeof buf, "%s%sRBE at %g Gy", label, *label ? ": " : "",
                 num(bio, "physical_dose_Gy"));
        s = plot_add_series(f, buf, n, depth, let, NULL, e);
        if (s < 0) goto done;
        f->series[s].colour = n_runs == 1 ? 1 : run;
        f->series[s].right_axis = 1;
        f->series[s].dashed = 1;
        break;
    }
    default: {   /* dose, and dose + LET */
        if (curve_of(ri, "dose_Gy_cm2", n, &y, e) || curve_of(ri, "dose_err_Gy_cm2", n, &err, e))
            goto done;
        double scale = figure_norm_factor(depth, y, n, o->norm);
        for (int i = 0; i < n; i++) {
            y[i] /= scale;
            err[i] /= scale;
        }
        int is_let = o->kind == FIGURE_LET;
        if (is_let) snprintf(buf, sizeof buf, "%s%sdose", label, *label ? ": " : "");
        else snprintf(buf, sizeof buf, "%s", label);
        int s = plot_add_series(f, buf, n, depth, y, err, e);
        if (s < 0) goto done;
        f->series[s].colour = run;
        if (is_let) {
            if (curve_of(ri, "let_d_keV_um", n, &let, e)) goto done;
            snprintf(buf, sizeof buf, "%s%sLET (dose-averaged)", label, *label ? ": " : "");
            s = plot_add_series(f, buf, n, depth, let, NULL, e);
            if (s < 0) goto done;
            f->series[s].colour = n_runs == 1 ? 1 : run;
            f->series[s].right_axis = 1;
            f->series[s].dashed = 1;
        }
        break;
    }
    }
    rc = BRAGG_OK;
done:
    free(depth);
    free(y);
    free(err);
    free(let);
    return rc;
}

/* 1 when the run's figures describe no Bragg peak (results.note, src/output/report.h): then
 * no peak, R80 or falloff is marked. Runs written before the note have none. */
static int no_bragg_peak(const cJSON *run)
{
    return cJSON_IsString(at(run, "results.note"));
}

static int add_dose_markers(plot_figure *f, const cJSON *run, bragg_err *e)
{
    if (no_bragg_peak(run)) return BRAGG_OK;
    double peak = num(run, "results.peak_depth_cm"), r80 = num(run, "results.r80_cm");
    double r20 = num(run, "results.r20_cm"), fall = num(run, "results.falloff_80_20_cm");
    /* In the unit the range reads in: p 1 MeV's peak in cm read "peak 0.00 cm". */
    double csda = num(run, "results.csda_depth_cm");
    depth_unit du = depth_unit_for(csda), wu = width_unit_for(csda);
    char buf[96];
    if (isfinite(peak)) {
        snprintf(buf, sizeof buf, "peak %.2f %s", peak * du.per_cm, du.symbol);
        if (plot_add_marker(f, peak, NAN, buf, e) < 0) return BRAGG_ERR;
    }
    if (isfinite(r80)) {
        snprintf(buf, sizeof buf, "R80 %.2f %s", r80 * du.per_cm, du.symbol);
        if (plot_add_marker(f, r80, NAN, buf, e) < 0) return BRAGG_ERR;
    }
    if (isfinite(r80) && isfinite(r20) && isfinite(fall)) {
        snprintf(buf, sizeof buf, "80\u201320%% falloff %.2f %s", fall * wu.per_cm, wu.symbol);
        if (plot_add_marker(f, r80, r20, buf, e) < 0) return BRAGG_ERR;
    }
    return BRAGG_OK;
}

/* The slabs of a stack as shaded regions with their materials (nothing for one semi-infinite
 * block: there is no boundary to show). */
static int add_slab_regions(plot_figure *f, const cJSON *run, bragg_err *e)
{
    const cJSON *slabs = at(run, "config.slabs"), *sl;
    int n = cJSON_GetArraySize(slabs);
    if (n < 1 || (n == 1 && !isfinite(num(cJSON_GetArrayItem(slabs, 0), "thickness_cm"))))
        return BRAGG_OK;
    double z = 0;
    cJSON_ArrayForEach(sl, slabs) {
        double t = num(sl, "thickness_cm");
        double end = isfinite(t) ? z + t : INFINITY;
        if (plot_add_region(f, z, end, str(sl, "material", "?"), e) < 0) return BRAGG_ERR;
        if (!isfinite(end)) break;
        z = end;
    }
    return BRAGG_OK;
}

/* The unit of a figure's depth axis: the summary's rule (depth_unit.h) for the longest CSDA
 * depth among the runs, so that the axis and the markers (add_dose_markers) agree. In cm alone
 * p 5 MeV's axis ran from 0.00 to 0.07 cm under markers in um. */
static depth_unit runs_depth_unit(const cJSON *const *runs, int n)
{
    double csda = NAN;
    for (int i = 0; i < n; i++) {
        double c = num(runs[i], "results.csda_depth_cm");
        if (isfinite(c) && !(c <= csda)) csda = c;
    }
    return depth_unit_for(csda);
}

/* Every depth the figure holds (the series' x, markers, slabs, a heat map's columns), built in
 * cm, times per_cm: the figure's depths in its axis' unit. */
static void figure_depths_in(plot_figure *f, double per_cm)
{
    if (per_cm == 1) return;
    for (int s = 0; s < f->n_series; s++)
        for (int i = 0; i < f->series[s].n && f->series[s].x; i++) f->series[s].x[i] *= per_cm;
    for (int m = 0; m < f->n_markers; m++) {
        f->markers[m].x0 *= per_cm;
        f->markers[m].x1 *= per_cm;   /* NaN (a line, not a span) stays NaN */
    }
    for (int g = 0; g < f->n_regions; g++) {
        f->regions[g].x0 *= per_cm;
        f->regions[g].x1 *= per_cm;   /* INFINITY stays */
    }
    f->heat.x0 *= per_cm;
    f->heat.dx *= per_cm;
}

/* The normalisation of a measured curve: the same rule as the runs' (figure_norm_factor), so a
 * measured and a simulated curve "peak = 1" are both 1 at their own peaks. */
static int measured_scale(const measured *m, figure_norm norm, double *scale, bragg_err *e)
{
    *scale = figure_norm_factor(m->x, m->y, m->n, norm);
    if (norm == FIGURE_NORM_NONE && m->arbitrary)
        return bragg_fail(e, "--norm none: %s is in arbitrary units (valid with it: --norm peak, "
                             "entrance)", m->path);
    if (norm == FIGURE_NORM_ENTRANCE) {
        int entrance = 0;
        for (int i = 0; i < m->n; i++) entrance += m->x[i] < 0.1;
        if (!entrance)
            return bragg_fail(e, "--norm entrance: %s has no point in the first mm (valid with it: "
                                 "--norm peak)", m->path);
    }
    return BRAGG_OK;
}

/* Measured points over the runs: a depth-dose curve on the dose kind (one series with its
 * label), or yields by charge on the yields kind (one series per charge in that charge's
 * colour, and one legend entry for the measurement). */
static int add_measured(plot_figure *f, const figure_options *o, int n_runs, bragg_err *e)
{
    for (int k = 0; k < o->n_measured; k++) {
        const measured *m = o->measured[k];
        if (o->kind == FIGURE_DOSE) {
            if (!measured_is_depth_dose(m))
                return bragg_fail(e, "--measured: %s holds %s, not a depth-dose curve (fragment "
                                     "yields go with --kind yields)",
                                  BRAGG_QUOTED(m->path), BRAGG_QUOTED(m->quantity));
            double scale;
            if (measured_scale(m, o->norm, &scale, e)) return BRAGG_ERR;
            double *y = malloc((size_t)m->n * sizeof *y), *err = NULL;
            if (!y) return bragg_fail(e, "plot: out of memory");
            if (m->err && !(err = malloc((size_t)m->n * sizeof *err))) {
                free(y);
                return bragg_fail(e, "plot: out of memory");
            }
            for (int i = 0; i < m->n; i++) {
                y[i] = m->y[i] / scale;
                if (err) err[i] = m->err[i] / scale;
            }
            int s = plot_add_series(f, m->label, m->n, m->x, y, err, e);
            free(y);
            free(err);
            if (s < 0) return BRAGG_ERR;
            f->series[s].points = 1;
            f->series[s].colour = (n_runs + k) % 8 == 6 ? 7 : (n_runs + k) % 8;
        } else if (o->kind == FIGURE_YIELDS) {
            if (!m->z)
                return bragg_fail(e, "--measured: %s has no Z column (fragment yields have "
                                     "depth_cm, Z, value)", m->path);
            for (int z = 1; z <= 128; z++) {
                double x[512], y[512];
                int cnt = 0;
                for (int i = 0; i < m->n && cnt < 512; i++)
                    if (m->z[i] == z) {
                        x[cnt] = m->x[i];
                        y[cnt++] = m->y[i];
                    }
                if (!cnt) continue;
                int s = plot_add_series(f, NULL, cnt, x, y, NULL, e);
                if (s < 0) return BRAGG_ERR;
                f->series[s].points = 1;
                f->series[s].colour = channel_colour(z);
            }
            int s = plot_add_series(f, m->label, 0, NULL, NULL, NULL, e);
            if (s < 0) return BRAGG_ERR;
            f->series[s].points = 1;
            f->series[s].colour = PLOT_COLOUR_NEUTRAL;
        } else {
            return bragg_fail(e, "--measured: goes with --kind dose (depth-dose curves) or "
                                 "--kind yields (fragment yields), not --kind %s",
                              figure_kind_name(o->kind));
        }
    }
    return BRAGG_OK;
}

void figure_options_default(figure_options *o)
{
    memset(o, 0, sizeof *o);
    o->kind = FIGURE_DOSE;
    o->norm = FIGURE_NORM_NONE;
}

int figures_from_runs(plot_figure *f, const cJSON *const *runs, int n, const figure_options *opt,
                      bragg_err *e)
{
    plot_figure_init(f, PLOT_LINES);
    figure_options o = *opt;
    if (o.kind == FIGURE_AUTO) o.kind = FIGURE_DOSE;
    figure_kind kind = o.kind;
    if (kind == FIGURE_BENCH)
        return bragg_fail(e, "--kind bench: needs a bench record (bragg bench --json), not a run");
    if (kind == FIGURE_SOBP)
        return bragg_fail(e, "--kind sobp: needs an SOBP record (bragg sobp --json), not a run");
    if (kind == FIGURE_MAP || kind == FIGURE_PROFILE_AT)
        return bragg_fail(e, "--kind %s: needs the run's dose map (figures_from_map)",
                          figure_kind_name(kind));
    if (n < 1 || n > FIGURES_MAX_RUNS)
        return bragg_fail(e, "plot: %d runs given (valid: 1 to %d in one figure)", n, FIGURES_MAX_RUNS);
    if (o.n_measured < 0 || o.n_measured > FIGURES_MAX_MEASURED)
        return bragg_fail(e, "--measured: %d files (valid: up to %d)", o.n_measured,
                          FIGURES_MAX_MEASURED);
    run_info *ri = calloc((size_t)n, sizeof *ri);
    if (!ri) return bragg_fail(e, "plot: out of memory");
    char buf[1024];
    int rc = BRAGG_ERR;
    for (int i = 0; i < n; i++) {
        if (figures_source(runs[i]) != FIGURE_SOURCE_RUN) {
            bragg_fail(e, "run %d: not a run summary (no config or depth_curves)", i + 1);
            goto fail;
        }
        run_info_fill(&ri[i], runs[i]);
    }

    if (kind == FIGURE_PROFILE) {
        /* A run's profile, as bars (needs bragg run --profile). */
        plot_figure_free(f);
        plot_figure_init(f, PLOT_BARS);
        const cJSON *prof = at(runs[0], "run.profile");
        if (n > 1 || !cJSON_IsObject(prof)) {
            bragg_fail(e, n > 1 ? "--kind profile: shows one run" :
                                  "this run has no profile (run with --profile)");
            goto fail;
        }
        const cJSON *it;
        double share[PLOT_MAX_GROUPS];
        char notes[PLOT_MAX_GROUPS][32];
        const char *note_ptr[PLOT_MAX_GROUPS];
        cJSON_ArrayForEach(it, prof) {
            double s = num(it, "share");
            if (!cJSON_IsObject(it) || !isfinite(s) || f->n_groups >= PLOT_MAX_GROUPS) continue;
            int g = plot_add_group(f, it->string, e);
            if (g < 0) goto fail;
            share[g] = 100 * s;
            snprintf(notes[g], sizeof notes[g], "%.0f ns", num(it, "ns_per_step"));
            note_ptr[g] = notes[g];
        }
        if (plot_add_bars(f, ri[0].beam, share, note_ptr, e) < 0) goto fail;
        if (plot_set_axes(f, "step component (note: ns per step per thread)", NULL,
                          "share of step time", "%", e))
            goto fail;
        snprintf(buf, sizeof buf, "Where a step's time goes: %s in %s", ri[0].beam, ri[0].slabs);
    } else {
        unsigned char seen[CHANNEL_TARGET + 1] = {0};
        int by_charge = kind == FIGURE_CHARGE || kind == FIGURE_YIELDS;
        for (int i = 0; i < n; i++) {
            char label[320] = "";
            if (n > 1) {
                run_label(ri, n, i, label, sizeof label);
                double peak = num(runs[i], "results.peak_depth_cm");
                size_t l = strlen(label);
                if (kind == FIGURE_DOSE && no_bragg_peak(runs[i]))
                    snprintf(label + l, sizeof label - l, " (no Bragg peak)");
                else if (kind == FIGURE_DOSE && isfinite(peak)) {
                    depth_unit du = depth_unit_for(num(runs[i], "results.csda_depth_cm"));
                    snprintf(label + l, sizeof label - l, " (peak %.2f %s)", peak * du.per_cm,
                             du.symbol);
                }
            } else if (kind == FIGURE_DOSE) {
                snprintf(label, sizeof label, o.n_measured ? "bragg" : "dose");
            }
            if (add_run_series(f, &ri[i], label, &o, i, n, seen, e)) goto fail;
        }
        if (by_charge && n > 1) {
            /* The legend of several runs by charge: a colour per charge, a line style per run. */
            for (int k = 0; k <= CHANNEL_TARGET; k++) {
                if (!seen[k]) continue;
                char lab[96];
                channel_label(&ri[0], k, lab, sizeof lab);
                int s = plot_add_series(f, lab, 0, NULL, NULL, NULL, e);
                if (s < 0) goto fail;
                f->series[s].colour = channel_colour(k);
            }
            for (int i = 0; i < n; i++) {
                char lab[320];
                run_label(ri, n, i, lab, sizeof lab);
                int s = plot_add_series(f, lab, 0, NULL, NULL, NULL, e);
                if (s < 0) goto fail;
                f->series[s].colour = PLOT_COLOUR_NEUTRAL;
                f->series[s].dashed = i % 4;
            }
        }
        if (add_measured(f, &o, n, e)) goto fail;
        if (kind == FIGURE_DOSE && n == 1 && add_dose_markers(f, runs[0], e)) goto fail;
        int same_slabs = 1;
        for (int i = 1; i < n; i++) same_slabs &= strcmp(ri[i].slabs, ri[0].slabs) == 0;
        if (same_slabs && add_slab_regions(f, runs[0], e)) goto fail;
        f->y_log = o.log_y;
        /* Fragments matter down to a per-mille of the top; below that is counting noise. */
        f->log_floor = by_charge ? 1e-4 : 1e-6;
        const char *xl = "depth";
        depth_unit du = runs_depth_unit(runs, n);
        figure_depths_in(f, du.per_cm);
        const char *xu = du.symbol;
        int rel = o.norm != FIGURE_NORM_NONE;
        const char *norm_unit = o.norm == FIGURE_NORM_ENTRANCE ? "entrance = 1" : "peak = 1";
        int axes_rc;
        switch (kind) {
        case FIGURE_LATERAL:
            axes_rc = plot_set_axes(f, xl, xu, "rms lateral spread of primaries, per axis", "mm",
                                    e);
            break;
        case FIGURE_FLUENCE:
            axes_rc = plot_set_axes(f, xl, xu, "fluence of primaries, per primary", NULL, e);
            break;
        case FIGURE_YIELDS:
            axes_rc = plot_set_axes(f, xl, xu, "fragments crossing within 10\u00b0, per primary",
                                    NULL, e);
            break;
        case FIGURE_CHARGE:
            axes_rc = plot_set_axes(f, xl, xu,
                                    rel ? (f->stacked ? "relative dose, stacked by charge"
                                                      : "relative dose by charge")
                                        : (f->stacked ? "dose per unit fluence, stacked by charge"
                                                      : "dose per unit fluence, by charge"),
                                    rel ? norm_unit : "Gy cm\u00b2", e);
            break;
        case FIGURE_BIO:
            /* Physical and RBE-weighted dose on one axis, each in its unit (per unit fluence:
             * the cm^2; the legend says which curve is which); relative, both over the physical
             * dose's norm. */
            axes_rc = plot_set_axes(f, xl, xu,
                                    rel ? "relative dose" : "physical | RBE-weighted dose",
                                    rel ? (o.norm == FIGURE_NORM_ENTRANCE
                                               ? "physical entrance = 1"
                                               : "physical peak = 1")
                                        : "Gy cm\u00b2 | Gy (RBE) cm\u00b2",
                                    e);
            break;
        default:
            axes_rc = plot_set_axes(f, xl, xu,
                                    rel ? "relative dose" : "dose per unit primary fluence",
                                    rel ? norm_unit : "Gy cm\u00b2", e);
        }
        if (axes_rc) goto fail;
        if (kind == FIGURE_LET && plot_set_right_axis(f, "dose-averaged LET", "keV/\u00b5m", e))
            goto fail;
        if (kind == FIGURE_BIO && plot_set_right_axis(f, "RBE", NULL, e)) goto fail;
        runs_title(ri, n, kind, buf, sizeof buf);
        if (o.n_measured && n == 1) {
            size_t l = strlen(buf);
            snprintf(buf + l, sizeof buf - l, ", and measurement");
        }
    }
    if (plot_set_title(f, o.title ? o.title : buf, e)) goto fail;

    if (n == 1)
        snprintf(buf, sizeof buf, "bragg %s (git %s) \u00b7 %s, %.0f thread%s \u00b7 seed %.0f",
                 str(runs[0], "bragg_version", "?"), str(runs[0], "git_revision", "?"),
                 str(runs[0], "run.backend", "?"), num(runs[0], "run.threads"),
                 num(runs[0], "run.threads") == 1 ? "" : "s", num(runs[0], "config.seed"));
    else
        snprintf(buf, sizeof buf, "bragg %s (git %s)", str(runs[0], "bragg_version", "?"),
                 str(runs[0], "git_revision", "?"));
    if (plot_set_footer(f, buf, e)) goto fail;

    if (add_common_meta(f, runs[0], kind, e)) goto fail;
    for (int i = 0; i < n; i++) {
        char prefix[32];
        if (n == 1) snprintf(prefix, sizeof prefix, "bragg:");
        else snprintf(prefix, sizeof prefix, "bragg:run%d:", i + 1);
        if (add_run_meta(f, &ri[i], prefix, e)) goto fail;
    }
    for (int k = 0; k < o.n_measured; k++) {
        char key[32];
        snprintf(key, sizeof key, o.n_measured == 1 ? "bragg:measured" : "bragg:measured%d", k + 1);
        snprintf(buf, sizeof buf, "%s (%s)", o.measured[k]->path, o.measured[k]->label);
        if (plot_add_meta(f, key, buf, e)) goto fail;
    }
    rc = BRAGG_OK;
fail:
    free(ri);
    if (rc != BRAGG_OK) plot_figure_free(f);
    return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* SOBP figures                                                                                */

int figures_from_sobp(plot_figure *f, const cJSON *sobp, const char *title, bragg_err *e)
{
    plot_figure_init(f, PLOT_LINES);
    if (figures_source(sobp) != FIGURE_SOURCE_SOBP)
        return bragg_fail(e, "not an SOBP record (bragg sobp --json)");
    double *depth = NULL, *y = NULL, *err = NULL, *y2 = NULL, *pk = NULL;
    int n, m, rc = BRAGG_ERR;
    char buf[512];
    const cJSON *bio = at(sobp, "biology");
    int with_bio = cJSON_IsObject(bio);
    if (doubles(at(sobp, "depth_cm"), "depth_cm", &depth, &n, e)) goto fail;
    /* With a model the field is absolute (Gy); without, per primary of the field. */
    const char *dose_key = with_bio ? "biology.curves.physical_dose_Gy" : "dose_Gy_cm2";
    const char *err_key = with_bio ? "biology.curves.physical_dose_err_Gy" : "dose_err_Gy_cm2";
    if (doubles(at(sobp, dose_key), dose_key, &y, &m, e)) goto fail;
    if (m != n) goto mismatch;
    if (doubles(at(sobp, err_key), err_key, &err, &m, e)) goto fail;
    if (m != n) goto mismatch;
    /* With a model the RBE-weighted dose shares the axis in its own unit, Gy (RBE) (ICRU
     * Reports 78 and 93): each legend entry says which. */
    int s = plot_add_series(f, with_bio ? "physical dose, Gy" : "physical dose", n, depth, y, err,
                            e);
    if (s < 0) goto fail;
    f->series[s].colour = 0;
    if (with_bio) {
        free(y);
        free(err);
        y = err = NULL;
        if (doubles(at(bio, "curves.rbe_weighted_dose_Gy"), "biology.curves.rbe_weighted_dose_Gy",
                    &y, &m, e) ||
            m != n ||
            doubles(at(bio, "curves.rbe_weighted_dose_err_Gy"),
                    "biology.curves.rbe_weighted_dose_err_Gy", &err, &m, e) ||
            m != n)
            goto bad_bio;
        snprintf(buf, sizeof buf, "RBE-weighted dose (%s, %s), Gy (RBE)", str(bio, "model", "?"),
                 str(bio, "cell_line", "?"));
        s = plot_add_series(f, buf, n, depth, y, err, e);
        if (s < 0) goto fail;
        f->series[s].colour = 2;
        if (doubles(at(bio, "curves.rbe"), "biology.curves.rbe", &y2, &m, e) || m != n) goto bad_bio;
        s = plot_add_series(f, "RBE", n, depth, y2, NULL, e);
    } else {
        if (doubles(at(sobp, "let_d_keV_um"), "let_d_keV_um", &y2, &m, e) || m != n) goto fail;
        s = plot_add_series(f, "LET (dose-averaged)", n, depth, y2, NULL, e);
    }
    if (s < 0) goto fail;
    f->series[s].colour = 1;
    f->series[s].right_axis = 1;
    f->series[s].dashed = 1;
    /* Each pristine peak as its weight makes it: fluence x dose per primary with a model,
     * weight fraction x dose per primary without; one legend entry for all. */
    const cJSON *peaks = at(sobp, "peaks"), *p;
    int k = 0;
    cJSON_ArrayForEach(p, peaks) {
        if (f->n_series >= PLOT_MAX_SERIES) break;
        double w = num(p, with_bio ? "fluence_per_cm2" : "weight");
        free(pk);
        pk = NULL;
        if (!isfinite(w) || doubles(at(p, "dose_Gy_cm2"), "peaks[].dose_Gy_cm2", &pk, &m, e) ||
            m != n)
            goto fail;
        for (int i = 0; i < n; i++) pk[i] *= w;
        s = plot_add_series(f, k == 0 ? "pristine peaks, weighted" : "", n, depth, pk, NULL, e);
        if (s < 0) goto fail;
        f->series[s].colour = 3;
        k++;
    }
    double from = num(sobp, "from_cm"), to = num(sobp, "to_cm");
    if (isfinite(from) && isfinite(to)) {
        snprintf(buf, sizeof buf, "target %g\u2013%g cm", from, to);
        if (plot_add_marker(f, from, to, buf, e) < 0) goto fail;
    }
    if (plot_set_axes(f, "depth", "cm",
                      with_bio ? "physical | RBE-weighted dose" : "dose per unit primary fluence",
                      with_bio ? "Gy | Gy (RBE)" : "Gy cm\u00b2", e) ||
        plot_set_right_axis(f, with_bio ? "RBE" : "dose-averaged LET",
                            with_bio ? NULL : "keV/\u00b5m", e))
        goto fail;
    f->y_from_zero = 1;
    if (with_bio)
        snprintf(buf, sizeof buf, "%s SOBP in %s, %g\u2013%g cm: %g Gy (RBE) flat (%s, %s)",
                 str(sobp, "ion", "?"), str(sobp, "material", "?"), from, to,
                 num(bio, "prescribed_rbe_weighted_dose_Gy"), str(bio, "model", "?"),
                 str(bio, "cell_line", "?"));
    else
        snprintf(buf, sizeof buf, "%s SOBP in %s, %g\u2013%g cm: physically flat",
                 str(sobp, "ion", "?"), str(sobp, "material", "?"), from, to);
    if (plot_set_title(f, title ? title : buf, e)) goto fail;
    snprintf(buf, sizeof buf, "bragg %s (git %s) \u00b7 %d peaks, %.0f histories each \u00b7 seed %.0f",
             str(sobp, "bragg_version", "?"), str(sobp, "git_revision", "?"), k,
             num(sobp, "histories_per_energy"), num(sobp, "seed"));
    if (plot_set_footer(f, buf, e) || add_common_meta(f, sobp, FIGURE_SOBP, e)) goto fail;
    if (plot_add_meta(f, "bragg:ion", str(sobp, "ion", "?"), e) ||
        plot_add_meta(f, "bragg:material", str(sobp, "material", "?"), e))
        goto fail;
    snprintf(buf, sizeof buf, "%g-%g cm", from, to);
    if (plot_add_meta(f, "bragg:target", buf, e)) goto fail;
    if (with_bio && plot_add_meta(f, "bragg:biology", str(bio, "model", "?"), e)) goto fail;
    rc = BRAGG_OK;
    goto fail;
bad_bio:
    bragg_fail(e, "biology.curves: missing or of the wrong length");
    goto fail;
mismatch:
    bragg_fail(e, "SOBP curves of different lengths (%d depths, %d values)", n, m);
fail:
    free(depth);
    free(y);
    free(err);
    free(y2);
    free(pk);
    if (rc != BRAGG_OK) plot_figure_free(f);
    return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* Benchmark figures                                                                           */

static void config_label(const cJSON *row, char *out, size_t len)
{
    const char *be = str(row, "backend", "?");
    double t = num(row, "threads");
    if (strcmp(be, "serial") == 0) snprintf(out, len, "serial");
    else if (strcmp(be, "cuda") == 0) snprintf(out, len, "cuda, %s", str(row, "device.name", "GPU"));
    else if (cJSON_IsString(at(row, "simd_path")))   /* the vector path the simd backend took */
        snprintf(out, len, "%s %s, %.0f thread%s", be, str(row, "simd_path", "?"), t,
                 t == 1 ? "" : "s");
    else snprintf(out, len, "%s, %.0f thread%s", be, t, t == 1 ? "" : "s");
}

static int bench_race(plot_figure *f, const cJSON *bench, bragg_err *e)
{
    const cJSON *runs = at(bench, "runs"), *row;
    char configs[PLOT_MAX_SERIES][64];
    int nc = 0;
    cJSON_ArrayForEach(row, runs) {
        const char *c = str(row, "case", "?");
        int g;
        for (g = 0; g < f->n_groups; g++)
            if (strcmp(f->groups[g], c) == 0) break;
        if (g == f->n_groups && plot_add_group(f, c, e) < 0) return BRAGG_ERR;
        char lab[64];
        config_label(row, lab, sizeof lab);
        int k;
        for (k = 0; k < nc; k++)
            if (strcmp(configs[k], lab) == 0) break;
        if (k == nc) {
            if (nc >= PLOT_MAX_SERIES)
                return bragg_fail(e, "runs: more than %d backend/thread combinations", PLOT_MAX_SERIES);
            snprintf(configs[nc++], sizeof configs[0], "%s", lab);
        }
    }
    if (f->n_groups == 0) return bragg_fail(e, "runs: empty (nothing was benchmarked)");
    for (int k = 0; k < nc; k++) {
        double v[PLOT_MAX_GROUPS];
        char notes[PLOT_MAX_GROUPS][32];
        const char *np[PLOT_MAX_GROUPS];
        for (int g = 0; g < f->n_groups; g++) {
            v[g] = NAN;
            np[g] = NULL;
        }
        cJSON_ArrayForEach(row, runs) {
            char lab[64];
            config_label(row, lab, sizeof lab);
            if (strcmp(lab, configs[k]) != 0) continue;
            for (int g = 0; g < f->n_groups; g++)
                if (strcmp(f->groups[g], str(row, "case", "?")) == 0) {
                    v[g] = num(row, "histories_per_s");
                    double sp = num(row, "speedup");
                    if (isfinite(sp)) {
                        snprintf(notes[g], sizeof notes[g], "\u00d7%.2f", sp);
                        np[g] = notes[g];
                    }
                }
        }
        if (plot_add_bars(f, configs[k], v, np, e) < 0) return BRAGG_ERR;
    }
    return plot_set_axes(f, "case (note: speedup over one thread)", NULL, "throughput",
                         "histories/s", e);
}

static int bench_profile(plot_figure *f, const cJSON *bench, bragg_err *e)
{
    const cJSON *profiles = at(bench, "profiles"), *p, *it;
    if (cJSON_GetArraySize(profiles) == 0)
        return bragg_fail(e, "profiles: empty (this bench record has no profiled runs)");
    /* Components in the order of the first profile; those never measured are left out. */
    cJSON_ArrayForEach(it, cJSON_GetArrayItem(profiles, 0)) {
        if (!cJSON_IsObject(it) || !isfinite(num(it, "share"))) continue;
        if (plot_add_group(f, it->string, e) < 0) return BRAGG_ERR;
    }
    /* Every CPU backend is profiled for each case: four cases of four or five backends made
     * twenty bars per component, their legend over the bars. Over several cases the figure
     * compares the cases on the history loop (openmp) and the GPU; one case shows them all. */
    int several_cases = 0;
    const char *first_case = str(cJSON_GetArrayItem(profiles, 0), "case", "?");
    cJSON_ArrayForEach(p, profiles)
        if (strcmp(str(p, "case", "?"), first_case) != 0) several_cases = 1;
    cJSON_ArrayForEach(p, profiles) {
        const char *backend = str(p, "backend", "openmp");
        if (several_cases && strcmp(backend, "openmp") != 0 && strcmp(backend, "cuda") != 0)
            continue;
        double v[PLOT_MAX_GROUPS];
        char notes[PLOT_MAX_GROUPS][32];
        const char *np[PLOT_MAX_GROUPS];
        for (int g = 0; g < f->n_groups; g++) {
            const cJSON *c = at(p, f->groups[g]);
            v[g] = 100 * num(c, "share");
            snprintf(notes[g], sizeof notes[g], "%.0f ns", num(c, "ns_per_step"));
            np[g] = isfinite(v[g]) ? notes[g] : NULL;
        }
        char lab[96];
        if (strcmp(str(p, "backend", "openmp"), "cuda") == 0)
            snprintf(lab, sizeof lab, "%s (cuda, %s)", str(p, "case", "?"), str(p, "device.name", "GPU"));
        else
            snprintf(lab, sizeof lab, "%s (%s, %.0f thread%s)", str(p, "case", "?"),
                     str(p, "backend", "openmp"), num(p, "threads"),
                     num(p, "threads") == 1 ? "" : "s");
        if (plot_add_bars(f, lab, v, np, e) < 0) return BRAGG_ERR;
    }
    return plot_set_axes(f, several_cases ? "step component (note: ns per step per thread; "
                                            "openmp and cuda: one --case shows every backend)"
                                          : "step component (note: ns per step per thread)",
                         NULL, "share of step time", "%", e);
}

int figures_from_bench(plot_figure *f, const cJSON *bench, figure_kind kind, const char *title,
                       bragg_err *e)
{
    plot_figure_init(f, PLOT_BARS);
    if (kind == FIGURE_AUTO) kind = FIGURE_BENCH;
    if (kind != FIGURE_BENCH && kind != FIGURE_PROFILE)
        return bragg_fail(e, "--kind %s: needs a run summary (bragg run --json), not a bench "
                             "record (valid here: bench, profile)", figure_kind_name(kind));
    if (figures_source(bench) != FIGURE_SOURCE_BENCH)
        return bragg_fail(e, "not a bench record (no runs array)");
    int rc = kind == FIGURE_BENCH ? bench_race(f, bench, e) : bench_profile(f, bench, e);
    char buf[512];
    if (rc == BRAGG_OK) {
        snprintf(buf, sizeof buf, "%s on %s, %.0f cores",
                 kind == FIGURE_BENCH ? "Histories per second by backend and thread count"
                                      : "Where a step's time goes",
                 str(bench, "machine.cpu", "?"), num(bench, "machine.cores"));
        rc = plot_set_title(f, title ? title : buf, e);
    }
    if (rc == BRAGG_OK) {
        snprintf(buf, sizeof buf, "bragg %s (git %s) \u00b7 %s", str(bench, "bragg_version", "?"),
                 str(bench, "git_revision", "?"), str(bench, "machine.compiler", "?"));
        rc = plot_set_footer(f, buf, e);
    }
    if (rc == BRAGG_OK) rc = add_common_meta(f, bench, kind, e);
    if (rc == BRAGG_OK) {
        snprintf(buf, sizeof buf, "%s, %.0f cores, %s", str(bench, "machine.cpu", "?"),
                 num(bench, "machine.cores"), str(bench, "machine.compiler", "?"));
        rc = plot_add_meta(f, "bragg:machine", buf, e);
    }
    if (rc == BRAGG_OK) {
        char *runs = cJSON_PrintUnformatted(at(bench, kind == FIGURE_BENCH ? "runs" : "profiles"));
        rc = runs ? plot_add_meta(f, kind == FIGURE_BENCH ? "bragg:runs" : "bragg:profiles", runs, e)
                  : bragg_fail(e, "plot: out of memory");
        cJSON_free(runs);
    }
    if (rc != BRAGG_OK) plot_figure_free(f);
    return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* Dose maps                                                                                   */

/* Depth bins averaged into one column of the heat map: cairo's images stop at 32767 pixels a
 * side, and no screen shows more than a few thousand. */
#define MAP_MAX_COLUMNS 4096

static int map_heat(plot_figure *f, const cJSON *run, const dose_map *m, int log, bragg_err *e)
{
    int group = (m->n_depth + MAP_MAX_COLUMNS - 1) / MAP_MAX_COLUMNS;
    int nx = (m->n_depth + group - 1) / group, ny = m->n_lat;
    double *z = malloc((size_t)nx * ny * sizeof *z);
    if (!z) return bragg_fail(e, "plot: out of memory for a %d x %d map", nx, ny);
    for (int j = 0; j < ny; j++)
        for (int c = 0; c < nx; c++) {
            double sum = 0;
            int n = 0;
            for (int i = c * group; i < (c + 1) * group && i < m->n_depth; i++) {
                double v = m->dose[(size_t)i * m->n_lat + j];
                if (isfinite(v)) {
                    sum += v;
                    n++;
                }
            }
            z[(size_t)j * nx + c] = n ? sum / n : NAN;
        }
    if (plot_set_colour_bar(f, dose_map_quantity(m), dose_map_unit(m->kind), log, e)) {
        free(z);
        return BRAGG_ERR;
    }
    /* The lateral rows the colour scale shows (dose_map_reach, as the workbench's map view:
     * its decades below the top, 1% of it on a linear scale). An automatic grid's room for the
     * halo (a third of the range: p 150 MeV's 10 cm) is blank at those doses, and left the core
     * a strip at the bottom of an empty frame. The map file keeps every row. */
    double reach = dose_map_reach(m, log ? pow(10, -f->heat.log_decades) : 0.01);
    double extent = fmin(dose_map_extent(m), axis_nice_number(fmax(reach, m->lat_width), 0));
    int keep = (int)ceil(extent / m->lat_width - 1e-9);
    int j0 = 0, rows = ny;
    if (m->kind == MAP_XZ && 2 * keep < ny) {
        j0 = ny / 2 - keep;
        rows = 2 * keep;
    } else if (m->kind != MAP_XZ && keep < ny) {
        rows = keep;
    }
    int rc = plot_set_heatmap(f, nx, rows, 0.0, group * m->depth_width,
                              m->lat_lo + j0 * m->lat_width, m->lat_width, z + (size_t)j0 * nx, e);
    free(z);
    if (rc) return BRAGG_ERR;
    /* The core's 3 sigma (the halo's boundary, report.c), where the run knows it. */
    double *sigma = NULL;
    int n = 0;
    if (doubles(at(run, "map.halo.core_sigma_cm"), "map.halo.core_sigma_cm", &sigma, &n, e) ||
        n != m->n_depth) {
        free(sigma);
        return BRAGG_OK;   /* no overlay: the map stands alone */
    }
    /* XZ: both sides, as one line with a gap (NaN) between them. */
    int sides = m->kind == MAP_XZ ? 2 : 1, len = sides * n + sides - 1;
    double *x = malloc((size_t)len * 2 * sizeof *x);
    if (!x) {
        free(sigma);
        return bragg_fail(e, "plot: out of memory");
    }
    double *y = x + len;
    for (int s = 0; s < sides; s++) {
        for (int i = 0; i < n; i++) {
            x[s * (n + 1) + i] = (i + 0.5) * m->depth_width;
            y[s * (n + 1) + i] = (s ? -3 : 3) * sigma[i];
        }
        if (s + 1 < sides) x[s * (n + 1) + n] = y[s * (n + 1) + n] = NAN;
    }
    int k = plot_add_series(f, "3\u03c3 of the core (primaries)", len, x, y, NULL, e);
    rc = k < 0 ? BRAGG_ERR : BRAGG_OK;
    if (rc == BRAGG_OK) f->series[k].colour = 4;   /* orange: it stands out on viridis */
    free(x);
    free(sigma);
    return rc;
}

/* The lateral profile at each depth asked for. One depth is named in the title (a single curve
 * has no legend): `where` receives "10 cm (bin 10–10.01 cm)", else "". A profile without
 * dose (beyond the range) says so in its legend entry, and when every profile is empty the
 * figure's note says it, as a flat line on the axis does not. */
static int map_profiles(plot_figure *f, const dose_map *m, const figure_map_options *o,
                        char *where, size_t where_len, bragg_err *e)
{
    where[0] = '\0';
    if (o->n_depths < 1)
        return bragg_fail(e, "--kind profile-at: needs a depth (--kind profile-at 5 or 5,10)");
    double *x = malloc((size_t)m->n_lat * 2 * sizeof *x);
    if (!x) return bragg_fail(e, "plot: out of memory");
    double *y = x + m->n_lat;
    /* --log: the halo and the aura lie decades below the core. */
    f->y_log = o->log;
    for (int j = 0; j < m->n_lat; j++) x[j] = dose_map_lateral(m, j);
    int rc = BRAGG_OK, empty = 0;
    char at[96];
    for (int k = 0; k < o->n_depths && rc == BRAGG_OK; k++) {
        int i = dose_map_depth_bin(m, o->depths[k]);
        if (i < 0) {
            rc = bragg_fail(e, "--kind profile-at: %g cm is outside the map (valid: 0 to %g cm)",
                            o->depths[k], m->n_depth * m->depth_width);
            break;
        }
        int any = 0;
        for (int j = 0; j < m->n_lat; j++) {
            y[j] = m->dose[(size_t)i * m->n_lat + j];
            any |= isfinite(y[j]) && y[j] != 0;
        }
        empty += !any;
        snprintf(at, sizeof at, "%g cm (bin %g\u2013%g cm)", o->depths[k], i * m->depth_width,
                 (i + 1) * m->depth_width);
        char label[128];
        snprintf(label, sizeof label, "depth %s%s", at, any ? "" : ": no dose");
        if (plot_add_series(f, label, m->n_lat, x, y, NULL, e) < 0) rc = BRAGG_ERR;
    }
    free(x);
    if (rc == BRAGG_OK && o->n_depths == 1) snprintf(where, where_len, "%s", at);
    if (rc == BRAGG_OK && empty == o->n_depths) {
        char note[160];
        if (o->n_depths == 1) snprintf(note, sizeof note, "no dose at %s", at);
        else snprintf(note, sizeof note, "no dose at any of these depths");
        rc = plot_set_note(f, note, e);
        if (rc == BRAGG_OK) rc = plot_add_meta(f, "bragg:note", note, e);
    }
    return rc;
}

int figures_from_map(plot_figure *f, const cJSON *run, const dose_map *m, figure_kind kind,
                     const figure_map_options *o, bragg_err *e)
{
    plot_figure_init(f, kind == FIGURE_MAP ? PLOT_HEATMAP : PLOT_LINES);
    if (kind != FIGURE_MAP && kind != FIGURE_PROFILE_AT)
        return bragg_fail(e, "figures_from_map: kind %s is not a map figure",
                          figure_kind_name(kind));
    if (figures_source(run) != FIGURE_SOURCE_RUN)
        return bragg_fail(e, "not a run summary (no config or depth_curves)");
    run_info ri;
    memset(&ri, 0, sizeof ri);
    run_info_fill(&ri, run);
    const char *lateral = m->kind == MAP_RZ ? "radius" : "x";
    char buf[1024];
    int rc;
    if (kind == FIGURE_MAP) {
        rc = map_heat(f, run, m, o->log, e);
        /* The slabs' boundaries over the map, as on every depth plot. */
        if (rc == BRAGG_OK) rc = add_slab_regions(f, run, e);
        /* Depth in the run's unit, as its other figures; the lateral axis stays in cm, the
         * unit of the map's bins and of --map-radius. */
        depth_unit du = runs_depth_unit(&run, 1);
        if (rc == BRAGG_OK) figure_depths_in(f, du.per_cm);
        if (rc == BRAGG_OK) rc = plot_set_axes(f, "depth", du.symbol, lateral, "cm", e);
        snprintf(buf, sizeof buf, "%s: %s in %s, %s histories",
                 m->is_error ? "Standard error of the dose map" : "Dose map", ri.beam, ri.slabs,
                 ri.histories);
    } else {
        char where[128];
        rc = map_profiles(f, m, o, where, sizeof where, e);
        if (rc == BRAGG_OK)
            rc = plot_set_axes(f, lateral, "cm", dose_map_quantity(m), dose_map_unit(m->kind), e);
        if (where[0])
            snprintf(buf, sizeof buf, "%s at %s: %s in %s, %s histories",
                     m->is_error ? "Standard error of the lateral dose profile"
                                 : "Lateral dose profile",
                     where, ri.beam, ri.slabs, ri.histories);
        else
            snprintf(buf, sizeof buf, "%s: %s in %s, %s histories",
                     m->is_error ? "Standard errors of lateral dose profiles"
                                 : "Lateral dose profiles",
                     ri.beam, ri.slabs, ri.histories);
    }
    if (rc == BRAGG_OK) rc = plot_set_title(f, o->title ? o->title : buf, e);
    if (rc == BRAGG_OK) {
        snprintf(buf, sizeof buf, "bragg %s (git %s) \u00b7 seed %.0f \u00b7 %s map, %g mm bins",
                 str(run, "bragg_version", "?"), str(run, "git_revision", "?"),
                 num(run, "config.seed"), dose_map_kind_name(m->kind), 10 * m->lat_width);
        rc = plot_set_footer(f, buf, e);
    }
    if (rc == BRAGG_OK) rc = add_common_meta(f, run, kind, e);
    if (rc == BRAGG_OK) rc = add_run_meta(f, &ri, "bragg:", e);
    if (rc != BRAGG_OK) plot_figure_free(f);
    return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* Stopping-power tables                                                                      */

int figures_from_table(plot_figure *f, const figure_table *t, bragg_err *e)
{
    plot_figure_init(f, PLOT_LINES);
    char buf[512], val[64];
    snprintf(buf, sizeof buf, "%s in %s", t->ion, t->material);
    int rc = plot_add_series(f, "stopping power (electronic + nuclear)", t->n, t->energy,
                             t->stopping, NULL, e) < 0 ||
             plot_add_series(f, "CSDA range", t->n, t->energy, t->range, NULL, e) < 0;
    if (rc) goto fail;
    f->series[1].right_axis = 1;
    f->series[1].dashed = 1;
    f->x_log = f->y_log = f->y2_log = 1;
    const char *unit = ion_energy_unit(t->A);
    if (plot_set_axes(f, t->A == 1 ? "energy" : "energy per nucleon", unit, "mass stopping power",
                      "MeV cm\u00b2/g", e) ||
        plot_set_right_axis(f, "CSDA range", "cm", e))
        goto fail;
    snprintf(buf, sizeof buf, "%s in %s (%g g/cm\u00b3): stopping power and CSDA range", t->ion,
             t->material, t->density);
    if (plot_set_title(f, buf, e)) goto fail;
    snprintf(buf, sizeof buf, "bragg %s (git %s) \u00b7 the transport's own tables \u00b7 water I = %g eV",
             BRAGG_VERSION, BRAGG_GIT_REV, t->iwater);
    if (plot_set_footer(f, buf, e)) goto fail;
    snprintf(val, sizeof val, "bragg %s (git %s)", BRAGG_VERSION, BRAGG_GIT_REV);
    if (plot_add_meta(f, "Title", f->title, e) || plot_add_meta(f, "Software", val, e) ||
        plot_add_meta(f, "bragg:plot", "tables", e) ||
        plot_add_meta(f, "bragg:version", BRAGG_VERSION, e) ||
        plot_add_meta(f, "bragg:git_revision", BRAGG_GIT_REV, e) ||
        plot_add_meta(f, "bragg:ion", t->ion, e) || plot_add_meta(f, "bragg:material", t->material, e))
        goto fail;
    snprintf(val, sizeof val, "%g", t->iwater);
    if (plot_add_meta(f, "bragg:iwater_eV", val, e)) goto fail;
    snprintf(val, sizeof val, "%g to %g %s, %d points", t->energy[0], t->energy[t->n - 1], unit, t->n);
    if (plot_add_meta(f, "bragg:energies", val, e)) goto fail;
    return BRAGG_OK;
fail:
    plot_figure_free(f);
    return BRAGG_ERR;
}
