/*
 * test_plot.c - figures: nice-number ticks, and PNGs decoded back with libpng: their size,
 * the run's configuration in the text chunks, the drawn Bragg peak in the column of the
 * reported peak depth, not blank; the same figure as SVG (parsed with libxml2: well-formed, the
 * curve's path with its peak where the PNG has it, the metadata) and PDF (header, one page,
 * cross-reference table, title); dose maps as heat maps with a colour bar, their hottest cell
 * where the run's map has its maximum, and lateral profiles; and failed writes (no folder,
 * full disk) that leave nothing behind and exit 2 naming the path.
 *
 * The CLI cases run the binary named by $BRAGG_BIN (the Makefile sets it).
 */
#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <math.h>
#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "axis_ticks.h"
#include "dose_map.h"
#include "figures.h"
#include "measured.h"
#include "plot.h"
#include "testkit.h"

/* ------------------------------------------------------------------------------------------ */
/* Helpers                                                                                     */

typedef struct image {
    int width, height;
    unsigned char *rgba;   /* width * height * 4 */
    int n_text;
    char keys[64][80];
    char *values[64];
} image;

/* Decodes a PNG with libpng (independently of the writer): pixels as RGBA, and the text
 * chunks (tEXt, zTXt, iTXt). */
static void image_read(const char *path, image *im)
{
    memset(im, 0, sizeof *im);
    FILE *f = fopen(path, "rb");
    cr_assert(f, "cannot open %s", path);
    unsigned char sig[8];
    cr_assert(fread(sig, 1, 8, f) == 8 && png_sig_cmp(sig, 0, 8) == 0, "%s is not a PNG", path);
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    cr_assert(png && info);
    if (setjmp(png_jmpbuf(png))) cr_assert_fail("libpng could not decode %s", path);
    png_init_io(png, f);
    png_set_sig_bytes(png, 8);
    png_read_png(png, info, PNG_TRANSFORM_EXPAND | PNG_TRANSFORM_STRIP_16, NULL);
    im->width = (int)png_get_image_width(png, info);
    im->height = (int)png_get_image_height(png, info);
    cr_assert(png_get_color_type(png, info) == PNG_COLOR_TYPE_RGB_ALPHA, "not RGBA");
    png_bytepp rows = png_get_rows(png, info);
    im->rgba = malloc((size_t)im->width * im->height * 4);
    for (int y = 0; y < im->height; y++) memcpy(im->rgba + (size_t)y * im->width * 4, rows[y], (size_t)im->width * 4);
    png_textp text;
    int n = 0;
    png_get_text(png, info, &text, &n);
    for (int i = 0; i < n && i < 64; i++) {
        snprintf(im->keys[i], sizeof im->keys[i], "%s", text[i].key);
        im->values[i] = strdup(text[i].text ? text[i].text : "");
    }
    im->n_text = n < 64 ? n : 64;
    png_destroy_read_struct(&png, &info, NULL);
    fclose(f);
}

static void image_free(image *im)
{
    free(im->rgba);
    for (int i = 0; i < im->n_text; i++) free(im->values[i]);
}

static const char *image_text(const image *im, const char *key)
{
    for (int i = 0; i < im->n_text; i++)
        if (strcmp(im->keys[i], key) == 0) return im->values[i];
    return NULL;
}

static const unsigned char *pixel(const image *im, int x, int y)
{
    return im->rgba + ((size_t)y * im->width + x) * 4;
}

/* Not blank: many colours, and a fair share of pixels that differ from the corner's. */
static void expect_not_blank(const image *im)
{
    const unsigned char *bg = pixel(im, 0, 0);
    long differ = 0;
    int colours = 0;
    unsigned seen[64] = {0};   /* a coarse colour histogram: 4 levels per channel */
    for (int y = 0; y < im->height; y++)
        for (int x = 0; x < im->width; x++) {
            const unsigned char *p = pixel(im, x, y);
            if (abs(p[0] - bg[0]) + abs(p[1] - bg[1]) + abs(p[2] - bg[2]) > 30) differ++;
            seen[(p[0] >> 6) * 16 + (p[1] >> 6) * 4 + (p[2] >> 6)] = 1;
        }
    for (int i = 0; i < 64; i++) colours += seen[i];
    double share = (double)differ / ((double)im->width * im->height);
    cr_expect(share > 0.005 && share < 0.6, "%.4f of the pixels differ from the background", share);
    cr_expect(colours >= 4, "only %d coarse colours", colours);
}

/* A run whose figures describe no Bragg peak (results.note) gets no peak, R80 or falloff
 * marks: p 100 MeV (7.7 cm of range) through 5 cm of water; the same beam in a water block
 * gets all three. */
Test(plot_cli, no_peak_marked_where_the_run_has_none)
{
    char dir[64], args[512], out[4096], path[256];
    testkit_temp_dir(dir, sizeof dir, "plot");
    const char *geometry[2] = {"--slab water:5", "--material water"};
    const int want[2] = {0, 3};
    for (int k = 0; k < 2; k++) {
        snprintf(path, sizeof path, "%s/run%d.json", dir, k);
        snprintf(args, sizeof args, "run --ion p --energy 100 %s -n 1000 -q --json %s",
                 geometry[k], path);
        int rc = testkit_cli(args, out, sizeof out);
        cr_assert(rc == 0, "exit %d: %s", rc, out);
        cJSON *run = testkit_read_json(path);
        cr_expect(cJSON_IsString(cJSON_GetObjectItem(cJSON_GetObjectItem(run, "results"), "note"))
                      == (want[k] == 0), "%s: results.note", geometry[k]);
        figure_options fo;
        figure_options_default(&fo);
        plot_figure f;
        bragg_err e = {{0}};
        cr_assert(figures_from_runs(&f, (const cJSON *const *)&run, 1, &fo, &e) == 0, "%s",
                  e.msg);
        cr_expect(f.n_markers == want[k], "%s: %d markers", geometry[k], f.n_markers);
        plot_figure_free(&f);
        cJSON_Delete(run);
    }
    testkit_remove_dir(dir);
}

/* A range under 1 mm is marked in um (the summary's units, src/output/depth_unit.h): p 1 MeV's
 * peak, 22.7 um deep (0.92 of its 24.6 um CSDA depth), was marked "peak 0.00 cm", its falloff
 * "0.00 mm". */
Test(plot_cli, short_ranges_are_marked_in_their_unit)
{
    char dir[64], args[512], out[4096], path[256];
    testkit_temp_dir(dir, sizeof dir, "plot");
    snprintf(path, sizeof path, "%s/p1.json", dir);
    snprintf(args, sizeof args, "run --ion p --energy 1 --material water -n 1000 -q --json %s",
             path);
    int rc = testkit_cli(args, out, sizeof out);
    cr_assert(rc == 0, "exit %d: %s", rc, out);
    cJSON *run = testkit_read_json(path);
    figure_options fo;
    figure_options_default(&fo);
    plot_figure f;
    bragg_err e = {{0}};
    cr_assert(figures_from_runs(&f, (const cJSON *const *)&run, 1, &fo, &e) == 0, "%s", e.msg);
    cr_assert_eq(f.n_markers, 3);
    double peak = NAN, r80 = NAN, fall = NAN;
    cr_expect(sscanf(f.markers[0].label, "peak %lf \u00b5m", &peak) == 1 && peak > 15 && peak < 25,
              "%s", f.markers[0].label);
    cr_expect(sscanf(f.markers[1].label, "R80 %lf \u00b5m", &r80) == 1 && r80 > peak && r80 < 25,
              "%s", f.markers[1].label);
    const char *at = strstr(f.markers[2].label, "falloff ");
    cr_expect(at && sscanf(at, "falloff %lf \u00b5m", &fall) == 1 && fall > 0.1 && fall < 10,
              "%s", f.markers[2].label);
    plot_figure_free(&f);
    cJSON_Delete(run);
    testkit_remove_dir(dir);
}

/* Lays a figure of `json` out in-process with `o`, for its mapping. */
static plot_frame layout_of(cJSON *const *runs, int n, const figure_options *o, plot_figure *f)
{
    bragg_err e = {{0}};
    cr_assert(figures_from_runs(f, (const cJSON *const *)runs, n, o, &e) == 0, "%s", e.msg);
    plot_style st;
    plot_style_default(&st);
    cairo_surface_t *surf;
    plot_frame fr;
    cr_assert(plot_render(f, &st, &surf, &fr, &e) == 0, "%s", e.msg);
    cairo_surface_destroy(surf);
    return fr;
}

/* The frame (plot area and axis ranges) of a run's default figure, laid out in-process as
 * `bragg plot` lays it out; the figure is left in *f for the caller (plot_figure_free). */
static plot_frame default_frame(const cJSON *run, plot_figure *f)
{
    figure_options fo;
    figure_options_default(&fo);
    cJSON *runs[1] = {(cJSON *)run};
    return layout_of(runs, 1, &fo, f);
}

/* The column where the curve drawn in `rgb` reaches highest in the plot area (outside the
 * legend): the topmost matching pixel of each column, and the middle of the columns that
 * share the highest one. -1 when the colour is nowhere. */
static double curve_peak_column(const image *im, const plot_frame *fr, const double rgb[3])
{
    int x0 = (int)fr->area.x + 2, x1 = (int)(fr->area.x + fr->area.w) - 2;
    int y0 = (int)fr->area.y + 2, y1 = (int)(fr->area.y + fr->area.h) - 2;
    int best = im->height, first = -1, last = -1;
    for (int x = x0; x < x1; x++) {
        for (int y = y0; y < y1; y++) {
            if (fr->has_legend && x >= fr->legend.x - 2 && x <= fr->legend.x + fr->legend.w + 2 &&
                y >= fr->legend.y - 2 && y <= fr->legend.y + fr->legend.h + 2)
                continue;
            const unsigned char *p = pixel(im, x, y);
            int d = abs(p[0] - (int)lround(255 * rgb[0])) + abs(p[1] - (int)lround(255 * rgb[1])) +
                    abs(p[2] - (int)lround(255 * rgb[2]));
            if (d > 40) continue;
            if (y < best) {
                best = y;
                first = last = x;
            } else if (y == best) {
                last = x;
            }
            break;
        }
    }
    return first < 0 ? -1 : 0.5 * (first + last) + 0.5;
}

/* Files in `dir` whose name contains `part`. */
static int count_files(const char *dir, const char *part)
{
    char cmd[1200], out[64];
    snprintf(cmd, sizeof cmd, "ls -a %s | grep -c -- '%s'", dir, part);
    testkit_shell(cmd, out, sizeof out);
    return atoi(out);
}

/* ------------------------------------------------------------------------------------------ */
/* Nice numbers                                                                                */

