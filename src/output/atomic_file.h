/*
 * atomic_file.h - output files that appear whole or not at all, and never clobber what a user
 * did not mean to replace.
 *
 * What the path names decides how it is written:
 *   - nothing yet, or a regular file: the data goes to "<path>.tmp.<pid>" in the same folder,
 *     is flushed, synced and renamed over <path> on commit (an existing file keeps its
 *     permission bits). A reader never sees a half-written CSV, JSON or PNG, and a failed write
 *     leaves nothing behind. Temporaries of that target left by processes that no longer exist
 *     (a kill -9, a power cut) are removed when the target is next written.
 *   - a symbolic link (to a file, or dangling): the link's final target is the file replaced,
 *     as above, in the target's folder; the link itself stays.
 *   - a character device or a FIFO (/dev/null, /dev/stdout on a terminal, a named pipe):
 *     written through directly; renaming a regular file over /dev/null would break every other
 *     program on the machine. A FIFO nobody reads yet is waited for, a request to stop heard
 *     (atomic_file_set_cancel_check).
 *   - "-", or a name for the very file, pipe or socket standard output already is
 *     (/dev/stdout, /dev/fd/1, the file a shell's "> o.txt" or ">> log" opened): standard
 *     output, written through its open stream. Renaming over it would cut the shell's
 *     descriptor loose (what went to "-" lost, a ">>" log replaced).
 * A folder, a block device or a socket is refused.
 *
 * Signals: the temporaries in flight are registered, and atomic_file_remove_temporaries (which
 * is async-signal-safe) deletes them: a signal handler that ends the process calls it first, so
 * an abort leaves no litter either.
 *
 * Errors: a write that fails is named by its own cause ("No space left on device", "File too
 * large", "Input/output error") and the file, at commit.
 *
 * Memory: an atomic_file is the caller's (usually on the stack) and holds its own FILE until
 * commit or abandon; it must not be moved or copied in between (its FILE writes through it).
 * Threads: each atomic_file belongs to one thread; different threads may write different files
 * at once (the registry is lock-free).
 */
#ifndef BRAGG_ATOMIC_FILE_H
#define BRAGG_ATOMIC_FILE_H

#include <stdio.h>

#include "err.h"

#define ATOMIC_FILE_PATH_MAX 4096

typedef enum atomic_file_mode {
    ATOMIC_FILE_STDOUT,    /* "-", or another name for what standard output is */
    ATOMIC_FILE_RENAME,    /* temporary renamed over the target on commit */
    ATOMIC_FILE_DIRECT,    /* a device or FIFO, written through */
} atomic_file_mode;

typedef struct atomic_file {
    FILE *file;
    atomic_file_mode mode;
    int fd;                                /* what `file` writes to, but standard output */
    int write_errno;                       /* why the first write that failed did, or 0 */
    int slot;                              /* registry slot of the temporary, or -1 */
    char path[ATOMIC_FILE_PATH_MAX];       /* as the caller named it (for messages) */
    char what[64];                         /* the option that names it (for messages) */
    char target[ATOMIC_FILE_PATH_MAX];     /* the file replaced or written (a link resolved) */
    char tmp[ATOMIC_FILE_PATH_MAX + 32];
} atomic_file;

/* `what` names the option for messages ("--csv"), those of a failed commit included. */
int atomic_file_open(atomic_file *af, const char *path, const char *what, bragg_err *e);
int atomic_file_commit(atomic_file *af, bragg_err *e);
/* Gives up: closes and removes the temporary (for writers whose own encoder failed, e.g.
 * libpng, where the stream looks fine to stdio but the file is incomplete). What was written
 * through to a device or FIFO cannot be taken back. */
void atomic_file_abandon(atomic_file *af);

/* Checks up front, without creating anything, that `path` could be written as above: not a
 * folder, its folder exists, is a folder and is writable (or the device or FIFO is writable).
 * Commands call it for every output before any transport, so a bad path costs no run. The
 * message names `what`, the path and what is wrong with it. */
int atomic_file_check_path(const char *path, const char *what, bragg_err *e);

/* One file a command names, for atomic_file_check_distinct. */
typedef struct file_use {
    const char *path;   /* NULL: not given, skipped */
    const char *what;   /* for messages: an output's option ("--csv"); an input as a noun
                         * phrase ("the --config file", "an input file") */
    int input;          /* 1: the command reads it; 0: it writes it */
} file_use;

/* Checks up front that no output would land on another output or on an input: two outputs
 * naming one file (after symbolic links; "./x" and "x" alike) would leave only the last one
 * written, and an output over an input destroys what the user gave. Hard links of one file are
 * names of their own: the rename replaces the name given and leaves the others as they were.
 * Standard output ("-" or another name for it, as above) takes one output at most, a hard link
 * of the file it was redirected to included (that one is written in place); a device or FIFO
 * (/dev/null) may take several. Inputs that do not exist are left to their reader's message.
 * The message names both options and the file. */
int atomic_file_check_distinct(const file_use *uses, int n, bragg_err *e);

/* Checks up front that no output among `uses` lands in folder `dir` (links followed, as above)
 * under a name `reserved` claims: files another part of the command keeps there, which the
 * output would destroy (a checkpoint's state and lock). The message names the output, `owner`
 * (the option of the folder) and `dir`. A `dir` that does not exist holds nothing yet. */
int atomic_file_check_reserved(const file_use *uses, int n, const char *dir,
                               int (*reserved)(const char *name), const char *owner,
                               bragg_err *e);

/* True when one of the outputs among `uses` goes to standard output ("-" or another name for
 * it, as above): a command then prints its summary on standard error, not into the data. */
int atomic_file_uses_stdout(const file_use *uses, int n);

/* What a FIFO with no reader waits on: atomic_file_open polls it, and gives up (errno
 * ECANCELED, a message saying it stopped) once `cancelled` returns non-zero. The commands pass
 * the interrupt flag (src/cli/interrupt.h), so that the first Ctrl-C is heard there too. Set
 * once, before any output is opened. */
void atomic_file_set_cancel_check(int (*cancelled)(void));

/* Non-zero once an output was given up that way. A command fails such a write as any other
 * (exit 1 or 2); main() sees here that the failure was the user's stop, and exits 130, unless
 * another output failed for a cause of its own (atomic_file_failed). */
int atomic_file_cancelled(void);

/* Non-zero once an output could not be opened, written or committed for a cause other than a
 * stop (a full disk, a folder gone), or was abandoned by its writer. */
int atomic_file_failed(void);

/* A scratch file for a library that writes only to a name of its own (libmcpl), whose data is
 * then copied into the output through an atomic_file: "<target>.tmp.<pid><suffix>" beside the
 * output where that is a file, or "$TMPDIR/bragg-<name>.tmp.<pid><suffix>" (TMPDIR unset:
 * /tmp) for a device, FIFO or standard output, whose folder is no place for it. The file is
 * created (empty, mode 0600) and registered like the temporaries, so that a signal's
 * atomic_file_remove_temporaries deletes it too; those of processes that no longer exist are
 * removed first. atomic_file_scratch_remove deletes it. */
typedef struct atomic_scratch {
    int slot;                              /* registry slot, or -1 */
    char path[ATOMIC_FILE_PATH_MAX + 32];  /* the name to give the library */
} atomic_scratch;
int atomic_file_scratch_open(atomic_scratch *s, const char *path, const char *suffix,
                             const char *what, bragg_err *e);
void atomic_file_scratch_remove(atomic_scratch *s);

/* Deletes every registered temporary. Async-signal-safe: for handlers that end the process. */
void atomic_file_remove_temporaries(void);

#endif
