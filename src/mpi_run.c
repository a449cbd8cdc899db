/* mpi_run.c - see mpi_run.h. */
#include "mpi_run.h"

#include <math.h>
#include <mpi.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "engine.h"
#include "score.h"

enum { TAG_REQUEST = 1, TAG_ASSIGN = 2 };

/* A worker's request: the chunk it finished (-1: none yet) with its histories, and whether it
 * failed (then it asks for nothing more). */
enum { REQ_LAST, REQ_HISTORIES, REQ_FAILED, REQ_WORDS };

typedef struct chunk {
    int batch;
    uint64_t first, count;
} chunk;

typedef struct mpi_state {
    int rank, size;
    MPI_Datatype int128_type;
    MPI_Op int128_sum;
} mpi_state;

/* One run on one rank. */
typedef struct mpi_run {
    engine *en;
    int rank, size;
    chunk *chunks;
    int64_t n_chunks;
    score_arrays part;          /* one chunk's int64 sums */
    score_totals local;         /* this rank's chunks, per batch, 128-bit */
    uint64_t my_histories, my_chunks;
    double busy_s;
    /* Rank 0: chunks are handed out from next_chunk to the other ranks by the main thread and
     * to rank 0's own worker thread; both under lock. */
    pthread_mutex_t lock;
    int64_t next_chunk;
    uint64_t histories_done;    /* all ranks, for the progress line */
    int worker_failed;
    bragg_err worker_err;
    /* Test hooks (see mpi_run_fault): drop the first chunk's result, or die after it. */
    int fault_drop, fault_die;
} mpi_run;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

static int mpi_fail(bragg_err *e, int rc, const char *what)
{
    char msg[MPI_MAX_ERROR_STRING];
    int len = 0;
    if (MPI_Error_string(rc, msg, &len) != MPI_SUCCESS) snprintf(msg, sizeof msg, "code %d", rc);
    return bragg_fail(e, "MPI: %s failed: %s", what, msg);
}

/* The sum operator for 128-bit integers (MPI has no such type): exact and commutative. */
static void int128_sum(void *in, void *inout, int *len, MPI_Datatype *type)
{
    (void)type;
    const unsigned char *a = in;
    unsigned char *b = inout;
    for (int i = 0; i < *len; i++) {
        __int128 x, y;
        memcpy(&x, a + 16 * (size_t)i, 16);
        memcpy(&y, b + 16 * (size_t)i, 16);
        y += x;
        memcpy(b + 16 * (size_t)i, &y, 16);
    }
}

/* Cuts every batch into pieces so that there are at least 8 chunks per rank (room for the
 * fast ranks to take more) and none exceeds the engine's overflow bound. BRAGG_MPI_CHUNK sets
 * the chunk size in histories instead (for benchmarks). The list depends only on the
 * configuration and the rank count, so every rank builds the same one. */
static int build_chunks(mpi_run *r, bragg_err *e)
{
    const run_config *c = engine_config(r->en);
    uint64_t max_job = engine_max_job_histories(r->en);
    uint64_t per_batch = (uint64_t)(8 * r->size + c->batches - 1) / (uint64_t)c->batches;
    uint64_t fixed = 0;
    const char *env = getenv("BRAGG_MPI_CHUNK");
    if (env && *env) fixed = strtoull(env, NULL, 10);
    int64_t n = 0;
    uint64_t sizes[1000];   /* the chunk size of each batch (batches <= 1000, config.c) */
    if (c->batches > 1000) return bragg_fail(e, "batches: %d is more than 1000", c->batches);
    for (int b = 0; b < c->batches; b++) {
        uint64_t first, count;
        engine_batch_range(r->en, b, &first, &count);
        uint64_t size = fixed ? fixed : (count + per_batch - 1) / per_batch;
        if (size > max_job) size = max_job;
        if (size < 1) size = 1;
        sizes[b] = size;
        n += (int64_t)((count + size - 1) / size);
    }
    r->chunks = malloc((size_t)n * sizeof *r->chunks);
    if (!r->chunks) return bragg_fail(e, "out of memory for %lld chunks", (long long)n);
    int64_t k = 0;
    for (int b = 0; b < c->batches; b++) {
        uint64_t first, count;
        engine_batch_range(r->en, b, &first, &count);
        for (uint64_t done = 0; done < count; done += sizes[b]) {
            uint64_t left = count - done;
            r->chunks[k++] = (chunk){b, first + done, left < sizes[b] ? left : sizes[b]};
        }
    }
    r->n_chunks = n;
    return BRAGG_OK;
}