Test(plot, nice_ticks_follow_heckbert)
{
    axis_ticks t;
    axis_ticks_nice(-3.7, 12.2, 6, &t);   /* range 15.9 -> 20; 20/5 = 4 -> step 5 */
    cr_expect(t.step == 5 && t.lo == -5 && t.hi == 15 && t.count == 5, "%g %g %g %d", t.lo,
              t.hi, t.step, t.count);
    axis_ticks_nice(0, 32.05, 5, &t);     /* 50 / 4 = 12.5 -> 10 */
    cr_expect(t.step == 10 && t.lo == 0 && t.hi == 40 && t.decimals == 0);
    axis_ticks_nice(0, 1, 6, &t);         /* 1 / 5 = 0.2 */
    cr_expect(fabs(t.step - 0.2) < 1e-15 && t.decimals == 1 && t.count == 6);
    cr_expect(axis_tick_value(&t, 3) == 0.6000000000000001 || fabs(axis_tick_value(&t, 3) - 0.6) < 1e-15);
    axis_ticks_nice(2.1e-9, 1.93e-7, 8, &t);
    cr_expect(t.lo <= 2.1e-9 && t.hi >= 1.93e-7);
    cr_expect(axis_tick_value(&t, 0) == 0, "first tick %g is exactly 0", axis_tick_value(&t, 0));
    /* Every range: covering, ticks on multiples of a 1-2-5 step, a sensible count. */
    for (double lo = -1234.5; lo < 1e4; lo = lo * -1.7 + 3.1) {
        for (int target = 3; target <= 12; target++) {
            double hi = lo + fabs(lo) * 0.37 + 0.013;
            axis_ticks_nice(lo, hi, target, &t);
            double mant = t.step / pow(10, floor(log10(t.step)));
            cr_expect(fabs(mant - 1) < 1e-9 || fabs(mant - 2) < 1e-9 || fabs(mant - 5) < 1e-9,
                      "step %g", t.step);
            cr_expect(t.lo <= lo && t.hi >= hi, "[%g, %g] does not cover [%g, %g]", t.lo, t.hi, lo, hi);
            cr_expect(t.count >= 2 && t.count <= 2 * target + 2, "%d ticks for %d", t.count, target);
            cr_expect(fabs(t.lo / t.step - round(t.lo / t.step)) < 1e-6);
        }
        if (fabs(lo) > 1e4) break;
    }
    /* An axis ending at its data: three ticks inside at least (0 and 50 on a 53 um axis
     * left one label), unless the count allowed stops it. */
    axis_ticks_inside(53, 4, 9, &t);
    cr_expect(t.step == 20 && axis_tick_value(&t, 2) <= 53, "step %g", t.step);
    axis_ticks_inside(53, 4, 4, &t);
    cr_expect(t.step == 50, "step %g: more ticks than allowed", t.step);
    axis_ticks_nice(5, 5, 5, &t);   /* flat */
    cr_expect(t.lo < 5 && t.hi > 5);
    axis_ticks_nice(NAN, 1, 5, &t);
    cr_expect(t.lo == 0 && t.hi == 1);
}

/* ------------------------------------------------------------------------------------------ */
/* The renderer on its own                                                                     */

/* A synthetic peak at a known place is drawn at plot_x_to_pixel of that place, and not
 * anywhere else: the column finder used below is real. */
Test(plot, synthetic_peak_lands_in_its_column)
{
    enum { N = 801 };
    double x[N], y[N], err[N];
    for (int i = 0; i < N; i++) {
        x[i] = 10.0 * i / (N - 1);
        y[i] = 1 + 4 * exp(-0.5 * pow((x[i] - 7.3) / 0.15, 2));
        err[i] = 0.05;
    }
    y[100] = NAN;   /* a gap is allowed */
    plot_figure f;
    plot_figure_init(&f, PLOT_LINES);
    bragg_err e = {{0}};
    cr_assert(plot_add_series(&f, "synthetic", N, x, y, err, &e) == 0, "%s", e.msg);
    cr_assert(plot_set_axes(&f, "depth", "cm", "dose", "Gy", &e) == 0);
    cr_assert(plot_set_title(&f, "synthetic peak", &e) == 0);
    cr_assert(plot_add_marker(&f, 7.3, NAN, "peak 7.30 cm", &e) >= 0);
    cr_assert(plot_add_meta(&f, "Title", "synthetic peak", &e) == 0);
    cr_assert(plot_add_meta(&f, "bragg:note", "\u00b1 non-ASCII goes to iTXt", &e) == 0);
    plot_style st;
    plot_style_default(&st);
    st.width = 1000;
    st.height = 640;
    char dir[64], path[128];
    testkit_temp_dir(dir, sizeof dir, "plot");
    snprintf(path, sizeof path, "%s/s.png", dir);
    plot_frame fr;
    cr_assert(plot_write(&f, &st, PLOT_FORMAT_PNG, path, "--png", &fr, &e) == 0, "%s", e.msg);
    image im;
    image_read(path, &im);
    cr_expect(im.width == 1000 && im.height == 640);
    cr_expect(strcmp(image_text(&im, "bragg:note") ? image_text(&im, "bragg:note") : "",
                     "\u00b1 non-ASCII goes to iTXt") == 0);
    expect_not_blank(&im);
    double rgb[3];
    plot_palette_colour(st.theme, 0, rgb);
    double col = curve_peak_column(&im, &fr, rgb);
    double want = plot_x_to_pixel(&fr, 7.3);
    cr_expect(fabs(col - want) <= 2, "peak drawn in column %.1f, expected %.1f", col, want);
    cr_expect(fabs(col - plot_x_to_pixel(&fr, 5.0)) > 50);
    /* The curve's top is where the mapping puts y = 5. */
    cr_expect(plot_y_to_pixel(&fr, 5) > fr.area.y && plot_y_to_pixel(&fr, 5) < fr.area.y + fr.area.h);
    image_free(&im);
    plot_figure_free(&f);
    testkit_remove_dir(dir);
}

Test(plot, size_and_theme_parsing)
{
    plot_style s;
    plot_style_default(&s);
    bragg_err e = {{0}};
    cr_expect(plot_parse_size("800x500", &s, &e) == 0 && s.width == 800 && s.height == 500);
    cr_expect(plot_parse_size("800", &s, &e) != 0 && strstr(e.msg, "WxH"));
    cr_expect(plot_parse_size("100x100", &s, &e) != 0 && strstr(e.msg, "width 320"));
    cr_expect(plot_parse_size("800x500px", &s, &e) != 0);
    cr_expect(plot_parse_theme("dark", &s, &e) == 0 && s.theme == PLOT_THEME_DARK);
    cr_expect(plot_parse_theme("blue", &s, &e) != 0 && strstr(e.msg, "light, dark"));
}

/* ------------------------------------------------------------------------------------------ */
/* A real run, through the CLI                                                                 */

TestSuite(plot_cli, .timeout = 120);

/* Issue acceptance: a run's PNG has the default size, the configuration in its text chunks,
 * its drawn peak in the column of the reported peak depth (within a bin width or 2 px), is
 * not blank; --all writes the CSV and JSON beside it, and `bragg plot` of that JSON draws the
 * very same image. Without nuclear interactions the charge plot says why it cannot be drawn. */
Test(plot_cli, run_png_carries_config_and_peak)
{
    char dir[64], args[1024], out[16384], path[256];
    testkit_temp_dir(dir, sizeof dir, "plot");
    snprintf(args, sizeof args,
             "run --ion C-12 --energy 400 --material water -n 3000 --seed 7 --backend serial --no-nuclear "
             "--png %s/fig.png --all -q", dir);
    int rc = testkit_cli(args, out, sizeof out);
    cr_assert(rc == 0, "exit %d: %s", rc, out);
    snprintf(path, sizeof path, "%s/fig.json", dir);
    cJSON *run = testkit_read_json(path);
    snprintf(path, sizeof path, "%s/fig.csv", dir);
    cr_expect(access(path, R_OK) == 0, "--all wrote no CSV");
    cr_expect(count_files(dir, "tmp") == 0, "temporary files left behind");

    snprintf(path, sizeof path, "%s/fig.png", dir);
    image im;
    image_read(path, &im);
    cr_expect(im.width == 1600 && im.height == 1000, "%dx%d", im.width, im.height);
    const char *v;
    cr_expect((v = image_text(&im, "bragg:ion")) && strcmp(v, "C-12") == 0);
    cr_expect((v = image_text(&im, "bragg:energy_MeV_u")) && strcmp(v, "400") == 0);
    cr_expect((v = image_text(&im, "bragg:material")) && strcmp(v, "water") == 0);
    cr_expect((v = image_text(&im, "bragg:histories")) && strcmp(v, "3000 of 3000") == 0, "%s", v);
    cr_expect((v = image_text(&im, "bragg:seed")) && strcmp(v, "7") == 0);
    /* One thread, in the singular ("serial, 1 threads" before). */
    cr_expect((v = image_text(&im, "bragg:backend")) && strcmp(v, "serial, 1 thread") == 0,
              "%s", v);
    cr_expect((v = image_text(&im, "bragg:physics")) && strstr(v, "straggling on") &&
              strstr(v, "multiple_scattering on"), "%s", v);
    /* The version and revision of the bragg that made the run (as its JSON says). */
    const char *rev = cJSON_GetObjectItem(run, "git_revision")->valuestring;
    cr_expect((v = image_text(&im, "bragg:version")) && strcmp(v, BRAGG_VERSION) == 0);
    cr_expect((v = image_text(&im, "bragg:git_revision")) && strlen(rev) >= 7 && strcmp(v, rev) == 0,
              "%s vs %s", v, rev);
    cr_expect((v = image_text(&im, "Title")) && strstr(v, "C-12 400 MeV/u in water, 3000 histories"),
              "%s", v);
    /* The whole configuration, as JSON, equal to the run's. */
    v = image_text(&im, "bragg:config");
    cr_assert(v);
    cJSON *cfg = cJSON_Parse(v);
    cr_assert(cfg, "bragg:config is not JSON");
    cr_expect(cJSON_Compare(cfg, cJSON_GetObjectItem(run, "config"), 1));
    cJSON_Delete(cfg);
    expect_not_blank(&im);

    /* Where the peak should be: the same figure laid out in-process gives the mapping. */
    plot_figure f;
    plot_frame fr = default_frame(run, &f);
    cr_expect(f.footer && strstr(f.footer, " \u00b7 serial, 1 thread \u00b7 seed 7"), "footer %s",
              f.footer);
    plot_figure_free(&f);
    cJSON *res = cJSON_GetObjectItem(run, "results");
    double peak = cJSON_GetObjectItem(res, "peak_depth_cm")->valuedouble;
    double bin = cJSON_GetObjectItem(cJSON_GetObjectItem(run, "config"), "bin_width_cm")->valuedouble;
    double tol = fmax(2.0, bin * fr.area.w / (fr.x_hi - fr.x_lo));
    double rgb[3];
    plot_palette_colour(PLOT_THEME_LIGHT, 0, rgb);
    double col = curve_peak_column(&im, &fr, rgb);
    double want = plot_x_to_pixel(&fr, peak);
    cr_expect(fabs(col - want) <= tol, "peak drawn at column %.1f, reported peak %.3f cm is at "
                                       "%.1f (tolerance %.1f px)", col, peak, want, tol);
    image_free(&im);

    /* bragg plot of the JSON: the same picture, byte for byte. */
    snprintf(args, sizeof args, "plot %s/fig.json --png %s/again.png", dir, dir);
    rc = testkit_cli(args, out, sizeof out);
    cr_assert(rc == 0, "exit %d: %s", rc, out);
    char cmd[512];
    snprintf(cmd, sizeof cmd, "cmp -s %s/fig.png %s/again.png", dir, dir);
    cr_expect(system(cmd) == 0, "bragg plot of the run's JSON draws a different PNG");

    /* Other sizes, scale and the dark theme. */
    snprintf(args, sizeof args,
             "plot %s/fig.json --png %s/small.png --size 800x500 --scale 1.5 --theme dark "
             "--kind let", dir, dir);
    rc = testkit_cli(args, out, sizeof out);
    cr_assert(rc == 0, "exit %d: %s", rc, out);
    snprintf(path, sizeof path, "%s/small.png", dir);
    image_read(path, &im);
    cr_expect(im.width == 800 && im.height == 500);
    cr_expect(pixel(&im, 2, 2)[0] < 60, "dark theme, light background");
    expect_not_blank(&im);
    image_free(&im);

    /* Overlay of two runs gets a legend entry each and per-run metadata. */
    snprintf(args, sizeof args,
             "plot %s/fig.json %s/fig.json --kind lateral --png %s/two.png", dir, dir, dir);
    rc = testkit_cli(args, out, sizeof out);
    cr_assert(rc == 0, "exit %d: %s", rc, out);
    snprintf(path, sizeof path, "%s/two.png", dir);
    image_read(path, &im);
    cr_expect(image_text(&im, "bragg:run2:ion") != NULL);
    image_free(&im);

    /* No dose-by-charge data in a run without nuclear interactions: a clear message. */
    snprintf(args, sizeof args, "plot %s/fig.json --kind charge --png %s/c.png", dir, dir);
    rc = testkit_cli(args, out, sizeof out);
    cr_expect(rc == 2 && strstr(out, "no dose-by-charge data (run with nuclear interactions on)"),
              "exit %d: %s", rc, out);
    cJSON_Delete(run);
    testkit_remove_dir(dir);
}

