/*
 * checkpoint.h - a durable record of the chunks a driven run has completed (bragg-mpi
 * --checkpoint DIR), so that a run cut short (a rank died, the job ran out of time) is resumed
 * by the same command and ends with the result, error bars included, of a run that never
 * stopped, bit for bit.
 *
 * What is kept: a run's histories are cut into chunks (each batch into pieces of one size per
 * batch, chunk_layout); the record holds which chunks are done and the integer sums of exactly
 * those chunks, per batch where the statistics need it (score_totals). Integer sums do not
 * depend on the order of addition, so the sums of the resumed chunks plus those of the rest
 * are the sums of the whole run.
 *
 * Files in DIR:
 *   lock          held (fcntl write lock) while a run uses DIR: two jobs never share one
 *   run-NNN.ckpt  the state of the command's NNN-th driven run (`run`: only run-000; `sobp`:
 *                 one per pristine peak, the pilot first), rewritten whole each time
 *   run-NNN.ckpt.tmp.PID  the rewrite in progress (src/output/atomic_file.h): renamed over
 *                 run-NNN.ckpt once complete
 * One state file per run, rewritten atomically (temporary file, fsync, rename, fsync of DIR),
 * rather than one file per chunk or an append-only log: the file count stays bounded however
 * many chunks there are, a reader sees the old state or the new one and never a mix, and a
 * rewrite costs the size of the sums (a few MB at most), which the caller limits to one every
 * few seconds.
 *
 * Format of run-NNN.ckpt (version 1): a text header, one "key value" line each, that a person
 * can read with `head`: first "bragg-checkpoint 1", then the identity of the run (see
 * checkpoint_identity_build: bragg version and git revision, the run's index, the command's own
 * lines, every configuration field that changes the result, each keyed by its option as typed:
 * "--spot 1", in mm as --spot takes it; ion, energy, beam, geometry, physics switches, steps,
 * scoring, seed, histories, batches; the number of bins and channels; the sizes of the sums; a
 * hash of the scores of the run's first histories, see checkpoint_physics_check), then the state
 * (chunk count, chunk size of each batch, chunks and histories done, payload size), then an
 * empty line. Then the
 * payload, little-endian: one byte per chunk (1 = done), the 128-bit sums (curves, dose per
 * batch, energy ledger) as two 64-bit words each, then the 64-bit counters. The file ends with
 * "checksum HEX\n", the FNV-1a 64-bit hash of every byte before that line. Backend, threads and
 * profiling are not part of the identity: they do not change the result.
 *
 * Loading checks, in this order, and reports the file and what is wrong: the first line is the
 * format line (else it is not a checkpoint of this format), the checksum line is there (else
 * truncated), the checksum matches (else damaged), that the identity is this run's (else it
 * names each field that differs, with both values: "--seed is 11 there, 12 here"), the sizes,
 * and that the sums agree with the chunks marked done. Nothing is ever silently ignored; a
 * checkpoint that cannot be used is the user's folder, refused as bad input (bragg-mpi exits 2).
 *
 * Memory: checkpoint_open allocates the handle (checkpoint_close frees it and releases the
 * lock); chunk_layout, checkpoint_image and checkpoint_identity own their arrays (their
 * *_free). Functions touch
 * only what they are given: one thread per checkpoint, any thread for the rest.
 */
#ifndef BRAGG_CHECKPOINT_H
#define BRAGG_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#include "engine.h"
#include "err.h"
#include "score.h"

/* One chunk: part of one batch, a range of history indices. */
typedef struct history_chunk {
    int batch;
    uint64_t first, count;
} history_chunk;

/* How a run's batches are cut: batch b into chunks of size[b] histories (its last chunk may be
 * shorter), numbered batch after batch. */
typedef struct chunk_layout {
    int batches;
    uint64_t *size;       /* [batches] */
    history_chunk *chunks;    /* [n_chunks] */
    int64_t n_chunks;
} chunk_layout;

/* Builds the layout of `en`'s batches from size[batches]; each size must be in
 * [1, engine_max_job_histories]. */
int chunk_layout_build(chunk_layout *l, const engine *en, const uint64_t *size, bragg_err *e);
void chunk_layout_free(chunk_layout *l);

/* A run's state encoded as the bytes of its file, ready to write. */
typedef struct checkpoint_image {
    unsigned char *data;
    size_t len, cap;
} checkpoint_image;

void checkpoint_image_free(checkpoint_image *img);

/* A hash of the integer scores of the run's first 16 histories (or fewer), run here on the
 * engine's backend (not while its run thread goes). It catches what the version line cannot:
 * a build whose transport scores differently at the same git revision (uncommitted changes,
 * objects not rebuilt) or a backend that rounds differently; part of a run's identity. */
int checkpoint_physics_check(engine *en, uint64_t *check, bragg_err *e);

/* What a state file must hold for a run to resume from it: the identity lines of its header. */
typedef struct checkpoint_identity {
    checkpoint_image text;   /* "key value\n" lines */
} checkpoint_identity;

/* The identity of driven run number `run` of `en`, once per run (it reads the catalog):
 * `check` from checkpoint_physics_check, `command` the command's own "key value\n" lines that
 * fix the run's configuration beyond it (an sobp's --from, which sets its peaks' energies) or
 * NULL. Values are the ones the run uses, so that one run typed two ways is one run: ion and
 * material names as the catalog spells them (--ion proton is p, --material G4_WATER is
 * water), automatic values resolved (--bin 0.1 is the automatic 0.1 mm), numbers in their
 * option's unit in the shortest text that reads back to the same double. */
int checkpoint_identity_build(checkpoint_identity *id, const engine *en, int run, uint64_t check,
                              const char *command, bragg_err *e);
void checkpoint_identity_free(checkpoint_identity *id);

/* Encodes the state of the run of identity `id`: layout `l`, done[n_chunks] (0 or 1) and `t`,
 * the sums of exactly the done chunks (same bins, channels, batches as the run's engine).
 * Reuses img's memory. */
int checkpoint_encode(const checkpoint_identity *id, const chunk_layout *l, const uint8_t *done,
                      const score_totals *t, checkpoint_image *img, bragg_err *e);

typedef struct checkpoint checkpoint;

/* Opens DIR for a run: creates it when missing (not its parents), checks that files can be
 * written there and takes its lock. Messages name the option, "--checkpoint". */
int checkpoint_open(checkpoint **out, const char *dir, bragg_err *e);
void checkpoint_close(checkpoint *c);
/* True when `name` is one of the files a checkpoint keeps in its folder: "lock" and
 * "run-NNN.ckpt" (any run), their temporaries included. A command's output must not be one. */
int checkpoint_owns_name(const char *name);
/* The path of run `run`'s state file, for messages. */
void checkpoint_path(const checkpoint *c, int run, char *out, size_t len);

/* Writes an image as run `run`'s state file, atomically and durably. */
int checkpoint_write(checkpoint *c, int run, const checkpoint_image *img, bragg_err *e);

/* Reads run `run`'s state. No file: *found = 0 and nothing else is touched. Otherwise checks it
 * against identity `id` of that run of `en` (see above), and fills `l` (its layout), *done
 * (malloc'ed, n_chunks bytes, for the caller to free) and `t` (initialised by the caller for the
 * engine's bins, channels and batches, and still empty: the file's sums are added). */
int checkpoint_load(checkpoint *c, int run, const engine *en, const checkpoint_identity *id,
                    chunk_layout *l, uint8_t **done, score_totals *t, int *found, bragg_err *e);

#endif
