/*
 * event.h - the event-based particle loop: the same transport as the history loop
 * (physics/transport.h), reorganised so that many particles advance together, each stage one
 * pass over a bank of particles. It is the shape a GPU needs (full warps, no per-thread stack of
 * secondaries; the CUDA backend runs each stage as a kernel, cuda/cuda_transport.cu) and the one
 * the CPU's `event` backend runs over the same banks (src/engine/backend_event.c), which is how
 * the tests exercise the loop's logic on machines without a GPU.
 *
 * Three banks (physics/particle_bank.h): `in` holds the live particles [0, n_in), `out`
 * receives the next generation, `react` holds particles waiting for their nuclear reaction
 * [0, n_react). One iteration:
 *   1. event_plan_spawn (one thread): how many new primaries to start, so that the particles
 *      in flight come up to the loop's target while histories remain;
 *   2. event_spawn_one for i < spawn: primary history next + i into in[n_in + i];
 *      event_after_spawn (one thread);
 *   3. event_step_one for i < n_in: up to `steps` steps of in[i] (a pass); event_keep puts a
 *      particle that lives on into `out`, one that reached its reaction into `react` (or, when
 *      `react` is full, into `out` too, where it waits with its reaction pending: it takes no
 *      step until its reaction has run), and forgets one that ended;
 *   4. event_plan_react (one thread): how many waiting reactions fit `out` (each may write
 *      max_products products), taken from the top of `react` (the latest first: depth first,
 *      which keeps the population small, as the history loop's stack does);
 *   5. event_react_one for j < react_take: the reaction, its products appended to `out` (and the
 *      particle itself when its Coulomb trajectory missed); event_after_react (one thread);
 *   6. the caller swaps `in` and `out`.
 * The loop is done when nothing is in flight and no history is left (event_done).
 *
 * Why the results equal the history loop's bit for bit: every particle carries its own random
 * stream, whose id follows from its ancestry (physics/random.h), so what happens to a particle
 * does not depend on when or where it is processed; scores are integer sums, whose order does
 * not matter; and a reaction runs only when `out` has room for all it can make, so nothing is
 * deposited for want of space. Only the slots particles land in depend on the schedule. One
 * exception, never met at the banks' sizes the backends use: if every particle in flight waits
 * for a reaction and none fits, one runs anyway, and a product that finds no room is deposited
 * where it was made and counted (COUNT_STACK_FULL, the history loop's counter for its own full
 * stack), so that the loop always ends.
 *
 * The counts live where the stages run (a CPU thread's memory, or device memory, where stages
 * 3 and 5 append with atomic adds); the bookkeeping functions are run by one thread between
 * passes. static inline and BRAGG_HD: host and device.
 */
#ifndef BRAGG_EVENT_H
#define BRAGG_EVENT_H

#include <stdint.h>

#include "hd.h"
#include "particle_bank.h"
#include "transport.h"

typedef struct event_counts {
    uint32_t n_in;          /* live particles in `in`, slots [0, n_in) */
    uint32_t n_out;         /* particles appended to `out` in this iteration */
    uint32_t n_react;       /* particles waiting in `react`, slots [0, n_react) */
    uint32_t spawn;         /* primaries to start in this iteration (event_plan_spawn) */
    uint32_t react_take;    /* reactions to run in this iteration: the top of `react` */
    uint32_t moved;         /* particles that took a step in this iteration (0 or more) */
    uint64_t next, end;     /* histories [next, end) not yet started */
    uint64_t started;       /* histories started (each is complete once the loop is done) */
    uint64_t iterations;
} event_counts;

/* A loop over histories [first, first + count). */
static inline BRAGG_HD void event_counts_init(event_counts *c, uint64_t first, uint64_t count)
{
    c->n_in = c->n_out = c->n_react = c->spawn = c->react_take = c->moved = 0;
    c->next = first;
    c->end = first + count;
    c->started = 0;
    c->iterations = 0;
}

/* 1. Primaries to start: up to `target` particles in flight (target <= the banks' capacity).
 * None once next has reached end: a cancel that moved end back to next must not make
 * end - next wrap round to 2^64 histories. */
static inline BRAGG_HD void event_plan_spawn(event_counts *c, uint32_t target)
{
    uint64_t flight = (uint64_t)c->n_in + c->n_react;
    uint64_t left = c->end > c->next ? c->end - c->next : 0;
    uint64_t room = flight < target ? target - flight : 0;
    c->spawn = (uint32_t)(room < left ? room : left);
}

/* 2. Starts primary number i of this iteration's spawn. */
static inline BRAGG_HD void event_spawn_one(const transport_params *p, const particle_bank *in,
                                            const event_counts *c, uint32_t i, score_sink *s)
{
    particle q;
    transport_start(p, c->next + i, &q, s);
    bank_store(in, c->n_in + i, &q);
}

static inline BRAGG_HD void event_after_spawn(event_counts *c)
{
    c->n_in += c->spawn;
    c->next += c->spawn;
    c->started += c->spawn;
    c->spawn = 0;
    c->n_out = 0;
    c->moved = 0;
}

/* Blocks of the particles' random streams computed ahead of a pass, all at once (the CPU `simd`
 * backend's vector pass, physics/simd.h): slot i's `n` blocks are the 4 n words from
 * blocks + 4 n i. A step that needs more computes them itself. */
typedef struct event_ahead {
    const uint32_t *blocks;
    unsigned n;
} event_ahead;

