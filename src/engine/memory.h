/*
 * memory.h - what a run's scores will take in memory, checked before anything is allocated.
 *
 * The scores dominate a run's memory and grow with the product of the user's choices: depth
 * bins (--depth / --bin), batches (--batches: a dose curve kept per batch for the errors),
 * threads (--threads: private integer arrays per OpenMP thread) and the ion's scoring channels
 * (every fragment charge). A careless combination asks for tens of gigabytes, which used to be
 * accepted and end in swapping or the kernel's OOM killer. memory_check refuses it up front, as
 * bad input, naming the estimate and the options that drive it.
 *
 * The limit is half of the machine's memory, or of the container's (cgroup) limit when that
 * is lower: the rest is for the system, other programs and the outputs (the JSON of a curve of
 * a million bins alone takes gigabytes to build).
 *
 * Pure functions apart from reading the machine's memory size; no state; any thread.
 */
#ifndef BRAGG_MEMORY_H
#define BRAGG_MEMORY_H

#include "config.h"
#include "err.h"

/* Bytes the scores of a run take: per-thread arrays, the batch being merged, the run's sums,
 * the per-batch doses and a result with its snapshot copy. */
double memory_run_bytes(int nbins, int channels, int batches, int threads);

/* The machine's memory in bytes (physical, or the cgroup limit if lower); 0 when unknown. */
double memory_machine_bytes(void);

/* The dose map's lateral bins (inside the grid, and one beyond) as far as `c` tells before the
 * beam's range is known: 0 without a map, or where a given bin width has an automatic radius
 * (the engine checks again with its grid). An automatic bin width gives CONFIG_MAP_RINGS
 * across the radius whatever the range. */
int memory_map_bins(const run_config *c);

/* BRAGG_OK when a run of `c` with `nbins` bins, `channels` channels and a map of `map_bins`
 * lateral bins (0: none) fits the limit. */
int memory_check(const run_config *c, int nbins, int channels, int map_bins, bragg_err *e);

#endif