/* The stacked dose-by-charge figure, from a run JSON given the field nuclear runs will write. */
Test(plot_cli, dose_by_charge_stacks)
{
    char dir[64], args[1024], out[16384], path[256];
    testkit_temp_dir(dir, sizeof dir, "plot");
    snprintf(args, sizeof args,
             "run --ion C-12 --energy 200 --material water -n 500 --json %s/r.json -q", dir);
    cr_assert(testkit_cli(args, out, sizeof out) == 0, "%s", out);
    snprintf(path, sizeof path, "%s/r.json", dir);
    cJSON *run = testkit_read_json(path);
    cJSON *curves = cJSON_GetObjectItem(run, "depth_curves");
    cJSON *dose = cJSON_GetObjectItem(curves, "dose_Gy_cm2");
    int n = cJSON_GetArraySize(dose);
    /* Known shares instead of the run's own split, so the stacking can be checked. */
    cJSON_DeleteItemFromObject(curves, "dose_by_charge_Gy_cm2");
    cJSON *by = cJSON_AddObjectToObject(curves, "dose_by_charge_Gy_cm2");
    static const char *keys[] = {"primary", "1", "2", "5"};
    static const double share[] = {0.85, 0.08, 0.05, 0.02};
    for (int k = 0; k < 4; k++) {
        cJSON *a = cJSON_AddArrayToObject(by, keys[k]);
        for (int i = 0; i < n; i++) {
            cJSON *d = cJSON_GetArrayItem(dose, i);
            cJSON_AddItemToArray(a, cJSON_IsNumber(d) ? cJSON_CreateNumber(share[k] * d->valuedouble)
                                                      : cJSON_CreateNull());
        }
    }
    char *text = cJSON_Print(run);
    snprintf(path, sizeof path, "%s/nuc.json", dir);
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
    cJSON_free(text);
    cJSON_Delete(run);
    snprintf(args, sizeof args, "plot %s --kind charge --png %s/c.png", path, dir);
    int rc = testkit_cli(args, out, sizeof out);
    cr_assert(rc == 0, "exit %d: %s", rc, out);
    image im;
    snprintf(path, sizeof path, "%s/c.png", dir);
    image_read(path, &im);
    cr_expect(strcmp(image_text(&im, "bragg:plot"), "charge") == 0);
    expect_not_blank(&im);
    image_free(&im);
    testkit_remove_dir(dir);
}

/* Bench records: the race and the profile bars. */
Test(plot_cli, bench_race_and_profile)
{
    char dir[64], args[1024], out[16384], path[256];
    testkit_temp_dir(dir, sizeof dir, "plot");
    snprintf(path, sizeof path, "%s/bench.json", dir);
    FILE *f = fopen(path, "w");
    cr_assert(f);
    fputs("{\"schema_version\":1,\"bragg_version\":\"0.1.0\",\"git_revision\":\"abc1234\","
          "\"machine\":{\"cpu\":\"Test CPU\",\"cores\":4,\"compiler\":\"cc\"},"
          "\"runs\":[{\"case\":\"c12-400-water\",\"backend\":\"serial\",\"threads\":1,"
          "\"histories_per_s\":30000,\"speedup\":1},"
          "{\"case\":\"c12-400-water\",\"backend\":\"openmp\",\"threads\":4,"
          "\"histories_per_s\":110000,\"speedup\":3.67},"
          "{\"case\":\"p-150-water\",\"backend\":\"serial\",\"threads\":1,"
          "\"histories_per_s\":40000,\"speedup\":1},"
          "{\"case\":\"p-150-water\",\"backend\":\"openmp\",\"threads\":4,"
          "\"histories_per_s\":150000,\"speedup\":3.75}],"
          "\"profiles\":[{\"case\":\"c12-400-water\",\"threads\":4,"
          "\"RNG\":{\"share\":0.5,\"ns_per_step\":100},\"scoring\":{\"share\":0.3,\"ns_per_step\":60},"
          "\"nuclear\":{\"share\":null,\"ns_per_step\":null},"
          "\"other\":{\"share\":0.2,\"ns_per_step\":40}}]}", f);
    fclose(f);
    snprintf(args, sizeof args, "plot %s --png %s/race.png --size 1200x800", path, dir);
    int rc = testkit_cli(args, out, sizeof out);
    cr_assert(rc == 0, "exit %d: %s", rc, out);
    image im;
    char png[256];
    snprintf(png, sizeof png, "%s/race.png", dir);
    image_read(png, &im);
    cr_expect(im.width == 1200 && im.height == 800);
    cr_expect(strstr(image_text(&im, "bragg:machine"), "Test CPU") != NULL);
    expect_not_blank(&im);
    /* Both backends' colours appear (the bars). */
    for (int c = 0; c < 2; c++) {
        double rgb[3];
        plot_palette_colour(PLOT_THEME_LIGHT, c, rgb);
        long hits = 0;
        for (int y = 0; y < im.height; y++)
            for (int x = 0; x < im.width; x++) {
                const unsigned char *p = pixel(&im, x, y);
                hits += abs(p[0] - (int)lround(255 * rgb[0])) + abs(p[1] - (int)lround(255 * rgb[1])) +
                            abs(p[2] - (int)lround(255 * rgb[2])) < 20;
            }
        cr_expect(hits > 5000, "series %d: %ld pixels of its colour", c, hits);
    }
    image_free(&im);
    snprintf(args, sizeof args, "plot %s --kind profile --png %s/prof.png", path, dir);
    rc = testkit_cli(args, out, sizeof out);
    cr_assert(rc == 0, "exit %d: %s", rc, out);
    snprintf(args, sizeof args, "plot %s --kind lateral --png %s/bad.png", path, dir);
    rc = testkit_cli(args, out, sizeof out);
    cr_expect(rc == 2 && strstr(out, "valid here: bench, profile"), "exit %d: %s", rc, out);

    /* `bragg bench --png` draws the race of the runs it just made, with this machine's name. */
    snprintf(args, sizeof args, "bench --quick --case p-150-water --scale 0.05 --png %s/live.png",
             dir);
    rc = testkit_cli(args, out, sizeof out);
    cr_assert(rc == 0, "exit %d: %s", rc, out);
    snprintf(png, sizeof png, "%s/live.png", dir);
    image_read(png, &im);
    cr_expect(im.width == 1600 && im.height == 1000);
    cr_expect(image_text(&im, "bragg:machine") != NULL);
    expect_not_blank(&im);
    image_free(&im);
    testkit_remove_dir(dir);
}

/* Issue acceptance: an unwritable path or a full disk leaves no file and exits 2 naming the
 * path. The full disk is a file-size limit (ulimit -f, SIGXFSZ ignored): writes fail with
 * EFBIG partway through the PNG, as they would with ENOSPC. */
Test(plot_cli, failed_writes_leave_nothing)
{
    char dir[64], args[1024], out[16384], cmd[2048];
    testkit_temp_dir(dir, sizeof dir, "plot");
    snprintf(args, sizeof args,
             "run --ion p --energy 100 --material water -n 300 --json %s/r.json -q", dir);
    cr_assert(testkit_cli(args, out, sizeof out) == 0, "%s", out);

    snprintf(args, sizeof args, "plot %s/r.json --png %s/no/such/dir/f.png", dir, dir);
    int rc = testkit_cli(args, out, sizeof out);
    cr_expect(rc == 2 && strstr(out, "--png: cannot write") && strstr(out, "/no/such/dir/f.png"),
              "exit %d: %s", rc, out);
    /* A folder that is a regular file (unwritable even for root). */
    snprintf(args, sizeof args, "plot %s/r.json --png %s/r.json/f.png", dir, dir);
    rc = testkit_cli(args, out, sizeof out);
    cr_expect(rc == 2 && strstr(out, "r.json/f.png"), "exit %d: %s", rc, out);
    snprintf(args, sizeof args,
             "run --ion p --energy 100 --material water -n 300 -q --png %s/none/f.png", dir);
    rc = testkit_cli(args, out, sizeof out);
    cr_expect(rc == 2 && strstr(out, "none/f.png"), "exit %d: %s", rc, out);

    snprintf(cmd, sizeof cmd, "trap '' XFSZ; ulimit -f 8; %s plot %s/r.json --png %s/full.png 2>&1",
             testkit_bragg(), dir, dir);
    rc = testkit_shell(cmd, out, sizeof out);
    /* The path was fine and checked as such: a write that fails later is a run-time failure. */
    cr_expect(rc == 1 && strstr(out, "cannot write") && strstr(out, "full.png'"), "exit %d: %s",
              rc, out);
    cr_expect(count_files(dir, "full.png") == 0, "a partial PNG was left behind");
    cr_expect(count_files(dir, "tmp") == 0, "a temporary file was left behind");

    snprintf(args, sizeof args, "plot %s/r.json --png %s/x.png --size 10x10", dir, dir);
    rc = testkit_cli(args, out, sizeof out);
    cr_expect(rc == 2 && strstr(out, "--size"), "exit %d: %s", rc, out);
    snprintf(args, sizeof args, "plot %s/r.json --png %s/x.png --kind pie", dir, dir);
    rc = testkit_cli(args, out, sizeof out);
    cr_expect(rc == 2 && strstr(out, "--kind: 'pie' is not a kind"), "exit %d: %s", rc, out);
    snprintf(args, sizeof args, "plot %s/nothere.json --png %s/x.png", dir, dir);
    rc = testkit_cli(args, out, sizeof out);
    cr_expect(rc == 2 && strstr(out, "nothere.json': cannot read"), "exit %d: %s", rc, out);
    snprintf(args, sizeof args, "plot %s/r.json", dir);
    rc = testkit_cli(args, out, sizeof out);
    cr_expect(rc == 2 && strstr(out, "--png: missing"), "exit %d: %s", rc, out);
    snprintf(args, sizeof args, "run --ion p --energy 100 --material water -n 100 --all");
    rc = testkit_cli(args, out, sizeof out);
    cr_expect(rc == 2 && strstr(out, "--all: needs --png"), "exit %d: %s", rc, out);
    cr_expect(count_files(dir, "x.png") == 0);
    testkit_remove_dir(dir);
}

static const char *find_bytes(const char *hay, size_t len, const char *needle);

/* Issue 15 acceptance: `bragg plot --kind map` of a run made with --map decodes as a PNG of the
 * default size whose hottest pixel (the top of the colour scale) sits in the cell where the
 * map has its maximum, with the colour bar beside the plot running from the scale's bottom to
 * its top; --log draws another picture; --kind profile-at draws the profiles; --svg and --pdf
 * draw the map too; a run without a map, or a map of another run, is refused naming what is
 * missing. */
