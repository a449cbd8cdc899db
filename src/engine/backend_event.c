/*
 * backend_event.c - the event-based particle loop (physics/event.h) on the CPU: each OpenMP
 * thread runs the loop over banks of its own, taking chunks of the batch's histories from a
 * shared counter as its bank has room, and scores into its own arrays (merged by integer
 * addition after the batch, as in backend_openmp.c).
 *
 * Two backends share this file. `event` runs the stages one particle at a time. `simd` adds a
 * vector pass before each step pass: the next Philox blocks of every particle in the bank,
 * 8 or 16 streams per instruction (physics/simd.h, the widest path the CPU has, or the one
 * BRAGG_SIMD names: scalar, avx2, avx512), which the steps then read instead of running the
 * rounds one stream at a time. Same words, so the same results, on every path.
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
#include "simd.h"

/* Particles each thread keeps in flight: a few hundred keep a pass's working set (about 150
 * bytes a particle, three banks) inside a core's L2 cache. */
#define EVENT_CPU_TARGET 256
/* Steps per particle per pass. */
#define EVENT_CPU_STEPS 4
/* The simd backend's defaults (BRAGG_SIMD_STEPS, BRAGG_SIMD_BLOCKS change them for benchmarks):
 * steps per pass, and Philox blocks computed ahead per particle per pass. A step draws about
 * five words (one Gaussian for straggling, four for scattering), so 8 steps want 10 blocks; the
 * blocks a particle leaves unused (it ended, or waits for its reaction) are wasted work.
 * Instructions per C-12 history (callgrind, AVX2, docs/benchmarks.md) for steps/blocks: 4/4
 * 266.7 k, 4/5 263.4 k, 4/6 264.8 k, 8/10 258.5 k, 8/12 260.1 k, 16/20 257.8 k, when the event
 * backend took 280.8 k (246.4 k and 273.5 k since). 8/10 keeps the blocks of a bank (73 kB)
 * within a core's L2 cache. */
#define SIMD_CPU_STEPS 8
#define SIMD_CPU_BLOCKS 10

typedef struct event_thread {
    particle_bank bank[3];        /* in, out, react (in and out swap every iteration) */
    void *block[3];
    uint32_t *ahead;              /* simd: blocks computed ahead, 4 * blocks words per slot */
    reaction_scratch scratch;
} event_thread;

