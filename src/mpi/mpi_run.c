/* mpi_run.c - see mpi_run.h. */
#include "mpi_run.h"

#include <math.h>
#include <mpi.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "assets.h"
#include "atomic_file.h"
#include "checkpoint.h"
#include "engine.h"
#include "interrupt.h"
#include "score.h"

enum { TAG_REQUEST = 1, TAG_ASSIGN = 2, TAG_PS_COUNT = 3, TAG_PS_POINTS = 4 };

/* Phase-space crossings go to rank 0 in messages of at most this many (4.7 MB). */
#define PS_MESSAGE_POINTS 65536

/* A worker's request: the chunk it finished (-1: none yet) with its histories, whether it
 * failed (then it asks for nothing more), whether that chunk's sums follow (with a
 * checkpoint: rank 0 records every chunk as it arrives), and whether the rank was asked to stop
 * (a signal: then no rank gets another chunk). */
enum { REQ_LAST, REQ_HISTORIES, REQ_FAILED, REQ_HAS_SUMS, REQ_STOP, REQ_WORDS };

/* A chunk's sums in a request, after the REQ_WORDS header: the curves, then the ledger, then
 * the counters (unsigned, carried bit for bit in int64 words). */
#define SUMS_COUNTER_WORDS (COUNT_COUNT + 2 + 2 * PROFILE_COUNT + 3)

/* Least time between two rewrites of the checkpoint (BRAGG_CHECKPOINT_SECONDS overrides):
 * short beside the chunks of a long run, long beside the cost of writing a few MB. */
#define CHECKPOINT_EVERY_S 10.0

/* Once a run is stopped, rank 0 writes what it holds at once, then at most this often while
 * chunks still come in: Open MPI's SIGKILL follows its SIGTERM by a second, a write of a large
 * state takes time (10-12 ms for 6.7 MB on this machine's disk, from open to the folder's
 * fsync; more on a shared file system), and a write per chunk handed in by many ranks could
 * use up that second, losing the outputs written after the checkpoint. */
#define STOP_SAVE_EVERY_S 0.25

/* How often the ranks > 0 look for a signal while their main thread transports: Open MPI
 * leaves a rank about a second between SIGTERM and SIGKILL, for the chunk in flight to be cut
 * and everything to be written. */
#define STOP_POLL_NS 5000000

typedef struct mpi_state {
    int rank, size;
    MPI_Datatype int128_type;
    MPI_Op int128_sum;
    /* --checkpoint: every rank knows whether it is on; rank 0 opens the folder at the first
     * run (once the command has checked its options) and holds it. */
    int checkpointing;
    const char *checkpoint_dir;
    const char *command;        /* the command's own identity lines (checkpoint_identity_build) */
    checkpoint *ckpt;           /* rank 0 only */
    double save_every_s;
    uint64_t chunk_histories;   /* BRAGG_MPI_CHUNK, 0 when unset */
    int runs;                   /* driven runs so far: the number of the next one's file */
} mpi_state;

