/* err.c - see err.h. */
#include "err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int bragg_fail(bragg_err *e, const char *fmt, ...)
{
    if (e) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(e->msg, sizeof e->msg, fmt, ap);
        va_end(ap);
    }
    return BRAGG_ERR;
}

int bragg_fail_prefix(bragg_err *e, const char *fmt, ...)
{
    if (e) {
        char prefix[256], old[sizeof e->msg];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(prefix, sizeof prefix, fmt, ap);
        va_end(ap);
        memcpy(old, e->msg, sizeof old);
        /* Truncation of an over-long message is fine: keep the prefix, cut the tail. */
        size_t plen = strlen(prefix), room = sizeof e->msg - 1;
        if (plen > room) plen = room;
        memcpy(e->msg, prefix, plen);
        size_t olen = strnlen(old, sizeof old);
        if (olen > room - plen) olen = room - plen;
        memcpy(e->msg + plen, old, olen);
        e->msg[plen + olen] = '\0';
    }
    return BRAGG_ERR;
}