typedef struct event_state {
    int threads;
    uint32_t capacity;            /* slots per bank, for the run's max_products */
    int max_products;
    unsigned steps;               /* per particle per pass */
    unsigned ahead_blocks;        /* simd: Philox blocks computed ahead per slot; event: 0 */
    simd_path path;
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
    free(t->ahead);
    t->ahead = NULL;
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

/* A whole number from 1 to `max` from the environment, or `fallback` when it is unset: for
 * benchmarks of the loop's shape, which never changes a result. Anything else is refused with
 * its name and range, as BRAGG_SIMD is: a typo that fell back in silence benchmarked the
 * default shape under the name of another. */
static int env_unsigned(const char *name, unsigned fallback, unsigned max, unsigned *out,
                        bragg_err *e)
{
    const char *v = getenv(name);
    *out = fallback;
    if (!v || !*v) return BRAGG_OK;
    const char *d = v;
    while (*d >= '0' && *d <= '9') d++;
    if (*d)   /* digits only: no sign, blank or fraction */
        return bragg_fail(e, "%s: %s is not a whole number (valid: 1 to %u; unset: %u)", name,
                          BRAGG_QUOTED(v), max, fallback);
    /* More than nine digits past the leading zeros cannot be in range (nor overflow a long). */
    const char *first = v;
    while (*first == '0' && first[1]) first++;
    long x = d - first > 9 ? 0 : strtol(first, NULL, 10);
    if (x < 1 || x > (long)max)
        return bragg_fail(e, "%s: %s is out of range (valid: 1 to %u; unset: %u)", name,
                          BRAGG_QUOTED(v), max, fallback);
    *out = (unsigned)x;
    return BRAGG_OK;
}

/* The simd backend's loop shape: BRAGG_SIMD_STEPS and BRAGG_SIMD_BLOCKS, or the defaults. */
static int simd_shape(unsigned *steps, unsigned *blocks, bragg_err *e)
{
    if (env_unsigned("BRAGG_SIMD_STEPS", SIMD_CPU_STEPS, 4096, steps, e)) return BRAGG_ERR;
    return env_unsigned("BRAGG_SIMD_BLOCKS", SIMD_CPU_BLOCKS, 64, blocks, e);
}

/* The vector path BRAGG_SIMD asks for (default: the widest the CPU has), and the loop shape's
 * variables checked with it, so that a command that asks here before its runs (bench) refuses
 * a bad one as bad input before any row. */
int backend_simd_path(simd_path *path, bragg_err *e)
{
    const char *v = getenv("BRAGG_SIMD");
    if (!v || !*v) v = "auto";
    if (simd_path_parse(v, path))
        return bragg_fail(e, "BRAGG_SIMD: '%s' is not known (valid: auto, scalar, avx2, avx512)", v);
    if (!simd_supported(*path))
        return bragg_fail(e, "BRAGG_SIMD: this CPU cannot run the %s path (it has %s)",
                          simd_path_name(*path), simd_cpu_name());
    unsigned steps, blocks;
    return simd_shape(&steps, &blocks, e);
}

static int open_state(backend *b, int threads, const transport_params *p, int simd, bragg_err *e)
{
    simd_path path = SIMD_SCALAR;
    unsigned steps = EVENT_CPU_STEPS, blocks = 0;
    if (simd && (backend_simd_path(&path, e) || simd_shape(&steps, &blocks, e))) return BRAGG_ERR;
    event_state *st = calloc(1, sizeof *st);
    if (!st) return bragg_fail(e, "out of memory");
    st->path = path;
    st->steps = steps;
    st->ahead_blocks = blocks;
    st->threads = threads > 0 ? threads : omp_get_num_procs();
    st->thread = calloc((size_t)st->threads, sizeof *st->thread);
    st->scores = calloc((size_t)st->threads, sizeof *st->scores);
    b->state = st;
    if (!st->thread || !st->scores) {
        event_release(b);
        return bragg_fail(e, "out of memory");
    }
    for (int i = 0; i < st->threads; i++)
        if (score_arrays_init(&st->scores[i], p, e)) {
            event_release(b);
            return BRAGG_ERR;
        }
    return BRAGG_OK;
}

static int event_open(backend *b, int threads, const transport_params *p, bragg_err *e)
{
    return open_state(b, threads, p, 0, e);
}

static int simd_open(backend *b, int threads, const transport_params *p, bragg_err *e)
{
    return open_state(b, threads, p, 1, e);
}

/* Banks for a run whose reactions make at most max_products products: room for the target
 * and for eight reactions' products at once. On failure no thread keeps banks: st->capacity
 * (0 then) says that every thread's banks are there and of that size, or none are. */
static int size_banks(event_state *st, int max_products, bragg_err *e)
{
    if (st->max_products == max_products && st->capacity) return BRAGG_OK;
    uint32_t capacity = EVENT_CPU_TARGET + 8 * (uint32_t)(max_products > 1 ? max_products : 1);
    size_t bytes = particle_bank_bytes(capacity);
    const char *what = "the particle banks";
    for (int i = 0; i < st->threads; i++) {
        event_thread *t = &st->thread[i];
        free_banks(t);
        for (int k = 0; k < 3; k++) {
            t->block[k] = aligned_alloc(256, bytes);
            if (!t->block[k]) goto fail;
            particle_bank_place(&t->bank[k], t->block[k], capacity);
        }
        if (st->ahead_blocks) {
            size_t words = 4 * (size_t)st->ahead_blocks * capacity;
            t->ahead = aligned_alloc(64, (words * sizeof(uint32_t) + 63) & ~(size_t)63);
            if (!t->ahead) {
                what = "the random blocks";
                goto fail;
            }
        }
    }
    st->capacity = capacity;
    st->max_products = max_products;
    return BRAGG_OK;
fail:
    for (int i = 0; i < st->threads; i++) {
        free_banks(&st->thread[i]);
        memset(st->thread[i].bank, 0, sizeof st->thread[i].bank);
    }
    st->capacity = 0;
    st->max_products = 0;
    return bragg_fail(e, "out of memory for %s", what);
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
    unsigned ahead_blocks;        /* simd: blocks computed ahead per slot (0: none) */
    simd_path path;
    uint32_t *ahead;              /* their words, 4 * ahead_blocks * capacity */
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

    /* simd: the pass's random blocks for every particle in the bank, a vector of streams at a
     * time. Profiled, their time is charged to the RNG of the profiled particles, a share each. */
    event_ahead ahead = {L->ahead, L->ahead_blocks};
    uint64_t ahead_cycles = 0, profiled = 0;
    if (L->ahead_blocks) {
        uint64_t t0 = every ? profile_clock() : 0;
        rng_ahead_fill(L->path, L->in->ctr0, L->in->ctr1, L->in->ctr2, L->in->ctr3,
                       (uint32_t)p->seed, (uint32_t)(p->seed >> 32), c->n_in, L->ahead_blocks,
                       L->ahead);
        if (every) ahead_cycles = profile_clock() - t0;
    }
    uint32_t n_in = c->n_in;
    /* Each step crosses the phase-space plane at most once: n_in x steps slots suffice. */
    int phase_space = p->ps_depth > 0.0;
    if (phase_space) score_arrays_ps_give(L->scores, sink, (size_t)n_in * L->steps);
    for (uint32_t i = 0; i < n_in; i++) {
        particle q;
        step_profile prof, *pp = NULL;
        uint64_t steps_before = sink->steps;
        if (every && bank_history(L->in, i) % every == 0) {
            memset(&prof, 0, sizeof prof);
            pp = &prof;
        }
        const event_ahead *pa = L->ahead_blocks ? &ahead : NULL;
        int moved, outcome;
        /* Two call sites, so that in the one without a profile every profile_mark folds away
         * (a test of a pointer known only at run time cost 2% of the instructions). */
        if (pp) outcome = event_step_one_ahead(p, L->in, i, L->steps, pa, &q, sink, pp, &moved);
        else outcome = event_step_one_ahead(p, L->in, i, L->steps, pa, &q, sink, NULL, &moved);
        event_keep(L->out, L->react, c, outcome, moved, &q);
        if (pp) {
            add_profile(L->scores, &prof);
            L->scores->profiled_steps += sink->steps - steps_before;
            profiled++;
        }
    }
    if (phase_space) score_arrays_ps_take(L->scores, sink);
    if (profiled) L->scores->profile_cycles[PROFILE_RNG] += ahead_cycles * profiled / n_in;
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
static uint64_t run_thread(const backend_job *job, const event_state *st, event_thread *t,
                           score_arrays *out, atomic_uint_fast64_t *next_chunk)
{
    const transport_params *p = job->params;
    score_sink sink = score_arrays_sink(out);
    event_loop L = {&t->bank[0], &t->bank[1], &t->bank[2], {0}, EVENT_CPU_TARGET, st->capacity,
                    st->capacity, st->steps, &t->scratch, job->profile_every, out,
                    st->ahead_blocks, st->path, t->ahead};
    event_counts_init(&L.c, 0, 0);
    uint64_t start_clock = job->profile_every ? profile_clock() : 0;
    do {
        if (atomic_load_explicit(job->cancel, memory_order_relaxed))
            event_cancel(&L.c);   /* start nothing more; finish what flies */
        else if (L.c.next >= L.c.end) {
            uint64_t start, n = backend_take_chunk(next_chunk, job->count, st->threads, &start);
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
                            unsigned steps, simd_path path, unsigned ahead_blocks,
                            score_arrays *out, bragg_err *e)
{
    uint32_t need = p->max_products > 1 ? (uint32_t)p->max_products : 1;
    if (target < 1 || capacity < target || capacity < need || react_capacity < 1 || steps < 1)
        return bragg_fail(e, "event loop: target %u, capacity %u, react capacity %u, steps %u: "
                             "need target >= 1, capacity >= target and >= %u, the rest >= 1",
                          target, capacity, react_capacity, steps, need);
    if (ahead_blocks && !simd_supported(path))
        return bragg_fail(e, "event loop: this CPU cannot run the %s path", simd_path_name(path));
    void *block[3] = {NULL, NULL, NULL};
    particle_bank bank[3];
    reaction_scratch *scratch = malloc(sizeof *scratch);
    uint32_t *ahead = ahead_blocks ? malloc(4 * (size_t)ahead_blocks * capacity * sizeof *ahead)
                                   : NULL;
    int rc = BRAGG_OK;
    for (int k = 0; k < 3; k++) {
        uint32_t n = k == 2 ? react_capacity : capacity;
        block[k] = aligned_alloc(256, particle_bank_bytes(n));
        if (block[k]) particle_bank_place(&bank[k], block[k], n);
    }
    if (!block[0] || !block[1] || !block[2] || !scratch || (ahead_blocks && !ahead)) {
        rc = bragg_fail(e, "out of memory for the particle banks");
        goto done;
    }
    score_sink sink = score_arrays_sink(out);
    event_loop L = {&bank[0], &bank[1], &bank[2], {0}, target, capacity, react_capacity, steps,
                    scratch, 0, out, ahead_blocks, path, ahead};
    event_counts_init(&L.c, first, count);
    do
        event_plan_spawn(&L.c, L.target);
    while (event_iteration(p, &L, &sink));
    score_arrays_take_sink(out, &sink);
    out->histories += L.c.started;
done:
    for (int k = 0; k < 3; k++) free(block[k]);
    free(scratch);
    free(ahead);
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
        run_thread(job, st, &st->thread[me], &st->scores[me], &next);
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

static const char *simd_vector_path(const backend *b)
{
    const event_state *st = b->state;
    return st ? simd_path_name(st->path) : NULL;
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

/* Usable on every CPU: without AVX2 it runs the scalar path, which is still the event loop with
 * the blocks computed a pass ahead. */
void backend_simd_init(backend *b)
{
    backend_event_init(b);
    b->name = "simd";
    b->open = simd_open;
    b->vector_path = simd_vector_path;
}
