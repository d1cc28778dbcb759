//===- kvant-gguf-info.cpp - print and validate a GGUF file ---------------===//
//
// Prints a GGUF file's header, metadata and tensor table after validating
// every offset and size, or a located error and exit code 1. It links only
// kvant's plain C++ GGUF reader, the same one the runtime uses.
//
//===----------------------------------------------------------------------===//

#include "lib/GGUF/GGUFFile.h"

#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <string>

using namespace kvant::gguf;

static void printValue(const Value &value) {
  switch (value.type) {
  case ValueType::String:
    std::printf("\"%s\"", value.stringValue.c_str());
    return;
  case ValueType::Float32:
  case ValueType::Float64:
    std::printf("%g", value.floatValue);
    return;
  case ValueType::Bool:
    std::printf("%s", value.intValue ? "true" : "false");
    return;
  case ValueType::UInt64:
    std::printf("%" PRIu64, value.uintValue);
    return;
  case ValueType::Array: {
    std::printf("[%s x %" PRIu64 "]", valueTypeName(value.elementType),
                value.arrayLength);
    constexpr size_t kShown = 4;
    if (!value.strings.empty()) {
      std::printf(" ");
      for (size_t i = 0; i < value.strings.size() && i < kShown; ++i)
        std::printf("%s\"%s\"", i ? ", " : "", value.strings[i].c_str());
    } else if (!value.ints.empty()) {
      std::printf(" ");
      for (size_t i = 0; i < value.ints.size() && i < kShown; ++i)
        std::printf("%s%" PRId64, i ? ", " : "", value.ints[i]);
    } else if (!value.floats.empty()) {
      std::printf(" ");
      for (size_t i = 0; i < value.floats.size() && i < kShown; ++i)
        std::printf("%s%g", i ? ", " : "", value.floats[i]);
    }
    if (value.arrayLength > kShown)
      std::printf(", ...");
    return;
  }
  default:
    std::printf("%" PRId64, value.intValue);
  }
}

int main(int argc, char **argv) {
  bool showMetadata = true, showTensors = true;
  const char *path = nullptr;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--tensors")) {
      showMetadata = false;
    } else if (!std::strcmp(argv[i], "--metadata")) {
      showTensors = false;
    } else if (!std::strcmp(argv[i], "-h") || !std::strcmp(argv[i], "--help")) {
      std::printf("usage: kvant-gguf-info [--metadata | --tensors] FILE.gguf\n"
                  "Validates a GGUF file and prints its header, metadata and "
                  "tensors.\n");
      return 0;
    } else if (argv[i][0] == '-') {
      std::fprintf(stderr, "kvant-gguf-info: unknown option '%s'\n", argv[i]);
      return 1;
    } else if (path) {
      std::fprintf(stderr, "kvant-gguf-info: more than one input file\n");
      return 1;
    } else {
      path = argv[i];
    }
  }
  if (!path) {
    std::fprintf(stderr, "usage: kvant-gguf-info [--metadata | --tensors] "
                         "FILE.gguf\n");
    return 1;
  }
  std::string error;
  std::unique_ptr<GGUFFile> file = GGUFFile::open(path, error);
  if (!file) {
    std::fprintf(stderr, "kvant-gguf-info: error: %s\n", error.c_str());
    return 1;
  }
  std::printf("GGUF v%u, %zu metadata entries, %zu tensors, alignment %" PRIu64
              ", data at byte %" PRIu64 " of %" PRIu64 "\n",
              file->getVersion(), file->getMetadata().size(),
              file->getTensors().size(), file->getAlignment(),
              file->getDataOffset(), file->getFileSize());
  if (showMetadata)
    for (const auto &[key, value] : file->getMetadata()) {
      std::printf("  %-40s %-8s ", key.c_str(), valueTypeName(value.type));
      printValue(value);
      std::printf("\n");
    }
  if (showTensors)
    for (const TensorInfo &tensor : file->getTensors()) {
      std::string dims;
      for (size_t d = 0; d < tensor.dims.size(); ++d)
        dims += (d ? "x" : "") + std::to_string(tensor.dims[d]);
      std::printf("  %-40s %-7s %-16s %12" PRIu64 " bytes at +%" PRIu64 "\n",
                  tensor.name.c_str(), std::string(tensor.type->name).c_str(),
                  dims.c_str(), tensor.numBytes, tensor.offset);
    }
  return 0;
}
