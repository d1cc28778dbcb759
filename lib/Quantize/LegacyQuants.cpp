//===- LegacyQuants.cpp - Q4_0, Q4_1, Q5_0, Q5_1 and Q8_0 -----------------===//
//
// Blocks of 32 values with one f16 scale (and an f16 minimum for the _1
// types). The arithmetic is llama.cpp's reference, in f32 and step by step
// (the library builds with -ffp-contract=off), so the bytes equal those of
// quantize_row_*_ref and of gguf.quants.quantize.
//
//===----------------------------------------------------------------------===//

#include "lib/Quantize/Codecs.h"
#include "lib/Quantize/FloatBits.h"

#include <algorithm>
#include <cmath>
#include <cstring>

using namespace kvant::quantize;

namespace {
constexpr int kBlock = 32;

void storeHalf(uint8_t *dst, float value) {
  uint16_t h = floatToHalf(value);
  std::memcpy(dst, &h, 2);
}
float loadHalf(const uint8_t *src) {
  uint16_t h;
  std::memcpy(&h, src, 2);
  return halfToFloat(h);
}

/// The value of largest magnitude, signed (the first one on ties).
float signedAbsMax(const float *x, int n) {
  float amax = 0, max = 0;
  for (int j = 0; j < n; ++j)
    if (amax < std::fabs(x[j])) {
      amax = std::fabs(x[j]);
      max = x[j];
    }
  return max;
}

void minMax(const float *x, int n, float &min, float &max) {
  min = x[0];
  max = x[0];
  for (int j = 1; j < n; ++j) {
    min = std::min(min, x[j]);
    max = std::max(max, x[j]);
  }
}

/// Symmetric 2^bits-level quantization of one block: d = max / -2^(bits-1)
/// maps the largest-magnitude value to level 0, and q = trunc(x/d + offset
/// + 0.5) clamped to the top level.
void symmetricLevels(const float *x, int bits, float &d, uint8_t *q) {
  const int half = 1 << (bits - 1), top = (1 << bits) - 1;
  d = signedAbsMax(x, kBlock) / float(-half);
  float id = d != 0 ? 1.0f / d : 0.0f;
  float bias = float(half) + 0.5f;
  for (int j = 0; j < kBlock; ++j) {
    float scaled = x[j] * id;
    float shifted = scaled + bias;
    q[j] = uint8_t(std::clamp(int(shifted), 0, top));
  }
}

/// Affine 2^bits-level quantization: d = (max - min) / top, q = trunc((x -
/// min)/d + 0.5).
void affineLevels(const float *x, int bits, float &d, float &min, uint8_t *q) {
  const int top = (1 << bits) - 1;
  float max;
  minMax(x, kBlock, min, max);
  d = (max - min) / float(top);
  float id = d != 0 ? 1.0f / d : 0.0f;
  for (int j = 0; j < kBlock; ++j) {
    float scaled = (x[j] - min) * id;
    float shifted = scaled + 0.5f;
    q[j] = uint8_t(std::clamp(int(shifted), 0, top));
  }
}

/// Nibbles: byte j holds value j (low) and value j + 16 (high).
void packNibbles(const uint8_t *q, uint8_t *qs) {
  for (int j = 0; j < kBlock / 2; ++j)
    qs[j] = (q[j] & 0x0f) | uint8_t((q[j + kBlock / 2] & 0x0f) << 4);
}
void unpackNibbles(const uint8_t *qs, uint8_t *q) {
  for (int j = 0; j < kBlock / 2; ++j) {
    q[j] = qs[j] & 0x0f;
    q[j + kBlock / 2] = qs[j] >> 4;
  }
}
/// Fifth bits: bit j of the little-endian u32 is bit 4 of value j.
void packHighBits(const uint8_t *q, uint8_t *qh) {
  uint32_t bits = 0;
  for (int j = 0; j < kBlock; ++j)
    bits |= uint32_t((q[j] >> 4) & 1) << j;
  std::memcpy(qh, &bits, 4);
}
void addHighBits(const uint8_t *qh, uint8_t *q) {
  uint32_t bits;
  std::memcpy(&bits, qh, 4);
  for (int j = 0; j < kBlock; ++j)
    q[j] |= uint8_t(((bits >> j) & 1) << 4);
}
} // namespace

// Q4_0 (18 bytes): d f16, qs[16] nibbles (value j low, j+16 high).
// value = d * (q - 8).
void kvant::quantize::quantizeQ4_0(const float *src, uint8_t *dst, int64_t n) {
  uint8_t q[kBlock];
  for (int64_t b = 0; b < n / kBlock; ++b, src += kBlock, dst += 18) {
    float d;
    symmetricLevels(src, 4, d, q);
    storeHalf(dst, d);
    packNibbles(q, dst + 2);
  }
}
void kvant::quantize::dequantizeQ4_0(const uint8_t *src, float *dst,
                                     int64_t n) {
  uint8_t q[kBlock];
  for (int64_t b = 0; b < n / kBlock; ++b, src += 18, dst += kBlock) {
    float d = loadHalf(src);
    unpackNibbles(src + 2, q);
    for (int j = 0; j < kBlock; ++j)
      dst[j] = float(int(q[j]) - 8) * d;
  }
}