/* Runs chunk k on this rank into its per-batch sums; returns the histories completed. */
static int run_chunk(mpi_run *r, int64_t k, uint64_t *histories, bragg_err *e)
{
    const chunk *ch = &r->chunks[k];
    double t0 = now_s();
    int rc = engine_run_range(r->en, ch->first, ch->count, &r->part, e);
    r->busy_s += now_s() - t0;
    *histories = r->part.histories;
    if (r->fault_drop && r->my_chunks == 0) {
        /* Test hook: this rank "loses" its first chunk, as a lost message or a bug would. */
        r->my_chunks++;
        return rc;
    }
    if (r->fault_die && r->my_chunks == 0) {
        fprintf(stderr, "bragg-mpi: rank %d: dying on purpose (BRAGG_TEST_MPI_FAULT=die)\n",
                r->rank);
        _exit(3);
    }
    score_totals_add_to_batch(&r->local, ch->batch, &r->part);
    r->my_histories += r->part.histories;
    r->my_chunks++;
    return rc;
}

/* Rank 0's own worker: takes chunks from the same counter as the other ranks. */
static void *root_worker(void *arg)
{
    mpi_run *r = arg;
    for (;;) {
        pthread_mutex_lock(&r->lock);
        int64_t k = r->next_chunk < r->n_chunks ? r->next_chunk++ : -1;
        pthread_mutex_unlock(&r->lock);
        if (k < 0) break;
        uint64_t h = 0;
        bragg_err err = {{0}};
        int rc = run_chunk(r, k, &h, &err);
        pthread_mutex_lock(&r->lock);
        r->histories_done += h;
        if (rc) {
            r->worker_failed = 1;
            r->worker_err = err;
        }
        pthread_mutex_unlock(&r->lock);
        if (rc) break;
    }
    return NULL;
}

static void progress_line(mpi_run *r, uint64_t total, double t0)
{
    pthread_mutex_lock(&r->lock);
    uint64_t done = r->histories_done;
    pthread_mutex_unlock(&r->lock);
    double dt = now_s() - t0, rate = dt > 0 ? done / dt : 0;
    fprintf(stderr, "\r  %5.1f%%  %llu/%llu histories  %.0f histories/s  %d ranks   ",
            total ? 100.0 * done / total : 0.0, (unsigned long long)done,
            (unsigned long long)total, rate, r->size);
}

/* Rank 0: serves chunk requests until every other rank has been told to stop and its own
 * worker is done. */
