//===- KQuants.cpp - Q2_K, Q3_K, Q4_K, Q5_K and Q6_K ----------------------===//
//
// Super-blocks of 256 values split into sub-blocks of 16 or 32, each with a
// small integer scale (and minimum) relative to the super-block's f16 scales.
// The scale searches follow llama.cpp's reference quantizers without an
// importance matrix:
//  - Q2_K, Q4_K, Q5_K fit each sub-block with `fitAffine` (x ~ s*q - m over
//    a few stretched grids, weighted least squares; make_qkx2_quants);
//  - Q3_K, Q6_K fit each sub-block with `fitSymmetric` (x ~ s*q, 19 grids
//    around max/-nmax, weights x^2; make_qx_quants). For Q3_K this replaces
//    the reference's make_q3_quants refinement loop: same objective, a
//    simpler search, a slightly larger error;
// then quantize the sub-block scales against the super-block scale and
// requantize every value with the scales as stored. Bit layouts are those of
// ggml's block_q*_K (and gguf.quants' dequantizers).
//
//===----------------------------------------------------------------------===//

#include "lib/Quantize/Codecs.h"
#include "lib/Quantize/FloatBits.h"

#include <algorithm>
#include <cmath>
#include <cstring>

using namespace kvant::quantize;

namespace {
constexpr int kSuper = 256;
constexpr float kAllZero = 1e-15f; // GROUP_MAX_EPS

void storeHalf(uint8_t *dst, float value) {
  uint16_t h = floatToHalf(value);
  std::memcpy(dst, &h, 2);
}
float loadHalf(const uint8_t *src) {
  uint16_t h;
  std::memcpy(&h, src, 2);
  return halfToFloat(h);
}

/// Fits x[i] ~ scale * L[i] - offset, L in [0, nmax], offset >= 0, minimizing
/// the `w`-weighted squared (or, with `useAbs`, absolute) error. Tries the
/// min/max grid, then `nstep + 1` grids stretched by rmin + rdelta*k levels,
/// each followed by the least-squares scale and minimum for its levels.
/// Returns the scale and sets `offset`.
float fitAffine(int n, int nmax, const float *x, const float *w, uint8_t *L,
                float &offset, float rmin, float rdelta, int nstep,
                bool useAbs) {
  float min = x[0], max = x[0], sumW = 0, sumX = 0;
  for (int i = 0; i < n; ++i) {
    min = std::min(min, x[i]);
    max = std::max(max, x[i]);
    sumW += w[i];
    sumX += w[i] * x[i];
  }
  min = std::min(min, 0.0f);
  if (max == min) {
    std::fill(L, L + n, 0);
    offset = -min;
    return 0;
  }
  auto error = [&](float scale, float m, const uint8_t *levels) {
    float total = 0;
    for (int i = 0; i < n; ++i) {
      float diff = scale * levels[i] + m - x[i];
      total += w[i] * (useAbs ? std::fabs(diff) : diff * diff);
    }
    return total;
  };
  float iscale = nmax / (max - min);
  float scale = 1 / iscale;
  for (int i = 0; i < n; ++i)
    L[i] = std::clamp(nearestInt(iscale * (x[i] - min)), 0, nmax);
  float best = error(scale, min, L);
  uint8_t trial[32];
  for (int step = 0; step <= nstep; ++step) {
    iscale = (rmin + rdelta * step + nmax) / (max - min);
    float sumL = 0, sumL2 = 0, sumXL = 0;
    for (int i = 0; i < n; ++i) {
      int l = std::clamp(nearestInt(iscale * (x[i] - min)), 0, nmax);
      trial[i] = l;
      sumL += w[i] * l;
      sumL2 += w[i] * l * l;
      sumXL += w[i] * l * x[i];
    }
    float det = sumW * sumL2 - sumL * sumL;
    if (det <= 0)
      continue;
    float trialScale = (sumW * sumXL - sumX * sumL) / det;
    float trialMin = (sumL2 * sumX - sumL * sumXL) / det;
    if (trialMin > 0) { // The minimum may only lower values.
      trialMin = 0;
      trialScale = sumXL / sumL2;
    }
    float trialError = error(trialScale, trialMin, trial);
    if (trialError < best) {
      std::copy(trial, trial + n, L);
      best = trialError;
      scale = trialScale;
      min = trialMin;
    }
  }
  offset = -min;
  return scale;
}

/// The first of x[0..n) with the largest magnitude (0 when all are 0).
float largestMagnitude(const float *x, int n) {
  float amax = 0, max = 0;
  for (int i = 0; i < n; ++i)
    if (std::fabs(x[i]) > amax) {
      amax = std::fabs(x[i]);
      max = x[i];
    }
  return max;
}

/// Fits x[i] ~ scale * l[i], l in [-nmax, nmax - 1], maximizing the
/// weighted least-squares gain over 19 grids around the one that maps the
/// largest-magnitude value to -nmax. Weights are x^2. Stores l + nmax in L.
float fitSymmetric(int n, int nmax, const float *x, uint8_t *L) {
  float max = largestMagnitude(x, n);
  if (std::fabs(max) < kAllZero) {
    std::fill(L, L + n, 0);
    return 0;
  }
  auto levelsFor = [&](float iscale, uint8_t *out, float &sumLX, float &sumL2) {
    sumLX = sumL2 = 0;
    for (int i = 0; i < n; ++i) {
      int l = std::clamp(nearestInt(iscale * x[i]), -nmax, nmax - 1);
      out[i] = uint8_t(l + nmax);
      float w = x[i] * x[i];
      sumLX += w * x[i] * l;
      sumL2 += w * l * l;
    }
  };
  float sumLX, sumL2;
  levelsFor(-nmax / max, L, sumLX, sumL2);
  float scale = sumL2 ? sumLX / sumL2 : 0.0f;
  float best = scale * sumLX;
  uint8_t trial[32];
  for (int step = -9; step <= 9; ++step) {
    if (step == 0)
      continue;
    levelsFor(-(nmax + 0.1f * step) / max, trial, sumLX, sumL2);
    if (sumL2 > 0 && sumLX * sumLX > best * sumL2) {
      std::copy(trial, trial + n, L);
      scale = sumLX / sumL2;
      best = scale * sumLX;
    }
  }
  return scale;
}

/// Q4_K/Q5_K pack eight 6-bit scales and eight 6-bit minimums in 12 bytes:
/// bytes 0-3 and 4-7 hold sub-blocks 0-3's scale and min (low 6 bits) and
/// the top 2 bits of sub-blocks 4-7's; bytes 8-11 hold their low nibbles.
void packScaleMinK4(const uint8_t *sc, const uint8_t *m, uint8_t *out) {
  for (int j = 0; j < 4; ++j) {
    out[j] = sc[j] | uint8_t((sc[j + 4] >> 4) << 6);
    out[j + 4] = m[j] | uint8_t((m[j + 4] >> 4) << 6);
    out[j + 8] = (sc[j + 4] & 0x0f) | uint8_t((m[j + 4] & 0x0f) << 4);
  }
}
void unpackScaleMinK4(const uint8_t *in, int j, uint8_t &sc, uint8_t &m) {
  if (j < 4) {
    sc = in[j] & 63;
    m = in[j + 4] & 63;
  } else {
    sc = (in[j + 4] & 0x0f) | ((in[j - 4] >> 6) << 4);
    m = (in[j + 4] >> 4) | ((in[j] >> 6) << 4);
  }
}

/// Q4_K and Q5_K share everything but the level count and the packing of
/// the levels: fit 8 sub-blocks of 32, quantize their scales and minimums
/// to 6 bits against d = maxScale/63 and dmin = maxMin/63, requantize.
/// Writes d, dmin and the 12 scale bytes to `head`, the levels to L.
void quantizeAffineSuperBlock(const float *x, int nmax, float rmin,
                              float rdelta, int nstep, uint8_t *head,
                              uint8_t *L) {
  float scales[8], mins[8], weights[32];
  float maxScale = 0, maxMin = 0;
  for (int j = 0; j < 8; ++j) {
    const float *xs = x + 32 * j;
    float sumX2 = 0;
    for (int l = 0; l < 32; ++l)
      sumX2 += xs[l] * xs[l];
    float rms = std::sqrt(sumX2 / 32);
    for (int l = 0; l < 32; ++l)
      weights[l] = rms + std::fabs(xs[l]);
    scales[j] = fitAffine(32, nmax, xs, weights, L + 32 * j, mins[j], rmin,
                          rdelta, nstep, false);
    maxScale = std::max(maxScale, scales[j]);
    maxMin = std::max(maxMin, mins[j]);
  }
  float invScale = maxScale > 0 ? 63.0f / maxScale : 0.0f;
  float invMin = maxMin > 0 ? 63.0f / maxMin : 0.0f;
  uint8_t sc[8], m[8];
  for (int j = 0; j < 8; ++j) {
    sc[j] = uint8_t(std::clamp(nearestInt(invScale * scales[j]), 0, 63));
    m[j] = uint8_t(std::clamp(nearestInt(invMin * mins[j]), 0, 63));
  }
  storeHalf(head, maxScale / 63.0f);
  storeHalf(head + 2, maxMin / 63.0f);
  packScaleMinK4(sc, m, head + 4);
  float d = loadHalf(head), dmin = loadHalf(head + 2);
  for (int j = 0; j < 8; ++j) {
    float ds = d * sc[j];
    if (ds == 0)
      continue;
    float dm = dmin * m[j];
    for (int l = 0; l < 32; ++l)
      L[32 * j + l] =
          std::clamp(nearestInt((x[32 * j + l] + dm) / ds), 0, nmax);
  }
}

/// Q2_K and Q3_K store 2-bit levels four to a byte: byte c*32 + l of qs holds
/// values c*128 + s*32 + l at bits 2s.
void packCrumbs(const uint8_t *L, uint8_t *qs) {
  for (int c = 0; c < 2; ++c)
    for (int l = 0; l < 32; ++l) {
      const uint8_t *v = L + 128 * c + l;
      qs[32 * c + l] = v[0] | (v[32] << 2) | (v[64] << 4) | (v[96] << 6);
    }
}
int crumb(const uint8_t *qs, int e) {
  return (qs[32 * (e / 128) + e % 32] >> (2 * ((e / 32) % 4))) & 3;
}
} // namespace

