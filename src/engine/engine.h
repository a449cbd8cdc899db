/*
 * engine.h - a run: builds the physics tables, splits the histories into batches, hands the
 * batches to a backend on its own thread, merges their scores and publishes snapshots.
 *
 * Lifecycle: engine_create (validates the configuration, builds tables; main thread) ->
 * engine_start (spawns the run thread) -> any number of engine_snapshot / engine_pause /
 * engine_cancel / engine_wait calls from any one controlling thread -> engine_destroy (joins the
 * run thread). Snapshots are copies: readers never block the workers, and a cancelled run keeps
 * every history it completed (the snapshot says the run is partial).
 *
 * The engine owns its catalog copy, tables, backend and scores.
 */
#ifndef BRAGG_ENGINE_H
#define BRAGG_ENGINE_H

#include <stdint.h>

#include "biodose.h"
#include "config.h"
#include "err.h"
#include "score.h"

typedef enum run_state {
    RUN_READY,
    RUN_RUNNING,
    RUN_PAUSED,
    RUN_DONE,
    RUN_CANCELLED,
    RUN_FAILED,
} run_state;

const char *run_state_name(run_state s);

typedef struct run_snapshot {
    run_state state;
    char error[512];            /* when RUN_FAILED */
    uint64_t histories_total;
    uint64_t histories_done;    /* completed, including the batch in flight */
    int batches_done, batches_total;
    double elapsed_s;           /* running time, pauses excluded */
    double histories_per_s;
    double steps_per_s;
    score_result result;        /* from the completed batches */
    bio_curves bio;             /* when the configuration names a model (else bio.nbins = 0) */
    /* Profile (when the run was started with profile on; else profile_on = 0). */
    int profile_on;
    double profile_share[PROFILE_COUNT];        /* of the profiled histories' time, sums to 1 */
    double profile_ns_per_step[PROFILE_COUNT];  /* per thread */
    double profile_coverage;    /* profiled time extrapolated to all histories / (wall * threads) */
    /* Histories whose steps were timed: one in 32 on the CPU, every one on the GPU. */
    uint64_t profile_timed_histories;
} run_snapshot;

/* Names of the profile components, for tables ("stopping power", "range", ...). */
extern const char *const profile_component_names[PROFILE_COUNT];

typedef struct engine engine;

int engine_create(engine **out, const run_config *cfg, bragg_err *e);
int engine_start(engine *en, bragg_err *e);
void engine_pause(engine *en, int paused);
void engine_cancel(engine *en);
/* Waits up to timeout_s for the run to end; 1 when it has ended. */
int engine_wait(engine *en, double timeout_s);
/* Fills `out` (its result arrays are owned by `out`: free with run_snapshot_free). */
int engine_snapshot(engine *en, run_snapshot *out, bragg_err *e);
void run_snapshot_free(run_snapshot *s);
void engine_destroy(engine *en);

/* What the run is made of, for reports. */
const run_config *engine_config(const engine *en);
const transport_params *engine_params(const engine *en);
const char *engine_backend_name(const engine *en);
int engine_threads(const engine *en);
struct backend_device;
/* The device the run's backend uses (GPU model, kernels' registers and stack, the loop's
 * shape): 1 and *out filled for a device backend that has opened, else 0. */
int engine_device(const engine *en, struct backend_device *out);
/* The vector path of the run's backend ("scalar", "avx2", "avx512"), or NULL for a backend
 * without vector kernels. */
const char *engine_vector_path(const engine *en);
/* CSDA penetration depth of the beam's nominal energy through the stack, cm. */
double engine_csda_depth(const engine *en);
/* The phase-space crossings of the run (config phase_space_depth_cm > 0), in no particular
 * order (src/output/phase_space.h sorts them): read only once the run has ended. */
phase_space_list *engine_phase_space(engine *en);
/* The biological model of the run, or NULL when it has none. */
const bio_model *engine_bio(const engine *en);

/* ---- driving a run from outside (e.g. across MPI ranks, src/mpi/mpi_run.h) ----------------------
 * Instead of engine_start, a driver may run histories itself on the engine's backend and hand
 * the merged sums back. These functions must not be used while the run thread is going (never
 * call them after engine_start); they are for one thread at a time. */

/* Batch b (0 <= b < batches) covers histories [*first, *first + *count): batches are fixed
 * ranges of history indices, the same however the histories are spread over workers, so the
 * per-batch statistics do not depend on how the run was split. */
void engine_batch_range(const engine *en, int b, uint64_t *first, uint64_t *count);
/* Most histories one backend job may run before an int64 accumulator could overflow. */
uint64_t engine_max_job_histories(const engine *en);
/* Runs histories [first, first + count) on the engine's backend into `out` (cleared here,
 * finished here: per-bin values). count must not exceed engine_max_job_histories. Honours
 * engine_cancel. */
int engine_run_range(engine *en, uint64_t first, uint64_t count, score_arrays *out, bragg_err *e);
/* How a driven run went, for engine_adopt_totals. */
typedef struct adopted_run {
    run_state end;        /* RUN_DONE, RUN_CANCELLED (stopped early: partial) or RUN_FAILED */
    const char *error;    /* why, for RUN_FAILED */
    double elapsed_s;
    /* Histories and steps in the sums that were run before (a checkpoint resumed): the rates
     * count only what ran in elapsed_s. */
    uint64_t resumed_histories, resumed_steps;
} adopted_run;

/* Makes `t` (same bins, channels and batches as the engine's) the run's result: the engine
 * takes its contents and leaves `t` holding the engine's previous, empty sums, for the caller
 * to free. The run has then ended as `how` says, and engine_snapshot and the report writers
 * work as after engine_wait. */
int engine_adopt_totals(engine *en, score_totals *t, const adopted_run *how, bragg_err *e);

#endif
