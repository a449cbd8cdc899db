/* backend.c - backend registry and the history loop the CPU backends share (see backend.h). */
#include "backend.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

const char *const backend_names[] = {"serial", "openmp", "event", "simd", "cuda", NULL};

backend *backend_new(const char *name, bragg_err *e)
{
    backend *b = calloc(1, sizeof *b);
    if (!b) {
        bragg_fail(e, "out of memory");
        return NULL;
    }
    if (strcmp(name, "serial") == 0) backend_serial_init(b);
    else if (strcmp(name, "openmp") == 0) backend_openmp_init(b);
    else if (strcmp(name, "event") == 0) backend_event_init(b);
    else if (strcmp(name, "simd") == 0) backend_simd_init(b);
    else if (strcmp(name, "cuda") == 0) backend_cuda_init(b);
    else {
        free(b);
        bragg_fail(e, "backend: %s is not known (valid: serial, openmp, event, simd, cuda)",
                   BRAGG_QUOTED(name));
        return NULL;
    }
    return b;
}

/* Histories between two looks at the cancel and pause flags: small enough that cancel answers
 * within a few milliseconds, large enough that the atomic traffic is noise. */
#define CHUNK 32

uint64_t backend_run_range(const backend_job *job, uint64_t first, uint64_t count,
                           score_arrays *out)
{
    score_sink sink = score_arrays_sink(out);
    int phase_space = job->params->ps_depth > 0.0;
    uint64_t done = 0;
    while (done < count) {
        if (atomic_load_explicit(job->cancel, memory_order_relaxed)) break;
        while (atomic_load_explicit(job->pause, memory_order_relaxed) &&
               !atomic_load_explicit(job->cancel, memory_order_relaxed)) {
            struct timespec ts = {0, 5000000};
            nanosleep(&ts, NULL);
        }
        uint64_t n = count - done < CHUNK ? count - done : CHUNK;
        for (uint64_t h = 0; h < n; h++) {
            uint64_t history = first + done + h;
            /* The phase-space buffer is given before and taken after every history. */
            if (phase_space) score_arrays_ps_give(out, &sink, PHASE_SPACE_HISTORY_HEADROOM);
            if (!job->profile_every) {
                transport_history(job->params, history, &sink);
            } else {
                /* Profiling: every history's time, and a breakdown for one in profile_every. */
                uint64_t start = profile_clock();
                if (history % job->profile_every == 0) {
                    step_profile prof;
                    memset(&prof, 0, sizeof prof);
                    uint64_t steps = sink.steps;
                    transport_history_profiled(job->params, history, &sink, &prof);
                    for (int k = 0; k < PROFILE_COUNT; k++) {
                        out->profile_cycles[k] += prof.cycles[k];
                        out->profile_marks[k] += prof.marks[k];
                    }
                    out->profiled_histories++;
                    out->profiled_steps += sink.steps - steps;
                } else {
                    transport_history(job->params, history, &sink);
                }
                out->history_cycles += profile_clock() - start;
            }
            if (phase_space) score_arrays_ps_take(out, &sink);
        }
        done += n;
        atomic_fetch_add_explicit(job->progress, n, memory_order_relaxed);
    }
    score_arrays_take_sink(out, &sink);
    out->histories += done;
    return done;
}

uint64_t backend_take_chunk(atomic_uint_fast64_t *next, uint64_t count, int threads,
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

void backend_merge_slice(score_arrays *out, const score_arrays *local, int n, int me)
{
    size_t total = ((size_t)out->nbins + 1) * (size_t)out->n_curves;
    size_t per = (total + (size_t)n - 1) / (size_t)n;
    size_t lo = per * (size_t)me, hi = lo + per < total ? lo + per : total;
    for (int t = 0; t < n; t++) {
        const int64_t *from = local[t].curves;
        for (size_t i = lo; i < hi; i++) out->curves[i] += from[i];
    }
}
