/* draw.c - see draw.h. */
#include "draw.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int use_colour, use_utf8;

void draw_init(int colour, int utf8)
{
    use_colour = colour;
    use_utf8 = utf8;
    if (!colour) return;
    /* -1: the terminal's own background, so the workbench sits in the user's theme. */
    use_default_colors();
    init_pair(ROLE_TITLE, COLOR_CYAN, -1);
    init_pair(ROLE_CURVE, COLOR_GREEN, -1);
    init_pair(ROLE_BAND, COLOR_GREEN, -1);
    init_pair(ROLE_MARKER, COLOR_YELLOW, -1);
    init_pair(ROLE_ERROR, COLOR_RED, -1);
    init_pair(ROLE_GOOD, COLOR_GREEN, -1);
    init_pair(ROLE_DIM, COLOR_WHITE, -1);
    init_pair(ROLE_SERIES1, COLOR_MAGENTA, -1);
    init_pair(ROLE_SERIES2, COLOR_CYAN, -1);
    init_pair(ROLE_SERIES3, COLOR_YELLOW, -1);
    init_pair(ROLE_SERIES4, COLOR_BLUE, -1);
    init_pair(ROLE_SERIES5, COLOR_RED, -1);
}

attr_t draw_attr(colour_role role)
{
    if (use_colour) {
        attr_t a = COLOR_PAIR(role);
        if (role == ROLE_BAND || role == ROLE_DIM) a |= A_DIM;
        if (role == ROLE_TITLE || role == ROLE_ERROR) a |= A_BOLD;
        return role == ROLE_NORMAL ? A_NORMAL : a;
    }
    /* NO_COLOR: shape and weight carry the meaning; every curve also has a label. */
    switch (role) {
    case ROLE_TITLE: case ROLE_CURVE: case ROLE_ERROR: return A_BOLD;
    case ROLE_BAND: case ROLE_DIM: return A_DIM;
    case ROLE_MARKER: return A_BOLD;
    default: return A_NORMAL;
    }
}

colour_role draw_series_role(int k)
{
    static const colour_role roles[DRAW_SERIES_ROLES] = {ROLE_CURVE,   ROLE_SERIES1, ROLE_SERIES2,
                                                         ROLE_SERIES3, ROLE_SERIES4, ROLE_SERIES5};
    return roles[k % DRAW_SERIES_ROLES];
}

int draw_utf8(void)
{
    return use_utf8;
}

const char *glyph(const char *utf8, const char *ascii)
{
    return use_utf8 ? utf8 : ascii;
}

void draw_box(const ui_rect *r, const char *title, int focused)
{
    if (r->w < 2 || r->h < 2) return;
    attr_t a = focused ? draw_attr(ROLE_TITLE) : draw_attr(ROLE_DIM);
    attron(a);
    if (use_utf8) {
        mvhline(r->y, r->x + 1, ACS_HLINE, r->w - 2);
        mvhline(r->y + r->h - 1, r->x + 1, ACS_HLINE, r->w - 2);
        mvvline(r->y + 1, r->x, ACS_VLINE, r->h - 2);
        mvvline(r->y + 1, r->x + r->w - 1, ACS_VLINE, r->h - 2);
        mvaddch(r->y, r->x, ACS_ULCORNER);
        mvaddch(r->y, r->x + r->w - 1, ACS_URCORNER);
        mvaddch(r->y + r->h - 1, r->x, ACS_LLCORNER);
        mvaddch(r->y + r->h - 1, r->x + r->w - 1, ACS_LRCORNER);
    } else {
        /* Plain ASCII rather than the VT100 alternate character set: without UTF-8 some
         * terminals (and multiplexers' scrollback) show ACS lines as letters. */
        mvhline(r->y, r->x + 1, '-', r->w - 2);
        mvhline(r->y + r->h - 1, r->x + 1, '-', r->w - 2);
        mvvline(r->y + 1, r->x, '|', r->h - 2);
        mvvline(r->y + 1, r->x + r->w - 1, '|', r->h - 2);
        mvaddch(r->y, r->x, '+');
        mvaddch(r->y, r->x + r->w - 1, '+');
        mvaddch(r->y + r->h - 1, r->x, '+');
        mvaddch(r->y + r->h - 1, r->x + r->w - 1, '+');
    }
    attroff(a);
    if (title && *title) {
        char buf[256];
        snprintf(buf, sizeof buf, " %s ", title);
        draw_text(r->y, r->x + 2, r->w - 4, draw_attr(ROLE_TITLE), buf);
    }
}

int draw_width(const char *text)
{
    int n = 0;
    for (const unsigned char *p = (const unsigned char *)text; *p; p++)
        if ((*p & 0xC0) != 0x80) n++;
    return n;
}

/* Bytes of the first `width` code points of text (all of it when shorter), never inside a
 * UTF-8 sequence. */