Test(plot_cli, dose_map_heat_map_and_profiles)
{
    char dir[64], args[1024], out[8192], path[256];
    testkit_temp_dir(dir, sizeof dir, "plotmap");
    snprintf(args, sizeof args,
             "run --ion p --energy 120 --material water -n 2000 --spot 4 --map %s/m.nrrd "
             "--map-radius 2 --json %s/r.json -q", dir, dir);
    cr_assert(testkit_cli(args, out, sizeof out) == 0, "%s", out);
    snprintf(args, sizeof args, "plot %s/r.json --kind map --png %s/map.png", dir, dir);
    cr_assert(testkit_cli(args, out, sizeof out) == 0, "%s", out);
    snprintf(args, sizeof args, "plot %s/r.json --kind map --log --png %s/log.png", dir, dir);
    cr_assert(testkit_cli(args, out, sizeof out) == 0, "%s", out);
    snprintf(args, sizeof args, "plot %s/r.json --kind profile-at 3,8.5 --png %s/prof.png", dir, dir);
    cr_assert(testkit_cli(args, out, sizeof out) == 0, "%s", out);

    /* The same figure laid out in-process gives the mapping from cells to pixels. */
    snprintf(path, sizeof path, "%s/r.json", dir);
    cJSON *run = testkit_read_json(path);
    snprintf(path, sizeof path, "%s/m.nrrd", dir);
    dose_map m;
    bragg_err e = {{0}};
    cr_assert(dose_map_read_nrrd(path, &m, &e) == BRAGG_OK, "%s", e.msg);
    figure_map_options mo;
    memset(&mo, 0, sizeof mo);
    plot_figure f;
    cr_assert(figures_from_map(&f, run, &m, FIGURE_MAP, &mo, &e) == BRAGG_OK, "%s", e.msg);
    plot_style st;
    plot_style_default(&st);
    cairo_surface_t *surf;
    plot_frame fr;
    cr_assert(plot_render(&f, &st, &surf, &fr, &e) == BRAGG_OK, "%s", e.msg);
    cairo_surface_destroy(surf);
    plot_figure_free(&f);
    size_t best = 0;
    for (size_t k = 0; k < (size_t)m.n_lat * m.n_depth; k++)
        if (m.dose[k] > m.dose[best]) best = k;
    double depth = ((double)(best / m.n_lat) + 0.5) * m.depth_width;
    double lateral = dose_map_lateral(&m, (int)(best % m.n_lat));

    snprintf(path, sizeof path, "%s/map.png", dir);
    image im;
    image_read(path, &im);
    cr_expect(im.width == 1600 && im.height == 1000);
    const char *v = image_text(&im, "bragg:plot");
    cr_expect(v && strcmp(v, "map") == 0, "%s", v);
    /* A linear map colours every cell, zeros included (the scale's bottom): many colours. */
    unsigned seen[512] = {0};
    int colours = 0;
    for (int y = 0; y < im.height; y++)
        for (int x = 0; x < im.width; x++) {
            const unsigned char *p = pixel(&im, x, y);
            seen[(p[0] >> 5) * 64 + (p[1] >> 5) * 8 + (p[2] >> 5)] = 1;
        }
    for (int k = 0; k < 512; k++) colours += seen[k];
    cr_expect(colours >= 12, "only %d coarse colours", colours);
    double top[3];
    plot_scale_colour(1.0, top);
    int bx = -1, by = -1;
    double bd = 1e9;
    for (int y = (int)fr.area.y; y < fr.area.y + fr.area.h; y++)
        for (int x = (int)fr.area.x; x < fr.area.x + fr.area.w; x++) {
            const unsigned char *p = pixel(&im, x, y);
            double d = fabs(p[0] / 255.0 - top[0]) + fabs(p[1] / 255.0 - top[1]) +
                       fabs(p[2] / 255.0 - top[2]);
            if (d < bd) {
                bd = d;
                bx = x;
                by = y;
            }
        }
    double cell_w = m.depth_width * fr.area.w / (fr.x_hi - fr.x_lo);
    double cell_h = m.lat_width * fr.area.h / (fr.y_hi - fr.y_lo);
    cr_expect(bd < 0.05, "the scale's top colour is drawn (closest %.3f)", bd);
    /* The hottest pixel lies in the maximum's cell, or in one the 8-bit colours cannot tell
     * from it: within 1% of the maximum (the scale's top percent spans about one step of each
     * channel; at 2 000 histories the map's top cells may be that close). */
    int in_hot_cell = 0;
    double hot_value = 0.0;
    for (size_t k = 0; k < (size_t)m.n_lat * m.n_depth; k++) {
        if (m.dose[k] < 0.99 * m.dose[best]) continue;
        double dk = ((double)(k / m.n_lat) + 0.5) * m.depth_width;
        double lk = dose_map_lateral(&m, (int)(k % m.n_lat));
        if (fabs(bx - plot_x_to_pixel(&fr, dk)) <= cell_w / 2 + 1.5 &&
            fabs(by - plot_y_to_pixel(&fr, lk)) <= cell_h / 2 + 1.5) {
            in_hot_cell = 1;
            hot_value = m.dose[k] / m.dose[best];
        }
    }
    cr_expect(in_hot_cell,
              "hottest pixel (%d, %d), the map's maximum at %.3f cm, %.3f cm is at (%.1f, %.1f)",
              bx, by, depth, lateral, plot_x_to_pixel(&fr, depth), plot_y_to_pixel(&fr, lateral));
    cr_log_info("hottest pixel in a cell at %.4f of the map's maximum", hot_value);
    /* The colour bar: right of the plot, the top colour near its top, the bottom one below. */
    double bottom[3];
    plot_scale_colour(0.0, bottom);
    int found_top = 0, found_bottom = 0;
    for (int x = (int)(fr.area.x + fr.area.w) + 2; x < im.width; x++) {
        const unsigned char *pt = pixel(&im, x, (int)fr.area.y + 3);
        const unsigned char *pb = pixel(&im, x, (int)(fr.area.y + fr.area.h) - 3);
        found_top |= fabs(pt[0] / 255.0 - top[0]) + fabs(pt[1] / 255.0 - top[1]) +
                         fabs(pt[2] / 255.0 - top[2]) < 0.08;
        found_bottom |= fabs(pb[0] / 255.0 - bottom[0]) + fabs(pb[1] / 255.0 - bottom[1]) +
                            fabs(pb[2] / 255.0 - bottom[2]) < 0.08;
    }
    cr_expect(found_top && found_bottom, "colour bar: top %d, bottom %d", found_top, found_bottom);
    image_free(&im);
    snprintf(args, sizeof args, "cmp -s %s/map.png %s/log.png", dir, dir);
    cr_expect(system(args) != 0, "--log draws the same picture");
    snprintf(path, sizeof path, "%s/prof.png", dir);
    image_read(path, &im);
    v = image_text(&im, "bragg:plot");
    cr_expect(v && strcmp(v, "profile-at") == 0, "%s", v);
    expect_not_blank(&im);
    image_free(&im);
    dose_map_free(&m);
    cJSON_Delete(run);

    /* The map as SVG and PDF (one drawing, all formats): well-formed XML holding the cells as
     * an image, and a PDF. */
    snprintf(args, sizeof args, "plot %s/r.json --kind map --log --svg %s/map.svg --pdf %s/map.pdf",
             dir, dir, dir);
    cr_assert(testkit_cli(args, out, sizeof out) == 0, "%s", out);
    snprintf(path, sizeof path, "%s/map.svg", dir);
    xmlDoc *doc = xmlReadFile(path, NULL, XML_PARSE_NONET | XML_PARSE_HUGE);
    cr_expect(doc, "the map's SVG is not well-formed XML");
    if (doc) xmlFreeDoc(doc);
    size_t len = 0;
    char *svg = testkit_read_bytes(path, &len);
    cr_expect(svg && find_bytes(svg, len, "<image"), "no image of the cells in the SVG");
    free(svg);
    snprintf(path, sizeof path, "%s/map.pdf", dir);
    char *pdf = testkit_read_bytes(path, &len);
    cr_expect(pdf && len > 5 && memcmp(pdf, "%PDF-", 5) == 0, "the map's PDF has no PDF header");
    free(pdf);

    snprintf(args, sizeof args,
             "run --ion p --energy 70 --material water -n 100 --json %s/plain.json -q", dir);
    cr_assert(testkit_cli(args, out, sizeof out) == 0, "%s", out);
    snprintf(args, sizeof args, "plot %s/plain.json --kind map --png %s/x.png", dir, dir);
    cr_expect(testkit_cli(args, out, sizeof out) == 2 && strstr(out, "--map"), "%s", out);
    snprintf(args, sizeof args, "plot %s/plain.json --kind profile-at 5 --map %s/m.nrrd --png %s/x.png",
             dir, dir, dir);
    cr_expect(testkit_cli(args, out, sizeof out) == 2 && strstr(out, "not the map of"), "%s", out);
    snprintf(args, sizeof args, "plot %s/r.json --kind profile-at 40 --png %s/x.png", dir, dir);
    cr_expect(testkit_cli(args, out, sizeof out) == 2 && strstr(out, "outside the map"), "%s", out);
    testkit_remove_dir(dir);
}

/* ------------------------------------------------------------------------------------------ */
/* SVG and PDF                                                                                 */

/* memmem is a GNU extension; the build asks for POSIX only. */
static const char *find_bytes(const char *hay, size_t len, const char *needle)
{
    size_t n = strlen(needle);
    for (size_t i = 0; i + n <= len; i++)
        if (memcmp(hay + i, needle, n) == 0) return hay + i;
    return NULL;
}

/* The <path> stroked in `rgb` (cairo writes "stroke:rgb(0%,44.7%,69.8%)") with the most
 * points: its x of the smallest y (the highest point on the page) goes to *top_x. */
static int svg_curve_top(xmlNode *node, const char *stroke, double *top_x, int *best_points)
{
    int found = 0;
    for (xmlNode *n = node; n; n = n->next) {
        if (n->type == XML_ELEMENT_NODE && xmlStrcmp(n->name, (const xmlChar *)"path") == 0) {
            xmlChar *style = xmlGetProp(n, (const xmlChar *)"style");
            xmlChar *d = xmlGetProp(n, (const xmlChar *)"d");
            if (style && d && strstr((const char *)style, stroke)) {
                int points = 0;
                double min_y = INFINITY, x_at = NAN, x, y;
                const char *p = (const char *)d;
                while (*p) {
                    while (*p == ' ' || *p == 'M' || *p == 'L') p++;
                    if (sscanf(p, "%lf %lf", &x, &y) != 2) break;
                    points++;
                    if (y < min_y) {
                        min_y = y;
                        x_at = x;
                    }
                    /* Past the two numbers. */
                    for (int k = 0; k < 2; k++) {
                        while (*p == ' ') p++;
                        while (*p && *p != ' ') p++;
                    }
                }
                if (points > *best_points) {
                    *best_points = points;
                    *top_x = x_at;
                    found = 1;
                }
            }
            xmlFree(style);
            xmlFree(d);
        }
        if (svg_curve_top(n->children, stroke, top_x, best_points)) found = 1;
    }
    return found;
}

/* The text of <bragg:entry key="KEY"> under the SVG's <metadata>, or NULL (caller frees). */
static char *svg_meta(xmlNode *node, const char *key)
{
    for (xmlNode *n = node; n; n = n->next) {
        if (n->type == XML_ELEMENT_NODE && xmlStrcmp(n->name, (const xmlChar *)"entry") == 0) {
            xmlChar *k = xmlGetProp(n, (const xmlChar *)"key");
            int match = k && strcmp((const char *)k, key) == 0;
            xmlFree(k);
            if (match) return (char *)xmlNodeGetContent(n);
        }
        char *v = svg_meta(n->children, key);
        if (v) return v;
    }
    return NULL;
}

/* Issue 17 acceptance: the same figure as SVG and PDF. The SVG is well-formed XML (libxml2, not
 * the writer, decides), its root an <svg> of the figure's size, and it holds the depth-dose
 * curve as a path whose highest point is at the reported peak depth, where the PNG draws it;
 * its <title> and <metadata> carry the PNG's provenance. The PDF has a %PDF header, one page,
 * a cross-reference table where startxref says, %%EOF, and the figure's title. */
