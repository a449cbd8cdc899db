/*
 * fuzz_options.c - libFuzzer target: what users type. The input, split at NUL bytes, is an
 * argument vector for the option parser (src/cli/options.c) with one option of every kind,
 * including the slab, size, kind and norm parsers; the whole input is also a workbench
 * settings file (ui/settings.c) and every word a number (physics/assets.h) and a quoted value.
 *
 * Checks: no crash or sanitizer report; messages are one printable line; a quoted value fits
 * its buffer and is printable; a parsed number is finite and in range.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "assets.h"
#include "config.h"
#include "figures.h"
#include "fuzz_check.h"
#include "options.h"
#include "plot.h"
#include "settings.h"

static int add_slab(const char *value, void *ctx, bragg_err *e)
{
    return config_add_slab(ctx, value, e);
}

static int set_size(const char *value, void *ctx, bragg_err *e)
{
    return plot_parse_size(value, ctx, e);
}

static int set_kind(const char *value, void *ctx, bragg_err *e)
{
    return figure_kind_parse(value, ctx, e);
}

static int set_norm(const char *value, void *ctx, bragg_err *e)
{
    return figure_norm_parse(value, ctx, e);
}

#define MAX_ARGS 32

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text) abort();
    memcpy(text, data, size);
    text[size] = '\0';
    char *argv[MAX_ARGS];
    int argc = 0;
    for (size_t i = 0; i <= size && argc < MAX_ARGS; i += strlen(text + i) + 1)
        argv[argc++] = text + i;

    run_config cfg;
    config_default(&cfg);
    cfg.n_slabs = 0;
    plot_style style;
    plot_style_default(&style);
    figure_kind kind = FIGURE_AUTO;
    figure_norm norm = FIGURE_NORM_NONE;
    int flag = 0, clear = 1, count_int = 0, help;
    double energy = NAN;
    uint64_t count = 0;
    const char *name = NULL;
    const option_spec specs[] = {
        {"flag", 'f', OPTION_FLAG, &flag, 0, 0, 0, "a flag", 0},
        {"no-clear", 0, OPTION_CLEAR, &clear, 0, 0, 0, "a switch", 0},
        {"name", 'n', OPTION_STRING, &name, 0, 0, "NAME", "a string", 0},
        {"energy", 'e', OPTION_DOUBLE, &energy, 0.001, 2000, "MEV_U", "a number", 0},
        {"threads", 't', OPTION_INT, &count_int, 0, 1024, "N", "an int", 0},
        {"histories", 'h', OPTION_COUNT, &count, 1, 1e12, "N", "a count", 0},
        {"slab", 0, OPTION_CALL, &cfg, 0, 0, "MAT:CM", "a slab", add_slab},
        {"size", 0, OPTION_CALL, &style, 0, 0, "WxH", "a size", set_size},
        {"kind", 0, OPTION_CALL, &kind, 0, 0, "KIND", "a kind", set_kind},
        {"norm", 0, OPTION_CALL, &norm, 0, 0, "WHAT", "a norm", set_norm},
        {0},
    };
    bragg_err e = {{0}};
    if (option_parse(specs, argc, argv, &help, &e) != BRAGG_OK) fuzz_check_message(e.msg);
    else if (!isnan(energy) && !(energy >= 0.001 && energy <= 2000)) abort();

    for (int i = 0; i < argc; i++) {
        char quoted[BRAGG_QUOTE_LEN];
        bragg_quote(argv[i], quoted, sizeof quoted);
        fuzz_check_message(quoted);
        double v;
        if (parse_decimal(argv[i], &v) == BRAGG_OK && !isfinite(v)) abort();
    }

    /* The settings file (a run file with a [workbench] section): a file that is refused leaves
     * the settings as they were. */
    static workbench_settings w, before;   /* large */
    memset(&w, 0, sizeof w);
    w.cfg = cfg;
    before = w;
    e.msg[0] = '\0';
    if (settings_parse(text, "workbench.conf", &w, &e) != BRAGG_OK) {
        fuzz_check_message(e.msg);
        if (memcmp(&before, &w, sizeof w) != 0) abort();   /* rejected whole */
    }
    free(text);
    return 0;
}