// Q2_K (84 bytes): scales[16] (low nibble: scale, high nibble: min, one per
// 16 values), qs[64] 2-bit levels (see packCrumbs), d f16, dmin f16.
// value = d * (scale & 15) * q - dmin * (scale >> 4).
void kvant::quantize::quantizeQ2_K(const float *src, uint8_t *dst, int64_t n) {
  uint8_t L[kSuper];
  for (int64_t b = 0; b < n / kSuper; ++b, src += kSuper, dst += 84) {
    float scales[16], mins[16], weights[16];
    float maxScale = 0, maxMin = 0;
    for (int j = 0; j < 16; ++j) {
      for (int l = 0; l < 16; ++l)
        weights[l] = std::fabs(src[16 * j + l]);
      scales[j] = fitAffine(16, 3, src + 16 * j, weights, L + 16 * j, mins[j],
                            -0.5f, 0.1f, 15, true);
      maxScale = std::max(maxScale, scales[j]);
      maxMin = std::max(maxMin, mins[j]);
    }
    uint8_t *packed = dst;
    for (int j = 0; j < 16; ++j) {
      int sc = maxScale > 0 ? nearestInt(15.0f / maxScale * scales[j]) : 0;
      int m = maxMin > 0 ? nearestInt(15.0f / maxMin * mins[j]) : 0;
      packed[j] = uint8_t(std::clamp(sc, 0, 15) | (std::clamp(m, 0, 15) << 4));
    }
    storeHalf(dst + 80, maxScale > 0 ? maxScale / 15.0f : 0.0f);
    storeHalf(dst + 82, maxMin > 0 ? maxMin / 15.0f : 0.0f);
    float d = loadHalf(dst + 80), dmin = loadHalf(dst + 82);
    for (int j = 0; j < 16; ++j) {
      float ds = d * (packed[j] & 0x0f);
      if (ds == 0)
        continue;
      float dm = dmin * (packed[j] >> 4);
      for (int l = 0; l < 16; ++l)
        L[16 * j + l] =
            std::clamp(nearestInt((src[16 * j + l] + dm) / ds), 0, 3);
    }
    packCrumbs(L, dst + 16);
  }
}
void kvant::quantize::dequantizeQ2_K(const uint8_t *src, float *dst,
                                     int64_t n) {
  for (int64_t b = 0; b < n / kSuper; ++b, src += 84, dst += kSuper) {
    float d = loadHalf(src + 80), dmin = loadHalf(src + 82);
    for (int e = 0; e < kSuper; ++e) {
      uint8_t sc = src[e / 16];
      float dl = d * (sc & 0x0f), ml = dmin * (sc >> 4);
      dst[e] = dl * crumb(src + 16, e) - ml;
    }
  }
}

