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
#include "transport.h"

#define BACKEND_VERSION 1

typedef struct backend_job {
    const transport_params *params;
    uint64_t first, count;            /* histories [first, first + count) */
    atomic_uint_fast64_t *progress;   /* completed histories, this run */
    const atomic_int *cancel;
    const atomic_int *pause;
    unsigned profile_every;           /* profile histories h with h % profile_every == 0; 0: off */
} backend_job;

typedef struct backend {
    int version;
    const char *name;
    /* 1 when usable; otherwise 0 and a reason in `reason`. */
    int (*available)(char *reason, size_t len);
    /* Prepares to run batches over `nbins` bins on `threads` threads (0 = all cores). */
    int (*open)(struct backend *b, int threads, int nbins, int channels, bragg_err *e);
    /* Adds the job's histories into `out` (cleared by the caller). */
    int (*run_batch)(struct backend *b, const backend_job *job, score_arrays *out, bragg_err *e);
    /* Threads actually used, after open. */
    int (*threads)(const struct backend *b);
    void (*release)(struct backend *b);
    void *state;
} backend;

/* A fresh instance of the backend named `name` (serial, openmp, cuda), or NULL with a message
 * listing the valid names. The caller releases it with backend->release and free(). */
backend *backend_new(const char *name, bragg_err *e);

/* Names of all backends, for menus and messages. */
extern const char *const backend_names[];

/* Each backend's constructor (src/engine/backend_*.c). */
void backend_serial_init(backend *b);
void backend_openmp_init(backend *b);
void backend_cuda_init(backend *b);

/* Shared by the CPU backends: runs histories [first, first+count) on the calling thread into
 * `out`, in chunks, honouring cancel and pause. Returns the number completed. */
uint64_t backend_run_range(const backend_job *job, uint64_t first, uint64_t count,
                           score_arrays *out);

#endif
