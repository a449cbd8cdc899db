/*
 * run_driver.h - who runs the histories of an engine when it is not the engine's own thread.
 *
 * `bragg run` and `bragg sobp` normally start the engine and wait for it. A driver replaces that
 * step: it runs every history of a created (not started) engine by its own means, e.g. spread
 * over MPI ranks (src/mpi/mpi_run.h), and hands the merged sums to the engine with
 * engine_adopt_totals, so that snapshots, reports and figures work unchanged.
 *
 * A driver is collective where its means are: every process calls run() with the same
 * configuration, in the same order. After run() every process's engine holds the whole result;
 * only the process with is_root set prints and writes files (run_driver_say for messages). The
 * driver owns `state`; the caller owns the engine. Main thread only.
 */
#ifndef BRAGG_RUN_DRIVER_H
#define BRAGG_RUN_DRIVER_H

#include "atomic_file.h"
#include "engine.h"
#include "err.h"

typedef struct run_driver {
    const char *name;     /* "mpi" */
    const char *program;  /* what the command's messages start with: "bragg-mpi" */
    int is_root;          /* this process prints and writes the outputs */
    /* Runs all histories of `en`; BRAGG_ERR only when there is no result at all. A result that
     * is known to be incomplete is adopted as a failed run (its snapshot says why). With
     * show_progress the root draws a progress line on stderr; `quiet` (-q) silences its notes
     * there (not its warnings). */
    int (*run)(struct run_driver *d, engine *en, int show_progress, int quiet, bragg_err *e);
    char note[256];       /* one line about the last run for the summary ("" when none) */
    /* Set by run() when it returned BRAGG_ERR for what the user gave (a --checkpoint folder that
     * cannot be used): bad input, exit 2, not a run-time failure. */
    int bad_input;
    /* Why this driver's runs cannot write a phase space (--phase-space), or NULL when they
     * can: the crossings are gathered at the end of a run, and a checkpoint does not keep them. */
    const char *no_phase_space;
    /* Checks, before any work, that none of the command's outputs would destroy a file the
     * driver keeps (a checkpoint's); NULL when it keeps none. */
    int (*check_outputs)(const struct run_driver *d, const file_use *uses, int n, bragg_err *e);
    /* Collective: how many processes passed ok = 0, and how many there are (run_driver_created
     * calls it). */
    int (*count_failed)(struct run_driver *d, int ok, int *processes);
    int process;          /* this process's rank, for its own messages */
    void *state;
} run_driver;

/* A command's message, one line on standard error: "PREFIX: message", PREFIX the driver's
 * program or, with no driver (NULL), `command` ("bragg run"). A driven command says it on the
 * root only: every process parses the same words and finds the same fault; a process's own
 * failure is the driver's to report, naming the process. */
void run_driver_say(const run_driver *d, const char *command, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Whether every process of a driven command created its engine (`ok`; `e` says why not), asked
 * of all of them after engine_create: a process that failed alone (out of memory, no GPU on its
 * node) and returned at once left the others waiting in run() for ever. Returns 0 when all did
 * (and with no driver, when ok); else the exit status, the reason said once: by the root when
 * every process failed (the configuration: exit 2), by each process that failed alone, naming
 * itself, and by the root counting them (exit 1). */
int run_driver_created(run_driver *d, const char *command, int ok, const bragg_err *e);

#endif
