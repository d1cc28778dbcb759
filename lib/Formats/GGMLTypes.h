//===- GGMLTypes.h - the element types a GGUF tensor can have ---*- C++ -*-===//
//
// The one table of GGML tensor types (block geometry and names). Plain C++ so
// that the runtime, which links no LLVM/MLIR library, reads the same
// description as the qt dialect, the importer and the lowerings.
//
//===----------------------------------------------------------------------===//

#ifndef KVANT_LIB_FORMATS_GGMLTYPES_H
#define KVANT_LIB_FORMATS_GGMLTYPES_H

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

namespace kvant::formats {

/// Geometry of one GGML tensor type. Plain float and integer types are blocks
/// of one element.
struct GGMLTypeInfo {
  uint32_t id;           ///< GGML type id, as stored in GGUF tensor infos.
  std::string_view name; ///< llama.cpp's name, e.g. "Q8_0".
  int64_t blockSize;     ///< Logical elements per block.
  int64_t blockBytes;    ///< Bytes per block, scales included.
  unsigned quantBits;    ///< Bits of one stored value before scaling.
  bool isQuantized;      ///< A block format (as opposed to F32, F16, ...).
  /// Bytes of the block's fields in the order of ggml's block struct (e.g.
  /// Q4_0: the f16 scale, then 16 bytes of nibbles), ending at the first 0.
  /// The interleaved compute layout (#qt.gguf<..., interleave = R>) stores
  /// each field of R rows' blocks together. Empty for unblocked types.
  std::array<uint16_t, 6> fields;
};

/// Where byte `offset` of row `row`'s block lies in the interleaved layout
/// of `rows` rows (the fields of the rows' blocks one after another, each
/// field holding the rows in order), if the `count` bytes from `offset` lie
/// in one field; nullopt otherwise.
std::optional<int64_t> interleavedByteOffset(const GGMLTypeInfo &type,
                                             int64_t rows, int64_t row,
                                             int64_t offset, int64_t count);

/// The type with GGML id `id`, or nullptr if kvant does not know it.
const GGMLTypeInfo *lookupGGMLType(uint32_t id);

/// The type named `name` (case-insensitive, e.g. "q4_k"), or nullptr.
const GGMLTypeInfo *lookupGGMLType(std::string_view name);

/// Bytes of a row of `elements` values, or -1 if `elements` is not a multiple
/// of the type's block size.
int64_t rowBytes(const GGMLTypeInfo &type, int64_t elements);

} // namespace kvant::formats

#endif // KVANT_LIB_FORMATS_GGMLTYPES_H
