//===- QtFormats.h - the byte layout of GGUF block formats ------*- C++ -*-===//
//
// One table describes every GGUF block format's geometry; the scheme
// attribute, the importer and the lowerings all read it from here.
//
//===----------------------------------------------------------------------===//

#ifndef KVANT_DIALECTS_QT_IR_QTFORMATS_H
#define KVANT_DIALECTS_QT_IR_QTFORMATS_H

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

/// The format whose GGML type id is `ggmlType`, if it is a block format qt
/// knows.
std::optional<GGUFFormat> getGGUFFormatFromGGMLType(uint32_t ggmlType);
} // namespace kvant::qt

#endif // KVANT_DIALECTS_QT_IR_QTFORMATS_H
