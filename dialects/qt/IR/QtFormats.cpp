//===- QtFormats.cpp - the byte layout of GGUF block formats --------------===//

#include "dialects/qt/IR/QtFormats.h"
#include "dialects/qt/IR/QtDialect.h"

#include "llvm/Support/ErrorHandling.h"

using namespace kvant::qt;

GGUFBlockLayout kvant::qt::getGGUFBlockLayout(GGUFFormat format) {
  // Sizes are ggml's (block size, type size); checked against the `gguf`
  // Python package's GGML_QUANT_SIZES in test/python/test_formats.py.
  switch (format) {
  case GGUFFormat::Q4_0: return {32, 18, 4};
  case GGUFFormat::Q4_1: return {32, 20, 4};
  case GGUFFormat::Q5_0: return {32, 22, 5};
  case GGUFFormat::Q5_1: return {32, 24, 5};
  case GGUFFormat::Q8_0: return {32, 34, 8};
  case GGUFFormat::Q8_1: return {32, 40, 8};
  case GGUFFormat::Q2_K: return {256, 84, 2};
  case GGUFFormat::Q3_K: return {256, 110, 3};
  case GGUFFormat::Q4_K: return {256, 144, 4};
  case GGUFFormat::Q5_K: return {256, 176, 5};
  case GGUFFormat::Q6_K: return {256, 210, 6};
  case GGUFFormat::Q8_K: return {256, 292, 8};
  case GGUFFormat::IQ4_NL: return {32, 18, 4};
  case GGUFFormat::TQ1_0: return {256, 54, 2};
  case GGUFFormat::TQ2_0: return {256, 66, 2};
  case GGUFFormat::MXFP4: return {32, 17, 4};
  }
  llvm_unreachable("unknown GGUF format");
}

std::optional<GGUFFormat> kvant::qt::getGGUFFormatFromGGMLType(uint32_t t) {
  return symbolizeGGUFFormat(t);
}
