/*
 * cmd_plot.c - `bragg plot`: figures (PNG, SVG, PDF) from the JSON that `bragg run --json` and
 * `bragg bench --json` write. Several run files make an overlay with a legend. The map kinds
 * read the dose map (NRRD) the run's JSON names.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "assets.h"
#include "atomic_file.h"
#include "commands.h"
#include "dose_map.h"
#include "figures.h"
#include "interrupt.h"
#include "measured.h"
#include "options.h"
#include "plot.h"

typedef struct plot_args {
    plot_style style;
    figure_options fo;
    int norm_given;
    const char *measured_paths[FIGURES_MAX_MEASURED];
    int n_measured;
} plot_args;

static int set_norm(const char *value, void *ctx, bragg_err *e)
{
    ((plot_args *)ctx)->norm_given = 1;
    return figure_norm_parse(value, &((plot_args *)ctx)->fo.norm, e);
}

static int add_measured(const char *value, void *ctx, bragg_err *e)
{
    plot_args *pa = ctx;
    if (pa->n_measured == FIGURES_MAX_MEASURED)
        return bragg_fail(e, "at most %d files", FIGURES_MAX_MEASURED);
    pa->measured_paths[pa->n_measured++] = value;
    return BRAGG_OK;
}

static int set_size(const char *value, void *ctx, bragg_err *e)
{
    return plot_parse_size(value, &((plot_args *)ctx)->style, e);
}

static int set_theme(const char *value, void *ctx, bragg_err *e)
{
    return plot_parse_theme(value, &((plot_args *)ctx)->style, e);
}

static int set_kind(const char *value, void *ctx, bragg_err *e)
{
    return figure_kind_parse(value, &((plot_args *)ctx)->fo.kind, e);
}

/* Refuses a figure output that would land on another or on one of the inputs: the JSON files,
 * the --measured curves and the dose map (`map`, described as `map_what`; NULL if none). */
static int check_outputs_apart(const plot_outputs *figs, char **files, int n_files,
                               const plot_args *pa, const char *map, const char *map_what,
                               bragg_err *e)
{
    file_use uses[PLOT_FORMATS + FIGURES_MAX_RUNS + FIGURES_MAX_MEASURED + 1];
    int n = plot_outputs_uses(figs, uses);
    for (int i = 0; i < n_files && i < FIGURES_MAX_RUNS; i++)
        uses[n++] = (file_use){files[i], "an input file", 1};
    for (int i = 0; i < pa->n_measured; i++)
        uses[n++] = (file_use){pa->measured_paths[i], "a --measured file", 1};
    if (map) uses[n++] = (file_use){map, map_what, 1};
    return atomic_file_check_distinct(uses, n, e);
}

/* "5" or "5,10,15": the depths of --kind profile-at, cm. */
static int parse_depths(const char *text, figure_map_options *o, bragg_err *e)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", text);
    o->n_depths = 0;
    /* Every field between commas is a depth: "5,", ",5" and "5,,6" are refused, not read as
     * fewer depths. */
    for (char *tok = buf, *comma;; tok = comma + 1) {
        comma = strchr(tok, ',');
        if (comma) *comma = '\0';
        if (o->n_depths >= FIGURES_MAX_PROFILES)
            return bragg_fail(e, "--kind profile-at: at most %d depths", FIGURES_MAX_PROFILES);
        if (!*tok)
            return bragg_fail(e, "--kind profile-at: an empty depth in %s (valid: depths in cm, "
                                 "0 to 1e4, separated by commas: 5 or 5,10)",
                              BRAGG_QUOTED(text));
        if (parse_number(tok, "--kind profile-at: depth (cm)", 0, 1e4, &o->depths[o->n_depths++],
                         e))
            return BRAGG_ERR;
        if (!comma) break;
    }
    return BRAGG_OK;
}

