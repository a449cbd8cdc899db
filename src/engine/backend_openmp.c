/*
 * backend_openmp.c - histories spread over an OpenMP thread team.
 *
 * Parallel over histories only, never inside a step. Each thread takes chunks of the batch from
 * a shared counter and scores into its own private arrays (no atomics, no locks in the hot loop);
 * the private arrays are merged by integer addition after the batch, so the sums are identical
 * for any thread count. The merge is parallel too (each thread sums a slice of the curves over
 * all private copies): with fragmentation on there are ~30 curves, and a serial merge left the
 * other threads idle for a measurable part of a batch.
 */
#include <omp.h>
#include <stdlib.h>

#include "backend.h"

typedef struct openmp_state {
    int threads;
    score_arrays *local;   /* one per thread, reused across batches */
} openmp_state;

static int openmp_available(char *reason, size_t len)
{
    (void)reason;
    (void)len;
    return 1;
}

static void openmp_release(backend *b)
{
    openmp_state *st = b->state;
    if (!st) return;
    for (int i = 0; i < st->threads; i++) score_arrays_free(&st->local[i]);
    free(st->local);
    free(st);
    b->state = NULL;
}

static int openmp_open(backend *b, int threads, const transport_params *p, bragg_err *e)
{
    openmp_state *st = calloc(1, sizeof *st);
    if (!st) return bragg_fail(e, "out of memory");
    st->threads = threads > 0 ? threads : omp_get_num_procs();
    st->local = calloc((size_t)st->threads, sizeof *st->local);
    b->state = st;
    if (!st->local) {
        openmp_release(b);
        return bragg_fail(e, "out of memory");
    }
    for (int i = 0; i < st->threads; i++)
        if (score_arrays_init(&st->local[i], p, e)) {
            openmp_release(b);
            return BRAGG_ERR;
        }
    return BRAGG_OK;
}

static int openmp_run_batch(backend *b, const backend_job *job, score_arrays *out, bragg_err *e)
{
    (void)e;
    openmp_state *st = b->state;
    atomic_uint_fast64_t next = 0;
    /* Three points of order for TSan (backend.h): region start, the barrier, region end. */
    char order[3];
    BACKEND_TSAN_RELEASE(&order[0]);
#pragma omp parallel num_threads(st->threads)
    {
        BACKEND_TSAN_ACQUIRE(&order[0]);
        score_arrays *mine = &st->local[omp_get_thread_num()];
        score_arrays_clear(mine);
        uint64_t start, n;
        while ((n = backend_take_chunk(&next, job->count, st->threads, &start)) > 0)
            if (backend_run_range(job, job->first + start, n, mine) < n) break;   /* cancelled */
        BACKEND_TSAN_RELEASE(&order[1]);
#pragma omp barrier
        BACKEND_TSAN_ACQUIRE(&order[1]);
        backend_merge_slice(out, st->local, st->threads, omp_get_thread_num());
        BACKEND_TSAN_RELEASE(&order[2]);
    }
    BACKEND_TSAN_ACQUIRE(&order[2]);
    /* Everything but the curves (ledger, counters, profile: a few dozen numbers). */
    for (int i = 0; i < st->threads; i++) score_arrays_add_totals(out, &st->local[i]);
    return BRAGG_OK;
}

static int openmp_threads(const backend *b)
{
    const openmp_state *st = b->state;
    return st ? st->threads : omp_get_num_procs();
}

void backend_openmp_init(backend *b)
{
    b->version = BACKEND_VERSION;
    b->name = "openmp";
    b->available = openmp_available;
    b->open = openmp_open;
    b->run_batch = openmp_run_batch;
    b->threads = openmp_threads;
    b->release = openmp_release;
    b->state = NULL;
}
