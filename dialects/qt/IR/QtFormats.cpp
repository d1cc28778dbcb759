//===- QtFormats.cpp - the byte layout of GGUF block formats --------------===//

#include "dialects/qt/IR/QtFormats.h"
#include "dialects/qt/IR/QtDialect.h"
#include "lib/Formats/GGMLTypes.h"

#include "llvm/Support/ErrorHandling.h"

using namespace kvant::qt;

GGUFBlockLayout kvant::qt::getGGUFBlockLayout(GGUFFormat format) {
  // The enum's values are GGML type ids, so the shared format table answers.
  const formats::GGMLTypeInfo *info =
      formats::lookupGGMLType(static_cast<uint32_t>(format));
  if (!info || !info->isQuantized)
    llvm_unreachable("GGUFFormat case missing from the GGML type table");
  return {info->blockSize, info->blockBytes, info->quantBits};
}

std::optional<GGUFFormat> kvant::qt::getGGUFFormatFromGGMLType(uint32_t t) {
  return symbolizeGGUFFormat(t);
}
