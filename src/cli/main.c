/*
 * main.c - the bragg command: the workbench with no arguments (ui/tui.h), otherwise one of the
 * headless subcommands (src/cli/cmd_*.c).
 */
#include <stdio.h>
#include <string.h>

#include "atomic_file.h"
#include "commands.h"
#include "interrupt.h"
#include "tui.h"

static void usage(FILE *out)
{
    fprintf(out,
            "bragg %s - Monte Carlo transport of ion beams through matter\n\n"
            "usage:\n"
            "  bragg                     open the interactive workbench\n"
            "  bragg --config FILE       the workbench, set up from a run file\n"
            "  bragg tables [options]    stopping power and CSDA range of an ion in a material\n"
            "  bragg run [options]       transport a beam, write the depth-dose curve\n"
            "  bragg bench [options]     throughput and profile benchmarks\n"
            "  bragg plot FILE.json ... --png OUT.png   a figure of runs or a benchmark\n"
            "  bragg sobp [options]      a spread-out Bragg peak: energies, weights, flatness\n"
            "  bragg --version | --help\n\n"
            "Run 'bragg COMMAND --help' for the options of a command.\n"
            "Exit status: 0 ok, 1 run-time failure, 2 usage or bad input, 130 interrupted\n"
            "(Ctrl-C, SIGTERM or SIGHUP: outputs of what was computed are still written whole;\n"
            "a second signal aborts at once, leaving no temporary files).\n",
            BRAGG_VERSION);
}

/* The workbench's status: 130 when a signal ended it, as for every command. */
static int workbench(const run_config *start)
{
    int status = tui_main(start);
    return status == TUI_SIGNALLED ? EXIT_INTERRUPTED : status;
}

int main(int argc, char **argv)
{
    /* First of all, so that no moment of a command is left to the default action (which
     * would kill it with half-written temporaries). The workbench installs its own. */
    interrupt_install();
    atomic_file_set_cancel_check(interrupt_requested);   /* an output FIFO with no reader */
    if (argc < 2) return workbench(NULL);
    const char *cmd = argv[1];
    if (strcmp(cmd, "--config") == 0 || strncmp(cmd, "--config=", 9) == 0) {
        /* The workbench, starting from a run file (read as bragg run reads it). */
        const char *path = cmd[8] == '=' ? cmd + 9 : argc > 2 ? argv[2] : NULL;
        if (!path || argc > (cmd[8] == '=' ? 2 : 3)) {
            fprintf(stderr, "bragg: --config FILE opens the workbench with a run file (bragg run "
                            "--config FILE runs it headless)\n");
            return EXIT_USAGE;
        }
        run_config cfg;
        bragg_err e = {{0}};
        if (cmd_run_read_config(path, &cfg, &e)) {
            fprintf(stderr, "bragg: --config: %s\n", e.msg);
            return EXIT_USAGE;
        }
        return workbench(&cfg);
    }
    /* "bragg help run" is "bragg run --help". */
    static char help_flag[] = "--help";
    char *help_argv[4];
    if (strcmp(cmd, "help") == 0 && argc == 3 && argv[2][0] != '-') {
        help_argv[0] = argv[0];
        help_argv[1] = argv[2];
        help_argv[2] = help_flag;
        help_argv[3] = NULL;
        argv = help_argv;
        cmd = argv[1];
    }
    int help = strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0;
    if ((help || strcmp(cmd, "--version") == 0) && argc > 2) {
        /* "help" takes a command name (a word after it is the one unexpected); the others take
         * nothing. */
        int named = strcmp(cmd, "help") == 0 && argc > 3 && argv[2][0] != '-';
        fprintf(stderr, "bragg: %s: unexpected argument %s (it takes %s; bragg COMMAND --help "
                        "has a command's options)\n",
                cmd, BRAGG_QUOTED(argv[named ? 3 : 2]),
                strcmp(cmd, "help") == 0 ? "one command name at most" : "none");
        return EXIT_USAGE;
    }
    if (help) {
        usage(stdout);
        return EXIT_OK;
    }
    if (strcmp(cmd, "--version") == 0) {
        printf("bragg %s (git %s)\n", BRAGG_VERSION, BRAGG_GIT_REV);
        return EXIT_OK;
    }
    if (strcmp(cmd, "tables") == 0) return interrupt_final_status(cmd_tables(argc - 2, argv + 2));
    if (strcmp(cmd, "run") == 0) return interrupt_final_status(cmd_run(argc - 2, argv + 2));
    if (strcmp(cmd, "bench") == 0) return interrupt_final_status(cmd_bench(argc - 2, argv + 2));
    if (strcmp(cmd, "plot") == 0) return interrupt_final_status(cmd_plot(argc - 2, argv + 2));
    if (strcmp(cmd, "sobp") == 0) return interrupt_final_status(cmd_sobp(argc - 2, argv + 2));
    fprintf(stderr, "bragg: unknown command %s (valid: tables, run, bench, plot, sobp; see "
                    "bragg --help)\n",
            BRAGG_QUOTED(cmd));
    return EXIT_USAGE;
}
