/*
 * backend_cuda.c - the CUDA backend's host side: the event-based particle loop of
 * physics/event.h run as kernels on the GPU (cuda/cuda_transport.cu), with the step and
 * reaction code the CPU runs.
 *
 * Built only when the build finds nvcc (BRAGG_CUDA); otherwise, and on a machine without a
 * CUDA device, available() says why in words and every CPU backend stays usable. The engine's
 * run thread owns the backend. A job runs as one loop on the device; every few milliseconds of
 * GPU time the loop looks back here (poll): progress, pause (the device waits), cancel (no new
 * histories start; those in flight finish, so every history counted is complete).
 *
 * The loop's shape can be set from the environment, for benchmarks: BRAGG_CUDA_TARGET
 * (particles in flight, default 2^20), BRAGG_CUDA_STEPS (steps per particle per pass, default
 * 8), BRAGG_CUDA_AGGREGATE (0 or 1: sum a warp's scores to one cell before the atomic add),
 * BRAGG_CUDA_MINBLOCKS (3 or 4: the step kernel variant whose registers are capped so that
 * that many blocks of 128 threads fit an SM; 6 spilled 1.7 kB a thread and was dropped), BRAGG_CUDA_COPIES (1 to 256 private copies of the
 * curves that the warps spread their atomic adds over, summed at the end of each job).
 * None of them changes a result, only the speed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backend.h"

#ifdef BRAGG_CUDA
#include "cuda_transport.h"

typedef struct cuda_state {
    cuda_session *session;
    int n_curves;
    cuda_options options;
} cuda_state;

static int cuda_available(char *reason, size_t len)
{
    return cuda_device_probe(reason, len, NULL, 0);
}

static void cuda_release(backend *b)
{
    cuda_state *st = b->state;
    if (!st) return;
    cuda_session_close(st->session);
    free(st);
    b->state = NULL;
}

/* A non-negative integer from the environment, or `fallback`. */
static long env_long(const char *name, long fallback, long max)
{
    const char *v = getenv(name);
    if (!v || !*v) return fallback;
    char *end;
    long x = strtol(v, &end, 10);
    return *end || x < 0 || x > max ? fallback : x;
}

static int cuda_open(backend *b, int threads, const transport_params *p, bragg_err *e)
{
    (void)threads;
    char reason[256];
    if (!cuda_available(reason, sizeof reason)) return bragg_fail(e, "backend cuda: %s", reason);
    cuda_state *st = calloc(1, sizeof *st);
    if (!st) return bragg_fail(e, "out of memory");
    st->n_curves = transport_curve_count(p);   /* the depth curves and the dose map's */
    st->options.target = (uint32_t)env_long("BRAGG_CUDA_TARGET", 0, 1L << 26);
    st->options.steps_per_pass = (unsigned)env_long("BRAGG_CUDA_STEPS", 0, 4096);
    st->options.score_aggregate = (int)env_long("BRAGG_CUDA_AGGREGATE", -1, 1);
    st->options.min_blocks = (int)env_long("BRAGG_CUDA_MINBLOCKS", 1, 4);
    st->options.tally_copies = (uint32_t)env_long("BRAGG_CUDA_COPIES", 1, 256);
    b->state = st;
    return BRAGG_OK;
}

typedef struct poll_ctx {
    const backend_job *job;
    uint64_t reported;
} poll_ctx;

/* Between groups of iterations: progress, pause, cancel (see cuda_transport.h). */
static int cuda_poll_job(void *arg, uint64_t started)
{
    poll_ctx *ctx = arg;
    const backend_job *job = ctx->job;
    if (started > ctx->reported) {
        atomic_fetch_add_explicit(job->progress, started - ctx->reported, memory_order_relaxed);
        ctx->reported = started;
    }
    while (atomic_load_explicit(job->pause, memory_order_relaxed) &&
           !atomic_load_explicit(job->cancel, memory_order_relaxed)) {
        struct timespec ts = {0, 5000000};
        nanosleep(&ts, NULL);
    }
    return atomic_load_explicit(job->cancel, memory_order_relaxed) != 0;
}

/* The GPU's phase-space crossings into the job's arrays (what finds no memory counts as lost,
 * phase_space_list_append). */
static void cuda_take_phase_space(void *ctx, const phase_space_point *p, size_t n, uint64_t lost)
{
    score_arrays *out = ctx;
    phase_space_list piece = {(phase_space_point *)p, n, n, lost};
    phase_space_list_append(&out->ps, &piece);
}

