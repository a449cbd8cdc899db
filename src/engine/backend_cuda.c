/*
 * backend_cuda.c - the CUDA backend's host side: one GPU thread per history, running the step
 * code of physics/transport.h compiled for the device (cuda/cuda_transport.cu).
 *
 * Built only when the build finds nvcc (BRAGG_CUDA); otherwise, and on a machine without a
 * CUDA device, available() says why in words and every CPU backend stays usable. The engine's
 * run thread owns the backend; run_batch hands the device slices of a job so that cancel and
 * pause are seen between kernel launches.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backend.h"

#ifdef BRAGG_CUDA
#include "cuda_transport.h"

/* Histories per device call: a few milliseconds of GPU time, so cancel answers quickly. */
#define CUDA_SLICE (1u << 20)

typedef struct cuda_state {
    cuda_session *session;
    int n_curves;
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

static int cuda_open(backend *b, int threads, int nbins, int channels, bragg_err *e)
{
    (void)threads;
    (void)nbins;
    char reason[256];
    if (!cuda_available(reason, sizeof reason)) return bragg_fail(e, "backend cuda: %s", reason);
    cuda_state *st = calloc(1, sizeof *st);
    if (!st) return bragg_fail(e, "out of memory");
    st->n_curves = CURVE_COUNT(channels);
    b->state = st;
    return BRAGG_OK;
}

static int cuda_run_batch(backend *b, const backend_job *job, score_arrays *out, bragg_err *e)
{
    cuda_state *st = b->state;
    char err[256];
    if (!st->session || cuda_session_params(st->session) != job->params) {
        cuda_session_close(st->session);
        st->session = cuda_session_open(job->params, st->n_curves, err, sizeof err);
        if (!st->session) return bragg_fail(e, "backend cuda: %s", err);
    }
    uint64_t done = 0;
    while (done < job->count) {
        if (atomic_load_explicit(job->cancel, memory_order_relaxed)) break;
        while (atomic_load_explicit(job->pause, memory_order_relaxed) &&
               !atomic_load_explicit(job->cancel, memory_order_relaxed)) {
            struct timespec ts = {0, 5000000};
            nanosleep(&ts, NULL);
        }
        uint64_t n = job->count - done < CUDA_SLICE ? job->count - done : CUDA_SLICE;
        if (cuda_session_run(st->session, job->first + done, n, out->curves, out->ledger,
                             out->count, &out->steps, err, sizeof err))
            return bragg_fail(e, "backend cuda: %s", err);
        done += n;
        out->histories += n;
        atomic_fetch_add_explicit(job->progress, n, memory_order_relaxed);
    }
    return BRAGG_OK;
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

static int cuda_open(backend *b, int threads, int nbins, int channels, bragg_err *e)
{
    (void)b;
    (void)threads;
    (void)nbins;
    (void)channels;
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
    b->state = NULL;
}