/* Takes "--kind profile-at DEPTHS" out of argv: the depths are the word after the kind, which
 * the option table (one value per option) would take for a file name. */
static int take_profile_depths(int *argc, char **argv, figure_map_options *o, bragg_err *e)
{
    for (int i = 0; i + 1 < *argc; i++) {
        int kind_opt = strcmp(argv[i], "--kind") == 0 || strcmp(argv[i], "-k") == 0;
        if (!(kind_opt && strcmp(argv[i + 1], "profile-at") == 0) &&
            strcmp(argv[i], "--kind=profile-at") != 0)
            continue;
        int at = kind_opt ? i + 2 : i + 1;
        if (at >= *argc || argv[at][0] == '-')
            return bragg_fail(e, "--kind profile-at: needs the depths after it (valid: cm, 0 to "
                                 "1e4, e.g. 5 or 5,10)");
        if (parse_depths(argv[at], o, e)) return BRAGG_ERR;
        for (int k = at; k + 1 < *argc; k++) argv[k] = argv[k + 1];
        (*argc)--;
        return BRAGG_OK;
    }
    return BRAGG_OK;
}

/* Refuses a map that is not this run's (`json` names the run's file): one line naming the file
 * and the first field that differs. A run writes its JSON and its NRRD from one result, so
 * every key the file carries must agree with the JSON; a key that an older file lacks is not
 * checked. Another run's map may share the name and even the grid (the same --depth and
 * --bin), so the grid alone does not tell. */
static int check_map_of_run(const dose_map *m, const cJSON *run, const char *path,
                            const char *json, bragg_err *e)
{
    const cJSON *grid = cJSON_GetObjectItem(run, "map");
    if (!cJSON_IsObject(grid))
        return bragg_fail(e, "%s is not the map of %s: that run scored no map", BRAGG_QUOTED(path),
                          BRAGG_QUOTED(json));
    const cJSON *kind = cJSON_GetObjectItem(grid, "kind");
    const cJSON *ion = cJSON_GetObjectItem(cJSON_GetObjectItem(run, "config"), "ion");
    if (!cJSON_IsString(kind) || strcmp(kind->valuestring, dose_map_kind_name(m->kind)) != 0)
        return bragg_fail(e, "%s is not the map of %s: map kind %s there, %s in the JSON",
                          BRAGG_QUOTED(path), BRAGG_QUOTED(json), dose_map_kind_name(m->kind),
                          cJSON_IsString(kind) ? BRAGG_QUOTED(kind->valuestring) : "none");
    if (m->run.ion[0] && (!cJSON_IsString(ion) || strcmp(ion->valuestring, m->run.ion) != 0))
        return bragg_fail(e, "%s is not the map of %s: ion %s there, %s in the JSON",
                          BRAGG_QUOTED(path), BRAGG_QUOTED(json), BRAGG_QUOTED(m->run.ion),
                          cJSON_IsString(ion) ? BRAGG_QUOTED(ion->valuestring) : "none");
    /* Numbers: the JSON holds each as the double the run had (cJSON prints it to round-trip)
     * and the NRRD writes %.17g, so they agree to the last bit; a part in 1e12 is room for a
     * file written by hand. */
    struct {
        const char *name, *json_key;
        const cJSON *parent;
        double file;
    } f[] = {
        {"lateral bins", "lateral_bins", grid, m->n_lat},
        {"depth bins", "depth_bins", grid, m->n_depth},
        {"lateral bin (cm)", "lateral_bin_cm", grid, m->lat_width},
        {"lateral grid start (cm)", "lateral_min_cm", grid, m->lat_lo},
        {"depth bin (cm)", "depth_bin_cm", grid, m->depth_width},
        {"energy (MeV/u)", "energy_MeV_u", cJSON_GetObjectItem(run, "config"),
         m->run.energy_MeV_u},
        {"seed", "seed", cJSON_GetObjectItem(run, "config"), m->run.seed},
        {"histories", "histories", cJSON_GetObjectItem(run, "run"), m->run.histories},
    };
    for (size_t k = 0; k < sizeof f / sizeof f[0]; k++) {
        if (!isfinite(f[k].file)) continue;
        const cJSON *v = cJSON_GetObjectItem(f[k].parent, f[k].json_key);
        double want = cJSON_IsNumber(v) ? v->valuedouble : NAN;
        if (fabs(f[k].file - want) <= 1e-12 * fabs(want)) continue;
        char have[32], there[32];
        snprintf(there, sizeof there, "%.10g", f[k].file);
        if (isfinite(want)) snprintf(have, sizeof have, "%.10g", want);
        else snprintf(have, sizeof have, "none");
        return bragg_fail(e, "%s is not the map of %s: %s %s there, %s in the JSON",
                          BRAGG_QUOTED(path), BRAGG_QUOTED(json), f[k].name, there, have);
    }
    return BRAGG_OK;
}

