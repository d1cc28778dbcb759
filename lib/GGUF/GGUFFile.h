//===- GGUFFile.h - a validating, memory-mapped GGUF reader -----*- C++ -*-===//
//
// Reads GGUF v2/v3 files: header, metadata, tensor infos and the aligned data
// section. Every count, length and offset is checked against the file's size
// before use, so a truncated or corrupt file yields an error message that
// names the file and the byte offset, never a crash. Plain C++ with no
// LLVM/MLIR dependency: the importer and the runtime share it.
//
//===----------------------------------------------------------------------===//

#ifndef KVANT_LIB_GGUF_GGUFFILE_H
#define KVANT_LIB_GGUF_GGUFFILE_H

#include "lib/Formats/GGMLTypes.h"

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace kvant::gguf {

/// GGUF metadata value types, numbered as in the file format.
enum class ValueType : uint32_t {
  UInt8 = 0,
  Int8 = 1,
  UInt16 = 2,
  Int16 = 3,
  UInt32 = 4,
  Int32 = 5,
  Float32 = 6,
  Bool = 7,
  String = 8,
  Array = 9,
  UInt64 = 10,
  Int64 = 11,
  Float64 = 12,
};

/// Name of a value type as diagnostics print it ("uint32", "array", ...).
const char *valueTypeName(ValueType type);

/// One metadata value. Integers of every width are widened into `intValue`
/// (or `uintValue` for uint64), floats into `floatValue`. Arrays keep their
/// element type and store elements by category; nested arrays are skipped
/// (kept empty), as no model key uses them.
struct Value {
  ValueType type = ValueType::UInt8;
  ValueType elementType = ValueType::UInt8; ///< For arrays.
  int64_t intValue = 0;
  uint64_t uintValue = 0;
  double floatValue = 0;
  std::string stringValue;
  std::vector<int64_t> ints;
  std::vector<double> floats;
  std::vector<std::string> strings;
  uint64_t arrayLength = 0;

  bool isInteger() const;
  bool isFloat() const {
    return type == ValueType::Float32 || type == ValueType::Float64;
  }
};

/// A tensor as described in the header. `dims[0]` is the innermost
/// (contiguous) dimension, as GGML orders them.
struct TensorInfo {
  std::string name;
  std::vector<int64_t> dims;
  const formats::GGMLTypeInfo *type = nullptr;
  uint64_t offset = 0;   ///< From the start of the data section.
  uint64_t numBytes = 0; ///< Bytes the tensor occupies.
  int64_t numElements = 0;
};

class GGUFFile {
public:
  /// Memory-maps and validates `path`. On failure returns null and sets
  /// `error` to a message that starts with the path.
  static std::unique_ptr<GGUFFile> open(const std::string &path,
                                        std::string &error);
  /// Validates `size` bytes at `data`, which must outlive the result;
  /// `name` prefixes error messages.
  static std::unique_ptr<GGUFFile> parse(const uint8_t *data, size_t size,
                                         const std::string &name,
                                         std::string &error);
  ~GGUFFile();
  GGUFFile(const GGUFFile &) = delete;
  GGUFFile &operator=(const GGUFFile &) = delete;

  const std::string &getName() const { return name; }
  uint32_t getVersion() const { return version; }
  uint64_t getAlignment() const { return alignment; }
  /// File offset of the data section.
  uint64_t getDataOffset() const { return dataOffset; }
  uint64_t getFileSize() const { return size; }
  /// The first byte of the mapped file.
  const uint8_t *getData() const { return data; }
  /// Whether the bytes are a read-only mapping of the file this object owns
  /// (whose pages the kernel can drop and read again).
  bool isMapped() const { return mapping != nullptr; }

  /// Metadata in file order.
  const std::vector<std::pair<std::string, Value>> &getMetadata() const {
    return metadata;
  }
  /// The encoded bytes of metadata entry `index`'s value (after its type
  /// field), as stored in the file: lets a writer copy any value verbatim,
  /// nested arrays included.
  std::pair<const uint8_t *, uint64_t> getRawValue(size_t index) const {
    return {data + metadataValueRanges[index].first,
            metadataValueRanges[index].second};
  }
  const Value *lookup(const std::string &key) const;
  std::optional<std::string> getString(const std::string &key) const;
  /// An integer value of any width, if it fits an int64.
  std::optional<int64_t> getInteger(const std::string &key) const;
  /// A float, or an integer converted to double.
  std::optional<double> getFloat(const std::string &key) const;

  const std::vector<TensorInfo> &getTensors() const { return tensors; }
  const TensorInfo *findTensor(const std::string &tensorName) const;
  /// The bytes of `tensor` inside the mapped file.
  const uint8_t *getTensorData(const TensorInfo &tensor) const {
    return data + dataOffset + tensor.offset;
  }

private:
  GGUFFile() = default;
  bool parseAll(std::string &error);

  std::string name;
  const uint8_t *data = nullptr;
  size_t size = 0;
  void *mapping = nullptr; ///< Non-null when this object owns an mmap.
  uint32_t version = 0;
  uint64_t alignment = 32;
  uint64_t dataOffset = 0;
  std::vector<std::pair<std::string, Value>> metadata;
  std::map<std::string, size_t> metadataIndex;
  /// Per metadata entry: file offset and size of its encoded value.
  std::vector<std::pair<uint64_t, uint64_t>> metadataValueRanges;
  std::vector<TensorInfo> tensors;
  std::map<std::string, size_t> tensorIndex;
};

} // namespace kvant::gguf

#endif // KVANT_LIB_GGUF_GGUFFILE_H