Test(plot_cli, svg_and_pdf_of_the_same_figure)
{
    char dir[64], args[1024], out[16384], path[256];
    testkit_temp_dir(dir, sizeof dir, "plot");
    snprintf(args, sizeof args,
             "run --ion C-12 --energy 400 --material water -n 2000 --seed 3 --no-nuclear -q "
             "--json %s/r.json", dir);
    cr_assert(testkit_cli(args, out, sizeof out) == 0, "%s", out);
    snprintf(args, sizeof args, "plot %s/r.json --png %s/f.png --svg %s/f.svg --pdf %s/f.pdf",
             dir, dir, dir, dir);
    int rc = testkit_cli(args, out, sizeof out);
    cr_assert(rc == 0, "exit %d: %s", rc, out);

    /* The mapping of the figure, laid out in-process. */
    snprintf(path, sizeof path, "%s/r.json", dir);
    cJSON *run = testkit_read_json(path);
    plot_figure f;
    plot_frame fr = default_frame(run, &f);
    double peak = cJSON_GetObjectItem(cJSON_GetObjectItem(run, "results"), "peak_depth_cm")->valuedouble;
    double bin = cJSON_GetObjectItem(cJSON_GetObjectItem(run, "config"), "bin_width_cm")->valuedouble;
    double tol = fmax(2.0, bin * fr.area.w / (fr.x_hi - fr.x_lo));

    /* SVG */
    snprintf(path, sizeof path, "%s/f.svg", dir);
    xmlDoc *doc = xmlReadFile(path, NULL, XML_PARSE_NONET);
    cr_assert(doc, "%s is not well-formed XML", path);
    xmlNode *root = xmlDocGetRootElement(doc);
    cr_assert(root && xmlStrcmp(root->name, (const xmlChar *)"svg") == 0);
    xmlChar *w = xmlGetProp(root, (const xmlChar *)"width");
    cr_expect(w && strcmp((const char *)w, "1600px") == 0, "width %s", w ? (const char *)w : "none");
    xmlFree(w);
    double rgb[3];
    plot_palette_colour(PLOT_THEME_LIGHT, 0, rgb);
    char stroke[64];
    snprintf(stroke, sizeof stroke, "stroke:rgb(%g%%,%g%%,%g%%)", round(1000 * rgb[0]) / 10,
             round(1000 * rgb[1]) / 10, round(1000 * rgb[2]) / 10);
    double top_x = NAN;
    int points = 0;
    cr_assert(svg_curve_top(root, stroke, &top_x, &points), "no path stroked %s", stroke);
    /* A curve, not the legend's two-point swatch (cairo merges collinear segments, so fewer
     * points than bins). */
    cr_expect(points > 200, "the curve's path has %d points", points);
    double want = plot_x_to_pixel(&fr, peak);
    cr_expect(fabs(top_x - want) <= tol, "SVG curve peaks at x = %.1f, the peak %.3f cm is at %.1f",
              top_x, peak, want);
    char *v = svg_meta(root, "bragg:ion");
    cr_expect(v && strcmp(v, "C-12") == 0, "bragg:ion %s", v ? v : "missing");
    xmlFree(v);
    v = svg_meta(root, "bragg:config");
    cJSON *cfg = v ? cJSON_Parse(v) : NULL;
    cr_expect(cfg && cJSON_Compare(cfg, cJSON_GetObjectItem(run, "config"), 1),
              "the SVG's bragg:config is not the run's");
    cJSON_Delete(cfg);
    xmlFree(v);
    image im;
    snprintf(path, sizeof path, "%s/f.png", dir);
    image_read(path, &im);
    int found_title = 0;
    for (xmlNode *n = root->children; n; n = n->next)
        if (n->type == XML_ELEMENT_NODE && xmlStrcmp(n->name, (const xmlChar *)"title") == 0) {
            xmlChar *t = xmlNodeGetContent(n);
            found_title = t && strcmp((const char *)t, image_text(&im, "Title")) == 0;
            xmlFree(t);
        }
    cr_expect(found_title, "the SVG's <title> is not the PNG's Title");
    double png_col = curve_peak_column(&im, &fr, rgb);
    cr_expect(fabs(png_col - top_x) <= tol, "PNG peak column %.1f, SVG %.1f", png_col, top_x);
    image_free(&im);
    xmlFreeDoc(doc);

    /* PDF */
    size_t len;
    snprintf(path, sizeof path, "%s/f.pdf", dir);
    char *pdf = testkit_read_bytes(path, &len);
    cr_expect(len > 1000 && strncmp(pdf, "%PDF-1.", 7) == 0, "no PDF header");
    const char *tail = pdf + (len > 64 ? len - 64 : 0);
    cr_expect(strstr(tail, "%%EOF") != NULL, "no %%%%EOF at the end");
    const char *sx = NULL;
    for (const char *p = tail; (p = strstr(p, "startxref")); p++) sx = p;
    cr_assert(sx, "no startxref");
    long xref = atol(sx + 9);
    cr_expect(xref > 0 && (size_t)xref < len && strncmp(pdf + xref, "xref", 4) == 0,
              "startxref %ld does not point at the cross-reference table", xref);
    int pages = 0, page_tree = 0, count = -1;
    for (const char *p = pdf; (p = find_bytes(p, len - (size_t)(p - pdf), "/Type /Page")); p += 11) {
        if (p[11] == 's') {
            page_tree++;
            const char *c = strstr(p, "/Count");
            if (c) count = atoi(c + 6);
        } else {
            pages++;
        }
    }
    cr_expect(page_tree == 1 && count == 1 && pages == 1, "pages: tree %d, /Count %d, %d page objects",
              page_tree, count, pages);
    char want_title[256];
    snprintf(want_title, sizeof want_title, "/Title (%s)", f.title);
    cr_expect(find_bytes(pdf, len, want_title) != NULL, "no %s", want_title);
    free(pdf);

    /* A path that cannot be written: exit 2 naming the option and the path, nothing left. */
    snprintf(args, sizeof args, "plot %s/r.json --svg %s/no/f.svg", dir, dir);
    rc = testkit_cli(args, out, sizeof out);
    cr_expect(rc == 2 && strstr(out, "--svg: cannot write") && strstr(out, "no/f.svg"), "exit %d: %s",
              rc, out);
    snprintf(args, sizeof args, "plot %s/r.json --pdf -", dir);
    rc = testkit_cli(args, out, sizeof out);
    cr_expect(rc == 2 && strstr(out, "--pdf: a figure is not written to the terminal"), "exit %d: %s",
              rc, out);
    cr_expect(count_files(dir, "tmp") == 0);
    plot_figure_free(&f);
    cJSON_Delete(run);
    testkit_remove_dir(dir);
}

/* The colour of pixel (x, y) is within `tol` (sum of channel differences) of rgb. */
static int pixel_is(const image *im, double x, double y, const double rgb[3], int tol)
{
    int px = (int)x, py = (int)y;
    if (px < 0 || py < 0 || px >= im->width || py >= im->height) return 0;
    const unsigned char *p = pixel(im, px, py);
    return abs(p[0] - (int)lround(255 * rgb[0])) + abs(p[1] - (int)lround(255 * rgb[1])) +
               abs(p[2] - (int)lround(255 * rgb[2])) <= tol;
}


/* Issue 17: figures as a lecturer and a paper author need them.
 *  - Energies in the physics' unit: "p 150 MeV" (protons), "C-12 290 MeV/u" (ions).
 *  - The slabs of a stack shaded on every depth plot: regions with the materials, the bone
 *    slab's span shaded (a pixel above the curve in it differs from the water's).
 *  - Peak normalisation fits the axis to the data (the top under 1.2, not 2).
 *  - Dose by charge of several runs: lines with a legend of charges and runs; --log.
 *  - --measured: the GSI curve as points where its values, normalised to its peak, are; its
 *    path in the metadata; the wrong kind, a missing normalisation and a bad row exit 2. */
Test(plot_cli, figures_for_lectures_and_papers)
{
    char dir[64], args[1024], out[16384], path[256];
    testkit_temp_dir(dir, sizeof dir, "plot");
    snprintf(args, sizeof args,
             "run --ion p --energy 150 --material water -n 400 -q --no-nuclear --json %s/p.json", dir);
    cr_assert(testkit_cli(args, out, sizeof out) == 0, "%s", out);
    snprintf(args, sizeof args,
             "run --ion C-12 --energy 290 --slab water:5 --slab bone:2 --slab water:inf -n 600 -q "
             "--json %s/slab.json", dir);
    cr_assert(testkit_cli(args, out, sizeof out) == 0, "%s", out);
    snprintf(path, sizeof path, "%s/p.json", dir);
    cJSON *p = testkit_read_json(path);
    snprintf(path, sizeof path, "%s/slab.json", dir);
    cJSON *slab = testkit_read_json(path);
    figure_options o;
    figure_options_default(&o);
    plot_figure f;

    /* Units that follow the physics. */
    layout_of(&p, 1, &o, &f);
    cr_expect(strstr(f.title, "p 150 MeV in water") && !strstr(f.title, "MeV/u"), "%s", f.title);
    plot_figure_free(&f);

    /* Slabs. */
    o.norm = FIGURE_NORM_PEAK;
    plot_frame fr = layout_of(&slab, 1, &o, &f);
    cr_expect(strstr(f.title, "C-12 290 MeV/u in water 5 cm | bone 2 cm | water"), "%s", f.title);
    cr_assert(f.n_regions == 3, "%d regions", f.n_regions);
    cr_expect(f.regions[1].x0 == 5 && f.regions[1].x1 == 7 && strcmp(f.regions[1].label, "bone") == 0);
    /* The peak (1 + its error) and room for the three marker labels, no empty tick above. */
    cr_expect(fr.y_hi <= 1.25, "normalised to the peak, the axis runs to %g", fr.y_hi);
    plot_figure_free(&f);
    snprintf(args, sizeof args, "plot %s/slab.json --norm peak --png %s/slab.png", dir, dir);
    cr_assert(testkit_cli(args, out, sizeof out) == 0, "%s", out);
    image im;
    snprintf(path, sizeof path, "%s/slab.png", dir);
    image_read(path, &im);
    double y_high = fr.area.y + 0.3 * fr.area.h;   /* above the plateau (0.2 of the peak) */
    const unsigned char *water = pixel(&im, (int)plot_x_to_pixel(&fr, 2.5), (int)y_high);
    const unsigned char *bone = pixel(&im, (int)plot_x_to_pixel(&fr, 6.0), (int)y_high);
    cr_expect(abs(water[0] - bone[0]) + abs(water[1] - bone[1]) + abs(water[2] - bone[2]) > 20,
              "the bone slab is not shaded: %d,%d,%d vs water %d,%d,%d", bone[0], bone[1], bone[2],
              water[0], water[1], water[2]);
    image_free(&im);
    o.kind = FIGURE_LATERAL;
    o.norm = FIGURE_NORM_NONE;
    layout_of(&slab, 1, &o, &f);
    cr_expect(f.n_regions == 3, "lateral: %d regions", f.n_regions);
    plot_figure_free(&f);

    /* Dose by charge of two runs, overlaid, on a log scale. */
    cJSON *two[2] = {slab, slab};
    o.kind = FIGURE_CHARGE;
    o.log_y = 1;
    fr = layout_of(two, 2, &o, &f);
    cr_expect(fr.y_log && !f.stacked);
    int entries = 0, unlabelled = 0, dashed = 0;
    for (int s = 0; s < f.n_series; s++) {
        entries += f.series[s].label && f.series[s].n == 0;
        unlabelled += !f.series[s].label;
        dashed += f.series[s].dashed == 1 && f.series[s].n > 0;
    }
    int channels = cJSON_GetArraySize(cJSON_GetObjectItem(cJSON_GetObjectItem(slab, "depth_curves"),
                                                          "dose_by_charge_Gy_cm2"));
    cr_expect(entries == channels + 2 && unlabelled == 2 * channels && dashed == channels,
              "%d legend entries, %d curves without a label, %d dashed, for %d charges", entries,
              unlabelled, dashed, channels);
    plot_figure_free(&f);
    snprintf(args, sizeof args, "plot %s/slab.json %s/p.json --kind charge --log --png %s/c.png",
             dir, dir, dir);
    int rc = testkit_cli(args, out, sizeof out);
    cr_expect(rc == 2 && strstr(out, "p.json") == NULL && strstr(out, "no dose-by-charge data"),
              "exit %d: %s", rc, out);
    snprintf(args, sizeof args, "plot %s/slab.json %s/slab.json --kind charge --log --png %s/c.png",
             dir, dir, dir);
    rc = testkit_cli(args, out, sizeof out);
    cr_expect(rc == 0, "exit %d: %s", rc, out);

    /* A measured curve over a run. */
    const char *haettner = BRAGG_ASSET_DIR "/measurements/haettner-2013-c12-400-water.tsv";
    measured m;
    bragg_err e = {{0}};
    cr_assert(measured_load(&m, haettner, &e) == 0, "%s", e.msg);
    cr_expect(m.n > 50 && m.err && m.arbitrary && measured_is_depth_dose(&m) && m.energy == 400);
    figure_options_default(&o);
    o.norm = FIGURE_NORM_PEAK;
    o.measured[0] = &m;
    o.n_measured = 1;
    fr = layout_of(&slab, 1, &o, &f);
    int ms = -1;
    for (int s = 0; s < f.n_series; s++)
        if (f.series[s].points) ms = s;
    cr_assert(ms >= 0, "no measured series");
    double rgb[3], top = 0;
    plot_palette_colour(PLOT_THEME_LIGHT, f.series[ms].colour, rgb);
    plot_figure_free(&f);
    for (int i = 0; i < m.n; i++) top = fmax(top, m.y[i]);
    snprintf(args, sizeof args, "plot %s/slab.json --measured %s --png %s/m.png", dir, haettner, dir);
    cr_assert(testkit_cli(args, out, sizeof out) == 0, "%s", out);
    snprintf(path, sizeof path, "%s/m.png", dir);
    image_read(path, &im);
    int hits = 0, tried = 0;
    for (int i = 0; i < m.n; i += 7) {
        if (m.x[i] > fr.x_hi) continue;
        tried++;
        hits += pixel_is(&im, plot_x_to_pixel(&fr, m.x[i]), plot_y_to_pixel(&fr, m.y[i] / top), rgb, 40);
    }
    cr_expect(tried > 3 && hits >= tried - 1, "%d of %d measured points where they belong", hits, tried);
    const char *v = image_text(&im, "bragg:measured");
    cr_expect(v && strstr(v, "haettner-2013-c12-400-water.tsv"), "bragg:measured %s", v ? v : "none");
    image_free(&im);
    snprintf(args, sizeof args, "plot %s/slab.json --measured %s --norm none --png %s/m.png", dir,
             haettner, dir);
    rc = testkit_cli(args, out, sizeof out);
    cr_expect(rc == 2 && strstr(out, "--norm none:") && strstr(out, "arbitrary units"), "exit %d: %s",
              rc, out);
    snprintf(args, sizeof args, "plot %s/slab.json --measured %s --kind let --png %s/m.png", dir,
             haettner, dir);
    rc = testkit_cli(args, out, sizeof out);
    cr_expect(rc == 2 && strstr(out, "--measured: goes with --kind dose"), "exit %d: %s", rc, out);
    snprintf(path, sizeof path, "%s/bad.tsv", dir);
    FILE *bad = fopen(path, "w");
    fputs("# quantity: dose\n1.0\t2.0\n2.0 x\n", bad);
    fclose(bad);
    snprintf(args, sizeof args, "plot %s/slab.json --measured %s --png %s/m.png", dir, path, dir);
    rc = testkit_cli(args, out, sizeof out);
    cr_expect(rc == 2 && strstr(out, "bad.tsv line 3:"), "exit %d: %s", rc, out);
    snprintf(args, sizeof args, "plot %s/slab.json --kind yields --log --measured %s --png %s/y.png",
             dir, BRAGG_ASSET_DIR "/measurements/haettner-2013-c12-400-water-yields.tsv", dir);
    rc = testkit_cli(args, out, sizeof out);
    cr_expect(rc == 0, "exit %d: %s", rc, out);
    measured_free(&m);
    cJSON_Delete(p);
    cJSON_Delete(slab);
    testkit_remove_dir(dir);
}

