/*
 * braille.h - a dot canvas for terminal plots: each character cell holds 2 x 4 dots, drawn as
 * one Unicode braille pattern (U+2800 + 8 dot bits), or as an ASCII character when the
 * terminal's locale cannot show braille.
 *
 * Dots are addressed from the top-left: x in [0, 2 * cols), y in [0, 4 * rows). Each cell also
 * remembers the highest "layer" that put a dot in it, so a caller can colour a cell by what is
 * in it (curve over band over grid) even though a cell has only one colour. Dots outside the
 * canvas are ignored (lines are clipped dot by dot).
 *
 * Memory: the canvas owns its cell arrays (braille_free). Pure functions, no curses: any
 * thread may use its own canvas, and the unit tests check the dots directly.
 */
#ifndef BRAGG_BRAILLE_H
#define BRAGG_BRAILLE_H

#include <stddef.h>
#include <stdint.h>

typedef struct braille_canvas {
    int cols, rows;
    uint8_t *bits;     /* cols x rows, row-major: the braille dot bits of each cell */
    uint8_t *layer;    /* highest layer drawn into each cell (0: empty) */
} braille_canvas;

/* Returns 0, or -1 when out of memory or the size is not positive. */
int braille_init(braille_canvas *c, int cols, int rows);
void braille_free(braille_canvas *c);
void braille_clear(braille_canvas *c);

/* Sets dot (x, y) with `layer` (1..255). */
void braille_set(braille_canvas *c, int x, int y, int layer);
/* A straight line of dots between two dot positions, both ends included. */
void braille_line(braille_canvas *c, int x0, int y0, int x1, int y1, int layer);

/* A pen for polylines with a dash pattern: `dashes` is a string of '1' (dot set) and '0' (dot
 * left out) repeated along the path, dot by dot as the line walks, so a pattern keeps its look
 * on a steep stretch as on a flat one. A dot two segments share counts once, and a segment of
 * no length walks nothing. NULL or "1": solid. Set dashes and layer, then start and go to. */
typedef struct braille_pen {
    const char *dashes;
    int layer;
    int x, y;       /* where the pen stands */
    long step;      /* dots walked since the start (the start is dot 0) */
} braille_pen;

/* Puts the pen down at (x, y): the path's dot 0. */
void braille_pen_start(braille_canvas *c, braille_pen *p, int x, int y);
/* A line from where the pen stands to (x, y), without the dot it stands on. */
void braille_pen_to(braille_canvas *c, braille_pen *p, int x, int y);
/* 1 when dot `step` of a path with this pattern is set. */
int braille_dash_on(const char *dashes, long step);

/* Dot bits and layer of a cell (0 outside the canvas). */
uint8_t braille_cell_bits(const braille_canvas *c, int col, int row);
int braille_cell_layer(const braille_canvas *c, int col, int row);

/* The bit a dot sets inside its cell: dx in {0, 1}, dy in {0..3}. */
uint8_t braille_dot_bit(int dx, int dy);

/* The cell as UTF-8 (3 bytes + NUL; a blank cell is U+2800, which terminals show empty). */
void braille_cell_utf8(uint8_t bits, char out[4]);
/* The cell as one ASCII character: ' ' empty, '\'' dots only in the top half, '.' only in the
 * bottom half, ':' in both. */
char braille_cell_ascii(uint8_t bits);

#endif
