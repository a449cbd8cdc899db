/*
 * report.h - what a run leaves behind: the depth-dose CSV, the JSON summary and the summary
 * printed for a person.
 *
 * CSV: one row per depth bin, units in the header, numbers only. JSON: written through cJSON,
 * numbers as numbers, null for what does not exist, a schema_version. Files are written
 * atomically (src/output/atomic_file.h). Main thread; the snapshot is read-only here.
 */
#ifndef BRAGG_REPORT_H
#define BRAGG_REPORT_H

#include <stdio.h>

#include "engine.h"
#include "err.h"

#define REPORT_SCHEMA_VERSION 1

/* Name of scoring channel c of `channels`: "primary", the charge ("1", "2", ...) or
 * "target" (the local deposits of nuclear reactions). */
void channel_name(int channels, int c, char *out, size_t len);

int report_write_csv(const engine *en, const run_snapshot *snap, const char *path, bragg_err *e);
int report_write_json(const engine *en, const run_snapshot *snap, const char *path,
                      bragg_err *e);
void report_print_summary(FILE *out, const engine *en, const run_snapshot *snap);
/* Why the figures (peak, R90-R50, falloff, FWHM) describe no Bragg peak. The first three
 * follow from the setup and the grid alone; the others are read off the dose, which in a run
 * still going can cross the line from one batch to the next. */
typedef enum figures_note_kind {
    FIGURES_NOTE_NONE,          /* a Bragg peak: no note */
    FIGURES_NOTE_PAST_STACK,    /* the range lies past the end of the stack */
    FIGURES_NOTE_PAST_GRID,     /* the range lies past the scoring depth */
    FIGURES_NOTE_FEW_BINS,      /* the range spans fewer than 20 depth bins */
    FIGURES_NOTE_SPREAD,        /* the highest dose lies well before the range: energy spread */
    FIGURES_NOTE_REACTIONS,     /* ...: most primaries react before the end of their range */
    FIGURES_NOTE_EARLY,         /* ...: no cause named (p 2 GeV in water) */
    FIGURES_NOTE_SLOWING,       /* ...: the stopping power's maximum is not at the range's end
                                 * (slow heavy ions: Fe-56 of 1 MeV/u in water) */
} figures_note_kind;

/* Where the figures describe no Bragg peak: a beam whose range lies past the stack or the
 * scoring depth, or whose highest dose lies well before its CSDA depth (p 2 GeV, He-4 430
 * MeV/u in water, a wide energy spread). The kind and a sentence in out, else
 * FIGURES_NOTE_NONE (0). */
figures_note_kind report_figures_note(const engine *en, const score_result *r, char *out,
                                      size_t len);
/* The reason in a few words, for a legend ("range past the stack end"); "" for none. */
const char *report_figures_note_brief(figures_note_kind k);
/* The per-component profile table (when the run was profiled). */
void report_print_profile(FILE *out, const run_snapshot *snap);

struct cJSON;
/* The JSON summary as a cJSON tree (the caller deletes it; NULL when out of memory): what
 * --json writes, and what the PNG export reads, so a figure from `bragg run --png` and one
 * from `bragg plot` of its JSON are the same. A run with a dose map has a "map" object: its
 * grid (kind, lateral_bins, lateral_bin_cm, lateral_min_cm, depth_bins, depth_bin_cm), unit,
 * the dose beyond the grid per depth, the halo's share (its definition, the core's sigma and
 * the fraction per depth), "file": null and "profiles": [] until report_add_map_outputs. */
struct cJSON *report_build_json(const engine *en, const run_snapshot *snap);
/* Fills in the map's file name (when not NULL) and one lateral profile per depth (cm): the
 * dose of the depth bin holding it, with the core's sigma and the halo fraction there. A depth
 * outside the map, or profiles without a map, are bad input (the message names --profile-at). */
int report_add_map_outputs(struct cJSON *root, const run_snapshot *snap, const char *map_file,
                           const double *depths, int n_depths, bragg_err *e);
/* Writes a JSON tree (report_build_json's) to `path`, atomically ("-": standard output). */
int report_write_json_tree(const struct cJSON *root, const char *path, bragg_err *e);

/* Adds the "biology" object (model, cell line and its parameters, the physical dose and the
 * per-bin curves of `b`) to `root`; nothing when m is NULL. */
void report_bio_json(struct cJSON *root, const bio_model *m, const bio_curves *b);

/* Adds one object per profile component ({share, ns_per_step}, null for what is not
 * simulated), the wall-time coverage and the sampling (timed_histories, and timed_fraction of
 * the run's histories) to `obj` (a cJSON object). */
void report_profile_json(struct cJSON *obj, const run_snapshot *snap);

struct backend_device;
/* A device backend's description ({name, sm_count, ..., kernels: [{name, registers,
 * stack_bytes, ...}], loop: {...}}) as a new cJSON object (NULL when out of memory). */
struct cJSON *report_device_json(const struct backend_device *d);

/* Machine description for reports: CPU model and the logical cores available to this process
 * (its CPU affinity), the backends' default thread count. */
void report_machine(char *cpu, size_t cpu_len, int *cores);

/* The head of a benchmark record (what `bragg bench --json` writes and the workbench's race
 * exports): schema and bragg version, git revision and a "machine" object (cpu, cores, the
 * widest vector instructions the CPU has as simd and simd_bits, compiler; the caller adds
 * "gpu"). Returns the new root (the caller deletes it; NULL when out
 * of memory) and sets *machine to its "machine" object. */
struct cJSON *report_bench_root(const char *cpu, int cores, struct cJSON **machine);

#endif