static size_t cols_bytes(const char *text, int width)
{
    size_t bytes = 0;
    int cols = 0;
    const unsigned char *p = (const unsigned char *)text;
    while (p[bytes]) {
        if ((p[bytes] & 0xC0) != 0x80) {
            if (cols == width) break;
            cols++;
        }
        bytes++;
    }
    return bytes;
}

void draw_text(int y, int x, int width, attr_t attr, const char *text)
{
    if (width <= 0) return;
    attron(attr);
    mvaddnstr(y, x, text, (int)cols_bytes(text, width));
    attroff(attr);
}

size_t words_that_fit(const char *text, int width)
{
    if (draw_width(text) <= width) return strlen(text);
    /* Bytes of the first `width` columns, then back to the last space in them (or the one
     * right after them). */
    size_t bytes = 0, last_space = 0;
    int cols = 0;
    const unsigned char *p = (const unsigned char *)text;
    while (p[bytes] && cols < width) {
        if (p[bytes] == ' ') last_space = bytes;
        bytes++;
        while ((p[bytes] & 0xC0) == 0x80) bytes++;
        cols++;
    }
    if (p[bytes] == ' ') last_space = bytes;
    return last_space;
}

int draw_wrapped(int y, int x, int width, int indent, int max_rows, attr_t attr,
                 const char *text)
{
    int rows = 0;
    while (*text) {
        int w = rows ? width - indent : width;
        if (w <= 0) break;
        size_t n = words_that_fit(text, w);
        if (n == 0) n = cols_bytes(text, w);   /* a word wider than the row */
        if (rows < max_rows) {
            char line[1024];
            snprintf(line, sizeof line, "%.*s", (int)n, text);
            draw_text(y + rows, x + (rows ? indent : 0), w, attr, line);
        }
        rows++;
        text += n;
        while (*text == ' ') text++;
    }
    return rows;
}

int draw_centred_rows(int y, int x, int width, int max_rows, attr_t attr, const char *text)
{
    int rows = 0;
    while (*text && width > 0) {
        size_t n = words_that_fit(text, width);
        if (n == 0) n = cols_bytes(text, width);   /* a word wider than the row */
        if (rows < max_rows) {
            char line[1024];
            snprintf(line, sizeof line, "%.*s", (int)n, text);
            int w = draw_width(line);
            draw_text(y + rows, x + (width - w) / 2, w, attr, line);
        }
        rows++;
        text += n;
        while (*text == ' ') text++;
    }
    return rows;
}

void draw_centred(const ui_rect *r, attr_t attr, const char *text)
{
    /* Inside the border, two columns in from each side; the rows around the middle one. */
    int top = r->y + 1, height = r->h - 2, x = r->x + 2, width = r->w - 4;
    if (width <= 0 || height <= 0) return;
    int rows = draw_centred_rows(0, 0, width, 0, attr, text);
    int y = top + (rows < height ? height / 2 - rows / 2 : 0);
    draw_centred_rows(y, x, width, top + height - y, attr, text);
}

void fit_words(const char *text, int width, char *out, size_t len)
{
    if (draw_width(text) <= width) {
        snprintf(out, len, "%s", text);
        return;
    }
    const char *ell = use_utf8 ? "\u2026" : "~";
    /* Room for the ellipsis. */
    size_t keep = words_that_fit(text, width - 1);
    while (keep > 0 && (text[keep - 1] == ' ' || text[keep - 1] == ',' || text[keep - 1] == ':' ||
                        text[keep - 1] == ';'))
        keep--;
    /* A first word wider than the room itself: cut in it, with the ellipsis saying so (an
     * empty place would say less). */
    if (keep == 0 && width > 1) keep = cols_bytes(text, width - 1);
    snprintf(out, len, "%.*s%s", (int)keep, text, keep ? ell : "");
}

void draw_text_fit(int y, int x, int width, attr_t attr, const char *text)
{
    char buf[1024];
    fit_words(text, width, buf, sizeof buf);
    draw_text(y, x, width, attr, buf);
}

void draw_textf(int y, int x, int width, attr_t attr, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    draw_text(y, x, width, attr, buf);
}

void draw_bar(int y, int x, int width, double fraction, attr_t attr)
{
    if (width <= 0) return;
    if (!(fraction > 0)) fraction = 0;
    if (fraction > 1) fraction = 1;
    int eighths = (int)(fraction * width * 8 + 0.5);
    static const char *partial[8] = {"", "\u258f", "\u258e", "\u258d", "\u258c", "\u258b",
                                     "\u258a", "\u2589"};
    move(y, x);
    attron(attr);
    for (int i = 0; i < width; i++) {
        int cell = eighths - 8 * i;
        if (cell >= 8) addstr(glyph("\u2588", "#"));
        else if (cell > 0 && use_utf8) addstr(partial[cell]);
        else if (cell >= 4) addstr("#");
        else {
            attroff(attr);
            addstr(glyph("\u00b7", "."));
            attron(attr);
        }
    }
    attroff(attr);
}
