/*
 * mpi_main.c - the bragg-mpi command: `bragg run` and `bragg sobp` with the histories spread
 * over the ranks of an MPI job (src/mpi/mpi_run.h), e.g.
 *
 *     mpirun -np 4 bragg-mpi run --ion C-12 --energy 400 --material water -n 1e7 --json out.json
 *
 * Every rank parses the same arguments and builds the same tables; rank 0 prints and writes the
 * outputs. Every rank hears Ctrl-C, SIGTERM and SIGHUP (src/cli/interrupt.h): a run stops, the
 * outputs of the chunks completed are written, and the exit status is 130. Other ranks'
 * standard output is discarded (their summary would repeat rank 0's); their standard error
 * stays, so a rank's own failure is still seen. --checkpoint DIR is bragg-mpi's own option: it
 * is taken out of the words before `run` or `sobp` parses them.
 */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "assets.h"
#include "atomic_file.h"
#include "catalog.h"
#include "commands.h"
#include "interrupt.h"
#include "mpi_run.h"
#include "run_file.h"
#include "sobp.h"

static void usage(FILE *out)
{
    fprintf(out,
            "bragg-mpi %s - bragg's runs spread over the ranks of an MPI job\n\n"
            "usage:\n"
            "  mpirun -np N bragg-mpi run [options]    as 'bragg run'\n"
            "  mpirun -np N bragg-mpi sobp [options]   as 'bragg sobp'\n\n"
            "Rank 0 hands out chunks of histories on request, so faster ranks take more; each\n"
            "rank uses its own backend and threads (--backend, --threads). The result, error\n"
            "bars included, is bit for bit that of one process with the same seed.\n\n"
            "  --checkpoint DIR   record completed chunks in folder DIR (created if missing)\n"
            "                     and resume from them: after a failure, run the same command\n"
            "                     with the same DIR (any rank count); only the chunks not yet\n"
            "                     done are run, and the result is bit for bit that of a run\n"
            "                     that never stopped. A DIR of another configuration or build,\n"
            "                     or a damaged one, is refused (exit 2) with what differs or\n"
            "                     is wrong. Rank 0 rewrites DIR/run-NNN.ckpt atomically, at\n"
            "                     most every BRAGG_CHECKPOINT_SECONDS (default 10) and at the\n"
            "                     end.\n\n"
            "Exit status: 0 ok, 1 run-time failure (e.g. a rank lost work), 2 bad input (e.g. a\n"
            "--checkpoint folder that cannot be written, or of another run or build, or\n"
            "damaged), 130 interrupted (Ctrl-C, SIGTERM or SIGHUP, to mpirun or to a rank: the\n"
            "checkpoint, then the outputs of the chunks completed are written whole).\n",
            BRAGG_VERSION);
}

/* Takes "--checkpoint DIR" or "--checkpoint=DIR" out of the command's words (it is bragg-mpi's
 * option, not the command's). Returns DIR, or NULL when absent; a message in e when the folder
 * is missing or the option given twice. */
static const char *take_checkpoint_option(int *argc, char **argv, bragg_err *e)
{
    const char *dir = NULL;
    int out = 0;
    for (int i = 0; i < *argc; i++) {
        const char *value = NULL;
        if (strcmp(argv[i], "--checkpoint") == 0) {
            value = i + 1 < *argc ? argv[++i] : "";
        } else if (strncmp(argv[i], "--checkpoint=", 13) == 0) {
            value = argv[i] + 13;
        } else {
            argv[out++] = argv[i];
            continue;
        }
        if (!*value || value[0] == '-') {
            bragg_fail(e, "--checkpoint: missing folder name (--checkpoint DIR)");
            return NULL;
        }
        if (dir) {
            bragg_fail(e, "--checkpoint: given twice (%s, %s)", dir, value);
            return NULL;
        }
        dir = value;
    }
    *argc = out;
    return dir;
}

/* The value of option `name` ("--from") in the command's words as option_parse reads them
 * ("--from 10" or "--from=10"; the last one given wins), or NULL when it is not given. */
static const char *option_value(int argc, char **argv, const char *name)
{
    const char *value = NULL;
    size_t n = strlen(name);
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], name) == 0 && i + 1 < argc) value = argv[++i];
        else if (strncmp(argv[i], name, n) == 0 && argv[i][n] == '=') value = argv[i] + n + 1;
    }
    return value;
}

/* `name` and its value, the shortest text from 6 digits that reads back as the same number
 * ("10" for "10.0"), on one line of `out`. Text that is not a number is kept as it is: the command
 * refuses it before any run. */
