// PNG decode/encode with libpng's classic API; errors longjmp back to the setjmp in this file only.
#include "CMedCodecs.h"

#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const uint8_t *data;
    size_t length;
    size_t offset;
    char *err;
    size_t err_capacity;
} read_context;

typedef struct {
    uint8_t *buffer;
    size_t length;
    size_t capacity;
    int failed;
    char *err;
    size_t err_capacity;
} write_context;

static void copy_message(char *err, size_t capacity, const char *message) {
    if (err == NULL || capacity == 0) return;
    snprintf(err, capacity, "%s", message ? message : "unknown libpng error");
}

typedef struct {
    char *err;
    size_t cap;
} error_slot;

static void on_error(png_structp png, png_const_charp message) {
    error_slot *slot = (error_slot *)png_get_error_ptr(png);
    if (slot != NULL) copy_message(slot->err, slot->cap, message);
    png_longjmp(png, 1);
}

static void on_warning(png_structp png, png_const_charp message) {
    (void)png;
    (void)message;  // warnings (for example an invalid sCAL unit) are ignored, as Pillow does
}

static void read_bytes(png_structp png, png_bytep out, png_size_t count) {
    read_context *ctx = (read_context *)png_get_io_ptr(png);
    if (ctx->length - ctx->offset < count) {
        png_error(png, "unexpected end of PNG data (file truncated)");
    }
    memcpy(out, ctx->data + ctx->offset, count);
    ctx->offset += count;
}

int medpng_decode(const uint8_t *data, size_t length, medpng_image *out, char *err, size_t err_capacity) {
    memset(out, 0, sizeof(*out));
    if (length < 8 || png_sig_cmp((png_const_bytep)data, 0, 8) != 0) {
        copy_message(err, err_capacity, "not a PNG file (bad signature)");
        return 1;
    }
    error_slot errslot = { err, err_capacity };
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &errslot, on_error, on_warning);
    if (png == NULL) { copy_message(err, err_capacity, "out of memory"); return 1; }
    png_infop info = png_create_info_struct(png);
    if (info == NULL) {
        png_destroy_read_struct(&png, NULL, NULL);
        copy_message(err, err_capacity, "out of memory");
        return 1;
    }
    read_context ctx = { data, length, 0, err, err_capacity };
    uint8_t *volatile pixels = NULL;
    png_bytep *volatile rows = NULL;
    if (setjmp(png_jmpbuf(png))) {
        free(pixels);
        free(rows);
        png_destroy_read_struct(&png, &info, NULL);
        return 1;
    }
    png_set_read_fn(png, &ctx, read_bytes);
    png_read_info(png, info);
    png_uint_32 width = 0, height = 0;
    int depth = 0, color = 0, interlace = 0;
    png_get_IHDR(png, info, &width, &height, &depth, &color, &interlace, NULL, NULL);
    out->color_type = (uint32_t)color;
    out->file_bit_depth = (uint32_t)depth;
    if (color == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
    if (color == PNG_COLOR_TYPE_GRAY && depth < 8) {
        // Scale 1/2/4-bit grey to 0..255 as Pillow does ("L" mode): expand packs then shift.
        png_set_expand_gray_1_2_4_to_8(png);
    }
    if (png_get_valid(png, info, PNG_INFO_tRNS)) png_set_tRNS_to_alpha(png);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    if (depth == 16) png_set_swap(png);
#endif
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
    png_size_t rowbytes = png_get_rowbytes(png, info);
    int channels = png_get_channels(png, info);
    int outdepth = png_get_bit_depth(png, info);
    if (width == 0 || height == 0 || rowbytes == 0 || (size_t)height > ((size_t)1 << 32) / rowbytes) {
        png_error(png, "invalid image dimensions");
    }
    pixels = (uint8_t *)malloc(rowbytes * height);
    rows = (png_bytep *)malloc(sizeof(png_bytep) * height);
    if (pixels == NULL || rows == NULL) png_error(png, "out of memory");
    for (png_uint_32 y = 0; y < height; y++) rows[y] = pixels + (size_t)y * rowbytes;
    png_read_image(png, rows);
    png_read_end(png, NULL);
    free(rows);
    rows = NULL;
    out->width = width;
    out->height = height;
    out->channels = (uint32_t)channels;
    out->bit_depth = (uint32_t)outdepth;
    out->pixels = pixels;
    out->size = rowbytes * height;
    png_destroy_read_struct(&png, &info, NULL);
    return 0;
}

static void write_bytes(png_structp png, png_bytep data, png_size_t count) {
    write_context *ctx = (write_context *)png_get_io_ptr(png);
    if (ctx->capacity - ctx->length < count) {
        size_t capacity = ctx->capacity ? ctx->capacity : 4096;
        while (capacity - ctx->length < count) capacity *= 2;
        uint8_t *grown = (uint8_t *)realloc(ctx->buffer, capacity);
        if (grown == NULL) png_error(png, "out of memory");
        ctx->buffer = grown;
        ctx->capacity = capacity;
    }
    memcpy(ctx->buffer + ctx->length, data, count);
    ctx->length += count;
}

static void flush_bytes(png_structp png) { (void)png; }

int medpng_encode(const uint8_t *pixels, uint32_t width, uint32_t height, uint32_t channels,
                  uint32_t bit_depth, int compression_level, uint8_t **out, size_t *out_length,
                  char *err, size_t err_capacity) {
    *out = NULL;
    *out_length = 0;
    if (width == 0 || height == 0 || channels < 1 || channels > 4 || (bit_depth != 8 && bit_depth != 16)) {
        copy_message(err, err_capacity, "unsupported PNG layout for writing");
        return 1;
    }
    static const int types[5] = { 0, PNG_COLOR_TYPE_GRAY, PNG_COLOR_TYPE_GRAY_ALPHA, PNG_COLOR_TYPE_RGB,
                                   PNG_COLOR_TYPE_RGB_ALPHA };
    error_slot errslot = { err, err_capacity };
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &errslot, on_error, on_warning);
    if (png == NULL) { copy_message(err, err_capacity, "out of memory"); return 1; }
    png_infop info = png_create_info_struct(png);
    if (info == NULL) {
        png_destroy_write_struct(&png, NULL);
        copy_message(err, err_capacity, "out of memory");
        return 1;
    }
    write_context ctx = { NULL, 0, 0, 0, err, err_capacity };
    png_bytep *volatile rows = NULL;
    if (setjmp(png_jmpbuf(png))) {
        free(rows);
        free(ctx.buffer);
        png_destroy_write_struct(&png, &info);
        return 1;
    }
    png_set_write_fn(png, &ctx, write_bytes, flush_bytes);
    if (compression_level >= 0 && compression_level <= 9) png_set_compression_level(png, compression_level);
    png_set_IHDR(png, info, width, height, (int)bit_depth, types[channels], PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    if (bit_depth == 16) png_set_swap(png);
#endif
    size_t rowbytes = (size_t)width * channels * (bit_depth / 8);
    rows = (png_bytep *)malloc(sizeof(png_bytep) * height);
    if (rows == NULL) png_error(png, "out of memory");
    for (uint32_t y = 0; y < height; y++) rows[y] = (png_bytep)(pixels + (size_t)y * rowbytes);
    png_write_image(png, rows);
    png_write_end(png, NULL);
    free(rows);
    rows = NULL;
    png_destroy_write_struct(&png, &info);
    *out = ctx.buffer;
    *out_length = ctx.length;
    return 0;
}

void medcodecs_free(void *pointer) { free(pointer); }
