/*
 * mpi_run.h - a run spread over MPI ranks (the bragg-mpi binary; built with MPI=1).
 *
 * The histories of a run are cut into chunks: each batch (a fixed range of history indices,
 * engine_batch_range) into a few contiguous pieces. Rank 0 hands out chunk indices on request,
 * first come first served, so a fast rank (more cores, a GPU) takes more chunks; rank 0 also
 * runs chunks itself on a second thread. Every rank runs its chunks on its own backend and
 * adds each into its own per-batch 128-bit sums. At the end the sums are added over all ranks
 * (MPI_Allreduce with a 128-bit integer sum), so every rank holds the whole result.
 *
 * Exactness: each history draws from its own Philox stream keyed by (seed, history index) and
 * scores integers, so the union of the chunks is the single-process run, bit for bit, and the
 * batch statistics are too, since batches are history ranges whatever the rank count. A chunk
 * never exceeds engine_max_job_histories (its int64 sums cannot overflow); the 128-bit sums of
 * at most 2^64 chunks of values below 2^62 stay below 2^126.
 *
 * Failures: MPI errors are returned (MPI_ERRORS_RETURN) and checked; every rank verifies that
 * each batch received exactly its histories and otherwise the run fails with a message naming
 * what is missing. A rank that dies makes the MPI runtime end the job before anything is written
 * (with a checkpoint, rank 0 writes the state when the runtime's SIGTERM reaches it, see below).
 *
 * Signals (src/cli/interrupt.h, on every rank): a stop, heard by any rank, ends the handing out
 * (ranks > 0 say so in their next request, REQ_STOP). A signalled rank cuts its chunk in flight
 * short (engine_cancel: rank 0's main thread, or a watcher thread on the others) and leaves it
 * out whole; ranks not signalled finish theirs. The ranks agree that the run stopped, and it
 * ends as RUN_CANCELLED with the sums of the completed chunks, which are exactly what the
 * checkpoint holds: rank 0 writes that first, within the second Open MPI leaves between SIGTERM
 * and SIGKILL.
 *
 * Checkpoints (mpi_driver_use_checkpoint, src/mpi/checkpoint.h): the other ranks then send each
 * chunk's int64 sums to rank 0 with their next request, and rank 0 adds them, and its own
 * chunks, into one set of per-batch sums, marking the chunk done. Rank 0 rewrites the state
 * file at the start of a run, when a chunk comes in and the last write is
 * BRAGG_CHECKPOINT_SECONDS old (default 10), at once when the run stops (whatever the other
 * ranks do: a rank that died never hands its chunk in), and at the end, also of a failed run. A
 * sender's chunk is written before its next chunk is handed out, so work handed in is on disk
 * (when due) before the sender can take more. A run that finds its file resumes: the layout
 * recorded there (whatever the rank count now) and the sums of the chunks done; only the others
 * are handed out. Chunk sums are integers, so the result is the uninterrupted run's, bit for
 * bit. The folder's files cannot be named as outputs (run_driver.check_outputs).
 *
 * Memory: mpi_driver_init fills a driver whose state this module owns until mpi_driver_free.
 * Threads: call from the main thread, after MPI_Init_thread with at least MPI_THREAD_FUNNELED;
 * during a run rank 0 has a worker thread and the other ranks a signal watcher, neither of
 * which calls MPI.
 */
#ifndef BRAGG_MPI_RUN_H
#define BRAGG_MPI_RUN_H

#include "err.h"
#include "run_driver.h"

/* Fills `d` for MPI_COMM_WORLD and sets MPI_ERRORS_RETURN on it. */
int mpi_driver_init(run_driver *d, bragg_err *e);
void mpi_driver_free(run_driver *d);
/* Collective: reads rank 0's BRAGG_MPI_CHUNK (chunk size in histories, 1 to 1e12) and
 * BRAGG_CHECKPOINT_SECONDS (least time between two checkpoint writes, 0 to 1e9) for every
 * rank. A value that is not such a number fails on every rank; rank 0's message names the
 * variable and its valid range (bad input). */
int mpi_driver_read_environment(run_driver *d, bragg_err *e);
/* Records the chunks of every following run in folder `dir` (which must outlive the driver)
 * and resumes from what is recorded there; every rank calls it alike. `command`: "key value\n"
 * lines that every run's state file records beside the run's own configuration (the command,
 * an sobp's --from and --to, from which its energies follow), or NULL; it must outlive the
 * driver too. Rank 0 opens the folder
 * (creates it when missing and locks it, see checkpoint_open) at the first run, once the
 * command has checked its options and outputs: a command refused leaves no folder behind; one
 * that cannot be used fails that run with d->bad_input set. */
void mpi_driver_use_checkpoint(run_driver *d, const char *dir, const char *command);

#endif
