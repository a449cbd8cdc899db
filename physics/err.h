/*
 * err.h - errors as values.
 *
 * Library functions in bragg never print and never exit: they return BRAGG_OK or BRAGG_ERR and,
 * on error, leave a one-line human message in a caller-owned `bragg_err`. The message names the
 * field and the valid values so the CLI can show it as is (and exit 2) and the TUI inline.
 * Any thread may use its own bragg_err.
 */
#ifndef BRAGG_ERR_H
#define BRAGG_ERR_H

#define BRAGG_OK   0
#define BRAGG_ERR (-1)

typedef struct bragg_err {
    char msg[512];
} bragg_err;

/* Formats the message into `e` (if not NULL) and returns BRAGG_ERR, so that error paths read
 * `return bragg_fail(e, "energy: %g is outside [%g, %g] MeV/u", ...);`. */
int bragg_fail(bragg_err *e, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Prefixes an existing message with context ("materials.tsv line 12: "). */
int bragg_fail_prefix(bragg_err *e, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

#endif
