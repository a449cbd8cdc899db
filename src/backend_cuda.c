/*
 * backend_cuda.c - the CUDA backend's host side.
 *
 * This build has no CUDA kernels yet (the cuda/ folder and the GPU run are future work), so the
 * backend reports itself unavailable with the precise reason and every CPU backend stays usable.
 */
#include <stdio.h>

#include "backend.h"

static int cuda_available(char *reason, size_t len)
{
    snprintf(reason, len, "built without CUDA (this version of bragg has no CUDA backend yet)");
    return 0;
}

static int cuda_open(backend *b, int threads, int nbins, int channels, bragg_err *e)
{
    (void)channels;
    (void)b;
    (void)threads;
    (void)nbins;
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

static void cuda_release(backend *b)
{
    (void)b;
}

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