// Q3_K (110 bytes): hmask[32] (bit e/32 of byte e%32: the level's third bit,
// set means +0, clear means -4), qs[64] 2-bit low levels (see packCrumbs),
// scales[12] (16 6-bit signed scales biased by 32: low nibbles in bytes 0-7,
// scale j's at bit 4*(j/8); top 2 bits in byte 8 + j%4 at bit 2*(j/4)),
// d f16. value = d * (scale - 32) * (q - 4).
void kvant::quantize::quantizeQ3_K(const float *src, uint8_t *dst, int64_t n) {
  uint8_t L[kSuper];
  for (int64_t b = 0; b < n / kSuper; ++b, src += kSuper, dst += 110) {
    std::memset(dst, 0, 110);
    float scales[16];
    for (int j = 0; j < 16; ++j)
      scales[j] = fitSymmetric(16, 4, src + 16 * j, L + 16 * j);
    float maxScale = largestMagnitude(scales, 16);
    uint8_t *packed = dst + 96;
    if (maxScale != 0) {
      float iscale = -32.0f / maxScale;
      for (int j = 0; j < 16; ++j) {
        int l = std::clamp(nearestInt(iscale * scales[j]), -32, 31) + 32;
        packed[j % 8] |= uint8_t((l & 0x0f) << (4 * (j / 8)));
        packed[8 + j % 4] |= uint8_t((l >> 4) << (2 * (j / 4)));
      }
      storeHalf(dst + 108, 1 / iscale);
    }
    float d = loadHalf(dst + 108);
    for (int j = 0; j < 16; ++j) {
      int sc = ((packed[j % 8] >> (4 * (j / 8))) & 0x0f) |
               (((packed[8 + j % 4] >> (2 * (j / 4))) & 3) << 4);
      float ds = d * (sc - 32);
      if (ds == 0)
        continue;
      for (int l = 0; l < 16; ++l)
        L[16 * j + l] = std::clamp(nearestInt(src[16 * j + l] / ds), -4, 3) + 4;
    }
    for (int e = 0; e < kSuper; ++e)
      if (L[e] > 3) {
        dst[e % 32] |= uint8_t(1 << (e / 32));
        L[e] -= 4;
      }
    packCrumbs(L, dst + 32);
  }
}
void kvant::quantize::dequantizeQ3_K(const uint8_t *src, float *dst,
                                     int64_t n) {
  for (int64_t b = 0; b < n / kSuper; ++b, src += 110, dst += kSuper) {
    const uint8_t *packed = src + 96;
    float d = loadHalf(src + 108);
    for (int e = 0; e < kSuper; ++e) {
      int j = e / 16;
      int sc = ((packed[j % 8] >> (4 * (j / 8))) & 0x0f) |
               (((packed[8 + j % 4] >> (2 * (j / 4))) & 3) << 4);
      int high = (src[e % 32] >> (e / 32)) & 1;
      int q = crumb(src + 32, e) - (high ? 0 : 4);
      dst[e] = d * float(sc - 32) * float(q);
    }
  }
}

