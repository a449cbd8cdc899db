/*
 * backend_event.c - the event-based particle loop (physics/event.h) on the CPU: each OpenMP
 * thread runs the loop over banks of its own, taking chunks of the batch's histories from a
 * shared counter as its bank has room, and scores into its own arrays (merged by integer
 * addition after the batch, as in backend_openmp.c).
 *
 * The stages are the very functions the CUDA kernels run (cuda/cuda_transport.cu); only the
 * loops around them and the appends differ (plain counters here, atomic adds there). Results
 * are bit-identical to the history loop's (serial, openmp) for any thread count: the tests say
 * so. This is where the loop's logic is tested on machines without a GPU, and the shape the
 * vectorised CPU work builds on.
 *
 * Cancel: a thread stops taking histories, finishes (drains) those in flight and reports the
 * ones it started, all complete. Pause: threads wait between passes. The engine's run thread
 * calls run_batch; the team's threads touch only their own state and the shared chunk counter.
 */
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backend.h"
#include "event.h"

/* Particles each thread keeps in flight: a few hundred keep a pass's working set (about 150
 * bytes a particle, three banks) inside a core's L2 cache. */
#define EVENT_CPU_TARGET 256
/* Steps per particle per pass. */
#define EVENT_CPU_STEPS 4

typedef struct event_thread {
    particle_bank bank[3];        /* in, out, react (in and out swap every iteration) */
    void *block[3];
    reaction_scratch scratch;
} event_thread;

typedef struct event_state {
    int threads;
    uint32_t capacity;            /* slots per bank, for the run's max_products */
    int max_products;
    event_thread *thread;
    score_arrays *scores;         /* one per thread, reused across batches */
} event_state;

static int event_available(char *reason, size_t len)
{
    (void)reason;
    (void)len;
    return 1;
}

static void free_banks(event_thread *t)
{
    for (int k = 0; k < 3; k++) {
        free(t->block[k]);
        t->block[k] = NULL;
    }
}

static void event_release(backend *b)
{
    event_state *st = b->state;
    if (!st) return;
    for (int i = 0; i < st->threads; i++) {
        if (st->thread) free_banks(&st->thread[i]);
        if (st->scores) score_arrays_free(&st->scores[i]);
    }
    free(st->thread);
    free(st->scores);
    free(st);
    b->state = NULL;
}

static int event_open(backend *b, int threads, int nbins, int channels, bragg_err *e)
{
    event_state *st = calloc(1, sizeof *st);
    if (!st) return bragg_fail(e, "out of memory");
    st->threads = threads > 0 ? threads : omp_get_num_procs();
    st->thread = calloc((size_t)st->threads, sizeof *st->thread);
    st->scores = calloc((size_t)st->threads, sizeof *st->scores);
    b->state = st;
    if (!st->thread || !st->scores) {
        event_release(b);
        return bragg_fail(e, "out of memory");
    }
    for (int i = 0; i < st->threads; i++)
        if (score_arrays_init(&st->scores[i], nbins, channels, e)) {
            event_release(b);
            return BRAGG_ERR;
        }
    return BRAGG_OK;
}

/* Banks for a run whose reactions make at most max_products products: room for the target
 * and for eight reactions' products at once. */
static int size_banks(event_state *st, int max_products, bragg_err *e)
{
    if (st->max_products == max_products && st->thread[0].block[0]) return BRAGG_OK;
    uint32_t capacity = EVENT_CPU_TARGET + 8 * (uint32_t)(max_products > 1 ? max_products : 1);
    size_t bytes = particle_bank_bytes(capacity);
    for (int i = 0; i < st->threads; i++) {
        event_thread *t = &st->thread[i];
        free_banks(t);
        for (int k = 0; k < 3; k++) {
            t->block[k] = aligned_alloc(256, bytes);
            if (!t->block[k]) return bragg_fail(e, "out of memory for the particle banks");
            particle_bank_place(&t->bank[k], t->block[k], capacity);
        }
    }
    st->capacity = capacity;
    st->max_products = max_products;
    return BRAGG_OK;
}

