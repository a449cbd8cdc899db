/* backend_serial.c - every history on the engine's own thread: the reference for the others. */
#include "backend.h"

static int serial_available(char *reason, size_t len)
{
    (void)reason;
    (void)len;
    return 1;
}

static int serial_open(backend *b, int threads, const transport_params *p, bragg_err *e)
{
    (void)b;
    (void)threads;
    (void)p;
    (void)e;
    return BRAGG_OK;
}

static int serial_run_batch(backend *b, const backend_job *job, score_arrays *out, bragg_err *e)
{
    (void)b;
    (void)e;
    backend_run_range(job, job->first, job->count, out);
    return BRAGG_OK;
}

static int serial_threads(const backend *b)
{
    (void)b;
    return 1;
}

static void serial_release(backend *b)
{
    (void)b;
}

void backend_serial_init(backend *b)
{
    b->version = BACKEND_VERSION;
    b->name = "serial";
    b->available = serial_available;
    b->open = serial_open;
    b->run_batch = serial_run_batch;
    b->threads = serial_threads;
    b->release = serial_release;
    b->state = NULL;
}
