//===- QtFormats.cpp - the byte layout of GGUF block formats --------------===//

#include "dialects/qt/IR/QtFormats.h"
#include "dialects/qt/IR/QtDialect.h"
#include "lib/Formats/GGMLTypes.h"

#include "llvm/Support/ErrorHandling.h"

using namespace kvant;
using namespace kvant::qt;

// The enum's values are GGML type ids, so the shared format table answers.
static const formats::GGMLTypeInfo &lookup(GGUFFormat format) {
  const formats::GGMLTypeInfo *info =
      formats::lookupGGMLType(static_cast<uint32_t>(format));
  if (!info || !info->isQuantized)
    llvm_unreachable("GGUFFormat case missing from the GGML type table");
  return *info;
}

GGUFBlockLayout kvant::qt::getGGUFBlockLayout(GGUFFormat format) {
  const formats::GGMLTypeInfo &info = lookup(format);
  return {info.blockSize, info.blockBytes, info.quantBits};
}

llvm::SmallVector<int64_t> kvant::qt::getGGUFBlockFields(GGUFFormat format) {
  llvm::SmallVector<int64_t> fields;
  for (uint16_t bytes : lookup(format).fields)
    if (bytes)
      fields.push_back(bytes);
  return fields;
}

std::optional<int64_t> kvant::qt::getInterleavedByteOffset(GGUFFormat format,
                                                           int64_t rows,
                                                           int64_t row,
                                                           int64_t offset,
                                                           int64_t count) {
  return formats::interleavedByteOffset(lookup(format), rows, row, offset,
                                        count);
}

std::optional<GGUFFormat> kvant::qt::getGGUFFormatFromGGMLType(uint32_t t) {
  return symbolizeGGUFFormat(t);
}