static void wait_while_paused(const backend_job *job)
{
    while (atomic_load_explicit(job->pause, memory_order_relaxed) &&
           !atomic_load_explicit(job->cancel, memory_order_relaxed)) {
        struct timespec ts = {0, 5000000};
        nanosleep(&ts, NULL);
    }
}

/* One thread's loop: its banks, counts and shape. */
typedef struct event_loop {
    particle_bank *in, *out, *react;
    event_counts c;
    uint32_t target, capacity, react_capacity;
    unsigned steps;
    reaction_scratch *scratch;
    unsigned profile_every;       /* profile particles of histories h % every == 0; 0: off */
    score_arrays *scores;         /* for the profile sums */
} event_loop;

/* Adds one particle's step profile to the thread's sums. */
static void add_profile(score_arrays *a, const step_profile *prof)
{
    for (int k = 0; k < PROFILE_COUNT; k++) {
        a->profile_cycles[k] += prof->cycles[k];
        a->profile_marks[k] += prof->marks[k];
    }
}

/* One iteration of physics/event.h's loop after the spawn plan: start the planned primaries,
 * step, react, swap. Returns 0 once the loop is done (nothing in flight, nothing to start). */
static int event_iteration(const transport_params *p, event_loop *L, score_sink *sink)
{
    event_counts *c = &L->c;
    unsigned every = L->profile_every;
    for (uint32_t i = 0; i < c->spawn; i++) event_spawn_one(p, L->in, c, i, sink);
    if (every)
        for (uint32_t i = 0; i < c->spawn; i++) L->scores->profiled_histories += (c->next + i) % every == 0;
    event_after_spawn(c);
    if (event_done(c)) return 0;

    for (uint32_t i = 0; i < c->n_in; i++) {
        particle q;
        step_profile prof, *pp = NULL;
        uint64_t steps_before = sink->steps;
        if (every && bank_history(L->in, i) % every == 0) {
            memset(&prof, 0, sizeof prof);
            pp = &prof;
        }
        int moved, outcome = event_step_one(p, L->in, i, L->steps, &q, sink, pp, &moved);
        event_keep(L->out, L->react, c, outcome, moved, &q);
        if (pp) {
            add_profile(L->scores, &prof);
            L->scores->profiled_steps += sink->steps - steps_before;
        }
    }
    event_plan_react(c, L->capacity, L->react_capacity, (uint32_t)p->max_products);
    for (uint32_t j = 0; j < c->react_take; j++) {
        step_profile prof, *pp = NULL;
        if (every && bank_history(L->react, c->n_react - c->react_take + j) % every == 0) {
            memset(&prof, 0, sizeof prof);
            pp = &prof;
        }
        event_react_one(p, L->react, L->out, c, j, sink, L->scratch, pp);
        if (pp) add_profile(L->scores, &prof);
    }
    event_after_react(c, L->capacity);
    particle_bank *swap = L->in;
    L->in = L->out;
    L->out = swap;
    return 1;
}

/* One thread's loop over the batch, taking chunks of it as they run out: returns the histories
 * it started (all complete). */
static uint64_t run_thread(const backend_job *job, event_thread *t, score_arrays *out,
                           uint32_t capacity, atomic_uint_fast64_t *next_chunk, int threads)
{
    const transport_params *p = job->params;
    score_sink sink = score_arrays_sink(out);
    event_loop L = {&t->bank[0], &t->bank[1], &t->bank[2], {0}, EVENT_CPU_TARGET, capacity,
                    capacity, EVENT_CPU_STEPS, &t->scratch, job->profile_every, out};
    event_counts_init(&L.c, 0, 0);
    uint64_t start_clock = job->profile_every ? profile_clock() : 0;
    do {
        if (atomic_load_explicit(job->cancel, memory_order_relaxed))
            L.c.end = L.c.next;   /* start nothing more; finish what flies */
        else if (L.c.next >= L.c.end) {
            uint64_t start, n = backend_take_chunk(next_chunk, job->count, threads, &start);
            if (n) {
                L.c.next = job->first + start;
                L.c.end = L.c.next + n;
            }
        }
        wait_while_paused(job);
        event_plan_spawn(&L.c, L.target);
        if (L.c.spawn) atomic_fetch_add_explicit(job->progress, L.c.spawn, memory_order_relaxed);
    } while (event_iteration(p, &L, &sink));
    score_arrays_take_sink(out, &sink);
    out->histories += L.c.started;
    if (job->profile_every) out->history_cycles += profile_clock() - start_clock;
    return L.c.started;
}

