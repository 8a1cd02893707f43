// The system libpng (Debian: libpng-dev), seen by Swift through the WAHA simulator only.
//
// libpng reports errors with longjmp, which must never cross Swift frames; the whole encoding
// therefore happens in this C function, and Swift only sees a return code.
#ifndef WHAGO_CPNG_SHIM_H
#define WHAGO_CPNG_SHIM_H

#include <png.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

/// A growing memory buffer libpng writes into.
typedef struct {
    unsigned char *bytes;
    size_t size;
    size_t capacity;
    int failed;
} whago_png_buffer;

static void whago_png_write(png_structp png, png_bytep data, png_size_t length) {
    whago_png_buffer *buffer = (whago_png_buffer *)png_get_io_ptr(png);
    if (buffer->failed) return;
    if (buffer->size + length > buffer->capacity) {
        size_t capacity = buffer->capacity ? buffer->capacity * 2 : 4096;
        while (capacity < buffer->size + length) capacity *= 2;
        unsigned char *grown = (unsigned char *)realloc(buffer->bytes, capacity);
        if (!grown) { buffer->failed = 1; return; }
        buffer->bytes = grown;
        buffer->capacity = capacity;
    }
    memcpy(buffer->bytes + buffer->size, data, length);
    buffer->size += length;
}

static void whago_png_flush(png_structp png) { (void)png; }

/// Encodes an 8-bit grayscale image (`width` × `height` bytes, row after row) as PNG.
/// On success returns 0 and a buffer the caller frees with `free`; on failure returns -1.
static inline int whago_png_encode_gray(const unsigned char *pixels, unsigned width, unsigned height,
                                        unsigned char **out, size_t *out_size) {
    whago_png_buffer buffer = {0, 0, 0, 0};
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    if (!png) return -1;
    png_infop info = png_create_info_struct(png);
    if (!info) { png_destroy_write_struct(&png, NULL); return -1; }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        free(buffer.bytes);
        return -1;
    }
    png_set_write_fn(png, &buffer, whago_png_write, whago_png_flush);
    png_set_IHDR(png, info, width, height, 8, PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    for (unsigned row = 0; row < height; row++) {
        png_write_row(png, (png_const_bytep)(pixels + (size_t)row * width));
    }
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    if (buffer.failed) { free(buffer.bytes); return -1; }
    *out = buffer.bytes;
    *out_size = buffer.size;
    return 0;
}

#endif
