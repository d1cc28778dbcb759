//===- GGMLTypes.cpp - the element types a GGUF tensor can have -----------===//

#include "lib/Formats/GGMLTypes.h"

#include <cctype>

using namespace kvant::formats;

// Block sizes and bytes are ggml's type traits (the `gguf` package's
// GGML_QUANT_SIZES, which the Python tests read blocks with). Fields are
// the members of ggml's block structs (ggml-common.h), e.g. block_q4_K's d,
// dmin, scales[12], qs[128].
static constexpr GGMLTypeInfo kTypes[] = {
    {0, "F32", 1, 4, 32, false, {}},
    {1, "F16", 1, 2, 16, false, {}},
    {2, "Q4_0", 32, 18, 4, true, {2, 16}},
    {3, "Q4_1", 32, 20, 4, true, {2, 2, 16}},
    {6, "Q5_0", 32, 22, 5, true, {2, 4, 16}},
    {7, "Q5_1", 32, 24, 5, true, {2, 2, 4, 16}},
    {8, "Q8_0", 32, 34, 8, true, {2, 32}},
    {9, "Q8_1", 32, 40, 8, true, {4, 4, 32}}, // gguf: f32 d and s
    {10, "Q2_K", 256, 84, 2, true, {16, 64, 2, 2}},
    {11, "Q3_K", 256, 110, 3, true, {32, 64, 12, 2}},
    {12, "Q4_K", 256, 144, 4, true, {2, 2, 12, 128}},
    {13, "Q5_K", 256, 176, 5, true, {2, 2, 12, 32, 128}},
    {14, "Q6_K", 256, 210, 6, true, {128, 64, 16, 2}},
    {15, "Q8_K", 256, 292, 8, true, {4, 256, 32}},
    {20, "IQ4_NL", 32, 18, 4, true, {2, 16}},
    {24, "I8", 1, 1, 8, false, {}},
    {25, "I16", 1, 2, 16, false, {}},
    {26, "I32", 1, 4, 32, false, {}},
    {27, "I64", 1, 8, 64, false, {}},
    {28, "F64", 1, 8, 64, false, {}},
    {30, "BF16", 1, 2, 16, false, {}},
    {34, "TQ1_0", 256, 54, 2, true, {48, 4, 2}},
    {35, "TQ2_0", 256, 66, 2, true, {64, 2}},
    {39, "MXFP4", 32, 17, 4, true, {1, 16}},
};

// Every block format's fields cover its block exactly.
static constexpr bool fieldsCoverBlocks() {
  for (const GGMLTypeInfo &type : kTypes) {
    int64_t sum = 0;
    for (uint16_t bytes : type.fields)
      sum += bytes;
    if (type.isQuantized && sum != type.blockBytes)
      return false;
  }
  return true;
}
static_assert(fieldsCoverBlocks(), "a block format's fields miss bytes");

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

std::optional<int64_t>
kvant::formats::interleavedByteOffset(const GGMLTypeInfo &type, int64_t rows,
                                      int64_t row, int64_t offset,
                                      int64_t count) {
  int64_t start = 0;
  for (uint16_t bytes : type.fields) {
    if (bytes == 0)
      break;
    if (offset < start + bytes) {
      if (offset + count > start + bytes)
        return std::nullopt;
      return rows * start + row * bytes + (offset - start);
    }
    start += bytes;
  }
  return std::nullopt;
}
