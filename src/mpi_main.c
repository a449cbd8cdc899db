/*
 * mpi_main.c - the bragg-mpi command: `bragg run` and `bragg sobp` with the histories spread
 * over the ranks of an MPI job (src/mpi_run.h), e.g.
 *
 *     mpirun -np 4 bragg-mpi run --ion C-12 --energy 400 --material water -n 1e7 --json out.json
 *
 * Every rank parses the same arguments and builds the same tables; rank 0 prints and writes the
 * outputs. Other ranks' standard output is discarded (their summary would repeat rank 0's);
 * their standard error stays, so a rank's own failure is still seen.
 */
#include <mpi.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "mpi_run.h"

static void usage(FILE *out)
{
    fprintf(out,
            "bragg-mpi %s - bragg's runs spread over the ranks of an MPI job\n\n"
            "usage:\n"
            "  mpirun -np N bragg-mpi run [options]    as 'bragg run'\n"
            "  mpirun -np N bragg-mpi sobp [options]   as 'bragg sobp'\n\n"
            "Rank 0 hands out chunks of histories on request, so faster ranks take more; each\n"
            "rank uses its own backend and threads (--backend, --threads). The result, error\n"
            "bars included, is bit for bit that of one process with the same seed.\n"
            "Exit status: 0 ok, 1 run-time failure (e.g. a rank lost work), 2 bad input.\n",
            BRAGG_VERSION);
}

int main(int argc, char **argv)
{
    int provided = 0;
    /* Only the main thread of each rank calls MPI; rank 0 runs its own chunks on a second
     * thread (and OpenMP threads), which never do. */
    if (MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS) {
        fprintf(stderr, "bragg-mpi: MPI_Init_thread failed\n");
        return EXIT_RUNTIME;
    }
    int status = EXIT_RUNTIME;
    run_driver driver;
    bragg_err e = {{0}};
    if (provided < MPI_THREAD_FUNNELED) {
        fprintf(stderr, "bragg-mpi: this MPI library does not allow threads beside MPI "
                        "(MPI_THREAD_FUNNELED)\n");
        MPI_Finalize();
        return EXIT_RUNTIME;
    }
    if (mpi_driver_init(&driver, &e)) {
        fprintf(stderr, "bragg-mpi: %s\n", e.msg);
        MPI_Finalize();
        return EXIT_RUNTIME;
    }
    if (!driver.is_root && !freopen("/dev/null", "w", stdout)) {
        fprintf(stderr, "bragg-mpi: cannot silence a non-root rank's output\n");
        goto done;
    }
    const char *cmd = argc >= 2 ? argv[1] : "";
    if (strcmp(cmd, "run") == 0) {
        status = cmd_run_with(argc - 2, argv + 2, &driver);
    } else if (strcmp(cmd, "sobp") == 0) {
        status = cmd_sobp_with(argc - 2, argv + 2, &driver);
    } else if (strcmp(cmd, "--version") == 0) {
        printf("bragg-mpi %s (git %s)\n", BRAGG_VERSION, BRAGG_GIT_REV);
        status = EXIT_OK;
    } else if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        usage(stdout);
        status = EXIT_OK;
    } else {
        if (driver.is_root) {
            fprintf(stderr, "bragg-mpi: %s%s%s (valid: run, sobp)\n\n", *cmd ? "unknown command '" : "missing command", cmd, *cmd ? "'" : "");
            usage(stderr);
        }
        status = EXIT_USAGE;
    }
done:
    mpi_driver_free(&driver);
    MPI_Finalize();
    return status;
}
