// JPEG decode with libjpeg(-turbo); error_exit longjmps back to the setjmp in this file only.
#include "CMedCodecs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <jpeglib.h>
#include <jerror.h>

typedef struct {
    struct jpeg_error_mgr base;
    jmp_buf jump;
    char *err;
    size_t err_capacity;
    int truncated;
} error_manager;

static void on_error_exit(j_common_ptr cinfo) {
    error_manager *manager = (error_manager *)cinfo->err;
    char buffer[JMSG_LENGTH_MAX];
    (*cinfo->err->format_message)(cinfo, buffer);
    if (manager->err != NULL && manager->err_capacity > 0) snprintf(manager->err, manager->err_capacity, "%s", buffer);
    longjmp(manager->jump, 1);
}

static void on_emit_message(j_common_ptr cinfo, int level) {
    if (level < 0) {  // warning: count it, note a premature end of data, print nothing
        error_manager *manager = (error_manager *)cinfo->err;
        if (cinfo->err->msg_code == JWRN_JPEG_EOF) manager->truncated = 1;
        cinfo->err->num_warnings++;
    }
}

static void on_output_message(j_common_ptr cinfo) { (void)cinfo; }

int medjpeg_decode(const uint8_t *data, size_t length, int colour, medjpeg_image *out,
                   char *err, size_t err_capacity) {
    memset(out, 0, sizeof(*out));
    if (length < 4 || data[0] != 0xFF || data[1] != 0xD8) {
        if (err != NULL && err_capacity > 0) snprintf(err, err_capacity, "not a JPEG stream (no SOI marker)");
        return 1;
    }
    struct jpeg_decompress_struct cinfo;
    error_manager manager;
    memset(&manager, 0, sizeof(manager));
    cinfo.err = jpeg_std_error(&manager.base);
    manager.base.error_exit = on_error_exit;
    manager.base.emit_message = on_emit_message;
    manager.base.output_message = on_output_message;
    manager.err = err;
    manager.err_capacity = err_capacity;
    uint8_t *volatile pixels = NULL;
    if (setjmp(manager.jump)) {
        free(pixels);
        jpeg_destroy_decompress(&cinfo);
        return 1;
    }
    jpeg_create_decompress(&cinfo);
    jpeg_mem_src(&cinfo, (const unsigned char *)data, (unsigned long)length);
    jpeg_read_header(&cinfo, TRUE);
    if (colour == 1) {
        cinfo.out_color_space = cinfo.jpeg_color_space;
    } else if (cinfo.jpeg_color_space == JCS_GRAYSCALE) {
        cinfo.out_color_space = JCS_GRAYSCALE;
    } else {
        cinfo.out_color_space = JCS_RGB;
    }
    jpeg_start_decompress(&cinfo);
    uint32_t width = cinfo.output_width, height = cinfo.output_height, channels = (uint32_t)cinfo.output_components;
    if (channels != 1 && channels != 3) {
        if (err != NULL && err_capacity > 0)
            snprintf(err, err_capacity, "unsupported JPEG colour layout (%u components)", channels);
        jpeg_destroy_decompress(&cinfo);
        return 1;
    }
    size_t rowbytes = (size_t)width * channels;
    if (width == 0 || height == 0 || (size_t)height > ((size_t)1 << 32) / rowbytes) {
        if (err != NULL && err_capacity > 0) snprintf(err, err_capacity, "invalid JPEG dimensions");
        jpeg_destroy_decompress(&cinfo);
        return 1;
    }
    pixels = (uint8_t *)malloc(rowbytes * height);
    if (pixels == NULL) {
        if (err != NULL && err_capacity > 0) snprintf(err, err_capacity, "out of memory");
        jpeg_destroy_decompress(&cinfo);
        return 1;
    }
    while (cinfo.output_scanline < cinfo.output_height) {
        JSAMPROW row = pixels + (size_t)cinfo.output_scanline * rowbytes;
        jpeg_read_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_decompress(&cinfo);
    out->width = width;
    out->height = height;
    out->channels = channels;
    out->truncated = manager.truncated;
    out->warnings = (int)manager.base.num_warnings;
    out->pixels = pixels;
    out->size = rowbytes * height;
    jpeg_destroy_decompress(&cinfo);
    return 0;
}
