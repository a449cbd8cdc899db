/*
 * backend.h - where histories run: a small plug-in interface in the shape of SQLite's VFS.
 *
 * A backend is a struct of function pointers with a version, a name and its own state. The
 * engine opens one per run, hands it batches (a contiguous range of history indices) and gets
 * integer score arrays back. Because every history draws from its own random stream and scores
 * are integers, any backend and any thread count give bit-identical sums for the same histories.
 *
 * available() says, in words, why a backend cannot run here ("built without CUDA"). run_batch
 * is called from the engine's run thread only; it must watch `cancel` (stop soon, keep what is
 * complete) and `pause` (wait) between small chunks of histories, and count completed histories
 * into `progress` so the screen can show live rates inside a batch.
 */
#ifndef BRAGG_BACKEND_H
#define BRAGG_BACKEND_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "score.h"
#include "simd.h"
#include "transport.h"

#define BACKEND_VERSION 3

/* ThreadSanitizer (make tsan) cannot see libgomp's own synchronisation (the runtime is not
 * instrumented): every access ordered only by the start of a parallel region, its barrier or
 * its end looked like a race, and each suppressed report cost so much that a run under TSan
 * crawled. The OpenMP backends tell TSan those orders as release/acquire pairs on an address
 * of their choosing; outside a TSan build these are nothing. */
#if defined(__SANITIZE_THREAD__)
#define BACKEND_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define BACKEND_TSAN 1
#endif
#endif
#ifdef BACKEND_TSAN
#include <sanitizer/tsan_interface.h>
#define BACKEND_TSAN_RELEASE(a) __tsan_release(a)
#define BACKEND_TSAN_ACQUIRE(a) __tsan_acquire(a)
#else
#define BACKEND_TSAN_RELEASE(a) ((void)(a))
#define BACKEND_TSAN_ACQUIRE(a) ((void)(a))
#endif

typedef struct backend_job {
    const transport_params *params;
    uint64_t first, count;            /* histories [first, first + count) */
    atomic_uint_fast64_t *progress;   /* completed histories, this run */
    const atomic_int *cancel;
    const atomic_int *pause;
    unsigned profile_every;           /* profile histories h with h % profile_every == 0; 0: off */
    double clock_hz;                  /* profile_clock ticks per second (when profiling) */
} backend_job;

/* What a device backend can tell about its device and kernels (nvtop's habit: figures it
 * cannot measure are left invalid, never a fake 0). */
#define BACKEND_MAX_KERNELS 8
typedef struct backend_kernel {
    char name[32];
    int registers, stack_bytes;     /* per thread, from the compiled kernel */
    int block_threads, blocks;      /* launch shape */
    double seconds;                 /* time in this kernel during the run (profiled runs), */
    int timed;                      /* valid when timed */
    uint64_t launches;
} backend_kernel;

typedef struct backend_device {
    char name[256];               /* as cudaDeviceProp.name */
    int sm_count, cc_major, cc_minor, clock_mhz;
    double memory_gib;
    int driver_version, runtime_version;     /* as CUDA encodes them: 1000 major + 10 minor */
    int n_kernels;
    backend_kernel kernel[BACKEND_MAX_KERNELS];
    /* The event loop's shape: particles in flight, bank slots, steps per pass, whether a
     * warp's equal-address scores are added once. */
    uint32_t target, capacity;
    unsigned steps_per_pass;
    int score_aggregate;
    uint32_t tally_copies;          /* private copies of the curves the warps spread over */
    uint64_t iterations;
    double device_memory_mib;       /* what the run holds on the device */
} backend_device;

typedef struct backend {
    int version;
    const char *name;
    /* 1 when usable; otherwise 0 and a reason in `reason`. */
    int (*available)(char *reason, size_t len);
    /* Prepares to run batches of runs shaped like `p` (bins, channels, map) on `threads`
     * threads (0 = all cores). */
    int (*open)(struct backend *b, int threads, const transport_params *p, bragg_err *e);
    /* Adds the job's histories into `out` (cleared by the caller). */
    int (*run_batch)(struct backend *b, const backend_job *job, score_arrays *out, bragg_err *e);
    /* Threads actually used, after open. */
    int (*threads)(const struct backend *b);
    void (*release)(struct backend *b);
    /* Device backends (NULL for the CPU ones): fills `out` after open; 0 if nothing to say. */
    int (*device)(const struct backend *b, backend_device *out);
    /* Backends with vector kernels (NULL for the others): the path they run after open
     * (simd_path_name: "scalar", "avx2", "avx512"). Since version 3. */
    const char *(*vector_path)(const struct backend *b);
    void *state;
} backend;

/* A fresh instance of the backend named `name` (serial, openmp, event, simd, cuda), or NULL with a message
 * listing the valid names. The caller releases it with backend->release and free(). */
backend *backend_new(const char *name, bragg_err *e);

/* Names of all backends, for menus and messages. */
extern const char *const backend_names[];

/* Each backend's constructor (src/engine/backend_*.c). */
void backend_serial_init(backend *b);
void backend_openmp_init(backend *b);
void backend_event_init(backend *b);
void backend_simd_init(backend *b);
void backend_cuda_init(backend *b);

/* The vector path the simd backend takes: BRAGG_SIMD (auto, scalar, avx2, avx512; unset: auto,
 * the widest this CPU has). An unknown name or one the CPU cannot run is an error naming it; so
 * is a BRAGG_SIMD_STEPS (1 to 4096) or BRAGG_SIMD_BLOCKS (1 to 64) that is not a whole number
 * in its range, which the simd backend's open refuses too. */
int backend_simd_path(simd_path *path, bragg_err *e);

/* Shared by the CPU backends: runs histories [first, first+count) on the calling thread into
 * `out`, in chunks, honouring cancel and pause; with a phase-space plane (params->ps_depth > 0),
 * the crossings into out->ps. Returns the number completed. */
uint64_t backend_run_range(const backend_job *job, uint64_t first, uint64_t count,
                           score_arrays *out);

/* Takes the next chunk of a batch of `count` histories for one of `threads` workers sharing the
 * counter `next`: guided self-scheduling, a share of what is left (at most 64 histories, so the
 * shared counter stays cold), shrinking towards one history at the end so the threads finish a
 * batch together: the last chunk is the idle tail of the others. Returns the chunk's size (0
 * when the batch is done) and its start (relative to the batch) in *start. */
uint64_t backend_take_chunk(atomic_uint_fast64_t *next, uint64_t count, int threads,
                            uint64_t *start);

/* The CPU event loop (backend_event.c) on the calling thread over histories [first, first +
 * count), with `target` particles in flight, `capacity` slots in the live banks and
 * `react_capacity` in the reactions' bank, `steps` steps per pass, and `ahead_blocks` Philox
 * blocks per particle computed before each pass on vector path `path` (0: none, as the event
 * backend): for tests of the loop's bookkeeping at shapes the backends never use (tiny banks).
 * Adds into `out`. */
int backend_event_run_range(const transport_params *p, uint64_t first, uint64_t count,
                            uint32_t target, uint32_t capacity, uint32_t react_capacity,
                            unsigned steps, simd_path path, unsigned ahead_blocks,
                            score_arrays *out, bragg_err *e);

/* Adds the curves of `local[0..n)` into `out`: the slice of them that worker `me` of n takes
 * (called by every thread of a team, after a barrier), so that the merge of a batch's
 * per-thread curves is parallel too. The totals (ledger, counters) are the caller's. */
void backend_merge_slice(score_arrays *out, const score_arrays *local, int n, int me);

#endif
