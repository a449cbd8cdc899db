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

/* Length of the well-formed UTF-8 sequence at s (1 for ASCII, controls included), 0 when it is
 * malformed, overlong, a surrogate or beyond U+10FFFF; *cp receives the code point. */
static int utf8_decode(const unsigned char *s, unsigned *cp)
{
    unsigned c = s[0];
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    int n = c >= 0xf0 && c <= 0xf4   ? 4
            : c >= 0xe0 && c <= 0xef ? 3
            : c >= 0xc2 && c <= 0xdf ? 2
                                     : 0;
    if (n == 0) return 0;
    unsigned v = c & (0x7fu >> n);
    for (int i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80) return 0;   /* also stops at the terminating NUL */
        v = (v << 6) | (s[i] & 0x3fu);
    }
    if ((n == 3 && (v < 0x800 || (v >= 0xd800 && v <= 0xdfff))) ||
        (n == 4 && (v < 0x10000 || v > 0x10ffff)))
        return 0;
    *cp = v;
    return n;
}

int bragg_utf8_valid(const char *s)
{
    unsigned cp;
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        int n = utf8_decode(p, &cp);
        if (!n) return 0;
        p += n;
    }
    return 1;
}

void bragg_utf8_repair(char *s)
{
    unsigned cp;
    for (unsigned char *p = (unsigned char *)s; *p;) {
        int n = utf8_decode(p, &cp);
        if (n) {
            p += n;
        } else {
            *p++ = '?';
        }
    }
}

/* What a terminal prints as it is: the length of the UTF-8 sequence at s; 0 for a byte to
 * escape (controls, DEL, malformed UTF-8); -1 for a C1 control (U+0080..U+009F, two bytes),
 * escaped by its code point. */
static int printable_utf8(const unsigned char *s, unsigned *cp)
{
    int n = utf8_decode(s, cp);
    if (n == 1) return *cp >= 0x20 && *cp != 0x7f;
    if (n == 2 && *cp < 0xa0) return -1;
    return n;
}

/* The bytes one input unit (a printable character or one escaped byte) takes at s, and what
 * it is shown as in `shown` (at most 6 bytes + NUL). */
static size_t quote_unit(const unsigned char *s, char shown[8])
{
    unsigned cp = 0;
    int n = printable_utf8(s, &cp);
    if (n > 0) {
        memcpy(shown, s, (size_t)n);
        shown[n] = '\0';
        return (size_t)n;
    }
    if (n < 0) {
        snprintf(shown, 8, "\\u%04x", cp);
        return 2;
    }
    switch (s[0]) {
    case '\n': snprintf(shown, 8, "\\n"); break;
    case '\t': snprintf(shown, 8, "\\t"); break;
    case '\r': snprintf(shown, 8, "\\r"); break;
    default: snprintf(shown, 8, "\\x%02x", s[0]); break;
    }
    return 1;
}

const char *bragg_quote(const char *value, char *out, size_t len)
{
    if (len == 0) return out;
    const unsigned char *v = (const unsigned char *)(value ? value : "");
    char shown[8];
    size_t units = 0;
    for (const unsigned char *p = v; *p; units++) p += quote_unit(p, shown);
    /* Head and tail kept around "..." when the value is too long to show whole. */
    size_t head = units, tail_from = units;
    if (units > BRAGG_QUOTE_MAX) {
        head = BRAGG_QUOTE_MAX / 2;
        tail_from = units - (BRAGG_QUOTE_MAX - head - 3);
    }
    size_t used = 0, i = 0;
    out[0] = '\0';
#define QUOTE_PUT(str)                                                                           \
    do {                                                                                         \
        size_t l_ = strlen(str);                                                                 \
        if (used + l_ >= len) return out;                                                        \
        memcpy(out + used, str, l_ + 1);                                                         \
        used += l_;                                                                              \
    } while (0)
    QUOTE_PUT("'");
    for (const unsigned char *p = v; *p; i++) {
        p += quote_unit(p, shown);
        if (i < head || i >= tail_from) QUOTE_PUT(shown);
        else if (i == head) QUOTE_PUT("...");
    }
    QUOTE_PUT("'");
#undef QUOTE_PUT
    return out;
}

int bragg_text_printable(const char *s)
{
    unsigned cp;
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        int n = printable_utf8(p, &cp);
        if (n <= 0) return 0;
        p += n;
    }
    return 1;
}