// Q4_K (144 bytes): d f16, dmin f16, scales[12] (eight 6-bit scales and
// minimums, see packScaleMinK4), qs[128]: byte c*32 + l holds value
// c*64 + l (low nibble) and c*64 + 32 + l (high nibble).
// value = d * scale * q - dmin * min, one scale/min per 32 values.
void kvant::quantize::quantizeQ4_K(const float *src, uint8_t *dst, int64_t n) {
  uint8_t L[kSuper];
  for (int64_t b = 0; b < n / kSuper; ++b, src += kSuper, dst += 144) {
    quantizeAffineSuperBlock(src, 15, -1.0f, 0.1f, 20, dst, L);
    for (int c = 0; c < 4; ++c)
      for (int l = 0; l < 32; ++l)
        dst[16 + 32 * c + l] = L[64 * c + l] | (L[64 * c + 32 + l] << 4);
  }
}
void kvant::quantize::dequantizeQ4_K(const uint8_t *src, float *dst,
                                     int64_t n) {
  for (int64_t b = 0; b < n / kSuper; ++b, src += 144, dst += kSuper) {
    float d = loadHalf(src), dmin = loadHalf(src + 2);
    for (int j = 0; j < 8; ++j) {
      uint8_t sc, m;
      unpackScaleMinK4(src + 4, j, sc, m);
      float ds = d * sc, dm = dmin * m;
      const uint8_t *qs = src + 16 + 32 * (j / 2);
      for (int l = 0; l < 32; ++l) {
        int q = j % 2 ? qs[l] >> 4 : qs[l] & 0x0f;
        dst[32 * j + l] = ds * q - dm;
      }
    }
  }
}

