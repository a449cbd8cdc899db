/*
 * atomic_file.h - output files that appear whole or not at all.
 *
 * Data is written to "<path>.tmp.<pid>" in the same folder, flushed, synced and renamed over
 * <path> on commit; if anything failed, commit removes the temporary instead. A reader never sees a
 * half-written CSV, JSON or PNG, and a failed run leaves nothing behind. The path "-" means
 * standard output (no atomicity there). One thread per atomic_file.
 */
#ifndef BRAGG_ATOMIC_FILE_H
#define BRAGG_ATOMIC_FILE_H

#include <stdio.h>

#include "err.h"

typedef struct atomic_file {
    FILE *file;
    int is_stdout;
    char path[1024];
    char tmp[1100];
} atomic_file;

/* `what` names the option for messages ("--csv"). */
int atomic_file_open(atomic_file *af, const char *path, const char *what, bragg_err *e);
int atomic_file_commit(atomic_file *af, bragg_err *e);
/* Gives up: closes and removes the temporary (for writers whose own encoder failed, e.g.
 * libpng, where the stream looks fine to stdio but the file is incomplete). */
void atomic_file_abandon(atomic_file *af);

/* Checks up front that `path` could be created (its folder exists and is writable), so bad
 * output paths are reported before a long run rather than after it. */
int atomic_file_check_path(const char *path, const char *what, bragg_err *e);

#endif
