/* memory.c - see memory.h. */
#include "memory.h"

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

int memory_check(const run_config *c, int nbins, int channels, bragg_err *e)
{
    int threads = strcmp(c->backend, "openmp") == 0
                      ? (c->threads > 0 ? c->threads : omp_get_num_procs())
                      : 1;
    double need = memory_run_bytes(nbins, channels, c->batches, threads);
    double have = memory_machine_bytes();
    if (have <= 0 || need <= 0.5 * have) return BRAGG_OK;
    return bragg_fail(e, "memory: these scores need about %.1f GB (%d bins x %d batches, %d "
                         "threads, %d channels), more than half of this machine's %.1f GB "
                         "(valid: up to %.1f GB; use fewer --batches or --threads, a wider --bin "
                         "or a shorter --depth)",
                      need / 1e9, nbins, c->batches, threads, channels, have / 1e9,
                      0.5 * have / 1e9);
}
