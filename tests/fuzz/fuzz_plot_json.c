/*
 * fuzz_plot_json.c - libFuzzer target: `bragg plot`'s reader on arbitrary files. The input is
 * a JSON file: parsed strictly (src/figures/figures.c), recognised as a run or a bench record,
 * turned into every kind of figure it supports and drawn small (src/figures/plot.c: axis
 * ticks, text, bands), as bragg plot does before writing the PNG.
 *
 * Checks: no crash or sanitizer report (extreme numbers once overflowed in the axis ticks);
 * messages are one printable line.
 */
#include <cairo.h>
#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "figures.h"
#include "fuzz_check.h"
#include "plot.h"

static void draw(plot_figure *fig)
{
    plot_style style;
    plot_style_default(&style);
    style.width = PLOT_MIN_WIDTH;
    style.height = PLOT_MIN_HEIGHT;
    cairo_surface_t *surface = NULL;
    bragg_err e = {{0}};
    if (plot_render(fig, &style, &surface, NULL, &e) == BRAGG_OK) cairo_surface_destroy(surface);
    else fuzz_check_message(e.msg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text) abort();
    memcpy(text, data, size);
    text[size] = '\0';
    bragg_err e = {{0}};
    cJSON *root = figures_parse_json(text, size, "fuzz.json", &e);
    free(text);
    if (!root) {
        fuzz_check_message(e.msg);
        return 0;
    }
    figure_source src = figures_source(root);
    static const figure_kind run_kinds[] = {FIGURE_DOSE,    FIGURE_CHARGE, FIGURE_LET,
                                            FIGURE_LATERAL, FIGURE_FLUENCE, FIGURE_YIELDS,
                                            FIGURE_BIO,     FIGURE_PROFILE};
    static const figure_kind bench_kinds[] = {FIGURE_BENCH, FIGURE_PROFILE};
    int n = src == FIGURE_SOURCE_RUN     ? (int)(sizeof run_kinds / sizeof *run_kinds)
            : src == FIGURE_SOURCE_BENCH ? 2
            : src == FIGURE_SOURCE_SOBP  ? 1
                                         : 0;
    for (int k = 0; k < n; k++) {
        plot_figure fig;
        const cJSON *runs[1] = {root};
        figure_options o;
        figure_options_default(&o);
        o.kind = run_kinds[k];
        o.norm = (figure_norm)(k % 3);
        o.log_y = k & 1;
        int rc = src == FIGURE_SOURCE_RUN     ? figures_from_runs(&fig, runs, 1, &o, &e)
                 : src == FIGURE_SOURCE_BENCH ? figures_from_bench(&fig, root, bench_kinds[k],
                                                                   NULL, &e)
                                              : figures_from_sobp(&fig, root, NULL, &e);
        if (rc == BRAGG_OK) {
            draw(&fig);
            plot_figure_free(&fig);
        } else {
            fuzz_check_message(e.msg);
        }
    }
    cJSON_Delete(root);
    return 0;
}
