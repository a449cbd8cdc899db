/*
 * png_file.h - writes a cairo image surface as a PNG with text chunks, atomically.
 *
 * cairo's own PNG writer stores no metadata; this one (libpng) adds a tEXt chunk per key/value
 * (iTXt, UTF-8, when the value is not plain ASCII) so that a figure carries the configuration
 * of the run that made it. The file is written to a temporary name and renamed into place
 * (src/output/atomic_file.h): a full disk or a failed write leaves nothing behind and the message
 * names the path. Pixels are converted from cairo's premultiplied native-endian ARGB32 to
 * straight 8-bit RGBA.
 *
 * Memory: nothing is kept; the surface and strings stay the caller's. Any thread may write its
 * own file (libpng keeps its state per call).
 */
#ifndef BRAGG_PNG_FILE_H
#define BRAGG_PNG_FILE_H

#include <cairo.h>

#include "err.h"

/* `what` names the option for messages ("--png"). The surface must be CAIRO_FORMAT_ARGB32. */
int png_file_write(const char *path, const char *what, cairo_surface_t *surface,
                   const char *const *keys, const char *const *values, int n_text,
                   bragg_err *e);

#endif
