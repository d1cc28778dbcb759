//===- GGMLTypes.cpp - the element types a GGUF tensor can have -----------===//

#include "lib/Formats/GGMLTypes.h"

#include <cctype>

using namespace kvant::formats;

// Block sizes and bytes are ggml's type traits; test/python/test_formats.py
// checks every row against the `gguf` package's GGML_QUANT_SIZES.
static constexpr GGMLTypeInfo kTypes[] = {
    {0, "F32", 1, 4, 32, false},     {1, "F16", 1, 2, 16, false},
    {2, "Q4_0", 32, 18, 4, true},    {3, "Q4_1", 32, 20, 4, true},
    {6, "Q5_0", 32, 22, 5, true},    {7, "Q5_1", 32, 24, 5, true},
    {8, "Q8_0", 32, 34, 8, true},    {9, "Q8_1", 32, 40, 8, true},
    {10, "Q2_K", 256, 84, 2, true},  {11, "Q3_K", 256, 110, 3, true},
    {12, "Q4_K", 256, 144, 4, true}, {13, "Q5_K", 256, 176, 5, true},
    {14, "Q6_K", 256, 210, 6, true}, {15, "Q8_K", 256, 292, 8, true},
    {20, "IQ4_NL", 32, 18, 4, true}, {24, "I8", 1, 1, 8, false},
    {25, "I16", 1, 2, 16, false},    {26, "I32", 1, 4, 32, false},
    {27, "I64", 1, 8, 64, false},    {28, "F64", 1, 8, 64, false},
    {30, "BF16", 1, 2, 16, false},   {34, "TQ1_0", 256, 54, 2, true},
    {35, "TQ2_0", 256, 66, 2, true}, {39, "MXFP4", 32, 17, 4, true},
};

const GGMLTypeInfo *kvant::formats::lookupGGMLType(uint32_t id) {
  for (const GGMLTypeInfo &type : kTypes)
    if (type.id == id)
      return &type;
  return nullptr;
}

const GGMLTypeInfo *kvant::formats::lookupGGMLType(std::string_view name) {
  auto equalNoCase = [](std::string_view a, std::string_view b) {
    if (a.size() != b.size())
      return false;
    for (size_t i = 0; i < a.size(); ++i)
      if (std::toupper(static_cast<unsigned char>(a[i])) !=
          std::toupper(static_cast<unsigned char>(b[i])))
        return false;
    return true;
  };
  for (const GGMLTypeInfo &type : kTypes)
    if (equalNoCase(type.name, name))
      return &type;
  return nullptr;
}

int64_t kvant::formats::rowBytes(const GGMLTypeInfo &type, int64_t elements) {
  if (elements < 0 || elements % type.blockSize != 0)
    return -1;
  return elements / type.blockSize * type.blockBytes;
}