static int serve_chunks(mpi_run *r, int show_progress, bragg_err *e)
{
    pthread_t worker;
    if (pthread_create(&worker, NULL, root_worker, r) != 0)
        return bragg_fail(e, "cannot start rank 0's worker thread");
    int active = r->size - 1, rc = BRAGG_OK;
    uint64_t total = engine_config(r->en)->histories;
    double t0 = now_s(), shown = t0;
    while (active > 0) {
        int flag = 0;
        MPI_Status st;
        int mrc = MPI_Iprobe(MPI_ANY_SOURCE, TAG_REQUEST, MPI_COMM_WORLD, &flag, &st);
        if (mrc != MPI_SUCCESS) {
            rc = mpi_fail(e, mrc, "waiting for chunk requests");
            break;
        }
        if (!flag) {
            /* Requests come once per chunk (seconds apart): polling every millisecond costs
             * nothing measurable and keeps the main thread off the cores doing transport. */
            struct timespec ts = {0, 1000000};
            nanosleep(&ts, NULL);
            if (show_progress && now_s() - shown > 0.25) {
                progress_line(r, total, t0);
                shown = now_s();
            }
            continue;
        }
        int64_t req[REQ_WORDS];
        mrc = MPI_Recv(req, REQ_WORDS, MPI_INT64_T, st.MPI_SOURCE, TAG_REQUEST, MPI_COMM_WORLD,
                       MPI_STATUS_IGNORE);
        if (mrc != MPI_SUCCESS) {
            rc = mpi_fail(e, mrc, "receiving a chunk request");
            break;
        }
        pthread_mutex_lock(&r->lock);
        r->histories_done += (uint64_t)req[REQ_HISTORIES];
        int64_t k = !req[REQ_FAILED] && r->next_chunk < r->n_chunks ? r->next_chunk++ : -1;
        pthread_mutex_unlock(&r->lock);
        if (req[REQ_FAILED]) {
            /* Its results so far still count; the final check reports what is missing. */
            active--;
            continue;
        }
        mrc = MPI_Send(&k, 1, MPI_INT64_T, st.MPI_SOURCE, TAG_ASSIGN, MPI_COMM_WORLD);
        if (mrc != MPI_SUCCESS) {
            rc = mpi_fail(e, mrc, "assigning a chunk");
            break;
        }
        if (k < 0) active--;
    }
    if (rc) {
        /* Stop the local worker soon: it would finish chunks nobody collects. */
        engine_cancel(r->en);
    }
    pthread_join(worker, NULL);
    if (show_progress) fprintf(stderr, "\r%*s\r", 100, "");
    if (!rc && r->worker_failed) {
        *e = r->worker_err;
        rc = BRAGG_ERR;
    }
    return rc;
}