// Q4_1 (20 bytes): d f16, m f16, qs[16] nibbles. value = d * q + m.
void kvant::quantize::quantizeQ4_1(const float *src, uint8_t *dst, int64_t n) {
  uint8_t q[kBlock];
  for (int64_t b = 0; b < n / kBlock; ++b, src += kBlock, dst += 20) {
    float d, min;
    affineLevels(src, 4, d, min, q);
    storeHalf(dst, d);
    storeHalf(dst + 2, min);
    packNibbles(q, dst + 4);
  }
}
void kvant::quantize::dequantizeQ4_1(const uint8_t *src, float *dst,
                                     int64_t n) {
  uint8_t q[kBlock];
  for (int64_t b = 0; b < n / kBlock; ++b, src += 20, dst += kBlock) {
    float d = loadHalf(src), m = loadHalf(src + 2);
    unpackNibbles(src + 4, q);
    for (int j = 0; j < kBlock; ++j)
      dst[j] = float(q[j]) * d + m;
  }
}

// Q5_0 (22 bytes): d f16, qh u32 (bit j = bit 4 of value j), qs[16] low
// nibbles. value = d * (q - 16).
void kvant::quantize::quantizeQ5_0(const float *src, uint8_t *dst, int64_t n) {
  uint8_t q[kBlock];
  for (int64_t b = 0; b < n / kBlock; ++b, src += kBlock, dst += 22) {
    float d;
    symmetricLevels(src, 5, d, q);
    storeHalf(dst, d);
    packHighBits(q, dst + 2);
    packNibbles(q, dst + 6);
  }
}
void kvant::quantize::dequantizeQ5_0(const uint8_t *src, float *dst,
                                     int64_t n) {
  uint8_t q[kBlock];
  for (int64_t b = 0; b < n / kBlock; ++b, src += 22, dst += kBlock) {
    float d = loadHalf(src);
    unpackNibbles(src + 6, q);
    addHighBits(src + 2, q);
    for (int j = 0; j < kBlock; ++j)
      dst[j] = float(int(q[j]) - 16) * d;
  }
}

// Q5_1 (24 bytes): d f16, m f16, qh u32, qs[16]. value = d * q + m.
void kvant::quantize::quantizeQ5_1(const float *src, uint8_t *dst, int64_t n) {
  uint8_t q[kBlock];
  for (int64_t b = 0; b < n / kBlock; ++b, src += kBlock, dst += 24) {
    float d, min;
    affineLevels(src, 5, d, min, q);
    storeHalf(dst, d);
    storeHalf(dst + 2, min);
    packHighBits(q, dst + 4);
    packNibbles(q, dst + 8);
  }
}
void kvant::quantize::dequantizeQ5_1(const uint8_t *src, float *dst,
                                     int64_t n) {
  uint8_t q[kBlock];
  for (int64_t b = 0; b < n / kBlock; ++b, src += 24, dst += kBlock) {
    float d = loadHalf(src), m = loadHalf(src + 2);
    unpackNibbles(src + 8, q);
    addHighBits(src + 4, q);
    for (int j = 0; j < kBlock; ++j)
      dst[j] = float(q[j]) * d + m;
  }
}

// Q8_0 (34 bytes): d f16, qs[32] int8. value = d * q, d = absmax / 127,
// q = round-half-away(x / d).
void kvant::quantize::quantizeQ8_0(const float *src, uint8_t *dst, int64_t n) {
  for (int64_t b = 0; b < n / kBlock; ++b, src += kBlock, dst += 34) {
    float amax = 0;
    for (int j = 0; j < kBlock; ++j)
      amax = std::max(amax, std::fabs(src[j]));
    float d = amax / 127.0f;
    float id = d != 0 ? 1.0f / d : 0.0f;
    storeHalf(dst, d);
    for (int j = 0; j < kBlock; ++j) {
      float scaled = src[j] * id;
      dst[2 + j] = uint8_t(int8_t(std::round(scaled)));
    }
  }
}
void kvant::quantize::dequantizeQ8_0(const uint8_t *src, float *dst,
                                     int64_t n) {
  for (int64_t b = 0; b < n / kBlock; ++b, src += 34, dst += kBlock) {
    float d = loadHalf(src);
    for (int j = 0; j < kBlock; ++j)
      dst[j] = float(int8_t(src[2 + j])) * d;
  }
}