/* Issue 17: `bragg tables --png/--svg/--pdf` draws stopping power and CSDA range against
 * energy, log-log: the curves pass through the values the same command prints as CSV, the
 * figure names the ion and material, and the SVG and PDF are written beside the PNG. */
Test(plot_cli, tables_figure)
{
    char dir[64], args[1024], out[16384], path[256];
    testkit_temp_dir(dir, sizeof dir, "plot");
    snprintf(args, sizeof args,
             "tables --ion p --material water --emin 1 --emax 300 --points 40 --csv %s/t.csv "
             "--png %s/t.png --svg %s/t.svg --pdf %s/t.pdf", dir, dir, dir, dir);
    int rc = testkit_cli(args, out, sizeof out);
    cr_assert(rc == 0, "exit %d: %s", rc, out);
    double en[40], st[40], rg[40];
    snprintf(path, sizeof path, "%s/t.csv", dir);
    FILE *f = fopen(path, "r");
    cr_assert(f);
    char line[512];
    int n = 0;
    cr_assert(fgets(line, sizeof line, f));   /* the header */
    while (n < 40 && fgets(line, sizeof line, f)) {
        double s_el, s_nuc, let, r_g, r_cm;
        cr_assert(sscanf(line, "%lf,%lf,%lf,%lf,%lf,%lf", &en[n], &s_el, &s_nuc, &let, &r_g, &r_cm) == 6);
        st[n] = s_el + s_nuc;
        rg[n++] = r_cm;
    }
    fclose(f);
    cr_assert(n == 40);
    figure_table ft = {"p", "water", 1, 1.0, 75, n, en, st, rg};
    plot_figure fig;
    bragg_err e = {{0}};
    cr_assert(figures_from_table(&fig, &ft, &e) == 0, "%s", e.msg);
    plot_style sty;
    plot_style_default(&sty);
    cairo_surface_t *surf;
    plot_frame fr;
    cr_assert(plot_render(&fig, &sty, &surf, &fr, &e) == 0, "%s", e.msg);
    cairo_surface_destroy(surf);
    cr_expect(fr.x_log && fr.y_log && fr.y2_log);
    image im;
    snprintf(path, sizeof path, "%s/t.png", dir);
    image_read(path, &im);
    const char *v = image_text(&im, "bragg:plot");
    cr_expect(v && strcmp(v, "tables") == 0);
    v = image_text(&im, "Title");
    cr_expect(v && strstr(v, "p in water") && strstr(v, "stopping power and CSDA range"), "%s", v);
    double rgb[3];
    plot_palette_colour(PLOT_THEME_LIGHT, 0, rgb);
    int hits = 0, tried = 0;
    for (int k = 3; k < n - 3; k += 5, tried++) {
        double px = plot_x_to_pixel(&fr, en[k]), py = plot_y_to_pixel(&fr, st[k]);
        int near = 0;
        for (int dy = -2; dy <= 2 && !near; dy++)
            near = pixel_is(&im, px, py + dy, rgb, 60);
        hits += near;
    }
    cr_expect(hits == tried, "the stopping-power curve passes %d of %d CSV points", hits, tried);
    image_free(&im);
    plot_figure_free(&fig);
    snprintf(path, sizeof path, "%s/t.svg", dir);
    xmlDoc *doc = xmlReadFile(path, NULL, XML_PARSE_NONET);
    cr_expect(doc != NULL, "the tables SVG is not well-formed XML");
    xmlFreeDoc(doc);
    size_t len;
    snprintf(path, sizeof path, "%s/t.pdf", dir);
    char *pdf = testkit_read_bytes(path, &len);
    cr_expect(strncmp(pdf, "%PDF-1.", 7) == 0);
    free(pdf);
    testkit_remove_dir(dir);
}

/* ------------------------------------------------------------------------------------------ */
/* Defects found in review (each test named after what went wrong)                             */

/* `bragg plot a/x.json --kind map` drew the map of another run that had written a file of the
 * same name in the current folder (the name was tried here before beside the JSON, and only
 * the cell count was compared): p 100 MeV's title over C-12's map, exit 0. Now the map beside
 * the JSON is drawn, and a map whose keys differ from the JSON's (ion; the seed alone, on the
 * same grid with the same histories; the histories, for a file without the newer keys) is
 * refused, exit 2, naming the file and the field; `--map -` says where the map went. */
Test(plot_cli, map_of_another_run_is_refused)
{
    char dir[64], cmd[2048], out[8192];
    testkit_temp_dir(dir, sizeof dir, "plotwho");
    /* Two runs on the same grid (C-12's --depth matches p 100 MeV's default depth). */
    snprintf(cmd, sizeof cmd,
             "mkdir %s/a %s/b && cd %s/a && %s run --ion p --energy 100 --material water -n 2000 "
             "--map m.nrrd --json x.json -q && cd ../b && %s run --ion p --energy 100 --material "
             "water -n 2000 --seed 2 --map m.nrrd --json x.json -q && cd .. && %s run --ion C-12 "
             "--energy 200 --material water -n 300 --map m.nrrd --json y.json --depth 9.38 -q",
             dir, dir, dir, testkit_bragg(), testkit_bragg(), testkit_bragg());
    cr_assert(testkit_shell(cmd, out, sizeof out) == 0, "%s", out);
    snprintf(cmd, sizeof cmd, "cd %s && %s plot a/x.json --kind map --png v.png", dir,
             testkit_bragg());
    int rc = testkit_shell(cmd, out, sizeof out);
    cr_assert(rc == 0, "exit %d: %s", rc, out);

    /* What is drawn is the map beside the JSON: the same picture as with that file named. */
    snprintf(cmd, sizeof cmd,
             "cd %s && %s plot a/x.json --kind map --map a/m.nrrd --png named.png && cmp -s "
             "v.png named.png", dir, testkit_bragg());
    rc = testkit_shell(cmd, out, sizeof out);
    cr_expect(rc == 0, "another map than a/m.nrrd was drawn (exit %d: %s)", rc, out);

    struct {
        const char *args, *want[3];
    } refused[] = {
        /* Another ion's map given with --map. */
        {"plot y.json --kind map --map a/m.nrrd --png w.png",
         {"'a/m.nrrd' is not the map of 'y.json'", "ion 'p' there, 'C-12' in the JSON", NULL}},
        /* The same beam, grid and histories: only the seed tells. */
        {"plot a/x.json --kind profile-at 5 --map b/moved.nrrd --png w.png",
         {"'b/moved.nrrd' is not the map of 'a/x.json'", "seed 2 there, 1 in the JSON", NULL}},
        /* A file without the newer keys (ion, energy, seed): its histories tell. */
        {"plot a/x.json --kind map --map old.nrrd --png w.png",
         {"'old.nrrd' is not the map of 'a/x.json'", "histories 300 there, 2000 in the JSON",
          NULL}},
        /* The JSON names a map that is not beside it: the one here is another run's. */
        {"plot b/x.json --kind map --png w.png",
         {"'m.nrrd' is not the map of 'b/x.json'", "ion 'C-12' there, 'p' in the JSON", NULL}},
        /* A map written to standard output. */
        {"plot s.json --kind map --png w.png",
         {"'s.json': the run wrote its map to standard output", "--map FILE", NULL}},
    };
    snprintf(cmd, sizeof cmd,
             "cd %s && sed '/^bragg_ion:=/d; /^bragg_energy_MeV_u:=/d; /^bragg_seed:=/d' m.nrrd "
             "> old.nrrd && mv b/m.nrrd b/moved.nrrd && %s run --ion p --energy 70 --material "
             "water -n 100 --map - --json s.json -q > s.nrrd", dir, testkit_bragg());
    cr_assert(testkit_shell(cmd, out, sizeof out) == 0, "%s", out);
    for (size_t k = 0; k < sizeof refused / sizeof refused[0]; k++) {
        snprintf(cmd, sizeof cmd, "cd %s && %s %s", dir, testkit_bragg(), refused[k].args);
        rc = testkit_shell(cmd, out, sizeof out);
        /* One line, naming the file and the field. */
        int said = strchr(out, '\n') == out + strlen(out) - 1;
        for (int w = 0; refused[k].want[w]; w++) said &= strstr(out, refused[k].want[w]) != NULL;
        cr_expect(rc == 2 && said, "%s: exit %d: %s", refused[k].args, rc, out);
    }
    /* With the saved file named, the --map - run plots. */
    snprintf(cmd, sizeof cmd, "cd %s && %s plot s.json --kind map --map s.nrrd --png s.png", dir,
             testkit_bragg());
    rc = testkit_shell(cmd, out, sizeof out);
    cr_expect(rc == 0, "exit %d: %s", rc, out);
    testkit_remove_dir(dir);
}

/* RBE-weighted dose was labelled Gy: `--kind bio` drew physical and RBE-weighted dose on one
 * axis in "Gy cm²", and an SOBP flat in RBE-weighted dose read "dose (Gy)" under the title
 * "2 Gy RBE-weighted". ICRU Reports 78 and 93 write RBE-weighted dose in Gy (RBE): the axes
 * and legends now say so, the physical dose keeps Gy, and relative curves carry no unit. */