/* Ranks > 0: ask rank 0 for chunks until told to stop. */
static int request_chunks(mpi_run *r, bragg_err *e)
{
    int64_t req[REQ_WORDS] = {-1, 0, 0};
    for (;;) {
        int mrc = MPI_Send(req, REQ_WORDS, MPI_INT64_T, 0, TAG_REQUEST, MPI_COMM_WORLD);
        if (mrc != MPI_SUCCESS) return mpi_fail(e, mrc, "asking rank 0 for a chunk");
        if (req[REQ_FAILED]) return BRAGG_ERR;   /* e holds the failure */
        int64_t k;
        mrc = MPI_Recv(&k, 1, MPI_INT64_T, 0, TAG_ASSIGN, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        if (mrc != MPI_SUCCESS) return mpi_fail(e, mrc, "receiving a chunk from rank 0");
        if (k < 0 || k >= r->n_chunks) return BRAGG_OK;
        uint64_t h = 0;
        int rc = run_chunk(r, k, &h, e);
        req[REQ_LAST] = k;
        req[REQ_HISTORIES] = (int64_t)h;
        req[REQ_FAILED] = rc != BRAGG_OK;
    }
}

/* Adds every rank's per-batch sums; afterwards each rank's `local` holds the whole run. The
 * 128-bit arrays go as 16-byte elements with the exact integer sum; the counters (each under
 * 2^64: histories, steps, profile ticks) as uint64. */
static int allreduce_totals(const mpi_state *ms, score_totals *t, bragg_err *e)
{
    size_t n_curves = (size_t)t->nbins * (size_t)(t->n_curves + 1);   /* + the dose curve */
    size_t n_batch = (size_t)t->nbins * (size_t)t->max_batches;
    if (n_curves > (size_t)INT32_MAX || n_batch > (size_t)INT32_MAX)
        return bragg_fail(e, "MPI: %zu scoring values are too many for one message", n_batch);
    int mrc = MPI_Allreduce(MPI_IN_PLACE, t->curves, (int)n_curves, ms->int128_type,
                            ms->int128_sum, MPI_COMM_WORLD);
    if (mrc == MPI_SUCCESS)
        mrc = MPI_Allreduce(MPI_IN_PLACE, t->batch_dose, (int)n_batch, ms->int128_type,
                            ms->int128_sum, MPI_COMM_WORLD);
    if (mrc == MPI_SUCCESS)
        mrc = MPI_Allreduce(MPI_IN_PLACE, t->ledger, LEDGER_COUNT, ms->int128_type,
                            ms->int128_sum, MPI_COMM_WORLD);
    if (mrc != MPI_SUCCESS) return mpi_fail(e, mrc, "adding the ranks' dose");

    /* The uint64 counters, packed into one message. */
    size_t nc = COUNT_COUNT + 2 + 2 * PROFILE_COUNT + 3 + (size_t)t->max_batches, i = 0;
    uint64_t *buf = malloc(nc * sizeof *buf);
    if (!buf) return bragg_fail(e, "out of memory");
    for (int k = 0; k < COUNT_COUNT; k++) buf[i++] = t->count[k];
    buf[i++] = t->steps;
    buf[i++] = t->histories;
    for (int k = 0; k < PROFILE_COUNT; k++) buf[i++] = t->profile_cycles[k];
    for (int k = 0; k < PROFILE_COUNT; k++) buf[i++] = t->profile_marks[k];
    buf[i++] = t->profiled_histories;
    buf[i++] = t->profiled_steps;
    buf[i++] = t->history_cycles;
    for (int b = 0; b < t->max_batches; b++) buf[i++] = t->batch_histories[b];
    mrc = MPI_Allreduce(MPI_IN_PLACE, buf, (int)nc, MPI_UINT64_T, MPI_SUM, MPI_COMM_WORLD);
    if (mrc != MPI_SUCCESS) {
        free(buf);
        return mpi_fail(e, mrc, "adding the ranks' counters");
    }
    i = 0;
    for (int k = 0; k < COUNT_COUNT; k++) t->count[k] = buf[i++];
    t->steps = buf[i++];
    t->histories = buf[i++];
    for (int k = 0; k < PROFILE_COUNT; k++) t->profile_cycles[k] = buf[i++];
    for (int k = 0; k < PROFILE_COUNT; k++) t->profile_marks[k] = buf[i++];
    t->profiled_histories = buf[i++];
    t->profiled_steps = buf[i++];
    t->history_cycles = buf[i++];
    for (int b = 0; b < t->max_batches; b++) t->batch_histories[b] = buf[i++];
    free(buf);
    return BRAGG_OK;
}

/* Every batch must hold exactly its histories: anything else (a rank that lost a chunk, a
 * chunk counted twice) would be a wrong answer, so it fails the run instead. */
static int verify_totals(mpi_run *r, char *why, size_t len)
{
    const run_config *c = engine_config(r->en);
    score_totals *t = &r->local;
    for (int b = 0; b < c->batches; b++) {
        uint64_t first, count;
        engine_batch_range(r->en, b, &first, &count);
        if (t->batch_histories[b] != count) {
            snprintf(why, len,
                     "MPI: the ranks returned %llu of %llu histories (batch %d, histories "
                     "%llu-%llu, has %llu of %llu): a rank failed or lost work; the result is "
                     "incomplete",
                     (unsigned long long)t->histories, (unsigned long long)c->histories, b,
                     (unsigned long long)first, (unsigned long long)(first + count - 1),
                     (unsigned long long)t->batch_histories[b], (unsigned long long)count);
            return BRAGG_ERR;
        }
    }
    if (t->histories != c->histories) {
        snprintf(why, len, "MPI: the ranks returned %llu of %llu histories",
                 (unsigned long long)t->histories, (unsigned long long)c->histories);
        return BRAGG_ERR;
    }
    return BRAGG_OK;
}

static int mpi_driver_run(run_driver *d, engine *en, int show_progress, bragg_err *e)
{
    mpi_state *ms = d->state;
    mpi_run r;
    memset(&r, 0, sizeof r);
    r.en = en;
    r.rank = ms->rank;
    r.size = ms->size;
    pthread_mutex_init(&r.lock, NULL);
    const char *fault = getenv("BRAGG_TEST_MPI_FAULT");
    if (fault && r.rank == r.size - 1 && r.rank > 0) {
        r.fault_drop = strcmp(fault, "drop") == 0;
        r.fault_die = strcmp(fault, "die") == 0;
    }
    const transport_params *p = engine_params(en);
    int rc = BRAGG_ERR, local_rc;
    double t0 = now_s();
    d->note[0] = '\0';
    if (build_chunks(&r, e) || score_arrays_init(&r.part, p->nbins, p->channels, e) ||
        score_totals_init(&r.local, p->nbins, p->channels, engine_config(en)->batches, e))
        local_rc = BRAGG_ERR;
    else if (r.rank == 0)
        local_rc = serve_chunks(&r, show_progress, e);
    else
        local_rc = request_chunks(&r, e);
    if (local_rc) fprintf(stderr, "bragg-mpi: rank %d: %s\n", r.rank, e->msg);

    /* Every rank takes part in the sums even after a local failure, so that the others do not
     * hang and the check below reports the missing histories. */
    if (allreduce_totals(ms, &r.local, e)) goto done;
    double elapsed = now_s() - t0;
    char why[512];
    int bad = verify_totals(&r, why, sizeof why);
    r.local.batches = bad ? 0 : engine_config(en)->batches;
    if (!bad) {
        /* Who did what, for the summary: histories and busy time per rank. */
        double mine[2] = {(double)r.my_histories, r.busy_s}, *all = NULL;
        if (r.rank == 0) all = malloc(2 * (size_t)r.size * sizeof *all);
        int mrc = MPI_Gather(mine, 2, MPI_DOUBLE, all, 2, MPI_DOUBLE, 0, MPI_COMM_WORLD);
        if (mrc == MPI_SUCCESS && all) {
            double lo = INFINITY, hi = 0;
            for (int i = 0; i < r.size; i++) {
                double share = all[2 * i] / (double)r.local.histories;
                if (share < lo) lo = share;
                if (share > hi) hi = share;
            }
            snprintf(d->note, sizeof d->note,
                     "MPI: %d ranks, %lld chunks; histories per rank %.1f-%.1f%% of the run",
                     r.size, (long long)r.n_chunks, 100 * lo, 100 * hi);
        }
        free(all);
    }
    if (engine_adopt_totals(en, &r.local, elapsed, bad ? why : NULL, e)) goto done;
    rc = BRAGG_OK;
done:
    score_totals_free(&r.local);
    score_arrays_free(&r.part);
    free(r.chunks);
    pthread_mutex_destroy(&r.lock);
    return rc;
}

int mpi_driver_init(run_driver *d, bragg_err *e)
{
    memset(d, 0, sizeof *d);
    mpi_state *ms = calloc(1, sizeof *ms);
    if (!ms) return bragg_fail(e, "out of memory");
    int mrc = MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    if (mrc == MPI_SUCCESS) mrc = MPI_Comm_rank(MPI_COMM_WORLD, &ms->rank);
    if (mrc == MPI_SUCCESS) mrc = MPI_Comm_size(MPI_COMM_WORLD, &ms->size);
    if (mrc == MPI_SUCCESS) mrc = MPI_Type_contiguous(16, MPI_BYTE, &ms->int128_type);
    if (mrc == MPI_SUCCESS) mrc = MPI_Type_commit(&ms->int128_type);
    if (mrc == MPI_SUCCESS) mrc = MPI_Op_create(int128_sum, 1, &ms->int128_sum);
    if (mrc != MPI_SUCCESS) {
        free(ms);
        return mpi_fail(e, mrc, "setting up");
    }
    d->name = "mpi";
    d->is_root = ms->rank == 0;
    d->run = mpi_driver_run;
    d->state = ms;
    return BRAGG_OK;
}

void mpi_driver_free(run_driver *d)
{
    mpi_state *ms = d->state;
    if (ms) {
        MPI_Op_free(&ms->int128_sum);
        MPI_Type_free(&ms->int128_type);
        free(ms);
    }
    d->state = NULL;
}
