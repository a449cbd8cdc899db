/*
 * draw.h - small curses drawing helpers the panels share: colour roles (that fall back to
 * plain attributes under NO_COLOR or on monochrome terminals), boxed panels with a title, text
 * clipped to a width or wrapped at words, and the glyphs that have an ASCII fallback.
 *
 * Everything draws into stdscr; the caller refreshes once per frame (wnoutrefresh + doupdate),
 * so ncurses sends only the cells that changed. Main (UI) thread only.
 */
#ifndef BRAGG_DRAW_H
#define BRAGG_DRAW_H

#include <curses.h>

#include "layout.h"

typedef enum colour_role {
    ROLE_NORMAL,
    ROLE_TITLE,      /* panel titles */
    ROLE_CURVE,      /* the current run's curve */
    ROLE_BAND,       /* the +-1 sigma band: faint */
    ROLE_MARKER,     /* peak and R80 markers */
    ROLE_ERROR,      /* invalid input, failures */
    ROLE_GOOD,       /* progress, valid input */
    ROLE_DIM,        /* axes, hints */
    ROLE_SERIES1,    /* further curves: overlays, charges */
    ROLE_SERIES2,
    ROLE_SERIES3,
    ROLE_SERIES4,
    ROLE_SERIES5,
    ROLE_COUNT
} colour_role;

/* Sets the colour pairs up when `colour` is 1 (after initscr/start_color). */
void draw_init(int colour, int utf8);
/* The attribute of a role: a colour pair, or bold/dim/underline without colour. */
attr_t draw_attr(colour_role role);
/* A curve role for series k (0: the current run), cycling through the palette of
 * DRAW_SERIES_ROLES colours (ROLE_CURVE, then ROLE_SERIES1..5). */
#define DRAW_SERIES_ROLES 6
colour_role draw_series_role(int k);

/* A box around r with " title " in its top border (highlighted when `focused`). */
void draw_box(const ui_rect *r, const char *title, int focused);
/* Text at (y, x), cut at `width` columns (byte-wise for ASCII, glyph-wise for UTF-8). */
void draw_text(int y, int x, int width, attr_t attr, const char *text);
void draw_textf(int y, int x, int width, attr_t attr, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 5, 6)))
#endif
    ;
/* Text that may not fit `width` columns: cut at the last space that leaves room for an
 * ellipsis ("…", "~" without UTF-8), never inside a word or a number, unless the first word
 * alone is wider than the room (then it is cut, with the ellipsis). */
void draw_text_fit(int y, int x, int width, attr_t attr, const char *text);
/* The same cut into a buffer (for titles drawn by draw_box). */
void fit_words(const char *text, int width, char *out, size_t len);
/* Bytes of the longest start of `text` that takes at most `width` columns and ends at a word:
 * all of it when it fits, else up to a space; 0 when no space is in reach. */
size_t words_that_fit(const char *text, int width);
/* Text over as many rows as it needs, `width` columns each, broken at spaces (inside a word
 * only when the word alone is wider, such as a long path), the rows after the first indented
 * by `indent`. Draws the first `max_rows` of them (0: none, to count) and returns how many the
 * whole text needs. */
int draw_wrapped(int y, int x, int width, int indent, int max_rows, attr_t attr,
                 const char *text);
/* Text in the middle of a panel r: wrapped at words (draw_wrapped's rule) inside its border
 * and two columns in from each side, each row centred, the rows around r's middle row. */
void draw_centred(const ui_rect *r, attr_t attr, const char *text);
/* The same without a panel: text wrapped at words in `width` columns from row y, each row
 * centred in the columns from x. Draws the first `max_rows` rows (0: none, to count) and
 * returns how many the whole text needs. */
int draw_centred_rows(int y, int x, int width, int max_rows, attr_t attr, const char *text);
/* Columns the UTF-8 text takes (every code point counted as one column: bragg only prints
 * narrow glyphs). */
int draw_width(const char *text);

/* A horizontal bar of `width` cells filled to `fraction` (eighths of a cell in UTF-8). */
void draw_bar(int y, int x, int width, double fraction, attr_t attr);

/* Glyphs with their ASCII fallback. */
const char *glyph(const char *utf8, const char *ascii);
int draw_utf8(void);

#endif