Test(plot_cli, rbe_weighted_dose_is_labelled_gy_rbe)
{
    char dir[64], args[1024], out[8192], path[256];
    testkit_temp_dir(dir, sizeof dir, "plotrbe");
    snprintf(args, sizeof args,
             "run --ion p --energy 150 --material water -n 300 --bio mcnamara -q --json %s/b.json",
             dir);
    cr_assert(testkit_cli(args, out, sizeof out) == 0, "%s", out);
    snprintf(args, sizeof args,
             "sobp --ion p --material water --from 10 --to 11 -n 100 --biological mcnamara "
             "--dose 2 -q --json %s/s.json", dir);
    cr_assert(testkit_cli(args, out, sizeof out) == 0, "%s", out);
    snprintf(path, sizeof path, "%s/b.json", dir);
    cJSON *run = testkit_read_json(path);
    snprintf(path, sizeof path, "%s/s.json", dir);
    cJSON *sobp = testkit_read_json(path);
    bragg_err e = {{0}};
    plot_figure f;
    for (int rel = 0; rel < 2; rel++) {
        figure_options fo;
        figure_options_default(&fo);
        fo.kind = FIGURE_BIO;
        fo.norm = rel ? FIGURE_NORM_PEAK : FIGURE_NORM_NONE;
        cr_assert(figures_from_runs(&f, (const cJSON *const *)&run, 1, &fo, &e) == 0, "%s",
                  e.msg);
        int weighted = 0, physical = 0;
        for (int s = 0; s < f.n_series; s++) {
            const char *l = f.series[s].label ? f.series[s].label : "";
            if (strstr(l, "RBE-weighted dose")) {
                weighted = 1;
                cr_expect(rel ? !strstr(l, "Gy") : strstr(l, "Gy (RBE) cm\u00b2") != NULL,
                          "legend: %s", l);
            } else if (strstr(l, "physical dose")) {
                physical = 1;
                cr_expect(rel ? !strstr(l, "Gy") : strstr(l, "Gy cm\u00b2") && !strstr(l, "RBE"),
                          "legend: %s", l);
            }
        }
        cr_expect(weighted && physical, "the bio figure lacks a dose curve");
        if (rel)
            cr_expect(!strstr(f.y_unit, "Gy"), "relative axis in %s", f.y_unit);
        else
            cr_expect(strstr(f.y_unit, "Gy cm\u00b2") && strstr(f.y_unit, "Gy (RBE) cm\u00b2") &&
                          strstr(f.y_label, "physical") && strstr(f.y_label, "RBE-weighted"),
                      "axis: %s (%s)", f.y_label, f.y_unit);
        plot_figure_free(&f);
    }
    cr_assert(figures_from_sobp(&f, sobp, NULL, &e) == 0, "%s", e.msg);
    cr_expect(strstr(f.y_unit, "Gy (RBE)") && strstr(f.y_label, "RBE-weighted"), "axis: %s (%s)",
              f.y_label, f.y_unit);
    cr_expect(strstr(f.title, ": 2 Gy (RBE) "), "title: %s", f.title);
    int weighted = 0;
    for (int s = 0; s < f.n_series; s++) {
        const char *l = f.series[s].label ? f.series[s].label : "";
        if (strstr(l, "RBE-weighted dose")) weighted = strstr(l, "Gy (RBE)") != NULL;
        if (strstr(l, "physical dose")) cr_expect(!strstr(l, "RBE"), "legend: %s", l);
    }
    cr_expect(weighted, "the RBE-weighted dose's legend does not say Gy (RBE)");
    plot_figure_free(&f);
    /* The CLI's figure is that one: its title travels in the PNG. */
    snprintf(args, sizeof args, "plot %s/s.json --png %s/s.png", dir, dir);
    cr_assert(testkit_cli(args, out, sizeof out) == 0, "%s", out);
    snprintf(path, sizeof path, "%s/s.png", dir);
    image im;
    image_read(path, &im);
    const char *title = image_text(&im, "Title");
    cr_expect(title && strstr(title, "Gy (RBE)"), "%s", title ? title : "no title");
    image_free(&im);
    cJSON_Delete(run);
    cJSON_Delete(sobp);
    testkit_remove_dir(dir);
}

/* Runs `bragg run BEAM --map DIR/m.nrrd --json DIR/r.json -q` and reads both back: the run's
 * JSON is returned (cJSON_Delete), the map into *m (dose_map_free). */
static cJSON *run_with_map(const char *dir, const char *beam, dose_map *m)
{
    char args[1024], out[4096], path[256];
    snprintf(args, sizeof args, "run %s --map %s/m.nrrd --json %s/r.json -q", beam, dir, dir);
    cr_assert(testkit_cli(args, out, sizeof out) == 0, "%s", out);
    snprintf(path, sizeof path, "%s/m.nrrd", dir);
    bragg_err e = {{0}};
    cr_assert(dose_map_read_nrrd(path, m, &e) == BRAGG_OK, "%s", e.msg);
    snprintf(path, sizeof path, "%s/r.json", dir);
    return testkit_read_json(path);
}

/* `--kind profile-at` dropped --log (the PNGs with and without were byte for byte the same) and
 * --norm, which has no entrance or peak to divide a lateral profile by. --log now makes the
 * dose axis logarithmic; --norm is refused on profile-at and map (and the other kinds without
 * an entrance or a peak to divide by), exit 2, naming the option and the kinds it applies to. */
Test(plot_cli, profile_at_honours_log_and_refuses_norm)
{
    char dir[64], args[1024], out[8192], path[256];
    testkit_temp_dir(dir, sizeof dir, "plotlog");
    dose_map m;
    cJSON *run = run_with_map(dir, "--ion p --energy 150 --material water -n 1000", &m);
    snprintf(args, sizeof args,
             "plot %s/r.json --kind profile-at 5,10 --png %s/lin.png && %s plot %s/r.json --kind "
             "profile-at 5,10 --log --png %s/log.png && cmp -s %s/lin.png %s/log.png",
             dir, dir, testkit_bragg(), dir, dir, dir, dir);
    int rc = testkit_cli(args, out, sizeof out);
    cr_expect(rc == 1, "--log draws the same profiles (exit %d: %s)", rc, out);

    /* Laid out in-process: a log axis whose decades hold the profiles' maximum. */
    bragg_err e = {{0}};
    figure_map_options mo;
    memset(&mo, 0, sizeof mo);
    mo.log = 1;
    mo.n_depths = 2;
    mo.depths[0] = 5;
    mo.depths[1] = 10;
    plot_figure f;
    cr_assert(figures_from_map(&f, run, &m, FIGURE_PROFILE_AT, &mo, &e) == BRAGG_OK, "%s", e.msg);
    plot_style st;
    plot_style_default(&st);
    cairo_surface_t *surf;
    plot_frame fr;
    cr_assert(plot_render(&f, &st, &surf, &fr, &e) == BRAGG_OK, "%s", e.msg);
    cairo_surface_destroy(surf);
    double top = 0;
    for (int s = 0; s < f.n_series; s++)
        for (int i = 0; i < f.series[s].n; i++) top = fmax(top, f.series[s].y[i]);
    cr_expect(fr.y_log && top > 0 && fr.y_hi >= top && fr.y_lo < top / 100,
              "axis %g to %g (log %d) for a maximum of %g", fr.y_lo, fr.y_hi, fr.y_log, top);
    plot_figure_free(&f);
    dose_map_free(&m);
    cJSON_Delete(run);

    const char *kinds[] = {"profile-at 5", "map", "lateral", "fluence", "yields"};
    for (int k = 0; k < 5; k++) {
        snprintf(args, sizeof args, "plot %s/r.json --kind %s --norm peak --png %s/n.png", dir,
                 kinds[k], dir);
        rc = testkit_cli(args, out, sizeof out);
        cr_expect(rc == 2 && strstr(out, "--norm: applies to --kind dose, let, charge and bio") &&
                      strchr(out, '\n') == out + strlen(out) - 1,
                  "--kind %s --norm peak: exit %d: %s", kinds[k], rc, out);
    }
    snprintf(path, sizeof path, "%s/n.png", dir);
    cr_expect(access(path, F_OK) != 0, "a refused --norm wrote a figure");
    testkit_remove_dir(dir);
}

/* A profile at one depth did not say its depth (one curve gets no legend, and the title was
 * silent), and one beyond the range (18 cm for p 150 MeV, whose CSDA range in water is 15.77
 * cm, NIST PSTAR) drew a flat line on a y axis from -1 to 0 with no word. Now the title names
 * the depth and its bin, the axis starts at 0, and a note (also in the PNG's text) says there is
 * no dose there. */
Test(plot_cli, single_profile_names_its_depth_and_an_empty_one_says_so)
{
    char dir[64], args[1024], out[8192], path[256];
    testkit_temp_dir(dir, sizeof dir, "plotone");
    dose_map m;
    cJSON *run = run_with_map(dir, "--ion p --energy 150 --material water -n 1000", &m);
    const double depth[2] = {10, 18};
    for (int k = 0; k < 2; k++) {
        snprintf(args, sizeof args, "plot %s/r.json --kind profile-at %g --png %s/p.png", dir,
                 depth[k], dir);
        cr_assert(testkit_cli(args, out, sizeof out) == 0, "%s", out);
        snprintf(path, sizeof path, "%s/p.png", dir);
        image im;
        image_read(path, &im);
        char want[64];
        snprintf(want, sizeof want, "profile at %g cm (bin %g", depth[k], depth[k]);
        const char *title = image_text(&im, "Title"), *note = image_text(&im, "bragg:note");
        cr_expect(title && strstr(title, want), "title: %s", title ? title : "none");
        snprintf(want, sizeof want, "no dose at %g cm", depth[k]);
        if (depth[k] > 15.77)
            cr_expect(note && strstr(note, want), "note: %s", note ? note : "none");
        else
            cr_expect(!note, "a note where there is dose: %s", note);
        image_free(&im);
    }

    /* The empty profile's axis, laid out in-process: from 0 up. */
    bragg_err e = {{0}};
    figure_map_options mo;
    memset(&mo, 0, sizeof mo);
    mo.n_depths = 1;
    mo.depths[0] = 18;
    plot_figure f;
    cr_assert(figures_from_map(&f, run, &m, FIGURE_PROFILE_AT, &mo, &e) == BRAGG_OK, "%s", e.msg);
    cr_expect(f.note && strstr(f.note, "no dose at 18 cm"), "note: %s", f.note ? f.note : "none");
    plot_style st;
    plot_style_default(&st);
    cairo_surface_t *surf;
    plot_frame fr;
    cr_assert(plot_render(&f, &st, &surf, &fr, &e) == BRAGG_OK, "%s", e.msg);
    cairo_surface_destroy(surf);
    cr_expect(fr.y_lo == 0 && fr.y_hi > 0, "the empty profile's axis runs from %g to %g", fr.y_lo,
              fr.y_hi);
    plot_figure_free(&f);
    /* Two depths, one empty: the legend says which. */
    mo.n_depths = 2;
    mo.depths[0] = 10;
    mo.depths[1] = 18;
    cr_assert(figures_from_map(&f, run, &m, FIGURE_PROFILE_AT, &mo, &e) == BRAGG_OK, "%s", e.msg);
    cr_expect(f.n_series == 2 && !strstr(f.series[0].label, "no dose") &&
                  strstr(f.series[1].label, "18 cm") && strstr(f.series[1].label, "no dose") &&
                  !f.note,
              "legend: %s | %s", f.series[0].label, f.series[1].label);
    plot_figure_free(&f);
    dose_map_free(&m);
    cJSON_Delete(run);
    testkit_remove_dir(dir);
}

/* The length of the polyline of series s (in pixels) that lies inside rectangle b: sampled
 * finely along each segment, independently of the renderer's own clipping. */
