//===- GGUFFile.cpp - a validating, memory-mapped GGUF reader -------------===//

#include "lib/GGUF/GGUFFile.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace kvant::gguf;
using kvant::formats::GGMLTypeInfo;

namespace {
// Upper bounds that no real model reaches; they stop a corrupt count from
// making the reader allocate or loop for long.
constexpr uint64_t kMaxDims = 4; // GGML_MAX_DIMS
constexpr uint64_t kMaxStringLength = 1 << 30;
constexpr uint64_t kMaxAlignment = 1 << 16;

/// A cursor over the file that records the first error with its offset.
class Reader {
public:
  Reader(const uint8_t *data, size_t size, const std::string &name)
      : data(data), size(size), name(name) {}

  bool failed() const { return !error.empty(); }
  const std::string &getError() const { return error; }
  uint64_t offset() const { return pos; }
  uint64_t remaining() const { return size - pos; }

  /// Records an error at the current offset (the first one wins).
  bool fail(const std::string &message) { return failAt(pos, message); }
  bool failAt(uint64_t at, const std::string &message) {
    if (error.empty())
      error = name + ": at byte " + std::to_string(at) + ": " + message;
    return false;
  }

  bool read(void *out, uint64_t n, const char *what) {
    if (failed())
      return false;
    if (n > remaining())
      return fail(std::string("file is truncated while reading ") + what);
    std::memcpy(out, data + pos, n);
    pos += n;
    return true;
  }
  template <typename T> bool read(T &out, const char *what) {
    return read(&out, sizeof(T), what);
  }
  bool skip(uint64_t n, const char *what) {
    if (failed())
      return false;
    if (n > remaining())
      return fail(std::string("file is truncated while reading ") + what);
    pos += n;
    return true;
  }
  bool readString(std::string &out, const char *what) {
    uint64_t length = 0;
    uint64_t at = pos;
    if (!read(length, what))
      return false;
    if (length > kMaxStringLength || length > remaining())
      return failAt(at, std::string("length ") + std::to_string(length) +
                            " of " + what + " runs past the end of the file");
    out.assign(reinterpret_cast<const char *>(data + pos), length);
    pos += length;
    return true;
  }

private:
  const uint8_t *data;
  size_t size;
  const std::string &name;
  uint64_t pos = 0;
  std::string error;
};

/// Bytes a scalar of `type` occupies, or 0 for strings and arrays.
uint64_t scalarSize(ValueType type) {
  switch (type) {
  case ValueType::UInt8:
  case ValueType::Int8:
  case ValueType::Bool:
    return 1;
  case ValueType::UInt16:
  case ValueType::Int16:
    return 2;
  case ValueType::UInt32:
  case ValueType::Int32:
  case ValueType::Float32:
    return 4;
  case ValueType::UInt64:
  case ValueType::Int64:
  case ValueType::Float64:
    return 8;
  case ValueType::String:
  case ValueType::Array:
    return 0;
  }
  return 0;
}

bool isKnownValueType(uint32_t type) { return type <= 12; }

/// Reads one scalar of `type` into `value`'s scalar fields.
bool readScalar(Reader &reader, ValueType type, Value &value) {
  switch (type) {
#define KVANT_READ_INT(ENUM, CTYPE)                                            \
  case ValueType::ENUM: {                                                      \
    CTYPE v;                                                                   \
    if (!reader.read(v, "a metadata value"))                                   \
      return false;                                                            \
    value.intValue = static_cast<int64_t>(v);                                  \
    value.uintValue = static_cast<uint64_t>(v);                                \
    return true;                                                               \
  }
    KVANT_READ_INT(UInt8, uint8_t)
    KVANT_READ_INT(Int8, int8_t)
    KVANT_READ_INT(UInt16, uint16_t)
    KVANT_READ_INT(Int16, int16_t)
    KVANT_READ_INT(UInt32, uint32_t)
    KVANT_READ_INT(Int32, int32_t)
    KVANT_READ_INT(UInt64, uint64_t)
    KVANT_READ_INT(Int64, int64_t)
#undef KVANT_READ_INT
  case ValueType::Bool: {
    uint8_t v;
    if (!reader.read(v, "a metadata value"))
      return false;
    if (v > 1)
      return reader.fail("bool value " + std::to_string(v) +
                         " is neither 0 nor 1");
    value.intValue = value.uintValue = v;
    return true;
  }
  case ValueType::Float32: {
    float v;
    if (!reader.read(v, "a metadata value"))
      return false;
    value.floatValue = v;
    return true;
  }
  case ValueType::Float64:
    return reader.read(value.floatValue, "a metadata value");
  case ValueType::String:
    return reader.readString(value.stringValue, "a metadata string");
  case ValueType::Array:
    break;
  }
  return reader.fail("internal error: not a scalar type");
}

bool readValue(Reader &reader, ValueType type, Value &value, int depth);

bool readArray(Reader &reader, Value &value, int depth) {
  uint32_t rawElementType;
  uint64_t at = reader.offset();
  if (!reader.read(rawElementType, "an array element type"))
    return false;
  if (!isKnownValueType(rawElementType))
    return reader.failAt(at, "unknown array element type " +
                                 std::to_string(rawElementType));
  value.elementType = static_cast<ValueType>(rawElementType);
  at = reader.offset();
  if (!reader.read(value.arrayLength, "an array length"))
    return false;
  uint64_t minElementSize = scalarSize(value.elementType);
  if (minElementSize == 0)
    minElementSize = 8; // A string or nested array has at least a length.
  if (value.arrayLength > reader.remaining() / minElementSize)
    return reader.failAt(at, "array of " + std::to_string(value.arrayLength) +
                                 " elements runs past the end of the file");
  Value element;
  for (uint64_t i = 0; i < value.arrayLength; ++i) {
    element = Value();
    if (!readValue(reader, value.elementType, element, depth + 1))
      return false;
    switch (value.elementType) {
    case ValueType::String:
      value.strings.push_back(std::move(element.stringValue));
      break;
    case ValueType::Float32:
    case ValueType::Float64:
      value.floats.push_back(element.floatValue);
      break;
    case ValueType::Array:
      break; // Nested arrays are validated and skipped.
    default:
      value.ints.push_back(element.intValue);
      break;
    }
  }
  return true;
}

bool readValue(Reader &reader, ValueType type, Value &value, int depth) {
  value.type = type;
  if (type != ValueType::Array)
    return readScalar(reader, type, value);
  if (depth > 4)
    return reader.fail("arrays nested more than 4 deep");
  return readArray(reader, value, depth);
}

bool multiplyChecked(int64_t a, int64_t b, int64_t &out) {
  return !__builtin_mul_overflow(a, b, &out);
}
} // namespace

