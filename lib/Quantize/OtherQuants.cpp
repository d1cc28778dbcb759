//===- OtherQuants.cpp - IQ4_NL, TQ1_0, TQ2_0 and MXFP4 -------------------===//
//
// TQ1_0, TQ2_0 and MXFP4 follow llama.cpp's reference quantizers step by
// step (bytes equal gguf.quants.quantize's). IQ4_NL follows the reference's
// scale search without an importance matrix (weights x^2).
//
//===----------------------------------------------------------------------===//

#include "lib/Quantize/Codecs.h"
#include "lib/Quantize/FloatBits.h"

#include <algorithm>
#include <cmath>
#include <cstring>

using namespace kvant::quantize;

namespace {
void storeHalf(uint8_t *dst, float value) {
  uint16_t h = floatToHalf(value);
  std::memcpy(dst, &h, 2);
}
float loadHalf(const uint8_t *src) {
  uint16_t h;
  std::memcpy(&h, src, 2);
  return halfToFloat(h);
}

/// IQ4_NL's 16 non-uniform levels (kvalues_iq4nl), sorted.
constexpr int8_t kIQ4Levels[16] = {-127, -104, -83, -65, -49, -35, -22, -10,
                                   1,    13,   25,  38,  53,  69,  89,  113};
/// MXFP4's E2M1 values, doubled (kvalues_mxfp4).
constexpr int8_t kMXFP4Levels[16] = {0, 1,  2,  3,  4,  6,  8,  12,
                                     0, -1, -2, -3, -4, -6, -8, -12};

/// Index of the IQ4_NL level nearest to x (the upper one on ties): a
/// binary search over the midpoints, doubled to stay exact.
int nearestIQ4Level(float x) {
  float twice = x + x;
  int index = 0;
  for (int step = 8; step > 0; step /= 2) {
    int next = index + step;
    if (twice >= float(kIQ4Levels[next - 1] + kIQ4Levels[next]))
      index = next;
  }
  return index;
}

/// Ternary levels {0, 1, 2} for round(x / absmax) + 1, with the absmax.
float ternaryLevels(const float *x, int n, uint8_t *q) {
  float amax = 0;
  for (int j = 0; j < n; ++j)
    amax = std::max(amax, std::fabs(x[j]));
  float id = amax != 0 ? 1.0f / amax : 0.0f;
  for (int j = 0; j < n; ++j) {
    float scaled = x[j] * id;
    q[j] = uint8_t(int(std::round(scaled)) + 1);
  }
  return amax;
}

/// The top ternary digit of a TQ1_0 byte after multiplying by 3^k: bytes
/// hold b/243 in fixed point, so x3 shifts the next digit into the top.
int topTrit(uint8_t byte, int power) {
  uint8_t shifted = uint8_t(byte * power);
  return ((uint16_t(shifted) * 3) >> 8) - 1;
}
} // namespace

// IQ4_NL (18 bytes): d f16, qs[16]: byte j holds value j (low nibble) and
// j + 16 (high), each an index into kIQ4Levels. value = d * level.
void kvant::quantize::quantizeIQ4_NL(const float *src, uint8_t *dst,
                                     int64_t n) {
  constexpr int kTries = 7;
  for (int64_t b = 0; b < n / 32; ++b, src += 32, dst += 18) {
    std::memset(dst, 0, 18);
    float amax = 0, max = 0;
    for (int j = 0; j < 32; ++j)
      if (std::fabs(src[j]) > amax) {
        amax = std::fabs(src[j]);
        max = src[j];
      }
    if (amax < 1e-15f)
      continue;
    // Least-squares scale for the levels chosen at inverse scale `id`;
    // keep the scale with the largest gain sumqx^2 / sumq2.
    auto gainAt = [&](float id, float &sumQX, float &sumQ2) {
      sumQX = sumQ2 = 0;
      for (int j = 0; j < 32; ++j) {
        float q = kIQ4Levels[nearestIQ4Level(id * src[j])];
        float w = src[j] * src[j];
        sumQX += w * q * src[j];
        sumQ2 += w * q * q;
      }
    };
    float sumQX, sumQ2;
    gainAt(1 / (-max / kIQ4Levels[0]), sumQX, sumQ2);
    float d = sumQX / sumQ2, best = d * sumQX;
    for (int t = -kTries; t <= kTries; ++t) {
      gainAt((t + kIQ4Levels[0]) / max, sumQX, sumQ2);
      if (sumQ2 > 0 && sumQX * sumQX > best * sumQ2) {
        d = sumQX / sumQ2;
        best = d * sumQX;
      }
    }
    storeHalf(dst, d);
    float id = d != 0 ? 1 / d : 0.0f;
    for (int j = 0; j < 16; ++j)
      dst[2 + j] = uint8_t(nearestIQ4Level(id * src[j]) |
                           (nearestIQ4Level(id * src[j + 16]) << 4));
  }
}
void kvant::quantize::dequantizeIQ4_NL(const uint8_t *src, float *dst,
                                       int64_t n) {
  for (int64_t b = 0; b < n / 32; ++b, src += 18, dst += 32) {
    float d = loadHalf(src);
    for (int j = 0; j < 16; ++j) {
      dst[j] = d * float(kIQ4Levels[src[2 + j] & 0x0f]);
      dst[j + 16] = d * float(kIQ4Levels[src[2 + j] >> 4]);
    }
  }
}

