//===- Codecs.h - f32 <-> GGML block format conversions ---------*- C++ -*-===//
//
// One quantizer and one dequantizer per GGML type, working on whole rows
// (a multiple of the type's block size). The quantizers follow llama.cpp's
// reference quantizers (`quantize_row_*_ref`): for F16, BF16, Q4_0, Q4_1,
// Q5_0, Q5_1, Q8_0, TQ1_0, TQ2_0 and MXFP4 the bytes equal those of
// `gguf.quants.quantize` (the gguf Python package mirrors the reference);
// the k-quants and IQ4_NL use the reference's scale searches in a plainer
// form (see KQuants.cpp), whose bitstream the reference dequantizers read.
// Plain C++ with no LLVM/MLIR dependency.
//
//===----------------------------------------------------------------------===//

#ifndef KVANT_LIB_QUANTIZE_CODECS_H
#define KVANT_LIB_QUANTIZE_CODECS_H

#include "lib/Formats/GGMLTypes.h"

#include <cstdint>
#include <vector>

namespace kvant::quantize {

/// Writes the blocks encoding `n` values of `src` (n a multiple of the block
/// size) to `dst`.
using QuantizeRowFn = void (*)(const float *src, uint8_t *dst, int64_t n);
/// Decodes `n` values from the blocks at `src`.
using DequantizeRowFn = void (*)(const uint8_t *src, float *dst, int64_t n);

struct Codec {
  uint32_t typeId;
  QuantizeRowFn quantize;     ///< Null if kvant cannot produce the type.
  DequantizeRowFn dequantize; ///< Null if kvant cannot read the type.
};

/// The codec of GGML type `typeId`, or nullptr if kvant has none.
const Codec *lookupCodec(uint32_t typeId);

/// The types kvant can quantize to, in table order.
std::vector<const formats::GGMLTypeInfo *> quantizableTypes();

// One function pair per format; the definitions give each block layout.
#define KVANT_DECLARE_CODEC(NAME)                                              \
  void quantize##NAME(const float *src, uint8_t *dst, int64_t n);              \
  void dequantize##NAME(const uint8_t *src, float *dst, int64_t n);
KVANT_DECLARE_CODEC(F32)
KVANT_DECLARE_CODEC(F16)
KVANT_DECLARE_CODEC(BF16)
KVANT_DECLARE_CODEC(Q4_0)
KVANT_DECLARE_CODEC(Q4_1)
KVANT_DECLARE_CODEC(Q5_0)
KVANT_DECLARE_CODEC(Q5_1)
KVANT_DECLARE_CODEC(Q8_0)
KVANT_DECLARE_CODEC(Q2_K)
KVANT_DECLARE_CODEC(Q3_K)
KVANT_DECLARE_CODEC(Q4_K)
KVANT_DECLARE_CODEC(Q5_K)
KVANT_DECLARE_CODEC(Q6_K)
KVANT_DECLARE_CODEC(IQ4_NL)
KVANT_DECLARE_CODEC(TQ1_0)
KVANT_DECLARE_CODEC(TQ2_0)
KVANT_DECLARE_CODEC(MXFP4)
#undef KVANT_DECLARE_CODEC

} // namespace kvant::quantize

#endif // KVANT_LIB_QUANTIZE_CODECS_H