const char *kvant::gguf::valueTypeName(ValueType type) {
  static const char *names[] = {
      "uint8", "int8",   "uint16", "int16",  "uint32", "int32",  "float32",
      "bool",  "string", "array",  "uint64", "int64",  "float64"};
  auto index = static_cast<uint32_t>(type);
  return index < 13 ? names[index] : "unknown";
}

bool Value::isInteger() const {
  switch (type) {
  case ValueType::UInt8:
  case ValueType::Int8:
  case ValueType::UInt16:
  case ValueType::Int16:
  case ValueType::UInt32:
  case ValueType::Int32:
  case ValueType::UInt64:
  case ValueType::Int64:
    return true;
  default:
    return false;
  }
}

std::unique_ptr<GGUFFile> GGUFFile::open(const std::string &path,
                                         std::string &error) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    error = path + ": cannot open: " + std::strerror(errno);
    return nullptr;
  }
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    error = path + ": not a regular file";
    ::close(fd);
    return nullptr;
  }
  size_t size = static_cast<size_t>(st.st_size);
  void *mapping = nullptr;
  if (size > 0) {
    mapping = mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (mapping == MAP_FAILED) {
      error = path + ": cannot map: " + std::strerror(errno);
      ::close(fd);
      return nullptr;
    }
  }
  ::close(fd);
  std::unique_ptr<GGUFFile> file(new GGUFFile());
  file->name = path;
  file->data = static_cast<const uint8_t *>(mapping);
  file->size = size;
  file->mapping = mapping;
  if (!file->parseAll(error))
    return nullptr;
  return file;
}

