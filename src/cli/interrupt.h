/*
 * interrupt.h - Ctrl-C, SIGTERM and SIGHUP in the headless commands: stop cleanly, lose nothing.
 *
 * main() installs the handler before anything else, so a signal at any moment is seen. A
 * signal before the command's work has begun (interrupt_begin_work: while it parses options and
 * reads its inputs, which may block, e.g. on a FIFO nobody writes) exits 130 at once. Once the
 * work has begun the first signal only asks to stop: a running transport is cancelled at the
 * next chunk of histories and what it computed is written whole (marked partial); outputs
 * being written are finished. The command then exits 130. A second signal aborts at once: the
 * temporaries of outputs in flight are removed (src/output/atomic_file.h) and the process exits
 * 130, so an impatient user never finds *.tmp.PID litter either.
 *
 * The handler only sets a flag (and, before the work or the second time, unlinks and _exits):
 * any thread may take the signal. interrupt_requested may be polled from any thread.
 */
#ifndef BRAGG_INTERRUPT_H
#define BRAGG_INTERRUPT_H

#include "engine.h"

#define EXIT_INTERRUPTED 130

/* Installs the handler for SIGINT, SIGTERM and SIGHUP (with SA_RESTART, so that a signal
 * during a write or a blocking open does not fail it). */
void interrupt_install(void);

/* Marks the start of the command's work (a transport, or writing its outputs): from here on
 * the first signal asks to stop instead of exiting. Called by the main thread. */
void interrupt_begin_work(void);

/* The first signal received (SIGINT, SIGTERM or SIGHUP) since the work began, 0 while none
 * came. Always 0 before interrupt_begin_work (a signal then exits at once): there is nothing to
 * check before it. */
int interrupt_requested(void);

/* Waits for the started run `en` to end, cancelling it once a signal has come, one that came
 * before the wait included (the run then stops at its first look at the cancel flag). What it
 * computed stays in its snapshot. `tick` (NULL: none) is called with `ctx` every quarter
 * second while the run goes (bragg run's progress line). Main thread. */
void interrupt_wait_run(engine *en, void (*tick)(engine *en, void *ctx), void *ctx);

/* A command's exit status for a run that ended as `state`: EXIT_OK (0) done, EXIT_INTERRUPTED
 * cancelled (the commands cancel a run for a signal only), 1 failed. Only the run's own end
 * decides, not whether a signal came: a run that fails of its own after Ctrl-C (an unreadable
 * table, no memory) is a failure, as in bragg run. main() makes the rest of the rule: 130 for
 * a command that ended well after a signal, or whose output gave up for it. */
int interrupt_run_status(run_state state);

/* A command's final exit status: `status`, or 130 when a signal came while it ran (it stopped
 * early or, if its work was done, finished writing first). A command fails an output given up
 * because of the signal (a FIFO nobody read) as it fails any write, with 1 or 2; that failure
 * is the user's stop, not bad input nor a fault, whatever the command, unless another output
 * failed for a cause of its own (a full disk): that stays the command's failure. The rule of
 * every program that installs the handler (bragg, bragg-mpi). */
int interrupt_final_status(int status);

#endif
