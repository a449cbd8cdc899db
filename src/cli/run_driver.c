/* run_driver.c - see run_driver.h. */
#include "run_driver.h"

#include <stdarg.h>
#include <stdio.h>

#include "commands.h"

void run_driver_say(const run_driver *d, const char *command, const char *fmt, ...)
{
    if (d && !d->is_root) return;
    /* One write for the line (standard error is unbuffered): it does not mix with a line of
     * another process's. */
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "%s: %s\n", d ? d->program : command, msg);
}

int run_driver_created(run_driver *d, const char *command, int ok, const bragg_err *e)
{
    int processes = 1, failed = !ok;
    if (d && d->count_failed) failed = d->count_failed(d, ok, &processes);
    if (failed == 0) return 0;
    if (failed == processes) {
        run_driver_say(d, command, "%s", e->msg);
        return EXIT_USAGE;
    }
    if (failed < 0) {
        run_driver_say(d, command, "the processes could not agree to start the run");
        return EXIT_RUNTIME;
    }
    if (!ok) fprintf(stderr, "%s: rank %d: %s\n", d->program, d->process, e->msg);
    if (d->is_root)
        fprintf(stderr, "%s: %d of %d ranks could not set up the run; none started it\n",
                d->program, failed, processes);
    return EXIT_RUNTIME;
}
