/* interrupt.c - see interrupt.h. */
#include "interrupt.h"

#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#include "atomic_file.h"
#include "commands.h"

/* A lock-free atomic: the one kind of object C11 lets a handler write and other threads read. */
_Static_assert(ATOMIC_INT_LOCK_FREE == 2, "the interrupt flag needs a lock-free int");
static atomic_int first_signal;
/* Set once a command's work (a transport, the writing of outputs) has begun. */
static atomic_int working;

static void on_signal(int sig)
{
    /* Before the work there is nothing to keep, and the command may be blocked opening an
     * input (a FIFO nobody writes), where SA_RESTART would have it wait on: go at once. */
    if (!atomic_load(&working) || atomic_load(&first_signal)) {
        /* The second: the user wants out now. Only async-signal-safe calls from here. */
        atomic_file_remove_temporaries();
        _exit(EXIT_INTERRUPTED);
    }
    atomic_store(&first_signal, sig);
}

void interrupt_install(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    /* A second signal of another kind must wait until the first one's handler has set the flag. */
    sigaddset(&sa.sa_mask, SIGINT);
    sigaddset(&sa.sa_mask, SIGTERM);
    sigaddset(&sa.sa_mask, SIGHUP);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
}

void interrupt_begin_work(void)
{
    atomic_store(&working, 1);
}

int interrupt_requested(void)
{
    return atomic_load(&first_signal);
}

void interrupt_wait_run(engine *en, void (*tick)(engine *en, void *ctx), void *ctx)
{
    int cancelled = 0;
    for (;;) {
        if (!cancelled && interrupt_requested()) {
            engine_cancel(en);
            cancelled = 1;
        }
        if (engine_wait(en, 0.25)) return;
        if (tick) tick(en, ctx);
    }
}

int interrupt_run_status(run_state state)
{
    return state == RUN_DONE ? EXIT_OK : state == RUN_CANCELLED ? EXIT_INTERRUPTED : EXIT_RUNTIME;
}

int interrupt_final_status(int status)
{
    if (interrupt_requested() &&
        (status == EXIT_OK || (atomic_file_cancelled() && !atomic_file_failed())))
        return EXIT_INTERRUPTED;
    return status;
}