/* Reads the map a run's JSON (`json`) names as `named`, into *m and its path into `path`. A run
 * names the file as given on its command line, relative to the folder it ran in; the JSON
 * usually lies beside it. So a relative name is looked for beside the JSON first (relative to
 * the JSON's folder, then the bare file name there), and only then from the current folder:
 * looking here first drew another run's map of the same name under this run's title. Of the
 * files found, the first that is this run's map (check_map_of_run) is taken; when none is,
 * the first one's mismatch is the message. */
static int read_named_map(const char *json, const cJSON *run, const char *named, char *path,
                          size_t len, dose_map *m, bragg_err *e)
{
    if (strcmp(named, "-") == 0)
        return bragg_fail(e, "%s: the run wrote its map to standard output (--map -), which "
                             "bragg plot cannot read back; give the file it was saved to with "
                             "--map FILE", BRAGG_QUOTED(json));
    char cand[3][2048];
    int n = 0;
    const char *slash = strrchr(json, '/'), *base = strrchr(named, '/');
    if (named[0] != '/' && slash) {
        int dir = (int)(slash - json);
        snprintf(cand[n++], sizeof cand[0], "%.*s/%s", dir, json, named);
        if (base) snprintf(cand[n++], sizeof cand[0], "%.*s/%s", dir, json, base + 1);
    }
    snprintf(cand[n++], sizeof cand[0], "%s", named);
    int found = -1;
    bragg_err first = {{0}};
    for (int k = 0; k < n; k++) {
        if (access(cand[k], F_OK) != 0) continue;
        bragg_err ek = {{0}};
        if (dose_map_read_nrrd(cand[k], m, &ek) == BRAGG_OK) {
            if (check_map_of_run(m, run, cand[k], json, &ek) == BRAGG_OK) {
                size_t l = strnlen(cand[k], len - 1);
                memcpy(path, cand[k], l);
                path[l] = '\0';
                return BRAGG_OK;
            }
            dose_map_free(m);
        }
        if (found < 0) {
            found = k;
            first = ek;
        }
    }
    if (found >= 0) {
        *e = first;
        return BRAGG_ERR;
    }
    if (n == 1)
        return bragg_fail(e, "%s: cannot read the map %s names: %s", BRAGG_QUOTED(named),
                          BRAGG_QUOTED(json), strerror(ENOENT));
    return bragg_fail(e, "%s names the map %s, which is neither beside it (%s) nor here (valid: "
                         "give the file with --map FILE)", BRAGG_QUOTED(json),
                      BRAGG_QUOTED(named), BRAGG_QUOTED(cand[0]));
}

/* Larger than the JSON of any run bragg writes (a million bins of iron: under 1 GB), small
 * enough that /dev/zero or a wrong file name is refused instead of filling the memory. */
#define PLOT_JSON_MAX_BYTES ((size_t)2 << 30)

