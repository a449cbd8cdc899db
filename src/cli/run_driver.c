/* run_driver.c - see run_driver.h. */
#include "run_driver.h"

#include <stdarg.h>
#include <stdio.h>

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