/* 3. Up to `steps` steps of particle i of `in` (left in *q): returns enum step_outcome, and
 * *moved = 1 if it took a step. A particle whose reaction is pending (its free paths used up:
 * mfp is at most 0 then, and only then: transport_step) takes none and says STEP_REACT again.
 * More than one step per pass means fewer passes (and on a GPU fewer kernel launches and
 * compactions) at the price of lanes idling once their particle has ended; the result is the
 * same for any number, since a particle's steps do not depend on when they are taken. With
 * `ahead` (NULL: none) the particle's stream takes its next blocks from there: the same words,
 * computed earlier. */
static inline BRAGG_HD BRAGG_FORCE_INLINE int event_step_one_ahead(const transport_params *p,
                                                                   const particle_bank *in,
                                                                   uint32_t i, unsigned steps,
                                                                   const event_ahead *ahead,
                                                                   particle *q, score_sink *s,
                                                                   step_profile *prof, int *moved)
{
    bank_load(in, i, p->seed, q);
    *moved = 0;
    if (q->mfp <= 0.0) return STEP_REACT;
    *moved = 1;
    if (ahead) rng_take_ahead(&q->r, ahead->blocks + 4 * (size_t)ahead->n * i, ahead->n);
    int outcome = STEP_ALIVE;
    for (unsigned k = 0; k < steps && outcome == STEP_ALIVE; k++) {
        if (prof) prof->last = profile_clock();
        outcome = transport_step(p, q, s, prof);
    }
    q->r.ahead = 0;   /* the blocks belong to this pass */
    return outcome;
}

static inline BRAGG_HD BRAGG_FORCE_INLINE int event_step_one(const transport_params *p,
                                                             const particle_bank *in, uint32_t i,
                                                             unsigned steps, particle *q,
                                                             score_sink *s, step_profile *prof,
                                                             int *moved)
{
    return event_step_one_ahead(p, in, i, steps, (const event_ahead *)0, q, s, prof, moved);
}

/* Where a stepped particle goes (one thread per particle; the GPU kernel does the same with
 * appends shared by a warp): see stage 3 above. */
static inline BRAGG_HD void event_keep(const particle_bank *out, const particle_bank *react,
                                       event_counts *c, int outcome, int moved, const particle *q)
{
    if (moved) bank_take(&c->moved, 1);
    if (outcome == STEP_REACT) {
        uint32_t slot = bank_take(&c->n_react, 1);
        if (slot < react->capacity) {
            bank_store(react, slot, q);
            return;
        }
    }
    if (outcome != STEP_GONE) bank_store(out, bank_take(&c->n_out, 1), q);
}

/* 4. Reactions to run: as many waiting ones as `out` (of `capacity` slots) has room for when
 * each writes `max_products` products (or the particle itself, if it lives on); and one at
 * least when nothing moved in this pass (see the exception above). The reactions' count may
 * have overshot its bank (atomic appends that found it full): it is clamped here. */
static inline BRAGG_HD void event_plan_react(event_counts *c, uint32_t capacity,
                                             uint32_t react_capacity, uint32_t max_products)
{
    if (c->n_react > react_capacity) c->n_react = react_capacity;
    uint32_t need = max_products > 1 ? max_products : 1;
    uint32_t used = c->n_out < capacity ? c->n_out : capacity;
    uint32_t fit = (capacity - used) / need;
    c->react_take = c->n_react < fit ? c->n_react : fit;
    if (c->react_take == 0 && c->n_react > 0 && c->moved == 0) c->react_take = 1;
}

/* 5. Runs reaction j of this iteration's take (from the top of `react`), appending its
 * products, or the particle itself if it lives on, to `out`. */
static inline BRAGG_HD void event_react_one(const transport_params *p, const particle_bank *react,
                                            const particle_bank *out, event_counts *c, uint32_t j,
                                            score_sink *s, reaction_scratch *scratch,
                                            step_profile *prof)
{
    particle q;
    bank_load(react, c->n_react - c->react_take + j, p->seed, &q);
    if (prof) prof->last = profile_clock();
    product_out products = {out, &c->n_out, out->capacity};
    if (transport_react(p, &q, s, &products, scratch)) {
        uint32_t slot = bank_take(&c->n_out, 1);
        if (slot < out->capacity) {
            bank_store(out, slot, &q);   /* plan_react left room for it */
        } else {                         /* the forced reaction of the exception above */
            s->count[COUNT_STACK_FULL]++;
            score_point(p, s, particle_channel(&q), &q, q.energy_q, 0.0, 0.0);
            transport_end(s, &q, LEDGER_BELOW_CUTOFF);
        }
    }
    profile_mark(prof, PROFILE_NUCLEAR);
}

static inline BRAGG_HD void event_after_react(event_counts *c, uint32_t capacity)
{
    c->n_react -= c->react_take;
    c->react_take = 0;
    c->n_in = c->n_out < capacity ? c->n_out : capacity;
    c->n_out = 0;
    c->iterations++;
}

/* Cancel: start no history beyond those started, and none of a spawn already planned. The
 * CUDA loop plans the next iteration's spawn at the end of the last (book_after_react), so when
 * its host cancels between iterations, primaries are planned already; started, they would lie
 * past the new end. What is in flight runs to its end. */
static inline BRAGG_HD void event_cancel(event_counts *c)
{
    c->end = c->next;
    c->spawn = 0;
}

/* Nothing in flight and no history left to start. */
static inline BRAGG_HD int event_done(const event_counts *c)
{
    return c->n_in == 0 && c->n_react == 0 && c->next >= c->end;
}

#endif
