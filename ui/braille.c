/* braille.c - see braille.h. */
#include "braille.h"

#include <stdlib.h>
#include <string.h>

int braille_init(braille_canvas *c, int cols, int rows)
{
    memset(c, 0, sizeof *c);
    if (cols <= 0 || rows <= 0) return -1;
    size_t n = (size_t)cols * (size_t)rows;
    c->bits = calloc(n, 1);
    c->layer = calloc(n, 1);
    if (!c->bits || !c->layer) {
        braille_free(c);
        return -1;
    }
    c->cols = cols;
    c->rows = rows;
    return 0;
}

void braille_free(braille_canvas *c)
{
    free(c->bits);
    free(c->layer);
    memset(c, 0, sizeof *c);
}

void braille_clear(braille_canvas *c)
{
    size_t n = (size_t)c->cols * (size_t)c->rows;
    if (n) {
        memset(c->bits, 0, n);
        memset(c->layer, 0, n);
    }
}

/* The Unicode braille dots are numbered down the left column (1, 2, 3, then 7 at the bottom,
 * added later to the 6-dot set) and down the right one (4, 5, 6, then 8); bit k is dot k+1. */
uint8_t braille_dot_bit(int dx, int dy)
{
    static const uint8_t left[4] = {0x01, 0x02, 0x04, 0x40};
    static const uint8_t right[4] = {0x08, 0x10, 0x20, 0x80};
    if (dy < 0 || dy > 3) return 0;
    return dx == 0 ? left[dy] : dx == 1 ? right[dy] : 0;
}

void braille_set(braille_canvas *c, int x, int y, int layer)
{
    if (x < 0 || y < 0 || x >= 2 * c->cols || y >= 4 * c->rows) return;
    size_t i = (size_t)(y / 4) * (size_t)c->cols + (size_t)(x / 2);
    c->bits[i] |= braille_dot_bit(x % 2, y % 4);
    if (layer > c->layer[i]) c->layer[i] = (uint8_t)(layer > 255 ? 255 : layer);
}

int braille_dash_on(const char *dashes, long step)
{
    size_t n = dashes ? strlen(dashes) : 0;
    return n == 0 || dashes[step % (long)n] == '1';
}

void braille_pen_start(braille_canvas *c, braille_pen *p, int x, int y)
{
    p->x = x;
    p->y = y;
    p->step = 0;
    if (braille_dash_on(p->dashes, 0)) braille_set(c, x, y, p->layer);
}

/* Bresenham: every dot of the line exactly once, integers only. */
void braille_pen_to(braille_canvas *c, braille_pen *p, int x1, int y1)
{
    int x0 = p->x, y0 = p->y;
    int dx = abs(x1 - x0), dy = -abs(y1 - y0);
    int sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1;
    int err = dx + dy;
    while (x0 != x1 || y0 != y1) {
        int e2 = 2 * err;
        if (e2 >= dy) {
            err += dy;
            x0 += sx;
        }
        if (e2 <= dx) {
            err += dx;
            y0 += sy;
        }
        if (braille_dash_on(p->dashes, ++p->step)) braille_set(c, x0, y0, p->layer);
    }
    p->x = x1;
    p->y = y1;
}

void braille_line(braille_canvas *c, int x0, int y0, int x1, int y1, int layer)
{
    braille_pen p = {NULL, layer, 0, 0, 0};
    braille_pen_start(c, &p, x0, y0);
    braille_pen_to(c, &p, x1, y1);
}

uint8_t braille_cell_bits(const braille_canvas *c, int col, int row)
{
    if (col < 0 || row < 0 || col >= c->cols || row >= c->rows) return 0;
    return c->bits[(size_t)row * (size_t)c->cols + (size_t)col];
}

int braille_cell_layer(const braille_canvas *c, int col, int row)
{
    if (col < 0 || row < 0 || col >= c->cols || row >= c->rows) return 0;
    return c->layer[(size_t)row * (size_t)c->cols + (size_t)col];
}

void braille_cell_utf8(uint8_t bits, char out[4])
{
    unsigned cp = 0x2800u + bits;   /* always three UTF-8 bytes: 1110xxxx 10xxxxxx 10xxxxxx */
    out[0] = (char)(0xE0 | (cp >> 12));
    out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[2] = (char)(0x80 | (cp & 0x3F));
    out[3] = '\0';
}

char braille_cell_ascii(uint8_t bits)
{
    uint8_t top = bits & (0x01 | 0x02 | 0x08 | 0x10);
    uint8_t bottom = bits & (0x04 | 0x20 | 0x40 | 0x80);
    if (top && bottom) return ':';
    if (top) return '\'';
    if (bottom) return '.';
    return ' ';
}