static int cuda_run_batch(backend *b, const backend_job *job, score_arrays *out, bragg_err *e)
{
    cuda_state *st = b->state;
    char err[256];
    if (!st->session || cuda_session_params(st->session) != job->params) {
        cuda_session_close(st->session);
        st->session = cuda_session_open(job->params, st->n_curves, &st->options, err, sizeof err);
        if (!st->session) return bragg_fail(e, "backend cuda: %s", err);
    }
    if (atomic_load_explicit(job->cancel, memory_order_relaxed)) return BRAGG_OK;
    poll_ctx ctx = {job, 0};
    cuda_run_result r;
    if (cuda_session_run(st->session, job->first, job->count, job->profile_every != 0,
                         cuda_poll_job, &ctx, cuda_take_phase_space, out, out->curves, &r, err,
                         sizeof err))
        return bragg_fail(e, "backend cuda: %s", err);
    for (int k = 0; k < LEDGER_COUNT; k++) out->ledger[k] += r.ledger[k];
    for (int k = 0; k < COUNT_COUNT; k++) out->count[k] += r.count[k];
    out->steps += r.steps;
    out->histories += r.histories;
    if (job->profile_every) {
        /* Every particle is profiled on the GPU; its time is the kernels' (device time, in the
         * engine's clock ticks, for the coverage and the time per step). */
        for (int k = 0; k < PROFILE_COUNT; k++) {
            out->profile_cycles[k] += r.profile_cycles[k];
            out->profile_marks[k] += r.profile_marks[k];
        }
        out->profiled_histories += r.histories;
        out->profiled_steps += r.steps;
        if (job->clock_hz > 0) out->history_cycles += (uint64_t)(r.busy_seconds * job->clock_hz);
    }
    return BRAGG_OK;
}

static int cuda_device(const backend *b, backend_device *out)
{
    const cuda_state *st = b->state;
    memset(out, 0, sizeof *out);
    if (!st || !st->session) return 0;
    cuda_info info;
    cuda_session_info(st->session, &info);
    snprintf(out->name, sizeof out->name, "%s", info.name);
    out->sm_count = info.sm_count;
    out->cc_major = info.cc_major;
    out->cc_minor = info.cc_minor;
    out->clock_mhz = info.clock_mhz;
    out->memory_gib = info.memory_gib;
    out->driver_version = info.driver_version;
    out->runtime_version = info.runtime_version;
    out->target = info.target;
    out->capacity = info.capacity;
    out->steps_per_pass = info.steps_per_pass;
    out->score_aggregate = info.score_aggregate;
    out->tally_copies = info.tally_copies;
    out->iterations = info.iterations;
    out->device_memory_mib = info.session_mib;
    out->n_kernels = info.n_kernels < BACKEND_MAX_KERNELS ? info.n_kernels : BACKEND_MAX_KERNELS;
    for (int k = 0; k < out->n_kernels; k++) {
        const cuda_kernel_info *ki = &info.kernel[k];
        backend_kernel *ko = &out->kernel[k];
        snprintf(ko->name, sizeof ko->name, "%s", ki->name);
        ko->registers = ki->registers;
        ko->stack_bytes = ki->stack_bytes;
        ko->block_threads = ki->block_threads;
        ko->blocks = ki->blocks;
        ko->seconds = ki->seconds;
        ko->timed = ki->seconds > 0.0;
        ko->launches = ki->launches;
    }
    return 1;
}

/* One device; the engine's per-thread figures are then per GPU. */
static int cuda_threads(const backend *b)
{
    (void)b;
    return 1;
}

#else /* no nvcc at build time */

static int cuda_available(char *reason, size_t len)
{
    snprintf(reason, len, "built without CUDA (nvcc was not found when bragg was built)");
    return 0;
}

static void cuda_release(backend *b)
{
    (void)b;
}

static int cuda_open(backend *b, int threads, const transport_params *p, bragg_err *e)
{
    (void)b;
    (void)threads;
    (void)p;
    char reason[160];
    cuda_available(reason, sizeof reason);
    return bragg_fail(e, "backend cuda: %s", reason);
}

static int cuda_run_batch(backend *b, const backend_job *job, score_arrays *out, bragg_err *e)
{
    (void)b;
    (void)job;
    (void)out;
    return bragg_fail(e, "backend cuda: not available");
}

static int cuda_threads(const backend *b)
{
    (void)b;
    return 0;
}

#endif

void backend_cuda_init(backend *b)
{
    b->version = BACKEND_VERSION;
    b->name = "cuda";
    b->available = cuda_available;
    b->open = cuda_open;
    b->run_batch = cuda_run_batch;
    b->threads = cuda_threads;
    b->release = cuda_release;
#ifdef BRAGG_CUDA
    b->device = cuda_device;
#endif
    b->state = NULL;
}
