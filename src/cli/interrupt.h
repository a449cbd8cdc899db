/*
 * interrupt.h - Ctrl-C, SIGTERM and SIGHUP in the headless commands: stop cleanly, lose nothing.
 *
 * main() installs the handler before anything else, so a signal at any moment is seen. The
 * first signal only asks to stop: a running transport is cancelled at the next chunk of
 * histories and what it computed is written whole (marked partial); outputs being written are
 * finished; a command that has not started its work yet does nothing more. The command then
 * exits 130. A second signal aborts at once: the temporaries of outputs in flight are removed
 * (src/output/atomic_file.h) and the process exits 130, so an impatient user never finds
 * *.tmp.PID litter either.
 *
 * The handler only sets a flag (and, the second time, unlinks and _exits): any thread may take
 * the signal. interrupt_requested may be polled from any thread.
 */
#ifndef BRAGG_INTERRUPT_H
#define BRAGG_INTERRUPT_H

#define EXIT_INTERRUPTED 130

/* Installs the handler for SIGINT, SIGTERM and SIGHUP (with SA_RESTART, so that a signal
 * during a write or a blocking open does not fail it). */
void interrupt_install(void);

/* The first signal received (SIGINT, SIGTERM or SIGHUP), 0 while none came. */
int interrupt_requested(void);

#endif
