// CMedCodecs: tiny C wrappers that keep libpng's and libjpeg's setjmp/longjmp error handling inside C.
// Both libraries report fatal errors by calling an error callback that must not return; the only safe way
// to recover is longjmp to a setjmp in a C frame. Swift cannot call setjmp, and a longjmp across Swift
// frames is undefined behaviour, so every call that can fail runs here and returns a status code + message.
#ifndef CMEDCODECS_H
#define CMEDCODECS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Decoded PNG. Samples are interleaved row-major; 16-bit samples are in host byte order.
typedef struct {
    uint32_t width;
    uint32_t height;
    uint32_t channels;        ///< 1 grey, 2 grey+alpha, 3 RGB, 4 RGBA (palette expanded, tRNS -> alpha)
    uint32_t bit_depth;       ///< 8 or 16 (1/2/4-bit grey is scaled to 8-bit: 0..(2^d-1) -> 0..255)
    uint32_t color_type;      ///< PNG colour type as stored in IHDR
    uint32_t file_bit_depth;  ///< bit depth as stored in IHDR
    uint8_t *pixels;          ///< malloc'd, free with medcodecs_free
    size_t size;              ///< bytes in pixels
} medpng_image;

/// Returns 0 on success; on failure writes a NUL-terminated message to err and returns non-zero.
int medpng_decode(const uint8_t *data, size_t length, medpng_image *out, char *err, size_t err_capacity);

/// Encodes interleaved pixels (channels 1..4, bit_depth 8 or 16; 16-bit samples in host byte order).
/// On success *out is a malloc'd PNG byte buffer (free with medcodecs_free) of *out_length bytes.
int medpng_encode(const uint8_t *pixels, uint32_t width, uint32_t height, uint32_t channels,
                  uint32_t bit_depth, int compression_level, uint8_t **out, size_t *out_length,
                  char *err, size_t err_capacity);

/// Decoded JPEG: 8-bit samples, interleaved.
typedef struct {
    uint32_t width;
    uint32_t height;
    uint32_t channels;   ///< 1 (greyscale) or 3
    int truncated;       ///< 1 when libjpeg warned about a premature end of data (rest padded)
    int warnings;        ///< number of libjpeg warnings (corrupt-data warnings included)
    uint8_t *pixels;     ///< malloc'd, free with medcodecs_free
    size_t size;
} medjpeg_image;

/// colour: 0 = greyscale stays grey, everything else converted to RGB by libjpeg;
///         1 = keep the stored colour space (YCbCr not converted), for callers that convert themselves.
int medjpeg_decode(const uint8_t *data, size_t length, int colour, medjpeg_image *out,
                   char *err, size_t err_capacity);

void medcodecs_free(void *pointer);

#ifdef __cplusplus
}
#endif
#endif
