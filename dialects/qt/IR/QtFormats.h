//===- QtFormats.h - the byte layout of GGUF block formats ------*- C++ -*-===//
//
// One table describes every GGUF block format's geometry; the scheme
// attribute, the importer and the lowerings all read it from here.
//
//===----------------------------------------------------------------------===//

#ifndef KVANT_DIALECTS_QT_IR_QTFORMATS_H
#define KVANT_DIALECTS_QT_IR_QTFORMATS_H

#include "llvm/ADT/SmallVector.h"

#include <cstdint>
#include <optional>

namespace kvant::qt {
enum class GGUFFormat : uint32_t;

/// Geometry of one GGUF block format.
struct GGUFBlockLayout {
  int64_t blockSize;  ///< Logical elements per block.
  int64_t blockBytes; ///< Bytes per block, scales included.
  unsigned quantBits; ///< Bits of one stored quant before scaling.
};

/// The layout of `format`, as llama.cpp's ggml type traits define it.
GGUFBlockLayout getGGUFBlockLayout(GGUFFormat format);

/// The bytes of each field of a `format` block, in the order of ggml's block
/// struct (Q4_0: 2, the f16 scale; 16, the nibbles).
llvm::SmallVector<int64_t> getGGUFBlockFields(GGUFFormat format);

/// Where byte `offset` of row `row`'s block lies among the bytes of the
/// blocks of `rows` rows stored interleaved (#qt.gguf<..., interleave =
/// rows>: field by field, each field holding the rows in order), if the
/// `count` bytes from `offset` lie in one field of the block.
std::optional<int64_t> getInterleavedByteOffset(GGUFFormat format, int64_t rows,
                                                int64_t row, int64_t offset,
                                                int64_t count);

/// The format whose GGML type id is `ggmlType`, if it is a block format qt
/// knows.
std::optional<GGUFFormat> getGGUFFormatFromGGMLType(uint32_t ggmlType);
} // namespace kvant::qt

#endif // KVANT_DIALECTS_QT_IR_QTFORMATS_H