static double hidden_length(const plot_figure *f, const plot_frame *fr, int s, const plot_rect *b)
{
    const plot_series *ps = &f->series[s];
    double hidden = 0;
    for (int i = 1; i < ps->n; i++) {
        if (!(ps->y[i - 1] > 0) || !(ps->y[i] > 0)) continue;   /* gaps on a log axis */
        double x0 = plot_x_to_pixel(fr, ps->x[i - 1]), y0 = plot_y_to_pixel(fr, ps->y[i - 1]);
        double x1 = plot_x_to_pixel(fr, ps->x[i]), y1 = plot_y_to_pixel(fr, ps->y[i]);
        y0 = fmin(y0, fr->area.y + fr->area.h);   /* below the axis: drawn at its bottom */
        y1 = fmin(y1, fr->area.y + fr->area.h);
        double len = hypot(x1 - x0, y1 - y0);
        int steps = (int)ceil(len) + 1;
        for (int k = 0; k < steps; k++) {
            double t = (k + 0.5) / steps, x = x0 + t * (x1 - x0), y = y0 + t * (y1 - y0);
            if (x >= b->x && x <= b->x + b->w && y >= b->y && y <= b->y + b->h)
                hidden += len / steps;
        }
    }
    return hidden;
}

/* `bragg plot c12.json --kind charge --log`: the legend covered the primary C-12's Bragg peak
 * (its fall, a few points far apart, counted as almost nothing against the points of the
 * fragments' curves under the other corners). The legend now goes where it hides the least of
 * each curve, the middles of the top and bottom edges included: none of the primary's line. */
Test(plot_cli, charge_legend_keeps_off_the_primary_peak)
{
    char dir[64], args[1024], out[4096], path[256];
    testkit_temp_dir(dir, sizeof dir, "plotlegend");
    snprintf(args, sizeof args,
             "run --ion C-12 --energy 400 --material water -n 100000 -q --json %s/c12.json", dir);
    cr_assert(testkit_cli(args, out, sizeof out) == 0, "%s", out);
    snprintf(path, sizeof path, "%s/c12.json", dir);
    cJSON *run = testkit_read_json(path);
    figure_options o;
    figure_options_default(&o);
    o.kind = FIGURE_CHARGE;
    o.log_y = 1;
    plot_figure f;
    plot_frame fr = layout_of(&run, 1, &o, &f);
    cr_assert(fr.has_legend);
    int primary = -1;
    for (int s = 0; s < f.n_series; s++)
        if (f.series[s].label && strncmp(f.series[s].label, "primary", 7) == 0) primary = s;
    cr_assert(primary >= 0, "no primary curve");
    double hidden = hidden_length(&f, &fr, primary, &fr.legend);
    cr_expect(hidden < 1, "the legend (%.0f, %.0f, %.0f x %.0f) hides %.0f px of the primary's "
              "line", fr.legend.x, fr.legend.y, fr.legend.w, fr.legend.h, hidden);
    plot_figure_free(&f);
    cJSON_Delete(run);
    testkit_remove_dir(dir);
}

/* The slabs of a stack were shaded on every depth plot but the dose map: `--kind map` of
 * water 5 cm | bone 2 cm | water showed no boundary. Now the map carries the slabs and draws
 * their boundaries over the cells: white lines at 5 and 7 cm, the depths the slabs were given. */
Test(plot_cli, dose_map_marks_the_slab_boundaries)
{
    char dir[64], args[1024], out[4096], path[256];
    testkit_temp_dir(dir, sizeof dir, "plotslab");
    dose_map m;
    cJSON *run = run_with_map(
        dir, "--ion C-12 --energy 290 --slab water:5 --slab bone:2 --slab water:inf -n 500", &m);
    snprintf(args, sizeof args, "plot %s/r.json --kind map --png %s/map.png", dir, dir);
    cr_assert(testkit_cli(args, out, sizeof out) == 0, "%s", out);
    bragg_err e = {{0}};
    figure_map_options mo;
    memset(&mo, 0, sizeof mo);
    plot_figure f;
    cr_assert(figures_from_map(&f, run, &m, FIGURE_MAP, &mo, &e) == BRAGG_OK, "%s", e.msg);
    cr_assert(f.n_regions == 3, "%d slabs on the map", f.n_regions);
    cr_expect(f.regions[1].x0 == 5 && f.regions[1].x1 == 7 &&
                  strcmp(f.regions[1].label, "bone") == 0,
              "slab 2: %g to %g cm, %s", f.regions[1].x0, f.regions[1].x1, f.regions[1].label);
    plot_style st;
    plot_style_default(&st);
    cairo_surface_t *surf;
    plot_frame fr;
    cr_assert(plot_render(&f, &st, &surf, &fr, &e) == BRAGG_OK, "%s", e.msg);
    cairo_surface_destroy(surf);
    plot_figure_free(&f);
    dose_map_free(&m);
    cJSON_Delete(run);
    /* Near-white pixels down the middle of the plot (clear of the names and the legend): in the
     * columns of the boundaries nearly all, inside the bone (viridis, no white in it) none. */
    snprintf(path, sizeof path, "%s/map.png", dir);
    image im;
    image_read(path, &im);
    const double at[3] = {5, 7, 6};
    for (int k = 0; k < 3; k++) {
        int x = (int)round(plot_x_to_pixel(&fr, at[k])), white = 0, rows = 0;
        for (int y = (int)(fr.area.y + 0.2 * fr.area.h); y < fr.area.y + 0.8 * fr.area.h; y++) {
            const unsigned char *p = pixel(&im, x, y);
            white += p[0] > 220 && p[1] > 220 && p[2] > 220;
            rows++;
        }
        if (k < 2)
            cr_expect(white > 0.9 * rows, "%g cm: %d of %d pixels white", at[k], white, rows);
        else
            cr_expect(white == 0, "%g cm (inside the bone): %d of %d pixels white", at[k], white,
                      rows);
    }
    image_free(&im);
    testkit_remove_dir(dir);
}

/* p 5 MeV's depth-dose figure had its depth axis in cm (0.00 to 0.07) under markers in um
 * (depth_unit.h's rule, which the summary follows). The depth axes now follow the same rule:
 * um here, the peak marker at its label's number on that axis, before the CSDA range of 5 MeV
 * protons in water, 362.3 um (NIST PSTAR: 0.03623 g/cm^2); the dose map's depth axis alike. */
Test(plot_cli, short_range_depth_axes_use_the_summary_unit)
{
    char dir[64];
    testkit_temp_dir(dir, sizeof dir, "plotum");
    dose_map m;
    cJSON *run = run_with_map(dir, "--ion p --energy 5 --material water -n 2000", &m);
    plot_figure f;
    plot_frame fr = default_frame(run, &f);
    cr_expect(f.x_unit && strcmp(f.x_unit, "\u00b5m") == 0, "depth axis in %s", f.x_unit);
    cr_expect(fr.x_hi > 362.3 && fr.x_hi < 1000, "the depth axis ends at %g", fr.x_hi);
    cr_assert(f.n_markers >= 1);
    double peak = NAN;
    cr_expect(sscanf(f.markers[0].label, "peak %lf \u00b5m", &peak) == 1, "%s", f.markers[0].label);
    cr_expect(fabs(f.markers[0].x0 - peak) < 0.01 && peak > 0.9 * 362.3 && peak < 362.3,
              "the peak marker at %g on the axis, labelled %s", f.markers[0].x0,
              f.markers[0].label);
    plot_figure_free(&f);

    bragg_err e = {{0}};
    figure_map_options mo;
    memset(&mo, 0, sizeof mo);
    cr_assert(figures_from_map(&f, run, &m, FIGURE_MAP, &mo, &e) == BRAGG_OK, "%s", e.msg);
    double end = f.heat.x0 + f.heat.nx * f.heat.dx;
    cr_expect(f.x_unit && strcmp(f.x_unit, "\u00b5m") == 0 && end > 362.3 && end < 1000,
              "the map's depth axis in %s, to %g", f.x_unit, end);
    cr_expect(strcmp(f.y_unit, "cm") == 0, "the map's lateral axis in %s", f.y_unit);
    plot_figure_free(&f);
    dose_map_free(&m);
    cJSON_Delete(run);
    testkit_remove_dir(dir);
}

/* The map figure ends where its colour scale's dose does: p 150 MeV's automatic grid is 10 cm of
 * rings (a third of the range, for the halo), and at 4 decades the figure was a strip of colour
 * at the bottom of an empty frame. Every ring holding a dose over the scale's floor stays in the
 * figure, which ends short of the grid's edge (at the next nice number, as the workbench's map
 * view; the file keeps all 200). 2000 histories: single halo protons reach 4-5 cm at this
 * floor. */
Test(plot_cli, dose_map_figure_ends_where_the_dose_does)
{
    char dir[64];
    testkit_temp_dir(dir, sizeof dir, "plotcrop");
    dose_map m;
    cJSON *run = run_with_map(dir, "--ion p --energy 150 --material water -n 2000", &m);
    bragg_err e = {{0}};
    cr_assert(m.n_lat == 200 && fabs(m.n_lat * m.lat_width - 10) < 1e-9, "%d rings of %g cm",
              m.n_lat, m.lat_width);
    /* The last ring with a dose over 1e-4 of the map's largest (the heat map averages depth
     * bins into columns, which can only lower a cell's top, so this bounds what it shows). */
    double top = 0;
    for (int c = 0; c < m.n_lat * m.n_depth; c++) top = fmax(top, m.dose[c]);
    int last = 0;
    for (int i = 0; i < m.n_depth; i++)
        for (int j = 0; j < m.n_lat; j++)
            if (m.dose[(size_t)i * m.n_lat + j] > 1e-4 * top && j > last) last = j;
    figure_map_options mo;
    memset(&mo, 0, sizeof mo);
    mo.log = 1;
    plot_figure f;
    cr_assert(figures_from_map(&f, run, &m, FIGURE_MAP, &mo, &e) == BRAGG_OK, "%s", e.msg);
    double shown = f.heat.y0 + f.heat.ny * f.heat.dy, reach = (last + 1) * m.lat_width;
    cr_expect(f.heat.y0 == 0 && shown >= reach - 1e-9 && shown < 9,
              "the figure shows %g cm of a 10 cm map whose dose reaches %g cm", shown, reach);
    cr_log_info("p 150 MeV map: dose to %g cm, figure to %g cm", (last + 1) * m.lat_width, shown);
    plot_figure_free(&f);
    dose_map_free(&m);
    cJSON_Delete(run);
    testkit_remove_dir(dir);
}

/* A bench record's profile figure: one case shows every backend profiled; several cases show
 * each case's openmp (and cuda) profile, not the twenty bars four cases of five backends made,
 * their legend over the bars. */
static cJSON *bench_with_profiles(int n_cases)
{
    static const char *const cases[] = {"c12-400-water", "p-150-water"};
    static const char *const backends[] = {"serial", "openmp", "event", "simd"};
    cJSON *root = cJSON_CreateObject(), *profiles = cJSON_AddArrayToObject(root, "profiles");
    cJSON_AddArrayToObject(root, "runs");   /* what makes it a bench record */
    for (int c = 0; c < n_cases; c++)
        for (int b = 0; b < 4; b++) {
            cJSON *p = cJSON_CreateObject();
            cJSON_AddStringToObject(p, "case", cases[c]);
            cJSON_AddStringToObject(p, "backend", backends[b]);
            cJSON_AddNumberToObject(p, "threads", b == 0 ? 1 : 2);
            cJSON *rng = cJSON_AddObjectToObject(p, "rng");
            cJSON_AddNumberToObject(rng, "share", 0.25 + 0.1 * b);
            cJSON_AddNumberToObject(rng, "ns_per_step", 40);
            cJSON_AddItemToArray(profiles, p);
        }
    return root;
}

Test(plot, a_bench_profile_figure_keeps_one_backend_per_case_over_several_cases)
{
    bragg_err e = {{0}};
    for (int n_cases = 1; n_cases <= 2; n_cases++) {
        cJSON *bench = bench_with_profiles(n_cases);
        plot_figure f;
        cr_assert(figures_from_bench(&f, bench, FIGURE_PROFILE, NULL, &e) == BRAGG_OK, "%s",
                  e.msg);
        cr_expect(f.n_series == (n_cases == 1 ? 4 : 2), "%d cases: %d bar series", n_cases,
                  f.n_series);
        for (int s = 0; n_cases > 1 && s < f.n_series; s++)
            cr_expect(strstr(f.series[s].label, "(openmp, 2 threads)"), "%s",
                      f.series[s].label);
        plot_figure_free(&f);
        cJSON_Delete(bench);
    }
}
