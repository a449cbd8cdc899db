/* png_file.c - see png_file.h. */
#include "png_file.h"

#include <errno.h>
#include <png.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "atomic_file.h"

/* What libpng's callbacks report back: the first error and the errno of a failed write. */
typedef struct png_sink {
    FILE *file;
    int write_errno;
    char msg[200];
} png_sink;

static void on_error(png_structp png, png_const_charp msg)
{
    png_sink *s = png_get_error_ptr(png);
    if (!s->msg[0]) snprintf(s->msg, sizeof s->msg, "%s", msg);
    png_longjmp(png, 1);
}

static void on_warning(png_structp png, png_const_charp msg)
{
    /* Library code never prints; warnings (none expected for what we write) are dropped. */
    (void)png;
    (void)msg;
}

static void on_write(png_structp png, png_bytep data, size_t len)
{
    png_sink *s = png_get_io_ptr(png);
    errno = 0;
    if (fwrite(data, 1, len, s->file) != len) {
        s->write_errno = errno ? errno : EIO;
        png_error(png, "write failed");
    }
}

static void on_flush(png_structp png)
{
    png_sink *s = png_get_io_ptr(png);
    errno = 0;
    if (fflush(s->file) != 0) {
        s->write_errno = errno ? errno : EIO;
        png_error(png, "write failed");
    }
}

static int is_plain_ascii(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s > 126 || ((unsigned char)*s < 32 && *s != '\n')) return 0;
    return 1;
}

/* One row of cairo ARGB32 (premultiplied, native-endian words) as straight RGBA bytes. */
static void row_to_rgba(const unsigned char *src, unsigned char *dst, int width)
{
    const uint32_t *px = (const uint32_t *)(const void *)src;
    for (int x = 0; x < width; x++) {
        uint32_t p = px[x];
        unsigned a = p >> 24, r = (p >> 16) & 0xff, g = (p >> 8) & 0xff, b = p & 0xff;
        if (a != 0 && a != 255) {
            r = (r * 255 + a / 2) / a;
            g = (g * 255 + a / 2) / a;
            b = (b * 255 + a / 2) / a;
        }
        dst[4 * x] = (unsigned char)r;
        dst[4 * x + 1] = (unsigned char)g;
        dst[4 * x + 2] = (unsigned char)b;
        dst[4 * x + 3] = (unsigned char)a;
    }
}

/* Writes the PNG stream to an open FILE; libpng's errors come back as a message in `sink`.
 * Kept apart from png_file_write so that nothing but libpng state crosses the setjmp. */
static int write_stream(png_sink *sink, cairo_surface_t *surface, const char *const *keys,
                        const char *const *values, int n_text, unsigned char *row)
{
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, sink, on_error, on_warning);
    if (!png) {
        snprintf(sink->msg, sizeof sink->msg, "out of memory");
        return BRAGG_ERR;
    }
    png_infop info = png_create_info_struct(png);
    if (!info) {
        png_destroy_write_struct(&png, NULL);
        snprintf(sink->msg, sizeof sink->msg, "out of memory");
        return BRAGG_ERR;
    }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        return BRAGG_ERR;
    }
    int width = cairo_image_surface_get_width(surface);
    int height = cairo_image_surface_get_height(surface);
    int stride = cairo_image_surface_get_stride(surface);
    const unsigned char *data = cairo_image_surface_get_data(surface);
    png_set_write_fn(png, sink, on_write, on_flush);
    png_set_IHDR(png, info, (png_uint_32)width, (png_uint_32)height, 8, PNG_COLOR_TYPE_RGB_ALPHA,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_text text[64];
    int nt = 0;
    for (int i = 0; i < n_text && nt < 64; i++) {
        memset(&text[nt], 0, sizeof text[nt]);
        /* libpng copies the text into `info`; the casts only drop const from its API. */
        text[nt].key = (png_charp)(uintptr_t)keys[i];
        text[nt].text = (png_charp)(uintptr_t)values[i];
        if (is_plain_ascii(values[i])) {
            text[nt].compression = PNG_TEXT_COMPRESSION_NONE;
            text[nt].text_length = strlen(values[i]);
        } else {
            text[nt].compression = PNG_ITXT_COMPRESSION_NONE;
            text[nt].itxt_length = strlen(values[i]);
            text[nt].lang = (png_charp)(uintptr_t)"";
            text[nt].lang_key = (png_charp)(uintptr_t)"";
        }
        nt++;
    }
    if (nt) png_set_text(png, info, text, nt);
    png_write_info(png, info);
    for (int y = 0; y < height; y++) {
        row_to_rgba(data + (size_t)y * stride, row, width);
        png_write_row(png, row);
    }
    png_write_end(png, info);
    png_destroy_write_struct(&png, &info);
    return BRAGG_OK;
}

int png_file_write(const char *path, const char *what, cairo_surface_t *surface,
                   const char *const *keys, const char *const *values, int n_text, bragg_err *e)
{
    if (!surface || cairo_surface_status(surface) != CAIRO_STATUS_SUCCESS ||
        cairo_image_surface_get_format(surface) != CAIRO_FORMAT_ARGB32)
        return bragg_fail(e, "%s: internal error: no ARGB32 image to write", what);
    if (n_text > 64) return bragg_fail(e, "%s: internal error: more than 64 text chunks", what);
    if (strcmp(path, "-") == 0)
        return bragg_fail(e, "%s: a PNG is not written to the terminal; give a file name", what);
    cairo_surface_flush(surface);
    int width = cairo_image_surface_get_width(surface);
    unsigned char *row = malloc((size_t)width * 4);
    if (!row) return bragg_fail(e, "%s: out of memory", what);
    atomic_file af;
    if (atomic_file_open(&af, path, what, e)) {
        free(row);
        return BRAGG_ERR;
    }
    png_sink sink = {af.file, 0, ""};
    int rc = write_stream(&sink, surface, keys, values, n_text, row);
    free(row);
    if (rc != BRAGG_OK) {
        atomic_file_abandon(&af);
        if (sink.write_errno)
            return bragg_fail(e, "%s: cannot write %s: %s", what, BRAGG_QUOTED(path),
                              strerror(sink.write_errno));
        return bragg_fail(e, "%s: cannot write %s: %s", what, BRAGG_QUOTED(path), sink.msg);
    }
    return atomic_file_commit(&af, e);   /* its message names `what` */
}