/* Reads and parses a JSON file; the message names the file. */
static cJSON *load_json(const char *path, bragg_err *e)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        bragg_fail(e, "%s: cannot read: %s", BRAGG_QUOTED(path), strerror(errno));
        return NULL;
    }
    size_t cap = 1 << 16, len = 0;
    char *text = malloc(cap);
    int too_large = 0;
    while (text) {
        len += fread(text + len, 1, cap - len - 1, f);
        if (len < cap - 1) break;
        if (cap >= PLOT_JSON_MAX_BYTES) {
            too_large = 1;
            break;
        }
        char *bigger = realloc(text, cap * 2);
        if (!bigger) {
            free(text);
            text = NULL;
            break;
        }
        text = bigger;
        cap *= 2;
    }
    int read_err = ferror(f);
    fclose(f);
    if (!text) {
        bragg_fail(e, "%s: out of memory", BRAGG_QUOTED(path));
        return NULL;
    }
    if (read_err || too_large) {
        free(text);
        bragg_fail(e, "%s: %s", BRAGG_QUOTED(path),
                   too_large ? "too large for a bragg JSON file (valid: up to 2 GB)"
                             : "read error");
        return NULL;
    }
    text[len] = '\0';
    cJSON *root = figures_parse_json(text, len, path, e);
    free(text);
    return root;
}

/* Splits argv into the options (kept in order, with their values) and the file names. */
static void split_args(const option_spec *specs, int argc, char **argv, char **opts, int *n_opts,
                       char **files, int *n_files)
{
    *n_opts = *n_files = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (a[0] != '-' || strcmp(a, "-") == 0) {
            files[(*n_files)++] = argv[i];
            continue;
        }
        opts[(*n_opts)++] = argv[i];
        if (strchr(a, '=') || i + 1 >= argc) continue;
        const char *name = a[1] == '-' ? a + 2 : NULL;
        for (const option_spec *s = specs; s->name; s++)
            if (((name && strcmp(s->name, name) == 0) || (!name && s->letter == a[1] && !a[2])) &&
                option_takes_value(s)) {
                opts[(*n_opts)++] = argv[++i];
                break;
            }
    }
}

static void usage(FILE *out, const option_spec *specs)
{
    fprintf(out,
            "usage: bragg plot FILE.json [FILE2.json ...] (--png OUT.png | --svg OUT.svg | --pdf "
            "OUT.pdf) [options]\n\n"
            "Draws a figure from a run summary (bragg run --json), a bench record (bragg bench\n"
            "--json) or an SOBP (bragg sobp --json) as PNG, SVG or PDF (any of them; one\n"
            "drawing), carrying the run's configuration as metadata. Several run files are\n"
            "overlaid with a legend.\n\n"
            "kinds: dose (default for runs: depth-dose with +-1 sigma band, peak, R80 and\n"
            "falloff marked), charge (dose by particle charge: one run stacked, several runs\n"
            "overlaid as lines, a line style per run), let (dose and LET_d on a second axis),\n"
            "lateral (rms lateral spread), fluence (of primaries), yields (fragments crossing\n"
            "each depth within 10 degrees, by charge), bench (default for bench records: the\n"
            "race), profile (share of step time per component; bench records or runs made with\n"
            "--profile), bio (physical and RBE-weighted dose, RBE; runs made with --bio), sobp\n"
            "(default for SOBP records: dose, RBE or LET, the weighted pristine peaks), map (the\n"
            "dose map of a run made with --map: depth x radius or x, a colour bar, the core's 3\n"
            "sigma drawn; --log for a logarithmic scale), profile-at DEPTHS (lateral dose\n"
            "profiles of the map at depths in cm: 5 or 5,10,15). Slabs of a stack are shaded on\n"
            "every depth plot.\n\n"
            LET_DEFINITIONS "\n"
            "--measured FILE overlays a measured curve as points with error bars (format: see\n"
            "assets/measurements/, e.g. haettner-2013-c12-400-water.tsv, the GSI carbon Bragg\n"
            "curve): depth-dose files on --kind dose (normalised to the peak unless --norm says\n"
            "entrance), fragment yields on --kind yields.\n\n"
            "options:\n");
    option_print_help(out, specs);
    fprintf(out, "\nexit status: 0 ok, 1 a figure that cannot be written, 2 bad input, 130 "
                 "interrupted\n");
}

