/* memory.c - see memory.h. */
#include "memory.h"

#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "transport.h"

double memory_run_bytes(int nbins, int channels, int batches, int threads)
{
    double bins = nbins, curves = CURVE_COUNT(channels);
    double arrays = (bins + 1) * curves * 8.0;              /* score_arrays: int64 per bin */
    double totals = bins * (curves + 1) * 16.0              /* run sums, __int128 */
                    + bins * batches * 16.0;                /* per-batch dose, __int128 */
    double result = 2.0 * bins * (9.0 + 3.0 * channels) * 8.0;   /* result and a snapshot */
    return (threads + 1.0) * arrays + totals + result;
}

/* A cgroup's memory limit in bytes, 0 when there is none (v2 "max") or no such file. */
static double cgroup_limit(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    char buf[64] = "";
    int ok = fgets(buf, sizeof buf, f) != NULL;
    fclose(f);
    if (!ok || strncmp(buf, "max", 3) == 0) return 0;
    double v = strtod(buf, NULL);
    /* cgroup v1 says "no limit" with a number near 2^63. */
    return v > 0 && v < 1e18 ? v : 0;
}

double memory_machine_bytes(void)
{
    long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGE_SIZE);
    double phys = pages > 0 && size > 0 ? (double)pages * size : 0;
    static const char *const limits[] = {"/sys/fs/cgroup/memory.max",
                                         "/sys/fs/cgroup/memory/memory.limit_in_bytes"};
    for (size_t i = 0; i < sizeof limits / sizeof limits[0]; i++) {
        double l = cgroup_limit(limits[i]);
        if (l > 0 && (phys == 0 || l < phys)) phys = l;
    }
    return phys;
}

int memory_map_bins(const run_config *c)
{
    if (c->map_kind == MAP_NONE) return 0;
    if (!(c->map_bin_cm > 0))
        return (c->map_kind == MAP_XZ ? 2 : 1) * CONFIG_MAP_RINGS + 1;
    if (!(c->map_radius_cm > 0)) return 0;   /* not known before the range; engine.c checks */
    return config_map_lateral_bins(c->map_kind, c->map_bin_cm, c->map_radius_cm) + 1;
}

int memory_check(const run_config *c, int nbins, int channels, int map_bins, bragg_err *e)
{
    int threads = strcmp(c->backend, "openmp") == 0
                      ? (c->threads > 0 ? c->threads : omp_get_num_procs())
                      : 1;
    double need = memory_run_bytes(nbins, channels, c->batches, threads);
    /* A map's curves are curves like the channels' (per-thread arrays, run sums), and the
     * result holds its doses twice (result and snapshot). */
    double map = map_bins;
    need += map * ((threads + 1.0) * (nbins + 1.0) * 8.0 + nbins * 16.0 + 2.0 * nbins * 8.0);
    /* --map-error: the map's curves once more per batch (128-bit sums), and the errors in the
     * result and its snapshot. */
    if (c->map_errors) need += map * (c->batches * nbins * 16.0 + 2.0 * nbins * 8.0);
    double have = memory_machine_bytes();
    if (have <= 0 || need <= 0.5 * have) return BRAGG_OK;
    char with_map[64] = "";
    if (map > 0)
        snprintf(with_map, sizeof with_map, ", a map of %.0f lateral bins%s", map,
                 c->map_errors ? " per batch" : "");
    return bragg_fail(e, "memory: these scores need about %.1f GB (%d bins x %d batches, %d "
                         "threads, %d channels%s), more than half of this machine's %.1f GB "
                         "(valid: up to %.1f GB; use fewer --batches or --threads, a wider --bin "
                         "%sor a shorter --depth)",
                      need / 1e9, nbins, c->batches, threads, channels, with_map, have / 1e9,
                      0.5 * have / 1e9, map > 0 ? "or --map-bin, a smaller --map-radius " : "");
}
