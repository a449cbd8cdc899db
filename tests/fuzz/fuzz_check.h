/*
 * fuzz_check.h - what every fuzz target checks besides "no crash, no sanitizer report": a
 * message meant for the user is one line of printable text (issue 19: a newline or an escape
 * sequence in an input used to be echoed raw).
 *
 * Header-only, for the targets in tests/fuzz/; each target is single-threaded.
 */
#ifndef BRAGG_FUZZ_CHECK_H
#define BRAGG_FUZZ_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"

/* Aborts (a finding for libFuzzer) when `msg` holds a control character or is not UTF-8. */
static inline void fuzz_check_message(const char *msg)
{
    size_t n = strnlen(msg, sizeof ((bragg_err *)0)->msg);
    if (n == sizeof ((bragg_err *)0)->msg) {
        fprintf(stderr, "message not terminated\n");
        abort();
    }
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)msg[i] < 0x20 || msg[i] == 0x7f) {
            fprintf(stderr, "control character 0x%02x at %zu in message: %s\n",
                    (unsigned char)msg[i], i, msg);
            abort();
        }
    if (!bragg_utf8_valid(msg)) {
        fprintf(stderr, "message is not UTF-8: %s\n", msg);
        abort();
    }
}

#endif
