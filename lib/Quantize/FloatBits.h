//===- FloatBits.h - f16, bf16 and e8m0 conversions -------------*- C++ -*-===//
//
// Bit-exact conversions between f32 and the small float formats GGML blocks
// store: IEEE half (round to nearest even, as F16C's vcvtps2ph and NumPy's
// astype(float16)), bfloat16 (ggml_compute_fp32_to_bf16) and the e8m0
// exponent of MXFP4.
//
//===----------------------------------------------------------------------===//

#ifndef KVANT_LIB_QUANTIZE_FLOATBITS_H
#define KVANT_LIB_QUANTIZE_FLOATBITS_H

#include <cmath>
#include <cstdint>
#include <cstring>

namespace kvant::quantize {

inline uint32_t floatBits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}
inline float bitsFloat(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

inline float halfToFloat(uint16_t h) {
  uint32_t sign = uint32_t(h & 0x8000) << 16;
  uint32_t exponent = (h >> 10) & 0x1f;
  uint32_t mantissa = h & 0x3ff;
  if (exponent == 0x1f)
    return bitsFloat(sign | 0x7f800000 | (mantissa << 13));
  if (exponent != 0)
    return bitsFloat(sign | ((exponent + 112) << 23) | (mantissa << 13));
  // Zero or subnormal: mantissa * 2^-24, exact in f32.
  return bitsFloat(sign | floatBits(float(mantissa) * 0x1p-24f));
}

inline uint16_t floatToHalf(float f) {
  uint32_t x = floatBits(f);
  uint16_t sign = (x >> 16) & 0x8000;
  uint32_t ax = x & 0x7fffffff;
  if (ax > 0x7f800000) // NaN: keep it a (quiet) NaN.
    return sign | 0x7e00 | ((ax >> 13) & 0x3ff);
  if (ax >= 0x477ff000) // 65520 and above round to infinity.
    return sign | 0x7c00;
  if (ax < 0x38800000) // Below 2^-14: a subnormal half, exact scaling.
    return sign | uint16_t(std::nearbyint(bitsFloat(ax) * 0x1p24f));
  // Normal: rebias the exponent, round the mantissa to 10 bits (ties to
  // even); a carry correctly bumps the exponent.
  uint32_t rounded = ax + 0xfff + ((ax >> 13) & 1) - (112u << 23);
  return sign | uint16_t(rounded >> 13);
}

inline float bf16ToFloat(uint16_t b) { return bitsFloat(uint32_t(b) << 16); }

inline uint16_t floatToBF16(float f) {
  uint32_t x = floatBits(f);
  if ((x & 0x7fffffff) > 0x7f800000) // NaN: force quiet.
    return uint16_t((x >> 16) | 64);
  return uint16_t((uint64_t(x) + 0x7fff + ((x >> 16) & 1)) >> 16);
}

/// Half the value of an e8m0 exponent byte (ggml_e8m0_to_fp32_half): MXFP4
/// stores doubled E2M1 values, so the block scale is 2^(e-127) / 2.
inline float e8m0ToFloatHalf(uint8_t e) {
  return bitsFloat(e < 2 ? 0x00200000u << e : uint32_t(e - 1) << 23);
}

/// Round to nearest, ties to even, for |x| < 2^22 (llama.cpp's nearest_int):
/// adding 1.5 * 2^23 leaves the rounded integer in the low mantissa bits.
/// Much faster than nearbyint, which is a libm call on baseline x86-64.
inline int nearestInt(float x) {
  float shifted = x + 12582912.0f;
  return int(floatBits(shifted) & 0x007fffff) - 0x00400000;
}

} // namespace kvant::quantize

#endif // KVANT_LIB_QUANTIZE_FLOATBITS_H
