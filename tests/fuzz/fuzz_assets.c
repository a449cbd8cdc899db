/*
 * fuzz_assets.c - libFuzzer target: the asset readers on arbitrary file contents.
 *
 * The first byte picks the file (ions, elements, materials, low-energy fits, shell tables); the
 * rest is its text, read from a temporary file by the real loader. A loader must load it or
 * refuse it with a one-line message; low-energy fits or shell tables that load must give
 * tables that are finite, or be refused by transport_table_build (physics/tables.c), never a
 * NaN that reaches the transport. The other files come from assets/.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "catalog.h"
#include "fuzz_check.h"
#include "tables.h"

static char path[512];
static catalog real;   /* the shipped assets, for the files not being fuzzed */

/* libFuzzer ends with exit(): the scratch file goes with it, not left in the temp folder. */
static void remove_scratch(void)
{
    unlink(path);
}

static void setup(void)
{
    if (path[0]) return;
    const char *tmp = getenv("TMPDIR");   /* the scratch file of every input, as mkstemp wants */
    int n = snprintf(path, sizeof path, "%s/bragg-fuzz-asset-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    int fd = n > 0 && (size_t)n < sizeof path ? mkstemp(path) : -1;
    if (fd < 0 || catalog_load(&real, NULL)) abort();
    close(fd);
    atexit(remove_scratch);
}

/* The tables of protons in water built from `data`: refused or finite. */
static void build_tables(const stopping_data *data)
{
    const ion *p = ion_table_find(&real.ions, "p");
    const material *water = material_table_find(&real.materials, "water");
    transport_table tab;
    bragg_err e = {{0}};
    if (transport_table_build(&tab, p, water, data, stopping_switches_all(), &e)) {
        fuzz_check_message(e.msg);
        return;
    }
    for (uint32_t i = 0; i < tab.energy_grid.ncell; i++)
        if (!(tab.stopping[i].value > 0) || !(tab.range[i].value > 0)) abort();
    transport_table_free(&tab);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    setup();
    FILE *f = fopen(path, "wb");
    if (!f) abort();
    fwrite(data + 1, 1, size - 1, f);
    fclose(f);
    bragg_err e = {{0}};
    int rc = BRAGG_OK;
    switch (data[0] % 5) {
    case 0: {
        ion_table t;
        if ((rc = ion_table_load(&t, path, &e)) == BRAGG_OK) ion_table_free(&t);
        break;
    }
    case 1:
    case 2: {
        material_table t;
        rc = data[0] % 5 == 1 ? material_table_load(&t, path, "materials.tsv", &e)
                              : material_table_load(&t, "elements.tsv", path, &e);
        if (rc == BRAGG_OK) material_table_free(&t);
        break;
    }
    case 3:
    case 4: {
        stopping_data *d = malloc(sizeof *d);
        if (!d) abort();
        memcpy(d, real.stopping, sizeof *d);
        rc = data[0] % 5 == 3 ? lowenergy_table_load(&d->low, &real.materials, path, &e)
                              : shell_tables_load(&d->shell, path, &e);
        if (rc == BRAGG_OK) build_tables(d);
        free(d);
        break;
    }
    }
    if (rc != BRAGG_OK) fuzz_check_message(e.msg);
    return 0;
}