static void put_option(char *out, size_t len, const char *name, const char *text)
{
    double v;
    char number[32];
    if (parse_decimal(text, &v) == BRAGG_OK) {
        run_file_number(v, 1, number, sizeof number);
        text = number;
    }
    size_t used = strlen(out);
    snprintf(out + used, len - used, "%s %.60s\n", name, text);
}

/* The identity lines `cmd` adds to its checkpoints (mpi_driver_use_checkpoint): the command,
 * and for sobp the options from which its runs' energies follow, so that a resume with another
 * --from is refused at its first run, naming --from, and not at the run whose energy differs. */
static const char *command_identity(const char *cmd, int argc, char **argv)
{
    static char lines[512];
    snprintf(lines, sizeof lines, "command %s\n", cmd);
    if (strcmp(cmd, "sobp") == 0) {
        const char *from = option_value(argc, argv, "--from");
        const char *to = option_value(argc, argv, "--to");
        const char *spacing = option_value(argc, argv, "--spacing");
        put_option(lines, sizeof lines, "--from", from ? from : "");
        put_option(lines, sizeof lines, "--to", to ? to : "");
        /* The spacing used, given or not. */
        char default_spacing[32];
        snprintf(default_spacing, sizeof default_spacing, "%g", SOBP_DEFAULT_SPACING_MM);
        put_option(lines, sizeof lines, "--spacing", spacing ? spacing : default_spacing);
    }
    return lines;
}

static int asks_for_help(int argc, char **argv)
{
    for (int i = 0; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) return 1;
    return 0;
}

/* `run` or `sobp` with its words (argv[0] is the first word after the command). */
static int run_command(const char *cmd, int argc, char **argv, run_driver *driver)
{
    bragg_err e = {{0}};
    const char *dir = take_checkpoint_option(&argc, argv, &e);
    if (e.msg[0]) {
        run_driver_say(driver, "bragg-mpi", "%s", e.msg);
        return EXIT_USAGE;
    }
    int help = asks_for_help(argc, argv);
    if (!help && mpi_driver_read_environment(driver, &e)) {
        run_driver_say(driver, "bragg-mpi", "%s", e.msg);
        return EXIT_USAGE;
    }
    if (dir && !help)
        mpi_driver_use_checkpoint(driver, dir, command_identity(cmd, argc, argv));
    /* Every rank reads the assets (BRAGG_ASSETS, or beside the binary): a rank whose node has
     * none would fail alone before any collective and leave the others waiting for ever. */
    if (!help) {
        catalog cat;
        int ok = catalog_load(&cat, &e) == BRAGG_OK;
        if (ok) catalog_free(&cat);
        int refused = run_driver_created(driver, "bragg-mpi", ok, &e);
        if (refused) return refused;
    }
    int status = strcmp(cmd, "run") == 0 ? cmd_run_with(argc, argv, driver)
                                          : cmd_sobp_with(argc, argv, driver);
    if (help && status == EXIT_OK)
        printf("\nbragg-mpi also takes --checkpoint DIR: record completed chunks in DIR and\n"
               "resume from them (see bragg-mpi --help).\n");
    return status;
}

int main(int argc, char **argv)
{
    /* Ctrl-C, SIGTERM and SIGHUP as in bragg (src/cli/interrupt.h), on every rank: mpirun
     * passes them on as SIGTERM (Open MPI: then SIGKILL about a second later), and a rank may
     * be signalled alone. First of all, so that no moment is left to the default action. */
    interrupt_install();
    atomic_file_set_cancel_check(interrupt_requested);
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
    if (strcmp(cmd, "run") == 0 || strcmp(cmd, "sobp") == 0) {
        status = interrupt_final_status(run_command(cmd, argc - 2, argv + 2, &driver));
    } else if (strcmp(cmd, "--version") == 0) {
        printf("bragg-mpi %s (git %s)\n", BRAGG_VERSION, BRAGG_GIT_REV);
        status = EXIT_OK;
    } else if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        usage(stdout);
        status = EXIT_OK;
    } else {
        if (*cmd) run_driver_say(&driver, "bragg-mpi", "unknown command %s (valid: run, sobp)",
                                 BRAGG_QUOTED(cmd));
        else run_driver_say(&driver, "bragg-mpi", "missing command (valid: run, sobp)");
        if (driver.is_root) {
            fputc('\n', stderr);
            usage(stderr);
        }
        status = EXIT_USAGE;
    }
done:
    mpi_driver_free(&driver);
    MPI_Finalize();
    return status;
}
