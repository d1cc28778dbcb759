//===- GGUFWriter.cpp - a streaming, atomic GGUF v3 writer ----------------===//

#include "lib/GGUF/GGUFWriter.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace kvant::gguf;

namespace {
void appendBytes(std::vector<uint8_t> &out, const void *bytes, size_t size) {
  const auto *p = static_cast<const uint8_t *>(bytes);
  out.insert(out.end(), p, p + size);
}
template <typename T> void appendScalar(std::vector<uint8_t> &out, T value) {
  appendBytes(out, &value, sizeof(T));
}
void appendString(std::vector<uint8_t> &out, const std::string &value) {
  appendScalar<uint64_t>(out, value.size());
  appendBytes(out, value.data(), value.size());
}
} // namespace

GGUFWriter::~GGUFWriter() {
  // Not finished: drop the partial file, never leave it behind.
  if (out) {
    std::fclose(out);
    ::unlink(tempPath.c_str());
  }
}

void GGUFWriter::setRaw(const std::string &key, ValueType type,
                        const uint8_t *bytes, uint64_t size) {
  std::vector<uint8_t> value(bytes, bytes + size);
  for (Entry &entry : entries)
    if (entry.key == key) {
      entry.type = type;
      entry.bytes = std::move(value);
      return;
    }
  entries.push_back({key, type, std::move(value)});
}

void GGUFWriter::setUInt32(const std::string &key, uint32_t value) {
  setRaw(key, ValueType::UInt32, reinterpret_cast<const uint8_t *>(&value),
         sizeof(value));
}

void GGUFWriter::setString(const std::string &key, const std::string &value) {
  std::vector<uint8_t> bytes;
  appendString(bytes, value);
  setRaw(key, ValueType::String, bytes.data(), bytes.size());
}

void GGUFWriter::copyMetadata(const GGUFFile &file) {
  const auto &metadata = file.getMetadata();
  for (size_t i = 0; i < metadata.size(); ++i) {
    auto [bytes, size] = file.getRawValue(i);
    setRaw(metadata[i].first, metadata[i].second.type, bytes, size);
  }
}

int64_t GGUFWriter::addTensor(const std::string &name,
                              const std::vector<int64_t> &dims,
                              const formats::GGMLTypeInfo &type) {
  int64_t size = dims.empty() ? -1 : formats::rowBytes(type, dims[0]);
  if (size < 0)
    return -1;
  for (size_t d = 1; d < dims.size(); ++d)
    size *= dims[d];
  tensors.push_back({name, dims, type.id, dataSize, uint64_t(size)});
  dataSize += (uint64_t(size) + alignment - 1) / alignment * alignment;
  return size;
}

bool GGUFWriter::fail(const std::string &message, std::string &error) {
  error = path + ": " + message;
  return false;
}

bool GGUFWriter::writeRaw(const void *bytes, uint64_t size,
                          std::string &error) {
  if (size && std::fwrite(bytes, 1, size, out) != size)
    return fail(std::string("write failed: ") + std::strerror(errno), error);
  position += size;
  return true;
}

bool GGUFWriter::pad(std::string &error) {
  static const uint8_t zeros[256] = {};
  while (position % alignment) {
    uint64_t n = alignment - position % alignment;
    if (!writeRaw(zeros, n < sizeof(zeros) ? n : sizeof(zeros), error))
      return false;
  }
  return true;
}

bool GGUFWriter::begin(const std::string &outputPath, std::string &error) {
  path = outputPath;
  // The temporary file sits in the output's directory so that the final
  // rename stays within one file system and is atomic.
  std::string pattern = outputPath + ".tmp.XXXXXX";
  std::vector<char> name(pattern.begin(), pattern.end());
  name.push_back('\0');
  int fd = ::mkstemp(name.data());
  if (fd < 0)
    return fail(std::string("cannot create the output file: ") +
                    std::strerror(errno),
                error);
  tempPath = name.data();
  // mkstemp creates 0600; give the result the permissions a plain create
  // would have had.
  mode_t mask = ::umask(0);
  ::umask(mask);
  ::fchmod(fd, 0666 & ~mask);
  out = ::fdopen(fd, "wb");
  if (!out) {
    ::close(fd);
    ::unlink(tempPath.c_str());
    return fail(std::string("cannot open the output file: ") +
                    std::strerror(errno),
                error);
  }

  std::vector<uint8_t> header;
  appendBytes(header, "GGUF", 4);
  appendScalar<uint32_t>(header, 3);
  appendScalar<uint64_t>(header, tensors.size());
  appendScalar<uint64_t>(header, entries.size());
  for (const Entry &entry : entries) {
    appendString(header, entry.key);
    appendScalar<uint32_t>(header, static_cast<uint32_t>(entry.type));
    appendBytes(header, entry.bytes.data(), entry.bytes.size());
  }
  for (const Tensor &tensor : tensors) {
    appendString(header, tensor.name);
    appendScalar<uint32_t>(header, tensor.dims.size());
    for (int64_t dim : tensor.dims)
      appendScalar<int64_t>(header, dim);
    appendScalar<uint32_t>(header, tensor.typeId);
    appendScalar<uint64_t>(header, tensor.offset);
  }
  return writeRaw(header.data(), header.size(), error) && pad(error);
}

bool GGUFWriter::write(const void *bytes, uint64_t size, std::string &error) {
  if (currentTensor >= tensors.size() ||
      size > tensors[currentTensor].size - tensorWritten)
    return fail("internal error: more tensor data than declared", error);
  tensorWritten += size;
  return writeRaw(bytes, size, error);
}

bool GGUFWriter::endTensor(std::string &error) {
  if (currentTensor >= tensors.size() ||
      tensorWritten != tensors[currentTensor].size)
    return fail("internal error: tensor data size differs from its info",
                error);
  ++currentTensor;
  tensorWritten = 0;
  return pad(error);
}

bool GGUFWriter::finish(std::string &error) {
  if (currentTensor != tensors.size())
    return fail("internal error: not every tensor was written", error);
  bool ok = std::fflush(out) == 0 && ::fsync(::fileno(out)) == 0;
  int savedErrno = errno;
  ok = std::fclose(out) == 0 && ok;
  out = nullptr;
  if (!ok) {
    ::unlink(tempPath.c_str());
    return fail(std::string("write failed: ") + std::strerror(savedErrno),
                error);
  }
  if (::rename(tempPath.c_str(), path.c_str()) != 0) {
    savedErrno = errno;
    ::unlink(tempPath.c_str());
    return fail(std::string("cannot rename the finished file into place: ") +
                    std::strerror(savedErrno),
                error);
  }
  return true;
}
