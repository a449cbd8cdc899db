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

#include <stddef.h>

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

/* User text inside a message. What a user typed (an option value, a file name, a line of a
 * settings file) is shown in single quotes, with every control character and every byte that
 * is not UTF-8 written as an escape (\n, \t, \x1b, \u0085): a message stays one line and
 * never drives the terminal. Beyond BRAGG_QUOTE_MAX characters the middle is cut ("abc...xyz"),
 * so what follows the value (the valid range) always fits the message. bragg_quote writes into
 * `out` (BRAGG_QUOTE_LEN bytes always suffice; a NULL value shows as '') and returns it.
 * BRAGG_QUOTED(v) does the same into a buffer that lives until the end of the enclosing block,
 * for use as an argument of bragg_fail. */
#define BRAGG_QUOTE_MAX 48
#define BRAGG_QUOTE_LEN (6 * BRAGG_QUOTE_MAX + 8)
const char *bragg_quote(const char *value, char *out, size_t len);
/* True when s is well-formed UTF-8 (what cairo and the PNG text chunks need). */
int bragg_utf8_valid(const char *s);
/* True when s is UTF-8 without control characters: what a name read from a file may hold (it
 * ends up in messages, titles and PNG text). */
int bragg_text_printable(const char *s);
/* Replaces, in place, every byte that does not start a well-formed UTF-8 sequence by '?'. */
void bragg_utf8_repair(char *s);
#define BRAGG_QUOTED(v) bragg_quote((v), (char[BRAGG_QUOTE_LEN]){0}, BRAGG_QUOTE_LEN)

#endif