/* One run on one rank. */
typedef struct mpi_run {
    engine *en;
    mpi_state *ms;
    int rank, size, index;      /* index: this run's number among the driven runs */
    chunk_layout layout;
    score_arrays part;          /* one chunk's int64 sums */
    score_totals local;         /* this rank's chunks, per batch, 128-bit; on rank 0 under lock.
                                 * With a checkpoint, rank 0 holds every recorded chunk here
                                 * and the other ranks hold nothing. */
    uint64_t my_histories, my_chunks;
    phase_space_list ps;        /* this rank's crossings of the phase-space plane (rank 0: its
                                 * worker's), gathered to rank 0 at the end */
    /* With a checkpoint, ranks > 0 send each chunk's sums with their next request. */
    int ship;
    int64_t *msg;               /* a request, with room for one chunk's sums when shipping */
    int msg_words;
    score_arrays received;      /* rank 0: a chunk's sums from another rank */
    /* Rank 0: chunks are handed out from next_chunk to the other ranks by the main thread and
     * to rank 0's own worker thread; both under lock. */
    pthread_mutex_t lock;
    int64_t next_chunk;
    uint64_t histories_done;    /* all ranks, for the progress line */
    int worker_failed, worker_finished;
    int stopping;               /* no more chunks are handed out (a failure or a stop) */
    int failed;                 /* rank 0: sums that came in were wrong; no more are taken */
    int stopped;                /* rank 0: a stop (a signal here or a rank's REQ_STOP) */
    atomic_int watch_end;       /* ranks > 0: the signal watcher's time is up */
    /* This rank's failure is said by another: by rank 0 when every rank finds it (the
     * configuration), by the rank that failed when this one only stopped for it. */
    int said_elsewhere;
    bragg_err worker_err;
    /* Rank 0 with a checkpoint (under lock): done[k] when chunk k is in `local`. */
    uint8_t *done;
    int64_t unsaved;            /* chunks recorded since the last write */
    int64_t recorded, tried;    /* chunks recorded in all; how many at the last write tried */
    int stop_saved;             /* a write was tried since the run was stopped */
    int64_t resumed_chunks;
    uint64_t resumed_histories, resumed_steps;
    double saved_at;
    int save_warned;
    int quiet;                  /* -q: no notes on standard error */
    checkpoint_identity identity;   /* what the state file records of this run */
    checkpoint_image image;
    /* Test hooks (BRAGG_TEST_MPI_FAULT, read_test_hooks): the last rank drops its first chunk's
     * result, dies after it, dies when given its second chunk (after the first was handed
     * in), or transports its second chunk again and again until a stop cuts it short (a chunk
     * still in flight when the signal comes, however fast the machine). With a hook set, rank
     * 0 runs no chunks itself (root_idle), so that the last rank surely gets the chunks its
     * hook needs, however late it starts. BRAGG_TEST_MPI_FAULT_RUN=N sets it for driven run N
     * alone (an sobp's runs before it go as without a hook). */
    int fault_drop, fault_die, fault_die_second, fault_hold, root_idle;
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

/* The chunk size of every batch: at least 8 chunks per rank (room for the fast ranks to take
 * more), none above the engine's overflow bound. BRAGG_MPI_CHUNK sets the chunk size in
 * histories instead (for benchmarks). The sizes depend only on the configuration, the rank
 * count and rank 0's BRAGG_MPI_CHUNK, so every rank computes the same ones. */
static void default_chunk_sizes(const mpi_run *r, uint64_t *sizes)
{
    const run_config *c = engine_config(r->en);
    uint64_t max_job = engine_max_job_histories(r->en);
    uint64_t per_batch = (uint64_t)(8 * r->size + c->batches - 1) / (uint64_t)c->batches;
    uint64_t fixed = r->ms->chunk_histories;
    for (int b = 0; b < c->batches; b++) {
        uint64_t first, count;
        engine_batch_range(r->en, b, &first, &count);
        uint64_t size = fixed ? fixed : (count + per_batch - 1) / per_batch;
        if (size > max_job) size = max_job;
        if (size < 1) size = 1;
        sizes[b] = size;
    }
}

/* The int64 words of one chunk's sums in a request. */
static size_t sums_words(const score_arrays *a)
{
    return (size_t)a->n_curves * ((size_t)a->nbins + 1) + LEDGER_COUNT + SUMS_COUNTER_WORDS;
}

static int64_t word_of(uint64_t u)
{
    int64_t v;
    memcpy(&v, &u, sizeof v);
    return v;
}

static uint64_t unsigned_of(int64_t v)
{
    uint64_t u;
    memcpy(&u, &v, sizeof u);
    return u;
}

static void pack_sums(const score_arrays *a, int64_t *w)
{
    size_t n = (size_t)a->n_curves * ((size_t)a->nbins + 1), i = n;
    memcpy(w, a->curves, n * sizeof *w);
    for (int k = 0; k < LEDGER_COUNT; k++) w[i++] = a->ledger[k];
    for (int k = 0; k < COUNT_COUNT; k++) w[i++] = word_of(a->count[k]);
    w[i++] = word_of(a->steps);
    w[i++] = word_of(a->histories);
    for (int k = 0; k < PROFILE_COUNT; k++) w[i++] = word_of(a->profile_cycles[k]);
    for (int k = 0; k < PROFILE_COUNT; k++) w[i++] = word_of(a->profile_marks[k]);
    w[i++] = word_of(a->profiled_histories);
    w[i++] = word_of(a->profiled_steps);
    w[i++] = word_of(a->history_cycles);
}

static void unpack_sums(const int64_t *w, score_arrays *a)
{
    size_t n = (size_t)a->n_curves * ((size_t)a->nbins + 1), i = n;
    memcpy(a->curves, w, n * sizeof *w);
    a->as_differences = 0;   /* the sender finished them (engine_run_range) */
    for (int k = 0; k < LEDGER_COUNT; k++) a->ledger[k] = w[i++];
    for (int k = 0; k < COUNT_COUNT; k++) a->count[k] = unsigned_of(w[i++]);
    a->steps = unsigned_of(w[i++]);
    a->histories = unsigned_of(w[i++]);
    for (int k = 0; k < PROFILE_COUNT; k++) a->profile_cycles[k] = unsigned_of(w[i++]);
    for (int k = 0; k < PROFILE_COUNT; k++) a->profile_marks[k] = unsigned_of(w[i++]);
    a->profiled_histories = unsigned_of(w[i++]);
    a->profiled_steps = unsigned_of(w[i++]);
    a->history_cycles = unsigned_of(w[i++]);
}

/* Adds chunk k's sums to this rank's, and with a checkpoint marks it done for the next write.
 * Rank 0's worker thread and main thread both record: under the lock. */
static void record_chunk(mpi_run *r, int64_t k, const score_arrays *sums)
{
    pthread_mutex_lock(&r->lock);
    score_totals_add_to_batch(&r->local, r->layout.chunks[k].batch, sums);
    if (r->done) {
        r->done[k] = 1;
        r->unsaved++;
        r->recorded++;
    }
    pthread_mutex_unlock(&r->lock);
}

static void die_on_purpose(const mpi_run *r, const char *hook)
{
    fprintf(stderr, "bragg-mpi: rank %d: dying on purpose (BRAGG_TEST_MPI_FAULT=%s)\n", r->rank,
            hook);
    _exit(3);
}

/* Runs chunk k on this rank. Its sums are recorded here, or, when shipping, left in r->part
 * for the next request (*has_sums). A chunk is recorded in a checkpoint only when complete:
 * one cut short is run again on resume. Returns the histories kept in *histories. */
static int run_chunk(mpi_run *r, int64_t k, uint64_t *histories, int *has_sums, bragg_err *e)
{
    const history_chunk *ch = &r->layout.chunks[k];
    *has_sums = 0;
    *histories = 0;
    if (r->fault_die_second && r->my_chunks == 1) die_on_purpose(r, "die-second");
    int hold = r->fault_hold && r->my_chunks == 1, rc;
    do
        rc = engine_run_range(r->en, ch->first, ch->count, &r->part, e);
    while (hold && rc == BRAGG_OK && r->part.histories == ch->count);
    if (r->fault_drop && r->my_chunks == 0) {
        /* Test hook: this rank "loses" its first chunk, as a lost message or a bug would. */
        r->my_chunks++;
        return rc;
    }
    if (r->fault_die && r->my_chunks == 0) die_on_purpose(r, "die");
    r->my_chunks++;
    int complete = rc == BRAGG_OK && r->part.histories == ch->count;
    /* Cut short by a stop (fewer histories, no failure): left out whole, crossings and all. It
     * is run again on resume, and a stopped run's result holds whole chunks only: the same
     * whenever the signal came, and the same as its checkpoint. */
    if (rc == BRAGG_OK && !complete) return rc;
    *histories = r->part.histories;
    r->my_histories += r->part.histories;
    phase_space_list_append(&r->ps, &r->part.ps);
    if (r->ship) *has_sums = complete;
    else if (complete || !r->done) record_chunk(r, k, &r->part);
    return rc;
}

/* The next chunk to hand out, skipping those a checkpoint already holds; -1 when none is left.
 * Caller holds the lock. */
static int64_t take_chunk(mpi_run *r)
{
    if (r->stopping) return -1;
    while (r->done && r->next_chunk < r->layout.n_chunks && r->done[r->next_chunk])
        r->next_chunk++;
    return r->next_chunk < r->layout.n_chunks ? r->next_chunk++ : -1;
}

/* Rank 0, on a stop (a signal here, or a rank's REQ_STOP): no chunk is handed out any more and
 * the chunk of rank 0's worker is cut short; the other ranks end theirs (cut short too when
 * they were signalled) and hand them in with their next request. */
static void stop_run(mpi_run *r)
{
    pthread_mutex_lock(&r->lock);
    r->stopping = 1;
    pthread_mutex_unlock(&r->lock);
    r->stopped = 1;
    engine_cancel(r->en);
}

/* Rank 0's own worker: takes chunks from the same counter as the other ranks. */
static void *root_worker(void *arg)
{
    mpi_run *r = arg;
    for (;;) {
        pthread_mutex_lock(&r->lock);
        int64_t k = take_chunk(r);
        pthread_mutex_unlock(&r->lock);
        if (k < 0) break;
        uint64_t h = 0;
        int has_sums;
        bragg_err err = {{0}};
        int rc = run_chunk(r, k, &h, &has_sums, &err);
        pthread_mutex_lock(&r->lock);
        r->histories_done += h;
        if (rc) {
            r->worker_failed = 1;
            r->worker_err = err;
        }
        pthread_mutex_unlock(&r->lock);
        if (rc) break;
    }
    pthread_mutex_lock(&r->lock);
    r->worker_finished = 1;
    pthread_mutex_unlock(&r->lock);
    return NULL;
}

/* When save_state writes, if chunks were recorded since the last write: once the last write is
 * save_every_s old; now; or, in a stopped run, now the first time and then once the last write
 * is STOP_SAVE_EVERY_S old, if chunks were recorded since the last try too (a write that
 * failed is not tried again and again while nothing changes). */
enum { SAVE_WHEN_DUE, SAVE_NOW, SAVE_STOPPED };

/* Rank 0 with a checkpoint: rewrites the state file (see the SAVE_ values). The state is
 * encoded under the lock (a consistent pair of done marks and sums) and written outside it. */
static int save_state(mpi_run *r, int when, bragg_err *e)
{
    if (!r->done) return BRAGG_OK;
    double now = now_s();
    pthread_mutex_lock(&r->lock);
    int64_t unsaved = r->unsaved;
    if (!unsaved || (when == SAVE_WHEN_DUE && now - r->saved_at < r->ms->save_every_s) ||
        (when == SAVE_STOPPED &&
         (r->recorded == r->tried || (r->stop_saved && now - r->saved_at < STOP_SAVE_EVERY_S)))) {
        pthread_mutex_unlock(&r->lock);
        return BRAGG_OK;
    }
    r->tried = r->recorded;
    if (when == SAVE_STOPPED) r->stop_saved = 1;
    int rc = checkpoint_encode(&r->identity, &r->layout, r->done, &r->local, &r->image, e);
    if (rc == BRAGG_OK) r->unsaved = 0;
    pthread_mutex_unlock(&r->lock);
    r->saved_at = now;
    if (rc == BRAGG_OK && (rc = checkpoint_write(r->ms->ckpt, r->index, &r->image, e))) {
        pthread_mutex_lock(&r->lock);
        r->unsaved += unsaved;   /* still to be written */
        pthread_mutex_unlock(&r->lock);
    }
    return rc;
}

/* A write that fails does not stop the run (its result is still right): it is said once, the
 * first time, with what it costs, whether during the run or at its end. */
static void save_state_or_warn(mpi_run *r, int when)
{
    bragg_err err = {{0}};
    if (save_state(r, when, &err) && !r->save_warned) {
        fprintf(stderr, "bragg-mpi: warning: %s; %sa resume would run again the chunks done "
                        "since the last write\n",
                err.msg, when == SAVE_WHEN_DUE ? "the run goes on, but " : "");
        r->save_warned = 1;
    }
}

/* How a rank's start went, agreed over the ranks (the highest wins): refused is bad input, the
 * --checkpoint folder the user named (the command exits 2 for it). */
enum { START_OK, START_FAILED, START_REFUSED };

/* Rank 0, at the start of a run with a checkpoint: opens the folder at the first run, then
 * resumes from run `index`'s file, or starts one (the first write finds a full disk before any
 * work is done). Returns a START_ value: a folder or a file that cannot be used (another run's
 * or build's, damaged) is refused, as bad input. */
static int open_state(mpi_run *r, const uint64_t *sizes, bragg_err *e)
{
    int found = 0;
    if (!r->ms->ckpt && checkpoint_open(&r->ms->ckpt, r->ms->checkpoint_dir, e))
        return START_REFUSED;
    uint64_t check;
    if (checkpoint_physics_check(r->en, &check, e) ||
        checkpoint_identity_build(&r->identity, r->en, r->index, check, r->ms->command, e))
        return START_FAILED;
    if (checkpoint_load(r->ms->ckpt, r->index, r->en, &r->identity, &r->layout, &r->done,
                        &r->local, &found, e))
        return START_REFUSED;
    if (found) {
        for (int64_t k = 0; k < r->layout.n_chunks; k++) r->resumed_chunks += r->done[k];
        r->resumed_histories = r->local.histories;
        r->resumed_steps = r->local.steps;
        r->histories_done = r->local.histories;
        char path[1100];
        checkpoint_path(r->ms->ckpt, r->index, path, sizeof path);
        if (!r->quiet)
            fprintf(stderr, "bragg-mpi: --checkpoint: resuming %s: %lld of %lld chunks (%llu of "
                            "%llu histories) already done\n",
                    path, (long long)r->resumed_chunks, (long long)r->layout.n_chunks,
                    (unsigned long long)r->resumed_histories,
                    (unsigned long long)engine_config(r->en)->histories);
        r->saved_at = now_s();
        return START_OK;
    }
    if (chunk_layout_build(&r->layout, r->en, sizes, e)) return START_FAILED;
    r->done = calloc((size_t)(r->layout.n_chunks > 0 ? r->layout.n_chunks : 1), 1);
    if (!r->done) {
        bragg_fail(e, "out of memory for %lld chunks", (long long)r->layout.n_chunks);
        return START_FAILED;
    }
    r->unsaved = 1;   /* the empty state */
    return save_state(r, SAVE_NOW, e) ? START_FAILED : START_OK;
}

/* With a checkpoint the layout is rank 0's: the one recorded in the file when resuming (so that
 * a resume may use another rank count or chunk size), else the default. Collective: every rank
 * learns whether rank 0 could use the checkpoint, and fails with it if not (d->bad_input when
 * the folder was refused). */
static int share_layout(mpi_run *r, run_driver *d, const uint64_t *default_sizes, int local_rc,
                        bragg_err *e)
{
    int batches = engine_config(r->en)->batches;
    int mine = local_rc == BRAGG_OK ? START_OK : START_FAILED;
    if (r->rank == 0 && mine == START_OK) mine = open_state(r, default_sizes, e);
    /* Every rank's answer, not only rank 0's: a rank that failed to set up must not leave the
     * others waiting in the layout's broadcast below. */
    int worst = mine;
    int mrc = MPI_Allreduce(MPI_IN_PLACE, &worst, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    if (mrc != MPI_SUCCESS) return mpi_fail(e, mrc, "sharing the checkpoint's state");
    if (worst != START_OK) {
        d->bad_input = worst == START_REFUSED;
        /* A rank that failed has its own message in e already. */
        if (mine == START_OK) {
            bragg_fail(e, "rank %d: stopped: another rank could not start (rank 0 could not use "
                          "the checkpoint, or a rank could not set up)", r->rank);
            r->said_elsewhere = 1;
        }
        return BRAGG_ERR;
    }
    uint64_t sizes[1000];   /* batches <= 1000 (config.c) */
    if (r->rank == 0) memcpy(sizes, r->layout.size, (size_t)batches * sizeof *sizes);
    mrc = MPI_Bcast(sizes, batches, MPI_UINT64_T, 0, MPI_COMM_WORLD);
    if (mrc != MPI_SUCCESS) return mpi_fail(e, mrc, "sharing the chunk layout");
    if (r->rank != 0) return chunk_layout_build(&r->layout, r->en, sizes, e);
    return BRAGG_OK;
}

/* The buffers of the requests: with a checkpoint, room for one chunk's sums. */
static int prepare_messages(mpi_run *r, bragg_err *e)
{
    const transport_params *p = engine_params(r->en);
    size_t words = REQ_WORDS + (r->ms->checkpointing ? sums_words(&r->part) : 0);
    if (words > (size_t)INT32_MAX / 2)
        return bragg_fail(e, "MPI: %zu words of a chunk's sums are too many for one message",
                          words);
    r->msg_words = (int)words;
    r->msg = calloc(words, sizeof *r->msg);
    if (!r->msg) return bragg_fail(e, "out of memory for a chunk's sums");
    if (r->rank == 0 && r->ms->checkpointing &&
        score_arrays_init(&r->received, p, e))
        return BRAGG_ERR;
    return BRAGG_OK;
}

static void progress_line(mpi_run *r, uint64_t total, double t0)
{
    pthread_mutex_lock(&r->lock);
    uint64_t done = r->histories_done;
    pthread_mutex_unlock(&r->lock);
    double dt = now_s() - t0, rate = dt > 0 ? (done - r->resumed_histories) / dt : 0;
    fprintf(stderr, "\r  %5.1f%%  %llu/%llu histories  %.0f histories/s  %d rank%s   ",
            total ? 100.0 * done / total : 0.0, (unsigned long long)done,
            (unsigned long long)total, rate, r->size, r->size == 1 ? "" : "s");
}

/* Rank 0: records the sums a request carries for chunk `k` of `source`, after checking that
 * they are that chunk's, whole and new. */
static int take_sums(mpi_run *r, const int64_t *req, int words, int source, bragg_err *e)
{
    int64_t k = req[REQ_LAST];
    if (words != r->msg_words || k < 0 || k >= r->layout.n_chunks)
        return bragg_fail(e, "MPI: rank %d sent the sums of chunk %lld in %d words (want one of "
                             "%lld chunks in %d words)",
                          source, (long long)k, words, (long long)r->layout.n_chunks, r->msg_words);
    unpack_sums(req + REQ_WORDS, &r->received);
    pthread_mutex_lock(&r->lock);
    int twice = r->done[k];
    pthread_mutex_unlock(&r->lock);
    if (twice || r->received.histories != r->layout.chunks[k].count)
        return bragg_fail(e, "MPI: rank %d sent chunk %lld with %llu of its %llu histories%s",
                          source, (long long)k, (unsigned long long)r->received.histories,
                          (unsigned long long)r->layout.chunks[k].count,
                          twice ? ", which was done already" : "");
    record_chunk(r, k, &r->received);
    return BRAGG_OK;
}

/* Rank 0: answers one request: records the chunk's sums it carries (saved when due, before
 * the next chunk goes out) and hands out the next chunk, or none (*active drops). Sums that are
 * not right fail the run (BRAGG_ERR with e) but the request is still answered, with "stop", and
 * from then on every request is: so every rank ends and the failure is reported. An MPI failure
 * sets *broken: rank 0 can then answer nobody. */
static int answer_request(mpi_run *r, const MPI_Status *st, int *active, int *broken,
                          bragg_err *e)
{
    int words = 0, rc = BRAGG_OK;
    int mrc = MPI_Get_count(st, MPI_INT64_T, &words);
    if (mrc == MPI_SUCCESS && (words < REQ_WORDS || words > r->msg_words)) {
        *broken = 1;
        return bragg_fail(e, "MPI: rank %d sent a request of %d words (want %d to %d)",
                          st->MPI_SOURCE, words, REQ_WORDS, r->msg_words);
    }
    if (mrc == MPI_SUCCESS)
        mrc = MPI_Recv(r->msg, words, MPI_INT64_T, st->MPI_SOURCE, TAG_REQUEST, MPI_COMM_WORLD,
                       MPI_STATUS_IGNORE);
    if (mrc != MPI_SUCCESS) {
        *broken = 1;
        return mpi_fail(e, mrc, "receiving a chunk request");
    }
    const int64_t *req = r->msg;
    /* A chunk handed in after a stop still counts: it is whole (serve_chunks writes it). */
    if (req[REQ_HAS_SUMS] && !r->failed) {
        if (!r->done) rc = bragg_fail(e, "MPI: rank %d sent sums unasked", st->MPI_SOURCE);
        else rc = take_sums(r, req, words, st->MPI_SOURCE, e);
        if (rc == BRAGG_OK) save_state_or_warn(r, SAVE_WHEN_DUE);
    }
    if (req[REQ_STOP] && !r->stopped) stop_run(r);
    if (rc) r->failed = 1;
    pthread_mutex_lock(&r->lock);
    if (rc) r->stopping = 1;
    r->histories_done += (uint64_t)req[REQ_HISTORIES];
    int64_t k = req[REQ_FAILED] ? -1 : take_chunk(r);
    pthread_mutex_unlock(&r->lock);
    if (req[REQ_FAILED]) {
        /* Its results so far still count; the final check reports what is missing. */
        (*active)--;
        return rc;
    }
    mrc = MPI_Send(&k, 1, MPI_INT64_T, st->MPI_SOURCE, TAG_ASSIGN, MPI_COMM_WORLD);
    if (mrc != MPI_SUCCESS) {
        *broken = 1;
        return mpi_fail(e, mrc, "assigning a chunk");
    }
    if (k < 0) (*active)--;
    return rc;
}

static int worker_finished(mpi_run *r)
{
    pthread_mutex_lock(&r->lock);
    int finished = r->worker_finished;
    pthread_mutex_unlock(&r->lock);
    return finished;
}

/* Rank 0: serves chunk requests until every other rank has been told to stop and its own
 * worker is done, saving the checkpoint as chunks come in. */
static int serve_chunks(mpi_run *r, int show_progress, bragg_err *e)
{
    pthread_t worker;
    if (r->root_idle) r->worker_finished = 1;
    else if (pthread_create(&worker, NULL, root_worker, r) != 0)
        return bragg_fail(e, "cannot start rank 0's worker thread");
    int active = r->size - 1, rc = BRAGG_OK, broken = 0;
    uint64_t total = engine_config(r->en)->histories;
    double t0 = now_s(), shown = t0;
    while (!broken && (active > 0 || !worker_finished(r))) {
        if (!r->stopped && interrupt_requested()) stop_run(r);
        /* Stopped, the state is written now, not when due. The signal may come from the MPI
         * runtime ending the job because a rank died: this loop then waits for that rank's
         * request until the SIGKILL that follows (a second later with Open MPI 4.1). */
        if (r->stopped) save_state_or_warn(r, SAVE_STOPPED);
        int flag = 0;
        MPI_Status st;
        int mrc = active > 0 ? MPI_Iprobe(MPI_ANY_SOURCE, TAG_REQUEST, MPI_COMM_WORLD, &flag, &st)
                             : MPI_SUCCESS;
        if (mrc != MPI_SUCCESS) {
            rc = mpi_fail(e, mrc, "waiting for chunk requests");
            break;
        }
        if (flag) {
            bragg_err err = {{0}};
            if (answer_request(r, &st, &active, &broken, &err) && !rc) {
                /* The first failure is the one reported; stop the local worker soon, since
                 * its chunks would not count. */
                rc = BRAGG_ERR;
                *e = err;
                engine_cancel(r->en);
            }
            continue;
        }
        /* Requests come once per chunk (seconds apart): polling every millisecond costs nothing
         * measurable and keeps the main thread off the cores doing transport. */
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
        if (show_progress && now_s() - shown > 0.25) {
            progress_line(r, total, t0);
            shown = now_s();
        }
        save_state_or_warn(r, SAVE_WHEN_DUE);
    }
    if (rc) engine_cancel(r->en);
    /* Written before waiting for the worker: an MPI failure (a rank that died, as the library
     * saw it) ends the loop too, and the SIGKILL may be near. A chunk the worker completes
     * meanwhile is written below. */
    save_state_or_warn(r, SAVE_NOW);
    if (!r->root_idle) pthread_join(worker, NULL);
    if (show_progress) fprintf(stderr, "\r%*s\r", 100, "");
    if (!rc && r->worker_failed) {
        *e = r->worker_err;
        rc = BRAGG_ERR;
    }
    /* Whatever was recorded is kept, also when the run failed: a resume starts from there. */
    save_state_or_warn(r, SAVE_NOW);
    return rc;
}

/* Ranks > 0 transport on their main thread, which then looks at nothing else: this thread turns
 * a signal (src/cli/interrupt.h) into engine_cancel, so that the chunk in flight is cut short
 * within milliseconds instead of running to its end. */
static void *watch_signals(void *arg)
{
    mpi_run *r = arg;
    while (!atomic_load(&r->watch_end)) {
        if (interrupt_requested()) {
            engine_cancel(r->en);
            break;
        }
        struct timespec ts = {0, STOP_POLL_NS};
        nanosleep(&ts, NULL);
    }
    return NULL;
}

/* Ranks > 0: ask rank 0 for chunks until told to stop; each request hands in the chunk done
 * (with its sums when shipping) and says whether a signal came here. */
static int request_loop(mpi_run *r, bragg_err *e)
{
    int64_t *req = r->msg;
    req[REQ_LAST] = -1;
    for (;;) {
        req[REQ_STOP] = interrupt_requested() != 0;
        int words = REQ_WORDS;
        if (req[REQ_HAS_SUMS]) {
            pack_sums(&r->part, req + REQ_WORDS);
            words = r->msg_words;
        }
        int mrc = MPI_Send(req, words, MPI_INT64_T, 0, TAG_REQUEST, MPI_COMM_WORLD);
        if (mrc != MPI_SUCCESS) return mpi_fail(e, mrc, "asking rank 0 for a chunk");
        if (req[REQ_FAILED]) return BRAGG_ERR;   /* e holds the failure */
        int64_t k;
        mrc = MPI_Recv(&k, 1, MPI_INT64_T, 0, TAG_ASSIGN, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        if (mrc != MPI_SUCCESS) return mpi_fail(e, mrc, "receiving a chunk from rank 0");
        if (k < 0 || k >= r->layout.n_chunks) return BRAGG_OK;
        uint64_t h = 0;
        int has_sums;
        int rc = run_chunk(r, k, &h, &has_sums, e);
        req[REQ_LAST] = k;
        req[REQ_HISTORIES] = (int64_t)h;
        req[REQ_FAILED] = rc != BRAGG_OK;
        req[REQ_HAS_SUMS] = has_sums;
    }
}

static int request_chunks(mpi_run *r, bragg_err *e)
{
    pthread_t watcher;
    /* Without the watcher a signal still stops the run, at the end of the chunk in flight. */
    int watching = pthread_create(&watcher, NULL, watch_signals, r) == 0;
    int rc = request_loop(r, e);
    atomic_store(&r->watch_end, 1);
    if (watching) pthread_join(watcher, NULL);
    return rc;
}

/* Adds every rank's per-batch sums; afterwards each rank's `local` holds the whole run. The
 * 128-bit arrays go as 16-byte elements with the exact integer sum; the counters (each under
 * 2^64: histories, steps, profile ticks) as uint64. */
static int allreduce_totals(const mpi_state *ms, score_totals *t, bragg_err *e)
{
    size_t n_curves = (size_t)t->nbins * (size_t)(t->n_curves + 1);   /* + the dose curve */
    size_t n_batch = score_totals_batch_values(t);
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

/* Collective: rank 0 gathers every rank's phase-space crossings into the engine's list, which
 * the writer sorts by history and particle (src/output/phase_space.h), so the file is the
 * single-process run's whatever the ranks did. Each rank sends its count, then its crossings in
 * messages of at most PS_MESSAGE_POINTS; rank 0 first says whether it has the room to receive,
 * so that no rank sends into a receiver that cannot take it. *lost: the crossings of all ranks
 * that found no room. */
static int gather_phase_space(mpi_run *r, uint64_t *lost, bragg_err *e)
{
    phase_space_point *buf = NULL;
    int ok = 1;
    if (r->rank == 0 && r->size > 1) {
        buf = malloc(PS_MESSAGE_POINTS * sizeof *buf);
        ok = buf != NULL;
    }
    uint64_t my_lost = r->ps.lost;
    int mrc = MPI_Bcast(&ok, 1, MPI_INT, 0, MPI_COMM_WORLD);
    if (mrc == MPI_SUCCESS)
        mrc = MPI_Allreduce(&my_lost, lost, 1, MPI_UINT64_T, MPI_SUM, MPI_COMM_WORLD);
    if (mrc != MPI_SUCCESS) {
        free(buf);
        return mpi_fail(e, mrc, "gathering the phase space");
    }
    if (!ok) return bragg_fail(e, "rank 0: out of memory gathering the phase space");
    if (r->rank != 0) {
        uint64_t n = r->ps.n;
        mrc = MPI_Send(&n, 1, MPI_UINT64_T, 0, TAG_PS_COUNT, MPI_COMM_WORLD);
        for (size_t at = 0; mrc == MPI_SUCCESS && at < r->ps.n; at += PS_MESSAGE_POINTS) {
            size_t k = r->ps.n - at < PS_MESSAGE_POINTS ? r->ps.n - at : PS_MESSAGE_POINTS;
            mrc = MPI_Send(r->ps.p + at, (int)(k * sizeof *r->ps.p), MPI_BYTE, 0, TAG_PS_POINTS,
                           MPI_COMM_WORLD);
        }
        return mrc == MPI_SUCCESS ? BRAGG_OK : mpi_fail(e, mrc, "sending the phase space");
    }
    /* Rank 0's own, then the others'. A crossing that finds no room in the list here is
     * counted in its `lost` (phase_space_list_append) and added to *lost (on rank 0 only: the
     * others, which write nothing, do not hear of it). */
    phase_space_list *all = engine_phase_space(r->en);
    uint64_t lost_before = all->lost + r->ps.lost;   /* r->ps.lost is in *lost already */
    phase_space_list_append(all, &r->ps);
    for (int src = 1; src < r->size && mrc == MPI_SUCCESS; src++) {
        uint64_t n = 0;
        mrc = MPI_Recv(&n, 1, MPI_UINT64_T, src, TAG_PS_COUNT, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        for (uint64_t at = 0; mrc == MPI_SUCCESS && at < n; at += PS_MESSAGE_POINTS) {
            size_t k = n - at < PS_MESSAGE_POINTS ? (size_t)(n - at) : PS_MESSAGE_POINTS;
            mrc = MPI_Recv(buf, (int)(k * sizeof *buf), MPI_BYTE, src, TAG_PS_POINTS,
                           MPI_COMM_WORLD, MPI_STATUS_IGNORE);
            phase_space_list piece = {buf, k, k, 0};
            if (mrc == MPI_SUCCESS) phase_space_list_append(all, &piece);
        }
    }
    free(buf);
    if (mrc != MPI_SUCCESS) return mpi_fail(e, mrc, "receiving the phase space");
    *lost += all->lost - lost_before;
    return BRAGG_OK;
}

/* Every batch must hold exactly its histories (at most, in a stopped run, whose chunks not run
 * are missing): anything else (a rank that lost a chunk, a chunk counted twice) would be a
 * wrong answer, so it fails the run instead. */
static int verify_totals(mpi_run *r, int stopped, char *why, size_t len)
{
    const run_config *c = engine_config(r->en);
    score_totals *t = &r->local;
    for (int b = 0; b < c->batches; b++) {
        uint64_t first, count;
        engine_batch_range(r->en, b, &first, &count);
        if (stopped ? t->batch_histories[b] > count : t->batch_histories[b] != count) {
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
    if (!stopped && t->histories != c->histories) {
        snprintf(why, len, "MPI: the ranks returned %llu of %llu histories",
                 (unsigned long long)t->histories, (unsigned long long)c->histories);
        return BRAGG_ERR;
    }
    return BRAGG_OK;
}

/* The summary line: ranks, chunks, what came from the checkpoint and how the rest was spread. */
static void write_note(run_driver *d, const mpi_run *r)
{
    char resumed[128] = "";
    if (r->resumed_chunks)
        snprintf(resumed, sizeof resumed,
                 "; %lld of them (%llu histories) resumed from the checkpoint, not in the rate",
                 (long long)r->resumed_chunks, (unsigned long long)r->resumed_histories);
    /* Who did what: the fewest and most histories a rank ran, as shares of those run now. */
    double mine = (double)r->my_histories, lo = 0, hi = 0;
    int mrc = MPI_Reduce(&mine, &lo, 1, MPI_DOUBLE, MPI_MIN, 0, MPI_COMM_WORLD);
    if (mrc == MPI_SUCCESS) mrc = MPI_Reduce(&mine, &hi, 1, MPI_DOUBLE, MPI_MAX, 0, MPI_COMM_WORLD);
    if (mrc != MPI_SUCCESS || r->rank != 0) return;
    double ran = (double)(r->local.histories - r->resumed_histories);
    if (ran > 0)
        snprintf(d->note, sizeof d->note,
                 "MPI: %d rank%s, %lld chunks; histories per rank %.1f-%.1f%% of those run%s",
                 r->size, r->size == 1 ? "" : "s", (long long)r->layout.n_chunks, 100 * lo / ran,
                 100 * hi / ran, resumed);
    else
        snprintf(d->note, sizeof d->note,
                 "MPI: all %lld chunks (%llu histories) resumed from the checkpoint; none run now",
                 (long long)r->layout.n_chunks, (unsigned long long)r->resumed_histories);
}

static void read_test_hooks(mpi_run *r)
{
    const char *fault = getenv("BRAGG_TEST_MPI_FAULT");
    const char *only = getenv("BRAGG_TEST_MPI_FAULT_RUN");
    if (only && *only && atoi(only) != r->index) fault = NULL;
    r->root_idle = fault && *fault && r->rank == 0 && r->size > 1;
    if (fault && r->rank == r->size - 1 && r->rank > 0) {
        r->fault_drop = strcmp(fault, "drop") == 0;
        r->fault_die = strcmp(fault, "die") == 0;
        r->fault_die_second = strcmp(fault, "die-second") == 0;
    }
    /* Alone, rank 0's worker is the last rank: a stop is tested without mpirun too. */
    if (fault && r->rank == r->size - 1) r->fault_hold = strcmp(fault, "hold") == 0;
}

/* The batches a stopped run's statistics use: those from the first on that hold histories.
 * Chunks go out in order, so they are nearly all that ran; one left empty by chunks cut
 * short ends them (the statistics need batches 0..B-1 with histories; the histories beyond
 * still count in the curves). */
static int leading_batches(const score_totals *t)
{
    int b = 0;
    while (b < t->max_batches && t->batch_histories[b] > 0) b++;
    return b;
}

static int mpi_driver_run(run_driver *d, engine *en, int show_progress, int quiet,
                          bragg_err *e)
{
    mpi_state *ms = d->state;
    mpi_run r;
    memset(&r, 0, sizeof r);
    r.en = en;
    r.ms = ms;
    r.rank = ms->rank;
    r.size = ms->size;
    r.index = ms->runs++;
    r.ship = ms->checkpointing && r.rank != 0;
    r.quiet = quiet;
    pthread_mutex_init(&r.lock, NULL);
    atomic_init(&r.watch_end, 0);
    read_test_hooks(&r);
    const run_config *c = engine_config(en);
    const transport_params *p = engine_params(en);
    int rc = BRAGG_ERR, local_rc = BRAGG_OK;
    double t0 = now_s();
    d->note[0] = '\0';
    d->bad_input = 0;
    if (c->batches > 1000) {
        bragg_fail(e, "batches: %d is more than 1000", c->batches);
        r.said_elsewhere = 1;
        goto done;
    }
    uint64_t sizes[1000];   /* batches <= 1000 (config.c) */
    default_chunk_sizes(&r, sizes);
    if (score_arrays_init(&r.part, p, e) ||
        score_totals_init(&r.local, p, c->batches, c->map_errors, e))
        local_rc = BRAGG_ERR;
    if (ms->checkpointing) {
        /* Collective, with the same answer on every rank: a checkpoint that cannot be used
         * (another run's, damaged) ends the run before it starts, and nothing is written. */
        if (share_layout(&r, d, sizes, local_rc, e)) goto done;
    } else if (!local_rc) {
        local_rc = chunk_layout_build(&r.layout, en, sizes, e);
    }
    if (!local_rc) local_rc = prepare_messages(&r, e);
    /* Serving and requesting need every rank: if one could not set up, none starts (else the
     * others would wait for its requests, or for chunks, for ever). */
    int any_failed = local_rc != BRAGG_OK;
    int mrc = MPI_Allreduce(MPI_IN_PLACE, &any_failed, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    if (mrc != MPI_SUCCESS) {
        mpi_fail(e, mrc, "agreeing to start");
        goto done;
    }
    if (any_failed && !local_rc) {
        local_rc = bragg_fail(e, "rank %d: stopped: another rank could not set up", r.rank);
        r.said_elsewhere = 1;
    }
    if (!local_rc)
        local_rc = r.rank == 0 ? serve_chunks(&r, show_progress, e) : request_chunks(&r, e);
    if (local_rc && (r.rank == 0 || !r.said_elsewhere))
        fprintf(stderr, "bragg-mpi: rank %d: %s\n", r.rank, e->msg);

    /* Whether a rank was stopped (by a signal, or by a REQ_STOP on rank 0): every rank ends the
     * run in the same state. A signal after this is one after the run. */
    int stopped = r.stopped || interrupt_requested();
    mrc = MPI_Allreduce(MPI_IN_PLACE, &stopped, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    if (mrc != MPI_SUCCESS) {
        mpi_fail(e, mrc, "agreeing whether the run was stopped");
        goto done;
    }
    /* Every rank takes part in the sums even after a local failure, so that the others do not
     * hang and the check below reports the missing histories. */
    if (allreduce_totals(ms, &r.local, e)) goto done;
    uint64_t ps_lost = 0;
    if (p->ps_depth > 0 && gather_phase_space(&r, &ps_lost, e)) goto done;
    double elapsed = now_s() - t0;
    char why[512] = "";
    int bad = verify_totals(&r, stopped, why, sizeof why);
    if (!bad && ps_lost) {
        snprintf(why, sizeof why, "phase space: %llu crossings of the plane at %g cm found no "
                 "room (more than %d in one history, the GPU's buffer full, or out of "
                 "memory)",
                 (unsigned long long)ps_lost, p->ps_depth, PHASE_SPACE_HISTORY_HEADROOM);
        bad = 1;
    }
    run_state end = bad                                           ? RUN_FAILED
                    : stopped && r.local.histories < c->histories ? RUN_CANCELLED
                                                                  : RUN_DONE;
    r.local.batches = end == RUN_FAILED      ? 0
                      : end == RUN_CANCELLED ? leading_batches(&r.local)
                                             : c->batches;
    if (!bad) write_note(d, &r);
    /* What was resumed is known on rank 0, which reports the rates (elsewhere it is 0). */
    adopted_run how = {end, why, elapsed, r.resumed_histories, r.resumed_steps};
    if (engine_adopt_totals(en, &r.local, &how, e)) goto done;
    rc = BRAGG_OK;
done:
    /* Rank 0's failure is the command's to say (run_driver_say); another rank says its own here. */
    if (rc && r.rank != 0 && !r.said_elsewhere)
        fprintf(stderr, "bragg-mpi: rank %d: %s\n", r.rank, e->msg);
    score_totals_free(&r.local);
    score_arrays_free(&r.part);
    phase_space_list_free(&r.ps);
    score_arrays_free(&r.received);
    chunk_layout_free(&r.layout);
    checkpoint_image_free(&r.image);
    checkpoint_identity_free(&r.identity);
    free(r.done);
    free(r.msg);
    pthread_mutex_destroy(&r.lock);
    return rc;
}

/* run_driver.count_failed: the ranks that passed ok = 0; -1 when they could not be counted. */
static int count_failed(run_driver *d, int ok, int *processes)
{
    const mpi_state *ms = d->state;
    int failed = !ok;
    *processes = ms->size;
    if (MPI_Allreduce(MPI_IN_PLACE, &failed, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD) != MPI_SUCCESS)
        return -1;
    return failed;
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
    ms->save_every_s = CHECKPOINT_EVERY_S;
    d->name = "mpi";
    d->program = "bragg-mpi";
    d->is_root = ms->rank == 0;
    d->process = ms->rank;
    d->run = mpi_driver_run;
    d->count_failed = count_failed;
    d->state = ms;
    return BRAGG_OK;
}

/* Environment variable `name` as a number in [lo, hi] (whole when `whole`) into *out, which
 * keeps its default when the variable is unset or empty. */
static int read_variable(const char *name, double lo, double hi, int whole, double *out,
                         bragg_err *e)
{
    const char *env = getenv(name);
    if (!env || !*env) return BRAGG_OK;
    double v;
    if (parse_number(env, name, lo, hi, &v, e)) return BRAGG_ERR;
    if (whole && v != floor(v))
        return bragg_fail(e, "%s: %s is not a whole number (valid: %g to %g)", name,
                          BRAGG_QUOTED(env), lo, hi);
    *out = v;
    return BRAGG_OK;
}

int mpi_driver_read_environment(run_driver *d, bragg_err *e)
{
    mpi_state *ms = d->state;
    /* Rank 0's: the environment of other nodes' ranks need not be the launcher's. */
    double v[3] = {1, 0, CHECKPOINT_EVERY_S};   /* ok, chunk size (0: default), seconds */
    if (ms->rank == 0)
        v[0] = read_variable("BRAGG_MPI_CHUNK", 1, 1e12, 1, &v[1], e) == BRAGG_OK &&
               read_variable("BRAGG_CHECKPOINT_SECONDS", 0, 1e9, 0, &v[2], e) == BRAGG_OK;
    int mrc = MPI_Bcast(v, 3, MPI_DOUBLE, 0, MPI_COMM_WORLD);
    if (mrc != MPI_SUCCESS) return mpi_fail(e, mrc, "sharing the environment");
    if (!v[0]) {
        if (ms->rank != 0) bragg_fail(e, "rank 0 refused its environment");
        return BRAGG_ERR;
    }
    ms->chunk_histories = (uint64_t)v[1];
    ms->save_every_s = v[2];
    return BRAGG_OK;
}

/* run_driver.check_outputs with a checkpoint: no output may be one of its files. */
static int check_outputs(const run_driver *d, const file_use *uses, int n, bragg_err *e)
{
    const mpi_state *ms = d->state;
    return atomic_file_check_reserved(uses, n, ms->checkpoint_dir, checkpoint_owns_name,
                                      "--checkpoint", e);
}

void mpi_driver_use_checkpoint(run_driver *d, const char *dir, const char *command)
{
    mpi_state *ms = d->state;
    ms->checkpointing = 1;
    ms->checkpoint_dir = dir;
    ms->command = command;
    d->check_outputs = check_outputs;
    d->no_phase_space = "not kept in a --checkpoint folder (run it without --checkpoint)";
}

void mpi_driver_free(run_driver *d)
{
    mpi_state *ms = d->state;
    if (ms) {
        checkpoint_close(ms->ckpt);
        MPI_Op_free(&ms->int128_sum);
        MPI_Type_free(&ms->int128_type);
        free(ms);
    }
    d->state = NULL;
}