int backend_event_run_range(const transport_params *p, uint64_t first, uint64_t count,
                            uint32_t target, uint32_t capacity, uint32_t react_capacity,
                            unsigned steps, score_arrays *out, bragg_err *e)
{
    uint32_t need = p->max_products > 1 ? (uint32_t)p->max_products : 1;
    if (target < 1 || capacity < target || capacity < need || react_capacity < 1 || steps < 1)
        return bragg_fail(e, "event loop: target %u, capacity %u, react capacity %u, steps %u: "
                             "need target >= 1, capacity >= target and >= %u, the rest >= 1",
                          target, capacity, react_capacity, steps, need);
    void *block[3] = {NULL, NULL, NULL};
    particle_bank bank[3];
    reaction_scratch *scratch = malloc(sizeof *scratch);
    int rc = BRAGG_OK;
    for (int k = 0; k < 3; k++) {
        uint32_t n = k == 2 ? react_capacity : capacity;
        block[k] = aligned_alloc(256, particle_bank_bytes(n));
        if (block[k]) particle_bank_place(&bank[k], block[k], n);
    }
    if (!block[0] || !block[1] || !block[2] || !scratch) {
        rc = bragg_fail(e, "out of memory for the particle banks");
        goto done;
    }
    score_sink sink = score_arrays_sink(out);
    event_loop L = {&bank[0], &bank[1], &bank[2], {0}, target, capacity, react_capacity, steps,
                    scratch, 0, out};
    event_counts_init(&L.c, first, count);
    do
        event_plan_spawn(&L.c, L.target);
    while (event_iteration(p, &L, &sink));
    score_arrays_take_sink(out, &sink);
    out->histories += L.c.started;
done:
    for (int k = 0; k < 3; k++) free(block[k]);
    free(scratch);
    return rc;
}

static int event_run_batch(backend *b, const backend_job *job, score_arrays *out, bragg_err *e)
{
    event_state *st = b->state;
    if (size_banks(st, job->params->max_products, e)) return BRAGG_ERR;
    atomic_uint_fast64_t next = 0;
    /* Three points of order for TSan (backend.h): region start, the barrier, region end. */
    char order[3];
    BACKEND_TSAN_RELEASE(&order[0]);
#pragma omp parallel num_threads(st->threads)
    {
        BACKEND_TSAN_ACQUIRE(&order[0]);
        int me = omp_get_thread_num();
        score_arrays_clear(&st->scores[me]);
        run_thread(job, &st->thread[me], &st->scores[me], st->capacity, &next, st->threads);
        BACKEND_TSAN_RELEASE(&order[1]);
#pragma omp barrier
        BACKEND_TSAN_ACQUIRE(&order[1]);
        backend_merge_slice(out, st->scores, st->threads, me);
        BACKEND_TSAN_RELEASE(&order[2]);
    }
    BACKEND_TSAN_ACQUIRE(&order[2]);
    for (int i = 0; i < st->threads; i++) score_arrays_add_totals(out, &st->scores[i]);
    return BRAGG_OK;
}

static int event_threads(const backend *b)
{
    const event_state *st = b->state;
    return st ? st->threads : omp_get_num_procs();
}

void backend_event_init(backend *b)
{
    b->version = BACKEND_VERSION;
    b->name = "event";
    b->available = event_available;
    b->open = event_open;
    b->run_batch = event_run_batch;
    b->threads = event_threads;
    b->release = event_release;
    b->state = NULL;
}