// TQ1_0 (54 bytes): qs[48], qh[4], d f16; ternary q in {-1, 0, 1} stored
// as q + 1, five (qs) or four (qh) base-3 digits a byte, the byte being
// ceil(digits * 256 / 243). qs[j] (j < 32) holds values j + 32k, k = 0..4
// (most significant first); qs[32 + j] values 160 + j + 16k; qh[j] values
// 240 + j + 4k, k = 0..3. value = d * q, d = absmax.
void kvant::quantize::quantizeTQ1_0(const float *src, uint8_t *dst, int64_t n) {
  static const int powers[5] = {81, 27, 9, 3, 1};
  uint8_t q[256];
  auto pack = [](int digits) { return uint8_t((digits * 256 + 242) / 243); };
  for (int64_t b = 0; b < n / 256; ++b, src += 256, dst += 54) {
    float d = ternaryLevels(src, 256, q);
    for (int j = 0; j < 32; ++j) {
      int digits = 0;
      for (int k = 0; k < 5; ++k)
        digits += q[j + 32 * k] * powers[k];
      dst[j] = pack(digits);
    }
    for (int j = 0; j < 16; ++j) {
      int digits = 0;
      for (int k = 0; k < 5; ++k)
        digits += q[160 + j + 16 * k] * powers[k];
      dst[32 + j] = pack(digits);
    }
    for (int j = 0; j < 4; ++j) {
      int digits = 0;
      for (int k = 0; k < 4; ++k)
        digits += q[240 + j + 4 * k] * powers[k];
      dst[48 + j] = pack(digits);
    }
    storeHalf(dst + 52, d);
  }
}
void kvant::quantize::dequantizeTQ1_0(const uint8_t *src, float *dst,
                                      int64_t n) {
  static const int powers[5] = {1, 3, 9, 27, 81};
  for (int64_t b = 0; b < n / 256; ++b, src += 54, dst += 256) {
    float d = loadHalf(src + 52);
    for (int k = 0; k < 5; ++k) {
      for (int j = 0; j < 32; ++j)
        dst[j + 32 * k] = d * float(topTrit(src[j], powers[k]));
      for (int j = 0; j < 16; ++j)
        dst[160 + j + 16 * k] = d * float(topTrit(src[32 + j], powers[k]));
    }
    for (int k = 0; k < 4; ++k)
      for (int j = 0; j < 4; ++j)
        dst[240 + j + 4 * k] = d * float(topTrit(src[48 + j], powers[k]));
  }
}

// TQ2_0 (66 bytes): qs[64] 2-bit q + 1 (byte c*32 + l holds values
// c*128 + 32s + l at bits 2s), d f16. value = d * q, d = absmax.
void kvant::quantize::quantizeTQ2_0(const float *src, uint8_t *dst, int64_t n) {
  uint8_t q[256];
  for (int64_t b = 0; b < n / 256; ++b, src += 256, dst += 66) {
    float d = ternaryLevels(src, 256, q);
    for (int c = 0; c < 2; ++c)
      for (int l = 0; l < 32; ++l) {
        const uint8_t *v = q + 128 * c + l;
        dst[32 * c + l] = v[0] | (v[32] << 2) | (v[64] << 4) | (v[96] << 6);
      }
    storeHalf(dst + 64, d);
  }
}
void kvant::quantize::dequantizeTQ2_0(const uint8_t *src, float *dst,
                                      int64_t n) {
  for (int64_t b = 0; b < n / 256; ++b, src += 66, dst += 256) {
    float d = loadHalf(src + 64);
    for (int e = 0; e < 256; ++e) {
      int q = (src[32 * (e / 128) + e % 32] >> (2 * ((e / 32) % 4))) & 3;
      dst[e] = d * float(q - 1);
    }
  }
}

// MXFP4 (17 bytes): e (e8m0 exponent), qs[16]: byte j holds value j (low
// nibble) and j + 16 (high), each an index into kMXFP4Levels.
// value = 2^(e-128) * level; e = floor(log2(absmax)) - 2 + 127 so that the
// absmax lands near the top level.
void kvant::quantize::quantizeMXFP4(const float *src, uint8_t *dst, int64_t n) {
  for (int64_t b = 0; b < n / 32; ++b, src += 32, dst += 17) {
    float amax = 0;
    for (int j = 0; j < 32; ++j)
      amax = std::max(amax, std::fabs(src[j]));
    float exponent = amax > 0 ? std::floor(std::log2(amax)) - 2 + 127 : 0;
    uint8_t e = uint8_t(std::clamp(exponent, 0.0f, 255.0f));
    float d = e8m0ToFloatHalf(e);
    dst[0] = e;
    auto nearest = [d](float x) {
      int index = 0;
      float bestError = std::fabs(kMXFP4Levels[0] * d - x);
      for (int i = 1; i < 16; ++i) {
        float error = std::fabs(kMXFP4Levels[i] * d - x);
        if (error < bestError) {
          index = i;
          bestError = error;
        }
      }
      return index;
    };
    for (int j = 0; j < 16; ++j)
      dst[1 + j] = uint8_t(nearest(src[j]) | (nearest(src[j + 16]) << 4));
  }
}
void kvant::quantize::dequantizeMXFP4(const uint8_t *src, float *dst,
                                      int64_t n) {
  for (int64_t b = 0; b < n / 32; ++b, src += 17, dst += 32) {
    float d = e8m0ToFloatHalf(src[0]);
    for (int j = 0; j < 16; ++j) {
      dst[j] = d * float(kMXFP4Levels[src[1 + j] & 0x0f]);
      dst[j + 16] = d * float(kMXFP4Levels[src[1 + j] >> 4]);
    }
  }
}
