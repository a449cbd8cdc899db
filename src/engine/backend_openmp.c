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

/* ThreadSanitizer (make tsan) cannot see libgomp's own synchronisation (the runtime is not
 * instrumented): every access ordered only by the start of a parallel region, its barrier or
 * its end looked like a race, and each suppressed report cost so much that a run under TSan
 * crawled. The same orders are told to TSan as release/acquire pairs; elsewhere these are
 * nothing. */
#if defined(__SANITIZE_THREAD__)
#define OPENMP_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define OPENMP_TSAN 1
#endif
#endif
#ifdef OPENMP_TSAN
#include <sanitizer/tsan_interface.h>
#define TSAN_RELEASE(a) __tsan_release(a)
#define TSAN_ACQUIRE(a) __tsan_acquire(a)
#else
#define TSAN_RELEASE(a) ((void)(a))
#define TSAN_ACQUIRE(a) ((void)(a))
#endif

/* Takes the next chunk of a batch: guided self-scheduling, a share of what is left (at most 64
 * histories, so the shared counter stays cold), shrinking towards one history at the end so
 * the threads finish a batch together: the last chunk is the idle tail of the others. Returns
 * the chunk's size (0 when the batch is done) and its start in *start. */
static uint64_t take_chunk(atomic_uint_fast64_t *next, uint64_t count, int threads,
                           uint64_t *start)
{
    uint64_t s = atomic_load_explicit(next, memory_order_relaxed);
    for (;;) {
        if (s >= count) return 0;
        uint64_t c = (count - s) / ((uint64_t)threads * 4);
        c = c < 1 ? 1 : c > 64 ? 64 : c;
        if (atomic_compare_exchange_weak_explicit(next, &s, s + c, memory_order_relaxed,
                                                  memory_order_relaxed)) {
            *start = s;
            return c;
        }
    }
}

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

static int openmp_open(backend *b, int threads, int nbins, int channels, bragg_err *e)
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
        if (score_arrays_init(&st->local[i], nbins, channels, e)) {
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
    /* Three points of order for TSan (see the top): region start, the barrier, region end. */
    char order[3];
    TSAN_RELEASE(&order[0]);
#pragma omp parallel num_threads(st->threads)
    {
        TSAN_ACQUIRE(&order[0]);
        score_arrays *mine = &st->local[omp_get_thread_num()];
        score_arrays_clear(mine);
        uint64_t start, n;
        while ((n = take_chunk(&next, job->count, st->threads, &start)) > 0)
            if (backend_run_range(job, job->first + start, n, mine) < n) break;   /* cancelled */
        TSAN_RELEASE(&order[1]);
#pragma omp barrier
        TSAN_ACQUIRE(&order[1]);
        size_t total = ((size_t)out->nbins + 1) * (size_t)out->n_curves;
        size_t per = (total + (size_t)st->threads - 1) / (size_t)st->threads;
        size_t lo = per * (size_t)omp_get_thread_num(), hi = lo + per < total ? lo + per : total;
        for (int t = 0; t < st->threads; t++) {
            const int64_t *from = st->local[t].curves;
            for (size_t i = lo; i < hi; i++) out->curves[i] += from[i];
        }
        TSAN_RELEASE(&order[2]);
    }
    TSAN_ACQUIRE(&order[2]);
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
