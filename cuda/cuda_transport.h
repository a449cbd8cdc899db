/*
 * cuda_transport.h - the GPU side of the CUDA backend, as plain C functions the host backend
 * (src/engine/backend_cuda.c) calls. Compiled only when the build finds nvcc (BRAGG_CUDA).
 *
 * The GPU runs the event-based loop of physics/event.h: particles live in banks in device
 * memory, and every stage of an iteration is a kernel over them (start primaries, step, run
 * reactions, and one-thread bookkeeping kernels between them), with the very step and
 * reaction code the CPU runs. Same random streams, same integer scores: a GPU run scores the
 * same sums as the CPU's history loop, bit for bit, nuclear reactions included. Curves are added
 * with 64-bit integer atomics into one array in device memory (optionally summed over a warp's
 * lanes that hit the same cell first); ledger and counters are summed per warp, then added. A
 * run's dose map is map_bins more curves of that array (transport_curve_count), so it has its
 * copies and their sum like every curve. A phase space (ps_depth > 0) is recorded into one
 * buffer in device memory, slots taken atomically, and handed to the caller after each group of
 * iterations; the writer sorts the crossings (src/output/phase_space.h), so the file is the
 * CPU's.
 *
 * A cuda_session owns its device memory (tables, parameters, banks, scores) and is released by
 * cuda_session_close. All functions are called from one host thread (the engine's run thread).
 */
#ifndef BRAGG_CUDA_TRANSPORT_H
#define BRAGG_CUDA_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

#include "transport.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cuda_session cuda_session;

/* The event loop's shape (0: the default of each). */
typedef struct cuda_options {
    uint32_t target;          /* particles in flight (default 1 << 20) */
    unsigned steps_per_pass;  /* steps of each particle per step kernel (default 8) */
    int score_aggregate;      /* 1: a warp's equal-address scores added once; -1: default (1) */
    int min_blocks;           /* step kernel variant: 4 or 6 caps its registers; else none */
    uint32_t tally_copies;    /* private copies of the curves, warps spread over them (default 1) */
} cuda_options;

/* Called between groups of iterations (every few milliseconds of GPU time) with the histories
 * started so far in this run: returns 1 to start no more (cancel: those in flight finish), else
 * 0. It may block (pause). */
typedef int (*cuda_poll)(void *ctx, uint64_t started);

/* Receives phase-space crossings (n of them at p, valid during the call), and `lost`: crossings
 * that found no room in the device buffer. Called between groups of iterations. */
typedef void (*cuda_phase_space_out)(void *ctx, const phase_space_point *p, size_t n,
                                     uint64_t lost);

/* What a cuda_session_run did; the curves are added into the caller's array. */
typedef struct cuda_run_result {
    uint64_t histories;       /* started, every one of them complete */
    int64_t ledger[LEDGER_COUNT];
    uint64_t count[COUNT_COUNT];
    uint64_t steps;
    uint64_t profile_cycles[PROFILE_COUNT], profile_marks[PROFILE_COUNT];   /* profiled runs */
    double busy_seconds;      /* time in kernels (profiled runs) */
} cuda_run_result;

#define CUDA_MAX_KERNELS 8
typedef struct cuda_kernel_info {
    const char *name;
    int registers, stack_bytes, block_threads, blocks;
    double seconds;           /* profiled runs: time in this kernel so far */
    uint64_t launches;
} cuda_kernel_info;

typedef struct cuda_info {
    char name[256];               /* as cudaDeviceProp.name */
    int sm_count, cc_major, cc_minor, clock_mhz, driver_version, runtime_version;
    double memory_gib, session_mib;
    uint32_t target, capacity;
    unsigned steps_per_pass;
    int score_aggregate;
    uint32_t tally_copies;
    uint64_t iterations;
    int n_kernels;
    cuda_kernel_info kernel[CUDA_MAX_KERNELS];
} cuda_info;

/* 1 when a CUDA device can run here; else 0 with the reason ("no CUDA device: ..."). `name`
 * receives the device's name when there is one. */
int cuda_device_probe(char *reason, size_t reason_len, char *name, size_t name_len);

/* Copies the tables `params` points to, and the parameters, to the device; allocates the banks
 * and the score arrays of `n_curves` x (nbins + 1). Returns NULL with a message in `err`. */
cuda_session *cuda_session_open(const transport_params *params, int n_curves,
                                const cuda_options *options, char *err, size_t err_len);

/* Transports histories [first, first + count) and adds their curves (difference form, like a
 * CPU sink) into `curves`; the phase-space crossings, when the run records them, to ps_out; the
 * rest into *result (overwritten). With `profile`, kernels are
 * timed and the step's components charged (physics/transport.h, step_profile). Returns 0, or
 * -1 with a message. */
int cuda_session_run(cuda_session *s, uint64_t first, uint64_t count, int profile,
                     cuda_poll poll, void *poll_ctx, cuda_phase_space_out ps_out, void *ps_ctx,
                     int64_t *curves, cuda_run_result *result, char *err, size_t err_len);

/* The device and the loop's kernels. */
void cuda_session_info(const cuda_session *s, cuda_info *out);

/* The transport_params this session was opened with (host pointer), to tell when a new run
 * needs a new session. */
const transport_params *cuda_session_params(const cuda_session *s);

void cuda_session_close(cuda_session *s);

#ifdef __cplusplus
}
#endif

#endif