int cmd_plot(int argc, char **argv)
{
    plot_args pa;
    memset(&pa, 0, sizeof pa);
    plot_style_default(&pa.style);
    figure_options_default(&pa.fo);
    pa.fo.kind = FIGURE_AUTO;
    measured meas[FIGURES_MAX_MEASURED];
    int n_meas = 0;
    const char *title = NULL, *map_file = NULL;
    plot_outputs figs = {{0}};
    figure_map_options mo;
    memset(&mo, 0, sizeof mo);
    const option_spec specs[] = {
        FIGURE_OUTPUT_SPECS(&figs, 'o', "the figure"),
        {"kind", 'k', OPTION_CALL, &pa, 0, 0, "KIND",
         "dose, charge, let, lateral, fluence, yields, bio, bench, profile, sobp, map or "
         "profile-at DEPTHS (default: dose for runs, bench for bench records, sobp for SOBP "
         "records)",
         set_kind},
        {"norm", 0, OPTION_CALL, &pa, 0, 0, "WHAT",
         "dose as it is (none, default), relative to the entrance or to the peak (default with "
         "--measured); kinds dose, let, charge and bio", set_norm},
        {"log", 0, OPTION_FLAG, &pa.fo.log_y, 0, 0, 0,
         "logarithmic y axis (dose by charge then as lines: fragments off the zero line); "
         "map: logarithmic colour scale (four decades below the maximum); profile-at: "
         "logarithmic dose axis", 0},
        {"measured", 0, OPTION_CALL, &pa, 0, 0, "FILE",
         "overlay a measured curve with error bars (repeatable, up to 4)", add_measured},
        {"size", 0, OPTION_CALL, &pa, 0, 0, "WxH", "image size in pixels (default 1600x1000)",
         set_size},
        {"scale", 0, OPTION_DOUBLE, &pa.style.scale, 0.25, 8, "F",
         "text, lines and margins times F, like a higher dpi (default 1; 1.5-2 for slides)", 0},
        {"theme", 0, OPTION_CALL, &pa, 0, 0, "NAME", "light (default) or dark", set_theme},
        {"title", 0, OPTION_STRING, &title, 0, 0, "TEXT", "replace the title built from the run",
         0},
        {"map", 0, OPTION_STRING, &map_file, 0, 0, "FILE",
         "map kinds: the NRRD file (default: the one the run's JSON names)", 0},
        {0},
    };
    char **opts = malloc((size_t)(argc > 0 ? argc : 1) * sizeof *opts);
    char **files = malloc((size_t)(argc > 0 ? argc : 1) * sizeof *files);
    cJSON *roots[FIGURES_MAX_RUNS] = {0};
    int n_roots = 0, status = EXIT_USAGE, n_opts, n_files, help;
    plot_figure fig;
    plot_figure_init(&fig, PLOT_LINES);
    bragg_err e = {{0}};
    if (!opts || !files) {
        fprintf(stderr, "bragg plot: out of memory\n");
        status = EXIT_RUNTIME;
        goto done;
    }
    if (take_profile_depths(&argc, argv, &mo, &e)) {
        fprintf(stderr, "bragg plot: %s\n", e.msg);
        goto done;
    }
    split_args(specs, argc, argv, opts, &n_opts, files, &n_files);
    if (option_parse(specs, n_opts, opts, &help, &e)) {
        fprintf(stderr, "bragg plot: %s\n", e.msg);
        goto done;
    }
    if (help) {
        usage(stdout, specs);
        status = EXIT_OK;
        goto done;
    }
    if (title && !bragg_utf8_valid(title)) {
        fprintf(stderr, "bragg plot: --title: %s is not UTF-8 text (valid: text in UTF-8)\n",
                BRAGG_QUOTED(title));
        goto done;
    }
    if (n_files == 0) {
        fprintf(stderr, "bragg plot: no input: give a JSON file from bragg run --json or bragg "
                        "bench --json\n");
        goto done;
    }
    if (n_files > FIGURES_MAX_RUNS) {
        fprintf(stderr, "bragg plot: %d files given (valid: 1 to %d in one figure)\n", n_files,
                FIGURES_MAX_RUNS);
        goto done;
    }
    if (!plot_outputs_any(&figs)) {
        fprintf(stderr, "bragg plot: --png: missing (the file to write; or --svg, --pdf)\n");
        goto done;
    }
    if (plot_outputs_check(&figs, &e) ||
        check_outputs_apart(&figs, files, n_files, &pa, map_file, "the --map file", &e)) {
        fprintf(stderr, "bragg plot: %s\n", e.msg);
        goto done;
    }
    int n_bench = 0, n_sobp = 0;
    for (int i = 0; i < n_files; i++) {
        if (!(roots[n_roots] = load_json(files[i], &e))) {
            fprintf(stderr, "bragg plot: %s\n", e.msg);
            goto done;
        }
        figure_source src = figures_source(roots[n_roots]);
        n_roots++;
        if (src == FIGURE_SOURCE_UNKNOWN) {
            fprintf(stderr, "bragg plot: %s: neither a run summary (bragg run --json), a "
                            "bench record (bragg bench --json) nor an SOBP (bragg sobp "
                            "--json)\n", BRAGG_QUOTED(files[i]));
            goto done;
        }
        n_bench += src == FIGURE_SOURCE_BENCH;
        n_sobp += src == FIGURE_SOURCE_SOBP;
    }
    if ((n_bench || n_sobp) && n_files > 1) {
        fprintf(stderr, "bragg plot: a %s is plotted alone (got %d files)\n",
                n_bench ? "bench record" : "SOBP record", n_files);
        goto done;
    }
    if (n_sobp && pa.fo.kind != FIGURE_AUTO && pa.fo.kind != FIGURE_SOBP) {
        fprintf(stderr, "bragg plot: --kind %s: an SOBP record draws as --kind sobp\n",
                figure_kind_name(pa.fo.kind));
        goto done;
    }
    int map_kind = pa.fo.kind == FIGURE_MAP || pa.fo.kind == FIGURE_PROFILE_AT;
    if (map_kind && (n_bench || n_sobp || n_files > 1)) {
        fprintf(stderr, "bragg plot: --kind %s: draws one run's map (got %s)\n",
                figure_kind_name(pa.fo.kind),
                n_bench ? "a bench record" : n_sobp ? "an SOBP record" : "several files");
        goto done;
    }
    if ((n_bench || n_sobp || map_kind) && pa.n_measured) {
        fprintf(stderr, "bragg plot: --measured: goes with depth curves of runs, not %s\n",
                n_bench ? "a bench record" : n_sobp ? "an SOBP record" : "a dose map");
        goto done;
    }
    /* Only depth-dose curves have an entrance and a Bragg peak to divide by: elsewhere (a
     * lateral profile, a map, a fluence, a bench or SOBP record) --norm was dropped without a
     * word. */
    int k = pa.fo.kind;
    int norm_applies = k == FIGURE_DOSE || k == FIGURE_LET || k == FIGURE_CHARGE ||
                       k == FIGURE_BIO || (k == FIGURE_AUTO && !n_bench && !n_sobp);
    if (pa.norm_given && !norm_applies) {
        fprintf(stderr, "bragg plot: --norm: applies to --kind dose, let, charge and bio, not "
                        "%s%s\n", k == FIGURE_AUTO ? "" : "--kind ",
                k == FIGURE_AUTO ? (n_bench ? "a bench record" : "an SOBP record")
                                 : figure_kind_name(k));
        goto done;
    }
    if (map_file && !map_kind) {
        fprintf(stderr, "bragg plot: --map: for --kind map or profile-at\n");
        goto done;
    }
    for (; n_meas < pa.n_measured; n_meas++) {
        if (measured_load(&meas[n_meas], pa.measured_paths[n_meas], &e)) {
            fprintf(stderr, "bragg plot: --measured: %s\n", e.msg);
            goto done;
        }
        pa.fo.measured[n_meas] = &meas[n_meas];
    }
    pa.fo.n_measured = n_meas;
    /* Measured curves are mostly relative (an ionisation chamber's signal): compare shapes. */
    if (n_meas && !pa.norm_given) pa.fo.norm = FIGURE_NORM_PEAK;
    pa.fo.title = title;
    int rc;
    if (map_kind) {
        /* The map the run wrote: --map, or the file its JSON names; either must be this
         * run's. */
        const cJSON *named = cJSON_GetObjectItem(cJSON_GetObjectItem(roots[0], "map"), "file");
        char path[2048];
        dose_map m;
        if (map_file) {
            snprintf(path, sizeof path, "%s", map_file);
            if (dose_map_read_nrrd(path, &m, &e)) {
                fprintf(stderr, "bragg plot: %s\n", e.msg);
                goto done;
            }
            if (check_map_of_run(&m, roots[0], path, files[0], &e)) {
                fprintf(stderr, "bragg plot: %s\n", e.msg);
                dose_map_free(&m);
                goto done;
            }
        } else if (!cJSON_IsString(named)) {
            fprintf(stderr, "bragg plot: %s: this run has no dose map file (run it with --map "
                            "FILE, or name the file with --map)\n", BRAGG_QUOTED(files[0]));
            goto done;
        } else if (read_named_map(files[0], roots[0], named->valuestring, path, sizeof path, &m,
                                  &e)) {
            fprintf(stderr, "bragg plot: %s\n", e.msg);
            goto done;
        } else if (check_outputs_apart(&figs, files, 0, &pa, path,
                                       "the map the run's JSON names", &e)) {
            fprintf(stderr, "bragg plot: %s\n", e.msg);
            dose_map_free(&m);
            goto done;
        }
        mo.title = title;
        mo.log = pa.fo.log_y;
        rc = figures_from_map(&fig, roots[0], &m, pa.fo.kind, &mo, &e);
        dose_map_free(&m);
    } else
        rc = n_bench  ? figures_from_bench(&fig, roots[0], pa.fo.kind, title, &e)
             : n_sobp ? figures_from_sobp(&fig, roots[0], title, &e)
                      : figures_from_runs(&fig, (const cJSON *const *)roots, n_roots, &pa.fo, &e);
    if (rc) {
        fprintf(stderr, "bragg plot: %s%s%s\n", n_files == 1 ? BRAGG_QUOTED(files[0]) : "",
                n_files == 1 ? ": " : "", e.msg);
        goto done;
    }
    interrupt_begin_work();
    /* The paths were checked before (plot_outputs_check): a figure that cannot be written now
     * (a full disk) is a run-time failure, exit 1, as in run, bench and sobp. */
    if (plot_outputs_write(&fig, &pa.style, &figs, &e)) {
        fprintf(stderr, "bragg plot: %s\n", e.msg);
        status = EXIT_RUNTIME;
        goto done;
    }
    status = EXIT_OK;
done:
    plot_figure_free(&fig);
    for (int i = 0; i < n_meas; i++) measured_free(&meas[i]);
    for (int i = 0; i < n_roots; i++) cJSON_Delete(roots[i]);
    free(opts);
    free(files);
    return status;
}