// Q5_K (176 bytes): d f16, dmin f16, scales[12] (as Q4_K), qh[32] (bit j of
// byte l: the fifth bit of value 32*j + l), qs[128] low nibbles (as Q4_K).
// value = d * scale * q - dmin * min.
void kvant::quantize::quantizeQ5_K(const float *src, uint8_t *dst, int64_t n) {
  uint8_t L[kSuper];
  for (int64_t b = 0; b < n / kSuper; ++b, src += kSuper, dst += 176) {
    quantizeAffineSuperBlock(src, 31, -0.5f, 0.1f, 15, dst, L);
    uint8_t *qh = dst + 16, *qs = dst + 48;
    std::memset(qh, 0, 32);
    for (int e = 0; e < kSuper; ++e)
      qh[e % 32] |= uint8_t((L[e] >> 4) << (e / 32));
    for (int c = 0; c < 4; ++c)
      for (int l = 0; l < 32; ++l)
        qs[32 * c + l] =
            (L[64 * c + l] & 0x0f) | ((L[64 * c + 32 + l] & 0x0f) << 4);
  }
}
void kvant::quantize::dequantizeQ5_K(const uint8_t *src, float *dst,
                                     int64_t n) {
  for (int64_t b = 0; b < n / kSuper; ++b, src += 176, dst += kSuper) {
    float d = loadHalf(src), dmin = loadHalf(src + 2);
    const uint8_t *qh = src + 16;
    for (int j = 0; j < 8; ++j) {
      uint8_t sc, m;
      unpackScaleMinK4(src + 4, j, sc, m);
      float ds = d * sc, dm = dmin * m;
      const uint8_t *qs = src + 48 + 32 * (j / 2);
      for (int l = 0; l < 32; ++l) {
        int q = (j % 2 ? qs[l] >> 4 : qs[l] & 0x0f) | (((qh[l] >> j) & 1) << 4);
        dst[32 * j + l] = ds * q - dm;
      }
    }
  }
}

// Q6_K (210 bytes): ql[128] low nibbles, qh[64] high 2 bits, scales[16]
// int8 (one per 16 values), d f16. In half c (128 values) value c*128 +
// 32*s + l has its low nibble in ql[c*64 + l + 32*(s%2)] (bits 4*(s/2)) and
// its high bits in qh[c*32 + l] (bits 2s). value = d * scale * (q - 32).
void kvant::quantize::quantizeQ6_K(const float *src, uint8_t *dst, int64_t n) {
  uint8_t L[kSuper];
  for (int64_t b = 0; b < n / kSuper; ++b, src += kSuper, dst += 210) {
    std::memset(dst, 0, 210);
    float scales[16];
    for (int j = 0; j < 16; ++j)
      scales[j] = fitSymmetric(16, 32, src + 16 * j, L + 16 * j);
    float maxScale = largestMagnitude(scales, 16);
    if (std::fabs(maxScale) < kAllZero)
      continue; // All zero: d = 0.
    float iscale = -128.0f / maxScale;
    storeHalf(dst + 208, 1 / iscale);
    auto *sc = reinterpret_cast<int8_t *>(dst + 192);
    for (int j = 0; j < 16; ++j)
      sc[j] = int8_t(std::clamp(nearestInt(iscale * scales[j]), -128, 127));
    float d = loadHalf(dst + 208);
    for (int j = 0; j < 16; ++j) {
      float ds = d * sc[j];
      if (ds == 0)
        continue;
      for (int l = 0; l < 16; ++l)
        L[16 * j + l] =
            std::clamp(nearestInt(src[16 * j + l] / ds), -32, 31) + 32;
    }
    uint8_t *ql = dst, *qh = dst + 128;
    for (int c = 0; c < 2; ++c)
      for (int l = 0; l < 32; ++l) {
        const uint8_t *v = L + 128 * c + l;
        ql[64 * c + l] = (v[0] & 0x0f) | ((v[64] & 0x0f) << 4);
        ql[64 * c + 32 + l] = (v[32] & 0x0f) | ((v[96] & 0x0f) << 4);
        qh[32 * c + l] = (v[0] >> 4) | ((v[32] >> 4) << 2) |
                         ((v[64] >> 4) << 4) | ((v[96] >> 4) << 6);
      }
  }
}
void kvant::quantize::dequantizeQ6_K(const uint8_t *src, float *dst,
                                     int64_t n) {
  for (int64_t b = 0; b < n / kSuper; ++b, src += 210, dst += kSuper) {
    const uint8_t *ql = src, *qh = src + 128;
    const auto *sc = reinterpret_cast<const int8_t *>(src + 192);
    float d = loadHalf(src + 208);
    for (int e = 0; e < kSuper; ++e) {
      int c = e / 128, s = (e % 128) / 32, l = e % 32;
      int low = (ql[64 * c + l + 32 * (s % 2)] >> (4 * (s / 2))) & 0x0f;
      int high = (qh[32 * c + l] >> (2 * s)) & 3;
      dst[e] = d * float(sc[e / 16]) * float((low | (high << 4)) - 32);
    }
  }
}
