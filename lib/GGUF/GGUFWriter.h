//===- GGUFWriter.h - a streaming, atomic GGUF v3 writer --------*- C++ -*-===//
//
// Writes GGUF v3 files: metadata entries (copied verbatim from a GGUFFile or
// built from scalars), tensor infos with aligned offsets, then the tensors'
// bytes streamed in declaration order, so no whole model is ever held in
// memory. The file is written under a temporary name next to the output and
// renamed into place only when complete: a failed or interrupted write
// never leaves a partial file at the output path. Plain C++ with no
// LLVM/MLIR dependency, like the reader.
//
//===----------------------------------------------------------------------===//

#ifndef KVANT_LIB_GGUF_GGUFWRITER_H
#define KVANT_LIB_GGUF_GGUFWRITER_H

#include "lib/GGUF/GGUFFile.h"

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace kvant::gguf {

class GGUFWriter {
public:
  /// `alignment` (a power of two) aligns the data section and every tensor.
  explicit GGUFWriter(uint64_t alignment = 32) : alignment(alignment) {}
  ~GGUFWriter();
  GGUFWriter(const GGUFWriter &) = delete;
  GGUFWriter &operator=(const GGUFWriter &) = delete;

  /// Sets `key` to an already encoded value of `type` (the bytes that follow
  /// the type field in a GGUF file). An existing key keeps its position.
  void setRaw(const std::string &key, ValueType type, const uint8_t *bytes,
              uint64_t size);
  void setUInt32(const std::string &key, uint32_t value);
  void setString(const std::string &key, const std::string &value);
  /// Copies every metadata entry of `file`, in file order.
  void copyMetadata(const GGUFFile &file);

  /// Declares a tensor; its bytes are written later, in declaration order.
  /// `dims[0]` is the innermost dimension. Returns its size in bytes, or -1
  /// if `dims[0]` is not a multiple of `type`'s block size.
  int64_t addTensor(const std::string &name, const std::vector<int64_t> &dims,
                    const formats::GGMLTypeInfo &type);

  /// Creates the temporary file next to `path` and writes the header,
  /// metadata and tensor infos. Errors name `path`.
  bool begin(const std::string &path, std::string &error);
  /// Appends bytes of the current tensor.
  bool write(const void *bytes, uint64_t size, std::string &error);
  /// Ends the current tensor: checks that all its bytes were written and
  /// pads to the alignment.
  bool endTensor(std::string &error);
  /// Flushes, syncs and renames the file into place after the last tensor.
  bool finish(std::string &error);

private:
  struct Entry {
    std::string key;
    ValueType type;
    std::vector<uint8_t> bytes;
  };
  struct Tensor {
    std::string name;
    std::vector<int64_t> dims;
    uint32_t typeId;
    uint64_t offset;
    uint64_t size;
  };
  bool writeRaw(const void *bytes, uint64_t size, std::string &error);
  bool pad(std::string &error);
  bool fail(const std::string &message, std::string &error);

  uint64_t alignment;
  std::vector<Entry> entries;
  std::vector<Tensor> tensors;
  uint64_t dataSize = 0;

  std::string path, tempPath;
  std::FILE *out = nullptr;
  uint64_t position = 0;      ///< Bytes written to the file so far.
  size_t currentTensor = 0;   ///< Index of the tensor being written.
  uint64_t tensorWritten = 0; ///< Its bytes written so far.
};

} // namespace kvant::gguf

#endif // KVANT_LIB_GGUF_GGUFWRITER_H