std::unique_ptr<GGUFFile> GGUFFile::parse(const uint8_t *data, size_t size,
                                          const std::string &name,
                                          std::string &error) {
  std::unique_ptr<GGUFFile> file(new GGUFFile());
  file->name = name;
  file->data = data;
  file->size = size;
  if (!file->parseAll(error))
    return nullptr;
  return file;
}

GGUFFile::~GGUFFile() {
  if (mapping)
    munmap(mapping, size);
}

bool GGUFFile::parseAll(std::string &error) {
  Reader reader(data, size, name);
  char magic[4];
  if (!reader.read(magic, 4, "the magic number"))
    return error = reader.getError(), false;
  if (std::memcmp(magic, "GGUF", 4) != 0) {
    error = name + ": not a GGUF file (bad magic number)";
    return false;
  }
  if (!reader.read(version, "the version"))
    return error = reader.getError(), false;
  if (version != 2 && version != 3) {
    reader.failAt(4, "unsupported GGUF version " + std::to_string(version) +
                         (version == 1 ? " (only v2 and v3 are read)"
                                       : " (expected 2 or 3; big-endian "
                                         "files are not supported)"));
    error = reader.getError();
    return false;
  }
  uint64_t tensorCount = 0, metadataCount = 0;
  reader.read(tensorCount, "the tensor count");
  reader.read(metadataCount, "the metadata count");
  if (reader.failed())
    return error = reader.getError(), false;
  // Each metadata entry needs >= 13 bytes (key length, type, 1-byte value)
  // and each tensor info >= 28 bytes: reject counts the file cannot hold.
  if (metadataCount > reader.remaining() / 13)
    reader.failAt(16, "metadata count " + std::to_string(metadataCount) +
                          " is larger than the file can hold");
  if (tensorCount > reader.remaining() / 28)
    reader.failAt(8, "tensor count " + std::to_string(tensorCount) +
                         " is larger than the file can hold");

  for (uint64_t i = 0; i < metadataCount && !reader.failed(); ++i) {
    uint64_t at = reader.offset();
    std::string key;
    uint32_t rawType;
    if (!reader.readString(key, "a metadata key") ||
        !reader.read(rawType, "a metadata value type"))
      break;
    if (!isKnownValueType(rawType)) {
      reader.failAt(at, "metadata key '" + key + "' has unknown value type " +
                            std::to_string(rawType));
      break;
    }
    Value value;
    uint64_t valueAt = reader.offset();
    if (!readValue(reader, static_cast<ValueType>(rawType), value, 0))
      break;
    if (metadataIndex.count(key)) {
      reader.failAt(at, "duplicate metadata key '" + key + "'");
      break;
    }
    metadataIndex[key] = metadata.size();
    metadata.emplace_back(std::move(key), std::move(value));
    metadataValueRanges.emplace_back(valueAt, reader.offset() - valueAt);
  }

  if (const Value *align = lookup("general.alignment");
      align && !reader.failed()) {
    if (!align->isInteger() || align->uintValue == 0 ||
        align->uintValue > kMaxAlignment ||
        (align->uintValue & (align->uintValue - 1)) != 0)
      reader.fail("general.alignment must be a power of two up to " +
                  std::to_string(kMaxAlignment));
    else
      alignment = align->uintValue;
  }

  for (uint64_t i = 0; i < tensorCount && !reader.failed(); ++i) {
    uint64_t at = reader.offset();
    TensorInfo tensor;
    uint32_t numDims = 0, rawType = 0;
    if (!reader.readString(tensor.name, "a tensor name") ||
        !reader.read(numDims, "a tensor's dimension count"))
      break;
    if (numDims == 0 || numDims > kMaxDims) {
      reader.failAt(at, "tensor '" + tensor.name + "' has " +
                            std::to_string(numDims) +
                            " dimensions (expected 1 to 4)");
      break;
    }
    tensor.numElements = 1;
    for (uint32_t d = 0; d < numDims; ++d) {
      int64_t dim;
      if (!reader.read(dim, "a tensor dimension"))
        break;
      if (dim <= 0 ||
          !multiplyChecked(tensor.numElements, dim, tensor.numElements)) {
        reader.failAt(at, "tensor '" + tensor.name +
                              "' has invalid "
                              "dimension " +
                              std::to_string(dim));
        break;
      }
      tensor.dims.push_back(dim);
    }
    if (!reader.read(rawType, "a tensor type") ||
        !reader.read(tensor.offset, "a tensor offset"))
      break;
    tensor.type = formats::lookupGGMLType(rawType);
    if (!tensor.type) {
      reader.failAt(at, "tensor '" + tensor.name +
                            "' has unsupported type id " +
                            std::to_string(rawType));
      break;
    }
    int64_t rowBytes = formats::rowBytes(*tensor.type, tensor.dims[0]);
    if (rowBytes < 0) {
      reader.failAt(at, "tensor '" + tensor.name + "': row of " +
                            std::to_string(tensor.dims[0]) +
                            " elements is not a multiple of the " +
                            std::string(tensor.type->name) + " block size " +
                            std::to_string(tensor.type->blockSize));
      break;
    }
    int64_t numBytes = rowBytes;
    for (uint32_t d = 1; d < numDims; ++d)
      if (!multiplyChecked(numBytes, tensor.dims[d], numBytes)) {
        reader.failAt(at, "tensor '" + tensor.name + "' is too large");
        break;
      }
    tensor.numBytes = static_cast<uint64_t>(numBytes);
    if (tensor.offset % alignment != 0) {
      reader.failAt(at, "tensor '" + tensor.name + "' offset " +
                            std::to_string(tensor.offset) +
                            " is not aligned to " + std::to_string(alignment));
      break;
    }
    if (tensorIndex.count(tensor.name)) {
      reader.failAt(at, "duplicate tensor name '" + tensor.name + "'");
      break;
    }
    tensorIndex[tensor.name] = tensors.size();
    tensors.push_back(std::move(tensor));
  }
  if (reader.failed())
    return error = reader.getError(), false;

  dataOffset = (reader.offset() + alignment - 1) / alignment * alignment;
  for (const TensorInfo &tensor : tensors) {
    // Both terms are bounded by the file size checks above, so no overflow
    // once dataOffset <= size.
    if (dataOffset > size || tensor.offset > size - dataOffset ||
        tensor.numBytes > size - dataOffset - tensor.offset) {
      error = name + ": tensor '" + tensor.name + "' (" +
              std::to_string(tensor.numBytes) + " bytes at data offset " +
              std::to_string(tensor.offset) +
              ") runs past the end of the file (" + std::to_string(size) +
              " bytes): the file is truncated or corrupt";
      return false;
    }
  }
  return true;
}

const Value *GGUFFile::lookup(const std::string &key) const {
  auto it = metadataIndex.find(key);
  return it == metadataIndex.end() ? nullptr : &metadata[it->second].second;
}

std::optional<std::string> GGUFFile::getString(const std::string &key) const {
  const Value *value = lookup(key);
  if (!value || value->type != ValueType::String)
    return std::nullopt;
  return value->stringValue;
}

std::optional<int64_t> GGUFFile::getInteger(const std::string &key) const {
  const Value *value = lookup(key);
  if (!value || !value->isInteger())
    return std::nullopt;
  if (value->type == ValueType::UInt64 &&
      value->uintValue > static_cast<uint64_t>(INT64_MAX))
    return std::nullopt;
  return value->intValue;
}

std::optional<double> GGUFFile::getFloat(const std::string &key) const {
  const Value *value = lookup(key);
  if (!value)
    return std::nullopt;
  if (value->isFloat())
    return value->floatValue;
  if (value->isInteger())
    return static_cast<double>(value->intValue);
  return std::nullopt;
}

const TensorInfo *GGUFFile::findTensor(const std::string &tensorName) const {
  auto it = tensorIndex.find(tensorName);
  return it == tensorIndex.end() ? nullptr : &tensors[it->second];
}
