//===- FloatCodecs.cpp - F32, F16 and BF16 --------------------------------===//

#include "lib/Quantize/Codecs.h"
#include "lib/Quantize/FloatBits.h"

#include <cstring>

using namespace kvant::quantize;

// F32: 4 bytes per value, little-endian IEEE single.
void kvant::quantize::quantizeF32(const float *src, uint8_t *dst, int64_t n) {
  std::memcpy(dst, src, n * sizeof(float));
}
void kvant::quantize::dequantizeF32(const uint8_t *src, float *dst, int64_t n) {
  std::memcpy(dst, src, n * sizeof(float));
}

// F16: 2 bytes per value, IEEE half, rounded to nearest even.
void kvant::quantize::quantizeF16(const float *src, uint8_t *dst, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    uint16_t h = floatToHalf(src[i]);
    std::memcpy(dst + 2 * i, &h, 2);
  }
}
void kvant::quantize::dequantizeF16(const uint8_t *src, float *dst, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    uint16_t h;
    std::memcpy(&h, src + 2 * i, 2);
    dst[i] = halfToFloat(h);
  }
}

// BF16: 2 bytes per value, the high half of an f32, rounded to nearest even.
void kvant::quantize::quantizeBF16(const float *src, uint8_t *dst, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    uint16_t b = floatToBF16(src[i]);
    std::memcpy(dst + 2 * i, &b, 2);
  }
}
void kvant::quantize::dequantizeBF16(const uint8_t *src, float *dst,
                                     int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    uint16_t b;
    std::memcpy(&b, src + 2 * i, 2);
    dst[i] = bf16ToFloat(b);
  }
}
